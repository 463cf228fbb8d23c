/*
 * The operator's verbs: skip-error, mute and unmute.
 *
 * skip-error shows the SQL error the replica stopped on and sends its
 * number back as the confirmation: the daemon skips nothing unless that is
 * still the replica's error, so what was shown is what gets skipped.  A
 * skipped event is a transaction the replica will never have: on a
 * terminal the operator types the number; elsewhere --yes is required.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"
#include "mute.h"
#include "output.h"
#include "timefmt.h"

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "in 1h59m" from now to unix_ms. */
static void
time_left(char *buf, size_t len, double unix_ms)
{
	long long s = (long long)((unix_ms - (double)now_unix_ms()) / 1000);

	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

/* "until 2026-12-02T18:40:00.000+01:00 (in 2h00m), by uid 0: reason" */
static void
print_mute(const cJSON *m)
{
	const cJSON *until = cJSON_GetObjectItemCaseSensitive(m,
	    "until_unix_ms");
	char ts[64], left[32];

	if (!cJSON_IsNumber(until)) {
		printf("muted (until unknown)");
		return;
	}
	time_left(left, sizeof(left), until->valuedouble);
	printf("muted until %s (in %s)", timefmt_local((int64_t)
	    until->valuedouble, ts, sizeof(ts)), left);
	if (str(m, "by") != NULL)
		printf(", by %s", str(m, "by"));
	if (str(m, "reason") != NULL)
		printf(": %s", str(m, "reason"));
}

static void
output_mute(const cJSON *r)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "muted");

	printf("%s: ", str(r, "target") ? str(r, "target") : "?");
	if (cJSON_IsObject(m))
		print_mute(m);
	else
		printf("not muted");
	putchar('\n');
}

static void
output_unmute(const cJSON *r)
{
	printf("%s: %s\n", str(r, "target") ? str(r, "target") : "?",
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "was_muted")) ?
	    "unmuted" : "was not muted");
}

/* --for: a duration the daemon takes in seconds. */
static int
mute_check(const struct ctl_args *a, char *why, size_t len)
{
	char err[200];
	long long secs;

	if (mute_parse_duration(args_str(a, "for"), &secs, err,
	    sizeof(err)) == -1) {
		snprintf(why, len, "--for %s", err);
		return -1;
	}
	return 0;
}

static int
mute_build(struct ctl *ctl, const struct ctl_args *a, cJSON *args)
{
	char err[8];
	long long secs = 0;

	/* mute_check() has accepted it. */
	mute_parse_duration(args_str(a, "for"), &secs, err, sizeof(err));
	cJSON_AddNumberToObject(args, "for_s", (double)secs);
	return 0;
}

static const struct ctl_opt mute_opts[] = {
	{ .name = "for", .type = OT_TEXT, .arg = "DURATION",
	  .help = "how long: 90s, 30m, 2h, 1d, 1h30m (1 s to 7 days)",
	  .flags = OPT_REQUIRED },
	{ .name = "reason", .type = OT_TEXT, .arg = "TEXT", .key = "reason",
	  .help = "why, shown in status and the event log" },
	{ NULL }
};

const struct ctl_cmd cmd_mute_entry = {
	.name = "mute",
	.flags = CMD_TARGET_REQ | CMD_ADMIN,
	.options = mute_opts,
	.usage = "TARGET --for DURATION [--reason TEXT]",
	.summary = "mute a target's alerts for maintenance (admin)",
	.help =
	    "Mute the target for DURATION: it is still polled and changes\n"
	    "state, but status shows it muted, check answers OK (saying what it\n"
	    "would be) and the metrics say muted.  Ends by itself, or with\n"
	    "unmute; kept across daemon restarts.  Muting again replaces the\n"
	    "mute.\n",
	.check = mute_check,
	.build = mute_build,
	.text = output_mute,
};

const struct ctl_cmd cmd_unmute_entry = {
	.name = "unmute",
	.flags = CMD_TARGET_REQ | CMD_ADMIN,
	.usage = "TARGET",
	.summary = "end a target's mute (admin)",
	.help = "End the target's mute now.\n",
	.text = output_unmute,
};

/* -- skip-error -- */

static void
output_skip(const cJSON *r)
{
	const cJSON *repl = cJSON_GetObjectItemCaseSensitive(r, "replication");
	const cJSON *no = cJSON_GetObjectItemCaseSensitive(r, "errno");
	const cJSON *s;
	const char *note = str(r, "note");
	int first = 1;

	printf("%s: skipped SQL error %.0f (%s) with ", str(r, "target") ?
	    str(r, "target") : "?", cJSON_IsNumber(no) ? no->valuedouble : 0,
	    str(r, "error") ? str(r, "error") : "");
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r,
	    "statements")) {
		if (cJSON_IsString(s))
			printf("%s%s", first ? "" : "; ", s->valuestring);
		first = 0;
	}
	putchar('\n');
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r, "messages"))
		if (cJSON_IsString(s))
			printf("  server: %s\n", s->valuestring);
	printf("  now: IO %s, SQL %s", str(repl, "io_running") ?
	    str(repl, "io_running") : "?", str(repl, "sql_running") ?
	    str(repl, "sql_running") : "?");
	if ((no = cJSON_GetObjectItemCaseSensitive(repl, "last_sql_errno")) !=
	    NULL && cJSON_IsNumber(no) && no->valuedouble != 0)
		printf(", SQL error %.0f: %s", no->valuedouble,
		    str(repl, "last_sql_error") ? str(repl, "last_sql_error") :
		    "");
	putchar('\n');
	if (note != NULL && *note != '\0')
		printf("  note: %s\n", note);
}

