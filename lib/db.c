/*
 * One asynchronous libmariadb connection on a libevent loop.
 *
 * Every step is a _start/_cont pair of libmariadb's non-blocking API: when a
 * step asks to wait, one event on the connection's current socket (it changes
 * between connect attempts) waits for what it asked for, with the library's
 * own timeout when it wants one (MYSQL_WAIT_TIMEOUT is handed back to _cont).
 * A second timer is our whole-operation deadline: when it fires the operation
 * is abandoned by shutting the socket down and closing the handle, so that
 * nothing can block on a hung server.
 *
 * Completion callbacks always run from the loop, never from inside db_connect
 * or db_query, and they are the last thing a handler does: the callback may
 * start the next operation, close or free the handle.
 *
 * Notes on libmariadb (Connector/C 3.3):
 * - MYSQL_OPT_NONBLOCK must be set before any _start, else a NULL dereference.
 * - Host name resolution inside connect blocks: we resolve with evdns first and
 *   hand libmariadb a numeric address.  "localhost" would mean the Unix socket
 *   to libmariadb, so it is mapped to 127.0.0.1 (and TCP is forced anyway).
 * - A NULL password falls back to $MYSQL_PWD: the daemon must use only the
 *   configured option file, so MYSQL_PWD is removed from the environment on
 *   first use.
 * - TLS, per enum rw_tls_mode:
 *   disabled         no TLS options, enforce off, verify off;
 *   preferred        TLS if the server offers it (mysql_ssl_set), no checks;
 *                    a server (or a man in the middle) that offers no TLS
 *                    gets the login in clear text: that is what preferred
 *                    means;
 *   required         TLS, certificate not checked, refused before the login
 *                    when the server offers no TLS (db_set_tls);
 *   verify_ca        as required, and libmariadb checks the chain whenever a
 *                    CA is given; with VERIFY_SERVER_CERT off it skips the
 *                    name;
 *   verify_identity  TLS + tls_ca + VERIFY_SERVER_CERT: chain and name.  The
 *                    name checked is the host string given to real_connect.
 *                    For a numeric host that is the address itself; for a
 *                    name, libmariadb must be given the name, which makes it
 *                    call getaddrinfo() itself.  We resolve through evdns
 *                    first (a dead resolver fails without blocking and the
 *                    second lookup is answered from the resolver's cache),
 *                    but that second lookup is the one place a connect may
 *                    block the loop briefly.  It only happens in this mode.
 *                    "localhost" is checked as 127.0.0.1 (see above).
 *   From required up, mysql_get_ssl_cipher() is checked again after connect,
 *   in case an option file turned TLS off (ssl-enforce=0) behind our back.
 * - A timeout of 0 ms means no deadline of ours for that operation.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include <mysql.h>
#include <errmsg.h>

#include "db.h"
#include "log.h"
#include "xmalloc.h"

enum db_op {
	OP_NONE,
	OP_RESOLVE,		/* evdns_getaddrinfo in flight */
	OP_CONNECT,		/* mysql_real_connect_cont */
	OP_QUERY,		/* mysql_real_query_cont */
	OP_STORE,		/* mysql_store_result_cont */
	OP_NEXT,		/* mysql_next_result_cont */
	OP_DONE			/* finished, callback pending on done_ev */
};

struct db {
	struct event_base	*base;
	struct evdns_base	*dns;

	char			*host;
	unsigned		 port;
	char			*option_file;
	enum rw_tls_mode	 tls;
	char			*tls_ca, *tls_cert, *tls_key;
	unsigned		 connect_timeout_ms;
	unsigned		 query_timeout_ms;

	MYSQL			*mysql;
	int			 connected;
	char			 addr[INET6_ADDRSTRLEN];	/* what we connect to */

