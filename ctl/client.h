/*
 * The client's side of the control socket: connect, send one request line,
 * read reply lines.  Blocking I/O with poll() deadlines; no protocol
 * knowledge beyond "lines" lives here except client_reply(), which frames
 * one reply with proto_parse_reply().
 */
#ifndef CTL_CLIENT_H
#define CTL_CLIENT_H
#include <signal.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/*
 * Set by the SIGINT/SIGTERM handler of the streaming commands; a read then
 * returns CLIENT_INTR, however the signal and the wait interleave.
 */
extern volatile sig_atomic_t ctl_signal;

/*
 * A status for every target, with every raw status column, can be large;
 * the daemon queues at most 4 MiB for a client, so no single line is longer.
 */
#define CLIENT_MAX_LINE	(4 * 1024 * 1024)

struct client {
	int	 fd;
	char	*buf;
	size_t	 len;		/* bytes held in buf */
	size_t	 cap;
	size_t	 used;		/* bytes of the line last returned */
};

/* client_read_line() and client_reply() results. */
enum client_rv {
	CLIENT_OK = 0,
	CLIENT_EOF,		/* the daemon closed the connection */
	CLIENT_TIMEOUT,
	CLIENT_INTR,		/* a signal arrived; the caller decides */
	CLIENT_ERROR,		/* errno is set */
	CLIENT_TOOLONG,		/* a line over CLIENT_MAX_LINE */
	CLIENT_GARBAGE		/* a line that is not a reply */
};

void	client_init(struct client *);
int	client_connect(struct client *, const char *path, int timeout_ms);
int	client_send(struct client *, const char *line);
enum client_rv client_read_line(struct client *, int timeout_ms,
	    char **line, size_t *len);
void	client_close(struct client *);

/*
 * One reply line: *root is the whole reply object (caller frees), *body its
 * "result", "error" or "event" member (NULL if missing), *kind 'o', 'e' or
 * 'v' as proto_parse_reply() says.
 */
enum client_rv client_reply(struct client *, int timeout_ms, cJSON **root,
	    cJSON **body, int *kind);

const char *client_strerror(enum client_rv);

#endif
