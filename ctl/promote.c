/*
 * promote: the cut-over.  Asks for confirmation, sends one request and
 * prints the daemon's step events as they come, then its report.  The
 * daemon bounds the promotion (--timeout is its catch-up bound), so the
 * client waits without a limit; and the promotion belongs to the daemon:
 * a client that goes away, by ^C or a lost connection, stops nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

static int out_tty;		/* stdout is a terminal */
static int step_open;		/* a running step's line awaits its end */

static void	promote_report_text(const cJSON *);

/*
 * Steps and outcomes are the promotion's words, not health states: done
 * and promoted are good, what is under way fair, the rest bad.
 */
static const char *
word_colour(const char *w)
{
	static const char *const good[] = { "promoted", "done", "dry_run",
	    NULL };
	static const char *const fair[] = { "running", "skipped", "pending",
	    "promoting", NULL };

	if (w == NULL)
		return NULL;
	for (int i = 0; good[i] != NULL; i++)
		if (strcmp(w, good[i]) == 0)
			return out_colour_good();
	for (int i = 0; fair[i] != NULL; i++)
		if (strcmp(w, fair[i]) == 0)
			return out_colour_fair();
	return out_colour_bad();
}

static const char *
final_text(char *buf, size_t len, const cJSON *final)
{
	const char *g = out_str(final, "gtid");
	char b[256];

	if (final == NULL)
		return NULL;
	if (g != NULL && *g != '\0')
		snprintf(buf, len, "%s, gtid %s", out_binlog_pos(b, sizeof(b), final,
		    "log_file", "log_pos"), g);
	else
		snprintf(buf, len, "%s", out_binlog_pos(b, sizeof(b), final,
		    "log_file", "log_pos"));
	return buf;
}

/* "preflight 3.2 ms, freeze skipped, catchup failed after 30.00 s" */
static void
steps_text(const cJSON *steps)
{
	const cJSON *s;
	const char *st;
	char b[64];
	double d;
	int n = 0;

	cJSON_ArrayForEach(s, steps) {
		st = out_str(s, "status");
		if (st == NULL || strcmp(st, "pending") == 0)
			continue;
		printf("%s%s", n++ ? ", " : "", out_text(b, sizeof(b), s, "step"));
		if (strcmp(st, "done") == 0 && out_num(s, "duration_ms", &d))
			printf(" %s", out_ms(b, sizeof(b), d));
		else if (strcmp(st, "failed") == 0 && out_num(s, "duration_ms", &d))
			printf(" failed after %s", out_ms(b, sizeof(b), d));
		else
			printf(" %s", st);
	}
	if (n == 0)
		fputs(out_dash(), stdout);
	putchar('\n');
}

void
promote_status_text(const cJSON *p)
{
	const char *s;
	char b[1024], t[48];
	double d;

	printf("  promotion  ");
	s = out_str(p, "state");
	out_padded(s != NULL ? s : "?", 0, word_colour(s));
	printf(" (step %s), started %s", out_text(b, sizeof(b), p, "step"),
	    out_time_member(t, sizeof(t), p, "started") != NULL ? t :
	    out_dash());
	if (out_time_member(t, sizeof(t), p, "finished") != NULL)
		printf(", finished %s", t);
	putchar('\n');
	if (final_text(b, sizeof(b), out_obj(p, "final")) != NULL) {
		printf("             final %s", b);
		if (out_num(p, "write_blocked_ms", &d))
			printf(", writes blocked %s", out_ms(b, sizeof(b), d));
		putchar('\n');
	}
	if ((s = out_str(p, "reason")) != NULL && *s != '\0')
		printf("             %s\n", s);
}

static void
step_line(const cJSON *e)
{
	const char *st = out_str(e, "status"), *detail = out_str(e, "detail");
	char b[64];
	double d;

	if (step_open) {
		/* The running line is replaced by its end. */
		fputs("\r\033[K", stdout);
		step_open = 0;
	}
	printf("  %-10s ", out_text(b, sizeof(b), e, "step"));
	if (st != NULL && strcmp(st, "running") == 0) {
		fputs(out_ellipsis(), stdout);
		if (detail != NULL && *detail != '\0')
			printf("  %s", detail);
		if (out_tty)
			step_open = 1;
		else
			putchar('\n');
		return;
	}
	out_padded(st != NULL ? st : "?", 7, word_colour(st));
	if (out_num(e, "duration_ms", &d) && (st == NULL ||
	    strcmp(st, "skipped") != 0))
		printf(" %9s", out_ms(b, sizeof(b), d));
	else
		printf(" %9s", "");
	if (detail != NULL && *detail != '\0')
		printf("  %s", detail);
	putchar('\n');
}

