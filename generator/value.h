/*
 * value: the tree every structured datum lives in -- front matter, site.yaml,
 * catalogs, template contexts, data handed to and from Lua filters.
 *
 * Every value remembers where it came from (1-based line and column, 0 when
 * it was made by code).  Values are reference-counted (atomically, so frozen
 * trees may be shared between worker threads); containers own one reference
 * to each child.  Maps keep insertion order.
 */
#ifndef VALUE_H
#define VALUE_H

#include <stddef.h>

struct buf;

enum val_kind {
	VAL_NULL,
	VAL_BOOL,
	VAL_NUM,
	VAL_STR,
	VAL_DATE,	/* YYYY-MM-DD; str holds the text, y/m/d the parts */
	VAL_LIST,
	VAL_MAP
};

/*
 * A big site holds millions of these at once (front matter, filter data,
 * template contexts): the small fields are packed, and the text of a
 * scalar made by val_strn(), val_str() or val_num() sits in the same
 * allocation, right after the struct.  Change str only through
 * val_set_text(), which knows whether it may be freed.  The keys val_set()
 * makes are interned (one shared, immortal value per short key text):
 * never change a key in place.
 */
struct value {
	enum val_kind	  kind : 8;
	unsigned	  quoted : 1;	/* scalar was quoted in YAML */
	unsigned	  b : 1;	/* VAL_BOOL */
	unsigned	  immortal : 1;	/* an interned map key: never freed */
	unsigned char	  m, d;		/* VAL_DATE: month, day */
	int		  y;		/* VAL_DATE: year */
	int		  refs;
	int		  line;		/* 1-based; 0 if unknown */
	int		  col;		/* 1-based, in code points; 0 if unknown */
	double		  num;		/* VAL_NUM */
	char		 *str;		/* STR, DATE, NUM (source text); NUL-terminated */
	size_t		  len;		/* bytes in str */
	struct value	**items;	/* LIST items, MAP values */
	struct value	**keys;		/* MAP keys (VAL_STR, with positions) */
	size_t		  n;		/* LIST/MAP length */
	size_t		  cap;
};

struct value	*val_new(enum val_kind);
struct value	*val_null(void);
struct value	*val_bool(int);
struct value	*val_num(double);
struct value	*val_str(const char *);
struct value	*val_strn(const char *, size_t);
/* Takes ownership of the malloc'd string. */
struct value	*val_str_own(char *);
struct value	*val_list(void);
struct value	*val_map(void);
/* Replaces the text of a scalar with a copy of s[0..n). */
void		 val_set_text(struct value *, const char *s, size_t n);
/* Sets the position and returns the value, for chaining. */
struct value	*val_at(struct value *, int line, int col);

/* Reference counting; val_unref(NULL) is a no-op. */
struct value	*val_ref(struct value *);
void		 val_unref(struct value *);

/* Appends (takes the reference). */
void		 val_push(struct value *list, struct value *item);
/* Sets key (replacing an old value); takes the reference to v. */
void		 val_set(struct value *map, const char *key, struct value *v);
/* Borrowed lookup, NULL when absent or `map` is not a map. */
struct value	*val_get(const struct value *map, const char *key);
/* Borrowed key value (with its position), NULL when absent. */
struct value	*val_get_key(const struct value *map, const char *key);
/* Follows a dotted path "a.b.c"; borrowed; NULL when absent. */
struct value	*val_path(const struct value *, const char *path);
/* Convenience: string content of a scalar (STR, DATE, NUM, BOOL), or NULL. */
const char	*val_cstr(const struct value *);
/* Mustache truthiness: NULL, null, false, empty list and "" are false. */
int		 val_truthy(const struct value *);
/* 1 for NULL, null and an empty or whitespace-only string (ASCII
 * whitespace and U+3000): a value that says nothing.  Lists and maps, even
 * empty ones, are not blank. */
int		 val_blank(const struct value *);
/* Appends the scalar's text (nothing for null/containers). */
void		 val_to_text(const struct value *, struct buf *);
/* Deep copy with positions. */
struct value	*val_copy(const struct value *);
/* Writes the value as JSON (escaping </, U+2028/9 and controls). */
void		 val_to_json(const struct value *, struct buf *);
/* Appends a JSON string literal for s. */
void		 val_json_string(struct buf *, const char *, size_t);
const char	*val_kind_name(enum val_kind);
/* A compact binary form of a value (for caches): kinds, text and numbers
 * round-trip exactly; positions and `quoted` are not kept. */
void		 val_encode(const struct value *, struct buf *);
/* Decodes one value at *p (advanced past it); NULL when the bytes up to
 * `end` are not a whole, well-formed value. */
struct value	*val_decode(const unsigned char **p, const unsigned char *end);
/* Parses YYYY-MM-DD; returns 0 and fills y/m/d, or -1. */
int		 val_parse_date(const char *, size_t, int *y, int *m, int *d);

#endif
