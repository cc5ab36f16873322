/*
 * test_dhcplink.c - a DHCPv4 host and a DHCPv6 host linked when the bytes
 * show they are one machine (names.c link_hosts), and not otherwise.  The
 * DUIDs are laid out by hand from RFC 8415 11 (DUID-LLT 11.2: type 1,
 * hardware type, time, link-layer address; DUID-EN 11.3, the RFC's own
 * example: enterprise number 9, identifier 0CC084D303000912; DUID-LL 11.4:
 * type 3, hardware type, link-layer address; DUID-UUID 11.5: type 4, 16
 * bytes), the DHCPv4 client identifier of RFC 4361 6.1 (type 255, IAID,
 * DUID), the DHCPv4 messages as RFC 2131 figure 1 (names_feed.h).  The
 * leasebook (leasebook.c) keeps the linked host's IPv4 lease while it
 * holds an IPv6 one.
 */
#include "testutil.h"
#include "names_feed.h"

#include <stdio.h>
#include <stdlib.h>

#include "decode.h"
#include "dhcp.h"
#include "dhcp6.h"
#include "leasebook.h"
#include "names.h"

#define S 1000000LL

/* A DHCPv6 Reply (7) for `duid` giving 2001:db8::<last> in an IA_NA (IAID 1, T1 0, T2 0; IA Address
 * preferred 3600, valid 7200): 4 + 4 + dl + 4 + 12 + 28 bytes. */
static size_t reply6(uint8_t *b, const uint8_t *duid, size_t dl, uint8_t last)
{
	size_t o = 0;
	b[o++] = 0x07, b[o++] = 0x00, b[o++] = 0x00, b[o++] = 0x01;
	b[o++] = 0x00, b[o++] = 0x01, b[o++] = 0x00, b[o++] = (uint8_t)dl;
	memcpy(b + o, duid, dl);
	o += dl;
	b[o++] = 0x00, b[o++] = 0x03, b[o++] = 0x00, b[o++] = 40;
	memset(b + o, 0, 12);
	b[o + 3] = 1;
	o += 12;
	b[o++] = 0x00, b[o++] = 0x05, b[o++] = 0x00, b[o++] = 24;
	static const uint8_t pfx[15] = { 0x20, 0x01, 0x0d, 0xb8 };
	memcpy(b + o, pfx, 15);
	b[o + 15] = last;
	o += 16;
	b[o++] = 0x00, b[o++] = 0x00, b[o++] = 0x0e, b[o++] = 0x10;
	b[o++] = 0x00, b[o++] = 0x00, b[o++] = 0x1c, b[o++] = 0x20;
	return o;
}

/* A DHCPREQUEST from mac (with client identifier cid when cl) and the DHCPACK of 192.0.2.<last> for 3600 s. */
static void ack4(struct names **t, struct name_counters *k, int64_t ts, const uint8_t mac[6], uint8_t last,
		 const uint8_t *cid, size_t cl)
{
	uint8_t b[400];
	const uint8_t zero[4] = { 0 }, yi[4] = { 192, 0, 2, last };
	size_t n = dhcp_msg(b, 1, DHCP_REQUEST, mac, zero, zero, 0, NULL, cid, cl);   /* the client's identifier */
	feed(t, k, ts - 1, 68, 67, b, n);
	n = dhcp_msg(b, 2, DHCP_ACK, mac, zero, yi, 3600, NULL, NULL, 0);
	feed(t, k, ts, 67, 68, b, n);
}

static void reply(struct names **t, struct name_counters *k, int64_t ts, const uint8_t *duid, size_t dl, uint8_t last)
{
	uint8_t b[400];
	size_t n = reply6(b, duid, dl, last);
	feed(t, k, ts, 547, 546, b, n);
}

static int32_t at4(const struct names *t, uint8_t last, int64_t ts)
{
	const uint8_t v[4] = { 192, 0, 2, last };
	struct addr a;
	addr_from_v4(&a, v);
	return names_host_at(t, &a, ts);
}

