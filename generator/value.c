/*
 * value: reference-counted, position-carrying value tree.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"
#include "value.h"

struct value *
val_new(enum val_kind k)
{
	struct value *v = xcalloc(1, sizeof(*v));

	v->kind = k;
	v->refs = 1;
	return v;
}

/* The text of v when it sits in v's own allocation (see value.h). */
static int
inline_text(const struct value *v)
{
	return v->str == (const char *)(v + 1);
}

/* A scalar of kind k with a copy of s[0..n) as its text, in one
 * allocation. */
static struct value *
val_new_text(enum val_kind k, const char *s, size_t n)
{
	struct value *v;

	if (n > SIZE_MAX - sizeof(*v) - 1)
		fatal("out of memory");
	v = xmalloc(sizeof(*v) + n + 1);
	memset(v, 0, sizeof(*v));
	v->kind = k;
	v->refs = 1;
	v->str = (char *)(v + 1);
	memcpy(v->str, s, n);
	v->str[n] = '\0';
	v->len = n;
	return v;
}

void
val_set_text(struct value *v, const char *s, size_t n)
{
	char *t = xstrndup(s, n);

	if (!inline_text(v))
		free(v->str);
	v->str = t;
	v->len = n;
}

struct value *
val_null(void)
{
	return val_new(VAL_NULL);
}

struct value *
val_bool(int b)
{
	struct value *v = val_new(VAL_BOOL);

	v->b = b != 0;
	return v;
}

struct value *
val_num(double d)
{
	struct value *v;
	char tmp[64];

	if (d == floor(d) && fabs(d) < 1e15)
		snprintf(tmp, sizeof(tmp), "%.0f", d);
	else
		snprintf(tmp, sizeof(tmp), "%.17g", d);
	v = val_new_text(VAL_NUM, tmp, strlen(tmp));
	v->num = d;
	return v;
}

struct value *
val_strn(const char *s, size_t n)
{
	return val_new_text(VAL_STR, s, n);
}

struct value *
val_str(const char *s)
{
	return val_strn(s ? s : "", s ? strlen(s) : 0);
}

struct value *
val_str_own(char *s)
{
	struct value *v = val_new(VAL_STR);

	v->str = s;
	v->len = strlen(s);
	return v;
}

struct value *
val_list(void)
{
	return val_new(VAL_LIST);
}

struct value *
val_map(void)
{
	return val_new(VAL_MAP);
}

struct value *
val_at(struct value *v, int line, int col)
{
	v->line = line;
	v->col = col;
	return v;
}

struct value *
val_ref(struct value *v)
{
	if (v && !v->immortal)
		__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
	return v;
}

