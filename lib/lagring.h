/*
 * A fixed-size ring of lag samples sized at creation for the longest window,
 * so memory never grows with uptime.  Window statistics are computed on
 * demand (not on the poll path).
 */
#ifndef RW_LAGRING_H
#define RW_LAGRING_H
#include <stddef.h>
#include <stdint.h>

struct lagring;

struct lag_window {
	size_t		 n;		/* samples with a known lag */
	size_t		 unknown;	/* samples with lag unknown (NULL) */
	long long	 min_ms, max_ms, p95_ms;
	double		 avg_ms;
};

/* Room for span_ms of samples taken every interval_ms. */
struct lagring *lagring_new(unsigned interval_ms, unsigned span_ms);
void	lagring_free(struct lagring *);
/* ts_ms: monotonic milliseconds; lag_ms < 0: unknown. */
void	lagring_add(struct lagring *, uint64_t ts_ms, long long lag_ms);
/* Samples with ts > now_ms - window_ms. */
void	lagring_window(const struct lagring *, uint64_t now_ms,
	    unsigned window_ms, struct lag_window *);
size_t	lagring_capacity(const struct lagring *);
size_t	lagring_count(const struct lagring *);
/* Copy up to max newest samples, oldest first; returns how many. */
size_t	lagring_recent(const struct lagring *, size_t max, uint64_t *ts_ms,
	    long long *lag_ms);

#endif
