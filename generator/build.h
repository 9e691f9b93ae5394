/*
 * build: the pipeline behind `tebiki build` and `tebiki check`.
 *
 *   config -> scan content/ -> pass 1 (parallel): read, front matter,
 *   Markdown, heading ids -> site model (ids, types) -> pass 2 (parallel):
 *   links, HTML, template, write -> generated pages, static files, search
 *   index -> the new output replaces the old one only if nothing failed.
 */
#ifndef BUILD_H
#define BUILD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "hmap.h"
#include "markdown.h"
#include "page.h"
#include "site.h"

struct diag;
struct ledger;
struct rc_diag;
struct buf;
struct ccache;
struct rcache;
struct value;
struct tmpl_set;
struct model;
struct srch_section;
struct flt_site;
struct flt_page;
struct flt_file;
struct flt_opts;
struct flt_worker;

/* An action item of a lesson, incident or report. */
struct action {
	size_t		 page;		/* where it is written */
	const struct value *v;		/* the {what, owner, due, status} map */
	int		 due;		/* yyyymmdd or 0 */
	int		 open;
	int		 overdue;
};

struct build_opts {
	const char	*src_dir;	/* holds site.yaml; "." default */
	const char	*out_dir;	/* NULL: from site.yaml */
	int		 jobs;		/* worker threads; 0: CPUs */
	int		 today_y, today_m, today_d;	/* 0: the real date */
	int		 write;		/* 0 for `check` */
	int		 quiet;		/* no summary line */
	const char	*audience;	/* public, internal, confidential or
					 * NULL (everything) */
	const char *const *print_ids;	/* NULL-terminated ids: also write
					 * print-selection.html (print.h) */
	const char	*print_type;	/* or every document of this type */
	int		 print_all;	/* pdf --all: print.html must have a
					 * document (print.h prn_any) */
	int		 no_cache;	/* --no-cache: neither read nor write
					 * the render cache (rcache.h) */
	int		 seed;		/* serve: a first build may start from
					 * the site's own output (links) */
	struct prv	**preview;	/* serve: a successful build puts a
					 * previewer forked from it here (the
					 * one there is freed); NULL: none
					 * (preview.h) */
};

struct page {
	struct site_file	*f;		/* borrowed from the scan */
	struct page_src		 src;
	struct md_doc		 md;
	char			*id;		/* front matter id or NULL */
	char			*type;		/* chapter, policy, ... page */
	char			*title;
	char			*lang;
	char			*out;		/* "policies/a.html" */
	char			*status;	/* NULL, draft, approved, retired */
	char			*classification;
	struct md_heading	*heads;		/* pass 1 (link anchors) */
	size_t			 nheads;
	struct md_heading	*fheads;	/* after filters, or NULL */
	size_t			 nfheads;
	int			 excluded;	/* left out of this build */
	int			 raw_html;	/* parse with raw HTML */
	size_t			 prev, next;	/* same-type neighbours or -1 */
	int			 is_home;
	int			 next_review;	/* yyyymmdd, 0 if none */
	int			 overdue;	/* next review has passed */
	size_t			*stale_by;	/* lessons that call for an update */
	size_t			 nstale;
	char			*body_html;	/* pass 2, until spilled */
	uint64_t		 html_off;	/* body_html in b->bodies */
	size_t			 html_len;
	int			 html_spilled;	/* read it with build_body() */
	const char		*body_rc;	/* or the render cache's, borrowed
						   (with the sections' texts) */
	char			*plain;		/* plain text for filters (page.text) */
	struct srch_section	*sections;	/* pass 2: text for search */
	size_t			 nsections;
	uint64_t		*sec_off;	/* texts in b->bodies, or NULL */
	size_t			*sec_len;
	unsigned char		 secsum[32];	/* srch_sections_sum(sections), */
	int			 secsum_set;	/* with the render cache */
	int			 secs_valid;	/* its *valid */
	struct value		*tmpl_extra;	/* from filters, may be NULL */
	/* render cache (rcache.h) */
	unsigned char		 src_sum[32];	/* SHA-256 of src.text */
	unsigned char		 fm_sum[32];	/* ... of its front matter (the
						   text before the body) */
	size_t			 body_off;	/* src.body - src.text.ptr */
	int			 from_file;	/* src.text can be read again */
	int			 dropped;	/* src.text freed until pass 2 */
	struct value		*p1;		/* pass-1 cache entry, pass 1 */
	int			 p1_new;	/* made by this build */
	int			 keyed;		/* rkey is set */
	unsigned char		 rkey[32];	/* what the output depends on */
	char			 out_hex[65];	/* SHA-256 of the output */
	size_t			 out_len;
	struct rc_diag		*diags;		/* pass 2's diagnostics */
	size_t			 ndiags;
};

