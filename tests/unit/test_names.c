/*
 * test_names.c - host names from the wire: DNS answers (RFC 1035 4.1 layout,
 * 4.1.4 compression; PTR names of RFC 1035 3.5 and RFC 3596 2.5), mDNS
 * (RFC 6762: the cache-flush bit, additional records), the NetBIOS name
 * service (RFC 1001 14.1 first-level encoding and its "FRED" example, RFC
 * 1002 4.2.2 registration), DHCP (RFC 2131 figure 1, RFC 2132 options 12,
 * 50, 51, 53, 61; RFC 4702 section 2 option 81, FQDN), hostile input (pointer loops, every prefix of every
 * message in an exact-size copy), and names.c: leases that follow a host
 * from one address to another and an address from one host to another, and
 * the table's byte cap.  Bytes are written out here by hand from the RFCs.
 */
#include "testutil.h"
#include "names_feed.h"

#include <stdio.h>
#include <stdlib.h>

#include "decode.h"
#include "dhcp.h"
#include "dns.h"
#include "names.h"
#include "nbns.h"

struct got {
	int n;
	uint8_t ip[8][16];
	size_t iplen[8];
	char name[8][DNS_NAME_MAX];
	bool ptr[8];
};

static void on_addr(void *ctx, const uint8_t *ip, size_t iplen, const char *name, bool ptr)
{
	struct got *g = ctx;
	if (g->n >= 8)
		return;
	memcpy(g->ip[g->n], ip, iplen);
	g->iplen[g->n] = iplen;
	snprintf(g->name[g->n], sizeof g->name[0], "%s", name);
	g->ptr[g->n++] = ptr;
}

/* Parse an exact-size copy, so ASan sees any over-read. */
static enum dns_result parse(const uint8_t *b, size_t n, bool additional, struct got *g, struct dns_info *info)
{
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, b, n);
	memset(g, 0, sizeof *g);
	struct dns_sink sink = { on_addr, g };
	enum dns_result r = dns_parse(copy, n, additional, &sink, info);
	free(copy);
	return r;
}

/* A response to "pc27.example.com A": header (id 0x1234, QR RD RA, 1 question, 1 answer), the
 * question, the answer naming the question by a pointer to offset 12 (0xC00C). */
static const uint8_t dns_a[] = {
	0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	4, 'p', 'c', '2', '7', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	0x00, 0x01, 0x00, 0x01,
	0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2C, 0x00, 0x04, 192, 0, 2, 27,
};

static void test_dns_a(void **st)
{
	(void)st;
	struct got g;
	struct dns_info info;
	assert_int_equal(parse(dns_a, sizeof dns_a, false, &g, &info), DNS_OK);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.iplen[0], 4);
	assert_memory_equal(g.ip[0], ((uint8_t[]){ 192, 0, 2, 27 }), 4);
	assert_string_equal(g.name[0], "pc27.example.com");
	assert_false(g.ptr[0]);
	/* the same bytes as a query (QR clear) and as NXDOMAIN (RCODE 3): nothing */
	uint8_t q[sizeof dns_a];
	memcpy(q, dns_a, sizeof q);
	q[2] = 0x01;
	assert_int_equal(parse(q, sizeof q, false, &g, &info), DNS_NOT_ANSWER);
	memcpy(q, dns_a, sizeof q);
	q[3] = 0x83;
	assert_int_equal(parse(q, sizeof q, false, &g, &info), DNS_NOT_ANSWER);
	assert_int_equal(g.n, 0);
}

/* Reverse names (in-addr.arpa, ip6.arpa), and "27.2.0.192.in-addr.arpa PTR pc27.example.com" with
 * the owner named by a pointer to the question. */
