#include <langinfo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "output.h"
#include "timefmt.h"
#include "xmalloc.h"

#define C_GREEN		"\033[32m"
#define C_YELLOW	"\033[33m"
#define C_RED		"\033[31m"
#define C_RESET		"\033[0m"

static int out_json;
static int out_colour;
static int out_tty;
static const char *dash = "-";
static const char *ellipsis = "...";
static int step_open;		/* a running step's line awaits its end */

void
output_init(int json, int colour)
{
	const char *cs = nl_langinfo(CODESET);

	out_json = json;
	out_colour = colour;
	/* The em dash only where the terminal's charset can show it. */
	if (cs != NULL && strcasecmp(cs, "UTF-8") == 0) {
		dash = "\xe2\x80\x94";
		ellipsis = "\xe2\x80\xa6";
	}
}

void
output_set_tty(int tty)
{
	out_tty = tty;
}

const char *
output_ellipsis(void)
{
	return ellipsis;
}

const char *
output_dash(void)
{
	return dash;
}

void
output_print(output_fn *human, const cJSON *obj)
{
	char *s;

	if (out_json || human == NULL) {
		s = cJSON_PrintUnformatted(obj);
		if (s == NULL) {
			fputs("replwatchctl: out of memory\n", stderr);
			exit(70);
		}
		puts(s);
		free(s);
	} else
		human(obj);
	/* watch prints as events come; a pipe must see each one at once. */
	fflush(stdout);
}

/* -- reading the JSON without tripping on null or missing members -- */

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
jnum(const cJSON *o, const char *k, double *d)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v))
		return 0;
	*d = v->valuedouble;
	return 1;
}

static const cJSON *
jobj(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsObject(v) ? v : NULL;
}

static const char *
fmt_num(char *buf, size_t len, double d)
{
	if (d == floor(d) && fabs(d) < 1e15)
		snprintf(buf, len, "%.0f", d);
	else
		snprintf(buf, len, "%.1f", d);
	return buf;
}

/* A string, number or boolean member as text; the dash when absent. */
static const char *
jtext(char *buf, size_t len, const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (cJSON_IsString(v))
		return v->valuestring[0] != '\0' ? v->valuestring : dash;
	if (cJSON_IsNumber(v))
		return fmt_num(buf, len, v->valuedouble);
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "yes" : "no";
	return dash;
}

static const char *
fmt_duration(char *buf, size_t len, double secs)
{
	long long s = secs < 0 ? 0 : (long long)secs;

	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
	return buf;
}

const char *
output_lag_text(char *buf, size_t len, const cJSON *lag_ms)
{
	char d[32];

	if (!cJSON_IsNumber(lag_ms))
		snprintf(buf, len, "unknown");
	else if (lag_ms->valuedouble >= 60000)
		snprintf(buf, len, "%.0f ms (%s)", lag_ms->valuedouble,
		    fmt_duration(d, sizeof(d), lag_ms->valuedouble / 1000));
	else
		snprintf(buf, len, "%.0f ms", lag_ms->valuedouble);
	return buf;
}

/* -- states -- */

static const char *
state_colour(const char *state)
{
	static const char *const good[] = { "ok", "promoted", "done",
	    "dry_run", NULL };
	static const char *const fair[] = { "lagging", "io_connecting",
	    "promoting", "unknown", "running", "skipped", "pending", NULL };
	int i;

	if (!out_colour || state == NULL)
		return NULL;
	for (i = 0; good[i] != NULL; i++)
		if (strcmp(state, good[i]) == 0)
			return C_GREEN;
	for (i = 0; fair[i] != NULL; i++)
		if (strcmp(state, fair[i]) == 0)
			return C_YELLOW;
	return C_RED;
}

