/*
 * luasandbox: the sandboxed Lua state of one filter file.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <utf8proc.h>

#include "buf.h"
#include "diag.h"
#include "luaast.h"
#include "luaprelude.h"
#include "luasandbox.h"
#include "markdown.h"
#include "util.h"

#define HOOK_EVERY	1000
#define ARM_AFTER_NS	5000000L	/* thread CPU time before the hook */
#define ENV_KEY		"tebiki.env"
#define LOADED_KEY	"tebiki.loaded"

/* ------------------------------------------------------------------ */
/* allocator, hook                                                     */

#define POOL_QUANTUM	16
#ifdef __SANITIZE_ADDRESS__
/* ASan builds (make check): every block comes from malloc, so that a use
 * of freed Lua memory by our C code is still caught */
#define POOL_MAX	0
#else
#define POOL_MAX	(SBX_POOL_CLASSES * POOL_QUANTUM)
#endif
#define POOL_CHUNK	((size_t)64 << 10)

/* The pool size class of a block of n bytes (0 < n <= POOL_MAX). */
static size_t
pool_class(size_t n)
{
	return (n - 1) / POOL_QUANTUM;
}

/* A block of class c from the pool, or NULL when memory is exhausted. */
static void *
pool_get(struct sbx *s, size_t c)
{
	size_t sz = (c + 1) * POOL_QUANTUM;
	void *p = s->pool_free[c], *chunk;

	if (p) {
		memcpy(&s->pool_free[c], p, sizeof(void *));
		return p;
	}
	if (s->pool_left < sz) {
		/* the rest of the old chunk is given up (at most 240 bytes) */
		if ((chunk = malloc(POOL_CHUNK)) == NULL)
			return NULL;
		memcpy(chunk, &s->pool_chunks, sizeof(void *));
		s->pool_chunks = chunk;
		s->pool_cur = (char *)chunk + POOL_QUANTUM;
		s->pool_left = POOL_CHUNK - POOL_QUANTUM;
	}
	p = s->pool_cur;
	s->pool_cur += sz;
	s->pool_left -= sz;
	return p;
}

/* Returns block p of class c to its free list. */
static void
pool_put(struct sbx *s, void *p, size_t c)
{
	memcpy(p, &s->pool_free[c], sizeof(void *));
	s->pool_free[c] = p;
}

/* Frees a block of `size` bytes (pool or malloc). */
static void
block_free(struct sbx *s, void *p, size_t size)
{
	if (p == NULL)
		return;
	if (size > 0 && size <= POOL_MAX)
		pool_put(s, p, pool_class(size));
	else
		free(p);
}

/*
 * lua_Alloc with a cap: growth beyond mem_cap fails, shrinking never does.
 * Lua makes a great many small blocks (tables, strings, closures) and frees
 * them soon; blocks of up to POOL_MAX bytes come from per-state free lists
 * (16-byte classes, carved from 64 KiB chunks) instead of malloc, which is
 * several times faster and keeps glibc from consolidating its heap.  A
 * state belongs to one thread, so the pool needs no lock.
 */
static void *
lalloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct sbx *s = ud;
	size_t old = ptr ? osize : 0;
	void *p;

	if (nsize == 0) {
		block_free(s, ptr, old);
		s->mem_used -= old;
		return NULL;
	}
	if (nsize > old && s->mem_used + (nsize - old) > s->mem_cap)
		return NULL;
	if (old > POOL_MAX && nsize > POOL_MAX) {
		p = realloc(ptr, nsize);
	} else if (old > 0 && old <= POOL_MAX && nsize <= POOL_MAX &&
	    pool_class(old) == pool_class(nsize)) {
		p = ptr;
	} else {
		p = nsize <= POOL_MAX ? pool_get(s, pool_class(nsize)) :
		    malloc(nsize);
		if (p && ptr) {
			memcpy(p, ptr, old < nsize ? old : nsize);
			block_free(s, ptr, old);
		}
	}
	if (p == NULL) {
		if (nsize <= old)
			return ptr;
		return NULL;
	}
	s->mem_used = s->mem_used - old + nsize;
	return p;
}

/* The sbx owning a state (the allocator's user data). */
static struct sbx *
get_sbx(lua_State *L)
{
	void *ud;

	lua_getallocf(L, &ud);
	return ud;
}

