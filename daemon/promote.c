/*
 * The promotion: a table of steps, each a chain of phases, one operation in
 * flight at a time (promote.h).
 *
 *   preflight -> freeze -> catchup -> switch -> stop -> reset -> verify -> done
 *
 * Every phase has a row in phases[]: what to do with its result and, for
 * some, with its error.  set_phase() is the one place the phase changes;
 * step_next() the one place a step ends and the next begins.  What the
 * promotion changes on the servers is journaled (promorec.h: CH_*) before it
 * is changed; rollback and resume are derived from those changes alone.
 * The switch is the point of no return: until it has succeeded a failure
 * rolls back (old master writable, application back, replication running),
 * after it a failure leaves the promotion interrupted for --resume.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fence.h"
#include "hooks.h"
#include "journal.h"
#include "log.h"
#include "monitor.h"
#include "promorec.h"
#include "promote.h"
#include "server.h"
#include "snapshot.h"
#include "xmalloc.h"

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
#define NEAR_POLL_US		5000	/* waiting for the moment to freeze */
#define NEAR_BYTES		65536	/* "caught up enough" to freeze */
#define MOVE_CHECK_US		300000	/* --no-freeze: does the binlog move? */
#define FREEZE_UNBLOCK_MS	250	/* a freeze statement waits: end sessions */

enum phase {
	P_IDLE,
	/* preflight */
	P_R_OPEN, P_R_LOCK, P_R_STATUS, P_R_RO0, P_M_CONNECT, P_M_PROBE,
	P_M_VARS, P_M_WHO, P_M_POS0, P_M_POS1,
	/* freeze: the caught-up moment, then the statements */
	P_NEAR_M, P_NEAR_R, P_M_LWT, P_M_RO, P_M_SRO, P_M_LOCK, P_M_SESSIONS,
	P_M_KILL, P_M_POS, P_M_GTID,
	/* catchup */
	P_R_POSWAIT, P_R_POLL,
	/* switch, stop, reset, verify, done */
	P_R_RW, P_SWITCH, P_R_STOP, P_R_RESET, P_R_VSTATUS, P_R_VRO,
	P_ON_PROMOTED,
	/* resume */
	P_R_RESTART,
	/* rollback */
	P_RB_R_OPEN, P_RB_R_RO, P_RB_SWITCH, P_RB_START, P_RB_M_CONNECT, P_RB_UNLOCK,
	P_RB_SRO, P_RB_RO,
	P__COUNT
};

struct promotion {
	struct target	*t;
	struct client	*client;	/* NULL once the requester left */
	long long	 id;
	struct promote_opts opt;
	struct promo_record rec;	/* what the journal holds */
	enum phase	 phase;
	struct server	*rs;		/* the replica */
	struct db	*r, *m;		/* r: rs's link; m: the old master */
	struct rw_flavor *rfl;		/* rs's kind */
	struct rw_flavor mfl;
	struct fence	*fence;		/* after promoted */
	struct event	*timer;
	char		*journal;
	char		 journal_err[512];
	char		 lock_name[96];

	uint64_t	 start_us, deadline_us, step_us[PS__COUNT];
	char		 pos0_file[256], pos0_pos[32];	/* --no-freeze check */
	unsigned long long *kill_ids;
	size_t		 nkill, ikill;
	int		 unkillable;	/* sessions KILL was refused for */
	/* Unblocking a freeze statement that waits, on a link of its own. */
	struct db	*mk;
	struct event	*unblock_timer;
	int		 unblocking, uk_phase;
	unsigned long	 m_id;		/* p->m's connection id: not ended */
	unsigned long long *uk_ids;
	size_t		 uk_n, uk_i;
	int		 freeze_tries;
	int		 use_poswait;
	int		 locked;	/* GET_LOCK on the replica */
	int		 abort_requested;
	int		 rolling_back;
	int		 op_ok;		/* the last operation succeeded */
	unsigned	 rb_tried;	/* CH_* whose undo ran */
	int		 rb_start_tried, rb_reopened, rb_reconnected;
};

typedef void (*ok_fn)(struct promotion *, const struct db_result *);
typedef int (*err_fn)(struct promotion *, const char *why);

struct phase_def {
	const char	*name;
	ok_fn		 ok;	/* the operation succeeded (res: NULL if none) */
	err_fn		 err;	/* NULL, or 1 if it handled the failure */
};
static const struct phase_def phases[P__COUNT];

struct step_def {
	void		(*start)(struct promotion *);
};
static const struct step_def steps[PS__COUNT];

