/*
 * test_dhcp6_relay.c - DHCPv6 relay messages and the other IA kinds, from
 * bytes laid out here by hand from RFC 8415: Relay-Forward / Relay-Reply
 * (section 9: msg-type, hop-count, link-address, peer-address, options;
 * Relay Message option 9, 21.10; Interface-Id option 18, 21.18) around a
 * Reply, cut at every byte; relays nested up to HOP_COUNT_LIMIT (7.6: 8)
 * and one past it, also cut at every byte; a Relay-Forward carrying a
 * server's message; IA_TA (21.5) whose address is a lease like IA_NA's;
 * IA_PD (21.21) with an IA Prefix (21.22): counted, never a host address.
 */
#include "testutil.h"
#include "names_feed.h"

#include <stdio.h>
#include <stdlib.h>

#include "decode.h"
#include "dhcp6.h"
#include "names.h"

#define S 1000000LL

#include "dhcp6_bytes.h"   /* duid, ip50, the Reply of test_dhcp6.c (103 bytes) */

/* A Solicit (1): Client Identifier, an empty IA_NA: 4 + 18 + 16 = 38 bytes. */
static const uint8_t solicit[] = {
	0x01, 0xab, 0xcd, 0xef,
	0x00, 0x01, 0x00, 0x0e, 0x00, 0x01, 0x00, 0x01, 0x2a, 0x2b, 0x2c, 0x2d, 0x02, 0, 0, 0, 0, 0x0a,
	0x00, 0x03, 0x00, 0x0c, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* The Relay-Reply (13) a relay gets back for that Reply: hop-count 0, link-address 2001:db8:1::1 (the
 * relay's address on the client's link), peer-address fe80::a (the client), Interface-Id (18, 4 bytes
 * "eth0"), Relay Message (9, 103 bytes: the Reply).  34 + 8 + 4 + 103 = 149 bytes. */
static uint8_t relay_reply[149];
static const uint8_t relay_head[] = {
	0x0d, 0x00,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a,
	0x00, 0x12, 0x00, 0x04, 'e', 't', 'h', '0',
	0x00, 0x09, 0x00, 0x67,
};

static void make_relay_reply(void)
{
	_Static_assert(sizeof relay_head + sizeof reply == sizeof relay_reply, "149 bytes");
	memcpy(relay_reply, relay_head, sizeof relay_head);
	memcpy(relay_reply + sizeof relay_head, reply, sizeof reply);
}

/* One relay layer (RFC 8415 9.1) of `type` around in[0..n): hop-count, link-address 2001:db8:<hop>::1,
 * peer-address fe80::a, Relay Message option; 38 bytes more. */
static size_t wrap(uint8_t *out, uint8_t type, uint8_t hop, const uint8_t *in, size_t n)
{
	memmove(out + 38, in, n);             /* first: in may be out */
	size_t o = 0;
	out[o++] = type;
	out[o++] = hop;
	static const uint8_t link[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
	memcpy(out + o, link, 16);
	out[o + 5] = hop;
	o += 16;
	static const uint8_t peer[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a };
	memcpy(out + o, peer, 16);
	o += 16;
	out[o++] = 0x00, out[o++] = 0x09, out[o++] = (uint8_t)(n >> 8), out[o++] = (uint8_t)n;
	return o + n;
}

static void test_relay_reply(void **st)
{
	(void)st;
	make_relay_reply();
	struct dhcp6_msg m;
	assert_true(dhcp6_parse(relay_reply, sizeof relay_reply, &m));
	assert_int_equal(m.type, DHCP6_REPLY);     /* the inner message, as if seen directly */
	assert_int_equal(m.relays, 1);
	assert_false(m.relay_cut);
	assert_false(m.options_cut);
	assert_memory_equal(m.relay_link, relay_head + 2, 16);
	assert_memory_equal(m.relay_peer, relay_head + 18, 16);
	assert_int_equal(m.duid_len, 14);
	assert_memory_equal(m.duid, duid, 14);
	assert_int_equal(m.n_addr, 1);
	assert_memory_equal(m.addr[0].ip, ip50, 16);
	assert_int_equal(m.addr[0].valid_s, 7200);
	assert_string_equal(m.fqdn, "pc7.example.test");
	/* cut at every byte: under 4 not DHCPv6; from 4 on the relay header, then the Relay Message option,
	 * is cut: nothing of the inner message is taken */
	for (size_t k = 0; k < sizeof relay_reply; k++) {
		uint8_t *copy = malloc(k ? k : 1);
		memcpy(copy, relay_reply, k);
		bool okp = dhcp6_parse(copy, k, &m);
		assert_int_equal(okp, k >= 4);
		if (okp) {
			assert_true(m.options_cut);
			assert_int_equal(m.type, DHCP6_RELAY_REPL);
			assert_int_equal(m.n_addr, 0);
			assert_int_equal(m.duid_len, 0);
		}
		free(copy);
	}
	/* names.c: the relayed Reply's lease is the client's (its DUID), as a Reply seen directly */
	struct names *t = NULL;
	struct name_counters k = { 0 };
	feed(&t, &k, 100 * S, 547, 547, relay_reply, sizeof relay_reply);
	assert_int_equal(k.dhcp6_relayed, 1);
	assert_int_equal(k.malformed, 0);
	names_prepare(t);
	struct addr a50;
	addr_from_v6(&a50, ip50);
	int32_t h = names_host_at(t, &a50, 200 * S);
	assert_true(h >= 0);
	assert_true(t->hosts[h].duid);
	assert_memory_equal(t->hosts[h].client_id, duid, 14);
	assert_int_equal(names_host_at(t, &a50, 7301 * S), -1);   /* 100 + 7200 */
	names_free(t);
	/* a relay cut before its inner message is malformed, not a relayed message read */
	t = NULL;
	memset(&k, 0, sizeof k);
	feed(&t, &k, 100 * S, 547, 547, relay_reply, 60);
	assert_int_equal(k.dhcp6_relayed, 0);
	assert_int_equal(k.malformed, 1);
	names_free(t);
}

/* Relay-Forwards (12) nested 8 deep around a Solicit (hop-counts 0..7, RFC 8415 19.1.2) are opened; a 9th
 * is past HOP_COUNT_LIMIT: not read, counted.  Both cut at every byte. */
static void test_relay_depth(void **st)
{
	(void)st;
	uint8_t b[sizeof solicit + 9 * 38];
	size_t n = sizeof solicit;
	memcpy(b, solicit, n);
	for (uint8_t hop = 0; hop < DHCP6_MAX_RELAYS; hop++)
		n = wrap(b, DHCP6_RELAY_FORW, hop, b, n);
	assert_int_equal(n, 38 + 8 * 38);
	struct dhcp6_msg m;
	assert_true(dhcp6_parse(b, n, &m));
	assert_int_equal(m.type, DHCP6_SOLICIT);
	assert_int_equal(m.relays, 8);
	assert_false(m.relay_cut);
	assert_false(m.options_cut);
	assert_int_equal(m.duid_len, 14);
	assert_int_equal(m.relay_link[5], 0);      /* the innermost relay: hop-count 0, on the client's link */
	for (size_t k = 4; k < n; k++) {
		assert_true(dhcp6_parse(b, k, &m));
		assert_true(m.options_cut);
		assert_int_equal(m.duid_len, 0);
		assert_false(m.relay_cut);
	}
	n = wrap(b, DHCP6_RELAY_FORW, 8, b, n);
	assert_true(dhcp6_parse(b, n, &m));
	assert_true(m.relay_cut);
	assert_int_equal(m.relays, DHCP6_MAX_RELAYS);
	assert_int_equal(m.type, DHCP6_RELAY_FORW);
	assert_int_equal(m.duid_len, 0);
	for (size_t k = 4; k < n; k++) {           /* cut: the cut is met before the 9th layer's Relay Message */
		assert_true(dhcp6_parse(b, k, &m));
		assert_true(m.options_cut || m.relay_cut);
		assert_int_equal(m.duid_len, 0);
	}
	struct names *t = NULL;
	struct name_counters k = { 0 };
	feed(&t, &k, 1 * S, 547, 547, b, n);
	assert_int_equal(k.dhcp6_relays_deep, 1);
	assert_int_equal(k.dhcp6_relayed, 0);
	names_free(t);
}

/* A Relay-Forward carries a client's message (or a Relay-Forward), a Relay-Reply a server's (RFC 8415 9):
 * a Reply inside a Relay-Forward, a Solicit inside a Relay-Reply, an inner type 0, are malformed. */
static void test_relay_direction(void **st)
{
	(void)st;
	uint8_t b[256];
	struct dhcp6_msg m;
	size_t n = wrap(b, DHCP6_RELAY_FORW, 0, reply, sizeof reply);
	assert_true(dhcp6_parse(b, n, &m));
	assert_true(m.options_cut);
	assert_int_equal(m.n_addr, 0);
	n = wrap(b, DHCP6_RELAY_REPL, 0, solicit, sizeof solicit);
	assert_true(dhcp6_parse(b, n, &m));
	assert_true(m.options_cut);
	assert_int_equal(m.duid_len, 0);
	n = wrap(b, DHCP6_RELAY_REPL, 0, reply, sizeof reply);
	b[38] = 0;
	assert_true(dhcp6_parse(b, n, &m));
	assert_true(m.options_cut);
	assert_int_equal(m.n_addr, 0);
}

/* A Reply (7) with IA_TA (4, 32 bytes: IAID 2, IA Address 2001:db8::70, preferred 1800, valid 3600) and
 * IA_PD (25, 41 bytes: IAID 3, T1 3600, T2 5400, IA Prefix (26, 25 bytes): preferred 3600, valid 7200,
 * prefix-length 56, 2001:db8:ff00::). */
static const uint8_t ta_pd[] = {
	0x07, 0x00, 0x00, 0x02,
	0x00, 0x01, 0x00, 0x0e, 0x00, 0x01, 0x00, 0x01, 0x2a, 0x2b, 0x2c, 0x2d, 0x02, 0, 0, 0, 0, 0x0a,
	0x00, 0x04, 0x00, 0x20, 0, 0, 0, 2,
	0x00, 0x05, 0x00, 0x18, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x70,
	0x00, 0x00, 0x07, 0x08, 0x00, 0x00, 0x0e, 0x10,
	0x00, 0x19, 0x00, 0x29, 0, 0, 0, 3, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x00, 0x15, 0x18,
	0x00, 0x1a, 0x00, 0x19, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x00, 0x1c, 0x20, 0x38,
	0x20, 0x01, 0x0d, 0xb8, 0xff, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
_Static_assert(sizeof ta_pd == 4 + 18 + 36 + 45, "header, client id, IA_TA, IA_PD");

static void test_ia_ta_pd(void **st)
{
	(void)st;
	struct dhcp6_msg m;
	assert_true(dhcp6_parse(ta_pd, sizeof ta_pd, &m));
	assert_false(m.options_cut);
	assert_int_equal(m.n_addr, 1);
	assert_true(m.addr[0].temporary);
	assert_int_equal(m.addr[0].ip[15], 0x70);
	assert_int_equal(m.addr[0].preferred_s, 1800);
	assert_int_equal(m.addr[0].valid_s, 3600);
	assert_int_equal(m.n_prefixes, 1);
	/* an IA Prefix of 24 bytes is malformed; every prefix of the message: cut flagged, no prefix invented */
	for (size_t k = 4; k < sizeof ta_pd; k++) {
		assert_true(dhcp6_parse(ta_pd, k, &m));
		bool boundary = k == 4 || k == 22 || k == 58;   /* header, client id, IA_TA end */
		assert_int_equal(m.options_cut, !boundary);
		assert_int_equal(m.n_prefixes, 0);
	}
	struct names *t = NULL;
	struct name_counters k = { 0 };
	feed(&t, &k, 100 * S, 547, 546, ta_pd, sizeof ta_pd);
	assert_int_equal(k.dhcp6_prefixes, 1);
	names_prepare(t);
	assert_int_equal(t->n_leases, 1);          /* the IA_TA address; the delegated prefix is no host's */
	struct addr a;
	uint8_t ip[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x70 };
	addr_from_v6(&a, ip);
	assert_true(names_host_at(t, &a, 200 * S) >= 0);
	assert_int_equal(names_host_at(t, &a, 3701 * S), -1);
	uint8_t pfx[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0x00 };
	addr_from_v6(&a, pfx);
	assert_int_equal(names_host_at(t, &a, 200 * S), -1);
	pfx[15] = 1;
	addr_from_v6(&a, pfx);
	assert_int_equal(names_host_at(t, &a, 200 * S), -1);
	names_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_reply),
		cmocka_unit_test(test_relay_depth),
		cmocka_unit_test(test_relay_direction),
		cmocka_unit_test(test_ia_ta_pd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
