/*
 * test_search_norm: the tokenizer's normalization shortcut (code points
 * that NFKC and lowercasing leave alone skip utf8proc) gives exactly what
 * the full path gives, on random mixes of safe code points and ones that
 * normalize, compose or are invalid UTF-8.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "tokenize.h"

/* Pieces: safe ones and ones that change, compose or decompose. */
static const char *const piece[] = {
	"a", "Z", "7", ".", " ", "\n", "情", "報", "か", "ぱ", "ア", "ー", "ヴ",
	"、", "。", "「", "々",
	"\xcc\x81",		/* U+0301 combining acute */
	"\xe3\x82\x99",		/* U+3099 combining voiced mark */
	"\xe3\x82\x9a",		/* U+309A */
	"\xe3\x82\x9b",		/* U+309B ゛ */
	"\xe3\x82\x9f",		/* U+309F ゟ */
	"\xe3\x83\xbf",		/* U+30FF ヿ */
	"\xef\xbd\xb6",		/* U+FF76 ｶ */
	"\xef\xbe\x9e",		/* U+FF9E ﾞ */
	"\xef\xbc\xa1",		/* U+FF21 Ａ */
	"\xc4\xb0",		/* U+0130 İ */
	"\xce\xa3",		/* U+03A3 Σ */
	"\xe2\x91\xa0",		/* U+2460 ① */
	"\xe3\x8d\xbb",		/* U+337B ㍻ */
	"\xea\xb0\x80",		/* U+AC00 가 */
	"\xe1\x86\xa8",		/* U+11A8 Hangul T */
	"\xe1\x84\x80",		/* U+1100 Hangul L */
	"\xe1\x85\xa1",		/* U+1161 Hangul V */
	"\xef\xa4\x80",		/* U+F900 compatibility ideograph */
	"\xff", "\xe3\x81", "\xed\xa0\x80", "\xc3",	/* invalid */
	"\xc3\xa9",		/* é */
	"E",
};

int
main(void)
{
	unsigned seed = 12345;
	struct buf in = BUF_INIT, fast = BUF_INIT, full = BUF_INIT;
	size_t npiece = sizeof(piece) / sizeof(*piece);
	int i, k, n, same = 0, runs = 20000;

	for (i = 0; i < runs; i++) {
		buf_reset(&in);
		n = 1 + (int)(seed % 12);
		for (k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			buf_puts(&in, piece[(seed >> 16) % npiece]);
		}
		buf_reset(&fast);
		buf_reset(&full);
		tok_normalize(&fast, in.ptr, in.len);
		tok_normalize_full(&full, in.ptr, in.len);
		if (fast.len == full.len &&
		    memcmp(fast.ptr, full.ptr, fast.len) == 0)
			same++;
		else if (same + 5 > i)
			fprintf(stderr, "differs: '%s' -> '%s' vs '%s'\n",
			    in.ptr, fast.ptr, full.ptr);
	}
	INT_EQ(same, runs, "shortcut equals the full normalization");
	/* a long safe text and one with a combining mark at the end */
	buf_reset(&in);
	for (k = 0; k < 1000; k++)
		buf_puts(&in, "情報セキュリティABCを確認する。");
	buf_puts(&in, "か\xe3\x82\x99");
	buf_reset(&fast);
	buf_reset(&full);
	tok_normalize(&fast, in.ptr, in.len);
	tok_normalize_full(&full, in.ptr, in.len);
	OK(fast.len == full.len && memcmp(fast.ptr, full.ptr, fast.len) == 0,
	    "long text, composition at the end");
	OK(strstr(fast.ptr, "が") != NULL && strstr(fast.ptr, "abc") != NULL,
	    "composed and lowercased");
	buf_release(&in);
	buf_release(&fast);
	buf_release(&full);
	return DONE();
}
