/*
 * luaast: cmark-gfm trees <-> pandoc-style Lua elements.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm/node.h>
#include <lauxlib.h>
#include <lua.h>

#include "buf.h"
#include "luaast.h"
#include "markdown.h"
#include "util.h"
#include "value.h"

/* Exported by libcmark-gfm-extensions but declared in no public header. */
extern cmark_node_type CMARK_NODE_TABLE, CMARK_NODE_TABLE_ROW,
    CMARK_NODE_TABLE_CELL, CMARK_NODE_STRIKETHROUGH;

#define MAX_DEPTH	200

/* _pos = body line * POS_LINE + byte column (cmark's start position): one
 * integer, so one table slot more per element rather than two */
#define POS_LINE	((lua_Integer)1 << 32)

struct ast_fn {			/* a footnote definition being rebuilt */
	char		*label;
	cmark_node	*def;
	int		 refs;
};

/* ------------------------------------------------------------------ */
/* cmark -> Lua                                                        */

/* Pushes a new element table {tag = tag} with the tag's metatable. */
static void
newel(lua_State *L, int mt, const char *tag)
{
	lua_createtable(L, 0, 4);
	lua_pushstring(L, tag);
	lua_setfield(L, -2, "tag");
	lua_getfield(L, mt, tag);
	lua_setmetatable(L, -2);
}

/* Pushes an empty pandoc.List. */
static void
newlist(lua_State *L, int mt)
{
	lua_newtable(L);
	lua_getfield(L, mt, "List");
	lua_setmetatable(L, -2);
}

/* Appends the value on top to the table at `t`. */
static void
append(lua_State *L, int t)
{
	lua_rawseti(L, t, (lua_Integer)lua_rawlen(L, t) + 1);
}

/* Sets string field `key` of the table on top ("" for NULL). */
static void
setstr(lua_State *L, const char *key, const char *s)
{
	lua_pushstring(L, s ? s : "");
	lua_setfield(L, -2, key);
}

/* Sets the hidden field _pos of the element on top to the start of `n` in
 * the body, when it has one (not a node made from a filter's element). */
static void
setpos(lua_State *L, cmark_node *n)
{
	if (n->start_line <= 0)
		return;
	lua_pushinteger(L, (lua_Integer)n->start_line * POS_LINE +
	    (n->start_column > 0 ? n->start_column : 0));
	lua_setfield(L, -2, "_pos");
}

/* Pushes an Attr {identifier, classes, attributes}. */
static void
push_attr(lua_State *L, int mt, const char *id, const char *info)
{
	const char *p, *q;

	lua_createtable(L, 0, 3);
	setstr(L, "identifier", id);
	newlist(L, mt);
	for (p = info ? info : ""; *p; p = q) {
		while (*p && strchr(" \t\n\v\f\r", *p))
			p++;
		if (*p == '\0')
			break;
		for (q = p; *q && !strchr(" \t\n\v\f\r", *q); q++)
			;
		lua_pushlstring(L, p, (size_t)(q - p));
		append(L, lua_absindex(L, -2));
	}
	lua_setfield(L, -2, "classes");
	lua_newtable(L);
	lua_setfield(L, -2, "attributes");
	lua_getfield(L, mt, "Attr");
	lua_setmetatable(L, -2);
}

/* Splits text into Str and Space elements appended to list `t`. */
static void
push_text(lua_State *L, int mt, int t, const char *s, size_t len)
{
	size_t i = 0, j;

	while (i < len) {
		j = i;
		if (s[i] == ' ' || s[i] == '\t') {
			while (j < len && (s[j] == ' ' || s[j] == '\t'))
				j++;
			newel(L, mt, "Space");
			if (j - i != 1 || s[i] != ' ') {
				lua_pushlstring(L, s + i, j - i);
				lua_setfield(L, -2, "_s");
			}
		} else {
			while (j < len && s[j] != ' ' && s[j] != '\t')
				j++;
			newel(L, mt, "Str");
			lua_pushlstring(L, s + i, j - i);
			lua_setfield(L, -2, "text");
		}
		append(L, t);
		i = j;
	}
}

static void push_blocks(lua_State *, int, cmark_node *, int);

/* Pushes a List of the inline children starting at `n`. */
static void
push_inlines(lua_State *L, int mt, cmark_node *n, int depth)
{
	cmark_node_type ty;
	const char *lit;
	size_t len;
	int t, parts;

	luaL_checkstack(L, 20, "document nested too deeply");
	if (depth > MAX_DEPTH)
		luaL_error(L, "document nested too deeply");
	newlist(L, mt);
	t = lua_gettop(L);
	for (; n; n = cmark_node_next(n)) {
		ty = cmark_node_get_type(n);
		if (ty == CMARK_NODE_TEXT) {
			/* adjacent text nodes form one run, as pandoc sees it */
			for (parts = 0; n && cmark_node_get_type(n) ==
			    CMARK_NODE_TEXT; n = cmark_node_next(n), parts++) {
				luaL_checkstack(L, 2, "too many text nodes");
				lua_pushstring(L, cmark_node_get_literal(n));
				if (parts > 0)
					lua_concat(L, 2);
			}
			lit = lua_tolstring(L, -1, &len);
			push_text(L, mt, t, lit, len);
			lua_pop(L, 1);
			if (n == NULL)
				break;
			ty = cmark_node_get_type(n);
		}
		switch ((int)ty) {
		case CMARK_NODE_SOFTBREAK:
			newel(L, mt, "SoftBreak");
			break;
		case CMARK_NODE_LINEBREAK:
			newel(L, mt, "LineBreak");
			break;
		case CMARK_NODE_CODE:
			newel(L, mt, "Code");
			setstr(L, "text", cmark_node_get_literal(n));
			push_attr(L, mt, "", NULL);
			lua_setfield(L, -2, "attr");
			break;
		case CMARK_NODE_HTML_INLINE:
			lit = cmark_node_get_literal(n);
			newel(L, mt, "RawInline");
			setstr(L, "format", "html");
			setstr(L, "text", lit);
			setstr(L, "_raw", lit);
			break;
		case CMARK_NODE_EMPH:
		case CMARK_NODE_STRONG:
			newel(L, mt, ty == CMARK_NODE_EMPH ? "Emph" : "Strong");
			push_inlines(L, mt, cmark_node_first_child(n), depth + 1);
			lua_setfield(L, -2, "content");
			break;
		case CMARK_NODE_LINK:
		case CMARK_NODE_IMAGE:
			lit = cmark_node_get_url(n);
			newel(L, mt, ty == CMARK_NODE_LINK ? "Link" : "Image");
			push_inlines(L, mt, cmark_node_first_child(n), depth + 1);
			lua_setfield(L, -2, ty == CMARK_NODE_LINK ? "content" :
			    "caption");
			setstr(L, ty == CMARK_NODE_LINK ? "target" : "src", lit);
			setstr(L, "_u", lit);
			setstr(L, "title", cmark_node_get_title(n));
			push_attr(L, mt, "", NULL);
			lua_setfield(L, -2, "attr");
			setpos(L, n);	/* build.c reports links there */
			break;
		case CMARK_NODE_FOOTNOTE_REFERENCE:
			newel(L, mt, "Note");
			if (n->parent_footnote_def) {
				lua_pushlstring(L, (const char *)
				    n->parent_footnote_def->as.literal.data,
				    (size_t)n->parent_footnote_def->as.literal.len);
				lua_setfield(L, -2, "_fl");
				push_blocks(L, mt, cmark_node_first_child(
				    n->parent_footnote_def), depth + 1);
			} else {
				newlist(L, mt);
			}
			lua_setfield(L, -2, "content");
			break;
		case CMARK_NODE_CUSTOM_INLINE:
			newel(L, mt, "Span");
			push_inlines(L, mt, cmark_node_first_child(n), depth + 1);
			lua_setfield(L, -2, "content");
			push_attr(L, mt, "", NULL);
			lua_setfield(L, -2, "attr");
			setstr(L, "_enter", cmark_node_get_on_enter(n));
			setstr(L, "_exit", cmark_node_get_on_exit(n));
			break;
		default:
			if (ty == CMARK_NODE_STRIKETHROUGH) {
				newel(L, mt, "Strikeout");
				push_inlines(L, mt, cmark_node_first_child(n),
				    depth + 1);
				lua_setfield(L, -2, "content");
				break;
			}
			/* unknown inline: keep its text, if any */
			lit = cmark_node_get_literal(n);
			if (lit)
				push_text(L, mt, t, lit, strlen(lit));
			continue;
		}
		append(L, t);
	}
}

/* pandoc's name of a cmark-gfm column alignment. */
static const char *
align_name(uint8_t a)
{
	switch (a) {
	case 'l':
		return "AlignLeft";
	case 'r':
		return "AlignRight";
	case 'c':
		return "AlignCenter";
	default:
		return "AlignDefault";
	}
}

