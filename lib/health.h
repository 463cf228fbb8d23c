/*
 * Health of one target: a status sample plus thresholds plus the previous
 * state give the new state and a human reason.  Lag states change only after
 * `hysteresis` consecutive samples agree; errors and stopped threads count at
 * once.  Pure logic, no I/O.
 */
#ifndef RW_HEALTH_H
#define RW_HEALTH_H
#include <stddef.h>

#include "replstatus.h"

/* Most severe first. */
enum rw_health {
	HEALTH_UNKNOWN,		/* no sample yet */
	HEALTH_UNREACHABLE,	/* cannot connect */
	HEALTH_UNRESPONSIVE,	/* connected, but a query missed its deadline */
	HEALTH_SQL_ERROR,
	HEALTH_IO_ERROR,
	HEALTH_SQL_STOPPED,
	HEALTH_IO_STOPPED,
	HEALTH_IO_CONNECTING,
	HEALTH_NOT_REPLICATING,	/* no replication configured */
	HEALTH_LAG_CRITICAL,
	HEALTH_LAGGING,
	HEALTH_OK,
	HEALTH_PROMOTING,	/* set by the promotion, not by samples */
	HEALTH_PROMOTED,
	HEALTH_PROMOTION_INTERRUPTED,
	HEALTH_PRIMARY_UNREACHABLE,	/* promoted; the new primary is down */
	HEALTH_PRIMARY_READ_ONLY,	/* promoted; it refuses writes */
	HEALTH__COUNT
};

/*
 * What a state means to a pager: the Monitoring Plugins' statuses, in their
 * numeric order.  The client's check, output and wait take it from here.
 */
enum rw_severity {
	SEVERITY_OK,
	SEVERITY_WARNING,
	SEVERITY_CRITICAL,
	SEVERITY_UNKNOWN
};

struct rw_thresholds {
	long long	 warn_ms;
	long long	 crit_ms;
	unsigned	 hysteresis;	/* >= 1 */
};

/* What one poll saw. */
struct rw_sample {
	enum {
		SAMPLE_STATUS,		/* status row read (maybe "not configured") */
		SAMPLE_UNREACHABLE,	/* connect failed */
		SAMPLE_UNRESPONSIVE,	/* deadline missed */
		SAMPLE_QUERY_ERROR	/* the status query failed */
	} kind;
	const struct rw_status *status;	/* SAMPLE_STATUS */
	long long	 lag_ms;	/* best lag figure, -1: unknown */
	const char	*error;		/* connect/query error text, or NULL */
	const char	*lag_source;	/* "heartbeat", ... for the reason; NULL: unsaid */
};

struct rw_health_state {
	enum rw_health	 state;
	enum rw_health	 pending;	/* lag state waiting for hysteresis */
	unsigned	 pending_count;
	char		 reason[512];
};

void	health_init(struct rw_health_state *);
/*
 * Evaluate one sample.  Returns 1 when state changed (reason updated), 0
 * otherwise (the reason is refreshed all the same).
 */
int	health_update(struct rw_health_state *, const struct rw_sample *,
	    const struct rw_thresholds *);
/* The raw state of a sample with no hysteresis; reason into buf. */
enum rw_health health_classify(const struct rw_sample *,
	    const struct rw_thresholds *, char *reason, size_t len);
const char *health_name(enum rw_health);
int	health_from_name(const char *, enum rw_health *);
int	health_is_lag_state(enum rw_health);
/* promoting, promoted, promotion_interrupted, primary_*: the promotion's. */
int	health_is_promotion_state(enum rw_health);
enum rw_severity health_severity(enum rw_health);
/* The severity of a state by name; SEVERITY_UNKNOWN for a name not known. */
enum rw_severity health_severity_of(const char *name);
const char *health_severity_name(enum rw_severity);

#endif
