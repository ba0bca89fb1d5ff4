// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * winekernel_device: Node-API binding of libwinekernel (kernel/lib), used by
 * backends/device/. Every call is synchronous except a lock that has to wait:
 * that one runs on a thread of its own (never on libuv's pool, which a few
 * long waits would starve) and settles a Promise through a thread-safe
 * function.
 *
 * Conventions (mirroring the library): results are numbers, >= 0 on success
 * and -errno on failure. Exceptions are thrown only for programming errors
 * (wrong argument types, an unknown session slot), with a stable `code`.
 *
 * Sessions are addressed by small integer slots so that the hot path passes
 * numbers only. Secondary results (the `created` flag of create, the
 * bytesNeeded of list) are written into a Float64Array the JS side registers
 * once (setScratch), so no call allocates a result object.
 *
 * Cancelling a wait: the waiting thread is sent WK_CANCEL_SIGNAL, whose
 * handler does nothing and is installed without SA_RESTART, so the blocked
 * ioctl returns -EINTR. The canceller repeats the signal until the thread
 * reports it left the ioctl, which closes the window between the thread's
 * last check of `cancelled` and its entry into the ioctl.
 *
 * Also exported: dup(fd) and close(fd), for the in-process backend's native
 * files when the proxy's fd addon is not built.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "winekernel.h"

#define MAX_SESSIONS 65536
#define WK_CANCEL_SIGNAL (SIGRTMIN + 5)
/* scratch slots shared with JS */
#define SCRATCH_CREATED 0
#define SCRATCH_BYTES_NEEDED 1

struct waiter;

struct session {
	struct winekernel *wk;
	int slot;
	struct waiter *waiters; /* pending waits, main thread only */
	uv_poll_t *poll;        /* event readiness watcher, when watched */
	napi_ref on_events;     /* JS callback for readiness */
	napi_async_context async_context;
	napi_env env;
};

struct waiter {
	struct waiter *next, *prev;
	struct session *session; /* main thread only; NULL once detached */
	struct winekernel *wk;
	uint32_t handle;
	uint32_t flags;
	int64_t timeout_ns;
	pthread_t thread;
	atomic_int cancelled;
	atomic_int done;
	atomic_int tid;
	int result;
	napi_deferred deferred;
};

struct addon_state {
	struct session *sessions[MAX_SESSIONS];
	int next_free_hint;
	napi_threadsafe_function settle;
	int pending_waits;
	double *scratch; /* registered Float64Array, >= 2 elements */
	size_t scratch_length;
	napi_ref scratch_ref;
	napi_env env;
};

/* ------------------------------------------------------------------ */
/* argument helpers */

static napi_value throw_code(napi_env env, const char *code, const char *message)
{
	napi_throw_type_error(env, code, message);
	return NULL;
}

static napi_value number(napi_env env, double value)
{
	napi_value result;
	napi_create_double(env, value, &result);
	return result;
}

static napi_value int_result(napi_env env, int64_t value)
{
	napi_value result;
	napi_create_int64(env, value, &result);
	return result;
}

#define ARGS(n)                                                              \
	size_t argc = (n);                                                   \
	napi_value argv[(n) > 0 ? (n) : 1];                                  \
	struct addon_state *state;                                           \
	if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&state) != napi_ok) \
		return NULL;                                                 \
	if (argc < (n))                                                      \
		return throw_code(env, "WK_BAD_ARGUMENT", "missing arguments")

static bool get_u32(napi_env env, napi_value value, uint32_t *out)
{
	double d;
	if (napi_get_value_double(env, value, &d) != napi_ok)
		return false;
	if (!(d >= 0 && d <= 4294967295.0) || d != (double)(uint32_t)d)
		return false;
	*out = (uint32_t)d;
	return true;
}

static bool get_i64(napi_env env, napi_value value, int64_t *out)
{
	double d;
	if (napi_get_value_double(env, value, &d) != napi_ok)
		return false;
	if (!(d >= -9007199254740991.0 && d <= 9007199254740991.0) || d != (double)(int64_t)d)
		return false;
	*out = (int64_t)d;
	return true;
}

static bool get_bytes(napi_env env, napi_value value, void **data, size_t *length)
{
	bool is_typedarray = false;
	napi_typedarray_type type;
	napi_value arraybuffer;
	size_t offset;
	if (napi_is_typedarray(env, value, &is_typedarray) != napi_ok || !is_typedarray)
		return false;
	if (napi_get_typedarray_info(env, value, &type, length, data, &arraybuffer, &offset) != napi_ok)
		return false;
	return type == napi_uint8_array;
}

static bool is_nullish(napi_env env, napi_value value)
{
	napi_valuetype type;
	napi_typeof(env, value, &type);
	return type == napi_null || type == napi_undefined;
}

static struct session *get_session(napi_env env, struct addon_state *state, napi_value value)
{
	uint32_t slot;
	if (!get_u32(env, value, &slot) || slot == 0 || slot >= MAX_SESSIONS || !state->sessions[slot]) {
		throw_code(env, "WK_BAD_SESSION", "unknown winekernel session slot");
		return NULL;
	}
	return state->sessions[slot];
}

