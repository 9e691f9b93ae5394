/*
 * diag: collected, sorted, compiler-style diagnostics.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "util.h"

void
diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
}

static void
msg_free(struct diag_msg *m)
{
	free(m->file);
	free(m->code);
	free(m->text);
}

void
diag_release(struct diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		msg_free(&d->msgs[i]);
	free(d->msgs);
	pthread_mutex_destroy(&d->lock);
}

static void
vemit(struct diag *d, enum diag_sev sev, const char *code, const char *file,
    int line, int col, const char *fmt, va_list ap)
{
	struct diag_msg m;
	struct buf b = BUF_INIT;

	buf_vprintf(&b, fmt, ap);
	m.file = file ? xstrdup(file) : NULL;
	m.line = line < 0 ? 0 : line;
	m.col = col < 0 ? 0 : col;
	m.sev = sev;
	m.code = code ? xstrdup(code) : NULL;
	m.text = buf_detach(&b);
	pthread_mutex_lock(&d->lock);
	if (sev == DIAG_ERROR)
		d->errors++;
	else if (sev == DIAG_WARNING)
		d->warnings++;
	if (d->quiet && sev != DIAG_ERROR) {
		pthread_mutex_unlock(&d->lock);
		msg_free(&m);
		return;
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->msgs = xreallocarray(d->msgs, d->cap, sizeof(*d->msgs));
	}
	m.seq = d->n;
	d->msgs[d->n++] = m;
	pthread_mutex_unlock(&d->lock);
}

int
diag_err(struct diag *d, const char *file, int line, int col,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(d, DIAG_ERROR, NULL, file, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

int
diag_warn(struct diag *d, const char *file, int line, int col,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(d, DIAG_WARNING, NULL, file, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

void
diag_note(struct diag *d, const char *file, int line, int col,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(d, DIAG_NOTE, NULL, file, line, col, fmt, ap);
	va_end(ap);
}

int
diag_emit(struct diag *d, enum diag_sev sev, const char *code,
    const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(d, sev, code, file, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

size_t
diag_warnings(struct diag *d)
{
	size_t n;

	pthread_mutex_lock(&d->lock);
	n = d->strict ? 0 : d->warnings;
	pthread_mutex_unlock(&d->lock);
	return n;
}

size_t
diag_errors(struct diag *d)
{
	size_t n;

	pthread_mutex_lock(&d->lock);
	n = d->errors + (d->strict ? d->warnings : 0);
	pthread_mutex_unlock(&d->lock);
	return n;
}

static int
msgcmp(const void *pa, const void *pb)
{
	const struct diag_msg *a = pa, *b = pb;
	int c;

	/* Messages without a file come last, in arrival order. */
	if ((a->file == NULL) != (b->file == NULL))
		return a->file == NULL ? 1 : -1;
	if (a->file && (c = strcmp(a->file, b->file)) != 0)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	if ((c = strcmp(a->text, b->text)) != 0)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The severity a message is shown with: with --strict a warning is an
 * error, and says so. */
static const char *
sevname(const struct diag *d, enum diag_sev s)
{
	return s == DIAG_ERROR || (s == DIAG_WARNING && d->strict) ? "error" :
	    s == DIAG_WARNING ? "warning" : "note";
}

static void
json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static int
same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Two messages that would print the same. */
static int
same(const struct diag_msg *a, const struct diag_msg *b)
{
	return a->sev == b->sev && a->line == b->line && a->col == b->col &&
	    same_str(a->file, b->file) && same_str(a->code, b->code) &&
	    same_str(a->text, b->text);
}

/* A fully buffered stream onto the file of f (stderr is unbuffered: a
 * build with 100,000 warnings would make half a million write calls), or
 * f itself when it has no file descriptor.  Close it with done_out(). */
static FILE *
buffered_out(FILE *f)
{
	int fd = fileno(f), dfd;
	FILE *o;

	if (fd == -1 || (dfd = dup(fd)) == -1)
		return f;
	if ((o = fdopen(dfd, "w")) == NULL) {
		close(dfd);
		return f;
	}
	if (setvbuf(o, NULL, _IOFBF, 1 << 16) != 0) {
		fclose(o);
		return f;
	}
	fflush(f);
	return o;
}

static void
done_out(FILE *o, FILE *f)
{
	if (o != f)
		fclose(o);
	fflush(f);
}

void
diag_flush(struct diag *d, FILE *out, enum diag_format fmt)
{
	struct diag_msg *m;
	size_t i;
	FILE *f;

	pthread_mutex_lock(&d->lock);
	f = d->n ? buffered_out(out) : out;
	if (d->n > 1)
		qsort(d->msgs, d->n, sizeof(*d->msgs), msgcmp);
	for (i = 0; i < d->n; i++) {
		m = &d->msgs[i];
		if (i > 0 && same(m, &d->msgs[i - 1]))
			continue;	/* said once is enough (e.g. by two workers) */
		if (fmt == DIAG_JSON) {
			fputs("{\"file\":", f);
			if (m->file)
				json_str(f, m->file);
			else
				fputs("null", f);
			/* lines and columns are 1-based: 0 is unknown */
			fputs(",\"line\":", f);
			if (m->file && m->line)
				fprintf(f, "%d", m->line);
			else
				fputs("null", f);
			fputs(",\"column\":", f);
			if (m->file && m->line && m->col)
				fprintf(f, "%d", m->col);
			else
				fputs("null", f);
			fputs(",\"severity\":", f);
			json_str(f, sevname(d, m->sev));
			fputs(",\"code\":", f);
			if (m->code)
				json_str(f, m->code);
			else
				fputs("null", f);
			fputs(",\"message\":", f);
			json_str(f, m->text);
			fputs("}\n", f);
		} else {
			if (m->file && m->line && m->col)
				fprintf(f, "%s:%d:%d: ", m->file, m->line,
				    m->col);
			else if (m->file && m->line)
				fprintf(f, "%s:%d: ", m->file, m->line);
			else if (m->file)
				fprintf(f, "%s: ", m->file);
			else
				fputs("tebiki: ", f);
			if (m->file || m->sev != DIAG_NOTE)
				fprintf(f, "%s: ", sevname(d, m->sev));
			fputs(m->text, f);
			if (m->code)
				fprintf(f, " [%s]", m->code);
			fputc('\n', f);
		}
	}
	for (i = 0; i < d->n; i++)
		msg_free(&d->msgs[i]);
	d->n = 0;
	done_out(f, out);
	pthread_mutex_unlock(&d->lock);
}
