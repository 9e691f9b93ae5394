/*
 * test_sha256: FIPS 180-4 vectors, then the CPU's SHA instructions (when
 * there) against the portable code on many lengths, split into updates of
 * many sizes.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sha256.h"

static void
hex_of(const unsigned char d[32], char out[65])
{
	int i;

	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* digest of buf fed in pieces of `step` bytes (0: one call) */
static void
digest(const unsigned char *buf, size_t n, size_t step, char out[65])
{
	struct sha256 s;
	unsigned char d[32];
	size_t i, k;

	sha256_init(&s);
	if (step == 0) {
		sha256_update(&s, buf, n);
	} else {
		for (i = 0; i < n; i += k) {
			k = n - i < step ? n - i : step;
			sha256_update(&s, buf + i, k);
		}
	}
	sha256_final(&s, d);
	hex_of(d, out);
}

static void
vectors(const char *impl)
{
	static const char *const msg[] = {
		"", "abc",
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	};
	static const char *const want[] = {
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	};
	char hex[65], what[96];
	unsigned char *a = malloc(1000000);
	size_t i;

	for (i = 0; i < 3; i++) {
		sha256_hex(msg[i], strlen(msg[i]), hex);
		snprintf(what, sizeof(what), "%s: vector %zu", impl, i);
		STR_EQ(hex, want[i], what);
	}
	memset(a, 'a', 1000000);
	digest(a, 1000000, 0, hex);
	snprintf(what, sizeof(what), "%s: a million 'a'", impl);
	STR_EQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	    what);
	digest(a, 1000000, 7, hex);
	snprintf(what, sizeof(what), "%s: a million 'a' in 7-byte pieces", impl);
	STR_EQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	    what);
	free(a);
}

int
main(void)
{
	static const size_t steps[] = { 0, 1, 3, 63, 64, 65, 200 };
	enum { N = 70000 };
	unsigned char *buf = malloc(N);
	char fast[65], slow[65];
	unsigned int x = 12345;
	size_t i, len, si, bad = 0, tried = 0;
	int accel;

	for (i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	accel = sha256_accel(1);
	printf("# SHA instructions: %s\n", accel ? "used" : "not available");
	vectors(accel ? "accelerated" : "portable");
	(void)sha256_accel(0);
	vectors("portable");
	for (len = 0; len <= N; len = len < 300 ? len + 1 : len * 3 + 17) {
		for (si = 0; si < sizeof(steps) / sizeof(steps[0]); si++) {
			(void)sha256_accel(1);
			digest(buf, len, steps[si], fast);
			(void)sha256_accel(0);
			digest(buf, len, steps[si], slow);
			tried++;
			if (strcmp(fast, slow) != 0 && bad++ < 5)
				fprintf(stderr, "differ: len %zu step %zu\n",
				    len, steps[si]);
		}
	}
	INT_EQ(bad, 0, "accelerated and portable digests agree");
	OK(tried > 2000, "lengths tried: %zu", tried);
	free(buf);
	return DONE();
}
