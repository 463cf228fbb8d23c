/* status and lag: a target's health in full, or a line per target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "ctl.h"
#include "health.h"
#include "xmalloc.h"

static const char *
since_text(char *buf, size_t len, const cJSON *t)
{
	char when[48], ago[32];
	double ms;

	if (out_time_member(when, sizeof(when), t, "since") == NULL)
		return NULL;
	if (out_num(t, "since_unix_ms", &ms))
		snprintf(buf, len, "since %s, %s", when, out_duration(ago,
		    sizeof(ago), (now_unix_ms() - ms) / 1000));
	else
		snprintf(buf, len, "since %s", when);
	return buf;
}

static const char *
host_port(char *buf, size_t len, const cJSON *o, const char *hk,
    const char *pk)
{
	char b1[256], b2[32];

	snprintf(buf, len, "%s:%s", out_text(b1, sizeof(b1), o, hk),
	    out_text(b2, sizeof(b2), o, pk));
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
		if (!out_num(repl, key_no, &no) || no == 0)
			continue;
		msg = out_str(repl, key_msg);
		printf("%s%s %.0f: %s\n", n++ ? "             " : "",
		    which[i], no, msg != NULL ? msg : "");
	}
	if (n == 0)
		printf("%s\n", out_dash());
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
		printf("%s\n", out_dash());
		return;
	}
	cJSON_ArrayForEach(w, hist) {
		printf("%s%s ", first ? "" : "   ", w->string);
		first = 0;
		if (!out_num(w, "min_ms", &d)) {
			fputs(out_dash(), stdout);
			continue;
		}
		fputs("min/avg/p95/max ", stdout);
		for (i = 0; i < 4; i++)
			printf("%s%s", i ? "/" : "", out_text(b, sizeof(b), w,
			    keys[i]));
		fputs(" ms", stdout);
	}
	putchar('\n');
}

/* "   seconds_behind_master 0   heartbeat 120 ms   position 4096 bytes" */
static void
lag_details(const cJSON *lag, int dash_position)
{
	char b[64];
	const char *s;

	printf("   seconds_behind_master %s", out_text(b, sizeof(b), lag,
	    "seconds_behind_master"));
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(lag,
	    "heartbeat_ms")))
		printf("   heartbeat %s ms", out_text(b, sizeof(b), lag,
		    "heartbeat_ms"));
	if ((s = out_str(lag, "position_bytes")) != NULL)
		printf("   position %s bytes", s);
	else if (dash_position)
		printf("   position %s", out_dash());
}

static void
status_threads(const cJSON *repl)
{
	char b1[512], b2[512], b3[512];
	const char *s;
	double d;

	printf("  threads    ");
	if (repl == NULL) {
		printf("%s\n", out_dash());
		return;
	}
	if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(repl,
	    "configured"))) {
		printf("replication not configured\n");
		return;
	}
	printf("io %s   sql %s", out_text(b1, sizeof(b1), repl, "io_running"),
	    out_text(b2, sizeof(b2), repl, "sql_running"));
	if (out_num(repl, "sql_delay", &d) && d > 0)
		printf("   delay %.0f s (remaining %s)", d, out_text(b1,
		    sizeof(b1), repl, "sql_remaining_delay"));
	putchar('\n');

	printf("  master     %s   read %s   exec %s",
	    host_port(b1, sizeof(b1), repl, "master_host", "master_port"),
	    out_binlog_pos(b2, sizeof(b2), repl, "master_log_file",
	    "read_master_log_pos"),
	    out_binlog_pos(b3, sizeof(b3), repl, "relay_master_log_file",
	    "exec_master_log_pos"));
	if ((s = out_str(repl, "using_gtid")) != NULL &&
	    strcasecmp(s, "No") != 0 && out_str(repl, "gtid_io_pos") != NULL)
		printf("   gtid %s", out_str(repl, "gtid_io_pos"));
	putchar('\n');

	printf("  errors     ");
	status_errors(repl);
}

static void
status_server(const cJSON *srv)
{
	const cJSON *ro = cJSON_GetObjectItemCaseSensitive(srv, "read_only");
	char b1[512], b2[512], b3[512];
	const char *s;

	printf("  server     %s %s %s, %s, TLS %s",
	    host_port(b1, sizeof(b1), srv, "host", "port"),
	    out_text(b2, sizeof(b2), srv, "flavor"),
	    out_text(b3, sizeof(b3), srv, "version"),
	    out_true(srv, "connected") ? "connected" : "not connected",
	    out_true(srv, "encrypted") ? "on" : "off");
	if (out_true(srv, "encrypted") && (s = out_str(srv, "cipher")) != NULL)
		printf(" (%s)", s);
	printf(", read_only %s", cJSON_IsBool(ro) ? (cJSON_IsTrue(ro) ?
	    "ON" : "OFF") : "unknown");
	if ((s = out_str(srv, "error")) != NULL && *s != '\0')
		printf(", error: %s", s);
	putchar('\n');
}

