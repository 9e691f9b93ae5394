/*
 * rcache: see rcache.h.  File format (all integers little-endian u32):
 * "tebiki-rcache 1\n", count, then per entry: out, key (32 bytes), hex (64
 * bytes), len, body, nsecs x (anchor, heading, text), ndiags x (sev, line,
 * col, code, text); a string is its length then its bytes (0xffffffff:
 * NULL); last, the SHA-256 of everything before it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "hmap.h"
#include "rcache.h"
#include "search.h"
#include "sha256.h"
#include "util.h"

#define MAGIC	"tebiki-rcache 2\n"
#define NULLSTR	0xffffffffu

struct rcache {
	struct rc_entry	*v;
	size_t		 n;
	struct hmap	 by_out;
	struct buf	 raw;
};

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

static char *
getstr(struct rd *r)
{
	uint32_t n = get32(r);
	char *s;

	if (r->bad || n == NULLSTR)
		return NULL;
	if ((size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	s = xmalloc((size_t)n + 1);
	memcpy(s, r->p, n);
	s[n] = '\0';
	r->p += n;
	return s;
}

static void
entry_release(struct rc_entry *e)
{
	size_t i;

	free(e->out);
	free(e->body);
	for (i = 0; i < e->nsecs; i++) {
		free((char *)e->secs[i].anchor);
		free((char *)e->secs[i].heading);
		free((char *)e->secs[i].text);
	}
	free(e->secs);
	for (i = 0; i < e->ndiags; i++) {
		free(e->diags[i].code);
		free(e->diags[i].text);
	}
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

/* See rcache.h. */
struct rcache *
rc_load(const char *path)
{
	struct rcache *c = xcalloc(1, sizeof(*c));
	struct rd r;
	uint32_t n, i;

	hm_init(&c->by_out);
	if (util_read_file(path, &c->raw) == -1 ||
	    c->raw.len < sizeof(MAGIC) - 1 + 32 ||
	    memcmp(c->raw.ptr, MAGIC, sizeof(MAGIC) - 1) != 0)
		goto out;
	{
		/* the last 32 bytes are the SHA-256 of the rest: a torn or
		 * mixed file is an empty cache */
		unsigned char sum[32];
		struct sha256 h;

		sha256_init(&h);
		sha256_update(&h, c->raw.ptr, c->raw.len - 32);
		sha256_final(&h, sum);
		if (memcmp(sum, c->raw.ptr + c->raw.len - 32, 32) != 0)
			goto out;
	}
	r.p = (const unsigned char *)c->raw.ptr + sizeof(MAGIC) - 1;
	r.end = (const unsigned char *)c->raw.ptr + c->raw.len - 32;
	r.bad = 0;
	n = get32(&r);
	if (r.bad || n > c->raw.len)
		goto out;
	c->v = xcalloc((size_t)n + 1, sizeof(*c->v));
	for (i = 0; i < n; i++) {
		if (get_entry(&r, &c->v[c->n]) == -1) {
			entry_release(&c->v[c->n]);
			break;
		}
		hm_put(&c->by_out, c->v[c->n].out, c->n);
		c->n++;
	}
out:
	buf_release(&c->raw);
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
	hm_release(&c->by_out);
	free(c);
}

/* See rcache.h. */
size_t
rc_count(const struct rcache *c)
{
	return c ? c->n : 0;
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
	buf_put(b, s, n);
}

/* See rcache.h. */
int
rc_save(const char *path, const struct rc_entry *v, size_t n)
{
	struct buf b = BUF_INIT;
	char *tmp;
	size_t i, k;
	int rc;

	buf_puts(&b, MAGIC);
	put32(&b, (uint32_t)n);
	for (i = 0; i < n; i++) {
		putstr(&b, v[i].out);
		buf_put(&b, v[i].key, 32);
		buf_put(&b, v[i].hex, 64);
		put32(&b, (uint32_t)v[i].len);
		putstr(&b, v[i].body);
		put32(&b, (uint32_t)v[i].nsecs);
		for (k = 0; k < v[i].nsecs; k++) {
			putstr(&b, v[i].secs[k].anchor);
			putstr(&b, v[i].secs[k].heading);
			putstr(&b, v[i].secs[k].text);
		}
		put32(&b, (uint32_t)v[i].ndiags);
		for (k = 0; k < v[i].ndiags; k++) {
			put32(&b, (uint32_t)v[i].diags[k].sev);
			put32(&b, (uint32_t)v[i].diags[k].line);
			put32(&b, (uint32_t)v[i].diags[k].col);
			putstr(&b, v[i].diags[k].code);
			putstr(&b, v[i].diags[k].text);
		}
	}
	{
		unsigned char sum[32];
		struct sha256 h;

		sha256_init(&h);
		sha256_update(&h, b.ptr, b.len);
		sha256_final(&h, sum);
		buf_put(&b, sum, 32);
	}
	tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	rc = util_write_file(tmp, b.ptr, b.len);
	if (rc == 0 && rename(tmp, path) == -1)
		rc = -1;
	if (rc == -1)
		unlink(tmp);
	free(tmp);
	buf_release(&b);
	return rc;
}
