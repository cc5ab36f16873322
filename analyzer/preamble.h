/*
 * preamble.h - what a client and a proxy or server say before TLS begins on
 * the same connection, recognised by each protocol's own exchange: SOCKS 5
 * (RFC 1928, with RFC 1929's user/password step skipped, never reported),
 * SOCKS 4 and 4a, and RDP's X.224 connection request/confirm whose
 * negotiation selected TLS (MS-RDPBCGR 2.2.1.1 and 2.2.1.2).  A line-based
 * upgrade (STARTTLS, HTTP CONNECT) is found by classify.c's line scan.
 *
 * Input: one direction's bytes from its first byte.  Output: the offset
 * where TLS starts (a TLS handshake record there) and the preamble's name,
 * or -1 when these bytes are no such preamble (or not all of it yet).
 */
#ifndef TLSREADY_PREAMBLE_H
#define TLSREADY_PREAMBLE_H

#include <stdint.h>

long preamble_tls_offset(const uint8_t *buf, uint32_t len, int dir, const char **name);

#endif
