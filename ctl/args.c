/*
 * A command's options, parsed and checked from its entry's table, so every
 * command gets the same usage errors and nobody writes a parser again.
 * --help, --json and --format are every command's; the rest are its own.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define OPT_BASE	256	/* getopt values: OPT_BASE + index */
#define OPT_HELP	'h'
#define OPT_JSON	'J'	/* long only: not in the optstring */
#define OPT_FORMAT	'F'

static const struct ctl_opt *
find_opt(const struct ctl_cmd *cmd, const char *name, int *index)
{
	for (int i = 0; cmd->options != NULL && cmd->options[i].name != NULL;
	    i++) {
		if (strcmp(cmd->options[i].name, name) == 0) {
			*index = i;
			return &cmd->options[i];
		}
	}
	/* A handler asking for an option its entry lacks: a plain bug. */
	fprintf(stderr, "replwatchctl: internal error: %s has no option "
	    "--%s\n", cmd->name, name);
	abort();
}

int
args_takes_value(const struct ctl_opt *o)
{
	return o->type != OT_FLAG;
}

int
args_has(const struct ctl_args *a, const char *name)
{
	int i;

	find_opt(a->cmd, name, &i);
	return a->value[i] != NULL;
}

const char *
args_str(const struct ctl_args *a, const char *name)
{
	int i;

	find_opt(a->cmd, name, &i);
	return a->value[i];
}

const char *
args_given_as(const struct ctl_args *a, const char *name, char *buf,
    size_t len)
{
	int i;

	find_opt(a->cmd, name, &i);
	if (a->letter[i] != 0)
		snprintf(buf, len, "-%c", a->letter[i]);
	else
		snprintf(buf, len, "--%s", name);
	return buf;
}

double
args_num(const struct ctl_args *a, const char *name, double dflt)
{
	int i;

	find_opt(a->cmd, name, &i);
	return a->value[i] != NULL ? a->num[i] : dflt;
}

/* Put each given option that has a key into the request arguments. */
int
args_fill(const struct ctl_args *a, cJSON *req)
{
	const struct ctl_opt *o;
	int n = 0;

	for (int i = 0; a->cmd->options != NULL &&
	    (o = &a->cmd->options[i])->name != NULL; i++) {
		if (o->key == NULL || a->value[i] == NULL)
			continue;
		n++;
		switch (o->type) {
		case OT_FLAG:
			cJSON_AddTrueToObject(req, o->key);
			break;
		case OT_SECONDS:
		case OT_COUNT:
			cJSON_AddNumberToObject(req, o->key, a->num[i]);
			break;
		default:
			cJSON_AddStringToObject(req, o->key, a->value[i]);
			break;
		}
	}
	return n;
}

static void
bounds(const struct ctl_opt *o, double *min, double *max)
{
	*min = o->min;
	*max = o->max;
	if (*min == 0 && *max == 0) {
		*min = o->type == OT_COUNT ? 1 : 0;
		*max = o->type == OT_COUNT ? 10000000 : INFINITY;
	}
}

/* The value of o, checked; NULL, or what is wrong with it. */
static const char *
check_value(const struct ctl_opt *o, const char *s, double *num, char *why,
    size_t len)
{
	double d, min, max;
	size_t n = strlen(s);
	char *end;
	int ok;

	switch (o->type) {
	case OT_FLAG:
		return NULL;
	case OT_TEXT:
		return n >= 1 && n <= 255 ? NULL :
		    "must be 1 to 255 characters";
	case OT_FILE:
		return n >= 1 ? NULL : "an empty file name";
	case OT_BINLOG_POS:
		return n > 0 && n <= 20 && strspn(s, "0123456789") == n &&
		    (n < 20 || strcmp(s, "18446744073709551615") <= 0) ?
		    NULL : "not a binlog position (digits)";
	case OT_CHOICE:
		for (int i = 0; o->choices[i] != NULL; i++)
			if (strcmp(s, o->choices[i]) == 0)
				return NULL;
		snprintf(why, len, "not one of");
		for (int i = 0; o->choices[i] != NULL; i++)
			snprintf(why + strlen(why), len - strlen(why), "%s %s",
			    i > 0 ? "," : "", o->choices[i]);
		return why;
	case OT_SECONDS:
	case OT_COUNT:
		break;
	}
	bounds(o, &min, &max);
	errno = 0;
	d = strtod(s, &end);
	ok = end != s && *end == '\0' && errno == 0 && isfinite(d) &&
	    d >= min && d <= max && (!(o->flags & OPT_ABOVE_MIN) || d > min) &&
	    (o->type != OT_COUNT || d == floor(d));
	if (ok) {
		*num = d;
		return NULL;
	}
	if (o->type == OT_COUNT)
		snprintf(why, len, "not a count from %.0f", min);
	else if (o->flags & OPT_ABOVE_MIN)
		snprintf(why, len, "not a number of seconds above %g", min);
	else if (min > 0)
		snprintf(why, len, "not a number of seconds from %g", min);
	else
		snprintf(why, len, "not a number of seconds");
	if (isfinite(max))
		snprintf(why + strlen(why), len - strlen(why), o->type ==
		    OT_COUNT ? " to %.0f" : " to %g", max);
	return why;
}

