/*
 * yml: libyaml events -> value tree with positions.
 */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "diag.h"
#include "hmap.h"
#include "util.h"
#include "value.h"
#include "yml.h"

struct anchor {
	char		*name;
	struct value	*val;
	size_t		 size;	/* nodes in the expanded subtree */
};

struct frame {
	struct value	*v;	/* LIST or MAP under construction */
	struct value	*key;	/* MAP: key waiting for its value */
	int		 skip;	/* MAP: key was a duplicate, drop the value */
	struct hmap	*keyset;	/* MAP: key -> index, made once it grows */
	char		*anchor;
	size_t		 size;
};

struct ctx {
	const char	*file;
	int		 line0;
	struct diag	*d;
	struct frame	 stack[YML_MAX_DEPTH + 1];
	int		 depth;
	struct anchor	*anchors;
	size_t		 nanchors, anchors_cap;
	struct hmap	 anchor_ix;	/* name -> index in anchors */
	size_t		 expanded;	/* nodes added through aliases */
	struct value	*root;
	int		 failed;
};

static int
line_of(const struct ctx *c, yaml_mark_t m)
{
	return c->line0 + (int)m.line;
}

static int
is_tag(const char *tag, const char *name)
{
	static const char pre[] = "tag:yaml.org,2002:";

	return strncmp(tag, pre, sizeof(pre) - 1) == 0 &&
	    strcmp(tag + sizeof(pre) - 1, name) == 0;
}

static int
all_digits(const char *s, const char *set)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (strchr(set, *s) == NULL)
			return 0;
	return 1;
}

/* YAML 1.2 core schema float/int, without the 1.1 sexagesimal forms. */
static int
is_number(const char *s, double *out)
{
	const char *p = s;
	char *end;
	int digits = 0;

	if (strcmp(s, ".inf") == 0 || strcmp(s, ".Inf") == 0 ||
	    strcmp(s, "+.inf") == 0) {
		*out = 1.0 / 0.0;
		return 1;
	}
	if (strcmp(s, "-.inf") == 0 || strcmp(s, "-.Inf") == 0) {
		*out = -1.0 / 0.0;
		return 1;
	}
	if (strncmp(s, "0x", 2) == 0 && all_digits(s + 2,
	    "0123456789abcdefABCDEF")) {
		*out = (double)strtoull(s + 2, NULL, 16);
		return 1;
	}
	if (strncmp(s, "0o", 2) == 0 && all_digits(s + 2, "01234567")) {
		*out = (double)strtoull(s + 2, NULL, 8);
		return 1;
	}
	if (*p == '-' || *p == '+')
		p++;
	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits++;
		}
	}
	if (digits == 0)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p != '\0')
		return 0;
	*out = strtod(s, &end);
	return 1;
}

/* Builds a scalar value; NULL after reporting a bad tag or value. */
static struct value *
scalar(struct ctx *c, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	struct value *v;
	double num;
	int y, m, d;

	if (tag && strcmp(tag, "!") != 0) {
		if (is_tag(tag, "str"))
			return val_strn(s, n);
		if (is_tag(tag, "null"))
			return val_null();
		if (is_tag(tag, "bool")) {
			if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
				return val_bool(s[0] == 't');
		} else if (is_tag(tag, "int") || is_tag(tag, "float")) {
			if (strlen(s) == n && is_number(s, &num)) {
				v = val_num(num);
				val_set_text(v, s, n);
				return v;
			}
		} else if (is_tag(tag, "timestamp")) {
			if (val_parse_date(s, n, &y, &m, &d) == 0)
				goto date;
		} else {
			diag_err(c->d, c->file, line_of(c, ev->start_mark),
			    (int)ev->start_mark.column + 1,
			    "unknown tag '%s'", tag);
			return NULL;
		}
		diag_err(c->d, c->file, line_of(c, ev->start_mark),
		    (int)ev->start_mark.column + 1,
		    "value '%.*s' does not match its tag '%s'", (int)n, s, tag);
		return NULL;
	}
	if (!plain || tag)
		return val_strn(s, n);
	if (n == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return val_null();
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "TRUE") == 0)
		return val_bool(1);
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
	    strcmp(s, "FALSE") == 0)
		return val_bool(0);
	if (strlen(s) == n && val_parse_date(s, n, &y, &m, &d) == 0)
		goto date;
	if (strlen(s) == n && is_number(s, &num)) {
		v = val_num(num);
		val_set_text(v, s, n);
		return v;
	}
	return val_strn(s, n);
date:
	v = val_strn(s, n);
	v->kind = VAL_DATE;
	v->y = y;
	v->m = (unsigned char)m;
	v->d = (unsigned char)d;
	return v;
}

