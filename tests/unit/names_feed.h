/*
 * names_feed.h - hands one UDP payload of a name protocol to names_udp() as
 * decode.c would, and lays out a DHCPv4 message by hand (the unit tests of
 * names.c, of the DHCPv6 reader and of DHCP/DHCPv6 host linking).
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

/* A DHCP message (RFC 2131 figure 1): op, htype 1, hlen 6, xid, ciaddr, yiaddr, chaddr, the magic
 * cookie 99.130.83.99, then options. */
static inline size_t dhcp_msg(uint8_t *b, uint8_t op, uint8_t type, const uint8_t mac[6], const uint8_t ci[4],
		       const uint8_t yi[4], uint32_t lease, const char *host, const uint8_t *cid, size_t cid_len)
{
	memset(b, 0, 240);
	b[0] = op, b[1] = 1, b[2] = 6;
	b[4] = 0x39, b[5] = 0x03, b[6] = 0xF3, b[7] = 0x26;
	memcpy(b + 12, ci, 4);
	memcpy(b + 16, yi, 4);
	memcpy(b + 28, mac, 6);
	b[236] = 99, b[237] = 130, b[238] = 83, b[239] = 99;
	size_t o = 240;
	b[o++] = 53, b[o++] = 1, b[o++] = type;
	if (lease) {
		b[o++] = 51, b[o++] = 4;
		b[o++] = (uint8_t)(lease >> 24), b[o++] = (uint8_t)(lease >> 16), b[o++] = (uint8_t)(lease >> 8),
		b[o++] = (uint8_t)lease;
	}
	if (host) {
		b[o++] = 12, b[o++] = (uint8_t)strlen(host);
		memcpy(b + o, host, strlen(host));
		o += strlen(host);
	}
	if (cid) {
		b[o++] = 61, b[o++] = (uint8_t)cid_len;
		memcpy(b + o, cid, cid_len);
		o += cid_len;
	}
	b[o++] = 255;
	return o;
}

#endif
