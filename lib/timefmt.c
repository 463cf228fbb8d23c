/* Times written and read (timefmt.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

/* n digits at s into *out; -1 unless all are digits. */
static int
digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
timefmt_parse_datetime(const char *s, int utc, int64_t *unix_us)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, frac = 0, n = 0;
	time_t t;

	if (s == NULL || strlen(s) < 19)
		return -1;
	if (digits(s, 4, &y) == -1 || s[4] != '-' || digits(s + 5, 2, &mo) == -1 ||
	    s[7] != '-' || digits(s + 8, 2, &d) == -1 ||
	    (s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) == -1 ||
	    s[13] != ':' || digits(s + 14, 2, &mi) == -1 || s[16] != ':' ||
	    digits(s + 17, 2, &sec) == -1)
		return -1;
	s += 19;
	if (*s == '.') {
		for (s++; n < 6 && isdigit((unsigned char)*s); s++, n++)
			frac = frac * 10 + (*s - '0');
		if (n == 0)
			return -1;
		for (int i = n; i < 6; i++)
			frac *= 10;
	}
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1)
		return -1;	/* (and 1969-12-31 23:59:59, no heartbeat's time) */
	*unix_us = (int64_t)t * 1000000 + frac;
	return 0;
}

/* Split ms into seconds and 0..999, rounding toward minus infinity. */
static time_t
split_ms(int64_t ms, int *frac)
{
	int64_t s = ms / 1000, f = ms % 1000;

	if (f < 0) {
		f += 1000;
		s--;
	}
	*frac = (int)f;
	return (time_t)s;
}

char *
timefmt_heartbeat(int64_t us, int utc, char *buf, size_t len)
{
	struct tm tm, *ok;
	int64_t f = us % 1000000;
	time_t s = (time_t)(us / 1000000);

	if (f < 0) {
		f += 1000000;
		s--;
	}
	ok = utc ? gmtime_r(&s, &tm) : localtime_r(&s, &tm);
	if (ok == NULL) {
		snprintf(buf, len, "invalid");
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)f);
	return buf;
}

char *
timefmt_iso8601(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	time_t s;
	int frac;

	s = split_ms(ms, &frac);
	if (gmtime_r(&s, &tm) == NULL) {
		snprintf(buf, len, "invalid");
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, frac);
	return buf;
}

char *
timefmt_local(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	time_t s;
	long off;
	int frac;

	s = split_ms(ms, &frac);
	if (localtime_r(&s, &tm) == NULL) {
		snprintf(buf, len, "invalid");
		return buf;
	}
	off = tm.tm_gmtoff / 60;
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02ld:%02ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, frac, off < 0 ? '-' : '+',
	    (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
	return buf;
}