/* Seconds since t0 (monotonic clock). */
static double
elapsed(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	    (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Count hook: charges the budget, checks the clock every few calls. */
static void
hook(lua_State *L, lua_Debug *ar)
{
	struct sbx *s = get_sbx(L);
	lua_Debug here;
	const char *why = NULL;

	(void)ar;
	s->left -= HOOK_EVERY;
	if (s->left <= 0)
		why = "instruction budget exhausted";
	else if (++s->ticks % 64 == 0 && elapsed(&s->start) > s->wall)
		why = "time limit exceeded";
	if (why == NULL)
		return;
	if (lua_getstack(L, 0, &here) && lua_getinfo(L, "Sl", &here) &&
	    here.currentline > 0)
		luaL_error(L, "%s:%d: %s", here.short_src, here.currentline,
		    why);
	luaL_error(L, "%s", why);
}

/* ------------------------------------------------------------------ */
/* replaced globals                                                    */

/* print(...): to stderr, prefixed with the filter name. */
static int
l_print(lua_State *L)
{
	struct sbx *s = get_sbx(L);
	struct buf b = BUF_INIT;
	int i, n = lua_gettop(L);
	const char *p;
	size_t len;

	buf_printf(&b, "%s: ", s->display);
	for (i = 1; i <= n; i++) {
		p = luaL_tolstring(L, i, &len);
		if (i > 1)
			buf_putc(&b, '\t');
		buf_put(&b, p, len);
		lua_pop(L, 1);
	}
	buf_putc(&b, '\n');
	fwrite(b.ptr, 1, b.len, stderr);
	buf_release(&b);
	return 0;
}

/* collectgarbage("count") only. */
static int
l_collectgarbage(lua_State *L)
{
	const char *opt = luaL_optstring(L, 1, "count");

	if (strcmp(opt, "count") != 0)
		return luaL_error(L, "collectgarbage: only 'count' is allowed "
		    "in filters");
	lua_pushnumber(L, (lua_Number)lua_gc(L, LUA_GCCOUNT, 0) +
	    (lua_Number)lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
	return 1;
}

/* Pushes the environment `load` and modules default to. */
static void
push_current_env(lua_State *L)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, ENV_KEY) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_pushglobaltable(L);
	}
}

