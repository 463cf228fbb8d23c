/* primary: the watched new primary's states, why_not, hysteresis, binlog. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "primary.h"

/* A MariaDB primary that answers, writable, at mariadb-bin.000002:pos. */
static struct rw_primary_sample
answered(const char *pos)
{
	struct rw_primary_sample s;

	memset(&s, 0, sizeof s);
	s.kind = PSAMPLE_ANSWERED;
	s.read_only = 0;
	s.innodb_read_only = 0;
	s.super_read_only = -1;
	s.binlog_file = "mariadb-bin.000002";
	s.binlog_pos = pos;
	return s;
}

static struct rw_primary_sample
down(void)
{
	struct rw_primary_sample s;

	memset(&s, 0, sizeof s);
	s.kind = PSAMPLE_UNREACHABLE;
	s.error = "Can't connect to server on '127.0.0.1' (111)";
	s.read_only = s.innodb_read_only = s.super_read_only = -1;
	return s;
}

static enum rw_health
update(struct rw_primary *p, const struct rw_primary_sample *s,
    enum rw_health cur, unsigned hysteresis, char *reason)
{
	return primary_update(p, s, cur, hysteresis, reason, 512);
}

static void
test_watched_states(void **state)
{
	assert_true(primary_watched(HEALTH_PROMOTED));
	assert_true(primary_watched(HEALTH_PRIMARY_READ_ONLY));
	assert_true(primary_watched(HEALTH_PRIMARY_UNREACHABLE));
	assert_false(primary_watched(HEALTH_PROMOTING));
	assert_false(primary_watched(HEALTH_PROMOTION_INTERRUPTED));
	assert_false(primary_watched(HEALTH_OK));
	assert_false(primary_watched(HEALTH_UNREACHABLE));
}

static void
test_parse_switch(void **state)
{
	assert_int_equal(primary_parse_switch("0"), 0);
	assert_int_equal(primary_parse_switch("OFF"), 0);
	assert_int_equal(primary_parse_switch("off"), 0);
	assert_int_equal(primary_parse_switch("1"), 1);
	assert_int_equal(primary_parse_switch("ON"), 1);
	/* A mode we do not know may refuse writes. */
	assert_int_equal(primary_parse_switch("NO_LOCK"), 1);
	assert_int_equal(primary_parse_switch(NULL), -1);
}

static void
test_writable(void **state)
{
	struct rw_primary p;
	struct rw_primary_sample s = answered("1000");
	char reason[512];

	primary_init(&p);
	assert_int_equal(p.checked, 0);
	assert_int_equal(p.writable, -1);
	assert_int_equal(update(&p, &s, HEALTH_PROMOTED, 3, reason),
	    HEALTH_PROMOTED);
	assert_string_equal(reason, "new primary writable");
	assert_int_equal(p.checked, 1);
	assert_int_equal(p.reachable, 1);
	assert_int_equal(p.writable, 1);
	assert_int_equal(p.read_only, 0);
	assert_int_equal(p.super_read_only, -1);
	assert_string_equal(p.why_not, "");
	assert_string_equal(p.binlog_file, "mariadb-bin.000002");
	assert_true(p.have_pos);
	assert_int_equal(p.binlog_pos, 1000);
}

static void
test_read_only_at_once_and_back(void **state)
{
	struct rw_primary p;
	struct rw_primary_sample s = answered("1000");
	char reason[512];

	primary_init(&p);
	s.read_only = 1;
	/* No hysteresis: the server says so, it is no glitch. */
	assert_int_equal(update(&p, &s, HEALTH_PROMOTED, 3, reason),
	    HEALTH_PRIMARY_READ_ONLY);
	assert_string_equal(p.why_not, "read_only is ON");
	assert_string_equal(reason, "new primary refuses writes: read_only is ON");
	assert_int_equal(p.writable, 0);
	assert_int_equal(p.reachable, 1);
	assert_int_equal(p.read_only, 1);

	s.read_only = 0;
	assert_int_equal(update(&p, &s, HEALTH_PRIMARY_READ_ONLY, 3, reason),
	    HEALTH_PROMOTED);
	assert_int_equal(p.writable, 1);
	assert_string_equal(p.why_not, "");
}

