/*
 * A tiny unit-test harness: OK(), INT_EQ(), STR_EQ(), then DONE() prints
 * "N passed, N failed" and returns the exit status.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdio.h>
#include <string.h>

static int h_pass, h_fail;

#define OK(cond, ...) do {						\
	if (cond) {							\
		h_pass++;						\
	} else {							\
		h_fail++;						\
		fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

#define INT_EQ(a, b, what) do {						\
	long long h_a = (long long)(a), h_b = (long long)(b);		\
	OK(h_a == h_b, "%s: got %lld, want %lld", what, h_a, h_b);	\
} while (0)

#define STR_EQ(a, b, what) do {						\
	const char *h_a = (a), *h_b = (b);				\
	OK(h_a && h_b && strcmp(h_a, h_b) == 0,				\
	    "%s:\n  got  '%s'\n  want '%s'", what,			\
	    h_a ? h_a : "(null)", h_b ? h_b : "(null)");		\
} while (0)

#define DONE() (printf("%d passed, %d failed\n", h_pass, h_fail),	\
	h_fail ? 1 : 0)

#endif