static void test_dns_ptr_and_reverse(void **st)
{
	(void)st;
	uint8_t ip[16];
	assert_int_equal(dns_reverse_addr("27.2.0.192.in-addr.arpa", ip), 4);
	assert_memory_equal(ip, ((uint8_t[]){ 192, 0, 2, 27 }), 4);
	assert_int_equal(dns_reverse_addr("27.2.0.192.IN-ADDR.ARPA", ip), 4);
	assert_int_equal(dns_reverse_addr("2.0.192.in-addr.arpa", ip), 0);      /* a network, not a host */
	assert_int_equal(dns_reverse_addr("256.2.0.192.in-addr.arpa", ip), 0);
	assert_int_equal(dns_reverse_addr("027.2.0.192.in-addr.arpa", ip), 0);
	assert_int_equal(dns_reverse_addr("_http._tcp.local", ip), 0);
	/* RFC 3596 2.5's form for 2001:db8::1 */
	const char *v6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
	assert_int_equal(dns_reverse_addr(v6, ip), 16);
	const uint8_t want[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	assert_memory_equal(ip, want, 16);
	assert_int_equal(dns_reverse_addr("1.0.0.0.ip6.arpa", ip), 0);

	static const uint8_t m[] = {
		0x00, 0x07, 0x85, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
		2, '2', '7', 1, '2', 1, '0', 3, '1', '9', '2', 7, 'i', 'n', '-', 'a', 'd', 'd', 'r', 4, 'a', 'r', 'p', 'a', 0,
		0x00, 0x0C, 0x00, 0x01,
		0xC0, 0x0C, 0x00, 0x0C, 0x00, 0x01, 0x00, 0x00, 0x0E, 0x10, 0x00, 0x12,
		4, 'p', 'c', '2', '7', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	};
	struct got g;
	struct dns_info info;
	assert_int_equal(parse(m, sizeof m, false, &g, &info), DNS_OK);
	assert_int_equal(g.n, 1);
	assert_true(g.ptr[0]);
	assert_memory_equal(g.ip[0], ((uint8_t[]){ 192, 0, 2, 27 }), 4);
	assert_string_equal(g.name[0], "pc27.example.com");
}

/* mDNS announcement (RFC 6762 8.3): no question, the A record with the cache-flush bit in its
 * class, and an AAAA in the additional section. */
static void test_mdns(void **st)
{
	(void)st;
	static const uint8_t m[] = {
		0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
		5, 'l', 'a', 'b', 'p', 'c', 5, 'l', 'o', 'c', 'a', 'l', 0,
		0x00, 0x01, 0x80, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x04, 192, 0, 2, 44,
		0xC0, 0x0C, 0x00, 0x1C, 0x80, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x10,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x44,
	};
	struct got g;
	struct dns_info info;
	assert_int_equal(parse(m, sizeof m, true, &g, &info), DNS_OK);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.name[0], "labpc.local");
	assert_string_equal(g.name[1], "labpc.local");
	assert_int_equal(g.iplen[1], 16);
	assert_int_equal(g.ip[1][15], 0x44);
	/* without the additional section (unicast DNS): only the answer */
	assert_int_equal(parse(m, sizeof m, false, &g, &info), DNS_OK);
	assert_int_equal(g.n, 1);
}

