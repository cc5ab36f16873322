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

char *addr_str(const struct addr *a, char *buf)
{
	if (addr_is_v4(a))
		inet_ntop(AF_INET, a->b + 12, buf, ADDR_STRLEN);
	else
		inet_ntop(AF_INET6, a->b, buf, ADDR_STRLEN);
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