/* Display width of UTF-8 text: one column per code point is enough here. */
static int
text_width(const char *s)
{
	int w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void
put_padded(const char *s, int width, const char *colour)
{
	int pad = width - text_width(s);

	if (colour != NULL)
		printf("%s%s%s", colour, s, C_RESET);
	else
		fputs(s, stdout);
	while (pad-- > 0)
		putchar(' ');
}

static void
put_state(const char *state, int width)
{
	put_padded(state != NULL ? state : "?", width, state_colour(state));
}

/* -- hello -- */

void
output_hello(const cJSON *r)
{
	const cJSON *targets = cJSON_GetObjectItemCaseSensitive(r, "targets");
	const cJSON *t;
	char b1[64], b2[64], b3[32], b4[32];
	double up;

	printf("%s %s, protocol %s, pid %s", jtext(b1, sizeof(b1), r, "name"),
	    jtext(b2, sizeof(b2), r, "version"),
	    jtext(b3, sizeof(b3), r, "protocol"),
	    jtext(b4, sizeof(b4), r, "pid"));
	if (jnum(r, "uptime_s", &up))
		printf(", up %s", fmt_duration(b1, sizeof(b1), up));
	putchar('\n');
	printf("targets:");
	if (cJSON_GetArraySize(targets) == 0)
		printf(" (none)");
	cJSON_ArrayForEach(t, targets)
		if (cJSON_IsString(t))
			printf(" %s", t->valuestring);
	putchar('\n');
	printf("admin: %s\n", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r,
	    "admin")) ? "yes, this user may run admin commands" : "no");
}

/* -- status -- */

static const char *
lag_summary(char *buf, size_t len, const cJSON *lag)
{
	char l[64];
	const char *src = jstr(lag, "source");

	output_lag_text(l, sizeof(l), cJSON_GetObjectItemCaseSensitive(lag,
	    "ms"));
	if (src != NULL && strcmp(src, "none") != 0 &&
	    cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(lag, "ms")))
		snprintf(buf, len, "%s (%s)", l, src);
	else
		snprintf(buf, len, "%s", l);
	return buf;
}

static const char *
since_text(char *buf, size_t len, const cJSON *t)
{
	char when[40], ago[32];
	double ms;
	const char *s;

	if (jnum(t, "since_unix_ms", &ms)) {
		snprintf(buf, len, "since %s, %s", timefmt_local((int64_t)ms,
		    when, sizeof(when)), fmt_duration(ago, sizeof(ago),
		    (now_unix_ms() - ms) / 1000));
		return buf;
	}
	if ((s = jstr(t, "since")) != NULL) {
		snprintf(buf, len, "since %s", s);
		return buf;
	}
	return NULL;
}

static const char *
host_port(char *buf, size_t len, const cJSON *o, const char *hk,
    const char *pk)
{
	char b1[256], b2[32];

	snprintf(buf, len, "%s:%s", jtext(b1, sizeof(b1), o, hk),
	    jtext(b2, sizeof(b2), o, pk));
	return buf;
}

static const char *
binlog_pos(char *buf, size_t len, const cJSON *o, const char *fk,
    const char *pk)
{
	const char *f = jstr(o, fk);
	char b[32];

	if (f == NULL || *f == '\0')
		return dash;
	snprintf(buf, len, "%s:%s", f, jtext(b, sizeof(b), o, pk));
	return buf;
}

static void
status_errors(const cJSON *repl)
{
	static const char *const which[] = { "io", "sql" };
	char key_no[32], key_msg[32];
	const char *msg;
	double no;
	int i, n = 0;

	for (i = 0; i < 2; i++) {
		snprintf(key_no, sizeof(key_no), "last_%s_errno", which[i]);
		snprintf(key_msg, sizeof(key_msg), "last_%s_error", which[i]);
		if (!jnum(repl, key_no, &no) || no == 0)
			continue;
		msg = jstr(repl, key_msg);
		printf("%s%s %.0f: %s\n", n++ ? "             " : "",
		    which[i], no, msg != NULL ? msg : "");
	}
	if (n == 0)
		printf("%s\n", dash);
}

static void
status_history(const cJSON *hist)
{
	static const char *const keys[] = { "min_ms", "avg_ms", "p95_ms",
	    "max_ms" };
	const cJSON *w;
	char b[32];
	double d;
	int i, first = 1;

	if (hist == NULL || hist->child == NULL) {
		printf("%s\n", dash);
		return;
	}
	cJSON_ArrayForEach(w, hist) {
		printf("%s%s ", first ? "" : "   ", w->string);
		first = 0;
		if (!jnum(w, "min_ms", &d)) {
			fputs(dash, stdout);
			continue;
		}
		fputs("min/avg/p95/max ", stdout);
		for (i = 0; i < 4; i++)
			printf("%s%s", i ? "/" : "", jtext(b, sizeof(b), w,
			    keys[i]));
		fputs(" ms", stdout);
	}
	putchar('\n');
}

/* -- promotion: status's summary, promote's steps and report -- */

static const char *
fmt_ms(char *buf, size_t len, double ms)
{
	if (ms < 1000)
		snprintf(buf, len, "%.1f ms", ms);
	else if (ms < 60000)
		snprintf(buf, len, "%.2f s", ms / 1000);
	else
		fmt_duration(buf, len, ms / 1000);
	return buf;
}

