/*
 * test_search: srch_* writes an index that reads back: files and layout,
 * postings of chosen terms (doc ids, field mask, tf, positions), escaping,
 * byte-identical output whatever the thread count, rewrite removes stale
 * shards.  Ranking itself is checked by tests/search/query.test.mjs.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "fsum.h"
#include "harness.h"
#include "search.h"
#include "sha256.h"
#include "util.h"

static const char *const ctl_backup[] = { "8.13" };
static const char *const ctl_a[] = { "A.5.1", "5.17" };
static const char *const tags_a[] = { "バックアップ", "EDR" };

static const struct srch_section sec0[] = {
	{ "", "", "業務データのバックアップを毎日取得する。" },
	{ "restore", "復旧", "バックアップから復元できることを確認する。" },
};
static const struct srch_section sec1[] = {
	{ "", "", "情報を守るための方針。情報資産の一覧を作る。" },
};
static const struct srch_section sec2[] = {
	{ "x", "</script><!-- \xe2\x80\xa8", "bad \xff bytes \x01 and </script>, see 8.13" },
};

static void
docs(struct srch *s)
{
	struct srch_doc d;

	memset(&d, 0, sizeof(d));
	d.url = "procedures/backup.html";
	d.title = "バックアップ手順";
	d.type = "procedure";
	d.type_label = "手順書";
	d.lang = "ja";
	d.date = "2024-05-10";
	d.controls = ctl_backup;
	d.ncontrols = 1;
	d.sections = sec0;
	d.nsections = 2;
	srch_add(s, &d);
	memset(&d, 0, sizeof(d));
	d.url = "policies/info.html";
	d.title = "情報セキュリティ方針";
	d.type = "policy";
	d.controls = ctl_a;
	d.ncontrols = 2;
	d.tags = tags_a;
	d.ntags = 2;
	d.sections = sec1;
	d.nsections = 1;
	srch_add(s, &d);
	memset(&d, 0, sizeof(d));
	d.url = "x.html";
	d.title = "</script><script>alert(1)</script>";
	d.sections = sec2;
	d.nsections = 1;
	srch_add(s, &d);
}

/* Reads every file under dir/search (sorted names) into one buffer. */
static void
slurp(const char *dir, struct buf *out)
{
	static const char *const sub[] = { "", "t", "r", "p", "d", "f" };
	size_t i, k, n;

	for (i = 0; i < 6; i++) {
		char *p = xasprintf("%s/search/%s", dir, sub[i]);
		DIR *dd = opendir(p);
		struct dirent *e;
		char *names[256];

		n = 0;
		while (dd && (e = readdir(dd)) && n < 256)
			if (util_has_suffix(e->d_name, ".js"))
				names[n++] = xstrdup(e->d_name);
		if (dd)
			closedir(dd);
		util_sort_strings(names, n);
		for (k = 0; k < n; k++) {
			char *f = xasprintf("%s/%s", p, names[k]);

			buf_printf(out, "== %s/%s\n", sub[i], names[k]);
			util_read_file(f, out);
			free(f);
			free(names[k]);
		}
		free(p);
	}
}

static unsigned long
varint(const unsigned char **p)
{
	unsigned long v = 0;
	int s = 0;

	while (**p & 0x80) {
		v |= (unsigned long)(*(*p)++ & 0x7f) << s;
		s += 7;
	}
	v |= (unsigned long)(*(*p)++) << s;
	return v;
}

/* Decodes a byte string (one character per byte: printable ASCII
 * without " & < > \ for bytes below 90, else U+0100 + byte) of n bytes of
 * UTF-8 at s into out; returns the number of bytes. */
static size_t
unbytes(const char *s, size_t n, unsigned char *out)
{
	static const char tab[] = " !#$%'()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOP"
	    "QRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";
	const unsigned char *p = (const unsigned char *)s;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (p[i] < 0x80) {
			out[o++] = (unsigned char)(strchr(tab, p[i]) - tab);
		} else {
			out[o++] = (unsigned char)((((p[i] & 0x1f) << 6 |
			    (p[i + 1] & 0x3f)) - 0x100));
			i++;
		}
	}
	return o;
}

/* The decoded blob of term in the shards of kind ("t" or "p") in `all`;
 * returns its length, or 0 when absent. */
static size_t
find_blob(const char *all, const char *kind, const char *term,
    unsigned char *bytes)
{
	char key[128], head[16];
	const char *p = all, *shard, *keys, *data;
	size_t idx, k, i;

	snprintf(key, sizeof(key), "\"%s\"", term);
	snprintf(head, sizeof(head), "[\"%s\",\"%s/", kind, kind);
	while ((shard = strstr(p, head))) {
		keys = strchr(shard + 8, '[') + 1;
		data = strstr(keys, "],[") + 3;
		p = data;
		for (idx = 0, k = 0; keys + k < data - 3; idx++) {
			size_t len = strcspn(keys + k, ",]");

			if (len == strlen(key) && memcmp(keys + k, key, len) == 0) {
				const char *d = data;

				/* blobs may hold ',' and ']' but never '"' */
				for (i = 0; i < idx; i++)
					d = strchr(d + 1, '"') + 2;
				d++;
				return unbytes(d, strcspn(d, "\""), bytes);
			}
			k += len + 1;
		}
	}
	return 0;
}

