/*
 * sockload: control-socket load generator for bench/socket.sh.
 *
 *   sockload -s SOCKET -c CLIENTS -n REQUESTS [-w WARMUP] [-r REQUEST]
 *            [-t THINK_US] [-o RAWFILE]
 *
 * CLIENTS threads each open their own connection (plain blocking socket),
 * send WARMUP untimed requests, meet at a barrier, then send REQUESTS
 * requests one after another, each timed with clock_gettime(CLOCK_MONOTONIC)
 * from just before send() to the reply's final newline.  REQUEST is one JSON
 * line without the newline (default: status of target "main").  With -t,
 * each client pauses a random 0..2*THINK_US microseconds between requests
 * (not timed), so the clients are concurrent without saturating the
 * daemon; without it they send back to back (closed loop).  Prints one
 * line of key=value: latencies in microseconds (nearest-rank percentiles
 * over every request of every client), requests/s over the timed phase,
 * reply size, errors.  Never asserts anything.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *sock_path;
static const char *request = "{\"id\":1,\"cmd\":\"status\",\"target\":\"main\"}";
static int nreq = 1000, nwarm = 50;
static long think_us;
static pthread_barrier_t ready, go;
static uint64_t *lat_ns;		/* clients * nreq */
static size_t reply_bytes;
static int errors;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
fail(const char *what)
{
	fprintf(stderr, "sockload: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* One request, one reply line; returns the reply's size or -1. */
static ssize_t
roundtrip(int fd, const char *req, size_t reqlen, char **buf, size_t *cap)
{
	size_t n = 0;
	ssize_t r;

	for (size_t off = 0; off < reqlen; off += (size_t)r)
		if ((r = send(fd, req + off, reqlen - off, MSG_NOSIGNAL)) <= 0)
			return -1;
	for (;;) {
		if (n == *cap) {
			*cap *= 2;
			if ((*buf = realloc(*buf, *cap)) == NULL)
				fail("realloc");
		}
		if ((r = recv(fd, *buf + n, *cap - n, 0)) <= 0)
			return -1;
		n += (size_t)r;
		if ((*buf)[n - 1] == '\n')
			return (ssize_t)n;
	}
}

static void *
client(void *arg)
{
	size_t idx = (size_t)(uintptr_t)arg, cap = 65536, reqlen;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *buf = malloc(cap), *req;
	ssize_t got = 0;
	uint64_t t0;
	int fd, bad = 0;
	unsigned seed = (unsigned)idx * 2654435761u + 1;

	if (buf == NULL || asprintf(&req, "%s\n", request) == -1)
		fail("malloc");
	reqlen = strlen(req);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fail("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		fail("connect");
	for (int i = 0; i < nwarm; i++)
		if (roundtrip(fd, req, reqlen, &buf, &cap) == -1)
			fail("warm-up request");
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	for (int i = 0; i < nreq; i++) {
		if (think_us > 0) {
			struct timespec ts;
			long us = (long)(rand_r(&seed) % (unsigned)(2 * think_us + 1));

			ts.tv_sec = us / 1000000;
			ts.tv_nsec = (us % 1000000) * 1000;
			nanosleep(&ts, NULL);
		}
		t0 = now_ns();
		got = roundtrip(fd, req, reqlen, &buf, &cap);
		lat_ns[idx * (size_t)nreq + (size_t)i] = now_ns() - t0;
		if (got == -1) {
			bad = nreq - i;
			break;
		}
		if (strstr(buf, "\"ok\":true") == NULL)
			bad++;
	}
	pthread_mutex_lock(&mu);
	errors += bad;
	if (got > 0)
		reply_bytes = (size_t)got;
	pthread_mutex_unlock(&mu);
	close(fd);
	free(buf);
	free(req);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static double
pct(const uint64_t *v, size_t n, double q)
{
	size_t rank = (size_t)ceil(q * (double)n);

	if (rank < 1)
		rank = 1;
	return (double)v[rank - 1] / 1000.0;
}

int
main(int argc, char *argv[])
{
	int ch, clients = 1;
	const char *raw = NULL;
	pthread_t *th;
	uint64_t t0, t1, sum = 0;
	size_t total;

	while ((ch = getopt(argc, argv, "s:c:n:w:r:t:o:")) != -1) {
		switch (ch) {
		case 's': sock_path = optarg; break;
		case 'c': clients = atoi(optarg); break;
		case 'n': nreq = atoi(optarg); break;
		case 'w': nwarm = atoi(optarg); break;
		case 'r': request = optarg; break;
		case 't': think_us = atol(optarg); break;
		case 'o': raw = optarg; break;
		default:
			fprintf(stderr, "usage: sockload -s SOCKET [-c CLIENTS] "
			    "[-n REQUESTS] [-w WARMUP] [-r REQUEST] [-t THINK_US] "
			    "[-o RAWFILE]\n");
			return 64;
		}
	}
	if (sock_path == NULL || clients < 1 || nreq < 1 || nwarm < 0) {
		fprintf(stderr, "sockload: -s SOCKET required; -c, -n >= 1\n");
		return 64;
	}
	total = (size_t)clients * (size_t)nreq;
	if ((lat_ns = calloc(total, sizeof *lat_ns)) == NULL ||
	    (th = calloc((size_t)clients, sizeof *th)) == NULL)
		fail("calloc");
	pthread_barrier_init(&ready, NULL, (unsigned)clients + 1);
	pthread_barrier_init(&go, NULL, (unsigned)clients + 1);
	for (int i = 0; i < clients; i++)
		if ((errno = pthread_create(&th[i], NULL, client,
		    (void *)(uintptr_t)i)) != 0)
			fail("pthread_create");
	pthread_barrier_wait(&ready);
	t0 = now_ns();
	pthread_barrier_wait(&go);
	for (int i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	t1 = now_ns();

	if (raw != NULL) {
		FILE *f = fopen(raw, "w");

		if (f == NULL)
			fail(raw);
		for (size_t i = 0; i < total; i++)
			fprintf(f, "%.3f\n", (double)lat_ns[i] / 1000.0);
		fclose(f);
	}
	for (size_t i = 0; i < total; i++)
		sum += lat_ns[i];
	qsort(lat_ns, total, sizeof *lat_ns, cmp_u64);
	printf("clients=%d requests=%zu p50_us=%.1f p90_us=%.1f p99_us=%.1f "
	    "p999_us=%.1f max_us=%.1f mean_us=%.1f rps=%.0f reply_bytes=%zu "
	    "errors=%d\n", clients, total, pct(lat_ns, total, 0.50),
	    pct(lat_ns, total, 0.90), pct(lat_ns, total, 0.99),
	    pct(lat_ns, total, 0.999), (double)lat_ns[total - 1] / 1000.0,
	    (double)sum / (double)total / 1000.0,
	    (double)total / ((double)(t1 - t0) / 1e9), reply_bytes, errors);
	return 0;
}
