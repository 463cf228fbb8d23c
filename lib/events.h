/*
 * A bounded ring of state changes and actions; the oldest is dropped.  An
 * action (an operator's skip_error, mute, unmute, or a mute's expiry) keeps
 * the state it happened in as both from and to, and says who did it.
 */
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
	char		 kind[24];	/* "" for a state change; else the action */
	char		 by[64];	/* who ("uid 0"); "" unknown or the daemon */
	unsigned	 err_no;	/* error_skipped: the SQL error skipped */
	int64_t		 until_ms;	/* muted: until when (wall clock) */
};

struct events;

struct events *events_new(size_t capacity);
void	events_free(struct events *);
/* Append; copies and truncates strings; returns the stored event. */
const struct rw_event *events_add(struct events *, int64_t ts_ms,
	    const char *target, const char *from, const char *to,
	    const char *reason);
/* Append an action: kind, the state it happened in, who, details. */
const struct rw_event *events_add_action(struct events *, int64_t ts_ms,
	    const char *target, const char *kind, const char *state,
	    const char *reason, const char *by, unsigned err_no,
	    int64_t until_ms);
size_t	events_count(const struct events *);
/* i = 0 is the oldest kept; NULL past the end. */
const struct rw_event *events_get(const struct events *, size_t i);
cJSON	*event_to_json(const struct rw_event *);
/* The newest max events of target (NULL: all), oldest first, as an array. */
cJSON	*events_to_json(const struct events *, const char *target, size_t max);

#endif