static const char *
final_text(char *buf, size_t len, const cJSON *final)
{
	const char *g = jstr(final, "gtid");
	char b[256];

	if (final == NULL)
		return NULL;
	if (g != NULL && *g != '\0')
		snprintf(buf, len, "%s, gtid %s", binlog_pos(b, sizeof(b), final,
		    "log_file", "log_pos"), g);
	else
		snprintf(buf, len, "%s", binlog_pos(b, sizeof(b), final,
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
		st = jstr(s, "status");
		if (st == NULL || strcmp(st, "pending") == 0)
			continue;
		printf("%s%s", n++ ? ", " : "", jtext(b, sizeof(b), s, "step"));
		if (strcmp(st, "done") == 0 && jnum(s, "duration_ms", &d))
			printf(" %s", fmt_ms(b, sizeof(b), d));
		else if (strcmp(st, "failed") == 0 && jnum(s, "duration_ms", &d))
			printf(" failed after %s", fmt_ms(b, sizeof(b), d));
		else
			printf(" %s", st);
	}
	if (n == 0)
		fputs(dash, stdout);
	putchar('\n');
}

static void
status_promotion(const cJSON *p)
{
	const char *s;
	char b[1024];
	double d;

	printf("  promotion  ");
	put_state(jstr(p, "state"), 0);
	printf(" (step %s), started %s", jtext(b, sizeof(b), p, "step"),
	    jtext(b, sizeof(b), p, "started"));
	if ((s = jstr(p, "finished")) != NULL)
		printf(", finished %s", s);
	putchar('\n');
	if (final_text(b, sizeof(b), jobj(p, "final")) != NULL) {
		printf("             final %s", b);
		if (jnum(p, "write_blocked_ms", &d))
			printf(", writes blocked %s", fmt_ms(b, sizeof(b), d));
		putchar('\n');
	}
	if ((s = jstr(p, "reason")) != NULL && *s != '\0')
		printf("             %s\n", s);
}

static void
step_line(const cJSON *e)
{
	const char *st = jstr(e, "status"), *detail = jstr(e, "detail");
	char b[64];
	double d;

	if (step_open) {
		/* The running line is replaced by its end. */
		fputs("\r\033[K", stdout);
		step_open = 0;
	}
	printf("  %-10s ", jtext(b, sizeof(b), e, "step"));
	if (st != NULL && strcmp(st, "running") == 0) {
		fputs(ellipsis, stdout);
		if (detail != NULL && *detail != '\0')
			printf("  %s", detail);
		if (out_tty)
			step_open = 1;
		else
			putchar('\n');
		return;
	}
	put_padded(st != NULL ? st : "?", 7, state_colour(st));
	if (jnum(e, "duration_ms", &d) && (st == NULL ||
	    strcmp(st, "skipped") != 0))
		printf(" %9s", fmt_ms(b, sizeof(b), d));
	else
		printf(" %9s", "");
	if (detail != NULL && *detail != '\0')
		printf("  %s", detail);
	putchar('\n');
}

void
output_promote_close(void)
{
	if (step_open) {
		putchar('\n');
		fflush(stdout);
		step_open = 0;
	}
}

void
output_promote_event(const cJSON *e)
{
	const char *type = jstr(e, "type");
	char *raw;

	if (type != NULL && strcmp(type, "step") == 0) {
		step_line(e);
		return;
	}
	if (type != NULL && strcmp(type, "report") == 0) {
		output_promote_report(e);
		return;
	}
	output_promote_close();
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
		    jtext(b, sizeof(b), o, "detail"));
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
	jnum(f, "sessions_killed", &n);
	printf("  old master      read-only%s; %.0f session%s ended at the "
	    "freeze\n", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f,
	    "released")) ? ", fence released" : cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(f, "locked")) ?
	    ", fenced by a global read lock" : "", n, n == 1 ? "" : "s");
	cJSON_ArrayForEach(i, who)
		if (cJSON_IsString(i))
			printf("  can write there %s\n", i->valuestring);
}

