/*
 * Leveled logging: stderr with a timestamp that carries the UTC offset, the
 * systemd journal with structured fields when the daemon runs under
 * systemd (JOURNAL_STREAM), or syslog(3).  Never pass a password to these
 * functions.
 */
#ifndef RW_LOG_H
#define RW_LOG_H
#include <stdarg.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/*
 * Where lines go.  auto: the journal when stderr is its stream, syslog
 * when stderr leads nowhere (closed, or /dev/null: a plain init script),
 * stderr otherwise.
 */
enum log_dest { LOG_DEST_AUTO, LOG_DEST_SYSLOG, LOG_DEST_STDERR };

void	log_init(const char *progname, int to_journal);
void	log_set_dest(enum log_dest);
int	log_parse_dest(const char *, enum log_dest *);
void	log_set_level(enum log_level);
int	log_parse_level(const char *, enum log_level *);
const char *log_level_name(enum log_level);
int	log_to_journal(void);	/* lines go to the journal */

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
