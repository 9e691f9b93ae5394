/*
 * fsum: a fast 128-bit checksum for tebiki's own cache files.
 *
 * The caches in .tebiki-cache/ end with a checksum of their bytes so that
 * a torn, truncated or mixed file is treated as empty, and a build compares
 * a file's new checksum with the old one to leave an unchanged file alone.
 * Neither needs a cryptographic hash: nobody chooses the bytes to collide
 * (whoever can write the cache can write the output), and an accidental
 * match of 128 bits does not happen.  SHA-256 of a 10,000-page site's
 * render cache (120 MB) took 75 ms of CPU per rebuild; this takes a tenth.
 * Output files and content keys stay SHA-256 (sha256.h).
 *
 * Defined on bytes, the same on every machine: eight bytes are read as a
 * little-endian number.
 */
#ifndef FSUM_H
#define FSUM_H

#include <stddef.h>

#define FSUM_LEN	16

void	fsum(const void *, size_t, unsigned char out[FSUM_LEN]);

#endif
