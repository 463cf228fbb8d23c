/*
 * One asynchronous libmariadb connection driven by a libevent loop.
 * Every step (name resolution, connect, query, draining all result sets)
 * runs through the non-blocking API with the library's own timeouts
 * honoured and a whole-operation deadline of ours; nothing blocks the loop.
 * One operation at a time per handle.  No auto-reconnect: after an error the
 * caller closes and connects again when it chooses.
 */
#ifndef RW_DB_H
#define RW_DB_H
#include <stddef.h>

#include <event2/event.h>

#include "config.h"

struct db;
struct evdns_base;

/* All result sets of one statement (a CALL may return several). */
struct db_set {
	unsigned	 ncols;
	char		**names;	/* ncols */
	size_t		 nrows;
	char		**values;	/* nrows * ncols, row-major; NULL = SQL NULL */
};

struct db_result {
	size_t		 nsets;
	struct db_set	*sets;
	unsigned long long affected_rows;	/* of the last statement */
};

enum db_status {
	DB_OK,
	DB_ERR_SERVER,		/* the server answered with an error: db_errno() */
	DB_ERR_CONNECT,		/* could not connect / resolve / authenticate */
	DB_ERR_TIMEOUT,		/* our deadline or the library's timeout */
	DB_ERR_LOST		/* the connection broke mid-operation */
};

/*
 * Completion callback.  res is valid for the duration of the call (NULL
 * unless DB_OK for a query).  The callback may start the next operation,
 * close or free the handle.
 */
typedef void (*db_cb)(struct db *, enum db_status, const struct db_result *res,
    void *arg);

struct db_params {
	const char	*host;
	unsigned	 port;
	const char	*option_file;	/* [client] group: user, password */
	enum rw_tls_mode tls;
	const char	*tls_ca, *tls_cert, *tls_key;
	unsigned	 connect_timeout_ms;
	unsigned	 query_timeout_ms;	/* default deadline per query */
};

struct db *db_new(struct event_base *, struct evdns_base *, const struct db_params *);
void	db_free(struct db *);	/* closes; a pending callback is never called */

int	db_connect(struct db *, db_cb, void *arg);
/* timeout_ms 0: the params' query_timeout_ms. */
int	db_query(struct db *, const char *sql, unsigned timeout_ms, db_cb, void *arg);
void	db_close(struct db *);	/* abandon any operation (its callback is never
				   called), close the link */

int	db_busy(const struct db *);
int	db_connected(const struct db *);
unsigned db_errno(const struct db *);	/* of the last failure, 0 if none */
const char *db_error(const struct db *);	/* never contains a password */
const char *db_server_version(const struct db *);	/* after connect */
int	db_encrypted(const struct db *);	/* TLS in use */
const char *db_cipher(const struct db *);
unsigned long db_thread_id(const struct db *);
/* The raw handle for mysql_real_escape_string and friends; may be NULL. */
void	*db_handle(struct db *);
/*
 * s as a single-quoted string literal for this session, malloc'd: escaped by
 * mysql_real_escape_string(), which follows the session's character set and
 * the NO_BACKSLASH_ESCAPES flag the server reports on every reply.  Before a
 * connect, libmariadb's context-free escaping (only for showing).
 */
char	*db_quote(struct db *, const char *s);

/* Value at row r, column named name (case-insensitive); NULL if none/NULL. */
const char *db_set_value(const struct db_set *, size_t r, const char *name);
int	db_set_column(const struct db_set *, const char *name);

#endif
