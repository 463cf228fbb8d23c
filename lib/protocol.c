/*
 * The control protocol's framing and envelopes (doc/PROTOCOL.md,
 * man/replwatch-protocol.7).  Everything that turns bytes from a peer into a
 * request, or a reply into bytes, lives here, so the daemon and the client
 * cannot disagree about it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "protocol.h"
#include "xmalloc.h"

#define PROTO_MAX_CMD		32
#define PROTO_MAX_TARGET	63
/*
 * No command takes more than a handful of arguments; the cap keeps the
 * duplicate-member check (quadratic) cheap on a hostile 64 KiB line.
 */
#define PROTO_MAX_MEMBERS	64
/* Integers beyond 2^53 do not survive the trip through a double. */
#define PROTO_MAX_ID		9007199254740992.0

/* Indexed by enum proto_err; scripts match these strings. */
static const char *const err_codes[PERR__COUNT] = {
	[PERR_BAD_REQUEST] = "bad_request",
	[PERR_TOO_LONG] = "too_long",
	[PERR_UNKNOWN_COMMAND] = "unknown_command",
	[PERR_UNKNOWN_TARGET] = "unknown_target",
	[PERR_INVALID_ARGUMENT] = "invalid_argument",
	[PERR_PERMISSION_DENIED] = "permission_denied",
	[PERR_BUSY] = "busy",
	[PERR_TOO_MANY_CLIENTS] = "too_many_clients",
	[PERR_NOT_READY] = "not_ready",
	[PERR_PRECONDITION] = "precondition_failed",
	[PERR_TIMEOUT] = "timeout",
	[PERR_ABORTED] = "aborted",
	[PERR_SERVER_ERROR] = "server_error",
	[PERR_INTERNAL] = "internal",
	[PERR_VERSION] = "version_mismatch",
	[PERR_IDLE_TIMEOUT] = "idle_timeout",
	[PERR_NOT_FOUND] = "not_found",
};

static int	json_parse_exact(const char *, size_t, cJSON **, char *, size_t);
static int	scan_nul(const char *, size_t, size_t *);
static int	json_integer(const cJSON *, long long *);
static int	has_duplicate_member(const cJSON *, const char **);
static char	*encode_line(cJSON *);
static int	add_owned(cJSON *, const char *, cJSON *);

const char *
proto_err_code(enum proto_err e)
{
	if ((unsigned)e >= PERR__COUNT)
		return err_codes[PERR_INTERNAL];
	return err_codes[e];
}

int
proto_err_from_code(const char *s, enum proto_err *out)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < PERR__COUNT; i++) {
		if (strcmp(s, err_codes[i]) == 0) {
			*out = (enum proto_err)i;
			return 0;
		}
	}
	return -1;
}

/*
 * A NUL byte, or a \u0000 escape, would silently cut a C string short after
 * parsing ("main\u0000x" would name target "main"), so neither may appear
 * anywhere in a line.  Returns 1 and the offset when one does.
 */
static int
scan_nul(const char *s, size_t len, size_t *at)
{
	size_t i;
	int in_string = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\0') {
			*at = i;
			return 1;
		}
		if (!in_string) {
			if (s[i] == '"')
				in_string = 1;
			continue;
		}
		if (s[i] == '"')
			in_string = 0;
		else if (s[i] == '\\' && i + 1 < len) {
			if (s[i + 1] == 'u' && i + 5 < len &&
			    memcmp(s + i + 2, "0000", 4) == 0) {
				*at = i;
				return 1;
			}
			i++;	/* the escaped character cannot end the string */
		}
	}
	return 0;
}

/*
 * Parse exactly one JSON value from s[0..len): cJSON_ParseWithLength alone
 * stops after the first value and ignores what follows (REFERENCE §6), and s
 * need not be NUL-terminated, so parse a terminated copy and insist that
 * only whitespace remains.
 */
static int
json_parse_exact(const char *s, size_t len, cJSON **out, char *err,
    size_t errlen)
{
	char *buf;
	const char *end = NULL;
	cJSON *v;
	size_t off;

	*out = NULL;
	buf = xmalloc(len + 1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	v = cJSON_ParseWithLengthOpts(buf, len + 1, &end, 0);
	if (v == NULL) {
		off = (end != NULL && end >= buf) ? (size_t)(end - buf) : 0;
		if (len == 0 || strspn(buf, " \t\r\n") == len)
			snprintf(err, errlen, "empty line, expected a JSON object");
		else
			snprintf(err, errlen, "not JSON at byte %zu", off + 1);
		free(buf);
		return -1;
	}
	off = (size_t)(end - buf);
	off += strspn(end, " \t\r\n");
	if (off < len) {
		snprintf(err, errlen, "trailing data after JSON at byte %zu",
		    off + 1);
		cJSON_Delete(v);
		free(buf);
		return -1;
	}
	free(buf);
	*out = v;
	return 0;
}

/* An integral JSON number that a double carries exactly. */
static int
json_integer(const cJSON *v, long long *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!isfinite(d) || d != trunc(d) || fabs(d) > PROTO_MAX_ID)
		return -1;
	*out = (long long)d;
	return 0;
}

