#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include "xmalloc.h"

static const char *const lag_sources[] = { "none", "heartbeat",
	"seconds_behind_master" };

const char *
lag_source_name(enum lag_source s)
{
	return lag_sources[s];
}

static void
add_ms(cJSON *o, const char *key, long long ms)
{
	if (ms < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, (double)ms);
}

static void
add_str(cJSON *o, const char *key, const char *s)
{
	if (s == NULL || *s == '\0')
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, s);
}

static void
add_bool(cJSON *o, const char *key, int v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddBoolToObject(o, key, v);
}

static cJSON *
lag_json(struct target *t)
{
	cJSON *o = cJSON_CreateObject();
	double rate;

	add_ms(o, "ms", t->lag_ms);
	cJSON_AddStringToObject(o, "source", lag_sources[t->lag_source]);
	if (t->sbm_ms < 0)
		cJSON_AddNullToObject(o, "seconds_behind_master");
	else
		cJSON_AddNumberToObject(o, "seconds_behind_master",
		    (double)(t->sbm_ms / 1000));
	add_ms(o, "heartbeat_ms", t->hb_ms);
	add_str(o, "position_bytes", t->pos_bytes);
	rate = applyrate_get(&t->apply, now_mono_us() / 1000);
	if (rate < 0)
		cJSON_AddNullToObject(o, "apply_bytes_per_s");
	else
		cJSON_AddNumberToObject(o, "apply_bytes_per_s", rate);
	return o;
}

static cJSON *
window_json(struct target *t, uint64_t now_ms, unsigned span_ms)
{
	struct lag_window w;
	cJSON *o = cJSON_CreateObject();

	lagring_window(t->ring, now_ms, span_ms, &w);
	cJSON_AddNumberToObject(o, "samples", (double)w.n);
	cJSON_AddNumberToObject(o, "unknown", (double)w.unknown);
	if (w.n == 0) {
		cJSON_AddNullToObject(o, "min_ms");
		cJSON_AddNullToObject(o, "max_ms");
		cJSON_AddNullToObject(o, "avg_ms");
		cJSON_AddNullToObject(o, "p95_ms");
	} else {
		cJSON_AddNumberToObject(o, "min_ms", (double)w.min_ms);
		cJSON_AddNumberToObject(o, "max_ms", (double)w.max_ms);
		cJSON_AddNumberToObject(o, "avg_ms", w.avg_ms);
		cJSON_AddNumberToObject(o, "p95_ms", (double)w.p95_ms);
	}
	return o;
}

static cJSON *
windows_json(struct target *t)
{
	uint64_t now = now_mono_us() / 1000;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "1m", window_json(t, now, 60 * 1000));
	cJSON_AddItemToObject(o, "5m", window_json(t, now, 5 * 60 * 1000));
	cJSON_AddItemToObject(o, "15m", window_json(t, now, 15 * 60 * 1000));
	return o;
}

static cJSON *
server_json(struct target *t)
{
	cJSON *o = cJSON_CreateObject();
	int up = t->db != NULL && db_connected(t->db);

	cJSON_AddStringToObject(o, "host", t->cf->replica.host);
	cJSON_AddNumberToObject(o, "port", t->cf->replica.port);
	cJSON_AddBoolToObject(o, "connected", up);
	cJSON_AddBoolToObject(o, "encrypted", up && db_encrypted(t->db));
	add_str(o, "cipher", up ? db_cipher(t->db) : NULL);
	cJSON_AddStringToObject(o, "tls", config_tls_name(t->cf->replica.tls));
	if (t->flavor_known) {
		cJSON_AddStringToObject(o, "flavor", flavor_name(&t->flavor));
		cJSON_AddStringToObject(o, "version", t->flavor.version_str);
		cJSON_AddStringToObject(o, "status_sql",
		    flavor_status_sql(&t->flavor));
	} else {
		cJSON_AddStringToObject(o, "flavor",
		    config_flavor_name(t->cf->flavor));
		cJSON_AddNullToObject(o, "version");
		cJSON_AddNullToObject(o, "status_sql");
	}
	add_bool(o, "read_only", t->read_only);
	add_str(o, "error", t->server_error);
	return o;
}

static cJSON *
master_json(struct target *t)
{
	struct master_state *m = &t->master;
	cJSON *o;

	if (t->cf->master.host == NULL)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "host", t->cf->master.host);
	cJSON_AddNumberToObject(o, "port", t->cf->master.port);
	cJSON_AddBoolToObject(o, "connected", m->connected);
	add_str(o, "log_file", m->log_file);
	add_str(o, "log_pos", m->log_pos);
	add_str(o, "gtid_binlog_pos", m->gtid);
	add_bool(o, "read_only", m->read_only);
	add_str(o, "error", m->error);
	return o;
}

/*
 * The new primary of a promoted target: the newest poll's facts (null
 * before the first one, unknowns null); null for a target not promoted.
 */
