/* Unit tests of lib/flavor.c: detection and the statements of each kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mysql.h>

#include "flavor.h"

/*
 * The session a statement is built for, faked: libmariadb's own escaping on
 * a handle that never connects, with the NO_BACKSLASH_ESCAPES status flag
 * set as a server would report it.  BS: the default sql_mode; NBE: with
 * NO_BACKSLASH_ESCAPES.  MARK wraps a string in <> unescaped, to see that
 * every literal of a statement comes from the quoter and nothing else.
 */
struct db {
	MYSQL	*mysql;
	int	 no_backslash_escapes;
};

static char *
fake_quote(struct db *d, const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(2 * n + 3);
	unsigned long len;

	if (d->mysql == NULL)
		d->mysql = mysql_init(NULL);
	assert_non_null(d->mysql);
	if (d->no_backslash_escapes)
		d->mysql->server_status |= SERVER_STATUS_NO_BACKSLASH_ESCAPES;
	else
		d->mysql->server_status &= ~SERVER_STATUS_NO_BACKSLASH_ESCAPES;
	len = mysql_real_escape_string(d->mysql, out + 1, s, n);
	assert_true(len != (unsigned long)-1);
	out[0] = '\'';
	out[len + 1] = '\'';
	out[len + 2] = '\0';
	return out;
}

static char *
mark_quote(struct db *d, const char *s)
{
	char *out = malloc(strlen(s) + 3);

	sprintf(out, "<%s>", s);
	return out;
}

static struct db bs_session, nbe_session = { NULL, 1 };

static int
close_sessions(void **state)
{
	mysql_close(bs_session.mysql);
	mysql_close(nbe_session.mysql);
	mysql_library_end();
	return 0;
}
static const struct sql_quoter BS = { fake_quote, &bs_session };
static const struct sql_quoter NBE = { fake_quote, &nbe_session };
static const struct sql_quoter MARK = { mark_quote, NULL };

/* The sandbox's emulations (tests/sandbox) install exactly these. */
#define ROUTINES_RDS_MYSQL \
	"rds_reset_external_master,rds_set_external_master," \
	"rds_set_external_master_with_delay,rds_skip_repl_error," \
	"rds_start_replication,rds_stop_replication"
#define ROUTINES_RDS_MYSQL84 \
	"rds_reset_external_source,rds_set_external_source," \
	"rds_set_external_source_with_delay,rds_skip_repl_error," \
	"rds_start_replication,rds_stop_replication"
#define ROUTINES_RDS_MARIADB \
	"rds_replica_status,rds_reset_external_master," \
	"rds_set_external_master,rds_set_external_master_gtid," \
	"rds_set_external_master_with_delay,rds_skip_repl_error," \
	"rds_start_replication,rds_stop_replication"

static struct rw_flavor
detect(enum rw_flavor_choice forced, const char *version, const char *comment,
    const char *routines)
{
	struct rw_flavor f;

	flavor_detect(&f, forced, version, comment, routines);
	return f;
}

static void
test_versions(void **state)
{
	static const struct {
		const char	*version;
		const char	*comment;
		unsigned	 want;
		int		 mariadb;
	} cases[] = {
		{ "10.11.6-MariaDB-0+deb12u1", "Debian 12", 101106, 1 },
		{ "8.0.36", "MySQL Community Server - GPL", 80036, 0 },
		{ "5.7.44-log", "Source distribution", 50744, 0 },
		{ "8.4.3", "Source distribution", 80403, 0 },
		{ "5.5.5-10.11.6-MariaDB", "mariadb.org binary", 101106, 1 },
		{ "5.5.5-10.6.14-MariaDB-log", NULL, 100614, 1 },
		{ "10.6.14-log", "MariaDB Server", 100614, 1 },
		{ "8.0.mysql_aurora.3.05.2", "Source distribution", 80000, 0 },
		{ "8.4", NULL, 80400, 0 },
		{ "11.4.2-MariaDB", NULL, 110402, 1 },
		{ "5.5.5", NULL, 50505, 0 },	/* a real MySQL 5.5.5 */
		{ "garbage", NULL, 0, 0 },
		{ "", NULL, 0, 0 },
		{ NULL, NULL, 0, 0 },
	};
	struct rw_flavor f;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f = detect(FLAVOR_AUTO, cases[i].version, cases[i].comment, NULL);
		if (f.version != cases[i].want || f.mariadb != cases[i].mariadb)
			fail_msg("\"%s\": version %u mariadb %d, want %u %d",
			    cases[i].version ? cases[i].version : "(null)",
			    f.version, f.mariadb, cases[i].want,
			    cases[i].mariadb);
	}
	f = detect(FLAVOR_AUTO, "8.0.36-0ubuntu0.22.04.1", NULL, NULL);
	assert_string_equal(f.version_str, "8.0.36-0ubuntu0.22.04.1");
	assert_int_equal(f.status_denied, 0);
}

static void
test_detect_kinds(void **state)
{
	struct rw_flavor f;

	f = detect(FLAVOR_AUTO, "8.0.36", "Source distribution",
	    ROUTINES_RDS_MYSQL);
	assert_int_equal(f.kind, FLAVOR_RDS_MYSQL);
	assert_string_equal(flavor_name(&f), "rds-mysql");
	assert_true(flavor_is_rds(&f));
	assert_int_equal(f.rds, RDS_RESET_EXTERNAL_MASTER |
	    RDS_SET_EXTERNAL_MASTER | RDS_SKIP_REPL_ERROR |
	    RDS_START_REPLICATION | RDS_STOP_REPLICATION);

	f = detect(FLAVOR_AUTO, "8.4.3", "Source distribution",
	    ROUTINES_RDS_MYSQL84);
	assert_int_equal(f.kind, FLAVOR_RDS_MYSQL);
	assert_int_equal(f.rds, RDS_RESET_EXTERNAL_SOURCE |
	    RDS_SET_EXTERNAL_SOURCE | RDS_SKIP_REPL_ERROR |
	    RDS_START_REPLICATION | RDS_STOP_REPLICATION);

	f = detect(FLAVOR_AUTO, "10.11.6-MariaDB-log", "Source distribution",
	    ROUTINES_RDS_MARIADB);
	assert_int_equal(f.kind, FLAVOR_RDS_MARIADB);
	assert_string_equal(flavor_name(&f), "rds-mariadb");
	assert_int_equal(f.rds, RDS_REPLICA_STATUS | RDS_RESET_EXTERNAL_MASTER |
	    RDS_SET_EXTERNAL_MASTER | RDS_SET_EXTERNAL_MASTER_GTID |
	    RDS_SKIP_REPL_ERROR | RDS_START_REPLICATION | RDS_STOP_REPLICATION);

	f = detect(FLAVOR_AUTO, "10.11.6-MariaDB-0+deb12u1", "Debian 12", NULL);
	assert_int_equal(f.kind, FLAVOR_MARIADB);
	assert_string_equal(flavor_name(&f), "mariadb");
	assert_false(flavor_is_rds(&f));
	assert_int_equal(f.rds, 0);

	f = detect(FLAVOR_AUTO, "8.0.36", NULL, "");
	assert_int_equal(f.kind, FLAVOR_MYSQL);
	assert_string_equal(flavor_name(&f), "mysql");

	/* Only skip_repl_error, or lookalike names: not RDS. */
	f = detect(FLAVOR_AUTO, "8.0.36", NULL,
	    "rds_skip_repl_error,rds_start_replication_x,xrds_stop_replication");
	assert_int_equal(f.kind, FLAVOR_MYSQL);
	assert_int_equal(f.rds, RDS_SKIP_REPL_ERROR);

	/* Whitespace and case in the list are tolerated. */
	f = detect(FLAVOR_AUTO, "8.0.36", NULL,
	    " RDS_START_REPLICATION , rds_stop_replication");
	assert_int_equal(f.rds, RDS_START_REPLICATION | RDS_STOP_REPLICATION);
	assert_int_equal(f.kind, FLAVOR_RDS_MYSQL);
}

