/* Unit tests of lib/protocol.c: framing, request checks, envelopes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol.h"

static int
parse(const char *s, struct proto_request *req, enum proto_err *code,
    char *err, size_t errlen)
{
	return proto_parse_request(s, strlen(s), req, code, err, errlen);
}

static void
test_valid_request(void **state)
{
	struct proto_request req;
	enum proto_err code;
	char err[128];
	const char *s;
	double d;
	int b, present;

	assert_int_equal(parse("{\"id\": 7, \"cmd\": \"status\", "
	    "\"target\": \"main\", \"max\": 5, \"force\": true, "
	    "\"why\": \"x\"}", &req, &code, err, sizeof(err)), 0);
	assert_int_equal(req.has_id, 1);
	assert_int_equal(req.id, 7);
	assert_string_equal(req.cmd, "status");
	assert_string_equal(req.target, "main");

	assert_int_equal(proto_arg_number(&req, "max", &d, &present), 0);
	assert_int_equal(present, 1);
	assert_true(d == 5);
	assert_int_equal(proto_arg_bool(&req, "force", &b, &present), 0);
	assert_int_equal(present, 1);
	assert_int_equal(b, 1);
	assert_int_equal(proto_arg_string(&req, "why", &s), 0);
	assert_string_equal(s, "x");

	/* Absent, and present with the wrong type. */
	assert_int_equal(proto_arg_string(&req, "nope", &s), 0);
	assert_null(s);
	assert_int_equal(proto_arg_number(&req, "nope", &d, &present), 0);
	assert_int_equal(present, 0);
	assert_int_equal(proto_arg_number(&req, "why", &d, &present), -1);
	assert_int_equal(proto_arg_bool(&req, "max", &b, &present), -1);
	assert_int_equal(proto_arg_string(&req, "force", &s), -1);
	/* Member names are case-sensitive (cJSON's default lookup is not). */
	assert_int_equal(proto_arg_number(&req, "MAX", &d, &present), 0);
	assert_int_equal(present, 0);
	proto_request_free(&req);
	proto_request_free(&req);	/* idempotent */

	/* No id, no target; whitespace around and a CR are fine. */
	assert_int_equal(parse("  {\"cmd\":\"hello\"} \r", &req, &code, err,
	    sizeof(err)), 0);
	assert_int_equal(req.has_id, 0);
	assert_int_equal(req.id, 0);
	assert_null(req.target);
	proto_request_free(&req);

	/* Large and negative integral ids. */
	assert_int_equal(parse("{\"id\":9007199254740992,\"cmd\":\"x\"}", &req,
	    &code, err, sizeof(err)), 0);
	assert_true(req.id == 9007199254740992LL);
	proto_request_free(&req);
	assert_int_equal(parse("{\"id\":-3,\"cmd\":\"x\"}", &req, &code, err,
	    sizeof(err)), 0);
	assert_int_equal(req.id, -3);
	proto_request_free(&req);
	assert_int_equal(parse("{\"id\":4.0,\"cmd\":\"x\"}", &req, &code, err,
	    sizeof(err)), 0);
	assert_int_equal(req.id, 4);
	proto_request_free(&req);
}

static void
expect_bad(const char *line, size_t len, enum proto_err want,
    const char *msg_part, int has_id, long long id)
{
	struct proto_request req;
	enum proto_err code;
	char err[128];

	assert_int_equal(proto_parse_request(line, len, &req, &code, err,
	    sizeof(err)), -1);
	assert_int_equal(code, want);
	if (strstr(err, msg_part) == NULL)
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", line, err,
		    msg_part);
	assert_int_equal(req.has_id, has_id);
	assert_int_equal(req.id, id);
	assert_null(req.root);
	assert_null(req.cmd);
	proto_request_free(&req);
}

#define BAD(s, part, has, id) \
	expect_bad((s), strlen(s), PERR_BAD_REQUEST, (part), (has), (id))

