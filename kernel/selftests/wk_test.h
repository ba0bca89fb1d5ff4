/* SPDX-License-Identifier: GPL-2.0-only */
/* A tiny TAP harness for the winekernel selftests. */
#ifndef WK_TEST_H
#define WK_TEST_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "winekernel.h"

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			printf("#   %s:%d: check failed: %s: ", __FILE__,	\
			       __LINE__, #cond);			\
			printf(__VA_ARGS__);				\
			printf("\n");					\
			fflush(stdout);					\
			return 1;					\
		}							\
	} while (0)

/* Expects a call to return exactly @want (a value or a negative errno). */
#define EXPECT_EQ(expr, want)						\
	do {								\
		long long __got = (long long)(expr);			\
		long long __want = (long long)(want);			\
		if (__got != __want) {					\
			printf("#   %s:%d: %s = %lld (%s), want %lld (%s)\n", \
			       __FILE__, __LINE__, #expr, __got,	\
			       __got < 0 ? strerror((int)-__got) : "ok", \
			       __want,					\
			       __want < 0 ? strerror((int)-__want) : "ok"); \
			fflush(stdout);					\
			return 1;					\
		}							\
	} while (0)

/* Expects a call to succeed (>= 0); yields its value. */
#define EXPECT_OK(expr)							\
	({								\
		long long __v = (long long)(expr);			\
		if (__v < 0) {						\
			printf("#   %s:%d: %s failed: %s\n", __FILE__,	\
			       __LINE__, #expr, strerror((int)-__v));	\
			fflush(stdout);					\
			return 1;					\
		}							\
		__v;							\
	})

#endif
