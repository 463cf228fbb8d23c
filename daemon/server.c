/*
 * One server: connection, kind, status, replication control (server.h).
 * Every step is one asynchronous query; srv_cb() decides the next from the
 * phase.  The control flow of an action:
 *
 *   status -> replctl_next():  nothing | refuse -> done
 *                              stop first -> stop -> status -> decide again
 *                              call -> status (reconnect first if the link
 *                                      broke; settle while not reached)
 *                                   -> replctl_reached() -> done
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "log.h"
#include "server.h"
#include "xmalloc.h"

/* After a timed-out or broken call: how long to wait for the state. */
#define SETTLE_MS	5000
#define SETTLE_STEP_MS	250

enum sphase { S_IDLE, S_CONNECT, S_PROBE, S_STATUS, S_CALL, S_RECONNECT };
enum sop { OP_OPEN, OP_STATUS, OP_REPL };

struct server {
	struct daemon	*d;
	const struct rw_endpoint *ep;
	const struct rw_target_config *cf;
	char		 name[64];
	struct db	*db;
	struct rw_flavor flavor;
	int		 flavor_known;
	struct rw_status status;
	struct event	*timer;

	/* The operation in flight. */
	enum sop	 op;
	enum sphase	 phase;
	server_cb	 cb;
	void		*arg;
	enum rw_repl_action act;
	int		 stopping_first;	/* the call in flight is that stop */
	int		 stopped;		/* a stop was made for this action */
	int		 called;		/* the action's statement ran */
	uint64_t	 settle_until_us;
	char		 call_error[600];	/* what the statement answered */
	char		 statement[128];
	enum server_err	 failure;
	char		 error[2048];
	char		 note[2048];
	cJSON		*messages;
};

static void	srv_cb(struct db *, enum db_status, const struct db_result *,
		    void *);
static void	decide(struct server *);
static void	settle_cb(evutil_socket_t, short, void *);

struct db *
endpoint_db(struct daemon *d, const struct rw_endpoint *ep,
    const struct rw_target_config *cf)
{
	struct db_params dp = {
		.host = ep->host, .port = ep->port,
		.option_file = ep->option_file, .tls = ep->tls,
		.tls_ca = ep->tls_ca, .tls_cert = ep->tls_cert,
		.tls_key = ep->tls_key,
		.connect_timeout_ms = cf->connect_timeout_ms,
		.query_timeout_ms = cf->query_timeout_ms,
	};

	return db_new(d->base, d->dns, &dp);
}

struct server *
server_new(struct daemon *d, const struct rw_endpoint *ep,
    const struct rw_target_config *cf, const char *name)
{
	struct server *s = xcalloc(1, sizeof *s);

	s->d = d;
	s->ep = ep;
	s->cf = cf;
	snprintf(s->name, sizeof s->name, "%s", name);
	s->db = endpoint_db(d, ep, cf);
	s->timer = evtimer_new(d->base, settle_cb, s);
	s->messages = cJSON_CreateArray();
	return s;
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	db_free(s->db);
	event_free(s->timer);
	replstatus_clear(&s->status);
	cJSON_Delete(s->messages);
	free(s);
}

struct db *
server_db(struct server *s)
{
	return s->db;
}

struct rw_flavor *
server_flavor(struct server *s)
{
	return &s->flavor;
}

int
server_flavor_known(const struct server *s)
{
	return s->flavor_known;
}

void
server_cancel(struct server *s)
{
	db_close(s->db);
	evtimer_del(s->timer);
	s->cb = NULL;
	s->phase = S_IDLE;
}

void
server_forget_kind(struct server *s)
{
	s->flavor_known = 0;
}

void
server_take_status(struct server *s, struct rw_status *out)
{
	replstatus_clear(out);
	*out = s->status;
	memset(&s->status, 0, sizeof s->status);
}

const struct rw_status *
server_status(const struct server *s)
{
	return &s->status;
}

