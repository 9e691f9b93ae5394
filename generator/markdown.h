/*
 * markdown: cmark-gfm set up the way tebiki uses it.
 *
 * Extensions table, strikethrough, autolink, tagfilter, tasklist and
 * footnotes; source positions on; raw HTML only when the site opts in.
 * Heading ids (GitHub style, Japanese kept, unique within the page) are
 * stored on heading nodes as user data: md_heading_id() reads them, and
 * md_set_heading_id() lets filters change them.  md_render() turns headings
 * into <hN id="..."> and renders HTML.
 */
#ifndef MARKDOWN_H
#define MARKDOWN_H

#include <stddef.h>

#include <cmark-gfm.h>

struct buf;

struct md_doc {
	cmark_parser	*parser;	/* owns the extension list used to render */
	cmark_node	*root;
	int		 options;
	const char	*lang;		/* for accessible names ("ja"/"en");
					   may be NULL */
};

struct md_heading {
	int	 level;
	char	*id;
	char	*text;
};

/* Registers the extensions; call once from the main thread before any
 * other md_ function. */
void		 md_init(void);
/* Parses `text` (the body only).  Never fails: Markdown has no errors. */
void		 md_parse(struct md_doc *, const char *text, size_t len,
		    int unsafe);
void		 md_release(struct md_doc *);
/* Assigns unique ids to every heading that has none yet. */
void		 md_assign_ids(struct md_doc *);
/* The id of a heading node, or NULL. */
const char	*md_heading_id(cmark_node *);
/* Sets (copies) the id of a heading node. */
void		 md_set_heading_id(cmark_node *, const char *);
/* Writes the slug of `text` into `out` (appended): lowercase ASCII,
 * punctuation removed, spaces to '-', other letters kept. */
void		 md_slug(const char *text, size_t len, struct buf *out);
/* Appends the plain text of a node's inline content. */
void		 md_text(cmark_node *, struct buf *);
/* Every heading, in order; caller frees with md_headings_free. */
size_t		 md_headings(struct md_doc *, struct md_heading **);
void		 md_headings_free(struct md_heading *, size_t);
/* Renders HTML (headings with ids) into `out`. */
void		 md_render(struct md_doc *, struct buf *out);
/* Clears the source positions of every node under `root`, for text that
 * is not where a page's body is (pandoc.read): luaast.c would otherwise
 * give what a filter makes from it positions in the page. */
void		 md_forget_positions(cmark_node *root);
/* Converts a 1-based byte column of line `line` (1-based) of `text` into a
 * 1-based code-point column. */
int		 md_cp_col(const char *text, size_t len, int line, int bytecol);

#endif
