/*
 * print: the whole-handbook page for printing (print.html) and, when the
 * build options name a selection (ids or a type), print-selection.html with
 * only those documents -- the input of `tebiki pdf` and `tebiki export`.
 *
 * Order: chapters by chapter number, policies each followed by the
 * procedures that implement them, the remaining procedures, reports,
 * incidents, lessons.  Each document's body links are rewritten for a page
 * at the output root: links to documents on the page become '#doc-ID'
 * anchors, other relative links become root-relative paths, and element ids
 * get the document's anchor as a prefix so they stay unique.
 */
#ifndef PRINT_H
#define PRINT_H

struct build;
struct build_opts;
struct diag;

/* Renders and writes print.html (and print-selection.html when asked);
 * 0, or -1 after reporting. */
int	prn_generate(struct build *);
/* 1 when print.html has documents to hold (any document in the build but
 * the home page and pages of type 'page'): without, it is not written and
 * the theme does not link to it. */
int	prn_any(const struct build *);
/* Builds the site of `o` (its out_dir, write and quiet are set here) into
 * a new temporary directory; returns the directory (caller removes it with
 * util_rmtree and frees it) and sets *status to CMD_OK, or returns NULL
 * with *status CMD_CONTENT or CMD_USAGE after reporting to `d`. */
char	*prn_build_temp(struct build_opts *o, struct diag *d, int *status);

#endif
