/*
 * Reading a dump's coordinates.  Dumps are gigabytes, so a whole read is the
 * last resort: the tools write the binlog position in the first lines, and
 * mariadb-dump its gtid_slave_pos in the last ones (mysqldump's GTID_PURGED
 * is near the top too), so one read at each end almost always does.  The
 * full scan reads blocks and looks only at the first bytes of each line;
 * the long INSERT lines in between are skipped with memchr and never copied.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumpcoords.h"
#include "xmalloc.h"

#define SCAN_BLOCK	(1024 * 1024)
/* A line worth parsing: a GTID set plus its statement. */
#define LINE_MAX_KEPT	(DUMPCOORDS_GTID_MAX + 1024)

void
dumpcoords_init(struct dumpcoords *dc)
{
	memset(dc, 0, sizeof(*dc));
}

static void
drop_pending(struct dumpcoords *dc)
{
	free(dc->pending);
	dc->pending = NULL;
	dc->pending_len = 0;
	dc->pending_quote = 0;
	dc->pending_kind = DUMPCOORDS_GTID_NONE;
}

void
dumpcoords_free(struct dumpcoords *dc)
{
	free(dc->gtid);
	drop_pending(dc);
	dumpcoords_init(dc);
}

int
dumpcoords_have(const struct dumpcoords *dc, enum dumpcoords_want want)
{
	if (want == DUMPCOORDS_WANT_GTID)
		return dc->gtid != NULL;
	return dc->log_file[0] != '\0' && dc->log_pos[0] != '\0';
}

/* -- one line -- */

static void
skip_space(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* A keyword, case-insensitive, ending where an identifier cannot go on. */
static int
keyword(const char **p, const char *word)
{
	size_t n = strlen(word);
	unsigned char next;

	if (strncasecmp(*p, word, n) != 0)
		return 0;
	next = (unsigned char)(*p)[n];
	if (isalnum(next) || next == '_')
		return 0;
	*p += n;
	skip_space(p);
	return 1;
}

/*
 * A quoted SQL string into out (at most outlen - 1 bytes, else -1); \x
 * and a doubled quote stand for the character.  *p ends after the quote.
 */
static int
quoted(const char **p, char *out, size_t outlen)
{
	const char *s = *p;
	char q = *s++;
	size_t n = 0;

	if (q != '\'' && q != '"')
		return -1;
	for (;; s++) {
		if (*s == '\0')
			return -1;
		if (*s == '\\' && s[1] != '\0')
			s++;
		else if (*s == q) {
			if (s[1] != q)
				break;
			s++;
		}
		if (n + 1 >= outlen)
			return -1;
		out[n++] = *s;
	}
	out[n] = '\0';
	*p = s + 1;
	skip_space(p);
	return 0;
}

/* An unquoted value (MASTER_LOG_POS=1234, MASTER_USE_GTID=slave_pos). */
static void
bare(const char **p, char *out, size_t outlen)
{
	size_t n = 0;

	while (**p != '\0' && **p != ',' && **p != ';' && **p != ' ' &&
	    **p != '\t' && **p != '*') {
		if (n + 1 < outlen)
			out[n++] = **p;
		(*p)++;
	}
	out[n] = '\0';
	skip_space(p);
}

static int
valid_file(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	if (*u == '\0')
		return 0;
	for (; *u != '\0'; u++)
		if (*u < 0x20 || *u == 0x7f || *u == '/')
			return 0;
	return 1;
}

/* 1 to 20 digits that fit in 64 bits. */
static int
valid_pos(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 20 || strspn(s, "0123456789") != n)
		return 0;
	return n < 20 || strcmp(s, "18446744073709551615") <= 0;
}

/*
 * After CHANGE MASTER TO / CHANGE REPLICATION SOURCE TO: KEY=VALUE, ...
 * Keeps the first statement that names both a file and a position.
 */
