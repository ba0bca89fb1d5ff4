/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * winekernel: generic named-object primitives for Wine, as a misc device
 * (/dev/winekernel). This is the ioctl ABI; docs/ioctl-abi.md documents every
 * call and docs/primitives.md the contract it implements.
 *
 * Rules of this ABI:
 *  - only fixed-width types; pointers travel as __u64;
 *  - every struct is padded explicitly; __pad fields must be zero (-EINVAL);
 *  - every flags field has a mask below; unknown bits are -EINVAL;
 *  - changes are additive only (new ioctls, never new meaning for old fields).
 */
#ifndef __LINUX_WINEKERNEL_H
#define __LINUX_WINEKERNEL_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define WINEKERNEL_DEVICE_PATH		"/dev/winekernel"

/* Sizes (bytes, without the terminating NUL). */
#define WK_KERNID_MAX			63
#define WK_NAMESPACE_MAX		63
#define WK_NAME_MAX			1023	/* full "namespace:name" */
#define WK_ACL_MAX_ENTRIES		64
#define WK_READ_EVENTS_MAX		1024	/* events per WK_IOC_READ_EVENTS */

/* Default instance limits (used where a limit is given as 0). */
#define WK_DEFAULT_MAX_OBJECTS			4194304ULL
#define WK_DEFAULT_MAX_BYTES			(1ULL << 30)
#define WK_DEFAULT_MAX_OBJECT_SIZE		(16ULL << 20)
#define WK_DEFAULT_MAX_HANDLES_PER_SESSION	1048576ULL
/* Upper bounds a caller may ask for (larger is -EINVAL). */
#define WK_LIMIT_MAX_OBJECTS			(1ULL << 31)
#define WK_LIMIT_MAX_BYTES			(1ULL << 40)
#define WK_LIMIT_MAX_OBJECT_SIZE		((1ULL << 31) - 1)
#define WK_LIMIT_MAX_HANDLES_PER_SESSION	((1ULL << 31) - 1)

/* WK_IOC_ATTACH flags */
#define WK_ATTACH_CREATE		0x1
#define WK_ATTACH_FLAGS_MASK		0x1

/* WK_IOC_CREATE flags */
#define WK_CREATE_OPEN_EXISTING		0x1
#define WK_CREATE_PERMANENT		0x2
#define WK_CREATE_FLAGS_MASK		0x3

/* WK_IOC_OPEN flags: none yet */
#define WK_OPEN_FLAGS_MASK		0x0

/* WK_IOC_GETDATA flags: none yet */
#define WK_GETDATA_FLAGS_MASK		0x0

/* WK_IOC_SETDATA flags */
#define WK_SETDATA_TRUNCATE		0x1
#define WK_SETDATA_FLAGS_MASK		0x1

/* WK_IOC_LOCK flags: exactly one of SHARED/EXCLUSIVE, optionally NONBLOCK */
#define WK_LOCK_SHARED			0x1
#define WK_LOCK_EXCLUSIVE		0x2
#define WK_LOCK_NONBLOCK		0x4
#define WK_LOCK_FLAGS_MASK		0x7
/* timeout_ns value meaning "wait forever" ((__u64)-1, i.e. -1 as s64) */
#define WK_TIMEOUT_INFINITE		(~(__u64)0)

/* WK_IOC_LIST flags */
#define WK_LIST_NAMESPACES		0x1
#define WK_LIST_FLAGS_MASK		0x1

/* Access rights (object ACLs and the instance ACL) */
#define WK_RIGHT_READ			0x001
#define WK_RIGHT_WRITE			0x002
#define WK_RIGHT_LOCK			0x004
#define WK_RIGHT_DELETE			0x008
#define WK_RIGHT_READ_ACL		0x010
#define WK_RIGHT_WRITE_ACL		0x020
#define WK_RIGHT_ATTACH_FILE		0x040
#define WK_RIGHT_GET_FILE		0x080
#define WK_RIGHT_ATTACH			0x100	/* instance ACL only */
#define WK_RIGHTS_OBJECT_MASK		0x0ff
#define WK_RIGHTS_MASK			0x1ff

/* ACL entry type */
#define WK_ACE_ALLOW			1
#define WK_ACE_DENY			2
/* ACL entry subject */
#define WK_WHO_OWNER			1
#define WK_WHO_USER			2
#define WK_WHO_GROUP			3
#define WK_WHO_EVERYONE			4