void
output_promote_report(const cJSON *r)
{
	const cJSON *todo = cJSON_GetObjectItemCaseSensitive(r, "todo");
	const cJSON *plan = cJSON_GetObjectItemCaseSensitive(r, "plan");
	const cJSON *ro = cJSON_GetObjectItemCaseSensitive(r,
	    "replica_read_only");
	const cJSON *i;
	const char *outcome = jstr(r, "outcome"), *s;
	char b[1024];
	double d;

	output_promote_close();
	printf("%s: ", jtext(b, sizeof(b), r, "target"));
	if (outcome != NULL && strcmp(outcome, "dry_run") == 0)
		put_padded("dry run passed", 0, state_colour(outcome));
	else
		put_state(outcome, 0);
	if ((s = jstr(r, "reason")) != NULL && *s != '\0')
		printf(" %s %s", dash, s);
	putchar('\n');

	/*
	 * Only a promotion's final position is final; an abort's is where the
	 * old master stood while it was frozen.
	 */
	if (final_text(b, sizeof(b), jobj(r, "final")) != NULL)
		printf("  %-15s %s\n", outcome != NULL && strcmp(outcome,
		    "promoted") == 0 ? "final" : "frozen at", b);
	if (jnum(r, "write_blocked_ms", &d))
		printf("  writes blocked  %s, from the freeze to the switch\n",
		    fmt_ms(b, sizeof(b), d));
	if (cJSON_IsBool(ro))
		printf("  replica         read_only %s\n", cJSON_IsTrue(ro) ?
		    "ON" : "OFF");
	promote_hooks_text(jobj(r, "hooks"));
	promote_fence_text(jobj(r, "fence"));
	printf("  steps           ");
	steps_text(cJSON_GetObjectItemCaseSensitive(r, "steps"));
	if ((s = jstr(r, "started")) != NULL) {
		printf("  time            %s", s);
		if ((s = jstr(r, "finished")) != NULL)
			printf(" to %s", s);
		putchar('\n');
	}
	if (cJSON_GetArraySize(plan) > 0) {
		printf("plan (what a promotion would run):\n");
		cJSON_ArrayForEach(i, plan) {
			if (cJSON_IsString(i))
				printf("  %s\n", i->valuestring);
			else
				printf("  on %-8s %s\n", jtext(b, 64, i, "on"),
				    jtext(b + 64, sizeof(b) - 64, i, "sql"));
		}
	}
	if (cJSON_GetArraySize(todo) > 0) {
		printf("you still must:\n");
		cJSON_ArrayForEach(i, todo)
			if (cJSON_IsString(i))
				printf("  - %s\n", i->valuestring);
	}
}

/* -- setup, start, stop, abort, reload -- */

static void
statement_and_messages(const cJSON *r)
{
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(r, "messages");
	const cJSON *m;
	char b1[256], b2[4096];

	const cJSON *stmt = cJSON_GetObjectItemCaseSensitive(r, "statement");
	const cJSON *note = cJSON_GetObjectItemCaseSensitive(r, "note");

	printf("%s: %s\n", jtext(b1, sizeof(b1), r, "target"),
	    cJSON_IsString(stmt) && stmt->valuestring[0] == '\0' ?
	    "no statement needed" : jtext(b2, sizeof(b2), r, "statement"));
	cJSON_ArrayForEach(m, msgs)
		if (cJSON_IsString(m))
			printf("  %s\n", m->valuestring);
	/* What the state read back showed (e.g. "already stopped"). */
	if (cJSON_IsString(note) && note->valuestring[0] != '\0')
		printf("  %s\n", note->valuestring);
}

void
output_setup(const cJSON *r)
{
	char b[256];

	statement_and_messages(r);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "started")))
		printf("replication started\n");
	else
		printf("replication configured, not started (replwatchctl "
		    "start %s)\n", jtext(b, sizeof(b), r, "target"));
}

void
output_start(const cJSON *r)
{
	statement_and_messages(r);
	printf("replication started\n");
}

void
output_stop(const cJSON *r)
{
	statement_and_messages(r);
	printf("replication stopped\n");
}

void
output_abort(const cJSON *r)
{
	char b[256];
	const char *t = jtext(b, sizeof(b), r, "target");

	printf("%s: abort requested: the promotion rolls back (the old "
	    "master made writable, replication restarted); replwatchctl "
	    "status %s shows when it is done\n", t, t);
}

void
output_unfence(const cJSON *r)
{
	char b1[256], b2[512];

	printf("%s: the old master's fence is released: %s\n",
	    jtext(b1, sizeof(b1), r, "target"), jtext(b2, sizeof(b2), r, "note"));
}

void
output_reload(const cJSON *r)
{
	char b1[512], b2[32];

	printf("configuration reloaded from %s: %s target(s)\n",
	    jtext(b1, sizeof(b1), r, "config"), jtext(b2, sizeof(b2), r,
	    "targets"));
}

