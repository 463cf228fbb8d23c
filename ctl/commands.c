/*
 * The read commands that are one request and one reply, and watch.  Each
 * hands the daemon's result to output_print(), which prints it as JSON or
 * in words from that same object.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "output.h"
#include "protocol.h"

static int
simple(struct ctl *ctl, const char *cmd, const char *target, cJSON *args,
    output_fn *human)
{
	cJSON *root, *result;
	int st;

	if ((st = ctl_call(ctl, cmd, target, args, &root, &result)) != 0)
		return st;
	output_print(human, result);
	cJSON_Delete(root);
	return 0;
}

int
cmd_hello(struct ctl *ctl, const struct cmd_args *a)
{
	cJSON *args = cJSON_CreateObject();

	/* A daemon of another major version refuses with version_mismatch. */
	cJSON_AddNumberToObject(args, "protocol", PROTO_VERSION);
	return simple(ctl, "hello", NULL, args, output_hello);
}

int
cmd_status(struct ctl *ctl, const struct cmd_args *a)
{
	return simple(ctl, "status", a->target, NULL, output_status);
}

int
cmd_lag(struct ctl *ctl, const struct cmd_args *a)
{
	return simple(ctl, "lag", a->target, NULL, output_lag);
}

int
cmd_history(struct ctl *ctl, const struct cmd_args *a)
{
	cJSON *args = NULL;

	if (a->samples > 0) {
		args = cJSON_CreateObject();
		cJSON_AddNumberToObject(args, "samples", (double)a->samples);
	}
	return simple(ctl, "history", a->target, args, output_history);
}

int
cmd_events(struct ctl *ctl, const struct cmd_args *a)
{
	cJSON *args = NULL;

	if (a->max > 0) {
		args = cJSON_CreateObject();
		cJSON_AddNumberToObject(args, "max", (double)a->max);
	}
	return simple(ctl, "events", a->target, args, output_events);
}

/*
 * Runs until interrupted (exit 0: stopping a watch is its normal end) or
 * the daemon goes away: a shutdown reply is a clean end, a dropped
 * connection is not.
 */
int
cmd_watch(struct ctl *ctl, const struct cmd_args *a)
{
	struct client c;
	enum client_rv rv;
	cJSON *args = NULL, *root, *body;
	int kind, st;

	if (a->samples_flag) {
		args = cJSON_CreateObject();
		cJSON_AddTrueToObject(args, "samples");
	}
	ctl_catch_signals();
	if ((st = ctl_connect(ctl, &c)) != 0) {
		cJSON_Delete(args);
		return st;
	}
	if ((st = ctl_send(ctl, &c, "watch", a->target, args)) != 0)
		goto out;
	for (;;) {
		rv = client_reply(&c, -1, &root, &body, &kind);
		if (rv == CLIENT_INTR) {
			if (ctl_signal != 0)
				break;
			continue;
		}
		if (rv != CLIENT_OK) {
			st = ctl_fail_read(ctl, rv);
			break;
		}
		if (kind == 'v') {
			if (body != NULL)
				output_print(output_watch_event, body);
			cJSON_Delete(root);
			continue;
		}
		if (kind == 'e')
			st = ctl_fail_reply(ctl, body);
		else
			fprintf(stderr, "replwatchctl: the daemon ended the "
			    "watch (%s)\n", cJSON_IsString(
			    cJSON_GetObjectItemCaseSensitive(body, "reason")) ?
			    cJSON_GetObjectItemCaseSensitive(body,
			    "reason")->valuestring : "no reason given");
		cJSON_Delete(root);
		break;
	}
out:
	client_close(&c);
	return st;
}
