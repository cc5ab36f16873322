/*
 * decode.c - link, IP and TCP headers to a struct packet (see decode.h).
 *
 * Link types: Ethernet (with any number of 802.1Q / 802.1ad / QinQ tags, up
 * to a bound), Linux SLL and SLL2, raw IP (DLT_RAW, LINKTYPE_IPV4/IPV6), BSD
 * loopback (DLT_NULL, DLT_LOOP).  IPv4 with options; fragments: the first one
 * is decoded, later ones are skipped and counted.  IPv6 with its extension
 * headers walked (hop-by-hop, routing, fragment, destination options, AH).
 * Linux NFLOG (the payload TLV).  Layers below IP: MPLS label stacks (IP,
 * or an Ethernet pseudowire with its control word) and PPPoE sessions, over
 * Ethernet and VLAN tags.  Tunnels are opened, to a bounded depth:
 * IPv6-in-IPv4 and IP-in-IP, GRE (with ERSPAN type II and transparent
 * Ethernet bridging), GRE in UDP (RFC 8086), VXLAN, Geneve (cloud traffic
 * mirroring), GTP-U and AYIYA; the packet then carries the innermost
 * addresses and IP header, and a bit for each kind of layer it went through.
 * TCP with options.  All reads go through the bounded cursor.
 */
#include "decode.h"

#include <pcap/pcap.h>

#include "cursor.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
#ifndef DLT_NFLOG
#define DLT_NFLOG 239
#endif

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86DD
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88A8
#define ETH_QINQ_OLD 0x9100
#define ETH_MPLS 0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE_SESSION 0x8864
#define MAX_MPLS_LABELS 8
#define MAX_VLAN_TAGS 8
#define MAX_TUNNEL_DEPTH 3
#define MAX_IPV6_EXT 8

static const char *const reason_names[DEC_NREASONS] = {
	[DEC_OK] = "decoded",
	[DEC_TRUNCATED_LINK] = "truncated_link",
	[DEC_NON_IP] = "non_ip",
	[DEC_TRUNCATED_IP] = "truncated_ip",
	[DEC_BAD_IP] = "bad_ip_header",
	[DEC_NON_FIRST_FRAGMENT] = "ip_fragment_skipped",
	[DEC_IPV6_EXT] = "bad_ipv6_extension",
	[DEC_NON_TCP] = "non_tcp",
	[DEC_TRUNCATED_TCP] = "truncated_tcp",
	[DEC_BAD_TCP] = "bad_tcp_header",
	[DEC_TUNNEL_DEPTH] = "tunnel_too_deep",
};

const char *decode_reason_name(enum decode_result r)
{
	return (unsigned)r < DEC_NREASONS ? reason_names[r] : "unknown";
}

const char *encap_name(enum encap e)
{
	static const char *const n[ENCAP_N] = {
		[ENCAP_VLAN] = "vlan", [ENCAP_MPLS] = "mpls", [ENCAP_PPPOE] = "pppoe", [ENCAP_IP_IN_IP] = "ip_in_ip",
		[ENCAP_GRE] = "gre", [ENCAP_ERSPAN] = "erspan", [ENCAP_VXLAN] = "vxlan", [ENCAP_GENEVE] = "geneve",
		[ENCAP_GRE_UDP] = "gre_in_udp", [ENCAP_GTPU] = "gtp_u", [ENCAP_AYIYA] = "ayiya",
	};
	return (unsigned)e < ENCAP_N ? n[e] : "unknown";
}

static inline void layer(struct packet *pkt, enum encap e)
{
	pkt->encap |= (uint16_t)(1u << e);
}

bool decode_linktype_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB: case DLT_LINUX_SLL: case DLT_LINUX_SLL2: case DLT_RAW:
	case DLT_IPV4: case DLT_IPV6: case DLT_NULL: case DLT_LOOP: case DLT_NFLOG:
#if defined(DLT_RAW) && DLT_RAW != 12
	case 12:
#endif
#if DLT_RAW != 14
	case 14:
#endif
		return true;
	default:
		return false;
	}
}

static enum decode_result decode_ip(struct cursor c, struct packet *pkt, int depth);
static enum decode_result decode_ethertype(struct cursor c, uint16_t type, struct packet *pkt, int depth);

