/*
 * rcache: the render cache that makes a rebuild after an edit cheap.
 *
 * For every page rendered by a successful build it keeps a key (SHA-256 of
 * everything the page's output depends on: see build.c, page_key), the
 * SHA-256 and size of the output file, the body HTML and search sections
 * (the print page and the index need them) and the diagnostics pass 2
 * reported for the page.  A later build that computes the same key reuses
 * all of it instead of filtering and rendering the page again.
 *
 * It lives in the site's `.tebiki-cache/` (ignored by git), as a directory
 * of 64 files by output path, so that a rebuild after one edit rewrites one
 * of them; a missing, truncated or foreign file is an empty part of the
 * cache, never an error.
 */
#ifndef RCACHE_H
#define RCACHE_H

#include <stddef.h>

struct srch_section;

struct rc_diag {
	int	 sev;		/* enum diag_sev */
	int	 line, col;
	char	*code;		/* may be NULL */
	char	*text;
};

struct rc_entry {
	char			*out;		/* output path, the lookup key */
	unsigned char		 key[32];
	char			 hex[65];	/* SHA-256 of the output file */
	size_t			 len;		/* its size */
	char			*body;		/* body HTML; for rc_save, NULL
						   means load(ctx, ref, -1), and a
						   NULL secs[k].text load(ctx, ref,
						   k) */
	const void		*ref;
	struct srch_section	*secs;
	size_t			 nsecs;
	unsigned char		 secsum[32];	/* srch_sections_sum(secs), */
	int			 secsum_set;	/* when made */
	int			 secs_valid;	/* its *valid */
	struct rc_diag		*diags;
	size_t			 ndiags;
};

struct rcache;

/* Loads the cache directory (an empty cache when it cannot be read; a
 * damaged file loses only its own entries). */
struct rcache		*rc_load(const char *dir);
void			 rc_free(struct rcache *);
/* The entry for output `out` when its key is `key`, else NULL. */
const struct rc_entry	*rc_find(const struct rcache *, const char *out,
			    const unsigned char key[32]);
/* Writes entries (borrowed) to the directory as "<bucket>.bin.new" files,
 * only those whose bytes differ from what `old` (may be NULL) read;
 * rc_commit puts them in place, rc_discard drops them.  0 or -1. */
int			 rc_save(const struct rcache *old, const char *dir,
			    const struct rc_entry *, size_t n,
			    char *(*load)(void *ctx, const void *ref, long what),
			    void *ctx);
void			 rc_commit(const char *dir);
void			 rc_discard(const char *dir);

#endif
