/* The promotion record and its JSON forms: report and journal (promorec.h). */
#include <stdio.h>
#include <string.h>

#include "promorec.h"
#include "timefmt.h"

const char *const promo_step_names[PS__COUNT] = { "preflight", "freeze",
	"catchup", "switch", "stop", "reset", "verify", "done" };
const char *const promo_sstat_names[] = { "pending", "running", "done",
	"failed", "skipped" };
const char *const promo_outcome_names[] = { "running", "promoted", "aborted",
	"interrupted", "dry_run" };

/* In CH_* bit order. */
static const char *const change_names[CH__COUNT] = { "master_read_only",
	"master_super_read_only", "master_locked", "sessions_killed",
	"replica_writable", "switch_sent", "switched", "stop_sent", "stopped",
	"reset_sent", "reset_done", "switched_back", "fence_released" };

const char *
promorec_change_name(unsigned ch)
{
	for (unsigned i = 0; i < CH__COUNT; i++)
		if (ch == 1u << i)
			return change_names[i];
	return "?";
}

void
promorec_init(struct promo_record *r)
{
	memset(r, 0, sizeof *r);
	r->master_orig_ro = r->master_orig_sro = -1;
	r->replica_orig_ro = r->replica_ro = -1;
	r->write_blocked_ms = -1;
	r->todo = cJSON_CreateArray();
	r->still_write = cJSON_CreateArray();
}

void
promorec_clear(struct promo_record *r)
{
	cJSON_Delete(r->todo);
	cJSON_Delete(r->still_write);
	cJSON_Delete(r->plan);
	r->todo = r->still_write = r->plan = NULL;
}

static void
add_time(cJSON *o, const char *key, int64_t ms)
{
	char when[40], k[64];

	snprintf(k, sizeof k, "%s_unix_ms", key);
	if (ms == 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	timefmt_iso8601(ms, when, sizeof when);
	cJSON_AddStringToObject(o, key, when);
	cJSON_AddNumberToObject(o, k, (double)ms);
}

static void
add_tri(cJSON *o, const char *key, int v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddBoolToObject(o, key, v);
}

static void
add_hook(cJSON *o, const char *key, const struct promo_hook *h)
{
	cJSON *x;

	if (!h->ran) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	x = cJSON_AddObjectToObject(o, key);
	cJSON_AddBoolToObject(x, "ok", h->ok);
	cJSON_AddStringToObject(x, "detail", h->detail);
}

cJSON *
promorec_report(const struct promo_record *r, const char *target, int full)
{
	cJSON *o = cJSON_CreateObject(), *a, *s, *f, *h;

	cJSON_AddStringToObject(o, "target", target);
	cJSON_AddStringToObject(o, full ? "outcome" : "state",
	    promo_outcome_names[r->outcome]);
	cJSON_AddStringToObject(o, "step", promo_step_names[r->cur]);
	add_time(o, "started", r->started_ms);
	add_time(o, "finished", r->finished_ms);
	a = cJSON_AddArrayToObject(o, "steps");
	for (int i = 0; i < PS__COUNT; i++) {
		s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "step", promo_step_names[i]);
		cJSON_AddStringToObject(s, "status",
		    promo_sstat_names[r->steps[i].st]);
		cJSON_AddNumberToObject(s, "duration_ms", r->steps[i].ms);
		cJSON_AddStringToObject(s, "detail", r->steps[i].detail);
		cJSON_AddItemToArray(a, s);
	}
	if (r->have_final) {
		f = cJSON_AddObjectToObject(o, "final");
		cJSON_AddStringToObject(f, "log_file", r->final_file);
		cJSON_AddStringToObject(f, "log_pos", r->final_pos);
		cJSON_AddStringToObject(f, "gtid", r->final_gtid);
		cJSON_AddStringToObject(f, "source", r->final_source);
	} else if (r->stop_file[0] != '\0') {
		f = cJSON_AddObjectToObject(o, "final");
		cJSON_AddStringToObject(f, "log_file", r->stop_file);
		cJSON_AddStringToObject(f, "log_pos", r->stop_pos);
		cJSON_AddStringToObject(f, "gtid", "");
		cJSON_AddStringToObject(f, "source", "replica at the stop");
	} else
		cJSON_AddNullToObject(o, "final");
	if (r->write_blocked_ms >= 0)
		cJSON_AddNumberToObject(o, "write_blocked_ms", r->write_blocked_ms);
	else
		cJSON_AddNullToObject(o, "write_blocked_ms");
	add_time(o, "frozen_at", r->freeze_ms);
	add_time(o, "switched_at", r->switched_ms);
	add_tri(o, "replica_read_only", r->replica_ro);
	cJSON_AddBoolToObject(o, "switched", (r->changes & CH_SWITCHED) != 0);
	f = cJSON_AddObjectToObject(o, "fence");
	cJSON_AddBoolToObject(f, "frozen", (r->changes & CH_MASTER_RO) != 0);
	cJSON_AddBoolToObject(f, "locked", (r->changes & CH_MASTER_LOCKED) != 0);
	cJSON_AddBoolToObject(f, "released",
	    (r->changes & CH_FENCE_RELEASED) != 0);
	cJSON_AddNumberToObject(f, "sessions_killed", r->killed);
	cJSON_AddItemToObject(f, "can_still_write",
	    cJSON_Duplicate(r->still_write, 1));
	h = cJSON_AddObjectToObject(o, "hooks");
	add_hook(h, "on_switch", &r->on_switch);
	add_hook(h, "on_switch_back", &r->on_switch_back);
	add_hook(h, "on_promoted", &r->on_promoted);
	cJSON_AddStringToObject(o, "reason", r->reason);
	cJSON_AddItemToObject(o, "todo", cJSON_Duplicate(r->todo, 1));
	if (r->plan != NULL)
		cJSON_AddItemToObject(o, "plan", cJSON_Duplicate(r->plan, 1));
	return o;
}

