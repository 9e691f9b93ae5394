/*
 * render: contexts and page rendering.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "build.h"
#include "diag.h"
#include "lifecycle.h"
#include "model.h"
#include "pool.h"
#include "print.h"
#include "render.h"
#include "template.h"
#include "util.h"
#include "value.h"
#include "yml.h"


static const char *const type_order[] = {
	"chapter", "policy", "procedure", "report", "incident", "lesson",
	"page", NULL
};

char *
render_date(const char *lang, int y, int m, int d)
{
	static const char *const months[] = {
		"January", "February", "March", "April", "May", "June",
		"July", "August", "September", "October", "November",
		"December"
	};

	if (strcmp(lang, "en") == 0)
		return xasprintf("%s %d, %d", months[(m - 1) % 12], d, y);
	return xasprintf("%d年%d月%d日", y, m, d);
}

static struct value *
load_i18n(struct build *b, const char *lang)
{
	char *rel = xasprintf("i18n/%s.yaml", lang);
	char *path = util_path_join(b->theme_dir, rel);
	char *disp = util_path_join(b->theme_display, rel);
	struct buf t = BUF_INIT;
	struct value *v = NULL;

	if (util_read_file(path, &t) == 0)
		v = yml_parse(t.ptr, t.len, disp, 1, b->d);
	if (v == NULL || v->kind != VAL_MAP) {
		val_unref(v);
		v = val_map();
	}
	buf_release(&t);
	free(rel);
	free(path);
	free(disp);
	return v;
}

/* i18n label "group.key", falling back to the key itself. */
static const char *label(struct build *, const char *, const char *,
    const char *);

const char *
render_label(struct build *b, const char *lang, const char *group,
    const char *key)
{
	return label(b, lang, group, key);
}

static const char *
label(struct build *b, const char *lang, const char *group, const char *key)
{
	struct value *i18n = strcmp(lang, "en") == 0 ? b->i18n_en : b->i18n_ja;
	const char *s = val_cstr(val_get(val_get(i18n, group), key));

	return s ? s : key;
}

/* Pages of one type listed in the navigation at most. */
#define NAV_MAX_PAGES	40

static int count_type(struct build *, const char *);

static int
type_has_pages(struct build *b, const char *type)
{
	size_t i;

	for (i = 0; i < b->npages; i++)
		if (!b->pages[i].excluded && !b->pages[i].is_home &&
		    strcmp(b->pages[i].type, type) == 0)
			return 1;
	return 0;
}

/* HTML-escaped copy; caller frees. */
static char *
html_escape(const char *s)
{
	struct buf b = BUF_INIT;

	buf_put_html(&b, s, strlen(s));
	return buf_detach(&b);
}

/* Output path of a tag page ("tags/バックアップ.html"). */
static char *
tag_out(const char *tag)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "tags/");
	md_slug(tag, strlen(tag), &b);
	if (b.len == 5)
		buf_puts(&b, "tag");
	buf_puts(&b, ".html");
	return buf_detach(&b);
}

/* Output path of the list page of a type ("policies/index.html"). */
static char *
list_out(const char *type)
{
	const char *folder = build_type_folder(type);

	return xasprintf("%s/index.html", folder ? folder : "pages");
}

int
render_init(struct build *b)
{
	struct value *site, *nav, *entry, *pages, *pe;
	size_t i, k;
	int listed;
	const char *lang = b->cfg.language;

	b->i18n_ja = load_i18n(b, "ja");
	b->i18n_en = load_i18n(b, "en");
	/* neighbours of every page among pages of its type */
	for (k = 0; type_order[k]; k++) {
		size_t last = (size_t)-1;

		for (i = 0; i < b->npages; i++) {
			struct page *p = &b->pages[i];

			if (k == 0)
				p->prev = p->next = (size_t)-1;
			if (p->excluded || p->is_home ||
			    strcmp(p->type, type_order[k]) != 0)
				continue;
			p->prev = last;
			if (last != (size_t)-1)
				b->pages[last].next = i;
			last = i;
		}
	}
	{
		char *site_l = util_path_join(b->opts->src_dir, "layouts");
		char *theme_l = util_path_join(b->theme_dir, "layouts");
		char *disp = util_path_join(b->theme_display, "layouts");
		int rc = 0;

		b->tmpl = tmpl_set_new();
		if (util_is_dir(site_l))
			rc |= tmpl_set_add_dir(b->tmpl, site_l, "layouts",
			    b->d);
		rc |= tmpl_set_add_dir(b->tmpl, theme_l, disp, b->d);
		rc |= tmpl_set_compile(b->tmpl, b->d);
		free(site_l);
		free(theme_l);
		free(disp);
		if (rc)
			return -1;
	}
	site = val_map();
	val_set(site, "title", val_str(b->cfg.title));
	val_set(site, "lang", val_str(lang));
	val_set(site, "description", val_str(b->cfg.description));
	val_set(site, "print_footer", b->cfg.print_footer ?
	    val_str(b->cfg.print_footer) : val_null());
	val_set(site, "base_url", b->cfg.base_url ? val_str(b->cfg.base_url) :
	    val_null());
	val_set(site, "search", val_bool(b->cfg.search));
	nav = val_list();
	for (k = 0; type_order[k]; k++) {
		if (!type_has_pages(b, type_order[k]))
			continue;
		entry = val_map();
		val_set(entry, "type", val_str(type_order[k]));
		val_set(entry, "label", val_str(label(b, lang, "types_plural",
		    type_order[k])));
		val_set(entry, "url", val_str_own(list_out(type_order[k])));
		pages = val_list();
		/* a long list belongs on the type's list page, not in every
		 * page's navigation (which would make the site quadratic) */
		listed = count_type(b, type_order[k]) <= NAV_MAX_PAGES;
		for (i = 0; listed && i < b->npages; i++) {
			struct page *p = &b->pages[i];

			if (p->excluded || p->is_home ||
			    strcmp(p->type, type_order[k]) != 0)
				continue;
			pe = val_map();
			val_set(pe, "title", val_str(p->title));
			val_set(pe, "url", val_str(p->out));
			val_set(pe, "id", p->id ? val_str(p->id) : val_null());
			val_push(pages, pe);
		}
		val_set(entry, "pages", pages);
		val_push(nav, entry);
	}
	val_set(site, "nav", nav);
	{
		struct value *tools = val_list();
		struct value *t;
		static const char *const tl[][3] = {
			{ "controls/index.html", "types_plural", "control" },
			{ "soa.html", "soa", "title" },
			{ "dashboard.html", "dash", "title" },
			{ "glossary/index.html", "nav", "glossary" },
			{ "print.html", "print", "title" },
		};
		size_t j;

		for (j = 0; j < sizeof(tl) / sizeof(tl[0]); j++) {
			if (j < 3 && b->model->nctls == 0 && j != 2)
				continue;
			if (j == 3 && (b->model->glossary == NULL ||
			    b->model->glossary->n == 0))
				continue;
			if (j == 4 && !prn_any(b))	/* not written */
				continue;
			t = val_map();
			val_set(t, "label", val_str(label(b, lang, tl[j][1],
			    tl[j][2])));
			val_set(t, "url", val_str(tl[j][0]));
			val_push(tools, t);
		}
		val_set(site, "tools", tools);
	}
	b->site_ctx = site;
	return 0;
}