/* A page the build makes itself (lists, home, search, 404, ...). */
struct gen_page {
	char		*out;		/* output path */
	char		*layout;
	struct value	*ctx;		/* full context */
};

struct build {
	const struct build_opts	*opts;
	struct diag		*d;
	struct site_config	 cfg;
	char			*theme_dir;	/* path of the theme */
	char			*theme_display;	/* for diagnostics */
	char			*share_dir;	/* shipped themes/filters/catalogs */
	char			*out_dir;	/* final output dir */
	char			*tmp_dir;	/* where this build writes */
	int			 lock_fd;	/* lock of the work dir */
	int			 timing;	/* TEBIKI_TIMING: phase times */
	struct timespec		 mark;
	struct ledger		*ledger;	/* files written (ledger.h) */
	struct ccache		*ccache;	/* previous collects, or NULL */
	unsigned char		(*ckeys)[32];	/* collect key per filtered page */
	struct rcache		*rcache;	/* previous renders, or NULL */
	struct spill		*bodies;	/* pass 2's bodies, or NULL */
	struct ccache		*p1;		/* pass-1 cache, during pass 1 */
	unsigned char		 p1_salt[32];
	pthread_t		 p1_thread;	/* writes it after pass 1 */
	int			 p1_running;
	struct p1_job		*p1_job;
	pthread_t		 rc_thread;	/* loads the render cache */
	int			 rc_running;
	char			*rcache_path;	/* NULL: no render cache */
	int			 rcache_new;	/* saved, not yet in place */
	char			*prn_index_new;	/* print.html's index (print.c),
						   saved, not yet in place */
	char			*prn_index;	/* ... and where it goes */
	unsigned char		 gkey[32];	/* site-wide part of page keys */
	char			 frozen_key[65];	/* SHA-256 of SITE, or "" */
	size_t			 rc_hits;	/* pages taken from the cache */
	struct site_file	*files;
	size_t			 nfiles;
	struct page		*pages;		/* sorted by source path */
	size_t			 npages;
	struct hmap		 by_id;		/* id -> page index */
	struct hmap		 by_rel;	/* content-relative path -> file index */
	size_t			*file_page;	/* file index -> page index */
	unsigned char		*file_used;	/* bit 1: linked from an included
						 * page, bit 2: from an excluded one */
	int			 audience;	/* level: 0 public .. 2 confidential */
	struct tmpl_set		*tmpl;
	struct value		*i18n_ja, *i18n_en;
	struct value		*site_ctx;	/* shared "site" context value */
	struct model		*model;		/* catalogs, schema, references */
	int			 ty, tm, td;	/* today */
	struct flt_site		*flt;		/* Lua filters: site phases */
	pthread_t		 reaper;	/* frees the site state (build.c) */
	int			 reaping;
	pthread_t		 fkeyer;	/* makes frozen_key (build.c) */
	int			 fkeying;
	struct flt_worker	**workers;	/* one per thread, element filters */
	struct value		*frozen;	/* SITE for new workers */
	size_t			 worker_max;	/* bytes: a worker is replaced
						 * once it holds more */
	size_t			 recycled;	/* workers replaced */
	pthread_mutex_t		 reap_lock;	/* guards reap_threads */
	pthread_t		*reap_threads;	/* freeing replaced workers */
	size_t			 nreap;
	struct flt_file		*flt_files;
	struct flt_opts		*flt_opts;
	int			 nworkers;
	int			 jobs;		/* threads for parallel steps */
	size_t			 nflt;		/* pages the filters see */
	struct site_file	*added_files;	/* files of pages filters added */
	size_t			 nadded;
	size_t			*flt_index;	/* page index -> filter page index */
	struct hmap		 by_out;	/* every output path this build makes */
	struct value		**items;	/* page items, shared while the
						   generated pages are made */
	struct action		*actions;	/* from lessons, incidents, reports */
	size_t			 nactions;
	/* for a previewer (opts->preview): what collect left per filter
	 * page, and whether a page's data depends on nothing but the page
	 * (every collect page_local, no link hook) */
	struct value		**collected;
	int			 flt_local;
	struct prv		*prv;		/* forked by this build */
	struct flt_site		*pv_site;	/* the previewer's collect */
	struct flt_page		*pv_fps;
	struct value		*pv_extra;
	int			 pv_ready;	/* build_preview_prepare ran */
};