static void
remember_anchor(struct ctx *c, const char *name, struct value *v, size_t size)
{
	size_t i;

	if (hm_get(&c->anchor_ix, name, &i)) {
		/* a redefined anchor replaces the old one */
		val_unref(c->anchors[i].val);
		c->anchors[i].val = val_ref(v);
		c->anchors[i].size = size;
		return;
	}
	hm_put(&c->anchor_ix, name, c->nanchors);
	if (c->nanchors == c->anchors_cap) {
		c->anchors_cap = c->anchors_cap ? c->anchors_cap * 2 : 8;
		c->anchors = xreallocarray(c->anchors, c->anchors_cap,
		    sizeof(*c->anchors));
	}
	c->anchors[c->nanchors].name = xstrdup(name);
	c->anchors[c->nanchors].val = val_ref(v);
	c->anchors[c->nanchors].size = size;
	c->nanchors++;
}

/* Index of `key` among the keys of the map being built in `f`, or -1.
 * Past KEYSET_MIN keys the lookup goes through a hash map, so a map of
 * many thousand keys does not take quadratic time. */
#define KEYSET_MIN	32
static long
find_key(struct frame *f, const char *key)
{
	size_t i;

	if (f->keyset == NULL && f->v->n >= KEYSET_MIN) {
		f->keyset = xmalloc(sizeof(*f->keyset));
		hm_init(f->keyset);
		for (i = 0; i < f->v->n; i++)
			hm_put(f->keyset, f->v->keys[i]->str, i);
	}
	if (f->keyset)
		return hm_get(f->keyset, key, &i) ? (long)i : -1;
	for (i = 0; i < f->v->n; i++)
		if (strcmp(f->v->keys[i]->str, key) == 0)
			return (long)i;
	return -1;
}

/* Frees a frame's key index. */
static void
drop_keyset(struct frame *f)
{
	if (f->keyset) {
		hm_release(f->keyset);
		free(f->keyset);
		f->keyset = NULL;
	}
}

/* Adds a finished node to its parent (or makes it the root). */
static void
attach(struct ctx *c, struct value *v, size_t size)
{
	struct frame *f;
	long i;

	if (c->depth == 0) {
		if (c->root == NULL)
			c->root = v;
		else
			val_unref(v);
		return;
	}
	f = &c->stack[c->depth - 1];
	if (f->size + size < f->size)
		f->size = (size_t)-1;
	else
		f->size += size;
	if (f->v->kind == VAL_LIST) {
		val_push(f->v, v);
		return;
	}
	if (f->key == NULL) {
		/* v is a key */
		if (v->kind == VAL_LIST || v->kind == VAL_MAP) {
			diag_err(c->d, c->file, v->line, v->col,
			    "complex mapping keys are not supported");
			c->failed = 1;
			f->key = val_str("");
			f->skip = 1;
			val_unref(v);
			return;
		}
		if (v->str == NULL) {
			const char *t = v->kind == VAL_BOOL ?
			    (v->b ? "true" : "false") : "null";

			val_set_text(v, t, strlen(t));
		}
		v->kind = VAL_STR;
		f->skip = 0;
		i = find_key(f, v->str);
		if (i >= 0) {
			diag_err(c->d, c->file, v->line, v->col,
			    "duplicate key '%s' (first defined at line %d)",
			    v->str, f->v->keys[i]->line);
			c->failed = 1;
			f->skip = 1;
		}
		f->key = v;
		return;
	}
	if (f->skip) {
		val_unref(f->key);
		val_unref(v);
	} else {
		if (f->v->n == f->v->cap) {
			f->v->cap = f->v->cap ? f->v->cap * 2 : 4;
			f->v->items = xreallocarray(f->v->items, f->v->cap,
			    sizeof(*f->v->items));
			f->v->keys = xreallocarray(f->v->keys, f->v->cap,
			    sizeof(*f->v->keys));
		}
		if (f->keyset)
			hm_put(f->keyset, f->key->str, f->v->n);
		f->v->keys[f->v->n] = f->key;
		f->v->items[f->v->n++] = v;
	}
	f->key = NULL;
	f->skip = 0;
}

