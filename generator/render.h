/*
 * render: template contexts (see docs/theme.md for their shape) and the
 * pages the build generates itself (home, lists, search, 404).
 */
#ifndef RENDER_H
#define RENDER_H

struct buf;
struct build;
struct page;
struct value;

/* Loads templates and i18n, builds the shared site context; -1 after
 * reporting. */
int		 render_init(struct build *);
/* Renders one page into `out`; -1 after reporting. Thread-safe. */
int		 render_page(struct build *, struct page *, struct buf *out);
/* render_page in two steps, for the render cache: _begin makes the
 * template context without what pass 2 makes (body, table of contents,
 * filter extras) and, when `key` is not NULL, appends to it what the
 * output depends on besides the body, theme and site context (layout name,
 * page and home contexts as JSON); _finish adds the body parts, renders
 * and releases the context (-1 after reporting).  Thread-safe. */
struct value	*render_page_begin(struct build *, struct page *,
		    struct buf *key);
int		 render_page_finish(struct build *, struct page *,
		    struct value *ctx, struct buf *out);
/* Renders and writes the generated pages. */
int		 render_generated(struct build *);
void		 render_release(struct build *);
/* The i18n label group.key in lang (the key itself when missing). */
/* The date a document is listed and searched by: its date, else its
 * effective date, else NULL. */
const char	*render_list_date(const struct page *);
const char	*render_label(struct build *, const char *lang, const char *group,
		    const char *key);
/* "2024年1月10日" (ja) or "January 10, 2024" (en); caller frees. */
char		*render_date(const char *lang, int y, int m, int d);

#endif
