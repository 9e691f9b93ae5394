/*
 * Unit tests for rcache.h: entries saved come back field by field (their
 * strings read in place from the file's buffer); a rebuild that changes
 * nothing writes no file and one that changes an entry writes its file
 * only; a file cut short, with a byte flipped, of another format, or
 * whose checksum was made good over a string without its NUL is an empty
 * part of the cache, never a crash (ASan reads past nothing).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fsum.h"
#include "rcache.h"
#include "search.h"
#include "util.h"

#include "harness.h"

#define N	300

static char outs[N][32], bodies[N][64], texts[N][48];
static struct srch_section secs[N][2];
static struct rc_diag diags[N];
static char code[] = "code", warn[] = "warning text";

/* Entry i: a body (NULL for every 7th: comes from the loader), two
 * sections, a diagnostic for every 5th. */
static void
make(struct rc_entry *v, int salt)
{
	int i;

	memset(v, 0, N * sizeof(*v));
	for (i = 0; i < N; i++) {
		snprintf(outs[i], sizeof(outs[i]), "procedures/p%04d.html", i);
		snprintf(bodies[i], sizeof(bodies[i]), "<p>本文 %d / %d</p>",
		    i, salt);
		snprintf(texts[i], sizeof(texts[i]), "テキスト %d", i);
		v[i].out = outs[i];
		memset(v[i].key, i & 0xff, 32);
		v[i].key[0] = (unsigned char)salt;
		memset(v[i].hex, 'a' + i % 6, 64);
		v[i].len = (size_t)(1000 + i);
		v[i].body = i % 7 ? bodies[i] : NULL;
		v[i].ref = &bodies[i];
		secs[i][0].anchor = "";
		secs[i][0].heading = "";
		secs[i][0].text = texts[i];
		secs[i][1].anchor = "h-1";
		secs[i][1].heading = "見出し";
		secs[i][1].text = i % 3 ? "二つ目" : NULL;	/* loader */
		v[i].secs = secs[i];
		v[i].nsecs = 2;
		v[i].secsum_set = i % 2;
		v[i].secs_valid = i % 4 == 1;
		memset(v[i].secsum, 0x5a, 32);
		if (i % 5 == 0) {
			diags[i].sev = 1;
			diags[i].line = i;
			diags[i].col = 3;
			diags[i].code = i % 10 ? code : NULL;
			diags[i].text = warn;
			v[i].diags = &diags[i];
			v[i].ndiags = 1;
		}
	}
}

/* What the build's loader gives: the body or section k of entry ref. */
static char *
loader(void *ctx, const void *ref, long what)
{
	(void)ctx;
	if (what < 0)
		return xasprintf("%s (loaded)", (const char *)ref);
	return xstrdup("二つ目");
}

static int
count_new(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".new"))
			n++;
	if (d)
		closedir(d);
	return n;
}

/* 1 when every entry of v loads back from c as saved. */
static int
same_entries(const struct rcache *c, const struct rc_entry *v)
{
	const struct rc_entry *e;
	char want[96];
	int i, bad = 0;

	for (i = 0; i < N; i++) {
		e = rc_find(c, v[i].out, v[i].key);
		if (e == NULL) {
			bad++;
			continue;
		}
		snprintf(want, sizeof(want), "%.63s%s", bodies[i],
		    v[i].body ? "" : " (loaded)");
		if (strcmp(e->body, want) != 0 || e->len != v[i].len ||
		    memcmp(e->hex, v[i].hex, 64) != 0 || e->nsecs != 2 ||
		    strcmp(e->secs[0].text, texts[i]) != 0 ||
		    strcmp(e->secs[1].heading, "見出し") != 0 ||
		    strcmp(e->secs[1].text, "二つ目") != 0 ||
		    e->secsum_set != v[i].secsum_set ||
		    e->secs_valid != (v[i].secsum_set && v[i].secs_valid) ||
		    e->ndiags != v[i].ndiags)
			bad++;
		else if (e->ndiags && (e->diags[0].line != i ||
		    strcmp(e->diags[0].text, "warning text") != 0 ||
		    (e->diags[0].code == NULL) != (i % 10 == 0)))
			bad++;
	}
	return bad == 0;
}

