/*
 * Unit tests of daemon/promote.c, chrony's way: the module is compiled into
 * this file, and what it calls outside lib/ -- the replica's server object,
 * the database links, the hooks, the fence, the client, the monitor and the
 * clock -- is faked here.  The fakes follow a script: each operation is what
 * promote.c must ask next (checked in order, by prefix) and the answer to
 * give, which comes later from the event loop, as the real ones do.  The
 * journal is the real one, in a temporary state directory; the clock is
 * ours, and the promotion's timer is fired by hand after moving it on.
 *
 * RW_TEST_VERBOSE=1 shows promote.c's log.
 */
#include "../../daemon/promote.c"

#include <setjmp.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- the script ------------------------------------------------------- */

/*
 * One operation: expect is a prefix of what promote.c asks, written as
 *   "r SQL" / "m SQL"	a query on the replica's link / the old master's
 *   "connect m"	db_connect of a new link to the old master
 *   "open r"		server_open of the replica
 *   "control stop"	server_replication (start, stop, reset)
 *   "hook on_switch forward to HOST:PORT", "hook on_promoted", ...
 *			(on_promote_failed is run without waiting: no answer)
 * res is a result literal (queries) or the replica's status after a
 * control operation: rows split by ';', columns by '|', the first row the
 * column names, NULL for SQL NULL; "" is no result set (no replication).
 */
struct op {
	const char	*expect;
	const char	*res;
	int		 fail;
	unsigned	 err;		/* server error number; 0: link lost */
	const char	*msg;
	unsigned	 advance_ms;	/* the clock moves on before the answer */
	int		 hold;		/* never answered (until cancelled) */
};

#define OK(e, r)	{ .expect = (e), .res = (r) }
#define LATER(ms, e, r)	{ .expect = (e), .res = (r), .advance_ms = (ms) }
#define ERR(e, n, m)	{ .expect = (e), .fail = 1, .err = (n), .msg = (m) }
#define HOLD(e)		{ .expect = (e), .hold = 1 }
#define END		{ .expect = NULL }

enum kind { K_QUERY, K_CONNECT, K_OPEN, K_CONTROL, K_HOOK };

struct pending {
	enum kind	 kind;
	const struct op	*op;
	struct db	*db;
	db_cb		 qcb;
	struct server	*srv;
	server_cb	 scb;
	enum rw_repl_action act;
	hook_done_fn	 hcb;
	void		*arg;
	int		 cancelled, answered;
	struct pending	*next;		/* all of them, freed at teardown */
};

struct db {
	char		 role;		/* 'r': the replica's link; 'm': master */
	int		 connected;
	unsigned	 err;
	char		 error[256];
	struct pending	*pending;
};

struct server {
	struct db	*db;
	struct rw_flavor fl;
	struct rw_status st;
	char		 error[256], statement[128];
	struct pending	*pending;
};

struct fence {
	struct db	*m;
};

struct client {
	int		 streaming;
	int		 nok, nerr, nsteps;
	enum proto_err	 code;
	char		 msg[1024];
	cJSON		*result;	/* client_ok's */
	cJSON		*report;	/* the "report" event of a failure */
};

static struct {
	struct event_base *base;
	char		 dir[64];
	struct rw_config conf;
	struct rw_target_config cf;
	struct daemon	 d;
	struct target	 t;
	struct rw_flavor rfl;		/* what the replica is */
	const struct op	*script;
	size_t		 next;
	int		 inflight;	/* answers scheduled, not yet given */
	struct pending	*all;
	struct pending	*held;		/* HOLD's, until release_held() */
	uint64_t	 mono_us;
	char		 trace[16384];	/* everything asked, a line each */
	char		 hook_env[2048];	/* of the last hook run */
	struct client	 cl, cl2;
} S;

static const struct timeval zero_tv;

static void
trace_add(const char *line)
{
	size_t n = strlen(S.trace);

	snprintf(S.trace + n, sizeof S.trace - n, "%s\n", line);
}

static int
trace_count(const char *needle)
{
	int n = 0;

	for (const char *s = S.trace; (s = strstr(s, needle)) != NULL; s++)
		n++;
	return n;
}

/* The next operation of the script, which must be what promote.c asks. */
static const struct op *
next_op(const char *fmt, ...)
{
	const struct op *op;
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	trace_add(line);
	op = S.script != NULL ? &S.script[S.next] : NULL;
	if (op == NULL || op->expect == NULL)
		fail_msg("promote.c asked for \"%s\" after the end of the script",
		    line);
	if (strncmp(line, op->expect, strlen(op->expect)) != 0)
		fail_msg("operation %zu: the script expects \"%s\", promote.c "
		    "asked for \"%s\"", S.next + 1, op->expect, line);
	S.next++;
	return op;
}

static void
script(const struct op *ops)
{
	S.script = ops;
	S.next = 0;
}

static void
script_done(void)
{
	if (S.script[S.next].expect != NULL)
		fail_msg("operation %zu (\"%s\") was never asked for; asked:\n%s",
		    S.next + 1, S.script[S.next].expect, S.trace);
}

/* ---- result literals ---------------------------------------------------- */

static struct db_result *
result_new(const char *lit)
{
	struct db_result *r = xcalloc(1, sizeof *r);
	struct db_set *s;
	char *copy, *rest, *row, *cell;
	size_t nv = 0;

	if (lit == NULL || *lit == '\0')
		return r;
	r->nsets = 1;
	r->sets = s = xcalloc(1, sizeof *s);
	rest = copy = xstrdup(lit);
	row = strsep(&rest, ";");
	while ((cell = strsep(&row, "|")) != NULL) {
		s->names = xrealloc(s->names, (s->ncols + 1) * sizeof *s->names);
		s->names[s->ncols++] = xstrdup(cell);
	}
	while ((row = strsep(&rest, ";")) != NULL) {
		s->values = xrealloc(s->values, (nv + s->ncols) *
		    sizeof *s->values);
		for (unsigned c = 0; c < s->ncols; c++) {
			if ((cell = strsep(&row, "|")) == NULL)
				fail_msg("result literal \"%s\": a short row", lit);
			s->values[nv++] = strcmp(cell, "NULL") == 0 ? NULL :
			    xstrdup(cell);
		}
		s->nrows++;
	}
	free(copy);
	return r;
}

static void
result_free(struct db_result *r)
{
	for (size_t i = 0; i < r->nsets; i++) {
		struct db_set *s = &r->sets[i];

		for (unsigned c = 0; c < s->ncols; c++)
			free(s->names[c]);
		for (size_t v = 0; v < s->nrows * s->ncols; v++)
			free(s->values[v]);
		free(s->names);
		free(s->values);
	}
	free(r->sets);
	free(r);
}

/* A replica status literal into st, as the server object reads it. */
static void
status_set(struct rw_status *st, const char *lit)
{
	struct db_result *r = result_new(lit);

	replstatus_clear(st);
	if (r->nsets == 0 || r->sets[0].nrows == 0)
		replstatus_parse(st, NULL, NULL, 0);
	else
		replstatus_parse(st, (const char *const *)r->sets[0].names,
		    (const char *const *)r->sets[0].values, r->sets[0].ncols);
	result_free(r);
}

/* ---- answers from the loop ------------------------------------------------ */

static struct pending *
pending_new(enum kind k, const struct op *op)
{
	struct pending *pd = xcalloc(1, sizeof *pd);

	pd->kind = k;
	pd->op = op;
	pd->next = S.all;
	S.all = pd;
	return pd;
}

static void
cancel(struct pending **pp)
{
	if (*pp != NULL)
		(*pp)->cancelled = 1;
	*pp = NULL;
}

static void
deliver(evutil_socket_t fd, short what, void *arg)
{
	struct pending *pd = arg;
	const struct op *op = pd->op;
	struct db_result *res;
	struct db *db = pd->db;
	struct server *srv = pd->srv;

	S.inflight--;
	if (pd->cancelled)
		return;
	pd->answered = 1;
	S.mono_us += op->advance_ms * 1000ull;
	switch (pd->kind) {
	case K_QUERY:
	case K_CONNECT:
		db->pending = NULL;
		if (op->fail) {
			db->err = op->err;
			snprintf(db->error, sizeof db->error, "%s", op->msg);
			if (op->err == 0)
				db->connected = 0;
			pd->qcb(db, op->err != 0 ? DB_ERR_SERVER :
			    pd->kind == K_CONNECT ? DB_ERR_CONNECT : DB_ERR_LOST,
			    NULL, pd->arg);
			break;
		}
		db->err = 0;
		db->error[0] = '\0';
		if (pd->kind == K_CONNECT)
			db->connected = 1;
		res = result_new(op->res);
		pd->qcb(db, DB_OK, res, pd->arg);
		result_free(res);
		break;
	case K_OPEN:
	case K_CONTROL:
		srv->pending = NULL;
		if (op->fail) {
			snprintf(srv->error, sizeof srv->error, "%s", op->msg);
			pd->scb(srv, 0, pd->arg);
			break;
		}
		if (pd->kind == K_OPEN)
			srv->db->connected = 1;
		else {
			status_set(&srv->st, op->res);
			snprintf(srv->statement, sizeof srv->statement, "%s",
			    pd->act == REPL_START ? flavor_start_sql(&srv->fl) :
			    pd->act == REPL_STOP ? flavor_stop_sql(&srv->fl) :
			    flavor_reset_sql(&srv->fl));
		}
		pd->scb(srv, 1, pd->arg);
		break;
	case K_HOOK:
		pd->hcb(!op->fail, op->fail ? op->msg : "exited 0", pd->arg);
		break;
	}
}