	enum db_op		 op;
	int			 lib_timeout;	/* the last wait ended by MYSQL_WAIT_TIMEOUT */
	unsigned		 op_timeout_ms;
	struct event		*io_ev;		/* one wait of libmariadb */
	struct event		*deadline_ev;	/* the whole operation */
	struct event		*done_ev;	/* runs the callback from the loop */
	struct evdns_getaddrinfo_request *dns_req;

	db_cb			 cb;
	void			*cb_arg;
	enum db_status		 status;	/* of the finished operation */
	int			 is_query;
	struct db_result	 result;	/* being collected */
	unsigned		 pending_errno;	/* server error seen, still draining */
	char			 pending_error[MYSQL_ERRMSG_SIZE];

	unsigned		 err_no;
	char			 err[512];
};

static void	db_io_cb(evutil_socket_t, short, void *);
static void	db_deadline_cb(evutil_socket_t, short, void *);
static void	db_done_cb(evutil_socket_t, short, void *);
static void	db_step(struct db *, int);

static void
db_drop_env(void)
{
	static int done;

	/*
	 * libmariadb sends $MYSQL_PWD when the password is NULL; we pass NULL
	 * so that the option file's password wins, and must never let the
	 * environment supply one instead.
	 */
	if (!done) {
		unsetenv("MYSQL_PWD");
		done = 1;
	}
}

static void
db_set_error(struct db *d, unsigned no, const char *fmt, ...)
{
	va_list ap;

	d->err_no = no;
	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
}

static void
db_result_clear(struct db_result *r)
{
	size_t i, j;

	for (i = 0; i < r->nsets; i++) {
		struct db_set *s = &r->sets[i];

		for (j = 0; j < s->ncols; j++)
			free(s->names[j]);
		for (j = 0; j < s->nrows * s->ncols; j++)
			free(s->values[j]);
		free(s->names);
		free(s->values);
	}
	free(r->sets);
	memset(r, 0, sizeof(*r));
}

/* "host:port", "host (addr):port" or "[v6]:port" for messages. */
static const char *
db_where(const struct db *d, char *buf, size_t len)
{
	int v6 = strchr(d->addr[0] ? d->addr : d->host, ':') != NULL;

	if (d->addr[0] && strcmp(d->addr, d->host) != 0)
		snprintf(buf, len, "%s:%u (%s)", d->host, d->port, d->addr);
	else
		snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", d->host, d->port);
	return buf;
}

/* Drop the link without a goodbye: nothing here may wait on the server. */
static void
db_abandon(struct db *d)
{
	my_socket fd;

	if (d->mysql == NULL)
		return;
	fd = mysql_get_socket(d->mysql);
	if (fd != -1)
		shutdown(fd, SHUT_RDWR);
	mysql_close(d->mysql);
	d->mysql = NULL;
	d->connected = 0;
}

static void
db_cancel(struct db *d)
{
	event_del(d->io_ev);
	event_del(d->deadline_ev);
	event_del(d->done_ev);
	if (d->dns_req != NULL) {
		struct evdns_getaddrinfo_request *req = d->dns_req;

		/* The callback runs at once with EVUTIL_EAI_CANCEL. */
		d->dns_req = NULL;
		evdns_getaddrinfo_cancel(req);
	}
}

/* Finish the operation; the callback runs from the loop. */
static void
db_complete(struct db *d, enum db_status status)
{
	event_del(d->io_ev);
	event_del(d->deadline_ev);
	if (d->dns_req != NULL) {
		struct evdns_getaddrinfo_request *req = d->dns_req;

		d->dns_req = NULL;
		evdns_getaddrinfo_cancel(req);
	}
	if (status != DB_OK && status != DB_ERR_SERVER)
		db_abandon(d);
	if (status != DB_OK || !d->is_query)
		db_result_clear(&d->result);
	d->status = status;
	d->op = OP_DONE;
	event_active(d->done_ev, EV_TIMEOUT, 1);
}

