/*
 * Unit tests of lib/replctl.c: RDS's service state model and what start,
 * stop and reset do from each state (REFERENCE §1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "replctl.h"

/* A status row with the two threads and optional errors. */
static void
row(struct rw_status *st, const char *io, const char *sql, const char *sql_errno)
{
	const char *names[] = { "Slave_IO_Running", "Slave_SQL_Running",
	    "Last_SQL_Errno", "Last_SQL_Error", "Last_IO_Errno", "Last_IO_Error" };
	const char *values[] = { io, sql, sql_errno ? sql_errno : "0",
	    sql_errno ? "Duplicate entry '7' for key 'PRIMARY'" : "",
	    strcmp(io, "Connecting") == 0 ? "2003" : "0",
	    strcmp(io, "Connecting") == 0 ? "Can't connect to server" : "" };

	replstatus_parse(st, names, values, 6);
}

static void
test_service_state(void **state)
{
	struct rw_status st;

	replstatus_parse(&st, NULL, NULL, 0);
	assert_int_equal(replctl_service(&st), SERVICE_NOT_EXIST);
	replstatus_clear(&st);
	row(&st, "Yes", "Yes", NULL);
	assert_int_equal(replctl_service(&st), SERVICE_ON);
	replstatus_clear(&st);
	row(&st, "No", "No", NULL);
	assert_int_equal(replctl_service(&st), SERVICE_OFF);
	replstatus_clear(&st);
	/* The IO thread runs but is not connected: BROKEN, not ON. */
	row(&st, "Connecting", "Yes", NULL);
	assert_int_equal(replctl_service(&st), SERVICE_BROKEN);
	replstatus_clear(&st);
	row(&st, "Yes", "No", "1062");
	assert_int_equal(replctl_service(&st), SERVICE_BROKEN);
	replstatus_clear(&st);
	row(&st, "No", "Yes", NULL);
	assert_int_equal(replctl_service(&st), SERVICE_BROKEN);
	replstatus_clear(&st);
	assert_string_equal(replctl_service_name(SERVICE_BROKEN), "BROKEN");
}

static void
test_next(void **state)
{
	static const struct {
		enum rw_repl_action	 a;
		enum rw_service		 s;
		int			 rds, stopped;
		enum rw_repl_next	 want;
	} cases[] = {
		/* start */
		{ REPL_START, SERVICE_NOT_EXIST, 1, 0, NEXT_REFUSE },
		{ REPL_START, SERVICE_ON, 1, 0, NEXT_NOTHING },
		{ REPL_START, SERVICE_OFF, 1, 0, NEXT_CALL },
		{ REPL_START, SERVICE_BROKEN, 1, 0, NEXT_STOP_FIRST },
		{ REPL_START, SERVICE_BROKEN, 1, 1, NEXT_REFUSE },
		{ REPL_START, SERVICE_BROKEN, 0, 0, NEXT_CALL },
		{ REPL_START, SERVICE_NOT_EXIST, 0, 0, NEXT_REFUSE },
		/* stop: a stopped replica is success, never a call */
		{ REPL_STOP, SERVICE_OFF, 1, 0, NEXT_NOTHING },
		{ REPL_STOP, SERVICE_NOT_EXIST, 1, 0, NEXT_NOTHING },
		{ REPL_STOP, SERVICE_ON, 1, 0, NEXT_CALL },
		{ REPL_STOP, SERVICE_BROKEN, 1, 0, NEXT_CALL },
		{ REPL_STOP, SERVICE_OFF, 0, 0, NEXT_NOTHING },
		/* reset: RDS's procedure stops by itself, RESET SLAVE ALL not */
		{ REPL_RESET, SERVICE_NOT_EXIST, 1, 0, NEXT_NOTHING },
		{ REPL_RESET, SERVICE_ON, 1, 0, NEXT_CALL },
		{ REPL_RESET, SERVICE_OFF, 1, 0, NEXT_CALL },
		{ REPL_RESET, SERVICE_ON, 0, 0, NEXT_STOP_FIRST },
		{ REPL_RESET, SERVICE_BROKEN, 0, 1, NEXT_REFUSE },
		{ REPL_RESET, SERVICE_OFF, 0, 0, NEXT_CALL },
	};
	char why[256];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum rw_repl_next n = replctl_next(cases[i].a, cases[i].s,
		    cases[i].rds, cases[i].stopped, why, sizeof why);

		if (n != cases[i].want)
			fail_msg("case %zu: %s from %s: got %d, want %d", i,
			    replctl_action_name(cases[i].a),
			    replctl_service_name(cases[i].s), n, cases[i].want);
		/* Every refusal and no-op says why. */
		if (n == NEXT_REFUSE || n == NEXT_NOTHING)
			assert_true(why[0] != '\0');
	}
}