enum server_err
server_failure(const struct server *s)
{
	return s->failure;
}

const char *
server_error(const struct server *s)
{
	return s->error;
}

const char *
server_note(const struct server *s)
{
	return s->note;
}

const char *
server_statement(const struct server *s)
{
	return s->statement;
}

cJSON *
server_take_messages(struct server *s)
{
	cJSON *m = s->messages;

	s->messages = cJSON_CreateArray();
	return m;
}

/* ---- ending an operation ----------------------------------------------- */

static void
done(struct server *s, int ok)
{
	server_cb cb = s->cb;

	s->phase = S_IDLE;
	s->cb = NULL;
	if (ok)
		s->failure = SERR_NONE;
	cb(s, ok, s->arg);
}

static void
failed(struct server *s, enum server_err why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
failed(struct server *s, enum server_err why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof s->error, fmt, ap);
	va_end(ap);
	s->failure = why;
	done(s, 0);
}

static enum server_err
db_failure(enum db_status st)
{
	switch (st) {
	case DB_ERR_TIMEOUT:
		return SERR_TIMEOUT;
	case DB_ERR_CONNECT:
	case DB_ERR_LOST:
		return SERR_CONNECT;
	default:
		return SERR_SERVER;
	}
}

static int
begin(struct server *s, enum sop op, server_cb cb, void *arg)
{
	if (s->cb != NULL || db_busy(s->db))
		return -1;
	s->op = op;
	s->cb = cb;
	s->arg = arg;
	s->error[0] = s->note[0] = '\0';
	s->failure = SERR_NONE;
	return 0;
}

/* ---- steps ------------------------------------------------------------- */

static void
query(struct server *s, enum sphase ph, const char *sql, unsigned timeout_ms)
{
	s->phase = ph;
	if (db_query(s->db, sql, timeout_ms, srv_cb, s) == -1)
		failed(s, SERR_CONNECT, "cannot send a query: %s", db_error(s->db));
}

static void
connect_step(struct server *s, enum sphase ph)
{
	s->phase = ph;
	if (db_connect(s->db, srv_cb, s) == -1)
		failed(s, SERR_CONNECT, "cannot start connecting to %s:%u",
		    s->ep->host, s->ep->port);
}

static void
read_status(struct server *s)
{
	query(s, S_STATUS, flavor_status_sql(&s->flavor), 0);
}

/* After connecting: detect the kind if unknown, then the operation. */
static void
opened(struct server *s)
{
	if (!s->flavor_known) {
		query(s, S_PROBE, flavor_probe_sql, 0);
		return;
	}
	if (s->op == OP_OPEN)
		done(s, 1);
	else
		read_status(s);
}

static void
call(struct server *s, const char *sql, int stop_first)
{
	snprintf(s->statement, sizeof s->statement, "%s", sql);
	s->stopping_first = stop_first;
	s->call_error[0] = '\0';
	log_debug("%s: %s (%s)", s->name, sql, stop_first ?
	    "a stop first" : replctl_action_name(s->act));
	query(s, S_CALL, sql, s->cf->procedure_timeout_ms);
}

static const char *
action_sql(const struct server *s, enum rw_repl_action a)
{
	switch (a) {
	case REPL_START:
		return flavor_start_sql(&s->flavor);
	case REPL_STOP:
		return flavor_stop_sql(&s->flavor);
	case REPL_RESET:
		return flavor_reset_sql(&s->flavor);
	}
	return "";
}

