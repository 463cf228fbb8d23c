/*
 * Server kinds and their statements (DESIGN "Server kinds", REFERENCE §1-§2).
 * The rest of the daemon asks for "the status statement" and never spells
 * SQL itself, so a new server version changes this file only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flavor.h"
#include "xmalloc.h"

/* Host, user, log file: what the servers themselves accept, and no more. */
#define FIELD_MAX	255
/* A GTID list with several domains or server UUIDs outgrows 255 bytes. */
#define GTID_MAX	1023

/*
 * One row per mysql.rds_* routine (one row with routine NULL when there is
 * none).  Not a GROUP_CONCAT: RDS for MySQL keeps group_concat_max_len at
 * 1024 and its routine list is about 1.9 KB, so a concatenation is cut
 * before rds_start_replication and rds_stop_replication.  `\_` keeps the
 * underscore literal in LIKE; the C string holds one backslash, which the
 * server reads as `\_` in either sql_mode.
 */
const char *const flavor_probe_sql =
    "SELECT VERSION() AS version, @@version_comment AS version_comment, "
    "r.ROUTINE_NAME AS routine FROM (SELECT 1 AS one) AS probe "
    "LEFT JOIN information_schema.ROUTINES AS r "
    "ON r.ROUTINE_SCHEMA = 'mysql' AND r.ROUTINE_NAME LIKE 'rds\\_%'";

static const struct {
	const char	*name;
	unsigned	 bit;
} rds_routines[] = {
	{ "rds_set_external_master", RDS_SET_EXTERNAL_MASTER },
	{ "rds_set_external_source", RDS_SET_EXTERNAL_SOURCE },
	{ "rds_set_external_master_gtid", RDS_SET_EXTERNAL_MASTER_GTID },
	{ "rds_start_replication", RDS_START_REPLICATION },
	{ "rds_stop_replication", RDS_STOP_REPLICATION },
	{ "rds_reset_external_master", RDS_RESET_EXTERNAL_MASTER },
	{ "rds_reset_external_source", RDS_RESET_EXTERNAL_SOURCE },
	{ "rds_replica_status", RDS_REPLICA_STATUS },
	{ "rds_skip_repl_error", RDS_SKIP_REPL_ERROR },
};

/* Any of these means the server is RDS: only RDS installs them. */
#define RDS_MARKERS	(RDS_SET_EXTERNAL_MASTER | RDS_SET_EXTERNAL_SOURCE | \
			 RDS_SET_EXTERNAL_MASTER_GTID | RDS_START_REPLICATION)

static unsigned	parse_number(const char **);
static unsigned	parse_version(const char *);
static unsigned	parse_routines(const char *);
static int	is_mysql_at_least(const struct rw_flavor *, unsigned);
static int	is_mariadb_at_least(const struct rw_flavor *, unsigned);
static int	check_field(const char *, const char *, int, char *, size_t);
static int	valid_log_file(const char *);
static int	valid_gtid_mariadb(const char *);
static int	valid_gtid_mysql(const char *);
static int	valid_gtid(const struct rw_flavor *, const char *);
static char	*quote(const struct sql_quoter *, const char *);
static char	*build_setup(const struct rw_flavor *, const struct sql_quoter *,
		    const struct rw_setup *, int, char *, size_t);

/* Digits to a number, saturating: "8.0.36" is no place for overflow. */
static unsigned
parse_number(const char **sp)
{
	const char *s = *sp;
	unsigned n = 0;

	while (*s >= '0' && *s <= '9') {
		if (n < 100000)
			n = n * 10 + (unsigned)(*s - '0');
		s++;
	}
	*sp = s;
	return n;
}

/*
 * "10.11.6-MariaDB-0+deb12u1" -> 101106, "8.0.36" -> 80036, "8.4" -> 80400.
 * MariaDB before 11 may announce itself as "5.5.5-10.x" to old clients; the
 * real version follows the fake one.  0 when there is no number at all.
 */
