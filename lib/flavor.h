/*
 * Server kinds and the SQL each needs.  The kind is detected from what the
 * server has (VERSION(), @@version_comment, the mysql.rds_* routines in
 * information_schema.ROUTINES), or forced in the configuration.  This is the
 * only place that knows the statements and procedure names.
 */
#ifndef RW_FLAVOR_H
#define RW_FLAVOR_H
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct db;

/*
 * How a string becomes a single-quoted SQL literal.  Only the session that
 * runs the statement can say: with NO_BACKSLASH_ESCAPES in its sql_mode a
 * backslash is an ordinary character (\' ends the string there), and its
 * character set decides where a character ends.  So every statement below
 * with a string in it is built with that session's quoter, db_quote() on
 * its struct db (a fake one in the unit tests); quote returns the literal
 * with its quotes, malloc'd.  Nothing here escapes by hand.
 */
struct sql_quoter {
	char		*(*quote)(struct db *, const char *);
	struct db	*db;
};

/* Which mysql.rds_* procedures exist (bits). */
#define RDS_SET_EXTERNAL_MASTER		0x0001
#define RDS_SET_EXTERNAL_SOURCE		0x0002
#define RDS_SET_EXTERNAL_MASTER_GTID	0x0004
#define RDS_START_REPLICATION		0x0008
#define RDS_STOP_REPLICATION		0x0010
#define RDS_RESET_EXTERNAL_MASTER	0x0020
#define RDS_RESET_EXTERNAL_SOURCE	0x0040
#define RDS_REPLICA_STATUS		0x0080
#define RDS_SKIP_REPL_ERROR		0x0100

struct rw_flavor {
	enum rw_flavor_choice kind;	/* never FLAVOR_AUTO once detected */
	int		 mariadb;	/* server is MariaDB (else MySQL) */
	unsigned	 version;	/* 10.11.6 -> 101106; 8.0.36 -> 80036 */
	unsigned	 rds;		/* RDS_* bits */
	int		 status_denied;	/* SHOW ... STATUS gave 1227: use the procedure */
	char		 version_str[64];
};

/*
 * The query whose answer flavor_detect_probe() reads: one result set with
 * columns version, version_comment and routine, one row per mysql.rds_*
 * routine the user can see (a single row with routine NULL when none).
 */
extern const char *const flavor_probe_sql;

/* Detect from the probe's rows (names[ncols], values row-major); -1: no row. */
int	flavor_detect_probe(struct rw_flavor *, enum rw_flavor_choice forced,
	    const char *const *names, const char *const *values, unsigned ncols,
	    size_t nrows);

/*
 * Detect from the probe's row: version, version_comment, and a comma-
 * separated list of mysql.rds_* routine names.  forced != FLAVOR_AUTO wins
 * for the kind (but version and procedures are still recorded).
 */
void	flavor_detect(struct rw_flavor *, enum rw_flavor_choice forced,
	    const char *version, const char *version_comment,
	    const char *routines);
const char *flavor_name(const struct rw_flavor *);
int	flavor_is_rds(const struct rw_flavor *);

/* Statements; constant strings. */
const char *flavor_status_sql(const struct rw_flavor *);
const char *flavor_start_sql(const struct rw_flavor *);
const char *flavor_stop_sql(const struct rw_flavor *);
const char *flavor_reset_sql(const struct rw_flavor *);
const char *flavor_master_status_sql(const struct rw_flavor *);	/* of a master */
/*
 * Skip the event the SQL thread stopped on: step 0, 1, ... until NULL, run
 * in order on one session.  Constant strings.
 */
const char *flavor_skip_error_sql(const struct rw_flavor *, unsigned step);

/*
 * The column aliases below (ro, gtid, got, hb_us, hb_ts, plugin) are what
 * the callers read the answers by: a new spelling of a statement must keep
 * them.
 */

/* read_only as column ro (0 or 1). */
const char *flavor_read_only_sql(void);
/*
 * A master's read_only, executed GTID set and server_id (which names its
 * pt-heartbeat row), as columns ro, gtid and server_id.
 */
const char *flavor_master_vars_sql(const struct rw_flavor *);
/*
 * A promoted replica's read-only switches, as columns ro, iro
 * (innodb_read_only) and sro (super_read_only: NULL where the server has
 * none, MariaDB and MySQL before 5.7.8).
 */
const char *flavor_primary_vars_sql(const struct rw_flavor *);
/* A master's executed GTID set alone, as column gtid. */
const char *flavor_master_gtid_sql(const struct rw_flavor *);

