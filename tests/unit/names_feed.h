/*
 * names_feed.h - hands one UDP payload of a name protocol to names_udp() as
 * decode.c would (the unit tests of names.c and of the DHCPv6 reader).
 */
#ifndef TLSREADY_TEST_NAMES_FEED_H
#define TLSREADY_TEST_NAMES_FEED_H

#include <string.h>

#include "decode.h"
#include "names.h"

static inline void feed(struct names **t, struct name_counters *k, int64_t ts, uint16_t sport, uint16_t dport,
			const uint8_t *b, size_t n)
{
	struct packet p;
	memset(&p, 0, sizeof p);
	p.ts_us = ts;
	p.sport = sport;
	p.dport = dport;
	p.payload = b;
	p.payload_len = (uint32_t)n;
	p.udp_name = true;
	names_udp(t, 1, 2, &p, k);
}

#endif
