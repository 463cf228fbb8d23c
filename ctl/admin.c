/*
 * The admin commands that are one request and one reply: setup, start,
 * stop, abort and reload.  The daemon decides who may run them.
 *
 * setup's password never travels in argv (every local user can read a
 * process's command line): it comes from a file or stdin, lives in one
 * buffer here, goes out on the socket, and the buffer and the request line
 * are zeroed once sent.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ctl.h"
#include "dumpcoords.h"
#include "output.h"

#define PASSWORD_MAX	255	/* what the daemon accepts */

static int
admin_call(struct ctl *ctl, const char *cmd, const char *target,
    cJSON *args, output_fn *human)
{
	cJSON *root, *result;
	int st;

	if ((st = ctl_call(ctl, cmd, target, args, &root, &result)) != 0)
		return st;
	output_print(human, result);
	cJSON_Delete(root);
	return 0;
}

/* Statements on a remote server may take longer than a status. */
static void
admin_timeout(struct ctl *ctl)
{
	if (!ctl->timeout_given)
		ctl->timeout_ms = (int)(CTL_ADMIN_TIMEOUT_DEFAULT * 1000);
}

/*
 * The first line of fp, without its \r\n, into pw.  Returns 0, or -1 with
 * a reason in err.
 */
static int
first_line(FILE *fp, char *pw, size_t len, const char *what, char *err,
    size_t errlen)
{
	size_t n;

	if (fgets(pw, (int)len, fp) == NULL) {
		if (ferror(fp))
			snprintf(err, errlen, "reading the password from %s: %s",
			    what, errno == EINTR ? "interrupted" :
			    strerror(errno));
		else
			snprintf(err, errlen, "%s: no password (empty)", what);
		return -1;
	}
	n = strcspn(pw, "\r\n");
	if (pw[n] == '\0' && n == len - 1 && !feof(fp)) {
		snprintf(err, errlen, "%s: the password is longer than %d "
		    "characters", what, PASSWORD_MAX);
		return -1;
	}
	pw[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "%s: no password (the first line is "
		    "empty)", what);
		return -1;
	}
	return 0;
}

/*
 * Group-readable is fine: ops keep such files 0640 root:admins on
 * purpose.  Readable (or writable) by every user is worth a word, not a
 * refusal: refusing would not make the secret unread, and a cut-over is
 * no time to block on a chmod.
 */
static void
check_mode(const char *path, const struct stat *st)
{
	if (!S_ISREG(st->st_mode) || (st->st_mode & (S_IROTH | S_IWOTH)) == 0)
		return;
	fprintf(stderr, "replwatchctl: warning: %s (mode %04o) is %s by every "
	    "user on this host; chmod o-rw %s\n", path,
	    (unsigned)(st->st_mode & 07777), st->st_mode & S_IROTH ?
	    "readable" : "writable", path);
}

static int
password_from_file(const char *path, char *pw, size_t len, char *err,
    size_t errlen)
{
	struct stat st;
	FILE *fp;
	int fd, rv;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", path, S_ISDIR(st.st_mode) ?
		    "is a directory" : strerror(errno));
		close(fd);
		return -1;
	}
	check_mode(path, &st);
	if ((fp = fdopen(fd, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* No stdio buffer keeps a copy of the secret. */
	setvbuf(fp, NULL, _IONBF, 0);
	rv = first_line(fp, pw, len, path, err, errlen);
	fclose(fp);
	return rv;
}

/* stdin: a line from a pipe, or typed without echo on a terminal. */
static int
password_from_stdin(const char *user, const char *host, char *pw,
    size_t len, char *err, size_t errlen)
{
	struct termios old, quiet;
	int rv;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &old) == -1) {
		setvbuf(stdin, NULL, _IONBF, 0);
		return first_line(stdin, pw, len, "stdin", err, errlen);
	}
	/* A ^C must not leave the terminal without echo: no SA_RESTART. */
	ctl_catch_signals();
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	fprintf(stderr, "Password of %s on %s: ", user, host);
	fflush(stderr);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	rv = first_line(stdin, pw, len, "the terminal", err, errlen);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return rv;
}

/*
 * The dump's coordinates, read here: the daemon may run on another host
 * or lack the rights to read the file.  What was found is said on stdout
 * (stderr under --json, which keeps stdout to the daemon's JSON).
 */
