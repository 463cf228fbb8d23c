/*
 * Threshold ranges: see range.h.  The parser is strict where the
 * Monitoring Plugins' own C library is lenient (it reads "1x" as 1 and
 * "abc" as 0): a typo in a threshold must not turn into a silent 0, so
 * anything that is not a plain decimal number is refused.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "range.h"

/* A decimal number: an optional sign, digits, an optional fraction. */
static int
parse_number(const char *s, size_t n, double *out)
{
	char buf[RANGE_TEXT_MAX], *end;
	size_t i = 0, digits = 0;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	if (s[0] == '-' || s[0] == '+')
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	if (i != n || digits == 0)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	if (*end != '\0' || errno != 0 || !isfinite(*out))
		return -1;
	return 0;
}

int
range_parse(const char *s, struct rw_range *r, char *err, size_t len)
{
	const char *p = s, *colon;
	size_t n;

	memset(r, 0, sizeof(*r));
	if (strlen(s) >= sizeof(r->text)) {
		snprintf(err, len, "longer than %zu characters",
		    sizeof(r->text) - 1);
		return -1;
	}
	memcpy(r->text, s, strlen(s) + 1);
	if (*p == '@') {
		r->inside = 1;
		p++;
	}
	if (*p == '\0') {
		snprintf(err, len, "empty range (want [@]start:end, "
		    "e.g. 10, 10:, ~:10, 10:20, @10:20)");
		return -1;
	}
	r->start = 0;
	r->end = INFINITY;
	if ((colon = strchr(p, ':')) == NULL) {
		/* "10" is 0:10. */
		if (parse_number(p, strlen(p), &r->end) == -1)
			goto bad;
		if (r->end < 0) {
			snprintf(err, len, "the end %s is below the start 0 "
			    "(a single number is 0:number)", p);
			return -1;
		}
		return 0;
	}
	n = (size_t)(colon - p);
	if (n == 1 && *p == '~')
		r->start = -INFINITY;
	else if (n > 0 && parse_number(p, n, &r->start) == -1)
		goto bad;
	p = colon + 1;
	if (*p != '\0' && parse_number(p, strlen(p), &r->end) == -1)
		goto bad;
	if (r->start > r->end) {
		snprintf(err, len, "the start %g is above the end %g",
		    r->start, r->end);
		return -1;
	}
	return 0;

bad:
	snprintf(err, len, "not a range (want [@]start:end with decimal "
	    "numbers, start ~ for minus infinity, e.g. 10, 10:, ~:10, 10:20, "
	    "@10:20)");
	return -1;
}

void
range_upto(struct rw_range *r, double n)
{
	memset(r, 0, sizeof(*r));
	r->start = 0;
	r->end = n;
	snprintf(r->text, sizeof(r->text), "%g", n);
}

int
range_alert(const struct rw_range *r, double v)
{
	int in = v >= r->start && v <= r->end;

	return r->inside ? in : !in;
}

enum rw_severity
range_judge(const struct rw_range *warn, const struct rw_range *crit,
    double v)
{
	if (crit != NULL && range_alert(crit, v))
		return SEVERITY_CRITICAL;
	if (warn != NULL && range_alert(warn, v))
		return SEVERITY_WARNING;
	return SEVERITY_OK;
}
