/*
 * luawalk: the C fast path of topdown element filters (see luawalk.h).
 */
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm/node.h>
#include <lauxlib.h>
#include <lua.h>

#include "luaast.h"
#include "luawalk.h"

/* Exported by libcmark-gfm-extensions but declared in no public header. */
extern cmark_node_type CMARK_NODE_TABLE, CMARK_NODE_STRIKETHROUGH;

enum tag {
	T_STR, T_SPACE, T_SOFTBREAK, T_LINEBREAK, T_EMPH, T_STRONG,
	T_STRIKEOUT, T_CODE, T_LINK, T_IMAGE, T_RAWINLINE, T_SPAN,
	T_PARA, T_PLAIN, T_HEADER, T_CODEBLOCK, T_RAWBLOCK, T_BLOCKQUOTE,
	T_BULLETLIST, T_ORDEREDLIST, T_HR, T_DIV, T_TABLE,
	NTAGS,
	T_WHOLE = -1		/* always handed to Lua whole */
};

/* The element names, in enum tag order. */
static const char *const tag_names[NTAGS] = {
	"Str", "Space", "SoftBreak", "LineBreak", "Emph", "Strong",
	"Strikeout", "Code", "Link", "Image", "RawInline", "Span",
	"Para", "Plain", "Header", "CodeBlock", "RawBlock", "BlockQuote",
	"BulletList", "OrderedList", "HorizontalRule", "Div", "Table"
};

struct part {			/* a part of the page handed to Lua */
	cmark_node	*node;
	cmark_node	*last;		/* block 2: the run's last text node */
	int		 block;		/* 1: the block node itself; 0: its
					   inline children; 2: the text run
					   from node to last */
	int		 inlist;	/* block parts: see ast_build_blocks_into */
	int		 dirty;		/* must be built back (see prelude.lua) */
};

struct walk {
	lua_State	*L;
	int		 tebiki;	/* _TEBIKI */
	int		 F;		/* the filter table */
	int		 fn;		/* _TEBIKI.fast_walk */
	int		 res;		/* table: part k -> Lua list after the walk */
	int		 pat;		/* F.str_pattern, or 0 */
	int		 fn_text;	/* _TEBIKI.fast_text */
	int		 words;		/* text runs go to fast_text */
	char		 need[8];	/* bytes every match of it contains */
	size_t		 nneed;
	int		 need_digit;	/* ... and a digit */
	int		 prefilter;	/* need/need_digit are known */
	int		 match;		/* _TEBIKI.fast_match */
	char		 has[NTAGS];	/* F has a function for the element */
	char		 skip[NTAGS];	/* F.skip names it: passed over */
	struct part	*parts;		/* a userdata at stack index `store`,
					   so that a Lua error frees it */
	size_t		 nparts;
	size_t		 cap;
	int		 store;
	lua_Integer	 line;		/* _TEBIKI.line, as the Lua walker sets it */
};

/* See luawalk.h. */
int
lwk_tree_ok(cmark_node *root)
{
	cmark_iter *it = cmark_iter_new(root);
	cmark_event_type ev;
	cmark_node_type ty;
	int depth = 0, ok = 1;

	while (ok && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		ty = cmark_node_get_type(cmark_iter_get_node(it));
		if (ty == CMARK_NODE_FOOTNOTE_REFERENCE ||
		    ty == CMARK_NODE_FOOTNOTE_DEFINITION)
			ok = 0;
		if (ev == CMARK_EVENT_ENTER && cmark_node_first_child(
		    cmark_iter_get_node(it)) != NULL && ++depth > LWK_MAX_DEPTH)
			ok = 0;
		else if (ev == CMARK_EVENT_EXIT)
			depth--;
	}
	cmark_iter_free(it);
	return ok;
}

/* 1 when the list item `item` sits in a tight list. */
static int
in_tight_list(cmark_node *item)
{
	cmark_node *list = cmark_node_parent(item);

	return list && cmark_node_get_list_tight(list);
}

/* The element of block n (as luaast.c makes it), or T_WHOLE for blocks
 * whose round trip depends on more than themselves (tables, unknown). */