static void
db_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db *d = arg;
	struct db_result res = d->result;
	enum db_status status = d->status;
	int is_query = d->is_query;
	db_cb cb = d->cb;
	void *cb_arg = d->cb_arg;

	/* Hand over: the callback may reuse or free the handle. */
	memset(&d->result, 0, sizeof(d->result));
	d->op = OP_NONE;
	d->cb = NULL;
	d->cb_arg = NULL;
	cb(d, status, status == DB_OK && is_query ? &res : NULL, cb_arg);
	db_result_clear(&res);
}

/* Wait for what libmariadb asked for in status. */
static void
db_wait(struct db *d, int status)
{
	my_socket fd = mysql_get_socket(d->mysql);
	short ev = 0;
	struct timeval tv, *tvp = NULL;

	if (status & (MYSQL_WAIT_READ | MYSQL_WAIT_EXCEPT))
		ev |= EV_READ;
	if (status & MYSQL_WAIT_WRITE)
		ev |= EV_WRITE;
	if (status & MYSQL_WAIT_TIMEOUT) {
		unsigned ms = mysql_get_timeout_value_ms(d->mysql);

		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		tvp = &tv;
	}
	if (fd == -1)
		ev = 0;
	event_del(d->io_ev);
	event_assign(d->io_ev, d->base, ev ? fd : -1, ev, db_io_cb, d);
	event_add(d->io_ev, tvp);
}

static void
db_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db *d = arg;
	int status = 0;

	if (what & EV_READ)
		status |= MYSQL_WAIT_READ;
	if (what & EV_WRITE)
		status |= MYSQL_WAIT_WRITE;
	if (what & EV_TIMEOUT)
		status |= MYSQL_WAIT_TIMEOUT;
	d->lib_timeout = (what & EV_TIMEOUT) != 0;
	db_step(d, status);
}

static void
db_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db *d = arg;
	char where[320];

	if (d->op == OP_RESOLVE || d->op == OP_CONNECT)
		db_set_error(d, 0, "connect to %s: timed out after %u ms",
		    db_where(d, where, sizeof(where)), d->op_timeout_ms);
	else
		db_set_error(d, 0, "query on %s: timed out after %u ms",
		    db_where(d, where, sizeof(where)), d->op_timeout_ms);
	log_debug("db: %s", d->err);
	db_complete(d, DB_ERR_TIMEOUT);
}

static void
db_start_deadline(struct db *d, unsigned ms)
{
	struct timeval tv;

	d->op_timeout_ms = ms;
	if (ms == 0)
		return;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(d->deadline_ev, &tv);
}

static int
db_is_client_error(unsigned no)
{
	return (no >= CR_MIN_ERROR && no <= CR_MAX_ERROR) ||
	    (no >= CER_MIN_ERROR && no <= CER_MAX_ERROR);
}

/* A query step failed: classify libmariadb's error and finish. */
static void
db_query_failed(struct db *d)
{
	unsigned no = mysql_errno(d->mysql);
	char where[320];

	if (db_is_client_error(no) || (no == 0 && d->pending_errno == 0)) {
		db_set_error(d, no, "connection to %s lost: %s",
		    db_where(d, where, sizeof(where)),
		    no ? mysql_error(d->mysql) : "unknown error");
		log_debug("db: %s", d->err);
		db_complete(d, d->lib_timeout ? DB_ERR_TIMEOUT : DB_ERR_LOST);
		return;
	}
	/* A server error: the link stays usable once all results are read. */
	if (no != 0 && d->pending_errno == 0) {
		d->pending_errno = no;
		snprintf(d->pending_error, sizeof(d->pending_error), "%s",
		    mysql_error(d->mysql));
	}
	if (mysql_more_results(d->mysql)) {
		int err, s;

		d->op = OP_NEXT;
		s = mysql_next_result_start(&err, d->mysql);
		if (s != 0) {
			db_wait(d, s);
			return;
		}
		/* Loop through db_step's bookkeeping without waiting. */
		d->op = OP_NEXT;
		db_step(d, -1 - err);
		return;
	}
	db_set_error(d, d->pending_errno, "%s", d->pending_error);
	/*
	 * Not the text: a syntax error quotes the statement, which may hold a
	 * password; the caller, who knows the statement, reports it.
	 */
	log_debug("db: server error %u", d->err_no);
	db_complete(d, DB_ERR_SERVER);
}