#define UDP_GTPU 2152
#define UDP_VXLAN 4789
#define UDP_GENEVE 6081
#define UDP_GRE 4754
#define UDP_AYIYA 5072
#define GRE_ERSPAN2 0x88BE
#define GRE_TEB 0x6558

/* An Ethernet frame inside a tunnel: the addresses, then its type. */
static enum decode_result decode_inner_ethernet(struct cursor c, struct packet *pkt, int depth)
{
	if (!cur_skip(&c, 12))
		return DEC_TRUNCATED_LINK;
	uint16_t et = cur_be16(&c);
	if (c.err)
		return DEC_TRUNCATED_LINK;
	return decode_ethertype(c, et, pkt, depth + 1);
}

/* What a tunnel carries, by the EtherType-style protocol it names: an Ethernet frame (0x6558)
 * or a network-layer packet (GRE, Geneve). */
static enum decode_result decode_tunnel_payload(struct cursor c, uint16_t type, struct packet *pkt, int depth)
{
	if (type == GRE_TEB)
		return decode_inner_ethernet(c, pkt, depth);
	return decode_ethertype(c, type, pkt, depth + 1);
}

/* GRE (RFC 2784/2890): flags and version, protocol type, then optional
 * checksum, key and sequence words; ERSPAN type II adds 8 bytes before the
 * mirrored Ethernet frame. */
static enum decode_result decode_gre(struct cursor c, struct packet *pkt, int depth)
{
	layer(pkt, ENCAP_GRE);
	uint16_t flags = cur_be16(&c);
	uint16_t type = cur_be16(&c);
	if (c.err)
		return DEC_TRUNCATED_IP;
	if (flags & 0x0007)
		return DEC_NON_TCP;             /* GRE version 1 (PPTP) and others */
	size_t opt = ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0);
	if (!cur_skip(&c, opt))
		return DEC_TRUNCATED_IP;
	if (type == GRE_ERSPAN2) {
		layer(pkt, ENCAP_ERSPAN);
		if (!cur_skip(&c, 8))
			return DEC_TRUNCATED_IP;
		type = GRE_TEB;
	}
	return decode_tunnel_payload(c, type, pkt, depth);
}

/* Geneve (RFC 8926): 8 bytes, then the options (length in 4-byte words), then
 * a frame of the protocol type it names (Ethernet, IPv4, IPv6). */
static enum decode_result decode_geneve(struct cursor c, struct packet *pkt, int depth)
{
	layer(pkt, ENCAP_GENEVE);
	uint8_t vo = cur_u8(&c);
	cur_skip(&c, 1);
	uint16_t type = cur_be16(&c);
	if (!cur_skip(&c, 4) || (vo >> 6) != 0)
		return c.err ? DEC_TRUNCATED_IP : DEC_NON_TCP;     /* only version 0 exists */
	if (!cur_skip(&c, (size_t)(vo & 0x3f) * 4))
		return DEC_TRUNCATED_IP;
	return decode_tunnel_payload(c, type, pkt, depth);
}

/* AYIYA (draft-massar-v6ops-ayiya): identity length 2^n, signature length in
 * 4-byte words, the next header (IPv6 41, IPv4 4), an epoch, then the packet. */
static enum decode_result decode_ayiya(struct cursor c, struct packet *pkt, int depth)
{
	layer(pkt, ENCAP_AYIYA);
	uint8_t id = cur_u8(&c);
	uint8_t sig = cur_u8(&c);
	uint8_t op = cur_u8(&c);
	uint8_t next = cur_u8(&c);
	if (c.err)
		return DEC_TRUNCATED_IP;
	if ((op & 0x0f) != 1 || (next != 41 && next != 4))
		return DEC_NON_TCP;             /* only "forward" carries a packet */
	size_t skip = 4 + ((size_t)1 << (id >> 4)) + (size_t)(sig >> 4) * 4;
	if (!cur_skip(&c, skip))
		return DEC_TRUNCATED_IP;
	return decode_ip(cur_rest(&c), pkt, depth + 1);
}

