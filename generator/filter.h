/*
 * filter: Lua filters -- pandoc-compatible element filters over the
 * cmark-gfm tree, plus site phases (collect, link, template) that see every
 * page.  See docs/filters.md for the filter author's view.
 *
 * Flow of a build:
 *
 *   main thread:  site = flt_site_new(opts)
 *                 flt_site_run(site, pages, n, extra)   collect + link
 *                 frozen = flt_site_frozen(site)        read-only from now
 *                 flt_site_added(site, &added)          pages made by link
 *   per worker:   w = flt_worker_new(opts, frozen)
 *                 flt_worker_page(w, page, i, &doc, &tmpl) for its pages
 *                 flt_worker_free(w)
 *   main thread:  flt_site_free(site)
 *
 * Every filter file gets its own sandboxed Lua state (luasandbox.h) per
 * site and per worker.  Element filters run after md_assign_ids() and before
 * md_render(); an unchanged document keeps its cmark tree.  Errors are
 * reported as `filters/x.lua:12: message (while filtering content/y.md:7)`
 * (the page line is that of the block being filtered, when known).
 */
#ifndef FILTER_H
#define FILTER_H

#include <stddef.h>

#include <cmark-gfm.h>

struct diag;
struct value;

struct flt_file {
	const char	*path;		/* real path of the .lua file */
	const char	*display;	/* "filters/x.lua", used in messages */
};

struct flt_opts {
	const char		*site_dir;	/* require() looks in <site_dir>/filters
						   and the directory of each file */
	const struct flt_file	*files;		/* in site.yaml order */
	size_t			 nfiles;
	long			 instr_budget;	/* per call; 0: 100M instructions */
	size_t			 mem_cap;	/* per Lua state; 0: 256 MiB */
	size_t			 out_cap;	/* bytes of text one page may carry
						   after a filter; 0: 64 MiB */
	int			 allow_raw_html;	/* emit RawBlock/RawInline
							   made by filters */
	int			 lua_walk_only;	/* 1: never use the C walker
						   (luawalk.h); for tests */
	int			 jobs;		/* threads for collect when every
						   file is page_local; 0: 1 */
};

struct flt_page {			/* filled by the build, borrowed */
	const char		*path;	/* "content/policies/backup.md" */
	const char		*id;
	const char		*type;
	const char		*title;
	const char		*url;	/* site-root-relative "policies/backup.html" */
	const char		*lang;
	const struct value	*meta;	/* front matter map */
	cmark_node		*doc;	/* parsed body; read-only in collect */
	int			 body_line;	/* file line of body line 1 */
	const char		*text;	/* plain text of the body (page.text),
					   may be NULL */
	/* When doc is NULL, page.doc in collect/link calls this to parse
	   the page on demand (main thread); it returns the tree, owned by
	   the caller of the site phases, or NULL. */
	cmark_node		*(*load_doc)(void *);
	void			*load_ctx;
	/* When text is NULL, page.text calls this (with load_ctx) when it
	   is first read, on the thread collecting the page; NULL: "". */
	const char		*(*load_text)(void *);
};

struct flt_added {			/* a page made by site.add_page in link */
	char		*path;		/* as given, e.g. "content/controls/index.md" */
	char		*type;		/* "page" when not given */
	char		*title;		/* "" when not given */
	char		*markdown;	/* "" when not given */
	struct value	*meta;		/* map, never NULL */
};

/* ---- main thread ---- */

/* Loads every filter file into its site state (running each file once).
 * NULL after reporting. */
struct flt_site		*flt_site_new(const struct flt_opts *, struct diag *);
/* Runs collect(page) for every filter and page (in the given order, which
 * must be sorted), then link(site) for every filter; `extra` (a map or
 * NULL) is exposed read-only as site.<key>.  `cached` (NULL, or n entries,
 * each NULL or a map) holds page.data as collect left it in an earlier
 * build, for pages whose inputs have not changed since (the caller's
 * key): when every file with a collect says `page_local = true`, those
 * pages are not collected again.  0, or -1 when a filter failed or called
 * site.error (everything is reported). */
