/*
 * site: site.yaml and the content scan.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "diag.h"
#include "site.h"
#include "util.h"
#include "value.h"
#include "yml.h"

static const char *const known_keys[] = {
	"title", "description", "language", "output", "theme", "base_url",
	"print_footer", "default_classification", "filters", "catalogs",
	"raw_html", "build_drafts", "search", "lua", "params", "audience",
	"excluded_links", NULL
};

int
site_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int prev[64], cur[64], best;

	if (la > 60 || lb > 60)
		return 99;
	for (j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (i = 1; i <= la; i++) {
		cur[0] = (int)i;
		for (j = 1; j <= lb; j++) {
			best = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			cur[j] = best;
		}
		memcpy(prev, cur, sizeof(int) * (lb + 1));
	}
	return prev[lb];
}

const char *
site_suggest(const char *word, const char *const *known)
{
	const char *best = NULL;
	int bd = 3, d;

	for (; *known; known++) {
		d = site_edit_distance(word, *known);
		if (d < bd) {
			bd = d;
			best = *known;
		}
	}
	return best;
}

/* Reads a string setting; -1 after reporting a wrong type. */
static int
get_str(struct value *root, const char *key, char **dst, const char *def,
    struct diag *d)
{
	struct value *v = val_get(root, key);

	free(*dst);
	*dst = def ? xstrdup(def) : NULL;
	if (v == NULL || v->kind == VAL_NULL)
		return 0;
	if (v->kind != VAL_STR && v->kind != VAL_NUM) {
		return diag_err(d, "site.yaml", v->line, v->col,
		    "'%s' must be a string, not a %s", key,
		    val_kind_name(v->kind));
	}
	free(*dst);
	*dst = xstrdup(v->str);
	return 0;
}

static int
get_bool(struct value *root, const char *key, int *dst, int def,
    struct diag *d)
{
	struct value *v = val_get(root, key);

	*dst = def;
	if (v == NULL || v->kind == VAL_NULL)
		return 0;
	if (v->kind != VAL_BOOL)
		return diag_err(d, "site.yaml", v->line, v->col,
		    "'%s' must be true or false", key);
	*dst = v->b;
	return 0;
}

/* A list of file names: YAML list of strings (or maps with 'file'). */
static int
get_files(struct value *root, const char *key, char ***dst, int **lines,
    int **cols, size_t *n, struct diag *d)
{
	struct value *v = val_get(root, key), *it, *f;
	size_t i;
	int rc = 0;

	*dst = NULL;
	*n = 0;
	if (lines)
		*lines = NULL;
	if (cols)
		*cols = NULL;
	if (v == NULL || v->kind == VAL_NULL)
		return 0;
	if (v->kind != VAL_LIST)
		return diag_err(d, "site.yaml", v->line, v->col,
		    "'%s' must be a list of file names", key);
	*dst = xcalloc(v->n, sizeof(**dst));
	if (lines)
		*lines = xcalloc(v->n, sizeof(**lines));
	if (cols)
		*cols = xcalloc(v->n, sizeof(**cols));
	for (i = 0; i < v->n; i++) {
		it = v->items[i];
		f = it->kind == VAL_MAP ? val_get(it, "file") : it;
		if (f == NULL || f->kind != VAL_STR || f->len == 0 ||
		    strstr(f->str, "..") != NULL || f->str[0] == '/') {
			rc = diag_err(d, "site.yaml", it->line, it->col,
			    "each entry of '%s' must be a relative file name "
			    "inside the site", key);
			continue;
		}
		if (lines)
			(*lines)[*n] = it->line;
		if (cols)
			(*cols)[*n] = it->col;
		(*dst)[(*n)++] = xstrdup(f->str);
	}
	return rc;
}

