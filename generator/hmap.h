/*
 * hmap: string -> size_t hash map (open addressing, FNV-1a); keys are
 * copied.  Not thread-safe for writes; lookups on a map nobody writes to
 * may run in parallel.
 */
#ifndef HMAP_H
#define HMAP_H

#include <stddef.h>

struct hmap {
	char	**keys;
	size_t	 *vals;
	size_t	  cap;	/* power of two, or 0 */
	size_t	  n;
};

void	hm_init(struct hmap *);
void	hm_release(struct hmap *);
/* Sets key; returns 1 if it was new, 0 if it replaced a value. */
int	hm_put(struct hmap *, const char *key, size_t val);
/* Returns 1 and fills *val when found. */
int	hm_get(const struct hmap *, const char *key, size_t *val);

#endif
