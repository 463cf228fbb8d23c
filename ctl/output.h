/*
 * Everything replwatchctl prints on stdout comes from a JSON object through
 * output_print(): with --json the object itself on one line, otherwise one
 * of the human formatters below, which read the same object.  So human and
 * --json output cannot disagree (chronyc's print_report and -c).
 */
#ifndef CTL_OUTPUT_H
#define CTL_OUTPUT_H
#include <stddef.h>

#include <cjson/cJSON.h>

typedef void	output_fn(const cJSON *);

void	output_init(int json, int colour);
void	output_print(output_fn *, const cJSON *);

output_fn	output_hello;
output_fn	output_status;		/* one target object, or {"targets": []} */
output_fn	output_lag;
output_fn	output_history;
output_fn	output_events;
output_fn	output_watch_event;
output_fn	output_check;
output_fn	output_wait;
output_fn	output_setup;
output_fn	output_start;
output_fn	output_stop;
output_fn	output_abort;
output_fn	output_unfence;
output_fn	output_reload;
output_fn	output_promote_event;	/* a step or report event */
output_fn	output_promote_report;

/*
 * On a terminal a running step's line is rewritten by its end; this ends
 * such a line before anything else is printed.
 */
void	output_promote_close(void);
void	output_set_tty(int);

/* Shared formatting, also for progress lines on stderr. */
const char *output_lag_text(char *, size_t, const cJSON *lag_ms);
const char *output_dash(void);
const char *output_ellipsis(void);

#endif