static cJSON *
primary_json(struct target *t)
{
	const struct rw_primary *p = &t->primary;
	cJSON *o;

	if (!primary_watched(t->health.state))
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	add_bool(o, "reachable", p->checked ? p->reachable : -1);
	add_bool(o, "read_only", p->read_only);
	add_bool(o, "writable", p->writable);
	add_str(o, "why_not", p->why_not);
	add_str(o, "binlog_file", p->have_pos ? p->binlog_file : NULL);
	if (p->have_pos)
		cJSON_AddNumberToObject(o, "binlog_pos", (double)p->binlog_pos);
	else
		cJSON_AddNullToObject(o, "binlog_pos");
	add_bool(o, "binlog_moving", p->binlog_moving);
	add_ms(o, "checked_unix_ms", p->checked ? p->checked_ms : -1);
	return o;
}

cJSON *
snapshot_status(struct target *t)
{
	cJSON *o = cJSON_CreateObject(), *p, *th;
	char since[40];

	cJSON_AddStringToObject(o, "target", t->name);
	cJSON_AddStringToObject(o, "state", health_name(t->health.state));
	cJSON_AddStringToObject(o, "reason", t->health.reason);
	cJSON_AddItemToObject(o, "muted", mute_to_json(&t->mute));
	timefmt_iso8601(t->since_ms, since, sizeof since);
	cJSON_AddStringToObject(o, "since", since);
	cJSON_AddNumberToObject(o, "since_unix_ms", (double)t->since_ms);
	cJSON_AddItemToObject(o, "lag", lag_json(t));
	cJSON_AddItemToObject(o, "replication", t->have_status ?
	    replstatus_to_json(&t->status) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "server", server_json(t));
	cJSON_AddItemToObject(o, "master", master_json(t));
	cJSON_AddItemToObject(o, "primary", primary_json(t));

	p = cJSON_AddObjectToObject(o, "polls");
	cJSON_AddNumberToObject(p, "ok", (double)t->polls_ok);
	cJSON_AddNumberToObject(p, "failed", (double)t->polls_failed);
	cJSON_AddNumberToObject(p, "interval_ms", t->cf->interval_ms);
	cJSON_AddNumberToObject(p, "last_ms", t->last_poll_ms);
	cJSON_AddNumberToObject(p, "last_unix_ms", (double)t->last_poll_unix_ms);
	cJSON_AddNumberToObject(p, "consecutive_failures", t->failures);

	cJSON_AddItemToObject(o, "history", windows_json(t));
	th = cJSON_AddObjectToObject(o, "thresholds");
	cJSON_AddNumberToObject(th, "lag_warn_ms", t->cf->lag_warn_ms);
	cJSON_AddNumberToObject(th, "lag_crit_ms", t->cf->lag_crit_ms);
	cJSON_AddNumberToObject(th, "hysteresis", t->cf->hysteresis);
	cJSON_AddItemToObject(o, "promotion", snapshot_promotion(t));
	return o;
}

cJSON *
snapshot_lag(struct target *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "target", t->name);
	cJSON_AddStringToObject(o, "state", health_name(t->health.state));
	cJSON_AddItemToObject(o, "lag", lag_json(t));
	return o;
}

cJSON *
snapshot_history(struct target *t, size_t samples)
{
	cJSON *o = cJSON_CreateObject(), *a, *s;
	uint64_t *ts, now = now_mono_us() / 1000;
	long long *lag;
	size_t n;

	if (samples > lagring_capacity(t->ring))
		samples = lagring_capacity(t->ring);
	ts = xcalloc(samples, sizeof *ts);
	lag = xcalloc(samples, sizeof *lag);
	n = lagring_recent(t->ring, samples, ts, lag);
	cJSON_AddStringToObject(o, "target", t->name);
	cJSON_AddNumberToObject(o, "interval_ms", t->cf->interval_ms);
	cJSON_AddItemToObject(o, "windows", windows_json(t));
	a = cJSON_AddArrayToObject(o, "samples");
	for (size_t i = 0; i < n; i++) {
		s = cJSON_CreateObject();
		cJSON_AddNumberToObject(s, "t_ms", (double)ts[i]);
		cJSON_AddNumberToObject(s, "age_ms", (double)(now - ts[i]));
		add_ms(s, "lag_ms", lag[i]);
		cJSON_AddItemToArray(a, s);
	}
	free(ts);
	free(lag);
	return o;
}

cJSON *
snapshot_sample(struct target *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "type", "sample");
	cJSON_AddStringToObject(o, "target", t->name);
	cJSON_AddStringToObject(o, "state", health_name(t->health.state));
	add_ms(o, "lag_ms", t->lag_ms);
	cJSON_AddStringToObject(o, "lag_source", lag_sources[t->lag_source]);
	cJSON_AddNumberToObject(o, "ts_unix_ms", (double)t->last_poll_unix_ms);
	return o;
}

void
snapshot_summary(struct target *t, char *buf, size_t len)
{
	if (t->lag_ms >= 0)
		snprintf(buf, len, "%s: %s, lag %lld ms", t->name,
		    health_name(t->health.state), t->lag_ms);
	else
		snprintf(buf, len, "%s: %s", t->name, health_name(t->health.state));
}