/* Pushes a Row {attr, cells} for a cmark table row. */
static void
push_row(lua_State *L, int mt, cmark_node *row, const uint8_t *al,
    uint16_t ncols, int depth)
{
	cmark_node *cell;
	int cells, i = 0;

	newel(L, mt, "Row");
	push_attr(L, mt, "", NULL);
	lua_setfield(L, -2, "attr");
	newlist(L, mt);
	cells = lua_gettop(L);
	for (cell = cmark_node_first_child(row); cell;
	    cell = cmark_node_next(cell), i++) {
		newel(L, mt, "Cell");
		push_attr(L, mt, "", NULL);
		lua_setfield(L, -2, "attr");
		setstr(L, "alignment", align_name(al && i < ncols ? al[i] : 0));
		lua_pushinteger(L, 1);
		lua_setfield(L, -2, "row_span");
		lua_pushinteger(L, 1);
		lua_setfield(L, -2, "col_span");
		newlist(L, mt);
		if (cmark_node_first_child(cell)) {
			newel(L, mt, "Plain");
			push_inlines(L, mt, cmark_node_first_child(cell),
			    depth + 1);
			lua_setfield(L, -2, "content");
			append(L, lua_absindex(L, -2));
		}
		lua_setfield(L, -2, "contents");
		append(L, cells);
	}
	lua_setfield(L, -2, "cells");
}

/* Pushes a pandoc-types 1.22 Table for a cmark-gfm table. */
static void
push_table(lua_State *L, int mt, cmark_node *n, int depth)
{
	uint16_t ncols = cmark_gfm_extensions_get_table_columns(n), i;
	uint8_t *al = cmark_gfm_extensions_get_table_alignments(n);
	cmark_node *row;
	int el, head, body;

	newel(L, mt, "Table");
	el = lua_gettop(L);
	push_attr(L, mt, "", NULL);
	lua_setfield(L, el, "attr");
	lua_createtable(L, 0, 1);
	newlist(L, mt);
	lua_setfield(L, -2, "long");
	lua_setfield(L, el, "caption");
	newlist(L, mt);
	for (i = 0; i < ncols; i++) {
		lua_createtable(L, 2, 0);
		lua_pushstring(L, align_name(al ? al[i] : 0));
		lua_rawseti(L, -2, 1);
		lua_pushliteral(L, "ColWidthDefault");
		lua_rawseti(L, -2, 2);
		append(L, lua_absindex(L, -2));
	}
	lua_setfield(L, el, "colspecs");
	/* head */
	lua_createtable(L, 0, 2);
	push_attr(L, mt, "", NULL);
	lua_setfield(L, -2, "attr");
	newlist(L, mt);
	head = lua_gettop(L);
	/* one body */
	lua_createtable(L, 0, 4);
	push_attr(L, mt, "", NULL);
	lua_setfield(L, -2, "attr");
	lua_pushinteger(L, 0);
	lua_setfield(L, -2, "row_head_columns");
	newlist(L, mt);
	lua_setfield(L, -2, "head");
	newlist(L, mt);
	body = lua_gettop(L);
	for (row = cmark_node_first_child(n); row; row = cmark_node_next(row)) {
		push_row(L, mt, row, al, ncols, depth);
		append(L, cmark_gfm_extensions_get_table_row_is_header(row) ?
		    head : body);
	}
	lua_setfield(L, -2, "body");		/* body table */
	newlist(L, mt);
	lua_insert(L, -2);
	append(L, lua_absindex(L, -2));		/* bodies = {body} */
	lua_setfield(L, el, "bodies");
	lua_setfield(L, -2, "rows");		/* head.rows */
	lua_setfield(L, el, "head");
	lua_createtable(L, 0, 2);
	push_attr(L, mt, "", NULL);
	lua_setfield(L, -2, "attr");
	newlist(L, mt);
	lua_setfield(L, -2, "rows");
	lua_setfield(L, el, "foot");
}

/* Inserts Str "☐"/"☒", Space at the start of the first Plain/Para of the
 * item list at `item`; marks the item when it has none. */
static void
mark_task(lua_State *L, int mt, int item, int checked)
{
	int first;

	if (lua_rawgeti(L, item, 1) == LUA_TTABLE &&
	    lua_getfield(L, -1, "tag") == LUA_TSTRING &&
	    (strcmp(lua_tostring(L, -1), "Plain") == 0 ||
	    strcmp(lua_tostring(L, -1), "Para") == 0)) {
		lua_pop(L, 1);
		lua_getfield(L, -1, "content");
		first = lua_gettop(L);
		lua_getglobal(L, "table");
		lua_getfield(L, -1, "insert");
		lua_remove(L, -2);
		lua_pushvalue(L, -1);
		lua_pushvalue(L, first);
		lua_pushinteger(L, 1);
		newel(L, mt, "Space");
		lua_call(L, 3, 0);
		lua_pushvalue(L, first);
		lua_pushinteger(L, 1);
		newel(L, mt, "Str");
		setstr(L, "text", checked ? "\u2612" : "\u2610");
		lua_call(L, 3, 0);
		lua_pop(L, 2);
		return;
	}
	lua_settop(L, item);
	lua_pushstring(L, checked ? "x" : " ");
	lua_setfield(L, item, "_task");
}

/* Pushes the element for block `n`; returns 0 (nothing pushed) for nodes
 * that have no element of their own (footnote definitions). */
static int
push_block(lua_State *L, int mt, cmark_node *n, int depth)
{
	cmark_node_type ty = cmark_node_get_type(n);
	cmark_node *parent, *it;
	int tight, el, items, item;
	const char *lit;

	luaL_checkstack(L, 20, "document nested too deeply");
	if (depth > MAX_DEPTH)
		luaL_error(L, "document nested too deeply");
	switch ((int)ty) {
	case CMARK_NODE_PARAGRAPH:
		parent = cmark_node_parent(n);
		tight = parent && cmark_node_get_type(parent) ==
		    CMARK_NODE_ITEM && cmark_node_parent(parent) &&
		    cmark_node_get_list_tight(cmark_node_parent(parent));
		newel(L, mt, tight ? "Plain" : "Para");
		push_inlines(L, mt, cmark_node_first_child(n), depth + 1);
		lua_setfield(L, -2, "content");
		return 1;
	case CMARK_NODE_HEADING:
		newel(L, mt, "Header");
		lua_pushinteger(L, cmark_node_get_heading_level(n));
		lua_setfield(L, -2, "level");
		push_inlines(L, mt, cmark_node_first_child(n), depth + 1);
		lua_setfield(L, -2, "content");
		push_attr(L, mt, md_heading_id(n), NULL);
		lua_setfield(L, -2, "attr");
		return 1;
	case CMARK_NODE_CODE_BLOCK:
		newel(L, mt, "CodeBlock");
		setstr(L, "text", cmark_node_get_literal(n));
		push_attr(L, mt, "", cmark_node_get_fence_info(n));
		lua_setfield(L, -2, "attr");
		return 1;
	case CMARK_NODE_HTML_BLOCK:
		lit = cmark_node_get_literal(n);
		newel(L, mt, "RawBlock");
		setstr(L, "format", "html");
		setstr(L, "text", lit);
		setstr(L, "_raw", lit);
		return 1;
	case CMARK_NODE_THEMATIC_BREAK:
		newel(L, mt, "HorizontalRule");
		return 1;
	case CMARK_NODE_BLOCK_QUOTE:
		newel(L, mt, "BlockQuote");
		push_blocks(L, mt, cmark_node_first_child(n), depth + 1);
		lua_setfield(L, -2, "content");
		return 1;
	case CMARK_NODE_CUSTOM_BLOCK:
		newel(L, mt, "Div");
		push_blocks(L, mt, cmark_node_first_child(n), depth + 1);
		lua_setfield(L, -2, "content");
		push_attr(L, mt, "", NULL);
		lua_setfield(L, -2, "attr");
		setstr(L, "_enter", cmark_node_get_on_enter(n));
		setstr(L, "_exit", cmark_node_get_on_exit(n));
		return 1;
	case CMARK_NODE_LIST:
		if (cmark_node_get_list_type(n) == CMARK_ORDERED_LIST) {
			newel(L, mt, "OrderedList");
			lua_createtable(L, 0, 3);
			lua_pushinteger(L, cmark_node_get_list_start(n));
			lua_setfield(L, -2, "start");
			setstr(L, "style", "Decimal");
			setstr(L, "delimiter", cmark_node_get_list_delim(n) ==
			    CMARK_PAREN_DELIM ? "OneParen" : "Period");
			lua_setfield(L, -2, "listAttributes");
		} else {
			newel(L, mt, "BulletList");
		}
		el = lua_gettop(L);
		lua_pushboolean(L, cmark_node_get_list_tight(n));
		lua_setfield(L, el, "_tight");
		newlist(L, mt);
		items = lua_gettop(L);
		for (it = cmark_node_first_child(n); it;
		    it = cmark_node_next(it)) {
			push_blocks(L, mt, cmark_node_first_child(it),
			    depth + 1);
			item = lua_gettop(L);
			if (cmark_node_get_syntax_extension(it) != NULL &&
			    strcmp(cmark_node_get_type_string(it),
			    "tasklist") == 0)
				mark_task(L, mt, item,
				    cmark_gfm_extensions_get_tasklist_item_checked(it));
			lua_settop(L, item);
			append(L, items);
		}
		lua_setfield(L, el, "content");
		return 1;
	case CMARK_NODE_FOOTNOTE_DEFINITION:
		return 0;
	default:
		if (ty == CMARK_NODE_TABLE) {
			push_table(L, mt, n, depth);
			return 1;
		}
		/* unknown block: a Div of its children */
		newel(L, mt, "Div");
		push_blocks(L, mt, cmark_node_first_child(n), depth + 1);
		lua_setfield(L, -2, "content");
		push_attr(L, mt, "", NULL);
		lua_setfield(L, -2, "attr");
		return 1;
	}
}

