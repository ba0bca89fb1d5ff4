// SPDX-License-Identifier: GPL-2.0-only
/*
 * Selftests of /dev/winekernel (kselftest style, TAP output).
 *
 * Every test runs in its own child process (so a failing test cannot take
 * the others with it) against its own instance. The last test checks the
 * module's live counters: after everything, nothing may be left.
 *
 *   winekernel_test [-l] [-t NAME]...   list / run only the named tests
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wk_test.h"

#define UNPRIV_UID	1000
#define UNPRIV_GID	1000
#define OTHER_GID	2000

static char kernid_buf[64];

/* A per-test instance name, unique across processes. */
static const char *test_kernid(const char *tag)
{
	snprintf(kernid_buf, sizeof(kernid_buf), "st-%s-%d", tag, getpid());
	return kernid_buf;
}

static struct winekernel *open_or_die(void)
{
	struct winekernel *wk;
	int ret = winekernel_open(&wk);

	if (ret < 0) {
		printf("#   cannot open %s: %s\n", WINEKERNEL_DEVICE_PATH,
		       strerror(-ret));
		exit(1);
	}
	return wk;
}

/* Opens a session attached to kernid (created if needed). */
static struct winekernel *session(const char *kernid)
{
	struct winekernel *wk = open_or_die();
	int ret = winekernel_attach_to_kernel(wk, kernid, WK_ATTACH_CREATE, NULL);

