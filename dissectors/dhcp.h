/*
 * dhcp.h - what a DHCPv4 message (RFC 2131, options RFC 2132) says about
 * the host it concerns.
 *
 * In: one UDP payload of port 67/68.  Out: a struct dhcp_msg: the operation
 * and message type (option 53), the hardware address, ciaddr and yiaddr, the
 * lease time (option 51), the host name (option 12; bytes outside printable
 * ASCII as '?', cut to DHCP_NAME_MAX - 1 and flagged), the client
 * identifier (option 61, raw, at most DHCP_ID_MAX bytes), the requested
 * address (option 50) and the domain name of the Client FQDN option (81,
 * RFC 4702 section 2: flags, RCODE1, RCODE2, then the name: with the E flag
 * in the wire encoding of RFC 1035 3.1 (labels, no compression), without it
 * in the deprecated ASCII form; kept like option 12's host name).  Options are walked through the bounded cursor, at
 * most DHCP_MAX_OPTIONS of them; option overload (52) is not followed.
 */
#ifndef TLSREADY_DHCP_H
#define TLSREADY_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"

#define DHCP_NAME_MAX 64
#define DHCP_ID_MAX 32
#define DHCP_MAX_OPTIONS 128

enum dhcp_type {
	DHCP_NONE = 0, DHCP_DISCOVER = 1, DHCP_OFFER, DHCP_REQUEST, DHCP_DECLINE, DHCP_ACK, DHCP_NAK,
	DHCP_RELEASE, DHCP_INFORM,
};

struct dhcp_msg {
	uint8_t op;                /* 1 request (client), 2 reply (server) */
	uint8_t type;              /* enum dhcp_type, 0 when option 53 is absent (BOOTP) */
	uint8_t htype, hlen;
	uint8_t chaddr[16];
	uint8_t ciaddr[4], yiaddr[4], requested[4];
	bool has_requested;
	uint32_t lease_s;          /* option 51 */
	bool has_lease;
	char host[DHCP_NAME_MAX];  /* option 12, "" when absent */
	bool host_cut;
	char fqdn[DHCP_NAME_MAX];  /* option 81's domain name (dotted, no final dot), "" when absent */
	bool fqdn_cut;
	uint8_t fqdn_flags;        /* option 81's flags (RFC 4702 2.1: N 0x08, E 0x04, O 0x02, S 0x01) */
	uint8_t client_id[DHCP_ID_MAX];
	uint8_t client_id_len;     /* 0: absent */
	bool client_id_cut;
	bool options_cut;          /* the options ended without an end option (cut short, or too many) */
};

/* A domain name into out (at most outlen - 1 characters, NUL-terminated; bytes outside printable
 * ASCII as '?'): wire = RFC 1035 3.1 labels up to the root label or the end of o (a partial name,
 * RFC 4702 2.3 / RFC 4704 4.3), labels joined by '.'; otherwise ASCII up to a NUL or the end.
 * *cut set when it did not fit.  False when the labels were malformed (a compression pointer or
 * a label past the end): what came before is kept. */
bool dhcp_domain_name(struct cursor *o, bool wire, char *out, size_t outlen, bool *cut);

/* The DUID a client identifier carries (RFC 4361 6.1: type 255, a 4-byte IAID, then the DUID the
 * client also uses for DHCPv6, RFC 8415 11): *duid and *duid_len point into id.  False for any other
 * type, a DUID under 2 bytes, or an identifier of DHCP_ID_MAX bytes or more (it may have been cut). */
static inline bool dhcp_client_id_duid(const uint8_t *id, size_t len, const uint8_t **duid, size_t *duid_len)
{
	if (len < 1 + 4 + 2 || len >= DHCP_ID_MAX || id[0] != 255)
		return false;
	*duid = id + 5;
	*duid_len = len - 5;
	return true;
}

/* False when it is not a DHCP message (too short, no magic cookie, bad op). */
bool dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_msg *m);

#endif
