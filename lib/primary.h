/*
 * The new primary of a promoted target, still watched: every poll gives a
 * sample (did it answer, its read-only switches, its binlog position), and
 * primary_update() keeps what the status shows of it and picks the
 * target's state among promoted, primary_read_only and primary_unreachable.
 * A primary that stops answering counts only after `hysteresis` polls in a
 * row; one that refuses writes counts at once.  Pure logic, no I/O.
 */
#ifndef RW_PRIMARY_H
#define RW_PRIMARY_H
#include <stddef.h>
#include <stdint.h>

#include "health.h"

/* What one poll of the new primary saw. */
struct rw_primary_sample {
	enum {
		PSAMPLE_ANSWERED,	/* the read-only switches were read */
		PSAMPLE_UNREACHABLE,	/* connect failed, link lost, deadline */
		PSAMPLE_QUERY_ERROR	/* connected, the switches unreadable */
	} kind;
	const char	*error;		/* why not answered; never a secret */
	int		 read_only;	/* 0, 1; -1 unknown */
	int		 innodb_read_only;	/* -1 unknown */
	int		 super_read_only;	/* -1: none (MariaDB) or unknown */
	int		 rds;		/* read_only is the DB parameter group's */
	const char	*binlog_file;	/* NULL: binary log off or unreadable */
	const char	*binlog_pos;
};

/* What the status shows of the new primary: the newest poll's facts. */
struct rw_primary {
	int		 checked;	/* a poll has been recorded */
	int		 reachable;	/* connected and answering */
	int		 read_only;	/* -1 unknown */
	int		 innodb_read_only;
	int		 super_read_only;
	int		 writable;	/* -1 unknown */
	char		 why_not[512];	/* "" when writable or unknown */
	char		 binlog_file[256];	/* "" unknown */
	unsigned long long binlog_pos;
	int		 have_pos;
	int		 binlog_moving;	/* -1 until two answered polls in a row */
	unsigned	 failures;	/* polls in a row without an answer */
	int64_t		 checked_ms;	/* the caller's wall clock; 0 never */
};

void	primary_init(struct rw_primary *);
/* promoted, primary_read_only, primary_unreachable: the new primary is watched. */
int	primary_watched(enum rw_health);
/*
 * A read-only switch as the server shows it: "0"/"OFF" is 0; "1", "ON" and
 * any other word (MariaDB 11.8's read_only = NO_LOCK, ...) is 1, since a
 * mode we do not know may refuse writes; NULL is -1.
 */
int	primary_parse_switch(const char *);
/*
 * Take a sample into p and return the state it calls for, the target being
 * in cur (one of primary_watched()'s); the reason goes into reason.
 */
enum rw_health primary_update(struct rw_primary *, const struct rw_primary_sample *,
	    enum rw_health cur, unsigned hysteresis, char *reason, size_t len);

#endif
