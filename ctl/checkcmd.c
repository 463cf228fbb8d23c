/*
 * check's entry.  check.c keeps the handler it had before commands were
 * table entries; this adapts the parsed options to it (and goes away once
 * check.c carries its own entry).
 */
#include <stdio.h>

#include "ctl.h"

static const struct ctl_opt check_opts[] = {
	{ .name = "warn", .type = OT_SECONDS, .arg = "S",
	  .help = "WARNING at a lag of S seconds or more" },
	{ .name = "crit", .type = OT_SECONDS, .arg = "S",
	  .help = "CRITICAL at a lag of S seconds or more\n"
	  "(default: the daemon's lag_warn_s and lag_crit_s)" },
	{ NULL }
};

static int
check_check(const struct ctl_args *a, char *why, size_t len)
{
	double w = args_num(a, "warn", -1), c = args_num(a, "crit", -1);

	if (w >= 0 && c >= 0 && w > c) {
		snprintf(why, len, "--warn %g is above --crit %g", w, c);
		return -1;
	}
	return 0;
}

static int
check_exec(struct ctl *ctl, const struct ctl_args *a)
{
	struct cmd_args ca = {
		.target = a->target,
		.warn_s = args_num(a, "warn", -1),
		.crit_s = args_num(a, "crit", -1),
	};

	return cmd_check(ctl, &ca);
}

const struct ctl_cmd cmd_check_entry = {
	.name = "check",
	.flags = CMD_TARGET_REQ | CMD_PLUGIN,
	.options = check_opts,
	.usage = "TARGET [--warn S] [--crit S]",
	.summary = "monitoring-plugin check (exit 0-3)",
	.help =
	    "Monitoring-plugin check (Nagios, Icinga): one line with the status\n"
	    "and performance data; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n",
	.check = check_check,
	.exec = check_exec,
};