static unsigned
parse_version(const char *s)
{
	unsigned major, minor = 0, patch = 0;

	if (s == NULL)
		return 0;
	if (strncmp(s, "5.5.5-", 6) == 0 && s[6] >= '1' && s[6] <= '9')
		s += 6;
	if (*s < '0' || *s > '9')
		return 0;
	major = parse_number(&s);
	if (*s == '.' && s[1] >= '0' && s[1] <= '9') {
		s++;
		minor = parse_number(&s);
		if (*s == '.' && s[1] >= '0' && s[1] <= '9') {
			s++;
			patch = parse_number(&s);
		}
	}
	if (major > 999)
		major = 999;
	if (minor > 99)
		minor = 99;
	if (patch > 99)
		patch = 99;
	return major * 10000 + minor * 100 + patch;
}

/* "a,b,c" of routine names; exact names only (no prefix matches). */
static unsigned
parse_routines(const char *list)
{
	const char *p, *e;
	size_t n, i;
	unsigned bits = 0;

	if (list == NULL)
		return 0;
	for (p = list; *p != '\0'; p = (*e == ',') ? e + 1 : e) {
		p += strspn(p, " \t");
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		for (i = 0; i < sizeof(rds_routines) / sizeof(rds_routines[0]);
		    i++) {
			if (strlen(rds_routines[i].name) == n &&
			    strncasecmp(rds_routines[i].name, p, n) == 0)
				bits |= rds_routines[i].bit;
		}
	}
	return bits;
}

static void	detect(struct rw_flavor *, enum rw_flavor_choice, const char *,
		    const char *, unsigned);

void
flavor_detect(struct rw_flavor *f, enum rw_flavor_choice forced,
    const char *version, const char *version_comment, const char *routines)
{
	detect(f, forced, version, version_comment, parse_routines(routines));
}

static const char *
probe_value(const char *const *names, const char *const *values,
    unsigned ncols, size_t row, const char *name)
{
	for (unsigned c = 0; c < ncols; c++)
		if (names[c] != NULL && strcasecmp(names[c], name) == 0)
			return values[row * ncols + c];
	return NULL;
}

int
flavor_detect_probe(struct rw_flavor *f, enum rw_flavor_choice forced,
    const char *const *names, const char *const *values, unsigned ncols,
    size_t nrows)
{
	unsigned bits = 0;

	if (nrows == 0)
		return -1;
	for (size_t r = 0; r < nrows; r++)
		bits |= parse_routines(probe_value(names, values, ncols, r,
		    "routine"));
	detect(f, forced, probe_value(names, values, ncols, 0, "version"),
	    probe_value(names, values, ncols, 0, "version_comment"), bits);
	return 0;
}

static void
detect(struct rw_flavor *f, enum rw_flavor_choice forced, const char *version,
    const char *version_comment, unsigned rds)
{
	memset(f, 0, sizeof(*f));
	if (version != NULL)
		snprintf(f->version_str, sizeof(f->version_str), "%s", version);
	f->version = parse_version(version);
	f->rds = rds;
	if ((version != NULL && strcasestr(version, "mariadb") != NULL) ||
	    (version_comment != NULL &&
	    strcasestr(version_comment, "mariadb") != NULL))
		f->mariadb = 1;
	else if ((forced == FLAVOR_MARIADB || forced == FLAVOR_RDS_MARIADB) &&
	    f->version >= 100000)
		/* The server did not say; the configuration and the version do. */
		f->mariadb = 1;

	if (forced != FLAVOR_AUTO)
		f->kind = forced;
	else if (f->rds & RDS_MARKERS)
		f->kind = f->mariadb ? FLAVOR_RDS_MARIADB : FLAVOR_RDS_MYSQL;
	else
		f->kind = f->mariadb ? FLAVOR_MARIADB : FLAVOR_MYSQL;
}

