/*
 * dhcp6.h - what a DHCPv6 message (RFC 8415) says about the host it
 * concerns.
 *
 * In: one UDP payload of port 546/547.  Out: a struct dhcp6_msg: the
 * message type (RFC 8415 7.3), the Client Identifier's DUID (option 1, raw,
 * at most DHCP_ID_MAX bytes), the addresses of the IA_NA (3) and IA_TA (4)
 * options with their IA Address options (5: address, preferred and valid
 * lifetime; at most DHCP6_MAX_ADDRS kept, the others flagged), how many IA
 * Prefix options (26) the IA_PD options (25) carried (a prefix delegated to
 * a requesting router, RFC 8415 6.3: not an address of a host, so not kept
 * as one) and the domain name of the Client FQDN option (39, RFC 4704 4:
 * flags, then the name in RFC 1035 wire encoding; kept like DHCPv4's host
 * name).  A Relay-Forward or Relay-Reply (12, 13; RFC 8415 9: hop-count,
 * link-address, peer-address, options) is opened through its Relay Message
 * option (9) down to the client's or server's message, at most
 * DHCP6_MAX_RELAYS relays deep: the message returned is that inner one (its
 * type, DUID, addresses), with how many relays wrapped it and the innermost
 * relay's link and peer addresses.  Options are walked through the bounded
 * cursor, at most DHCP6_MAX_OPTIONS of them at each level.
 */
#ifndef TLSREADY_DHCP6_H
#define TLSREADY_DHCP6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp.h"

#define DHCP6_MAX_OPTIONS 64
#define DHCP6_MAX_ADDRS 4
#define DHCP6_MAX_RELAYS 8     /* HOP_COUNT_LIMIT (RFC 8415 7.6): no relay forwards a message relayed 8 times */

enum dhcp6_type {
	DHCP6_SOLICIT = 1, DHCP6_ADVERTISE, DHCP6_REQUEST, DHCP6_CONFIRM, DHCP6_RENEW, DHCP6_REBIND, DHCP6_REPLY,
	DHCP6_RELEASE, DHCP6_DECLINE, DHCP6_RECONFIGURE, DHCP6_INFORMATION_REQUEST, DHCP6_RELAY_FORW,
	DHCP6_RELAY_REPL,
};

struct dhcp6_addr {
	uint8_t ip[16];
	uint32_t preferred_s, valid_s;   /* 0xffffffff: infinity (RFC 8415 7.7) */
	bool temporary;                  /* from an IA_TA */
};

struct dhcp6_msg {
	uint8_t type;              /* enum dhcp6_type: the inner message's when relayed; a relay's own type when
	                              its inner message could not be reached (relay_cut, options_cut) */
	uint8_t duid[DHCP_ID_MAX];
	uint8_t duid_len;          /* 0: no Client Identifier */
	bool duid_cut;             /* longer than DHCP_ID_MAX: the first DHCP_ID_MAX bytes kept */
	char fqdn[DHCP_NAME_MAX];  /* option 39's domain name (dotted), "" when absent */
	bool fqdn_cut;
	struct dhcp6_addr addr[DHCP6_MAX_ADDRS];
	uint8_t n_addr;
	bool addrs_cut;            /* more IA Address options than DHCP6_MAX_ADDRS: not kept */
	uint16_t n_prefixes;       /* IA Prefix options read in IA_PD options (prefixes, not host addresses) */
	uint8_t relays;            /* Relay-Forward / Relay-Reply layers opened to reach the message */
	bool relay_cut;            /* more than DHCP6_MAX_RELAYS layers: the message inside was not read */
	uint8_t relay_link[16], relay_peer[16];   /* the innermost relay's link-address and peer-address */
	bool options_cut;          /* an option cut short, malformed, or too many options */
};

/* False when it is not a DHCPv6 message (under 4 bytes, or message type 0 or over 13). */
bool dhcp6_parse(const uint8_t *buf, size_t len, struct dhcp6_msg *m);

/* The link-layer address a DUID carries (RFC 8415 11.2 DUID-LLT, type 1: type, hardware type, time,
 * address; 11.4 DUID-LL, type 3: type, hardware type, address): its hardware type (IANA ARP hardware
 * types, as DHCPv4's htype) and address into hw (at most 16 bytes), the DUID type as *duid_type.
 * False for the other types (DUID-EN 2, DUID-UUID 4 carry none) or an address of 0 or over 16 bytes. */
bool dhcp6_duid_lladdr(const uint8_t *duid, size_t len, uint16_t *duid_type, uint16_t *htype, uint8_t *hw,
		       size_t *hw_len);

#endif
