/*
 * test.h — a tiny unit-test harness in the spirit of redis testhelp.h.
 * Each test is a function; TEST_RUN names it; asserts print both operands
 * and the line, then the test stops and the runner counts a failure.
 * The runner's last line is "N passed, N failed", which CI reads.
 */
#ifndef IDLCM_TEST_H
#define IDLCM_TEST_H
#include <stdio.h>
#include <string.h>
#include <setjmp.h>

static int test_passed, test_failed;
static jmp_buf test_jmp;
static const char *test_current;

#define TEST_FAIL_(fmt, ...) do { \
	fprintf(stderr, "  FAIL %s (%s:%d): " fmt "\n", test_current, \
		__FILE__, __LINE__, __VA_ARGS__); \
	longjmp(test_jmp, 1); \
} while (0)

#define ASSERT(c) do { if (!(c)) TEST_FAIL_("%s", #c); } while (0)
#define ASSERT_INT_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) TEST_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_); } while (0)
#define ASSERT_STR_EQ(a, b) do { const char *a_ = (a), *b_ = (b); \
	if (!a_ || !b_ || strcmp(a_, b_)) TEST_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, \
		a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
#define ASSERT_STR_CONTAINS(h, n) do { const char *h_ = (h), *n_ = (n); \
	if (!h_ || !strstr(h_, n_)) TEST_FAIL_("%s contains %s: \"%s\" lacks \"%s\"", #h, #n, \
		h_ ? h_ : "(null)", n_); } while (0)

#define TEST_RUN(fn) do { \
	test_current = #fn; \
	if (!setjmp(test_jmp)) { fn(); test_passed++; \
		fprintf(stderr, "  ok   %s\n", #fn); } \
	else test_failed++; \
} while (0)

#define TEST_REPORT() (printf("%d passed, %d failed\n", test_passed, test_failed), \
	test_failed ? 1 : 0)
#endif
