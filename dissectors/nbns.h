/*
 * nbns.h - NetBIOS names from the NetBIOS name service (RFC 1001/1002,
 * UDP 137): positive query responses, and the registrations and refreshes
 * a Windows machine broadcasts when it starts (its announcement).
 *
 * In: one UDP payload.  Out: for each NB record naming a unique (not group)
 * workstation (suffix 0x00) or server (0x20) name, one call with the IPv4
 * address and the name (first-level decoded, trailing blanks trimmed, bytes
 * outside printable ASCII as '?').  Reads go through the bounded cursor.
 */
#ifndef TLSREADY_NBNS_H
#define TLSREADY_NBNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

/* The 32-character first-level encoding (RFC 1001 14.1) to a name of at most 15 characters and its
 * suffix byte; false when it is not one. */
bool nbns_decode_name(const char *encoded, char out[16], uint8_t *suffix);

/* DNS_OK with the sink called, DNS_NOT_ANSWER when there is nothing to learn, DNS_MALFORMED. */
enum dns_result nbns_parse(const uint8_t *buf, size_t len, const struct dns_sink *sink, struct dns_info *info);

#endif
