/*
 * skip_error (skiperr.h), on a connection of its own like setup/start/stop:
 *
 *   status (fresh, never the monitor's last sample) -> replctl_skip_check()
 *     -> each statement of flavor_skip_error_sql() in turn
 *     -> status again, until replctl_skip_reached() or SETTLE_MS
 *     -> the reply, the error_skipped event.
 *
 * The statement's answer never decides: RDS's procedure answers with
 * message rows whatever happened, so the status read back does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "control.h"
#include "log.h"
#include "monitor.h"
#include "promote.h"
#include "server.h"
#include "skiperr.h"
#include "xmalloc.h"

/* The SQL thread may take a moment to show it runs again, or stops again. */
#define SETTLE_MS	5000
#define SETTLE_STEP_MS	250

/* mysqld_error.h's ER_SPECIFIC_ACCESS_DENIED_ERROR */
#define ER_ACCESS_DENIED_SPECIFIC	1227

enum kphase { K_BEFORE, K_CALL, K_AFTER };

struct skipreq {
	struct target	*t;
	struct client	*client;	/* NULL once the peer left */
	long long	 id;
	enum kphase	 phase;
	struct server	*srv;
	struct event	*timer;
	unsigned	 expected;
	unsigned	 step;		/* of flavor_skip_error_sql() */
	uint64_t	 settle_until_us;
	char		 by[32];
	char		 error[512];	/* Last_SQL_Error before */
	char		 file[256];	/* where the SQL thread stopped */
	char		 pos[32];
	int		 have_pos;
	cJSON		*statements;
	cJSON		*messages;
	int		 timed_out;	/* a statement missed its deadline */
};

static void	scb(struct server *, int, void *);

/*
 * A statement that missed its deadline may still run on the server (no
 * KILL is sent), with the error still showing: a second skip_error now
 * would pass the check and skip the next event too.  So the one-at-a-time
 * guard is kept SETTLE_MS longer.
 */
static void
hold_done(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;

	t->admin_busy--;
}

static void
skipreq_free(struct skipreq *k)
{
	struct timeval tv = { SETTLE_MS / 1000, 0 };

	server_free(k->srv);
	if (!k->timed_out || event_base_once(k->t->d->base, -1, EV_TIMEOUT,
	    hold_done, k->t, &tv) == -1)
		k->t->admin_busy--;
	if (k->timer != NULL)
		event_free(k->timer);
	cJSON_Delete(k->statements);
	cJSON_Delete(k->messages);
	free(k);
}

static void
peer_left(struct client *c, void *arg)
{
	((struct skipreq *)arg)->client = NULL;
}

static void
fail(struct skipreq *k, enum proto_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct skipreq *k, enum proto_err code, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_target(LOG_LVL_WARN, k->t->name, health_name(k->t->health.state),
	    -1, "skip_error %u by %s failed: %s", k->expected, k->by, msg);
	if (k->client != NULL) {
		client_stream_end(k->client);
		client_error(k->client, k->id, code, "%s", msg);
	}
	monitor_poll_now(k->t);
	skipreq_free(k);
}

static void
succeed(struct skipreq *k, const char *note)
{
	const struct rw_event *ev;
	cJSON *o;

	ev = events_add_action(k->t->events, now_unix_ms(), k->t->name,
	    "error_skipped", health_name(k->t->health.state), k->error, k->by,
	    k->expected, 0);
	control_publish_change(k->t, ev);
	log_target(LOG_LVL_INFO, k->t->name, health_name(k->t->health.state),
	    -1, "SQL error %u skipped by %s: %s%s%s", k->expected, k->by,
	    k->error, note[0] ? "; " : "", note);
	if (k->client != NULL) {
		client_stream_end(k->client);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "target", k->t->name);
		cJSON_AddNumberToObject(o, "errno", k->expected);
		cJSON_AddStringToObject(o, "error", k->error);
		cJSON_AddItemToObject(o, "statements", k->statements);
		cJSON_AddItemToObject(o, "messages", k->messages);
		k->statements = k->messages = NULL;
		cJSON_AddStringToObject(o, "note", note);
		cJSON_AddItemToObject(o, "replication",
		    replstatus_to_json(server_status(k->srv)));
		client_ok(k->client, k->id, o);
	}
	monitor_poll_now(k->t);
	skipreq_free(k);
}

static void
read_status(struct skipreq *k, enum kphase ph)
{
	k->phase = ph;
	if (server_read_status(k->srv, scb, k) == -1)
		fail(k, PERR_INTERNAL, "the connection is busy");
}

static void	qcb(struct db *, enum db_status, const struct db_result *,
		    void *);

/* The next statement, or the status once there is none. */
static void
next_statement(struct skipreq *k)
{
	const char *sql = flavor_skip_error_sql(server_flavor(k->srv), k->step);

	if (sql == NULL) {
		k->settle_until_us = now_mono_us() + SETTLE_MS * 1000ull;
		read_status(k, K_AFTER);
		return;
	}
	k->phase = K_CALL;
	cJSON_AddItemToArray(k->statements, cJSON_CreateString(sql));
	log_debug("%s: %s", k->t->name, sql);
	if (db_query(server_db(k->srv), sql, k->t->cf->procedure_timeout_ms,
	    qcb, k) == -1)
		fail(k, PERR_INTERNAL, "cannot send a query");
}

