/*
 * Unit tests: template compile errors with positions, escaping, recursion
 * limit, directory override order, pathological input.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "diag.h"
#include "harness.h"
#include "template.h"
#include "util.h"
#include "value.h"
#include "yml.h"

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

/* Compiles `text` as "t" (plus an optional partial "p") and renders it
 * with the YAML context `ctx`; returns output or "ERR:" + diagnostics. */
static char *
run(const char *text, const char *partial, const char *ctx, int strict)
{
	struct tmpl_set *set = tmpl_set_new();
	struct buf out = BUF_INIT;
	struct value *v = NULL;
	struct diag d;
	char *m, *r;

	diag_init(&d);
	tmpl_set_strict(set, strict);
	tmpl_set_add_string(set, "t", text, strlen(text), "t.mustache", &d);
	if (partial)
		tmpl_set_add_string(set, "p", partial, strlen(partial),
		    "p.mustache", &d);
	if (ctx)
		v = yml_parse(ctx, strlen(ctx), "ctx.yaml", 1, &d);
	if (tmpl_set_compile(set, &d) == 0 &&
	    tmpl_render(set, "t", v, &out, &d) == 0) {
		r = buf_detach(&out);
	} else {
		m = diags(&d);
		r = xasprintf("ERR:%s", m);
		free(m);
	}
	buf_release(&out);
	val_unref(v);
	tmpl_set_free(set);
	diag_release(&d);
	return r;
}

#define CHECK(text, partial, ctx, want) do {				\
	char *got_ = run(text, partial, ctx, 1);			\
	STR_EQ(got_, want, text);					\
	free(got_);							\
} while (0)

static void
test_render(void)
{
	CHECK("{{x}}|{{{x}}}|{{&x}}", NULL, "x: \"<a href='q'>&\\\"\"",
	    "&lt;a href=&#39;q&#39;&gt;&amp;&quot;|<a href='q'>&\"|"
	    "<a href='q'>&\"");
	CHECK("{{n}} {{f}} {{d}}", NULL, "n: 007\nf: 1.50\nd: 2024-01-10",
	    "007 1.50 2024-01-10");
	CHECK("{{#l}}[{{.}}]{{/l}}{{^l}}none{{/l}}", NULL, "l: [a, b]",
	    "[a][b]");
	CHECK("{{#l}}x{{/l}}{{^l}}none{{/l}}", NULL, "l: []", "none");
	CHECK("{{#s}}y{{/s}}{{^s}}empty{{/s}}", NULL, "s: ''", "empty");
	CHECK("{{page.doc.id}}/{{#page}}{{title}}{{/page}}", NULL,
	    "page: {title: 手引き, doc: {id: POL-01}}", "POL-01/手引き");
	CHECK("{{! c }}a{{=<% %>=}}<%x%>{{x}}", NULL, "x: 1", "a1{{x}}");
	CHECK("<ul>\n  {{> p}}\n</ul>\n", "<li>{{x}}</li>\n<li>b</li>\n",
	    "x: a", "<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>\n");
	CHECK("{{<p}}{{$b}}child{{/b}}{{/p}}", "[{{$b}}default{{/b}}]{{$c}}c{{/c}}",
	    NULL, "[child]c");
	CHECK("{{>*which}}", "partial {{x}}", "which: p\nx: 1", "partial 1");
	CHECK("{{>*which}}", "partial", "which: nothere", "");
	CHECK("{{#l.0}}<{{l.1}}>{{/l.0}}{{#e.0}}no{{/e.0}}", NULL,
	    "l: [a, b]\ne: []", "<b>");
}

