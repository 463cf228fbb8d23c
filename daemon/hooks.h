/*
 * Run a configured command (on_state_change, on_promoted, ...) through
 * /bin/sh -c with the details in REPLWATCH_* environment variables, bounded
 * by a timeout, its output logged line by line within caps.  It gets no
 * descriptor of the daemon's but its stdin, stdout and stderr, and nothing
 * it starts outlives it (the daemon is a child subreaper).  Never blocks
 * the loop.
 */
#ifndef RW_HOOKS_H
#define RW_HOOKS_H
#include "daemon.h"

void	hooks_init(struct daemon *);
/*
 * How a hook ended: ok when it exited 0 within its timeout; detail says how
 * (exit status, signal, timeout) and its last line of output.
 */
typedef void (*hook_done_fn)(int ok, const char *detail, void *arg);

/*
 * env: NULL-terminated "NAME=value" strings added to the environment.  done
 * (may be NULL) is called once the hook has exited and its output closed
 * (or still open half a second after the exit: held by what it left).
 * 0, or -1 if it could not be started (done is then never called).
 */
int	hooks_run(const char *what, const char *target, const char *command,
	    unsigned timeout_ms, char *const env[], hook_done_fn done, void *arg);
void	hooks_shutdown(void);	/* kill what still runs */

#endif