	if (ret < 0) {
		printf("#   attach %s: %s\n", kernid, strerror(-ret));
		exit(1);
	}
	return wk;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int drop_privileges(uid_t uid, gid_t gid, gid_t extra_group)
{
	gid_t groups[1] = { extra_group };

	if (setgroups(extra_group ? 1 : 0, groups) < 0)
		return -errno;
	if (setresgid(gid, gid, gid) < 0)
		return -errno;
	if (setresuid(uid, uid, uid) < 0)
		return -errno;
	return 0;
}

/* Waits for a child; returns its exit status, or 128+signal. */
static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static void noop_handler(int sig)
{
	(void)sig;
}

/* ---- tests ------------------------------------------------------------ */

static int test_unbound_session(void)
{
	struct winekernel *wk = open_or_die();
	struct winekernel_stats st;

	EXPECT_EQ(winekernel_nop(wk), 0);
	EXPECT_EQ(winekernel_stats(wk, &st), 0);
	CHECK(st.sessions >= 1, "sessions %llu", (unsigned long long)st.sessions);
	CHECK(st.instance_objects == 0, "unbound instance counters");
	EXPECT_EQ(winekernel_object_create(wk, "ns:x", NULL, 0), -ENOTCONN);
	EXPECT_EQ(winekernel_object_open(wk, "ns:x"), -ENOTCONN);
	EXPECT_EQ(winekernel_object_close(wk, 1), -ENOTCONN);
	EXPECT_EQ(winekernel_register_server(wk), -ENOTCONN);
	EXPECT_EQ(winekernel_object_list(wk, "ns", NULL, 0, NULL, 0), -ENOTCONN);
	/* Unknown ioctl numbers. */
	EXPECT_EQ(ioctl(winekernel_fd(wk), _IO(WINEKERNEL_IOC_MAGIC, 0x7f)) < 0 ? -errno : 0,
		  -ENOTTY);
	EXPECT_EQ(ioctl(winekernel_fd(wk), _IO('x', 1)) < 0 ? -errno : 0, -ENOTTY);
	winekernel_close(wk);
	return 0;
}

static int test_attach(void)
{
	const char *kid = test_kernid("attach");
	struct winekernel *a = open_or_die(), *b = open_or_die(), *c = open_or_die();
	struct winekernel_limits lim = { 0 };
	struct winekernel_attach_args args;
	char long_id[80];

	EXPECT_EQ(winekernel_attach_to_kernel(a, "", WK_ATTACH_CREATE, NULL), -EINVAL);
	memset(long_id, 'k', 64);
	long_id[64] = 0;
	EXPECT_EQ(winekernel_attach_to_kernel(a, long_id, WK_ATTACH_CREATE, NULL), -EINVAL);
	long_id[63] = 0;	/* 63 bytes is fine, checked below with c */
	EXPECT_EQ(winekernel_attach_to_kernel(a, "a/b", WK_ATTACH_CREATE, NULL), -EINVAL);
	EXPECT_EQ(winekernel_attach_to_kernel(a, kid, 0x80, NULL), -EINVAL);
	EXPECT_EQ(winekernel_attach_to_kernel(a, kid, 0, NULL), -ENOENT);
	lim.max_objects = (1ull << 31) + 1;
	EXPECT_EQ(winekernel_attach_to_kernel(a, kid, WK_ATTACH_CREATE, &lim), -EINVAL);
	memset(&lim, 0, sizeof(lim));
	EXPECT_EQ(winekernel_attach_to_kernel(a, kid, WK_ATTACH_CREATE, &lim), 1);
	CHECK(lim.max_objects == WK_DEFAULT_MAX_OBJECTS &&
	      lim.max_bytes == WK_DEFAULT_MAX_BYTES &&
	      lim.max_object_size == WK_DEFAULT_MAX_OBJECT_SIZE &&
	      lim.max_handles_per_session == WK_DEFAULT_MAX_HANDLES_PER_SESSION,
	      "default limits written back");
	CHECK(winekernel_session_id(a) != 0, "session id");
	EXPECT_EQ(winekernel_attach_to_kernel(a, kid, WK_ATTACH_CREATE, NULL), -EALREADY);
	EXPECT_EQ(winekernel_attach_to_kernel(b, kid, 0, NULL), 0);
	CHECK(winekernel_session_id(b) != winekernel_session_id(a), "distinct ids");
	EXPECT_EQ(winekernel_attach_to_kernel(c, long_id, WK_ATTACH_CREATE, NULL), 1);

	/* Raw ABI: a bad kernid pointer is -EFAULT, a bad args pointer too. */
	struct winekernel *d = open_or_die();
	memset(&args, 0, sizeof(args));
	args.kernid = 16;
	args.kernid_len = 4;
	EXPECT_EQ(ioctl(winekernel_fd(d), WK_IOC_ATTACH, &args) < 0 ? -errno : 0, -EFAULT);
	EXPECT_EQ(ioctl(winekernel_fd(d), WK_IOC_ATTACH, (void *)8) < 0 ? -errno : 0, -EFAULT);
	winekernel_close(d);
	winekernel_close(a);
	winekernel_close(b);
	winekernel_close(c);
	return 0;
}

static int test_create_open_close(void)
{
	struct winekernel *wk = session(test_kernid("create"));
	char name[1100], buf[16];
	int h1, h2, h3, created = -1;

	h1 = EXPECT_OK(winekernel_object_create(wk, "ns:a", "hello", 5));
	EXPECT_EQ(h1, 1);
	EXPECT_EQ(winekernel_object_create(wk, "ns:a", NULL, 0), -EEXIST);
	h2 = EXPECT_OK(winekernel_object_create_ex(wk, "ns:a", "zz", 2,
						   WK_CREATE_OPEN_EXISTING, &created));
	EXPECT_EQ(created, 0);
	EXPECT_EQ(winekernel_object_getdata(wk, h2, buf, sizeof(buf)), 5);
	CHECK(!memcmp(buf, "hello", 5), "data of the existing object");
	h3 = EXPECT_OK(winekernel_object_open(wk, "ns:a"));
	EXPECT_EQ(h3, 3);
	EXPECT_EQ(winekernel_object_open(wk, "ns:nope"), -ENOENT);
	EXPECT_EQ(winekernel_object_create_ex(wk, "ns:b", NULL, 0, 0x100, NULL), -EINVAL);

	/* Lowest free handle first. */
	EXPECT_EQ(winekernel_object_close(wk, h2), 0);
	EXPECT_EQ(winekernel_object_close(wk, h2), -EBADF);
	EXPECT_EQ(winekernel_object_close(wk, 0), -EBADF);
	EXPECT_EQ(winekernel_object_close(wk, 999999), -EBADF);
	EXPECT_EQ(winekernel_object_create_ex(wk, "ns:b", NULL, 0, 0, &created), 2);
	EXPECT_EQ(created, 1);

	/* Name validation. */
	EXPECT_EQ(winekernel_object_create(wk, "", NULL, 0), -EINVAL);
	EXPECT_EQ(winekernel_object_create(wk, ":x", NULL, 0), -EINVAL);
	EXPECT_EQ(winekernel_object_create(wk, "ns:", NULL, 0), -EINVAL);
	EXPECT_EQ(winekernel_object_create(wk, "n s:x", NULL, 0), -EINVAL);
	EXPECT_EQ(winekernel_object_create(wk, "n/s:x", NULL, 0), -EINVAL);
	EXPECT_EQ(winekernel_object_open(wk, "ns"), -EINVAL);
	memset(name, 'n', 64);
	strcpy(name + 64, ":x");
	EXPECT_EQ(winekernel_object_create(wk, name, NULL, 0), -EINVAL);
	/* ':' and '\' are fine after the first ':'; names are bytes. */
	EXPECT_OK(winekernel_object_create(wk, "reg:\\Machine\\A:B", NULL, 0));
	EXPECT_OK(winekernel_object_create(wk, "ns:A", NULL, 0));
	EXPECT_OK(winekernel_object_open(wk, "ns:A"));
	EXPECT_EQ(winekernel_object_open(wk, "NS:A"), -ENOENT);
	/* 1023 bytes is the longest full name. */
	memset(name, 'x', sizeof(name));
	memcpy(name, "ns:", 3);
	name[1023] = 0;
	EXPECT_OK(winekernel_object_create(wk, name, NULL, 0));
	EXPECT_EQ(winekernel_object_namesize(wk, EXPECT_OK(winekernel_object_open(wk, name))), 1023);
	name[1023] = 'x';
	name[1024] = 0;
	EXPECT_EQ(winekernel_object_create(wk, name, NULL, 0), -ENAMETOOLONG);
	EXPECT_EQ(winekernel_object_open(wk, name), -ENAMETOOLONG);

	/* Raw ABI: embedded NUL, bad pointers, nonzero padding. */
	struct winekernel_create_args ca;
	memset(&ca, 0, sizeof(ca));
	ca.name = (uintptr_t)"ns:a\0b";
	ca.name_len = 6;
	EXPECT_EQ(ioctl(winekernel_fd(wk), WK_IOC_CREATE, &ca) < 0 ? -errno : 0, -EINVAL);
	ca.name = 8;
	ca.name_len = 5;
	EXPECT_EQ(ioctl(winekernel_fd(wk), WK_IOC_CREATE, &ca) < 0 ? -errno : 0, -EFAULT);
	ca.name = (uintptr_t)"ns:data";
	ca.name_len = 7;
	ca.data = 8;
	ca.size = 10;
	EXPECT_EQ(ioctl(winekernel_fd(wk), WK_IOC_CREATE, &ca) < 0 ? -errno : 0, -EFAULT);
	EXPECT_EQ(winekernel_object_open(wk, "ns:data"), -ENOENT);
	struct winekernel_close_args cl = { .handle = 1, .__pad = 1 };
	EXPECT_EQ(ioctl(winekernel_fd(wk), WK_IOC_CLOSE, &cl) < 0 ? -errno : 0, -EINVAL);
	winekernel_close(wk);
	return 0;
}

static int test_autoname(void)
{
	struct winekernel *wk = session(test_kernid("autoname"));
	char name[64];
	int h;

	h = EXPECT_OK(winekernel_object_create(wk, "window", NULL, 0));
	EXPECT_EQ(winekernel_object_getname(wk, h, name, sizeof(name)), 15);
	CHECK(!strcmp(name, "window:00000020"), "got %s", name);
	h = EXPECT_OK(winekernel_object_create(wk, "window", NULL, 0));
	EXPECT_EQ(winekernel_object_getname(wk, h, name, sizeof(name)), 15);
	CHECK(!strcmp(name, "window:00000021"), "got %s", name);
	/* Names in use are skipped; the counter is per instance. */
	EXPECT_OK(winekernel_object_create(wk, "atom:00000022", NULL, 0));
	h = EXPECT_OK(winekernel_object_create(wk, "atom", NULL, 0));
	EXPECT_OK(winekernel_object_getname(wk, h, name, sizeof(name)));
	CHECK(!strcmp(name, "atom:00000023"), "got %s", name);
	EXPECT_OK(winekernel_object_open(wk, "window:00000021"));
	EXPECT_EQ(winekernel_object_create(wk, "bad ns", NULL, 0), -EINVAL);
	winekernel_close(wk);
	return 0;
}

static int test_names(void)
{
	struct winekernel *wk = session(test_kernid("names"));
	char buf[32];
	int h;

	const char *full = "event:\\BaseNamedObjects\\x";
	int len = (int)strlen(full);

	h = EXPECT_OK(winekernel_object_create(wk, full, NULL, 0));
	EXPECT_EQ(winekernel_object_namesize(wk, h), len);
	EXPECT_EQ(winekernel_object_getname(wk, h, buf, len), -ERANGE);
	EXPECT_EQ(winekernel_object_getname(wk, h, buf, 0), -ERANGE);
	EXPECT_EQ(winekernel_object_getname(wk, h, buf, len + 1), len);
	CHECK(!strcmp(buf, full), "got %s", buf);
	EXPECT_EQ(winekernel_object_getname(wk, h, (char *)8, len + 1), -EFAULT);
	EXPECT_EQ(winekernel_object_namesize(wk, 77), -EBADF);
	winekernel_close(wk);
	return 0;
}

static int test_data(void)
{
	struct winekernel_limits lim = { .max_object_size = 4096 };
	struct winekernel *wk = open_or_die();
	char buf[8192];
	int h, i;

	EXPECT_EQ(winekernel_attach_to_kernel(wk, test_kernid("data"), WK_ATTACH_CREATE, &lim), 1);
	h = EXPECT_OK(winekernel_object_create(wk, "d:x", "0123456789", 10));
	EXPECT_EQ(winekernel_object_size(wk, h), 10);
	EXPECT_EQ(winekernel_object_getdata_ex(wk, h, buf, 4, 3, 0), 4);
	CHECK(!memcmp(buf, "3456", 4), "offset read");
	EXPECT_EQ(winekernel_object_getdata_ex(wk, h, buf, 100, 8, 0), 2);
	EXPECT_EQ(winekernel_object_getdata_ex(wk, h, buf, 100, 10, 0), 0);
	EXPECT_EQ(winekernel_object_getdata_ex(wk, h, buf, 100, 1ull << 62, 0), 0);
	EXPECT_EQ(winekernel_object_getdata_ex(wk, h, buf, 100, 0, 1), -EINVAL);
	/* Overwrite inside, then grow with a gap that reads as zeros. */
	EXPECT_EQ(winekernel_object_setdata(wk, h, "AB", 2, 1), 10);
	EXPECT_EQ(winekernel_object_setdata(wk, h, "Z", 1, 20), 21);
	EXPECT_EQ(winekernel_object_getdata(wk, h, buf, sizeof(buf)), 21);
	CHECK(!memcmp(buf, "0AB3456789", 10), "overwrite");
	for (i = 10; i < 20; i++)
		CHECK(buf[i] == 0, "gap byte %d is %d", i, buf[i]);
	CHECK(buf[20] == 'Z', "tail");
	/* Truncate: the size becomes offset + len exactly. */
	EXPECT_EQ(winekernel_object_setdata_ex(wk, h, "q", 1, 2, WK_SETDATA_TRUNCATE), 3);
	EXPECT_EQ(winekernel_object_getdata(wk, h, buf, sizeof(buf)), 3);
	CHECK(!memcmp(buf, "0Aq", 3), "truncate");
	EXPECT_EQ(winekernel_object_setdata_ex(wk, h, NULL, 0, 0, WK_SETDATA_TRUNCATE), 0);
	EXPECT_EQ(winekernel_object_size(wk, h), 0);
	/* Growing after a shrink must not resurrect old bytes. */
	EXPECT_EQ(winekernel_object_setdata(wk, h, "E", 1, 5), 6);
	EXPECT_EQ(winekernel_object_getdata(wk, h, buf, sizeof(buf)), 6);
	CHECK(!memcmp(buf, "\0\0\0\0\0E", 6), "zero gap after shrink");
	EXPECT_EQ(winekernel_object_setdata_ex(wk, h, "x", 1, 0, 2), -EINVAL);
	/* The per-object limit. */
	memset(buf, 'b', sizeof(buf));
	EXPECT_EQ(winekernel_object_setdata(wk, h, buf, 4096, 0), 4096);
	EXPECT_EQ(winekernel_object_setdata(wk, h, buf, 1, 4096), -EFBIG);
	EXPECT_EQ(winekernel_object_setdata(wk, h, buf, 4097, 0), -EFBIG);
	EXPECT_EQ(winekernel_object_setdata(wk, h, buf, 1, ~0ull), -EFBIG);
	EXPECT_EQ(winekernel_object_create(wk, "d:big", buf, 4097), -EFBIG);
	/* Bad buffers fail cleanly and change nothing. */
	EXPECT_EQ(winekernel_object_setdata(wk, h, (void *)8, 10, 0), -EFAULT);
	EXPECT_EQ(winekernel_object_getdata(wk, h, (void *)8, 10), -EFAULT);
	EXPECT_EQ(winekernel_object_size(wk, h), 4096);
	EXPECT_EQ(winekernel_object_getdata(wk, 12345, buf, 1), -EBADF);
	/* Large data goes through the heap path. */
	h = EXPECT_OK(winekernel_object_create(wk, "d:large", buf, 3000));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(winekernel_object_getdata(wk, h, buf, sizeof(buf)), 3000);
	CHECK(buf[0] == 'b' && buf[2999] == 'b' && buf[3000] == 0, "large read");
	winekernel_close(wk);
	return 0;
}

static int test_unlink_permanent(void)
{
	const char *kid = test_kernid("unlink");
	struct winekernel *wk = session(kid);
	struct winekernel_stats st;
	char buf[8];
	int h, h2;

	h = EXPECT_OK(winekernel_object_create(wk, "u:a", "v1", 2));
	EXPECT_EQ(winekernel_object_unlink(wk, h), 0);
	EXPECT_EQ(winekernel_object_open(wk, "u:a"), -ENOENT);
	EXPECT_EQ(winekernel_object_getdata(wk, h, buf, sizeof(buf)), 2);
	EXPECT_EQ(winekernel_object_unlink(wk, h), 0);	/* already unnamed */
	h2 = EXPECT_OK(winekernel_object_create(wk, "u:a", "v2", 2));
	EXPECT_EQ(winekernel_object_getdata(wk, h2, buf, sizeof(buf)), 2);
	CHECK(!memcmp(buf, "v2", 2), "new object");
	EXPECT_EQ(winekernel_object_close(wk, h), 0);
	EXPECT_EQ(winekernel_object_close(wk, h2), 0);
	EXPECT_EQ(winekernel_stats(wk, &st), 0);
	EXPECT_EQ(st.instance_objects, 0);

	/* Permanent: outlives its handles and its sessions. */
	h = EXPECT_OK(winekernel_object_create_ex(wk, "u:perm", "p", 1,
						  WK_CREATE_PERMANENT, NULL));
	EXPECT_EQ(winekernel_object_close(wk, h), 0);
	winekernel_close(wk);
	wk = open_or_die();
	EXPECT_EQ(winekernel_attach_to_kernel(wk, kid, 0, NULL), 0);	/* still there */
	h = EXPECT_OK(winekernel_object_open(wk, "u:perm"));
	EXPECT_EQ(winekernel_object_getdata(wk, h, buf, sizeof(buf)), 1);
	EXPECT_EQ(winekernel_object_unlink(wk, h), 0);
	EXPECT_EQ(winekernel_stats(wk, &st), 0);
	EXPECT_EQ(st.instance_objects, 1);	/* our handle keeps it */
	EXPECT_EQ(winekernel_object_close(wk, h), 0);
	EXPECT_EQ(winekernel_stats(wk, &st), 0);
	EXPECT_EQ(st.instance_objects, 0);
	EXPECT_EQ(st.instance_bytes, 0);
	winekernel_close(wk);
	wk = open_or_die();
	EXPECT_EQ(winekernel_attach_to_kernel(wk, kid, 0, NULL), -ENOENT);
	winekernel_close(wk);
	return 0;
}

struct lock_thread {
	struct winekernel *wk;
	int handle;
	uint32_t flags;
	int64_t timeout;
	int result;
	uint64_t done_ns;
};

static void *lock_thread_fn(void *arg)
{
	struct lock_thread *t = arg;

	t->result = winekernel_object_lockobject_timeout(t->wk, t->handle,
							 t->flags, t->timeout);
	t->done_ns = now_ns();
	return NULL;
}

static int test_locks(void)
{
	const char *kid = test_kernid("locks");
	struct winekernel *a = session(kid), *b = session(kid), *c = session(kid);
	struct lock_thread tx, ts;
	pthread_t thx, ths;
	uint64_t t0;
	int ha, hb, hc, ha2;

	ha = EXPECT_OK(winekernel_object_create(a, "l:x", NULL, 0));
	hb = EXPECT_OK(winekernel_object_open(b, "l:x"));
	hc = EXPECT_OK(winekernel_object_open(c, "l:x"));
	ha2 = EXPECT_OK(winekernel_object_open(a, "l:x"));

	EXPECT_EQ(winekernel_object_lockobject(a, ha, 0), -EINVAL);
	EXPECT_EQ(winekernel_object_lockobject(a, ha, WK_LOCK_SHARED | WK_LOCK_EXCLUSIVE), -EINVAL);
	EXPECT_EQ(winekernel_object_lockobject(a, ha, WK_LOCK_SHARED | 0x100), -EINVAL);
	EXPECT_EQ(winekernel_object_unlock(a, ha), -EPERM);

	/* Shared + shared. */
	EXPECT_EQ(winekernel_object_lockobject(a, ha, WK_LOCK_SHARED), 0);
	EXPECT_EQ(winekernel_object_lockobject(a, ha, WK_LOCK_SHARED), -EDEADLK);
	EXPECT_EQ(winekernel_object_lockobject(b, hb, WK_LOCK_SHARED | WK_LOCK_NONBLOCK), 0);
	EXPECT_EQ(winekernel_object_lockobject(c, hc, WK_LOCK_EXCLUSIVE | WK_LOCK_NONBLOCK), -EAGAIN);
	EXPECT_EQ(winekernel_object_lockobject_timeout(c, hc, WK_LOCK_EXCLUSIVE, 0), -EAGAIN);
	t0 = now_ns();
	EXPECT_EQ(winekernel_object_lockobject_timeout(c, hc, WK_LOCK_EXCLUSIVE, 50000000), -ETIMEDOUT);
	CHECK(now_ns() - t0 >= 50000000, "timeout too early: %llu ns",
	      (unsigned long long)(now_ns() - t0));
	/* Same session, another handle: a separate holder. */
	EXPECT_EQ(winekernel_object_lockobject(a, ha2, WK_LOCK_EXCLUSIVE | WK_LOCK_NONBLOCK), -EAGAIN);
	EXPECT_EQ(winekernel_object_unlock(a, ha), 0);
	EXPECT_EQ(winekernel_object_unlock(a, ha), -EPERM);
	EXPECT_EQ(winekernel_object_unlock(b, hb), 0);

	/* FIFO: a waiting exclusive taker blocks a later shared one. */
	EXPECT_EQ(winekernel_object_lockobject(a, ha, WK_LOCK_SHARED), 0);
	tx = (struct lock_thread){ .wk = c, .handle = hc, .flags = WK_LOCK_EXCLUSIVE, .timeout = -1 };
	pthread_create(&thx, NULL, lock_thread_fn, &tx);
	usleep(100000);
	EXPECT_EQ(winekernel_object_lockobject(b, hb, WK_LOCK_SHARED | WK_LOCK_NONBLOCK), -EAGAIN);
	ts = (struct lock_thread){ .wk = b, .handle = hb, .flags = WK_LOCK_SHARED, .timeout = -1 };
	pthread_create(&ths, NULL, lock_thread_fn, &ts);
	usleep(100000);
	t0 = now_ns();
	EXPECT_EQ(winekernel_object_unlock(a, ha), 0);
	pthread_join(thx, NULL);
	EXPECT_EQ(tx.result, 0);
	usleep(50000);
	EXPECT_EQ(winekernel_object_unlock(c, hc), 0);
	pthread_join(ths, NULL);
	EXPECT_EQ(ts.result, 0);
	CHECK(ts.done_ns > tx.done_ns, "shared taker served before the exclusive one");
	EXPECT_EQ(winekernel_object_unlock(b, hb), 0);

	/* Closing a handle that holds the exclusive lock abandons it. */
	EXPECT_EQ(winekernel_object_lockobject(a, ha2, WK_LOCK_EXCLUSIVE), 0);
	tx = (struct lock_thread){ .wk = b, .handle = hb, .flags = WK_LOCK_SHARED, .timeout = -1 };
	pthread_create(&thx, NULL, lock_thread_fn, &tx);
	usleep(50000);
	EXPECT_EQ(winekernel_object_close(a, ha2), 0);
	pthread_join(thx, NULL);
	EXPECT_EQ(tx.result, -EOWNERDEAD);
	EXPECT_EQ(winekernel_object_unlock(b, hb), 0);
	/* Reported once. */
	EXPECT_EQ(winekernel_object_lockobject(c, hc, WK_LOCK_EXCLUSIVE), 0);
	EXPECT_EQ(winekernel_object_unlock(c, hc), 0);
	/* A shared holder closing is not an abandonment. */
	ha2 = EXPECT_OK(winekernel_object_open(a, "l:x"));
	EXPECT_EQ(winekernel_object_lockobject(a, ha2, WK_LOCK_SHARED), 0);
	EXPECT_EQ(winekernel_object_close(a, ha2), 0);
	EXPECT_EQ(winekernel_object_lockobject(c, hc, WK_LOCK_EXCLUSIVE | WK_LOCK_NONBLOCK), 0);

	/* Closing a handle another thread waits on cancels the wait. */
	tx = (struct lock_thread){ .wk = b, .handle = hb, .flags = WK_LOCK_SHARED, .timeout = -1 };
	pthread_create(&thx, NULL, lock_thread_fn, &tx);
	usleep(50000);
	EXPECT_EQ(winekernel_object_close(b, hb), 0);
	pthread_join(thx, NULL);
	EXPECT_EQ(tx.result, -EBADF);
	EXPECT_EQ(winekernel_object_unlock(c, hc), 0);

	/* A signal interrupts a wait with -EINTR (no restart). */
	struct sigaction sa = { .sa_handler = noop_handler };
	sigaction(SIGALRM, &sa, NULL);
	EXPECT_EQ(winekernel_object_lockobject(c, hc, WK_LOCK_EXCLUSIVE), 0);
	struct itimerval it = { .it_value = { .tv_usec = 50000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	EXPECT_EQ(winekernel_object_lockobject(a, ha, WK_LOCK_SHARED), -EINTR);
	EXPECT_EQ(winekernel_object_lockobject(a, ha, WK_LOCK_SHARED | WK_LOCK_NONBLOCK), -EAGAIN);
	EXPECT_EQ(winekernel_object_unlock(c, hc), 0);
	EXPECT_EQ(winekernel_object_lockobject(a, ha, WK_LOCK_SHARED), 0);
	winekernel_close(a);
	winekernel_close(b);
	winekernel_close(c);
	return 0;
}

static int test_lock_sigkill(void)
{
	const char *kid = test_kernid("sigkill");
	struct winekernel *wk = session(kid);
	int h, pipefd[2];
	pid_t pid;
	char c;

	h = EXPECT_OK(winekernel_object_create(wk, "k:x", NULL, 0));
	CHECK(pipe(pipefd) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		struct winekernel *child = open_or_die();
		int ch;

		if (winekernel_attach_to_kernel(child, kid, 0, NULL) < 0)
			_exit(2);
		ch = winekernel_object_open(child, "k:x");
		if (ch < 0 || winekernel_object_lockobject(child, ch, WK_LOCK_EXCLUSIVE))
			_exit(3);
		if (write(pipefd[1], "L", 1) != 1)
			_exit(4);
		pause();
		_exit(0);
	}
	CHECK(read(pipefd[0], &c, 1) == 1, "child locked");
	EXPECT_EQ(winekernel_object_lockobject(wk, h, WK_LOCK_SHARED | WK_LOCK_NONBLOCK), -EAGAIN);
	kill(pid, SIGKILL);
	EXPECT_EQ(wait_child(pid), 128 + SIGKILL);
	EXPECT_EQ(winekernel_object_lockobject(wk, h, WK_LOCK_EXCLUSIVE), -EOWNERDEAD);
	EXPECT_EQ(winekernel_object_unlock(wk, h), 0);
	EXPECT_EQ(winekernel_object_lockobject(wk, h, WK_LOCK_EXCLUSIVE), 0);
	EXPECT_EQ(winekernel_object_unlock(wk, h), 0);

	/* Killed while waiting: the waiter leaves the queue. */
	EXPECT_EQ(winekernel_object_lockobject(wk, h, WK_LOCK_EXCLUSIVE), 0);
	pid = fork();
	if (pid == 0) {
		struct winekernel *child = open_or_die();
		int ch;

		if (winekernel_attach_to_kernel(child, kid, 0, NULL) < 0)
			_exit(2);
		ch = winekernel_object_open(child, "k:x");
		if (write(pipefd[1], "W", 1) != 1)
			_exit(4);
		winekernel_object_lockobject(child, ch, WK_LOCK_EXCLUSIVE);
		_exit(5);
	}
	CHECK(read(pipefd[0], &c, 1) == 1, "child waiting");
	usleep(100000);
	kill(pid, SIGKILL);
	EXPECT_EQ(wait_child(pid), 128 + SIGKILL);
	EXPECT_EQ(winekernel_object_unlock(wk, h), 0);
	EXPECT_EQ(winekernel_object_lockobject(wk, h, WK_LOCK_EXCLUSIVE | WK_LOCK_NONBLOCK), 0);
	EXPECT_EQ(winekernel_object_unlock(wk, h), 0);

	/* Plain close of the session: same as a crash. */
	struct winekernel *other = session(kid);
	int ho = EXPECT_OK(winekernel_object_open(other, "k:x"));
	EXPECT_EQ(winekernel_object_lockobject(other, ho, WK_LOCK_EXCLUSIVE), 0);
	winekernel_close(other);
	EXPECT_EQ(winekernel_object_lockobject(wk, h, WK_LOCK_SHARED), -EOWNERDEAD);
	EXPECT_EQ(winekernel_object_unlock(wk, h), 0);
	winekernel_close(wk);
	return 0;
}

static int check_acl_equal(const struct winekernel_ace *a,
			   const struct winekernel_ace *b, int n)
{
	return !memcmp(a, b, n * sizeof(*a));
}

static int test_acl_calls(void)
{
	struct winekernel *wk = session(test_kernid("acl"));
	struct winekernel_ace acl[WK_ACL_MAX_ENTRIES + 1], out[WK_ACL_MAX_ENTRIES];
	int h, i;

	h = EXPECT_OK(winekernel_object_create(wk, "a:x", NULL, 0));
	EXPECT_EQ(winekernel_object_getacl(wk, h, out, WK_ACL_MAX_ENTRIES), 1);
	CHECK(out[0].type == WK_ACE_ALLOW && out[0].who == WK_WHO_OWNER &&
	      out[0].rights == WK_RIGHTS_OBJECT_MASK, "default ACL");
	EXPECT_EQ(winekernel_object_getacl(wk, h, out, 0), -ERANGE);

	acl[0] = (struct winekernel_ace){ WK_ACE_DENY, WK_WHO_USER, 1234, WK_RIGHT_WRITE };
	acl[1] = (struct winekernel_ace){ WK_ACE_ALLOW, WK_WHO_GROUP, 55, WK_RIGHT_READ };
	acl[2] = (struct winekernel_ace){ WK_ACE_ALLOW, WK_WHO_EVERYONE, 0, WK_RIGHT_LOCK };
	EXPECT_EQ(winekernel_object_setacl(wk, h, acl, 3), 0);
	EXPECT_EQ(winekernel_object_getacl(wk, h, out, WK_ACL_MAX_ENTRIES), 3);
	CHECK(check_acl_equal(acl, out, 3), "round trip");
	EXPECT_EQ(winekernel_object_getacl(wk, h, out, 2), -ERANGE);
	/* The owner keeps READ_ACL/WRITE_ACL but not READ without an entry. */
	EXPECT_EQ(winekernel_object_getdata(wk, h, out, 1), -EACCES);
	EXPECT_EQ(winekernel_object_setdata(wk, h, "x", 1, 0), -EACCES);
	EXPECT_EQ(winekernel_object_lockobject(wk, h, WK_LOCK_SHARED), 0);
	EXPECT_EQ(winekernel_object_unlock(wk, h), 0);
	EXPECT_EQ(winekernel_object_unlink(wk, h), -EACCES);

	for (i = 0; i < WK_ACL_MAX_ENTRIES + 1; i++)
		acl[i] = (struct winekernel_ace){ WK_ACE_ALLOW, WK_WHO_OWNER, 0, WK_RIGHT_READ };
	EXPECT_EQ(winekernel_object_setacl(wk, h, acl, WK_ACL_MAX_ENTRIES + 1), -E2BIG);
	EXPECT_EQ(winekernel_object_setacl(wk, h, acl, WK_ACL_MAX_ENTRIES), 0);
	EXPECT_EQ(winekernel_object_getacl(wk, h, out, WK_ACL_MAX_ENTRIES), WK_ACL_MAX_ENTRIES);
	acl[0].type = 3;
	EXPECT_EQ(winekernel_object_setacl(wk, h, acl, 1), -EINVAL);
	acl[0].type = WK_ACE_ALLOW;
	acl[0].who = 0;
	EXPECT_EQ(winekernel_object_setacl(wk, h, acl, 1), -EINVAL);
	acl[0].who = WK_WHO_EVERYONE;
	acl[0].rights = WK_RIGHT_ATTACH;	/* instance-only right */
	EXPECT_EQ(winekernel_object_setacl(wk, h, acl, 1), -EINVAL);
	acl[0].rights = 0x10000;
	EXPECT_EQ(winekernel_object_setacl(wk, h, acl, 1), -EINVAL);
	EXPECT_EQ(winekernel_object_setacl(wk, h, (void *)8, 1), -EFAULT);
	EXPECT_EQ(winekernel_object_getacl(wk, h, (void *)8, 64), -EFAULT);
	/* An empty ACL denies everything but the owner's implicit rights. */
	EXPECT_EQ(winekernel_object_setacl(wk, h, NULL, 0), 0);
	EXPECT_EQ(winekernel_object_getacl(wk, h, out, 1), 0);
	EXPECT_EQ(winekernel_object_size(wk, h), -EACCES);
	/* Bad instance ACLs. */
	acl[0] = (struct winekernel_ace){ WK_ACE_ALLOW, WK_WHO_OWNER, 0, WK_RIGHT_ATTACH };
	EXPECT_EQ(winekernel_instance_setacl(wk, acl, 1), 0);
	acl[0].rights = 0x200;
	EXPECT_EQ(winekernel_instance_setacl(wk, acl, 1), -EINVAL);
	EXPECT_EQ(winekernel_instance_setacl(wk, acl, 65), -E2BIG);
	winekernel_close(wk);
	return 0;
}

/* Runs fn in a child that has dropped to UNPRIV_UID; returns its result. */
static int as_other_user(int (*fn)(const char *), const char *kid, gid_t extra)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (drop_privileges(UNPRIV_UID, UNPRIV_GID, extra) < 0)
			_exit(90);
		_exit(fn(kid));
	}
	return wait_child(pid);
}

static int other_attach_denied(const char *kid)
{
	struct winekernel *wk = open_or_die();

	EXPECT_EQ(winekernel_attach_to_kernel(wk, kid, 0, NULL), -EACCES);
	EXPECT_EQ(winekernel_attach_to_kernel(wk, kid, WK_ATTACH_CREATE, NULL), -EACCES);
	winekernel_close(wk);
	return 0;
}

static int other_uses_objects(const char *kid)
{
	struct winekernel_ace acl[1] = { { WK_ACE_ALLOW, WK_WHO_EVERYONE, 0, WK_RIGHT_ATTACH } };
	struct winekernel *wk = open_or_die();
	char buf[8];
	int h, hg, hd;

	EXPECT_EQ(winekernel_attach_to_kernel(wk, kid, 0, NULL), 0);
	EXPECT_EQ(winekernel_instance_setacl(wk, acl, 1), -EPERM);
	/* open needs no right; each call checks its own. */
	h = EXPECT_OK(winekernel_object_open(wk, "o:user"));
	EXPECT_EQ(winekernel_object_getdata(wk, h, buf, sizeof(buf)), 3);
	EXPECT_EQ(winekernel_object_setdata(wk, h, "x", 1, 0), -EACCES);
	EXPECT_EQ(winekernel_object_unlink(wk, h), -EACCES);
	EXPECT_EQ(winekernel_object_getacl(wk, h, acl, 1), -EACCES);
	EXPECT_EQ(winekernel_object_setacl(wk, h, acl, 1), -EACCES);
	EXPECT_EQ(winekernel_object_lockobject(wk, h, WK_LOCK_SHARED), -EACCES);
	hg = EXPECT_OK(winekernel_object_open(wk, "o:group"));
	EXPECT_EQ(winekernel_object_setdata(wk, hg, "g", 1, 0), 3);
	EXPECT_EQ(winekernel_object_size(wk, hg), -EACCES);
	hd = EXPECT_OK(winekernel_object_open(wk, "o:denied"));
	EXPECT_EQ(winekernel_object_getdata(wk, hd, buf, sizeof(buf)), -EACCES);
	EXPECT_EQ(winekernel_object_lockobject(wk, hd, WK_LOCK_EXCLUSIVE), 0);
	EXPECT_EQ(winekernel_object_get_native_file(wk, hd), -EACCES);
	EXPECT_EQ(winekernel_object_attach_native_file(wk, hd, 0), -EACCES);
	/* Objects we create are ours: the owner entry matches us. */
	h = EXPECT_OK(winekernel_object_create(wk, "o:mine", "m", 1));
	EXPECT_EQ(winekernel_object_getdata(wk, h, buf, sizeof(buf)), 1);
	winekernel_close(wk);
	return 0;
}

static int test_acl_two_users(void)
{
	const char *kid = test_kernid("users");
	struct winekernel *wk = session(kid);
	struct winekernel_ace acl[3];
	int h;

	/* The default instance ACL admits only the owner. */
	EXPECT_EQ(as_other_user(other_attach_denied, kid, 0), 0);

	acl[0] = (struct winekernel_ace){ WK_ACE_ALLOW, WK_WHO_USER, UNPRIV_UID, WK_RIGHT_ATTACH };
	EXPECT_EQ(winekernel_instance_setacl(wk, acl, 1), 0);

	h = EXPECT_OK(winekernel_object_create(wk, "o:user", "abc", 3));
	acl[0] = (struct winekernel_ace){ WK_ACE_ALLOW, WK_WHO_USER, UNPRIV_UID, WK_RIGHT_READ };
	EXPECT_EQ(winekernel_object_setacl(wk, h, acl, 1), 0);
	h = EXPECT_OK(winekernel_object_create(wk, "o:group", "ggg", 3));
	acl[0] = (struct winekernel_ace){ WK_ACE_ALLOW, WK_WHO_GROUP, OTHER_GID, WK_RIGHT_WRITE };
	acl[1] = (struct winekernel_ace){ WK_ACE_ALLOW, WK_WHO_OWNER, 0, WK_RIGHTS_OBJECT_MASK };
	EXPECT_EQ(winekernel_object_setacl(wk, h, acl, 2), 0);
	h = EXPECT_OK(winekernel_object_create(wk, "o:denied", "ddd", 3));
	/* First matching entry decides: DENY READ beats a later ALLOW READ. */
	acl[0] = (struct winekernel_ace){ WK_ACE_DENY, WK_WHO_USER, UNPRIV_UID,
					  WK_RIGHT_READ | WK_RIGHT_GET_FILE };
	acl[1] = (struct winekernel_ace){ WK_ACE_ALLOW, WK_WHO_EVERYONE, 0,
					  WK_RIGHT_READ | WK_RIGHT_LOCK };
	EXPECT_EQ(winekernel_object_setacl(wk, h, acl, 2), 0);
	EXPECT_EQ(as_other_user(other_uses_objects, kid, OTHER_GID), 0);
	winekernel_close(wk);
	return 0;
}

static int test_instances(void)
{
	char kid_a[64], kid_b[64], buf[8];
	struct winekernel *a, *b;
	int h;

	snprintf(kid_a, sizeof(kid_a), "st-iso-a-%d", getpid());
	snprintf(kid_b, sizeof(kid_b), "st-iso-b-%d", getpid());
	a = session(kid_a);
	b = session(kid_b);
	EXPECT_OK(winekernel_object_create(a, "n:same", "A", 1));
	EXPECT_EQ(winekernel_object_open(b, "n:same"), -ENOENT);
	h = EXPECT_OK(winekernel_object_create(b, "n:same", "B", 1));
	EXPECT_EQ(winekernel_object_getdata(b, h, buf, sizeof(buf)), 1);
	CHECK(buf[0] == 'B', "instance b data");
	/* Handles are per session: b's handle 1 is not a's handle 1. */
	EXPECT_EQ(winekernel_object_getdata(a, 1, buf, sizeof(buf)), 1);
	CHECK(buf[0] == 'A', "instance a data");
	EXPECT_EQ(winekernel_object_getdata(a, 2, buf, sizeof(buf)), -EBADF);
	winekernel_close(a);
	winekernel_close(b);
	return 0;
}

static int test_native_file(void)
{
	struct winekernel *wk = session(test_kernid("file"));
	int h, pipefd[2], fd, fd2;
	char buf[8];

	h = EXPECT_OK(winekernel_object_create(wk, "f:pipe", NULL, 0));
	EXPECT_EQ(winekernel_object_get_native_file(wk, h), -ENOENT);
	CHECK(pipe(pipefd) == 0, "pipe");
	EXPECT_EQ(winekernel_object_attach_native_file(wk, h, 1000000), -EBADF);
	EXPECT_EQ(winekernel_object_attach_native_file(wk, h, -1), -EBADF);
	EXPECT_EQ(winekernel_object_attach_native_file(wk, h, winekernel_fd(wk)), -EINVAL);
	EXPECT_EQ(winekernel_object_attach_native_file(wk, h, pipefd[0]), 0);
	EXPECT_EQ(winekernel_object_attach_native_file(wk, h, pipefd[1]), 0);	/* replaces */
	close(pipefd[1]);	/* the object keeps the write end open */
	fd = EXPECT_OK(winekernel_object_get_native_file(wk, h));
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC, "close-on-exec");
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY, "write end");
	CHECK(write(fd, "hi", 2) == 2, "write through the object's file");
	CHECK(read(pipefd[0], buf, 2) == 2 && !memcmp(buf, "hi", 2), "read back");
	/* The same open file description: status flags are shared. */
	fd2 = EXPECT_OK(winekernel_object_get_native_file(wk, h));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	CHECK(fcntl(fd2, F_GETFL) & O_NONBLOCK, "shared open file description");
	close(fd);
	close(fd2);
	struct winekernel_get_file_args ga = { .handle = (uint32_t)h };
	EXPECT_EQ(ioctl(winekernel_fd(wk), WK_IOC_GET_FILE, (void *)8) < 0 ? -errno : 0, -EFAULT);
	ga.flags = 1;
	EXPECT_EQ(ioctl(winekernel_fd(wk), WK_IOC_GET_FILE, &ga) < 0 ? -errno : 0, -EINVAL);
	/* Closing the object drops the file: the pipe sees EOF. */
	EXPECT_EQ(winekernel_object_close(wk, h), 0);
	CHECK(read(pipefd[0], buf, 1) == 0, "EOF once the object is gone");
	close(pipefd[0]);
	winekernel_close(wk);
	return 0;
}