static void
schedule(struct pending *pd)
{
	if (pd->op->hold) {
		S.held = pd;
		return;
	}
	S.inflight++;
	assert_int_equal(event_base_once(S.base, -1, EV_TIMEOUT, deliver, pd,
	    &zero_tv), 0);
}

/* Give the answer of the operation the script held. */
static void
release_held(void)
{
	assert_non_null(S.held);
	S.inflight++;
	assert_int_equal(event_base_once(S.base, -1, EV_TIMEOUT, deliver,
	    S.held, &zero_tv), 0);
	S.held = NULL;
}

/*
 * Run the loop until promote.c waits for nothing scheduled; with
 * fire_timers, its timer (a poll, a wait) fires at once, the clock moved on
 * by its interval.
 */
static void
drive(int fire_timers)
{
	struct promotion *p;

	for (;;) {
		if (S.inflight > 0) {
			event_base_loop(S.base, EVLOOP_ONCE);
			continue;
		}
		p = S.t.promotion;
		if (!fire_timers || p == NULL || !evtimer_pending(p->timer, NULL))
			return;
		evtimer_del(p->timer);
		S.mono_us += p->phase == P_R_POLL ? POLL_US :
		    p->phase == P_NEAR_M ? NEAR_POLL_US : MOVE_CHECK_US;
		timer_cb(-1, EV_TIMEOUT, p);
	}
}

/* ---- the fakes: lib/db.c ------------------------------------------------ */

static struct db *
db_fake(char role)
{
	struct db *d = xcalloc(1, sizeof *d);

	d->role = role;
	return d;
}

struct db *
db_new(struct event_base *base, struct evdns_base *dns,
    const struct db_params *dp)
{
	assert_string_equal(dp->host, "master.example");
	return db_fake('m');
}

/* server.c's: the promotion's links to the old master come from here. */
struct db *
endpoint_db(struct daemon *d, const struct rw_endpoint *ep,
    const struct rw_target_config *cf)
{
	struct db_params dp = { .host = ep->host, .port = ep->port };

	return db_new(d->base, d->dns, &dp);
}

void
db_free(struct db *d)
{
	if (d == NULL)
		return;
	cancel(&d->pending);
	free(d);
}

int
db_connect(struct db *d, db_cb cb, void *arg)
{
	const struct op *op = next_op("connect %c", d->role);
	struct pending *pd = pending_new(K_CONNECT, op);

	pd->db = d;
	pd->qcb = cb;
	pd->arg = arg;
	d->pending = pd;
	d->connected = 0;
	schedule(pd);
	return 0;
}

int
db_query(struct db *d, const char *sql, unsigned timeout_ms, db_cb cb,
    void *arg)
{
	const struct op *op;
	struct pending *pd;
	char line[1024];

	if (d->pending != NULL || !d->connected) {
		/* Refused at once, as the real one does: not scripted. */
		snprintf(line, sizeof line, "%c %s: refused (%s)", d->role, sql,
		    d->pending != NULL ? "busy" : "not connected");
		trace_add(line);
		d->err = 2006;
		snprintf(d->error, sizeof d->error, "query: not connected");
		return -1;
	}
	op = next_op("%c %s", d->role, sql);
	pd = pending_new(K_QUERY, op);
	pd->db = d;
	pd->qcb = cb;
	pd->arg = arg;
	d->pending = pd;
	schedule(pd);
	return 0;
}

void
db_close(struct db *d)
{
	cancel(&d->pending);
	d->connected = 0;
	trace_add("close r");
}

int
db_connected(const struct db *d)
{
	return d->connected;
}

/* The freeze's unblocking needs the freeze link's id (no server: 0). */
unsigned long
db_thread_id(const struct db *d)
{
	return 0;
}

unsigned
db_errno(const struct db *d)
{
	return d->err;
}

const char *
db_error(const struct db *d)
{
	return d->error;
}

/* The names the promotion quotes (lock name, binlog file) need no escape. */
char *
db_quote(struct db *d, const char *s)
{
	char *q;

	assert_null(strpbrk(s, "'\\\""));
	xasprintf(&q, "'%s'", s);
	return q;
}

int
db_set_column(const struct db_set *s, const char *name)
{
	for (unsigned c = 0; c < s->ncols; c++)
		if (strcasecmp(s->names[c], name) == 0)
			return (int)c;
	return -1;
}

const char *
db_set_value(const struct db_set *s, size_t r, const char *name)
{
	int c;

	if (r >= s->nrows || (c = db_set_column(s, name)) < 0)
		return NULL;
	return s->values[r * s->ncols + (size_t)c];
}

/* ---- the fakes: daemon/server.c ------------------------------------------ */

struct server *
server_new(struct daemon *d, const struct rw_endpoint *ep,
    const struct rw_target_config *cf, const char *name)
{
	struct server *s = xcalloc(1, sizeof *s);

	assert_string_equal(ep->host, "replica.example");
	s->db = db_fake('r');
	s->fl = S.rfl;
	return s;
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	cancel(&s->pending);
	db_free(s->db);
	replstatus_clear(&s->st);
	free(s);
}

int
server_open(struct server *s, server_cb cb, void *arg)
{
	const struct op *op = next_op("open r");
	struct pending *pd = pending_new(K_OPEN, op);

	pd->srv = s;
	pd->scb = cb;
	pd->arg = arg;
	s->pending = pd;
	schedule(pd);
	return 0;
}

int
server_replication(struct server *s, enum rw_repl_action act, server_cb cb,
    void *arg)
{
	const struct op *op = next_op("control %s", replctl_action_name(act));
	struct pending *pd = pending_new(K_CONTROL, op);

	pd->srv = s;
	pd->scb = cb;
	pd->act = act;
	pd->arg = arg;
	s->pending = pd;
	schedule(pd);
	return 0;
}

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

struct db *
server_db(struct server *s)
{
	return s->db;
}

struct rw_flavor *
server_flavor(struct server *s)
{
	return &s->fl;
}

const struct rw_status *
server_status(const struct server *s)
{
	return &s->st;
}

const char *
server_error(const struct server *s)
{
	return s->error;
}

const char *
server_note(const struct server *s)
{
	return "";
}

const char *
server_statement(const struct server *s)
{
	return s->statement;
}

/* ---- the fakes: hooks, fence, monitor, client, clock ------------------------ */

static const char *
env_get(char *const env[], const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

int
hooks_run(const char *what, const char *target, const char *command,
    unsigned timeout_ms, char *const env[], hook_done_fn cb, void *arg)
{
	const char *dir = env_get(env, "REPLWATCH_SWITCH_DIRECTION");
	const struct op *op;
	struct pending *pd;
	size_t n = 0;

	S.hook_env[0] = '\0';
	for (size_t i = 0; env[i] != NULL; i++)
		n += (size_t)snprintf(S.hook_env + n, sizeof S.hook_env - n,
		    "%s\n", env[i]);
	if (dir != NULL)
		op = next_op("hook %s %s to %s:%s", what, dir,
		    env_get(env, "REPLWATCH_NEW_MASTER_HOST"),
		    env_get(env, "REPLWATCH_NEW_MASTER_PORT"));
	else
		op = next_op("hook %s", what);
	if (cb == NULL)
		return 0;
	pd = pending_new(K_HOOK, op);
	pd->hcb = cb;
	pd->arg = arg;
	schedule(pd);
	return 0;
}

struct fence *
fence_hold(struct target *t, struct db *m, int mysql)
{
	struct fence *f = xcalloc(1, sizeof *f);
	char line[128];

	snprintf(line, sizeof line, "fence hold on %s, mysql %d",
	    m != NULL ? "the promotion's link" : "a new link", mysql);
	trace_add(line);
	f->m = m;
	return f;
}

void
fence_release(struct fence *f)
{
	if (f == NULL)
		return;
	trace_add("fence release");
	db_free(f->m);
	free(f);
}

cJSON *
fence_json(const struct fence *f)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "held", 1);
	return o;
}

void
monitor_set_state(struct target *t, enum rw_health st, const char *reason)
{
	t->health.state = st;
	snprintf(t->health.reason, sizeof t->health.reason, "%.*s",
	    (int)sizeof t->health.reason - 1, reason);
}

void
monitor_pause(struct target *t, int paused)
{
	t->paused = paused;
}

void
client_ok(struct client *c, long long id, cJSON *result)
{
	c->nok++;
	cJSON_Delete(c->result);
	c->result = result;
}

