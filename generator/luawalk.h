/*
 * luawalk: the C fast path of topdown element filters.
 *
 * A filter file whose only filter is topdown and made of element functions
 * (Str, Link, Header ...; no Inline/Block/Inlines/Blocks/Meta/Pandoc) is
 * walked here over the cmark tree instead of converting the whole page to
 * Lua.  Only the parts that a function could see go to Lua: a block whose
 * element has a function (with everything inside it), and the inline
 * content of a paragraph or heading that holds an element with a function.
 * Each part is walked by the prelude's own topdown walker, in document
 * order, so the functions are called exactly as by the Lua walker.  When no
 * function returned anything, the tree is left as it is (as the Lua walker
 * keeps it).  Otherwise a part is built back into the tree in place when it
 * is dirty: a function
 * returned something other than the element it was given, or changed that
 * element in place (checked against a snapshot taken before the call).
 * Other parts convert back to the same tree (the round trip is lossless),
 * so they are left as they are, and an unchanged page keeps its tree.
 * Parts whose round trip depends on their surroundings
 * (lists whose items' own blocks have functions, task lists, tables when
 * the filter has Table or Plain, unknown nodes) go to Lua whole; pages with footnotes or nested deeper
 * than LWK_MAX_DEPTH use the Lua walker.
 *
 * One difference remains, for filters that keep a reference to an element
 * and change it after its function returned: the Lua walker's rebuild sees
 * that change, the C walker only when the element's part is dirty anyway.
 *
 * tests/tools/filter_fastdiff checks that both ways render the same HTML.
 */
#ifndef LUAWALK_H
#define LUAWALK_H

#include <cmark-gfm.h>
#include <lua.h>

struct ast_build;

#define LWK_MAX_DEPTH	100

/* 1 when the tree can take the fast path (no footnotes, not too deep). */
int	lwk_tree_ok(cmark_node *root);
/* Runs the filter at index F (from _TEBIKI.fast_filter) over root, in
 * place.  `tebiki`: index of _TEBIKI.  b->root must be root (notes made by
 * filters are appended to it).  Returns 1 when the tree was changed
 * (heading ids must then be assigned again), 0 when it is untouched.  May
 * raise (filter errors); call in protected mode. */
int	lwk_run(lua_State *, int tebiki, int F, cmark_node *root,
	    struct ast_build *b);

#endif
