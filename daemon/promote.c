/*
 * The promotion state machine.  It borrows the target from the monitor
 * (paused), opens its own connections, and writes the journal before and
 * after every step so that a daemon killed at any point comes back knowing
 * what is done.  One query is in flight at a time; each callback decides the
 * next phase.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "journal.h"
#include "log.h"
#include "monitor.h"
#include "promote.h"
#include "server.h"
#include "snapshot.h"
#include "xmalloc.h"

enum step { ST_PREFLIGHT, ST_FREEZE, ST_CATCHUP, ST_STOP, ST_RESET, ST_VERIFY,
	ST_DONE, ST__COUNT };
static const char *const step_names[ST__COUNT] = { "preflight", "freeze",
	"catchup", "stop", "reset", "verify", "done" };

enum sstat { SS_PENDING, SS_RUNNING, SS_DONE, SS_FAILED, SS_SKIPPED };
static const char *const sstat_names[] = { "pending", "running", "done",
	"failed", "skipped" };

enum outcome { OUT_RUNNING, OUT_PROMOTED, OUT_ABORTED, OUT_INTERRUPTED,
	OUT_DRY_RUN };
static const char *const outcome_names[] = { "running", "promoted", "aborted",
	"interrupted", "dry_run" };

enum phase {
	P_IDLE,
	P_R_CONNECT, P_R_LOCK, P_R_STATUS,
	P_M_CONNECT, P_M_PROBE, P_M_VARS, P_M_STATUS0,
	P_M_LWT, P_M_RO_ON, P_M_FTWRL, P_M_POS, P_M_GTID,
	P_R_RESTART,		/* resume: threads were stopped before the reset */
	P_R_POSWAIT, P_R_POLL,
	P_R_STOP, P_R_STOP_CHECK,
	P_R_RESET, P_R_VERIFY_STATUS, P_R_VERIFY_RO, P_R_SET_RW, P_R_VERIFY_RO2,
	P_M_UNLOCK,
	P_RB_START, P_RB_M_CONNECT, P_RB_UNLOCK,
	P_RB_RO
};

#define FREEZE_LOCK_WAIT_S	2	/* lock_wait_timeout of the freeze session */
/*
 * The client deadline of a statement bounded by that lock_wait_timeout: the
 * server's own 1205 must arrive first, or the retry never runs (and the
 * statement may still succeed on the server after we gave up on it).
 */
#define FREEZE_QUERY_MS(p)	(FREEZE_LOCK_WAIT_S * 1000u + \
				    (p)->t->cf->query_timeout_ms)
#define FREEZE_TRIES		3
#define POLL_US			10000	/* catch-up status poll without POS_WAIT */

struct promotion {
	struct target	*t;
	struct client	*client;	/* NULL once the requester left */
	long long	 id;
	struct promote_opts opt;
	enum outcome	 outcome;
	enum phase	 phase;
	enum step	 cur;
	struct server	*rs;		/* the replica */
	struct db	*r, *m;		/* r: rs's link */
	struct rw_flavor *rfl;		/* rs's kind */
	struct rw_flavor mfl;
	struct event	*timer;
	char		*journal;
	char		 lock_name[96];

	int64_t		 started_ms, finished_ms;
	uint64_t	 start_us, freeze_us, deadline_us;
	double		 write_blocked_ms;	/* < 0: none */
	struct {
		enum sstat	 st;
		uint64_t	 start_us;
		double		 ms;
		char		 detail[512];
	} steps[ST__COUNT];

	char		 final_file[256], final_pos[32], final_gtid[1024];
	char		 stop_file[256], stop_pos[32];	/* replica's, at the stop */
	int		 have_final;
	int		 unfrozen_target;	/* final = master's position, not frozen */
	int		 stop_sent;	/* the stop may have run (not journaled) */
	int		 master_orig_ro;	/* -1 unknown */
	int		 frozen, ftwrl, stopped, reset_started, reset_done;
	int		 freeze_tries;
	int		 locked;
	int		 abort_requested;
	int		 rolling_back;
	int		 rb_start_tried, rb_m_tried, rb_ro_tried;
	int		 replica_ro;	/* -1 unknown */
	int		 use_poswait;
	char		 reason[1024];
	cJSON		*todo;
	cJSON		*plan;
};

static void	advance(struct promotion *);
static void	fail(struct promotion *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	finish(struct promotion *);
static void	rollback_next(struct promotion *);

static double
ms_since(uint64_t us)
{
	return (double)(now_mono_us() - us) / 1000.0;
}

/* ---- the journal ------------------------------------------------------- */

static cJSON *
report_json(struct promotion *p, int full)
{
	cJSON *o = cJSON_CreateObject(), *a, *s, *f;
	char when[40];

	cJSON_AddStringToObject(o, "target", p->t->name);
	cJSON_AddStringToObject(o, full ? "outcome" : "state",
	    outcome_names[p->outcome]);
	cJSON_AddStringToObject(o, "step", step_names[p->cur]);
	format_iso8601(p->started_ms, when, sizeof when);
	cJSON_AddStringToObject(o, "started", when);
	cJSON_AddNumberToObject(o, "started_unix_ms", (double)p->started_ms);
	if (p->finished_ms) {
		format_iso8601(p->finished_ms, when, sizeof when);
		cJSON_AddStringToObject(o, "finished", when);
	} else
		cJSON_AddNullToObject(o, "finished");
	a = cJSON_AddArrayToObject(o, "steps");
	for (int i = 0; i < ST__COUNT; i++) {
		s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "step", step_names[i]);
		cJSON_AddStringToObject(s, "status", sstat_names[p->steps[i].st]);
		cJSON_AddNumberToObject(s, "duration_ms", p->steps[i].ms);
		cJSON_AddStringToObject(s, "detail", p->steps[i].detail);
		cJSON_AddItemToArray(a, s);
	}
	if (p->have_final) {
		f = cJSON_AddObjectToObject(o, "final");
		cJSON_AddStringToObject(f, "log_file", p->final_file);
		cJSON_AddStringToObject(f, "log_pos", p->final_pos);
		cJSON_AddStringToObject(f, "gtid", p->final_gtid);
		cJSON_AddStringToObject(f, "source", p->unfrozen_target ?
		    "master before the catch-up (not frozen)" :
		    "master at the freeze");
	} else if (p->stop_file[0] != '\0') {
		f = cJSON_AddObjectToObject(o, "final");
		cJSON_AddStringToObject(f, "log_file", p->stop_file);
		cJSON_AddStringToObject(f, "log_pos", p->stop_pos);
		cJSON_AddStringToObject(f, "gtid", "");
		cJSON_AddStringToObject(f, "source", "replica at the stop");
	} else
		cJSON_AddNullToObject(o, "final");
	if (p->write_blocked_ms >= 0)
		cJSON_AddNumberToObject(o, "write_blocked_ms", p->write_blocked_ms);
	else
		cJSON_AddNullToObject(o, "write_blocked_ms");
	if (p->replica_ro < 0)
		cJSON_AddNullToObject(o, "replica_read_only");
	else
		cJSON_AddBoolToObject(o, "replica_read_only", p->replica_ro);
	cJSON_AddStringToObject(o, "reason", p->reason);
	cJSON_AddItemToObject(o, "todo", cJSON_Duplicate(p->todo, 1));
	if (p->plan != NULL)
		cJSON_AddItemToObject(o, "plan", cJSON_Duplicate(p->plan, 1));
	return o;
}

