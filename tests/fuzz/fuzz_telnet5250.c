/*
 * fuzz_telnet5250.c - libFuzzer harness for dissectors/telnet5250.c.
 *
 * Input: see fuzz_split.h (a control byte splits the rest into the two
 * directions, fed in growing prefixes).  Probe, done and the name
 * helpers are exercised on the way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "telnet5250.h"
#include "fuzz_split.h"

static void feed(void *state, int dir, const uint8_t *b, size_t n)
{
	struct tn_state *s = state;
	(void)tn_probe(b, n, dir);
	tn_consume(s, dir, b, n);
	(void)tn_done(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tn_state s;
	memset(&s, 0, sizeof s);
	fuzz_split_feed(data, size, feed, &s);
	(void)tn_kind_name(s.kind);
	if (s.terminal_type[sizeof s.terminal_type - 1] || s.user[sizeof s.user - 1] ||
	    s.startup_code[sizeof s.startup_code - 1] || s.off[0] > size || s.off[1] > size)
		abort();
	return 0;
}
