/*
 * replwatchctl: the control client of replwatchd.  Global options, then a
 * command from the table below; each command's options are parsed here, in
 * one place, so usage errors and --help behave the same for every command.
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "output.h"
#include "protocol.h"
#include "xmalloc.h"

/* Option values that have no short letter. */
enum {
	OPT_JSON = 256,
	OPT_TIMEOUT,
	OPT_SAMPLES_N,
	OPT_SAMPLES,
	OPT_MAX,
	OPT_WARN,
	OPT_CRIT,
	OPT_MAX_LAG,
	OPT_WAIT_TIMEOUT,
	OPT_MASTER_HOST,
	OPT_MASTER_PORT,
	OPT_REPL_USER,
	OPT_PASSWORD_FILE,
	OPT_PASSWORD_STDIN,
	OPT_BINLOG_FILE,
	OPT_BINLOG_POS,
	OPT_FROM_DUMP,
	OPT_GTID_FROM_DUMP,
	OPT_GTID,
	OPT_SSL,
	OPT_START,
	OPT_FREEZE_MASTER,
	OPT_NO_FREEZE,
	OPT_DRY_RUN,
	OPT_FORCE,
	OPT_RESUME,
	OPT_YES,
	OPT_FOR,
	OPT_REASON
};

/* --help and --json are accepted after every command. */
#define COMMON_OPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "json", no_argument, NULL, OPT_JSON }

static const struct option plain_opts[] = {
	COMMON_OPTS, { NULL, 0, NULL, 0 }
};
static const struct option history_opts[] = {
	COMMON_OPTS,
	{ "samples", required_argument, NULL, OPT_SAMPLES_N },
	{ NULL, 0, NULL, 0 }
};
static const struct option events_opts[] = {
	COMMON_OPTS,
	{ "max", required_argument, NULL, OPT_MAX },
	{ NULL, 0, NULL, 0 }
};
static const struct option watch_opts[] = {
	COMMON_OPTS,
	{ "samples", no_argument, NULL, OPT_SAMPLES },
	{ NULL, 0, NULL, 0 }
};
static const struct option check_opts[] = {
	COMMON_OPTS,
	{ "warn", required_argument, NULL, OPT_WARN },
	{ "crit", required_argument, NULL, OPT_CRIT },
	{ NULL, 0, NULL, 0 }
};
static const struct option wait_opts[] = {
	COMMON_OPTS,
	{ "max-lag", required_argument, NULL, OPT_MAX_LAG },
	{ "timeout", required_argument, NULL, OPT_WAIT_TIMEOUT },
	{ NULL, 0, NULL, 0 }
};
/* No option takes the password itself: argv is readable by every user. */
static const struct option setup_opts[] = {
	COMMON_OPTS,
	{ "master-host", required_argument, NULL, OPT_MASTER_HOST },
	{ "master-port", required_argument, NULL, OPT_MASTER_PORT },
	{ "repl-user", required_argument, NULL, OPT_REPL_USER },
	{ "repl-password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "repl-password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
	{ "binlog-file", required_argument, NULL, OPT_BINLOG_FILE },
	{ "binlog-pos", required_argument, NULL, OPT_BINLOG_POS },
	{ "from-dump", required_argument, NULL, OPT_FROM_DUMP },
	{ "gtid-from-dump", no_argument, NULL, OPT_GTID_FROM_DUMP },
	{ "gtid", required_argument, NULL, OPT_GTID },
	{ "ssl", no_argument, NULL, OPT_SSL },
	{ "start", no_argument, NULL, OPT_START },
	{ NULL, 0, NULL, 0 }
};
static const struct option promote_opts[] = {
	COMMON_OPTS,
	{ "freeze-master", no_argument, NULL, OPT_FREEZE_MASTER },
	{ "no-freeze", no_argument, NULL, OPT_NO_FREEZE },
	{ "max-lag", required_argument, NULL, OPT_MAX_LAG },
	{ "timeout", required_argument, NULL, OPT_WAIT_TIMEOUT },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ "yes", no_argument, NULL, OPT_YES },
	{ NULL, 0, NULL, 0 }
};