void
client_error(struct client *c, long long id, enum proto_err code,
    const char *fmt, ...)
{
	va_list ap;

	c->nerr++;
	c->code = code;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof c->msg, fmt, ap);
	va_end(ap);
}

void
client_event(struct client *c, long long id, cJSON *ev)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");

	if (cJSON_IsString(type) && strcmp(type->valuestring, "report") == 0) {
		cJSON_Delete(c->report);
		c->report = ev;
		return;
	}
	c->nsteps++;
	cJSON_Delete(ev);
}

void
client_stream_begin(struct client *c, long long id,
    void (*on_close)(struct client *, void *), void *arg)
{
	c->streaming = 1;
}

void
client_stream_end(struct client *c)
{
	c->streaming = 0;
}

static void
client_reset(struct client *c)
{
	cJSON_Delete(c->result);
	cJSON_Delete(c->report);
	memset(c, 0, sizeof *c);
}

#define BASE_UNIX_MS	1767225600000LL	/* 2026-01-01 */

int64_t
now_unix_ms(void)
{
	return BASE_UNIX_MS + (int64_t)(S.mono_us / 1000);
}

uint64_t
now_mono_us(void)
{
	return S.mono_us;
}

/* (All three, so lib/clock.o is never linked in beside these.) */
int64_t
now_mono_ms(void)
{
	return (int64_t)(S.mono_us / 1000);
}

/* ---- helpers for the tests ----------------------------------------------- */

static struct promotion *
P(void)
{
	assert_non_null(S.t.promotion);
	return S.t.promotion;
}

/* A field of a JSON object by a dotted path. */
static const cJSON *
jget(const cJSON *o, const char *path)
{
	char buf[128], *rest = buf, *k;

	snprintf(buf, sizeof buf, "%s", path);
	while (o != NULL && (k = strsep(&rest, ".")) != NULL)
		o = cJSON_GetObjectItemCaseSensitive(o, k);
	return o;
}

static const char *
jstr(const cJSON *o, const char *path)
{
	const cJSON *v = jget(o, path);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Does a string of the array contain needle? */
static int
has(const cJSON *arr, const char *needle)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, arr)
		if (cJSON_IsString(x) && strstr(x->valuestring, needle) != NULL)
			return 1;
	return 0;
}

static cJSON *
journal_doc(void)
{
	char *path = journal_path(S.dir, "db1"), err[512];
	cJSON *doc = NULL;

	assert_int_equal(journal_load(path, &doc, err, sizeof err), 0);
	free(path);
	return doc;
}

/* The journal's state and its "changed" list, as "state: a,b". */
static const char *
journal_says(void)
{
	static char buf[512];
	cJSON *doc = journal_doc();
	const cJSON *x;
	const char *st;
	size_t n;

	assert_non_null(doc);
	st = jstr(doc, "state");
	n = (size_t)snprintf(buf, sizeof buf, "%s:", st != NULL ? st : "?");
	cJSON_ArrayForEach(x, jget(doc, "changed"))
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s",
		    buf[n - 1] == ':' ? " " : ",", x->valuestring);
	cJSON_Delete(doc);
	return buf;
}

/* A journal as a daemon killed during a promotion would have left it. */
static void
write_journal(enum promo_outcome out, enum promo_step cur, unsigned changes)
{
	struct promo_record r;
	char *path = journal_path(S.dir, "db1"), err[512];
	cJSON *o;

	promorec_init(&r);
	r.outcome = out;
	r.cur = cur;
	r.changes = changes;
	r.freeze = 1;
	r.master_orig_ro = 0;
	r.replica_orig_ro = 1;
	r.started_ms = BASE_UNIX_MS - 60000;
	r.freeze_ms = BASE_UNIX_MS - 59000;
	for (int i = 0; i < (int)cur; i++)
		r.steps[i].st = PSS_DONE;
	r.steps[cur].st = out == PO_PROMOTED ? PSS_DONE : PSS_RUNNING;
	r.have_final = 1;
	snprintf(r.final_file, sizeof r.final_file, "master-bin.000003");
	snprintf(r.final_pos, sizeof r.final_pos, "1500");
	snprintf(r.final_source, sizeof r.final_source, "master at the freeze");
	o = promorec_journal(&r, "db1");
	assert_int_equal(journal_write(path, o, err, sizeof err), 0);
	cJSON_Delete(o);
	promorec_clear(&r);
	free(path);
}

static struct promote_opts
opts(int freeze, int force, double timeout_s)
{
	struct promote_opts o = { .freeze = freeze, .force = force,
	    .max_lag_s = 10, .timeout_s = timeout_s };

	return o;
}

/* Start a promotion by its script and run it to its end. */
static void
promote(const struct op *ops, struct promote_opts o)
{
	script(ops);
	promote_start(&S.t, &S.cl, 1, &o);
	drive(1);
	script_done();
}

static void
resume(const struct op *ops, struct client *c)
{
	struct promote_opts o = opts(1, 0, 5);

	o.resume = 1;
	script(ops);
	promote_start(&S.t, c, 2, &o);
	drive(1);
	script_done();
}

static void
replica_mariadb(void)
{
	flavor_detect(&S.rfl, FLAVOR_AUTO, "10.11.6-MariaDB-log",
	    "MariaDB Server", NULL);
}

static void
replica_rds_mysql(void)
{
	flavor_detect(&S.rfl, FLAVOR_AUTO, "8.0.36", "Source distribution",
	    "rds_set_external_master,rds_start_replication,"
	    "rds_stop_replication,rds_reset_external_master");
}

