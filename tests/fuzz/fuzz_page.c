/*
 * fuzz_page: a whole Markdown page the way the build handles it:
 * page_split -> md_parse -> md_assign_ids -> md_headings -> md_render.
 *
 * The first byte holds options (bit 0: raw HTML allowed; bit 1: give the
 * first heading a fixed id before md_assign_ids, as a filter would); the
 * rest is the file.  With TEBIKI_FUZZ_PRINT set (the regression suite) it
 * prints "headings N html BYTES" and the diagnostics on stdout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "markdown.h"
#include "page.h"
#include "value.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	md_init();
	return 0;
}

/* The first heading node under the document, or NULL. */
static cmark_node *
first_heading(cmark_node *root)
{
	cmark_node *n;

	for (n = cmark_node_first_child(root); n; n = cmark_node_next(n))
		if (cmark_node_get_type(n) == CMARK_NODE_HEADING)
			return n;
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct page_src ps;
	struct buf text = BUF_INIT, html = BUF_INIT, slug = BUF_INIT;
	struct md_heading *heads = NULL;
	struct md_doc doc;
	struct diag d;
	cmark_node *h;
	size_t nh, i;
	int opt;

	if (size == 0)
		return 0;
	opt = data[0];
	diag_init(&d);
	buf_put(&text, data + 1, size - 1);
	page_split(&ps, &text, "content/page.md", &d);
	memset(&doc, 0, sizeof(doc));
	md_parse(&doc, ps.body, ps.body_len, opt & 1);
	if ((opt & 2) && (h = first_heading(doc.root)) != NULL)
		md_set_heading_id(h, "fixed-id");
	md_assign_ids(&doc);
	nh = md_headings(&doc, &heads);
	for (i = 0; i < nh; i++) {
		if (heads[i].id == NULL || heads[i].text == NULL)
			abort();
		buf_reset(&slug);
		md_slug(heads[i].text, strlen(heads[i].text), &slug);
	}
	md_render(&doc, &html);
	if (getenv("TEBIKI_FUZZ_PRINT") != NULL) {
		printf("headings %zu html %zu\n", nh, html.len);
		diag_flush(&d, stdout, DIAG_TEXT);
	}
	(void)md_cp_col(ps.body, ps.body_len, 1 + (opt >> 4), 1 + (opt & 15));
	md_headings_free(heads, nh);
	md_release(&doc);
	page_src_release(&ps);
	buf_release(&html);
	buf_release(&slug);
	buf_release(&text);
	diag_release(&d);
	return 0;
}
