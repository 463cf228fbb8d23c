/*
 * The control socket.  Modelled on OpenBSD's control.c and tmux's server:
 * umask before bind, chmod after, a live instance detected by connecting
 * first; peer credentials from the kernel; every limit enforced here.
 */
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "commands.h"
#include "control.h"
#include "log.h"
#include "snapshot.h"
#include "xmalloc.h"

/*
 * Replies queued for a peer that does not read: past OUTPUT_CAP for one
 * peer, or OUTPUT_TOTAL_CAP for all of them together, a peer with a backlog
 * is dropped.  Without the total, 63 non-reading watchers held 271 MB.
 * OUTPUT_CAP is the client's own line limit (ctl/client.c), so one reply
 * the client could take (the status of a fleet) is never refused here.
 */
#define OUTPUT_CAP	(4u << 20)
#define OUTPUT_TOTAL_CAP (16u << 20)
/*
 * Unfinished request lines, all clients together: past INPUT_TOTAL_CAP a
 * client whose line is over INPUT_SHARE is refused, so 4096 clients cannot
 * park 64 KiB each (requests are a few hundred bytes).
 */
#define INPUT_TOTAL_CAP	(16u << 20)
#define INPUT_SHARE	(16u << 10)
#define MAX_GROUPS	256
/* A request line must be complete this long after its first byte. */
#define LINE_DEADLINE_S	10
/* A closing peer that will not take its last reply is freed after this. */
#define CLOSE_GRACE_S	2
/* The most client slots kept for admins (see admin_reserve()). */
#define ADMIN_RESERVE_MAX 16
/* Descriptors kept for the databases, hooks and journals, besides 4/target. */
#define FD_RESERVE	32

struct client {
	struct bufferevent *bev;
	int		 fd;
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;
	int		 admin;
	int		 closing;	/* flush, then free */
	int		 dispatching;	/* inside dispatch(): do not free */
	struct event	*reap;		/* frees a dead client from the loop */
	int		 dead;		/* free once dispatch() returns */
	int		 streaming;	/* a watch or promote owns the connection */
	long long	 stream_id;
	void		(*on_close)(struct client *, void *);
	void		*on_close_arg;
	int		 watching;
	char		 watch_target[64];	/* "" all */
	int		 watch_samples;
	struct event	*timer;		/* idle, line deadline, close grace */
	uint64_t	 idle_at;	/* monotonic ms: the idle deadline */
	int		 partial;	/* a request line has begun */
	TAILQ_ENTRY(client) entry;
};

static struct {
	struct daemon	*d;
	struct evconnlistener *listener;
	struct event	*rearm;
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	TAILQ_HEAD(, client) clients;
	unsigned	 nclients;
	size_t		 queued;	/* reply bytes queued, all clients */
	size_t		 unread;	/* request bytes buffered, all clients */
	rlim_t		 nofile;	/* our descriptor limit */
} ctl;

static void	client_free(struct client *);
static void	close_after_flush(struct client *);

static void
client_send(struct client *c, char *line)
{
	struct evbuffer *out;
	size_t q, n;

	if (line == NULL || c->closing) {
		free(line);
		return;
	}
	out = bufferevent_get_output(c->bev);
	q = evbuffer_get_length(out);
	n = strlen(line);
	if (q + n > OUTPUT_CAP || (q > 0 && ctl.queued + n > OUTPUT_TOTAL_CAP)) {
		/* A peer that does not read must not cost us memory. */
		log_info("control: client uid %ld pid %ld not reading (%zu bytes "
		    "queued, %zu for all clients), closing", (long)c->uid,
		    (long)c->pid, q, ctl.queued);
		free(line);
		/*
		 * Never free here: the caller (read_cb, a promotion, a
		 * watch fan-out) still holds c.  read_cb frees it after
		 * dispatch, or the reap event does from the loop.
		 */
		c->dead = c->closing = 1;
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		if (!c->dispatching)
			event_active(c->reap, EV_TIMEOUT, 1);
		return;
	}
	evbuffer_add(out, line, n);
	free(line);
}

void
client_ok(struct client *c, long long id, cJSON *result)
{
	client_send(c, proto_reply_ok(id, result));
}

void
client_error(struct client *c, long long id, enum proto_err code,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	client_send(c, proto_reply_error(id, code, msg));
}

void
client_event(struct client *c, long long id, cJSON *event)
{
	client_send(c, proto_reply_event(id, event));
}

int
client_is_admin(const struct client *c)
{
	return c->admin;
}