static void
step_close(void)
{
	if (step_open) {
		putchar('\n');
		fflush(stdout);
		step_open = 0;
	}
}

static void
promote_event_text(const cJSON *e)
{
	const char *type = out_str(e, "type");
	char *raw;

	if (type != NULL && strcmp(type, "step") == 0) {
		step_line(e);
		return;
	}
	if (type != NULL && strcmp(type, "report") == 0) {
		promote_report_text(e);
		return;
	}
	step_close();
	raw = cJSON_PrintUnformatted(e);
	printf("  %s\n", raw != NULL ? raw : "?");
	free(raw);
}

static void
promote_hooks_text(const cJSON *h)
{
	static const char *const names[] = { "on_switch", "on_switch_back",
	    "on_promoted" };
	const cJSON *o;
	char b[300];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		o = cJSON_GetObjectItemCaseSensitive(h, names[i]);
		if (!cJSON_IsObject(o))
			continue;
		printf("  %-15s %s (%s)\n", names[i], cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(o, "ok")) ? "ok" : "FAILED",
		    out_text(b, sizeof(b), o, "detail"));
	}
}

/* Whether the old master is fenced, and who could still write there. */
static void
promote_fence_text(const cJSON *f)
{
	const cJSON *who = cJSON_GetObjectItemCaseSensitive(f, "can_still_write");
	const cJSON *i;
	double n = 0;

	if (!cJSON_IsObject(f) || !cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(f, "frozen")))
		return;
	out_num(f, "sessions_killed", &n);
	printf("  old master      read-only%s; %.0f session%s ended at the "
	    "freeze\n", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f,
	    "released")) ? ", fence released" : cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(f, "locked")) ?
	    ", fenced by a global read lock" : "", n, n == 1 ? "" : "s");
	cJSON_ArrayForEach(i, who)
		if (cJSON_IsString(i))
			printf("  can write there %s\n", i->valuestring);
}

static void
promote_report_text(const cJSON *r)
{
	const cJSON *todo = cJSON_GetObjectItemCaseSensitive(r, "todo");
	const cJSON *plan = cJSON_GetObjectItemCaseSensitive(r, "plan");
	const cJSON *ro = cJSON_GetObjectItemCaseSensitive(r,
	    "replica_read_only");
	const cJSON *i;
	const char *outcome = out_str(r, "outcome"), *s;
	char b[1024], t[48];
	double d;

	step_close();
	printf("%s: ", out_text(b, sizeof(b), r, "target"));
	if (outcome != NULL && strcmp(outcome, "dry_run") == 0)
		out_padded("dry run passed", 0, word_colour(outcome));
	else
		out_padded(outcome != NULL ? outcome : "?", 0,
		    word_colour(outcome));
	if ((s = out_str(r, "reason")) != NULL && *s != '\0')
		printf(" %s %s", out_dash(), s);
	putchar('\n');

	/*
	 * Only a promotion's final position is final; an abort's is where the
	 * old master stood while it was frozen.
	 */
	if (final_text(b, sizeof(b), out_obj(r, "final")) != NULL)
		printf("  %-15s %s\n", outcome != NULL && strcmp(outcome,
		    "promoted") == 0 ? "final" : "frozen at", b);
	if (out_num(r, "write_blocked_ms", &d))
		printf("  writes blocked  %s, from the freeze to the switch\n",
		    out_ms(b, sizeof(b), d));
	if (cJSON_IsBool(ro))
		printf("  replica         read_only %s\n", cJSON_IsTrue(ro) ?
		    "ON" : "OFF");
	promote_hooks_text(out_obj(r, "hooks"));
	promote_fence_text(out_obj(r, "fence"));
	printf("  steps           ");
	steps_text(cJSON_GetObjectItemCaseSensitive(r, "steps"));
	if (out_time_member(t, sizeof(t), r, "started") != NULL) {
		printf("  time            %s", t);
		if (out_time_member(t, sizeof(t), r, "finished") != NULL)
			printf(" to %s", t);
		putchar('\n');
	}
	if (cJSON_GetArraySize(plan) > 0) {
		printf("plan (what a promotion would run):\n");
		cJSON_ArrayForEach(i, plan) {
			if (cJSON_IsString(i))
				printf("  %s\n", i->valuestring);
			else
				printf("  on %-8s %s\n", out_text(b, 64, i, "on"),
				    out_text(b + 64, sizeof(b) - 64, i, "sql"));
		}
	}
	if (cJSON_GetArraySize(todo) > 0) {
		printf("you still must:\n");
		cJSON_ArrayForEach(i, todo)
			if (cJSON_IsString(i))
				printf("  - %s\n", i->valuestring);
	}
}

