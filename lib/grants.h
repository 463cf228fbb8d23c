/*
 * What one of the daemon's accounts may do on one server, judged from what
 * the server says it granted (SHOW GRANTS FOR CURRENT_USER(), plus the rows
 * of the roles it has enabled), never assumed.  doctor asks, per task, and
 * says what is missing and the GRANT that fixes it.  Pure logic: no
 * database here.
 */
#ifndef RW_GRANTS_H
#define RW_GRANTS_H
#include <stddef.h>

#include "flavor.h"

/* Everything the daemon runs, by what it is for. */
enum grants_task {
	GT_MONITOR,		/* replica: replication status (or rds_replica_status) */
	GT_SETUP,		/* replica: CHANGE MASTER TO / rds_set_external_* */
	GT_START_STOP,		/* replica: START/STOP SLAVE / rds_*_replication */
	GT_RESET,		/* replica: RESET SLAVE ALL / rds_reset_external_* */
	GT_SKIP_ERROR,		/* replica: skip-error */
	GT_FREEZE,		/* old master: read_only, FTWRL, kill sessions, lock */
	GT_CATCHUP,		/* old master: binlog position; replica: wait for it */
	GT_HEARTBEAT_WRITE,	/* old master: write the heartbeat table */
	GT_HEARTBEAT_READ,	/* replica: read the heartbeat table */
	GT_VERIFY_MASTER,	/* old master: verify's checksum statements */
	GT_VERIFY_REPLICA,	/* replica: read verify's results */
	GT_PRIMARY_WATCH,	/* promoted replica: read_only, binlog position */
	GT__COUNT
};

struct grants;			/* one account's parsed grants */

/* What the verdict is about. */
struct grants_ctx {
	const struct rw_flavor *fl;	/* the server's kind */
	const char	*account;	/* CURRENT_USER() as 'user'@'host' for the fix */
	const char	*heartbeat_table;	/* "schema.table" */
	const char	*checksum_table;	/* "schema.table" (verify) */
};

struct grants_verdict {
	enum grants_task task;
	int		 ok;		/* 1: granted; 0: something is missing */
	char		 missing[256];	/* what, and for which statement */
	char		 fix[512];	/* the GRANT (or RDS step) that fixes it */
};

/* Parse SHOW GRANTS rows (lines[n]); NULL only on a row it cannot read. */
struct grants	*grants_parse(const char *const *lines, size_t n,
		    char *err, size_t errlen);
void		 grants_free(struct grants *);
const char	*grants_task_name(enum grants_task);
/* Judge one task for an account: fills *v; returns v->ok. */
int		 grants_judge(const struct grants *, enum grants_task,
		    const struct grants_ctx *, struct grants_verdict *v);

#endif
