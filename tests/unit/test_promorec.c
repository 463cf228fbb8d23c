/*
 * Unit tests of lib/promorec.c: the promotion's record survives its journal
 * (what rollback and resume are derived from), the report shows what an
 * operator needs, and a journal that is not one is refused, never guessed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "promorec.h"

static void
filled(struct promo_record *r)
{
	promorec_init(r);
	r->outcome = PO_INTERRUPTED;
	r->cur = PS_STOP;
	r->started_ms = 1796208645289;
	r->freeze_ms = 1796208645306;
	r->switched_ms = 1796208645330;
	r->write_blocked_ms = 24;
	r->steps[PS_PREFLIGHT].st = PSS_DONE;
	r->steps[PS_PREFLIGHT].ms = 13.5;
	snprintf(r->steps[PS_PREFLIGHT].detail, sizeof r->steps[0].detail,
	    "lag 0 ms");
	r->steps[PS_SWITCH].st = PSS_DONE;
	r->steps[PS_STOP].st = PSS_FAILED;
	r->have_final = 1;
	snprintf(r->final_file, sizeof r->final_file, "master-bin.000001");
	snprintf(r->final_pos, sizeof r->final_pos, "16029");
	snprintf(r->final_gtid, sizeof r->final_gtid, "0-1-4");
	snprintf(r->final_source, sizeof r->final_source, "master at the freeze");
	r->changes = CH_MASTER_RO | CH_MASTER_LOCKED | CH_SESSIONS_KILLED |
	    CH_SWITCH_SENT | CH_SWITCHED | CH_STOP_SENT;
	r->freeze = 1;
	r->master_orig_ro = 0;
	r->master_orig_sro = 1;
	r->replica_orig_ro = 1;
	r->killed = 3;
	r->on_switch.ran = 1;
	r->on_switch.ok = 1;
	snprintf(r->on_switch.detail, sizeof r->on_switch.detail, "exited 0");
	snprintf(r->reason, sizeof r->reason, "failed after the switch");
	cJSON_AddItemToArray(r->todo, cJSON_CreateString("run --resume"));
	cJSON_AddItemToArray(r->still_write, cJSON_CreateString("root"));
}

static void
test_journal_round_trip(void **state)
{
	struct promo_record a, b;
	char why[128];
	cJSON *j;

	filled(&a);
	j = promorec_journal(&a, "rds1");
	assert_int_equal(promorec_from_journal(&b, j, why, sizeof why), 0);
	assert_int_equal(b.outcome, PO_INTERRUPTED);
	assert_int_equal(b.cur, PS_STOP);
	assert_int_equal(b.changes, a.changes);
	assert_true(b.started_ms == a.started_ms && b.freeze_ms == a.freeze_ms &&
	    b.switched_ms == a.switched_ms);
	assert_true(b.write_blocked_ms == 24);
	assert_int_equal(b.steps[PS_PREFLIGHT].st, PSS_DONE);
	assert_string_equal(b.steps[PS_PREFLIGHT].detail, "lag 0 ms");
	assert_int_equal(b.steps[PS_STOP].st, PSS_FAILED);
	assert_int_equal(b.steps[PS_RESET].st, PSS_PENDING);
	assert_true(b.have_final);
	assert_string_equal(b.final_file, "master-bin.000001");
	assert_string_equal(b.final_pos, "16029");
	assert_string_equal(b.final_gtid, "0-1-4");
	assert_int_equal(b.master_orig_ro, 0);
	assert_int_equal(b.master_orig_sro, 1);
	assert_int_equal(b.replica_orig_ro, 1);
	assert_int_equal(b.freeze, 1);
	assert_int_equal(b.killed, 3);
	assert_true(b.on_switch.ran && b.on_switch.ok);
	assert_false(b.on_promoted.ran);
	assert_string_equal(b.reason, "failed after the switch");
	assert_string_equal(cJSON_GetArrayItem(b.todo, 0)->valuestring,
	    "run --resume");
	assert_string_equal(cJSON_GetArrayItem(b.still_write, 0)->valuestring,
	    "root");
	cJSON_Delete(j);
	promorec_clear(&a);
	promorec_clear(&b);
}

/* Unknown originals stay unknown (-1), not "off". */
static void
test_unknowns_stay_unknown(void **state)
{
	struct promo_record a, b;
	char why[128];
	cJSON *j;

	promorec_init(&a);
	j = promorec_journal(&a, "rds1");
	assert_int_equal(promorec_from_journal(&b, j, why, sizeof why), 0);
	assert_int_equal(b.master_orig_ro, -1);
	assert_int_equal(b.master_orig_sro, -1);
	assert_int_equal(b.replica_orig_ro, -1);
	assert_int_equal(b.replica_ro, -1);
	assert_true(b.write_blocked_ms < 0);
	assert_false(b.have_final);
	assert_int_equal(b.changes, 0);
	cJSON_Delete(j);
	promorec_clear(&a);
	promorec_clear(&b);
}

