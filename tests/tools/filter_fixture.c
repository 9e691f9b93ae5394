/*
 * filter_fixture: runs Lua filter fixtures (the .md files in tests/filters).
 *
 *   filter_fixture [-v] fixture.md...
 *
 * A fixture is a list of sections, each starting with a line "=== kind arg":
 *
 *   === filter filters/x.lua     a filter file (in site.yaml order)
 *   === page content/a.md        a page: optional "---" front matter, body
 *   === extra                    YAML map exposed as site.<key>
 *   === raw                      allow raw HTML (parse unsafe, filters too)
 *   === expect content/a.md      the page's expected HTML (also added pages)
 *   === tmpl content/a.md        expected JSON of the template() values
 *   === diag                     substrings the diagnostics must contain
 *   === fail                     the run must fail (an error is reported)
 *
 * Every fixture runs with 1 and with 3 worker threads; the outputs must be
 * identical.  Prints "ok NAME" or "FAIL NAME: why", then "N passed, N failed".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "filter.h"
#include "markdown.h"
#include "util.h"
#include "value.h"
#include "yml.h"

struct section {
	char	*kind;
	char	*arg;
	char	*body;
};

struct fx {
	struct section	*s;
	size_t		 n;
};

struct pg {
	char		*path, *id, *type, *title, *url;
	struct value	*meta;
	char		*body;
	int		 body_line;
	struct md_doc	 doc;
	char		*html;
	char		*tmpl;
};

static void
fx_parse(const char *text, struct fx *fx)
{
	const char *p = text, *nl, *sp;
	struct buf body = BUF_INIT;
	struct section *cur = NULL;

	fx->s = NULL;
	fx->n = 0;
	for (; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if (strncmp(p, "=== ", 4) == 0) {
			if (cur)
				cur->body = xstrdup(body.ptr);
			buf_reset(&body);
			fx->s = xreallocarray(fx->s, fx->n + 1, sizeof(*fx->s));
			cur = &fx->s[fx->n++];
			sp = p + 4;
			cur->kind = xstrndup(sp, strcspn(sp, " \n"));
			sp += strcspn(sp, " \n");
			if (*sp == ' ')
				sp++;
			cur->arg = xstrndup(sp, strcspn(sp, "\n"));
		} else if (cur) {
			buf_put(&body, p, nl ? (size_t)(nl - p) + 1 :
			    strlen(p));
		}
		if (nl == NULL)
			break;
	}
	if (cur)
		cur->body = xstrdup(body.ptr);
	buf_release(&body);
}

static void
fx_free(struct fx *fx)
{
	size_t i;

	for (i = 0; i < fx->n; i++) {
		free(fx->s[i].kind);
		free(fx->s[i].arg);
		free(fx->s[i].body);
	}
	free(fx->s);
}

static char *
trim(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	return xstrndup(s, n);
}

/* Splits "---\nyaml---\nbody" into meta and body. */
static int
page_load(struct pg *p, const char *path, const char *text, struct diag *d)
{
	const char *end;
	const struct value *v;
	char *slash;
	size_t n;

	memset(p, 0, sizeof(*p));
	p->path = xstrdup(path);
	p->body_line = 1;
	if (strncmp(text, "---\n", 4) == 0 &&
	    (end = strstr(text + 4, "\n---\n")) != NULL) {
		p->meta = yml_parse(text + 4, (size_t)(end - text - 3), path, 2,
		    d);
		if (p->meta == NULL)
			return -1;
		p->body = xstrdup(end + 5);
		for (n = 0; text + n < end + 5; n++)
			if (text[n] == '\n')
				p->body_line++;
	} else {
		p->meta = val_map();
		p->body = xstrdup(text);
	}
	if (p->meta->kind != VAL_MAP) {
		val_unref(p->meta);
		p->meta = val_map();
	}
	v = val_get(p->meta, "id");
	slash = strrchr(path, '/');
	p->id = v && val_cstr(v) ? xstrdup(val_cstr(v)) :
	    xstrndup(slash ? slash + 1 : path, strcspn(slash ? slash + 1 :
	    path, "."));
	v = val_get(p->meta, "type");
	p->type = xstrdup(v && val_cstr(v) ? val_cstr(v) : "page");
	v = val_get(p->meta, "title");
	p->title = xstrdup(v && val_cstr(v) ? val_cstr(v) : "");
	p->url = xstrdup(path + (strncmp(path, "content/", 8) == 0 ? 8 : 0));
	if (util_has_suffix(p->url, ".md")) {
		p->url[strlen(p->url) - 3] = '\0';
		slash = p->url;
		p->url = xasprintf("%s.html", slash);
		free(slash);
	}
	return 0;
}

static void
page_free(struct pg *p)
{
	free(p->path);
	free(p->id);
	free(p->type);
	free(p->title);
	free(p->url);
	free(p->body);
	free(p->html);
	free(p->tmpl);
	val_unref(p->meta);
	md_release(&p->doc);
}

struct job {
	const struct flt_opts	*opts;
	struct value		*frozen;
	struct pg		*pages;
	struct flt_page		*fp;
	size_t			 n;
	int			 nthreads, me;
	struct diag		*d;
	int			 rc;
};

