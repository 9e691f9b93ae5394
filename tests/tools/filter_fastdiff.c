/*
 * filter_fastdiff: the C walker (luawalk.h) against the Lua walker.  Every
 * input page is filtered twice by each fixture filter, once with the C
 * walker allowed and once with flt_opts.lua_walk_only, and the results must
 * be the same: both fail, or both succeed with byte-identical HTML.
 *
 *   filter_fastdiff [-v] repo-root file...
 *
 * Each file is Markdown (front matter is skipped), or a GFM spec file
 * (spec.txt, extensions.txt: every example is one page).  The filters are
 * the shipped filters/control-links.lua and filters/glossary.lua (with a
 * SITE that has controls and glossary terms) and fixtures below that change
 * inlines and blocks in many ways.  Prints each mismatch (-v: with both
 * HTML outputs), then "N passed, N failed"; exits 1 on a mismatch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "filter.h"
#include "markdown.h"
#include "util.h"
#include "value.h"
#include "yml.h"

/* Fixture filters: every one qualifies for the C walker (topdown, element
 * functions only). */
static const char *const fixtures[] = {
	/* strings and words */
	"return {{ traverse = 'topdown', Str = function(s)\n"
	"  return pandoc.Str(s.text:upper()) end }}",
	"return {{ traverse = 'topdown', Str = function(s)\n"
	"  if s.text:find('o') then return pandoc.Emph{s}, false end end }}",
	"return {{ traverse = 'topdown', Str = function(s)\n"
	"  if s.text:find('o') then\n"
	"  return pandoc.Emph{ pandoc.Str((s.text:gsub('o', '0'))) } end end,\n"
	"  Emph = function(e) if #e.content > 3 then return {} end end }}",
	"return {{ traverse = 'topdown', Str = function(s)\n"
	"  if s.text == 'foo' then return 'x y  z' end end }}",
	"return {{ traverse = 'topdown', Space = function()\n"
	"  return pandoc.Str('_') end }}",
	"return {{ traverse = 'topdown', SoftBreak = function()\n"
	"  return pandoc.LineBreak() end, LineBreak = function()\n"
	"  return pandoc.Space() end }}",
	/* in-place changes: returned, or not returned (kept only when the
	 * page changes otherwise) */
	"return {{ traverse = 'topdown', Str = function(s)\n"
	"  if s.text:find('a') then s.text = s.text .. '!' end end,\n"
	"  Code = function(c) return pandoc.Str(c.text) end }}",
	"return {{ traverse = 'topdown', Str = function(s)\n"
	"  if s.text:find('a') then s.text = s.text .. '!' end end }}",
	"return {{ traverse = 'topdown', Link = function(l)\n"
	"  l.target = 'https://example.org/' .. l.target return l, false end,\n"
	"  Image = function(i) i.title = 'T' end }}",
	"return {{ traverse = 'topdown', Link = function(l)\n"
	"  l.content[1] = pandoc.Str('L') end, Str = function(s)\n"
	"  if s.text == 'bar' then return pandoc.Str('BAR') end end }}",
	"return {{ traverse = 'topdown', Header = function(h)\n"
	"  return h, false end, Link = function(l) return l, false end,\n"
	"  Code = function(c) return c end }}",
	/* blocks */
	"return {{ traverse = 'topdown', Header = function(h)\n"
	"  h.level = h.level + 1 h.identifier = '' return h end }}",
	"return {{ traverse = 'topdown', Header = function(h)\n"
	"  return { h, pandoc.HorizontalRule() }, false end,\n"
	"  CodeBlock = function() return {} end }}",
	"return {{ traverse = 'topdown', Para = function(p)\n"
	"  return pandoc.Plain(p.content) end }}",
	"return {{ traverse = 'topdown', Plain = function(p)\n"
	"  return pandoc.Para(p.content) end }}",
	"return {{ traverse = 'topdown', BlockQuote = function(b)\n"
	"  return b.content end, BulletList = function(l)\n"
	"  return pandoc.OrderedList(l.content) end }}",
	"return {{ traverse = 'topdown', Table = function(t) return t end,\n"
	"  Strong = function(s) return pandoc.Underline(s.content) end }}",
	"return {{ traverse = 'topdown', RawInline = function(r)\n"
	"  return pandoc.Code(r.text) end, RawBlock = function(r)\n"
	"  return pandoc.CodeBlock(r.text) end }}",
	"return {{ traverse = 'topdown', Code = function(c)\n"
	"  return pandoc.Link(c.text, '#' .. c.text, '',\n"
	"  { class = 'code', ['data-x'] = c.text }) end }}",
	/* notes made by filters are numbered in page order */
	"return {{ traverse = 'topdown', Str = function(s)\n"
	"  if s.text:find('^[Ff]oo') or s.text == 'A.8.13' then\n"
	"  return { s, pandoc.Note{ pandoc.Para('note ' .. s.text) } }, false\n"
	"  end end }}",
	/* state across calls: numbering in call order */
	"local n = 0\n"
	"return {{ traverse = 'topdown', Str = function(s)\n"
	"  n = n + 1 if n % 7 == 0 then return pandoc.Str(s.text .. n) end\n"
	"  end, Header = function(h) n = n + 100 end }}",
	/* str_pattern: Str returns nil for the others */
	"return {{ traverse = 'topdown', str_pattern = '%d',\n"
	"  Str = function(s) if s.text:find('%d') then\n"
	"  return pandoc.Strong{s}, false end end }}",
	/* str_pattern with literals, sets and quantifiers: the C side skips
	 * runs that lack a byte every match contains (luawalk.c pat_needs) */
	"return {{ traverse = 'topdown', str_pattern = 'A%.%d+%.1',\n"
	"  Str = function(s) if s.text:find('A%.%d+%.1') then\n"
	"  return pandoc.Strong{s}, false end end }}",
	"return {{ traverse = 'topdown', str_pattern = '^[Ff]o+[%]x]-r?%.?$',\n"
	"  Str = function(s) if s.text:find('^[Ff]o+[%]x]-r?%.?$') then\n"
	"  return pandoc.Emph{s}, false end end }}",
	"return {{ traverse = 'topdown', str_pattern = '%b()',\n"
	"  Str = function(s) if s.text:find('%b()') then\n"
	"  return pandoc.Emph{s}, false end end }}",
	/* skip: elements passed over (kept, not walked into) */
	"return {{ traverse = 'topdown', skip = { 'Link', 'Header' },\n"
	"  str_pattern = '%d', Str = function(s) if s.text:find('%d') then\n"
	"  return pandoc.Strong{s}, false end end }}",
	"return {{ traverse = 'topdown', skip = { 'Emph', 'BlockQuote', 'Table' },\n"
	"  Str = function(s) return pandoc.Str(s.text:upper()) end,\n"
	"  Emph = function(e) return pandoc.Str('never') end }}",
	"local n = 0\n"
	"return {{ traverse = 'topdown', skip = { 'Str', 'Space', 'CodeBlock' },\n"
	"  Code = function(c) n = n + 1 return pandoc.Str(c.text .. n) end,\n"
	"  Header = function(h) h.level = 2 return h end }}",
	/* errors */
	"return {{ traverse = 'topdown', Str = function(s)\n"
	"  if s.text == 'baz' then error('boom') end end }}",
	"return {{ traverse = 'topdown', Emph = function(e)\n"
	"  return pandoc.Para('x') end }}",
};