/* Finds term in the term shards of `all` and decodes its postings into
 * "id:mask:[tf p p p];..." text.  The first number is df * 2 + sep; with
 * sep, the positions are in the term's position shard, else in place. */
static void
posting(const char *all, const char *term, struct buf *out)
{
	unsigned char bytes[4096], pbytes[4096];
	const unsigned char *b = bytes, *q = pbytes;
	size_t n, np = 0, nd, j, f, id = 0, sep;
	/* only CJK bigrams have positions (two 3-byte kana/kanji here) */
	int bigram = strlen(term) == 6 && (unsigned char)term[0] >= 0xe3;

	n = find_blob(all, "t", term, bytes);
	if (n == 0)
		return;
	nd = varint(&b);
	sep = nd & 1;
	nd >>= 1;
	if (sep)
		np = find_blob(all, "p", term, pbytes);
	else
		q = NULL;
	for (j = 0; j < nd && b < bytes + n; j++) {
		unsigned long mask, h, single = 0;

		id += varint(&b);
		h = varint(&b);
		if (h < 80) {
			mask = 1ul << (h % 5);
			single = h / 5 + 1;
		} else {
			mask = h - 80;
		}
		buf_printf(out, "%s%zu:%lu:", j ? ";" : "", id, mask);
		for (f = 0; f < 5; f++) {
			unsigned long tf, t, pos = 0;

			if (!(mask & (1ul << f)))
				continue;
			tf = single ? single : varint(&b);
			buf_printf(out, "[%lu", tf);
			for (t = 0; t < tf && f != 1 && bigram &&
			    (!q || q < pbytes + np);
			    t++) {
				pos += varint(q ? &q : &b);
				buf_printf(out, " %lu", pos);
			}
			buf_putc(out, ']');
		}
	}
}

/* Ranking sanity with the manifest's weights: for "8.13" the document
 * with the control (field 1) outranks the one that mentions it in the body
 * (field 4), and terms and shard boundaries are in code-point order. */
static void
ranking(const char *all)
{
	const char *fw = strstr(all, "\"fw\":["), *t, *p;
	int w[5] = { 0 }, n;
	char prev[64] = "", cur[64];

	OK(fw && sscanf(fw, "\"fw\":[%d,%d,%d,%d,%d]", &w[0], &w[1], &w[2],
	    &w[3], &w[4]) == 5, "field weights in the manifest");
	/* tf 1 in each: BM25 saturation is the same, so weights decide */
	OK(w[1] > w[0] && w[0] > w[3] && w[3] > w[2] && w[2] > w[4],
	    "control > title > tag > heading > body");
	t = strstr(all, "\"t\":[[");
	OK(t != NULL, "shard boundaries");
	for (p = t ? t + 5 : ""; (p = strstr(p, "[\"")) && p < strstr(t, "]]") + 2;
	    p += 2) {
		n = (int)strcspn(p + 2, "\"");
		snprintf(cur, sizeof(cur), "%.*s", n, p + 2);
		OK(strcmp(prev, cur) < 0, "boundary '%s' after '%s'", cur, prev);
		snprintf(prev, sizeof(prev), "%s", cur);
	}
}

/* n documents of mixed text, sections longer than the doc shards show,
 * terms shared by many of them (so that postings span batches). */
static void many_docs_v(struct srch *, int, int);

static void
many_docs(struct srch *s, int n)
{
	many_docs_v(s, n, -1);
}

/* many_docs with document `changed` (or none) saying something else
 * (1000 + k: document k, one word for another). */
