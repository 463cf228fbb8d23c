/*
 * Everything replwatchctl prints on stdout comes from a JSON object: with
 * --format json the object itself on one line, otherwise the command's
 * text (or tsv) printer, which reads the same object.  So the formats
 * cannot disagree (chronyc's print_report and -c).  The helpers below are
 * what the printers of every command share.
 */
#ifndef CTL_OUTPUT_H
#define CTL_OUTPUT_H
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

enum out_format {
	OUT_TEXT,
	OUT_JSON,
	OUT_TSV
};

typedef void	output_fn(const cJSON *);

void	output_init(enum out_format, int colour);
enum out_format output_format(void);
int	output_format_parse(const char *, enum out_format *);
/* The object as JSON, or through fn (text or tsv, as the caller chose). */
void	output_print(output_fn *, const cJSON *);

/* check's verdict (check.c builds it). */

/* -- reading the JSON without tripping on null or missing members -- */
const char *out_str(const cJSON *, const char *key);
int	 out_num(const cJSON *, const char *key, double *);
const cJSON *out_obj(const cJSON *, const char *key);
int	 out_true(const cJSON *, const char *key);
/* A string, number or boolean member as text; the dash when absent. */
const char *out_text(char *, size_t, const cJSON *, const char *key);

/* -- text -- */
const char *out_dash(void);
const char *out_ellipsis(void);
const char *out_number(char *, size_t, double);
const char *out_duration(char *, size_t, double secs);	/* 1h02m */
const char *out_ms(char *, size_t, double ms);		/* 3.2 ms, 1.50 s */
const char *output_lag_text(char *, size_t, const cJSON *lag_ms);
/* A lag object: "120 ms (heartbeat)". */
const char *out_lag_summary(char *, size_t, const cJSON *lag);
/* "file:pos" from two members; the dash without a file. */
const char *out_binlog_pos(char *, size_t, const cJSON *, const char *fk,
	    const char *pk);
/* The one time format: local time with its UTC offset (timefmt_local). */
const char *out_time(char *, size_t, int64_t unix_ms);
/* A time member: key_unix_ms, else the ISO 8601 string key; NULL: none. */
const char *out_time_member(char *, size_t, const cJSON *, const char *key);
int	 out_width(const char *);
void	 out_padded(const char *, int width, const char *colour);
/* A health state, coloured by its severity (lib/health.h). */
void	 out_state(const char *, int width);
/* Colours for words that are not health states. */
const char *out_colour_good(void);
const char *out_colour_fair(void);
const char *out_colour_bad(void);

/* -- tsv: a header line, then rows; tab, newline, \ escaped -- */
void	 tsv_row(const char *const *fields, int n);
/* A member as a tsv field: "" when null or absent. */
const char *tsv_member(char *, size_t, const cJSON *, const char *key);

#endif