static void
test_detect_forced(void **state)
{
	struct rw_flavor f;

	f = detect(FLAVOR_MYSQL, "8.0.36", NULL, ROUTINES_RDS_MYSQL);
	assert_int_equal(f.kind, FLAVOR_MYSQL);
	assert_int_equal(f.version, 80036);
	assert_true(f.rds & RDS_SET_EXTERNAL_MASTER);

	f = detect(FLAVOR_RDS_MARIADB, "10.6.14", "", NULL);
	assert_int_equal(f.kind, FLAVOR_RDS_MARIADB);
	assert_int_equal(f.mariadb, 1);	/* said by the configuration */
	assert_int_equal(f.rds, 0);
	assert_string_equal(flavor_name(&f), "rds-mariadb");
}

static void
test_statements(void **state)
{
	struct rw_flavor f;

	/* RDS MySQL 8.0 */
	f = detect(FLAVOR_AUTO, "8.0.36", NULL, ROUTINES_RDS_MYSQL);
	assert_string_equal(flavor_status_sql(&f), "SHOW REPLICA STATUS");
	assert_string_equal(flavor_start_sql(&f),
	    "CALL mysql.rds_start_replication()");
	assert_string_equal(flavor_stop_sql(&f),
	    "CALL mysql.rds_stop_replication()");
	assert_string_equal(flavor_reset_sql(&f),
	    "CALL mysql.rds_reset_external_master()");
	assert_string_equal(flavor_master_status_sql(&f), "SHOW MASTER STATUS");

	/* RDS MySQL 8.4: the source names. */
	f = detect(FLAVOR_AUTO, "8.4.3", NULL, ROUTINES_RDS_MYSQL84);
	assert_string_equal(flavor_reset_sql(&f),
	    "CALL mysql.rds_reset_external_source()");
	assert_string_equal(flavor_master_status_sql(&f),
	    "SHOW BINARY LOG STATUS");
	/* Both present: the source name wins. */
	f = detect(FLAVOR_AUTO, "8.4.3", NULL,
	    ROUTINES_RDS_MYSQL84 ",rds_reset_external_master");
	assert_string_equal(flavor_reset_sql(&f),
	    "CALL mysql.rds_reset_external_source()");

	/* RDS MySQL 5.7 */
	f = detect(FLAVOR_AUTO, "5.7.44-log", NULL, ROUTINES_RDS_MYSQL);
	assert_string_equal(flavor_status_sql(&f), "SHOW SLAVE STATUS");

	/* RDS MariaDB: the procedure only once SHOW was denied. */
	f = detect(FLAVOR_AUTO, "10.11.6-MariaDB-log", NULL,
	    ROUTINES_RDS_MARIADB);
	assert_string_equal(flavor_status_sql(&f), "SHOW REPLICA STATUS");
	f.status_denied = 1;
	assert_string_equal(flavor_status_sql(&f),
	    "CALL mysql.rds_replica_status()");
	assert_string_equal(flavor_master_status_sql(&f), "SHOW BINLOG STATUS");
	/* Forced self-managed, yet the procedure exists: use it. */
	f.kind = FLAVOR_MARIADB;
	assert_string_equal(flavor_status_sql(&f),
	    "CALL mysql.rds_replica_status()");
	/* Denied but no procedure: nothing better to offer. */
	f.rds &= ~RDS_REPLICA_STATUS;
	assert_string_equal(flavor_status_sql(&f), "SHOW REPLICA STATUS");

	/* Self-managed MySQL, across the renames. */
	f = detect(FLAVOR_AUTO, "8.0.21", NULL, NULL);
	assert_string_equal(flavor_status_sql(&f), "SHOW SLAVE STATUS");
	assert_string_equal(flavor_start_sql(&f), "START SLAVE");
	assert_string_equal(flavor_stop_sql(&f), "STOP SLAVE");
	assert_string_equal(flavor_reset_sql(&f), "RESET SLAVE ALL");
	f = detect(FLAVOR_AUTO, "8.0.22", NULL, NULL);
	assert_string_equal(flavor_status_sql(&f), "SHOW REPLICA STATUS");
	assert_string_equal(flavor_start_sql(&f), "START REPLICA");
	assert_string_equal(flavor_stop_sql(&f), "STOP REPLICA");
	assert_string_equal(flavor_reset_sql(&f), "RESET REPLICA ALL");
	assert_string_equal(flavor_master_status_sql(&f), "SHOW MASTER STATUS");
	f = detect(FLAVOR_AUTO, "8.1.0", NULL, NULL);
	assert_string_equal(flavor_master_status_sql(&f), "SHOW MASTER STATUS");
	f = detect(FLAVOR_AUTO, "8.2.0", NULL, NULL);
	assert_string_equal(flavor_master_status_sql(&f),
	    "SHOW BINARY LOG STATUS");
	f.status_denied = 1;	/* no procedure off RDS */
	assert_string_equal(flavor_status_sql(&f), "SHOW REPLICA STATUS");

	/* Self-managed MariaDB. */
	f = detect(FLAVOR_AUTO, "10.5.0-MariaDB", NULL, NULL);
	assert_string_equal(flavor_status_sql(&f), "SHOW SLAVE STATUS");
	assert_string_equal(flavor_start_sql(&f), "START SLAVE");
	assert_string_equal(flavor_reset_sql(&f), "RESET SLAVE ALL");
	assert_string_equal(flavor_master_status_sql(&f), "SHOW MASTER STATUS");
	f = detect(FLAVOR_AUTO, "10.5.1-MariaDB", NULL, NULL);
	assert_string_equal(flavor_status_sql(&f), "SHOW REPLICA STATUS");
	assert_string_equal(flavor_start_sql(&f), "START REPLICA");
	assert_string_equal(flavor_stop_sql(&f), "STOP REPLICA");
	assert_string_equal(flavor_reset_sql(&f), "RESET REPLICA ALL");
	assert_string_equal(flavor_master_status_sql(&f), "SHOW MASTER STATUS");
	f = detect(FLAVOR_AUTO, "10.5.2-MariaDB", NULL, NULL);
	assert_string_equal(flavor_master_status_sql(&f), "SHOW BINLOG STATUS");
}