int
site_dir_check(const char *dir, struct diag *d)
{
	struct stat st;
	char *yaml, *content;
	int found;

	if (stat(dir, &st) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return diag_err(d, NULL, 0, 0, "source directory '%s' "
			    "does not exist", dir);
		return diag_err(d, NULL, 0, 0, "cannot use source directory "
		    "'%s': %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return diag_err(d, NULL, 0, 0, "source '%s' is not a directory",
		    dir);
	/* either one makes a site (site.yaml is optional, and a site.yaml
	 * without content/ gets its own error from site_scan); neither
	 * means the command was run in the wrong place */
	yaml = util_path_join(dir, "site.yaml");
	content = util_path_join(dir, "content");
	found = lstat(yaml, &st) == 0 || util_is_dir(content);
	free(yaml);
	free(content);
	if (!found)
		return diag_err(d, NULL, 0, 0, "no site in '%s' (no site.yaml "
		    "and no content/ directory; use -s DIR or tebiki new site "
		    "NAME)", dir);
	return 0;
}

int
site_config_load(struct site_config *c, const char *dir, struct diag *d)
{
	struct buf b = BUF_INIT;
	struct value *root = NULL, *lua, *v;
	char *path;
	const char *hint;
	size_t i;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	c->dir = xstrdup(dir);
	path = util_path_join(dir, "site.yaml");
	if (util_read_file(path, &b) == -1) {
		if (errno != ENOENT) {
			rc = diag_err(d, "site.yaml", 0, 0, "cannot read: %s",
			    strerror(errno));
		}
		root = val_map();
	} else if (memchr(b.ptr, '\0', b.len) != NULL) {
		rc = diag_err(d, "site.yaml", 0, 0, "file contains a NUL byte");
		root = val_map();
	} else {
		const char *t = b.ptr;
		size_t n = b.len;

		if (n >= 3 && memcmp(t, "\xef\xbb\xbf", 3) == 0) {
			t += 3;
			n -= 3;
		}
		root = yml_parse(t, n, "site.yaml", 1, d);
		if (root == NULL) {
			rc = -1;
			root = val_map();
		} else if (root->kind == VAL_NULL) {
			val_unref(root);
			root = val_map();
		} else if (root->kind != VAL_MAP) {
			rc = diag_err(d, "site.yaml", root->line, root->col,
			    "site.yaml must be a mapping of settings");
			val_unref(root);
			root = val_map();
		}
	}
	free(path);
	buf_release(&b);
	c->root = root;
	for (i = 0; i < root->n; i++) {
		const char *k = root->keys[i]->str;
		size_t j;
		int known = 0;

		for (j = 0; known_keys[j]; j++)
			if (strcmp(k, known_keys[j]) == 0)
				known = 1;
		if (known)
			continue;
		hint = site_suggest(k, known_keys);
		if (hint)
			rc = diag_err(d, "site.yaml", root->keys[i]->line,
			    root->keys[i]->col, "unknown setting '%s'; did "
			    "you mean '%s'?", k, hint);
		else
			rc = diag_err(d, "site.yaml", root->keys[i]->line,
			    root->keys[i]->col, "unknown setting '%s'", k);
	}
	rc |= get_str(root, "title", &c->title, "Handbook", d);
	rc |= get_str(root, "description", &c->description, "", d);
	rc |= get_str(root, "language", &c->language, "ja", d);
	rc |= get_str(root, "output", &c->output, "public", d);
	rc |= get_str(root, "theme", &c->theme, "default", d);
	rc |= get_str(root, "base_url", &c->base_url, NULL, d);
	rc |= get_str(root, "print_footer", &c->print_footer, NULL, d);
	rc |= get_str(root, "default_classification",
	    &c->default_classification, "internal", d);
	rc |= get_bool(root, "raw_html", &c->raw_html, 0, d);
	rc |= get_bool(root, "build_drafts", &c->build_drafts, 1, d);
	rc |= get_bool(root, "search", &c->search, 1, d);
	rc |= get_str(root, "audience", &c->audience, NULL, d);
	{
		char *el = NULL;

		rc |= get_str(root, "excluded_links", &el, "error", d);
		if (strcmp(el, "text") == 0) {
			c->excluded_links_text = 1;
		} else if (strcmp(el, "error") != 0) {
			v = val_get(root, "excluded_links");
			rc = diag_err(d, "site.yaml", v->line, v->col,
			    "'excluded_links' must be 'error' or 'text'");
		}
		free(el);
	}
	if (c->audience && strcmp(c->audience, "public") != 0 &&
	    strcmp(c->audience, "internal") != 0 &&
	    strcmp(c->audience, "confidential") != 0) {
		v = val_get(root, "audience");
		rc = diag_err(d, "site.yaml", v->line, v->col, "unknown "
		    "audience '%s' (public, internal or confidential)",
		    c->audience);
	}
	rc |= get_files(root, "filters", &c->filters, &c->filter_lines,
	    &c->filter_cols, &c->nfilters, d);
	rc |= get_files(root, "catalogs", &c->catalogs, NULL, NULL,
	    &c->ncatalogs, d);
	if (strcmp(c->language, "ja") != 0 && strcmp(c->language, "en") != 0) {
		v = val_get(root, "language");
		rc = diag_err(d, "site.yaml", v->line, v->col,
		    "unsupported language '%s' (use 'ja' or 'en')",
		    c->language);
	}
	if (strcmp(c->default_classification, "public") != 0 &&
	    strcmp(c->default_classification, "internal") != 0 &&
	    strcmp(c->default_classification, "confidential") != 0) {
		v = val_get(root, "default_classification");
		rc = diag_err(d, "site.yaml", v->line, v->col,
		    "unknown classification '%s' (public, internal or "
		    "confidential)", c->default_classification);
	}
	c->lua_instructions = 200000000L;
	c->lua_memory_mb = 0;	/* the build sizes it to the site */
	lua = val_get(root, "lua");
	if (lua && lua->kind == VAL_MAP) {
		static const char *const lkeys[] = {
			"instructions", "memory_mb", NULL
		};

		for (i = 0; i < lua->n; i++) {
			v = lua->items[i];
			if (strcmp(lua->keys[i]->str, "instructions") != 0 &&
			    strcmp(lua->keys[i]->str, "memory_mb") != 0) {
				hint = site_suggest(lua->keys[i]->str, lkeys);
				rc = diag_err(d, "site.yaml",
				    lua->keys[i]->line, lua->keys[i]->col,
				    "unknown setting 'lua.%s'%s%s%s",
				    lua->keys[i]->str,
				    hint ? "; did you mean '" : "",
				    hint ? hint : "", hint ? "'?" : "");
				continue;
			}
			if (v->kind != VAL_NUM || v->num < 1) {
				rc = diag_err(d, "site.yaml", v->line, v->col,
				    "'lua.%s' must be a positive number",
				    lua->keys[i]->str);
				continue;
			}
			if (lua->keys[i]->str[0] == 'i')
				c->lua_instructions = (long)v->num;
			else
				c->lua_memory_mb = (long)v->num;
		}
	} else if (lua && lua->kind != VAL_NULL) {
		rc = diag_err(d, "site.yaml", lua->line, lua->col,
		    "'lua' must be a mapping (instructions, memory_mb)");
	}
	return rc ? -1 : 0;
}

void
site_config_release(struct site_config *c)
{
	size_t i;

	free(c->dir);
	free(c->title);
	free(c->description);
	free(c->language);
	free(c->output);
	free(c->theme);
	free(c->base_url);
	free(c->print_footer);
	free(c->default_classification);
	free(c->audience);
	for (i = 0; i < c->nfilters; i++)
		free(c->filters[i]);
	free(c->filters);
	free(c->filter_lines);
	free(c->filter_cols);
	for (i = 0; i < c->ncatalogs; i++)
		free(c->catalogs[i]);
	free(c->catalogs);
	val_unref(c->root);
	memset(c, 0, sizeof(*c));
}

struct scan {
	struct site_file	*v;
	size_t			 n, cap;
	char			*root_abs;	/* realpath of the site dir */
	struct diag		*d;
	int			 depth;
};

/* Orders scan_dir's names (a type byte, then the name) by name. */
static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a + 1, *(char *const *)b + 1);
}