static void
test_why_not_rds_and_other_switches(void **state)
{
	struct rw_primary p;
	struct rw_primary_sample s = answered("4");
	char reason[512];

	primary_init(&p);
	s.read_only = 1;
	s.rds = 1;
	update(&p, &s, HEALTH_PROMOTED, 3, reason);
	assert_string_equal(p.why_not,
	    "read_only is ON (set by the DB parameter group)");

	/* MySQL: super_read_only, which implies read_only. */
	s.rds = 0;
	s.super_read_only = 1;
	update(&p, &s, HEALTH_PROMOTED, 3, reason);
	assert_string_equal(p.why_not, "read_only is ON, super_read_only is ON");

	s.read_only = 0;
	s.super_read_only = 0;
	s.innodb_read_only = 1;
	assert_int_equal(update(&p, &s, HEALTH_PROMOTED, 3, reason),
	    HEALTH_PRIMARY_READ_ONLY);
	assert_string_equal(p.why_not, "innodb_read_only is ON (a start-up option)");
	assert_int_equal(p.innodb_read_only, 1);
}

static void
test_unreachable_after_hysteresis(void **state)
{
	struct rw_primary p;
	struct rw_primary_sample up = answered("10"), s = down();
	enum rw_health h = HEALTH_PROMOTED;
	char reason[512];

	primary_init(&p);
	h = update(&p, &up, h, 3, reason);
	/* One failed poll does not page: the state stays, the reason counts. */
	h = update(&p, &s, h, 3, reason);
	assert_int_equal(h, HEALTH_PROMOTED);
	assert_string_equal(reason, "new primary did not answer: Can't connect "
	    "to server on '127.0.0.1' (111) (primary_unreachable for 1 of 3 "
	    "samples)");
	/* The facts are the newest poll's all the same. */
	assert_int_equal(p.reachable, 0);
	assert_int_equal(p.writable, 0);
	assert_int_equal(p.read_only, -1);
	assert_string_equal(p.why_not,
	    "Can't connect to server on '127.0.0.1' (111)");
	assert_false(p.have_pos);
	assert_int_equal(p.binlog_moving, -1);
	h = update(&p, &s, h, 3, reason);
	assert_int_equal(h, HEALTH_PROMOTED);
	assert_non_null(strstr(reason, "2 of 3"));
	h = update(&p, &s, h, 3, reason);
	assert_int_equal(h, HEALTH_PRIMARY_UNREACHABLE);
	assert_string_equal(reason, "new primary unreachable: Can't connect to "
	    "server on '127.0.0.1' (111)");
	/* It stays so, without counting further. */
	h = update(&p, &s, h, 3, reason);
	assert_int_equal(h, HEALTH_PRIMARY_UNREACHABLE);
	assert_int_equal(p.failures, 3);
	/* One answer recovers at once and starts the count afresh. */
	h = update(&p, &up, h, 3, reason);
	assert_int_equal(h, HEALTH_PROMOTED);
	assert_int_equal(p.failures, 0);
	h = update(&p, &s, h, 3, reason);
	assert_int_equal(h, HEALTH_PROMOTED);
}

static void
test_interrupted_streak_and_hysteresis_one(void **state)
{
	struct rw_primary p;
	struct rw_primary_sample up = answered("10"), s = down();
	enum rw_health h = HEALTH_PROMOTED;
	char reason[512];

	primary_init(&p);
	h = update(&p, &s, h, 2, reason);
	h = update(&p, &up, h, 2, reason);
	h = update(&p, &s, h, 2, reason);
	assert_int_equal(h, HEALTH_PROMOTED);
	/* From read-only the same count applies. */
	primary_init(&p);
	assert_int_equal(update(&p, &s, HEALTH_PRIMARY_READ_ONLY, 2, reason),
	    HEALTH_PRIMARY_READ_ONLY);
	assert_int_equal(update(&p, &s, HEALTH_PRIMARY_READ_ONLY, 2, reason),
	    HEALTH_PRIMARY_UNREACHABLE);
	/* 1, and 0 taken as 1: at once. */
	primary_init(&p);
	assert_int_equal(update(&p, &s, HEALTH_PROMOTED, 1, reason),
	    HEALTH_PRIMARY_UNREACHABLE);
	primary_init(&p);
	assert_int_equal(update(&p, &s, HEALTH_PROMOTED, 0, reason),
	    HEALTH_PRIMARY_UNREACHABLE);
}

