/*
 * setup, start and stop run a few statements on a connection of their own
 * (the monitor's is never borrowed), each step asynchronous: connect, detect
 * the kind, check the status, then the statements.  The reply waits for the
 * last one.  The replication password lives only in this request's memory,
 * is never logged, and is scrubbed from any error the server sends back;
 * what such an error quotes of the set-up statement is withheld.  Every
 * literal is escaped by the session's own quoter (db_quote), which knows
 * whether the server runs with NO_BACKSLASH_ESCAPES.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "log.h"
#include "monitor.h"
#include "promote.h"
#include "server.h"
#include "xmalloc.h"

/* mysqld_error.h's: an unhandled SIGNAL, the RDS procedures' refusals. */
#define ER_SIGNAL_EXCEPTION	1644

enum op { OP_SETUP, OP_START, OP_STOP };
enum aphase { A_OPEN, A_STATUS, A_M_OPEN, A_M_AUTH, A_GTIDPOS, A_SETUP,
	A_CONTROL };

struct adminreq {
	struct target	*t;
	struct client	*client;	/* NULL once the peer left */
	long long	 id;
	enum op		 op;
	enum aphase	 phase;
	struct server	*srv;
	struct server	*msrv;		/* the old master, for its mysql.user */
	struct rw_setup	 setup;
	char		*host, *user, *password, *file, *gtid;
	int		 start_after;
	int		 started;
	char		*statement;	/* redacted, for the reply */
	char		 note[2048];
	cJSON		*messages;
};

static void	acb(struct db *, enum db_status, const struct db_result *, void *);
static void	scb(struct server *, int, void *);

static const char *const op_names[] = { "setup", "start", "stop" };

/* Literals are escaped as the session that runs the statement reads them. */
static struct sql_quoter
quoter(struct server *srv)
{
	return (struct sql_quoter){ db_quote, server_db(srv) };
}

/* Copy s into out (len bytes) with every occurrence of secret as ***. */
static void
scrub(const char *s, const char *secret, char *out, size_t len)
{
	size_t n = secret != NULL ? strlen(secret) : 0, o = 0;
	const char *p;

	while (*s != '\0' && o + 1 < len) {
		if (n > 0 && (p = strstr(s, secret)) == s) {
			for (int i = 0; i < 3 && o + 1 < len; i++)
				out[o++] = '*';
			s += n;
		} else
			out[o++] = *s++;
	}
	out[o] = '\0';
}

/*
 * A server error about the set-up statement may quote the statement or one
 * of its values, cut short: 1064 "... near 'cd', 'mysql-bin..." when the
 * statement did not parse, 1470 "String '0123...' is too long for
 * MASTER_PASSWORD", 1366 "Incorrect string value: '\xE2\x82...'".  That is
 * a piece of the password which no scrub of the whole one finds, and quotes
 * in the password make any pairing of the quotes unreliable: everything
 * from the first quote on is withheld.  A procedure's SIGNAL (1644, RDS) is
 * text someone wrote: only the whole password is scrubbed from it.
 */
static void
withhold_quoted(unsigned no, const char *msg, const char *secret, char *out,
    size_t len)
{
	size_t n = strcspn(msg, "'");

	if (no == ER_SIGNAL_EXCEPTION || msg[n] == '\0') {
		scrub(msg, secret, out, len);
		return;
	}
	snprintf(out, len, "error %u: %.*s... (the rest is withheld: it quotes "
	    "the statement, which holds the password)", no, (int)n, msg);
}

static void
adminreq_free(struct adminreq *a)
{
	if (a->srv != NULL) {
		server_free(a->srv);
		a->t->admin_busy--;
	}
	server_free(a->msrv);
	if (a->password != NULL) {
		explicit_bzero(a->password, strlen(a->password));
		free(a->password);
	}
	free(a->host);
	free(a->user);
	free(a->file);
	free(a->gtid);
	free(a->statement);
	cJSON_Delete(a->messages);
	free(a);
}

static void
peer_left(struct client *c, void *arg)
{
	((struct adminreq *)arg)->client = NULL;
}

