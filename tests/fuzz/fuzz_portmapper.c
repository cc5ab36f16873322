/*
 * fuzz_portmapper.c - libFuzzer harness for dissectors/portmapper.c.
 *
 * Input: see fuzz_split.h (a control byte splits the rest into the two
 * directions, fed in growing prefixes).  Probe, done and the name
 * helpers are exercised on the way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portmapper.h"
#include "fuzz_split.h"

static void feed(void *state, int dir, const uint8_t *b, size_t n)
{
	struct pm_state *s = state;
	(void)pm_probe(b, n, dir);
	pm_consume(s, dir, b, n);
	(void)pm_done(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pm_state s;
	memset(&s, 0, sizeof s);
	fuzz_split_feed(data, size, feed, &s);
	if (s.requested[sizeof s.requested - 1] || s.service[sizeof s.service - 1])
		abort();
	if (s.reply_ok && (s.port == 0 || s.port > 65535))
		abort();
	return 0;
}
