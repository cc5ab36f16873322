/*
 * addr.c - address conversions, parsing and prefix tests (see addr.h).
 */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

void addr_from_v4(struct addr *a, const uint8_t v4[4])
{
	memcpy(a->b, v4mapped, 12);
	memcpy(a->b + 12, v4, 4);
}

void addr_from_v6(struct addr *a, const uint8_t v6[16])
{
	memcpy(a->b, v6, 16);
}

bool addr_is_v4(const struct addr *a)
{
	return memcmp(a->b, v4mapped, 12) == 0;
}

bool addr_is_loopback(const struct addr *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };
	if (addr_is_v4(a))
		return a->b[12] == 127;
	return memcmp(a->b, v6lo, 16) == 0;
}

static char *put_dec(char *o, unsigned v)   /* 0-255 */
{
	if (v >= 100)
		*o++ = (char)('0' + v / 100);
	if (v >= 10)
		*o++ = (char)('0' + v / 10 % 10);
	*o++ = (char)('0' + v % 10);
	return o;
}

static char *put_dotted(char *o, const uint8_t b[4])
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*o++ = '.';
		o = put_dec(o, b[i]);
	}
	return o;
}

/*
 * Text forms written by hand, the same characters inet_ntop gives (glibc's
 * sprintf per group cost ~4,000 instructions an address, and reports print
 * thousands): dotted IPv4; RFC 5952 IPv6, lowercase hex without leading
 * zeros, the first longest run of two or more zero groups as "::", and the
 * last 32 bits dotted for IPv4-compatible addresses (::a.b.c.d) as inet_ntop
 * does.  tests/unit/test_addr.c compares with inet_ntop.
 */
char *addr_str(const struct addr *a, char *buf)
{
	static const char hexd[] = "0123456789abcdef";
	char *o = buf;
	if (addr_is_v4(a)) {
		*put_dotted(o, a->b + 12) = '\0';
		return buf;
	}
	unsigned w[8];
	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)a->b[2 * i] << 8 | a->b[2 * i + 1];
	int best = -1, best_len = 0;
	for (int i = 0; i < 8;) {
		if (w[i]) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && !w[j])
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j;
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*o++ = ':';
			continue;
		}
		if (i)
			*o++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			o = put_dotted(o, a->b + 12);
			break;
		}
		bool lead = true;
		for (int sh = 12; sh >= 0; sh -= 4) {
			unsigned d = (w[i] >> sh) & 15;
			if (d || !lead || sh == 0) {
				*o++ = hexd[d];
				lead = false;
			}
		}
	}
	if (best >= 0 && best + best_len == 8)
		*o++ = ':';
	*o = '\0';
	return buf;
}

bool addr_parse_prefix(const char *s, struct addr *a, int *prefix_len)
{
	char tmp[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	uint8_t bin[16];
	int max;
	if (inet_pton(AF_INET, tmp, bin) == 1) {
		addr_from_v4(a, bin);
		max = 32;
	} else if (inet_pton(AF_INET6, tmp, bin) == 1) {
		addr_from_v6(a, bin);
		max = 128;
	} else {
		return false;
	}
	int len = max;
	if (slash) {
		char *end;
		long v = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || v < 0 || v > max)
			return false;
		len = (int)v;
	}
	if (prefix_len)
		*prefix_len = len;
	return true;
}

bool addr_in_prefix(const struct addr *a, const struct addr *net, int len)
{
	if (addr_is_v4(net) != addr_is_v4(a))
		return false;
	int bits = addr_is_v4(net) ? 96 + len : len;
	int full = bits / 8, rem = bits % 8;
	if (memcmp(a->b, net->b, (size_t)full) != 0)
		return false;
	if (rem == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rem));
	return (a->b[full] & mask) == (net->b[full] & mask);
}
