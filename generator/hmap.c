/*
 * hmap: open-addressing string map.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "util.h"

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void
hm_init(struct hmap *m)
{
	memset(m, 0, sizeof(*m));
}

void
hm_release(struct hmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static void
grow(struct hmap *m)
{
	struct hmap nm;
	size_t i;

	nm.cap = m->cap ? m->cap * 2 : 64;
	nm.n = 0;
	nm.keys = xcalloc(nm.cap, sizeof(*nm.keys));
	nm.vals = xcalloc(nm.cap, sizeof(*nm.vals));
	for (i = 0; i < m->cap; i++) {
		if (m->keys[i]) {
			size_t j = hash(m->keys[i]) & (nm.cap - 1);

			while (nm.keys[j])
				j = (j + 1) & (nm.cap - 1);
			nm.keys[j] = m->keys[i];
			nm.vals[j] = m->vals[i];
			nm.n++;
		}
	}
	free(m->keys);
	free(m->vals);
	*m = nm;
}

int
hm_put(struct hmap *m, const char *key, size_t val)
{
	size_t j;

	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	j = hash(key) & (m->cap - 1);
	while (m->keys[j]) {
		if (strcmp(m->keys[j], key) == 0) {
			m->vals[j] = val;
			return 0;
		}
		j = (j + 1) & (m->cap - 1);
	}
	m->keys[j] = xstrdup(key);
	m->vals[j] = val;
	m->n++;
	return 1;
}

int
hm_get(const struct hmap *m, const char *key, size_t *val)
{
	size_t j;

	if (m->cap == 0)
		return 0;
	j = hash(key) & (m->cap - 1);
	while (m->keys[j]) {
		if (strcmp(m->keys[j], key) == 0) {
			*val = m->vals[j];
			return 1;
		}
		j = (j + 1) & (m->cap - 1);
	}
	return 0;
}
