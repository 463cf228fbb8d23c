/*
 * check: a monitoring plugin (Nagios, Icinga, Naemon, Zabbix's external
 * checks) after the Monitoring Plugins Development Guidelines
 * (https://www.monitoring-plugins.org/doc/guidelines.html):
 *
 * - one line, "REPLWATCH STATUS: text | perfdata", and the exit status
 *   0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN;
 * - -w/--warning and -c/--critical take ranges (range.h) that the lag in
 *   seconds is judged against; absent, the daemon's lag_warn_s and
 *   lag_crit_s for the target, as 0:N;
 * - -t/--timeout bounds the whole run: past it, UNKNOWN "timed out";
 * - -H/--hostname or TARGET picks a target; none checks every target, the
 *   worst status wins, and the perfdata has each target's figures;
 * - perfdata: the lag in s with the ranges in force and min 0, the
 *   position lag in B when the daemon knows it, and the status.
 * The rules from state, lag and mute to a status are lib/verdict.c.
 * Any failure to get a verdict (no daemon, an error reply, a reply we
 * cannot read, a usage mistake) is UNKNOWN, exit 3.
 */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "ctl.h"
#include "output.h"
#include "protocol.h"
#include "range.h"
#include "timefmt.h"
#include "verdict.h"
#include "xmalloc.h"

/* One target's figures and verdict. */
struct tcheck {
	const char	*name;
	const char	*state;
	const char	*reason;
	int		 lag_known;
	double		 lag_s;
	const char	*lag_source;
	const char	*position_bytes;	/* digits, or NULL */
	struct rw_range	 warn, crit;
	int		 has_warn, has_crit;
	int		 muted;
	char		 muted_until[64];	/* local time, for the line */
	const cJSON	*mute;			/* the daemon's object */
	struct verdict	 v;
	char		*text;			/* what it is, for the line */
};

/* What the options asked for. */
struct check_args {
	const char	*target;
	const char	*warning;	/* a range; NULL: the daemon's */
	const char	*critical;
	int		 verbose;
	double		 timeout_s;	/* -t; <= 0: none */
};

/* The line printed if -t expires: made before the timer is armed. */
static char	*timeout_line;
static size_t	 timeout_len;

/* The plugin output is one line and '|' starts the perfdata. */
static void
sanitise(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '|')
			*s = '/';
		else if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

static char *
plugin_line(const cJSON *v)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(v, "status");
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(v, "text");
	const cJSON *perf = cJSON_GetObjectItemCaseSensitive(v, "perfdata");
	char *line;

	xasprintf(&line, "REPLWATCH %s: %s%s%s\n", st->valuestring,
	    text->valuestring, perf->valuestring[0] != '\0' ? " | " : "",
	    perf->valuestring);
	return line;
}

static void
print_line(const cJSON *v)
{
	char *line = plugin_line(v);

	fputs(line, stdout);
	free(line);
}

static cJSON *
verdict_object(enum rw_severity status, const char *text,
    const char *perfdata)
{
	cJSON *v = cJSON_CreateObject();
	char *t = xstrdup(text);

	sanitise(t);
	cJSON_AddStringToObject(v, "status", health_severity_name(status));
	cJSON_AddNumberToObject(v, "code", status);
	cJSON_AddStringToObject(v, "text", t);
	cJSON_AddStringToObject(v, "perfdata", perfdata);
	free(t);
	return v;
}

int
check_unknown(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	cJSON *v;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v = verdict_object(SEVERITY_UNKNOWN, msg, "");
	output_print(print_line, v);
	cJSON_Delete(v);
	return PLUGIN_UNKNOWN;
}

/* -- the whole-run timeout (-t) -- */

