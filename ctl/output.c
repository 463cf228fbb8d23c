/* What the printers of every command share (output.h). */
#include <langinfo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "health.h"
#include "output.h"
#include "timefmt.h"

#define C_GREEN		"\033[32m"
#define C_YELLOW	"\033[33m"
#define C_RED		"\033[31m"
#define C_RESET		"\033[0m"

static enum out_format out_fmt;
static int out_colour;
static const char *dash = "-";
static const char *ellipsis = "...";

void
output_init(enum out_format fmt, int colour)
{
	const char *cs = nl_langinfo(CODESET);

	out_fmt = fmt;
	/* A pipeline's format has no escapes in it. */
	out_colour = colour && fmt == OUT_TEXT;
	/* The em dash only where the terminal's charset can show it. */
	if (cs != NULL && strcasecmp(cs, "UTF-8") == 0) {
		dash = "\xe2\x80\x94";
		ellipsis = "\xe2\x80\xa6";
	}
}

enum out_format
output_format(void)
{
	return out_fmt;
}

int
output_format_parse(const char *s, enum out_format *f)
{
	if (strcmp(s, "text") == 0)
		*f = OUT_TEXT;
	else if (strcmp(s, "json") == 0)
		*f = OUT_JSON;
	else if (strcmp(s, "tsv") == 0)
		*f = OUT_TSV;
	else
		return -1;
	return 0;
}

void
output_print(output_fn *fn, const cJSON *obj)
{
	char *s;

	if (out_fmt == OUT_JSON || fn == NULL) {
		s = cJSON_PrintUnformatted(obj);
		if (s == NULL) {
			fputs("replwatchctl: out of memory\n", stderr);
			exit(70);
		}
		puts(s);
		free(s);
	} else
		fn(obj);
	/* watch prints as events come; a pipe must see each one at once. */
	fflush(stdout);
}

/* -- reading the JSON -- */

const char *
out_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
out_num(const cJSON *o, const char *k, double *d)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v))
		return 0;
	*d = v->valuedouble;
	return 1;
}

const cJSON *
out_obj(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsObject(v) ? v : NULL;
}

int
out_true(const cJSON *o, const char *k)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

const char *
out_number(char *buf, size_t len, double d)
{
	if (d == floor(d) && fabs(d) < 1e15)
		snprintf(buf, len, "%.0f", d);
	else
		snprintf(buf, len, "%.1f", d);
	return buf;
}

const char *
out_text(char *buf, size_t len, const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (cJSON_IsString(v))
		return v->valuestring[0] != '\0' ? v->valuestring : dash;
	if (cJSON_IsNumber(v))
		return out_number(buf, len, v->valuedouble);
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "yes" : "no";
	return dash;
}

/* -- text -- */

const char *
out_dash(void)
{
	return dash;
}

const char *
out_ellipsis(void)
{
	return ellipsis;
}

const char *
out_duration(char *buf, size_t len, double secs)
{
	long long s = secs < 0 ? 0 : (long long)secs;

	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
	return buf;
}

const char *
out_ms(char *buf, size_t len, double ms)
{
	if (ms < 1000)
		snprintf(buf, len, "%.1f ms", ms);
	else if (ms < 60000)
		snprintf(buf, len, "%.2f s", ms / 1000);
	else
		out_duration(buf, len, ms / 1000);
	return buf;
}

const char *
output_lag_text(char *buf, size_t len, const cJSON *lag_ms)
{
	char d[32];

	if (!cJSON_IsNumber(lag_ms))
		snprintf(buf, len, "unknown");
	else if (lag_ms->valuedouble >= 60000)
		snprintf(buf, len, "%.0f ms (%s)", lag_ms->valuedouble,
		    out_duration(d, sizeof(d), lag_ms->valuedouble / 1000));
	else
		snprintf(buf, len, "%.0f ms", lag_ms->valuedouble);
	return buf;
}

