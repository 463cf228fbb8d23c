/*
 * wait: the runbook's "until the replica has caught up" step.  It watches
 * with samples rather than polling status, so it answers within one poll
 * interval of the daemon and costs the daemon nothing extra.
 *
 * Caught up means: the state is one the lag decides (ok, lagging,
 * lag_critical: the threads run, whatever the thresholds say; lib/health.h
 * says which) and a known lag is at most --max-lag.  After a state change
 * the lag of the previous sample no longer counts: the next sample
 * decides, so a thread that stopped and restarted is not judged by a
 * figure from before.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"
#include "health.h"

#define WAIT_PROGRESS_MS	5000

struct wait_seen {
	const struct ctl_args *a;
	double	 max_lag_ms;
	double	 timeout_s;
	long long start, deadline, next_progress;
	int	 progress;	/* stderr is a terminal */

	int	 have_state;
	char	 state[64];
	char	 reason[512];
	int	 lag_known;
	double	 lag_ms;
};

static void
copy_str(char *dst, size_t len, const cJSON *o, const char *key)
{
	const char *s = out_str(o, key);

	if (s != NULL)
		snprintf(dst, len, "%s", s);
}

static void
set_lag(struct wait_seen *w, const cJSON *ms)
{
	w->lag_known = cJSON_IsNumber(ms);
	w->lag_ms = w->lag_known ? ms->valuedouble : 0;
}

/* Fold one watch event into what we know of the target. */
static void
wait_update(struct wait_seen *w, const cJSON *e)
{
	const char *type = out_str(e, "type"), *t = out_str(e, "target");

	if (type == NULL || t == NULL || strcmp(t, w->a->target) != 0)
		return;
	if (strcmp(type, "state") == 0) {
		copy_str(w->state, sizeof(w->state), e, "state");
		copy_str(w->reason, sizeof(w->reason), e, "reason");
		set_lag(w, cJSON_GetObjectItemCaseSensitive(out_obj(e, "lag"),
		    "ms"));
		w->have_state = 1;
	} else if (strcmp(type, "sample") == 0) {
		copy_str(w->state, sizeof(w->state), e, "state");
		set_lag(w, cJSON_GetObjectItemCaseSensitive(e, "lag_ms"));
		w->have_state = 1;
	} else if (strcmp(type, "change") == 0) {
		copy_str(w->state, sizeof(w->state), e, "to");
		copy_str(w->reason, sizeof(w->reason), e, "reason");
		w->lag_known = 0;
		w->have_state = 1;
	}
}

static int
caught_up(const struct wait_seen *w)
{
	enum rw_health h;

	if (!w->have_state || !w->lag_known ||
	    health_from_name(w->state, &h) != 0 || !health_is_lag_state(h))
		return 0;
	return w->lag_ms <= w->max_lag_ms;
}

static void
wait_text(const cJSON *w)
{
	char b1[256], b2[64], b3[64];
	const char *reason;
	double d;

	if (out_true(w, "caught_up")) {
		printf("%s: caught up, lag %s\n", out_text(b1, sizeof(b1), w,
		    "target"), output_lag_text(b2, sizeof(b2),
		    cJSON_GetObjectItemCaseSensitive(w, "lag_ms")));
		return;
	}
	printf("%s: timed out after %s s: ", out_text(b1, sizeof(b1), w,
	    "target"), out_num(w, "timeout_s", &d) ? out_number(b3,
	    sizeof(b3), d) : "?");
	if (out_str(w, "state") == NULL) {
		printf("no state received from the daemon\n");
		return;
	}
	out_state(out_str(w, "state"), 0);
	printf(", lag %s", output_lag_text(b2, sizeof(b2),
	    cJSON_GetObjectItemCaseSensitive(w, "lag_ms")));
	if ((reason = out_str(w, "reason")) != NULL && *reason != '\0')
		printf(" (%s)", reason);
	putchar('\n');
}

static int
wait_report(const struct wait_seen *w, int done)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "target", w->a->target);
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
	cJSON_AddNumberToObject(o, "max_lag_ms", w->max_lag_ms);
	cJSON_AddNumberToObject(o, "timeout_s", w->timeout_s);
	cJSON_AddNumberToObject(o, "waited_s",
	    round((double)(now_mono_ms() - w->start)) / 1000);
	output_print(wait_text, o);
	cJSON_Delete(o);
	return done ? 0 : EXIT_WAIT_TIMEOUT;
}

