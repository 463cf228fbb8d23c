/*
 * The control protocol, shared by replwatchd and replwatchctl: newline-
 * delimited JSON over a Unix stream socket (man/replwatch-protocol.7 is the
 * written contract).  A request is one line
 *	{"id": 7, "cmd": "status", "target": "main", ...arguments...}
 * and gets exactly one final line
 *	{"id": 7, "ok": true, "result": {...}}
 *	{"id": 7, "ok": false, "error": {"code": "...", "message": "..."}}
 * Streaming commands first send {"id": 7, "event": {...}} lines.
 */
#ifndef RW_PROTOCOL_H
#define RW_PROTOCOL_H
#include <stddef.h>

#include <cjson/cJSON.h>

#define PROTO_VERSION	1
#define PROTO_MAX_LINE	65536	/* bytes, without the newline */

/* Stable error codes: scripts match these strings.  Append only. */
enum proto_err {
	PERR_BAD_REQUEST,	/* not JSON, not an object, bad field types */
	PERR_TOO_LONG,		/* request line over PROTO_MAX_LINE */
	PERR_UNKNOWN_COMMAND,
	PERR_UNKNOWN_TARGET,
	PERR_INVALID_ARGUMENT,
	PERR_PERMISSION_DENIED,
	PERR_BUSY,		/* one promotion per target */
	PERR_TOO_MANY_CLIENTS,
	PERR_NOT_READY,		/* no sample yet */
	PERR_PRECONDITION,	/* preflight refused */
	PERR_TIMEOUT,
	PERR_ABORTED,
	PERR_SERVER_ERROR,	/* the database refused or failed */
	PERR_INTERNAL,
	PERR_VERSION,		/* client asked for a protocol we do not speak */
	PERR_IDLE_TIMEOUT,
	PERR_NOT_FOUND,
	PERR__COUNT
};

struct proto_request {
	cJSON		*root;		/* owned; the whole object */
	long long	 id;		/* 0 when absent */
	int		 has_id;
	const char	*cmd;		/* points into root */
	const char	*target;	/* NULL when absent */
};

const char *proto_err_code(enum proto_err);
int	proto_err_from_code(const char *, enum proto_err *);

/*
 * Parse one request line (len bytes, no newline).  Returns 0, or -1 with
 * *code and a message in err; req->id is set whenever it could be read so
 * the error reply can carry it.
 */
int	proto_parse_request(const char *line, size_t len,
	    struct proto_request *req, enum proto_err *code, char *err,
	    size_t errlen);
void	proto_request_free(struct proto_request *);

/* Typed argument access; return -1 if present with the wrong type. */
int	proto_arg_string(const struct proto_request *, const char *key,
	    const char **out);
int	proto_arg_number(const struct proto_request *, const char *key,
	    double *out, int *present);
int	proto_arg_bool(const struct proto_request *, const char *key,
	    int *out, int *present);

/*
 * Encoders: a malloc'd line ending in "\n".  They take ownership of the
 * cJSON argument.
 */
char	*proto_reply_ok(long long id, cJSON *result);
char	*proto_reply_error(long long id, enum proto_err, const char *message);
char	*proto_reply_event(long long id, cJSON *event);
char	*proto_request_line(long long id, const char *cmd, const char *target,
	    cJSON *args);	/* args: extra members, may be NULL */

/*
 * Client side: parse one reply line.  Returns the object (caller frees) or
 * NULL if it is not a reply; *kind is 'o' ok, 'e' error, 'v' event.
 */
cJSON	*proto_parse_reply(const char *line, size_t len, int *kind);

#endif
