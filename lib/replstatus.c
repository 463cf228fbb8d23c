/*
 * One replication status row, read by column name.
 *
 * The row is copied whole into cols[]; the named fields of struct rw_status
 * point into it, so the JSON "columns" object and the typed fields can never
 * disagree.  Where a name appears twice the first one wins, for the typed
 * fields and for JSON alike: no server sends duplicates, so the first is as
 * good a guess as any and it keeps the two views consistent.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "replstatus.h"
#include "xmalloc.h"

enum field {
	F_IO, F_SQL, F_BEHIND, F_HOST, F_PORT, F_LOG_FILE, F_READ_POS,
	F_RELAY_FILE, F_EXEC_POS, F_SERVER_ID, F_USING_GTID, F_GTID_IO_POS,
	F_SQL_STATE, F_SQL_DELAY, F_SQL_REMAINING, F_IO_ERRNO, F_IO_ERROR,
	F_SQL_ERRNO, F_SQL_ERROR, F__COUNT
};

/*
 * Old (MariaDB, MySQL < 8.0.22) and new (MySQL 8.0.22+) names.  MariaDB's
 * SHOW REPLICA STATUS still answers with the old ones, so both must work.
 */
static const struct {
	enum field	 field;
	const char	*old_name;
	const char	*new_name;	/* NULL: same in both */
} field_names[] = {
	{ F_IO,		"Slave_IO_Running",	"Replica_IO_Running" },
	{ F_SQL,	"Slave_SQL_Running",	"Replica_SQL_Running" },
	{ F_BEHIND,	"Seconds_Behind_Master", "Seconds_Behind_Source" },
	{ F_HOST,	"Master_Host",		"Source_Host" },
	{ F_PORT,	"Master_Port",		"Source_Port" },
	{ F_LOG_FILE,	"Master_Log_File",	"Source_Log_File" },
	{ F_READ_POS,	"Read_Master_Log_Pos",	"Read_Source_Log_Pos" },
	{ F_RELAY_FILE,	"Relay_Master_Log_File", "Relay_Source_Log_File" },
	{ F_EXEC_POS,	"Exec_Master_Log_Pos",	"Exec_Source_Log_Pos" },
	{ F_SERVER_ID,	"Master_Server_Id",	"Source_Server_Id" },
	{ F_USING_GTID,	"Using_Gtid",		NULL },
	{ F_GTID_IO_POS, "Gtid_IO_Pos",		NULL },
	{ F_SQL_STATE,	"Slave_SQL_Running_State", "Replica_SQL_Running_State" },
	{ F_SQL_DELAY,	"SQL_Delay",		NULL },
	{ F_SQL_REMAINING, "SQL_Remaining_Delay", NULL },
	{ F_IO_ERRNO,	"Last_IO_Errno",	NULL },
	{ F_IO_ERROR,	"Last_IO_Error",	NULL },
	{ F_SQL_ERRNO,	"Last_SQL_Errno",	NULL },
	{ F_SQL_ERROR,	"Last_SQL_Error",	NULL },
};

static int
field_of(const char *name, enum field *f)
{
	for (size_t i = 0; i < sizeof field_names / sizeof field_names[0]; i++) {
		if (strcasecmp(name, field_names[i].old_name) == 0 ||
		    (field_names[i].new_name != NULL &&
		    strcasecmp(name, field_names[i].new_name) == 0)) {
			*f = field_names[i].field;
			return 0;
		}
	}
	return -1;
}

/*
 * Strict decimal: the whole string, digits with an optional leading '-', no
 * spaces, no overflow.  strtoll alone would take " 12abc" as 12, and a number
 * we half-read is worse than one we admit we do not know.
 */