/* "  muted      until 2026-12-02T18:40:00.000+01:00 (in 2h00m), by uid 0: why" */
static void
status_muted(const cJSON *m)
{
	char b[64], left[32];
	const char *s;
	double until;

	if (m == NULL || !jnum(m, "until_unix_ms", &until))
		return;
	printf("  muted      until %s (in %s)", timefmt_local((int64_t)until,
	    b, sizeof(b)), fmt_duration(left, sizeof(left),
	    (until - now_unix_ms()) / 1000));
	if ((s = jstr(m, "by")) != NULL)
		printf(", by %s", s);
	if ((s = jstr(m, "reason")) != NULL)
		printf(": %s", s);
	putchar('\n');
}

static void
status_one(const cJSON *t)
{
	const cJSON *lag = jobj(t, "lag"), *repl = jobj(t, "replication");
	const cJSON *srv = jobj(t, "server"), *mst = jobj(t, "master");
	const cJSON *polls = jobj(t, "polls"), *promo;
	const char *reason = jstr(t, "reason"), *s;
	char b1[512], b2[512], b3[512];
	double d;

	printf("%s: ", jtext(b1, sizeof(b1), t, "target"));
	put_state(jstr(t, "state"), 0);
	if (reason != NULL && *reason != '\0')
		printf(" %s %s", dash, reason);
	if (since_text(b1, sizeof(b1), t) != NULL)
		printf("   (%s)", b1);
	putchar('\n');
	status_muted(jobj(t, "muted"));

	printf("  lag        %s", lag_summary(b1, sizeof(b1), lag));
	printf("   seconds_behind_master %s", jtext(b1, sizeof(b1), lag,
	    "seconds_behind_master"));
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(lag,
	    "heartbeat_ms")))
		printf("   heartbeat %s ms", jtext(b1, sizeof(b1), lag,
		    "heartbeat_ms"));
	if ((s = jstr(lag, "position_bytes")) != NULL)
		printf("   position %s bytes\n", s);
	else
		printf("   position %s\n", dash);

	printf("  threads    ");
	if (repl == NULL)
		printf("%s\n", dash);
	else if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(repl,
	    "configured")))
		printf("replication not configured\n");
	else {
		printf("io %s   sql %s", jtext(b1, sizeof(b1), repl,
		    "io_running"), jtext(b2, sizeof(b2), repl,
		    "sql_running"));
		if (jnum(repl, "sql_delay", &d) && d > 0)
			printf("   delay %.0f s (remaining %s)", d,
			    jtext(b1, sizeof(b1), repl, "sql_remaining_delay"));
		putchar('\n');

		printf("  master     %s   read %s   exec %s",
		    host_port(b1, sizeof(b1), repl, "master_host",
		    "master_port"),
		    binlog_pos(b2, sizeof(b2), repl, "master_log_file",
		    "read_master_log_pos"),
		    binlog_pos(b3, sizeof(b3), repl, "relay_master_log_file",
		    "exec_master_log_pos"));
		if ((s = jstr(repl, "using_gtid")) != NULL &&
		    strcasecmp(s, "No") != 0 && jstr(repl, "gtid_io_pos"))
			printf("   gtid %s", jstr(repl, "gtid_io_pos"));
		putchar('\n');

		printf("  errors     ");
		status_errors(repl);
	}

	if (srv != NULL) {
		const cJSON *ro = cJSON_GetObjectItemCaseSensitive(srv,
		    "read_only");

		printf("  server     %s %s %s, %s, TLS %s",
		    host_port(b1, sizeof(b1), srv, "host", "port"),
		    jtext(b2, sizeof(b2), srv, "flavor"),
		    jtext(b3, sizeof(b3), srv, "version"),
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(srv,
		    "connected")) ? "connected" : "not connected",
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(srv,
		    "encrypted")) ? "on" : "off");
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(srv,
		    "encrypted")) && (s = jstr(srv, "cipher")) != NULL)
			printf(" (%s)", s);
		printf(", read_only %s", cJSON_IsBool(ro) ? (cJSON_IsTrue(ro) ?
		    "ON" : "OFF") : "unknown");
		if ((s = jstr(srv, "error")) != NULL && *s != '\0')
			printf(", error: %s", s);
		putchar('\n');
	}
	if (mst != NULL) {
		const cJSON *ro = cJSON_GetObjectItemCaseSensitive(mst,
		    "read_only");

		printf("  master db  %s, %s, at %s",
		    host_port(b1, sizeof(b1), mst, "host", "port"),
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mst,
		    "connected")) ? "connected" : "not connected",
		    binlog_pos(b2, sizeof(b2), mst, "log_file", "log_pos"));
		if ((s = jstr(mst, "gtid_binlog_pos")) != NULL && *s != '\0')
			printf(", gtid %s", s);
		if (cJSON_IsBool(ro))
			printf(", read_only %s", cJSON_IsTrue(ro) ? "ON" :
			    "OFF");
		if ((s = jstr(mst, "error")) != NULL)
			printf(", error: %s", s);
		putchar('\n');
	}

	printf("  history    ");
	status_history(jobj(t, "history"));

	if (polls != NULL) {
		printf("  polls      %s ok, %s failed", jtext(b1, sizeof(b1),
		    polls, "ok"), jtext(b2, sizeof(b2), polls, "failed"));
		if (jnum(polls, "last_ms", &d))
			printf(", last %s ms", fmt_num(b1, sizeof(b1), d));
		if (jnum(polls, "last_unix_ms", &d))
			printf(" (%s ago)", fmt_duration(b1, sizeof(b1),
			    (now_unix_ms() - d) / 1000));
		if (jnum(polls, "interval_ms", &d))
			printf(", every %.0f ms", d);
		if (jnum(polls, "consecutive_failures", &d) && d > 0)
			printf(", %.0f failing in a row", d);
		putchar('\n');
	}

	if ((promo = jobj(t, "promotion")) != NULL)
		status_promotion(promo);
}