static void	fail(struct promotion *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	finish(struct promotion *);
static void	rollback_next(struct promotion *);
static void	step_next(struct promotion *, enum promo_sstat, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

#define CH(p, c)	(((p)->rec.changes & (c)) != 0)

static double
ms_since(uint64_t us)
{
	return (double)(now_mono_us() - us) / 1000.0;
}

/* ---- journal and events ------------------------------------------------ */

/* 0, or -1 with the reason in p->journal_err (and the log). */
static int
journal_save(struct promotion *p)
{
	cJSON *o;
	int r = 0;

	if (p->opt.dry_run)
		return 0;
	o = promorec_journal(&p->rec, p->t->name);
	if (journal_write(p->journal, o, p->journal_err,
	    sizeof p->journal_err) == -1) {
		log_warnx("%s: promotion journal: %s", p->t->name, p->journal_err);
		r = -1;
	}
	cJSON_Delete(o);
	return r;
}

/*
 * Record a change on the servers, durably, before making it.  A change
 * that cannot be journaled is not made: -1, and the promotion fails (rolls
 * back, or stops where it is after the switch).  The caller returns.
 */
static int
mark(struct promotion *p, unsigned ch)
{
	p->rec.changes |= ch;
	if (journal_save(p) == 0 || p->rolling_back)
		return 0;
	p->rec.changes &= ~ch;
	fail(p, "the journal cannot be written (%s): nothing more is changed",
	    p->journal_err);
	return -1;
}

static void
emit_step(struct promotion *p, enum promo_step s)
{
	const char *st = promo_sstat_names[p->rec.steps[s].st];
	const char *detail = p->rec.steps[s].detail;
	cJSON *o;

	log_target(p->rec.steps[s].st == PSS_FAILED ? LOG_LVL_WARN :
	    LOG_LVL_INFO, p->t->name, "promoting", -1, "promotion: %s %s%s%s",
	    promo_step_names[s], st, detail[0] ? ": " : "", detail);
	if (p->client == NULL)
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "step");
	cJSON_AddStringToObject(o, "step", promo_step_names[s]);
	cJSON_AddStringToObject(o, "status", st);
	cJSON_AddNumberToObject(o, "elapsed_ms", ms_since(p->start_us));
	cJSON_AddNumberToObject(o, "at_unix_ms", (double)now_unix_ms());
	if (p->rec.steps[s].st != PSS_RUNNING)
		cJSON_AddNumberToObject(o, "duration_ms", p->rec.steps[s].ms);
	cJSON_AddStringToObject(o, "detail", detail);
	client_event(p->client, p->id, o);
}

#ifdef RW_FAULTS
/*
 * Only in the test build (tests/replwatchd-faults): REPLWATCH_TEST_CRASH=
 * begin:STEP or end:STEP makes the daemon SIGKILL itself right after the
 * journal records that point, as a power cut or an OOM kill would.
 */
static void
maybe_crash(const char *when, enum promo_step s)
{
	const char *e = getenv("REPLWATCH_TEST_CRASH");
	char want[64];

	if (e == NULL)
		return;
	snprintf(want, sizeof want, "%s:%s", when, promo_step_names[s]);
	if (strcmp(e, want) == 0) {
		log_warnx("REPLWATCH_TEST_CRASH=%s: killing myself", e);
		raise(SIGKILL);
	}
}
#else
#define maybe_crash(when, s)	do { } while (0)
#endif

static void
step_begin(struct promotion *p, enum promo_step s)
{
	p->rec.cur = s;
	p->rec.steps[s].st = PSS_RUNNING;
	p->rec.steps[s].detail[0] = '\0';
	p->step_us[s] = now_mono_us();
	journal_save(p);
	emit_step(p, s);
	maybe_crash("begin", s);
}

static void
step_endv(struct promotion *p, enum promo_step s, enum promo_sstat st,
    const char *fmt, va_list ap)
{
	if (p->step_us[s] == 0)
		p->step_us[s] = now_mono_us();
	p->rec.steps[s].st = st;
	p->rec.steps[s].ms = ms_since(p->step_us[s]);
	if (fmt != NULL)
		vsnprintf(p->rec.steps[s].detail, sizeof p->rec.steps[s].detail,
		    fmt, ap);
	journal_save(p);
	emit_step(p, s);
	if (st == PSS_DONE)
		maybe_crash("end", s);
}

static void
step_end(struct promotion *p, enum promo_step s, enum promo_sstat st,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	step_endv(p, s, st, fmt, ap);
	va_end(ap);
}

/*
 * End the current step (done or skipped) and start the next one: the only
 * way the promotion moves forward.
 */
static void
step_next(struct promotion *p, enum promo_sstat st, const char *fmt, ...)
{
	enum promo_step s = p->rec.cur;
	va_list ap;

	va_start(ap, fmt);
	step_endv(p, s, st, fmt, ap);
	va_end(ap);
	if (s + 1 >= PS__COUNT)
		return;
	step_begin(p, s + 1);
	steps[s + 1].start(p);
}

static void
todo(struct promotion *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(p->rec.todo, cJSON_CreateString(buf));
}

static void
detach_client(struct client *c, void *arg)
{
	struct promotion *p = arg;

	/* The promotion goes on without its requester. */
	p->client = NULL;
	log_info("%s: promotion requester left; carrying on", p->t->name);
}

/* ---- operations: every one ends in done() ------------------------------ */

static void
set_phase(struct promotion *p, enum phase ph)
{
	p->phase = ph;
}

/* The end of an operation of the current phase. */
static void
done(struct promotion *p, int ok, const struct db_result *res,
    const char *why)
{
	const struct phase_def *d = &phases[p->phase];

	p->op_ok = ok;
	if (p->abort_requested && !p->rolling_back && !CH(p, CH_SWITCH_SENT)) {
		fail(p, "aborted by request");
		return;
	}
	if (!ok) {
		if (d->err != NULL && d->err(p, why))
			return;
		if (!p->rolling_back) {
			fail(p, "%s", why);
			return;
		}
		/* A rollback action that failed: say so, carry on. */
		log_warnx("%s: rollback: %s: %s", p->t->name, d->name, why);
		todo(p, "rollback incomplete: %s failed: %s", d->name, why);
		res = NULL;
	}
	if (d->ok == NULL) {
		fail(p, "internal: no action for phase %s", d->name);
		return;
	}
	d->ok(p, res);
}

static void
db_done(struct db *db, enum db_status st, const struct db_result *res,
    void *arg)
{
	done(arg, st == DB_OK, res, st == DB_OK ? NULL : db_error(db));
}

static void
server_done(struct server *srv, int ok, void *arg)
{
	struct promotion *p = arg;

	if (ok && server_note(srv)[0] != '\0')
		log_info("%s: promotion: %s", p->t->name, server_note(srv));
	done(p, ok, NULL, ok ? NULL : server_error(srv));
}

static void
hook_done(int ok, const char *detail, void *arg)
{
	struct promotion *p = arg;
	struct promo_hook *h = p->phase == P_ON_PROMOTED ?
	    &p->rec.on_promoted : p->phase == P_RB_SWITCH ?
	    &p->rec.on_switch_back : &p->rec.on_switch;

	h->ran = 1;
	h->ok = ok;
	snprintf(h->detail, sizeof h->detail, "%s", detail);
	done(p, ok, NULL, detail);
}

static void
query(struct promotion *p, struct db *db, enum phase ph, const char *sql,
    unsigned timeout_ms)
{
	set_phase(p, ph);
	if (db == NULL || db_query(db, sql, timeout_ms, db_done, p) == -1)
		done(p, 0, NULL, "cannot send a query (connection busy or closed)");
}

/* Start, stop or reset replication by the state model (server.c). */
static void
control(struct promotion *p, enum phase ph, enum rw_repl_action act)
{
	set_phase(p, ph);
	if (server_replication(p->rs, act, server_done, p) == -1)
		done(p, 0, NULL, "the replica's connection is busy");
}

static struct db *
master_db(struct promotion *p)
{
	return endpoint_db(p->t->d, &p->t->cf->master, p->t->cf);
}

static void
connect_master(struct promotion *p, enum phase ph)
{
	if (p->m != NULL)
		db_free(p->m);
	p->m = master_db(p);
	set_phase(p, ph);
	if (db_connect(p->m, db_done, p) == -1)
		done(p, 0, NULL, "cannot start connecting to the old master");
}

/* A new replica server object: its link is p->r, its kind p->rfl. */
static void
open_replica(struct promotion *p, enum phase ph)
{
	server_free(p->rs);
	p->rs = server_new(p->t->d, &p->t->cf->replica, p->t->cf, p->t->name);
	p->r = server_db(p->rs);
	p->rfl = server_flavor(p->rs);
	set_phase(p, ph);
	if (server_open(p->rs, server_done, p) == -1)
		done(p, 0, NULL, "cannot start connecting to the replica");
}

/* Run the on_switch hook: forward to the replica, or back to the master. */
static void
switch_hook(struct promotion *p, enum phase ph, int forward)
{
	const struct rw_target_config *cf = p->t->cf;
	const struct rw_endpoint *to = forward ? &cf->replica : &cf->master;
	const struct rw_endpoint *from = forward ? &cf->master : &cf->replica;
	char *env[10];
	int n = 0, r;

	set_phase(p, ph);
	xasprintf(&env[n++], "REPLWATCH_EVENT=switch");
	xasprintf(&env[n++], "REPLWATCH_TARGET=%s", p->t->name);
	xasprintf(&env[n++], "REPLWATCH_SWITCH_DIRECTION=%s",
	    forward ? "forward" : "back");
	xasprintf(&env[n++], "REPLWATCH_NEW_MASTER_HOST=%s",
	    to->host ? to->host : "");
	xasprintf(&env[n++], "REPLWATCH_NEW_MASTER_PORT=%u", to->port);
	xasprintf(&env[n++], "REPLWATCH_OLD_MASTER_HOST=%s",
	    from->host ? from->host : "");
	xasprintf(&env[n++], "REPLWATCH_OLD_MASTER_PORT=%u", from->port);
	xasprintf(&env[n++], "REPLWATCH_REPLICA=%s:%u", cf->replica.host,
	    cf->replica.port);
	env[n] = NULL;
	r = hooks_run("on_switch", p->t->name, cf->on_switch, cf->hook_timeout_ms,
	    env, hook_done, p);
	for (int i = 0; i < n; i++)
		free(env[i]);
	if (r == -1)
		hook_done(0, "could not be started (see the log)", p);
}

static void
wait_timer(struct promotion *p, enum phase ph, long us)
{
	struct timeval tv = { us / 1000000, us % 1000000 };

	set_phase(p, ph);
	evtimer_add(p->timer, &tv);
}

/* ---- results ----------------------------------------------------------- */

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

static int
bool_value(const struct db_result *res, const char *col)
{
	const char *v = value(res, col);

	return v == NULL ? -1 : atoi(v) != 0;
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

/*
 * Bytes the replica's executed position trails file:pos of the master; -1
 * if not comparable (another file, unknown), 0 if at or past it.
 */
static long long
behind(const struct rw_status *st, const char *file, const char *pos)
{
	unsigned long long e, f;
	int c;

	if (!st->configured || st->relay_master_log_file == NULL ||
	    st->exec_master_log_pos == NULL || file[0] == '\0')
		return -1;
	if ((c = strcmp(st->relay_master_log_file, file)) != 0)
		return c > 0 ? 0 : -1;
	e = strtoull(st->exec_master_log_pos, NULL, 10);
	f = strtoull(pos, NULL, 10);
	return e >= f ? 0 : (long long)(f - e);
}

/* Has the replica executed everything up to the final position? */
static int
caught_up(struct promotion *p, const struct rw_status *st)
{
	if (p->rec.have_final)
		return behind(st, p->rec.final_file, p->rec.final_pos) == 0;
	/* No master: the relay log applied and nothing behind. */
	return st->configured && st->master_log_file != NULL &&
	    st->relay_master_log_file != NULL && st->read_master_log_pos &&
	    st->exec_master_log_pos &&
	    strcmp(st->master_log_file, st->relay_master_log_file) == 0 &&
	    strcmp(st->read_master_log_pos, st->exec_master_log_pos) == 0 &&
	    st->seconds_behind == 0;
}

static void
with_status(struct promotion *p, const struct db_result *res,
    void (*fn)(struct promotion *, const struct rw_status *))
{
	struct rw_status st = { 0 };

	read_status(res, &st);
	fn(p, &st);
	replstatus_clear(&st);
}

static int
has_master(const struct promotion *p)
{
	return p->t->cf->master.host != NULL;
}

/* ---- preflight ---------------------------------------------------------- */

static void
r_open_ok(struct promotion *p, const struct db_result *res)
{
	char *sql;

	/* Same kind as the monitor's: it knows whether status is denied. */
	if (p->t->flavor_known && (p->rfl->rds & RDS_REPLICA_STATUS))
		p->rfl->status_denied = p->t->flavor.status_denied;
	sql = flavor_get_lock_sql(&(struct sql_quoter){ db_quote, p->r },
	    p->lock_name);
	query(p, p->r, P_R_LOCK, sql, 0);
	free(sql);
}

static void
refuse(struct promotion *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Preflight said no: nothing was changed. */
static void
refuse(struct promotion *p, const char *fmt, ...)
{
	char why[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	step_end(p, PS_PREFLIGHT, PSS_FAILED, "%s", why);
	snprintf(p->rec.reason, sizeof p->rec.reason, "preflight refused: %s",
	    why);
	p->rec.outcome = PO_ABORTED;
	finish(p);
}

static void
r_lock_ok(struct promotion *p, const struct db_result *res)
{
	const char *v = value(res, "got");

	if (v == NULL || strcmp(v, "1") != 0) {
		refuse(p, "another promotion of this replica holds the lock %s",
		    p->lock_name);
		return;
	}
	p->locked = 1;
	query(p, p->r, P_R_STATUS, flavor_status_sql(p->rfl), 0);
}

static void	resume_from(struct promotion *, const struct rw_status *);

static void
preflight_status(struct promotion *p, const struct rw_status *st)
{
	const struct target *t = p->t;
	long long max_ms = (long long)(p->opt.max_lag_s * 1000), lag;
	char why[512] = "";
	int hard = 0;

	if (p->opt.resume) {
		resume_from(p, st);
		return;
	}
	lag = t->lag_ms >= 0 ? t->lag_ms : st->seconds_behind * 1000;
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
	else if (lag > max_ms)
		snprintf(why, sizeof why, "lag %lld ms is over --max-lag %g s",
		    lag, p->opt.max_lag_s);
	if (why[0] != '\0' && (hard || !p->opt.force)) {
		refuse(p, "%s%s", why, hard ? "" : " (--force overrides this)");
		return;
	}
	if (why[0] != '\0')
		todo(p, "forced past: %s", why);
	query(p, p->r, P_R_RO0, flavor_read_only_sql(), 0);
}

static void
r_status_ok(struct promotion *p, const struct db_result *res)
{
	with_status(p, res, preflight_status);
}

static void	preflight_done(struct promotion *);

static void
r_ro0_ok(struct promotion *p, const struct db_result *res)
{
	p->rec.replica_orig_ro = bool_value(res, "ro");
	if (p->rec.replica_orig_ro == 1 && flavor_is_rds(p->rfl)) {
		if (!p->opt.force) {
			refuse(p, "read_only is ON on the RDS replica (its DB "
			    "parameter group decides; SQL cannot change it): the "
			    "application could not write after the switch. Set "
			    "read_only = 0 in the parameter group first (--force "
			    "switches all the same)");
			return;
		}
		todo(p, "forced past: read_only is ON on the RDS replica: the "
		    "application's writes are refused until read_only = 0 is set "
		    "in its DB parameter group");
	}
	if (has_master(p)) {
		connect_master(p, P_M_CONNECT);
		return;
	}
	preflight_done(p);
}

static void
m_connect_ok(struct promotion *p, const struct db_result *res)
{
	query(p, p->m, P_M_PROBE, flavor_probe_sql, 0);
}

static void
m_probe_ok(struct promotion *p, const struct db_result *res)
{
	if (server_detect(&p->mfl, FLAVOR_AUTO, res) == -1) {
		fail(p, "the old master's kind detection returned no row");
		return;
	}
	query(p, p->m, P_M_VARS, flavor_ro_vars_sql(&p->mfl), 0);
}

static void
m_vars_ok(struct promotion *p, const struct db_result *res)
{
	/* Resumed: the journal knows the values from before the freeze. */
	if (p->rec.master_orig_ro < 0)
		p->rec.master_orig_ro = bool_value(res, "ro");
	if (p->rec.master_orig_sro < 0)
		p->rec.master_orig_sro = bool_value(res, "sro");
	if (p->opt.resume) {
		step_begin(p, PS_FREEZE);
		steps[PS_FREEZE].start(p);
		return;
	}
	query(p, p->m, P_M_WHO, flavor_bypass_ro_sql(&p->mfl), 0);
}

/* Who read_only would not stop on the old master: the report says. */
static void
m_who_ok(struct promotion *p, const struct db_result *res)
{
	const struct db_set *s = first_set(res);
	char who[400] = "";
	size_t n = 0;

	for (size_t i = 0; s != NULL && i < s->nrows; i++) {
		const char *v = db_set_value(s, i, "who");

		if (v != NULL && n + strlen(v) + 3 < sizeof who)
			n += (size_t)snprintf(who + n, sizeof who - n, "%s%s",
			    n ? ", " : "", v);
	}
	if (!p->opt.freeze)
		cJSON_AddItemToArray(p->rec.still_write, cJSON_CreateString(
		    "everyone: the old master is not frozen (--no-freeze)"));
	else if (!p->mfl.mariadb)
		cJSON_AddItemToArray(p->rec.still_write, cJSON_CreateString(
		    "nobody while super_read_only is ON; an account with SUPER "
		    "or SYSTEM_VARIABLES_ADMIN can turn it off"));
	else if (who[0] != '\0') {
		char line[sizeof who + 256];

		snprintf(line, sizeof line, "accounts that read_only exempts "
		    "(SUPER, READ_ONLY ADMIN): %s; held back only by replwatchd's "
		    "global read lock, which ends when it is released (unfence), "
		    "replwatchd stops, or the link is lost until it is taken "
		    "again", who);
		cJSON_AddItemToArray(p->rec.still_write, cJSON_CreateString(line));
	}
	if (!p->opt.freeze) {
		query(p, p->m, P_M_POS0, flavor_master_status_sql(&p->mfl), 0);
		return;
	}
	preflight_done(p);
}

/* --no-freeze: refused while the master's binary log moves. */
static void
m_pos0_ok(struct promotion *p, const struct db_result *res)
{
	const char *f = value(res, "File"), *o = value(res, "Position");

	snprintf(p->pos0_file, sizeof p->pos0_file, "%s", f ? f : "");
	snprintf(p->pos0_pos, sizeof p->pos0_pos, "%s", o ? o : "");
	wait_timer(p, P_M_POS1, MOVE_CHECK_US);
}

static void
m_pos1_ok(struct promotion *p, const struct db_result *res)
{
	const char *f = value(res, "File"), *o = value(res, "Position");

	if (f != NULL && o != NULL && (strcmp(f, p->pos0_file) != 0 ||
	    strcmp(o, p->pos0_pos) != 0)) {
		if (!p->opt.force) {
			refuse(p, "--no-freeze while the old master's binary log "
			    "moves (%s:%s -> %s:%s in %d ms): writes after the "
			    "catch-up would be lost. Stop the application's writes "
			    "first, or let replwatch freeze the master (--force "
			    "overrides this)", p->pos0_file, p->pos0_pos, f, o,
			    MOVE_CHECK_US / 1000);
			return;
		}
		todo(p, "forced past: --no-freeze while the old master's binary "
		    "log moved: rows written there after the catch-up are not on "
		    "the new master");
	}
	preflight_done(p);
}

static void	make_plan(struct promotion *);

/* "lag 120 ms", or "lag unknown" (forced past it): never "-1 ms". */
static const char *
lag_text(const struct promotion *p, char *buf, size_t len)
{
	if (p->t->lag_ms < 0)
		snprintf(buf, len, "lag unknown");
	else
		snprintf(buf, len, "lag %lld ms", p->t->lag_ms);
	return buf;
}

static void
preflight_done(struct promotion *p)
{
	char lag[48];

	if (p->opt.dry_run) {
		step_end(p, PS_PREFLIGHT, PSS_DONE, "replica %s, %s; %s%s",
		    flavor_name(p->rfl), p->rfl->version_str,
		    lag_text(p, lag, sizeof lag),
		    has_master(p) ? "; old master reachable" : "");
		make_plan(p);
		p->rec.outcome = PO_DRY_RUN;
		snprintf(p->rec.reason, sizeof p->rec.reason,
		    "dry run: nothing changed");
		finish(p);
		return;
	}
	step_next(p, PSS_DONE, "replica %s, %s, read_only %s; %s%s",
	    flavor_name(p->rfl), p->rfl->version_str,
	    p->rec.replica_orig_ro == 1 ? "ON" : p->rec.replica_orig_ro == 0 ?
	    "OFF" : "unknown", lag_text(p, lag, sizeof lag),
	    has_master(p) ? "; old master reachable" : "");
}

/* ---- freeze -------------------------------------------------------------- */

static void
freeze_start(struct promotion *p)
{
	if (!has_master(p)) {
		todo(p, "no old master configured: stop writes to it yourself "
		    "and check that nothing was written after the cut-over");
		step_next(p, PSS_SKIPPED, "no master configured: the catch-up "
		    "cannot be checked against the master's final position");
		return;
	}
	if (!p->opt.freeze) {
		todo(p, "the old master was not frozen (--no-freeze): make sure "
		    "no application still writes to it");
		step_next(p, PSS_SKIPPED, "--no-freeze: writes to the old master "
		    "are not stopped");
		return;
	}
	/* Freeze when the replica is nearly there: writes wait the least. */
	p->deadline_us = now_mono_us() + (uint64_t)(p->opt.timeout_s * 1e6);
	query(p, p->m, P_NEAR_M, flavor_master_status_sql(&p->mfl), 0);
}

static void
near_m_ok(struct promotion *p, const struct db_result *res)
{
	const char *f = value(res, "File"), *o = value(res, "Position");

	if (f == NULL) {
		fail(p, "the old master has no binary log (%s returned no row)",
		    flavor_master_status_sql(&p->mfl));
		return;
	}
	snprintf(p->pos0_file, sizeof p->pos0_file, "%s", f);
	snprintf(p->pos0_pos, sizeof p->pos0_pos, "%s", o ? o : "0");
	query(p, p->r, P_NEAR_R, flavor_status_sql(p->rfl), 0);
}

static void	freeze_now(struct promotion *);

static void
near_status(struct promotion *p, const struct rw_status *st)
{
	long long b = behind(st, p->pos0_file, p->pos0_pos);

	if (b >= 0 && b <= NEAR_BYTES) {
		freeze_now(p);
		return;
	}
	if (st->last_sql_errno != 0 || st->sql != THREAD_YES) {
		fail(p, "the SQL thread stopped while waiting to freeze: %u %s",
		    st->last_sql_errno, st->last_sql_error ? st->last_sql_error : "");
		return;
	}
	if (now_mono_us() >= p->deadline_us) {
		fail(p, "in %g s the replica never came within %d bytes of the "
		    "old master (%s:%s vs executed %s:%s): a freeze now would block "
		    "writes for the whole backlog", p->opt.timeout_s, NEAR_BYTES,
		    p->pos0_file, p->pos0_pos, st->relay_master_log_file ?
		    st->relay_master_log_file : "?", st->exec_master_log_pos ?
		    st->exec_master_log_pos : "?");
		return;
	}
	wait_timer(p, P_NEAR_M, NEAR_POLL_US);
}

static void
near_r_ok(struct promotion *p, const struct db_result *res)
{
	with_status(p, res, near_status);
}

static void
freeze_now(struct promotion *p)
{
	char *sql;

	/* Resumed: writes have been refused since the first freeze. */
	if (p->rec.freeze_ms == 0)
		p->rec.freeze_ms = now_unix_ms();
	/*
	 * From here a failure must undo the freeze: the statement may take
	 * effect on the server even if we give up waiting for it, so it counts
	 * as done (restoring the old value is harmless).
	 */
	if (mark(p, CH_MASTER_RO) == -1)
		return;
	sql = flavor_lock_wait_sql(FREEZE_LOCK_WAIT_S);
	query(p, p->m, P_M_LWT, sql, 0);
	free(sql);
}

/* ---- unblocking a waiting freeze ------------------------------------ */

/*
 * SET GLOBAL read_only and FLUSH TABLES WITH READ LOCK wait for running
 * statements, and a statement can wait for a row lock held by a transaction
 * whose next statement waits for the freeze: a cycle InnoDB does not see
 * (REFERENCE §4), which would block every write until the freeze's lock
 * wait ends (2 s) and is retried.  So a freeze statement still waiting
 * after FREEZE_UNBLOCK_MS ends the old master's other sessions, as the
 * freeze does anyway once it holds the lock, from a second link: the cycle
 * breaks, their transactions roll back (none was acknowledged), and the
 * statement completes.  Runs beside the freeze, outside the phase table.
 */
enum { UK_CONNECT, UK_LIST, UK_KILL };

static int
freezing(const struct promotion *p)
{
	return p->phase == P_M_RO || p->phase == P_M_SRO || p->phase == P_M_LOCK;
}

static void
arm_unblock(struct promotion *p)
{
	struct timeval tv = { FREEZE_UNBLOCK_MS / 1000,
	    FREEZE_UNBLOCK_MS % 1000 * 1000 };

	evtimer_add(p->unblock_timer, &tv);
}

static void	unblock_cb(struct db *, enum db_status, const struct db_result *,
		    void *);

static void
unblock_ask(struct promotion *p, int ph, const char *sql)
{
	p->uk_phase = ph;
	if (db_query(p->mk, sql, 0, unblock_cb, p) == -1)
		p->unblocking = 0;
}

static void
unblock_next(struct promotion *p)
{
	char *sql;

	if (p->uk_i >= p->uk_n) {
		p->unblocking = 0;
		if (freezing(p))
			arm_unblock(p);	/* still waiting: again later */
		return;
	}
	sql = flavor_kill_sql(p->uk_ids[p->uk_i++]);
	unblock_ask(p, UK_KILL, sql);
	free(sql);
}

static void
unblock_cb(struct db *db, enum db_status st, const struct db_result *res,
    void *arg)
{
	struct promotion *p = arg;
	const struct db_set *s;

	if (st != DB_OK && !(p->uk_phase == UK_KILL && db_errno(db) == 1094)) {
		log_warnx("%s: cannot end the sessions the freeze waits for: %s",
		    p->t->name, db_error(db));
		p->unblocking = 0;
		return;
	}
	switch (p->uk_phase) {
	case UK_CONNECT:
		unblock_ask(p, UK_LIST, flavor_sessions_sql());
		break;
	case UK_LIST:
		s = first_set(res);
		free(p->uk_ids);
		p->uk_ids = NULL;
		p->uk_n = p->uk_i = 0;
		if (s != NULL && s->nrows > 0) {
			p->uk_ids = xcalloc(s->nrows, sizeof *p->uk_ids);
			for (size_t i = 0; i < s->nrows; i++) {
				const char *v = db_set_value(s, i, "id");
				unsigned long long id = v ? strtoull(v, NULL, 10) : 0;

				if (id != 0 && id != p->m_id)
					p->uk_ids[p->uk_n++] = id;
			}
		}
		if (p->uk_n > 0) {
			p->rec.changes |= CH_SESSIONS_KILLED;
			journal_save(p);
		}
		unblock_next(p);
		break;
	case UK_KILL:
		if (st == DB_OK)
			p->rec.killed++;
		unblock_next(p);
		break;
	}
}

static void
unblock_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct promotion *p = arg;

	if (!freezing(p) || p->unblocking || p->m == NULL)
		return;
	p->unblocking = 1;
	p->m_id = db_thread_id(p->m);
	log_warnx("%s: %s has waited %d ms: ending the old master's other "
	    "sessions (a lock-wait cycle with the application's transactions "
	    "would otherwise last until the lock wait times out)", p->t->name,
	    phases[p->phase].name, FREEZE_UNBLOCK_MS);
	if (p->mk != NULL && db_connected(p->mk)) {
		unblock_ask(p, UK_LIST, flavor_sessions_sql());
		return;
	}
	if (p->mk != NULL)
		db_free(p->mk);
	p->mk = master_db(p);
	p->uk_phase = UK_CONNECT;
	if (db_connect(p->mk, unblock_cb, p) == -1)
		p->unblocking = 0;
}

static void
m_lwt_ok(struct promotion *p, const struct db_result *res)
{
	arm_unblock(p);
	query(p, p->m, P_M_RO, flavor_set_read_only_sql(1), FREEZE_QUERY_MS(p));
}

static void
m_ro_ok(struct promotion *p, const struct db_result *res)
{
	p->freeze_tries = 0;	/* FREEZE_TRIES for each statement */
	arm_unblock(p);
	if (!p->mfl.mariadb) {
		if (mark(p, CH_MASTER_SRO) == -1)
			return;
		query(p, p->m, P_M_SRO, flavor_set_super_read_only_sql(1),
		    FREEZE_QUERY_MS(p));
		return;
	}
	if (mark(p, CH_MASTER_LOCKED) == -1)
		return;
	query(p, p->m, P_M_LOCK, flavor_read_lock_sql(), FREEZE_QUERY_MS(p));
}

static void
m_sro_ok(struct promotion *p, const struct db_result *res)
{
	p->freeze_tries = 0;
	arm_unblock(p);
	if (mark(p, CH_MASTER_LOCKED) == -1)
		return;
	query(p, p->m, P_M_LOCK, flavor_read_lock_sql(), FREEZE_QUERY_MS(p));
}

/* 1205 (lock wait timeout): the freeze statements are retried. */
static int
freeze_err(struct promotion *p, const char *why)
{
	if (db_errno(p->m) != 1205 || ++p->freeze_tries >= FREEZE_TRIES)
		return 0;
	log_warnx("%s: %s waited %d s for a lock; retrying", p->t->name,
	    phases[p->phase].name, FREEZE_LOCK_WAIT_S);
	arm_unblock(p);
	query(p, p->m, p->phase, p->phase == P_M_RO ?
	    flavor_set_read_only_sql(1) : p->phase == P_M_SRO ?
	    flavor_set_super_read_only_sql(1) : flavor_read_lock_sql(),
	    FREEZE_QUERY_MS(p));
	return 1;
}

static void
m_lock_ok(struct promotion *p, const struct db_result *res)
{
	evtimer_del(p->unblock_timer);
	query(p, p->m, P_M_SESSIONS, flavor_sessions_sql(), 0);
}

static void
kill_next(struct promotion *p)
{
	char *sql;

	if (p->ikill >= p->nkill) {
		if (p->unkillable > 0)
			todo(p, "%d session%s on the old master could not be ended "
			    "(not permitted): grant CONNECTION ADMIN (MariaDB) or "
			    "CONNECTION_ADMIN (MySQL) to replwatchd's master user; "
			    "they stay, held back by read_only and the lock",
			    p->unkillable, p->unkillable == 1 ? "" : "s");
		query(p, p->m, P_M_POS, flavor_master_status_sql(&p->mfl), 0);
		return;
	}
	sql = flavor_kill_sql(p->kill_ids[p->ikill++]);
	query(p, p->m, P_M_KILL, sql, 0);
	free(sql);
}

/*
 * End every other client session: open transactions roll back (none was
 * acknowledged), and the application reconnects, through the switch.
 */
static void
m_sessions_ok(struct promotion *p, const struct db_result *res)
{
	const struct db_set *s = first_set(res);

	free(p->kill_ids);
	p->kill_ids = NULL;
	p->nkill = p->ikill = 0;
	p->unkillable = 0;
	if (s != NULL && s->nrows > 0) {
		p->kill_ids = xcalloc(s->nrows, sizeof *p->kill_ids);
		for (size_t i = 0; i < s->nrows; i++) {
			const char *v = db_set_value(s, i, "id");

			if (v != NULL)
				p->kill_ids[p->nkill++] = strtoull(v, NULL, 10);
		}
		if (mark(p, CH_SESSIONS_KILLED) == -1)
			return;
	}
	kill_next(p);
}

static void
m_kill_ok(struct promotion *p, const struct db_result *res)
{
	p->rec.killed++;
	kill_next(p);
}

/*
 * 1094: the session ended by itself meanwhile.  1095: not ours to end (no
 * CONNECTION ADMIN): it stays, held back by read_only and the lock alone.
 */
static int
kill_err(struct promotion *p, const char *why)
{
	if (db_errno(p->m) == 1095)
		p->unkillable++;
	else if (db_errno(p->m) != 1094)
		return 0;
	kill_next(p);
	return 1;
}

static void
m_pos_ok(struct promotion *p, const struct db_result *res)
{
	const char *v;

	if ((v = value(res, "File")) == NULL) {
		fail(p, "the old master has no binary log (%s returned no row)",
		    flavor_master_status_sql(&p->mfl));
		return;
	}
	snprintf(p->rec.final_file, sizeof p->rec.final_file, "%s", v);
	v = value(res, "Position");
	snprintf(p->rec.final_pos, sizeof p->rec.final_pos, "%s", v ? v : "0");
	query(p, p->m, P_M_GTID, flavor_master_gtid_sql(&p->mfl), 0);
}

static void
m_gtid_ok(struct promotion *p, const struct db_result *res)
{
	const char *v = value(res, "gtid");

	snprintf(p->rec.final_gtid, sizeof p->rec.final_gtid, "%s", v ? v : "");
	p->rec.have_final = 1;
	p->use_poswait = 1;
	if (p->rec.cur == PS_CATCHUP) {
		/* --no-freeze: the position now is the floor of the catch-up. */
		snprintf(p->rec.final_source, sizeof p->rec.final_source,
		    "master before the catch-up (not frozen)");
		steps[PS_CATCHUP].start(p);
		return;
	}
	snprintf(p->rec.final_source, sizeof p->rec.final_source,
	    "master at the freeze");
	step_next(p, PSS_DONE, "old master read-only and locked at %s:%s%s%s; "
	    "%d session%s ended", p->rec.final_file, p->rec.final_pos,
	    p->rec.final_gtid[0] ? " gtid " : "", p->rec.final_gtid,
	    p->rec.killed, p->rec.killed == 1 ? "" : "s");
}

/* ---- catchup ------------------------------------------------------------ */

static void
catchup_start(struct promotion *p)
{
	unsigned tmo;
	char *sql;

	if (!p->rec.have_final && has_master(p) && p->m != NULL &&
	    db_connected(p->m)) {
		/* Not frozen: catch up at least to where the master is now. */
		query(p, p->m, P_M_POS, flavor_master_status_sql(&p->mfl), 0);
		return;
	}
	p->deadline_us = now_mono_us() + (uint64_t)(p->opt.timeout_s * 1e6);
	tmo = (unsigned)(p->opt.timeout_s + 0.999);
	sql = p->use_poswait && p->rec.have_final ? flavor_pos_wait_sql(p->rfl,
	    &(struct sql_quoter){ db_quote, p->r }, p->rec.final_file,
	    p->rec.final_pos, tmo ? tmo : 1) : NULL;
	if (sql == NULL) {
		query(p, p->r, P_R_POLL, flavor_status_sql(p->rfl), 0);
		return;
	}
	query(p, p->r, P_R_POSWAIT, sql, (tmo + 2) * 1000);
	free(sql);
}

static void
r_poswait_ok(struct promotion *p, const struct db_result *res)
{
	const struct db_set *s = first_set(res);
	const char *v = s != NULL && s->nrows > 0 && s->ncols > 0 ?
	    s->values[0] : NULL;

	/* NULL: SQL thread not running; -1: timed out.  Look either way. */
	if (v == NULL || atoll(v) < 0)
		p->use_poswait = 0;
	/* Reached: confirm by the status (and leave no doubt in the report). */
	query(p, p->r, P_R_POLL, flavor_status_sql(p->rfl), 0);
}

/* A server that refuses the position wait: poll the status instead. */
static int
poswait_err(struct promotion *p, const char *why)
{
	if (db_errno(p->r) == 0)
		return 0;
	log_info("%s: position wait refused: %s; polling the status instead",
	    p->t->name, why);
	p->use_poswait = 0;
	query(p, p->r, P_R_POLL, flavor_status_sql(p->rfl), 0);
	return 1;
}

static void
poll_status(struct promotion *p, const struct rw_status *st)
{
	if (caught_up(p, st)) {
		step_next(p, PSS_DONE, "executed %s:%s%s",
		    st->relay_master_log_file, st->exec_master_log_pos,
		    !p->rec.have_final ? " = all it received (no master "
		    "configured: no final position to compare with)" :
		    strcmp(p->rec.final_source, "master at the freeze") != 0 ?
		    ", at least the master's position before the catch-up "
		    "(not frozen)" : " = the master's final position");
		return;
	}
	if (st->last_sql_errno != 0 || st->sql != THREAD_YES) {
		fail(p, "the SQL thread stopped during catch-up: %u %s",
		    st->last_sql_errno, st->last_sql_error ? st->last_sql_error : "");
		return;
	}
	if (now_mono_us() >= p->deadline_us) {
		fail(p, "catch-up timed out after %g s at %s:%s (final %s:%s)",
		    p->opt.timeout_s, st->relay_master_log_file ?
		    st->relay_master_log_file : "?", st->exec_master_log_pos ?
		    st->exec_master_log_pos : "?", p->rec.final_file,
		    p->rec.final_pos);
		return;
	}
	wait_timer(p, P_R_POLL, POLL_US);
}

static void
r_poll_ok(struct promotion *p, const struct db_result *res)
{
	with_status(p, res, poll_status);
}

/* ---- switch --------------------------------------------------------------- */

static void	switched(struct promotion *);

/*
 * Make the replica writable where SQL can, then move the traffic.  Nothing
 * more can arrive through replication: the master is frozen and the replica
 * has executed its final position.
 */
static void
switch_start(struct promotion *p)
{
	if (p->rec.replica_orig_ro == 1 && !flavor_is_rds(p->rfl)) {
		if (mark(p, CH_REPLICA_RW) == -1)
			return;
		query(p, p->r, P_R_RW, flavor_set_read_only_sql(0), 0);
		return;
	}
	set_phase(p, P_R_RW);
	phases[P_R_RW].ok(p, NULL);
}

static void
r_rw_ok(struct promotion *p, const struct db_result *res)
{
	if (p->t->cf->on_switch == NULL) {
		switched(p);
		return;
	}
	if (mark(p, CH_SWITCH_SENT) == -1)
		return;
	switch_hook(p, P_SWITCH, 1);
}

static void
switch_ok(struct promotion *p, const struct db_result *res)
{
	switched(p);
}

/* Past the point of no return. */
static void
switched(struct promotion *p)
{
	p->rec.switched_ms = now_unix_ms();
	if (p->rec.freeze_ms != 0)
		p->rec.write_blocked_ms = (double)(p->rec.switched_ms -
		    p->rec.freeze_ms);
	if (mark(p, CH_SWITCHED) == -1)
		return;
	if (p->t->cf->on_switch == NULL)
		todo(p, "no on_switch command is configured: point the "
		    "application at the new master (%s:%u) yourself",
		    p->t->cf->replica.host, p->t->cf->replica.port);
	step_next(p, PSS_DONE, "%s%s", p->t->cf->on_switch != NULL ?
	    "application moved by on_switch" : "no on_switch configured",
	    p->rec.replica_orig_ro == 1 && !flavor_is_rds(p->rfl) ?
	    "; the replica made writable" : "");
}

/* ---- stop, reset, verify, done ------------------------------------------ */

static void
stop_start(struct promotion *p)
{
	if (mark(p, CH_STOP_SENT) == -1)
		return;
	control(p, P_R_STOP, REPL_STOP);
}

static void
r_stop_ok(struct promotion *p, const struct db_result *res)
{
	const struct rw_status *st = server_status(p->rs);
	const char *f = st->relay_master_log_file, *o = st->exec_master_log_pos;

	if (p->rec.have_final && !caught_up(p, st)) {
		fail(p, "after the stop the replica executed %s:%s, not the "
		    "final %s:%s", f ? f : "?", o ? o : "?", p->rec.final_file,
		    p->rec.final_pos);
		return;
	}
	snprintf(p->rec.stop_file, sizeof p->rec.stop_file, "%s", f ? f : "");
	snprintf(p->rec.stop_pos, sizeof p->rec.stop_pos, "%s", o ? o : "");
	if (mark(p, CH_STOPPED) == -1)
		return;
	step_next(p, PSS_DONE, "replication stopped at %s:%s", f ? f : "?",
	    o ? o : "?");
}

static void
reset_start(struct promotion *p)
{
	if (mark(p, CH_RESET_SENT) == -1)
		return;
	control(p, P_R_RESET, REPL_RESET);
}

static void
r_reset_ok(struct promotion *p, const struct db_result *res)
{
	if (mark(p, CH_RESET_DONE) == -1)
		return;
	step_next(p, PSS_DONE, "%s%s%s", server_statement(p->rs)[0] ?
	    server_statement(p->rs) : "no statement needed",
	    server_note(p->rs)[0] ? ": " : "", server_note(p->rs));
}

static void
verify_start(struct promotion *p)
{
	query(p, p->r, P_R_VSTATUS, flavor_status_sql(p->rfl), 0);
}

static void
verify_status(struct promotion *p, const struct rw_status *st)
{
	if (st->configured) {
		fail(p, "replication is still configured after the reset");
		return;
	}
	query(p, p->r, P_R_VRO, flavor_read_only_sql(), 0);
}

static void
r_vstatus_ok(struct promotion *p, const struct db_result *res)
{
	with_status(p, res, verify_status);
}

static void
r_vro_ok(struct promotion *p, const struct db_result *res)
{
	p->rec.replica_ro = bool_value(res, "ro");
	if (p->rec.replica_ro == 1)
		todo(p, flavor_is_rds(p->rfl) ? "read_only is ON on the RDS "
		    "instance: set read_only = 0 in its DB parameter group (SQL "
		    "cannot change it there)" : "read_only is ON on the new "
		    "master: run SET GLOBAL read_only = OFF as an administrator");
	if (p->rec.write_blocked_ms < 0 && p->rec.freeze_ms != 0)
		p->rec.write_blocked_ms = (double)(now_unix_ms() -
		    p->rec.freeze_ms);
	step_next(p, PSS_DONE, "no replication configured; %s; read_only %s",
	    p->rec.have_final ? "final position applied" :
	    "no frozen master position to compare with",
	    p->rec.replica_ro == 1 ? "ON" : p->rec.replica_ro == 0 ? "OFF" :
	    "unknown");
}

static void
run_on_promoted(struct promotion *p)
{
	const struct rw_target_config *cf = p->t->cf;
	char *env[12];
	int n = 0, r;

	set_phase(p, P_ON_PROMOTED);
	xasprintf(&env[n++], "REPLWATCH_EVENT=promoted");
	xasprintf(&env[n++], "REPLWATCH_TARGET=%s", p->t->name);
	xasprintf(&env[n++], "REPLWATCH_OUTCOME=promoted");
	xasprintf(&env[n++], "REPLWATCH_REASON=%s", p->rec.reason);
	xasprintf(&env[n++], "REPLWATCH_FINAL_FILE=%s", p->rec.final_file);
	xasprintf(&env[n++], "REPLWATCH_FINAL_POS=%s", p->rec.final_pos);
	xasprintf(&env[n++], "REPLWATCH_FINAL_GTID=%s", p->rec.final_gtid);
	xasprintf(&env[n++], "REPLWATCH_WRITE_BLOCKED_MS=%.1f",
	    p->rec.write_blocked_ms < 0 ? 0 : p->rec.write_blocked_ms);
	xasprintf(&env[n++], "REPLWATCH_REPLICA=%s:%u", cf->replica.host,
	    cf->replica.port);
	xasprintf(&env[n++], "REPLWATCH_NEW_MASTER_HOST=%s", cf->replica.host);
	xasprintf(&env[n++], "REPLWATCH_NEW_MASTER_PORT=%u", cf->replica.port);
	env[n] = NULL;
	r = hooks_run("on_promoted", p->t->name, cf->on_promoted,
	    cf->hook_timeout_ms, env, hook_done, p);
	for (int i = 0; i < n; i++)
		free(env[i]);
	if (r == -1)
		hook_done(0, "could not be started (see the log)", p);
}

static void
done_start(struct promotion *p)
{
	if (CH(p, CH_MASTER_RO))
		todo(p, "the old master stays read-only%s: leave it so, or "
		    "decommission it", CH(p, CH_MASTER_LOCKED) ? " and fenced "
		    "(replwatchctl unfence releases the lock)" : "");
	p->rec.outcome = PO_PROMOTED;
	snprintf(p->rec.reason, sizeof p->rec.reason, "promoted%s%s%s%s",
	    p->rec.have_final ? " at " : "", p->rec.have_final ?
	    p->rec.final_file : "", p->rec.have_final ? ":" : "",
	    p->rec.have_final ? p->rec.final_pos : "");
	if (p->t->cf->on_promoted != NULL) {
		run_on_promoted(p);
		return;
	}
	finish(p);
}

static void
on_promoted_ok(struct promotion *p, const struct db_result *res)
{
	finish(p);
}

/* Promoted all the same: the report shows it, the client's exit says it. */
static int
on_promoted_err(struct promotion *p, const char *why)
{
	todo(p, "the on_promoted hook failed (%s): do by hand what it should "
	    "have done", why);
	finish(p);
	return 1;
}

/* ---- resume ------------------------------------------------------------- */

static void
resume_from(struct promotion *p, const struct rw_status *st)
{
	if (CH(p, CH_SWITCHED)) {
		if (!st->configured) {
			p->rec.changes |= CH_RESET_DONE;
			step_end(p, PS_RESET, PSS_DONE, "no replication configured: "
			    "the reset had completed");
			step_begin(p, PS_VERIFY);
			verify_start(p);
			return;
		}
		step_begin(p, PS_STOP);
		stop_start(p);
		return;
	}
	/* Not yet switched: everything before is done again, safely. */
	if (st->configured && (st->io != THREAD_YES || st->sql != THREAD_YES)) {
		control(p, P_R_RESTART, REPL_START);
		return;
	}
	set_phase(p, P_R_RESTART);
	phases[P_R_RESTART].ok(p, NULL);
}

static void
r_restart_ok(struct promotion *p, const struct db_result *res)
{
	p->rec.changes &= ~(CH_STOP_SENT | CH_STOPPED);
	if (has_master(p)) {
		connect_master(p, P_M_CONNECT);
		return;
	}
	step_begin(p, PS_FREEZE);
	freeze_start(p);
}

/* ---- failure and rollback ----------------------------------------------- */

/*
 * A step failed.  Before the switch: roll back.  After it: the target is
 * left interrupted for --resume.
 */
static void
fail(struct promotion *p, const char *fmt, ...)
{
	enum promo_step s = p->rec.cur;
	char why[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	evtimer_del(p->timer);
	evtimer_del(p->unblock_timer);
	if (p->rolling_back) {
		todo(p, "rollback incomplete: %s", why);
		finish(p);
		return;
	}
	if (p->rec.steps[s].st == PSS_RUNNING)
		step_end(p, s, PSS_FAILED, "%s", why);
	if (CH(p, CH_SWITCHED)) {
		snprintf(p->rec.reason, sizeof p->rec.reason, "failed after the "
		    "switch (%s): %s; run promote --resume", promo_step_names[s],
		    why);
		p->rec.outcome = PO_INTERRUPTED;
		finish(p);
		return;
	}
	if (p->rec.changes == 0)
		snprintf(p->rec.reason, sizeof p->rec.reason, "%s failed: %s; "
		    "nothing was changed", promo_step_names[s], why);
	else
		snprintf(p->rec.reason, sizeof p->rec.reason, "%s failed: %s; "
		    "rolled back", promo_step_names[s], why);
	/* Running (promote_running) until finish() makes it aborted. */
	p->rolling_back = 1;
	log_warnx("%s: promotion %s", p->t->name, p->rec.reason);
	rollback_next(p);
}

/* Try the undo of change ch once; 1 if it was started. */
static int
undo_once(struct promotion *p, unsigned ch)
{
	if (!CH(p, ch) || (p->rb_tried & ch))
		return 0;
	p->rb_tried |= ch;
	return 1;
}

/*
 * The next rollback action, from what was changed, latest first: the
 * replica read-only again (no more writes that the old master lacks), the
 * traffic back, replication running, the old master as it was.  A failed
 * action is reported in todo and the rest still runs.
 */
static void
rollback_next(struct promotion *p)
{
	int m_up = p->m != NULL && db_connected(p->m);
	int stopped = CH(p, CH_STOP_SENT) || CH(p, CH_STOPPED);

	if (!m_up)
		p->rec.changes &= ~CH_MASTER_LOCKED;	/* gone with the link */
	if ((p->rs == NULL || !db_connected(p->r)) && !p->rb_reopened &&
	    (stopped || CH(p, CH_REPLICA_RW))) {
		p->rb_reopened = 1;
		open_replica(p, P_RB_R_OPEN);
		return;
	}
	if (undo_once(p, CH_REPLICA_RW)) {
		query(p, p->r, P_RB_R_RO, flavor_set_read_only_sql(1), 0);
		return;
	}
	if (undo_once(p, CH_SWITCH_SENT) && p->t->cf->on_switch != NULL) {
		todo(p, "the application may have written to the replica after "
		    "on_switch started and before the rollback made it read-only: "
		    "such rows are not on the old master; compare the two (e.g. "
		    "pt-table-checksum) before trying again");
		if (mark(p, CH_SWITCH_BACK) == -1)
			return;
		switch_hook(p, P_RB_SWITCH, 0);
		return;
	}
	if (stopped && !p->rb_start_tried) {
		p->rb_start_tried = 1;
		control(p, P_RB_START, REPL_START);
		return;
	}
	if (undo_once(p, CH_MASTER_LOCKED)) {
		query(p, p->m, P_RB_UNLOCK, flavor_unlock_sql(), 0);
		return;
	}
	if ((CH(p, CH_MASTER_RO) || CH(p, CH_MASTER_SRO)) && !m_up &&
	    !p->rb_reconnected && has_master(p)) {
		p->rb_reconnected = 1;
		connect_master(p, P_RB_M_CONNECT);
		return;
	}
	if (m_up && undo_once(p, CH_MASTER_SRO)) {
		query(p, p->m, P_RB_SRO, flavor_set_super_read_only_sql(
		    p->rec.master_orig_sro == 1), 0);
		return;
	}
	if (m_up && undo_once(p, CH_MASTER_RO)) {
		query(p, p->m, P_RB_RO, flavor_set_read_only_sql(
		    p->rec.master_orig_ro == 1), 0);
		return;
	}
	if (stopped)
		todo(p, "replication may be stopped: check, and run replwatchctl "
		    "start %s", p->t->name);
	if (CH(p, CH_MASTER_RO))
		todo(p, "the old master is still read-only: run %s on it",
		    flavor_set_read_only_sql(0));
	if (CH(p, CH_REPLICA_RW))
		todo(p, "the replica may still be writable: run %s on it",
		    flavor_set_read_only_sql(1));
	if (CH(p, CH_SWITCH_SENT) && !CH(p, CH_SWITCH_BACK))
		todo(p, "the application may still be sent to the replica: "
		    "point it back at the old master");
	journal_save(p);
	finish(p);
}

/* A rollback action ended (p->op_ok says how): forget the change undone. */
static void
rb_ok(struct promotion *p, const struct db_result *res)
{
	static const struct { enum phase ph; unsigned ch; } undone[] = {
		{ P_RB_R_RO, CH_REPLICA_RW }, { P_RB_UNLOCK, CH_MASTER_LOCKED },
		{ P_RB_SRO, CH_MASTER_SRO }, { P_RB_RO, CH_MASTER_RO },
		{ P_RB_START, CH_STOP_SENT | CH_STOPPED },
		{ P_RB_SWITCH, CH_SWITCH_SENT },
	};

	for (size_t i = 0; p->op_ok && i < sizeof undone / sizeof undone[0]; i++)
		if (undone[i].ph == p->phase)
			p->rec.changes &= ~undone[i].ch;
	if (p->phase == P_RB_START && p->op_ok)
		snprintf(p->rec.reason + strlen(p->rec.reason),
		    sizeof p->rec.reason - strlen(p->rec.reason),
		    "; replication runs again%s%s", server_note(p->rs)[0] ?
		    ": " : "", server_note(p->rs));
	/* Marked before the run: it stands only if the run succeeded. */
	if (p->phase == P_RB_SWITCH && !p->op_ok)
		p->rec.changes &= ~CH_SWITCH_BACK;
	journal_save(p);
	rollback_next(p);
}

/* ---- the tables ----------------------------------------------------------- */

static const struct step_def steps[PS__COUNT] = {
	[PS_PREFLIGHT] =	{ NULL },	/* begun by promote_start */
	[PS_FREEZE] =		{ freeze_start },
	[PS_CATCHUP] =		{ catchup_start },
	[PS_SWITCH] =		{ switch_start },
	[PS_STOP] =		{ stop_start },
	[PS_RESET] =		{ reset_start },
	[PS_VERIFY] =		{ verify_start },
	[PS_DONE] =		{ done_start },
};

static const struct phase_def phases[P__COUNT] = {
	[P_IDLE] =		{ "idle", NULL, NULL },
	[P_R_OPEN] =		{ "connect to the replica", r_open_ok, NULL },
	[P_R_LOCK] =		{ "take the promotion lock", r_lock_ok, NULL },
	[P_R_STATUS] =		{ "read the replica's status", r_status_ok, NULL },
	[P_R_RO0] =		{ "read the replica's read_only", r_ro0_ok, NULL },
	[P_M_CONNECT] =		{ "connect to the old master", m_connect_ok, NULL },
	[P_M_PROBE] =		{ "detect the old master's kind", m_probe_ok, NULL },
	[P_M_VARS] =		{ "read the old master's read_only", m_vars_ok, NULL },
	[P_M_WHO] =		{ "list who read_only exempts", m_who_ok, NULL },
	[P_M_POS0] =		{ "read the old master's position", m_pos0_ok, NULL },
	[P_M_POS1] =		{ "read it again", m_pos1_ok, NULL },
	[P_NEAR_M] =		{ "read the old master's position", near_m_ok, NULL },
	[P_NEAR_R] =		{ "read the replica's position", near_r_ok, NULL },
	[P_M_LWT] =		{ "bound the freeze's lock waits", m_lwt_ok, NULL },
	[P_M_RO] =		{ "SET GLOBAL read_only", m_ro_ok, freeze_err },
	[P_M_SRO] =		{ "SET GLOBAL super_read_only", m_sro_ok, freeze_err },
	[P_M_LOCK] =		{ "FLUSH TABLES WITH READ LOCK", m_lock_ok, freeze_err },
	[P_M_SESSIONS] =	{ "list the old master's sessions", m_sessions_ok, NULL },
	[P_M_KILL] =		{ "end a session", m_kill_ok, kill_err },
	[P_M_POS] =		{ "read the final position", m_pos_ok, NULL },
	[P_M_GTID] =		{ "read the final GTID", m_gtid_ok, NULL },
	[P_R_POSWAIT] =		{ "wait for the final position", r_poswait_ok,
				    poswait_err },
	[P_R_POLL] =		{ "read the replica's status", r_poll_ok, NULL },
	[P_R_RW] =		{ "make the replica writable", r_rw_ok, NULL },
	[P_SWITCH] =		{ "on_switch", switch_ok, NULL },
	[P_R_STOP] =		{ "stop replication", r_stop_ok, NULL },
	[P_R_RESET] =		{ "reset replication", r_reset_ok, NULL },
	[P_R_VSTATUS] =		{ "read the replica's status", r_vstatus_ok, NULL },
	[P_R_VRO] =		{ "read the replica's read_only", r_vro_ok, NULL },
	[P_ON_PROMOTED] =	{ "on_promoted", on_promoted_ok, on_promoted_err },
	[P_R_RESTART] =		{ "restart replication", r_restart_ok, NULL },
	[P_RB_R_OPEN] =		{ "reconnect to the replica", rb_ok, NULL },
	[P_RB_R_RO] =		{ "make the replica read-only again", rb_ok, NULL },
	[P_RB_SWITCH] =		{ "on_switch back", rb_ok, NULL },
	[P_RB_START] =		{ "restart replication", rb_ok, NULL },
	[P_RB_M_CONNECT] =	{ "reconnect to the old master", rb_ok, NULL },
	[P_RB_UNLOCK] =		{ "UNLOCK TABLES", rb_ok, NULL },
	[P_RB_SRO] =		{ "restore super_read_only", rb_ok, NULL },
	[P_RB_RO] =		{ "restore read_only", rb_ok, NULL },
};

/* A timer phase ran out: its operation is sent again. */
static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct promotion *p = arg;

	if (p->abort_requested) {
		fail(p, "aborted by request");
		return;
	}
	switch (p->phase) {
	case P_M_POS1:
	case P_NEAR_M:
		query(p, p->m, p->phase, flavor_master_status_sql(&p->mfl), 0);
		break;
	case P_R_POLL:
		query(p, p->r, P_R_POLL, flavor_status_sql(p->rfl), 0);
		break;
	default:
		fail(p, "internal: timer in phase %s", phases[p->phase].name);
	}
}

/* ---- the dry run's plan ----------------------------------------------- */

static void
add_plan(struct promotion *p, const char *where, const char *sql)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "on", where);
	cJSON_AddStringToObject(o, "sql", sql);
	cJSON_AddItemToArray(p->rec.plan, o);
}

static void
make_plan(struct promotion *p)
{
	int freeze = p->opt.freeze && has_master(p);
	char *s;

	p->rec.plan = cJSON_CreateArray();
	if (freeze) {
		add_plan(p, "master", flavor_master_status_sql(&p->mfl));
		add_plan(p, "replica", flavor_status_sql(p->rfl));
		add_plan(p, "master", flavor_set_read_only_sql(1));
		if (!p->mfl.mariadb)
			add_plan(p, "master", flavor_set_super_read_only_sql(1));
		add_plan(p, "master", flavor_read_lock_sql());
		add_plan(p, "master", flavor_sessions_sql());
		add_plan(p, "master", "KILL CONNECTION <each of them>");
		add_plan(p, "master", flavor_master_status_sql(&p->mfl));
		/* Shown at the master's current position; read at the freeze. */
		s = flavor_pos_wait_sql(p->rfl,
		    &(struct sql_quoter){ db_quote, p->r },
		    p->t->master.log_file[0] ?
		    p->t->master.log_file : "master-bin.000001",
		    p->t->master.log_pos[0] ? p->t->master.log_pos : "4",
		    (unsigned)(p->opt.timeout_s + 0.999));
		add_plan(p, "replica", s ? s : flavor_status_sql(p->rfl));
		free(s);
	} else
		add_plan(p, "replica", flavor_status_sql(p->rfl));
	if (p->rec.replica_orig_ro == 1 && !flavor_is_rds(p->rfl))
		add_plan(p, "replica", flavor_set_read_only_sql(0));
	if (p->t->cf->on_switch != NULL)
		add_plan(p, "switch", p->t->cf->on_switch);
	add_plan(p, "replica", flavor_stop_sql(p->rfl));
	add_plan(p, "replica", flavor_reset_sql(p->rfl));
	add_plan(p, "replica", flavor_status_sql(p->rfl));
	if (freeze)
		add_plan(p, "master", "(the global read lock is held as the "
		    "fence until replwatchctl unfence)");
	if (p->t->cf->on_promoted != NULL)
		add_plan(p, "on_promoted", p->t->cf->on_promoted);
}

/* ---- the end ------------------------------------------------------------ */

static void
run_failed_hook(struct promotion *p)
{
	const struct rw_target_config *cf = p->t->cf;
	char *env[6];
	int n = 0;

	if (cf->on_promote_failed == NULL || p->rec.outcome == PO_DRY_RUN ||
	    p->rec.outcome == PO_PROMOTED)
		return;
	xasprintf(&env[n++], "REPLWATCH_EVENT=promote_failed");
	xasprintf(&env[n++], "REPLWATCH_TARGET=%s", p->t->name);
	xasprintf(&env[n++], "REPLWATCH_OUTCOME=%s",
	    promo_outcome_names[p->rec.outcome]);
	xasprintf(&env[n++], "REPLWATCH_REASON=%s", p->rec.reason);
	xasprintf(&env[n++], "REPLWATCH_REPLICA=%s:%u", cf->replica.host,
	    cf->replica.port);
	env[n] = NULL;
	hooks_run("on_promote_failed", p->t->name, cf->on_promote_failed,
	    cf->hook_timeout_ms, env, NULL, NULL);
	for (int i = 0; i < n; i++)
		free(env[i]);
}

static void
finish(struct promotion *p)
{
	struct target *t = p->t;
	cJSON *report;

	evtimer_del(p->timer);
	evtimer_del(p->unblock_timer);
	set_phase(p, P_IDLE);
	p->rec.finished_ms = now_unix_ms();
	if (p->rec.outcome == PO_RUNNING)
		p->rec.outcome = PO_ABORTED;
	if (p->rec.outcome == PO_PROMOTED)
		step_end(p, PS_DONE, PSS_DONE, "%s", p->rec.reason);
	else
		journal_save(p);
	/*
	 * The fence outlives the promotion: its link holds the lock (or, if
	 * the link was lost, the fence takes it again).
	 */
	if ((p->rec.outcome == PO_PROMOTED || (p->rec.outcome ==
	    PO_INTERRUPTED && CH(p, CH_SWITCHED))) && p->fence == NULL &&
	    CH(p, CH_MASTER_LOCKED) && has_master(p)) {
		p->fence = fence_hold(t, p->m, p->rec.master_orig_sro >= 0);
		p->m = NULL;
	}
	/* Closing the links releases GET_LOCK and any other read lock. */
	if (p->mk != NULL)
		db_free(p->mk);
	p->mk = NULL;
	p->unblocking = 0;
	server_free(p->rs);
	if (p->m != NULL)
		db_free(p->m);
	p->rs = NULL;
	p->rfl = NULL;
	p->r = p->m = NULL;

	switch (p->rec.outcome) {
	case PO_PROMOTED:
		monitor_set_state(t, HEALTH_PROMOTED, p->rec.reason);
		break;
	case PO_INTERRUPTED:
		monitor_set_state(t, HEALTH_PROMOTION_INTERRUPTED, p->rec.reason);
		break;
	default:
		/* Back to what the samples say (published like any change). */
		if (t->health.state == HEALTH_PROMOTING ||
		    t->health.state == HEALTH_PROMOTION_INTERRUPTED)
			monitor_set_state(t, HEALTH_UNKNOWN, p->rec.reason);
		break;
	}
	log_target(p->rec.outcome == PO_PROMOTED ||
	    p->rec.outcome == PO_DRY_RUN ? LOG_LVL_INFO : LOG_LVL_WARN, t->name,
	    promo_outcome_names[p->rec.outcome], -1, "promotion %s: %s",
	    promo_outcome_names[p->rec.outcome], p->rec.reason);
	run_failed_hook(p);
	monitor_pause(t, 0);

	if (p->client != NULL) {
		struct client *c = p->client;
		int busy = p->rec.steps[PS_PREFLIGHT].st == PSS_FAILED &&
		    strstr(p->rec.reason, "holds the lock") != NULL;
		int refused = p->rec.steps[PS_PREFLIGHT].st == PSS_FAILED &&
		    p->rec.changes == 0;

		p->client = NULL;
		client_stream_end(c);
		report = promorec_report(&p->rec, t->name, 1);
		switch (p->rec.outcome) {
		case PO_PROMOTED:
		case PO_DRY_RUN:
			client_ok(c, p->id, report);
			break;
		default:
			cJSON_AddStringToObject(report, "type", "report");
			client_event(c, p->id, report);
			client_error(c, p->id, p->rec.outcome == PO_INTERRUPTED ?
			    PERR_SERVER_ERROR : busy ? PERR_BUSY : refused ?
			    PERR_PRECONDITION : PERR_ABORTED, "%s", p->rec.reason);
			break;
		}
	}
}

/* ---- the interface ----------------------------------------------------- */

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
	promorec_init(&p->rec);
	p->timer = evtimer_new(t->d->base, timer_cb, p);
	p->unblock_timer = evtimer_new(t->d->base, unblock_timer_cb, p);
	p->journal = journal_path(t->d->conf->state_dir, t->name);
	lock_name(t->name, p->lock_name, sizeof p->lock_name);
	return p;
}