/* Only async-signal-safe calls: the line was made beforehand. */
static void
on_timeout(int sig)
{
	size_t off = 0;
	ssize_t w;

	while (off < timeout_len) {
		w = write(STDOUT_FILENO, timeout_line + off, timeout_len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	_exit(PLUGIN_UNKNOWN);
}

static void
timeout_arm(struct ctl *ctl, double secs)
{
	struct sigaction sa;
	struct itimerval it;
	char msg[512];
	cJSON *v;

	snprintf(msg, sizeof(msg), "timed out after %g s (-t) waiting for "
	    "the daemon on %s", secs, ctl->socket);
	v = verdict_object(SEVERITY_UNKNOWN, msg, "");
	if (ctl->format == OUT_JSON) {
		char *s = cJSON_PrintUnformatted(v);

		xasprintf(&timeout_line, "%s\n", s);
		free(s);
	} else
		timeout_line = plugin_line(v);
	timeout_len = strlen(timeout_line);
	cJSON_Delete(v);

	/* The reply timeout must not end the run first, with its words. */
	if (!ctl->timeout_given)
		ctl->timeout_ms = (int)(secs * 1000) + 1000;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_timeout;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)secs;
	it.it_value.tv_usec = (suseconds_t)((secs - floor(secs)) * 1e6);
	if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
		it.it_value.tv_usec = 1;
	setitimer(ITIMER_REAL, &it, NULL);
}

/* Before anything is printed: the verdict is in, it must not race. */
static void
timeout_disarm(void)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	signal(SIGALRM, SIG_IGN);
}

/* -- one target -- */

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The range in force: the user's, else the daemon's threshold as 0:N. */
static int
range_in_force(struct rw_range *r, const char *given, const cJSON *t,
    const char *key)
{
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(t, "thresholds"), key);
	char err[256];

	if (given != NULL)
		return range_parse(given, r, err, sizeof(err)) == 0;
	/* A threshold of 0 is off in the daemon (replwatch.conf(5)). */
	if (!cJSON_IsNumber(ms) || ms->valuedouble <= 0)
		return 0;
	range_upto(r, ms->valuedouble / 1000);
	return 1;
}

static void
read_muted(struct tcheck *tc, const cJSON *t)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(t, "muted");
	const cJSON *ms;
	const char *until;

	if (!cJSON_IsObject(m))
		return;
	tc->muted = 1;
	tc->mute = m;
	ms = cJSON_GetObjectItemCaseSensitive(m, "until_unix_ms");
	if (cJSON_IsNumber(ms))
		timefmt_local((int64_t)ms->valuedouble, tc->muted_until,
		    sizeof(tc->muted_until));
	else if ((until = jstr(m, "until")) != NULL)
		snprintf(tc->muted_until, sizeof(tc->muted_until), "%s", until);
	else
		snprintf(tc->muted_until, sizeof(tc->muted_until), "?");
}

/* "ok, lag 0.012s (heartbeat)[, outside the warning range 10][: reason]" */
static void
describe(struct tcheck *tc)
{
	const struct rw_range *r = NULL;
	const char *level = NULL;
	char *body;
	size_t len;
	FILE *f = open_memstream(&body, &len);
	int promoted = strcmp(tc->state, "promoted") == 0;

	if (f == NULL)
		abort();
	if (promoted)
		fprintf(f, "promoted, no longer a replica");
	else {
		fprintf(f, "%s", tc->state);
		if (!tc->lag_known)
			fprintf(f, ", lag unknown");
		else if (tc->lag_source != NULL &&
		    strcmp(tc->lag_source, "none") != 0)
			fprintf(f, ", lag %.3fs (%s)", tc->lag_s,
			    tc->lag_source);
		else
			fprintf(f, ", lag %.3fs", tc->lag_s);
	}
	if (tc->v.by == VERDICT_BY_WARN)
		r = &tc->warn, level = "warning";
	else if (tc->v.by == VERDICT_BY_CRIT)
		r = &tc->crit, level = "critical";
	if (r != NULL)
		fprintf(f, ", %s the %s range %s", r->inside ? "inside" :
		    "outside", level, r->text);
	if (strcmp(tc->state, "ok") != 0 && tc->reason != NULL &&
	    tc->reason[0] != '\0')
		fprintf(f, ": %s", tc->reason);
	fclose(f);

	if (tc->muted)
		xasprintf(&tc->text, "%s muted until %s: would be %s: %s",
		    tc->name, tc->muted_until,
		    health_severity_name(tc->v.severity), body);
	else
		xasprintf(&tc->text, "%s %s", tc->name, body);
	free(body);
	sanitise(tc->text);
}