/* Sets the hidden fields of the block element on top that say where block
 * `n` is: _line, the body line for filters' messages (prelude.lua), and
 * _pos (setpos), which the block built back keeps. */
static void
setline(lua_State *L, cmark_node *n)
{
	if (n->start_line <= 0)
		return;
	lua_pushinteger(L, n->start_line);
	lua_setfield(L, -2, "_line");
	setpos(L, n);
}

/* Pushes a List of the block children starting at `n`. */
static void
push_blocks(lua_State *L, int mt, cmark_node *n, int depth)
{
	int t;

	newlist(L, mt);
	t = lua_gettop(L);
	for (; n; n = cmark_node_next(n)) {
		if (!push_block(L, mt, n, depth))
			continue;
		setline(L, n);
		append(L, t);
	}
}

/* See luaast.h. */
void
ast_push_doc(lua_State *L, int tebiki, cmark_node *root)
{
	int mt;

	lua_getfield(L, tebiki, "mt");
	mt = lua_gettop(L);
	newel(L, mt, "Pandoc");
	push_blocks(L, mt, cmark_node_first_child(root), 0);
	lua_setfield(L, -2, "blocks");
	lua_newtable(L);
	lua_setfield(L, -2, "meta");
	lua_remove(L, mt);
}

/* See luaast.h. */
void
ast_push_block_list(lua_State *L, int tebiki, cmark_node *n)
{
	int mt, t;

	lua_getfield(L, tebiki, "mt");
	mt = lua_gettop(L);
	newlist(L, mt);
	t = lua_gettop(L);
	if (push_block(L, mt, n, 1)) {
		setline(L, n);
		append(L, t);
	}
	lua_remove(L, mt);
}

/* See luaast.h. */
void
ast_push_inline_list(lua_State *L, int tebiki, cmark_node *n)
{
	int mt;

	lua_getfield(L, tebiki, "mt");
	mt = lua_gettop(L);
	push_inlines(L, mt, cmark_node_first_child(n), 1);
	lua_remove(L, mt);
}

/* See luaast.h. */
void
ast_push_text_run(lua_State *L, int tebiki, cmark_node *first,
    cmark_node *last)
{
	const char *lit;
	size_t len;

	ast_push_run_string(L, first, last);
	lit = lua_tolstring(L, -1, &len);
	ast_push_text_list(L, tebiki, lit, len);
	lua_remove(L, -2);
}

/* See luaast.h. */
void
ast_push_run_string(lua_State *L, cmark_node *first, cmark_node *last)
{
	cmark_node *n;
	int parts = 0;

	for (n = first;; n = cmark_node_next(n)) {
		luaL_checkstack(L, 2, "too many text nodes");
		lua_pushstring(L, cmark_node_get_literal(n) ?
		    cmark_node_get_literal(n) : "");
		if (parts++ > 0)
			lua_concat(L, 2);
		if (n == last)
			break;
	}
}

/* See luaast.h. */
void
ast_push_text_list(lua_State *L, int tebiki, const char *s, size_t len)
{
	int mt, t;

	lua_getfield(L, tebiki, "mt");
	mt = lua_gettop(L);
	newlist(L, mt);
	t = lua_gettop(L);
	push_text(L, mt, t, s, len);
	lua_remove(L, mt);
}

/* ------------------------------------------------------------------ */
/* Lua -> cmark                                                        */

/* Scratch buffer `slot` (0 or 1) of nesting depth `depth`, empty; owned by
 * the builder so that a Lua error cannot leak it. */
static struct buf *
scratch(struct ast_build *b, int depth, int slot)
{
	size_t i = (size_t)depth * 2 + (size_t)slot, k;

	if (i >= b->nbufs) {
		b->bufs = xreallocarray(b->bufs, i + 1, sizeof(*b->bufs));
		for (k = b->nbufs; k <= i; k++) {
			b->bufs[k] = xmalloc(sizeof(struct buf));
			buf_init(b->bufs[k]);
		}
		b->nbufs = i + 1;
	}
	buf_reset(b->bufs[i]);
	return b->bufs[i];
}

/* Field `k` of the table at `t` as a string ("" when absent). */
static const char *
fstr(lua_State *L, int t, const char *k)
{
	const char *s;

	lua_getfield(L, t, k);
	s = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
	lua_pop(L, 1);	/* the table keeps the string alive */
	return s ? s : "";
}

/* Like fstr but NULL when absent. */
static const char *
fstr_or_null(lua_State *L, int t, const char *k)
{
	const char *s;

	lua_getfield(L, t, k);
	s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
	lua_pop(L, 1);
	return s;
}

/* The tag of the element at `t`, or NULL when it is not one. */
static const char *
tag_of(lua_State *L, int t)
{
	if (lua_type(L, t) != LUA_TTABLE)
		return NULL;
	return fstr_or_null(L, t, "tag");
}

/* Counts bytes emitted into the tree; raises past the output cap. */
static void
charge(lua_State *L, struct ast_build *b, size_t n)
{
	b->out_bytes += n;
	if (b->out_cap && b->out_bytes > b->out_cap)
		luaL_error(L, "the filtered page exceeds the output limit of "
		    "%d MiB", (int)(b->out_cap >> 20));
}

/* Appends `n` to `parent`.  cmark-gfm refuses some shapes its renderer
 * handles fine (custom inlines or line breaks in table cells); those are
 * linked by hand. */
static void
attach(cmark_node *parent, cmark_node *n)
{
	if (cmark_node_append_child(parent, n))
		return;
	n->parent = parent;
	n->prev = parent->last_child;
	n->next = NULL;
	if (parent->last_child)
		parent->last_child->next = n;
	else
		parent->first_child = n;
	parent->last_child = n;
}

/* Gives node `n` the source position in field _pos of the element at `el`
 * (setpos), when it has one. */
static void
takepos(lua_State *L, int el, cmark_node *n)
{
	lua_Integer p, line, col;

	if (lua_getfield(L, el, "_pos") == LUA_TNUMBER &&
	    lua_isinteger(L, -1) && (p = lua_tointeger(L, -1)) > 0) {
		line = p / POS_LINE;
		col = p % POS_LINE;
		/* filters can write _pos too: only what setpos could make */
		if (line > 0 && line <= INT_MAX && col <= INT_MAX) {
			n->start_line = (int)line;
			n->start_column = (int)col;
		}
	}
	lua_pop(L, 1);
}

/* Appends a new node of `type` to `parent` and returns it. */
static cmark_node *
add(cmark_node *parent, cmark_node_type type)
{
	cmark_node *n = cmark_node_new(type);

	attach(parent, n);
	return n;
}

/* Appends a custom block/inline with enter/exit HTML (copied). */
static cmark_node *
add_custom(lua_State *L, struct ast_build *b, cmark_node *parent, int block,
    const char *enter, const char *exit)
{
	cmark_node *n = cmark_node_new(block ? CMARK_NODE_CUSTOM_BLOCK :
	    CMARK_NODE_CUSTOM_INLINE);

	attach(parent, n);
	charge(L, b, strlen(enter) + strlen(exit));
	cmark_node_set_on_enter(n, enter);
	cmark_node_set_on_exit(n, exit);
	return n;
}

/* Appends ` id="" class="" k="v"` (sorted attributes) for the Attr in
 * field "attr" of the element at `el`. */
static void
put_attr(lua_State *L, int el, struct buf *o)
{
	const char *id, **keys = NULL;
	size_t nk = 0, i, n;
	int a, first = 1;

	if (lua_getfield(L, el, "attr") != LUA_TTABLE) {
		lua_pop(L, 1);
		return;
	}
	a = lua_gettop(L);
	id = fstr(L, a, "identifier");
	if (*id) {
		buf_puts(o, " id=\"");
		buf_put_html(o, id, strlen(id));
		buf_putc(o, '"');
	}
	if (lua_getfield(L, a, "classes") == LUA_TTABLE &&
	    (n = lua_rawlen(L, -1)) > 0) {
		buf_puts(o, " class=\"");
		for (i = 1; i <= n; i++) {
			if (lua_rawgeti(L, -1, (lua_Integer)i) ==
			    LUA_TSTRING) {
				if (!first)
					buf_putc(o, ' ');
				buf_put_html(o, lua_tostring(L, -1),
				    lua_rawlen(L, -1));
				first = 0;
			}
			lua_pop(L, 1);
		}
		buf_putc(o, '"');
	}
	lua_pop(L, 1);
	if (lua_getfield(L, a, "attributes") == LUA_TTABLE) {
		ast_fill(L, -1);	/* a lazy table (luaast.h) */
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			if (lua_type(L, -2) == LUA_TSTRING &&
			    lua_isstring(L, -1)) {
				keys = xreallocarray(keys, nk + 1,
				    sizeof(*keys));
				keys[nk++] = lua_tostring(L, -2);
			}
			lua_pop(L, 1);
		}
		util_sort_strings((char **)keys, nk);
		for (i = 0; i < nk; i++) {
			/* only safe attribute names */
			if (strspn(keys[i], "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:.") !=
			    strlen(keys[i]) || strncasecmp(keys[i], "on", 2) == 0)
				continue;
			lua_getfield(L, -1, keys[i]);
			buf_printf(o, " %s=\"", keys[i]);
			buf_put_html(o, lua_tostring(L, -1),
			    lua_rawlen(L, -1));
			buf_putc(o, '"');
			lua_pop(L, 1);
		}
		free(keys);
	}
	lua_pop(L, 2);
}

