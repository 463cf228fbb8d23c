/* replstatus: rows by name in both vocabularies, strict numbers, JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replstatus.h"

#define N(a)	(sizeof (a) / sizeof (a)[0])

/* A MariaDB 10.11 row (SHOW SLAVE STATUS), trimmed. */
static const char *const old_names[] = {
	"Slave_IO_State", "Master_Host", "Master_User", "Master_Port",
	"Master_Log_File", "Read_Master_Log_Pos", "Relay_Master_Log_File",
	"Slave_IO_Running", "Slave_SQL_Running", "Last_Errno",
	"Exec_Master_Log_Pos", "Seconds_Behind_Master", "Last_IO_Errno",
	"Last_IO_Error", "Last_SQL_Errno", "Last_SQL_Error", "Master_Server_Id",
	"Using_Gtid", "Gtid_IO_Pos", "SQL_Delay", "SQL_Remaining_Delay",
	"Slave_SQL_Running_State", "Slave_DDL_Groups",
};
static const char *const old_values[] = {
	"Waiting for master to send event", "127.0.0.1", "repl", "3306",
	"mariadb-bin.000002", "18446744073709551615", "mariadb-bin.000001",
	"Yes", "Yes", "0",
	"1234", "7", "0",
	"", "0", "", "1",
	"No", "", "0", NULL,
	"Slave has read all relay log; waiting for more updates", "42",
};

/* A MySQL 8.0.22+ row (SHOW REPLICA STATUS), trimmed. */
static const char *const new_names[] = {
	"Replica_IO_State", "Source_Host", "Source_Port", "Source_Log_File",
	"Read_Source_Log_Pos", "Relay_Source_Log_File", "Replica_IO_Running",
	"Replica_SQL_Running", "Exec_Source_Log_Pos", "Seconds_Behind_Source",
	"Last_IO_Errno", "Last_IO_Error", "Last_SQL_Errno", "Last_SQL_Error",
	"Source_Server_Id", "Source_UUID", "SQL_Delay", "SQL_Remaining_Delay",
	"Replica_SQL_Running_State",
};
static const char *const new_values[] = {
	"", "10.0.0.5", "3307", "binlog.000009",
	"4", "binlog.000008", "Connecting",
	"No", "157", NULL,
	"2003", "error connecting to master 'repl@10.0.0.5:3307' - retry-time: 60",
	"1062", "Duplicate entry '1' for key 'PRIMARY'",
	"5", "3e11fa47-71ca-11e1-9e33-c80aa9429562", "3600", "120",
	"",
};

static void
test_old_vocabulary(void **state)
{
	struct rw_status st;

	replstatus_parse(&st, old_names, old_values, N(old_names));
	assert_int_equal(st.configured, 1);
	assert_int_equal(st.io, THREAD_YES);
	assert_int_equal(st.sql, THREAD_YES);
	assert_int_equal(st.seconds_behind, 7);
	assert_string_equal(st.master_host, "127.0.0.1");
	assert_string_equal(st.master_port, "3306");
	assert_string_equal(st.master_log_file, "mariadb-bin.000002");
	assert_string_equal(st.read_master_log_pos, "18446744073709551615");
	assert_string_equal(st.relay_master_log_file, "mariadb-bin.000001");
	assert_string_equal(st.exec_master_log_pos, "1234");
	assert_string_equal(st.master_server_id, "1");
	assert_string_equal(st.using_gtid, "No");
	assert_string_equal(st.gtid_io_pos, "");
	assert_string_equal(st.sql_state,
	    "Slave has read all relay log; waiting for more updates");
	assert_int_equal(st.sql_delay, 0);
	assert_int_equal(st.sql_remaining_delay, -1);
	assert_int_equal(st.last_io_errno, 0);
	assert_int_equal(st.last_sql_errno, 0);
	assert_int_equal(st.ncols, N(old_names));
	replstatus_clear(&st);
}

static void
test_new_vocabulary(void **state)
{
	struct rw_status st;

	replstatus_parse(&st, new_names, new_values, N(new_names));
	assert_int_equal(st.configured, 1);
	assert_int_equal(st.io, THREAD_CONNECTING);
	assert_int_equal(st.sql, THREAD_NO);
	assert_int_equal(st.seconds_behind, -1);
	assert_string_equal(st.master_host, "10.0.0.5");
	assert_string_equal(st.master_port, "3307");
	assert_string_equal(st.master_log_file, "binlog.000009");
	assert_string_equal(st.read_master_log_pos, "4");
	assert_string_equal(st.relay_master_log_file, "binlog.000008");
	assert_string_equal(st.exec_master_log_pos, "157");
	assert_string_equal(st.master_server_id, "5");
	assert_null(st.using_gtid);
	assert_null(st.gtid_io_pos);
	assert_string_equal(st.sql_state, "");
	assert_int_equal(st.sql_delay, 3600);
	assert_int_equal(st.sql_remaining_delay, 120);
	assert_int_equal(st.last_io_errno, 2003);
	assert_non_null(strstr(st.last_io_error, "10.0.0.5:3307"));
	assert_int_equal(st.last_sql_errno, 1062);
	assert_string_equal(st.last_sql_error,
	    "Duplicate entry '1' for key 'PRIMARY'");
	replstatus_clear(&st);
}