const char *
flavor_name(const struct rw_flavor *f)
{
	switch (f->kind) {
	case FLAVOR_RDS_MYSQL:
		return "rds-mysql";
	case FLAVOR_RDS_MARIADB:
		return "rds-mariadb";
	case FLAVOR_MYSQL:
		return "mysql";
	case FLAVOR_MARIADB:
		return "mariadb";
	case FLAVOR_AUTO:
		break;
	}
	return "auto";
}

int
flavor_is_rds(const struct rw_flavor *f)
{
	return f->kind == FLAVOR_RDS_MYSQL || f->kind == FLAVOR_RDS_MARIADB;
}

static int
is_mysql_at_least(const struct rw_flavor *f, unsigned v)
{
	return !f->mariadb && f->version >= v;
}

static int
is_mariadb_at_least(const struct rw_flavor *f, unsigned v)
{
	return f->mariadb && f->version >= v;
}

/* The REPLICA words: MySQL 8.0.22, MariaDB 10.5.1; the SLAVE ones go in 8.4. */
static int
has_replica_words(const struct rw_flavor *f)
{
	return is_mysql_at_least(f, 80022) || is_mariadb_at_least(f, 100501);
}

const char *
flavor_status_sql(const struct rw_flavor *f)
{
	/*
	 * RDS MariaDB 10.5+ refuses SHOW ... STATUS to its master user; the
	 * procedure's existence is proof enough of RDS, whatever was forced.
	 */
	if (f->status_denied && (f->rds & RDS_REPLICA_STATUS))
		return "CALL mysql.rds_replica_status()";
	return has_replica_words(f) ? "SHOW REPLICA STATUS" :
	    "SHOW SLAVE STATUS";
}

const char *
flavor_start_sql(const struct rw_flavor *f)
{
	if (flavor_is_rds(f))
		return "CALL mysql.rds_start_replication()";
	return has_replica_words(f) ? "START REPLICA" : "START SLAVE";
}

const char *
flavor_stop_sql(const struct rw_flavor *f)
{
	if (flavor_is_rds(f))
		return "CALL mysql.rds_stop_replication()";
	return has_replica_words(f) ? "STOP REPLICA" : "STOP SLAVE";
}

const char *
flavor_reset_sql(const struct rw_flavor *f)
{
	/*
	 * RDS MySQL 8.4 keeps the *master* names only for a while: the source
	 * name wins whenever it exists.
	 */
	if (flavor_is_rds(f))
		return (f->rds & RDS_RESET_EXTERNAL_SOURCE) ?
		    "CALL mysql.rds_reset_external_source()" :
		    "CALL mysql.rds_reset_external_master()";
	return has_replica_words(f) ? "RESET REPLICA ALL" : "RESET SLAVE ALL";
}

/*
 * Skipping the event the SQL thread stopped on, one statement per step
 * (NULL past the last).  RDS: its procedure, which stops, sets the skip
 * counter and starts again.  Natively the IO thread is left alone: the
 * counter, then the SQL thread alone.  The counter is refused while the
 * SQL thread runs (1198), and on MySQL with gtid_mode=ON (1858: there an
 * empty transaction with the failing GTID is the way, not done here);
 * MySQL 8.0.26 renamed it sql_replica_skip_counter.
 */
const char *
flavor_skip_error_sql(const struct rw_flavor *f, unsigned step)
{
	if (flavor_is_rds(f))
		return step == 0 ? "CALL mysql.rds_skip_repl_error()" : NULL;
	switch (step) {
	case 0:
		return is_mysql_at_least(f, 80026) ?
		    "SET GLOBAL sql_replica_skip_counter = 1" :
		    "SET GLOBAL sql_slave_skip_counter = 1";
	case 1:
		return has_replica_words(f) ? "START REPLICA SQL_THREAD" :
		    "START SLAVE SQL_THREAD";
	}
	return NULL;
}

