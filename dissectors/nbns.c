/*
 * nbns.c - NB records of NetBIOS name service responses, registrations and
 * refreshes (see nbns.h).  The message has DNS's layout; the owner name's
 * first label is the 32-character encoded NetBIOS name, and an NB record's
 * data is a list of (flags, IPv4 address) pairs.
 */
#include "nbns.h"

#include <string.h>

#include "cursor.h"

#define T_NB 0x0020
#define OP_QUERY 0
#define OP_REGISTRATION 5
#define OP_REFRESH 8
#define OP_REFRESH_ALT 9

bool nbns_decode_name(const char *encoded, char out[16], uint8_t *suffix)
{
	for (int i = 0; i < 32; i++)
		if (encoded[i] < 'A' || encoded[i] > 'P')
			return false;
	if (encoded[32] != '\0' && encoded[32] != '.')
		return false;
	int k = 0;
	for (int i = 0; i < 15; i++) {
		uint8_t ch = (uint8_t)((encoded[2 * i] - 'A') << 4 | (encoded[2 * i + 1] - 'A'));
		out[k++] = ch > 0x20 && ch < 0x7f ? (char)ch : ch == 0x20 ? ' ' : '?';
	}
	while (k > 0 && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
	*suffix = (uint8_t)((encoded[30] - 'A') << 4 | (encoded[31] - 'A'));
	return k > 0;
}

enum dns_result nbns_parse(const uint8_t *buf, size_t len, const struct dns_sink *sink, struct dns_info *info)
{
	struct cursor msg = cur_make(buf, len), c = msg;
	memset(info, 0, sizeof *info);
	cur_skip(&c, 2);
	uint16_t flags = cur_be16(&c);
	uint16_t qd = cur_be16(&c), an = cur_be16(&c), ns = cur_be16(&c), ar = cur_be16(&c);
	if (c.err)
		return DNS_MALFORMED;
	bool response = flags & 0x8000;
	unsigned op = (flags >> 11) & 0x0f;
	/* a positive query response, or a registration or refresh request (the announcement) */
	if ((response && (op != OP_QUERY || (flags & 0x000f))) ||
	    (!response && op != OP_REGISTRATION && op != OP_REFRESH && op != OP_REFRESH_ALT))
		return DNS_NOT_ANSWER;
	char name[DNS_NAME_MAX];
	bool cut = false;
	for (unsigned i = 0; i < qd; i++)
		if (i >= DNS_MAX_RRS || !dns_read_name(&c, &msg, name, sizeof name, &cut) || !cur_skip(&c, 4))
			return DNS_MALFORMED;
	unsigned rrs = (unsigned)an + ns + ar;
	for (unsigned i = 0; i < rrs; i++) {
		if (i >= DNS_MAX_RRS) {
			info->rrs_capped = true;
			break;
		}
		if (!dns_read_name(&c, &msg, name, sizeof name, &cut))
			return DNS_MALFORMED;
		uint16_t type = cur_be16(&c), cls = cur_be16(&c);
		cur_skip(&c, 4);
		uint16_t rdlen = cur_be16(&c);
		struct cursor rd = cur_sub(&c, rdlen);
		if (c.err)
			return DNS_MALFORMED;
		char nb[16];
		uint8_t suffix;
		if (type != T_NB || cls != 1 || !nbns_decode_name(name, nb, &suffix) || (suffix != 0x00 && suffix != 0x20))
			continue;
		for (int k = 0; k < 16 && cur_left(&rd) >= 6; k++) {
			uint16_t nbflags = cur_be16(&rd);
			uint8_t ip[4];
			cur_copy(&rd, ip, 4);
			if (nbflags & 0x8000)          /* a group name names no one host */
				continue;
			if (ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] == 0)
				continue;
			info->names++;
			sink->address(sink->ctx, ip, 4, nb, false);
		}
	}
	return DNS_OK;
}
