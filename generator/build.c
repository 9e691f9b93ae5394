/*
 * build: the site pipeline.  See build.h for the stages.
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "ccache.h"
#include "cmd.h"
#include "diag.h"
#include "filter.h"
#include "ledger.h"
#include "lifecycle.h"
#include "model.h"
#include "pool.h"
#include "preview.h"
#include "rcache.h"
#include "render.h"
#include "search.h"
#include "sha256.h"
#include "spill.h"
#include "util.h"
#include "value.h"

/* Folder name -> default type. */
static const struct {
	const char	*folder;
	const char	*type;
} type_folders[] = {
	{ "chapters", "chapter" },
	{ "policies", "policy" },
	{ "procedures", "procedure" },
	{ "reports", "report" },
	{ "incidents", "incident" },
	{ "lessons", "lesson" },
};

static const char *const known_types[] = {
	"chapter", "policy", "procedure", "report", "incident", "lesson",
	"page", NULL
};

/* The folder that lists pages of `type`, or NULL for "page". */
const char *
build_type_folder(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(type_folders) / sizeof(type_folders[0]); i++)
		if (strcmp(type_folders[i].type, type) == 0)
			return type_folders[i].folder;
	return NULL;
}

/* Audience level of a classification: public 0, internal 1, anything else
 * (confidential, or unknown) 2. */
int
build_level(const char *c)
{
	if (c && strcmp(c, "public") == 0)
		return 0;
	if (c && strcmp(c, "internal") == 0)
		return 1;
	return 2;
}

/* ---------------------------------------------------------------------
 * Setup: share dir, theme, output dir checks
 */

static int
has_theme(const char *dir)
{
	char *p = util_path_join(dir, "themes/default/layouts");
	int ok = util_is_dir(p);

	free(p);
	return ok;
}

/* Where the shipped themes, filters and catalogs are; caller frees. */
static char *
find_share_dir(void)
{
	char exe[PATH_MAX], *slash, *cand;
	const char *env = getenv("TEBIKI_HOME");
	ssize_t n;

	if (env && *env)
		return xstrdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		if (has_theme(exe))
			return xstrdup(exe);
		cand = util_path_join(exe, "..");
		if (has_theme(cand))
			return cand;
		free(cand);
		cand = util_path_join(exe, "../share/tebiki");
		if (has_theme(cand))
			return cand;
		free(cand);
	}
	return xstrdup(TEBIKI_SHAREDIR);
}

/* Adds to *names the themes in dir (subdirectories with layouts/). */
static void
theme_names(const char *dir, char ***names, size_t *n)
{
	DIR *dp = opendir(dir);
	struct dirent *de;

	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		char *lay;

		if (de->d_name[0] == '.')
			continue;
		lay = xasprintf("%s/%s/layouts", dir, de->d_name);
		if (util_is_dir(lay)) {
			*names = xreallocarray(*names, *n + 2, sizeof(**names));
			(*names)[(*n)++] = xstrdup(de->d_name);
			(*names)[*n] = NULL;
		}
		free(lay);
	}
	closedir(dp);
}

/* Reports that theme `name` is not there, at its place in site.yaml,
 * with the closest theme there is. */
static int
no_theme(struct build *b)
{
	const struct value *v = b->cfg.root ? val_get(b->cfg.root, "theme") :
	    NULL;
	char **names = NULL, *dir;
	const char *hint;
	size_t n = 0, i;
	int rc;

	dir = util_path_join(b->opts->src_dir, "themes");
	theme_names(dir, &names, &n);
	free(dir);
	dir = util_path_join(b->share_dir, "themes");
	theme_names(dir, &names, &n);
	free(dir);
	hint = names ? site_suggest(b->cfg.theme,
	    (const char *const *)names) : NULL;
	rc = diag_err(b->d, "site.yaml", v ? v->line : 0, v ? v->col : 0,
	    "theme '%s' not found in the site's themes/ or in '%s/themes'%s%s%s",
	    b->cfg.theme, b->share_dir, hint ? "; did you mean '" : "",
	    hint ? hint : "", hint ? "'?" : "");
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int
setup_theme(struct build *b)
{
	char *local = xasprintf("themes/%s", b->cfg.theme);
	char *p = util_path_join(b->opts->src_dir, local);
	char *q;

	if (strchr(b->cfg.theme, '/') || strstr(b->cfg.theme, "..")) {
		free(local);
		free(p);
		return diag_err(b->d, "site.yaml", 0, 0, "theme name '%s' "
		    "must be a plain name", b->cfg.theme);
	}
	q = util_path_join(p, "layouts");
	if (util_is_dir(q)) {
		b->theme_dir = p;
		b->theme_display = local;
		free(q);
		return 0;
	}
	free(q);
	free(p);
	p = util_path_join(b->share_dir, local);
	q = util_path_join(p, "layouts");
	if (util_is_dir(q)) {
		b->theme_dir = p;
		b->theme_display = xstrdup(p);
		free(q);
		free(local);
		return 0;
	}
	free(q);
	free(p);
	free(local);
	return no_theme(b);
}

/* Refuses output dirs that would destroy the sources or the system. */
static int
check_output(struct build *b)
{
	char *src = util_abspath(b->opts->src_dir);
	char *out = util_abspath(b->out_dir);
	char *marker;
	int rc = 0;

	if (src == NULL || out == NULL) {
		rc = diag_err(b->d, NULL, 0, 0, "cannot resolve the "
		    "source or output directory");
		goto out;
	}
	if (strcmp(out, "/") == 0) {
		rc = diag_err(b->d, NULL, 0, 0, "refusing to use '/' as the "
		    "output directory");
	} else if (strcmp(out, src) == 0) {
		rc = diag_err(b->d, NULL, 0, 0, "output directory '%s' is the "
		    "source directory", b->out_dir);
	} else if (util_path_within(src, out)) {
		rc = diag_err(b->d, NULL, 0, 0, "output directory '%s' "
		    "contains the source directory", b->out_dir);
	} else {
		char *content = util_path_join(src, "content");

		if (util_path_within(out, content))
			rc = diag_err(b->d, NULL, 0, 0, "output directory "
			    "'%s' is inside content/", b->out_dir);
		free(content);
	}
	if (rc == 0 && util_is_dir(out)) {
		/* Only replace a directory tebiki made (or an empty one). */
		marker = util_path_join(out, ".tebiki-manifest");
		if (!util_is_file(marker)) {
			DIR *dp = opendir(out);
			struct dirent *de;
			int empty = 1;

			while (dp && (de = readdir(dp)) != NULL)
				if (strcmp(de->d_name, ".") != 0 &&
				    strcmp(de->d_name, "..") != 0)
					empty = 0;
			if (dp)
				closedir(dp);
			if (!empty)
				rc = diag_err(b->d, NULL, 0, 0, "output "
				    "directory '%s' exists and was not made by "
				    "tebiki; remove it or choose another",
				    b->out_dir);
		}
		free(marker);
	} else if (rc == 0 && access(out, F_OK) == 0) {
		rc = diag_err(b->d, NULL, 0, 0, "output path '%s' exists and is "
		    "not a directory", b->out_dir);
	}
out:
	free(src);
	free(out);
	return rc;
}

/* ---------------------------------------------------------------------
 * Pass 1: read every page
 */

/* Borrowed string value of a front matter key, or NULL; reports a wrong
 * type. */
static const char *
meta_str(struct build *b, struct page *p, const char *key)
{
	struct value *v = val_get(p->src.meta, key);

	if (v == NULL || v->kind == VAL_NULL)
		return NULL;
	if (v->kind == VAL_STR || v->kind == VAL_NUM || v->kind == VAL_DATE)
		return v->str;
	diag_err(b->d, p->f->src, v->line, v->col, "'%s' must be a string, "
	    "not a %s", key, val_kind_name(v->kind));
	return NULL;
}

static void mark_files(struct build *, struct page *, int);
static void plain_text(struct page *);
static void rc_join(struct build *);
static void hash_str(struct sha256 *, const char *);
static void hash_file(struct sha256 *, const char *);
static char *cache_path(const struct build *, const char *, const char *);

/* The text of the page's first top-level h1 ("" when none); caller
 * frees. */
static char *
first_h1(struct page *p)
{
	struct buf t = BUF_INIT;
	cmark_node *n;

	for (n = cmark_node_first_child(p->md.root); n; n = cmark_node_next(n))
		if (cmark_node_get_type(n) == CMARK_NODE_HEADING &&
		    cmark_node_get_heading_level(n) == 1) {
			md_text(n, &t);
			break;
		}
	return buf_detach(&t);
}

/* ---------------------------------------------------------------------
 * The pass-1 cache: what pass 1 takes from a page's Markdown (heading
 * levels, ids and texts, the first h1) as a value {h1, heads: [[level,
 * id, text] ...]}, per page in .tebiki-cache/pass1-<audience>.bin (ccache.h)
 * under a key of the program, the raw HTML setting and the page's source.
 * A rebuild parses only the pages that changed (and the excluded ones,
 * whose links pass 1 follows).
 */

/* Loads the cache (when the build keeps caches). */
static void
p1_open(struct build *b)
{
	struct sha256 h;
	char *path;

	if (!b->opts->write || b->opts->no_cache)
		return;
	sha256_init(&h);
	hash_str(&h, "tebiki pass1 1 " TEBIKI_VERSION);
	hash_file(&h, "/proc/self/exe");
	sha256_update(&h, &b->cfg.raw_html, sizeof(b->cfg.raw_html));
	sha256_final(&h, b->p1_salt);
	path = cache_path(b, "pass1", ".bin");
	b->p1 = cc_load(path);
	free(path);
}

/* The page's key (its source, parsed with the site's settings). */
static void
p1_key(const struct build *b, const struct page *p, unsigned char key[32])
{
	struct sha256 h;

	sha256_init(&h);
	sha256_update(&h, b->p1_salt, sizeof(b->p1_salt));
	sha256_update(&h, p->src_sum, sizeof(p->src_sum));
	sha256_final(&h, key);
}

/* Fills the page's headings from the cache and returns its first h1
 * (caller frees), or NULL when the cache has nothing for it. */
static char *
p1_take(struct build *b, struct page *p)
{
	const struct value *v, *hs, *e;
	unsigned char key[32];
	size_t i;

	if (b->p1 == NULL || !p->from_file)
		return NULL;
	p1_key(b, p, key);
	v = cc_find(b->p1, p->f->rel, key);
	if (v == NULL || val_cstr(val_get(v, "h1")) == NULL ||
	    (hs = val_get(v, "heads")) == NULL || hs->kind != VAL_LIST)
		return NULL;
	for (i = 0; i < hs->n; i++) {
		e = hs->items[i];
		if (e->kind != VAL_LIST || e->n != 3 ||
		    e->items[0]->kind != VAL_NUM || !val_cstr(e->items[1]) ||
		    !val_cstr(e->items[2]))
			return NULL;
	}
	p->heads = xcalloc(hs->n + 1, sizeof(*p->heads));
	for (i = 0; i < hs->n; i++) {
		e = hs->items[i];
		p->heads[i].level = (int)e->items[0]->num;
		p->heads[i].id = xstrdup(val_cstr(e->items[1]));
		p->heads[i].text = xstrdup(val_cstr(e->items[2]));
	}
	p->nheads = hs->n;
	p->p1 = val_ref((struct value *)v);
	return xstrdup(val_cstr(val_get(v, "h1")));
}

/* Makes the cache entry of a page pass 1 parsed. */
static void
p1_keep(struct build *b, struct page *p, const char *h1)
{
	struct value *v, *hs, *e;
	size_t i;

	if (b->p1 == NULL || !p->from_file)
		return;
	hs = val_list();
	for (i = 0; i < p->nheads; i++) {
		e = val_list();
		val_push(e, val_num(p->heads[i].level));
		val_push(e, val_str(p->heads[i].id));
		val_push(e, val_str(p->heads[i].text));
		val_push(hs, e);
	}
	v = val_map();
	val_set(v, "h1", val_str(h1));
	val_set(v, "heads", hs);
	p->p1 = v;
	p->p1_new = 1;
}

/* What p1_close hands to its thread: the entries to write (when `save`)
 * and to let go, and the loaded cache. */
struct p1_job {
	char			*path;
	const char		**paths;
	unsigned char		(*keys)[32];
	struct value		**data;
	size_t			 n;
	int			 save;
	struct ccache		*cache;
};

/* Thread body: writes the pass-1 cache (a failure only costs speed). */
static void *
p1_write(void *arg)
{
	struct p1_job *j = arg;

	if (j->save)
		(void)cc_save(j->path, j->paths,
		    (const unsigned char (*)[32])j->keys,
		    (const struct value *const *)j->data, j->n);
	return NULL;
}

/* Frees a p1_job (on the thread that made its values: freeing them on
 * another would contend for the allocator's locks). */
static void
p1_free(struct p1_job *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->n; i++)
		val_unref(j->data[i]);
	cc_free(j->cache);
	free(j->path);
	free(j->paths);
	free(j->keys);
	free(j->data);
	free(j);
}

/* Ends the pass-1 cache: a thread writes it, when a page was parsed or
 * left, while the model is made (p1_join waits for it and frees it). */
static void
p1_close(struct build *b)
{
	struct p1_job *j;
	size_t i, fresh = 0;

	if (b->p1 == NULL)
		return;
	j = xcalloc(1, sizeof(*j));
	j->paths = xcalloc(b->npages + 1, sizeof(*j->paths));
	j->keys = xcalloc(b->npages + 1, sizeof(*j->keys));
	j->data = xcalloc(b->npages + 1, sizeof(*j->data));
	for (i = 0; i < b->npages; i++) {
		struct page *p = &b->pages[i];

		if (p->p1 == NULL)
			continue;
		fresh += p->p1_new;
		j->paths[j->n] = p->f->rel;	/* the scan's: never moved */
		p1_key(b, p, j->keys[j->n]);
		j->data[j->n++] = p->p1;
		p->p1 = NULL;
	}
	if (b->timing)
		fprintf(stderr, "tebiki: timing: %zu of %zu pages' headings "
		    "from the pass-1 cache\n", j->n - fresh, j->n);
	j->save = fresh > 0 || j->n != cc_count(b->p1);
	j->path = cache_path(b, "pass1", ".bin");
	j->cache = b->p1;
	b->p1 = NULL;
	b->p1_job = j;
	if (j->save && pthread_create(&b->p1_thread, NULL, p1_write, j) == 0)
		b->p1_running = 1;
	else
		p1_write(j);
}

/* Waits for p1_close's thread and frees what it wrote. */
static void
p1_join(struct build *b)
{
	if (b->p1_running)
		pthread_join(b->p1_thread, NULL);
	b->p1_running = 0;
	p1_free(b->p1_job);
	b->p1_job = NULL;
}

static void	drop_text(struct page *);

/* The SHA-256 of a source, and on the way that of its front matter (the
 * text before the body). */
