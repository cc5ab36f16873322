/*
 * dhcp6.h - what a DHCPv6 message (RFC 8415) says about the host it
 * concerns.
 *
 * In: one UDP payload of port 546/547.  Out: a struct dhcp6_msg: the
 * message type (RFC 8415 7.3), the Client Identifier's DUID (option 1, raw,
 * at most DHCP_ID_MAX bytes), the addresses of the IA_NA options (3) with
 * their IA Address options (5: address, preferred and valid lifetime; at most
 * DHCP6_MAX_ADDRS kept, the others flagged) and the domain name of the
 * Client FQDN option (39, RFC 4704 4: flags, then the name in RFC 1035 wire
 * encoding; kept like DHCPv4's host name).  Options are walked through the
 * bounded cursor, at most DHCP6_MAX_OPTIONS of them at each level.  Relay
 * messages (12, 13) are recognised but not opened.
 */
#ifndef TLSREADY_DHCP6_H
#define TLSREADY_DHCP6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp.h"

#define DHCP6_MAX_OPTIONS 64
#define DHCP6_MAX_ADDRS 4

enum dhcp6_type {
	DHCP6_SOLICIT = 1, DHCP6_ADVERTISE, DHCP6_REQUEST, DHCP6_CONFIRM, DHCP6_RENEW, DHCP6_REBIND, DHCP6_REPLY,
	DHCP6_RELEASE, DHCP6_DECLINE, DHCP6_RECONFIGURE, DHCP6_INFORMATION_REQUEST, DHCP6_RELAY_FORW,
	DHCP6_RELAY_REPL,
};

struct dhcp6_addr {
	uint8_t ip[16];
	uint32_t preferred_s, valid_s;   /* 0xffffffff: infinity (RFC 8415 7.7) */
};

struct dhcp6_msg {
	uint8_t type;              /* enum dhcp6_type */
	uint8_t duid[DHCP_ID_MAX];
	uint8_t duid_len;          /* 0: no Client Identifier */
	bool duid_cut;             /* longer than DHCP_ID_MAX: the first DHCP_ID_MAX bytes kept */
	char fqdn[DHCP_NAME_MAX];  /* option 39's domain name (dotted), "" when absent */
	bool fqdn_cut;
	struct dhcp6_addr addr[DHCP6_MAX_ADDRS];
	uint8_t n_addr;
	bool addrs_cut;            /* more IA Address options than DHCP6_MAX_ADDRS: not kept */
	bool options_cut;          /* an option cut short, malformed, or too many options */
};

/* False when it is not a DHCPv6 message (under 4 bytes, or message type 0 or over 13). */
bool dhcp6_parse(const uint8_t *buf, size_t len, struct dhcp6_msg *m);

#endif