static const struct option mute_opts[] = {
	COMMON_OPTS,
	{ "for", required_argument, NULL, OPT_FOR },
	{ "reason", required_argument, NULL, OPT_REASON },
	{ NULL, 0, NULL, 0 }
};
static const struct option skip_error_opts[] = {
	COMMON_OPTS,
	{ "yes", no_argument, NULL, OPT_YES },
	{ NULL, 0, NULL, 0 }
};

/*
 * The command table.  CMD_ADMIN commands need the daemon's admin rights
 * (root, its uid or admin_group); the daemon decides, the flag only
 * marks them in the help.
 */
static const struct ctl_cmd commands[] = {
	{ "hello", cmd_hello, CMD_TARGET_NONE, plain_opts, "",
	  "the daemon's version and targets",
	  "Show the daemon's name, version, protocol version, pid, uptime and\n"
	  "targets, and whether this user may run admin commands.\n" },
	{ "status", cmd_status, CMD_TARGET_OPT, plain_opts, "[TARGET]",
	  "a target's health, or one line per target",
	  "Show a target's health: state and reason, lag, replication threads,\n"
	  "binlog positions, errors, the server, lag history and poll counts.\n"
	  "Without TARGET: one line per target.\n" },
	{ "lag", cmd_lag, CMD_TARGET_OPT, plain_opts, "[TARGET]",
	  "lag of one target or of each",
	  "Show the lag of a target (or of every target), one line each: the\n"
	  "headline lag and its source, seconds_behind_master, heartbeat and\n"
	  "position lag.\n" },
	{ "history", cmd_history, CMD_TARGET_REQ, history_opts,
	  "TARGET [--samples N]",
	  "lag statistics and recent samples",
	  "Show lag statistics over the last 1, 5 and 15 minutes and the most\n"
	  "recent lag samples, oldest first.\n"
	  "\n"
	  "  --samples N   how many samples to list (default: the daemon's, 60)\n" },
	{ "events", cmd_events, CMD_TARGET_OPT, events_opts,
	  "[TARGET] [--max N]",
	  "recent state changes",
	  "Show recent state changes, oldest first, one per line.\n"
	  "\n"
	  "  --max N       at most N events (default: the daemon's, 100)\n" },
	{ "watch", cmd_watch, CMD_TARGET_OPT, watch_opts,
	  "[TARGET] [--samples]",
	  "follow state changes as they happen",
	  "Print each state change as it happens, after the current state,\n"
	  "until interrupted or the daemon goes away.\n"
	  "\n"
	  "  --samples     also print every poll's lag sample\n" },
	{ "check", cmd_check, CMD_TARGET_REQ | CMD_PLUGIN, check_opts,
	  "TARGET [--warn S] [--crit S]",
	  "monitoring-plugin check (exit 0-3)",
	  "Monitoring-plugin check (Nagios, Icinga): one line with the status\n"
	  "and performance data; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"
	  "\n"
	  "  --warn S      WARNING at a lag of S seconds or more\n"
	  "  --crit S      CRITICAL at a lag of S seconds or more\n"
	  "                (default: the daemon's lag_warn_s and lag_crit_s)\n" },
	{ "wait", cmd_wait, CMD_TARGET_REQ, wait_opts,
	  "TARGET --max-lag S --timeout T",
	  "wait until the lag is at most S seconds",
	  "Wait until the target replicates with a known lag of at most S\n"
	  "seconds; exit 0 then, or 2 when T seconds pass first.\n"
	  "\n"
	  "  --max-lag S   the lag to wait for, in seconds (may be fractional)\n"
	  "  --timeout T   give up after T seconds\n" },
	{ "setup", cmd_setup, CMD_TARGET_REQ | CMD_ADMIN, setup_opts,
	  "TARGET --master-host H [--master-port P] --repl-user U\n"
	  "    (--repl-password-file F | --repl-password-stdin)\n"
	  "    (--binlog-file NAME --binlog-pos N | --from-dump DUMP.sql "
	  "[--gtid-from-dump] | --gtid G)\n"
	  "    [--ssl] [--start]",
	  "configure replication on the replica (admin)",
	  "Configure the replica to replicate from the master, through the\n"
	  "statement or RDS procedure its kind needs.  Refused while the\n"
	  "replication threads run (stop them first).  Prints the statement,\n"
	  "its password replaced by ***.\n"
	  "\n"
	  "  --master-host H          the master's address, as the replica "
	  "reaches it\n"
	  "  --master-port P          its port (default 3306)\n"
	  "  --repl-user U            the replication user on the master\n"
	  "  --repl-password-file F   its password: the first line of F (a\n"
	  "                           warning if every user may read F)\n"
	  "  --repl-password-stdin    its password: the first line of stdin, "
	  "or\n"
	  "                           asked for without echo on a terminal\n"
	  "  --binlog-file NAME       start at this binlog file ...\n"
	  "  --binlog-pos N           ... and position\n"
	  "  --from-dump DUMP.sql     start where a dump made with\n"
	  "                           --master-data (--source-data) was "
	  "taken: its\n"
	  "                           CHANGE MASTER line, read here, not by "
	  "the daemon\n"
	  "  --gtid-from-dump         use the dump's GTID (gtid_slave_pos or\n"
	  "                           GTID_PURGED) instead of its file and "
	  "position\n"
	  "  --gtid G                 start at this GTID position\n"
	  "  --ssl                    encrypt the replication link\n"
	  "  --start                  also start replication\n"
	  "\n"
	  "The password never appears on the command line.  Waits up to 120 s\n"
	  "for the daemon unless the global --timeout says otherwise.\n" },
	{ "start", cmd_start, CMD_TARGET_REQ | CMD_ADMIN, plain_opts, "TARGET",
	  "start replication (admin)",
	  "Start replication on the replica (START SLAVE, START REPLICA or\n"
	  "CALL mysql.rds_start_replication()); print the statement and the\n"
	  "server's messages.\n" },
	{ "stop", cmd_stop, CMD_TARGET_REQ | CMD_ADMIN, plain_opts, "TARGET",
	  "stop replication (admin)",
	  "Stop replication on the replica; print the statement and the\n"
	  "server's messages.\n" },
	{ "promote", cmd_promote, CMD_TARGET_REQ | CMD_ADMIN, promote_opts,
	  "TARGET [--no-freeze] [--max-lag S] [--timeout T]\n"
	  "    [--dry-run] [--force] [--resume] [--yes]",
	  "cut over: make the replica the master (admin)",
	  "Promote the replica: preflight; freeze the old master (read_only,\n"
	  "a global read lock, its other sessions ended) at a moment the\n"
	  "replica is nearly caught up; wait until the replica has executed\n"
	  "the master's final position; switch (the replica made writable,\n"
	  "the on_switch command moves the application: the point of no\n"
	  "return); stop and reset replication; verify.  Each step is printed\n"
	  "as it ends, then a report: the final coordinates, how long writes\n"
	  "were blocked, who can still write to the old master, what is left\n"
	  "to do.  A failure before the switch has succeeded rolls back; after\n"
	  "it, only --resume goes on.  The old master stays fenced until\n"
	  "replwatchctl unfence.\n"
	  "\n"
	  "  --no-freeze      do not freeze the old master (refused while its\n"
	  "                   binary log moves, unless --force)\n"
	  "  --freeze-master  freeze it (the default; kept for old scripts)\n"
	  "  --max-lag S      preflight refuses a lag above S s (default 1)\n"
	  "  --timeout T      give the wait to freeze and the catch-up T s\n"
	  "                   each (default 60)\n"
	  "  --dry-run        preflight only, and print the plan\n"
	  "  --force          go on past what preflight may be overruled on\n"
	  "  --resume         continue an interrupted promotion\n"
	  "  --yes            do not ask for confirmation\n"
	  "\n"
	  "Without --yes (or --dry-run) the target's name must be typed to\n"
	  "confirm; with stdin not a terminal, --yes is required (exit 64).\n"
	  "Interrupting replwatchctl does not stop the promotion: use abort.\n"
	  "Exit 0 promoted (or dry run passed), 1 refused, aborted or\n"
	  "interrupted, 3 promoted but the on_promoted command failed, 69 the\n"
	  "daemon unreachable or the connection lost.\n" },
	{ "abort", cmd_abort, CMD_TARGET_REQ | CMD_ADMIN, plain_opts, "TARGET",
	  "cancel a running promotion (admin)",
	  "Cancel the target's promotion while it has not reached the reset:\n"
	  "the old master is made writable again and replication keeps\n"
	  "running.  Also rolls back an interrupted promotion whose reset had\n"
	  "not started.\n" },
	{ "unfence", cmd_unfence, CMD_TARGET_REQ | CMD_ADMIN, plain_opts,
	  "TARGET", "release the old master's fence (admin)",
	  "After a promotion the old master is fenced: read_only, and a global\n"
	  "read lock held on replwatchd's own connection (taken again if the\n"
	  "link is lost), so that not even accounts that read_only exempts can\n"
	  "write there.  Release the lock; read_only stays ON.\n" },
	{ "skip-error", cmd_skip_error, CMD_TARGET_REQ | CMD_ADMIN,
	  skip_error_opts, "TARGET [--yes]",
	  "skip the event the SQL thread stopped on (admin)",
	  "Show the SQL error the replica stopped on and skip that one event\n"
	  "(CALL mysql.rds_skip_repl_error() on RDS; natively the skip\n"
	  "counter, then the SQL thread started).  The error number shown is\n"
	  "sent as the confirmation: the daemon skips nothing if the replica's\n"
	  "error is another one by then.  Recorded in the event log.\n"
	  "\n"
	  "  --yes         do not ask; without it the error number must be\n"
	  "                typed, and stdin must be a terminal (exit 64)\n" },
	{ "mute", cmd_mute, CMD_TARGET_REQ | CMD_ADMIN, mute_opts,
	  "TARGET --for DURATION [--reason TEXT]",
	  "mute a target's alerts for maintenance (admin)",
	  "Mute the target for DURATION (90s, 30m, 2h, 1d, 1h30m; 1 s to 7\n"
	  "days): it is still polled and changes state, but status shows it\n"
	  "muted and alerting (check, metrics) follows.  Ends by itself, or\n"
	  "with unmute; kept across daemon restarts.  Muting again replaces\n"
	  "the mute.\n"
	  "\n"
	  "  --for DURATION  how long\n"
	  "  --reason TEXT   why, shown in status and the event log\n" },
	{ "unmute", cmd_unmute, CMD_TARGET_REQ | CMD_ADMIN, plain_opts,
	  "TARGET", "end a target's mute (admin)",
	  "End the target's mute now.\n" },
	{ "reload", cmd_reload, CMD_TARGET_NONE | CMD_ADMIN, plain_opts, "",
	  "re-read the configuration (admin)",
	  "Make the daemon re-read its configuration file.  A bad file is\n"
	  "refused with the reason and the running configuration kept.\n" },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

volatile sig_atomic_t ctl_signal;

static void
usage(FILE *f)
{
	size_t i;
	char buf[128];

	fprintf(f,
	    "usage: replwatchctl [-s SOCKET] [--json] [--timeout S] COMMAND "
	    "[ARGS] [TARGET]\n"
	    "       replwatchctl COMMAND --help\n"
	    "\n"
	    "Ask replwatchd about the replicas it watches, or have it set up,\n"
	    "start, stop and promote them.\n"
	    "\n"
	    "commands:\n");
	for (i = 0; i < NCOMMANDS; i++) {
		snprintf(buf, sizeof(buf), "%s%s%s", commands[i].name,
		    commands[i].usage[0] != '\0' ? " " : "", commands[i].usage);
		/* Long usages are for COMMAND --help; here the first line. */
		buf[strcspn(buf, "\n")] = '\0';
		if (strlen(buf) > 36)
			fprintf(f, "  %s\n  %-36s %s\n", buf, "",
			    commands[i].summary);
		else
			fprintf(f, "  %-36s %s\n", buf, commands[i].summary);
	}
	fprintf(f,
	    "\n"
	    "options:\n"
	    "  -s, --socket PATH  control socket (default: $REPLWATCH_SOCKET "
	    "or\n"
	    "                     " CTL_SOCKET_DEFAULT ")\n"
	    "      --json         print the daemon's JSON result, one line\n"
	    "      --timeout S    seconds to wait for a reply (default 10)\n"
	    "  -h, --help         this help\n"
	    "  -V, --version      print the version\n"
	    "\n"
	    "exit status: 0 done, 1 the daemon refused (promote: refused or "
	    "aborted),\n"
	    "2 wait timed out, 64 usage, 69 daemon unreachable, 76 unreadable "
	    "reply;\n"
	    "check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.  See "
	    "replwatchctl(8).\n");
}

static void
command_help(const struct ctl_cmd *cmd)
{
	printf("usage: replwatchctl [-s SOCKET] [--json] [--timeout S] %s%s%s\n"
	    "\n%s", cmd->name, cmd->usage[0] != '\0' ? " " : "", cmd->usage,
	    cmd->help);
}

/*
 * A usage mistake.  check answers in its own convention (a REPLWATCH
 * UNKNOWN line, exit 3) so a monitoring system shows what is wrong.
 */
static int __attribute__((format(printf, 2, 3)))
usage_error(const struct ctl_cmd *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (cmd == NULL) {
		fprintf(stderr, "replwatchctl: %s\n"
		    "(see replwatchctl --help)\n", msg);
		return EXIT_USAGE;
	}
	fprintf(stderr, "replwatchctl %s: %s\n"
	    "usage: replwatchctl %s%s%s\n", cmd->name, msg, cmd->name,
	    cmd->usage[0] != '\0' ? " " : "", cmd->usage);
	if (cmd->flags & CMD_PLUGIN)
		return check_unknown("usage: %s", msg);
	return EXIT_USAGE;
}

/* Seconds: a finite, non-negative decimal number, nothing after it. */
static int
parse_seconds(const char *s, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(d) || d < 0)
		return -1;
	*out = d;
	return 0;
}

