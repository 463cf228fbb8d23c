/*
 * replwatch.conf: libinih does the INI tokenising (comments, trimming, the
 * key = value split); everything it gets wrong for us is handled here.
 *
 * libinih r55 as built by Debian (INI_MAX_LINE 200, multi-line on, inline
 * ';' comments on, handler without a line number, handler not called for
 * section headers, no stop on first error) has traps that would turn typos
 * into a silently different configuration.  So we feed it through our own
 * line reader, which
 *   - counts lines, for file:line in every message;
 *   - takes lines up to CONFIG_MAX_LINE, far over libinih's buffer (a hook's
 *     command line can be long): a line that would not fit is handed to
 *     libinih as its key alone, "key =", and the handler takes the value
 *     the reader cut from the whole line as libinih cuts one (value after
 *     the separator, inline comment off, trimmed), so libinih still sees
 *     every line and never a truncated one;
 *   - refuses indented lines (libinih would glue them onto the previous
 *     value, so an indented "port = 1" silently becomes part of "host");
 *   - parses section headers itself (the handler never sees them, so empty
 *     and duplicate sections would go unnoticed, and libinih truncates
 *     section names at 49 bytes);
 *   - stops the parse at the first error by reporting end of file.
 * We do not touch the Debian-only runtime knobs (ini_max_line,
 * ini_allow_multiline, ...): they are not in upstream r55, and they are
 * process-wide.
 *
 * "include = PATTERN" in [daemon] adds the [target] sections of the files
 * glob(3) finds, each parsed by the same rules into the same configuration.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "xmalloc.h"

/* Longest line we accept, bytes without the newline. */
#define CONFIG_MAX_LINE		4096
/* Longest line libinih's 200-byte buffer takes (less '\r', '\n', '\0'). */
#define INI_LINE_MAX		197
#define TARGET_NAME_MAX		63
#define SUN_PATH_MAX		107	/* sizeof(sun_path) - 1 on Linux */
#define IDENT_MAX		64	/* MySQL identifier length */
/* 30 days: catching up after a large dump can take that long. */
#define LAG_MAX_S		2592000

enum section { SECT_NONE, SECT_DAEMON, SECT_TARGET };

enum key {
	/* [daemon] */
	K_SOCKET, K_SOCKET_GROUP, K_ADMIN_GROUP, K_STATE_DIR, K_LOG_LEVEL, K_LOG,
	K_METRICS_LISTEN, K_MAX_CLIENTS, K_CLIENT_IDLE_TIMEOUT_S, K_INCLUDE,
	/* [target NAME] */
	K_HOST, K_PORT, K_OPTION_FILE, K_FLAVOR, K_INTERVAL_MS,
	K_CONNECT_TIMEOUT_MS, K_QUERY_TIMEOUT_MS, K_PROCEDURE_TIMEOUT_MS,
	K_LAG_WARN_S, K_LAG_CRIT_S,
	K_HYSTERESIS, K_HEARTBEAT, K_HEARTBEAT_TABLE, K_HEARTBEAT_SERVER_ID,
	K_HEARTBEAT_TIME_ZONE, K_HEARTBEAT_LAYOUT,
	K_TLS, K_TLS_CA, K_TLS_CERT, K_TLS_KEY,
	K_MASTER_HOST, K_MASTER_PORT, K_MASTER_OPTION_FILE, K_MASTER_TLS,
	K_MASTER_TLS_CA, K_MASTER_TLS_CERT, K_MASTER_TLS_KEY,
	K_ON_STATE_CHANGE, K_ON_PROMOTED, K_ON_PROMOTE_FAILED, K_ON_SWITCH,
	K_HOOK_TIMEOUT_MS,
	K_COUNT
};

static const struct keydef {
	const char	*name;
	enum section	 section;
} keys[K_COUNT] = {
	[K_SOCKET] =		{ "socket", SECT_DAEMON },
	[K_SOCKET_GROUP] =	{ "socket_group", SECT_DAEMON },
	[K_ADMIN_GROUP] =	{ "admin_group", SECT_DAEMON },
	[K_STATE_DIR] =		{ "state_dir", SECT_DAEMON },
	[K_LOG_LEVEL] =		{ "log_level", SECT_DAEMON },
	[K_LOG] =		{ "log", SECT_DAEMON },
	[K_METRICS_LISTEN] =	{ "metrics_listen", SECT_DAEMON },
	[K_MAX_CLIENTS] =	{ "max_clients", SECT_DAEMON },
	[K_CLIENT_IDLE_TIMEOUT_S] = { "client_idle_timeout_s", SECT_DAEMON },
	[K_INCLUDE] =		{ "include", SECT_DAEMON },
	[K_HOST] =		{ "host", SECT_TARGET },
	[K_PORT] =		{ "port", SECT_TARGET },
	[K_OPTION_FILE] =	{ "option_file", SECT_TARGET },
	[K_FLAVOR] =		{ "flavor", SECT_TARGET },
	[K_INTERVAL_MS] =	{ "interval_ms", SECT_TARGET },
	[K_CONNECT_TIMEOUT_MS] = { "connect_timeout_ms", SECT_TARGET },
	[K_QUERY_TIMEOUT_MS] =	{ "query_timeout_ms", SECT_TARGET },
	[K_PROCEDURE_TIMEOUT_MS] = { "procedure_timeout_ms", SECT_TARGET },
	[K_LAG_WARN_S] =	{ "lag_warn_s", SECT_TARGET },
	[K_LAG_CRIT_S] =	{ "lag_crit_s", SECT_TARGET },
	[K_HYSTERESIS] =	{ "hysteresis", SECT_TARGET },
	[K_HEARTBEAT] =		{ "heartbeat", SECT_TARGET },
	[K_HEARTBEAT_TABLE] =	{ "heartbeat_table", SECT_TARGET },
	[K_HEARTBEAT_SERVER_ID] = { "heartbeat_server_id", SECT_TARGET },
	[K_HEARTBEAT_TIME_ZONE] = { "heartbeat_time_zone", SECT_TARGET },
	[K_HEARTBEAT_LAYOUT] =	{ "heartbeat_layout", SECT_TARGET },
	[K_TLS] =		{ "tls", SECT_TARGET },
	[K_TLS_CA] =		{ "tls_ca", SECT_TARGET },
	[K_TLS_CERT] =		{ "tls_cert", SECT_TARGET },
	[K_TLS_KEY] =		{ "tls_key", SECT_TARGET },
	[K_MASTER_HOST] =	{ "master_host", SECT_TARGET },
	[K_MASTER_PORT] =	{ "master_port", SECT_TARGET },
	[K_MASTER_OPTION_FILE] = { "master_option_file", SECT_TARGET },
	[K_MASTER_TLS] =	{ "master_tls", SECT_TARGET },
	[K_MASTER_TLS_CA] =	{ "master_tls_ca", SECT_TARGET },
	[K_MASTER_TLS_CERT] =	{ "master_tls_cert", SECT_TARGET },
	[K_MASTER_TLS_KEY] =	{ "master_tls_key", SECT_TARGET },
	[K_ON_STATE_CHANGE] =	{ "on_state_change", SECT_TARGET },
	[K_ON_PROMOTED] =	{ "on_promoted", SECT_TARGET },
	[K_ON_PROMOTE_FAILED] =	{ "on_promote_failed", SECT_TARGET },
	[K_ON_SWITCH] =		{ "on_switch", SECT_TARGET },
	[K_HOOK_TIMEOUT_MS] =	{ "hook_timeout_ms", SECT_TARGET },
};