static void
promotion_free(struct promotion *p)
{
	if (p == NULL)
		return;
	fence_release(p->fence);
	server_free(p->rs);
	if (p->m != NULL)
		db_free(p->m);
	event_free(p->timer);
	event_free(p->unblock_timer);
	if (p->mk != NULL)
		db_free(p->mk);
	free(p->uk_ids);
	promorec_clear(&p->rec);
	free(p->kill_ids);
	free(p->journal);
	free(p);
}

int
promote_running(const struct target *t)
{
	return t->promotion != NULL && t->promotion->rec.outcome == PO_RUNNING;
}

void
promote_forget(struct target *t)
{
	if (t->promotion == NULL || promote_running(t))
		return;
	if (journal_remove(t->promotion->journal) == -1)
		log_warn("%s: removing %s", t->name, t->promotion->journal);
	promote_free(t);
	if (primary_watched(t->health.state) ||
	    t->health.state == HEALTH_PROMOTION_INTERRUPTED)
		monitor_set_state(t, HEALTH_UNKNOWN, "replication set up again");
}

void
promote_free(struct target *t)
{
	promotion_free(t->promotion);
	t->promotion = NULL;
}

const struct promo_record *
promote_record(const struct target *t)
{
	return t->promotion != NULL ? &t->promotion->rec : NULL;
}

