/*
 * Muting a target for maintenance: the mute and unmute commands, the
 * expiry (a timer on the loop), and the file in state_dir that keeps a
 * mute across restarts.  A muted target is polled and changes state as
 * ever; only alerting reads the mute (status "muted", check, metrics).
 */
#ifndef RW_MUTECTL_H
#define RW_MUTECTL_H
#include "commands.h"

/* A new target: its timer, and its mute from state_dir if one is left. */
void	mute_init(struct target *);
void	mute_free(struct target *);

void	mute_cmd(struct daemon *, struct client *,
	    const struct proto_request *, struct target *);
void	unmute_cmd(struct daemon *, struct client *,
	    const struct proto_request *, struct target *);

#endif