/*
 * The person at the terminal types the target's name: a y that a finger
 * gives out of habit is not enough for the point of no return.
 */
static int
confirm(struct ctl *ctl, const char *target)
{
	char line[256];
	size_t n;

	fprintf(stderr, "Promote %s? This stops replication and resets it "
	    "(the point of no return). Type the target name to confirm: ",
	    target);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL) {
		fputc('\n', stderr);
		if (ctl_signal != 0)
			return ctl_fail(ctl, 128 + ctl_signal, "interrupted",
			    "interrupted: %s was not promoted", target);
		return ctl_fail(ctl, EXIT_DAEMON_ERROR, "not_confirmed", "not "
		    "confirmed: %s was not promoted", target);
	}
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (strcmp(line, target) != 0)
		return ctl_fail(ctl, EXIT_DAEMON_ERROR, "not_confirmed", "'%s' is "
		    "not '%s': %s was not promoted", line, target, target);
	return 0;
}

static const char *
still_running(char *buf, size_t len, const char *target, int seen)
{
	snprintf(buf, len, "the promotion of %s %s in the daemon: check "
	    "replwatchctl status %s (replwatchctl abort %s cancels it before "
	    "the reset)", target, seen ? "continues" :
	    "may have started and then continues", target, target);
	return buf;
}

/* Promoted, but the on_promoted command failed: a distinct exit status. */
static int
hook_failed(const cJSON *report)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(report, "hooks");
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(h, "on_promoted");

	return cJSON_IsObject(o) &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok"));
}

struct promote_run {
	const char	*target;
	int		 seen;		/* an event came: it has started */
};

static int
promote_event(struct ctl *ctl, void *arg, const cJSON *e)
{
	struct promote_run *p = arg;

	p->seen = 1;
	/* A report comes before an error: shown as it comes. */
	output_print(promote_event_text, e);
	return STREAM_GO_ON;
}

static int
promote_done(struct ctl *ctl, void *arg, const cJSON *result)
{
	step_close();
	if (!cJSON_IsObject(result))
		return ctl_fail(ctl, EXIT_PROTOCOL, "protocol", "cannot "
		    "understand the daemon's reply: no result object");
	output_print(promote_report_text, result);
	return hook_failed(result) ? EXIT_HOOK_FAILED : 0;
}

static int
promote_error(struct ctl *ctl, void *arg, const cJSON *error)
{
	struct promote_run *p = arg;
	const char *code = out_str(error, "code");
	char hint[512];

	step_close();
	if (code == NULL || strcmp(code, "server_error") != 0)
		return ctl_fail_reply(ctl, error, NULL);
	snprintf(hint, sizeof(hint), "%s stopped past the point of no "
	    "return; once the cause is fixed: replwatchctl promote %s "
	    "--resume", p->target, p->target);
	return ctl_fail_reply(ctl, error, hint);
}

/* ^C or a lost connection: the promotion goes on in the daemon. */
static int
promote_ending(struct ctl *ctl, void *arg, enum client_rv rv)
{
	struct promote_run *p = arg;
	char hint[512];

	step_close();
	return ctl_fail_read(ctl, rv, still_running(hint, sizeof(hint),
	    p->target, p->seen));
}

