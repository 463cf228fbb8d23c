/* Unit tests of lib/timefmt.c: pt-heartbeat's ts in UTC and local time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utc),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
