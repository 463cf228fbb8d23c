/* applyrate: the rate over the last polls, file changes, resets, ageing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "applyrate.h"

static void
test_unknown_until_two_polls(void **state)
{
	struct applyrate a;

	applyrate_reset(&a);
	assert_true(applyrate_get(&a, 1000) < 0);
	applyrate_add(&a, 1000, "bin.000001", "4");
	assert_true(applyrate_get(&a, 1000) < 0);
	applyrate_add(&a, 2000, "bin.000001", "1004");
	assert_true(applyrate_get(&a, 2000) == 1000.0);
}

static void
test_stopped_is_zero(void **state)
{
	struct applyrate a;

	applyrate_reset(&a);
	applyrate_add(&a, 0, "bin.000001", "500");
	applyrate_add(&a, 1000, "bin.000001", "500");
	applyrate_add(&a, 2000, "bin.000001", "500");
	assert_true(applyrate_get(&a, 2000) == 0.0);
}

/* Only the last APPLYRATE_POLLS pairs count. */
static void
test_window_slides(void **state)
{
	struct applyrate a;
	char pos[32];
	int i;

	applyrate_reset(&a);
	/* 100 polls a second apart at 1 MB/s ... */
	for (i = 0; i < 100; i++) {
		snprintf(pos, sizeof pos, "%d", i * 1000000);
		applyrate_add(&a, (uint64_t)i * 1000, "bin.000001", pos);
	}
	assert_true(applyrate_get(&a, 99000) == 1000000.0);
	/* ... then stopped: half the window still moves, then none. */
	for (i = 100; i < 105; i++)
		applyrate_add(&a, (uint64_t)i * 1000, "bin.000001", "99000000");
	assert_true(applyrate_get(&a, 104000) == 500000.0);
	for (i = 105; i < 110; i++)
		applyrate_add(&a, (uint64_t)i * 1000, "bin.000001", "99000000");
	assert_true(applyrate_get(&a, 109000) == 0.0);
}

/* A pair across a rotation or a position that went back counts nothing. */
static void
test_file_change_and_going_back(void **state)
{
	struct applyrate a;

	applyrate_reset(&a);
	applyrate_add(&a, 0, "bin.000001", "1000");
	applyrate_add(&a, 1000, "bin.000001", "3000");		/* 2000 in 1 s */
	applyrate_add(&a, 2000, "bin.000002", "4");		/* skipped */
	applyrate_add(&a, 3000, "bin.000002", "4004");		/* 4000 in 1 s */
	assert_true(applyrate_get(&a, 3000) == 3000.0);
	applyrate_add(&a, 4000, "bin.000002", "100");		/* skipped */
	assert_true(applyrate_get(&a, 4000) == 3000.0);
	/* Back to a file seen before: a new generation, not comparable. */
	applyrate_add(&a, 5000, "bin.000001", "9999999");
	assert_true(applyrate_get(&a, 5000) == 3000.0);
}

static void
test_reset_on_unknown(void **state)
{
	struct applyrate a;

	applyrate_reset(&a);
	applyrate_add(&a, 0, "bin.000001", "0");
	applyrate_add(&a, 1000, "bin.000001", "1000");
	applyrate_add(&a, 2000, NULL, NULL);		/* not configured */
	assert_true(applyrate_get(&a, 2000) < 0);
	applyrate_add(&a, 3000, "bin.000001", "2000");
	assert_true(applyrate_get(&a, 3000) < 0);
	applyrate_add(&a, 4000, "bin.000001", "-5");	/* not a position */
	applyrate_add(&a, 5000, "bin.000001", "2000");
	assert_true(applyrate_get(&a, 5000) < 0);
	applyrate_add(&a, 6000, "", "2500");
	assert_true(applyrate_get(&a, 6000) < 0);
	applyrate_add(&a, 7000, "bin.000001", "12x");
	assert_true(applyrate_get(&a, 7000) < 0);
	/* Positions past 2^53 still subtract exactly. */
	applyrate_add(&a, 8000, "bin.000001", "18446744073709550000");
	applyrate_add(&a, 9000, "bin.000001", "18446744073709551000");
	assert_true(applyrate_get(&a, 9000) == 1000.0);
}

/* Polls that stopped coming (the server is down) age out. */
static void
test_ageing(void **state)
{
	struct applyrate a;

	applyrate_reset(&a);
	applyrate_add(&a, 0, "bin.000001", "0");
	applyrate_add(&a, 1000, "bin.000001", "1000");
	assert_true(applyrate_get(&a, 1000 + APPLYRATE_MAX_AGE_MS - 1000) ==
	    1000.0);
	assert_true(applyrate_get(&a, 1 + APPLYRATE_MAX_AGE_MS) < 0);
	/* Same millisecond twice: no time, no rate. */
	applyrate_reset(&a);
	applyrate_add(&a, 5, "bin.000001", "0");
	applyrate_add(&a, 5, "bin.000001", "10");
	assert_true(applyrate_get(&a, 5) < 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_until_two_polls),
		cmocka_unit_test(test_stopped_is_zero),
		cmocka_unit_test(test_window_slides),
		cmocka_unit_test(test_file_change_and_going_back),
		cmocka_unit_test(test_reset_on_unknown),
		cmocka_unit_test(test_ageing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
