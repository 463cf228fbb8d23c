/*
 * appwriter: an application-like writer for cut-over tests and benchmarks.
 * Not installed.
 *
 * appwriter --defaults-file F --table SCHEMA.TABLE --out FILE
 *     [--interval-us N] [--retry-us N] [--start-seq N] [--create]
 *
 * Inserts one row after another, each in its own autocommit statement, into
 * TABLE (seq BIGINT PRIMARY KEY, t_us BIGINT), with a new seq for every
 * attempt (start-seq, default 1, then +1), sleeping interval-us (default
 * 1000) after each.  Like an application with a pool, it drops a connection
 * on a connection-level error (below) and connects again after retry-us
 * (default 1000); after any other error it goes on on the same connection
 * after retry-us.  Connect timeout 1 s, read and write timeouts 2 s, so a
 * statement blocked by a lock (FLUSH TABLES WITH READ LOCK) ends in error
 * 2013 after 2 s.  Connects with the [client] group of F and nothing else;
 * --create runs CREATE TABLE IF NOT EXISTS on the first connection.
 *
 * FILE gets one line per event, times in CLOCK_REALTIME microseconds:
 *     c T_US PORT SERVER_ID   connected (@@port and @@server_id of the server)
 *     a SEQ T_ACK_US PORT     the INSERT of SEQ returned OK (acknowledged),
 *                             on the server of the last "c" line
 *     e SEQ T_US ERRNO        it failed; SEQ 0: connecting failed (no INSERT)
 * An acknowledged row must be in the table of the server at PORT; a failed
 * one may or may not be (a lost connection hides whether it committed).
 * FILE is written through a 4 MiB buffer and complete only after the exit;
 * FILE.ready appears once the first connection is up (and the table made).
 * SIGTERM or SIGINT stops it (after the statement under way, at most the
 * read timeout); it then prints on stderr
 *     appwriter: N attempts, N acks, N errors, longest ack gap X ms, ports P,...
 * Exit 0 after a signal; 1 when FILE cannot be written, --create fails, or
 * the first connection is refused other than by a connection-level error
 * (1045 access denied, 1049 unknown database: a set-up mistake); 2 on a
 * usage error.  tests/tools/appwriter-report summarises FILE.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>

#define MAX_PORTS	16

static volatile sig_atomic_t stopping;

struct writer {
	const char	*defaults_file;
	char		 table[160];	/* `schema`.`table` */
	const char	*out_path;
	FILE		*out;
	long		 interval_us, retry_us;
	long long	 next_seq;
	int		 create;

	MYSQL		*conn;
	unsigned	 port;		/* of the current connection */

	unsigned long long attempts, acks, errors;
	double		 last_ack_ms, max_gap_ms;	/* CLOCK_MONOTONIC */
	unsigned	 ports[MAX_PORTS];
	int		 nports;
	int		 ready;
};

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static long long
realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Sleep, but return early on a signal (the loop then sees stopping). */
static void
sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	if (us > 0)
		nanosleep(&ts, NULL);
}

/*
 * Errors after which an application drops the connection and takes another
 * from its pool: the connection is gone or useless (client errors 2000-2999:
 * lost, gone away, cannot connect, timeouts; 1927 killed; 1053 shutdown;
 * 4031 idle disconnect), or this server refuses writes for now (1290
 * read_only, 1836 read-only mode, 1792 read-only transaction, 1223 a read
 * lock, 1205 lock wait timeout, 1969/3024 statement time limit, 1317
 * interrupted), so another connection may land on a server that takes them.
 */
static int
connection_error(unsigned e)
{
	if (e >= 2000 && e < 3000)
		return 1;
	switch (e) {
	case 1040: case 1053: case 1205: case 1223: case 1290: case 1317:
	case 1792: case 1836: case 1927: case 1969: case 3024: case 4031:
		return 1;
	}
	return 0;
}

static void
note_port(struct writer *w, unsigned port)
{
	int i;

	for (i = 0; i < w->nports; i++)
		if (w->ports[i] == port)
			return;
	if (w->nports < MAX_PORTS)
		w->ports[w->nports++] = port;
}

