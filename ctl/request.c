/*
 * Talking to the daemon: connect, send one request, read its reply lines
 * through the one stream reader, and say what went wrong, in words or, with
 * --format json, as one JSON object on stderr (stdout carries only results,
 * so a pipeline into jq never takes an error for one).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctl.h"
#include "protocol.h"

volatile sig_atomic_t ctl_signal;

/* -- failures -- */

static void
json_error(const cJSON *error)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddFalseToObject(o, "ok");
	cJSON_AddItemToObject(o, "error", cJSON_Duplicate(error, 1));
	s = cJSON_PrintUnformatted(o);
	if (s != NULL)
		fprintf(stderr, "%s\n", s);
	free(s);
	cJSON_Delete(o);
}

static int
fail(struct ctl *ctl, int status, const char *code, const char *hint,
    const char *msg)
{
	cJSON *e;

	if (ctl->cmd != NULL && (ctl->cmd->flags & CMD_PLUGIN))
		return check_unknown("%s", msg);
	if (ctl->format == OUT_JSON) {
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "code", code);
		cJSON_AddStringToObject(e, "message", msg);
		if (hint != NULL)
			cJSON_AddStringToObject(e, "hint", hint);
		json_error(e);
		cJSON_Delete(e);
		return status;
	}
	fprintf(stderr, "replwatchctl: %s\n", msg);
	if (hint != NULL)
		fprintf(stderr, "replwatchctl: %s\n", hint);
	return status;
}

int
ctl_fail(struct ctl *ctl, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(ctl, status, code, NULL, msg);
}

int
ctl_fail_hint(struct ctl *ctl, int status, const char *code, const char *hint,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(ctl, status, code, hint, msg);
}

/* Text: "code: message", as scripts match the code; JSON: as it came. */
int
ctl_fail_reply(struct ctl *ctl, const cJSON *error, const char *hint)
{
	const char *code = out_str(error, "code");
	const char *msg = out_str(error, "message");
	cJSON *e;
	char text[1024];

	if (ctl->format == OUT_JSON && !(ctl->cmd->flags & CMD_PLUGIN)) {
		e = cJSON_IsObject(error) ? cJSON_Duplicate(error, 1) :
		    cJSON_CreateObject();
		if (hint != NULL)
			cJSON_AddStringToObject(e, "hint", hint);
		json_error(e);
		cJSON_Delete(e);
		return EXIT_DAEMON_ERROR;
	}
	snprintf(text, sizeof(text), "%s: %s", code != NULL ? code : "error",
	    msg != NULL ? msg : "(no message)");
	return fail(ctl, EXIT_DAEMON_ERROR, code, hint, text);
}

int
ctl_fail_read(struct ctl *ctl, enum client_rv rv, const char *hint)
{
	switch (rv) {
	case CLIENT_TIMEOUT:
		return ctl_fail_hint(ctl, EXIT_UNAVAILABLE, "timeout", hint,
		    "no reply from the daemon within %g s (on %s)",
		    ctl->timeout_ms / 1000.0, ctl->socket);
	case CLIENT_EOF:
		return ctl_fail_hint(ctl, EXIT_UNAVAILABLE, "unavailable", hint,
		    "the daemon closed the connection before replying");
	case CLIENT_ERROR:
		return ctl_fail_hint(ctl, EXIT_UNAVAILABLE, "unavailable", hint,
		    "reading from %s: %s", ctl->socket, strerror(errno));
	case CLIENT_TOOLONG:
	case CLIENT_GARBAGE:
		return ctl_fail_hint(ctl, EXIT_PROTOCOL, "protocol", hint,
		    "cannot understand the daemon's reply: %s",
		    client_strerror(rv));
	case CLIENT_INTR:
		return ctl_fail_hint(ctl, 128 + (ctl_signal ? ctl_signal :
		    SIGINT), "interrupted", hint, "interrupted");
	case CLIENT_OK:
		break;
	}
	return 0;
}

/* -- the exchange -- */

static void
on_signal(int sig)
{
	ctl_signal = sig;
}

/* No SA_RESTART: a signal must wake the poll() of watch and wait. */
void
ctl_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
ctl_connect(struct ctl *ctl, struct client *c)
{
	const char *hint = "";

	client_init(c);
	if (client_connect(c, ctl->socket, ctl->timeout_ms) == 0)
		return 0;
	if (errno == ENOENT || errno == ECONNREFUSED)
		hint = " (is replwatchd running?)";
	else if (errno == EACCES)
		hint = " (is this user in the daemon's socket_group?)";
	return ctl_fail(ctl, EXIT_UNAVAILABLE, "unavailable",
	    "cannot connect to %s: %s%s", ctl->socket, strerror(errno), hint);
}