/* After the action's statement: judge by the state read back alone. */
static void
judge(struct server *s)
{
	char note[800];

	if (replctl_reached(s->act, &s->status, note, sizeof note)) {
		if (s->call_error[0] != '\0')
			snprintf(s->note, sizeof s->note, "%s answered \"%s\", "
			    "but the %s took effect%s%s", s->statement,
			    s->call_error, replctl_action_name(s->act),
			    note[0] ? ": " : "", note);
		else
			snprintf(s->note, sizeof s->note, "%s", note);
		done(s, 1);
		return;
	}
	if (s->settle_until_us != 0 && now_mono_us() < s->settle_until_us) {
		struct timeval tv = { 0, SETTLE_STEP_MS * 1000 };

		/* The server may still be finishing the call. */
		evtimer_add(s->timer, &tv);
		return;
	}
	if (s->call_error[0] != '\0')
		failed(s, SERR_SERVER, "%s: %s; %s", s->statement, s->call_error,
		    note);
	else
		failed(s, SERR_REFUSED, "%s succeeded, but %s", s->statement,
		    note);
}

/* The state is read: what next for the action? */
static void
decide(struct server *s)
{
	char why[256], now[700];
	enum rw_service svc = replctl_service(&s->status);

	if (s->called) {
		judge(s);
		return;
	}
	if (s->stopping_first) {
		/* Decide again from the state after that stop, never stop twice. */
		s->stopping_first = 0;
		s->stopped = 1;
	}
	switch (replctl_next(s->act, svc, flavor_is_rds(&s->flavor), s->stopped,
	    why, sizeof why)) {
	case NEXT_NOTHING:
		snprintf(s->note, sizeof s->note, "%s", why);
		done(s, 1);
		return;
	case NEXT_REFUSE:
		replctl_describe(&s->status, now, sizeof now);
		failed(s, SERR_REFUSED, "cannot %s replication: %s (%s)",
		    replctl_action_name(s->act), why, now);
		return;
	case NEXT_STOP_FIRST:
		replctl_describe(&s->status, now, sizeof now);
		log_info("%s: replication is half running (%s): stopping it "
		    "before the %s", s->name, now, replctl_action_name(s->act));
		call(s, flavor_stop_sql(&s->flavor), 1);
		return;
	case NEXT_CALL:
		s->called = 1;
		call(s, action_sql(s, s->act), 0);
		return;
	}
}

static void
settle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	if (db_connected(s->db))
		read_status(s);
	else
		connect_step(s, S_RECONNECT);
}

void
server_add_messages(cJSON *to, const struct db_result *res)
{
	for (size_t i = 0; res != NULL && i < res->nsets; i++) {
		const struct db_set *set = &res->sets[i];
		int c = db_set_column(set, "Message");

		for (size_t r = 0; c >= 0 && r < set->nrows; r++)
			if (set->values[r * set->ncols + (unsigned)c] != NULL)
				cJSON_AddItemToArray(to, cJSON_CreateString(
				    set->values[r * set->ncols + (unsigned)c]));
	}
}

/* The status row: the first result set with the status columns. */
static void
parse_status(struct server *s, const struct db_result *res)
{
	const struct db_set *set = NULL;

	replstatus_clear(&s->status);
	for (size_t i = 0; res != NULL && i < res->nsets && set == NULL; i++)
		if (db_set_column(&res->sets[i], "Slave_IO_Running") >= 0 ||
		    db_set_column(&res->sets[i], "Replica_IO_Running") >= 0)
			set = &res->sets[i];
	if (set != NULL && set->nrows > 0)
		replstatus_parse(&s->status, (const char *const *)set->names,
		    (const char *const *)set->values, set->ncols);
	else
		replstatus_parse(&s->status, NULL, NULL, 0);
}

