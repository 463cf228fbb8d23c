/*
 * The per-target poll.  Each step is one asynchronous query; the next step
 * starts from the previous one's callback, so a target never has more than
 * one operation in flight and a slow server only delays itself.  Once the
 * target is promoted the same poll watches it as the new primary instead
 * (lib/primary.h decides its state).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "monitor.h"
#include "server.h"
#include "timefmt.h"
#include "xmalloc.h"

enum phase { PH_IDLE, PH_STATUS, PH_EXTRA, PH_P_OPEN, PH_P_VARS, PH_P_BINLOG };
/*
 * The binlog coordinates and server_id are read before the heartbeat is
 * written: pt-heartbeat's row carries them, and read_only is fresh when
 * deciding whether to write at all.
 */
enum mphase { MPH_IDLE, MPH_CONNECT, MPH_PROBE, MPH_HB_SCHEMA, MPH_HB_CREATE,
	MPH_STATUS, MPH_VARS, MPH_HB_WRITE };

#define BACKOFF_CAP_MS	5000
#define HISTORY_SPAN_MS	(15 * 60 * 1000)
#define EVENTS_PER_TARGET 256
#define READ_ONLY_EVERY	10	/* polls between read_only refreshes */

static void	tick_cb(evutil_socket_t, short, void *);
static void	primary_tick(struct target *);
static void	master_tick_cb(evutil_socket_t, short, void *);

static void
open_handles(struct target *t)
{
	t->srv = server_new(t->d, &t->cf->replica, t->cf, t->name);
	t->db = server_db(t->srv);
	if (t->cf->master.host != NULL)
		t->master.db = endpoint_db(t->d, &t->cf->master, t->cf);
}

static void
close_handles(struct target *t)
{
	/* A pending tick must not find the handles gone. */
	evtimer_del(t->timer);
	evtimer_del(t->master.timer);
	server_free(t->srv);
	t->srv = NULL;
	t->db = NULL;
	if (t->master.db != NULL)
		db_free(t->master.db);
	t->master.db = NULL;
	t->phase = PH_IDLE;
	t->master.busy = 0;
	t->master.connected = 0;
	t->flavor_known = 0;
	t->master.flavor_known = 0;
	t->master.heartbeat_ready = 0;
}

struct target *
monitor_new(struct daemon *d, const struct rw_target_config *cf)
{
	struct target *t = xcalloc(1, sizeof *t);

	t->d = d;
	t->cf = cf;
	snprintf(t->name, sizeof t->name, "%s", cf->name);
	t->ring = lagring_new(cf->interval_ms, HISTORY_SPAN_MS);
	t->events = events_new(EVENTS_PER_TARGET);
	health_init(&t->health);
	primary_init(&t->primary);
	t->since_ms = now_unix_ms();
	t->sbm_ms = t->hb_ms = t->lag_ms = -1;
	t->read_only = -1;
	t->master.read_only = -1;
	t->timer = evtimer_new(d->base, tick_cb, t);
	t->master.timer = evtimer_new(d->base, master_tick_cb, t);
	open_handles(t);
	return t;
}

void
monitor_free(struct target *t)
{
	if (t == NULL)
		return;
	close_handles(t);
	event_free(t->timer);
	event_free(t->master.timer);
	replstatus_clear(&t->status);
	lagring_free(t->ring);
	events_free(t->events);
	free(t);
}

