/*
 * sha256: FIPS 180-4 SHA-256.  Blocks go through the x86 SHA extensions when
 * the CPU has them (checked once with cpuid), else through the portable
 * code below; both give the same digests (tests/unit/test_sha256.c).
 */
#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_X86_SHA 1
#endif

#include "sha256.h"

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b,
	0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
	0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
	0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152,
	0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
	0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
	0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
	0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
block(uint32_t *hs, const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[i * 4] << 24 | (uint32_t)p[i * 4 + 1] << 16 |
		    (uint32_t)p[i * 4 + 2] << 8 | p[i * 4 + 3];
	for (i = 16; i < 64; i++)
		w[i] = (ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^
		    (w[i - 2] >> 10)) + w[i - 7] + (ROR(w[i - 15], 7) ^
		    ROR(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 16];
	a = hs[0]; b = hs[1]; c = hs[2]; d = hs[3];
	e = hs[4]; f = hs[5]; g = hs[6]; h = hs[7];
	for (i = 0; i < 64; i++) {
		t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) +
		    ((e & f) ^ (~e & g)) + K[i] + w[i];
		t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
		    ((a & b) ^ (a & c) ^ (b & c));
		h = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	hs[0] += a; hs[1] += b; hs[2] += c; hs[3] += d;
	hs[4] += e; hs[5] += f; hs[6] += g; hs[7] += h;
}

static void
blocks_portable(uint32_t h[8], const unsigned char *p, size_t n)
{
	for (; n > 0; n--, p += 64)
		block(h, p);
}

#ifdef HAVE_X86_SHA
/* Four rounds per step: the state is kept as ABEF and CDGH, the message
 * schedule as four vectors of four words. */
__attribute__((target("sha,sse4.1,ssse3")))
static void
blocks_x86(uint32_t h[8], const unsigned char *p, size_t n)
{
	const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
	    0x0405060700010203ULL);
	__m128i s0, s1, t, save0, save1, m[4], k;
	int g;

	t = _mm_loadu_si128((const __m128i *)&h[0]);		/* DCBA */
	s1 = _mm_loadu_si128((const __m128i *)&h[4]);		/* HGFE */
	t = _mm_shuffle_epi32(t, 0xb1);				/* CDAB */
	s1 = _mm_shuffle_epi32(s1, 0x1b);			/* EFGH */
	s0 = _mm_alignr_epi8(t, s1, 8);				/* ABEF */
	s1 = _mm_blend_epi16(s1, t, 0xf0);			/* CDGH */
	for (; n > 0; n--, p += 64) {
		save0 = s0;
		save1 = s1;
		for (g = 0; g < 16; g++) {
			__m128i *w = &m[g & 3];

			if (g < 4) {
				*w = _mm_shuffle_epi8(_mm_loadu_si128(
				    (const __m128i *)(p + 16 * g)), swap);
			} else {
				/* w[t] = s1(w[t-2]) + w[t-7] + s0(w[t-15]) +
				 * w[t-16], four at a time */
				t = _mm_sha256msg1_epu32(*w, m[(g + 1) & 3]);
				t = _mm_add_epi32(t, _mm_alignr_epi8(
				    m[(g + 3) & 3], m[(g + 2) & 3], 4));
				*w = _mm_sha256msg2_epu32(t, m[(g + 3) & 3]);
			}
			k = _mm_loadu_si128((const __m128i *)&K[4 * g]);
			t = _mm_add_epi32(*w, k);
			s1 = _mm_sha256rnds2_epu32(s1, s0, t);
			t = _mm_shuffle_epi32(t, 0x0e);
			s0 = _mm_sha256rnds2_epu32(s0, s1, t);
		}
		s0 = _mm_add_epi32(s0, save0);
		s1 = _mm_add_epi32(s1, save1);
	}
	t = _mm_shuffle_epi32(s0, 0x1b);			/* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xb1);			/* DCHG */
	s0 = _mm_blend_epi16(t, s1, 0xf0);			/* DCBA */
	s1 = _mm_alignr_epi8(s1, t, 8);				/* HGFE */
	_mm_storeu_si128((__m128i *)&h[0], s0);
	_mm_storeu_si128((__m128i *)&h[4], s1);
}
#endif

static void (*blocks_fn)(uint32_t *, const unsigned char *, size_t) =
    blocks_portable;
static pthread_once_t pick_once = PTHREAD_ONCE_INIT;

static void
pick(void)
{
#ifdef HAVE_X86_SHA
	unsigned int a, b, c, d;

	if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_1) &&
	    (c & bit_SSSE3) && __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
	    (b & bit_SHA))
		blocks_fn = blocks_x86;
#endif
}

/* See sha256.h. */
int
sha256_accel(int enable)
{
	pthread_once(&pick_once, pick);
	if (enable)
		pick();
	else
		blocks_fn = blocks_portable;
	return blocks_fn != blocks_portable;
}

static void
blocks(uint32_t h[8], const unsigned char *p, size_t n)
{
	pthread_once(&pick_once, pick);
	blocks_fn(h, p, n);
}

void
sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
	};

	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
	s->n = 0;
}

void
sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t take;

	s->len += len;
	if (s->n > 0) {
		take = 64 - s->n;
		if (take > len)
			take = len;
		memcpy(s->blk + s->n, p, take);
		s->n += take;
		p += take;
		len -= take;
		if (s->n < 64)
			return;
		blocks(s->h, s->blk, 1);
		s->n = 0;
	}
	if (len >= 64) {
		blocks(s->h, p, len / 64);
		p += len / 64 * 64;
		len %= 64;
	}
	memcpy(s->blk, p, len);
	s->n = len;
}

void
sha256_final(struct sha256 *s, unsigned char out[32])
{
	uint64_t bits = s->len * 8;
	unsigned char pad = 0x80, zero = 0, lenb[8];
	int i;

	sha256_update(s, &pad, 1);
	while (s->n != 56)
		sha256_update(s, &zero, 1);
	for (i = 0; i < 8; i++)
		lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(s, lenb, 8);
	for (i = 0; i < 8; i++) {
		out[i * 4] = (unsigned char)(s->h[i] >> 24);
		out[i * 4 + 1] = (unsigned char)(s->h[i] >> 16);
		out[i * 4 + 2] = (unsigned char)(s->h[i] >> 8);
		out[i * 4 + 3] = (unsigned char)s->h[i];
	}
}

void
sha256_sum(const void *p, size_t n, unsigned char out[32])
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, p, n);
	sha256_final(&s, out);
}

void
sha256_hex(const void *p, size_t n, char hex[65])
{
	unsigned char d[32];
	int i;

	sha256_sum(p, n, d);
	for (i = 0; i < 32; i++) {
		hex[i * 2] = "0123456789abcdef"[d[i] >> 4];
		hex[i * 2 + 1] = "0123456789abcdef"[d[i] & 15];
	}
	hex[64] = '\0';
}
