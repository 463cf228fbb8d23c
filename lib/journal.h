/*
 * The promotion journal: one small JSON file per target in the state
 * directory, written atomically (temp file, fsync, rename, fsync dir) before
 * and after every step, so a daemon killed at any point knows what is done.
 */
#ifndef RW_JOURNAL_H
#define RW_JOURNAL_H
#include <stddef.h>

#include <cjson/cJSON.h>

/* path of the journal of target in dir; malloc'd. */
char	*journal_path(const char *dir, const char *target);
/* Atomically replace path with doc.  0, or -1 with errno-based text in err. */
int	journal_write(const char *path, const cJSON *doc, char *err, size_t errlen);
/* Load: 0 with *doc (NULL if the file does not exist), -1 on a bad file. */
int	journal_load(const char *path, cJSON **doc, char *err, size_t errlen);
int	journal_remove(const char *path);
/*
 * Can journals be written in dir?  Creates dir (one level, 0750) when create
 * is set and it is missing; otherwise a missing dir passes if its parent
 * would let it be created.  Then writes, fsyncs and removes a probe file, so
 * a full or read-only file system fails here and not mid-promotion.  0, or
 * -1 with the reason in err.
 */
int	journal_dir_check(const char *dir, int create, char *err, size_t errlen);

#endif