/* 1 when the Attr of the element at `el` carries anything. */
static int
has_attr(lua_State *L, int el)
{
	struct buf o = BUF_INIT;
	int r;

	put_attr(L, el, &o);
	r = o.len > 0;
	buf_release(&o);
	return r;
}

/* The URL to emit: unchanged parsed URLs stay; new ones with a dangerous
 * scheme become "#". */
static const char *
safe_url(lua_State *L, int el, const char *field)
{
	const char *u = fstr(L, el, field), *orig = fstr_or_null(L, el, "_u");
	const char *p = u;
	char scheme[16];
	size_t i = 0;

	if (orig && strcmp(orig, u) == 0)
		return u;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	for (; p[i] && p[i] != ':' && i < sizeof(scheme) - 1; i++)
		scheme[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ?
		    p[i] + 32 : p[i]);
	scheme[i] = '\0';
	if (p[i] != ':')
		return u;
	if (strcmp(scheme, "javascript") == 0 ||
	    strcmp(scheme, "vbscript") == 0 ||
	    (strcmp(scheme, "data") == 0 &&
	    strncasecmp(p + i + 1, "image/", 6) != 0))
		return "#";
	return u;
}

/* Percent-encodes a URL for an href like cmark does. */
static void
put_href(struct buf *o, const char *u)
{
	static const char safe[] = "-_.!~*();/?:@=+$,%#";
	const unsigned char *p;

	for (p = (const unsigned char *)u; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(safe, *p))
			buf_putc(o, *p);
		else if (*p == '&')
			buf_puts(o, "&amp;");
		else if (*p == '\'')
			buf_puts(o, "&#x27;");
		else
			buf_printf(o, "%%%02X", *p);
	}
}

static void build_blocks(lua_State *, struct ast_build *, int, cmark_node *,
    int, int);
static void build_inlines(lua_State *, struct ast_build *, int, cmark_node *,
    int);

/* Builds the inline list in field `k` of table `t` into `parent`. */
static void
inlines_field(lua_State *L, struct ast_build *b, int t, const char *k,
    cmark_node *parent, int depth)
{
	if (lua_getfield(L, t, k) == LUA_TTABLE)
		build_inlines(L, b, lua_gettop(L), parent, depth + 1);
	lua_pop(L, 1);
}

/* Builds the block list in field `k` of table `t` into `parent`. */
static void
blocks_field(lua_State *L, struct ast_build *b, int t, const char *k,
    cmark_node *parent, int depth)
{
	if (lua_getfield(L, t, k) == LUA_TTABLE)
		build_blocks(L, b, lua_gettop(L), parent, depth + 1, 0);
	lua_pop(L, 1);
}

/* Flushes pending text into a text node. */
static void
flush_text(lua_State *L, struct ast_build *b, struct buf *text,
    cmark_node *parent)
{
	cmark_node *n;

	if (text->len == 0)
		return;
	charge(L, b, text->len);
	n = add(parent, CMARK_NODE_TEXT);
	cmark_node_set_literal(n, text->ptr);
	buf_reset(text);
}

/* Wraps inline content in a custom inline with enter/exit HTML. */
static void
wrap_inline(lua_State *L, struct ast_build *b, int el, cmark_node *parent,
    const char *enter, const char *exit, const char *field, int depth)
{
	cmark_node *n = add_custom(L, b, parent, 0, enter, exit);

	inlines_field(L, b, el, field, n, depth);
}

/* The footnote being built under `label`, or NULL. */
static struct ast_fn *
footnote(struct ast_build *b, const char *label)
{
	size_t i;

	for (i = 0; label && i < b->nfns; i++)
		if (strcmp(b->fns[i].label, label) == 0)
			return &b->fns[i];
	return NULL;
}

/* Note -> footnote reference + (first time) a definition at the end. */
static void
build_note(lua_State *L, struct ast_build *b, int el, cmark_node *parent,
    int depth)
{
	const char *label = fstr_or_null(L, el, "_fl");
	struct ast_fn *fn = footnote(b, label);
	cmark_node *ref, *def;
	char num[32];
	size_t idx;

	if (fn == NULL) {
		b->fns = xreallocarray(b->fns, b->nfns + 1, sizeof(*b->fns));
		fn = &b->fns[b->nfns];
		idx = b->nfns++;
		fn->label = label ? xstrdup(label) :
		    xasprintf("tebiki-%zu", idx + 1);
		fn->refs = 0;
		def = cmark_node_new(CMARK_NODE_FOOTNOTE_DEFINITION);
		fn->def = def;
		attach(b->root, def);
		cmark_chunk_set_cstr(cmark_node_mem(def), &def->as.literal,
		    fn->label);
		blocks_field(L, b, el, "content", def, depth);
		fn = &b->fns[idx];	/* nested notes may have moved it */
	}
	fn->refs++;
	fn->def->footnote.def_count = fn->refs;
	ref = add(parent, CMARK_NODE_FOOTNOTE_REFERENCE);
	snprintf(num, sizeof(num), "%zu", (size_t)(fn - b->fns) + 1);
	cmark_node_set_literal(ref, num);
	ref->footnote.ref_ix = fn->refs;
	ref->parent_footnote_def = fn->def;
}

/* Builds one non-text inline element at `el` into `parent`;
 * escaped raw HTML is appended to `text` instead. */
static void
build_inline(lua_State *L, struct ast_build *b, int el, const char *tag,
    cmark_node *parent, struct buf *text, int depth)
{
	struct buf *op = scratch(b, depth, 1);
#define o (*op)
	cmark_node *n;
	const char *s, *raw, *fmt;

	if (strcmp(tag, "SoftBreak") == 0) {
		add(parent, CMARK_NODE_SOFTBREAK);
	} else if (strcmp(tag, "LineBreak") == 0) {
		add(parent, CMARK_NODE_LINEBREAK);
	} else if (strcmp(tag, "Emph") == 0 || strcmp(tag, "Strong") == 0) {
		n = add(parent, tag[0] == 'E' ? CMARK_NODE_EMPH :
		    CMARK_NODE_STRONG);
		inlines_field(L, b, el, "content", n, depth);
	} else if (strcmp(tag, "Strikeout") == 0) {
		wrap_inline(L, b, el, parent, "<del>", "</del>", "content",
		    depth);
	} else if (strcmp(tag, "Underline") == 0) {
		wrap_inline(L, b, el, parent, "<u>", "</u>", "content", depth);
	} else if (strcmp(tag, "Superscript") == 0) {
		wrap_inline(L, b, el, parent, "<sup>", "</sup>", "content",
		    depth);
	} else if (strcmp(tag, "Subscript") == 0) {
		wrap_inline(L, b, el, parent, "<sub>", "</sub>", "content",
		    depth);
	} else if (strcmp(tag, "SmallCaps") == 0) {
		wrap_inline(L, b, el, parent, "<span class=\"smallcaps\">",
		    "</span>", "content", depth);
	} else if (strcmp(tag, "Quoted") == 0) {
		s = fstr(L, el, "quotetype");
		if (strcmp(s, "SingleQuote") == 0)
			wrap_inline(L, b, el, parent, "\u2018", "\u2019",
			    "content", depth);
		else
			wrap_inline(L, b, el, parent, "\u201c", "\u201d",
			    "content", depth);
	} else if (strcmp(tag, "Cite") == 0) {
		wrap_inline(L, b, el, parent, "<span class=\"citation\">",
		    "</span>", "content", depth);
	} else if (strcmp(tag, "Span") == 0) {
		raw = fstr_or_null(L, el, "_enter");
		if (raw && !has_attr(L, el)) {
			wrap_inline(L, b, el, parent, raw,
			    fstr(L, el, "_exit"), "content", depth);
		} else {
			buf_puts(&o, "<span");
			put_attr(L, el, &o);
			buf_putc(&o, '>');
			wrap_inline(L, b, el, parent, o.ptr, "</span>",
			    "content", depth);
		}
	} else if (strcmp(tag, "Code") == 0) {
		s = fstr(L, el, "text");
		if (!has_attr(L, el)) {
			charge(L, b, strlen(s));
			n = add(parent, CMARK_NODE_CODE);
			cmark_node_set_literal(n, s);
		} else {
			buf_puts(&o, "<code");
			put_attr(L, el, &o);
			buf_putc(&o, '>');
			buf_put_html(&o, s, strlen(s));
			add_custom(L, b, parent, 0, o.ptr, "</code>");
		}
	} else if (strcmp(tag, "Math") == 0) {
		int display = strcmp(fstr(L, el, "mathtype"),
		    "DisplayMath") == 0;

		s = fstr(L, el, "text");
		buf_puts(&o, display ? "<span class=\"math display\">\\[" :
		    "<span class=\"math inline\">\\(");
		buf_put_html(&o, s, strlen(s));
		buf_puts(&o, display ? "\\]</span>" : "\\)</span>");
		add_custom(L, b, parent, 0, o.ptr, "");
	} else if (strcmp(tag, "RawInline") == 0) {
		fmt = fstr(L, el, "format");
		s = fstr(L, el, "text");
		raw = fstr_or_null(L, el, "_raw");
		if (strcmp(fmt, "html") != 0 && strcmp(fmt, "html5") != 0) {
			/* other formats are dropped, as pandoc does */
		} else if (raw && strcmp(raw, s) == 0) {
			flush_text(L, b, text, parent);
			n = add(parent, CMARK_NODE_HTML_INLINE);
			cmark_node_set_literal(n, s);
		} else if (b->allow_raw_html) {
			flush_text(L, b, text, parent);
			add_custom(L, b, parent, 0, s, "");
		} else {
			buf_puts(text, s);
		}
	} else if (strcmp(tag, "Link") == 0) {
		s = safe_url(L, el, "target");
		if (!has_attr(L, el)) {
			n = add(parent, CMARK_NODE_LINK);
			takepos(L, el, n);
			charge(L, b, strlen(s));
			cmark_node_set_url(n, s);
			cmark_node_set_title(n, fstr(L, el, "title"));
			inlines_field(L, b, el, "content", n, depth);
		} else {
			buf_puts(&o, "<a href=\"");
			put_href(&o, s);
			buf_putc(&o, '"');
			s = fstr(L, el, "title");
			if (*s) {
				buf_puts(&o, " title=\"");
				buf_put_html(&o, s, strlen(s));
				buf_putc(&o, '"');
			}
			put_attr(L, el, &o);
			buf_putc(&o, '>');
			wrap_inline(L, b, el, parent, o.ptr, "</a>", "content",
			    depth);
		}
	} else if (strcmp(tag, "Image") == 0) {
		s = safe_url(L, el, "src");
		n = add(parent, CMARK_NODE_IMAGE);
		takepos(L, el, n);
		charge(L, b, strlen(s));
		cmark_node_set_url(n, s);
		cmark_node_set_title(n, fstr(L, el, "title"));
		inlines_field(L, b, el, "caption", n, depth);
	} else if (strcmp(tag, "Note") == 0) {
		build_note(L, b, el, parent, depth);
	} else {
		luaL_error(L, "cannot render a '%s' element inline", tag);
	}
#undef o
}

