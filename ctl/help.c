/*
 * What replwatchctl says about itself, made from the command table: the
 * list of --help, COMMAND --help, and the data of the bash completion
 * (replwatchctl --complete-table, spliced into completion/replwatchctl.bash
 * by make completion; a test checks the shipped file is in sync).
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "help.h"

#define GLOBAL_USAGE \
	"[-s SOCKET] [--format text|json|tsv] [--reply-timeout S]"

void
help_usage(FILE *f)
{
	const struct ctl_cmd *cmd;
	char buf[128];

	fprintf(f,
	    "usage: replwatchctl " GLOBAL_USAGE " COMMAND [TARGET] [OPTIONS]\n"
	    "       replwatchctl COMMAND --help\n"
	    "\n"
	    "Ask replwatchd about the replicas it watches, or have it set up,\n"
	    "start, stop and promote them.\n"
	    "\n"
	    "commands:\n");
	for (int i = 0; (cmd = ctl_commands[i]) != NULL; i++) {
		snprintf(buf, sizeof(buf), "%s%s%s", cmd->name,
		    cmd->usage[0] != '\0' ? " " : "", cmd->usage);
		/* Long usages are for COMMAND --help; here the first line. */
		buf[strcspn(buf, "\n")] = '\0';
		if (strlen(buf) > 36)
			fprintf(f, "  %s\n  %-36s %s\n", buf, "", cmd->summary);
		else
			fprintf(f, "  %-36s %s\n", buf, cmd->summary);
	}
	fprintf(f,
	    "\n"
	    "options (before the command; --format and --json also after "
	    "it):\n"
	    "  -s, --socket PATH    control socket (default: $REPLWATCH_SOCKET "
	    "or\n"
	    "                       " CTL_SOCKET_DEFAULT ")\n"
	    "      --format FMT     text (default), json (the daemon's JSON, "
	    "one\n"
	    "                       line; errors as JSON on stderr) or tsv "
	    "(a header,\n"
	    "                       then tab-separated rows: status, lag, "
	    "events, history)\n"
	    "      --json           the same as --format json\n"
	    "      --reply-timeout S\n"
	    "                       seconds to wait for the daemon's reply "
	    "(default 10;\n"
	    "                       setup, start, stop: 120); --timeout "
	    "before the\n"
	    "                       command is the same, after it the "
	    "command's own\n"
	    "  -h, --help           this help\n"
	    "  -V, --version        print the version\n"
	    "\n"
	    "exit status: 0 done, 1 the daemon refused (promote: refused or "
	    "aborted),\n"
	    "2 wait timed out, 64 usage, 69 daemon unreachable or no reply, "
	    "76 unreadable\n"
	    "reply; check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.  See "
	    "replwatchctl(8).\n");
}

/* "  --max-lag S   the lag ...", continuation lines aligned. */
static void
option_help(const struct ctl_opt *o, int width, int letters)
{
	char left[64], letter[8] = "";
	const char *h = o->help, *nl;

	if (letters)
		snprintf(letter, sizeof(letter), "    ");
	if (o->letter != 0)
		snprintf(letter, sizeof(letter), "-%c, ", o->letter);
	snprintf(left, sizeof(left), "%s--%s%s%s", letter, o->name,
	    args_takes_value(o) ? " " : "", args_takes_value(o) ? o->arg : "");
	printf("  %-*s  ", width, left);
	for (;;) {
		nl = strchr(h, '\n');
		printf("%.*s\n", nl != NULL ? (int)(nl - h) : (int)strlen(h), h);
		if (nl == NULL || nl[1] == '\0')
			break;
		h = nl + 1;
		printf("  %-*s  ", width, "");
	}
}

void
help_command(const struct ctl_cmd *cmd)
{
	const struct ctl_opt *o;
	int w = 0, n, letters = 0;

	printf("usage: replwatchctl " GLOBAL_USAGE " %s%s%s\n\n%s", cmd->name,
	    cmd->usage[0] != '\0' ? " " : "", cmd->usage, cmd->help);
	if (cmd->options == NULL || cmd->options[0].name == NULL)
		return;
	for (o = cmd->options; o->name != NULL; o++)
		letters |= o->letter != 0;
	for (o = cmd->options; o->name != NULL; o++) {
		n = (letters ? 4 : 0) + (int)strlen(o->name) + 2 +
		    (args_takes_value(o) ? 1 + (int)strlen(o->arg) : 0);
		if (n > w)
			w = n;
	}
	putchar('\n');
	for (o = cmd->options; o->name != NULL; o++)
		option_help(o, w, letters);
}

