/* mute: the durations operators type, the status object, the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mute.h"

static long long
dur(const char *s)
{
	char err[256];
	long long secs = -7;

	if (mute_parse_duration(s, &secs, err, sizeof err) == -1)
		return -1;
	return secs;
}

static void
test_durations(void **state)
{
	assert_int_equal(dur("90s"), 90);
	assert_int_equal(dur("30m"), 1800);
	assert_int_equal(dur("2h"), 7200);
	assert_int_equal(dur("1d"), 86400);
	assert_int_equal(dur("1h30m"), 5400);
	assert_int_equal(dur("1s"), 1);
	assert_int_equal(dur("7d"), 604800);
	assert_int_equal(dur("6d23h59m60s"), 604800);
	assert_int_equal(dur("168h"), 604800);
}

static void
test_bad_durations(void **state)
{
	char err[256];
	long long secs = 42;

	/* Out of range: nothing, and more than a week. */
	assert_int_equal(dur("0s"), -1);
	assert_int_equal(dur("0h0m"), -1);
	assert_int_equal(dur("7d1s"), -1);
	assert_int_equal(dur("8d"), -1);
	assert_int_equal(dur("99999999999999999999d"), -1);
	/* Not durations. */
	assert_int_equal(dur(""), -1);
	assert_int_equal(dur("2"), -1);
	assert_int_equal(dur("h"), -1);
	assert_int_equal(dur("2x"), -1);
	assert_int_equal(dur("-2h"), -1);
	assert_int_equal(dur("2h "), -1);
	assert_int_equal(dur(" 2h"), -1);
	assert_int_equal(dur("1.5h"), -1);
	assert_int_equal(dur("2H"), -1);

	/* The reason says what is wrong, and the value is left alone. */
	assert_int_equal(mute_parse_duration("2", &secs, err, sizeof err), -1);
	assert_non_null(strstr(err, "unit is missing"));
	assert_int_equal(secs, 42);
	assert_int_equal(mute_parse_duration("3w", &secs, err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown unit 'w'"));
	assert_int_equal(mute_parse_duration("8d", &secs, err, sizeof err), -1);
	assert_non_null(strstr(err, "7 days"));
}

static void
test_status_json(void **state)
{
	struct rw_mute m;
	cJSON *j;
	char *text;

	memset(&m, 0, sizeof m);
	j = mute_to_json(&m);
	assert_true(cJSON_IsNull(j));
	cJSON_Delete(j);

	m.active = 1;
	m.since_ms = 1795606593123LL;
	m.until_ms = 1795613793123LL;
	j = mute_to_json(&m);
	text = cJSON_PrintUnformatted(j);
	assert_string_equal(text, "{\"until\":\"2026-11-25T13:36:33.123Z\","
	    "\"until_unix_ms\":1795613793123,\"reason\":null,\"by\":null}");
	free(text);
	cJSON_Delete(j);

	snprintf(m.reason, sizeof m.reason, "kernel upgrade");
	snprintf(m.by, sizeof m.by, "uid 1000");
	j = mute_to_json(&m);
	assert_string_equal(cJSON_GetObjectItem(j, "reason")->valuestring,
	    "kernel upgrade");
	assert_string_equal(cJSON_GetObjectItem(j, "by")->valuestring,
	    "uid 1000");
	cJSON_Delete(j);
}

static void
test_file(void **state)
{
	struct rw_mute m, back;
	char err[256], *path;
	cJSON *doc;

	path = mute_path("/var/lib/replwatch", "rds1");
	assert_string_equal(path, "/var/lib/replwatch/mute-rds1.json");
	free(path);
	assert_null(mute_path("/x", "a/b"));
	assert_null(mute_path("/x", ""));

	memset(&m, 0, sizeof m);
	m.active = 1;
	m.since_ms = 1000;
	m.until_ms = 5000;
	snprintf(m.reason, sizeof m.reason, "quote \" and \\ kept");
	snprintf(m.by, sizeof m.by, "uid 0");
	doc = mute_to_doc(&m, "rds1");

	/* Before its end it comes back whole. */
	assert_int_equal(mute_from_doc(doc, "rds1", 4999, &back, err,
	    sizeof err), 0);
	assert_true(back.active);
	assert_int_equal(back.since_ms, 1000);
	assert_int_equal(back.until_ms, 5000);
	assert_string_equal(back.reason, m.reason);
	assert_string_equal(back.by, "uid 0");
	/* At its end it is expired: read, but not active. */
	assert_int_equal(mute_from_doc(doc, "rds1", 5000, &back, err,
	    sizeof err), 0);
	assert_false(back.active);
	/* Another target's file is not this one's mute. */
	assert_int_equal(mute_from_doc(doc, "rds2", 0, &back, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "rds2"));

	/* A malformed field. */
	cJSON_ReplaceItemInObject(doc, "until_unix_ms",
	    cJSON_CreateString("soon"));
	assert_int_equal(mute_from_doc(doc, "rds1", 0, &back, err,
	    sizeof err), -1);
	assert_false(back.active);
	cJSON_Delete(doc);

	/* A file of another version. */
	doc = cJSON_Parse("{\"version\": 2, \"target\": \"rds1\"}");
	assert_int_equal(mute_from_doc(doc, "rds1", 0, &back, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "version"));
	cJSON_Delete(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_bad_durations),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
