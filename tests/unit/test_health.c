/* health: classification of each state, its reason, and hysteresis. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "health.h"

static const struct rw_thresholds th = { 30000, 300000, 3 };

/* A healthy status row with both threads running; tests spoil it. */
static struct rw_status
running(void)
{
	struct rw_status st;

	memset(&st, 0, sizeof st);
	st.configured = 1;
	st.io = THREAD_YES;
	st.sql = THREAD_YES;
	st.seconds_behind = 0;
	st.master_host = "10.0.0.5";
	st.master_port = "3306";
	st.sql_delay = 0;
	st.sql_remaining_delay = -1;
	st.last_io_error = "";
	st.last_sql_error = "";
	return st;
}

static struct rw_sample
status_sample(const struct rw_status *st, long long lag_ms)
{
	struct rw_sample s;

	memset(&s, 0, sizeof s);
	s.kind = SAMPLE_STATUS;
	s.status = st;
	s.lag_ms = lag_ms;
	return s;
}

static enum rw_health
classify(const struct rw_sample *s, char *reason)
{
	return health_classify(s, &th, reason, 512);
}

static void
test_names(void **state)
{
	static const char *const names[] = { "unknown", "unreachable",
	    "unresponsive", "sql_error", "io_error", "sql_stopped",
	    "io_stopped", "io_connecting", "not_replicating", "lag_critical",
	    "lagging", "ok", "promoting", "promoted",
	    "promotion_interrupted", "primary_unreachable",
	    "primary_read_only" };
	enum rw_health h;

	assert_int_equal(sizeof names / sizeof names[0], HEALTH__COUNT);
	for (int i = 0; i < HEALTH__COUNT; i++) {
		assert_string_equal(health_name((enum rw_health)i), names[i]);
		assert_int_equal(health_from_name(names[i], &h), 0);
		assert_int_equal(h, i);
	}
	assert_int_equal(health_from_name("OK ", &h), -1);
	assert_int_equal(health_from_name("", &h), -1);
	assert_true(health_is_lag_state(HEALTH_OK));
	assert_true(health_is_lag_state(HEALTH_LAGGING));
	assert_true(health_is_lag_state(HEALTH_LAG_CRITICAL));
	assert_false(health_is_lag_state(HEALTH_UNKNOWN));
	assert_false(health_is_lag_state(HEALTH_IO_STOPPED));
	assert_false(health_is_lag_state(HEALTH_PROMOTED));
}

static void
test_unreachable_unresponsive_query_error(void **state)
{
	struct rw_sample s;
	char r[512];

	memset(&s, 0, sizeof s);
	s.kind = SAMPLE_UNREACHABLE;
	s.error = "Can't connect to server on '10.0.0.9' (111)";
	assert_int_equal(classify(&s, r), HEALTH_UNREACHABLE);
	assert_string_equal(r,
	    "cannot connect: Can't connect to server on '10.0.0.9' (111)");

	s.error = NULL;
	assert_int_equal(classify(&s, r), HEALTH_UNREACHABLE);
	assert_string_equal(r, "cannot connect");

	s.kind = SAMPLE_UNRESPONSIVE;
	s.error = "query took over 2000 ms";
	assert_int_equal(classify(&s, r), HEALTH_UNRESPONSIVE);
	assert_string_equal(r,
	    "no answer within deadline: query took over 2000 ms");

	/* The caller's text names the query; it is not prefixed twice. */
	s.kind = SAMPLE_QUERY_ERROR;
	s.error = "status query failed: Access denied; you need (at least one "
	    "of) the SUPER, SLAVE MONITOR privilege(s) for this operation";
	assert_int_equal(classify(&s, r), HEALTH_UNREACHABLE);
	assert_string_equal(r, s.error);
	s.error = NULL;
	assert_int_equal(classify(&s, r), HEALTH_UNREACHABLE);
	assert_string_equal(r, "status query failed");
}

