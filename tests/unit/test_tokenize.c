/*
 * test_tokenize: the shared tokenizer vectors (tests/search/vectors.txt)
 * against tok_text(), plus a few properties.
 *
 *   test_tokenize                 run the vectors
 *   test_tokenize --print < in    print "< line" / "> tokens" for each
 *                                 escaped input line (to extend the file)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "tokenize.h"
#include "util.h"

/* Decodes the vector escapes of line into out (bytes). */
static void
unescape(struct buf *out, const char *s)
{
	char hex[16];
	unsigned long v;
	size_t k;

	while (*s) {
		if (s[0] == '\\' && s[1] == '\\') {
			buf_putc(out, '\\');
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x') {
			memcpy(hex, s + 2, 2);
			hex[2] = '\0';
			buf_putc(out, (int)strtoul(hex, NULL, 16));
			s += 4;
		} else if (s[0] == '\\' && s[1] == 'u' && s[2] == '{') {
			k = strcspn(s + 3, "}");
			memcpy(hex, s + 3, k < 15 ? k : 15);
			hex[k < 15 ? k : 15] = '\0';
			v = strtoul(hex, NULL, 16);
			if (v < 0x80) {
				buf_putc(out, (int)v);
			} else if (v < 0x800) {
				buf_putc(out, (int)(0xc0 | v >> 6));
				buf_putc(out, (int)(0x80 | (v & 0x3f)));
			} else if (v < 0x10000) {
				buf_putc(out, (int)(0xe0 | v >> 12));
				buf_putc(out, (int)(0x80 | (v >> 6 & 0x3f)));
				buf_putc(out, (int)(0x80 | (v & 0x3f)));
			} else {
				buf_putc(out, (int)(0xf0 | v >> 18));
				buf_putc(out, (int)(0x80 | (v >> 12 & 0x3f)));
				buf_putc(out, (int)(0x80 | (v >> 6 & 0x3f)));
				buf_putc(out, (int)(0x80 | (v & 0x3f)));
			}
			s += 3 + k + 1;
		} else {
			buf_putc(out, *s++);
		}
	}
}

/* "term@pos term@pos" for the tokens of the escaped input. */
static void
render(struct buf *out, const char *escaped)
{
	struct buf in = BUF_INIT;
	struct tok_list l;
	size_t i;

	tok_list_init(&l);
	unescape(&in, escaped);
	tok_text(&l, in.ptr, in.len);
	for (i = 0; i < l.n; i++)
		buf_printf(out, "%s%s@%u", i ? " " : "", tok_term(&l, i),
		    l.v[i].pos);
	tok_list_release(&l);
	buf_release(&in);
}

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static int
print_mode(void)
{
	char line[4096];
	struct buf out = BUF_INIT;

	while (fgets(line, sizeof(line), stdin)) {
		chomp(line);
		buf_reset(&out);
		render(&out, line);
		printf("< %s\n> %s\n\n", line, out.ptr);
	}
	buf_release(&out);
	return 0;
}

static void
run_vectors(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096], input[4096] = "";
	struct buf out = BUF_INIT;
	int have = 0, cases = 0;

	OK(f != NULL, "cannot open '%s'", path);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		chomp(line);
		if (line[0] == '<' && line[1] == ' ') {
			snprintf(input, sizeof(input), "%s", line + 2);
			have = 1;
		} else if (line[0] == '>' && have) {
			buf_reset(&out);
			render(&out, input);
			STR_EQ(out.ptr, line[1] ? line + 2 : "", input);
			have = 0;
			cases++;
		}
	}
	fclose(f);
	OK(cases >= 20, "only %d vectors in '%s'", cases, path);
	buf_release(&out);
}

/* Properties not easily written as vectors. */
static void
properties(void)
{
	struct tok_list l;
	struct buf b = BUF_INIT;
	char junk[512];
	size_t i;
	unsigned seed = 12345;

	tok_list_init(&l);
	/* positions continue across calls, with the unit gap */
	tok_text(&l, "情報", strlen("情報"));
	tok_text(&l, "管理", strlen("管理"));
	INT_EQ(l.n, 4, "tokens of two calls");
	INT_EQ(l.v[2].pos, 3, "second call starts after the gap");
	/* random bytes never crash and give valid UTF-8 terms */
	for (i = 0; i < 2000; i++) {
		size_t k;

		for (k = 0; k < sizeof(junk); k++) {
			seed = seed * 1103515245u + 12345u;
			junk[k] = (char)(seed >> 16);
		}
		tok_list_reset(&l);
		tok_text(&l, junk, sizeof(junk));
	}
	OK(1, "random bytes");
	buf_reset(&b);
	tok_normalize(&b, "ＡＢＣ\xff", 10);
	STR_EQ(b.ptr, "abc\xef\xbf\xbd", "normalize replaces invalid bytes");
	tok_list_release(&l);
	buf_release(&b);
}

/* tok_sanitize: valid stretches unchanged, each bad sequence one U+FFFD
 * (a literal U+FFFD stays as it is), at the start, in the middle and at
 * the end, with and without a trailing NUL-free cut. */
