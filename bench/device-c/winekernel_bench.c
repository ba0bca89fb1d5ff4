// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-call latency of /dev/winekernel, measured from C (no Node.js in the
 * way). Each figure is the median over many batches of the per-call time
 * within a batch (batches keep clock overhead out of the figure).
 * Prints one JSON object on stdout.
 *
 *   winekernel_bench [--quick]   (--quick: 100k instead of 1M objects)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "winekernel.h"

#define BATCH		100
#define BATCHES		200

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "winekernel_bench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

#define CHECKED(expr)							\
	({								\
		long long __v = (long long)(expr);			\
		if (__v < 0)						\
			die(#expr, (int)__v);				\
		__v;							\
	})

/* Median per-call ns of body, run BATCH times per batch. */
#define MEASURE(result, setup, body)					\
	do {								\
		double __s[BATCHES];					\
		for (int __b = 0; __b < BATCHES; __b++) {		\
			setup;						\
			uint64_t __t0 = now_ns();			\
			for (int __i = 0; __i < BATCH; __i++) {		\
				body;					\
			}						\
			__s[__b] = (double)(now_ns() - __t0) / BATCH;	\
		}							\
		result = median(__s, BATCHES);				\
	} while (0)

static struct winekernel *session(const char *kid)
{
	struct winekernel *wk;

	CHECKED(winekernel_open(&wk));
	CHECKED(winekernel_attach_to_kernel(wk, kid, WK_ATTACH_CREATE, NULL));
	return wk;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Fills instance with n objects "obj:%08x" (handles kept open); lookup cost. */
static double lookup_ns(long n, double *create_ns)
{
	char kid[64], name[32];
	struct winekernel *wk;
	double samples[BATCHES];
	int handles[BATCH];
	uint64_t t0;
	double r;
	long i;

	snprintf(kid, sizeof(kid), "bench-lookup-%ld", n);
	wk = session(kid);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "obj:%08lx", i);
		CHECKED(winekernel_object_create(wk, name, NULL, 0));
	}
	*create_ns = (double)(now_ns() - t0) / n;
	/* Opens of random existing names, timed; their closes are not. */
	for (int b = 0; b < BATCHES; b++) {
		uint64_t t1 = now_ns();

		for (int k = 0; k < BATCH; k++) {
			snprintf(name, sizeof(name), "obj:%08lx", (long)(rnd() % n));
			handles[k] = (int)CHECKED(winekernel_object_open(wk, name));
		}
		samples[b] = (double)(now_ns() - t1) / BATCH;
		for (int k = 0; k < BATCH; k++)
			CHECKED(winekernel_object_close(wk, handles[k]));
	}
	r = median(samples, BATCHES);
	winekernel_close(wk);	/* frees all n objects */
	return r;
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	long big = quick ? 100000 : 1000000;
	double nop, devopen, objopen, getd, setd, lockun, list1000, lk_small, lk_big;
	double create_small, create_big;
	struct winekernel *wk;
	char buf[64] = { 0 }, name[32];
	static char listbuf[64 * 1024];
	struct utsname u;
	int h, i, fd;

	wk = session("bench");
	h = (int)CHECKED(winekernel_object_create(wk, "bench:data", buf, sizeof(buf)));

	MEASURE(nop, (void)0, winekernel_nop(wk));
	MEASURE(devopen, (void)0, ({
		fd = open(WINEKERNEL_DEVICE_PATH, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			die("open", errno);
		close(fd);
	}));
	MEASURE(objopen, (void)0,
		CHECKED(winekernel_object_close(wk, (int)CHECKED(winekernel_object_open(wk, "bench:data")))));
	MEASURE(getd, (void)0, CHECKED(winekernel_object_getdata(wk, h, buf, sizeof(buf))));
	MEASURE(setd, (void)0, CHECKED(winekernel_object_setdata(wk, h, buf, sizeof(buf), 0)));
	MEASURE(lockun, (void)0, ({
		CHECKED(winekernel_object_lockobject(wk, h, WK_LOCK_EXCLUSIVE));
		CHECKED(winekernel_object_unlock(wk, h));
	}));
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "list:name-%04d", i);
		CHECKED(winekernel_object_create(wk, name, NULL, 0));
	}
	MEASURE(list1000, (void)0, ({
		size_t need;
		if (CHECKED(winekernel_object_list(wk, "list", listbuf, sizeof(listbuf), &need, 0)) != 1000)
			die("list count", EINVAL);
	}));
	winekernel_close(wk);

	lk_small = lookup_ns(1000, &create_small);
	lk_big = lookup_ns(big, &create_big);

	uname(&u);
	printf("{\n");
	printf("  \"unit\": \"ns per call (median over %d batches of %d)\",\n", BATCHES, BATCH);
	printf("  \"kernel\": \"%s\",\n", u.release);
	printf("  \"nop_ioctl\": %.0f,\n", nop);
	printf("  \"device_open_close\": %.0f,\n", devopen);
	printf("  \"object_open_close\": %.0f,\n", objopen);
	printf("  \"getdata_64\": %.0f,\n", getd);
	printf("  \"setdata_64\": %.0f,\n", setd);
	printf("  \"lock_unlock_exclusive\": %.0f,\n", lockun);
	printf("  \"list_1000_names\": %.0f,\n", list1000);
	printf("  \"lookup_open_1k_objects\": %.0f,\n", lk_small);
	printf("  \"lookup_open_%s_objects\": %.0f,\n", quick ? "100k" : "1m", lk_big);
	printf("  \"create_avg_filling_1k\": %.0f,\n", create_small);
	printf("  \"create_avg_filling_%s\": %.0f\n", quick ? "100k" : "1m", create_big);
	printf("}\n");
	return 0;
}
