/*
 * preamble.c - SOCKS and RDP exchanges before TLS (see preamble.h).  Every
 * read goes through the bounded cursor; a preamble is accepted only when a
 * TLS handshake record starts right after it.
 */
#include "preamble.h"

#include <stddef.h>

#include "cursor.h"
#include "dissector.h"
#include "tls.h"

/* Skip a SOCKS 5 address of type atyp (1 IPv4, 3 name, 4 IPv6) and the port. */
static void socks5_addr(struct cursor *c, uint8_t atyp)
{
	switch (atyp) {
	case 1: cur_skip(c, 4); break;
	case 3: cur_skip(c, cur_u8(c)); break;
	case 4: cur_skip(c, 16); break;
	default: c->err = true; return;
	}
	cur_skip(c, 2);
}

static long socks5(struct cursor c, int dir)
{
	if (cur_u8(&c) != 5)
		return -1;
	if (dir == DIR_C2S) {
		uint8_t n = cur_u8(&c);
		bool userpass = false;
		for (uint8_t i = 0; i < n && !c.err; i++)
			userpass |= cur_u8(&c) == 2;
		if (cur_peek_u8(&c, 0) == 1 && userpass) {   /* RFC 1929: version 1, user, password */
			cur_skip(&c, 1);
			cur_skip(&c, cur_u8(&c));
			cur_skip(&c, cur_u8(&c));
		}
		if (cur_u8(&c) != 5 || cur_u8(&c) != 1)     /* CONNECT */
			return -1;
		cur_skip(&c, 1);
	} else {
		uint8_t method = cur_u8(&c);
		if (method == 0xff)
			return -1;
		if (method == 2 && (cur_u8(&c) != 1 || cur_u8(&c) != 0))   /* the password step must succeed */
			return -1;
		if (cur_u8(&c) != 5 || cur_u8(&c) != 0)     /* reply: succeeded */
			return -1;
		cur_skip(&c, 1);
	}
	socks5_addr(&c, cur_u8(&c));
	return c.err ? -1 : (long)c.off;
}

static long socks4(struct cursor c, int dir)
{
	if (dir == DIR_S2C)
		return cur_u8(&c) == 0 && cur_u8(&c) == 0x5a && cur_skip(&c, 6) ? (long)c.off : -1;
	if (cur_u8(&c) != 4 || cur_u8(&c) != 1)
		return -1;
	cur_skip(&c, 2);
	uint8_t ip[4];
	cur_copy(&c, ip, 4);
	for (int field = 0; field < (ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] ? 2 : 1); field++) {
		size_t i = 0;   /* the user id, then with SOCKS 4a the host name: NUL-terminated */
		while (!c.err && cur_u8(&c) != 0 && i++ < 255)
			;
	}
	return c.err ? -1 : (long)c.off;
}

/* TPKT (RFC 1006) carrying an X.224 CR (client) or CC (server) whose RDP negotiation
 * request asks for, or whose response selects, TLS or CredSSP (both run over TLS). */
static long rdp(struct cursor c, int dir)
{
	if (cur_u8(&c) != 3 || cur_u8(&c) != 0)
		return -1;
	uint16_t tpkt = cur_be16(&c);
	uint8_t li = cur_u8(&c), code = cur_u8(&c);
	if (c.err || tpkt < 11 || li < 6 || (code & 0xf0) != (dir == DIR_C2S ? 0xe0 : 0xd0))
		return -1;
	struct cursor neg = c;       /* the negotiation structure is the last 8 bytes of the TPKT */
	if (!cur_skip(&neg, (size_t)tpkt - 6 - 8))
		return -1;
	uint8_t type = cur_u8(&neg);
	cur_skip(&neg, 1);
	uint16_t nlen = cur_le16(&neg);
	uint32_t proto = cur_le32(&neg);
	if (neg.err || nlen != 8 || type != (dir == DIR_C2S ? 1 : 2) || !(proto & 0x3))
		return -1;
	return tpkt;
}

long preamble_tls_offset(const uint8_t *buf, uint32_t len, int dir, const char **name)
{
	static const struct {
		long (*fn)(struct cursor, int);
		const char *name;
	} kinds[] = { { socks5, "socks5" }, { socks4, "socks4" }, { rdp, "rdp" } };
	struct cursor c = cur_make(buf, len);
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		long at = kinds[i].fn(c, dir);
		if (at <= 0 || (uint32_t)at >= len)
			continue;
		if (tls_probe(buf + at, len - (uint32_t)at, dir) == PROBE_YES) {
			*name = kinds[i].name;
			return at;
		}
	}
	return -1;
}
