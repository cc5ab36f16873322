/*
 * test_decode.c - link, IP and TCP decoding on hand-built frames: Ethernet,
 * stacked VLAN tags, SLL, SLL2, raw IP, BSD loopback, IPv4 options,
 * fragments, IPv6 extension headers, 6in4, truncation at every layer; the
 * prefilter's quick look (decode_ports) at every length of a frame.
 */
#include "testutil.h"

#include <pcap/pcap.h>

#include "decode.h"

static size_t put_tcp(uint8_t *b, uint16_t sp, uint16_t dp, uint8_t flags, const char *payload, int optwords)
{
	size_t hl = 20 + 4 * (size_t)optwords;
	memset(b, 0, hl);
	b[0] = sp >> 8; b[1] = sp & 0xff; b[2] = dp >> 8; b[3] = dp & 0xff;
	b[4] = 0x11; b[5] = 0x22; b[6] = 0x33; b[7] = 0x44;    /* seq */
	b[12] = (uint8_t)((hl / 4) << 4);
	b[13] = flags;
	for (int i = 0; i < optwords * 4; i++)
		b[20 + i] = 1;                                   /* NOPs */
	size_t n = strlen(payload);
	memcpy(b + hl, payload, n);
	return hl + n;
}

static size_t put_ipv4(uint8_t *b, uint8_t proto, size_t l4len, uint16_t frag, int optwords)
{
	size_t hl = 20 + 4 * (size_t)optwords;
	memset(b, 0, hl);
	b[0] = (uint8_t)(0x40 | (hl / 4));
	size_t tot = hl + l4len;
	b[2] = (uint8_t)(tot >> 8); b[3] = (uint8_t)tot;
	b[6] = frag >> 8; b[7] = frag & 0xff;
	b[8] = 64; b[9] = proto;
	b[12] = 192; b[13] = 0; b[14] = 2; b[15] = 21;
	b[16] = 192; b[17] = 0; b[18] = 2; b[19] = 10;
	return hl;
}

/* Ethernet + tags + IPv4 + TCP "abc" to 8476 */
static size_t frame_eth(uint8_t *f, const uint16_t *tags, int ntags)
{
	uint8_t l4[64], *p = f;
	size_t l4len = put_tcp(l4, 40000, 8476, 0x18, "abc", 0);
	memset(p, 0xaa, 12);
	p += 12;
	for (int i = 0; i < ntags; i++) {
		*p++ = tags[i] >> 8; *p++ = tags[i] & 0xff;
		*p++ = 0x00; *p++ = 0x64;                        /* VLAN 100 */
	}
	*p++ = 0x08; *p++ = 0x00;
	p += put_ipv4(p, 6, l4len, 0, 0);
	memcpy(p, l4, l4len);
	return (size_t)(p - f) + l4len;
}

static void ethernet_ipv4_tcp(void **st)
{
	(void)st;
	uint8_t f[128];
	size_t n = frame_eth(f, NULL, 0);
	struct packet p;
	assert_int_equal(decode_frame(DLT_EN10MB, f, (uint32_t)n, &p), DEC_OK);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 8476);
	assert_int_equal(p.flags, 0x18);
	assert_int_equal(p.seq, 0x11223344);
	assert_int_equal(p.payload_len, 3);
	assert_memory_equal(p.payload, "abc", 3);
	assert_int_equal(p.src.b[15], 21);
	assert_int_equal(p.dst.b[15], 10);
	assert_true(addr_is_v4(&p.src));
}

static void vlan_stacks(void **st)
{
	(void)st;
	uint8_t f[160];
	const uint16_t q[] = { 0x8100 }, qinq[] = { 0x8100, 0x8100 }, ad[] = { 0x88A8, 0x8100 };
	struct packet p;
	size_t n = frame_eth(f, q, 1);
	assert_int_equal(decode_frame(DLT_EN10MB, f, (uint32_t)n, &p), DEC_OK);
	n = frame_eth(f, qinq, 2);
	assert_int_equal(decode_frame(DLT_EN10MB, f, (uint32_t)n, &p), DEC_OK);
	n = frame_eth(f, ad, 2);
	assert_int_equal(decode_frame(DLT_EN10MB, f, (uint32_t)n, &p), DEC_OK);
	assert_int_equal(p.dport, 8476);
	/* a tag cut in half */
	assert_int_equal(decode_frame(DLT_EN10MB, f, 15, &p), DEC_TRUNCATED_LINK);
}