int			 flt_site_run(struct flt_site *, const struct flt_page *,
			    size_t n, const struct value *extra,
			    struct value *const *cached, struct diag *);
/* The threads collect ran on (for the timing line): one per file with a
 * collect (a pipeline: a file sees the page.data of the files before it),
 * or opts.jobs, *by_page set, when every such file is page_local and
 * there are several threads (pages side by side, each thread with Lua
 * states of its own for every file). */
int			 flt_site_collect_threads(const struct flt_site *,
			    int *by_page);
/* Page i's data as collect left it (before link), for a later build's
 * `cached`; NULL when it may not be reused (a file's collect is not
 * page_local, or collect reported something).  Borrowed. */
const struct value	*flt_page_collected(struct flt_site *, size_t i);
/* For previews: readies a new site for collect one page at a time, as
 * flt_site_run's collect sees the site (SITE with the n pages without
 * their data, and `extra`; both borrowed until flt_site_free).  0, or -1
 * after reporting. */
int			 flt_site_prepare(struct flt_site *,
			    const struct flt_page *pages, size_t n,
			    const struct value *extra, struct diag *);
/* Runs every file's collect on page i of a prepared site, from an empty
 * page.data, and returns the data (caller unrefs); NULL after reporting.
 * The files' states are used again from page to page: only for files
 * whose collect is page_local. */
struct value		*flt_site_collect_page(struct flt_site *, size_t i);
/* 1 when a file has a link(site) hook (it may change any page's data
 * after collect), else 0. */
int			 flt_site_has_link(struct flt_site *);
/* The frozen site after flt_site_run: {pages: [{id, path, url, type,
 * title, lang, meta, data}...], data, <extra keys>}; added pages follow the
 * n given ones (page index n + k).  Borrowed; valid until flt_site_free;
 * shared read-only by the workers. */
struct value		*flt_site_frozen(struct flt_site *);
/* Page i's data map (borrowed), NULL when out of range. */
const struct value	*flt_page_data(struct flt_site *, size_t i);
/* The pages site.add_page made; returns their number (borrowed array). */
size_t			 flt_site_added(struct flt_site *,
			    const struct flt_added **);
/* Closes the site's Lua states (the slow part of freeing a big site); it
 * touches no value shared with the caller, so another thread may do it
 * while the caller goes on, as long as nothing else uses the site until
 * flt_site_free. */
void			 flt_site_close(struct flt_site *);
void			 flt_site_free(struct flt_site *);

/* ---- one per worker thread ---- */

/* `frozen` (from flt_site_frozen, may be NULL) becomes SITE.  NULL after
 * reporting. */
struct flt_worker	*flt_worker_new(const struct flt_opts *,
			    const struct value *frozen, struct diag *);
/* Runs the element filters of every file on *doc.  When a filter changed
 * the document, the old tree is freed and *doc points to a new one (made
 * with cmark_node_new; render it with the parser that parsed the page).
 * *tmpl gets the merged results of the template(page) hooks as a map (NULL
 * when no file has one; the caller unrefs).  `page_index` selects PAGE in
 * SITE.pages (0-based).  0, or -1 after reporting. */
int			 flt_worker_page(struct flt_worker *,
			    const struct flt_page *, size_t page_index,
			    cmark_node **doc, struct value **tmpl,
			    struct diag *);
void			 flt_worker_free(struct flt_worker *);
/* Bytes the worker's Lua states hold.  A worker keeps what the pages'
 * filters read of SITE (PAGE is SITE's entry of the page), so it grows
 * with the pages it has filtered; the build replaces a worker that got
 * large by a new one (nothing else carries over between pages). */
size_t			 flt_worker_memory(const struct flt_worker *);

#endif