/* Builds an inline list, joining Str/Space runs into text nodes. */
static void
build_inlines(lua_State *L, struct ast_build *b, int list, cmark_node *parent,
    int depth)
{
	struct buf *textp;
	lua_Integer i, n = (lua_Integer)lua_rawlen(L, list);
	const char *tag, *s;
	int el;

	luaL_checkstack(L, 20, "document nested too deeply");
	if (depth > MAX_DEPTH)
		luaL_error(L, "document nested too deeply");
	textp = scratch(b, depth, 0);
#define text (*textp)
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, list, i);
		el = lua_gettop(L);
		tag = tag_of(L, el);
		if (tag == NULL)
			luaL_error(L, "expected an Inline element, got %s",
			    luaL_typename(L, el));
		if (strcmp(tag, "Str") == 0) {
			s = fstr(L, el, "text");
			buf_puts(&text, s);
		} else if (strcmp(tag, "Space") == 0) {
			s = fstr_or_null(L, el, "_s");
			buf_puts(&text, s ? s : " ");
		} else {
			/* escaped raw HTML joins the surrounding text */
			if (strcmp(tag, "RawInline") != 0)
				flush_text(L, b, &text, parent);
			build_inline(L, b, el, tag, parent, &text, depth);
		}
		lua_settop(L, el - 1);
	}
	flush_text(L, b, &text, parent);
#undef text
}

/* 1 when the first inline of the Plain/Para at `blk` is a task marker
 * (☐/☒ + Space); *checked gets its state.  Removes the marker. */
static int
take_task(lua_State *L, int blk, int *checked)
{
	const char *t;
	int c, r = 0;

	if (lua_getfield(L, blk, "content") != LUA_TTABLE) {
		lua_pop(L, 1);
		return 0;
	}
	c = lua_gettop(L);
	if (lua_rawgeti(L, c, 1) == LUA_TTABLE &&
	    (t = tag_of(L, -1)) && strcmp(t, "Str") == 0) {
		t = fstr(L, lua_gettop(L), "text");
		if (strcmp(t, "\u2610") == 0 || strcmp(t, "\u2612") == 0) {
			*checked = strcmp(t, "\u2612") == 0;
			lua_rawgeti(L, c, 2);
			t = tag_of(L, -1);
			lua_pop(L, 1);
			if (t && strcmp(t, "Space") == 0) {
				/* copy content without the first two */
				lua_getglobal(L, "table");
				lua_getfield(L, -1, "move");
				lua_pushvalue(L, c);
				lua_pushinteger(L, 3);
				lua_pushinteger(L, (lua_Integer)lua_rawlen(L, c));
				lua_pushinteger(L, 1);
				lua_newtable(L);
				lua_call(L, 5, 1);
				lua_setfield(L, blk, "_notask");
				lua_pop(L, 1);
				r = 1;
			}
		}
	}
	lua_settop(L, c - 1);
	return r;
}

/* A new node owned by a syntax extension. */
static cmark_node *
new_ext_node(cmark_node_type ty, const char *extname)
{
	return cmark_node_new_with_ext(ty,
	    cmark_find_syntax_extension(extname));
}

/* Builds a table row into `tbl`. */
static void
build_row(lua_State *L, struct ast_build *b, int row, cmark_node *tbl,
    int header, int depth)
{
	cmark_node *r = new_ext_node(CMARK_NODE_TABLE_ROW, "table"), *cell;
	lua_Integer i, j, n, nb;
	const char *tag;
	int cells, blocks, blk;

	attach(tbl, r);
	cmark_gfm_extensions_set_table_row_is_header(r, header);
	if (lua_getfield(L, row, "cells") != LUA_TTABLE) {
		lua_pop(L, 1);
		return;
	}
	cells = lua_gettop(L);
	n = (lua_Integer)lua_rawlen(L, cells);
	for (i = 1; i <= n; i++) {
		/* not cmark_node_new_with_ext: the extension would allocate
		 * per-cell data it never frees; the renderer does not need it */
		cell = cmark_node_new(CMARK_NODE_TABLE_CELL);
		cmark_node_set_syntax_extension(cell,
		    cmark_find_syntax_extension("table"));
		attach(r, cell);
		lua_rawgeti(L, cells, i);
		if (lua_getfield(L, -1, "contents") == LUA_TTABLE) {
			blocks = lua_gettop(L);
			nb = (lua_Integer)lua_rawlen(L, blocks);
			for (j = 1; j <= nb; j++) {
				lua_rawgeti(L, blocks, j);
				blk = lua_gettop(L);
				tag = tag_of(L, blk);
				if (j > 1)
					add(cell, CMARK_NODE_LINEBREAK);
				if (tag && (strcmp(tag, "Plain") == 0 ||
				    strcmp(tag, "Para") == 0 ||
				    strcmp(tag, "Header") == 0))
					inlines_field(L, b, blk, "content",
					    cell, depth);
				lua_pop(L, 1);
			}
		}
		lua_settop(L, cells);
	}
	lua_pop(L, 1);
}

/* cmark-gfm's alignment byte for a pandoc alignment name. */
static uint8_t
align_code(const char *s)
{
	if (strcmp(s, "AlignLeft") == 0)
		return 'l';
	if (strcmp(s, "AlignRight") == 0)
		return 'r';
	if (strcmp(s, "AlignCenter") == 0)
		return 'c';
	return 0;
}

/* Builds the Row list at `rows` into the table node. */
static void
build_rows(lua_State *L, struct ast_build *b, int rows, cmark_node *tbl,
    int header, int depth)
{
	lua_Integer i, n = (lua_Integer)lua_rawlen(L, rows);

	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, rows, i);
		if (lua_type(L, -1) == LUA_TTABLE)
			build_row(L, b, lua_gettop(L), tbl, header, depth);
		lua_pop(L, 1);
	}
}

/* Builds a pandoc Table as a cmark-gfm table (head rows, then
 * every body, then the foot rows). */