/* Decimal digits only, at most 20 (a binlog position is 64 bits). */
static int
parse_digits(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 20 && strspn(s, "0123456789") == n &&
	    (n < 20 || strcmp(s, "18446744073709551615") <= 0) ? 0 : -1;
}

static int
parse_count(const char *s, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || n < 1 || n > 10000000)
		return -1;
	*out = n;
	return 0;
}

/* What getopt_long did not like, in words (opterr is off). */
static void
getopt_complaint(char *buf, size_t len, int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		snprintf(buf, len, "option '%s' needs a value", arg);
	else if (optopt != 0)
		snprintf(buf, len, "unknown option '-%c'", optopt);
	else
		snprintf(buf, len, "unknown option '%s'", arg);
}

/* setup's rules: one password source, one starting point. */
static int
check_setup(const struct ctl_cmd *cmd, const struct cmd_args *a)
{
	int starts = (a->binlog_file != NULL || a->binlog_pos != NULL) +
	    (a->from_dump != NULL) + (a->gtid != NULL);

	if (a->master_host == NULL)
		return usage_error(cmd, "--master-host is required");
	if (a->repl_user == NULL)
		return usage_error(cmd, "--repl-user is required");
	if ((a->password_file != NULL) + a->password_stdin != 1)
		return usage_error(cmd, "give the password with one of "
		    "--repl-password-file or --repl-password-stdin");
	if (starts != 1)
		return usage_error(cmd, "give one starting point: --binlog-file "
		    "and --binlog-pos, --from-dump, or --gtid");
	if ((a->binlog_file == NULL) != (a->binlog_pos == NULL))
		return usage_error(cmd, "--binlog-file and --binlog-pos go "
		    "together");
	if (a->gtid_from_dump && a->from_dump == NULL)
		return usage_error(cmd, "--gtid-from-dump needs --from-dump");
	return 0;
}

