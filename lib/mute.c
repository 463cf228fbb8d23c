/*
 * Mutes: durations, the status object and the file (mute.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mute.h"
#include "timefmt.h"
#include "xmalloc.h"

#define MUTE_FILE_VERSION	1

static long long
unit_seconds(char u)
{
	switch (u) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	}
	return 0;
}

int
mute_parse_duration(const char *s, long long *secs, char *err, size_t errlen)
{
	const char *p = s;
	long long total = 0, n, u;

	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "empty duration");
		return -1;
	}
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p)) {
			snprintf(err, errlen, "'%s': expected a number at '%s' "
			    "(like 90s, 30m, 2h, 1d)", s, p);
			return -1;
		}
		for (n = 0; isdigit((unsigned char)*p); p++) {
			/* Any number this long is far past the limit anyway. */
			if (n < 100000000)
				n = n * 10 + (*p - '0');
		}
		if (*p == '\0') {
			snprintf(err, errlen, "'%s': a unit is missing after "
			    "%lld (s, m, h or d)", s, n);
			return -1;
		}
		if ((u = unit_seconds(*p)) == 0) {
			snprintf(err, errlen, "'%s': unknown unit '%c' (s, m, h "
			    "or d)", s, *p);
			return -1;
		}
		p++;
		total += n * u;
		if (total > MUTE_MAX_S)
			break;
	}
	if (total < MUTE_MIN_S || total > MUTE_MAX_S) {
		snprintf(err, errlen, "'%s': a mute lasts from %d s to 7 days",
		    s, MUTE_MIN_S);
		return -1;
	}
	*secs = total;
	return 0;
}

static void
add_text(cJSON *o, const char *key, const char *s)
{
	if (s[0] == '\0')
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, s);
}

cJSON *
mute_to_json(const struct rw_mute *m)
{
	char ts[64];
	cJSON *o;

	if (!m->active)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "until", timefmt_iso8601(m->until_ms, ts,
	    sizeof ts));
	cJSON_AddNumberToObject(o, "until_unix_ms", (double)m->until_ms);
	add_text(o, "reason", m->reason);
	add_text(o, "by", m->by);
	return o;
}

char *
mute_path(const char *dir, const char *target)
{
	char *path;

	/* As journal_path(): the prefix keeps even ".." inside dir. */
	if (target == NULL || *target == '\0' || strchr(target, '/') != NULL)
		return NULL;
	xasprintf(&path, "%s/mute-%s.json", dir, target);
	return path;
}

cJSON *
mute_to_doc(const struct rw_mute *m, const char *target)
{
	char ts[64];
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "version", MUTE_FILE_VERSION);
	cJSON_AddStringToObject(o, "target", target);
	cJSON_AddNumberToObject(o, "since_unix_ms", (double)m->since_ms);
	cJSON_AddNumberToObject(o, "until_unix_ms", (double)m->until_ms);
	/* For the person who reads the file; the number is what counts. */
	cJSON_AddStringToObject(o, "until", timefmt_iso8601(m->until_ms, ts,
	    sizeof ts));
	cJSON_AddStringToObject(o, "reason", m->reason);
	cJSON_AddStringToObject(o, "by", m->by);
	return o;
}

static int
get_ms(const cJSON *doc, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble > 9007199254740992.0)
		return -1;
	*out = (int64_t)v->valuedouble;
	return 0;
}

static int
get_text(const cJSON *doc, const char *key, char *out, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);

	if (!cJSON_IsString(v) || strlen(v->valuestring) >= len)
		return -1;
	memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

int
mute_from_doc(const cJSON *doc, const char *target, int64_t now_ms,
    struct rw_mute *m, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "version");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "target");

	memset(m, 0, sizeof *m);
	if (!cJSON_IsNumber(v) || v->valuedouble != MUTE_FILE_VERSION) {
		snprintf(err, errlen, "not a version %d mute file",
		    MUTE_FILE_VERSION);
		return -1;
	}
	if (!cJSON_IsString(t) || strcmp(t->valuestring, target) != 0) {
		snprintf(err, errlen, "not the mute of %s", target);
		return -1;
	}
	if (get_ms(doc, "since_unix_ms", &m->since_ms) == -1 ||
	    get_ms(doc, "until_unix_ms", &m->until_ms) == -1 ||
	    get_text(doc, "reason", m->reason, sizeof m->reason) == -1 ||
	    get_text(doc, "by", m->by, sizeof m->by) == -1) {
		memset(m, 0, sizeof *m);
		snprintf(err, errlen, "a field is missing or malformed");
		return -1;
	}
	m->active = m->until_ms > now_ms;
	return 0;
}