static void
test_report_fields(void **state)
{
	struct promo_record a;
	cJSON *o, *f;

	filled(&a);
	a.outcome = PO_PROMOTED;
	o = promorec_report(&a, "rds1", 1);
	assert_string_equal(cJSON_GetObjectItem(o, "outcome")->valuestring,
	    "promoted");
	assert_null(cJSON_GetObjectItem(o, "state"));
	assert_null(cJSON_GetObjectItem(o, "changed"));	/* journal only */
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "switched")));
	assert_string_equal(cJSON_GetObjectItem(o, "switched_at")->valuestring,
	    "2026-12-02T10:50:45.330Z");
	f = cJSON_GetObjectItem(o, "fence");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(f, "locked")));
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(f, "released")));
	assert_int_equal(cJSON_GetObjectItem(f, "sessions_killed")->valueint, 3);
	f = cJSON_GetObjectItem(o, "hooks");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(f, "on_promoted")));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(f,
	    "on_switch"), "detail")->valuestring, "exited 0");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "steps")),
	    PS__COUNT);
	cJSON_Delete(o);
	promorec_clear(&a);
}

/* A stop position (no final) comes back as the stop's, not as a final. */
static void
test_stop_position_is_not_final(void **state)
{
	struct promo_record a, b;
	char why[128];
	cJSON *j;

	promorec_init(&a);
	snprintf(a.stop_file, sizeof a.stop_file, "master-bin.000002");
	snprintf(a.stop_pos, sizeof a.stop_pos, "77");
	j = promorec_journal(&a, "rds1");
	assert_int_equal(promorec_from_journal(&b, j, why, sizeof why), 0);
	assert_false(b.have_final);
	assert_string_equal(b.stop_file, "master-bin.000002");
	assert_string_equal(b.stop_pos, "77");
	cJSON_Delete(j);
	promorec_clear(&a);
	promorec_clear(&b);
}

static void
refused(const char *text, const char *want)
{
	struct promo_record b;
	char why[128] = "";
	cJSON *j = cJSON_Parse(text);

	assert_int_equal(promorec_from_journal(&b, j, why, sizeof why), -1);
	assert_non_null(strstr(why, want));
	promorec_clear(&b);
	cJSON_Delete(j);
}

static void
test_bad_journals_refused(void **state)
{
	refused("[]", "state");
	refused("{\"state\": \"sleeping\", \"step\": \"stop\", \"changed\": []}",
	    "state");
	refused("{\"state\": \"running\", \"step\": \"nap\", \"changed\": []}",
	    "step");
	/* A journal of the replwatchd before the switch step. */
	refused("{\"state\": \"running\", \"step\": \"stop\", \"frozen\": true}",
	    "changed");
	refused("{\"state\": \"running\", \"step\": \"stop\", \"changed\": "
	    "[\"master_read_only\", \"teleported\"]}", "unknown change");
	refused("{\"state\": \"running\", \"step\": \"stop\", \"changed\": [1]}",
	    "unknown change");
}

static void
test_change_names(void **state)
{
	assert_string_equal(promorec_change_name(CH_SWITCHED), "switched");
	assert_string_equal(promorec_change_name(CH_FENCE_RELEASED),
	    "fence_released");
	assert_string_equal(promorec_change_name(CH_SWITCHED | CH_STOPPED), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_round_trip),
		cmocka_unit_test(test_unknowns_stay_unknown),
		cmocka_unit_test(test_report_fields),
		cmocka_unit_test(test_stop_position_is_not_final),
		cmocka_unit_test(test_bad_journals_refused),
		cmocka_unit_test(test_change_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
