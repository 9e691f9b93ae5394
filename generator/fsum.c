/*
 * fsum: see fsum.h.  Four 64-bit lanes each take every fourth word of a
 * 32-byte stripe: the word is added, the lane multiplied by an odd constant
 * and folded (x ^= x >> 29), which spreads every input bit over the lane's
 * high bits and brings them back down.  The lanes are independent, so the
 * CPU works on four multiplications at once.  The last partial stripe is
 * padded with zeros and the length goes into the final mix, so inputs that
 * differ only in trailing zero bytes still differ.  The two output words
 * each mix all four lanes in a different order.
 */
#include <stdint.h>
#include <string.h>

#include "fsum.h"

#define M0	0x9e3779b97f4a7c15ull	/* odd constants with mixed bits */
#define M1	0xd6e8feb86659fd93ull
#define M2	0xa0761d6478bd642full
#define M3	0xe7037ed1a0b428dbull

static uint64_t
word(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
}

static uint64_t
step(uint64_t lane, uint64_t w, uint64_t m)
{
	lane = (lane + w) * m;
	return lane ^ (lane >> 29);
}

/* Spreads every bit of x over the whole word. */
static uint64_t
fold(uint64_t x)
{
	x ^= x >> 31;
	x *= M1;
	x ^= x >> 27;
	x *= M2;
	return x ^ (x >> 33);
}

static void
put64(unsigned char *o, uint64_t x)
{
	int i;

	for (i = 0; i < 8; i++)
		o[i] = (unsigned char)(x >> (8 * i));
}

void
fsum(const void *data, size_t n, unsigned char out[FSUM_LEN])
{
	const unsigned char *p = data;
	unsigned char last[32];
	uint64_t a = M0, b = M1, c = M2, d = M3, x, y;
	size_t left = n;

	while (left >= 32) {
		a = step(a, word(p), M0);
		b = step(b, word(p + 8), M1);
		c = step(c, word(p + 16), M2);
		d = step(d, word(p + 24), M3);
		p += 32;
		left -= 32;
	}
	if (left > 0) {
		memset(last, 0, sizeof(last));
		memcpy(last, p, left);
		a = step(a, word(last), M0);
		b = step(b, word(last + 8), M1);
		c = step(c, word(last + 16), M2);
		d = step(d, word(last + 24), M3);
	}
	x = fold(a ^ fold(b + (uint64_t)n) ^ fold(c * M3) ^ fold(d + M0));
	y = fold(d ^ fold(c + (uint64_t)n * M1) ^ fold(b * M2) ^ fold(a + M3));
	put64(out, x);
	put64(out + 8, y);
}
