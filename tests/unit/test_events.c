/* events: ring overflow, seq numbers, truncation, JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events.h"

static void
test_seq_and_order(void **state)
{
	struct events *ev = events_new(8);
	const struct rw_event *e;

	assert_int_equal(events_count(ev), 0);
	assert_null(events_get(ev, 0));
	e = events_add(ev, 1000, "rds1", "unknown", "ok", "replicating");
	assert_int_equal(e->seq, 1);
	e = events_add(ev, 2000, "rds1", "ok", "io_stopped", "IO thread stopped");
	assert_int_equal(e->seq, 2);
	assert_int_equal(events_count(ev), 2);
	assert_string_equal(events_get(ev, 0)->to, "ok");
	assert_string_equal(events_get(ev, 1)->to, "io_stopped");
	assert_int_equal(events_get(ev, 1)->ts_ms, 2000);
	assert_null(events_get(ev, 2));
	events_free(ev);
	events_free(NULL);
}

static void
test_overflow(void **state)
{
	struct events *ev = events_new(3);
	char reason[32];

	for (int i = 1; i <= 10; i++) {
		snprintf(reason, sizeof reason, "event %d", i);
		events_add(ev, i, "t", "a", "b", reason);
	}
	assert_int_equal(events_count(ev), 3);
	/* The oldest were dropped; seq keeps counting. */
	for (size_t i = 0; i < 3; i++) {
		const struct rw_event *e = events_get(ev, i);

		assert_int_equal(e->seq, 8 + i);
		snprintf(reason, sizeof reason, "event %zu", 8 + i);
		assert_string_equal(e->reason, reason);
	}
	events_free(ev);

	/* Capacity 0 still holds the newest event. */
	ev = events_new(0);
	events_add(ev, 1, "t", "a", "b", "x");
	events_add(ev, 2, "t", "a", "b", "y");
	assert_int_equal(events_count(ev), 1);
	assert_string_equal(events_get(ev, 0)->reason, "y");
	assert_int_equal(events_get(ev, 0)->seq, 2);
	events_free(ev);
}

