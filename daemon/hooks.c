#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "hooks.h"
#include "log.h"
#include "xmalloc.h"

/*
 * A hook's output is logged, but a hook must not be able to fill the log or
 * the daemon's memory: lines are cut at HOOK_LINE_MAX, a run logs at most
 * HOOK_OUT_MAX bytes in HOOK_LINES_MAX lines, and the rest is read and
 * counted, so the hook never blocks on a full pipe.
 */
#define HOOK_LINE_MAX	1024
#define HOOK_OUT_MAX	(64 * 1024)
#define HOOK_LINES_MAX	256

/*
 * How long what a hook leaves behind gets: after SIGTERM before SIGKILL,
 * and after the hook exited before its output is no longer read.
 */
#define HOOK_GRACE_MS	500

/* At most this many leftover processes are remembered for the SIGKILL. */
#define ORPHANS_MAX	64

struct hook {
	pid_t		 pid;		/* also its process group */
	char		 what[32];
	char		 target[64];
	int		 fd;		/* its output; -1 once closed */
	struct event	*out;
	struct event	*timer;		/* timeout, then the grace */
	int		 exited;
	int		 status;
	int		 timed_out;
	int		 group_left;	/* processes left in its group */
	int		 reported;
	char		 last[160];	/* its last line of output */

	char		 line[HOOK_LINE_MAX + 1];
	size_t		 len;		/* in line */
	size_t		 cut;		/* bytes of this line not kept */
	size_t		 logged;	/* bytes logged in this run */
	unsigned	 nlines;
	size_t		 dropped;	/* bytes not logged past the caps */

	hook_done_fn	 done;
	void		*arg;
	TAILQ_ENTRY(hook) entry;
};

static struct {
	struct daemon	*d;
	struct event	*sigchld;
	struct event	*sweep;		/* SIGKILL for the leftovers */
	pid_t		 orphans[ORPHANS_MAX];
	size_t		 norphans;
	pid_t		 foreign[ORPHANS_MAX];	/* children before hooks_init */
	size_t		 nforeign;
	TAILQ_HEAD(, hook) running;
} hk;

static void	hook_check(struct hook *);

static void
grace(struct timeval *tv)
{
	tv->tv_sec = HOOK_GRACE_MS / 1000;
	tv->tv_usec = (HOOK_GRACE_MS % 1000) * 1000;
}

/* --- the child ------------------------------------------------------ */

/*
 * Close every descriptor from fd up: the daemon's database sessions, its
 * sockets and libevent's and libmariadb's descriptors, whatever their
 * close-on-exec flag, must never reach a hook.
 */
