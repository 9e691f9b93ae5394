/*
 * tokenize: search tokenizer (see tokenize.h for the specification).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "buf.h"
#include "tokenize.h"
#include "util.h"

/* See tokenize.h for the public functions. */
void
tok_list_init(struct tok_list *l)
{
	memset(l, 0, sizeof(*l));
	buf_init(&l->terms);
}

void
tok_list_release(struct tok_list *l)
{
	free(l->v);
	buf_release(&l->terms);
	tok_list_init(l);
}

void
tok_list_reset(struct tok_list *l)
{
	l->n = 0;
	l->pos = 0;
	buf_reset(&l->terms);
}

const char *
tok_term(const struct tok_list *l, size_t i)
{
	return l->terms.ptr + l->v[i].off;
}

/* Decodes one UTF-8 sequence at p (n bytes left) into *cp; returns the bytes
 * consumed (>= 1).  An ill-formed sequence yields U+FFFD for its maximal
 * valid prefix, as the WHATWG decoder does. */
static size_t
decode(const unsigned char *p, size_t n, long *cp)
{
	unsigned char c = p[0];
	size_t need, i;
	long v;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi) {
			*cp = 0xfffd;
			return i;
		}
		v = (v << 6) | (p[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return need + 1;
}

/* Writes code point c (a scalar value, as decode() and utf8proc give)
 * as UTF-8 at d; returns the bytes written (1 to 4). */
static inline size_t
encode(unsigned char *d, long c)
{
	if (c < 0x80) {
		d[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		d[0] = (unsigned char)(0xc0 | (c >> 6));
		d[1] = (unsigned char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		d[0] = (unsigned char)(0xe0 | (c >> 12));
		d[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		d[2] = (unsigned char)(0x80 | (c & 0x3f));
		return 3;
	}
	d[0] = (unsigned char)(0xf0 | (c >> 18));
	d[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
	d[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
	d[3] = (unsigned char)(0x80 | (c & 0x3f));
	return 4;
}

/* Appends code point c as UTF-8. */
static void
put_cp(struct buf *b, long c)
{
	unsigned char tmp[4];

	buf_put(b, tmp, encode(tmp, c));
}

size_t
tok_valid_len(const char *s, size_t len)
{
	/* a literal U+FFFD is well-formed: tok_sanitize keeps it too */
	return util_utf8_prefix(s, len);
}

void
tok_sanitize(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, k;
	long c;

	buf_grow(out, len);
	/* valid stretches go out in one piece; only a bad sequence stops one */
	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = decode(p + i, len - i, &c);
		if (c == 0xfffd && !(k == 3 && p[i] == 0xef)) {
			buf_put(out, p + run, i - run);
			put_cp(out, 0xfffd);
			run = i + k;
		}
		i += k;
	}
	buf_put(out, p + run, i - run);
}

/* Lowercase with the parity table (see tokenize.h). */
static long
lower(long c)
{
	if (c == 0x130)
		return 'i';
	if (c == 0x3a3)
		return 0x3c3;
	return utf8proc_tolower((utf8proc_int32_t)c);
}

void
tok_normalize_full(struct buf *out, const char *s, size_t len)
{
	struct buf clean = BUF_INIT;
	utf8proc_uint8_t *nf = NULL;
	utf8proc_ssize_t n, i;
	utf8proc_int32_t c;
	utf8proc_ssize_t k;

	tok_sanitize(&clean, s, len);
	n = utf8proc_map((const utf8proc_uint8_t *)clean.ptr,
	    (utf8proc_ssize_t)clean.len, &nf,
	    UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
	if (n < 0) {
		/* cannot happen on sanitized input; keep the text as it is */
		buf_put(out, clean.ptr, clean.len);
		goto out;
	}
	for (i = 0; i < n; i += k) {
		k = utf8proc_iterate(nf + i, n - i, &c);
		if (k <= 0)
			break;
		put_cp(out, lower(c));
	}
out:
	free(nf);
	buf_release(&clean);
}

/* 1 when code point c is left as it is by NFKC and by lowercasing (ASCII
 * letters aside), is a starter, and never is the second half of a
 * composition: ASCII, 、。「」『』 々〆〇, Hiragana U+3041-3096, Katakana
 * U+30A1-30FA, ー, and the unified ideographs U+4E00-9FFF. */
static int
nfkc_safe(long c)
{
	return c < 0x80 || c == 0x3001 || c == 0x3002 ||
	    (c >= 0x3005 && c <= 0x3007) || (c >= 0x300c && c <= 0x300f) ||
	    (c >= 0x3041 && c <= 0x3096) || (c >= 0x30a1 && c <= 0x30fa) ||
	    c == 0x30fc || (c >= 0x4e00 && c <= 0x9fff);
}

/* Code points of s[0..len) sanitized, NFKC-normalized and lowercased
 * (as tok_normalize_full), appended to *cp (n used, *cap allocated).
 * Safe code points (nfkc_safe) are copied; every other stretch, with the
 * code point before it (which a combining mark may compose with), goes
 * through tok_normalize_full. */
static void
normalize_cps(const char *s, size_t len, long **cp, size_t *n, size_t *cap)
{
	const unsigned char *p = (const unsigned char *)s;
	struct buf slow = BUF_INIT;
	size_t i = 0, k, from, last = 0, j;
	long c;

	if (*cap < len + 1) {
		*cap = len + 1;
		*cp = xreallocarray(*cp, *cap, sizeof(**cp));
	}
	while (i < len) {
		k = decode(p + i, len - i, &c);
		if (nfkc_safe(c)) {
			(*cp)[(*n)++] = c >= 'A' && c <= 'Z' ? c + 32 : c;
			last = i;
			i += k;
			continue;
		}
		/* the previous code point (if any) joins the slow stretch */
		from = i;
		if (i > 0 && *n > 0 && last < i) {
			from = last;
			(*n)--;
		}
		while (i < len) {
			k = decode(p + i, len - i, &c);
			if (nfkc_safe(c))
				break;
			i += k;
		}
		buf_reset(&slow);
		tok_normalize_full(&slow, s + from, i - from);
		if (*cap < *n + slow.len + (len - i) + 1) {
			*cap = *n + slow.len + (len - i) + 1;
			*cp = xreallocarray(*cp, *cap, sizeof(**cp));
		}
		for (j = 0; j < slow.len; j += k) {
			k = decode((const unsigned char *)slow.ptr + j,
			    slow.len - j, &c);
			(*cp)[(*n)++] = c;
		}
		last = i;	/* no safe code point before i any more */
	}
	buf_release(&slow);
}

void
tok_normalize(struct buf *out, const char *s, size_t len)
{
	long *cp = NULL;
	size_t n = 0, cap = 0, i;

	normalize_cps(s, len, &cp, &n, &cap);
	for (i = 0; i < n; i++)
		put_cp(out, cp[i]);
	free(cp);
}

int
tok_is_cjk(long c)
{
	return (c >= 0x3041 && c <= 0x309f) ||	/* Hiragana */
	    (c >= 0x30a1 && c <= 0x30fa) ||	/* Katakana */
	    (c >= 0x30fc && c <= 0x30ff) ||	/* ー ヽ ヾ ヿ */
	    (c >= 0x31f0 && c <= 0x31ff) ||	/* small Katakana */
	    (c >= 0x3005 && c <= 0x3007) ||	/* 々 〆 〇 */
	    c == 0x303b ||			/* 〻 */
	    (c >= 0x3400 && c <= 0x4dbf) ||	/* Han ext. A */
	    (c >= 0x4e00 && c <= 0x9fff) ||	/* Han */
	    (c >= 0xf900 && c <= 0xfaff) ||	/* compatibility */
	    (c >= 0x20000 && c <= 0x3134f);	/* Han ext. B.. */
}

/* Letter or number (not CJK): may start a word. */
static int
is_word_start(long c)
{
	utf8proc_category_t k;

	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');
	if (tok_is_cjk(c))
		return 0;
	k = utf8proc_category((utf8proc_int32_t)c);
	return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
	    (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

/* Word start or a mark: may continue a word. */
static int
is_word_cont(long c)
{
	utf8proc_category_t k;

	if (is_word_start(c))
		return 1;
	if (c < 0x80 || tok_is_cjk(c))
		return 0;
	k = utf8proc_category((utf8proc_int32_t)c);
	return k >= UTF8PROC_CATEGORY_MN && k <= UTF8PROC_CATEGORY_ME;
}

/* 1 when c[0..n) is a non-empty run of ASCII digits. */
static int
is_digit_str(const long *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i] < '0' || c[i] > '9')
			return 0;
	return n > 0;
}

/* Appends a token for code points c[0..n) at pos (dropped if too long or
 * an exact duplicate of the token just before it at the same position). */
static void
emit(struct tok_list *l, const long *c, size_t n, unsigned pos, int cap)
{
	struct tok_token *t;
	size_t off = l->terms.len, i;

	if (cap && n > TOK_MAX_CP)
		return;
	buf_grow(&l->terms, n * 4 + 1);
	for (i = 0; i < n; i++)
		l->terms.len += encode((unsigned char *)l->terms.ptr +
		    l->terms.len, c[i]);
	l->terms.ptr[l->terms.len] = '\0';
	buf_putc(&l->terms, '\0');
	/* drop duplicates among the tokens of this unit */
	for (i = l->n; i-- > 0 && l->v[i].pos == pos;) {
		if (l->v[i].len == l->terms.len - 1 - off &&
		    memcmp(l->terms.ptr + l->v[i].off, l->terms.ptr + off,
		    l->v[i].len) == 0) {
			buf_truncate(&l->terms, off);
			return;
		}
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	t = &l->v[l->n++];
	t->off = off;
	t->len = l->terms.len - 1 - off;
	t->pos = pos;
}

/* A CJK run c[0..n). */
static void
emit_cjk(struct tok_list *l, const long *c, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++)
		emit(l, c + i, 2, l->pos + (unsigned)i, 0);
	emit(l, c + n - 1, 1, l->pos + (unsigned)(n - 1), 0);
	l->pos += (unsigned)n + 1;
}

/* An identifier c[0..n) made of nparts words; starts[k]/ends[k] delimit
 * part k. */
static void
emit_ident(struct tok_list *l, const long *c, size_t n, const size_t *starts,
    const size_t *ends, size_t nparts)
{
	size_t k;
	int control = nparts >= 2;

	emit(l, c, n, l->pos, 1);
	for (k = 0; k < nparts && control; k++) {
		if (k > 0 && c[starts[k] - 1] != '.')
			control = 0;
		else if (!is_digit_str(c + starts[k], ends[k] - starts[k]) &&
		    !(k == 0 && ends[k] - starts[k] == 1 &&
		    c[0] >= 'a' && c[0] <= 'z'))
			control = 0;
	}
	if (control) {
		for (k = nparts - 1; k >= 2; k--)
			emit(l, c, ends[k - 1], l->pos, 1);
	} else {
		for (k = 0; k < nparts && nparts > 1; k++)
			emit(l, c + starts[k], ends[k] - starts[k], l->pos, 1);
	}
	l->pos += 2;
}

#define MAXPARTS 64

void
tok_text(struct tok_list *l, const char *s, size_t len)
{
	long *cp = NULL;
	size_t n = 0, cap = 0, i, j, k, np;
	size_t starts[MAXPARTS], ends[MAXPARTS];

	normalize_cps(s, len, &cp, &n, &cap);
	i = 0;
	while (i < n) {
		if (tok_is_cjk(cp[i])) {
			for (j = i; j < n && tok_is_cjk(cp[j]); j++)
				;
			emit_cjk(l, cp + i, j - i);
			i = j;
			continue;
		}
		if (!is_word_start(cp[i])) {
			i++;
			continue;
		}
		np = 0;
		j = i;
		for (;;) {
			k = j;
			while (j < n && is_word_cont(cp[j]))
				j++;
			starts[np] = k - i;
			ends[np] = j - i;
			np++;
			if (np == MAXPARTS || j + 1 >= n ||
			    !(cp[j] == '.' || cp[j] == '-' || cp[j] == '_' ||
			    cp[j] == '/') || !is_word_start(cp[j + 1]))
				break;
			j++;
		}
		emit_ident(l, cp + i, j - i, starts, ends, np);
		i = j;
	}
	free(cp);
}