static void ethernet_padding_is_not_payload(void **st)
{
	(void)st;
	uint8_t f[128];
	size_t n = frame_eth(f, NULL, 0);
	memset(f + n, 0, 10);   /* padding to a 60-byte minimum frame */
	struct packet p;
	assert_int_equal(decode_frame(DLT_EN10MB, f, (uint32_t)n + 10, &p), DEC_OK);
	assert_int_equal(p.payload_len, 3);
}

static void sll_and_sll2(void **st)
{
	(void)st;
	uint8_t ip[96], f[128];
	uint8_t l4[64];
	size_t l4len = put_tcp(l4, 5000, 992, 0x02, "", 0);
	size_t hl = put_ipv4(ip, 6, l4len, 0, 0);
	memcpy(ip + hl, l4, l4len);
	size_t iplen = hl + l4len;
	struct packet p;
	/* SLL: 16 bytes, protocol at 14 */
	memset(f, 0, 16); f[14] = 0x08; f[15] = 0x00;
	memcpy(f + 16, ip, iplen);
	assert_int_equal(decode_frame(DLT_LINUX_SLL, f, (uint32_t)(16 + iplen), &p), DEC_OK);
	assert_int_equal(p.dport, 992);
	assert_int_equal(p.flags, 0x02);
	/* SLL2: 20 bytes, protocol at 0 */
	memset(f, 0, 20); f[0] = 0x08; f[1] = 0x00;
	memcpy(f + 20, ip, iplen);
	assert_int_equal(decode_frame(276, f, (uint32_t)(20 + iplen), &p), DEC_OK);
	assert_int_equal(p.dport, 992);
	assert_int_equal(decode_frame(276, f, 10, &p), DEC_TRUNCATED_LINK);
}

static void raw_and_loopback(void **st)
{
	(void)st;
	uint8_t f[128], l4[64];
	size_t l4len = put_tcp(l4, 5000, 23, 0x10, "x", 0);
	struct packet p;
	size_t hl = put_ipv4(f + 4, 6, l4len, 0, 0);
	memcpy(f + 4 + hl, l4, l4len);
	assert_int_equal(decode_frame(DLT_RAW, f + 4, (uint32_t)(hl + l4len), &p), DEC_OK);
	f[0] = 2; f[1] = 0; f[2] = 0; f[3] = 0;            /* AF_INET, little-endian host */
	assert_int_equal(decode_frame(DLT_NULL, f, (uint32_t)(4 + hl + l4len), &p), DEC_OK);
	f[0] = 0; f[3] = 2;                                 /* written by a big-endian host */
	assert_int_equal(decode_frame(DLT_NULL, f, (uint32_t)(4 + hl + l4len), &p), DEC_OK);
	f[3] = 99;
	assert_int_equal(decode_frame(DLT_NULL, f, (uint32_t)(4 + hl + l4len), &p), DEC_NON_IP);
}

static void ipv4_options_and_fragments(void **st)
{
	(void)st;
	uint8_t f[128], l4[64];
	size_t l4len = put_tcp(l4, 1234, 449, 0x18, "as-signon", 2);
	size_t hl = put_ipv4(f, 6, l4len, 0, 3);            /* 12 bytes of options */
	memcpy(f + hl, l4, l4len);
	struct packet p;
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)(hl + l4len), &p), DEC_OK);
	assert_int_equal(p.payload_len, 9);
	assert_memory_equal(p.payload, "as-signon", 9);
	/* first fragment (MF set): decoded, marked */
	put_ipv4(f, 6, l4len, 0x2000, 3);
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)(hl + l4len), &p), DEC_OK);
	assert_true(p.fragment);
	/* a later fragment: skipped */
	put_ipv4(f, 6, l4len, 0x0010, 3);
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)(hl + l4len), &p), DEC_NON_FIRST_FRAGMENT);
}

