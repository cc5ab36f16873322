/*
 * fuzz_split.h - the input plan shared by the IBM i dissector harnesses.
 *
 * Input: a control byte, then bytes.  The control byte splits the rest into
 * the client and server directions (client = the first c*n/255 bytes) and
 * seeds the step sizes; growing prefixes of each direction are then handed
 * to feed() alternately, each in an exact-size heap copy so ASan sees any
 * read past `len` (the dissector contract of dissectors/dissector.h).
 */
#ifndef TLSREADY_FUZZ_SPLIT_H
#define TLSREADY_FUZZ_SPLIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef void (*fuzz_feed_fn)(void *state, int dir, const uint8_t *buf, size_t len);

static inline void fuzz_split_feed(const uint8_t *data, size_t size, fuzz_feed_fn feed, void *state)
{
	if (size < 1)
		return;
	uint32_t rnd = data[0] * 2654435761u + 1;
	size_t n = size - 1, split = (size_t)data[0] * n / 255;
	const uint8_t *dir_b[2] = { data + 1, data + 1 + split };
	size_t dir_n[2] = { split, n - split }, have[2] = { 0, 0 };
	while (have[0] < dir_n[0] || have[1] < dir_n[1]) {
		for (int d = 0; d < 2; d++) {
			if (have[d] == dir_n[d])
				continue;
			rnd = rnd * 1103515245u + 12345u;
			size_t step = 1 + (rnd >> 16) % 24;
			have[d] = have[d] + step > dir_n[d] ? dir_n[d] : have[d] + step;
			uint8_t *copy = malloc(have[d] ? have[d] : 1);
			if (!copy)
				return;
			memcpy(copy, dir_b[d], have[d]);
			feed(state, d, copy, have[d]);
			free(copy);
		}
	}
}

#endif
