/*
 * Leveled logging: stderr with a timestamp, or the systemd journal with
 * structured fields when the daemon runs under systemd (JOURNAL_STREAM).
 * Never pass a password to these functions.
 */
#ifndef RW_LOG_H
#define RW_LOG_H
#include <stdarg.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void	log_init(const char *progname, int to_journal);
void	log_set_level(enum log_level);
int	log_parse_level(const char *, enum log_level *);
const char *log_level_name(enum log_level);
int	log_to_journal(void);	/* stderr is the journal's stream */

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));	/* adds strerror(errno) */
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * A target's state change or sample, with REPLWATCH_TARGET=, REPLWATCH_STATE=
 * and REPLWATCH_LAG_MS= fields in the journal (lag_ms < 0: unknown).
 */
void	log_target(enum log_level, const char *target, const char *state,
	    long long lag_ms, const char *, ...) __attribute__((format(printf, 5, 6)));

#endif
