/*
 * The control socket: creates it safely, accepts, frames lines, enforces the
 * limits, reads peer credentials and dispatches requests through the command
 * table.  It never formats business data: handlers (commands.c) do.
 */
#ifndef RW_CONTROL_H
#define RW_CONTROL_H
#include <cjson/cJSON.h>

#include "daemon.h"
#include "protocol.h"

struct client;

int	 control_init(struct daemon *, char *err, size_t errlen);
void	 control_shutdown(void);	/* close the socket, say goodbye */
/* 1 when fd, just accepted, leaves too few descriptors: refuse the peer. */
int	 control_fds_low(int fd);

/* Replies; the functions take ownership of the cJSON. */
void	 client_ok(struct client *, long long id, cJSON *result);
void	 client_error(struct client *, long long id, enum proto_err,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	 client_event(struct client *, long long id, cJSON *event);
int	 client_is_admin(const struct client *);
uid_t	 client_uid(const struct client *);
/*
 * Mark the client as running a streaming command: no idle timeout, no new
 * request until client_stream_end().  on_close is called if the peer leaves
 * first (may be NULL).
 */
void	 client_stream_begin(struct client *, long long id,
	    void (*on_close)(struct client *, void *), void *arg);
void	 client_stream_end(struct client *);
/* Watchers: register a watch on target (NULL: all). */
void	 client_watch(struct client *, long long id, const char *target,
	    int samples);

/* Fan-out from the monitor. */
void	 control_publish_change(struct target *, const struct rw_event *);
void	 control_publish_sample(struct target *);

#endif