/*
 * Copies a name (JS string as UTF-8, or bytes) into buf as a C string.
 * Returns its length, -ENAMETOOLONG past max, -EINVAL for a NUL inside or a
 * value that is neither; -1000 after throwing.
 */
static int get_name(napi_env env, napi_value value, char *buf, size_t max, int too_long)
{
	napi_valuetype type;
	void *data;
	size_t length;

	napi_typeof(env, value, &type);
	if (type == napi_string) {
		/* the full UTF-8 length first: a bounded copy would stop short of
		 * a multi-byte char and make an over-long name look acceptable */
		if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok)
			return -EINVAL;
		if (length > max)
			return too_long;
		if (napi_get_value_string_utf8(env, value, buf, max + 1, &length) != napi_ok)
			return -EINVAL;
	} else if (get_bytes(env, value, &data, &length)) {
		if (length > max)
			return too_long;
		memcpy(buf, data, length);
		buf[length] = 0;
	} else {
		return -EINVAL;
	}
	if (memchr(buf, 0, length))
		return -EINVAL;
	return (int)length;
}

/* ------------------------------------------------------------------ */
/* sessions */

static void cancel_signal_handler(int sig)
{
	(void)sig; /* only here to make the blocked ioctl return -EINTR */
}

/*
 * Opens the device, optionally as other credentials: the calling thread alone
 * switches (raw syscalls, not glibc's process-wide wrappers) while it opens,
 * since the device captures the opener's credentials. Needs root.
 */
static int open_as(struct winekernel **out, int64_t uid, int64_t gid, const gid_t *groups, size_t ngroups)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	gid_t old_groups[1024];
	int old_ngroups, ret, err;

	if (uid < 0)
		return winekernel_open(out);
	getresuid(&ruid, &euid, &suid);
	getresgid(&rgid, &egid, &sgid);
	old_ngroups = getgroups(1024, old_groups);
	if (old_ngroups < 0)
		return -errno;
	if (syscall(SYS_setgroups, ngroups, groups) < 0)
		return -errno;
	/* keep the saved ids, so the switch back is allowed */
	if (syscall(SYS_setresgid, (gid_t)gid, (gid_t)gid, -1) < 0) {
		err = -errno;
		syscall(SYS_setgroups, old_ngroups, old_groups);
		return err;
	}
	if (syscall(SYS_setresuid, (uid_t)uid, (uid_t)uid, -1) < 0) {
		err = -errno;
		syscall(SYS_setresgid, rgid, egid, sgid);
		syscall(SYS_setgroups, old_ngroups, old_groups);
		return err;
	}
	ret = winekernel_open(out);
	if (syscall(SYS_setresuid, ruid, euid, suid) < 0 ||
	    syscall(SYS_setresgid, rgid, egid, sgid) < 0 ||
	    syscall(SYS_setgroups, old_ngroups, old_groups) < 0)
		abort(); /* never continue with the wrong credentials */
	return ret;
}

/* sessionOpen(uid, gid, groups) -> slot; uid -1 = this process's credentials */
static napi_value session_open(napi_env env, napi_callback_info info)
{
	ARGS(3);
	int64_t uid, gid;
	gid_t groups[256];
	uint32_t ngroups = 0, i;
	struct winekernel *wk;
	struct session *s;
	int slot, ret;

	if (!get_i64(env, argv[0], &uid) || !get_i64(env, argv[1], &gid))
		return throw_code(env, "WK_BAD_ARGUMENT", "uid/gid must be integers");
	if (!is_nullish(env, argv[2])) {
		napi_get_array_length(env, argv[2], &ngroups);
		if (ngroups > 256)
			return throw_code(env, "WK_BAD_ARGUMENT", "too many groups");
		for (i = 0; i < ngroups; i++) {
			napi_value element;
			uint32_t g;
			napi_get_element(env, argv[2], i, &element);
			if (!get_u32(env, element, &g))
				return throw_code(env, "WK_BAD_ARGUMENT", "groups must be u32");
			groups[i] = g;
		}
	}
	for (slot = state->next_free_hint; slot < MAX_SESSIONS && state->sessions[slot]; slot++)
		;
	if (slot >= MAX_SESSIONS) {
		for (slot = 1; slot < MAX_SESSIONS && state->sessions[slot]; slot++)
			;
		if (slot >= MAX_SESSIONS)
			return int_result(env, -EMFILE);
	}
	ret = open_as(&wk, uid, gid, groups, ngroups);
	if (ret < 0)
		return int_result(env, ret);
	s = calloc(1, sizeof(*s));
	if (!s) {
		winekernel_close(wk);
		return int_result(env, -ENOMEM);
	}
	s->wk = wk;
	s->slot = slot;
	state->sessions[slot] = s;
	state->next_free_hint = slot + 1;
	return int_result(env, slot);
}