static void
test_case_insensitive_and_threads(void **state)
{
	const char *names[] = { "SLAVE_IO_RUNNING", "replica_sql_running",
	    "seconds_behind_SOURCE" };
	const char *values[] = { "preparing", "YES", "0" };
	const char *bad[] = { "Maybe", "", "0" };
	struct rw_status st;

	replstatus_parse(&st, names, values, N(names));
	assert_int_equal(st.io, THREAD_PREPARING);
	assert_int_equal(st.sql, THREAD_YES);
	assert_int_equal(st.seconds_behind, 0);
	assert_string_equal(replstatus_get(&st, "Seconds_Behind_Source"), "0");
	replstatus_clear(&st);

	replstatus_parse(&st, names, bad, N(names));
	assert_int_equal(st.io, THREAD_UNKNOWN);
	assert_int_equal(st.sql, THREAD_UNKNOWN);
	replstatus_clear(&st);

	assert_string_equal(replstatus_thread_name(THREAD_YES), "Yes");
	assert_string_equal(replstatus_thread_name(THREAD_NO), "No");
	assert_string_equal(replstatus_thread_name(THREAD_CONNECTING),
	    "Connecting");
	assert_string_equal(replstatus_thread_name(THREAD_PREPARING),
	    "Preparing");
	assert_string_equal(replstatus_thread_name(THREAD_UNKNOWN), "unknown");
}

static void
test_unknown_columns_kept_in_order(void **state)
{
	const char *names[] = { "Zeta", "Slave_IO_Running", "Alpha", "Zeta" };
	const char *values[] = { "first", "Yes", NULL, "second" };
	struct rw_status st;

	replstatus_parse(&st, names, values, N(names));
	assert_int_equal(st.ncols, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(st.cols[i].name, names[i]);
		if (values[i] == NULL)
			assert_null(st.cols[i].value);
		else
			assert_string_equal(st.cols[i].value, values[i]);
	}
	/* The copies are ours, not the caller's. */
	assert_ptr_not_equal(st.cols[0].value, values[0]);
	assert_string_equal(replstatus_get(&st, "zeta"), "first");
	assert_null(replstatus_get(&st, "Alpha"));
	assert_null(replstatus_get(&st, "Nope"));
	replstatus_clear(&st);
}

static void
test_not_configured(void **state)
{
	struct rw_status st;
	cJSON *j;

	replstatus_parse(&st, NULL, NULL, 0);
	assert_int_equal(st.configured, 0);
	assert_int_equal(st.io, THREAD_UNKNOWN);
	assert_int_equal(st.seconds_behind, -1);
	assert_int_equal(st.ncols, 0);
	j = replstatus_to_json(&st);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "configured")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "columns")),
	    0);
	cJSON_Delete(j);
	replstatus_clear(&st);
}

static void
test_garbage_integers(void **state)
{
	const char *names[] = { "Seconds_Behind_Master", "SQL_Delay",
	    "SQL_Remaining_Delay", "Last_IO_Errno", "Last_SQL_Errno" };
	const char *cases[][5] = {
		{ "12abc", " 5", "+", "99999999999999999999", "-3" },
		{ "", "0x10", "1e3", "4294967296", "abc" },
		{ "-1", "-", "99999999999999999999", " 1", "1 " },
	};
	struct rw_status st;

	for (size_t i = 0; i < N(cases); i++) {
		replstatus_parse(&st, names, cases[i], N(names));
		assert_int_equal(st.seconds_behind, -1);
		assert_int_equal(st.sql_delay, -1);
		assert_int_equal(st.sql_remaining_delay, -1);
		assert_int_equal(st.last_io_errno, 0);
		assert_int_equal(st.last_sql_errno, 0);
		/* The text is still there verbatim. */
		assert_string_equal(st.cols[0].value, cases[i][0]);
		replstatus_clear(&st);
	}
}

static void
test_clear_zeroes(void **state)
{
	struct rw_status st, zero;

	replstatus_parse(&st, old_names, old_values, N(old_names));
	replstatus_clear(&st);
	memset(&zero, 0, sizeof zero);
	assert_memory_equal(&st, &zero, sizeof st);
	/* Clearing twice is harmless. */
	replstatus_clear(&st);
}

