/*
 * The state model of RDS's replication procedures, as pure decisions
 * (see replctl.h).  Self-managed servers follow the same model: it is the
 * stricter one, and a native STOP SLAVE on a stopped replica or RESET SLAVE
 * ALL on a running one would only warn or fail in other words.
 */
#include <stdio.h>
#include <string.h>

#include "replctl.h"

enum rw_service
replctl_service(const struct rw_status *st)
{
	int io, sql;

	if (!st->configured)
		return SERVICE_NOT_EXIST;
	io = st->io == THREAD_YES;
	sql = st->sql == THREAD_YES;
	if (io && sql)
		return SERVICE_ON;
	if ((st->io == THREAD_NO || st->io == THREAD_UNKNOWN) &&
	    (st->sql == THREAD_NO || st->sql == THREAD_UNKNOWN))
		return SERVICE_OFF;
	return SERVICE_BROKEN;
}

const char *
replctl_service_name(enum rw_service s)
{
	switch (s) {
	case SERVICE_NOT_EXIST:
		return "NOT_EXIST";
	case SERVICE_OFF:
		return "OFF";
	case SERVICE_BROKEN:
		return "BROKEN";
	case SERVICE_ON:
		return "ON";
	}
	return "?";
}

const char *
replctl_action_name(enum rw_repl_action a)
{
	switch (a) {
	case REPL_START:
		return "start";
	case REPL_STOP:
		return "stop";
	case REPL_RESET:
		return "reset";
	}
	return "?";
}

enum rw_repl_next
replctl_next(enum rw_repl_action a, enum rw_service s, int rds, int stopped,
    char *why, size_t len)
{
	snprintf(why, len, "%s", "");
	switch (a) {
	case REPL_START:
		if (s == SERVICE_NOT_EXIST) {
			snprintf(why, len, "no replication is configured: run "
			    "setup first");
			return NEXT_REFUSE;
		}
		if (s == SERVICE_ON) {
			snprintf(why, len, "replication was already running");
			return NEXT_NOTHING;
		}
		/*
		 * RDS refuses to start a half-running replica ("First call
		 * mysql.rds_stop_replication"); a native START SLAVE starts
		 * only the missing thread, which is all that is needed.
		 */
		if (s == SERVICE_BROKEN && rds) {
			if (stopped) {
				snprintf(why, len, "replication is still half "
				    "running after a stop");
				return NEXT_REFUSE;
			}
			return NEXT_STOP_FIRST;
		}
		return NEXT_CALL;
	case REPL_STOP:
		if (s == SERVICE_NOT_EXIST || s == SERVICE_OFF) {
			snprintf(why, len, "replication was already stopped%s",
			    s == SERVICE_NOT_EXIST ? " (none configured)" : "");
			return NEXT_NOTHING;
		}
		return NEXT_CALL;
	case REPL_RESET:
		if (s == SERVICE_NOT_EXIST) {
			snprintf(why, len, "no replication was configured");
			return NEXT_NOTHING;
		}
		/* RDS's reset stops by itself; RESET SLAVE ALL refuses to. */
		if (s != SERVICE_OFF && !rds) {
			if (stopped) {
				snprintf(why, len, "replication still runs after "
				    "a stop");
				return NEXT_REFUSE;
			}
			return NEXT_STOP_FIRST;
		}
		return NEXT_CALL;
	}
	snprintf(why, len, "unknown action");
	return NEXT_REFUSE;
}

void
replctl_describe(const struct rw_status *st, char *buf, size_t len)
{
	int n;

	if (!st->configured) {
		snprintf(buf, len, "no replication configured");
		return;
	}
	n = snprintf(buf, len, "IO %s, SQL %s", replstatus_thread_name(st->io),
	    replstatus_thread_name(st->sql));
	if (n < 0 || (size_t)n >= len)
		return;
	if (st->last_sql_errno != 0)
		n += snprintf(buf + n, len - (size_t)n, "; SQL error %u: %s",
		    st->last_sql_errno, st->last_sql_error ?
		    st->last_sql_error : "");
	if (n < 0 || (size_t)n >= len)
		return;
	if (st->last_io_errno != 0)
		snprintf(buf + n, len - (size_t)n, "; IO error %u: %s",
		    st->last_io_errno, st->last_io_error ? st->last_io_error : "");
}

int
replctl_reached(enum rw_repl_action a, const struct rw_status *st, char *note,
    size_t len)
{
	enum rw_service s = replctl_service(st);
	char now[700];

	snprintf(note, len, "%s", "");
	replctl_describe(st, now, sizeof now);
	switch (a) {
	case REPL_START:
		if (st->configured && st->sql == THREAD_YES &&
		    (st->io == THREAD_YES || st->io == THREAD_CONNECTING ||
		    st->io == THREAD_PREPARING)) {
			if (s != SERVICE_ON)
				snprintf(note, len, "both threads run, the IO "
				    "thread still connecting (%s)", now);
			return 1;
		}
		snprintf(note, len, "replication is not running: %s", now);
		return 0;
	case REPL_STOP:
		if (s == SERVICE_OFF || s == SERVICE_NOT_EXIST)
			return 1;
		snprintf(note, len, "replication still runs: %s", now);
		return 0;
	case REPL_RESET:
		if (s == SERVICE_NOT_EXIST)
			return 1;
		snprintf(note, len, "replication is still configured: %s", now);
		return 0;
	}
	return 0;
}

int
replctl_skip_check(const struct rw_status *st, unsigned expected, char *why,
    size_t len)
{
	const char *text = st->last_sql_error ? st->last_sql_error : "";

	snprintf(why, len, "%s", "");
	if (!st->configured) {
		snprintf(why, len, "no replication is configured");
		return -1;
	}
	if (st->sql == THREAD_YES) {
		snprintf(why, len, "the SQL thread is running: there is no "
		    "error to skip");
		return -1;
	}
	if (st->last_sql_errno == 0) {
		snprintf(why, len, "the SQL thread is stopped without an error "
		    "(stopped by hand?): there is no error to skip; start it "
		    "instead");
		return -1;
	}
	if (st->last_sql_errno != expected) {
		snprintf(why, len, "the replica's SQL error is %u (%s), not %u: "
		    "nothing was skipped", st->last_sql_errno, text, expected);
		return -1;
	}
	return 0;
}

/* Both known and different: a NULL says nothing either way. */
static int
moved(const char *before, const char *after)
{
	return before != NULL && after != NULL && strcmp(before, after) != 0;
}

int
replctl_skip_reached(const char *before_file, const char *before_pos,
    const struct rw_status *after, char *note, size_t len)
{
	char now[700];

	snprintf(note, len, "%s", "");
	replctl_describe(after, now, sizeof now);
	if (!after->configured) {
		snprintf(note, len, "replication is no longer configured");
		return 0;
	}
	if (after->sql == THREAD_YES)
		return 1;
	if (moved(before_file, after->relay_master_log_file) ||
	    moved(before_pos, after->exec_master_log_pos)) {
		snprintf(note, len, "the event was skipped, but the SQL thread "
		    "stopped again: %s", now);
		return 1;
	}
	snprintf(note, len, "the SQL thread is still stopped at the same "
	    "event: %s", now);
	return 0;
}