static void
qcb(struct db *db, enum db_status st, const struct db_result *res, void *arg)
{
	struct skipreq *k = arg;
	const char *sql = flavor_skip_error_sql(server_flavor(k->srv), k->step);

	if (st != DB_OK) {
		k->timed_out = st == DB_ERR_TIMEOUT;
		/*
		 * After the counter, a failed start leaves it set: the next
		 * start of the SQL thread skips the event.  Say so.  MariaDB
		 * 10.11 wants SUPER for the counter (REPLICATION SLAVE ADMIN
		 * is not enough: seen here), which a monitoring user rarely
		 * has: say that too.
		 */
		fail(k, st == DB_ERR_TIMEOUT ? PERR_TIMEOUT : PERR_SERVER_ERROR,
		    "%s: %s%s", sql, st == DB_ERR_TIMEOUT ? "no answer within "
		    "procedure_timeout_ms; check the replica's status" :
		    db_error(db), k->step > 0 ? " (the skip counter is set: "
		    "the next start of the SQL thread skips the event)" :
		    st == DB_ERR_SERVER && db_errno(db) == ER_ACCESS_DENIED_SPECIFIC ?
		    " (the skip counter needs SUPER for the user of the "
		    "target's option_file; nothing was skipped)" : "");
		return;
	}
	server_add_messages(k->messages, res);
	k->step++;
	next_statement(k);
}

static void
settle_cb(evutil_socket_t fd, short what, void *arg)
{
	read_status(arg, K_AFTER);
}

static void
before(struct skipreq *k)
{
	const struct rw_status *st = server_status(k->srv);
	char why[768];

	if (replctl_skip_check(st, k->expected, why, sizeof why) == -1) {
		fail(k, PERR_PRECONDITION, "%s", why);
		return;
	}
	snprintf(k->error, sizeof k->error, "%s", st->last_sql_error ?
	    st->last_sql_error : "");
	k->have_pos = st->relay_master_log_file != NULL &&
	    st->exec_master_log_pos != NULL;
	if (k->have_pos) {
		snprintf(k->file, sizeof k->file, "%s", st->relay_master_log_file);
		snprintf(k->pos, sizeof k->pos, "%s", st->exec_master_log_pos);
	}
	next_statement(k);
}

static void
after(struct skipreq *k)
{
	char note[1024];
	struct timeval tv = { 0, SETTLE_STEP_MS * 1000 };

	if (replctl_skip_reached(k->have_pos ? k->file : NULL,
	    k->have_pos ? k->pos : NULL, server_status(k->srv), note,
	    sizeof note)) {
		succeed(k, note);
		return;
	}
	if (now_mono_us() < k->settle_until_us) {
		evtimer_add(k->timer, &tv);
		return;
	}
	fail(k, PERR_SERVER_ERROR, "the statements ran, but %s", note);
}

static void
scb(struct server *srv, int ok, void *arg)
{
	struct skipreq *k = arg;

	if (!ok) {
		fail(k, server_failure(srv) == SERR_TIMEOUT ? PERR_TIMEOUT :
		    PERR_SERVER_ERROR, "%s", server_error(srv));
		return;
	}
	if (k->phase == K_BEFORE)
		before(k);
	else
		after(k);
}

void
skiperr_cmd(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t)
{
	struct skipreq *k;
	const struct promo_record *r;
	double no;
	int present;

	if (proto_arg_number(req, "errno", &no, &present) == -1 || !present ||
	    no < 1 || no > 65535 || no != (double)(unsigned)no) {
		client_error(c, req->id, PERR_INVALID_ARGUMENT, "errno: required, "
		    "the number of the SQL error to skip (Last_SQL_Errno), "
		    "from 1 to 65535");
		return;
	}
	if (promote_running(t)) {
		client_error(c, req->id, PERR_BUSY, "a promotion of %s is running",
		    t->name);
		return;
	}
	/*
	 * A promotion stopped half-way may have stopped the threads on
	 * purpose; --resume skips the checks a restarted SQL thread would
	 * have failed.  Resume or abort it first.
	 */
	if (t->health.state == HEALTH_PROMOTION_INTERRUPTED ||
	    ((r = promote_record(t)) != NULL && r->outcome == PO_INTERRUPTED)) {
		client_error(c, req->id, PERR_PRECONDITION, "the promotion "
		    "of %s was interrupted: promote --resume or abort it first",
		    t->name);
		return;
	}
	/*
	 * One at a time: RDS's procedure stops replication for 4 s with the
	 * error still showing, and a second skip_error then would pass the
	 * check and skip the next event too.
	 */
	if (t->admin_busy > 0) {
		client_error(c, req->id, PERR_BUSY, "%s is being set up, started, "
		    "stopped or skipped by another request: try again once it "
		    "is done", t->name);
		return;
	}
	k = xcalloc(1, sizeof *k);
	k->t = t;
	k->client = c;
	k->id = req->id;
	k->expected = (unsigned)no;
	snprintf(k->by, sizeof k->by, "uid %ld", (long)client_uid(c));
	k->statements = cJSON_CreateArray();
	k->messages = cJSON_CreateArray();
	k->timer = evtimer_new(d->base, settle_cb, k);
	k->srv = server_new(d, &t->cf->replica, t->cf, t->name);
	t->admin_busy++;	/* a reload may not free t under us */
	client_stream_begin(c, req->id, peer_left, k);
	read_status(k, K_BEFORE);
}