static void
test_bad_id(void **state)
{
	BAD("{\"id\":1.5,\"cmd\":\"x\"}", "id must be an integer", 0, 0);
	BAD("{\"id\":\"7\",\"cmd\":\"x\"}", "id must be an integer", 0, 0);
	BAD("{\"id\":null,\"cmd\":\"x\"}", "id must be an integer", 0, 0);
	BAD("{\"id\":true,\"cmd\":\"x\"}", "id must be an integer", 0, 0);
	BAD("{\"id\":1e300,\"cmd\":\"x\"}", "id must be an integer", 0, 0);
	BAD("{\"id\":[1],\"cmd\":\"x\"}", "id must be an integer", 0, 0);
	/* A good id survives a later error. */
	BAD("{\"id\":9,\"cmd\":5}", "cmd must be a string", 1, 9);
	BAD("{\"id\":9}", "cmd is missing", 1, 9);
	BAD("{\"id\":9,\"cmd\":\"\"}", "cmd must be 1 to 32", 1, 9);
	BAD("{\"id\":9,\"cmd\":\"123456789012345678901234567890123\"}",
	    "cmd must be 1 to 32", 1, 9);
	BAD("{\"id\":9,\"cmd\":\"x\",\"target\":1}", "target must be a string",
	    1, 9);
	BAD("{\"id\":9,\"cmd\":\"x\",\"target\":\"1234567890123456789012345"
	    "678901234567890123456789012345678901234\"}",
	    "target longer than 63", 1, 9);
	BAD("{\"id\":9,\"cmd\":\"x\",\"cmd\":\"y\"}", "duplicate member", 1, 9);
}

static void
test_limits_ok(void **state)
{
	struct proto_request req;
	enum proto_err code;
	char err[128];

	assert_int_equal(parse("{\"cmd\":\"12345678901234567890123456789012\","
	    "\"target\":\"123456789012345678901234567890123456789012345678901"
	    "234567890123\"}", &req, &code, err, sizeof(err)), 0);
	assert_int_equal(strlen(req.cmd), 32);
	assert_int_equal(strlen(req.target), 63);
	proto_request_free(&req);
}

static void
test_not_json(void **state)
{
	BAD("", "empty line", 0, 0);
	BAD("   ", "empty line", 0, 0);
	BAD("status", "not JSON at byte 1", 0, 0);
	BAD("{\"cmd\":\"x\",}", "not JSON at byte", 0, 0);
	BAD("{\"cmd\":\"x\"", "not JSON", 0, 0);
	BAD("[1,2]", "must be a JSON object", 0, 0);
	BAD("\"status\"", "must be a JSON object", 0, 0);
	BAD("42", "must be a JSON object", 0, 0);
	BAD("null", "must be a JSON object", 0, 0);
}

static void
test_trailing_garbage(void **state)
{
	BAD("{\"cmd\":\"x\"} x", "trailing data after JSON at byte 13", 0, 0);
	BAD("{\"cmd\":\"x\"}{\"cmd\":\"y\"}", "trailing data", 0, 0);
	BAD("{\"cmd\":\"x\"}\n{\"cmd\":\"y\"}", "trailing data", 0, 0);
	BAD("{\"cmd\":\"x\"}]", "trailing data", 0, 0);
}

static void
test_not_nul_terminated(void **state)
{
	/* The length bounds the line: what follows in memory is not read. */
	const char buf[] = "{\"cmd\":\"x\"}GARBAGE";
	struct proto_request req;
	enum proto_err code;
	char err[128];

	assert_int_equal(proto_parse_request(buf, 11, &req, &code, err,
	    sizeof(err)), 0);
	assert_string_equal(req.cmd, "x");
	proto_request_free(&req);
	expect_bad(buf, 9, PERR_BAD_REQUEST, "not JSON", 0, 0);
}

static void
test_embedded_nul(void **state)
{
	const char a[] = "{\"cmd\":\"x\"}\0";
	const char b[] = "{\"cmd\":\"x\0y\"}";

	expect_bad(a, sizeof(a) - 1, PERR_BAD_REQUEST, "NUL character at byte 12",
	    0, 0);
	expect_bad(b, sizeof(b) - 1, PERR_BAD_REQUEST, "NUL character", 0, 0);
	BAD("{\"cmd\":\"x\",\"target\":\"main\\u0000evil\"}", "NUL character",
	    0, 0);
	BAD("{\"cmd\":\"x\",\"y\":\"\\u0000\"}", "NUL character", 0, 0);
}