/*
 * The command's options and operands into *a.  Returns 0, 1 when help was
 * printed, or an exit status (> 1) after a usage error.
 */
static int
parse_command(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char **argv, struct cmd_args *a)
{
	char msg[256];
	const char *why = NULL;
	int c, nargs, longindex = 0;

	memset(a, 0, sizeof(*a));
	a->warn_s = a->crit_s = a->max_lag_s = a->timeout_s = -1;

	optind = 0;	/* glibc: start afresh on the command's argv */
	while ((c = getopt_long(argc, argv, ":h", cmd->options,
	    &longindex)) != -1) {
		switch (c) {
		case 'h':
			command_help(cmd);
			return 1;
		case OPT_JSON:
			ctl->json = 1;
			break;
		case OPT_SAMPLES_N:
			if (parse_count(optarg, &a->samples) == -1)
				why = "not a count from 1";
			break;
		case OPT_SAMPLES:
			a->samples_flag = 1;
			break;
		case OPT_MAX:
			if (parse_count(optarg, &a->max) == -1)
				why = "not a count from 1";
			break;
		case OPT_WARN:
			if (parse_seconds(optarg, &a->warn_s) == -1)
				why = "not a number of seconds";
			break;
		case OPT_CRIT:
			if (parse_seconds(optarg, &a->crit_s) == -1)
				why = "not a number of seconds";
			break;
		case OPT_MAX_LAG:
			if (parse_seconds(optarg, &a->max_lag_s) == -1)
				why = "not a number of seconds";
			break;
		case OPT_WAIT_TIMEOUT:
			if (parse_seconds(optarg, &a->timeout_s) == -1 ||
			    a->timeout_s == 0)
				why = "not a number of seconds above 0";
			break;
		case OPT_MASTER_HOST:
			a->master_host = optarg;
			if (*optarg == '\0' || strlen(optarg) > 255)
				why = "not a host name or address";
			break;
		case OPT_MASTER_PORT:
			if (parse_count(optarg, &a->master_port) == -1 ||
			    a->master_port > 65535)
				why = "not a port from 1 to 65535";
			break;
		case OPT_REPL_USER:
			a->repl_user = optarg;
			if (*optarg == '\0' || strlen(optarg) > 255)
				why = "must be 1 to 255 characters";
			break;
		case OPT_PASSWORD_FILE:
			a->password_file = optarg;
			break;
		case OPT_PASSWORD_STDIN:
			a->password_stdin = 1;
			break;
		case OPT_BINLOG_FILE:
			a->binlog_file = optarg;
			if (*optarg == '\0' || strlen(optarg) > 255)
				why = "must be 1 to 255 characters";
			break;
		case OPT_BINLOG_POS:
			a->binlog_pos = optarg;
			if (parse_digits(optarg) == -1)
				why = "not a binlog position (digits)";
			break;
		case OPT_FROM_DUMP:
			a->from_dump = optarg;
			break;
		case OPT_GTID_FROM_DUMP:
			a->gtid_from_dump = 1;
			break;
		case OPT_GTID:
			a->gtid = optarg;
			if (*optarg == '\0' || strlen(optarg) > 255)
				why = "must be 1 to 255 characters";
			break;
		case OPT_SSL:
			a->ssl = 1;
			break;
		case OPT_START:
			a->start = 1;
			break;
		case OPT_FREEZE_MASTER:
			a->freeze_master = 1;
			break;
		case OPT_NO_FREEZE:
			a->no_freeze = 1;
			break;
		case OPT_DRY_RUN:
			a->dry_run = 1;
			break;
		case OPT_FORCE:
			a->force = 1;
			break;
		case OPT_RESUME:
			a->resume = 1;
			break;
		case OPT_YES:
			a->yes = 1;
			break;
		case OPT_FOR:
			a->mute_for = optarg;
			break;
		case OPT_REASON:
			a->reason = optarg;
			break;
		default:
			getopt_complaint(msg, sizeof(msg), c, argv);
			if (strncmp(argv[optind - 1], "--timeout", 9) == 0 ||
			    strncmp(argv[optind - 1], "--socket", 8) == 0 ||
			    strncmp(argv[optind - 1], "-s", 2) == 0)
				strncat(msg, " (global options go before the "
				    "command)", sizeof(msg) - strlen(msg) - 1);
			return usage_error(cmd, "%s", msg);
		}
		if (why != NULL)
			return usage_error(cmd, "--%s '%s': %s",
			    cmd->options[longindex].name, optarg, why);
	}

	nargs = argc - optind;
	if (nargs > 0 && (cmd->flags & (CMD_TARGET_OPT | CMD_TARGET_REQ)))
		a->target = argv[optind++], nargs--;
	if (nargs > 0)
		return usage_error(cmd, "unexpected argument '%s'",
		    argv[optind]);
	if ((cmd->flags & CMD_TARGET_REQ) && a->target == NULL)
		return usage_error(cmd, "a TARGET is required");
	if (a->target != NULL && a->target[0] == '\0')
		return usage_error(cmd, "empty TARGET");

	if (a->warn_s >= 0 && a->crit_s >= 0 && a->warn_s > a->crit_s)
		return usage_error(cmd, "--warn %g is above --crit %g",
		    a->warn_s, a->crit_s);
	if (cmd->handler == cmd_wait && a->max_lag_s < 0)
		return usage_error(cmd, "--max-lag is required");
	if (cmd->handler == cmd_wait && a->timeout_s < 0)
		return usage_error(cmd, "--timeout is required");
	if (cmd->handler == cmd_setup)
		return check_setup(cmd, a);
	if (cmd->handler == cmd_promote && a->timeout_s >= 0 &&
	    a->timeout_s < 0.1)
		return usage_error(cmd, "--timeout is at least 0.1 s");
	if (cmd->handler == cmd_promote && a->max_lag_s > 86400)
		return usage_error(cmd, "--max-lag is at most 86400 s");
	return 0;
}