static int test_list(void)
{
	struct winekernel *wk = session(test_kernid("list"));
	char buf[256];
	size_t need = 0;

	EXPECT_EQ(winekernel_object_list(wk, "ns", buf, sizeof(buf), &need, 0), 0);
	EXPECT_EQ(need, 0);
	EXPECT_OK(winekernel_object_create(wk, "ns:b", NULL, 0));
	EXPECT_OK(winekernel_object_create(wk, "ns:a", NULL, 0));
	EXPECT_OK(winekernel_object_create(wk, "ns:ab", NULL, 0));
	EXPECT_OK(winekernel_object_create(wk, "ns:B", NULL, 0));
	EXPECT_OK(winekernel_object_create(wk, "zz:q", NULL, 0));
	EXPECT_OK(winekernel_object_create(wk, "aa:q", NULL, 0));
	EXPECT_EQ(winekernel_object_list(wk, "ns", buf, sizeof(buf), &need, 0), 4);
	EXPECT_EQ(need, 9);
	CHECK(!memcmp(buf, "B\0a\0ab\0b\0", 9), "sorted bytewise");
	EXPECT_EQ(winekernel_object_list(wk, "ns", buf, 8, &need, 0), -ERANGE);
	EXPECT_EQ(need, 9);
	EXPECT_EQ(winekernel_object_list(wk, "ns", NULL, 0, &need, 0), -ERANGE);
	EXPECT_EQ(winekernel_object_list_ex(wk, "ns", buf, sizeof(buf), &need, 0, 2), 2);
	EXPECT_EQ(need, 5);
	CHECK(!memcmp(buf, "ab\0b\0", 5), "from start=2");
	EXPECT_EQ(winekernel_object_list_ex(wk, "ns", buf, sizeof(buf), &need, 0, 99), 0);
	EXPECT_EQ(winekernel_object_list(wk, NULL, buf, sizeof(buf), &need, WK_LIST_NAMESPACES), 3);
	EXPECT_EQ(need, 9);
	CHECK(!memcmp(buf, "aa\0ns\0zz\0", 9), "namespaces");
	EXPECT_EQ(winekernel_object_list(wk, "n s", buf, sizeof(buf), &need, 0), -EINVAL);
	EXPECT_EQ(winekernel_object_list(wk, "ns", buf, sizeof(buf), &need, 4), -EINVAL);
	EXPECT_EQ(winekernel_object_list(wk, "ns", (char *)8, sizeof(buf), &need, 0), -EFAULT);
	/* Unlinked and closed names leave the listing (and empty namespaces go). */
	EXPECT_EQ(winekernel_object_unlink(wk, EXPECT_OK(winekernel_object_open(wk, "zz:q"))), 0);
	EXPECT_EQ(winekernel_object_list(wk, NULL, buf, sizeof(buf), &need, WK_LIST_NAMESPACES), 2);
	winekernel_close(wk);
	return 0;
}

