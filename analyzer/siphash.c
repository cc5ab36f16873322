/*
 * siphash.c - SipHash (Aumasson and Bernstein, 2012), written from the
 * paper's description, in its 1-3 variant (one compression round per block,
 * three finalisation rounds: the variant Rust and Python use for their hash
 * tables), fast enough for a per-packet flow lookup and still keyed against
 * hash flooding.  Input bytes are read little-endian, 8 at a time.
 */
#include "siphash.h"

#include <string.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                    \
	do {                                                        \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;              \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;              \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

/* One unaligned 8-byte load (memcpy), byte-swapped on big-endian hosts:
 * a byte-at-a-time loop here cost ~30 instructions per block. */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

uint64_t siphash13(const void *data, size_t len, uint64_t k0, uint64_t k1)
{
	const uint8_t *in = data;
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	size_t blocks = len / 8;
	for (size_t i = 0; i < blocks; i++) {
		uint64_t m = load_le64(in + 8 * i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	const uint8_t *t = in + 8 * blocks;
	uint64_t b = (uint64_t)len << 56;
	switch (len % 8) {   /* the last 0-7 bytes, little-endian, without a copy */
	case 7: b |= (uint64_t)t[6] << 48; /* fall through */
	case 6: b |= (uint64_t)t[5] << 40; /* fall through */
	case 5: b |= (uint64_t)t[4] << 32; /* fall through */
	case 4: b |= (uint64_t)t[3] << 24; /* fall through */
	case 3: b |= (uint64_t)t[2] << 16; /* fall through */
	case 2: b |= (uint64_t)t[1] << 8;  /* fall through */
	case 1: b |= (uint64_t)t[0];       /* fall through */
	default: break;
	}
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}
