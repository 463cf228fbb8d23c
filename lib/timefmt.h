/*
 * Time as text, for the daemon and the client alike: the one format
 * replwatch writes times in, and the forms servers and tools write them
 * (the clocks are clock.h).
 *
 * Written: ISO 8601 with milliseconds, in UTC ("...Z") in JSON and in the
 * local time with its offset ("+01:00") for people (the log, text output).
 * Read and written: pt-heartbeat's ts column,
 * "YYYY-MM-DDTHH:MM:SS.ffffff" in UTC (--utc) or in the local time of the
 * host that wrote it.  Read: a DATETIME(6), "YYYY-MM-DD HH:MM:SS.ffffff".
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

/*
 * unix_us as pt-heartbeat writes ts, 2026-12-02T10:40:02.123456, in UTC
 * (utc != 0) or in local time; returns buf.  Always six decimals, so that
 * timefmt_parse_datetime() gives the same microseconds back.
 */
char	*timefmt_heartbeat(int64_t unix_us, int utc, char *buf, size_t len);
/* unix_ms as 2026-12-02T10:40:02.123Z (UTC, milliseconds); returns buf. */
char	*timefmt_iso8601(int64_t unix_ms, char *buf, size_t len);
/* unix_ms as 2026-12-02T11:40:02.123+01:00 (local time and its offset). */
char	*timefmt_local(int64_t unix_ms, char *buf, size_t len);

#endif
