/*
 * Lag samples in a ring allocated once.  The poll path only stores two words
 * per sample; the statistics, which sort, run when a client asks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lagring.h"
#include "xmalloc.h"

/*
 * 1,000,000 samples is 16 MB and, at the shortest sane interval (100 ms),
 * more than a day: a typo in the config must not take the host's memory.
 */
#define LAGRING_MAX	1000000

struct lagring {
	size_t		 cap;
	size_t		 n;		/* samples held, <= cap */
	size_t		 next;		/* slot the next sample goes to */
	uint64_t	*ts;
	long long	*lag;
};

/*
 * span/interval samples plus two: one because both ends of the span are
 * sampled, one for the poll that is late by a little.
 */
struct lagring *
lagring_new(unsigned interval_ms, unsigned span_ms)
{
	struct lagring *r;
	uint64_t cap;

	if (interval_ms == 0)
		interval_ms = 1;
	cap = (uint64_t)span_ms / interval_ms + 2;
	if (cap > LAGRING_MAX)
		cap = LAGRING_MAX;

	r = xcalloc(1, sizeof *r);
	r->cap = (size_t)cap;
	r->ts = xcalloc(r->cap, sizeof *r->ts);
	r->lag = xcalloc(r->cap, sizeof *r->lag);
	return r;
}

void
lagring_free(struct lagring *r)
{
	if (r == NULL)
		return;
	free(r->ts);
	free(r->lag);
	free(r);
}

void
lagring_add(struct lagring *r, uint64_t ts_ms, long long lag_ms)
{
	r->ts[r->next] = ts_ms;
	r->lag[r->next] = lag_ms < 0 ? -1 : lag_ms;
	r->next = (r->next + 1) % r->cap;
	if (r->n < r->cap)
		r->n++;
}

size_t
lagring_capacity(const struct lagring *r)
{
	return r->cap;
}

size_t
lagring_count(const struct lagring *r)
{
	return r->n;
}

/* Slot of the i-th held sample, 0 the oldest. */
static size_t
slot(const struct lagring *r, size_t i)
{
	return (r->next + r->cap - r->n + i) % r->cap;
}

/*
 * The k-th smallest of a[0..n-1] (0-based), reordering a: Hoare's
 * selection, linear on average.  A status asks for p95 of up to 9,000
 * samples per window per target; a full sort made that cost grow with the
 * daemon's uptime on the loop's only thread.
 */
static long long
select_kth(long long *a, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		long long pivot = a[lo + (hi - lo) / 2], t;
		size_t i = lo, j = hi;

		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return a[k];
	}
	return a[k];
}

/*
 * Every held sample is looked at rather than stopping at the first old one:
 * the timestamps are the caller's and one out of order must not hide the
 * rest.  A window reaching back before time 0 takes everything.
 */
void
lagring_window(const struct lagring *r, uint64_t now_ms, unsigned window_ms,
    struct lag_window *w)
{
	long long *known;
	double sum = 0;
	size_t rank;
	int all;

	memset(w, 0, sizeof *w);
	if (r->n == 0)
		return;
	all = window_ms > now_ms;
	known = xcalloc(r->n, sizeof *known);
	for (size_t i = 0; i < r->n; i++) {
		size_t s = slot(r, i);

		if (!all && r->ts[s] <= now_ms - window_ms)
			continue;
		if (r->lag[s] < 0) {
			w->unknown++;
			continue;
		}
		if (w->n == 0 || r->lag[s] < w->min_ms)
			w->min_ms = r->lag[s];
		if (w->n == 0 || r->lag[s] > w->max_ms)
			w->max_ms = r->lag[s];
		known[w->n++] = r->lag[s];
		sum += (double)r->lag[s];
	}
	if (w->n > 0) {
		w->avg_ms = sum / (double)w->n;
		/* Nearest rank: the smallest value with 95% at or below it. */
		rank = (w->n * 95 + 99) / 100;
		w->p95_ms = select_kth(known, w->n, rank - 1);
	}
	free(known);
}

size_t
lagring_recent(const struct lagring *r, size_t max, uint64_t *ts_ms,
    long long *lag_ms)
{
	size_t n = max < r->n ? max : r->n;

	for (size_t i = 0; i < n; i++) {
		size_t s = slot(r, r->n - n + i);

		if (ts_ms != NULL)
			ts_ms[i] = r->ts[s];
		if (lag_ms != NULL)
			lag_ms[i] = r->lag[s];
	}
	return n;
}
