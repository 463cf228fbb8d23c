/*
 * A target muted for maintenance: until when, why, by whom.  A muted target
 * is polled and changes state as ever; only alerting (check, metrics)
 * reflects the mute.  Pure logic: the duration an operator types, the
 * status object, and the file that keeps a mute across daemon restarts
 * (written with journal_write(), so a crash leaves the old file or the new
 * one).
 */
#ifndef RW_MUTE_H
#define RW_MUTE_H
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define MUTE_MIN_S	1
#define MUTE_MAX_S	(7 * 24 * 3600)	/* a week: longer is forgetting */
#define MUTE_REASON_MAX	255

struct rw_mute {
	int		 active;
	int64_t		 since_ms;	/* wall clock */
	int64_t		 until_ms;
	char		 reason[MUTE_REASON_MAX + 1];	/* "" none */
	char		 by[64];	/* "" unknown */
};

/*
 * "90s", "30m", "2h", "1d", or several ("1h30m"): into seconds, within
 * MUTE_MIN_S..MUTE_MAX_S.  A bare number is refused (seconds or minutes?).
 * 0, or -1 with the reason in err.
 */
int	 mute_parse_duration(const char *, long long *secs, char *err,
	    size_t errlen);

/* Status: null, or {"until", "until_unix_ms", "reason", "by"}. */
cJSON	*mute_to_json(const struct rw_mute *);

/* path of target's mute file in dir (NULL for a name with '/'); malloc'd. */
char	*mute_path(const char *dir, const char *target);
/* The file's document. */
cJSON	*mute_to_doc(const struct rw_mute *, const char *target);
/*
 * A document back into *m: 0 (m->active is 0 when it expired by now_ms),
 * or -1 with the reason in err for a document that is not a mute of target.
 */
int	 mute_from_doc(const cJSON *, const char *target, int64_t now_ms,
	    struct rw_mute *m, char *err, size_t errlen);

#endif