/* The operator types the number they were shown. */
static int
confirm(struct ctl *ctl, const char *target, unsigned no)
{
	char line[64], want[16];

	snprintf(want, sizeof(want), "%u", no);
	fprintf(stderr, "Skipping it loses that event's changes on %s for "
	    "good.\nType the error number (%u) to skip it: ", target, no);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL) {
		fputc('\n', stderr);
		return ctl_fail(ctl, EXIT_DAEMON_ERROR, "not_confirmed", "not "
		    "confirmed: nothing was skipped on %s", target);
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, want) != 0)
		return ctl_fail(ctl, EXIT_DAEMON_ERROR, "not_confirmed", "'%s' is "
		    "not %u: nothing was skipped on %s", line, no, target);
	return 0;
}

/*
 * The error the replica stopped on, from the daemon's last poll: 0 with
 * *no and text set, or an exit status.
 */
static int
current_error(struct ctl *ctl, const char *target, unsigned *no,
    char *text, size_t len)
{
	cJSON *root, *result;
	const cJSON *repl, *e;
	const char *sql;
	int st;

	if ((st = ctl_call(ctl, "status", target, NULL, &root, &result)) != 0)
		return st;
	repl = cJSON_GetObjectItemCaseSensitive(result, "replication");
	e = cJSON_GetObjectItemCaseSensitive(repl, "last_sql_errno");
	sql = str(repl, "sql_running");
	if (!cJSON_IsNumber(e) || e->valuedouble <= 0 ||
	    (sql != NULL && strcmp(sql, "Yes") == 0)) {
		st = ctl_fail(ctl, EXIT_DAEMON_ERROR, "no_error", "%s: no SQL "
		    "error to skip (SQL thread %s)", target, sql != NULL ? sql :
		    "unknown");
		cJSON_Delete(root);
		return st;
	}
	*no = (unsigned)e->valuedouble;
	snprintf(text, len, "%s", str(repl, "last_sql_error") ?
	    str(repl, "last_sql_error") : "");
	cJSON_Delete(root);
	return 0;
}

static int
skip_exec(struct ctl *ctl, const struct ctl_args *a)
{
	cJSON *args, *root, *result;
	char text[1024];
	unsigned no = 0;
	int st, yes = args_has(a, "yes");

	if (!yes && !isatty(STDIN_FILENO))
		return ctl_fail(ctl, EXIT_USAGE, "usage", "skip-error %s: "
		    "non-interactive use needs --yes", a->target);
	if ((st = current_error(ctl, a->target, &no, text, sizeof(text))) != 0)
		return st;
	fprintf(stderr, "%s: the SQL thread stopped on error %u: %s\n",
	    a->target, no, text);
	if (!yes && (st = confirm(ctl, a->target, no)) != 0)
		return st;
	/* Statements on a remote server: RDS's procedure alone takes 4 s. */
	if (!ctl->timeout_given)
		ctl->timeout_ms = (int)(CTL_ADMIN_TIMEOUT_DEFAULT * 1000);
	args = cJSON_CreateObject();
	cJSON_AddNumberToObject(args, "errno", no);
	if ((st = ctl_call(ctl, "skip_error", a->target, args, &root,
	    &result)) != 0)
		return st;
	output_print(output_skip, result);
	cJSON_Delete(root);
	return 0;
}

static const struct ctl_opt skip_opts[] = {
	{ .name = "yes", .type = OT_FLAG,
	  .help = "do not ask; without it the error number must be typed,\n"
	  "and stdin must be a terminal (exit 64)" },
	{ NULL }
};

const struct ctl_cmd cmd_skip_error_entry = {
	.name = "skip-error",
	.flags = CMD_TARGET_REQ | CMD_ADMIN,
	.options = skip_opts,
	.usage = "TARGET [--yes]",
	.summary = "skip the event the SQL thread stopped on (admin)",
	.help =
	    "Show the SQL error the replica stopped on and skip that one event\n"
	    "(CALL mysql.rds_skip_repl_error() on RDS; natively the skip\n"
	    "counter, then the SQL thread started).  The error number shown is\n"
	    "sent as the confirmation: the daemon skips nothing if the replica's\n"
	    "error is another one by then.  Recorded in the event log.\n",
	.exec = skip_exec,
};
