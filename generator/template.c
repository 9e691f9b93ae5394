/*
 * template: Mustache, compiled to a flat list of ops, rendered against a
 * context stack of values.
 *
 * Compilation has three passes over one template:
 *   1. tokenize: text (split into one token per source line) and tags,
 *      following set-delimiter tags, matching open and close tags;
 *   2. standalone: lines holding only whitespace and non-output tags lose
 *      their whitespace and newline; partial / parent tags remember the
 *      indentation, block tags their "intrinsic" indentation;
 *   3. build: the surviving tokens become ops; a container op (section,
 *      inverted, parent, block) is followed by its children and records
 *      the index past its last child in `end`.
 *
 * Rendering walks the ops.  Indentation of standalone partials and of
 * blocks is applied to template lines (never inside interpolated values):
 * a frame says which indentation to strip from the start of source lines
 * (a block's indentation at its definition) and how much of the state's
 * indentation stack to add at the start of output lines.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "template.h"
#include "util.h"
#include "value.h"

/* ------------------------------------------------------------------ */
/* Data                                                                */
/* ------------------------------------------------------------------ */

enum op_kind {
	TMPL_OP_TEXT,		/* literal text (at most one source line) */
	TMPL_OP_VAR,		/* {{x}}: escaped */
	TMPL_OP_RAW,		/* {{{x}}}, {{&x}}: not escaped */
	TMPL_OP_SECTION,	/* {{#x}}..{{/x}} */
	TMPL_OP_INVERTED,	/* {{^x}}..{{/x}} */
	TMPL_OP_PARTIAL,	/* {{>x}} */
	TMPL_OP_PARENT,		/* {{<x}}..{{/x}} */
	TMPL_OP_BLOCK		/* {{$x}}..{{/x}} */
};

struct tmpl;

struct op {
	enum op_kind	 kind;
	int		 line, col;	/* 1-based, of the tag or text */
	const char	*s;		/* text, or the name; slice of src */
	size_t		 len;
	size_t		 end;		/* containers: index past the children */
	int		 bol;		/* TEXT: starts a source line */
	int		 dynamic;	/* PARTIAL, PARENT: name is *dotted */
	const char	*ind;		/* PARTIAL, PARENT: standalone indent;
					   BLOCK: intrinsic indent */
	size_t		 indlen;
	const struct tmpl *target;	/* PARTIAL, PARENT: linked, or NULL */
};

struct tmpl {
	char		*name;
	char		*display;	/* file name for diagnostics */
	char		*src;		/* owned text; ops point into it */
	size_t		 len;
	struct op	*ops;
	size_t		 nops;
	int		 state;		/* 0 new, 1 compiled, -1 has errors */
};

struct tmpl_set {
	struct tmpl	**t;		/* sorted by name */
	size_t		  n, cap;
	int		  strict;
};

/* ------------------------------------------------------------------ */
/* The set                                                             */
/* ------------------------------------------------------------------ */

/* Compares a slice with a NUL-terminated name, like strcmp. */
static int
slicecmp(const char *s, size_t len, const char *name)
{
	size_t nl = strlen(name);
	int c = memcmp(s, name, len < nl ? len : nl);

	if (c != 0)
		return c;
	return len < nl ? -1 : len > nl ? 1 : 0;
}