static void
test_probe_sql(void **state)
{
	/* The server must see rds\_% : one backslash in the string. */
	assert_non_null(strstr(flavor_probe_sql, "LIKE 'rds\\_%'"));
	assert_non_null(strstr(flavor_probe_sql, " AS version,"));
	assert_non_null(strstr(flavor_probe_sql, " AS version_comment,"));
	assert_non_null(strstr(flavor_probe_sql, " AS routine "));
	assert_null(strchr(flavor_probe_sql, ';'));
	/* RDS for MySQL cuts a GROUP_CONCAT at 1024 bytes: one row each. */
	assert_null(strstr(flavor_probe_sql, "GROUP_CONCAT"));
	assert_null(strstr(flavor_probe_sql, "group_concat"));
}

/*
 * The probe's rows as RDS for MySQL 8.0 answers them: about sixty routines,
 * 1.9 KB of names, rds_start/stop_replication late in the alphabet.
 */
static const char *const rds_mysql_routines[] = {
	"rds_collect_global_status_history", "rds_disable_gsh_collector",
	"rds_disable_gsh_rotation", "rds_enable_gsh_collector",
	"rds_enable_gsh_rotation", "rds_external_master",
	"rds_innodb_buffer_pool_dump_now", "rds_innodb_buffer_pool_load_abort",
	"rds_innodb_buffer_pool_load_now", "rds_kill", "rds_kill_query",
	"rds_next_master_log", "rds_reset_external_master",
	"rds_rotate_general_log", "rds_rotate_global_status_history",
	"rds_rotate_slow_log", "rds_set_configuration",
	"rds_set_external_master", "rds_set_external_master_with_auto_position",
	"rds_set_external_master_with_delay", "rds_set_fk_checks_off",
	"rds_set_fk_checks_on", "rds_set_gsh_collector", "rds_set_gsh_rotation",
	"rds_set_master_auto_position", "rds_set_source_delay",
	"rds_show_configuration", "rds_skip_repl_error",
	"rds_skip_transaction_with_gtid", "rds_start_replication",
	"rds_start_replication_until", "rds_start_replication_until_gtid",
	"rds_stop_replication", "rds_gtid_purged",
	"rds_import_binlog_ssl_material", "rds_remove_binlog_ssl_material",
	"rds_next_source_log", "rds_reset_external_source",
	"rds_set_external_source", "rds_set_external_source_with_auto_position",
	"rds_set_external_source_with_delay", "rds_set_source_auto_position",
	"rds_set_external_source_gtid_purged",
	"rds_set_external_master_gtid_purged",
};

static void
test_detect_probe_rows(void **state)
{
	enum { N = sizeof(rds_mysql_routines) / sizeof(rds_mysql_routines[0]) };
	const char *names[3] = { "version", "version_comment", "routine" };
	const char *values[N * 3], *none[3] = { "10.11.6-MariaDB", "Debian",
	    NULL };
	size_t total = 0;
	struct rw_flavor f;

	for (size_t r = 0; r < N; r++) {
		values[r * 3] = "8.0.36";
		values[r * 3 + 1] = "Source distribution";
		values[r * 3 + 2] = rds_mysql_routines[r];
		total += strlen(rds_mysql_routines[r]) + 1;
	}
	/* Longer than group_concat_max_len: a concatenation would be cut. */
	assert_true(total > 1024);
	assert_int_equal(flavor_detect_probe(&f, FLAVOR_AUTO, names, values, 3,
	    N), 0);
	assert_int_equal(f.kind, FLAVOR_RDS_MYSQL);
	assert_int_equal(f.mariadb, 0);
	assert_int_equal(f.version, 80036);
	assert_true(f.rds & RDS_START_REPLICATION);
	assert_true(f.rds & RDS_STOP_REPLICATION);
	assert_true(f.rds & RDS_RESET_EXTERNAL_MASTER);
	/* Both names exist (8.0 late releases): the new one wins. */
	assert_true(f.rds & RDS_RESET_EXTERNAL_SOURCE);
	assert_string_equal(flavor_reset_sql(&f),
	    "CALL mysql.rds_reset_external_source()");
	assert_string_equal(flavor_stop_sql(&f),
	    "CALL mysql.rds_stop_replication()");

	/* No routine: one row, routine NULL; self-managed MariaDB. */
	assert_int_equal(flavor_detect_probe(&f, FLAVOR_AUTO, names, none, 3, 1),
	    0);
	assert_int_equal(f.kind, FLAVOR_MARIADB);
	assert_int_equal(f.rds, 0);
	/* No row at all is an error, not a guess. */
	assert_int_equal(flavor_detect_probe(&f, FLAVOR_AUTO, names, none, 3, 0),
	    -1);
}

/*
 * How the server reads a literal, for the round-trip checks: with backslash
 * escapes (the default), or with NO_BACKSLASH_ESCAPES, where '' is a quote
 * and a backslash is itself.
 */
static char *
unquote_nbe(const char *lit, const char **end)
{
	char *out = malloc(strlen(lit) + 1), *o = out;

	assert_int_equal(*lit, '\'');
	for (lit++;; lit++) {
		assert_int_not_equal(*lit, '\0');
		if (*lit == '\'' && lit[1] == '\'')
			*o++ = *lit++;
		else if (*lit == '\'')
			break;
		else
			*o++ = *lit;
	}
	*o = '\0';
	*end = lit + 1;
	return out;
}

static char *
unquote(const char *lit, const char **end)
{
	char *out = malloc(strlen(lit) + 1), *o = out;

	assert_int_equal(*lit, '\'');
	for (lit++; *lit != '\''; lit++) {
		assert_int_not_equal(*lit, '\0');
		if (*lit != '\\') {
			*o++ = *lit;
			continue;
		}
		lit++;
		switch (*lit) {
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 'Z':
			*o++ = '\032';
			break;
		case '0':
			*o++ = '\0';
			break;
		default:
			*o++ = *lit;
		}
	}
	*o = '\0';
	*end = lit + 1;
	return out;
}

/*
 * Passwords with every character that matters to a literal, in both
 * sql_modes, through every kind's set-up statement: the server reads back
 * exactly the password, and the statement goes on after it as it should.
 */