static int
block_tag(cmark_node *n)
{
	cmark_node *parent;

	switch ((int)cmark_node_get_type(n)) {
	case CMARK_NODE_PARAGRAPH:
		parent = cmark_node_parent(n);
		if (parent && cmark_node_get_type(parent) == CMARK_NODE_ITEM &&
		    in_tight_list(parent))
			return T_PLAIN;
		return T_PARA;
	case CMARK_NODE_HEADING:
		return T_HEADER;
	case CMARK_NODE_CODE_BLOCK:
		return T_CODEBLOCK;
	case CMARK_NODE_HTML_BLOCK:
		return T_RAWBLOCK;
	case CMARK_NODE_THEMATIC_BREAK:
		return T_HR;
	case CMARK_NODE_BLOCK_QUOTE:
		return T_BLOCKQUOTE;
	case CMARK_NODE_CUSTOM_BLOCK:
		return T_DIV;
	case CMARK_NODE_LIST:
		return cmark_node_get_list_type(n) == CMARK_ORDERED_LIST ?
		    T_ORDEREDLIST : T_BULLETLIST;
	default:
		if (cmark_node_get_type(n) == CMARK_NODE_TABLE)
			return T_TABLE;
		return T_WHOLE;
	}
}

/* Reads Lua pattern p for what every match must contain: the literal
 * bytes of its items that are neither optional nor repeatable from zero
 * (at most 8, into w->need) and whether a %d item is among them.  Returns
 * 0 (no prefilter) for what this simple reading does not cover: %b, %f,
 * back-references, malformed sets. */
static int
pat_needs(struct walk *w, const char *p)
{
	size_t i = 0, j;
	int lit, digit;
	char c;

	if (p[0] == '^')
		i++;
	while (p[i] != '\0') {
		c = p[i];
		if (c == '(' || c == ')') {
			i++;
			continue;
		}
		if (c == '$' && p[i + 1] == '\0')
			break;
		lit = -1;
		digit = 0;
		if (c == '%') {
			c = p[i + 1];
			if (c == '\0' || c == 'b' || c == 'f' ||
			    (c >= '0' && c <= '9'))
				return 0;
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
				digit = c == 'd';
			else
				lit = (unsigned char)c;
			i += 2;
		} else if (c == '[') {
			/* as Lua's classEnd: the first member may be ']' */
			j = i + 1;
			if (p[j] == '^')
				j++;
			do {
				if (p[j] == '\0')
					return 0;
				if (p[j++] == '%') {
					if (p[j] == '\0')
						return 0;
					j++;
				}
			} while (p[j] != ']');
			i = j + 1;
		} else {
			if (c != '.')
				lit = (unsigned char)c;
			i++;
		}
		c = p[i];
		if (c == '*' || c == '-' || c == '?') {
			i++;
			continue;
		}
		if (c == '+')
			i++;
		if (digit)
			w->need_digit = 1;
		if (lit >= 0 && w->nneed < sizeof(w->need) &&
		    memchr(w->need, lit, w->nneed) == NULL)
			w->need[w->nneed++] = (char)lit;
	}
	return 1;
}

/* 0 when no word of the text run from n on can match str_pattern: it
 * lacks a byte or the digit that every match contains (pat_needs); *np
 * is left on the run's last node then. */
static int
run_may_match(struct walk *w, cmark_node **np)
{
	cmark_node *n = *np;
	unsigned found = 0, all = (1u << w->nneed) - 1;
	int digit = !w->need_digit;
	const char *s;
	size_t k;

	for (;;) {
		s = cmark_node_get_literal(n);
		for (k = 0; s && k < w->nneed; k++)
			if (strchr(s, w->need[k]) != NULL)
				found |= 1u << k;
		for (; s && !digit && *s; s++)
			digit = *s >= '0' && *s <= '9';
		if (cmark_node_next(n) == NULL || cmark_node_get_type(
		    cmark_node_next(n)) != CMARK_NODE_TEXT)
			break;
		n = cmark_node_next(n);
	}
	if (found == all && digit)
		return 1;
	*np = n;
	return 0;
}

/* 1 when the Str function must see the text run starting at *np (the
 * adjacent text nodes, as one); *np is left on the run's last node.  With
 * str_pattern, only runs with a word that matches it. */
