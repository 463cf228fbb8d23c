/*
 * The promotion journal on disk.  A daemon killed mid-promotion must find
 * either the previous journal or the new one, never a torn file, and a
 * journal it cannot read is an error to report, not "no promotion": that
 * would let a second promotion start over a half-done one.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "journal.h"
#include "xmalloc.h"

/* A journal is a few hundred bytes; anything this big is not ours. */
#define JOURNAL_MAX	(1024 * 1024)

static int	fsync_dir(const char *, char *, size_t);
static int	write_all(int, const char *, size_t);

char *
journal_path(const char *dir, const char *target)
{
	char *path;

	/*
	 * The configuration allows only [A-Za-z0-9_.-] in names, and the
	 * "promotion-" prefix makes even ".." harmless; refuse only what could
	 * leave dir, should a name ever come from elsewhere.
	 */
	if (target == NULL || *target == '\0' || strchr(target, '/') != NULL)
		return NULL;
	xasprintf(&path, "%s/promotion-%s.json", dir, target);
	return path;
}

/* Make a rename or unlink in path's directory durable. */
static int
fsync_dir(const char *path, char *err, size_t errlen)
{
	char *copy, *dir;
	int fd, saved;

	copy = xstrdup(path);
	dir = dirname(copy);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		saved = errno;
		snprintf(err, errlen, "%s: open: %s", dir, strerror(saved));
		free(copy);
		errno = saved;
		return -1;
	}
	if (fsync(fd) == -1) {
		saved = errno;
		snprintf(err, errlen, "%s: fsync: %s", dir, strerror(saved));
		close(fd);
		free(copy);
		errno = saved;
		return -1;
	}
	close(fd);
	free(copy);
	return 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
journal_write(const char *path, const cJSON *doc, char *err, size_t errlen)
{
	char *tmp = NULL, *text = NULL;
	const char *step;
	int fd = -1, saved;
	size_t n;

	/* Formatted: an operator may read it after a crash. */
	if ((text = cJSON_Print(doc)) == NULL) {
		snprintf(err, errlen, "%s: encode: out of memory", path);
		return -1;
	}
	n = strlen(text);
	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());

	step = "open";
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		goto fail;
	step = "write";
	if (write_all(fd, text, n) == -1 || write_all(fd, "\n", 1) == -1)
		goto fail;
	step = "fsync";
	if (fsync(fd) == -1)
		goto fail;
	step = "close";
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		saved = errno;
		snprintf(err, errlen, "%s: rename: %s", path, strerror(saved));
		unlink(tmp);
		goto out;
	}
	/* Renamed: the tmp is gone; only the directory entry may not stick. */
	free(tmp);
	cJSON_free(text);
	return fsync_dir(path, err, errlen);

fail:
	saved = errno;
	snprintf(err, errlen, "%s: %s: %s", tmp, step, strerror(saved));
	if (fd != -1)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	cJSON_free(text);
	errno = saved;
	return -1;
}

int
journal_load(const char *path, cJSON **doc, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	const char *end = NULL;
	cJSON *v;
	size_t len = 0;
	ssize_t r;
	int fd, saved;

	*doc = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		saved = errno;
		snprintf(err, errlen, "%s: open: %s", path, strerror(saved));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		snprintf(err, errlen, "%s: fstat: %s", path, strerror(saved));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > JOURNAL_MAX) {
		snprintf(err, errlen, "%s: not a journal (%s)", path,
		    S_ISREG(st.st_mode) ? "too large" : "not a regular file");
		close(fd);
		return -1;
	}
	/* Read to EOF, not to st_size: the size is only a hint. */
	buf = xmalloc(JOURNAL_MAX + 1);
	while (len < JOURNAL_MAX) {
		r = read(fd, buf + len, JOURNAL_MAX - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			saved = errno;
			snprintf(err, errlen, "%s: read: %s", path,
			    strerror(saved));
			close(fd);
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';

	if (strspn(buf, " \t\r\n") == len) {
		snprintf(err, errlen, "%s: empty journal (truncated?)", path);
		free(buf);
		return -1;
	}
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: NUL byte in journal (corrupt?)",
		    path);
		free(buf);
		return -1;
	}
	v = cJSON_ParseWithLengthOpts(buf, len + 1, &end, 0);
	if (v == NULL) {
		snprintf(err, errlen, "%s: not JSON at byte %zu (truncated or "
		    "corrupt?)", path,
		    end != NULL ? (size_t)(end - buf) + 1 : (size_t)1);
		free(buf);
		return -1;
	}
	end += strspn(end, " \t\r\n");
	if (*end != '\0') {
		snprintf(err, errlen, "%s: trailing data at byte %zu (corrupt?)",
		    path, (size_t)(end - buf) + 1);
		cJSON_Delete(v);
		free(buf);
		return -1;
	}
	free(buf);
	if (!cJSON_IsObject(v)) {
		snprintf(err, errlen, "%s: journal is not a JSON object", path);
		cJSON_Delete(v);
		return -1;
	}
	*doc = v;
	return 0;
}

int
journal_remove(const char *path)
{
	char err[256];

	if (unlink(path) == -1)
		return errno == ENOENT ? 0 : -1;
	return fsync_dir(path, err, sizeof(err));
}

/* A page: on a full tmpfs even one byte needs one. */
#define PROBE_SIZE	4096

int
journal_dir_check(const char *dir, int create, char *err, size_t errlen)
{
	struct stat st;
	char *probe, *copy, buf[PROBE_SIZE];
	const char *step;
	int fd, saved;

	if (stat(dir, &st) == -1) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return -1;
		}
		if (!create) {
			/* -n: startup will create it if the parent lets it. */
			copy = xstrdup(dir);
			saved = access(dirname(copy), W_OK | X_OK) == -1 ?
			    errno : 0;
			free(copy);
			if (saved != 0) {
				snprintf(err, errlen, "%s: does not exist and "
				    "cannot be created: %s", dir,
				    strerror(saved));
				return -1;
			}
			return 0;
		}
		if (mkdir(dir, 0750) == -1) {
			snprintf(err, errlen, "%s: does not exist and cannot be "
			    "created: %s", dir, strerror(errno));
			return -1;
		}
		if (stat(dir, &st) == -1) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return -1;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	/* mkostemp() fills in the XXXXXX. */
	xasprintf(&probe, "%s/.replwatch-probe.XXXXXX", dir);
	step = "create";
	if ((fd = mkostemp(probe, O_CLOEXEC)) == -1)
		goto fail;
	memset(buf, 0, sizeof buf);
	step = "write";
	if (write_all(fd, buf, sizeof buf) == -1)
		goto fail;
	step = "fsync";
	if (fsync(fd) == -1)
		goto fail;
	close(fd);
	unlink(probe);
	free(probe);
	return 0;
fail:
	saved = errno;
	snprintf(err, errlen, "%s: cannot write a journal there: %s: %s", dir,
	    step, strerror(saved));
	if (fd != -1) {
		close(fd);
		unlink(probe);
	}
	free(probe);
	return -1;
}
