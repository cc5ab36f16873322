/*
 * fuzz_drda.c - libFuzzer harness for dissectors/drda.c.
 *
 * Input: see fuzz_split.h (a control byte splits the rest into the two
 * directions, fed in growing prefixes).  Probe, done and the name
 * helpers are exercised on the way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drda.h"
#include "fuzz_split.h"

static void feed(void *state, int dir, const uint8_t *b, size_t n)
{
	struct drda_state *s = state;
	(void)drda_probe(b, n, dir);
	drda_consume(s, dir, b, n);
	(void)drda_done(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct drda_state s;
	memset(&s, 0, sizeof s);
	fuzz_split_feed(data, size, feed, &s);
	if (s.extnam[sizeof s.extnam - 1] || s.user[sizeof s.user - 1] || s.prdid[sizeof s.prdid - 1] ||
	    s.off[0] > size || s.off[1] > size)
		abort();
	return 0;
}
