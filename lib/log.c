#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "clock.h"
#include "log.h"
#include "timefmt.h"

static const char *log_prog = "replwatch";
static enum log_level log_min = LOG_LVL_INFO;
static int log_journal;
static int log_syslog;

static const char *const level_names[] = { "error", "warning", "info", "debug" };
static const char *const dest_names[] = {
	[LOG_DEST_AUTO] = "auto", [LOG_DEST_SYSLOG] = "syslog",
	[LOG_DEST_STDERR] = "stderr"
};
static const int level_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

/*
 * A message identical to the one before (same level, same text) is counted,
 * not written: "last message repeated N times" follows when another message
 * comes, or with the first repeat REPEAT_FLUSH_S after the count began.  A
 * loop stuck on one error (an accept failing with EMFILE, say) then costs a
 * line every REPEAT_FLUSH_S instead of filling the disk.
 */
#define REPEAT_FLUSH_S	30

static struct {
	char		 msg[2048];
	enum log_level	 level;
	int		 valid;
	unsigned long	 count;		/* repeats not written yet */
	time_t		 since;		/* when the first of them came */
} last;

/* stderr is connected to the journal when JOURNAL_STREAM names its dev:ino. */
static int
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/* stderr leads nowhere: closed, or /dev/null (what init scripts give). */
static int
stderr_is_void(void)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) == -1)
		return 1;
	return S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

void
log_init(const char *progname, int to_journal)
{
	log_prog = progname;
	log_journal = to_journal < 0 ? stderr_is_journal() : to_journal;
}

void
log_set_dest(enum log_dest d)
{
	int to_syslog;

	if (d == LOG_DEST_AUTO) {
		log_journal = stderr_is_journal();
		to_syslog = !log_journal && stderr_is_void();
	} else {
		log_journal = 0;
		to_syslog = d == LOG_DEST_SYSLOG;
	}
	if (to_syslog && !log_syslog)
		openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!to_syslog && log_syslog)
		closelog();
	log_syslog = to_syslog;
}

int
log_parse_dest(const char *s, enum log_dest *d)
{
	for (size_t i = 0; i < sizeof dest_names / sizeof dest_names[0]; i++) {
		if (strcmp(s, dest_names[i]) == 0) {
			*d = (enum log_dest)i;
			return 0;
		}
	}
	return -1;
}

void
log_set_level(enum log_level l)
{
	log_min = l;
}

int
log_to_journal(void)
{
	return log_journal;
}

const char *
log_level_name(enum log_level l)
{
	return level_names[l];
}

int
log_parse_level(const char *s, enum log_level *l)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*l = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warn") == 0) {
		*l = LOG_LVL_WARN;
		return 0;
	}
	return -1;
}

static void
write_line(enum log_level l, const char *target, const char *state,
    long long lag_ms, const char *msg)
{
	if (log_journal) {
		char lag[32];

		snprintf(lag, sizeof lag, "REPLWATCH_LAG_MS=%lld", lag_ms);
		if (target != NULL)
			sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level_prio[l],
			    "SYSLOG_IDENTIFIER=%s", log_prog,
			    "REPLWATCH_TARGET=%s", target,
			    "REPLWATCH_STATE=%s", state != NULL ? state : "",
			    lag_ms >= 0 ? lag : "REPLWATCH_LAG_MS=", NULL);
		else
			sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level_prio[l],
			    "SYSLOG_IDENTIFIER=%s", log_prog, NULL);
		return;
	}
	/* syslogd stamps the line itself. */
	if (log_syslog) {
		if (target != NULL)
			syslog(level_prio[l], "[%s] %s", target, msg);
		else
			syslog(level_prio[l], "%s", msg);
		return;
	}

	char when[40];

	/* Local time with its offset: a log read elsewhere still says when. */
	timefmt_local(now_unix_ms(), when, sizeof when);
	if (target != NULL)
		fprintf(stderr, "%s %s %s: [%s] %s\n", when, log_prog,
		    level_names[l], target, msg);
	else
		fprintf(stderr, "%s %s %s: %s\n", when, log_prog,
		    level_names[l], msg);
}

static time_t
mono_s(void)
{
	return (time_t)(now_mono_ms() / 1000);
}

static void
flush_repeats(void)
{
	char line[64];

	if (last.count == 0)
		return;
	snprintf(line, sizeof line, "last message repeated %lu time%s",
	    last.count, last.count == 1 ? "" : "s");
	last.count = 0;
	write_line(last.level, NULL, NULL, -1, line);
}

/* 1 when msg repeats the previous message and is to be counted only. */
static int
repeated(enum log_level l, const char *target, const char *msg)
{
	time_t now = mono_s();

	/* A target's lines carry journal fields: always written. */
	if (target == NULL && last.valid && last.level == l &&
	    strcmp(last.msg, msg) == 0) {
		if (last.count++ == 0)
			last.since = now;
		if (now - last.since >= REPEAT_FLUSH_S)
			flush_repeats();
		return 1;
	}
	flush_repeats();
	last.valid = target == NULL;
	last.level = l;
	snprintf(last.msg, sizeof last.msg, "%s", msg);
	return 0;
}

static void
emit(enum log_level l, const char *target, const char *state, long long lag_ms,
    const char *msg)
{
	if (l > log_min || repeated(l, target, msg))
		return;
	write_line(l, target, state, lag_ms, msg);
}

static void
vlog(enum log_level l, int with_errno, const char *fmt, va_list ap)
{
	char buf[2048];
	int saved = errno;

	vsnprintf(buf, sizeof buf, fmt, ap);
	if (with_errno) {
		size_t n = strlen(buf);

		snprintf(buf + n, sizeof buf - n, ": %s", strerror(saved));
	}
	emit(l, NULL, NULL, -1, buf);
	errno = saved;
}

#define LOGFN(name, level, witherr)			\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	vlog(level, witherr, fmt, ap);			\
	va_end(ap);					\
}
LOGFN(log_warn, LOG_LVL_WARN, 1)
LOGFN(log_warnx, LOG_LVL_WARN, 0)
LOGFN(log_info, LOG_LVL_INFO, 0)
LOGFN(log_debug, LOG_LVL_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, 1, fmt, ap);
	va_end(ap);
	flush_repeats();
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, 0, fmt, ap);
	va_end(ap);
	flush_repeats();
	exit(1);
}

void
log_target(enum log_level l, const char *target, const char *state,
    long long lag_ms, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	emit(l, target, state, lag_ms, buf);
}
