/*
 * Every command of replwatchctl, in the order --help lists them.  A new
 * command is an entry in its own file (options, rules, request, output,
 * exec), one line here, and its part of replwatchctl(8); its help and
 * bash completion come from the entry.
 */
#include <stddef.h>

#include "ctl.h"

extern const struct ctl_cmd cmd_hello_entry, cmd_status_entry,
    cmd_lag_entry, cmd_history_entry, cmd_events_entry, cmd_watch_entry,
    cmd_check_entry, cmd_wait_entry, cmd_setup_entry, cmd_start_entry,
    cmd_stop_entry, cmd_promote_entry, cmd_abort_entry, cmd_unfence_entry,
    cmd_skip_error_entry, cmd_mute_entry, cmd_unmute_entry,
    cmd_reload_entry;

const struct ctl_cmd *const ctl_commands[] = {
	&cmd_hello_entry,
	&cmd_status_entry,
	&cmd_lag_entry,
	&cmd_history_entry,
	&cmd_events_entry,
	&cmd_watch_entry,
	&cmd_check_entry,
	&cmd_wait_entry,
	&cmd_setup_entry,
	&cmd_start_entry,
	&cmd_stop_entry,
	&cmd_promote_entry,
	&cmd_abort_entry,
	&cmd_unfence_entry,
	&cmd_skip_error_entry,
	&cmd_mute_entry,
	&cmd_unmute_entry,
	&cmd_reload_entry,
	NULL
};
