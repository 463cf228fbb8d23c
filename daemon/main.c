/*
 * replwatchd: options, lifecycle, signals through the loop, sd_notify, and
 * the fan-out of what the monitor sees.  Forks only to run hooks (hooks.c);
 * logs to stderr or the journal.
 */

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "control.h"
#include "daemon.h"
#include "hooks.h"
#include "journal.h"
#include "log.h"
#include "timefmt.h"
#include "metrics.h"
#include "monitor.h"
#include "mutectl.h"
#include "promote.h"
#include "snapshot.h"
#include "xmalloc.h"

#define DEFAULT_CONF	"/etc/replwatch/replwatch.conf"

static struct daemon daemon_s;
static struct event *watchdog_ev;
static int forced_debug;
static int forced_dest;	/* -l given: the configuration's log is ignored */

struct target *
daemon_target(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->ntargets; i++)
		if (strcmp(d->targets[i]->name, name) == 0)
			return d->targets[i];
	return NULL;
}

/* sd_notify STATUS=: one line, every target's state and lag. */
static void
notify_status(struct daemon *d)
{
	char line[1024], one[160];
	size_t n = 0;

	line[0] = '\0';
	for (size_t i = 0; i < d->ntargets && n < sizeof line - 1; i++) {
		snapshot_summary(d->targets[i], one, sizeof one);
		n += (size_t)snprintf(line + n, sizeof line - n, "%s%s",
		    i ? "; " : "", one);
	}
	sd_notifyf(0, "STATUS=%s", line);
}

void
daemon_on_change(struct target *t, const struct rw_event *ev)
{
	char *env[10], until[64];
	int n = 0;

	control_publish_change(t, ev);
	notify_status(t->d);
	if (t->cf->on_state_change == NULL)
		return;
	xasprintf(&env[n++], "REPLWATCH_EVENT=state_change");
	xasprintf(&env[n++], "REPLWATCH_TARGET=%s", t->name);
	xasprintf(&env[n++], "REPLWATCH_FROM=%s", ev->from);
	xasprintf(&env[n++], "REPLWATCH_TO=%s", ev->to);
	xasprintf(&env[n++], "REPLWATCH_REASON=%s", ev->reason);
	xasprintf(&env[n++], "REPLWATCH_LAG_MS=%lld", t->lag_ms);
	/* A muted target's hooks still run: they may move traffic, not page. */
	xasprintf(&env[n++], "REPLWATCH_MUTED=%d", t->mute.active);
	xasprintf(&env[n++], "REPLWATCH_MUTED_UNTIL=%s", t->mute.active ?
	    timefmt_iso8601(t->mute.until_ms, until, sizeof until) : "");
	env[n] = NULL;
	hooks_run("on_state_change", t->name, t->cf->on_state_change,
	    t->cf->hook_timeout_ms, env, NULL, NULL);
	/* putenv() kept the strings only in the child. */
	for (int i = 0; i < n; i++)
		free(env[i]);
}

void
daemon_on_sample(struct target *t)
{
	control_publish_sample(t);
}

static int
resolve_admin_group(struct daemon *d, const struct rw_config *conf, char *err,
    size_t errlen)
{
	struct group *gr;

	d->have_admin_gid = 0;
	if (conf->admin_group == NULL)
		return 0;
	if ((gr = getgrnam(conf->admin_group)) == NULL) {
		snprintf(err, errlen, "%s: admin_group %s: no such group",
		    conf->path, conf->admin_group);
		return -1;
	}
	d->admin_gid = gr->gr_gid;
	d->have_admin_gid = 1;
	return 0;
}

/*
 * A promotion changes nothing it cannot journal: a state_dir that cannot be
 * written is a configuration error, found here and not at the freeze.
 */
static int
check_state_dir(const struct rw_config *conf, int create, char *err,
    size_t errlen)
{
	char why[768];

	if (journal_dir_check(conf->state_dir, create, why, sizeof why) == 0)
		return 0;
	snprintf(err, errlen, "%s: state_dir %s (promotions need it to journal their steps)",
	    conf->path, why);
	return -1;
}

/*
 * What "include" found: a pattern that matches nothing is no error (an
 * empty conf.d), but is worth saying at -n and in the debug log.
 */
static void
report_includes(const struct rw_config *cf, FILE *fp)
{
	if (cf->include == NULL)
		return;
	if (cf->nincluded == 0) {
		if (fp != NULL)
			fprintf(fp, "%s:%d: include %s: no file matches\n",
			    cf->path, cf->include_line, cf->include);
		else
			log_debug("include %s: no file matches", cf->include);
	}
	for (size_t i = 0; i < cf->nincluded; i++) {
		if (fp != NULL)
			fprintf(fp, "%s: included\n", cf->included[i]);
		else
			log_debug("included %s", cf->included[i]);
	}
}