static void
source_sums(const struct page_src *ps, unsigned char fm_sum[32],
    unsigned char sum[32])
{
	const char *src = ps->text.ptr ? ps->text.ptr : "";
	size_t fm = ps->body && ps->text.ptr ?
	    (size_t)(ps->body - ps->text.ptr) : 0;
	struct sha256 h, hf;

	sha256_init(&h);
	sha256_update(&h, src, fm);
	hf = h;
	sha256_final(&hf, fm_sum);
	sha256_update(&h, src + fm, ps->text.len - fm);
	sha256_final(&h, sum);
}

/* A page's title: front matter, else its first h1, else its file name
 * (caller frees).  A blank title counts as none (model_check reports it
 * where a title is required). */
static char *
page_title(struct build *b, struct page *p, const char *h1)
{
	struct buf t = BUF_INIT;
	const char *s;

	if (!val_blank(val_get(p->src.meta, "title")) &&
	    (s = meta_str(b, p, "title")) != NULL)
		return xstrdup(s);
	buf_puts(&t, h1);
	if (t.len == 0) {
		s = strrchr(p->f->rel, '/');
		s = s ? s + 1 : p->f->rel;
		buf_put(&t, s, strlen(s) - 3);
	}
	return buf_detach(&t);
}

static void
pass1_page(void *arg, size_t i, int worker)
{
	struct build *b = arg;
	struct page *p = &b->pages[i];
	const char *s, *slash;
	struct value *v;
	char *h1;
	size_t k;

	(void)worker;
	p->from_file = page_load(&p->src, p->f->path, p->f->src, b->d) == 0;
	source_sums(&p->src, p->fm_sum, p->src_sum);
	/* type: front matter, else the folder */
	if ((s = meta_str(b, p, "type")) != NULL) {
		for (k = 0; known_types[k]; k++)
			if (strcmp(known_types[k], s) == 0)
				break;
		if (known_types[k] == NULL) {
			const char *hint = site_suggest(s, known_types);

			v = val_get(p->src.meta, "type");
			diag_err(b->d, p->f->src, v->line, v->col,
			    "unknown document type '%s'%s%s%s", s,
			    hint ? "; did you mean '" : "", hint ? hint : "",
			    hint ? "'?" : "");
			s = "page";
		}
		p->type = xstrdup(s);
	} else {
		p->type = xstrdup("page");
		slash = strchr(p->f->rel, '/');
		for (k = 0; slash &&
		    k < sizeof(type_folders) / sizeof(type_folders[0]); k++) {
			size_t n = strlen(type_folders[k].folder);

			if ((size_t)(slash - p->f->rel) == n &&
			    strncmp(p->f->rel, type_folders[k].folder, n) == 0) {
				free(p->type);
				p->type = xstrdup(type_folders[k].type);
			}
		}
	}
	/* a blank id is no id: model_check says it is empty where one is
	 * required, rather than "id '' may only contain ..." */
	if (!val_blank(val_get(p->src.meta, "id")) &&
	    (s = meta_str(b, p, "id")) != NULL) {
		for (k = 0; s[k]; k++) {
			if (!((s[k] >= 'A' && s[k] <= 'Z') ||
			    (s[k] >= 'a' && s[k] <= 'z') ||
			    (s[k] >= '0' && s[k] <= '9') || s[k] == '-' ||
			    s[k] == '_' || s[k] == '.'))
				break;
		}
		v = val_get(p->src.meta, "id");
		if (s[k] || k == 0 || s[0] == '.')
			diag_err(b->d, p->f->src, v->line, v->col, "id '%s' "
			    "may only contain letters, digits, '-', '_' and "
			    "'.'", s);
		else
			p->id = xstrdup(s);
	}
	p->lang = xstrdup((s = meta_str(b, p, "lang")) ? s :
	    b->cfg.language);
	if (strcmp(p->lang, "ja") != 0 && strcmp(p->lang, "en") != 0) {
		v = val_get(p->src.meta, "lang");
		diag_err(b->d, p->f->src, v->line, v->col, "unsupported "
		    "language '%s' (use 'ja' or 'en')", p->lang);
	}
	if ((s = meta_str(b, p, "status")) != NULL)
		p->status = xstrdup(s);
	p->classification = xstrdup((s = meta_str(b, p, "classification")) ?
	    s : b->cfg.default_classification);
	/* Markdown: its headings and first h1, from the pass-1 cache when
	 * the page did not change, else parsed */
	h1 = p1_take(b, p);
	if (h1 == NULL) {
		md_parse(&p->md, p->src.body, p->src.body_len,
		    b->cfg.raw_html);
		md_assign_ids(&p->md);
		p->nheads = md_headings(&p->md, &p->heads);
		h1 = first_h1(p);
		p1_keep(b, p, h1);
	}
	p->title = page_title(b, p, h1);
	p->out = xasprintf("%.*s.html", (int)(strlen(p->f->rel) - 3),
	    p->f->rel);
	p->is_home = strcmp(p->f->rel, "index.md") == 0;
	if (p->status && strcmp(p->status, "draft") == 0 &&
	    !b->cfg.build_drafts)
		p->excluded = 1;
	if (build_level(p->classification) > b->audience)
		p->excluded = 1;
	if (p->excluded) {
		if (p->md.root == NULL) {
			md_parse(&p->md, p->src.body, p->src.body_len,
			    b->cfg.raw_html);
			md_assign_ids(&p->md);
		}
		mark_files(b, p, 2);
	}
	p->raw_html = b->cfg.raw_html;
	/* page.text: now if the page was parsed, else when a filter reads
	 * it (load_text) */
	plain_text(p);
	free(h1);
	/* Pass 2 reads and parses the page again (cheap) rather than every
	 * page's source and tree staying in memory between the passes. */
	md_release(&p->md);
	drop_text(p);
}

/* ---------------------------------------------------------------------
 * URLs and links
 */

/* Relative URL from the output file `from` to the output file `to` (both
 * relative to the output root); caller frees. */
char *
build_rel_url(const char *from, const char *to)
{
	struct buf b = BUF_INIT;
	const char *f = from, *t = to, *fs, *ts;

	/* skip common leading directories */
	for (;;) {
		fs = strchr(f, '/');
		ts = strchr(t, '/');
		if (fs == NULL || ts == NULL || fs - f != ts - t ||
		    strncmp(f, t, (size_t)(fs - f)) != 0)
			break;
		f = fs + 1;
		t = ts + 1;
	}
	for (; (fs = strchr(f, '/')) != NULL; f = fs + 1)
		buf_puts(&b, "../");
	buf_puts(&b, t);
	return buf_detach(&b);
}

/* File line and column of a node, for diagnostics (0 when unknown).  A node
 * a filter made has no position of its own (luaast.h): it is reported where
 * the nearest enclosing node that has one starts, such as the paragraph
 * whose text a filter turned into a link; a block a filter made, not at
 * all. */
static void
node_pos(const struct page *p, cmark_node *n, int *line, int *col)
{
	int l, c;

	/* the parsed document starts at 1:1, which says nothing */
	while (n != NULL && cmark_node_get_type(n) != CMARK_NODE_DOCUMENT &&
	    cmark_node_get_start_line(n) <= 0)
		n = cmark_node_parent(n);
	if (n == NULL || cmark_node_get_type(n) == CMARK_NODE_DOCUMENT) {
		*line = *col = 0;
		return;
	}
	l = cmark_node_get_start_line(n);
	c = cmark_node_get_start_column(n);
	*line = p->src.body_line + l - 1;
	*col = c > 0 ? md_cp_col(p->src.body, p->src.body_len, l, c) : 0;
}

/* 1 when page t has a heading whose id is the (percent-encoded) anchor. */
static int
has_anchor(const struct page *t, const char *frag)
{
	char *dec = util_pct_decode(frag, strlen(frag));
	size_t i;
	int found = 0;

	for (i = 0; i < t->nheads && !found; i++)
		found = strcmp(t->heads[i].id, dec) == 0;
	found = found || strncmp(dec, "fn-", 3) == 0 ||
	    strncmp(dec, "fnref-", 6) == 0;
	free(dec);
	return found;
}

/* Resolves the URL of one link or image; returns the new URL (caller frees),
 * NULL to keep it, or reports and returns NULL. */
/* A link to a page left out of this build: an error, or (by the site's
 * excluded_links: text) a warning and the link becomes plain text. */
static void
excluded_link(struct build *b, struct page *p, cmark_node *n,
    const char *what, int *unwrap)
{
	int line, col;

	node_pos(p, n, &line, &col);
	if (b->cfg.excluded_links_text) {
		diag_warn(b->d, p->f->src, line, col, "link to '%s', which is "
		    "left out of this build, shown as plain text", what);
		*unwrap = 1;
	} else {
		diag_err(b->d, p->f->src, line, col, "link to '%s', which is "
		    "left out of this build", what);
	}
}

static char *
resolve_url(struct build *b, struct page *p, cmark_node *n, const char *url,
    int *unwrap)
{
	const char *frag, *q;
	char *path, *dec, *dir, *norm, *res = NULL, *rel;
	size_t plen, fi;
	struct page *t;
	int line, col;

	if (*url == '\0' || *url == '#' || *url == '?')
		return NULL;
	if (strncmp(url, "id:", 3) == 0) {
		frag = strchr(url, '#');
		path = frag ? xstrndup(url + 3, (size_t)(frag - url - 3)) :
		    xstrdup(url + 3);
		if (!hm_get(&b->by_id, path, &fi)) {
			node_pos(p, n, &line, &col);
			diag_err(b->d, p->f->src, line, col, "unknown "
			    "document id '%s' in link", path);
		} else if (b->pages[fi].excluded) {
			excluded_link(b, p, n, path, unwrap);
		} else {
			rel = build_rel_url(p->out, b->pages[fi].out);
			res = xasprintf("%s%s", rel, frag ? frag : "");
			free(rel);
		}
		free(path);
		return res;
	}
	if (strncmp(url, "ctl:", 4) == 0) {
		long ci;

		frag = strchr(url, '#');
		path = frag ? xstrndup(url + 4, (size_t)(frag - url - 4)) :
		    xstrdup(url + 4);
		if ((ci = model_find_control(b->model, path)) < 0) {
			node_pos(p, n, &line, &col);
			diag_err(b->d, p->f->src, line, col, "unknown control "
			    "'%s' in link", path);
		} else {
			rel = build_rel_url(p->out, b->model->ctls[ci].out);
			res = xasprintf("%s%s", rel, frag ? frag : "");
			free(rel);
		}
		free(path);
		return res;
	}
	if (util_url_is_external(url))
		return NULL;
	q = url + strcspn(url, "?#");
	plen = (size_t)(q - url);
	dec = util_pct_decode(url, plen);
	dir = xstrdup(p->f->rel);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	else
		*dir = '\0';
	norm = util_norm_path(dir, dec, strlen(dec));
	free(dir);
	if (norm == NULL) {
		node_pos(p, n, &line, &col);
		diag_err(b->d, p->f->src, line, col, "link '%s' points outside "
		    "the content directory", url);
		goto out;
	}
	if ((plen > 0 && url[plen - 1] == '/') || *norm == '\0') {
		rel = *norm ? xasprintf("%s/index.md", norm) :
		    xstrdup("index.md");
		free(norm);
		norm = rel;
	}
	if (!hm_get(&b->by_rel, norm, &fi) && hm_get(&b->by_out, norm, &fi)) {
		/* a page the build makes (control pages, lists, the SoA) */
		rel = build_rel_url(p->out, norm);
		res = xasprintf("%s%s", rel, q);
		free(rel);
		goto out;
	}
	if (!hm_get(&b->by_rel, norm, &fi)) {
		node_pos(p, n, &line, &col);
		diag_err(b->d, p->f->src, line, col, "link to missing file "
		    "'%.*s'", (int)plen, url);
		goto out;
	}
	if (b->files[fi].is_page) {
		t = &b->pages[b->file_page[fi]];
		if (*q == '#' && q[1] && !has_anchor(t, q + 1)) {
			node_pos(p, n, &line, &col);
			diag_warn(b->d, p->f->src, line, col, "no heading "
			    "'%s' in '%s'", q, t->f->src);
		}
		if (t->excluded) {
			excluded_link(b, p, n, t->f->src, unwrap);
			goto out;
		}
		rel = build_rel_url(p->out, t->out);
	} else {
		__atomic_or_fetch(&b->file_used[fi], 1, __ATOMIC_RELAXED);
		rel = build_rel_url(p->out, norm);
	}
	res = xasprintf("%s%s", rel, q);
	free(rel);
out:
	free(norm);
	free(dec);
	return res;
}

static void
resolve_links(struct build *b, struct page *p)
{
	cmark_iter *it = cmark_iter_new(p->md.root);
	cmark_event_type ev;
	cmark_node *n, **unwrap = NULL, *c;
	cmark_node_type ty;
	const char *url;
	char *nu;
	size_t nu_n = 0, i;
	int uw;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		ty = cmark_node_get_type(n);
		if (ev != CMARK_EVENT_ENTER ||
		    (ty != CMARK_NODE_LINK && ty != CMARK_NODE_IMAGE))
			continue;
		url = cmark_node_get_url(n);
		uw = 0;
		if (url && (nu = resolve_url(b, p, n, url, &uw)) != NULL) {
			cmark_node_set_url(n, nu);
			free(nu);
		}
		if (uw) {
			unwrap = xreallocarray(unwrap, nu_n + 1,
			    sizeof(*unwrap));
			unwrap[nu_n++] = n;
		}
	}
	cmark_iter_free(it);
	/* links to pages left out keep their text, lose the link */
	for (i = 0; i < nu_n; i++) {
		n = unwrap[i];
		while ((c = cmark_node_first_child(n)) != NULL)
			cmark_node_insert_before(n, c);
		cmark_node_free(n);
	}
	free(unwrap);
}

/* Marks the content files a page links to (bit: 1 included, 2 excluded). */
static void
mark_files(struct build *b, struct page *p, int bit)
{
	cmark_iter *it = cmark_iter_new(p->md.root);
	cmark_event_type ev;
	cmark_node *n;
	cmark_node_type ty;
	const char *url, *q;
	char *dir, *dec, *norm;
	size_t fi;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		ty = cmark_node_get_type(n);
		if (ev != CMARK_EVENT_ENTER ||
		    (ty != CMARK_NODE_LINK && ty != CMARK_NODE_IMAGE))
			continue;
		url = cmark_node_get_url(n);
		if (url == NULL || *url == '\0' || util_url_is_external(url) ||
		    *url == '#')
			continue;
		q = url + strcspn(url, "?#");
		dec = util_pct_decode(url, (size_t)(q - url));
		dir = xstrdup(p->f->rel);
		if (strrchr(dir, '/'))
			*strrchr(dir, '/') = '\0';
		else
			*dir = '\0';
		norm = util_norm_path(dir, dec, strlen(dec));
		if (norm && hm_get(&b->by_rel, norm, &fi))
			__atomic_or_fetch(&b->file_used[fi], bit,
			    __ATOMIC_RELAXED);
		free(norm);
		free(dir);
		free(dec);
	}
	cmark_iter_free(it);
}

