/*
 * watch: notices changes to a site's sources with inotify.
 *
 * Watches site.yaml and the directories content/, layouts/, themes/,
 * filters/, data/, catalogs/ and assets/ of a site recursively, including
 * subdirectories created later and top-level directories that appear
 * after the start.  Editor scratch files (`*~`, `.*.swp`, `.#*`, `4913`)
 * are ignored.  Errors are printed as "tebiki: ..." on stderr.
 */
#ifndef WATCH_H
#define WATCH_H

#include <stddef.h>

struct watch;

/* Starts watching the site in `dir`; NULL after reporting.  Free with
 * watch_free(). */
struct watch	*watch_new(const char *dir);
/* The descriptor to poll for readability. */
int		 watch_fd(const struct watch *);
/* Reads the pending events without blocking.  Returns 1 when a relevant
 * change happened (and, when `what` is not NULL and *what is NULL, sets
 * *what to the site-relative path of the first one, caller frees), 0 when
 * nothing relevant happened, -1 after reporting a read error. */
int		 watch_read(struct watch *, char **what);
/* Hands over the site-relative paths of the relevant changes read since
 * the last call (each once, in order; "(many files)" when events were
 * lost or there were too many); returns their number.  The caller frees
 * each path and the array. */
size_t		 watch_take(struct watch *, char ***paths);
/* Number of directories watched (for tests and messages). */
int		 watch_count(const struct watch *);
/* Closes the inotify descriptor and frees everything; NULL is fine. */
void		 watch_free(struct watch *);

#endif
