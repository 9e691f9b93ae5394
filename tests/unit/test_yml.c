/*
 * Unit tests: YAML -> value tree, positions and errors.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "harness.h"
#include "value.h"
#include "yml.h"

static struct value *
parse(const char *s, struct diag *d)
{
	return yml_parse(s, strlen(s), "f.yaml", 1, d);
}

/* Collects the diagnostics of `d` as text. */
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

static void
test_values(void)
{
	struct diag d;
	struct value *v, *x;
	char *s;

	diag_init(&d);
	v = parse("title: 手引き\nn: 12\nf: 1.5\nok: true\nno: ~\n"
	    "when: 2024-01-10\nver: \"1.2\"\nlist: [a, 'b']\n"
	    "map:\n  inner: 情報\n", &d);
	OK(v != NULL, "parse ok");
	INT_EQ(v->kind, VAL_MAP, "root is a map");
	STR_EQ(val_cstr(val_get(v, "title")), "手引き", "title");
	INT_EQ(val_get(v, "n")->kind, VAL_NUM, "int kind");
	OK(val_get(v, "f")->num == 1.5, "float");
	INT_EQ(val_get(v, "ok")->b, 1, "bool");
	INT_EQ(val_get(v, "no")->kind, VAL_NULL, "null");
	x = val_get(v, "when");
	INT_EQ(x->kind, VAL_DATE, "date kind");
	INT_EQ(x->y * 10000 + x->m * 100 + x->d, 20240110, "date parts");
	INT_EQ(val_get(v, "ver")->kind, VAL_STR, "quoted stays string");
	x = val_get(v, "list");
	INT_EQ(x->n, 2, "list length");
	INT_EQ(x->items[1]->line, 8, "list item line");
	INT_EQ(x->items[1]->col, 11, "list item col");
	x = val_path(v, "map.inner");
	STR_EQ(val_cstr(x), "情報", "dotted path");
	INT_EQ(x->line, 10, "nested line");
	INT_EQ(x->col, 10, "nested col");
	INT_EQ(val_get_key(v, "map")->line, 9, "key line");
	val_unref(v);
	s = diags(&d);
	STR_EQ(s, "", "no diagnostics");
	free(s);
	diag_release(&d);
}

static void
test_line0_and_columns(void)
{
	struct diag d;
	struct value *v;

	diag_init(&d);
	/* Japanese before the value: columns count code points. */
	v = yml_parse("題名: 情報セキュリティ\n", strlen("題名: 情報セキュリティ\n"), "p.md", 2, &d);
	OK(v != NULL, "parse ok");
	INT_EQ(val_get(v, "題名")->line, 2, "line offset applied");
	INT_EQ(val_get(v, "題名")->col, 5, "column in code points");
	val_unref(v);
	diag_release(&d);
}

static void
test_errors(void)
{
	struct diag d;
	struct value *v;
	char *s;

	diag_init(&d);
	v = parse("a: 1\nb: 2\na: 3\n", &d);
	OK(v == NULL, "duplicate key fails");
	s = diags(&d);
	STR_EQ(s, "f.yaml:3:1: error: duplicate key 'a' (first defined at "
	    "line 1)\n", "duplicate key message");
	free(s);

	v = parse("a: !foo x\n", &d);
	OK(v == NULL, "unknown tag fails");
	s = diags(&d);
	STR_EQ(s, "f.yaml:1:4: error: unknown tag '!foo'\n", "tag message");
	free(s);

	v = parse("a: [1, 2\n", &d);
	OK(v == NULL, "syntax error fails");
	s = diags(&d);
	OK(strstr(s, "f.yaml:2:1: error: invalid YAML") == s, "syntax: %s", s);
	free(s);

	v = parse("a: &a [x,x,x,x,x,x,x,x,x,x]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n", &d);
	OK(v == NULL, "alias bomb fails");
	s = diags(&d);
	OK(strstr(s, "alias bomb") != NULL, "alias bomb message: %s", s);
	free(s);

	v = parse("a: &x {k: v}\nb: *x\n", &d);
	OK(v != NULL, "small alias ok");
	STR_EQ(val_cstr(val_path(v, "b.k")), "v", "alias shares value");
	val_unref(v);

	{
		struct buf b = BUF_INIT;
		int i;

		for (i = 0; i < 1000; i++)
			buf_puts(&b, "- ");
		buf_puts(&b, "x\n");
		v = parse(b.ptr, &d);
		OK(v == NULL, "deep nesting fails");
		s = diags(&d);
		OK(strstr(s, "nesting deeper") != NULL, "depth msg: %s", s);
		free(s);
		buf_release(&b);
	}
	v = parse("a: \xff\n", &d);
	OK(v == NULL, "invalid UTF-8 fails");
	s = diags(&d);
	OK(strstr(s, "invalid YAML") != NULL, "utf8 msg: %s", s);
	free(s);
	diag_release(&d);
}

static void
test_json(void)
{
	struct buf b = BUF_INIT;
	struct value *m = val_map();

	val_set(m, "s", val_str("</script>\xe2\x80\xa8\"\n"));
	val_set(m, "n", val_num(3));
	val_to_json(m, &b);
	STR_EQ(b.ptr, "{\"s\":\"\\u003c/script\\u003e\\u2028\\\"\\n\","
	    "\"n\":3}", "json escaping");
	buf_release(&b);
	val_unref(m);
}

int
main(void)
{
	test_values();
	test_line0_and_columns();
	test_errors();
	test_json();
	return DONE();
}