static int
promote_exec(struct ctl *ctl, const struct ctl_args *a)
{
	static const struct stream_ops ops = {
		.event = promote_event,
		.done = promote_done,
		.error = promote_error,
		.ending = promote_ending,
		.line_timeout_ms = -1,
	};
	struct promote_run p = { a->target, 0 };
	struct client c;
	cJSON *args;
	int st, yes = args_has(a, "yes"), dry = args_has(a, "dry-run");

	if (!yes && !dry && !isatty(STDIN_FILENO))
		return ctl_fail(ctl, EXIT_USAGE, "usage", "promote %s: "
		    "non-interactive use needs --yes", a->target);

	ctl_catch_signals();
	/* Connect first: no confirmation asked for a daemon that is not there. */
	if ((st = ctl_connect(ctl, &c)) != 0)
		return st;
	if (!yes && !dry && (st = confirm(ctl, a->target)) != 0)
		goto out;

	args = cJSON_CreateObject();
	args_fill(a, args);
	cJSON_AddBoolToObject(args, "freeze_master", !args_has(a, "no-freeze"));
	cJSON_AddBoolToObject(args, "dry_run", dry);
	cJSON_AddBoolToObject(args, "force", args_has(a, "force"));
	cJSON_AddBoolToObject(args, "resume", args_has(a, "resume"));
	out_tty = isatty(STDOUT_FILENO);
	if ((st = ctl_send(ctl, &c, "promote", a->target, args)) == 0)
		st = ctl_stream(ctl, &c, &ops, &p);
out:
	client_close(&c);
	return st;
}

static int
promote_check(const struct ctl_args *a, char *why, size_t len)
{
	if (args_has(a, "no-freeze") && args_has(a, "freeze-master")) {
		snprintf(why, len, "--no-freeze and --freeze-master contradict "
		    "each other");
		return -1;
	}
	return 0;
}

static const struct ctl_opt promote_opts[] = {
	{ .name = "no-freeze", .type = OT_FLAG,
	  .help = "do not freeze the old master (refused while its\n"
	  "binary log moves, unless --force)" },
	{ .name = "freeze-master", .type = OT_FLAG,
	  .help = "freeze it (the default; kept for old scripts)" },
	{ .name = "max-lag", .type = OT_SECONDS, .arg = "S", .key = "max_lag_s",
	  .max = 86400,
	  .help = "preflight refuses a lag above S s (default 1)" },
	{ .name = "timeout", .type = OT_SECONDS, .arg = "T", .key = "timeout_s",
	  .min = 0.1, .max = 86400,
	  .help = "give the wait to freeze and the catch-up T s\n"
	  "each (default 60); the daemon's reply timeout is\n"
	  "--reply-timeout, before the command" },
	{ .name = "dry-run", .type = OT_FLAG,
	  .help = "preflight only, and print the plan" },
	{ .name = "force", .type = OT_FLAG,
	  .help = "go on past what preflight may be overruled on" },
	{ .name = "resume", .type = OT_FLAG,
	  .help = "continue an interrupted promotion" },
	{ .name = "yes", .type = OT_FLAG,
	  .help = "do not ask for confirmation" },
	{ NULL }
};

const struct ctl_cmd cmd_promote_entry = {
	.name = "promote",
	.flags = CMD_TARGET_REQ | CMD_ADMIN,
	.options = promote_opts,
	.usage = "TARGET [--no-freeze] [--max-lag S] [--timeout T]\n"
	    "    [--dry-run] [--force] [--resume] [--yes]",
	.summary = "cut over: make the replica the master (admin)",
	.help =
	    "Promote the replica: preflight; freeze the old master (read_only,\n"
	    "a global read lock, its other sessions ended) at a moment the\n"
	    "replica is nearly caught up; wait until the replica has executed\n"
	    "the master's final position; switch (the replica made writable,\n"
	    "the on_switch command moves the application: the point of no\n"
	    "return); stop and reset replication; verify.  Each step is printed\n"
	    "as it ends, then a report: the final coordinates, how long writes\n"
	    "were blocked, who can still write to the old master, what is left\n"
	    "to do.  A failure before the switch has succeeded rolls back; after\n"
	    "it, only --resume goes on.  The old master stays fenced until\n"
	    "replwatchctl unfence.\n"
	    "\n"
	    "Without --yes (or --dry-run) the target's name must be typed to\n"
	    "confirm; with stdin not a terminal, --yes is required (exit 64).\n"
	    "Interrupting replwatchctl does not stop the promotion: use abort.\n"
	    "Exit 0 promoted (or dry run passed), 1 refused, aborted or\n"
	    "interrupted, 3 promoted but the on_promoted command failed, 69 the\n"
	    "daemon unreachable or the connection lost.\n",
	.check = promote_check,
	.exec = promote_exec,
};
