/*
 * ccache: see ccache.h.
 *
 * File: the line "tebiki collect cache 2\n", the fsum (fsum.h) of the rest
 * (16 bytes), then one value in value.h's binary form: a list of
 * [path, key (32 bytes as a string), data] lists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ccache.h"
#include "hmap.h"
#include "fsum.h"
#include "util.h"
#include "value.h"

#define MAGIC	"tebiki collect cache 2\n"

struct ccache {
	struct value	*all;		/* the list of entries */
	struct hmap	 by_path;	/* path -> index in all */
};

/* The entry at i when it is [str, 32-byte str, map], else NULL. */
static const struct value *
entry(const struct value *all, size_t i)
{
	const struct value *e = all->items[i];

	if (e->kind != VAL_LIST || e->n != 3 ||
	    e->items[0]->kind != VAL_STR || e->items[1]->kind != VAL_STR ||
	    e->items[1]->len != 32 || e->items[2]->kind != VAL_MAP)
		return NULL;
	return e;
}

/* See ccache.h. */
struct ccache *
cc_load(const char *path)
{
	struct ccache *c = xcalloc(1, sizeof(*c));
	struct buf f = BUF_INIT;
	const unsigned char *p, *end;
	unsigned char sum[FSUM_LEN];
	const struct value *e;
	size_t m = sizeof(MAGIC) - 1, i;

	hm_init(&c->by_path);
	if (path == NULL || util_read_file(path, &f) == -1 ||
	    f.len < m + FSUM_LEN || memcmp(f.ptr, MAGIC, m) != 0)
		goto out;
	p = (const unsigned char *)f.ptr + m + FSUM_LEN;
	end = (const unsigned char *)f.ptr + f.len;
	fsum(p, (size_t)(end - p), sum);
	if (memcmp(sum, f.ptr + m, FSUM_LEN) != 0)
		goto out;
	c->all = val_decode(&p, end);
	if (c->all == NULL || p != end || c->all->kind != VAL_LIST) {
		val_unref(c->all);
		c->all = NULL;
		goto out;
	}
	for (i = 0; i < c->all->n; i++)
		if ((e = entry(c->all, i)) != NULL)
			hm_put(&c->by_path, e->items[0]->str, i);
out:
	buf_release(&f);
	return c;
}

/* See ccache.h. */
void
cc_free(struct ccache *c)
{
	if (c == NULL)
		return;
	val_unref(c->all);
	hm_release(&c->by_path);
	free(c);
}

/* See ccache.h. */
size_t
cc_count(const struct ccache *c)
{
	return c && c->all ? c->all->n : 0;
}

/* See ccache.h. */
struct value *
cc_find(const struct ccache *c, const char *path, const unsigned char key[32])
{
	const struct value *e;
	size_t i;

	if (c == NULL || c->all == NULL || !hm_get(&c->by_path, path, &i) ||
	    (e = entry(c->all, i)) == NULL ||
	    memcmp(e->items[1]->str, key, 32) != 0)
		return NULL;
	return e->items[2];
}

/* See ccache.h. */
int
cc_save(const char *path, const char *const *paths,
    const unsigned char (*keys)[32], const struct value *const *data,
    size_t n)
{
	struct value *all = val_list(), *e;
	struct buf out = BUF_INIT, body = BUF_INIT;
	unsigned char sum[FSUM_LEN];
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (data[i] == NULL)
			continue;
		e = val_list();
		val_push(e, val_str(paths[i]));
		val_push(e, val_strn((const char *)keys[i], 32));
		val_push(e, val_ref((struct value *)data[i]));
		val_push(all, e);
	}
	val_encode(all, &body);
	val_unref(all);
	fsum(body.ptr ? body.ptr : "", body.len, sum);
	buf_puts(&out, MAGIC);
	buf_put(&out, sum, FSUM_LEN);
	buf_put(&out, body.ptr ? body.ptr : "", body.len);
	buf_release(&body);
	rc = util_replace_file(path, out.ptr, out.len);
	buf_release(&out);
	return rc;
}