static int32_t at6(const struct names *t, uint8_t last, int64_t ts)
{
	uint8_t v[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	v[15] = last;
	struct addr a;
	addr_from_v6(&a, v);
	return names_host_at(t, &a, ts);
}

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 0x0a }, mac_b[6] = { 2, 0, 0, 0, 0, 0x0b },
		     mac_c[6] = { 2, 0, 0, 0, 0, 0x0c }, mac_d[6] = { 2, 0, 0, 0, 0, 0x0d },
		     mac_e[6] = { 2, 0, 0, 0, 0, 0x0e }, mac_f[6] = { 2, 0, 0, 0, 0, 0x0f },
		     mac_g[6] = { 2, 0, 0, 0, 0, 0x10 };
/* DUID-LLT, Ethernet (1), time 0x2a2b2c2d, 02:00:00:00:00:0a */
static const uint8_t llt_a[14] = { 0x00, 0x01, 0x00, 0x01, 0x2a, 0x2b, 0x2c, 0x2d, 2, 0, 0, 0, 0, 0x0a };
/* DUID-LL, Ethernet, 02:00:00:00:00:0b */
static const uint8_t ll_b[10] = { 0x00, 0x03, 0x00, 0x01, 2, 0, 0, 0, 0, 0x0b };
/* DUID-EN, RFC 8415 11.3's example: 0002 00000009 0CC084D303000912 */
static const uint8_t en_c[14] = { 0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x0c, 0xc0, 0x84, 0xd3, 0x03, 0x00, 0x09, 0x12 };
/* RFC 4361 6.1 client identifier: 255, IAID 00000001, then that DUID-EN: 19 bytes */
static const uint8_t cid_c[19] = { 0xff, 0x00, 0x00, 0x00, 0x01,
				   0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x0c, 0xc0, 0x84, 0xd3, 0x03, 0x00, 0x09, 0x12 };
/* DUID-LL, Ethernet, 02:00:00:00:00:0d; and a client id of 02:00:00:00:00:0e carrying it too */
static const uint8_t ll_d[10] = { 0x00, 0x03, 0x00, 0x01, 2, 0, 0, 0, 0, 0x0d };
static const uint8_t cid_e[15] = { 0xff, 0x00, 0x00, 0x00, 0x07, 0x00, 0x03, 0x00, 0x01, 2, 0, 0, 0, 0, 0x0d };
/* DUID-LL, hardware type 6 (IEEE 802), 02:00:00:00:00:0f: not the Ethernet hardware address of the same bytes */
static const uint8_t ll_f[10] = { 0x00, 0x03, 0x00, 0x06, 2, 0, 0, 0, 0, 0x0f };
/* DUID-UUID (type 4), no link-layer address */
static const uint8_t uuid_g[18] = { 0x00, 0x04, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
				    0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };

