/*
 * range: the Monitoring Plugins' threshold syntax, checked against the
 * guidelines' own tables (THRESHOLDFORMAT: the range examples, and the
 * check_stuff -w/-c examples), plus what the parser refuses.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "range.h"

static struct rw_range
parse_ok(const char *s)
{
	struct rw_range r;
	char err[256] = "";

	if (range_parse(s, &r, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", s, err);
	assert_string_equal(r.text, s);
	return r;
}

static void
assert_alerts(const char *s, const double *values, size_t n, int want)
{
	struct rw_range r = parse_ok(s);

	for (size_t i = 0; i < n; i++)
		if (range_alert(&r, values[i]) != want)
			fail_msg("'%s' at %g: alert %d, want %d", s, values[i],
			    !want, want);
}

#define ALERTS(s, ...) do { \
	const double v_[] = { __VA_ARGS__ }; \
	assert_alerts(s, v_, sizeof(v_) / sizeof(v_[0]), 1); \
} while (0)
#define QUIET(s, ...) do { \
	const double v_[] = { __VA_ARGS__ }; \
	assert_alerts(s, v_, sizeof(v_) / sizeof(v_[0]), 0); \
} while (0)

/* The guidelines' table "Example ranges". */
static void
test_guideline_ranges(void **state)
{
	struct rw_range r;

	/* 10: < 0 or > 10, outside {0 .. 10} */
	r = parse_ok("10");
	assert_true(r.start == 0 && r.end == 10 && !r.inside);
	ALERTS("10", -0.001, -5, 10.001, 11, 1e9);
	QUIET("10", 0, 0.5, 5, 10);

	/* 10: < 10, outside {10 .. inf} */
	r = parse_ok("10:");
	assert_true(r.start == 10 && isinf(r.end) && r.end > 0);
	ALERTS("10:", 9.999, 0, -3);
	QUIET("10:", 10, 10.5, 1e12);

	/* ~:10: > 10, outside {-inf .. 10} */
	r = parse_ok("~:10");
	assert_true(isinf(r.start) && r.start < 0 && r.end == 10);
	ALERTS("~:10", 10.001, 1000);
	QUIET("~:10", 10, 0, -1e9);

	/* 10:20: < 10 or > 20, outside {10 .. 20} */
	ALERTS("10:20", 9.99, 20.01, 0, -1);
	QUIET("10:20", 10, 15, 20);

	/* @10:20: >= 10 and <= 20, inside {10 .. 20} */
	r = parse_ok("@10:20");
	assert_true(r.inside && r.start == 10 && r.end == 20);
	ALERTS("@10:20", 10, 15, 20);
	QUIET("@10:20", 9.99, 20.01, 0);
}

static void
test_negative_and_decimal(void **state)
{
	ALERTS("-10:-5", -11, -4.9, 0);
	QUIET("-10:-5", -10, -7.5, -5);
	ALERTS("0.5", 0.501, -0.1);
	QUIET("0.5", 0, 0.25, 0.5);
	ALERTS("1.5:2.25", 1.49, 2.26);
	QUIET("1.5:2.25", 1.5, 2, 2.25);
	ALERTS("@~:-0.5", -0.5, -100);
	QUIET("@~:-0.5", -0.49, 0);
	/* ~: is everything: never outside, always inside. */
	QUIET("~:", -1e300, 0, 1e300);
	ALERTS("@~:", -1e300, 0, 1e300);
	/* :10 is 0:10 (start 0 may be left out with or without the colon). */
	ALERTS(":10", -1, 10.5);
	QUIET(":10", 0, 10);
	ALERTS("+3", 3.5);
	QUIET("+3", 3);
	/* A point. */
	ALERTS("@5:5", 5);
	QUIET("@5:5", 4.999, 5.001);
}