const char *
flavor_master_status_sql(const struct rw_flavor *f)
{
	/* SHOW MASTER STATUS is gone in MySQL 8.4. */
	if (is_mysql_at_least(f, 80200))
		return "SHOW BINARY LOG STATUS";
	if (is_mariadb_at_least(f, 100502))
		return "SHOW BINLOG STATUS";
	return "SHOW MASTER STATUS";
}

const char *
flavor_read_only_sql(void)
{
	return "SELECT @@global.read_only AS ro";
}

/* MySQL's gtid_binlog_pos does not exist; MariaDB's gtid_executed neither. */
const char *
flavor_master_vars_sql(const struct rw_flavor *f)
{
	return f->mariadb ?
	    "SELECT @@global.read_only AS ro, @@global.gtid_binlog_pos AS gtid, "
	    "@@global.server_id AS server_id" :
	    "SELECT @@global.read_only AS ro, @@global.gtid_executed AS gtid, "
	    "@@global.server_id AS server_id";
}

/*
 * What keeps the application from writing, never a write of ours to find
 * out: @@innodb_read_only exists everywhere (5.6+, 10.0+), super_read_only
 * on MySQL since 5.7.8 only.
 */
const char *
flavor_primary_vars_sql(const struct rw_flavor *f)
{
	return is_mysql_at_least(f, 50708) ?
	    "SELECT @@global.read_only AS ro, @@global.innodb_read_only AS iro, "
	    "@@global.super_read_only AS sro" :
	    "SELECT @@global.read_only AS ro, @@global.innodb_read_only AS iro, "
	    "NULL AS sro";
}

const char *
flavor_master_gtid_sql(const struct rw_flavor *f)
{
	return f->mariadb ? "SELECT @@global.gtid_binlog_pos AS gtid" :
	    "SELECT @@global.gtid_executed AS gtid";
}

const char *
flavor_set_read_only_sql(int on)
{
	return on ? "SET GLOBAL read_only = ON" : "SET GLOBAL read_only = OFF";
}

/* read_only, and super_read_only where the server has it (MySQL). */
const char *
flavor_ro_vars_sql(const struct rw_flavor *f)
{
	return f->mariadb ? "SELECT @@global.read_only AS ro, NULL AS sro" :
	    "SELECT @@global.read_only AS ro, @@global.super_read_only AS sro";
}

const char *
flavor_set_super_read_only_sql(int on)
{
	return on ? "SET GLOBAL super_read_only = ON" :
	    "SET GLOBAL super_read_only = OFF";
}

/*
 * The client sessions a freeze ends: everyone but this session, replication
 * (binlog dump threads to replicas) and the server's own threads.
 */
const char *
flavor_sessions_sql(void)
{
	return "SELECT ID AS id, USER AS user, HOST AS host FROM "
	    "information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND "
	    "COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon', "
	    "'Killed') AND USER NOT IN ('system user', 'event_scheduler') "
	    "ORDER BY ID";
}

char *
flavor_kill_sql(unsigned long long id)
{
	char *s;

	xasprintf(&s, "KILL CONNECTION %llu", id);
	return s;
}

/*
 * Accounts that read_only does not stop: SUPER on both, READ_ONLY ADMIN on
 * MariaDB 10.5.2+ (SUPER_READ_ONLY does not exist there), CONNECTION_ADMIN
 * on MySQL only matters for super_read_only, which stops SUPER too.
 */
const char *
flavor_bypass_ro_sql(const struct rw_flavor *f)
{
	return f->mariadb ? "SELECT DISTINCT GRANTEE AS who FROM "
	    "information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN "
	    "('SUPER', 'READ_ONLY ADMIN') ORDER BY 1" :
	    "SELECT DISTINCT GRANTEE AS who FROM "
	    "information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN "
	    "('SUPER', 'SYSTEM_VARIABLES_ADMIN') ORDER BY 1";
}

const char *
flavor_ping_sql(void)
{
	return "DO 0";
}