static int
setup(void **state)
{
	memset(&S, 0, sizeof S);
	S.base = event_base_new();
	assert_non_null(S.base);
	/* The journal fsyncs at every step: a tmpfs keeps that quick. */
	snprintf(S.dir, sizeof S.dir, "%s/test_promote.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	assert_non_null(mkdtemp(S.dir));
	S.conf.state_dir = S.dir;
	S.cf.name = "db1";
	S.cf.replica.host = "replica.example";
	S.cf.replica.port = 3306;
	S.cf.master.host = "master.example";
	S.cf.master.port = 3306;
	S.cf.connect_timeout_ms = 1000;
	S.cf.query_timeout_ms = 1000;
	S.cf.procedure_timeout_ms = 5000;
	S.cf.hook_timeout_ms = 5000;
	S.cf.on_switch = "move-the-application";
	S.cf.on_promoted = "tell-the-team";
	S.d.base = S.base;
	S.d.conf = &S.conf;
	S.t.d = &S.d;
	S.t.cf = &S.cf;
	snprintf(S.t.name, sizeof S.t.name, "db1");
	S.t.lag_ms = 0;
	S.t.read_only = -1;
	health_init(&S.t.health);
	S.t.health.state = HEALTH_OK;
	S.mono_us = 1000000;
	replica_mariadb();
	return 0;
}

static int
teardown(void **state)
{
	struct pending *pd;
	char *path = journal_path(S.dir, "db1");

	promote_free(&S.t);
	for (pd = S.all; pd != NULL; pd = pd->next)
		pd->cancelled = 1;
	/* -1: a failed check left the loop running (longjmp): just free. */
	for (int i = 0; S.inflight > 0 && i < 1000; i++)
		if (event_base_loop(S.base, EVLOOP_NONBLOCK) == -1)
			break;
	while ((pd = S.all) != NULL) {
		S.all = pd->next;
		free(pd);
	}
	event_base_free(S.base);
	client_reset(&S.cl);
	client_reset(&S.cl2);
	unlink(path);
	free(path);
	rmdir(S.dir);
	return 0;
}

/* ---- the scripts' parts ---------------------------------------------------- */

#define BINLOG		"master-bin.000003"
#define LOCK_SQL	"r SELECT GET_LOCK('replwatch.promote.db1', 0) AS got"
#define R_STATUS	"r SHOW REPLICA STATUS"
#define R_RO		"r SELECT @@global.read_only AS ro"
#define PROBE_MARIADB	"version|version_comment|routine;" \
			"10.11.6-MariaDB-log|MariaDB Server|NULL"
#define PROBE_MYSQL	"version|version_comment|routine;" \
			"8.0.36|MySQL Community Server - GPL|NULL"
#define MYSQL_GTID	"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-57"
#define SESSIONS	"id|user|host;41|app|10.0.0.5:50100;42|app|10.0.0.6:50200"
#define POSITION(pos)	"File|Position;" BINLOG "|" pos

/* A status row: read and executed positions of BINLOG, lag, SQL error. */
#define STATUS(io, sql, read, exec, sbm, sql_errno, sql_error) \
	"Slave_IO_Running|Slave_SQL_Running|Master_Log_File|" \
	"Read_Master_Log_Pos|Relay_Master_Log_File|Exec_Master_Log_Pos|" \
	"Seconds_Behind_Master|Last_SQL_Errno|Last_SQL_Error;" \
	io "|" sql "|" BINLOG "|" read "|" BINLOG "|" exec "|" sbm "|" \
	sql_errno "|" sql_error
#define RUNNING(pos)	STATUS("Yes", "Yes", pos, pos, "0", "0", "")
#define STOPPED(pos)	STATUS("No", "No", pos, pos, "NULL", "0", "")
#define NO_REPLICATION	""

/* Preflight on the replica. */
#define R_PREFLIGHT(ro) \
	OK("open r", NULL), \
	OK(LOCK_SQL, "got;1"), \
	OK(R_STATUS, RUNNING("1000")), \
	OK(R_RO, "ro;" ro)

/* Preflight on a MariaDB old master with read_only ro. */
#define MARIADB_MASTER(ro) \
	OK("connect m", NULL), \
	OK("m SELECT VERSION() AS version", PROBE_MARIADB), \
	OK("m SELECT @@global.read_only AS ro, NULL AS sro", \
	    "ro|sro;" ro "|NULL"), \
	OK("m SELECT DISTINCT GRANTEE AS who", "who;'dba'@'%'")

/* The replica is 300 bytes behind: freeze at once. */
#define NEAR \
	OK("m SHOW BINLOG STATUS", POSITION("1200")), \
	OK(R_STATUS, RUNNING("900"))

#define FREEZE_STATEMENTS \
	OK("m SET SESSION lock_wait_timeout = 2", NULL), \
	OK("m SET GLOBAL read_only = ON", NULL), \
	OK("m FLUSH TABLES WITH READ LOCK", NULL)

/* Two sessions ended; the final position is 1500. */
#define FINAL \
	OK("m SELECT ID AS id, USER AS user, HOST AS host", SESSIONS), \
	OK("m KILL CONNECTION 41", NULL), \
	OK("m KILL CONNECTION 42", NULL), \
	OK("m SHOW BINLOG STATUS", POSITION("1500")), \
	OK("m SELECT @@global.gtid_binlog_pos AS gtid", "gtid;0-1-100")

#define POS_WAIT(pos)	"r SELECT MASTER_POS_WAIT('" BINLOG "', " pos ", "

#define CAUGHT_UP \
	OK(POS_WAIT("1500"), "w;2"), \
	OK(R_STATUS, RUNNING("1500"))

#define SWITCH_FORWARD	"hook on_switch forward to replica.example:3306"
#define SWITCH_BACK	"hook on_switch back to master.example:3306"

/* stop, reset, verify */
#define TAIL(pos, ro) \
	OK("control stop", STOPPED(pos)), \
	OK("control reset", NO_REPLICATION), \
	OK(R_STATUS, NO_REPLICATION), \
	OK(R_RO, "ro;" ro)

/* ---- the tests ----------------------------------------------------------- */

/*
 * A self-managed MariaDB replica with read_only ON and a MariaDB master:
 * every step, the replica made writable at the switch, the fence held on
 * the promotion's own link, then released by request.
 */
static void
test_happy_path(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("1"), MARIADB_MASTER("0"), NEAR, FREEZE_STATEMENTS,
		FINAL,
		LATER(80, POS_WAIT("1500"), "w;2"),
		OK(R_STATUS, RUNNING("1500")),
		OK("r SET GLOBAL read_only = OFF", NULL),
		LATER(20, SWITCH_FORWARD, NULL),
		TAIL("1500", "0"),
		OK("hook on_promoted", NULL),
		END
	};
	struct promotion *p;
	const cJSON *rep;

	promote(ops, opts(1, 0, 5));
	p = P();
	assert_int_equal(p->rec.outcome, PO_PROMOTED);
	for (int s = 0; s < PS__COUNT; s++)
		assert_int_equal(p->rec.steps[s].st, PSS_DONE);
	assert_string_equal(p->rec.reason, "promoted at " BINLOG ":1500");
	assert_string_equal(p->rec.final_gtid, "0-1-100");
	assert_int_equal(p->rec.killed, 2);
	/* Writes were blocked from the freeze to the switch: 80 + 20 ms. */
	assert_true(p->rec.write_blocked_ms == 100.0);
	assert_non_null(strstr(S.hook_env, "REPLWATCH_WRITE_BLOCKED_MS=100.0\n"));
	assert_non_null(strstr(S.hook_env, "REPLWATCH_FINAL_FILE=" BINLOG "\n"));
	assert_int_equal(p->rec.replica_orig_ro, 1);
	assert_int_equal(p->rec.replica_ro, 0);

	/* The client's report. */
	assert_int_equal(S.cl.nok, 1);
	assert_int_equal(S.cl.nerr, 0);
	assert_int_equal(S.cl.streaming, 0);
	assert_true(S.cl.nsteps >= 2 * PS__COUNT);
	rep = S.cl.result;
	assert_string_equal(jstr(rep, "outcome"), "promoted");
	assert_true(cJSON_IsTrue(jget(rep, "hooks.on_switch.ok")));
	assert_true(cJSON_IsTrue(jget(rep, "hooks.on_promoted.ok")));
	assert_true(cJSON_IsTrue(jget(rep, "fence.locked")));
	assert_true(has(jget(rep, "fence.can_still_write"), "'dba'@'%'"));
	assert_true(has(jget(rep, "todo"), "stays read-only and fenced"));

	assert_int_equal(S.t.health.state, HEALTH_PROMOTED);
	assert_int_equal(S.t.paused, 0);
	assert_int_equal(trace_count("fence hold on the promotion's link, "
	    "mysql 0"), 1);
	assert_null(p->m);	/* the fence owns the link */
	assert_string_equal(journal_says(), "promoted: master_read_only,"
	    "master_locked,sessions_killed,replica_writable,switch_sent,"
	    "switched,stop_sent,stopped,reset_sent,reset_done");

	/* unfence: the lock ends, the journal says so; once only. */
	promote_unfence(&S.t, &S.cl2, 7);
	assert_int_equal(trace_count("fence release"), 1);
	assert_true(cJSON_IsTrue(jget(S.cl2.result, "released")));
	assert_null(p->fence);
	assert_non_null(strstr(journal_says(), ",fence_released"));
	promote_unfence(&S.t, &S.cl2, 8);
	assert_int_equal(S.cl2.nerr, 1);
	assert_int_equal(S.cl2.code, PERR_NOT_FOUND);
}

/*
 * A MySQL old master gets super_read_only at the freeze; the SQL thread
 * fails during the catch-up (after a position wait that says NULL): the
 * lock, super_read_only and read_only are undone, latest first.  The
 * replica is RDS MySQL with read_only OFF.
 */
static void
test_mysql_master_rollback(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("0"),
		OK("connect m", NULL),
		OK("m SELECT VERSION() AS version", PROBE_MYSQL),
		OK("m SELECT @@global.read_only AS ro, "
		    "@@global.super_read_only AS sro", "ro|sro;0|0"),
		OK("m SELECT DISTINCT GRANTEE AS who", "who;'root'@'localhost'"),
		OK("m SHOW MASTER STATUS", POSITION("1200")),
		OK(R_STATUS, RUNNING("1100")),
		OK("m SET SESSION lock_wait_timeout = 2", NULL),
		OK("m SET GLOBAL read_only = ON", NULL),
		OK("m SET GLOBAL super_read_only = ON", NULL),
		OK("m FLUSH TABLES WITH READ LOCK", NULL),
		OK("m SELECT ID AS id", "id|user|host"),
		OK("m SHOW MASTER STATUS", POSITION("1500")),
		OK("m SELECT @@global.gtid_executed AS gtid", "gtid;" MYSQL_GTID),
		OK("r SELECT SOURCE_POS_WAIT('" BINLOG "', 1500, 5)", "w;NULL"),
		OK(R_STATUS, STATUS("Yes", "No", "1500", "1400", "NULL", "1062",
		    "Duplicate entry '7' for key 'PRIMARY'")),
		OK("m UNLOCK TABLES", NULL),
		OK("m SET GLOBAL super_read_only = OFF", NULL),
		OK("m SET GLOBAL read_only = OFF", NULL),
		END
	};
	struct promotion *p;

	replica_rds_mysql();
	promote(ops, opts(1, 0, 5));
	p = P();
	assert_int_equal(p->rec.outcome, PO_ABORTED);
	assert_string_equal(p->rec.reason, "catchup failed: the SQL thread "
	    "stopped during catch-up: 1062 Duplicate entry '7' for key "
	    "'PRIMARY'; rolled back");
	assert_int_equal(p->rec.steps[PS_FREEZE].st, PSS_DONE);
	assert_int_equal(p->rec.steps[PS_CATCHUP].st, PSS_FAILED);
	assert_int_equal(p->rec.steps[PS_SWITCH].st, PSS_PENDING);
	assert_int_equal(p->rec.master_orig_sro, 0);
	assert_int_equal(p->rec.changes, 0);
	assert_true(has(p->rec.still_write, "super_read_only is ON"));
	assert_false(has(p->rec.todo, "rollback incomplete"));
	assert_false(has(p->rec.todo, "still read-only"));
	assert_int_equal(S.cl.nerr, 1);
	assert_int_equal(S.cl.code, PERR_ABORTED);
	assert_string_equal(jstr(S.cl.report, "outcome"), "aborted");
	assert_int_equal(S.t.health.state, HEALTH_UNKNOWN);
	assert_int_equal(S.t.paused, 0);
	assert_int_equal(trace_count("fence"), 0);
	assert_string_equal(journal_says(), "aborted:");
}