static int test_server_handoff(void)
{
	const char *kid = test_kernid("server");
	struct winekernel *srv = session(kid), *other = session(kid);
	struct winekernel_event ev[8];
	struct pollfd pfd;
	int hp, pipefd[2];
	char name[64];
	pid_t pid;
	char c;

	EXPECT_EQ(winekernel_read_events(srv, ev, 8), 0);
	EXPECT_EQ(winekernel_read_events(srv, ev, 0), -EINVAL);
	EXPECT_EQ(winekernel_register_server(srv), 0);
	EXPECT_EQ(winekernel_register_server(srv), 0);	/* idempotent */
	EXPECT_EQ(winekernel_register_server(other), -EBUSY);
	pfd = (struct pollfd){ .fd = winekernel_fd(srv), .events = POLLIN };
	EXPECT_EQ(poll(&pfd, 1, 0), 0);

	CHECK(pipe(pipefd) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		struct winekernel *wk = open_or_die();

		if (winekernel_attach_to_kernel(wk, kid, 0, NULL) < 0)
			_exit(2);
		if (winekernel_object_create(wk, "s:kept", "K", 1) < 0 ||
		    winekernel_object_create(wk, "s:also", "A", 1) < 0)
			_exit(3);
		int gone = winekernel_object_create(wk, "s:gone", NULL, 0);
		if (gone < 0 || winekernel_object_close(wk, gone) < 0)
			_exit(4);
		if (write(pipefd[1], "C", 1) != 1)
			_exit(5);
		pause();
		_exit(0);
	}
	CHECK(read(pipefd[0], &c, 1) == 1, "child ready");
	hp = EXPECT_OK(winekernel_object_open(other, "s:also"));
	/* epoll (what libuv uses) sees the events too. */
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event eev = { .events = EPOLLIN };
	CHECK(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, winekernel_fd(srv), &eev) == 0, "epoll");
	EXPECT_EQ(epoll_wait(ep, &eev, 1, 0), 0);
	kill(pid, SIGKILL);
	EXPECT_EQ(wait_child(pid), 128 + SIGKILL);

	EXPECT_EQ(epoll_wait(ep, &eev, 1, 5000), 1);
	CHECK(eev.events & EPOLLIN, "epoll readable");
	close(ep);
	EXPECT_EQ(poll(&pfd, 1, 5000), 1);
	CHECK(pfd.revents & POLLIN, "readable");
	EXPECT_EQ(winekernel_read_events(srv, ev, 8), 2);
	CHECK(ev[0].from_pid == (uint32_t)pid && ev[1].from_pid == (uint32_t)pid,
	      "from_pid %u %u want %d", ev[0].from_pid, ev[1].from_pid, pid);
	CHECK(ev[0].from_session != 0 && ev[0].from_session == ev[1].from_session, "from_session");
	CHECK(ev[0].from_session != winekernel_session_id(srv), "not the server's id");
	EXPECT_OK(winekernel_object_getname(srv, ev[0].handle, name, sizeof(name)));
	CHECK(!strcmp(name, "s:kept"), "first event %s", name);
	EXPECT_OK(winekernel_object_getname(srv, ev[1].handle, name, sizeof(name)));
	CHECK(!strcmp(name, "s:also"), "second event %s", name);
	EXPECT_EQ(poll(&pfd, 1, 0), 0);
	EXPECT_EQ(winekernel_read_events(srv, ev, 8), 0);
	/* s:kept lives on through the server's handle. */
	EXPECT_OK(winekernel_object_close(other, EXPECT_OK(winekernel_object_open(other, "s:kept"))));
	EXPECT_EQ(winekernel_object_open(other, "s:gone"), -ENOENT);
	EXPECT_OK(winekernel_object_close(other, hp));

	/* A plain close hands off the same way; one event per object. */
	struct winekernel *third = session(kid);
	EXPECT_OK(winekernel_object_create(third, "s:third", NULL, 0));
	winekernel_close(third);
	EXPECT_EQ(poll(&pfd, 1, 1000), 1);
	EXPECT_EQ(winekernel_read_events(srv, ev, 1), 1);
	EXPECT_EQ(winekernel_read_events(srv, (void *)8, 1), 0);
	/* A bad buffer loses no event. */
	third = session(kid);
	EXPECT_OK(winekernel_object_create(third, "s:fourth", NULL, 0));
	winekernel_close(third);
	EXPECT_EQ(winekernel_read_events(srv, (void *)8, 1), -EFAULT);
	EXPECT_EQ(winekernel_read_events(srv, ev, 8), 1);

	/* When the server goes, another may register; nothing is handed to a dead server. */
	winekernel_close(srv);
	EXPECT_EQ(winekernel_register_server(other), 0);
	winekernel_close(other);
	return 0;
}