const char *
flavor_read_lock_sql(void)
{
	return "FLUSH TABLES WITH READ LOCK";
}

const char *
flavor_unlock_sql(void)
{
	return "UNLOCK TABLES";
}

char *
flavor_lock_wait_sql(unsigned seconds)
{
	char *sql;

	xasprintf(&sql, "SET SESSION lock_wait_timeout = %u", seconds);
	return sql;
}

char *
flavor_get_lock_sql(const struct sql_quoter *qt, const char *name)
{
	char *q, *sql;

	q = quote(qt, name);
	xasprintf(&sql, "SELECT GET_LOCK(%s, 0) AS got", q);
	free(q);
	return sql;
}

char *
flavor_user_plugin_sql(const struct sql_quoter *qt, const char *user)
{
	char *q, *sql;

	q = quote(qt, user);
	xasprintf(&sql, "SELECT DISTINCT plugin FROM mysql.user WHERE user = %s",
	    q);
	free(q);
	return sql;
}

char *
flavor_heartbeat_schema_sql(const char *table)
{
	const char *dot = strchr(table, '.');
	char *sql;

	xasprintf(&sql, "CREATE DATABASE IF NOT EXISTS %.*s",
	    (int)(dot != NULL ? (size_t)(dot - table) : strlen(table)), table);
	return sql;
}

/*
 * pt-heartbeat's table as its --create-table makes it, so that pt-heartbeat
 * --check/--monitor and mysqld_exporter's heartbeat collector read our rows;
 * or replwatch's own, older layout.
 */
char *
flavor_heartbeat_table_sql(const char *table, enum rw_hb_layout layout)
{
	char *sql;

	if (layout == HB_LAYOUT_REPLWATCH)
		xasprintf(&sql, "CREATE TABLE IF NOT EXISTS %s (source "
		    "VARCHAR(64) NOT NULL PRIMARY KEY, ts_us BIGINT NOT NULL, "
		    "written DATETIME(6) NOT NULL) ENGINE=InnoDB", table);
	else
		xasprintf(&sql, "CREATE TABLE IF NOT EXISTS %s (ts VARCHAR(26) "
		    "NOT NULL, server_id INT UNSIGNED NOT NULL PRIMARY KEY, "
		    "file VARCHAR(255) DEFAULT NULL, position BIGINT UNSIGNED "
		    "DEFAULT NULL, relay_master_log_file VARCHAR(255) DEFAULT "
		    "NULL, exec_master_log_pos BIGINT UNSIGNED DEFAULT NULL) "
		    "ENGINE=InnoDB", table);
	return sql;
}

char *
flavor_heartbeat_write_sql(const struct sql_quoter *qt, const char *table,
    const char *source, int64_t ts_us)
{
	char *q, *sql;

	q = quote(qt, source);
	xasprintf(&sql, "REPLACE INTO %s (source, ts_us, written) VALUES "
	    "(%s, %" PRId64 ", NOW(6))", table, q, ts_us);
	free(q);
	return sql;
}

/*
 * As pt-heartbeat --update writes it: the master's binlog coordinates read
 * just before (NULL when unknown); relay_master_log_file and
 * exec_master_log_pos, which it fills on a master that is itself a
 * replica, stay NULL.
 */
char *
flavor_ptheartbeat_write_sql(const struct sql_quoter *qt, const char *table,
    const struct rw_hb_row *row)
{
	char *ts, *file, *sql;
	const char *pos = row->position;

	ts = quote(qt, row->ts);
	file = row->file != NULL && *row->file != '\0' ?
	    quote(qt, row->file) : xstrdup("NULL");
	if (pos == NULL || *pos == '\0' || strspn(pos, "0123456789") !=
	    strlen(pos) || strlen(pos) > 20)
		pos = "NULL";
	xasprintf(&sql, "REPLACE INTO %s (ts, server_id, file, position) "
	    "VALUES (%s, %u, %s, %s)", table, ts, row->server_id, file, pos);
	free(ts);
	free(file);
	return sql;
}

