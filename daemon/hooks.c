#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "daemon.h"
#include "hooks.h"
#include "log.h"
#include "xmalloc.h"

extern char **environ;

struct hook {
	pid_t		 pid;
	char		 what[32];
	char		 target[64];
	struct bufferevent *out;
	struct event	*timer;
	int		 exited;
	int		 status;
	int		 timed_out;
	char		 last[160];	/* its last line of output */
	hook_done_fn	 done;
	void		*arg;
	TAILQ_ENTRY(hook) entry;
};

static struct {
	struct daemon	*d;
	struct event	*sigchld;
	TAILQ_HEAD(, hook) running;
} hk;

static void
hook_free(struct hook *h)
{
	TAILQ_REMOVE(&hk.running, h, entry);
	if (h->out != NULL)
		bufferevent_free(h->out);
	event_free(h->timer);
	free(h);
}

static void
hook_flush(struct hook *h, int all)
{
	struct evbuffer *in = bufferevent_get_input(h->out);
	char *line;

	while ((line = evbuffer_readln(in, NULL, EVBUFFER_EOL_LF)) != NULL) {
		log_info("%s: hook %s: %s", h->target, h->what, line);
		if (line[0] != '\0')
			snprintf(h->last, sizeof h->last, "%s", line);
		free(line);
	}
	if (all && evbuffer_get_length(in) > 0) {
		size_t n = evbuffer_get_length(in);

		line = xmalloc(n + 1);
		evbuffer_remove(in, line, n);
		line[n] = '\0';
		log_info("%s: hook %s: %s", h->target, h->what, line);
		snprintf(h->last, sizeof h->last, "%s", line);
		free(line);
	}
}

/* Done when both the process has exited and its output is closed. */
static void
hook_maybe_done(struct hook *h)
{
	char detail[256];
	int ok = 0;

	if (!h->exited || h->out != NULL)
		return;
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
	hook_free(h);
}

static void
out_read_cb(struct bufferevent *bev, void *arg)
{
	hook_flush(arg, 0);
}

static void
out_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct hook *h = arg;

	hook_flush(h, 1);
	bufferevent_free(h->out);
	h->out = NULL;
	hook_maybe_done(h);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h = arg;

	h->timed_out = 1;
	kill(-h->pid, SIGKILL);
}

static void
sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct hook *h, *next;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH_SAFE(h, &hk.running, entry, next) {
			if (h->pid != pid)
				continue;
			h->exited = 1;
			h->status = status;
			evtimer_del(h->timer);
			hook_maybe_done(h);
			break;
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
}

int
hooks_run(const char *what, const char *target, const char *command,
    unsigned timeout_ms, char *const env[], hook_done_fn done, void *arg)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct hook *h;
	int p[2], devnull;
	pid_t pid;

	if (command == NULL)
		return -1;
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("%s: hook %s: pipe", target, what);
		return -1;
	}
	switch ((pid = fork())) {
	case -1:
		log_warn("%s: hook %s: fork", target, what);
		close(p[0]);
		close(p[1]);
		return -1;
	case 0:
		setpgid(0, 0);
		for (size_t i = 0; env != NULL && env[i] != NULL; i++)
			putenv(env[i]);
		/* Hooks never see what the daemon's database clients might. */
		unsetenv("MYSQL_PWD");
		if ((devnull = open("/dev/null", O_RDONLY)) != -1)
			dup2(devnull, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	h = xcalloc(1, sizeof *h);
	h->pid = pid;
	h->done = done;
	h->arg = arg;
	snprintf(h->what, sizeof h->what, "%s", what);
	snprintf(h->target, sizeof h->target, "%s", target);
	evutil_make_socket_nonblocking(p[0]);
	h->out = bufferevent_socket_new(hk.d->base, p[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(h->out, out_read_cb, NULL, out_event_cb, h);
	bufferevent_enable(h->out, EV_READ);
	h->timer = evtimer_new(hk.d->base, timeout_cb, h);
	evtimer_add(h->timer, &tv);
	TAILQ_INSERT_TAIL(&hk.running, h, entry);
	log_info("%s: hook %s started (pid %ld)", target, what, (long)pid);
	return 0;
}

void
hooks_shutdown(void)
{
	struct hook *h, *next;

	TAILQ_FOREACH_SAFE(h, &hk.running, entry, next) {
		if (!h->exited)
			kill(-h->pid, SIGTERM);
		hook_free(h);
	}
	if (hk.sigchld != NULL)
		event_free(hk.sigchld);
	hk.sigchld = NULL;
}
