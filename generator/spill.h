/*
 * spill: an anonymous scratch file for texts a build writes once and reads
 * back later, one at a time, so that they need not all stay in memory.
 *
 * Pass 2 keeps every page's body HTML for the render cache and the print
 * page, which run after it: on a 10,000-page site that is some 76 MB, on
 * 100,000 pages most of a gigabyte.  The bodies go to a spill instead; the
 * kernel's page cache holds them (or writes them out under pressure) and
 * the process only has the one being read.
 *
 * The file has no name (O_TMPFILE) in the directory it is opened in, so
 * it cannot be left behind and never shows up in the output.  Writes may
 * come from several threads at once; reads too.
 */
#ifndef SPILL_H
#define SPILL_H

#include <stddef.h>
#include <stdint.h>

struct spill;

/* A spill in directory `dir`, or NULL when the file system cannot make
 * one (the caller keeps its texts in memory then). */
struct spill	*spill_open(const char *dir);
/* Appends s[0..n); its place is stored in *off.  0, or -1 (errno set). */
int		 spill_put(struct spill *, const char *s, size_t n,
		    uint64_t *off);
/* A malloc'd, NUL-terminated copy of the n bytes at off, or NULL (errno
 * set) when they cannot be read. */
char		*spill_get(struct spill *, uint64_t off, size_t n);
/* 1 for the first caller only: a read that failed is reported once,
 * not once per text. */
int		 spill_first_failure(struct spill *);
/* Bytes written so far. */
uint64_t	 spill_size(const struct spill *);
/* Empties the file, so that every later spill_get fails: for tests of
 * what a build does when its scratch file cannot be read back. */
void		 spill_cut(struct spill *);
void		 spill_close(struct spill *);

#endif
