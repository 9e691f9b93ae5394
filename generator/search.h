/*
 * search: the static search index (format: docs/search.md).
 *
 * The build adds every document (in document order, from one thread), then
 * srch_write() tokenizes them (in parallel worker threads; the output is
 * byte-identical whatever the thread count), builds BM25 postings with
 * positions and writes classic-script shards under outdir/search/:
 *
 *   search/manifest.js     HB manifest: counts, shard boundaries, file names
 *   search/t/<hash>.js     term shards (sorted terms, base64 doc-level postings)
 *   search/r/<hash>.js     tail shards (the rest of the largest terms' postings)
 *   search/p/<hash>.js     position shards (sorted terms, base64 positions)
 *   search/d/<hash>.js     document shards (url, title, type, sections, text)
 *   search/f/<hash>.js     facets (type, control, tag, year -> doc ids)
 */
#ifndef SEARCH_H
#define SEARCH_H

#include <stddef.h>
#include <stdint.h>

struct diag;

struct srch_section {
	const char	*anchor;	/* heading id, "" for page top */
	const char	*heading;
	const char	*text;		/* plain text; NULL: see text_off */
};

struct srch_doc {
	const char	*url;		/* site-root-relative, "procedures/backup.html" */
	const char	*title, *type, *type_label, *lang, *date; /* date may be NULL */
	const char	*id;		/* the document's id, or NULL: found as a
					 * word of its title */
	const char *const *controls; size_t ncontrols;	/* canonical ids "8.13" */
	const char *const *tags; size_t ntags;
	const struct srch_section *sections; size_t nsections;
	/* with srch_set_spill: section k's text, when NULL, is text_len[k]
	 * bytes at text_off[k] in the spill */
	const uint64_t	*text_off;
	const size_t	*text_len;
	/* 1: the section texts stay valid and unchanged until srch_write
	 * returns; with srch_set_lean, valid UTF-8 ones are then used where
	 * they are instead of being copied */
	int		 borrow;
	/* optional, from srch_sections_sum() over these very sections (an
	 * earlier build's, kept with its render cache): the cache's sums need
	 * not read the texts, and with `valid` set borrowed texts are not
	 * checked again */
	const unsigned char *sections_sum;
	int		 sections_valid;
};

/* Figures about the last srch_write(). */
struct srch_stats {
	size_t	 docs;
	size_t	 terms;
	size_t	 files;		/* files written under search/ */
	size_t	 bytes;		/* their total size */
	size_t	 manifest_bytes;
	size_t	 term_shards;
	size_t	 pos_shards;	/* position shards (format 2) */
	size_t	 tail_shards;	/* r/ shards: tails of split terms (format 3) */
	size_t	 split_terms;	/* terms split into head and tail */
	size_t	 doc_shards;
	size_t	 largest_shard;	/* bytes */
	double	 tokenize_ms, merge_ms, write_ms;	/* phases of srch_write */
	size_t	 batches;	/* documents are tokenized in batches */
	size_t	 batches_cached;	/* of them read from the cache */
	size_t	 files_kept;	/* of files, kept as the last write made
				   them (the shard cache) */
};

/* The sum of the sections' headings and texts as the index's batch keys
 * take it (after the clean-up srch_add makes; NULL texts and headings
 * are ""), and in *valid (may be NULL) 1 when every text is valid UTF-8
 * already. */
void		 srch_sections_sum(const struct srch_section *, size_t n,
		    unsigned char sum[32], int *valid);

/* A new empty index; free with srch_free(). */
struct srch	*srch_new(void);
/* Copies the document (strings sanitized to valid UTF-8); it gets the next
 * doc id.  One thread at a time. */
void		 srch_add(struct srch *, const struct srch_doc *);
/* srch_add for docs[0..n), in that order, on the worker threads (and with
 * the cache, the tokenizer sums of the documents whose texts are given
 * are made there too). */
void		 srch_add_all(struct srch *, const struct srch_doc *docs,
		    size_t n);
/* Worker threads for srch_write (0: one per CPU, the default). */
void		 srch_set_threads(struct srch *, int);
/* Replaces outdir/search/ with the index.  Returns 0, or -1 after
 * reporting to d (output directory problems). */
int		 srch_write(struct srch *, const char *outdir, struct diag *d);
/* Figures of the last srch_write (zeros before). */
void		 srch_get_stats(const struct srch *, struct srch_stats *);
/* 1: srch_write does not empty outdir/search first (the caller removes
 * stale files itself). */
void		 srch_set_reuse(struct srch *, int);
/* 1: once a document is tokenized, its section texts are cut to what the
 * doc shards show (SECTION_CAP code points), which a big site's memory
 * feels; the index written is the same, but a second srch_write on this
 * index fails. */
void		 srch_set_lean(struct srch *, int);
/* Section texts given as NULL are in this spill (spill.h, srch_doc's
 * text_off): the index reads them a batch at a time, so that a big site's
 * text is never all in memory at once.  With srch_set_lean. */
struct spill;
void		 srch_set_spill(struct srch *, struct spill *);
/* Documents are tokenized and merged `docs` at a time (0: the default,
 * 512); the index is the same for any count.  For tests. */
void		 srch_set_batch(struct srch *, size_t docs);
/* Keeps each batch's postings in a file of directory `dir` (made when
 * missing; NULL: no cache), under a key of `salt` (what else the index
 * depends on: the program, the options) and the batch's documents;
 * srch_write reads a batch whose documents did not change instead of
 * tokenizing it.  The index is the same with or without the cache. */
void		 srch_set_cache(struct srch *, const char *dir,
		    const unsigned char salt[32]);
/* Files go through write(arg, "search/<name>.js", bytes, len, hex: their
 * SHA-256) instead of being written under outdir, and outdir/search is
 * not emptied first (the caller keeps track of what it wrote).
 *
 * With a cache (srch_set_cache) and `keep`, the files of term, tail,
 * position and document shards are also recorded in the cache under a
 * key of what each is made from.  A later write that makes a shard of the
 * same key first asks keep(arg, "search/<name>.js", hex, len) for the
 * file that write recorded: 1 means the caller has it as it was (and
 * counts it as written), and the shard is not built again; 0 means it
 * must be made.  The files are the same either way.
 *
 * Both may be called from several threads at once; write returns 0, or
 * -1 with errno set (srch_write reports the failure). */
typedef int srch_writer(void *arg, const char *rel, const void *, size_t,
		    const char hex[65]);
typedef int srch_keeper(void *arg, const char *rel, const char hex[65],
		    size_t len);
void		 srch_set_writer(struct srch *, srch_writer *write,
		    srch_keeper *keep, void *arg);
/* Terms whose postings with positions take at least `bytes` (base64; 0:
 * the default, 32 KB) keep their positions in a p/ file of their own, at
 * most 160 of them, largest first.  For tests and benchmarks. */
void		 srch_set_split(struct srch *, size_t bytes);
/* Terms whose raw postings take at least twice `bytes` (0: the default,
 * 256 bytes) are split: the docs of highest impact stay in the term shard
 * (a head of at least 24 docs that fits in `bytes`), the rest go to an r/
 * file.  SIZE_MAX: no splitting.  For tests and benchmarks. */
void		 srch_set_head(struct srch *, size_t bytes);
void		 srch_free(struct srch *);

#endif