const char *
out_lag_summary(char *buf, size_t len, const cJSON *lag)
{
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(lag, "ms");
	const char *src = out_str(lag, "source");
	char l[64];

	output_lag_text(l, sizeof(l), ms);
	if (src != NULL && strcmp(src, "none") != 0 && cJSON_IsNumber(ms))
		snprintf(buf, len, "%s (%s)", l, src);
	else
		snprintf(buf, len, "%s", l);
	return buf;
}

const char *
out_binlog_pos(char *buf, size_t len, const cJSON *o, const char *fk,
    const char *pk)
{
	const char *f = out_str(o, fk);
	char b[32];

	if (f == NULL || *f == '\0')
		return dash;
	snprintf(buf, len, "%s:%s", f, out_text(b, sizeof(b), o, pk));
	return buf;
}

const char *
out_time(char *buf, size_t len, int64_t unix_ms)
{
	return timefmt_local(unix_ms, buf, len);
}

/*
 * The daemon writes times as ISO 8601 in UTC ("...Z") and, for most, the
 * same as a number; both are shown in the one local format.
 */
const char *
out_time_member(char *buf, size_t len, const cJSON *o, const char *key)
{
	char k[64], iso[40];
	const char *s;
	int64_t us;
	double ms;
	size_t n;

	snprintf(k, sizeof(k), "%s_unix_ms", key);
	if (out_num(o, k, &ms))
		return out_time(buf, len, (int64_t)ms);
	if ((s = out_str(o, key)) == NULL || *s == '\0')
		return NULL;
	n = strlen(s);
	if (n < sizeof(iso) && n > 0 && s[n - 1] == 'Z') {
		memcpy(iso, s, n - 1);
		iso[n - 1] = '\0';
		if (timefmt_parse_datetime(iso, 1, &us) == 0)
			return out_time(buf, len, us / 1000);
	}
	/* Not a form we know: as it came, rather than nothing. */
	snprintf(buf, len, "%s", s);
	return buf;
}

/* Display width of UTF-8 text: one column per code point is enough here. */
int
out_width(const char *s)
{
	int w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void
out_padded(const char *s, int width, const char *colour)
{
	int pad = width - out_width(s);

	if (colour != NULL && out_colour)
		printf("%s%s%s", colour, s, C_RESET);
	else
		fputs(s, stdout);
	while (pad-- > 0)
		putchar(' ');
}

const char *
out_colour_good(void)
{
	return C_GREEN;
}

const char *
out_colour_fair(void)
{
	return C_YELLOW;
}

const char *
out_colour_bad(void)
{
	return C_RED;
}

/* The colour of a state is its severity, from the daemon's own table. */
void
out_state(const char *state, int width)
{
	static const char *const by_severity[] = {
		[SEVERITY_OK] = C_GREEN,
		[SEVERITY_WARNING] = C_YELLOW,
		[SEVERITY_CRITICAL] = C_RED,
		[SEVERITY_UNKNOWN] = C_YELLOW
	};

	if (state == NULL) {
		out_padded("?", width, NULL);
		return;
	}
	out_padded(state, width, by_severity[health_severity_of(state)]);
}

/* -- tsv -- */

/* Tab, newline, carriage return and backslash escaped (as mysql -B does). */
static void
tsv_field(const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '\t':
			fputs("\\t", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\r':
			fputs("\\r", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		default:
			putchar(*s);
		}
	}
}

void
tsv_row(const char *const *fields, int n)
{
	for (int i = 0; i < n; i++) {
		if (i > 0)
			putchar('\t');
		tsv_field(fields[i]);
	}
	putchar('\n');
}

const char *
tsv_member(char *buf, size_t len, const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsNumber(v)) {
		/* Whole numbers as such; fractions as they came. */
		if (v->valuedouble == floor(v->valuedouble) &&
		    fabs(v->valuedouble) < 1e15)
			snprintf(buf, len, "%.0f", v->valuedouble);
		else
			snprintf(buf, len, "%.15g", v->valuedouble);
		return buf;
	}
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	return "";
}