static void test_dns_hostile(void **st)
{
	(void)st;
	struct got g;
	struct dns_info info;
	/* a pointer to itself in the answer's name, and one pointing forwards */
	uint8_t m[sizeof dns_a];
	memcpy(m, dns_a, sizeof m);
	m[34] = 0xC0, m[35] = 34;
	assert_int_equal(parse(m, sizeof m, false, &g, &info), DNS_MALFORMED);
	assert_int_equal(g.n, 0);
	memcpy(m, dns_a, sizeof m);
	m[35] = 40;
	assert_int_equal(parse(m, sizeof m, false, &g, &info), DNS_MALFORMED);
	/* a label type 0x40 (RFC 6891 extended labels) */
	memcpy(m, dns_a, sizeof m);
	m[12] = 0x44;
	assert_int_equal(parse(m, sizeof m, false, &g, &info), DNS_MALFORMED);
	/* every prefix: never a read past the end, never a name before the whole answer is there */
	for (size_t n = 0; n < sizeof dns_a; n++) {
		enum dns_result r = parse(dns_a, n, false, &g, &info);
		assert_int_equal(r, DNS_MALFORMED);
		assert_int_equal(g.n, 0);
	}
	/* a name of 4 labels of 63 bytes: over 95 characters, cut and counted */
	uint8_t big[12 + 4 * 64 + 1 + 4 + 2 + 10 + 4];
	size_t o = 0;
	memcpy(big, dns_a, 12);
	big[5] = 1, big[7] = 1;
	o = 12;
	for (int l = 0; l < 3; l++) {
		big[o++] = 63;
		memset(big + o, 'a' + l, 63);
		o += 63;
	}
	big[o++] = 0;
	memcpy(big + o, "\x00\x01\x00\x01", 4), o += 4;
	memcpy(big + o, "\xC0\x0C\x00\x01\x00\x01\x00\x00\x00\x01\x00\x04\xC0\x00\x02\x01", 16), o += 16;
	assert_int_equal(parse(big, o, false, &g, &info), DNS_OK);
	assert_int_equal(g.n, 1);
	assert_int_equal(info.names_cut, 1);
	assert_int_equal(strlen(g.name[0]), DNS_NAME_MAX - 1);
	/* bytes outside printable ASCII come out as '?' */
	memcpy(m, dns_a, sizeof m);
	m[13] = '\n';
	assert_int_equal(parse(m, sizeof m, false, &g, &info), DNS_OK);
	assert_string_equal(g.name[0], "?c27.example.com");
}

/* RFC 1001 14.1: "FRED" is EGFCEFEECACACACACACACACACACACACA (padded with blanks: suffix 0x20). */
static void test_nbns(void **st)
{
	(void)st;
	char out[16];
	uint8_t suffix;
	assert_true(nbns_decode_name("EGFCEFEECACACACACACACACACACACACA", out, &suffix));
	assert_string_equal(out, "FRED");
	assert_int_equal(suffix, 0x20);
	assert_false(nbns_decode_name("EGFCEFEECACACACACACACACACACACAC", out, &suffix));   /* 31 */
	assert_false(nbns_decode_name("EGFCEFEECACACACACACACACACACACAZA", out, &suffix));
	/* a name registration request (RFC 1002 4.2.2): opcode 5, B flag; the question names
	 * LABPC<00>, the additional record (by pointer) holds NB flags 0x0000 and 192.0.2.44 */
	static const uint8_t reg[] = {
		0x80, 0x01, 0x29, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x20, 'E', 'M', 'E', 'B', 'E', 'C', 'F', 'A', 'E', 'D', 'C', 'A', 'C', 'A', 'C', 'A',
		'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'A', 'A', 0x00,
		0x00, 0x20, 0x00, 0x01,
		0xC0, 0x0C, 0x00, 0x20, 0x00, 0x01, 0x00, 0x04, 0x93, 0xE0, 0x00, 0x06, 0x00, 0x00, 192, 0, 2, 44,
	};
	assert_true(nbns_decode_name("EMEBECFAEDCACACACACACACACACACAAA", out, &suffix));
	assert_string_equal(out, "LABPC");
	assert_int_equal(suffix, 0);
	struct got g;
	memset(&g, 0, sizeof g);
	struct dns_sink sink = { on_addr, &g };
	struct dns_info info;
	assert_int_equal(nbns_parse(reg, sizeof reg, &sink, &info), DNS_OK);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.name[0], "LABPC");
	assert_memory_equal(g.ip[0], ((uint8_t[]){ 192, 0, 2, 44 }), 4);
	/* a group name (G bit) names no host; a query request (opcode 0, not a response) neither */
	uint8_t m[sizeof reg];
	memcpy(m, reg, sizeof m);
	m[sizeof m - 6] = 0x80;
	memset(&g, 0, sizeof g);
	assert_int_equal(nbns_parse(m, sizeof m, &sink, &info), DNS_OK);
	assert_int_equal(g.n, 0);
	memcpy(m, reg, sizeof m);
	m[2] = 0x01;
	assert_int_equal(nbns_parse(m, sizeof m, &sink, &info), DNS_NOT_ANSWER);
	for (size_t n = 0; n < sizeof reg; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, reg, n);
		memset(&g, 0, sizeof g);
		assert_int_equal(nbns_parse(copy, n, &sink, &info), DNS_MALFORMED);
		assert_int_equal(g.n, 0);
		free(copy);
	}
}

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 0x0a }, mac_b[6] = { 2, 0, 0, 0, 0, 0x0b };
static const uint8_t zero[4] = { 0 }, ip50[4] = { 192, 0, 2, 50 }, ip51[4] = { 192, 0, 2, 51 };