struct filt {
	const char		*name;
	char			*path;
	struct flt_worker	*fast;
	struct flt_worker	*lua;
};

/* SITE for the shipped filters: a few controls and glossary terms. */
static struct value *
make_site(void)
{
	static const char yaml[] =
	    "pages: []\n"
	    "controls:\n"
	    "  '8.13': {key: '8.13', url: controls/8.13.html, title: Backup}\n"
	    "  '5.1': {key: '5.1', url: controls/5.1.html, title: Policies}\n"
	    "  '6.2': {key: '6.2', url: controls/6.2.html, title: Terms}\n"
	    "glossary:\n"
	    "  - {term: foo, anchor: foo, definition: 'The <foo> term'}\n"
	    "  - {term: バックアップ, anchor: backup, definition: Copies,\n"
	    "     aliases: [backup]}\n"
	    "  - {term: link, anchor: link, definition: A link}\n";
	struct diag d;
	struct value *v;

	diag_init(&d);
	v = yml_parse(yaml, sizeof(yaml) - 1, "site", 1, &d);
	if (v == NULL) {
		diag_flush(&d, stderr, DIAG_TEXT);
		exit(2);
	}
	diag_release(&d);
	return v;
}

/* Filters `md` with worker w; *html gets the HTML or the diagnostics.
 * Returns 0 or -1. */