/* What a restarted daemon needs; written before and after every step. */
static void
journal_save(struct promotion *p)
{
	cJSON *o;
	char err[512];

	p->t->gen++;
	if (p->opt.dry_run)
		return;
	o = report_json(p, 0);
	cJSON_AddNumberToObject(o, "master_orig_read_only", p->master_orig_ro);
	cJSON_AddBoolToObject(o, "frozen", p->frozen);
	cJSON_AddBoolToObject(o, "stopped", p->stopped);
	cJSON_AddBoolToObject(o, "reset_started", p->reset_started);
	cJSON_AddBoolToObject(o, "reset_done", p->reset_done);
	cJSON_AddBoolToObject(o, "freeze_master", p->opt.freeze_master);
	if (journal_write(p->journal, o, err, sizeof err) == -1)
		log_warnx("%s: promotion journal: %s", p->t->name, err);
	cJSON_Delete(o);
}

/* ---- talking to the requester ------------------------------------------ */

static void
emit_step(struct promotion *p, enum step s)
{
	cJSON *o;

	log_target(p->steps[s].st == SS_FAILED ? LOG_LVL_WARN : LOG_LVL_INFO,
	    p->t->name, "promoting", -1, "promotion: %s %s%s%s", step_names[s],
	    sstat_names[p->steps[s].st], p->steps[s].detail[0] ? ": " : "",
	    p->steps[s].detail);
	if (p->client == NULL)
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "step");
	cJSON_AddStringToObject(o, "step", step_names[s]);
	cJSON_AddStringToObject(o, "status", sstat_names[p->steps[s].st]);
	cJSON_AddNumberToObject(o, "elapsed_ms", ms_since(p->start_us));
	if (p->steps[s].st != SS_RUNNING)
		cJSON_AddNumberToObject(o, "duration_ms", p->steps[s].ms);
	cJSON_AddStringToObject(o, "detail", p->steps[s].detail);
	client_event(p->client, p->id, o);
}

/*
 * Fault injection for the crash tests: REPLWATCH_TEST_CRASH=begin:STEP or
 * end:STEP makes the daemon SIGKILL itself right after the journal records
 * that point, as a power cut or an OOM kill would.
 */
static void
maybe_crash(const char *when, enum step s)
{
	const char *e = getenv("REPLWATCH_TEST_CRASH");
	char want[64];

	if (e == NULL)
		return;
	snprintf(want, sizeof want, "%s:%s", when, step_names[s]);
	if (strcmp(e, want) == 0) {
		log_warnx("REPLWATCH_TEST_CRASH=%s: killing myself", e);
		raise(SIGKILL);
	}
}

static void
step_begin(struct promotion *p, enum step s)
{
	p->cur = s;
	p->steps[s].st = SS_RUNNING;
	p->steps[s].start_us = now_mono_us();
	p->steps[s].detail[0] = '\0';
	journal_save(p);
	emit_step(p, s);
	maybe_crash("begin", s);
}

static void
step_end(struct promotion *p, enum step s, enum sstat st, const char *fmt, ...)
{
	va_list ap;

	if (p->steps[s].start_us == 0)
		p->steps[s].start_us = now_mono_us();
	p->steps[s].st = st;
	p->steps[s].ms = ms_since(p->steps[s].start_us);
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(p->steps[s].detail, sizeof p->steps[s].detail, fmt, ap);
		va_end(ap);
	}
	journal_save(p);
	emit_step(p, s);
	if (st == SS_DONE)
		maybe_crash("end", s);
}

static void
todo(struct promotion *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(p->todo, cJSON_CreateString(buf));
}

static void
detach_client(struct client *c, void *arg)
{
	struct promotion *p = arg;

	/* The promotion goes on without its requester. */
	p->client = NULL;
	log_info("%s: promotion requester left; carrying on", p->t->name);
}

/* ---- queries ----------------------------------------------------------- */

static void	cb(struct db *, enum db_status, const struct db_result *, void *);

static void
query(struct promotion *p, struct db *db, enum phase ph, const char *sql,
    unsigned timeout_ms)
{
	p->phase = ph;
	if (db_query(db, sql, timeout_ms, cb, p) == -1)
		fail(p, "cannot send a query (connection busy or closed)");
}

static void	scb(struct server *, int, void *);

/* Start, stop or reset replication by the state model (server.c). */
static void
control(struct promotion *p, enum phase ph, enum rw_repl_action act)
{
	p->phase = ph;
	if (server_replication(p->rs, act, scb, p) == -1)
		fail(p, "cannot %s replication: the connection is busy",
		    replctl_action_name(act));
}

/* A new replica server object: its link is p->r, its kind p->rfl. */
static void
open_replica(struct promotion *p)
{
	server_free(p->rs);
	p->rs = server_new(p->t->d, &p->t->cf->replica, p->t->cf, p->t->name);
	p->r = server_db(p->rs);
	p->rfl = server_flavor(p->rs);
}

static void
connect_to(struct promotion *p, struct db **db, const struct rw_endpoint *ep,
    enum phase ph)
{
	struct db_params dp = {
		.host = ep->host, .port = ep->port,
		.option_file = ep->option_file, .tls = ep->tls,
		.tls_ca = ep->tls_ca, .tls_cert = ep->tls_cert,
		.tls_key = ep->tls_key,
		.connect_timeout_ms = p->t->cf->connect_timeout_ms,
		.query_timeout_ms = p->t->cf->query_timeout_ms,
	};

	if (*db != NULL)
		db_free(*db);
	*db = db_new(p->t->d->base, p->t->d->dns, &dp);
	p->phase = ph;
	if (db_connect(*db, cb, p) == -1)
		fail(p, "cannot start connecting to %s:%u", ep->host, ep->port);
}

static const struct db_set *
first_set(const struct db_result *res)
{
	for (size_t i = 0; res != NULL && i < res->nsets; i++)
		if (res->sets[i].ncols > 0)
			return &res->sets[i];
	return NULL;
}

static const char *
value(const struct db_result *res, const char *col)
{
	const struct db_set *s = first_set(res);

	return s != NULL && s->nrows > 0 ? db_set_value(s, 0, col) : NULL;
}

/* Parse a status result into st (cleared first). */
static void
read_status(const struct db_result *res, struct rw_status *st)
{
	const struct db_set *s = NULL;

	replstatus_clear(st);
	for (size_t i = 0; res != NULL && i < res->nsets; i++) {
		if (db_set_column(&res->sets[i], "Slave_IO_Running") >= 0 ||
		    db_set_column(&res->sets[i], "Replica_IO_Running") >= 0) {
			s = &res->sets[i];
			break;
		}
	}
	if (s == NULL || s->nrows == 0)
		replstatus_parse(st, NULL, NULL, 0);
	else
		replstatus_parse(st, (const char *const *)s->names,
		    (const char *const *)s->values, s->ncols);
}

