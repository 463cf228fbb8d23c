/*
 * The watched new primary (primary.h).  Decisions written down:
 *
 * - Writable means the application can write: read_only, super_read_only
 *   (MySQL) and innodb_read_only all OFF.  Our own account might pass
 *   read_only, which is why nothing here tries a write: the switches say
 *   what the application gets, and a watch must not write to a primary.
 * - Every switch that is ON is named in why_not, read_only with the note
 *   that on RDS the DB parameter group sets it (SQL cannot change it there).
 * - A refusal to write changes the state at once: it is what the server
 *   says, not a glitch.  An unanswered poll (no connection, a lost link, a
 *   missed deadline, or the switches unreadable, which leaves us as blind)
 *   changes it only after `hysteresis` of them in a row, so that one
 *   dropped connection does not page; until then the state stays and the
 *   reason says how many there were.  An answer recovers at once.
 * - binlog_moving compares two answered polls in a row (any change of file
 *   or position is movement); unknown before that, and again after a poll
 *   without the position.  It never decides a state: an idle application
 *   writes nothing, and that is no fault.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "primary.h"

static void __attribute__((format(printf, 3, 4)))
add(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	if (used >= len - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

void
primary_init(struct rw_primary *p)
{
	memset(p, 0, sizeof *p);
	p->reachable = -1;
	p->read_only = p->innodb_read_only = p->super_read_only = -1;
	p->writable = -1;
	p->binlog_moving = -1;
}

int
primary_watched(enum rw_health h)
{
	return h == HEALTH_PROMOTED || h == HEALTH_PRIMARY_READ_ONLY ||
	    h == HEALTH_PRIMARY_UNREACHABLE;
}

int
primary_parse_switch(const char *v)
{
	if (v == NULL)
		return -1;
	return strcmp(v, "0") == 0 || strcasecmp(v, "OFF") == 0 ? 0 : 1;
}

/* A new position; movement against the previous one when there was one. */
static void
take_position(struct rw_primary *p, const char *file, const char *pos)
{
	unsigned long long n;
	char *end;
	int had = p->have_pos;

	if (file == NULL || *file == '\0' || pos == NULL || *pos < '0' ||
	    *pos > '9' || (n = strtoull(pos, &end, 10), *end != '\0')) {
		p->binlog_file[0] = '\0';
		p->have_pos = 0;
		p->binlog_moving = -1;
		return;
	}
	p->binlog_moving = had ? strcmp(p->binlog_file, file) != 0 ||
	    p->binlog_pos != n : -1;
	snprintf(p->binlog_file, sizeof p->binlog_file, "%s", file);
	p->binlog_pos = n;
	p->have_pos = 1;
}

/* The switches of an answered poll: writable, or why not. */
static void
take_switches(struct rw_primary *p, const struct rw_primary_sample *s)
{
	p->read_only = s->read_only;
	p->innodb_read_only = s->innodb_read_only;
	p->super_read_only = s->super_read_only;
	p->why_not[0] = '\0';
	if (s->read_only == 1)
		add(p->why_not, sizeof p->why_not, "read_only is ON%s",
		    s->rds ? " (set by the DB parameter group)" : "");
	if (s->super_read_only == 1)
		add(p->why_not, sizeof p->why_not, "%ssuper_read_only is ON",
		    p->why_not[0] != '\0' ? ", " : "");
	if (s->innodb_read_only == 1)
		add(p->why_not, sizeof p->why_not, "%sinnodb_read_only is ON "
		    "(a start-up option)", p->why_not[0] != '\0' ? ", " : "");
	if (p->why_not[0] != '\0')
		p->writable = 0;
	else if (s->read_only == 0)
		p->writable = 1;
	else {
		p->writable = -1;
		add(p->why_not, sizeof p->why_not, "read_only unknown");
	}
}

static const char *
error_text(const struct rw_primary_sample *s)
{
	if (s->error != NULL && *s->error != '\0')
		return s->error;
	return s->kind == PSAMPLE_QUERY_ERROR ? "read_only query failed" :
	    "cannot connect";
}

/* A poll without an answer: the state moves once `need` agree. */
static enum rw_health
unanswered(struct rw_primary *p, const struct rw_primary_sample *s,
    enum rw_health cur, unsigned need, char *reason, size_t len)
{
	const char *err = error_text(s);

	p->reachable = s->kind == PSAMPLE_QUERY_ERROR;
	p->read_only = p->innodb_read_only = p->super_read_only = -1;
	/* Down is not writable; connected but blind is unknown. */
	p->writable = s->kind == PSAMPLE_QUERY_ERROR ? -1 : 0;
	snprintf(p->why_not, sizeof p->why_not, "%s", err);
	take_position(p, NULL, NULL);
	if (p->failures < need)
		p->failures++;
	if (cur == HEALTH_PRIMARY_UNREACHABLE || p->failures >= need) {
		add(reason, len, "new primary unreachable: %s", err);
		return HEALTH_PRIMARY_UNREACHABLE;
	}
	add(reason, len, "new primary did not answer: %s (%s for %u of %u "
	    "samples)", err, health_name(HEALTH_PRIMARY_UNREACHABLE),
	    p->failures, need);
	return cur;
}

enum rw_health
primary_update(struct rw_primary *p, const struct rw_primary_sample *s,
    enum rw_health cur, unsigned hysteresis, char *reason, size_t len)
{
	unsigned need = hysteresis > 0 ? hysteresis : 1;

	if (reason == NULL || len == 0)
		return cur;
	reason[0] = '\0';
	p->checked = 1;
	if (s->kind != PSAMPLE_ANSWERED)
		return unanswered(p, s, cur, need, reason, len);

	take_switches(p, s);
	if (p->writable == -1) {
		/* Answered without read_only: as blind as a failed query. */
		return unanswered(p, &(struct rw_primary_sample){ .kind =
		    PSAMPLE_QUERY_ERROR, .error = "read_only query returned "
		    "no value" }, cur, need, reason, len);
	}
	p->failures = 0;
	p->reachable = 1;
	take_position(p, s->binlog_file, s->binlog_pos);
	if (p->writable == 1) {
		add(reason, len, "new primary writable");
		return HEALTH_PROMOTED;
	}
	add(reason, len, "new primary refuses writes: %s", p->why_not);
	return HEALTH_PRIMARY_READ_ONLY;
}
