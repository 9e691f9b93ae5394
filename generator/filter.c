/*
 * filter: Lua filters -- site phases and per-page element filters.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "buf.h"
#include "diag.h"
#include "filter.h"
#include "luaast.h"
#include "luasandbox.h"
#include "luawalk.h"
#include "markdown.h"
#include "util.h"
#include "value.h"

#define DEFAULT_OUT_CAP	((size_t)64 << 20)
#define RANDOM_SEED	20240101

enum phase {
	PH_LOAD,
	PH_COLLECT,
	PH_LINK,
	PH_DONE
};

struct ffile {				/* one filter file in one context */
	struct sbx	*s;
	int		 filters_ref;	/* site contexts: the element filters */
	int		 hooks_ref;	/* site contexts: {collect, link, ...} */
};

struct flt_site {
	struct flt_opts		 opts;
	struct ffile		*ff;
	size_t			 nff;
	const struct flt_page	*pages;		/* during flt_site_run */
	size_t			 npages;
	const struct value	*extra;
	struct value		**data;		/* npages + nadded maps */
	struct value		*site_data;
	struct flt_added	*added;
	size_t			 nadded;
	struct value		*frozen;
	struct diag		*d;
	enum phase		 phase;
	int			 failed;
	size_t			 cur;		/* page being collected */
	struct value *const	*cached;	/* during flt_site_run: collect's
						   result per page, or NULL */
	struct value		**collected;	/* after collect, before link;
						   NULL when not reusable */
	int			 collect_threads;	/* for the timing line */
	int			 collect_by_page;	/* side by side by page */
};

struct flt_worker {
	struct flt_opts		 opts;
	struct ffile		*ff;
	size_t			 nff;
};

/* ------------------------------------------------------------------ */
/* helpers                                                             */

/* Pushes the _TEBIKI table of a state. */
static void
push_tebiki(struct sbx *s)
{
	lua_rawgeti(s->L, LUA_REGISTRYINDEX, s->tebiki_ref);
}

/* Calls _TEBIKI[name] with the `nargs` values on top; unprotected. */
static void
call_tebiki(struct sbx *s, const char *name, int nargs, int nres)
{
	lua_State *L = s->L;

	push_tebiki(s);
	lua_getfield(L, -1, name);
	lua_remove(L, -2);
	lua_insert(L, -1 - nargs);
	lua_call(L, nargs, nres);
}

/* Converts the Lua value at idx to a plain value (proxies unwrapped,
 * functions dropped); may raise. */
static struct value *
lua_to_value(struct sbx *s, int idx)
{
	struct value *v;

	lua_pushvalue(s->L, idx);
	call_tebiki(s, "plain", 1, 1);
	v = ast_to_value(s->L, -1);
	lua_pop(s->L, 1);
	return v;
}

/* The string field k of a page for Lua ("" for NULL). */
static void
setfield_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v ? v : "");
	lua_setfield(L, -2, k);
}

/* page.doc and page.text, made on first access: __index(t, k) with the
 * cmark root and the flt_page as upvalues. */
static int
l_page_index(lua_State *L)
{
	struct sbx *s;
	cmark_node *root = lua_touserdata(L, lua_upvalueindex(1));
	const struct flt_page *p = lua_touserdata(L, lua_upvalueindex(2));
	const char *text;
	void *ud;
	int tb;

	if (lua_type(L, 2) != LUA_TSTRING)
		return 0;
	if (strcmp(lua_tostring(L, 2), "text") == 0) {
		text = p && p->load_text ? p->load_text(p->load_ctx) : NULL;
		lua_pushstring(L, text ? text : "");
		lua_pushvalue(L, -1);
		lua_setfield(L, 1, "text");
		return 1;
	}
	if (strcmp(lua_tostring(L, 2), "doc") != 0)
		return 0;
	if (root == NULL && p && p->load_doc)
		root = p->load_doc(p->load_ctx);
	if (root == NULL)
		return 0;
	lua_getallocf(L, &ud);
	s = ud;
	push_tebiki(s);
	tb = lua_gettop(L);
	ast_push_doc(L, tb, root);
	lua_getfield(L, 1, "meta");
	lua_setfield(L, -2, "meta");
	lua_pushvalue(L, -1);
	lua_setfield(L, 1, "doc");
	return 1;
}

/* Pushes a page table for the site phases. */
static void
push_page(struct sbx *s, const struct flt_page *p, const struct value *data)
{
	lua_State *L = s->L;
	int tb;

	push_tebiki(s);
	tb = lua_gettop(L);
	lua_createtable(L, 0, 10);
	setfield_str(L, "id", p->id);
	setfield_str(L, "path", p->path);
	setfield_str(L, "url", p->url);
	setfield_str(L, "type", p->type && *p->type ? p->type : "page");
	setfield_str(L, "kind", p->type && *p->type ? p->type : "page");
	setfield_str(L, "title", p->title);
	setfield_str(L, "lang", p->lang);
	if (p->text || p->load_text == NULL)
		setfield_str(L, "text", p->text);	/* else l_page_index */
	if (p->meta)
		ast_push_lazy(L, tb, p->meta);
	else
		lua_newtable(L);
	lua_setfield(L, -2, "meta");
	if (data)
		ast_push_lazy(L, tb, data);
	else
		lua_newtable(L);
	lua_setfield(L, -2, "data");
	lua_createtable(L, 0, 1);
	lua_pushlightuserdata(L, p->doc);
	lua_pushlightuserdata(L, (void *)p);
	lua_pushcclosure(L, l_page_index, 2);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	lua_remove(L, tb);
}

