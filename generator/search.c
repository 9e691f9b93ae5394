/*
 * search: builds and writes the static search index (see search.h and
 * docs/search.md for the file format).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "search.h"
#include "fsum.h"
#include "sha256.h"
#include "spill.h"
#include "tokenize.h"
#include "util.h"
#include "value.h"

#define FORMAT_VERSION	3
#define NFIELDS		5	/* title, control, heading, tag, body */
#define F_TITLE		0
#define F_CONTROL	1
#define F_HEADING	2
#define F_TAG		3
#define F_BODY		4
#define HAS_POS(f)	((f) != F_CONTROL)	/* and only for CJK bigrams */
#define SHARD_MIN	16384	/* encoded bytes per tail or position shard, at least */
#define TERM_SHARD	4096	/* encoded bytes per term shard, at least */
#define MAX_FILES	1000	/* file budget of search/ */
#define MAX_SEP		160	/* at most this many such terms */
#define DOCS_PER_SHARD	32
#define HEAD_BYTES	256	/* raw posting bytes of a split term's head */
#define HEAD_MIN	24	/* docs in a head, at least */
#define BM25_K1		1.2
#define BM25_B		0.75
#define SECTION_CAP	200	/* code points of text kept per section */
#define DOC_CAP		500	/* code points of text kept per document */
#define HDR_SINGLE	80	/* posting header below this: one field, tf <= 16 */
#define MAX_THREADS	8
#define TOKEN_BATCH	512	/* documents tokenized and merged at a time, */
#define TOKEN_BATCH_MIN	64	/* ... or a 16th of them, at least this */
#define NSUB		8	/* sub-tables of a batch part (>= MAX_THREADS) */

static const int field_weight[NFIELDS] = { 5, 8, 2, 3, 1 };

struct sdoc {
	char	 *url, *title, *type, *type_label, *lang, *date;
	char	 *id;			/* NULL: none */
	char	**controls; size_t ncontrols;
	char	**tags; size_t ntags;
	char	**anchors, **headings, **texts; size_t nsections;
	uint64_t *soff;			/* texts[k] NULL: in the spill, */
	size_t	 *slen;			/* slen[k] bytes at soff[k] */
	/* filled by the tokenizer */
	unsigned *hstart, *bstart;	/* per section heading/body positions */
	unsigned  blen;			/* body length in positions */
	unsigned  tlen;			/* title length in positions */
	struct buf terms;		/* term bytes, concatenated */
	struct buf posts;		/* doc-level posting bytes per term */
	struct buf pos;			/* position bytes per term */
	struct dterm *dt;		/* the document's distinct terms */
	size_t	  nterms;
	unsigned char sum[32];		/* of what the tokenizer reads */
	int	  summed;		/* sum made (srch_add_all) */
	int	  borrowed;		/* texts[] are the caller's (borrow) */
	unsigned char secsum[32];	/* srch_sections_sum() of the sections, */
	int	  secsum_set;		/* when given (srch_doc) or made */
};

/* A distinct term of one document: its bytes in terms, the end of its
 * bytes in posts and pos. */
struct dterm {
	uint64_t	 h;
	size_t		 toff, tlen, pend, qend;
};

struct term {
	char		*s;
	size_t		 len;
	unsigned	 df;
	unsigned	 last;		/* last doc id */
	uint64_t	 h;		/* term_hash() of the bytes */
	struct buf	 post;		/* doc-level: id delta, header, tf */
	struct buf	 pos;		/* positions, in the same doc order */
	int		 sep;		/* positions in a p/ file of their own */
	int		 bigram;	/* cjk_bigram(): has positions */
	size_t		 enc_post, enc_pos;	/* bytes_len of post, pos */
	/* A split term keeps its head (the docs of highest impact) here and
	 * the rest in *tail (written to an r/ shard); bound is the highest
	 * impact among the tail's docs, df_full the whole df. */
	struct term	*tail;
	double		 bound;
	unsigned	 df_full;
	unsigned	 tie_id;	/* lowest id of a tail doc tied with bound */
};

/* The terms whose hash falls in one partition (one merge thread each):
 * an open-addressing table. */
struct tpart {
	struct term	*terms;
	size_t		 nterms, tcap;
};

struct srch {
	struct sdoc	*docs;
	size_t		 ndocs, cap;
	int		 threads;
	struct tpart	 part[MAX_THREADS];	/* term tables by hash */
	int		 nparts;
	size_t		 nterms;
	size_t		 shard_target;	/* base64 bytes per term shard */
	struct srch_stats stats;
	int		 reuse;	/* keep outdir/search: the caller sweeps stale files */
	srch_writer	*writer;	/* or NULL: files are written here */
	void		*warg;
	size_t		 split;	/* p/ files from this size on (srch_set_split),
				   none when 0 */
	size_t		 head;	/* HEAD_BYTES unless set (srch_set_head) */
	int		 lean;	/* srch_set_lean */
	size_t		 batch;	/* TOKEN_BATCH unless set (srch_set_batch) */
	int		 cut;	/* texts cut: no second srch_write */
	char		*cache;	/* batch cache directory (srch_set_cache) */
	unsigned char	 salt[32];
	struct spill	*spill;	/* srch_set_spill */
	int		 spill_err;	/* errno of a text not read back */
	srch_keeper	*keeper;	/* srch_set_writer; with a cache: */
	struct srec	*old;	/* the files of the last write, by key */
	size_t		 nold;
	struct srec	*recs;	/* the files of this write */
	size_t		 nrecs, rcap;
};

/* A file of the last write, as the shard cache keeps it (shards.bin in the
 * cache directory): the key of what its content was made from (job_key),
 * its name ("r/0123456789"), size and SHA-256. */
struct srec {
	unsigned char	 key[32];
	char		 name[32];
	uint64_t	 size;
	char		 hex[65];
};

static void		 parallel(int, void *(*)(void *), void *, size_t);
static int		 nthreads(const struct srch *);
static unsigned long	 get_varint(const unsigned char **);

/* ---------------------------------------------------------------- helpers */

/* A sanitized copy of s[0..n); caller frees. */
static char *
dup_clean_n(const char *s, size_t n)
{
	struct buf b = BUF_INIT;

	tok_sanitize(&b, s, n);
	return buf_detach(&b);
}

/* A sanitized copy of s (NULL stays NULL); caller frees. */
static char *
dup_clean(const char *s)
{
	return s ? dup_clean_n(s, strlen(s)) : NULL;
}

/* Sanitized copies of n strings (NULL items become ""); caller frees
 * with free_list(). */
static char **
dup_list(const char *const *v, size_t n)
{
	char **out = xcalloc(n ? n : 1, sizeof(*out));
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = dup_clean(v[i] ? v[i] : "");
	return out;
}

/* Frees a dup_list() array; NULL is fine. */
static void
free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* Appends p[0..n) to b: buf_put with the common case (room left) inline,
 * for the many tiny appends of tokenizing and merging. */
static inline void
put_fast(struct buf *b, const char *p, size_t n)
{
	if (b->len + n < b->cap) {
		memcpy(b->ptr + b->len, p, n);
		b->len += n;
		b->ptr[b->len] = '\0';
	} else {
		buf_put(b, p, n);
	}
}

/* Appends v as an unsigned LEB128 varint. */
static void
put_varint(struct buf *b, unsigned long v)
{
	char tmp[10];
	size_t n = 0;

	if (v < 0x80 && b->len + 1 < b->cap) {
		b->ptr[b->len++] = (char)v;
		b->ptr[b->len] = '\0';
		return;
	}
	while (v >= 0x80) {
		tmp[n++] = (char)(0x80 | (v & 0x7f));
		v >>= 7;
	}
	tmp[n++] = (char)v;
	put_fast(b, tmp, n);
}

/* Appends the standard base64 (with padding) of p[0..n). */
static void
put_base64(struct buf *b, const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	unsigned long v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned long)p[i] << 16 | p[i + 1] << 8 | p[i + 2];
		buf_putc(b, tab[v >> 18]);
		buf_putc(b, tab[v >> 12 & 63]);
		buf_putc(b, tab[v >> 6 & 63]);
		buf_putc(b, tab[v & 63]);
	}
	if (n - i == 1) {
		v = (unsigned long)p[i] << 16;
		buf_putc(b, tab[v >> 18]);
		buf_putc(b, tab[v >> 12 & 63]);
		buf_puts(b, "==");
	} else if (n - i == 2) {
		v = (unsigned long)p[i] << 16 | p[i + 1] << 8;
		buf_putc(b, tab[v >> 18]);
		buf_putc(b, tab[v >> 12 & 63]);
		buf_putc(b, tab[v >> 6 & 63]);
		buf_putc(b, '=');
	}
}

