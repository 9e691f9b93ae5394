/*
 * buf: a growable byte buffer with the cmark/git invariants.
 *
 * `ptr` is never NULL and always NUL-terminated; the buffer grows by 1.5x;
 * buf_detach() is the only way to take ownership of the bytes.
 */
#ifndef BUF_H
#define BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*ptr;	/* never NULL, NUL-terminated */
	size_t	 len;	/* bytes used, not counting the NUL */
	size_t	 cap;	/* bytes allocated; 0 while ptr is the static "" */
	/* with a sink, a full buffer hands its bytes to sink(sink_arg, p, n)
	 * and starts again empty instead of growing (buf_set_sink) */
	void	(*sink)(void *, const void *, size_t);
	void	*sink_arg;
};

#define BUF_INIT { buf_empty, 0, 0, NULL, NULL }

extern char buf_empty[];

void	 buf_init(struct buf *);
void	 buf_release(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_grow_slow(struct buf *, size_t extra);
void	 buf_put_slow(struct buf *, const void *, size_t);
void	 buf_puts(struct buf *, const char *);
void	 buf_putc_slow(struct buf *, int);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
void	 buf_truncate(struct buf *, size_t);
/* Append `s` escaped for HTML text and attribute values (& < > " '). */
void	 buf_put_html(struct buf *, const char *, size_t);
/* Returns the bytes (caller frees) and leaves the buffer empty. */
char	*buf_detach(struct buf *);
/* Streams what is appended to b through `sink` in pieces of about `cap`
 * bytes (b must be empty; only appending functions may be used on it).
 * buf_drain hands over what is left; buf_release drops the sink. */
void	 buf_set_sink(struct buf *, size_t cap,
	    void (*sink)(void *, const void *, size_t), void *arg);
void	 buf_drain(struct buf *);

/*
 * The appends every module makes byte by byte or a few bytes at a time:
 * when the bytes fit (cap - len > n: room for them and the NUL), they are
 * copied here, inline; anything else (the static "" of an empty buffer,
 * growing, a sink to drain) takes the slow path in buf.c.
 */
/* Makes room for `extra` more bytes (and the NUL). */
static inline void
buf_grow(struct buf *b, size_t extra)
{
	if (extra >= b->cap - b->len)
		buf_grow_slow(b, extra);
}

static inline void
buf_put(struct buf *b, const void *p, size_t n)
{
	if (n == 0)		/* p may be NULL then */
		return;
	if (n < b->cap - b->len) {
		__builtin_memcpy(b->ptr + b->len, p, n);
		b->len += n;
		b->ptr[b->len] = '\0';
	} else {
		buf_put_slow(b, p, n);
	}
}

static inline void
buf_putc(struct buf *b, int c)
{
	if (b->cap - b->len > 1) {
		b->ptr[b->len++] = (char)c;
		b->ptr[b->len] = '\0';
	} else {
		buf_putc_slow(b, c);
	}
}

#endif
