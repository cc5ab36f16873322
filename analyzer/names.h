/*
 * names.h - who an address is: host names learned passively from DNS,
 * mDNS, LLMNR and NetBIOS name service answers and from DHCP and DHCPv6, and the DHCP
 * leases that say which host held an address when.
 *
 * In: UDP packets of the name protocols (decode.c marks them, capture.c hands
 * them here on the reading thread; the dissectors under dissectors/ parse
 * them).  Out, once the input ended (names_prepare): the names of an address
 * (each with its source, first and last time, count), the host that held an
 * address at a time (by its DHCP lease), and each host's hardware address,
 * client identifier and host name, for the inventory (inventory.c).
 *
 * Memory: the whole table (names, hosts, leases and their indexes) is capped
 * at NAMES_MAX_BYTES; what does not fit is counted (names_table_full,
 * dhcp_table_full), never silently dropped.  Every counter is in the
 * registry (counters.c).
 */
#ifndef TLSREADY_NAMES_H
#define TLSREADY_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dhcp.h"
#include "dns.h"

#define NAMES_MAX_BYTES (8u << 20)

/* Best first: the order "best name" is chosen in. */
enum name_source {
	NAME_DHCP = 0, NAME_DNS_PTR, NAME_DNS_A, NAME_NETBIOS, NAME_LLMNR, NAME_MDNS,
	NAME_DRDA, NAME_TELNET,    /* what the IBM i protocols carry: DRDA EXCSAT SRVNAM, the 5250 device name */
	NAME_SOURCES
};
const char *name_source_name(enum name_source s);
/* The source of a word name_source_name() gives; NAME_SOURCES when none. */
enum name_source name_source_of(const char *word);

struct host_name {
	struct addr ip;
	char name[DNS_NAME_MAX];
	uint8_t source;            /* enum name_source */
	int32_t host;              /* DHCP: the host (index into hosts) the name came with; -1 otherwise */
	int64_t first_us, last_us;
	uint32_t count;
};

/* Why a DHCPv6 host was linked to a DHCPv4 host (names_prepare; docs/schema.md "Linking DHCP and
 * DHCPv6"): bits. */
enum dhcp_link {
	LINK_RFC4361 = 1,          /* the DHCPv4 client identifier is type 255 and carries the DUID (RFC 4361 6.1) */
	LINK_DUID_LLT = 2,         /* the DUID-LLT's link-layer address is the DHCPv4 hardware address (RFC 8415 11.2) */
	LINK_DUID_LL = 4,          /* the DUID-LL's link-layer address is the DHCPv4 hardware address (RFC 8415 11.4) */
	LINK_ETH_SOURCE = 8,       /* the client's own DHCPv6 message, on its own link (from a link-local address to
	                              ff02::1:2, not relayed, not tunnelled), came from the DHCPv4 hardware address */
};
/* The evidence words of the bits, comma-separated ("rfc4361-client-id,duid-llt") into buf. */
char *names_link_str(uint8_t why, char *buf, size_t len);

/* A host as DHCP knows it: by its hardware address (DHCPv4), or by its DUID (DHCPv6, duid set: hw_len
 * 0, the DUID in client_id; the two kinds never match each other as keys: names_prepare links them). */
struct dhcp_host {
	uint8_t hw[16];
	uint8_t hw_len, htype;
	bool duid;
	uint8_t client_id[DHCP_ID_MAX];
	uint8_t client_id_len;
	char name[DHCP_NAME_MAX];  /* the last host name it sent (or was given) */
	int32_t last_lease;        /* index into leases, -1 none */
	int32_t linked;            /* names_prepare: a DHCPv6 host's DHCPv4 host (its leases and names moved there);
	                              a DHCPv4 host's first linked DHCPv6 host; -1 none */
	uint8_t link_why;          /* enum dhcp_link bits (a DHCPv4 host: over every DHCPv6 host linked to it) */
	uint8_t n_linked;          /* a DHCPv4 host: how many DHCPv6 hosts were linked to it (at most 255) */
	uint8_t eth[6];            /* a DHCPv6 host: the Ethernet source of its own messages on its link */
	uint8_t eth_seen;          /* 0 none, 1 eth, 2 more than one Ethernet source (not evidence) */
};