char *
flavor_heartbeat_check_sql(const struct sql_quoter *qt, const char *table,
    const char *source)
{
	char *q, *sql;

	q = quote(qt, source);
	xasprintf(&sql, "SELECT @@global.read_only AS ro, (SELECT ts_us "
	    "FROM %s WHERE source = %s) AS hb_us", table, q);
	free(q);
	return sql;
}

/*
 * The age is taken on the caller's clock: the replica's NOW() is in its own
 * time zone (UTC on RDS), which need not be the writer's.
 */
char *
flavor_heartbeat_read_sql(const char *table, unsigned server_id)
{
	char *sql;

	if (server_id != 0)
		xasprintf(&sql, "SELECT @@global.read_only AS ro, (SELECT "
		    "ts FROM %s WHERE server_id = %u) AS hb_ts", table,
		    server_id);
	else
		xasprintf(&sql, "SELECT @@global.read_only AS ro, (SELECT "
		    "ts FROM %s ORDER BY ts DESC LIMIT 1) AS hb_ts", table);
	return sql;
}

/* NULL is the empty string (an absent password). */
static char *
quote(const struct sql_quoter *qt, const char *s)
{
	return qt->quote(qt->db, s != NULL ? s : "");
}

/*
 * Host, user, file name and GTID end up in statements and logs: no control
 * characters, and no more than a server would take.
 */
static int
check_field(const char *what, const char *s, int required, char *err,
    size_t errlen)
{
	const unsigned char *p;
	size_t max = strcmp(what, "gtid") == 0 ? GTID_MAX : FIELD_MAX;

	if (s == NULL || *s == '\0') {
		if (!required)
			return 0;
		snprintf(err, errlen, "%s is empty", what);
		return -1;
	}
	if (strlen(s) > max) {
		snprintf(err, errlen, "%s is longer than %zu bytes", what, max);
		return -1;
	}
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "%s contains a control character",
			    what);
			return -1;
		}
	}
	return 0;
}

static int
valid_log_file(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > FIELD_MAX)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == strlen(s);
}

/* MariaDB: "0-1-100,1-2-7", spaces allowed around the commas. */
static int
valid_gtid_mariadb(const char *s)
{
	int part;

	for (;;) {
		s += strspn(s, " ");
		for (part = 0; part < 3; part++) {
			if (strspn(s, "0123456789") == 0)
				return 0;
			s += strspn(s, "0123456789");
			if (part < 2 && *s++ != '-')
				return 0;
		}
		s += strspn(s, " ");
		if (*s == '\0')
			return 1;
		if (*s++ != ',')
			return 0;
	}
}

/*
 * MySQL: "uuid:1-5:7,uuid:3", 8.3+ tags allowed ("uuid:tag:1-5"); spaces
 * around the commas.
 */
static int
valid_gtid_mysql(const char *s)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };
	const char *hex = "0123456789abcdefABCDEF";
	size_t n;
	int g, intervals;

	for (;;) {
		s += strspn(s, " ");
		for (g = 0; g < 5; g++) {
			if (strspn(s, hex) != (size_t)groups[g])
				return 0;
			s += groups[g];
			if (g < 4 && *s++ != '-')
				return 0;
		}
		intervals = 0;
		while (*s == ':') {
			s++;
			if ((n = strspn(s, "0123456789")) > 0) {
				s += n;
				if (*s == '-') {
					s++;
					if ((n = strspn(s, "0123456789")) == 0)
						return 0;
					s += n;
				}
				intervals++;
			} else if ((*s >= 'a' && *s <= 'z') || *s == '_') {
				s += strspn(s, "abcdefghijklmnopqrstuvwxyz"
				    "0123456789_");
			} else
				return 0;
		}
		if (intervals == 0)
			return 0;
		s += strspn(s, " ");
		if (*s == '\0')
			return 1;
		if (*s++ != ',')
			return 0;
	}
}