/* UDP tunnels: GTP-U (3GPP TS 29.281: 8 bytes, 4 more when E, S or PN is
 * set, then the extension headers), VXLAN (RFC 7348: 8 bytes, then an
 * Ethernet frame), Geneve, GRE in UDP (RFC 8086) and AYIYA.  The name
 * protocols (decode_name_port) come out as DEC_NON_TCP with udp_name set, their
 * ports and payload filled, for names.c.  Other UDP is not ours. */
static enum decode_result decode_udp(struct cursor c, struct packet *pkt, int depth)
{
	uint16_t sport = cur_be16(&c);
	uint16_t dport = cur_be16(&c);
	uint16_t ulen = cur_be16(&c);
	if (!cur_skip(&c, 2))
		return DEC_NON_TCP;
	if (dport == UDP_GENEVE)
		return decode_geneve(c, pkt, depth);
	if (dport == UDP_GRE) {
		layer(pkt, ENCAP_GRE_UDP);
		return decode_gre(c, pkt, depth);
	}
	if (dport == UDP_AYIYA)
		return decode_ayiya(c, pkt, depth);
	if (dport == UDP_GTPU) {
		layer(pkt, ENCAP_GTPU);
		uint8_t flags = cur_u8(&c);
		uint8_t type = cur_u8(&c);
		if (!cur_skip(&c, 6) || (flags >> 5) != 1 || type != 0xFF)
			return DEC_NON_TCP;             /* not GTPv1 user data (G-PDU) */
		if (flags & 0x07) {
			cur_skip(&c, 3);
			uint8_t next = cur_u8(&c);
			for (int i = 0; next && i < 8 && !c.err; i++) {
				uint8_t words = cur_u8(&c);
				if (words == 0 || !cur_skip(&c, (size_t)words * 4 - 2))
					return DEC_TRUNCATED_IP;
				next = cur_u8(&c);
			}
		}
		if (c.err)
			return DEC_TRUNCATED_IP;
		return decode_ip(cur_rest(&c), pkt, depth + 1);
	}
	if (dport == UDP_VXLAN) {
		layer(pkt, ENCAP_VXLAN);
		if (!cur_skip(&c, 8))
			return DEC_TRUNCATED_LINK;
		return decode_inner_ethernet(c, pkt, depth);
	}
	if (decode_name_port(dport) || decode_name_port(sport)) {
		/* a name protocol: not TCP, but its payload goes to names.c */
		pkt->sport = sport;
		pkt->dport = dport;
		struct cursor body = cur_rest(&c);
		if (ulen >= 8)
			cur_limit(&body, ulen - 8u);
		pkt->payload_len = (uint32_t)cur_left(&body);
		pkt->payload = cur_view(&body, pkt->payload_len);
		pkt->udp_name = true;
		return DEC_NON_TCP;
	}
	return DEC_NON_TCP;
}

static enum decode_result decode_tcp(struct cursor c, struct packet *pkt, uint32_t wire_len)
{
	if (!cur_has(&c, 20))
		return DEC_TRUNCATED_TCP;
	pkt->sport = cur_be16(&c);
	pkt->dport = cur_be16(&c);
	pkt->seq = cur_be32(&c);
	pkt->ack = cur_be32(&c);
	uint8_t off = cur_u8(&c) >> 4;
	pkt->flags = cur_u8(&c) & 0x3f;
	if (off < 5)
		return DEC_BAD_TCP;
	size_t hlen = (size_t)off * 4;
	if (wire_len < hlen)
		return DEC_BAD_TCP;
	c.off = 0;
	if (!cur_skip(&c, hlen))
		return DEC_TRUNCATED_TCP;
	pkt->payload_wire = wire_len - (uint32_t)hlen;
	size_t avail = cur_left(&c);
	if (avail > pkt->payload_wire)
		avail = pkt->payload_wire;   /* Ethernet padding is not payload */
	pkt->payload = cur_view(&c, avail);
	pkt->payload_len = (uint32_t)avail;
	return DEC_OK;
}