static void
many_docs_v(struct srch *s, int n, int changed)
{
	static const char *const words[] = { "backup", "\xe7\xae\xa1\xe7\x90"
	    "\x86\xe7\xad\x96", "8.13", "\xe3\x83\x90\xe3\x83\x83\xe3"
	    "\x82\xaf\xe3\x82\xa2\xe3\x83\x83\xe3\x83\x97", "audit",
	    "\xe6\x89\x8b\xe9\xa0\x86", "log", "A.5.1" };
	struct srch_section sec[2];
	struct srch_doc d;
	struct buf t0 = BUF_INIT, t1 = BUF_INIT;
	char url[32], title[32];
	int i, k;

	for (i = 0; i < n; i++) {
		buf_reset(&t0);
		buf_reset(&t1);
		for (k = 0; k < 60 + i % 50; k++)
			buf_printf(&t0, "%s%s", words[(i * 7 + k * 3) % 8],
			    k % 3 ? " " : "\xe3\x80\x82");
		for (k = 0; k < i % 9; k++)
			buf_printf(&t1, "%s w%d ", words[(i + k) % 8], i % 13);
		if (i == changed)
			buf_puts(&t1, " \xe5\xa4\x89\xe6\x9b\xb4 changed");
		/* 1000 + k: doc k says "log" where it said "audit" (both
		 * are in its first section too): two terms' frequencies
		 * change, no term comes or goes, no length changes */
		if (i + 1000 == changed) {
			buf_reset(&t1);
			for (k = 0; k < i % 9; k++)
				buf_printf(&t1, "%s w%d ", strcmp(words[(i + k) %
				    8], "audit") ? words[(i + k) % 8] : "log",
				    i % 13);
		}
		sec[0].anchor = "";
		sec[0].heading = "";
		sec[0].text = t0.ptr;
		sec[1].anchor = "s";
		sec[1].heading = words[i % 8];
		sec[1].text = t1.ptr ? t1.ptr : "";
		snprintf(url, sizeof(url), "p/%04d.html", i);
		snprintf(title, sizeof(title), "%s %d", words[(i + 3) % 8], i);
		memset(&d, 0, sizeof(d));
		d.url = url;
		d.title = title;
		d.type = i % 2 ? "procedure" : "policy";
		d.lang = i % 3 ? "ja" : "en";
		d.sections = sec;
		d.nsections = 2;
		srch_add(s, &d);
	}
	buf_release(&t0);
	buf_release(&t1);
}

/* Batches of any size, any thread count and lean texts give the bytes of
 * one batch on one thread; a lean index is written once. */
static void
batches(const char *dir, struct diag *d)
{
	struct srch *ref = srch_new(), *v = srch_new();
	struct buf a = BUF_INIT, b = BUF_INIT;
	char *d1 = xasprintf("%s/one", dir), *d2 = xasprintf("%s/batched", dir);

	many_docs(ref, 300);
	many_docs(v, 300);
	srch_set_threads(ref, 1);
	srch_set_batch(ref, 1000);
	srch_set_threads(v, 3);
	srch_set_batch(v, 7);
	srch_set_lean(v, 1);
	INT_EQ(srch_write(ref, d1, d), 0, "one batch");
	INT_EQ(srch_write(v, d2, d), 0, "batches of 7, lean");
	slurp(d1, &a);
	slurp(d2, &b);
	OK(a.len > 20000 && a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0,
	    "batches and lean texts change no byte (%zu, %zu)", a.len, b.len);
	OK(strstr(a.ptr, "w12") != NULL, "second sections indexed");
	INT_EQ(diag_errors(d), 0, "no diagnostics yet");
	INT_EQ(srch_write(v, d2, d), -1, "a lean index is written once");
	INT_EQ(diag_errors(d), 1, "and says so");
	diag_release(d);
	diag_init(d);
	srch_free(ref);
	srch_free(v);
	buf_release(&a);
	buf_release(&b);
	free(d1);
	free(d2);
}

/* An index of n docs (doc `changed` edited), lean, in batches of 7 on 2
 * threads, with its cache in cdir (NULL: none). */
static struct srch *
cached_index(int n, int changed, const char *cdir)
{
	static const unsigned char salt[32] = { 1, 2, 3 };
	struct srch *s = srch_new();

	many_docs_v(s, n, changed);
	srch_set_batch(s, 7);
	srch_set_threads(s, 2);
	srch_set_lean(s, 1);
	if (cdir)
		srch_set_cache(s, cdir, salt);
	return s;
}

/* Writes cached_index() into out; returns its stats. */
static struct srch_stats
cached_write(const char *cdir, const char *out, int n, int changed,
    struct buf *bytes, struct diag *d)
{
	struct srch *s = cached_index(n, changed, cdir);
	struct srch_stats st;

	INT_EQ(srch_write(s, out, d), 0, "srch_write with the cache");
	srch_get_stats(s, &st);
	buf_reset(bytes);
	slurp(out, bytes);
	srch_free(s);
	return st;
}

/* The batch cache: a batch whose documents did not change is read, not
 * tokenized, and the index is the bytes of an index made without it
 * (after an edit, a damaged file, a foreign file, fewer documents). */
