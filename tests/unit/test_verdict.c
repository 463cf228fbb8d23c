/*
 * verdict: check's decision from a state, a lag, the ranges and a mute.
 * Severities come from health.c; these tests pin the rules on top of it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "verdict.h"

static struct rw_range daemon_warn, daemon_crit;

static int
setup(void **state)
{
	/* lag_warn_s = 30, lag_crit_s = 300: the defaults. */
	range_upto(&daemon_warn, 30);
	range_upto(&daemon_crit, 300);
	return 0;
}

static struct verdict
judge(const char *st, int lag_known, double lag_s,
    const struct rw_range *w, const struct rw_range *c, int given, int muted)
{
	struct verdict_in in;
	struct verdict v;

	memset(&in, 0, sizeof(in));
	in.state = st;
	in.lag_known = lag_known;
	in.lag_s = lag_s;
	in.warn = w;
	in.crit = c;
	in.ranges_given = given;
	in.muted = muted;
	memset(&v, 0xa5, sizeof(v));
	verdict_judge(&in, &v);
	return v;
}

/* Without -w/-c: the state's severity, from health.c, for every state. */
static void
test_states(void **state)
{
	static const struct {
		const char *state;
		enum rw_severity want;
	} t[] = {
		{ "ok", SEVERITY_OK },
		{ "promoted", SEVERITY_OK },
		{ "lagging", SEVERITY_WARNING },
		{ "io_connecting", SEVERITY_WARNING },
		{ "promoting", SEVERITY_WARNING },
		{ "lag_critical", SEVERITY_CRITICAL },
		{ "sql_error", SEVERITY_CRITICAL },
		{ "io_error", SEVERITY_CRITICAL },
		{ "sql_stopped", SEVERITY_CRITICAL },
		{ "io_stopped", SEVERITY_CRITICAL },
		{ "not_replicating", SEVERITY_CRITICAL },
		{ "unreachable", SEVERITY_CRITICAL },
		{ "unresponsive", SEVERITY_CRITICAL },
		{ "promotion_interrupted", SEVERITY_CRITICAL },
		{ "primary_unreachable", SEVERITY_CRITICAL },
		{ "primary_read_only", SEVERITY_CRITICAL },
		{ "unknown", SEVERITY_UNKNOWN },
		{ "a_state_from_a_newer_daemon", SEVERITY_UNKNOWN },
	};
	struct verdict v;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = judge(t[i].state, 0, 0, &daemon_warn, &daemon_crit, 0, 0);
		if (v.severity != t[i].want || v.status != t[i].want ||
		    v.by != VERDICT_BY_STATE)
			fail_msg("%s: %d/%d, want %d", t[i].state, v.severity,
			    v.status, t[i].want);
	}
	v = judge(NULL, 0, 0, NULL, NULL, 0, 0);
	assert_int_equal(v.status, SEVERITY_UNKNOWN);
}

/* The daemon's thresholds only raise a state's severity. */
static void
test_daemon_thresholds_raise(void **state)
{
	struct verdict v;

	v = judge("ok", 1, 0.2, &daemon_warn, &daemon_crit, 0, 0);
	assert_int_equal(v.status, SEVERITY_OK);
	v = judge("ok", 1, 45, &daemon_warn, &daemon_crit, 0, 0);
	assert_int_equal(v.status, SEVERITY_WARNING);
	assert_int_equal(v.by, VERDICT_BY_WARN);
	v = judge("ok", 1, 301, &daemon_warn, &daemon_crit, 0, 0);
	assert_int_equal(v.status, SEVERITY_CRITICAL);
	assert_int_equal(v.by, VERDICT_BY_CRIT);
	/* lagging (after hysteresis) stays WARNING while the lag falls. */
	v = judge("lagging", 1, 10, &daemon_warn, &daemon_crit, 0, 0);
	assert_int_equal(v.status, SEVERITY_WARNING);
	assert_int_equal(v.by, VERDICT_BY_STATE);
	v = judge("lagging", 1, 400, &daemon_warn, &daemon_crit, 0, 0);
	assert_int_equal(v.status, SEVERITY_CRITICAL);
	/* io_connecting with a critical lag is CRITICAL. */
	v = judge("io_connecting", 1, 400, &daemon_warn, &daemon_crit, 0, 0);
	assert_int_equal(v.status, SEVERITY_CRITICAL);
	/* Never lowered, never raised in the promotion's states. */
	v = judge("sql_stopped", 1, 0, &daemon_warn, &daemon_crit, 0, 0);
	assert_int_equal(v.status, SEVERITY_CRITICAL);
	v = judge("promoted", 1, 1000, &daemon_warn, &daemon_crit, 0, 0);
	assert_int_equal(v.status, SEVERITY_OK);
	v = judge("promoting", 1, 1000, &daemon_warn, &daemon_crit, 0, 0);
	assert_int_equal(v.status, SEVERITY_WARNING);
	/* Unknown stays UNKNOWN: no figure to trust. */
	v = judge("unknown", 1, 1000, &daemon_warn, &daemon_crit, 0, 0);
	assert_int_equal(v.status, SEVERITY_UNKNOWN);
	/* Thresholds off (0 in the daemon): the state alone. */
	v = judge("ok", 1, 1e6, NULL, NULL, 0, 0);
	assert_int_equal(v.status, SEVERITY_OK);
}