/* Has the replica executed everything up to the final position? */
static int
caught_up(struct promotion *p, const struct rw_status *st)
{
	unsigned long long e, f;

	if (!st->configured || st->relay_master_log_file == NULL ||
	    st->exec_master_log_pos == NULL)
		return 0;
	if (!p->have_final) {
		/* No master: the relay log applied and nothing behind. */
		return st->master_log_file != NULL && st->read_master_log_pos &&
		    strcmp(st->master_log_file, st->relay_master_log_file) == 0 &&
		    strcmp(st->read_master_log_pos, st->exec_master_log_pos) == 0 &&
		    st->seconds_behind == 0;
	}
	if (strcmp(st->relay_master_log_file, p->final_file) != 0)
		return strcmp(st->relay_master_log_file, p->final_file) > 0;
	e = strtoull(st->exec_master_log_pos, NULL, 10);
	f = strtoull(p->final_pos, NULL, 10);
	return e >= f;
}

static void
poll_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct promotion *p = arg;

	if (p->abort_requested) {
		fail(p, "aborted by request");
		return;
	}
	query(p, p->r, P_R_POLL, flavor_status_sql(p->rfl), 0);
}

static void
poll_again(struct promotion *p)
{
	struct timeval tv = { 0, POLL_US };

	p->phase = P_R_POLL;
	evtimer_add(p->timer, &tv);
}

/* ---- the steps --------------------------------------------------------- */

static void
start_freeze(struct promotion *p)
{
	char *sql;

	if (!p->opt.freeze_master || p->t->cf->master.host == NULL) {
		step_end(p, ST_FREEZE, SS_SKIPPED, "%s", p->t->cf->master.host == NULL ?
		    "no master configured: the catch-up cannot be checked against "
		    "the master's final position" : "--freeze-master not given: "
		    "writes to the old master are not stopped");
		if (p->t->cf->master.host == NULL)
			todo(p, "no old master configured: stop writes to it yourself "
			    "and check that nothing was written after the cut-over");
		else
			todo(p, "the old master was not frozen: make sure no "
			    "application still writes to it");
		if (p->m != NULL && db_connected(p->m)) {
			/*
			 * Not frozen, but the master's position now is still a
			 * floor: catch up at least to it, not merely to what
			 * the replica happened to have received.
			 */
			p->unfrozen_target = 1;
			query(p, p->m, P_M_POS, flavor_master_status_sql(&p->mfl), 0);
			return;
		}
		step_begin(p, ST_CATCHUP);
		p->deadline_us = now_mono_us() + (uint64_t)(p->opt.timeout_s * 1e6);
		query(p, p->r, P_R_POLL, flavor_status_sql(p->rfl), 0);
		return;
	}
	step_begin(p, ST_FREEZE);
	p->freeze_us = now_mono_us();
	sql = flavor_lock_wait_sql(FREEZE_LOCK_WAIT_S);
	query(p, p->m, P_M_LWT, sql, 0);
	free(sql);
}

static void
start_catchup(struct promotion *p)
{
	char *sql;
	unsigned tmo;

	step_begin(p, ST_CATCHUP);
	p->deadline_us = now_mono_us() + (uint64_t)(p->opt.timeout_s * 1e6);
	tmo = (unsigned)(p->opt.timeout_s + 0.999);
	sql = p->use_poswait ? flavor_pos_wait_sql(p->rfl, p->final_file,
	    p->final_pos, tmo ? tmo : 1) : NULL;
	if (sql == NULL) {
		query(p, p->r, P_R_POLL, flavor_status_sql(p->rfl), 0);
		return;
	}
	query(p, p->r, P_R_POSWAIT, sql, (tmo + 2) * 1000);
	free(sql);
}

static void
preflight_check(struct promotion *p, const struct rw_status *st)
{
	const struct target *t = p->t;
	long long max_ms = (long long)(p->opt.max_lag_s * 1000);
	char why[512] = "";
	int hard = 0;

	if (!st->configured) {
		snprintf(why, sizeof why, "no replication is configured on the "
		    "replica");
		hard = 1;
	} else if (st->last_sql_errno != 0) {
		snprintf(why, sizeof why, "SQL thread error %u: %s",
		    st->last_sql_errno, st->last_sql_error ? st->last_sql_error : "");
		hard = 1;
	} else if (st->sql != THREAD_YES) {
		snprintf(why, sizeof why, "the SQL thread is not running");
		hard = 1;
	} else if (st->io != THREAD_YES)
		snprintf(why, sizeof why, "the IO thread is %s%s%s",
		    replstatus_thread_name(st->io), st->last_io_errno ?
		    ": " : "", st->last_io_error ? st->last_io_error : "");
	else if (t->lag_ms < 0 && st->seconds_behind < 0)
		snprintf(why, sizeof why, "the lag is unknown");
	else if ((t->lag_ms >= 0 ? t->lag_ms : st->seconds_behind * 1000) > max_ms)
		snprintf(why, sizeof why, "lag %lld ms is over --max-lag %g s",
		    t->lag_ms >= 0 ? t->lag_ms : st->seconds_behind * 1000,
		    p->opt.max_lag_s);
	if (why[0] != '\0' && (hard || !p->opt.force)) {
		step_end(p, ST_PREFLIGHT, SS_FAILED, "%s%s", why, hard ? "" :
		    " (--force overrides this)");
		snprintf(p->reason, sizeof p->reason, "preflight refused: %s%s",
		    why, hard ? "" : " (--force overrides this)");
		p->outcome = OUT_ABORTED;
		finish(p);
		return;
	}
	if (why[0] != '\0')
		todo(p, "forced past: %s", why);
	if (p->t->cf->master.host != NULL) {
		connect_to(p, &p->m, &p->t->cf->master, P_M_CONNECT);
		return;
	}
	p->phase = P_M_STATUS0;
	advance(p);
}

static void
add_plan(struct promotion *p, const char *where, const char *sql)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "on", where);
	cJSON_AddStringToObject(o, "sql", sql);
	cJSON_AddItemToArray(p->plan, o);
}

static void
make_plan(struct promotion *p)
{
	char *s, unlock[64];

	p->plan = cJSON_CreateArray();
	if (p->opt.freeze_master && p->t->cf->master.host != NULL) {
		add_plan(p, "master", flavor_set_read_only_sql(1));
		add_plan(p, "master", flavor_read_lock_sql());
		add_plan(p, "master", flavor_master_status_sql(&p->mfl));
		/* Shown at the master's current position; the real one is read at the freeze. */
		s = flavor_pos_wait_sql(p->rfl, p->t->master.log_file[0] ?
		    p->t->master.log_file : "master-bin.000001",
		    p->t->master.log_pos[0] ? p->t->master.log_pos : "4",
		    (unsigned)(p->opt.timeout_s + 0.999));
		add_plan(p, "replica", s ? s : flavor_status_sql(p->rfl));
		free(s);
	} else
		add_plan(p, "replica", flavor_status_sql(p->rfl));
	add_plan(p, "replica", flavor_stop_sql(p->rfl));
	add_plan(p, "replica", flavor_reset_sql(p->rfl));
	add_plan(p, "replica", flavor_status_sql(p->rfl));
	if (!flavor_is_rds(p->rfl))
		add_plan(p, "replica", flavor_set_read_only_sql(0));
	if (p->ftwrl || (p->opt.freeze_master && p->t->cf->master.host)) {
		snprintf(unlock, sizeof unlock, "%s (read_only stays ON)",
		    flavor_unlock_sql());
		add_plan(p, "master", unlock);
	}
}