static int
valid_gtid(const struct rw_flavor *f, const char *gtid)
{
	return f->mariadb ? valid_gtid_mariadb(gtid) : valid_gtid_mysql(gtid);
}

static char *
build_setup(const struct rw_flavor *f, const struct sql_quoter *qt,
    const struct rw_setup *st, int redact, char *err, size_t errlen)
{
	char *host, *user, *pass, *file = NULL, *gtid = NULL, *sql = NULL;
	const char *proc;
	int use_gtid = st->gtid != NULL && *st->gtid != '\0';
	int ssl = st->ssl ? 1 : 0;

	if (check_field("host", st->host, 1, err, errlen) == -1 ||
	    check_field("user", st->user, 1, err, errlen) == -1 ||
	    check_field("log_file", st->log_file, !use_gtid, err, errlen) == -1 ||
	    check_field("gtid", st->gtid, 0, err, errlen) == -1)
		return NULL;
	if (st->port == 0 || st->port > 65535) {
		snprintf(err, errlen, "port %u is out of range", st->port);
		return NULL;
	}
	if (use_gtid && !valid_gtid(f, st->gtid)) {
		snprintf(err, errlen, "gtid \"%s\" is not a %s GTID %s", st->gtid,
		    f->mariadb ? "MariaDB" : "MySQL",
		    f->mariadb ? "list (domain-server-sequence,...)" :
		    "set (uuid:interval,...)");
		return NULL;
	}
	if (!use_gtid && !valid_log_file(st->log_file)) {
		snprintf(err, errlen, "log_file \"%s\" is not a binary log name",
		    st->log_file);
		return NULL;
	}

	/* Which statement this kind can run, before any string is built. */
	proc = NULL;
	if (flavor_is_rds(f) && st->password != NULL && *st->password != '\0' &&
	    (st->password[0] == ' ' ||
	    st->password[strlen(st->password) - 1] == ' ')) {
		/* Else the IO thread fails with 1045, long after the set-up. */
		snprintf(err, errlen, "the password begins or ends with a space, "
		    "which RDS's procedure trims: use one without");
		return NULL;
	}
	if (flavor_is_rds(f)) {
		if (use_gtid) {
			if (!(f->rds & RDS_SET_EXTERNAL_MASTER_GTID)) {
				snprintf(err, errlen, "GTID set-up needs "
				    "mysql.rds_set_external_master_gtid "
				    "(RDS MariaDB)");
				return NULL;
			}
			proc = "rds_set_external_master_gtid";
		} else if (f->rds & RDS_SET_EXTERNAL_SOURCE)
			proc = "rds_set_external_source";
		else if (f->rds & RDS_SET_EXTERNAL_MASTER)
			proc = "rds_set_external_master";
		else {
			snprintf(err, errlen, "neither mysql.rds_set_external_"
			    "source nor mysql.rds_set_external_master exists");
			return NULL;
		}
	} else if (use_gtid && !f->mariadb) {
		snprintf(err, errlen, "GTID set-up of self-managed MySQL is not "
		    "supported: give log_file and log_pos");
		return NULL;
	}

	host = quote(qt, st->host);
	user = quote(qt, st->user);
	pass = redact ? xstrdup("'***'") : quote(qt, st->password);
	if (use_gtid)
		gtid = quote(qt, st->gtid);
	else
		file = quote(qt, st->log_file);

	if (proc != NULL && use_gtid)
		xasprintf(&sql, "CALL mysql.%s(%s, %u, %s, %s, %s, %d)", proc,
		    host, st->port, user, pass, gtid, ssl);
	else if (proc != NULL)
		xasprintf(&sql, "CALL mysql.%s(%s, %u, %s, %s, %s, %llu, %d)",
		    proc, host, st->port, user, pass, file, st->log_pos, ssl);
	else if (use_gtid)
		/* The position itself comes from flavor_gtid_pos_sql(). */
		xasprintf(&sql, "CHANGE MASTER TO MASTER_HOST=%s, "
		    "MASTER_PORT=%u, MASTER_USER=%s, MASTER_PASSWORD=%s, "
		    "MASTER_USE_GTID=slave_pos, MASTER_SSL=%d", host, st->port,
		    user, pass, ssl);
	else if (is_mysql_at_least(f, 80023))
		xasprintf(&sql, "CHANGE REPLICATION SOURCE TO SOURCE_HOST=%s, "
		    "SOURCE_PORT=%u, SOURCE_USER=%s, SOURCE_PASSWORD=%s, "
		    "SOURCE_LOG_FILE=%s, SOURCE_LOG_POS=%llu, SOURCE_SSL=%d",
		    host, st->port, user, pass, file, st->log_pos, ssl);
	else
		xasprintf(&sql, "CHANGE MASTER TO MASTER_HOST=%s, "
		    "MASTER_PORT=%u, MASTER_USER=%s, MASTER_PASSWORD=%s, "
		    "MASTER_LOG_FILE=%s, MASTER_LOG_POS=%llu, MASTER_SSL=%d",
		    host, st->port, user, pass, file, st->log_pos, ssl);

	/* The password must not linger in freed memory. */
	explicit_bzero(pass, strlen(pass));
	free(host);
	free(user);
	free(pass);
	free(file);
	free(gtid);
	return sql;
}