/* Payload of an IP packet: TCP, or another IP layer (6in4, IP-in-IP). */
static enum decode_result decode_l4(struct cursor c, uint8_t proto, struct packet *pkt,
				    uint32_t wire_len, int depth)
{
	switch (proto) {
	case 6:
		return decode_tcp(c, pkt, wire_len);
	case 4: case 41:
		if (depth >= MAX_TUNNEL_DEPTH)
			return DEC_TUNNEL_DEPTH;
		layer(pkt, ENCAP_IP_IN_IP);
		return decode_ip(c, pkt, depth + 1);
	case 17:
		if (depth >= MAX_TUNNEL_DEPTH)
			return DEC_TUNNEL_DEPTH;
		return decode_udp(c, pkt, depth);
	case 47:
		if (depth >= MAX_TUNNEL_DEPTH)
			return DEC_TUNNEL_DEPTH;
		return decode_gre(c, pkt, depth);
	default:
		return DEC_NON_TCP;
	}
}

static enum decode_result decode_ipv4(struct cursor c, struct packet *pkt, int depth)
{
	if (!cur_has(&c, 20))
		return DEC_TRUNCATED_IP;
	uint8_t vihl = cur_peek_u8(&c, 0);
	size_t ihl = (size_t)(vihl & 0x0f) * 4;
	if ((vihl >> 4) != 4 || ihl < 20)
		return DEC_BAD_IP;
	uint16_t total = cur_peek_be16(&c, 2);
	uint16_t frag = cur_peek_be16(&c, 6);
	uint8_t proto = cur_peek_u8(&c, 9);
	if (total < ihl)
		return DEC_BAD_IP;
	if (!cur_has(&c, ihl))
		return DEC_TRUNCATED_IP;
	uint8_t src[4], dst[4];
	struct cursor h = c;
	cur_skip(&h, 12);
	cur_copy(&h, src, 4);
	cur_copy(&h, dst, 4);
	addr_from_v4(&pkt->src, src);
	addr_from_v4(&pkt->dst, dst);
	{                                 /* the innermost IP header goes to nDPI */
		struct cursor v = c;      /* view handed to nDPI, bounded by l3_len */
		pkt->l3_len = (uint32_t)cur_left(&v);
		pkt->l3 = cur_view(&v, pkt->l3_len);
	}
	if ((frag & 0x1fff) != 0)
		return DEC_NON_FIRST_FRAGMENT;
	if (frag & 0x2000)
		pkt->fragment = true;
	cur_skip(&c, ihl);
	/* The IP header's length rules; captured bytes may be fewer (snaplen). */
	struct cursor body = cur_rest(&c);
	uint32_t wire = total - (uint32_t)ihl;
	cur_limit(&body, wire);
	return decode_l4(body, proto, pkt, wire, depth);
}

static bool ipv6_is_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51 || nh == 135;
}

static enum decode_result decode_ipv6(struct cursor c, struct packet *pkt, int depth)
{
	if (!cur_has(&c, 40))
		return DEC_TRUNCATED_IP;
	if ((cur_peek_u8(&c, 0) >> 4) != 6)
		return DEC_BAD_IP;
	{
		struct cursor v = c;
		pkt->l3_len = (uint32_t)cur_left(&v);
		pkt->l3 = cur_view(&v, pkt->l3_len);
	}
	uint32_t plen = cur_peek_be16(&c, 4);
	uint8_t nh = cur_peek_u8(&c, 6);
	uint8_t src[16], dst[16];
	cur_skip(&c, 8);
	cur_copy(&c, src, 16);
	cur_copy(&c, dst, 16);
	addr_from_v6(&pkt->src, src);
	addr_from_v6(&pkt->dst, dst);
	struct cursor body = cur_rest(&c);
	cur_limit(&body, plen);
	uint32_t wire = plen;
	for (int i = 0; ipv6_is_ext(nh); i++) {
		if (i >= MAX_IPV6_EXT)
			return DEC_IPV6_EXT;
		if (!cur_has(&body, 8))
			return cur_left(&body) < wire ? DEC_TRUNCATED_IP : DEC_IPV6_EXT;
		uint8_t next = cur_peek_u8(&body, 0);
		size_t len;
		if (nh == 44) {          /* fragment header: fixed 8 bytes */
			uint16_t fo = cur_peek_be16(&body, 2);
			if ((fo & 0xfff8) != 0)
				return DEC_NON_FIRST_FRAGMENT;
			if (fo & 1)
				pkt->fragment = true;
			len = 8;
		} else if (nh == 51) {   /* AH counts 4-byte words, minus 2 */
			len = ((size_t)cur_peek_u8(&body, 1) + 2) * 4;
		} else {
			len = ((size_t)cur_peek_u8(&body, 1) + 1) * 8;
		}
		if (len > wire)
			return DEC_IPV6_EXT;
		if (!cur_skip(&body, len))
			return DEC_TRUNCATED_IP;
		wire -= (uint32_t)len;
		nh = next;
	}
	return decode_l4(cur_rest(&body), nh, pkt, wire, depth);
}

