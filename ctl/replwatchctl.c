/*
 * replwatchctl: the control client of replwatchd.  Global options, then a
 * command from the table (table.c); the command's options are parsed from
 * its entry (args.c), and its exec, or the generic one request and one
 * reply, runs.
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
#include "help.h"
#include "protocol.h"

enum {
	GOPT_JSON = 256,
	GOPT_FORMAT,
	GOPT_REPLY_TIMEOUT,
	GOPT_TIMEOUT,
	GOPT_COMPLETE_TABLE
};

/* Whether the words ask for JSON, wherever: a usage error then is JSON. */
static int
json_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 ||
		    strcmp(argv[i], "--format=json") == 0 ||
		    (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
		    strcmp(argv[i + 1], "json") == 0))
			return 1;
	}
	return 0;
}

/*
 * A usage mistake.  check answers in its own convention (a REPLWATCH
 * UNKNOWN line, exit 3) so a monitoring system shows what is wrong; with
 * JSON asked for, the error is a JSON object like any other failure.
 */
static int
usage_error(struct ctl *ctl, const struct ctl_cmd *cmd, const char *msg)
{
	char text[1024];

	if (cmd != NULL && (cmd->flags & CMD_PLUGIN)) {
		fprintf(stderr, "replwatchctl %s: %s\n"
		    "usage: replwatchctl %s %s\n", cmd->name, msg, cmd->name,
		    cmd->usage);
		return check_unknown("usage: %s", msg);
	}
	if (ctl->format == OUT_JSON) {
		snprintf(text, sizeof(text), "%s%s%s", cmd != NULL ? cmd->name :
		    "", cmd != NULL ? ": " : "", msg);
		return ctl_fail(ctl, EXIT_USAGE, "usage", "%s", text);
	}
	if (cmd == NULL)
		fprintf(stderr, "replwatchctl: %s\n"
		    "(see replwatchctl --help)\n", msg);
	else
		fprintf(stderr, "replwatchctl %s: %s\n"
		    "usage: replwatchctl %s%s%s\n", cmd->name, msg, cmd->name,
		    cmd->usage[0] != '\0' ? " " : "", cmd->usage);
	return EXIT_USAGE;
}

static const struct ctl_cmd *
find_command(const char *name)
{
	for (int i = 0; ctl_commands[i] != NULL; i++)
		if (strcmp(ctl_commands[i]->name, name) == 0)
			return ctl_commands[i];
	return NULL;
}

/* The reply timeout: a finite number of seconds above 0, at most a day. */
static int
parse_timeout(const char *s, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(d) || d <= 0 ||
	    d > 86400)
		return -1;
	*out = d;
	return 0;
}

static void
getopt_complaint(char *buf, size_t len, int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		snprintf(buf, len, "option '%s' needs a value", arg);
	else if (optopt != 0 && optopt < 256)
		snprintf(buf, len, "unknown option '-%c'", optopt);
	else
		snprintf(buf, len, "unknown option '%s'", arg);
}

int
main(int argc, char **argv)
{
	/*
	 * --timeout is the reply timeout's old name.  Before the command it
	 * can mean nothing else; after it, it is the command's own (wait,
	 * promote), so the global one has a name of its own.
	 */
	static const struct option global_opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, GOPT_JSON },
		{ "format", required_argument, NULL, GOPT_FORMAT },
		{ "reply-timeout", required_argument, NULL, GOPT_REPLY_TIMEOUT },
		{ "timeout", required_argument, NULL, GOPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "complete-table", no_argument, NULL, GOPT_COMPLETE_TABLE },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl ctl;
	struct ctl_args args;
	const struct ctl_cmd *cmd;
	const char *env, *nc, *term;
	char complaint[512] = "", why[512];
	double timeout_s = CTL_TIMEOUT_DEFAULT;
	int c;

	setlocale(LC_CTYPE, "");
	signal(SIGPIPE, SIG_IGN);

	memset(&ctl, 0, sizeof(ctl));
	env = getenv("REPLWATCH_SOCKET");
	ctl.socket = env != NULL && *env != '\0' ? env : CTL_SOCKET_DEFAULT;
	if (json_wanted(argc, argv))
		ctl.format = OUT_JSON;

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
		case GOPT_JSON:
			ctl.format = OUT_JSON;
			break;
		case GOPT_FORMAT:
			if (output_format_parse(optarg, &ctl.format) == -1 &&
			    complaint[0] == '\0')
				snprintf(complaint, sizeof(complaint),
				    "--format '%s': not one of text, json, "
				    "tsv", optarg);
			break;
		case GOPT_REPLY_TIMEOUT:
		case GOPT_TIMEOUT:
			if (parse_timeout(optarg, &timeout_s) == -1 &&
			    complaint[0] == '\0')
				snprintf(complaint, sizeof(complaint),
				    "%s '%s': not a number of seconds above 0 "
				    "(at most 86400)", c == GOPT_TIMEOUT ?
				    "--timeout" : "--reply-timeout", optarg);
			ctl.timeout_given = 1;
			break;
		case 'h':
			help_usage(stdout);
			return 0;
		case 'V':
			printf("replwatchctl %s (protocol %d)\n",
			    RW_VERSION, PROTO_VERSION);
			return 0;
		case GOPT_COMPLETE_TABLE:
			help_complete_table();
			return 0;
		default:
			if (complaint[0] == '\0')
				getopt_complaint(complaint, sizeof(complaint),
				    c, argv);
			break;
		}
	}
	output_init(ctl.format, 0);
	if (optind >= argc) {
		if (complaint[0] != '\0')
			return usage_error(&ctl, NULL, complaint);
		if (ctl.format == OUT_JSON)
			return usage_error(&ctl, NULL, "no command given");
		help_usage(stderr);
		return EXIT_USAGE;
	}
	if ((cmd = find_command(argv[optind])) == NULL) {
		if (complaint[0] == '\0')
			snprintf(complaint, sizeof(complaint),
			    "unknown command '%s'", argv[optind]);
		return usage_error(&ctl, NULL, complaint);
	}
	/* Only check words a global mistake its own way. */
	if (complaint[0] != '\0')
		return usage_error(&ctl, cmd->flags & CMD_PLUGIN ? cmd : NULL,
		    complaint);
	ctl.cmd = cmd;
	ctl.timeout_ms = (int)(timeout_s * 1000);
	if (ctl.timeout_ms < 1)
		ctl.timeout_ms = 1;

	switch (args_parse(&ctl, cmd, argc - optind, argv + optind, &args,
	    why, sizeof(why))) {
	case 1:
		help_command(cmd);
		return 0;
	case -1:
		/* --format may follow the command; check's line obeys it. */
		output_init(ctl.format, 0);
		return usage_error(&ctl, cmd, why);
	}

	/* https://no-color.org: set and not empty turns colour off. */
	nc = getenv("NO_COLOR");
	term = getenv("TERM");
	ctl.colour = isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0') &&
	    (term == NULL || strcmp(term, "dumb") != 0);
	output_init(ctl.format, ctl.colour);

	return cmd->exec != NULL ? cmd->exec(&ctl, &args) :
	    ctl_run_simple(&ctl, &args);
}
