/* A bounded ring of state changes and actions; the oldest is dropped. */
#ifndef RW_EVENTS_H
#define RW_EVENTS_H
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct rw_event {
	uint64_t	 seq;		/* increasing, from 1 */
	int64_t		 ts_ms;		/* wall clock, ms since the epoch */
	char		 target[64];
	char		 from[32];
	char		 to[32];
	char		 reason[512];
};

struct events;

struct events *events_new(size_t capacity);
void	events_free(struct events *);
/* Append; copies and truncates strings; returns the stored event. */
const struct rw_event *events_add(struct events *, int64_t ts_ms,
	    const char *target, const char *from, const char *to,
	    const char *reason);
size_t	events_count(const struct events *);
/* i = 0 is the oldest kept; NULL past the end. */
const struct rw_event *events_get(const struct events *, size_t i);
cJSON	*event_to_json(const struct rw_event *);
/* The newest max events of target (NULL: all), oldest first, as an array. */
cJSON	*events_to_json(const struct events *, const char *target, size_t max);

#endif
