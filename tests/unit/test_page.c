/*
 * Unit tests: front matter splitting, text checks, URLs and slugs.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "build.h"
#include "diag.h"
#include "harness.h"
#include "markdown.h"
#include "page.h"
#include "util.h"
#include "value.h"

static char *
diags(struct diag *d)
{
	char *p = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&p, &n);

	diag_flush(d, f, DIAG_TEXT);
	fclose(f);
	return p;
}

static int
split(struct page_src *ps, const char *text, size_t len, struct diag *d)
{
	struct buf b = BUF_INIT;

	buf_put(&b, text, len);
	return page_split(ps, &b, "p.md", d);
}

#define SPLIT(ps, s, d) split(ps, s, sizeof(s) - 1, d)

static void
test_split(void)
{
	struct page_src ps;
	struct diag d;
	char *s;

	diag_init(&d);
	INT_EQ(SPLIT(&ps, "---\ntitle: a\n---\nbody\n", &d), 0, "plain fm");
	STR_EQ(val_cstr(val_get(ps.meta, "title")), "a", "title");
	INT_EQ(ps.body_line, 4, "body line");
	STR_EQ(ps.body, "body\n", "body");
	INT_EQ(ps.has_fm, 1, "has fm");
	page_src_release(&ps);

	INT_EQ(SPLIT(&ps, "\xef\xbb\xbf---\r\ntitle: b\r\n---\r\nx\r\n", &d),
	    0, "bom crlf");
	STR_EQ(val_cstr(val_get(ps.meta, "title")), "b", "crlf title");
	INT_EQ(ps.body_line, 4, "crlf body line");
	STR_EQ(ps.body, "x\r\n", "crlf body");
	page_src_release(&ps);

	INT_EQ(SPLIT(&ps, "# Title\n\n---\n\ntext\n---\n", &d), 0, "no fm");
	INT_EQ(ps.has_fm, 0, "no fm flag");
	INT_EQ(ps.meta->n, 0, "empty meta");
	INT_EQ(ps.body_line, 1, "no fm body line");
	STR_EQ(ps.body, "# Title\n\n---\n\ntext\n---\n", "whole body");
	page_src_release(&ps);

	INT_EQ(SPLIT(&ps, "---\na: 1\n...\n# x\n---\ny\n", &d), 0,
	    "dots close, --- in body");
	STR_EQ(ps.body, "# x\n---\ny\n", "body keeps later ---");
	page_src_release(&ps);

	INT_EQ(SPLIT(&ps, "---\n---\nbody", &d), 0, "empty fm");
	INT_EQ(ps.meta->kind, VAL_MAP, "empty fm is a map");
	page_src_release(&ps);

	INT_EQ(SPLIT(&ps, "", &d), 0, "empty file");
	INT_EQ(ps.body_len, 0, "empty body");
	page_src_release(&ps);
	s = diags(&d);
	STR_EQ(s, "", "no diagnostics so far");
	free(s);

	INT_EQ(SPLIT(&ps, "---\ntitle: a\nbody\n", &d), -1, "unterminated");
	page_src_release(&ps);
	s = diags(&d);
	STR_EQ(s, "p.md:1:1: error: front matter opened here is never closed "
	    "(expected a line '---')\n", "unterminated message");
	free(s);

	INT_EQ(SPLIT(&ps, "---\n- a\n- b\n---\n", &d), -1, "list fm");
	page_src_release(&ps);
	s = diags(&d);
	STR_EQ(s, "p.md:2:1: error: front matter must be a mapping of keys "
	    "to values, not a list\n", "list fm message");
	free(s);

	INT_EQ(SPLIT(&ps, "---\ntitle: a\n  bad: [\n---\n", &d), -1,
	    "yaml error");
	page_src_release(&ps);
	s = diags(&d);
	OK(strncmp(s, "p.md:3:", 7) == 0, "yaml error at file line: %s", s);
	free(s);

	INT_EQ(SPLIT(&ps, "---\nt: 1\n---\nab\0cd", &d), -1, "NUL byte");
	page_src_release(&ps);
	s = diags(&d);
	STR_EQ(s, "p.md:4:3: error: file contains a NUL byte (binary "
	    "file?)\n", "NUL message");
	free(s);

	INT_EQ(SPLIT(&ps, "# 見出し\nok \xff\xfe\n", &d), 0, "bad utf8 ok");
	page_src_release(&ps);
	s = diags(&d);
	STR_EQ(s, "p.md:2:4: warning: invalid UTF-8 (replaced by U+FFFD)\n",
	    "utf8 warning");
	free(s);
	diag_release(&d);
}

static void
test_urls(void)
{
	char *u;

	u = build_rel_url("policies/a.html", "procedures/b.html");
	STR_EQ(u, "../procedures/b.html", "sibling dir");
	free(u);
	u = util_norm_path("policies", "./../procedures/b.md#x", 20);
	STR_EQ(u, "procedures/b.md", "normalized against a dir");
	free(u);
	u = util_norm_path("policies", "/assets/a.png", 13);
	STR_EQ(u, "assets/a.png", "a path from the root ignores the dir");
	free(u);
	OK(util_norm_path("", "a/../../b", 9) == NULL, "leaving the root");
	u = util_href_decode("a%20b&amp;c%zz?q", 14);
	STR_EQ(u, "a b&c%zz", "href decoding");
	free(u);
	u = build_rel_url("policies/a.html", "policies/b.html");
	STR_EQ(u, "b.html", "same dir");
	free(u);
	u = build_rel_url("index.html", "a/b/c.html");
	STR_EQ(u, "a/b/c.html", "from root");
	free(u);
	u = build_rel_url("a/b/c.html", "index.html");
	STR_EQ(u, "../../index.html", "to root");
	free(u);
	u = build_rel_url("a/b/c.html", "a/x/y.html");
	STR_EQ(u, "../x/y.html", "partial common prefix");
	free(u);
}

static void
test_slug(void)
{
	struct buf b = BUF_INIT;

	md_slug("Backup Policy (v1.2)!", 21, &b);
	STR_EQ(b.ptr, "backup-policy-v12", "ascii slug");
	buf_reset(&b);
	md_slug("8.13の対策（バックアップ）", strlen("8.13の対策（バックアップ）"),
	    &b);
	STR_EQ(b.ptr, "813の対策バックアップ", "japanese slug");
	buf_release(&b);
}

/* diag_flush prints messages sorted, and the same message once */
static void
test_diag(void)
{
	struct diag d;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	diag_init(&d);
	diag_warn(&d, "content/b.md", 3, 1, "second");
	diag_err(&d, "content/a.md", 7, 2, "twice");
	diag_err(&d, "content/a.md", 7, 2, "twice");
	diag_err(&d, "content/a.md", 7, 2, "other");
	f = open_memstream(&out, &len);
	diag_flush(&d, f, DIAG_TEXT);
	fclose(f);
	STR_EQ(out, "content/a.md:7:2: error: other\n"
	    "content/a.md:7:2: error: twice\n"
	    "content/b.md:3:1: warning: second\n", "sorted, duplicates once");
	INT_EQ(diag_errors(&d), 3, "every error still counts");
	free(out);
	diag_release(&d);
}

int
main(void)
{
	test_diag();
	test_split();
	test_urls();
	test_slug();
	return DONE();
}