static int
parse_ll(const char *s, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	if (*s != '-' && (*s < '0' || *s > '9'))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Non-negative or -1 (NULL, absent or garbage), the header's "unknown". */
static long long
parse_count(const char *s)
{
	long long v;

	if (parse_ll(s, &v) == -1 || v < 0)
		return -1;
	return v;
}

/* An errno that cannot be read is 0: the error text is still shown. */
static unsigned
parse_errno(const char *s)
{
	long long v;

	if (parse_ll(s, &v) == -1 || v < 0 || v > UINT_MAX)
		return 0;
	return (unsigned)v;
}

static enum rw_thread
parse_thread(const char *s)
{
	if (s == NULL)
		return THREAD_UNKNOWN;
	if (strcasecmp(s, "Yes") == 0)
		return THREAD_YES;
	if (strcasecmp(s, "No") == 0)
		return THREAD_NO;
	if (strcasecmp(s, "Connecting") == 0)
		return THREAD_CONNECTING;
	if (strcasecmp(s, "Preparing") == 0)
		return THREAD_PREPARING;
	return THREAD_UNKNOWN;
}

void
replstatus_parse(struct rw_status *st, const char *const *names,
    const char *const *values, size_t n)
{
	const char *fv[F__COUNT];
	int seen[F__COUNT];
	enum field f;

	memset(st, 0, sizeof *st);
	memset(fv, 0, sizeof fv);
	memset(seen, 0, sizeof seen);
	st->seconds_behind = -1;
	st->sql_delay = -1;
	st->sql_remaining_delay = -1;
	if (n == 0)
		return;

	st->configured = 1;
	st->cols = xcalloc(n, sizeof *st->cols);
	st->ncols = n;
	for (size_t i = 0; i < n; i++) {
		/* A nameless column is still a column: keep it as "". */
		st->cols[i].name = xstrdup(names[i] != NULL ? names[i] : "");
		st->cols[i].value = values[i] != NULL ?
		    xstrdup(values[i]) : NULL;
		if (field_of(st->cols[i].name, &f) == 0 && !seen[f]) {
			seen[f] = 1;
			fv[f] = st->cols[i].value;
		}
	}

	st->io = parse_thread(fv[F_IO]);
	st->sql = parse_thread(fv[F_SQL]);
	st->seconds_behind = parse_count(fv[F_BEHIND]);
	st->master_host = fv[F_HOST];
	st->master_port = fv[F_PORT];
	st->master_log_file = fv[F_LOG_FILE];
	st->read_master_log_pos = fv[F_READ_POS];
	st->relay_master_log_file = fv[F_RELAY_FILE];
	st->exec_master_log_pos = fv[F_EXEC_POS];
	st->master_server_id = fv[F_SERVER_ID];
	st->using_gtid = fv[F_USING_GTID];
	st->gtid_io_pos = fv[F_GTID_IO_POS];
	st->sql_state = fv[F_SQL_STATE];
	st->sql_delay = parse_count(fv[F_SQL_DELAY]);
	st->sql_remaining_delay = parse_count(fv[F_SQL_REMAINING]);
	st->last_io_errno = parse_errno(fv[F_IO_ERRNO]);
	st->last_io_error = fv[F_IO_ERROR];
	st->last_sql_errno = parse_errno(fv[F_SQL_ERRNO]);
	st->last_sql_error = fv[F_SQL_ERROR];
}

void
replstatus_clear(struct rw_status *st)
{
	for (size_t i = 0; i < st->ncols; i++) {
		free(st->cols[i].name);
		free(st->cols[i].value);
	}
	free(st->cols);
	memset(st, 0, sizeof *st);
}

/* NULL both for an absent column and for SQL NULL. */
const char *
replstatus_get(const struct rw_status *st, const char *name)
{
	for (size_t i = 0; i < st->ncols; i++)
		if (strcasecmp(st->cols[i].name, name) == 0)
			return st->cols[i].value;
	return NULL;
}

const char *
replstatus_thread_name(enum rw_thread t)
{
	switch (t) {
	case THREAD_NO:
		return "No";
	case THREAD_YES:
		return "Yes";
	case THREAD_CONNECTING:
		return "Connecting";
	case THREAD_PREPARING:
		return "Preparing";
	case THREAD_UNKNOWN:
		break;
	}
	return "unknown";
}

/* A string, or null when the server did not send the column or sent NULL. */
static void
add_string(cJSON *o, const char *name, const char *value)
{
	if (value == NULL)
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddStringToObject(o, name, value);
}

/* A number, or null for the header's -1 "unknown". */
static void
add_count(cJSON *o, const char *name, long long value)
{
	if (value < 0)
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddNumberToObject(o, name, (double)value);
}

/*
 * Absent string fields are null rather than "": MySQL has no Using_Gtid or
 * Gtid_IO_Pos, and a client should be able to tell "not reported" from
 * "empty".  Positions stay strings because they may exceed 2^53, beyond
 * what a JSON number (a double in cJSON and in most readers) holds exactly.
 */
cJSON *
replstatus_to_json(const struct rw_status *st)
{
	cJSON *o, *cols;

	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "configured", st->configured);
	cJSON_AddStringToObject(o, "io_running", replstatus_thread_name(st->io));
	cJSON_AddStringToObject(o, "sql_running",
	    replstatus_thread_name(st->sql));
	add_count(o, "seconds_behind_master", st->seconds_behind);
	add_string(o, "master_host", st->master_host);
	add_string(o, "master_port", st->master_port);
	add_string(o, "master_log_file", st->master_log_file);
	add_string(o, "read_master_log_pos", st->read_master_log_pos);
	add_string(o, "relay_master_log_file", st->relay_master_log_file);
	add_string(o, "exec_master_log_pos", st->exec_master_log_pos);
	add_string(o, "master_server_id", st->master_server_id);
	add_string(o, "using_gtid", st->using_gtid);
	add_string(o, "gtid_io_pos", st->gtid_io_pos);
	add_count(o, "sql_delay", st->sql_delay);
	add_count(o, "sql_remaining_delay", st->sql_remaining_delay);
	add_string(o, "sql_state", st->sql_state);
	cJSON_AddNumberToObject(o, "last_io_errno", st->last_io_errno);
	add_string(o, "last_io_error", st->last_io_error);
	cJSON_AddNumberToObject(o, "last_sql_errno", st->last_sql_errno);
	add_string(o, "last_sql_error", st->last_sql_error);

	cols = cJSON_AddObjectToObject(o, "columns");
	for (size_t i = 0; i < st->ncols; i++) {
		/* Exact-name lookup, as JSON object keys are case-sensitive. */
		if (cJSON_GetObjectItemCaseSensitive(cols,
		    st->cols[i].name) != NULL)
			continue;
		add_string(cols, st->cols[i].name, st->cols[i].value);
	}
	return o;
}