/* ---- concurrency ------------------------------------------------------- */

#define HAMMER_PROCS	16
#define HAMMER_SIZE	1024

static int hammer_child(const char *kid, int idx, uint64_t deadline)
{
	struct winekernel *wk = open_or_die();
	unsigned char wbuf[HAMMER_SIZE], rbuf[HAMMER_SIZE];
	long iterations = 0;
	int h, i, ret;

	if (winekernel_attach_to_kernel(wk, kid, 0, NULL) < 0)
		return 2;
	h = winekernel_object_create_ex(wk, "h:shared", NULL, 0,
					WK_CREATE_OPEN_EXISTING, NULL);
	if (h < 0)
		return 3;
	while (now_ns() < deadline) {
		iterations++;
		switch ((idx + iterations) % 3) {
		case 0:	/* writer: whole-buffer writes of one repeated byte */
			memset(wbuf, (idx * 31 + iterations) & 0xff, sizeof(wbuf));
			ret = winekernel_object_lockobject(wk, h, WK_LOCK_EXCLUSIVE);
			if (ret && ret != -EOWNERDEAD)
				return 4;
			if (winekernel_object_setdata(wk, h, wbuf, sizeof(wbuf), 0) != HAMMER_SIZE)
				return 5;
			if (winekernel_object_unlock(wk, h))
				return 6;
			break;
		case 1:	/* lock-free reader: never a torn write */
			ret = winekernel_object_getdata(wk, h, rbuf, sizeof(rbuf));
			if (ret == 0)
				break;
			if (ret != HAMMER_SIZE)
				return 7;
			for (i = 1; i < HAMMER_SIZE; i++)
				if (rbuf[i] != rbuf[0]) {
					printf("#   torn read at %d: %02x vs %02x\n", i,
					       rbuf[i], rbuf[0]);
					return 8;
				}
			break;
		case 2:	/* shared lock plus an unlocked write without the lock */
			ret = winekernel_object_lockobject_timeout(wk, h, WK_LOCK_SHARED, 1000000000);
			if (ret == -ETIMEDOUT)
				break;
			if (ret && ret != -EOWNERDEAD)
				return 9;
			if (winekernel_object_getdata(wk, h, rbuf, sizeof(rbuf)) < 0)
				return 10;
			if (winekernel_object_unlock(wk, h))
				return 11;
			memset(wbuf, 0x5a, sizeof(wbuf));
			if (winekernel_object_setdata(wk, h, wbuf, sizeof(wbuf), 0) < 0)
				return 12;
			break;
		}
		if (iterations % 64 == 0) {
			/* Churn handles and names too. */
			char name[32];
			int t;

			snprintf(name, sizeof(name), "h:tmp-%d", idx);
			t = winekernel_object_create(wk, name, wbuf, 16);
			if (t < 0 || winekernel_object_close(wk, t))
				return 13;
		}
	}
	printf("#   hammer %d: %ld iterations\n", idx, iterations);
	winekernel_close(wk);
	return 0;
}