/* A host held an address from start to end (the lease: acknowledged, renewed, released, or taken over). */
struct dhcp_lease {
	struct addr ip;
	uint32_t host;
	int64_t start_us, end_us;
};

struct name_counters {
	uint64_t packets;          /* UDP packets of the name protocols read */
	uint64_t malformed;        /* of those, messages that did not parse to their end */
	uint64_t names_cut;        /* names longer than kept: cut */
	uint64_t table_full;       /* names not kept: the table was at NAMES_MAX_BYTES */
	uint64_t dhcp_full;        /* DHCP hosts or leases not kept: the table was at NAMES_MAX_BYTES */
	uint64_t dhcp_ids_cut;     /* DHCP client identifiers and DHCPv6 DUIDs longer than DHCP_ID_MAX: cut */
	uint64_t dhcp6_addrs_skipped; /* DHCPv6 IA Addresses past DHCP6_MAX_ADDRS in one message: not read */
	uint64_t dhcp6_relayed;    /* DHCPv6 messages read inside Relay-Forward / Relay-Reply messages */
	uint64_t dhcp6_relays_deep; /* relay messages nested past DHCP6_MAX_RELAYS: the message inside not read */
	uint64_t dhcp6_prefixes;   /* IA Prefix options of IA_PD in Replies: delegated prefixes, not host addresses */
	uint64_t dhcp_linked;      /* names_prepare: DHCPv6 hosts linked to a DHCPv4 host (names_link_counts) */
	uint64_t dhcp_link_ambiguous; /* DHCPv6 hosts whose evidence named two or more DHCPv4 hosts: not linked */
};

struct names {
	struct host_name *v;
	size_t n, cap;
	struct dhcp_host *hosts;
	size_t n_hosts, cap_hosts;
	struct dhcp_lease *leases;
	size_t n_leases, cap_leases;
	uint32_t *name_ix, *host_ix;   /* open addressing: index + 1, 0 empty */
	size_t name_ix_size, host_ix_size;
	uint64_t bytes;            /* charged against NAMES_MAX_BYTES */
	uint64_t k0, k1;
	uint64_t linked, link_ambiguous;   /* names_prepare's links (names_link_counts) */
	bool prepared;             /* names sorted by address, leases by (address, start): read-only from here */
};

struct packet;                 /* decode.h: the writers that read names never see the decoder */

/* One UDP packet of a name protocol (p->udp_name): parsed, its names and leases added.  *np is
 * made on the first call (keys k0, k1 for the hash); k counts. */
void names_udp(struct names **np, uint64_t k0, uint64_t k1, const struct packet *p, struct name_counters *k);
/* Everything of `from` added to *into (a live worker's table into the reader's). */
void names_merge(struct names **into, const struct names *from, struct name_counters *k);
/* After the input ended: link each DHCPv6 host to the DHCPv4 host the bytes show it is (enum dhcp_link;
 * only when its evidence names exactly one: its leases and DHCP names then belong to that host), then
 * sort for the queries below.  Idempotent. */
void names_prepare(struct names *n);
/* Add the links names_prepare made (and the ones it refused as ambiguous) to k (NULL n: none). */
void names_link_counts(const struct names *n, struct name_counters *k);
void names_free(struct names *n);

/* ---- queries (after names_prepare) ---- */
/* The names of an address: *first is the index of the first one in n->v, returns how many. */
size_t names_of(const struct names *n, const struct addr *ip, size_t *first);
/* The host whose lease covered ip at time t, or -1. */
int32_t names_host_at(const struct names *n, const struct addr *ip, int64_t t);
/* "aa:bb:cc:dd:ee:ff" (or hex for other hardware; "duid:" and the DUID in hex for a DHCPv6 host) into buf. */
char *names_hw_str(const struct dhcp_host *h, char *buf, size_t len);
/* The client identifier as hex ("01aabbccddeeff"), "" when absent. */
char *names_client_id_str(const struct dhcp_host *h, char *buf, size_t len);

#endif
