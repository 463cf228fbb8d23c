/*
 * wait: the runbook's "until the replica has caught up" step.  It watches
 * with samples rather than polling status, so it answers within one poll
 * interval of the daemon and costs the daemon nothing extra.
 *
 * Caught up means: the state is ok, lagging or lag_critical (the threads
 * run, whatever the thresholds say) and a known lag is at most --max-lag.
 * After a state change the lag of the previous sample no longer counts:
 * the next sample decides, so a thread that stopped and restarted is not
 * judged by a figure from before.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"
#include "output.h"

#define WAIT_PROGRESS_MS	5000

struct wait_seen {
	int	 have_state;
	char	 state[64];
	char	 reason[512];
	int	 lag_known;
	double	 lag_ms;
};

static void
copy_str(char *dst, size_t len, const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsString(v))
		snprintf(dst, len, "%s", v->valuestring);
}

static void
set_lag(struct wait_seen *w, const cJSON *ms)
{
	w->lag_known = cJSON_IsNumber(ms);
	w->lag_ms = w->lag_known ? ms->valuedouble : 0;
}

/* Fold one watch event into what we know of the target. */
static void
wait_update(struct wait_seen *w, const char *target, const cJSON *e)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "type");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "target");

	if (!cJSON_IsString(type) || !cJSON_IsString(t) ||
	    strcmp(t->valuestring, target) != 0)
		return;
	if (strcmp(type->valuestring, "state") == 0) {
		copy_str(w->state, sizeof(w->state), e, "state");
		copy_str(w->reason, sizeof(w->reason), e, "reason");
		set_lag(w, cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(e, "lag"), "ms"));
		w->have_state = 1;
	} else if (strcmp(type->valuestring, "sample") == 0) {
		copy_str(w->state, sizeof(w->state), e, "state");
		set_lag(w, cJSON_GetObjectItemCaseSensitive(e, "lag_ms"));
		w->have_state = 1;
	} else if (strcmp(type->valuestring, "change") == 0) {
		copy_str(w->state, sizeof(w->state), e, "to");
		copy_str(w->reason, sizeof(w->reason), e, "reason");
		w->lag_known = 0;
		w->have_state = 1;
	}
}

static int
caught_up(const struct wait_seen *w, double max_lag_ms)
{
	if (!w->have_state || !w->lag_known)
		return 0;
	if (strcmp(w->state, "ok") != 0 && strcmp(w->state, "lagging") != 0 &&
	    strcmp(w->state, "lag_critical") != 0)
		return 0;
	return w->lag_ms <= max_lag_ms;
}

static int
wait_report(const char *target, const struct wait_seen *w, int done,
    const struct cmd_args *a, double waited_s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "target", target);
	cJSON_AddBoolToObject(o, "caught_up", done);
	if (w->have_state)
		cJSON_AddStringToObject(o, "state", w->state);
	else
		cJSON_AddNullToObject(o, "state");
	if (w->lag_known)
		cJSON_AddNumberToObject(o, "lag_ms", w->lag_ms);
	else
		cJSON_AddNullToObject(o, "lag_ms");
	if (w->reason[0] != '\0')
		cJSON_AddStringToObject(o, "reason", w->reason);
	else
		cJSON_AddNullToObject(o, "reason");
	cJSON_AddNumberToObject(o, "max_lag_ms", a->max_lag_s * 1000);
	cJSON_AddNumberToObject(o, "timeout_s", a->timeout_s);
	cJSON_AddNumberToObject(o, "waited_s", round(waited_s * 1000) / 1000);
	output_print(output_wait, o);
	cJSON_Delete(o);
	return done ? 0 : EXIT_WAIT_TIMEOUT;
}

static void
wait_progress(const char *target, const struct wait_seen *w,
    double max_lag_ms, long long left_ms)
{
	cJSON *ms = w->lag_known ? cJSON_CreateNumber(w->lag_ms) : NULL;
	char lag[64];

	output_lag_text(lag, sizeof(lag), ms);
	cJSON_Delete(ms);
	if (w->have_state)
		fprintf(stderr, "%s: waiting: %s, lag %s (want <= %.0f ms), "
		    "%lld s left\n", target, w->state, lag, max_lag_ms,
		    (left_ms + 999) / 1000);
	else
		fprintf(stderr, "%s: waiting for the daemon's first state, "
		    "%lld s left\n", target, (left_ms + 999) / 1000);
}

int
cmd_wait(struct ctl *ctl, const struct cmd_args *a)
{
	struct wait_seen seen;
	struct client c;
	enum client_rv rv;
	cJSON *args, *root, *body;
	long long start, deadline, next_progress, now, until;
	double max_lag_ms = a->max_lag_s * 1000;
	int kind, st, progress = isatty(STDERR_FILENO);

	memset(&seen, 0, sizeof(seen));
	ctl_catch_signals();
	start = now_mono_ms();
	deadline = start + (long long)ceil(a->timeout_s * 1000);
	next_progress = start + WAIT_PROGRESS_MS;

	if ((st = ctl_connect(ctl, &c)) != 0)
		return st;
	args = cJSON_CreateObject();
	cJSON_AddTrueToObject(args, "samples");
	if ((st = ctl_send(ctl, &c, "watch", a->target, args)) != 0)
		goto out;

	for (;;) {
		now = now_mono_ms();
		if (now >= deadline) {
			st = wait_report(a->target, &seen, 0, a,
			    (now - start) / 1000.0);
			break;
		}
		if (progress && now >= next_progress) {
			wait_progress(a->target, &seen, max_lag_ms,
			    deadline - now);
			next_progress = now + WAIT_PROGRESS_MS;
		}
		until = progress && next_progress < deadline ? next_progress :
		    deadline;
		rv = client_reply(&c, (int)(until - now), &root, &body, &kind);
		if (rv == CLIENT_TIMEOUT)
			continue;
		if (rv == CLIENT_INTR) {
			if (ctl_signal == 0)
				continue;
			fprintf(stderr, "replwatchctl: %s: interrupted while "
			    "waiting\n", a->target);
			st = 128 + ctl_signal;
			break;
		}
		if (rv != CLIENT_OK) {
			st = ctl_fail_read(ctl, rv);
			break;
		}
		if (kind == 'e') {
			st = ctl_fail_reply(ctl, body);
			cJSON_Delete(root);
			break;
		}
		if (kind == 'o') {
			cJSON_Delete(root);
			st = ctl_fail(ctl, EXIT_DAEMON_ERROR, "the daemon ended "
			    "the watch before %s caught up", a->target);
			break;
		}
		wait_update(&seen, a->target, body);
		cJSON_Delete(root);
		if (caught_up(&seen, max_lag_ms)) {
			st = wait_report(a->target, &seen, 1, a,
			    (now_mono_ms() - start) / 1000.0);
			break;
		}
	}
out:
	client_close(&c);
	return st;
}