static const char *const passwords[] = {
	"", "plain", "it's", "back\\slash", "ends\\", "\"dq\"", "semi;colon",
	"sp ace", " lead and trail ", "\xc3\xbc\xe2\x82\xac", "nl\nc\rr",
	"ctrl-z\032", "\\'", "'\\", "''", "'; DROP TABLE t; --",
	"x\\', 'mysql-bin.000001', 4, 0); --",
	"a'b\\c\"d;e f\xc3\xbc\xe2\x82\xac\\",
};

static void
check_round_trip(const struct rw_flavor *f, const struct sql_quoter *qt,
    char *(*unq)(const char *, const char **), const char *after)
{
	struct rw_setup st = {
		.host = "10.0.0.5", .port = 3306, .user = "repl",
		.log_file = "mysql-bin.000042", .log_pos = 4,
	};
	const char *p, *end;
	char err[256], *sql, *back;
	size_t i;

	for (i = 0; i < sizeof(passwords) / sizeof(passwords[0]); i++) {
		st.password = passwords[i];
		if (flavor_is_rds(f) && passwords[i][0] == ' ')
			continue;	/* refused: test_setup_errors */
		sql = flavor_setup_sql(f, qt, &st, err, sizeof(err));
		if (sql == NULL)
			fail_msg("setup failed: %s", err);
		p = strstr(sql, "'repl'");
		assert_non_null(p);
		p = strchr(p + strlen("'repl'"), '\'');
		back = unq(p, &end);
		if (strcmp(back, passwords[i]) != 0)
			fail_msg("%s read back as \"%s\" from %s", flavor_name(f),
			    back, sql);
		if (strncmp(end, after, strlen(after)) != 0)
			fail_msg("after the password: \"%s\" in %s", end, sql);
		free(back);
		free(sql);
	}
}

static void
test_passwords_both_modes(void **state)
{
	struct rw_flavor rds, rds84, my, maria;

	rds = detect(FLAVOR_AUTO, "8.0.36", NULL, ROUTINES_RDS_MYSQL);
	rds84 = detect(FLAVOR_AUTO, "8.4.3", NULL, ROUTINES_RDS_MYSQL84);
	my = detect(FLAVOR_AUTO, "8.0.36", NULL, NULL);
	maria = detect(FLAVOR_AUTO, "10.11.6-MariaDB", NULL, NULL);
	check_round_trip(&rds, &BS, unquote, ", 'mysql-bin.000042', 4, ");
	check_round_trip(&rds, &NBE, unquote_nbe, ", 'mysql-bin.000042', 4, ");
	check_round_trip(&rds84, &NBE, unquote_nbe, ", 'mysql-bin.000042', 4, ");
	check_round_trip(&my, &BS, unquote, ", SOURCE_LOG_FILE='mysql-bin");
	check_round_trip(&my, &NBE, unquote_nbe, ", SOURCE_LOG_FILE='mysql-bin");
	check_round_trip(&maria, &BS, unquote, ", MASTER_LOG_FILE='mysql-bin");
	check_round_trip(&maria, &NBE, unquote_nbe, ", MASTER_LOG_FILE='mysql-bin");
}

/* The two modes differ where they must: a quote doubled, a backslash kept. */
static void
test_nbe_literals(void **state)
{
	struct rw_flavor f = detect(FLAVOR_AUTO, "10.11.6-MariaDB", NULL, NULL);
	struct rw_setup st = {
		.host = "h'st", .port = 3306, .user = "o'brien\\",
		.password = "a'b\\c", .log_file = "mysql-bin.000042", .log_pos = 4,
	};
	char err[256], *sql;

	sql = flavor_setup_sql(&f, &NBE, &st, err, sizeof(err));
	assert_string_equal(sql, "CHANGE MASTER TO MASTER_HOST='h''st', "
	    "MASTER_PORT=3306, MASTER_USER='o''brien\\', "
	    "MASTER_PASSWORD='a''b\\c', MASTER_LOG_FILE='mysql-bin.000042', "
	    "MASTER_LOG_POS=4, MASTER_SSL=0");
	free(sql);
	sql = flavor_setup_sql_redacted(&f, &NBE, &st);
	assert_string_equal(sql, "CHANGE MASTER TO MASTER_HOST='h''st', "
	    "MASTER_PORT=3306, MASTER_USER='o''brien\\', "
	    "MASTER_PASSWORD='***', MASTER_LOG_FILE='mysql-bin.000042', "
	    "MASTER_LOG_POS=4, MASTER_SSL=0");
	free(sql);
	sql = flavor_setup_sql(&f, &BS, &st, err, sizeof(err));
	assert_string_equal(sql, "CHANGE MASTER TO MASTER_HOST='h\\'st', "
	    "MASTER_PORT=3306, MASTER_USER='o\\'brien\\\\', "
	    "MASTER_PASSWORD='a\\'b\\\\c', MASTER_LOG_FILE='mysql-bin.000042', "
	    "MASTER_LOG_POS=4, MASTER_SSL=0");
	free(sql);
	sql = flavor_user_plugin_sql(&NBE, "o'brien\\");
	assert_string_equal(sql, "SELECT DISTINCT plugin FROM mysql.user "
	    "WHERE user = 'o''brien\\'");
	free(sql);
	sql = flavor_get_lock_sql(&NBE, "it's");
	assert_string_equal(sql, "SELECT GET_LOCK('it''s', 0) AS got");
	free(sql);
}

