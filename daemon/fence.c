/* The fence on the old master after a promotion (fence.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fence.h"
#include "flavor.h"
#include "log.h"
#include "server.h"
#include "xmalloc.h"

#define FENCE_CHECK_MS		1000	/* ping, or retry a failed take */
#define FENCE_LOCK_WAIT_S	2

enum fphase { F_IDLE, F_CONNECT, F_LWT, F_RO, F_SRO, F_LOCK, F_PING };

struct fence {
	struct target	*t;
	struct db	*m;
	int		 mysql;
	int		 held;
	enum fphase	 phase;
	struct event	*timer;
	int64_t		 since_ms;
	char		 error[256];
};

static void	fence_cb(struct db *, enum db_status, const struct db_result *,
		    void *);

static void
later(struct fence *f)
{
	struct timeval tv = { FENCE_CHECK_MS / 1000, FENCE_CHECK_MS % 1000 * 1000 };

	f->phase = F_IDLE;
	evtimer_add(f->timer, &tv);
}

static void
ask(struct fence *f, enum fphase ph, const char *sql)
{
	f->phase = ph;
	if (db_query(f->m, sql, 0, fence_cb, f) == -1) {
		db_close(f->m);
		later(f);
	}
}

static void
take(struct fence *f)
{
	if (f->m != NULL)
		db_free(f->m);
	f->m = endpoint_db(f->t->d, &f->t->cf->master, f->t->cf);
	f->phase = F_CONNECT;
	if (db_connect(f->m, fence_cb, f) == -1)
		later(f);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fence *f = arg;

	if (f->held && db_connected(f->m))
		ask(f, F_PING, flavor_ping_sql());
	else
		take(f);
}

static void
fence_cb(struct db *db, enum db_status st, const struct db_result *res,
    void *arg)
{
	struct fence *f = arg;
	char *sql;

	if (st != DB_OK) {
		if (f->held)
			log_warnx("%s: the fence on the old master is lost (%s): "
			    "taking it again", f->t->name, db_error(db));
		else if (strcmp(f->error, db_error(db)) != 0)
			log_warnx("%s: cannot fence the old master: %s; retrying "
			    "every %d ms", f->t->name, db_error(db), FENCE_CHECK_MS);
		snprintf(f->error, sizeof f->error, "%s", db_error(db));
		f->held = 0;
		db_close(f->m);
		later(f);
		return;
	}
	switch (f->phase) {
	case F_CONNECT:
		sql = flavor_lock_wait_sql(FENCE_LOCK_WAIT_S);
		ask(f, F_LWT, sql);
		free(sql);
		break;
	case F_LWT:
		ask(f, F_RO, flavor_set_read_only_sql(1));
		break;
	case F_RO:
		if (f->mysql) {
			ask(f, F_SRO, flavor_set_super_read_only_sql(1));
			break;
		}
		/* FALLTHROUGH */
	case F_SRO:
		ask(f, F_LOCK, flavor_read_lock_sql());
		break;
	case F_LOCK:
		f->held = 1;
		f->since_ms = now_unix_ms();
		f->error[0] = '\0';
		log_info("%s: the old master is fenced again (read-only, global "
		    "read lock held)", f->t->name);
		later(f);
		break;
	case F_PING:
	default:
		later(f);
		break;
	}
}

struct fence *
fence_hold(struct target *t, struct db *m, int mysql)
{
	struct fence *f = xcalloc(1, sizeof *f);

	f->t = t;
	f->mysql = mysql;
	f->timer = evtimer_new(t->d->base, timer_cb, f);
	if (m != NULL && db_connected(m)) {
		f->m = m;
		f->held = 1;
		f->since_ms = now_unix_ms();
		later(f);
	} else {
		if (m != NULL)
			db_free(m);
		take(f);
	}
	return f;
}

void
fence_release(struct fence *f)
{
	if (f == NULL)
		return;
	event_free(f->timer);
	if (f->m != NULL)
		db_free(f->m);
	free(f);
}

cJSON *
fence_json(const struct fence *f)
{
	cJSON *o = cJSON_CreateObject();
	char when[40];

	cJSON_AddBoolToObject(o, "held", f != NULL && f->held);
	if (f != NULL && f->held) {
		timefmt_iso8601(f->since_ms, when, sizeof when);
		cJSON_AddStringToObject(o, "since", when);
	} else
		cJSON_AddNullToObject(o, "since");
	if (f != NULL && f->error[0] != '\0')
		cJSON_AddStringToObject(o, "last_error", f->error);
	else
		cJSON_AddNullToObject(o, "last_error");
	return o;
}
