/*
 * tokenize: the search tokenizer, specified once here and mirrored exactly
 * by themes/default/assets/search.js (shared vectors: tests/search/vectors.txt).
 *
 *   1. Invalid UTF-8 is replaced by U+FFFD; then NFKC; then simple lowercase
 *      per code point (U+0130 -> 'i', U+03A3 -> U+03C3: the parity table
 *      with JS normalize('NFKC').toLowerCase()).
 *   2. CJK runs (Han incl. 々 〆 〇 〻, Hiragana, Katakana, ー) give
 *      overlapping bigrams at positions p .. p+n-2 and a run-final unigram
 *      at p+n-1 (a run of one character gives just the unigram at p).
 *   3. Other letters/digits (with following marks) form words; words joined
 *      by single . - _ / form identifiers, emitted whole and by parts at one
 *      position; control-id-shaped identifiers (8.13, a.5.1: a letter or
 *      number, then numbers, joined by '.') are emitted whole plus their
 *      hierarchical prefixes (a.5), never as bare parts.  Terms longer than
 *      TOK_MAX_CP code points are dropped.
 *   4. Every unit (CJK run, identifier) is followed by a one-position gap,
 *      so adjacency never spans two runs.
 */
#ifndef TOKENIZE_H
#define TOKENIZE_H

#include <stddef.h>

#include "buf.h"

#define TOK_MAX_CP	40	/* longest Latin term kept, in code points */

struct tok_token {
	size_t		 off;	/* term bytes at list->terms.ptr + off */
	size_t		 len;
	unsigned	 pos;	/* position in the field */
};

struct tok_list {
	struct tok_token *v;
	size_t		  n, cap;
	struct buf	  terms;	/* term bytes, NUL-separated */
	unsigned	  pos;		/* next position */
};

void	 tok_list_init(struct tok_list *);
void	 tok_list_release(struct tok_list *);
/* Forgets the tokens and restarts positions at 0 (keeps memory). */
void	 tok_list_reset(struct tok_list *);
/* Tokenizes `len` bytes of s, appending to l; positions continue from
 * l->pos.  Never fails (invalid UTF-8 is replaced). */
void	 tok_text(struct tok_list *l, const char *s, size_t len);
/* Term bytes of token i (NUL-terminated, borrowed from l). */
const char *tok_term(const struct tok_list *l, size_t i);
/* Appends s with invalid UTF-8 replaced by U+FFFD to out. */
void	 tok_sanitize(struct buf *out, const char *s, size_t len);
/* The length of the longest prefix of s[0..len) that tok_sanitize leaves
 * as it is (len when s is valid UTF-8). */
size_t	 tok_valid_len(const char *s, size_t len);
/* Appends the normalized form (sanitized, NFKC, lowercased) to out.
 * Code points that normalization leaves alone (ASCII, common kana, kanji
 * and CJK punctuation) skip utf8proc; tok_normalize_full is the same
 * without that shortcut (the reference the tests compare with). */
void	 tok_normalize(struct buf *out, const char *s, size_t len);
void	 tok_normalize_full(struct buf *out, const char *s, size_t len);
/* 1 when code point c belongs to a CJK run. */
int	 tok_is_cjk(long c);

#endif