/*
 * The freeze waits until the replica is within 64 KiB of the master;
 * FLUSH TABLES WITH READ LOCK meets a lock wait once and is sent again; a
 * session that is gone by the KILL is passed over.  No hooks configured.
 */
static void
test_freeze_near_retry_gone(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("0"), MARIADB_MASTER("0"),
		OK("m SHOW BINLOG STATUS", POSITION("500000")),
		OK(R_STATUS, RUNNING("1000")),		/* 499000 behind */
		OK("m SHOW BINLOG STATUS", POSITION("500000")),
		OK(R_STATUS, RUNNING("440000")),	/* 60000: near */
		OK("m SET SESSION lock_wait_timeout = 2", NULL),
		OK("m SET GLOBAL read_only = ON", NULL),
		ERR("m FLUSH TABLES WITH READ LOCK", 1205,
		    "Lock wait timeout exceeded; try restarting transaction"),
		OK("m FLUSH TABLES WITH READ LOCK", NULL),
		OK("m SELECT ID AS id", SESSIONS),
		ERR("m KILL CONNECTION 41", 1094, "Unknown thread id: 41"),
		OK("m KILL CONNECTION 42", NULL),
		OK("m SHOW BINLOG STATUS", POSITION("500100")),
		OK("m SELECT @@global.gtid_binlog_pos AS gtid", "gtid;0-1-900"),
		OK(POS_WAIT("500100"), "w;0"),
		OK(R_STATUS, RUNNING("500100")),
		TAIL("500100", "0"),
		END
	};
	uint64_t t0 = S.mono_us;
	struct promotion *p;

	S.cf.on_switch = S.cf.on_promoted = NULL;
	promote(ops, opts(1, 0, 5));
	p = P();
	assert_int_equal(p->rec.outcome, PO_PROMOTED);
	assert_int_equal(S.mono_us - t0, NEAR_POLL_US);	/* one wait */
	assert_int_equal(p->freeze_tries, 1);
	assert_int_equal(p->rec.killed, 1);
	assert_int_equal(trace_count("m FLUSH TABLES WITH READ LOCK"), 2);
	assert_true(has(p->rec.todo, "no on_switch command is configured"));
	assert_false(p->rec.on_switch.ran);
	assert_false(p->rec.on_promoted.ran);
	assert_true(cJSON_IsNull(jget(S.cl.result, "hooks.on_switch")));
	assert_int_equal(trace_count("fence hold on the promotion's link"), 1);
}

/* The freeze's lock wait, three times: given up, rolled back. */
static void
test_lock_wait_exhausted(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("0"), MARIADB_MASTER("0"), NEAR,
		OK("m SET SESSION lock_wait_timeout = 2", NULL),
		OK("m SET GLOBAL read_only = ON", NULL),
		ERR("m FLUSH TABLES WITH READ LOCK", 1205, "Lock wait timeout"),
		ERR("m FLUSH TABLES WITH READ LOCK", 1205, "Lock wait timeout"),
		ERR("m FLUSH TABLES WITH READ LOCK", 1205, "Lock wait timeout"),
		OK("m UNLOCK TABLES", NULL),
		OK("m SET GLOBAL read_only = OFF", NULL),
		END
	};
	struct promotion *p;

	promote(ops, opts(1, 0, 5));
	p = P();
	assert_int_equal(p->rec.outcome, PO_ABORTED);
	assert_string_equal(p->rec.reason, "freeze failed: Lock wait timeout; "
	    "rolled back");
	assert_int_equal(p->rec.steps[PS_FREEZE].st, PSS_FAILED);
	assert_int_equal(p->rec.changes, 0);
	assert_int_equal(S.cl.code, PERR_ABORTED);
	assert_string_equal(journal_says(), "aborted:");
}

/* --no-freeze while the master's binary log moves: refused, unchanged. */
static void
test_no_freeze_moving_refused(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("0"), MARIADB_MASTER("0"),
		OK("m SHOW BINLOG STATUS", POSITION("1200")),
		OK("m SHOW BINLOG STATUS", POSITION("1350")),
		END
	};
	uint64_t t0 = S.mono_us;
	struct promotion *p;

	promote(ops, opts(0, 0, 5));
	p = P();
	assert_int_equal(S.mono_us - t0, MOVE_CHECK_US);
	assert_int_equal(p->rec.outcome, PO_ABORTED);
	assert_int_equal(p->rec.changes, 0);
	assert_int_equal(p->rec.steps[PS_PREFLIGHT].st, PSS_FAILED);
	assert_int_equal(S.cl.code, PERR_PRECONDITION);
	assert_non_null(strstr(S.cl.msg, "--no-freeze while the old master's "
	    "binary log moves (" BINLOG ":1200 -> " BINLOG ":1350 in 300 ms)"));
	assert_true(has(p->rec.still_write, "everyone"));
	assert_int_equal(S.t.health.state, HEALTH_UNKNOWN);
	assert_string_equal(journal_says(), "aborted:");
}

/*
 * --no-freeze --force goes on: the freeze is skipped, the catch-up is to
 * the master's position at its start, and no fence is held.
 */
static void
test_no_freeze_forced(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("0"), MARIADB_MASTER("0"),
		OK("m SHOW BINLOG STATUS", POSITION("1200")),
		OK("m SHOW BINLOG STATUS", POSITION("1350")),
		OK("m SHOW BINLOG STATUS", POSITION("1400")),
		OK("m SELECT @@global.gtid_binlog_pos AS gtid", "gtid;0-1-90"),
		OK(POS_WAIT("1400"), "w;0"),
		OK(R_STATUS, RUNNING("1400")),
		OK(SWITCH_FORWARD, NULL),
		TAIL("1400", "0"),
		OK("hook on_promoted", NULL),
		END
	};
	struct promotion *p;

	promote(ops, opts(0, 1, 5));
	p = P();
	assert_int_equal(p->rec.outcome, PO_PROMOTED);
	assert_int_equal(p->rec.steps[PS_FREEZE].st, PSS_SKIPPED);
	assert_string_equal(p->rec.final_source,
	    "master before the catch-up (not frozen)");
	assert_true(p->rec.write_blocked_ms < 0);
	assert_true(has(p->rec.todo, "forced past: --no-freeze"));
	assert_true(has(p->rec.todo, "the old master was not frozen"));
	assert_false(CH(p, CH_MASTER_RO) || CH(p, CH_MASTER_LOCKED));
	assert_int_equal(trace_count("fence"), 0);
	assert_true(cJSON_IsNull(jget(S.cl.result, "write_blocked_ms")));
}

/*
 * An RDS replica with read_only ON is refused (its parameter group decides)
 * before the master is touched; a lock held by another promotion is busy.
 */
static void
test_rds_read_only_refused(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("1"),
		END
	};
	static const struct op busy[] = {
		OK("open r", NULL),
		OK(LOCK_SQL, "got;0"),
		END
	};
	struct promotion *p;

	replica_rds_mysql();
	promote(ops, opts(1, 0, 5));
	p = P();
	assert_int_equal(p->rec.outcome, PO_ABORTED);
	assert_int_equal(p->rec.changes, 0);
	assert_int_equal(S.cl.code, PERR_PRECONDITION);
	assert_non_null(strstr(S.cl.msg, "read_only is ON on the RDS replica"));
	assert_int_equal(trace_count("connect m"), 0);

	script(busy);
	promote_start(&S.t, &S.cl2, 2, &(struct promote_opts){ .freeze = 1,
	    .max_lag_s = 10, .timeout_s = 5 });
	drive(1);
	script_done();
	assert_int_equal(S.cl2.code, PERR_BUSY);
	assert_non_null(strstr(S.cl2.msg, "holds the lock"));
}

/*
 * --force goes past it, with a todo; without a master the freeze is
 * skipped and the catch-up polls until the replica applied all it received.
 * RDS: nothing sets read_only on the replica.
 */
static void
test_rds_read_only_forced_no_master(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("1"),
		OK(R_STATUS, STATUS("Yes", "Yes", "2000", "1500", "1", "0", "")),
		OK(R_STATUS, RUNNING("2000")),
		OK(SWITCH_FORWARD, NULL),
		TAIL("2000", "1"),
		OK("hook on_promoted", NULL),
		END
	};
	struct promotion *p;
	uint64_t t0 = S.mono_us;

	replica_rds_mysql();
	S.cf.master.host = NULL;
	promote(ops, opts(1, 1, 5));
	p = P();
	assert_int_equal(p->rec.outcome, PO_PROMOTED);
	assert_int_equal(S.mono_us - t0, POLL_US);
	assert_int_equal(p->rec.steps[PS_FREEZE].st, PSS_SKIPPED);
	assert_true(has(p->rec.todo, "forced past: read_only is ON on the "
	    "RDS replica"));
	assert_true(has(p->rec.todo, "no old master configured"));
	assert_true(has(p->rec.todo, "read_only is ON on the RDS instance"));
	assert_false(CH(p, CH_REPLICA_RW));
	assert_int_equal(p->rec.replica_ro, 1);
	assert_string_equal(jstr(S.cl.result, "final.source"),
	    "replica at the stop");
	assert_string_equal(jstr(S.cl.result, "final.log_pos"), "2000");
	assert_int_equal(trace_count("fence"), 0);
}