static int
wait_event(struct ctl *ctl, void *arg, const cJSON *e)
{
	struct wait_seen *w = arg;

	wait_update(w, e);
	return caught_up(w) ? wait_report(w, 1) : STREAM_GO_ON;
}

static int
wait_done(struct ctl *ctl, void *arg, const cJSON *result)
{
	struct wait_seen *w = arg;

	return ctl_fail(ctl, EXIT_DAEMON_ERROR, "watch_ended", "the daemon "
	    "ended the watch before %s caught up", w->a->target);
}

static int
wait_ending(struct ctl *ctl, void *arg, enum client_rv rv)
{
	struct wait_seen *w = arg;

	if (rv != CLIENT_INTR)
		return STREAM_GO_ON;
	return ctl_fail(ctl, 128 + ctl_signal, "interrupted", "%s: "
	    "interrupted while waiting", w->a->target);
}

static long long
wait_next_tick(struct ctl *ctl, void *arg)
{
	struct wait_seen *w = arg;

	return w->progress && w->next_progress < w->deadline ?
	    w->next_progress : w->deadline;
}

/* The deadline (a report, exit 2), or on a terminal a progress line. */
static int
wait_tick(struct ctl *ctl, void *arg)
{
	struct wait_seen *w = arg;
	long long now = now_mono_ms(), left = w->deadline - now;
	cJSON *ms;
	char lag[64];

	if (left <= 0)
		return wait_report(w, 0);
	if (!w->progress || now < w->next_progress)
		return STREAM_GO_ON;
	w->next_progress = now + WAIT_PROGRESS_MS;
	ms = w->lag_known ? cJSON_CreateNumber(w->lag_ms) : NULL;
	output_lag_text(lag, sizeof(lag), ms);
	cJSON_Delete(ms);
	if (w->have_state)
		fprintf(stderr, "%s: waiting: %s, lag %s (want <= %.0f ms), "
		    "%lld s left\n", w->a->target, w->state, lag,
		    w->max_lag_ms, (left + 999) / 1000);
	else
		fprintf(stderr, "%s: waiting for the daemon's first state, "
		    "%lld s left\n", w->a->target, (left + 999) / 1000);
	return STREAM_GO_ON;
}

static int
wait_exec(struct ctl *ctl, const struct ctl_args *a)
{
	static const struct stream_ops ops = {
		.event = wait_event,
		.done = wait_done,
		.ending = wait_ending,
		.line_timeout_ms = -1,
		.next_tick = wait_next_tick,
		.tick = wait_tick,
	};
	struct wait_seen w;
	struct client c;
	cJSON *args;
	int st;

	memset(&w, 0, sizeof(w));
	w.a = a;
	w.max_lag_ms = args_num(a, "max-lag", 0) * 1000;
	w.timeout_s = args_num(a, "timeout", 0);
	w.progress = isatty(STDERR_FILENO);
	ctl_catch_signals();
	w.start = now_mono_ms();
	w.deadline = w.start + (long long)ceil(w.timeout_s * 1000);
	w.next_progress = w.start + WAIT_PROGRESS_MS;

	if ((st = ctl_connect(ctl, &c)) != 0)
		return st;
	args = cJSON_CreateObject();
	cJSON_AddTrueToObject(args, "samples");
	if ((st = ctl_send(ctl, &c, "watch", a->target, args)) == 0)
		st = ctl_stream(ctl, &c, &ops, &w);
	client_close(&c);
	return st;
}

static const struct ctl_opt wait_opts[] = {
	{ .name = "max-lag", .type = OT_SECONDS, .arg = "S",
	  .flags = OPT_REQUIRED,
	  .help = "the lag to wait for, in seconds (may be fractional)" },
	{ .name = "timeout", .type = OT_SECONDS, .arg = "T",
	  .flags = OPT_REQUIRED | OPT_ABOVE_MIN,
	  .help = "give up after T seconds (this is wait's own: the daemon's\n"
	  "reply timeout is --reply-timeout, before the command)" },
	{ NULL }
};

const struct ctl_cmd cmd_wait_entry = {
	.name = "wait",
	.flags = CMD_TARGET_REQ,
	.options = wait_opts,
	.usage = "TARGET --max-lag S --timeout T",
	.summary = "wait until the lag is at most S seconds",
	.help =
	    "Wait until the target replicates with a known lag of at most S\n"
	    "seconds; exit 0 then, or 2 when T seconds pass first.\n",
	.exec = wait_exec,
};