static void
test_not_replicating(void **state)
{
	struct rw_status st;
	struct rw_sample s;
	char r[512];

	memset(&st, 0, sizeof st);
	s = status_sample(&st, -1);
	assert_int_equal(classify(&s, r), HEALTH_NOT_REPLICATING);
	assert_string_equal(r, "no replication configured");
	s.status = NULL;
	assert_int_equal(classify(&s, r), HEALTH_NOT_REPLICATING);
}

static void
test_sql_error(void **state)
{
	struct rw_status st = running();
	struct rw_sample s = status_sample(&st, -1);
	char r[512];

	st.sql = THREAD_NO;
	st.last_sql_errno = 1062;
	st.last_sql_error = "Duplicate entry '1' for key 'PRIMARY'";
	/* An IO error too: the SQL error is more severe. */
	st.io = THREAD_NO;
	st.last_io_errno = 1236;
	st.last_io_error = "binlog purged";
	assert_int_equal(classify(&s, r), HEALTH_SQL_ERROR);
	assert_string_equal(r, "SQL thread stopped: error 1062: "
	    "Duplicate entry '1' for key 'PRIMARY'");

	/* Rare, but an error with the thread running is still an error. */
	st.sql = THREAD_YES;
	st.io = THREAD_YES;
	assert_int_equal(classify(&s, r), HEALTH_SQL_ERROR);
	assert_non_null(strstr(r, "error 1062"));
	assert_non_null(strstr(r, "still running"));
}

static void
test_io_error(void **state)
{
	struct rw_status st = running();
	struct rw_sample s = status_sample(&st, -1);
	char r[512];

	st.io = THREAD_NO;
	st.last_io_errno = 1236;
	st.last_io_error = "Got fatal error 1236 from master";
	assert_int_equal(classify(&s, r), HEALTH_IO_ERROR);
	assert_string_equal(r,
	    "IO thread: error 1236: Got fatal error 1236 from master");
}

static void
test_stopped(void **state)
{
	struct rw_status st = running();
	struct rw_sample s = status_sample(&st, -1);
	char r[512];

	st.sql = THREAD_NO;
	st.io = THREAD_NO;
	assert_int_equal(classify(&s, r), HEALTH_SQL_STOPPED);
	assert_string_equal(r, "SQL thread stopped");

	st.sql = THREAD_YES;
	assert_int_equal(classify(&s, r), HEALTH_IO_STOPPED);
	assert_string_equal(r, "IO thread stopped");

	/* A state we cannot read is not "running". */
	st.io = THREAD_UNKNOWN;
	assert_int_equal(classify(&s, r), HEALTH_IO_STOPPED);
	st.io = THREAD_YES;
	st.sql = THREAD_UNKNOWN;
	assert_int_equal(classify(&s, r), HEALTH_SQL_STOPPED);
	assert_non_null(strstr(r, "unknown"));

	/* SQL stopped outranks an IO thread still connecting. */
	st.sql = THREAD_NO;
	st.io = THREAD_CONNECTING;
	st.last_io_errno = 2003;
	assert_int_equal(classify(&s, r), HEALTH_SQL_STOPPED);
}

static void
test_io_connecting(void **state)
{
	struct rw_status st = running();
	struct rw_sample s = status_sample(&st, -1);
	char r[512];

	/* The master shut down: Connecting with 2003, not io_error. */
	st.io = THREAD_CONNECTING;
	st.last_io_errno = 2003;
	st.last_io_error = "error reconnecting to master "
	    "'repl@10.0.0.5:3306' - retry-time: 60 maximum-retries: 86400 "
	    "message: Can't connect to server on '10.0.0.5' (111)";
	assert_int_equal(classify(&s, r), HEALTH_IO_CONNECTING);
	assert_non_null(strstr(r,
	    "IO thread connecting to master 10.0.0.5:3306: error 2003: "
	    "error reconnecting"));

	st.last_io_errno = 0;
	st.last_io_error = "";
	assert_int_equal(classify(&s, r), HEALTH_IO_CONNECTING);
	assert_string_equal(r, "IO thread connecting to master 10.0.0.5:3306");

	st.io = THREAD_PREPARING;
	st.master_host = NULL;
	assert_int_equal(classify(&s, r), HEALTH_IO_CONNECTING);
	assert_non_null(strstr(r, "preparing"));
}

