/*
 * libFuzzer target for the two parsers that read bytes from another
 * process: proto_parse_request (daemon side) and proto_parse_reply (client
 * side).  Besides "does not crash", it checks what the daemon relies on:
 * an accepted request has a cmd of 1..32 bytes, a target of at most 63, and
 * re-encodes into a line that parses back to the same request.
 *
 * Build and run from the top of the tree:
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
 *	    -D_GNU_SOURCE -Ilib -o tests/fuzz/fuzz_protocol \
 *	    tests/fuzz/fuzz_protocol.c lib/protocol.c lib/xmalloc.c \
 *	    $(pkg-config --cflags --libs libcjson) -lm
 *	mkdir -p /tmp/corpus && ./tests/fuzz/fuzz_protocol -max_len=70000 \
 *	    -max_total_time=60 /tmp/corpus
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "protocol.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_request(const struct proto_request *req)
{
	struct proto_request again;
	enum proto_err code;
	const char *s;
	double d;
	int b, present;
	char err[256], *line;
	size_t n;

	if (req->root == NULL || req->cmd == NULL)
		abort();
	n = strlen(req->cmd);
	if (n == 0 || n > 32)
		abort();
	if (req->target != NULL && strlen(req->target) > 63)
		abort();
	(void)proto_arg_string(req, "target", &s);
	(void)proto_arg_number(req, "samples", &d, &present);
	(void)proto_arg_bool(req, "force", &b, &present);

	line = proto_request_line(req->id, req->cmd, req->target,
	    cJSON_Duplicate(req->root, 1));
	if (line == NULL)
		return;		/* cJSON out of memory */
	n = strlen(line);
	if (n == 0 || line[n - 1] != '\n' || memchr(line, '\n', n - 1) != NULL)
		abort();
	/* Re-encoding may only grow past the limit by escaping; skip those. */
	if (n - 1 <= PROTO_MAX_LINE) {
		if (proto_parse_request(line, n - 1, &again, &code, err,
		    sizeof(err)) == -1)
			abort();
		if (again.id != req->id || strcmp(again.cmd, req->cmd) != 0 ||
		    (again.target == NULL) != (req->target == NULL) ||
		    (again.target != NULL &&
		    strcmp(again.target, req->target) != 0))
			abort();
		proto_request_free(&again);
	}
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request req;
	enum proto_err code;
	char err[256];
	cJSON *reply;
	int kind;

	if (proto_parse_request((const char *)data, size, &req, &code, err,
	    sizeof(err)) == 0)
		check_request(&req);
	else if ((unsigned)code >= PERR__COUNT || err[0] == '\0' ||
	    req.root != NULL)
		abort();
	proto_request_free(&req);

	reply = proto_parse_reply((const char *)data, size, &kind);
	if (reply != NULL) {
		if (kind != 'o' && kind != 'e' && kind != 'v')
			abort();
		cJSON_Delete(reply);
	}
	return 0;
}