static void
status_master(const cJSON *mst)
{
	const cJSON *ro = cJSON_GetObjectItemCaseSensitive(mst, "read_only");
	char b1[512], b2[512];
	const char *s;

	printf("  master db  %s, %s, at %s",
	    host_port(b1, sizeof(b1), mst, "host", "port"),
	    out_true(mst, "connected") ? "connected" : "not connected",
	    out_binlog_pos(b2, sizeof(b2), mst, "log_file", "log_pos"));
	if ((s = out_str(mst, "gtid_binlog_pos")) != NULL && *s != '\0')
		printf(", gtid %s", s);
	if (cJSON_IsBool(ro))
		printf(", read_only %s", cJSON_IsTrue(ro) ? "ON" : "OFF");
	if ((s = out_str(mst, "error")) != NULL)
		printf(", error: %s", s);
	putchar('\n');
}

static void
status_polls(const cJSON *polls)
{
	char b1[64], b2[64];
	double d;

	printf("  polls      %s ok, %s failed", out_text(b1, sizeof(b1),
	    polls, "ok"), out_text(b2, sizeof(b2), polls, "failed"));
	if (out_num(polls, "last_ms", &d))
		printf(", last %s ms", out_number(b1, sizeof(b1), d));
	if (out_num(polls, "last_unix_ms", &d))
		printf(" (%s ago)", out_duration(b1, sizeof(b1),
		    (now_unix_ms() - d) / 1000));
	if (out_num(polls, "interval_ms", &d))
		printf(", every %.0f ms", d);
	if (out_num(polls, "consecutive_failures", &d) && d > 0)
		printf(", %.0f failing in a row", d);
	putchar('\n');
}

/* Muted for maintenance (the "muted" object of the protocol). */
static void
status_muted(const cJSON *m)
{
	char when[48], left[32];
	const char *s;
	double ms;

	printf("  muted      until %s", out_time_member(when, sizeof(when), m,
	    "until") != NULL ? when : out_dash());
	if (out_num(m, "until_unix_ms", &ms) && ms > now_unix_ms())
		printf(" (%s left)", out_duration(left, sizeof(left),
		    (ms - now_unix_ms()) / 1000));
	if ((s = out_str(m, "by")) != NULL && *s != '\0')
		printf(", by %s", s);
	if ((s = out_str(m, "reason")) != NULL && *s != '\0')
		printf(": %s", s);
	putchar('\n');
}

/* The new primary after a promotion (the "primary" object). */
static void
status_primary(const cJSON *p)
{
	const cJSON *ro = cJSON_GetObjectItemCaseSensitive(p, "read_only");
	const cJSON *mv = cJSON_GetObjectItemCaseSensitive(p, "binlog_moving");
	char b[512], when[48];
	const char *s;

	printf("  primary    %s", out_true(p, "reachable") ? "reachable" :
	    "unreachable");
	if (out_true(p, "reachable"))
		printf(", %s", out_true(p, "writable") ? "writable" :
		    "not writable");
	if ((s = out_str(p, "why_not")) != NULL && *s != '\0')
		printf(" (%s)", s);
	if (cJSON_IsBool(ro))
		printf(", read_only %s", cJSON_IsTrue(ro) ? "ON" : "OFF");
	if (out_str(p, "binlog_file") != NULL)
		printf(", binlog %s%s", out_binlog_pos(b, sizeof(b), p,
		    "binlog_file", "binlog_pos"), cJSON_IsBool(mv) ?
		    (cJSON_IsTrue(mv) ? " moving" : " still") : "");
	if (out_time_member(when, sizeof(when), p, "checked") != NULL)
		printf(", checked %s", when);
	putchar('\n');
}