/* 0, or -1 when the daemon's object has no state to judge. */
static int
judge_target(struct tcheck *tc, const cJSON *t, const struct check_args *a)
{
	const cJSON *lag, *ms, *pos;
	struct verdict_in in;

	memset(tc, 0, sizeof(*tc));
	tc->name = jstr(t, "target") != NULL ? jstr(t, "target") :
	    (a->target != NULL ? a->target : "?");
	if ((tc->state = jstr(t, "state")) == NULL)
		return -1;
	tc->reason = jstr(t, "reason");
	lag = cJSON_GetObjectItemCaseSensitive(t, "lag");
	ms = cJSON_GetObjectItemCaseSensitive(lag, "ms");
	if ((tc->lag_known = cJSON_IsNumber(ms)))
		tc->lag_s = ms->valuedouble / 1000;
	tc->lag_source = jstr(lag, "source");
	/* A string: the byte count may exceed 2^53. */
	pos = cJSON_GetObjectItemCaseSensitive(lag, "position_bytes");
	if (cJSON_IsString(pos) && pos->valuestring[0] != '\0' &&
	    strspn(pos->valuestring, "0123456789") ==
	    strlen(pos->valuestring))
		tc->position_bytes = pos->valuestring;
	tc->has_warn = range_in_force(&tc->warn, a->warning, t,
	    "lag_warn_ms");
	tc->has_crit = range_in_force(&tc->crit, a->critical, t,
	    "lag_crit_ms");
	read_muted(tc, t);

	memset(&in, 0, sizeof(in));
	in.state = tc->state;
	in.lag_known = tc->lag_known;
	in.lag_s = tc->lag_s;
	in.warn = tc->has_warn ? &tc->warn : NULL;
	in.crit = tc->has_crit ? &tc->crit : NULL;
	in.ranges_given = a->warning != NULL || a->critical != NULL;
	in.muted = tc->muted;
	verdict_judge(&in, &tc->v);
	describe(tc);
	return 0;
}

/*
 * 'label'=value[UOM];[warn];[crit];[min];[max], space separated.  Labels
 * are prefixed with the target when there are several; target names are
 * A-Z a-z 0-9 _ . - (replwatch.conf(5)), so none needs quoting.
 */
static void
perfdata(FILE *f, const struct tcheck *tc, int prefix)
{
	const char *p = prefix ? tc->name : "", *sep = prefix ? "_" : "";

	if (ftell(f) > 0)
		fputc(' ', f);
	if (tc->lag_known)
		fprintf(f, "%s%slag=%.3fs;", p, sep, tc->lag_s);
	else
		fprintf(f, "%s%slag=U;", p, sep);
	fprintf(f, "%s;%s;0", tc->has_warn ? tc->warn.text : "",
	    tc->has_crit ? tc->crit.text : "");
	if (tc->position_bytes != NULL)
		fprintf(f, " %s%sposition_lag=%sB;;;0", p, sep,
		    tc->position_bytes);
	fprintf(f, " %s%sstate=%d", p, sep, (int)tc->v.status);
}

static cJSON *
target_object(const struct tcheck *tc)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "target", tc->name);
	cJSON_AddStringToObject(o, "state", tc->state);
	cJSON_AddStringToObject(o, "status",
	    health_severity_name(tc->v.status));
	cJSON_AddNumberToObject(o, "code", tc->v.status);
	cJSON_AddStringToObject(o, "severity",
	    health_severity_name(tc->v.severity));
	if (tc->lag_known)
		cJSON_AddNumberToObject(o, "lag_s", tc->lag_s);
	else
		cJSON_AddNullToObject(o, "lag_s");
	if (tc->lag_source != NULL)
		cJSON_AddStringToObject(o, "lag_source", tc->lag_source);
	else
		cJSON_AddNullToObject(o, "lag_source");
	if (tc->position_bytes != NULL)
		cJSON_AddStringToObject(o, "position_bytes",
		    tc->position_bytes);
	else
		cJSON_AddNullToObject(o, "position_bytes");
	if (tc->has_warn)
		cJSON_AddStringToObject(o, "warning", tc->warn.text);
	else
		cJSON_AddNullToObject(o, "warning");
	if (tc->has_crit)
		cJSON_AddStringToObject(o, "critical", tc->crit.text);
	else
		cJSON_AddNullToObject(o, "critical");
	/* The daemon's own, as it says it (UTC and unix ms). */
	if (tc->muted)
		cJSON_AddItemToObject(o, "muted", cJSON_Duplicate(tc->mute, 1));
	else
		cJSON_AddNullToObject(o, "muted");
	return o;
}