static void
build_table(lua_State *L, struct ast_build *b, int el, cmark_node *parent,
    int depth)
{
	cmark_node *tbl = new_ext_node(CMARK_NODE_TABLE, "table");
	uint8_t *al;
	lua_Integer i, n;
	int bodies;

	attach(parent, tbl);
	lua_getfield(L, el, "colspecs");
	n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
	al = xcalloc((size_t)n + 1, 1);
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		if (lua_istable(L, -1)) {
			lua_rawgeti(L, -1, 1);
			if (lua_type(L, -1) == LUA_TSTRING)
				al[i - 1] = align_code(lua_tostring(L, -1));
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	cmark_gfm_extensions_set_table_columns(tbl, (uint16_t)n);
	cmark_gfm_extensions_set_table_alignments(tbl, (uint16_t)n, al);
	free(al);	/* the extension copied it */
	if (lua_getfield(L, el, "head") == LUA_TTABLE &&
	    lua_getfield(L, -1, "rows") == LUA_TTABLE)
		build_rows(L, b, lua_gettop(L), tbl, 1, depth);
	lua_settop(L, el);
	if (lua_getfield(L, el, "bodies") == LUA_TTABLE) {
		bodies = lua_gettop(L);
		n = (lua_Integer)lua_rawlen(L, bodies);
		for (i = 1; i <= n; i++) {
			lua_rawgeti(L, bodies, i);
			if (lua_istable(L, -1)) {
				if (lua_getfield(L, -1, "head") == LUA_TTABLE)
					build_rows(L, b, lua_gettop(L), tbl, 0,
					    depth);
				lua_pop(L, 1);
				if (lua_getfield(L, -1, "body") == LUA_TTABLE)
					build_rows(L, b, lua_gettop(L), tbl, 0,
					    depth);
				lua_pop(L, 1);
			}
			lua_pop(L, 1);
		}
	}
	lua_settop(L, el);
	if (lua_getfield(L, el, "foot") == LUA_TTABLE &&
	    lua_getfield(L, -1, "rows") == LUA_TTABLE)
		build_rows(L, b, lua_gettop(L), tbl, 0, depth);
	lua_settop(L, el);
}

/* 1 when some item of the list at `items` has a Para child, 2 when none
 * has a Para but some has a Plain, 0 when neither. */
static int
list_paras(lua_State *L, int items)
{
	lua_Integer i, j, n = (lua_Integer)lua_rawlen(L, items), m;
	const char *tag;
	int r = 0;

	for (i = 1; i <= n; i++) {
		if (lua_rawgeti(L, items, i) == LUA_TTABLE) {
			m = (lua_Integer)lua_rawlen(L, -1);
			for (j = 1; j <= m; j++) {
				lua_rawgeti(L, -1, j);
				tag = tag_of(L, lua_gettop(L));
				if (tag && strcmp(tag, "Para") == 0)
					r = 1;
				else if (tag && strcmp(tag, "Plain") == 0 &&
				    r == 0)
					r = 2;
				lua_pop(L, 1);
			}
		}
		lua_pop(L, 1);
		if (r == 1)
			break;
	}
	return r;
}

/* Builds a BulletList/OrderedList; task markers become task items. */
static void
build_list(lua_State *L, struct ast_build *b, int el, const char *tag,
    cmark_node *parent, int depth)
{
	cmark_node *list = add(parent, CMARK_NODE_LIST), *item;
	lua_Integer i, n, start;
	int items, it, tight, paras, checked, task;
	const char *s;

	if (strcmp(tag, "OrderedList") == 0) {
		cmark_node_set_list_type(list, CMARK_ORDERED_LIST);
		start = 1;
		cmark_node_set_list_delim(list, CMARK_PERIOD_DELIM);
		if (lua_getfield(L, el, "listAttributes") == LUA_TTABLE) {
			lua_getfield(L, -1, "start");
			if (lua_isinteger(L, -1))
				start = lua_tointeger(L, -1);
			lua_pop(L, 1);
			s = fstr(L, lua_gettop(L), "delimiter");
			if (strcmp(s, "OneParen") == 0 ||
			    strcmp(s, "TwoParens") == 0)
				cmark_node_set_list_delim(list,
				    CMARK_PAREN_DELIM);
		}
		lua_pop(L, 1);
		cmark_node_set_list_start(list, start < 0 ? 0 : (int)start);
	} else {
		cmark_node_set_list_type(list, CMARK_BULLET_LIST);
	}
	if (lua_getfield(L, el, "content") != LUA_TTABLE) {
		lua_pop(L, 1);
		return;
	}
	items = lua_gettop(L);
	paras = list_paras(L, items);
	if (paras == 0) {
		lua_getfield(L, el, "_tight");
		tight = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
		lua_pop(L, 1);
	} else {
		tight = paras == 2;
	}
	cmark_node_set_list_tight(list, tight);
	n = (lua_Integer)lua_rawlen(L, items);
	for (i = 1; i <= n; i++) {
		item = add(list, CMARK_NODE_ITEM);
		if (lua_rawgeti(L, items, i) != LUA_TTABLE) {
			lua_pop(L, 1);
			continue;
		}
		it = lua_gettop(L);
		task = 0;
		checked = 0;
		if (strcmp(tag, "BulletList") == 0) {
			lua_rawgeti(L, it, 1);
			s = tag_of(L, lua_gettop(L));
			if (s && (strcmp(s, "Plain") == 0 ||
			    strcmp(s, "Para") == 0))
				task = take_task(L, lua_gettop(L), &checked);
			lua_pop(L, 1);
			if (!task && (s = fstr_or_null(L, it, "_task"))) {
				task = 1;
				checked = s[0] == 'x';
			}
		}
		if (task) {
			cmark_node_set_syntax_extension(item,
			    cmark_find_syntax_extension("tasklist"));
			cmark_gfm_extensions_set_tasklist_item_checked(item,
			    checked);
		}
		build_blocks(L, b, it, item, depth + 1, tight ? 1 : 2);
		lua_settop(L, items);
	}
	lua_pop(L, 1);
}

/* Builds one block element at `el` into `parent`.  `inlist`: 1 when the
 * parent is an item of a tight list, 2 of a loose one, 0 otherwise. */
static void
build_block(lua_State *L, struct ast_build *b, int el, const char *tag,
    cmark_node *parent, int depth, int inlist)
{
	struct buf *op = scratch(b, depth, 1);
#define o (*op)
	cmark_node *n;
	const char *s, *raw, *fmt;
	lua_Integer level, i, len;

	if (strcmp(tag, "Para") == 0 || (strcmp(tag, "Plain") == 0 &&
	    inlist == 1)) {
		n = add(parent, CMARK_NODE_PARAGRAPH);
		lua_getfield(L, el, "_notask");
		if (lua_istable(L, -1)) {
			build_inlines(L, b, lua_gettop(L), n, depth + 1);
			lua_pop(L, 1);
		} else {
			lua_pop(L, 1);
			inlines_field(L, b, el, "content", n, depth);
		}
	} else if (strcmp(tag, "Plain") == 0) {
		n = add_custom(L, b, parent, 1, "", "");
		lua_getfield(L, el, "_notask");
		if (lua_istable(L, -1)) {
			build_inlines(L, b, lua_gettop(L), n, depth + 1);
			lua_pop(L, 1);
		} else {
			lua_pop(L, 1);
			inlines_field(L, b, el, "content", n, depth);
		}
	} else if (strcmp(tag, "Header") == 0) {
		n = add(parent, CMARK_NODE_HEADING);
		lua_getfield(L, el, "level");
		level = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 1;
		lua_pop(L, 1);
		cmark_node_set_heading_level(n, level < 1 ? 1 : level > 6 ? 6 :
		    (int)level);
		lua_getfield(L, el, "attr");
		if (lua_istable(L, -1)) {
			s = fstr(L, lua_gettop(L), "identifier");
			if (*s)
				md_set_heading_id(n, s);
		}
		lua_pop(L, 1);
		inlines_field(L, b, el, "content", n, depth);
	} else if (strcmp(tag, "CodeBlock") == 0) {
		n = add(parent, CMARK_NODE_CODE_BLOCK);
		s = fstr(L, el, "text");
		charge(L, b, strlen(s));
		cmark_node_set_literal(n, s);
		if (lua_getfield(L, el, "attr") == LUA_TTABLE &&
		    lua_getfield(L, -1, "classes") == LUA_TTABLE) {
			len = (lua_Integer)lua_rawlen(L, -1);
			for (i = 1; i <= len; i++) {
				lua_rawgeti(L, -1, i);
				if (lua_isstring(L, -1)) {
					if (o.len)
						buf_putc(&o, ' ');
					buf_puts(&o, lua_tostring(L, -1));
				}
				lua_pop(L, 1);
			}
		}
		lua_settop(L, el);
		cmark_node_set_fence_info(n, o.ptr);
		cmark_node_set_fenced(n, 1, 3, 0, '`');
	} else if (strcmp(tag, "RawBlock") == 0) {
		fmt = fstr(L, el, "format");
		s = fstr(L, el, "text");
		raw = fstr_or_null(L, el, "_raw");
		if (strcmp(fmt, "html") != 0 && strcmp(fmt, "html5") != 0) {
			/* dropped */
		} else if (raw && strcmp(raw, s) == 0) {
			n = add(parent, CMARK_NODE_HTML_BLOCK);
			cmark_node_set_literal(n, s);
		} else if (b->allow_raw_html) {
			add_custom(L, b, parent, 1, s, "");
		} else {
			n = add(parent, CMARK_NODE_PARAGRAPH);
			charge(L, b, strlen(s));
			cmark_node_set_literal(add(n, CMARK_NODE_TEXT), s);
		}
	} else if (strcmp(tag, "HorizontalRule") == 0) {
		add(parent, CMARK_NODE_THEMATIC_BREAK);
	} else if (strcmp(tag, "BlockQuote") == 0) {
		n = add(parent, CMARK_NODE_BLOCK_QUOTE);
		blocks_field(L, b, el, "content", n, depth);
	} else if (strcmp(tag, "BulletList") == 0 ||
	    strcmp(tag, "OrderedList") == 0) {
		build_list(L, b, el, tag, parent, depth);
	} else if (strcmp(tag, "Div") == 0) {
		raw = fstr_or_null(L, el, "_enter");
		if (raw && !has_attr(L, el)) {
			n = add_custom(L, b, parent, 1, raw,
			    fstr(L, el, "_exit"));
		} else {
			buf_puts(&o, "<div");
			put_attr(L, el, &o);
			buf_putc(&o, '>');
			n = add_custom(L, b, parent, 1, o.ptr, "</div>");
		}
		blocks_field(L, b, el, "content", n, depth);
	} else if (strcmp(tag, "Table") == 0) {
		build_table(L, b, el, parent, depth);
	} else if (strcmp(tag, "LineBlock") == 0) {
		n = add_custom(L, b, parent, 1, "<div class=\"line-block\">",
		    "</div>");
		if (lua_getfield(L, el, "content") == LUA_TTABLE) {
			len = (lua_Integer)lua_rawlen(L, -1);
			for (i = 1; i <= len; i++) {
				if (i > 1)
					add(n, CMARK_NODE_LINEBREAK);
				if (lua_rawgeti(L, -1, i) == LUA_TTABLE)
					build_inlines(L, b, lua_gettop(L), n,
					    depth + 1);
				lua_pop(L, 1);
			}
		}
		lua_settop(L, el);
	} else if (strcmp(tag, "DefinitionList") == 0) {
		n = add_custom(L, b, parent, 1, "<dl>", "</dl>");
		if (lua_getfield(L, el, "content") == LUA_TTABLE) {
			len = (lua_Integer)lua_rawlen(L, -1);
			for (i = 1; i <= len; i++) {
				int item, defs;
				lua_Integer j, nd;
				cmark_node *dd;

				if (lua_rawgeti(L, -1, i) != LUA_TTABLE) {
					lua_pop(L, 1);
					continue;
				}
				item = lua_gettop(L);
				if (lua_rawgeti(L, item, 1) == LUA_TTABLE)
					build_inlines(L, b, lua_gettop(L),
					    add_custom(L, b, n, 1, "<dt>",
					    "</dt>"), depth + 1);
				lua_pop(L, 1);
				if (lua_rawgeti(L, item, 2) == LUA_TTABLE) {
					defs = lua_gettop(L);
					nd = (lua_Integer)lua_rawlen(L, defs);
					for (j = 1; j <= nd; j++) {
						dd = add_custom(L, b, n, 1,
						    "<dd>", "</dd>");
						if (lua_rawgeti(L, defs, j) ==
						    LUA_TTABLE)
							build_blocks(L, b,
							    lua_gettop(L), dd,
							    depth + 1, 0);
						lua_pop(L, 1);
					}
				}
				lua_settop(L, item - 1);
			}
		}
		lua_settop(L, el);
	} else if (strcmp(tag, "Figure") == 0) {
		buf_puts(&o, "<figure");
		put_attr(L, el, &o);
		buf_putc(&o, '>');
		n = add_custom(L, b, parent, 1, o.ptr, "</figure>");
		blocks_field(L, b, el, "content", n, depth);
		if (lua_getfield(L, el, "caption") == LUA_TTABLE &&
		    lua_getfield(L, -1, "long") == LUA_TTABLE &&
		    lua_rawlen(L, -1) > 0)
			build_blocks(L, b, lua_gettop(L), add_custom(L, b, n,
			    1, "<figcaption>", "</figcaption>"), depth + 1, 0);
		lua_settop(L, el);
	} else {
		luaL_error(L, "cannot render a '%s' element as a block", tag);
	}
#undef o
}

/* Builds a block list into `parent` (see build_block for `inlist`). */
static void
build_blocks(lua_State *L, struct ast_build *b, int list, cmark_node *parent,
    int depth, int inlist)
{
	lua_Integer i, n = (lua_Integer)lua_rawlen(L, list);
	cmark_node *prev, *c;
	const char *tag;
	int el;

	luaL_checkstack(L, 20, "document nested too deeply");
	if (depth > MAX_DEPTH)
		luaL_error(L, "document nested too deeply");
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, list, i);
		el = lua_gettop(L);
		tag = tag_of(L, el);
		if (tag == NULL)
			luaL_error(L, "expected a Block element, got %s",
			    luaL_typename(L, el));
		prev = cmark_node_last_child(parent);
		build_block(L, b, el, tag, parent, depth, inlist);
		/* the node(s) made for it are where the element came from:
		 * the place of links a filter made inside (build.c) and the
		 * _line of the next filter */
		for (c = prev ? cmark_node_next(prev) :
		    cmark_node_first_child(parent); c; c = cmark_node_next(c))
			takepos(L, el, c);
		lua_settop(L, el - 1);
	}
}