/*
 * cJSON keeps duplicate members and lookups return the first: reject them
 * so that no two readers of a line can see different commands.
 */
static int
has_duplicate_member(const cJSON *obj, const char **name)
{
	const cJSON *a, *b;

	for (a = obj->child; a != NULL; a = a->next) {
		for (b = a->next; b != NULL; b = b->next) {
			if (strcmp(a->string, b->string) == 0) {
				*name = a->string;
				return 1;
			}
		}
	}
	return 0;
}

int
proto_parse_request(const char *line, size_t len, struct proto_request *req,
    enum proto_err *code, char *err, size_t errlen)
{
	cJSON *root = NULL, *v;
	const char *dup;
	size_t at, n;
	long long id;

	memset(req, 0, sizeof(*req));
	*code = PERR_BAD_REQUEST;
	if (len > PROTO_MAX_LINE) {
		*code = PERR_TOO_LONG;
		snprintf(err, errlen, "request longer than %d bytes",
		    PROTO_MAX_LINE);
		return -1;
	}
	if (scan_nul(line, len, &at)) {
		snprintf(err, errlen, "NUL character at byte %zu", at + 1);
		return -1;
	}
	if (json_parse_exact(line, len, &root, err, errlen) == -1)
		return -1;
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "request must be a JSON object");
		goto fail;
	}
	if (cJSON_GetArraySize(root) > PROTO_MAX_MEMBERS) {
		snprintf(err, errlen, "more than %d members",
		    PROTO_MAX_MEMBERS);
		goto fail;
	}

	/* The id first, so that every later error can carry it. */
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "id")) != NULL) {
		if (json_integer(v, &id) == -1) {
			snprintf(err, errlen, "id must be an integer");
			goto fail;
		}
		req->id = id;
		req->has_id = 1;
	}
	if (has_duplicate_member(root, &dup)) {
		snprintf(err, errlen, "duplicate member \"%.32s\"", dup);
		goto fail;
	}

	v = cJSON_GetObjectItemCaseSensitive(root, "cmd");
	if (v == NULL) {
		snprintf(err, errlen, "cmd is missing");
		goto fail;
	}
	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "cmd must be a string");
		goto fail;
	}
	n = strlen(v->valuestring);
	if (n == 0 || n > PROTO_MAX_CMD) {
		snprintf(err, errlen, "cmd must be 1 to %d bytes",
		    PROTO_MAX_CMD);
		goto fail;
	}
	req->cmd = v->valuestring;

	if ((v = cJSON_GetObjectItemCaseSensitive(root, "target")) != NULL) {
		if (!cJSON_IsString(v)) {
			snprintf(err, errlen, "target must be a string");
			goto fail;
		}
		if (strlen(v->valuestring) > PROTO_MAX_TARGET) {
			snprintf(err, errlen, "target longer than %d bytes",
			    PROTO_MAX_TARGET);
			goto fail;
		}
		req->target = v->valuestring;
	}
	req->root = root;
	return 0;

fail:
	/* Keep id/has_id for the error reply; nothing else points anywhere. */
	cJSON_Delete(root);
	req->root = NULL;
	req->cmd = NULL;
	req->target = NULL;
	return -1;
}

void
proto_request_free(struct proto_request *req)
{
	if (req == NULL)
		return;
	cJSON_Delete(req->root);
	memset(req, 0, sizeof(*req));
}

int
proto_arg_string(const struct proto_request *req, const char *key,
    const char **out)
{
	const cJSON *v;

	*out = NULL;
	if (req->root == NULL)
		return 0;
	if ((v = cJSON_GetObjectItemCaseSensitive(req->root, key)) == NULL)
		return 0;
	if (!cJSON_IsString(v))
		return -1;
	*out = v->valuestring;
	return 0;
}