static void
drop_connection(struct writer *w)
{
	if (w->conn != NULL)
		mysql_close(w->conn);
	w->conn = NULL;
	w->port = 0;
}

/* One failed connect (SEQ 0) or statement. */
static void
record_error(struct writer *w, long long seq, unsigned e)
{
	w->errors++;
	fprintf(w->out, "e %lld %lld %u\n", seq, realtime_us(), e);
}

/* Connect and read @@port, @@server_id: 0, or -1 with the error recorded. */
static int
open_connection(struct writer *w)
{
	unsigned int connect_timeout = 1, io_timeout = 2;
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned e;

	if ((w->conn = mysql_init(NULL)) == NULL) {
		fprintf(stderr, "appwriter: mysql_init: out of memory\n");
		exit(1);
	}
	mysql_optionsv(w->conn, MYSQL_READ_DEFAULT_FILE, w->defaults_file);
	mysql_optionsv(w->conn, MYSQL_READ_DEFAULT_GROUP, "client");
	mysql_optionsv(w->conn, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	mysql_optionsv(w->conn, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
	mysql_optionsv(w->conn, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
	if (mysql_real_connect(w->conn, NULL, NULL, NULL, NULL, 0, NULL, 0) ==
	    NULL)
		goto fail;
	if (mysql_query(w->conn, "SELECT @@port, @@server_id") != 0 ||
	    (res = mysql_store_result(w->conn)) == NULL)
		goto fail;
	if ((row = mysql_fetch_row(res)) == NULL || row[0] == NULL ||
	    row[1] == NULL) {
		mysql_free_result(res);
		fprintf(stderr, "appwriter: SELECT @@port, @@server_id "
		    "returned no row\n");
		exit(1);
	}
	w->port = (unsigned)strtoul(row[0], NULL, 10);
	fprintf(w->out, "c %lld %u %s\n", realtime_us(), w->port, row[1]);
	mysql_free_result(res);
	note_port(w, w->port);
	return 0;

fail:
	e = mysql_errno(w->conn);
	/* Before the first connection, a refusal (1045, 1049, ...) is a
	 * mistake in the set-up, not an outage to ride out. */
	if (!w->ready && !connection_error(e)) {
		fprintf(stderr, "appwriter: connecting with %s: %s\n",
		    w->defaults_file, mysql_error(w->conn));
		exit(1);
	}
	record_error(w, 0, e ? e : 2000);
	drop_connection(w);
	return -1;
}

/* What the first connection does before FILE.ready says "running". */
static void
first_connection(struct writer *w)
{
	char sql[512];
	char *path;
	FILE *f;

	if (w->create) {
		snprintf(sql, sizeof sql, "CREATE TABLE IF NOT EXISTS %s "
		    "(seq BIGINT NOT NULL PRIMARY KEY, t_us BIGINT NOT NULL)",
		    w->table);
		if (mysql_query(w->conn, sql) != 0) {
			fprintf(stderr, "appwriter: %s: %s\n", sql,
			    mysql_error(w->conn));
			exit(1);
		}
	}
	if (asprintf(&path, "%s.ready", w->out_path) == -1) {
		fprintf(stderr, "appwriter: out of memory\n");
		exit(1);
	}
	if ((f = fopen(path, "w")) == NULL || fclose(f) != 0) {
		fprintf(stderr, "appwriter: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	free(path);
	w->ready = 1;
}

static void
insert_one(struct writer *w)
{
	char sql[256];
	long long seq = w->next_seq++;
	double now;
	int n;
	unsigned e;

	n = snprintf(sql, sizeof sql, "INSERT INTO %s (seq, t_us) VALUES "
	    "(%lld, %lld)", w->table, seq, realtime_us());
	w->attempts++;
	if (mysql_real_query(w->conn, sql, (unsigned long)n) == 0) {
		w->acks++;
		fprintf(w->out, "a %lld %lld %u\n", seq, realtime_us(), w->port);
		now = monotonic_ms();
		if (w->last_ack_ms > 0 && now - w->last_ack_ms > w->max_gap_ms)
			w->max_gap_ms = now - w->last_ack_ms;
		w->last_ack_ms = now;
		sleep_us(w->interval_us);
		return;
	}
	e = mysql_errno(w->conn);
	record_error(w, seq, e);
	if (connection_error(e))
		drop_connection(w);
	sleep_us(w->retry_us);
}

static void
usage(void)
{
	fprintf(stderr, "usage: appwriter --defaults-file F --table "
	    "SCHEMA.TABLE --out FILE [--interval-us N] [--retry-us N]\n"
	    "                 [--start-seq N] [--create]\n");
	exit(2);
}

static long long
number(const char *opt, const char *s, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "appwriter: %s: not a number from %lld to "
		    "%lld: '%s'\n", opt, min, max, s);
		exit(2);
	}
	return v;
}

/* SCHEMA.TABLE of plain identifiers, as `SCHEMA`.`TABLE`. */
static void
set_table(struct writer *w, const char *arg)
{
	const char *dot = strchr(arg, '.'), *p;

	if (dot == NULL || dot == arg || dot[1] == '\0' ||
	    strlen(arg) > 128)
		goto bad;
	for (p = arg; *p != '\0'; p++)
		if (p != dot && !((*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '_' || *p == '$'))
			goto bad;
	snprintf(w->table, sizeof w->table, "`%.*s`.`%s`", (int)(dot - arg),
	    arg, dot + 1);
	return;
bad:
	fprintf(stderr, "appwriter: --table: SCHEMA.TABLE of letters, digits, "
	    "_ and $, not '%s'\n", arg);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "defaults-file", required_argument, NULL, 'f' },
		{ "table", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "interval-us", required_argument, NULL, 'i' },
		{ "retry-us", required_argument, NULL, 'r' },
		{ "start-seq", required_argument, NULL, 's' },
		{ "create", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct writer w = { .interval_us = 1000, .retry_us = 1000,
	    .next_seq = 1 };
	struct sigaction sa;
	int ch, i;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			w.defaults_file = optarg;
			break;
		case 't':
			set_table(&w, optarg);
			break;
		case 'o':
			w.out_path = optarg;
			break;
		case 'i':
			w.interval_us = number("--interval-us", optarg, 0,
			    60000000);
			break;
		case 'r':
			w.retry_us = number("--retry-us", optarg, 0, 60000000);
			break;
		case 's':
			w.next_seq = number("--start-seq", optarg, 1,
			    LLONG_MAX / 2);
			break;
		case 'c':
			w.create = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || w.defaults_file == NULL || w.table[0] == '\0' ||
	    w.out_path == NULL)
		usage();

	if ((w.out = fopen(w.out_path, "w")) == NULL) {
		fprintf(stderr, "appwriter: %s: %s\n", w.out_path,
		    strerror(errno));
		return 1;
	}
	/* Lines go to memory; a write(2) only every 4 MiB, never per line. */
	setvbuf(w.out, NULL, _IOFBF, 4 << 20);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;	/* no SA_RESTART: sleeps end early */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (mysql_library_init(0, NULL, NULL) != 0) {
		fprintf(stderr, "appwriter: mysql_library_init failed\n");
		return 1;
	}
	while (!stopping) {
		if (w.conn == NULL) {
			if (open_connection(&w) == -1) {
				sleep_us(w.retry_us);
				continue;
			}
			if (!w.ready)
				first_connection(&w);
		}
		insert_one(&w);
	}
	drop_connection(&w);
	mysql_library_end();

	if (fclose(w.out) != 0) {
		fprintf(stderr, "appwriter: writing %s: %s\n", w.out_path,
		    strerror(errno));
		return 1;
	}
	fprintf(stderr, "appwriter: %llu attempts, %llu acks, %llu errors, "
	    "longest ack gap %.1f ms, ports ", w.attempts, w.acks, w.errors,
	    w.max_gap_ms);
	for (i = 0; i < w.nports; i++)
		fprintf(stderr, "%s%u", i ? "," : "", w.ports[i]);
	fprintf(stderr, "%s\n", w.nports ? "" : "none");
	return 0;
}