/*
 * Ends every wait of the session with -EINTR. Returns false if a thread did
 * not leave its ioctl in time (it then still uses the session's context).
 */
static bool cancel_waits(struct session *s)
{
	struct waiter *w;
	bool all_done = true;

	for (w = s->waiters; w; w = w->next) {
		struct timespec pause = { 0, 50 * 1000 };
		int rounds;

		atomic_store(&w->cancelled, 1);
		/* resend until the thread is out of the ioctl (see top comment) */
		for (rounds = 0; !atomic_load(&w->done) && rounds < 100000; rounds++) {
			pthread_kill(w->thread, WK_CANCEL_SIGNAL);
			nanosleep(&pause, NULL);
		}
		if (!atomic_load(&w->done))
			all_done = false;
	}
	return all_done;
}

/* Closes the device; if a waiter is stuck, only the fd (the context stays for it). */
static void close_context(struct winekernel *wk, bool waiters_done)
{
	if (waiters_done)
		winekernel_close(wk);
	else
		close(winekernel_fd(wk));
}

static void detach_waiter(struct session *s, struct waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		s->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->next = w->prev = NULL;
	w->session = NULL;
}

static void free_poll(uv_handle_t *handle)
{
	free(handle);
}

static void stop_watch(napi_env env, struct session *s)
{
	if (s->poll) {
		uv_poll_stop(s->poll);
		uv_close((uv_handle_t *)s->poll, free_poll);
		s->poll = NULL;
	}
	if (s->on_events) {
		napi_delete_reference(env, s->on_events);
		s->on_events = NULL;
	}
	if (s->async_context) {
		napi_async_destroy(env, s->async_context);
		s->async_context = NULL;
	}
}

/* sessionClose(slot): waits end with -EINTR, then the device fd closes */
static napi_value session_close(napi_env env, napi_callback_info info)
{
	ARGS(1);
	struct session *s = get_session(env, state, argv[0]);
	if (!s)
		return NULL;
	bool waiters_done = cancel_waits(s);
	while (s->waiters)
		detach_waiter(s, s->waiters); /* settle_waiter frees them */
	stop_watch(env, s);
	state->sessions[s->slot] = NULL;
	if (s->slot < state->next_free_hint)
		state->next_free_hint = s->slot;
	close_context(s->wk, waiters_done);
	free(s);
	return int_result(env, 0);
}

static napi_value set_scratch(napi_env env, napi_callback_info info)
{
	ARGS(1);
	napi_typedarray_type type;
	napi_value arraybuffer;
	size_t length, offset;
	void *data;

	if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &arraybuffer, &offset) != napi_ok ||
	    type != napi_float64_array || length < 2)
		return throw_code(env, "WK_BAD_ARGUMENT", "scratch must be a Float64Array of at least 2");
	if (state->scratch_ref)
		napi_delete_reference(env, state->scratch_ref);
	napi_create_reference(env, argv[0], 1, &state->scratch_ref);
	state->scratch = data;
	state->scratch_length = length;
	return NULL;
}

static napi_value session_id(napi_env env, napi_callback_info info)
{
	ARGS(1);
	struct session *s = get_session(env, state, argv[0]);
	if (!s)
		return NULL;
	return number(env, winekernel_session_id(s->wk));
}

/* attach(slot, kernid, flags, limits Float64Array(4) | null) */
static napi_value attach(napi_env env, napi_callback_info info)
{
	ARGS(4);
	struct session *s = get_session(env, state, argv[0]);
	char kernid[WK_KERNID_MAX + 2];
	struct winekernel_limits limits = { 0 };
	uint32_t flags;
	int len;
	if (!s)
		return NULL;
	len = get_name(env, argv[1], kernid, WK_KERNID_MAX, -EINVAL);
	if (len < 0)
		return int_result(env, len);
	if (len == 0 || memchr(kernid, '/', len))
		return int_result(env, -EINVAL);
	if (!get_u32(env, argv[2], &flags))
		return int_result(env, -EINVAL);
	if (!is_nullish(env, argv[3])) {
		napi_typedarray_type type;
		napi_value ab;
		size_t length, offset;
		double *values;
		if (napi_get_typedarray_info(env, argv[3], &type, &length, (void **)&values, &ab, &offset) != napi_ok ||
		    type != napi_float64_array || length < 4)
			return throw_code(env, "WK_BAD_ARGUMENT", "limits must be a Float64Array(4)");
		limits.max_objects = (uint64_t)values[0];
		limits.max_bytes = (uint64_t)values[1];
		limits.max_object_size = (uint64_t)values[2];
		limits.max_handles_per_session = (uint64_t)values[3];
	}
	return int_result(env, winekernel_attach_to_kernel(s->wk, kernid, flags, &limits));
}

