/*
 * Threshold ranges in the Monitoring Plugins' syntax
 * (https://www.monitoring-plugins.org/doc/guidelines.html#THRESHOLDFORMAT):
 * [@]start:end, where start defaults to 0 and may be ~ (minus infinity),
 * end is infinity when empty, and "10" alone means 0:10.  A value outside
 * the range raises the alert; with @, a value inside it (ends included).
 * Pure logic, no I/O: check uses it, and anything else that takes -w/-c.
 */
#ifndef RW_RANGE_H
#define RW_RANGE_H
#include <stddef.h>

#include "health.h"

#define RANGE_TEXT_MAX	64

struct rw_range {
	double		 start;		/* -INFINITY for ~ */
	double		 end;		/* INFINITY when empty */
	int		 inside;	/* @: alert inside, not outside */
	char		 text[RANGE_TEXT_MAX];	/* as given, for perfdata */
};

/*
 * Parse s into *r.  0, or -1 with why it is not a range in err (without
 * the input itself: the caller names the option and quotes it).
 */
int	range_parse(const char *s, struct rw_range *r, char *err, size_t len);
/* The range of the plain number n (0:n), for a threshold given as one. */
void	range_upto(struct rw_range *r, double n);
/* Does v raise the alert? */
int	range_alert(const struct rw_range *r, double v);
/*
 * v against a warning and a critical range (either NULL: none): CRITICAL
 * when crit alerts, else WARNING when warn does, else OK.
 */
enum rw_severity range_judge(const struct rw_range *warn,
	    const struct rw_range *crit, double v);

#endif