/* -- what the handlers share -- */

int
ctl_fail(struct ctl *ctl, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ctl->cmd != NULL && (ctl->cmd->flags & CMD_PLUGIN))
		return check_unknown("%s", msg);
	fprintf(stderr, "replwatchctl: %s\n", msg);
	return status;
}

/* An {"ok": false} reply: "code: message", as scripts match the code. */
int
ctl_fail_reply(struct ctl *ctl, const cJSON *error)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(error, "message");

	return ctl_fail(ctl, EXIT_DAEMON_ERROR, "%s: %s",
	    cJSON_IsString(code) ? code->valuestring : "error",
	    cJSON_IsString(msg) ? msg->valuestring : "(no message)");
}

int
ctl_fail_read(struct ctl *ctl, enum client_rv rv)
{
	switch (rv) {
	case CLIENT_TIMEOUT:
		return ctl_fail(ctl, EXIT_UNAVAILABLE,
		    "no reply from the daemon within %g s (on %s)",
		    ctl->timeout_ms / 1000.0, ctl->socket);
	case CLIENT_EOF:
		return ctl_fail(ctl, EXIT_UNAVAILABLE,
		    "the daemon closed the connection before replying");
	case CLIENT_ERROR:
		return ctl_fail(ctl, EXIT_UNAVAILABLE, "reading from %s: %s",
		    ctl->socket, strerror(errno));
	case CLIENT_TOOLONG:
	case CLIENT_GARBAGE:
		return ctl_fail(ctl, EXIT_PROTOCOL,
		    "cannot understand the daemon's reply: %s",
		    client_strerror(rv));
	case CLIENT_INTR:
		return ctl_fail(ctl, 128 + (ctl_signal ? ctl_signal : SIGINT),
		    "interrupted");
	case CLIENT_OK:
		break;
	}
	return 0;
}