int
main(void)
{
	char tmpl[] = "/tmp/test_rcache.XXXXXX", *dir = mkdtemp(tmpl);
	struct rc_entry v[N];
	struct rcache *c, *c2;
	struct buf f = BUF_INIT;
	unsigned char key[32], sum[FSUM_LEN];
	char *path;
	size_t k, kept = 0;
	int i;

	OK(dir != NULL, "temporary directory");
	if (dir == NULL)
		return DONE();
	make(v, 1);
	OK(rc_save(NULL, dir, v, N, loader, NULL) == 0, "first save");
	INT_EQ(count_new(dir), 64, "a cold save writes every file");
	rc_commit(dir);
	c = rc_load(dir);
	OK(same_entries(c, v), "every entry loads back as saved");
	memset(key, 0xee, 32);
	OK(rc_find(c, v[3].out, key) == NULL, "another key: no entry");
	OK(rc_find(c, "nowhere.html", v[3].key) == NULL, "unknown path");

	/* nothing changed: nothing written */
	OK(rc_save(c, dir, v, N, loader, NULL) == 0, "save, no change");
	INT_EQ(count_new(dir), 0, "no change: no file written");
	/* one entry's output changed: its file only */
	memset(v[10].hex, 'f', 64);
	OK(rc_save(c, dir, v, N, loader, NULL) == 0, "save, one change");
	INT_EQ(count_new(dir), 1, "one change: one file written");
	rc_commit(dir);
	c2 = rc_load(dir);
	OK(same_entries(c2, v), "after one change, every entry as saved");
	rc_free(c2);
	rc_free(c);

	/* damaged files: a flipped byte, a cut, another magic; each loses
	 * only its own entries */
	path = xasprintf("%s/00.bin", dir);
	OK(util_read_file(path, &f) == 0 && f.len > 64, "file 00 read");
	f.ptr[f.len / 2] ^= 0x20;
	util_write_file(path, f.ptr, f.len);
	c = rc_load(dir);
	for (i = 0, k = 0; i < N; i++)
		k += rc_find(c, v[i].out, v[i].key) != NULL;
	OK(k > 0 && k < N - 1, "a flipped byte loses its file's entries only "
	    "(%zu of %d left)", k, N);
	kept = k;
	rc_free(c);
	util_write_file(path, f.ptr, f.len / 3);
	c = rc_load(dir);
	OK(rc_find(c, v[299].out, v[299].key) != NULL ||
	    rc_find(c, v[0].out, v[0].key) != NULL, "a cut file: the others "
	    "still load");
	rc_free(c);
	/* the checksum made good over a string whose NUL is gone: the
	 * string may not run into the next field */
	f.ptr[f.len / 2] ^= 0x20;	/* the original bytes again */
	{
		/* the magic line, the count, the first entry's path: its
		 * length (little-endian), bytes and NUL */
		size_t at = strlen("tebiki-rcache 5\n") + 4, len;
		const unsigned char *u = (const unsigned char *)f.ptr + at;

		len = (size_t)u[0] | (size_t)u[1] << 8 | (size_t)u[2] << 16;
		OK(len > 0 && at + 4 + len < f.len && f.ptr[at + 4 + len] == 0,
		    "the first path's NUL in the file");
		if (at + 4 + len < f.len)
			f.ptr[at + 4 + len] = 'x';
		fsum(f.ptr, f.len - FSUM_LEN, sum);
		memcpy(f.ptr + f.len - FSUM_LEN, sum, FSUM_LEN);
		util_write_file(path, f.ptr, f.len);
		c = rc_load(dir);
		for (i = 0, k = 0; i < N; i++)
			k += rc_find(c, v[i].out, v[i].key) != NULL;
		INT_EQ(k, kept, "a string without its NUL: none of its "
		    "file's entries is taken");
		rc_free(c);
	}
	/* another format (the last version's magic) is an empty part */
	memcpy(f.ptr, "tebiki-rcache 4\n", 16);
	util_write_file(path, f.ptr, f.len);
	c = rc_load(dir);
	OK(c != NULL, "loads with a foreign file");
	rc_free(c);
	/* no directory at all: an empty cache */
	c = rc_load("/nonexistent/tebiki-rcache");
	OK(c != NULL && rc_find(c, v[0].out, v[0].key) == NULL, "no "
	    "directory: an empty cache");
	rc_free(c);
	buf_release(&f);
	free(path);
	util_rmtree(dir);
	return DONE();
}