/* Every string literal of every statement is the quoter's, untouched. */
static void
test_every_literal_quoted(void **state)
{
	struct rw_flavor rds, rdsm, maria;
	struct rw_setup st = {
		.host = "h", .port = 1, .user = "u", .password = "p'\\",
		.log_file = "f", .log_pos = 4, .ssl = 1,
	};
	char err[256], *sql;

	rds = detect(FLAVOR_AUTO, "8.0.36", NULL, ROUTINES_RDS_MYSQL);
	rdsm = detect(FLAVOR_AUTO, "10.11.6-MariaDB", NULL,
	    ROUTINES_RDS_MARIADB);
	maria = detect(FLAVOR_AUTO, "10.11.6-MariaDB", NULL, NULL);
	sql = flavor_setup_sql(&rds, &MARK, &st, err, sizeof(err));
	assert_string_equal(sql, "CALL mysql.rds_set_external_master(<h>, 1, "
	    "<u>, <p'\\>, <f>, 4, 1)");
	free(sql);
	sql = flavor_setup_sql_redacted(&rds, &MARK, &st);
	assert_string_equal(sql, "CALL mysql.rds_set_external_master(<h>, 1, "
	    "<u>, '***', <f>, 4, 1)");
	free(sql);
	st.gtid = "0-1-2";
	sql = flavor_setup_sql(&rdsm, &MARK, &st, err, sizeof(err));
	assert_string_equal(sql, "CALL mysql.rds_set_external_master_gtid(<h>, "
	    "1, <u>, <p'\\>, <0-1-2>, 1)");
	free(sql);
	sql = flavor_setup_sql(&maria, &MARK, &st, err, sizeof(err));
	assert_string_equal(sql, "CHANGE MASTER TO MASTER_HOST=<h>, "
	    "MASTER_PORT=1, MASTER_USER=<u>, MASTER_PASSWORD=<p'\\>, "
	    "MASTER_USE_GTID=slave_pos, MASTER_SSL=1");
	free(sql);
	sql = flavor_gtid_pos_sql(&maria, &MARK, "0-1-2");
	assert_string_equal(sql, "SET GLOBAL gtid_slave_pos = <0-1-2>");
	free(sql);
	sql = flavor_pos_wait_sql(&maria, &MARK, "f.1", "4", 1);
	assert_string_equal(sql, "SELECT MASTER_POS_WAIT(<f.1>, 4, 1)");
	free(sql);
	sql = flavor_get_lock_sql(&MARK, "n");
	assert_string_equal(sql, "SELECT GET_LOCK(<n>, 0) AS got");
	free(sql);
	sql = flavor_user_plugin_sql(&MARK, "u");
	assert_string_equal(sql, "SELECT DISTINCT plugin FROM mysql.user "
	    "WHERE user = <u>");
	free(sql);
	sql = flavor_heartbeat_write_sql(&MARK, "s.t", "src", 1);
	assert_string_equal(sql, "REPLACE INTO s.t (source, ts_us, written) "
	    "VALUES (<src>, 1, NOW(6))");
	free(sql);
	sql = flavor_heartbeat_check_sql(&MARK, "s.t", "src");
	assert_string_equal(sql, "SELECT @@global.read_only AS ro, (SELECT "
	    "ts_us FROM s.t WHERE source = <src>) AS hb_us");
	free(sql);
}

static struct rw_setup
setup(void)
{
	struct rw_setup st = {
		.host = "10.0.0.5", .port = 3306, .user = "repl",
		.password = "s3cr'et\\\"x", .log_file = "mysql-bin.000042",
		.log_pos = 1234, .gtid = NULL, .ssl = 1,
	};

	return st;
}

static void
expect_setup(const struct rw_flavor *f, const struct rw_setup *st,
    const char *want)
{
	char err[256], *sql;

	err[0] = '\0';
	sql = flavor_setup_sql(f, &BS, st, err, sizeof(err));
	if (sql == NULL)
		fail_msg("setup failed: %s", err);
	assert_string_equal(sql, want);
	free(sql);
}

static void
test_setup_sql(void **state)
{
	struct rw_flavor f;
	struct rw_setup st = setup();
	const char *p, *end;
	char *sql, *pw;

	f = detect(FLAVOR_AUTO, "8.0.36", NULL, ROUTINES_RDS_MYSQL);
	expect_setup(&f, &st, "CALL mysql.rds_set_external_master('10.0.0.5', "
	    "3306, 'repl', 's3cr\\'et\\\\\\\"x', 'mysql-bin.000042', 1234, 1)");

	/* The password round-trips through the literal. */
	sql = flavor_setup_sql(&f, &BS, &st, NULL, 0);
	p = strstr(sql, "'repl', ") + strlen("'repl', ");
	pw = unquote(p, &end);
	assert_string_equal(pw, st.password);
	assert_true(strncmp(end, ", 'mysql-bin", 12) == 0);
	free(pw);
	free(sql);

	sql = flavor_setup_sql_redacted(&f, &BS, &st);
	assert_string_equal(sql, "CALL mysql.rds_set_external_master("
	    "'10.0.0.5', 3306, 'repl', '***', 'mysql-bin.000042', 1234, 1)");
	assert_null(strstr(sql, "s3cr"));
	free(sql);

	f = detect(FLAVOR_AUTO, "8.4.3", NULL, ROUTINES_RDS_MYSQL84);
	st.ssl = 0;
	expect_setup(&f, &st, "CALL mysql.rds_set_external_source('10.0.0.5', "
	    "3306, 'repl', 's3cr\\'et\\\\\\\"x', 'mysql-bin.000042', 1234, 0)");
	st.ssl = 7;	/* any true value is 1 */
	st.password = NULL;
	expect_setup(&f, &st, "CALL mysql.rds_set_external_source('10.0.0.5', "
	    "3306, 'repl', '', 'mysql-bin.000042', 1234, 1)");

	/* RDS MariaDB with a GTID. */
	st = setup();
	st.gtid = "0-1-100, 1-2-7";
	st.log_file = NULL;
	f = detect(FLAVOR_AUTO, "10.11.6-MariaDB-log", NULL,
	    ROUTINES_RDS_MARIADB);
	expect_setup(&f, &st, "CALL mysql.rds_set_external_master_gtid("
	    "'10.0.0.5', 3306, 'repl', 's3cr\\'et\\\\\\\"x', '0-1-100, 1-2-7', "
	    "1)");
	sql = flavor_setup_sql_redacted(&f, &BS, &st);
	assert_string_equal(sql, "CALL mysql.rds_set_external_master_gtid("
	    "'10.0.0.5', 3306, 'repl', '***', '0-1-100, 1-2-7', 1)");
	free(sql);
	assert_null(flavor_gtid_pos_sql(&f, &BS, st.gtid));	/* RDS: n/a */

	/* Self-managed MySQL 8.0.23+ and older. */
	st = setup();
	f = detect(FLAVOR_AUTO, "8.0.23", NULL, NULL);
	expect_setup(&f, &st, "CHANGE REPLICATION SOURCE TO SOURCE_HOST="
	    "'10.0.0.5', SOURCE_PORT=3306, SOURCE_USER='repl', "
	    "SOURCE_PASSWORD='s3cr\\'et\\\\\\\"x', SOURCE_LOG_FILE="
	    "'mysql-bin.000042', SOURCE_LOG_POS=1234, SOURCE_SSL=1");
	f = detect(FLAVOR_AUTO, "8.0.22", NULL, NULL);
	expect_setup(&f, &st, "CHANGE MASTER TO MASTER_HOST='10.0.0.5', "
	    "MASTER_PORT=3306, MASTER_USER='repl', "
	    "MASTER_PASSWORD='s3cr\\'et\\\\\\\"x', MASTER_LOG_FILE="
	    "'mysql-bin.000042', MASTER_LOG_POS=1234, MASTER_SSL=1");

	/* Self-managed MariaDB, file/pos and GTID. */
	f = detect(FLAVOR_AUTO, "10.11.6-MariaDB-0+deb12u1", NULL, NULL);
	st.ssl = 0;
	st.log_pos = 18446744073709551615ULL;
	expect_setup(&f, &st, "CHANGE MASTER TO MASTER_HOST='10.0.0.5', "
	    "MASTER_PORT=3306, MASTER_USER='repl', "
	    "MASTER_PASSWORD='s3cr\\'et\\\\\\\"x', MASTER_LOG_FILE="
	    "'mysql-bin.000042', MASTER_LOG_POS=18446744073709551615, "
	    "MASTER_SSL=0");
	st.gtid = "0-1-100";
	expect_setup(&f, &st, "CHANGE MASTER TO MASTER_HOST='10.0.0.5', "
	    "MASTER_PORT=3306, MASTER_USER='repl', "
	    "MASTER_PASSWORD='s3cr\\'et\\\\\\\"x', MASTER_USE_GTID=slave_pos, "
	    "MASTER_SSL=0");
	sql = flavor_gtid_pos_sql(&f, &BS, "0-1-100,1-2-3");
	assert_string_equal(sql, "SET GLOBAL gtid_slave_pos = '0-1-100,1-2-3'");
	free(sql);
	assert_null(flavor_gtid_pos_sql(&f, &BS, "0-1-100'; DROP"));
	assert_null(flavor_gtid_pos_sql(&f, &BS, ""));
	assert_null(flavor_gtid_pos_sql(&f, &BS, NULL));
}

