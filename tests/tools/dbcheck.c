/*
 * dbcheck: run SQL statements through lib/db on a libevent loop and print
 * what came back, for tests/integration/db.bats.  Not installed.
 *
 * dbcheck [--host H] [--port P] [--option-file F] [--connect-timeout MS]
 *     [--query-timeout MS] [--tls MODE] [--tls-ca F] [--hosts-file F]
 *     [--ticker] SQL...
 *
 * Prints one JSON line when connected ({"connected": ...}), one per statement
 * ({"sets": [{"columns": [...], "rows": [[...]]}], "affected_rows": N}) or
 * "error: <status> <errno> <message>".  A server error goes on with the next
 * statement on the same connection; any other error stops.  Exit 0 if all
 * went well, else the last error's: 2 server, 3 connect, 4 timeout, 5 lost.
 * --hosts-file F resolves names from F instead of /etc/hosts (plus DNS).
 * --ticker runs a 10 ms timer alongside and prints "ticks: N max_gap_ms: M"
 * at the end, to show the loop never stalled.
 */
#include <err.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/dns.h>
#include <event2/event.h>

#include "db.h"

struct check {
	struct event_base *base;
	struct db	*db;
	char		**sql;
	int		 nsql, next;
	int		 rc;
	unsigned	 ticks;
	double		 last_tick_ms, max_gap_ms;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static const char *
status_name(enum db_status st)
{
	switch (st) {
	case DB_OK:
		return "ok";
	case DB_ERR_SERVER:
		return "server";
	case DB_ERR_CONNECT:
		return "connect";
	case DB_ERR_TIMEOUT:
		return "timeout";
	case DB_ERR_LOST:
		return "lost";
	}
	return "?";
}

static int
status_exit(enum db_status st)
{
	switch (st) {
	case DB_OK:
		return 0;
	case DB_ERR_SERVER:
		return 2;
	case DB_ERR_CONNECT:
		return 3;
	case DB_ERR_TIMEOUT:
		return 4;
	case DB_ERR_LOST:
		return 5;
	}
	return 1;
}

static void
print_json(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (s == NULL)
		errx(1, "cJSON_PrintUnformatted failed");
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	cJSON_Delete(o);
}

static void
print_result(const struct db_result *res)
{
	cJSON *o = cJSON_CreateObject(), *sets = cJSON_AddArrayToObject(o, "sets");
	size_t i, r;
	unsigned c;

	for (i = 0; i < res->nsets; i++) {
		const struct db_set *s = &res->sets[i];
		cJSON *set = cJSON_CreateObject();
		cJSON *cols = cJSON_AddArrayToObject(set, "columns");
		cJSON *rows = cJSON_AddArrayToObject(set, "rows");

		for (c = 0; c < s->ncols; c++)
			cJSON_AddItemToArray(cols, cJSON_CreateString(s->names[c]));
		for (r = 0; r < s->nrows; r++) {
			cJSON *row = cJSON_CreateArray();

			for (c = 0; c < s->ncols; c++) {
				const char *v = s->values[r * s->ncols + c];

				cJSON_AddItemToArray(row, v ? cJSON_CreateString(v) :
				    cJSON_CreateNull());
			}
			cJSON_AddItemToArray(rows, row);
		}
		cJSON_AddItemToArray(sets, set);
	}
	cJSON_AddNumberToObject(o, "affected_rows", (double)res->affected_rows);
	print_json(o);
}

static void	run_next(struct check *);

static void
report_error(struct check *c, enum db_status st)
{
	printf("error: %s %u %s\n", status_name(st), db_errno(c->db),
	    db_error(c->db));
	fflush(stdout);
	c->rc = status_exit(st);
}

static void
query_cb(struct db *db, enum db_status st, const struct db_result *res,
    void *arg)
{
	struct check *c = arg;

	if (st == DB_OK)
		print_result(res);
	else {
		report_error(c, st);
		if (st != DB_ERR_SERVER) {
			event_base_loopexit(c->base, NULL);
			return;
		}
	}
	run_next(c);
}

static void
run_next(struct check *c)
{
	if (c->next == c->nsql) {
		event_base_loopexit(c->base, NULL);
		return;
	}
	if (db_query(c->db, c->sql[c->next++], 0, query_cb, c) == -1) {
		printf("error: usage 0 %s\n", db_error(c->db));
		c->rc = 1;
		event_base_loopexit(c->base, NULL);
	}
}

static void
connect_cb(struct db *db, enum db_status st, const struct db_result *res,
    void *arg)
{
	struct check *c = arg;
	cJSON *o;

	if (st != DB_OK) {
		report_error(c, st);
		event_base_loopexit(c->base, NULL);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "connected");
	cJSON_AddStringToObject(o, "version", db_server_version(db));
	cJSON_AddNumberToObject(o, "thread_id", (double)db_thread_id(db));
	cJSON_AddBoolToObject(o, "encrypted", db_encrypted(db));
	if (db_cipher(db) != NULL)
		cJSON_AddStringToObject(o, "cipher", db_cipher(db));
	else
		cJSON_AddNullToObject(o, "cipher");
	print_json(o);
	run_next(c);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;
	double now = now_ms();

	if (c->ticks > 0 && now - c->last_tick_ms > c->max_gap_ms)
		c->max_gap_ms = now - c->last_tick_ms;
	c->last_tick_ms = now;
	c->ticks++;
}

static int
parse_tls(const char *s, enum rw_tls_mode *m)
{
	static const char *const names[] = { "disabled", "preferred",
	    "required", "verify_ca", "verify_identity" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*m = (enum rw_tls_mode)i;
			return 0;
		}
	return -1;
}

static unsigned
parse_uint(const char *s, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v > 0xffffffffUL)
		errx(1, "bad %s: %s", what, s);
	return (unsigned)v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: dbcheck [--host H] [--port P] "
	    "[--option-file F] [--connect-timeout MS] [--query-timeout MS] "
	    "[--tls MODE] [--tls-ca F] [--hosts-file F] [--ticker] SQL...\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'P' },
		{ "option-file", required_argument, NULL, 'f' },
		{ "connect-timeout", required_argument, NULL, 'c' },
		{ "query-timeout", required_argument, NULL, 'q' },
		{ "tls", required_argument, NULL, 't' },
		{ "tls-ca", required_argument, NULL, 'a' },
		{ "ticker", no_argument, NULL, 'T' },
		{ "hosts-file", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	struct db_params p = {
		.host = "127.0.0.1", .port = 3306, .tls = TLS_DISABLED,
		.connect_timeout_ms = 2000, .query_timeout_ms = 2000
	};
	struct check c = { .rc = 0 };
	struct evdns_base *dns;
	struct event *ticker = NULL;
	struct timeval tv = { 0, 10 * 1000 };
	const char *hosts = NULL;
	int ch, want_ticker = 0;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			p.host = optarg;
			break;
		case 'P':
			p.port = parse_uint(optarg, "port");
			break;
		case 'f':
			p.option_file = optarg;
			break;
		case 'c':
			p.connect_timeout_ms = parse_uint(optarg, "timeout");
			break;
		case 'q':
			p.query_timeout_ms = parse_uint(optarg, "timeout");
			break;
		case 't':
			if (parse_tls(optarg, &p.tls) == -1)
				errx(1, "bad TLS mode: %s", optarg);
			break;
		case 'a':
			p.tls_ca = optarg;
			break;
		case 'T':
			want_ticker = 1;
			break;
		case 'H':
			hosts = optarg;
			break;
		default:
			usage();
		}
	}
	c.sql = argv + optind;
	c.nsql = argc - optind;

	signal(SIGPIPE, SIG_IGN);
	if ((c.base = event_base_new()) == NULL)
		errx(1, "event_base_new failed");
	if ((dns = evdns_base_new(c.base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_NAMESERVERS_NO_DEFAULT)) == NULL)
		dns = evdns_base_new(c.base, 0);
	if (dns == NULL)
		errx(1, "evdns_base_new failed");
	if (evdns_base_load_hosts(dns, hosts) != 0)
		errx(1, "cannot load %s", hosts ? hosts : "/etc/hosts");
	if ((c.db = db_new(c.base, dns, &p)) == NULL)
		errx(1, "db_new failed");
	if (want_ticker) {
		ticker = event_new(c.base, -1, EV_PERSIST, tick_cb, &c);
		event_add(ticker, &tv);
	}
	if (db_connect(c.db, connect_cb, &c) == -1)
		errx(1, "db_connect: %s", db_error(c.db));
	event_base_dispatch(c.base);

	if (ticker != NULL) {
		/* The gap up to now counts too: a stall at the very end. */
		tick_cb(-1, 0, &c);
		printf("ticks: %u max_gap_ms: %.0f\n", c.ticks - 1,
		    c.max_gap_ms);
		event_free(ticker);
	}
	db_free(c.db);
	evdns_base_free(dns, 0);
	event_base_free(c.base);
	return c.rc;
}