static void test_dhcp(void **st)
{
	(void)st;
	uint8_t b[400];
	const uint8_t cid[7] = { 1, 2, 0, 0, 0, 0, 0x0a };
	size_t n = dhcp_msg(b, 1, DHCP_REQUEST, mac_a, zero, zero, 0, "alpha", cid, sizeof cid);
	struct dhcp_msg m;
	assert_true(dhcp_parse(b, n, &m));
	assert_int_equal(m.op, 1);
	assert_int_equal(m.type, DHCP_REQUEST);
	assert_int_equal(m.hlen, 6);
	assert_memory_equal(m.chaddr, mac_a, 6);
	assert_string_equal(m.host, "alpha");
	assert_int_equal(m.client_id_len, 7);
	assert_memory_equal(m.client_id, cid, 7);
	assert_false(m.options_cut);
	n = dhcp_msg(b, 2, DHCP_ACK, mac_a, zero, ip50, 3600, NULL, NULL, 0);
	assert_true(dhcp_parse(b, n, &m));
	assert_int_equal(m.type, DHCP_ACK);
	assert_true(m.has_lease);
	assert_int_equal(m.lease_s, 3600);
	assert_memory_equal(m.yiaddr, ip50, 4);
	/* no magic cookie: not DHCP (plain BOOTP is not read) */
	b[236] = 0;
	assert_false(dhcp_parse(b, n, &m));
	/* every prefix: the header needs 240 bytes; after it, a cut option is flagged */
	n = dhcp_msg(b, 1, DHCP_REQUEST, mac_a, zero, zero, 0, "alpha", cid, sizeof cid);
	for (size_t k = 0; k < n; k++) {
		uint8_t *copy = malloc(k ? k : 1);
		memcpy(copy, b, k);
		bool okp = dhcp_parse(copy, k, &m);
		assert_int_equal(okp, k >= 240);
		if (okp)
			assert_true(m.options_cut);
		free(copy);
	}
}

/* Option 81 (RFC 4702 section 2): code 81, length, flags, RCODE1, RCODE2, domain name.  With the E flag
 * (0x04) the name is in RFC 1035 3.1 wire encoding; without it, the deprecated ASCII form.  Used as the
 * host's name when option 12 is absent; a name too long is cut and flagged like option 12's. */
