#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applyrate.h"

#define SLOTS	(APPLYRATE_POLLS + 1)

void
applyrate_reset(struct applyrate *a)
{
	memset(a, 0, sizeof *a);
}

static int
parse_pos(const char *s, unsigned long long *v)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return *end != '\0' || errno != 0 ? -1 : 0;
}

void
applyrate_add(struct applyrate *a, uint64_t mono_ms, const char *file,
    const char *pos)
{
	unsigned long long p;

	if (file == NULL || *file == '\0' || parse_pos(pos, &p) == -1) {
		applyrate_reset(a);
		return;
	}
	if (a->n == 0 || strcmp(a->file, file) != 0) {
		snprintf(a->file, sizeof a->file, "%s", file);
		a->gen++;
	}
	a->s[a->next].ms = mono_ms;
	a->s[a->next].pos = p;
	a->s[a->next].file = a->gen;
	a->next = (a->next + 1) % SLOTS;
	if (a->n < SLOTS)
		a->n++;
}

double
applyrate_get(const struct applyrate *a, uint64_t now_ms)
{
	unsigned long long bytes = 0;
	uint64_t ms = 0;
	size_t i, prev, cur;

	/* Oldest to newest: slot (next - n + i) mod SLOTS. */
	for (i = 1; i < a->n; i++) {
		prev = (a->next + SLOTS - a->n + i - 1) % SLOTS;
		cur = (a->next + SLOTS - a->n + i) % SLOTS;
		if (a->s[prev].ms + APPLYRATE_MAX_AGE_MS < now_ms ||
		    a->s[cur].ms <= a->s[prev].ms ||
		    a->s[cur].file != a->s[prev].file ||
		    a->s[cur].pos < a->s[prev].pos)
			continue;
		bytes += a->s[cur].pos - a->s[prev].pos;
		ms += a->s[cur].ms - a->s[prev].ms;
	}
	if (ms == 0)
		return -1;
	return (double)bytes * 1000.0 / (double)ms;
}
