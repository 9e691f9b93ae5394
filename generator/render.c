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
#include "render.h"
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
static const char *
label(struct build *b, const char *lang, const char *group, const char *key)
{
	struct value *i18n = strcmp(lang, "en") == 0 ? b->i18n_en : b->i18n_ja;
	const char *s = val_cstr(val_get(val_get(i18n, group), key));

	return s ? s : key;
}

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
	const char *lang = b->cfg.language;

	b->i18n_ja = load_i18n(b, "ja");
	b->i18n_en = load_i18n(b, "en");
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
		for (i = 0; i < b->npages; i++) {
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
	b->site_ctx = site;
	return 0;
}

void
render_release(struct build *b)
{
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

/* A {id, title, url, type, type_label} item for a page. */
static struct value *
page_item(struct build *b, const struct page *p, const char *lang)
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
	s = val_cstr(val_get(p->src.meta, "date"));
	if (s == NULL)
		s = val_cstr(val_get(p->src.meta, "effective"));
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

static struct value *
page_ctx(struct build *b, struct page *p)
{
	struct value *pg = val_map(), *toc, *e, *doc, *list, *banners, *bc;
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
	val_set(pg, "content", val_str(p->body_html ? p->body_html : ""));
	toc = val_list();
	for (i = 0; i < p->nheads; i++) {
		if (p->heads[i].level < 2 || p->heads[i].level > 3)
			continue;
		e = val_map();
		val_set(e, "level", val_num(p->heads[i].level));
		val_set(e, "id", val_str(p->heads[i].id));
		val_set(e, "text", val_str(p->heads[i].text));
		val_push(toc, e);
	}
	val_set(pg, "has_toc", val_bool(toc->n >= 2));
	val_set(pg, "toc", toc);
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
				e = page_item(b, &b->pages[r->to], lang);
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
		e = val_map();
		val_set(e, "level", val_str("warning"));
		val_set(e, "html", val_str_own(buf_detach(&t)));
		val_push(banners, e);
	}
	for (k = 0; k < p->nstale; k++) {
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
		e = val_map();
		val_set(e, "level", val_str("danger"));
		val_set(e, "html", val_str_own(buf_detach(&t)));
		val_push(banners, e);
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
	/* prev / next among pages of the same type */
	{
		size_t pi = (size_t)(p - b->pages);
		long j;

		for (j = (long)pi - 1; j >= 0; j--)
			if (!b->pages[j].excluded && !b->pages[j].is_home &&
			    strcmp(b->pages[j].type, p->type) == 0) {
				val_set(pg, "prev", page_item(b, &b->pages[j],
				    lang));
				break;
			}
		for (k = pi + 1; k < b->npages; k++)
			if (!b->pages[k].excluded && !b->pages[k].is_home &&
			    strcmp(b->pages[k].type, p->type) == 0) {
				val_set(pg, "next", page_item(b, &b->pages[k],
				    lang));
				break;
			}
	}
	if (p->tmpl_extra)
		val_set(pg, "extra", val_ref(p->tmpl_extra));
	val_set(pg, "meta", val_ref(p->src.meta));
	return pg;
}

int
render_page(struct build *b, struct page *p, struct buf *out)
{
	char layout[64];
	struct value *ctx;

	snprintf(layout, sizeof(layout), "%s", p->is_home ? "home" : "page");
	ctx = base_ctx(b, p->out, p->lang, layout);
	val_set(ctx, "page", page_ctx(b, p));
	fallback_html(ctx, out);
	val_unref(ctx);
	return 0;
}

static void
write_ctx(struct build *b, const char *out_path, struct value *ctx)
{
	struct buf out = BUF_INIT;

	fallback_html(ctx, &out);
	build_write(b, out_path, out.ptr, out.len);
	buf_release(&out);
}

int
render_generated(struct build *b)
{
	struct value *ctx, *pg;
	struct buf body = BUF_INIT;
	size_t i, k;
	const char *lang = b->cfg.language;
	char *out;
	int have_home = 0;

	for (i = 0; i < b->npages; i++)
		if (b->pages[i].is_home && !b->pages[i].excluded)
			have_home = 1;
	for (k = 0; type_order[k]; k++) {
		if (!type_has_pages(b, type_order[k]))
			continue;
		out = list_out(type_order[k]);
		if (hm_get(&b->by_rel, out, &i)) {
			free(out);
			continue;
		}
		buf_reset(&body);
		buf_puts(&body, "<ul>\n");
		for (i = 0; i < b->npages; i++) {
			struct page *p = &b->pages[i];
			char *u;

			if (p->excluded || p->is_home ||
			    strcmp(p->type, type_order[k]) != 0)
				continue;
			u = build_rel_url(out, p->out);
			buf_puts(&body, "<li><a href=\"");
			buf_put_html(&body, u, strlen(u));
			buf_puts(&body, "\">");
			buf_put_html(&body, p->title, strlen(p->title));
			buf_puts(&body, "</a></li>\n");
			free(u);
		}
		buf_puts(&body, "</ul>\n");
		ctx = base_ctx(b, out, lang, "list");
		pg = val_map();
		val_set(pg, "title", val_str(label(b, lang, "types_plural",
		    type_order[k])));
		val_set(pg, "content", val_str(body.ptr));
		val_set(ctx, "page", pg);
		write_ctx(b, out, ctx);
		val_unref(ctx);
		free(out);
	}
	if (!have_home) {
		buf_reset(&body);
		ctx = base_ctx(b, "index.html", lang, "home");
		pg = val_map();
		val_set(pg, "title", val_str(b->cfg.title));
		val_set(pg, "content", val_str(""));
		val_set(ctx, "page", pg);
		write_ctx(b, "index.html", ctx);
		val_unref(ctx);
	}
	buf_release(&body);
	return 0;
}
