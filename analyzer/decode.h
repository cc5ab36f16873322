/*
 * decode.h - link, IP and TCP decoding of one captured frame.
 *
 * Input: a link type (libpcap DLT_*) and the captured bytes of one frame.
 * Output: a struct packet with addresses, ports, TCP flags, sequence
 * numbers and a view of the payload, or the reason it was not decoded.
 * Every reason has a counter; nothing is dropped silently.  The packet's
 * pointers point into the caller's frame buffer: nothing is copied.
 */
#ifndef TLSREADY_DECODE_H
#define TLSREADY_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

/* UDP ports of the name protocols (DNS, DHCP, DHCPv6, NetBIOS name service, mDNS, LLMNR): decoded for names.c. */
static inline bool decode_name_port(uint16_t p)
{
	return p == 53 || p == 67 || p == 68 || p == 137 || p == 546 || p == 547 || p == 5353 || p == 5355;
}

enum tcp_flag {
	TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_PSH = 0x08, TH_ACK = 0x10, TH_URG = 0x20,
};

struct packet {
	uint64_t index;            /* frame number in the input, from 0: a global order */
	int64_t ts_us;             /* capture time, microseconds since the epoch */
	uint32_t caplen, wirelen;
	struct addr src, dst;
	uint16_t sport, dport;
	uint8_t flags;             /* enum tcp_flag */
	uint32_t seq, ack;
	const uint8_t *l3;         /* IP header, for nDPI */
	uint32_t l3_len;           /* captured bytes from l3 on */
	const uint8_t *payload;    /* TCP payload actually captured */
	uint32_t payload_len;      /* captured payload bytes */
	uint32_t payload_wire;     /* payload length according to the IP header */
	bool fragment;             /* a first fragment (more follow) */
	uint16_t encap;            /* bit (1 << enum encap) for each kind of layer opened to reach TCP */
	bool udp_name;             /* DEC_NON_TCP, but UDP of a name protocol (names.h): ports and payload set */
	const uint8_t *eth_src;    /* an Ethernet link's (DLT_EN10MB) outermost source address, 6 bytes; NULL
	                              on other links (names.c: DHCPv6 same-link evidence) */
};

/* Encapsulations opened on the way to the TCP segment (each counted). */
enum encap {
	ENCAP_VLAN = 0, ENCAP_MPLS, ENCAP_PPPOE, ENCAP_IP_IN_IP, ENCAP_GRE, ENCAP_ERSPAN, ENCAP_VXLAN,
	ENCAP_GENEVE, ENCAP_GRE_UDP, ENCAP_GTPU, ENCAP_AYIYA, ENCAP_N
};
const char *encap_name(enum encap e);

/* Why a frame was not decoded as TCP.  DEC_OK means it was. */
enum decode_result {
	DEC_OK = 0,
	DEC_TRUNCATED_LINK,        /* frame shorter than its link header */
	DEC_NON_IP,                /* ARP, LLDP, ... */
	DEC_TRUNCATED_IP,          /* snaplen cut the IP header */
	DEC_BAD_IP,                /* version, header length or total length wrong */
	DEC_NON_FIRST_FRAGMENT,    /* IPv4/IPv6 fragment after the first: skipped */
	DEC_IPV6_EXT,              /* extension header chain unparseable or too long */
	DEC_NON_TCP,               /* UDP, ICMP, ... */
	DEC_TRUNCATED_TCP,         /* snaplen cut the TCP header */
	DEC_BAD_TCP,               /* data offset wrong */
	DEC_TUNNEL_DEPTH,          /* too many nested IP-in-IP layers */
	DEC_NREASONS
};

/* Counter name for a reason ("truncated_ip", ...). */
const char *decode_reason_name(enum decode_result r);

/* Is this libpcap link type one we decode? */
bool decode_linktype_supported(int dlt);

enum decode_result decode_frame(int dlt, const uint8_t *frame, uint32_t caplen, struct packet *pkt);

/*
 * The prefilter's quick look: the transport protocol and, for TCP, the ports,
 * without building a packet.  Returns the IP protocol number (6 for TCP), or
 * -1 when the frame needs the full decoder to say (IPv6 extension headers,
 * tunnels, fragments, truncation, anything unusual).
 */
int decode_ports(int dlt, const uint8_t *frame, uint32_t caplen, uint16_t *sport, uint16_t *dport);

#endif