int
daemon_reload(struct daemon *d, char *err, size_t errlen)
{
	struct rw_config *conf, *old = d->conf;
	struct target **targets, *t;
	char *kept;
	size_t n;

	sd_notify(0, "RELOADING=1");
	if ((conf = config_load(d->conf_path, err, errlen)) == NULL)
		goto refuse;
	for (size_t i = 0; i < d->ntargets; i++) {
		if (promote_running(d->targets[i]) || d->targets[i]->admin_busy) {
			snprintf(err, errlen, "target %s is being %s",
			    d->targets[i]->name, d->targets[i]->admin_busy ?
			    "set up, started, stopped or skipped" : "promoted");
			config_free(conf);
			goto refuse;
		}
	}
	if (resolve_admin_group(d, conf, err, errlen) == -1 ||
	    (strcmp(conf->state_dir, old->state_dir) != 0 &&
	    check_state_dir(conf, 1, err, errlen) == -1)) {
		config_free(conf);
		goto refuse;
	}
	if (strcmp(conf->socket, old->socket) != 0)
		log_warnx("reload: socket %s -> %s needs a restart; keeping %s",
		    old->socket, conf->socket, old->socket);
	if ((conf->metrics_listen == NULL) != (old->metrics_listen == NULL) ||
	    (conf->metrics_listen != NULL &&
	    strcmp(conf->metrics_listen, old->metrics_listen) != 0))
		log_warnx("reload: metrics_listen changes need a restart");
	/* Keep the old socket settings: the socket is already bound. */
	free(conf->socket);
	conf->socket = xstrdup(old->socket);

	targets = xcalloc(conf->ntargets, sizeof *targets);
	kept = xcalloc(d->ntargets ? d->ntargets : 1, sizeof *kept);
	for (n = 0; n < conf->ntargets; n++) {
		t = NULL;
		for (size_t i = 0; i < d->ntargets; i++) {
			if (strcmp(d->targets[i]->name, conf->targets[n].name) == 0) {
				t = d->targets[i];
				kept[i] = 1;
			}
		}
		if (t != NULL)
			monitor_reconfigure(t, &conf->targets[n]);
		else {
			t = monitor_new(d, &conf->targets[n]);
			mute_init(t);
			promote_load(t);
			monitor_start(t);
			log_info("reload: new target %s", t->name);
		}
		targets[n] = t;
	}
	for (size_t i = 0; i < d->ntargets; i++) {
		if (!kept[i]) {
			log_info("reload: target %s removed", d->targets[i]->name);
			promote_free(d->targets[i]);
			mute_free(d->targets[i]);
			monitor_free(d->targets[i]);
		}
	}
	free(kept);
	free(d->targets);
	d->targets = targets;
	d->ntargets = n;
	d->conf = conf;
	config_free(old);
	if (!forced_debug)
		log_set_level(conf->log_level);
	if (!forced_dest)
		log_set_dest(conf->log_dest);
	report_includes(conf, NULL);
	log_info("configuration %s reloaded: %zu target(s)", d->conf_path, n);
	sd_notify(0, "READY=1");
	notify_status(d);
	return 0;
refuse:
	log_warnx("reload refused, old configuration kept: %s", err);
	sd_notify(0, "READY=1");
	return -1;
}

static void
sighup_cb(evutil_socket_t sig, short what, void *arg)
{
	char err[1024];

	daemon_reload(arg, err, sizeof err);
}

static void
sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	log_info("%s: stopping", strsignal(sig));
	sd_notify(0, "STOPPING=1");
	d->stopping = 1;
	event_base_loopexit(d->base, NULL);
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

static void
start_watchdog(struct daemon *d)
{
	uint64_t usec;
	struct timeval tv;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return;
	usec /= 2;	/* at half the interval, as systemd recommends */
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	watchdog_ev = event_new(d->base, -1, EV_PERSIST, watchdog_cb, NULL);
	event_add(watchdog_ev, &tv);
	sd_notify(0, "WATCHDOG=1");
}

/*
 * The option files are the only source of credentials: libmariadb would
 * fall back to MYSQL_PWD.  unsetenv() alone leaves the value where
 * /proc/PID/environ reads it (the initial environment block): wipe it.
 */
static void
forget_mysql_pwd(void)
{
	char *pw;

	if ((pw = getenv("MYSQL_PWD")) == NULL)
		return;
	/* getenv() points past "MYSQL_PWD=" in that block: wipe it all. */
	pw -= sizeof "MYSQL_PWD=" - 1;
	unsetenv("MYSQL_PWD");
	explicit_bzero(pw, strlen(pw));
}

