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
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "output.h"

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
			return ctl_fail(ctl, 128 + ctl_signal, "interrupted: "
			    "%s was not promoted", target);
		return ctl_fail(ctl, EXIT_DAEMON_ERROR, "not confirmed: %s was "
		    "not promoted", target);
	}
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (strcmp(line, target) != 0)
		return ctl_fail(ctl, EXIT_DAEMON_ERROR, "'%s' is not '%s': %s "
		    "was not promoted", line, target, target);
	return 0;
}

static void
still_running(const char *target, int seen)
{
	fprintf(stderr, "replwatchctl: the promotion of %s %s in the daemon: "
	    "check replwatchctl status %s (replwatchctl abort %s cancels it "
	    "before the reset)\n", target, seen ? "continues" :
	    "may have started and then continues", target, target);
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

int
cmd_promote(struct ctl *ctl, const struct cmd_args *a)
{
	struct client c;
	enum client_rv rv;
	cJSON *args, *root, *body, *code;
	int kind, st, seen = 0;

	if (a->no_freeze && a->freeze_master)
		return ctl_fail(ctl, EXIT_USAGE, "--no-freeze and --freeze-master "
		    "contradict each other");
	if (!a->yes && !a->dry_run && !isatty(STDIN_FILENO))
		return ctl_fail(ctl, EXIT_USAGE, "promote %s: non-interactive "
		    "use needs --yes", a->target);

	ctl_catch_signals();
	/* Connect first: no confirmation asked for a daemon that is not there. */
	if ((st = ctl_connect(ctl, &c)) != 0)
		return st;
	if (!a->yes && !a->dry_run && (st = confirm(ctl, a->target)) != 0)
		goto out;

	args = cJSON_CreateObject();
	cJSON_AddBoolToObject(args, "freeze_master", !a->no_freeze);
	if (a->max_lag_s >= 0)
		cJSON_AddNumberToObject(args, "max_lag_s", a->max_lag_s);
	if (a->timeout_s >= 0)
		cJSON_AddNumberToObject(args, "timeout_s", a->timeout_s);
	cJSON_AddBoolToObject(args, "dry_run", a->dry_run);
	cJSON_AddBoolToObject(args, "force", a->force);
	cJSON_AddBoolToObject(args, "resume", a->resume);
	if ((st = ctl_send(ctl, &c, "promote", a->target, args)) != 0)
		goto out;

	output_set_tty(isatty(STDOUT_FILENO));
	for (;;) {
		rv = client_reply(&c, -1, &root, &body, &kind);
		if (rv == CLIENT_INTR) {
			if (ctl_signal == 0)
				continue;
			output_promote_close();
			fprintf(stderr, "replwatchctl: interrupted\n");
			still_running(a->target, seen);
			st = 128 + ctl_signal;
			break;
		}
		if (rv != CLIENT_OK) {
			output_promote_close();
			st = ctl_fail_read(ctl, rv);
			still_running(a->target, seen);
			break;
		}
		if (kind == 'v') {
			seen = 1;
			/* A report comes before an error: shown as it comes. */
			if (body != NULL)
				output_print(output_promote_event, body);
			cJSON_Delete(root);
			continue;
		}
		output_promote_close();
		if (kind == 'o') {
			if (cJSON_IsObject(body)) {
				output_print(output_promote_report, body);
				st = hook_failed(body) ? EXIT_HOOK_FAILED : 0;
			} else
				st = ctl_fail(ctl, EXIT_PROTOCOL, "cannot "
				    "understand the daemon's reply: no result "
				    "object");
			cJSON_Delete(root);
			break;
		}
		st = ctl_fail_reply(ctl, body);
		code = cJSON_GetObjectItemCaseSensitive(body, "code");
		if (cJSON_IsString(code) && strcmp(code->valuestring,
		    "server_error") == 0)
			fprintf(stderr, "replwatchctl: %s stopped past the point "
			    "of no return; once the cause is fixed: "
			    "replwatchctl promote %s --resume\n", a->target,
			    a->target);
		cJSON_Delete(root);
		break;
	}
out:
	client_close(&c);
	return st;
}