/*
 * Every result set is read: the query succeeded, unless a statement of a
 * multi-statement CALL failed on the way (kept in pending_errno).
 */
static void
db_drained(struct db *d)
{
	if (d->pending_errno != 0)
		db_query_failed(d);
	else
		db_complete(d, DB_OK);
}

static void
db_copy_set(struct db *d, MYSQL_RES *res)
{
	struct db_result *r = &d->result;
	struct db_set *s;
	MYSQL_FIELD *fields;
	MYSQL_ROW row;
	unsigned long *lengths;
	size_t i, n;
	unsigned c;

	r->sets = xrealloc(r->sets, (r->nsets + 1) * sizeof(*r->sets));
	s = &r->sets[r->nsets++];
	memset(s, 0, sizeof(*s));
	s->ncols = mysql_num_fields(res);
	s->nrows = (size_t)mysql_num_rows(res);
	fields = mysql_fetch_fields(res);
	s->names = xcalloc(s->ncols ? s->ncols : 1, sizeof(*s->names));
	for (c = 0; c < s->ncols; c++)
		s->names[c] = xstrndup(fields[c].name, fields[c].name_length);
	n = s->nrows * s->ncols;
	s->values = xcalloc(n ? n : 1, sizeof(*s->values));
	for (i = 0; i < s->nrows && (row = mysql_fetch_row(res)) != NULL; i++) {
		lengths = mysql_fetch_lengths(res);
		for (c = 0; c < s->ncols; c++) {
			char *v;

			if (row[c] == NULL)
				continue;
			/* Values may hold NULs: copy by length. */
			v = xmalloc(lengths[c] + 1);
			memcpy(v, row[c], lengths[c]);
			v[lengths[c]] = '\0';
			s->values[i * s->ncols + c] = v;
		}
	}
	s->nrows = i;
}

static void
db_connected_ok(struct db *d)
{
	char where[320];

	if (d->tls >= TLS_REQUIRED && mysql_get_ssl_cipher(d->mysql) == NULL) {
		db_set_error(d, 0, "connect to %s: TLS is required but was not "
		    "negotiated (TLS turned off in the option file?)",
		    db_where(d, where, sizeof(where)));
		log_debug("db: %s", d->err);
		db_complete(d, DB_ERR_CONNECT);
		return;
	}
	d->connected = 1;
	log_debug("db: connected to %s, thread %lu, %s",
	    db_where(d, where, sizeof(where)), mysql_thread_id(d->mysql),
	    mysql_get_ssl_cipher(d->mysql) ? mysql_get_ssl_cipher(d->mysql) :
	    "no TLS");
	db_complete(d, DB_OK);
}

/*
 * Run the current step on with the wait status that ended (status >= 0), or
 * take the result of a step that completed without waiting (status < 0:
 * -1 - the step's int result).
 */
