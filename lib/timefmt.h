/*
 * Times as servers and tools write them.  pt-heartbeat's ts column is
 * "YYYY-MM-DDTHH:MM:SS.ffffff" in UTC (--utc) or in the local time of the
 * host that wrote it; a DATETIME(6) reads back as "YYYY-MM-DD HH:MM:SS.ffffff".
 */
#ifndef RW_TIMEFMT_H
#define RW_TIMEFMT_H
#include <stddef.h>
#include <stdint.h>

/*
 * Parse either form (fraction optional, 1 to 6 digits) into microseconds
 * since the epoch, reading it as UTC (utc != 0) or in the process's local
 * time zone.  -1 on anything else.
 */
int	timefmt_parse_datetime(const char *, int utc, int64_t *unix_us);

/* unix_ms as 2026-12-02T10:40:02.123Z (UTC, milliseconds). */
void	timefmt_iso8601(int64_t unix_ms, char *buf, size_t len);

#endif