/*
 * Several targets on one line: those not OK (and the muted) first, the
 * others only with -v, then how many are OK.
 */
static void
summary(FILE *f, const struct tcheck *tc, size_t n, int verbose)
{
	size_t i, ok = 0;

	for (i = 0; i < n; i++) {
		if (tc[i].v.status == SEVERITY_OK && !tc[i].muted) {
			ok++;
			if (!verbose)
				continue;
		}
		fprintf(f, "%s; ", tc[i].text);
	}
	fprintf(f, "%zu of %zu targets OK", ok, n);
}

static int
run_check(struct ctl *ctl, const struct check_args *a)
{
	cJSON *root, *t, *list, *v, *arr;
	const cJSON *item;
	struct tcheck *tc;
	enum rw_severity status = SEVERITY_OK;
	char *text, *perf;
	size_t n = 0, i, tlen, plen;
	FILE *ft, *fp;
	int st;

	if (a->timeout_s > 0)
		timeout_arm(ctl, a->timeout_s);
	st = ctl_call(ctl, "status", a->target, NULL, &root, &t);
	timeout_disarm();
	if (st != 0)
		return st;

	list = a->target != NULL ? NULL :
	    cJSON_GetObjectItemCaseSensitive(t, "targets");
	if (a->target == NULL && !cJSON_IsArray(list)) {
		cJSON_Delete(root);
		return check_unknown("the daemon's status has no targets");
	}
	n = list != NULL ? (size_t)cJSON_GetArraySize(list) : 1;
	if (n == 0) {
		cJSON_Delete(root);
		return check_unknown("the daemon watches no target");
	}
	tc = xcalloc(n, sizeof(*tc));
	i = 0;
	if (list == NULL)
		st = judge_target(&tc[i++], t, a);
	else
		cJSON_ArrayForEach(item, list)
			if ((st = judge_target(&tc[i++], item, a)) != 0)
				break;
	if (st != 0) {
		st = check_unknown("%s: the daemon's status has no state",
		    tc[i - 1].name);
		goto out;
	}

	if ((ft = open_memstream(&text, &tlen)) == NULL ||
	    (fp = open_memstream(&perf, &plen)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		status = verdict_worst(status, tc[i].v.status);
		perfdata(fp, &tc[i], list != NULL);
	}
	if (list == NULL)
		fputs(tc[0].text, ft);
	else
		summary(ft, tc, n, a->verbose);
	fclose(ft);
	fclose(fp);

	v = verdict_object(status, text, perf);
	if (list == NULL) {
		/* One target: its fields beside the verdict's. */
		cJSON *o = target_object(&tc[0]), *m;

		cJSON_DeleteItemFromObjectCaseSensitive(o, "status");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "code");
		while ((m = o->child) != NULL) {
			cJSON_DetachItemViaPointer(o, m);
			cJSON_AddItemToObject(v, m->string, m);
		}
		cJSON_Delete(o);
	} else {
		arr = cJSON_AddArrayToObject(v, "targets");
		for (i = 0; i < n; i++) {
			cJSON *o = target_object(&tc[i]);

			cJSON_AddStringToObject(o, "text", tc[i].text);
			cJSON_AddItemToArray(arr, o);
		}
	}
	output_print(print_line, v);
	cJSON_Delete(v);
	free(text);
	free(perf);
	st = (int)status;
out:
	for (i = 0; i < n; i++)
		free(tc[i].text);
	free(tc);
	cJSON_Delete(root);
	return st;
}

/* -- the entry -- */