/* Loads filter file i into a new state (compiled, not run).  0, or -1
 * after reporting. */
static int
ffile_open(struct ffile *f, const struct flt_opts *o, size_t i,
    struct diag *d)
{
	f->filters_ref = LUA_NOREF;
	f->hooks_ref = LUA_NOREF;
	f->s = sbx_new(o->files[i].path, o->files[i].display, o->site_dir,
	    o->instr_budget, o->mem_cap, d);
	return f->s ? 0 : -1;
}

static int worker_init(lua_State *);
static void ffiles_free(struct ffile *, size_t);

/* Site contexts: sets SITE (read-only, `pre`), runs the file once in a
 * long-lived environment and keeps its filters and hooks.  0, or -1 after
 * reporting. */
static int
ffile_load(struct ffile *f, const struct value *pre, struct diag *d)
{
	struct sbx *s = f->s;

	lua_pushcfunction(s->L, worker_init);
	lua_pushlightuserdata(s->L, (void *)pre);
	if (sbx_pcall(s, 1, 0) != LUA_OK)
		return sbx_report(s, d, "loading the filter");
	sbx_push_env(s, 1);
	if (sbx_run_chunk(s, -1) != LUA_OK)
		return sbx_report(s, d, "loading the filter");
	/* stack: env, ret; call shape(ret, env) */
	push_tebiki(s);
	lua_getfield(s->L, -1, "shape");
	lua_remove(s->L, -2);
	lua_pushvalue(s->L, -2);
	lua_pushvalue(s->L, -4);
	if (sbx_pcall(s, 2, 2) != LUA_OK)
		return sbx_report(s, d, "loading the filter");
	f->hooks_ref = luaL_ref(s->L, LUA_REGISTRYINDEX);
	f->filters_ref = luaL_ref(s->L, LUA_REGISTRYINDEX);
	lua_settop(s->L, 0);
	return 0;
}

/* 1 when field `name` of a site file's hooks is true. */
static int
hook_true(struct ffile *f, const char *name)
{
	lua_State *L = f->s->L;
	int r;

	if (lua_rawgeti(L, LUA_REGISTRYINDEX, f->hooks_ref) != LUA_TTABLE) {
		lua_pop(L, 1);
		return 0;
	}
	lua_getfield(L, -1, name);
	r = lua_toboolean(L, -1);
	lua_pop(L, 2);
	return r;
}

/* Pushes hook `name` of a site file; returns 0 (nothing pushed) if none. */
static int
push_hook(struct ffile *f, const char *name)
{
	lua_State *L = f->s->L;

	if (lua_rawgeti(L, LUA_REGISTRYINDEX, f->hooks_ref) != LUA_TTABLE) {
		lua_pop(L, 1);
		return 0;
	}
	if (lua_getfield(L, -1, name) != LUA_TFUNCTION) {
		lua_pop(L, 2);
		return 0;
	}
	lua_remove(L, -2);
	return 1;
}

/* ------------------------------------------------------------------ */
/* site                                                                */

/* See filter.h. */
struct flt_site *
flt_site_new(const struct flt_opts *o, struct diag *d)
{
	struct flt_site *site = xcalloc(1, sizeof(*site));
	size_t i;
	int rc = 0;

	site->opts = *o;
	site->ff = xcalloc(o->nfiles ? o->nfiles : 1, sizeof(*site->ff));
	site->nff = o->nfiles;
	site->site_data = val_map();
	for (i = 0; i < o->nfiles; i++)
		if (ffile_open(&site->ff[i], o, i, d) == -1)
			rc = -1;
	if (rc == -1) {
		flt_site_free(site);
		return NULL;
	}
	return site;
}

/* The site of a site.* closure (upvalue 1). */
static struct flt_site *
site_of(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

/* site.warn(page|nil, msg) / site.error(page|nil, msg). */
static int
report(lua_State *L, int error)
{
	struct flt_site *site = site_of(L);
	const char *msg, *path = NULL;
	lua_Debug ar;
	const char *src = "?";
	int line = 0;

	/* site.warn("message") without a page works too */
	if (lua_type(L, 1) == LUA_TSTRING && lua_isnoneornil(L, 2)) {
		lua_pushnil(L);
		lua_insert(L, 1);
	}
	msg = luaL_checkstring(L, 2);
	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)) {
		src = ar.short_src;
		line = ar.currentline > 0 ? ar.currentline : 0;
	}
	if (lua_type(L, 1) == LUA_TTABLE &&
	    lua_getfield(L, 1, "path") == LUA_TSTRING)
		path = lua_tostring(L, -1);
	if (path) {
		if (error)
			diag_err(site->d, path, 0, 0, "%s (reported by %s:%d)",
			    msg, src, line);
		else
			diag_warn(site->d, path, 0, 0, "%s (reported by %s:%d)",
			    msg, src, line);
	} else if (error) {
		diag_err(site->d, src, line, 0, "%s", msg);
	} else {
		diag_warn(site->d, src, line, 0, "%s", msg);
	}
	if (error)	/* collect() runs in several threads */
		__atomic_store_n(&site->failed, 1, __ATOMIC_RELAXED);
	return 0;
}

/* site.warn(page|nil, msg) */
static int
l_site_warn(lua_State *L)
{
	return report(L, 0);
}

/* site.error(page|nil, msg): reported, fails the build. */
static int
l_site_error(lua_State *L)
{
	return report(L, 1);
}

