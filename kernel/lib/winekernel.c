// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libwinekernel: thin wrappers from the winekernel_* calls to the ioctls.
 * Each wrapper fills one args struct (zeroed, so padding is zero), issues
 * one ioctl and turns -1/errno into a negative errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "winekernel.h"

struct winekernel {
	int fd;
	uint32_t session_id;
};

static inline uint64_t ptr_to_u64(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static int wk_ioctl(const struct winekernel *wk, unsigned long request,
		    void *args)
{
	int ret;

	if (!wk)
		return -EINVAL;
	ret = ioctl(wk->fd, request, args);
	return ret < 0 ? -errno : ret;
}

int winekernel_open_path(const char *path, struct winekernel **out)
{
	struct winekernel *wk;
	int err;

	if (!path || !out)
		return -EINVAL;
	wk = calloc(1, sizeof(*wk));
	if (!wk)
		return -ENOMEM;
	wk->fd = open(path, O_RDWR | O_CLOEXEC);
	if (wk->fd < 0) {
		err = -errno;
		free(wk);
		return err;
	}
	*out = wk;
	return 0;
}

int winekernel_open(struct winekernel **out)
{
	return winekernel_open_path(WINEKERNEL_DEVICE_PATH, out);
}

int winekernel_close(struct winekernel *wk)
{
	int ret;

	if (!wk)
		return -EINVAL;
	ret = close(wk->fd) < 0 ? -errno : 0;
	free(wk);
	return ret;
}

int winekernel_fd(const struct winekernel *wk)
{
	return wk ? wk->fd : -EINVAL;
}

uint32_t winekernel_session_id(const struct winekernel *wk)
{
	return wk ? wk->session_id : 0;
}

static int str_len_checked(const char *s, size_t max, uint32_t *len)
{
	size_t n;

	if (!s)
		return -EINVAL;
	n = strnlen(s, max + 1);
	if (n > max)
		return -ENAMETOOLONG;
	*len = (uint32_t)n;
	return 0;
}

int winekernel_attach_to_kernel(struct winekernel *wk, const char *kernid,
				uint32_t flags, struct winekernel_limits *limits)
{
	struct winekernel_attach_args args;
	int ret;

	memset(&args, 0, sizeof(args));
	ret = str_len_checked(kernid, WK_KERNID_MAX, &args.kernid_len);
	if (ret < 0)
		return ret == -ENAMETOOLONG ? -EINVAL : ret;
	args.kernid = ptr_to_u64(kernid);
	args.flags = flags;
	if (limits)
		args.limits = *limits;
	ret = wk_ioctl(wk, WK_IOC_ATTACH, &args);
	if (ret < 0)
		return ret;
	wk->session_id = args.session_id;
	if (limits)
		*limits = args.limits;
	return args.created ? 1 : 0;
}

int winekernel_instance_setacl(struct winekernel *wk,
			       const struct winekernel_ace *entries,
			       uint32_t count)
{
	struct winekernel_instance_setacl_args args;

	memset(&args, 0, sizeof(args));
	args.entries = ptr_to_u64(entries);
	args.count = count;
	return wk_ioctl(wk, WK_IOC_INSTANCE_SETACL, &args);
}

int winekernel_object_create_ex(struct winekernel *wk, const char *name,
				const void *data, size_t size, uint32_t flags,
				int *created)
{
	struct winekernel_create_args args;
	int ret;

	memset(&args, 0, sizeof(args));
	ret = str_len_checked(name, WK_NAME_MAX, &args.name_len);
	if (ret < 0)
		return ret;
	args.name = ptr_to_u64(name);
	args.data = ptr_to_u64(data);
	args.size = size;
	args.flags = flags;
	ret = wk_ioctl(wk, WK_IOC_CREATE, &args);
	if (ret < 0)
		return ret;
	if (created)
		*created = args.created ? 1 : 0;
	return (int)args.handle;
}

int winekernel_object_create(struct winekernel *wk, const char *name,
			     const void *data, size_t size)
{
	return winekernel_object_create_ex(wk, name, data, size, 0, NULL);
}

int winekernel_object_open(struct winekernel *wk, const char *name)
{
	struct winekernel_open_args args;
	int ret;

	memset(&args, 0, sizeof(args));
	ret = str_len_checked(name, WK_NAME_MAX, &args.name_len);
	if (ret < 0)
		return ret;
	args.name = ptr_to_u64(name);
	ret = wk_ioctl(wk, WK_IOC_OPEN, &args);
	return ret < 0 ? ret : (int)args.handle;
}

int winekernel_object_close(struct winekernel *wk, winekernel_object obj)
{
	struct winekernel_close_args args = { .handle = obj };

	return wk_ioctl(wk, WK_IOC_CLOSE, &args);
}

int winekernel_object_unlink(struct winekernel *wk, winekernel_object obj)
{
	struct winekernel_unlink_args args = { .handle = obj };

	return wk_ioctl(wk, WK_IOC_UNLINK, &args);
}

int winekernel_object_namesize(struct winekernel *wk, winekernel_object obj)
{
	struct winekernel_getname_args args;
	int ret;

	memset(&args, 0, sizeof(args));
	args.handle = obj;
	ret = wk_ioctl(wk, WK_IOC_GETNAME, &args);
	/* A zero-sized buffer always gets -ERANGE with name_len filled in. */
	if (ret < 0 && ret != -ERANGE)
		return ret;
	return (int)args.name_len;
}

int winekernel_object_getname(struct winekernel *wk, winekernel_object obj,
			      char *name, size_t bufsize)
{
	struct winekernel_getname_args args;
	int ret;

	memset(&args, 0, sizeof(args));
	args.handle = obj;
	args.buf = ptr_to_u64(name);
	args.buf_size = bufsize > UINT32_MAX ? UINT32_MAX : (uint32_t)bufsize;
	ret = wk_ioctl(wk, WK_IOC_GETNAME, &args);
	return ret < 0 ? ret : (int)args.name_len;
}

ssize_t winekernel_object_size(struct winekernel *wk, winekernel_object obj)
{
	struct winekernel_size_args args;
	int ret;

	memset(&args, 0, sizeof(args));
	args.handle = obj;
	ret = wk_ioctl(wk, WK_IOC_SIZE, &args);
	return ret < 0 ? ret : (ssize_t)args.size;
}

ssize_t winekernel_object_getdata_ex(struct winekernel *wk,
				     winekernel_object obj, void *buffer,
				     size_t bufsize, uint64_t offset,
				     uint32_t flags)
{
	struct winekernel_getdata_args args;
	int ret;

	memset(&args, 0, sizeof(args));
	args.handle = obj;
	args.buf = ptr_to_u64(buffer);
	args.len = bufsize;
	args.offset = offset;
	args.flags = flags;
	ret = wk_ioctl(wk, WK_IOC_GETDATA, &args);
	return ret < 0 ? ret : (ssize_t)args.copied;
}

ssize_t winekernel_object_getdata(struct winekernel *wk, winekernel_object obj,
				  void *buffer, size_t bufsize)
{
	return winekernel_object_getdata_ex(wk, obj, buffer, bufsize, 0, 0);
}

ssize_t winekernel_object_setdata_ex(struct winekernel *wk,
				     winekernel_object obj, const void *buffer,
				     size_t bufsize, uint64_t offset,
				     uint32_t flags)
{
	struct winekernel_setdata_args args;
	int ret;

	memset(&args, 0, sizeof(args));
	args.handle = obj;
	args.buf = ptr_to_u64(buffer);
	args.len = bufsize;
	args.offset = offset;
	args.flags = flags;
	ret = wk_ioctl(wk, WK_IOC_SETDATA, &args);
	return ret < 0 ? ret : (ssize_t)args.size;
}

ssize_t winekernel_object_setdata(struct winekernel *wk, winekernel_object obj,
				  const void *buffer, size_t bufsize,
				  uint64_t offset)
{
	return winekernel_object_setdata_ex(wk, obj, buffer, bufsize, offset, 0);
}

int winekernel_object_lockobject_timeout(struct winekernel *wk,
					 winekernel_object obj, uint32_t flags,
					 int64_t timeout_ns)
{
	struct winekernel_lock_args args;

	memset(&args, 0, sizeof(args));
	args.handle = obj;
	args.flags = flags;
	if (timeout_ns < -1)
		return -EINVAL;
	args.timeout_ns = timeout_ns < 0 ? WK_TIMEOUT_INFINITE
					 : (uint64_t)timeout_ns;
	return wk_ioctl(wk, WK_IOC_LOCK, &args);
}

int winekernel_object_lockobject(struct winekernel *wk, winekernel_object obj,
				 uint32_t flags)
{
	return winekernel_object_lockobject_timeout(wk, obj, flags, -1);
}

int winekernel_object_unlock(struct winekernel *wk, winekernel_object obj)
{
	struct winekernel_unlock_args args = { .handle = obj };

	return wk_ioctl(wk, WK_IOC_UNLOCK, &args);
}

int winekernel_object_setacl(struct winekernel *wk, winekernel_object obj,
			     const struct winekernel_ace *entries,
			     uint32_t count)
{
	struct winekernel_acl_args args;

	memset(&args, 0, sizeof(args));
	args.handle = obj;
	args.entries = ptr_to_u64(entries);
	args.count = count;
	return wk_ioctl(wk, WK_IOC_SETACL, &args);
}

int winekernel_object_getacl(struct winekernel *wk, winekernel_object obj,
			     struct winekernel_ace *entries,
			     uint32_t max_entries)
{
	struct winekernel_acl_args args;
	int ret;

	memset(&args, 0, sizeof(args));
	args.handle = obj;
	args.entries = ptr_to_u64(entries);
	args.count = max_entries;
	ret = wk_ioctl(wk, WK_IOC_GETACL, &args);
	return ret < 0 ? ret : (int)args.count;
}

int winekernel_object_attach_native_file(struct winekernel *wk,
					 winekernel_object obj, int fd)
{
	struct winekernel_attach_file_args args;

	if (fd < 0)
		return -EBADF;
	memset(&args, 0, sizeof(args));
	args.handle = obj;
	args.fd = (uint32_t)fd;
	return wk_ioctl(wk, WK_IOC_ATTACH_FILE, &args);
}

int winekernel_object_get_native_file(struct winekernel *wk,
				      winekernel_object obj)
{
	struct winekernel_get_file_args args;
	int ret;

	memset(&args, 0, sizeof(args));
	args.handle = obj;
	ret = wk_ioctl(wk, WK_IOC_GET_FILE, &args);
	return ret < 0 ? ret : (int)args.fd;
}

int winekernel_object_list_ex(struct winekernel *wk, const char *namespace_,
			      char *data, size_t bytes, size_t *bytesneeded,
			      uint32_t flags, uint64_t start)
{
	struct winekernel_list_args args;
	int ret;

	memset(&args, 0, sizeof(args));
	if (!(flags & WK_LIST_NAMESPACES)) {
		ret = str_len_checked(namespace_, WK_NAMESPACE_MAX,
				      &args.namespace_len);
		if (ret < 0)
			return ret == -ENAMETOOLONG ? -EINVAL : ret;
		args.namespace_ = ptr_to_u64(namespace_);
	}
	args.buf = ptr_to_u64(data);
	args.buf_size = bytes;
	args.start = start;
	args.flags = flags;
	ret = wk_ioctl(wk, WK_IOC_LIST, &args);
	if (bytesneeded && (ret >= 0 || ret == -ERANGE))
		*bytesneeded = (size_t)args.bytes_needed;
	if (ret < 0)
		return ret;
	return args.count > INT_MAX ? INT_MAX : (int)args.count;
}

int winekernel_object_list(struct winekernel *wk, const char *namespace_,
			   char *data, size_t bytes, size_t *bytesneeded,
			   uint32_t flags)
{
	return winekernel_object_list_ex(wk, namespace_, data, bytes,
					 bytesneeded, flags, 0);
}

int winekernel_register_server(struct winekernel *wk)
{
	struct winekernel_register_server_args args;

	memset(&args, 0, sizeof(args));
	return wk_ioctl(wk, WK_IOC_REGISTER_SERVER, &args);
}

int winekernel_read_events(struct winekernel *wk,
			   struct winekernel_event *events, uint32_t max)
{
	struct winekernel_read_events_args args;
	int ret;

	memset(&args, 0, sizeof(args));
	args.events = ptr_to_u64(events);
	args.max = max;
	ret = wk_ioctl(wk, WK_IOC_READ_EVENTS, &args);
	return ret < 0 ? ret : (int)args.count;
}

int winekernel_nop(struct winekernel *wk)
{
	return wk_ioctl(wk, WK_IOC_NOP, NULL);
}

int winekernel_stats(struct winekernel *wk, struct winekernel_stats *out)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	return wk_ioctl(wk, WK_IOC_STATS, out);
}