static int
run_needs(struct walk *w, cmark_node **np)
{
	lua_State *L = w->L;
	cmark_node *n = *np;
	int r, parts = 0, check = !w->has[T_SPACE] && w->has[T_STR] &&
	    w->pat != 0;

	if (check && w->prefilter && !run_may_match(w, np))
		return 0;
	if (check)
		lua_pushvalue(L, w->match);
	for (;;) {
		if (check) {
			lua_pushstring(L, cmark_node_get_literal(n) ?
			    cmark_node_get_literal(n) : "");
			if (parts++ > 0)
				lua_concat(L, 2);
		}
		if (cmark_node_next(n) == NULL || cmark_node_get_type(
		    cmark_node_next(n)) != CMARK_NODE_TEXT)
			break;
		n = cmark_node_next(n);
	}
	*np = n;
	if (!check)
		return w->has[T_SPACE] || w->has[T_STR];
	lua_pushvalue(L, w->pat);
	lua_call(L, 2, 1);
	r = lua_toboolean(w->L, -1);
	lua_pop(w->L, 1);
	return r;
}

static int	inlines_need(struct walk *, cmark_node *);


/* 1 when inline n, not a text node, or anything inside it could meet a
 * function of the filter; unknown inlines count. */
static int
node_needs(struct walk *w, cmark_node *n)
{
	cmark_node_type ty = cmark_node_get_type(n);
	int t;

	switch ((int)ty) {
	case CMARK_NODE_SOFTBREAK:
		t = T_SOFTBREAK;
		break;
	case CMARK_NODE_LINEBREAK:
		t = T_LINEBREAK;
		break;
	case CMARK_NODE_CODE:
		t = T_CODE;
		break;
	case CMARK_NODE_HTML_INLINE:
		t = T_RAWINLINE;
		break;
	case CMARK_NODE_EMPH:
		t = T_EMPH;
		break;
	case CMARK_NODE_STRONG:
		t = T_STRONG;
		break;
	case CMARK_NODE_LINK:
		t = T_LINK;
		break;
	case CMARK_NODE_IMAGE:
		t = T_IMAGE;
		break;
	case CMARK_NODE_CUSTOM_INLINE:
		t = T_SPAN;
		break;
	default:
		if (ty != CMARK_NODE_STRIKETHROUGH)
			return 1;
		t = T_STRIKEOUT;
		break;
	}
	if (w->skip[t])
		return 0;
	return w->has[t] || inlines_need(w, cmark_node_first_child(n));
}

/* 1 when an inline from n on (n and its next siblings, with everything
 * inside) could meet a function of the filter; unknown inlines count. */
static int
inlines_need(struct walk *w, cmark_node *n)
{
	for (; n; n = cmark_node_next(n)) {
		if (cmark_node_get_type(n) != CMARK_NODE_TEXT) {
			if (node_needs(w, n))
				return 1;
		} else if (run_needs(w, &n)) {
			return 1;
		}
	}
	return 0;
}

/* 1 when only text runs of the inlines from n on can meet a function
 * (Str and Space elements, at this level): then each run that needs it
 * can go to Lua alone, in order, instead of the whole list. */
static int
only_runs_need(struct walk *w, cmark_node *n)
{
	for (; n; n = cmark_node_next(n))
		if (cmark_node_get_type(n) != CMARK_NODE_TEXT &&
		    node_needs(w, n))
			return 0;
	return 1;
}

/* 1 when the list must go to Lua whole: a task item (its marker is a Str
 * of the first paragraph), or an item block that has a function or no
 * plain round trip (the list's tightness depends on the items' blocks). */
static int
list_whole(const struct walk *w, cmark_node *list)
{
	cmark_node *it, *c;
	int t;

	for (it = cmark_node_first_child(list); it; it = cmark_node_next(it)) {
		if (cmark_node_get_syntax_extension(it) != NULL &&
		    strcmp(cmark_node_get_type_string(it), "tasklist") == 0)
			return 1;
		for (c = cmark_node_first_child(it); c; c = cmark_node_next(c)) {
			t = block_tag(c);
			if (t == T_WHOLE || w->has[t])
				return 1;
		}
	}
	return 0;
}

