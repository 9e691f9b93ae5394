/*
 * mustache_spec: runs the official Mustache spec (YAML files) against the
 * template engine.
 *
 *   mustache_spec [-v] [-P pattern] [SPECDIR]
 *
 * SPECDIR defaults to $TEBIKI_MUSTACHE_SPEC, then
 * $TEBIKI_SHARED/conformance/mustache-spec.  Every test of the modules
 * below runs; ~lambdas is skipped (its data holds host-language code).
 * Prints one line per module and ends with "N passed, N failed".
 *
 * The spec's data is meant as native values of a host language: a YAML
 * number such as 1.210 is the float 1.21.  tebiki renders numbers as
 * their source text, so the runner rewrites every number in the data to
 * its shortest round-tripping form first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "template.h"
#include "util.h"
#include "value.h"
#include "yml.h"

static const char *modules[] = {
	"comments", "delimiters", "interpolation", "inverted", "partials",
	"sections", "~inheritance", "~dynamic-names"
};

#define MAIN_NAME "\x01spec-template"

/* Rewrites numbers in v (a private copy) to their shortest form. */
static void
normalize(struct value *v)
{
	char tmp[64];
	size_t i;
	int prec;

	if (v->kind == VAL_NUM) {
		for (prec = 1; prec <= 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*g", prec, v->num);
			if (strtod(tmp, NULL) == v->num)
				break;
		}
		val_set_text(v, tmp, strlen(tmp));
	}
	if (v->kind == VAL_LIST || v->kind == VAL_MAP)
		for (i = 0; i < v->n; i++)
			normalize(v->items[i]);
}

static char *
flush(struct diag *d)
{
	char *p = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&p, &n);

	diag_flush(d, f, DIAG_TEXT);
	fclose(f);
	return p;
}

/* Runs one test; 1 when it passes. */
static int
run_one(const struct value *t, int verbose, const char *mod)
{
	const struct value *tpl = val_get(t, "template"),
	    *exp = val_get(t, "expected"), *parts = val_get(t, "partials");
	const char *name = val_cstr(val_get(t, "name"));
	struct value *data = val_copy(val_get(t, "data"));
	struct tmpl_set *set = tmpl_set_new();
	struct buf out = BUF_INIT;
	struct diag d;
	char *msgs;
	size_t i;
	int ok = 0;

	diag_init(&d);
	tmpl_set_strict(set, 0);
	normalize(data);
	tmpl_set_add_string(set, MAIN_NAME, tpl->str, tpl->len, "template",
	    &d);
	for (i = 0; parts && i < parts->n; i++)
		tmpl_set_add_string(set, parts->keys[i]->str,
		    parts->items[i]->str, parts->items[i]->len,
		    parts->keys[i]->str, &d);
	if (tmpl_set_compile(set, &d) == 0 &&
	    tmpl_render(set, MAIN_NAME, data, &out, &d) == 0)
		ok = exp && out.len == exp->len &&
		    memcmp(out.ptr, exp->str, out.len) == 0;
	msgs = flush(&d);
	if (!ok || verbose) {
		printf("%s %s: %s (line %d)\n", ok ? "PASS" : "FAIL", mod,
		    name ? name : "?", t->line);
		if (!ok) {
			printf("  template: [%s]\n  expected: [%s]\n"
			    "  got:      [%s]\n", tpl->str,
			    exp ? exp->str : "", out.ptr);
			if (msgs && *msgs)
				printf("  diagnostics:\n%s", msgs);
		}
	}
	free(msgs);
	buf_release(&out);
	val_unref(data);
	tmpl_set_free(set);
	diag_release(&d);
	return ok;
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *pat = NULL, *env;
	struct buf text = BUF_INIT;
	struct value *root, *tests, *t;
	struct diag d;
	size_t m, i;
	int verbose = 0, passed = 0, failed = 0, mp, mf, a;
	char *path, *shared = NULL;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-v") == 0)
			verbose = 1;
		else if (strcmp(argv[a], "-P") == 0 && a + 1 < argc)
			pat = argv[++a];
		else
			dir = argv[a];
	}
	if (dir == NULL && (env = getenv("TEBIKI_MUSTACHE_SPEC")) && *env)
		dir = env;
	if (dir == NULL) {
		env = getenv("TEBIKI_SHARED");
		shared = util_path_join(env && *env ? env : "../shared",
		    "conformance/mustache-spec");
		dir = shared;
	}
	if (!util_is_dir(dir)) {
		printf("mustache spec directory '%s' is missing "
		    "(set TEBIKI_MUSTACHE_SPEC or TEBIKI_SHARED)\n", dir);
		printf("0 passed, 1 failed\n");
		free(shared);
		return 1;
	}
	diag_init(&d);
	for (m = 0; m < sizeof(modules) / sizeof(*modules); m++) {
		path = xasprintf("%s/%s.yml", dir, modules[m]);
		buf_reset(&text);
		mp = mf = 0;
		if (util_read_file(path, &text) == -1) {
			printf("%s: cannot read '%s'\n", modules[m], path);
			failed++;
			free(path);
			continue;
		}
		root = yml_parse(text.ptr, text.len, path, 1, &d);
		tests = val_get(root, "tests");
		if (tests == NULL || tests->kind != VAL_LIST) {
			diag_flush(&d, stdout, DIAG_TEXT);
			printf("%s: cannot load '%s'\n", modules[m], path);
			failed++;
		}
		for (i = 0; tests && tests->kind == VAL_LIST && i < tests->n;
		    i++) {
			t = tests->items[i];
			if (pat && !strstr(val_cstr(val_get(t, "name")) ?
			    val_cstr(val_get(t, "name")) : "", pat))
				continue;
			if (run_one(t, verbose, modules[m]))
				mp++;
			else
				mf++;
		}
		printf("%s: %d passed, %d failed\n", modules[m], mp, mf);
		passed += mp;
		failed += mf;
		val_unref(root);
		free(path);
	}
	printf("%d passed, %d failed\n", passed, failed);
	buf_release(&text);
	diag_release(&d);
	free(shared);
	return failed ? 1 : 0;
}