static enum decode_result decode_ip(struct cursor c, struct packet *pkt, int depth)
{
	if (!cur_has(&c, 1))
		return DEC_TRUNCATED_IP;
	switch (cur_peek_u8(&c, 0) >> 4) {
	case 4: return decode_ipv4(c, pkt, depth);
	case 6: return decode_ipv6(c, pkt, depth);
	default: return DEC_BAD_IP;
	}
}

/* An MPLS label stack (RFC 3032) down to its bottom entry, then IP by its
 * version nibble, or an Ethernet pseudowire behind its control word (RFC 4448). */
static enum decode_result decode_mpls(struct cursor c, struct packet *pkt, int depth)
{
	layer(pkt, ENCAP_MPLS);
	for (int n = 0;; n++) {
		if (n >= MAX_MPLS_LABELS)
			return DEC_TUNNEL_DEPTH;
		uint32_t entry = cur_be32(&c);
		if (c.err)
			return DEC_TRUNCATED_LINK;
		if (entry & 0x100)              /* bottom of stack */
			break;
	}
	if (!cur_has(&c, 1))
		return DEC_TRUNCATED_LINK;
	switch (cur_peek_u8(&c, 0) >> 4) {
	case 4: case 6: return decode_ip(cur_rest(&c), pkt, depth);
	case 0:
		if (depth >= MAX_TUNNEL_DEPTH)
			return DEC_TUNNEL_DEPTH;
		cur_skip(&c, 4);                /* the pseudowire control word */
		return decode_inner_ethernet(c, pkt, depth);
	default: return DEC_NON_IP;
	}
}

/* A PPPoE session frame (RFC 2516): 6 bytes, then the PPP protocol number. */
static enum decode_result decode_pppoe(struct cursor c, struct packet *pkt, int depth)
{
	layer(pkt, ENCAP_PPPOE);
	uint8_t vt = cur_u8(&c);
	cur_skip(&c, 5);
	uint16_t proto = cur_be16(&c);
	if (c.err)
		return DEC_TRUNCATED_LINK;
	if (vt != 0x11)
		return DEC_NON_IP;
	switch (proto) {
	case 0x0021: case 0x0057: return decode_ip(cur_rest(&c), pkt, depth);
	default: return DEC_NON_IP;     /* LCP, IPCP, ... */
	}
}

static enum decode_result decode_ethertype(struct cursor c, uint16_t type, struct packet *pkt, int depth)
{
	for (int tags = 0; type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD; tags++) {
		layer(pkt, ENCAP_VLAN);
		if (tags >= MAX_VLAN_TAGS || !cur_skip(&c, 2))
			return DEC_TRUNCATED_LINK;
		type = cur_be16(&c);
		if (c.err)
			return DEC_TRUNCATED_LINK;
	}
	if (type == ETH_IPV4 || type == ETH_IPV6)
		return decode_ip(cur_rest(&c), pkt, depth);
	if (type == ETH_MPLS || type == ETH_MPLS_MC)
		return decode_mpls(cur_rest(&c), pkt, depth);
	if (type == ETH_PPPOE_SESSION)
		return decode_pppoe(cur_rest(&c), pkt, depth);
	return depth ? DEC_NON_TCP : DEC_NON_IP;
}

/* Linux NFLOG (LINKTYPE_NFLOG): family, version, resource id, then TLVs of
 * 16-bit length and type in the capturing host's byte order (little-endian
 * on the machines that write them; the other order is tried when that one
 * cannot be), each padded to 4 bytes; type 9 is the packet from its IP
 * header. */
