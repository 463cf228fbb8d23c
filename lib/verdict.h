/*
 * The verdict of replwatchctl check on one target: the daemon's state, its
 * lag against the warning and critical ranges, and a mute, into the
 * Monitoring Plugins' status.  Pure logic, no I/O, so every rule is unit
 * tested; the rules are also in replwatchctl(8), CHECK.
 */
#ifndef RW_VERDICT_H
#define RW_VERDICT_H

#include "health.h"
#include "range.h"

struct verdict_in {
	const char	*state;		/* the daemon's health state name */
	int		 lag_known;
	double		 lag_s;
	const struct rw_range *warn;	/* the ranges in force; NULL: none */
	const struct rw_range *crit;
	int		 ranges_given;	/* -w or -c: they judge the lag states */
	int		 muted;
};

struct verdict {
	enum rw_severity severity;	/* what the target is */
	enum rw_severity status;	/* what check reports: OK when muted */
	enum {
		VERDICT_BY_STATE,	/* the state's own severity */
		VERDICT_BY_WARN,	/* the lag raised the warning range */
		VERDICT_BY_CRIT
	} by;
};

void	verdict_judge(const struct verdict_in *, struct verdict *);
/* The worse of two: CRITICAL, then WARNING, then UNKNOWN, then OK. */
enum rw_severity verdict_worst(enum rw_severity, enum rw_severity);

#endif
