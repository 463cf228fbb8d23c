/*
 * mute and unmute (mutectl.h).  The expiry is a timer on the loop, armed for
 * the mute's end; it fires on the monotonic clock, so it checks the wall
 * clock the mute is kept in and sleeps again if that is not there yet
 * (the clock was set back).  The file in state_dir is written before the
 * reply: a mute the daemon could not keep is refused, not half-made.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "control.h"
#include "journal.h"
#include "log.h"
#include "mutectl.h"
#include "xmalloc.h"

static void	expire_cb(evutil_socket_t, short, void *);

/* The action in the events ring, in the log, and to the watchers. */
static void
record(struct target *t, const char *kind, const char *reason,
    const char *by, int64_t until_ms)
{
	const struct rw_event *ev;
	char until[64];

	ev = events_add_action(t->events, now_unix_ms(), t->name, kind,
	    health_name(t->health.state), reason, by, 0, until_ms);
	if (until_ms != 0)
		log_target(LOG_LVL_INFO, t->name, health_name(t->health.state),
		    -1, "%s until %s by %s%s%s", kind, timefmt_local(until_ms,
		    until, sizeof until), by, reason[0] ? ": " : "", reason);
	else
		log_target(LOG_LVL_INFO, t->name, health_name(t->health.state),
		    -1, "%s%s%s%s%s", kind, by != NULL ? " by " : "",
		    by != NULL ? by : "", reason[0] ? ": " : "", reason);
	control_publish_change(t, ev);
}

static void
arm(struct target *t)
{
	int64_t left = t->mute.until_ms - now_unix_ms();
	struct timeval tv;

	if (left < 0)
		left = 0;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	evtimer_add(t->mute_timer, &tv);
}

/* Forget the file; a file that stays would mute the target after a restart. */
static int
forget(struct target *t, char *err, size_t errlen)
{
	char *path = mute_path(t->d->conf->state_dir, t->name);
	int rv = 0;

	if (path != NULL && journal_remove(path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rv = -1;
	}
	free(path);
	return rv;
}

static void
clear(struct target *t, const char *reason, const char *by)
{
	char err[600];

	evtimer_del(t->mute_timer);
	memset(&t->mute, 0, sizeof t->mute);
	if (forget(t, err, sizeof err) == -1)
		log_warnx("%s: the mute file could not be removed (%s): the "
		    "target would be muted again after a restart until the "
		    "mute's end", t->name, err);
	record(t, "unmuted", reason, by, 0);
}

static void
expire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct target *t = arg;

	if (!t->mute.active)
		return;
	if (now_unix_ms() < t->mute.until_ms) {
		arm(t);
		return;
	}
	clear(t, "expired", NULL);
}

void
mute_init(struct target *t)
{
	char *path, err[768];
	cJSON *doc = NULL;
	struct rw_mute m;

	t->mute_timer = evtimer_new(t->d->base, expire_cb, t);
	if ((path = mute_path(t->d->conf->state_dir, t->name)) == NULL)
		return;
	if (journal_load(path, &doc, err, sizeof err) == -1) {
		log_warnx("%s: %s: not muted", t->name, err);
		free(path);
		return;
	}
	if (doc == NULL) {
		free(path);
		return;
	}
	if (mute_from_doc(doc, t->name, now_unix_ms(), &m, err,
	    sizeof err) == -1)
		log_warnx("%s: %s: %s; not muted", t->name, path, err);
	else if (!m.active) {
		/* It ended while the daemon was down. */
		log_info("%s: the mute in %s ended while replwatchd was not "
		    "running: removed", t->name, path);
		journal_remove(path);
	} else {
		t->mute = m;
		arm(t);
		log_info("%s: still muted until %s (by %s%s%s)", t->name,
		    timefmt_local(m.until_ms, err, sizeof err),
		    m.by[0] ? m.by : "?", m.reason[0] ? ": " : "", m.reason);
	}
	cJSON_Delete(doc);
	free(path);
}

void
mute_free(struct target *t)
{
	if (t->mute_timer != NULL)
		event_free(t->mute_timer);
	t->mute_timer = NULL;
}

/* A reason is one line of printable text: it goes to logs and hooks. */
static int
bad_reason(const char *s)
{
	if (strlen(s) > MUTE_REASON_MAX)
		return 1;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int
keep(struct target *t, const struct rw_mute *m, char *err, size_t errlen)
{
	char *path = mute_path(t->d->conf->state_dir, t->name);
	cJSON *doc;
	int rv;

	if (path == NULL) {
		snprintf(err, errlen, "no mute file for a target named %s",
		    t->name);
		return -1;
	}
	doc = mute_to_doc(m, t->name);
	rv = journal_write(path, doc, err, errlen);
	cJSON_Delete(doc);
	free(path);
	return rv;
}

static cJSON *
reply(struct target *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "target", t->name);
	cJSON_AddItemToObject(o, "muted", mute_to_json(&t->mute));
	return o;
}

void
mute_cmd(struct daemon *d, struct client *c, const struct proto_request *req,
    struct target *t)
{
	struct rw_mute m;
	const char *reason = NULL;
	char err[768];
	double for_s;
	int present;

	/* The range first: casting 1e300 to long long is undefined. */
	if (proto_arg_number(req, "for_s", &for_s, &present) == -1 ||
	    !present || !(for_s >= MUTE_MIN_S && for_s <= MUTE_MAX_S) ||
	    for_s != (double)(long long)for_s) {
		client_error(c, req->id, PERR_INVALID_ARGUMENT, "for_s: required, "
		    "a whole number of seconds from %d to %d (7 days)",
		    MUTE_MIN_S, MUTE_MAX_S);
		return;
	}
	if (proto_arg_string(req, "reason", &reason) == -1 ||
	    (reason != NULL && bad_reason(reason))) {
		client_error(c, req->id, PERR_INVALID_ARGUMENT, "reason: a string "
		    "of at most %d bytes, one line without control characters",
		    MUTE_REASON_MAX);
		return;
	}
	memset(&m, 0, sizeof m);
	m.active = 1;
	m.since_ms = now_unix_ms();
	m.until_ms = m.since_ms + (int64_t)for_s * 1000;
	snprintf(m.reason, sizeof m.reason, "%s", reason ? reason : "");
	snprintf(m.by, sizeof m.by, "uid %ld", (long)client_uid(c));
	if (keep(t, &m, err, sizeof err) == -1) {
		client_error(c, req->id, PERR_INTERNAL, "the mute could not be "
		    "kept in state_dir, so %s is not muted: %s", t->name, err);
		return;
	}
	t->mute = m;
	arm(t);
	record(t, "muted", m.reason, m.by, m.until_ms);
	client_ok(c, req->id, reply(t));
}

void
unmute_cmd(struct daemon *d, struct client *c,
    const struct proto_request *req, struct target *t)
{
	char by[32];
	cJSON *o;
	int was = t->mute.active;

	if (was) {
		snprintf(by, sizeof by, "uid %ld", (long)client_uid(c));
		clear(t, "", by);
	}
	o = reply(t);
	cJSON_AddBoolToObject(o, "was_muted", was);
	client_ok(c, req->id, o);
}