#define NFULA_PAYLOAD 9
static enum decode_result decode_nflog(struct cursor c, struct packet *pkt)
{
	if (!cur_skip(&c, 4))
		return DEC_TRUNCATED_LINK;
	struct cursor tlvs = cur_rest(&c);
	for (int order = 0; order < 2; order++) {
		struct cursor t = tlvs;
		for (int n = 0; n < 64 && cur_left(&t) >= 4; n++) {
			struct cursor h = t;
			uint16_t len = order ? cur_be16(&h) : cur_le16(&h);
			uint16_t type = order ? cur_be16(&h) : cur_le16(&h);
			if (len < 4 || len > cur_left(&t))
				break;
			if ((type & 0x7fff) == NFULA_PAYLOAD) {
				struct cursor v = t;
				cur_skip(&v, 4);
				struct cursor body = cur_sub(&v, len - 4u);
				return decode_ip(body, pkt, 0);
			}
			if (!cur_skip(&t, ((size_t)len + 3) & ~(size_t)3))
				break;
		}
	}
	return DEC_NON_IP;
}

static enum decode_result decode_null(struct cursor c, int dlt, struct packet *pkt)
{
	if (!cur_has(&c, 4))
		return DEC_TRUNCATED_LINK;
	/* DLT_NULL is in the writer's byte order, DLT_LOOP in network order. */
	uint32_t fam = dlt == DLT_LOOP ? cur_be32(&c) : cur_le32(&c);
	if (fam > 0xffff)
		fam = __builtin_bswap32(fam);
	switch (fam) {
	case 2:                              /* AF_INET */
	case 24: case 28: case 30: case 10:  /* AF_INET6 on BSDs, macOS, Linux */
		return decode_ip(cur_rest(&c), pkt, 0);
	default:
		return DEC_NON_IP;
	}
}

enum decode_result decode_frame(int dlt, const uint8_t *frame, uint32_t caplen, struct packet *pkt)
{
	struct cursor c = cur_make(frame, caplen);
	pkt->l3 = NULL;
	pkt->l3_len = 0;
	pkt->payload = NULL;
	pkt->payload_len = pkt->payload_wire = 0;
	pkt->fragment = false;
	pkt->encap = 0;
	pkt->udp_name = false;
	pkt->eth_src = NULL;
	switch (dlt) {
	case DLT_EN10MB:
		if (!cur_skip(&c, 12))
			return DEC_TRUNCATED_LINK;
		{
			struct cursor src = cur_make(frame, 12);
			cur_skip(&src, 6);            /* the destination */
			pkt->eth_src = cur_view(&src, 6);
			uint16_t type = cur_be16(&c);
			if (c.err)
				return DEC_TRUNCATED_LINK;
			return decode_ethertype(c, type, pkt, 0);
		}
	case DLT_LINUX_SLL:
		if (!cur_skip(&c, 14))
			return DEC_TRUNCATED_LINK;
		{
			uint16_t type = cur_be16(&c);
			if (c.err)
				return DEC_TRUNCATED_LINK;
			return decode_ethertype(c, type, pkt, 0);
		}
	case DLT_LINUX_SLL2:
		{
			uint16_t type = cur_be16(&c);
			if (!cur_skip(&c, 18))
				return DEC_TRUNCATED_LINK;
			return decode_ethertype(c, type, pkt, 0);
		}
	case DLT_NULL: case DLT_LOOP:
		return decode_null(c, dlt, pkt);
	case DLT_NFLOG:
		return decode_nflog(c, pkt);
	default:
		if (decode_linktype_supported(dlt))   /* the raw-IP family */
			return decode_ip(c, pkt, 0);
		return DEC_NON_IP;
	}
}