static void
srv_cb(struct db *db, enum db_status st, const struct db_result *res,
    void *arg)
{
	struct server *s = arg;
	int denied;

	if (st != DB_OK) {
		switch (s->phase) {
		case S_STATUS:
			if (st == DB_ERR_SERVER && db_errno(db) == 1227 &&
			    (s->flavor.rds & RDS_REPLICA_STATUS) &&
			    !s->flavor.status_denied) {
				/* RDS MariaDB: the master user has the procedure. */
				const char *refused = flavor_status_sql(&s->flavor);

				s->flavor.status_denied = 1;
				log_info("%s: %s denied, using %s", s->name, refused,
				    flavor_status_sql(&s->flavor));
				read_status(s);
				return;
			}
			break;
		case S_CALL:
			/*
			 * Whatever the statement answered, the state decides:
			 * RDS's start errors while the threads run, and a call
			 * we stopped waiting for may still complete.
			 */
			snprintf(s->call_error, sizeof s->call_error, "%s",
			    st == DB_ERR_TIMEOUT ? "no answer within "
			    "procedure_timeout_ms" : db_error(db));
			if (st != DB_ERR_SERVER)
				s->settle_until_us = now_mono_us() +
				    SETTLE_MS * 1000ull;
			log_info("%s: %s: %s; reading the replication state",
			    s->name, s->statement, s->call_error);
			if (db_connected(db))
				read_status(s);
			else
				connect_step(s, S_RECONNECT);
			return;
		case S_RECONNECT:
			if (now_mono_us() < s->settle_until_us) {
				struct timeval tv = { 0, SETTLE_STEP_MS * 1000 };

				evtimer_add(s->timer, &tv);
				return;
			}
			failed(s, SERR_CONNECT, "%s: %s; then could not reconnect "
			    "to read the replication state (%s): check it before "
			    "anything else", s->statement, s->call_error,
			    db_error(db));
			return;
		default:
			break;
		}
		failed(s, db_failure(st), "%s", db_error(db));
		return;
	}
	switch (s->phase) {
	case S_CONNECT:
	case S_RECONNECT:
		opened(s);
		break;
	case S_PROBE:
		/* Same kind again: SHOW ... STATUS is still denied. */
		denied = s->flavor.status_denied;
		if (server_detect(&s->flavor, s->cf->flavor, res) == -1) {
			failed(s, SERR_SERVER, "server kind detection returned "
			    "no row");
			return;
		}
		if (s->flavor.rds & RDS_REPLICA_STATUS)
			s->flavor.status_denied = denied;
		s->flavor_known = 1;
		if (s->op == OP_OPEN)
			done(s, 1);
		else
			read_status(s);
		break;
	case S_STATUS:
		parse_status(s, res);
		if (s->op == OP_STATUS)
			done(s, 1);
		else
			decide(s);
		break;
	case S_CALL:
		server_add_messages(s->messages, res);
		read_status(s);
		break;
	default:
		failed(s, SERR_SERVER, "internal: result in phase %d", s->phase);
	}
}

/* ---- the operations ---------------------------------------------------- */

int
server_detect(struct rw_flavor *f, enum rw_flavor_choice forced,
    const struct db_result *res)
{
	if (res == NULL || res->nsets == 0)
		return -1;
	return flavor_detect_probe(f, forced,
	    (const char *const *)res->sets[0].names,
	    (const char *const *)res->sets[0].values, res->sets[0].ncols,
	    res->sets[0].nrows);
}

static void
start(struct server *s)
{
	if (!db_connected(s->db))
		connect_step(s, S_CONNECT);
	else
		opened(s);
}

int
server_open(struct server *s, server_cb cb, void *arg)
{
	if (begin(s, OP_OPEN, cb, arg) == -1)
		return -1;
	start(s);
	return 0;
}

int
server_read_status(struct server *s, server_cb cb, void *arg)
{
	if (begin(s, OP_STATUS, cb, arg) == -1)
		return -1;
	start(s);
	return 0;
}

int
server_replication(struct server *s, enum rw_repl_action a, server_cb cb,
    void *arg)
{
	if (begin(s, OP_REPL, cb, arg) == -1)
		return -1;
	s->act = a;
	s->stopped = s->called = s->stopping_first = 0;
	s->settle_until_us = 0;
	s->call_error[0] = '\0';
	s->statement[0] = '\0';
	start(s);
	return 0;
}
