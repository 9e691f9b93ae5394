/*
 * print: print.html and print-selection.html (see print.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "build.h"
#include "cmd.h"
#include "diag.h"
#include "fsum.h"
#include "hmap.h"
#include "lifecycle.h"
#include "pool.h"
#include "print.h"
#include "render.h"
#include "sha256.h"
#include "template.h"
#include "util.h"
#include "value.h"

/* The documents of one printed page, in print order. */
struct plan {
	size_t		*idx;		/* page indexes */
	int		*nested;	/* a procedure under its policy */
	char		**anchor;	/* "doc-POL-BASIC" */
	size_t		 n, cap;
	char		 mark[48];	/* a body's place: mark, index, "-" */
	struct hmap	 by_out;	/* page output path -> position */
};

static const char *const audiences[] = { "public", "internal",
    "confidential" };

/* ---------------------------------------------------------------------
 * Labels and values
 */

/* i18n label [group.]key of the site language, else the key; borrowed. */
static const char *
lbl(const struct build *b, const char *group, const char *key)
{
	const struct value *i18n = strcmp(b->cfg.language, "en") == 0 ?
	    b->i18n_en : b->i18n_ja;
	const char *s;

	if (group)
		i18n = val_get(i18n, group);
	s = val_cstr(val_get(i18n, key));
	return s ? s : key;
}

/* A date value of the front matter as display text, or null. */
static struct value *
date_val(const struct build *b, const struct value *v)
{
	int ymd = life_date(v);

	if (ymd == 0)
		return val_cstr(v) ? val_str(val_cstr(v)) : val_null();
	return val_str_own(render_date(b->cfg.language, ymd / 10000,
	    ymd / 100 % 100, ymd % 100));
}

/* A string value, or null for NULL. */
static struct value *
str_or_null(const char *s)
{
	return s ? val_str(s) : val_null();
}

/* ---------------------------------------------------------------------
 * Order
 */

/* A mark for the bodies no text of the site contains (see put_bodies). */
static void
make_mark(struct plan *pl)
{
	struct {
		struct timespec	 t;
		pid_t		 pid;
		const void	*at;
	} seed;
	unsigned char sum[32];
	size_t k;

	memset(&seed, 0, sizeof(seed));
	clock_gettime(CLOCK_REALTIME, &seed.t);
	seed.pid = getpid();
	seed.at = pl;
	sha256_sum(&seed, sizeof(seed), sum);
	memcpy(pl->mark, "tebikiprintbody", 15);
	for (k = 0; k < 12; k++)
		snprintf(pl->mark + 15 + 2 * k, 3, "%02x", sum[k]);
	/* the position follows: the mark ends with a letter */
	memcpy(pl->mark + 15 + 24, "x", 2);
}

/* Appends page `pi` to the plan with its anchor ("doc-" and the id, or
 * the output path, with other characters as '-'). */
static void
plan_add(struct plan *pl, const struct build *b, size_t pi, int nested)
{
	const struct page *p = &b->pages[pi];
	struct buf a = BUF_INIT;
	const char *s;

	if (pl->n == pl->cap) {		/* doubling: a big plan is linear */
		pl->cap = pl->cap ? pl->cap * 2 : 64;
		pl->idx = xreallocarray(pl->idx, pl->cap, sizeof(*pl->idx));
		pl->nested = xreallocarray(pl->nested, pl->cap,
		    sizeof(*pl->nested));
		pl->anchor = xreallocarray(pl->anchor, pl->cap,
		    sizeof(*pl->anchor));
	}
	buf_puts(&a, "doc-");
	for (s = p->id ? p->id : p->out; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x80 || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_')
			buf_putc(&a, c);
		else
			buf_putc(&a, '-');
	}
	pl->idx[pl->n] = pi;
	pl->nested[pl->n] = nested;
	pl->anchor[pl->n] = buf_detach(&a);
	hm_put(&pl->by_out, p->out, pl->n);
	pl->n++;
}

/* Frees what the plan holds (not the plan itself). */
static void
plan_release(struct plan *pl)
{
	size_t i;

	for (i = 0; i < pl->n; i++)
		free(pl->anchor[i]);
	free(pl->anchor);
	free(pl->idx);
	free(pl->nested);
	hm_release(&pl->by_out);
}

/* Chapter number for sorting (front matter 'chapter'), else a large one. */
static double
chapter_no(const struct page *p)
{
	const struct value *v = val_get(p->src.meta, "chapter");

	double n = 1e9;

	if (v && v->kind == VAL_NUM)
		n = v->num;
	else if (val_cstr(v))
		n = strtod(val_cstr(v), NULL);
	return isnan(n) ? 1e9 : n;
}

struct chap {
	double	no;
	size_t	i;
};

