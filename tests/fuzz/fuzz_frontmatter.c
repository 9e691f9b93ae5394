/*
 * fuzz_frontmatter: hostile bytes through the front matter path and the
 * site.yaml path.
 *
 * The first byte picks the mode, the rest is the input:
 *   odd first byte   yml_parse() on the raw bytes (site.yaml, catalogs)
 *   even first byte  page_split() (BOM, fences, UTF-8 repair, yml_parse)
 * Either way the diagnostics are formatted as text and as JSON and a parsed
 * value is copied and written as JSON, so every path that walks a value
 * tree sees what the parser made.  With TEBIKI_FUZZ_PRINT set (the
 * regression suite) the diagnostics go to stdout as text instead.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "diag.h"
#include "page.h"
#include "value.h"
#include "yml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Formats and drops every collected message: as JSON into memory, or as
 * text on stdout with TEBIKI_FUZZ_PRINT. */
static void
flush(struct diag *d)
{
	char *p = NULL;
	size_t n = 0;
	FILE *f;

	if (getenv("TEBIKI_FUZZ_PRINT") != NULL) {
		diag_flush(d, stdout, DIAG_TEXT);
		return;
	}
	f = open_memstream(&p, &n);
	if (f == NULL)
		abort();
	diag_flush(d, f, DIAG_JSON);
	fclose(f);
	free(p);
}

/* Walks a value the ways the build does: copy, JSON, dotted lookups. */
static void
exercise(const struct value *v)
{
	struct buf b = BUF_INIT;
	struct value *c;

	c = val_copy(v);
	val_to_json(c, &b);
	val_to_text(c, &b);
	(void)val_path(c, "title");
	(void)val_path(c, "site.nav.0.title");
	(void)val_truthy(val_get(c, "draft"));
	val_unref(c);
	buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct page_src ps;
	struct buf text = BUF_INIT;
	struct value *v;
	struct diag d;

	if (size == 0)
		return 0;
	diag_init(&d);
	if (data[0] & 1) {
		v = yml_parse((const char *)data + 1, size - 1, "site.yaml",
		    1, &d);
		if (v != NULL) {
			exercise(v);
			val_unref(v);
		}
	} else {
		buf_put(&text, data + 1, size - 1);
		page_split(&ps, &text, "content/page.md", &d);
		exercise(ps.meta);
		/* the body must be a slice of the text */
		if (ps.body < ps.text.ptr ||
		    ps.body + ps.body_len > ps.text.ptr + ps.text.len)
			abort();
		page_src_release(&ps);
		buf_release(&text);
	}
	flush(&d);
	diag_release(&d);
	return 0;
}