static void
sanitize(void)
{
	static const struct {
		const char	*in; size_t len; const char *out; size_t olen;
	} v[] = {
		{ "", 0, "", 0 },
		{ "plain ascii", 11, "plain ascii", 11 },
		{ "\xe6\x97\xa5\xe6\x9c\xac 8.13", 10,
		    "\xe6\x97\xa5\xe6\x9c\xac 8.13", 10 },
		{ "\xff" "abc", 4, "\xef\xbf\xbd" "abc", 6 },
		{ "ab\xc3(cd", 6, "ab\xef\xbf\xbd(cd", 8 },
		{ "abc\xe6\x97", 5, "abc\xef\xbf\xbd", 6 },
		{ "x\xef\xbf\xbdy", 5, "x\xef\xbf\xbdy", 5 },
		{ "\xed\xa0\x80z", 4,
		    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz", 10 },
		{ "\xc0\xaf\xe3\x81\x82", 5,
		    "\xef\xbf\xbd\xef\xbf\xbd\xe3\x81\x82", 9 },
		{ "a\0b", 3, "a\0b", 3 },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct buf b = BUF_INIT;
		size_t want = v[i].olen;

		buf_putc(&b, '>');	/* appends, keeps what is there */
		tok_sanitize(&b, v[i].in, v[i].len);
		OK(b.len == want + 1 && b.ptr[0] == '>' &&
		    memcmp(b.ptr + 1, v[i].out, want) == 0,
		    "sanitize case %zu", i);
		buf_release(&b);
	}
}

/* tok_valid_len: the first byte tok_sanitize would change.  Random byte
 * strings biased towards UTF-8 (ASCII runs longer than eight bytes, kana,
 * kanji, the E0/ED/F0/F4 edges, stray continuation bytes, cut sequences):
 * what sanitize leaves of s starts with s[0..k), and at k (when k < n) it
 * put a U+FFFD where s has none. */
static void
valid_len(void)
{
	/* parts, and whether each is ill-formed on its own */
	static const struct { const char *p; int bad; } parts[] = {
		{ "abcdefghijk", 0 }, { "a", 0 }, { " 8.13 ", 0 },
		{ "\xe3\x81\x82", 0 }, { "\xe6\xbc\xa2", 0 }, { "\xef\xbf\xbd", 0 },
		{ "\xe0\xa0\x80", 0 }, { "\xed\x9f\xbf", 0 },
		{ "\xf0\x9f\x98\x80", 0 }, { "\xc3\xa9", 0 }, { "\xee\x80\x80", 0 },
		{ "\xe0\x80\x80", 1 }, { "\xed\xa0\x80", 1 },
		{ "\xf4\x90\x80\x80", 1 }, { "\x80", 1 }, { "\xff", 1 },
		{ "\xe3\x81", 1 }, { "\xc3", 1 }, { "\xec\xbf", 1 },
	};
	unsigned seed = 12345;
	int i, j, bad = 0, cases = 0, valid = 0;

	for (i = 0; i < 20000; i++) {
		char s[256];
		size_t n = 0, k, np = sizeof(parts) / sizeof(parts[0]);
		struct buf out = BUF_INIT;

		seed = seed * 1103515245u + 12345u;
		for (j = 0; j < 1 + (int)((seed >> 16) % 12); j++) {
			const char *p;

			seed = seed * 1103515245u + 12345u;
			k = (seed >> 16) % np;
			p = parts[k].p;
			/* mostly well-formed text, now and then a bad part */
			if (parts[k].bad && (seed >> 8) % 8 != 0)
				p = "xyz";
			memcpy(s + n, p, strlen(p));
			n += strlen(p);
		}
		k = tok_valid_len(s, n);
		tok_sanitize(&out, s, n);
		cases++;
		valid += k == n;
		if (k > n || out.len < k || memcmp(out.ptr, s, k) != 0)
			bad++;
		else if (k < n && (out.len < k + 3 ||
		    memcmp(out.ptr + k, "\xef\xbf\xbd", 3) != 0 ||
		    (n - k >= 3 && memcmp(s + k, "\xef\xbf\xbd", 3) == 0)))
			bad++;
		else if (k == n && (out.len != n || memcmp(out.ptr, s, n) != 0))
			bad++;
		buf_release(&out);
	}
	OK(bad == 0, "tok_valid_len agrees with tok_sanitize (%d of %d cases "
	    "wrong)", bad, cases);
	OK(valid > 2000 && valid < cases - 2000, "both valid and invalid "
	    "strings tried (%d valid of %d)", valid, cases);
	INT_EQ((int)tok_valid_len("abcdefghij\xffk", 12), 10,
	    "a bad byte after eight ASCII bytes");
	INT_EQ((int)tok_valid_len("\xe3\x81\x82\xe3\x81", 5), 3,
	    "a cut kana at the end");
	INT_EQ((int)tok_valid_len("\xed\xa0\x80", 3), 0, "a surrogate");
}

int
main(int argc, char **argv)
{
	const char *shared = "tests/search/vectors.txt";

	if (argc > 1 && strcmp(argv[1], "--print") == 0)
		return print_mode();
	run_vectors(argc > 1 ? argv[1] : shared);
	properties();
	sanitize();
	valid_len();
	return DONE();
}
