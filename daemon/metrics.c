/*
 * GET /metrics in the Prometheus text format.  Every series exists from the
 * first scrape and never vanishes with the target's state, so an alert
 * cannot go quiet because the thing it watches went away (the
 * mysqld_exporter trap).  The old master's series exist for the targets
 * that name one (master_host): they come and go with the configuration only.
 *
 * Unknown is said twice.  A figure that is not known (lag, position lag,
 * apply rate) is NaN, never a made-up 0 that would read as "caught up".  But
 * NaN compares false, so a rule such as `replwatch_lag_seconds > 300` stays
 * silent exactly when the lag cannot be measured (SQL thread stopped, IO
 * thread reconnecting, server gone); hence replwatch_lag_known, 0 or 1,
 * which an alert can test (conf/prometheus/replwatch.rules.yml, LagUnknown).
 *
 * The HTTP side is ours rather than evhttp's: libevent 2.1's evhttp can
 * neither bound its connections nor back off when accept() fails, and any
 * local user can reach this port.  So: at most MX_MAX_CONNS connections, one
 * request each (Connection: close), MX_DEADLINE_S from accept to the end of
 * the reply whatever the peer trickles, no accept while the daemon's
 * descriptors run short, and a pause (not a busy loop) when accept fails.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "control.h"
#include "log.h"
#include "metrics.h"
#include "promote.h"
#include "protocol.h"
#include "xmalloc.h"

#define MX_MAX_CONNS	16	/* a scraper or two, and a curl */
#define MX_MAX_REQUEST	8192	/* request line and headers */
#define MX_DEADLINE_S	10	/* accept to last byte of the reply */

struct mx_conn {
	struct bufferevent *bev;
	struct event	*deadline;
	int		 replied;
	LIST_ENTRY(mx_conn) entry;
};

static struct {
	struct daemon	*d;
	struct evconnlistener *listener;
	struct event	*rearm;
	LIST_HEAD(, mx_conn) conns;
	unsigned	 nconns;
} mx;

static void
family(struct evbuffer *b, const char *name, const char *help, const char *type)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

static void
value(struct evbuffer *b, const char *name, const char *labels, double v)
{
	if (isnan(v))
		evbuffer_add_printf(b, "%s{%s} NaN\n", name, labels);
	else
		evbuffer_add_printf(b, "%s{%s} %.17g\n", name, labels, v);
}

static double
ms_or_nan(long long ms)
{
	return ms < 0 ? NAN : (double)ms / 1000.0;
}

static double up(struct target *t) { return t->failures == 0 && t->polls_ok > 0; }
static double lag(struct target *t) { return ms_or_nan(t->lag_ms); }
static double lag_known(struct target *t) { return t->lag_ms >= 0; }
static double sbm(struct target *t) { return ms_or_nan(t->sbm_ms); }
static double hb(struct target *t) { return ms_or_nan(t->hb_ms); }
static double warn_s(struct target *t) { return t->cf->lag_warn_ms / 1000.0; }
static double crit_s(struct target *t) { return t->cf->lag_crit_ms / 1000.0; }
static double since_s(struct target *t) { return t->since_ms / 1000.0; }
static double poll_s(struct target *t) { return t->last_poll_ms / 1000.0; }

static double
position_bytes(struct target *t)
{
	return t->pos_bytes[0] == '\0' ? NAN : strtod(t->pos_bytes, NULL);
}

static double
apply_rate(struct target *t)
{
	double r = applyrate_get(&t->apply, now_mono_us() / 1000);

	return r < 0 ? NAN : r;
}

/* Connected, and its last round of queries went through. */
static double
master_up(struct target *t)
{
	return t->master.connected && t->master.failures == 0;
}

static double
master_ro(struct target *t)
{
	return !master_up(t) || t->master.read_only < 0 ? NAN :
	    t->master.read_only;
}

/* Muted for maintenance: alert rules leave the target alone. */
static double
muted(struct target *t)
{
	return t->mute.active;
}

static double
muted_until_s(struct target *t)
{
	return t->mute.active ? (double)t->mute.until_ms / 1000 : 0;
}

/* The new primary after a promotion; NaN for a target not promoted. */
static double
primary_reachable(struct target *t)
{
	if (!primary_watched(t->health.state) || !t->primary.checked)
		return NAN;
	return t->primary.reachable;
}

static double
primary_writable(struct target *t)
{
	if (!primary_watched(t->health.state) || t->primary.writable < 0)
		return NAN;
	return t->primary.writable;
}