#define ST_COLS	8

static void
status_row(const cJSON *t, char cell[ST_COLS][256])
{
	const cJSON *lag = jobj(t, "lag"), *repl = jobj(t, "replication");
	char b[256];
	const char *s;
	double ms;

	snprintf(cell[0], 256, "%s", jtext(b, sizeof(b), t, "target"));
	snprintf(cell[1], 256, "%s", jtext(b, sizeof(b), t, "state"));
	output_lag_text(cell[2], 256, cJSON_GetObjectItemCaseSensitive(lag,
	    "ms"));
	if (strcmp(cell[2], "unknown") == 0)
		snprintf(cell[2], 256, "%s", dash);
	s = jstr(lag, "source");
	snprintf(cell[3], 256, "%s", s != NULL ? s : dash);
	snprintf(cell[4], 256, "%s", jtext(b, sizeof(b), repl, "io_running"));
	snprintf(cell[5], 256, "%s", jtext(b, sizeof(b), repl,
	    "sql_running"));
	if (jnum(t, "since_unix_ms", &ms))
		fmt_duration(cell[6], 256, (now_unix_ms() - ms) / 1000);
	else
		snprintf(cell[6], 256, "%s", dash);
	snprintf(cell[7], 256, "%s%s", jobj(t, "muted") != NULL ? "[muted] " :
	    "", jtext(b, sizeof(b), t, "reason"));
}

static void
status_table(const cJSON *targets)
{
	static const char *const head[ST_COLS] = { "TARGET", "STATE", "LAG",
	    "SOURCE", "IO", "SQL", "SINCE", "REASON" };
	char (*cells)[ST_COLS][256];
	const cJSON *t;
	int n = cJSON_GetArraySize(targets), i, c, w[ST_COLS];

	cells = xcalloc(n > 0 ? n : 1, sizeof(*cells));
	for (c = 0; c < ST_COLS; c++)
		w[c] = text_width(head[c]);
	i = 0;
	cJSON_ArrayForEach(t, targets) {
		status_row(t, cells[i]);
		for (c = 0; c < ST_COLS; c++)
			if (text_width(cells[i][c]) > w[c])
				w[c] = text_width(cells[i][c]);
		i++;
	}
	for (c = 0; c < ST_COLS; c++) {
		if (c == ST_COLS - 1)
			puts(head[c]);
		else
			put_padded(head[c], w[c] + 2, NULL);
	}
	for (i = 0; i < n; i++) {
		for (c = 0; c < ST_COLS; c++) {
			if (c == ST_COLS - 1)
				puts(cells[i][c]);
			else if (c == 1)
				put_padded(cells[i][c], w[c] + 2,
				    state_colour(cells[i][c]));
			else
				put_padded(cells[i][c], w[c] + 2, NULL);
		}
	}
	free(cells);
}