static void
expect_setup_error(const struct rw_flavor *f, const struct rw_setup *st,
    const char *part)
{
	char err[256], *sql;

	err[0] = '\0';
	sql = flavor_setup_sql(f, &BS, st, err, sizeof(err));
	if (sql != NULL)
		fail_msg("accepted: %s", sql);
	if (strstr(err, part) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, part);
	assert_null(flavor_setup_sql_redacted(f, &BS, st));
}

static void
test_setup_errors(void **state)
{
	struct rw_flavor rds, rds84, rdsm, my, maria;
	struct rw_setup st;
	char longname[300];

	rds = detect(FLAVOR_AUTO, "8.0.36", NULL, ROUTINES_RDS_MYSQL);
	rds84 = detect(FLAVOR_AUTO, "8.4.3", NULL, ROUTINES_RDS_MYSQL84);
	rdsm = detect(FLAVOR_AUTO, "10.11.6-MariaDB", NULL,
	    ROUTINES_RDS_MARIADB);
	my = detect(FLAVOR_AUTO, "8.0.36", NULL, NULL);
	maria = detect(FLAVOR_AUTO, "10.11.6-MariaDB", NULL, NULL);

	st = setup();
	st.gtid = "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5";
	expect_setup_error(&rds, &st, "GTID set-up needs "
	    "mysql.rds_set_external_master_gtid (RDS MariaDB)");
	expect_setup_error(&rds84, &st, "rds_set_external_master_gtid");
	expect_setup_error(&my, &st, "GTID set-up of self-managed MySQL");
	st.gtid = "3E11FA47-71CA-11E1-9E33-C80AA9429562";	/* no interval */
	expect_setup_error(&my, &st, "not a MySQL GTID set");
	st.gtid = "0-1-x";
	expect_setup_error(&rdsm, &st, "not a MariaDB GTID list");
	st.gtid = "0-1";
	expect_setup_error(&maria, &st, "not a MariaDB GTID list");
	st.gtid = "0-1-2,";
	expect_setup_error(&maria, &st, "not a MariaDB GTID list");
	st.gtid = "0-1-2\n";
	expect_setup_error(&maria, &st, "gtid contains a control character");

	/* RDS's procedures trim their arguments: the password would change. */
	st = setup();
	st.password = " lead";
	expect_setup_error(&rds, &st, "begins or ends with a space");
	st.password = "trail ";
	expect_setup_error(&rds84, &st, "begins or ends with a space");
	st.password = "in side";
	{
		char err[256], *sql = flavor_setup_sql(&rds, &BS, &st, err,
		    sizeof(err));

		assert_non_null(sql);
		free(sql);
	}

	/* Forced RDS without any set-up procedure. */
	rds.rds = 0;
	st = setup();
	expect_setup_error(&rds, &st, "neither mysql.rds_set_external_source "
	    "nor mysql.rds_set_external_master exists");

	st = setup();
	st.host = "db\nhost";
	expect_setup_error(&my, &st, "host contains a control character");
	st = setup();
	st.host = "";
	expect_setup_error(&my, &st, "host is empty");
	st.host = NULL;
	expect_setup_error(&my, &st, "host is empty");
	st = setup();
	st.user = "re\tpl";
	expect_setup_error(&my, &st, "user contains a control character");
	st = setup();
	memset(longname, 'h', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	st.host = longname;
	expect_setup_error(&my, &st, "host is longer than 255 bytes");
	longname[255] = '\0';
	{
		char err[256], *sql = flavor_setup_sql(&my, &BS, &st, err,
		    sizeof(err));

		assert_non_null(sql);	/* exactly 255 is fine */
		free(sql);
	}
	st = setup();
	st.log_file = "mysql-bin.000001'; DROP TABLE x; --";
	expect_setup_error(&my, &st, "not a binary log name");
	st.log_file = "bin log.1";
	expect_setup_error(&my, &st, "not a binary log name");
	st.log_file = NULL;
	expect_setup_error(&my, &st, "log_file is empty");
	st = setup();
	st.port = 0;
	expect_setup_error(&my, &st, "port 0 is out of range");
	st.port = 65536;
	expect_setup_error(&my, &st, "port 65536 is out of range");
}

static void
test_gtid_forms(void **state)
{
	struct rw_flavor rdsm;
	struct rw_setup st = setup();
	char err[256], *sql;
	static const char *const ok[] = {
		"0-1-100", "0-1-100,1-2-3", " 0-1-100 , 1-2-3 ",
		"4294967295-4294967295-18446744073709551615",
	};
	size_t i;

	rdsm = detect(FLAVOR_AUTO, "10.11.6-MariaDB", NULL,
	    ROUTINES_RDS_MARIADB);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		st.gtid = ok[i];
		sql = flavor_setup_sql(&rdsm, &BS, &st, err, sizeof(err));
		if (sql == NULL)
			fail_msg("\"%s\" refused: %s", ok[i], err);
		free(sql);
	}
}

/* The steps of skip_error, per kind, and their end. */
static void
test_skip_error_sql(void **state)
{
	struct rw_flavor f;

	f = detect(FLAVOR_AUTO, "8.0.36", "Source distribution",
	    "rds_set_external_master,rds_start_replication,rds_skip_repl_error");
	assert_string_equal(flavor_skip_error_sql(&f, 0),
	    "CALL mysql.rds_skip_repl_error()");
	assert_null(flavor_skip_error_sql(&f, 1));

	f = detect(FLAVOR_AUTO, "10.11.6-MariaDB", NULL, NULL);
	assert_string_equal(flavor_skip_error_sql(&f, 0),
	    "SET GLOBAL sql_slave_skip_counter = 1");
	assert_string_equal(flavor_skip_error_sql(&f, 1),
	    "START REPLICA SQL_THREAD");
	assert_null(flavor_skip_error_sql(&f, 2));
	f = detect(FLAVOR_AUTO, "10.4.30-MariaDB", NULL, NULL);
	assert_string_equal(flavor_skip_error_sql(&f, 1),
	    "START SLAVE SQL_THREAD");

	/* MySQL renamed the counter in 8.0.26. */
	f = detect(FLAVOR_AUTO, "8.0.25", NULL, NULL);
	assert_string_equal(flavor_skip_error_sql(&f, 0),
	    "SET GLOBAL sql_slave_skip_counter = 1");
	f = detect(FLAVOR_AUTO, "8.4.0", NULL, NULL);
	assert_string_equal(flavor_skip_error_sql(&f, 0),
	    "SET GLOBAL sql_replica_skip_counter = 1");
	assert_string_equal(flavor_skip_error_sql(&f, 1),
	    "START REPLICA SQL_THREAD");
}

