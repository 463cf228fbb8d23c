/*
 * replwatchctl's option parser (ctl/args.c) and tsv writer (ctl/output.c):
 * what a command's entry declares is what is accepted, refused with which
 * words, and put in the request.  The two files are included whole: they
 * are the client's, not the library's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../ctl/args.c"
#include "../../ctl/output.c"

static const char *const colours[] = { "red", "blue", NULL };

static const struct ctl_opt opts[] = {
	{ .name = "max-lag", .type = OT_SECONDS, .arg = "S", .key = "max_lag_s",
	  .flags = OPT_REQUIRED },
	{ .name = "timeout", .type = OT_SECONDS, .arg = "T",
	  .flags = OPT_ABOVE_MIN },
	{ .name = "count", .type = OT_COUNT, .arg = "N", .key = "count" },
	{ .name = "port", .type = OT_COUNT, .arg = "P", .min = 1, .max = 65535 },
	{ .name = "pos", .type = OT_BINLOG_POS, .arg = "N", .key = "pos" },
	{ .name = "name", .type = OT_TEXT, .arg = "S", .letter = 'n' },
	{ .name = "verbose", .type = OT_FLAG, .letter = 'v' },
	{ .name = "colour", .type = OT_CHOICE, .arg = "C", .choices = colours },
	{ .name = "yes", .type = OT_FLAG, .key = "yes" },
	{ NULL }
};

static int
no_yes_with_count(const struct ctl_args *a, char *why, size_t len)
{
	if (args_has(a, "yes") && args_has(a, "count")) {
		snprintf(why, len, "--yes and --count do not go together");
		return -1;
	}
	return 0;
}

static const struct ctl_cmd cmd = {
	.name = "try", .flags = CMD_TARGET_REQ, .options = opts, .usage = "",
	.check = no_yes_with_count,
};
static void
rows_tsv(const cJSON *v)
{
	(void)v;
}

static const struct ctl_cmd tabular = {
	.name = "rows", .flags = CMD_TARGET_OPT, .usage = "",
	.tsv = rows_tsv,
};

static struct ctl ctl;
static struct ctl_args a;
static char why[256];

/* parse("arg arg ...") on cmd; the return of args_parse. */
static int
parse_on(const struct ctl_cmd *c, const char *line)
{
	static char buf[512];
	char *argv[32], *tok;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s %s", c->name, line);
	for (tok = strtok(buf, " "); tok != NULL && argc < 31;
	    tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	memset(&ctl, 0, sizeof(ctl));
	why[0] = '\0';
	return args_parse(&ctl, c, argc, argv, &a, why, sizeof(why));
}

static int
parse(const char *line)
{
	return parse_on(&cmd, line);
}

static void
test_values_and_request(void **state)
{
	cJSON *req = cJSON_CreateObject();
	char *s;

	assert_int_equal(parse("rds1 --max-lag 0.5 --count 3 --pos "
	    "18446744073709551615 --name x --colour blue --port 3306"), 0);
	assert_string_equal(a.target, "rds1");
	assert_true(args_num(&a, "max-lag", -1) == 0.5);
	assert_true(args_num(&a, "timeout", -1) == -1);
	assert_true(args_num(&a, "port", 0) == 3306);
	assert_string_equal(args_str(&a, "colour"), "blue");
	assert_false(args_has(&a, "yes"));
	/* Only options with a key go into the request, as their type says. */
	assert_int_equal(args_fill(&a, req), 3);
	s = cJSON_PrintUnformatted(req);
	assert_string_equal(s, "{\"max_lag_s\":0.5,\"count\":3,"
	    "\"pos\":\"18446744073709551615\"}");
	free(s);
	cJSON_Delete(req);
}

/* An option's letter is the same option: -n V, -nV, -v. */
static void
test_short_letters(void **state)
{
	assert_int_equal(parse("rds1 --max-lag 1 -n abc -v"), 0);
	assert_string_equal(args_str(&a, "name"), "abc");
	assert_true(args_has(&a, "verbose"));
	assert_int_equal(parse("rds1 --max-lag 1 -nxyz"), 0);
	assert_string_equal(args_str(&a, "name"), "xyz");
	assert_false(args_has(&a, "verbose"));
	/* A letter no option has, and a letter without its value. */
	assert_int_equal(parse("rds1 --max-lag 1 -q"), -1);
	assert_string_equal(why, "unknown option '-q'");
	assert_int_equal(parse("rds1 --max-lag 1 -n"), -1);
	assert_non_null(strstr(why, "needs a value"));
}

static void
test_refusals(void **state)
{
	assert_int_equal(parse("rds1 --max-lag x"), -1);
	assert_string_equal(why, "--max-lag 'x': not a number of seconds");
	assert_int_equal(parse("rds1 --max-lag -1"), -1);
	assert_int_equal(parse("rds1 --max-lag 1 --timeout 0"), -1);
	assert_string_equal(why, "--timeout '0': not a number of seconds "
	    "above 0");
	assert_int_equal(parse("rds1 --max-lag 1 --count 0"), -1);
	assert_string_equal(why, "--count '0': not a count from 1 to 10000000");
	assert_int_equal(parse("rds1 --max-lag 1 --count 2.5"), -1);
	assert_int_equal(parse("rds1 --max-lag 1 --port 65536"), -1);
	assert_string_equal(why, "--port '65536': not a count from 1 to 65535");
	assert_int_equal(parse("rds1 --max-lag 1 --pos 18446744073709551616"),
	    -1);
	assert_string_equal(why, "--pos '18446744073709551616': not a binlog "
	    "position (digits)");
	assert_int_equal(parse("rds1 --max-lag 1 --colour green"), -1);
	assert_string_equal(why, "--colour 'green': not one of red, blue");
	assert_int_equal(parse("rds1"), -1);
	assert_string_equal(why, "--max-lag is required");
	assert_int_equal(parse("--max-lag 1"), -1);
	assert_string_equal(why, "a TARGET is required");
	assert_int_equal(parse("rds1 two --max-lag 1"), -1);
	assert_string_equal(why, "unexpected argument 'two'");
	assert_int_equal(parse("rds1 --max-lag 1 --bogus"), -1);
	assert_string_equal(why, "unknown option '--bogus'");
	assert_int_equal(parse("rds1 --max-lag"), -1);
	assert_string_equal(why, "option '--max-lag' needs a value");
	/* The entry's own rule, after the types. */
	assert_int_equal(parse("rds1 --max-lag 1 --yes --count 2"), -1);
	assert_string_equal(why, "--yes and --count do not go together");
}

static void
test_global_option_hint(void **state)
{
	assert_int_equal(parse("rds1 --max-lag 1 --reply-timeout 5"), -1);
	assert_string_equal(why, "unknown option '--reply-timeout' (global "
	    "options go before the command)");
	assert_int_equal(parse_on(&tabular, "--timeout 5"), -1);
	assert_string_equal(why, "unknown option '--timeout' (global options "
	    "go before the command)");
}

static void
test_common_options(void **state)
{
	assert_int_equal(parse("rds1 --max-lag 1 --help"), 1);
	assert_int_equal(parse("rds1 --max-lag 1 --json"), 0);
	assert_int_equal(ctl.format, OUT_JSON);
	assert_int_equal(parse("rds1 --max-lag 1 --format text"), 0);
	assert_int_equal(ctl.format, OUT_TEXT);
	/* tsv only where the entry has rows. */
	assert_int_equal(parse("rds1 --max-lag 1 --format tsv"), -1);
	assert_string_equal(why, "--format tsv: try has no rows to print "
	    "(use text or json)");
	assert_int_equal(parse_on(&tabular, "--format tsv"), 0);
	assert_int_equal(ctl.format, OUT_TSV);
	assert_int_equal(parse_on(&tabular, "--format csv"), -1);
	assert_string_equal(why, "--format 'csv': not one of text, json, tsv");
}

/* What tsv_row writes, through a temporary stdout. */
static void
test_tsv_escapes(void **state)
{
	const char *f[] = { "a\tb", "line\nbreak\r", "back\\slash", "",
	    "plain" };
	char buf[256] = "";
	FILE *tmp = tmpfile(), *saved = stdout;
	size_t n;

	assert_non_null(tmp);
	stdout = tmp;
	tsv_row(f, 5);
	fflush(stdout);
	stdout = saved;
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	assert_string_equal(buf, "a\\tb\tline\\nbreak\\r\tback\\\\slash\t\t"
	    "plain\n");
}

static void
test_time_member(void **state)
{
	cJSON *o = cJSON_Parse("{\"at\": \"2026-11-18T11:06:40.123Z\", "
	    "\"ts\": \"x\", \"ts_unix_ms\": 1795000000123, \"bad\": \"soon\"}");
	char b[64];

	setenv("TZ", "IST-5:30", 1);
	tzset();
	/* The number first; the UTC string read back otherwise. */
	assert_string_equal(out_time_member(b, sizeof(b), o, "ts"),
	    "2026-11-18T16:36:40.123+05:30");
	assert_string_equal(out_time_member(b, sizeof(b), o, "at"),
	    "2026-11-18T16:36:40.123+05:30");
	assert_string_equal(out_time_member(b, sizeof(b), o, "bad"), "soon");
	assert_null(out_time_member(b, sizeof(b), o, "none"));
	cJSON_Delete(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_and_request),
		cmocka_unit_test(test_short_letters),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_global_option_hint),
		cmocka_unit_test(test_common_options),
		cmocka_unit_test(test_tsv_escapes),
		cmocka_unit_test(test_time_member),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