static int
run(struct flt_worker *w, const char *md, size_t len, struct buf *html)
{
	struct flt_page p;
	struct md_doc doc;
	struct value *tmpl = NULL;
	struct diag d;
	char *mbuf = NULL;
	size_t mlen = 0;
	FILE *f;
	int rc;

	memset(&p, 0, sizeof(p));
	p.path = "content/sub/page.md";
	p.id = "page";
	p.type = "page";
	p.title = "Page";
	p.url = "sub/page.html";
	diag_init(&d);
	md_parse(&doc, md, len, 0);
	md_assign_ids(&doc);
	p.doc = doc.root;
	buf_reset(html);
	rc = flt_worker_page(w, &p, 0, &doc.root, &tmpl, &d);
	if (rc == 0) {
		md_render(&doc, html);
	} else {
		f = open_memstream(&mbuf, &mlen);
		diag_flush(&d, f, DIAG_TEXT);
		fclose(f);
		buf_puts(html, mbuf);
		free(mbuf);
	}
	val_unref(tmpl);
	md_release(&doc);
	diag_release(&d);
	return rc;
}

static int verbose, passed, failed;

/* Runs every filter over one page and compares. */
static void
check(struct filt *fs, size_t nf, const char *md, size_t len,
    const char *where)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t i;
	int ra, rb;

	for (i = 0; i < nf; i++) {
		ra = run(fs[i].fast, md, len, &a);
		rb = run(fs[i].lua, md, len, &b);
		if (ra == rb && (ra != 0 || (a.len == b.len &&
		    memcmp(a.ptr, b.ptr, a.len) == 0))) {
			passed++;
			continue;
		}
		failed++;
		printf("MISMATCH %s with %s (C walker %s, Lua walker %s)\n",
		    where, fs[i].name, ra ? "failed" : "ok",
		    rb ? "failed" : "ok");
		if (verbose)
			printf("--- input\n%s--- C walker\n%s--- Lua walker\n"
			    "%s---\n", md, a.ptr ? a.ptr : "",
			    b.ptr ? b.ptr : "");
	}
	buf_release(&a);
	buf_release(&b);
}

/* Replaces "→" by a tab (the spec's notation). */
static void
untab(struct buf *b)
{
	struct buf o = BUF_INIT;
	size_t i;

	for (i = 0; i < b->len; i++) {
		if (i + 2 < b->len && (unsigned char)b->ptr[i] == 0xe2 &&
		    (unsigned char)b->ptr[i + 1] == 0x86 &&
		    (unsigned char)b->ptr[i + 2] == 0x92) {
			buf_putc(&o, '\t');
			i += 2;
		} else {
			buf_putc(&o, b->ptr[i]);
		}
	}
	buf_reset(b);
	buf_put(b, o.ptr, o.len);
	buf_release(&o);
}