static double
primary_binlog_moving(struct target *t)
{
	if (!primary_watched(t->health.state) || t->primary.binlog_moving < 0)
		return NAN;
	return t->primary.binlog_moving;
}

/* Families with one sample per target. */
static const struct {
	const char	*name, *help;
	double		(*get)(struct target *);
	int		 master;	/* targets with an old master only */
} per_target[] = {
	{ "replwatch_up", "1 when the last poll of the replica succeeded.",
	  up, 0 },
	{ "replwatch_state_since_timestamp_seconds", "When the target entered "
	  "its current state (Unix time).", since_s, 0 },
	{ "replwatch_lag_seconds", "The best lag figure (heartbeat, else "
	  "Seconds_Behind_Master); NaN when unknown, see replwatch_lag_known.",
	  lag, 0 },
	{ "replwatch_lag_known", "1 when the lag is known, 0 when it is not "
	  "(a NaN lag fails every comparison: alert on this instead).",
	  lag_known, 0 },
	{ "replwatch_lag_warning_threshold_seconds", "lag_warn_s of the "
	  "target's configuration.", warn_s, 0 },
	{ "replwatch_lag_critical_threshold_seconds", "lag_crit_s of the "
	  "target's configuration.", crit_s, 0 },
	{ "replwatch_seconds_behind_master", "The server's own figure; NaN "
	  "when it says NULL.", sbm, 0 },
	{ "replwatch_heartbeat_lag_seconds", "Heartbeat lag; NaN when off or "
	  "unknown.", hb, 0 },
	{ "replwatch_position_lag_bytes", "The old master's binlog position "
	  "minus the replica's executed one; NaN unless both are in the same "
	  "binlog file.", position_bytes, 0 },
	{ "replwatch_apply_bytes_per_second", "Binlog bytes the replica's SQL "
	  "thread executed per second over the last 10 polls; NaN when "
	  "unknown.", apply_rate, 0 },
	{ "replwatch_poll_duration_seconds", "Duration of the last poll.",
	  poll_s, 0 },
	{ "replwatch_master_up", "1 when the daemon's link to the old master "
	  "works (targets with master_host only).", master_up, 1 },
	{ "replwatch_master_read_only", "The old master's @@global.read_only; "
	  "NaN when it is not up.", master_ro, 1 },
	{ "replwatch_muted", "1 while the target is muted for maintenance "
	  "(replwatchctl mute).", muted, 0 },
	{ "replwatch_muted_until_timestamp_seconds", "When the mute ends (Unix "
	  "time); 0 when not muted.", muted_until_s, 0 },
	{ "replwatch_primary_reachable", "After a promotion, 1 when the new "
	  "primary answers; NaN when not promoted.", primary_reachable, 0 },
	{ "replwatch_primary_writable", "After a promotion, 1 when the new "
	  "primary takes writes (no read_only switch on); NaN when unknown or "
	  "not promoted.", primary_writable, 0 },
	{ "replwatch_primary_binlog_moving", "After a promotion, 1 when the new "
	  "primary's binlog position moved since the last poll; NaN when "
	  "unknown or not promoted.", primary_binlog_moving, 0 },
};

/* Families with one sample per target and value of a label. */
static const char *state_name(size_t i) { return health_name((enum rw_health)i); }
static const char *thread_name(size_t i) { return i == 0 ? "io" : "sql"; }
static const char *result_name(size_t i) { return i == 0 ? "ok" : "failed"; }

static const char *
step_name(size_t i)
{
	return i == 0 ? "none" : promo_step_names[i - 1];
}

static const char *
outcome_name(size_t i)
{
	return i == 0 ? "none" : promo_outcome_names[i - 1];
}

static double
state(struct target *t, size_t i)
{
	return t->health.state == (enum rw_health)i;
}

static double
thread_running(struct target *t, size_t i)
{
	return t->have_status &&
	    (i == 0 ? t->status.io : t->status.sql) == THREAD_YES;
}

static double
last_errno(struct target *t, size_t i)
{
	if (!t->have_status)
		return 0;
	return i == 0 ? t->status.last_io_errno : t->status.last_sql_errno;
}

static double
polls(struct target *t, size_t i)
{
	return (double)(i == 0 ? t->polls_ok : t->polls_failed);
}

/* The step the promotion is at (or stopped at); "none" without one. */
static double
promotion_step(struct target *t, size_t i)
{
	const struct promo_record *r = promote_record(t);

	return r == NULL ? i == 0 : i > 0 && r->cur == (enum promo_step)(i - 1);
}

