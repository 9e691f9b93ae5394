/*
 * rcache: see rcache.h.  The cache is a directory of NBUCKETS files,
 * "00.bin" .. "3f.bin"; an entry lives in the file its output path hashes
 * to, so that a build which re-renders a few pages rewrites a few files.
 * File format (all integers little-endian u32): "tebiki-rcache 4\n",
 * count, then per entry: out, key (32 bytes), hex (64 bytes), len, body,
 * nsecs x (anchor, heading, text), the sections' sum flags (1: made, 2:
 * texts valid) and sum (32 bytes), ndiags x (sev, line, col, code, text);
 * a string is its length, its bytes and a NUL (0xffffffff alone: NULL), so
 * that a loaded entry's strings are used where they lie in the file's
 * buffer, with no copy; last, the fsum (fsum.h) of everything before it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fsum.h"
#include "hmap.h"
#include "rcache.h"
#include "search.h"
#include "util.h"

#define MAGIC	"tebiki-rcache 5\n"
#define NBUCKETS	64
#define NULLSTR	0xffffffffu

struct rcache {
	struct rc_entry	*v;
	size_t		 n, cap;
	struct hmap	 by_out;
	struct buf	 raw[NBUCKETS];		/* each file's bytes: the
						   entries' strings */
	unsigned char	 sum[NBUCKETS][FSUM_LEN];	/* each file's fsum */
	unsigned char	 ok[NBUCKETS];		/* ... when it was read */
	uint32_t	 cnt[NBUCKETS];		/* entries in each file */
};

/* The bucket of an output path (FNV-1a). */
static unsigned
bucket(const char *out)
{
	uint32_t h = 2166136261u;

	for (; *out; out++)
		h = (h ^ (unsigned char)*out) * 16777619u;
	return h % NBUCKETS;
}

static char *
bucket_path(const char *dir, unsigned b, const char *suffix)
{
	return xasprintf("%s/%02x.bin%s", dir, b, suffix);
}

struct rd {
	const unsigned char	*p, *end;
	int			 bad;
};

static uint32_t
get32(struct rd *r)
{
	uint32_t x;

	if (r->bad || r->end - r->p < 4) {
		r->bad = 1;
		return 0;
	}
	x = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 |
	    (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
	r->p += 4;
	return x;
}

static void
getraw(struct rd *r, void *dst, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, r->p, n);
	r->p += n;
}

/* A string where it lies in the buffer (NUL-terminated there). */
static char *
getstr(struct rd *r)
{
	uint32_t n = get32(r);
	char *s;

	if (r->bad || n == NULLSTR)
		return NULL;
	if ((size_t)(r->end - r->p) <= n || r->p[n] != '\0') {
		r->bad = 1;
		return NULL;
	}
	s = (char *)r->p;
	r->p += (size_t)n + 1;
	return s;
}

/* An entry's arrays (its strings belong to the file's buffer). */
static void
entry_release(struct rc_entry *e)
{
	free(e->secs);
	free(e->diags);
}

/* Reads one entry; 0, or -1 when the data ends early or is implausible. */
static int
get_entry(struct rd *r, struct rc_entry *e)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	e->out = getstr(r);
	getraw(r, e->key, 32);
	getraw(r, e->hex, 64);
	e->hex[64] = '\0';
	e->len = get32(r);
	e->body = getstr(r);
	e->nsecs = get32(r);
	if (r->bad || e->out == NULL || e->nsecs > (size_t)(r->end - r->p))
		return -1;
	e->secs = xcalloc(e->nsecs + 1, sizeof(*e->secs));
	for (i = 0; i < e->nsecs && !r->bad; i++) {
		e->secs[i].anchor = getstr(r);
		e->secs[i].heading = getstr(r);
		e->secs[i].text = getstr(r);
	}
	i = get32(r);
	if (i > 3)
		r->bad = 1;
	e->secsum_set = (i & 1) != 0;
	e->secs_valid = (i & 2) != 0;
	getraw(r, e->secsum, 32);
	e->ndiags = get32(r);
	if (r->bad || e->ndiags > (size_t)(r->end - r->p))
		return -1;
	e->diags = xcalloc(e->ndiags + 1, sizeof(*e->diags));
	for (i = 0; i < e->ndiags && !r->bad; i++) {
		e->diags[i].sev = (int)get32(r);
		e->diags[i].line = (int)get32(r);
		e->diags[i].col = (int)get32(r);
		e->diags[i].code = getstr(r);
		e->diags[i].text = getstr(r);
	}
	for (i = 0; i < e->nsecs; i++)
		if (!e->secs[i].anchor || !e->secs[i].heading ||
		    !e->secs[i].text)
			r->bad = 1;
	for (i = 0; i < e->ndiags; i++)
		if (!e->diags[i].text)
			r->bad = 1;
	return r->bad ? -1 : 0;
}