static void test_duid_fields(void **st)
{
	(void)st;
	uint16_t type, ht;
	uint8_t hw[16];
	size_t hl;
	assert_true(dhcp6_duid_lladdr(llt_a, sizeof llt_a, &type, &ht, hw, &hl));
	assert_int_equal(type, 1);
	assert_int_equal(ht, 1);
	assert_int_equal(hl, 6);
	assert_memory_equal(hw, mac_a, 6);
	assert_true(dhcp6_duid_lladdr(ll_b, sizeof ll_b, &type, &ht, hw, &hl));
	assert_int_equal(type, 3);
	assert_memory_equal(hw, mac_b, 6);
	assert_false(dhcp6_duid_lladdr(en_c, sizeof en_c, &type, &ht, hw, &hl));
	assert_false(dhcp6_duid_lladdr(uuid_g, sizeof uuid_g, &type, &ht, hw, &hl));
	for (size_t k = 0; k <= 8; k++)           /* a DUID-LLT with no address byte, or cut inside its time */
		assert_false(dhcp6_duid_lladdr(llt_a, k, &type, &ht, hw, &hl));
	assert_false(dhcp6_duid_lladdr(ll_b, 4, &type, &ht, hw, &hl));
	const uint8_t *d;
	size_t dl;
	assert_true(dhcp_client_id_duid(cid_c, sizeof cid_c, &d, &dl));
	assert_int_equal(dl, 14);
	assert_memory_equal(d, en_c, 14);
	/* type 1 (a hardware address, RFC 2132 9.14) is no DUID; a 32-byte identifier may have been cut */
	static const uint8_t cid_hw[7] = { 0x01, 2, 0, 0, 0, 0, 0x0a };
	assert_false(dhcp_client_id_duid(cid_hw, sizeof cid_hw, &d, &dl));
	uint8_t cid32[DHCP_ID_MAX] = { 0xff };
	assert_false(dhcp_client_id_duid(cid32, sizeof cid32, &d, &dl));
	assert_true(dhcp_client_id_duid(cid32, sizeof cid32 - 1, &d, &dl));
	assert_false(dhcp_client_id_duid(cid_c, 6, &d, &dl));
}

static void test_link(void **st)
{
	(void)st;
	struct names *t = NULL;
	struct name_counters k = { 0 };
	ack4(&t, &k, 100 * S, mac_a, 10, NULL, 0);             /* A: DUID-LLT */
	reply(&t, &k, 110 * S, llt_a, sizeof llt_a, 0x10);
	ack4(&t, &k, 100 * S, mac_b, 11, NULL, 0);             /* B: DUID-LL */
	reply(&t, &k, 110 * S, ll_b, sizeof ll_b, 0x11);
	ack4(&t, &k, 100 * S, mac_c, 12, cid_c, sizeof cid_c); /* C: DUID-EN, RFC 4361 */
	reply(&t, &k, 110 * S, en_c, sizeof en_c, 0x12);
	ack4(&t, &k, 100 * S, mac_d, 13, NULL, 0);             /* D and E: one DUID, two DHCPv4 hosts */
	ack4(&t, &k, 100 * S, mac_e, 14, cid_e, sizeof cid_e);
	reply(&t, &k, 110 * S, ll_d, sizeof ll_d, 0x13);
	ack4(&t, &k, 100 * S, mac_f, 15, NULL, 0);             /* F: another hardware type */
	reply(&t, &k, 110 * S, ll_f, sizeof ll_f, 0x15);
	ack4(&t, &k, 100 * S, mac_g, 16, NULL, 0);             /* G: DUID-UUID, no RFC 4361 */
	reply(&t, &k, 110 * S, uuid_g, sizeof uuid_g, 0x16);
	assert_int_equal(k.malformed, 0);
	names_prepare(t);
	struct name_counters c = { 0 };
	names_link_counts(t, &c);
	assert_int_equal(c.dhcp_linked, 3);
	assert_int_equal(c.dhcp_link_ambiguous, 1);
	static const uint8_t why[3] = { LINK_DUID_LLT, LINK_DUID_LL, LINK_RFC4361 };
	for (uint8_t i = 0; i < 3; i++) {         /* A, B, C: one host on both addresses */
		int32_t h4 = at4(t, (uint8_t)(10 + i), 200 * S), h6 = at6(t, (uint8_t)(0x10 + i), 200 * S);
		assert_true(h4 >= 0);
		assert_int_equal(h6, h4);
		assert_false(t->hosts[h4].duid);
		assert_int_equal(t->hosts[h4].link_why, why[i]);
		assert_int_equal(t->hosts[h4].n_linked, 1);
		int32_t v6 = t->hosts[h4].linked;
		assert_true(v6 >= 0 && t->hosts[v6].duid);
		assert_int_equal(t->hosts[v6].linked, h4);
	}
	for (uint8_t last = 13; last <= 16; last++) {   /* D/E, F, G: apart */
		if (last == 14)
			continue;
		int32_t h4 = at4(t, last, 200 * S), h6 = at6(t, (uint8_t)(0x10 + last - 10), 200 * S);
		assert_true(h4 >= 0 && h6 >= 0);
		assert_int_not_equal(h4, h6);
		assert_true(t->hosts[h6].duid);
		assert_int_equal(t->hosts[h6].linked, -1);
		assert_int_equal(t->hosts[h4].linked, -1);
	}
	char buf[64];
	assert_string_equal(names_link_str(LINK_RFC4361 | LINK_DUID_LL, buf, sizeof buf), "rfc4361-client-id,duid-ll");
	/* the leasebook keeps host A's IPv4 lease while its IPv6 lease (given 10 s later) runs */
	struct leasebook book = { 0 };
	assert_true(leasebook_add_names(&book, t, false, NULL));
	leasebook_prepare(&book);
	const uint8_t v4[4] = { 192, 0, 2, 10 };
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	v6[15] = 0x10;
	struct addr a4, a6;
	addr_from_v4(&a4, v4);
	addr_from_v6(&a6, v6);
	int32_t b4 = leasebook_host_at(&book, &a4, 200 * S), b6 = leasebook_host_at(&book, &a6, 200 * S);
	assert_true(b4 >= 0);
	assert_int_equal(b6, b4);
	assert_string_equal(book.hosts[b4].key, "02:00:00:00:00:0a");
	assert_int_equal(leasebook_host_at(&book, &a4, 3700 * S), b4);   /* 100 + 3600 */
	leasebook_free(&book);
	names_free(t);
}

