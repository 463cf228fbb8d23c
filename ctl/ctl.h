/*
 * replwatchctl: a command is one entry (struct ctl_cmd) in its own file,
 * listed once in table.c.  The entry carries everything about it: its
 * options with their types (parsed and checked in args.c), its rules
 * across options, the request it sends, its text and tsv output, and for
 * the commands that stream or ask, its own exec.  Help, usage errors and
 * the bash completion are made from the same entries.
 */
#ifndef CTL_CTL_H
#define CTL_CTL_H
#include <signal.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "client.h"
#include "output.h"
#include "version.h"

#define CTL_SOCKET_DEFAULT	"/run/replwatch/replwatch.sock"
#define CTL_TIMEOUT_DEFAULT	10.0	/* seconds to wait for a reply */
/* setup, start and stop run statements on a remote server: more time. */
#define CTL_ADMIN_TIMEOUT_DEFAULT 120.0

/* Exit statuses (sysexits.h where one fits). */
#define EXIT_DAEMON_ERROR	1	/* the daemon answered ok:false */
#define EXIT_WAIT_TIMEOUT	2
#define EXIT_HOOK_FAILED	3	/* promoted, but on_promoted failed */
#define EXIT_USAGE		64	/* EX_USAGE */
#define EXIT_UNAVAILABLE	69	/* EX_UNAVAILABLE: cannot reach the daemon */
#define EXIT_PROTOCOL		76	/* EX_PROTOCOL: a reply we cannot read */

/* Monitoring-plugin statuses, for check. */
#define PLUGIN_OK		0
#define PLUGIN_WARNING		1
#define PLUGIN_CRITICAL		2
#define PLUGIN_UNKNOWN		3

/* What an option's value must be; the parser checks it, help names it. */
enum ctl_opt_type {
	OT_FLAG,		/* no value */
	OT_TEXT,		/* 1 to 255 characters */
	OT_FILE,		/* a file name (completion offers files) */
	OT_SECONDS,		/* a decimal number of seconds, in [min, max] */
	OT_COUNT,		/* a whole number, in [min, max] */
	OT_BINLOG_POS,		/* digits, at most 2^64 - 1 */
	OT_CHOICE		/* one of choices[] */
};

/* ctl_opt flags */
#define OPT_REQUIRED	0x01
#define OPT_ABOVE_MIN	0x02	/* min itself is not allowed */

struct ctl_opt {
	const char	*name;		/* the long option, without "--" */
	enum ctl_opt_type type;
	const char	*arg;		/* the value's name in help: "S", "N" */
	const char	*help;		/* for COMMAND --help; '\n' continues */
	const char	*key;		/* the request member it fills, if any:
					   a number, a string, or true */
	double		 min, max;	/* both 0: the type's own bounds */
	int		 flags;
	const char *const *choices;	/* OT_CHOICE, NULL-terminated */
	int		 letter;	/* its short form (-w), or 0 */
};

/* Command flags. */
#define CMD_TARGET_NONE	0x00
#define CMD_TARGET_OPT	0x01	/* [TARGET]: absent means every target */
#define CMD_TARGET_REQ	0x02
#define CMD_PLUGIN	0x04	/* every failure exits 3 with a REPLWATCH line */
#define CMD_ADMIN	0x08	/* the daemon requires admin rights */
#define CMD_SLOW	0x10	/* reply timeout CTL_ADMIN_TIMEOUT_DEFAULT */

#define CTL_MAX_OPTS	32

/* A command's operand and options, as given. */
struct ctl_args {
	const struct ctl_cmd *cmd;
	const char	*target;		/* NULL when absent */
	const char	*value[CTL_MAX_OPTS];	/* by index in cmd->options;
						   NULL: not given */
	double		 num[CTL_MAX_OPTS];	/* OT_SECONDS, OT_COUNT */
	char		 letter[CTL_MAX_OPTS];	/* given as -x: 'x'; else 0 */
};

struct ctl;

struct ctl_cmd {
	const char	*name;
	int		 flags;
	const struct ctl_opt *options;	/* ends with a NULL name; or NULL */
	const char	*usage;		/* the operands and options */
	const char	*summary;	/* a line in the list of --help */
	const char	*help;		/* what it does, for COMMAND --help */