/* Reads one bucket file into c (entries appended); 0 when it was whole. */
static int
load_bucket(struct rcache *c, const char *path, struct buf *raw,
    unsigned char sum[FSUM_LEN], uint32_t *cnt)
{
	struct rd r;
	uint32_t n, i;
	size_t n0 = c->n;
	int rc = -1;

	if (util_read_file(path, raw) == -1 ||
	    raw->len < sizeof(MAGIC) - 1 + 4 + FSUM_LEN ||
	    memcmp(raw->ptr, MAGIC, sizeof(MAGIC) - 1) != 0)
		goto out;
	/* the last bytes are the fsum of the rest: a torn or mixed file is
	 * an empty bucket */
	fsum(raw->ptr, raw->len - FSUM_LEN, sum);
	if (memcmp(sum, raw->ptr + raw->len - FSUM_LEN, FSUM_LEN) != 0)
		goto out;
	r.p = (const unsigned char *)raw->ptr + sizeof(MAGIC) - 1;
	r.end = (const unsigned char *)raw->ptr + raw->len - FSUM_LEN;
	r.bad = 0;
	n = get32(&r);
	if (r.bad || n > raw->len)
		goto out;
	for (i = 0; i < n; i++) {
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 256;
			c->v = xreallocarray(c->v, c->cap, sizeof(*c->v));
		}
		if (get_entry(&r, &c->v[c->n]) == -1) {
			entry_release(&c->v[c->n]);
			goto out;
		}
		hm_put(&c->by_out, c->v[c->n].out, c->n);
		c->n++;
	}
	rc = r.p == r.end ? 0 : -1;
	*cnt = n;
out:
	if (rc == -1 && c->n == n0)
		buf_release(raw);	/* else entries point into it */
	return rc;
}

/* See rcache.h. */
struct rcache *
rc_load(const char *dir)
{
	struct rcache *c = xcalloc(1, sizeof(*c));
	unsigned b;
	char *path;

	hm_init(&c->by_out);
	for (b = 0; dir && b < NBUCKETS; b++) {
		path = bucket_path(dir, b, "");
		c->ok[b] = load_bucket(c, path, &c->raw[b], c->sum[b],
		    &c->cnt[b]) == 0;
		free(path);
	}
	return c;
}

/* See rcache.h. */
void
rc_free(struct rcache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		entry_release(&c->v[i]);
	free(c->v);
	for (i = 0; i < NBUCKETS; i++)
		buf_release(&c->raw[i]);
	hm_release(&c->by_out);
	free(c);
}

/* See rcache.h. */
const struct rc_entry *
rc_find(const struct rcache *c, const char *out, const unsigned char key[32])
{
	size_t i;

	if (c == NULL || !hm_get(&c->by_out, out, &i))
		return NULL;
	return memcmp(c->v[i].key, key, 32) == 0 ? &c->v[i] : NULL;
}

static void
put32(struct buf *b, uint32_t x)
{
	unsigned char c[4];

	c[0] = (unsigned char)x;
	c[1] = (unsigned char)(x >> 8);
	c[2] = (unsigned char)(x >> 16);
	c[3] = (unsigned char)(x >> 24);
	buf_put(b, c, 4);
}

static void
putstr(struct buf *b, const char *s)
{
	size_t n;

	if (s == NULL) {
		put32(b, NULLSTR);
		return;
	}
	n = strlen(s);
	put32(b, (uint32_t)n);
	buf_put(b, s, n + 1);
}

