/*
 * Admin command handlers: setup, start, stop (one short sequence of
 * statements on a fresh connection) and promote, abort (promote.c).
 */
#ifndef RW_ADMIN_H
#define RW_ADMIN_H
#include "commands.h"

void	admin_setup(struct daemon *, struct client *,
	    const struct proto_request *, struct target *);
void	admin_start(struct daemon *, struct client *,
	    const struct proto_request *, struct target *);
void	admin_stop(struct daemon *, struct client *,
	    const struct proto_request *, struct target *);
void	admin_promote(struct daemon *, struct client *,
	    const struct proto_request *, struct target *);
void	admin_abort(struct daemon *, struct client *,
	    const struct proto_request *, struct target *);
void	admin_unfence(struct daemon *, struct client *,
	    const struct proto_request *, struct target *);

#endif