static const struct ctl_opt check_opts[] = {
	{ .name = "hostname", .letter = 'H', .type = OT_TEXT, .arg = "T",
	  .help = "the target (or give it as TARGET)" },
	{ .name = "warning", .letter = 'w', .type = OT_TEXT, .arg = "R",
	  .help = "WARNING when the lag in seconds is outside range R" },
	{ .name = "critical", .letter = 'c', .type = OT_TEXT, .arg = "R",
	  .help = "CRITICAL when it is outside R (default: the daemon's\n"
	  "lag_warn_s and lag_crit_s, as 0:N)" },
	{ .name = "warn", .type = OT_TEXT, .arg = "R",
	  .help = "the same as --warning" },
	{ .name = "crit", .type = OT_TEXT, .arg = "R",
	  .help = "the same as --critical" },
	{ .name = "timeout", .letter = 't', .type = OT_SECONDS, .arg = "S",
	  .help = "UNKNOWN when the whole check takes over S s",
	  .min = 0, .max = 86400, .flags = OPT_ABOVE_MIN },
	{ .name = "verbose", .letter = 'v', .type = OT_FLAG,
	  .help = "list the OK targets too" },
	{ .name = "version", .letter = 'V', .type = OT_FLAG,
	  .help = "print the version" },
	{ NULL }
};

/* One of two names for the same option; both given is a mistake. */
static int
alias(const struct ctl_args *a, const char *name, const char *old,
    const char **value, char *why, size_t len)
{
	if (args_has(a, name) && args_has(a, old)) {
		snprintf(why, len, "--%s and --%s are the same option", name,
		    old);
		return -1;
	}
	*value = args_has(a, name) ? args_str(a, name) : args_str(a, old);
	return 0;
}

static int
check_check(const struct ctl_args *a, char *why, size_t len)
{
	static const char *const names[2][2] = { { "warning", "warn" },
	    { "critical", "crit" } };
	const char *r, *host = args_str(a, "hostname");
	struct rw_range range;
	char err[200], as[32];

	for (int i = 0; i < 2; i++) {
		if (alias(a, names[i][0], names[i][1], &r, why, len) == -1)
			return -1;
		if (r != NULL && range_parse(r, &range, err,
		    sizeof(err)) == -1) {
			snprintf(why, len, "%s '%s': %s", args_given_as(a,
			    names[i][args_has(a, names[i][0]) ? 0 : 1], as,
			    sizeof(as)), r, err);
			return -1;
		}
	}
	if (host != NULL && a->target != NULL && strcmp(host, a->target) != 0) {
		snprintf(why, len, "two targets: -H %s and %s", host,
		    a->target);
		return -1;
	}
	return 0;
}

static int
check_exec(struct ctl *ctl, const struct ctl_args *a)
{
	struct check_args ca;
	char why[8];

	if (args_has(a, "version")) {
		printf("replwatchctl %s (protocol %d)\n", RW_VERSION,
		    PROTO_VERSION);
		return PLUGIN_OK;
	}
	memset(&ca, 0, sizeof(ca));
	ca.target = args_has(a, "hostname") ? args_str(a, "hostname") :
	    a->target;
	/* check_check() has refused both names of one option already. */
	alias(a, "warning", "warn", &ca.warning, why, sizeof(why));
	alias(a, "critical", "crit", &ca.critical, why, sizeof(why));
	ca.verbose = args_has(a, "verbose");
	ca.timeout_s = args_num(a, "timeout", 0);
	return run_check(ctl, &ca);
}

const struct ctl_cmd cmd_check_entry = {
	.name = "check",
	.flags = CMD_TARGET_OPT | CMD_PLUGIN,
	.options = check_opts,
	.usage = "[-H TARGET | TARGET] [-w RANGE] [-c RANGE] [-t S] [-v] [-V]",
	.summary = "monitoring-plugin check (exit 0-3)",
	.help =
	    "Monitoring-plugin check (Nagios, Icinga), after the Monitoring\n"
	    "Plugins guidelines: one line, REPLWATCH STATUS: text | perfdata;\n"
	    "exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.  Without a target,\n"
	    "every target: the worst status wins.  A range is [@]start:end:\n"
	    "10 is 0:10, 10: is 10 or more, ~:10 is 10 or less, @10:20 alerts\n"
	    "inside 10..20 instead of outside.\n",
	.check = check_check,
	.exec = check_exec,
};