static void
db_step(struct db *d, int status)
{
	MYSQL *ret;
	MYSQL_RES *res;
	int err, s;
	char where[320];

	for (;;) {
		switch (d->op) {
		case OP_CONNECT:
			s = mysql_real_connect_cont(&ret, d->mysql, status);
			if (s != 0) {
				db_wait(d, s);
				return;
			}
			if (ret == NULL) {
				db_set_error(d, mysql_errno(d->mysql),
				    "connect to %s: %s",
				    db_where(d, where, sizeof(where)),
				    mysql_error(d->mysql));
				log_debug("db: %s", d->err);
				db_complete(d, d->lib_timeout ? DB_ERR_TIMEOUT :
				    DB_ERR_CONNECT);
				return;
			}
			db_connected_ok(d);
			return;
		case OP_QUERY:
			if (status >= 0) {
				s = mysql_real_query_cont(&err, d->mysql,
				    status);
				if (s != 0) {
					db_wait(d, s);
					return;
				}
			} else
				err = -1 - status;
			if (err != 0) {
				db_query_failed(d);
				return;
			}
			d->op = OP_STORE;
			s = mysql_store_result_start(&res, d->mysql);
			if (s != 0) {
				db_wait(d, s);
				return;
			}
			goto stored;
		case OP_STORE:
			s = mysql_store_result_cont(&res, d->mysql, status);
			if (s != 0) {
				db_wait(d, s);
				return;
			}
stored:
			if (res == NULL && mysql_field_count(d->mysql) != 0) {
				db_query_failed(d);
				return;
			}
			if (res != NULL) {
				if (d->pending_errno == 0)
					db_copy_set(d, res);
				/* Stored in full: freeing does no I/O. */
				mysql_free_result(res);
			}
			d->result.affected_rows = mysql_affected_rows(d->mysql);
			if (!mysql_more_results(d->mysql)) {
				db_drained(d);
				return;
			}
			d->op = OP_NEXT;
			s = mysql_next_result_start(&err, d->mysql);
			if (s != 0) {
				db_wait(d, s);
				return;
			}
			status = -1 - err;
			continue;
		case OP_NEXT:
			if (status >= 0) {
				s = mysql_next_result_cont(&err, d->mysql,
				    status);
				if (s != 0) {
					db_wait(d, s);
					return;
				}
			} else
				err = -1 - status;
			if (err > 0) {
				db_query_failed(d);
				return;
			}
			if (err == -1) {
				/* No more results after all. */
				db_drained(d);
				return;
			}
			d->op = OP_STORE;
			s = mysql_store_result_start(&res, d->mysql);
			if (s != 0) {
				db_wait(d, s);
				return;
			}
			goto stored;
		default:
			return;
		}
	}
}

static void
db_set_opt_bool(MYSQL *m, enum mysql_option opt, int on)
{
	my_bool b = on ? 1 : 0;

	mysql_options(m, opt, &b);
}

/*
 * From required up, no byte of the login may leave before TLS is up.
 *
 * libmariadb (3.3, Debian 12 ships 3.3.20; 3.4 alike) decides in
 * send_client_reply_packet(), right after reading the server's greeting and
 * in the same non-blocking step that then writes the login: when TLS is
 * wanted (use_ssl, which MYSQL_OPT_SSL_ENFORCE and mysql_ssl_set only set)
 * and the greeting lacks CLIENT_SSL, it refuses only if VERIFY_SERVER_CERT is
 * on or a peer fingerprint option is set (tls_fp != NULL); otherwise it drops
 * TLS and sends the user name and password scramble in clear text.  An
 * attacker who clears CLIENT_SSL in the greeting collects them; our own
 * cipher check after connect comes too late, and so would anything we read
 * from the handle between _start and _cont (the greeting is parsed and the
 * login written without a wait in between).  A probe connection first only
 * tells us about that connection, not the next.
 *
 * So we set MARIADB_OPT_TLS_PEER_FP to "": the pointer is not NULL, which
 * makes the greeting check refuse before anything is written, while the
 * fingerprint comparison after the handshake runs only for a non-empty
 * fingerprint (ma_pvio_start_ssl in 3.3, have_fingerprint() in 3.4), so no
 * certificate is pinned and required still accepts any certificate, as
 * documented.  VERIFY_SERVER_CERT would refuse too, but it also checks the
 * chain and the name, which required and verify_ca must not.  Against a
 * server that offers TLS, an attacker can only present a certificate of his
 * own, which is what verify_ca and verify_identity are for.  tls.bats
 * captures what a server without TLS receives, so a libmariadb that changes
 * this fails the tests.  Returns -1 if that option could not be set.
 */
