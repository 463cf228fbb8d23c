/*
 * replwatchd's shared state: the loop, the configuration and the targets.
 * daemon/ is the only place that knows every lib/ module.
 */
#ifndef RW_DAEMON_H
#define RW_DAEMON_H
#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>

#include <event2/event.h>

#include "applyrate.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "events.h"
#include "flavor.h"
#include "health.h"
#include "lagring.h"
#include "mute.h"
#include "primary.h"
#include "replstatus.h"
#include "timefmt.h"
#include "version.h"


#ifndef TAILQ_FOREACH_SAFE	/* BSD's, missing from glibc's sys/queue.h */
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

struct promotion;
struct server;

enum lag_source { LAG_NONE, LAG_HEARTBEAT, LAG_SBM };
const char *lag_source_name(enum lag_source);

/* What the monitor knows of the old master (optional per target). */
struct master_state {
	struct db	*db;
	struct event	*timer;
	int		 connected;
	int		 busy;		/* monitor.c's step in flight, 0: idle */
	struct rw_flavor flavor;
	int		 flavor_known;
	char		 log_file[256];
	char		 log_pos[32];
	char		 gtid[1024];
	int		 read_only;	/* -1 unknown */
	unsigned	 server_id;	/* its pt-heartbeat row; 0: unknown */
	int		 heartbeat_ready;	/* table created */
	int64_t		 last_ok_ms;	/* last complete tick (wall clock) */
	int64_t		 hb_pending_us;	/* heartbeat being written */
	int64_t		 hb_written_us;	/* newest heartbeat committed */
	int64_t		 hb_first_us;	/* the first one of this run */
	int		 hb_skipped;	/* this tick wrote none (master read-only) */
	unsigned	 hb_failures;	/* heartbeat writes failed in a row */
	unsigned	 status_refused;	/* binlog status refused in a row */
	char		 error[512];
	unsigned	 failures;
};

struct target {
	struct daemon	*d;
	const struct rw_target_config *cf;	/* points into d->conf */
	char		 name[64];

	/* The replica (db: its link) and the tick in flight. */
	struct server	*srv;
	struct db	*db;
	struct event	*timer;
	int		 phase;		/* monitor.c's poll step */
	int		 paused;	/* promotion owns the connection */
	uint64_t	 poll_start_us;
	unsigned	 failures;	/* consecutive failed polls */
	struct rw_flavor flavor;
	int		 flavor_known;
	int		 read_only;	/* -1 unknown */
	char		 server_error[600];
	uint64_t	 hb_retry_us;	/* heartbeat table missing: not before */
	int		 hb_replica_table;	/* write mode: the replica has it */
	int		 hb_layout_bad;	/* its columns are not the layout's */

	/* Last sample. */
	struct rw_status status;
	int		 have_status;
	long long	 sbm_ms;	/* -1 unknown */
	long long	 hb_ms;		/* -1 unknown */
	char		 pos_bytes[32];	/* "" unknown */
	struct applyrate apply;		/* the SQL thread's bytes per second */
	long long	 lag_ms;	/* headline, -1 unknown */
	enum lag_source	 lag_source;

	struct rw_health_state health;
	int64_t		 since_ms;	/* wall clock of the last change */

	struct lagring	*ring;
	struct events	*events;

	uint64_t	 polls_ok, polls_failed;
	double		 last_poll_ms;
	int64_t		 last_poll_unix_ms;

	struct master_state master;
	struct promotion *promotion;
	/*
	 * Once promoted, the poll watches the target as the new primary
	 * (monitor.c); psample is the poll in flight, file/pos its copies.
	 */
	struct rw_primary primary;
	struct rw_primary_sample psample;
	char		 psample_file[256], psample_pos[32];
	unsigned	 admin_busy;	/* setup/start/stop/skip_error in flight */

	/* Muted for maintenance (mute.c): alerting only, polls go on. */
	struct rw_mute	 mute;
	struct event	*mute_timer;
};

struct daemon {
	struct event_base *base;
	struct evdns_base *dns;
	struct rw_config *conf;
	const char	*conf_path;
	struct target	**targets;
	size_t		 ntargets;
	uid_t		 uid;
	gid_t		 admin_gid;	/* (gid_t)-1: none */
	int		 have_admin_gid;
	int64_t		 start_ms;
	int		 stopping;
};


struct target *daemon_target(struct daemon *, const char *name);
/* Apply a new configuration (SIGHUP or the reload command). */
int	 daemon_reload(struct daemon *, char *err, size_t errlen);

/* The monitor tells main.c, which fans out to watchers, sd_notify, hooks. */
void	 daemon_on_change(struct target *, const struct rw_event *);
void	 daemon_on_sample(struct target *);

#endif
