/*
 * check's rules, in order:
 * - the state's severity from health.c sets the floor (a state this build
 *   does not know is UNKNOWN);
 * - when the lag is known and the state is one the lag decides (ok,
 *   lagging, lag_critical): ranges the user gave (-w, -c) judge the lag
 *   and replace the state's severity, so they may be looser than the
 *   daemon's thresholds as well as stricter; without them the daemon's
 *   thresholds can only raise it (its lagging state, which waited for
 *   hysteresis, stays a WARNING while the lag falls);
 * - in any other OK or WARNING state but the promotion's, a known lag can
 *   raise it too (io_connecting with a critical lag is CRITICAL);
 * - a muted target reports OK, whatever it would have been.
 * An unknown lag is never an alarm by itself: the state says whether the
 * threads run.
 */
#include <string.h>

#include "verdict.h"

/* For "worse": OK < UNKNOWN < WARNING < CRITICAL, as max_state_alt(). */
static int
rank(enum rw_severity s)
{
	switch (s) {
	case SEVERITY_OK:
		return 0;
	case SEVERITY_UNKNOWN:
		return 1;
	case SEVERITY_WARNING:
		return 2;
	case SEVERITY_CRITICAL:
		return 3;
	}
	return 1;
}

enum rw_severity
verdict_worst(enum rw_severity a, enum rw_severity b)
{
	return rank(a) >= rank(b) ? a : b;
}

void
verdict_judge(const struct verdict_in *in, struct verdict *v)
{
	enum rw_health h;
	enum rw_severity lag_sev;
	int known;

	known = in->state != NULL && health_from_name(in->state, &h) == 0;
	v->severity = health_severity_of(in->state);
	v->by = VERDICT_BY_STATE;

	if (known && in->lag_known) {
		lag_sev = range_judge(in->warn, in->crit, in->lag_s);
		if (health_is_lag_state(h) && in->ranges_given) {
			v->severity = lag_sev;
			if (lag_sev != SEVERITY_OK)
				v->by = lag_sev == SEVERITY_CRITICAL ?
				    VERDICT_BY_CRIT : VERDICT_BY_WARN;
		} else if ((v->severity == SEVERITY_OK ||
		    v->severity == SEVERITY_WARNING) &&
		    !health_is_promotion_state(h) &&
		    rank(lag_sev) > rank(v->severity)) {
			v->severity = lag_sev;
			v->by = lag_sev == SEVERITY_CRITICAL ?
			    VERDICT_BY_CRIT : VERDICT_BY_WARN;
		}
	}
	v->status = in->muted ? SEVERITY_OK : v->severity;
}