/* A worker thread: filters and renders pages me, me+nthreads, ... */
static void *
work(void *arg)
{
	struct job *j = arg;
	struct flt_worker *w;
	struct value *tmpl;
	struct buf out = BUF_INIT;
	size_t i;

	w = flt_worker_new(j->opts, j->frozen, j->d);
	if (w == NULL) {
		j->rc = -1;
		return NULL;
	}
	for (i = (size_t)j->me; i < j->n; i += (size_t)j->nthreads) {
		j->fp[i].doc = j->pages[i].doc.root;
		if (flt_worker_page(w, &j->fp[i], i, &j->pages[i].doc.root,
		    &tmpl, j->d) == -1)
			j->rc = -1;
		buf_reset(&out);
		md_render(&j->pages[i].doc, &out);
		j->pages[i].html = xstrdup(out.ptr);
		if (tmpl) {
			buf_reset(&out);
			val_to_json(tmpl, &out);
			j->pages[i].tmpl = xstrdup(out.ptr);
			val_unref(tmpl);
		}
	}
	buf_release(&out);
	flt_worker_free(w);
	return NULL;
}

struct result {
	struct pg	*pages;
	size_t		 n;
	char		*diags;
	int		 rc;
};

/* Runs the fixture with `nthreads` workers. */
static void
run(struct fx *fx, const char *dir, int nthreads, struct result *r)
{
	struct flt_file files[16];
	struct flt_opts opts;
	struct flt_site *site = NULL;
	struct flt_page *fp = NULL;
	const struct flt_added *added;
	struct value *extra = NULL;
	struct diag d;
	struct job jobs[8];
	pthread_t th[8];
	char *path, *buf = NULL;
	size_t i, k, nf = 0, na, blen = 0;
	int raw = 0, t;
	FILE *mem;

	diag_init(&d);
	memset(r, 0, sizeof(*r));
	memset(&opts, 0, sizeof(opts));
	for (i = 0; i < fx->n; i++)
		if (strcmp(fx->s[i].kind, "raw") == 0)
			raw = 1;
	for (i = 0; i < fx->n; i++) {
		if (strcmp(fx->s[i].kind, "filter") == 0 && nf < 16) {
			path = util_path_join(dir, fx->s[i].arg);
			util_write_file(path, fx->s[i].body,
			    strlen(fx->s[i].body));
			files[nf].path = path;
			files[nf].display = fx->s[i].arg;
			nf++;
		} else if (strcmp(fx->s[i].kind, "page") == 0) {
			r->pages = xreallocarray(r->pages, r->n + 1,
			    sizeof(*r->pages));
			if (page_load(&r->pages[r->n], fx->s[i].arg,
			    fx->s[i].body, &d) == 0) {
				md_parse(&r->pages[r->n].doc,
				    r->pages[r->n].body,
				    strlen(r->pages[r->n].body), raw);
				md_assign_ids(&r->pages[r->n].doc);
				r->n++;
			} else {
				page_free(&r->pages[r->n]);
			}
		} else if (strcmp(fx->s[i].kind, "extra") == 0) {
			extra = yml_parse(fx->s[i].body,
			    strlen(fx->s[i].body), "extra", 1, &d);
		}
	}
	opts.site_dir = dir;
	opts.files = files;
	opts.nfiles = nf;
	opts.allow_raw_html = raw;
	r->rc = -1;
	site = flt_site_new(&opts, &d);
	if (site == NULL)
		goto out;
	fp = xcalloc(r->n + 1, sizeof(*fp));
	for (i = 0; i < r->n; i++) {
		fp[i].path = r->pages[i].path;
		fp[i].id = r->pages[i].id;
		fp[i].type = r->pages[i].type;
		fp[i].title = r->pages[i].title;
		fp[i].url = r->pages[i].url;
		fp[i].lang = "ja";
		fp[i].meta = r->pages[i].meta;
		fp[i].doc = r->pages[i].doc.root;
		fp[i].body_line = r->pages[i].body_line;
	}
	if (flt_site_run(site, fp, r->n, extra, NULL, &d) == -1)
		goto out;
	/* added pages join the list */
	na = flt_site_added(site, &added);
	if (na) {
		r->pages = xreallocarray(r->pages, r->n + na,
		    sizeof(*r->pages));
		fp = xreallocarray(fp, r->n + na, sizeof(*fp));
		for (k = 0; k < na; k++) {
			struct pg *p = &r->pages[r->n + k];
			page_load(p, added[k].path, added[k].markdown, &d);
			val_unref(p->meta);
			p->meta = val_ref(added[k].meta);
			free(p->type);
			p->type = xstrdup(added[k].type);
			free(p->title);
			p->title = xstrdup(added[k].title);
			md_parse(&p->doc, p->body, strlen(p->body), raw);
			md_assign_ids(&p->doc);
			memset(&fp[r->n + k], 0, sizeof(*fp));
			fp[r->n + k].path = p->path;
			fp[r->n + k].id = p->id;
			fp[r->n + k].type = p->type;
			fp[r->n + k].title = p->title;
			fp[r->n + k].url = p->url;
			fp[r->n + k].meta = p->meta;
		}
		r->n += na;
	}
	for (t = 0; t < nthreads; t++) {
		jobs[t].opts = &opts;
		jobs[t].frozen = flt_site_frozen(site);
		jobs[t].pages = r->pages;
		jobs[t].fp = fp;
		jobs[t].n = r->n;
		jobs[t].nthreads = nthreads;
		jobs[t].me = t;
		jobs[t].d = &d;
		jobs[t].rc = 0;
		pthread_create(&th[t], NULL, work, &jobs[t]);
	}
	r->rc = 0;
	for (t = 0; t < nthreads; t++) {
		pthread_join(th[t], NULL);
		if (jobs[t].rc == -1)
			r->rc = -1;
	}
out:
	mem = open_memstream(&buf, &blen);
	diag_flush(&d, mem, DIAG_TEXT);
	fclose(mem);
	r->diags = buf;
	flt_site_free(site);
	free(fp);
	val_unref(extra);
	for (i = 0; i < nf; i++) {
		unlink(files[i].path);
		free((char *)files[i].path);
	}
	diag_release(&d);
}

