/*
 * serve: libmicrohttpd file server with live reload (see serve.h).
 *
 * Threads: the daemon runs one thread per connection; the state shared
 * with the command's main loop (build generation, error text, stopping)
 * is guarded by `lock`, and event streams sleep on `cond`.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "serve.h"
#include "util.h"
#include "value.h"

#define KEEPALIVE_SEC	15
#define MAX_CONNECTIONS	512

struct srv {
	struct MHD_Daemon	*mhd;
	char			*root;		/* the directory served */
	int			 port;
	int			 keepalive;	/* seconds */
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* signalled on any change */
	unsigned long		 gen;		/* successful builds */
	char			*paths;		/* JSON list of the pages gen
						   changed, or NULL: all */
	unsigned long		 eseq;		/* error state changes */
	char			*err;		/* last errors or NULL */
	int			 stopping;
};

/* One event-stream connection. */
struct client {
	struct srv	*s;
	unsigned long	 gen, eseq;	/* what it was last told */
	struct buf	 out;		/* bytes not yet handed to MHD */
	size_t		 off;
};

static const char reload_js[] =
    "/* tebiki serve: live reload and build errors */\n"
    "(function () {\n"
    "\t\"use strict\";\n"
    "\tvar me = document.currentScript;\n"
    "\tvar gen = me ? me.getAttribute(\"data-gen\") : null;\n"
    "\tvar box = null;\n"
    "\tfunction show(text) {\n"
    "\t\tif (!box) {\n"
    "\t\t\tbox = document.createElement(\"div\");\n"
    "\t\t\tbox.id = \"tebiki-error\";\n"
    "\t\t\tbox.setAttribute(\"role\", \"alert\");\n"
    "\t\t\tvar s = box.style;\n"
    "\t\t\ts.position = \"fixed\"; s.left = \"0\"; s.right = \"0\";\n"
    "\t\t\ts.top = \"0\"; s.maxHeight = \"70vh\"; s.overflow = \"auto\";\n"
    "\t\t\ts.zIndex = \"2147483647\"; s.margin = \"0\";\n"
    "\t\t\ts.padding = \"1em 1.5em\"; s.background = \"#3d0c0c\";\n"
    "\t\t\ts.color = \"#fff\"; s.whiteSpace = \"pre-wrap\";\n"
    "\t\t\ts.font = \"14px/1.5 monospace\";\n"
    "\t\t\ts.borderBottom = \"4px solid #e53935\";\n"
    "\t\t\t(document.body || document.documentElement)"
    ".appendChild(box);\n"
    "\t\t}\n"
    "\t\tbox.textContent = \"tebiki: the build failed \\u2014 showing the "
    "last good build\\n\\n\" + text;\n"
    "\t}\n"
    "\tif (!window.EventSource)\n"
    "\t\treturn;\n"
    "\tvar es = new EventSource(\"/__tebiki/events\");\n"
    "\tes.addEventListener(\"hello\", function (e) {\n"
    "\t\tvar d = JSON.parse(e.data);\n"
    "\t\tif (gen !== null && d.gen > 0 && String(d.gen) !== gen) {\n"
    "\t\t\tlocation.reload();\n"
    "\t\t\treturn;\n"
    "\t\t}\n"
    "\t\tif (d.error)\n"
    "\t\t\tshow(d.error);\n"
    "\t});\n"
    "\t/* this page's output path, as the build names it */\n"
    "\tfunction here() {\n"
    "\t\tvar p = decodeURIComponent(location.pathname)"
    ".replace(/^\\/+/, \"\");\n"
    "\t\treturn p === \"\" || p.slice(-1) === \"/\" ? p + "
    "\"index.html\" : p;\n"
    "\t}\n"
    "\t/* the search box of a page that stays takes the new index: the\n"
    "\t * manifest's script run again (the shards are named by content) */\n"
    "\tfunction newSearch() {\n"
    "\t\tvar old = document.querySelector("
    "'script[src$=\"search/manifest.js\"]');\n"
    "\t\tif (!old)\n"
    "\t\t\treturn;\n"
    "\t\tvar s = document.createElement(\"script\");\n"
    "\t\ts.src = old.getAttribute(\"src\") + \"?\" + gen;\n"
    "\t\t(document.head || document.documentElement).appendChild(s);\n"
    "\t}\n"
    "\tes.addEventListener(\"reload\", function (e) {\n"
    "\t\tvar d = JSON.parse(e.data);\n"
    "\t\t/* a list of pages: the others stay as they are */\n"
    "\t\tif (d.paths && d.paths.indexOf(here()) < 0) {\n"
    "\t\t\tgen = String(d.gen);\n"
    "\t\t\tif (d.paths.indexOf(\"search/manifest.js\") >= 0)\n"
    "\t\t\t\tnewSearch();\n"
    "\t\t\treturn;\n"
    "\t\t}\n"
    "\t\tes.close();\n"
    "\t\tlocation.reload();\n"
    "\t});\n"
    "\tes.addEventListener(\"error\", function (e) {\n"
    "\t\t/* connection errors come without data: EventSource retries */\n"
    "\t\tif (typeof e.data === \"string\")\n"
    "\t\t\tshow(JSON.parse(e.data).text);\n"
    "\t});\n"
    "})();\n";

