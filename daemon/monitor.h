/*
 * The per-target poll: connect -> detect -> status -> heartbeat -> health ->
 * publish, every interval, on the loop.  Also watches the old master when
 * one is configured (binlog position, read_only, heartbeat writes).
 */
#ifndef RW_MONITOR_H
#define RW_MONITOR_H
#include <stddef.h>

#include "daemon.h"

struct target *monitor_new(struct daemon *, const struct rw_target_config *);
void	 monitor_free(struct target *);
void	 monitor_start(struct target *);
/* Take a new configuration of the same target; reconnects. */
void	 monitor_reconfigure(struct target *, const struct rw_target_config *);

/* Stop/resume polling the replica (the promotion borrows the server). */
void	 monitor_pause(struct target *, int paused);
/*
 * Set a state that samples do not decide (promoting, promoted, ...): with
 * the samples' own changes the only writer of t->health, and every change
 * is published (events, watchers, the hook, sd_notify).  HEALTH_UNKNOWN
 * hands the target back to its samples.
 */
void	 monitor_set_state(struct target *, enum rw_health, const char *reason);
/* Poll now instead of waiting for the timer. */
void	 monitor_poll_now(struct target *);


#endif
