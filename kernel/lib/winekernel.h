/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libwinekernel: the winekernel_* primitives of docs/primitives.md over the
 * /dev/winekernel ioctls (kernel/include/uapi/linux/winekernel.h).
 *
 * Conventions:
 *  - every call takes the session context returned by winekernel_open();
 *  - every call returns a non-negative result or a negative errno (-EBADF,
 *    -EOWNERDEAD, ...); errno itself is left as the kernel set it;
 *  - names are NUL-terminated C strings ("namespace:name" or a bare
 *    "namespace" to have the name assigned);
 *  - a handle is a u32 > 0, returned as a positive int.
 * The library is thread-safe in the sense the kernel is: a context may be used
 * from several threads at once (it holds nothing but the fd and the session id).
 */
#ifndef WINEKERNEL_LIB_H
#define WINEKERNEL_LIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "uapi/linux/winekernel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t winekernel_object;

struct winekernel;	/* opaque session context */

/* Sessions and instances */

/* Opens /dev/winekernel (O_RDWR | O_CLOEXEC); *out is set on success. */
int winekernel_open(struct winekernel **out);
/* Same with another device path (tests). */
int winekernel_open_path(const char *path, struct winekernel **out);
/* Closes the session: its handles close, its locks are abandoned. */
int winekernel_close(struct winekernel *wk);
/* The device fd, for poll() (readable while server events are queued). */
int winekernel_fd(const struct winekernel *wk);
/* The session id assigned by winekernel_attach_to_kernel(); 0 before. */
uint32_t winekernel_session_id(const struct winekernel *wk);

/*
 * Binds the session to instance kernid. flags: WK_ATTACH_CREATE. limits may
 * be NULL (defaults); when given it is updated with the limits in force.
 * Returns 1 if the instance was created, 0 if it existed.
 */
int winekernel_attach_to_kernel(struct winekernel *wk, const char *kernid,
				uint32_t flags, struct winekernel_limits *limits);
/* Replaces the instance ACL (owner only). */
int winekernel_instance_setacl(struct winekernel *wk,
			       const struct winekernel_ace *entries,
			       uint32_t count);

/* Objects */

/* Creates an object (fails with -EEXIST if the name exists). */
int winekernel_object_create(struct winekernel *wk, const char *name,
			     const void *data, size_t size);
/*
 * Extended create: flags WK_CREATE_OPEN_EXISTING / WK_CREATE_PERMANENT;
 * *created (may be NULL) is set to 1 if created, 0 if an existing one was opened.
 */
int winekernel_object_create_ex(struct winekernel *wk, const char *name,
				const void *data, size_t size, uint32_t flags,
				int *created);
int winekernel_object_open(struct winekernel *wk, const char *name);
int winekernel_object_close(struct winekernel *wk, winekernel_object obj);
int winekernel_object_unlink(struct winekernel *wk, winekernel_object obj);
/* Length of the full name, without NUL. */
int winekernel_object_namesize(struct winekernel *wk, winekernel_object obj);
/* Copies the name NUL-terminated; returns its length; -ERANGE if too small. */
int winekernel_object_getname(struct winekernel *wk, winekernel_object obj,
			      char *name, size_t bufsize);
/* Current data size. */
ssize_t winekernel_object_size(struct winekernel *wk, winekernel_object obj);
/* Reads from offset 0; returns bytes copied. */
ssize_t winekernel_object_getdata(struct winekernel *wk, winekernel_object obj,
				  void *buffer, size_t bufsize);
/* Reads from offset; flags must be 0. Returns bytes copied. */
ssize_t winekernel_object_getdata_ex(struct winekernel *wk,
				     winekernel_object obj, void *buffer,
				     size_t bufsize, uint64_t offset,
				     uint32_t flags);
/* Writes at offset (growing); returns the new size. */
ssize_t winekernel_object_setdata(struct winekernel *wk, winekernel_object obj,
				  const void *buffer, size_t bufsize,
				  uint64_t offset);
/* flags: WK_SETDATA_TRUNCATE. Returns the new size. */
ssize_t winekernel_object_setdata_ex(struct winekernel *wk,
				     winekernel_object obj, const void *buffer,
				     size_t bufsize, uint64_t offset,
				     uint32_t flags);

/* Locks */

/* flags: WK_LOCK_SHARED or WK_LOCK_EXCLUSIVE, optionally WK_LOCK_NONBLOCK. */
int winekernel_object_lockobject(struct winekernel *wk, winekernel_object obj,
				 uint32_t flags);
/* timeout_ns: relative, -1 = infinite, 0 = try. */
int winekernel_object_lockobject_timeout(struct winekernel *wk,
					 winekernel_object obj, uint32_t flags,
					 int64_t timeout_ns);
int winekernel_object_unlock(struct winekernel *wk, winekernel_object obj);

/* ACLs */

int winekernel_object_setacl(struct winekernel *wk, winekernel_object obj,
			     const struct winekernel_ace *entries,
			     uint32_t count);
/* Returns the number of entries; -ERANGE if max_entries is too small. */
int winekernel_object_getacl(struct winekernel *wk, winekernel_object obj,
			     struct winekernel_ace *entries,
			     uint32_t max_entries);

/* Native files */

int winekernel_object_attach_native_file(struct winekernel *wk,
					 winekernel_object obj, int fd);
/* Returns a new close-on-exec fd for the attached open file. */
int winekernel_object_get_native_file(struct winekernel *wk,
				      winekernel_object obj);

/* Listing */

/*
 * Lists the names in namespace (or, with WK_LIST_NAMESPACES, the namespaces;
 * namespace is then ignored and may be NULL), NUL-separated into data.
 * Returns the count; *bytesneeded (may be NULL) gets the bytes needed for all
 * of them. -ERANGE (nothing copied) if bytes is too small.
 */
int winekernel_object_list(struct winekernel *wk, const char *namespace_,
			   char *data, size_t bytes, size_t *bytesneeded,
			   uint32_t flags);
/* Same, starting at the start-th name. */
int winekernel_object_list_ex(struct winekernel *wk, const char *namespace_,
			      char *data, size_t bytes, size_t *bytesneeded,
			      uint32_t flags, uint64_t start);

/* Server */

int winekernel_register_server(struct winekernel *wk);
/* Returns the number of events copied (0 if none queued). Does not block. */
int winekernel_read_events(struct winekernel *wk,
			   struct winekernel_event *events, uint32_t max);

/* Diagnostics */

/* An ioctl that does nothing (benchmark floor). Works on unbound sessions. */
int winekernel_nop(struct winekernel *wk);
/* Live counters (leak checks). Works on unbound sessions. */
int winekernel_stats(struct winekernel *wk, struct winekernel_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* WINEKERNEL_LIB_H */