static void
parse_change(struct dumpcoords *dc, const char *p)
{
	char key[64], val[DUMPCOORDS_FILE_MAX + 1];
	char file[DUMPCOORDS_FILE_MAX + 1] = "", pos[32] = "";
	size_t n;

	for (;;) {
		n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz_");
		if (n == 0 || n >= sizeof(key))
			return;
		memcpy(key, p, n);
		key[n] = '\0';
		p += n;
		skip_space(&p);
		if (*p++ != '=')
			return;
		skip_space(&p);
		if (*p == '\'' || *p == '"') {
			if (quoted(&p, val, sizeof(val)) == -1)
				return;
		} else
			bare(&p, val, sizeof(val));

		if (strcasecmp(key, "MASTER_LOG_FILE") == 0 ||
		    strcasecmp(key, "SOURCE_LOG_FILE") == 0)
			snprintf(file, sizeof(file), "%s", val);
		else if (strcasecmp(key, "MASTER_LOG_POS") == 0 ||
		    strcasecmp(key, "SOURCE_LOG_POS") == 0) {
			if (strlen(val) >= sizeof(pos))
				return;
			memcpy(pos, val, strlen(val) + 1);
		}

		if (*p == ',') {
			p++;
			skip_space(&p);
			continue;
		}
		if (*p != ';' && *p != '\0' && *p != '*')
			return;
		break;
	}
	if (!valid_file(file) || !valid_pos(pos))
		return;
	memcpy(dc->log_file, file, strlen(file) + 1);
	memcpy(dc->log_pos, pos, strlen(pos) + 1);
}

/*
 * Append the GTID text of s (up to the closing quote, or all of it) to the
 * pending value, dropping whitespace.  Returns 1 when the quote closed it,
 * 0 when it goes on, -1 when it is not a GTID set after all.
 */
static int
gtid_more(struct dumpcoords *dc, const char *s)
{
	unsigned char c;

	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (c == (unsigned char)dc->pending_quote)
			return 1;
		if (c == ' ' || c == '\t' || c == '\r')
			continue;
		if (!isalnum(c) && c != ':' && c != ',' && c != '-' &&
		    c != '_')
			return -1;
		if (dc->pending_kind == DUMPCOORDS_GTID_MARIADB &&
		    !isdigit(c) && c != ',' && c != '-')
			return -1;
		if (dc->pending_len >= DUMPCOORDS_GTID_MAX)
			return -1;
		dc->pending[dc->pending_len++] = (char)c;
	}
	return 0;
}

/* The pending value is complete: keep it if it is the first GTID found. */
static void
gtid_done(struct dumpcoords *dc)
{
	if (dc->gtid == NULL && dc->pending_len > 0) {
		dc->gtid = xstrndup(dc->pending, dc->pending_len);
		dc->gtid_kind = dc->pending_kind;
	}
	drop_pending(dc);
}

/* The quoted value at p starts a GTID of that kind. */
static void
gtid_start(struct dumpcoords *dc, const char *p,
    enum dumpcoords_gtid_kind kind)
{
	if (*p != '\'' && *p != '"')
		return;
	drop_pending(dc);
	dc->pending = xmalloc(DUMPCOORDS_GTID_MAX);
	dc->pending_quote = *p;
	dc->pending_kind = kind;
	/* A leading '+' (append to gtid_purged) is no part of the set. */
	if (kind == DUMPCOORDS_GTID_MYSQL && p[1] == '+')
		p++;
	switch (gtid_more(dc, p + 1)) {
	case 1:
		gtid_done(dc);
		break;
	case -1:
		drop_pending(dc);
		break;
	}
	/* MariaDB's is one line: no value goes on after it. */
	if (dc->pending != NULL && kind == DUMPCOORDS_GTID_MARIADB)
		drop_pending(dc);
}

/*
 * After SET: GLOBAL gtid_slave_pos='…' (or @@GLOBAL.gtid_slave_pos), or
 * @@GLOBAL.GTID_PURGED=[version comment with '+'] '…'.
 */
static void
parse_set(struct dumpcoords *dc, const char *p)
{
	enum dumpcoords_gtid_kind kind;

	if (keyword(&p, "GLOBAL"))
		;
	else if (strncasecmp(p, "@@GLOBAL.", 9) == 0)
		p += 9;
	else if (strncmp(p, "@@", 2) == 0)
		p += 2;
	if (keyword(&p, "gtid_slave_pos"))
		kind = DUMPCOORDS_GTID_MARIADB;
	else if (keyword(&p, "gtid_purged"))
		kind = DUMPCOORDS_GTID_MYSQL;
	else
		return;
	if (*p++ != '=')
		return;
	skip_space(&p);
	/* mysqldump 8.0: =/ *!80000 '+'* / 'uuid:1-5' (no spaces inside). */
	if (kind == DUMPCOORDS_GTID_MYSQL && strncmp(p, "/*", 2) == 0) {
		const char *end = strstr(p, "*/");

		if (end == NULL)
			return;
		p = end + 2;
		skip_space(&p);
	}
	gtid_start(dc, p, kind);
}

