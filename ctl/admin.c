/*
 * The admin commands that are one request and one reply: setup, start,
 * stop, abort and unfence.  The daemon decides who may run them.
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

#define PASSWORD_MAX	255	/* what the daemon accepts */

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
coords_from_dump(struct ctl *ctl, const struct ctl_args *a, cJSON *args)
{
	struct dumpcoords dc;
	enum dumpcoords_want want = args_has(a, "gtid-from-dump") ?
	    DUMPCOORDS_WANT_GTID : DUMPCOORDS_WANT_POS;
	FILE *say = ctl->format == OUT_TEXT ? stdout : stderr;
	const char *dump = args_str(a, "from-dump");
	const char *base = strrchr(dump, '/');
	char err[1024];

	base = base != NULL && base[1] != '\0' ? base + 1 : dump;
	dumpcoords_init(&dc);
	if (dumpcoords_read(&dc, dump, want, err, sizeof(err)) == -1) {
		dumpcoords_free(&dc);
		return ctl_fail(ctl, EXIT_USAGE, "usage", "--from-dump %s", err);
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

/*
 * The request's members beyond the options' own keys: the dump's
 * coordinates, the password, and the defaults the daemon is told
 * explicitly.
 */
static char pw[PASSWORD_MAX + 2];

static int
setup_build(struct ctl *ctl, const struct ctl_args *a, cJSON *args)
{
	char err[1024];
	int st;

	/* The dump first: a wrong file should not cost a typed password. */
	if (args_has(a, "from-dump") && (st = coords_from_dump(ctl, a,
	    args)) != 0)
		return st;
	if ((args_has(a, "repl-password-file") ? password_from_file(
	    args_str(a, "repl-password-file"), pw, sizeof(pw), err,
	    sizeof(err)) : password_from_stdin(args_str(a, "repl-user"),
	    args_str(a, "master-host"), pw, sizeof(pw), err,
	    sizeof(err))) == -1) {
		explicit_bzero(pw, sizeof(pw));
		return ctl_signal ? ctl_fail(ctl, 128 + ctl_signal,
		    "interrupted", "interrupted") :
		    ctl_fail(ctl, EXIT_USAGE, "usage", "%s", err);
	}
	if (!args_has(a, "master-port"))
		cJSON_AddNumberToObject(args, "master_port", 3306);
	/*
	 * A reference: cJSON never copies the secret, nor frees it; the
	 * request line is zeroed once sent (ctl_send), pw by setup_exec.
	 */
	cJSON_AddItemToObject(args, "repl_password",
	    cJSON_CreateStringReference(pw));
	if (!args_has(a, "ssl"))
		cJSON_AddFalseToObject(args, "ssl");
	if (!args_has(a, "start"))
		cJSON_AddFalseToObject(args, "start");
	return 0;
}

static int
setup_exec(struct ctl *ctl, const struct ctl_args *a)
{
	int st = ctl_run_simple(ctl, a);

	explicit_bzero(pw, sizeof(pw));
	return st;
}

/* One password source, one starting point. */
static int
setup_check(const struct ctl_args *a, char *why, size_t len)
{
	int starts = (args_has(a, "binlog-file") || args_has(a, "binlog-pos")) +
	    args_has(a, "from-dump") + args_has(a, "gtid");

	if (args_has(a, "repl-password-file") +
	    args_has(a, "repl-password-stdin") != 1)
		snprintf(why, len, "give the password with one of "
		    "--repl-password-file or --repl-password-stdin");
	else if (starts != 1)
		snprintf(why, len, "give one starting point: --binlog-file "
		    "and --binlog-pos, --from-dump, or --gtid");
	else if (args_has(a, "binlog-file") != args_has(a, "binlog-pos"))
		snprintf(why, len, "--binlog-file and --binlog-pos go together");
	else if (args_has(a, "gtid-from-dump") && !args_has(a, "from-dump"))
		snprintf(why, len, "--gtid-from-dump needs --from-dump");
	else
		return 0;
	return -1;
}

static void
statement_and_messages(const cJSON *r)
{
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(r, "messages");
	const cJSON *stmt = cJSON_GetObjectItemCaseSensitive(r, "statement");
	const char *note = out_str(r, "note");
	const cJSON *m;
	char b1[256], b2[4096];

	printf("%s: %s\n", out_text(b1, sizeof(b1), r, "target"),
	    cJSON_IsString(stmt) && stmt->valuestring[0] == '\0' ?
	    "no statement needed" : out_text(b2, sizeof(b2), r, "statement"));
	cJSON_ArrayForEach(m, msgs)
		if (cJSON_IsString(m))
			printf("  %s\n", m->valuestring);
	/* What the state read back showed (e.g. "already stopped"). */
	if (note != NULL && note[0] != '\0')
		printf("  %s\n", note);
}

static void
setup_text(const cJSON *r)
{
	char b[256];

	statement_and_messages(r);
	if (out_true(r, "started"))
		printf("replication started\n");
	else
		printf("replication configured, not started (replwatchctl "
		    "start %s)\n", out_text(b, sizeof(b), r, "target"));
}

/* No option takes the password itself: argv is readable by every user. */
static const struct ctl_opt setup_opts[] = {
	{ .name = "master-host", .type = OT_TEXT, .arg = "H",
	  .key = "master_host", .flags = OPT_REQUIRED,
	  .help = "the master's address, as the replica reaches it" },
	{ .name = "master-port", .type = OT_COUNT, .arg = "P",
	  .key = "master_port", .min = 1, .max = 65535,
	  .help = "its port (default 3306)" },
	{ .name = "repl-user", .type = OT_TEXT, .arg = "U", .key = "repl_user",
	  .flags = OPT_REQUIRED,
	  .help = "the replication user on the master" },
	{ .name = "repl-password-file", .type = OT_FILE, .arg = "F",
	  .help = "its password: the first line of F (a\n"
	  "warning if every user may read F)" },
	{ .name = "repl-password-stdin", .type = OT_FLAG,
	  .help = "its password: the first line of stdin, or\n"
	  "asked for without echo on a terminal" },
	{ .name = "binlog-file", .type = OT_TEXT, .arg = "NAME",
	  .key = "binlog_file", .help = "start at this binlog file ..." },
	{ .name = "binlog-pos", .type = OT_BINLOG_POS, .arg = "N",
	  .key = "binlog_pos", .help = "... and position" },
	{ .name = "from-dump", .type = OT_FILE, .arg = "DUMP.sql",
	  .help = "start where a dump made with\n"
	  "--master-data (--source-data) was taken: its\n"
	  "CHANGE MASTER line, read here, not by the daemon" },
	{ .name = "gtid-from-dump", .type = OT_FLAG,
	  .help = "use the dump's GTID (gtid_slave_pos or\n"
	  "GTID_PURGED) instead of its file and position" },
	{ .name = "gtid", .type = OT_TEXT, .arg = "G", .key = "gtid",
	  .help = "start at this GTID position" },
	{ .name = "ssl", .type = OT_FLAG, .key = "ssl",
	  .help = "encrypt the replication link" },
	{ .name = "start", .type = OT_FLAG, .key = "start",
	  .help = "also start replication" },
	{ NULL }
};

const struct ctl_cmd cmd_setup_entry = {
	.name = "setup",
	.flags = CMD_TARGET_REQ | CMD_ADMIN | CMD_SLOW,
	.options = setup_opts,
	.usage = "TARGET --master-host H [--master-port P] --repl-user U\n"
	    "    (--repl-password-file F | --repl-password-stdin)\n"
	    "    (--binlog-file NAME --binlog-pos N | --from-dump DUMP.sql "
	    "[--gtid-from-dump] | --gtid G)\n"
	    "    [--ssl] [--start]",
	.summary = "configure replication on the replica (admin)",
	.help =
	    "Configure the replica to replicate from the master, through the\n"
	    "statement or RDS procedure its kind needs.  Refused while the\n"
	    "replication threads run (stop them first).  Prints the statement,\n"
	    "its password replaced by ***.  The password never appears on the\n"
	    "command line.  Waits up to 120 s for the daemon unless the global\n"
	    "--reply-timeout says otherwise.\n",
	.check = setup_check,
	.build = setup_build,
	.text = setup_text,
	.exec = setup_exec,
};

static void
start_text(const cJSON *r)
{
	statement_and_messages(r);
	printf("replication started\n");
}

const struct ctl_cmd cmd_start_entry = {
	.name = "start",
	.flags = CMD_TARGET_REQ | CMD_ADMIN | CMD_SLOW,
	.usage = "TARGET",
	.summary = "start replication (admin)",
	.help =
	    "Start replication on the replica (START SLAVE, START REPLICA or\n"
	    "CALL mysql.rds_start_replication()); print the statement and the\n"
	    "server's messages.\n",
	.text = start_text,
};

static void
stop_text(const cJSON *r)
{
	statement_and_messages(r);
	printf("replication stopped\n");
}

const struct ctl_cmd cmd_stop_entry = {
	.name = "stop",
	.flags = CMD_TARGET_REQ | CMD_ADMIN | CMD_SLOW,
	.usage = "TARGET",
	.summary = "stop replication (admin)",
	.help =
	    "Stop replication on the replica; print the statement and the\n"
	    "server's messages.\n",
	.text = stop_text,
};

static void
abort_text(const cJSON *r)
{
	char b[256];
	const char *t = out_text(b, sizeof(b), r, "target");

	printf("%s: abort requested: the promotion rolls back (the old "
	    "master made writable, replication restarted); replwatchctl "
	    "status %s shows when it is done\n", t, t);
}

const struct ctl_cmd cmd_abort_entry = {
	.name = "abort",
	.flags = CMD_TARGET_REQ | CMD_ADMIN,
	.usage = "TARGET",
	.summary = "cancel a running promotion (admin)",
	.help =
	    "Cancel the target's promotion while it has not reached the reset:\n"
	    "the old master is made writable again and replication keeps\n"
	    "running.  Also rolls back an interrupted promotion whose reset had\n"
	    "not started.\n",
	.text = abort_text,
};

static void
unfence_text(const cJSON *r)
{
	char b1[256], b2[512];

	printf("%s: the old master's fence is released: %s\n",
	    out_text(b1, sizeof(b1), r, "target"), out_text(b2, sizeof(b2), r,
	    "note"));
}

const struct ctl_cmd cmd_unfence_entry = {
	.name = "unfence",
	.flags = CMD_TARGET_REQ | CMD_ADMIN,
	.usage = "TARGET",
	.summary = "release the old master's fence (admin)",
	.help =
	    "After a promotion the old master is fenced: read_only, and a global\n"
	    "read lock held on replwatchd's own connection (taken again if the\n"
	    "link is lost), so that not even accounts that read_only exempts can\n"
	    "write there.  Release the lock; read_only stays ON.\n",
	.text = unfence_text,
};