static int
chap_cmp(const void *a, const void *b2)
{
	const struct chap *x = a, *y = b2;

	if (x->no != y->no)
		return x->no < y->no ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Orders the pages with want[i] set (see print.h). */
static void
plan_make(struct plan *pl, const struct build *b, const unsigned char *want)
{
	static const char *const rest[] = { "procedure", "report", "incident",
	    "lesson", NULL };
	unsigned char *used = xcalloc(b->npages + 1, 1);
	size_t i, j, k, nch = 0, *ch = xcalloc(b->npages + 1, sizeof(*ch));
	size_t *under, *off, *procs;
	struct hmap pol;

	memset(pl, 0, sizeof(*pl));
	hm_init(&pl->by_out);
	make_mark(pl);
	/* chapters by number, source order on ties */
	{
		struct chap *cs = xcalloc(b->npages + 1, sizeof(*cs));

		for (i = 0; i < b->npages; i++)
			if (want[i] && strcmp(b->pages[i].type,
			    "chapter") == 0) {
				cs[nch].no = chapter_no(&b->pages[i]);
				cs[nch++].i = i;
			}
		if (nch > 1)
			qsort(cs, nch, sizeof(*cs), chap_cmp);
		for (j = 0; j < nch; j++)
			ch[j] = cs[j].i;
		free(cs);
	}
	for (j = 0; j < nch; j++) {
		plan_add(pl, b, ch[j], 0);
		used[ch[j]] = 1;
	}
	/* policies, each followed by its procedures (a procedure that
	 * implements several goes with the first of them) */
	hm_init(&pol);
	for (i = 0; i < b->npages; i++)
		if (want[i] && b->pages[i].id &&
		    strcmp(b->pages[i].type, "policy") == 0 &&
		    !hm_get(&pol, b->pages[i].id, &j))
			hm_put(&pol, b->pages[i].id, i);
	under = xcalloc(b->npages + 1, sizeof(*under));
	for (j = 0; j < b->npages; j++) {
		const struct value *v = val_get(b->pages[j].src.meta,
		    "implements");
		size_t first = (size_t)-1, pi;

		under[j] = (size_t)-1;
		if (!want[j] || v == NULL ||
		    strcmp(b->pages[j].type, "procedure") != 0)
			continue;
		if (val_cstr(v) && hm_get(&pol, val_cstr(v), &pi))
			first = pi;
		for (k = 0; v->kind == VAL_LIST && k < v->n; k++)
			if (val_cstr(v->items[k]) &&
			    hm_get(&pol, val_cstr(v->items[k]), &pi) &&
			    pi < first)
				first = pi;
		under[j] = first;
	}
	/* procedures of each policy, in page order: counting sort */
	off = xcalloc(b->npages + 2, sizeof(*off));
	for (j = 0; j < b->npages; j++)
		if (under[j] != (size_t)-1)
			off[under[j] + 1]++;
	for (i = 0; i < b->npages; i++)
		off[i + 1] += off[i];
	procs = xcalloc(off[b->npages] + 1, sizeof(*procs));
	{
		size_t *fill = xcalloc(b->npages + 1, sizeof(*fill));

		for (j = 0; j < b->npages; j++)
			if (under[j] != (size_t)-1)
				procs[off[under[j]] + fill[under[j]]++] = j;
		free(fill);
	}
	for (i = 0; i < b->npages; i++) {
		if (!want[i] || strcmp(b->pages[i].type, "policy") != 0)
			continue;
		plan_add(pl, b, i, 0);
		used[i] = 1;
		for (k = off[i]; k < off[i + 1]; k++) {
			plan_add(pl, b, procs[k], 1);
			used[procs[k]] = 1;
		}
	}
	free(procs);
	free(off);
	free(under);
	hm_release(&pol);
	for (k = 0; rest[k]; k++)
		for (i = 0; i < b->npages; i++)
			if (want[i] && !used[i] &&
			    strcmp(b->pages[i].type, rest[k]) == 0) {
				plan_add(pl, b, i, 0);
				used[i] = 1;
			}
	/* anything else that was asked for by id */
	for (i = 0; i < b->npages; i++)
		if (want[i] && !used[i])
			plan_add(pl, b, i, 0);
	free(ch);
	free(used);
}

/* ---------------------------------------------------------------------
 * Body links
 */

/* Appends the rewritten value of attribute `name` (raw, escaped text `v`)
 * of the document at plan position `pos`. */
static void
rewrite_value(const struct build *b, const struct plan *pl, size_t pos,
    const char *name, const char *v, struct buf *out)
{
	const struct page *p = &b->pages[pl->idx[pos]];
	const char *q;
	char *dir, *norm, *dec;
	size_t plen, t;

	if (strcmp(name, "id") == 0) {
		buf_printf(out, "%s--%s", pl->anchor[pos], v);
		return;
	}
	if (*v == '#' && strcmp(name, "href") == 0) {
		buf_printf(out, "#%s--%s", pl->anchor[pos], v + 1);
		return;
	}
	if (*v == '\0' || *v == '#' || *v == '?' || *v == '/' ||
	    util_url_is_external(v)) {
		buf_puts(out, v);
		return;
	}
	q = v + strcspn(v, "?#");
	plen = (size_t)(q - v);
	dir = xstrdup(p->out);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	else
		*dir = '\0';
	norm = util_norm_path(dir, v, plen);
	free(dir);
	if (norm == NULL) {
		buf_puts(out, v);
		return;
	}
	dec = util_href_decode(norm, strlen(norm));
	if (strcmp(name, "href") == 0 && hm_get(&pl->by_out, dec, &t)) {
		buf_printf(out, "#%s", pl->anchor[t]);
		if (*q == '#' && q[1])
			buf_printf(out, "--%s", q + 1);
	} else {
		buf_printf(out, "%s%s", norm, q);
	}
	free(dec);
	free(norm);
}

/* Copies one start tag s[0..len) (from '<' to '>'), rewriting href, src
 * and id. */
static void
rewrite_tag(const struct build *b, const struct plan *pl, size_t pos,
    const char *s, size_t len, struct buf *out)
{
	size_t i = 1, ns, ne, vs, ve;
	char name[8], *v;

	while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
	    s[i] != '>' && s[i] != '/')
		i++;
	buf_put(out, s, i);
	for (;;) {
		ns = i;
		while (i < len && (s[i] == ' ' || s[i] == '\t' ||
		    s[i] == '\n'))
			i++;
		if (i >= len || s[i] == '>' || s[i] == '/') {
			buf_put(out, s + ns, len - ns);
			return;
		}
		buf_put(out, s + ns, i - ns);
		ns = i;
		while (i < len && s[i] != '=' && s[i] != ' ' && s[i] != '>' &&
		    s[i] != '\t' && s[i] != '\n' && s[i] != '/')
			i++;
		ne = i;
		if (i >= len || s[i] != '=') {
			buf_put(out, s + ns, ne - ns);
			continue;
		}
		i++;
		if (i < len && (s[i] == '"' || s[i] == '\'')) {
			char qc = s[i++];

			vs = i;
			while (i < len && s[i] != qc)
				i++;
			ve = i;
			if (i < len)
				i++;
		} else {
			vs = i;
			while (i < len && s[i] != ' ' && s[i] != '>' &&
			    s[i] != '\t' && s[i] != '\n')
				i++;
			ve = i;
		}
		if (ne - ns < sizeof(name)) {
			memcpy(name, s + ns, ne - ns);
			name[ne - ns] = '\0';
		} else {
			name[0] = '\0';
		}
		if (strcmp(name, "href") && strcmp(name, "src") &&
		    strcmp(name, "id")) {
			buf_put(out, s + ns, i - ns);
			continue;
		}
		v = xstrndup(s + vs, ve - vs);
		buf_printf(out, "%s=\"", name);
		rewrite_value(b, pl, pos, name, v, out);
		buf_putc(out, '"');
		free(v);
	}
}