/* Reads a JS array of {type, who, id, rights} into entries; -EINVAL/-E2BIG. */
static int get_acl(napi_env env, napi_value array, struct winekernel_ace *entries, uint32_t *count)
{
	bool is_array = false;
	uint32_t length, i;
	static const char *const fields[] = { "type", "who", "id", "rights" };

	napi_is_array(env, array, &is_array);
	if (!is_array)
		return -EINVAL;
	napi_get_array_length(env, array, &length);
	if (length > WK_ACL_MAX_ENTRIES)
		return -E2BIG;
	for (i = 0; i < length; i++) {
		napi_value element, value;
		uint32_t v[4];
		napi_valuetype type;
		int f;
		napi_get_element(env, array, i, &element);
		napi_typeof(env, element, &type);
		if (type != napi_object)
			return -EINVAL;
		for (f = 0; f < 4; f++) {
			napi_get_named_property(env, element, fields[f], &value);
			if (!get_u32(env, value, &v[f]))
				return -EINVAL;
		}
		entries[i].type = v[0];
		entries[i].who = v[1];
		entries[i].id = v[2];
		entries[i].rights = v[3];
	}
	*count = length;
	return 0;
}

static napi_value instance_setacl(napi_env env, napi_callback_info info)
{
	ARGS(2);
	struct session *s = get_session(env, state, argv[0]);
	struct winekernel_ace entries[WK_ACL_MAX_ENTRIES];
	uint32_t count = 0;
	int ret;
	if (!s)
		return NULL;
	ret = get_acl(env, argv[1], entries, &count);
	if (ret < 0)
		return int_result(env, ret);
	return int_result(env, winekernel_instance_setacl(s->wk, entries, count));
}

/* ------------------------------------------------------------------ */
/* objects */

/* create(slot, name, data | null, flags) -> handle; scratch[0] = created */
static napi_value create(napi_env env, napi_callback_info info)
{
	ARGS(4);
	struct session *s = get_session(env, state, argv[0]);
	char name[WK_NAME_MAX + 2];
	void *data = NULL;
	size_t size = 0;
	uint32_t flags;
	int len, created = 0, ret;
	if (!s)
		return NULL;
	len = get_name(env, argv[1], name, WK_NAME_MAX, -ENAMETOOLONG);
	if (len < 0)
		return int_result(env, len);
	if (!is_nullish(env, argv[2]) && !get_bytes(env, argv[2], &data, &size))
		return throw_code(env, "WK_BAD_ARGUMENT", "data must be a Uint8Array or null");
	if (!get_u32(env, argv[3], &flags))
		return int_result(env, -EINVAL);
	ret = winekernel_object_create_ex(s->wk, name, data, size, flags, &created);
	if (ret >= 0 && state->scratch)
		state->scratch[SCRATCH_CREATED] = created;
	return int_result(env, ret);
}

static napi_value open_object(napi_env env, napi_callback_info info)
{
	ARGS(2);
	struct session *s = get_session(env, state, argv[0]);
	char name[WK_NAME_MAX + 2];
	int len;
	if (!s)
		return NULL;
	len = get_name(env, argv[1], name, WK_NAME_MAX, -ENAMETOOLONG);
	if (len < 0)
		return int_result(env, len);
	return int_result(env, winekernel_object_open(s->wk, name));
}

/* Handle arguments: anything that is not a u32 names no handle (-EBADF). */
#define HANDLE_ARG(index)                                                     \
	uint32_t handle;                                                      \
	if (!get_u32(env, argv[(index)], &handle))                            \
		return int_result(env, -EBADF)

static napi_value close_object(napi_env env, napi_callback_info info)
{
	ARGS(2);
	struct session *s = get_session(env, state, argv[0]);
	if (!s)
		return NULL;
	HANDLE_ARG(1);
	/* a wait through this handle is ended by the kernel itself (-EBADF) */
	return int_result(env, winekernel_object_close(s->wk, handle));
}

#define SIMPLE_HANDLE_CALL(js_name, lib_call)                                 \
	static napi_value js_name(napi_env env, napi_callback_info info)      \
	{                                                                     \
		ARGS(2);                                                      \
		struct session *s = get_session(env, state, argv[0]);         \
		if (!s)                                                       \
			return NULL;                                          \
		HANDLE_ARG(1);                                                \
		return int_result(env, lib_call(s->wk, handle));              \
	}

SIMPLE_HANDLE_CALL(unlink_object, winekernel_object_unlink)
SIMPLE_HANDLE_CALL(namesize, winekernel_object_namesize)
SIMPLE_HANDLE_CALL(size, winekernel_object_size)
SIMPLE_HANDLE_CALL(unlock, winekernel_object_unlock)
SIMPLE_HANDLE_CALL(get_file, winekernel_object_get_native_file)

static napi_value getname(napi_env env, napi_callback_info info)
{
	ARGS(3);
	struct session *s = get_session(env, state, argv[0]);
	void *buf;
	size_t length;
	if (!s)
		return NULL;
	HANDLE_ARG(1);
	if (!get_bytes(env, argv[2], &buf, &length))
		return throw_code(env, "WK_BAD_ARGUMENT", "buf must be a Uint8Array");
	return int_result(env, winekernel_object_getname(s->wk, handle, buf, length));
}

