/*
 * filter_bench: milliseconds of CPU time per page (so that the figures do
 * not depend much on the load of the machine) for parse + render without
 * filters, with a filter that has no element functions (no conversion),
 * with a Pandoc function only (conversion, no walk), with an identity
 * element filter (conversion to Lua, nothing changed, the cmark tree is
 * kept), with a filter that returns every Str (full round trip), with the
 * shipped filters/control-links.lua (a topdown Str filter that links
 * control ids; SITE.controls has 93 controls) and a topdown Code filter,
 * both with the C walker (luawalk.h) and with the Lua walker only
 * (flt_opts.lua_walk_only), and the site phase
 * (flt_site_run: every file loaded, collect(page) for every page) of
 * control-links.lua per page.
 *
 *   filter_bench [pages [repo-root [page.md]]]
 *
 * (default 200 pages of ~4.5 KiB, "."; page.md: a page of one's own
 * instead, its front matter left out).  FILTER_BENCH_ONLY=1 runs only
 * control-links.lua with the C walker, for a profiler.
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

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
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
		    "| a | b |\n|---|:-:|\n| %d | x |\n\n"
		    "\xe3\x83\x90\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xa2"
		    "\xe3\x83\x83\xe3\x83\x97\xef\xbc\x88\xe7\xae\xa1"
		    "\xe7\x90\x86\xe7\xad\x96%d.%d\xef\xbc\x89\xe3\x80"
		    "\x82\n\n", i, i, i, 5 + i % 4, 1 + i % 30);
	}
}

/* SITE.controls: 5.1 .. 8.34 ({key, url, title}), like the catalogs. */
static struct value *
make_extra(void)
{
	struct value *extra = val_map(), *ctl = val_map(), *c;
	static const int per[] = { 37, 8, 14, 34 };
	char key[16], url[48];
	int i, j;

	for (i = 0; i < 4; i++) {
		for (j = 1; j <= per[i]; j++) {
			snprintf(key, sizeof(key), "%d.%d", 5 + i, j);
			snprintf(url, sizeof(url), "controls/%s.html", key);
			c = val_map();
			val_set(c, "key", val_str(key));
			val_set(c, "url", val_str(url));
			val_set(c, "title", val_str("Control"));
			val_set(ctl, key, c);
		}
	}
	val_set(extra, "controls", ctl);
	return extra;
}

/* Runs flt_site_run for the file `path` over n copies of the page (with
 * its plain text); returns ms per page. */
static double
bench_site(const char *path, int n, const char *text)
{
	struct flt_file f = { path, "filters/bench.lua" };
	struct flt_opts o;
	struct flt_page *p = xcalloc((size_t)n, sizeof(*p));
	struct flt_site *site;
	struct value *extra = make_extra(), *meta = val_map();
	struct diag d;
	char **names = xcalloc((size_t)n, sizeof(*names));
	double t0;
	int i;

	diag_init(&d);
	memset(&o, 0, sizeof(o));
	o.files = &f;
	o.nfiles = 1;
	val_set(meta, "title", val_str("Backup"));
	for (i = 0; i < n; i++) {
		names[i] = xasprintf("content/p%06d.md", i);
		p[i].path = names[i];
		p[i].id = names[i] + 8;
		p[i].url = names[i] + 8;
		p[i].type = "procedure";
		p[i].title = "Backup";
		p[i].meta = meta;
		p[i].text = text;
	}
	t0 = now();
	site = flt_site_new(&o, &d);
	if (site == NULL || flt_site_run(site, p, (size_t)n, extra, NULL, &d) ==
	    -1) {
		diag_flush(&d, stderr, DIAG_TEXT);
		exit(1);
	}
	t0 = (now() - t0) / n;
	flt_site_free(site);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(p);
	val_unref(extra);
	val_unref(meta);
	diag_release(&d);
	return t0;
}

/* Runs `lua` (NULL: no filter) over n pages; returns ms per page.  With
 * `path`, the filter is that file instead (and `lua` is ignored). */