void
output_status(const cJSON *r)
{
	const cJSON *targets = cJSON_GetObjectItemCaseSensitive(r, "targets");

	if (cJSON_IsArray(targets))
		status_table(targets);
	else
		status_one(r);
}

/* -- lag -- */

static void
lag_line(const cJSON *t, int tw, int sw)
{
	const cJSON *lag = jobj(t, "lag");
	char b[256];
	const char *s;

	put_padded(jtext(b, sizeof(b), t, "target"), tw + 2, NULL);
	put_state(jstr(t, "state"), sw + 2);
	printf("lag %s", lag_summary(b, sizeof(b), lag));
	printf("   seconds_behind_master %s", jtext(b, sizeof(b), lag,
	    "seconds_behind_master"));
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(lag,
	    "heartbeat_ms")))
		printf("   heartbeat %s ms", jtext(b, sizeof(b), lag,
		    "heartbeat_ms"));
	if ((s = jstr(lag, "position_bytes")) != NULL)
		printf("   position %s bytes", s);
	putchar('\n');
}

void
output_lag(const cJSON *r)
{
	const cJSON *targets = cJSON_GetObjectItemCaseSensitive(r, "targets");
	const cJSON *t;
	char b[256];
	int tw = 0, sw = 0;

	if (!cJSON_IsArray(targets)) {
		lag_line(r, 0, 0);
		return;
	}
	/* Align the columns so a glance down the list compares targets. */
	cJSON_ArrayForEach(t, targets) {
		if (text_width(jtext(b, sizeof(b), t, "target")) > tw)
			tw = text_width(jtext(b, sizeof(b), t, "target"));
		if (text_width(jtext(b, sizeof(b), t, "state")) > sw)
			sw = text_width(jtext(b, sizeof(b), t, "state"));
	}
	cJSON_ArrayForEach(t, targets)
		lag_line(t, tw, sw);
}

/* -- history -- */

void
output_history(const cJSON *r)
{
	static const char *const keys[] = { "min_ms", "avg_ms", "p95_ms",
	    "max_ms" };
	const cJSON *wins = jobj(r, "windows"), *w, *s, *lag;
	const cJSON *samples = cJSON_GetObjectItemCaseSensitive(r, "samples");
	char b[64], b2[256];
	int i, col, n = cJSON_GetArraySize(samples);
	double d;

	printf("%s: polled every %s ms\n", jtext(b2, sizeof(b2), r, "target"),
	    jtext(b, sizeof(b), r, "interval_ms"));
	cJSON_ArrayForEach(w, wins) {
		printf("  %-4s %5s samples", w->string, jtext(b, sizeof(b), w,
		    "samples"));
		if (jnum(w, "unknown", &d) && d > 0)
			printf(" (%.0f unknown)", d);
		if (!jnum(w, "min_ms", &d)) {
			printf("   no known lag\n");
			continue;
		}
		printf("   min/avg/p95/max ");
		for (i = 0; i < 4; i++)
			printf("%s%s", i ? "/" : "", jtext(b, sizeof(b), w,
			    keys[i]));
		printf(" ms\n");
	}
	if (n == 0)
		return;
	printf("  last %d samples, oldest first, lag in ms (%s: unknown):\n",
	    n, dash);
	col = 0;
	cJSON_ArrayForEach(s, samples) {
		lag = cJSON_GetObjectItemCaseSensitive(s, "lag_ms");
		if (cJSON_IsNumber(lag))
			fmt_num(b, sizeof(b), lag->valuedouble);
		else
			snprintf(b, sizeof(b), "%s", dash);
		if (col > 0 && col + 1 + text_width(b) > 76) {
			putchar('\n');
			col = 0;
		}
		col += printf("%s%s", col ? " " : "    ", b);
	}
	putchar('\n');
}

/* -- events and watch -- */

/* An operator's action (or a mute's end): what, by whom, why. */
static void
action_line(const char *ts, const cJSON *e)
{
	char b[256], u[64];
	const char *reason = jstr(e, "reason"), *by = jstr(e, "by");
	double d;

	printf("%s %s %s", ts, jtext(b, sizeof(b), e, "target"),
	    jtext(b, sizeof(b), e, "kind"));
	if (jnum(e, "errno", &d))
		printf(" %.0f", d);
	if (jnum(e, "until_unix_ms", &d))
		printf(" until %s", timefmt_local((int64_t)d, u, sizeof(u)));
	if (by != NULL)
		printf(" by %s", by);
	printf(" (in state %s)", jtext(b, sizeof(b), e, "to"));
	if (reason != NULL && *reason != '\0')
		printf(": %s", reason);
	putchar('\n');
}

