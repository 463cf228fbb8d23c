/*
 * dumpcoords: the coordinate lines of both dump tools, commented and not,
 * CRLF, garbage that must not pass for coordinates, and the file reader's
 * head, tail and full-scan paths on real files.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dumpcoords.h"

static char dir[64];
static char path[128];
static char err[1024];

static void
scan(struct dumpcoords *dc, const char *text)
{
	dumpcoords_init(dc);
	dumpcoords_scan(dc, text, strlen(text));
}

static void
assert_pos(const char *text, const char *file, const char *pos)
{
	struct dumpcoords dc;

	scan(&dc, text);
	assert_string_equal(dc.log_file, file);
	assert_string_equal(dc.log_pos, pos);
	dumpcoords_free(&dc);
}

static void
assert_no_pos(const char *text)
{
	assert_pos(text, "", "");
}

static void
assert_gtid(const char *text, const char *gtid, enum dumpcoords_gtid_kind k)
{
	struct dumpcoords dc;

	scan(&dc, text);
	if (gtid == NULL)
		assert_null(dc.gtid);
	else {
		assert_non_null(dc.gtid);
		assert_string_equal(dc.gtid, gtid);
		assert_int_equal(dc.gtid_kind, k);
	}
	dumpcoords_free(&dc);
}

/* -- lines -- */

static void
test_mariadb_master_data(void **state)
{
	/* mariadb-dump --master-data=2, as the sandbox's 10.11 writes it. */
	assert_pos("--\n-- Position to start replication or point-in-time "
	    "recovery from\n--\n\n-- CHANGE MASTER TO MASTER_LOG_FILE="
	    "'master-bin.000001', MASTER_LOG_POS=16029;\n",
	    "master-bin.000001", "16029");
	/* --master-data=1: the same, not commented. */
	assert_pos("CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000042', "
	    "MASTER_LOG_POS=1234;\n", "mysql-bin.000042", "1234");
	/* Case, spacing, the order of the assignments, no semicolon. */
	assert_pos("  change  master to master_log_pos = 7 ,\tmaster_log_file "
	    "= \"b.000002\"", "b.000002", "7");
}

static void
test_mysql_source_data(void **state)
{
	assert_pos("-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE="
	    "'binlog.000002', SOURCE_LOG_POS=157;\n", "binlog.000002", "157");
	assert_pos("CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE="
	    "'binlog.000002', SOURCE_LOG_POS=157;\n", "binlog.000002", "157");
	/* --dump-replica: other assignments around them. */
	assert_pos("CHANGE MASTER TO MASTER_HOST='10.0.0.5', MASTER_PORT=3306, "
	    "MASTER_LOG_FILE='m.000003', MASTER_LOG_POS=4;\n", "m.000003",
	    "4");
}

static void
test_first_statement_wins(void **state)
{
	assert_pos("-- CHANGE MASTER TO MASTER_LOG_FILE='a.000001', "
	    "MASTER_LOG_POS=1;\nCHANGE MASTER TO MASTER_LOG_FILE='b.000002', "
	    "MASTER_LOG_POS=2;\n", "a.000001", "1");
	/* A statement without both is no coordinate (--gtid's line). */
	assert_pos("CHANGE MASTER TO MASTER_USE_GTID=slave_pos;\n"
	    "-- CHANGE MASTER TO MASTER_LOG_FILE='c.000003', MASTER_LOG_POS=3;"
	    "\n", "c.000003", "3");
}

static void
test_crlf(void **state)
{
	assert_pos("-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000042', "
	    "MASTER_LOG_POS=1234;\r\n", "mysql-bin.000042", "1234");
	assert_gtid("-- SET GLOBAL gtid_slave_pos='0-1-123';\r\n", "0-1-123",
	    DUMPCOORDS_GTID_MARIADB);
	assert_gtid("SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ "
	    "'3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\r\n"
	    "4e11fa47-71ca-11e1-9e33-c80aa9429562:1-10';\r\n",
	    "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,"
	    "4e11fa47-71ca-11e1-9e33-c80aa9429562:1-10",
	    DUMPCOORDS_GTID_MYSQL);
}

