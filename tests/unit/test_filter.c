/*
 * Unit tests for the Lua filter sandbox and API edges: every escape attempt
 * fails with a clear message, quickly, without crashing or leaking.
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

#include "harness.h"

static char dir[] = "/tmp/tebiki-ut-XXXXXX";

/* Runs `lua` as filters/t.lua on a one-paragraph page with the given
 * limits; returns the worker's status, *out gets the diagnostics (or the
 * HTML when `html` is set).  Caller frees *out. */
static int
run_filter(const char *lua, long budget, size_t mem, int html, char **out,
    double *secs)
{
	struct flt_file f;
	struct flt_opts o;
	struct flt_page p;
	struct flt_worker *w;
	struct md_doc doc;
	struct value *tmpl = NULL;
	struct diag d;
	struct buf b = BUF_INIT;
	struct timespec t0, t1;
	char *path, *mbuf = NULL;
	size_t mlen = 0;
	FILE *mem_f;
	int rc = -1;

	path = util_path_join(dir, "filters/t.lua");
	util_write_file(path, lua, strlen(lua));
	memset(&o, 0, sizeof(o));
	f.path = path;
	f.display = "filters/t.lua";
	o.site_dir = dir;
	o.files = &f;
	o.nfiles = 1;
	o.instr_budget = budget;
	o.mem_cap = mem;
	memset(&p, 0, sizeof(p));
	p.path = "content/t.md";
	p.id = "t";
	p.type = "page";
	p.title = "T";
	p.url = "t.html";
	diag_init(&d);
	md_parse(&doc, "hello *world*\n", 14, 0);
	md_assign_ids(&doc);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	w = flt_worker_new(&o, NULL, &d);
	if (w) {
		p.doc = doc.root;
		rc = flt_worker_page(w, &p, 0, &doc.root, &tmpl, &d);
		flt_worker_free(w);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (secs)
		*secs = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (html) {
		md_render(&doc, &b);
		*out = buf_detach(&b);
	} else {
		mem_f = open_memstream(&mbuf, &mlen);
		diag_flush(&d, mem_f, DIAG_TEXT);
		fclose(mem_f);
		*out = mbuf;
	}
	val_unref(tmpl);
	md_release(&doc);
	diag_release(&d);
	free(path);
	return rc;
}

/* Expects the filter to fail with `want` in the message, within 10 s. */
static void
expect_fail(const char *lua, const char *want, long budget, size_t mem)
{
	char *out = NULL;
	double secs = 0;
	int rc = run_filter(lua, budget, mem, 0, &out, &secs);

	OK(rc == -1, "filter should fail: %s", lua);
	OK(out && strstr(out, want) != NULL, "message for %s:\n  got  %s\n"
	    "  want ...%s...", lua, out ? out : "(null)", want);
	OK(out && strstr(out, "(while filtering content/t.md") != NULL,
	    "message names the page: %s", out ? out : "(null)");
	OK(secs < 10.0, "%s took %.1f s", lua, secs);
	free(out);
}

static void
expect_html(const char *lua, const char *want)
{
	char *out = NULL;
	int rc = run_filter(lua, 0, 0, 1, &out, NULL);

	INT_EQ(rc, 0, lua);
	STR_EQ(out, want, lua);
	free(out);
}

/* The C API of the site phases: data, frozen site, added pages. */
static void
test_site_api(void)
{
	static const char lua[] =
	    "return {\n"
	    "  collect = function(page) page.data.n = #page.doc.blocks\n"
	    "    page.data.t = page.meta.tags end,\n"
	    "  link = function(site)\n"
	    "    site.data.count = #site.pages\n"
	    "    site.pages[1].data.seen = site.config.name\n"
	    "    site.add_page{ path = 'content/x.md', title = 'X',\n"
	    "      markdown = '# X', meta = { k = 1.5 } }\n"
	    "  end }\n";
	struct flt_file f;
	struct flt_opts o;
	struct flt_page p;
	struct flt_site *site;
	const struct flt_added *added;
	struct value *meta, *extra;
	struct md_doc doc;
	struct diag d;
	struct buf j = BUF_INIT;
	char *path;

	path = util_path_join(dir, "filters/site.lua");
	util_write_file(path, lua, strlen(lua));
	memset(&o, 0, sizeof(o));
	f.path = path;
	f.display = "filters/site.lua";
	o.site_dir = dir;
	o.files = &f;
	o.nfiles = 1;
	diag_init(&d);
	md_parse(&doc, "a\n\nb\n", 6, 0);
	meta = val_map();
	val_set(meta, "tags", val_list());
	val_push(val_get(meta, "tags"), val_str("x"));
	extra = val_map();
	val_set(extra, "config", val_map());
	val_set(val_get(extra, "config"), "name", val_str("handbook"));
	memset(&p, 0, sizeof(p));
	p.path = "content/a.md";
	p.id = "a";
	p.type = "policy";
	p.title = "A";
	p.url = "a.html";
	p.meta = meta;
	p.doc = doc.root;
	site = flt_site_new(&o, &d);
	OK(site != NULL, "site");
	if (site) {
		INT_EQ(flt_site_run(site, &p, 1, extra, NULL, &d), 0, "site run");
		val_to_json(flt_page_data(site, 0), &j);
		STR_EQ(j.ptr, "{\"n\":2,\"seen\":\"handbook\",\"t\":[\"x\"]}",
		    "page data");
		OK(flt_page_data(site, 2) == NULL, "out of range");
		INT_EQ(flt_site_added(site, &added), 1, "added");
		STR_EQ(added[0].path, "content/x.md", "added path");
		STR_EQ(added[0].type, "page", "added type");
		STR_EQ(added[0].markdown, "# X", "added markdown");
		buf_reset(&j);
		val_to_json(added[0].meta, &j);
		STR_EQ(j.ptr, "{\"k\":1.5}", "added meta");
		buf_reset(&j);
		val_to_json(val_get(flt_site_frozen(site), "data"), &j);
		STR_EQ(j.ptr, "{\"count\":1}", "site data");
		buf_reset(&j);
		val_to_json(val_path(flt_site_frozen(site), "pages"), &j);
		OK(strstr(j.ptr, "\"url\":\"x.html\"") != NULL &&
		    strstr(j.ptr, "\"type\":\"policy\"") != NULL,
		    "frozen pages: %s", j.ptr);
		OK(val_path(flt_site_frozen(site), "config.name") != NULL,
		    "extra in frozen site");
	}
	flt_site_free(site);
	buf_release(&j);
	val_unref(meta);
	val_unref(extra);
	md_release(&doc);
	diag_flush(&d, stderr, DIAG_TEXT);
	diag_release(&d);
	free(path);
}

int
main(void)
{
	char *p;

	md_init();
	if (mkdtemp(dir) == NULL)
		return 2;
	p = util_path_join(dir, "filters/helper.lua");
	util_write_file(p, "return { shout = function(s) return s:upper() .. '!' end }\n",
	    58);
	free(p);

	/* the sandbox refuses */
	expect_fail("io.open('/etc/passwd')", "global 'io'", 0, 0);
	expect_fail("os.execute('true')", "field 'execute'", 0, 0);
	expect_fail("os.getenv('HOME')", "field 'getenv'", 0, 0);
	expect_fail("os.remove('/tmp/x')", "field 'remove'", 0, 0);
	expect_fail("require('socket')", "module 'socket' not found", 0, 0);
	expect_fail("require('../../etc/passwd')", "bad module name", 0, 0);
	expect_fail("package.loadlib('libc.so.6', 'system')",
	    "global 'package'", 0, 0);
	expect_fail("string.dump(print)", "field 'dump'", 0, 0);
	expect_fail("assert(('').dump, 'no dump')", "filters/t.lua:1: error: "
	    "no dump", 0, 0);
	expect_fail("assert(load('\\27LuaT\\0\\25\\147\\r\\n\\26\\n'))",
	    "binary chunk", 0, 0);
	expect_fail("debug.sethook()", "global 'debug'", 0, 0);
	expect_fail("dofile('/etc/passwd')", "global 'dofile'", 0, 0);
	expect_fail("loadfile('/etc/passwd')", "global 'loadfile'", 0, 0);
	expect_fail("collectgarbage('stop')", "only 'count'", 0, 0);
	expect_fail("setmetatable(SITE, {})", "protected metatable", 0, 0);
	expect_fail("rawset(SITE, 'x', 1)", "read-only", 0, 0);
	/* limits */
	expect_fail("while true do end", "filters/t.lua:1: error: instruction "
	    "budget exhausted", 20000000L, 0);
	expect_fail("return {{ Str = function() while true do end end }}",
	    "instruction budget exhausted", 20000000L, 0);
	expect_fail("local s = string.rep('x', 1 << 30)", "not enough memory",
	    0, (size_t)64 << 20);
	expect_fail("local s = 'x' while true do s = s .. s end",
	    "not enough memory", 0, (size_t)64 << 20);
	expect_fail("local t = {} for i = 1, 1e9 do t[i] = i end",
	    "not enough memory", 0, (size_t)32 << 20);
	expect_fail("local t = {} for i = 1, 1e9 do t[i] = i end",
	    "may use 32 MB (lua: memory_mb in site.yaml)", 0, (size_t)32 << 20);
	expect_fail("return {{ Para = function() return pandoc.RawBlock('html',"
	    " string.rep('x', 80 << 20)) end }}", "output limit", 0, 0);
	/* with the pooled allocator and the generational collector
	 * (luasandbox.c), garbage is still collected: ~200 MiB of strings
	 * and ~100 MiB of tables made and dropped under a 32 MiB cap */
	{
		char *out = NULL;
		int rc = run_filter("return {{ Str = function(s)\n"
		    "  for i = 1, 2000 do local x = string.rep('y', 100000) .. i end\n"
		    "  for i = 1, 1000000 do local t = { i, i } end\n"
		    "  return s end }}", 0, (size_t)32 << 20, 0, &out, NULL);

		INT_EQ(rc, 0, "garbage under a memory cap is collected");
		STR_EQ(out, "", "garbage under a memory cap: no message");
		free(out);
	}
	/* what is allowed works */
	expect_html("return {{ Str = function(s) return require('helper')"
	    ".shout(s.text) end }}", "<p>HELLO! <em>WORLD!</em></p>\n");
	expect_html("local f = load('return 1 + 1') "
	    "return {{ Str = function(s) if s.text == 'hello' then "
	    "return tostring(f()) .. ' ' .. math.floor(collectgarbage('count') "
	    "* 0) .. os.date('!%Y', 0) end end }}",
	    "<p>2 01970 <em>world</em></p>\n");
	expect_fail("getmetatable('').__index.upper = nil",
	    "field '__index'", 0, 0);
	expect_html("local List = require('pandoc.List') local t = require"
	    "('text') return {{ Str = function(s) return List{ t.upper(s.text) }"
	    " end }}", "<p>HELLO <em>WORLD</em></p>\n");
	expect_html("return {{ Pandoc = function(d) local r = pandoc.read("
	    "'## Read *me*\\n\\n| a |\\n|---|\\n| 1 |\\n') d.blocks:extend("
	    "r.blocks) return d end }}", "<p>hello <em>world</em></p>\n"
	    "<h2 id=\"read-me\">Read <em>me</em></h2>\n<table>\n<thead>\n"
	    "<tr>\n<th>a</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>1</td>\n"
	    "</tr>\n</tbody>\n</table>\n");
	expect_fail("pandoc.read('x', 'latex')", "only Markdown", 0, 0);
	expect_html("return {{ Emph = function(e) return e.content end }}",
	    "<p>hello world</p>\n");
	expect_html("", "<p>hello <em>world</em></p>\n");
	expect_html("return {{ Pandoc = function(d) return d end }}",
	    "<p>hello <em>world</em></p>\n");
	expect_html("local r = math.random(1, 1000000) return {{ Str = "
	    "function(s) if s.text == 'hello' then return tostring(r == "
	    "math.random and 0 or r > 0) end end }}",
	    "<p>true <em>world</em></p>\n");
	test_site_api();
	util_rmtree(dir);
	return DONE();
}