/* ---------------------------------------------------------------------
 * Pass 2: links, HTML, template, write
 */

static int write_hashed(struct build *, const char *, const void *,
    size_t, const char[65]);

/* Writes `len` bytes to the output file `rel` of this build. */
int
build_write(struct build *b, const char *rel, const void *p, size_t len)
{
	char hex[65];

	if (!b->opts->write)
		return 0;
	sha256_hex(p, len, hex);
	return write_hashed(b, rel, p, len, hex);
}

static void
stream_sink(void *arg, const void *p, size_t n)
{
	struct build_stream *st = arg;
	const char *c = p;
	ssize_t w;

	sha256_update(st->hash, p, n);
	st->len += n;
	while (n > 0 && st->err == 0) {
		w = write(st->fd, c, n);
		if (w < 0) {
			if (errno != EINTR)
				st->err = errno;
			continue;
		}
		c += w;
		n -= (size_t)w;
	}
}

/* See build.h. */
void
build_stream_begin(struct build *b, const char *rel, struct buf *out,
    struct build_stream *st)
{
	char *path, *slash;

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	if (!b->opts->write || b->tmp_dir == NULL)
		return;
	path = util_path_join(b->tmp_dir, rel);
	st->part = xasprintf("%s.tebiki-part", path);
	if ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		(void)util_mkdir_p(path);
	}
	free(path);
	st->fd = open(st->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644);
	if (st->fd == -1) {
		free(st->part);
		st->part = NULL;
		return;
	}
	st->hash = xmalloc(sizeof(struct sha256));
	sha256_init(st->hash);
	buf_set_sink(out, (size_t)1 << 20, stream_sink, st);
}

/* See build.h. */
int
build_stream_end(struct build *b, const char *rel, struct buf *out,
    struct build_stream *st)
{
	unsigned char sum[32];
	char hex[65], *path;
	int i, rc = 0;

	if (st->part == NULL)
		return build_write(b, rel, out->ptr, out->len);
	buf_drain(out);
	sha256_final(st->hash, sum);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	if (close(st->fd) == -1 && st->err == 0)
		st->err = errno;
	path = util_path_join(b->tmp_dir, rel);
	if (st->err) {
		rc = diag_err(b->d, NULL, 0, 0, "cannot write '%s': %s", path,
		    strerror(st->err));
		unlink(st->part);
	} else if (b->ledger && ldg_put(b->ledger, rel, hex, st->len)) {
		unlink(st->part);	/* the work dir holds it already */
	} else if (rename(st->part, path) == -1) {
		rc = diag_err(b->d, NULL, 0, 0, "cannot write '%s': %s", path,
		    strerror(errno));
		unlink(st->part);
	}
	free(path);
	free(st->part);
	free(st->hash);
	st->part = NULL;
	st->hash = NULL;
	return rc;
}

/* See build.h. */
void
build_stream_abort(struct build_stream *st)
{
	if (st->part == NULL)
		return;
	close(st->fd);
	unlink(st->part);
	free(st->part);
	free(st->hash);
	st->part = NULL;
	st->hash = NULL;
}

/* Records output file `rel` (content hash `hex`) in the ledger and writes
 * it unless the work dir holds it already; 0, or -1 with errno set. */
static int
put_file(struct build *b, const char *rel, const void *p, size_t len,
    const char hex[65])
{
	char *path;
	int rc;

	if (b->ledger && ldg_put(b->ledger, rel, hex, len))
		return 0;
	path = util_path_join(b->tmp_dir, rel);
	rc = util_write_file(path, p, len);
	if (rc == -1 && (errno == EACCES || errno == EPERM)) {
		/* the work dir is the previous output, which its user may
		 * have made read-only: such a file is made anew (the
		 * directories are writable again: open_work_dir) */
		int saved = errno;

		if (unlink(path) == 0)
			rc = util_write_file(path, p, len);
		else
			errno = saved;
	}
	free(path);
	return rc;
}

/* build_write() with the content's SHA-256 already known. */
static int
write_hashed(struct build *b, const char *rel, const void *p, size_t len,
    const char hex[65])
{
	if (put_file(b, rel, p, len, hex) == -1)
		return diag_err(b->d, NULL, 0, 0, "cannot write '%s/%s': %s",
		    b->tmp_dir, rel, strerror(errno));
	return 0;
}

/* ---------------------------------------------------------------------
 * Lua filters
 */

/* The plain text of a page's body for filters (page.text): text and line
 * breaks, no code. */
static void
plain_text(struct page *p)
{
	struct buf t = BUF_INIT;
	cmark_iter *it;
	cmark_event_type ev;
	cmark_node *n;

	if (p->plain || p->md.root == NULL)
		return;
	it = cmark_iter_new(p->md.root);
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		if (ev != CMARK_EVENT_ENTER)
			continue;
		if (cmark_node_get_type(n) == CMARK_NODE_TEXT)
			buf_puts(&t, cmark_node_get_literal(n));
		else if (cmark_node_get_type(n) == CMARK_NODE_SOFTBREAK ||
		    cmark_node_get_type(n) == CMARK_NODE_PARAGRAPH)
			buf_putc(&t, '\n');
	}
	cmark_iter_free(it);
	p->plain = buf_detach(&t);
}

/* Parses a page's body again when its tree was released after pass 1;
 * returns the tree (kept in the page). */
static cmark_node *
load_doc(void *ctx)
{
	struct page *p = ctx;
	unsigned char sum[32];

	if (p->md.root == NULL && p->dropped) {
		/* read again; a file that changed since pass 1 gets no tree
		 * here, and pass 2 fails the build for it */
		if (page_reread(&p->src, p->f->path, p->body_off) == -1)
			return NULL;
		sha256_sum(p->src.text.ptr ? p->src.text.ptr : "",
		    p->src.text.len, sum);
		if (memcmp(sum, p->src_sum, sizeof(sum)) != 0) {
			page_drop_text(&p->src);
			return NULL;
		}
		p->dropped = 0;
	}
	if (p->md.root == NULL && p->src.body) {
		md_parse(&p->md, p->src.body, p->src.body_len, p->raw_html);
		md_assign_ids(&p->md);
	}
	return p->md.root;
}

/* page.text of a page pass 1 did not parse (its headings came from the
 * pass-1 cache): made from the tree, parsed for it if need be. */
static const char *
load_text(void *ctx)
{
	struct page *p = ctx;
	int parsed = p->md.root == NULL;

	if (p->plain == NULL && load_doc(p) != NULL) {
		plain_text(p);
		if (parsed)
			md_release(&p->md);
	}
	return p->plain;
}

static void
fill_flt_page(struct build *b, struct page *p, struct flt_page *fp)
{
	(void)b;
	memset(fp, 0, sizeof(*fp));
	fp->path = p->f->src;
	fp->id = p->id;
	fp->type = p->type;
	fp->title = p->title;
	fp->url = p->out;
	fp->lang = p->lang;
	fp->meta = p->src.meta;
	fp->doc = p->md.root;
	fp->body_line = p->src.body_line;
	fp->text = p->plain;
	fp->load_doc = load_doc;
	fp->load_ctx = p;
	fp->load_text = load_text;
}

/* What the build gives filters besides the pages: controls, glossary,
 * catalogs, the site's settings. */
static struct value *
filter_extra(struct build *b)
{
	struct value *x = val_map(), *ctls = val_map(), *c;
	struct model *m = b->model;
	size_t i;

	for (i = 0; i < m->nctls; i++) {
		c = val_map();
		val_set(c, "key", val_str(m->ctls[i].key));
		val_set(c, "id", val_str(m->ctls[i].id));
		val_set(c, "title", val_str(strcmp(b->cfg.language, "en") == 0 ?
		    m->ctls[i].title_en : m->ctls[i].title_ja));
		val_set(c, "title_ja", val_str(m->ctls[i].title_ja));
		val_set(c, "title_en", val_str(m->ctls[i].title_en));
		val_set(c, "url", val_str(m->ctls[i].out));
		val_set(c, "group", m->ctls[i].group ?
		    val_str(m->ctls[i].group) : val_null());
		val_set(ctls, m->ctls[i].key, c);
	}
	val_set(x, "controls", ctls);
	val_set(x, "glossary", val_ref(m->glossary));
	val_set(x, "config", val_ref(b->cfg.root));
	val_set(x, "language", val_str(b->cfg.language));
	return x;
}

/* Takes the pages filters added in `link` into the build. */
static void
take_added(struct build *b)
{
	const struct flt_added *a;
	size_t n = flt_site_added(b->flt, &a), k, base = b->npages;

	if (n == 0)
		return;
	b->added_files = xcalloc(n, sizeof(*b->added_files));
	b->nadded = n;
	b->pages = xreallocarray(b->pages, b->npages + n, sizeof(*b->pages));
	b->flt_index = xreallocarray(b->flt_index, b->npages + n,
	    sizeof(*b->flt_index));
	for (k = 0; k < n; k++) {
		struct site_file *f = &b->added_files[k];
		struct page *p = &b->pages[base + k];
		const char *rel = a[k].path;
		size_t dummy;

		if (strncmp(rel, "content/", 8) == 0)
			rel += 8;
		memset(p, 0, sizeof(*p));
		buf_init(&p->src.text);
		f->rel = xstrdup(rel);
		f->src = xasprintf("content/%s", rel);
		f->is_page = 1;
		p->f = f;
		if (!util_has_suffix(rel, ".md") || strstr(rel, "..") ||
		    *rel == '/' || hm_get(&b->by_rel, rel, &dummy)) {
			diag_err(b->d, f->src, 0, 0, "a filter added a page at "
			    "an unusable path (it must be a new relative .md "
			    "path)");
			p->excluded = 1;
		}
		buf_puts(&p->src.text, a[k].markdown);
		p->src.meta = val_ref(a[k].meta);
		p->src.body = p->src.text.ptr;
		p->src.body_len = p->src.text.len;
		p->src.body_line = 1;
		p->type = xstrdup(a[k].type);
		p->title = xstrdup(*a[k].title ? a[k].title : rel);
		p->lang = xstrdup(val_cstr(val_get(a[k].meta, "lang")) ?
		    val_cstr(val_get(a[k].meta, "lang")) : b->cfg.language);
		p->classification = xstrdup(b->cfg.default_classification);
		if (val_cstr(val_get(a[k].meta, "id")))
			p->id = xstrdup(val_cstr(val_get(a[k].meta, "id")));
		p->out = xasprintf("%.*s.html", (int)(strlen(rel) - 3), rel);
		md_parse(&p->md, p->src.body, p->src.body_len,
		    b->cfg.raw_html);
		md_assign_ids(&p->md);
		p->nheads = md_headings(&p->md, &p->heads);
		p->raw_html = b->cfg.raw_html;
		plain_text(p);
		b->flt_index[base + k] = b->nflt + k;
		if (p->id && !hm_get(&b->by_id, p->id, &dummy))
			hm_put(&b->by_id, p->id, base + k);
		hm_put(&b->by_out, p->out, base + k);
	}
	b->npages += n;
}

/* References filters declared: page.data.refs = {{target=, rel=}}. */
static void
take_refs(struct build *b, size_t pi, const struct value *data)
{
	const struct value *refs = val_get(data, "refs"), *r;
	const char *t, *rel;
	size_t i, k;
	long ci;
	static const char *const rels[] = {
		"mentions", "related", "affects", "implements", "controls",
		"cites"
	};

	if (refs == NULL || refs->kind != VAL_LIST)
		return;
	for (i = 0; i < refs->n; i++) {
		r = refs->items[i];
		t = val_cstr(val_get(r, "target"));
		rel = val_cstr(val_get(r, "rel"));
		if (t == NULL)
			continue;
		/* the relation names are kept as static strings */
		for (k = 0; k < sizeof(rels) / sizeof(rels[0]); k++)
			if (rel && strcmp(rel, rels[k]) == 0)
				break;
		rel = k < sizeof(rels) / sizeof(rels[0]) ? rels[k] : "mentions";
		if ((ci = model_find_control(b->model, t)) >= 0)
			model_add_ref(b->model, pi, MODEL_CONTROL, (size_t)ci,
			    rel);
		else if (hm_get(&b->by_id, t, &k) && k != pi &&
		    !b->pages[k].excluded)
			model_add_ref(b->model, pi, MODEL_PAGE, k, rel);
	}
}

/* Thread body: b->frozen_key, the SHA-256 of SITE as filters saw it (b->
 * frozen: read only, here and on the main thread, until fkey_join). */
static void *
frozen_key_work(void *arg)
{
	struct build *b = arg;
	struct buf j = BUF_INIT;

	val_to_json(b->frozen, &j);
	sha256_hex(j.ptr ? j.ptr : "", j.len, b->frozen_key);
	buf_release(&j);
	return NULL;
}

static void
fkey_join(struct build *b)
{
	if (b->fkeying)
		pthread_join(b->fkeyer, NULL);
	b->fkeying = 0;
}

/* Thread body: closes the filters' site Lua states, gives the memory
 * back (the values are freed by the main thread: see join_reaper). */
static void *
reap_site(void *arg)
{
	flt_site_close(arg);
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	return NULL;
}

/* Waits for reap_site, then frees the rest of the site (its values share
 * reference counts with the build's, so only this thread touches them). */
static void
join_reaper(struct build *b)
{
	if (b->reaping)
		pthread_join(b->reaper, NULL);
	b->reaping = 0;
	flt_site_free(b->flt);
	b->flt = NULL;
}

/* A worker may grow by this much over twice its size when new before it
 * is replaced. */
#define WORKER_SLACK	((size_t)8 << 20)

/* Replaces the filter worker of thread `worker` by a new one when its Lua
 * states got large: they keep what the filters read of SITE, a few KB for
 * every page they have filtered.  Filters start every page afresh, so the
 * output is the same. */
static void *
free_worker(void *arg)
{
	flt_worker_free(arg);
	return NULL;
}

static void
recycle_worker(struct build *b, int worker)
{
	struct flt_worker *w, *old = b->workers[worker];
	pthread_t t;

	if (flt_worker_memory(old) <= b->worker_max)
		return;
	if ((w = flt_worker_new(b->flt_opts, b->frozen, b->d)) == NULL)
		return;
	b->workers[worker] = w;
	__atomic_add_fetch(&b->recycled, 1, __ATOMIC_RELAXED);
	/* closing a grown state takes a while (~80 ms at 30k pages): a
	 * thread does it while this one goes on (joined after pass 2) */
	pthread_mutex_lock(&b->reap_lock);
	if (b->nreap >= 8) {		/* a few at a time */
		size_t i;

		for (i = 0; i < b->nreap; i++)
			pthread_join(b->reap_threads[i], NULL);
		b->nreap = 0;
	}
	if (pthread_create(&t, NULL, free_worker, old) == 0) {
		b->reap_threads = xreallocarray(b->reap_threads,
		    b->nreap + 1, sizeof(*b->reap_threads));
		b->reap_threads[b->nreap++] = t;
		old = NULL;
	}
	pthread_mutex_unlock(&b->reap_lock);
	flt_worker_free(old);
}

