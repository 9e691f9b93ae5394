/*
 * markdown: cmark-gfm parsing, heading ids, rendering.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm/node.h>
#include <utf8proc.h>

#include "buf.h"
#include "hmap.h"
#include "markdown.h"
#include "util.h"

/*
 * cmark-gfm 0.29 keeps the table of special inline characters in a
 * process-wide array: cmark_parser_finish() adds the extensions'
 * characters ('~', '|', ...) before parsing inlines and removes them
 * afterwards.  Two threads finishing documents at once can therefore
 * drop '~' from under each other (seen as "~~x~~" left unparsed in about
 * one build in twenty).  The library's state is guarded here, in the one
 * place tebiki parses Markdown; feeding stays parallel.
 */
static pthread_mutex_t finish_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const extensions[] = {
	"table", "strikethrough", "autolink", "tagfilter", "tasklist"
};

void
md_init(void)
{
	cmark_gfm_core_extensions_ensure_registered();
}

void
md_parse(struct md_doc *doc, const char *text, size_t len, int unsafe)
{
	cmark_syntax_extension *ext;
	size_t i;

	doc->lang = NULL;
	doc->options = CMARK_OPT_SOURCEPOS | CMARK_OPT_FOOTNOTES |
	    (unsafe ? CMARK_OPT_UNSAFE : 0);
	doc->parser = cmark_parser_new(doc->options);
	for (i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++) {
		ext = cmark_find_syntax_extension(extensions[i]);
		if (ext == NULL)
			fatal("cmark-gfm extension '%s' is missing",
			    extensions[i]);
		cmark_parser_attach_syntax_extension(doc->parser, ext);
	}
	cmark_parser_feed(doc->parser, text, len);
	pthread_mutex_lock(&finish_lock);
	doc->root = cmark_parser_finish(doc->parser);
	pthread_mutex_unlock(&finish_lock);
}

void
md_release(struct md_doc *doc)
{
	if (doc->root)
		cmark_node_free(doc->root);
	if (doc->parser)
		cmark_parser_free(doc->parser);
	doc->root = NULL;
	doc->parser = NULL;
}

static void
free_id(cmark_mem *mem, void *p)
{
	(void)mem;
	free(p);
}

const char *
md_heading_id(cmark_node *n)
{
	if (cmark_node_get_type(n) != CMARK_NODE_HEADING)
		return NULL;
	return cmark_node_get_user_data(n);
}

void
md_set_heading_id(cmark_node *n, const char *id)
{
	free(cmark_node_get_user_data(n));
	cmark_node_set_user_data(n, id ? xstrdup(id) : NULL);
	cmark_node_set_user_data_free_func(n, free_id);
}

void
md_slug(const char *text, size_t len, struct buf *out)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;
	utf8proc_category_t cat;
	size_t i = 0;

	while (i < len) {
		n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0) {
			i++;
			continue;
		}
		if (cp < 0x80) {
			if ((cp >= 'a' && cp <= 'z') || (cp >= '0' &&
			    cp <= '9') || cp == '-' || cp == '_')
				buf_putc(out, cp);
			else if (cp >= 'A' && cp <= 'Z')
				buf_putc(out, cp + 32);
			else if (cp == ' ')
				buf_putc(out, '-');
		} else {
			cat = utf8proc_category(cp);
			if (cat == UTF8PROC_CATEGORY_ZS)
				buf_putc(out, '-');
			else if (cat < UTF8PROC_CATEGORY_PC ||
			    cat > UTF8PROC_CATEGORY_PO)
				buf_put(out, text + i, (size_t)n);
		}
		i += (size_t)n;
	}
}

void
md_text(cmark_node *node, struct buf *out)
{
	cmark_iter *it = cmark_iter_new(node);
	cmark_event_type ev;
	cmark_node *n;
	const char *lit;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		if (ev != CMARK_EVENT_ENTER)
			continue;
		switch (cmark_node_get_type(n)) {
		case CMARK_NODE_TEXT:
		case CMARK_NODE_CODE:
			if ((lit = cmark_node_get_literal(n)) != NULL)
				buf_puts(out, lit);
			break;
		case CMARK_NODE_SOFTBREAK:
		case CMARK_NODE_LINEBREAK:
			buf_putc(out, ' ');
			break;
		default:
			break;
		}
	}
	cmark_iter_free(it);
}