static __attribute__((noreturn)) void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: replwatchd [-dn] [-c file] [-l auto|syslog|stderr]\n"
	    "  -c file   configuration (default " DEFAULT_CONF ")\n"
	    "  -d        log at debug level\n"
	    "  -l dest   log to the journal or stderr (auto), syslog or stderr\n"
	    "  -n        check the configuration and exit\n"
	    "  -V        print the version and exit\n"
	    "  -h        this help\n"
	    "See replwatchd(8) and replwatch.conf(5).\n");
	exit(status);
}

int
main(int argc, char *argv[])
{
	struct daemon *d = &daemon_s;
	const char *path = DEFAULT_CONF;
	struct event *sighup, *sigterm, *sigint;
	int ch, check_only = 0;
	enum log_dest dest = LOG_DEST_AUTO;
	char err[1024];
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};

	forget_mysql_pwd();
	while ((ch = getopt_long(argc, argv, "c:dl:nhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'l':
			if (log_parse_dest(optarg, &dest) == -1) {
				fprintf(stderr, "replwatchd: -l %s: not one of "
				    "auto, syslog, stderr\n", optarg);
				usage(64);
			}
			forced_dest = 1;
			break;
		case 'd':
			forced_debug = 1;
			break;
		case 'n':
			check_only = 1;
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("replwatchd %s (protocol %d)\n", RW_VERSION,
			    PROTO_VERSION);
			return 0;
		default:
			usage(64);
		}
	}
	if (optind != argc)
		usage(64);

	log_init("replwatchd", -1);
	if ((d->conf = config_load(path, err, sizeof err)) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (resolve_admin_group(d, d->conf, err, sizeof err) == -1) {
		fprintf(stderr, "%s\n", err);
		config_free(d->conf);
		return 1;
	}
	if (check_state_dir(d->conf, !check_only, err, sizeof err) == -1) {
		fprintf(stderr, "%s\n", err);
		config_free(d->conf);
		return 1;
	}
	if (check_only) {
		report_includes(d->conf, stdout);
		printf("%s: configuration OK (%zu target%s)\n", path,
		    d->conf->ntargets, d->conf->ntargets == 1 ? "" : "s");
		config_free(d->conf);
		return 0;
	}
	log_set_level(forced_debug ? LOG_LVL_DEBUG : d->conf->log_level);
	log_set_dest(forced_dest ? dest : d->conf->log_dest);
	report_includes(d->conf, NULL);
	d->conf_path = path;
	d->uid = geteuid();
	d->start_ms = now_unix_ms();
	signal(SIGPIPE, SIG_IGN);

	if ((d->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	/* Non-blocking name resolution for target hosts; /etc/hosts first. */
	d->dns = evdns_base_new(d->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (d->dns == NULL) {
		d->dns = evdns_base_new(d->base, 0);
		log_warnx("no name servers configured: only numeric addresses "
		    "and /etc/hosts will resolve");
	}
	if (d->dns != NULL)
		evdns_base_load_hosts(d->dns, NULL);

	if (control_init(d, err, sizeof err) == -1)
		fatalx("%s", err);
	hooks_init(d);
	if (metrics_init(d, err, sizeof err) == -1)
		fatalx("%s", err);

	d->ntargets = d->conf->ntargets;
	d->targets = xcalloc(d->ntargets, sizeof *d->targets);
	for (size_t i = 0; i < d->ntargets; i++)
		d->targets[i] = monitor_new(d, &d->conf->targets[i]);
	for (size_t i = 0; i < d->ntargets; i++) {
		mute_init(d->targets[i]);
		promote_load(d->targets[i]);
		monitor_start(d->targets[i]);
	}

	sighup = evsignal_new(d->base, SIGHUP, sighup_cb, d);
	sigterm = evsignal_new(d->base, SIGTERM, sigterm_cb, d);
	sigint = evsignal_new(d->base, SIGINT, sigterm_cb, d);
	evsignal_add(sighup, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	start_watchdog(d);

	log_info("replwatchd %s started: %zu target(s), socket %s", RW_VERSION,
	    d->ntargets, d->conf->socket);
	sd_notify(0, "READY=1");
	notify_status(d);

	event_base_dispatch(d->base);

	control_shutdown();
	metrics_shutdown();
	hooks_shutdown();
	for (size_t i = 0; i < d->ntargets; i++) {
		promote_free(d->targets[i]);
		mute_free(d->targets[i]);
		monitor_free(d->targets[i]);
	}
	free(d->targets);
	event_free(sighup);
	event_free(sigterm);
	event_free(sigint);
	if (watchdog_ev != NULL)
		event_free(watchdog_ev);
	if (d->dns != NULL)
		evdns_base_free(d->dns, 0);
	event_base_free(d->base);
	config_free(d->conf);
	log_info("stopped");
	return 0;
}