uid_t
client_uid(const struct client *c)
{
	return c->uid;
}

static void
arm(struct client *c, uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(c->timer, &tv);
}

/*
 * The idle timeout runs from the connection or the last complete request,
 * never from the last byte: a peer trickling a byte at a time is idle.
 */
static void
set_idle_timeout(struct client *c, int on)
{
	uint64_t ms = (uint64_t)ctl.d->conf->client_idle_timeout_s * 1000;

	c->partial = 0;
	if (!on) {
		evtimer_del(c->timer);
		return;
	}
	c->idle_at = (uint64_t)now_mono_ms() + ms;
	arm(c, ms);
}

/* A request line has begun: it must end within LINE_DEADLINE_S. */
static void
line_begun(struct client *c)
{
	uint64_t now = (uint64_t)now_mono_ms(), ms = LINE_DEADLINE_S * 1000;

	if (c->partial)
		return;
	c->partial = 1;
	if (!c->streaming && c->idle_at > now && c->idle_at - now < ms)
		ms = c->idle_at - now;
	arm(c, ms);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	if (c->closing) {
		log_debug("control: client pid %ld did not take its last reply",
		    (long)c->pid);
		client_free(c);
		return;
	}
	if (c->partial) {
		log_debug("control: client uid %ld pid %ld: request line "
		    "incomplete, closing", (long)c->uid, (long)c->pid);
		client_error(c, 0, PERR_IDLE_TIMEOUT, "request line not "
		    "complete in time");
	} else if (!c->streaming)
		client_error(c, 0, PERR_IDLE_TIMEOUT, "idle for %u s",
		    ctl.d->conf->client_idle_timeout_s);
	else
		return;
	close_after_flush(c);
}

void
client_stream_begin(struct client *c, long long id,
    void (*on_close)(struct client *, void *), void *arg)
{
	c->streaming = 1;
	c->stream_id = id;
	c->on_close = on_close;
	c->on_close_arg = arg;
	set_idle_timeout(c, 0);
}

void
client_stream_end(struct client *c)
{
	c->streaming = 0;
	c->on_close = NULL;
	c->on_close_arg = NULL;
	set_idle_timeout(c, 1);
}

static void
close_after_flush(struct client *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		client_free(c);
		return;
	}
	arm(c, CLOSE_GRACE_S * 1000);
}

/* Keep ctl.queued and ctl.unread: bytes buffered for all clients. */
static void
queued_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	ctl.queued += info->n_added;
	ctl.queued -= info->n_deleted;
}

static void
unread_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	ctl.unread += info->n_added;
	ctl.unread -= info->n_deleted;
}

static void
client_free(struct client *c)
{
	void (*cb)(struct client *, void *) = c->on_close;

	c->on_close = NULL;
	if (cb != NULL)
		cb(c, c->on_close_arg);
	TAILQ_REMOVE(&ctl.clients, c, entry);
	ctl.nclients--;
	event_free(c->reap);
	event_free(c->timer);
	ctl.queued -= evbuffer_get_length(bufferevent_get_output(c->bev));
	evbuffer_remove_cb(bufferevent_get_output(c->bev), queued_cb, c);
	ctl.unread -= evbuffer_get_length(bufferevent_get_input(c->bev));
	evbuffer_remove_cb(bufferevent_get_input(c->bev), unread_cb, c);
	bufferevent_free(c->bev);
	free(c);
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	client_free(arg);
}

void
client_watch(struct client *c, long long id, const char *target, int samples)
{
	client_stream_begin(c, id, NULL, NULL);
	c->watching = 1;
	snprintf(c->watch_target, sizeof c->watch_target, "%s",
	    target ? target : "");
	c->watch_samples = samples;
}

static int
watches(const struct client *c, const struct target *t)
{
	return c->watching && !c->closing &&
	    (c->watch_target[0] == '\0' || strcmp(c->watch_target, t->name) == 0);
}

void
control_publish_change(struct target *t, const struct rw_event *ev)
{
	struct client *c, *next;
	cJSON *o;

	TAILQ_FOREACH_SAFE(c, &ctl.clients, entry, next) {
		if (!watches(c, t))
			continue;
		o = event_to_json(ev);
		/* An operator's action is no state change to a watcher. */
		cJSON_AddStringToObject(o, "type", ev->kind[0] != '\0' ?
		    "action" : "change");
		client_event(c, c->stream_id, o);
	}
}