static void
test_lag(void **state)
{
	struct rw_status st = running();
	struct rw_sample s = status_sample(&st, 0);
	char r[512];

	assert_int_equal(classify(&s, r), HEALTH_OK);
	assert_string_equal(r, "replicating, lag 0 ms");

	s.lag_source = "heartbeat";
	s.lag_ms = 29999;
	assert_int_equal(classify(&s, r), HEALTH_OK);
	assert_string_equal(r, "replicating, lag 29999 ms (heartbeat)");

	s.lag_ms = 30000;
	assert_int_equal(classify(&s, r), HEALTH_LAGGING);
	assert_non_null(strstr(r, "lag 30000 ms"));
	s.lag_ms = 300000;
	assert_int_equal(classify(&s, r), HEALTH_LAG_CRITICAL);
	assert_non_null(strstr(r, "lag 300000 ms"));

	/* Both threads running, nothing to say about lag. */
	s.lag_ms = -1;
	assert_int_equal(classify(&s, r), HEALTH_OK);
	assert_string_equal(r, "replicating, lag unknown");

	/* A stale IO error with the thread back to Yes is not an error. */
	s.lag_ms = 5;
	st.last_io_errno = 2003;
	assert_int_equal(classify(&s, r), HEALTH_OK);
}

static void
test_delayed_replica_note(void **state)
{
	struct rw_status st = running();
	struct rw_sample s = status_sample(&st, 1000);
	char r[512];

	st.sql_delay = 3600;
	st.sql_remaining_delay = 120;
	assert_int_equal(classify(&s, r), HEALTH_OK);
	assert_non_null(strstr(r, "SQL_Delay 3600 s"));
	assert_non_null(strstr(r, "120 s remaining"));
}

static void
test_long_error_truncated(void **state)
{
	struct rw_status st = running();
	struct rw_sample s = status_sample(&st, -1);
	char big[2000], r[64];

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	st.sql = THREAD_NO;
	st.last_sql_errno = 1;
	st.last_sql_error = big;
	assert_int_equal(health_classify(&s, &th, r, sizeof r),
	    HEALTH_SQL_ERROR);
	assert_int_equal(strlen(r), sizeof r - 1);
}

/* Feed one lag figure through health_update. */
static int
feed(struct rw_health_state *hs, const struct rw_status *st, long long lag)
{
	struct rw_sample s = status_sample(st, lag);

	return health_update(hs, &s, &th);
}

static void
test_first_sample_at_once(void **state)
{
	struct rw_status st = running();
	struct rw_health_state hs;

	health_init(&hs);
	assert_int_equal(hs.state, HEALTH_UNKNOWN);
	assert_int_equal(feed(&hs, &st, 500000), 1);
	assert_int_equal(hs.state, HEALTH_LAG_CRITICAL);
}

static void
test_hysteresis_spike(void **state)
{
	struct rw_status st = running();
	struct rw_health_state hs;

	health_init(&hs);
	assert_int_equal(feed(&hs, &st, 10), 1);
	assert_int_equal(hs.state, HEALTH_OK);

	/* Two high samples, fewer than hysteresis = 3: still ok. */
	assert_int_equal(feed(&hs, &st, 40000), 0);
	assert_int_equal(feed(&hs, &st, 45000), 0);
	assert_int_equal(hs.state, HEALTH_OK);
	/* The reason shows the latest figure and what is pending. */
	assert_non_null(strstr(hs.reason, "45000 ms"));
	assert_non_null(strstr(hs.reason, "lagging for 2 of 3"));
	/* Back to normal: the count starts over. */
	assert_int_equal(feed(&hs, &st, 20), 0);
	assert_int_equal(hs.pending_count, 0);
	assert_string_equal(hs.reason, "replicating, lag 20 ms");
	assert_int_equal(feed(&hs, &st, 40000), 0);
	assert_int_equal(feed(&hs, &st, 40000), 0);
	assert_int_equal(hs.state, HEALTH_OK);

	/* Three in a row: lagging. */
	assert_int_equal(feed(&hs, &st, 40000), 1);
	assert_int_equal(hs.state, HEALTH_LAGGING);
	assert_int_equal(hs.pending_count, 0);
}