/* Waits for the threads freeing replaced workers. */
static void
join_recycled(struct build *b)
{
	size_t i;

	for (i = 0; i < b->nreap; i++)
		pthread_join(b->reap_threads[i], NULL);
	free(b->reap_threads);
	b->reap_threads = NULL;
	b->nreap = 0;
}

/* pool_fn: makes worker i (reads the frozen SITE, which nobody writes). */
static void
new_worker(void *arg, size_t i, int worker)
{
	struct build *b = arg;

	(void)worker;
	b->workers[i] = flt_worker_new(b->flt_opts, flt_site_frozen(b->flt),
	    b->d);
}

static void hash_str(struct sha256 *, const char *);
static void hash_file(struct sha256 *, const char *);
static void hash_tree_of(struct sha256 *, const char *, const char *);
static void hash_json(struct sha256 *, const struct value *);

/* The path of cache `name` of this build's audience in the site's
 * .tebiki-cache/ ("render-public", ...); caller frees. */
static char *
cache_path(const struct build *b, const char *name, const char *suffix)
{
	static const char *const level[] = { "public", "internal",
	    "confidential" };

	return xasprintf("%s/.tebiki-cache/%s-%s%s", b->opts->src_dir, name,
	    level[b->audience < 0 ? 0 : b->audience > 2 ? 2 : b->audience],
	    suffix);
}

/* See build.h. */
char *
build_cache_path(const struct build *b, const char *name, const char *suffix)
{
	return cache_path(b, name, suffix);
}

/* Starts a cache key: the kind of key, the program, the options every
 * output depends on (audience, today, what diagnostics are kept) and
 * site.yaml. */
static void
key_begin(struct build *b, struct sha256 *h, const char *kind)
{
	int opts[5];
	char *path;

	sha256_init(h);
	hash_str(h, kind);
	hash_file(h, "/proc/self/exe");
	opts[0] = b->audience;
	opts[1] = b->ty * 10000 + b->tm * 100 + b->td;
	opts[2] = b->d->quiet;
	opts[3] = b->d->strict;
	opts[4] = (int)b->d->max_per_file;
	sha256_update(h, opts, sizeof(opts));
	path = util_path_join(b->opts->src_dir, "site.yaml");
	hash_file(h, path);
	free(path);
}

/* The collect cache of this audience (ccache.h): computes every filtered
 * page's key and returns, per page, what collect left in an earlier build
 * under the same key (NULL entries: run collect); NULL when the build
 * keeps no cache.  A key covers what collect(page) can read: the program
 * and options, site.yaml, the filter files and the Lua files next to them
 * (require), the extra site values, every page's SITE entry (a collect may
 * read SITE.pages), and the page's own source. */
static struct value **
open_ccache(struct build *b, const struct flt_page *fps, size_t n,
    const struct value *extra)
{
	struct value **cached;
	struct sha256 h, ph;
	unsigned char g[32];
	char *path, *dir, *slash;
	size_t i;

	if (!b->opts->write || b->opts->no_cache)
		return NULL;
	/* the Lua limits are in site.yaml, hashed by key_begin */
	key_begin(b, &h, "tebiki collect 1 " TEBIKI_VERSION);
	/* require() reads Lua files from the site's filters/ and from the
	 * directory of each filter file */
	path = util_path_join(b->opts->src_dir, "filters");
	hash_tree_of(&h, path, ".lua");
	free(path);
	for (i = 0; i < b->cfg.nfilters; i++) {
		hash_file(&h, b->flt_files[i].path);
		dir = xstrdup(b->flt_files[i].path);
		if ((slash = strrchr(dir, '/')) != NULL) {
			*slash = '\0';
			hash_tree_of(&h, dir, ".lua");
		}
		free(dir);
	}
	hash_json(&h, extra);
	/* a page's front matter values are its front matter text parsed
	 * by this program (in the key already): the text's SHA-256 stands
	 * for them, which is much cheaper than their JSON */
	for (i = 0; i < b->npages; i++) {
		size_t k = b->flt_index[i];

		if (k == (size_t)-1)
			continue;
		hash_str(&h, fps[k].path);
		hash_str(&h, fps[k].id);
		hash_str(&h, fps[k].type);
		hash_str(&h, fps[k].title);
		hash_str(&h, fps[k].url);
		hash_str(&h, fps[k].lang);
		sha256_update(&h, b->pages[i].fm_sum,
		    sizeof(b->pages[i].fm_sum));
	}
	sha256_final(&h, g);
	build_phase(b, "filters: collect key");
	b->ckeys = xcalloc(n + 1, sizeof(*b->ckeys));
	cached = xcalloc(n + 1, sizeof(*cached));
	path = cache_path(b, "collect", ".bin");
	b->ccache = cc_load(path);
	free(path);
	for (i = 0; i < b->npages; i++) {
		size_t k = b->flt_index[i];

		if (k == (size_t)-1)
			continue;
		sha256_init(&ph);
		sha256_update(&ph, g, sizeof(g));
		hash_str(&ph, fps[k].path);
		sha256_update(&ph, b->pages[i].src_sum,
		    sizeof(b->pages[i].src_sum));
		sha256_final(&ph, b->ckeys[k]);
		cached[k] = cc_find(b->ccache, fps[k].path, b->ckeys[k]);
	}
	return cached;
}

/* Saves what collect left for the next build, unless it would write the
 * same file again (every page reused, nothing else in it). */
static void
save_ccache(struct build *b, const struct flt_page *fps, size_t n,
    struct value **cached)
{
	const struct value **data;
	const char **paths;
	char *dir, *path;
	size_t i, hits = 0;

	if (cached == NULL || b->ckeys == NULL)
		return;
	for (i = 0; i < n; i++)
		hits += cached[i] != NULL &&
		    flt_page_collected(b->flt, i) == cached[i];
	if (hits == n && cc_count(b->ccache) == n)
		return;
	dir = util_path_join(b->opts->src_dir, ".tebiki-cache");
	path = cache_path(b, "collect", ".bin");
	data = xcalloc(n + 1, sizeof(*data));
	paths = xcalloc(n + 1, sizeof(*paths));
	for (i = 0; i < n; i++) {
		data[i] = flt_page_collected(b->flt, i);
		paths[i] = fps[i].path;
	}
	if (util_mkdir_p(dir) == 0)
		(void)cc_save(path, paths, (const unsigned char (*)[32])b->ckeys,
		    data, n);
	free(data);
	free(paths);
	free(path);
	free(dir);
}

/* What collect left for each of the n filter pages, for a previewer:
 * it compares a changed page's new data with it. */
static void
keep_collected(struct build *b, size_t n)
{
	const struct value *v;
	size_t k;

	b->flt_local = !flt_site_has_link(b->flt);
	b->collected = xcalloc(n + 1, sizeof(*b->collected));
	for (k = 0; k < n; k++) {
		/* NULL when a collect is not page_local or said something */
		if ((v = flt_page_collected(b->flt, k)) == NULL)
			b->flt_local = 0;
		else
			b->collected[k] = val_ref((struct value *)v);
	}
}

static void
drop_collected(struct build *b)
{
	size_t k;

	if (b->collected == NULL)
		return;
	for (k = 0; k < b->nflt; k++)
		val_unref(b->collected[k]);
	free(b->collected);
	b->collected = NULL;
}

static int
run_filters(struct build *b, int jobs)
{
	struct flt_page *fps;
	struct value *extra, **cached;
	size_t i, n = 0, ff;
	int rc = 0, j;

	if (b->cfg.nfilters == 0)
		return 0;
	b->flt_files = xcalloc(b->cfg.nfilters, sizeof(*b->flt_files));
	for (i = 0; i < b->cfg.nfilters; i++) {
		char *path = util_path_join(b->opts->src_dir, b->cfg.filters[i]);

		if (!util_is_file(path)) {
			free(path);
			path = util_path_join(b->share_dir, b->cfg.filters[i]);
		}
		if (!util_is_file(path))
			rc = diag_err(b->d, "site.yaml", b->cfg.filter_lines[i],
			    b->cfg.filter_cols[i], "filter '%s' not found in "
			    "the site or in '%s'", b->cfg.filters[i],
			    b->share_dir);
		b->flt_files[i].path = path;
		b->flt_files[i].display = b->cfg.filters[i];
	}
	if (rc)
		return -1;
	b->flt_opts = xcalloc(1, sizeof(*b->flt_opts));
	b->flt_opts->site_dir = b->opts->src_dir;
	b->flt_opts->files = b->flt_files;
	b->flt_opts->nfiles = b->cfg.nfilters;
	b->flt_opts->instr_budget = b->cfg.lua_instructions;
	/* a state holds SITE: every page costs it ~2.6 KB once filters
	 * have looked at the pages, so the default grows with the site */
	b->flt_opts->mem_cap = b->cfg.lua_memory_mb > 0 ?
	    (size_t)b->cfg.lua_memory_mb << 20 :
	    ((size_t)256 << 20) + b->npages * ((size_t)4 << 10);
	b->flt_opts->allow_raw_html = b->cfg.raw_html;
	b->flt_opts->jobs = jobs;
	if ((b->flt = flt_site_new(b->flt_opts, b->d)) == NULL)
		return -1;
	fps = xcalloc(b->npages + 1, sizeof(*fps));
	b->flt_index = xcalloc(b->npages + 1, sizeof(*b->flt_index));
	for (i = 0; i < b->npages; i++) {
		b->flt_index[i] = (size_t)-1;
		if (b->pages[i].excluded)
			continue;
		fill_flt_page(b, &b->pages[i], &fps[n]);
		b->flt_index[i] = n++;
	}
	b->nflt = n;
	extra = filter_extra(b);
	build_phase(b, "filters: prepare");
	cached = open_ccache(b, fps, n, extra);
	build_phase(b, "filters: collect cache");
	rc = flt_site_run(b->flt, fps, n, extra, cached, b->d);
	build_phase(b, "filters: run");
	val_unref(extra);
	if (rc == 0)
		save_ccache(b, fps, n, cached);
	if (rc == 0 && b->opts->preview)
		keep_collected(b, n);
	if (b->timing) {
		int by_page, nt = flt_site_collect_threads(b->flt, &by_page);

		fprintf(stderr, "tebiki: timing: collect on %d threads%s\n", nt,
		    by_page ? ", by page" : "");
	}
	if (b->timing && cached) {
		size_t hits = 0;

		for (i = 0; i < n; i++)
			hits += cached[i] != NULL;
		fprintf(stderr, "tebiki: timing: %zu of %zu pages' collect "
		    "from the collect cache\n", hits, n);
	}
	free(cached);
	cc_free(b->ccache);
	b->ccache = NULL;
	free(fps);
	if (rc == -1)
		return -1;
	ff = b->npages;
	take_added(b);
	for (i = 0; i < ff; i++)
		if (b->flt_index[i] != (size_t)-1)
			take_refs(b, i, flt_page_data(b->flt, b->flt_index[i]));
	/* page.text is for collect only (PAGE.text is nil in element
	 * filters): not held by every page until pass 2 */
	for (i = 0; i < b->npages; i++) {
		free(b->pages[i].plain);
		b->pages[i].plain = NULL;
	}
	/* each worker converts SITE into its own Lua states: in parallel */
	build_phase(b, "filters: saved");
	b->workers = xcalloc((size_t)jobs, sizeof(*b->workers));
	b->nworkers = jobs;
	pool_run(jobs, (size_t)jobs, new_worker, b);
	build_phase(b, "filters: workers");
	for (j = 0; j < jobs; j++)
		if (b->workers[j] == NULL)
			return -1;
	/* pass 2 may replace a worker that grew (see recycle_worker) */
	b->frozen = val_ref(flt_site_frozen(b->flt));
	b->worker_max = 2 * flt_worker_memory(b->workers[0]) + WORKER_SLACK;
	/* test hook: replace workers sooner (0: after every page) */
	if (getenv("TEBIKI_TEST_WORKER_MAX"))
		b->worker_max = strtoul(getenv("TEBIKI_TEST_WORKER_MAX"),
		    NULL, 10);
	/* what filters see goes into the render cache's keys: a thread
	 * serializes it while the main thread goes on (lifecycle, templates,
	 * the work dir); open_rcache waits for it.  Then the site's Lua
	 * state is not needed any more (it is the largest single thing a big
	 * site's build holds) */
	if (b->opts->write && !b->opts->no_cache) {
		if (pthread_create(&b->fkeyer, NULL, frozen_key_work, b) == 0)
			b->fkeying = 1;
		else
			frozen_key_work(b);
	}
	/* closing a big Lua state takes a while: a thread does it while the
	 * main thread prepares pass 2 (joined before pass 2 starts) */
	if (pthread_create(&b->reaper, NULL, reap_site, b->flt) == 0)
		b->reaping = 1;
	else
		reap_site(b->flt);
	return 0;
}

/* Splits the page's text at headings for the search index. */
static void
extract_sections(struct page *p)
{
	cmark_iter *it = cmark_iter_new(p->md.root);
	cmark_event_type ev;
	cmark_node *n;
	cmark_node_type ty;
	struct buf text = BUF_INIT, head = BUF_INIT;
	const char *lit, *anchor = "";
	int in_heading = 0;

	for (;;) {
		ev = cmark_iter_next(it);
		n = ev == CMARK_EVENT_DONE ? NULL : cmark_iter_get_node(it);
		ty = n ? cmark_node_get_type(n) : CMARK_NODE_NONE;
		if (ev == CMARK_EVENT_DONE || (ev == CMARK_EVENT_ENTER &&
		    ty == CMARK_NODE_HEADING)) {
			if (text.len || head.len || p->nsections == 0) {
				struct srch_section *s;

				p->sections = xreallocarray(p->sections,
				    p->nsections + 1, sizeof(*p->sections));
				s = &p->sections[p->nsections++];
				s->anchor = xstrdup(anchor);
				s->heading = xstrdup(head.ptr);
				s->text = xstrdup(text.ptr);
			}
			if (ev == CMARK_EVENT_DONE)
				break;
			buf_reset(&text);
			buf_reset(&head);
			anchor = md_heading_id(n) ? md_heading_id(n) : "";
			in_heading = 1;
			continue;
		}
		if (ev == CMARK_EVENT_EXIT && ty == CMARK_NODE_HEADING) {
			in_heading = 0;
			continue;
		}
		if (ev == CMARK_EVENT_ENTER && (ty == CMARK_NODE_TEXT ||
		    ty == CMARK_NODE_CODE || ty == CMARK_NODE_CODE_BLOCK) &&
		    (lit = cmark_node_get_literal(n)) != NULL) {
			buf_puts(in_heading ? &head : &text, lit);
		} else if (ev == CMARK_EVENT_ENTER && (ty == CMARK_NODE_SOFTBREAK
		    || ty == CMARK_NODE_LINEBREAK)) {
			buf_putc(in_heading ? &head : &text, ' ');
		} else if (ev == CMARK_EVENT_EXIT && !in_heading &&
		    text.len && text.ptr[text.len - 1] != '\n' &&
		    (ty & CMARK_NODE_TYPE_MASK) == CMARK_NODE_TYPE_BLOCK) {
			buf_putc(&text, '\n');
		} else if (ev == CMARK_EVENT_EXIT && !in_heading && text.len &&
		    strcmp(cmark_node_get_type_string(n), "table_cell") == 0) {
			buf_putc(&text, ' ');
		}
	}
	cmark_iter_free(it);
	buf_release(&text);
	buf_release(&head);
}