/* ---------------------------------------------------------------------
 * Responses
 */

/* Adds the headers every response carries, queues it with `status` and
 * drops our reference. */
static enum MHD_Result
finish(struct MHD_Connection *c, unsigned int status,
    struct MHD_Response *r)
{
	enum MHD_Result ret;

	MHD_add_response_header(r, "Cache-Control", "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Answers with a copy of `body` as `type`. */
static enum MHD_Result
respond(struct MHD_Connection *c, unsigned int status, const char *type,
    const char *body)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	return finish(c, status, r);
}

/* Answers with the bytes of `b` (taken) as `type`. */
static enum MHD_Result
respond_buf(struct MHD_Connection *c, unsigned int status, const char *type,
    struct buf *b, const char *etag)
{
	struct MHD_Response *r;
	size_t len = b->len;
	char *p = buf_detach(b);

	r = MHD_create_response_from_buffer(len, p, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(p);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	if (etag)
		MHD_add_response_header(r, "ETag", etag);
	return finish(c, status, r);
}

/* The Content-Type for a file name. */
static const char *
mime_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ "html", "text/html; charset=utf-8" },
		{ "htm", "text/html; charset=utf-8" },
		{ "css", "text/css; charset=utf-8" },
		{ "js", "text/javascript; charset=utf-8" },
		{ "mjs", "text/javascript; charset=utf-8" },
		{ "svg", "image/svg+xml" },
		{ "png", "image/png" },
		{ "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" },
		{ "gif", "image/gif" },
		{ "webp", "image/webp" },
		{ "csv", "text/csv; charset=utf-8" },
		{ "json", "application/json" },
		{ "txt", "text/plain; charset=utf-8" },
		{ "xml", "application/xml" },
		{ "pdf", "application/pdf" },
		{ "woff2", "font/woff2" },
		{ "ico", "image/x-icon" },
	};
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');
	size_t i;

	if (dot != NULL)
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

/* 1 for HTML by name. */
static int
is_html(const char *path)
{
	return strncmp(mime_type(path), "text/html", 9) == 0;
}

/* Inserts the reload script tag into `html` before its last </body>
 * (at the end when there is none). */
static void
inject(struct buf *html, unsigned long gen)
{
	struct buf tag = BUF_INIT;
	size_t at = html->len, i;

	for (i = html->len; i >= 6; i--) {
		if (strncasecmp(html->ptr + i - 6, "</body", 6) == 0) {
			at = i - 6;
			break;
		}
	}
	buf_printf(&tag, "<script src=\"/__tebiki/reload.js\" "
	    "data-gen=\"%lu\"></script>", gen);
	buf_grow(html, tag.len);
	memmove(html->ptr + at + tag.len, html->ptr + at, html->len - at + 1);
	memcpy(html->ptr + at, tag.ptr, tag.len);
	html->len += tag.len;
	buf_release(&tag);
}

/* The current generation. */
static unsigned long
current_gen(struct srv *s)
{
	unsigned long g;

	pthread_mutex_lock(&s->lock);
	g = s->gen;
	pthread_mutex_unlock(&s->lock);
	return g;
}

/* 1 when the request's If-None-Match names `etag` (or is "*"). */
static int
etag_matches(struct MHD_Connection *c, const char *etag)
{
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "If-None-Match");

	if (inm == NULL)
		return 0;
	return strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL;
}

/* Appends everything left in `fd` to `b` (the same file the ETag was
 * made from, even if the build swaps the directory meanwhile); 0 or -1. */