static void
close_from(int fd)
{
	struct rlimit rl;
	struct dirent *de;
	int n, closed;
	DIR *dir;

	if (close_range((unsigned)fd, ~0U, 0) == 0)
		return;
	/* Before Linux 5.9, or filtered: those /proc says are open. */
	if ((dir = opendir("/proc/self/fd")) != NULL) {
		do {
			closed = 0;
			rewinddir(dir);
			while ((de = readdir(dir)) != NULL) {
				n = atoi(de->d_name);
				if (n >= fd && n != dirfd(dir)) {
					close(n);
					closed = 1;
				}
			}
		} while (closed);
		closedir(dir);
		return;
	}
	/* No /proc: every descriptor the limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		rl.rlim_cur = 65536;
	for (rlim_t i = (rlim_t)fd; i < rl.rlim_cur; i++)
		close((int)i);
}

static void __attribute__((noreturn))
child_exec(const char *command, char *const env[], int out,
    const sigset_t *mask)
{
	struct sigaction sa;
	int devnull;

	setpgid(0, 0);
	/* The daemon's handlers would write to libevent's signal pipe. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigprocmask(SIG_SETMASK, mask, NULL);

	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		putenv(env[i]);
	/* Hooks never see what the daemon's database clients might. */
	unsetenv("MYSQL_PWD");

	/* Above 2 first, should the daemon run without a stdin or stdout. */
	out = fcntl(out, F_DUPFD, 3);
	if ((devnull = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(devnull, STDIN_FILENO) == -1 ||
	    out == -1 ||
	    dup2(out, STDOUT_FILENO) == -1 ||
	    dup2(out, STDERR_FILENO) == -1)
		_exit(126);
	close_from(3);
	execl("/bin/sh", "sh", "-c", command, (char *)NULL);
	_exit(127);
}

/* --- what a hook leaves --------------------------------------------- */

/*
 * The daemon's children other than the running hooks are processes a hook
 * left (escaped from its process group with setsid, or double-forked),
 * handed to the daemon, the child subreaper, when their parent exited.  The
 * daemon forks nothing else; only children it had when it started (a
 * wrapper's, before it exec'd replwatchd) are someone else's.
 */
struct child {
	pid_t		 pid;
	pid_t		 pgid;
	char		 comm[32];
};

/* pid is a live child of the daemon's: 1 and c filled, or 0. */
static int
child_stat(pid_t pid, struct child *c)
{
	char path[64], buf[512], *name, *end;
	long ppid, grp;
	char state;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* pid (comm) state ppid pgrp ...; comm may hold anything */
	if ((name = strchr(buf, '(')) == NULL ||
	    (end = strrchr(buf, ')')) == NULL || end < name)
		return 0;
	/* (a zombie is only waiting for sigchld_cb) */
	if (sscanf(end + 1, " %c %ld %ld", &state, &ppid, &grp) != 3 ||
	    ppid != (long)getpid() || state == 'Z')
		return 0;
	c->pid = pid;
	c->pgid = (pid_t)grp;
	snprintf(c->comm, sizeof c->comm, "%.*s", (int)(end - name - 1),
	    name + 1);
	return 1;
}

/*
 * The daemon's live children, at most max of them.  The whole of /proc is
 * read only when the kernel says there is a child at all.
 */
static size_t
children(struct child *c, size_t max)
{
	struct dirent *de;
	siginfo_t si;
	size_t n = 0;
	DIR *dir;

	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1 &&
	    errno == ECHILD)
		return 0;
	if ((dir = opendir("/proc")) == NULL)
		return 0;
	while (n < max && (de = readdir(dir)) != NULL) {
		if (isdigit((unsigned char)de->d_name[0]) &&
		    child_stat((pid_t)strtol(de->d_name, NULL, 10), &c[n]))
			n++;
	}
	closedir(dir);
	return n;
}

static int
is_hook(pid_t pid)
{
	struct hook *h;

	TAILQ_FOREACH(h, &hk.running, entry) {
		if (h->pid == pid)
			return 1;
	}
	return 0;
}

static int
is_foreign(pid_t pid)
{
	for (size_t i = 0; i < hk.nforeign; i++) {
		if (hk.foreign[i] == pid)
			return 1;
	}
	return 0;
}

/* What is the daemon's child before any hook ran is not a hook's. */
static void
note_foreign(void)
{
	struct child c[ORPHANS_MAX];

	hk.nforeign = children(c, ORPHANS_MAX);
	for (size_t i = 0; i < hk.nforeign; i++)
		hk.foreign[i] = c[i].pid;
}

/* A leftover that leads its own group (setsid) takes its group along. */
static void
orphan_kill(const struct child *c, int sig)
{
	if (c->pgid == c->pid)
		kill(-c->pid, sig);
	kill(c->pid, sig);
}

static void
sweep_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child c;

	for (size_t i = 0; i < hk.norphans; i++) {
		if (!is_hook(hk.orphans[i]) && child_stat(hk.orphans[i], &c)) {
			log_warnx("process %ld (%s) left by a hook ignored "
			    "SIGTERM: killed", (long)c.pid, c.comm);
			orphan_kill(&c, SIGKILL);
		}
	}
	hk.norphans = 0;
}

/*
 * Once no hook runs, whatever is still the daemon's child was left by one:
 * SIGTERM, and SIGKILL after the grace.  (While a hook runs its leftovers
 * cannot be told from its own processes, whose parent may have exited.)
 */
static void
sweep_orphans(void)
{
	struct child c[ORPHANS_MAX];
	struct timeval tv;
	size_t n;

	if (!TAILQ_EMPTY(&hk.running))
		return;
	n = children(c, ORPHANS_MAX);
	for (size_t i = 0; i < n; i++) {
		if (is_foreign(c[i].pid))
			continue;
		log_warnx("process %ld (%s) left running by a hook: terminated",
		    (long)c[i].pid, c[i].comm);
		orphan_kill(&c[i], SIGTERM);
		if (hk.norphans < ORPHANS_MAX)
			hk.orphans[hk.norphans++] = c[i].pid;
	}
	if (hk.norphans > 0) {
		grace(&tv);
		evtimer_add(hk.sweep, &tv);
	}
}