static void
change_line(const char *ts, const cJSON *e)
{
	char b[256];
	const char *reason = jstr(e, "reason"), *kind = jstr(e, "kind");

	if (kind != NULL && strcmp(kind, "state_change") != 0) {
		action_line(ts, e);
		return;
	}

	printf("%s %s %s -> ", ts, jtext(b, sizeof(b), e, "target"),
	    jtext(b, sizeof(b), e, "from"));
	put_state(jstr(e, "to"), 0);
	if (reason != NULL && *reason != '\0')
		printf(": %s", reason);
	putchar('\n');
}

static const char *
event_ts(char *buf, size_t len, const cJSON *e)
{
	const char *ts = jstr(e, "ts");
	double ms;

	if (ts != NULL)
		return ts;
	return timefmt_iso8601(jnum(e, "ts_unix_ms", &ms) ? (int64_t)ms :
	    now_unix_ms(), buf, len);
}

void
output_events(const cJSON *r)
{
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(r, "events");
	const cJSON *e;
	char ts[64];

	if (cJSON_GetArraySize(events) == 0) {
		printf("no events\n");
		return;
	}
	cJSON_ArrayForEach(e, events)
		change_line(event_ts(ts, sizeof(ts), e), e);
}

void
output_watch_event(const cJSON *e)
{
	const char *type = jstr(e, "type"), *reason;
	char ts[64], b[256], l[64];
	char *raw;

	if (type != NULL && (strcmp(type, "change") == 0 ||
	    strcmp(type, "action") == 0)) {
		change_line(event_ts(ts, sizeof(ts), e), e);
		return;
	}
	if (type != NULL && strcmp(type, "sample") == 0) {
		printf("%s %s sample ", event_ts(ts, sizeof(ts), e),
		    jtext(b, sizeof(b), e, "target"));
		put_state(jstr(e, "state"), 0);
		printf(", lag %s\n", output_lag_text(l, sizeof(l),
		    cJSON_GetObjectItemCaseSensitive(e, "lag_ms")));
		return;
	}
	if (type != NULL && strcmp(type, "state") == 0) {
		/* The snapshot has no time of its own: it is "now". */
		printf("%s %s is ", timefmt_iso8601(now_unix_ms(), ts, sizeof(ts)),
		    jtext(b, sizeof(b), e, "target"));
		put_state(jstr(e, "state"), 0);
		printf(", lag %s", lag_summary(l, sizeof(l), jobj(e, "lag")));
		if ((reason = jstr(e, "reason")) != NULL && *reason != '\0')
			printf(": %s", reason);
		putchar('\n');
		return;
	}
	/* A kind this client does not know yet: show it, do not drop it. */
	raw = cJSON_PrintUnformatted(e);
	printf("%s %s\n", timefmt_iso8601(now_unix_ms(), ts, sizeof(ts)),
	    raw != NULL ? raw : "?");
	free(raw);
}

/* -- check and wait: objects the client built, same single path -- */

void
output_check(const cJSON *v)
{
	const char *perf = jstr(v, "perfdata");
	char b1[16], b2[1024];

	printf("REPLWATCH %s - %s", jtext(b1, sizeof(b1), v, "status"),
	    jtext(b2, sizeof(b2), v, "text"));
	if (perf != NULL && *perf != '\0')
		printf(" | %s", perf);
	putchar('\n');
}

void
output_wait(const cJSON *w)
{
	char b1[256], b2[64], b3[64];
	const char *reason;
	double d;

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w, "caught_up"))) {
		printf("%s: caught up, lag %s\n", jtext(b1, sizeof(b1), w,
		    "target"), output_lag_text(b2, sizeof(b2),
		    cJSON_GetObjectItemCaseSensitive(w, "lag_ms")));
		return;
	}
	printf("%s: timed out after %s s: ", jtext(b1, sizeof(b1), w,
	    "target"), jnum(w, "timeout_s", &d) ? fmt_num(b3, sizeof(b3), d) :
	    "?");
	if (jstr(w, "state") == NULL) {
		printf("no state received from the daemon\n");
		return;
	}
	put_state(jstr(w, "state"), 0);
	printf(", lag %s", output_lag_text(b2, sizeof(b2),
	    cJSON_GetObjectItemCaseSensitive(w, "lag_ms")));
	if ((reason = jstr(w, "reason")) != NULL && *reason != '\0')
		printf(" (%s)", reason);
	putchar('\n');
}