static int
read_all(int fd, struct buf *b)
{
	ssize_t n;

	for (;;) {
		buf_grow(b, 65536);
		n = read(fd, b->ptr + b->len, b->cap - b->len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		b->len += (size_t)n;
		b->ptr[b->len] = '\0';
	}
	return 0;
}

/* Serves the regular file `path` (already checked to lie inside the
 * root) with `status`; HTML gets the reload script.  A file that is not
 * there (any more) gives -1 and nothing is queued. */
static int
send_file(struct srv *s, struct MHD_Connection *c, const char *path,
    unsigned int status, enum MHD_Result *ret)
{
	struct MHD_Response *r;
	struct stat st;
	struct buf b = BUF_INIT;
	char etag[96];
	unsigned long gen = current_gen(s);
	int fd, html = is_html(path);

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx-%llx%s%lx\"",
	    (unsigned long long)st.st_ino, (unsigned long long)st.st_size,
	    (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
	    (unsigned long long)st.st_mtim.tv_nsec, html ? "-g" : "",
	    html ? gen : 0UL);
	if (status == MHD_HTTP_OK && etag_matches(c, etag)) {
		close(fd);
		r = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
		if (r == NULL)
			return *ret = MHD_NO, 0;
		MHD_add_response_header(r, "ETag", etag);
		*ret = finish(c, MHD_HTTP_NOT_MODIFIED, r);
		return 0;
	}
	if (html) {
		int rc = read_all(fd, &b);

		close(fd);
		if (rc == -1) {
			buf_release(&b);
			return -1;
		}
		inject(&b, gen);
		*ret = respond_buf(c, status, mime_type(path), &b,
		    status == MHD_HTTP_OK ? etag : NULL);
		return 0;
	}
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (r == NULL) {
		close(fd);
		return *ret = MHD_NO, 0;
	}
	MHD_add_response_header(r, "Content-Type", mime_type(path));
	if (status == MHD_HTTP_OK)
		MHD_add_response_header(r, "ETag", etag);
	*ret = finish(c, status, r);
	return 0;
}

/* Returns realpath(root/rel) when it exists and lies inside `root` (a
 * real path); NULL otherwise, with *forbidden set when it escaped. */
static char *
resolve(const char *root, const char *rel, int *forbidden)
{
	char *full = rel[0] ? util_path_join(root, rel) : xstrdup(root);
	char *real = realpath(full, NULL);

	free(full);
	if (real != NULL && !util_path_within(real, root)) {
		free(real);
		*forbidden = 1;
		return NULL;
	}
	return real;
}

/* The answer while there is no good build: the errors, or a wait note. */
static enum MHD_Result
no_site(struct srv *s, struct MHD_Connection *c)
{
	struct buf b = BUF_INIT;
	unsigned int status;

	pthread_mutex_lock(&s->lock);
	buf_puts(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>tebiki serve</title></head>\n<body>\n");
	if (s->err) {
		buf_puts(&b, "<h1>The build failed</h1>\n<pre>");
		buf_put_html(&b, s->err, strlen(s->err));
		buf_puts(&b, "</pre>\n");
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	} else {
		buf_puts(&b, "<p>Building the site…</p>\n");
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	buf_printf(&b, "<script src=\"/__tebiki/reload.js\" data-gen=\"%lu\">"
	    "</script>\n</body></html>\n", s->gen);
	pthread_mutex_unlock(&s->lock);
	return respond_buf(c, status, "text/html; charset=utf-8", &b, NULL);
}

/* The built 404.html with status 404, else a plain one. */
static enum MHD_Result
not_found(struct srv *s, struct MHD_Connection *c, const char *root)
{
	enum MHD_Result ret;
	int forbidden = 0;
	char *p = resolve(root, "404.html", &forbidden);

	if (p != NULL && send_file(s, c, p, MHD_HTTP_NOT_FOUND, &ret) == 0) {
		free(p);
		return ret;
	}
	free(p);
	return respond(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
	    "404 not found\n");
}

/* Appends `rel` percent-encoded for a Location header. */
static void
put_url(struct buf *b, const char *rel)
{
	const unsigned char *p;

	for (p = (const unsigned char *)rel; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
			buf_putc(b, *p);
		else
			buf_printf(b, "%%%02X", *p);
	}
}

/* Serves the site-relative path `rel` ("" for the root); `slash` tells
 * whether the URL ended with '/'. */
static enum MHD_Result
serve_path(struct srv *s, struct MHD_Connection *c, const char *rel,
    int slash)
{
	struct MHD_Response *r;
	struct stat st;
	struct buf loc = BUF_INIT;
	enum MHD_Result ret;
	char *root, *real = NULL, *idx;
	int forbidden = 0;

	if ((root = realpath(s->root, NULL)) == NULL)
		return no_site(s, c);
	if ((real = resolve(root, rel, &forbidden)) == NULL)
		goto missing;
	if (stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (!slash && rel[0] != '\0') {
			buf_putc(&loc, '/');
			put_url(&loc, rel);
			buf_putc(&loc, '/');
			r = MHD_create_response_from_buffer(0, (void *)"",
			    MHD_RESPMEM_PERSISTENT);
			if (r == NULL) {
				ret = MHD_NO;
				goto out;
			}
			MHD_add_response_header(r, "Location", loc.ptr);
			ret = finish(c, MHD_HTTP_MOVED_PERMANENTLY, r);
			goto out;
		}
		idx = util_path_join(real, "index.html");
		free(real);
		real = realpath(idx, NULL);
		free(idx);
		if (real != NULL && !util_path_within(real, root)) {
			forbidden = 1;
			goto missing;
		}
		if (real == NULL)
			goto missing;
	}
	if (send_file(s, c, real, MHD_HTTP_OK, &ret) == 0)
		goto out;
missing:
	if (forbidden)
		ret = respond(c, MHD_HTTP_FORBIDDEN,
		    "text/plain; charset=utf-8", "403 forbidden\n");
	else
		ret = not_found(s, c, root);
out:
	buf_release(&loc);
	free(real);
	free(root);
	return ret;
}

/* ---------------------------------------------------------------------
 * Event stream
 */

/* Appends one event with JSON `data` to the client's pending bytes. */
static void
put_event(struct client *cl, const char *name, const char *json)
{
	buf_printf(&cl->out, "event: %s\ndata: %s\n\n", name, json);
}

/* Appends the error event of the current state (lock held). */
static void
put_error(struct client *cl, struct srv *s)
{
	struct buf j = BUF_INIT;

	buf_printf(&j, "{\"gen\":%lu,\"text\":", s->gen);
	val_json_string(&j, s->err, strlen(s->err));
	buf_putc(&j, '}');
	put_event(cl, "error", j.ptr);
	buf_release(&j);
}

/* The JSON state {"gen":N,"error":...} (lock held) into `b`. */
static void
put_state(struct buf *b, struct srv *s)
{
	buf_printf(b, "{\"gen\":%lu,\"error\":", s->gen);
	if (s->err)
		val_json_string(b, s->err, strlen(s->err));
	else
		buf_puts(b, "null");
	buf_putc(b, '}');
}

/* MHD content reader: blocks until there is something to say (a change,
 * a keepalive, or the end when stopping). */
static ssize_t
events_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct client *cl = cls;
	struct srv *s = cl->s;
	struct timespec until;
	size_t n;

	if (cl->off >= cl->out.len) {
		buf_reset(&cl->out);
		cl->off = 0;
		pthread_mutex_lock(&s->lock);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += s->keepalive;
		for (;;) {
			if (s->stopping) {
				pthread_mutex_unlock(&s->lock);
				return MHD_CONTENT_READER_END_OF_STREAM;
			}
			if (cl->eseq != s->eseq) {
				cl->eseq = s->eseq;
				if (s->err)
					put_error(cl, s);
			}
			if (cl->gen != s->gen) {
				/* the pages changed are known only for the
				 * last step: a client that missed one reloads */
				if (s->paths && cl->gen + 1 == s->gen)
					buf_printf(&cl->out, "event: reload\n"
					    "data: {\"gen\":%lu,\"paths\":%s}"
					    "\n\n", s->gen, s->paths);
				else
					buf_printf(&cl->out, "event: reload\n"
					    "data: {\"gen\":%lu}\n\n", s->gen);
				cl->gen = s->gen;
			}
			if (cl->out.len > 0)
				break;
			if (pthread_cond_timedwait(&s->cond, &s->lock,
			    &until) == ETIMEDOUT) {
				buf_puts(&cl->out, ": keepalive\n\n");
				break;
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	n = cl->out.len - cl->off;
	if (n > max)
		n = max;
	memcpy(out, cl->out.ptr + cl->off, n);
	cl->off += n;
	return (ssize_t)n;
}

/* MHD free callback for an event stream. */
static void
events_free(void *cls)
{
	struct client *cl = cls;

	buf_release(&cl->out);
	free(cl);
}

/* Opens an event stream: hello (and the error, if any) right away. */
static enum MHD_Result
events_open(struct srv *s, struct MHD_Connection *c)
{
	struct MHD_Response *r;
	struct client *cl = xcalloc(1, sizeof(*cl));
	struct buf st = BUF_INIT;

	cl->s = s;
	buf_init(&cl->out);
	pthread_mutex_lock(&s->lock);
	cl->gen = s->gen;
	cl->eseq = s->eseq;
	put_state(&st, s);
	buf_puts(&cl->out, "retry: 1000\n");
	put_event(cl, "hello", st.ptr);
	if (s->err)
		put_error(cl, s);
	pthread_mutex_unlock(&s->lock);
	buf_release(&st);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
	    events_read, cl, events_free);
	if (r == NULL) {
		events_free(cl);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	return finish(c, MHD_HTTP_OK, r);
}

/* ---------------------------------------------------------------------
 * Requests
 */

/* Decodes %XX escapes; NULL on a malformed escape or a NUL byte.
 * Caller frees. */
static char *
decode(const char *raw)
{
	char *out = xmalloc(strlen(raw) + 1), *o = out;
	const char *p;
	int hi, lo;

	for (p = raw; *p; p++) {
		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		hi = p[1] ? (p[1] >= '0' && p[1] <= '9' ? p[1] - '0' :
		    (p[1] | 0x20) >= 'a' && (p[1] | 0x20) <= 'f' ?
		    (p[1] | 0x20) - 'a' + 10 : -1) : -1;
		lo = hi >= 0 && p[2] ? (p[2] >= '0' && p[2] <= '9' ?
		    p[2] - '0' : (p[2] | 0x20) >= 'a' &&
		    (p[2] | 0x20) <= 'f' ? (p[2] | 0x20) - 'a' + 10 : -1) :
		    -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		p += 2;
	}
	*o = '\0';
	return out;
}

/* Normalizes a decoded absolute path into "a/b" (empty segments and "."
 * dropped); NULL when a segment is ".." (or holds a backslash).  Caller
 * frees. */
static char *
normalize(const char *path)
{
	struct buf b = BUF_INIT;
	const char *p = path, *e;
	size_t n;

	while (*p) {
		while (*p == '/')
			p++;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			goto bad;
		if (memchr(p, '\\', n) != NULL)
			goto bad;
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (b.len > 0)
				buf_putc(&b, '/');
			buf_put(&b, p, n);
		}
		p += n;
	}
	return buf_detach(&b);
bad:
	buf_release(&b);
	return NULL;
}

/* MHD access handler. */
static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct srv *s = cls;
	struct MHD_Response *r;
	struct buf st = BUF_INIT;
	enum MHD_Result ret;
	char *path, *rel;
	size_t len;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		/* answered at once, without reading a body */
		r = MHD_create_response_from_buffer(23,
		    (void *)"405 method not allowed\n",
		    MHD_RESPMEM_PERSISTENT);
		if (r == NULL)
			return MHD_NO;
		MHD_add_response_header(r, "Allow", "GET, HEAD");
		MHD_add_response_header(r, "Content-Type",
		    "text/plain; charset=utf-8");
		return finish(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
	}
	/* the first call only announces the request: answering then would
	 * make MHD close the connection (no keep-alive) */
	if (*con_cls == NULL) {
		*con_cls = s;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;	/* a body on a GET is dropped */
		return MHD_YES;
	}
	if ((path = decode(url)) == NULL || path[0] != '/') {
		free(path);
		return respond(c, MHD_HTTP_BAD_REQUEST,
		    "text/plain; charset=utf-8", "400 bad request\n");
	}
	if ((rel = normalize(path)) == NULL) {
		free(path);
		return respond(c, MHD_HTTP_FORBIDDEN,
		    "text/plain; charset=utf-8", "403 forbidden\n");
	}
	len = strlen(path);
	if (strcmp(rel, "__tebiki/reload.js") == 0) {
		ret = respond(c, MHD_HTTP_OK,
		    "text/javascript; charset=utf-8", reload_js);
	} else if (strcmp(rel, "__tebiki/events") == 0) {
		ret = events_open(s, c);
	} else if (strcmp(rel, "__tebiki/status") == 0) {
		pthread_mutex_lock(&s->lock);
		put_state(&st, s);
		pthread_mutex_unlock(&s->lock);
		buf_putc(&st, '\n');
		ret = respond_buf(c, MHD_HTTP_OK, "application/json", &st,
		    NULL);
	} else if (strncmp(rel, "__tebiki/", 9) == 0) {
		ret = respond(c, MHD_HTTP_NOT_FOUND,
		    "text/plain; charset=utf-8", "404 not found\n");
	} else {
		ret = serve_path(s, c, rel, len > 0 && path[len - 1] == '/');
	}
	buf_release(&st);
	free(path);
	free(rel);
	return ret;
}

/* MHD unescaper that leaves the URL alone: handle() decodes it itself
 * so that %00 and %2e%2e are seen. */
static size_t
keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
}

/* ---------------------------------------------------------------------
 * Life cycle
 */

/* Binds a listening socket; -1 after reporting. */
static int
listen_on(const char *addr, int port, int *v6, int *bound)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char portstr[16];
	int fd = -1, one = 1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((e = getaddrinfo(addr, portstr, &hints, &ai)) != 0) {
		fprintf(stderr, "tebiki: --bind needs a numeric IPv4 or IPv6 "
		    "address, not '%s' (%s)\n", addr, gai_strerror(e));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		fprintf(stderr, "tebiki: cannot create a socket: %s\n",
		    strerror(errno));
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	*v6 = ai->ai_family == AF_INET6;
	if (*v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno == EADDRINUSE)
			fprintf(stderr, "tebiki: port %d is already in use on "
			    "%s; choose another with --port\n", port, addr);
		else
			fprintf(stderr, "tebiki: cannot listen on %s port %d: "
			    "%s\n", addr, port, strerror(errno));
		goto fail;
	}
	if (listen(fd, 128) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		fprintf(stderr, "tebiki: cannot listen on %s port %d: %s\n",
		    addr, port, strerror(errno));
		goto fail;
	}
	*bound = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)(void *)&ss)->sin6_port :
	    ((struct sockaddr_in *)(void *)&ss)->sin_port);
	freeaddrinfo(ai);
	return fd;