static int
handle(struct ctx *c, yaml_event_t *ev)
{
	int line = line_of(c, ev->start_mark);
	int col = (int)ev->start_mark.column + 1;
	struct value *v;
	struct frame *f;
	const char *anchor = NULL;
	const char *tag = NULL;
	size_t i;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if ((v = scalar(c, ev)) == NULL) {
			c->failed = 1;
			v = val_null();
		}
		val_at(v, line, col);
		v->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		if (ev->data.scalar.anchor)
			remember_anchor(c, (const char *)ev->data.scalar.anchor,
			    v, 1);
		attach(c, v, 1);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			anchor = (const char *)ev->data.sequence_start.anchor;
			tag = (const char *)ev->data.sequence_start.tag;
		} else {
			anchor = (const char *)ev->data.mapping_start.anchor;
			tag = (const char *)ev->data.mapping_start.tag;
		}
		if (tag && strcmp(tag, "!") != 0 && !is_tag(tag, "seq") &&
		    !is_tag(tag, "map")) {
			diag_err(c->d, c->file, line, col, "unknown tag '%s'",
			    tag);
			c->failed = 1;
		}
		if (c->depth >= YML_MAX_DEPTH)
			return diag_err(c->d, c->file, line, col,
			    "nesting deeper than %d levels", YML_MAX_DEPTH);
		f = &c->stack[c->depth++];
		memset(f, 0, sizeof(*f));
		f->v = val_at(val_new(ev->type == YAML_SEQUENCE_START_EVENT ?
		    VAL_LIST : VAL_MAP), line, col);
		f->anchor = anchor ? xstrdup(anchor) : NULL;
		f->size = 1;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		f = &c->stack[--c->depth];
		v = f->v;
		drop_keyset(f);
		if (f->key) {	/* cannot happen with a well-formed stream */
			val_unref(f->key);
			f->key = NULL;
		}
		if (f->anchor) {
			remember_anchor(c, f->anchor, v, f->size);
			free(f->anchor);
		}
		attach(c, v, f->size);
		break;
	case YAML_ALIAS_EVENT:
		if (!hm_get(&c->anchor_ix, (const char *)ev->data.alias.anchor,
		    &i))
			return diag_err(c->d, c->file, line, col,
			    "unknown alias '*%s'", ev->data.alias.anchor);
		c->expanded += c->anchors[i].size;
		if (c->anchors[i].size > YML_MAX_ALIAS_NODES ||
		    c->expanded > YML_MAX_ALIAS_NODES)
			return diag_err(c->d, c->file, line, col,
			    "alias '*%s' expands past %d nodes (alias bomb?)",
			    ev->data.alias.anchor, YML_MAX_ALIAS_NODES);
		attach(c, val_ref(c->anchors[i].val), c->anchors[i].size);
		break;
	case YAML_DOCUMENT_START_EVENT:
		if (c->root != NULL)
			return diag_err(c->d, c->file, line, col,
			    "more than one YAML document");
		break;
	default:
		break;
	}
	return 0;
}

struct value *
yml_parse(const char *text, size_t len, const char *file, int line0,
    struct diag *d)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct ctx c;
	struct value *root = NULL;
	int done = 0, i;
	size_t k;

	memset(&c, 0, sizeof(c));
	c.file = file;
	c.line0 = line0 < 1 ? 1 : line0;
	c.d = d;
	hm_init(&c.anchor_ix);
	if (!yaml_parser_initialize(&p))
		fatal("cannot initialize libyaml");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			yaml_mark_t m = p.problem_mark;

			if (p.context && (p.context_mark.line !=
			    p.problem_mark.line || p.context_mark.column !=
			    p.problem_mark.column))
				diag_err(d, file, c.line0 + (int)m.line,
				    (int)m.column + 1, "invalid YAML: %s %s "
				    "(which started at line %d, column %d)",
				    p.problem ? p.problem : "syntax error",
				    p.context, c.line0 + (int)p.context_mark.line,
				    (int)p.context_mark.column + 1);
			else
				diag_err(d, file, c.line0 + (int)m.line,
				    (int)m.column + 1, "invalid YAML: %s%s%s",
				    p.problem ? p.problem : "syntax error",
				    p.context ? " " : "",
				    p.context ? p.context : "");
			c.failed = 1;
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT)
			done = 1;
		if (handle(&c, &ev) == -1) {
			c.failed = 1;
			done = 1;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	for (i = c.depth - 1; i >= 0; i--) {
		if (c.stack[i].key)
			val_unref(c.stack[i].key);
		val_unref(c.stack[i].v);
		free(c.stack[i].anchor);
		drop_keyset(&c.stack[i]);
	}
	hm_release(&c.anchor_ix);
	for (k = 0; k < c.nanchors; k++) {
		free(c.anchors[k].name);
		val_unref(c.anchors[k].val);
	}
	free(c.anchors);
	if (c.failed) {
		val_unref(c.root);
		return NULL;
	}
	root = c.root ? c.root : val_at(val_null(), c.line0, 1);
	return root;
}
