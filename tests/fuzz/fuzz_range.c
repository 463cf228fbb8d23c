/*
 * libFuzzer target for range_parse (check's -w and -c).  Besides "does not
 * crash": an accepted range keeps its text verbatim, has start <= end and
 * no NaN, and a refusal always says why.
 *
 * make fuzz builds and runs it with the others; by hand, from the top of
 * the tree:
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
 *	    -D_GNU_SOURCE -Ilib -o tests/fuzz/fuzz_range \
 *	    tests/fuzz/fuzz_range.c lib/[a-z]*.c $(pkg-config --cflags --libs \
 *	    libmariadb libevent libsystemd libcjson inih) -lm
 *	mkdir -p /tmp/corpus && ./tests/fuzz/fuzz_range -max_len=100 \
 *	    -max_total_time=60 /tmp/corpus
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "range.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rw_range r;
	char s[128], err[256];

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	err[0] = '\0';
	if (range_parse(s, &r, err, sizeof(err)) == 0) {
		if (strcmp(r.text, s) != 0 || isnan(r.start) || isnan(r.end) ||
		    r.start > r.end)
			abort();
		/* Either side of a finite end, and the end itself. */
		(void)range_judge(&r, &r, r.end);
		(void)range_alert(&r, 0);
	} else if (err[0] == '\0')
		abort();
	return 0;
}