/* The string field k of the table at 1, copied, or NULL. */
static char *
opt_field(lua_State *L, const char *k)
{
	char *r = NULL;

	lua_getfield(L, 1, k);
	if (lua_type(L, -1) == LUA_TSTRING)
		r = xstrdup(lua_tostring(L, -1));
	else if (!lua_isnil(L, -1))
		luaL_error(L, "site.add_page: '%s' must be a string", k);
	lua_pop(L, 1);
	return r;
}

/* site.add_page{path=, type=, title=, meta=, markdown=} (link only). */
static int
l_site_add_page(lua_State *L)
{
	struct flt_site *site = site_of(L);
	struct flt_added a;
	struct sbx *s;
	void *ud;
	size_t i;

	if (site->phase != PH_LINK)
		return luaL_error(L, "site.add_page is only available in "
		    "link(site)");
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_getfield(L, 1, "path");
	if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
		return luaL_error(L, "site.add_page: 'path' is required");
	for (i = 0; i < site->npages; i++)
		if (strcmp(site->pages[i].path, lua_tostring(L, -1)) == 0)
			return luaL_error(L, "site.add_page: page '%s' already "
			    "exists", lua_tostring(L, -1));
	for (i = 0; i < site->nadded; i++)
		if (strcmp(site->added[i].path, lua_tostring(L, -1)) == 0)
			return luaL_error(L, "site.add_page: page '%s' was "
			    "already added", lua_tostring(L, -1));
	lua_pop(L, 1);
	lua_getfield(L, 1, "meta");
	if (!lua_isnil(L, -1) && !lua_istable(L, -1))
		return luaL_error(L, "site.add_page: 'meta' must be a table");
	lua_pop(L, 1);
	/* nothing below raises after allocating, except opt_field checks,
	 * which run first */
	lua_getfield(L, 1, "type");
	lua_getfield(L, 1, "title");
	lua_getfield(L, 1, "markdown");
	for (i = 1; i <= 3; i++)
		if (!lua_isnil(L, -(int)i) &&
		    lua_type(L, -(int)i) != LUA_TSTRING)
			return luaL_error(L, "site.add_page: 'type', 'title' "
			    "and 'markdown' must be strings");
	lua_pop(L, 3);
	lua_getallocf(L, &ud);
	s = ud;
	lua_getfield(L, 1, "meta");
	/* the only step that may raise (a table containing itself) */
	a.meta = lua_istable(L, -1) ? lua_to_value(s, -1) : val_map();
	if (a.meta->kind != VAL_MAP) {
		val_unref(a.meta);
		a.meta = val_map();
	}
	a.path = opt_field(L, "path");
	a.type = opt_field(L, "type");
	a.title = opt_field(L, "title");
	a.markdown = opt_field(L, "markdown");
	if (a.type == NULL)
		a.type = xstrdup("page");
	if (a.title == NULL)
		a.title = xstrdup("");
	if (a.markdown == NULL)
		a.markdown = xstrdup("");
	site->added = xreallocarray(site->added, site->nadded + 1,
	    sizeof(*site->added));
	site->added[site->nadded++] = a;
	return 0;
}

struct site_call {
	struct flt_site	*site;
	struct ffile	*f;
	size_t		 page;
};

/* Protected: collect(page) for one page; stores page.data. */
static int
collect_run(lua_State *L)
{
	struct site_call *c = lua_touserdata(L, 1);
	struct flt_site *site = c->site;
	struct value *v;
	int page;

	push_hook(c->f, "collect");
	push_page(c->f->s, &site->pages[c->page], site->data[c->page]);
	page = lua_gettop(L);
	lua_pushvalue(L, page - 1);
	lua_pushvalue(L, page);
	lua_call(L, 1, 0);
	lua_getfield(L, page, "data");
	v = lua_to_value(c->f->s, -1);
	if (v->kind != VAL_MAP) {
		val_unref(v);
		return luaL_error(L, "page.data must stay a table");
	}
	val_unref(site->data[c->page]);
	site->data[c->page] = v;
	return 0;
}

/* 1 for the site keys tebiki itself defines (extra values cannot shadow
 * them). */
static int
reserved_key(const char *k)
{
	static const char *const keys[] = { "pages", "data", "by_id",
	    "by_type", "by_path", "warn", "error", "add_page", NULL };
	size_t i;

	for (i = 0; keys[i]; i++)
		if (strcmp(k, keys[i]) == 0)
			return 1;
	return 0;
}