/* Appends entry e in the file format (a NULL body comes from load). */
static void
put_entry(struct buf *b, const struct rc_entry *e,
    char *(*load)(void *, const void *, long), void *ctx)
{
	char *body = NULL, *t;
	size_t k;

	putstr(b, e->out);
	buf_put(b, e->key, 32);
	buf_put(b, e->hex, 64);
	put32(b, (uint32_t)e->len);
	if (e->body == NULL && load)
		body = load(ctx, e->ref, -1);
	putstr(b, e->body ? e->body : body);
	free(body);
	put32(b, (uint32_t)e->nsecs);
	for (k = 0; k < e->nsecs; k++) {
		putstr(b, e->secs[k].anchor);
		putstr(b, e->secs[k].heading);
		t = e->secs[k].text == NULL && load ? load(ctx, e->ref,
		    (long)k) : NULL;
		putstr(b, e->secs[k].text ? e->secs[k].text : t);
		free(t);
	}
	put32(b, (uint32_t)((e->secsum_set ? 1 : 0) |
	    (e->secsum_set && e->secs_valid ? 2 : 0)));
	buf_put(b, e->secsum, 32);
	put32(b, (uint32_t)e->ndiags);
	for (k = 0; k < e->ndiags; k++) {
		put32(b, (uint32_t)e->diags[k].sev);
		put32(b, (uint32_t)e->diags[k].line);
		put32(b, (uint32_t)e->diags[k].col);
		putstr(b, e->diags[k].code);
		putstr(b, e->diags[k].text);
	}
}

/* See rcache.h. */
int
rc_save(const struct rcache *old, const char *dir, const struct rc_entry *v,
    size_t n, char *(*load)(void *, const void *, long), void *ctx)
{
	struct buf b = BUF_INIT;
	uint32_t count[NBUCKETS];
	unsigned char same[NBUCKETS];
	unsigned char sum[FSUM_LEN];
	unsigned k;
	size_t i;
	char *path;
	int rc = 0;

	if (util_mkdir_p(dir) == -1)
		return -1;
	memset(count, 0, sizeof(count));
	memset(same, 1, sizeof(same));
	for (i = 0; i < n; i++) {
		const struct rc_entry *e;

		k = bucket(v[i].out);
		count[k]++;
		/* an entry read from the file, unchanged, is written back as
		 * the same bytes */
		e = rc_find(old, v[i].out, v[i].key);
		if (e == NULL || memcmp(e->hex, v[i].hex, 64) != 0 ||
		    e->len != v[i].len)
			same[k] = 0;
	}
	for (k = 0; k < NBUCKETS; k++) {
		if (old && old->ok[k] && same[k] && old->cnt[k] == count[k])
			continue;	/* the file as it is */
		buf_reset(&b);
		buf_puts(&b, MAGIC);
		put32(&b, count[k]);
		for (i = 0; i < n && count[k]; i++)
			if (bucket(v[i].out) == k)
				put_entry(&b, &v[i], load, ctx);
		fsum(b.ptr, b.len, sum);
		/* the same bytes as the file read at the start: left alone */
		if (old && old->ok[k] && memcmp(old->sum[k], sum,
		    FSUM_LEN) == 0)
			continue;
		buf_put(&b, sum, FSUM_LEN);
		path = bucket_path(dir, k, ".new");
		if (util_write_file(path, b.ptr, b.len) == -1) {
			unlink(path);
			rc = -1;
		}
		free(path);
	}
	buf_release(&b);
	return rc;
}

/* See rcache.h. */
void
rc_commit(const char *dir)
{
	char *from, *to;
	unsigned k;

	for (k = 0; k < NBUCKETS; k++) {
		from = bucket_path(dir, k, ".new");
		to = bucket_path(dir, k, "");
		(void)rename(from, to);
		free(from);
		free(to);
	}
}

/* See rcache.h. */
void
rc_discard(const char *dir)
{
	char *path;
	unsigned k;

	for (k = 0; k < NBUCKETS; k++) {
		path = bucket_path(dir, k, ".new");
		(void)unlink(path);
		free(path);
	}
}