static int test_concurrent_processes(void)
{
	const char *kid = test_kernid("hammer");
	struct winekernel *keep = session(kid);
	uint64_t deadline = now_ns() + 3000000000ull;
	pid_t pids[HAMMER_PROCS];
	int i, failed = 0;

	for (i = 0; i < HAMMER_PROCS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			fflush(stdout);
			_exit(hammer_child(kid, i, deadline));
		}
	}
	for (i = 0; i < HAMMER_PROCS; i++) {
		int st = wait_child(pids[i]);

		if (st) {
			printf("#   hammer child %d: status %d\n", i, st);
			failed = 1;
		}
	}
	CHECK(!failed, "all hammer children succeeded");
	struct winekernel_stats st;
	EXPECT_EQ(winekernel_stats(keep, &st), 0);
	EXPECT_EQ(st.instance_objects, 0);
	EXPECT_EQ(st.instance_sessions, 1);
	EXPECT_EQ(st.instance_handles, 0);
	winekernel_close(keep);
	return 0;
}

struct thread_hammer {
	struct winekernel *wk;
	int handle;
	int failed;
};

static void *thread_hammer_fn(void *arg)
{
	struct thread_hammer *t = arg;
	char buf[64];
	int i;

	for (i = 0; i < 2000 && !t->failed; i++) {
		int h = winekernel_object_open(t->wk, "t:x");

		if (h < 0 || winekernel_object_getdata(t->wk, h, buf, sizeof(buf)) < 0 ||
		    winekernel_object_close(t->wk, h) < 0)
			t->failed = 1;
		/* Racing closes of the shared handle must be safe (one wins). */
		winekernel_object_getdata(t->wk, t->handle, buf, sizeof(buf));
	}
	return NULL;
}