int
ctl_connect(struct ctl *ctl, struct client *c)
{
	const char *hint = "";

	client_init(c);
	if (client_connect(c, ctl->socket, ctl->timeout_ms) == 0)
		return 0;
	if (errno == ENOENT || errno == ECONNREFUSED)
		hint = " (is replwatchd running?)";
	else if (errno == EACCES)
		hint = " (is this user in the daemon's socket_group?)";
	return ctl_fail(ctl, EXIT_UNAVAILABLE, "cannot connect to %s: %s%s",
	    ctl->socket, strerror(errno), hint);
}

/* Every invocation sends one request, so its id is always 1. */
int
ctl_send(struct ctl *ctl, struct client *c, const char *cmd,
    const char *target, cJSON *args)
{
	char *line = proto_request_line(1, cmd, target, args);
	int rv;

	if (line == NULL)
		return ctl_fail(ctl, EXIT_USAGE, "cannot encode the request");
	if (strlen(line) > PROTO_MAX_LINE + 1) {
		explicit_bzero(line, strlen(line));
		free(line);
		return ctl_fail(ctl, EXIT_USAGE, "request longer than %d bytes",
		    PROTO_MAX_LINE);
	}
	rv = client_send(c, line);
	/* setup's line carries the replication password. */
	explicit_bzero(line, strlen(line));
	free(line);
	if (rv == -1)
		return ctl_fail(ctl, EXIT_UNAVAILABLE, "writing to %s: %s",
		    ctl->socket, strerror(errno));
	return 0;
}