/* See luaast.h. */
void
ast_build_doc(lua_State *L, int idx, struct ast_build *b)
{
	const char *tag;
	cmark_node *end;

	idx = lua_absindex(L, idx);
	tag = tag_of(L, idx);
	if (tag == NULL || strcmp(tag, "Pandoc") != 0)
		luaL_error(L, "expected a Pandoc document");
	b->root = cmark_node_new(CMARK_NODE_DOCUMENT);
	/* footnote definitions go after the blocks: build blocks into a
	 * holder, then move them in front */
	end = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK);
	cmark_node_append_child(b->root, end);
	if (lua_getfield(L, idx, "blocks") == LUA_TTABLE)
		build_blocks(L, b, lua_gettop(L), end, 1, 0);
	lua_pop(L, 1);
	while (cmark_node_first_child(end))
		cmark_node_insert_before(end, cmark_node_first_child(end));
	cmark_node_free(end);
}

/* See luaast.h. */
void
ast_build_blocks_into(lua_State *L, int list, struct ast_build *b,
    cmark_node *parent, int inlist)
{
	build_blocks(L, b, lua_absindex(L, list), parent, 1, inlist);
}

/* See luaast.h. */
void
ast_build_inlines_into(lua_State *L, int list, struct ast_build *b,
    cmark_node *parent)
{
	build_inlines(L, b, lua_absindex(L, list), parent, 1);
}

/* See luaast.h. */
void
ast_build_release(struct ast_build *b)
{
	size_t i;

	for (i = 0; i < b->nfns; i++)
		free(b->fns[i].label);
	free(b->fns);
	b->fns = NULL;
	b->nfns = 0;
	for (i = 0; i < b->nbufs; i++) {
		buf_release(b->bufs[i]);
		free(b->bufs[i]);
	}
	free(b->bufs);
	b->bufs = NULL;
	b->nbufs = 0;
}

/* ------------------------------------------------------------------ */
/* values                                                              */

/* Pushes a scalar value; 0 (nothing pushed) for a list or map. */
static int
push_scalar(lua_State *L, const struct value *v)
{
	if (v == NULL) {
		lua_pushnil(L);
		return 1;
	}
	switch (v->kind) {
	case VAL_NULL:
		lua_pushnil(L);
		return 1;
	case VAL_BOOL:
		lua_pushboolean(L, v->b);
		return 1;
	case VAL_NUM:
		if (v->num == floor(v->num) && fabs(v->num) < 9e15)
			lua_pushinteger(L, (lua_Integer)v->num);
		else
			lua_pushnumber(L, v->num);
		return 1;
	case VAL_STR:
	case VAL_DATE:
		lua_pushlstring(L, v->str ? v->str : "", v->len);
		return 1;
	case VAL_LIST:
	case VAL_MAP:
		break;
	}
	return 0;
}

/*
 * Lazy maps and lists.  A map pushed with ast_push_lazy() starts as an empty table
 * whose metatable is LAZY_MT and whose only entry, under a light
 * userdata key no Lua code can make (&lazy_src), is its struct value, of
 * which it holds a reference until it is filled or collected.  (Not a
 * weak table beside it: an old table written on every page is traversed
 * whole by every minor collection, and such a table would hold an entry
 * per page.)  The first read, write, length or
 * pairs() of the table fills it with the map's entries (nested maps lazy
 * in turn) and removes the metatable, so from then on it is a plain table.
 * next, rawget, rawlen, getmetatable and setmetatable fill it first too
 * (luasandbox.c wraps them), so a filter cannot tell the difference; a
 * site of 10,000 pages costs a table per page until a filter looks.
 * A list is lazy the same way, except that reading element i (t[i],
 * ipairs) makes that element only, and # is its length: PAGE is
 * SITE.pages[i], and a worker must not make every page's table for it.
 * The elements read are kept beside the list (under &lazy_elems), not in
 * it, so that any write still fills the list first (keeping them).
 */
static const char lazy_key = 'L';
static const char lazy_src = 'S';
static const char lazy_elems = 'E';	/* a lazy list's elements read so far */

enum { LZ_MT = 2, LZ_LIST };

static int	lazy_index(lua_State *);
static int	lazy_newindex(lua_State *);
static int	lazy_len(lua_State *);
static int	lazy_pairs(lua_State *);
static int	lazy_gc(lua_State *);

/* Pushes the record {[2] mt, [3] list metatable}, making it on first use
 * (`tebiki` is the _TEBIKI table's index, or 0 when it must exist). */
static int
lazy_rec(lua_State *L, int tebiki)
{
	static const luaL_Reg mm[] = {
		{ "__index", lazy_index },
		{ "__newindex", lazy_newindex },
		{ "__len", lazy_len },
		{ "__pairs", lazy_pairs },
		{ "__gc", lazy_gc },
		{ NULL, NULL }
	};

	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &lazy_key) == LUA_TTABLE)
		return lua_gettop(L);
	lua_pop(L, 1);
	if (tebiki == 0)
		return 0;
	tebiki = lua_absindex(L, tebiki);
	lua_createtable(L, 3, 0);
	luaL_newlib(L, mm);
	lua_rawseti(L, -2, LZ_MT);
	lua_getfield(L, tebiki, "mt");
	lua_getfield(L, -1, "List");
	lua_remove(L, -2);
	lua_rawseti(L, -2, LZ_LIST);
	lua_pushvalue(L, -1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &lazy_key);
	return lua_gettop(L);
}