/* Sets _TEBIKI.line to the walker's line. */
static void
put_line(struct walk *w)
{
	lua_pushinteger(w->L, w->line);
	lua_setfield(w->L, w->tebiki, "line");
}

/* Hands the list on top (made from `node`) to _TEBIKI.fast_walk and keeps
 * the result as the next part. */
static void
hand_over(struct walk *w, cmark_node *node, cmark_node *last, int block,
    int inlist)
{
	lua_State *L = w->L;
	struct part *np;
	int dirty;

	put_line(w);
	if (block == 3) {
		/* a text run as one string and its candidate words
		 * (_TEBIKI.fast_text) */
		lua_pushvalue(L, w->fn_text);
		lua_insert(L, -3);
		lua_pushvalue(L, w->F);
		lua_insert(L, -2);
		lua_call(L, 3, 2);
		block = 2;
	} else {
		lua_pushvalue(L, w->fn);
		lua_insert(L, -2);
		lua_pushstring(L, block == 1 ? "B" : "I");
		lua_pushvalue(L, w->F);
		lua_call(L, 3, 2);
	}
	dirty = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (w->nparts == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		np = lua_newuserdatauv(L, w->cap * sizeof(*np), 0);
		if (w->nparts)
			memcpy(np, w->parts, w->nparts * sizeof(*np));
		lua_replace(L, w->store);
		w->parts = np;
	}
	w->parts[w->nparts].node = node;
	w->parts[w->nparts].last = last;
	w->parts[w->nparts].block = block;
	w->parts[w->nparts].inlist = inlist;
	w->parts[w->nparts].dirty = dirty;
	w->nparts++;
	lua_rawseti(L, w->res, (lua_Integer)w->nparts);
	lua_getfield(L, w->tebiki, "line");
	if (lua_isinteger(L, -1))
		w->line = lua_tointeger(L, -1);
	lua_pop(L, 1);
}

/* The `inlist` of blocks directly under `parent`. */
static int
inlist_of(cmark_node *parent)
{
	if (cmark_node_get_type(parent) != CMARK_NODE_ITEM)
		return 0;
	return in_tight_list(parent) ? 1 : 2;
}

/* Walks a table without a Table or Plain function: the content of each
 * non-empty cell is a Plain (luaast.c), whose inlines are a part; rows in
 * order (the header row comes first, as in the Lua walker's head, then
 * bodies). */
static void
walk_table(struct walk *w, cmark_node *table)
{
	cmark_node *row, *cell;

	for (row = cmark_node_first_child(table); row;
	    row = cmark_node_next(row))
		for (cell = cmark_node_first_child(row); cell;
		    cell = cmark_node_next(cell))
			if (cmark_node_first_child(cell) &&
			    inlines_need(w, cmark_node_first_child(cell))) {
				ast_push_inline_list(w->L, w->tebiki, cell);
				hand_over(w, cell, NULL, 0, 0);
			}
}

/* 1 when word s[0..n) has every byte and the digit that each match of
 * str_pattern contains (pat_needs). */
static int
word_may_match(const struct walk *w, const char *s, size_t n)
{
	size_t k, i;
	int digit = !w->need_digit;

	for (k = 0; k < w->nneed; k++)
		if (memchr(s, w->need[k], n) == NULL)
			return 0;
	for (i = 0; !digit && i < n; i++)
		digit = s[i] >= '0' && s[i] <= '9';
	return digit;
}

/* For the text run first..last (its nodes' text as one string on top of
 * the stack): pushes the words that may match str_pattern as a list
 * {start, end, ...} (1-based, end exclusive, as the prelude's gmatch
 * "()[^ \t]+()" gives them) and returns how many, or pushes nothing and
 * returns 0. */
static int
push_candidates(struct walk *w)
{
	lua_State *L = w->L;
	size_t len, i = 0, j;
	const char *s = lua_tolstring(L, -1, &len);
	lua_Integer k = 0;

	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		for (j = i; j < len && s[j] != ' ' && s[j] != '\t'; j++)
			;
		if (j > i && word_may_match(w, s + i, j - i)) {
			if (k == 0)
				lua_createtable(L, 4, 0);
			lua_pushinteger(L, (lua_Integer)i + 1);
			lua_rawseti(L, -2, ++k);
			lua_pushinteger(L, (lua_Integer)j + 1);
			lua_rawseti(L, -2, ++k);
		}
		i = j;
	}
	return (int)(k / 2);
}