static const char *const flavor_words[] = {
	[FLAVOR_AUTO] = "auto", [FLAVOR_RDS_MYSQL] = "rds-mysql",
	[FLAVOR_RDS_MARIADB] = "rds-mariadb", [FLAVOR_MYSQL] = "mysql",
	[FLAVOR_MARIADB] = "mariadb", NULL
};
static const char *const tls_words[] = {
	[TLS_DISABLED] = "disabled", [TLS_PREFERRED] = "preferred",
	[TLS_REQUIRED] = "required", [TLS_VERIFY_CA] = "verify_ca",
	[TLS_VERIFY_IDENTITY] = "verify_identity", NULL
};
static const char *const heartbeat_words[] = {
	[HEARTBEAT_OFF] = "off", [HEARTBEAT_WRITE] = "write",
	[HEARTBEAT_READ] = "read", NULL
};
static const char *const time_zone_words[] = { "utc", "local", NULL };
static const char *const layout_words[] = {
	[HB_LAYOUT_PT_HEARTBEAT] = "pt-heartbeat",
	[HB_LAYOUT_REPLWATCH] = "replwatch", NULL
};
static const char *const log_dest_words[] = {
	[LOG_DEST_AUTO] = "auto", [LOG_DEST_SYSLOG] = "syslog",
	[LOG_DEST_STDERR] = "stderr", NULL
};
static const char *const level_words[] = {
	"error", "warning", "info", "debug", NULL
};

struct parse {
	const char	*path;		/* as the caller (or glob) wrote it */
	int		 included;	/* not the main file */
	char		*confdir;	/* absolute: base of relative paths */
	FILE		*fp;
	char		*buf;		/* getline's */
	size_t		 bufsz;
	int		 lineno;
	int		 failed;
	char		*err;
	size_t		 errlen;

	struct rw_config *cf;
	enum section	 section;
	int		 section_line;
	int		 daemon_line;	/* of [daemon], 0: not seen */
	struct rw_target_config *target;	/* current, in cf->targets */
	int		 keyline[K_COUNT];	/* this section; 0: unset */
	enum key	 last_key;	/* last key set in this section */
	int		 have_last_key;
	char		*long_value;	/* of a line too long for libinih */
};

static void fail(struct parse *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void fail_key(struct parse *, int, enum key, const char *, ...)
    __attribute__((format(printf, 4, 5)));
static void fail_path(char *, size_t, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/* "FILE:LINE: why"; the first error wins. */
static void
fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed++)
		return;
	if (p->err == NULL || p->errlen == 0)
		return;
	n = snprintf(p->err, p->errlen, "%s:%d: ", p->path, p->lineno);
	if (n < 0 || (size_t)n >= p->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
}

/* "FILE:LINE: KEY: why" */
static void
fail_key(struct parse *p, int line, enum key k, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed++)
		return;
	if (p->err == NULL || p->errlen == 0)
		return;
	n = snprintf(p->err, p->errlen, "%s:%d: %s: ", p->path, line,
	    keys[k].name);
	if (n < 0 || (size_t)n >= p->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
}

/* "PATH: why", for errors outside any line. */
static void
fail_path(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s: ", path);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
}

/* --- files we trust --------------------------------------------------- */

/*
 * replwatch.conf names the hooks the daemon runs and the option files
 * libmariadb reads inside the daemon (where plugin-dir and default-auth
 * load a library).  Whoever can write one of those files, or replace it,
 * runs code as the daemon's user, often root.  So each must belong to
 * root or to the daemon's user, be writable by no one else, and sit in
 * directories no one else can change.  And none may block us: a FIFO in
 * place of the file would stall the event loop on reload.
 */

static const char *
file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	if (S_ISLNK(m))
		return "a symbolic link";
	return "not a file";
}

static int
owner_trusted(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* "nobody (uid 65534)", or "uid 1234" for a uid without a name. */
static const char *
uid_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw;

	if ((pw = getpwuid(uid)) != NULL)
		snprintf(buf, len, "%s (uid %u)", pw->pw_name, (unsigned)uid);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
	return buf;
}

/* "root" or "root or replwatch (uid 998)": who may own our files. */
static const char *
trusted_names(char *buf, size_t len)
{
	char name[128];

	if (geteuid() == 0)
		snprintf(buf, len, "root");
	else
		snprintf(buf, len, "root or %s", uid_name(geteuid(), name,
		    sizeof name));
	return buf;
}

/* PATH: the file itself, already open and known to be regular. */
static int
check_file_trust(const char *path, const struct stat *st, char *err,
    size_t errlen)
{
	char owner[128], may[160];

	if (!owner_trusted(st->st_uid)) {
		fail_path(err, errlen, path, "owned by %s, not by %s; chown it",
		    uid_name(st->st_uid, owner, sizeof owner),
		    trusted_names(may, sizeof may));
		return -1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		fail_path(err, errlen, path, "writable by %s (mode %04o); "
		    "chmod go-w it", (st->st_mode & S_IWOTH) ? "others" :
		    "group", (unsigned)(st->st_mode & 07777));
		return -1;
	}
	return 0;
}

/*
 * One directory (or link) on the way to PATH.  A directory others may
 * write lets them rename our file away and put theirs in its place,
 * unless it is sticky (/tmp): then they cannot touch a file they do not
 * own.  A link can be pointed elsewhere by its owner.
 */