static void
test_query_error_is_blind(void **state)
{
	struct rw_primary p;
	struct rw_primary_sample s;
	char reason[512];

	memset(&s, 0, sizeof s);
	s.kind = PSAMPLE_QUERY_ERROR;
	s.error = "read_only query failed: Unknown system variable 'x'";
	primary_init(&p);
	assert_int_equal(update(&p, &s, HEALTH_PROMOTED, 1, reason),
	    HEALTH_PRIMARY_UNREACHABLE);
	assert_int_equal(p.reachable, 1);
	assert_int_equal(p.writable, -1);
	assert_string_equal(p.why_not, s.error);
	assert_string_equal(reason, "new primary unreachable: read_only query "
	    "failed: Unknown system variable 'x'");

	/* An answer without read_only counts the same. */
	s = answered("1");
	s.read_only = -1;
	primary_init(&p);
	assert_int_equal(update(&p, &s, HEALTH_PROMOTED, 2, reason),
	    HEALTH_PROMOTED);
	assert_int_equal(p.failures, 1);
	assert_int_equal(p.writable, -1);
	assert_non_null(strstr(reason, "read_only query returned no value"));
}

static void
test_binlog_moving(void **state)
{
	struct rw_primary p;
	struct rw_primary_sample s = answered("1000"), no = answered(NULL),
	    off = down();
	char reason[512];

	primary_init(&p);
	update(&p, &s, HEALTH_PROMOTED, 3, reason);
	assert_int_equal(p.binlog_moving, -1);	/* one poll: unknown */
	update(&p, &s, HEALTH_PROMOTED, 3, reason);
	assert_int_equal(p.binlog_moving, 0);	/* idle, and no fault */
	s.binlog_pos = "1200";
	assert_int_equal(update(&p, &s, HEALTH_PROMOTED, 3, reason),
	    HEALTH_PROMOTED);
	assert_int_equal(p.binlog_moving, 1);
	assert_int_equal(p.binlog_pos, 1200);
	/* A new file at a smaller position is movement too (a rotation). */
	s.binlog_file = "mariadb-bin.000003";
	s.binlog_pos = "4";
	update(&p, &s, HEALTH_PROMOTED, 3, reason);
	assert_int_equal(p.binlog_moving, 1);
	/* No position (binary log off, no privilege): unknown, from scratch. */
	no.binlog_file = NULL;
	update(&p, &no, HEALTH_PROMOTED, 3, reason);
	assert_false(p.have_pos);
	assert_string_equal(p.binlog_file, "");
	assert_int_equal(p.binlog_moving, -1);
	update(&p, &s, HEALTH_PROMOTED, 3, reason);
	assert_int_equal(p.binlog_moving, -1);
	update(&p, &s, HEALTH_PROMOTED, 3, reason);
	assert_int_equal(p.binlog_moving, 0);
	/* An unanswered poll forgets the position as well. */
	update(&p, &off, HEALTH_PROMOTED, 3, reason);
	update(&p, &s, HEALTH_PROMOTED, 3, reason);
	assert_int_equal(p.binlog_moving, -1);
	/* A position that is no number is unknown. */
	s.binlog_pos = "12x";
	update(&p, &s, HEALTH_PROMOTED, 3, reason);
	assert_false(p.have_pos);
}

static void
test_long_error_truncated(void **state)
{
	struct rw_primary p;
	struct rw_primary_sample s = down();
	char err[2000], reason[64];

	memset(err, 'e', sizeof err - 1);
	err[sizeof err - 1] = '\0';
	s.error = err;
	primary_init(&p);
	assert_int_equal(primary_update(&p, &s, HEALTH_PROMOTED, 1, reason,
	    sizeof reason), HEALTH_PRIMARY_UNREACHABLE);
	assert_int_equal(strlen(reason), sizeof reason - 1);
	assert_int_equal(strlen(p.why_not), sizeof p.why_not - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watched_states),
		cmocka_unit_test(test_parse_switch),
		cmocka_unit_test(test_writable),
		cmocka_unit_test(test_read_only_at_once_and_back),
		cmocka_unit_test(test_why_not_rds_and_other_switches),
		cmocka_unit_test(test_unreachable_after_hysteresis),
		cmocka_unit_test(test_interrupted_streak_and_hysteresis_one),
		cmocka_unit_test(test_query_error_is_blind),
		cmocka_unit_test(test_binlog_moving),
		cmocka_unit_test(test_long_error_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