/* What getopt_long did not like, in words (opterr is off). */
static void
complaint(char *buf, size_t len, int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		snprintf(buf, len, "option '%s' needs a value", arg);
	else if (optopt != 0 && optopt < OPT_BASE)
		snprintf(buf, len, "unknown option '-%c'", optopt);
	else
		snprintf(buf, len, "unknown option '%s'", arg);
	if (strncmp(arg, "--reply-timeout", 15) == 0 ||
	    strncmp(arg, "--socket", 8) == 0 || strncmp(arg, "-s", 2) == 0 ||
	    (strncmp(arg, "--timeout", 9) == 0 && c != ':'))
		snprintf(buf + strlen(buf), len - strlen(buf),
		    " (global options go before the command)");
}

/* A short option's getopt value (its letter) as OPT_BASE + index. */
static int
letter_index(const struct ctl_cmd *cmd, int c)
{
	if (c == OPT_HELP || c >= OPT_BASE || c == ':' || c == '?')
		return c;
	for (int i = 0; cmd->options != NULL && cmd->options[i].name != NULL;
	    i++)
		if (cmd->options[i].letter == c)
			return OPT_BASE + i;
	return c;
}

/*
 * argv[0] is the command's name.  Returns 0, 1 when --help was asked for,
 * or -1 with a usage mistake in why.
 */
int
args_parse(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv,
    struct ctl_args *a, char *why, size_t len)
{
	struct option lo[CTL_MAX_OPTS + 4];
	const struct ctl_opt *o;
	char wbuf[128], shorts[2 + 3 * CTL_MAX_OPTS + 1] = ":h";
	size_t ns = 2;
	const char *bad;
	int c, n = 0, nargs, idx = 0;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	lo[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	lo[n++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
	lo[n++] = (struct option){ "format", required_argument, NULL,
	    OPT_FORMAT };
	for (int i = 0; cmd->options != NULL && cmd->options[i].name != NULL;
	    i++) {
		lo[n++] = (struct option){ cmd->options[i].name,
		    args_takes_value(&cmd->options[i]) ? required_argument :
		    no_argument, NULL, OPT_BASE + i };
		if (cmd->options[i].letter != 0) {
			shorts[ns++] = (char)cmd->options[i].letter;
			if (args_takes_value(&cmd->options[i]))
				shorts[ns++] = ':';
		}
	}
	shorts[ns] = '\0';
	lo[n] = (struct option){ NULL, 0, NULL, 0 };

	opterr = 0;
	optind = 0;	/* glibc: start afresh on the command's argv */
	while ((c = getopt_long(argc, argv, shorts, lo, &idx)) != -1) {
		int letter = c < OPT_BASE && c != OPT_HELP && c != ':' &&
		    c != '?' ? c : 0;

		c = letter_index(cmd, c);
		switch (c) {
		case OPT_HELP:
			return 1;
		case OPT_JSON:
			ctl->format = OUT_JSON;
			continue;
		case OPT_FORMAT:
			if (output_format_parse(optarg, &ctl->format) == -1) {
				snprintf(why, len, "--format '%s': not one of "
				    "text, json, tsv", optarg);
				return -1;
			}
			continue;
		}
		if (c < OPT_BASE) {
			complaint(why, len, c, argv);
			return -1;
		}
		o = &cmd->options[c - OPT_BASE];
		if (c >= OPT_BASE)
			a->letter[c - OPT_BASE] = (char)letter;
		if ((bad = check_value(o, optarg != NULL ? optarg : "",
		    &a->num[c - OPT_BASE], wbuf, sizeof(wbuf))) != NULL) {
			snprintf(why, len, "%s%s '%s': %s", letter != 0 ? "-" :
			    "--", letter != 0 ? (char[]){ (char)letter, '\0' } :
			    o->name, optarg, bad);
			return -1;
		}
		a->value[c - OPT_BASE] = optarg != NULL ? optarg : "";
	}

	nargs = argc - optind;
	if (nargs > 0 && (cmd->flags & (CMD_TARGET_OPT | CMD_TARGET_REQ)))
		a->target = argv[optind++], nargs--;
	if (nargs > 0) {
		snprintf(why, len, "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if ((cmd->flags & CMD_TARGET_REQ) && a->target == NULL) {
		snprintf(why, len, "a TARGET is required");
		return -1;
	}
	if (a->target != NULL && a->target[0] == '\0') {
		snprintf(why, len, "empty TARGET");
		return -1;
	}
	for (int i = 0; cmd->options != NULL && cmd->options[i].name != NULL;
	    i++) {
		if ((cmd->options[i].flags & OPT_REQUIRED) &&
		    a->value[i] == NULL) {
			snprintf(why, len, "--%s is required",
			    cmd->options[i].name);
			return -1;
		}
	}
	if (ctl->format == OUT_TSV && cmd->tsv == NULL) {
		snprintf(why, len, "--format tsv: %s has no rows to print "
		    "(use text or json)", cmd->name);
		return -1;
	}
	if (cmd->check != NULL && cmd->check(a, why, len) == -1)
		return -1;
	return 0;
}