/* Called when a phase's work needs no query, or to begin. */
static void
advance(struct promotion *p)
{
	switch (p->phase) {
	case P_M_STATUS0:
		/* Preflight passed. */
		step_end(p, ST_PREFLIGHT, SS_DONE, "replica %s, %s; lag %lld ms%s",
		    flavor_name(p->rfl), p->rfl->version_str, p->t->lag_ms,
		    p->t->cf->master.host ? "; old master reachable" : "");
		if (p->opt.dry_run) {
			make_plan(p);
			p->outcome = OUT_DRY_RUN;
			snprintf(p->reason, sizeof p->reason, "dry run: nothing changed");
			finish(p);
			return;
		}
		start_freeze(p);
		return;
	default:
		fail(p, "internal: no action for phase %d", p->phase);
	}
}

static void
stop_replication(struct promotion *p)
{
	step_begin(p, ST_STOP);
	p->stop_sent = 1;
	control(p, P_R_STOP, REPL_STOP);
}

static void
on_status(struct promotion *p, const struct rw_status *st)
{
	switch (p->phase) {
	case P_R_STATUS:
		if (p->opt.resume) {
			/* Pick up after the last step known done. */
			if (!st->configured) {
				p->reset_done = 1;
				step_end(p, ST_RESET, SS_DONE, "no replication configured: "
				    "the reset had completed");
				step_begin(p, ST_VERIFY);
				query(p, p->r, P_R_VERIFY_STATUS,
				    flavor_status_sql(p->rfl), 0);
			} else if (p->stopped) {
				p->reset_started = 1;
				step_begin(p, ST_RESET);
				control(p, P_R_RESET, REPL_RESET);
			} else if (st->io != THREAD_YES || st->sql != THREAD_YES) {
				control(p, P_R_RESTART, REPL_START);
			} else if (p->t->cf->master.host != NULL && p->opt.freeze_master)
				connect_to(p, &p->m, &p->t->cf->master, P_M_CONNECT);
			else
				start_freeze(p);
			break;
		}
		preflight_check(p, st);
		break;
	case P_R_POLL:
		if (caught_up(p, st)) {
			step_end(p, ST_CATCHUP, SS_DONE, "executed %s:%s%s",
			    st->relay_master_log_file, st->exec_master_log_pos,
			    p->unfrozen_target ? ", at least the master's position "
			    "before the catch-up (not frozen)" :
			    p->have_final ? " = the master's final position" :
			    " = all it received (the master was not frozen: no "
			    "final position to compare with)");
			stop_replication(p);
		} else if (st->last_sql_errno != 0 || st->sql != THREAD_YES)
			fail(p, "the SQL thread stopped during catch-up: %u %s",
			    st->last_sql_errno, st->last_sql_error ? st->last_sql_error : "");
		else if (now_mono_us() >= p->deadline_us)
			fail(p, "catch-up timed out after %g s at %s:%s (final %s:%s)",
			    p->opt.timeout_s, st->relay_master_log_file ?
			    st->relay_master_log_file : "?", st->exec_master_log_pos ?
			    st->exec_master_log_pos : "?", p->final_file, p->final_pos);
		else
			poll_again(p);
		break;
	case P_R_STOP_CHECK:
		if (p->have_final && !caught_up(p, st)) {
			fail(p, "after the stop the replica executed %s:%s, not the "
			    "final %s:%s", st->relay_master_log_file ?
			    st->relay_master_log_file : "?", st->exec_master_log_pos ?
			    st->exec_master_log_pos : "?", p->final_file, p->final_pos);
			break;
		}
		p->stopped = 1;
		snprintf(p->stop_file, sizeof p->stop_file, "%s",
		    st->relay_master_log_file ? st->relay_master_log_file : "");
		snprintf(p->stop_pos, sizeof p->stop_pos, "%s",
		    st->exec_master_log_pos ? st->exec_master_log_pos : "");
		step_end(p, ST_STOP, SS_DONE, "replication stopped at %s:%s",
		    st->relay_master_log_file ? st->relay_master_log_file : "?",
		    st->exec_master_log_pos ? st->exec_master_log_pos : "?");
		/* The point of no return: journaled before the statement runs. */
		p->reset_started = 1;
		step_begin(p, ST_RESET);
		control(p, P_R_RESET, REPL_RESET);
		break;
	case P_R_VERIFY_STATUS:
		if (st->configured) {
			fail(p, "replication is still configured after the reset");
			break;
		}
		query(p, p->r, P_R_VERIFY_RO, flavor_read_only_sql(), 0);
		break;
	default:
		break;
	}
}

static void
on_status_result(struct promotion *p, const struct db_result *res)
{
	struct rw_status st = { 0 };

	read_status(res, &st);
	on_status(p, &st);
	replstatus_clear(&st);
}