/* Monotonic milliseconds (phase figures in srch_stats). */
static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Byte strings (postings, positions, lengths) are written one character
 * per byte: a byte v < 90 is bchars[v] (printable ASCII without " & < > \),
 * a larger one is U+0100 + v (two bytes of UTF-8).  Unlike base64 this keeps
 * byte boundaries, which gzip compresses better, and needs no escaping. */
static const char bchars[] = " !#$%'()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOP"
    "QRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";
#define NBCHARS	90

/* Appends p[0..n) encoded as above. */
static void
put_bytes(struct buf *b, const unsigned char *p, size_t n)
{
	size_t i;

	buf_grow(b, 2 * n);
	for (i = 0; i < n; i++) {
		if (p[i] < NBCHARS) {
			b->ptr[b->len++] = bchars[p[i]];
		} else {
			unsigned cp = 0x100u + p[i];

			b->ptr[b->len++] = (char)(0xc0 | cp >> 6);
			b->ptr[b->len++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	b->ptr[b->len] = '\0';
}

/* Length of p[0..n) once encoded by put_bytes. */
static size_t
bytes_len(const char *p, size_t n)
{
	size_t i, k = n;

	for (i = 0; i < n; i++)
		k += (unsigned char)p[i] >= NBCHARS;
	return k;
}

/* FNV-1a 64 of p[0..n): content hashes for file names. */
static uint64_t
fnv(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The hash of a term's bytes for the tables that group postings by term
 * (never written anywhere): eight bytes at a time, each word folded in
 * with a multiply, then the finalizer of MurmurHash3 so that both the
 * low bits (table slots) and the high bits (sub_of) are mixed.  Terms
 * are short (a bigram is six bytes), so this is one or two rounds where
 * FNV takes a multiply per byte. */
static uint64_t
term_hash(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL), w;

	while (n >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
		h ^= h >> 31;
		p += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* At most `cap` code points of s (valid UTF-8) as a JSON string. */
static void
json_capped(struct buf *b, const char *s, size_t cap)
{
	size_t i = 0, cps = 0;

	while (s[i] && cps < cap) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		cps++;
	}
	val_json_string(b, s, i);
}

/* Appends s as a JSON string (safe inside <script>), or null. */
static void
json_str(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_puts(b, "null");
	else
		val_json_string(b, s, strlen(s));
}

/* -------------------------------------------------------------- public API */

/* See search.h. */
struct srch *
srch_new(void)
{
	return xcalloc(1, sizeof(struct srch));
}

void
srch_set_threads(struct srch *s, int n)
{
	s->threads = n;
}

/* Room for n more documents. */
static void
grow_docs(struct srch *s, size_t n)
{
	if (s->cap - s->ndocs >= n)
		return;
	while (s->cap - s->ndocs < n)
		s->cap = s->cap ? s->cap * 2 : 64;
	s->docs = xreallocarray(s->docs, s->cap, sizeof(*s->docs));
}

/* Makes o the index's copy of d (see srch_add). */
static void
copy_doc(const struct srch *s, struct sdoc *o, const struct srch_doc *d)
{
	size_t i;

	memset(o, 0, sizeof(*o));
	o->url = dup_clean(d->url ? d->url : "");
	o->title = dup_clean(d->title ? d->title : "");
	o->type = dup_clean(d->type ? d->type : "");
	o->type_label = dup_clean(d->type_label ? d->type_label :
	    (d->type ? d->type : ""));
	o->lang = dup_clean(d->lang ? d->lang : "");
	o->date = dup_clean(d->date);
	o->id = dup_clean(d->id);
	o->controls = dup_list(d->controls, d->ncontrols);
	o->ncontrols = d->ncontrols;
	o->tags = dup_list(d->tags, d->ntags);
	o->ntags = d->ntags;
	o->nsections = d->nsections;
	o->anchors = xcalloc(d->nsections + 1, sizeof(char *));
	o->headings = xcalloc(d->nsections + 1, sizeof(char *));
	o->texts = xcalloc(d->nsections + 1, sizeof(char *));
	/* borrowed texts that need no clean-up are used in place */
	o->borrowed = d->borrow && s->lean;
	for (i = 0; i < d->nsections && o->borrowed; i++) {
		const char *t = d->sections[i].text;
		size_t n;

		if (t == NULL)
			o->borrowed = 0;
		else if (!d->sections_valid) {
			n = strlen(t);
			o->borrowed = tok_valid_len(t, n) == n;
		}
	}
	if (d->sections_sum) {
		memcpy(o->secsum, d->sections_sum, 32);
		o->secsum_set = 1;
	}
	for (i = 0; i < d->nsections; i++) {
		const struct srch_section *sec = &d->sections[i];

		o->anchors[i] = dup_clean(sec->anchor ? sec->anchor : "");
		o->headings[i] = dup_clean(sec->heading ? sec->heading : "");
		if (sec->text == NULL && s->spill && d->text_off) {
			/* read with its batch (load_texts) */
			if (o->soff == NULL) {
				o->soff = xcalloc(d->nsections + 1,
				    sizeof(*o->soff));
				o->slen = xcalloc(d->nsections + 1,
				    sizeof(*o->slen));
			}
			o->soff[i] = d->text_off[i];
			o->slen[i] = d->text_len[i];
			continue;
		}
		o->texts[i] = o->borrowed ? (char *)sec->text :
		    dup_clean(sec->text ? sec->text : "");
	}
	buf_init(&o->terms);
	buf_init(&o->posts);
	buf_init(&o->pos);
}

void
srch_add(struct srch *s, const struct srch_doc *d)
{
	grow_docs(s, 1);
	copy_doc(s, &s->docs[s->ndocs++], d);
}

static void	doc_sum(struct sdoc *);

struct adder {
	struct srch		*s;
	const struct srch_doc	*in;
	size_t			 base, first, step, n;
};

/* Thread body of srch_add_all: documents first, first + step, ... below
 * n, and (with the cache) the sums of those whose texts or sections' sum
 * it has. */
static void *
add_work(void *arg)
{
	struct adder *a = arg;
	size_t i;

	for (i = a->first; i < a->n; i += a->step) {
		struct sdoc *o = &a->s->docs[a->base + i];

		copy_doc(a->s, o, &a->in[i]);
		/* a spilled text is summed with its batch, unless its
		 * sections' sum came with it */
		if (a->s->cache && (o->soff == NULL || o->secsum_set)) {
			doc_sum(o);
			o->summed = 1;
		}
	}
	return NULL;
}

void
srch_add_all(struct srch *s, const struct srch_doc *docs, size_t n)
{
	struct adder a[MAX_THREADS];
	int nt = nthreads(s), i;

	if (n == 0)
		return;
	grow_docs(s, n);
	if ((size_t)nt > n)
		nt = (int)n;
	for (i = 0; i < nt; i++) {
		a[i].s = s;
		a[i].in = docs;
		a[i].base = s->ndocs;
		a[i].first = (size_t)i;
		a[i].step = (size_t)nt;
		a[i].n = n;
	}
	parallel(nt, add_work, a, sizeof(*a));
	s->ndocs += n;
}

/* Frees everything a document copy owns. */
static void
sdoc_release(struct sdoc *o)
{
	free(o->url);
	free(o->title);
	free(o->type);
	free(o->type_label);
	free(o->lang);
	free(o->date);
	free(o->id);
	free_list(o->controls, o->ncontrols);
	free_list(o->tags, o->ntags);
	free_list(o->anchors, o->nsections);
	free_list(o->headings, o->nsections);
	if (o->borrowed)
		free(o->texts);
	else
		free_list(o->texts, o->nsections);
	free(o->soff);
	free(o->slen);
	free(o->hstart);
	free(o->bstart);
	free(o->dt);
	buf_release(&o->terms);
	buf_release(&o->posts);
	buf_release(&o->pos);
}

/* Frees what a term table holds. */
static void
tpart_release(struct tpart *tp)
{
	size_t i;

	for (i = 0; i < tp->tcap; i++) {
		free(tp->terms[i].s);
		buf_release(&tp->terms[i].post);
		buf_release(&tp->terms[i].pos);
	}
	free(tp->terms);
	memset(tp, 0, sizeof(*tp));
}

/* Empties the term table. */
static void
free_terms(struct srch *s)
{
	int k;

	for (k = 0; k < MAX_THREADS; k++)
		tpart_release(&s->part[k]);
	s->nterms = 0;
}

void
srch_set_split(struct srch *s, size_t bytes)
{
	s->split = bytes;
}

void
srch_set_head(struct srch *s, size_t bytes)
{
	s->head = bytes;
}

void
srch_set_reuse(struct srch *s, int reuse)
{
	s->reuse = reuse;
}

void
srch_set_lean(struct srch *s, int lean)
{
	s->lean = lean;
}

void
srch_set_spill(struct srch *s, struct spill *sp)
{
	s->spill = sp;
}

void
srch_set_batch(struct srch *s, size_t docs)
{
	s->batch = docs;
}

void
srch_set_cache(struct srch *s, const char *dir, const unsigned char salt[32])
{
	free(s->cache);
	s->cache = dir ? xstrdup(dir) : NULL;
	if (salt)
		memcpy(s->salt, salt, sizeof(s->salt));
}

void
srch_set_writer(struct srch *s, srch_writer *fn, srch_keeper *keep, void *arg)
{
	s->writer = fn;
	s->keeper = keep;
	s->warg = arg;
}

void
srch_free(struct srch *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ndocs; i++)
		sdoc_release(&s->docs[i]);
	free(s->docs);
	free_terms(s);
	free(s->cache);
	free(s->old);
	free(s->recs);
	free(s);
}

void
srch_get_stats(const struct srch *s, struct srch_stats *st)
{
	*st = s->stats;
}

/* ------------------------------------------------------------ tokenizing */

/* Quantized body length (one byte, log scale), decoded by the runtime as
 * 2^(q/8) - 1. */
static unsigned
len_quant(unsigned len)
{
	double q = floor(8.0 * log2(1.0 + len) + 0.5);

	return q > 255 ? 255 : (unsigned)q;
}

/* 1 when s[0..len) (valid UTF-8) is two CJK code points: the only terms
 * with positions, since only phrase checks of CJK units need them. */
static int
cjk_bigram(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, n;
	long c;
	int cps = 0;

	while (i < len) {
		if (p[i] < 0x80)
			return 0;
		n = p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : 2;
		if (i + n > len)
			return 0;
		c = p[i] & (0x3f >> (n - 1));
		for (k = 1; k < n; k++)
			c = c << 6 | (p[i + k] & 0x3f);
		if (!tok_is_cjk(c) || ++cps > 2)
			return 0;
		i += n;
	}
	return cps == 2;
}

/* One occurrence: local term id, field, position. */
struct occ {
	unsigned	 lid;
	unsigned	 field;
	unsigned	 pos;
};

/* A distinct term of the document being tokenized. */
struct lterm {
	uint64_t	 h;
	const char	*s;	/* into one of the field lists */
	size_t		 len;
	unsigned	 n;	/* occurrences */
	int		 bigram;	/* cjk_bigram(): positions kept */
};

/* Per-thread scratch memory, reused from document to document so the
 * tokenizer does not allocate per token (no sorting either: terms are
 * grouped with a hash table and a counting sort). */
struct scratch {
	struct tok_list	 fl[NFIELDS];
	unsigned	*tab;		/* slot stamps (valid when == stamp) */
	unsigned	*tabid;
	size_t		 tcap;
	unsigned	 stamp;
	struct lterm	*lt;
	size_t		 nlt, ltcap;
	struct occ	*occ, *sorted;
	size_t		 nocc, occcap;
	size_t		*start;
	size_t		 startcap;
};

/* Frees what a scratch holds. */
static void
scratch_release(struct scratch *sc)
{
	size_t f;

	for (f = 0; f < NFIELDS; f++)
		tok_list_release(&sc->fl[f]);
	free(sc->tab);
	free(sc->tabid);
	free(sc->lt);
	free(sc->occ);
	free(sc->sorted);
	free(sc->start);
}

/* The local id of term s[0..len) with hash h, added when new. */
static unsigned
local_id(struct scratch *sc, const char *s, size_t len, uint64_t h)
{
	size_t i, mask = sc->tcap - 1;

	for (i = h & mask; sc->tab[i] == sc->stamp; i = (i + 1) & mask) {
		struct lterm *t = &sc->lt[sc->tabid[i]];

		if (t->h == h && t->len == len && memcmp(t->s, s, len) == 0)
			return sc->tabid[i];
	}
	if (sc->nlt == sc->ltcap) {
		sc->ltcap = sc->ltcap ? sc->ltcap * 2 : 1024;
		sc->lt = xreallocarray(sc->lt, sc->ltcap, sizeof(*sc->lt));
	}
	sc->tab[i] = sc->stamp;
	sc->tabid[i] = (unsigned)sc->nlt;
	sc->lt[sc->nlt].h = h;
	sc->lt[sc->nlt].s = s;
	sc->lt[sc->nlt].len = len;
	sc->lt[sc->nlt].n = 0;
	sc->lt[sc->nlt].bigram = cjk_bigram(s, len);
	return (unsigned)sc->nlt++;
}

/* Tokenizes one document into its term records (first-occurrence order),
 * the doc-level posting bytes per term (header and tf, everything after
 * the doc-id delta) and the position bytes per term. */
static void
tokenize_doc(struct sdoc *o, struct scratch *sc)
{
	struct tok_list *fl = sc->fl;
	size_t ntok = 0, i, j, k, f, need;
	unsigned tf[NFIELDS], mask;

	for (f = 0; f < NFIELDS; f++)
		tok_list_reset(&fl[f]);
	tok_text(&fl[F_TITLE], o->title, strlen(o->title));
	/* a search for a document's id finds the document (its title's
	 * field: the id is what names it) */
	if (o->id)
		tok_text(&fl[F_TITLE], o->id, strlen(o->id));
	for (i = 0; i < o->ncontrols; i++)
		tok_text(&fl[F_CONTROL], o->controls[i],
		    strlen(o->controls[i]));
	for (i = 0; i < o->ntags; i++)
		tok_text(&fl[F_TAG], o->tags[i], strlen(o->tags[i]));
	o->hstart = xcalloc(o->nsections + 1, sizeof(unsigned));
	o->bstart = xcalloc(o->nsections + 1, sizeof(unsigned));
	for (i = 0; i < o->nsections; i++) {
		o->hstart[i] = fl[F_HEADING].pos;
		tok_text(&fl[F_HEADING], o->headings[i],
		    strlen(o->headings[i]));
		o->bstart[i] = fl[F_BODY].pos;
		tok_text(&fl[F_BODY], o->texts[i], strlen(o->texts[i]));
	}
	o->blen = fl[F_BODY].pos;
	o->tlen = fl[F_TITLE].pos;
	for (f = 0; f < NFIELDS; f++)
		ntok += fl[f].n;
	/* hash table at most half full; stamps avoid clearing it per doc */
	for (need = 64; need < ntok * 2; need *= 2)
		;
	if (need > sc->tcap) {
		free(sc->tab);
		free(sc->tabid);
		sc->tcap = need;
		sc->tab = xcalloc(need, sizeof(*sc->tab));
		sc->tabid = xcalloc(need, sizeof(*sc->tabid));
		sc->stamp = 0;
	}
	if (++sc->stamp == 0) {
		memset(sc->tab, 0, sc->tcap * sizeof(*sc->tab));
		sc->stamp = 1;
	}
	if (ntok > sc->occcap) {
		sc->occcap = ntok;
		sc->occ = xreallocarray(sc->occ, ntok, sizeof(*sc->occ));
		sc->sorted = xreallocarray(sc->sorted, ntok,
		    sizeof(*sc->sorted));
	}
	sc->nlt = 0;
	sc->nocc = 0;
	for (f = 0; f < NFIELDS; f++)
		for (i = 0; i < fl[f].n; i++) {
			const char *t = tok_term(&fl[f], i);
			size_t len = fl[f].v[i].len;
			unsigned id = local_id(sc, t, len, term_hash(t, len));

			sc->lt[id].n++;
			sc->occ[sc->nocc].lid = id;
			sc->occ[sc->nocc].field = (unsigned)f;
			sc->occ[sc->nocc].pos = fl[f].v[i].pos;
			sc->nocc++;
		}
	/* counting sort by local id; stable, so each term's occurrences
	 * stay in field order and, within a field, in position order */
	if (sc->nlt + 1 > sc->startcap) {
		sc->startcap = sc->nlt + 1;
		sc->start = xreallocarray(sc->start, sc->startcap,
		    sizeof(*sc->start));
	}
	for (i = 0, k = 0; i < sc->nlt; i++) {
		sc->start[i] = k;
		k += sc->lt[i].n;
	}
	sc->start[sc->nlt] = k;
	for (i = 0; i < sc->nocc; i++)
		sc->sorted[sc->start[sc->occ[i].lid]++] = sc->occ[i];
	o->dt = xcalloc(sc->nlt ? sc->nlt : 1, sizeof(*o->dt));
	for (i = 0, j = 0; j < sc->nlt; j++) {
		struct occ *v = sc->sorted;
		size_t end = i + sc->lt[j].n;
		struct dterm *dt = &o->dt[o->nterms++];

		memset(tf, 0, sizeof(tf));
		mask = 0;
		for (k = i; k < end; k++) {
			tf[v[k].field]++;
			mask |= 1u << v[k].field;
		}
		dt->h = sc->lt[j].h;
		dt->toff = o->terms.len;
		dt->tlen = sc->lt[j].len;
		put_fast(&o->terms, sc->lt[j].s, sc->lt[j].len);
		/* header: one field with tf <= 16 packed in one number
		 * (tf-1)*5+field, else HDR_SINGLE+mask then tf per field */
		if ((mask & (mask - 1)) == 0 && tf[v[i].field] <= 16)
			put_varint(&o->posts, (tf[v[i].field] - 1) * NFIELDS +
			    v[i].field);
		else
			put_varint(&o->posts, HDR_SINGLE + mask);
		for (k = i, f = 0; f < NFIELDS; f++) {
			unsigned prev = 0;

			if (!tf[f])
				continue;
			if ((mask & (mask - 1)) != 0 || tf[f] > 16)
				put_varint(&o->posts, tf[f]);
			for (; k < end && v[k].field == f; k++) {
				if (HAS_POS(f) && sc->lt[j].bigram)
					put_varint(&o->pos, v[k].pos - prev);
				prev = v[k].pos;
			}
		}
		dt->pend = o->posts.len;
		dt->qend = o->pos.len;
		i = end;
	}
}

struct worker {
	struct srch	*s;
	size_t		 first, step, end;
};

/* Cuts each section text of o to the SECTION_CAP code points that
 * doc_payload can show (the index has the whole text already): a big
 * site's texts need not stay until the doc shards are written. */
static void
cut_texts(struct sdoc *o)
{
	size_t k, i, cps;

	if (o->borrowed)	/* the caller's: doc_payload caps them */
		return;
	for (k = 0; k < o->nsections; k++) {
		char *t = o->texts[k];

		for (i = 0, cps = 0; t[i] && cps < SECTION_CAP; cps++) {
			i++;
			while (((unsigned char)t[i] & 0xc0) == 0x80)
				i++;
		}
		if (t[i] == '\0')
			continue;
		t[i] = '\0';
		o->texts[k] = xrealloc(t, i + 1);
	}
}

/* Thread body: tokenizes docs first, first+step, ... below end. */
static void *
work(void *arg)
{
	struct worker *w = arg;
	struct scratch sc;
	size_t i;

	memset(&sc, 0, sizeof(sc));
	for (i = 0; i < NFIELDS; i++)
		tok_list_init(&sc.fl[i]);
	for (i = w->first; i < w->end; i += w->step) {
		tokenize_doc(&w->s->docs[i], &sc);
		if (w->s->lean)
			cut_texts(&w->s->docs[i]);
	}
	scratch_release(&sc);
	return NULL;
}

/* Documents per batch: a 16th of them within TOKEN_BATCH_MIN..TOKEN_BATCH,
 * so that a small site's edit tokenizes few documents again (a batch
 * comes from the cache only when none of its documents changed) and a
 * big site's batches hold little memory.  The index is the same for any
 * batch size. */
static size_t
auto_batch(size_t ndocs)
{
	size_t b = (ndocs + 15) / 16;

	return b < TOKEN_BATCH_MIN ? TOKEN_BATCH_MIN : b > TOKEN_BATCH ?
	    TOKEN_BATCH : b;
}

/* Threads to use: srch_set_threads or one per CPU, 1..MAX_THREADS and
 * at most one per document. */
static int
nthreads(const struct srch *s)
{
	int n = s->threads > 0 ? s->threads : util_ncpu();

	if (n > MAX_THREADS)
		n = MAX_THREADS;
	if (n < 1)
		n = 1;
	if ((size_t)n > s->ndocs)
		n = s->ndocs ? (int)s->ndocs : 1;
	return n;
}

/* Runs fn on documents [lo, hi) with up to MAX_THREADS threads, each
 * taking lo + its number, then every n-th. */
static void
on_docs(struct srch *s, size_t lo, size_t hi, void *(*fn)(void *))
{
	struct worker w[MAX_THREADS];
	int n = nthreads(s), i;

	if ((size_t)n > hi - lo)
		n = hi > lo ? (int)(hi - lo) : 1;
	for (i = 0; i < n; i++) {
		w[i].s = s;
		w[i].first = lo + (size_t)i;
		w[i].step = (size_t)n;
		w[i].end = hi;
	}
	parallel(n, fn, w, sizeof(*w));
}

/* Tokenizes documents [lo, hi). */
static void
tokenize_all(struct srch *s, size_t lo, size_t hi)
{
	on_docs(s, lo, hi, work);
}

/* --------------------------------------------------------------- merging */

/* The entry of partition tp for term t with hash h (created empty when
 * new); borrowed.  Entries keep their hash, so growing never rehashes
 * bytes. */
static struct term *
term_slot(struct tpart *tp, const char *t, size_t len, uint64_t h)
{
	size_t i, mask;

	if ((tp->nterms + 1) * 2 > tp->tcap) {
		struct term *old = tp->terms;
		size_t ocap = tp->tcap, k;

		tp->tcap = tp->tcap ? tp->tcap * 2 : 1024;
		tp->terms = xcalloc(tp->tcap, sizeof(*tp->terms));
		mask = tp->tcap - 1;
		for (k = 0; k < ocap; k++) {
			if (old[k].s == NULL)
				continue;
			for (i = old[k].h & mask; tp->terms[i].s;
			    i = (i + 1) & mask)
				;
			tp->terms[i] = old[k];
		}
		free(old);
	}
	mask = tp->tcap - 1;
	for (i = h & mask; tp->terms[i].s; i = (i + 1) & mask)
		if (tp->terms[i].h == h && tp->terms[i].len == len &&
		    memcmp(tp->terms[i].s, t, len) == 0)
			return &tp->terms[i];
	tp->terms[i].s = xstrndup(t, len);
	tp->terms[i].len = len;
	tp->terms[i].h = h;
	tp->terms[i].bigram = cjk_bigram(t, len);
	buf_init(&tp->terms[i].post);
	buf_init(&tp->terms[i].pos);
	tp->nterms++;
	return &tp->terms[i];
}

/* The sub-table of hash h in a batch part (high bits: the tables use the
 * low ones).  Partition k of n holds the terms of sub-tables j with
 * j % n == k, so a batch part merges into the partitions whole. */
static int
sub_of(uint64_t h)
{
	return (int)((h >> 40) % NSUB);
}

/* A batch part: the postings of documents [lo, hi) by sub-table, each
 * term's as merge would append them after a term whose last document id
 * is 0 (the first id delta is the id itself). */
struct bpart {
	size_t		 lo, hi;
	struct tpart	 sub[NSUB];
};

struct merger {
	struct srch	*s;
	struct bpart	*bp;
	int		 k, n;		/* sub-tables or partitions k, k+n, ... */
};

/* Thread body: fills the batch part's sub-tables j with j % n == k from
 * its documents' postings, in document order. */
static void *
part_work(void *arg)
{
	struct merger *m = arg;
	struct srch *s = m->s;
	size_t id, k, poff, qoff;
	struct sdoc *o;
	struct term *t;
	int j;

	for (id = m->bp->lo; id < m->bp->hi; id++) {
		o = &s->docs[id];
		for (k = 0, poff = 0, qoff = 0; k < o->nterms; k++) {
			struct dterm *dt = &o->dt[k];

			if ((j = sub_of(dt->h)) % m->n == m->k) {
				t = term_slot(&m->bp->sub[j], o->terms.ptr +
				    dt->toff, dt->tlen, dt->h);
				put_varint(&t->post, (unsigned long)id -
				    t->last);
				put_fast(&t->post, o->posts.ptr + poff,
				    dt->pend - poff);
				put_fast(&t->pos, o->pos.ptr + qoff,
				    dt->qend - qoff);
				t->last = (unsigned)id;
				t->df++;
			}
			poff = dt->pend;
			qoff = dt->qend;
		}
	}
	return NULL;
}

/* Thread body: appends the batch part's sub-tables of partition k to its
 * table (after the postings of the batches before), so each term's bytes
 * do not depend on the partitioning or the thread count. */
static void *
merge_work(void *arg)
{
	struct merger *m = arg;
	struct tpart *tp = &m->s->part[m->k];
	const unsigned char *p;
	size_t i;
	int j;

	for (j = m->k; j < NSUB; j += m->n) {
		struct tpart *sub = &m->bp->sub[j];

		for (i = 0; i < sub->tcap; i++) {
			struct term *b = &sub->terms[i], *t;

			if (b->s == NULL)
				continue;
			t = term_slot(tp, b->s, b->len, b->h);
			p = (const unsigned char *)b->post.ptr;
			put_varint(&t->post, get_varint(&p) - t->last);
			put_fast(&t->post, (const char *)p, b->post.len -
			    (size_t)(p - (const unsigned char *)b->post.ptr));
			put_fast(&t->pos, b->pos.ptr, b->pos.len);
			t->last = b->last;
			t->df += b->df;
		}
	}
	return NULL;
}

/* Runs fn on n mergers (k = 0..n-1) of batch part bp in threads. */
static void
run_mergers(struct srch *s, struct bpart *bp, int n, void *(*fn)(void *))
{
	struct merger m[MAX_THREADS];
	int i;

	for (i = 0; i < n; i++) {
		m[i].s = s;
		m[i].bp = bp;
		m[i].k = i;
		m[i].n = n;
	}
	parallel(n, fn, m, sizeof(*m));
}

/* Makes the batch part of documents [lo, hi) from their per-document
 * postings, then drops those. */
static void
make_part(struct srch *s, struct bpart *bp)
{
	size_t id;

	run_mergers(s, bp, nthreads(s), part_work);
	for (id = bp->lo; id < bp->hi; id++) {
		struct sdoc *o = &s->docs[id];

		buf_release(&o->terms);
		buf_release(&o->posts);
		buf_release(&o->pos);
		free(o->dt);
		o->dt = NULL;
		o->nterms = 0;
	}
}

/* Merges a batch part into the term tables (one partition per thread)
 * and frees it. */
static void
merge(struct srch *s, struct bpart *bp)
{
	int i;

	run_mergers(s, bp, s->nparts, merge_work);
	s->nterms = 0;
	for (i = 0; i < s->nparts; i++)
		s->nterms += s->part[i].nterms;
	for (i = 0; i < NSUB; i++)
		tpart_release(&bp->sub[i]);
}

/* ------------------------------------------------------ the batch cache */

/* With srch_set_cache, every batch part is kept in a file of the cache
 * directory, "b<batch>.bin": "TKSB2\n", the batch key (SHA-256 of the
 * salt, the batch's bounds and what the tokenizer reads of each of its
 * documents), the documents' lengths and section positions, the part's
 * terms with their postings, then the fsum (fsum.h) of everything
 * before.  A
 * batch whose key matches is not tokenized again; a file that does not
 * match, or is damaged, is a miss. */

/* The cache keys' encoding (batch keys, sections' sums, shard keys):
 * bytes after their length, so that no two sequences of pieces give the
 * same stream. */
static void
sum_bytes(struct sha256 *h, const void *p, size_t n)
{
	uint64_t len = n;

	sha256_update(h, &len, sizeof(len));
	if (n)
		sha256_update(h, p, n);
}

/* A string, NULL (a NULL date is printed as null) apart from "". */
static void
sum_str(struct sha256 *h, const char *str)
{
	uint64_t none = UINT64_MAX;

	if (str == NULL)
		sha256_update(h, &none, sizeof(none));
	else
		sum_bytes(h, str, strlen(str));
}

/* sum_str of what tok_sanitize makes of s; *valid = 0 when it changed
 * something. */
static void
sum_clean(struct sha256 *h, const char *s, int *valid)
{
	size_t n = strlen(s);
	struct buf c = BUF_INIT;

	if (tok_valid_len(s, n) == n) {
		sum_bytes(h, s, n);
		return;
	}
	*valid = 0;
	tok_sanitize(&c, s, n);
	sum_bytes(h, c.ptr, c.len);
	buf_release(&c);
}

void
srch_sections_sum(const struct srch_section *secs, size_t n,
    unsigned char sum[32], int *valid)
{
	struct sha256 h;
	uint64_t count = n;
	int ok = 1, dummy = 1;
	size_t k;

	sha256_init(&h);
	sha256_update(&h, &count, sizeof(count));
	for (k = 0; k < n; k++) {
		sum_clean(&h, secs[k].heading ? secs[k].heading : "", &dummy);
		sum_clean(&h, secs[k].text ? secs[k].text : "", &ok);
	}
	sha256_final(&h, sum);
	if (valid)
		*valid = ok;
}

/* The SHA-256 of what the tokenizer reads of o (its batch's cache key):
 * its title, controls and tags, and the sum of its sections (given, or
 * made here from the clean copies: the same as srch_sections_sum). */
static void
doc_sum(struct sdoc *o)
{
	struct sha256 h;
	uint64_t count = o->nsections;
	size_t j;

	if (!o->secsum_set) {
		sha256_init(&h);
		sha256_update(&h, &count, sizeof(count));
		for (j = 0; j < o->nsections; j++) {
			sum_str(&h, o->headings[j]);
			sum_str(&h, o->texts[j]);
		}
		sha256_final(&h, o->secsum);
		o->secsum_set = 1;
	}
	sha256_init(&h);
	sum_str(&h, o->title);
	sum_str(&h, o->id);
	sha256_update(&h, &o->ncontrols, sizeof(o->ncontrols));
	for (j = 0; j < o->ncontrols; j++)
		sum_str(&h, o->controls[j]);
	sha256_update(&h, &o->ntags, sizeof(o->ntags));
	for (j = 0; j < o->ntags; j++)
		sum_str(&h, o->tags[j]);
	sha256_update(&h, o->secsum, sizeof(o->secsum));
	sha256_final(&h, o->sum);
}

/* Thread body: the sums of documents first, first + step, ... below end. */
static void *
sum_work(void *arg)
{
	struct worker *w = arg;
	size_t i;

	for (i = w->first; i < w->end; i += w->step)
		if (w->s->docs[i].soff == NULL &&	/* else with its batch */
		    !w->s->docs[i].summed)
			doc_sum(&w->s->docs[i]);
	return NULL;
}

/* Reads the texts of the documents of a batch from the spill (and sums
 * them for the cache): docs first, first + step, ... below end. */
static void *
load_work(void *arg)
{
	struct worker *w = arg;
	struct srch *s = w->s;
	size_t i, k, first, total;
	uint64_t at;
	char *raw;
	int whole;

	for (i = w->first; i < w->end; i += w->step) {
		struct sdoc *o = &s->docs[i];

		if (o->soff == NULL)
			continue;
		/* the texts one after the other (as build.c writes them):
		 * read in one go */
		whole = 1;
		for (k = 0, first = SIZE_MAX, total = 0, at = 0;
		    k < o->nsections && whole; k++) {
			if (o->texts[k])
				continue;
			if (first == SIZE_MAX) {
				first = k;
				at = o->soff[k];
			}
			whole = o->soff[k] == at + total;
			total += o->slen[k];
		}
		raw = whole && first != SIZE_MAX ? spill_get(s->spill,
		    o->soff[first], total) : NULL;
		for (k = 0; k < o->nsections; k++) {
			char *one = NULL;

			if (o->texts[k])
				continue;
			if (raw == NULL && (one = spill_get(s->spill,
			    o->soff[k], o->slen[k])) == NULL)
				__atomic_store_n(&s->spill_err, errno ? errno :
				    EIO, __ATOMIC_RELAXED);
			o->texts[k] = raw ? dup_clean_n(raw + (o->soff[k] -
			    o->soff[first]), o->slen[k]) : dup_clean(one ? one :
			    "");
			free(one);
		}
		free(raw);
		free(o->soff);
		free(o->slen);
		o->soff = NULL;
		o->slen = NULL;
		if (s->cache && !o->summed)
			doc_sum(o);
	}
	return NULL;
}

/* load_work on the documents [lo, hi). */
static void
load_texts(struct srch *s, size_t lo, size_t hi)
{
	if (s->spill)
		on_docs(s, lo, hi, load_work);
}

/* The key of batch part bp (the documents' sums are made). */
static void
batch_key(const struct srch *s, const struct bpart *bp, unsigned char key[32])
{
	struct sha256 h;
	uint64_t v[3] = { FORMAT_VERSION, bp->lo, bp->hi };
	size_t i;

	sha256_init(&h);
	sha256_update(&h, s->salt, sizeof(s->salt));
	sha256_update(&h, "tebiki search batch 1", 21);
	sha256_update(&h, v, sizeof(v));
	for (i = bp->lo; i < bp->hi; i++)
		sha256_update(&h, s->docs[i].sum, sizeof(s->docs[i].sum));
	sha256_final(&h, key);
}

static char *
batch_path(const struct srch *s, size_t index, const char *suffix)
{
	return xasprintf("%s/b%zu.bin%s", s->cache, index, suffix);
}

/* Writes batch part bp, batch number `index`, to the cache (a failure
 * only costs speed next time). */
static void
cache_save(const struct srch *s, const struct bpart *bp, size_t index,
    const unsigned char key[32])
{
	struct buf b = BUF_INIT;
	unsigned char sum[FSUM_LEN];
	char *path;
	size_t i, k;
	int j;

	buf_put(&b, "TKSB2\n", 6);
	buf_put(&b, key, 32);
	put_varint(&b, bp->lo);
	put_varint(&b, bp->hi);
	for (i = bp->lo; i < bp->hi; i++) {
		const struct sdoc *o = &s->docs[i];

		put_varint(&b, o->blen);
		put_varint(&b, o->tlen);
		put_varint(&b, o->nsections);
		for (k = 0; k < o->nsections; k++) {
			put_varint(&b, o->hstart[k]);
			put_varint(&b, o->bstart[k]);
		}
	}
	for (j = 0; j < NSUB; j++) {
		const struct tpart *tp = &bp->sub[j];

		put_varint(&b, tp->nterms);
		for (k = 0; k < tp->tcap; k++) {
			const struct term *t = &tp->terms[k];

			if (t->s == NULL)
				continue;
			put_varint(&b, t->len);
			buf_put(&b, t->s, t->len);
			put_varint(&b, t->df);
			put_varint(&b, t->last);
			put_varint(&b, t->post.len);
			buf_put(&b, t->post.ptr, t->post.len);
			put_varint(&b, t->pos.len);
			buf_put(&b, t->pos.ptr, t->pos.len);
		}
	}
	fsum(b.ptr, b.len, sum);
	buf_put(&b, sum, FSUM_LEN);
	path = batch_path(s, index, "");
	(void)util_replace_file(path, b.ptr, b.len);
	free(path);
	buf_release(&b);
}

/* A bounded reader over a cache file. */
struct rd {
	const unsigned char	*p, *end;
	int			 bad;
};

static unsigned long
rd_varint(struct rd *r)
{
	unsigned long v = 0;
	int sh = 0;

	while (!r->bad) {
		if (r->p >= r->end || sh > 56) {
			r->bad = 1;
			break;
		}
		v |= (unsigned long)(*r->p & 0x7f) << sh;
		if (!(*r->p++ & 0x80))
			return v;
		sh += 7;
	}
	return 0;
}

static const char *
rd_bytes(struct rd *r, size_t n)
{
	const char *p = (const char *)r->p;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	return p;
}

/* Reads batch part bp (bounds set, tables empty) from the cache: 1 when
 * its file matches `key`, with the documents' lengths and positions set;
 * 0 (nothing changed) otherwise. */
static int
cache_load(struct srch *s, struct bpart *bp, size_t index,
    const unsigned char key[32])
{
	struct buf b = BUF_INIT;
	struct rd r;
	unsigned char sum[FSUM_LEN];
	unsigned *lens = NULL, **hs = NULL, **bs = NULL;
	size_t i, k, nd = bp->hi - bp->lo, cnt;
	char *path = batch_path(s, index, "");
	int j, ok = 0;

	if (util_read_file(path, &b) == -1 || b.len < 6 + 32 + FSUM_LEN)
		goto out;
	fsum(b.ptr, b.len - FSUM_LEN, sum);
	if (memcmp(b.ptr, "TKSB2\n", 6) != 0 ||
	    memcmp(b.ptr + 6, key, 32) != 0 ||
	    memcmp(b.ptr + b.len - FSUM_LEN, sum, FSUM_LEN) != 0)
		goto out;
	r.p = (const unsigned char *)b.ptr + 38;
	r.end = (const unsigned char *)b.ptr + b.len - FSUM_LEN;
	r.bad = 0;
	if (rd_varint(&r) != bp->lo || rd_varint(&r) != bp->hi)
		goto out;
	lens = xcalloc(2 * nd + 1, sizeof(*lens));
	hs = xcalloc(nd + 1, sizeof(*hs));
	bs = xcalloc(nd + 1, sizeof(*bs));
	for (i = 0; i < nd && !r.bad; i++) {
		const struct sdoc *o = &s->docs[bp->lo + i];

		lens[2 * i] = (unsigned)rd_varint(&r);
		lens[2 * i + 1] = (unsigned)rd_varint(&r);
		if (rd_varint(&r) != o->nsections) {
			r.bad = 1;
			break;
		}
		hs[i] = xcalloc(o->nsections + 1, sizeof(unsigned));
		bs[i] = xcalloc(o->nsections + 1, sizeof(unsigned));
		for (k = 0; k < o->nsections; k++) {
			hs[i][k] = (unsigned)rd_varint(&r);
			bs[i][k] = (unsigned)rd_varint(&r);
		}
	}
	for (j = 0; j < NSUB && !r.bad; j++) {
		cnt = rd_varint(&r);
		for (k = 0; k < cnt && !r.bad; k++) {
			const char *ts, *pp, *qp;
			size_t tl, pl, ql;
			unsigned long df, last;
			struct term *t;

			tl = rd_varint(&r);
			ts = rd_bytes(&r, tl);
			df = rd_varint(&r);
			last = rd_varint(&r);
			pl = rd_varint(&r);
			pp = rd_bytes(&r, pl);
			ql = rd_varint(&r);
			qp = rd_bytes(&r, ql);
			if (r.bad || tl == 0 || pl == 0 || df == 0 ||
			    sub_of(term_hash(ts, tl)) != j || memchr(ts, 0, tl)) {
				r.bad = 1;
				break;
			}
			t = term_slot(&bp->sub[j], ts, tl, term_hash(ts, tl));
			if (t->df) {		/* the same term twice */
				r.bad = 1;
				break;
			}
			t->df = (unsigned)df;
			t->last = (unsigned)last;
			buf_put(&t->post, pp, pl);
			buf_put(&t->pos, qp, ql);
		}
	}
	if (r.bad || r.p != r.end) {
		for (j = 0; j < NSUB; j++)
			tpart_release(&bp->sub[j]);
		goto out;
	}
	for (i = 0; i < nd; i++) {
		struct sdoc *o = &s->docs[bp->lo + i];

		free(o->hstart);
		free(o->bstart);
		o->blen = lens[2 * i];
		o->tlen = lens[2 * i + 1];
		o->hstart = hs[i];
		o->bstart = bs[i];
		hs[i] = bs[i] = NULL;
		if (s->lean)
			cut_texts(o);
	}
	ok = 1;
out:
	for (i = 0; hs && i < nd; i++) {
		free(hs[i]);
		free(bs[i]);
	}
	free(hs);
	free(bs);
	free(lens);
	free(path);
	buf_release(&b);
	return ok;
}

/* ---------------------------------------------------------------- writing */

/* Orders terms bytewise, i.e. by code point. */
static int
term_ptr_cmp(const void *a, const void *b)
{
	const struct term *x = *(const struct term *const *)a;
	const struct term *y = *(const struct term *const *)b;

	return strcmp(x->s, y->s);
}

/* Writes search/<dir>/<hash>.js holding the loader call for `dir` with
 * `payload` (a JSON array body without brackets); the name goes to name
 * ("t/0123456789") and the file size to *size.  Touches nothing shared, so
 * writer threads may call it.  Returns 0, or an errno value; then *failed
 * is the path (caller frees). */
static int
put_shard(const struct srch *s, const char *root, const char *dir,
    const struct buf *payload, char name[32], size_t *size, char hex[65],
    char **failed)
{
	struct buf out = BUF_INIT;
	char *path;
	int err = 0;

	snprintf(name, 32, "%s/%010llx", dir, (unsigned long long)
	    (fnv(payload->ptr, payload->len) & 0xffffffffffULL));
	buf_printf(&out, "(function(a){var H=window.HB=window.HB||{};"
	    "H.load?H.load(a):(H.q=H.q||[]).push(a)})([\"%s\",\"%s\",",
	    dir, name);
	buf_put(&out, payload->ptr, payload->len);
	buf_puts(&out, "]);\n");
	*size = out.len;
	if (s->writer) {
		sha256_hex(out.ptr, out.len, hex);
		path = xasprintf("search/%s.js", name);
		if (s->writer(s->warg, path, out.ptr, out.len, hex) == -1) {
			err = errno ? errno : EIO;
			*failed = path;
		} else {
			free(path);
		}
		buf_release(&out);
		return err;
	}
	path = xasprintf("%s/%s.js", root, name);
	if (util_write_file(path, out.ptr, out.len) == -1) {
		err = errno ? errno : EIO;
		*failed = path;
	} else {
		free(path);
	}
	buf_release(&out);
	return err;
}

/* Counts a written file of `size` bytes in the stats. */
static void
count_file(struct srch *s, size_t size)
{
	s->stats.files++;
	s->stats.bytes += size;
	if (size > s->stats.largest_shard)
		s->stats.largest_shard = size;
}

/* put_shard from the main thread: counts the file, reports a failure.
 * Returns 0 or -1. */
static int
write_shard(struct srch *s, const char *root, const char *dir,
    const struct buf *payload, char name[32], struct diag *d)
{
	char *failed = NULL, hex[65];
	size_t size;
	int err = put_shard(s, root, dir, payload, name, &size, hex, &failed);

	if (err) {
		diag_err(d, NULL, 0, 0, "cannot write '%s': %s", failed,
		    strerror(err));
		free(failed);
		return -1;
	}
	count_file(s, size);
	return 0;
}

/* Runs fn(arg + i * size) for i in 0..n-1, in n threads (fewer when some
 * cannot start: then the caller's thread does their share). */
static void
parallel(int n, void *(*fn)(void *), void *arg, size_t size)
{
	pthread_t tid[MAX_THREADS];
	int i, started = 0;

	for (i = 1; i < n; i++) {
		if (pthread_create(&tid[i], NULL, fn, (char *)arg + i * size)
		    != 0)
			break;
		started = i;
	}
	for (i = started + 1; i < n; i++)
		fn((char *)arg + i * size);
	fn(arg);
	for (i = 1; i <= started; i++)
		pthread_join(tid[i], NULL);
}

/* One shard for the writer threads: items [first, end) (terms or docs);
 * the writer fills in name, size, err and failed. */
struct job {
	size_t	 first, end;
	char	 name[32];
	size_t	 size;
	int	 err;
	char	*failed;
	char	 hex[65];	/* with the shard cache: */
	unsigned char key[32];	/* job_key() */
	int	 keyed;		/* key made */
	int	 kept;		/* the caller kept the last write's file */
};

struct writer {
	struct srch	*s;
	const char	*root;
	int		 kind;		/* 0 "t", 1 "p", 2 "d", 3 "r" */
	struct term	**v;		/* kinds 0, 1 and 3 */
	struct job	*job;
	size_t		 njob;
	int		 k, n;		/* this writer does jobs k, k+n, ... */
};

static void	term_payload(struct term **, size_t, size_t, int, struct buf *);
static void	doc_payload(const struct srch *, size_t, size_t, struct buf *);

/* ------------------------------------------------------- the shard cache */

/*
 * With a cache directory and a keeper (srch_set_writer), every file a job
 * makes is recorded under a key of everything its content is made from:
 * the salt, the kind, and per term its bytes, df, flags, postings and
 * positions (and a split term's bound, whole df and tie id), or per
 * document its tokenizer sum, strings, anchors and section positions.
 * The next write asks the keeper about a job whose key it finds: when the
 * caller still has that file (the ledger: same SHA-256 and size in the
 * work directory), the job's payload is not built, named or hashed.
 */

/* The key of job jb of `kind` (0 t, 1 p, 2 d, 3 r; terms v). */
static void
job_key(const struct srch *s, int kind, struct term **v, const struct job *jb,
    unsigned char key[32])
{
	struct sha256 h;
	uint64_t head[3] = { FORMAT_VERSION, (uint64_t)kind,
	    jb->end - jb->first };
	size_t i, k;

	sha256_init(&h);
	sha256_update(&h, s->salt, sizeof(s->salt));
	sha256_update(&h, "tebiki search shard 1", 21);
	sha256_update(&h, head, sizeof(head));
	for (i = jb->first; i < jb->end; i++) {
		if (kind == 2) {
			const struct sdoc *o = &s->docs[i];
			uint64_t n = o->nsections;

			sha256_update(&h, o->sum, sizeof(o->sum));
			sum_str(&h, o->url);
			sum_str(&h, o->type);
			sum_str(&h, o->type_label);
			sum_str(&h, o->lang);
			sum_str(&h, o->date);
			sha256_update(&h, &n, sizeof(n));
			for (k = 0; k < o->nsections; k++) {
				unsigned pos[2] = { o->hstart[k], o->bstart[k] };

				sum_str(&h, o->anchors[k]);
				sha256_update(&h, pos, sizeof(pos));
			}
		} else {
			const struct term *t = v[i];
			uint64_t f[4] = { t->df, (uint64_t)t->sep,
			    (uint64_t)t->bigram, t->tail != NULL };

			sum_bytes(&h, t->s, t->len);
			sha256_update(&h, f, sizeof(f));
			if (t->tail) {
				uint64_t g[2] = { t->df_full, t->tie_id };

				sha256_update(&h, &t->bound, sizeof(t->bound));
				sha256_update(&h, g, sizeof(g));
			}
			sum_bytes(&h, t->post.ptr, t->post.len);
			sum_bytes(&h, t->pos.ptr, t->pos.len);
		}
	}
	sha256_final(&h, key);
}

static int
rec_cmp(const void *a, const void *b)
{
	return memcmp(((const struct srec *)a)->key,
	    ((const struct srec *)b)->key, 32);
}

/* The last write's record of key, or NULL. */
static const struct srec *
find_rec(const struct srch *s, const unsigned char key[32])
{
	struct srec probe;

	if (s->nold == 0)
		return NULL;
	memcpy(probe.key, key, 32);
	return bsearch(&probe, s->old, s->nold, sizeof(*s->old), rec_cmp);
}

/* Records the file job jb made or kept (main thread). */
static void
add_rec(struct srch *s, const struct job *jb)
{
	struct srec *r;

	if (s->nrecs == s->rcap) {
		s->rcap = s->rcap ? s->rcap * 2 : 256;
		s->recs = xreallocarray(s->recs, s->rcap, sizeof(*s->recs));
	}
	r = &s->recs[s->nrecs++];
	memset(r, 0, sizeof(*r));
	memcpy(r->key, jb->key, 32);
	snprintf(r->name, sizeof(r->name), "%s", jb->name);
	r->size = jb->size;
	memcpy(r->hex, jb->hex, 65);
}

#define REC_MAGIC	"tebiki-shards 2\n"
#define REC_BYTES	(32 + 32 + 8 + 64)

/* 1 when name is one the jobs make: a kind, '/', 10 lowercase hex. */
static int
rec_name_ok(const char *name)
{
	size_t i;

	if (strchr("tpdr", name[0]) == NULL || name[0] == '\0' ||
	    name[1] != '/')
		return 0;
	for (i = 2; i < 12; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return name[12] == '\0';
}

/* Reads the last write's records from the cache (none when the file is
 * missing, damaged or of another format: every job is then made). */
static void
load_recs(struct srch *s)
{
	char *path = xasprintf("%s/shards.bin", s->cache);
	struct buf f = BUF_INIT;
	unsigned char sum[FSUM_LEN];
	const unsigned char *p;
	size_t magic = sizeof(REC_MAGIC) - 1, n, i, k;
	uint64_t count;

	s->nold = 0;
	if (util_read_file(path, &f) == -1 ||
	    f.len < magic + 8 + FSUM_LEN ||
	    memcmp(f.ptr, REC_MAGIC, magic) != 0)
		goto out;
	memcpy(&count, f.ptr + magic, 8);
	if (count > (f.len - magic - 8 - FSUM_LEN) / REC_BYTES ||
	    f.len != magic + 8 + count * REC_BYTES + FSUM_LEN)
		goto out;
	fsum(f.ptr, f.len - FSUM_LEN, sum);
	if (memcmp(sum, f.ptr + f.len - FSUM_LEN, FSUM_LEN) != 0)
		goto out;
	n = (size_t)count;
	s->old = xcalloc(n ? n : 1, sizeof(*s->old));
	p = (const unsigned char *)f.ptr + magic + 8;
	for (i = 0; i < n; i++, p += REC_BYTES) {
		struct srec *r = &s->old[s->nold];

		memcpy(r->key, p, 32);
		memcpy(r->name, p + 32, 32);
		memcpy(&r->size, p + 64, 8);
		memcpy(r->hex, p + 72, 64);
		r->hex[64] = '\0';
		if (r->name[31] != '\0' || !rec_name_ok(r->name))
			continue;
		for (k = 0; k < 64; k++)
			if (!((r->hex[k] >= '0' && r->hex[k] <= '9') ||
			    (r->hex[k] >= 'a' && r->hex[k] <= 'f')))
				break;
		if (k == 64)
			s->nold++;
	}
	if (s->nold > 1)
		qsort(s->old, s->nold, sizeof(*s->old), rec_cmp);
out:
	buf_release(&f);
	free(path);
}

/* Writes this write's records for the next one (a failure only costs
 * speed next time). */
static void
save_recs(const struct srch *s)
{
	char *path = xasprintf("%s/shards.bin", s->cache);
	struct buf b = BUF_INIT;
	unsigned char sum[FSUM_LEN];
	uint64_t count = s->nrecs;
	size_t i;

	buf_puts(&b, REC_MAGIC);
	buf_put(&b, &count, 8);
	for (i = 0; i < s->nrecs; i++) {
		const struct srec *r = &s->recs[i];

		buf_put(&b, r->key, 32);
		buf_put(&b, r->name, 32);
		buf_put(&b, &r->size, 8);
		buf_put(&b, r->hex, 64);
	}
	fsum(b.ptr, b.len, sum);
	buf_put(&b, sum, FSUM_LEN);
	/* through a file of this process's own: `tebiki serve` and `tebiki
	 * build` may write the same site's cache at once */
	(void)util_replace_file(path, b.ptr, b.len);
	buf_release(&b);
	free(path);
}

/* ------------------------------------------------------------- the writers */

/* 1 when the caller keeps the file of record r as it is. */
static int
keep_file(const struct srch *s, const struct srec *r)
{
	char *path = xasprintf("search/%s.js", r->name);
	int kept = s->keeper(s->warg, path, r->hex, (size_t)r->size) == 1;

	free(path);
	return kept;
}

/* Thread body: builds and writes jobs k, k+n, ...; with the shard cache, a
 * job whose key the last write had is not built when the caller still has
 * its file. */
static void *
write_jobs(void *arg)
{
	struct writer *w = arg;
	struct buf payload = BUF_INIT;
	static const char *const dir[] = { "t", "p", "d", "r" };
	const struct srec *r;
	size_t j;

	for (j = (size_t)w->k; j < w->njob; j += (size_t)w->n) {
		struct job *jb = &w->job[j];

		if (w->s->keeper && w->s->cache) {
			job_key(w->s, w->kind, w->v, jb, jb->key);
			jb->keyed = 1;
			r = find_rec(w->s, jb->key);
			if (r && keep_file(w->s, r)) {
				memcpy(jb->name, r->name, sizeof(jb->name));
				memcpy(jb->hex, r->hex, sizeof(jb->hex));
				jb->size = (size_t)r->size;
				jb->kept = 1;
				continue;
			}
		}
		buf_reset(&payload);
		if (w->kind == 2)
			doc_payload(w->s, jb->first, jb->end, &payload);
		else
			term_payload(w->v, jb->first, jb->end, w->kind == 1,
			    &payload);
		jb->err = put_shard(w->s, w->root, dir[w->kind], &payload,
		    jb->name, &jb->size, jb->hex, &jb->failed);
	}
	buf_release(&payload);
	return NULL;
}

/* Writes the jobs in parallel, then counts them in order; reports the
 * first failure.  Returns 0 or -1. */
static int
run_jobs(struct srch *s, const char *root, int kind, struct term **v,
    struct job *job, size_t njob, struct diag *d)
{
	struct writer w[MAX_THREADS];
	int n = nthreads(s), i, rc = 0;
	size_t j;

	if ((size_t)n > njob)
		n = njob ? (int)njob : 1;
	for (i = 0; i < n; i++) {
		w[i].s = s;
		w[i].root = root;
		w[i].kind = kind;
		w[i].v = v;
		w[i].job = job;
		w[i].njob = njob;
		w[i].k = i;
		w[i].n = n;
	}
	parallel(n, write_jobs, w, sizeof(*w));
	for (j = 0; j < njob; j++) {
		if (job[j].err && rc == 0) {
			diag_err(d, NULL, 0, 0, "cannot write '%s': %s",
			    job[j].failed, strerror(job[j].err));
			rc = -1;
		} else if (!job[j].err) {
			count_file(s, job[j].size);
			s->stats.files_kept += job[j].kept;
			if (job[j].keyed)
				add_rec(s, &job[j]);
		}
		free(job[j].failed);
		job[j].failed = NULL;
	}
	return rc;
}

/* Length of the varint at p. */
static size_t
varint_len(const unsigned char *p)
{
	size_t n = 1;

	while (*p++ & 0x80)
		n++;
	return n;
}

/* Reads the varint at *p and advances *p past it. */
static unsigned long
get_varint(const unsigned char **p)
{
	unsigned long v = 0;
	int sh = 0;

	while (**p & 0x80) {
		v |= (unsigned long)(*(*p)++ & 0x7f) << sh;
		sh += 7;
	}
	v |= (unsigned long)*(*p)++ << sh;
	return v;
}

/* Reads the posting header at *p: returns the field mask; *single is the
 * tf of the one field when the header holds it, else 0. */
static unsigned long
get_header(const unsigned char **p, unsigned long *single)
{
	unsigned long h = get_varint(p);

	if (h < HDR_SINGLE) {
		*single = h / NFIELDS + 1;
		return 1ul << (h % NFIELDS);
	}
	*single = 0;
	return h - HDR_SINGLE;
}

/* Appends the blob of term t for shard kind `pos`: for a term shard
 * (pos 0) varint(df * 2 + sep), then per doc the id delta, header and tf
 * and, unless sep, the doc's positions in place (the format 1 layout); for
 * a position shard (pos 1) only the positions. */
static void
make_blob(const struct term *t, int pos, struct buf *out)
{
	const unsigned char *p, *end, *q;
	unsigned long mask, tf, single, k;
	unsigned f;

	if (pos) {
		buf_put(out, t->pos.ptr, t->pos.len);
		return;
	}
	put_varint(out, (unsigned long)t->df * 2 + (t->sep != 0));
	if (t->sep) {
		buf_put(out, t->post.ptr, t->post.len);
		return;
	}
	p = (const unsigned char *)t->post.ptr;
	end = p + t->post.len;
	q = (const unsigned char *)t->pos.ptr;
	while (p < end) {
		const unsigned char *from = p;

		get_varint(&p);		/* id delta */
		mask = get_header(&p, &single);
		buf_put(out, (const char *)from, (size_t)(p - from));
		for (f = 0; f < NFIELDS; f++) {
			if (!(mask & (1ul << f)))
				continue;
			if (single) {
				tf = single;
			} else {
				from = p;
				tf = get_varint(&p);
				buf_put(out, (const char *)from, (size_t)(p - from));
			}
			if (!HAS_POS(f) || !t->bigram)
				continue;
			for (k = 0; k < tf; k++) {
				size_t n = varint_len(q);

				buf_put(out, (const char *)q, n);
				q += n;
			}
		}
	}
}

/* Encoded size of a term's blob in shard kind `pos` (see make_blob);
 * `full`: as if its positions were in place. */
static size_t
blob_size(const struct term *t, int pos, int full)
{
	struct buf df = BUF_INIT;
	size_t n;

	if (pos)
		return t->enc_pos;
	put_varint(&df, (unsigned long)t->df * 2 + (t->sep != 0));
	n = bytes_len(df.ptr, df.len) + t->enc_post;
	if (full || !t->sep)
		n += t->enc_pos;
	if (t->tail)
		n += 40;	/* [blob, bound, df, tie id] */
	buf_release(&df);
	return n;
}

/* Number of shards the packing rule gives with target T: a term of
 * T bytes or more gets a shard of its own; other terms fill a shard until
 * it reaches T. */
static size_t
plan(const size_t *size, size_t n, size_t T)
{
	size_t i, count = 0, cur = 0;

	for (i = 0; i < n; i++) {
		if (size[i] >= T) {
			count += 1 + (cur > 0);
			cur = 0;
		} else if ((cur += size[i]) >= T) {
			count++;
			cur = 0;
		}
	}
	return count + (cur > 0);
}

/* The payload of the shard of kind `pos` (0: "t", 1: "p") holding terms
 * v[first..end). */
static void
term_payload(struct term **v, size_t first, size_t end, int pos,
    struct buf *payload)
{
	struct buf blob = BUF_INIT;
	size_t i;

	buf_putc(payload, '[');
	for (i = first; i < end; i++) {
		buf_puts(payload, i > first ? "," : "");
		json_str(payload, v[i]->s);
	}
	buf_puts(payload, "],[");
	for (i = first; i < end; i++) {
		buf_reset(&blob);
		make_blob(v[i], pos, &blob);
		buf_puts(payload, i > first ? "," : "");
		/* a split term's head: [blob, bound of the tail, whole df,
		 * lowest id of a tail doc tied with the bound] */
		buf_puts(payload, v[i]->tail && !pos ? "[\"" : "\"");
		put_bytes(payload, (const unsigned char *)blob.ptr, blob.len);
		buf_putc(payload, '"');
		if (v[i]->tail && !pos)
			buf_printf(payload, ",%.17g,%u,%u]", v[i]->bound,
			    v[i]->df_full, v[i]->tie_id);
	}
	buf_putc(payload, ']');
	buf_release(&blob);
}

/* Appends job [first, end) to *job (*njob used, *cap allocated). */
static void
add_job(struct job **job, size_t *njob, size_t *cap, size_t first,
    size_t end)
{
	if (*njob == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*job = xreallocarray(*job, *cap, sizeof(**job));
	}
	memset(&(*job)[*njob], 0, sizeof(**job));
	(*job)[*njob].first = first;
	(*job)[(*njob)++].end = end;
}

/* The smallest target size (at least min) whose packing of size[0..n)
 * takes at most max shards. */
static size_t
fit_target(const size_t *size, size_t n, size_t max, size_t min)
{
	size_t lo = min, hi = 0, i;

	if (plan(size, n, min) <= max)
		return min;
	for (i = 0; i < n; i++)
		hi += size[i];
	hi++;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (plan(size, n, mid) <= max)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The number of term shards (kind 0) write_kind() will write for v. */
static size_t
count_shards(struct term **v, size_t n, size_t max, size_t min)
{
	size_t *size = xcalloc(n ? n : 1, sizeof(*size)), i, k;

	for (i = 0; i < n; i++)
		size[i] = blob_size(v[i], 0, 0);
	k = plan(size, n, fit_target(size, n, max, min));
	free(size);
	return k;
}

/* Shards of `kind` (0: term shards, 1: positions, only for terms that
 * have them separate, 3: tails) over the n terms v in code-point order; appends
 * [first-term,name] pairs to man.  The target size is the smallest (at
 * least min) that keeps the shard count within max.  Returns 0 or -1. */
static int
write_kind(struct srch *s, const char *root, int kind, struct term **all,
    size_t nall, size_t max, size_t min, struct buf *man, size_t *count,
    struct diag *d)
{
	int pos = kind == 1;
	struct term **v = xcalloc(nall ? nall : 1, sizeof(*v));
	size_t *size = xcalloc(nall ? nall : 1, sizeof(*size));
	size_t n = 0, i, first = 0, cur = 0, T;
	struct job *job = NULL;
	size_t njob = 0, cap = 0;
	int rc = -1;

	for (i = 0; i < nall; i++)
		if (!pos || all[i]->sep)
			v[n++] = all[i];
	for (i = 0; i < n; i++)
		size[i] = blob_size(v[i], pos, 0);
	T = fit_target(size, n, max, min);
	if (kind == 0)
		s->shard_target = T;
	for (i = 0; i < n; i++) {
		if (size[i] >= T) {
			if (cur > 0)
				add_job(&job, &njob, &cap, first, i);
			add_job(&job, &njob, &cap, i, i + 1);
			first = i + 1;
			cur = 0;
		} else if ((cur += size[i]) >= T) {
			add_job(&job, &njob, &cap, first, i + 1);
			first = i + 1;
			cur = 0;
		}
	}
	if (cur > 0)
		add_job(&job, &njob, &cap, first, n);
	if (run_jobs(s, root, kind, v, job, njob, d) == -1)
		goto out;
	/* manifest entries [first term, name] in order */
	for (i = 0; i < njob; i++) {
		buf_puts(man, *count ? ",[" : "[");
		json_str(man, v[job[i].first]->s);
		buf_printf(man, ",\"%s\"]", job[i].name + 2);
		(*count)++;
	}
	rc = 0;
out:
	free(v);
	free(size);
	free(job);
	return rc;
}

struct bigterm {
	size_t	 size;
	size_t	 idx;
};

/* Orders terms by size, largest first, then by index. */
static int
bigterm_cmp(const void *a, const void *b)
{
	const struct bigterm *x = a, *y = b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The mean body length in positions, as the manifest prints it (and so
 * as the runtime reads it). */
static void
mean_body(const struct srch *s, char out[32])
{
	unsigned long long total = 0;
	size_t i;

	for (i = 0; i < s->ndocs; i++)
		total += s->docs[i].blen;
	snprintf(out, 32, "%.3f", s->ndocs ? (double)total /
	    (double)s->ndocs : 0.0);
}

/* What the runtime's score() needs to weigh a posting (search.js). */
struct scorer {
	unsigned char	*bq;	/* quantized body length per doc */
	unsigned char	*tl;	/* title length per doc, capped at 255 */
	double		 avg;	/* mean body length, as the manifest prints it */
	double		 tavg;	/* mean title length (1 when 0) */
	/* the length norms impact() uses, per quantized body length and
	 * per title length: the same expressions, made once (make_scorer) */
	double		 bnorm[256], tnorm[256];
};

/* 2^(q/8) - 1, the body length a quantized one stands for, computed
 * exactly as search.js does (no pow(): libm and JS engines may round it
 * differently): the same literals, times an exact power of two. */
static double
len_of(unsigned q)
{
	static const double fr[8] = { 1.0, 1.0905077326652577,
	    1.189207115002721, 1.2968395546510096, 1.4142135623730951,
	    1.5422108254079407, 1.681792830507429, 1.8340080864093424 };

	return ldexp(fr[q & 7], (int)(q >> 3)) - 1.0;
}

/* The impact of a posting with these tf: score() of search.js without
 * idf, in the same operation order, so both give the same double (the
 * Makefile keeps the compiler from fusing multiply-adds). */
static double
impact(const struct scorer *sc, unsigned id, const unsigned long tf[NFIELDS])
{
	double s = 0, norm, x;
	int f;

	for (f = 0; f < NFIELDS; f++) {
		if (!tf[f])
			continue;
		if (f == F_BODY)
			norm = sc->bnorm[sc->bq[id]];
		else if (f == F_TITLE)
			norm = sc->tnorm[sc->tl[id]];
		else
			norm = 1;
		x = (double)tf[f];
		s += field_weight[f] * x * (BM25_K1 + 1) / (x + BM25_K1 * norm);
	}
	return s;
}

/* One posting of a term being split: its doc, the bytes after the id
 * delta in post [p0, p1) and its positions [q0, q1), its impact. */
struct hent {
	unsigned	 id;
	size_t		 p0, p1, q0, q1;
	double		 imp;
	int		 head;
};

/* 1 when posting a ranks before b: higher impact, then lower doc id. */
static inline int
hent_before(const struct hent *a, const struct hent *b)
{
	return a->imp > b->imp || (a->imp == b->imp && a->id < b->id);
}

/* Orders postings by impact, highest first, then by doc id. */
static int
hent_cmp(const void *a, const void *b)
{
	const struct hent *x = *(const struct hent *const *)a;
	const struct hent *y = *(const struct hent *const *)b;

	return hent_before(x, y) ? -1 : hent_before(y, x);
}

/* Moves the k postings that rank first (hent_before) to v[0..k), in no
 * particular order: a heap of the k best so far, its worst at the root. */
static void
top_k(struct hent **v, size_t n, size_t k)
{
	struct hent *x, *tmp;
	size_t i, p, c;

	for (i = 1; i < k; i++) {		/* heap of v[0..k) */
		for (c = i; c > 0 && hent_before(v[(c - 1) / 2], v[c]);
		    c = (c - 1) / 2) {
			tmp = v[c];
			v[c] = v[(c - 1) / 2];
			v[(c - 1) / 2] = tmp;
		}
	}
	for (i = k; i < n; i++) {
		if (!hent_before(v[i], v[0]))
			continue;
		x = v[i];
		v[i] = v[0];
		for (p = 0; (c = 2 * p + 1) < k; p = c) {
			if (c + 1 < k && hent_before(v[c], v[c + 1]))
				c++;
			if (!hent_before(x, v[c]))
				break;
			v[p] = v[c];
		}
		v[p] = x;
	}
}

/* Splits term t when its postings take at least twice `budget` raw bytes:
 * the docs of highest impact (at least HEAD_MIN, then while they fit in
 * budget) stay in t, the others move to *tail, both in doc order.  The
 * runtime ranks the head's docs first and needs the tail only when the
 * tail's best impact (t->bound) could still reach its top results. */
static void
split_term(const struct scorer *sc, struct term *t, struct term *tail,
    size_t budget)
{
	const unsigned char *base = (const unsigned char *)t->post.ptr;
	const unsigned char *qbase = (const unsigned char *)t->pos.ptr;
	const unsigned char *p = base, *end = base + t->post.len, *q = qbase;
	struct hent *e, **order;
	struct buf hp = BUF_INIT, hq = BUF_INIT;
	unsigned long mask, single, tf[NFIELDS], j;
	unsigned id = 0, lh = 0, lt = 0, nhead = 0, tid;
	double best = 0;
	size_t i, k, n = 0, bytes = 0;
	unsigned f;

	if (budget > SIZE_MAX / 2 || t->post.len + t->pos.len < 2 * budget ||
	    t->df <= HEAD_MIN)
		return;
	e = xcalloc(t->df, sizeof(*e));
	order = xcalloc(t->df, sizeof(*order));
	while (p < end && n < t->df) {
		id += (unsigned)get_varint(&p);
		e[n].id = id;
		e[n].p0 = (size_t)(p - base);
		e[n].q0 = (size_t)(q - qbase);
		mask = get_header(&p, &single);
		for (f = 0; f < NFIELDS; f++) {
			tf[f] = 0;
			if (!(mask & (1ul << f)))
				continue;
			tf[f] = single ? single : get_varint(&p);
			if (HAS_POS(f) && t->bigram)
				for (j = 0; j < tf[f]; j++)
					q += varint_len(q);
		}
		e[n].p1 = (size_t)(p - base);
		e[n].q1 = (size_t)(q - qbase);
		e[n].imp = impact(sc, id, tf);
		order[n] = &e[n];
		n++;
	}
	/* every posting costs 3 bytes at least, so the head and the best of
	 * the tail are among the first k: only those need sorting */
	k = HEAD_MIN + budget / 3 + 2;
	if (k >= n)
		k = n;
	else
		top_k(order, n, k);
	qsort(order, k, sizeof(*order), hent_cmp);
	for (i = 0; i < k; i++) {
		size_t cost = order[i]->p1 - order[i]->p0 + order[i]->q1 -
		    order[i]->q0 + 2;

		if (i >= HEAD_MIN && bytes + cost > budget)
			break;
		bytes += cost;
		order[i]->head = 1;
		nhead++;
	}
	if (nhead == n) {	/* everything fits: no tail */
		free(e);
		free(order);
		return;
	}
	best = order[nhead]->imp;	/* nhead < k: see top_k above */
	/* the lowest doc id among tail docs whose score can tie with the
	 * bound's (impacts within rounding of it): the runtime breaks score
	 * ties by doc id */
	tid = UINT_MAX;
	for (i = nhead; i < n; i++)
		if (order[i]->imp >= best * (1 - 1e-12) && order[i]->id < tid)
			tid = order[i]->id;
	memset(tail, 0, sizeof(*tail));
	tail->s = t->s;
	tail->len = t->len;
	tail->h = t->h;
	tail->bigram = t->bigram;
	for (i = 0; i < n; i++) {
		struct buf *bp = e[i].head ? &hp : &tail->post;
		struct buf *bq = e[i].head ? &hq : &tail->pos;
		unsigned *last = e[i].head ? &lh : &lt;

		put_varint(bp, e[i].id - *last);
		*last = e[i].id;
		buf_put(bp, (const char *)base + e[i].p0, e[i].p1 - e[i].p0);
		buf_put(bq, (const char *)qbase + e[i].q0, e[i].q1 - e[i].q0);
	}
	tail->df = (unsigned)(n - nhead);
	t->df_full = t->df;
	t->df = nhead;
	t->tail = tail;
	t->bound = best;
	t->tie_id = tid;
	buf_release(&t->post);
	buf_release(&t->pos);
	t->post = hp;
	t->pos = hq;
	free(e);
	free(order);
}

struct splitter {
	const struct scorer	*sc;
	struct term		**v;
	struct term		*tails;
	size_t			 n, budget;
	int			 k, step;	/* terms k, k+step, ... */
};

/* Thread body: splits its share of the terms. */
static void *
split_work(void *arg)
{
	struct splitter *w = arg;
	size_t i;

	for (i = (size_t)w->k; i < w->n; i += (size_t)w->step) {
		w->v[i]->tail = NULL;
		split_term(w->sc, w->v[i], &w->tails[i], w->budget);
	}
	return NULL;
}

/* split_term() on v[0..n) (tails[i] for v[i]) in worker threads; each
 * term is split on its own, so the result is the same for any count. */
static void
split_all(const struct srch *s, const struct scorer *sc, struct term **v,
    struct term *tails, size_t n, size_t budget)
{
	struct splitter w[MAX_THREADS];
	int t = nthreads(s), i;

	w[0] = (struct splitter){ sc, v, tails, n, budget, 0, t };
	for (i = 1; i < t; i++) {
		w[i] = w[0];
		w[i].k = i;
	}
	parallel(t, split_work, w, sizeof(*w));
}

/* The scorer of s's documents; free sc->bq and sc->tl. */
static void
make_scorer(const struct srch *s, struct scorer *sc)
{
	unsigned long long tsum = 0;
	char avg[32];
	size_t i;

	sc->bq = xcalloc(s->ndocs ? s->ndocs : 1, 1);
	sc->tl = xcalloc(s->ndocs ? s->ndocs : 1, 1);
	for (i = 0; i < s->ndocs; i++) {
		sc->bq[i] = (unsigned char)len_quant(s->docs[i].blen);
		sc->tl[i] = (unsigned char)(s->docs[i].tlen > 255 ? 255 :
		    s->docs[i].tlen);
		tsum += sc->tl[i];
	}
	mean_body(s, avg);
	sc->avg = strtod(avg, NULL);
	sc->tavg = s->ndocs ? (double)tsum / (double)s->ndocs : 0;
	if (sc->tavg == 0)
		sc->tavg = 1;
	/* as search.js's score() computes them, operation by operation */
	for (i = 0; i < 256; i++) {
		sc->bnorm[i] = 1 - BM25_B + BM25_B * len_of((unsigned)i) /
		    (sc->avg ? sc->avg : 1);
		sc->tnorm[i] = 1 - BM25_B + BM25_B * (i ? (double)i :
		    sc->tavg) / sc->tavg;
	}
}

/* Term shards, tail shards and position shards, all in code-point order;
 * their manifest entries go to tman, rman and pman.  Large terms are split
 * (split_term): the head stays in the term shard, the tail goes to an r/
 * shard.  The largest lists left (tails or whole terms, at least SEP_MIN,
 * at most MAX_SEP of them) keep only doc-level postings and put their
 * positions in a p/ file, so a query that needs no positions does not
 * load them.  Term shards get what is left of the file budget.  Returns 0
 * or -1. */
static int
write_terms(struct srch *s, const char *root, struct buf *tman,
    struct buf *rman, struct buf *pman, struct diag *d)
{
	struct term **v = xcalloc(s->nterms ? s->nterms : 1, sizeof(*v));
	struct term **c = xcalloc(s->nterms ? s->nterms : 1, sizeof(*c));
	struct term **r = xcalloc(s->nterms ? s->nterms : 1, sizeof(*r));
	struct term *tails = xcalloc(s->nterms ? s->nterms : 1, sizeof(*tails));
	struct bigterm *big = xcalloc(s->nterms ? s->nterms : 1, sizeof(*big));
	struct scorer sc;
	size_t n = 0, nc = 0, nr = 0, nbig = 0, i, used, max, left, nt;
	size_t budget = s->head ? s->head : HEAD_BYTES;
	int rc = -1, k;

	for (k = 0; k < s->nparts; k++)
		for (i = 0; i < s->part[k].tcap; i++)
			if (s->part[k].terms[i].s)
				v[n++] = &s->part[k].terms[i];
	if (n > 1)
		qsort(v, n, sizeof(*v), term_ptr_cmp);
	make_scorer(s, &sc);
	split_all(s, &sc, v, tails, n, budget);
	for (i = 0; i < n; i++) {
		if (v[i]->tail)
			c[nc++] = r[nr++] = v[i]->tail;
		else
			c[nc++] = v[i];
	}
	free(sc.bq);
	free(sc.tl);
	/* heads, unsplit terms and tails: every list written */
	for (i = 0; i < n + nr; i++) {
		struct term *t = i < n ? v[i] : r[i - n];

		t->enc_post = bytes_len(t->post.ptr, t->post.len);
		t->enc_pos = bytes_len(t->pos.ptr, t->pos.len);
		t->sep = 0;
	}
	for (i = 0; i < nc; i++) {
		if (c[i]->pos.len && blob_size(c[i], 0, 1) >=
		    (s->split ? s->split : SIZE_MAX)) {
			big[nbig].size = blob_size(c[i], 0, 1);
			big[nbig++].idx = i;
		}
	}
	if (nbig > 1)
		qsort(big, nbig, sizeof(*big), bigterm_cmp);
	for (i = 0; i < nbig && i < MAX_SEP; i++)
		c[big[i].idx]->sep = 1;
	if (write_kind(s, root, 1, c, nc, MAX_SEP, SHARD_MIN, pman,
	    &s->stats.pos_shards, d) == -1)
		goto out;
	/* The files left: term shards as small as TERM_SHARD if they can
	 * (a quarter at least stays for the tails), tail shards the rest. */
	used = 3 + (s->ndocs + DOCS_PER_SHARD - 1) / DOCS_PER_SHARD +
	    s->stats.pos_shards;
	left = used + 128 <= MAX_FILES ? MAX_FILES - used : 128;
	max = nr ? left - left / 4 : left;
	nt = count_shards(v, n, max, TERM_SHARD);
	if (write_kind(s, root, 3, r, nr, left > nt ? left - nt : 1,
	    SHARD_MIN, rman, &s->stats.tail_shards, d) == -1)
		goto out;
	if (write_kind(s, root, 0, v, n, max, TERM_SHARD, tman,
	    &s->stats.term_shards, d) == -1)
		goto out;
	s->stats.terms = n;
	s->stats.split_terms = nr;
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		if (v[i]->tail) {
			buf_release(&v[i]->tail->post);
			buf_release(&v[i]->tail->pos);
			v[i]->tail = NULL;
		}
	}
	free(v);
	free(c);
	free(r);
	free(tails);
	free(big);
	return rc;
}

/* Appends a JSON array of the n strings. */
static void
json_list(struct buf *b, char **v, size_t n)
{
	size_t i;

	buf_putc(b, '[');
	for (i = 0; i < n; i++) {
		buf_puts(b, i ? "," : "");
		json_str(b, v[i]);
	}
	buf_putc(b, ']');
}

/* The payload of the document shard holding docs [first, end). */
static void
doc_payload(const struct srch *s, size_t first, size_t end,
    struct buf *payload)
{
	size_t i, k, left;

	for (i = first; i < end; i++) {
		const struct sdoc *o = &s->docs[i];

		buf_puts(payload, i > first ? "," : "[");
		buf_puts(payload, "{\"u\":");
		json_str(payload, o->url);
		buf_puts(payload, ",\"t\":");
		json_str(payload, o->title);
		buf_puts(payload, ",\"y\":");
		json_str(payload, o->type);
		buf_puts(payload, ",\"yl\":");
		json_str(payload, o->type_label);
		buf_puts(payload, ",\"l\":");
		json_str(payload, o->lang);
		buf_puts(payload, ",\"d\":");
		json_str(payload, o->date);
		buf_puts(payload, ",\"c\":");
		json_list(payload, o->controls, o->ncontrols);
		buf_puts(payload, ",\"g\":");
		json_list(payload, o->tags, o->ntags);
		buf_puts(payload, ",\"s\":[");
		left = DOC_CAP;
		for (k = 0; k < o->nsections; k++) {
			size_t cap = left < SECTION_CAP ? left : SECTION_CAP;
			size_t cps = 0, j;

			buf_puts(payload, k ? ",[" : "[");
			json_str(payload, o->anchors[k]);
			buf_putc(payload, ',');
			json_str(payload, o->headings[k]);
			buf_putc(payload, ',');
			json_capped(payload, o->texts[k], cap);
			buf_printf(payload, ",%u,%u]", o->hstart[k],
			    o->bstart[k]);
			for (j = 0; o->texts[k][j]; j++)
				cps += ((unsigned char)o->texts[k][j] & 0xc0)
				    != 0x80;
			left -= cps < cap ? cps : cap;
		}
		buf_puts(payload, "]}");
	}
	buf_putc(payload, ']');
}

/* Document shards (DOCS_PER_SHARD docs each, written in parallel);
 * appends their names to man.  Returns 0 or -1. */
static int
write_docs(struct srch *s, const char *root, struct buf *man,
    struct diag *d)
{
	struct job *job = NULL;
	size_t njob = 0, cap = 0, i;
	int rc = -1;

	for (i = 0; i < s->ndocs; i += DOCS_PER_SHARD)
		add_job(&job, &njob, &cap, i, i + DOCS_PER_SHARD < s->ndocs ?
		    i + DOCS_PER_SHARD : s->ndocs);
	if (run_jobs(s, root, 2, NULL, job, njob, d) == -1)
		goto out;
	for (i = 0; i < njob; i++) {
		buf_printf(man, "%s\"%s\"", i ? "," : "", job[i].name + 2);
		s->stats.doc_shards++;
	}
	rc = 0;
out:
	free(job);
	return rc;
}

struct fval {
	const char	*key;
	const char	*label;
	size_t		 doc;
};

/* Orders facet pairs by value, then doc id. */
static int
fval_cmp(const void *a, const void *b)
{
	const struct fval *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->doc < y->doc ? -1 : x->doc > y->doc;
}

/* Appends `"name":[[value,label,docs],...]` for the pairs in v; docs is
 * an array of doc-id gaps (first id, then differences) or, when shorter, a
 * base64 string of a bitmap over all ndocs documents (bit i%8 of byte i/8). */
static void
facet_json(struct buf *b, const char *name, struct fval *v, size_t n,
    size_t ndocs)
{
	struct buf gaps = BUF_INIT;
	unsigned char *bits = xcalloc(ndocs / 8 + 1, 1);
	size_t i, j, k, prev;

	if (n > 1)
		qsort(v, n, sizeof(*v), fval_cmp);
	buf_printf(b, "\"%s\":[", name);
	for (i = 0; i < n; i = j) {
		buf_reset(&gaps);
		memset(bits, 0, ndocs / 8 + 1);
		prev = 0;
		for (j = i; j < n && strcmp(v[j].key, v[i].key) == 0; j++) {
			if (j > i && v[j].doc == v[j - 1].doc)
				continue;
			buf_printf(&gaps, "%s%zu", j > i ? "," : "",
			    v[j].doc - prev);
			prev = v[j].doc;
			bits[v[j].doc / 8] |= (unsigned char)(1u << v[j].doc % 8);
		}
		buf_puts(b, i ? ",[" : "[");
		json_str(b, v[i].key);
		buf_putc(b, ',');
		json_str(b, v[i].label);
		k = (ndocs + 7) / 8;
		if ((k + 2) / 3 * 4 + 2 < gaps.len + 2) {
			buf_puts(b, ",\"");
			put_base64(b, bits, k);
			buf_puts(b, "\"]");
		} else {
			buf_printf(b, ",[%s]]", gaps.ptr);
		}
	}
	buf_putc(b, ']');
	free(bits);
	buf_release(&gaps);
}

/* Body lengths, one byte per doc (len_quant), then title lengths (one
 * byte per doc, capped at 255 positions), encoded by put_bytes. */
static int
write_lengths(struct srch *s, const char *root, char name[32],
    struct diag *d)
{
	struct buf raw = BUF_INIT, payload = BUF_INIT;
	size_t i;
	int rc;

	for (i = 0; i < s->ndocs; i++)
		buf_putc(&raw, (int)len_quant(s->docs[i].blen));
	for (i = 0; i < s->ndocs; i++)
		buf_putc(&raw, (int)(s->docs[i].tlen > 255 ? 255 :
		    s->docs[i].tlen));
	buf_putc(&payload, '"');
	put_bytes(&payload, (const unsigned char *)raw.ptr, raw.len);
	buf_putc(&payload, '"');
	rc = write_shard(s, root, "l", &payload, name, d);
	buf_release(&raw);
	buf_release(&payload);
	return rc;
}

/* Writes the facet file (type, control, tag, year -> doc ids); its name
 * goes to name.  Returns 0 or -1 after reporting. */
static int
write_facets(struct srch *s, const char *root, char name[32], struct diag *d)
{
	struct fval *v = NULL;
	size_t n = 0, cap = 0, i, k;
	struct buf payload = BUF_INIT;
	int rc;

#define ADD(K, L, D) do {						\
	if (n == cap) {							\
		cap = cap ? cap * 2 : 256;				\
		v = xreallocarray(v, cap, sizeof(*v));			\
	}								\
	v[n].key = (K); v[n].label = (L); v[n].doc = (D); n++;		\
} while (0)
	buf_putc(&payload, '{');
	for (i = 0; i < s->ndocs; i++)
		if (s->docs[i].type[0])
			ADD(s->docs[i].type, s->docs[i].type_label, i);
	facet_json(&payload, "type", v, n, s->ndocs);
	n = 0;
	for (i = 0; i < s->ndocs; i++)
		for (k = 0; k < s->docs[i].ncontrols; k++)
			ADD(s->docs[i].controls[k], s->docs[i].controls[k], i);
	buf_putc(&payload, ',');
	facet_json(&payload, "control", v, n, s->ndocs);
	n = 0;
	for (i = 0; i < s->ndocs; i++)
		for (k = 0; k < s->docs[i].ntags; k++)
			ADD(s->docs[i].tags[k], s->docs[i].tags[k], i);
	buf_putc(&payload, ',');
	facet_json(&payload, "tag", v, n, s->ndocs);
	n = 0;
	/* year: the date's first four bytes, kept in the date string */
	for (i = 0; i < s->ndocs; i++)
		if (s->docs[i].date && strlen(s->docs[i].date) >= 4)
			ADD(s->docs[i].date, s->docs[i].date, i);
	for (i = 0; i < n; i++) {
		/* compare only the year part: cut a copy */
		char *y = xstrndup(v[i].key, 4);

		v[i].key = y;
		v[i].label = y;
	}
	buf_putc(&payload, ',');
	facet_json(&payload, "year", v, n, s->ndocs);
	for (i = 0; i < n; i++) {
		/* every year key is its own allocation; after sorting
		 * key and label still point to the same copy */
		free((char *)v[i].key);
	}
	buf_putc(&payload, '}');
#undef ADD
	rc = write_shard(s, root, "f", &payload, name, d);
	free(v);
	buf_release(&payload);
	return rc;
}

int
srch_write(struct srch *s, const char *outdir, struct diag *d)
{
	char *root = NULL, *path = NULL, fname[32], lname[32], avg[32];
	char hex[65];
	struct buf man = BUF_INIT, shards = BUF_INIT, docs = BUF_INIT;
	struct buf pshards = BUF_INIT, rshards = BUF_INIT;
	size_t i, lo, hi, nb;
	int rc = -1;
	double t0;

	memset(&s->stats, 0, sizeof(s->stats));
	s->stats.docs = s->ndocs;
	if (s->cut) {
		diag_err(d, NULL, 0, 0, "internal error: the search index "
		    "was written already");
		return -1;
	}
	s->cut = s->lean;
	root = util_path_join(outdir, "search");
	if (!s->reuse && !s->writer && util_rmtree(root) == -1 &&
	    errno != ENOENT) {
		diag_err(d, NULL, 0, 0, "cannot remove '%s': %s", root,
		    strerror(errno));
		goto out;
	}
	free_terms(s);
	for (i = 0; i < s->ndocs; i++) {
		struct sdoc *o = &s->docs[i];

		free(o->hstart);
		free(o->bstart);
		free(o->dt);
		o->hstart = o->bstart = NULL;
		o->dt = NULL;
		o->nterms = 0;
		buf_reset(&o->terms);
		buf_reset(&o->posts);
		buf_reset(&o->pos);
	}
	/* in batches, so that only one batch's per-document postings are
	 * held at a time (at 10k pages all of them took ~230 MB) */
	s->nparts = nthreads(s);
	t0 = now_ms();
	if (s->cache) {
		on_docs(s, 0, s->ndocs, sum_work);
		(void)util_mkdir_p(s->cache);
	}
	s->stats.tokenize_ms += now_ms() - t0;
	for (lo = 0, nb = 0; lo < s->ndocs; lo = hi, nb++) {
		size_t batch = s->batch ? s->batch : auto_batch(s->ndocs);
		struct bpart bp;
		unsigned char key[32];

		hi = s->ndocs - lo > batch ? lo + batch : s->ndocs;
		memset(&bp, 0, sizeof(bp));
		bp.lo = lo;
		bp.hi = hi;
		t0 = now_ms();
		load_texts(s, lo, hi);
		if (s->spill_err) {
			diag_err(d, NULL, 0, 0, "cannot read back the text to "
			    "index from the scratch file: %s",
			    strerror(s->spill_err));
			goto out;
		}
		if (s->cache)
			batch_key(s, &bp, key);
		if (s->cache && cache_load(s, &bp, nb, key)) {
			s->stats.batches_cached++;
		} else {
			tokenize_all(s, lo, hi);
			make_part(s, &bp);
			if (s->cache)
				cache_save(s, &bp, nb, key);
		}
		s->stats.batches++;
		s->stats.tokenize_ms += now_ms() - t0;
		t0 = now_ms();
		merge(s, &bp);
		s->stats.merge_ms += now_ms() - t0;
	}
	/* files of batches past the last one (the site got smaller) */
	while (s->cache) {
		char *stale = batch_path(s, nb++, "");
		int gone = unlink(stale) == -1 && errno == ENOENT;

		free(stale);
		if (gone)
			break;
	}
	t0 = now_ms();
	s->nrecs = 0;
	if (s->cache && s->keeper)
		load_recs(s);
	if (write_terms(s, root, &shards, &rshards, &pshards, d) == -1 ||
	    write_docs(s, root, &docs, d) == -1 ||
	    write_facets(s, root, fname, d) == -1 ||
	    write_lengths(s, root, lname, d) == -1)
		goto out;
	mean_body(s, avg);
	buf_printf(&man, "{\"v\":%d,\"n\":%zu,\"avg\":%s,\"k1\":%g,"
	    "\"b\":%g,\"fw\":[%d,%d,%d,%d,%d],\"ds\":%d,\"t\":[%s],"
	    "\"r\":[%s],\"p\":[%s],\"d\":[%s],\"f\":\"%s\",\"l\":\"%s\"}",
	    FORMAT_VERSION, s->ndocs, avg, BM25_K1, BM25_B,
	    field_weight[0], field_weight[1], field_weight[2],
	    field_weight[3], field_weight[4], DOCS_PER_SHARD, shards.ptr,
	    rshards.ptr, pshards.ptr, docs.ptr, fname + 2, lname + 2);
	buf_reset(&shards);
	buf_printf(&shards, "(function(a){var H=window.HB=window.HB||{};"
	    "H.load?H.load(a):(H.q=H.q||[]).push(a)})([\"m\",\"manifest\",%s]);\n",
	    man.ptr);
	path = util_path_join(s->writer ? "search" : root, "manifest.js");
	if (s->writer)
		sha256_hex(shards.ptr, shards.len, hex);
	if (s->writer ? s->writer(s->warg, path, shards.ptr, shards.len, hex) == -1 :
	    util_write_file(path, shards.ptr, shards.len) == -1) {
		diag_err(d, NULL, 0, 0, "cannot write '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	s->stats.files++;
	s->stats.bytes += shards.len;
	s->stats.manifest_bytes = shards.len;
	if (s->cache && s->keeper)
		save_recs(s);
	s->stats.write_ms = now_ms() - t0;
	rc = 0;
out:
	free(s->old);
	s->old = NULL;
	s->nold = 0;
	free(root);
	free(path);
	buf_release(&man);
	buf_release(&shards);
	buf_release(&docs);
	buf_release(&pshards);
	buf_release(&rshards);
	return rc;
}