/* Two DHCPv6 hosts of one machine (a DUID-LLT of its MAC, and a DUID-EN its DHCPv4 client identifier
 * carries) are both linked to it; a worker's table merged into the reader's links as one table does. */
static void test_link_two_and_merge(void **st)
{
	(void)st;
	struct names *r = NULL, *w = NULL;
	struct name_counters k = { 0 };
	ack4(&r, &k, 100 * S, mac_a, 10, cid_c, sizeof cid_c);
	reply(&w, &k, 110 * S, llt_a, sizeof llt_a, 0x10);
	reply(&w, &k, 120 * S, en_c, sizeof en_c, 0x12);
	names_merge(&r, w, &k);
	names_prepare(r);
	int32_t h4 = at4(r, 10, 200 * S);
	assert_true(h4 >= 0);
	assert_int_equal(at6(r, 0x10, 200 * S), h4);
	assert_int_equal(at6(r, 0x12, 200 * S), h4);
	assert_int_equal(r->hosts[h4].n_linked, 2);
	assert_int_equal(r->hosts[h4].link_why, LINK_DUID_LLT | LINK_RFC4361);
	names_free(r);
	names_free(w);
}

/* A Solicit (1) for `duid` with an empty IA_NA: 4 + 4 + dl + 16 bytes. */
static size_t solicit6(uint8_t *b, const uint8_t *duid, size_t dl, uint8_t type)
{
	size_t o = 0;
	b[o++] = type, b[o++] = 0x00, b[o++] = 0x00, b[o++] = 0x02;
	b[o++] = 0x00, b[o++] = 0x01, b[o++] = 0x00, b[o++] = (uint8_t)dl;
	memcpy(b + o, duid, dl);
	o += dl;
	b[o++] = 0x00, b[o++] = 0x03, b[o++] = 0x00, b[o++] = 12;
	memset(b + o, 0, 12);
	return o + 12;
}