static int test_threads_one_session(void)
{
	struct winekernel *wk = session(test_kernid("threads"));
	struct thread_hammer t[4];
	pthread_t th[4];
	int i, h;

	h = EXPECT_OK(winekernel_object_create(wk, "t:x", "data", 4));
	/* A second handle keeps the object (and its name) alive throughout. */
	EXPECT_OK(winekernel_object_open(wk, "t:x"));
	for (i = 0; i < 4; i++) {
		t[i] = (struct thread_hammer){ .wk = wk, .handle = h };
		pthread_create(&th[i], NULL, thread_hammer_fn, &t[i]);
	}
	usleep(20000);
	EXPECT_EQ(winekernel_object_close(wk, h), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(!t[i].failed, "thread %d", i);
	}
	winekernel_close(wk);
	return 0;
}

/* ---- quotas ------------------------------------------------------------ */

static int test_quotas(void)
{
	struct winekernel_limits lim = {
		.max_objects = 10, .max_bytes = 1000, .max_object_size = 600,
		.max_handles_per_session = 12,
	};
	struct winekernel *wk = open_or_die(), *other;
	struct winekernel_stats st;
	char name[32], buf[700] = { 0 };
	int i, h;

	EXPECT_EQ(winekernel_attach_to_kernel(wk, test_kernid("quota"), WK_ATTACH_CREATE, &lim), 1);
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "q:%d", i);
		EXPECT_OK(winekernel_object_create(wk, name, NULL, 0));
	}
	EXPECT_EQ(winekernel_object_create(wk, "q:x", NULL, 0), -ENOSPC);
	EXPECT_EQ(winekernel_object_create(wk, "q", NULL, 0), -ENOSPC);
	/* Handles: 10 used, 2 more fit. */
	EXPECT_OK(winekernel_object_open(wk, "q:0"));
	EXPECT_OK(winekernel_object_open(wk, "q:0"));
	EXPECT_EQ(winekernel_object_open(wk, "q:0"), -EMFILE);
	EXPECT_EQ(winekernel_object_close(wk, 12), 0);
	EXPECT_EQ(winekernel_object_close(wk, 11), 0);
	/* Bytes: 1000 across objects, 600 per object. */
	EXPECT_EQ(winekernel_object_setdata(wk, 1, buf, 600, 0), 600);
	EXPECT_EQ(winekernel_object_setdata(wk, 1, buf, 601, 0), -EFBIG);
	EXPECT_EQ(winekernel_object_setdata(wk, 2, buf, 400, 0), 400);
	EXPECT_EQ(winekernel_object_setdata(wk, 3, buf, 1, 0), -ENOSPC);
	EXPECT_EQ(winekernel_stats(wk, &st), 0);
	EXPECT_EQ(st.instance_bytes, 1000);
	EXPECT_EQ(winekernel_object_setdata_ex(wk, 1, buf, 100, 0, WK_SETDATA_TRUNCATE), 100);
	EXPECT_EQ(winekernel_object_setdata(wk, 3, buf, 500, 0), 500);
	/* Another instance is unaffected. */
	other = session(test_kernid("quota2"));
	EXPECT_OK(winekernel_object_create(other, "q:x", buf, 700));
	winekernel_close(other);
	/* Free everything: the counts return to zero. */
	for (i = 1; i <= 10; i++)
		EXPECT_EQ(winekernel_object_close(wk, i), 0);
	EXPECT_EQ(winekernel_stats(wk, &st), 0);
	EXPECT_EQ(st.instance_objects, 0);
	EXPECT_EQ(st.instance_bytes, 0);
	EXPECT_EQ(st.instance_handles, 0);
	h = EXPECT_OK(winekernel_object_create(wk, "q:again", buf, 600));
	EXPECT_EQ(h, 1);
	winekernel_close(wk);
	return 0;
}

/* ---- hostile input ------------------------------------------------------ */

static const unsigned int all_cmds[] = {
	WK_IOC_NOP, WK_IOC_ATTACH, WK_IOC_INSTANCE_SETACL, WK_IOC_CREATE,
	WK_IOC_OPEN, WK_IOC_CLOSE, WK_IOC_UNLINK, WK_IOC_GETNAME, WK_IOC_SIZE,
	WK_IOC_GETDATA, WK_IOC_SETDATA, WK_IOC_LOCK, WK_IOC_UNLOCK,
	WK_IOC_SETACL, WK_IOC_GETACL, WK_IOC_ATTACH_FILE, WK_IOC_GET_FILE,
	WK_IOC_LIST, WK_IOC_REGISTER_SERVER, WK_IOC_READ_EVENTS, WK_IOC_STATS,
};

static int test_bad_pointers(void)
{
	struct winekernel *wk = session(test_kernid("badptr"));
	void *unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *bad[] = { NULL, (void *)1, unmapped, (void *)0xffff888000000000ull,
			(void *)-4096L };
	size_t i, j;

	EXPECT_OK(winekernel_object_create(wk, "b:x", "x", 1));
	for (i = 0; i < sizeof(all_cmds) / sizeof(all_cmds[0]); i++) {
		if (all_cmds[i] == WK_IOC_NOP)
			continue;
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			int ret = ioctl(winekernel_fd(wk), all_cmds[i], bad[j]);

			CHECK(ret < 0 && errno == EFAULT, "cmd %#x ptr %p: ret %d errno %d",
			      all_cmds[i], bad[j], ret, errno);
		}
	}
	/* Nonzero padding is rejected. */
	struct winekernel_unlock_args ua = { .handle = 1, .__pad = 7 };
	EXPECT_EQ(ioctl(winekernel_fd(wk), WK_IOC_UNLOCK, &ua) < 0 ? -errno : 0, -EINVAL);
	struct winekernel_register_server_args ra = { .__pad = 1 };
	EXPECT_EQ(ioctl(winekernel_fd(wk), WK_IOC_REGISTER_SERVER, &ra) < 0 ? -errno : 0, -EINVAL);
	/* Huge sizes fail with a clear error, not an allocation storm. */
	struct winekernel_create_args ca = { .name = (uintptr_t)"b:huge", .name_len = 6,
					     .data = (uintptr_t)unmapped, .size = ~0ull };
	EXPECT_EQ(ioctl(winekernel_fd(wk), WK_IOC_CREATE, &ca) < 0 ? -errno : 0, -EFBIG);
	ca.name_len = 0xffffffff;
	EXPECT_EQ(ioctl(winekernel_fd(wk), WK_IOC_CREATE, &ca) < 0 ? -errno : 0, -ENAMETOOLONG);
	struct winekernel_read_events_args re = { .events = 0, .max = 0xffffffff };
	EXPECT_EQ(ioctl(winekernel_fd(wk), WK_IOC_READ_EVENTS, &re) < 0 ? -errno : 0, -EINVAL);
	struct winekernel_list_args la = { .namespace_ = (uintptr_t)"b", .namespace_len = 1,
					   .buf = (uintptr_t)unmapped, .buf_size = ~0ull };
	EXPECT_EQ(ioctl(winekernel_fd(wk), WK_IOC_LIST, &la) < 0 ? -errno : 0, -EFAULT);
	la.namespace_len = 0xffffffff;
	EXPECT_EQ(ioctl(winekernel_fd(wk), WK_IOC_LIST, &la) < 0 ? -errno : 0, -EINVAL);
	munmap(unmapped, 4096);
	winekernel_close(wk);
	return 0;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A plausible-or-hostile 64-bit value for a field. */
static uint64_t fuzz_value(void *good, size_t good_size)
{
	switch (rnd() % 10) {
	case 0: return 0;
	case 1: return rnd() % 8;
	case 2: return (uint64_t)(uintptr_t)good;
	case 3: return (uint64_t)(uintptr_t)good + rnd() % good_size;
	case 4: return 0xffff888000000000ull + (rnd() & 0xffffff);
	case 5: return ~0ull - rnd() % 4096;
	case 6: return rnd() % 2048;
	case 7: return 1ull << (rnd() % 64);
	case 8: return rnd() & 0xffffffff;
	default: return rnd();
	}
}

