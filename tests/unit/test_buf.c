/*
 * Unit tests for buf.h's sink: what goes through a small sink buffer with
 * every appending function comes out whole and in order; the inline
 * appends at the end of the allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#include "harness.h"

static void
collect(void *arg, const void *p, size_t n)
{
	struct buf *all = arg;

	buf_put(all, p, n);
}

/* Appends the same mix to b: short and long pieces, printf, HTML. */
static void
fill(struct buf *b)
{
	char big[300];
	int i;

	memset(big, 'x', sizeof(big));
	for (i = 0; i < 200; i++) {
		buf_puts(b, "<p>");
		buf_printf(b, "%d:%s", i, i % 7 ? "short" : "longer piece");
		buf_putc(b, '\n');
		buf_put_html(b, "a<b & \"c\"", 9);
		if (i % 50 == 0)
			buf_put(b, big, sizeof(big));	/* larger than the sink */
	}
}

/* The inline appends (buf.h) at every distance from the end of the
 * allocation: each piece of 0..9 bytes, at each length, must leave the
 * bytes of a plain byte-by-byte model, NUL-terminated, with cap > len. */
static void
boundaries(void)
{
	struct buf b = BUF_INIT;
	char model[4096], piece[16];
	size_t n = 0, k, step;
	int bad = 0;

	buf_put(&b, NULL, 0);	/* nothing, and no read of NULL */
	OK(b.len == 0 && b.ptr[0] == '\0', "empty put on an empty buffer");
	for (step = 0; n + 10 < sizeof(model); step++) {
		k = step % 10;
		memset(piece, 'a' + (int)(step % 26), sizeof(piece));
		if (step % 3 == 0) {
			buf_putc(&b, piece[0]);
			model[n++] = piece[0];
		} else if (step % 3 == 1) {
			buf_put(&b, piece, k);
			memcpy(model + n, piece, k);
			n += k;
		} else {
			buf_grow(&b, k);
			bad += b.cap - b.len <= k;
			buf_put(&b, piece, k);
			memcpy(model + n, piece, k);
			n += k;
		}
		bad += b.len != n || b.ptr[b.len] != '\0' || b.cap <= b.len;
	}
	OK(bad == 0, "inline appends keep len, NUL and room (%d wrong)", bad);
	OK(b.len == n && memcmp(b.ptr, model, n) == 0, "same bytes as the "
	    "model (%zu)", n);
	buf_release(&b);
}

int
main(void)
{
	struct buf plain = BUF_INIT, sunk = BUF_INIT, all = BUF_INIT;
	size_t cap;

	fill(&plain);
	for (cap = 1; cap <= 4096; cap *= 4) {
		buf_reset(&all);
		buf_set_sink(&sunk, cap, collect, &all);
		fill(&sunk);
		OK(sunk.cap <= (cap > 300 ? cap : 300) * 2 + 64,
		    "sink buffer stays small (cap %zu, got %zu)", cap, sunk.cap);
		buf_drain(&sunk);
		INT_EQ(sunk.len, 0, "drained");
		INT_EQ(all.len, plain.len, "same length through the sink");
		OK(all.len == plain.len &&
		    memcmp(all.ptr, plain.ptr, plain.len) == 0,
		    "same bytes through a sink of %zu", cap);
		buf_release(&sunk);
		OK(sunk.sink == NULL, "release drops the sink");
	}
	buf_release(&plain);
	buf_release(&all);
	boundaries();
	return DONE();
}
