/*
 * The replica's apply rate: bytes of the master's binlog its SQL thread
 * executed per second, from the executed position of the last few polls.
 * With the position lag in bytes it answers "how long until it catches up".
 * Positions compare only inside one binlog file, so a pair of polls across a
 * file change (or back in one file: replication set up anew) counts neither
 * its bytes nor its time.  Fixed size, pure logic, no I/O.
 */
#ifndef RW_APPLYRATE_H
#define RW_APPLYRATE_H
#include <stddef.h>
#include <stdint.h>

#define APPLYRATE_POLLS		10		/* pairs of polls averaged */
#define APPLYRATE_MAX_AGE_MS	60000	/* older polls do not count */

struct applyrate {
	struct {
		uint64_t	 ms;		/* monotonic */
		unsigned long long pos;
		unsigned	 file;		/* generation of the file name */
	}		 s[APPLYRATE_POLLS + 1];
	size_t		 n, next;
	char		 file[256];	/* the newest sample's file */
	unsigned	 gen;
};

void	applyrate_reset(struct applyrate *);
/*
 * One poll's executed position (Relay_Master_Log_File and
 * Exec_Master_Log_Pos); NULL or a position that is not a number forgets
 * every sample, since what follows cannot be compared with them.
 */
void	applyrate_add(struct applyrate *, uint64_t mono_ms, const char *file,
	    const char *pos);
/* Bytes per second at now_ms, or -1 when unknown (fewer than two polls). */
double	applyrate_get(const struct applyrate *, uint64_t now_ms);

#endif
