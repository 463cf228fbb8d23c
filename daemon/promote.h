/*
 * The cut-over: a journaled state machine on its own connections.
 * preflight -> freeze -> catchup -> switch -> stop -> reset -> verify ->
 * done; any failure before the switch has succeeded rolls back (replica
 * read-only, traffic back, old master writable, replication running); after
 * it, only --resume goes on.  See doc/PROTOCOL.md "promote".
 */
#ifndef RW_PROMOTE_H
#define RW_PROMOTE_H
#include <cjson/cJSON.h>

#include "control.h"
#include "daemon.h"
#include "promorec.h"

struct promote_opts {
	int	 freeze;		/* freeze the old master (the default) */
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
/* Release the fence a promotion holds on the old master. */
void	 promote_unfence(struct target *, struct client *, long long id);
int	 promote_running(const struct target *);
void	 promote_free(struct target *);	/* daemon shutdown */
/* Replication was set up anew: drop a finished promotion and its journal. */
void	 promote_forget(struct target *);
/* The record of the target's promotion (metrics.c), or NULL: none. */
const struct promo_record *promote_record(const struct target *);

#endif