/* Protected: link(site); stores every page.data and site.data. */
static int
link_run(lua_State *L)
{
	struct site_call *c = lua_touserdata(L, 1);
	struct flt_site *site = c->site;
	struct sbx *s = c->f->s;
	struct value **nd, *sd;
	size_t i;
	int pages, raw, st, tb, fn;

	push_tebiki(s);
	tb = lua_gettop(L);
	push_hook(c->f, "link");
	fn = lua_gettop(L);
	lua_createtable(L, (int)site->npages, 0);
	pages = lua_gettop(L);
	for (i = 0; i < site->npages; i++) {
		push_page(s, &site->pages[i], site->data[i]);
		lua_rawseti(L, pages, (lua_Integer)i + 1);
	}
	lua_createtable(L, 0, 2);
	raw = lua_gettop(L);
	lua_pushvalue(L, pages);
	lua_setfield(L, raw, "pages");
	ast_push_lazy(L, tb, site->site_data);
	lua_setfield(L, raw, "data");
	call_tebiki(s, "make_site", 1, 1);
	st = lua_gettop(L);
	if (site->extra && site->extra->kind == VAL_MAP) {
		for (i = 0; i < site->extra->n; i++) {
			if (reserved_key(site->extra->keys[i]->str))
				continue;
			ast_push_lazy(L, tb, site->extra->items[i]);
			call_tebiki(s, "freeze", 1, 1);
			lua_setfield(L, st, site->extra->keys[i]->str);
		}
	}
	lua_pushlightuserdata(L, site);
	lua_pushcclosure(L, l_site_warn, 1);
	lua_setfield(L, st, "warn");
	lua_pushlightuserdata(L, site);
	lua_pushcclosure(L, l_site_error, 1);
	lua_setfield(L, st, "error");
	lua_pushlightuserdata(L, site);
	lua_pushcclosure(L, l_site_add_page, 1);
	lua_setfield(L, st, "add_page");
	lua_pushvalue(L, fn);
	lua_pushvalue(L, st);
	lua_call(L, 1, 0);
	/* read back; convert everything before replacing anything */
	nd = xcalloc(site->npages + 1, sizeof(*nd));
	for (i = 0; i < site->npages; i++) {
		lua_rawgeti(L, pages, (lua_Integer)i + 1);
		lua_getfield(L, -1, "data");
		nd[i] = lua_istable(L, -1) ? lua_to_value(s, -1) : val_map();
		lua_pop(L, 2);
	}
	lua_getfield(L, st, "data");
	sd = lua_istable(L, -1) ? lua_to_value(s, -1) : val_map();
	lua_pop(L, 1);
	for (i = 0; i < site->npages; i++) {
		val_unref(site->data[i]);
		site->data[i] = nd[i];
		if (nd[i]->kind != VAL_MAP) {
			val_unref(nd[i]);
			site->data[i] = val_map();
		}
	}
	free(nd);
	val_unref(site->site_data);
	site->site_data = sd->kind == VAL_MAP ? sd : (val_unref(sd), val_map());
	return 0;
}

/* Runs a protected site call; reports failures. */
static int
site_call(struct flt_site *site, struct ffile *f, lua_CFunction fn,
    struct site_call *c, const char *what)
{
	lua_pushcfunction(f->s->L, fn);
	lua_pushlightuserdata(f->s->L, c);
	if (sbx_pcall(f->s, 1, 0) != LUA_OK) {
		__atomic_store_n(&site->failed, 1, __ATOMIC_RELAXED);
		return sbx_report(f->s, site->d, what);
	}
	return 0;
}

/* Derives "controls/x.html" from "content/controls/x.md". */
static char *
added_url(const char *path)
{
	struct buf b = BUF_INIT;

	if (strncmp(path, "content/", 8) == 0)
		path += 8;
	buf_puts(&b, path);
	if (util_has_suffix(b.ptr, ".md"))
		buf_truncate(&b, b.len - 3);
	buf_puts(&b, ".html");
	return buf_detach(&b);
}

/* Derives an id from a path: the file name without extension. */
static char *
added_id(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	return dot ? xstrndup(base, (size_t)(dot - base)) : xstrdup(base);
}

/* A new string value, "" for NULL. */
static struct value *
str_or_empty(const char *s)
{
	return val_str(s ? s : "");
}

/* Builds the frozen site value. */
static void
freeze_site(struct flt_site *site)
{
	struct value *root = val_map(), *pages = val_list(), *p;
	const struct flt_page *pg;
	struct flt_added *a;
	size_t i;
	char *s;

	for (i = 0; i < site->npages; i++) {
		pg = &site->pages[i];
		p = val_map();
		val_set(p, "id", str_or_empty(pg->id));
		val_set(p, "path", str_or_empty(pg->path));
		val_set(p, "url", str_or_empty(pg->url));
		val_set(p, "type", str_or_empty(pg->type && *pg->type ?
		    pg->type : "page"));
		val_set(p, "kind", str_or_empty(pg->type && *pg->type ?
		    pg->type : "page"));
		val_set(p, "title", str_or_empty(pg->title));
		val_set(p, "lang", str_or_empty(pg->lang));
		/* shared, not copied: front matter is never changed after
		 * pass 1, and references are atomic */
		val_set(p, "meta", pg->meta ? val_ref((struct value *)pg->meta) :
		    val_map());
		val_set(p, "data", val_ref(site->data[i]));
		val_push(pages, p);
	}
	for (i = 0; i < site->nadded; i++) {
		a = &site->added[i];
		p = val_map();
		val_set(p, "id", val_str_own(added_id(a->path)));
		val_set(p, "path", val_str(a->path));
		s = added_url(a->path);
		val_set(p, "url", val_str_own(s));
		val_set(p, "type", val_str(a->type));
		val_set(p, "kind", val_str(a->type));
		val_set(p, "title", val_str(a->title));
		val_set(p, "lang", val_str(""));
		val_set(p, "meta", val_ref(a->meta));
		val_set(p, "data", val_ref(site->data[site->npages + i]));
		val_push(pages, p);
	}
	val_set(root, "pages", pages);
	val_set(root, "data", val_ref(site->site_data));
	if (site->extra && site->extra->kind == VAL_MAP)
		for (i = 0; i < site->extra->n; i++)
			if (!reserved_key(site->extra->keys[i]->str))
				val_set(root, site->extra->keys[i]->str,
				    val_ref(site->extra->items[i]));
	site->frozen = root;
}

/* collect() of every file on every page.  Each file has its own Lua
 * state, so the files run side by side, one thread each, as a pipeline: a
 * file takes page i only once the file before it is done with page i (it
 * sees that file's page.data), so the result is the one of running the
 * files one after the other. */
struct pipe {
	struct flt_site	*site;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	size_t		*done;		/* pages each file has finished */
};

struct pipe_arg {
	struct pipe	*p;
	size_t		 k;
};

