/*
 * check: a monitoring-plugin verdict (Nagios, Icinga) from a target's
 * status.  The rules, also in replwatchctl(8):
 *
 * - the daemon's state sets the floor: ok and promoted are OK; lagging,
 *   io_connecting and promoting WARNING; lag_critical, every error, stopped
 *   thread, not_replicating, unreachable, unresponsive,
 *   promotion_interrupted, and a promoted target's primary_unreachable and
 *   primary_read_only CRITICAL; unknown (no sample yet) and any state
 *   this client does not know UNKNOWN;
 * - --warn/--crit (default: the daemon's thresholds) can only raise it:
 *   a known lag at or above them makes an OK or WARNING state WARNING or
 *   CRITICAL, so a stricter check needs no daemon change;
 * - an unknown lag is no reason for alarm by itself: the daemon's state
 *   already says whether the threads run.  "ok" with no lag figure is OK,
 *   and the text says "lag unknown".
 * Any failure to get a verdict (no daemon, an error reply, a reply we
 * cannot read, a usage mistake) is UNKNOWN, exit 3.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "output.h"
#include "xmalloc.h"

static const char *const status_word[] = {
	"OK", "WARNING", "CRITICAL", "UNKNOWN"
};

static const char *const ok_states[] = { "ok", "promoted", NULL };
static const char *const warning_states[] = {
	"lagging", "io_connecting", "promoting", NULL
};
static const char *const critical_states[] = {
	"unreachable", "unresponsive", "sql_error", "io_error", "sql_stopped",
	"io_stopped", "not_replicating", "lag_critical",
	"promotion_interrupted", "primary_unreachable", "primary_read_only",
	NULL
};

static int
in(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

static int
state_status(const char *state)
{
	if (in(state, ok_states))
		return PLUGIN_OK;
	if (in(state, warning_states))
		return PLUGIN_WARNING;
	if (in(state, critical_states))
		return PLUGIN_CRITICAL;
	return PLUGIN_UNKNOWN;
}

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

static cJSON *
verdict(int status, const char *text, const char *perfdata)
{
	cJSON *v = cJSON_CreateObject();
	char *t = xstrdup(text);

	sanitise(t);
	cJSON_AddStringToObject(v, "status", status_word[status]);
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
	v = verdict(PLUGIN_UNKNOWN, msg, "");
	output_print(output_check, v);
	cJSON_Delete(v);
	return PLUGIN_UNKNOWN;
}

static double
threshold_s(double given_s, const cJSON *thresholds, const char *key)
{
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(thresholds, key);

	if (given_s >= 0)
		return given_s;
	return cJSON_IsNumber(ms) ? ms->valuedouble / 1000 : -1;
}

static void
add_num_or_null(cJSON *o, const char *key, int known, double d)
{
	if (known)
		cJSON_AddNumberToObject(o, key, d);
	else
		cJSON_AddNullToObject(o, key);
}

int
cmd_check(struct ctl *ctl, const struct cmd_args *a)
{
	cJSON *root, *t, *v;
	const cJSON *lag, *ms, *src, *reason;
	const char *state, *lag_src = NULL;
	char text[1024], perf[256], lagtxt[128], w[32], c[32];
	double warn_s, crit_s, lag_s = 0;
	int st, status, lag_known, show_reason;

	if ((st = ctl_call(ctl, "status", a->target, NULL, &root, &t)) != 0)
		return st;
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(t, "state"))) {
		cJSON_Delete(root);
		return check_unknown("%s: the daemon's status has no state",
		    a->target);
	}
	state = cJSON_GetObjectItemCaseSensitive(t, "state")->valuestring;
	reason = cJSON_GetObjectItemCaseSensitive(t, "reason");
	lag = cJSON_GetObjectItemCaseSensitive(t, "lag");
	ms = cJSON_GetObjectItemCaseSensitive(lag, "ms");
	src = cJSON_GetObjectItemCaseSensitive(lag, "source");
	if ((lag_known = cJSON_IsNumber(ms)))
		lag_s = ms->valuedouble / 1000;
	if (cJSON_IsString(src))
		lag_src = src->valuestring;
	warn_s = threshold_s(a->warn_s, cJSON_GetObjectItemCaseSensitive(t,
	    "thresholds"), "lag_warn_ms");
	crit_s = threshold_s(a->crit_s, cJSON_GetObjectItemCaseSensitive(t,
	    "thresholds"), "lag_crit_ms");

	status = state_status(state);
	show_reason = strcmp(state, "ok") != 0;
	if (lag_known && lag_src != NULL && strcmp(lag_src, "none") != 0)
		snprintf(lagtxt, sizeof(lagtxt), ", lag %.3fs (%s)", lag_s,
		    lag_src);
	else if (lag_known)
		snprintf(lagtxt, sizeof(lagtxt), ", lag %.3fs", lag_s);
	else
		snprintf(lagtxt, sizeof(lagtxt), ", lag unknown");
	/* The thresholds only make a healthy or warning state worse. */
	if (lag_known && (status == PLUGIN_OK || status == PLUGIN_WARNING) &&
	    strcmp(state, "promoted") != 0 && strcmp(state, "promoting") != 0) {
		size_t l = strlen(lagtxt);

		if (crit_s >= 0 && lag_s >= crit_s) {
			status = PLUGIN_CRITICAL;
			snprintf(lagtxt + l, sizeof(lagtxt) - l, " >= crit %gs",
			    crit_s);
		} else if (warn_s >= 0 && lag_s >= warn_s) {
			status = PLUGIN_WARNING;
			snprintf(lagtxt + l, sizeof(lagtxt) - l, " >= warn %gs",
			    warn_s);
		}
	}
	if (strcmp(state, "promoted") == 0)
		snprintf(text, sizeof(text), "%s promoted, no longer a replica",
		    a->target);
	else
		snprintf(text, sizeof(text), "%s %s%s", a->target, state,
		    lagtxt);
	if (show_reason && cJSON_IsString(reason) &&
	    reason->valuestring[0] != '\0') {
		size_t l = strlen(text);

		snprintf(text + l, sizeof(text) - l, ": %s",
		    reason->valuestring);
	}

	/* Perfdata: lag in seconds with the thresholds in force; U unknown. */
	snprintf(w, sizeof(w), "%g", warn_s);
	snprintf(c, sizeof(c), "%g", crit_s);
	if (lag_known)
		snprintf(lagtxt, sizeof(lagtxt), "%.3fs", lag_s);
	else
		snprintf(lagtxt, sizeof(lagtxt), "U");
	snprintf(perf, sizeof(perf), "lag=%s;%s;%s;0 state=%d", lagtxt,
	    warn_s >= 0 ? w : "", crit_s >= 0 ? c : "", status);

	v = verdict(status, text, perf);
	cJSON_AddStringToObject(v, "target", a->target);
	cJSON_AddStringToObject(v, "state", state);
	add_num_or_null(v, "lag_s", lag_known, lag_s);
	if (lag_src != NULL)
		cJSON_AddStringToObject(v, "lag_source", lag_src);
	add_num_or_null(v, "warn_s", warn_s >= 0, warn_s);
	add_num_or_null(v, "crit_s", crit_s >= 0, crit_s);
	output_print(output_check, v);
	cJSON_Delete(v);
	cJSON_Delete(root);
	return status;
}
