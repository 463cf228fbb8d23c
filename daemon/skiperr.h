/*
 * skip_error: skip the event the replica's SQL thread stopped on, through
 * mysql.rds_skip_repl_error() on RDS or the skip counter and a start of
 * the SQL thread natively.  The request names the error number the
 * operator saw; nothing is done unless it is the replica's current one.
 */
#ifndef RW_SKIPERR_H
#define RW_SKIPERR_H
#include "commands.h"

void	skiperr_cmd(struct daemon *, struct client *,
	    const struct proto_request *, struct target *);

#endif