/* Appends the body of the document at plan position `pos`, rewritten for
 * a page at the output root. */
static void
rewrite_body(const struct build *b, const struct plan *pl, size_t pos,
    struct buf *out)
{
	char *tofree, qc;
	const char *s = build_body(b, &b->pages[pl->idx[pos]], &tofree), *e,
	    *q;

	while (*s) {
		if (strncmp(s, "<!--", 4) == 0) {
			e = strstr(s + 4, "-->");
			e = e ? e + 3 : s + strlen(s);
			buf_put(out, s, (size_t)(e - s));
			s = e;
		} else if (*s == '<' && ((s[1] >= 'a' && s[1] <= 'z') ||
		    (s[1] >= 'A' && s[1] <= 'Z'))) {
			for (q = s + 1, qc = 0; *q && (qc || *q != '>'); q++)
				if (qc && *q == qc)
					qc = 0;
				else if (!qc && (*q == '"' || *q == '\''))
					qc = *q;
			e = *q ? q + 1 : q;
			rewrite_tag(b, pl, pos, s, (size_t)(e - s), out);
			s = e;
		} else {
			/* text up to the next tag in one piece */
			e = strchr(s + 1, '<');
			e = e ? e : s + strlen(s);
			buf_put(out, s, (size_t)(e - s));
			s = e;
		}
	}
	free(tofree);
}

/* ---------------------------------------------------------------------
 * Reuse of the last print.html
 *
 * print.html holds every body, rewritten for a page at the output root,
 * so any edit changes it; rewriting 10,000 bodies took a third of a
 * rebuild's print page.  A build that keeps caches records where each
 * body went in the file it wrote, under a key of everything its rewritten
 * bytes depend on: the page's render key (its body), its anchor and
 * output path, and the plan's output paths and anchors (where links go).
 * The next build reads the bodies whose key it finds from the published
 * print.html instead of rewriting them, when that file is the one
 * recorded: same device, inode, size, modification and change time.
 *
 * .tebiki-cache/print-<audience>.bin: "tebiki-print 1\n", the file's
 * identity (7 little-endian u64), the count, then per body its key (32
 * bytes), offset and length (u64), sorted by key; last, the fsum of it
 * all.  It is written beside as a file of its own and put in place with
 * the render cache, once the build succeeded.
 */
#define REUSE_MAGIC	"tebiki-print 1\n"
#define ID_WORDS	7

struct reuse_ent {
	unsigned char	 key[32];
	uint64_t	 off, len;
};