static void
result_free(struct result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		page_free(&r->pages[i]);
	free(r->pages);
	free(r->diags);
}

static struct pg *
find(struct result *r, const char *path)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->pages[i].path, path) == 0)
			return &r->pages[i];
	return NULL;
}

/* Checks one fixture; prints the verdict.  1 when it passed. */
static int
check(const char *file, int verbose)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct fx fx;
	struct result r1, r3;
	struct pg *p, *q;
	char dir[] = "/tmp/tebiki-fx-XXXXXX", *want, *got, *line, *save, *copy;
	size_t i;
	int fail = 0, expect_fail = 0;

	if (util_read_file(file, &text) == -1 || mkdtemp(dir) == NULL) {
		printf("FAIL %s: cannot read\n", file);
		return 0;
	}
	fx_parse(text.ptr, &fx);
	for (i = 0; i < fx.n; i++)
		if (strcmp(fx.s[i].kind, "fail") == 0)
			expect_fail = 1;
	run(&fx, dir, 1, &r1);
	run(&fx, dir, 3, &r3);
	if (expect_fail && r1.rc == 0)
		buf_printf(&why, "expected the run to fail; ");
	if (!expect_fail && r1.rc != 0)
		buf_printf(&why, "run failed: %s; ", r1.diags);
	if (r1.rc != r3.rc || strcmp(r1.diags, r3.diags) != 0)
		buf_printf(&why, "1 and 3 workers differ in diagnostics; ");
	for (i = 0; i < r1.n && i < r3.n; i++) {
		p = &r1.pages[i];
		q = &r3.pages[i];
		if ((p->html == NULL) != (q->html == NULL) ||
		    (p->html && strcmp(p->html, q->html) != 0) ||
		    (p->tmpl == NULL) != (q->tmpl == NULL) ||
		    (p->tmpl && strcmp(p->tmpl, q->tmpl) != 0))
			buf_printf(&why, "1 and 3 workers differ on %s; ",
			    p->path);
	}
	for (i = 0; i < fx.n; i++) {
		if (strcmp(fx.s[i].kind, "expect") == 0 ||
		    strcmp(fx.s[i].kind, "tmpl") == 0) {
			p = find(&r1, fx.s[i].arg);
			want = trim(fx.s[i].body);
			got = p == NULL ? NULL : trim(fx.s[i].kind[0] == 'e' ?
			    (p->html ? p->html : "") : (p->tmpl ? p->tmpl :
			    "null"));
			if (got == NULL || strcmp(want, got) != 0) {
				buf_printf(&why, "%s %s differs; ",
				    fx.s[i].kind, fx.s[i].arg);
				if (verbose)
					printf("--- want\n%s\n--- got\n%s\n---\n",
					    want, got ? got : "(no page)");
			}
			free(want);
			free(got);
		} else if (strcmp(fx.s[i].kind, "diag") == 0) {
			copy = xstrdup(fx.s[i].body);
			for (line = strtok_r(copy, "\n", &save); line;
			    line = strtok_r(NULL, "\n", &save))
				if (strstr(r1.diags, line) == NULL)
					buf_printf(&why, "diagnostics lack "
					    "'%s'; ", line);
			free(copy);
		}
	}
	if (verbose && r1.diags[0])
		printf("diagnostics of %s:\n%s", file, r1.diags);
	fail = why.len > 0;
	if (fail)
		printf("FAIL %s: %s\n", file, why.ptr);
	else
		printf("ok %s\n", file);
	result_free(&r1);
	result_free(&r3);
	fx_free(&fx);
	buf_release(&text);
	buf_release(&why);
	util_rmtree(dir);
	return !fail;
}

int
main(int argc, char **argv)
{
	int i, pass = 0, fail = 0, verbose = 0;

	md_init();
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
			continue;
		}
		if (check(argv[i], verbose))
			pass++;
		else
			fail++;
	}
	printf("%d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}
