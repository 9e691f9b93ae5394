/*
 * render: contexts and page rendering.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "build.h"
#include "diag.h"
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

static struct value *
page_ctx(struct build *b, struct page *p)
{
	struct value *pg = val_map(), *toc, *e;
	size_t i;

	val_set(pg, "title", val_str(p->title));
	val_set(pg, "id", p->id ? val_str(p->id) : val_null());
	val_set(pg, "type", val_str(p->type));
	val_set(pg, "type_label", val_str(label(b, p->lang, "types",
	    p->type)));
	val_set(pg, "url", val_str(p->out));
	val_set(pg, "lang", val_str(p->lang));
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
	val_set(pg, "summary", val_str(val_cstr(val_get(p->src.meta,
	    "summary")) ? val_cstr(val_get(p->src.meta, "summary")) : ""));
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