/* The folder listing pages of `type` ("policies"), NULL for others. */
const char	*build_type_folder(const char *type);
/* Relative URL between two output paths; caller frees. */
char		*build_rel_url(const char *from, const char *to);
/* Writes an output file of this build (nothing in check mode); 0 or -1
 * after reporting.  Thread-safe. */
int		 build_write(struct build *, const char *rel, const void *,
		    size_t);
/* A large output file written while it is made: build_stream_begin
 * points `out` (empty) at a file in the work directory, build_stream_end
 * finishes it as build_write would have written the whole buffer (in check
 * mode, or when the file cannot be opened, the buffer simply grows and is
 * written at the end).  0 or -1 after reporting.  Thread-safe. */
struct build_stream {
	char		*part;		/* the file being written, or NULL */
	int		 fd;
	void		*hash;		/* struct sha256 */
	size_t		 len;
	int		 err;		/* errno of a failed write */
};
void		 build_stream_begin(struct build *, const char *rel,
		    struct buf *out, struct build_stream *);
int		 build_stream_end(struct build *, const char *rel,
		    struct buf *out, struct build_stream *);
/* Drops a file begun with build_stream_begin (rendering failed). */
void		 build_stream_abort(struct build_stream *);
/* The path of cache file `name` of this build's audience in the site's
 * .tebiki-cache/ ("<name>-<audience><suffix>"); caller frees. */
char		*build_cache_path(const struct build *, const char *name,
		    const char *suffix);
/* Audience level of a classification (public 0, internal 1, else 2). */
int		 build_level(const char *);
/* The body HTML of page p after pass 2, wherever it is kept (spill.h);
 * *tofree gets what the caller frees afterwards (may be NULL).  A body
 * that cannot be read back is reported and comes back as "". */
const char	*build_body(const struct build *, const struct page *p,
		    char **tofree);
/* With TEBIKI_TIMING set, prints the time since the last mark to stderr
 * (a profiling aid for `make bench`, never in normal output); NULL only
 * sets the mark.  Main thread only. */
void		 build_phase(struct build *, const char *name);
/* For a previewer forked after pass 2 (preview.h): renders again the
 * page whose source is `src` ("content/a/b.md"), as this build would
 * have, when nothing but its own output depends on what changed in it.
 * Returns 1 with the page into `out` and *out_rel its output path
 * (borrowed); 0 when the source did not change since; -1 with *why
 * (static text) when the page cannot be previewed: a new or removed
 * file, changed front matter, title or collected data, errors. */
int	build_preview(struct build *, const char *src, struct buf *out,
	    const char **out_rel, const char **why);
/* Readies what build_preview needs for the filters' collect (done by the
 * first build_preview otherwise). */
void	build_preview_prepare(struct build *);
/* Runs the whole pipeline; returns CMD_OK, CMD_CONTENT or CMD_USAGE. */
int	build_run(const struct build_opts *, struct diag *);

#endif