void
control_publish_sample(struct target *t)
{
	struct client *c, *next;

	TAILQ_FOREACH_SAFE(c, &ctl.clients, entry, next) {
		if (watches(c, t) && c->watch_samples)
			client_event(c, c->stream_id, snapshot_sample(t));
	}
}

static void
dispatch(struct client *c, const char *line, size_t len)
{
	struct proto_request req;
	const struct command *cmd;
	struct target *t = NULL;
	enum proto_err code;
	char err[256];

	if (proto_parse_request(line, len, &req, &code, err, sizeof err) == -1) {
		client_error(c, req.has_id ? req.id : 0, code, "%s", err);
		proto_request_free(&req);
		return;
	}
	if (c->streaming) {
		client_error(c, req.id, PERR_BAD_REQUEST, "request %lld is still "
		    "streaming on this connection", c->stream_id);
		goto out;
	}
	if ((cmd = command_find(req.cmd)) == NULL) {
		client_error(c, req.id, PERR_UNKNOWN_COMMAND,
		    "unknown command \"%s\"", req.cmd);
		goto out;
	}
	if ((cmd->flags & CMD_ADMIN) && !c->admin) {
		log_info("control: %s refused for uid %ld (pid %ld)", cmd->name,
		    (long)c->uid, (long)c->pid);
		client_error(c, req.id, PERR_PERMISSION_DENIED, "%s needs root, the "
		    "daemon's user or membership of admin_group", cmd->name);
		goto out;
	}
	if (req.target != NULL) {
		if ((t = daemon_target(ctl.d, req.target)) == NULL) {
			client_error(c, req.id, PERR_UNKNOWN_TARGET,
			    "no target named \"%s\"", req.target);
			goto out;
		}
	} else if (cmd->flags & CMD_TARGET) {
		client_error(c, req.id, PERR_BAD_REQUEST, "%s needs a target",
		    cmd->name);
		goto out;
	}
	if (cmd->flags & CMD_ADMIN)
		log_info("control: %s%s%s by uid %ld (pid %ld)", cmd->name,
		    t ? " " : "", t ? t->name : "", (long)c->uid, (long)c->pid);
	cmd->fn(ctl.d, c, &req, t);
out:
	proto_request_free(&req);
}

/* One complete line (without its end): a request, or an error. */
static void
take_line(struct client *c, const char *line, size_t n)
{
	uint64_t now;

	c->dispatching = 1;
	if (n == 0) {
		/* Answered, but not a request: no reprieve from idling. */
		client_error(c, 0, PERR_BAD_REQUEST, "empty request line");
		if (c->partial && !c->streaming) {
			now = (uint64_t)now_mono_ms();
			arm(c, c->idle_at > now ? c->idle_at - now : 0);
		}
		c->partial = 0;
	} else if (c->streaming) {
		/* dispatch() refuses it; the stream has no idle timeout. */
		set_idle_timeout(c, 0);
		dispatch(c, line, n);
	} else {
		set_idle_timeout(c, 1);
		dispatch(c, line, n);
	}
	c->dispatching = 0;
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr eol;
	size_t eol_len, n;
	char *line;

	while (!c->closing && evbuffer_get_length(in) > 0) {
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		n = eol.pos == -1 ? evbuffer_get_length(in) : (size_t)eol.pos;
		if (n > PROTO_MAX_LINE) {
			log_debug("control: request over %d bytes from pid %ld",
			    PROTO_MAX_LINE, (long)c->pid);
			client_error(c, 0, PERR_TOO_LONG, "request line longer than "
			    "%d bytes", PROTO_MAX_LINE);
			close_after_flush(c);
			return;
		}
		if (eol.pos == -1 && n > INPUT_SHARE &&
		    ctl.unread > INPUT_TOTAL_CAP) {
			log_info("control: client uid %ld pid %ld: unfinished "
			    "request of %zu bytes while %zu are buffered, closing",
			    (long)c->uid, (long)c->pid, n, ctl.unread);
			client_error(c, 0, PERR_TOO_LONG, "request line of %zu "
			    "bytes unfinished while the daemon's input is full", n);
			close_after_flush(c);
			return;
		}
		if (eol.pos == -1) {
			/* The start of a line: it has LINE_DEADLINE_S to end. */
			line_begun(c);
			return;
		}
		line = xmalloc(n + eol_len);
		evbuffer_remove(in, line, n + eol_len);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		take_line(c, line, n);
		free(line);
		/* client_send's cap gave up on c while we were in dispatch. */
		if (c->dead) {
			client_free(c);
			return;
		}
	}
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		client_free(c);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		client_free(c);
}

