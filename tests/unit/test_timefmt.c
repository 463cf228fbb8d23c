/*
 * Unit tests of lib/timefmt.c: pt-heartbeat's ts in UTC and local time, and
 * the one form replwatch writes times in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"
#include "timefmt.h"

static void
test_utc(void **state)
{
	int64_t us;

	/* pt-heartbeat --utc's format */
	assert_int_equal(timefmt_parse_datetime("2026-12-02T05:18:16.250000",
	    1, &us), 0);
	assert_true(us == INT64_C(1796188696250000));
	/* DATETIME(6) as the server prints it; short fractions scale */
	assert_int_equal(timefmt_parse_datetime("2026-12-02 05:18:16.25", 1,
	    &us), 0);
	assert_true(us == INT64_C(1796188696250000));
	assert_int_equal(timefmt_parse_datetime("2026-12-02 05:18:16", 1, &us),
	    0);
	assert_true(us == INT64_C(1796188696000000));
}

static void
test_local(void **state)
{
	int64_t utc, local;

	/* The same wall-clock text five hours west of UTC is 5 h later. */
	setenv("TZ", "EST5", 1);
	tzset();
	assert_int_equal(timefmt_parse_datetime("2026-12-02T05:18:16.000001",
	    1, &utc), 0);
	assert_int_equal(timefmt_parse_datetime("2026-12-02T05:18:16.000001",
	    0, &local), 0);
	assert_true(local - utc == INT64_C(5) * 3600 * 1000000);
	setenv("TZ", "UTC0", 1);
	tzset();
	assert_int_equal(timefmt_parse_datetime("2026-12-02T05:18:16.000001",
	    0, &local), 0);
	assert_true(local == utc);
}

static void
test_garbage(void **state)
{
	static const char *const bad[] = { NULL, "", "2026-12-02",
	    "2026-12-02T05:18", "2026-13-02T05:18:16", "2026-12-02T24:00:00",
	    "2026-12-02T05:18:16.", "2026-12-02T05:18:16.1234567",
	    "2026-12-02T05:18:16Z", "2026/12/02 05:18:16", "x026-12-02 05:18:16" };
	int64_t us;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(timefmt_parse_datetime(bad[i], 1, &us), -1);
}

static void
test_write(void **state)
{
	char buf[64];

	assert_string_equal(timefmt_iso8601(INT64_C(1796188696250), buf,
	    sizeof buf), "2026-12-02T05:18:16.250Z");
	/* Before 1970 the fraction still counts forward from the second. */
	assert_string_equal(timefmt_iso8601(-1, buf, sizeof buf),
	    "1969-12-31T23:59:59.999Z");
	setenv("TZ", "EST5", 1);
	tzset();
	assert_string_equal(timefmt_local(INT64_C(1796188696250), buf,
	    sizeof buf), "2026-12-02T00:18:16.250-05:00");
	setenv("TZ", "IST-5:30", 1);
	tzset();
	assert_string_equal(timefmt_local(INT64_C(1796188696250), buf,
	    sizeof buf), "2026-12-02T10:48:16.250+05:30");
	setenv("TZ", "UTC0", 1);
	tzset();
	assert_string_equal(timefmt_local(0, buf, sizeof buf),
	    "1970-01-01T00:00:00.000+00:00");
	/* A short buffer is cut, never overrun. */
	timefmt_local(0, buf, 11);
	assert_string_equal(buf, "1970-01-01");
}

/*
 * pt-heartbeat's ts as we write it: six decimals always, so the text
 * parses back to the very microseconds (the lag stays exact), in UTC or
 * in the local time of the zone.
 */
static void
test_heartbeat(void **state)
{
	static const int64_t when[] = { INT64_C(1796188696250000),
	    INT64_C(1796188696000001), INT64_C(1796188696999999), 0 };
	char buf[40];
	int64_t us;

	setenv("TZ", "IST-5:30", 1);
	tzset();
	assert_string_equal(timefmt_heartbeat(INT64_C(1796188696000001), 1,
	    buf, sizeof buf), "2026-12-02T05:18:16.000001");
	assert_string_equal(timefmt_heartbeat(INT64_C(1796188696000001), 0,
	    buf, sizeof buf), "2026-12-02T10:48:16.000001");
	/* It fits pt-heartbeat's varchar(26). */
	assert_int_equal(strlen(buf), 26);
	for (size_t i = 0; i < sizeof when / sizeof when[0]; i++) {
		for (int utc = 0; utc <= 1; utc++) {
			timefmt_heartbeat(when[i], utc, buf, sizeof buf);
			assert_int_equal(timefmt_parse_datetime(buf, utc, &us), 0);
			assert_true(us == when[i]);
		}
	}
	/* Before 1970 the fraction counts forward from the second too. */
	assert_string_equal(timefmt_heartbeat(-1, 1, buf, sizeof buf),
	    "1969-12-31T23:59:59.999999");
	setenv("TZ", "UTC0", 1);
	tzset();
}

static void
test_clocks(void **state)
{
	int64_t a = now_mono_ms(), w = now_unix_ms();
	uint64_t u = now_mono_us();

	assert_true(u / 1000 >= (uint64_t)a);
	assert_true(now_mono_ms() >= a);
	/* After 2026-01-01 and before 2100. */
	assert_true(w > INT64_C(1767225600000) && w < INT64_C(4102444800000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utc),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_heartbeat),
		cmocka_unit_test(test_clocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