static void
test_missing_and_garbage(void **state)
{
	assert_no_pos("");
	assert_no_pos("\n\n\n");
	assert_no_pos("-- MySQL dump 10.13\n/*!40101 SET NAMES utf8mb4 */;\n");
	/* Data never starts a line with CHANGE: but a comment in it could. */
	assert_no_pos("INSERT INTO t VALUES ('CHANGE MASTER TO MASTER_LOG_FILE="
	    "''x.1'', MASTER_LOG_POS=1;');\n");
	assert_no_pos("CHANGE MASTER TO MASTER_LOG_FILE='x.000001';\n");
	assert_no_pos("CHANGE MASTER TO MASTER_LOG_POS=5;\n");
	assert_no_pos("CHANGE MASTER TO MASTER_LOG_FILE='x.1', "
	    "MASTER_LOG_POS=12ab;\n");
	assert_no_pos("CHANGE MASTER TO MASTER_LOG_FILE='x.1', "
	    "MASTER_LOG_POS=-1;\n");
	assert_no_pos("CHANGE MASTER TO MASTER_LOG_FILE='x.1', "
	    "MASTER_LOG_POS=99999999999999999999;\n");
	assert_no_pos("CHANGE MASTER TO MASTER_LOG_FILE='', "
	    "MASTER_LOG_POS=4;\n");
	assert_no_pos("CHANGE MASTER TO MASTER_LOG_FILE='../etc/x', "
	    "MASTER_LOG_POS=4;\n");
	assert_no_pos("CHANGE MASTER TO MASTER_LOG_FILE='unterminated, "
	    "MASTER_LOG_POS=4;\n");
	assert_no_pos("CHANGE MASTERS TO MASTER_LOG_FILE='x.1', "
	    "MASTER_LOG_POS=4;\n");
	assert_no_pos("CHANGE MASTER TO MASTER_LOG_FILE='x.1' "
	    "MASTER_LOG_POS=4;\n");
	assert_no_pos("\x01\xff\xfe garbage \x80\n\0CHANGE");
	assert_gtid("SET GLOBAL gtid_slave_pos='0-1-x';\n", NULL, 0);
	assert_gtid("SET GLOBAL gtid_slave_pos='';\n", NULL, 0);
	assert_gtid("SET GLOBAL gtid_slave_pos='0-1-1;\n", NULL, 0);
	assert_gtid("SET GLOBAL gtid_slave_pos_x='0-1-1';\n", NULL, 0);
	assert_gtid("SET @@GLOBAL.GTID_PURGED='uuid;1';\n", NULL, 0);
	/* An unclosed GTID_PURGED gives up at the first line that is not. */
	assert_gtid("SET @@GLOBAL.GTID_PURGED='3e11fa47:1-5,\n"
	    "INSERT INTO t VALUES (1);\nx';\n", NULL, 0);
}

static void
test_mariadb_gtid(void **state)
{
	assert_gtid("-- Preferably use GTID to start replication from GTID "
	    "position:\n\n-- SET GLOBAL gtid_slave_pos='0-1-4';\n", "0-1-4",
	    DUMPCOORDS_GTID_MARIADB);
	/* --gtid: not commented; several domains. */
	assert_gtid("SET GLOBAL gtid_slave_pos='0-1-123,1-2-7';\n",
	    "0-1-123,1-2-7", DUMPCOORDS_GTID_MARIADB);
	assert_gtid("SET @@GLOBAL.gtid_slave_pos = '0-1-9';\n", "0-1-9",
	    DUMPCOORDS_GTID_MARIADB);
}

static void
test_mysql_gtid(void **state)
{
	assert_gtid("SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ "
	    "'3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100';\n",
	    "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100",
	    DUMPCOORDS_GTID_MYSQL);
	/* 5.7: no version comment. */
	assert_gtid("SET @@GLOBAL.GTID_PURGED='3e11fa47-71ca-11e1-9e33-"
	    "c80aa9429562:1-100:200-300';\n",
	    "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100:200-300",
	    DUMPCOORDS_GTID_MYSQL);
	/* --set-gtid-purged=COMMENTED */
	assert_gtid("/* SET @@GLOBAL.GTID_PURGED='+3e11fa47-71ca-11e1-9e33-"
	    "c80aa9429562:1-2'; */\n", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-2",
	    DUMPCOORDS_GTID_MYSQL);
	assert_gtid("/* SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ "
	    "'3e11fa47-71ca-11e1-9e33-c80aa9429562:1-2';*/\n",
	    "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-2",
	    DUMPCOORDS_GTID_MYSQL);
	/* 8.4's tagged GTIDs. */
	assert_gtid("SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ "
	    "'3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:tag_1:1-3';\n",
	    "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:tag_1:1-3",
	    DUMPCOORDS_GTID_MYSQL);
}

