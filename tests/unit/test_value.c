/*
 * Unit tests for value.h's binary form (the collect cache stores page data
 * in it) and for ccache.h: exact round trips, and no crash, leak or wrong
 * value on cut or damaged bytes.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ccache.h"
#include "util.h"
#include "value.h"

#include "harness.h"

/* A value with every kind, nesting, odd bytes and numbers. */
static struct value *
sample(void)
{
	struct value *m = val_map(), *l = val_list(), *in = val_map(), *d;

	val_set(m, "s", val_str("テキスト \"quoted\""));
	val_set(m, "empty", val_str(""));
	val_set(m, "nul", val_strn("a\0b", 3));
	val_set(m, "t", val_bool(1));
	val_set(m, "f", val_bool(0));
	val_set(m, "null", val_null());
	val_set(m, "int", val_num(42));
	val_set(m, "neg", val_num(-0.1));
	val_set(m, "big", val_num(1e300));
	d = val_str("2025-06-01");
	d->kind = VAL_DATE;
	d->y = 2025;
	d->m = 6;
	d->d = 1;
	val_set(m, "date", d);
	val_push(l, val_str("8.13"));
	val_push(l, val_list());
	val_push(l, val_map());
	val_set(in, "target", val_str("5.1"));
	val_set(in, "rel", val_str("mentions"));
	val_push(l, in);
	val_set(m, "refs", l);
	return m;
}

static char *
json(const struct value *v)
{
	struct buf b = BUF_INIT;

	val_to_json(v, &b);
	return buf_detach(&b);
}

static void
test_roundtrip(void)
{
	struct value *v = sample(), *w;
	struct buf b = BUF_INIT;
	const unsigned char *p, *end;
	char *a, *c;
	size_t cut, wrong = 0, got = 0;

	val_encode(v, &b);
	p = (const unsigned char *)b.ptr;
	end = p + b.len;
	w = val_decode(&p, end);
	OK(w != NULL && p == end, "decodes the whole encoding");
	a = json(v);
	c = json(w);
	STR_EQ(c, a, "round trip");
	OK(w && val_get(w, "nul")->len == 3 &&
	    memcmp(val_get(w, "nul")->str, "a\0b", 3) == 0, "NUL kept");
	OK(w && val_get(w, "date")->kind == VAL_DATE &&
	    val_get(w, "date")->m == 6, "date kept as a date");
	OK(w && val_get(w, "neg")->num == -0.1 &&
	    strcmp(val_get(w, "neg")->str, val_get(v, "neg")->str) == 0,
	    "number and its text kept");
	free(c);
	val_unref(w);
	/* every cut is refused, never a crash */
	for (cut = 0; cut < b.len; cut++) {
		p = (const unsigned char *)b.ptr;
		w = val_decode(&p, p + cut);
		wrong += w != NULL;
		val_unref(w);
	}
	INT_EQ(wrong, 0, "cut encodings refused");
	/* a changed byte gives NULL or some value, never a crash */
	for (cut = 0; cut < b.len; cut++) {
		unsigned char *q = (unsigned char *)b.ptr + cut, old = *q;

		*q ^= 0x5a;
		p = (const unsigned char *)b.ptr;
		w = val_decode(&p, (const unsigned char *)b.ptr + b.len);
		got += w != NULL;
		val_unref(w);
		*q = old;
	}
	OK(got < b.len, "some damaged encodings refused (%zu of %zu decoded)",
	    got, b.len);
	free(a);
	buf_release(&b);
	val_unref(v);
}

static void
test_ccache(void)
{
	char dir[] = "/tmp/tebiki-ut-cc-XXXXXX", *path;
	const char *paths[3] = { "content/a.md", "content/b.md", "content/c.md" };
	unsigned char keys[3][32];
	const struct value *data[3];
	struct value *v = sample(), *e = val_map();
	struct ccache *c;
	struct buf f = BUF_INIT;
	char *a, *g;

	OK(mkdtemp(dir) != NULL, "temp dir");
	path = util_path_join(dir, "collect.bin");
	memset(keys, 0, sizeof(keys));
	keys[0][0] = 1;
	keys[1][31] = 2;
	keys[2][5] = 3;
	data[0] = v;
	data[1] = NULL;		/* left out */
	data[2] = e;
	INT_EQ(cc_save(path, paths, (const unsigned char (*)[32])keys, data, 3),
	    0, "save");
	c = cc_load(path);
	INT_EQ(cc_count(c), 2, "entries");
	a = json(v);
	g = cc_find(c, "content/a.md", keys[0]) ?
	    json(cc_find(c, "content/a.md", keys[0])) : NULL;
	STR_EQ(g, a, "a found under its key");
	free(g);
	free(a);
	OK(cc_find(c, "content/a.md", keys[2]) == NULL, "other key: miss");
	OK(cc_find(c, "content/b.md", keys[1]) == NULL, "left out: miss");
	OK(cc_find(c, "content/c.md", keys[2]) != NULL, "empty map kept");
	OK(cc_find(c, "content/x.md", keys[0]) == NULL, "unknown page: miss");
	cc_free(c);
	/* one changed byte anywhere: an empty cache */
	util_read_file(path, &f);
	f.ptr[f.len / 2] ^= 1;
	util_write_file(path, f.ptr, f.len);
	c = cc_load(path);
	INT_EQ(cc_count(c), 0, "damaged file is an empty cache");
	OK(cc_find(c, "content/a.md", keys[0]) == NULL, "damaged: miss");
	cc_free(c);
	c = cc_load("/nonexistent/collect.bin");
	INT_EQ(cc_count(c), 0, "missing file is an empty cache");
	cc_free(c);
	unlink(path);
	rmdir(dir);
	free(path);
	buf_release(&f);
	val_unref(v);
	val_unref(e);
}