/*
 * One request, one final reply.  On success *root holds the reply (caller
 * frees) and *result its result; otherwise the failure is reported and its
 * exit status returned.
 */
int
ctl_call(struct ctl *ctl, const char *cmd, const char *target, cJSON *args,
    cJSON **root, cJSON **result)
{
	struct client c;
	enum client_rv rv;
	cJSON *body;
	int kind, st;

	*root = *result = NULL;
	if ((st = ctl_connect(ctl, &c)) != 0) {
		cJSON_Delete(args);
		return st;
	}
	if ((st = ctl_send(ctl, &c, cmd, target, args)) != 0) {
		client_close(&c);
		return st;
	}
	for (;;) {
		rv = client_reply(&c, ctl->timeout_ms, root, &body, &kind);
		if (rv != CLIENT_OK) {
			client_close(&c);
			return ctl_fail_read(ctl, rv);
		}
		if (kind != 'v')
			break;
		/* Not a streaming command: events are not for us. */
		cJSON_Delete(*root);
	}
	client_close(&c);
	if (kind == 'e') {
		st = ctl_fail_reply(ctl, body);
		cJSON_Delete(*root);
		*root = NULL;
		return st;
	}
	if (!cJSON_IsObject(body)) {
		cJSON_Delete(*root);
		*root = NULL;
		return ctl_fail(ctl, EXIT_PROTOCOL,
		    "cannot understand the daemon's reply: no result object");
	}
	*result = body;
	return 0;
}