/* load(chunk [, name [, mode [, env]]]): text only, sandbox env. */
static int
l_load(lua_State *L)
{
	luaL_Buffer b;
	const char *src, *name;
	size_t len;
	int st;

	if (lua_type(L, 1) == LUA_TFUNCTION) {
		luaL_buffinit(L, &b);
		for (;;) {
			lua_pushvalue(L, 1);
			lua_call(L, 0, 1);
			if (lua_isnil(L, -1) || (lua_isstring(L, -1) &&
			    lua_rawlen(L, -1) == 0)) {
				lua_pop(L, 1);
				break;
			}
			if (!lua_isstring(L, -1))
				return luaL_error(L, "reader function must "
				    "return a string");
			luaL_addvalue(&b);
		}
		luaL_pushresult(&b);
		lua_replace(L, 1);
	}
	src = luaL_checklstring(L, 1, &len);
	name = luaL_optstring(L, 2, "=(load)");
	st = luaL_loadbufferx(L, src, len, name, "t");
	if (st != LUA_OK) {
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	if (!lua_isnoneornil(L, 4))
		lua_pushvalue(L, 4);
	else
		push_current_env(L);
	if (lua_setupvalue(L, -2, 1) == NULL)
		lua_pop(L, 1);
	return 1;
}

/* 1 when `name` is a plain module name: [A-Za-z0-9_-] parts joined by '.'. */
static int
module_name_ok(const char *name)
{
	const char *p;

	if (*name == '\0' || *name == '.')
		return 0;
	for (p = name; *p; p++) {
		if (*p == '.' && (p[1] == '.' || p[1] == '\0'))
			return 0;
		if (!(*p == '.' || *p == '_' || *p == '-' ||
		    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9')))
			return 0;
	}
	return 1;
}

/* Returns the directory part of `path` (caller frees), "." if none. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	return xstrndup(path, (size_t)(slash - path));
}

/* require(name): Lua files under <site>/filters/ or the filter's directory,
 * loaded as text into their own environment; results cached. */
static int
l_require(lua_State *L)
{
	struct sbx *s = get_sbx(L);
	const char *name = luaL_checkstring(L, 1);
	struct buf rel = BUF_INIT, src = BUF_INIT;
	char *dirs[2] = { NULL, NULL }, *full = NULL, *disp = NULL;
	const char *p;
	int i, found = 0, st;

	lua_getfield(L, LUA_REGISTRYINDEX, LOADED_KEY);
	if (lua_getfield(L, -1, name) != LUA_TNIL)
		return 1;
	lua_pop(L, 1);
	if (!module_name_ok(name))
		return luaL_error(L, "module '%s' not found: bad module name",
		    name);
	for (p = name; *p; p++)
		buf_putc(&rel, *p == '.' ? '/' : *p);
	buf_puts(&rel, ".lua");
	if (s->site_dir)
		dirs[0] = util_path_join(s->site_dir, "filters");
	dirs[1] = dir_of(s->path);
	for (i = 0; i < 2 && !found; i++) {
		if (dirs[i] == NULL)
			continue;
		free(full);
		full = util_path_join(dirs[i], rel.ptr);
		if (util_is_file(full) && util_read_file(full, &src) == 0)
			found = 1;
	}
	free(dirs[0]);
	free(dirs[1]);
	free(full);
	if (!found) {
		buf_release(&rel);
		buf_release(&src);
		return luaL_error(L, "module '%s' not found (filters can only "
		    "require Lua files from the site's filters/ directory)",
		    name);
	}
	disp = xasprintf("@filters/%s", rel.ptr);
	st = luaL_loadbufferx(L, src.ptr, src.len, disp, "t");
	free(disp);
	buf_release(&rel);
	buf_release(&src);
	if (st != LUA_OK)
		return lua_error(L);
	sbx_push_env(s, 0);
	lua_setupvalue(L, -2, 1);
	lua_pushstring(L, name);
	lua_call(L, 1, 1);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_pushboolean(L, 1);
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, name);
	return 1;
}

/* ------------------------------------------------------------------ */
/* pandoc.text: UTF-8 aware helpers                                     */

/* Maps every code point of the string at 1 through `f`. */
static int
map_cp(lua_State *L, utf8proc_int32_t (*f)(utf8proc_int32_t))
{
	size_t len, i = 0;
	const char *s = luaL_checklstring(L, 1, &len);
	luaL_Buffer b;
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;
	utf8proc_uint8_t enc[4];

	luaL_buffinit(L, &b);
	while (i < len) {
		n = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
		    (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0) {
			luaL_addchar(&b, s[i]);
			i++;
			continue;
		}
		cp = f(cp);
		luaL_addlstring(&b, (const char *)enc,
		    (size_t)utf8proc_encode_char(cp, enc));
		i += (size_t)n;
	}
	luaL_pushresult(&b);
	return 1;
}

/* pandoc.text.lower(s) */
static int
l_text_lower(lua_State *L)
{
	return map_cp(L, utf8proc_tolower);
}

/* pandoc.text.upper(s) */
static int
l_text_upper(lua_State *L)
{
	return map_cp(L, utf8proc_toupper);
}

/* Byte offsets of each code point start in s, plus the end. */
static size_t
cp_offsets(const char *s, size_t len, size_t **offs)
{
	size_t i, n = 0;

	*offs = xmalloc((len + 1) * sizeof(**offs));
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			(*offs)[n++] = i;
	(*offs)[n] = len;
	return n;
}

/* pandoc.text.len(s): code points. */
static int
l_text_len(lua_State *L)
{
	size_t len, i, n = 0;
	const char *s = luaL_checklstring(L, 1, &len);

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	lua_pushinteger(L, (lua_Integer)n);
	return 1;
}

/* pandoc.text.sub(s, i [, j]) with code-point indices (negative from end). */
static int
l_text_sub(lua_State *L)
{
	size_t len, n, *offs;
	const char *s = luaL_checklstring(L, 1, &len);
	lua_Integer i = luaL_checkinteger(L, 2), j = luaL_optinteger(L, 3, -1);

	n = cp_offsets(s, len, &offs);
	if (i < 0)
		i = (lua_Integer)n + i + 1;
	if (j < 0)
		j = (lua_Integer)n + j + 1;
	if (i < 1)
		i = 1;
	if (j > (lua_Integer)n)
		j = (lua_Integer)n;
	if (i > j)
		lua_pushliteral(L, "");
	else
		lua_pushlstring(L, s + offs[i - 1],
		    offs[j] - offs[i - 1]);
	free(offs);
	return 1;
}

/* pandoc.text.reverse(s) by code points. */
static int
l_text_reverse(lua_State *L)
{
	size_t len, n, k, *offs;
	const char *s = luaL_checklstring(L, 1, &len);
	luaL_Buffer b;

	n = cp_offsets(s, len, &offs);
	luaL_buffinit(L, &b);
	for (k = n; k > 0; k--)
		luaL_addlstring(&b, s + offs[k - 1], offs[k] - offs[k - 1]);
	free(offs);
	luaL_pushresult(&b);
	return 1;
}

/* _TEBIKI.where(f): "filters/x.lua:12", where the Lua function f is
 * defined (used in messages about what a filter function returned). */
static int
l_where(lua_State *L)
{
	lua_Debug ar;

	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_pushvalue(L, 1);
	if (!lua_getinfo(L, ">S", &ar) || ar.linedefined <= 0) {
		lua_pushliteral(L, "?");
		return 1;
	}
	lua_pushfstring(L, "%s:%d", ar.short_src, ar.linedefined);
	return 1;
}

/* __gc of the parse held by pandoc.read (frees it after an error). */
static int
l_mddoc_gc(lua_State *L)
{
	md_release(lua_touserdata(L, 1));
	return 0;
}

/* pandoc.read(markdown [, format]): a Pandoc document parsed by cmark-gfm
 * the way pages are (heading ids included).  Only Markdown formats. */
static int
l_pandoc_read(lua_State *L)
{
	struct sbx *s = get_sbx(L);
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);
	const char *fmt = luaL_optstring(L, 2, "gfm");
	struct md_doc *doc;

	if (lua_type(L, 2) == LUA_TTABLE)
		fmt = "gfm";
	if (strncmp(fmt, "gfm", 3) != 0 && strncmp(fmt, "commonmark", 10) &&
	    strncmp(fmt, "markdown", 8) != 0)
		return luaL_error(L, "pandoc.read: cannot read '%s' (only "
		    "Markdown is supported)", fmt);
	doc = lua_newuserdatauv(L, sizeof(*doc), 0);
	memset(doc, 0, sizeof(*doc));
	if (luaL_newmetatable(L, "tebiki.mddoc")) {
		lua_pushcfunction(L, l_mddoc_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	md_parse(doc, text, len, 1);
	md_assign_ids(doc);
	md_forget_positions(doc->root);	/* not the page's */
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->tebiki_ref);
	ast_push_doc(L, lua_gettop(L), doc->root);
	md_release(doc);
	return 1;
}

static const luaL_Reg text_fns[] = {
	{ "lower", l_text_lower },
	{ "upper", l_text_upper },
	{ "len", l_text_len },
	{ "sub", l_text_sub },
	{ "reverse", l_text_reverse },
	{ NULL, NULL }
};

/* _TEBIKI.text_list(s): the Str and Space elements of a text run
 * (upvalue 1: _TEBIKI). */
static int
l_text_list(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);

	ast_push_text_list(L, lua_upvalueindex(1), s, len);
	return 1;
}

/* _TEBIKI.fill(t): fills a lazy table now (luaast.h); other values are
 * left alone. */
static int
l_fill(lua_State *L)
{
	ast_fill(L, 1);
	return 0;
}

/* Calls upvalue 1 (a base function: rawget, rawlen, getmetatable,
 * setmetatable) after filling a lazy table given as argument 1. */
static int
l_filled(lua_State *L)
{
	ast_fill(L, 1);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

/* ------------------------------------------------------------------ */
/* state setup                                                         */

/* Opens the allow-listed libraries and replaces the dangerous globals.
 * Runs protected (memory errors). */
static int
setup(lua_State *L)
{
	static const char *const drop[] = { "dofile", "loadfile", "require",
	    "loadstring", NULL };
	static const char *const os_keep[] = { "date", "time", "clock",
	    "difftime", NULL };
	static const char *const filled[] = { "rawget", "rawlen",
	    "getmetatable", "setmetatable", NULL };
	struct sbx *s = lua_touserdata(L, 1);
	int i;

	luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
	luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
	luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
	luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
	luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
	luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
	luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
	lua_settop(L, 1);
	/* safe os */
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_getfield(L, -1, LUA_OSLIBNAME);
	lua_newtable(L);
	for (i = 0; os_keep[i]; i++) {
		lua_getfield(L, -2, os_keep[i]);
		lua_setfield(L, -2, os_keep[i]);
	}
	lua_setglobal(L, "os");
	lua_pop(L, 2);
	lua_getglobal(L, "string");
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);
	for (i = 0; drop[i]; i++) {
		lua_pushnil(L);
		lua_setglobal(L, drop[i]);
	}
	lua_pushcfunction(L, l_print);
	lua_setglobal(L, "print");
	lua_pushcfunction(L, l_collectgarbage);
	lua_setglobal(L, "collectgarbage");
	lua_pushcfunction(L, l_load);
	lua_setglobal(L, "load");
	lua_pushcfunction(L, l_require);
	lua_setglobal(L, "require");
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, LOADED_KEY);
	/* math.random is seeded with a constant: output is reproducible */
	lua_getglobal(L, "math");
	lua_getfield(L, -1, "randomseed");
	lua_pushinteger(L, 20240101);
	lua_call(L, 1, 0);
	lua_pop(L, 1);
	/* the prelude: pandoc + _TEBIKI */
	if (luaL_loadbufferx(L, prl_source, prl_len, "=prelude", "t") !=
	    LUA_OK)
		return lua_error(L);
	lua_newtable(L);
	lua_pushcfunction(L, l_fill);
	lua_setfield(L, -2, "fill");
	lua_pushvalue(L, -1);
	s->tebiki_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_call(L, 1, 1);
	/* lazy tables (luaast.h) look plain through the raw functions too;
	 * the prelude keeps the real ones (it fills where it must) */
	for (i = 0; filled[i]; i++) {
		lua_getglobal(L, filled[i]);
		lua_pushcclosure(L, l_filled, 1);
		lua_setglobal(L, filled[i]);
	}
	luaL_newlib(L, text_fns);
	lua_setfield(L, -2, "text");
	lua_pushcfunction(L, l_pandoc_read);
	lua_setfield(L, -2, "read");
	lua_setglobal(L, "pandoc");
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->tebiki_ref);
	lua_getfield(L, -1, "spairs");
	lua_setglobal(L, "spairs");
	lua_getfield(L, -1, "rawset");
	lua_pushcclosure(L, l_filled, 1);
	lua_setglobal(L, "rawset");
	lua_getfield(L, -1, "next");
	lua_setglobal(L, "next");
	lua_pushcfunction(L, l_where);
	lua_setfield(L, -2, "where");
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, l_text_list, 1);
	lua_setfield(L, -2, "text_list");
	lua_pop(L, 1);
	/* require() of pandoc's own modules gives the built-ins */
	lua_getfield(L, LUA_REGISTRYINDEX, LOADED_KEY);
	lua_getglobal(L, "pandoc");
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, "pandoc");
	lua_getfield(L, -1, "List");
	lua_setfield(L, -3, "pandoc.List");
	lua_getfield(L, -1, "utils");
	lua_setfield(L, -3, "pandoc.utils");
	lua_getfield(L, -1, "text");
	lua_pushvalue(L, -1);
	lua_setfield(L, -4, "text");
	lua_setfield(L, -3, "pandoc.text");
	lua_pop(L, 2);
	/* the string metatable cannot be fetched (and so not changed) */
	lua_pushliteral(L, "");
	if (lua_getmetatable(L, -1)) {
		lua_pushliteral(L, "string");
		lua_setfield(L, -2, "__metatable");
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	lua_pushliteral(L, "html");
	lua_setglobal(L, "FORMAT");
	lua_pushstring(L, s->display);
	lua_setglobal(L, "PANDOC_SCRIPT_FILE");
	lua_pushliteral(L, TEBIKI_VERSION);
	lua_setglobal(L, "TEBIKI_VERSION");
	if (luaL_dostring(L, "PANDOC_VERSION = pandoc.utils.Version('3.1') "
	    "PANDOC_API_VERSION = pandoc.utils.Version('1.23') "
	    "pandoc.types.Version = pandoc.utils.Version") != LUA_OK)
		return lua_error(L);
	return 0;
}

