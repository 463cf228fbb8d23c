#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "protocol.h"
#include "xmalloc.h"

#define CLIENT_READ_CHUNK	65536

void
client_init(struct client *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/*
 * A Unix socket connect() blocks when the daemon's listen backlog is full;
 * SO_SNDTIMEO bounds that wait (and later writes) on Linux.  Returns -1
 * with errno set, so the caller can tell "not running" from the rest.
 */
int
client_connect(struct client *c, const char *path, int timeout_ms)
{
	struct sockaddr_un sun;
	struct timeval tv;
	int fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (timeout_ms > 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	c->fd = fd;
	return 0;
}

int
client_send(struct client *c, const char *line)
{
	size_t off = 0, n = strlen(line);
	ssize_t w;

	while (off < n) {
		w = write(c->fd, line + off, n - off);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

/*
 * Return the next line (NUL-terminated in place of its newline) in *line;
 * it stays valid until the next call.  timeout_ms < 0 waits for ever.
 */
/*
 * poll() that cannot miss SIGINT/SIGTERM: the signals are blocked while
 * ctl_signal is checked and unblocked only inside ppoll(), so one that
 * lands between the check and the wait still wakes it (watch and wait
 * would otherwise sleep on until the daemon's next line, or forever).
 */
static int
wait_readable(struct pollfd *pfd, int wait_ms)
{
	struct timespec ts, *tsp = NULL;
	sigset_t block, old;
	int n;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (ctl_signal != 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		errno = EINTR;
		return -1;
	}
	if (wait_ms >= 0) {
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (long)(wait_ms % 1000) * 1000000;
		tsp = &ts;
	}
	n = ppoll(pfd, 1, tsp, &old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return n;
}

enum client_rv
client_read_line(struct client *c, int timeout_ms, char **line, size_t *len)
{
	long long deadline = timeout_ms < 0 ? -1 : now_mono_ms() + timeout_ms;
	struct pollfd pfd;
	size_t scan = 0;
	char *nl;
	ssize_t r;
	int wait_ms;

	if (c->used > 0) {
		memmove(c->buf, c->buf + c->used, c->len - c->used);
		c->len -= c->used;
		c->used = 0;
	}
	for (;;) {
		/* Nothing buffered yet means no buffer either. */
		if (c->len > scan &&
		    (nl = memchr(c->buf + scan, '\n', c->len - scan)) != NULL) {
			*nl = '\0';
			*line = c->buf;
			*len = (size_t)(nl - c->buf);
			c->used = *len + 1;
			return CLIENT_OK;
		}
		scan = c->len;
		if (c->len > CLIENT_MAX_LINE)
			return CLIENT_TOOLONG;

		wait_ms = -1;
		if (deadline >= 0) {
			long long left = deadline - now_mono_ms();

			if (left <= 0)
				return CLIENT_TIMEOUT;
			wait_ms = left > 1000000000 ? 1000000000 : (int)left;
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		switch (wait_readable(&pfd, wait_ms)) {
		case -1:
			return errno == EINTR ? CLIENT_INTR : CLIENT_ERROR;
		case 0:
			return CLIENT_TIMEOUT;
		}

		/* One spare byte so a full buffer still has room to grow. */
		if (c->cap - c->len < CLIENT_READ_CHUNK + 1) {
			c->cap = c->len + CLIENT_READ_CHUNK + 1;
			c->buf = xrealloc(c->buf, c->cap);
		}
		r = read(c->fd, c->buf + c->len, CLIENT_READ_CHUNK);
		if (r == -1) {
			if (errno == EINTR)
				return CLIENT_INTR;
			if (errno == EAGAIN)
				continue;
			return CLIENT_ERROR;
		}
		if (r == 0)
			return CLIENT_EOF;
		c->len += (size_t)r;
	}
}

enum client_rv
client_reply(struct client *c, int timeout_ms, cJSON **root, cJSON **body,
    int *kind)
{
	static const char *const member[] = { "result", "error", "event" };
	enum client_rv rv;
	size_t len;
	char *line;
	int i;

	*root = *body = NULL;
	if ((rv = client_read_line(c, timeout_ms, &line, &len)) != CLIENT_OK)
		return rv;
	if ((*root = proto_parse_reply(line, len, kind)) == NULL)
		return CLIENT_GARBAGE;
	switch (*kind) {
	case 'o':
		i = 0;
		break;
	case 'e':
		i = 1;
		break;
	case 'v':
		i = 2;
		break;
	default:
		cJSON_Delete(*root);
		*root = NULL;
		return CLIENT_GARBAGE;
	}
	*body = cJSON_GetObjectItemCaseSensitive(*root, member[i]);
	return CLIENT_OK;
}

void
client_close(struct client *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->buf);
	client_init(c);
}

const char *
client_strerror(enum client_rv rv)
{
	switch (rv) {
	case CLIENT_OK:
		return "no error";
	case CLIENT_EOF:
		return "the daemon closed the connection";
	case CLIENT_TIMEOUT:
		return "no reply from the daemon in time";
	case CLIENT_INTR:
		return "interrupted";
	case CLIENT_ERROR:
		return strerror(errno);
	case CLIENT_TOOLONG:
		return "reply line longer than 4 MiB";
	case CLIENT_GARBAGE:
		return "reply is not a protocol reply line";
	}
	return "?";
}