/* One line, NUL-terminated, its newline and any trailing \r removed. */
static void
feed(struct dumpcoords *dc, const char *line)
{
	const char *p = line;

	if (dc->pending != NULL) {
		switch (gtid_more(dc, line)) {
		case 1:
			gtid_done(dc);
			break;
		case -1:
			drop_pending(dc);
			break;
		}
		return;
	}
	skip_space(&p);
	/*
	 * Commented out: "-- CHANGE MASTER" (--master-data=2), or a C comment
	 * opener (mysqldump --set-gtid-purged=COMMENTED).
	 */
	if (strncmp(p, "--", 2) == 0)
		p += 2;
	else if (strncmp(p, "/*", 2) == 0) {
		p += 2;
		if (*p == '!')
			p += 1 + strspn(p + 1, "0123456789");
	}
	skip_space(&p);
	if (keyword(&p, "CHANGE")) {
		if (dumpcoords_have(dc, DUMPCOORDS_WANT_POS))
			return;
		if (keyword(&p, "MASTER") || (keyword(&p, "REPLICATION") &&
		    keyword(&p, "SOURCE")))
			if (keyword(&p, "TO"))
				parse_change(dc, p);
	} else if (keyword(&p, "SET") && dc->gtid == NULL)
		parse_set(dc, p);
}

/* Whether a line starting with c could be one we parse. */
static int
candidate(const struct dumpcoords *dc, char c)
{
	if (dc->pending != NULL)
		return 1;
	switch (c) {
	case '-': case '/': case ' ': case '\t':
	case 'C': case 'c': case 'S': case 's':
		return 1;
	}
	return 0;
}

void
dumpcoords_line(struct dumpcoords *dc, const char *line, size_t len)
{
	char *s;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len > LINE_MAX_KEPT || (len > 0 && !candidate(dc, line[0])))
		return;
	s = xstrndup(line, len);
	feed(dc, s);
	free(s);
}

void
dumpcoords_scan(struct dumpcoords *dc, const char *text, size_t len)
{
	const char *end = text + len, *nl;

	while (text < end) {
		if ((nl = memchr(text, '\n', (size_t)(end - text))) == NULL)
			nl = end;
		dumpcoords_line(dc, text, (size_t)(nl - text));
		text = nl + 1;
	}
}

/* -- a file -- */

struct scan {
	struct dumpcoords *dc;
	char		*block;
	char		*line;		/* LINE_MAX_KEPT + 1 */
	size_t		 len;		/* bytes of the current line kept */
	int		 skip;		/* not a candidate, or too long */
	int		 at_start;	/* nothing of the current line seen */
};

static void
line_end(struct scan *s)
{
	if (!s->skip && !s->at_start) {
		while (s->len > 0 && s->line[s->len - 1] == '\r')
			s->len--;
		s->line[s->len] = '\0';
		feed(s->dc, s->line);
	}
	s->len = 0;
	s->skip = 0;
	s->at_start = 1;
}

/* Take n bytes of one line (no newline among them). */
static void
line_bytes(struct scan *s, const char *p, size_t n)
{
	if (n == 0 || s->skip)
		return;
	if (s->at_start) {
		s->at_start = 0;
		if (!candidate(s->dc, p[0])) {
			s->skip = 1;
			return;
		}
	}
	if (s->len + n > LINE_MAX_KEPT) {
		s->skip = 1;
		return;
	}
	memcpy(s->line + s->len, p, n);
	s->len += n;
}

static int
scan_done(const struct scan *s, enum dumpcoords_want want)
{
	return s->dc->pending == NULL && dumpcoords_have(s->dc, want);
}

/*
 * Feed the lines of [off, off + len) to the parser; off < 0 reads the fd
 * from where it is, len < 0 to its end.  mid_line: the range starts inside
 * a line, which is dropped.  A last line without its newline is fed only
 * at the end of the file.  Stops early once want is found, unless all is
 * set (the head and tail reads look at everything they read).
 */