/* See luasandbox.h. */
struct sbx *
sbx_new(const char *path, const char *display, const char *site_dir,
    long budget, size_t mem_cap, struct diag *d)
{
	struct sbx *s = xcalloc(1, sizeof(*s));
	struct buf src = BUF_INIT;
	char *chunkname = NULL;
	int st;

	s->display = xstrdup(display);
	s->path = xstrdup(path);
	s->site_dir = site_dir ? xstrdup(site_dir) : NULL;
	s->budget = budget > 0 ? budget : SBX_DEFAULT_BUDGET;
	s->mem_cap = mem_cap > 0 ? mem_cap : SBX_DEFAULT_MEM;
	s->wall = 10.0 + (double)s->budget / 20e6;
	s->chunk_ref = LUA_NOREF;
	s->tebiki_ref = LUA_NOREF;
	s->L = lua_newstate(lalloc, s);
	if (s->L == NULL) {
		diag_err(d, display, 0, 0, "cannot create a Lua state");
		goto fail;
	}
	/* generational mode: a filter state holds a large long-lived SITE
	 * and makes short-lived page elements; minor collections do not
	 * traverse the old SITE again and again */
	lua_gc(s->L, LUA_GCGEN, 0, 0);
	lua_pushcfunction(s->L, setup);
	lua_pushlightuserdata(s->L, s);
	if (sbx_pcall(s, 1, 0) != LUA_OK) {
		sbx_report(s, d, NULL);
		goto fail;
	}
	if (util_read_file(path, &src) == -1) {
		diag_err(d, display, 0, 0, "cannot read '%s': %s", path,
		    strerror(errno));
		goto fail;
	}
	chunkname = xasprintf("@%s", display);
	st = luaL_loadbufferx(s->L, src.ptr, src.len, chunkname, "t");
	free(chunkname);
	buf_release(&src);
	if (st != LUA_OK) {
		sbx_report(s, d, NULL);
		goto fail;
	}
	s->chunk_ref = luaL_ref(s->L, LUA_REGISTRYINDEX);
	return s;
fail:
	buf_release(&src);
	sbx_free(s);
	return NULL;
}

