/*
 * diag: compiler-style diagnostics.
 *
 * Reporters collect messages (thread-safe); diag_flush() prints them sorted by
 * file, line and column so the output does not depend on thread scheduling:
 *
 *   content/policies/backup.md:7:3: error: unknown control '8.99' in 'controls'
 *
 * Paths are relative to the site's source directory; line and column are
 * 1-based (0 means "not known" and is left out; null in JSON).
 */
#ifndef DIAG_H
#define DIAG_H

#include <pthread.h>
#include <stdio.h>
#include <stddef.h>

enum diag_sev {
	DIAG_ERROR,
	DIAG_WARNING,
	DIAG_NOTE
};

enum diag_format {
	DIAG_TEXT,
	DIAG_JSON	/* one JSON object per line */
};

struct diag_msg {
	char		*file;	/* may be NULL */
	int		 line;
	int		 col;
	enum diag_sev	 sev;
	char		*code;	/* stable code such as "review-overdue"; may be NULL */
	char		*text;
	size_t		 seq;	/* order of arrival, the last sort key */
};

struct diag {
	pthread_mutex_t	 lock;
	struct diag_msg	*msgs;
	size_t		 n, cap;
	size_t		 errors;
	size_t		 warnings;
	int		 strict;	/* warnings count as errors */
	int		 quiet;		/* drop warnings and notes */
	size_t		 max_per_file;	/* 0: unlimited */
};

void	 diag_init(struct diag *);
void	 diag_release(struct diag *);
/* Both return -1 so callers can write `return diag_err(...)`. */
int	 diag_err(struct diag *, const char *file, int line, int col,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int	 diag_warn(struct diag *, const char *file, int line, int col,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void	 diag_note(struct diag *, const char *file, int line, int col,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Full form with a stable code. */
int	 diag_emit(struct diag *, enum diag_sev, const char *code,
	    const char *file, int line, int col, const char *fmt, ...)
	    __attribute__((format(printf, 7, 8)));
/* Number of errors so far (warnings included when strict). */
size_t	 diag_errors(struct diag *);
/* Number of warnings so far (none when strict: they are errors). */
size_t	 diag_warnings(struct diag *);
/* Prints and forgets every collected message, sorted. */
void	 diag_flush(struct diag *, FILE *, enum diag_format);

#endif
