/* Unit tests of lib/journal.c: atomic write, strict load, remove. */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"

static int
setup_dir(void **state)
{
	char *dir = strdup("/tmp/test_journal.XXXXXX");

	if (dir == NULL || mkdtemp(dir) == NULL)
		return -1;
	*state = dir;
	return 0;
}

static int
teardown_dir(void **state)
{
	char *dir = *state, cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return -1;
	free(dir);
	return 0;
}

/* Entries in dir other than . and .. */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
put_file(const char *path, const char *data, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void
test_path(void **state)
{
	char *p;

	p = journal_path("/var/lib/replwatch", "main");
	assert_string_equal(p, "/var/lib/replwatch/promotion-main.json");
	free(p);
	assert_null(journal_path("/d", "../etc/x"));
	assert_null(journal_path("/d", "a/b"));
	p = journal_path("/d", "..");
	assert_string_equal(p, "/d/promotion-...json");
	free(p);
	assert_null(journal_path("/d", ""));
}

static void
test_round_trip(void **state)
{
	const char *dir = *state;
	char err[512], *path, *a, *b;
	cJSON *doc, *back;
	struct stat st;
	mode_t old;

	path = journal_path(dir, "rds1");
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "target", "rds1");
	cJSON_AddStringToObject(doc, "step", "catch_up");
	cJSON_AddStringToObject(doc, "log_pos", "18446744073709551615");
	cJSON_AddNumberToObject(doc, "started_unix_ms", 1795000000123.0);

	/* A permissive umask must not widen the mode. */
	old = umask(0);
	assert_int_equal(journal_write(path, doc, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(dir), 1);	/* no tmp left behind */

	assert_int_equal(journal_load(path, &back, err, sizeof(err)), 0);
	assert_non_null(back);
	a = cJSON_PrintUnformatted(doc);
	b = cJSON_PrintUnformatted(back);
	assert_string_equal(a, b);
	free(a);
	free(b);
	cJSON_Delete(back);

	/* Replacing keeps one file and the new content. */
	cJSON_ReplaceItemInObject(doc, "step", cJSON_CreateString("done"));
	assert_int_equal(journal_write(path, doc, err, sizeof(err)), 0);
	assert_int_equal(count_entries(dir), 1);
	assert_int_equal(journal_load(path, &back, err, sizeof(err)), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(back,
	    "step")->valuestring, "done");
	cJSON_Delete(back);

	assert_int_equal(journal_remove(path), 0);
	assert_int_equal(count_entries(dir), 0);
	assert_int_equal(journal_remove(path), 0);	/* already gone */
	cJSON_Delete(doc);
	free(path);
}

static void
test_missing(void **state)
{
	const char *dir = *state;
	char err[512], *path;
	cJSON *doc = (cJSON *)1;

	path = journal_path(dir, "none");
	assert_int_equal(journal_load(path, &doc, err, sizeof(err)), 0);
	assert_null(doc);
	free(path);
}

static void
expect_load_error(const char *dir, const char *data, size_t n,
    const char *part)
{
	char err[512], *path;
	cJSON *doc = (cJSON *)1;

	path = journal_path(dir, "bad");
	put_file(path, data, n);
	err[0] = '\0';
	assert_int_equal(journal_load(path, &doc, err, sizeof(err)), -1);
	assert_null(doc);
	if (strstr(err, part) == NULL || strstr(err, path) == NULL)
		fail_msg("error \"%s\" lacks the path or \"%s\"", err, part);
	unlink(path);
	free(path);
}

static void
test_garbage(void **state)
{
	const char *dir = *state;
	const char trunc[] = "{\n\t\"target\": \"rds1\",\n\t\"st";
	const char nul[] = "{\"a\":1}\0\0\0";
	char path[512], err[512];
	cJSON *doc;

	expect_load_error(dir, "", 0, "empty journal");
	expect_load_error(dir, " \n", 2, "empty journal");
	expect_load_error(dir, trunc, sizeof(trunc) - 1, "not JSON at byte");
	expect_load_error(dir, "{\"a\":1} {\"b\":2}", 15, "trailing data");
	expect_load_error(dir, "{\"a\":1}x", 8, "trailing data at byte 8");
	expect_load_error(dir, nul, sizeof(nul) - 1, "NUL byte");
	expect_load_error(dir, "[1,2]", 5, "not a JSON object");
	expect_load_error(dir, "\x89PNG\r\n", 6, "not JSON");

	/* A directory where the journal should be. */
	snprintf(path, sizeof(path), "%s/promotion-d.json", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(journal_load(path, &doc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	rmdir(path);
}

static void
test_write_failures(void **state)
{
	const char *dir = *state;
	char err[512], path[512], inner[600];
	cJSON *doc = cJSON_CreateObject();

	cJSON_AddStringToObject(doc, "step", "x");

	/* No such directory: the open fails and names the tmp and the step. */
	snprintf(path, sizeof(path), "%s/nope/promotion-x.json", dir);
	assert_int_equal(journal_write(path, doc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nope/promotion-x.json.tmp."));
	assert_non_null(strstr(err, ": open: No such file or directory"));
	assert_int_equal(count_entries(dir), 0);

	/* The rename fails (a non-empty directory is in the way): no tmp. */
	snprintf(path, sizeof(path), "%s/promotion-y.json", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(inner, sizeof(inner), "%s/keep", path);
	put_file(inner, "x", 1);
	assert_int_equal(journal_write(path, doc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ": rename: "));
	assert_int_equal(count_entries(dir), 1);	/* just the directory */
	unlink(inner);
	rmdir(path);
	cJSON_Delete(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test_setup_teardown(test_round_trip, setup_dir,
		    teardown_dir),
		cmocka_unit_test_setup_teardown(test_missing, setup_dir,
		    teardown_dir),
		cmocka_unit_test_setup_teardown(test_garbage, setup_dir,
		    teardown_dir),
		cmocka_unit_test_setup_teardown(test_write_failures, setup_dir,
		    teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