static int
scan_dir(struct scan *s, const char *path, const char *rel)
{
	DIR *dp;
	struct dirent *de;
	char **names = NULL, *p, *r, *src;
	size_t n = 0, i;
	struct stat st;
	char resolved[PATH_MAX];
	unsigned char type;

	if (++s->depth > 64) {
		s->depth--;
		return diag_err(s->d, path, 0, 0, "directories nested too "
		    "deeply");
	}
	if ((dp = opendir(path)) == NULL) {
		s->depth--;
		return diag_err(s->d, path, 0, 0, "cannot open directory: %s",
		    strerror(errno));
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((n & (n - 1)) == 0)		/* doubling */
			names = xreallocarray(names, n ? n * 2 : 1,
			    sizeof(*names));
		/* the entry's type from readdir rides in front of its name:
		 * a file or a folder needs no lstat (10,000 pages, 10,000
		 * calls), anything else is looked at as before */
		names[n] = xmalloc(strlen(de->d_name) + 2);
		names[n][0] = de->d_type == DT_REG ? 'f' : de->d_type ==
		    DT_DIR ? 'd' : '?';
		strcpy(names[n] + 1, de->d_name);
		n++;
	}
	closedir(dp);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < n; i++) {
		type = (unsigned char)names[i][0];
		p = util_path_join(path, names[i] + 1);
		r = *rel ? xasprintf("%s/%s", rel, names[i] + 1) :
		    xstrdup(names[i] + 1);
		src = xasprintf("content/%s", r);
		if (type == 'f')
			st.st_mode = S_IFREG;
		else if (type == 'd')
			st.st_mode = S_IFDIR;
		else if (lstat(p, &st) == -1)
			goto next;
		if (S_ISLNK(st.st_mode)) {
			if (realpath(p, resolved) == NULL ||
			    !util_path_within(resolved, s->root_abs)) {
				diag_warn(s->d, src, 0, 0, "symbolic link "
				    "points outside the site; not followed");
				goto next;
			}
			if (stat(p, &st) == -1)
				goto next;
		}
		if (S_ISDIR(st.st_mode)) {
			scan_dir(s, p, r);
		} else if (S_ISREG(st.st_mode)) {
			if (s->n == s->cap) {
				s->cap = s->cap ? s->cap * 2 : 64;
				s->v = xreallocarray(s->v, s->cap,
				    sizeof(*s->v));
			}
			s->v[s->n].rel = r;
			s->v[s->n].src = src;
			s->v[s->n].path = p;
			s->v[s->n].is_page = util_has_suffix(r, ".md");
			s->n++;
			free(names[i]);
			continue;
		}
next:
		free(p);
		free(r);
		free(src);
		free(names[i]);
	}
	free(names);
	s->depth--;
	return 0;
}

static int
cmpfile(const void *a, const void *b)
{
	return strcmp(((const struct site_file *)a)->rel,
	    ((const struct site_file *)b)->rel);
}

long
site_scan(const char *dir, struct site_file **out, struct diag *d)
{
	struct scan s;
	char *content;

	memset(&s, 0, sizeof(s));
	s.d = d;
	*out = NULL;
	s.root_abs = util_abspath(dir);
	content = util_path_join(dir, "content");
	if (!util_is_dir(content)) {
		free(content);
		free(s.root_abs);
		return diag_err(d, "content", 0, 0, "no content directory "
		    "in the site");
	}
	scan_dir(&s, content, "");
	free(content);
	free(s.root_abs);
	/* sorted per directory level already; sort whole paths bytewise */
	if (s.n > 1)
		qsort(s.v, s.n, sizeof(*s.v), cmpfile);
	*out = s.v;
	return (long)s.n;
}

void
site_files_free(struct site_file *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].rel);
		free(v[i].src);
		free(v[i].path);
	}
	free(v);
}
