/*
 * One row of SHOW SLAVE STATUS / SHOW REPLICA STATUS (or the result of
 * mysql.rds_replica_status()), read by column name in either vocabulary
 * (Master_/Slave_ or Source_/Replica_) into struct rw_status.  Every column,
 * known or not, is kept verbatim in cols[] so nothing the server said is lost.
 * Positions and GTIDs stay strings: they may exceed 2^53.
 */
#ifndef RW_REPLSTATUS_H
#define RW_REPLSTATUS_H
#include <stddef.h>

#include <cjson/cJSON.h>

enum rw_thread { THREAD_UNKNOWN, THREAD_NO, THREAD_YES, THREAD_CONNECTING,
	THREAD_PREPARING };

struct rw_column {
	char	*name;		/* as the server sent it */
	char	*value;		/* NULL: SQL NULL */
};

struct rw_status {
	int		 configured;	/* 0: the statement returned no row */
	enum rw_thread	 io;
	enum rw_thread	 sql;
	long long	 seconds_behind;	/* -1: NULL */
	const char	*master_host;	/* these point into cols[]; NULL if absent */
	const char	*master_port;
	const char	*master_log_file;	/* read by the IO thread */
	const char	*read_master_log_pos;
	const char	*relay_master_log_file;	/* executed by the SQL thread */
	const char	*exec_master_log_pos;
	const char	*master_server_id;
	const char	*using_gtid;
	const char	*gtid_io_pos;
	const char	*sql_state;	/* Slave_SQL_Running_State */
	long long	 sql_delay;	/* -1: absent */
	long long	 sql_remaining_delay;	/* -1: NULL */
	unsigned	 last_io_errno;
	const char	*last_io_error;
	unsigned	 last_sql_errno;
	const char	*last_sql_error;
	struct rw_column *cols;
	size_t		 ncols;
};

/*
 * Fill st from one row; names[i]/values[i] for i < n (values[i] NULL for SQL
 * NULL).  Copies everything.  With n == 0, st says "not configured".
 */
void	replstatus_parse(struct rw_status *st, const char *const *names,
	    const char *const *values, size_t n);
void	replstatus_clear(struct rw_status *);	/* free and zero */
const char *replstatus_get(const struct rw_status *, const char *name);
const char *replstatus_thread_name(enum rw_thread);

/*
 * The status as JSON: {"configured":…,"io_running":"Yes",…,"columns":{…}}.
 * Positions as strings, seconds_behind_master as a number or null.
 */
cJSON	*replstatus_to_json(const struct rw_status *);

#endif