static void
test_hysteresis_disagreeing_samples(void **state)
{
	struct rw_status st = running();
	struct rw_health_state hs;

	health_init(&hs);
	feed(&hs, &st, 0);
	/* lagging, critical, lagging: no two agree in a row with the third. */
	assert_int_equal(feed(&hs, &st, 40000), 0);
	assert_int_equal(feed(&hs, &st, 400000), 0);
	assert_int_equal(hs.pending, HEALTH_LAG_CRITICAL);
	assert_int_equal(hs.pending_count, 1);
	assert_int_equal(feed(&hs, &st, 40000), 0);
	assert_int_equal(feed(&hs, &st, 40000), 0);
	assert_int_equal(hs.state, HEALTH_OK);
	assert_int_equal(feed(&hs, &st, 40000), 1);
	assert_int_equal(hs.state, HEALTH_LAGGING);

	/* Recovery to ok is damped the same way. */
	assert_int_equal(feed(&hs, &st, 0), 0);
	assert_int_equal(feed(&hs, &st, 0), 0);
	assert_int_equal(hs.state, HEALTH_LAGGING);
	assert_int_equal(feed(&hs, &st, 0), 1);
	assert_int_equal(hs.state, HEALTH_OK);
}

static void
test_errors_at_once_and_recovery(void **state)
{
	struct rw_status st = running();
	struct rw_health_state hs;
	struct rw_sample s;

	health_init(&hs);
	feed(&hs, &st, 0);
	feed(&hs, &st, 40000);		/* a lag change pending */

	st.io = THREAD_NO;
	assert_int_equal(feed(&hs, &st, -1), 1);
	assert_int_equal(hs.state, HEALTH_IO_STOPPED);
	assert_int_equal(hs.pending_count, 0);
	assert_string_equal(hs.reason, "IO thread stopped");

	/* Recovery from a non-lag state is not delayed. */
	st.io = THREAD_YES;
	assert_int_equal(feed(&hs, &st, 0), 1);
	assert_int_equal(hs.state, HEALTH_OK);

	/* Straight into a lag state other than ok, also at once. */
	st.sql = THREAD_NO;
	feed(&hs, &st, -1);
	assert_int_equal(hs.state, HEALTH_SQL_STOPPED);
	st.sql = THREAD_YES;
	assert_int_equal(feed(&hs, &st, 400000), 1);
	assert_int_equal(hs.state, HEALTH_LAG_CRITICAL);

	memset(&s, 0, sizeof s);
	s.kind = SAMPLE_UNRESPONSIVE;
	assert_int_equal(health_update(&hs, &s, &th), 1);
	assert_int_equal(hs.state, HEALTH_UNRESPONSIVE);
	/* Same state again: no change, reason refreshed. */
	s.error = "2000 ms";
	assert_int_equal(health_update(&hs, &s, &th), 0);
	assert_string_equal(hs.reason, "no answer within deadline: 2000 ms");
}

static void
test_promotion_states_left_alone(void **state)
{
	static const enum rw_health owned[] = { HEALTH_PROMOTING,
	    HEALTH_PROMOTED, HEALTH_PROMOTION_INTERRUPTED,
	    HEALTH_PRIMARY_UNREACHABLE, HEALTH_PRIMARY_READ_ONLY };
	struct rw_status st = running();
	struct rw_health_state hs;

	for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
		assert_true(health_is_promotion_state(owned[i]));
		health_init(&hs);
		hs.state = owned[i];
		strcpy(hs.reason, "step 3 of 7");
		st.io = THREAD_NO;
		assert_int_equal(feed(&hs, &st, -1), 0);
		assert_int_equal(hs.state, owned[i]);
		assert_string_equal(hs.reason, "step 3 of 7");
	}
}