static void ipv4_bad_and_truncated(void **st)
{
	(void)st;
	uint8_t f[128], l4[64];
	size_t l4len = put_tcp(l4, 1, 2, 0, "", 0);
	size_t hl = put_ipv4(f, 6, l4len, 0, 0);
	memcpy(f + hl, l4, l4len);
	struct packet p;
	assert_int_equal(decode_frame(DLT_RAW, f, 10, &p), DEC_TRUNCATED_IP);
	assert_int_equal(decode_frame(DLT_RAW, f, 30, &p), DEC_TRUNCATED_TCP);
	f[0] = 0x43;                                        /* IHL 12 bytes */
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)(hl + l4len), &p), DEC_BAD_IP);
	f[0] = 0x45; f[9] = 17;
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)(hl + l4len), &p), DEC_NON_TCP);
	f[9] = 6; f[20 + 12] = 0x30;                        /* TCP data offset 12 bytes */
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)(hl + l4len), &p), DEC_BAD_TCP);
	f[2] = 0; f[3] = 10;                                /* total length < header */
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)(hl + l4len), &p), DEC_BAD_IP);
}

static size_t put_ipv6(uint8_t *b, uint8_t nh, size_t plen)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	b[4] = (uint8_t)(plen >> 8); b[5] = (uint8_t)plen;
	b[6] = nh; b[7] = 64;
	b[8] = 0x20; b[9] = 0x01; b[10] = 0x0d; b[11] = 0xb8; b[23] = 0x21;
	b[24] = 0x20; b[25] = 0x01; b[26] = 0x0d; b[27] = 0xb8; b[39] = 0x10;
	return 40;
}

static void ipv6_with_extensions(void **st)
{
	(void)st;
	uint8_t f[200], l4[64];
	size_t l4len = put_tcp(l4, 50000, 9476, 0x18, "\x16\x03\x01", 0);
	struct packet p;
	/* hop-by-hop (8 bytes) then destination options (16 bytes) then TCP */
	size_t o = put_ipv6(f, 0, 8 + 16 + l4len);
	memset(f + o, 0, 24);
	f[o] = 60; f[o + 1] = 0;          /* next: dest opts, length 8 */
	f[o + 8] = 6; f[o + 9] = 1;       /* next: TCP, length 16 */
	memcpy(f + o + 24, l4, l4len);
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)(o + 24 + l4len), &p), DEC_OK);
	assert_int_equal(p.dport, 9476);
	assert_false(addr_is_v4(&p.src));
	char a[ADDR_STRLEN];
	assert_string_equal(addr_str(&p.src, a), "2001:db8::21");
	/* a non-first fragment header */
	o = put_ipv6(f, 44, 8 + l4len);
	memset(f + o, 0, 8);
	f[o] = 6; f[o + 2] = 0x01; f[o + 3] = 0x00;   /* offset 32 */
	memcpy(f + o + 8, l4, l4len);
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)(o + 8 + l4len), &p), DEC_NON_FIRST_FRAGMENT);
	/* an extension header longer than the packet */
	o = put_ipv6(f, 0, 8 + l4len);
	f[o] = 6; f[o + 1] = 200;
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)(o + 8 + l4len), &p), DEC_IPV6_EXT);
}

static void six_in_four(void **st)
{
	(void)st;
	uint8_t f[200], l4[64];
	size_t l4len = put_tcp(l4, 50000, 8471, 0x02, "", 0);
	size_t hl = put_ipv4(f, 41, 40 + l4len, 0, 0);
	size_t o = hl + put_ipv6(f + hl, 6, l4len);
	memcpy(f + o, l4, l4len);
	struct packet p;
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)(o + l4len), &p), DEC_OK);
	assert_int_equal(p.dport, 8471);
	assert_false(addr_is_v4(&p.dst));
}

/* An inner IPv4/TCP packet wrapped by `wrap` bytes, inside outer IPv4 of protocol `proto`. */
static size_t tunnel(uint8_t *f, uint8_t proto, const uint8_t *wrap, size_t wlen)
{
	uint8_t inner[96], l4[64];
	size_t l4len = put_tcp(l4, 40100, 9476, 0x02, "", 0);
	size_t ihl = put_ipv4(inner, 6, l4len, 0, 0);
	inner[15] = 99;                                   /* inner client 192.0.2.99 */
	memcpy(inner + ihl, l4, l4len);
	size_t inlen = ihl + l4len;
	size_t ohl = put_ipv4(f, proto, wlen + inlen, 0, 0);
	f[12] = 203; f[13] = 0; f[14] = 113; f[15] = 1;   /* outer 203.0.113.1 */
	memcpy(f + ohl, wrap, wlen);
	memcpy(f + ohl + wlen, inner, inlen);
	return ohl + wlen + inlen;
}