/* Index of the first template whose name is >= the slice. */
static size_t
lower_bound(const struct tmpl_set *set, const char *s, size_t len)
{
	size_t lo = 0, hi = set->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (slicecmp(s, len, set->t[mid]->name) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Borrowed template called s[0..len), or NULL. */
static const struct tmpl *
find(const struct tmpl_set *set, const char *s, size_t len)
{
	size_t i = lower_bound(set, s, len);

	if (i < set->n && slicecmp(s, len, set->t[i]->name) == 0)
		return set->t[i];
	return NULL;
}

struct tmpl_set *
tmpl_set_new(void)
{
	struct tmpl_set *set = xcalloc(1, sizeof(*set));

	set->strict = 1;
	return set;
}

void
tmpl_set_strict(struct tmpl_set *set, int strict)
{
	set->strict = strict;
}

void
tmpl_set_free(struct tmpl_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++) {
		free(set->t[i]->name);
		free(set->t[i]->display);
		free(set->t[i]->src);
		free(set->t[i]->ops);
		free(set->t[i]);
	}
	free(set->t);
	free(set);
}

int
tmpl_exists(const struct tmpl_set *set, const char *name)
{
	return find(set, name, strlen(name)) != NULL;
}

/* Inserts a template (takes the strings); a taken name keeps the old
 * one and frees the new strings. */
static void
insert(struct tmpl_set *set, char *name, char *display, char *src,
    size_t len)
{
	size_t i = lower_bound(set, name, strlen(name));
	struct tmpl *t;

	if (i < set->n && strcmp(set->t[i]->name, name) == 0) {
		free(name);
		free(display);
		free(src);
		return;
	}
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 16;
		set->t = xreallocarray(set->t, set->cap, sizeof(*set->t));
	}
	memmove(set->t + i + 1, set->t + i, (set->n - i) * sizeof(*set->t));
	t = xcalloc(1, sizeof(*t));
	t->name = name;
	t->display = display;
	t->src = src;
	t->len = len;
	set->t[i] = t;
	set->n++;
}

