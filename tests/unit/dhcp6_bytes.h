/*
 * dhcp6_bytes.h - a DHCPv6 Reply laid out by hand from RFC 8415, shared by the
 * unit tests of dhcp6.c (test_dhcp6.c, test_dhcp6_relay.c): its client's
 * DUID, the address it leases, and the message's 103 bytes.
 */
#ifndef TLSREADY_TEST_DHCP6_BYTES_H
#define TLSREADY_TEST_DHCP6_BYTES_H

#include <stdint.h>

/* DUID-LLT (RFC 8415 11.2): type 1, hardware type 1 (Ethernet), time 0x2a2b2c2d, MAC 02:00:00:00:00:0a */
static const uint8_t duid[14] = { 0x00, 0x01, 0x00, 0x01, 0x2a, 0x2b, 0x2c, 0x2d, 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t ip50[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50 };

/* A Reply (7), transaction-id 0x123456: Client Identifier (1, 14 bytes), Server Identifier (2: a DUID-LL,
 * type 3), IA_NA (3, 40 bytes: IAID 1, T1 3600, T2 5400, IA Address (5, 24 bytes): 2001:db8::50,
 * preferred 3600, valid 7200), Client FQDN (39, 19 bytes: flags S, then 3 "pc7" 7 "example" 4 "test" 0). */
static const uint8_t reply[] = {
	0x07, 0x12, 0x34, 0x56,
	0x00, 0x01, 0x00, 0x0e, 0x00, 0x01, 0x00, 0x01, 0x2a, 0x2b, 0x2c, 0x2d, 0x02, 0, 0, 0, 0, 0x0a,
	0x00, 0x02, 0x00, 0x0a, 0x00, 0x03, 0x00, 0x01, 0x02, 0, 0, 0, 0, 0x01,
	0x00, 0x03, 0x00, 0x28, 0, 0, 0, 1, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x00, 0x15, 0x18,
	0x00, 0x05, 0x00, 0x18, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50,
	0x00, 0x00, 0x0e, 0x10, 0x00, 0x00, 0x1c, 0x20,
	0x00, 0x27, 0x00, 0x13, 0x01, 3, 'p', 'c', '7', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0,
};
_Static_assert(sizeof reply == 103, "4 + 18 + 14 + 44 + 23");

#endif