char *
flavor_setup_sql(const struct rw_flavor *f, const struct sql_quoter *qt,
    const struct rw_setup *st, char *err, size_t errlen)
{
	return build_setup(f, qt, st, 0, err, errlen);
}

char *
flavor_setup_sql_redacted(const struct rw_flavor *f,
    const struct sql_quoter *qt, const struct rw_setup *st)
{
	char err[256];

	return build_setup(f, qt, st, 1, err, sizeof(err));
}

char *
flavor_gtid_pos_sql(const struct rw_flavor *f, const struct sql_quoter *qt,
    const char *gtid)
{
	char *q, *sql;
	char err[128];

	if (f->kind != FLAVOR_MARIADB || gtid == NULL ||
	    check_field("gtid", gtid, 1, err, sizeof(err)) == -1 ||
	    !valid_gtid_mariadb(gtid))
		return NULL;
	q = quote(qt, gtid);
	xasprintf(&sql, "SET GLOBAL gtid_slave_pos = %s", q);
	free(q);
	return sql;
}

char *
flavor_pos_wait_sql(const struct rw_flavor *f, const struct sql_quoter *qt,
    const char *file, const char *pos, unsigned timeout_s)
{
	char *q, *sql;
	size_t n;

	if (!valid_log_file(file) || pos == NULL)
		return NULL;
	n = strlen(pos);
	if (n == 0 || n > 20 || strspn(pos, "0123456789") != n)
		return NULL;
	q = quote(qt, file);
	xasprintf(&sql, "SELECT %s(%s, %s, %u)",
	    is_mysql_at_least(f, 80026) ? "SOURCE_POS_WAIT" : "MASTER_POS_WAIT",
	    q, pos, timeout_s);
	free(q);
	return sql;
}

int
flavor_check_repl_auth(const char *plugin, const char *user, int ssl,
    char *why, size_t len)
{
	snprintf(why, len, "%s", "");
	if (plugin == NULL || ssl ||
	    strcasecmp(plugin, "caching_sha2_password") != 0)
		return 0;
	snprintf(why, len, "the replication user %s authenticates with "
	    "caching_sha2_password on the source: without TLS its IO thread "
	    "fails with error 2061 whenever the source's password cache is cold "
	    "(after every source restart).  Set up with --ssl (ssl_encryption = "
	    "1), or on the source: ALTER USER '%s'@'%%' IDENTIFIED WITH "
	    "mysql_native_password BY '...' (MySQL 8.0 only)", user, user);
	return -1;
}