static void
batch_cache(const char *dir, struct diag *d)
{
	struct buf ref = BUF_INIT, got = BUF_INIT;
	struct srch_stats st;
	char *cdir = xasprintf("%s/cache", dir), *o1 = xasprintf("%s/c1", dir);
	char *o2 = xasprintf("%s/c2", dir), *f = xasprintf("%s/b3.bin", cdir);
	char *stale = xasprintf("%s/b40.bin", cdir);
	struct buf c = BUF_INIT;

	(void)cached_write(NULL, o1, 300, -1, &ref, d);
	st = cached_write(cdir, o2, 300, -1, &got, d);
	INT_EQ(st.batches, 43, "300 docs in batches of 7");
	INT_EQ(st.batches_cached, 0, "a cold cache");
	OK(ref.len == got.len && memcmp(ref.ptr, got.ptr, ref.len) == 0,
	    "cold cache: same bytes");
	st = cached_write(cdir, o2, 300, -1, &got, d);
	INT_EQ(st.batches_cached, 43, "nothing changed: every batch read");
	OK(ref.len == got.len && memcmp(ref.ptr, got.ptr, ref.len) == 0,
	    "every batch read: same bytes");
	(void)cached_write(NULL, o1, 300, 100, &ref, d);
	st = cached_write(cdir, o2, 300, 100, &got, d);
	INT_EQ(st.batches_cached, 42, "one document edited: one batch again");
	OK(ref.len == got.len && memcmp(ref.ptr, got.ptr, ref.len) == 0,
	    "one document edited: same bytes as without the cache");
	/* one byte of a batch file flipped: that batch is made again */
	OK(util_read_file(f, &c) == 0 && c.len > 100, "batch file there");
	c.ptr[c.len / 2] ^= 1;
	util_write_file(f, c.ptr, c.len);
	st = cached_write(cdir, o2, 300, 100, &got, d);
	INT_EQ(st.batches_cached, 42, "damaged file: its batch made again");
	OK(ref.len == got.len && memcmp(ref.ptr, got.ptr, ref.len) == 0,
	    "damaged file: same bytes");
	/* a file from another batch under this batch's name: a miss */
	buf_reset(&c);
	util_read_file(f, &c);
	{
		char *g = xasprintf("%s/b4.bin", cdir);

		util_write_file(g, c.ptr, c.len);
		free(g);
	}
	st = cached_write(cdir, o2, 300, 100, &got, d);
	INT_EQ(st.batches_cached, 42, "foreign file: a miss");
	OK(ref.len == got.len && memcmp(ref.ptr, got.ptr, ref.len) == 0,
	    "foreign file: same bytes");
	/* fewer documents: the files of batches past the last go */
	OK(util_is_file(stale), "batch 40 kept");
	(void)cached_write(NULL, o1, 200, 100, &ref, d);
	st = cached_write(cdir, o2, 200, 100, &got, d);
	INT_EQ(st.batches_cached, 28, "200 docs: the first 28 batches read");
	OK(ref.len == got.len && memcmp(ref.ptr, got.ptr, ref.len) == 0,
	    "fewer documents: same bytes");
	OK(!util_is_file(stale), "stale batch file removed");
	buf_release(&ref);
	buf_release(&got);
	buf_release(&c);
	free(cdir);
	free(o1);
	free(o2);
	free(f);
	free(stale);
}

/* srch_add_all gives the index of srch_add one by one; borrowed texts
 * (valid ones used in place, a few ill-formed ones copied and cleaned)
 * give it too, and are left as they were. */
