/*
 * filter_bench: milliseconds per page for parse + render without filters,
 * with a filter that has no element functions (no conversion), with a
 * Pandoc function only (conversion, no walk), with an identity element filter (conversion to Lua, nothing changed, the cmark
 * tree is kept) and with a filter that returns every Str (full round trip).
 *
 *   filter_bench [pages]        (default 200 pages of ~6 KiB)
 *
 * Figures only; nothing is asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "filter.h"
#include "markdown.h"
#include "util.h"
#include "value.h"

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void
page_text(struct buf *b)
{
	int i;

	for (i = 0; i < 20; i++) {
		buf_printf(b, "## Section %d\n\nThe backup of *system %d* is "
		    "checked against control A.8.13 every week, see "
		    "[the procedure](procedures/backup.html) and `rsync`.\n\n"
		    "- item one\n- item two with **bold**\n- [ ] a task\n\n"
		    "| a | b |\n|---|:-:|\n| %d | x |\n\n", i, i, i);
	}
}

/* Runs `lua` (NULL: no filter) over n pages; returns ms per page. */
static double
bench(const char *lua, int n, const char *text, size_t len)
{
	struct flt_file f = { "/tmp/tebiki-bench.lua", "filters/bench.lua" };
	struct flt_opts o;
	struct flt_page p;
	struct flt_worker *w = NULL;
	struct md_doc doc;
	struct value *tmpl;
	struct diag d;
	struct buf out = BUF_INIT;
	double t0;
	int i;

	diag_init(&d);
	memset(&o, 0, sizeof(o));
	memset(&p, 0, sizeof(p));
	p.path = "content/bench.md";
	if (lua) {
		util_write_file(f.path, lua, strlen(lua));
		o.files = &f;
		o.nfiles = 1;
		w = flt_worker_new(&o, NULL, &d);
		if (w == NULL) {
			diag_flush(&d, stderr, DIAG_TEXT);
			exit(1);
		}
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		md_parse(&doc, text, len, 0);
		md_assign_ids(&doc);
		if (w) {
			p.doc = doc.root;
			if (flt_worker_page(w, &p, 0, &doc.root, &tmpl, &d) ==
			    -1) {
				diag_flush(&d, stderr, DIAG_TEXT);
				exit(1);
			}
			val_unref(tmpl);
		}
		buf_reset(&out);
		md_render(&doc, &out);
		md_release(&doc);
	}
	t0 = (now() - t0) / n;
	flt_worker_free(w);
	buf_release(&out);
	diag_release(&d);
	unlink(f.path);
	return t0;
}

int
main(int argc, char **argv)
{
	struct buf text = BUF_INIT;
	int n = argc > 1 ? atoi(argv[1]) : 200;
	double base, meta, conv, ident, trip;

	md_init();
	page_text(&text);
	base = bench(NULL, n, text.ptr, text.len);
	meta = bench("return { template = function(p) return {} end }", n,
	    text.ptr, text.len);
	conv = bench("return {{ Pandoc = function(d) end }}", n, text.ptr,
	    text.len);
	ident = bench("return {{ Str = function(s) end }}", n, text.ptr,
	    text.len);
	trip = bench("return {{ Str = function(s) return s end }}", n,
	    text.ptr, text.len);
	printf("page: %zu bytes, %d pages\n", text.len, n);
	printf("no filter:              %.3f ms/page\n", base);
	printf("no element functions:   %.3f ms/page\n", meta);
	printf("conversion only:        %.3f ms/page\n", conv);
	printf("identity (Str -> nil):  %.3f ms/page\n", ident);
	printf("round trip (Str -> s):  %.3f ms/page\n", trip);
	buf_release(&text);
	return 0;
}
