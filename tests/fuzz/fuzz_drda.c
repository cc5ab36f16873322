/*
 * fuzz_drda.c - libFuzzer harness for dissectors/drda.c.
 *
 * Input: a control byte, then bytes.  The control byte splits the rest into
 * the client and server directions (client = the first c*n/255 bytes) and
 * seeds the step sizes; growing prefixes of each direction are then fed
 * alternately, each in an exact-size copy so ASan sees any read past `len`.
 * Probe, done and the name helpers are exercised on the way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drda.h"

static void feed(struct drda_state *s, int dir, const uint8_t *b, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return;
	memcpy(copy, b, n);
	(void)drda_probe(copy, n, dir);
	drda_consume(s, dir, copy, n);
	(void)drda_done(s);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint32_t rnd = data[0] * 2654435761u + 1;
	size_t n = size - 1, split = (size_t)data[0] * n / 255;
	const uint8_t *dir_b[2] = { data + 1, data + 1 + split };
	size_t dir_n[2] = { split, n - split }, have[2] = { 0, 0 };
	struct drda_state s;
	memset(&s, 0, sizeof s);
	while (have[0] < dir_n[0] || have[1] < dir_n[1]) {
		for (int d = 0; d < 2; d++) {
			if (have[d] == dir_n[d])
				continue;
			rnd = rnd * 1103515245u + 12345u;
			size_t step = 1 + (rnd >> 16) % 24;
			have[d] = have[d] + step > dir_n[d] ? dir_n[d] : have[d] + step;
			feed(&s, d, dir_b[d], have[d]);
		}
	}
	if (s.extnam[sizeof s.extnam - 1] || s.user[sizeof s.user - 1] || s.prdid[sizeof s.prdid - 1] ||
	    s.off[0] > dir_n[0] || s.off[1] > dir_n[1])
		abort();
	return 0;
}