void
render_release(struct build *b)
{
	tmpl_set_free(b->tmpl);
	b->tmpl = NULL;
	val_unref(b->site_ctx);
	val_unref(b->i18n_ja);
	val_unref(b->i18n_en);
	b->site_ctx = b->i18n_ja = b->i18n_en = NULL;
}

/* Minimal built-in page used until a template set is loaded. */
static void
fallback_html(const struct value *ctx, struct buf *out)
{
	const char *root = val_cstr(val_get(ctx, "root"));
	const char *title = val_cstr(val_path(ctx, "page.title"));
	const char *content = val_cstr(val_path(ctx, "page.content"));
	const char *lang = val_cstr(val_get(ctx, "lang"));

	buf_puts(out, "<!DOCTYPE html>\n<html lang=\"");
	buf_puts(out, lang ? lang : "ja");
	buf_puts(out, "\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
	if (title)
		buf_put_html(out, title, strlen(title));
	buf_puts(out, "</title>\n<link rel=\"stylesheet\" href=\"");
	buf_puts(out, root ? root : "");
	buf_puts(out, "assets/style.css\">\n</head>\n<body>\n<main>\n<h1>");
	if (title)
		buf_put_html(out, title, strlen(title));
	buf_puts(out, "</h1>\n");
	if (content)
		buf_puts(out, content);
	buf_puts(out, "</main>\n</body>\n</html>\n");
}

/* The context every layout gets. */
static struct value *
base_ctx(struct build *b, const char *out_path, const char *lang,
    const char *layout)
{
	struct value *ctx = val_map();

	val_set(ctx, "root", val_str_own(util_root_prefix(out_path)));
	val_set(ctx, "lang", val_str(lang));
	val_set(ctx, "i18n", val_ref(strcmp(lang, "en") == 0 ? b->i18n_en :
	    b->i18n_ja));
	val_set(ctx, "site", val_ref(b->site_ctx));
	val_set(ctx, "layout", val_str(layout));
	return ctx;
}

const char *
render_list_date(const struct page *p)
{
	const char *s = val_cstr(val_get(p->src.meta, "date"));

	return s ? s : val_cstr(val_get(p->src.meta, "effective"));
}

static struct value *make_item(struct build *, const struct page *,
    const char *);

/* A {id, title, url, type, type_label, ...} item for a page.  While the
 * generated pages are made (main thread), items are made once per page and
 * shared: callers that add keys take item_copy() instead. */
static struct value *
page_item(struct build *b, const struct page *p, const char *lang)
{
	size_t i = (size_t)(p - b->pages);

	if (b->items == NULL || strcmp(lang, b->cfg.language) != 0)
		return make_item(b, p, lang);
	if (b->items[i] == NULL)
		b->items[i] = make_item(b, p, lang);
	return val_ref(b->items[i]);
}

/* A page item of its own, to add keys to. */
static struct value *
item_copy(struct build *b, const struct page *p, const char *lang)
{
	struct value *shared = page_item(b, p, lang), *e = val_map();
	size_t i;

	for (i = 0; i < shared->n; i++)
		val_set(e, shared->keys[i]->str, val_ref(shared->items[i]));
	val_unref(shared);
	return e;
}

static struct value *
make_item(struct build *b, const struct page *p, const char *lang)
{
	struct value *e = val_map();
	const char *s;

	val_set(e, "id", p->id ? val_str(p->id) : val_null());
	val_set(e, "title", val_str(p->title));
	val_set(e, "url", val_str(p->out));
	val_set(e, "type", val_str(p->type));
	val_set(e, "type_label", val_str(label(b, lang, "types", p->type)));
	s = val_cstr(val_get(p->src.meta, "summary"));
	val_set(e, "summary", val_str(s ? s : ""));
	s = render_list_date(p);
	val_set(e, "date", s ? val_str(s) : val_null());
	val_set(e, "status_label", p->status ? val_str(label(b, lang,
	    "status", p->status)) : val_null());
	return e;
}

/* {key, id, title, url} for a control. */
static struct value *
control_item(struct build *b, size_t ci, const char *lang)
{
	const struct control *c = &b->model->ctls[ci];
	struct value *e = val_map();

	val_set(e, "key", val_str(c->key));
	val_set(e, "id", val_str(c->key));
	val_set(e, "title", val_str(strcmp(lang, "en") == 0 ? c->title_en :
	    c->title_ja));
	val_set(e, "url", val_str(c->out));
	return e;
}

static struct value *
date_val(const struct value *v, const char *lang)
{
	int ymd = life_date(v);

	if (ymd == 0)
		return val_cstr(v) ? val_str(val_cstr(v)) : val_null();
	return val_str_own(render_date(lang, ymd / 10000, ymd / 100 % 100,
	    ymd % 100));
}

/* Groups incoming references of a target by the referring page's type,
 * in type order; each page once per group. */
static struct value *
referenced_by(struct build *b, const size_t *idx, size_t n,
    const char *lang)
{
	struct value *groups = val_list(), *g, *items;
	struct model *m = b->model;
	size_t k, i, last;

	for (k = 0; type_order[k]; k++) {
		items = val_list();
		last = (size_t)-1;
		for (i = 0; i < n; i++) {
			const struct ref *r = &m->refs[idx[i]];
			const struct page *src = &b->pages[r->from];

			if (src->excluded || strcmp(src->type, type_order[k]) ||
			    r->from == last)
				continue;
			last = r->from;
			val_push(items, page_item(b, src, lang));
		}
		if (items->n == 0) {
			val_unref(items);
			continue;
		}
		g = val_map();
		val_set(g, "kind", val_str(type_order[k]));
		val_set(g, "kind_label", val_str(label(b, lang, "types_plural",
		    type_order[k])));
		val_set(g, "items", items);
		val_push(groups, g);
	}
	return groups;
}

/* The parts of a page's context that pass 2 makes: the body, the table of
 * contents (from the headings after filters) and what filters added. */
static void
body_parts(struct page *p, struct value *pg)
{
	const struct md_heading *heads;
	struct value *toc, *e;
	size_t i, nheads;

	val_set(pg, "content", val_str(p->body_html ? p->body_html : ""));
	toc = val_list();
	heads = p->fheads ? p->fheads : p->heads;
	nheads = p->fheads ? p->nfheads : p->nheads;
	for (i = 0; i < nheads; i++) {
		if (heads[i].level < 2 || heads[i].level > 3)
			continue;
		e = val_map();
		val_set(e, "level", val_num(heads[i].level));
		val_set(e, "id", val_str(heads[i].id));
		val_set(e, "text", val_str(heads[i].text));
		val_push(toc, e);
	}
	val_set(pg, "has_toc", val_bool(toc->n >= 2));
	val_set(pg, "toc", toc);
	if (p->tmpl_extra)
		val_set(pg, "extra", val_ref(p->tmpl_extra));
}

/* Appends a banner of `level` whose HTML is t's (taken). */
static void
add_banner(struct value *banners, const char *level, struct buf *t)
{
	struct value *e = val_map();

	val_set(e, "level", val_str(level));
	val_set(e, "html", val_str_own(buf_detach(t)));
	val_push(banners, e);
}

#define BANNER_LESSONS	3	/* lessons with a banner of their own */

static struct value *
page_ctx(struct build *b, struct page *p)
{
	struct value *pg = val_map(), *e, *doc, *list, *banners, *bc;
	const struct value *meta = p->src.meta, *v;
	struct model *m = b->model;
	const char *lang = p->lang, *s;
	size_t i, k;
	char *folder;

	val_set(pg, "title", val_str(p->title));
	val_set(pg, "id", p->id ? val_str(p->id) : val_null());
	val_set(pg, "type", val_str(p->type));
	val_set(pg, "type_label", val_str(label(b, lang, "types", p->type)));
	val_set(pg, "url", val_str(p->out));
	val_set(pg, "lang", val_str(lang));
	val_set(pg, "source", val_str(p->f->src));
	val_set(pg, "is_home", val_bool(p->is_home));
	val_set(pg, "is_draft", val_bool(p->status &&
	    strcmp(p->status, "draft") == 0));
	s = val_cstr(val_get(meta, "summary"));
	val_set(pg, "summary", val_str(s ? s : ""));
	s = val_cstr(val_get(meta, "description"));
	val_set(pg, "description", val_str(s ? s : val_cstr(val_get(meta,
	    "summary")) ? val_cstr(val_get(meta, "summary")) : ""));
	/* document control */
	doc = val_map();
	val_set(doc, "id", p->id ? val_str(p->id) : val_null());
	v = val_get(meta, "version");
	val_set(doc, "version", val_cstr(v) ? val_str(val_cstr(v)) :
	    val_null());
	s = val_cstr(val_get(meta, "owner"));
	val_set(doc, "owner", s ? val_str(s) : val_null());
	s = val_cstr(val_get(meta, "approver"));
	val_set(doc, "approver", s ? val_str(s) : val_null());
	val_set(doc, "status", p->status ? val_str(p->status) : val_null());
	val_set(doc, "status_label", p->status ? val_str(label(b, lang,
	    "status", p->status)) : val_null());
	val_set(doc, "classification", val_str(p->classification));
	val_set(doc, "classification_label", val_str(label(b, lang,
	    "classification", p->classification)));
	val_set(doc, "effective", date_val(val_get(meta, "effective"), lang));
	val_set(doc, "reviewed", date_val(val_get(meta, "reviewed"), lang));
	val_set(doc, "date", date_val(val_get(meta, "date"), lang));
	val_set(doc, "next_review", p->next_review ?
	    val_str_own(render_date(lang, p->next_review / 10000,
	    p->next_review / 100 % 100, p->next_review % 100)) : val_null());
	val_set(doc, "review_overdue", val_bool(p->overdue));
	val_set(pg, "has_doc", val_bool(p->id != NULL &&
	    strcmp(p->type, "page") != 0));
	val_set(pg, "doc", doc);
	/* revisions */
	list = val_list();
	v = val_get(meta, "revisions");
	for (i = 0; v && v->kind == VAL_LIST && i < v->n; i++) {
		const struct value *r = v->items[i];

		if (r->kind != VAL_MAP)
			continue;
		e = val_map();
		s = val_cstr(val_get(r, "version"));
		val_set(e, "version", val_str(s ? s : ""));
		val_set(e, "date", date_val(val_get(r, "date"), lang));
		s = val_cstr(val_get(r, "note"));
		val_set(e, "note", val_str(s ? s : ""));
		val_push(list, e);
	}
	val_set(pg, "has_revisions", val_bool(list->n > 0));
	val_set(pg, "revisions", list);
	/* outgoing references: controls and related documents */
	list = val_list();
	{
		struct value *rel = val_list();
		size_t last = (size_t)-1;

		for (i = m->out_off[p - b->pages];
		    i < m->out_off[p - b->pages + 1]; i++) {
			const struct ref *r = &m->refs[i];

			if (r->kind == MODEL_CONTROL) {
				if (r->to == last)
					continue;
				last = r->to;
				val_push(list, control_item(b, r->to, lang));
			} else if (!b->pages[r->to].excluded) {
				e = item_copy(b, &b->pages[r->to], lang);
				val_set(e, "rel", val_str(r->rel));
				val_set(e, "rel_label", val_str(label(b, lang,
				    "relations", r->rel)));
				val_push(rel, e);
			}
		}
		val_set(pg, "related", rel);
	}
	val_set(pg, "controls", list);
	{
		size_t pi = (size_t)(p - b->pages);

		val_set(pg, "referenced_by", referenced_by(b,
		    m->in_page + m->in_page_off[pi],
		    m->in_page_off[pi + 1] - m->in_page_off[pi], lang));
	}
	/* banners */
	banners = val_list();
	if (p->status && strcmp(p->status, "draft") == 0) {
		e = val_map();
		val_set(e, "level", val_str("info"));
		val_set(e, "html", val_str_own(html_escape(label(b, lang,
		    "banner", "draft"))));
		val_push(banners, e);
	}
	if (p->overdue) {
		struct buf t = BUF_INIT;
		char *d = render_date(lang, p->next_review / 10000,
		    p->next_review / 100 % 100, p->next_review % 100);

		buf_put_html(&t, label(b, lang, "banner", "review_overdue"),
		    strlen(label(b, lang, "banner", "review_overdue")));
		buf_puts(&t, "（");
		buf_put_html(&t, d, strlen(d));
		buf_puts(&t, "）");
		free(d);
		add_banner(banners, "warning", &t);
	}
	for (k = 0; k < p->nstale && k < BANNER_LESSONS; k++) {
		const struct page *l = &b->pages[p->stale_by[k]];
		struct buf t = BUF_INIT;
		char *u = build_rel_url(p->out, l->out);

		buf_put_html(&t, label(b, lang, "banner", "needs_update"),
		    strlen(label(b, lang, "banner", "needs_update")));
		buf_puts(&t, " <a href=\"");
		buf_put_html(&t, u, strlen(u));
		buf_puts(&t, "\">");
		buf_put_html(&t, l->title, strlen(l->title));
		buf_puts(&t, "</a>");
		free(u);
		add_banner(banners, "danger", &t);
	}
	if (p->nstale > BANNER_LESSONS) {
		/* the rest as one banner pointing to the dashboard */
		struct buf t = BUF_INIT;
		char *u = build_rel_url(p->out, "dashboard.html");
		const char *more = label(b, lang, "banner", "needs_update_more");

		buf_put_html(&t, more, strlen(more));
		buf_printf(&t, " (%zu) <a href=\"", p->nstale - BANNER_LESSONS);
		buf_put_html(&t, u, strlen(u));
		buf_puts(&t, "#stale\">");
		more = label(b, lang, "dash", "title");
		buf_put_html(&t, more, strlen(more));
		buf_puts(&t, "</a>");
		free(u);
		add_banner(banners, "danger", &t);
	}
	val_set(pg, "banners", banners);
	/* breadcrumbs: home, then the type's list */
	bc = val_list();
	if (!p->is_home) {
		e = val_map();
		val_set(e, "title", val_str(label(b, lang, "nav", "home")));
		val_set(e, "url", val_str("index.html"));
		val_push(bc, e);
		folder = list_out(p->type);
		e = val_map();
		val_set(e, "title", val_str(label(b, lang, "types_plural",
		    p->type)));
		val_set(e, "url", val_str_own(folder));
		val_push(bc, e);
	}
	val_set(pg, "breadcrumbs", bc);
	/* tags */
	list = val_list();
	v = val_get(meta, "tags");
	if (v && v->kind == VAL_LIST) {
		for (i = 0; i < v->n; i++) {
			if ((s = val_cstr(v->items[i])) == NULL)
				continue;
			e = val_map();
			val_set(e, "name", val_str(s));
			val_set(e, "url", val_str_own(tag_out(s)));
			val_push(list, e);
		}
	}
	val_set(pg, "tags", list);
	/* prev / next among pages of the same type (computed once) */
	if (p->prev != (size_t)-1)
		val_set(pg, "prev", page_item(b, &b->pages[p->prev], lang));
	if (p->next != (size_t)-1)
		val_set(pg, "next", page_item(b, &b->pages[p->next], lang));
	val_set(pg, "meta", val_ref(p->src.meta));
	return pg;
}

/* Renders `layout` (or the built-in page when the theme lacks it). */
static int
render_layout(struct build *b, const char *layout, const struct value *ctx,
    struct buf *out)
{
	if (b->tmpl && tmpl_exists(b->tmpl, layout))
		return tmpl_render(b->tmpl, layout, ctx, out, b->d);
	if (b->tmpl && tmpl_exists(b->tmpl, "page"))
		return tmpl_render(b->tmpl, "page", ctx, out, b->d);
	fallback_html(ctx, out);
	return 0;
}

static struct value *home_ctx(struct build *, const char *);

static void
page_layout(struct build *b, const struct page *p, char layout[96])
{
	const char *ml = val_cstr(val_get(p->src.meta, "layout"));

	if (ml && strlen(ml) < 64 && strstr(ml, "..") == NULL)
		snprintf(layout, 96, "%s", ml);
	else if (p->is_home)
		snprintf(layout, 96, "home");
	else
		snprintf(layout, 96, "page-%s", p->type);
	if (b->tmpl && !tmpl_exists(b->tmpl, layout))
		snprintf(layout, 96, "page");
}

/* See render.h. */
struct value *
render_page_begin(struct build *b, struct page *p, struct buf *key)
{
	char layout[96];
	struct value *ctx, *pg, *home = NULL;

	page_layout(b, p, layout);
	ctx = base_ctx(b, p->out, p->lang, layout);
	pg = page_ctx(b, p);
	if (p->is_home)
		home = home_ctx(b, p->lang);
	if (key) {
		buf_puts(key, layout);
		buf_putc(key, '\n');
		val_to_json(pg, key);
		if (home) {
			buf_putc(key, '\n');
			val_to_json(home, key);
		}
	}
	val_set(ctx, "page", pg);
	if (home)
		val_set(ctx, "home", home);
	return ctx;
}

/* See render.h. */
int
render_page_finish(struct build *b, struct page *p, struct value *ctx,
    struct buf *out)
{
	int rc;

	body_parts(p, val_get(ctx, "page"));
	rc = render_layout(b, val_cstr(val_get(ctx, "layout")), ctx, out);
	val_unref(ctx);
	return rc;
}

int
render_page(struct build *b, struct page *p, struct buf *out)
{
	return render_page_finish(b, p, render_page_begin(b, p, NULL), out);
}

/* Renders a generated page and writes it. */
static void
write_ctx(struct build *b, const char *out_path, const char *layout,
    struct value *ctx)
{
	struct buf out = BUF_INIT;

	if (render_layout(b, layout, ctx, &out) == 0)
		build_write(b, out_path, out.ptr, out.len);
	buf_release(&out);
}

/* A minimal page context for generated pages. */
static struct value *
gen_page(struct build *b, const char *title, const char *type,
    const char *out, const char *lang)
{
	struct value *pg = val_map(), *bc = val_list(), *e;

	val_set(pg, "title", val_str(title));
	val_set(pg, "type", val_str(type));
	val_set(pg, "type_label", val_str(label(b, lang, "types", type)));
	val_set(pg, "url", val_str(out));
	val_set(pg, "lang", val_str(lang));
	val_set(pg, "content", val_str(""));
	val_set(pg, "generated", val_bool(1));
	e = val_map();
	val_set(e, "title", val_str(label(b, lang, "nav", "home")));
	val_set(e, "url", val_str("index.html"));
	val_push(bc, e);
	val_set(pg, "breadcrumbs", bc);
	val_set(pg, "banners", val_list());
	return pg;
}

static int
count_type(struct build *b, const char *type)
{
	size_t i;
	int n = 0;

	for (i = 0; i < b->npages; i++)
		n += !b->pages[i].excluded && !b->pages[i].is_home &&
		    strcmp(b->pages[i].type, type) == 0;
	return n;
}

static struct value *
stat(const char *lbl, long value, const char *url)
{
	struct value *e = val_map();

	val_set(e, "label", val_str(lbl));
	val_set(e, "value", val_num((double)value));
	val_set(e, "url", val_str(url));
	return e;
}

/* Number of controls some policy or procedure implements. */
static size_t
covered_controls(struct build *b, size_t ci)
{
	struct model *m = b->model;
	size_t i, n = 0;

	for (i = m->in_ctl_off[ci]; i < m->in_ctl_off[ci + 1]; i++) {
		const struct ref *r = &m->refs[m->in_ctl[i]];
		const struct page *p = &b->pages[r->from];

		if (!p->excluded && strcmp(r->rel, "controls") == 0 &&
		    (strcmp(p->type, "policy") == 0 ||
		    strcmp(p->type, "procedure") == 0))
			n++;
	}
	return n;
}

/* Documents a home section shows: the newest first */
#define HOME_ITEMS	6

/* render_list_date, "" for none (sorts last). */
static const char *
date_key(const struct page *p)
{
	const char *s = render_list_date(p);

	return s ? s : "";
}

/* Puts in idx[0..max) the newest documents of `type` in the build
 * (dates descending, then in path order); returns how many there are in
 * all. */
static size_t
newest(struct build *b, const char *type, size_t *idx, size_t max)
{
	size_t i, j, n = 0, total = 0;

	for (i = 0; i < b->npages; i++) {
		const struct page *p = &b->pages[i];

		if (p->excluded || p->is_home || strcmp(p->type, type) != 0)
			continue;
		total++;
		/* insertion into the max kept so far (max is small) */
		for (j = n; j > 0 && strcmp(date_key(&b->pages[idx[j - 1]]),
		    date_key(p)) < 0; j--)
			if (j < max)
				idx[j] = idx[j - 1];
		if (j < max) {
			idx[j] = i;
			if (n < max)
				n++;
		}
	}
	return total;
}

static struct value *
home_ctx(struct build *b, const char *lang)
{
	struct value *home = val_map(), *stats = val_list(), *secs, *g, *items;
	size_t i, k, covered = 0, stale = 0, overdue = 0, open = 0;
	size_t idx[HOME_ITEMS], nt;

	for (k = 0; type_order[k]; k++) {
		int n = count_type(b, type_order[k]);
		char *u;

		if (n == 0 || strcmp(type_order[k], "page") == 0)
			continue;
		u = list_out(type_order[k]);
		val_push(stats, stat(label(b, lang, "types_plural",
		    type_order[k]), n, u));
		free(u);
	}
	for (i = 0; i < b->model->nctls; i++)
		covered += covered_controls(b, i) > 0;
	for (i = 0; i < b->npages; i++) {
		overdue += b->pages[i].overdue;
		stale += b->pages[i].nstale > 0;
	}
	for (i = 0; i < b->nactions; i++)
		open += b->actions[i].open;
	if (b->model->nctls) {
		val_push(stats, stat(label(b, lang, "dash", "covered"),
		    (long)covered, "controls/index.html"));
		val_push(stats, stat(label(b, lang, "dash", "overdue"),
		    (long)overdue, "dashboard.html#overdue"));
		val_push(stats, stat(label(b, lang, "dash", "stale"),
		    (long)stale, "dashboard.html#stale"));
		val_push(stats, stat(label(b, lang, "dash", "open_actions"),
		    (long)open, "dashboard.html#actions"));
	}
	val_set(home, "stats", stats);
	secs = val_list();
	for (k = 0; type_order[k]; k++) {
		if (strcmp(type_order[k], "page") == 0 ||
		    count_type(b, type_order[k]) == 0)
			continue;
		items = val_list();
		nt = newest(b, type_order[k], idx, HOME_ITEMS);
		for (i = 0; i < nt && i < HOME_ITEMS; i++)
			val_push(items, page_item(b, &b->pages[idx[i]], lang));
		g = val_map();
		val_set(g, "title", val_str(label(b, lang, "types_plural",
		    type_order[k])));
		val_set(g, "items", items);
		if (nt > HOME_ITEMS) {
			/* the rest are on the type's list page */
			val_set(g, "more_url", val_str_own(list_out(
			    type_order[k])));
			val_set(g, "more_label", val_str(label(b, lang,
			    "nav", "all")));
		}
		val_push(secs, g);
	}
	val_set(home, "sections", secs);
	return home;
}

/* A list page: {title, intro_html, groups: [{title, items}]}. */
static void
write_list(struct build *b, const char *out, const char *title,
    struct value *groups, const char *lang)
{
	struct value *ctx = base_ctx(b, out, lang, "list"), *list = val_map();

	val_set(list, "title", val_str(title));
	val_set(list, "groups", groups);
	val_set(ctx, "list", list);
	val_set(ctx, "page", gen_page(b, title, "page", out, lang));
	write_ctx(b, out, "list", ctx);
	val_unref(ctx);
}

static void
gen_type_lists(struct build *b, const char *lang)
{
	struct value *groups, *g, *items;
	size_t i, k, dummy;
	char *out;

	for (k = 0; type_order[k]; k++) {
		if (count_type(b, type_order[k]) == 0)
			continue;
		out = list_out(type_order[k]);
		{
			char *md = xstrdup(out);

			strcpy(md + strlen(md) - 4, "md");
			if (hm_get(&b->by_rel, md, &dummy)) {
				free(md);
				free(out);
				continue;	/* the site has its own */
			}
			free(md);
		}
		items = val_list();
		for (i = 0; i < b->npages; i++)
			if (!b->pages[i].excluded && !b->pages[i].is_home &&
			    strcmp(b->pages[i].type, type_order[k]) == 0)
				val_push(items, page_item(b, &b->pages[i],
				    lang));
		groups = val_list();
		g = val_map();
		val_set(g, "items", items);
		val_push(groups, g);
		write_list(b, out, label(b, lang, "types_plural",
		    type_order[k]), groups, lang);
		free(out);
	}
}

struct tag_pages {
	char	*tag;
	size_t	*pages;
	size_t	 n, cap;
};

static int
tag_cmp(const void *a, const void *b2)
{
	return strcmp(((const struct tag_pages *)a)->tag,
	    ((const struct tag_pages *)b2)->tag);
}

/* tags/<tag>.html for every tag and tags/index.html: one pass over the
 * pages collects each tag's pages (in page order, each page once). */
static void
gen_tags(struct build *b, const char *lang)
{
	struct tag_pages *t = NULL;
	struct hmap seen;
	size_t n = 0, i, k, j, last;
	struct value *groups, *g, *items, *all;
	char *out, *title;

	hm_init(&seen);
	for (i = 0; i < b->npages; i++) {
		const struct value *v = val_get(b->pages[i].src.meta, "tags");

		if (b->pages[i].excluded || v == NULL || v->kind != VAL_LIST)
			continue;
		for (k = 0; k < v->n; k++) {
			const char *tag = val_cstr(v->items[k]);

			if (tag == NULL)
				continue;
			if (!hm_get(&seen, tag, &j)) {
				if ((n & (n - 1)) == 0)	/* 0, 1, 2, 4 ... */
					t = xreallocarray(t, n ? n * 2 : 1,
					    sizeof(*t));
				memset(&t[n], 0, sizeof(t[n]));
				t[n].tag = xstrdup(tag);
				j = n++;
				hm_put(&seen, t[j].tag, j);
			}
			last = t[j].n ? t[j].pages[t[j].n - 1] : (size_t)-1;
			if (last != i) {
				if (t[j].n == t[j].cap) {
					t[j].cap = t[j].cap ? t[j].cap * 2 : 8;
					t[j].pages = xreallocarray(t[j].pages,
					    t[j].cap, sizeof(size_t));
				}
				t[j].pages[t[j].n++] = i;
			}
		}
	}
	hm_release(&seen);
	if (n)
		qsort(t, n, sizeof(*t), tag_cmp);
	all = val_list();
	for (j = 0; j < n; j++) {
		items = val_list();
		for (k = 0; k < t[j].n; k++)
			val_push(items, page_item(b, &b->pages[t[j].pages[k]],
			    lang));
		out = tag_out(t[j].tag);
		g = val_map();
		val_set(g, "title", val_str(t[j].tag));
		val_set(g, "url", val_str(out));
		val_set(g, "items", val_ref(items));
		val_push(all, g);
		groups = val_list();
		g = val_map();
		val_set(g, "items", items);
		val_push(groups, g);
		title = xasprintf("%s: %s", label(b, lang, "nav", "tag"),
		    t[j].tag);
		write_list(b, out, title, groups, lang);
		free(title);
		free(out);
		free(t[j].tag);
		free(t[j].pages);
	}
	free(t);
	if (all->n)
		write_list(b, "tags/index.html", label(b, lang, "nav", "tags"),
		    all, lang);
	else
		val_unref(all);
}

static const char *
ctl_title(const struct control *c, const char *lang)
{
	return strcmp(lang, "en") == 0 ? c->title_en : c->title_ja;
}

static const char *
group_title(struct build *b, const struct control *c, const char *lang)
{
	const struct catalog *cat = &b->model->cats[c->catalog];
	size_t i;

	for (i = 0; c->group && i < cat->ngroups; i++)
		if (strcmp(cat->groups[i].id, c->group) == 0)
			return strcmp(lang, "en") == 0 ?
			    cat->groups[i].title_en : cat->groups[i].title_ja;
	return "";
}

/* Documents implementing control ci (policies and procedures citing it in
 * 'controls'), as page items. */
static struct value *
implementers(struct build *b, size_t ci, const char *lang)
{
	struct model *m = b->model;
	struct value *items = val_list();
	size_t i, last = (size_t)-1;

	for (i = m->in_ctl_off[ci]; i < m->in_ctl_off[ci + 1]; i++) {
		const struct ref *r = &m->refs[m->in_ctl[i]];
		const struct page *p = &b->pages[r->from];

		if (p->excluded || r->from == last ||
		    strcmp(r->rel, "controls") != 0 ||
		    (strcmp(p->type, "policy") != 0 &&
		    strcmp(p->type, "procedure") != 0))
			continue;
		last = r->from;
		val_push(items, page_item(b, p, lang));
	}
	return items;
}

static struct value *
control_ctx(struct build *b, size_t ci, const char *lang)
{
	const struct control *c = &b->model->ctls[ci];
	struct model *m = b->model;
	struct value *e = control_item(b, ci, lang);

	val_set(e, "group", c->group ? val_str(c->group) : val_null());
	val_set(e, "group_title", val_str(group_title(b, c, lang)));
	val_set(e, "catalog_title", val_str(strcmp(lang, "en") == 0 ?
	    m->cats[c->catalog].title_en : m->cats[c->catalog].title_ja));
	val_set(e, "applicable", c->applicable < 0 ? val_null() :
	    val_bool(c->applicable));
	val_set(e, "applicable_label", val_str(label(b, lang, "soa",
	    c->applicable < 0 ? "unknown" : c->applicable ? "yes" : "no")));
	val_set(e, "justification", val_str(c->justification ?
	    c->justification : ""));
	val_set(e, "impl_status", val_str(c->impl_status ? c->impl_status :
	    ""));
	val_set(e, "impl_status_label", val_str(c->impl_status ?
	    label(b, lang, "impl", c->impl_status) : ""));
	val_set(e, "implemented_by", implementers(b, ci, lang));
	val_set(e, "referenced_by", referenced_by(b, m->in_ctl +
	    m->in_ctl_off[ci], m->in_ctl_off[ci + 1] - m->in_ctl_off[ci],
	    lang));
	return e;
}

static void
gen_controls(struct build *b, const char *lang)
{
	struct model *m = b->model;
	struct value *ctx, *pg, *idx, *cats, *cat, *groups, *g, *items, *e;
	size_t i, ci, gi;
	long covered = 0;
	char *t;

	if (m->nctls == 0)
		return;
	for (ci = 0; ci < m->nctls; ci++) {
		const struct control *c = &m->ctls[ci];

		ctx = base_ctx(b, c->out, lang, "control");
		t = xasprintf("%s %s", c->key, ctl_title(c, lang));
		pg = gen_page(b, t, "control", c->out, lang);
		free(t);
		e = val_map();
		val_set(e, "title", val_str(label(b, lang, "types_plural",
		    "control")));
		val_set(e, "url", val_str("controls/index.html"));
		val_push(val_get(pg, "breadcrumbs"), e);
		val_set(ctx, "page", pg);
		val_set(ctx, "control", control_ctx(b, ci, lang));
		write_ctx(b, c->out, "control", ctx);
		val_unref(ctx);
	}
	/* the index, grouped by catalog and group, with coverage */
	cats = val_list();
	for (i = 0; i < m->ncats; i++) {
		long ccov = 0, ctot = 0;

		cat = val_map();
		val_set(cat, "title", val_str(strcmp(lang, "en") == 0 ?
		    m->cats[i].title_en : m->cats[i].title_ja));
		groups = val_list();
		for (gi = 0; gi <= m->cats[i].ngroups; gi++) {
			const char *gid = gi < m->cats[i].ngroups ?
			    m->cats[i].groups[gi].id : NULL;
			long gcov = 0;

			items = val_list();
			for (ci = 0; ci < m->nctls; ci++) {
				const struct control *c = &m->ctls[ci];
				size_t nimpl;
				int match;

				if (c->catalog != i)
					continue;
				if (gid)
					match = c->group &&
					    strcmp(c->group, gid) == 0;
				else {
					size_t q;

					match = 1;
					for (q = 0; c->group &&
					    q < m->cats[i].ngroups; q++)
						if (strcmp(c->group,
						    m->cats[i].groups[q].id) ==
						    0)
							match = 0;
				}
				if (!match)
					continue;
				nimpl = covered_controls(b, ci);
				e = control_item(b, ci, lang);
				val_set(e, "covered", val_bool(nimpl > 0));
				val_set(e, "documents", val_num((double)nimpl));
				val_set(e, "applicable", c->applicable < 0 ?
				    val_null() : val_bool(c->applicable));
				val_push(items, e);
				gcov += nimpl > 0;
			}
			if (items->n == 0) {
				val_unref(items);
				continue;
			}
			g = val_map();
			val_set(g, "title", val_str(gid ? (strcmp(lang, "en")
			    == 0 ? m->cats[i].groups[gi].title_en :
			    m->cats[i].groups[gi].title_ja) : ""));
			val_set(g, "covered", val_num((double)gcov));
			val_set(g, "total", val_num((double)items->n));
			ccov += gcov;
			ctot += (long)items->n;
			val_set(g, "controls", items);
			val_push(groups, g);
		}
		val_set(cat, "groups", groups);
		val_set(cat, "covered", val_num((double)ccov));
		val_set(cat, "total", val_num((double)ctot));
		covered += ccov;
		val_push(cats, cat);
	}
	ctx = base_ctx(b, "controls/index.html", lang, "controls");
	val_set(ctx, "page", gen_page(b, label(b, lang, "types_plural",
	    "control"), "page", "controls/index.html", lang));
	idx = val_map();
	val_set(idx, "catalogs", cats);
	val_set(idx, "covered", val_num((double)covered));
	val_set(idx, "total", val_num((double)m->nctls));
	val_set(ctx, "controls", idx);
	write_ctx(b, "controls/index.html", "controls", ctx);
	val_unref(ctx);
}

/* Appends one CSV field, quoted when needed. */
static void
csv_field(struct buf *o, const char *s, int last)
{
	if (strpbrk(s, ",\"\r\n") != NULL || (*s == '=' || *s == '+' ||
	    *s == '-' || *s == '@')) {
		buf_putc(o, '"');
		/* a leading formula character is neutralised for Excel */
		if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
			buf_putc(o, '\'');
		for (; *s; s++) {
			if (*s == '"')
				buf_putc(o, '"');
			buf_putc(o, *s);
		}
		buf_putc(o, '"');
	} else {
		buf_puts(o, s);
	}
	buf_puts(o, last ? "\r\n" : ",");
}

static void
gen_soa(struct build *b, const char *lang)
{
	struct model *m = b->model;
	struct value *ctx, *soa, *rows, *e, *docs;
	struct buf csv = BUF_INIT, ids = BUF_INIT;
	size_t ci, k;
	long napp = 0, nimpl = 0;

	if (m->nctls == 0)
		return;
	buf_puts(&csv, "\xef\xbb\xbf");
	csv_field(&csv, label(b, lang, "soa", "col_id"), 0);
	csv_field(&csv, label(b, lang, "soa", "col_title"), 0);
	csv_field(&csv, label(b, lang, "soa", "col_group"), 0);
	csv_field(&csv, label(b, lang, "soa", "col_applicable"), 0);
	csv_field(&csv, label(b, lang, "soa", "col_justification"), 0);
	csv_field(&csv, label(b, lang, "soa", "col_status"), 0);
	csv_field(&csv, label(b, lang, "soa", "col_documents"), 1);
	rows = val_list();
	for (ci = 0; ci < m->nctls; ci++) {
		const struct control *c = &m->ctls[ci];

		e = control_ctx(b, ci, lang);
		docs = val_get(e, "implemented_by");
		napp += c->applicable == 1;
		nimpl += c->impl_status && strcmp(c->impl_status,
		    "implemented") == 0;
		buf_reset(&ids);
		for (k = 0; k < docs->n; k++) {
			const char *id = val_cstr(val_get(docs->items[k], "id"));

			buf_printf(&ids, "%s%s", k ? " " : "", id ? id :
			    val_cstr(val_get(docs->items[k], "title")));
		}
		csv_field(&csv, c->key, 0);
		csv_field(&csv, ctl_title(c, lang), 0);
		csv_field(&csv, group_title(b, c, lang), 0);
		csv_field(&csv, val_cstr(val_get(e, "applicable_label")), 0);
		csv_field(&csv, c->justification ? c->justification : "", 0);
		csv_field(&csv, val_cstr(val_get(e, "impl_status_label")), 0);
		csv_field(&csv, ids.ptr, 1);
		val_push(rows, e);
	}
	build_write(b, "soa.csv", csv.ptr, csv.len);
	buf_release(&csv);
	buf_release(&ids);
	ctx = base_ctx(b, "soa.html", lang, "soa");
	val_set(ctx, "page", gen_page(b, label(b, lang, "soa", "title"),
	    "page", "soa.html", lang));
	soa = val_map();
	val_set(soa, "rows", rows);
	val_set(soa, "count", val_num((double)m->nctls));
	val_set(soa, "applicable", val_num((double)napp));
	val_set(soa, "implemented", val_num((double)nimpl));
	val_set(soa, "csv", val_str("soa.csv"));
	val_set(ctx, "soa", soa);
	write_ctx(b, "soa.html", "soa", ctx);
	val_unref(ctx);
}

/* Appends `item` to the group of `owner` in `groups` (a list of
 * {owner, items}), keeping owners in first-seen order. */
static void
by_owner(struct value *groups, const char *owner, struct value *item)
{
	size_t i;
	struct value *g;

	for (i = 0; i < groups->n; i++)
		if (strcmp(val_cstr(val_get(groups->items[i], "owner")),
		    owner) == 0) {
			val_push(val_get(groups->items[i], "items"), item);
			return;
		}
	g = val_map();
	val_set(g, "owner", val_str(owner));
	val_set(g, "items", val_list());
	val_push(val_get(g, "items"), item);
	val_push(groups, g);
}

static int
owner_cmp(const void *a, const void *b2)
{
	const struct value *x = *(struct value *const *)a;
	const struct value *y = *(struct value *const *)b2;

	return strcmp(val_cstr(val_get(x, "owner")),
	    val_cstr(val_get(y, "owner")));
}

static void
sort_owners(struct value *groups)
{
	if (groups->n > 1)
		qsort(groups->items, groups->n, sizeof(*groups->items),
		    owner_cmp);
}

#define DASH_LESSONS	5	/* lessons named per stale page */

static void
gen_dashboard(struct build *b, const char *lang)
{
	struct value *ctx, *dash, *overdue, *stale, *acts, *unc, *e, *ls;
	const char *none = label(b, lang, "dash", "no_owner");
	const char *owner;
	size_t i, k;

	overdue = val_list();
	stale = val_list();
	acts = val_list();
	unc = val_list();
	for (i = 0; i < b->npages; i++) {
		struct page *p = &b->pages[i];

		if (p->excluded)
			continue;
		owner = val_cstr(val_get(p->src.meta, "owner"));
		if (owner == NULL)
			owner = none;
		if (p->overdue) {
			e = item_copy(b, p, lang);
			val_set(e, "next_review", val_str_own(render_date(lang,
			    p->next_review / 10000, p->next_review / 100 % 100,
			    p->next_review % 100)));
			by_owner(overdue, owner, e);
		}
		if (p->nstale) {
			e = item_copy(b, p, lang);
			ls = val_list();
			for (k = 0; k < p->nstale && k < DASH_LESSONS; k++) {
				struct value *l = page_item(b,
				    &b->pages[p->stale_by[k]], lang);

				val_push(ls, l);
			}
			val_set(e, "lessons", ls);
			/* the rest as a count: the pairs can grow with the
			 * square of the site (a lesson on a common control) */
			if (p->nstale > DASH_LESSONS)
				val_set(e, "lessons_more", val_num((double)
				    (p->nstale - DASH_LESSONS)));
			by_owner(stale, owner, e);
		}
	}
	for (i = 0; i < b->nactions; i++) {
		const struct action *a = &b->actions[i];
		const char *s;

		if (!a->open)
			continue;
		owner = val_cstr(val_get(a->v, "owner"));
		e = val_map();
		s = val_cstr(val_get(a->v, "what"));
		val_set(e, "what", val_str(s ? s : ""));
		val_set(e, "due", a->due ? val_str_own(render_date(lang,
		    a->due / 10000, a->due / 100 % 100, a->due % 100)) :
		    val_null());
		val_set(e, "overdue", val_bool(a->overdue));
		val_set(e, "source", page_item(b, &b->pages[a->page], lang));
		by_owner(acts, owner ? owner : none, e);
	}
	for (i = 0; i < b->model->nctls; i++)
		if (b->model->ctls[i].applicable == 1 &&
		    covered_controls(b, i) == 0)
			val_push(unc, control_item(b, i, lang));
	sort_owners(overdue);
	sort_owners(stale);
	sort_owners(acts);
	dash = val_map();
	val_set(dash, "overdue", overdue);
	val_set(dash, "stale", stale);
	val_set(dash, "actions", acts);
	val_set(dash, "uncovered", unc);
	val_set(dash, "today", val_str_own(render_date(lang, b->ty, b->tm,
	    b->td)));
	ctx = base_ctx(b, "dashboard.html", lang, "dashboard");
	val_set(ctx, "page", gen_page(b, label(b, lang, "dash", "title"),
	    "page", "dashboard.html", lang));
	val_set(ctx, "dashboard", dash);
	write_ctx(b, "dashboard.html", "dashboard", ctx);
	val_unref(ctx);
}

static void
gen_glossary(struct build *b, const char *lang)
{
	struct value *ctx;

	if (b->model->glossary == NULL || b->model->glossary->n == 0)
		return;
	ctx = base_ctx(b, "glossary/index.html", lang, "glossary");
	val_set(ctx, "page", gen_page(b, label(b, lang, "nav", "glossary"),
	    "page", "glossary/index.html", lang));
	val_set(ctx, "glossary", val_ref(b->model->glossary));
	write_ctx(b, "glossary/index.html", "glossary", ctx);
	val_unref(ctx);
}

/* The generated pages made side by side, the slowest first. */
static void (*const gen_fns[])(struct build *, const char *) = {
	gen_controls, gen_tags, gen_dashboard, gen_type_lists, gen_soa,
	gen_glossary
};

static void
gen_work(void *arg, size_t i, int worker)
{
	struct build *b = arg;

	(void)worker;
	gen_fns[i](b, b->cfg.language);
}

/* Page i's list item, made once for all the generated pages. */
static void
item_work(void *arg, size_t i, int worker)
{
	struct build *b = arg;

	(void)worker;
	b->items[i] = make_item(b, &b->pages[i], b->cfg.language);
}

int
render_generated(struct build *b)
{
	struct value *ctx;
	const char *lang = b->cfg.language;
	size_t i;
	int have_home = 0;

	for (i = 0; i < b->npages; i++)
		if (b->pages[i].is_home && !b->pages[i].excluded)
			have_home = 1;
	/* every page's list item first (in parallel), then the generated
	 * pages side by side: they only read the items, the model and the
	 * pages, and write through build_write */
	b->items = xcalloc(b->npages ? b->npages : 1, sizeof(*b->items));
	pool_run(b->jobs > 0 ? b->jobs : 1, b->npages, item_work, b);
	pool_run(b->jobs > 0 ? b->jobs : 1, sizeof(gen_fns) /
	    sizeof(gen_fns[0]), gen_work, b);
	build_phase(b, "gen: lists, tags, controls, soa, dashboard");
	prn_generate(b);
	build_phase(b, "gen: print");
	for (i = 0; i < b->npages; i++)
		val_unref(b->items[i]);
	free(b->items);
	b->items = NULL;
	if (!have_home) {
		ctx = base_ctx(b, "index.html", lang, "home");
		val_set(ctx, "page", gen_page(b, b->cfg.title, "page",
		    "index.html", lang));
		val_set(ctx, "home", home_ctx(b, lang));
		write_ctx(b, "index.html", "home", ctx);
		val_unref(ctx);
	}
	if (b->tmpl && tmpl_exists(b->tmpl, "search")) {
		ctx = base_ctx(b, "search.html", lang, "search");
		val_set(ctx, "page", gen_page(b, label(b, lang, "nav",
		    "search"), "page", "search.html", lang));
		write_ctx(b, "search.html", "search", ctx);
		val_unref(ctx);
	}
	if (b->tmpl && tmpl_exists(b->tmpl, "404")) {
		ctx = base_ctx(b, "404.html", lang, "404");
		val_set(ctx, "page", gen_page(b, label(b, lang, "nav",
		    "not_found"), "page", "404.html", lang));
		write_ctx(b, "404.html", "404", ctx);
		val_unref(ctx);
	}
	return 0;
}