static void
test_both_kinds_in_one_dump(void **state)
{
	struct dumpcoords dc;

	scan(&dc, "SET @@SESSION.SQL_LOG_BIN= 0;\n"
	    "SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'aa:1-3';\n"
	    "-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000009', "
	    "SOURCE_LOG_POS=4711;\n"
	    "INSERT INTO t VALUES (1),(2);\n");
	assert_string_equal(dc.log_file, "binlog.000009");
	assert_string_equal(dc.log_pos, "4711");
	assert_string_equal(dc.gtid, "aa:1-3");
	assert_true(dumpcoords_have(&dc, DUMPCOORDS_WANT_POS));
	assert_true(dumpcoords_have(&dc, DUMPCOORDS_WANT_GTID));
	dumpcoords_free(&dc);
}

/* -- files -- */

static int
setup(void **state)
{
	char tmpl[] = "/tmp/test_dumpcoords.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	snprintf(dir, sizeof(dir), "%s", tmpl);
	snprintf(path, sizeof(path), "%s/dump.sql", dir);
	return 0;
}

static int
teardown(void **state)
{
	unlink(path);
	rmdir(dir);
	return 0;
}

/* head, then n data lines of len bytes, then tail */
static void
write_dump(const char *head, long n, size_t len, const char *tail)
{
	FILE *fp = fopen(path, "w");
	char *row = malloc(len + 1);
	long i;

	assert_non_null(fp);
	assert_non_null(row);
	memset(row, 'x', len);
	memcpy(row, "INSERT INTO `t` VALUES (", 24);
	row[len - 1] = '\n';
	row[len] = '\0';
	fputs(head, fp);
	for (i = 0; i < n; i++)
		fputs(row, fp);
	fputs(tail, fp);
	assert_int_equal(fclose(fp), 0);
	free(row);
}

#define HEAD_POS "-- MySQL dump\n-- CHANGE MASTER TO MASTER_LOG_FILE=" \
	"'mysql-bin.000042', MASTER_LOG_POS=1234;\n"
#define TAIL_GTID "-- SET GLOBAL gtid_slave_pos='0-1-123';\n" \
	"-- Dump completed on 2026-11-25 11:58:01\n"

static void
test_read_head_and_tail(void **state)
{
	struct dumpcoords dc;

	write_dump(HEAD_POS, 2000, 1000, TAIL_GTID);
	dumpcoords_init(&dc);
	assert_int_equal(dumpcoords_read(&dc, path, DUMPCOORDS_WANT_POS, err,
	    sizeof(err)), 0);
	assert_string_equal(dc.log_file, "mysql-bin.000042");
	assert_string_equal(dc.log_pos, "1234");
	assert_string_equal(dc.gtid, "0-1-123");
	assert_false(dc.scanned_all);
	dumpcoords_free(&dc);
}

static void
test_read_small_and_no_newline(void **state)
{
	struct dumpcoords dc;

	/* Shorter than one chunk, the last line without its newline. */
	write_dump("", 3, 100, "CHANGE MASTER TO MASTER_LOG_FILE='a.000001', "
	    "MASTER_LOG_POS=5;");
	dumpcoords_init(&dc);
	assert_int_equal(dumpcoords_read(&dc, path, DUMPCOORDS_WANT_POS, err,
	    sizeof(err)), 0);
	assert_string_equal(dc.log_file, "a.000001");
	dumpcoords_free(&dc);
}

static void
test_read_falls_back_to_a_scan(void **state)
{
	struct dumpcoords dc;

	/* The GTID in the middle: neither end has it. */
	write_dump(HEAD_POS, 500, 1000, "");
	{
		FILE *fp = fopen(path, "a");

		fputs("SET GLOBAL gtid_slave_pos='0-1-77';\n", fp);
		for (int i = 0; i < 500; i++)
			fprintf(fp, "INSERT INTO t VALUES (%d);%0900d\n", i, 0);
		fclose(fp);
	}
	dumpcoords_init(&dc);
	assert_int_equal(dumpcoords_read(&dc, path, DUMPCOORDS_WANT_GTID, err,
	    sizeof(err)), 0);
	assert_string_equal(dc.gtid, "0-1-77");
	assert_true(dc.scanned_all);
	dumpcoords_free(&dc);
}