static int
db_set_tls(struct db *d)
{
	MYSQL *m = d->mysql;

	switch (d->tls) {
	case TLS_DISABLED:
		db_set_opt_bool(m, MYSQL_OPT_SSL_ENFORCE, 0);
		db_set_opt_bool(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, 0);
		return 0;
	case TLS_PREFERRED:
		/* Any TLS option asks for TLS; without verify it is optional. */
		mysql_ssl_set(m, d->tls_key, d->tls_cert, NULL, NULL, NULL);
		db_set_opt_bool(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, 0);
		return 0;
	case TLS_REQUIRED:
		/* No CA: a CA makes libmariadb verify the chain. */
		mysql_ssl_set(m, d->tls_key, d->tls_cert, NULL, NULL, NULL);
		db_set_opt_bool(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, 0);
		break;
	case TLS_VERIFY_CA:
	case TLS_VERIFY_IDENTITY:
		mysql_ssl_set(m, d->tls_key, d->tls_cert, d->tls_ca, NULL,
		    NULL);
		db_set_opt_bool(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
		    d->tls == TLS_VERIFY_IDENTITY);
		break;
	}
	db_set_opt_bool(m, MYSQL_OPT_SSL_ENFORCE, 1);
	/* See above: refuse a server without TLS before the login. */
	return mysql_options(m, MARIADB_OPT_TLS_PEER_FP, "") == 0 ? 0 : -1;
}

/* Name resolution is done (or not needed): start the real connect. */
static void
db_connect_begin(struct db *d, const char *connect_host)
{
	unsigned secs, proto = MYSQL_PROTOCOL_TCP;
	MYSQL *ret;
	int s;
	char where[320];

	if ((d->mysql = mysql_init(NULL)) == NULL) {
		db_set_error(d, 0, "connect to %s: mysql_init failed",
		    db_where(d, where, sizeof(where)));
		db_complete(d, DB_ERR_CONNECT);
		return;
	}
	/* Before any _start, or libmariadb dereferences NULL. */
	mysql_options(d->mysql, MYSQL_OPT_NONBLOCK, 0);
	if (d->option_file != NULL) {
		mysql_options(d->mysql, MYSQL_READ_DEFAULT_FILE, d->option_file);
		mysql_options(d->mysql, MYSQL_READ_DEFAULT_GROUP, "client");
	}
	mysql_options(d->mysql, MYSQL_OPT_PROTOCOL, &proto);
	/*
	 * The library's own timeout, a guard under our deadline.  No read or
	 * write timeout: a query may be given a longer deadline than any
	 * fixed value, and our deadline covers every wait anyway.
	 */
	secs = (d->connect_timeout_ms + 999) / 1000;
	if (secs > 0)
		mysql_options(d->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
	db_set_opt_bool(d->mysql, MYSQL_OPT_RECONNECT, 0);
	if (db_set_tls(d) == -1) {
		/* Never connect without the guard: fail this attempt. */
		db_set_error(d, 0, "connect to %s: cannot set the TLS options",
		    db_where(d, where, sizeof(where)));
		log_debug("db: %s", d->err);
		db_complete(d, DB_ERR_CONNECT);
		return;
	}

	d->op = OP_CONNECT;
	d->lib_timeout = 0;
	/* NULL user and password: the option file supplies them. */
	s = mysql_real_connect_start(&ret, d->mysql, connect_host, NULL, NULL,
	    NULL, d->port, NULL, CLIENT_MULTI_RESULTS);
	if (s != 0) {
		db_wait(d, s);
		return;
	}
	if (ret == NULL) {
		db_set_error(d, mysql_errno(d->mysql), "connect to %s: %s",
		    db_where(d, where, sizeof(where)), mysql_error(d->mysql));
		db_complete(d, DB_ERR_CONNECT);
		return;
	}
	db_connected_ok(d);
}

static void
db_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct db *d = arg;
	char where[320];
	const void *a;

	if (result == EVUTIL_EAI_CANCEL) {
		/* db_cancel: the handle may be on its way out. */
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		return;
	}
	d->dns_req = NULL;
	if (result != 0 || ai == NULL) {
		db_set_error(d, 0, "connect to %s: cannot resolve: %s",
		    db_where(d, where, sizeof(where)),
		    evutil_gai_strerror(result));
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		log_debug("db: %s", d->err);
		db_complete(d, DB_ERR_CONNECT);
		return;
	}
	/* The first address only: a failed connect is retried by the caller. */
	if (ai->ai_family == AF_INET6)
		a = &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
	else
		a = &((struct sockaddr_in *)ai->ai_addr)->sin_addr;
	evutil_inet_ntop(ai->ai_family, a, d->addr, sizeof(d->addr));
	evutil_freeaddrinfo(ai);
	log_debug("db: %s resolved to %s", d->host, d->addr);
	/* See the top of the file: verify_identity needs the name. */
	db_connect_begin(d, d->tls == TLS_VERIFY_IDENTITY ? d->host : d->addr);
}

