/*
 * Run a configured command (on_state_change, on_promoted, ...) through
 * /bin/sh -c with the details in REPLWATCH_* environment variables, bounded
 * by a timeout, its output logged line by line.  Never blocks the loop.
 */
#ifndef RW_HOOKS_H
#define RW_HOOKS_H
#include "daemon.h"

void	hooks_init(struct daemon *);
/* env: NULL-terminated "NAME=value" strings added to the environment. */
void	hooks_run(const char *what, const char *target, const char *command,
	    unsigned timeout_ms, char *const env[]);
void	hooks_shutdown(void);	/* kill what still runs */

#endif