/*
 * Ids the default theme gives elements of its own (the literal id="..."
 * attributes of themes/default/layouts and its partials).  A heading with
 * the same slug would make a page with two elements of that id -- invalid
 * HTML that breaks the skip link (#main) and the aria-labelledby of the
 * theme's sections -- so they count as taken, like an earlier heading's
 * id: "## main" becomes "main-1".  All of them, not only those of pages
 * with a Markdown body: a layout may move.  The print page needs nothing
 * more, since it puts "doc-ID--" before every body id.  Sorted for
 * bsearch; tests/suites/11-core.sh checks the list against the templates.
 */
static const char *const theme_ids[] = {
	"actions", "actions-title", "appl-title", "controls-title",
	"doc-title", "doccontrol-title", "home-title", "impl-title",
	"list-title", "main", "nf-title", "overdue", "overdue-title",
	"print-cover-title", "print-toc-title", "refby-title",
	"related-title", "revisions-title", "search-box-input",
	"search-dropdown", "search-page-input", "search-title", "stale",
	"stale-title", "stats-title", "toc-title", "uncovered",
	"uncovered-title"
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether the default theme puts an element with `id` on pages. */
static int
theme_id(const char *id)
{
	return bsearch(&id, theme_ids, sizeof(theme_ids) / sizeof(theme_ids[0]),
	    sizeof(theme_ids[0]), cmp_str) != NULL;
}

/* Ids go into a hash set, and `next` remembers for each slug the suffix
 * to try after the last one taken, so a page of thousands of equal
 * headings stays linear (the used set only grows, so suffixes passed over
 * once stay taken). */
void
md_assign_ids(struct md_doc *doc)
{
	cmark_iter *it;
	cmark_event_type ev;
	cmark_node *n;
	struct buf text = BUF_INIT, slug = BUF_INIT;
	struct hmap used, next;
	char *cand;
	size_t k, taken;

	hm_init(&used);
	hm_init(&next);
	/* Ids that are already set (by a filter) are reserved first. */
	it = cmark_iter_new(doc->root);
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_ENTER && md_heading_id(n))
			hm_put(&used, md_heading_id(n), 1);
	}
	cmark_iter_free(it);
	it = cmark_iter_new(doc->root);
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		if (ev != CMARK_EVENT_ENTER ||
		    cmark_node_get_type(n) != CMARK_NODE_HEADING ||
		    md_heading_id(n))
			continue;
		buf_reset(&text);
		buf_reset(&slug);
		md_text(n, &text);
		md_slug(text.ptr, text.len, &slug);
		if (slug.len == 0)
			buf_puts(&slug, "section");
		cand = xstrdup(slug.ptr);
		if (hm_get(&used, cand, &taken) || theme_id(cand)) {
			if (!hm_get(&next, slug.ptr, &k))
				k = 1;
			for (;; k++) {
				free(cand);
				cand = xasprintf("%s-%zu", slug.ptr, k);
				if (!hm_get(&used, cand, &taken) &&
				    !theme_id(cand))
					break;
			}
			hm_put(&next, slug.ptr, k + 1);
		}
		hm_put(&used, cand, 1);
		md_set_heading_id(n, cand);
		free(cand);
	}
	cmark_iter_free(it);
	hm_release(&used);
	hm_release(&next);
	buf_release(&text);
	buf_release(&slug);
}

size_t
md_headings(struct md_doc *doc, struct md_heading **out)
{
	cmark_iter *it = cmark_iter_new(doc->root);
	cmark_event_type ev;
	cmark_node *n;
	struct md_heading *v = NULL;
	struct buf text = BUF_INIT;
	size_t cnt = 0;
	int level;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		if (ev != CMARK_EVENT_ENTER ||
		    cmark_node_get_type(n) != CMARK_NODE_HEADING)
			continue;
		level = cmark_node_get_heading_level(n);
		buf_reset(&text);
		md_text(n, &text);
		v = xreallocarray(v, cnt + 1, sizeof(*v));
		v[cnt].level = level;
		v[cnt].id = xstrdup(md_heading_id(n) ? md_heading_id(n) : "");
		v[cnt].text = xstrdup(text.ptr);
		cnt++;
	}
	cmark_iter_free(it);
	buf_release(&text);
	*out = v;
	return cnt;
}