static void tunnels(void **st)
{
	(void)st;
	uint8_t f[256];
	struct packet p;
	/* GTP-U: UDP to 2152, GTPv1 G-PDU (flags 0x30, type 0xFF), no options */
	const uint8_t gtp[] = { 0x08, 0x68, 0x08, 0x68, 0x00, 0x00, 0x00, 0x00,
				0x30, 0xFF, 0x00, 0x28, 0x00, 0x00, 0x00, 0x01 };
	size_t n = tunnel(f, 17, gtp, sizeof gtp);
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)n, &p), DEC_OK);
	assert_int_equal(p.dport, 9476);
	assert_int_equal(p.src.b[15], 99);                  /* the inner addresses */
	/* GTP-U with the sequence flag: 4 more bytes, no extension */
	const uint8_t gtps[] = { 0x08, 0x68, 0x08, 0x68, 0x00, 0x00, 0x00, 0x00,
				 0x32, 0xFF, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00 };
	n = tunnel(f, 17, gtps, sizeof gtps);
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)n, &p), DEC_OK);
	assert_int_equal(p.dport, 9476);
	/* GTP control (not a G-PDU) is not TCP */
	uint8_t gtpc[sizeof gtp];
	memcpy(gtpc, gtp, sizeof gtp);
	gtpc[9] = 0x01;
	n = tunnel(f, 17, gtpc, sizeof gtpc);
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)n, &p), DEC_NON_TCP);
	/* GRE with a key, carrying IPv4 */
	const uint8_t gre[] = { 0x20, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x2a };
	n = tunnel(f, 47, gre, sizeof gre);
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)n, &p), DEC_OK);
	assert_int_equal(p.src.b[15], 99);
	/* ERSPAN type II over GRE (sequence number set): 8-byte ERSPAN header, then Ethernet */
	uint8_t erspan[4 + 4 + 8 + 14] = { 0x10, 0x00, 0x88, 0xBE, 0, 0, 0, 1, 0x10, 0, 0, 1, 0, 0, 0, 0 };
	erspan[16 + 12] = 0x08;
	erspan[16 + 13] = 0x00;
	n = tunnel(f, 47, erspan, sizeof erspan);
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)n, &p), DEC_OK);
	assert_int_equal(p.dport, 9476);
	/* VXLAN: UDP to 4789, 8-byte header, then Ethernet */
	uint8_t vx[8 + 8 + 14] = { 0x12, 0x34, 0x12, 0xB5, 0, 0, 0, 0, 0x08, 0, 0, 0, 0, 0, 0x64, 0 };
	vx[16 + 12] = 0x08;
	vx[16 + 13] = 0x00;
	n = tunnel(f, 17, vx, sizeof vx);
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)n, &p), DEC_OK);
	assert_int_equal(p.dport, 9476);
	/* a truncated GTP header */
	n = tunnel(f, 17, gtp, sizeof gtp);
	assert_int_not_equal(decode_frame(DLT_RAW, f, 20 + 8 + 4, &p), DEC_OK);
	/* ordinary UDP (DNS) stays non-TCP */
	const uint8_t dns[] = { 0x12, 0x34, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00 };
	n = tunnel(f, 17, dns, sizeof dns);
	assert_int_equal(decode_frame(DLT_RAW, f, (uint32_t)n, &p), DEC_NON_TCP);
}

static void unsupported_linktypes(void **st)
{
	(void)st;
	assert_false(decode_linktype_supported(DLT_PPP));
	assert_true(decode_linktype_supported(DLT_EN10MB));
	assert_true(decode_linktype_supported(DLT_LINUX_SLL));
	assert_true(decode_linktype_supported(276));
	assert_true(decode_linktype_supported(DLT_NULL));
}

