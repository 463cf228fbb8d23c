/*
 * A target's state as the JSON objects of doc/PROTOCOL.md.  Built on demand
 * for a request, never on the poll path.
 */
#ifndef RW_SNAPSHOT_H
#define RW_SNAPSHOT_H
#include <stddef.h>

#include <cjson/cJSON.h>

#include "daemon.h"

cJSON	*snapshot_status(struct target *);
cJSON	*snapshot_lag(struct target *);
cJSON	*snapshot_history(struct target *, size_t samples);
cJSON	*snapshot_sample(struct target *);	/* a watch "sample" event */
/* The promotion of a target (promote.c), or JSON null. */
cJSON	*snapshot_promotion(struct target *);
/* One line for sd_notify STATUS= and logs. */
void	 snapshot_summary(struct target *, char *buf, size_t len);

#endif