/* --- output ---------------------------------------------------------- */

static void
out_line(struct hook *h, int newline)
{
	size_t bytes = h->len + h->cut + (newline ? 1 : 0);

	h->line[h->len] = '\0';
	if (h->len > 0)
		snprintf(h->last, sizeof h->last, "%.*s",
		    (int)sizeof h->last - 1, h->line);
	if (h->dropped > 0 || h->nlines >= HOOK_LINES_MAX ||
	    h->logged + h->len > HOOK_OUT_MAX)
		h->dropped += bytes;
	else {
		if (h->cut > 0)
			log_info("%s: hook %s: %s [line truncated, %zu bytes "
			    "dropped]", h->target, h->what, h->line, h->cut);
		else
			log_info("%s: hook %s: %s", h->target, h->what,
			    h->line);
		h->logged += h->len;
		h->nlines++;
	}
	h->len = h->cut = 0;
}

static void
out_take(struct hook *h, const char *p, size_t n)
{
	const char *nl;
	size_t take, room;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		take = nl != NULL ? (size_t)(nl - p) : n;
		room = HOOK_LINE_MAX - h->len;
		if (take <= room) {
			memcpy(h->line + h->len, p, take);
			h->len += take;
		} else {
			memcpy(h->line + h->len, p, room);
			h->len += room;
			h->cut += take - room;
		}
		if (nl == NULL)
			return;
		out_line(h, 1);
		p += take + 1;
		n -= take + 1;
	}
}

static void
out_close(struct hook *h)
{
	if (h->fd == -1)
		return;
	if (h->len > 0 || h->cut > 0)
		out_line(h, 0);
	if (h->dropped > 0)
		log_warnx("%s: hook %s: output truncated, %zu bytes dropped "
		    "(over %d lines or %d KiB)", h->target, h->what, h->dropped,
		    HOOK_LINES_MAX, HOOK_OUT_MAX / 1024);
	event_free(h->out);
	h->out = NULL;
	close(h->fd);
	h->fd = -1;
}

static void
out_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h = arg;
	char buf[16384];
	ssize_t n;

	/* A few reads at most: a chatty hook must not hold the loop. */
	for (int i = 0; i < 8; i++) {
		if ((n = read(fd, buf, sizeof buf)) > 0) {
			out_take(h, buf, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1)
			log_warn("%s: hook %s: read", h->target, h->what);
		out_close(h);
		hook_check(h);
		return;
	}
}

/* --- the hook's life -------------------------------------------------- */

static void
hook_free(struct hook *h)
{
	TAILQ_REMOVE(&hk.running, h, entry);
	out_close(h);
	event_free(h->timer);
	free(h);
}

static void
hook_report(struct hook *h)
{
	char detail[256];
	int ok = 0;

	h->reported = 1;
	if (h->timed_out)
		snprintf(detail, sizeof detail, "killed after its timeout");
	else if (WIFEXITED(h->status) && WEXITSTATUS(h->status) == 0) {
		snprintf(detail, sizeof detail, "exited 0");
		ok = 1;
	} else if (WIFEXITED(h->status))
		snprintf(detail, sizeof detail, "exited with status %d",
		    WEXITSTATUS(h->status));
	else
		snprintf(detail, sizeof detail, "killed by signal %d",
		    WTERMSIG(h->status));
	if (ok)
		log_info("%s: hook %s finished", h->target, h->what);
	else
		log_warnx("%s: hook %s %s", h->target, h->what, detail);
	if (h->last[0] != '\0')
		snprintf(detail + strlen(detail), sizeof detail - strlen(detail),
		    ": %s", h->last);
	if (h->done != NULL)
		h->done(ok, detail, h->arg);
}

/*
 * Reported once the hook has exited and its output is closed; freed once
 * what it left in its group has had its grace too.
 */