/* Every example of a spec file; returns their number. */
static int
spec_file(struct filt *fs, size_t nf, const char *path, const char *text)
{
	const char *fence = "````````````````````````````````";
	struct buf md = BUF_INIT;
	const char *p = text, *nl;
	char *where;
	int state = 0, n = 0, line = 0, exline = 0;

	for (; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		line++;
		if (strncmp(p, fence, strlen(fence)) == 0) {
			if (state == 0 && strstr(p, "example") != NULL &&
			    strstr(p, "example") < (nl ? nl : p + strlen(p))) {
				state = 1;
				exline = line;
				buf_reset(&md);
			} else if (state != 0) {
				untab(&md);
				where = xasprintf("%s:%d", path, exline);
				check(fs, nf, md.ptr ? md.ptr : "", md.len,
				    where);
				free(where);
				state = 0;
				n++;
			}
		} else if (state == 1) {
			if (strncmp(p, ".", 1) == 0 && (p[1] == '\n' ||
			    p[1] == '\0'))
				state = 2;
			else
				buf_put(&md, p, nl ? (size_t)(nl - p) + 1 :
				    strlen(p));
		}
		if (nl == NULL)
			break;
	}
	buf_release(&md);
	return n;
}

int
main(int argc, char **argv)
{
	struct filt fs[sizeof(fixtures) / sizeof(fixtures[0]) + 2];
	struct flt_file file;
	struct flt_opts o;
	struct value *site = make_site();
	struct buf text = BUF_INIT;
	struct diag d;
	char dir[] = "/tmp/tebiki-fastdiff-XXXXXX";
	const char *root, *body;
	size_t nf = 0, i;
	int a = 1, k;

	if (a < argc && strcmp(argv[a], "-v") == 0) {
		verbose = 1;
		a++;
	}
	if (a >= argc) {
		fprintf(stderr, "usage: filter_fastdiff [-v] repo-root "
		    "file...\n");
		return 2;
	}
	root = argv[a++];
	md_init();
	diag_init(&d);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	fs[nf].name = "filters/control-links.lua";
	fs[nf++].path = util_path_join(root, "filters/control-links.lua");
	fs[nf].name = "filters/glossary.lua";
	fs[nf++].path = util_path_join(root, "filters/glossary.lua");
	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		fs[nf].name = xasprintf("fixture %zu", i + 1);
		fs[nf].path = xasprintf("%s/f%zu.lua", dir, i + 1);
		util_write_file(fs[nf].path, fixtures[i], strlen(fixtures[i]));
		nf++;
	}
	for (i = 0; i < nf; i++) {
		memset(&o, 0, sizeof(o));
		file.path = fs[i].path;
		file.display = fs[i].name;
		o.files = &file;
		o.nfiles = 1;
		o.site_dir = dir;
		fs[i].fast = flt_worker_new(&o, site, &d);
		o.lua_walk_only = 1;
		fs[i].lua = flt_worker_new(&o, site, &d);
		if (fs[i].fast == NULL || fs[i].lua == NULL) {
			diag_flush(&d, stderr, DIAG_TEXT);
			return 2;
		}
	}
	for (k = a; k < argc; k++) {
		buf_reset(&text);
		if (util_read_file(argv[k], &text) == -1) {
			fprintf(stderr, "filter_fastdiff: cannot read '%s'\n",
			    argv[k]);
			return 2;
		}
		if (util_has_suffix(argv[k], ".txt")) {
			spec_file(fs, nf, argv[k], text.ptr);
			continue;
		}
		body = text.ptr;
		if (strncmp(body, "---\n", 4) == 0 &&
		    (body = strstr(body + 4, "\n---\n")) != NULL)
			body += 5;
		else
			body = text.ptr;
		check(fs, nf, body, strlen(body), argv[k]);
	}
	for (i = 0; i < nf; i++) {
		flt_worker_free(fs[i].fast);
		flt_worker_free(fs[i].lua);
		if (i >= 2) {
			unlink(fs[i].path);	/* not the shipped filters */
			free((char *)fs[i].name);
		}
		free(fs[i].path);
	}
	rmdir(dir);
	val_unref(site);
	buf_release(&text);
	diag_release(&d);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