cJSON *
snapshot_promotion(struct target *t)
{
	struct promotion *p = t->promotion;
	cJSON *o, *f;

	if (p == NULL)
		return cJSON_CreateNull();
	o = promorec_report(&p->rec, t->name, 0);
	if (p->fence != NULL && (f = cJSON_GetObjectItemCaseSensitive(o,
	    "fence")) != NULL)
		cJSON_AddItemToObject(f, "lock", fence_json(p->fence));
	return o;
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
	p = promotion_new(t);
	promorec_clear(&p->rec);
	if (promorec_from_journal(&p->rec, doc, err, sizeof err) == -1) {
		log_warnx("%s: %s: %s", t->name, p->journal, err);
		cJSON_Delete(doc);
		promotion_free(p);
		monitor_set_state(t, HEALTH_PROMOTION_INTERRUPTED,
		    "the promotion journal is not understood; inspect it, then "
		    "remove it");
		return;
	}
	cJSON_Delete(doc);
	p->opt.freeze = p->rec.freeze;
	t->promotion = p;
	switch (p->rec.outcome) {
	case PO_RUNNING:
	case PO_INTERRUPTED:
		p->rec.outcome = PO_INTERRUPTED;
		snprintf(p->rec.reason, sizeof p->rec.reason, "the daemon stopped "
		    "during the %s step; run promote --resume%s",
		    promo_step_names[p->rec.cur], CH(p, CH_SWITCHED) ?
		    " (the switch is done: there is no way back)" :
		    p->rec.changes == 0 ? " (nothing was changed yet: it starts "
		    "again from the preflight checks), or abort" :
		    " (or abort to roll back)");
		monitor_set_state(t, HEALTH_PROMOTION_INTERRUPTED, p->rec.reason);
		if (CH(p, CH_SWITCHED) && CH(p, CH_MASTER_LOCKED) &&
		    has_master(p))
			p->fence = fence_hold(t, NULL, p->rec.master_orig_sro >= 0);
		break;
	case PO_PROMOTED:
		monitor_set_state(t, HEALTH_PROMOTED, p->rec.reason);
		/* The fence is held again until an operator releases it. */
		if (CH(p, CH_MASTER_LOCKED) && !CH(p, CH_FENCE_RELEASED) &&
		    has_master(p)) {
			log_info("%s: fencing the old master again", t->name);
			p->fence = fence_hold(t, NULL, p->rec.master_orig_sro >= 0);
		}
		break;
	default:
		break;	/* aborted: shown, monitoring as usual */
	}
}