static int
peer_is_admin(int fd, const struct ucred *uc)
{
	gid_t groups[MAX_GROUPS];
	socklen_t len = sizeof groups;

	if (uc->uid == 0 || uc->uid == ctl.d->uid)
		return 1;
	if (!ctl.d->have_admin_gid)
		return 0;
	if (uc->gid == ctl.d->admin_gid)
		return 1;
	/* The kernel's word on supplementary groups (Linux 4.13+). */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
		return 0;
	for (size_t i = 0; i < len / sizeof groups[0]; i++)
		if (groups[i] == ctl.d->admin_gid)
			return 1;
	return 0;
}

/*
 * The last slots are kept for admins, so that readers holding every other
 * one (a watch has no idle timeout) cannot keep root from running abort.
 */
static unsigned
admin_reserve(void)
{
	unsigned max = ctl.d->conf->max_clients, r = max / 8;

	if (r == 0 && max > 1)
		r = 1;
	return r > ADMIN_RESERVE_MAX ? ADMIN_RESERVE_MAX : r;
}

/*
 * 1 when fd, just accepted, leaves fewer than reserve descriptors free.
 * Descriptors are handed out lowest first, so every one below fd is in
 * use: at most nofile - fd - 1 are free.
 */
static int
fds_short(int fd, rlim_t reserve)
{
	return ctl.nofile != RLIM_INFINITY && (rlim_t)fd + reserve >= ctl.nofile;
}

/* Descriptors kept for the databases, hooks, journals and admins. */
static rlim_t
fd_reserve(void)
{
	return FD_RESERVE + 4 * (rlim_t)ctl.d->ntargets;
}

int
control_fds_low(int fd)
{
	return fds_short(fd, fd_reserve());
}