int
tmpl_set_add_string(struct tmpl_set *set, const char *name, const char *text,
    size_t len, const char *display, struct diag *d)
{
	char *src;

	if (name == NULL || *name == '\0')
		return diag_err(d, display, 0, 0, "empty template name");
	src = xmalloc(len + 1);
	memcpy(src, text, len);
	src[len] = '\0';
	insert(set, xstrdup(name), xstrdup(display ? display : name), src,
	    len);
	return 0;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the templates under dir/rel (rel "" at the top); 0 or -1. */
static int
add_tree(struct tmpl_set *set, const char *dir, const char *rel,
    const char *display, struct diag *d)
{
	char *path = NULL, **names = NULL, *sub, *full, *disp;
	size_t n = 0, cap = 0, i, nl;
	struct dirent *de;
	struct buf b = BUF_INIT;
	DIR *dp = NULL;
	int rc = -1;

	path = *rel ? util_path_join(dir, rel) : xstrdup(dir);
	if ((dp = opendir(path)) == NULL) {
		diag_err(d, NULL, 0, 0, "cannot open directory '%s': %s",
		    path, strerror(errno));
		goto out;
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	qsort(names, n, sizeof(*names), cmpstr);
	for (i = 0; i < n; i++) {
		sub = *rel ? util_path_join(rel, names[i]) : xstrdup(names[i]);
		full = util_path_join(dir, sub);
		if (util_is_dir(full)) {
			if (add_tree(set, dir, sub, display, d) == -1) {
				free(sub);
				free(full);
				goto out;
			}
		} else if (util_has_suffix(names[i], ".mustache")) {
			disp = util_path_join(display, sub);
			buf_reset(&b);
			if (util_read_file(full, &b) == -1) {
				diag_err(d, disp, 0, 0, "cannot read '%s': %s",
				    disp, strerror(errno));
				free(disp);
				free(sub);
				free(full);
				goto out;
			}
			nl = strlen(sub) - strlen(".mustache");
			sub[nl] = '\0';
			nl = b.len;
			insert(set, xstrdup(sub), disp, buf_detach(&b), nl);
		}
		free(sub);
		free(full);
	}
	rc = 0;
out:
	if (dp)
		closedir(dp);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(path);
	buf_release(&b);
	return rc;
}

int
tmpl_set_add_dir(struct tmpl_set *set, const char *dir, const char *display,
    struct diag *d)
{
	return add_tree(set, dir, "", display ? display : dir, d);
}

/* ------------------------------------------------------------------ */
/* Compilation                                                         */
/* ------------------------------------------------------------------ */

struct tok {
	int		 type;		/* 0 text, 'v' variable, or the sigil */
	const char	*s;		/* text, or the trimmed name */
	size_t		 len;
	int		 line, col;
	int		 bol;		/* text: starts a source line */
	int		 nl;		/* text: ends with a newline */
	int		 dead;		/* removed by the standalone pass */
	int		 closes;	/* '/': the sigil of its open tag */
	size_t		 match;		/* open tags: index of the close */
	const char	*ind;
	size_t		 indlen;
};

struct comp {
	const struct tmpl *t;
	struct diag	*d;
	struct tok	*tk;
	size_t		 n, cap;
	size_t		 pos;		/* cursor: byte offset, line, col */
	int		 line, col;
};

/* Moves the cursor to byte `to`, counting lines and code points. */
static void
advance(struct comp *c, size_t to)
{
	const unsigned char *s = (const unsigned char *)c->t->src;

	for (; c->pos < to; c->pos++) {
		if (s[c->pos] == '\n') {
			c->line++;
			c->col = 1;
		} else if ((s[c->pos] & 0xC0) != 0x80)
			c->col++;
	}
}

/* Appends a token at the cursor and returns it. */
static struct tok *
tok_new(struct comp *c, int type, const char *s, size_t len)
{
	struct tok *k;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->tk = xreallocarray(c->tk, c->cap, sizeof(*c->tk));
	}
	k = &c->tk[c->n++];
	memset(k, 0, sizeof(*k));
	k->type = type;
	k->s = s;
	k->len = len;
	k->line = c->line;
	k->col = c->col;
	return k;
}

/* Adds the text src[from..to) as one token per line. */
static void
add_text(struct comp *c, size_t from, size_t to)
{
	const char *src = c->t->src, *nl;
	struct tok *k;
	size_t end;

	while (from < to) {
		nl = memchr(src + from, '\n', to - from);
		end = nl ? (size_t)(nl - src) + 1 : to;
		advance(c, from);
		k = tok_new(c, 0, src + from, end - from);
		k->bol = from == 0 || src[from - 1] == '\n';
		k->nl = nl != NULL;
		from = end;
	}
}

/* First occurrence of needle in hay[0..hlen), or NULL. */
static const char *
search(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	const char *p = hay, *e = hay + hlen;

	if (nlen == 0 || hlen < nlen)
		return NULL;
	while ((p = memchr(p, needle[0], (size_t)(e - p) - nlen + 1)) != NULL) {
		if (memcmp(p, needle, nlen) == 0)
			return p;
		if (++p > e - nlen)
			break;
	}
	return NULL;
}

static int
is_space(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Parses "=<open> <close>=" content; 0 or -1. */
static int
set_delims(const char *s, size_t len, const char **o, size_t *ol,
    const char **cl, size_t *cll)
{
	size_t i = 0, a, b;

	while (i < len && is_space(s[i]))
		i++;
	a = i;
	while (i < len && !is_space(s[i]))
		i++;
	*o = s + a;
	*ol = i - a;
	while (i < len && is_space(s[i]))
		i++;
	b = i;
	while (i < len && !is_space(s[i]))
		i++;
	*cl = s + b;
	*cll = i - b;
	while (i < len && is_space(s[i]))
		i++;
	if (*ol == 0 || *cll == 0 || i != len ||
	    memchr(*o, '=', *ol) || memchr(*cl, '=', *cll))
		return -1;
	return 0;
}

/* Pass 1: tokens, matched open and close tags.  0 or -1 (reported). */
static int
tokenize(struct comp *c)
{
	const char *src = c->t->src, *o = "{{", *cl = "}}", *p, *e, *name;
	const char *closer, *no, *nc;
	size_t len = c->t->len, ol = 2, cll = 2, pos = 0, q, nlen, clen;
	size_t *stk = NULL, depth = 0, cap = 0, nno, nnc, ti;
	int type, rc = -1, nest_err = 0;
	char buf3[64];
	struct tok *k, *op;

	while (pos < len) {
		p = search(src + pos, len - pos, o, ol);
		q = p ? (size_t)(p - src) : len;
		add_text(c, pos, q);
		if (p == NULL)
			break;
		advance(c, q);
		q += ol;
		type = q < len ? (unsigned char)src[q] : 0;
		if (type && strchr("#^/!><$=&{", type))
			q++;
		else
			type = 'v';
		closer = cl;
		clen = cll;
		if (type == '{' || type == '=') {
			if (cll + 1 > sizeof(buf3))
				clen = 0;
			else {
				buf3[0] = type == '{' ? '}' : '=';
				memcpy(buf3 + 1, cl, cll);
				closer = buf3;
				clen = cll + 1;
			}
		}
		e = clen ? search(src + q, len - q, closer, clen) : NULL;
		if (e == NULL) {
			diag_err(c->d, c->t->display, c->line, c->col,
			    "unclosed tag, expected '%.*s'", (int)clen,
			    closer);
			goto out;
		}
		name = src + q;
		nlen = (size_t)(e - name);
		while (nlen && is_space(*name)) {
			name++;
			nlen--;
		}
		while (nlen && is_space(name[nlen - 1]))
			nlen--;
		if (type == '=') {
			if (set_delims(name, nlen, &no, &nno, &nc, &nnc) == -1) {
				diag_err(c->d, c->t->display, c->line, c->col,
				    "invalid delimiters '%.*s'", (int)nlen,
				    name);
				goto out;
			}
			o = no;
			ol = nno;
			cl = nc;
			cll = nnc;
		} else if (type != '!' && nlen == 0) {
			diag_err(c->d, c->t->display, c->line, c->col,
			    "empty tag name");
			goto out;
		}
		k = tok_new(c, type, name, nlen);
		ti = c->n - 1;
		if (type == '#' || type == '^' || type == '<' || type == '$') {
			if (depth == TMPL_MAX_NEST && !nest_err) {
				nest_err = 1;
				diag_err(c->d, c->t->display, k->line, k->col,
				    "sections nested deeper than %d",
				    TMPL_MAX_NEST);
			}
			if (depth == cap) {
				cap = cap ? cap * 2 : 32;
				stk = xreallocarray(stk, cap, sizeof(*stk));
			}
			stk[depth++] = ti;
		} else if (type == '/') {
			if (depth == 0) {
				diag_err(c->d, c->t->display, k->line, k->col,
				    "closing tag '%.*s' without an open "
				    "section", (int)nlen, name);
				goto out;
			}
			op = &c->tk[stk[depth - 1]];
			if (op->len != nlen || memcmp(op->s, name, nlen) != 0) {
				diag_err(c->d, c->t->display, k->line, k->col,
				    "closing tag '%.*s' does not match '%.*s' "
				    "opened at %d:%d", (int)nlen, name,
				    (int)op->len, op->s, op->line, op->col);
				goto out;
			}
			k->closes = op->type;
			op->match = ti;
			depth--;
		}
		pos = (size_t)(e - src) + clen;
		advance(c, pos);
	}
	if (depth > 0) {
		op = &c->tk[stk[depth - 1]];
		diag_err(c->d, c->t->display, op->line, op->col,
		    "unclosed section '%.*s'", (int)op->len, op->s);
		goto out;
	}
	rc = nest_err ? -1 : 0;
out:
	free(stk);
	return rc;
}

/* 1 when a text token is blanks plus, optionally, its line ending. */
static int
blank(const struct tok *k)
{
	size_t i, n = k->len;

	if (k->nl) {
		n--;
		if (n && k->s[n - 1] == '\r')
			n--;
	}
	for (i = 0; i < n; i++)
		if (k->s[i] != ' ' && k->s[i] != '\t')
			return 0;
	return 1;
}

/* Pass 2: standalone lines.  Tokens [i, j) form one source line. */
static void
standalone_line(struct comp *c, size_t i, size_t j)
{
	struct tok *tk = c->tk, *k;
	const char *w = "", *p, *e = c->t->src + c->t->len;
	size_t x, ntags = 0, wlen = 0, first = j;
	int ok = 1, multi_ok = 1;

	for (x = i; x < j; x++) {
		k = &tk[x];
		if (k->type == 0) {
			if (!blank(k))
				ok = 0;
			continue;
		}
		if (first == j)
			first = x;
		ntags++;
		if (!strchr("#^/!><$=", k->type))
			ok = 0;
		if (!(k->type == '<' || k->type == '$' || (k->type == '/' &&
		    (k->closes == '<' || k->closes == '$'))))
			multi_ok = 0;
		if (k->type == '$' && k->match < j)
			multi_ok = 0;
	}
	if (tk[i].type == 0 && !tk[i].nl) {
		w = tk[i].s;
		wlen = tk[i].len;
	}
	if (ok && (ntags == 1 || (ntags > 1 && multi_ok))) {
		for (x = i; x < j; x++)
			if (tk[x].type == 0)
				tk[x].dead = 1;
		if (tk[first].type == '>' || tk[first].type == '<') {
			tk[first].ind = w;
			tk[first].indlen = wlen;
		}
		/* A block opened on a standalone line takes the indentation
		 * of the line after it. */
		for (x = i; x < j; x++) {
			if (tk[x].type != '$')
				continue;
			k = &tk[j - 1];
			if (k->type == 0 && k->nl && k->s + k->len < e) {
				p = k->s + k->len;
				while (p < e && (*p == ' ' || *p == '\t'))
					p++;
				tk[x].ind = k->s + k->len;
				tk[x].indlen = (size_t)(p - tk[x].ind);
			} else {
				tk[x].ind = w;
				tk[x].indlen = wlen;
			}
		}
		return;
	}
	/* Inline block: indented by the blanks before it, if only those. */
	for (x = i; x < j; x++) {
		if (tk[x].type != '$')
			continue;
		if (x == i + 1 && tk[i].type == 0 && blank(&tk[i]) &&
		    !tk[i].nl) {
			tk[x].ind = tk[i].s;
			tk[x].indlen = tk[i].len;
		}
	}
}

static void
standalone(struct comp *c)
{
	size_t i = 0, j;

	while (i < c->n) {
		for (j = i; j < c->n; j++)
			if (c->tk[j].type == 0 && c->tk[j].nl) {
				j++;
				break;
			}
		standalone_line(c, i, j);
		i = j;
	}
}

/* Pass 3: ops from the surviving tokens. */
static void
build(struct comp *c, struct tmpl *t)
{
	size_t i, n = 0, cap = 16, *stk, depth = 0;
	struct tok *k;
	struct op *o;

	stk = xreallocarray(NULL, c->n + 1, sizeof(*stk));
	t->ops = xreallocarray(NULL, cap, sizeof(*t->ops));
	for (i = 0; i < c->n; i++) {
		k = &c->tk[i];
		if (k->dead || k->type == '!' || k->type == '=' ||
		    (k->type == 0 && k->len == 0))
			continue;
		if (k->type == '/') {
			t->ops[stk[--depth]].end = n;
			continue;
		}
		if (n == cap) {
			cap *= 2;
			t->ops = xreallocarray(t->ops, cap, sizeof(*t->ops));
		}
		o = &t->ops[n];
		memset(o, 0, sizeof(*o));
		o->line = k->line;
		o->col = k->col;
		o->s = k->s;
		o->len = k->len;
		o->bol = k->bol;
		o->ind = k->ind ? k->ind : "";
		o->indlen = k->indlen;
		switch (k->type) {
		case 0:
			o->kind = TMPL_OP_TEXT;
			break;
		case 'v':
			o->kind = TMPL_OP_VAR;
			break;
		case '&':
		case '{':
			o->kind = TMPL_OP_RAW;
			break;
		case '#':
			o->kind = TMPL_OP_SECTION;
			break;
		case '^':
			o->kind = TMPL_OP_INVERTED;
			break;
		case '$':
			o->kind = TMPL_OP_BLOCK;
			break;
		case '>':
		case '<':
			o->kind = k->type == '>' ? TMPL_OP_PARTIAL :
			    TMPL_OP_PARENT;
			if (o->len > 1 && o->s[0] == '*') {
				o->dynamic = 1;
				o->s++;
				o->len--;
				while (o->len && is_space(*o->s)) {
					o->s++;
					o->len--;
				}
			}
			break;
		}
		if (k->type == '#' || k->type == '^' || k->type == '<' ||
		    k->type == '$')
			stk[depth++] = n;
		n++;
	}
	t->nops = n;
	free(stk);
}

/* Compiles one template; 0 or -1 (reported). */
static int
compile(struct tmpl *t, struct diag *d)
{
	struct comp c;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	c.t = t;
	c.d = d;
	c.line = 1;
	c.col = 1;
	if (tokenize(&c) == -1)
		goto out;
	standalone(&c);
	build(&c, t);
	rc = 0;
out:
	free(c.tk);
	return rc;
}

/* Resolves static partial and parent names of t; 0 or -1 (reported). */
static int
link_names(const struct tmpl_set *set, struct tmpl *t, struct diag *d)
{
	size_t i;
	struct op *o;
	int rc = 0;

	for (i = 0; i < t->nops; i++) {
		o = &t->ops[i];
		if ((o->kind != TMPL_OP_PARTIAL && o->kind != TMPL_OP_PARENT) ||
		    o->dynamic)
			continue;
		o->target = find(set, o->s, o->len);
		if (o->target == NULL && set->strict)
			rc = diag_err(d, t->display, o->line, o->col,
			    "unknown %s '%.*s'", o->kind == TMPL_OP_PARTIAL ?
			    "partial" : "parent template", (int)o->len, o->s);
	}
	return rc;
}

int
tmpl_set_compile(struct tmpl_set *set, struct diag *d)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < set->n; i++) {
		if (set->t[i]->state != 0)
			continue;
		set->t[i]->state = compile(set->t[i], d) == 0 ? 2 : -1;
	}
	for (i = 0; i < set->n; i++) {
		if (set->t[i]->state == 2)
			set->t[i]->state =
			    link_names(set, set->t[i], d) == 0 ? 1 : -1;
		if (set->t[i]->state == -1)
			rc = -1;
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */
/* ------------------------------------------------------------------ */

/* A block override in force: the block op `op` of template `t`. */
struct ovr {
	const struct tmpl	*t;
	const struct op		*op;
	const struct ovr	*next;	/* towards the outermost */
};

struct frame {
	const char		*strip;	/* removed from source line starts */
	size_t			 striplen;
	size_t			 addlen;	/* prefix of st->ind to add */
	const struct ovr	*ovr;
};

struct rstate {
	const struct tmpl_set	*set;
	struct buf		*out;
	struct diag		*d;
	const struct value	**stk;	/* context stack, top last */
	size_t			  n, cap;
	struct buf		  ind;	/* indentation stack */
	int			  at_bol;
	int			  depth;
};

static int render(struct rstate *, const struct tmpl *, size_t, size_t,
    const struct frame *);

static void
push(struct rstate *st, const struct value *v)
{
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 16;
		st->stk = xreallocarray(st->stk, st->cap, sizeof(*st->stk));
	}
	st->stk[st->n++] = v;
}

/* Borrowed member s[0..len) of a map, or item s (all digits) of a list
 * ("list.0" is the first item), or NULL. */
static const struct value *
member(const struct value *map, const char *s, size_t len)
{
	size_t i, idx = 0;

	if (map && map->kind == VAL_LIST && len > 0 && len < 10) {
		for (i = 0; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return NULL;
			idx = idx * 10 + (size_t)(s[i] - '0');
		}
		return idx < map->n ? map->items[idx] : NULL;
	}
	if (map == NULL || map->kind != VAL_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (map->keys[i]->len == len &&
		    memcmp(map->keys[i]->str, s, len) == 0)
			return map->items[i];
	return NULL;
}

/* Resolves a (dotted) name against the context stack; borrowed or NULL. */
static const struct value *
lookup(const struct rstate *st, const char *s, size_t len)
{
	const struct value *v = NULL;
	const char *dot, *e = s + len;
	size_t k;

	if (len == 1 && *s == '.')
		return st->n ? st->stk[st->n - 1] : NULL;
	dot = memchr(s, '.', len);
	if (dot == NULL)
		dot = e;
	for (k = st->n; k-- > 0;)
		if ((v = member(st->stk[k], s, (size_t)(dot - s))) != NULL)
			break;
	while (v && dot < e) {
		s = dot + 1;
		if ((dot = memchr(s, '.', (size_t)(e - s))) == NULL)
			dot = e;
		v = member(v, s, (size_t)(dot - s));
	}
	return v;
}

/* Writes the pending indentation if the output is at a line start. */
static void
pend_indent(struct rstate *st, const struct frame *fr)
{
	if (st->at_bol) {
		buf_put(st->out, st->ind.ptr, fr->addlen);
		st->at_bol = 0;
	}
}

static void
emit_text(struct rstate *st, const struct frame *fr, const struct op *o)
{
	const char *p = o->s, *e = o->s + o->len, *nl, *q;
	int srcbol = o->bol;
	size_t k;

	while (p < e) {
		if (srcbol && fr->striplen) {
			for (k = 0; k < fr->striplen && p + k < e &&
			    p[k] == fr->strip[k]; k++)
				;
			p += k;
		}
		nl = memchr(p, '\n', (size_t)(e - p));
		q = nl ? nl + 1 : e;
		if (q > p) {
			pend_indent(st, fr);
			buf_put(st->out, p, (size_t)(q - p));
		}
		if (nl)
			st->at_bol = 1;
		srcbol = 1;
		p = q;
	}
}

/* Pushes `ind` minus the frame's strip prefix onto the indentation
 * stack; returns the new frame's addlen. */
static size_t
push_indent(struct rstate *st, const struct frame *fr, const char *ind,
    size_t len)
{
	size_t k = 0;

	while (k < fr->striplen && k < len && ind[k] == fr->strip[k])
		k++;
	buf_truncate(&st->ind, fr->addlen);
	buf_put(&st->ind, ind + k, len - k);
	return st->ind.len;
}

/* The template a partial or parent op names, or NULL. */
static const struct tmpl *
target(const struct rstate *st, const struct op *o)
{
	const struct value *v;
	const char *s;

	if (!o->dynamic)
		return o->target;
	v = lookup(st, o->s, o->len);
	if ((s = val_cstr(v)) == NULL)
		return NULL;
	return find(st->set, s, strlen(s));
}

/* Counts one level of nesting; -1 (reported) past TMPL_MAX_DEPTH. */
static int
enter(struct rstate *st, const struct tmpl *t, const struct op *o)
{
	if (++st->depth > TMPL_MAX_DEPTH)
		return diag_err(st->d, t->display, o->line, o->col,
		    "template recursion deeper than %d at '%.*s'",
		    TMPL_MAX_DEPTH, (int)o->len, o->s);
	return 0;
}

/* Renders a partial / parent op (with the overrides `ovr`). */
static int
include(struct rstate *st, const struct tmpl *t, const struct op *o,
    const struct frame *fr, const struct ovr *ovr)
{
	const struct tmpl *tp = target(st, o);
	struct frame nf;
	int rc;

	if (tp == NULL || tp->state != 1)
		return 0;
	if (enter(st, t, o) == -1)
		return -1;
	nf.strip = "";
	nf.striplen = 0;
	nf.addlen = push_indent(st, fr, o->ind, o->indlen);
	nf.ovr = ovr;
	rc = render(st, tp, 0, tp->nops, &nf);
	buf_truncate(&st->ind, fr->addlen);
	st->depth--;
	return rc;
}

/* Index of the op after op j and its children. */
static size_t
next_sibling(const struct tmpl *t, size_t j)
{
	switch (t->ops[j].kind) {
	case TMPL_OP_SECTION:
	case TMPL_OP_INVERTED:
	case TMPL_OP_PARENT:
	case TMPL_OP_BLOCK:
		return t->ops[j].end;
	default:
		return j + 1;
	}
}

/* Renders a parent op: its direct blocks override the parent's. */
static int
parent(struct rstate *st, const struct tmpl *t, size_t i,
    const struct frame *fr)
{
	const struct op *o = &t->ops[i];
	struct ovr *nodes;
	const struct ovr *head = fr->ovr;
	size_t j, n = 0;
	int rc;

	for (j = i + 1; j < o->end; j = next_sibling(t, j))
		if (t->ops[j].kind == TMPL_OP_BLOCK)
			n++;
	nodes = xcalloc(n + 1, sizeof(*nodes));
	n = 0;
	for (j = i + 1; j < o->end; j = next_sibling(t, j)) {
		if (t->ops[j].kind != TMPL_OP_BLOCK)
			continue;
		nodes[n].t = t;
		nodes[n].op = &t->ops[j];
		nodes[n].next = head;
		head = &nodes[n++];
	}
	rc = include(st, t, o, fr, head);
	free(nodes);
	return rc;
}

/* Renders a block: the outermost override of its name, or its own
 * content. */
static int
block(struct rstate *st, const struct tmpl *t, size_t i,
    const struct frame *fr)
{
	const struct op *o = &t->ops[i], *bo = o;
	const struct tmpl *bt = t;
	const struct ovr *v;
	struct frame nf;
	int rc, deeper = 0;

	for (v = fr->ovr; v; v = v->next)
		if (v->op->len == o->len && memcmp(v->op->s, o->s, o->len) == 0) {
			bt = v->t;
			bo = v->op;
		}
	if (bo != o) {
		if (enter(st, t, o) == -1)
			return -1;
		deeper = 1;
	}
	nf.strip = bo->ind;
	nf.striplen = bo->indlen;
	nf.addlen = push_indent(st, fr, o->ind, o->indlen);
	nf.ovr = fr->ovr;
	rc = render(st, bt, (size_t)(bo - bt->ops) + 1, bo->end, &nf);
	buf_truncate(&st->ind, fr->addlen);
	st->depth -= deeper;
	return rc;
}

/* Renders ops [from, to) of t. */
static int
render(struct rstate *st, const struct tmpl *t, size_t from, size_t to,
    const struct frame *fr)
{
	const struct value *v;
	const struct op *o;
	const char *s;
	size_t i, k, len;

	for (i = from; i < to; i++) {
		o = &t->ops[i];
		switch (o->kind) {
		case TMPL_OP_TEXT:
			emit_text(st, fr, o);
			break;
		case TMPL_OP_VAR:
		case TMPL_OP_RAW:
			v = lookup(st, o->s, o->len);
			if ((s = val_cstr(v)) == NULL)
				break;
			len = v->kind == VAL_BOOL ? strlen(s) : v->len;
			if (len == 0)
				break;
			pend_indent(st, fr);
			if (o->kind == TMPL_OP_VAR)
				buf_put_html(st->out, s, len);
			else
				buf_put(st->out, s, len);
			break;
		case TMPL_OP_SECTION:
			v = lookup(st, o->s, o->len);
			if (v && v->kind == VAL_LIST) {
				for (k = 0; k < v->n; k++) {
					push(st, v->items[k]);
					if (render(st, t, i + 1, o->end, fr) == -1)
						return -1;
					st->n--;
				}
			} else if (val_truthy(v)) {
				push(st, v);
				if (render(st, t, i + 1, o->end, fr) == -1)
					return -1;
				st->n--;
			}
			i = o->end - 1;
			break;
		case TMPL_OP_INVERTED:
			v = lookup(st, o->s, o->len);
			if (!val_truthy(v) &&
			    render(st, t, i + 1, o->end, fr) == -1)
				return -1;
			i = o->end - 1;
			break;
		case TMPL_OP_PARTIAL:
			if (include(st, t, o, fr, fr->ovr) == -1)
				return -1;
			break;
		case TMPL_OP_PARENT:
			if (parent(st, t, i, fr) == -1)
				return -1;
			i = o->end - 1;
			break;
		case TMPL_OP_BLOCK:
			if (block(st, t, i, fr) == -1)
				return -1;
			i = o->end - 1;
			break;
		}
	}
	return 0;
}

int
tmpl_render(const struct tmpl_set *set, const char *name,
    const struct value *ctx, struct buf *out, struct diag *d)
{
	const struct tmpl *t = find(set, name, strlen(name));
	struct rstate st;
	struct frame fr;
	int rc;

	if (t == NULL)
		return diag_err(d, NULL, 0, 0, "unknown template '%s'", name);
	if (t->state != 1)
		return diag_err(d, t->display, 0, 0, "template '%s' %s", name,
		    t->state == 0 ? "is not compiled" : "has errors");
	memset(&st, 0, sizeof(st));
	st.set = set;
	st.out = out;
	st.d = d;
	st.at_bol = 1;
	buf_init(&st.ind);
	if (ctx)
		push(&st, ctx);
	memset(&fr, 0, sizeof(fr));
	fr.strip = "";
	rc = render(&st, t, 0, t->nops, &fr);
	free(st.stk);
	buf_release(&st.ind);
	return rc;
}