struct reuse {
	int			 fd;		/* the last print.html, or -1 */
	struct reuse_ent	*old;		/* its bodies, by key */
	size_t			 nold;
	unsigned char		(*key)[32];	/* this plan's, by position */
	unsigned char		*has_key;
	uint64_t		*off, *len;	/* where this build put them;
						   off UINT64_MAX: not yet */
	size_t			 hits;
};

static void
put64le(unsigned char *o, uint64_t x)
{
	int i;

	for (i = 0; i < 8; i++)
		o[i] = (unsigned char)(x >> (8 * i));
}

static uint64_t
get64le(const unsigned char *p)
{
	uint64_t x = 0;
	int i;

	for (i = 7; i >= 0; i--)
		x = x << 8 | p[i];
	return x;
}

/* The identity of an open file, or of path when fd < 0; -1 when it
 * cannot be had. */
static int
file_id(int fd, const char *path, uint64_t id[ID_WORDS])
{
	struct stat st;

	if (fd >= 0 ? fstat(fd, &st) == -1 : path == NULL ||
	    stat(path, &st) == -1)
		return -1;
	id[0] = (uint64_t)st.st_dev;
	id[1] = (uint64_t)st.st_ino;
	id[2] = (uint64_t)st.st_size;
	id[3] = (uint64_t)st.st_mtim.tv_sec;
	id[4] = (uint64_t)st.st_mtim.tv_nsec;
	id[5] = (uint64_t)st.st_ctim.tv_sec;
	id[6] = (uint64_t)st.st_ctim.tv_nsec;
	return 0;
}

static int
ent_cmp(const void *a, const void *b)
{
	return memcmp(((const struct reuse_ent *)a)->key,
	    ((const struct reuse_ent *)b)->key, 32);
}

/* Sets up reuse for the whole handbook: this plan's keys, and the last
 * print.html with its index when both are there and agree.  Without a
 * render cache (no page keys) nothing is set up and NULL returned. */
