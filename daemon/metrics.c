/*
 * GET /metrics in the Prometheus text format.  Every series exists from the
 * start and never vanishes: an unknown lag is NaN, not a missing line, so a
 * stopped thread cannot make an alert go quiet (the mysqld_exporter trap).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

static struct {
	struct daemon	*d;
	struct evhttp	*http;
} mx;

static void
gauge(struct evbuffer *b, const char *name, const char *help, const char *type)
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
static double sbm(struct target *t) { return ms_or_nan(t->sbm_ms); }
static double hb(struct target *t) { return ms_or_nan(t->hb_ms); }
static double poll_s(struct target *t) { return t->last_poll_ms / 1000.0; }

/* A family with one sample per target. */
static void
per_target(struct evbuffer *b, const char *name, const char *help,
    double (*get)(struct target *))
{
	char l[96];

	gauge(b, name, help, "gauge");
	for (size_t i = 0; i < mx.d->ntargets; i++) {
		snprintf(l, sizeof l, "target=\"%s\"", mx.d->targets[i]->name);
		value(b, name, l, get(mx.d->targets[i]));
	}
}

static void
render(struct evbuffer *b)
{
	struct daemon *d = mx.d;
	struct target *t;
	char l[160];

	per_target(b, "replwatch_up", "1 when the last poll of the replica "
	    "succeeded.", up);
	gauge(b, "replwatch_state", "1 for the target's current health state, "
	    "0 for the others.", "gauge");
	for (size_t i = 0; i < d->ntargets; i++) {
		for (int s = 0; s < HEALTH__COUNT; s++) {
			snprintf(l, sizeof l, "target=\"%s\",state=\"%s\"",
			    d->targets[i]->name, health_name((enum rw_health)s));
			value(b, "replwatch_state", l,
			    d->targets[i]->health.state == (enum rw_health)s);
		}
	}
	per_target(b, "replwatch_lag_seconds", "The best lag figure (heartbeat, "
	    "else Seconds_Behind_Master); NaN when unknown.", lag);
	per_target(b, "replwatch_seconds_behind_master", "The server's own "
	    "figure; NaN when it says NULL.", sbm);
	per_target(b, "replwatch_heartbeat_lag_seconds", "Heartbeat lag; NaN "
	    "when off or unknown.", hb);
	per_target(b, "replwatch_poll_duration_seconds", "Duration of the last "
	    "poll.", poll_s);
	gauge(b, "replwatch_thread_running", "1 when the replica's IO or SQL "
	    "thread runs.", "gauge");
	for (size_t i = 0; i < d->ntargets; i++) {
		t = d->targets[i];
		snprintf(l, sizeof l, "target=\"%s\",thread=\"io\"", t->name);
		value(b, "replwatch_thread_running", l, t->have_status &&
		    t->status.io == THREAD_YES);
		snprintf(l, sizeof l, "target=\"%s\",thread=\"sql\"", t->name);
		value(b, "replwatch_thread_running", l, t->have_status &&
		    t->status.sql == THREAD_YES);
	}
	gauge(b, "replwatch_polls_total", "Polls of the replica by result.",
	    "counter");
	for (size_t i = 0; i < d->ntargets; i++) {
		t = d->targets[i];
		snprintf(l, sizeof l, "target=\"%s\",result=\"ok\"", t->name);
		value(b, "replwatch_polls_total", l, (double)t->polls_ok);
		snprintf(l, sizeof l, "target=\"%s\",result=\"failed\"", t->name);
		value(b, "replwatch_polls_total", l, (double)t->polls_failed);
	}
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	b = evbuffer_new();
	render(b);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", b);
	/* evhttp_send_reply drained it, but the buffer stays ours. */
	evbuffer_free(b);
}

static void
not_found(struct evhttp_request *req, void *arg)
{
	evhttp_send_error(req, 404, "Not Found: try /metrics");
}

int
metrics_init(struct daemon *d, char *err, size_t errlen)
{
	const char *spec = d->conf->metrics_listen;
	char *host;
	const char *colon;
	size_t n;

	mx.d = d;
	if (spec == NULL)
		return 0;
	colon = strrchr(spec, ':');
	n = (size_t)(colon - spec);
	if (spec[0] == '[')
		host = xstrndup(spec + 1, n - 2);
	else
		host = xstrndup(spec, n);
	mx.http = evhttp_new(d->base);
	evhttp_set_max_headers_size(mx.http, 8192);
	evhttp_set_max_body_size(mx.http, 4096);
	evhttp_set_timeout(mx.http, 10);
	evhttp_set_cb(mx.http, "/metrics", handle, NULL);
	evhttp_set_gencb(mx.http, not_found, NULL);
	if (evhttp_bind_socket_with_handle(mx.http, host,
	    (ev_uint16_t)atoi(colon + 1)) == NULL) {
		snprintf(err, errlen, "metrics_listen %s: cannot listen", spec);
		evhttp_free(mx.http);
		mx.http = NULL;
		free(host);
		return -1;
	}
	free(host);
	log_info("metrics on http://%s/metrics", spec);
	return 0;
}

void
metrics_shutdown(void)
{
	if (mx.http != NULL)
		evhttp_free(mx.http);
	mx.http = NULL;
}