/* ---------------------------------------------------------------------
 * Render cache (rcache.h)
 */

static void
hash_str(struct sha256 *h, const char *s)
{
	size_t n = s ? strlen(s) + 1 : 0;

	sha256_update(h, &n, sizeof(n));
	if (s)
		sha256_update(h, s, n);
}

static void
hash_json(struct sha256 *h, const struct value *v)
{
	struct buf j = BUF_INIT;

	if (v)
		val_to_json(v, &j);
	hash_str(h, j.ptr ? j.ptr : "");
	buf_release(&j);
}

/* Hashes every file under dir (path and content). */
static void
hash_tree(struct sha256 *h, const char *dir)
{
	hash_tree_of(h, dir, NULL);
}

/* Hashes the files under dir whose names end in `suffix` (all: NULL). */
static void
hash_tree_of(struct sha256 *h, const char *dir, const char *suffix)
{
	char **files, *path;
	struct buf c = BUF_INIT;
	size_t n, i;

	n = util_list_files(dir, &files);
	for (i = 0; i < n; i++) {
		if (suffix && !util_has_suffix(files[i], suffix)) {
			free(files[i]);
			continue;
		}
		path = util_path_join(dir, files[i]);
		hash_str(h, files[i]);
		buf_reset(&c);
		if (util_read_file(path, &c) == 0)
			sha256_update(h, c.ptr, c.len);
		free(path);
		free(files[i]);
	}
	free(files);
	buf_release(&c);
}

static void
hash_file(struct sha256 *h, const char *path)
{
	struct buf c = BUF_INIT;

	if (util_read_file(path, &c) == 0)
		sha256_update(h, c.ptr, c.len);
	else
		hash_str(h, "(none)");
	buf_release(&c);
}

/* The site-wide part of every page key: the program itself, the options,
 * the configuration, theme, filters and what filters see (SITE), and what
 * link resolution reads from other pages.  A page key adds the page's
 * source and context (page_key). */
static void
global_key(struct build *b)
{
	struct sha256 h;
	char *path;
	size_t i, k;

	key_begin(b, &h, "tebiki rcache 1 " TEBIKI_VERSION);
	sha256_update(&h, &b->cfg.search, sizeof(b->cfg.search));
	hash_tree(&h, b->theme_dir);
	path = util_path_join(b->opts->src_dir, "layouts");
	hash_tree(&h, path);
	free(path);
	for (i = 0; b->flt_files && i < b->cfg.nfilters; i++)
		hash_file(&h, b->flt_files[i].path);
	hash_str(&h, b->frozen_key);
	hash_json(&h, b->site_ctx);
	hash_json(&h, b->i18n_ja);
	hash_json(&h, b->i18n_en);
	for (i = 0; i < b->npages; i++) {
		const struct page *p = &b->pages[i];

		hash_str(&h, p->f->rel);
		hash_str(&h, p->out);
		hash_str(&h, p->id);
		hash_str(&h, p->title);
		sha256_update(&h, &p->excluded, sizeof(p->excluded));
		for (k = 0; k < p->nheads; k++)
			hash_str(&h, p->heads[k].id);
	}
	for (i = 0; i < b->nfiles; i++)		/* attachments links name */
		hash_str(&h, b->files[i].rel);
	for (i = 0; i < b->model->nctls; i++) {
		hash_str(&h, b->model->ctls[i].key);
		hash_str(&h, b->model->ctls[i].out);
		hash_str(&h, b->model->ctls[i].title_ja);
		hash_str(&h, b->model->ctls[i].title_en);
	}
	sha256_final(&h, b->gkey);
}

/* Sets p->rkey: the global key, the page's source and its context; `in`
 * is what render_page_begin gave as the key text. */
static void
page_key(struct build *b, struct page *p, const struct buf *in)
{
	struct sha256 h;

	sha256_init(&h);
	sha256_update(&h, b->gkey, sizeof(b->gkey));
	hash_str(&h, p->f->rel);
	sha256_update(&h, p->src_sum, sizeof(p->src_sum));
	sha256_update(&h, in->ptr ? in->ptr : "", in->len);
	sha256_final(&h, p->rkey);
	p->keyed = 1;
}

/* Keeps page p's body until the render cache and the print page have
 * read it: in the spill when there is one, else in memory.  `own` is
 * html when it is malloc'd and taken, else NULL. */
static void
keep_body(struct build *b, struct page *p, const char *html, char *own)
{
	size_t n = strlen(html);

	if (b->bodies && spill_put(b->bodies, html, n, &p->html_off) == 0) {
		p->html_len = n;
		p->html_spilled = 1;
		free(own);
		return;
	}
	p->body_html = own ? own : xstrdup(html);
}

/* A text of page p could not be read back from the spill (errno): the
 * build fails, said once. */
static void
spill_failed(const struct build *b, const struct page *p)
{
	int e = errno;

	if (spill_first_failure(b->bodies))
		diag_err(b->d, p->f->src, 0, 0, "cannot read back what pass 2 "
		    "made of this page from the build's scratch file (%s); "
		    "nothing was changed: build again", strerror(e));
}

/* Moves the texts of page p's search sections to the spill, if there is
 * one (the index reads them a batch at a time, srch_set_spill): one after
 * the other in one write, so that they are read back in one, too. */
static void
keep_sections(struct build *b, struct page *p)
{
	struct buf all = BUF_INIT;
	uint64_t off;
	size_t k;

	if (b->bodies == NULL || p->nsections == 0)
		return;
	p->sec_off = xcalloc(p->nsections, sizeof(*p->sec_off));
	p->sec_len = xcalloc(p->nsections, sizeof(*p->sec_len));
	for (k = 0; k < p->nsections; k++) {
		p->sec_len[k] = strlen(p->sections[k].text);
		p->sec_off[k] = all.len;	/* in `all`, for now */
		buf_put(&all, p->sections[k].text, p->sec_len[k]);
	}
	if (spill_put(b->bodies, all.ptr, all.len, &off) == 0) {
		for (k = 0; k < p->nsections; k++) {
			p->sec_off[k] += off;
			free((char *)p->sections[k].text);
			p->sections[k].text = NULL;
		}
	} else {
		/* they stay in memory */
		free(p->sec_off);
		free(p->sec_len);
		p->sec_off = NULL;
		p->sec_len = NULL;
	}
	buf_release(&all);
}

/* The text of page p's search section k (see build_body). */
static const char *
section_text(const struct build *b, const struct page *p, size_t k,
    char **tofree)
{
	*tofree = NULL;
	if (p->sections[k].text)
		return p->sections[k].text;
	if ((*tofree = spill_get(b->bodies, p->sec_off[k], p->sec_len[k])) ==
	    NULL) {
		spill_failed(b, p);
		return "";
	}
	return *tofree;
}

/* See build.h. */
const char *
build_body(const struct build *b, const struct page *p, char **tofree)
{
	*tofree = NULL;
	if (p->body_rc)
		return p->body_rc;
	if (!p->html_spilled)
		return p->body_html ? p->body_html : "";
	if ((*tofree = spill_get(b->bodies, p->html_off, p->html_len)) == NULL) {
		spill_failed(b, p);
		return "";
	}
	return *tofree;
}

/* What load_text_of read last: every search text of one page, read in one
 * go (keep_sections wrote them one after the other). */
struct text_cache {
	struct build		*b;
	const struct page	*p;
	char			*all;
};

/* The render cache's loader of spilled texts (rc_save): the body of page
 * ref (what < 0) or the text of its search section `what`. */
static char *
load_text_of(void *ctx, const void *ref, long what)
{
	struct text_cache *tc = ctx;
	const struct page *p = ref;
	size_t k = (size_t)what, n = 0, j;
	char *t;
	const char *s;

	if (what >= 0 && p->sections[k].text == NULL) {
		if (tc->p != p) {
			free(tc->all);
			for (j = 0; j < p->nsections; j++)
				n += p->sec_len[j];
			tc->p = p;
			tc->all = spill_get(tc->b->bodies, p->sec_off[0], n);
		}
		if (tc->all)
			return xstrndup(tc->all + (p->sec_off[k] -
			    p->sec_off[0]), p->sec_len[k]);
	}
	s = what < 0 ? build_body(tc->b, p, &t) : section_text(tc->b, p, k,
	    &t);
	return t ? t : xstrdup(s);
}

/* Puts the output of entry e in place of rendering the page: the file
 * (already in the work dir, or copied from the current output after
 * checking its hash), the body, the search text and the diagnostics.
 * 0, or -1 when the page must be rendered after all. */
static int
reuse(struct build *b, struct page *p, const struct rc_entry *e)
{
	struct buf c = BUF_INIT;
	char *path, hex[65];
	size_t k;
	int ok = 1;

	if (!ldg_put(b->ledger, p->out, e->hex, e->len)) {
		path = util_path_join(b->out_dir, p->out);
		ok = util_read_file(path, &c) == 0 && c.len == e->len;
		free(path);
		if (ok) {
			sha256_hex(c.ptr, c.len, hex);
			ok = memcmp(hex, e->hex, 64) == 0;
		}
		if (ok) {
			path = util_path_join(b->tmp_dir, p->out);
			ok = util_write_file(path, c.ptr, c.len) == 0;
			free(path);
		}
		buf_release(&c);
	}
	if (!ok)
		return -1;
	memcpy(p->out_hex, e->hex, sizeof(p->out_hex));
	p->out_len = e->len;
	/* the body and the search texts stay in the render cache's memory
	 * (it is loaded whole) until the index has copied them: borrowed,
	 * neither copied nor spilled */
	p->body_rc = e->body ? e->body : "";
	if (b->cfg.search) {
		p->sections = xcalloc(e->nsecs + 1, sizeof(*p->sections));
		for (k = 0; k < e->nsecs; k++) {
			p->sections[k].anchor = xstrdup(e->secs[k].anchor);
			p->sections[k].heading = xstrdup(e->secs[k].heading);
			p->sections[k].text = e->secs[k].text;
		}
		p->nsections = e->nsecs;
		memcpy(p->secsum, e->secsum, sizeof(p->secsum));
		p->secsum_set = e->secsum_set;
		p->secs_valid = e->secs_valid;
	}
	for (k = 0; k < e->ndiags; k++)
		diag_emit(b->d, (enum diag_sev)e->diags[k].sev,
		    e->diags[k].code, p->f->src, e->diags[k].line,
		    e->diags[k].col, "%s", e->diags[k].text);
	return 0;
}

/* The cache file of this audience, in the site's .tebiki-cache/ (NULL
 * when the build keeps no cache).  Entries do not depend on the output
 * directory (reuse() checks the file it takes by its hash), so builds into
 * other directories, such as `tebiki serve`'s, share it. */
static void
open_rcache(struct build *b)
{
	char *old;

	if (!b->opts->write || b->opts->no_cache)
		return;
	b->rcache_path = cache_path(b, "render", "");
	fkey_join(b);
	global_key(b);
	rc_join(b);	/* rc_start loaded it */
	if (b->rcache == NULL)
		b->rcache = rc_load(b->rcache_path);
	/* the one-file cache of earlier versions */
	old = cache_path(b, "render", ".bin");
	(void)unlink(old);
	free(old);
}

/* Thread body: loads the render cache of build arg. */
static void *
rc_loader(void *arg)
{
	struct build *b = arg;
	char *path = cache_path(b, "render", "");

	b->rcache = rc_load(path);
	free(path);
	return NULL;
}

/* Starts loading the render cache in a thread while the filters' site
 * phases (one thread) run; open_rcache joins it. */
static void
rc_start(struct build *b)
{
	if (!b->opts->write || b->opts->no_cache)
		return;
	if (pthread_create(&b->rc_thread, NULL, rc_loader, b) == 0)
		b->rc_running = 1;
}

/* Waits for rc_start's thread. */
static void
rc_join(struct build *b)
{
	if (b->rc_running)
		pthread_join(b->rc_thread, NULL);
	b->rc_running = 0;
}

/* Gives each page the diagnostics pass 2 reported for it (messages
 * numbered seq0 .. seq1-1); 0, or -1 when one belongs to no page (then the
 * cache is not saved: replaying it could not give the same messages). */
static int
attribute_diags(struct build *b, size_t seq0, size_t seq1)
{
	struct hmap src;
	size_t i, pi;
	int rc = 0;

	hm_init(&src);
	for (i = 0; i < b->npages; i++)
		hm_put(&src, b->pages[i].f->src, i);
	for (i = 0; i < b->d->n; i++) {
		const struct diag_msg *m = &b->d->msgs[i];
		struct page *p;
		struct rc_diag *r;

		if (m->seq < seq0 || m->seq >= seq1)
			continue;
		if (m->file == NULL || !hm_get(&src, m->file, &pi)) {
			rc = -1;
			break;
		}
		p = &b->pages[pi];
		p->diags = xreallocarray(p->diags, p->ndiags + 1,
		    sizeof(*p->diags));
		r = &p->diags[p->ndiags++];
		r->sev = (int)m->sev;
		r->line = m->line;
		r->col = m->col;
		r->code = m->code;	/* borrowed until diag_flush */
		r->text = m->text;
	}
	hm_release(&src);
	return rc;
}

/* Writes the cache for the next build (a failure only costs speed). */
static void
save_rcache(struct build *b, size_t seq0, size_t seq1)
{
	struct text_cache tc;
	struct rc_entry *v;
	size_t i, n = 0;

	if (b->rcache_path == NULL)
		return;
	if (attribute_diags(b, seq0, seq1) == -1) {
		(void)util_rmtree(b->rcache_path);
		return;
	}
	/* rc_save leaves alone the files whose entries all came from them */
	v = xcalloc(b->npages + 1, sizeof(*v));
	for (i = 0; i < b->npages; i++) {
		struct page *p = &b->pages[i];

		if (p->excluded || !p->keyed || !p->out_hex[0])
			continue;
		v[n].out = p->out;
		memcpy(v[n].key, p->rkey, 32);
		memcpy(v[n].hex, p->out_hex, 65);
		v[n].len = p->out_len;
		v[n].body = p->body_rc ? (char *)p->body_rc : p->html_spilled ?
		    NULL : p->body_html;
		v[n].ref = p;
		v[n].secs = p->sections;
		v[n].nsecs = p->nsections;
		memcpy(v[n].secsum, p->secsum, sizeof(v[n].secsum));
		v[n].secsum_set = p->secsum_set;
		v[n].secs_valid = p->secs_valid;
		v[n].diags = p->diags;
		v[n].ndiags = p->ndiags;
		n++;
	}
	/* as "<bucket>.bin.new" files: put in place only once the build has
	 * succeeded (commit_rcache), removed otherwise (build_release) */
	tc.b = b;
	tc.p = NULL;
	tc.all = NULL;
	if (rc_save(b->rcache, b->rcache_path, v, n, load_text_of, &tc) == 0)
		b->rcache_new = 1;
	else
		rc_discard(b->rcache_path);
	free(tc.all);
	free(v);
}

