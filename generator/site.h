/*
 * site: the site configuration (site.yaml) and the scan of content/.
 */
#ifndef SITE_H
#define SITE_H

#include <stddef.h>

struct diag;
struct value;

struct site_config {
	char		 *dir;		/* source dir as given ("." default) */
	char		 *title;
	char		 *description;
	char		 *language;	/* "ja" default */
	char		 *output;	/* "public" default */
	char		 *theme;	/* "default" */
	char		 *base_url;	/* may be NULL */
	char		 *print_footer;	/* may be NULL */
	char		 *default_classification; /* "internal" */
	char		**filters;	/* paths relative to dir, in order */
	int		 *filter_lines;	/* line of each entry in site.yaml */
	int		 *filter_cols;	/* and its column */
	size_t		  nfilters;
	char		**catalogs;	/* paths relative to dir */
	size_t		  ncatalogs;
	int		  raw_html;	/* allow raw HTML in Markdown */
	int		  build_drafts;	/* include status: draft pages */
	int		  search;	/* build the search index */
	int		  excluded_links_text;	/* links to pages left out become
						 * plain text (warning) */
	char		 *audience;	/* default audience, may be NULL */
	long		  lua_instructions;	/* per filter call */
	long		  lua_memory_mb;	/* per Lua state; 0: the default
						   (256 MB + 4 KB per page) */
	struct value	 *root;		/* the whole parsed file */
};

/* One file found under content/, in sorted order. */
struct site_file {
	char	*rel;		/* relative to content/: "policies/a.md" */
	char	*src;		/* relative to the site dir: "content/policies/a.md" */
	char	*path;		/* path to open */
	int	 is_page;	/* a .md file */
};

/* Whether `dir` is a site to build: a directory holding site.yaml or
 * content/ (or both).  Returns 0, or -1 after reporting one error (a usage
 * or environment error: the caller exits 2). */
int	site_dir_check(const char *dir, struct diag *);
/* Loads `dir`/site.yaml (a missing file gives the defaults).  Returns 0, or
 * -1 after reporting every problem. */
int	site_config_load(struct site_config *, const char *dir, struct diag *);
void	site_config_release(struct site_config *);
/* Lists the files under `dir`/content, sorted bytewise by path; hidden files
 * are skipped and symlinks pointing outside `dir` are not followed (warning).
 * Returns the number of files (*out to be freed with site_files_free), or
 * -1 after reporting. */
long	site_scan(const char *dir, struct site_file **out, struct diag *);
void	site_files_free(struct site_file *, size_t);
/* Edit distance, capped (for "did you mean"). */
int	site_edit_distance(const char *, const char *);
/* Returns the known word closest to `word` within distance 2, or NULL. */
const char *site_suggest(const char *word, const char *const *known);

#endif