static void
collect_in(struct flt_site *site, struct ffile *ff, size_t k, size_t i)
{
	struct site_call c;
	char *what;

	c.site = site;
	c.f = &ff[k];
	c.page = i;
	what = xasprintf("filtering %s", site->pages[i].path);
	site_call(site, &ff[k], collect_run, &c, what);
	free(what);
}

static void
collect_one(struct flt_site *site, size_t k, size_t i)
{
	collect_in(site, site->ff, k, i);
}

/* Page-local collect on several threads: each has a Lua state of its own
 * for every file and takes pages first, first + step, ...; a page goes
 * through the files in order, as in the pipeline.  Every file with a
 * collect said page_local, so the result is the same. */
struct local_arg {
	struct flt_site	*site;
	struct ffile	*ff;
	size_t		 first, step;
};

static void *
collect_local(void *arg)
{
	struct local_arg *a = arg;
	struct flt_site *site = a->site;
	size_t i, k;

	for (i = a->first; i < site->npages; i += a->step) {
		if (site->cached && site->cached[i])
			continue;
		for (k = 0; k < site->nff; k++) {
			if (!push_hook(&a->ff[k], "collect"))
				continue;
			lua_pop(a->ff[k].s->L, 1);
			collect_in(site, a->ff, k, i);
		}
	}
	return NULL;
}

/* Runs collect_local on `jobs` threads (contexts ctx[0] is the site's
 * own, the others are loaded here with `pre` as SITE).  0, or -1 when a
 * context could not be made (nothing was collected then). */
static int
collect_parallel(struct flt_site *site, const struct value *pre, int jobs)
{
	struct ffile **ctx = xcalloc((size_t)jobs, sizeof(*ctx));
	struct local_arg *args = xcalloc((size_t)jobs, sizeof(*args));
	pthread_t *th = xcalloc((size_t)jobs, sizeof(*th));
	unsigned char *started = xcalloc((size_t)jobs, 1);
	size_t k;
	int t, rc = 0;

	ctx[0] = site->ff;
	for (t = 1; t < jobs && rc == 0; t++) {
		ctx[t] = xcalloc(site->nff ? site->nff : 1, sizeof(**ctx));
		for (k = 0; k < site->nff && rc == 0; k++)
			if (ffile_open(&ctx[t][k], &site->opts, k, site->d) == -1 ||
			    ffile_load(&ctx[t][k], pre, site->d) == -1)
				rc = -1;
	}
	for (t = 0; t < jobs && rc == 0; t++) {
		args[t].site = site;
		args[t].ff = ctx[t];
		args[t].first = (size_t)t;
		args[t].step = (size_t)jobs;
		if (t > 0 && pthread_create(&th[t], NULL, collect_local,
		    &args[t]) == 0)
			started[t] = 1;
	}
	if (rc == 0) {
		/* contexts without a thread are run here, one after another */
		for (t = 0; t < jobs; t++)
			if (!started[t])
				collect_local(&args[t]);
		for (t = 1; t < jobs; t++)
			if (started[t])
				pthread_join(th[t], NULL);
	}
	for (t = 1; t < jobs; t++)
		if (ctx[t])
			ffiles_free(ctx[t], site->nff);
	free(started);
	free(th);
	free(args);
	free(ctx);
	if (rc == -1)
		site->failed = 1;
	return rc;
}