/* A packet as decode.c makes it: Ethernet source, IPv6 source and destination, UDP ports, encapsulations. */
static void feed_link(struct names **t, struct name_counters *k, int64_t ts, const uint8_t *src_mac,
		      const char *src, const char *dst, uint16_t sport, uint16_t dport, uint16_t encap,
		      const uint8_t *b, size_t n)
{
	struct packet p;
	memset(&p, 0, sizeof p);
	p.ts_us = ts;
	p.sport = sport, p.dport = dport;
	p.payload = b, p.payload_len = (uint32_t)n;
	p.udp_name = true;
	p.eth_src = src_mac;
	p.encap = encap;
	int plen;
	assert_true(addr_parse_prefix(src, &p.src, &plen));
	assert_true(addr_parse_prefix(dst, &p.dst, &plen));
	names_udp(t, 1, 2, &p, k);
}

/* The Ethernet source of a client's own DHCPv6 message on its own link links its DUID (here a DUID-UUID,
 * which carries no address) to the DHCPv4 host of that MAC; every condition of the rule is needed: a
 * link-local source, ff02::1:2 as destination, ports 546 to 547, a client message, not relayed, no
 * tunnel (a VLAN tag is fine), a unicast source, and one Ethernet source for the DUID. */
static void test_link_ethernet(void **st)
{
	(void)st;
	enum { OK_, GLOBAL_SRC, UNICAST_DST, SERVER_PORT, REPLY, RELAYED, TUNNEL, VLAN, MCAST_MAC, TWO_MACS, NONE_, CASES };
	for (int c = OK_; c < CASES; c++) {
		struct names *t = NULL;
		struct name_counters k = { 0 };
		ack4(&t, &k, 100 * S, mac_g, 16, NULL, 0);
		reply(&t, &k, 110 * S, uuid_g, sizeof uuid_g, 0x16);
		uint8_t b[400], r[400];
		size_t n = solicit6(b, uuid_g, sizeof uuid_g, c == REPLY ? DHCP6_REPLY : DHCP6_SOLICIT);
		uint8_t mc[6] = { 0x03, 0, 0, 0, 0, 0x10 };   /* group bit set */
		const uint8_t *src_mac = c == MCAST_MAC ? mc : mac_g;
		const char *src = c == GLOBAL_SRC ? "2001:db8::99" : "fe80::10";
		const char *dst = c == UNICAST_DST ? "2001:db8::2" : "ff02::1:2";
		uint16_t sport = c == SERVER_PORT ? 547 : 546;
		uint16_t encap = c == TUNNEL ? 1u << ENCAP_VXLAN : c == VLAN ? 1u << ENCAP_VLAN : 0;
		if (c == RELAYED) {           /* RFC 8415 9.1 around the Solicit, to ff02::1:2 as a relay may send it */
			r[0] = DHCP6_RELAY_FORW, r[1] = 0;
			memset(r + 2, 0, 32);
			r[2] = 0xfe, r[3] = 0x80, r[17] = 0x01, r[18] = 0xfe, r[19] = 0x80, r[33] = 0x10;
			r[34] = 0x00, r[35] = 0x09, r[36] = 0x00, r[37] = (uint8_t)n;
			memcpy(r + 38, b, n);
			feed_link(&t, &k, 105 * S, src_mac, src, dst, 546, 547, encap, r, 38 + n);
		} else if (c != NONE_) {
			feed_link(&t, &k, 105 * S, src_mac, src, dst, sport, 547, encap, b, n);
		}
		if (c == TWO_MACS)
			feed_link(&t, &k, 106 * S, mac_f, src, dst, sport, 547, encap, b, n);
		names_prepare(t);
		int32_t h4 = at4(t, 16, 200 * S), h6 = at6(t, 0x16, 200 * S);
		bool linked = c == OK_ || c == VLAN;
		assert_true(h4 >= 0);
		if (linked) {
			assert_int_equal(h6, h4);
			assert_int_equal(t->hosts[h4].link_why, LINK_ETH_SOURCE);
		} else {
			assert_int_not_equal(h6, h4);
			assert_int_equal(t->hosts[h4].linked, -1);
		}
		names_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duid_fields),
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_link_two_and_merge),
		cmocka_unit_test(test_link_ethernet),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