fail:
	if (fd != -1)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

struct srv *
srv_start(const struct srv_opts *o)
{
	struct srv *s;
	pthread_condattr_t ca;
	unsigned int flags;
	int fd, v6 = 0, port = 0;

	fd = listen_on(o->bind ? o->bind : "127.0.0.1", o->port, &v6, &port);
	if (fd == -1)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->root = xstrdup(o->root);
	s->port = port;
	s->keepalive = o->keepalive > 0 ? o->keepalive : KEEPALIVE_SEC;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	flags = MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	    (v6 ? MHD_USE_IPv6 : 0);
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, s,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
	    MHD_OPTION_END);
	if (s->mhd == NULL) {
		fprintf(stderr, "tebiki: cannot start the HTTP server on port "
		    "%d\n", port);
		close(fd);
		srv_stop(s);
		return NULL;
	}
	return s;
}

int
srv_port(const struct srv *s)
{
	return s->port;
}

void
srv_built(struct srv *s, const char *const *paths, size_t n, int preview)
{
	struct buf j = BUF_INIT;
	size_t i;

	/* pages showing a build's errors reload when a build succeeds */
	pthread_mutex_lock(&s->lock);
	if (s->err && !preview)
		paths = NULL;
	pthread_mutex_unlock(&s->lock);
	if (paths) {
		buf_putc(&j, '[');
		for (i = 0; i < n; i++) {
			if (i)
				buf_putc(&j, ',');
			val_json_string(&j, paths[i], strlen(paths[i]));
		}
		buf_putc(&j, ']');
	}
	pthread_mutex_lock(&s->lock);
	free(s->paths);
	s->paths = paths ? buf_detach(&j) : NULL;
	s->gen++;
	if (s->err && !preview) {
		free(s->err);
		s->err = NULL;
		s->eseq++;
	}
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void
srv_failed(struct srv *s, const char *text)
{
	pthread_mutex_lock(&s->lock);
	free(s->err);
	s->err = xstrdup(text);
	s->eseq++;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void
srv_stop(struct srv *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s->err);
	free(s->paths);
	free(s->root);
	free(s);
}