/* Every invocation sends one request, so its id is always 1. */
int
ctl_send(struct ctl *ctl, struct client *c, const char *cmd,
    const char *target, cJSON *args)
{
	char *line = proto_request_line(1, cmd, target, args);
	int rv;

	if (line == NULL)
		return ctl_fail(ctl, EXIT_USAGE, "usage",
		    "cannot encode the request");
	if (strlen(line) > PROTO_MAX_LINE + 1) {
		explicit_bzero(line, strlen(line));
		free(line);
		return ctl_fail(ctl, EXIT_USAGE, "usage",
		    "request longer than %d bytes", PROTO_MAX_LINE);
	}
	rv = client_send(c, line);
	/* setup's line carries the replication password. */
	explicit_bzero(line, strlen(line));
	free(line);
	if (rv == -1)
		return ctl_fail(ctl, EXIT_UNAVAILABLE, "unavailable",
		    "writing to %s: %s", ctl->socket, strerror(errno));
	return 0;
}

/* How long the next read may wait: the line's bound or the next tick. */
static int
read_wait(struct ctl *ctl, const struct stream_ops *ops, void *arg,
    long long *tick_at)
{
	long long now;

	*tick_at = ops->next_tick != NULL ? ops->next_tick(ctl, arg) : -1;
	if (*tick_at < 0)
		return ops->line_timeout_ms;
	now = now_mono_ms();
	if (*tick_at <= now)
		return 0;
	return (int)(*tick_at - now > 1000000000 ? 1000000000 : *tick_at - now);
}

/*
 * The one reader of reply lines: events to ops->event, then the final line
 * to done or error.  Signals, a lost connection and unreadable lines end
 * the stream here, the same way for every command.
 */
int
ctl_stream(struct ctl *ctl, struct client *c, const struct stream_ops *ops,
    void *arg)
{
	enum client_rv rv;
	cJSON *root, *body;
	long long tick_at;
	int kind, st;

	for (;;) {
		rv = client_reply(c, read_wait(ctl, ops, arg, &tick_at), &root,
		    &body, &kind);
		if (rv == CLIENT_TIMEOUT && tick_at >= 0) {
			if ((st = ops->tick(ctl, arg)) != STREAM_GO_ON)
				return st;
			continue;
		}
		if (rv == CLIENT_INTR && ctl_signal == 0)
			continue;
		if (rv != CLIENT_OK) {
			if (ops->ending != NULL &&
			    (st = ops->ending(ctl, arg, rv)) != STREAM_GO_ON)
				return st;
			return ctl_fail_read(ctl, rv, NULL);
		}
		if (kind == 'v') {
			st = body != NULL && ops->event != NULL ?
			    ops->event(ctl, arg, body) : STREAM_GO_ON;
			cJSON_Delete(root);
			if (st != STREAM_GO_ON)
				return st;
			continue;
		}
		if (kind == 'e')
			st = ops->error != NULL ? ops->error(ctl, arg, body) :
			    ctl_fail_reply(ctl, body, NULL);
		else
			st = ops->done(ctl, arg, body);
		cJSON_Delete(root);
		return st;
	}
}

struct call {
	cJSON	*result;
};

/* The final result is kept: its line's root is freed by the reader. */
static int
call_done(struct ctl *ctl, void *arg, const cJSON *result)
{
	struct call *k = arg;

	if (!cJSON_IsObject(result))
		return ctl_fail(ctl, EXIT_PROTOCOL, "protocol", "cannot "
		    "understand the daemon's reply: no result object");
	k->result = cJSON_Duplicate(result, 1);
	return 0;
}

/*
 * One request, one final reply (events, not asked for, are passed over).
 * On success *root holds the result (caller frees it) and *result is the
 * same object; otherwise the failure is reported and its exit status
 * returned.
 */
int
ctl_call(struct ctl *ctl, const char *cmd, const char *target, cJSON *args,
    cJSON **root, cJSON **result)
{
	struct stream_ops ops = {
		.done = call_done,
		.line_timeout_ms = ctl->timeout_ms,
	};
	struct call k = { NULL };
	struct client c;
	int st;

	*root = *result = NULL;
	if ((st = ctl_connect(ctl, &c)) != 0) {
		cJSON_Delete(args);
		return st;
	}
	if ((st = ctl_send(ctl, &c, cmd, target, args)) == 0)
		st = ctl_stream(ctl, &c, &ops, &k);
	client_close(&c);
	if (st != 0) {
		cJSON_Delete(k.result);
		return st;
	}
	*root = *result = k.result;
	return 0;
}

int
ctl_run_simple(struct ctl *ctl, const struct ctl_args *a)
{
	const struct ctl_cmd *cmd = a->cmd;
	cJSON *args = cJSON_CreateObject(), *root, *result;
	int st;

	args_fill(a, args);
	if (cmd->build != NULL && (st = cmd->build(ctl, a, args)) != 0) {
		cJSON_Delete(args);
		return st;
	}
	if (args->child == NULL) {
		cJSON_Delete(args);
		args = NULL;
	}
	/* Statements on a remote server may take longer than a status. */
	if ((cmd->flags & CMD_SLOW) && !ctl->timeout_given)
		ctl->timeout_ms = (int)(CTL_ADMIN_TIMEOUT_DEFAULT * 1000);
	if ((st = ctl_call(ctl, cmd->request != NULL ? cmd->request :
	    cmd->name, a->target, args, &root, &result)) != 0)
		return st;
	output_print(ctl->format == OUT_TSV ? cmd->tsv : cmd->text, result);
	cJSON_Delete(root);
	return 0;
}