static int fuzz_child(const char *kid, int idx, uint64_t secs, int ready_fd, int go_fd)
{
	static unsigned char arena[65536];
	uint64_t args[16];
	struct winekernel *wk = open_or_die();
	struct sigaction sa = { .sa_handler = noop_handler };
	struct itimerval it = { .it_interval = { .tv_usec = 20000 },
				.it_value = { .tv_usec = 20000 } };
	long calls = 0;
	size_t i;

	rng_state = 0x9e3779b97f4a7c15ull ^ ((uint64_t)getpid() << 20) ^ now_ns();
	struct winekernel_limits lim = { .max_bytes = 64 << 20, .max_object_size = 1 << 20,
					 .max_objects = 100000 };
	struct winekernel_ace owner_attach = { WK_ACE_ALLOW, WK_WHO_OWNER, 0, WK_RIGHT_ATTACH };

	uint64_t deadline;
	char c;

	if (winekernel_attach_to_kernel(wk, kid, WK_ATTACH_CREATE, &lim) < 0)
		return 2;
	/* Everyone attaches before anyone fuzzes (the instance ACL may change). */
	if (write(ready_fd, "R", 1) != 1 || read(go_fd, &c, 1) != 0)
		return 4;
	deadline = now_ns() + secs * 1000000000ull;
	/* Seed some valid names and handles for the fuzzer to hit. */
	memcpy(arena, "fz:a\0fz\0fz:b\0", 13);
	winekernel_object_create(wk, "fz:a", arena, 100);
	winekernel_object_create(wk, "fz", NULL, 0);
	/* Blocking calls get interrupted by the timer (-EINTR). */
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);

	while (now_ns() < deadline) {
		unsigned int cmd;
		int fd = winekernel_fd(wk);

		switch (rnd() % 4) {
		case 0:	/* a valid command */
			cmd = all_cmds[rnd() % (sizeof(all_cmds) / sizeof(all_cmds[0]))];
			break;
		case 1:	/* a valid number with a wrong size or direction */
			cmd = _IOC(rnd() % 4, WINEKERNEL_IOC_MAGIC, rnd() % 0x18, rnd() % 200);
			break;
		case 2:	/* our magic, any number */
			cmd = _IOC(rnd() % 4, WINEKERNEL_IOC_MAGIC, rnd() & 0xff, rnd() & 0x3fff);
			break;
		default:
			cmd = (unsigned int)rnd();
			break;
		}
		for (i = 0; i < 16; i++)
			args[i] = fuzz_value(arena, sizeof(arena));
		/* Small handles, lengths and counts hit the interesting paths. */
		if (rnd() % 2) {
			uint32_t *w = (uint32_t *)args;

			for (i = 0; i < 32; i++)
				if (rnd() % 3 == 0)
					w[i] = rnd() % 6;
		}
		if (cmd == WK_IOC_CREATE && rnd() % 2) {
			struct winekernel_create_args *ca = (void *)args;

			ca->name = (uintptr_t)arena;
			ca->name_len = 4;
			ca->size = rnd() % 4096;
			ca->data = (uintptr_t)arena;
		}
		if (cmd == WK_IOC_ATTACH_FILE)
			((uint32_t *)args)[1] = rnd() % 8;
		if (cmd == WK_IOC_LOCK)
			args[0] = rnd() % 3 ? rnd() % 10000000 : ~0ull;
		{
			int ret = ioctl(fd, cmd, rnd() % 8 ? (void *)args :
					(void *)(uintptr_t)fuzz_value(arena, sizeof(arena)));
			/* Fuzzed GET_FILE may hand us fds: keep the table small. */
			if (cmd == WK_IOC_GET_FILE && ret == 0) {
				uint32_t nfd = ((uint32_t *)args)[2];

				if (nfd > 2 && (int)nfd != fd)
					close(nfd);
			}
		}
		calls++;
	}
	it = (struct itimerval){ 0 };
	setitimer(ITIMER_REAL, &it, NULL);
	printf("#   fuzz %d: %ld calls\n", idx, calls);
	/* The fuzzer may have locked the owner out; let the drain back in. */
	if (winekernel_instance_setacl(wk, &owner_attach, 1) < 0)
		return 3;
	winekernel_close(wk);
	return 0;
}

/* Removes every object (permanent ones included) of instance @kid. */
static int drain_instance(const char *kid)
{
	struct winekernel_ace all = { WK_ACE_ALLOW, WK_WHO_OWNER, 0, WK_RIGHTS_OBJECT_MASK };
	struct winekernel_ace inst_all = { WK_ACE_ALLOW, WK_WHO_OWNER, 0, WK_RIGHT_ATTACH };
	struct winekernel *wk = open_or_die();
	static char names[1 << 20], nss[1 << 16];
	size_t need;
	int n, m, i, j;
	char *ns, *p;

	if (winekernel_attach_to_kernel(wk, kid, 0, NULL) < 0) {
		winekernel_close(wk);
		return 0;	/* already gone */
	}
	EXPECT_EQ(winekernel_instance_setacl(wk, &inst_all, 1), 0);
	n = EXPECT_OK(winekernel_object_list(wk, NULL, nss, sizeof(nss), &need, WK_LIST_NAMESPACES));
	for (i = 0, ns = nss; i < n; i++, ns += strlen(ns) + 1) {
		m = EXPECT_OK(winekernel_object_list(wk, ns, names, sizeof(names), &need, 0));
		for (j = 0, p = names; j < m; j++, p += strlen(p) + 1) {
			char full[1100];
			int h;

			if (snprintf(full, sizeof(full), "%s:%s", ns, p) >= (int)sizeof(full))
				return 1;
			h = EXPECT_OK(winekernel_object_open(wk, full));
			EXPECT_EQ(winekernel_object_setacl(wk, h, &all, 1), 0);
			EXPECT_EQ(winekernel_object_unlink(wk, h), 0);
			EXPECT_EQ(winekernel_object_close(wk, h), 0);
		}
	}
	winekernel_close(wk);
	return 0;
}

static int test_fuzz(void)
{
	const char *secs_env = getenv("WINEKERNEL_FUZZ_SECONDS");
	uint64_t secs = secs_env ? strtoull(secs_env, NULL, 10) : 5;
	int ready[2], go[2], i, failed = 0;
	char kids[4][64], c;
	pid_t pids[4];

	CHECK(pipe(ready) == 0 && pipe(go) == 0, "pipes");
	for (i = 0; i < 4; i++) {
		snprintf(kids[i], sizeof(kids[i]), "st-fuzz-%d-%d", i % 2, getpid());
		pids[i] = fork();
		if (pids[i] == 0) {
			close(go[1]);
			fflush(stdout);
			_exit(fuzz_child(kids[i], i, secs, ready[1], go[0]));
		}
	}
	for (i = 0; i < 4; i++)
		if (read(ready[0], &c, 1) != 1)
			break;
	close(go[1]);
	for (i = 0; i < 4; i++) {
		int st = wait_child(pids[i]);

		if (st) {
			printf("#   fuzz child %d: status %d\n", i, st);
			failed = 1;
		}
	}
	CHECK(!failed, "fuzz children survived");
	for (i = 0; i < 2; i++)
		if (drain_instance(kids[i]))
			return 1;
	return 0;
}

static int test_leak_check(void)
{
	struct winekernel *wk = open_or_die();
	struct winekernel_stats st;

	EXPECT_EQ(winekernel_stats(wk, &st), 0);
	printf("#   live: objects %llu bytes %llu sessions %llu instances %llu handles %llu\n",
	       (unsigned long long)st.objects, (unsigned long long)st.bytes,
	       (unsigned long long)st.sessions, (unsigned long long)st.instances,
	       (unsigned long long)st.handles);
	EXPECT_EQ(st.objects, 0);
	EXPECT_EQ(st.bytes, 0);
	EXPECT_EQ(st.sessions, 1);	/* this one */
	EXPECT_EQ(st.instances, 0);
	EXPECT_EQ(st.handles, 0);
	winekernel_close(wk);
	return 0;
}

/* ---- runner ------------------------------------------------------------ */

struct test {
	const char *name;
	int (*fn)(void);
};

static const struct test tests[] = {
	{ "unbound_session", test_unbound_session },
	{ "attach", test_attach },
	{ "create_open_close", test_create_open_close },
	{ "autoname", test_autoname },
	{ "names", test_names },
	{ "data", test_data },
	{ "unlink_permanent", test_unlink_permanent },
	{ "locks", test_locks },
	{ "lock_sigkill", test_lock_sigkill },
	{ "acl_calls", test_acl_calls },
	{ "acl_two_users", test_acl_two_users },
	{ "instances", test_instances },
	{ "native_file", test_native_file },
	{ "list", test_list },
	{ "server_handoff", test_server_handoff },
	{ "concurrent_processes", test_concurrent_processes },
	{ "threads_one_session", test_threads_one_session },
	{ "quotas", test_quotas },
	{ "bad_pointers", test_bad_pointers },
	{ "fuzz", test_fuzz },
	{ "leak_check", test_leak_check },	/* last */
};

#define NTESTS (int)(sizeof(tests) / sizeof(tests[0]))

static int run_one(const struct test *t)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int ret = t->fn();

		fflush(stdout);
		_exit(ret ? 1 : 0);
	}
	return wait_child(pid);
}

int main(int argc, char **argv)
{
	const char *only[64];
	int nonly = 0, i, j, passed = 0, failed = 0, n = 0, selected[NTESTS];

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-l")) {
			for (j = 0; j < NTESTS; j++)
				printf("%s\n", tests[j].name);
			return 0;
		}
		if (!strcmp(argv[i], "-t") && i + 1 < argc && nonly < 64)
			only[nonly++] = argv[++i];
	}
	for (i = 0; i < NTESTS; i++) {
		selected[i] = !nonly;
		for (j = 0; j < nonly; j++)
			if (!strcmp(only[j], tests[i].name))
				selected[i] = 1;
		n += selected[i];
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%d\n", n);
	for (i = 0, j = 0; i < NTESTS; i++) {
		uint64_t t0;
		int st;

		if (!selected[i])
			continue;
		j++;
		t0 = now_ns();
		st = run_one(&tests[i]);
		if (st == 0) {
			passed++;
			printf("ok %d %s # %.2fs\n", j, tests[i].name,
			       (now_ns() - t0) / 1e9);
		} else {
			failed++;
			printf("not ok %d %s # status %d\n", j, tests[i].name, st);
		}
	}
	printf("# %d passed, %d failed\n", passed, failed);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