/* Every state has a name that round-trips and a severity of its own. */
static void
test_names_and_severities(void **state)
{
	enum rw_health h;
	size_t n[4] = { 0 };

	for (unsigned i = 0; i < HEALTH__COUNT; i++) {
		assert_non_null(health_name((enum rw_health)i));
		assert_int_equal(health_from_name(health_name((enum rw_health)i),
		    &h), 0);
		assert_int_equal(h, i);
		n[health_severity(h)]++;
	}
	/* Only "unknown" is UNKNOWN: a forgotten severity would be too. */
	assert_int_equal(n[SEVERITY_UNKNOWN], 1);
	assert_int_equal(health_severity(HEALTH_OK), SEVERITY_OK);
	assert_int_equal(health_severity(HEALTH_PROMOTED), SEVERITY_OK);
	assert_int_equal(health_severity(HEALTH_LAGGING), SEVERITY_WARNING);
	assert_int_equal(health_severity(HEALTH_PROMOTING), SEVERITY_WARNING);
	assert_int_equal(health_severity(HEALTH_IO_CONNECTING),
	    SEVERITY_WARNING);
	assert_int_equal(health_severity(HEALTH_LAG_CRITICAL),
	    SEVERITY_CRITICAL);
	assert_int_equal(health_severity(HEALTH_PRIMARY_UNREACHABLE),
	    SEVERITY_CRITICAL);
	assert_int_equal(health_severity(HEALTH_PRIMARY_READ_ONLY),
	    SEVERITY_CRITICAL);
	assert_int_equal(health_severity_of("sql_stopped"), SEVERITY_CRITICAL);
	assert_int_equal(health_severity_of("no_such_state"),
	    SEVERITY_UNKNOWN);
	assert_int_equal(health_severity_of(NULL), SEVERITY_UNKNOWN);
	assert_string_equal(health_severity_name(SEVERITY_WARNING), "WARNING");
	assert_int_equal(health_is_promotion_state(HEALTH_OK), 0);
}

static void
test_hysteresis_one_and_zero(void **state)
{
	struct rw_thresholds t1 = { 30000, 300000, 1 };
	struct rw_thresholds t0 = { 30000, 300000, 0 };
	struct rw_status st = running();
	struct rw_sample s = status_sample(&st, 0);
	struct rw_health_state hs;

	health_init(&hs);
	health_update(&hs, &s, &t1);
	s.lag_ms = 40000;
	assert_int_equal(health_update(&hs, &s, &t1), 1);
	assert_int_equal(hs.state, HEALTH_LAGGING);
	/* 0 is taken as 1, not as "never". */
	s.lag_ms = 0;
	assert_int_equal(health_update(&hs, &s, &t0), 1);
	assert_int_equal(hs.state, HEALTH_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_unreachable_unresponsive_query_error),
		cmocka_unit_test(test_not_replicating),
		cmocka_unit_test(test_sql_error),
		cmocka_unit_test(test_io_error),
		cmocka_unit_test(test_stopped),
		cmocka_unit_test(test_io_connecting),
		cmocka_unit_test(test_lag),
		cmocka_unit_test(test_delayed_replica_note),
		cmocka_unit_test(test_long_error_truncated),
		cmocka_unit_test(test_first_sample_at_once),
		cmocka_unit_test(test_hysteresis_spike),
		cmocka_unit_test(test_hysteresis_disagreeing_samples),
		cmocka_unit_test(test_errors_at_once_and_recovery),
		cmocka_unit_test(test_promotion_states_left_alone),
		cmocka_unit_test(test_hysteresis_one_and_zero),
		cmocka_unit_test(test_names_and_severities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