/* The last node of the text run that starts at n. */
static cmark_node *
run_end(cmark_node *n)
{
	while (cmark_node_next(n) != NULL &&
	    cmark_node_get_type(cmark_node_next(n)) == CMARK_NODE_TEXT)
		n = cmark_node_next(n);
	return n;
}

/* Hands each text run of block n's inlines that needs the filter to Lua
 * as a part of its own (only_runs_need). */
static void
walk_runs(struct walk *w, cmark_node *n)
{
	cmark_node *c, *last;

	for (c = cmark_node_first_child(n); c; c = cmark_node_next(c)) {
		if (cmark_node_get_type(c) != CMARK_NODE_TEXT)
			continue;
		if (w->words && w->prefilter) {
			/* the words that may match are found here, and only
			 * they go to the function (see fast_text) */
			last = run_end(c);
			ast_push_run_string(w->L, c, last);
			if (push_candidates(w) > 0)
				hand_over(w, c, last, 3, 0);
			else
				lua_pop(w->L, 1);
			c = last;
			continue;
		}
		last = c;
		if (run_needs(w, &last)) {
			if (w->words) {
				/* only its matching words go to Lua */
				ast_push_run_string(w->L, c, last);
				lua_pushnil(w->L);
				hand_over(w, c, last, 3, 0);
			} else {
				ast_push_text_run(w->L, w->tebiki, c, last);
				hand_over(w, c, last, 2, 0);
			}
		}
		c = last;
	}
}

/* Walks the blocks under `parent` in document order. */
static void
walk_blocks(struct walk *w, cmark_node *parent)
{
	cmark_node *n, *it;
	int t;

	luaL_checkstack(w->L, 10, "document nested too deeply");
	for (n = cmark_node_first_child(parent); n; n = cmark_node_next(n)) {
		if (cmark_node_get_start_line(n) > 0)
			w->line = cmark_node_get_start_line(n);
		t = block_tag(n);
		if (t != T_WHOLE && w->skip[t])
			continue;
		if (t == T_WHOLE || w->has[t] || ((t == T_BULLETLIST ||
		    t == T_ORDEREDLIST) && list_whole(w, n)) ||
		    (t == T_TABLE && w->has[T_PLAIN])) {
			ast_push_block_list(w->L, w->tebiki, n);
			hand_over(w, n, NULL, 1, inlist_of(parent));
			continue;
		}
		switch (t) {
		case T_PARA:
		case T_PLAIN:
		case T_HEADER:
			/* runs that need nothing are not handed over, so
			 * this also covers inlines that need nothing */
			if (only_runs_need(w, cmark_node_first_child(n))) {
				walk_runs(w, n);
				break;
			}
			ast_push_inline_list(w->L, w->tebiki, n);
			hand_over(w, n, NULL, 0, 0);
			break;
		case T_BLOCKQUOTE:
		case T_DIV:
			walk_blocks(w, n);
			break;
		case T_TABLE:
			walk_table(w, n);
			break;
		case T_BULLETLIST:
		case T_ORDEREDLIST:
			for (it = cmark_node_first_child(n); it;
			    it = cmark_node_next(it))
				walk_blocks(w, it);
			break;
		default:
			break;
		}
	}
}

/* Links n (unlinked) in front of `anchor`; by hand where cmark-gfm
 * refuses a shape its renderer handles (as luaast.c does). */
static void
link_before(cmark_node *anchor, cmark_node *n)
{
	if (cmark_node_insert_before(anchor, n))
		return;
	n->parent = anchor->parent;
	n->prev = anchor->prev;
	n->next = anchor;
	if (anchor->prev)
		anchor->prev->next = n;
	else if (anchor->parent)
		anchor->parent->first_child = n;
	anchor->prev = n;
}