/* The freeze of an old master, and its undoing.  Constant strings. */
const char *flavor_set_read_only_sql(int on);
const char *flavor_ro_vars_sql(const struct rw_flavor *);	/* ro, sro */
const char *flavor_set_super_read_only_sql(int on);
const char *flavor_sessions_sql(void);		/* id, user, host to end */
char	*flavor_kill_sql(unsigned long long id);
const char *flavor_bypass_ro_sql(const struct rw_flavor *);	/* who */
const char *flavor_ping_sql(void);
const char *flavor_read_lock_sql(void);		/* the global read lock */
const char *flavor_unlock_sql(void);		/* releases it */
/* How long this session's statements wait for a metadata lock; malloc'd. */
char	*flavor_lock_wait_sql(unsigned seconds);

/*
 * The advisory lock that keeps two promotions of a replica apart, without
 * waiting, as column got (1: ours).  malloc'd.
 */
char	*flavor_get_lock_sql(const struct sql_quoter *, const char *name);

/*
 * The authentication plugin(s) of a user on a master, as column plugin (one
 * row per host part); flavor_check_repl_auth() judges them.  malloc'd.
 */
char	*flavor_user_plugin_sql(const struct sql_quoter *, const char *user);

/*
 * Heartbeat statements.  table is "schema.table" as the configuration
 * checked it (letters, digits, _ and $ only) and goes into the statement
 * as is: an identifier, not a string.  Strings are quoted by the quoter of
 * the session that runs the statement.  All malloc'd.
 *
 * heartbeat = write, on the master: the schema, the table in the layout
 * (created before any row is written, so that it replicates first), and
 * the row: replwatch's layout has one per source (the target's name) with
 * ts_us; pt-heartbeat's one per master server_id, with ts as text.
 */
char	*flavor_heartbeat_schema_sql(const char *table);
char	*flavor_heartbeat_table_sql(const char *table, enum rw_hb_layout);
char	*flavor_heartbeat_write_sql(const struct sql_quoter *, const char *table,
	    const char *source, int64_t ts_us);
struct rw_hb_row {
	const char	*ts;		/* "YYYY-MM-DDTHH:MM:SS.ffffff" */
	unsigned	 server_id;	/* the master's @@server_id */
	const char	*file;		/* SHOW MASTER STATUS; NULL: unknown */
	const char	*position;	/* digits; NULL: unknown */
};
char	*flavor_ptheartbeat_write_sql(const struct sql_quoter *,
	    const char *table, const struct rw_hb_row *);
/* heartbeat = write, replwatch's layout, on the replica: ro, and our row's
 * ts_us as hb_us. */
char	*flavor_heartbeat_check_sql(const struct sql_quoter *, const char *table,
	    const char *source);
/*
 * pt-heartbeat's layout (heartbeat = read, or write in that layout), on
 * the replica: ro, and the ts of server_id's row, or of the newest row
 * when server_id is 0, as hb_ts.
 */
char	*flavor_heartbeat_read_sql(const char *table, unsigned server_id);

struct rw_setup {
	const char	*host;
	unsigned	 port;
	const char	*user;
	const char	*password;
	const char	*log_file;	/* file/pos, or gtid */
	unsigned long long log_pos;
	const char	*gtid;
	int		 ssl;
};

/*
 * The statement that configures replication, with every string literal
 * quoted by the quoter of the session that runs it; malloc'd.  Contains the
 * password: never log it, nor a server error about it (a syntax error
 * quotes the statement).  Returns NULL with a reason in err when this kind
 * cannot do it (e.g. GTID on RDS MySQL).
 */
char	*flavor_setup_sql(const struct rw_flavor *, const struct sql_quoter *,
	    const struct rw_setup *, char *err, size_t errlen);
/* Same statement with the password replaced by '***', for logs and plans. */
char	*flavor_setup_sql_redacted(const struct rw_flavor *,
	    const struct sql_quoter *, const struct rw_setup *);
/*
 * Self-managed MariaDB with GTID: the statement the caller runs before the
 * set-up (MASTER_USE_GTID=slave_pos starts from gtid_slave_pos, and one
 * statement cannot set both).  malloc'd; NULL for other kinds or a malformed
 * GTID list.
 */
char	*flavor_gtid_pos_sql(const struct rw_flavor *, const struct sql_quoter *,
	    const char *gtid);
/* A wait for an executed position, NULL when not possible on this kind. */
char	*flavor_pos_wait_sql(const struct rw_flavor *, const struct sql_quoter *,
	    const char *file, const char *pos, unsigned timeout_s);
/*
 * The replication user's authentication plugin on the source (mysql.user's
 * plugin column, one of its rows) against the link's TLS: MySQL 8's
 * caching_sha2_password without TLS fails the IO thread with 2061 whenever
 * the source's password cache is cold, and RDS's procedures cannot set
 * GET_SOURCE_PUBLIC_KEY.  0: fine; -1: refuse, with the fix in why.
 */
int	flavor_check_repl_auth(const char *plugin, const char *user, int ssl,
	    char *why, size_t len);

#endif