static void
test_escaped_backslash_not_nul(void **state)
{
	struct proto_request req;
	enum proto_err code;
	char err[128];

	/* "\\u0000" is a backslash then text, not a NUL. */
	assert_int_equal(parse("{\"cmd\":\"x\",\"t\":\"\\\\u0000\"}", &req,
	    &code, err, sizeof(err)), 0);
	proto_request_free(&req);
	assert_int_equal(parse("{\"cmd\":\"x\",\"t\":\"a\\\"\\u0001\"}", &req,
	    &code, err, sizeof(err)), 0);
	proto_request_free(&req);
}

static void
test_too_long(void **state)
{
	struct proto_request req;
	enum proto_err code;
	char err[128], *line;
	const char *head = "{\"id\":3,\"cmd\":\"x\",\"pad\":\"";
	size_t n, hl = strlen(head);

	line = malloc(PROTO_MAX_LINE + 2);
	assert_non_null(line);
	/* Exactly PROTO_MAX_LINE bytes of valid JSON. */
	memcpy(line, head, hl);
	memset(line + hl, 'a', PROTO_MAX_LINE - hl - 2);
	memcpy(line + PROTO_MAX_LINE - 2, "\"}", 2);
	n = PROTO_MAX_LINE;
	assert_int_equal(proto_parse_request(line, n, &req, &code, err,
	    sizeof(err)), 0);
	assert_int_equal(req.id, 3);
	proto_request_free(&req);

	/* One more byte (trailing space, still valid JSON) is too long. */
	line[n] = ' ';
	assert_int_equal(proto_parse_request(line, n + 1, &req, &code, err,
	    sizeof(err)), -1);
	assert_int_equal(code, PERR_TOO_LONG);
	assert_non_null(strstr(err, "65536"));
	free(line);
}

static void
test_too_many_members(void **state)
{
	char line[2048];
	size_t n;
	int i;

	n = (size_t)snprintf(line, sizeof(line), "{\"cmd\":\"x\"");
	for (i = 0; i < 64; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"a%d\":1",
		    i);
	snprintf(line + n, sizeof(line) - n, "}");
	BAD(line, "more than 64 members", 0, 0);
}

static void
test_error_codes(void **state)
{
	static const char *const want[] = {
		"bad_request", "too_long", "unknown_command", "unknown_target",
		"invalid_argument", "permission_denied", "busy",
		"too_many_clients", "not_ready", "precondition_failed",
		"timeout", "aborted", "server_error", "internal",
		"version_mismatch", "idle_timeout", "not_found",
	};
	enum proto_err e, back;
	cJSON *r, *err;
	char *line;
	int kind;

	assert_int_equal(sizeof(want) / sizeof(want[0]), PERR__COUNT);
	for (e = 0; e < PERR__COUNT; e++) {
		assert_string_equal(proto_err_code(e), want[e]);
		assert_int_equal(proto_err_from_code(want[e], &back), 0);
		assert_int_equal(back, e);

		/* And through a whole error line. */
		line = proto_reply_error(11, e, "why \"quoted\"");
		assert_non_null(line);
		r = proto_parse_reply(line, strlen(line) - 1, &kind);
		assert_non_null(r);
		assert_int_equal(kind, 'e');
		err = cJSON_GetObjectItemCaseSensitive(r, "error");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(err,
		    "code")->valuestring, want[e]);
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(err,
		    "message")->valuestring, "why \"quoted\"");
		cJSON_Delete(r);
		free(line);
	}
	assert_int_equal(proto_err_from_code("nope", &back), -1);
	assert_int_equal(proto_err_from_code(NULL, &back), -1);
	assert_string_equal(proto_err_code(PERR__COUNT), "internal");
}