static double
bench(const char *lua, const char *path, int n, const char *text,
    size_t len, int lua_only)
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
	p.url = "procedures/bench.html";
	if (lua || path) {
		struct value *extra = make_extra();

		if (path)
			f.path = path;
		else
			util_write_file(f.path, lua, strlen(lua));
		o.files = &f;
		o.nfiles = 1;
		o.lua_walk_only = lua_only;
		w = flt_worker_new(&o, extra, &d);
		val_unref(extra);
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
	if (lua && !path)
		unlink(f.path);
	return t0;
}

int
main(int argc, char **argv)
{
	struct buf text = BUF_INIT;
	int n = argc > 1 ? atoi(argv[1]) : 200;
	const char *root = argc > 2 ? argv[2] : ".";
	char *ctl = util_path_join(root, "filters/control-links.lua");
	double base, meta, conv, ident, trip, links, links_lua, code, code_lua;
	double site;

	md_init();
	if (n <= 0)
		n = 200;
	if (argc > 3) {
		/* a page of one's own (its body: front matter left out) */
		const char *e;

		if (util_read_file(argv[3], &text) == -1) {
			perror(argv[3]);
			return 1;
		}
		if (text.len > 4 && memcmp(text.ptr, "---\n", 4) == 0 &&
		    (e = strstr(text.ptr + 4, "\n---\n")) != NULL) {
			size_t skip = (size_t)(e + 5 - text.ptr);

			memmove(text.ptr, text.ptr + skip, text.len - skip + 1);
			text.len -= skip;
		}
	} else {
		page_text(&text);
	}
	if (getenv("FILTER_BENCH_ONLY") != NULL) {
		/* control-links.lua alone, C walker: for a profiler */
		links = bench(NULL, ctl, n, text.ptr, text.len, 0);
		printf("control-links.lua:      %.3f ms/page\n", links);
		free(ctl);
		buf_release(&text);
		return 0;
	}
	base = bench(NULL, NULL, n, text.ptr, text.len, 0);
	meta = bench("return { template = function(p) return {} end }", NULL,
	    n, text.ptr, text.len, 0);
	conv = bench("return {{ Pandoc = function(d) end }}", NULL, n,
	    text.ptr, text.len, 0);
	ident = bench("return {{ Str = function(s) end }}", NULL, n,
	    text.ptr, text.len, 0);
	trip = bench("return {{ Str = function(s) return s end }}", NULL, n,
	    text.ptr, text.len, 0);
	links = bench(NULL, ctl, n, text.ptr, text.len, 0);
	links_lua = bench(NULL, ctl, n, text.ptr, text.len, 1);
	code = bench("return {{ traverse = 'topdown', Code = function(c) "
	    "return pandoc.Str(c.text) end }}", NULL, n, text.ptr, text.len, 0);
	code_lua = bench("return {{ traverse = 'topdown', Code = function(c) "
	    "return pandoc.Str(c.text) end }}", NULL, n, text.ptr, text.len, 1);
	site = bench_site(ctl, n * 10, text.ptr);
	printf("page: %zu bytes, %d pages\n", text.len, n);
	printf("no filter:              %.3f ms/page\n", base);
	printf("no element functions:   %.3f ms/page\n", meta);
	printf("conversion only:        %.3f ms/page\n", conv);
	printf("identity (Str -> nil):  %.3f ms/page\n", ident);
	printf("round trip (Str -> s):  %.3f ms/page\n", trip);
	printf("control-links.lua:      %.3f ms/page (Lua walker: %.3f)\n",
	    links, links_lua);
	printf("topdown Code -> Str:    %.3f ms/page (Lua walker: %.3f)\n",
	    code, code_lua);
	printf("site phase (collect):   %.3f ms/page (control-links.lua, "
	    "%d pages)\n", site, n * 10);
	free(ctl);
	buf_release(&text);
	return 0;
}
