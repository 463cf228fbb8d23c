/*
 * replwatchctl: what the command handlers share.  main() parses the global
 * options and the command's own options (one table, one parser), then calls
 * the handler; a handler returns the process exit status.
 */
#ifndef CTL_CTL_H
#define CTL_CTL_H
#include <getopt.h>
#include <signal.h>

#include <cjson/cJSON.h>

#include "client.h"
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

/* Command flags. */
#define CMD_TARGET_NONE	0x00
#define CMD_TARGET_OPT	0x01	/* [TARGET]: absent means every target */
#define CMD_TARGET_REQ	0x02
#define CMD_PLUGIN	0x04	/* every failure exits 3 with a REPLWATCH line */
#define CMD_ADMIN	0x08	/* the daemon requires admin rights */

/* Each command's own options, parsed for it before its handler runs. */
struct cmd_args {
	const char	*target;	/* NULL when absent */
	long		 samples;	/* history --samples N; 0: daemon default */
	int		 samples_flag;	/* watch --samples */
	long		 max;		/* events --max N; 0: daemon default */
	double		 warn_s;	/* check; < 0: daemon's threshold */
	double		 crit_s;
	double		 max_lag_s;	/* wait; < 0: not given */
	double		 timeout_s;	/* wait's and promote's own --timeout;
					   < 0: not given */

	/* setup */
	const char	*master_host;
	long		 master_port;	/* 0: not given */
	const char	*repl_user;
	const char	*password_file;	/* --repl-password-file */
	int		 password_stdin;	/* --repl-password-stdin */
	const char	*binlog_file;
	const char	*binlog_pos;	/* digits */
	const char	*from_dump;
	int		 gtid_from_dump;
	const char	*gtid;
	int		 ssl;
	int		 start;

	/* promote */
	int		 freeze_master;
	int		 no_freeze;
	int		 dry_run;
	int		 force;
	int		 resume;
	int		 yes;

	/* mute */
	const char	*mute_for;	/* the DURATION of --for, unparsed */
	const char	*reason;
};

struct ctl;

struct ctl_cmd {
	const char	*name;
	int		(*handler)(struct ctl *, const struct cmd_args *);
	int		 flags;
	const struct option *options;	/* the command's long options */
	const char	*usage;		/* arguments, after the name */
	const char	*summary;	/* for the list in --help */
	const char	*help;		/* what it does, for COMMAND --help */
};

struct ctl {
	const char	*socket;
	int		 json;
	int		 timeout_ms;	/* reply timeout */
	int		 timeout_given;	/* --timeout was on the command line */
	int		 colour;
	const struct ctl_cmd *cmd;
};

void	ctl_catch_signals(void);
int	ctl_connect(struct ctl *, struct client *);
int	ctl_send(struct ctl *, struct client *, const char *cmd,
	    const char *target, cJSON *args);
int	ctl_call(struct ctl *, const char *cmd, const char *target,
	    cJSON *args, cJSON **root, cJSON **result);
int	ctl_fail(struct ctl *, int status, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	ctl_fail_reply(struct ctl *, const cJSON *error);
int	ctl_fail_read(struct ctl *, enum client_rv);

/* check's answer to any failure: a REPLWATCH UNKNOWN line; returns 3. */
int	check_unknown(const char *, ...) __attribute__((format(printf, 1, 2)));

int	cmd_hello(struct ctl *, const struct cmd_args *);
int	cmd_status(struct ctl *, const struct cmd_args *);
int	cmd_lag(struct ctl *, const struct cmd_args *);
int	cmd_history(struct ctl *, const struct cmd_args *);
int	cmd_events(struct ctl *, const struct cmd_args *);
int	cmd_watch(struct ctl *, const struct cmd_args *);
int	cmd_check(struct ctl *, const struct cmd_args *);
int	cmd_wait(struct ctl *, const struct cmd_args *);
int	cmd_setup(struct ctl *, const struct cmd_args *);
int	cmd_start(struct ctl *, const struct cmd_args *);
int	cmd_stop(struct ctl *, const struct cmd_args *);
int	cmd_promote(struct ctl *, const struct cmd_args *);
int	cmd_abort(struct ctl *, const struct cmd_args *);
int	cmd_unfence(struct ctl *, const struct cmd_args *);
int	cmd_reload(struct ctl *, const struct cmd_args *);
int	cmd_mute(struct ctl *, const struct cmd_args *);
int	cmd_unmute(struct ctl *, const struct cmd_args *);
int	cmd_skip_error(struct ctl *, const struct cmd_args *);

#endif