/*
 * The catch-up times out (the position wait says -1, then the status
 * polls): the master is unlocked and read_only goes back to what it was,
 * ON here.  The replica is never touched; on_promote_failed is told.
 */
static void
test_catchup_timeout_rollback(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("0"), MARIADB_MASTER("1"), NEAR, FREEZE_STATEMENTS,
		FINAL,
		OK(POS_WAIT("1500") "1)", "w;-1"),
		OK(R_STATUS, RUNNING("1300")),
		OK(R_STATUS, RUNNING("1300")),
		OK(R_STATUS, RUNNING("1300")),
		OK(R_STATUS, RUNNING("1300")),
		OK("m UNLOCK TABLES", NULL),
		OK("m SET GLOBAL read_only = ON", NULL),
		OK("hook on_promote_failed", NULL),
		END
	};
	struct promotion *p;

	S.cf.on_promote_failed = "page-someone";
	promote(ops, opts(1, 0, 0.03));
	p = P();
	assert_int_equal(p->rec.outcome, PO_ABORTED);
	assert_string_equal(p->rec.reason, "catchup failed: catch-up timed out "
	    "after 0.03 s at " BINLOG ":1300 (final " BINLOG ":1500); rolled "
	    "back");
	assert_int_equal(p->rec.changes, CH_SESSIONS_KILLED);
	assert_int_equal(S.cl.code, PERR_ABORTED);
	assert_string_equal(journal_says(), "aborted: sessions_killed");
	assert_non_null(strstr(S.hook_env, "REPLWATCH_OUTCOME=aborted\n"));
}

/*
 * The switch hook fails: the replica read-only again, the hook run back,
 * the master unlocked and writable; replication was never stopped.
 */
static void
test_switch_fails_rollback(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("1"), MARIADB_MASTER("0"), NEAR, FREEZE_STATEMENTS,
		FINAL, CAUGHT_UP,
		OK("r SET GLOBAL read_only = OFF", NULL),
		ERR(SWITCH_FORWARD, 0, "exit status 3: the proxy said no"),
		OK("r SET GLOBAL read_only = ON", NULL),
		OK(SWITCH_BACK, NULL),
		OK("m UNLOCK TABLES", NULL),
		OK("m SET GLOBAL read_only = OFF", NULL),
		END
	};
	struct promotion *p;

	promote(ops, opts(1, 0, 5));
	p = P();
	assert_int_equal(p->rec.outcome, PO_ABORTED);
	assert_string_equal(p->rec.reason, "switch failed: exit status 3: the "
	    "proxy said no; rolled back");
	assert_int_equal(p->rec.steps[PS_SWITCH].st, PSS_FAILED);
	assert_int_equal(p->rec.changes, CH_SESSIONS_KILLED | CH_SWITCH_BACK);
	assert_non_null(strstr(S.hook_env, "REPLWATCH_OLD_MASTER_HOST="
	    "replica.example\n"));
	assert_false(has(p->rec.todo, "rollback incomplete"));
	assert_false(has(p->rec.todo, "may still be"));
	assert_int_equal(S.cl.code, PERR_ABORTED);
	assert_int_equal(trace_count("control"), 0);
	assert_string_equal(journal_says(), "aborted: sessions_killed,"
	    "switched_back");
}

/*
 * The stop fails after the switch: interrupted, nothing rolled back, abort
 * refused, a new promotion refused; --resume stops, resets and verifies.
 */
static void
test_stop_fails_then_resume(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("1"), MARIADB_MASTER("0"), NEAR, FREEZE_STATEMENTS,
		FINAL, CAUGHT_UP,
		OK("r SET GLOBAL read_only = OFF", NULL),
		OK(SWITCH_FORWARD, NULL),
		ERR("control stop", 0, "STOP SLAVE: timed out after 5000 ms"),
		END
	};
	static const struct op resumed[] = {
		OK("open r", NULL),
		OK(LOCK_SQL, "got;1"),
		OK(R_STATUS, STOPPED("1500")),
		TAIL("1500", "0"),
		OK("hook on_promoted", NULL),
		END
	};
	struct promotion *p;

	promote(ops, opts(1, 0, 5));
	p = P();
	assert_int_equal(p->rec.outcome, PO_INTERRUPTED);
	assert_string_equal(p->rec.reason, "failed after the switch (stop): "
	    "STOP SLAVE: timed out after 5000 ms; run promote --resume");
	assert_int_equal(p->rec.steps[PS_STOP].st, PSS_FAILED);
	assert_int_equal(S.cl.code, PERR_SERVER_ERROR);
	assert_int_equal(S.t.health.state, HEALTH_PROMOTION_INTERRUPTED);
	assert_int_equal(S.t.paused, 0);
	assert_true(CH(p, CH_SWITCHED));

	promote_abort(&S.t, &S.cl2, 3);
	assert_int_equal(S.cl2.code, PERR_PRECONDITION);
	assert_non_null(strstr(S.cl2.msg, "the switch has happened"));
	promote_start(&S.t, &S.cl2, 4, &(struct promote_opts){ .freeze = 1,
	    .max_lag_s = 10, .timeout_s = 5 });
	assert_non_null(strstr(S.cl2.msg, "use --resume, or abort it"));
	assert_int_equal(S.cl2.nerr, 2);

	client_reset(&S.cl2);
	resume(resumed, &S.cl2);
	assert_ptr_equal(P(), p);
	assert_int_equal(p->rec.outcome, PO_PROMOTED);
	assert_int_equal(p->rec.steps[PS_PREFLIGHT].st, PSS_DONE);
	assert_int_equal(p->rec.steps[PS_STOP].st, PSS_DONE);
	assert_int_equal(p->rec.steps[PS_VERIFY].st, PSS_DONE);
	assert_string_equal(jstr(S.cl2.result, "outcome"), "promoted");
	assert_int_equal(S.t.health.state, HEALTH_PROMOTED);
	/* Fenced, once (at the interruption or, as now, at the end). */
	assert_non_null(p->fence);
	assert_int_equal(trace_count("fence hold"), 1);
	assert_string_equal(journal_says(), "promoted: master_read_only,"
	    "master_locked,sessions_killed,replica_writable,switch_sent,"
	    "switched,stop_sent,stopped,reset_sent,reset_done");
}

/*
 * The reset fails after the switch; on --resume the replica shows no
 * replication: the reset had happened, on to verify.  No master, no hooks.
 */
static void
test_resume_not_configured(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("0"),
		OK(R_STATUS, RUNNING("1000")),
		OK("control stop", STOPPED("1000")),
		ERR("control reset", 0, "RESET REPLICA ALL: connection lost"),
		END
	};
	static const struct op resumed[] = {
		OK("open r", NULL),
		OK(LOCK_SQL, "got;1"),
		OK(R_STATUS, NO_REPLICATION),
		OK(R_STATUS, NO_REPLICATION),
		OK(R_RO, "ro;0"),
		END
	};
	struct promotion *p;

	S.cf.master.host = NULL;
	S.cf.on_switch = S.cf.on_promoted = NULL;
	promote(ops, opts(1, 0, 5));
	p = P();
	assert_int_equal(p->rec.outcome, PO_INTERRUPTED);
	assert_int_equal(p->rec.steps[PS_RESET].st, PSS_FAILED);

	resume(resumed, &S.cl2);
	assert_int_equal(p->rec.outcome, PO_PROMOTED);
	assert_int_equal(p->rec.steps[PS_RESET].st, PSS_DONE);
	assert_string_equal(p->rec.steps[PS_RESET].detail, "no replication "
	    "configured: the reset had completed");
	assert_int_equal(p->rec.steps[PS_VERIFY].st, PSS_DONE);
	assert_true(CH(p, CH_RESET_DONE));
	assert_string_equal(jstr(S.cl2.result, "final.log_pos"), "1000");
}

/*
 * A journal of a daemon killed during the switch hook: interrupted; abort
 * rolls back on fresh links (the replica read-only, the hook back, the
 * master writable; its lock died with the daemon).
 */
