/*
 * ledger: the output files a build writes, with their SHA-256, and those of
 * the build before it.
 *
 * The work directory is the output of the build before last (the swap turns
 * the old output into the next work directory).  Its `.tebiki-manifest`
 * says what each file holds, so a file whose new content has the same hash
 * need not be written again; every file this build writes or keeps is
 * recorded, the manifest is made from the record, and whatever is in the
 * work directory without being recorded is stale and swept.
 *
 * ldg_put and ldg_keep may be called from several threads.
 */
#ifndef LEDGER_H
#define LEDGER_H

#include <stddef.h>

struct buf;
struct ledger;

/* A ledger for the work directory `dir`.  Reads `dir/.tebiki-manifest`
 * (the files as the build before last left them) and deletes it, so that a
 * build that fails half-way never leaves a manifest that lies. */
struct ledger	*ldg_open(const char *dir);
void		 ldg_free(struct ledger *);
/* Records `rel` with content hash `hex`; returns 1 when the work directory
 * already holds exactly that content (same hash in the old manifest and
 * the same size on disk), so the caller need not write it, else 0. */
int		 ldg_put(struct ledger *, const char *rel, const char hex[65],
		    size_t len);
/* The manifest text: "<sha256>  <path>\n" for every recorded file, sorted
 * bytewise by path. */
void		 ldg_manifest(const struct ledger *, struct buf *);
/* Reads manifest text from *pos up to end: the next well-formed line's
 * hash (64 hex digits at *hex) and path (*plen bytes at *path, then the
 * line's '\n'); lines of another shape are skipped.  Advances *pos past
 * the line; 0 when there is none left. */
int		 ldg_next_line(char **pos, char *end, char **hex, char **path,
		    size_t *plen);
/* Removes the files under the directory that were not recorded (and the
 * directories that become empty). */
void		 ldg_sweep(const struct ledger *);

#endif