/* -- the bash completion's data -- */

enum { WORDS_ALL, WORDS_VALUED, WORDS_FILES };

/* var="..." : the command's options, those taking a value, or files. */
static void
opt_list(const char *var, const struct ctl_cmd *cmd, int which)
{
	const struct ctl_opt *o;
	char buf[1024] = "";

	if (which == WORDS_ALL)
		snprintf(buf, sizeof(buf), " --help --json --format");
	else if (which == WORDS_VALUED)
		snprintf(buf, sizeof(buf), " --format");
	for (o = cmd->options; o != NULL && o->name != NULL; o++) {
		if ((which == WORDS_VALUED && !args_takes_value(o)) ||
		    (which == WORDS_FILES && o->type != OT_FILE))
			continue;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " --%s",
		    o->name);
		/* A short form is not offered, but its value is awaited. */
		if (which != WORDS_ALL && o->letter != 0)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			    " -%c", o->letter);
	}
	printf("\t\t%s=\"%s\"\n", var, buf[0] != '\0' ? buf + 1 : "");
}

static void
choices(const struct ctl_opt *o)
{
	printf("\t--%s) echo", o->name);
	for (int i = 0; o->choices[i] != NULL; i++)
		printf(" %s", o->choices[i]);
	printf(" ;;\n");
}

void
help_complete_table(void)
{
	static const char *const formats[] = { "text", "json", "tsv", NULL };
	static const struct ctl_opt format = { .name = "format",
	    .type = OT_CHOICE, .arg = "FMT", .choices = formats };
	const struct ctl_cmd *cmd;
	const struct ctl_opt *o;

	printf("# Made from replwatchctl's command table by `make completion`"
	    "\n# (replwatchctl --complete-table): do not edit by hand.\n");
	printf("_replwatchctl_commands=\"");
	for (int i = 0; (cmd = ctl_commands[i]) != NULL; i++)
		printf("%s%s", i > 0 ? " " : "", cmd->name);
	printf("\"\n"
	    "_replwatchctl_global_opts=\"-s --socket --json --format "
	    "--reply-timeout --timeout -h --help -V --version\"\n"
	    "_replwatchctl_global_valued=\"-s --socket --format "
	    "--reply-timeout --timeout\"\n"
	    "_replwatchctl_global_files=\"-s --socket\"\n"
	    "\n"
	    "# _replwatchctl_command NAME: opts, valued (options that take a "
	    "value),\n"
	    "# files (a file name) and target (none, optional, required) "
	    "of NAME.\n"
	    "_replwatchctl_command()\n{\n\tcase $1 in\n");
	for (int i = 0; (cmd = ctl_commands[i]) != NULL; i++) {
		printf("\t%s)\n", cmd->name);
		opt_list("opts", cmd, WORDS_ALL);
		opt_list("valued", cmd, WORDS_VALUED);
		opt_list("files", cmd, WORDS_FILES);
		printf("\t\ttarget=%s\n\t\t;;\n",
		    cmd->flags & CMD_TARGET_REQ ? "required" :
		    cmd->flags & CMD_TARGET_OPT ? "optional" : "none");
	}
	printf("\t*) return 1 ;;\n\tesac\n}\n\n"
	    "# _replwatchctl_choices CMD OPTION: the values OPTION takes, "
	    "when a list.\n"
	    "_replwatchctl_choices()\n{\n\tcase $2 in\n");
	choices(&format);
	printf("\tesac\n\tcase $1 in\n");
	for (int i = 0; (cmd = ctl_commands[i]) != NULL; i++) {
		for (o = cmd->options; o != NULL && o->name != NULL; o++) {
			if (o->type != OT_CHOICE)
				continue;
			printf("\t%s) case $2 in\n", cmd->name);
			for (; o->name != NULL; o++)
				if (o->type == OT_CHOICE)
					choices(o);
			printf("\tesac ;;\n");
			break;
		}
	}
	printf("\tesac\n}\n");
}