static void
test_errors(void)
{
	CHECK("a\n  {{#a}}\nb", NULL, NULL,
	    "ERR:t.mustache:2:3: error: unclosed section 'a'\n");
	CHECK("{{#a}}\n手引き {{/b}}", NULL, NULL,
	    "ERR:t.mustache:2:5: error: closing tag 'b' does not match 'a' "
	    "opened at 1:1\n");
	CHECK("x {{/b}}", NULL, NULL,
	    "ERR:t.mustache:1:3: error: closing tag 'b' without an open "
	    "section\n");
	CHECK("ok\n  {{x", NULL, NULL,
	    "ERR:t.mustache:2:3: error: unclosed tag, expected '}}'\n");
	CHECK("{{=<% =}}", NULL, NULL,
	    "ERR:t.mustache:1:1: error: invalid delimiters '<%'\n");
	CHECK("{{ }}", NULL, NULL, "ERR:t.mustache:1:1: error: empty tag name\n");
	CHECK("\n\n   {{> nothere}}", NULL, NULL,
	    "ERR:t.mustache:3:4: error: unknown partial 'nothere'\n");
	CHECK("{{<nothere}}{{/nothere}}", NULL, NULL,
	    "ERR:t.mustache:1:1: error: unknown parent template 'nothere'\n");
	{
		char *got = run("a{{> nothere}}b", NULL, NULL, 0);

		STR_EQ(got, "ab", "non-strict unknown partial is empty");
		free(got);
	}
	/* Recursion: a partial including itself stops with an error. */
	CHECK("{{>p}}", "x{{>p}}", NULL,
	    "ERR:p.mustache:1:2: error: template recursion deeper than 100 "
	    "at 'p'\n");
	/* Recursion through data terminates normally. */
	CHECK("{{>p}}", "{{n}}{{#c}}{{>p}}{{/c}}",
	    "n: 1\nc: {n: 2, c: {n: 3, c: false}}", "123");
}

