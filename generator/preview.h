/*
 * preview: the previewer of `tebiki serve`.
 *
 * A build run by `tebiki serve` forks a process after pass 2 (prv_fork,
 * when no other thread of the build runs).  That process keeps the build
 * as it was then: the model, the filters' SITE and Lua workers, the
 * templates, every page's headings and collected data.  When the body of
 * one page changes, it renders that page again (build_preview) and puts it
 * in the served output, in milliseconds whatever the size of the site; the
 * whole build that follows makes everything else (lists, print.html, the
 * search index) and replaces the output as always.
 *
 * A page is previewed only when nothing but its own output can depend on
 * the change: same front matter, same title (when it comes from the first
 * h1), same data from the filters' collect (every collect page_local, no
 * link hook); its headings are its own (table of contents, anchors).  Then
 * the previewed page is byte for byte what the whole build writes.  Anything
 * else is answered "no", and the previewer is stale from then on: the
 * caller frees it and waits for the next build's.
 *
 * The two processes talk over two pipes, one line each way:
 *
 *   request  "<source>\n"              e.g. "content/policies/backup.md"
 *   answer   "ok <output> <sha256>\n"  written into the output directory
 *                                      (and its .tebiki-manifest updated)
 *            "same\n"                  the source is as the build read it
 *            "no <reason>\n"           not previewed
 *
 * The previewer ends when its request pipe closes; it also dies with the
 * thread that forked it.  It holds what the build held at the fork: its
 * pages are shared with the build until the build changes or frees them,
 * then copied (at 10,000 pages up to ~200 MB).
 */
#ifndef PREVIEW_H
#define PREVIEW_H

struct build;
struct prv;

/* Forks a previewer from build b; NULL when it cannot (nothing reported:
 * serving goes on without previews).  Returns in the parent only. */
struct prv	*prv_fork(struct build *b);
/* Asks for source `src`: 1 when the page was written into the output
 * (*out gets its output path, hex its SHA-256; caller frees *out), 0
 * when the source did not change, -1 when it was not previewed (*why
 * gets the reason, caller frees) -- the previewer is stale then. */
int		 prv_request(struct prv *, const char *src, char **out,
		    char hex[65], char **why);
/* Ends the previewer and waits for it; NULL is fine. */
void		 prv_free(struct prv *);

#endif