static void
hook_check(struct hook *h)
{
	if (!h->exited || h->fd != -1)
		return;
	if (!h->reported)
		hook_report(h);
	if (h->group_left && evtimer_pending(h->timer, NULL))
		return;
	hook_free(h);
	sweep_orphans();
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h = arg;
	struct timeval tv;

	if (!h->exited && !h->timed_out) {
		/* Its timeout: SIGTERM, and SIGKILL after the grace. */
		h->timed_out = 1;
		kill(-h->pid, SIGTERM);
		grace(&tv);
		evtimer_add(h->timer, &tv);
		return;
	}
	if (!h->exited) {
		kill(-h->pid, SIGKILL);
		return;	/* its exit comes through SIGCHLD */
	}
	/* Exited, and the grace is over. */
	if (h->group_left)
		kill(-h->pid, SIGKILL);
	h->group_left = 0;
	if (h->fd != -1) {
		log_warnx("%s: hook %s: its output is still open %d ms after it "
		    "exited (held by a process it left): no longer read",
		    h->target, h->what, HOOK_GRACE_MS);
		out_close(h);
	}
	hook_check(h);
}

/*
 * Its own process has exited: what it left in its process group gets
 * SIGTERM, and the output has the grace to reach its end.
 */
static void
hook_exited(struct hook *h, int status)
{
	struct timeval tv;

	h->exited = 1;
	h->status = status;
	h->group_left = kill(-h->pid, SIGTERM) == 0;
	evtimer_del(h->timer);
	if (h->fd != -1 || h->group_left) {
		grace(&tv);
		evtimer_add(h->timer, &tv);
	}
	hook_check(h);
}

/* Reaps every child: hooks, and what hooks left (see sweep_orphans). */
static void
sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct hook *h;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(h, &hk.running, entry) {
			if (h->pid == pid && !h->exited) {
				hook_exited(h, status);
				break;
			}
		}
	}
}

void
hooks_init(struct daemon *d)
{
	hk.d = d;
	TAILQ_INIT(&hk.running);
	hk.sigchld = evsignal_new(d->base, SIGCHLD, sigchld_cb, NULL);
	evsignal_add(hk.sigchld, NULL);
	hk.sweep = evtimer_new(d->base, sweep_kill_cb, NULL);
	note_foreign();
	/*
	 * A process that escapes a hook's process group is handed to the
	 * daemon when its parent exits, not to init: reaped here, and
	 * stopped once no hook runs.
	 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("prctl(PR_SET_CHILD_SUBREAPER)");
}

int
hooks_run(const char *what, const char *target, const char *command,
    unsigned timeout_ms, char *const env[], hook_done_fn done, void *arg)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	sigset_t all, old;
	struct hook *h;
	int p[2];
	pid_t pid;

	if (command == NULL)
		return -1;
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("%s: hook %s: pipe", target, what);
		return -1;
	}
	/* No signal handler of the daemon's may run in the child. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0)
		child_exec(command, env, p[1], &old);
	if (pid == -1)
		log_warn("%s: hook %s: fork", target, what);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[1]);
	if (pid == -1) {
		close(p[0]);
		return -1;
	}
	/* As the child does: a timeout may come before it ran. */
	setpgid(pid, pid);

	h = xcalloc(1, sizeof *h);
	h->pid = pid;
	h->done = done;
	h->arg = arg;
	snprintf(h->what, sizeof h->what, "%s", what);
	snprintf(h->target, sizeof h->target, "%s", target);
	h->fd = p[0];
	evutil_make_socket_nonblocking(h->fd);
	h->out = event_new(hk.d->base, h->fd, EV_READ | EV_PERSIST, out_cb, h);
	event_add(h->out, NULL);
	h->timer = evtimer_new(hk.d->base, timer_cb, h);
	evtimer_add(h->timer, &tv);
	TAILQ_INSERT_TAIL(&hk.running, h, entry);
	log_info("%s: hook %s started (pid %ld)", target, what, (long)pid);
	return 0;
}

void
hooks_shutdown(void)
{
	struct hook *h;

	while ((h = TAILQ_FIRST(&hk.running)) != NULL) {
		if (!h->exited || h->group_left)
			kill(-h->pid, SIGTERM);
		hook_free(h);
	}
	sweep_orphans();
	if (hk.sigchld != NULL)
		event_free(hk.sigchld);
	hk.sigchld = NULL;
	if (hk.sweep != NULL)
		event_free(hk.sweep);
	hk.sweep = NULL;
}