static void
cb(struct db *db, enum db_status dst, const struct db_result *res, void *arg)
{
	struct promotion *p = arg;
	const char *v;

	if (p->abort_requested && !p->rolling_back && !p->reset_started) {
		fail(p, "aborted by request");
		return;
	}
	if (dst != DB_OK) {
		/* Errors some phases expect and handle. */
		if (p->phase == P_R_POSWAIT && dst == DB_ERR_SERVER) {
			log_info("%s: %s: %s; polling the status instead", p->t->name,
			    "position wait refused", db_error(db));
			p->use_poswait = 0;
			query(p, p->r, P_R_POLL, flavor_status_sql(p->rfl), 0);
			return;
		}
		if ((p->phase == P_M_RO_ON || p->phase == P_M_FTWRL) &&
		    dst == DB_ERR_SERVER && db_errno(db) == 1205 &&
		    ++p->freeze_tries < FREEZE_TRIES) {
			log_warnx("%s: %s waited %d s for a lock; retrying",
			    p->t->name, p->phase == P_M_RO_ON ? "read_only" :
			    flavor_read_lock_sql(), FREEZE_LOCK_WAIT_S);
			query(p, p->m, p->phase, p->phase == P_M_RO_ON ?
			    flavor_set_read_only_sql(1) : flavor_read_lock_sql(),
			    FREEZE_QUERY_MS(p));
			return;
		}
		if (p->phase == P_M_UNLOCK) {
			/* Promoted all the same; the lock dies with the link. */
			todo(p, "%s on the old master failed (%s): its global "
			    "read lock ends when replwatchd's connection closes",
			    flavor_unlock_sql(), db_error(db));
			p->ftwrl = 0;
			dst = DB_OK;
			goto unlocked;
		}
		if (p->phase == P_R_SET_RW && dst == DB_ERR_SERVER) {
			todo(p, "could not make the replica writable (%s): run %s "
			    "as an administrator", db_error(db),
			    flavor_set_read_only_sql(0));
			query(p, p->r, P_R_VERIFY_RO2, flavor_read_only_sql(), 0);
			return;
		}
		if (p->rolling_back) {
			log_warnx("%s: rollback step failed: %s", p->t->name, db_error(db));
			todo(p, "rollback incomplete: %s", db_error(db));
			/* Carry on with the remaining rollback steps. */
			res = NULL;
		} else {
			fail(p, "%s", db_error(db));
			return;
		}
	}

	switch (p->phase) {
	case P_R_LOCK:
		v = value(res, "got");
		if (v == NULL || strcmp(v, "1") != 0) {
			snprintf(p->steps[ST_PREFLIGHT].detail,
			    sizeof p->steps[ST_PREFLIGHT].detail, "another promotion "
			    "of this replica holds the lock %s", p->lock_name);
			snprintf(p->reason, sizeof p->reason, "%s",
			    p->steps[ST_PREFLIGHT].detail);
			step_end(p, ST_PREFLIGHT, SS_FAILED, NULL);
			p->outcome = OUT_ABORTED;
			finish(p);
			return;
		}
		p->locked = 1;
		query(p, p->r, P_R_STATUS, flavor_status_sql(p->rfl), 0);
		break;
	case P_R_STATUS:
	case P_R_POLL:
	case P_R_STOP_CHECK:
	case P_R_VERIFY_STATUS:
		on_status_result(p, res);
		break;
	case P_M_CONNECT:
		query(p, p->m, P_M_PROBE, flavor_probe_sql, 0);
		break;
	case P_M_PROBE:
		if (server_detect(&p->mfl, FLAVOR_AUTO, res) == -1) {
			fail(p, "the old master's kind detection returned no row");
			return;
		}
		query(p, p->m, P_M_VARS, flavor_read_only_sql(), 0);
		break;
	case P_M_VARS:
		v = value(res, "ro");
		/* On resume the journal knows the value from before the freeze. */
		if (!p->opt.resume || p->master_orig_ro < 0)
			p->master_orig_ro = v == NULL ? -1 : atoi(v) != 0;
		if (p->opt.resume) {
			start_freeze(p);
			break;
		}
		p->phase = P_M_STATUS0;
		advance(p);
		break;
	case P_M_LWT:
		/*
		 * From here a failure must undo the freeze: the statement may
		 * take effect on the server even if we give up waiting for it,
		 * so it counts as done (restoring the old value is harmless).
		 */
		p->frozen = 1;
		journal_save(p);
		query(p, p->m, P_M_RO_ON, flavor_set_read_only_sql(1),
		    FREEZE_QUERY_MS(p));
		break;
	case P_M_RO_ON:
		query(p, p->m, P_M_FTWRL, flavor_read_lock_sql(),
		    FREEZE_QUERY_MS(p));
		break;
	case P_M_FTWRL:
		p->ftwrl = 1;
		query(p, p->m, P_M_POS, flavor_master_status_sql(&p->mfl), 0);
		break;
	case P_M_POS:
		if ((v = value(res, "File")) == NULL) {
			fail(p, "the old master has no binary log (%s returned no row)",
			    flavor_master_status_sql(&p->mfl));
			return;
		}
		snprintf(p->final_file, sizeof p->final_file, "%s", v);
		v = value(res, "Position");
		snprintf(p->final_pos, sizeof p->final_pos, "%s", v ? v : "0");
		query(p, p->m, P_M_GTID, flavor_master_gtid_sql(&p->mfl), 0);
		break;
	case P_M_GTID:
		v = value(res, "gtid");
		snprintf(p->final_gtid, sizeof p->final_gtid, "%s", v ? v : "");
		p->have_final = 1;
		if (!p->unfrozen_target)
			step_end(p, ST_FREEZE, SS_DONE, "old master read-only at "
			    "%s:%s%s%s", p->final_file, p->final_pos,
			    p->final_gtid[0] ? " gtid " : "", p->final_gtid);
		p->use_poswait = 1;
		start_catchup(p);
		break;
	case P_R_POSWAIT:
		{
			const struct db_set *s = first_set(res);

			v = s != NULL && s->nrows > 0 && s->ncols > 0 ? s->values[0] : NULL;
		}
		if (v == NULL || atoll(v) < 0) {
			/* NULL: SQL thread not running; -1: timed out.  Look. */
			p->use_poswait = 0;
			query(p, p->r, P_R_POLL, flavor_status_sql(p->rfl), 0);
			return;
		}
		/* Reached; confirm by status (and leave no doubt in the report). */
		query(p, p->r, P_R_POLL, flavor_status_sql(p->rfl), 0);
		break;
	case P_R_VERIFY_RO:
	case P_R_VERIFY_RO2:
		v = value(res, "ro");
		p->replica_ro = v == NULL ? -1 : atoi(v) != 0;
		if (p->replica_ro == 1 && p->phase == P_R_VERIFY_RO &&
		    !flavor_is_rds(p->rfl)) {
			query(p, p->r, P_R_SET_RW, flavor_set_read_only_sql(0), 0);
			return;
		}
		if (p->replica_ro == 1 && flavor_is_rds(p->rfl))
			todo(p, "read_only is ON on the RDS instance: set read_only = 0 "
			    "in its DB parameter group (SQL cannot change it there)");
		if (p->freeze_us != 0)
			p->write_blocked_ms = ms_since(p->freeze_us);
		step_end(p, ST_VERIFY, SS_DONE, "no replication configured; %s; "
		    "read_only %s", p->have_final ? "final position applied" :
		    "no frozen master position to compare with",
		    p->replica_ro == 1 ? "ON" : p->replica_ro == 0 ? "OFF" : "unknown");
		step_begin(p, ST_DONE);
		if (p->ftwrl && p->m != NULL && db_connected(p->m)) {
			query(p, p->m, P_M_UNLOCK, flavor_unlock_sql(), 0);
			return;
		}
		p->phase = P_M_UNLOCK;
		cb(db, DB_OK, NULL, p);
		return;
	case P_R_SET_RW:
		query(p, p->r, P_R_VERIFY_RO2, flavor_read_only_sql(), 0);
		break;
	case P_M_UNLOCK:
unlocked:
		p->ftwrl = 0;
		if (p->frozen)
			todo(p, "the old master stays read-only: leave it so, or "
			    "decommission it");
		p->outcome = OUT_PROMOTED;
		snprintf(p->reason, sizeof p->reason, "promoted%s%s%s%s",
		    p->have_final ? " at " : "", p->have_final ? p->final_file : "",
		    p->have_final ? ":" : "", p->have_final ? p->final_pos : "");
		finish(p);
		break;

	/* Rollback: replication running again, the old master as it was. */
	case P_RB_UNLOCK:
		p->ftwrl = 0;
		rollback_next(p);
		break;
	case P_RB_M_CONNECT:
		p->rb_m_tried = 1;
		rollback_next(p);
		break;
	case P_RB_RO:
		if (res != NULL)
			p->frozen = 0;
		p->rb_ro_tried = 1;
		rollback_next(p);
		break;
	default:
		fail(p, "internal: unexpected result in phase %d", p->phase);
	}
}

