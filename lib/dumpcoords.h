/*
 * dumpcoords: the replication coordinates a logical dump records, for
 * replwatchctl setup --from-dump.  It knows the lines mysqldump and
 * mariadb-dump write (each may be commented out with "-- "):
 *
 *	CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000042', MASTER_LOG_POS=1234;
 *	CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='…', SOURCE_LOG_POS=…;
 *	SET GLOBAL gtid_slave_pos='0-1-123';		(MariaDB, near the end)
 *	SET @@GLOBAL.GTID_PURGED='uuid:1-100';	(MySQL, near the top; 8.0
 *		puts a '+' in a version comment before the value, and a set
 *		of several UUIDs spans lines)
 *
 * Only lines that start (after an optional comment opener) with CHANGE or
 * SET are looked at, so a table's data can never pass for coordinates:
 * the dump tools escape newlines inside values.
 */
#ifndef RW_DUMPCOORDS_H
#define RW_DUMPCOORDS_H
#include <stddef.h>

#define DUMPCOORDS_FILE_MAX	255	/* a binlog file name */
#define DUMPCOORDS_GTID_MAX	65536	/* a GTID set, whitespace removed */
#define DUMPCOORDS_CHUNK	65536	/* head and tail read before a scan */

enum dumpcoords_gtid_kind {
	DUMPCOORDS_GTID_NONE,
	DUMPCOORDS_GTID_MARIADB,	/* gtid_slave_pos */
	DUMPCOORDS_GTID_MYSQL		/* GTID_PURGED */
};

enum dumpcoords_want {
	DUMPCOORDS_WANT_POS,		/* binlog file and position */
	DUMPCOORDS_WANT_GTID
};

struct dumpcoords {
	char		 log_file[DUMPCOORDS_FILE_MAX + 1];	/* "": none */
	char		 log_pos[21];		/* decimal digits; "": none */
	char		*gtid;			/* NULL: none */
	enum dumpcoords_gtid_kind gtid_kind;
	int		 scanned_all;		/* head and tail were not enough */

	/* A GTID_PURGED value whose closing quote is on a later line. */
	char		*pending;
	size_t		 pending_len;
	char		 pending_quote;
	enum dumpcoords_gtid_kind pending_kind;
};

void	dumpcoords_init(struct dumpcoords *);
void	dumpcoords_free(struct dumpcoords *);

/* Feed one line (no newline; a trailing \r is ignored). */
void	dumpcoords_line(struct dumpcoords *, const char *line, size_t len);
/* Feed text made of lines; the last one need not end in a newline. */
void	dumpcoords_scan(struct dumpcoords *, const char *text, size_t len);

int	dumpcoords_have(const struct dumpcoords *, enum dumpcoords_want);

/*
 * Read a dump file: its first and last DUMPCOORDS_CHUNK bytes, and only
 * when what is wanted is in neither, every line (a pipe: every line at
 * once).  Returns 0 when what is wanted was found, else -1 with a
 * message in err.  Whatever else was found is in *dc either way.
 */
int	dumpcoords_read(struct dumpcoords *, const char *path,
	    enum dumpcoords_want, char *err, size_t errlen);

#endif
