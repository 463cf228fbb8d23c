/*
 * bench/cutover-probe.c: the cut-over benchmark's independent witness
 * (compiled by bench/cutover.sh; not a benchmark of its own).
 *
 *   cutover-probe --master-cnf F --replica-cnf F --out FILE
 *                 [--interval-us 2000] [--watch-us 5000]
 *
 * Two threads, each with its own libmariadb connection:
 *   writer   as the non-privileged application user on the OLD master:
 *            INSERT INTO sbtest.probe (seq, t_us) VALUES (n, now) every
 *            interval (autocommit), and records for every attempt the
 *            CLOCK_REALTIME before and after it and the server's error
 *            number (0: committed; 1290: refused by read_only).
 *   watcher  on the NEW master (the replica, read-only for this user): reads
 *            MAX(seq) of the same table every watch interval and records
 *            each change, so the moment the replica holds every row the old
 *            master committed is known.
 * Runs until SIGTERM or SIGINT, then writes FILE (TSV):
 *   w SEQ T0_US T1_US ERRNO        one line per insert attempt
 *   r T_US MAXSEQ ERRNO            one line per change seen on the replica
 * FILE.ready is created once both connections are up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

struct rec {
	long long	a, b, c;
	unsigned	err;
};

struct log {
	struct rec	*v;
	size_t		 n, cap;
};

static volatile sig_atomic_t stop;
static const char *master_cnf, *replica_cnf, *out_path;
static long interval_us = 2000, watch_us = 5000;
static struct log wlog, rlog;
static int ready_count;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long long
now_us(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
add(struct log *l, long long a, long long b, long long c, unsigned err)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		if (l->v == NULL) {
			perror("cutover-probe: realloc");
			exit(1);
		}
	}
	l->v[l->n++] = (struct rec){ a, b, c, err };
}

static MYSQL *
db_open(const char *cnf)
{
	unsigned tmo = 5, rtmo = 120;
	MYSQL *m;

	for (;;) {
		if ((m = mysql_init(NULL)) == NULL)
			return NULL;
		mysql_optionsv(m, MYSQL_READ_DEFAULT_FILE, cnf);
		mysql_optionsv(m, MYSQL_READ_DEFAULT_GROUP, "client");
		mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &tmo);
		mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &rtmo);
		mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &rtmo);
		if (mysql_real_connect(m, NULL, NULL, NULL, NULL, 0, NULL, 0))
			return m;
		fprintf(stderr, "cutover-probe: connect (%s): %s\n", cnf,
		    mysql_error(m));
		mysql_close(m);
		if (stop)
			return NULL;
		usleep(100000);
	}
}

static void
mark_ready(void)
{
	char path[4096];
	FILE *f;

	pthread_mutex_lock(&mu);
	if (++ready_count == 2) {
		snprintf(path, sizeof path, "%s.ready", out_path);
		if ((f = fopen(path, "w")) != NULL)
			fclose(f);
	}
	pthread_mutex_unlock(&mu);
}

/* Sleep until the monotonic tick *next, then move it on (no catch-up bursts). */
static void
tick(long long *next, long step)
{
	long long now = now_us(CLOCK_MONOTONIC);
	struct timespec ts;

	*next += step;
	if (*next <= now) {
		*next = now;
		return;
	}
	ts.tv_sec = *next / 1000000;
	ts.tv_nsec = (*next % 1000000) * 1000;
	while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
	    NULL) == EINTR)
		;
}

static void *
writer(void *arg)
{
	MYSQL *m = db_open(master_cnf);
	long long seq = 0, t0, t1, next;
	unsigned err;
	char sql[128];

	(void)arg;
	if (m == NULL)
		return NULL;
	mark_ready();
	next = now_us(CLOCK_MONOTONIC);
	while (!stop) {
		seq++;
		t0 = now_us(CLOCK_REALTIME);
		snprintf(sql, sizeof sql, "INSERT INTO sbtest.probe (seq, t_us) "
		    "VALUES (%lld, %lld)", seq, t0);
		err = mysql_query(m, sql) == 0 ? 0 : mysql_errno(m);
		t1 = now_us(CLOCK_REALTIME);
		add(&wlog, seq, t0, t1, err);
		if (err >= 2000 && err < 3000) {
			/* A client error (lost connection): start over. */
			mysql_close(m);
			if ((m = db_open(master_cnf)) == NULL)
				return NULL;
		}
		tick(&next, interval_us);
	}
	mysql_close(m);
	return NULL;
}

static void *
watcher(void *arg)
{
	MYSQL *m = db_open(replica_cnf);
	MYSQL_RES *res;
	MYSQL_ROW row;
	long long last = -1, v, next, t;
	unsigned err, last_err = 0;

	(void)arg;
	if (m == NULL)
		return NULL;
	mark_ready();
	next = now_us(CLOCK_MONOTONIC);
	while (!stop) {
		v = -1;
		err = 0;
		if (mysql_query(m, "SELECT COALESCE(MAX(seq), 0) FROM sbtest.probe")
		    != 0)
			err = mysql_errno(m);
		else if ((res = mysql_store_result(m)) != NULL) {
			if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL)
				v = atoll(row[0]);
			mysql_free_result(res);
		}
		t = now_us(CLOCK_REALTIME);
		if (v != last || err != last_err) {
			add(&rlog, t, v, 0, err);
			last = v;
			last_err = err;
		}
		if (err >= 2000 && err < 3000) {
			mysql_close(m);
			if ((m = db_open(replica_cnf)) == NULL)
				return NULL;
		}
		tick(&next, watch_us);
	}
	mysql_close(m);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	pthread_t tw, tr;
	FILE *f;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--master-cnf") == 0)
			master_cnf = argv[i + 1];
		else if (strcmp(argv[i], "--replica-cnf") == 0)
			replica_cnf = argv[i + 1];
		else if (strcmp(argv[i], "--out") == 0)
			out_path = argv[i + 1];
		else if (strcmp(argv[i], "--interval-us") == 0)
			interval_us = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--watch-us") == 0)
			watch_us = atol(argv[i + 1]);
		else {
			fprintf(stderr, "cutover-probe: unknown option %s\n", argv[i]);
			return 64;
		}
	}
	if (master_cnf == NULL || replica_cnf == NULL || out_path == NULL ||
	    interval_us <= 0 || watch_us <= 0) {
		fprintf(stderr, "usage: cutover-probe --master-cnf F --replica-cnf F "
		    "--out FILE [--interval-us N] [--watch-us N]\n");
		return 64;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (mysql_library_init(0, NULL, NULL) != 0)
		return 1;
	pthread_create(&tw, NULL, writer, NULL);
	pthread_create(&tr, NULL, watcher, NULL);
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	if ((f = fopen(out_path, "w")) == NULL) {
		perror(out_path);
		return 1;
	}
	for (size_t i = 0; i < wlog.n; i++)
		fprintf(f, "w\t%lld\t%lld\t%lld\t%u\n", wlog.v[i].a, wlog.v[i].b,
		    wlog.v[i].c, wlog.v[i].err);
	for (size_t i = 0; i < rlog.n; i++)
		fprintf(f, "r\t%lld\t%lld\t%u\n", rlog.v[i].a, rlog.v[i].b,
		    rlog.v[i].err);
	if (fclose(f) != 0) {
		perror(out_path);
		return 1;
	}
	mysql_library_end();
	return 0;
}
