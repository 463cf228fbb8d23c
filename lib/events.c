/*
 * The last state changes and actions, in a ring allocated once so a flapping
 * target cannot grow the daemon.  seq keeps counting across drops, so a client
 * that polls `events` can tell it missed some.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "timefmt.h"
#include "xmalloc.h"

struct events {
	size_t		 cap;
	size_t		 n;
	size_t		 next;		/* slot the next event goes to */
	uint64_t	 seq;		/* of the last event added */
	struct rw_event	*ring;
};

struct events *
events_new(size_t capacity)
{
	struct events *ev;

	ev = xcalloc(1, sizeof *ev);
	ev->cap = capacity > 0 ? capacity : 1;
	ev->ring = xcalloc(ev->cap, sizeof *ev->ring);
	return ev;
}

void
events_free(struct events *ev)
{
	if (ev == NULL)
		return;
	free(ev->ring);
	free(ev);
}

/*
 * How many bytes of s fit in a buffer of size len, not cutting a UTF-8
 * sequence in half: the text ends up in JSON, and a torn character makes the
 * whole reply invalid for a strict reader.
 */
static size_t
fit(const char *s, size_t len)
{
	size_t n = strlen(s);

	if (n < len)
		return n;
	n = len - 1;
	/* Back up over continuation bytes to the start of the torn character. */
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

static void
copy(char *dst, size_t len, const char *src)
{
	size_t n;

	if (src == NULL)
		src = "";
	n = fit(src, len);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

const struct rw_event *
events_add(struct events *ev, int64_t ts_ms, const char *target,
    const char *from, const char *to, const char *reason)
{
	struct rw_event *e = &ev->ring[ev->next];

	memset(e, 0, sizeof *e);
	e->seq = ++ev->seq;
	e->ts_ms = ts_ms;
	copy(e->target, sizeof e->target, target);
	copy(e->from, sizeof e->from, from);
	copy(e->to, sizeof e->to, to);
	copy(e->reason, sizeof e->reason, reason);
	ev->next = (ev->next + 1) % ev->cap;
	if (ev->n < ev->cap)
		ev->n++;
	return e;
}

const struct rw_event *
events_add_action(struct events *ev, int64_t ts_ms, const char *target,
    const char *kind, const char *state, const char *reason, const char *by,
    unsigned err_no, int64_t until_ms)
{
	struct rw_event *e;

	e = (struct rw_event *)events_add(ev, ts_ms, target, state, state,
	    reason);
	copy(e->kind, sizeof e->kind, kind);
	copy(e->by, sizeof e->by, by);
	e->err_no = err_no;
	e->until_ms = until_ms;
	return e;
}

size_t
events_count(const struct events *ev)
{
	return ev->n;
}

const struct rw_event *
events_get(const struct events *ev, size_t i)
{
	if (i >= ev->n)
		return NULL;
	return &ev->ring[(ev->next + ev->cap - ev->n + i) % ev->cap];
}

cJSON *
event_to_json(const struct rw_event *e)
{
	char ts[64];
	cJSON *o;

	timefmt_iso8601(e->ts_ms, ts, sizeof ts);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "seq", (double)e->seq);
	cJSON_AddStringToObject(o, "ts", ts);
	cJSON_AddNumberToObject(o, "ts_unix_ms", (double)e->ts_ms);
	cJSON_AddStringToObject(o, "target", e->target);
	cJSON_AddStringToObject(o, "from", e->from);
	cJSON_AddStringToObject(o, "to", e->to);
	cJSON_AddStringToObject(o, "reason", e->reason);
	cJSON_AddStringToObject(o, "kind", e->kind[0] != '\0' ? e->kind :
	    "state_change");
	if (e->kind[0] == '\0')
		return o;
	if (e->by[0] != '\0')
		cJSON_AddStringToObject(o, "by", e->by);
	else
		cJSON_AddNullToObject(o, "by");
	if (e->err_no != 0)
		cJSON_AddNumberToObject(o, "errno", e->err_no);
	if (e->until_ms != 0) {
		timefmt_iso8601(e->until_ms, ts, sizeof ts);
		cJSON_AddStringToObject(o, "until", ts);
		cJSON_AddNumberToObject(o, "until_unix_ms", (double)e->until_ms);
	}
	return o;
}

/* A name longer than the field was stored cut; compare it cut the same way. */
static int
is_target(const struct rw_event *e, const char *target)
{
	size_t n;

	if (target == NULL)
		return 1;
	n = fit(target, sizeof e->target);
	return strlen(e->target) == n && memcmp(e->target, target, n) == 0;
}

cJSON *
events_to_json(const struct events *ev, const char *target, size_t max)
{
	size_t first = ev->n, found = 0;
	cJSON *a;

	/* Walk back from the newest to find where the newest max begin. */
	while (first > 0 && found < max) {
		if (is_target(events_get(ev, first - 1), target))
			found++;
		first--;
	}
	a = cJSON_CreateArray();
	for (size_t i = first; i < ev->n; i++) {
		const struct rw_event *e = events_get(ev, i);

		if (is_target(e, target))
			cJSON_AddItemToArray(a, event_to_json(e));
	}
	return a;
}