static void
reply_done(struct adminreq *a, enum proto_err code, const char *fmt, ...)
{
	char raw[2048], msg[2048];
	va_list ap;
	cJSON *o;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(raw, sizeof raw, fmt, ap);
		va_end(ap);
		scrub(raw, a->password, msg, sizeof msg);
		explicit_bzero(raw, sizeof raw);
		log_target(LOG_LVL_WARN, a->t->name, health_name(a->t->health.state),
		    -1, "%s failed: %s", op_names[a->op], msg);
	} else if (a->note[0] != '\0')
		log_target(LOG_LVL_INFO, a->t->name, health_name(a->t->health.state),
		    -1, "%s: %s", op_names[a->op], a->note);
	if (a->client != NULL) {
		client_stream_end(a->client);
		if (fmt != NULL)
			client_error(a->client, a->id, code, "%s", msg);
		else {
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "target", a->t->name);
			cJSON_AddStringToObject(o, "statement", a->statement ?
			    a->statement : "");
			if (a->op == OP_SETUP)
				cJSON_AddBoolToObject(o, "started", a->started);
			cJSON_AddStringToObject(o, "note", a->note);
			cJSON_AddItemToObject(o, "messages", a->messages);
			a->messages = NULL;
			client_ok(a->client, a->id, o);
		}
	}
	monitor_poll_now(a->t);
	adminreq_free(a);
}

static void
aquery(struct adminreq *a, enum aphase ph, const char *sql)
{
	a->phase = ph;
	if (db_query(server_db(a->srv), sql, a->t->cf->procedure_timeout_ms,
	    acb, a) == -1)
		reply_done(a, PERR_INTERNAL, "cannot send a query");
}

static void
control(struct adminreq *a, enum rw_repl_action act)
{
	a->phase = A_CONTROL;
	if (server_replication(a->srv, act, scb, a) == -1)
		reply_done(a, PERR_INTERNAL, "the connection is busy");
}

static enum proto_err
perr(enum server_err e)
{
	switch (e) {
	case SERR_REFUSED:
		return PERR_PRECONDITION;
	case SERR_TIMEOUT:
		return PERR_TIMEOUT;
	default:
		return PERR_SERVER_ERROR;
	}
}

/* Add a sentence to the reply's note. */
static void
add_note(struct adminreq *a, const char *text)
{
	size_t n = strlen(a->note);

	if (text[0] != '\0')
		snprintf(a->note + n, sizeof a->note - n, "%s%s", n ? "; " : "",
		    text);
}

/*
 * With the old master configured, ask it how the replication user
 * authenticates before RDS is told to use it: MySQL 8's
 * caching_sha2_password needs TLS on the link (flavor_check_repl_auth).
 */
static void
check_auth(struct adminreq *a)
{
	struct sql_quoter q = quoter(a->msrv);
	char *sql;

	sql = flavor_user_plugin_sql(&q, a->user);
	a->phase = A_M_AUTH;
	if (db_query(server_db(a->msrv), sql, 0, acb, a) == -1)
		reply_done(a, PERR_INTERNAL, "cannot send a query");
	free(sql);
}

static void
run_setup(struct adminreq *a)
{
	const struct rw_status *st = server_status(a->srv);
	struct rw_flavor *fl = server_flavor(a->srv);
	struct sql_quoter q = quoter(a->srv);
	char err[256], *sql;

	if (replctl_service(st) != SERVICE_NOT_EXIST &&
	    replctl_service(st) != SERVICE_OFF) {
		reply_done(a, PERR_PRECONDITION, "replication is running on %s: "
		    "stop it first (replwatchctl stop %s)", a->t->name,
		    a->t->name);
		return;
	}
	if ((sql = flavor_setup_sql(fl, &q, &a->setup, err, sizeof err)) ==
	    NULL) {
		reply_done(a, PERR_INVALID_ARGUMENT, "%s", err);
		return;
	}
	a->statement = flavor_setup_sql_redacted(fl, &q, &a->setup);
	if (a->gtid != NULL && !flavor_is_rds(fl)) {
		char *g = flavor_gtid_pos_sql(fl, &q, a->gtid);

		explicit_bzero(sql, strlen(sql));
		free(sql);
		if (g == NULL) {
			reply_done(a, PERR_INVALID_ARGUMENT, "GTID set-up is not "
			    "possible on %s", flavor_name(fl));
			return;
		}
		aquery(a, A_GTIDPOS, g);
		free(g);
		return;
	}
	aquery(a, A_SETUP, sql);
	explicit_bzero(sql, strlen(sql));
	free(sql);
}