/* The replica's server object finished an open or a control action. */
static void
scb(struct server *srv, int ok, void *arg)
{
	struct promotion *p = arg;
	char *sql;

	if (p->abort_requested && !p->rolling_back && !p->reset_started) {
		fail(p, "aborted by request");
		return;
	}
	if (!ok && p->phase != P_RB_START) {
		fail(p, "%s", server_error(srv));
		return;
	}
	if (server_note(srv)[0] != '\0')
		log_info("%s: promotion: %s", p->t->name, server_note(srv));
	switch (p->phase) {
	case P_R_CONNECT:
		/* Same kind as the monitor's: it knows whether status is denied. */
		if (p->t->flavor_known && (p->rfl->rds & RDS_REPLICA_STATUS))
			p->rfl->status_denied = p->t->flavor.status_denied;
		sql = flavor_get_lock_sql(p->lock_name);
		query(p, p->r, P_R_LOCK, sql, 0);
		free(sql);
		break;
	case P_R_STOP:
		p->phase = P_R_STOP_CHECK;
		on_status(p, server_status(srv));
		break;
	case P_R_RESET:
		p->reset_done = 1;
		step_end(p, ST_RESET, SS_DONE, "%s%s%s", server_statement(srv)[0] ?
		    server_statement(srv) : "no statement needed",
		    server_note(srv)[0] ? ": " : "", server_note(srv));
		step_begin(p, ST_VERIFY);
		query(p, p->r, P_R_VERIFY_STATUS, flavor_status_sql(p->rfl), 0);
		break;
	case P_R_RESTART:
		log_info("%s: resume: replication restarted", p->t->name);
		p->stopped = 0;
		if (p->t->cf->master.host != NULL && p->opt.freeze_master)
			connect_to(p, &p->m, &p->t->cf->master, P_M_CONNECT);
		else
			start_freeze(p);
		break;
	case P_RB_START:
		p->rb_start_tried = 1;
		if (ok) {
			p->stopped = p->stop_sent = 0;
			snprintf(p->reason + strlen(p->reason), sizeof p->reason -
			    strlen(p->reason), "; replication runs again%s%s",
			    server_note(srv)[0] ? ": " : "", server_note(srv));
		} else {
			log_warnx("%s: rollback: restarting replication failed: %s",
			    p->t->name, server_error(srv));
			todo(p, "rollback incomplete: replication could not be "
			    "restarted (%s): check it, then run replwatchctl start %s",
			    server_error(srv), p->t->name);
		}
		rollback_next(p);
		break;
	default:
		fail(p, "internal: server result in phase %d", p->phase);
	}
}

/*
 * The next rollback action, from what is known to be changed: replication
 * stopped by us, the freeze lock, read_only set by us.  A failed action is
 * reported in "todo" and the rest still runs.
 */
static void
rollback_next(struct promotion *p)
{
	int m_up = p->m != NULL && db_connected(p->m);

	if (!m_up)
		p->ftwrl = 0;	/* the lock went with its connection */
	/*
	 * stop_sent: a stop in flight or unconfirmed may have run.  The
	 * server object reconnects if the stop broke the link, and starts by
	 * the state model (a half-stopped RDS replica is stopped first).
	 */
	if ((p->stopped || p->stop_sent) && !p->rb_start_tried) {
		if (p->rs == NULL)
			open_replica(p);
		control(p, P_RB_START, REPL_START);
		return;
	}
	if (p->ftwrl && m_up) {
		query(p, p->m, P_RB_UNLOCK, flavor_unlock_sql(), 0);
		return;
	}
	if (p->frozen && !m_up && !p->rb_m_tried &&
	    p->t->cf->master.host != NULL) {
		connect_to(p, &p->m, &p->t->cf->master, P_RB_M_CONNECT);
		return;
	}
	if (p->frozen && m_up && !p->rb_ro_tried) {
		query(p, p->m, P_RB_RO,
		    flavor_set_read_only_sql(p->master_orig_ro == 1), 0);
		return;
	}
	if (p->stopped || p->stop_sent)
		todo(p, "replication may be stopped: check, and run replwatchctl "
		    "start %s", p->t->name);
	if (p->frozen)
		todo(p, "the old master is still read-only: run %s on it",
		    flavor_set_read_only_sql(0));
	finish(p);
}

/*
 * A step failed.  Before the reset: roll back.  At or after it: the target
 * is left interrupted for --resume.
 */