void
promote_start(struct target *t, struct client *c, long long id,
    const struct promote_opts *opt)
{
	struct promotion *p, *old = t->promotion;
	struct promote_opts again;

	if (promote_running(t)) {
		client_error(c, id, PERR_BUSY, "a promotion of %s is running (step %s)",
		    t->name, promo_step_names[t->promotion->rec.cur]);
		return;
	}
	/* setup, start, stop or skip_error would move the threads under it. */
	if (t->admin_busy > 0 && !opt->dry_run) {
		client_error(c, id, PERR_BUSY, "%s is being set up, started, "
		    "stopped or skipped by another request: promote once it is "
		    "done", t->name);
		return;
	}
	if (opt->resume && (old == NULL || old->rec.outcome != PO_INTERRUPTED)) {
		client_error(c, id, PERR_NOT_FOUND, "no interrupted promotion "
		    "of %s to resume", t->name);
		return;
	}
	if (opt->resume && old->rec.changes == 0) {
		/*
		 * Stopped before it changed anything (in the preflight, say):
		 * there is nothing to resume, and skipping the checks it never
		 * finished would be wrong.  A new promotion, checks included.
		 */
		again = *opt;
		again.resume = 0;
		again.freeze = old->rec.freeze;
		opt = &again;
		promotion_free(old);
		old = t->promotion = NULL;
	}
	if (opt->resume) {
		p = old;
		p->opt.resume = 1;
		p->opt.timeout_s = opt->timeout_s;
		p->opt.max_lag_s = opt->max_lag_s;
		p->rec.outcome = PO_RUNNING;
		p->rec.finished_ms = 0;
		p->rolling_back = 0;
		p->abort_requested = 0;
		p->rb_tried = 0;
		p->rb_start_tried = p->rb_reopened = p->rb_reconnected = 0;
		if (p->rec.steps[PS_PREFLIGHT].st != PSS_DONE)
			p->rec.steps[PS_PREFLIGHT].st = PSS_SKIPPED;
		if (journal_save(p) == -1) {
			p->rec.outcome = PO_INTERRUPTED;
			client_error(c, id, PERR_SERVER_ERROR, "the promotion journal "
			    "%s cannot be written (%s): not resumed", p->journal,
			    p->journal_err);
			return;
		}
	} else {
		if (old != NULL && old->rec.outcome == PO_INTERRUPTED) {
			client_error(c, id, PERR_PRECONDITION, "an interrupted promotion "
			    "of %s exists: use --resume, or abort it", t->name);
			return;
		}
		/* Its new primary down or read-only, it is promoted all the same. */
		if (primary_watched(t->health.state) && !opt->force) {
			client_error(c, id, PERR_PRECONDITION, "%s was already promoted "
			    "(%s)", t->name, t->health.reason);
			return;
		}
		promotion_free(old);
		p = promotion_new(t);
		p->opt = *opt;
		p->rec.freeze = opt->freeze;
	}
	t->promotion = p;
	p->client = c;
	p->id = id;
	if (p->rec.started_ms == 0)
		p->rec.started_ms = now_unix_ms();
	p->start_us = now_mono_us();
	client_stream_begin(c, id, detach_client, p);
	if (!p->opt.dry_run) {
		monitor_set_state(t, HEALTH_PROMOTING, opt->resume ?
		    "promotion resumed" : "promotion running");
		monitor_pause(t, 1);
	}
	log_target(LOG_LVL_INFO, t->name, "promoting", t->lag_ms, "promotion %s%s%s",
	    opt->resume ? "resumed" : "started", p->opt.dry_run ? " (dry run)" : "",
	    !p->opt.freeze ? " with --no-freeze" : "");
	p->journal_err[0] = '\0';
	if (!p->opt.resume)
		step_begin(p, PS_PREFLIGHT);
	/* Nothing is changed that cannot be journaled. */
	if (!p->opt.resume && !p->opt.dry_run && p->journal_err[0] != '\0') {
		refuse(p, "the promotion journal %s cannot be written: %s",
		    p->journal, p->journal_err);
		return;
	}
	open_replica(p, P_R_OPEN);
}

