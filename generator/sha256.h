/*
 * sha256: FIPS 180-4 SHA-256, for the output manifest and content hashes.
 */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t	h[8];
	uint64_t	len;		/* bytes so far */
	unsigned char	blk[64];
	size_t		n;		/* bytes in blk */
};

void	sha256_init(struct sha256 *);
void	sha256_update(struct sha256 *, const void *, size_t);
void	sha256_final(struct sha256 *, unsigned char out[32]);
/* 1 when blocks go through the CPU's SHA instructions.  For tests only,
 * with no other thread hashing: sha256_accel(0) switches to the portable
 * code, sha256_accel(1) back to the fastest the CPU has. */
int	sha256_accel(int enable);
/* Digest of a buffer into out[32]. */
void	sha256_sum(const void *, size_t, unsigned char out[32]);
/* Hex digest of a buffer into hex[65]. */
void	sha256_hex(const void *, size_t, char hex[65]);

#endif