/* Admins may use half of the descriptor reserve; the databases keep the rest. */
static int
room_for(int admin, int fd)
{
	unsigned max = ctl.d->conf->max_clients;

	if (ctl.nclients >= max)
		return 0;
	if (admin)
		return !fds_short(fd, fd_reserve() / 2);
	return ctl.nclients < max - admin_reserve() && !control_fds_low(fd);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	static const char full[] = "{\"id\":0,\"ok\":false,\"error\":{\"code\":"
	    "\"too_many_clients\",\"message\":\"client limit reached\"}}\n";
	struct ucred uc;
	socklen_t len = sizeof uc;
	struct client *c;
	int admin;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	admin = peer_is_admin(fd, &uc);
	if (!room_for(admin, fd)) {
		log_debug("control: client limit reached (%u clients), refusing "
		    "uid %ld", ctl.nclients, (long)uc.uid);
		if (write(fd, full, sizeof full - 1) == -1)
			log_debug("control: %s", strerror(errno));
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->uid = uc.uid;
	c->gid = uc.gid;
	c->pid = uc.pid;
	c->admin = admin;
	c->bev = bufferevent_socket_new(ctl.d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	c->reap = evtimer_new(ctl.d->base, reap_cb, c);
	c->timer = evtimer_new(ctl.d->base, timer_cb, c);
	evbuffer_add_cb(bufferevent_get_output(c->bev), queued_cb, c);
	evbuffer_add_cb(bufferevent_get_input(c->bev), unread_cb, c);
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	/* Stop reading well past a line so one client cannot pile up input. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, PROTO_MAX_LINE + 4096);
	set_idle_timeout(c, 1);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&ctl.clients, c, entry);
	ctl.nclients++;
	log_debug("control: client uid %ld pid %ld%s", (long)c->uid,
	    (long)c->pid, c->admin ? " (admin)" : "");
}

static void
rearm_cb(evutil_socket_t fd, short what, void *arg)
{
	evconnlistener_enable(ctl.listener);
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct timeval tv = { 1, 0 };
	int e = EVUTIL_SOCKET_ERROR();

	/* EMFILE/ENFILE are not retried by libevent: pause, then re-arm. */
	log_warnx("control: accept: %s; pausing for 1 s",
	    evutil_socket_error_to_string(e));
	evconnlistener_disable(l);
	evtimer_add(ctl.rearm, &tv);
}

/*
 * Refuse to run beside a live daemon; remove a stale socket.  Returns 0 when
 * the path is free.
 */
static int
claim_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path,
		    strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) {
		close(fd);
		snprintf(err, errlen, "%s: another replwatchd is running", path);
		return -1;
	}
	close(fd);
	log_info("control: removing stale socket %s", path);
	if (unlink(path) == -1) {
		snprintf(err, errlen, "unlink %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
check_dir(const char *path, char *err, size_t errlen)
{
	char dir[sizeof ctl.path], *slash;
	struct stat st;

	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &st) == -1) {
		if (errno != ENOENT || mkdir(dir, 0750) == -1) {
			snprintf(err, errlen, "socket directory %s: %s", dir,
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	if (st.st_mode & S_IWOTH) {
		snprintf(err, errlen, "socket directory %s is world-writable "
		    "(mode %04o): refusing", dir, (unsigned)st.st_mode & 07777);
		return -1;
	}
	return 0;
}

/*
 * Descriptors: the soft limit up to the hard one (systemd starts services at
 * 1024 unless LimitNOFILE= says otherwise), then say if the limits we were
 * given cannot all be met at once.
 */
static void
raise_nofile(struct daemon *d)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit");
		ctl.nofile = RLIM_INFINITY;
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_debug("setrlimit NOFILE %llu: %s",
			    (unsigned long long)rl.rlim_max, strerror(errno));
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	ctl.nofile = rl.rlim_cur;
	if (ctl.nofile != RLIM_INFINITY && ctl.nofile < (rlim_t)d->conf->max_clients +
	    FD_RESERVE + 4 * (rlim_t)d->conf->ntargets + 64)
		log_warnx("control: %llu descriptors are too few for max_clients "
		    "= %u and %zu target(s); readers will be refused early "
		    "(raise LimitNOFILE=)", (unsigned long long)ctl.nofile,
		    d->conf->max_clients, d->conf->ntargets);
}

/*
 * Give the socket to socket_group.  No chown when bind already made it that
 * group (the daemon's own): the systemd unit filters chown out.
 */
static int
set_group(const char *path, const char *name, char *err, size_t errlen)
{
	struct group *gr;
	struct stat st;

	if ((gr = getgrnam(name)) == NULL) {
		snprintf(err, errlen, "socket_group %s: no such group", name);
		return -1;
	}
	if (stat(path, &st) == 0 && st.st_gid == gr->gr_gid)
		return 0;
	if (chown(path, (uid_t)-1, gr->gr_gid) == -1) {
		snprintf(err, errlen, "socket_group %s: %s%s", name,
		    strerror(errno), errno == EPERM ? " (the daemon must be a "
		    "member; under systemd, SystemCallFilter=@chown)" : "");
		return -1;
	}
	return 0;
}

int
control_init(struct daemon *d, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = d->conf->socket;
	mode_t old;
	int fd;

	ctl.d = d;
	TAILQ_INIT(&ctl.clients);
	raise_nofile(d);
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -1;
	}
	snprintf(ctl.path, sizeof ctl.path, "%s", path);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if (check_dir(path, err, errlen) == -1 ||
	    claim_path(path, err, errlen) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, 0660) == -1)
		log_warn("chmod %s", path);
	if (d->conf->socket_group != NULL &&
	    set_group(path, d->conf->socket_group, err, errlen) == -1) {
		close(fd);
		unlink(path);
		return -1;
	}
	if (listen(fd, 128) == -1) {
		snprintf(err, errlen, "listen: %s", strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	ctl.listener = evconnlistener_new(d->base, accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (ctl.listener == NULL) {
		snprintf(err, errlen, "evconnlistener_new failed");
		close(fd);
		unlink(path);
		return -1;
	}
	evconnlistener_set_error_cb(ctl.listener, accept_error_cb);
	ctl.rearm = evtimer_new(d->base, rearm_cb, NULL);
	return 0;
}

/*
 * Best effort at exit: one write of what is queued, the final line last.
 * A socket bufferevent keeps the start of its output frozen outside its own
 * write callback, so a bare evbuffer_write() wrote nothing and watchers saw
 * the connection drop instead of their final line.
 */
static void
flush_now(struct client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_unfreeze(out, 1);
	if (evbuffer_get_length(out) > 0 && evbuffer_write(out, c->fd) == -1)
		log_debug("control: pid %ld: %s", (long)c->pid, strerror(errno));
}

void
control_shutdown(void)
{
	struct client *c, *next;
	cJSON *o;

	if (ctl.listener == NULL)
		return;
	evconnlistener_free(ctl.listener);
	ctl.listener = NULL;
	event_free(ctl.rearm);
	unlink(ctl.path);
	TAILQ_FOREACH_SAFE(c, &ctl.clients, entry, next) {
		if (c->watching) {
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "reason", "shutdown");
			client_ok(c, c->stream_id, o);
			flush_now(c);
		}
		client_free(c);
	}
}