static struct reuse *
reuse_open(const struct build *b, const struct plan *pl)
{
	struct reuse *r;
	struct sha256 h;
	unsigned char plan_sum[32], sum[FSUM_LEN];
	uint64_t id[ID_WORDS], n, k;
	struct buf f = BUF_INIT;
	const unsigned char *q;
	size_t i, m = sizeof(REUSE_MAGIC) - 1, head;
	char *path;

	if (b->rcache_path == NULL || !b->opts->write)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->fd = -1;
	r->key = xcalloc(pl->n + 1, sizeof(*r->key));
	r->has_key = xcalloc(pl->n + 1, 1);
	r->off = xcalloc(pl->n + 1, sizeof(*r->off));
	r->len = xcalloc(pl->n + 1, sizeof(*r->len));
	/* where links go: every document's output path and anchor */
	sha256_init(&h);
	sha256_update(&h, "tebiki print 1", 15);
	for (i = 0; i < pl->n; i++) {
		const struct page *p = &b->pages[pl->idx[i]];

		sha256_update(&h, p->out, strlen(p->out) + 1);
		sha256_update(&h, pl->anchor[i], strlen(pl->anchor[i]) + 1);
	}
	sha256_final(&h, plan_sum);
	for (i = 0; i < pl->n; i++) {
		const struct page *p = &b->pages[pl->idx[i]];

		r->off[i] = UINT64_MAX;
		if (!p->keyed)
			continue;
		sha256_init(&h);
		sha256_update(&h, plan_sum, sizeof(plan_sum));
		sha256_update(&h, p->rkey, sizeof(p->rkey));
		sha256_update(&h, p->out, strlen(p->out) + 1);
		sha256_update(&h, pl->anchor[i], strlen(pl->anchor[i]) + 1);
		sha256_final(&h, r->key[i]);
		r->has_key[i] = 1;
	}
	/* the last print.html, if the index describes it */
	path = build_cache_path(b, "print", ".bin");
	head = m + 8 * ID_WORDS + 8;
	if (util_read_file(path, &f) == -1 || f.len < head + FSUM_LEN ||
	    memcmp(f.ptr, REUSE_MAGIC, m) != 0)
		goto out;
	fsum(f.ptr, f.len - FSUM_LEN, sum);
	q = (const unsigned char *)f.ptr;
	n = get64le(q + m + 8 * ID_WORDS);
	if (memcmp(sum, f.ptr + f.len - FSUM_LEN, FSUM_LEN) != 0 ||
	    n > (f.len - head) / sizeof(struct reuse_ent) ||
	    f.len != head + n * 48 + FSUM_LEN)
		goto out;
	free(path);
	path = util_path_join(b->out_dir, "print.html");
	r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (r->fd == -1 || file_id(r->fd, NULL, id) == -1)
		goto out;
	for (k = 0; k < ID_WORDS; k++)
		if (get64le(q + m + 8 * k) != id[k])
			goto out;
	r->old = xcalloc(n + 1, sizeof(*r->old));
	for (k = 0, q += head; k < n; k++, q += 48) {
		struct reuse_ent *e = &r->old[r->nold];

		memcpy(e->key, q, 32);
		e->off = get64le(q + 32);
		e->len = get64le(q + 40);
		if (e->off <= id[2] && e->len <= id[2] - e->off)
			r->nold++;
	}
	qsort(r->old, r->nold, sizeof(*r->old), ent_cmp);
out:
	if (r->old == NULL && r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
	buf_release(&f);
	free(path);
	return r;
}

/* Puts the body at plan position pos into out from the last print.html;
 * 0, or -1 when it is not there (or cannot be read). */
static int
reuse_body(struct reuse *r, size_t pos, struct buf *out)
{
	struct reuse_ent want, *e;
	size_t got = 0;
	ssize_t k;

	if (r == NULL || r->fd < 0 || !r->has_key[pos])
		return -1;
	memcpy(want.key, r->key[pos], 32);
	e = bsearch(&want, r->old, r->nold, sizeof(*r->old), ent_cmp);
	if (e == NULL || e->len > SIZE_MAX / 2)
		return -1;
	buf_reset(out);
	buf_grow(out, (size_t)e->len);
	while (got < e->len) {
		k = pread(r->fd, out->ptr + got, (size_t)e->len - got,
		    (off_t)(e->off + got));
		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			buf_reset(out);
			return -1;
		}
		got += (size_t)k;
	}
	out->len = got;
	out->ptr[got] = '\0';
	__atomic_add_fetch(&r->hits, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Writes the index of the print.html this build wrote (rel in the work
 * dir) beside the cache, to be put in place by commit_rcache. */
static void
reuse_save(struct build *b, const struct reuse *r, const struct plan *pl)
{
	struct buf o = BUF_INIT;
	struct reuse_ent *v;
	unsigned char w[48], sum[FSUM_LEN];
	uint64_t id[ID_WORDS];
	size_t i, n = 0, k;
	char *path = util_path_join(b->tmp_dir, "print.html");

	if (file_id(-1, path, id) == -1) {
		free(path);
		return;
	}
	free(path);
	v = xcalloc(pl->n + 1, sizeof(*v));
	for (i = 0; i < pl->n; i++) {
		if (!r->has_key[i] || r->off[i] == UINT64_MAX)
			continue;
		memcpy(v[n].key, r->key[i], 32);
		v[n].off = r->off[i];
		v[n].len = r->len[i];
		n++;
	}
	qsort(v, n, sizeof(*v), ent_cmp);
	buf_puts(&o, REUSE_MAGIC);
	for (k = 0; k < ID_WORDS; k++) {
		put64le(w, id[k]);
		buf_put(&o, w, 8);
	}
	put64le(w, (uint64_t)n);
	buf_put(&o, w, 8);
	for (i = 0; i < n; i++) {
		memcpy(w, v[i].key, 32);
		put64le(w + 32, v[i].off);
		put64le(w + 40, v[i].len);
		buf_put(&o, w, 48);
	}
	fsum(o.ptr, o.len, sum);
	buf_put(&o, sum, FSUM_LEN);
	free(b->prn_index);
	b->prn_index = build_cache_path(b, "print", ".bin");
	path = xasprintf("%s.%ld.new", b->prn_index, (long)getpid());
	if (util_write_file(path, o.ptr, o.len) == 0) {
		free(b->prn_index_new);
		b->prn_index_new = path;
	} else {
		(void)unlink(path);
		free(path);
	}
	buf_release(&o);
	free(v);
}

static void
reuse_free(struct reuse *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->old);
	free(r->key);
	free(r->has_key);
	free(r->off);
	free(r->len);
	free(r);
}

/* ---------------------------------------------------------------------
 * Contexts
 */

/* The context of the document at plan position `pos` (see
 * print.mustache); caller unrefs. */
static struct value *
doc_ctx(const struct build *b, const struct plan *pl, size_t pos)
{
	const struct page *p = &b->pages[pl->idx[pos]];
	const struct value *meta = p->src.meta;
	struct value *e = val_map(), *doc = val_map();
	struct buf body = BUF_INIT;
	const char *s, *lang = b->cfg.language;

	val_set(e, "anchor", val_str(pl->anchor[pos]));
	val_set(e, "id", str_or_null(p->id));
	val_set(e, "title", val_str(p->title));
	val_set(e, "type", val_str(p->type));
	val_set(e, "type_label", val_str(lbl(b, "types", p->type)));
	val_set(e, "url", val_str(p->out));
	val_set(e, "lang", val_str(p->lang));
	val_set(e, "nested", val_bool(pl->nested[pos]));
	s = val_cstr(val_get(meta, "summary"));
	val_set(e, "summary", val_str(s ? s : ""));
	val_set(doc, "id", str_or_null(p->id));
	val_set(doc, "version", str_or_null(val_cstr(val_get(meta,
	    "version"))));
	val_set(doc, "owner", str_or_null(val_cstr(val_get(meta, "owner"))));
	val_set(doc, "approver", str_or_null(val_cstr(val_get(meta,
	    "approver"))));
	val_set(doc, "status", str_or_null(p->status));
	val_set(doc, "status_label", p->status ? val_str(lbl(b, "status",
	    p->status)) : val_null());
	val_set(doc, "classification", val_str(p->classification));
	val_set(doc, "classification_label", val_str(lbl(b, "classification",
	    p->classification)));
	val_set(doc, "effective", date_val(b, val_get(meta, "effective")));
	val_set(doc, "reviewed", date_val(b, val_get(meta, "reviewed")));
	val_set(doc, "date", date_val(b, val_get(meta, "date")));
	val_set(doc, "next_review", p->next_review ? val_str_own(render_date(
	    lang, p->next_review / 10000, p->next_review / 100 % 100,
	    p->next_review % 100)) : val_null());
	val_set(doc, "review_overdue", val_bool(p->overdue));
	{
		/* the lessons that call for an update, as the page's banner
		 * says: a printed copy must not read as current */
		struct value *stale = val_list(), *l;
		size_t k;

		for (k = 0; k < p->nstale; k++) {
			const struct page *lp = &b->pages[p->stale_by[k]];

			l = val_map();
			val_set(l, "id", str_or_null(lp->id));
			val_set(l, "title", val_str(lp->title));
			val_push(stale, l);
		}
		val_set(doc, "needs_update", stale);
	}
	val_set(e, "has_doc", val_bool(p->id != NULL));
	val_set(e, "doc", doc);
	/* the body itself is put in while the page is written (write_plan) */
	buf_printf(&body, "%s%zu-", pl->mark, pos);
	val_set(e, "content", val_str_own(buf_detach(&body)));
	return e;
}

/* Appends `s` as a CSS string literal. */
static void
css_string(struct buf *o, const char *s)
{
	buf_putc(o, '"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_printf(o, "\\%c", *s);
		else if (*s == '\n' || *s == '\r' || *s == '<')
			buf_printf(o, "\\%x ", (unsigned)(unsigned char)*s);
		else
			buf_putc(o, *s);
	}
	buf_putc(o, '"');
}

/* Writes the stylesheet with the page-margin texts of `out_path` (its
 * name with .css): the running header left and right, the site's print
 * footer and the page numbers.  Chromium prints @page margin boxes. */
static int
write_css(struct build *b, const char *css_path, const char *left,
    const char *right)
{
	struct buf o = BUF_INIT;
	int rc;

	buf_puts(&o, "@charset \"utf-8\";\n/* Generated by tebiki: the "
	    "page margins of the printed pages. */\n@page {\n"
	    "\t@top-left { content: ");
	css_string(&o, left);
	buf_puts(&o, "; }\n\t@top-right { content: ");
	css_string(&o, right);
	buf_puts(&o, "; }\n\t@bottom-left { content: ");
	css_string(&o, b->cfg.print_footer ? b->cfg.print_footer : "");
	buf_puts(&o, "; }\n\t@bottom-right { content: counter(page) \" / \" "
	    "counter(pages); }\n}\n");
	rc = build_write(b, css_path, o.ptr, o.len);
	buf_release(&o);
	return rc;
}

/*
 * The bodies.  The whole handbook holds every body of the site: rather
 * than put them all in the template's context, each document's content is
 * a mark (a random prefix, its position, "-"), and the rendered page is
 * written with every mark replaced by the rewritten body, made a window of
 * documents at a time on the worker threads.  The mark is letters, digits
 * and '-', which HTML escaping leaves alone, so it is found wherever and
 * however often the template puts the content.
 */
#define BODY_WINDOW	128

struct bodies {
	const struct build	*b;
	const struct plan	*pl;
	struct reuse		*r;		/* may be NULL */
	size_t			 lo, hi;	/* positions in the window */
	struct buf		 w[BODY_WINDOW];
};

static void
body_work(void *arg, size_t i, int worker)
{
	struct bodies *bw = arg;

	(void)worker;
	if (reuse_body(bw->r, bw->lo + i, &bw->w[i]) == 0)
		return;
	buf_reset(&bw->w[i]);
	rewrite_body(bw->b, bw->pl, bw->lo + i, &bw->w[i]);
}

/* The rewritten body at plan position pos. */
static const struct buf *
body_at(struct bodies *bw, size_t pos)
{
	if (pos < bw->lo || pos >= bw->hi) {
		bw->lo = pos;
		bw->hi = bw->pl->n - pos > BODY_WINDOW ? pos + BODY_WINDOW :
		    bw->pl->n;
		pool_run(bw->b->jobs > 0 ? bw->b->jobs : 1, bw->hi - bw->lo,
		    body_work, bw);
	}
	return &bw->w[pos - bw->lo];
}

/* The first mark[0..ml) in [s, e), or NULL. */
static const char *
find_mark(const char *s, const char *e, const char *mark, size_t ml)
{
	while ((size_t)(e - s) >= ml &&
	    (s = memchr(s, mark[0], (size_t)(e - s) - ml + 1)) != NULL) {
		if (memcmp(s, mark, ml) == 0)
			return s;
		s++;
	}
	return NULL;
}

/* Appends the rendered page `t` to out with every mark replaced; with
 * r, bodies come from the last print.html where they can, and where each
 * body is put first is recorded (st: the bytes out has passed on). */
static void
put_bodies(const struct build *b, const struct plan *pl, const struct buf *t,
    struct buf *out, struct reuse *r, const struct build_stream *st)
{
	struct bodies bw;
	const char *s = t->ptr, *e = t->ptr + t->len, *m, *q;
	size_t ml = strlen(pl->mark), pos, k;
	const struct buf *body;

	memset(&bw, 0, sizeof(bw));
	bw.b = b;
	bw.pl = pl;
	bw.r = r;
	while ((m = find_mark(s, e, pl->mark, ml)) != NULL) {
		for (q = m + ml, pos = 0; q < e && *q >= '0' && *q <= '9' &&
		    pos < pl->n; q++)
			pos = pos * 10 + (size_t)(*q - '0');
		if (q == m + ml || q >= e || *q != '-' || pos >= pl->n) {
			/* not a mark after all: keep the text */
			buf_put(out, s, (size_t)(m + ml - s));
			s = m + ml;
			continue;
		}
		buf_put(out, s, (size_t)(m - s));
		body = body_at(&bw, pos);
		if (r && r->off[pos] == UINT64_MAX) {
			r->off[pos] = (uint64_t)(st->len + out->len);
			r->len[pos] = body->len;
		}
		buf_put(out, body->ptr ? body->ptr : "", body->len);
		s = q + 1;
	}
	buf_put(out, s, (size_t)(e - s));
	for (k = 0; k < BODY_WINDOW; k++)
		buf_release(&bw.w[k]);
}

struct doc_job {
	struct build		*b;
	const struct plan	*pl;
	struct value		**out;
};

static void
doc_work(void *arg, size_t i, int worker)
{
	struct doc_job *job = arg;

	(void)worker;
	job->out[i] = doc_ctx(job->b, job->pl, i);
}

/* Renders the plan into `out_path`; `all` marks the whole handbook. */
static int
write_plan(struct build *b, const struct plan *pl, const char *out_path,
    int all)
{
	struct value *ctx = val_map(), *pg = val_map(), *pr = val_map();
	struct value *docs = val_list();
	struct buf out = BUF_INIT, tpl = BUF_INIT;
	struct build_stream st;
	struct reuse *r = all ? reuse_open(b, pl) : NULL;
	const char *lang = b->cfg.language;
	int level = 0, rc = -1;
	size_t i;
	char *t;

	{
		/* the documents' contexts (body links rewritten) in parallel */
		struct doc_job job;

		job.b = b;
		job.pl = pl;
		job.out = xcalloc(pl->n + 1, sizeof(*job.out));
		pool_run(b->jobs > 0 ? b->jobs : 1, pl->n, doc_work, &job);
		for (i = 0; i < pl->n; i++) {
			int l = build_level(
			    b->pages[pl->idx[i]].classification);

			level = l > level ? l : level;
			val_push(docs, job.out[i]);
		}
		free(job.out);
	}
	t = all ? xstrdup(lbl(b, "print", "title")) : pl->n == 1 ?
	    xstrdup(b->pages[pl->idx[0]].title) :
	    xstrdup(lbl(b, "print", "selection"));
	val_set(pr, "title", val_str(t));
	val_set(pr, "all", val_bool(all));
	val_set(pr, "cover", val_bool(pl->n > 1));
	val_set(pr, "single", val_bool(pl->n == 1));
	val_set(pr, "count", val_num((double)pl->n));
	val_set(pr, "date", val_str_own(render_date(lang, b->ty, b->tm,
	    b->td)));
	val_set(pr, "classification", val_str(audiences[level]));
	val_set(pr, "classification_label", val_str(lbl(b, "classification",
	    audiences[level])));
	if (pl->n == 1) {
		const struct page *p = &b->pages[pl->idx[0]];
		const char *ver = val_cstr(val_get(p->src.meta, "version"));

		val_set(pr, "running", val_str_own(xasprintf("%s%s%s%s%s",
		    p->id ? p->id : "", ver ? " " : "",
		    ver ? lbl(b, "doc", "version") : "", ver ? " " : "",
		    ver ? ver : "")));
	} else {
		val_set(pr, "running", val_str(b->cfg.title));
	}
	val_set(pr, "docs", docs);
	{
		char *css = xasprintf("%.*s.css", (int)strlen(out_path) - 5,
		    out_path);
		char *right = pl->n == 1 ? xstrdup(val_cstr(val_get(pr,
		    "running"))) : xasprintf("%s  %s", t, val_cstr(val_get(pr,
		    "date")));

		val_set(pr, "css", val_str(css));
		if (write_css(b, css, b->cfg.title, right) == -1)
			rc = -2;
		free(right);
		free(css);
	}
	val_set(pg, "title", val_str(t));
	val_set(pg, "url", val_str(out_path));
	val_set(pg, "lang", val_str(lang));
	val_set(pg, "generated", val_bool(1));
	free(t);
	val_set(ctx, "root", val_str(""));
	val_set(ctx, "lang", val_str(lang));
	val_set(ctx, "i18n", val_ref(strcmp(lang, "en") == 0 ? b->i18n_en :
	    b->i18n_ja));
	val_set(ctx, "site", val_ref(b->site_ctx));
	val_set(ctx, "layout", val_str("print"));
	val_set(ctx, "page", pg);
	val_set(ctx, "print", pr);
	/* rendered with marks for the bodies, then written with the bodies
	 * put in (put_bodies): the whole handbook is large */
	if (tmpl_render(b->tmpl, "print", ctx, &tpl, b->d) == -1)
		goto out;
	val_unref(ctx);
	ctx = NULL;
	build_stream_begin(b, out_path, &out, &st);
	put_bodies(b, pl, &tpl, &out, r, &st);
	buf_release(&tpl);
	if (build_stream_end(b, out_path, &out, &st) == 0 && rc != -2) {
		rc = 0;
		if (r)
			reuse_save(b, r, pl);
	}
	if (r && b->timing)
		fprintf(stderr, "tebiki: timing: %zu of %zu bodies of %s from "
		    "the last one\n", r->hits, pl->n, out_path);
out:
	buf_release(&tpl);
	buf_release(&out);
	val_unref(ctx);
	reuse_free(r);
	return rc == 0 ? 0 : -1;
}

/* Marks the selection of the build options in want[]; -1 after
 * reporting. */
static int
select_pages(struct build *b, unsigned char *want)
{
	const struct build_opts *o = b->opts;
	const char *const *id;
	const char *ty = o->print_type;
	size_t i, pi;
	int rc = 0, n = 0;

	for (id = o->print_ids; id && *id; id++) {
		if (!hm_get(&b->by_id, *id, &pi)) {
			rc = diag_err(b->d, NULL, 0, 0, "unknown document id "
			    "'%s'", *id);
			continue;
		}
		if (b->pages[pi].excluded) {
			const struct page *p = &b->pages[pi];

			if (build_level(p->classification) > b->audience)
				rc = diag_err(b->d, p->f->src, 0, 0, "document "
				    "'%s' is classified '%s', above the "
				    "audience '%s'", *id, p->classification,
				    audiences[b->audience]);
			else
				rc = diag_err(b->d, p->f->src, 0, 0, "document "
				    "'%s' is left out of this build (draft)",
				    *id);
			continue;
		}
		want[pi] = 1;
	}
	if (ty) {
		for (i = 0; i < b->npages; i++)
			if (!b->pages[i].excluded && !b->pages[i].is_home &&
			    strcmp(b->pages[i].type, ty) == 0) {
				want[i] = 1;
				n++;
			}
		if (n == 0)
			rc = diag_err(b->d, NULL, 0, 0, "no documents of type "
			    "'%s' in this build", ty);
	}
	return rc;
}

/* 1 when page i belongs in print.html. */
static int
in_print(const struct build *b, size_t i)
{
	return !b->pages[i].excluded && !b->pages[i].is_home &&
	    strcmp(b->pages[i].type, "page") != 0;
}

int
prn_any(const struct build *b)
{
	size_t i;

	for (i = 0; i < b->npages; i++)
		if (in_print(b, i))
			return 1;
	return 0;
}

int
prn_generate(struct build *b)
{
	unsigned char *want;
	struct plan pl;
	size_t i;
	int rc = 0;

	if (b->tmpl == NULL || !tmpl_exists(b->tmpl, "print"))
		return 0;
	if (b->opts->print_all && !prn_any(b))
		return diag_err(b->d, NULL, 0, 0, "nothing to print: no "
		    "document of this build goes into the handbook's print "
		    "page (every type does but 'page', and the home page "
		    "does not)");
	want = xcalloc(b->npages + 1, 1);
	for (i = 0; i < b->npages; i++)
		want[i] = in_print(b, i);
	plan_make(&pl, b, want);
	if (pl.n > 0)
		rc = write_plan(b, &pl, "print.html", 1);
	plan_release(&pl);
	if (b->opts->print_ids || b->opts->print_type) {
		memset(want, 0, b->npages + 1);
		if (select_pages(b, want) == -1) {
			rc = -1;
		} else {
			plan_make(&pl, b, want);
			if (write_plan(b, &pl, "print-selection.html", 0) == -1)
				rc = -1;
			plan_release(&pl);
		}
	}
	free(want);
	return rc;
}

char *
prn_build_temp(struct build_opts *o, struct diag *d, int *status)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/tebiki-print.XXXXXX", tmp && *tmp ? tmp :
	    "/tmp");
	char *out;

	if (mkdtemp(dir) == NULL) {
		diag_err(d, NULL, 0, 0, "cannot create a temporary directory "
		    "'%s': %s", dir, strerror(errno));
		free(dir);
		*status = CMD_USAGE;
		return NULL;
	}
	out = util_path_join(dir, "site");
	o->out_dir = out;
	o->write = 1;
	o->quiet = 1;
	o->no_cache = 1;	/* a throw-away output: no cache file for it */
	*status = build_run(o, d);
	o->out_dir = NULL;
	free(out);
	if (*status == CMD_OK && diag_errors(d) > 0)
		*status = CMD_CONTENT;
	if (*status != CMD_OK) {
		util_rmtree(dir);
		free(dir);
		return NULL;
	}
	return dir;
}