static void
test_read_missing(void **state)
{
	struct dumpcoords dc;

	write_dump("-- MySQL dump\n", 300, 1000, "-- Dump completed\n");
	dumpcoords_init(&dc);
	assert_int_equal(dumpcoords_read(&dc, path, DUMPCOORDS_WANT_POS, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no binlog coordinates"));
	assert_non_null(strstr(err, "--master-data"));
	assert_true(dc.scanned_all);
	dumpcoords_free(&dc);

	dumpcoords_init(&dc);
	assert_int_equal(dumpcoords_read(&dc, path, DUMPCOORDS_WANT_GTID, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no GTID position"));
	dumpcoords_free(&dc);

	dumpcoords_init(&dc);
	assert_int_equal(dumpcoords_read(&dc, "/nonexistent/x.sql",
	    DUMPCOORDS_WANT_POS, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/x.sql: No such file or "
	    "directory");
	assert_int_equal(dumpcoords_read(&dc, dir, DUMPCOORDS_WANT_POS, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "is a directory"));
	dumpcoords_free(&dc);
}

static void
test_read_compressed(void **state)
{
	struct dumpcoords dc;
	FILE *fp = fopen(path, "w");

	fwrite("\x1f\x8b\x08\x00\x00\x00", 1, 6, fp);
	fclose(fp);
	dumpcoords_init(&dc);
	assert_int_equal(dumpcoords_read(&dc, path, DUMPCOORDS_WANT_POS, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "gzip-compressed"));
	dumpcoords_free(&dc);
}

static void
test_read_binary_garbage(void **state)
{
	struct dumpcoords dc;
	FILE *fp = fopen(path, "w");
	unsigned int x = 12345;

	/* No newline for 3 MB: nothing found, nothing held in memory. */
	for (int i = 0; i < 3 * 1024 * 1024; i++) {
		x = x * 1103515245 + 12345;
		fputc((int)((x >> 16) & 0xff) == '\n' ? 'n' :
		    (int)((x >> 16) & 0xff), fp);
	}
	fclose(fp);
	dumpcoords_init(&dc);
	assert_int_equal(dumpcoords_read(&dc, path, DUMPCOORDS_WANT_POS, err,
	    sizeof(err)), -1);
	dumpcoords_free(&dc);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * 100 MB of 1 KB INSERT lines: the head and tail read is instant, and even
 * the full scan (a GTID nowhere) stays well under a second.
 */
static void
test_read_100mb(void **state)
{
	struct dumpcoords dc;
	double t;

	write_dump(HEAD_POS, 100 * 1024, 1024, TAIL_GTID);
	dumpcoords_init(&dc);
	t = now_s();
	assert_int_equal(dumpcoords_read(&dc, path, DUMPCOORDS_WANT_GTID, err,
	    sizeof(err)), 0);
	t = now_s() - t;
	assert_false(dc.scanned_all);
	print_message("head and tail of 100 MB: %.3f ms\n", t * 1000);
	assert_true(t < 0.1);
	dumpcoords_free(&dc);

	write_dump("-- no coordinates\n", 100 * 1024, 1024, "-- end\n");
	dumpcoords_init(&dc);
	t = now_s();
	assert_int_equal(dumpcoords_read(&dc, path, DUMPCOORDS_WANT_GTID, err,
	    sizeof(err)), -1);
	t = now_s() - t;
	assert_true(dc.scanned_all);
	print_message("full scan of 100 MB: %.3f s\n", t);
	assert_true(t < 1.0);
	dumpcoords_free(&dc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mariadb_master_data),
		cmocka_unit_test(test_mysql_source_data),
		cmocka_unit_test(test_first_statement_wins),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_missing_and_garbage),
		cmocka_unit_test(test_mariadb_gtid),
		cmocka_unit_test(test_mysql_gtid),
		cmocka_unit_test(test_both_kinds_in_one_dump),
		cmocka_unit_test_setup_teardown(test_read_head_and_tail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_small_and_no_newline,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_falls_back_to_a_scan,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_compressed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_binary_garbage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_100mb, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