static void test_dhcp_fqdn(void **st)
{
	(void)st;
	uint8_t b[600];
	struct dhcp_msg m;
	/* E and S set: "pc7.example.test." in labels (3 'pc7' 7 'example' 4 'test' 0) */
	static const uint8_t wire[] = { 81, 21, 0x05, 0, 0, 3, 'p', 'c', '7', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
					4, 't', 'e', 's', 't', 0 };
	size_t n = dhcp_msg(b, 1, DHCP_REQUEST, mac_a, zero, zero, 0, NULL, NULL, 0);
	memcpy(b + n - 1, wire, sizeof wire);
	n += sizeof wire;
	b[n - 1] = 255;
	assert_true(dhcp_parse(b, n, &m));
	assert_string_equal(m.fqdn, "pc7.example.test");
	assert_int_equal(m.fqdn_flags, 0x05);
	assert_false(m.fqdn_cut);
	assert_false(m.options_cut);
	assert_string_equal(m.host, "");
	/* a partial name (RFC 4702 2.3: no root label) is kept as it stands */
	static const uint8_t partial[] = { 81, 7, 0x04, 0, 0, 3, 'p', 'c', '8' };
	n = dhcp_msg(b, 1, DHCP_REQUEST, mac_a, zero, zero, 0, NULL, NULL, 0);
	memcpy(b + n - 1, partial, sizeof partial);
	n += sizeof partial;
	b[n - 1] = 255;
	assert_true(dhcp_parse(b, n, &m));
	assert_string_equal(m.fqdn, "pc8");
	assert_false(m.options_cut);
	/* E clear: ASCII, "pc9.example.test" */
	static const uint8_t ascii[] = { 81, 19, 0x01, 0xff, 0xff, 'p', 'c', '9', '.', 'e', 'x', 'a', 'm', 'p', 'l',
					 'e', '.', 't', 'e', 's', 't' };
	n = dhcp_msg(b, 1, DHCP_REQUEST, mac_a, zero, zero, 0, NULL, NULL, 0);
	memcpy(b + n - 1, ascii, sizeof ascii);
	n += sizeof ascii;
	b[n - 1] = 255;
	assert_true(dhcp_parse(b, n, &m));
	assert_string_equal(m.fqdn, "pc9.example.test");
	/* a compression pointer (not allowed in option 81) or a label past the option's end: malformed */
	static const uint8_t ptr[] = { 81, 8, 0x04, 0, 0, 1, 'a', 0xc0, 0x0c, 0 };
	n = dhcp_msg(b, 1, DHCP_REQUEST, mac_a, zero, zero, 0, NULL, NULL, 0);
	memcpy(b + n - 1, ptr, sizeof ptr);
	n += sizeof ptr;
	b[n - 1] = 255;
	assert_true(dhcp_parse(b, n, &m));
	assert_string_equal(m.fqdn, "a");
	assert_true(m.options_cut);
	static const uint8_t over[] = { 81, 6, 0x04, 0, 0, 5, 'a', 'b' };
	n = dhcp_msg(b, 1, DHCP_REQUEST, mac_a, zero, zero, 0, NULL, NULL, 0);
	memcpy(b + n - 1, over, sizeof over);
	n += sizeof over;
	b[n - 1] = 255;
	assert_true(dhcp_parse(b, n, &m));
	assert_string_equal(m.fqdn, "");
	assert_true(m.options_cut);
	/* 5 labels of 20 'x': 104 characters, cut to DHCP_NAME_MAX - 1 = 63 and flagged */
	n = dhcp_msg(b, 1, DHCP_REQUEST, mac_a, zero, zero, 0, NULL, NULL, 0) - 1;
	b[n++] = 81, b[n++] = 3 + 5 * 21 + 1, b[n++] = 0x04, b[n++] = 0, b[n++] = 0;
	for (int l = 0; l < 5; l++) {
		b[n++] = 20;
		memset(b + n, 'x', 20);
		n += 20;
	}
	b[n++] = 0;
	b[n++] = 255;
	assert_true(dhcp_parse(b, n, &m));
	assert_int_equal(strlen(m.fqdn), DHCP_NAME_MAX - 1);
	assert_true(m.fqdn_cut);
	assert_false(m.options_cut);
	/* names.c: the FQDN names the host when option 12 is absent, and the cut is counted */
	struct names *t = NULL;
	struct name_counters k = { 0 };
	struct packet p;
	memset(&p, 0, sizeof p);
	p.sport = 68, p.dport = 67, p.udp_name = true, p.ts_us = 1000000;
	p.payload = b, p.payload_len = (uint32_t)n;
	names_udp(&t, 1, 2, &p, &k);
	assert_int_equal(k.names_cut, 1);
	n = dhcp_msg(b, 1, DHCP_REQUEST, mac_a, zero, zero, 0, NULL, NULL, 0);
	memcpy(b + n - 1, wire, sizeof wire);
	n += sizeof wire;
	b[n - 1] = 255;
	p.payload_len = (uint32_t)n;
	names_udp(&t, 1, 2, &p, &k);
	n = dhcp_msg(b, 2, DHCP_ACK, mac_a, zero, ip50, 3600, NULL, NULL, 0);
	p.sport = 67, p.dport = 68, p.payload_len = (uint32_t)n, p.ts_us = 2000000;
	names_udp(&t, 1, 2, &p, &k);
	names_prepare(t);
	struct addr a50;
	addr_from_v4(&a50, ip50);
	size_t first;
	assert_int_equal(names_of(t, &a50, &first), 1);
	assert_string_equal(t->v[first].name, "pc7.example.test");
	assert_int_equal(t->v[first].source, NAME_DHCP);
	names_free(t);
}