static double
promotion_outcome(struct target *t, size_t i)
{
	const struct promo_record *r = promote_record(t);

	return r == NULL ? i == 0 : i > 0 &&
	    r->outcome == (enum promo_outcome)(i - 1);
}

#define MX_OUTCOMES	(PO_DRY_RUN + 1)	/* promo_outcome_names[] */

static const struct {
	const char	*name, *help, *type, *label;
	size_t		 n;
	const char	*(*value)(size_t);
	double		(*get)(struct target *, size_t);
} per_label[] = {
	{ "replwatch_state", "1 for the target's current health state, 0 for "
	  "the others.", "gauge", "state", HEALTH__COUNT, state_name, state },
	{ "replwatch_thread_running", "1 when the replica's IO or SQL thread "
	  "runs.", "gauge", "thread", 2, thread_name, thread_running },
	{ "replwatch_last_errno", "Last_IO_Errno and Last_SQL_Errno of the last "
	  "status read; 0: none.", "gauge", "thread", 2, thread_name,
	  last_errno },
	{ "replwatch_polls_total", "Polls of the replica by result.", "counter",
	  "result", 2, result_name, polls },
	{ "replwatch_promotion_step", "1 for the step the promotion is at or "
	  "stopped at; step=\"none\" without a promotion.", "gauge", "step",
	  PS__COUNT + 1, step_name, promotion_step },
	{ "replwatch_promotion_outcome", "1 for the promotion's outcome "
	  "(running while it runs); outcome=\"none\" without a promotion.",
	  "gauge", "outcome", MX_OUTCOMES + 1, outcome_name, promotion_outcome },
};

static void
render(struct evbuffer *b)
{
	struct daemon *d = mx.d;
	struct target *t;
	char l[160];
	size_t f, i, v;

	family(b, "replwatch_build_info", "The daemon's version; always 1.",
	    "gauge");
	evbuffer_add_printf(b, "replwatch_build_info{version=\"%s\","
	    "protocol=\"%d\"} 1\n", RW_VERSION, PROTO_VERSION);
	for (f = 0; f < sizeof per_target / sizeof per_target[0]; f++) {
		family(b, per_target[f].name, per_target[f].help, "gauge");
		for (i = 0; i < d->ntargets; i++) {
			t = d->targets[i];
			if (per_target[f].master && t->cf->master.host == NULL)
				continue;
			snprintf(l, sizeof l, "target=\"%s\"", t->name);
			value(b, per_target[f].name, l, per_target[f].get(t));
		}
	}
	for (f = 0; f < sizeof per_label / sizeof per_label[0]; f++) {
		family(b, per_label[f].name, per_label[f].help,
		    per_label[f].type);
		for (i = 0; i < d->ntargets; i++) {
			t = d->targets[i];
			for (v = 0; v < per_label[f].n; v++) {
				snprintf(l, sizeof l, "target=\"%s\",%s=\"%s\"",
				    t->name, per_label[f].label,
				    per_label[f].value(v));
				value(b, per_label[f].name, l,
				    per_label[f].get(t, v));
			}
		}
	}
}

static void
conn_free(struct mx_conn *c)
{
	LIST_REMOVE(c, entry);
	mx.nconns--;
	event_free(c->deadline);
	bufferevent_free(c->bev);
	free(c);
}

/* Queue the whole reply, then close once it has left. */
static void
reply(struct mx_conn *c, int code, const char *reason, const char *extra,
    struct evbuffer *body, int head_only)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t len = body != NULL ? evbuffer_get_length(body) : 0;

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n%sContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", code, reason,
	    extra, code == 200 ? "text/plain; version=0.0.4; charset=utf-8" :
	    "text/plain; charset=utf-8", len);
	if (body != NULL && !head_only)
		evbuffer_add_buffer(out, body);
	c->replied = 1;
	bufferevent_disable(c->bev, EV_READ);
}

static void
reply_text(struct mx_conn *c, int code, const char *reason, const char *extra,
    const char *text, int head_only)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add_printf(b, "%s\n", text);
	reply(c, code, reason, extra, b, head_only);
	evbuffer_free(b);
}