/* The server object finished a step. */
static void
scb(struct server *srv, int ok, void *arg)
{
	struct adminreq *a = arg;
	cJSON *m, *item;

	m = server_take_messages(srv);
	while ((item = cJSON_DetachItemFromArray(m, 0)) != NULL)
		cJSON_AddItemToArray(a->messages, item);
	cJSON_Delete(m);
	if (!ok && a->phase == A_M_OPEN) {
		char w[1200];

		/* The source may be out of our reach: say so, go on. */
		snprintf(w, sizeof w, "the replication user's authentication "
		    "could not be checked on the old master (%s)",
		    server_error(srv));
		add_note(a, w);
		run_setup(a);
		return;
	}
	if (!ok) {
		reply_done(a, perr(server_failure(srv)), "%s%s", a->op == OP_SETUP &&
		    a->phase == A_CONTROL ? "replication was configured, but the "
		    "start failed: " : "", server_error(srv));
		return;
	}
	switch (a->phase) {
	case A_OPEN:
		if (a->t->flavor_known &&
		    (server_flavor(srv)->rds & RDS_REPLICA_STATUS))
			server_flavor(srv)->status_denied =
			    a->t->flavor.status_denied;
		if (a->op == OP_SETUP) {
			a->phase = A_STATUS;
			if (server_read_status(srv, scb, a) == -1)
				reply_done(a, PERR_INTERNAL, "the connection is busy");
		} else
			control(a, a->op == OP_START ? REPL_START : REPL_STOP);
		break;
	case A_STATUS:
		if (a->t->cf->master.host == NULL) {
			run_setup(a);
			break;
		}
		a->phase = A_M_OPEN;
		a->msrv = server_new(a->t->d, &a->t->cf->master, a->t->cf,
		    a->t->name);
		if (server_open(a->msrv, scb, a) == -1)
			reply_done(a, PERR_INTERNAL, "cannot start connecting");
		break;
	case A_M_OPEN:
		check_auth(a);
		break;
	case A_CONTROL:
		if (a->op != OP_SETUP) {
			free(a->statement);
			a->statement = xstrdup(server_statement(srv));
		} else
			a->started = 1;
		add_note(a, server_note(srv));
		log_target(LOG_LVL_INFO, a->t->name, health_name(a->t->health.state),
		    -1, "replication %s", a->op == OP_STOP ? "stopped" : "started");
		reply_done(a, 0, NULL);
		break;
	default:
		reply_done(a, PERR_INTERNAL, "internal: phase %d", a->phase);
	}
}