static void
test_pathological(void)
{
	struct buf b = BUF_INIT;
	clock_t t0;
	char *got;
	int i;

	for (i = 0; i < 30000; i++)
		buf_puts(&b, "{{#a}}");
	t0 = clock();
	got = run(b.ptr, NULL, NULL, 1);
	OK((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0,
	    "30000 unclosed sections took too long");
	OK(strstr(got, "t.mustache:1:179995: error: unclosed section 'a'")
	    != NULL, "unclosed: %s", got);
	OK(strstr(got, "error: sections nested deeper than 512") != NULL,
	    "nesting: %s", got);
	free(got);
	buf_reset(&b);
	for (i = 0; i < 30000; i++)
		buf_puts(&b, "{{/a}}");
	got = run(b.ptr, NULL, NULL, 1);
	OK(strncmp(got, "ERR:", 4) == 0, "30000 stray closes");
	free(got);
	buf_release(&b);
}

/* Writes a file under dir (parents created). */
static void
put(const char *dir, const char *rel, const char *text)
{
	char *p = util_path_join(dir, rel);

	util_write_file(p, text, strlen(text));
	free(p);
}

static void
test_dirs(void)
{
	char tmpl[] = "/tmp/tebiki-tmpl-XXXXXX", *site, *theme, *m;
	struct tmpl_set *set = tmpl_set_new();
	struct buf out = BUF_INIT;
	struct diag d;

	diag_init(&d);
	OK(mkdtemp(tmpl) != NULL, "mkdtemp");
	site = util_path_join(tmpl, "site");
	theme = util_path_join(tmpl, "theme");
	put(theme, "base.mustache", "<{{$main}}theme main{{/main}}>"
	    "{{> partials/footer}}");
	put(theme, "page.mustache", "{{<base}}{{$main}}page{{/main}}{{/base}}");
	put(theme, "partials/footer.mustache", "[theme footer]");
	put(theme, "notes.txt", "ignored");
	put(site, "partials/footer.mustache", "[site footer]");
	put(site, "page.mustache", "{{<base}}{{$main}}site page{{/main}}{{/base}}");
	OK(tmpl_set_add_dir(set, site, "layouts", &d) == 0, "add site");
	OK(tmpl_set_add_dir(set, theme, "themes/default/layouts", &d) == 0,
	    "add theme");
	OK(tmpl_set_compile(set, &d) == 0, "compile");
	OK(tmpl_exists(set, "partials/footer"), "partials/footer exists");
	OK(!tmpl_exists(set, "notes"), "non-mustache ignored");
	OK(tmpl_render(set, "page", NULL, &out, &d) == 0, "render page");
	STR_EQ(out.ptr, "<site page>[site footer]", "site overrides theme");
	buf_reset(&out);
	OK(tmpl_render(set, "base", NULL, &out, &d) == 0, "render base");
	STR_EQ(out.ptr, "<theme main>[site footer]", "theme base");
	OK(tmpl_render(set, "nope", NULL, &out, &d) == -1, "unknown name");
	OK(tmpl_set_add_dir(set, "/nonexistent/x", "x", &d) == -1,
	    "missing dir");
	m = diags(&d);
	OK(strstr(m, "unknown template 'nope'") != NULL, "%s", m);
	free(m);
	/* Errors carry the display path. */
	put(theme, "bad.mustache", "ok\n{{#x}}");
	tmpl_set_free(set);
	set = tmpl_set_new();
	tmpl_set_add_dir(set, theme, "themes/default/layouts", &d);
	OK(tmpl_set_compile(set, &d) == -1, "bad compiles with error");
	m = diags(&d);
	STR_EQ(m, "themes/default/layouts/bad.mustache:2:1: error: "
	    "unclosed section 'x'\n", "display path");
	free(m);
	OK(tmpl_render(set, "page", NULL, &out, &d) == 0,
	    "good templates still render");
	util_rmtree(tmpl);
	free(site);
	free(theme);
	buf_release(&out);
	tmpl_set_free(set);
	diag_release(&d);
}

struct job {
	const struct tmpl_set	*set;
	const struct value	*ctx;
	const char		*want;
	int			 bad;
};

/* Renders the same page many times; counts differences. */
static void *
worker(void *arg)
{
	struct job *j = arg;
	struct buf out = BUF_INIT;
	struct diag d;
	int i;

	diag_init(&d);
	for (i = 0; i < 300; i++) {
		buf_reset(&out);
		if (tmpl_render(j->set, "page", j->ctx, &out, &d) == -1 ||
		    strcmp(out.ptr, j->want) != 0)
			j->bad++;
	}
	buf_release(&out);
	diag_release(&d);
	return NULL;
}

static void
test_threads(void)
{
	static const char base[] = "<h1>{{$t}}base{{/t}}</h1>\n"
	    "  {{> list}}\n{{$b}}{{/b}}";
	static const char list[] = "<ul>\n{{#items}}\n  <li>{{name}}</li>\n"
	    "{{/items}}\n</ul>\n";
	static const char page[] = "{{<base}}{{$t}}{{title}}{{/t}}"
	    "{{$b}}{{{html}}}{{/b}}{{/base}}";
	static const char ctx[] = "title: 手引き & <test>\nhtml: <p>x</p>\n"
	    "items: [{name: a}, {name: b}, {name: c}]\n";
	struct tmpl_set *set = tmpl_set_new();
	struct buf want = BUF_INIT;
	struct job jobs[4];
	pthread_t th[4];
	struct value *v;
	struct diag d;
	int i, bad = 0;

	diag_init(&d);
	tmpl_set_add_string(set, "base", base, strlen(base), NULL, &d);
	tmpl_set_add_string(set, "list", list, strlen(list), NULL, &d);
	tmpl_set_add_string(set, "page", page, strlen(page), NULL, &d);
	v = yml_parse(ctx, strlen(ctx), "ctx", 1, &d);
	OK(tmpl_set_compile(set, &d) == 0, "compile for threads");
	OK(tmpl_render(set, "page", v, &want, &d) == 0, "render for threads");
	STR_EQ(want.ptr, "<h1>手引き &amp; &lt;test&gt;</h1>\n  <ul>\n"
	    "    <li>a</li>\n    <li>b</li>\n    <li>c</li>\n  </ul>\n"
	    "<p>x</p>", "inheritance + indented partial");
	for (i = 0; i < 4; i++) {
		jobs[i].set = set;
		jobs[i].ctx = v;
		jobs[i].want = want.ptr;
		jobs[i].bad = 0;
		pthread_create(&th[i], NULL, worker, &jobs[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		bad += jobs[i].bad;
	}
	INT_EQ(bad, 0, "renders differing across 4 threads");
	val_unref(v);
	buf_release(&want);
	tmpl_set_free(set);
	diag_release(&d);
}

int
main(void)
{
	test_threads();
	test_render();
	test_errors();
	test_pathological();
	test_dirs();
	return DONE();
}