static void
test_pos_wait(void **state)
{
	struct rw_flavor f;
	char *sql;

	f = detect(FLAVOR_AUTO, "8.0.26", NULL, ROUTINES_RDS_MYSQL);
	sql = flavor_pos_wait_sql(&f, &BS, "mysql-bin.000042", "1234", 30);
	assert_string_equal(sql,
	    "SELECT SOURCE_POS_WAIT('mysql-bin.000042', 1234, 30)");
	free(sql);
	f = detect(FLAVOR_AUTO, "8.0.25", NULL, NULL);
	sql = flavor_pos_wait_sql(&f, &BS, "mysql-bin.000042", "1234", 30);
	assert_string_equal(sql,
	    "SELECT MASTER_POS_WAIT('mysql-bin.000042', 1234, 30)");
	free(sql);
	f = detect(FLAVOR_AUTO, "10.11.6-MariaDB", NULL, NULL);
	sql = flavor_pos_wait_sql(&f, &BS, "mariadb-bin.000001", "18446744073709551615",
	    0);
	assert_string_equal(sql, "SELECT MASTER_POS_WAIT('mariadb-bin.000001', "
	    "18446744073709551615, 0)");
	free(sql);

	assert_null(flavor_pos_wait_sql(&f, &BS, "x", "12a", 1));
	assert_null(flavor_pos_wait_sql(&f, &BS, "x", "", 1));
	assert_null(flavor_pos_wait_sql(&f, &BS, "x", "-1", 1));
	assert_null(flavor_pos_wait_sql(&f, &BS, "x", NULL, 1));
	assert_null(flavor_pos_wait_sql(&f, &BS, "x", "123456789012345678901", 1));
	assert_null(flavor_pos_wait_sql(&f, &BS, "x'y", "1", 1));
	assert_null(flavor_pos_wait_sql(&f, &BS, NULL, "1", 1));
}

static void
test_repl_auth(void **state)
{
	char why[512];

	assert_int_equal(flavor_check_repl_auth("caching_sha2_password", "repl",
	    0, why, sizeof why), -1);
	assert_non_null(strstr(why, "2061"));
	assert_non_null(strstr(why, "--ssl"));
	assert_non_null(strstr(why, "'repl'@"));
	/* With TLS the full handshake needs no RSA key: fine. */
	assert_int_equal(flavor_check_repl_auth("caching_sha2_password", "repl",
	    1, why, sizeof why), 0);
	assert_string_equal(why, "");
	assert_int_equal(flavor_check_repl_auth("mysql_native_password", "repl",
	    0, why, sizeof why), 0);
	/* MariaDB's rows may say "" (the old default) or NULL: fine. */
	assert_int_equal(flavor_check_repl_auth("", "repl", 0, why, sizeof why), 0);
	assert_int_equal(flavor_check_repl_auth(NULL, "repl", 0, why, sizeof why), 0);
}

/* The statements of the freeze, the lock and the plain reads. */
static void
test_fixed_statements(void **state)
{
	struct rw_flavor f;
	char *sql;

	assert_string_equal(flavor_read_only_sql(),
	    "SELECT @@global.read_only AS ro");
	assert_string_equal(flavor_set_read_only_sql(1),
	    "SET GLOBAL read_only = ON");
	assert_string_equal(flavor_set_read_only_sql(0),
	    "SET GLOBAL read_only = OFF");
	assert_string_equal(flavor_read_lock_sql(), "FLUSH TABLES WITH READ LOCK");
	assert_string_equal(flavor_unlock_sql(), "UNLOCK TABLES");
	sql = flavor_lock_wait_sql(2);
	assert_string_equal(sql, "SET SESSION lock_wait_timeout = 2");
	free(sql);

	/* The executed GTID set: a variable of each kind's own. */
	f = detect(FLAVOR_AUTO, "10.11.6-MariaDB", NULL, NULL);
	assert_string_equal(flavor_master_gtid_sql(&f),
	    "SELECT @@global.gtid_binlog_pos AS gtid");
	assert_string_equal(flavor_master_vars_sql(&f),
	    "SELECT @@global.read_only AS ro, @@global.gtid_binlog_pos AS gtid, "
	    "@@global.server_id AS server_id");
	f = detect(FLAVOR_AUTO, "10.11.6-MariaDB-log", NULL,
	    ROUTINES_RDS_MARIADB);
	assert_string_equal(flavor_master_gtid_sql(&f),
	    "SELECT @@global.gtid_binlog_pos AS gtid");
	f = detect(FLAVOR_AUTO, "8.0.36", NULL, NULL);
	assert_string_equal(flavor_master_gtid_sql(&f),
	    "SELECT @@global.gtid_executed AS gtid");
	assert_string_equal(flavor_master_vars_sql(&f),
	    "SELECT @@global.read_only AS ro, @@global.gtid_executed AS gtid, "
	    "@@global.server_id AS server_id");
	f = detect(FLAVOR_AUTO, "8.4.3", NULL, ROUTINES_RDS_MYSQL84);
	assert_string_equal(flavor_master_vars_sql(&f),
	    "SELECT @@global.read_only AS ro, @@global.gtid_executed AS gtid, "
	    "@@global.server_id AS server_id");

	/* A new primary's switches: super_read_only where it exists. */
	assert_string_equal(flavor_primary_vars_sql(&f),
	    "SELECT @@global.read_only AS ro, @@global.innodb_read_only AS iro, "
	    "@@global.super_read_only AS sro");
	f = detect(FLAVOR_AUTO, "5.7.8-log", NULL, NULL);
	assert_non_null(strstr(flavor_primary_vars_sql(&f),
	    "@@global.super_read_only AS sro"));
	f = detect(FLAVOR_AUTO, "5.7.7", NULL, NULL);
	assert_non_null(strstr(flavor_primary_vars_sql(&f), "NULL AS sro"));
	f = detect(FLAVOR_AUTO, "10.11.6-MariaDB-log", NULL,
	    ROUTINES_RDS_MARIADB);
	assert_string_equal(flavor_primary_vars_sql(&f),
	    "SELECT @@global.read_only AS ro, @@global.innodb_read_only AS iro, "
	    "NULL AS sro");
}