void
promote_abort(struct target *t, struct client *c, long long id)
{
	struct promotion *p = t->promotion;
	cJSON *o;

	if (p == NULL || (p->rec.outcome != PO_RUNNING &&
	    p->rec.outcome != PO_INTERRUPTED)) {
		client_error(c, id, PERR_NOT_FOUND, "no promotion of %s to abort",
		    t->name);
		return;
	}
	if (p->rec.outcome == PO_RUNNING && p->rolling_back) {
		client_error(c, id, PERR_BUSY, "already rolling back");
		return;
	}
	if (CH(p, CH_SWITCHED) || (p->rec.outcome == PO_RUNNING &&
	    CH(p, CH_SWITCH_SENT))) {
		client_error(c, id, PERR_PRECONDITION, "the switch has %s: past "
		    "the point of no return; use promote --resume",
		    CH(p, CH_SWITCHED) ? "happened" : "started");
		return;
	}
	if (p->rec.outcome == PO_RUNNING) {
		/* The next callback notices; waits are cut short now. */
		p->abort_requested = 1;
		if (evtimer_pending(p->timer, NULL)) {
			evtimer_del(p->timer);
			fail(p, "aborted by request");
		} else if (p->phase == P_R_POSWAIT) {
			db_close(p->r);
			fail(p, "aborted by request");
		}
	} else {
		/* Interrupted: roll back from the journal on fresh links. */
		p->rec.outcome = PO_RUNNING;
		p->client = NULL;
		p->start_us = now_mono_us();
		monitor_pause(t, 1);
		p->rolling_back = 1;
		p->rb_tried = 0;
		p->rb_start_tried = p->rb_reopened = p->rb_reconnected = 0;
		snprintf(p->rec.reason, sizeof p->rec.reason, "interrupted "
		    "promotion rolled back by request");
		p->rec.changes &= ~CH_MASTER_LOCKED;	/* died with the daemon */
		rollback_next(p);
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "target", t->name);
	cJSON_AddBoolToObject(o, "aborted", 1);
	client_ok(c, id, o);
}