static void
on_signal(int sig)
{
	ctl_signal = sig;
}

/* No SA_RESTART: a signal must wake the poll() of watch and wait. */
void
ctl_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static const struct ctl_cmd *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option global_opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl ctl;
	struct cmd_args args;
	const struct ctl_cmd *cmd;
	const char *env, *nc, *term;
	char complaint[256] = "";
	double timeout_s = CTL_TIMEOUT_DEFAULT;
	int c, st;

	setlocale(LC_CTYPE, "");
	signal(SIGPIPE, SIG_IGN);

	memset(&ctl, 0, sizeof(ctl));
	env = getenv("REPLWATCH_SOCKET");
	ctl.socket = env != NULL && *env != '\0' ? env : CTL_SOCKET_DEFAULT;

	/*
	 * Global options stop at the command.  A mistake is only reported
	 * once the command is known, so that check can answer it in its own
	 * convention.
	 */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:s:hV", global_opts,
	    NULL)) != -1) {
		switch (c) {
		case 's':
			ctl.socket = optarg;
			break;
		case OPT_JSON:
			ctl.json = 1;
			break;
		case OPT_TIMEOUT:
			if (parse_seconds(optarg, &timeout_s) == -1 ||
			    timeout_s == 0 || timeout_s > 86400)
				snprintf(complaint, sizeof(complaint),
				    "--timeout '%s': not a number of seconds "
				    "above 0", optarg);
			ctl.timeout_given = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("replwatchctl %s (protocol %d)\n",
			    RW_VERSION, PROTO_VERSION);
			return 0;
		default:
			if (complaint[0] == '\0')
				getopt_complaint(complaint, sizeof(complaint),
				    c, argv);
			break;
		}
	}
	if (optind >= argc) {
		if (complaint[0] != '\0')
			return usage_error(NULL, "%s", complaint);
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((cmd = find_command(argv[optind])) == NULL) {
		if (complaint[0] != '\0')
			return usage_error(NULL, "%s", complaint);
		return usage_error(NULL, "unknown command '%s'", argv[optind]);
	}
	/* Only check words a global mistake its own way. */
	if (complaint[0] != '\0')
		return usage_error(cmd->flags & CMD_PLUGIN ? cmd : NULL, "%s",
		    complaint);
	ctl.cmd = cmd;
	output_init(ctl.json, 0);
	ctl.timeout_ms = (int)(timeout_s * 1000);
	if (ctl.timeout_ms < 1)
		ctl.timeout_ms = 1;

	if ((st = parse_command(&ctl, cmd, argc - optind, argv + optind,
	    &args)) != 0)
		return st == 1 ? 0 : st;

	/* https://no-color.org: set and not empty turns colour off. */
	nc = getenv("NO_COLOR");
	term = getenv("TERM");
	ctl.colour = isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0') &&
	    (term == NULL || strcmp(term, "dumb") != 0);
	output_init(ctl.json, ctl.colour);

	return cmd->handler(&ctl, &args);
}