static void
test_reached(void **state)
{
	struct rw_status st;
	char note[512];

	/* RDS's start errors while the IO thread connects: it did start. */
	row(&st, "Connecting", "Yes", NULL);
	assert_true(replctl_reached(REPL_START, &st, note, sizeof note));
	assert_non_null(strstr(note, "still connecting"));
	assert_non_null(strstr(note, "2003"));
	assert_false(replctl_reached(REPL_STOP, &st, note, sizeof note));
	assert_non_null(strstr(note, "still runs"));
	replstatus_clear(&st);

	/* An SQL error right after the start: not started, and why. */
	row(&st, "Yes", "No", "1062");
	assert_false(replctl_reached(REPL_START, &st, note, sizeof note));
	assert_non_null(strstr(note, "1062"));
	replstatus_clear(&st);

	row(&st, "Yes", "Yes", NULL);
	assert_true(replctl_reached(REPL_START, &st, note, sizeof note));
	assert_string_equal(note, "");
	assert_false(replctl_reached(REPL_RESET, &st, note, sizeof note));
	replstatus_clear(&st);

	row(&st, "No", "No", NULL);
	assert_true(replctl_reached(REPL_STOP, &st, note, sizeof note));
	assert_false(replctl_reached(REPL_RESET, &st, note, sizeof note));
	replstatus_clear(&st);

	replstatus_parse(&st, NULL, NULL, 0);
	assert_true(replctl_reached(REPL_STOP, &st, note, sizeof note));
	assert_true(replctl_reached(REPL_RESET, &st, note, sizeof note));
	assert_false(replctl_reached(REPL_START, &st, note, sizeof note));
	replstatus_clear(&st);
}

/* A stopped SQL thread at an executed position. */
static void
at(struct rw_status *st, const char *sql, const char *sql_errno,
    const char *file, const char *pos)
{
	const char *names[] = { "Slave_IO_Running", "Slave_SQL_Running",
	    "Last_SQL_Errno", "Last_SQL_Error", "Relay_Master_Log_File",
	    "Exec_Master_Log_Pos" };
	const char *values[] = { "Yes", sql, sql_errno,
	    strcmp(sql_errno, "0") ? "Duplicate entry '7' for key 'PRIMARY'" :
	    "", file, pos };

	replstatus_parse(st, names, values, 6);
}

static void
test_skip_check(void **state)
{
	struct rw_status st;
	char why[512];

	at(&st, "No", "1062", "b.000001", "400");
	assert_int_equal(replctl_skip_check(&st, 1062, why, sizeof why), 0);
	/* Another error than the one the operator saw: refused, both named. */
	assert_int_equal(replctl_skip_check(&st, 1032, why, sizeof why), -1);
	assert_non_null(strstr(why, "1062"));
	assert_non_null(strstr(why, "not 1032"));
	assert_non_null(strstr(why, "Duplicate entry"));
	replstatus_clear(&st);

	/* Stopped by hand, no error: nothing to skip, even for errno 0. */
	at(&st, "No", "0", "b.000001", "400");
	assert_int_equal(replctl_skip_check(&st, 0, why, sizeof why), -1);
	assert_non_null(strstr(why, "without an error"));
	replstatus_clear(&st);

	at(&st, "Yes", "0", "b.000001", "400");
	assert_int_equal(replctl_skip_check(&st, 1062, why, sizeof why), -1);
	assert_non_null(strstr(why, "running"));
	replstatus_clear(&st);

	replstatus_parse(&st, NULL, NULL, 0);
	assert_int_equal(replctl_skip_check(&st, 1062, why, sizeof why), -1);
	assert_non_null(strstr(why, "no replication"));
	replstatus_clear(&st);
}

static void
test_skip_reached(void **state)
{
	struct rw_status st;
	char note[512];

	/* Running again: skipped. */
	at(&st, "Yes", "0", "b.000001", "900");
	assert_true(replctl_skip_reached("b.000001", "400", &st, note,
	    sizeof note));
	assert_string_equal(note, "");
	replstatus_clear(&st);

	/* Past the event, stopped on the next one: skipped, and said so. */
	at(&st, "No", "1062", "b.000001", "655");
	assert_true(replctl_skip_reached("b.000001", "400", &st, note,
	    sizeof note));
	assert_non_null(strstr(note, "stopped again"));
	replstatus_clear(&st);

	/* Same place: not skipped. */
	at(&st, "No", "1062", "b.000001", "400");
	assert_false(replctl_skip_reached("b.000001", "400", &st, note,
	    sizeof note));
	assert_non_null(strstr(note, "still stopped"));
	/* Unknown position before: only a running thread proves it. */
	assert_false(replctl_skip_reached(NULL, NULL, &st, note, sizeof note));
	replstatus_clear(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_state),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_reached),
		cmocka_unit_test(test_skip_check),
		cmocka_unit_test(test_skip_reached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