static void
status_one(const cJSON *t)
{
	const cJSON *lag = out_obj(t, "lag"), *o;
	const char *reason = out_str(t, "reason");
	char b[512];

	printf("%s: ", out_text(b, sizeof(b), t, "target"));
	out_state(out_str(t, "state"), 0);
	if (reason != NULL && *reason != '\0')
		printf(" %s %s", out_dash(), reason);
	if (since_text(b, sizeof(b), t) != NULL)
		printf("   (%s)", b);
	putchar('\n');

	printf("  lag        %s", out_lag_summary(b, sizeof(b), lag));
	lag_details(lag, 1);
	putchar('\n');
	status_threads(out_obj(t, "replication"));
	if ((o = out_obj(t, "server")) != NULL)
		status_server(o);
	if ((o = out_obj(t, "master")) != NULL)
		status_master(o);
	printf("  history    ");
	status_history(out_obj(t, "history"));
	if ((o = out_obj(t, "polls")) != NULL)
		status_polls(o);
	if ((o = out_obj(t, "muted")) != NULL)
		status_muted(o);
	if ((o = out_obj(t, "primary")) != NULL)
		status_primary(o);
	if ((o = out_obj(t, "promotion")) != NULL)
		promote_status_text(o);
}

#define ST_COLS	8

static void
status_row(const cJSON *t, char cell[ST_COLS][256])
{
	const cJSON *lag = out_obj(t, "lag"), *repl = out_obj(t, "replication");
	char b[256];
	const char *s;
	double ms;

	snprintf(cell[0], 256, "%s", out_text(b, sizeof(b), t, "target"));
	snprintf(cell[1], 256, "%s", out_text(b, sizeof(b), t, "state"));
	output_lag_text(cell[2], 256, cJSON_GetObjectItemCaseSensitive(lag,
	    "ms"));
	if (strcmp(cell[2], "unknown") == 0)
		snprintf(cell[2], 256, "%s", out_dash());
	s = out_str(lag, "source");
	snprintf(cell[3], 256, "%s", s != NULL ? s : out_dash());
	snprintf(cell[4], 256, "%s", out_text(b, sizeof(b), repl,
	    "io_running"));
	snprintf(cell[5], 256, "%s", out_text(b, sizeof(b), repl,
	    "sql_running"));
	if (out_num(t, "since_unix_ms", &ms))
		out_duration(cell[6], 256, (now_unix_ms() - ms) / 1000);
	else
		snprintf(cell[6], 256, "%s", out_dash());
	snprintf(cell[7], 256, "%s%s", out_obj(t, "muted") != NULL ?
	    "[muted] " : "", out_text(b, sizeof(b), t, "reason"));
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
		w[c] = out_width(head[c]);
	i = 0;
	cJSON_ArrayForEach(t, targets) {
		status_row(t, cells[i]);
		for (c = 0; c < ST_COLS; c++)
			if (out_width(cells[i][c]) > w[c])
				w[c] = out_width(cells[i][c]);
		i++;
	}
	for (c = 0; c < ST_COLS; c++) {
		if (c == ST_COLS - 1)
			puts(head[c]);
		else
			out_padded(head[c], w[c] + 2, NULL);
	}
	for (i = 0; i < n; i++) {
		for (c = 0; c < ST_COLS; c++) {
			if (c == ST_COLS - 1)
				puts(cells[i][c]);
			else if (c == 1)
				out_state(cells[i][c], w[c] + 2);
			else
				out_padded(cells[i][c], w[c] + 2, NULL);
		}
	}
	free(cells);
}

static void
status_text(const cJSON *r)
{
	const cJSON *targets = cJSON_GetObjectItemCaseSensitive(r, "targets");

	if (cJSON_IsArray(targets))
		status_table(targets);
	else
		status_one(r);
}

/* -- tsv: the same row for one target as for each of all -- */

static void
status_tsv_row(const cJSON *t)
{
	const cJSON *lag = out_obj(t, "lag"), *repl = out_obj(t, "replication");
	char b[7][64];
	const char *f[9];

	f[0] = tsv_member(b[0], sizeof(b[0]), t, "target");
	f[1] = tsv_member(b[1], sizeof(b[1]), t, "state");
	f[2] = health_severity_name(health_severity_of(out_str(t, "state")));
	f[3] = tsv_member(b[2], sizeof(b[2]), lag, "ms");
	f[4] = tsv_member(b[3], sizeof(b[3]), lag, "source");
	f[5] = tsv_member(b[4], sizeof(b[4]), repl, "io_running");
	f[6] = tsv_member(b[6], sizeof(b[6]), repl, "sql_running");
	f[7] = out_time_member(b[5], sizeof(b[5]), t, "since");
	f[8] = out_str(t, "reason");
	tsv_row(f, 9);
}