static void *
collect_file(void *arg)
{
	struct pipe_arg *a = arg;
	struct pipe *p = a->p;
	size_t i, k = a->k, n = p->site->npages;

	for (i = 0; i < n; i++) {
		if (p->site->cached && p->site->cached[i]) {
			/* reused: nothing to run, nothing to wait for */
			pthread_mutex_lock(&p->lock);
			p->done[k] = i + 1;
			pthread_cond_broadcast(&p->cond);
			pthread_mutex_unlock(&p->lock);
			continue;
		}
		if (k > 0) {
			pthread_mutex_lock(&p->lock);
			while (p->done[k - 1] <= i)
				pthread_cond_wait(&p->cond, &p->lock);
			pthread_mutex_unlock(&p->lock);
		}
		collect_one(p->site, k, i);
		pthread_mutex_lock(&p->lock);
		p->done[k] = i + 1;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

static void
collect_all(struct flt_site *site)
{
	struct pipe p;
	struct pipe_arg *args;
	pthread_t *th;
	unsigned char *started;
	size_t k, i, nhooks = 0, n = site->npages;

	p.site = site;
	p.done = xcalloc(site->nff + 1, sizeof(*p.done));
	for (k = 0; k < site->nff; k++) {
		if (push_hook(&site->ff[k], "collect")) {
			lua_pop(site->ff[k].s->L, 1);
			nhooks++;
		} else {
			p.done[k] = n;	/* nothing to wait for */
		}
	}
	if (nhooks < 2 || n < 2) {
		for (k = 0; k < site->nff; k++)
			for (i = 0; p.done[k] < n && i < n; i++)
				if (site->cached == NULL || !site->cached[i])
					collect_one(site, k, i);
		free(p.done);
		return;
	}
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	args = xcalloc(site->nff, sizeof(*args));
	th = xcalloc(site->nff, sizeof(*th));
	started = xcalloc(site->nff, 1);
	for (k = 0; k < site->nff; k++) {
		if (p.done[k] == n)
			continue;
		args[k].p = &p;
		args[k].k = k;
		if (pthread_create(&th[k], NULL, collect_file, &args[k]) == 0) {
			started[k] = 1;
		} else {
			/* no thread: this file runs here, after the ones
			 * before it (which must all be done first) */
			for (i = 0; i < k; i++)
				if (started[i]) {
					pthread_join(th[i], NULL);
					started[i] = 0;
				}
			collect_file(&args[k]);
		}
	}
	for (k = 0; k < site->nff; k++)
		if (started[k])
			pthread_join(th[k], NULL);
	pthread_cond_destroy(&p.cond);
	pthread_mutex_destroy(&p.lock);
	free(started);
	free(th);
	free(args);
	free(p.done);
}

/* See filter.h. */
int
flt_site_run(struct flt_site *site, const struct flt_page *pages, size_t n,
    const struct value *extra, struct value *const *cached, struct diag *d)
{
	struct site_call c;
	size_t i, k, ndiag, ncollect, todo;
	int reusable, local, jobs;

	/* run every file once, with a read-only SITE without page data */
	if (flt_site_prepare(site, pages, n, extra, d) == -1) {
		val_unref(site->frozen);
		site->frozen = NULL;
		goto out;
	}
	/* when every file's collect says it depends on nothing but its page
	 * (and SITE), results of an earlier build may be used, and pages
	 * may be collected side by side */
	local = 1;
	ncollect = 0;
	for (k = 0; k < site->nff; k++)
		if (push_hook(&site->ff[k], "collect")) {
			lua_pop(site->ff[k].s->L, 1);
			ncollect++;
			local = local && hook_true(&site->ff[k], "page_local");
		}
	reusable = cached != NULL && local;
	if (reusable) {
		site->cached = cached;
		for (i = 0; i < n; i++)
			if (cached[i] && cached[i]->kind == VAL_MAP) {
				val_unref(site->data[i]);
				site->data[i] = val_ref(cached[i]);
			}
	}
	site->phase = PH_COLLECT;
	ndiag = d->n;
	jobs = site->opts.jobs > 0 ? site->opts.jobs : 1;
	for (i = 0, todo = 0; i < n; i++)
		todo += site->cached == NULL || site->cached[i] == NULL;
	/* page-local collects run side by side by page, every thread with
	 * states of its own for every file: balanced however unequal the
	 * files are (the pipeline below runs one thread per file, which is
	 * as slow as the slowest file) */
	site->collect_threads = (int)(ncollect < 2 ? 1 : ncollect);
	if (local && ncollect > 0 && jobs > 1 && todo >= 4 * (size_t)jobs) {
		site->collect_threads = jobs;
		site->collect_by_page = 1;
		collect_parallel(site, site->frozen, jobs);
	} else {
		collect_all(site);
	}
	val_unref(site->frozen);
	site->frozen = NULL;
	site->cached = NULL;
	/* collect's results, for the next build to reuse; not when collect
	 * said anything (a reused page would not say it again) */
	if (reusable && !site->failed && d->n == ndiag) {
		site->collected = xcalloc(n + 1, sizeof(*site->collected));
		for (i = 0; i < n; i++)
			site->collected[i] = val_ref(site->data[i]);
	}
	site->phase = PH_LINK;
	for (k = 0; k < site->nff && !site->failed; k++) {
		if (!push_hook(&site->ff[k], "link"))
			continue;
		lua_pop(site->ff[k].s->L, 1);
		c.site = site;
		c.f = &site->ff[k];
		c.page = 0;
		site_call(site, &site->ff[k], link_run, &c,
		    "running link(site)");
	}
out:
	site->phase = PH_DONE;
	site->data = xreallocarray(site->data, n + site->nadded + 1,
	    sizeof(*site->data));
	for (i = 0; i < site->nadded; i++)
		site->data[n + i] = val_map();
	freeze_site(site);
	site->pages = NULL;	/* borrowed only during the run */
	site->extra = NULL;
	return site->failed ? -1 : 0;
}

/* See filter.h. */
int
flt_site_collect_threads(const struct flt_site *site, int *by_page)
{
	*by_page = site->collect_by_page;
	return site->collect_threads;
}

/* See filter.h. */
const struct value *
flt_page_collected(struct flt_site *site, size_t i)
{
	if (site->collected == NULL || i >= site->npages)
		return NULL;
	return site->collected[i];
}

/* See filter.h. */
int
flt_site_prepare(struct flt_site *site, const struct flt_page *pages,
    size_t n, const struct value *extra, struct diag *d)
{
	size_t i, k;

	site->pages = pages;
	site->npages = n;
	site->extra = extra;
	site->d = d;
	site->data = xcalloc(n + 1, sizeof(*site->data));
	for (i = 0; i < n; i++)
		site->data[i] = val_map();
	/* SITE as collect sees it: no page's data */
	freeze_site(site);
	for (k = 0; k < site->nff; k++)
		if (ffile_load(&site->ff[k], site->frozen, d) == -1)
			site->failed = 1;
	site->phase = PH_COLLECT;
	return site->failed ? -1 : 0;
}

/* See filter.h. */
struct value *
flt_site_collect_page(struct flt_site *site, size_t i)
{
	size_t k;

	if (site->failed || site->data == NULL || i >= site->npages)
		return NULL;
	val_unref(site->data[i]);
	site->data[i] = val_map();
	for (k = 0; k < site->nff && !site->failed; k++) {
		if (!push_hook(&site->ff[k], "collect"))
			continue;
		lua_pop(site->ff[k].s->L, 1);
		collect_one(site, k, i);
	}
	return site->failed ? NULL : val_ref(site->data[i]);
}

/* See filter.h. */
int
flt_site_has_link(struct flt_site *site)
{
	size_t k;

	for (k = 0; k < site->nff; k++)
		if (push_hook(&site->ff[k], "link")) {
			lua_pop(site->ff[k].s->L, 1);
			return 1;
		}
	return 0;
}

/* See filter.h. */
struct value *
flt_site_frozen(struct flt_site *site)
{
	return site->frozen;
}

/* See filter.h. */
const struct value *
flt_page_data(struct flt_site *site, size_t i)
{
	if (site->data == NULL || i >= site->npages + site->nadded)
		return NULL;
	return site->data[i];
}

/* See filter.h. */
size_t
flt_site_added(struct flt_site *site, const struct flt_added **out)
{
	*out = site->added;
	return site->nadded;
}

/* Closes the states of n filter files and frees the array. */
static void
ffiles_free(struct ffile *ff, size_t n)
{
	size_t i;

	for (i = 0; ff && i < n; i++)
		sbx_free(ff[i].s);
	free(ff);
}

/* See filter.h. */
void
flt_site_close(struct flt_site *site)
{
	ffiles_free(site->ff, site->nff);
	site->ff = NULL;
	site->nff = 0;
}

/* See filter.h. */
void
flt_site_free(struct flt_site *site)
{
	size_t i;

	if (site == NULL)
		return;
	flt_site_close(site);
	if (site->data)
		for (i = 0; i < site->npages + site->nadded; i++)
			val_unref(site->data[i]);
	free(site->data);
	if (site->collected)
		for (i = 0; i < site->npages; i++)
			val_unref(site->collected[i]);
	free(site->collected);
	for (i = 0; i < site->nadded; i++) {
		free(site->added[i].path);
		free(site->added[i].type);
		free(site->added[i].title);
		free(site->added[i].markdown);
		val_unref(site->added[i].meta);
	}
	free(site->added);
	val_unref(site->site_data);
	val_unref(site->frozen);
	free(site);
}

/* ------------------------------------------------------------------ */
/* workers                                                             */

/* Protected: SITE = freeze(make_site(frozen)). */
static int
worker_init(lua_State *L)
{
	const struct value *frozen = lua_touserdata(L, 1);
	void *ud;
	struct sbx *s;

	lua_getallocf(L, &ud);
	s = ud;
	push_tebiki(s);
	if (frozen && frozen->kind == VAL_MAP)
		ast_push_lazy(L, lua_gettop(L), frozen);
	else
		lua_newtable(L);
	lua_pushboolean(L, 1);	/* pages as freeze_site made them */
	call_tebiki(s, "make_site", 2, 1);
	call_tebiki(s, "freeze", 1, 1);
	lua_setglobal(L, "SITE");
	return 0;
}

/* See filter.h. */
struct flt_worker *
flt_worker_new(const struct flt_opts *o, const struct value *frozen,
    struct diag *d)
{
	struct flt_worker *w = xcalloc(1, sizeof(*w));
	size_t i;
	int rc = 0;

	w->opts = *o;
	w->ff = xcalloc(o->nfiles ? o->nfiles : 1, sizeof(*w->ff));
	w->nff = o->nfiles;
	for (i = 0; i < o->nfiles; i++) {
		if (ffile_open(&w->ff[i], o, i, d) == -1) {
			rc = -1;
			continue;
		}
		lua_pushcfunction(w->ff[i].s->L, worker_init);
		lua_pushlightuserdata(w->ff[i].s->L, (void *)frozen);
		if (sbx_pcall(w->ff[i].s, 1, 0) != LUA_OK)
			rc = sbx_report(w->ff[i].s, d, "loading the site");
	}
	if (rc == -1) {
		flt_worker_free(w);
		return NULL;
	}
	return w;
}

struct page_call {
	struct flt_worker	*w;
	struct ffile		*f;
	const struct flt_page	*page;
	size_t			 index;
	cmark_node		*root;
	struct value		**tmpl;
	struct ast_build	 b;
	struct ast_build	 fb;	/* the C walker's (fb.root: the page) */
	int			 fast_changed;	/* the C walker changed root */
};

/* Merges the map `v` into *tmpl (takes v). */
static void
merge_tmpl(struct value **tmpl, struct value *v)
{
	size_t i;

	if (*tmpl == NULL) {
		*tmpl = v;
		return;
	}
	for (i = 0; i < v->n; i++)
		val_set(*tmpl, v->keys[i]->str, val_ref(v->items[i]));
	val_unref(v);
}

/* Protected: runs one filter file on one page. */
static int
page_run(lua_State *L)
{
	struct page_call *c = lua_touserdata(L, 1);
	struct sbx *s = c->f->s;
	struct value *v;
	int env, filters, hooks, tb, page;

	push_tebiki(s);
	tb = lua_gettop(L);
	lua_pushinteger(L, 0);
	lua_setfield(L, tb, "line");
	/* fresh, reproducible state for every page */
	lua_getglobal(L, "math");
	lua_getfield(L, -1, "randomseed");
	lua_pushinteger(L, RANDOM_SEED);
	lua_call(L, 1, 0);
	lua_pop(L, 1);
	sbx_push_env(s, 1);
	env = lua_gettop(L);
	lua_getglobal(L, "SITE");
	lua_getfield(L, -1, "pages");
	lua_geti(L, -1, (lua_Integer)c->index + 1);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		push_page(s, c->page, NULL);
		call_tebiki(s, "freeze", 1, 1);
	}
	page = lua_gettop(L);
	lua_pushvalue(L, page);
	lua_setfield(L, env, "PAGE");
	/* run the file, find its filters */
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->chunk_ref);
	lua_pushvalue(L, env);
	lua_setupvalue(L, -2, 1);
	lua_call(L, 0, 1);
	lua_pushvalue(L, env);
	call_tebiki(s, "shape", 2, 2);
	hooks = lua_gettop(L);
	filters = hooks - 1;
	lua_pushvalue(L, filters);
	call_tebiki(s, "has_elements", 1, 1);
	/* applies(page) == false skips this file's element filters for the
	 * page, so the document is not converted at all */
	if (lua_toboolean(L, -1)) {
		if (lua_getfield(L, hooks, "applies") == LUA_TFUNCTION) {
			lua_pushvalue(L, page);
			lua_call(L, 1, 1);
			lua_replace(L, -2);
		} else {
			lua_pop(L, 1);
		}
	}
	if (lua_toboolean(L, -1) && !c->w->opts.lua_walk_only) {
		/* a single topdown filter of element functions: walked in C
		 * over the cmark tree, only its parts go to Lua (luawalk.h) */
		lua_pushvalue(L, filters);
		call_tebiki(s, "fast_filter", 1, 1);
		if (!lua_isnil(L, -1) && lwk_tree_ok(c->root)) {
			c->fb.root = c->root;
			c->fast_changed = lwk_run(L, tb, -1, c->root, &c->fb);
			lua_pop(L, 2);
			lua_pushboolean(L, 0);	/* done */
		} else {
			lua_pop(L, 1);
		}
	}
	if (lua_toboolean(L, -1)) {
		lua_pop(L, 1);
		lua_pushvalue(L, filters);
		ast_push_doc(L, tb, c->root);
		if (c->page->meta)
			ast_push_lazy(L, tb, c->page->meta);
		else
			lua_newtable(L);
		lua_setfield(L, -2, "meta");
		call_tebiki(s, "run", 2, 2);
		if (lua_toboolean(L, -1))
			ast_build_doc(L, -2, &c->b);
	}
	lua_settop(L, hooks);
	if (lua_getfield(L, hooks, "template") == LUA_TFUNCTION) {
		lua_pushvalue(L, page);
		lua_call(L, 1, 1);
		if (!lua_isnil(L, -1)) {
			if (!lua_istable(L, -1))
				return luaL_error(L, "template() must return a "
				    "table or nil");
			v = lua_to_value(s, -1);
			if (v->kind == VAL_MAP)
				merge_tmpl(c->tmpl, v);
			else
				val_unref(v);
		}
	}
	return 0;
}

