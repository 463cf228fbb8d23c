/* events and watch: state changes, past and as they happen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctl.h"

/* An event's time, in the one format; "now" for what has none. */
static const char *
event_ts(char *buf, size_t len, const cJSON *e)
{
	if (out_time_member(buf, len, e, "ts") != NULL)
		return buf;
	return out_time(buf, len, now_unix_ms());
}

/* An operator's action (or a mute's end): what, by whom, why. */
static void
action_line(const cJSON *e)
{
	char ts[48], b[256], u[48];
	const char *reason = out_str(e, "reason"), *by = out_str(e, "by");
	double d;

	printf("%s %s ", event_ts(ts, sizeof(ts), e), out_text(b, sizeof(b), e,
	    "target"));
	printf("%s", out_text(b, sizeof(b), e, "kind"));
	if (out_num(e, "errno", &d))
		printf(" %.0f", d);
	if (out_time_member(u, sizeof(u), e, "until") != NULL)
		printf(" until %s", u);
	if (by != NULL)
		printf(" by %s", by);
	printf(" (in state %s)", out_text(b, sizeof(b), e, "to"));
	if (reason != NULL && *reason != '\0')
		printf(": %s", reason);
	putchar('\n');
}

static void
change_line(const cJSON *e)
{
	char ts[48], b[256];
	const char *reason = out_str(e, "reason"), *kind = out_str(e, "kind");

	if (kind != NULL && strcmp(kind, "state_change") != 0) {
		action_line(e);
		return;
	}

	printf("%s %s ", event_ts(ts, sizeof(ts), e), out_text(b, sizeof(b), e,
	    "target"));
	printf("%s -> ", out_text(b, sizeof(b), e, "from"));
	out_state(out_str(e, "to"), 0);
	if (reason != NULL && *reason != '\0')
		printf(": %s", reason);
	putchar('\n');
}

static void
events_text(const cJSON *r)
{
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(r, "events");
	const cJSON *e;

	if (cJSON_GetArraySize(events) == 0) {
		printf("no events\n");
		return;
	}
	cJSON_ArrayForEach(e, events)
		change_line(e);
}

static void
events_tsv(const cJSON *r)
{
	static const char *const head[] = { "seq", "ts", "target", "kind",
	    "from", "to", "reason" };
	const cJSON *e;
	char b[7][64];
	const char *f[7];

	tsv_row(head, 7);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r, "events")) {
		f[0] = tsv_member(b[0], sizeof(b[0]), e, "seq");
		f[1] = out_time_member(b[1], sizeof(b[1]), e, "ts");
		f[2] = tsv_member(b[2], sizeof(b[2]), e, "target");
		f[3] = tsv_member(b[3], sizeof(b[3]), e, "kind");
		f[4] = tsv_member(b[4], sizeof(b[4]), e, "from");
		f[5] = tsv_member(b[5], sizeof(b[5]), e, "to");
		f[6] = out_str(e, "reason");
		tsv_row(f, 7);
	}
}

static const struct ctl_opt events_opts[] = {
	{ .name = "max", .type = OT_COUNT, .arg = "N", .key = "max",
	  .help = "at most N events (default: the daemon's, 100)" },
	{ NULL }
};

const struct ctl_cmd cmd_events_entry = {
	.name = "events",
	.flags = CMD_TARGET_OPT,
	.options = events_opts,
	.usage = "[TARGET] [--max N]",
	.summary = "recent state changes",
	.help =
	    "Show recent state changes, oldest first, one per line.\n"
	    "--format tsv: a row per event (seq, ts, target, kind, from, to,\n"
	    "reason).\n",
	.text = events_text,
	.tsv = events_tsv,
};

/* -- watch -- */

static void
watch_event_text(const cJSON *e)
{
	const char *type = out_str(e, "type"), *reason;
	char ts[48], b[256], l[64];
	char *raw;

	if (type != NULL && (strcmp(type, "change") == 0 ||
	    strcmp(type, "action") == 0)) {
		change_line(e);
		return;
	}
	if (type != NULL && strcmp(type, "sample") == 0) {
		printf("%s %s sample ", event_ts(ts, sizeof(ts), e),
		    out_text(b, sizeof(b), e, "target"));
		out_state(out_str(e, "state"), 0);
		printf(", lag %s\n", output_lag_text(l, sizeof(l),
		    cJSON_GetObjectItemCaseSensitive(e, "lag_ms")));
		return;
	}
	if (type != NULL && strcmp(type, "state") == 0) {
		/* The snapshot has no time of its own: it is "now". */
		printf("%s %s is ", out_time(ts, sizeof(ts), now_unix_ms()),
		    out_text(b, sizeof(b), e, "target"));
		out_state(out_str(e, "state"), 0);
		printf(", lag %s", out_lag_summary(l, sizeof(l),
		    out_obj(e, "lag")));
		if ((reason = out_str(e, "reason")) != NULL && *reason != '\0')
			printf(": %s", reason);
		putchar('\n');
		return;
	}
	/* A kind this client does not know yet: show it, do not drop it. */
	raw = cJSON_PrintUnformatted(e);
	printf("%s %s\n", out_time(ts, sizeof(ts), now_unix_ms()),
	    raw != NULL ? raw : "?");
	free(raw);
}

static int
watch_event(struct ctl *ctl, void *arg, const cJSON *e)
{
	output_print(watch_event_text, e);
	return STREAM_GO_ON;
}

/* A shutdown reply is a clean end; a dropped connection is not. */
static int
watch_done(struct ctl *ctl, void *arg, const cJSON *result)
{
	const char *why = out_str(result, "reason");

	fprintf(stderr, "replwatchctl: the daemon ended the watch (%s)\n",
	    why != NULL ? why : "no reason given");
	return 0;
}

/* A signal is how a watch is meant to end. */
static int
watch_ending(struct ctl *ctl, void *arg, enum client_rv rv)
{
	return rv == CLIENT_INTR ? 0 : STREAM_GO_ON;
}

/* Runs until interrupted (exit 0: its normal end) or the daemon goes. */
static int
watch_exec(struct ctl *ctl, const struct ctl_args *a)
{
	static const struct stream_ops ops = {
		.event = watch_event,
		.done = watch_done,
		.ending = watch_ending,
		.line_timeout_ms = -1,
	};
	struct client c;
	cJSON *args = cJSON_CreateObject();
	int st;

	args_fill(a, args);
	ctl_catch_signals();
	if ((st = ctl_connect(ctl, &c)) != 0) {
		cJSON_Delete(args);
		return st;
	}
	if ((st = ctl_send(ctl, &c, "watch", a->target, args)) == 0)
		st = ctl_stream(ctl, &c, &ops, NULL);
	client_close(&c);
	return st;
}

static const struct ctl_opt watch_opts[] = {
	{ .name = "samples", .type = OT_FLAG, .key = "samples",
	  .help = "also print every poll's lag sample" },
	{ NULL }
};

const struct ctl_cmd cmd_watch_entry = {
	.name = "watch",
	.flags = CMD_TARGET_OPT,
	.options = watch_opts,
	.usage = "[TARGET] [--samples]",
	.summary = "follow state changes as they happen",
	.help =
	    "Print each state change as it happens, after the current state,\n"
	    "until interrupted or the daemon goes away.\n",
	.exec = watch_exec,
};