#define S 1000000LL

/* Host A gets .50 (lease 3600 s), releases it and gets .51; then host B gets .50. */
static void test_leases(void **st)
{
	(void)st;
	struct names *t = NULL;
	struct name_counters k = { 0 };
	uint8_t b[400];
	const uint8_t cid[7] = { 1, 2, 0, 0, 0, 0, 0x0a };
	size_t n = dhcp_msg(b, 1, DHCP_REQUEST, mac_a, zero, zero, 0, "alpha", cid, sizeof cid);
	feed(&t, &k, 100 * S, 68, 67, b, n);
	n = dhcp_msg(b, 2, DHCP_ACK, mac_a, zero, ip50, 3600, NULL, NULL, 0);
	feed(&t, &k, 101 * S, 67, 68, b, n);
	n = dhcp_msg(b, 1, DHCP_RELEASE, mac_a, ip50, zero, 0, NULL, NULL, 0);
	feed(&t, &k, 200 * S, 68, 67, b, n);
	n = dhcp_msg(b, 2, DHCP_ACK, mac_a, zero, ip51, 3600, NULL, NULL, 0);
	feed(&t, &k, 201 * S, 67, 68, b, n);
	n = dhcp_msg(b, 1, DHCP_REQUEST, mac_b, zero, zero, 0, "beta", NULL, 0);
	feed(&t, &k, 300 * S, 68, 67, b, n);
	n = dhcp_msg(b, 2, DHCP_ACK, mac_b, zero, ip50, 3600, NULL, NULL, 0);
	feed(&t, &k, 301 * S, 67, 68, b, n);
	/* a renewal of B: the client already held the address (ciaddr = yiaddr) */
	n = dhcp_msg(b, 2, DHCP_ACK, mac_b, ip50, ip50, 3600, NULL, NULL, 0);
	feed(&t, &k, 2000 * S, 67, 68, b, n);
	assert_non_null(t);
	assert_int_equal(k.packets, 7);
	assert_int_equal(k.malformed, 0);
	names_prepare(t);
	assert_int_equal(t->n_hosts, 2);
	struct addr a50, a51;
	addr_from_v4(&a50, ip50);
	addr_from_v4(&a51, ip51);
	int32_t ha = names_host_at(t, &a50, 150 * S), hb = names_host_at(t, &a50, 400 * S);
	assert_true(ha >= 0 && hb >= 0 && ha != hb);
	assert_memory_equal(t->hosts[ha].hw, mac_a, 6);
	assert_string_equal(t->hosts[ha].name, "alpha");
	assert_int_equal(t->hosts[ha].client_id_len, 7);
	assert_string_equal(t->hosts[hb].name, "beta");
	assert_int_equal(names_host_at(t, &a50, 99 * S), -1);        /* before any lease */
	assert_int_equal(names_host_at(t, &a50, 250 * S), -1);       /* released, not yet given again */
	assert_int_equal(names_host_at(t, &a51, 250 * S), ha);       /* A followed to .51 */
	assert_int_equal(names_host_at(t, &a50, 4000 * S), hb);      /* B's renewal extended its lease */
	assert_int_equal(names_host_at(t, &a50, 5700 * S), -1);      /* 2000 + 3600 s: over */
	/* the DHCP names: .50 named alpha then beta, .51 alpha */
	size_t first, nn = names_of(t, &a50, &first);
	assert_int_equal(nn, 2);
	for (size_t i = first; i < first + nn; i++)
		assert_int_equal(t->v[i].source, NAME_DHCP);
	nn = names_of(t, &a51, &first);
	assert_int_equal(nn, 1);
	assert_string_equal(t->v[first].name, "alpha");
	char buf[64];
	assert_string_equal(names_hw_str(&t->hosts[ha], buf, sizeof buf), "02:00:00:00:00:0a");
	assert_string_equal(names_client_id_str(&t->hosts[ha], buf, sizeof buf), "0102000000000a");
	names_free(t);
}