static void
fail(struct promotion *p, const char *fmt, ...)
{
	char why[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	evtimer_del(p->timer);
	if (p->rolling_back) {
		todo(p, "rollback incomplete: %s", why);
		finish(p);
		return;
	}
	if (p->steps[p->cur].st == SS_RUNNING)
		step_end(p, p->cur, SS_FAILED, "%s", why);
	if (p->reset_started) {
		snprintf(p->reason, sizeof p->reason, "failed at or after the reset "
		    "(%s): %s; run promote --resume", step_names[p->cur], why);
		p->outcome = OUT_INTERRUPTED;
		finish(p);
		return;
	}
	if (p->cur == ST_PREFLIGHT && !p->frozen && !p->stop_sent)
		snprintf(p->reason, sizeof p->reason, "preflight failed: %s; "
		    "nothing was changed", why);
	else
		snprintf(p->reason, sizeof p->reason, "%s failed: %s; rolled back",
		    step_names[p->cur], why);
	p->outcome = OUT_ABORTED;
	p->rolling_back = 1;
	log_warnx("%s: promotion %s", p->t->name, p->reason);
	rollback_next(p);
}

static void
run_hook(struct promotion *p)
{
	const char *cmd = p->outcome == OUT_PROMOTED ? p->t->cf->on_promoted :
	    p->t->cf->on_promote_failed;
	char *env[10];
	int n = 0;

	if (cmd == NULL || p->outcome == OUT_DRY_RUN)
		return;
	xasprintf(&env[n++], "REPLWATCH_EVENT=%s", p->outcome == OUT_PROMOTED ?
	    "promoted" : "promote_failed");
	xasprintf(&env[n++], "REPLWATCH_TARGET=%s", p->t->name);
	xasprintf(&env[n++], "REPLWATCH_OUTCOME=%s", outcome_names[p->outcome]);
	xasprintf(&env[n++], "REPLWATCH_REASON=%s", p->reason);
	xasprintf(&env[n++], "REPLWATCH_FINAL_FILE=%s", p->final_file);
	xasprintf(&env[n++], "REPLWATCH_FINAL_POS=%s", p->final_pos);
	xasprintf(&env[n++], "REPLWATCH_FINAL_GTID=%s", p->final_gtid);
	xasprintf(&env[n++], "REPLWATCH_WRITE_BLOCKED_MS=%.1f",
	    p->write_blocked_ms < 0 ? 0 : p->write_blocked_ms);
	xasprintf(&env[n++], "REPLWATCH_REPLICA=%s:%u", p->t->cf->replica.host,
	    p->t->cf->replica.port);
	env[n] = NULL;
	hooks_run(p->outcome == OUT_PROMOTED ? "on_promoted" : "on_promote_failed",
	    p->t->name, cmd, p->t->cf->hook_timeout_ms, env);
	for (int i = 0; i < n; i++)
		free(env[i]);
}

static void
finish(struct promotion *p)
{
	struct target *t = p->t;
	cJSON *report;

	evtimer_del(p->timer);
	t->gen++;
	p->finished_ms = now_unix_ms();
	p->phase = P_IDLE;
	if (p->outcome == OUT_RUNNING)
		p->outcome = OUT_ABORTED;
	if (p->outcome == OUT_PROMOTED)
		step_end(p, ST_DONE, SS_DONE, "%s", p->reason);
	else
		journal_save(p);
	/* Closing the links releases GET_LOCK and any global read lock. */
	server_free(p->rs);
	if (p->m != NULL)
		db_free(p->m);
	p->rs = NULL;
	p->rfl = NULL;
	p->r = p->m = NULL;
	p->ftwrl = 0;

	switch (p->outcome) {
	case OUT_PROMOTED:
		monitor_set_state(t, HEALTH_PROMOTED, p->reason);
		break;
	case OUT_INTERRUPTED:
		monitor_set_state(t, HEALTH_PROMOTION_INTERRUPTED, p->reason);
		break;
	default:
		/* Back to what the samples say. */
		if (t->health.state == HEALTH_PROMOTING ||
		    t->health.state == HEALTH_PROMOTION_INTERRUPTED) {
			health_init(&t->health);
			t->health.state = HEALTH_UNKNOWN;
		}
		break;
	}
	log_target(p->outcome == OUT_PROMOTED || p->outcome == OUT_DRY_RUN ?
	    LOG_LVL_INFO : LOG_LVL_WARN, t->name, outcome_names[p->outcome], -1,
	    "promotion %s: %s", outcome_names[p->outcome], p->reason);
	run_hook(p);
	monitor_pause(t, 0);

	if (p->client != NULL) {
		struct client *c = p->client;

		p->client = NULL;
		client_stream_end(c);
		report = report_json(p, 1);
		switch (p->outcome) {
		case OUT_PROMOTED:
		case OUT_DRY_RUN:
			client_ok(c, p->id, report);
			break;
		default:
			cJSON_AddStringToObject(report, "type", "report");
			client_event(c, p->id, report);
			client_error(c, p->id, p->outcome == OUT_INTERRUPTED ?
			    PERR_SERVER_ERROR : p->steps[ST_PREFLIGHT].st == SS_FAILED &&
			    strstr(p->reason, "holds the lock") != NULL ? PERR_BUSY :
			    p->steps[ST_PREFLIGHT].st == SS_FAILED &&
			    p->steps[ST_FREEZE].st == SS_PENDING ?
			    PERR_PRECONDITION : PERR_ABORTED, "%s", p->reason);
			break;
		}
	}
}

/*
 * GET_LOCK names are limited to 64 characters (MySQL 5.7+): a long target
 * name keeps its first 29 characters and gains a hash of the whole.
 */
static void
lock_name(const char *target, char *buf, size_t len)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	if (strlen(target) <= 46) {
		snprintf(buf, len, "replwatch.promote.%s", target);
		return;
	}
	for (const char *s = target; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	snprintf(buf, len, "replwatch.promote.%.29s.%016" PRIx64, target, h);
}

static struct promotion *
promotion_new(struct target *t)
{
	struct promotion *p = xcalloc(1, sizeof *p);

	p->t = t;
	p->master_orig_ro = -1;
	p->replica_ro = -1;
	p->write_blocked_ms = -1;
	p->todo = cJSON_CreateArray();
	p->timer = evtimer_new(t->d->base, poll_timer_cb, p);
	p->journal = journal_path(t->d->conf->state_dir, t->name);
	lock_name(t->name, p->lock_name, sizeof p->lock_name);
	return p;
}

static void
promotion_free(struct promotion *p)
{
	if (p == NULL)
		return;
	server_free(p->rs);
	if (p->m != NULL)
		db_free(p->m);
	event_free(p->timer);
	cJSON_Delete(p->todo);
	cJSON_Delete(p->plan);
	free(p->journal);
	free(p);
}

int
promote_running(const struct target *t)
{
	return t->promotion != NULL && t->promotion->outcome == OUT_RUNNING;
}

void
promote_forget(struct target *t)
{
	if (t->promotion == NULL || promote_running(t))
		return;
	if (journal_remove(t->promotion->journal) == -1)
		log_warn("%s: removing %s", t->name, t->promotion->journal);
	promote_free(t);
	if (t->health.state == HEALTH_PROMOTED ||
	    t->health.state == HEALTH_PROMOTION_INTERRUPTED)
		monitor_set_state(t, HEALTH_UNKNOWN, "replication set up again");
}

void
promote_free(struct target *t)
{
	promotion_free(t->promotion);
	t->gen++;
	t->promotion = NULL;
}

cJSON *
snapshot_promotion(struct target *t)
{
	return t->promotion == NULL ? cJSON_CreateNull() :
	    report_json(t->promotion, 0);
}

static int
str_field(const cJSON *o, const char *key, char *buf, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsString(v))
		return -1;
	snprintf(buf, len, "%s", v->valuestring);
	return 0;
}