static void
push_lazy(lua_State *L, int rec, const struct value *v)
{
	luaL_checkstack(L, 8, "value nested too deeply");
	if (push_scalar(L, v))
		return;
	lua_newtable(L);
	if (v->kind == VAL_LIST && v->n == 0) {
		lua_rawgeti(L, rec, LZ_LIST);
		lua_setmetatable(L, -2);
		return;
	}
	if (v->n == 0)
		return;
	lua_pushlightuserdata(L, val_ref((struct value *)v));
	lua_rawsetp(L, -2, &lazy_src);
	lua_rawgeti(L, rec, LZ_MT);
	lua_setmetatable(L, -2);
}

/* Takes the map out of lazy table `idx` (NULL if none); the caller owns
 * the reference. */
static struct value *
lazy_take(lua_State *L, int idx)
{
	struct value *v;

	idx = lua_absindex(L, idx);
	lua_rawgetp(L, idx, &lazy_src);
	v = lua_touserdata(L, -1);
	lua_pop(L, 1);
	lua_pushnil(L);
	lua_rawsetp(L, idx, &lazy_src);
	return v;
}

/* __gc of a table never filled: drops its reference. */
static int
lazy_gc(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TTABLE)
		val_unref(lazy_take(L, 1));
	return 0;
}

/* See luaast.h. */
void
ast_push_lazy(lua_State *L, int tebiki, const struct value *v)
{
	int rec;

	if (push_scalar(L, v))
		return;
	rec = lazy_rec(L, tebiki);
	push_lazy(L, rec, v);
	lua_remove(L, rec);
}

/* See luaast.h. */
int
ast_fill(lua_State *L, int idx)
{
	struct value *v;
	int rec;
	size_t i;

	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx))
		return 0;
	if ((rec = lazy_rec(L, 0)) == 0) {
		lua_pop(L, 1);
		return 0;
	}
	lua_rawgeti(L, rec, LZ_MT);
	if (!lua_rawequal(L, -1, rec - 1)) {
		lua_pop(L, 3);
		return 0;
	}
	lua_pop(L, 1);
	v = lazy_take(L, idx);
	lua_pushnil(L);
	lua_setmetatable(L, idx);
	for (i = 0; v && v->kind == VAL_MAP && i < v->n; i++) {
		lua_pushlstring(L, v->keys[i]->str, v->keys[i]->len);
		push_lazy(L, rec, v->items[i]);
		lua_rawset(L, idx);
	}
	if (v && v->kind == VAL_LIST) {
		/* the elements read already stay the same tables */
		int have = lua_rawgetp(L, idx, &lazy_elems) == LUA_TTABLE;

		lua_pushnil(L);
		lua_rawsetp(L, idx, &lazy_elems);
		for (i = 0; i < v->n; i++) {
			if (!have || lua_rawgeti(L, -1, (lua_Integer)i + 1) ==
			    LUA_TNIL) {
				if (have)
					lua_pop(L, 1);
				push_lazy(L, rec, v->items[i]);
			}
			lua_rawseti(L, idx, (lua_Integer)i + 1);
		}
		lua_pop(L, 1);
		lua_rawgeti(L, rec, LZ_LIST);
		lua_setmetatable(L, idx);
	}
	val_unref(v);
	lua_pop(L, 2);
	return 1;
}

/* The list value of lazy table 1 when it is a lazy list, else NULL. */
static const struct value *
lazy_list(lua_State *L)
{
	const struct value *v;

	lua_rawgetp(L, 1, &lazy_src);
	v = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return v && v->kind == VAL_LIST ? v : NULL;
}

/* Pushes element k (1-based, in range) of lazy list 1 (whose value is
 * v) without filling the list: made once, then kept among the elements
 * read (not in the list itself, so that every write still fills it). */
static void
lazy_element(lua_State *L, const struct value *v, lua_Integer k)
{
	int rec;

	if (lua_rawgetp(L, 1, &lazy_elems) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, 1, &lazy_elems);
	}
	if (lua_rawgeti(L, -1, k) != LUA_TNIL) {
		lua_remove(L, -2);
		return;
	}
	lua_pop(L, 1);
	rec = lazy_rec(L, 0);
	push_lazy(L, rec, v->items[k - 1]);
	lua_remove(L, rec);
	lua_pushvalue(L, -1);
	lua_rawseti(L, -3, k);
	lua_remove(L, -2);
}

static int
lazy_index(lua_State *L)
{
	const struct value *v = lazy_list(L);
	lua_Integer k;

	/* a list's elements one by one (ipairs, t[i]): SITE.pages[i] on
	 * every page must not make every page's table */
	if (v && lua_isinteger(L, 2)) {
		k = lua_tointeger(L, 2);
		if (k < 1 || (size_t)k > v->n) {
			lua_pushnil(L);
			return 1;
		}
		lazy_element(L, v, k);
		return 1;
	}
	ast_fill(L, 1);
	lua_settop(L, 2);
	lua_gettable(L, 1);	/* a list's methods come with its metatable */
	return 1;
}

static int
lazy_newindex(lua_State *L)
{
	ast_fill(L, 1);
	lua_settop(L, 3);
	lua_rawset(L, 1);
	return 0;
}

static int
lazy_len(lua_State *L)
{
	const struct value *v = lazy_list(L);

	if (v) {
		lua_pushinteger(L, (lua_Integer)v->n);
		return 1;
	}
	ast_fill(L, 1);
	lua_pushinteger(L, (lua_Integer)lua_rawlen(L, 1));
	return 1;
}

static int
lazy_next(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 2);
	if (lua_next(L, 1))
		return 2;
	lua_pushnil(L);
	return 1;
}

static int
lazy_pairs(lua_State *L)
{
	ast_fill(L, 1);
	lua_pushcfunction(L, lazy_next);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

struct key {
	int		 isnum;
	lua_Integer	 num;
	const char	*str;
};

/* Orders table keys: integers ascending, then strings bytewise. */
static int
keycmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->isnum != y->isnum)
		return x->isnum ? -1 : 1;
	if (x->isnum)
		return x->num < y->num ? -1 : x->num > y->num;
	return strcmp(x->str, y->str);
}

/* ast_to_value with a depth limit (null beyond it). */
static struct value *
to_value(lua_State *L, int idx, int depth)
{
	struct value *v;
	struct key *keys = NULL;
	size_t nk = 0, i, n;
	char numbuf[64];
	lua_Number x;
	int islist = 1;

	idx = lua_absindex(L, idx);
	if (depth > 64 || !lua_checkstack(L, 8))
		return val_null();
	switch (lua_type(L, idx)) {
	case LUA_TBOOLEAN:
		return val_bool(lua_toboolean(L, idx));
	case LUA_TNUMBER:
		x = lua_tonumber(L, idx);
		v = val_num(x);
		if (lua_isinteger(L, idx))
			snprintf(numbuf, sizeof(numbuf), "%lld",
			    (long long)lua_tointeger(L, idx));
		else
			snprintf(numbuf, sizeof(numbuf), "%.14g", x);
		val_set_text(v, numbuf, strlen(numbuf));	/* not val_num's */
		return v;
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);

		return val_strn(s, len);
	}
	case LUA_TTABLE:
		break;
	default:
		return val_null();
	}
	/* raw iteration: proxies (frozen tables) are read through __pairs
	 * by the caller beforehand, so only plain (or lazy) tables get here */
	ast_fill(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		keys = xreallocarray(keys, nk + 1, sizeof(*keys));
		if (lua_type(L, -2) == LUA_TNUMBER && lua_isinteger(L, -2)) {
			keys[nk].isnum = 1;
			keys[nk].num = lua_tointeger(L, -2);
			keys[nk].str = NULL;
		} else if (lua_type(L, -2) == LUA_TSTRING) {
			keys[nk].isnum = 0;
			keys[nk].str = lua_tostring(L, -2);
			islist = 0;
		} else {
			lua_pop(L, 1);
			continue;
		}
		nk++;
		lua_pop(L, 1);
	}
	if (nk > 0)
		qsort(keys, nk, sizeof(*keys), keycmp);
	if (islist) {
		for (i = 0; i < nk; i++)
			if (keys[i].num != (lua_Integer)i + 1)
				islist = 0;
	}
	if (islist && nk > 0) {
		v = val_list();
		for (i = 0; i < nk; i++) {
			lua_rawgeti(L, idx, keys[i].num);
			val_push(v, to_value(L, -1, depth + 1));
			lua_pop(L, 1);
		}
	} else {
		v = val_map();
		n = nk;
		for (i = 0; i < n; i++) {
			if (keys[i].isnum) {
				snprintf(numbuf, sizeof(numbuf), "%lld",
				    (long long)keys[i].num);
				lua_rawgeti(L, idx, keys[i].num);
			} else {
				lua_pushstring(L, keys[i].str);
				lua_rawget(L, idx);
			}
			val_set(v, keys[i].isnum ? numbuf : keys[i].str,
			    to_value(L, -1, depth + 1));
			lua_pop(L, 1);
		}
	}
	free(keys);
	return v;
}

/* See luaast.h. */
struct value *
ast_to_value(lua_State *L, int idx)
{
	return to_value(L, idx, 0);
}
