/*
 * test_fsum: the cache checksum (fsum.h).  What the caches rely on: the
 * sum of the same bytes is the same wherever they lie in memory, and a
 * torn, cut, lengthened or bit-flipped file gets another sum.  Fixed
 * values pin the definition (a change of it is a cache format change and
 * must bump the caches' magic lines).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fsum.h"
#include "harness.h"

static void
hex_of(const unsigned char d[FSUM_LEN], char out[2 * FSUM_LEN + 1])
{
	int i;

	for (i = 0; i < FSUM_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* A deterministic pseudo-random byte stream (xorshift). */
static void
fill(unsigned char *p, size_t n, uint64_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		p[i] = (unsigned char)(seed >> 24);
	}
}

static int
cmp16(const void *a, const void *b)
{
	return memcmp(a, b, FSUM_LEN);
}

int
main(void)
{
	unsigned char buf[300], copy[302], s0[FSUM_LEN], s1[FSUM_LEN];
	unsigned char *all;
	char hex[2 * FSUM_LEN + 1];
	size_t n, i, bit, same = 0, lanes = 0, N = 200000;

	/* pinned values: the empty input, a short text, a 100-byte text */
	fsum("", 0, s0);
	hex_of(s0, hex);
	STR_EQ(hex, "09fb32ca341ca1353ab53a9a78a2193f", "fsum of nothing");
	fsum("tebiki", 6, s0);
	hex_of(s0, hex);
	STR_EQ(hex, "2d58a267ba4ffa58515827f90cebdf02", "fsum of 'tebiki'");
	fill(buf, 100, 88172645463325252ull);
	fsum(buf, 100, s0);
	hex_of(s0, hex);
	STR_EQ(hex, "73cff486236cad1264751984a3cf3ffb", "fsum of 100 bytes");

	/* every length up to 300: the same sum at another address, a
	 * different one with any single bit flipped, with a zero byte
	 * added, with the last byte cut */
	fill(buf, sizeof(buf), 2463534242ull);
	for (n = 0; n <= sizeof(buf); n++) {
		fsum(buf, n, s0);
		memcpy(copy + 1, buf, n);
		fsum(copy + 1, n, s1);
		if (memcmp(s0, s1, FSUM_LEN) != 0)
			same++;
		for (bit = 0; bit < 8 * n; bit++) {
			copy[1 + bit / 8] ^= (unsigned char)(1u << (bit % 8));
			fsum(copy + 1, n, s1);
			copy[1 + bit / 8] ^= (unsigned char)(1u << (bit % 8));
			/* both halves change: neither is a weak copy of the
			 * other */
			if (memcmp(s0, s1, 8) == 0 ||
			    memcmp(s0 + 8, s1 + 8, 8) == 0)
				lanes++;
		}
		copy[1 + n] = 0;
		fsum(copy + 1, n + 1, s1);
		OK(memcmp(s0, s1, FSUM_LEN) != 0, "a zero byte added to %zu "
		    "bytes changes the sum", n);
		if (n > 0) {
			fsum(buf, n - 1, s1);
			OK(memcmp(s0, s1, FSUM_LEN) != 0, "cutting %zu bytes "
			    "by one changes the sum", n);
		}
	}
	INT_EQ(same, 0, "the same bytes at another address: the same sum");
	INT_EQ(lanes, 0, "single bit flips that leave a half unchanged");

	/* no two of 200,000 different short inputs share a sum (a counter
	 * in 8 bytes, then 1-40 bytes of zeros: the inputs differ little) */
	all = malloc(N * FSUM_LEN);
	OK(all != NULL, "memory");
	if (all) {
		for (i = 0; i < N; i++) {
			unsigned char in[48];
			uint64_t k = i;

			memset(in, 0, sizeof(in));
			memcpy(in, &k, 8);
			fsum(in, 8 + i % 40, all + i * FSUM_LEN);
		}
		qsort(all, N, FSUM_LEN, cmp16);
		for (i = 1, same = 0; i < N; i++)
			if (memcmp(all + (i - 1) * FSUM_LEN, all + i * FSUM_LEN,
			    8) == 0)
				same++;
		INT_EQ(same, 0, "200,000 near inputs: equal first halves");
		free(all);
	}
	return DONE();
}