/* Ethernet + IPv6 (next header nh) + TCP 40000 -> 8476 "abc" */
static size_t frame_eth6(uint8_t *f, uint8_t nh)
{
	uint8_t l4[64];
	size_t l4len = put_tcp(l4, 40000, 8476, 0x18, "abc", 0);
	memset(f, 0xaa, 12);
	f[12] = 0x86; f[13] = 0xdd;
	uint8_t *ip = f + 14;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	ip[4] = (uint8_t)(l4len >> 8); ip[5] = (uint8_t)l4len;
	ip[6] = nh; ip[7] = 64;
	ip[8] = 0x20; ip[9] = 0x01; ip[10] = 0x0d; ip[11] = 0xb8; ip[23] = 1;
	ip[24] = 0x20; ip[25] = 0x01; ip[26] = 0x0d; ip[27] = 0xb8; ip[39] = 2;
	memcpy(ip + 40, l4, l4len);
	return 14 + 40 + l4len;
}

/* Ethernet + IPv4 (proto, fragment field, option words) + TCP 40000 -> 8476 */
static size_t frame_eth4(uint8_t *f, uint8_t proto, uint16_t frag, int optwords)
{
	uint8_t l4[64];
	size_t l4len = put_tcp(l4, 40000, 8476, 0x18, "abc", 0);
	if (proto == 17) {   /* UDP 40000 -> 443: not a name protocol, not a tunnel */
		l4[2] = 443 >> 8; l4[3] = 443 & 0xff;
	}
	memset(f, 0xaa, 12);
	f[12] = 0x08; f[13] = 0x00;
	size_t hl = put_ipv4(f + 14, proto, l4len, frag, optwords);
	memcpy(f + 14 + hl, l4, l4len);
	return 14 + hl + l4len;
}

/*
 * The prefilter's quick look (decode_ports) at every truncation of each
 * frame, against the answers worked out by hand from its contract: the
 * protocol once the IP header's fields are there (and, for TCP and UDP,
 * the ports), -1 for fragments, extension headers and anything cut short.
 */
static void quick_look_every_length(void **st)
{
	(void)st;
	struct {
		int v6;
		uint8_t proto;
		uint16_t frag;
		int optwords;
		int want;            /* answer with the whole frame */
		size_t need;         /* bytes needed for that answer; shorter gives -1 */
	} cases[] = {
		{ 0, 6, 0, 0, 6, 14 + 20 + 4 },
		{ 0, 6, 0, 2, 6, 14 + 28 + 4 },
		{ 0, 1, 0, 0, 1, 14 + 10 },          /* ICMP: the protocol field is enough */
		{ 0, 17, 0, 0, 17, 14 + 20 + 4 },    /* UDP: its ports are looked at */
		{ 0, 6, 0x2000, 0, -1, 0 },          /* first fragment: the full decoder's job */
		{ 0, 6, 0x0010, 0, -1, 0 },          /* later fragment */
		{ 1, 6, 0, 0, 6, 14 + 40 + 4 },
		{ 1, 58, 0, 0, 58, 14 + 7 },         /* ICMPv6: the next-header field is enough */
		{ 1, 0, 0, 0, -1, 0 },               /* hop-by-hop extension header */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t f[256];
		size_t len = cases[i].v6 ? frame_eth6(f, cases[i].proto)
					 : frame_eth4(f, cases[i].proto, cases[i].frag, cases[i].optwords);
		for (size_t n = 0; n <= len; n++) {
			uint16_t sp = 0, dp = 0;
			int r = decode_ports(DLT_EN10MB, f, (uint32_t)n, &sp, &dp);
			int want = cases[i].want >= 0 && n >= cases[i].need ? cases[i].want : -1;
			if (r != want)
				fail_msg("case %zu, %zu of %zu bytes: %d, expected %d", i, n, len, r, want);
			if (r == 6) {
				assert_int_equal(sp, 40000);
				assert_int_equal(dp, 8476);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ethernet_ipv4_tcp),
		cmocka_unit_test(vlan_stacks),
		cmocka_unit_test(ethernet_padding_is_not_payload),
		cmocka_unit_test(sll_and_sll2),
		cmocka_unit_test(raw_and_loopback),
		cmocka_unit_test(ipv4_options_and_fragments),
		cmocka_unit_test(ipv4_bad_and_truncated),
		cmocka_unit_test(ipv6_with_extensions),
		cmocka_unit_test(six_in_four),
		cmocka_unit_test(tunnels),
		cmocka_unit_test(unsupported_linktypes),
		cmocka_unit_test(quick_look_every_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