/* val_json_string: what must be escaped is, everything else is copied,
 * at the start, in the middle and at the end of a string. */
static void
test_json_string(void)
{
	static const struct { const char *in; size_t len; const char *out; }
	    v[] = {
		{ "", 0, "\"\"" },
		{ "plain", 5, "\"plain\"" },
		{ "\xe7\xae\xa1\xe7\x90\x86 8.13", 11,
		    "\"\xe7\xae\xa1\xe7\x90\x86 8.13\"" },
		{ "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
		{ "\n\tx\x01\x7f", 5, "\"\\n\\tx\\u0001\\u007f\"" },
		{ "</script><!--&", 14,
		    "\"\\u003c/script\\u003e\\u003c!--\\u0026\"" },
		{ "x\xe2\x80\xa8y\xe2\x80\xa9", 8,
		    "\"x\\u2028y\\u2029\"" },
		{ "\xe2\x80\x94\xe2\x80", 5, "\"\xe2\x80\x94\xe2\x80\"" },
		{ "a\0b", 3, "\"a\\u0000b\"" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct buf b = BUF_INIT;

		buf_puts(&b, "x");	/* appends */
		val_json_string(&b, v[i].in, v[i].len);
		OK(b.len == strlen(v[i].out) + 1 && b.ptr[0] == 'x' &&
		    strcmp(b.ptr + 1, v[i].out) == 0, "json string %zu: %s",
		    i, b.ptr);
		buf_release(&b);
	}
}

/* Keys made on another thread (test_intern). */
struct intern_arg {
	struct value	*map;
};

static void *
intern_thread(void *arg)
{
	struct intern_arg *a = arg;
	char k[16];
	int i;

	a->map = val_map();
	for (i = 0; i < 200; i++) {
		snprintf(k, sizeof(k), "t%d", i % 50);
		val_set(a->map, k, val_num(i));
	}
	return NULL;
}

/* val_set's keys: one shared value per short key text, on every thread;
 * long keys and keys past a full table are made as before; freeing maps
 * never frees a shared key (ASan and valgrind runs see to the rest). */
static void
test_intern(void)
{
	struct value *a = val_map(), *b = val_map(), *big = val_map(), *c;
	struct intern_arg ta, tb;
	pthread_t t1, t2;
	char k[64], longk[64];
	size_t i, shared = 0;
	int same = 1, ok = 1;

	memset(longk, 'k', 40);
	longk[40] = '\0';
	val_set(a, "title", val_str("A"));
	val_set(b, "title", val_str("B"));
	val_set(a, longk, val_num(1));
	val_set(b, longk, val_num(2));
	OK(a->keys[0] == b->keys[0], "a short key is one shared value");
	OK(a->keys[0]->immortal && !a->items[0]->immortal,
	    "the key is interned, the item is not");
	OK(a->keys[1] != b->keys[1] && !a->keys[1]->immortal,
	    "a key of 40 bytes is a value of its own");
	STR_EQ(val_cstr(val_get(b, longk)), "2", "long key found");
	val_set(a, "title", val_str("A2"));
	STR_EQ(val_cstr(val_get(a, "title")), "A2", "replaced under a "
	    "shared key");
	STR_EQ(val_cstr(val_get(b, "title")), "B", "other map unchanged");
	/* a copy of a map holds keys of its own, equal in text */
	c = val_copy(a);
	STR_EQ(c->keys[0]->str, "title", "copied key");
	val_unref(c);
	val_unref(a);
	STR_EQ(b->keys[0]->str, "title", "the shared key outlives a map");
	val_unref(b);

	/* two threads at once get the same values for the same texts */
	pthread_create(&t1, NULL, intern_thread, &ta);
	pthread_create(&t2, NULL, intern_thread, &tb);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	INT_EQ(ta.map->n, 50, "thread map keys");
	for (i = 0; i < ta.map->n; i++) {
		snprintf(k, sizeof(k), "t%zu", i);
		same = same && ta.map->keys[i] == tb.map->keys[i] &&
		    strcmp(ta.map->keys[i]->str, k) == 0 &&
		    val_get(tb.map, k) == tb.map->items[i];
	}
	OK(same, "threads share the interned keys");
	val_unref(ta.map);
	val_unref(tb.map);

	/* more distinct keys than the table takes: every one still works */
	for (i = 0; i < 3000; i++) {
		snprintf(k, sizeof(k), "key-%zu", i);
		val_set(big, k, val_num((double)i));
	}
	for (i = 0; i < 3000 && ok; i++) {
		snprintf(k, sizeof(k), "key-%zu", i);
		ok = val_get(big, k) && val_get(big, k)->num == (double)i &&
		    strcmp(big->keys[i]->str, k) == 0;
		shared += big->keys[i]->immortal;
	}
	OK(ok, "3000 distinct keys set and found");
	OK(shared > 1000 && shared < 3000, "the table filled up, then keys "
	    "were made one by one (%zu interned)", shared);
	val_unref(big);
}

int
main(void)
{
	test_intern();
	test_json_string();
	test_roundtrip();
	test_ccache();
	return DONE();
}
