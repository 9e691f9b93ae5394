/*
 * gfm_roundtrip: for every example of cmark spec files (spec.txt,
 * extensions.txt), renders the Markdown plainly and after a forced round
 * trip through Lua elements (cmark -> pandoc-style Lua -> cmark, even
 * though nothing changed); the HTML must be byte-identical.  Both with and
 * without raw HTML allowed.
 *
 *   gfm_roundtrip [-v] spec.txt [extensions.txt ...]
 *
 * Prints each mismatch (with -v: the HTML too), then
 * "lossless: N/M examples" and "N passed, N failed"; exits 1 on mismatch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "buf.h"
#include "diag.h"
#include "luaast.h"
#include "luasandbox.h"
#include "markdown.h"
#include "util.h"

struct rt {
	cmark_node		*root;
	struct ast_build	 b;
};

/* Protected: Lua elements and back. */
static int
roundtrip(lua_State *L)
{
	struct rt *r = lua_touserdata(L, 1);
	struct sbx *s;
	void *ud;

	lua_getallocf(L, &ud);
	s = ud;
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->tebiki_ref);
	ast_push_doc(L, lua_gettop(L), r->root);
	ast_build_doc(L, -1, &r->b);
	return 0;
}

/* Renders `md` plainly or after the round trip into out. 0 or -1. */
static int
render(struct sbx *s, const char *md, size_t len, int unsafe, int trip,
    struct buf *out)
{
	struct md_doc doc;
	struct rt r;
	int rc = 0;

	md_parse(&doc, md, len, unsafe);
	md_assign_ids(&doc);
	if (trip) {
		memset(&r, 0, sizeof(r));
		r.root = doc.root;
		r.b.allow_raw_html = unsafe;
		lua_pushcfunction(s->L, roundtrip);
		lua_pushlightuserdata(s->L, &r);
		if (sbx_pcall(s, 1, 0) != LUA_OK) {
			fprintf(stderr, "lua error: %s\n",
			    lua_tostring(s->L, -1));
			lua_pop(s->L, 1);
			if (r.b.root)
				cmark_node_free(r.b.root);
			rc = -1;
		} else {
			cmark_node_free(doc.root);
			doc.root = r.b.root;
		}
		ast_build_release(&r.b);
	}
	if (rc == 0)
		md_render(&doc, out);
	md_release(&doc);
	return rc;
}

static int
is_fence(const char *line)
{
	return strncmp(line, "````````````````````````````````", 32) == 0;
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

int
main(int argc, char **argv)
{
	struct diag d;
	struct sbx *s;
	struct buf text = BUF_INIT, md = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	char *p, *line, *nl;
	int i, verbose = 0, total = 0, good = 0, state, lineno, exline, u, ok;

	diag_init(&d);
	md_init();
	s = sbx_new("/dev/null", "filters/identity.lua", NULL, 0, 0, &d);
	if (s == NULL) {
		diag_flush(&d, stderr, DIAG_TEXT);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
			continue;
		}
		buf_reset(&text);
		if (util_read_file(argv[i], &text) == -1) {
			fprintf(stderr, "gfm_roundtrip: cannot read '%s'\n",
			    argv[i]);
			return 2;
		}
		state = 0;
		lineno = 0;
		exline = 0;
		for (p = text.ptr; *p; p = nl ? nl + 1 : p + strlen(p)) {
			nl = strchr(p, '\n');
			line = p;
			lineno++;
			if (state == 0) {
				if (is_fence(line) && strncmp(line + 32,
				    " example", 8) == 0) {
					state = 1;
					exline = lineno;
					buf_reset(&md);
				}
			} else if (state == 1) {
				if (line[0] == '.' && (line[1] == '\n' ||
				    line[1] == '\0'))
					state = 2;
				else
					buf_put(&md, line, nl ? (size_t)(nl -
					    line) + 1 : strlen(line));
			} else if (is_fence(line)) {
				state = 0;
				untab(&md);
				total++;
				ok = 1;
				for (u = 0; u <= 1; u++) {
					buf_reset(&a);
					buf_reset(&b);
					render(s, md.ptr, md.len, u, 0, &a);
					if (render(s, md.ptr, md.len, u, 1,
					    &b) == -1 || a.len != b.len ||
					    memcmp(a.ptr, b.ptr, a.len) != 0) {
						ok = 0;
						printf("MISMATCH %s:%d "
						    "(unsafe=%d)\n", argv[i],
						    exline, u);
						if (verbose)
							printf("--- md\n%s--- "
							    "plain\n%s--- "
							    "trip\n%s---\n",
							    md.ptr, a.ptr,
							    b.ptr);
					}
				}
				good += ok;
			}
			if (nl == NULL)
				break;
		}
	}
	sbx_free(s);
	buf_release(&text);
	buf_release(&md);
	buf_release(&a);
	buf_release(&b);
	diag_release(&d);
	printf("lossless: %d/%d examples\n", good, total);
	printf("%d passed, %d failed\n", good, total - good);
	return good == total && total > 0 ? 0 : 1;
}