static void
status_tsv(const cJSON *r)
{
	static const char *const head[] = { "target", "state", "severity",
	    "lag_ms", "lag_source", "io_running", "sql_running", "since",
	    "reason" };
	const cJSON *targets = cJSON_GetObjectItemCaseSensitive(r, "targets");
	const cJSON *t;

	tsv_row(head, 9);
	if (!cJSON_IsArray(targets)) {
		status_tsv_row(r);
		return;
	}
	cJSON_ArrayForEach(t, targets)
		status_tsv_row(t);
}

const struct ctl_cmd cmd_status_entry = {
	.name = "status",
	.flags = CMD_TARGET_OPT,
	.usage = "[TARGET]",
	.summary = "a target's health, or one line per target",
	.help =
	    "Show a target's health: state and reason, lag, replication threads,\n"
	    "binlog positions, errors, the server, lag history and poll counts.\n"
	    "Without TARGET: one line per target.  --format tsv: a row per\n"
	    "target (target, state, severity, lag_ms, lag_source, io_running,\n"
	    "sql_running, since, reason).\n",
	.text = status_text,
	.tsv = status_tsv,
};

/* -- lag -- */

static void
lag_line(const cJSON *t, int tw, int sw)
{
	char b[256];

	/* Two spaces after each column, however wide: words never touch. */
	out_padded(out_text(b, sizeof(b), t, "target"), tw + 2, NULL);
	out_state(out_str(t, "state"), sw + 2);
	printf("lag %s", out_lag_summary(b, sizeof(b), out_obj(t, "lag")));
	lag_details(out_obj(t, "lag"), 0);
	putchar('\n');
}

static void
lag_widths(const cJSON *t, int *tw, int *sw)
{
	char b[256];

	if (out_width(out_text(b, sizeof(b), t, "target")) > *tw)
		*tw = out_width(out_text(b, sizeof(b), t, "target"));
	if (out_width(out_text(b, sizeof(b), t, "state")) > *sw)
		*sw = out_width(out_text(b, sizeof(b), t, "state"));
}

static void
lag_text(const cJSON *r)
{
	const cJSON *targets = cJSON_GetObjectItemCaseSensitive(r, "targets");
	const cJSON *t;
	int tw = 0, sw = 0;

	if (!cJSON_IsArray(targets)) {
		lag_widths(r, &tw, &sw);
		lag_line(r, tw, sw);
		return;
	}
	/* Align the columns so a glance down the list compares targets. */
	cJSON_ArrayForEach(t, targets)
		lag_widths(t, &tw, &sw);
	cJSON_ArrayForEach(t, targets)
		lag_line(t, tw, sw);
}

static void
lag_tsv_row(const cJSON *t)
{
	const cJSON *lag = out_obj(t, "lag");
	char b[7][64];
	const char *f[7];

	f[0] = tsv_member(b[0], sizeof(b[0]), t, "target");
	f[1] = tsv_member(b[1], sizeof(b[1]), t, "state");
	f[2] = tsv_member(b[2], sizeof(b[2]), lag, "ms");
	f[3] = tsv_member(b[3], sizeof(b[3]), lag, "source");
	f[4] = tsv_member(b[4], sizeof(b[4]), lag, "seconds_behind_master");
	f[5] = tsv_member(b[5], sizeof(b[5]), lag, "heartbeat_ms");
	f[6] = tsv_member(b[6], sizeof(b[6]), lag, "position_bytes");
	tsv_row(f, 7);
}

static void
lag_tsv(const cJSON *r)
{
	static const char *const head[] = { "target", "state", "lag_ms",
	    "lag_source", "seconds_behind_master", "heartbeat_ms",
	    "position_bytes" };
	const cJSON *targets = cJSON_GetObjectItemCaseSensitive(r, "targets");
	const cJSON *t;

	tsv_row(head, 7);
	if (!cJSON_IsArray(targets)) {
		lag_tsv_row(r);
		return;
	}
	cJSON_ArrayForEach(t, targets)
		lag_tsv_row(t);
}

const struct ctl_cmd cmd_lag_entry = {
	.name = "lag",
	.flags = CMD_TARGET_OPT,
	.usage = "[TARGET]",
	.summary = "lag of one target or of each",
	.help =
	    "Show the lag of a target (or of every target), one line each: the\n"
	    "headline lag and its source, seconds_behind_master, heartbeat and\n"
	    "position lag.  --format tsv: a row per target (target, state,\n"
	    "lag_ms, lag_source, seconds_behind_master, heartbeat_ms,\n"
	    "position_bytes).\n",
	.text = lag_text,
	.tsv = lag_tsv,
};