/* See luasandbox.h. */
void
sbx_free(struct sbx *s)
{
	void *chunk;

	if (s == NULL)
		return;
	if (s->L)
		lua_close(s->L);
	while (s->pool_chunks) {
		chunk = s->pool_chunks;
		memcpy(&s->pool_chunks, chunk, sizeof(void *));
		free(chunk);
	}
	free(s->display);
	free(s->path);
	free(s->site_dir);
	free(s);
}

/* Message handler: keeps string messages, describes other values. */
static int
msgh(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TSTRING)
		return 1;
	if (luaL_callmeta(L, 1, "__tostring") &&
	    lua_type(L, -1) == LUA_TSTRING)
		return 1;
	lua_pushfstring(L, "(error object is a %s value)",
	    luaL_typename(L, 1));
	return 1;
}

/*
 * The budget's hook, armed late.  With a count hook set, Lua 5.4 passes
 * every instruction through its hook dispatch, whatever the count: that
 * was 7 % of a 10,000-page build.  So a call starts without the hook, and
 * a timer on the calling thread's CPU clock, started with the call, sends
 * a signal after ARM_AFTER_NS of CPU time; its handler sets the count hook
 * on the state the thread is running (lua_sethook may be called from a
 * signal handler: lua.c stops scripts on ^C that way).  From then on the
 * call is charged as before.  Nearly every call ends long before the
 * timer fires and never pays for the hook; a call that never ends is
 * stopped after at most ARM_AFTER_NS more CPU time than before.  Where the
 * timer cannot be had (or its signal is blocked on the thread), the hook
 * is set from the start as before.
 */