struct winekernel_ace {
	__u32 type;		/* WK_ACE_* */
	__u32 who;		/* WK_WHO_* */
	__u32 id;		/* uid (USER) or gid (GROUP); 0 otherwise */
	__u32 rights;		/* WK_RIGHT_* */
};

/* Per-instance limits; 0 in = default. Written back with the limits in force. */
struct winekernel_limits {
	__u64 max_objects;
	__u64 max_bytes;
	__u64 max_object_size;
	__u64 max_handles_per_session;
};

struct winekernel_attach_args {
	__u64 kernid;		/* in: pointer to kernid bytes (no NUL needed) */
	__u32 kernid_len;	/* in: 1..WK_KERNID_MAX */
	__u32 flags;		/* in: WK_ATTACH_* */
	struct winekernel_limits limits; /* in: for CREATE; out: in force */
	__u32 session_id;	/* out: this session's id in the instance */
	__u32 created;		/* out: 1 if this call created the instance */
};

struct winekernel_instance_setacl_args {
	__u64 entries;		/* in: pointer to struct winekernel_ace[count] */
	__u32 count;		/* in: 0..WK_ACL_MAX_ENTRIES */
	__u32 __pad;
};

struct winekernel_create_args {
	__u64 name;		/* in: "namespace:name" or bare "namespace" */
	__u64 data;		/* in: pointer to initial data (may be 0 if size 0) */
	__u64 size;		/* in: initial data size */
	__u32 name_len;		/* in: bytes at name, without NUL */
	__u32 flags;		/* in: WK_CREATE_* */
	__u32 handle;		/* out */
	__u32 created;		/* out: 1 created, 0 opened (OPEN_EXISTING) */
};

struct winekernel_open_args {
	__u64 name;		/* in */
	__u32 name_len;		/* in */
	__u32 flags;		/* in: 0 */
	__u32 handle;		/* out */
	__u32 __pad;
};

struct winekernel_close_args {
	__u32 handle;
	__u32 __pad;
};

struct winekernel_unlink_args {
	__u32 handle;
	__u32 __pad;
};

struct winekernel_getname_args {
	__u64 buf;		/* in: destination (may be 0 if buf_size 0) */
	__u32 buf_size;		/* in */
	__u32 handle;		/* in */
	__u32 name_len;		/* out (also on -ERANGE): bytes without NUL */
	__u32 __pad;
};

struct winekernel_size_args {
	__u32 handle;		/* in */
	__u32 __pad;
	__u64 size;		/* out */
};

struct winekernel_getdata_args {
	__u64 buf;		/* in */
	__u64 len;		/* in: bytes wanted */
	__u64 offset;		/* in */
	__u32 handle;		/* in */
	__u32 flags;		/* in: WK_GETDATA_* */
	__u64 copied;		/* out: bytes copied */
	__u64 size;		/* out: object size at the time of the read */
};

struct winekernel_setdata_args {
	__u64 buf;		/* in */
	__u64 len;		/* in */
	__u64 offset;		/* in */
	__u32 handle;		/* in */
	__u32 flags;		/* in: WK_SETDATA_* */
	__u64 size;		/* out: new object size */
};

struct winekernel_lock_args {
	__u64 timeout_ns;	/* in: relative; WK_TIMEOUT_INFINITE; 0 = try */
	__u32 handle;		/* in */
	__u32 flags;		/* in: WK_LOCK_* */
};

struct winekernel_unlock_args {
	__u32 handle;
	__u32 __pad;
};

struct winekernel_acl_args {
	__u64 entries;		/* pointer to struct winekernel_ace[] */
	__u32 handle;		/* in */
	__u32 count;		/* SETACL in: entries; GETACL in: capacity, out: entries */
};

struct winekernel_attach_file_args {
	__u32 handle;		/* in */
	__u32 fd;		/* in: caller's fd */
};

struct winekernel_get_file_args {
	__u32 handle;		/* in */
	__u32 flags;		/* in: 0 */
	__u32 fd;		/* out: new close-on-exec fd */
	__u32 __pad;
};

struct winekernel_list_args {
	__u64 namespace_;	/* in: namespace bytes (0 with WK_LIST_NAMESPACES) */
	__u64 buf;		/* in: output buffer */
	__u64 buf_size;		/* in */
	__u64 start;		/* in: index of the first name to return */
	__u32 namespace_len;	/* in */
	__u32 flags;		/* in: WK_LIST_* */
	__u64 count;		/* out: names copied */
	__u64 bytes_needed;	/* out (also on -ERANGE): bytes for all names from start */
};

