/*
 * page: front matter splitting.
 */
#include <errno.h>
#include <string.h>

#include "diag.h"
#include "page.h"
#include "util.h"
#include "value.h"
#include "yml.h"

/* Length of the line at `p` without its "\n" or "\r\n". */
static size_t
line_len(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n;

	if (nl == NULL) {
		*next = end;
		n = (size_t)(end - p);
	} else {
		*next = nl + 1;
		n = (size_t)(nl - p);
	}
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/* 1 when the line is exactly `mark` followed by optional blanks. */
static int
is_fence(const char *p, size_t n, const char *mark)
{
	size_t m = strlen(mark);

	if (n < m || memcmp(p, mark, m) != 0)
		return 0;
	for (; m < n; m++)
		if (p[m] != ' ' && p[m] != '\t')
			return 0;
	return 1;
}

/* Replaces every invalid byte by U+FFFD (one code point for one byte, so
 * columns counted in code points do not move). */
static void
fix_utf8(struct buf *b)
{
	struct buf out = BUF_INIT;
	const unsigned char *p = (const unsigned char *)b->ptr;
	size_t i = 0, n;

	while (i < b->len) {
		n = util_utf8_seq(p + i, b->len - i);
		if (n == 0) {
			buf_puts(&out, "\xef\xbf\xbd");
			i++;
		} else {
			buf_put(&out, p + i, n);
			i += n;
		}
	}
	buf_release(b);
	*b = out;
}

/* Removes a leading UTF-8 byte order mark from b. */
static void
strip_bom(struct buf *b)
{
	if (b->len >= 3 && memcmp(b->ptr, "\xef\xbb\xbf", 3) == 0) {
		memmove(b->ptr, b->ptr + 3, b->len - 2);
		b->len -= 3;
	}
}

int
page_check_text(const char *text, size_t len, const char *file,
    struct diag *d)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, n;
	int line = 1, col = 1, bad = 0;

	while (i < len) {
		if (p[i] == 0) {
			diag_err(d, file, line, col, "file contains a NUL "
			    "byte (binary file?)");
			return bad + 1;
		}
		n = util_utf8_seq(p + i, len - i);
		if (n == 0 && bad++ == 0)
			diag_warn(d, file, line, col, "invalid UTF-8 "
			    "(replaced by U+FFFD)");
		if (p[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		i += n ? n : 1;
	}
	return bad;
}

int
page_split(struct page_src *ps, struct buf *text, const char *file,
    struct diag *d)
{
	const char *p, *end, *next, *yaml_start, *yaml_end = NULL;
	int line = 1, rc = 0;
	size_t n;
	struct value *v;

	memset(ps, 0, sizeof(*ps));
	ps->text = *text;
	buf_init(text);
	strip_bom(&ps->text);
	p = ps->text.ptr;
	end = p + ps->text.len;
	if (memchr(p, '\0', ps->text.len) != NULL) {
		page_check_text(p, ps->text.len, file, d);
		ps->meta = val_at(val_map(), 1, 1);
		ps->fm_failed = 1;
		ps->body = end;
		ps->body_len = 0;
		ps->body_line = 1;
		return -1;
	}
	/* the slow walk (lines and columns for the message) only when
	 * something is wrong */
	if (util_utf8_prefix(p, ps->text.len) != ps->text.len &&
	    page_check_text(p, ps->text.len, file, d) > 0) {
		fix_utf8(&ps->text);
		ps->fixed = 1;
		p = ps->text.ptr;
		end = p + ps->text.len;
	}
	ps->body = p;
	ps->body_len = ps->text.len;
	ps->body_line = 1;
	n = line_len(p, end, &next);
	if (!is_fence(p, n, "---"))
		goto plain;
	ps->has_fm = 1;
	ps->fm_line = 1;
	yaml_start = next;
	for (p = next, line = 2; p < end; p = next, line++) {
		n = line_len(p, end, &next);
		if (is_fence(p, n, "---") || is_fence(p, n, "...")) {
			yaml_end = p;
			break;
		}
	}
	if (yaml_end == NULL) {
		diag_err(d, file, 1, 1, "front matter opened here is never "
		    "closed (expected a line '---')");
		ps->meta = val_at(val_map(), 1, 1);
		ps->fm_failed = 1;
		ps->body = end;
		ps->body_len = 0;
		ps->body_line = line;
		return -1;
	}
	ps->body = next;
	ps->body_len = (size_t)(end - next);
	ps->body_line = line + 1;
	v = yml_parse(yaml_start, (size_t)(yaml_end - yaml_start), file, 2, d);
	if (v == NULL) {
		rc = -1;
		v = val_at(val_map(), 2, 1);
	} else if (v->kind == VAL_NULL) {
		val_unref(v);
		v = val_at(val_map(), 2, 1);
	} else if (v->kind != VAL_MAP) {
		rc = diag_err(d, file, v->line, v->col, "front matter must be "
		    "a mapping of keys to values, not a %s",
		    val_kind_name(v->kind));
		val_unref(v);
		v = val_at(val_map(), 2, 1);
	}
	ps->meta = v;
	ps->fm_failed = rc == -1;
	return rc;
plain:
	ps->meta = val_at(val_map(), 1, 1);
	return 0;
}

int
page_load(struct page_src *ps, const char *path, const char *file,
    struct diag *d)
{
	struct buf b = BUF_INIT;

	if (util_read_file(path, &b) == -1) {
		memset(ps, 0, sizeof(*ps));
		ps->meta = val_map();
		ps->fm_failed = 1;
		buf_release(&b);
		return diag_err(d, file, 0, 0, "cannot read file: %s",
		    strerror(errno));
	}
	return page_split(ps, &b, file, d);
}

void
page_drop_text(struct page_src *ps)
{
	buf_release(&ps->text);
	ps->body = NULL;
	ps->body_len = 0;
}

int
page_reread(struct page_src *ps, const char *path, size_t body_off)
{
	struct buf b = BUF_INIT;

	if (util_read_file(path, &b) == -1) {
		buf_release(&b);
		return -1;
	}
	strip_bom(&b);
	if (ps->fixed)
		fix_utf8(&b);
	if (body_off > b.len) {
		buf_release(&b);
		errno = EIO;	/* shorter than it was: the caller reports */
		return -1;
	}
	buf_release(&ps->text);
	ps->text = b;
	ps->body = ps->text.ptr + body_off;
	ps->body_len = ps->text.len - body_off;
	return 0;
}

void
page_src_release(struct page_src *ps)
{
	buf_release(&ps->text);
	val_unref(ps->meta);
	ps->meta = NULL;
}
