/*
 * Health of one target from one sample.  Pure: no clock, no I/O, so every
 * rule below is a unit test away.
 *
 * Decisions the header leaves open, written down for the daemon:
 *
 * - SAMPLE_QUERY_ERROR is `unreachable`; its reason is the sample's error
 *   text as given, which names the failing query (the daemon passes
 *   "status query failed: <server error>"), or "status query failed" when
 *   there is none.  We are connected but cannot see replication (typically
 *   error 1227, a missing SLAVE MONITOR grant), which for a watcher is as
 *   blind as no connection; `unresponsive` is kept for a missed deadline,
 *   the hung-server case that needs a different response.
 * - When several conditions hold, the most severe (lowest enum) wins:
 *   sql_error, io_error, sql_stopped, io_stopped, io_connecting, then lag.
 * - A SQL error while the SQL thread still runs is still `sql_error`.
 * - An IO error with the IO thread `Connecting` (the master went away: 2003)
 *   is `io_connecting`, with the error in the reason: the thread is retrying
 *   on its own, which is not the same as having given up.  With the IO thread
 *   `No` the same error is `io_error`.  An IO error while the thread says
 *   `Yes` is stale and ignored.
 * - A thread whose state is neither Yes, No, Connecting nor Preparing (or
 *   whose column is missing) counts as not running: we cannot vouch for it.
 *   A SQL thread that says Connecting/Preparing is not applying, so it is
 *   `sql_stopped` as well.
 * - Both threads running with lag unknown is `ok`, reason "lag unknown";
 *   a threshold <= 0 is off.
 * - A delayed replica (SQL_Delay > 0) gets a note in the reason; its lag is
 *   judged as is (the delay is part of it), thresholds are the config's job.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "health.h"

static const char *const health_names[HEALTH__COUNT] = {
	[HEALTH_UNKNOWN] = "unknown",
	[HEALTH_UNREACHABLE] = "unreachable",
	[HEALTH_UNRESPONSIVE] = "unresponsive",
	[HEALTH_SQL_ERROR] = "sql_error",
	[HEALTH_IO_ERROR] = "io_error",
	[HEALTH_SQL_STOPPED] = "sql_stopped",
	[HEALTH_IO_STOPPED] = "io_stopped",
	[HEALTH_IO_CONNECTING] = "io_connecting",
	[HEALTH_NOT_REPLICATING] = "not_replicating",
	[HEALTH_LAG_CRITICAL] = "lag_critical",
	[HEALTH_LAGGING] = "lagging",
	[HEALTH_OK] = "ok",
	[HEALTH_PROMOTING] = "promoting",
	[HEALTH_PROMOTED] = "promoted",
	[HEALTH_PROMOTION_INTERRUPTED] = "promotion_interrupted",
	[HEALTH_PRIMARY_UNREACHABLE] = "primary_unreachable",
	[HEALTH_PRIMARY_READ_ONLY] = "primary_read_only",
};

/* No default: a state added above without a severity is UNKNOWN (0 + 3). */
static const unsigned char health_severities[HEALTH__COUNT] = {
	[HEALTH_UNKNOWN] = SEVERITY_UNKNOWN,
	[HEALTH_UNREACHABLE] = SEVERITY_CRITICAL,
	[HEALTH_UNRESPONSIVE] = SEVERITY_CRITICAL,
	[HEALTH_SQL_ERROR] = SEVERITY_CRITICAL,
	[HEALTH_IO_ERROR] = SEVERITY_CRITICAL,
	[HEALTH_SQL_STOPPED] = SEVERITY_CRITICAL,
	[HEALTH_IO_STOPPED] = SEVERITY_CRITICAL,
	[HEALTH_IO_CONNECTING] = SEVERITY_WARNING,
	[HEALTH_NOT_REPLICATING] = SEVERITY_CRITICAL,
	[HEALTH_LAG_CRITICAL] = SEVERITY_CRITICAL,
	[HEALTH_LAGGING] = SEVERITY_WARNING,
	[HEALTH_OK] = SEVERITY_OK,
	[HEALTH_PROMOTING] = SEVERITY_WARNING,
	[HEALTH_PROMOTED] = SEVERITY_OK,
	[HEALTH_PROMOTION_INTERRUPTED] = SEVERITY_CRITICAL,
	[HEALTH_PRIMARY_UNREACHABLE] = SEVERITY_CRITICAL,
	[HEALTH_PRIMARY_READ_ONLY] = SEVERITY_CRITICAL,
};

static const char *const severity_names[] = {
	[SEVERITY_OK] = "OK",
	[SEVERITY_WARNING] = "WARNING",
	[SEVERITY_CRITICAL] = "CRITICAL",
	[SEVERITY_UNKNOWN] = "UNKNOWN",
};