static void
test_journal_abort_rolls_back(void **state)
{
	static const struct op ops[] = {
		OK("open r", NULL),
		OK("r SET GLOBAL read_only = ON", NULL),
		OK(SWITCH_BACK, NULL),
		OK("connect m", NULL),
		OK("m SET GLOBAL read_only = OFF", NULL),
		END
	};
	struct promotion *p;

	write_journal(PO_RUNNING, PS_SWITCH, CH_MASTER_RO | CH_MASTER_LOCKED |
	    CH_SESSIONS_KILLED | CH_REPLICA_RW | CH_SWITCH_SENT);
	promote_load(&S.t);
	p = P();
	assert_int_equal(p->rec.outcome, PO_INTERRUPTED);
	assert_int_equal(S.t.health.state, HEALTH_PROMOTION_INTERRUPTED);
	assert_non_null(strstr(p->rec.reason, "during the switch step; run "
	    "promote --resume (or abort to roll back)"));
	assert_int_equal(trace_count("fence"), 0);

	script(ops);
	promote_abort(&S.t, &S.cl, 5);
	assert_true(cJSON_IsTrue(jget(S.cl.result, "aborted")));
	assert_int_equal(S.t.paused, 1);
	drive(1);
	script_done();
	assert_int_equal(p->rec.outcome, PO_ABORTED);
	assert_string_equal(p->rec.reason, "interrupted promotion rolled back "
	    "by request");
	assert_int_equal(S.t.health.state, HEALTH_UNKNOWN);
	assert_int_equal(S.t.paused, 0);
	assert_string_equal(journal_says(), "aborted: sessions_killed,"
	    "switched_back");

	/* Nothing left to abort. */
	promote_abort(&S.t, &S.cl2, 6);
	assert_int_equal(S.cl2.code, PERR_NOT_FOUND);
}

/* Switched in the journal: no abort; --resume finishes it. */
static void
test_journal_switched_abort_refused(void **state)
{
	static const struct op none[] = { END };
	static const struct op resumed[] = {
		OK("open r", NULL),
		OK(LOCK_SQL, "got;1"),
		OK(R_STATUS, RUNNING("1500")),
		TAIL("1500", "0"),
		OK("hook on_promoted", NULL),
		END
	};

	write_journal(PO_RUNNING, PS_STOP, CH_MASTER_RO | CH_MASTER_LOCKED |
	    CH_REPLICA_RW | CH_SWITCH_SENT | CH_SWITCHED | CH_STOP_SENT);
	promote_load(&S.t);
	assert_non_null(strstr(P()->rec.reason, "(the switch is done: there is "
	    "no way back)"));
	script(none);
	promote_abort(&S.t, &S.cl, 5);
	drive(1);
	assert_int_equal(S.cl.nerr, 1);
	assert_int_equal(S.cl.code, PERR_PRECONDITION);
	assert_non_null(strstr(S.cl.msg, "the switch has happened"));
	assert_int_equal(P()->rec.outcome, PO_INTERRUPTED);

	resume(resumed, &S.cl2);
	assert_int_equal(P()->rec.outcome, PO_PROMOTED);
	assert_int_equal(P()->rec.steps[PS_PREFLIGHT].st, PSS_DONE);
	assert_string_equal(P()->rec.reason, "promoted at " BINLOG ":1500");
}

/*
 * A journal of a promotion killed during the catch-up, replication found
 * stopped: --resume starts it again and redoes the freeze (the lock died
 * with the daemon), then on to the end.
 */
static void
test_journal_resume_before_switch(void **state)
{
	static const struct op resumed[] = {
		OK("open r", NULL),
		OK(LOCK_SQL, "got;1"),
		OK(R_STATUS, STOPPED("1200")),
		OK("control start", RUNNING("1200")),
		OK("connect m", NULL),
		OK("m SELECT VERSION() AS version", PROBE_MARIADB),
		OK("m SELECT @@global.read_only AS ro", "ro|sro;1|NULL"),
		NEAR, FREEZE_STATEMENTS, FINAL, CAUGHT_UP,
		OK("r SET GLOBAL read_only = OFF", NULL),
		OK(SWITCH_FORWARD, NULL),
		TAIL("1500", "0"),
		OK("hook on_promoted", NULL),
		END
	};
	struct promotion *p;

	write_journal(PO_RUNNING, PS_CATCHUP, CH_MASTER_RO | CH_MASTER_LOCKED |
	    CH_SESSIONS_KILLED);
	promote_load(&S.t);
	resume(resumed, &S.cl);
	p = P();
	assert_int_equal(p->rec.outcome, PO_PROMOTED);
	/* The journal's value from before the first freeze wins. */
	assert_int_equal(p->rec.master_orig_ro, 0);
	assert_int_equal(p->rec.steps[PS_FREEZE].st, PSS_DONE);
	assert_int_equal(trace_count("fence hold on the promotion's link"), 1);
}

/* A promoted journal: the fence is taken again; unfence releases it. */
static void
test_journal_promoted_refence(void **state)
{
	write_journal(PO_PROMOTED, PS_DONE, CH_MASTER_RO | CH_MASTER_LOCKED |
	    CH_SWITCH_SENT | CH_SWITCHED | CH_STOP_SENT | CH_STOPPED |
	    CH_RESET_SENT | CH_RESET_DONE);
	promote_load(&S.t);
	assert_int_equal(S.t.health.state, HEALTH_PROMOTED);
	assert_int_equal(trace_count("fence hold on a new link, mysql 0"), 1);
	assert_non_null(P()->fence);

	promote_unfence(&S.t, &S.cl, 1);
	assert_int_equal(trace_count("fence release"), 1);
	assert_true(cJSON_IsTrue(jget(S.cl.result, "released")));
	assert_non_null(strstr(journal_says(), "promoted: master_read_only,"
	    "master_locked,switch_sent,"));
	assert_non_null(strstr(journal_says(), ",fence_released"));

	/* Restarted again: released stays released. */
	promote_free(&S.t);
	promote_load(&S.t);
	assert_int_equal(trace_count("fence hold"), 1);
	assert_null(P()->fence);
}

/* on_promoted fails: promoted all the same, the report and todo say it. */
static void
test_on_promoted_fails(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("0"),
		OK(R_STATUS, RUNNING("1000")),
		TAIL("1000", "0"),
		ERR("hook on_promoted", 0, "exit status 1: pager down"),
		END
	};
	struct promotion *p;

	S.cf.master.host = NULL;
	S.cf.on_switch = NULL;
	promote(ops, opts(1, 0, 5));
	p = P();
	assert_int_equal(p->rec.outcome, PO_PROMOTED);
	assert_int_equal(S.cl.nok, 1);
	assert_false(cJSON_IsTrue(jget(S.cl.result, "hooks.on_promoted.ok")));
	assert_string_equal(jstr(S.cl.result, "hooks.on_promoted.detail"),
	    "exit status 1: pager down");
	assert_true(has(jget(S.cl.result, "todo"), "the on_promoted hook "
	    "failed (exit status 1: pager down)"));
	assert_int_equal(S.t.health.state, HEALTH_PROMOTED);
}

/* abort while the catch-up waits for its next poll: rolled back at once. */
static void
test_abort_during_poll(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("0"), MARIADB_MASTER("0"), NEAR, FREEZE_STATEMENTS,
		FINAL,
		OK(POS_WAIT("1500"), "w;-1"),
		OK(R_STATUS, RUNNING("1300")),
		END
	};
	static const struct op rollback[] = {
		OK("m UNLOCK TABLES", NULL),
		OK("m SET GLOBAL read_only = OFF", NULL),
		END
	};
	struct promotion *p;

	script(ops);
	promote_start(&S.t, &S.cl, 1, &(struct promote_opts){ .freeze = 1,
	    .max_lag_s = 10, .timeout_s = 5 });
	drive(0);
	script_done();
	p = P();
	assert_int_equal(p->phase, P_R_POLL);
	assert_true(evtimer_pending(p->timer, NULL));

	script(rollback);
	promote_abort(&S.t, &S.cl2, 2);
	assert_true(cJSON_IsTrue(jget(S.cl2.result, "aborted")));
	assert_false(evtimer_pending(p->timer, NULL));
	drive(1);
	script_done();
	assert_int_equal(p->rec.outcome, PO_ABORTED);
	assert_string_equal(p->rec.reason, "catchup failed: aborted by "
	    "request; rolled back");
	assert_int_equal(S.cl.code, PERR_ABORTED);
}

/* abort during the position wait: its link is closed, then rolled back. */
static void
test_abort_during_pos_wait(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("0"), MARIADB_MASTER("0"), NEAR, FREEZE_STATEMENTS,
		FINAL,
		HOLD(POS_WAIT("1500")),
		END
	};
	static const struct op rollback[] = {
		OK("m UNLOCK TABLES", NULL),
		OK("m SET GLOBAL read_only = OFF", NULL),
		END
	};
	struct promotion *p;

	promote(ops, opts(1, 0, 5));
	p = P();
	assert_int_equal(p->phase, P_R_POSWAIT);
	script(rollback);
	promote_abort(&S.t, &S.cl2, 2);
	assert_int_equal(trace_count("close r"), 1);
	drive(1);
	script_done();
	assert_int_equal(p->rec.outcome, PO_ABORTED);
	assert_int_equal(S.cl.code, PERR_ABORTED);
	assert_true(cJSON_IsTrue(jget(S.cl2.result, "aborted")));
}