static napi_value getdata(napi_env env, napi_callback_info info)
{
	ARGS(4);
	struct session *s = get_session(env, state, argv[0]);
	void *buf;
	size_t length;
	int64_t offset;
	if (!s)
		return NULL;
	HANDLE_ARG(1);
	if (!get_bytes(env, argv[2], &buf, &length))
		return throw_code(env, "WK_BAD_ARGUMENT", "buf must be a Uint8Array");
	if (!get_i64(env, argv[3], &offset) || offset < 0)
		return int_result(env, -EINVAL);
	return int_result(env, winekernel_object_getdata_ex(s->wk, handle, buf, length, (uint64_t)offset, 0));
}

static napi_value setdata(napi_env env, napi_callback_info info)
{
	ARGS(5);
	struct session *s = get_session(env, state, argv[0]);
	void *buf;
	size_t length;
	int64_t offset;
	uint32_t flags;
	if (!s)
		return NULL;
	HANDLE_ARG(1);
	if (!get_bytes(env, argv[2], &buf, &length))
		return throw_code(env, "WK_BAD_ARGUMENT", "buf must be a Uint8Array");
	if (!get_i64(env, argv[3], &offset) || offset < 0 || !get_u32(env, argv[4], &flags))
		return int_result(env, -EINVAL);
	return int_result(env, winekernel_object_setdata_ex(s->wk, handle, buf, length, (uint64_t)offset, flags));
}

/* ------------------------------------------------------------------ */
/* locks */

static bool get_lock_args(napi_env env, napi_value *argv, uint32_t *flags, int64_t *timeout_ns)
{
	return get_u32(env, argv[2], flags) && get_i64(env, argv[3], timeout_ns) && *timeout_ns >= -1;
}

/* lock(slot, handle, flags, timeoutNs): one ioctl; only for calls that cannot wait long (timeout 0 / NONBLOCK) */
static napi_value lock_now(napi_env env, napi_callback_info info)
{
	ARGS(4);
	struct session *s = get_session(env, state, argv[0]);
	uint32_t flags;
	int64_t timeout_ns;
	if (!s)
		return NULL;
	HANDLE_ARG(1);
	if (!get_lock_args(env, argv, &flags, &timeout_ns))
		return int_result(env, -EINVAL);
	return int_result(env, winekernel_object_lockobject_timeout(s->wk, handle, flags, timeout_ns));
}

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	sigset_t set;
	int result;

	sigemptyset(&set);
	sigaddset(&set, WK_CANCEL_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	atomic_store(&w->tid, (int)syscall(SYS_gettid));
	if (atomic_load(&w->cancelled))
		result = -EINTR;
	else
		result = winekernel_object_lockobject_timeout(w->wk, w->handle, w->flags, w->timeout_ns);
	if (atomic_load(&w->cancelled)) {
		/* granted while being cancelled: give it back cleanly */
		if (result == 0 || result == -EOWNERDEAD)
			winekernel_object_unlock(w->wk, w->handle);
		result = -EINTR;
	}
	w->result = result;
	atomic_store(&w->done, 1);
	return NULL;
}

static void settle_waiter(napi_env env, napi_value js_callback, void *context, void *data)
{
	struct addon_state *state = context;
	struct waiter *w = data;
	(void)js_callback;

	pthread_join(w->thread, NULL);
	if (w->session)
		detach_waiter(w->session, w);
	if (env)
		napi_resolve_deferred(env, w->deferred, int_result(env, w->result));
	free(w);
	if (--state->pending_waits == 0 && env)
		napi_unref_threadsafe_function(env, state->settle);
}

struct thread_start {
	struct waiter *w;
	napi_threadsafe_function settle;
};

/* Reads a small /proc file of one of our threads into buf; length or -1. */
static ssize_t read_task_file(int tid, const char *file, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/%s", tid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

/*
 * True once the thread sleeps interruptibly inside ioctl(): in the lock
 * ioctl that only happens in the wait, after the request joined the
 * object's queue (other sleeps on that path, mutexes and page faults, are
 * uninterruptible).
 */
static int thread_queued(int tid)
{
	char buf[512], *paren;

	if (read_task_file(tid, "syscall", buf, sizeof(buf)) < 0)
		return -1; /* no /proc/.../syscall here: cannot tell */
	if (atol(buf) != SYS_ioctl)
		return 0;
	if (read_task_file(tid, "stat", buf, sizeof(buf)) <= 0)
		return -1;
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] == 'S';
}

/*
 * lock() must return with the request already in the kernel's FIFO, or a
 * later call from JS could overtake it. The thread starts asynchronously, so
 * wait (briefly: thread start plus one ioctl entry) until it is queued or
 * already has its result.
 */