struct db *
db_new(struct event_base *base, struct evdns_base *dns,
    const struct db_params *p)
{
	struct db *d;

	db_drop_env();
	d = xcalloc(1, sizeof(*d));
	d->base = base;
	d->dns = dns;
	d->host = xstrdup(p->host != NULL ? p->host : "127.0.0.1");
	d->port = p->port ? p->port : 3306;
	d->option_file = p->option_file ? xstrdup(p->option_file) : NULL;
	d->tls = p->tls;
	d->tls_ca = p->tls_ca ? xstrdup(p->tls_ca) : NULL;
	d->tls_cert = p->tls_cert ? xstrdup(p->tls_cert) : NULL;
	d->tls_key = p->tls_key ? xstrdup(p->tls_key) : NULL;
	d->connect_timeout_ms = p->connect_timeout_ms;
	d->query_timeout_ms = p->query_timeout_ms;
	d->io_ev = event_new(base, -1, 0, db_io_cb, d);
	d->deadline_ev = evtimer_new(base, db_deadline_cb, d);
	d->done_ev = event_new(base, -1, 0, db_done_cb, d);
	if (d->io_ev == NULL || d->deadline_ev == NULL || d->done_ev == NULL) {
		db_free(d);
		return NULL;
	}
	return d;
}

void
db_free(struct db *d)
{
	if (d == NULL)
		return;
	db_cancel(d);
	if (d->op != OP_NONE || !d->connected)
		db_abandon(d);
	else
		db_close(d);
	db_result_clear(&d->result);
	if (d->io_ev != NULL)
		event_free(d->io_ev);
	if (d->deadline_ev != NULL)
		event_free(d->deadline_ev);
	if (d->done_ev != NULL)
		event_free(d->done_ev);
	free(d->host);
	free(d->option_file);
	free(d->tls_ca);
	free(d->tls_cert);
	free(d->tls_key);
	free(d);
}