struct late {
	timer_t		 timer;
	int		 ok;		/* 1: the timer works on this thread,
					   -1: it does not */
};

static pthread_once_t late_once = PTHREAD_ONCE_INIT;
static pthread_key_t late_key;
static int late_sig;			/* 0: none */
static __thread struct late tl_late;
static __thread lua_State *volatile tl_running;

static void
on_timer(int sig)
{
	lua_State *L = tl_running;
	int e = errno;

	(void)sig;
	if (L != NULL)
		lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_EVERY);
	errno = e;
}

/* Deletes a thread's timer when the thread ends. */
static void
late_end(void *arg)
{
	struct late *t = arg;

	if (t->ok == 1)
		timer_delete(t->timer);
	t->ok = 0;
}

static void
late_init(void)
{
	struct sigaction sa;
	int sig = SIGRTMIN + 5;

	if (sig > SIGRTMAX || pthread_key_create(&late_key, late_end) != 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_timer;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) == 0)
		late_sig = sig;
}

/* This thread's timer, made on first use; NULL when it cannot be had. */
static struct late *
late_timer(void)
{
	struct late *t = &tl_late;
	struct sigevent ev;
	sigset_t cur;

	if (t->ok)
		return t->ok == 1 ? t : NULL;
	t->ok = -1;
	if (getenv("TEBIKI_LUA_HOOK_ALWAYS") != NULL)	/* tests */
		return NULL;
	pthread_once(&late_once, late_init);
	if (late_sig == 0 || pthread_sigmask(SIG_BLOCK, NULL, &cur) != 0 ||
	    sigismember(&cur, late_sig))
		return NULL;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = late_sig;
	ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);	/* glibc's name */
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &t->timer) != 0)
		return NULL;
	if (pthread_setspecific(late_key, t) != 0) {
		timer_delete(t->timer);
		return NULL;
	}
	t->ok = 1;
	return t;
}