/*
 * Nothing is changed that cannot be journaled: refused at the start when
 * the journal cannot be written; later, the change not made and rolled back.
 */
static void
test_journal_unwritable(void **state)
{
	static const struct op none[] = { END };
	static const struct op ops[] = {
		R_PREFLIGHT("1"), MARIADB_MASTER("0"), NEAR, FREEZE_STATEMENTS,
		FINAL,
		HOLD(POS_WAIT("1500")),
		END
	};
	static const struct op rest[] = {
		OK(R_STATUS, RUNNING("1500")),
		/* no SET GLOBAL read_only = OFF on the replica */
		OK("m UNLOCK TABLES", NULL),
		OK("m SET GLOBAL read_only = OFF", NULL),
		END
	};
	struct promotion *p;

	S.conf.state_dir = "/nonexistent/replwatch";
	promote(none, opts(1, 0, 5));
	assert_int_equal(S.cl.code, PERR_PRECONDITION);
	assert_non_null(strstr(S.cl.msg, "cannot be written"));
	assert_int_equal(P()->rec.changes, 0);

	S.conf.state_dir = S.dir;
	client_reset(&S.cl);
	promote(ops, opts(1, 0, 5));
	p = P();
	free(p->journal);
	p->journal = xstrdup("/nonexistent/replwatch/promotion-db1.json");
	script(rest);
	release_held();
	drive(1);
	script_done();
	assert_int_equal(p->rec.outcome, PO_ABORTED);
	assert_int_equal(p->rec.steps[PS_SWITCH].st, PSS_FAILED);
	assert_non_null(strstr(p->rec.reason, "switch failed: the journal "
	    "cannot be written"));
	assert_false(CH(p, CH_REPLICA_RW));
	assert_int_equal(S.cl.code, PERR_ABORTED);
}

/* A dry run: preflight, a plan, nothing changed and no journal. */
static void
test_dry_run(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("1"), MARIADB_MASTER("0"),
		END
	};
	struct promote_opts o = opts(1, 0, 5);
	const cJSON *x;
	int rw = 0, lock = 0;

	o.dry_run = 1;
	promote(ops, o);
	assert_int_equal(P()->rec.outcome, PO_DRY_RUN);
	assert_string_equal(jstr(S.cl.result, "outcome"), "dry_run");
	cJSON_ArrayForEach(x, jget(S.cl.result, "plan")) {
		const char *on = jstr(x, "on"), *sql = jstr(x, "sql");

		rw += strcmp(on, "replica") == 0 &&
		    strcmp(sql, "SET GLOBAL read_only = OFF") == 0;
		lock += strcmp(on, "master") == 0 &&
		    strcmp(sql, "FLUSH TABLES WITH READ LOCK") == 0;
	}
	assert_int_equal(rw, 1);
	assert_int_equal(lock, 1);
	assert_null(journal_doc());
	assert_int_equal(S.t.health.state, HEALTH_OK);
}

/*
 * The replica's link is lost by the statement that makes it writable; the
 * rollback must reconnect to make it read-only again, as it does for the
 * old master, instead of sending on the dead link.
 */
static void
test_rollback_reopens_lost_replica(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("1"), MARIADB_MASTER("0"), NEAR, FREEZE_STATEMENTS,
		FINAL, CAUGHT_UP,
		ERR("r SET GLOBAL read_only = OFF", 0, "connection lost"),
		OK("open r", NULL),
		OK("r SET GLOBAL read_only = ON", NULL),
		OK("m UNLOCK TABLES", NULL),
		OK("m SET GLOBAL read_only = OFF", NULL),
		END
	};

	promote(ops, opts(1, 0, 5));
	assert_int_equal(P()->rec.outcome, PO_ABORTED);
	assert_int_equal(P()->rec.changes, CH_SESSIONS_KILLED);
	assert_false(has(P()->rec.todo, "rollback incomplete"));
	assert_false(has(P()->rec.todo, "may still be writable"));
}

/* An interruption after the switch with a MariaDB master, then --resume. */
static const struct op stop_fails[] = {
	R_PREFLIGHT("0"), MARIADB_MASTER("0"), NEAR, FREEZE_STATEMENTS, FINAL,
	CAUGHT_UP,
	OK(SWITCH_FORWARD, NULL),
	ERR("control stop", 0, "timed out"),
	END
};
static const struct op stop_resumed[] = {
	OK("open r", NULL),
	OK(LOCK_SQL, "got;1"),
	OK(R_STATUS, STOPPED("1500")),
	TAIL("1500", "0"),
	OK("hook on_promoted", NULL),
	END
};

/*
 * Once the switch has happened the old master's fence must stay held
 * through an interruption (the application is on the new master already),
 * in the daemon that was interrupted as in one restarted from the journal.
 */
static void
test_fence_held_while_interrupted(void **state)
{
	promote(stop_fails, opts(1, 0, 5));
	assert_int_equal(P()->rec.outcome, PO_INTERRUPTED);
	assert_non_null(P()->fence);
	assert_int_equal(trace_count("fence hold on the promotion's link, "
	    "mysql 0"), 1);

	promote_free(&S.t);
	promote_load(&S.t);
	assert_int_equal(P()->rec.outcome, PO_INTERRUPTED);
	assert_non_null(P()->fence);
}

/*
 * A restarted daemon resuming after the switch never probes the old master,
 * so its kind must come from the journal (super_read_only NULL: MariaDB),
 * not from the empty flavor, which says MySQL: a fence that sets
 * super_read_only on MariaDB fails, and retries, for ever.
 */
static void
test_fence_kind_after_resume(void **state)
{
	write_journal(PO_RUNNING, PS_STOP, CH_MASTER_RO | CH_MASTER_LOCKED |
	    CH_SWITCH_SENT | CH_SWITCHED | CH_STOP_SENT);
	promote_load(&S.t);
	resume(stop_resumed, &S.cl2);
	assert_int_equal(P()->rec.outcome, PO_PROMOTED);
	assert_non_null(P()->fence);
	assert_true(trace_count("fence hold") >= 1);
	assert_int_equal(trace_count(", mysql 1"), 0);
}

/*
 * A promotion that is rolling back is still running -- for another promote,
 * abort, set-up, start, stop or reload -- and its journal says so until the
 * rollback ends, so that a daemon killed meanwhile can roll back the rest.
 */
static void
test_rollback_is_running(void **state)
{
	static const struct op ops[] = {
		R_PREFLIGHT("1"), MARIADB_MASTER("0"), NEAR, FREEZE_STATEMENTS,
		FINAL, CAUGHT_UP,
		OK("r SET GLOBAL read_only = OFF", NULL),
		ERR(SWITCH_FORWARD, 0, "exit status 1"),
		OK("r SET GLOBAL read_only = ON", NULL),
		HOLD(SWITCH_BACK),
		END
	};
	static const struct op rest[] = {
		OK("m UNLOCK TABLES", NULL),
		OK("m SET GLOBAL read_only = OFF", NULL),
		END
	};
	struct promotion *p;

	promote(ops, opts(1, 0, 5));
	p = P();
	assert_int_equal(p->phase, P_RB_SWITCH);
	assert_true(promote_running(&S.t));
	assert_non_null(strstr(journal_says(), "running:"));
	promote_abort(&S.t, &S.cl2, 2);
	assert_int_equal(S.cl2.code, PERR_BUSY);
	promote_start(&S.t, &S.cl2, 3, &(struct promote_opts){ .freeze = 1,
	    .max_lag_s = 10, .timeout_s = 5 });
	assert_int_equal(S.cl2.code, PERR_BUSY);
	assert_ptr_equal(S.t.promotion, p);

	script(rest);
	release_held();
	drive(1);
	script_done();
	assert_int_equal(p->rec.outcome, PO_ABORTED);
	assert_false(promote_running(&S.t));
	assert_string_equal(journal_says(), "aborted: sessions_killed,"
	    "switched_back");
	assert_int_equal(S.cl.code, PERR_ABORTED);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_happy_path),
		T(test_mysql_master_rollback),
		T(test_freeze_near_retry_gone),
		T(test_lock_wait_exhausted),
		T(test_no_freeze_moving_refused),
		T(test_no_freeze_forced),
		T(test_rds_read_only_refused),
		T(test_rds_read_only_forced_no_master),
		T(test_catchup_timeout_rollback),
		T(test_switch_fails_rollback),
		T(test_stop_fails_then_resume),
		T(test_resume_not_configured),
		T(test_journal_abort_rolls_back),
		T(test_journal_switched_abort_refused),
		T(test_journal_resume_before_switch),
		T(test_journal_promoted_refence),
		T(test_on_promoted_fails),
		T(test_abort_during_poll),
		T(test_abort_during_pos_wait),
		T(test_journal_unwritable),
		T(test_dry_run),
		T(test_rollback_reopens_lost_replica),
		T(test_fence_held_while_interrupted),
		T(test_fence_kind_after_resume),
		T(test_rollback_is_running),
	};
#undef T

	if (getenv("RW_TEST_VERBOSE") == NULL)
		log_set_level(LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