static void wait_until_queued(struct waiter *w)
{
	struct timespec pause = { 0, 10 * 1000 };
	int rounds;

	for (rounds = 0; rounds < 100000 && !atomic_load(&w->done); rounds++) {
		int tid = atomic_load(&w->tid);
		if (tid && thread_queued(tid) != 0)
			return;
		nanosleep(&pause, NULL);
	}
}

/* Runs the wait, then queues the settlement on the JS thread. */
static void *waiter_entry(void *arg)
{
	struct thread_start start = *(struct thread_start *)arg;
	free(arg);
	wait_thread(start.w);
	napi_call_threadsafe_function(start.settle, start.w, napi_tsfn_blocking);
	return NULL;
}

/* lockWait(slot, handle, flags, timeoutNs) -> Promise<result> */
static napi_value lock_wait(napi_env env, napi_callback_info info)
{
	ARGS(4);
	struct session *s = get_session(env, state, argv[0]);
	struct thread_start *start;
	struct waiter *w;
	napi_value promise;
	sigset_t all, old;
	uint32_t flags;
	int64_t timeout_ns;
	int err;
	if (!s)
		return NULL;
	HANDLE_ARG(1);
	if (!get_lock_args(env, argv, &flags, &timeout_ns))
		return int_result(env, -EINVAL);
	w = calloc(1, sizeof(*w));
	start = malloc(sizeof(*start));
	if (!w || !start) {
		free(w);
		free(start);
		return int_result(env, -ENOMEM);
	}
	w->session = s;
	w->wk = s->wk;
	w->handle = handle;
	w->flags = flags;
	w->timeout_ns = timeout_ns;
	start->w = w;
	start->settle = state->settle;
	napi_create_promise(env, &w->deferred, &promise);
	/* the thread starts with every signal blocked but ours (set inside) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&w->thread, NULL, waiter_entry, start);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		napi_resolve_deferred(env, w->deferred, int_result(env, -err));
		free(w);
		free(start);
		return promise;
	}
	wait_until_queued(w);
	w->next = s->waiters;
	if (s->waiters)
		s->waiters->prev = w;
	s->waiters = w;
	if (state->pending_waits++ == 0)
		napi_ref_threadsafe_function(env, state->settle);
	return promise;
}

/* ------------------------------------------------------------------ */
/* ACLs, files, listing, server */

static napi_value setacl(napi_env env, napi_callback_info info)
{
	ARGS(3);
	struct session *s = get_session(env, state, argv[0]);
	struct winekernel_ace entries[WK_ACL_MAX_ENTRIES];
	uint32_t count = 0;
	int ret;
	if (!s)
		return NULL;
	HANDLE_ARG(1);
	ret = get_acl(env, argv[2], entries, &count);
	if (ret < 0)
		return int_result(env, ret);
	return int_result(env, winekernel_object_setacl(s->wk, handle, entries, count));
}

static napi_value make_object_u32(napi_env env, const char *const *names, const uint32_t *values, int n)
{
	napi_value object;
	int i;
	napi_create_object(env, &object);
	for (i = 0; i < n; i++)
		napi_set_named_property(env, object, names[i], number(env, values[i]));
	return object;
}

/* getacl(slot, handle) -> entries[] | -errno */
static napi_value getacl(napi_env env, napi_callback_info info)
{
	ARGS(2);
	struct session *s = get_session(env, state, argv[0]);
	struct winekernel_ace entries[WK_ACL_MAX_ENTRIES];
	static const char *const fields[] = { "type", "who", "id", "rights" };
	napi_value array;
	int count, i;
	if (!s)
		return NULL;
	HANDLE_ARG(1);
	count = winekernel_object_getacl(s->wk, handle, entries, WK_ACL_MAX_ENTRIES);
	if (count < 0)
		return int_result(env, count);
	napi_create_array_with_length(env, count, &array);
	for (i = 0; i < count; i++) {
		uint32_t v[4] = { entries[i].type, entries[i].who, entries[i].id, entries[i].rights };
		napi_set_element(env, array, i, make_object_u32(env, fields, v, 4));
	}
	return array;
}

static napi_value attach_file(napi_env env, napi_callback_info info)
{
	ARGS(3);
	struct session *s = get_session(env, state, argv[0]);
	int64_t fd;
	if (!s)
		return NULL;
	HANDLE_ARG(1);
	if (!get_i64(env, argv[2], &fd) || fd < 0 || fd > 0x7fffffff)
		return int_result(env, -EBADF);
	return int_result(env, winekernel_object_attach_native_file(s->wk, handle, (int)fd));
}

/* list(slot, namespace | null, buf, flags, start) -> count; scratch[1] = bytesNeeded */
static napi_value list(napi_env env, napi_callback_info info)
{
	ARGS(5);
	struct session *s = get_session(env, state, argv[0]);
	char ns[WK_NAMESPACE_MAX + 2];
	const char *ns_arg = NULL;
	void *buf;
	size_t length, needed = 0;
	uint32_t flags;
	int64_t start;
	int ret;
	if (!s)
		return NULL;
	if (!get_bytes(env, argv[2], &buf, &length))
		return throw_code(env, "WK_BAD_ARGUMENT", "buf must be a Uint8Array");
	if (!get_u32(env, argv[3], &flags) || !get_i64(env, argv[4], &start) || start < 0)
		return int_result(env, -EINVAL);
	if (!(flags & WK_LIST_NAMESPACES)) {
		ret = get_name(env, argv[1], ns, WK_NAMESPACE_MAX, -EINVAL);
		if (ret < 0)
			return int_result(env, ret);
		ns_arg = ns;
	}
	ret = winekernel_object_list_ex(s->wk, ns_arg, buf, length, &needed, flags, (uint64_t)start);
	if (state->scratch)
		state->scratch[SCRATCH_BYTES_NEEDED] = (ret >= 0 || ret == -ERANGE) ? (double)needed : 0;
	return int_result(env, ret);
}

static napi_value register_server(napi_env env, napi_callback_info info)
{
	ARGS(1);
	struct session *s = get_session(env, state, argv[0]);
	if (!s)
		return NULL;
	return int_result(env, winekernel_register_server(s->wk));
}

/* readEvents(slot, max) -> [{handle, fromSession, fromPid}] | -errno */
static napi_value read_events(napi_env env, napi_callback_info info)
{
	ARGS(2);
	struct session *s = get_session(env, state, argv[0]);
	static const char *const fields[] = { "handle", "fromSession", "fromPid" };
	struct winekernel_event *events;
	napi_value array;
	uint32_t max;
	int count, i;
	if (!s)
		return NULL;
	if (!get_u32(env, argv[1], &max) || max == 0 || max > WK_READ_EVENTS_MAX)
		return int_result(env, -EINVAL);
	events = calloc(max, sizeof(*events));
	if (!events)
		return int_result(env, -ENOMEM);
	count = winekernel_read_events(s->wk, events, max);
	if (count < 0) {
		free(events);
		return int_result(env, count);
	}
	napi_create_array_with_length(env, count, &array);
	for (i = 0; i < count; i++) {
		uint32_t v[3] = { events[i].handle, events[i].from_session, events[i].from_pid };
		napi_set_element(env, array, i, make_object_u32(env, fields, v, 3));
	}
	free(events);
	return array;
}

static void on_readable(uv_poll_t *poll, int status, int events)
{
	struct session *s = poll->data;
	napi_env env = s->env;
	napi_handle_scope scope;
	napi_value callback, receiver, result;
	(void)status;
	(void)events;

	/* one wake-up per arming: JS re-arms after it has read the queue */
	uv_poll_stop(poll);
	if (!s->on_events)
		return;
	napi_open_handle_scope(env, &scope);
	napi_get_reference_value(env, s->on_events, &callback);
	napi_get_global(env, &receiver); /* make_callback wants an object */
	if (napi_make_callback(env, s->async_context, receiver, callback, 0, NULL, &result) == napi_pending_exception) {
		/* a throwing listener is an uncaught exception, as for any event */
		napi_value error;
		napi_get_and_clear_last_exception(env, &error);
		napi_fatal_exception(env, error);
	}
	napi_close_handle_scope(env, scope);
}

/* watch(slot, callback): callback() once the fd polls readable; call again to re-arm */
static napi_value watch(napi_env env, napi_callback_info info)
{
	ARGS(2);
	struct session *s = get_session(env, state, argv[0]);
	uv_loop_t *loop;
	napi_value resource_name;
	int ret;
	if (!s)
		return NULL;
	if (!s->poll) {
		napi_get_uv_event_loop(env, &loop);
		s->poll = calloc(1, sizeof(*s->poll));
		if (!s->poll)
			return int_result(env, -ENOMEM);
		ret = uv_poll_init(loop, s->poll, winekernel_fd(s->wk));
		if (ret < 0) {
			free(s->poll);
			s->poll = NULL;
			return int_result(env, ret);
		}
		s->poll->data = s;
		s->env = env;
		napi_create_reference(env, argv[1], 1, &s->on_events);
		napi_value resource;
		napi_create_object(env, &resource); /* Node 20 wants a real object here */
		napi_create_string_utf8(env, "winekernel.events", NAPI_AUTO_LENGTH, &resource_name);
		napi_async_init(env, resource, resource_name, &s->async_context);
	}
	return int_result(env, uv_poll_start(s->poll, UV_READABLE, on_readable));
}

static napi_value unwatch(napi_env env, napi_callback_info info)
{
	ARGS(1);
	struct session *s = get_session(env, state, argv[0]);
	if (!s)
		return NULL;
	stop_watch(env, s);
	return int_result(env, 0);
}

/* ------------------------------------------------------------------ */
/* diagnostics */

static napi_value nop(napi_env env, napi_callback_info info)
{
	ARGS(1);
	struct session *s = get_session(env, state, argv[0]);
	if (!s)
		return NULL;
	return int_result(env, winekernel_nop(s->wk));
}

static napi_value stats(napi_env env, napi_callback_info info)
{
	ARGS(1);
	struct session *s = get_session(env, state, argv[0]);
	struct winekernel_stats st;
	napi_value object;
	int ret;
	if (!s)
		return NULL;
	ret = winekernel_stats(s->wk, &st);
	if (ret < 0)
		return int_result(env, ret);
	napi_create_object(env, &object);
#define STAT(field, js) napi_set_named_property(env, object, js, number(env, (double)st.field))
	STAT(objects, "objects");
	STAT(bytes, "bytes");
	STAT(sessions, "sessions");
	STAT(instances, "instances");
	STAT(handles, "handles");
	STAT(instance_objects, "instanceObjects");
	STAT(instance_bytes, "instanceBytes");
	STAT(instance_sessions, "instanceSessions");
	STAT(instance_handles, "instanceHandles");
#undef STAT
	return object;
}

/* An empty call through the same argument path: the N-API floor. */
static napi_value noop(napi_env env, napi_callback_info info)
{
	ARGS(1);
	(void)state;
	return int_result(env, 0);
}

/* ------------------------------------------------------------------ */
/* fds for the in-process backend */

static napi_value dup_fd(napi_env env, napi_callback_info info)
{
	ARGS(1);
	int64_t fd;
	int copy;
	(void)state;
	if (!get_i64(env, argv[0], &fd) || fd < 0 || fd > 0x7fffffff)
		return int_result(env, -EBADF);
	copy = fcntl((int)fd, F_DUPFD_CLOEXEC, 0);
	return int_result(env, copy < 0 ? -errno : copy);
}

static napi_value close_fd(napi_env env, napi_callback_info info)
{
	ARGS(1);
	int64_t fd;
	(void)state;
	if (!get_i64(env, argv[0], &fd) || fd < 0 || fd > 0x7fffffff)
		return int_result(env, -EBADF);
	/* on Linux the fd is gone even when close reports EINTR */
	return int_result(env, close((int)fd) < 0 && errno != EINTR ? -errno : 0);
}

/* ------------------------------------------------------------------ */

static void finalize_state(napi_env env, void *data, void *hint)
{
	struct addon_state *state = data;
	int i;
	(void)hint;
	for (i = 1; i < MAX_SESSIONS; i++) {
		struct session *s = state->sessions[i];
		if (!s)
			continue;
		bool waiters_done = cancel_waits(s);
		while (s->waiters)
			detach_waiter(s, s->waiters);
		close_context(s->wk, waiters_done);
		free(s);
	}
	(void)env;
	free(state);
}

static pthread_once_t signal_once = PTHREAD_ONCE_INIT;

static void install_cancel_signal(void)
{
	struct sigaction action;
	memset(&action, 0, sizeof(action));
	action.sa_handler = cancel_signal_handler;
	sigemptyset(&action.sa_mask);
	action.sa_flags = 0; /* no SA_RESTART: the ioctl must return -EINTR */
	sigaction(WK_CANCEL_SIGNAL, &action, NULL);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */)
{
	struct addon_state *state = calloc(1, sizeof(*state));
	napi_value name;

	if (!state)
		return NULL;
	state->next_free_hint = 1;
	state->env = env;
	pthread_once(&signal_once, install_cancel_signal);
	napi_create_string_utf8(env, "winekernel.lockWait", NAPI_AUTO_LENGTH, &name);
	if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, state, settle_waiter,
					    &state->settle) != napi_ok) {
		free(state);
		return NULL;
	}
	napi_unref_threadsafe_function(env, state->settle);
	napi_set_instance_data(env, state, finalize_state, NULL);

	napi_property_descriptor functions[] = {
#define FN(js, c) { js, NULL, c, NULL, NULL, NULL, napi_enumerable, state }
		FN("sessionOpen", session_open),
		FN("sessionClose", session_close),
		FN("sessionId", session_id),
		FN("setScratch", set_scratch),
		FN("attach", attach),
		FN("instanceSetacl", instance_setacl),
		FN("create", create),
		FN("open", open_object),
		FN("close", close_object),
		FN("unlink", unlink_object),
		FN("namesize", namesize),
		FN("getname", getname),
		FN("size", size),
		FN("getdata", getdata),
		FN("setdata", setdata),
		FN("lock", lock_now),
		FN("lockWait", lock_wait),
		FN("unlock", unlock),
		FN("setacl", setacl),
		FN("getacl", getacl),
		FN("attachFile", attach_file),
		FN("getFile", get_file),
		FN("list", list),
		FN("registerServer", register_server),
		FN("readEvents", read_events),
		FN("watch", watch),
		FN("unwatch", unwatch),
		FN("nop", nop),
		FN("noop", noop),
		FN("stats", stats),
		FN("dupFd", dup_fd),
		FN("closeFd", close_fd),
#undef FN
	};
	napi_define_properties(env, exports, sizeof(functions) / sizeof(functions[0]), functions);
	return exports;
}
