/*
 * Replication control by the state model of Amazon RDS's procedures
 * (REFERENCE §1): a *service state* read from the status decides whether
 * start, stop or reset may be called, must be preceded by a stop, is already
 * done, or is refused; after the statement, the state read back (never the
 * statement's own answer) decides whether the action took effect.  RDS
 * refuses to start a half-running replica, to stop a stopped one, and its
 * start errors while the IO thread is still connecting although the threads
 * run: each of those is decided here, once, for every caller.
 */
#ifndef RW_REPLCTL_H
#define RW_REPLCTL_H
#include <stddef.h>

#include "replstatus.h"

enum rw_service {
	SERVICE_NOT_EXIST,	/* nothing configured */
	SERVICE_OFF,		/* neither thread runs */
	SERVICE_BROKEN,		/* anything between OFF and ON */
	SERVICE_ON		/* IO running and connected, SQL running */
};

enum rw_repl_action { REPL_START, REPL_STOP, REPL_RESET };

enum rw_repl_next {
	NEXT_NOTHING,		/* already as asked: success without a call */
	NEXT_CALL,		/* run the action's statement */
	NEXT_STOP_FIRST,	/* stop, read the state again, then decide */
	NEXT_REFUSE		/* impossible from this state */
};

enum rw_service replctl_service(const struct rw_status *);
const char *replctl_service_name(enum rw_service);
const char *replctl_action_name(enum rw_repl_action);

/*
 * What to do for action from state.  rds: the kind's statements are RDS's
 * procedures.  stopped: a stop was already made for this action (never
 * stop twice).  why: for NEXT_REFUSE and NEXT_NOTHING, a sentence.
 */
enum rw_repl_next replctl_next(enum rw_repl_action, enum rw_service, int rds,
	    int stopped, char *why, size_t len);

/*
 * Did the action take effect, judged from the status read after it?  A
 * start counts when both threads run, even with the IO thread still
 * connecting (note says so).  note: what the caller should tell the
 * operator about the state reached or not reached ("" when nothing).
 */
int	replctl_reached(enum rw_repl_action, const struct rw_status *,
	    char *note, size_t len);

/*
 * skip_error's confirmation: the operator names the SQL error they saw, and
 * nothing is skipped unless it is the one the replica stopped on now (the
 * SQL thread stopped, Last_SQL_Errno == expected).  0: go on; -1: refuse,
 * with a sentence in why.
 */
int	replctl_skip_check(const struct rw_status *, unsigned expected,
	    char *why, size_t len);

/*
 * Was the event skipped, judged from the status read after the statements?
 * Yes when the SQL thread runs again, or when it executed past the
 * position it had stopped at (before_file/before_pos, NULL when unknown)
 * and stopped on the next error: note then says which.
 */
int	replctl_skip_reached(const char *before_file, const char *before_pos,
	    const struct rw_status *after, char *note, size_t len);

/* One line of what the status shows: "IO Yes, SQL No (error 1062: ...)". */
void	replctl_describe(const struct rw_status *, char *buf, size_t len);

#endif