static void
add_all(const char *dir, struct diag *d)
{
	enum { N = 150 };
	static const unsigned char salt[32] = { 7 };
	struct srch_section (*secs)[2] = xcalloc(N, sizeof(*secs));
	struct srch_doc *docs = xcalloc(N, sizeof(*docs));
	char *texts[N][2], *before[N][2], url[N][24], title[N][24];
	struct buf a = BUF_INIT, b = BUF_INIT;
	int i, k, v, same = 1;
	char *out[4], *cdir;
	struct srch_stats st;
	unsigned char (*sums)[32] = xcalloc(N, sizeof(*sums));
	int nvalid = 0, valid;

	for (i = 0; i < N; i++) {
		struct buf t = BUF_INIT;

		for (k = 0; k < 2; k++) {
			buf_reset(&t);
			if (i % 37 == 5 && k == 1)	/* ill-formed */
				buf_puts(&t, "bad \xff\xe3\x81 end ");
			for (v = 0; v < 30 + (i * 7 + k) % 40; v++)
				buf_printf(&t, "%s ", v % 3 ? "\xe7\xae\xa1\xe7"
				    "\x90\x86\xe7\xad\x96" : "backup 8.13");
			texts[i][k] = xstrdup(t.ptr);
			before[i][k] = xstrdup(t.ptr);
			secs[i][k].anchor = k ? "s" : "";
			secs[i][k].heading = k ? "\xe6\x89\x8b\xe9\xa0\x86" : "";
			secs[i][k].text = texts[i][k];
		}
		buf_release(&t);
		snprintf(url[i], sizeof(url[i]), "p/%03d.html", i);
		snprintf(title[i], sizeof(title[i]), "doc %d", i);
		docs[i].url = url[i];
		docs[i].title = title[i];
		docs[i].type = "procedure";
		docs[i].lang = "ja";
		docs[i].sections = secs[i];
		docs[i].nsections = 2;
	}
	/* the sections' sums an earlier build would keep */
	for (i = 0; i < N; i++) {
		srch_sections_sum(secs[i], 2, sums[i], &valid);
		nvalid += valid;
	}
	INT_EQ(nvalid, N - (N - 5 + 36) / 37, "srch_sections_sum: the "
	    "ill-formed texts found");
	for (v = 0; v < 4; v++) {
		struct srch *s = srch_new();

		srch_set_threads(s, 3);
		srch_set_batch(s, 16);
		srch_set_lean(s, 1);
		/* one cache for the three: the sums made by srch_add_all
		 * must find the batches srch_add's wrote */
		cdir = xasprintf("%s/addall-cache", dir);
		srch_set_cache(s, cdir, salt);
		free(cdir);
		if (v == 0) {
			for (i = 0; i < N; i++)
				srch_add(s, &docs[i]);
		} else {
			for (i = 0; i < N; i++) {
				docs[i].borrow = v >= 2;
				/* way 3: with the sums, and valid texts said so */
				docs[i].sections_sum = v == 3 ? sums[i] : NULL;
				docs[i].sections_valid = v == 3 &&
				    i % 37 != 5;
			}
			srch_add_all(s, docs, N);
		}
		out[v] = xasprintf("%s/addall%d", dir, v);
		OK(srch_write(s, out[v], d) == 0, "srch_write, way %d", v);
		srch_get_stats(s, &st);
		OK(st.batches == 10 && st.batches_cached == (v ? 10 : 0),
		    "way %d: %zu of %zu batches from the cache", v,
		    st.batches_cached, st.batches);
		srch_free(s);
	}
	slurp(out[0], &a);
	for (v = 1; v < 4; v++) {
		buf_reset(&b);
		slurp(out[v], &b);
		OK(a.len > 10000 && a.len == b.len && memcmp(a.ptr, b.ptr, a.len)
		    == 0, "%s: same bytes as srch_add one by one",
		    v == 1 ? "srch_add_all" : v == 2 ? "srch_add_all, borrowed "
		    "texts" : "srch_add_all, borrowed texts and their sums");
	}
	OK(strstr(a.ptr, "bad \xef\xbf\xbd") != NULL, "an ill-formed text "
	    "cleaned in the doc shard");
	for (i = 0; i < N; i++)
		for (k = 0; k < 2; k++) {
			same &= strcmp(texts[i][k], before[i][k]) == 0;
			free(texts[i][k]);
			free(before[i][k]);
		}
	OK(same, "borrowed texts left as they were");
	for (v = 0; v < 4; v++)
		free(out[v]);
	free(sums);
	free(secs);
	free(docs);
	buf_release(&a);
	buf_release(&b);
}

/* A caller of the shard cache: a store directory that plays the output
 * (files by their "search/..." names), what this write touched, and what
 * the keeper and the writer were asked. */
struct store {
	pthread_mutex_t lock;	/* the writer threads call in at once */
	char	*dir;
	char	*touched[4096];
	size_t	 ntouched;
	int	 keep_answer;	/* -1: look at the file; 0: always "make it" */
	size_t	 asked, kept, written;
	int	 bad_path;	/* a path outside search/ or with ".." */
};

static void
touch(struct store *st, const char *rel)
{
	size_t i;

	if (strncmp(rel, "search/", 7) != 0 || strstr(rel, "..") != NULL)
		st->bad_path = 1;
	for (i = 0; i < st->ntouched; i++)
		if (strcmp(st->touched[i], rel) == 0)
			return;
	if (st->ntouched < 4096)
		st->touched[st->ntouched++] = xstrdup(rel);
}

static int
store_write(void *arg, const char *rel, const void *p, size_t len,
    const char hex[65])
{
	struct store *st = arg;
	char *path = util_path_join(st->dir, rel), *dir = xstrdup(path);
	char mine[65];
	int rc;

	sha256_hex(p, len, mine);
	*strrchr(dir, '/') = '\0';
	util_mkdir_p(dir);
	rc = util_write_file(path, p, len);
	pthread_mutex_lock(&st->lock);
	if (strcmp(mine, hex) != 0)
		st->bad_path = 1;	/* the hex must be the content's */
	touch(st, rel);
	st->written++;
	pthread_mutex_unlock(&st->lock);
	free(path);
	free(dir);
	return rc;
}

