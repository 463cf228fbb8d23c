/*
 * One database server as the daemon talks to it: the connection, its kind
 * (detected once), its replication status with the RDS MariaDB fallback to
 * mysql.rds_replica_status(), and replication control (start, stop, reset)
 * by the state model of RDS's procedures (lib/replctl.h) with the
 * procedure deadline.  admin.c, promote.c and monitor.c all use it, so that
 * model is implemented once.  One operation at a time.
 */
#ifndef RW_SERVER_H
#define RW_SERVER_H
#include <cjson/cJSON.h>

#include "daemon.h"
#include "replctl.h"

struct server;

enum server_err {
	SERR_NONE,
	SERR_REFUSED,		/* not possible from the replication state */
	SERR_SERVER,		/* the server answered with an error */
	SERR_TIMEOUT,
	SERR_CONNECT
};

/* A link to ep with cf's timeouts, not yet connected. */
struct db *endpoint_db(struct daemon *, const struct rw_endpoint *ep,
	    const struct rw_target_config *cf);

/* ok: the operation did what was asked; else server_error() says why. */
typedef void (*server_cb)(struct server *, int ok, void *arg);

/* ep and cf must outlive the server; name is for the logs. */
struct server *server_new(struct daemon *, const struct rw_endpoint *ep,
	    const struct rw_target_config *cf, const char *name);
void	 server_free(struct server *);	/* a pending callback is never called */

/* Connect unless connected, then detect the kind unless known. */
int	 server_open(struct server *, server_cb, void *);
/* Read the replication status into server_status(). */
int	 server_read_status(struct server *, server_cb, void *);
/*
 * Start, stop or reset replication: read the state, decide (nothing to do,
 * stop first, call, refuse), call with procedure_timeout_ms, then read the
 * state back (reconnecting after a timeout, and waiting a little for work
 * the server is still finishing) and judge by it alone.
 */
int	 server_replication(struct server *, enum rw_repl_action, server_cb,
	    void *);

/* Abandon the operation in flight: its callback is never called. */
void	 server_cancel(struct server *);
/* Detect the kind again on the next operation (a new connection). */
void	 server_forget_kind(struct server *);
/* Move the status read into *out (cleared first). */
void	 server_take_status(struct server *, struct rw_status *out);

struct db *server_db(struct server *);
struct rw_flavor *server_flavor(struct server *);
int	 server_flavor_known(const struct server *);
const struct rw_status *server_status(const struct server *);
enum server_err server_failure(const struct server *);
const char *server_error(const struct server *);	/* why it failed */
const char *server_note(const struct server *);	/* what happened, "" if plain */
const char *server_statement(const struct server *);	/* the last control statement */
/* Detect a kind from flavor_probe_sql's result; -1: no row. */
int	 server_detect(struct rw_flavor *, enum rw_flavor_choice forced,
	    const struct db_result *);
/* Append the Message column of every row of res to the array to. */
void	 server_add_messages(cJSON *to, const struct db_result *res);
/* The Message rows the control statements answered; the caller's now. */
cJSON	*server_take_messages(struct server *);

#endif