static int
late_set(struct late *t, long ns)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = ns;
	return timer_settime(t->timer, 0, &its, NULL);
}

/* See luasandbox.h. */
int
sbx_pcall(struct sbx *s, int nargs, int nresults)
{
	lua_State *L = s->L, *outer = tl_running;
	struct late *t = late_timer();
	int base = lua_gettop(L) - nargs, st;

	s->left = s->budget;
	s->ticks = 0;
	clock_gettime(CLOCK_MONOTONIC, &s->start);
	if (t != NULL) {
		tl_running = L;
		if (late_set(t, ARM_AFTER_NS) != 0)
			t = NULL;
	}
	if (t == NULL)
		lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_EVERY);
	lua_pushcfunction(L, msgh);
	lua_insert(L, base);
	st = lua_pcall(L, nargs, nresults, base);
	lua_remove(L, base);
	if (t != NULL) {
		/* an outer call on this thread, if there were one, would get
		 * a timer of its own again */
		tl_running = outer;
		(void)late_set(t, outer ? ARM_AFTER_NS : 0);
	}
	lua_sethook(L, NULL, 0, 0);
	return st;
}

/* See luasandbox.h. */
void
sbx_push_env(struct sbx *s, int current)
{
	lua_State *L = s->L;

	lua_newtable(L);
	lua_newtable(L);
	lua_pushglobaltable(L);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	if (current) {
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, ENV_KEY);
	}
}

/* See luasandbox.h. */
int
sbx_run_chunk(struct sbx *s, int env)
{
	lua_State *L = s->L;

	env = lua_absindex(L, env);
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->chunk_ref);
	lua_pushvalue(L, env);
	lua_setupvalue(L, -2, 1);
	return sbx_pcall(s, 0, 1);
}

/* See luasandbox.h. */
int
sbx_report(struct sbx *s, struct diag *d, const char *what)
{
	const char *msg = lua_tostring(s->L, -1), *p, *colon;
	char *file = NULL;
	long line = 0;
	char *end;

	if (msg == NULL)
		msg = "unknown error";
	/* "file:line: text" */
	p = msg;
	colon = strchr(p, ':');
	if (colon && colon > p && colon[1] >= '0' && colon[1] <= '9') {
		line = strtol(colon + 1, &end, 10);
		if (*end == ':' && end[1] == ' ') {
			file = xstrndup(p, (size_t)(colon - p));
			msg = end + 2;
		} else {
			line = 0;
		}
	}
	if (strcmp(msg, "not enough memory") == 0)
		/* the cap, not the machine, ran out: say which knob to turn */
		diag_err(d, file ? file : s->display, (int)line, 0,
		    "not enough memory%s%s%s: a filter's Lua state may use "
		    "%zu MB (lua: memory_mb in site.yaml)", what ? " (while " :
		    "", what ? what : "", what ? ")" : "", s->mem_cap >> 20);
	else if (what)
		diag_err(d, file ? file : s->display, (int)line, 0,
		    "%s (while %s)", msg, what);
	else
		diag_err(d, file ? file : s->display, (int)line, 0, "%s", msg);
	free(file);
	lua_pop(s->L, 1);
	return -1;
}