cJSON *
promorec_journal(const struct promo_record *r, const char *target)
{
	cJSON *o = promorec_report(r, target, 0), *c;

	c = cJSON_AddArrayToObject(o, "changed");
	for (unsigned i = 0; i < CH__COUNT; i++)
		if (r->changes & (1u << i))
			cJSON_AddItemToArray(c, cJSON_CreateString(change_names[i]));
	cJSON_AddBoolToObject(o, "freeze_master", r->freeze);
	cJSON_AddNumberToObject(o, "master_orig_read_only", r->master_orig_ro);
	cJSON_AddNumberToObject(o, "master_orig_super_read_only",
	    r->master_orig_sro);
	cJSON_AddNumberToObject(o, "replica_orig_read_only", r->replica_orig_ro);
	return o;
}

/* ---- reading a journal back ------------------------------------------- */

static int
str_field(const cJSON *o, const char *key, char *buf, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsString(v))
		return -1;
	snprintf(buf, len, "%s", v->valuestring);
	return 0;
}

static double
num_field(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static int
name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

static void
hook_field(const cJSON *o, const char *key, struct promo_hook *h)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsObject(x))
		return;
	h->ran = 1;
	h->ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "ok"));
	str_field(x, "detail", h->detail, sizeof h->detail);
}

int
promorec_from_journal(struct promo_record *r, const cJSON *doc, char *why,
    size_t len)
{
	const cJSON *steps, *s, *f, *c, *x;
	char buf[64];
	int i;

	promorec_init(r);
	if (!cJSON_IsObject(doc) || str_field(doc, "state", buf, sizeof buf) ||
	    (i = name_index(promo_outcome_names, PO_DRY_RUN + 1, buf)) < 0) {
		snprintf(why, len, "no known \"state\"");
		return -1;
	}
	r->outcome = (enum promo_outcome)i;
	if (str_field(doc, "step", buf, sizeof buf) ||
	    (i = name_index(promo_step_names, PS__COUNT, buf)) < 0) {
		snprintf(why, len, "no known \"step\"");
		return -1;
	}
	r->cur = (enum promo_step)i;
	if (!cJSON_IsArray(c = cJSON_GetObjectItemCaseSensitive(doc, "changed"))) {
		snprintf(why, len, "no \"changed\" list (a journal of an older "
		    "replwatchd?)");
		return -1;
	}
	cJSON_ArrayForEach(x, c) {
		if (!cJSON_IsString(x) ||
		    (i = name_index(change_names, CH__COUNT, x->valuestring)) < 0) {
			snprintf(why, len, "unknown change in \"changed\"");
			return -1;
		}
		r->changes |= 1u << i;
	}
	str_field(doc, "reason", r->reason, sizeof r->reason);
	r->started_ms = (int64_t)num_field(doc, "started_unix_ms", 0);
	r->finished_ms = (int64_t)num_field(doc, "finished_unix_ms", 0);
	r->freeze_ms = (int64_t)num_field(doc, "frozen_at_unix_ms", 0);
	r->switched_ms = (int64_t)num_field(doc, "switched_at_unix_ms", 0);
	r->write_blocked_ms = num_field(doc, "write_blocked_ms", -1);
	r->master_orig_ro = (int)num_field(doc, "master_orig_read_only", -1);
	r->master_orig_sro = (int)num_field(doc, "master_orig_super_read_only",
	    -1);
	r->replica_orig_ro = (int)num_field(doc, "replica_orig_read_only", -1);
	x = cJSON_GetObjectItemCaseSensitive(doc, "replica_read_only");
	r->replica_ro = cJSON_IsBool(x) ? cJSON_IsTrue(x) : -1;
	r->freeze = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc,
	    "freeze_master"));
	steps = cJSON_GetObjectItemCaseSensitive(doc, "steps");
	cJSON_ArrayForEach(s, steps) {
		if (str_field(s, "step", buf, sizeof buf) ||
		    (i = name_index(promo_step_names, PS__COUNT, buf)) < 0)
			continue;
		if (str_field(s, "status", buf, sizeof buf) == 0) {
			int k = name_index(promo_sstat_names, PSS_SKIPPED + 1, buf);

			r->steps[i].st = k < 0 ? PSS_PENDING : (enum promo_sstat)k;
		}
		str_field(s, "detail", r->steps[i].detail,
		    sizeof r->steps[i].detail);
		r->steps[i].ms = num_field(s, "duration_ms", 0);
	}
	f = cJSON_GetObjectItemCaseSensitive(doc, "final");
	if (cJSON_IsObject(f) && str_field(f, "log_file", r->final_file,
	    sizeof r->final_file) == 0) {
		str_field(f, "log_pos", r->final_pos, sizeof r->final_pos);
		str_field(f, "gtid", r->final_gtid, sizeof r->final_gtid);
		str_field(f, "source", r->final_source, sizeof r->final_source);
		if (strcmp(r->final_source, "replica at the stop") == 0) {
			memcpy(r->stop_file, r->final_file, sizeof r->stop_file);
			memcpy(r->stop_pos, r->final_pos, sizeof r->stop_pos);
			r->final_file[0] = r->final_pos[0] = '\0';
		} else
			r->have_final = 1;
	}
	f = cJSON_GetObjectItemCaseSensitive(doc, "fence");
	if (cJSON_IsObject(f)) {
		r->killed = (int)num_field(f, "sessions_killed", 0);
		x = cJSON_GetObjectItemCaseSensitive(f, "can_still_write");
		if (cJSON_IsArray(x)) {
			cJSON_Delete(r->still_write);
			r->still_write = cJSON_Duplicate(x, 1);
		}
	}
	f = cJSON_GetObjectItemCaseSensitive(doc, "hooks");
	if (cJSON_IsObject(f)) {
		hook_field(f, "on_switch", &r->on_switch);
		hook_field(f, "on_switch_back", &r->on_switch_back);
		hook_field(f, "on_promoted", &r->on_promoted);
	}
	x = cJSON_GetObjectItemCaseSensitive(doc, "todo");
	if (cJSON_IsArray(x)) {
		cJSON_Delete(r->todo);
		r->todo = cJSON_Duplicate(x, 1);
	}
	return 0;
}
