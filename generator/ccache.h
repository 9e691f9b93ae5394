/*
 * ccache: the collect cache.  What the filters' collect(page) left in
 * page.data, per page, with the key it was computed under (build.c,
 * collect_keys: the program, the options, the filter sources, the whole
 * SITE that collect may read, and the page's own source).  A later build
 * whose key for a page is the same gives the stored data to flt_site_run
 * instead of running collect on that page again (filter.h).
 *
 * The file lives in the site's `.tebiki-cache/`; it carries a checksum of
 * its contents (fsum.h), so a damaged, truncated or foreign file is an
 * empty cache, never an error.
 */
#ifndef CCACHE_H
#define CCACHE_H

#include <stddef.h>

struct value;
struct ccache;

/* Loads the file (an empty cache when it cannot be read or is damaged). */
struct ccache		*cc_load(const char *path);
void			 cc_free(struct ccache *);
/* How many entries it holds. */
size_t			 cc_count(const struct ccache *);
/* The stored data of page `path` when it was stored under `key`, else
 * NULL.  Borrowed; valid until cc_free. */
struct value		*cc_find(const struct ccache *, const char *path,
			    const unsigned char key[32]);
/* Writes n entries (paths[i], keys[i], data[i]; entries with NULL data are
 * left out) to `path` atomically.  0, or -1 with errno set. */
int			 cc_save(const char *path, const char *const *paths,
			    const unsigned char (*keys)[32],
			    const struct value *const *data, size_t n);

#endif
