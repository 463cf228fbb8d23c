/*
 * The fence on a promoted target's old master: read_only (and
 * super_read_only on MySQL) plus a global read lock held on a connection of
 * replwatchd's own, so that not even accounts that read_only exempts (SUPER,
 * READ_ONLY ADMIN) can commit there.  Checked every second; taken again
 * (after a lost link or a restart of either side) until an operator
 * releases it.  See replwatchctl(8) "unfence".
 */
#ifndef RW_FENCE_H
#define RW_FENCE_H
#include <cjson/cJSON.h>

#include "daemon.h"

struct fence;

/*
 * Hold the fence of t's old master.  m (may be NULL) is a connection that
 * already holds it, which the fence then owns; else it connects and takes it.
 */
struct fence *fence_hold(struct target *, struct db *m, int mysql);
/* Release: the lock ends with its connection; read_only stays as it is. */
void	 fence_release(struct fence *);
/* {held, since, last_error}. */
cJSON	*fence_json(const struct fence *);

#endif