/* The guidelines' check_stuff examples: -w and -c together. */
static void
test_guideline_thresholds(void **state)
{
	struct rw_range w, c;

	/* -w10 -c20: critical over 20, warning over 10, critical below 0 */
	w = parse_ok("10"), c = parse_ok("20");
	assert_int_equal(range_judge(&w, &c, 21), SEVERITY_CRITICAL);
	assert_int_equal(range_judge(&w, &c, 15), SEVERITY_WARNING);
	assert_int_equal(range_judge(&w, &c, 10), SEVERITY_OK);
	assert_int_equal(range_judge(&w, &c, -1), SEVERITY_CRITICAL);
	/* -w~:10 -c~:20: the same, negative is OK */
	w = parse_ok("~:10"), c = parse_ok("~:20");
	assert_int_equal(range_judge(&w, &c, 21), SEVERITY_CRITICAL);
	assert_int_equal(range_judge(&w, &c, 15), SEVERITY_WARNING);
	assert_int_equal(range_judge(&w, &c, -1), SEVERITY_OK);
	/* -w10: -c20: critical over 20, warning below 10, critical below 0 */
	w = parse_ok("10:"), c = parse_ok("20");
	assert_int_equal(range_judge(&w, &c, 21), SEVERITY_CRITICAL);
	assert_int_equal(range_judge(&w, &c, 5), SEVERITY_WARNING);
	assert_int_equal(range_judge(&w, &c, 15), SEVERITY_OK);
	assert_int_equal(range_judge(&w, &c, -1), SEVERITY_CRITICAL);
	/* -c1: critical below 1 */
	c = parse_ok("1:");
	assert_int_equal(range_judge(NULL, &c, 0.5), SEVERITY_CRITICAL);
	assert_int_equal(range_judge(NULL, &c, 1), SEVERITY_OK);
	/* -w~:0 -c10: critical over 10, warning over 0 */
	w = parse_ok("~:0"), c = parse_ok("10");
	assert_int_equal(range_judge(&w, &c, 11), SEVERITY_CRITICAL);
	assert_int_equal(range_judge(&w, &c, 5), SEVERITY_WARNING);
	assert_int_equal(range_judge(&w, &c, 0), SEVERITY_OK);
	/* -c5:6: critical below 5 or over 6 */
	c = parse_ok("5:6");
	assert_int_equal(range_judge(NULL, &c, 4), SEVERITY_CRITICAL);
	assert_int_equal(range_judge(NULL, &c, 7), SEVERITY_CRITICAL);
	assert_int_equal(range_judge(NULL, &c, 5.5), SEVERITY_OK);
	/* -c@10:20: OK below 10 or over 20, otherwise critical */
	c = parse_ok("@10:20");
	assert_int_equal(range_judge(NULL, &c, 9), SEVERITY_OK);
	assert_int_equal(range_judge(NULL, &c, 21), SEVERITY_OK);
	assert_int_equal(range_judge(NULL, &c, 10), SEVERITY_CRITICAL);
	/* No ranges: OK. */
	assert_int_equal(range_judge(NULL, NULL, 1e9), SEVERITY_OK);
}

static void
assert_refused(const char *s, const char *why)
{
	struct rw_range r;
	char err[256] = "";

	if (range_parse(s, &r, err, sizeof(err)) != -1)
		fail_msg("'%s' accepted", s);
	if (strstr(err, why) == NULL)
		fail_msg("'%s': error '%s' does not say '%s'", s, err, why);
}

static void
test_malformed(void **state)
{
	char longer[100];

	assert_refused("", "empty range");
	assert_refused("@", "empty range");
	assert_refused("abc", "not a range");
	assert_refused("10s", "not a range");
	assert_refused("1x", "not a range");
	assert_refused("10:20:30", "not a range");
	assert_refused("~", "not a range");
	assert_refused("10:~", "not a range");
	assert_refused("@@10", "not a range");
	assert_refused(" 10", "not a range");
	assert_refused("10 ", "not a range");
	assert_refused("1e3", "not a range");
	assert_refused("0x10", "not a range");
	assert_refused("inf", "not a range");
	assert_refused("nan", "not a range");
	assert_refused(".", "not a range");
	assert_refused("-", "not a range");
	assert_refused("1,5", "not a range");
	assert_refused("20:10", "the start 20 is above the end 10");
	assert_refused("-5", "below the start 0");
	memset(longer, '1', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_refused(longer, "longer than 63 characters");
}

/* The daemon's thresholds, as ranges for perfdata and the judgement. */
static void
test_upto(void **state)
{
	struct rw_range r;

	range_upto(&r, 30);
	assert_string_equal(r.text, "30");
	assert_false(range_alert(&r, 30));
	assert_true(range_alert(&r, 30.001));
	range_upto(&r, 0.25);
	assert_string_equal(r.text, "0.25");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guideline_ranges),
		cmocka_unit_test(test_negative_and_decimal),
		cmocka_unit_test(test_guideline_thresholds),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_upto),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