	/* Rules across options: 0, or -1 with what is wrong in why. */
	int		(*check)(const struct ctl_args *, char *why, size_t);
	/*
	 * One request, one reply (exec == NULL): the protocol command
	 * (NULL: name), the members build() adds to what the options' keys
	 * put in args (0, or an exit status), and how the result is printed
	 * (tsv == NULL: no --format tsv).
	 */
	const char	*request;
	int		(*build)(struct ctl *, const struct ctl_args *, cJSON *);
	output_fn	*text;
	output_fn	*tsv;
	/* A command with its own exchange: streams, prompts. */
	int		(*exec)(struct ctl *, const struct ctl_args *);
};

struct ctl {
	const char	*socket;
	enum out_format	 format;
	int		 timeout_ms;	/* reply timeout */
	int		 timeout_given;	/* --reply-timeout was given */
	int		 colour;
	const struct ctl_cmd *cmd;
};

/* table.c: every command, in the order of --help. */
extern const struct ctl_cmd *const ctl_commands[];

/* args.c */
int	 args_parse(struct ctl *, const struct ctl_cmd *, int, char **,
	    struct ctl_args *, char *why, size_t);
int	 args_has(const struct ctl_args *, const char *name);
const char *args_str(const struct ctl_args *, const char *name);
double	 args_num(const struct ctl_args *, const char *name, double dflt);
int	 args_fill(const struct ctl_args *, cJSON *request);
int	 args_takes_value(const struct ctl_opt *);
/* "-w" or "--warning", as the option was given, for messages. */
const char *args_given_as(const struct ctl_args *, const char *name,
	    char *buf, size_t);

/*
 * request.c: the one way to talk to the daemon.  ctl_stream() reads the
 * reply lines of one request, events and then the final line, and hands
 * them to the caller's functions; ctl_call() is the stream of a command
 * that wants only the final result.
 */
#define STREAM_GO_ON	(-1)

struct stream_ops {
	/* An event: STREAM_GO_ON, or the exit status to end with. */
	int	(*event)(struct ctl *, void *, const cJSON *event);
	/* The final {"ok": true}: the exit status. */
	int	(*done)(struct ctl *, void *, const cJSON *result);
	/* The final {"ok": false}: the exit status (NULL: ctl_fail_reply). */
	int	(*error)(struct ctl *, void *, const cJSON *error);
	/*
	 * The stream ends otherwise: a signal (CLIENT_INTR), a lost
	 * connection, a line we cannot read.  The exit status, or
	 * STREAM_GO_ON for ctl_fail_read()'s.
	 */
	int	(*ending)(struct ctl *, void *, enum client_rv);
	/* Wait for each line at most this long (-1: for ever)... */
	int	 line_timeout_ms;
	/* ...or until the next tick (monotonic ms; -1: none), then tick(). */
	long long (*next_tick)(struct ctl *, void *);
	int	(*tick)(struct ctl *, void *);
};

void	 ctl_catch_signals(void);
int	 ctl_connect(struct ctl *, struct client *);
int	 ctl_send(struct ctl *, struct client *, const char *cmd,
	    const char *target, cJSON *args);
int	 ctl_stream(struct ctl *, struct client *, const struct stream_ops *,
	    void *);
int	 ctl_call(struct ctl *, const char *cmd, const char *target,
	    cJSON *args, cJSON **root, cJSON **result);
/* The generic exec: options' keys + build(), one call, the result shown. */
int	 ctl_run_simple(struct ctl *, const struct ctl_args *);

/*
 * A failure: "replwatchctl: message" on stderr, or with --format json
 * {"ok": false, "error": {"code": code, "message": ...}} there; check
 * answers its own way.  Returns status.
 */
int	 ctl_fail(struct ctl *, int status, const char *code, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
/* The same with a second line (or a "hint" member) saying what next. */
int	 ctl_fail_hint(struct ctl *, int status, const char *code,
	    const char *hint, const char *, ...)
	    __attribute__((format(printf, 5, 6)));
/* An {"ok": false} reply: "code: message", or the daemon's object. */
int	 ctl_fail_reply(struct ctl *, const cJSON *error, const char *hint);
int	 ctl_fail_read(struct ctl *, enum client_rv, const char *hint);

/* promote.c: a target's promotion, for status. */
void	 promote_status_text(const cJSON *promotion);

/* check.c: check's answer to any failure, a REPLWATCH UNKNOWN line; 3. */
int	 check_unknown(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