/* The file line of the block being filtered when the error happened, or 0
 * (read from _TEBIKI.line; the error message is on top and stays). */
static int
body_line(struct sbx *s, const struct flt_page *page)
{
	lua_Integer ln;

	push_tebiki(s);
	lua_getfield(s->L, -1, "line");
	ln = lua_isinteger(s->L, -1) ? lua_tointeger(s->L, -1) : 0;
	lua_pop(s->L, 2);
	if (ln <= 0 || ln > 100000000)
		return 0;
	return (int)ln + (page->body_line > 0 ? page->body_line - 1 : 0);
}

/* See filter.h. */
int
flt_worker_page(struct flt_worker *w, const struct flt_page *page,
    size_t page_index, cmark_node **doc, struct value **tmpl,
    struct diag *d)
{
	struct page_call c;
	struct md_doc tmp;
	char *what;
	size_t i;
	int rc = 0, line;

	*tmpl = NULL;
	for (i = 0; i < w->nff; i++) {
		memset(&c, 0, sizeof(c));
		c.w = w;
		c.f = &w->ff[i];
		c.page = page;
		c.index = page_index;
		c.root = *doc;
		c.tmpl = tmpl;
		c.b.allow_raw_html = w->opts.allow_raw_html;
		c.b.out_cap = w->opts.out_cap ? w->opts.out_cap :
		    DEFAULT_OUT_CAP;
		c.fb.allow_raw_html = c.b.allow_raw_html;
		c.fb.out_cap = c.b.out_cap;
		lua_pushcfunction(c.f->s->L, page_run);
		lua_pushlightuserdata(c.f->s->L, &c);
		if (sbx_pcall(c.f->s, 1, 0) != LUA_OK) {
			line = body_line(c.f->s, page);
			what = line > 0 ? xasprintf("filtering %s:%d",
			    page->path, line) : xasprintf("filtering %s",
			    page->path);
			rc = sbx_report(c.f->s, d, what);
			free(what);
			if (c.b.root)
				cmark_node_free(c.b.root);
			ast_build_release(&c.b);
			ast_build_release(&c.fb);
			break;
		}
		lua_settop(c.f->s->L, 0);
		ast_build_release(&c.b);
		ast_build_release(&c.fb);
		if (c.fast_changed) {
			tmp.parser = NULL;
			tmp.root = *doc;
			tmp.options = 0;
			md_assign_ids(&tmp);
		}
		if (c.b.root) {
			tmp.parser = NULL;
			tmp.root = c.b.root;
			tmp.options = 0;
			md_assign_ids(&tmp);
			cmark_node_free(*doc);
			*doc = c.b.root;
		}
	}
	if (rc == -1) {
		val_unref(*tmpl);
		*tmpl = NULL;
	}
	return rc;
}

size_t
flt_worker_memory(const struct flt_worker *w)
{
	size_t i, n = 0;

	for (i = 0; w && i < w->nff; i++)
		if (w->ff[i].s)
			n += w->ff[i].s->mem_used;
	return n;
}

/* See filter.h. */
void
flt_worker_free(struct flt_worker *w)
{
	if (w == NULL)
		return;
	ffiles_free(w->ff, w->nff);
	free(w);
}