/* The request line is all we need: "METHOD SP TARGET SP HTTP/x.y". */
static void
handle(struct mx_conn *c, char *line)
{
	char *method, *target, *version, *q, *save;
	struct evbuffer *b;
	int head;

	method = strtok_r(line, " ", &save);
	target = strtok_r(NULL, " ", &save);
	version = strtok_r(NULL, " ", &save);
	if (method == NULL || target == NULL || version == NULL ||
	    strtok_r(NULL, " ", &save) != NULL ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		reply_text(c, 400, "Bad Request", "", "Bad Request", 0);
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		reply_text(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n",
		    "Method Not Allowed", 0);
		return;
	}
	if ((q = strchr(target, '?')) != NULL)
		*q = '\0';
	if (strcmp(target, "/metrics") != 0) {
		reply_text(c, 404, "Not Found", "", "Not Found: try /metrics",
		    head);
		return;
	}
	b = evbuffer_new();
	render(b);
	reply(c, 200, "OK", "", b, head);
	evbuffer_free(b);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct mx_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end;
	char *line;

	if (c->replied)
		return;
	/* Wait for the end of the headers (bare LF tolerated). */
	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos == -1)
		end = evbuffer_search(in, "\n\n", 2, NULL);
	if (end.pos == -1) {
		if (evbuffer_get_length(in) >= MX_MAX_REQUEST)
			reply_text(c, 431, "Request Header Fields Too Large", "",
			    "Request Header Fields Too Large", 0);
		return;
	}
	if ((line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF)) == NULL)
		return;		/* not reached: the buffer holds a line end */
	handle(c, line);
	free(line);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct mx_conn *c = arg;

	if (c->replied)
		conn_free(c);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	conn_free(arg);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	log_debug("metrics: a connection ran past %d s, closed", MX_DEADLINE_S);
	conn_free(arg);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	struct timeval tv = { MX_DEADLINE_S, 0 };
	struct mx_conn *c;

	if (mx.nconns >= MX_MAX_CONNS || control_fds_low(fd)) {
		log_debug("metrics: %u connections open, refusing one",
		    mx.nconns);
		if (write(fd, busy, sizeof busy - 1) == -1)
			log_debug("metrics: %s", strerror(errno));
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	if ((c->bev = bufferevent_socket_new(mx.d->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		free(c);
		return;
	}
	c->deadline = evtimer_new(mx.d->base, deadline_cb, c);
	evtimer_add(c->deadline, &tv);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, MX_MAX_REQUEST);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	LIST_INSERT_HEAD(&mx.conns, c, entry);
	mx.nconns++;
}

static void
rearm_cb(evutil_socket_t fd, short what, void *arg)
{
	evconnlistener_enable(mx.listener);
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct timeval tv = { 1, 0 };
	int e = EVUTIL_SOCKET_ERROR();

	/* EMFILE/ENFILE are not retried by libevent: pause, then re-arm. */
	log_warnx("metrics: accept: %s; pausing for 1 s",
	    evutil_socket_error_to_string(e));
	evconnlistener_disable(l);
	evtimer_add(mx.rearm, &tv);
}

static struct evconnlistener *
listen_on(const char *host, const char *port, char *err, size_t errlen)
{
	struct evutil_addrinfo hints = { 0 }, *ai;
	struct evconnlistener *l;
	int rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICSERV;
	if ((rc = evutil_getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "%s", evutil_gai_strerror(rc));
		return NULL;
	}
	l = evconnlistener_new_bind(mx.d->base, accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
	    16, ai->ai_addr, (int)ai->ai_addrlen);
	if (l == NULL)
		snprintf(err, errlen, "%s", strerror(errno));
	evutil_freeaddrinfo(ai);
	return l;
}

int
metrics_init(struct daemon *d, char *err, size_t errlen)
{
	const char *spec = d->conf->metrics_listen;
	const char *colon;
	char *host, why[256];
	size_t n;

	mx.d = d;
	LIST_INIT(&mx.conns);
	if (spec == NULL)
		return 0;
	colon = strrchr(spec, ':');
	n = (size_t)(colon - spec);
	if (spec[0] == '[')
		host = xstrndup(spec + 1, n - 2);
	else
		host = xstrndup(spec, n);
	mx.listener = listen_on(host, colon + 1, why, sizeof why);
	free(host);
	if (mx.listener == NULL) {
		snprintf(err, errlen, "metrics_listen %s: cannot listen: %s",
		    spec, why);
		return -1;
	}
	evconnlistener_set_error_cb(mx.listener, accept_error_cb);
	mx.rearm = evtimer_new(d->base, rearm_cb, NULL);
	log_info("metrics on http://%s/metrics", spec);
	return 0;
}

void
metrics_shutdown(void)
{
	while (!LIST_EMPTY(&mx.conns))
		conn_free(LIST_FIRST(&mx.conns));
	if (mx.listener != NULL) {
		evconnlistener_free(mx.listener);
		event_free(mx.rearm);
	}
	mx.listener = NULL;
}
