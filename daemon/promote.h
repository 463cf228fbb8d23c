/*
 * The cut-over: a journaled state machine on its own connections.
 * preflight -> freeze -> catchup -> stop -> reset -> verify -> done; any
 * failure before the reset rolls back (old master writable again,
 * replication running).  See doc/PROTOCOL.md "promote".
 */
#ifndef RW_PROMOTE_H
#define RW_PROMOTE_H
#include <cjson/cJSON.h>

#include "control.h"
#include "daemon.h"

struct promote_opts {
	int	 freeze_master;
	int	 dry_run;
	int	 force;
	int	 resume;
	double	 max_lag_s;
	double	 timeout_s;
};

/* Load each target's journal at start-up: promoted / interrupted state. */
void	 promote_load(struct target *);
/* Start (or resume) a promotion streaming to client/id. */
void	 promote_start(struct target *, struct client *, long long id,
	    const struct promote_opts *);
/* Cancel a running promotion or roll back an interrupted one. */
void	 promote_abort(struct target *, struct client *, long long id);
int	 promote_running(const struct target *);
void	 promote_free(struct target *);	/* daemon shutdown */
/* Replication was set up anew: drop a finished promotion and its journal. */
void	 promote_forget(struct target *);

#endif