int
proto_arg_number(const struct proto_request *req, const char *key,
    double *out, int *present)
{
	const cJSON *v;

	*present = 0;
	if (req->root == NULL)
		return 0;
	if ((v = cJSON_GetObjectItemCaseSensitive(req->root, key)) == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return -1;
	*out = v->valuedouble;
	*present = 1;
	return 0;
}

int
proto_arg_bool(const struct proto_request *req, const char *key, int *out,
    int *present)
{
	const cJSON *v;

	*present = 0;
	if (req->root == NULL)
		return 0;
	if ((v = cJSON_GetObjectItemCaseSensitive(req->root, key)) == NULL)
		return 0;
	if (!cJSON_IsBool(v))
		return -1;
	*out = cJSON_IsTrue(v) ? 1 : 0;
	*present = 1;
	return 0;
}

/*
 * cJSON_AddItemToObject leaves item with the caller when it fails; here the
 * item is always consumed, so callers need no second cleanup path.
 */
static int
add_owned(cJSON *obj, const char *key, cJSON *item)
{
	if (item == NULL)
		return -1;
	if (!cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		return -1;
	}
	return 0;
}

/* Compact text plus the newline that frames it; consumes root. */
static char *
encode_line(cJSON *root)
{
	char *text, *line;
	size_t n;

	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (text == NULL)
		return NULL;
	n = strlen(text);
	line = xmalloc(n + 2);
	memcpy(line, text, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	cJSON_free(text);
	return line;
}

/* {"id":N,...}: the key order of every line starts with id. */
static cJSON *
envelope(long long id)
{
	cJSON *root;

	if ((root = cJSON_CreateObject()) == NULL)
		return NULL;
	if (add_owned(root, "id", cJSON_CreateNumber((double)id)) == -1) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

char *
proto_reply_ok(long long id, cJSON *result)
{
	cJSON *root;

	if (result == NULL)
		result = cJSON_CreateObject();
	if ((root = envelope(id)) == NULL) {
		cJSON_Delete(result);
		return NULL;
	}
	if (add_owned(root, "ok", cJSON_CreateTrue()) == -1) {
		cJSON_Delete(result);
		cJSON_Delete(root);
		return NULL;
	}
	if (add_owned(root, "result", result) == -1) {
		cJSON_Delete(root);
		return NULL;
	}
	return encode_line(root);
}

char *
proto_reply_error(long long id, enum proto_err e, const char *message)
{
	cJSON *root, *error;

	if ((root = envelope(id)) == NULL)
		return NULL;
	if (add_owned(root, "ok", cJSON_CreateFalse()) == -1 ||
	    (error = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(root);
		return NULL;
	}
	if (add_owned(error, "code", cJSON_CreateString(proto_err_code(e))) ==
	    -1 || add_owned(error, "message", cJSON_CreateString(
	    message != NULL ? message : proto_err_code(e))) == -1) {
		cJSON_Delete(error);
		cJSON_Delete(root);
		return NULL;
	}
	if (add_owned(root, "error", error) == -1) {
		cJSON_Delete(root);
		return NULL;
	}
	return encode_line(root);
}

char *
proto_reply_event(long long id, cJSON *event)
{
	cJSON *root;

	if (event == NULL)
		event = cJSON_CreateObject();
	if ((root = envelope(id)) == NULL) {
		cJSON_Delete(event);
		return NULL;
	}
	if (add_owned(root, "event", event) == -1) {
		cJSON_Delete(root);
		return NULL;
	}
	return encode_line(root);
}

char *
proto_request_line(long long id, const char *cmd, const char *target,
    cJSON *args)
{
	cJSON *root, *item;

	if ((root = envelope(id)) == NULL ||
	    add_owned(root, "cmd", cJSON_CreateString(cmd)) == -1 ||
	    (target != NULL &&
	    add_owned(root, "target", cJSON_CreateString(target)) == -1)) {
		cJSON_Delete(root);
		cJSON_Delete(args);
		return NULL;
	}
	/*
	 * Move the arguments over one by one; the envelope's own members win,
	 * as the daemon rejects duplicates.
	 */
	while (cJSON_IsObject(args) && args->child != NULL) {
		item = cJSON_DetachItemViaPointer(args, args->child);
		if (item->string == NULL ||
		    strcmp(item->string, "id") == 0 ||
		    strcmp(item->string, "cmd") == 0 ||
		    strcmp(item->string, "target") == 0) {
			cJSON_Delete(item);
			continue;
		}
		/* The detached item keeps its key: link it in as is. */
		if (!cJSON_AddItemToObject(root, item->string, item)) {
			cJSON_Delete(item);
			cJSON_Delete(args);
			cJSON_Delete(root);
			return NULL;
		}
	}
	cJSON_Delete(args);
	return encode_line(root);
}

cJSON *
proto_parse_reply(const char *line, size_t len, int *kind)
{
	cJSON *root, *ok, *event;
	char err[64];
	size_t at;

	*kind = 0;
	if (scan_nul(line, len, &at))
		return NULL;
	if (json_parse_exact(line, len, &root, err, sizeof(err)) == -1)
		return NULL;
	if (!cJSON_IsObject(root) ||
	    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "id")))
		goto fail;
	ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
	event = cJSON_GetObjectItemCaseSensitive(root, "event");
	if ((ok == NULL) == (event == NULL))
		goto fail;
	if (event != NULL)
		*kind = 'v';
	else if (cJSON_IsTrue(ok))
		*kind = 'o';
	else if (cJSON_IsFalse(ok))
		*kind = 'e';
	else
		goto fail;
	return root;

fail:
	cJSON_Delete(root);
	return NULL;
}