static void
test_json(void **state)
{
	struct rw_status st;
	cJSON *j, *cols;
	char *text;

	replstatus_parse(&st, old_names, old_values, N(old_names));
	j = replstatus_to_json(&st);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "configured")));
	assert_string_equal(cJSON_GetObjectItem(j, "io_running")->valuestring,
	    "Yes");
	assert_string_equal(cJSON_GetObjectItem(j, "sql_running")->valuestring,
	    "Yes");
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(j,
	    "seconds_behind_master")));
	assert_int_equal(cJSON_GetObjectItem(j,
	    "seconds_behind_master")->valueint, 7);
	/* 2^64-1 as a double would lose digits; a string keeps them. */
	assert_true(cJSON_IsString(cJSON_GetObjectItem(j,
	    "read_master_log_pos")));
	assert_string_equal(cJSON_GetObjectItem(j,
	    "read_master_log_pos")->valuestring, "18446744073709551615");
	assert_string_equal(cJSON_GetObjectItem(j,
	    "exec_master_log_pos")->valuestring, "1234");
	assert_string_equal(cJSON_GetObjectItem(j, "master_port")->valuestring,
	    "3306");
	assert_string_equal(cJSON_GetObjectItem(j, "gtid_io_pos")->valuestring,
	    "");
	assert_int_equal(cJSON_GetObjectItem(j, "sql_delay")->valueint, 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j,
	    "sql_remaining_delay")));
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(j, "last_io_errno")));
	assert_string_equal(cJSON_GetObjectItem(j,
	    "last_sql_error")->valuestring, "");
	assert_non_null(cJSON_GetObjectItem(j, "sql_state"));

	cols = cJSON_GetObjectItem(j, "columns");
	assert_int_equal(cJSON_GetArraySize(cols), N(old_names));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cols,
	    "Slave_DDL_Groups")->valuestring, "42");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cols,
	    "SQL_Remaining_Delay")));
	/* Columns come out in the server's order. */
	assert_string_equal(cols->child->string, "Slave_IO_State");

	text = cJSON_PrintUnformatted(j);
	assert_non_null(strstr(text,
	    "\"read_master_log_pos\":\"18446744073709551615\""));
	free(text);
	cJSON_Delete(j);
	replstatus_clear(&st);
}

static void
test_json_null_lag_and_errors(void **state)
{
	struct rw_status st;
	cJSON *j;

	replstatus_parse(&st, new_names, new_values, N(new_names));
	j = replstatus_to_json(&st);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j,
	    "seconds_behind_master")));
	assert_string_equal(cJSON_GetObjectItem(j, "io_running")->valuestring,
	    "Connecting");
	assert_string_equal(cJSON_GetObjectItem(j, "master_host")->valuestring,
	    "10.0.0.5");
	assert_int_equal(cJSON_GetObjectItem(j, "last_io_errno")->valueint,
	    2003);
	assert_int_equal(cJSON_GetObjectItem(j, "last_sql_errno")->valueint,
	    1062);
	assert_int_equal(cJSON_GetObjectItem(j, "sql_remaining_delay")->valueint,
	    120);
	/* MySQL has no Using_Gtid: null, not "". */
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "using_gtid")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItem(j, "columns"), "Seconds_Behind_Source")));
	cJSON_Delete(j);
	replstatus_clear(&st);
}

static void
test_duplicates_first_wins(void **state)
{
	const char *names[] = { "Master_Host", "Slave_IO_Running",
	    "Master_Host", "Source_Host" };
	const char *values[] = { "a.example", "No", "b.example", "c.example" };
	struct rw_status st;
	cJSON *j, *cols;

	replstatus_parse(&st, names, values, N(names));
	assert_int_equal(st.ncols, 4);
	assert_string_equal(st.master_host, "a.example");
	j = replstatus_to_json(&st);
	cols = cJSON_GetObjectItem(j, "columns");
	assert_int_equal(cJSON_GetArraySize(cols), 3);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cols,
	    "Master_Host")->valuestring, "a.example");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cols,
	    "Source_Host")->valuestring, "c.example");
	cJSON_Delete(j);
	replstatus_clear(&st);
}

static void
test_null_name(void **state)
{
	const char *names[] = { NULL, "Slave_SQL_Running" };
	const char *values[] = { "x", "No" };
	struct rw_status st;

	replstatus_parse(&st, names, values, N(names));
	assert_string_equal(st.cols[0].name, "");
	assert_int_equal(st.sql, THREAD_NO);
	replstatus_clear(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_vocabulary),
		cmocka_unit_test(test_new_vocabulary),
		cmocka_unit_test(test_case_insensitive_and_threads),
		cmocka_unit_test(test_unknown_columns_kept_in_order),
		cmocka_unit_test(test_not_configured),
		cmocka_unit_test(test_garbage_integers),
		cmocka_unit_test(test_clear_zeroes),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_null_lag_and_errors),
		cmocka_unit_test(test_duplicates_first_wins),
		cmocka_unit_test(test_null_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
