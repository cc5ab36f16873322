/*
 * fuzz_hostserver.c - libFuzzer harness for dissectors/hostserver.c.
 *
 * Input: see fuzz_split.h (a control byte splits the rest into the two
 * directions, fed in growing prefixes).  Probe, done and the name
 * helpers are exercised on the way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostserver.h"
#include "fuzz_split.h"

static void feed(void *state, int dir, const uint8_t *b, size_t n)
{
	struct hs_state *s = state;
	(void)hs_probe(b, n, dir);
	hs_consume(s, dir, b, n);
	(void)hs_done(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hs_state s;
	hs_init(&s);
	fuzz_split_feed(data, size, feed, &s);
	char v[16];
	(void)hs_server_service(s.server_id);
	(void)hs_outcome_name(s.outcome);
	(void)hs_vrm_string(s.server_vrm, v, sizeof v);
	if (s.n_req_ids > HS_MAX_IDS || s.n_rep_ids > HS_MAX_IDS || s.user[sizeof s.user - 1])
		abort();
	return 0;
}
