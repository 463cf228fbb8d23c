/* lagring: sizing, wrap-around, window statistics. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "lagring.h"

static void
test_capacity(void **state)
{
	struct lagring *r;

	r = lagring_new(1000, 900000);		/* 15 min at 1 s */
	assert_int_equal(lagring_capacity(r), 902);
	assert_int_equal(lagring_count(r), 0);
	lagring_free(r);

	r = lagring_new(1000, 0);
	assert_int_equal(lagring_capacity(r), 2);
	lagring_free(r);

	/* interval 0 must not divide by zero; the cap keeps memory sane. */
	r = lagring_new(0, 4000000000u);
	assert_int_equal(lagring_capacity(r), 1000000);
	lagring_free(r);

	lagring_free(NULL);
}

static void
test_empty_window(void **state)
{
	struct lagring *r = lagring_new(1000, 10000);
	struct lag_window w;

	w.n = 99;
	w.max_ms = 99;
	lagring_window(r, 5000, 60000, &w);
	assert_int_equal(w.n, 0);
	assert_int_equal(w.unknown, 0);
	assert_int_equal(w.min_ms, 0);
	assert_int_equal(w.max_ms, 0);
	assert_int_equal(w.p95_ms, 0);
	assert_true(w.avg_ms == 0.0);
	lagring_free(r);
}

static void
test_wrap_around(void **state)
{
	struct lagring *r = lagring_new(1000, 3000);	/* capacity 5 */
	uint64_t ts[8];
	long long lag[8];
	size_t n;

	assert_int_equal(lagring_capacity(r), 5);
	for (int i = 1; i <= 12; i++)
		lagring_add(r, (uint64_t)i * 1000, i * 10);
	assert_int_equal(lagring_count(r), 5);

	/* Oldest first: samples 8..12 survived. */
	n = lagring_recent(r, 8, ts, lag);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(ts[i], (8 + i) * 1000);
		assert_int_equal(lag[i], (long long)(8 + i) * 10);
	}
	/* Fewer than held: the newest ones. */
	n = lagring_recent(r, 2, ts, lag);
	assert_int_equal(n, 2);
	assert_int_equal(ts[0], 11000);
	assert_int_equal(ts[1], 12000);
	assert_int_equal(lagring_recent(r, 0, ts, lag), 0);
	lagring_free(r);
}

static void
test_window_stats_p95(void **state)
{
	/* 20 samples, lags 1..20 ms shuffled; capacity 102. */
	static const long long lags[20] = { 7, 19, 3, 12, 1, 20, 15, 9, 4, 18,
	    2, 11, 16, 5, 14, 8, 13, 6, 17, 10 };
	struct lagring *r = lagring_new(1000, 100000);
	struct lag_window w;

	for (int i = 0; i < 20; i++)
		lagring_add(r, 1000 + (uint64_t)i * 1000, lags[i]);
	lagring_add(r, 21000, -1);		/* NULL lag */
	lagring_add(r, 22000, -5);		/* any negative is unknown */

	lagring_window(r, 22000, 60000, &w);
	assert_int_equal(w.n, 20);
	assert_int_equal(w.unknown, 2);
	assert_int_equal(w.min_ms, 1);
	assert_int_equal(w.max_ms, 20);
	assert_true(w.avg_ms > 10.49 && w.avg_ms < 10.51);
	/* Nearest rank: ceil(0.95 * 20) = 19th smallest = 19. */
	assert_int_equal(w.p95_ms, 19);

	/*
	 * Window 10 s at now = 22 s: ts > 12000, i.e. 13000..20000 known
	 * (lags 16,5,14,8,13,6,17,10) + 2 unknown.  Sorted 5 6 8 10 13 14 16
	 * 17, sum 89; ceil(0.95 * 8) = 8th = 17.
	 */
	lagring_window(r, 22000, 10000, &w);
	assert_int_equal(w.n, 8);
	assert_int_equal(w.unknown, 2);
	assert_int_equal(w.min_ms, 5);
	assert_int_equal(w.max_ms, 17);
	assert_true(w.avg_ms == 89.0 / 8);
	assert_int_equal(w.p95_ms, 17);
	lagring_free(r);
}

static void
test_p95_hundred(void **state)
{
	struct lagring *r = lagring_new(1000, 200000);
	struct lag_window w;

	/* 100 samples 0, 10, ..., 990: p95 is the 95th smallest, 940. */
	for (int i = 0; i < 100; i++)
		lagring_add(r, 1000 + (uint64_t)i, (99 - i) * 10);
	lagring_window(r, 2000, 5000, &w);
	assert_int_equal(w.n, 100);
	assert_int_equal(w.p95_ms, 940);
	assert_int_equal(w.min_ms, 0);
	assert_int_equal(w.max_ms, 990);
	lagring_free(r);
}

static void
test_window_edges(void **state)
{
	struct lagring *r = lagring_new(1000, 10000);
	struct lag_window w;

	lagring_add(r, 0, 1);
	lagring_add(r, 5000, 2);
	lagring_add(r, 10000, 3);
	/* ts > now - window: the sample exactly at the edge is out. */
	lagring_window(r, 10000, 5000, &w);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.min_ms, 3);
	/* A window longer than the clock has run takes everything. */
	lagring_window(r, 10000, 60000, &w);
	assert_int_equal(w.n, 3);
	/* Only unknown samples: n = 0, stats 0. */
	lagring_add(r, 11000, -1);
	lagring_window(r, 11000, 500, &w);
	assert_int_equal(w.n, 0);
	assert_int_equal(w.unknown, 1);
	assert_int_equal(w.max_ms, 0);
	lagring_free(r);
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* The selection that replaced the sort agrees with a sort, ties included. */
static void
test_p95_matches_sort(void **state)
{
	long long v[400], sorted[400];
	struct lag_window w;

	srand(7);
	for (int trial = 0; trial < 2000; trial++) {
		int n = 1 + rand() % 300, mod = 1 + rand() % 50;
		struct lagring *r = lagring_new(1, (unsigned)n);
		size_t cnt, rank;

		for (int i = 0; i < n; i++) {
			v[i] = rand() % mod;
			lagring_add(r, (uint64_t)(i + 1), v[i]);
		}
		lagring_window(r, (uint64_t)n, (unsigned)n + 5, &w);
		cnt = lagring_count(r);
		for (size_t i = 0; i < cnt; i++)
			sorted[i] = v[(size_t)n - cnt + i];
		qsort(sorted, cnt, sizeof *sorted, cmp_ll);
		rank = (cnt * 95 + 99) / 100;
		assert_int_equal(w.n, cnt);
		assert_int_equal(w.p95_ms, sorted[rank - 1]);
		assert_int_equal(w.min_ms, sorted[0]);
		assert_int_equal(w.max_ms, sorted[cnt - 1]);
		lagring_free(r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_empty_window),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_window_stats_p95),
		cmocka_unit_test(test_p95_hundred),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_p95_matches_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