/* Puts the cache saved by save_rcache in place (the build succeeded). */
static void
commit_rcache(struct build *b)
{
	if (b->rcache_new) {
		rc_commit(b->rcache_path);
		b->rcache_new = 0;
	}
	if (b->prn_index_new) {
		if (rename(b->prn_index_new, b->prn_index) == -1)
			(void)unlink(b->prn_index_new);
		free(b->prn_index_new);
		b->prn_index_new = NULL;
	}
}

/* Between pass 1 and pass 2 nothing but a filter reading page.doc needs a
 * page's source text (the front matter values are a tree of their own):
 * it is freed, and read again when needed (load_doc, pass 2). */
static void
drop_text(struct page *p)
{
	if (!p->from_file || p->dropped)
		return;
	p->body_off = (size_t)(p->src.body - p->src.text.ptr);
	page_drop_text(&p->src);
	p->dropped = 1;
}

/* The sources read again for filters go before pass 2, too. */
static void
drop_sources(struct build *b)
{
	size_t i;

	for (i = 0; i < b->npages; i++)
		drop_text(&b->pages[i]);
}

/* Reads the source of a page dropped by drop_sources again; -1 after
 * reporting when it cannot be read or changed since pass 1. */
static int
reread_source(struct build *b, struct page *p)
{
	unsigned char sum[32];

	p->dropped = 0;
	if (page_reread(&p->src, p->f->path, p->body_off) == -1)
		return diag_err(b->d, p->f->src, 0, 0, "cannot read file "
		    "again: %s", strerror(errno));
	sha256_sum(p->src.text.ptr ? p->src.text.ptr : "", p->src.text.len,
	    sum);
	if (memcmp(sum, p->src_sum, sizeof(sum)) != 0)
		return diag_err(b->d, p->f->src, 0, 0, "the file changed "
		    "while the site was being built: build again");
	return 0;
}

/* After pass 2 nothing reads a page's source text (the front matter
 * values are a tree of their own): free it, a big site's largest part. */
static void
drop_source(struct page *p)
{
	buf_release(&p->src.text);
	p->src.body = NULL;
	p->src.body_len = 0;
	free(p->plain);		/* page.text: only filters read it */
	p->plain = NULL;
}

/* Pass 2 of page i once its source is loaded: the element filters (on
 * worker `worker`), links, the body, and the page around it (`ctx`,
 * consumed) into `out`.  In a build (`full`) a worker that grew is
 * replaced and the search index's sections are kept; a preview does
 * neither.  0, or -1 after reporting. */
static int
render_body(struct build *b, size_t i, int worker, struct value *ctx,
    int full, struct buf *out)
{
	struct page *p = &b->pages[i];
	struct buf html = BUF_INIT;

	load_doc(p);
	if (b->workers && b->workers[worker] && b->flt_index[i] != (size_t)-1) {
		struct flt_page fp;

		fill_flt_page(b, p, &fp);
		val_unref(p->tmpl_extra);
		p->tmpl_extra = NULL;
		if (flt_worker_page(b->workers[worker], &fp, b->flt_index[i],
		    &p->md.root, &p->tmpl_extra, b->d) == -1) {
			val_unref(ctx);
			return -1;
		}
		/* a filter may have changed headings: the page's own table of
		 * contents uses them; p->heads stays as pass 1 made it, since
		 * other workers check link anchors against it right now */
		md_headings_free(p->fheads, p->nfheads);
		p->nfheads = md_headings(&p->md, &p->fheads);
		if (full)
			recycle_worker(b, worker);
	}
	resolve_links(b, p);
	if (b->cfg.search && full) {
		extract_sections(p);
		/* kept with the render cache: a later build's index sums this
		 * page without reading its texts */
		if (b->rcache_path) {
			srch_sections_sum(p->sections, p->nsections, p->secsum,
			    &p->secs_valid);
			p->secsum_set = 1;
		}
	}
	p->md.lang = p->lang;
	md_render(&p->md, &html);
	free(p->body_html);
	p->body_html = buf_detach(&html);
	/* the tree is not needed any more: free it now rather than keep
	 * every page's tree until the end of the build */
	md_release(&p->md);
	return render_page_finish(b, p, ctx, out);
}

static void
pass2_page(void *arg, size_t i, int worker)
{
	struct build *b = arg;
	struct page *p = &b->pages[i];
	struct buf out = BUF_INIT, key = BUF_INIT;
	const struct rc_entry *e;
	struct value *ctx;

	if (p->excluded)
		return;
	ctx = render_page_begin(b, p, b->rcache_path ? &key : NULL);
	if (b->rcache_path) {
		page_key(b, p, &key);
		buf_release(&key);
		e = rc_find(b->rcache, p->out, p->rkey);
		if (e && reuse(b, p, e) == 0) {
			__atomic_add_fetch(&b->rc_hits, 1, __ATOMIC_RELAXED);
			val_unref(ctx);
			drop_source(p);
			return;
		}
	}
	if (p->dropped && reread_source(b, p) == -1) {
		val_unref(ctx);
		return;
	}
	if (render_body(b, i, worker, ctx, 1, &out) == 0 && b->opts->write) {
		sha256_hex(out.ptr, out.len, p->out_hex);
		p->out_len = out.len;
		write_hashed(b, p->out, out.ptr, out.len, p->out_hex);
	}
	buf_release(&out);
	/* the render cache and the print page read it back later */
	if (p->body_html) {
		char *body = p->body_html;

		p->body_html = NULL;
		keep_body(b, p, body, body);
	}
	keep_sections(b, p);
	drop_source(p);
}

/* ---------------------------------------------------------------------
 * Preview (preview.h): one page again, in a process forked after pass 2
 */

static int
heads_equal(const struct md_heading *a, size_t na,
    const struct md_heading *h, size_t nh)
{
	size_t i;

	if (na != nh)
		return 0;
	for (i = 0; i < na; i++)
		if (a[i].level != h[i].level ||
		    strcmp(a[i].id ? a[i].id : "", h[i].id ? h[i].id : "") ||
		    strcmp(a[i].text ? a[i].text : "",
		    h[i].text ? h[i].text : ""))
			return 0;
	return 1;
}

static void	free_sections(struct page *);

/* See build.h. */
void
build_preview_prepare(struct build *b)
{
	size_t j;

	if (b->pv_ready)
		return;
	b->pv_ready = 1;
	/* what only the rest of the build needs: the index's texts, the
	 * render cache's bodies (the scratch file's descriptor is closed) */
	for (j = 0; j < b->npages; j++) {
		free_sections(&b->pages[j]);
		b->pages[j].body_rc = NULL;
	}
	rc_free(b->rcache);
	b->rcache = NULL;
	b->bodies = NULL;
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	if (b->flt_opts == NULL || !b->flt_local || b->collected == NULL ||
	    b->pv_site != NULL)
		return;
	b->pv_fps = xcalloc(b->nflt + 1, sizeof(*b->pv_fps));
	for (j = 0; j < b->npages; j++)
		if (b->flt_index[j] != (size_t)-1)
			fill_flt_page(b, &b->pages[j],
			    &b->pv_fps[b->flt_index[j]]);
	b->pv_extra = filter_extra(b);
	if ((b->pv_site = flt_site_new(b->flt_opts, b->d)) != NULL &&
	    flt_site_prepare(b->pv_site, b->pv_fps, b->nflt, b->pv_extra,
	    b->d) == -1) {
		flt_site_free(b->pv_site);
		b->pv_site = NULL;
	}
}

/* Runs the filters' collect on page i again: 0 when the page's data
 * comes out as the build had it (or there are no filters), -1
 * otherwise. */
static int
preview_collect(struct build *b, size_t i)
{
	size_t k = b->flt_index ? b->flt_index[i] : (size_t)-1;
	struct buf was = BUF_INIT, now = BUF_INIT;
	struct value *v;
	int rc = -1;

	if (b->flt_opts == NULL)
		return 0;
	build_preview_prepare(b);
	if (k == (size_t)-1 || b->pv_site == NULL || b->collected[k] == NULL)
		return -1;
	fill_flt_page(b, &b->pages[i], &b->pv_fps[k]);
	if ((v = flt_site_collect_page(b->pv_site, k)) != NULL) {
		val_to_json(b->collected[k], &was);
		val_to_json(v, &now);
		if (was.len == now.len && memcmp(was.ptr, now.ptr, was.len) == 0)
			rc = 0;
		val_unref(v);
	}
	buf_release(&was);
	buf_release(&now);
	return rc;
}

/* See build.h.  After -1 the page is left half changed: the caller
 * discards this process's build. */
int
build_preview(struct build *b, const char *src, struct buf *out,
    const char **out_rel, const char **why)
{
	struct page_src ns;
	struct page *p;
	struct md_heading *heads;
	struct value *ctx;
	unsigned char fm_sum[32], sum[32];
	size_t fi, i, nh, errs = diag_errors(b->d);
	int same;

	*out_rel = NULL;
	*why = NULL;
	if (strncmp(src, "content/", 8) != 0 ||
	    !hm_get(&b->by_rel, src + 8, &fi) || !b->files[fi].is_page) {
		*why = "not a page of the last build";
		return -1;
	}
	i = b->file_page[fi];
	p = &b->pages[i];
	*out_rel = p->out;
	if (p->excluded) {
		*why = "the page is left out of the build";
		return -1;
	}
	memset(&ns, 0, sizeof(ns));
	if (page_load(&ns, p->f->path, p->f->src, b->d) == -1 ||
	    diag_errors(b->d) > errs) {
		page_src_release(&ns);
		*why = "the file cannot be read, or has errors";
		return -1;
	}
	source_sums(&ns, fm_sum, sum);
	if (memcmp(sum, p->src_sum, sizeof(sum)) == 0) {
		page_src_release(&ns);
		return 0;
	}
	if (memcmp(fm_sum, p->fm_sum, sizeof(fm_sum)) != 0) {
		page_src_release(&ns);
		*why = "its front matter changed";
		return -1;
	}
	/* the new text takes the place of the old; the front matter values
	 * (the same) stay, the model points into them */
	buf_release(&p->src.text);
	p->src.text = ns.text;
	p->src.body = ns.body;
	p->src.body_len = ns.body_len;
	p->src.fixed = ns.fixed;
	buf_init(&ns.text);
	ns.body = NULL;
	page_src_release(&ns);
	memcpy(p->src_sum, sum, sizeof(sum));
	p->dropped = 0;
	md_release(&p->md);
	md_parse(&p->md, p->src.body, p->src.body_len, p->raw_html);
	md_assign_ids(&p->md);
	nh = md_headings(&p->md, &heads);
	if (heads_equal(heads, nh, p->heads, p->nheads)) {
		md_headings_free(heads, nh);
	} else {
		/* headings are the page's own (its table of contents, the
		 * anchors its links are checked against); only a title taken
		 * from the first h1 reaches other pages */
		char *h1 = first_h1(p), *title = page_title(b, p, h1);

		same = strcmp(title, p->title) == 0;
		free(title);
		free(h1);
		md_headings_free(p->heads, p->nheads);
		p->heads = heads;
		p->nheads = nh;
		if (!same) {
			*why = "its title (its first heading) changed";
			return -1;
		}
	}
	free(p->plain);
	p->plain = NULL;
	plain_text(p);
	if (preview_collect(b, i) == -1 || diag_errors(b->d) > errs) {
		*why = "what the filters collect from it changed";
		return -1;
	}
	free(p->plain);
	p->plain = NULL;
	ctx = render_page_begin(b, p, NULL);
	if (render_body(b, i, 0, ctx, 0, out) == -1 ||
	    diag_errors(b->d) > errs) {
		*why = "it has errors (the build reports them)";
		return -1;
	}
	free(p->body_html);
	p->body_html = NULL;
	return 1;
}

/* ---------------------------------------------------------------------
 * Static files and the swap
 */

/* Copies a file into the output as `rel` (through build_write, so an
 * unchanged file is not written again); 0, or -1 with errno set. */
static int
copy_file(struct build *b, const char *from, const char *rel)
{
	struct buf c = BUF_INIT;
	char hex[65];
	int rc;

	if (util_read_file(from, &c) == -1) {
		buf_release(&c);
		return -1;
	}
	sha256_hex(c.ptr, c.len, hex);
	rc = put_file(b, rel, c.ptr, c.len, hex);
	buf_release(&c);
	return rc;
}

static int
copy_tree(struct build *b, const char *from, const char *to_rel)
{
	int rc = 0;

	if (!util_is_dir(from))
		return 0;
	{
		/* reuse the content scanner's rules: sorted, no hidden */
		DIR *dp = opendir(from);
		struct dirent *de;
		char **names = NULL;
		size_t k, cnt = 0;

		if (dp == NULL)
			return diag_err(b->d, NULL, 0, 0, "cannot open '%s': "
			    "%s", from, strerror(errno));
		while ((de = readdir(dp)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			names = xreallocarray(names, cnt + 1, sizeof(*names));
			names[cnt++] = xstrdup(de->d_name);
		}
		closedir(dp);
		util_sort_strings(names, cnt);
		for (k = 0; k < cnt; k++) {
			char *p = util_path_join(from, names[k]);
			char *r = util_path_join(to_rel, names[k]);
			struct stat st;

			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
				rc |= copy_tree(b, p, r);
			} else if (S_ISREG(st.st_mode) && b->opts->write) {
				if (copy_file(b, p, r) == -1)
					rc = diag_err(b->d, NULL, 0, 0,
					    "cannot copy '%s': %s", p,
					    strerror(errno));
			}
			free(p);
			free(r);
			free(names[k]);
		}
		free(names);
	}
	return rc;
}

static int
copy_static(struct build *b)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < b->nfiles; i++) {
		if (b->files[i].is_page || !b->opts->write)
			continue;
		/* an attachment only pages left out link to stays out */
		if (b->file_used[i] == 2)
			continue;
		if (copy_file(b, b->files[i].path, b->files[i].rel) == -1)
			rc = diag_err(b->d, b->files[i].src, 0, 0, "cannot "
			    "copy: %s", strerror(errno));
	}
	{
		char *assets = util_path_join(b->theme_dir, "assets");

		rc |= copy_tree(b, assets, "assets");
		free(assets);
	}
	{
		/* site-level overrides of theme assets */
		char *assets = util_path_join(b->opts->src_dir, "assets");

		rc |= copy_tree(b, assets, "assets");
		free(assets);
	}
	return rc;
}

/* The work directory next to the output ('.public.tebiki-work'), reused
 * from build to build and locked against a concurrent build; a
 * fresh one when there is none.  0, or -1 after reporting. */