/* Builds part k (its Lua list on top) back into the tree. */
static void
build_part(struct walk *w, const struct part *p, struct ast_build *b)
{
	cmark_node *holder, *c;

	if (p->block == 2) {
		/* a text run: built into a holder in front of it, whose
		 * children then replace the run's nodes */
		cmark_node *next, *end = cmark_node_next(p->last);

		holder = cmark_node_new(CMARK_NODE_CUSTOM_INLINE);
		link_before(p->node, holder);
		ast_build_inlines_into(w->L, -1, b, holder);
		while ((c = cmark_node_first_child(holder)) != NULL) {
			cmark_node_unlink(c);
			link_before(p->node, c);
		}
		cmark_node_free(holder);
		for (c = p->node; c != end; c = next) {
			next = cmark_node_next(c);
			cmark_node_free(c);
		}
	} else if (p->block) {
		/* built into a holder in the tree (so that an error frees it
		 * with the tree), then moved in front of the old block */
		holder = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK);
		link_before(p->node, holder);
		ast_build_blocks_into(w->L, -1, b, holder, p->inlist);
		while ((c = cmark_node_first_child(holder)) != NULL) {
			cmark_node_unlink(c);
			link_before(p->node, c);
		}
		cmark_node_free(holder);
		cmark_node_free(p->node);
	} else {
		while ((c = cmark_node_first_child(p->node)) != NULL)
			cmark_node_free(c);
		ast_build_inlines_into(w->L, -1, b, p->node);
	}
}

/* See luawalk.h. */
int
lwk_run(lua_State *L, int tebiki, int F, cmark_node *root,
    struct ast_build *b)
{
	struct walk ws, *w = &ws;
	size_t k;
	int i, changed, rebuilt = 0;

	memset(w, 0, sizeof(*w));
	w->L = L;
	w->tebiki = lua_absindex(L, tebiki);
	w->F = lua_absindex(L, F);
	/* F.skip is a set by now (prelude.lua skipset); a skipped element
	 * is kept as it is and not walked into, whatever its function */
	if (lua_getfield(L, w->F, "skip") == LUA_TTABLE)
		for (i = 0; i < NTAGS; i++) {
			w->skip[i] = lua_getfield(L, -1, tag_names[i]) !=
			    LUA_TNIL;
			lua_pop(L, 1);
		}
	lua_pop(L, 1);
	for (i = 0; i < NTAGS; i++) {
		if (w->skip[i])
			continue;
		w->has[i] = lua_getfield(L, w->F, tag_names[i]) != LUA_TNIL;
		lua_pop(L, 1);
	}
	lua_getfield(L, w->tebiki, "fast_walk");
	w->fn = lua_gettop(L);
	lua_getfield(L, w->tebiki, "fast_match");
	w->match = lua_gettop(L);
	lua_getfield(L, w->tebiki, "fast_text");
	w->fn_text = lua_gettop(L);
	if (lua_getfield(L, w->F, "str_pattern") == LUA_TSTRING) {
		w->pat = lua_gettop(L);
		w->prefilter = pat_needs(w, lua_tostring(L, w->pat));
		/* Str is the only function a text run can meet: its words
		 * that do not match the pattern need not be made at all */
		w->words = w->has[T_STR] && !w->has[T_SPACE];
	}
	lua_pushnil(L);
	w->store = lua_gettop(L);
	lua_newtable(L);
	w->res = lua_gettop(L);
	lua_getfield(L, w->tebiki, "fast_begin");
	lua_call(L, 0, 0);
	walk_blocks(w, root);
	/* as the Lua walker: nothing returned, nothing changes (in-place
	 * changes are dropped then) */
	lua_getfield(L, w->tebiki, "fast_changed");
	lua_call(L, 0, 1);
	changed = lua_toboolean(L, -1);
	lua_pop(L, 1);
	/* in document order, so that notes made by filters are numbered
	 * as the Lua walker's full rebuild numbers them */
	for (k = 0; changed && k < w->nparts; k++) {
		if (!w->parts[k].dirty)
			continue;
		lua_rawgeti(L, w->res, (lua_Integer)k + 1);
		build_part(w, &w->parts[k], b);
		lua_pop(L, 1);
		rebuilt = 1;
	}
	put_line(w);
	lua_settop(L, w->fn - 1);
	return rebuilt;
}