static void
acb(struct db *db, enum db_status st, const struct db_result *res, void *arg)
{
	struct adminreq *a = arg;
	struct sql_quoter q;
	char *sql, err[768];

	if (st != DB_OK && a->phase == A_M_AUTH) {
		char w[1200];

		snprintf(w, sizeof w, "the replication user's authentication "
		    "could not be checked on the old master (%s)", db_error(db));
		add_note(a, w);
		run_setup(a);
		return;
	}
	if (st != DB_OK && a->phase == A_SETUP && st == DB_ERR_SERVER) {
		withhold_quoted(db_errno(db), db_error(db), a->password, err,
		    sizeof err);
		reply_done(a, PERR_SERVER_ERROR, "%s", err);
		return;
	}
	if (st != DB_OK) {
		reply_done(a, st == DB_ERR_TIMEOUT ? PERR_TIMEOUT :
		    PERR_SERVER_ERROR, "%s", db_error(db));
		return;
	}
	switch (a->phase) {
	case A_M_AUTH:
		for (size_t r = 0; res->nsets > 0 && r < res->sets[0].nrows; r++) {
			if (flavor_check_repl_auth(db_set_value(&res->sets[0], r,
			    "plugin"), a->user, a->setup.ssl, err, sizeof err) == -1) {
				reply_done(a, PERR_PRECONDITION, "%s", err);
				return;
			}
		}
		if (res->nsets == 0 || res->sets[0].nrows == 0) {
			char w[600];

			snprintf(w, sizeof w, "the old master has no user %s "
			    "(mysql.user): the IO thread will fail with 1045 "
			    "unless it is created", a->user);
			add_note(a, w);
		}
		run_setup(a);
		break;
	case A_GTIDPOS:
		q = quoter(a->srv);
		if ((sql = flavor_setup_sql(server_flavor(a->srv), &q, &a->setup,
		    err, sizeof err)) == NULL) {
			reply_done(a, PERR_INVALID_ARGUMENT, "%s", err);
			return;
		}
		aquery(a, A_SETUP, sql);
		explicit_bzero(sql, strlen(sql));
		free(sql);
		break;
	case A_SETUP:
		server_add_messages(a->messages, res);
		log_target(LOG_LVL_INFO, a->t->name, health_name(a->t->health.state),
		    -1, "replication configured: %s", a->statement);
		promote_forget(a->t);
		if (a->start_after)
			control(a, REPL_START);
		else
			reply_done(a, 0, NULL);
		break;
	default:
		reply_done(a, PERR_INTERNAL, "internal: phase %d", a->phase);
	}
}

static void
begin(struct target *t, struct client *c, long long id, struct adminreq *a)
{
	a->t = t;
	a->client = c;
	a->id = id;
	a->messages = cJSON_CreateArray();
	if (promote_running(t)) {
		client_error(c, id, PERR_BUSY, "a promotion of %s is running",
		    t->name);
		adminreq_free(a);
		return;
	}
	a->srv = server_new(t->d, &t->cf->replica, t->cf, t->name);
	t->admin_busy++;	/* a reload may not free t under us */
	client_stream_begin(c, id, peer_left, a);
	a->phase = A_OPEN;
	if (server_open(a->srv, scb, a) == -1)
		reply_done(a, PERR_INTERNAL, "cannot start connecting");
}

static int
want_string(struct client *c, const struct proto_request *req, const char *key,
    int required, char **out)
{
	const char *v = NULL;

	if (proto_arg_string(req, key, &v) == -1 || (required && v == NULL) ||
	    (v != NULL && (*v == '\0' || strlen(v) > 255))) {
		client_error(c, req->id, PERR_INVALID_ARGUMENT, "%s: %s", key,
		    v == NULL ? "required string" : "must be 1 to 255 characters");
		return -1;
	}
	*out = v != NULL ? xstrdup(v) : NULL;
	return 0;
}

