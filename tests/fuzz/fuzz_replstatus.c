/*
 * libFuzzer harness for replstatus_parse and replstatus_to_json: a status row
 * is the one thing the daemon takes verbatim from a server it does not own.
 *
 * Build and run by hand:
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -Ilib tests/fuzz/fuzz_replstatus.c lib/replstatus.c lib/xmalloc.c \
 *       $(pkg-config --cflags --libs libcjson) -o fuzz_replstatus
 *   ./fuzz_replstatus -max_total_time=60
 *
 * Input: fields separated by '\n', taken as name, value, name, value, ...
 * A value of exactly "\N" is SQL NULL (mysql's own spelling of it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replstatus.h"
#include "xmalloc.h"

#define MAX_COLS	256	/* real rows have < 100; more only slows fuzzing */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Every typed field must point into cols[] or be NULL. */
static void
check_ptr(const struct rw_status *st, const char *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < st->ncols; i++)
		if (st->cols[i].value == p)
			return;
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *names[MAX_COLS], *values[MAX_COLS];
	struct rw_status st;
	char *buf, *p, *field, *text;
	size_t n = 0;
	cJSON *j;
	int is_name = 1;

	buf = xmalloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';

	for (p = buf; n < MAX_COLS && p != NULL; is_name = !is_name) {
		field = strsep(&p, "\n");
		if (is_name)
			names[n] = field;
		else
			values[n++] = strcmp(field, "\\N") == 0 ? NULL : field;
	}

	replstatus_parse(&st, names, values, n);
	if ((n == 0) != (st.configured == 0) || st.ncols != n)
		abort();
	check_ptr(&st, st.master_host);
	check_ptr(&st, st.read_master_log_pos);
	check_ptr(&st, st.exec_master_log_pos);
	check_ptr(&st, st.last_io_error);
	check_ptr(&st, st.last_sql_error);
	if (st.seconds_behind < -1 || st.sql_delay < -1 ||
	    st.sql_remaining_delay < -1)
		abort();
	for (size_t i = 0; i < n; i++)
		(void)replstatus_get(&st, names[i]);

	j = replstatus_to_json(&st);
	text = cJSON_PrintUnformatted(j);
	if (text == NULL)
		abort();
	free(text);
	cJSON_Delete(j);
	replstatus_clear(&st);
	free(buf);
	return 0;
}