/* -w/-c judge the lag states both ways. */
static void
test_given_ranges(void **state)
{
	struct rw_range w, c;
	char err[128];
	struct verdict v;

	assert_int_equal(range_parse("60", &w, err, sizeof(err)), 0);
	assert_int_equal(range_parse("600", &c, err, sizeof(err)), 0);
	/*
	 * Looser than the daemon (30/300): its lagging becomes OK, its
	 * lag_critical only WARNING.
	 */
	v = judge("lagging", 1, 45, &w, &c, 1, 0);
	assert_int_equal(v.status, SEVERITY_OK);
	assert_int_equal(v.by, VERDICT_BY_STATE);
	v = judge("lag_critical", 1, 400, &w, &c, 1, 0);
	assert_int_equal(v.status, SEVERITY_WARNING);
	assert_int_equal(v.by, VERDICT_BY_WARN);
	/* Only -w given: the caller passes the daemon's critical. */
	v = judge("lag_critical", 1, 400, &w, &daemon_crit, 1, 0);
	assert_int_equal(v.status, SEVERITY_CRITICAL);
	v = judge("lagging", 1, 61, &w, &c, 1, 0);
	assert_int_equal(v.status, SEVERITY_WARNING);
	assert_int_equal(v.by, VERDICT_BY_WARN);
	v = judge("ok", 1, 601, &w, &c, 1, 0);
	assert_int_equal(v.status, SEVERITY_CRITICAL);
	assert_int_equal(v.by, VERDICT_BY_CRIT);
	/* @ and ~: forms. */
	assert_int_equal(range_parse("@0:1", &w, err, sizeof(err)), 0);
	v = judge("ok", 1, 0, &w, NULL, 1, 0);
	assert_int_equal(v.status, SEVERITY_WARNING);
	assert_int_equal(range_parse("~:0.5", &c, err, sizeof(err)), 0);
	v = judge("ok", 1, 0.6, &w, &c, 1, 0);
	assert_int_equal(v.status, SEVERITY_CRITICAL);
	/* With no figure, the state's severity stands. */
	v = judge("lagging", 0, 0, &w, &c, 1, 0);
	assert_int_equal(v.status, SEVERITY_WARNING);
	assert_int_equal(v.by, VERDICT_BY_STATE);
	/* Ranges never hide a broken thread. */
	v = judge("sql_stopped", 1, 0.1, NULL, NULL, 1, 0);
	assert_int_equal(v.status, SEVERITY_CRITICAL);
	v = judge("primary_read_only", 1, 0, NULL, NULL, 1, 0);
	assert_int_equal(v.status, SEVERITY_CRITICAL);
}

/* A muted target reports OK, and still knows what it would be. */
static void
test_muted(void **state)
{
	struct verdict v;

	v = judge("sql_error", 0, 0, &daemon_warn, &daemon_crit, 0, 1);
	assert_int_equal(v.severity, SEVERITY_CRITICAL);
	assert_int_equal(v.status, SEVERITY_OK);
	v = judge("ok", 1, 45, &daemon_warn, &daemon_crit, 0, 1);
	assert_int_equal(v.severity, SEVERITY_WARNING);
	assert_int_equal(v.status, SEVERITY_OK);
	v = judge("unknown", 0, 0, NULL, NULL, 0, 1);
	assert_int_equal(v.severity, SEVERITY_UNKNOWN);
	assert_int_equal(v.status, SEVERITY_OK);
	v = judge("ok", 1, 1, &daemon_warn, &daemon_crit, 0, 1);
	assert_int_equal(v.severity, SEVERITY_OK);
	assert_int_equal(v.status, SEVERITY_OK);
}

static void
test_worst(void **state)
{
	assert_int_equal(verdict_worst(SEVERITY_OK, SEVERITY_UNKNOWN),
	    SEVERITY_UNKNOWN);
	assert_int_equal(verdict_worst(SEVERITY_UNKNOWN, SEVERITY_WARNING),
	    SEVERITY_WARNING);
	assert_int_equal(verdict_worst(SEVERITY_CRITICAL, SEVERITY_WARNING),
	    SEVERITY_CRITICAL);
	assert_int_equal(verdict_worst(SEVERITY_UNKNOWN, SEVERITY_CRITICAL),
	    SEVERITY_CRITICAL);
	assert_int_equal(verdict_worst(SEVERITY_OK, SEVERITY_OK), SEVERITY_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_daemon_thresholds_raise),
		cmocka_unit_test(test_given_ranges),
		cmocka_unit_test(test_muted),
		cmocka_unit_test(test_worst),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