static int
check_step(const char *path, const char *step, char *err, size_t errlen)
{
	struct stat st;
	char owner[128], may[160];

	if (lstat(step, &st) == -1) {
		fail_path(err, errlen, path, "%s: %s", step, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
		return 0;
	if (!owner_trusted(st.st_uid)) {
		fail_path(err, errlen, path, "%s %s is owned by %s, not by %s",
		    S_ISDIR(st.st_mode) ? "directory" : "link", step,
		    uid_name(st.st_uid, owner, sizeof owner),
		    trusted_names(may, sizeof may));
		return -1;
	}
	if (S_ISDIR(st.st_mode) && (st.st_mode & (S_IWGRP | S_IWOTH)) &&
	    !(st.st_mode & S_ISVTX)) {
		fail_path(err, errlen, path, "directory %s is writable by %s "
		    "(mode %04o) and not sticky, so the file can be replaced; "
		    "chmod go-w it", step, (st.st_mode & S_IWOTH) ? "others" :
		    "group", (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Every directory and link from / down to abs, an absolute path. */
static int
check_steps(const char *path, const char *abs, char *err, size_t errlen)
{
	char *step = xstrdup(abs), *s;
	int rc;

	if ((rc = check_step(path, "/", err, errlen)) == -1)
		goto out;
	for (s = step + 1; (s = strchr(s, '/')) != NULL; s++) {
		if (s[-1] == '/')
			continue;
		*s = '\0';
		rc = check_step(path, step, err, errlen);
		*s = '/';
		if (rc == -1)
			goto out;
	}
	/* The last name: a link is a step too (the file is checked open). */
	rc = check_step(path, step, err, errlen);
out:
	free(step);
	return rc;
}

/*
 * The way to PATH, both as written (its links) and as resolved (the
 * directories the links lead to).
 */
static int
check_path_trust(const char *path, char *err, size_t errlen)
{
	char cwd[PATH_MAX], *abs, *real;
	int rc;

	if (path[0] == '/')
		abs = xstrdup(path);
	else if (getcwd(cwd, sizeof cwd) != NULL)
		xasprintf(&abs, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd,
		    path);
	else {
		fail_path(err, errlen, path, "getcwd: %s", strerror(errno));
		return -1;
	}
	rc = check_steps(path, abs, err, errlen);
	if (rc == 0 && (real = realpath(path, NULL)) != NULL) {
		if (strcmp(real, abs) != 0)
			rc = check_steps(path, real, err, errlen);
		free(real);
	} else if (rc == 0) {
		fail_path(err, errlen, path, "%s", strerror(errno));
		rc = -1;
	}
	free(abs);
	return rc;
}

/*
 * Open a file we are about to parse, never blocking: a FIFO or a device
 * in its place is refused at once (stat first, so a device is not even
 * opened; fstat again, in case it was swapped in between).  Then check
 * that the file and the way to it are trusted.  Returns a descriptor in
 * blocking mode, or -1 with "PATH: why" in err.
 */
static int
open_trusted(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd, flags;

	if (stat(path, st) == -1) {
		fail_path(err, errlen, path, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		fail_path(err, errlen, path, "not a regular file (%s)",
		    file_kind(st->st_mode));
		return -1;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		if (errno == EACCES)
			fail_path(err, errlen, path, "not readable: %s",
			    strerror(errno));
		else
			fail_path(err, errlen, path, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		fail_path(err, errlen, path, "not a regular file (%s)",
		    file_kind(st->st_mode));
		goto bad;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
		fail_path(err, errlen, path, "fcntl: %s", strerror(errno));
		goto bad;
	}
	if (check_file_trust(path, st, err, errlen) == -1 ||
	    check_path_trust(path, err, errlen) == -1)
		goto bad;
	return fd;
bad:
	close(fd);
	return -1;
}

/* --- value parsers: 0 or -1 after fail_key() ------------------------- */

static int
parse_uint(struct parse *p, enum key k, const char *v, unsigned long min,
    unsigned long max, unsigned *out)
{
	unsigned long long n = 0;
	const char *s;

	/* strtoul would take signs, blanks and "0x"; we take digits only. */
	if (*v == '\0') {
		fail_key(p, p->lineno, k, "empty value");
		return -1;
	}
	for (s = v; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s)) {
			fail_key(p, p->lineno, k,
			    "\"%s\" is not a whole number", v);
			return -1;
		}
		n = n * 10 + (unsigned)(*s - '0');
		if (n > UINT_MAX) {
			fail_key(p, p->lineno, k,
			    "%s is out of range (%lu..%lu)", v, min, max);
			return -1;
		}
	}
	if (n < min || n > max) {
		fail_key(p, p->lineno, k, "%s is out of range (%lu..%lu)", v,
		    min, max);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

/* Seconds with up to three decimals ("30", "0.5", "1.250"), as ms. */
static int
parse_seconds_ms(struct parse *p, enum key k, const char *v, unsigned *out)
{
	unsigned long long ms = 0, frac = 0;
	int ndigits = 0, nfrac = 0;
	const char *s = v;

	for (; isdigit((unsigned char)*s); s++, ndigits++) {
		ms = ms * 10 + (unsigned)(*s - '0');
		if (ms > LAG_MAX_S)
			goto range;
	}
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++, nfrac++) {
			if (nfrac == 3) {
				fail_key(p, p->lineno, k, "%s: at most 3 "
				    "decimals (milliseconds)", v);
				return -1;
			}
			frac = frac * 10 + (unsigned)(*s - '0');
		}
		if (nfrac == 0)
			goto bad;
		for (int i = nfrac; i < 3; i++)
			frac *= 10;
	}
	if (ndigits == 0 || *s != '\0')
		goto bad;
	ms = ms * 1000 + frac;
	if (ms < 1 || ms > (unsigned long long)LAG_MAX_S * 1000)
		goto range;
	*out = (unsigned)ms;
	return 0;
bad:
	if (*v == '\0')
		fail_key(p, p->lineno, k, "empty value");
	else
		fail_key(p, p->lineno, k, "\"%s\" is not a number of seconds",
		    v);
	return -1;
range:
	fail_key(p, p->lineno, k, "%s is out of range (0.001..%d)", v,
	    LAG_MAX_S);
	return -1;
}

static int
parse_word(struct parse *p, enum key k, const char *v,
    const char *const *words, int *out)
{
	char list[128];
	size_t n = 0;

	for (int i = 0; words[i] != NULL; i++) {
		if (strcmp(v, words[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	list[0] = '\0';
	for (int i = 0; words[i] != NULL && n < sizeof list; i++)
		n += snprintf(list + n, sizeof list - n, "%s%s",
		    i ? " | " : "", words[i]);
	if (*v == '\0')
		fail_key(p, p->lineno, k, "empty value (one of %s)", list);
	else
		fail_key(p, p->lineno, k, "\"%s\" is not one of %s", v, list);
	return -1;
}

static int
has_space(const char *s)
{
	for (; *s != '\0'; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return 1;
	return 0;
}

/* A single word, no blanks: host names, group names. */
static int
parse_word_value(struct parse *p, enum key k, const char *v, char **out)
{
	if (*v == '\0') {
		fail_key(p, p->lineno, k, "empty value");
		return -1;
	}
	if (has_space(v)) {
		fail_key(p, p->lineno, k, "\"%s\" contains blanks (a '#' "
		    "after a value is not a comment; use ';')", v);
		return -1;
	}
	free(*out);
	*out = xstrdup(v);
	return 0;
}

static int
parse_abspath(struct parse *p, enum key k, const char *v, size_t max,
    char **out)
{
	if (*v != '/') {
		fail_key(p, p->lineno, k, "\"%s\" is not an absolute path", v);
		return -1;
	}
	if (has_space(v)) {
		fail_key(p, p->lineno, k, "\"%s\" contains blanks", v);
		return -1;
	}
	if (max && strlen(v) > max) {
		fail_key(p, p->lineno, k, "path is %zu bytes long, the limit "
		    "is %zu", strlen(v), max);
		return -1;
	}
	free(*out);
	*out = xstrdup(v);
	return 0;
}

/* host:port, host an IPv4 address, a name or a [bracketed] IPv6 address. */
static int
parse_listen(struct parse *p, enum key k, const char *v, char **out)
{
	const char *colon = strrchr(v, ':');
	unsigned port;
	size_t hostlen;

	free(*out);
	*out = NULL;
	if (*v == '\0')
		return 0;
	if (colon == NULL || colon == v || has_space(v)) {
		fail_key(p, p->lineno, k, "\"%s\" is not host:port", v);
		return -1;
	}
	hostlen = (size_t)(colon - v);
	if (memchr(v, ':', hostlen) != NULL &&
	    (v[0] != '[' || v[hostlen - 1] != ']')) {
		fail_key(p, p->lineno, k, "\"%s\": write an IPv6 address in "
		    "brackets, [::1]:9505", v);
		return -1;
	}
	if (parse_uint(p, k, colon + 1, 1, 65535, &port) == -1)
		return -1;
	*out = xstrdup(v);
	return 0;
}

/* schema.table, each a plain MySQL identifier (we quote nothing). */
static int
parse_table(struct parse *p, enum key k, const char *v, char **out)
{
	const char *dot = strchr(v, '.');
	size_t n1, n2;

	if (dot == NULL)
		goto bad;
	n1 = (size_t)(dot - v);
	n2 = strlen(dot + 1);
	if (n1 == 0 || n2 == 0 || n1 > IDENT_MAX || n2 > IDENT_MAX)
		goto bad;
	for (const char *s = v; *s != '\0'; s++) {
		if (s == dot)
			continue;
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '$')
			goto bad;
	}
	free(*out);
	*out = xstrdup(v);
	return 0;
bad:
	fail_key(p, p->lineno, k, "\"%s\" is not schema.table (letters, "
	    "digits, _ and $, at most %d each)", v, IDENT_MAX);
	return -1;
}

/*
 * A glob(3) pattern, relative to the main file's directory unless
 * absolute; empty: none.
 */
static int
parse_include(struct parse *p, enum key k, const char *v)
{
	struct rw_config *cf = p->cf;

	free(cf->include);
	cf->include = NULL;
	if (*v == '\0')
		return 0;
	if (has_space(v)) {
		fail_key(p, p->lineno, k, "\"%s\" contains blanks", v);
		return -1;
	}
	if (*v == '/')
		cf->include = xstrdup(v);
	else
		xasprintf(&cf->include, "%s/%s", p->confdir, v);
	cf->include_line = p->lineno;
	return 0;
}

/*
 * Relative paths: first $CREDENTIALS_DIRECTORY (systemd LoadCredential=),
 * when the file is there, else the directory of the configuration file.
 */
static char *
resolve_path(struct parse *p, const char *v)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	struct stat st;
	char *path;

	if (*v == '/')
		return xstrdup(v);
	if (creds != NULL && *creds != '\0') {
		xasprintf(&path, "%s/%s", creds, v);
		if (stat(path, &st) == 0)
			return path;
		free(path);
	}
	xasprintf(&path, "%s/%s", p->confdir, v);
	return path;
}

static int
parse_option_file(struct parse *p, enum key k, const char *v, char **out)
{
	char why[512];
	char *path;

	if (*v == '\0') {
		fail_key(p, p->lineno, k, "empty value");
		return -1;
	}
	path = resolve_path(p, v);
	if (config_check_option_file(path, why, sizeof why) == -1) {
		fail_key(p, p->lineno, k, "%s", why);
		free(path);
		return -1;
	}
	free(*out);
	*out = path;
	return 0;
}

/* TLS CA, certificate or key: a readable regular file. */
static int
parse_file(struct parse *p, enum key k, const char *v, char **out)
{
	struct stat st;
	char *path;

	if (*v == '\0') {
		fail_key(p, p->lineno, k, "empty value");
		return -1;
	}
	path = resolve_path(p, v);
	if (stat(path, &st) == -1) {
		fail_key(p, p->lineno, k, "%s: %s", path, strerror(errno));
		goto bad;
	}
	if (!S_ISREG(st.st_mode)) {
		fail_key(p, p->lineno, k, "%s: not a regular file", path);
		goto bad;
	}
	if (access(path, R_OK) == -1) {
		fail_key(p, p->lineno, k, "%s: %s", path, strerror(errno));
		goto bad;
	}
	free(*out);
	*out = path;
	return 0;
bad:
	free(path);
	return -1;
}

/* A hook runs through /bin/sh -c; its first word must be an absolute path
 * to an executable, so a typo shows at load time, not at cut-over. */
static int
parse_command(struct parse *p, enum key k, const char *v, char **out)
{
	struct stat st;
	size_t n;
	char *prog;
	int rc = -1;

	free(*out);
	*out = NULL;
	if (*v == '\0')
		return 0;
	n = strcspn(v, " \t");
	prog = xstrndup(v, n);
	if (*prog != '/')
		fail_key(p, p->lineno, k, "\"%s\" is not an absolute path",
		    prog);
	else if (stat(prog, &st) == -1)
		fail_key(p, p->lineno, k, "%s: %s", prog, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		fail_key(p, p->lineno, k, "%s: not a regular file", prog);
	else if (access(prog, X_OK) == -1)
		fail_key(p, p->lineno, k, "%s: not executable: %s", prog,
		    strerror(errno));
	else {
		*out = xstrdup(v);
		rc = 0;
	}
	free(prog);
	return rc;
}

/* --- sections ------------------------------------------------------- */

static void
endpoint_defaults(struct rw_endpoint *ep)
{
	ep->port = 3306;
	ep->tls = TLS_PREFERRED;
}

static void
endpoint_free(struct rw_endpoint *ep)
{
	free(ep->host);
	free(ep->option_file);
	free(ep->tls_ca);
	free(ep->tls_cert);
	free(ep->tls_key);
}

static void
target_free(struct rw_target_config *t)
{
	free(t->name);
	free(t->file);
	endpoint_free(&t->replica);
	endpoint_free(&t->master);
	free(t->heartbeat_table);
	free(t->on_state_change);
	free(t->on_promoted);
	free(t->on_promote_failed);
	free(t->on_switch);
}

/* Seconds from ms, without trailing zeros, for messages. */
static const char *
fmt_seconds(char *buf, size_t len, unsigned ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%u", ms / 1000);
	else if (ms % 100 == 0)
		snprintf(buf, len, "%u.%u", ms / 1000, ms % 1000 / 100);
	else if (ms % 10 == 0)
		snprintf(buf, len, "%u.%02u", ms / 1000, ms % 1000 / 10);
	else
		snprintf(buf, len, "%u.%03u", ms / 1000, ms % 1000);
	return buf;
}

static int
check_tls(struct parse *p, const struct rw_endpoint *ep, enum key k_tls,
    enum key k_ca, enum key k_cert, enum key k_key)
{
	int *kl = p->keyline;

	if ((ep->tls == TLS_VERIFY_CA || ep->tls == TLS_VERIFY_IDENTITY) &&
	    ep->tls_ca == NULL) {
		fail_key(p, kl[k_tls], k_tls, "%s needs %s",
		    tls_words[ep->tls], keys[k_ca].name);
		return -1;
	}
	if (ep->tls_cert != NULL && ep->tls_key == NULL) {
		fail_key(p, kl[k_cert], k_cert, "needs %s", keys[k_key].name);
		return -1;
	}
	if (ep->tls_key != NULL && ep->tls_cert == NULL) {
		fail_key(p, kl[k_key], k_key, "needs %s", keys[k_cert].name);
		return -1;
	}
	return 0;
}

/* Checks that need the whole section, run when it ends. */
static int
close_target(struct parse *p)
{
	static const enum key master_keys[] = {
		K_MASTER_PORT, K_MASTER_OPTION_FILE, K_MASTER_TLS,
		K_MASTER_TLS_CA, K_MASTER_TLS_CERT, K_MASTER_TLS_KEY
	};
	struct rw_target_config *t = p->target;
	int *kl = p->keyline;
	char w[32], c[32];

	if (t->replica.host == NULL) {
		fail_key(p, p->section_line, K_HOST, "required in [target %s]",
		    t->name);
		return -1;
	}
	if (t->replica.option_file == NULL) {
		fail_key(p, p->section_line, K_OPTION_FILE,
		    "required in [target %s] (the credentials)", t->name);
		return -1;
	}
	if (t->lag_crit_ms < t->lag_warn_ms) {
		fmt_seconds(c, sizeof c, t->lag_crit_ms);
		fmt_seconds(w, sizeof w, t->lag_warn_ms);
		if (kl[K_LAG_CRIT_S])
			fail_key(p, kl[K_LAG_CRIT_S], K_LAG_CRIT_S,
			    "%s is below lag_warn_s (%s)", c, w);
		else
			fail_key(p, kl[K_LAG_WARN_S], K_LAG_WARN_S,
			    "%s is above lag_crit_s (%s)", w, c);
		return -1;
	}
	if (check_tls(p, &t->replica, K_TLS, K_TLS_CA, K_TLS_CERT,
	    K_TLS_KEY) == -1)
		return -1;
	if (t->master.host == NULL) {
		for (size_t i = 0;
		    i < sizeof master_keys / sizeof master_keys[0]; i++) {
			enum key k = master_keys[i];

			if (kl[k]) {
				fail_key(p, kl[k], k, "set, but master_host is "
				    "not");
				return -1;
			}
		}
		if (t->heartbeat == HEARTBEAT_WRITE) {
			fail_key(p, kl[K_HEARTBEAT], K_HEARTBEAT, "write needs "
			    "master_host (the heartbeat is written on the "
			    "master)");
			return -1;
		}
		return 0;
	}
	if (t->master.option_file == NULL) {
		fail_key(p, kl[K_MASTER_HOST], K_MASTER_OPTION_FILE,
		    "required when master_host is set");
		return -1;
	}
	return check_tls(p, &t->master, K_MASTER_TLS, K_MASTER_TLS_CA,
	    K_MASTER_TLS_CERT, K_MASTER_TLS_KEY);
}

static int
close_section(struct parse *p)
{
	int rc = 0;

	if (p->section == SECT_TARGET)
		rc = close_target(p);
	p->section = SECT_NONE;
	p->target = NULL;
	return rc;
}

static int
valid_target_name(const char *s, size_t n)
{
	if (n < 1 || n > TARGET_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

/* s points at '['; the line is already right-trimmed. */
static int
open_section(struct parse *p, const char *s)
{
	struct rw_config *cf = p->cf;
	struct rw_target_config *t;
	const char *end = strchr(s, ']'), *rest, *name;
	size_t n;

	if (close_section(p) == -1)
		return -1;
	if (end == NULL) {
		fail(p, "section header without ']'");
		return -1;
	}
	for (rest = end + 1; isspace((unsigned char)*rest); rest++)
		;
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		fail(p, "text after the section header");
		return -1;
	}
	s++;
	n = (size_t)(end - s);
	if (n == 6 && strncmp(s, "daemon", 6) == 0) {
		if (p->included) {
			fail(p, "[daemon] belongs in the main file (%s), an "
			    "included file holds [target NAME] sections only",
			    cf->path);
			return -1;
		}
		if (p->daemon_line) {
			fail(p, "duplicate [daemon] section (first on line %d)",
			    p->daemon_line);
			return -1;
		}
		p->daemon_line = p->lineno;
		p->section = SECT_DAEMON;
	} else if (n >= 6 && strncmp(s, "target", 6) == 0 &&
	    (n == 6 || s[6] == ' ' || s[6] == '\t')) {
		name = s + 6;
		while (name < end && (*name == ' ' || *name == '\t'))
			name++;
		n = (size_t)(end - name);
		if (n == 0) {
			fail(p, "a target needs a name: [target NAME]");
			return -1;
		}
		if (!valid_target_name(name, n)) {
			fail(p, "invalid target name \"%.*s\" (1 to %d of "
			    "A-Z a-z 0-9 _ . -)", (int)n, name,
			    TARGET_NAME_MAX);
			return -1;
		}
		for (size_t i = 0; i < cf->ntargets; i++) {
			const struct rw_target_config *o = &cf->targets[i];

			if (strlen(o->name) != n ||
			    strncmp(o->name, name, n) != 0)
				continue;
			if (strcmp(o->file, p->path) == 0)
				fail(p, "duplicate target \"%.*s\" (first on "
				    "line %d)", (int)n, name, o->line);
			else
				fail(p, "duplicate target \"%.*s\" (first in "
				    "%s:%d)", (int)n, name, o->file, o->line);
			return -1;
		}
		cf->targets = xrealloc(cf->targets,
		    (cf->ntargets + 1) * sizeof *cf->targets);
		t = &cf->targets[cf->ntargets++];
		memset(t, 0, sizeof *t);
		t->name = xstrndup(name, n);
		t->file = xstrdup(p->path);
		t->line = p->lineno;
		endpoint_defaults(&t->replica);
		endpoint_defaults(&t->master);
		t->flavor = FLAVOR_AUTO;
		t->interval_ms = 1000;
		t->connect_timeout_ms = 2000;
		t->query_timeout_ms = 2000;
		t->procedure_timeout_ms = 30000;
		t->lag_warn_ms = 30 * 1000;
		t->lag_crit_ms = 300 * 1000;
		t->hysteresis = 3;
		t->heartbeat = HEARTBEAT_OFF;
		t->heartbeat_table = xstrdup("replwatch.heartbeat");
		t->heartbeat_layout = HB_LAYOUT_PT_HEARTBEAT;
		t->hook_timeout_ms = 10000;
		p->target = t;
		p->section = SECT_TARGET;
	} else {
		fail(p, "unknown section [%.*s] (expected [daemon] or "
		    "[target NAME])", (int)n, s);
		return -1;
	}
	p->section_line = p->lineno;
	memset(p->keyline, 0, sizeof p->keyline);
	p->have_last_key = 0;
	return 0;
}

/* --- libinih glue --------------------------------------------------- */

static int
set_daemon_key(struct parse *p, enum key k, const char *v)
{
	struct rw_config *cf = p->cf;
	enum log_level lvl;
	int i;

	switch (k) {
	case K_SOCKET:
		return parse_abspath(p, k, v, SUN_PATH_MAX, &cf->socket);
	case K_SOCKET_GROUP:
	case K_ADMIN_GROUP: {
		char **out = k == K_SOCKET_GROUP ? &cf->socket_group :
		    &cf->admin_group;

		if (*v == '\0') {
			free(*out);
			*out = NULL;
			return 0;
		}
		return parse_word_value(p, k, v, out);
	}
	case K_STATE_DIR:
		return parse_abspath(p, k, v, 0, &cf->state_dir);
	case K_LOG_LEVEL:
		if (parse_word(p, k, v, level_words, &i) == -1)
			return -1;
		if (log_parse_level(v, &lvl) == -1) {
			fail_key(p, p->lineno, k, "\"%s\" is not a level", v);
			return -1;
		}
		cf->log_level = lvl;
		return 0;
	case K_LOG:
		if (parse_word(p, k, v, log_dest_words, &i) == -1)
			return -1;
		cf->log_dest = (enum log_dest)i;
		return 0;
	case K_METRICS_LISTEN:
		return parse_listen(p, k, v, &cf->metrics_listen);
	case K_MAX_CLIENTS:
		return parse_uint(p, k, v, 1, 4096, &cf->max_clients);
	case K_CLIENT_IDLE_TIMEOUT_S:
		return parse_uint(p, k, v, 1, 86400,
		    &cf->client_idle_timeout_s);
	case K_INCLUDE:
		return parse_include(p, k, v);
	default:
		abort();
	}
}

static int
set_target_key(struct parse *p, enum key k, const char *v)
{
	struct rw_target_config *t = p->target;
	int i;

	switch (k) {
	case K_HOST:
		return parse_word_value(p, k, v, &t->replica.host);
	case K_PORT:
		return parse_uint(p, k, v, 1, 65535, &t->replica.port);
	case K_OPTION_FILE:
		return parse_option_file(p, k, v, &t->replica.option_file);
	case K_FLAVOR:
		if (parse_word(p, k, v, flavor_words, &i) == -1)
			return -1;
		t->flavor = (enum rw_flavor_choice)i;
		return 0;
	case K_INTERVAL_MS:
		return parse_uint(p, k, v, 100, 3600000, &t->interval_ms);
	case K_CONNECT_TIMEOUT_MS:
		return parse_uint(p, k, v, 100, 600000, &t->connect_timeout_ms);
	case K_QUERY_TIMEOUT_MS:
		return parse_uint(p, k, v, 100, 600000, &t->query_timeout_ms);
	case K_PROCEDURE_TIMEOUT_MS:
		return parse_uint(p, k, v, 5000, 3600000,
		    &t->procedure_timeout_ms);
	case K_LAG_WARN_S:
		return parse_seconds_ms(p, k, v, &t->lag_warn_ms);
	case K_LAG_CRIT_S:
		return parse_seconds_ms(p, k, v, &t->lag_crit_ms);
	case K_HYSTERESIS:
		return parse_uint(p, k, v, 1, 100, &t->hysteresis);
	case K_HEARTBEAT:
		if (parse_word(p, k, v, heartbeat_words, &i) == -1)
			return -1;
		t->heartbeat = (enum rw_heartbeat)i;
		return 0;
	case K_HEARTBEAT_TABLE:
		return parse_table(p, k, v, &t->heartbeat_table);
	case K_HEARTBEAT_SERVER_ID:
		return parse_uint(p, k, v, 0, UINT_MAX,
		    &t->heartbeat_server_id);
	case K_HEARTBEAT_TIME_ZONE:
		if (parse_word(p, k, v, time_zone_words, &i) == -1)
			return -1;
		t->heartbeat_local_time = i == 1;
		return 0;
	case K_HEARTBEAT_LAYOUT:
		if (parse_word(p, k, v, layout_words, &i) == -1)
			return -1;
		t->heartbeat_layout = (enum rw_hb_layout)i;
		return 0;
	case K_TLS:
	case K_MASTER_TLS:
		if (parse_word(p, k, v, tls_words, &i) == -1)
			return -1;
		if (k == K_TLS)
			t->replica.tls = (enum rw_tls_mode)i;
		else
			t->master.tls = (enum rw_tls_mode)i;
		return 0;
	case K_TLS_CA:
		return parse_file(p, k, v, &t->replica.tls_ca);
	case K_TLS_CERT:
		return parse_file(p, k, v, &t->replica.tls_cert);
	case K_TLS_KEY:
		return parse_file(p, k, v, &t->replica.tls_key);
	case K_MASTER_HOST:
		if (*v == '\0')
			return 0;
		return parse_word_value(p, k, v, &t->master.host);
	case K_MASTER_PORT:
		return parse_uint(p, k, v, 1, 65535, &t->master.port);
	case K_MASTER_OPTION_FILE:
		return parse_option_file(p, k, v, &t->master.option_file);
	case K_MASTER_TLS_CA:
		return parse_file(p, k, v, &t->master.tls_ca);
	case K_MASTER_TLS_CERT:
		return parse_file(p, k, v, &t->master.tls_cert);
	case K_MASTER_TLS_KEY:
		return parse_file(p, k, v, &t->master.tls_key);
	case K_ON_STATE_CHANGE:
		return parse_command(p, k, v, &t->on_state_change);
	case K_ON_PROMOTED:
		return parse_command(p, k, v, &t->on_promoted);
	case K_ON_PROMOTE_FAILED:
		return parse_command(p, k, v, &t->on_promote_failed);
	case K_ON_SWITCH:
		return parse_command(p, k, v, &t->on_switch);
	case K_HOOK_TIMEOUT_MS:
		return parse_uint(p, k, v, 100, 600000, &t->hook_timeout_ms);
	default:
		abort();
	}
}

/*
 * libinih calls this once per key = value line, after our reader has
 * returned that line, so p->lineno and p->section are the key's.
 */
static int	handle(struct parse *, const char *, const char *);

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	int rc;

	(void)section;	/* truncated at 49 bytes by libinih: use ours */
	rc = handle(p, name, value);
	/* A long line's value is for its own key line only. */
	free(p->long_value);
	p->long_value = NULL;
	return rc;
}

static int
handle(struct parse *p, const char *name, const char *value)
{
	enum key k;
	int rc;

	if (p->failed)
		return 0;
	if (p->section == SECT_NONE) {
		fail(p, "%s: outside of any section ([daemon] or "
		    "[target NAME] first)", name);
		return 0;
	}
	for (k = 0; k < K_COUNT; k++)
		if (keys[k].section == p->section &&
		    strcmp(keys[k].name, name) == 0)
			break;
	if (k == K_COUNT) {
		if (p->section == SECT_DAEMON)
			fail(p, "%s: unknown key in [daemon]", name);
		else
			fail(p, "%s: unknown key in [target %s]", name,
			    p->target->name);
		return 0;
	}
	if (p->keyline[k]) {
		fail_key(p, p->lineno, k, "duplicate key (first on line %d)",
		    p->keyline[k]);
		return 0;
	}
	p->keyline[k] = p->lineno;
	p->last_key = k;
	p->have_last_key = 1;
	if (p->long_value != NULL)
		value = p->long_value;
	if (p->section == SECT_DAEMON)
		rc = set_daemon_key(p, k, value);
	else
		rc = set_target_key(p, k, value);
	return rc == 0;
}

/*
 * Where libinih would find the '=' (or ':') of a key line: the first one
 * before an inline comment (';' after a blank).
 */
static const char *
find_separator(const char *s)
{
	int blank = 0;

	for (; *s != '\0'; s++) {
		if (*s == '=' || *s == ':')
			return s;
		if (*s == ';' && blank)
			return NULL;
		blank = isspace((unsigned char)*s);
	}
	return NULL;
}

/*
 * The value libinih would hand the handler for the key line s (separator
 * at sep): what follows the separator, cut at an inline comment (';' after
 * a blank, counted from just after the separator), then trimmed.
 */
static char *
ini_value(const char *sep)
{
	const char *v = sep + 1, *end;
	int blank = 0;

	for (end = v; *end != '\0' && !(blank && *end == ';'); end++)
		blank = isspace((unsigned char)*end);
	while (v < end && isspace((unsigned char)*v))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	return xstrndup(v, (size_t)(end - v));
}

/*
 * A line too long for libinih's buffer goes to it as a stand-in that
 * parses the same: a key line as "key =" (the value kept for the
 * handler), a comment as an empty line, a header as any header (the
 * handler ignores libinih's section).  -1 after fail().
 */
static int
stand_in(struct parse *p, char *s, const char *sep, char *str, size_t max)
{
	const char *k = sep;

	if (*s == '\0' || *s == ';' || *s == '#') {
		strcpy(str, "\n");
		return 0;
	}
	if (*s == '[') {
		strcpy(str, "[s]\n");
		return 0;
	}
	while (k > s && isspace((unsigned char)k[-1]))
		k--;
	if ((size_t)(k - s) + 3 > max) {
		fail(p, "key too long: %.32s...", s);
		return -1;
	}
	free(p->long_value);
	p->long_value = ini_value(sep);
	snprintf(str, max + 3, "%.*s=\n", (int)(k - s), s);
	return 0;
}

/*
 * libinih's fgets(): hand it one whole line at a time, after checking
 * what it would get wrong.  NULL ends the parse (EOF or our first error).
 */
static char *
reader(char *str, int num, void *user)
{
	struct parse *p = user;
	size_t len, max;
	ssize_t n;
	const char *sep = NULL;
	char *start, *s, *e;

	if (p->failed)
		return NULL;
	errno = 0;
	if ((n = getline(&p->buf, &p->bufsz, p->fp)) == -1) {
		if (ferror(p->fp)) {
			p->lineno++;
			fail(p, "read error: %s", strerror(errno));
		}
		return NULL;
	}
	p->lineno++;
	len = (size_t)n;
	if (strlen(p->buf) != len) {
		fail(p, "NUL byte in line");
		return NULL;
	}
	if (len > 0 && p->buf[len - 1] == '\n')
		len--;
	if (len > 0 && p->buf[len - 1] == '\r')
		len--;
	if (len > CONFIG_MAX_LINE) {
		fail(p, "line too long (max %d bytes)", CONFIG_MAX_LINE);
		return NULL;
	}
	max = num > 3 ? (size_t)num - 3 : 0;
	if (max > INI_LINE_MAX)
		max = INI_LINE_MAX;

	/* Look at the line as libinih will: BOM, trimmed, comments. */
	start = p->buf;
	if (p->lineno == 1 && strncmp(start, "\xEF\xBB\xBF", 3) == 0)
		start += 3;
	e = p->buf + len;
	while (e > start && isspace((unsigned char)e[-1]))
		e--;
	*e = '\0';
	for (s = start; isspace((unsigned char)*s); s++)
		;
	if (*s == '\0' || *s == ';' || *s == '#')
		goto pass;
	if (s > start) {
		if (p->have_last_key)
			fail_key(p, p->lineno, p->last_key, "indented line: "
			    "INI would continue the value of the previous "
			    "line with it; multi-line values are not "
			    "allowed, remove the indentation");
		else
			fail(p, "indented line: INI would continue the "
			    "previous value with it; remove the indentation");
		return NULL;
	}
	if (*s == '[') {
		if (open_section(p, s) == -1)
			return NULL;
		goto pass;
	}
	if ((sep = find_separator(s)) == NULL) {
		fail(p, "expected KEY = VALUE, [daemon] or [target NAME]");
		return NULL;
	}
	if (sep == s) {
		fail(p, "missing key name before '%c'", *sep);
		return NULL;
	}
pass:
	if ((size_t)(e - p->buf) > max)
		return stand_in(p, s, sep, str, max) == -1 ? NULL : str;
	/* Give libinih the trimmed line: fits, and what it would see. */
	memcpy(str, p->buf, (size_t)(e - p->buf));
	str[e - p->buf] = '\n';
	str[e - p->buf + 1] = '\0';
	return str;
}

static char *
config_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char cwd[PATH_MAX], *dir;

	if (slash == path)
		return xstrdup("/");
	if (slash != NULL && path[0] == '/')
		return xstrndup(path, (size_t)(slash - path));
	/* Relative: make it absolute, the daemon may change directory. */
	if (getcwd(cwd, sizeof cwd) == NULL)
		return slash ? xstrndup(path, (size_t)(slash - path)) :
		    xstrdup(".");
	if (slash == NULL)
		return xstrdup(cwd);
	xasprintf(&dir, "%s/%.*s", strcmp(cwd, "/") == 0 ? "" : cwd,
	    (int)(slash - path), path);
	return dir;
}

/*
 * Parse one file into cf: the main one, or one it includes (which holds
 * [target] sections only).  Returns -1 with the error in err.
 */
static int
parse_conf_file(struct rw_config *cf, const char *path, int included, char *err,
    size_t errlen)
{
	struct parse p;
	struct stat st;
	int fd, rc;

	memset(&p, 0, sizeof p);
	p.path = path;
	p.included = included;
	p.err = err;
	p.errlen = errlen;
	p.cf = cf;
	/* Its hooks run as the daemon's user: the file must be trusted. */
	if ((fd = open_trusted(path, &st, err, errlen)) == -1)
		return -1;
	if ((p.fp = fdopen(fd, "r")) == NULL) {
		fail_path(err, errlen, path, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	p.confdir = config_dir(path);
	rc = ini_parse_stream(reader, &p, handler, &p);
	if (!p.failed && rc > 0) {
		/* Our reader should have caught it first; be safe anyway. */
		p.lineno = rc;
		fail(&p, "syntax error");
	} else if (!p.failed && rc < 0) {
		fail_path(err, errlen, path, "cannot parse (libinih %d)", rc);
		p.failed = 1;
	}
	if (!p.failed)
		close_section(&p);
	fclose(p.fp);
	free(p.buf);
	free(p.confdir);
	free(p.long_value);
	return p.failed ? -1 : 0;
}

/* glob(3)'s complaint about a directory; a missing one is no match. */
static char	glob_err_path[PATH_MAX];
static int	glob_err_errno;

static int
glob_error(const char *path, int errnum)
{
	if (errnum == ENOENT || errnum == ENOTDIR)
		return 0;
	snprintf(glob_err_path, sizeof glob_err_path, "%s", path);
	glob_err_errno = errnum;
	return 1;
}

/* The files "include" names, sorted, each parsed in turn. */
static int
parse_includes(struct rw_config *cf, char *err, size_t errlen)
{
	glob_t g;
	int rc;

	memset(&g, 0, sizeof g);
	glob_err_path[0] = '\0';
	/* glob_error() decides what stops it (GLOB_ERR would stop at ENOENT). */
	rc = glob(cf->include, 0, glob_error, &g);
	if (rc == GLOB_ABORTED) {
		snprintf(err, errlen, "%s:%d: include: %s: %s", cf->path,
		    cf->include_line, glob_err_path, strerror(glob_err_errno));
		globfree(&g);
		return -1;
	}
	if (rc == GLOB_NOSPACE) {
		snprintf(err, errlen, "%s:%d: include: out of memory", cf->path,
		    cf->include_line);
		return -1;
	}
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
		cf->included = xrealloc(cf->included,
		    (cf->nincluded + 1) * sizeof *cf->included);
		cf->included[cf->nincluded++] = xstrdup(g.gl_pathv[i]);
	}
	globfree(&g);
	for (size_t i = 0; i < cf->nincluded; i++)
		if (parse_conf_file(cf, cf->included[i], 1, err, errlen) == -1)
			return -1;
	return 0;
}

struct rw_config *
config_load(const char *path, char *err, size_t errlen)
{
	struct rw_config *cf;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	cf = xcalloc(1, sizeof *cf);
	cf->path = xstrdup(path);
	cf->socket = xstrdup("/run/replwatch/replwatch.sock");
	cf->state_dir = xstrdup("/var/lib/replwatch");
	cf->log_level = LOG_LVL_INFO;
	cf->log_dest = LOG_DEST_AUTO;
	cf->max_clients = 64;
	cf->client_idle_timeout_s = 300;

	if (parse_conf_file(cf, path, 0, err, errlen) == -1 ||
	    (cf->include != NULL && parse_includes(cf, err, errlen) == -1))
		goto bad;
	if (cf->ntargets == 0) {
		fail_path(err, errlen, path, "no target defined ([target NAME])%s",
		    cf->include != NULL ? ", nor in the included files" : "");
		goto bad;
	}
	return cf;
bad:
	config_free(cf);
	return NULL;
}

void
config_free(struct rw_config *cf)
{
	if (cf == NULL)
		return;
	for (size_t i = 0; i < cf->ntargets; i++)
		target_free(&cf->targets[i]);
	free(cf->targets);
	free(cf->path);
	free(cf->socket);
	free(cf->socket_group);
	free(cf->admin_group);
	free(cf->state_dir);
	free(cf->metrics_listen);
	free(cf->include);
	for (size_t i = 0; i < cf->nincluded; i++)
		free(cf->included[i]);
	free(cf->included);
	free(cf);
}

const struct rw_target_config *
config_target(const struct rw_config *cf, const char *name)
{
	if (cf == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < cf->ntargets; i++)
		if (strcmp(cf->targets[i].name, name) == 0)
			return &cf->targets[i];
	return NULL;
}

const char *
config_flavor_name(enum rw_flavor_choice f)
{
	if ((unsigned)f > FLAVOR_MARIADB)
		return "unknown";
	return flavor_words[f];
}

const char *
config_tls_name(enum rw_tls_mode m)
{
	if ((unsigned)m > TLS_VERIFY_IDENTITY)
		return "unknown";
	return tls_words[m];
}

/* --- option files ------------------------------------------------------ */

/*
 * What libmariadb (Connector/C 3.3, the daemon's client library) does with
 * an option file, checked against the library in use here:
 *   - "password" and "passwd" set the password, and so does a connection
 *     string ("connection = user=u;password=p"); key names are matched
 *     exactly, with '_' taken as '-';
 *   - "!include PATH" reads PATH, "!includedir DIR" reads DIR/my.cnf (only
 *     that name); the directive ends at the first space (a tab does not
 *     end it: the line is then ignored), the path is the rest of the line
 *     less trailing blanks, and a relative path is opened from the
 *     daemon's working directory; an empty one reads the system-wide
 *     option files;
 *   - a missing or unreadable file is skipped in silence;
 *   - lines are read 4094 bytes at a time, so the tail of a longer line is
 *     taken as a line of its own.
 * The command-line clients also take a "loose-" prefix and any unambiguous
 * prefix ("pass"), case aside.  We check what the library reads, and count
 * as a secret whatever any of them would.
 */

/* libmariadb's buffer less the newline: a longer line is split. */
#define OPTFILE_MAX_LINE	4093
/* libmariadb stops at 64 and says nothing; a loop is an error here. */
#define OPTFILE_MAX_DEPTH	8

static int check_option_file(const char *, int, char *, size_t);

/*
 * The option a line sets, as libmariadb matches it: lower case, '_' as
 * '-', without a "loose-" prefix, into key.  0 for a comment, a section,
 * a directive or a blank line.  *has_value: the line has "= value".
 */
static int
option_key(const char *s, char *key, size_t keylen, int *has_value)
{
	const char *eq, *end;
	size_t n, j = 0;

	for (; isspace((unsigned char)*s); s++)
		;
	if (*s == '\0' || *s == '#' || *s == ';' || *s == '[' || *s == '!')
		return 0;
	*has_value = (eq = strchr(s, '=')) != NULL;
	if (eq == NULL)
		eq = strchr(s, '\0');
	for (end = eq; end > s && isspace((unsigned char)end[-1]); end--)
		;
	n = (size_t)(end - s);
	if (n == 0 || n >= keylen)
		return 0;
	if (n > 6 && strncasecmp(s, "loose", 5) == 0 && (s[5] == '-' ||
	    s[5] == '_')) {
		s += 6;
		n -= 6;
	}
	for (size_t i = 0; i < n; i++)
		key[j++] = s[i] == '_' ? '-' : (char)tolower((unsigned char)s[i]);
	key[j] = '\0';
	return 1;
}

/*
 * Does the line give a password (or another secret: a TLS key's
 * passphrase)?  Only the key is looked at, never the value, so the value
 * cannot leak into a message.  Calling too much a secret costs a chmod.
 */
static int
is_password_line(const char *s)
{
	static const char *const secret[] = {
		"passwd", "connection", "password1", "password2", "password3",
		"ssl-passphrase", "tls-passphrase", NULL
	};
	char k[32];
	int has_value;

	if (!option_key(s, k, sizeof k, &has_value) || !has_value)
		return 0;
	/* "pas", "pass", ... "password": what the clients would expand. */
	if (strlen(k) >= 3 && strncmp(k, "password", strlen(k)) == 0)
		return 1;
	for (int i = 0; secret[i] != NULL; i++)
		if (strcmp(k, secret[i]) == 0)
			return 1;
	return 0;
}

/*
 * Does the line set TLS?  libmariadb reads the option file after the
 * daemon has set its own TLS options, so "ssl-enforce = 0" or an empty
 * "ssl-fp" there would undo tls = required (and send the login in clear
 * text to a server without TLS, before the after-connect check refuses).
 * TLS is replwatch.conf's alone: its key into key, 1 if it is one.
 */
static int
is_tls_line(const char *s, char *key, size_t keylen)
{
	int has_value;

	if (!option_key(s, key, keylen, &has_value))
		return 0;
	return strcmp(key, "ssl") == 0 || strcmp(key, "skip-ssl") == 0 ||
	    strncmp(key, "ssl-", 4) == 0 || strncmp(key, "tls-", 4) == 0 ||
	    strcmp(key, "tls") == 0;
}

/*
 * An "!include PATH" or "!includedir DIR" line, split as libmariadb
 * splits it: *name is "include" or "includedir", *target the rest less
 * trailing blanks.  0 for any other line.  s is modified.
 */
static int
include_directive(char *s, const char **name, char **target)
{
	char *sp, *end;

	for (; isspace((unsigned char)*s); s++)
		;
	if (*s++ != '!' || (sp = strchr(s, ' ')) == NULL)
		return 0;
	*sp = '\0';
	if (strcmp(s, "include") != 0 && strcmp(s, "includedir") != 0)
		return 0;
	*name = s;
	*target = sp + 1;
	for (end = strchr(*target, '\0');
	    end > *target && isspace((unsigned char)end[-1]); end--)
		;
	*end = '\0';
	return 1;
}

/* "!includedir DIR": the directory (its my.cnf may appear later). */
static int
check_include_dir(const char *dir, int depth, char *err, size_t errlen)
{
	struct stat st;
	char *mycnf;
	int rc;

	if (stat(dir, &st) == -1) {
		fail_path(err, errlen, dir, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fail_path(err, errlen, dir, "not a directory");
		return -1;
	}
	if (check_path_trust(dir, err, errlen) == -1)
		return -1;
	xasprintf(&mycnf, "%s/my.cnf", dir);
	rc = 0;
	if (stat(mycnf, &st) == 0 || errno != ENOENT)
		rc = check_option_file(mycnf, depth + 1, err, errlen);
	free(mycnf);
	return rc;
}

/* Line lineno of path includes target: it must pass the same checks. */
static int
check_include(const char *path, int lineno, const char *name,
    const char *target, int depth, char *err, size_t errlen)
{
	char why[1024];
	int rc;

	why[0] = '\0';
	if (target[0] != '/') {
		snprintf(why, sizeof why, "\"%s\" is not an absolute path",
		    target);
		rc = -1;
	} else if (depth >= OPTFILE_MAX_DEPTH) {
		snprintf(why, sizeof why, "%s: includes nested more than %d "
		    "deep (a loop?)", target, OPTFILE_MAX_DEPTH);
		rc = -1;
	} else if (strcmp(name, "include") == 0)
		rc = check_option_file(target, depth + 1, why, sizeof why);
	else
		rc = check_include_dir(target, depth, why, sizeof why);
	if (rc == -1 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s:%d: !%s: %s", path, lineno, name,
		    why);
	return rc;
}

static int
check_option_file(const char *path, int depth, char *err, size_t errlen)
{
	struct stat st;
	FILE *fp;
	const char *name;
	char *line = NULL, *target, key[64];
	size_t linesz = 0, len;
	ssize_t n;
	int fd, lineno = 0, password = 0, rc = -1;

	if ((fd = open_trusted(path, &st, err, errlen)) == -1)
		return -1;
	if ((fp = fdopen(fd, "r")) == NULL) {
		fail_path(err, errlen, path, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	while ((n = getline(&line, &linesz, fp)) != -1) {
		lineno++;
		len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > OPTFILE_MAX_LINE) {
			fail_path(err, errlen, path, "line %d is longer than "
			    "%d bytes (libmariadb would read its tail as "
			    "another line)", lineno, OPTFILE_MAX_LINE);
			goto out;
		}
		if (include_directive(line, &name, &target)) {
			if (check_include(path, lineno, name, target, depth,
			    err, errlen) == -1)
				goto out;
		} else if (is_tls_line(line, key, sizeof key)) {
			fail_path(err, errlen, path, "line %d: %s: TLS is set in "
			    "replwatch.conf (tls, tls_ca, tls_cert, tls_key), not "
			    "in option files, where it would override those "
			    "settings", lineno, key);
			goto out;
		} else if (!password)
			password = is_password_line(line);
	}
	if (ferror(fp)) {
		fail_path(err, errlen, path, "read error: %s", strerror(errno));
		goto out;
	}
	if (password && (st.st_mode & 077) != 0) {
		fail_path(err, errlen, path, "holds a password but is %s by "
		    "group or others (mode %04o); chmod 600 it",
		    (st.st_mode & 044) ? "readable" : "accessible",
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	rc = 0;
out:
	free(line);
	fclose(fp);
	return rc;
}

int
config_check_option_file(const char *path, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return check_option_file(path, 0, err, errlen);
}