/* Exactly one newline, at the end. */
static void
assert_one_line(const char *line)
{
	size_t n = strlen(line);

	assert_true(n > 1);
	assert_int_equal(line[n - 1], '\n');
	assert_null(memchr(line, '\n', n - 1));
}

static void
test_encoders(void **state)
{
	cJSON *res, *r, *args;
	char *line;
	int kind;
	struct proto_request req;
	enum proto_err code;
	char err[128];

	res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "text", "multi\nline");
	line = proto_reply_ok(7, res);
	assert_one_line(line);
	assert_string_equal(line,
	    "{\"id\":7,\"ok\":true,\"result\":{\"text\":\"multi\\nline\"}}\n");
	r = proto_parse_reply(line, strlen(line) - 1, &kind);
	assert_non_null(r);
	assert_int_equal(kind, 'o');
	cJSON_Delete(r);
	free(line);

	line = proto_reply_ok(8, NULL);
	assert_string_equal(line, "{\"id\":8,\"ok\":true,\"result\":{}}\n");
	free(line);

	line = proto_reply_error(0, PERR_BUSY, "promotion running");
	assert_string_equal(line, "{\"id\":0,\"ok\":false,\"error\":{\"code\":"
	    "\"busy\",\"message\":\"promotion running\"}}\n");
	free(line);

	res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "type", "change");
	line = proto_reply_event(9, res);
	assert_string_equal(line,
	    "{\"id\":9,\"event\":{\"type\":\"change\"}}\n");
	r = proto_parse_reply(line, strlen(line) - 1, &kind);
	assert_int_equal(kind, 'v');
	cJSON_Delete(r);
	free(line);

	line = proto_reply_ok(1099511627776LL, NULL);
	r = proto_parse_reply(line, strlen(line) - 1, &kind);
	assert_true(cJSON_GetObjectItemCaseSensitive(r, "id")->valuedouble ==
	    1099511627776.0);
	cJSON_Delete(r);
	free(line);

	/* A request line parses back as a request, arguments moved in. */
	args = cJSON_CreateObject();
	cJSON_AddNumberToObject(args, "max_lag", 2.5);
	cJSON_AddBoolToObject(args, "dry_run", 1);
	cJSON_AddStringToObject(args, "cmd", "sneaky");	/* dropped */
	line = proto_request_line(12, "promote", "main", args);
	assert_one_line(line);
	assert_string_equal(line, "{\"id\":12,\"cmd\":\"promote\",\"target\":"
	    "\"main\",\"max_lag\":2.5,\"dry_run\":true}\n");
	assert_int_equal(proto_parse_request(line, strlen(line) - 1, &req,
	    &code, err, sizeof(err)), 0);
	assert_string_equal(req.cmd, "promote");
	assert_string_equal(req.target, "main");
	proto_request_free(&req);
	free(line);

	line = proto_request_line(1, "hello", NULL, NULL);
	assert_string_equal(line, "{\"id\":1,\"cmd\":\"hello\"}\n");
	free(line);
}

static void
test_parse_reply_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"{}",
		"[]",
		"{\"ok\":true}",				/* no id */
		"{\"id\":\"1\",\"ok\":true}",			/* id not numeric */
		"{\"id\":1}",					/* neither */
		"{\"id\":1,\"ok\":true,\"event\":{}}",		/* both */
		"{\"id\":1,\"ok\":1}",				/* ok not bool */
		"{\"id\":1,\"ok\":true} x",			/* trailing */
		"{\"id\":1,\"ok\":true}{}",
		"nonsense",
	};
	size_t i;
	int kind;
	cJSON *r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = proto_parse_reply(bad[i], strlen(bad[i]), &kind);
		if (r != NULL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	r = proto_parse_reply("{\"id\":1,\"ok\":true}\0", 20, &kind);
	assert_null(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_request),
		cmocka_unit_test(test_bad_id),
		cmocka_unit_test(test_limits_ok),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_escaped_backslash_not_nul),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_too_many_members),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_encoders),
		cmocka_unit_test(test_parse_reply_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