/* 1 when the directory has no entries. */
static int
dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (d == NULL)
		return 0;
	while (empty && (e = readdir(d)) != NULL)
		empty = strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/* A new work directory starts as hard links to the files of an output
 * (its manifest names them, and comes along): the build then writes only
 * what changed, as into the output of the build before last, instead of
 * every file anew (at 10,000 pages a new directory costs the kernel
 * seconds).  util_write_file never writes into a file that has another
 * name, and the files this build renames into place are new ones, so the
 * output keeps what it holds.  Stops at the first link the file system
 * refuses; the ledger checks each file's size, so a file not linked is
 * written. */
static void
link_output(struct build *b, const char *out_dir)
{
	char *mpath = util_path_join(out_dir, ".tebiki-manifest");
	char *pos, *hex, *rel, *from, *to, *slash;
	struct buf m = BUF_INIT, again = BUF_INIT;
	size_t len;
	int rc = 0;

	if (util_read_file(mpath, &m) == -1)
		goto out;
	pos = m.ptr;
	while (rc == 0 &&
	    ldg_next_line(&pos, m.ptr + m.len, &hex, &rel, &len)) {
		rel = xstrndup(rel, len);
		from = util_path_join(out_dir, rel);
		to = util_path_join(b->tmp_dir, rel);
		free(rel);
		if ((rc = link(from, to)) == -1 && errno == ENOENT &&
		    (slash = strrchr(to, '/')) != NULL) {
			*slash = '\0';
			(void)util_mkdir_p(to);
			*slash = '/';
			rc = link(from, to);
		}
		/* a file the output lost is simply not there */
		if (rc == -1 && errno == ENOENT)
			rc = 0;
		free(from);
		free(to);
	}
	/* the manifest comes along only if it still is the one the links
	 * were made from (another build may have replaced that output in
	 * the meantime): without it, the ledger trusts no file */
	if (rc == 0 && util_read_file(mpath, &again) == 0 &&
	    again.len == m.len && memcmp(again.ptr, m.ptr, m.len) == 0) {
		to = util_path_join(b->tmp_dir, ".tebiki-manifest");
		(void)link(mpath, to);
		free(to);
	}
out:
	buf_release(&m);
	buf_release(&again);
	free(mpath);
}

