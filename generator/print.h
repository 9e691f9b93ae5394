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

/* Renders and writes print.html (and print-selection.html when asked);
 * 0, or -1 after reporting. */
int	prn_generate(struct build *);

#endif