int
db_connect(struct db *d, db_cb cb, void *arg)
{
	struct in6_addr a6;
	struct in_addr a4;
	struct evutil_addrinfo hints;
	const char *host = d->host;

	if (d->op != OP_NONE) {
		db_set_error(d, 0, "connect: an operation is in progress");
		return -1;
	}
	db_drop_env();
	db_close(d);
	d->cb = cb;
	d->cb_arg = arg;
	d->is_query = 0;
	d->err_no = 0;
	d->err[0] = '\0';
	d->addr[0] = '\0';
	d->op = OP_RESOLVE;
	db_start_deadline(d, d->connect_timeout_ms);

	/* libmariadb takes "localhost" for the Unix socket: we mean TCP. */
	if (strcasecmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1) {
		snprintf(d->addr, sizeof(d->addr), "%s", host);
		db_connect_begin(d, d->addr);
		return 0;
	}
	if (d->dns == NULL) {
		db_set_error(d, 0, "connect to %s:%u: cannot resolve without "
		    "a resolver", d->host, d->port);
		db_complete(d, DB_ERR_CONNECT);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	/* May answer at once (/etc/hosts) and return NULL. */
	d->dns_req = evdns_getaddrinfo(d->dns, host, NULL, &hints, db_resolved,
	    d);
	return 0;
}

int
db_query(struct db *d, const char *sql, unsigned timeout_ms, db_cb cb,
    void *arg)
{
	int err, s;

	if (d->op != OP_NONE) {
		db_set_error(d, 0, "query: an operation is in progress");
		return -1;
	}
	if (!d->connected || d->mysql == NULL) {
		db_set_error(d, CR_SERVER_GONE_ERROR, "query: not connected");
		return -1;
	}
	d->cb = cb;
	d->cb_arg = arg;
	d->is_query = 1;
	d->err_no = 0;
	d->err[0] = '\0';
	d->pending_errno = 0;
	d->pending_error[0] = '\0';
	d->lib_timeout = 0;
	db_result_clear(&d->result);
	d->op = OP_QUERY;
	db_start_deadline(d, timeout_ms ? timeout_ms : d->query_timeout_ms);
	s = mysql_real_query_start(&err, d->mysql, sql, strlen(sql));
	if (s != 0)
		db_wait(d, s);
	else
		db_step(d, -1 - err);
	return 0;
}

void
db_close(struct db *d)
{
	db_cancel(d);
	db_result_clear(&d->result);
	if (d->mysql != NULL && d->connected && d->op == OP_NONE) {
		/*
		 * Idle: a polite COM_QUIT.  It fits the empty send buffer,
		 * so the write cannot wait, and no answer is read.
		 */
		mysql_close(d->mysql);
		d->mysql = NULL;
		d->connected = 0;
	} else
		db_abandon(d);
	d->op = OP_NONE;
	d->cb = NULL;
	d->cb_arg = NULL;
}

int
db_busy(const struct db *d)
{
	return d->op != OP_NONE;
}

int
db_connected(const struct db *d)
{
	return d->connected;
}

unsigned
db_errno(const struct db *d)
{
	return d->err_no;
}

const char *
db_error(const struct db *d)
{
	return d->err;
}

const char *
db_server_version(const struct db *d)
{
	if (!d->connected || d->mysql == NULL)
		return NULL;
	return mysql_get_server_info(d->mysql);
}

int
db_encrypted(const struct db *d)
{
	return db_cipher(d) != NULL;
}

const char *
db_cipher(const struct db *d)
{
	if (!d->connected || d->mysql == NULL)
		return NULL;
	return mysql_get_ssl_cipher(d->mysql);
}

unsigned long
db_thread_id(const struct db *d)
{
	if (!d->connected || d->mysql == NULL)
		return 0;
	return mysql_thread_id(d->mysql);
}

void *
db_handle(struct db *d)
{
	return d->mysql;
}

char *
db_quote(struct db *d, const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(2 * n + 3);
	unsigned long len;

	if (d != NULL && d->mysql != NULL)
		len = mysql_real_escape_string(d->mysql, out + 1, s, n);
	else
		len = mysql_escape_string(out + 1, s, n);
	if (len == (unsigned long)-1)	/* only on overflow: 2n + 1 cannot */
		fatalx("db_quote: escaping overflowed");
	out[0] = '\'';
	out[len + 1] = '\'';
	out[len + 2] = '\0';
	return out;
}

int
db_set_column(const struct db_set *s, const char *name)
{
	unsigned c;

	for (c = 0; c < s->ncols; c++)
		if (strcasecmp(s->names[c], name) == 0)
			return (int)c;
	return -1;
}

const char *
db_set_value(const struct db_set *s, size_t r, const char *name)
{
	int c;

	if (r >= s->nrows || (c = db_set_column(s, name)) < 0)
		return NULL;
	return s->values[r * s->ncols + (size_t)c];
}