void
val_unref(struct value *v)
{
	size_t i;

	if (v == NULL || v->immortal ||
	    __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (i = 0; i < v->n; i++) {
		val_unref(v->items[i]);
		if (v->keys)
			val_unref(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	if (!inline_text(v))
		free(v->str);
	free(v);
}

static void
reserve(struct value *c)
{
	if (c->n < c->cap)
		return;
	c->cap = c->cap ? c->cap * 2 : 4;
	c->items = xreallocarray(c->items, c->cap, sizeof(*c->items));
	if (c->kind == VAL_MAP)
		c->keys = xreallocarray(c->keys, c->cap, sizeof(*c->keys));
}

void
val_push(struct value *list, struct value *item)
{
	reserve(list);
	list->items[list->n++] = item;
}

/* The index of key[0..n) in map, or -1. */
static long
find_key_n(const struct value *map, const char *key, size_t n)
{
	size_t i;

	if (map == NULL || map->kind != VAL_MAP)
		return -1;
	/* lengths first: most keys of a map differ in length or first byte,
	 * and a big map (controls, pages by id) is scanned whole */
	for (i = 0; i < map->n; i++) {
		const struct value *k = map->keys[i];

		if (k->len == n && k->str[0] == key[0] &&
		    memcmp(k->str, key, n) == 0)
			return (long)i;
	}
	return -1;
}

static long
find_key(const struct value *map, const char *key)
{
	return find_key_n(map, key, strlen(key));
}

/*
 * Interned keys.  A big site's maps repeat a few dozen key texts millions
 * of times ("title", "url", a filter's "target"...): each short key text
 * gets one immortal value, shared by every map.  The table is global and
 * locked; every thread keeps a small direct-mapped cache of it in front,
 * so that a key seen before costs a hash and a compare.  Full (half the
 * slots in use) means no more interning: keys are made as before.  The
 * interned values live as long as the process (at most 2,048 short
 * strings, reachable from the table), so that no thread still running at
 * exit can find a key freed.
 */
#define INTERN_LEN	32		/* longest key text interned */
#define INTERN_SLOTS	4096		/* power of two */
#define INTERN_CACHE	256		/* per thread, power of two */

static struct value *intern_tab[INTERN_SLOTS];
static size_t intern_n;
static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local struct value *intern_cache[INTERN_CACHE];

static unsigned
key_hash(const char *s, size_t n)
{
	unsigned h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* The interned value of key[0..n), or NULL (too long, table full). */
static struct value *
intern_key(const char *key, size_t n)
{
	struct value *v, **slot;
	unsigned h;
	size_t j;

	if (n > INTERN_LEN)
		return NULL;
	h = key_hash(key, n);
	v = intern_cache[h & (INTERN_CACHE - 1)];
	if (v && v->len == n && memcmp(v->str, key, n) == 0)
		return v;
	pthread_mutex_lock(&intern_lock);
	for (j = h & (INTERN_SLOTS - 1);; j = (j + 1) & (INTERN_SLOTS - 1)) {
		slot = &intern_tab[j];
		v = *slot;
		if (v == NULL) {
			if (intern_n >= INTERN_SLOTS / 2)
				break;
			v = val_new_text(VAL_STR, key, n);
			v->immortal = 1;
			*slot = v;
			intern_n++;
			break;
		}
		if (v->len == n && memcmp(v->str, key, n) == 0)
			break;
	}
	pthread_mutex_unlock(&intern_lock);
	if (v)
		intern_cache[h & (INTERN_CACHE - 1)] = v;
	return v;
}

void
val_set(struct value *map, const char *key, struct value *v)
{
	size_t n = strlen(key);
	long i = find_key_n(map, key, n);

	if (i >= 0) {
		val_unref(map->items[i]);
		map->items[i] = v;
		return;
	}
	reserve(map);
	if ((map->keys[map->n] = intern_key(key, n)) == NULL)
		map->keys[map->n] = val_strn(key, n);
	map->items[map->n++] = v;
}

struct value *
val_get(const struct value *map, const char *key)
{
	long i = find_key(map, key);

	return i < 0 ? NULL : map->items[i];
}

struct value *
val_get_key(const struct value *map, const char *key)
{
	long i = find_key(map, key);

	return i < 0 ? NULL : map->keys[i];
}

struct value *
val_path(const struct value *v, const char *path)
{
	const char *dot;
	char *part;

	while (v && *path) {
		dot = strchr(path, '.');
		part = dot ? xstrndup(path, (size_t)(dot - path)) :
		    xstrdup(path);
		v = val_get(v, part);
		free(part);
		if (dot == NULL)
			break;
		path = dot + 1;
	}
	return (struct value *)v;
}

const char *
val_cstr(const struct value *v)
{
	if (v == NULL)
		return NULL;
	switch (v->kind) {
	case VAL_STR:
	case VAL_DATE:
	case VAL_NUM:
		return v->str;
	case VAL_BOOL:
		return v->b ? "true" : "false";
	default:
		return NULL;
	}
}

int
val_truthy(const struct value *v)
{
	if (v == NULL)
		return 0;
	switch (v->kind) {
	case VAL_NULL:
		return 0;
	case VAL_BOOL:
		return v->b;
	case VAL_STR:
		return v->len > 0;
	case VAL_LIST:
		return v->n > 0;
	default:
		return 1;
	}
}

/* A front-matter value that says nothing: what a required field may not
 * be.  Whitespace is ASCII's plus U+3000 (the ideographic space a Japanese
 * input method types), since "　" looks as empty as " ".  An empty list is
 * not blank: it says "none" (the shipped lesson archetype starts with
 * `affects: []` and must build). */
int
val_blank(const struct value *v)
{
	size_t i;

	if (v == NULL)
		return 1;
	switch (v->kind) {
	case VAL_NULL:
		return 1;
	case VAL_STR:
		for (i = 0; i < v->len;) {
			if (v->str[i] != '\0' &&
			    strchr(" \t\n\r\f\v", v->str[i]) != NULL)
				i++;
			else if (strncmp(v->str + i, "\xe3\x80\x80", 3) == 0)
				i += 3;
			else
				return 0;
		}
		return 1;
	default:
		return 0;
	}
}

void
val_to_text(const struct value *v, struct buf *out)
{
	const char *s = val_cstr(v);

	if (s)
		buf_put(out, s, v->kind == VAL_BOOL ? strlen(s) : v->len);
}

struct value *
val_copy(const struct value *v)
{
	struct value *c;
	size_t i;

	if (v == NULL)
		return NULL;
	c = v->str ? val_new_text(v->kind, v->str, v->len) :
	    val_new(v->kind);
	c->line = v->line;
	c->col = v->col;
	c->b = v->b;
	c->num = v->num;
	c->y = v->y;
	c->m = v->m;
	c->d = v->d;
	for (i = 0; i < v->n; i++) {
		if (v->kind == VAL_MAP) {
			reserve(c);
			c->keys[c->n] = val_copy(v->keys[i]);
			c->items[c->n++] = val_copy(v->items[i]);
		} else {
			val_push(c, val_copy(v->items[i]));
		}
	}
	return c;
}

void
val_json_string(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, run;

	buf_grow(b, n + 2);
	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c;

		/* bytes that need nothing go out as one piece */
		for (run = i; i < n && p[i] >= 0x20 && p[i] != 0x7f &&
		    p[i] != '"' && p[i] != '\\' && p[i] != '<' && p[i] != '>' &&
		    p[i] != '&' && p[i] != 0xe2; i++)
			;
		if (i > run)
			buf_put(b, s + run, i - run);
		if (i == n)
			break;
		c = p[i];
		if (c == '"' || c == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, c);
		} else if (c == '\n') {
			buf_puts(b, "\\n");
		} else if (c == '\t') {
			buf_puts(b, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(b, "\\u%04x", c);
		} else if (c == '<' || c == '>' || c == '&') {
			/* never lets "</script>" or "<!--" through */
			buf_printf(b, "\\u%04x", c);
		} else if (c == 0xe2 && i + 2 < n && p[i + 1] == 0x80 &&
		    (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
			buf_printf(b, "\\u%04x", p[i + 2] == 0xa8 ? 0x2028 :
			    0x2029);
			i += 2;
		} else {
			buf_putc(b, c);
		}
	}
	buf_putc(b, '"');
}

void
val_to_json(const struct value *v, struct buf *b)
{
	size_t i;

	if (v == NULL) {
		buf_puts(b, "null");
		return;
	}
	switch (v->kind) {
	case VAL_NULL:
		buf_puts(b, "null");
		break;
	case VAL_BOOL:
		buf_puts(b, v->b ? "true" : "false");
		break;
	case VAL_NUM:
		if (isfinite(v->num))
			buf_puts(b, v->str);
		else
			buf_puts(b, "null");
		break;
	case VAL_STR:
	case VAL_DATE:
		val_json_string(b, v->str, v->len);
		break;
	case VAL_LIST:
		buf_putc(b, '[');
		for (i = 0; i < v->n; i++) {
			if (i)
				buf_putc(b, ',');
			val_to_json(v->items[i], b);
		}
		buf_putc(b, ']');
		break;
	case VAL_MAP:
		buf_putc(b, '{');
		for (i = 0; i < v->n; i++) {
			if (i)
				buf_putc(b, ',');
			val_json_string(b, v->keys[i]->str, v->keys[i]->len);
			buf_putc(b, ':');
			val_to_json(v->items[i], b);
		}
		buf_putc(b, '}');
		break;
	}
}

const char *
val_kind_name(enum val_kind k)
{
	static const char *names[] = {
		"null", "boolean", "number", "string", "date", "list", "map"
	};

	return names[k];
}

int
val_parse_date(const char *s, size_t n, int *y, int *m, int *d)
{
	static const int mdays[] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int yy, mm, dd, leap;
	size_t i;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	yy = atoi(s);
	mm = (s[5] - '0') * 10 + (s[6] - '0');
	dd = (s[8] - '0') * 10 + (s[9] - '0');
	if (mm < 1 || mm > 12 || dd < 1 || dd > mdays[mm - 1])
		return -1;
	leap = (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0;
	if (mm == 2 && dd == 29 && !leap)
		return -1;
	*y = yy;
	*m = mm;
	*d = dd;
	return 0;
}

/* ---- binary form ---- */

#define ENC_DEPTH	200

static void
enc_size(struct buf *b, size_t n)
{
	unsigned char c;

	do {
		c = n & 0x7f;
		n >>= 7;
		buf_putc(b, (char)(c | (n ? 0x80 : 0)));
	} while (n);
}

static void
enc_str(struct buf *b, const char *s, size_t len)
{
	enc_size(b, len);
	buf_put(b, s ? s : "", len);
}

/* See value.h. */
void
val_encode(const struct value *v, struct buf *b)
{
	size_t i;

	if (v == NULL) {
		buf_putc(b, VAL_NULL);
		return;
	}
	buf_putc(b, (char)v->kind);
	switch (v->kind) {
	case VAL_NULL:
		break;
	case VAL_BOOL:
		buf_putc(b, (char)(v->b != 0));
		break;
	case VAL_NUM:
		buf_put(b, &v->num, sizeof(v->num));
		enc_str(b, v->str, v->len);
		break;
	case VAL_STR:
	case VAL_DATE:
		enc_str(b, v->str, v->len);
		break;
	case VAL_LIST:
		enc_size(b, v->n);
		for (i = 0; i < v->n; i++)
			val_encode(v->items[i], b);
		break;
	case VAL_MAP:
		enc_size(b, v->n);
		for (i = 0; i < v->n; i++) {
			enc_str(b, v->keys[i]->str, v->keys[i]->len);
			val_encode(v->items[i], b);
		}
		break;
	}
}

static int
dec_size(const unsigned char **p, const unsigned char *end, size_t *n)
{
	size_t x = 0;
	int shift = 0;

	while (*p < end && shift < 63) {
		x |= (size_t)(**p & 0x7f) << shift;
		if ((*(*p)++ & 0x80) == 0) {
			*n = x;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

/* The bytes of a string of the binary form, in place (NULL when cut
 * short). */
static const unsigned char *
dec_span(const unsigned char **p, const unsigned char *end, size_t *len)
{
	const unsigned char *s;

	if (dec_size(p, end, len) == -1 || *len > (size_t)(end - *p))
		return NULL;
	s = *p;
	*p += *len;
	return s;
}

/* A string of the binary form, NUL-terminated (NULL when cut short). */
static char *
dec_str(const unsigned char **p, const unsigned char *end, size_t *len)
{
	const unsigned char *s = dec_span(p, end, len);

	return s ? xstrndup((const char *)s, *len) : NULL;
}

static struct value *
decode(const unsigned char **p, const unsigned char *end, int depth)
{
	struct value *v = NULL, *item;
	const unsigned char *t;
	size_t n, i, len;
	double num;
	char *s;
	int kind, y, m, d;

	if (*p >= end || depth > ENC_DEPTH)
		return NULL;
	kind = *(*p)++;
	switch (kind) {
	case VAL_NULL:
		return val_null();
	case VAL_BOOL:
		if (*p >= end || **p > 1)
			return NULL;
		return val_bool(*(*p)++);
	case VAL_NUM:
		if ((size_t)(end - *p) < sizeof(double))
			return NULL;
		memcpy(&num, *p, sizeof(double));
		*p += sizeof(double);
		if ((t = dec_span(p, end, &len)) == NULL)
			return NULL;
		v = val_new_text(VAL_NUM, (const char *)t, len);
		v->num = num;
		return v;
	case VAL_STR:
	case VAL_DATE:
		if ((t = dec_span(p, end, &len)) == NULL)
			return NULL;
		v = val_new_text((enum val_kind)kind, (const char *)t, len);
		if (kind == VAL_DATE) {
			if (val_parse_date(v->str, len, &y, &m, &d) == -1)
				goto bad;
			v->y = y;
			v->m = (unsigned char)m;
			v->d = (unsigned char)d;
		}
		return v;
	case VAL_LIST:
		if (dec_size(p, end, &n) == -1 || n > (size_t)(end - *p))
			return NULL;
		v = val_list();
		for (i = 0; i < n; i++) {
			if ((item = decode(p, end, depth + 1)) == NULL)
				goto bad;
			val_push(v, item);
		}
		return v;
	case VAL_MAP:
		if (dec_size(p, end, &n) == -1 || n > (size_t)(end - *p))
			return NULL;
		v = val_map();
		for (i = 0; i < n; i++) {
			if ((s = dec_str(p, end, &len)) == NULL)
				goto bad;
			if ((item = decode(p, end, depth + 1)) == NULL) {
				free(s);
				goto bad;
			}
			/* keys were unique when encoded: append */
			val_set(v, s, item);
			free(s);
		}
		return v;
	default:
		return NULL;
	}
bad:
	val_unref(v);
	return NULL;
}

/* See value.h. */
struct value *
val_decode(const unsigned char **p, const unsigned char *end)
{
	return decode(p, end, 0);
}
