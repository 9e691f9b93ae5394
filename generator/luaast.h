/*
 * luaast: cmark-gfm trees <-> pandoc-style Lua elements, struct value <->
 * Lua values.
 *
 * The element model (tags, fields, metatables) is defined by the prelude
 * (prelude.lua); this module builds and reads those tables.  Parsed nodes
 * carry a few hidden fields (names starting with '_': the exact spacing of a
 * Space, the original URL of a Link, the original text of raw HTML, the
 * footnote label of a Note, list tightness) so that converting a tree to Lua
 * and back without changes renders byte-identical HTML.  Blocks, links and
 * images also carry their source position (_pos), which the nodes built back
 * from them keep, so that diagnostics about a page a filter changed still
 * point at the right line and column; elements a filter made have none.
 *
 * All functions may raise Lua errors (memory, bad element shapes): call them
 * in protected mode.
 */
#ifndef LUAAST_H
#define LUAAST_H

#include <stddef.h>

#include <cmark-gfm.h>
#include <lua.h>

struct value;

struct ast_build {
	int		 allow_raw_html;	/* emit filter-made raw HTML */
	size_t		 out_cap;	/* bytes of text/raw a tree may carry */
	size_t		 out_bytes;
	cmark_node	*root;		/* the result; freed by the caller */
	struct ast_fn	*fns;		/* footnote definitions being built */
	size_t		 nfns;
	struct buf	**bufs;		/* scratch buffers, 2 per depth */
	size_t		 nbufs;
};

/* Pushes Pandoc{blocks, meta = {}} for the cmark document `root`.
 * `tebiki` is the absolute index of the _TEBIKI table. */
void		 ast_push_doc(lua_State *, int tebiki, cmark_node *root);
/* Builds a new cmark document from the Pandoc element at `idx` into
 * b->root (set as soon as it exists, so that it can be freed after an
 * error).  Heading ids come from Header identifiers. */
void		 ast_build_doc(lua_State *, int idx, struct ast_build *b);
/* Pushes a List holding the element of block `n` (with its `_line`),
 * exactly as ast_push_doc makes it inside a document; an empty List for a
 * node without an element (a footnote definition). */
void		 ast_push_block_list(lua_State *, int tebiki, cmark_node *n);
/* Pushes the List of the inline children of `n` (a paragraph, heading,
 * emphasis ...), exactly as ast_push_doc makes the element's content. */
void		 ast_push_inline_list(lua_State *, int tebiki, cmark_node *n);
/* Pushes the List of the Str and Space elements of the text run from
 * `first` to `last` (adjacent text nodes), as ast_push_inline_list makes
 * them inside the run's parent. */
void		 ast_push_text_run(lua_State *, int tebiki, cmark_node *first,
		    cmark_node *last);
/* Pushes the text of the run from `first` to `last` as one string. */
void		 ast_push_run_string(lua_State *, cmark_node *first,
		    cmark_node *last);
/* Pushes a List of the Str and Space elements of text s[0..len), split as
 * a text run is. */
void		 ast_push_text_list(lua_State *, int tebiki, const char *s,
		    size_t len);
/* Builds the block List at `list` into `parent` (appended).  `inlist`: 1
 * when parent is an item of a tight list, 2 of a loose one, else 0.
 * Notes made by filters get definitions appended to b->root, which must
 * be set. */
void		 ast_build_blocks_into(lua_State *, int list, struct ast_build *b,
		    cmark_node *parent, int inlist);
/* Builds the inline List at `list` into `parent` (appended). */
void		 ast_build_inlines_into(lua_State *, int list,
		    struct ast_build *b, cmark_node *parent);
/* Frees what a (possibly interrupted) ast_build_doc left, except b->root. */
void		 ast_build_release(struct ast_build *b);
/* Pushes a value as Lua: lists get the pandoc.List metatable and are made
 * at once, dates are "YYYY-MM-DD" strings, null is nil, and a map becomes
 * a table that is filled only when first used (nested maps likewise; the
 * table holds a reference to its map until then). */
void		 ast_push_lazy(lua_State *, int tebiki, const struct value *);
/* Fills the lazy table at `idx` now; 1 if it was one, else 0 (no-op). */
int		 ast_fill(lua_State *, int idx);
/* Converts the Lua value at `idx` to a new value: tables with only keys
 * 1..n become lists, others maps with keys sorted (numbers written as
 * text); functions and userdata are errors.  Depth-limited. */
struct value	*ast_to_value(lua_State *, int idx);

#endif