static int
open_work_dir(struct build *b)
{
	char *slash = strrchr(b->out_dir, '/');
	char *lock;

	if (slash)
		b->tmp_dir = xasprintf("%.*s/.%s.tebiki-work",
		    (int)(slash - b->out_dir), b->out_dir, slash + 1);
	else
		b->tmp_dir = xasprintf(".%s.tebiki-work", b->out_dir);
	lock = xasprintf("%s.lock", b->tmp_dir);
	if (util_mkdir_p(b->tmp_dir) == -1 ||
	    (b->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		diag_err(b->d, NULL, 0, 0, "cannot create '%s': %s",
		    b->tmp_dir, strerror(errno));
		free(lock);
		return -1;
	}
	free(lock);
	if (flock(b->lock_fd, LOCK_EX | LOCK_NB) == -1)
		return diag_err(b->d, NULL, 0, 0, "another build is writing "
		    "'%s'", b->out_dir);
	/* the work dir is the previous output: one made read-only (its
	 * files are made anew: put_file).  Where a mode cannot be changed
	 * (another owner's directory), the writes say what fails. */
	(void)util_dirs_writable(b->tmp_dir);
	if (dir_is_empty(b->tmp_dir)) {
		/* serve: a first build starts from the site's own output,
		 * when there is one (site.yaml's output, built before) */
		char *seed = b->opts->seed && !util_is_dir(b->out_dir) ?
		    util_path_join(b->opts->src_dir, b->cfg.output) : NULL;

		link_output(b, seed ? seed : b->out_dir);
		free(seed);
	}
	/* what the work dir holds (its manifest is removed: see ledger.h) */
	b->ledger = ldg_open(b->tmp_dir);
	return 0;
}

/* Replaces the old output with the new one in one step when possible. */
static int
swap_output(struct build *b)
{
	struct stat st;

	if (lstat(b->out_dir, &st) == -1) {
		if (rename(b->tmp_dir, b->out_dir) == -1)
			return diag_err(b->d, NULL, 0, 0, "cannot rename '%s' "
			    "to '%s': %s", b->tmp_dir, b->out_dir,
			    strerror(errno));
		return 0;
	}
	if (renameat2(AT_FDCWD, b->tmp_dir, AT_FDCWD, b->out_dir,
	    RENAME_EXCHANGE) == 0) {
		/* the previous output is now the work dir of the next build:
		 * its files are overwritten in place, which is much cheaper
		 * than creating every file anew */
		return 0;
	}
	/* no RENAME_EXCHANGE (old kernel or filesystem): two renames */
	{
		char *old = xasprintf("%s.old-%ld", b->out_dir, (long)getpid());
		int rc = 0;

		if (rename(b->out_dir, old) == -1 ||
		    rename(b->tmp_dir, b->out_dir) == -1)
			rc = diag_err(b->d, NULL, 0, 0, "cannot replace '%s': "
			    "%s", b->out_dir, strerror(errno));
		else
			util_rmtree(old);
		free(old);
		return rc;
	}
}

/* Writes {url, title, tags, sections} of every indexed page as JSON. */
static void
dump_corpus(struct build *b, const char *path)
{
	struct buf j = BUF_INIT;
	size_t i, k, n = 0;

	buf_putc(&j, '[');
	for (i = 0; i < b->npages; i++) {
		struct page *p = &b->pages[i];
		const struct value *tv = val_get(p->src.meta, "tags");

		if (p->excluded)
			continue;
		buf_puts(&j, n++ ? ",\n{\"url\":" : "{\"url\":");
		val_json_string(&j, p->out, strlen(p->out));
		buf_puts(&j, ",\"title\":");
		val_json_string(&j, p->title, strlen(p->title));
		buf_puts(&j, ",\"tags\":[");
		for (k = 0; tv && tv->kind == VAL_LIST && k < tv->n; k++) {
			const char *t = val_cstr(tv->items[k]);

			if (k)
				buf_putc(&j, ',');
			val_json_string(&j, t ? t : "", t ? strlen(t) : 0);
		}
		buf_puts(&j, "],\"sections\":[");
		for (k = 0; k < p->nsections; k++) {
			const char *t;
			char *tofree;

			if (k)
				buf_putc(&j, ',');
			buf_puts(&j, "{\"heading\":");
			val_json_string(&j, p->sections[k].heading,
			    strlen(p->sections[k].heading));
			buf_puts(&j, ",\"text\":");
			t = section_text(b, p, k, &tofree);
			val_json_string(&j, t, strlen(t));
			free(tofree);
			buf_putc(&j, '}');
		}
		buf_puts(&j, "]}");
	}
	for (i = 0; i < b->model->nctls; i++) {
		const struct control *c = &b->model->ctls[i];
		char *t = xasprintf("%s %s", c->key, strcmp(b->cfg.language,
		    "en") == 0 ? c->title_en : c->title_ja);

		buf_puts(&j, n++ ? ",\n{\"url\":" : "{\"url\":");
		val_json_string(&j, c->out, strlen(c->out));
		buf_puts(&j, ",\"title\":");
		val_json_string(&j, t, strlen(t));
		buf_puts(&j, ",\"tags\":[],\"sections\":[{\"heading\":\"\","
		    "\"text\":\"\"}]}");
		free(t);
	}
	buf_puts(&j, "]\n");
	util_write_file(path, j.ptr, j.len);
	buf_release(&j);
}

static void
free_sections(struct page *p)
{
	size_t k;

	for (k = 0; k < p->nsections; k++) {
		free((char *)p->sections[k].anchor);
		free((char *)p->sections[k].heading);
		if (p->body_rc == NULL)		/* else the render cache's */
			free((char *)p->sections[k].text);
	}
	free(p->sections);
	free(p->sec_off);
	free(p->sec_len);
	p->sections = NULL;
	p->sec_off = NULL;
	p->sec_len = NULL;
	p->nsections = 0;
}

/* srch_writer: a search file goes through the ledger like every other
 * output file (srch_write reports a failure). */
static int
search_file(void *arg, const char *rel, const void *p, size_t len,
    const char hex[65])
{
	return put_file(arg, rel, p, len, hex);
}

/* srch_keeper: a search file made as the last build made it is kept when
 * the work directory holds it (the ledger), like any unchanged output. */
static int
search_keep(void *arg, const char *rel, const char hex[65], size_t len)
{
	struct build *b = arg;

	return b->ledger != NULL && ldg_put(b->ledger, rel, hex, len);
}

/* The index is made last and needs only its own copy of the text: the
 * site's model, the pages' front matter and headings, the templates and
 * the previous build's caches (saved already) go before its postings are
 * made, the largest thing it holds. */
static void
drop_site(struct build *b)
{
	size_t i;

	for (i = 0; i < b->npages; i++) {
		struct page *p = &b->pages[i];

		page_src_release(&p->src);
		md_headings_free(p->heads, p->nheads);
		md_headings_free(p->fheads, p->nfheads);
		p->heads = p->fheads = NULL;
		p->nheads = p->nfheads = 0;
		free(p->stale_by);
		p->stale_by = NULL;
		p->nstale = 0;
		val_unref(p->tmpl_extra);
		p->tmpl_extra = NULL;
		free_sections(p);
		p->body_rc = NULL;
	}
	model_free(b->model);
	b->model = NULL;
	render_release(b);
	/* the render cache stays: the index uses the texts it has in place
	 * (write_search frees it) */
	cc_free(b->ccache);
	b->ccache = NULL;
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* Indexes every page of this build and writes search/. */
static void
write_search(struct build *b, int jobs)
{
	struct srch *s = srch_new();
	struct srch_doc doc, *docs;
	const char **ctl, **tags;
	size_t i, k, nc, nt, nd = 0;
	struct model *m = b->model;

	srch_set_threads(s, jobs);
	srch_set_lean(s, 1);			/* written once */
	srch_set_spill(s, b->bodies);
	if (b->rcache_path) {
		/* the tokenizer's batches are kept with the render cache */
		struct sha256 h;
		unsigned char salt[32];
		char *dir = cache_path(b, "search", "");

		key_begin(b, &h, "tebiki search 1 " TEBIKI_VERSION);
		sha256_final(&h, salt);
		srch_set_cache(s, dir, salt);
		free(dir);
	}
	srch_set_writer(s, search_file, search_keep, b);	/* the ledger */
	/* test hook: the indexed text as JSON, the ground truth for the
	 * recall/precision test (tests/suites/41-search-example.sh) */
	if (getenv("TEBIKI_SEARCH_CORPUS"))
		dump_corpus(b, getenv("TEBIKI_SEARCH_CORPUS"));
	/* the pages' documents are copied side by side (srch_add_all): what
	 * they point to lives until drop_site */
	docs = xcalloc(b->npages + 1, sizeof(*docs));
	for (i = 0; i < b->npages; i++) {
		struct page *p = &b->pages[i];
		const struct value *tv = val_get(p->src.meta, "tags");

		if (p->excluded)
			continue;
		memset(&doc, 0, sizeof(doc));
		doc.url = p->out;
		doc.title = p->title;
		doc.type = p->type;
		/* a UI string: the search page and the type facet speak the
		 * site's language, whatever the document's (an English
		 * document first of its type made the facet English) */
		doc.type_label = render_label(b, b->cfg.language, "types",
		    p->type);
		doc.lang = p->lang;
		doc.id = p->id;
		doc.date = render_list_date(p);
		nc = 0;
		ctl = xcalloc(m->out_off[i + 1] - m->out_off[i] + 1,
		    sizeof(*ctl));
		for (k = m->out_off[i]; k < m->out_off[i + 1]; k++)
			if (m->refs[k].kind == MODEL_CONTROL && (nc == 0 ||
			    strcmp(ctl[nc - 1], m->ctls[m->refs[k].to].key)))
				ctl[nc++] = m->ctls[m->refs[k].to].key;
		nt = 0;
		tags = NULL;
		if (tv && tv->kind == VAL_LIST) {
			tags = xcalloc(tv->n + 1, sizeof(*tags));
			for (k = 0; k < tv->n; k++)
				if (val_cstr(tv->items[k]))
					tags[nt++] = val_cstr(tv->items[k]);
		}
		doc.controls = ctl;
		doc.ncontrols = nc;
		doc.tags = tags;
		doc.ntags = nt;
		doc.sections = p->sections;
		doc.nsections = p->nsections;
		doc.text_off = p->sec_off;
		doc.text_len = p->sec_len;
		/* texts from the render cache: used where they are (the cache
		 * is freed after the index is written), and summed already */
		doc.borrow = p->body_rc != NULL;
		doc.sections_sum = p->secsum_set ? p->secsum : NULL;
		doc.sections_valid = p->secsum_set && p->secs_valid;
		docs[nd++] = doc;
	}
	srch_add_all(s, docs, nd);
	for (i = 0; i < nd; i++) {
		free((void *)docs[i].controls);
		free((void *)docs[i].tags);
	}
	free(docs);
	/* the index has its own copies now, or the texts' places in the
	 * scratch file (the render cache was saved before the index is
	 * made, the print page made earlier) */
	for (i = 0; i < b->npages; i++) {
		free_sections(&b->pages[i]);
		free(b->pages[i].body_html);
		b->pages[i].body_html = NULL;
	}
	/* control pages are documents too: the id typed finds the control */
	for (i = 0; i < m->nctls; i++) {
		struct srch_section sec = { "", "", "" };
		const char *one[1];
		char *title = xasprintf("%s %s", m->ctls[i].key,
		    strcmp(b->cfg.language, "en") == 0 ? m->ctls[i].title_en :
		    m->ctls[i].title_ja);

		memset(&doc, 0, sizeof(doc));
		one[0] = m->ctls[i].key;
		doc.url = m->ctls[i].out;
		doc.title = title;
		doc.type = "control";
		doc.type_label = render_label(b, b->cfg.language, "types",
		    "control");
		doc.lang = b->cfg.language;
		doc.controls = one;
		doc.ncontrols = 1;
		doc.sections = &sec;
		doc.nsections = 1;
		srch_add(s, &doc);
		free(title);
	}
	build_phase(b, "search: add");
	drop_site(b);
	if (b->opts->write)
		srch_write(s, b->tmp_dir, b->d);
	if (b->timing) {
		struct srch_stats st;

		srch_get_stats(s, &st);
		fprintf(stderr, "tebiki: timing: search: tokenize %.0f ms, "
		    "merge %.0f ms, write %.0f ms (%zu files, %zu kept; %zu "
		    "of %zu batches from the cache)\n", st.tokenize_ms,
		    st.merge_ms, st.write_ms, st.files, st.files_kept,
		    st.batches_cached, st.batches);
	}
	srch_free(s);
	rc_free(b->rcache);
	b->rcache = NULL;
}

/* Writes .tebiki-manifest: every output file with its SHA-256, sorted
 * by path (see ledger.h). */
static int
write_manifest(struct build *b)
{
	struct buf list = BUF_INIT;
	char *path;
	int rc = 0;

	if (!b->opts->write)
		return 0;
	ldg_manifest(b->ledger, &list);
	path = util_path_join(b->tmp_dir, ".tebiki-manifest");
	if (util_write_file(path, list.ptr, list.len) == -1)
		rc = diag_err(b->d, NULL, 0, 0, "cannot write '%s': %s", path,
		    strerror(errno));
	free(path);
	buf_release(&list);
	return rc;
}

void
build_phase(struct build *b, const char *name)
{
	struct timespec now;
	double ms;

	if (!b->timing)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double)(now.tv_sec - b->mark.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - b->mark.tv_nsec) / 1e6;
	if (name) {
		/* and the memory high-water mark so far */
		FILE *f = fopen("/proc/self/status", "r");
		char line[128];
		long hwm = 0, rss = 0;

		while (f && fgets(line, sizeof(line), f)) {
			if (strncmp(line, "VmHWM:", 6) == 0)
				hwm = strtol(line + 6, NULL, 10);
			else if (strncmp(line, "VmRSS:", 6) == 0)
				rss = strtol(line + 6, NULL, 10);
		}
		if (f)
			fclose(f);
		fprintf(stderr, "tebiki: timing: %-14s %8.1f ms  rss %5ld MB  "
		    "peak %5ld MB", name, ms, rss / 1024, hwm / 1024);
#ifdef __GLIBC__
		{
			/* what is in use: rss minus what malloc holds free */
			struct mallinfo2 mi = mallinfo2();

			fprintf(stderr, "  heap %5zu MB", (mi.uordblks +
			    mi.hblkhd) >> 20);
		}
#endif
		fputc('\n', stderr);
	}
	b->mark = now;
}

static void
parse_today(struct build *b)
{
	time_t now;
	struct tm tm;

	if (b->opts->today_y) {
		b->ty = b->opts->today_y;
		b->tm = b->opts->today_m;
		b->td = b->opts->today_d;
		return;
	}
	now = time(NULL);
	localtime_r(&now, &tm);
	b->ty = tm.tm_year + 1900;
	b->tm = tm.tm_mon + 1;
	b->td = tm.tm_mday;
}

/* Every output path the build will make, so links to generated pages
 * (controls, lists, the SoA) can be checked. */
static void
fill_outputs(struct build *b)
{
	static const char *const fixed[] = {
		"index.html", "search.html", "soa.html", "soa.csv",
		"dashboard.html", "glossary/index.html", "controls/index.html",
		"tags/index.html", "404.html", "print.html", "pages/index.html",
		"chapters/index.html", "policies/index.html",
		"procedures/index.html", "reports/index.html",
		"incidents/index.html", "lessons/index.html"
	};
	size_t i;

	hm_init(&b->by_out);
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		hm_put(&b->by_out, fixed[i], 0);
	for (i = 0; i < b->npages; i++)
		if (!b->pages[i].excluded)
			hm_put(&b->by_out, b->pages[i].out, i);
	for (i = 0; i < b->model->nctls; i++)
		hm_put(&b->by_out, b->model->ctls[i].out, i);
}

static void
build_release(struct build *b)
{
	size_t i;

	fkey_join(b);
	p1_join(b);
	rc_join(b);
	join_recycled(b);
	pthread_mutex_destroy(&b->reap_lock);
	spill_close(b->bodies);
	b->bodies = NULL;

	for (i = 0; i < b->npages; i++) {
		struct page *p = &b->pages[i];

		page_src_release(&p->src);
		md_release(&p->md);
		md_headings_free(p->heads, p->nheads);
		md_headings_free(p->fheads, p->nfheads);
		free(p->diags);
		free(p->id);
		free(p->type);
		free(p->title);
		free(p->lang);
		free(p->out);
		free(p->status);
		free(p->classification);
		free(p->body_html);
		free(p->stale_by);
		free(p->plain);
		free_sections(p);
		val_unref(p->tmpl_extra);
	}
	free(b->pages);
	if (b->workers) {
		int j;

		for (j = 0; j < b->nworkers; j++)
			flt_worker_free(b->workers[j]);
		free(b->workers);
	}
	val_unref(b->frozen);
	join_reaper(b);
	if (b->flt_files) {
		for (i = 0; i < b->cfg.nfilters; i++)
			free((char *)b->flt_files[i].path);
		free(b->flt_files);
	}
	drop_collected(b);
	free(b->flt_opts);
	free(b->flt_index);
	free(b->ckeys);
	cc_free(b->ccache);
	for (i = 0; i < b->nadded; i++) {
		free(b->added_files[i].rel);
		free(b->added_files[i].src);
	}
	free(b->added_files);
	hm_release(&b->by_out);
	free(b->actions);
	free(b->file_page);
	free(b->file_used);
	site_files_free(b->files, b->nfiles);
	hm_release(&b->by_id);
	hm_release(&b->by_rel);
	render_release(b);
	model_free(b->model);
	site_config_release(&b->cfg);
	free(b->theme_dir);
	free(b->theme_display);
	free(b->share_dir);
	free(b->out_dir);
	free(b->tmp_dir);
	ldg_free(b->ledger);
	rc_free(b->rcache);
	if (b->rcache_new)		/* the build failed */
		rc_discard(b->rcache_path);
	free(b->rcache_path);
	if (b->prn_index_new)
		(void)unlink(b->prn_index_new);
	free(b->prn_index_new);
	free(b->prn_index);
}

int
build_run(const struct build_opts *o, struct diag *d)
{
	struct build b;
	long nf;
	size_t i, fi;
	int jobs, status = CMD_CONTENT, env_error = 0;
	size_t seq0 = 0, seq1 = 0;

	memset(&b, 0, sizeof(b));
	pthread_mutex_init(&b.reap_lock, NULL);
	b.lock_fd = -1;
	b.opts = o;
	b.timing = getenv("TEBIKI_TIMING") != NULL;
	build_phase(&b, NULL);
	b.d = d;
	hm_init(&b.by_id);
	hm_init(&b.by_rel);
	md_init();
	parse_today(&b);
	if (site_dir_check(o->src_dir, d) == -1) {
		env_error = 1;
		goto out;
	}
	if (site_config_load(&b.cfg, o->src_dir, d) == -1)
		goto out;
	b.audience = build_level(o->audience ? o->audience :
	    b.cfg.audience ? b.cfg.audience : "confidential");
	if (o->audience && build_level(o->audience) == 2 &&
	    strcmp(o->audience, "confidential") != 0) {
		diag_err(d, NULL, 0, 0, "unknown audience '%s' (public, "
		    "internal or confidential)", o->audience);
		env_error = 1;
		goto out;
	}
	if (o->out_dir)
		b.out_dir = xstrdup(o->out_dir);
	else
		b.out_dir = util_path_join(o->src_dir, b.cfg.output);
	/* "public/" and "public" name the same directory */
	while (strlen(b.out_dir) > 1 && b.out_dir[strlen(b.out_dir) - 1] == '/')
		b.out_dir[strlen(b.out_dir) - 1] = '\0';
	b.share_dir = find_share_dir();
	if (setup_theme(&b) == -1 || (o->write && check_output(&b) == -1)) {
		env_error = 1;
		goto out;
	}
	nf = site_scan(o->src_dir, &b.files, d);
	if (nf < 0)
		goto out;
	b.nfiles = (size_t)nf;
	b.file_page = xcalloc(b.nfiles, sizeof(*b.file_page));
	b.file_used = xcalloc(b.nfiles + 1, 1);
	for (i = 0; i < b.nfiles; i++) {
		hm_put(&b.by_rel, b.files[i].rel, i);
		if (b.files[i].is_page)
			b.npages++;
	}
	b.pages = xcalloc(b.npages, sizeof(*b.pages));
	for (i = 0, fi = 0; fi < b.nfiles; fi++) {
		if (!b.files[fi].is_page)
			continue;
		b.file_page[fi] = i;
		b.pages[i++].f = &b.files[fi];
	}
	jobs = o->jobs > 0 ? o->jobs : util_ncpu();
#ifdef __GLIBC__
	/* glibc gives each thread a malloc arena of its own (up to 8 per
	 * core); what one frees cannot serve another's allocations, which
	 * at 30k pages cost 190 MB of peak memory.  One arena per worker
	 * thread: as fast, less memory. */
	mallopt(M_ARENA_MAX, jobs > 2 ? jobs : 2);
	/* No fastbins: the build frees many small blocks (values, trees)
	 * between large requests, and every large request after such frees
	 * made glibc consolidate all of them again (malloc_consolidate was
	 * 4.7 % of a 10k rebuild's CPU).  Rebuild 1.49-1.50 -> 1.37-1.42 s,
	 * the full build and its peak memory unchanged. */
	mallopt(M_MXFAST, 0);
	/* Blocks from 512 KB up (postings of common terms, the print page's
	 * windows, big files read) are mapped and given back when freed:
	 * glibc's own threshold climbs to 32 MB as such blocks are freed,
	 * after which they come from the heap and leave holes the index's
	 * peak is built over.  10k full build peak 201-202 -> 197 MB, the
	 * same time. */
	mallopt(M_MMAP_THRESHOLD, 512 << 10);
#endif
	b.jobs = jobs;
	build_phase(&b, "scan");
	p1_open(&b);
	pool_run(jobs, b.npages, pass1_page, &b);
	build_phase(&b, "pass 1");
	p1_close(&b);
	build_phase(&b, "pass 1 cache");
	/* ids are unique across the site */
	for (i = 0; i < b.npages; i++) {
		struct page *p = &b.pages[i];
		size_t other;

		if (p->id == NULL)
			continue;
		if (hm_get(&b.by_id, p->id, &other)) {
			struct value *a = val_get(p->src.meta, "id");
			struct value *o2 = val_get(b.pages[other].src.meta,
			    "id");

			diag_err(d, p->f->src, a->line, a->col, "duplicate id "
			    "'%s' (also used by %s:%d:%d)", p->id,
			    b.pages[other].f->src, o2->line, o2->col);
			continue;
		}
		hm_put(&b.by_id, p->id, i);
	}
	model_load(&b);
	model_check(&b);
	build_phase(&b, "model");
	jobs = o->jobs > 0 ? o->jobs : util_ncpu();
	b.jobs = jobs;
	fill_outputs(&b);
	/* the pass-1 cache is written by now (it was while the model was
	 * made): its values go before the filters need the memory */
	p1_join(&b);
	rc_start(&b);
	if (run_filters(&b, jobs) == -1)
		goto out;
	build_phase(&b, "filters: site");
	model_finish_refs(b.model, b.npages);
	life_compute(&b);
	build_phase(&b, "setup: lifecycle");
	if (render_init(&b) == -1)
		goto out;
	build_phase(&b, "setup: render");
	if (o->write && open_work_dir(&b) == -1) {
		env_error = 1;
		goto out;
	}
	build_phase(&b, "setup: work dir");
	open_rcache(&b);
	build_phase(&b, "setup");
	seq0 = d->n;
	join_reaper(&b);
	drop_sources(&b);
	/* test hook: the bodies and texts kept in memory, as where the file
	 * system makes no scratch file */
	if (b.tmp_dir && !getenv("TEBIKI_TEST_NO_SPILL"))
		b.bodies = spill_open(b.tmp_dir);
#ifdef __GLIBC__
	/* the sources and the filters' site state go back to the system:
	 * pass 2 grows from what is left, not from the high-water mark */
	malloc_trim(0);
#endif
	/* test hook: a source file changes while the build runs */
	if (getenv("TEBIKI_TEST_TOUCH")) {
		FILE *f = fopen(getenv("TEBIKI_TEST_TOUCH"), "a");

		if (f) {
			fputs("\nchanged\n", f);
			fclose(f);
		}
	}
	pool_run(jobs, b.npages, pass2_page, &b);
	join_recycled(&b);
	seq1 = d->n;
	/* serve: a previewer keeps the build as it is now (preview.h) */
	if (o->preview && o->write && diag_errors(d) == 0)
		b.prv = prv_fork(&b);
	drop_collected(&b);
	/* the filters are done: their Lua states go before the generated
	 * pages and the index need the memory */
	if (b.workers) {
		int j;

		for (j = 0; j < b.nworkers; j++)
			flt_worker_free(b.workers[j]);
		free(b.workers);
		b.workers = NULL;
	}
	val_unref(b.frozen);
	b.frozen = NULL;
	if (b.timing && b.recycled)
		fprintf(stderr, "tebiki: timing: %zu filter workers replaced "
		    "(at %zu MB)\n", b.recycled, b.worker_max >> 20);
#ifdef __GLIBC__
	/* what pass 2 freed (sources, Lua states) goes back to the system
	 * rather than staying resident beside what the index allocates */
	malloc_trim(0);
#endif
	build_phase(&b, "pass 2");
	/* test hook: the scratch file cannot be read back */
	if (b.bodies && getenv("TEBIKI_TEST_SPILL_CUT"))
		spill_cut(b.bodies);
	if (b.timing && b.rcache_path)
		fprintf(stderr, "tebiki: timing: %zu of %zu pages from the "
		    "render cache\n", b.rc_hits, b.npages);
	/* the render cache first: the print page and the index free the
	 * pages' bodies and text as they go (the files it writes are put in
	 * place only if the build succeeds) */
	if (diag_errors(d) == 0)
		save_rcache(&b, seq0, seq1);
	build_phase(&b, "render cache saved");
	render_generated(&b);
#ifdef __GLIBC__
	malloc_trim(0);		/* the print page's copies of every body */
#endif
	build_phase(&b, "generated");
	copy_static(&b);
	if (b.cfg.search)
		write_search(&b, jobs);
	build_phase(&b, "search");
	if (diag_errors(d) > 0)
		goto out;
	if (o->write)
		ldg_sweep(b.ledger);
	if (write_manifest(&b) == -1)
		goto out;
	build_phase(&b, "manifest");
	if (o->write && swap_output(&b) == -1)
		goto out;
	build_phase(&b, "swap");
	commit_rcache(&b);
	build_phase(&b, "commit rcache");
	status = CMD_OK;
out:
	if (b.lock_fd >= 0)
		close(b.lock_fd);
	if (!o->quiet && status == CMD_OK) {
		size_t built = 0;

		for (i = 0; i < b.npages; i++)
			built += !b.pages[i].excluded;
		if (o->write)
			diag_note(d, NULL, 0, 0, "built %zu pages into '%s'",
			    built, b.out_dir);
		else
			diag_note(d, NULL, 0, 0, "checked %zu pages", built);
	}
	/* the previewer of a build that failed would preview against a
	 * site that is not the one served */
	if (o->preview && status == CMD_OK && b.prv) {
		prv_free(*o->preview);
		*o->preview = b.prv;
	} else {
		prv_free(b.prv);
	}
	b.prv = NULL;
	build_release(&b);
	return env_error ? CMD_USAGE : status;
}