static void
test_truncation(void **state)
{
	struct events *ev = events_new(2);
	const struct rw_event *e;
	char big[2000];
	/* 62 ASCII bytes, then a 3-byte character that would straddle 63. */
	char name[80];

	memset(big, 'r', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memset(name, 'n', 62);
	strcpy(name + 62, "\xe2\x82\xac" "tail");	/* the euro sign */

	e = events_add(ev, 0, name, NULL, big, big);
	assert_int_equal(strlen(e->reason), sizeof e->reason - 1);
	assert_int_equal(strlen(e->to), sizeof e->to - 1);
	assert_string_equal(e->from, "");
	/* The euro sign did not fit whole, so none of it is kept. */
	assert_int_equal(strlen(e->target), 62);

	/* One that fits whole is kept whole. */
	name[60] = '\0';
	strcat(name, "\xe2\x82\xac");		/* 63 bytes, the most that fit */
	e = events_add(ev, 0, name, "a", "b", "c");
	assert_int_equal(strlen(e->target), 63);
	assert_memory_equal(e->target + 60, "\xe2\x82\xac", 3);
	events_free(ev);
}

static void
test_event_json(void **state)
{
	struct events *ev = events_new(4);
	const struct rw_event *e;
	cJSON *j;
	char *text;

	/* 2026-11-25T11:36:33.123Z */
	e = events_add(ev, 1795606593123LL, "rds1", "ok", "io_stopped",
	    "IO thread stopped");
	j = event_to_json(e);
	text = cJSON_PrintUnformatted(j);
	assert_string_equal(text, "{\"seq\":1,\"ts\":\"2026-11-25T11:36:33.123Z\","
	    "\"ts_unix_ms\":1795606593123,\"target\":\"rds1\",\"from\":\"ok\","
	    "\"to\":\"io_stopped\",\"reason\":\"IO thread stopped\","
	    "\"kind\":\"state_change\"}");
	free(text);
	cJSON_Delete(j);

	/* Milliseconds are zero-padded; the epoch itself formats. */
	e = events_add(ev, 7, "x", "a", "b", "");
	j = event_to_json(e);
	assert_string_equal(cJSON_GetObjectItem(j, "ts")->valuestring,
	    "1970-01-01T00:00:00.007Z");
	cJSON_Delete(j);

	/* Before the epoch rounds down, not toward zero. */
	e = events_add(ev, -1, "x", "a", "b", "");
	j = event_to_json(e);
	assert_string_equal(cJSON_GetObjectItem(j, "ts")->valuestring,
	    "1969-12-31T23:59:59.999Z");
	cJSON_Delete(j);
	events_free(ev);
}

/* Actions: the kind, who, and their details only where they apply. */
static void
test_action_json(void **state)
{
	struct events *ev = events_new(4);
	const struct rw_event *e;
	cJSON *j;
	char *text;

	e = events_add_action(ev, 1795606593123LL, "rds1", "error_skipped",
	    "sql_error", "Duplicate entry '7' for key 'PRIMARY'", "uid 0",
	    1062, 0);
	j = event_to_json(e);
	text = cJSON_PrintUnformatted(j);
	assert_string_equal(text, "{\"seq\":1,\"ts\":\"2026-11-25T11:36:33.123Z\","
	    "\"ts_unix_ms\":1795606593123,\"target\":\"rds1\",\"from\":"
	    "\"sql_error\",\"to\":\"sql_error\",\"reason\":\"Duplicate entry "
	    "'7' for key 'PRIMARY'\",\"kind\":\"error_skipped\",\"by\":"
	    "\"uid 0\",\"errno\":1062}");
	free(text);
	cJSON_Delete(j);

	/* An expiry is the daemon's: by is null; until is in UTC. */
	e = events_add_action(ev, 1795606593123LL, "rds1", "muted", "ok",
	    "maintenance", NULL, 0, 1795613793123LL);
	j = event_to_json(e);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "by")));
	assert_null(cJSON_GetObjectItem(j, "errno"));
	assert_string_equal(cJSON_GetObjectItem(j, "until")->valuestring,
	    "2026-11-25T13:36:33.123Z");
	assert_true(cJSON_GetObjectItem(j, "until_unix_ms")->valuedouble ==
	    1795613793123.0);
	assert_int_equal(e->seq, 2);
	cJSON_Delete(j);
	events_free(ev);
}

static void
test_events_json_filter(void **state)
{
	struct events *ev = events_new(10);
	cJSON *a;

	events_add(ev, 1, "rds1", "unknown", "ok", "1");
	events_add(ev, 2, "rds2", "unknown", "ok", "2");
	events_add(ev, 3, "rds1", "ok", "lagging", "3");
	events_add(ev, 4, "rds2", "ok", "io_stopped", "4");
	events_add(ev, 5, "rds1", "lagging", "ok", "5");

	a = events_to_json(ev, NULL, 100);
	assert_int_equal(cJSON_GetArraySize(a), 5);
	cJSON_Delete(a);

	a = events_to_json(ev, "rds1", 100);
	assert_int_equal(cJSON_GetArraySize(a), 3);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0),
	    "reason")->valuestring, "1");
	cJSON_Delete(a);

	/* The newest two of rds1, oldest first. */
	a = events_to_json(ev, "rds1", 2);
	assert_int_equal(cJSON_GetArraySize(a), 2);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0),
	    "seq")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 1),
	    "seq")->valueint, 5);
	cJSON_Delete(a);

	a = events_to_json(ev, NULL, 1);
	assert_int_equal(cJSON_GetArraySize(a), 1);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0),
	    "seq")->valueint, 5);
	cJSON_Delete(a);

	a = events_to_json(ev, "nope", 100);
	assert_true(cJSON_IsArray(a));
	assert_int_equal(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);

	a = events_to_json(ev, "rds1", 0);
	assert_int_equal(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);

	/* A prefix of a name is a different name. */
	a = events_to_json(ev, "rds", 100);
	assert_int_equal(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
	events_free(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_and_order),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_event_json),
		cmocka_unit_test(test_action_json),
		cmocka_unit_test(test_events_json_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