/* The table stops at NAMES_MAX_BYTES and counts what it could not keep. */
static void test_table_cap(void **st)
{
	(void)st;
	struct names *t = NULL;
	struct name_counters k = { 0 };
	uint8_t m[sizeof dns_a];
	memcpy(m, dns_a, sizeof m);
	uint64_t sent = 0;
	for (uint32_t i = 0; i < 200000 && !k.table_full; i++, sent++) {
		m[13] = (uint8_t)('a' + i % 26), m[14] = (uint8_t)('a' + i / 26 % 26);
		m[15] = (uint8_t)('a' + i / 676 % 26), m[16] = (uint8_t)('a' + i / 17576 % 26);
		m[sizeof m - 2] = (uint8_t)(i >> 8), m[sizeof m - 1] = (uint8_t)i;
		feed(&t, &k, (int64_t)i, 53, 40000, m, sizeof m);
	}
	assert_true(k.table_full > 0);
	assert_true(t->bytes <= NAMES_MAX_BYTES);
	assert_int_equal(t->n + k.table_full, sent);
	/* a name already kept is still found (its count grows) when the table is full */
	uint64_t full = k.table_full;
	m[13] = m[14] = m[15] = m[16] = 'a';
	m[sizeof m - 2] = 0, m[sizeof m - 1] = 0;
	feed(&t, &k, 5, 53, 40000, m, sizeof m);
	assert_int_equal(k.table_full, full);
	names_prepare(t);
	struct addr ip;
	addr_from_v4(&ip, (const uint8_t[]){ 192, 0, 0, 0 });
	size_t first;
	assert_int_equal(names_of(t, &ip, &first), 1);
	assert_int_equal(t->v[first].count, 2);
	assert_string_equal(t->v[first].name, "aaaa.example.com");
	names_free(t);
}

/* A live worker's table merged into the reader's (--threads with -i): names, hosts and leases. */
static void test_merge(void **st)
{
	(void)st;
	struct names *w = NULL, *r = NULL;
	struct name_counters k = { 0 };
	uint8_t b[400];
	size_t n = dhcp_msg(b, 1, DHCP_REQUEST, mac_a, zero, zero, 0, "alpha", NULL, 0);
	feed(&w, &k, 100 * S, 68, 67, b, n);
	n = dhcp_msg(b, 2, DHCP_ACK, mac_a, zero, ip50, 3600, NULL, NULL, 0);
	feed(&w, &k, 101 * S, 67, 68, b, n);
	feed(&r, &k, 102 * S, 53, 40000, dns_a, sizeof dns_a);
	names_merge(&r, w, &k);
	names_prepare(r);
	struct addr a50, a27;
	addr_from_v4(&a50, ip50);
	addr_from_v4(&a27, (const uint8_t[]){ 192, 0, 2, 27 });
	int32_t h = names_host_at(r, &a50, 200 * S);
	assert_true(h >= 0);
	assert_string_equal(r->hosts[h].name, "alpha");
	size_t first;
	assert_int_equal(names_of(r, &a50, &first), 1);
	assert_int_equal(r->v[first].host, h);
	assert_int_equal(names_of(r, &a27, &first), 1);
	assert_string_equal(r->v[first].name, "pc27.example.com");
	names_free(w);
	names_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_a),
		cmocka_unit_test(test_dns_ptr_and_reverse),
		cmocka_unit_test(test_mdns),
		cmocka_unit_test(test_dns_hostile),
		cmocka_unit_test(test_nbns),
		cmocka_unit_test(test_dhcp),
		cmocka_unit_test(test_dhcp_fqdn),
		cmocka_unit_test(test_leases),
		cmocka_unit_test(test_table_cap),
		cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