static int
scan_range(struct scan *s, int fd, off_t off, off_t len, int mid_line,
    enum dumpcoords_want want, int all)
{
	const char *p, *end, *nl;
	ssize_t r;
	size_t n;

	s->len = 0;
	s->skip = mid_line;
	s->at_start = !mid_line;
	drop_pending(s->dc);
	while (len != 0) {
		n = len < 0 || len > SCAN_BLOCK ? SCAN_BLOCK : (size_t)len;
		r = off < 0 ? read(fd, s->block, n) : pread(fd, s->block, n,
		    off);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			line_end(s);
			break;
		}
		if (off >= 0)
			off += r;
		if (len > 0)
			len -= r;
		for (p = s->block, end = p + r; p < end; p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
				line_bytes(s, p, (size_t)(end - p));
				break;
			}
			line_bytes(s, p, (size_t)(nl - p));
			line_end(s);
		}
		if (!all && scan_done(s, want))
			break;
	}
	drop_pending(s->dc);
	return 0;
}

static const char *
compressed(int fd)
{
	unsigned char m[6];
	ssize_t r = pread(fd, m, sizeof(m), 0);

	if (r >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return "gzip";
	if (r >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f &&
	    m[3] == 0xfd)
		return "zstd";
	if (r >= 3 && memcmp(m, "BZh", 3) == 0)
		return "bzip2";
	if (r >= 6 && memcmp(m, "\xfd" "7zXZ\0", 6) == 0)
		return "xz";
	return NULL;
}

static void
not_found(const char *path, enum dumpcoords_want want, char *err,
    size_t errlen)
{
	if (want == DUMPCOORDS_WANT_GTID)
		snprintf(err, errlen, "%s: no GTID position in the dump (no "
		    "SET GLOBAL gtid_slave_pos or SET @@GLOBAL.GTID_PURGED "
		    "line): use its binlog coordinates instead, without "
		    "--gtid-from-dump", path);
	else
		snprintf(err, errlen, "%s: no binlog coordinates in the dump "
		    "(no CHANGE MASTER TO ... MASTER_LOG_FILE, MASTER_LOG_POS "
		    "line): dump with --master-data=2 (MySQL 8.0.26+: "
		    "--source-data=2)", path);
}

int
dumpcoords_read(struct dumpcoords *dc, const char *path,
    enum dumpcoords_want want, char *err, size_t errlen)
{
	struct scan s;
	struct stat st;
	const char *z;
	int fd, rv = -1;

	memset(&s, 0, sizeof(s));
	s.dc = dc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory", path);
		goto out;
	}
	if (S_ISREG(st.st_mode) && (z = compressed(fd)) != NULL) {
		snprintf(err, errlen, "%s: a %s-compressed file: decompress "
		    "it first (the coordinates are read from the SQL text)",
		    path, z);
		goto out;
	}
	s.block = xmalloc(SCAN_BLOCK);
	s.line = xmalloc(LINE_MAX_KEPT + 1);

	if (!S_ISREG(st.st_mode)) {
		/* A pipe: one pass over everything. */
		dc->scanned_all = 1;
		if (scan_range(&s, fd, -1, -1, 0, want, 0) == -1)
			goto readerr;
	} else {
		if (scan_range(&s, fd, 0, DUMPCOORDS_CHUNK, 0, want, 1) == -1)
			goto readerr;
		/* The tail may overlap the head: the first find is kept. */
		if (st.st_size > DUMPCOORDS_CHUNK &&
		    scan_range(&s, fd, st.st_size - DUMPCOORDS_CHUNK, -1, 1,
		    want, 1) == -1)
			goto readerr;
		if (!dumpcoords_have(dc, want) &&
		    st.st_size > DUMPCOORDS_CHUNK) {
			dc->scanned_all = 1;
			if (scan_range(&s, fd, 0, -1, 0, want, 0) == -1)
				goto readerr;
		}
	}
	if (dumpcoords_have(dc, want))
		rv = 0;
	else
		not_found(path, want, err, errlen);
	goto out;
readerr:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
out:
	free(s.block);
	free(s.line);
	close(fd);
	return rv;
}