void
promote_unfence(struct target *t, struct client *c, long long id)
{
	struct promotion *p = t->promotion;
	cJSON *o;

	if (p == NULL || p->rec.outcome != PO_PROMOTED ||
	    !CH(p, CH_MASTER_LOCKED) || CH(p, CH_FENCE_RELEASED)) {
		client_error(c, id, PERR_NOT_FOUND, "no fence of %s's old master "
		    "is held", t->name);
		return;
	}
	/* Journaled first: a restarted daemon must not take it again. */
	p->rec.changes |= CH_FENCE_RELEASED;
	if (journal_save(p) == -1) {
		p->rec.changes &= ~CH_FENCE_RELEASED;
		client_error(c, id, PERR_SERVER_ERROR, "the journal cannot be "
		    "written (%s): the fence stays", p->journal_err);
		return;
	}
	fence_release(p->fence);
	p->fence = NULL;
	log_target(LOG_LVL_INFO, t->name, "promoted", -1, "the old master's "
	    "fence is released by request; its read_only stays as it is");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "target", t->name);
	cJSON_AddBoolToObject(o, "released", 1);
	cJSON_AddStringToObject(o, "note", "the global read lock is released; "
	    "read_only stays ON on the old master: SET GLOBAL read_only = OFF "
	    "there makes it writable");
	client_ok(c, id, o);
}
