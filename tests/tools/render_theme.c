/*
 * render_theme: renders one layout of a theme with a context read from
 * YAML, for looking at and testing themes without a site build.
 *
 *   render_theme [-s SITE_LAYOUTS] [-m COMMON.yaml]... THEME CTX.yaml OUT
 *
 * THEME is a theme directory (layouts/, assets/, i18n/).  The layout is
 * CTX's `layout`; `i18n` is THEME/i18n/<lang>.yaml unless CTX has one;
 * each -m file adds its top-level keys that CTX lacks (shared `site`).
 * -s adds a site layouts directory that overrides the theme's.  The page
 * is written to OUT and the files of THEME/assets are copied to OUT's directory plus
 * CTX's `root` (the site root).  Exit 0, or 1 with diagnostics.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "template.h"
#include "util.h"
#include "value.h"
#include "yml.h"

static struct value *
load(const char *path, struct diag *d)
{
	struct buf b = BUF_INIT;
	struct value *v = NULL;

	if (util_read_file(path, &b) == -1)
		diag_err(d, path, 0, 0, "cannot read '%s'", path);
	else
		v = yml_parse(b.ptr, b.len, path, 1, d);
	buf_release(&b);
	return v;
}

/* Copies the regular files of from/ into to/ (recursively). */
static int
copy_dir(const char *from, const char *to)
{
	DIR *dp = opendir(from);
	struct dirent *de;
	char *a, *b;
	int rc = 0;

	if (dp == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		a = util_path_join(from, de->d_name);
		b = util_path_join(to, de->d_name);
		if (util_is_dir(a))
			rc |= copy_dir(a, b);
		else if (util_copy_file(a, b) == -1)
			rc = -1;
		free(a);
		free(b);
	}
	closedir(dp);
	return rc;
}

int
main(int argc, char **argv)
{
	struct value *ctx = NULL, *common, *i18n;
	struct tmpl_set *set = tmpl_set_new();
	struct buf out = BUF_INIT;
	const char *layout, *lang, *root, *site = NULL;
	const char *commons[16];
	char *p, *dir, *slash;
	struct diag d;
	size_t nc = 0, i, k;
	int c, rc = 1;

	diag_init(&d);
	while ((c = getopt(argc, argv, "s:m:")) != -1) {
		if (c == 's')
			site = optarg;
		else if (c == 'm' && nc < 16)
			commons[nc++] = optarg;
		else
			goto usage;
	}
	if (argc - optind != 3)
		goto usage;
	if ((ctx = load(argv[optind + 1], &d)) == NULL ||
	    ctx->kind != VAL_MAP) {
		diag_err(&d, argv[optind + 1], 0, 0, "context is not a map");
		goto out;
	}
	for (i = 0; i < nc; i++) {
		if ((common = load(commons[i], &d)) == NULL)
			goto out;
		for (k = 0; common->kind == VAL_MAP && k < common->n; k++)
			if (val_get(ctx, common->keys[k]->str) == NULL)
				val_set(ctx, common->keys[k]->str,
				    val_ref(common->items[k]));
		val_unref(common);
	}
	lang = val_cstr(val_get(ctx, "lang"));
	if (val_get(ctx, "i18n") == NULL) {
		p = xasprintf("%s/i18n/%s.yaml", argv[optind],
		    lang ? lang : "ja");
		i18n = load(p, &d);
		free(p);
		if (i18n == NULL)
			goto out;
		val_set(ctx, "i18n", i18n);
	}
	if ((layout = val_cstr(val_get(ctx, "layout"))) == NULL) {
		diag_err(&d, argv[optind + 1], 0, 0, "no 'layout' in context");
		goto out;
	}
	if (site && tmpl_set_add_dir(set, site, "site/layouts", &d) == -1)
		goto out;
	p = util_path_join(argv[optind], "layouts");
	c = tmpl_set_add_dir(set, p, "layouts", &d);
	free(p);
	if (c == -1 || tmpl_set_compile(set, &d) == -1 ||
	    tmpl_render(set, layout, ctx, &out, &d) == -1)
		goto out;
	if (util_write_file(argv[optind + 2], out.ptr, out.len) == -1) {
		diag_err(&d, argv[optind + 2], 0, 0, "cannot write '%s'",
		    argv[optind + 2]);
		goto out;
	}
	root = val_cstr(val_get(ctx, "root"));
	dir = xstrdup(argv[optind + 2]);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	p = xasprintf("%s/%sassets", dir, root ? root : "");
	free(dir);
	dir = util_path_join(argv[optind], "assets");
	if (util_is_dir(dir) && copy_dir(dir, p) == -1)
		diag_err(&d, p, 0, 0, "cannot copy assets to '%s'", p);
	free(p);
	free(dir);
	rc = diag_errors(&d) ? 1 : 0;
	goto out;
usage:
	fprintf(stderr, "usage: render_theme [-s site-layouts] "
	    "[-m common.yaml]... theme-dir context.yaml out.html\n");
	rc = 2;
out:
	diag_flush(&d, stderr, DIAG_TEXT);
	val_unref(ctx);
	tmpl_set_free(set);
	buf_release(&out);
	diag_release(&d);
	return rc;
}