static int
store_keep(void *arg, const char *rel, const char hex[65], size_t len)
{
	struct store *st = arg;
	char *path = util_path_join(st->dir, rel);
	struct buf c = BUF_INIT;
	char mine[65];
	int same = 0, bad = strncmp(rel, "search/", 7) != 0 ||
	    strstr(rel, "..") != NULL;

	if (!bad && st->keep_answer != 0 && util_read_file(path, &c) == 0 &&
	    c.len == len) {
		sha256_hex(c.ptr, c.len, mine);
		same = strcmp(mine, hex) == 0;
	}
	pthread_mutex_lock(&st->lock);
	st->asked++;
	st->bad_path |= bad;
	if (same) {
		touch(st, rel);
		st->kept++;
	}
	pthread_mutex_unlock(&st->lock);
	buf_release(&c);
	free(path);
	return same;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Writes n docs (doc `changed` edited) through the store, with the cache
 * in cdir (NULL: none, and no keeper); `out` gets the files this write
 * touched, sorted by name, names and bytes. */
static struct srch_stats
store_write_all(struct store *st, const char *cdir, int n, int changed,
    struct buf *out, struct diag *d)
{
	struct srch *s;
	struct srch_stats stats;
	struct buf c = BUF_INIT;
	size_t i;

	for (i = 0; i < st->ntouched; i++)
		free(st->touched[i]);
	st->ntouched = st->asked = st->kept = st->written = 0;
	s = cached_index(n, changed, cdir);
	srch_set_writer(s, store_write, cdir ? store_keep : NULL, st);
	INT_EQ(srch_write(s, "/nonexistent", d), 0, "srch_write through the "
	    "store");
	srch_get_stats(s, &stats);
	srch_free(s);
	qsort(st->touched, st->ntouched, sizeof(*st->touched), str_cmp);
	buf_reset(out);
	for (i = 0; i < st->ntouched; i++) {
		char *path = util_path_join(st->dir, st->touched[i]);

		buf_reset(&c);
		util_read_file(path, &c);
		buf_printf(out, "%s\n", st->touched[i]);
		buf_put(out, c.ptr, c.len);
		free(path);
	}
	buf_release(&c);
	return stats;
}

/* The shard cache: a shard whose key the last write recorded is kept when
 * the caller has its file, and the index is the bytes of one made without
 * the cache (nothing changed, one edit, files lost, a damaged record
 * file, a record file that names a path outside search/). */
static void
shard_cache(const char *dir, struct diag *d)
{
	struct store st, ref;
	struct buf want = BUF_INIT, got = BUF_INIT, c = BUF_INIT;
	struct srch_stats s1;
	char *cdir = xasprintf("%s/shardcache", dir);
	char *recs = xasprintf("%s/shards.bin", cdir);
	size_t i;

	memset(&st, 0, sizeof(st));
	memset(&ref, 0, sizeof(ref));
	pthread_mutex_init(&st.lock, NULL);
	pthread_mutex_init(&ref.lock, NULL);
	st.dir = xasprintf("%s/store", dir);
	ref.dir = xasprintf("%s/ref", dir);
	st.keep_answer = -1;
	(void)store_write_all(&ref, NULL, 300, -1, &want, d);
	INT_EQ((int)ref.asked, 0, "no cache: no keeper");
	s1 = store_write_all(&st, cdir, 300, -1, &got, d);
	INT_EQ((int)s1.files_kept, 0, "cold: nothing kept");
	OK(util_is_file(recs), "records written");
	OK(want.len > 20000 && want.len == got.len &&
	    memcmp(want.ptr, got.ptr, want.len) == 0, "cold: same bytes");
	s1 = store_write_all(&st, cdir, 300, -1, &got, d);
	INT_EQ((int)s1.files_kept, (int)s1.files - 3, "nothing changed: "
	    "every shard kept (all but facets, lengths, manifest)");
	INT_EQ((int)st.written, 3, "and only those three written");
	OK(want.len == got.len && memcmp(want.ptr, got.ptr, want.len) == 0,
	    "every shard kept: same bytes");
	/* one document edited: some shards made again, the rest kept */
	(void)store_write_all(&ref, NULL, 300, 100, &want, d);
	s1 = store_write_all(&st, cdir, 300, 100, &got, d);
	OK(s1.files_kept > 0 && s1.files_kept + 3 < s1.files,
	    "one edit: %zu of %zu kept", s1.files_kept, s1.files);
	OK(want.len == got.len && memcmp(want.ptr, got.ptr, want.len) == 0,
	    "one edit: same bytes as without the cache");
	/* two terms' frequencies in one document: only their postings change */
	(void)store_write_all(&ref, NULL, 300, 1000 + 100, &want, d);
	s1 = store_write_all(&st, cdir, 300, 1000 + 100, &got, d);
	OK(s1.files_kept > 0 && s1.files_kept + 3 < s1.files,
	    "one word for another: %zu of %zu kept", s1.files_kept, s1.files);
	OK(want.len == got.len && memcmp(want.ptr, got.ptr, want.len) == 0,
	    "one word for another: same bytes as without the cache");
	(void)store_write_all(&ref, NULL, 300, 100, &want, d);
	/* the caller lost its files: everything is made */
	st.keep_answer = 0;
	s1 = store_write_all(&st, cdir, 300, 100, &got, d);
	INT_EQ((int)s1.files_kept, 0, "files lost: nothing kept");
	OK(st.asked > 0, "the keeper was asked");
	OK(want.len == got.len && memcmp(want.ptr, got.ptr, want.len) == 0,
	    "files lost: same bytes");
	st.keep_answer = -1;
	/* a damaged record file: no record is used */
	OK(util_read_file(recs, &c) == 0 && c.len > 200, "record file there");
	c.ptr[c.len / 2] ^= 1;
	util_write_file(recs, c.ptr, c.len);
	s1 = store_write_all(&st, cdir, 300, 100, &got, d);
	INT_EQ((int)st.asked, 0, "damaged records: the keeper not asked");
	INT_EQ((int)s1.files_kept, 0, "damaged records: nothing kept");
	OK(want.len == got.len && memcmp(want.ptr, got.ptr, want.len) == 0,
	    "damaged records: same bytes");
	/* a record naming "../x" (checksum made good): never asked about */
	buf_reset(&c);
	OK(util_read_file(recs, &c) == 0 && c.len > 200, "records again");
	{
		size_t magic = strlen("tebiki-shards 2\n");
		unsigned char sum[FSUM_LEN];

		for (i = 0; i + FSUM_LEN < c.len - magic - 8; i += 136)
			memcpy(c.ptr + magic + 8 + i + 32, "../x/0123456789", 16);
		fsum(c.ptr, c.len - FSUM_LEN, sum);
		memcpy(c.ptr + c.len - FSUM_LEN, sum, FSUM_LEN);
		util_write_file(recs, c.ptr, c.len);
	}
	s1 = store_write_all(&st, cdir, 300, 100, &got, d);
	INT_EQ((int)st.asked, 0, "bad names: the keeper not asked");
	OK(!st.bad_path, "no path outside search/, every hex the content's");
	OK(want.len == got.len && memcmp(want.ptr, got.ptr, want.len) == 0,
	    "bad names: same bytes");
	for (i = 0; i < st.ntouched; i++)
		free(st.touched[i]);
	for (i = 0; i < ref.ntouched; i++)
		free(ref.touched[i]);
	free(st.dir);
	free(ref.dir);
	pthread_mutex_destroy(&st.lock);
	pthread_mutex_destroy(&ref.lock);
	free(cdir);
	free(recs);
	buf_release(&want);
	buf_release(&got);
	buf_release(&c);
}

int
main(void)
{
	char tmpl[] = "/tmp/test_search.XXXXXX", *dir = mkdtemp(tmpl);
	char *dir2 = NULL, *stale = NULL;
	struct srch *s = srch_new(), *s2 = srch_new();
	struct srch_stats st;
	struct diag d;
	struct buf a = BUF_INIT, b = BUF_INIT, p = BUF_INIT;

	diag_init(&d);
	OK(dir != NULL, "mkdtemp");
	docs(s);
	srch_set_threads(s, 1);
	INT_EQ(srch_write(s, dir, &d), 0, "srch_write");
	srch_get_stats(s, &st);
	INT_EQ(st.docs, 3, "docs");
	INT_EQ(st.doc_shards, 1, "doc shards");
	OK(st.term_shards >= 1, "term shards");
	OK(st.pos_shards == 0, "no position shards for small terms");
	INT_EQ(st.files, st.term_shards + st.pos_shards + st.doc_shards + 3,
	    "files");
	slurp(dir, &a);
	OK(strstr(a.ptr, "H.load?H.load(a)") != NULL && strstr(a.ptr, "\"m\",\"manifest\"") != NULL,
	    "manifest registers itself");
	OK(strstr(a.ptr, "</") == NULL, "no '</' anywhere in the index");
	OK(strstr(a.ptr, "<!--") == NULL, "no '<!--' anywhere in the index");
	OK(strstr(a.ptr, "\xe2\x80\xa8") == NULL, "U+2028 escaped");
	OK(strstr(a.ptr, "\x01") == NULL && strstr(a.ptr, "\xff") == NULL,
	    "control and invalid bytes escaped or replaced");
	OK(strstr(a.ptr, "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)") != NULL,
	    "title kept, escaped");
	OK(strstr(a.ptr, "\"u\":\"procedures/backup.html\"") != NULL, "url");
	OK(strstr(a.ptr, "[\"restore\",\"復旧\",") != NULL, "section anchor");

	/* postings: doc id, field mask (1 title, 2 control, 4 heading,
	 * 8 tag, 16 body), tf and positions per field */
	posting(a.ptr, "a.5", &p);
	STR_EQ(p.ptr, "1:2:[1]", "hierarchical prefix a.5 of A.5.1");
	buf_reset(&p);
	posting(a.ptr, "バッ", &p);
	STR_EQ(p.ptr, "0:17:[1 0][2 6 20];1:8:[1 0]",
	    "バッ: title + body twice in doc 0, tag in doc 1");
	buf_reset(&p);
	posting(a.ptr, "情報", &p);
	STR_EQ(p.ptr, "1:17:[1 0][2 0 11]", "情報 positions");
	buf_reset(&p);
	posting(a.ptr, "報を", &p);
	STR_EQ(p.ptr, "1:16:[1 1]", "報を follows 情報 at +1");
	buf_reset(&p);
	posting(a.ptr, "edr", &p);
	STR_EQ(p.ptr, "1:8:[1]", "edr tag (only CJK bigrams have positions)");
	buf_reset(&p);
	posting(a.ptr, "8.13", &p);
	STR_EQ(p.ptr, "0:2:[1];2:16:[1]", "8.13 in doc 0's controls, doc 2's body");
	ranking(a.ptr);

	/* positions in p/ files: the same postings read back */
	{
		struct srch *sp = srch_new();
		char *d4 = xasprintf("%s/split", dir);
		struct buf c = BUF_INIT, q = BUF_INIT;
		static const char *const terms[] = { "バッ", "情報", "報を",
		    "edr", "8.13", "a.5" };
		size_t i;

		docs(sp);
		srch_set_split(sp, 1);
		INT_EQ(srch_write(sp, d4, &d), 0, "srch_write split");
		srch_get_stats(sp, &st);
		OK(st.pos_shards >= 1, "position shards with a low split");
		INT_EQ(st.files, st.term_shards + st.pos_shards +
		    st.doc_shards + 3, "files with a low split");
		slurp(d4, &c);
		OK(strstr(c.ptr, "[\"p\",\"p/") != NULL, "p/ files written");
		for (i = 0; i < sizeof(terms) / sizeof(*terms); i++) {
			buf_reset(&p);
			buf_reset(&q);
			posting(a.ptr, terms[i], &p);
			posting(c.ptr, terms[i], &q);
			OK(p.len > 0 && strcmp(p.ptr, q.ptr) == 0,
			    "same postings with positions apart");
		}
		srch_free(sp);
		free(d4);
		buf_release(&c);
		buf_release(&q);
	}
	/* heads and tails: 40 copies of the documents with a tiny head
	 * size split the common terms; without splitting, none */
	{
		struct srch *h1 = srch_new(), *h0 = srch_new();
		char *d5 = xasprintf("%s/heads", dir), *d6 =
		    xasprintf("%s/noheads", dir);
		struct buf c = BUF_INIT;
		int k;

		for (k = 0; k < 40; k++) {
			docs(h1);
			docs(h0);
		}
		srch_set_head(h1, 1);
		srch_set_head(h0, (size_t)-1);
		INT_EQ(srch_write(h1, d5, &d), 0, "srch_write heads");
		srch_get_stats(h1, &st);
		OK(st.split_terms >= 5 && st.tail_shards >= 1,
		    "common terms split into heads and tails");
		INT_EQ(st.files, st.term_shards + st.tail_shards +
		    st.doc_shards + 3, "files with heads and tails");
		slurp(d5, &c);
		OK(strstr(c.ptr, "[\"r\",\"r/") != NULL, "r/ files written");
		OK(strstr(c.ptr, "\"r\":[[") != NULL, "tail shards in the manifest");
		/* a head: [blob, bound, whole df, tie id] with df 40 (バッ is in
		 * the title of one document of each copy) */
		OK(strstr(c.ptr, ",40,") != NULL, "a head carries the whole df");
		INT_EQ(srch_write(h0, d6, &d), 0, "srch_write no heads");
		srch_get_stats(h0, &st);
		OK(st.split_terms == 0 && st.tail_shards == 0, "no split: no tails");
		srch_free(h1);
		srch_free(h0);
		free(d5);
		free(d6);
		buf_release(&c);
	}
	/* same bytes with 4 threads and from a fresh writer */
	dir2 = xasprintf("%s/again", dir);
	docs(s2);
	srch_set_threads(s2, 4);
	INT_EQ(srch_write(s2, dir2, &d), 0, "srch_write 4 threads");
	slurp(dir2, &b);
	OK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0,
	    "byte-identical output with 1 and 4 threads");
	/* rewriting replaces the old files */
	stale = xasprintf("%s/search/t/stale.js", dir);
	util_write_file(stale, "x", 1);
	INT_EQ(srch_write(s, dir, &d), 0, "rewrite");
	OK(!util_is_file(stale), "stale shard removed");
	buf_reset(&b);
	slurp(dir, &b);
	OK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0,
	    "second srch_write gives the same bytes");
	/* empty index */
	{
		struct srch *e = srch_new();
		char *d3 = xasprintf("%s/empty", dir);

		INT_EQ(srch_write(e, d3, &d), 0, "empty index");
		srch_free(e);
		free(d3);
	}
	INT_EQ(diag_errors(&d), 0, "no diagnostics");
	batches(dir, &d);
	batch_cache(dir, &d);
	shard_cache(dir, &d);
	add_all(dir, &d);
	INT_EQ(diag_errors(&d), 0, "no diagnostics from the cached writes");
	util_rmtree(dir);
	srch_free(s);
	srch_free(s2);
	free(dir2);
	free(stale);
	buf_release(&a);
	buf_release(&b);
	buf_release(&p);
	diag_release(&d);
	return DONE();
}