static int
coords_from_dump(struct ctl *ctl, const struct cmd_args *a, cJSON *args)
{
	struct dumpcoords dc;
	enum dumpcoords_want want = a->gtid_from_dump ? DUMPCOORDS_WANT_GTID :
	    DUMPCOORDS_WANT_POS;
	FILE *say = ctl->json ? stderr : stdout;
	const char *base = strrchr(a->from_dump, '/');
	char err[1024];

	base = base != NULL && base[1] != '\0' ? base + 1 : a->from_dump;
	dumpcoords_init(&dc);
	if (dumpcoords_read(&dc, a->from_dump, want, err, sizeof(err)) == -1) {
		dumpcoords_free(&dc);
		return ctl_fail(ctl, EXIT_USAGE, "--from-dump %s", err);
	}
	if (want == DUMPCOORDS_WANT_GTID) {
		cJSON_AddStringToObject(args, "gtid", dc.gtid);
		fprintf(say, "coordinates from %s: gtid %s (%s)\n", base,
		    dc.gtid, dc.gtid_kind == DUMPCOORDS_GTID_MYSQL ?
		    "GTID_PURGED" : "gtid_slave_pos");
	} else {
		cJSON_AddStringToObject(args, "binlog_file", dc.log_file);
		cJSON_AddStringToObject(args, "binlog_pos", dc.log_pos);
		fprintf(say, "coordinates from %s: %s:%s", base, dc.log_file,
		    dc.log_pos);
		if (dc.gtid != NULL)
			fprintf(say, " (the dump's gtid %s is not used; "
			    "--gtid-from-dump would)", dc.gtid);
		fputc('\n', say);
	}
	fflush(say);
	dumpcoords_free(&dc);
	return 0;
}

int
cmd_setup(struct ctl *ctl, const struct cmd_args *a)
{
	char pw[PASSWORD_MAX + 2], err[1024];
	cJSON *args;
	int st;

	/* The dump first: a wrong file should not cost a typed password. */
	args = cJSON_CreateObject();
	if (a->from_dump != NULL && (st = coords_from_dump(ctl, a, args)) != 0)
		goto out;
	if ((a->password_file != NULL ? password_from_file(a->password_file,
	    pw, sizeof(pw), err, sizeof(err)) : password_from_stdin(
	    a->repl_user, a->master_host, pw, sizeof(pw), err,
	    sizeof(err))) == -1) {
		explicit_bzero(pw, sizeof(pw));
		st = ctl_signal ? ctl_fail(ctl, 128 + ctl_signal, "interrupted") :
		    ctl_fail(ctl, EXIT_USAGE, "%s", err);
		goto out;
	}

	cJSON_AddStringToObject(args, "master_host", a->master_host);
	cJSON_AddNumberToObject(args, "master_port", a->master_port > 0 ?
	    (double)a->master_port : 3306);
	cJSON_AddStringToObject(args, "repl_user", a->repl_user);
	/* A reference: cJSON never copies the secret, nor frees it. */
	cJSON_AddItemToObject(args, "repl_password",
	    cJSON_CreateStringReference(pw));
	if (a->binlog_file != NULL) {
		cJSON_AddStringToObject(args, "binlog_file", a->binlog_file);
		cJSON_AddStringToObject(args, "binlog_pos", a->binlog_pos);
	}
	if (a->gtid != NULL)
		cJSON_AddStringToObject(args, "gtid", a->gtid);
	cJSON_AddBoolToObject(args, "ssl", a->ssl);
	cJSON_AddBoolToObject(args, "start", a->start);

	admin_timeout(ctl);
	st = admin_call(ctl, "setup", a->target, args, output_setup);
	explicit_bzero(pw, sizeof(pw));
	return st;
out:
	cJSON_Delete(args);
	return st;
}

int
cmd_start(struct ctl *ctl, const struct cmd_args *a)
{
	admin_timeout(ctl);
	return admin_call(ctl, "start", a->target, NULL, output_start);
}

int
cmd_stop(struct ctl *ctl, const struct cmd_args *a)
{
	admin_timeout(ctl);
	return admin_call(ctl, "stop", a->target, NULL, output_stop);
}

int
cmd_abort(struct ctl *ctl, const struct cmd_args *a)
{
	return admin_call(ctl, "abort", a->target, NULL, output_abort);
}

int
cmd_unfence(struct ctl *ctl, const struct cmd_args *a)
{
	return admin_call(ctl, "unfence", a->target, NULL, output_unfence);
}

int
cmd_reload(struct ctl *ctl, const struct cmd_args *a)
{
	return admin_call(ctl, "reload", NULL, NULL, output_reload);
}
