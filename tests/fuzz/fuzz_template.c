/*
 * fuzz_template: Mustache text through tmpl_set_add_string,
 * tmpl_set_compile and tmpl_render against a fixed context.
 *
 * The input is split at its first NUL byte: the part before it is the
 * template "t", the part after it (if any) is added as "p" and also as
 * "partials/p", so {{>p}}, {{<p}} and dynamic names ({{>*dyn}}, where
 * dyn is "p") reach it.  The set is not strict, as in the Mustache spec,
 * so unknown names render empty instead of stopping at compile time.
 * With TEBIKI_FUZZ_PRINT set (the regression suite) it prints
 * "t BYTES" / "p BYTES" (output sizes) and the diagnostics on stdout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "template.h"
#include "value.h"
#include "yml.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char context_yaml[] =
    "site:\n"
    "  title: \"手引き <&> \\\"q\\\" 'a'\"\n"
    "  lang: ja\n"
    "  nav:\n"
    "    - {title: ホーム, url: index.html, current: true}\n"
    "    - {title: Policies, url: policies/, current: false}\n"
    "page:\n"
    "  title: 情報セキュリティ基本方針\n"
    "  date: 2025-04-01\n"
    "  draft: false\n"
    "  version: 1.10\n"
    "  tags: [backup, 'access control', '']\n"
    "  toc:\n"
    "    - {id: h-1, text: 目的, level: 2, children: [{id: h-1-1, text: a}]}\n"
    "    - {id: h-2, text: <script>, level: 2}\n"
    "  content: \"<p>body</p>\"\n"
    "list: [1, 2, 3]\n"
    "empty: []\n"
    "emptymap: {}\n"
    "t: true\n"
    "f: false\n"
    "n: null\n"
    "zero: 0\n"
    "s: \"\"\n"
    "dyn: p\n"
    "a: {b: {c: {d: deep}}, list: [{x: 1}, {x: 2}]}\n";

/* Built once; read-only afterwards (rendering only takes references). */
static struct value *context;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct diag d;

	(void)argc;
	(void)argv;
	diag_init(&d);
	context = yml_parse(context_yaml, sizeof(context_yaml) - 1,
	    "context.yaml", 1, &d);
	if (context == NULL) {
		diag_flush(&d, stderr, DIAG_TEXT);
		abort();
	}
	diag_release(&d);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *sep;
	struct buf out = BUF_INIT;
	struct tmpl_set *set;
	struct diag d;
	size_t tlen;
	int print;

	if (context == NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	sep = memchr(text, '\0', size);
	tlen = sep ? (size_t)(sep - text) : size;
	diag_init(&d);
	set = tmpl_set_new();
	tmpl_set_strict(set, 0);
	tmpl_set_add_string(set, "t", text, tlen, "layouts/t.mustache", &d);
	if (sep != NULL) {
		tmpl_set_add_string(set, "p", sep + 1, size - tlen - 1,
		    "layouts/p.mustache", &d);
		tmpl_set_add_string(set, "partials/p", sep + 1,
		    size - tlen - 1, NULL, &d);
	}
	tmpl_set_compile(set, &d);
	print = getenv("TEBIKI_FUZZ_PRINT") != NULL;
	if (tmpl_exists(set, "t"))
		tmpl_render(set, "t", context, &out, &d);
	if (print)
		printf("t %zu\n", out.len);
	buf_reset(&out);
	if (sep != NULL) {
		tmpl_render(set, "p", context, &out, &d);
		if (print)
			printf("p %zu\n", out.len);
	}
	if (print)
		diag_flush(&d, stdout, DIAG_TEXT);
	tmpl_set_free(set);
	buf_release(&out);
	diag_release(&d);
	return 0;
}