void
md_headings_free(struct md_heading *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].text);
	}
	free(v);
}

/* Replaces each heading by a custom block holding its rendered HTML with
 * the id added, since cmark-gfm's renderer knows no heading ids. */
static void
lower_headings(struct md_doc *doc)
{
	cmark_iter *it = cmark_iter_new(doc->root);
	cmark_event_type ev;
	cmark_node *n, **heads = NULL, *cb;
	struct buf open = BUF_INIT;
	size_t nh = 0, i;
	char *html;
	const char *id;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_ENTER &&
		    cmark_node_get_type(n) == CMARK_NODE_HEADING) {
			heads = xreallocarray(heads, nh + 1, sizeof(*heads));
			heads[nh++] = n;
		}
	}
	cmark_iter_free(it);
	for (i = 0; i < nh; i++) {
		n = heads[i];
		html = cmark_render_html(n, doc->options & ~CMARK_OPT_SOURCEPOS,
		    cmark_parser_get_syntax_extensions(doc->parser));
		buf_reset(&open);
		id = md_heading_id(n);
		if (id && strncmp(html, "<h", 2) == 0 && html[2] != '\0') {
			buf_put(&open, html, 3);
			buf_puts(&open, " id=\"");
			buf_put_html(&open, id, strlen(id));
			buf_putc(&open, '"');
			buf_puts(&open, html + 3);
		} else {
			buf_puts(&open, html);
		}
		free(html);
		cb = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK);
		/* the renderer adds the newline before a block itself */
		if (open.len && open.ptr[open.len - 1] == '\n')
			buf_truncate(&open, open.len - 1);
		cmark_node_set_on_enter(cb, open.ptr);
		cmark_node_set_on_exit(cb, "");
		cmark_node_replace(n, cb);
		cmark_node_free(n);
	}
	free(heads);
	buf_release(&open);
}

/* Copies html into out, turning cmark-gfm's task-list checkboxes into
 * HTML5 form (no "/>", bare boolean attributes) with an accessible name. */
static void
put_tasks(struct buf *out, const char *html, const char *lang)
{
	static const char on[] =
	    "<input type=\"checkbox\" checked=\"\" disabled=\"\" />";
	static const char off[] = "<input type=\"checkbox\" disabled=\"\" />";
	int en = lang && strcmp(lang, "en") == 0;
	const char *p = html, *a, *b2;

	for (;;) {
		a = strstr(p, on);
		b2 = strstr(p, off);
		if (a == NULL && b2 == NULL)
			break;
		if (a && (b2 == NULL || a < b2)) {
			buf_put(out, p, (size_t)(a - p));
			buf_printf(out, "<input type=\"checkbox\" checked disabled "
			    "class=\"task\" aria-label=\"%s\">", en ? "done" :
			    "完了");
			p = a + sizeof(on) - 1;
		} else {
			buf_put(out, p, (size_t)(b2 - p));
			buf_printf(out, "<input type=\"checkbox\" disabled "
			    "class=\"task\" aria-label=\"%s\">", en ?
			    "not done" : "未完了");
			p = b2 + sizeof(off) - 1;
		}
	}
	buf_puts(out, p);
}

void
md_render(struct md_doc *doc, struct buf *out)
{
	char *html;

	lower_headings(doc);
	html = cmark_render_html(doc->root, doc->options & ~CMARK_OPT_SOURCEPOS,
	    cmark_parser_get_syntax_extensions(doc->parser));
	put_tasks(out, html, doc->lang);
	free(html);
}

/* See markdown.h. */
void
md_forget_positions(cmark_node *root)
{
	cmark_iter *it = cmark_iter_new(root);
	cmark_node *n;

	while (cmark_iter_next(it) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		n->start_line = n->start_column = 0;
		n->end_line = n->end_column = 0;
	}
	cmark_iter_free(it);
}

int
md_cp_col(const char *text, size_t len, int line, int bytecol)
{
	size_t i = 0, end;
	int l = 1, col = 1;

	while (i < len && l < line) {
		if (text[i++] == '\n')
			l++;
	}
	end = i + (size_t)(bytecol > 0 ? bytecol - 1 : 0);
	if (end > len)
		end = len;
	for (; i < end; i++)
		if (((unsigned char)text[i] & 0xc0) != 0x80)
			col++;
	return col;
}
