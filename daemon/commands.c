/*
 * Read commands and reload.  Handlers turn daemon state into replies;
 * control.c has already checked the peer's rights and the target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "commands.h"
#include "mutectl.h"
#include "skiperr.h"
#include "snapshot.h"
#include "xmalloc.h"

static void
cmd_hello(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t)
{
	cJSON *o, *a;
	double v;
	int present;

	if (proto_arg_number(req, "protocol", &v, &present) == -1) {
		client_error(c, req->id, PERR_BAD_REQUEST, "protocol must be a number");
		return;
	}
	if (present && (int)v != PROTO_VERSION) {
		client_error(c, req->id, PERR_VERSION, "this daemon speaks protocol "
		    "%d, not %g", PROTO_VERSION, v);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", "replwatchd");
	cJSON_AddStringToObject(o, "version", RW_VERSION);
	cJSON_AddNumberToObject(o, "protocol", PROTO_VERSION);
	cJSON_AddNumberToObject(o, "pid", getpid());
	cJSON_AddNumberToObject(o, "uptime_s",
	    (double)(now_unix_ms() - d->start_ms) / 1000.0);
	a = cJSON_AddArrayToObject(o, "targets");
	for (size_t i = 0; i < d->ntargets; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(d->targets[i]->name));
	cJSON_AddBoolToObject(o, "admin", client_is_admin(c));
	client_ok(c, req->id, o);
}

/* One target's object, or {"targets": [...]} for all. */
static void
per_target(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t, cJSON *(*fn)(struct target *))
{
	cJSON *o, *a;

	if (t != NULL) {
		client_ok(c, req->id, fn(t));
		return;
	}
	o = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(o, "targets");
	for (size_t i = 0; i < d->ntargets; i++)
		cJSON_AddItemToArray(a, fn(d->targets[i]));
	client_ok(c, req->id, o);
}

static void
cmd_status(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t)
{
	per_target(d, c, req, t, snapshot_status);
}

static void
cmd_lag(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t)
{
	per_target(d, c, req, t, snapshot_lag);
}

/* A non-negative integer argument with a default and a ceiling. */
static int
count_arg(struct client *c, const struct proto_request *req, const char *key,
    size_t def, size_t max, size_t *out)
{
	double v;
	int present;

	if (proto_arg_number(req, key, &v, &present) == -1 ||
	    (present && (v < 0 || v != (double)(long long)v))) {
		client_error(c, req->id, PERR_INVALID_ARGUMENT,
		    "%s must be a non-negative integer", key);
		return -1;
	}
	*out = present ? (v > (double)max ? max : (size_t)v) : def;
	return 0;
}

static void
cmd_history(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t)
{
	size_t n;

	if (count_arg(c, req, "samples", 60, lagring_capacity(t->ring), &n) == 0)
		client_ok(c, req->id, snapshot_history(t, n));
}

struct event_ref {
	cJSON	*ev;
	double	 ts;
	size_t	 order;	/* per target oldest first: keep it on equal times */
};

static int
event_ref_cmp(const void *a, const void *b)
{
	const struct event_ref *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void
cmd_events(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t)
{
	cJSON *o, *all, *ev, **lists;
	struct event_ref *refs;
	size_t max, n, k;

	if (count_arg(c, req, "max", 100, 100000, &max) == -1)
		return;
	o = cJSON_CreateObject();
	if (t != NULL) {
		cJSON_AddItemToObject(o, "events", events_to_json(t->events, NULL,
		    max));
		client_ok(c, req->id, o);
		return;
	}
	/*
	 * All targets: merge by time, keep the newest max.  Sorted as an
	 * array of pointers and copied into a fresh array: cJSON 1.7.15's
	 * DetachItemViaPointer + InsertItemInArray lose items when moving
	 * them around (an in-place sort crashed the daemon).
	 */
	lists = xcalloc(d->ntargets, sizeof *lists);
	n = 0;
	for (size_t i = 0; i < d->ntargets; i++) {
		lists[i] = events_to_json(d->targets[i]->events, NULL, max);
		n += (size_t)cJSON_GetArraySize(lists[i]);
	}
	refs = xcalloc(n, sizeof *refs);
	k = 0;
	for (size_t i = 0; i < d->ntargets; i++) {
		cJSON_ArrayForEach(ev, lists[i]) {
			refs[k].ev = ev;
			refs[k].ts = cJSON_GetNumberValue(
			    cJSON_GetObjectItemCaseSensitive(ev, "ts_unix_ms"));
			refs[k].order = k;
			k++;
		}
	}
	qsort(refs, k, sizeof *refs, event_ref_cmp);
	all = cJSON_CreateArray();
	for (size_t i = k > max ? k - max : 0; i < k; i++)
		cJSON_AddItemToArray(all, cJSON_Duplicate(refs[i].ev, 1));
	for (size_t i = 0; i < d->ntargets; i++)
		cJSON_Delete(lists[i]);
	free(lists);
	free(refs);
	cJSON_AddItemToObject(o, "events", all);
	client_ok(c, req->id, o);
}

static void
cmd_watch(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t)
{
	cJSON *o;
	int samples = 0, present;

	if (proto_arg_bool(req, "samples", &samples, &present) == -1) {
		client_error(c, req->id, PERR_BAD_REQUEST, "samples must be a boolean");
		return;
	}
	/* The current state first, so a watcher never starts blind. */
	for (size_t i = 0; i < d->ntargets; i++) {
		if (t != NULL && d->targets[i] != t)
			continue;
		o = snapshot_status(d->targets[i]);
		cJSON_AddStringToObject(o, "type", "state");
		cJSON_AddNumberToObject(o, "ts_unix_ms", (double)now_unix_ms());
		client_event(c, req->id, o);
	}
	client_watch(c, req->id, t ? t->name : NULL, samples);
}

static void
cmd_reload(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t)
{
	char err[1024];
	cJSON *o;

	if (daemon_reload(d, err, sizeof err) == -1) {
		client_error(c, req->id, PERR_INVALID_ARGUMENT,
		    "new configuration refused, old one kept: %s", err);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "config", d->conf_path);
	cJSON_AddNumberToObject(o, "targets", (double)d->ntargets);
	client_ok(c, req->id, o);
}

static const struct command commands[] = {
	{ "hello",	cmd_hello,	0 },
	{ "status",	cmd_status,	0 },
	{ "lag",	cmd_lag,	0 },
	{ "history",	cmd_history,	CMD_TARGET },
	{ "events",	cmd_events,	0 },
	{ "watch",	cmd_watch,	0 },
	{ "reload",	cmd_reload,	CMD_ADMIN },
	{ "setup",	admin_setup,	CMD_ADMIN | CMD_TARGET },
	{ "start",	admin_start,	CMD_ADMIN | CMD_TARGET },
	{ "stop",	admin_stop,	CMD_ADMIN | CMD_TARGET },
	{ "promote",	admin_promote,	CMD_ADMIN | CMD_TARGET },
	{ "abort",	admin_abort,	CMD_ADMIN | CMD_TARGET },
	{ "unfence",	admin_unfence,	CMD_ADMIN | CMD_TARGET },
	{ "mute",	mute_cmd,	CMD_ADMIN | CMD_TARGET },
	{ "unmute",	unmute_cmd,	CMD_ADMIN | CMD_TARGET },
	{ "skip_error",	skiperr_cmd,	CMD_ADMIN | CMD_TARGET },
};

const struct command *
command_find(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}