static inline uint16_t be16_at(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/*
 * The common case of decode_ports() with one length check up front: an
 * untagged Ethernet frame holding IPv4 (not a fragment) or IPv6 without an
 * extension header, and enough bytes for the transport ports.  Returns the
 * same as decode_ports() would, or -2 to mean "not this case, take the
 * careful path".  It only answers where every read of the careful path
 * would have succeeded, so the two cannot disagree.
 */
static int ports_fast(const uint8_t *frame, uint32_t caplen, uint16_t *sport, uint16_t *dport)
{
	if (caplen < 14 + 20 + 4)
		return -2;
	uint16_t type = be16_at(frame + 12);
	const uint8_t *ip = frame + 14;
	uint8_t proto;
	size_t l4;
	if (type == ETH_IPV4) {
		uint8_t vihl = ip[0];
		if ((vihl >> 4) != 4 || (vihl & 0x0f) < 5 || (be16_at(ip + 6) & 0x3fff))
			return -2;
		proto = ip[9];
		l4 = (size_t)(vihl & 0x0f) * 4;
	} else if (type == ETH_IPV6) {
		if (caplen < 14 + 40 + 4 || (ip[0] >> 4) != 6)
			return -2;
		proto = ip[6];
		l4 = 40;
		if (ipv6_is_ext(proto))
			return -2;
	} else {
		return -2;
	}
	if (proto == 4 || proto == 41 || proto == 47 || proto == 17 || 14 + l4 + 4 > caplen)
		return -2;
	if (proto != 6)
		return proto;
	*sport = be16_at(ip + l4);
	*dport = be16_at(ip + l4 + 2);
	return 6;
}

int decode_ports(int dlt, const uint8_t *frame, uint32_t caplen, uint16_t *sport, uint16_t *dport)
{
	if (dlt == DLT_EN10MB) {
		int r = ports_fast(frame, caplen, sport, dport);
		if (r != -2)
			return r;
	}
	struct cursor c = cur_make(frame, caplen);
	uint16_t type = ETH_IPV4;
	switch (dlt) {
	case DLT_EN10MB:
		cur_skip(&c, 12);
		type = cur_be16(&c);
		for (int tags = 0; (type == ETH_VLAN || type == ETH_QINQ) && tags < MAX_VLAN_TAGS; tags++) {
			cur_skip(&c, 2);
			type = cur_be16(&c);
		}
		break;
	case DLT_LINUX_SLL:
		cur_skip(&c, 14);
		type = cur_be16(&c);
		break;
	case DLT_LINUX_SLL2:
		type = cur_be16(&c);
		cur_skip(&c, 18);
		break;
	default:
		return -1;
	}
	if (c.err)
		return -1;
	uint8_t proto;
	size_t l4;
	if (type == ETH_IPV4) {
		uint8_t vihl = cur_peek_u8(&c, 0);
		if ((vihl >> 4) != 4 || (vihl & 0x0f) < 5 || (cur_peek_be16(&c, 6) & 0x3fff))
			return -1;              /* odd header or a fragment: the full decoder counts it */
		proto = cur_peek_u8(&c, 9);
		l4 = (size_t)(vihl & 0x0f) * 4;
	} else if (type == ETH_IPV6) {
		if ((cur_peek_u8(&c, 0) >> 4) != 6)
			return -1;
		proto = cur_peek_u8(&c, 6);
		l4 = 40;
		if (ipv6_is_ext(proto))
			return -1;
	} else if (type == ETH_MPLS || type == ETH_MPLS_MC || type == ETH_PPPOE_SESSION) {
		return -1;                      /* IP below a label or a session: the full decoder opens it */
	} else {
		return 0;                       /* not IP */
	}
	if (c.err)
		return -1;
	if (proto == 4 || proto == 41 || proto == 47)
		return -1;                      /* a tunnel: let the full decoder open it */
	if (proto == 17) {
		uint16_t udport = cur_peek_be16(&c, l4 + 2);
		if (c.err || udport == UDP_GTPU || udport == UDP_VXLAN || udport == UDP_GENEVE || udport == UDP_GRE ||
		    udport == UDP_AYIYA || decode_name_port(udport) || decode_name_port(cur_peek_be16(&c, l4)))
			return -1;              /* a tunnel, or a name protocol (names.c) */
	}
	if (proto != 6)
		return proto;
	*sport = cur_peek_be16(&c, l4);
	*dport = cur_peek_be16(&c, l4 + 2);
	return c.err ? -1 : 6;
}
