/*
 * ringcost: what the `history` part of every `status` costs once the lag
 * ring is full (bench/socket.sh).  A status reply computes the 1m, 5m and
 * 15m windows (lagring_window: a scan of the whole ring, a copy and a qsort
 * of the known samples in the window) on every request; a daemon that has
 * run for 15 minutes holds 15 min / interval samples per target.
 *
 *   ringcost [-k REPEATS]
 *
 * Prints, per interval and lag pattern, the minimum (the cost with the CPU to
 * itself: the machine is shared), median and p99 wall time of the three
 * windows, in microseconds (CLOCK_MONOTONIC, single thread).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "lagring.h"

#define SPAN_MS	(15 * 60 * 1000)

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char *argv[])
{
	static const unsigned intervals[] = { 1000, 250, 100 };
	static const char *const patterns[] = {
		"constant 0 (healthy, seconds_behind_master)",
		"falling 60 s -> 0 (catching up)",
		"random 0-60 s (noisy heartbeat lag)" };
	int k = 200, ch;
	uint64_t *t;
	volatile long long sink = 0;

	while ((ch = getopt(argc, argv, "k:")) != -1) {
		if (ch != 'k') {
			fprintf(stderr, "usage: ringcost [-k REPEATS]\n");
			return 64;
		}
		k = atoi(optarg);
	}
	if (k < 1 || (t = calloc((size_t)k, sizeof *t)) == NULL)
		return 1;
	srandom(1);
	printf("| interval | samples in ring (full, 15 min) | lag pattern | "
	    "1m+5m+15m windows min us | median us | p99 us | x 50 targets "
	    "(status of all), median ms |\n");
	printf("| ---: | ---: | --- | ---: | ---: | ---: | ---: |\n");
	for (size_t i = 0; i < sizeof intervals / sizeof intervals[0]; i++) {
		for (int p = 0; p < 3; p++) {
			struct lagring *r = lagring_new(intervals[i], SPAN_MS);
			size_t cap = lagring_capacity(r);
			uint64_t now = 0;
			struct lag_window w;
			double med;

			for (size_t s = 0; s < cap; s++) {
				now = 1000000 + s * intervals[i];
				lagring_add(r, now, p == 0 ? 0 : p == 1 ?
				    (long long)(60000 - 60000 * s / cap) :
				    random() % 60000);
			}
			for (int j = 0; j < k; j++) {
				uint64_t t0 = now_ns();

				lagring_window(r, now, 60 * 1000, &w);
				sink += w.p95_ms;
				lagring_window(r, now, 5 * 60 * 1000, &w);
				sink += w.p95_ms;
				lagring_window(r, now, 15 * 60 * 1000, &w);
				sink += w.p95_ms;
				t[j] = now_ns() - t0;
			}
			qsort(t, (size_t)k, sizeof *t, cmp_u64);
			med = (double)t[(size_t)ceil(0.5 * k) - 1] / 1000.0;
			printf("| %u ms | %zu | %s | %.1f | %.1f | %.1f | %.1f |\n",
			    intervals[i], cap, patterns[p], (double)t[0] / 1000.0, med,
			    (double)t[(size_t)ceil(0.99 * k) - 1] / 1000.0,
			    med * 50 / 1000.0);
			lagring_free(r);
		}
	}
	free(t);
	return sink == 42 ? 0 : 0;
}