void
admin_setup(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t)
{
	struct adminreq *a = xcalloc(1, sizeof *a);
	const cJSON *pos;
	double port = 3306;
	int present, ssl = 0, start = 0;
	char posbuf[32];

	a->op = OP_SETUP;
	if (want_string(c, req, "master_host", 1, &a->host) == -1 ||
	    want_string(c, req, "repl_user", 1, &a->user) == -1 ||
	    want_string(c, req, "repl_password", 1, &a->password) == -1 ||
	    want_string(c, req, "binlog_file", 0, &a->file) == -1 ||
	    want_string(c, req, "gtid", 0, &a->gtid) == -1)
		goto bad;
	if (proto_arg_number(req, "master_port", &port, &present) == -1 ||
	    port < 1 || port > 65535 || port != (double)(int)port) {
		client_error(c, req->id, PERR_INVALID_ARGUMENT,
		    "master_port must be an integer from 1 to 65535");
		goto bad;
	}
	if (proto_arg_bool(req, "ssl", &ssl, &present) == -1 ||
	    proto_arg_bool(req, "start", &start, &present) == -1) {
		client_error(c, req->id, PERR_INVALID_ARGUMENT,
		    "ssl and start must be booleans");
		goto bad;
	}
	if ((a->file == NULL) == (a->gtid == NULL)) {
		client_error(c, req->id, PERR_INVALID_ARGUMENT, "give either "
		    "binlog_file and binlog_pos, or gtid");
		goto bad;
	}
	if (a->file != NULL) {
		pos = cJSON_GetObjectItemCaseSensitive(req->root, "binlog_pos");
		if (cJSON_IsNumber(pos) && pos->valuedouble >= 0 &&
		    pos->valuedouble < 9007199254740992.0 &&
		    pos->valuedouble == (double)(unsigned long long)pos->valuedouble)
			snprintf(posbuf, sizeof posbuf, "%llu",
			    (unsigned long long)pos->valuedouble);
		else if (cJSON_IsString(pos) && pos->valuestring[0] != '\0' &&
		    strlen(pos->valuestring) < 21 &&
		    strspn(pos->valuestring, "0123456789") == strlen(pos->valuestring))
			snprintf(posbuf, sizeof posbuf, "%s", pos->valuestring);
		else {
			client_error(c, req->id, PERR_INVALID_ARGUMENT, "binlog_pos "
			    "must be a non-negative integer (or a string of digits)");
			goto bad;
		}
		a->setup.log_pos = strtoull(posbuf, NULL, 10);
	}
	a->setup.host = a->host;
	a->setup.port = (unsigned)port;
	a->setup.user = a->user;
	a->setup.password = a->password;
	a->setup.log_file = a->file;
	a->setup.gtid = a->gtid;
	a->setup.ssl = ssl;
	a->start_after = start;
	begin(t, c, req->id, a);
	return;
bad:
	a->messages = NULL;
	adminreq_free(a);
}

void
admin_start(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t)
{
	struct adminreq *a = xcalloc(1, sizeof *a);

	a->op = OP_START;
	begin(t, c, req->id, a);
}

void
admin_stop(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t)
{
	struct adminreq *a = xcalloc(1, sizeof *a);

	a->op = OP_STOP;
	begin(t, c, req->id, a);
}

static int
opt_bool(struct client *c, const struct proto_request *req, const char *key,
    int *out)
{
	int present;

	if (proto_arg_bool(req, key, out, &present) == -1) {
		client_error(c, req->id, PERR_INVALID_ARGUMENT, "%s must be a "
		    "boolean", key);
		return -1;
	}
	return 0;
}

static int
opt_num(struct client *c, const struct proto_request *req, const char *key,
    double lo, double hi, double *out)
{
	int present;

	if (proto_arg_number(req, key, out, &present) == -1 || *out < lo ||
	    *out > hi) {
		client_error(c, req->id, PERR_INVALID_ARGUMENT, "%s must be a number "
		    "from %g to %g", key, lo, hi);
		return -1;
	}
	return 0;
}

void
admin_promote(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t)
{
	struct promote_opts o = { .freeze = 1, .max_lag_s = 1, .timeout_s = 60 };
	int explicit_freeze = 0;

	/* The freeze is the default: absent means yes. */
	if (proto_arg_bool(req, "freeze_master", &o.freeze, &explicit_freeze)
	    == -1) {
		client_error(c, req->id, PERR_INVALID_ARGUMENT, "freeze_master "
		    "must be a boolean");
		return;
	}
	if (opt_bool(c, req, "dry_run", &o.dry_run) == -1 ||
	    opt_bool(c, req, "force", &o.force) == -1 ||
	    opt_bool(c, req, "resume", &o.resume) == -1 ||
	    opt_num(c, req, "max_lag_s", 0, 86400, &o.max_lag_s) == -1 ||
	    opt_num(c, req, "timeout_s", 0.1, 86400, &o.timeout_s) == -1)
		return;
	if (o.freeze && explicit_freeze && t->cf->master.host == NULL) {
		client_error(c, req->id, PERR_INVALID_ARGUMENT, "--freeze-master "
		    "needs master_host in the target's configuration");
		return;
	}
	promote_start(t, c, req->id, &o);
}

void
admin_unfence(struct daemon *d, struct client *c,
    const struct proto_request *req, struct target *t)
{
	promote_unfence(t, c, req->id);
}

void
admin_abort(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t)
{
	promote_abort(t, c, req->id);
}