/* Append to a reason; snprintf's truncation is what we want when it is long. */
static void __attribute__((format(printf, 3, 4)))
reason_add(char *buf, size_t len, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	used = strnlen(buf, len);
	if (used >= len - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static const char *
or_empty(const char *s)
{
	return s != NULL ? s : "";
}

/* "cannot connect" or "cannot connect: <error>". */
static void
with_error(char *buf, size_t len, const char *what, const char *error)
{
	if (error != NULL && *error != '\0')
		reason_add(buf, len, "%s: %s", what, error);
	else
		reason_add(buf, len, "%s", what);
}

static int
thread_starting(enum rw_thread t)
{
	return t == THREAD_CONNECTING || t == THREAD_PREPARING;
}

static void
delay_note(const struct rw_status *st, char *buf, size_t len)
{
	if (st->sql_delay <= 0)
		return;
	reason_add(buf, len, "; delayed replica: SQL_Delay %lld s", st->sql_delay);
	if (st->sql_remaining_delay >= 0)
		reason_add(buf, len, ", %lld s remaining",
		    st->sql_remaining_delay);
}

static enum rw_health
classify_lag(const struct rw_sample *s, const struct rw_thresholds *th,
    char *buf, size_t len)
{
	enum rw_health h = HEALTH_OK;

	if (s->lag_ms < 0) {
		reason_add(buf, len, "replicating, lag unknown");
		return HEALTH_OK;
	}
	reason_add(buf, len, "replicating, lag %lld ms", s->lag_ms);
	if (s->lag_source != NULL)
		reason_add(buf, len, " (%s)", s->lag_source);
	if (th->crit_ms > 0 && s->lag_ms >= th->crit_ms) {
		reason_add(buf, len, ", critical at %lld ms", th->crit_ms);
		h = HEALTH_LAG_CRITICAL;
	} else if (th->warn_ms > 0 && s->lag_ms >= th->warn_ms) {
		reason_add(buf, len, ", warning at %lld ms", th->warn_ms);
		h = HEALTH_LAGGING;
	}
	return h;
}

static enum rw_health
classify_status(const struct rw_sample *s, const struct rw_thresholds *th,
    char *buf, size_t len)
{
	const struct rw_status *st = s->status;
	enum rw_health h;

	if (st == NULL || !st->configured) {
		reason_add(buf, len, "no replication configured");
		return HEALTH_NOT_REPLICATING;
	}

	if (st->last_sql_errno != 0) {
		if (st->sql == THREAD_YES)
			reason_add(buf, len, "SQL thread error %u: %s "
			    "(thread still running)", st->last_sql_errno,
			    or_empty(st->last_sql_error));
		else
			reason_add(buf, len, "SQL thread stopped: error %u: %s",
			    st->last_sql_errno, or_empty(st->last_sql_error));
		h = HEALTH_SQL_ERROR;
	} else if (st->last_io_errno != 0 && st->io != THREAD_YES &&
	    !thread_starting(st->io)) {
		reason_add(buf, len, "IO thread: error %u: %s",
		    st->last_io_errno, or_empty(st->last_io_error));
		h = HEALTH_IO_ERROR;
	} else if (st->sql != THREAD_YES) {
		if (st->sql == THREAD_NO)
			reason_add(buf, len, "SQL thread stopped");
		else
			reason_add(buf, len, "SQL thread not running (%s)",
			    replstatus_thread_name(st->sql));
		h = HEALTH_SQL_STOPPED;
	} else if (st->io == THREAD_NO || st->io == THREAD_UNKNOWN) {
		if (st->io == THREAD_NO)
			reason_add(buf, len, "IO thread stopped");
		else
			reason_add(buf, len, "IO thread not running (unknown)");
		h = HEALTH_IO_STOPPED;
	} else if (thread_starting(st->io)) {
		reason_add(buf, len, "IO thread %s to master %s:%s",
		    st->io == THREAD_CONNECTING ? "connecting" : "preparing",
		    st->master_host != NULL ? st->master_host : "?",
		    st->master_port != NULL ? st->master_port : "?");
		if (st->last_io_errno != 0)
			reason_add(buf, len, ": error %u: %s", st->last_io_errno,
			    or_empty(st->last_io_error));
		h = HEALTH_IO_CONNECTING;
	} else
		h = classify_lag(s, th, buf, len);

	delay_note(st, buf, len);
	return h;
}

enum rw_health
health_classify(const struct rw_sample *s, const struct rw_thresholds *th,
    char *reason, size_t len)
{
	if (reason != NULL && len > 0)
		reason[0] = '\0';

	switch (s->kind) {
	case SAMPLE_UNREACHABLE:
		with_error(reason, len, "cannot connect", s->error);
		return HEALTH_UNREACHABLE;
	case SAMPLE_UNRESPONSIVE:
		with_error(reason, len, "no answer within deadline", s->error);
		return HEALTH_UNRESPONSIVE;
	case SAMPLE_QUERY_ERROR:
		/*
		 * Several queries make up a poll, so the caller's text names
		 * the one that failed ("status query failed: …"); a prefix
		 * here would say it twice.
		 */
		if (s->error != NULL && *s->error != '\0')
			reason_add(reason, len, "%s", s->error);
		else
			reason_add(reason, len, "status query failed");
		return HEALTH_UNREACHABLE;
	case SAMPLE_STATUS:
		break;
	}
	return classify_status(s, th, reason, len);
}

/*
 * Hysteresis damps only moves between lag states (ok, lagging, lag_critical):
 * a short spike should not page anyone.  Anything else moves at once, and so
 * does a lag state reached from a non-lag one, so that recovery from an
 * error is not delayed.  The promotion owns promoting/promoted/
 * promotion_interrupted; samples leave those, and their reason, alone.
 *
 * When the state does not change the reason still takes the latest sample's
 * words (the lag figure moves), plus a note while a new lag state is waiting
 * for its hysteresis, so a reader sees why "ok" says 40000 ms.
 */
int
health_update(struct rw_health_state *hs, const struct rw_sample *s,
    const struct rw_thresholds *th)
{
	char reason[sizeof hs->reason];
	enum rw_health h;
	unsigned need;

	if (health_is_promotion_state(hs->state))
		return 0;

	h = health_classify(s, th, reason, sizeof reason);
	need = th->hysteresis > 0 ? th->hysteresis : 1;

	if (h == hs->state) {
		hs->pending = HEALTH_UNKNOWN;
		hs->pending_count = 0;
		memcpy(hs->reason, reason, sizeof hs->reason);
		return 0;
	}
	if (health_is_lag_state(h) && health_is_lag_state(hs->state)) {
		if (hs->pending == h)
			hs->pending_count++;
		else {
			hs->pending = h;
			hs->pending_count = 1;
		}
		if (hs->pending_count < need) {
			memcpy(hs->reason, reason, sizeof hs->reason);
			reason_add(hs->reason, sizeof hs->reason,
			    " (%s for %u of %u samples)", health_name(h),
			    hs->pending_count, need);
			return 0;
		}
	}
	hs->state = h;
	hs->pending = HEALTH_UNKNOWN;
	hs->pending_count = 0;
	memcpy(hs->reason, reason, sizeof hs->reason);
	return 1;
}

const char *
health_name(enum rw_health h)
{
	if ((unsigned)h >= HEALTH__COUNT)
		return "unknown";
	return health_names[h];
}

/* Exact match: these are protocol tokens, always lower case. */
int
health_from_name(const char *name, enum rw_health *h)
{
	for (size_t i = 0; i < HEALTH__COUNT; i++) {
		if (strcmp(name, health_names[i]) == 0) {
			*h = (enum rw_health)i;
			return 0;
		}
	}
	return -1;
}

int
health_is_lag_state(enum rw_health h)
{
	return h == HEALTH_OK || h == HEALTH_LAGGING || h == HEALTH_LAG_CRITICAL;
}

int
health_is_promotion_state(enum rw_health h)
{
	return h == HEALTH_PROMOTING || h == HEALTH_PROMOTED ||
	    h == HEALTH_PROMOTION_INTERRUPTED ||
	    h == HEALTH_PRIMARY_UNREACHABLE || h == HEALTH_PRIMARY_READ_ONLY;
}

enum rw_severity
health_severity(enum rw_health h)
{
	if ((unsigned)h >= HEALTH__COUNT || h == HEALTH_UNKNOWN)
		return SEVERITY_UNKNOWN;
	return (enum rw_severity)health_severities[h];
}

enum rw_severity
health_severity_of(const char *name)
{
	enum rw_health h;

	if (name == NULL || health_from_name(name, &h) != 0)
		return SEVERITY_UNKNOWN;
	return health_severity(h);
}

const char *
health_severity_name(enum rw_severity s)
{
	if ((unsigned)s > SEVERITY_UNKNOWN)
		return "UNKNOWN";
	return severity_names[s];
}

void
health_init(struct rw_health_state *hs)
{
	memset(hs, 0, sizeof *hs);
	hs->state = HEALTH_UNKNOWN;
	hs->pending = HEALTH_UNKNOWN;
	snprintf(hs->reason, sizeof hs->reason, "no sample yet");
}