static void
schedule(struct event *ev, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

void
monitor_start(struct target *t)
{
	schedule(t->timer, 0);
	if (t->master.db != NULL)
		schedule(t->master.timer, 0);
}

void
monitor_reconfigure(struct target *t, const struct rw_target_config *cf)
{
	close_handles(t);
	t->cf = cf;
	/* The ring keeps its samples unless the interval changed its size. */
	if (lagring_capacity(t->ring) < HISTORY_SPAN_MS / cf->interval_ms + 2) {
		lagring_free(t->ring);
		t->ring = lagring_new(cf->interval_ms, HISTORY_SPAN_MS);
	}
	open_handles(t);
	if (!t->paused)
		monitor_start(t);
}

void
monitor_pause(struct target *t, int paused)
{
	t->paused = paused;
	if (paused) {
		/* Abandon any poll in flight; the promotion has its own links. */
		evtimer_del(t->timer);
		evtimer_del(t->master.timer);
		if (t->phase != PH_IDLE)
			server_cancel(t->srv);
		t->phase = PH_IDLE;
		if (t->master.busy && t->master.db != NULL)
			db_close(t->master.db);
		t->master.busy = 0;
		t->master.connected = 0;
	} else
		monitor_start(t);
}

void
monitor_poll_now(struct target *t)
{
	if (!t->paused && t->phase == PH_IDLE)
		schedule(t->timer, 0);
}

/* Record a state change: events ring, log, and fan-out through main.c. */
static void
changed(struct target *t, enum rw_health from)
{
	const struct rw_event *ev;
	int64_t now = now_unix_ms();

	t->since_ms = now;
	ev = events_add(t->events, now, t->name, health_name(from),
	    health_name(t->health.state), t->health.reason);
	log_target(health_severity(t->health.state) == SEVERITY_OK ?
	    LOG_LVL_INFO : LOG_LVL_WARN,
	    t->name, health_name(t->health.state), t->lag_ms, "%s -> %s: %s",
	    health_name(from), health_name(t->health.state), t->health.reason);
	daemon_on_change(t, ev);
}

/*
 * A promoted target is no replica any more: its last replication sample
 * (from before the promotion) would only mislead.
 */
static void
forget_replica(struct target *t)
{
	replstatus_clear(&t->status);
	t->have_status = 0;
	t->sbm_ms = t->hb_ms = t->lag_ms = -1;
	t->lag_source = LAG_NONE;
	t->pos_bytes[0] = '\0';
	applyrate_reset(&t->apply);
}

void
monitor_set_state(struct target *t, enum rw_health state, const char *reason)
{
	enum rw_health from = t->health.state;

	if (state == HEALTH_UNKNOWN)
		health_init(&t->health);	/* the next sample decides */
	snprintf(t->health.reason, sizeof t->health.reason, "%s", reason);
	if (from == state)
		return;
	/* Whatever the new primary showed before belongs to another episode. */
	primary_init(&t->primary);
	if (primary_watched(state) && !primary_watched(from))
		forget_replica(t);
	t->health.state = state;
	t->health.pending = state;
	t->health.pending_count = 0;
	changed(t, from);
}

static void
record(struct target *t, const struct rw_sample *s)
{
	struct rw_thresholds thr = {
		.warn_ms = t->cf->lag_warn_ms,
		.crit_ms = t->cf->lag_crit_ms,
		.hysteresis = t->cf->hysteresis,
	};
	enum rw_health from = t->health.state;

	lagring_add(t->ring, now_mono_us() / 1000, t->lag_ms);
	t->last_poll_unix_ms = now_unix_ms();
	t->last_poll_ms = (double)(now_mono_us() - t->poll_start_us) / 1000.0;
	if (health_update(&t->health, s, &thr))
		changed(t, from);
	daemon_on_sample(t);
}

static unsigned
next_delay(const struct target *t)
{
	unsigned iv = t->cf->interval_ms, cap, d;
	uint64_t spent;

	if (t->failures == 0) {
		spent = (now_mono_us() - t->poll_start_us) / 1000;
		return spent >= iv ? 0 : iv - (unsigned)spent;
	}
	/* Capped exponential back-off, never slower than the interval. */
	cap = iv > BACKOFF_CAP_MS ? iv : BACKOFF_CAP_MS;
	d = iv;
	for (unsigned i = 1; i < t->failures && d < cap; i++)
		d *= 2;
	return d < cap ? d : cap;
}

static void
poll_done(struct target *t)
{
	t->phase = PH_IDLE;
	if (!t->paused)
		schedule(t->timer, next_delay(t));
}

static void
poll_failed_text(struct target *t, int kind, const char *what, const char *why)
{
	struct rw_sample s = { .kind = kind, .lag_ms = -1 };
	char err[600];

	snprintf(err, sizeof err, "%s%s", what, why);
	snprintf(t->server_error, sizeof t->server_error, "%s", err);
	s.error = err;
	t->failures++;
	t->polls_failed++;
	t->sbm_ms = t->hb_ms = t->lag_ms = -1;
	t->lag_source = LAG_NONE;
	t->pos_bytes[0] = '\0';
	if (kind != SAMPLE_QUERY_ERROR) {
		/* A new connection may be a new server. */
		t->flavor_known = 0;
		server_forget_kind(t->srv);
	}
	record(t, &s);
	poll_done(t);
}

static void
poll_failed(struct target *t, int kind, const char *what)
{
	poll_failed_text(t, kind, what, db_error(t->db));
}

static int
failure_kind(enum db_status st)
{
	switch (st) {
	case DB_ERR_TIMEOUT:
		return SAMPLE_UNRESPONSIVE;
	case DB_ERR_SERVER:
		return SAMPLE_QUERY_ERROR;
	default:
		return SAMPLE_UNREACHABLE;
	}
}

/* Position lag in bytes, when both sides speak of the same binlog file. */
static void
position_lag(struct target *t)
{
	const struct rw_status *st = &t->status;
	unsigned long long m, e;
	char *end;

	t->pos_bytes[0] = '\0';
	if (!t->master.connected || t->master.log_file[0] == '\0' ||
	    st->relay_master_log_file == NULL || st->exec_master_log_pos == NULL)
		return;
	if (strcmp(t->master.log_file, st->relay_master_log_file) != 0)
		return;
	m = strtoull(t->master.log_pos, &end, 10);
	if (*end != '\0')
		return;
	e = strtoull(st->exec_master_log_pos, &end, 10);
	if (*end != '\0')
		return;
	snprintf(t->pos_bytes, sizeof t->pos_bytes, "%llu", m > e ? m - e : 0);
}

static void
finish_poll(struct target *t)
{
	struct rw_sample s = { .kind = SAMPLE_STATUS, .status = &t->status };

	t->sbm_ms = t->status.seconds_behind >= 0 ?
	    t->status.seconds_behind * 1000 : -1;
	if (!t->status.configured)
		t->hb_ms = -1;
	if (t->hb_ms >= 0) {
		t->lag_ms = t->hb_ms;
		t->lag_source = LAG_HEARTBEAT;
	} else if (t->sbm_ms >= 0) {
		t->lag_ms = t->sbm_ms;
		t->lag_source = LAG_SBM;
	} else {
		t->lag_ms = -1;
		t->lag_source = LAG_NONE;
	}
	position_lag(t);
	applyrate_add(&t->apply, now_mono_us() / 1000,
	    t->status.relay_master_log_file, t->status.exec_master_log_pos);
	s.lag_ms = t->lag_ms;
	s.lag_source = t->lag_source == LAG_NONE ? NULL : lag_source_name(t->lag_source);
	t->failures = 0;
	t->polls_ok++;
	t->have_status = 1;
	t->server_error[0] = '\0';
	record(t, &s);
	poll_done(t);
}

/*
 * Heartbeat lag from the rows we write.  They carry our own clock (ts_us,
 * or pt-heartbeat's ts with six decimals, which reads back to the same
 * microseconds), so no clock skew between servers enters the figure.
 * While the master takes heartbeats, lag is how far the newest applied
 * heartbeat trails the newest written one; once writes stop (master down or
 * frozen), the applied heartbeat's age, which grows, as pt-heartbeat
 * reports it.
 */
static long long
heartbeat_lag(struct target *t, int64_t a)
{
	int64_t now = now_unix_ms() * 1000, ref;

	/*
	 * Until the first heartbeat of this run has been applied, the row is
	 * a previous run's (or another writer's): its age says nothing.
	 */
	if (a < 0 || t->master.hb_first_us == 0 || a < t->master.hb_first_us)
		return -1;
	ref = now;
	if (t->master.last_ok_ms != 0 &&
	    now / 1000 - t->master.last_ok_ms <= 2 * (int64_t)t->cf->interval_ms)
		ref = t->master.hb_written_us;
	return ref > a ? (ref - a) / 1000 : 0;
}

/*
 * Lag from a pt-heartbeat row someone else writes: our clock minus its ts.
 * A ts ahead of us (clock skew) is 0.
 */
static long long
heartbeat_read_lag(int64_t written)
{
	int64_t now = now_unix_ms() * 1000;

	if (written < 0)
		return -1;
	return now > written ? (now - written) / 1000 : 0;
}

/*
 * The heartbeat time in the row, us since the epoch, -1: none.  A ts is
 * read as UTC or local time (heartbeat_time_zone).
 */
static int64_t
heartbeat_row_us(struct target *t, const struct db_set *s)
{
	const char *v;
	char *end;
	int64_t us;

	if (t->cf->heartbeat == HEARTBEAT_WRITE &&
	    t->cf->heartbeat_layout == HB_LAYOUT_REPLWATCH) {
		if ((v = db_set_value(s, 0, "hb_us")) == NULL)
			return -1;
		us = strtoll(v, &end, 10);
		return *end == '\0' && us >= 0 ? us : -1;
	}
	if (timefmt_parse_datetime(db_set_value(s, 0, "hb_ts"),
	    !t->cf->heartbeat_local_time, &us) == -1)
		return -1;
	return us;
}

/*
 * The heartbeat table exists but lacks the layout's columns (1054): most
 * likely one an older replwatch made in its own layout.  Said once, with
 * the way out; there is no heartbeat until the columns are there.
 */
static void
heartbeat_layout_bad(struct target *t, const char *why)
{
	const char *tbl = t->cf->heartbeat_table;
	const char *state = health_name(t->health.state);

	if (t->hb_layout_bad++)
		return;
	if (t->cf->heartbeat == HEARTBEAT_READ)
		log_target(LOG_LVL_WARN, t->name, state, -1, "heartbeat table "
		    "%s is not in pt-heartbeat's layout (%s): heartbeat = read "
		    "needs its ts and server_id columns", tbl, why);
	else if (t->cf->heartbeat_layout == HB_LAYOUT_PT_HEARTBEAT)
		log_target(LOG_LVL_WARN, t->name, state, -1, "heartbeat table "
		    "%s is not in pt-heartbeat's layout (%s), perhaps made by "
		    "an older replwatch: drop it on the master (DROP TABLE %s, "
		    "which replicates) to have it made again, or set "
		    "heartbeat_layout = replwatch; no heartbeat until then",
		    tbl, why, tbl);
	else
		log_target(LOG_LVL_WARN, t->name, state, -1, "heartbeat table "
		    "%s is not in replwatch's layout (%s): set heartbeat_layout "
		    "= pt-heartbeat, or heartbeat_table to another table; no "
		    "heartbeat until then", tbl, why);
}

static void
extra_cb(struct db *db, enum db_status st, const struct db_result *res,
    void *arg)
{
	struct target *t = arg;
	const struct db_set *s;
	const char *v;
	int64_t us;

	t->hb_ms = -1;
	if (st == DB_ERR_TIMEOUT || st == DB_ERR_LOST) {
		poll_failed(t, failure_kind(st), "");
		return;
	}
	if (st == DB_OK && res->nsets > 0 && res->sets[0].nrows > 0) {
		s = &res->sets[0];
		v = db_set_value(s, 0, "ro");
		t->read_only = v == NULL ? -1 : atoi(v) != 0;
		/* The heartbeat column came back: the replica has the table. */
		if (db_set_column(s, "hb_us") >= 0 ||
		    db_set_column(s, "hb_ts") >= 0) {
			t->hb_replica_table = 1;
			t->hb_layout_bad = 0;
		}
		us = t->cf->heartbeat != HEARTBEAT_OFF ?
		    heartbeat_row_us(t, s) : -1;
		if (t->cf->heartbeat == HEARTBEAT_WRITE)
			t->hb_ms = heartbeat_lag(t, us);
		else if (t->cf->heartbeat == HEARTBEAT_READ)
			t->hb_ms = heartbeat_read_lag(us);
	} else if (st == DB_ERR_SERVER) {
		log_debug("%s: read_only/heartbeat query: %s", t->name,
		    db_error(db));
		/*
		 * No table (yet), or not one we may or can read: read
		 * read_only alone, try again in 1 s.
		 */
		if (db_errno(db) == 1146 || db_errno(db) == 1142 ||
		    db_errno(db) == 1054)
			t->hb_retry_us = now_mono_us() + 1000000ULL;
		if (db_errno(db) == 1054) {
			heartbeat_layout_bad(t, db_error(db));
			t->hb_replica_table = 0;
		}
		if (db_errno(db) == 1146 && t->cf->heartbeat == HEARTBEAT_WRITE) {
			/*
			 * A heartbeat row would stop the replica's SQL thread
			 * (1146): no more writes, and the master's CREATE
			 * TABLE IF NOT EXISTS again, which replicates.
			 */
			if (t->hb_replica_table)
				log_target(LOG_LVL_WARN, t->name,
				    health_name(t->health.state), -1, "the "
				    "replica has no %s: heartbeat writes paused "
				    "until replication creates it",
				    t->cf->heartbeat_table);
			t->hb_replica_table = 0;
			t->master.heartbeat_ready = 0;
		}
	}
	finish_poll(t);
}

static void
start_extra(struct target *t)
{
	char *sql;

	switch (now_mono_us() < t->hb_retry_us ? HEARTBEAT_OFF : t->cf->heartbeat) {
	case HEARTBEAT_WRITE:
		/* Our row: the master's server_id once known, else the newest. */
		if (t->cf->heartbeat_layout == HB_LAYOUT_PT_HEARTBEAT)
			sql = flavor_heartbeat_read_sql(t->cf->heartbeat_table,
			    t->master.server_id);
		else
			sql = flavor_heartbeat_check_sql(&(struct sql_quoter){
			    db_quote, t->db }, t->cf->heartbeat_table, t->name);
		break;
	case HEARTBEAT_READ:
		/*
		 * The age is taken on our clock (heartbeat_read_lag()): the
		 * replica's NOW() is in its own time zone (UTC on RDS), which
		 * need not be the writer's.
		 */
		sql = flavor_heartbeat_read_sql(t->cf->heartbeat_table,
		    t->cf->heartbeat_server_id);
		break;
	default:
		sql = xstrdup(flavor_read_only_sql());
		break;
	}
	t->phase = PH_EXTRA;
	if (db_query(t->db, sql, 0, extra_cb, t) == -1)
		poll_failed(t, SAMPLE_UNREACHABLE, "");
	free(sql);
}

/* The server object read the status (connecting and detecting first). */
static void
status_done(struct server *srv, int ok, void *arg)
{
	struct target *t = arg;
	int first = !t->flavor_known;

	if (!ok) {
		/* A server that accepts but never answers is unresponsive. */
		poll_failed_text(t, server_failure(srv) == SERR_TIMEOUT ?
		    SAMPLE_UNRESPONSIVE : server_failure(srv) == SERR_SERVER ?
		    SAMPLE_QUERY_ERROR : SAMPLE_UNREACHABLE,
		    server_failure(srv) == SERR_SERVER ? "status query failed: " :
		    "", server_error(srv));
		return;
	}
	t->flavor = *server_flavor(srv);
	t->flavor_known = 1;
	if (first)
		log_target(LOG_LVL_INFO, t->name, health_name(t->health.state),
		    -1, "connected to %s:%u: %s %s%s, status by %s",
		    t->cf->replica.host, t->cf->replica.port,
		    flavor_name(&t->flavor), t->flavor.version_str,
		    db_encrypted(t->db) ? " (TLS)" : "",
		    flavor_status_sql(&t->flavor));
	server_take_status(srv, &t->status);
	/*
	 * Without a heartbeat the second query only refreshes read_only,
	 * which hardly ever changes: every READ_ONLY_EVERY polls is enough,
	 * and the usual poll is then a single round trip.
	 */
	if (t->cf->heartbeat == HEARTBEAT_OFF && t->read_only >= 0 &&
	    t->polls_ok % READ_ONLY_EVERY != 0) {
		finish_poll(t);
		return;
	}
	start_extra(t);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;

	if (t->paused || t->phase != PH_IDLE)
		return;
	t->poll_start_us = now_mono_us();
	if (primary_watched(t->health.state)) {
		primary_tick(t);
		return;
	}
	t->phase = PH_STATUS;
	if (server_read_status(t->srv, status_done, t) == -1)
		poll_failed(t, SAMPLE_UNREACHABLE, "");
}

/* ---- the new primary ---------------------------------------------------- */

/*
 * After a promotion the poll connects (with the replica's back-off), reads
 * what keeps the application from writing, then the binlog position, and
 * lib/primary.c judges.  It never writes: the freeze and the fence are the
 * promotion's business, on links of their own.
 */

static void	primary_cb(struct db *, enum db_status, const struct db_result *,
		    void *);

static void
primary_record(struct target *t)
{
	struct rw_primary_sample *s = &t->psample;
	enum rw_health from = t->health.state, to;
	char reason[sizeof t->health.reason];

	/* Set elsewhere meanwhile (setup, a new promotion): not ours to judge. */
	if (!primary_watched(from)) {
		poll_done(t);
		return;
	}
	t->last_poll_unix_ms = now_unix_ms();
	t->last_poll_ms = (double)(now_mono_us() - t->poll_start_us) / 1000.0;
	if (s->kind == PSAMPLE_ANSWERED) {
		t->failures = 0;
		t->polls_ok++;
		t->server_error[0] = '\0';
	} else {
		t->failures++;
		t->polls_failed++;
	}
	to = primary_update(&t->primary, s, from, t->cf->hysteresis, reason,
	    sizeof reason);
	t->primary.checked_ms = t->last_poll_unix_ms;
	memcpy(t->health.reason, reason, sizeof t->health.reason);
	if (to != from) {
		t->health.state = to;
		changed(t, from);
	}
	daemon_on_sample(t);
	poll_done(t);
}

/* No answer: kind, and the words for why_not and the reason. */
static void
primary_failed(struct target *t, int kind, const char *what, const char *why)
{
	snprintf(t->server_error, sizeof t->server_error, "%s%s", what, why);
	t->psample.kind = kind;
	t->psample.error = t->server_error;
	if (kind == PSAMPLE_UNREACHABLE) {
		/* A new connection may be a new server. */
		t->flavor_known = 0;
		server_forget_kind(t->srv);
	}
	primary_record(t);
}

static void
primary_db_failed(struct target *t, enum db_status st, const char *query)
{
	char what[64];

	if (st == DB_ERR_SERVER) {
		snprintf(what, sizeof what, "%s query failed: ", query);
		primary_failed(t, PSAMPLE_QUERY_ERROR, what, db_error(t->db));
	} else
		primary_failed(t, PSAMPLE_UNREACHABLE, st == DB_ERR_TIMEOUT ?
		    "no answer within deadline: " : "", db_error(t->db));
}

static void
primary_query(struct target *t, int phase, const char *sql)
{
	t->phase = phase;
	if (db_query(t->db, sql, 0, primary_cb, t) == -1)
		primary_failed(t, PSAMPLE_UNREACHABLE, "", "cannot send a query");
}

static void
primary_vars(struct target *t, const struct db_result *res)
{
	struct rw_primary_sample *s = &t->psample;
	const struct db_set *set = res->nsets > 0 ? &res->sets[0] : NULL;

	if (set == NULL || set->nrows == 0) {
		primary_failed(t, PSAMPLE_QUERY_ERROR, "",
		    "read_only query returned no row");
		return;
	}
	s->read_only = primary_parse_switch(db_set_value(set, 0, "ro"));
	s->innodb_read_only = primary_parse_switch(db_set_value(set, 0, "iro"));
	s->super_read_only = primary_parse_switch(db_set_value(set, 0, "sro"));
	s->rds = flavor_is_rds(&t->flavor);
	t->read_only = s->read_only;
	primary_query(t, PH_P_BINLOG, flavor_master_status_sql(&t->flavor));
}

static void
primary_binlog(struct target *t, const struct db_result *res)
{
	const struct db_set *set = res->nsets > 0 ? &res->sets[0] : NULL;
	const char *file, *pos;

	/* No row: the binary log is off; the poll says so by its absence. */
	if (set == NULL || set->nrows == 0)
		return;
	file = db_set_value(set, 0, "File");
	pos = db_set_value(set, 0, "Position");
	if (file == NULL || pos == NULL)
		return;
	snprintf(t->psample_file, sizeof t->psample_file, "%s", file);
	snprintf(t->psample_pos, sizeof t->psample_pos, "%s", pos);
	t->psample.binlog_file = t->psample_file;
	t->psample.binlog_pos = t->psample_pos;
}

static void
primary_cb(struct db *db, enum db_status st, const struct db_result *res,
    void *arg)
{
	struct target *t = arg;

	if (t->phase == PH_P_VARS) {
		if (st != DB_OK)
			primary_db_failed(t, st, "read_only");
		else
			primary_vars(t, res);
		return;
	}
	/*
	 * The position is informational: a refusal (no BINLOG MONITOR /
	 * REPLICATION CLIENT) leaves it unknown, a lost link does not.
	 */
	if (st == DB_ERR_SERVER)
		log_debug("%s: %s: %s", t->name,
		    flavor_master_status_sql(&t->flavor), db_error(db));
	else if (st != DB_OK) {
		primary_db_failed(t, st, "binlog position");
		return;
	} else
		primary_binlog(t, res);
	t->psample.kind = PSAMPLE_ANSWERED;
	primary_record(t);
}

static void
primary_open_done(struct server *srv, int ok, void *arg)
{
	struct target *t = arg;

	if (!ok) {
		switch (server_failure(srv)) {
		case SERR_SERVER:
			primary_failed(t, PSAMPLE_QUERY_ERROR, "", server_error(srv));
			break;
		case SERR_TIMEOUT:
			primary_failed(t, PSAMPLE_UNREACHABLE,
			    "no answer within deadline: ", server_error(srv));
			break;
		default:
			primary_failed(t, PSAMPLE_UNREACHABLE, "cannot connect: ",
			    server_error(srv));
			break;
		}
		return;
	}
	t->flavor = *server_flavor(srv);
	t->flavor_known = 1;
	primary_query(t, PH_P_VARS, flavor_primary_vars_sql(&t->flavor));
}

static void
primary_tick(struct target *t)
{
	struct rw_primary_sample *s = &t->psample;

	memset(s, 0, sizeof *s);
	s->read_only = s->innodb_read_only = s->super_read_only = -1;
	t->phase = PH_P_OPEN;
	if (server_open(t->srv, primary_open_done, t) == -1)
		primary_failed(t, PSAMPLE_UNREACHABLE, "", "cannot start a "
		    "connection");
}

/* ---- the old master ---------------------------------------------------- */

static void	master_step(struct target *);

static void
master_done(struct target *t, enum db_status st)
{
	struct master_state *m = &t->master;
	unsigned iv = t->cf->interval_ms;

	m->busy = 0;
	if (st == DB_OK) {
		m->error[0] = '\0';
		m->failures = 0;
	} else {
		snprintf(m->error, sizeof m->error, "%s", db_error(m->db));
		m->failures++;
		if (st != DB_ERR_SERVER) {
			m->connected = 0;
			m->flavor_known = 0;
			m->heartbeat_ready = 0;
			db_close(m->db);
		}
		if (m->failures == 1)
			log_target(LOG_LVL_WARN, t->name, health_name(t->health.state),
			    -1, "old master %s:%u: %s", t->cf->master.host,
			    t->cf->master.port, m->error);
	}
	if (!t->paused)
		schedule(m->timer, m->failures > 1 ? (iv > BACKOFF_CAP_MS ? iv :
		    BACKOFF_CAP_MS) : iv);
}

/*
 * A heartbeat write failed.  Missing columns (1054) are the layout's
 * trouble, said once as an event; anything else (a grant dropped, a lock
 * wait) is said once per run of failures: until a write works again, the
 * heartbeat lag is the applied row's age, which grows.
 */
static void
heartbeat_write_failed(struct target *t, struct db *db)
{
	struct master_state *m = &t->master;

	if (db_errno(db) == 1054)
		heartbeat_layout_bad(t, db_error(db));
	else if (m->hb_failures++ == 0)
		log_target(LOG_LVL_WARN, t->name, health_name(t->health.state),
		    -1, "heartbeat write on the old master failed: %s",
		    db_error(db));
	else
		log_debug("%s: heartbeat write: %s", t->name, db_error(db));
}

static void
master_cb(struct db *db, enum db_status st, const struct db_result *res,
    void *arg)
{
	struct target *t = arg;
	struct master_state *m = &t->master;
	const struct db_set *s = res != NULL && res->nsets > 0 ? &res->sets[0] : NULL;
	const char *v;

	if (st != DB_OK && !(st == DB_ERR_SERVER && (m->busy == MPH_HB_SCHEMA ||
	    m->busy == MPH_HB_CREATE || m->busy == MPH_HB_WRITE ||
	    m->busy == MPH_STATUS))) {
		master_done(t, st);
		return;
	}
	switch (m->busy) {
	case MPH_CONNECT:
		m->connected = 1;
		m->busy = m->flavor_known ? MPH_HB_SCHEMA : MPH_PROBE;
		break;
	case MPH_PROBE:
		if (server_detect(&m->flavor, FLAVOR_AUTO, res) == -1) {
			master_done(t, DB_ERR_SERVER);
			return;
		}
		m->flavor_known = 1;
		m->busy = MPH_HB_SCHEMA;
		break;
	case MPH_HB_SCHEMA:
		/* A failure shows in the next step's error. */
		m->busy = MPH_HB_CREATE;
		break;
	case MPH_HB_CREATE:
		if (st != DB_OK)
			log_warnx("%s: cannot create heartbeat table %s on the old "
			    "master: %s", t->name, t->cf->heartbeat_table, db_error(db));
		else
			m->heartbeat_ready = 1;
		m->busy = MPH_STATUS;
		break;
	case MPH_STATUS:
		/*
		 * Refused (no REPLICATION CLIENT or BINLOG MONITOR): the
		 * heartbeat goes on without the coordinates pt-heartbeat's
		 * row carries, and the position lag is unknown.  Said once.
		 */
		m->log_file[0] = m->log_pos[0] = '\0';
		if (st != DB_OK && m->status_refused++ == 0)
			log_target(LOG_LVL_WARN, t->name,
			    health_name(t->health.state), -1, "old master "
			    "%s:%u: binlog status: %s", t->cf->master.host,
			    t->cf->master.port, db_error(db));
		else if (st == DB_OK)
			m->status_refused = 0;
		if (st == DB_OK && s != NULL && s->nrows > 0) {
			if ((v = db_set_value(s, 0, "File")) != NULL)
				snprintf(m->log_file, sizeof m->log_file, "%s", v);
			if ((v = db_set_value(s, 0, "Position")) != NULL)
				snprintf(m->log_pos, sizeof m->log_pos, "%s", v);
		}
		m->busy = MPH_VARS;
		break;
	case MPH_VARS:
		if (s != NULL && s->nrows > 0) {
			v = db_set_value(s, 0, "ro");
			m->read_only = v == NULL ? -1 : atoi(v) != 0;
			v = db_set_value(s, 0, "gtid");
			snprintf(m->gtid, sizeof m->gtid, "%s", v ? v : "");
			v = db_set_value(s, 0, "server_id");
			m->server_id = v == NULL ? 0 : (unsigned)strtoul(v, NULL, 10);
		}
		m->busy = MPH_HB_WRITE;
		break;
	case MPH_HB_WRITE:
		/*
		 * Only a written heartbeat is a reference for the lag: after a
		 * failed or skipped one, heartbeat_lag() ages the applied row.
		 */
		if (st == DB_OK) {
			m->hb_written_us = m->hb_pending_us;
			if (m->hb_first_us == 0)
				m->hb_first_us = m->hb_pending_us;
			m->last_ok_ms = now_unix_ms();
			m->hb_failures = 0;
		} else
			heartbeat_write_failed(t, db);
		master_done(t, DB_OK);
		return;
	}
	master_step(t);
}

/* The heartbeat row for the master, in the layout configured; malloc'd. */
static char *
heartbeat_write_sql(struct target *t)
{
	struct master_state *m = &t->master;
	struct sql_quoter qt = { db_quote, m->db };
	char ts[40];

	if (t->cf->heartbeat_layout == HB_LAYOUT_REPLWATCH)
		return flavor_heartbeat_write_sql(&qt, t->cf->heartbeat_table,
		    t->name, m->hb_pending_us);
	/* pt-heartbeat --utc writes UTC, without --utc its local time. */
	timefmt_heartbeat(m->hb_pending_us, !t->cf->heartbeat_local_time, ts,
	    sizeof ts);
	return flavor_ptheartbeat_write_sql(&qt, t->cf->heartbeat_table,
	    &(struct rw_hb_row){ .ts = ts, .server_id = m->server_id,
	    .file = m->log_file, .position = m->log_pos });
}

static void
master_step(struct target *t)
{
	struct master_state *m = &t->master;
	char *sql = NULL;
	int r;

	switch (m->busy) {
	case MPH_PROBE:
		r = db_query(m->db, flavor_probe_sql, 0, master_cb, t);
		break;
	case MPH_HB_SCHEMA:
	case MPH_HB_CREATE:
		/*
		 * Created only while the replica replicates from here, so
		 * that the CREATE reaches it before any row does: a table
		 * made on the master alone (before setup, or outside the
		 * dump) would stop the replica's SQL thread at the first row.
		 */
		if (t->cf->heartbeat != HEARTBEAT_WRITE || m->heartbeat_ready ||
		    !t->have_status || !t->status.configured) {
			m->busy = MPH_STATUS;
			master_step(t);
			return;
		}
		sql = m->busy == MPH_HB_SCHEMA ?
		    flavor_heartbeat_schema_sql(t->cf->heartbeat_table) :
		    flavor_heartbeat_table_sql(t->cf->heartbeat_table,
		    t->cf->heartbeat_layout);
		r = db_query(m->db, sql, 0, master_cb, t);
		break;
	case MPH_STATUS:
		r = db_query(m->db, flavor_master_status_sql(&m->flavor), 0,
		    master_cb, t);
		break;
	case MPH_VARS:
		r = db_query(m->db, flavor_master_vars_sql(&m->flavor), 0,
		    master_cb, t);
		break;
	case MPH_HB_WRITE:
		/*
		 * Never write to a master that is read-only (frozen, or a
		 * server that is no longer the source of truth), even though
		 * our account might be allowed to.  pt-heartbeat's row is the
		 * master's server_id's: none while it is unknown (0 is no
		 * master's).
		 */
		if (t->cf->heartbeat != HEARTBEAT_WRITE || !m->heartbeat_ready ||
		    !t->hb_replica_table || m->read_only != 0 ||
		    primary_watched(t->health.state) ||
		    (t->cf->heartbeat_layout == HB_LAYOUT_PT_HEARTBEAT &&
		    m->server_id == 0)) {
			/* No new heartbeat is due: the newest written one ages. */
			m->hb_skipped = 1;
			master_done(t, DB_OK);
			return;
		}
		m->hb_skipped = 0;
		m->hb_pending_us = now_unix_ms() * 1000;
		sql = heartbeat_write_sql(t);
		r = db_query(m->db, sql, 0, master_cb, t);
		break;
	default:
		r = -1;
	}
	free(sql);
	if (r == -1)
		master_done(t, DB_ERR_LOST);
}

static void
master_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;
	struct master_state *m = &t->master;

	if (t->paused || m->busy || m->db == NULL)
		return;
	if (!m->connected || !db_connected(m->db)) {
		m->connected = 0;
		m->busy = MPH_CONNECT;
		if (db_connect(m->db, master_cb, t) == -1)
			master_done(t, DB_ERR_CONNECT);
		return;
	}
	m->busy = MPH_HB_SCHEMA;
	master_step(t);
}