/* Names and values are quoted; the lock name as the daemon makes it. */
static void
test_named_statements(void **state)
{
	char *sql;

	sql = flavor_get_lock_sql(&BS, "replwatch.promote.db-1");
	assert_string_equal(sql,
	    "SELECT GET_LOCK('replwatch.promote.db-1', 0) AS got");
	free(sql);
	sql = flavor_get_lock_sql(&BS, "it's");
	assert_string_equal(sql, "SELECT GET_LOCK('it\\'s', 0) AS got");
	free(sql);

	sql = flavor_user_plugin_sql(&BS, "repl");
	assert_string_equal(sql,
	    "SELECT DISTINCT plugin FROM mysql.user WHERE user = 'repl'");
	free(sql);
	sql = flavor_user_plugin_sql(&BS, "o'brien\\");
	assert_string_equal(sql, "SELECT DISTINCT plugin FROM mysql.user "
	    "WHERE user = 'o\\'brien\\\\'");
	free(sql);
}

static void
test_heartbeat_sql(void **state)
{
	char *sql;

	sql = flavor_heartbeat_schema_sql("replwatch.heartbeat");
	assert_string_equal(sql, "CREATE DATABASE IF NOT EXISTS replwatch");
	free(sql);
	sql = flavor_heartbeat_table_sql("replwatch.heartbeat",
	    HB_LAYOUT_REPLWATCH);
	assert_string_equal(sql, "CREATE TABLE IF NOT EXISTS "
	    "replwatch.heartbeat (source VARCHAR(64) NOT NULL PRIMARY KEY, "
	    "ts_us BIGINT NOT NULL, written DATETIME(6) NOT NULL) "
	    "ENGINE=InnoDB");
	free(sql);
	/* pt-heartbeat --create-table's definition, column for column. */
	sql = flavor_heartbeat_table_sql("replwatch.heartbeat",
	    HB_LAYOUT_PT_HEARTBEAT);
	assert_string_equal(sql, "CREATE TABLE IF NOT EXISTS "
	    "replwatch.heartbeat (ts VARCHAR(26) NOT NULL, server_id INT "
	    "UNSIGNED NOT NULL PRIMARY KEY, file VARCHAR(255) DEFAULT NULL, "
	    "position BIGINT UNSIGNED DEFAULT NULL, relay_master_log_file "
	    "VARCHAR(255) DEFAULT NULL, exec_master_log_pos BIGINT UNSIGNED "
	    "DEFAULT NULL) ENGINE=InnoDB");
	free(sql);
	sql = flavor_ptheartbeat_write_sql(&BS, "replwatch.heartbeat",
	    &(struct rw_hb_row){ .ts = "2026-12-02T10:40:02.123456",
	    .server_id = 4294967295u, .file = "mysql-bin.000042",
	    .position = "1234" });
	assert_string_equal(sql, "REPLACE INTO replwatch.heartbeat (ts, "
	    "server_id, file, position) VALUES ('2026-12-02T10:40:02.123456', "
	    "4294967295, 'mysql-bin.000042', 1234)");
	free(sql);
	/* Coordinates unknown (no binlog, or not read): NULL, as pt-heartbeat. */
	sql = flavor_ptheartbeat_write_sql(&BS, "s.t", &(struct rw_hb_row){
	    .ts = "x", .server_id = 7, .file = "", .position = NULL });
	assert_string_equal(sql, "REPLACE INTO s.t (ts, server_id, file, "
	    "position) VALUES ('x', 7, NULL, NULL)");
	free(sql);
	/* A position that is not a number never reaches the statement. */
	sql = flavor_ptheartbeat_write_sql(&BS, "s.t", &(struct rw_hb_row){
	    .ts = "x", .server_id = 7, .file = "f'1", .position = "1; DROP" });
	assert_string_equal(sql, "REPLACE INTO s.t (ts, server_id, file, "
	    "position) VALUES ('x', 7, 'f\\'1', NULL)");
	free(sql);
	sql = flavor_heartbeat_write_sql(&BS, "replwatch.heartbeat", "db1",
	    1700000000123456LL);
	assert_string_equal(sql, "REPLACE INTO replwatch.heartbeat (source, "
	    "ts_us, written) VALUES ('db1', 1700000000123456, NOW(6))");
	free(sql);
	sql = flavor_heartbeat_write_sql(&BS, "replwatch.heartbeat", "d'b", 0);
	assert_string_equal(sql, "REPLACE INTO replwatch.heartbeat (source, "
	    "ts_us, written) VALUES ('d\\'b', 0, NOW(6))");
	free(sql);

	sql = flavor_heartbeat_check_sql(&BS, "replwatch.heartbeat", "db1");
	assert_string_equal(sql, "SELECT @@global.read_only AS ro, (SELECT "
	    "ts_us FROM replwatch.heartbeat WHERE source = 'db1') AS hb_us");
	free(sql);
	sql = flavor_heartbeat_check_sql(&BS, "replwatch.heartbeat", "d'b");
	assert_string_equal(sql, "SELECT @@global.read_only AS ro, (SELECT "
	    "ts_us FROM replwatch.heartbeat WHERE source = 'd\\'b') AS hb_us");
	free(sql);

	sql = flavor_heartbeat_read_sql("percona.heartbeat", 0);
	assert_string_equal(sql, "SELECT @@global.read_only AS ro, (SELECT "
	    "ts FROM percona.heartbeat ORDER BY ts DESC LIMIT 1) AS hb_ts");
	free(sql);
	sql = flavor_heartbeat_read_sql("percona.heartbeat", 4294967295u);
	assert_string_equal(sql, "SELECT @@global.read_only AS ro, (SELECT "
	    "ts FROM percona.heartbeat WHERE server_id = 4294967295) AS hb_ts");
	free(sql);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_detect_kinds),
		cmocka_unit_test(test_detect_forced),
		cmocka_unit_test(test_statements),
		cmocka_unit_test(test_probe_sql),
		cmocka_unit_test(test_detect_probe_rows),
		cmocka_unit_test(test_repl_auth),
		cmocka_unit_test(test_passwords_both_modes),
		cmocka_unit_test(test_nbe_literals),
		cmocka_unit_test(test_every_literal_quoted),
		cmocka_unit_test(test_setup_sql),
		cmocka_unit_test(test_setup_errors),
		cmocka_unit_test(test_gtid_forms),
		cmocka_unit_test(test_pos_wait),
		cmocka_unit_test(test_fixed_statements),
		cmocka_unit_test(test_named_statements),
		cmocka_unit_test(test_heartbeat_sql),
		cmocka_unit_test(test_skip_error_sql),
	};

	return cmocka_run_group_tests(tests, NULL, close_sessions);
}
