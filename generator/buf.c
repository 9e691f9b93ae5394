/*
 * buf: growable byte buffer.  See buf.h for the invariants.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

char buf_empty[1];

void
buf_init(struct buf *b)
{
	b->ptr = buf_empty;
	b->len = 0;
	b->cap = 0;
	b->sink = NULL;
	b->sink_arg = NULL;
}

void
buf_set_sink(struct buf *b, size_t cap,
    void (*sink)(void *, const void *, size_t), void *arg)
{
	buf_grow(b, cap);
	b->sink = sink;
	b->sink_arg = arg;
}

void
buf_drain(struct buf *b)
{
	if (b->sink && b->len > 0) {
		b->sink(b->sink_arg, b->ptr, b->len);
		b->len = 0;
		b->ptr[0] = '\0';
	}
}

/* Frees the bytes; the buffer is empty and usable afterwards. */
void
buf_release(struct buf *b)
{
	if (b->cap)
		free(b->ptr);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->cap)
		b->ptr[0] = '\0';
}

/* Makes room for `extra` more bytes plus the NUL. */
void
buf_grow_slow(struct buf *b, size_t extra)
{
	size_t need, ncap;

	if (b->sink && b->len > 0 && b->len + extra + 1 > b->cap)
		buf_drain(b);
	if (extra > SIZE_MAX / 2 - b->len)
		fatal("buffer too large");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap += ncap / 2;
	if (b->cap) {
		b->ptr = xrealloc(b->ptr, ncap);
	} else {
		b->ptr = xmalloc(ncap);
		b->ptr[0] = '\0';
	}
	b->cap = ncap;
}

void
buf_put_slow(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	buf_grow_slow(b, n);
	memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

void
buf_putc_slow(struct buf *b, int c)
{
	buf_grow_slow(b, 1);
	b->ptr[b->len++] = (char)c;
	b->ptr[b->len] = '\0';
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		fatal("vsnprintf failed");
	buf_grow(b, (size_t)n);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->ptr[len] = '\0';
	}
}

void
buf_put_html(struct buf *b, const char *s, size_t n)
{
	size_t i, start = 0;
	const char *rep;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		buf_put(b, s + start, i - start);
		buf_puts(b, rep);
		start = i + 1;
	}
	buf_put(b, s + start, n - start);
}

/* Returns a malloc'd NUL-terminated string the caller frees. */
char *
buf_detach(struct buf *b)
{
	char *p;

	if (b->cap == 0)
		p = xstrdup("");
	else
		p = b->ptr;
	buf_init(b);
	return p;
}