struct winekernel_register_server_args {
	__u32 flags;		/* in: 0 */
	__u32 __pad;
};

struct winekernel_event {
	__u32 handle;		/* server's new handle to the object */
	__u32 from_session;	/* session id of the session that ended */
	__u32 from_pid;		/* its pid (tgid, in the opener's pid namespace) */
	__u32 __pad;
};

struct winekernel_read_events_args {
	__u64 events;		/* in: pointer to struct winekernel_event[max] */
	__u32 max;		/* in: 1..WK_READ_EVENTS_MAX */
	__u32 count;		/* out: events copied (0 if none queued) */
};

/*
 * Live counters for leak checks. The global ones cover the whole module
 * (the calling session included); the instance_* ones the caller's instance
 * (0 if the session is not attached).
 */
struct winekernel_stats {
	__u64 objects;
	__u64 bytes;
	__u64 sessions;
	__u64 instances;
	__u64 handles;
	__u64 instance_objects;
	__u64 instance_bytes;
	__u64 instance_sessions;
	__u64 instance_handles;
	__u64 __reserved[7];	/* zero */
};

#define WINEKERNEL_IOC_MAGIC		0xB7

#define WK_IOC_NOP		_IO(WINEKERNEL_IOC_MAGIC, 0x00)
#define WK_IOC_ATTACH		_IOWR(WINEKERNEL_IOC_MAGIC, 0x01, struct winekernel_attach_args)
#define WK_IOC_INSTANCE_SETACL	_IOW(WINEKERNEL_IOC_MAGIC, 0x02, struct winekernel_instance_setacl_args)
#define WK_IOC_CREATE		_IOWR(WINEKERNEL_IOC_MAGIC, 0x03, struct winekernel_create_args)
#define WK_IOC_OPEN		_IOWR(WINEKERNEL_IOC_MAGIC, 0x04, struct winekernel_open_args)
#define WK_IOC_CLOSE		_IOW(WINEKERNEL_IOC_MAGIC, 0x05, struct winekernel_close_args)
#define WK_IOC_UNLINK		_IOW(WINEKERNEL_IOC_MAGIC, 0x06, struct winekernel_unlink_args)
#define WK_IOC_GETNAME		_IOWR(WINEKERNEL_IOC_MAGIC, 0x07, struct winekernel_getname_args)
#define WK_IOC_SIZE		_IOWR(WINEKERNEL_IOC_MAGIC, 0x08, struct winekernel_size_args)
#define WK_IOC_GETDATA		_IOWR(WINEKERNEL_IOC_MAGIC, 0x09, struct winekernel_getdata_args)
#define WK_IOC_SETDATA		_IOWR(WINEKERNEL_IOC_MAGIC, 0x0a, struct winekernel_setdata_args)
#define WK_IOC_LOCK		_IOW(WINEKERNEL_IOC_MAGIC, 0x0b, struct winekernel_lock_args)
#define WK_IOC_UNLOCK		_IOW(WINEKERNEL_IOC_MAGIC, 0x0c, struct winekernel_unlock_args)
#define WK_IOC_SETACL		_IOW(WINEKERNEL_IOC_MAGIC, 0x0d, struct winekernel_acl_args)
#define WK_IOC_GETACL		_IOWR(WINEKERNEL_IOC_MAGIC, 0x0e, struct winekernel_acl_args)
#define WK_IOC_ATTACH_FILE	_IOW(WINEKERNEL_IOC_MAGIC, 0x0f, struct winekernel_attach_file_args)
#define WK_IOC_GET_FILE		_IOWR(WINEKERNEL_IOC_MAGIC, 0x10, struct winekernel_get_file_args)
#define WK_IOC_LIST		_IOWR(WINEKERNEL_IOC_MAGIC, 0x11, struct winekernel_list_args)
#define WK_IOC_REGISTER_SERVER	_IOW(WINEKERNEL_IOC_MAGIC, 0x12, struct winekernel_register_server_args)
#define WK_IOC_READ_EVENTS	_IOWR(WINEKERNEL_IOC_MAGIC, 0x13, struct winekernel_read_events_args)
#define WK_IOC_STATS		_IOR(WINEKERNEL_IOC_MAGIC, 0x14, struct winekernel_stats)

#endif /* __LINUX_WINEKERNEL_H */