static int
bool_field(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Rebuild a promotion from its journal. */
static struct promotion *
from_journal(struct target *t, const cJSON *doc)
{
	struct promotion *p = promotion_new(t);
	const cJSON *steps, *s, *f, *v;
	char buf[64];

	if (str_field(doc, "state", buf, sizeof buf) == 0)
		for (int i = 0; i <= OUT_DRY_RUN; i++)
			if (strcmp(buf, outcome_names[i]) == 0)
				p->outcome = (enum outcome)i;
	if (str_field(doc, "step", buf, sizeof buf) == 0)
		for (int i = 0; i < ST__COUNT; i++)
			if (strcmp(buf, step_names[i]) == 0)
				p->cur = (enum step)i;
	str_field(doc, "reason", p->reason, sizeof p->reason);
	v = cJSON_GetObjectItemCaseSensitive(doc, "started_unix_ms");
	p->started_ms = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
	v = cJSON_GetObjectItemCaseSensitive(doc, "write_blocked_ms");
	p->write_blocked_ms = cJSON_IsNumber(v) ? v->valuedouble : -1;
	v = cJSON_GetObjectItemCaseSensitive(doc, "master_orig_read_only");
	p->master_orig_ro = cJSON_IsNumber(v) ? v->valueint : -1;
	p->frozen = bool_field(doc, "frozen");
	p->stopped = bool_field(doc, "stopped");
	p->reset_started = bool_field(doc, "reset_started");
	p->reset_done = bool_field(doc, "reset_done");
	p->opt.freeze_master = bool_field(doc, "freeze_master");
	steps = cJSON_GetObjectItemCaseSensitive(doc, "steps");
	cJSON_ArrayForEach(s, steps) {
		for (int i = 0; i < ST__COUNT; i++) {
			if (str_field(s, "step", buf, sizeof buf) == 0 &&
			    strcmp(buf, step_names[i]) == 0) {
				if (str_field(s, "status", buf, sizeof buf) == 0)
					for (int k = 0; k <= SS_SKIPPED; k++)
						if (strcmp(buf, sstat_names[k]) == 0)
							p->steps[i].st = (enum sstat)k;
				str_field(s, "detail", p->steps[i].detail,
				    sizeof p->steps[i].detail);
				v = cJSON_GetObjectItemCaseSensitive(s, "duration_ms");
				p->steps[i].ms = cJSON_IsNumber(v) ? v->valuedouble : 0;
			}
		}
	}
	f = cJSON_GetObjectItemCaseSensitive(doc, "final");
	if (cJSON_IsObject(f) && str_field(f, "log_file", p->final_file,
	    sizeof p->final_file) == 0) {
		str_field(f, "log_pos", p->final_pos, sizeof p->final_pos);
		str_field(f, "gtid", p->final_gtid, sizeof p->final_gtid);
		p->have_final = 1;
	}
	v = cJSON_GetObjectItemCaseSensitive(doc, "finished");
	if (cJSON_IsString(v))
		p->finished_ms = now_unix_ms();
	/* A stop that began may have run, even if its check never came. */
	if (p->steps[ST_STOP].st == SS_RUNNING || p->steps[ST_STOP].st == SS_FAILED)
		p->stop_sent = 1;
	return p;
}

void
promote_load(struct target *t)
{
	char *path = journal_path(t->d->conf->state_dir, t->name), err[512];
	struct promotion *p;
	cJSON *doc;

	if (journal_load(path, &doc, err, sizeof err) == -1) {
		/* Never guess: an unreadable journal means an unknown state. */
		log_warnx("%s: %s", t->name, err);
		monitor_set_state(t, HEALTH_PROMOTION_INTERRUPTED,
		    "the promotion journal is unreadable; inspect it, then remove it");
		free(path);
		return;
	}
	free(path);
	if (doc == NULL)
		return;
	p = from_journal(t, doc);
	cJSON_Delete(doc);
	if (p->outcome == OUT_RUNNING || p->outcome == OUT_INTERRUPTED) {
		p->outcome = OUT_INTERRUPTED;
		snprintf(p->reason, sizeof p->reason, "the daemon stopped during the "
		    "%s step; run promote --resume (or abort%s)", step_names[p->cur],
		    p->reset_started ? ": too late, the reset had started" : "");
		t->promotion = p;
		monitor_set_state(t, HEALTH_PROMOTION_INTERRUPTED, p->reason);
	} else if (p->outcome == OUT_PROMOTED) {
		t->promotion = p;
		monitor_set_state(t, HEALTH_PROMOTED, p->reason);
	} else
		t->promotion = p;	/* aborted: shown, monitoring as usual */
}

void
promote_start(struct target *t, struct client *c, long long id,
    const struct promote_opts *opt)
{
	struct promotion *p, *old = t->promotion;

	if (promote_running(t)) {
		client_error(c, id, PERR_BUSY, "a promotion of %s is running (step %s)",
		    t->name, step_names[t->promotion->cur]);
		return;
	}
	if (opt->resume) {
		if (old == NULL || old->outcome != OUT_INTERRUPTED) {
			client_error(c, id, PERR_NOT_FOUND, "no interrupted promotion "
			    "of %s to resume", t->name);
			return;
		}
		p = old;
		p->opt.resume = 1;
		p->opt.timeout_s = opt->timeout_s;
		p->opt.max_lag_s = opt->max_lag_s;
		p->outcome = OUT_RUNNING;
		p->finished_ms = 0;
		p->rolling_back = 0;
		p->abort_requested = 0;
		if (p->steps[ST_PREFLIGHT].st != SS_DONE)
			p->steps[ST_PREFLIGHT].st = SS_SKIPPED;
	} else {
		if (old != NULL && old->outcome == OUT_INTERRUPTED) {
			client_error(c, id, PERR_PRECONDITION, "an interrupted promotion "
			    "of %s exists: use --resume, or abort it", t->name);
			return;
		}
		if (t->health.state == HEALTH_PROMOTED && !opt->force) {
			client_error(c, id, PERR_PRECONDITION, "%s was already promoted "
			    "(%s)", t->name, t->health.reason);
			return;
		}
		promotion_free(old);
		p = promotion_new(t);
		p->opt = *opt;
	}
	t->promotion = p;
	p->client = c;
	p->id = id;
	p->started_ms = p->started_ms ? p->started_ms : now_unix_ms();
	p->start_us = now_mono_us();
	client_stream_begin(c, id, detach_client, p);
	if (!p->opt.dry_run) {
		monitor_set_state(t, HEALTH_PROMOTING, opt->resume ?
		    "promotion resumed" : "promotion running");
		monitor_pause(t, 1);
	}
	log_target(LOG_LVL_INFO, t->name, "promoting", t->lag_ms, "promotion %s%s%s",
	    opt->resume ? "resumed" : "started", p->opt.dry_run ? " (dry run)" : "",
	    p->opt.freeze_master ? " with --freeze-master" : "");
	if (!p->opt.resume)
		step_begin(p, ST_PREFLIGHT);
	open_replica(p);
	p->phase = P_R_CONNECT;
	if (server_open(p->rs, scb, p) == -1)
		fail(p, "cannot start connecting to the replica");
}

void
promote_abort(struct target *t, struct client *c, long long id)
{
	struct promotion *p = t->promotion;
	cJSON *o;

	if (p == NULL || (p->outcome != OUT_RUNNING &&
	    p->outcome != OUT_INTERRUPTED)) {
		client_error(c, id, PERR_NOT_FOUND, "no promotion of %s to abort",
		    t->name);
		return;
	}
	if (p->reset_started) {
		client_error(c, id, PERR_PRECONDITION, "the reset has started: past "
		    "the point of no return; use promote --resume");
		return;
	}
	if (p->outcome == OUT_RUNNING) {
		if (p->rolling_back) {
			client_error(c, id, PERR_BUSY, "already rolling back");
			return;
		}
		/* The next callback notices; waits are cut short now. */
		p->abort_requested = 1;
		if (p->phase == P_R_POLL && evtimer_pending(p->timer, NULL)) {
			evtimer_del(p->timer);
			fail(p, "aborted by request");
		} else if (p->phase == P_R_POSWAIT) {
			db_close(p->r);
			fail(p, "aborted by request");
		}
	} else {
		/* Interrupted: roll back from the journal on fresh links. */
		p->outcome = OUT_RUNNING;
		p->client = NULL;
		p->start_us = now_mono_us();
		monitor_pause(t, 1);
		p->rolling_back = 1;
		snprintf(p->reason, sizeof p->reason, "interrupted promotion rolled "
		    "back by request");
		open_replica(p);
		rollback_next(p);
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "target", t->name);
	cJSON_AddBoolToObject(o, "aborted", 1);
	client_ok(c, id, o);
}
