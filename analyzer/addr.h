/*
 * addr.h - an IPv4 or IPv6 address as a small value type.
 *
 * IPv4 addresses are kept as IPv4-mapped IPv6 (::ffff:a.b.c.d) so that one
 * 16-byte comparison orders and hashes both families.  Text goes out in the
 * usual dotted form or RFC 5952 form (inet_ntop).
 */
#ifndef TLSREADY_ADDR_H
#define TLSREADY_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct addr {
	uint8_t b[16];
};

#define ADDR_STRLEN 46

void addr_from_v4(struct addr *a, const uint8_t v4[4]);
void addr_from_v6(struct addr *a, const uint8_t v6[16]);
bool addr_is_v4(const struct addr *a);
bool addr_is_loopback(const struct addr *a);
/* Text form into buf (ADDR_STRLEN bytes); returns buf. */
char *addr_str(const struct addr *a, char *buf);
/* Parse "192.0.2.10", "2001:db8::10", with optional "/LEN"; false if invalid. */
bool addr_parse_prefix(const char *s, struct addr *a, int *prefix_len);
/* Does a fall inside net/len (len counted in the family's own bits)? */
bool addr_in_prefix(const struct addr *a, const struct addr *net, int len);

static inline int addr_cmp(const struct addr *x, const struct addr *y)
{
	return memcmp(x->b, y->b, 16);
}

static inline bool addr_eq(const struct addr *x, const struct addr *y)
{
	return memcmp(x->b, y->b, 16) == 0;
}

#endif
