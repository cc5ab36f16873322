/*
 * dns.c - A, AAAA and PTR records out of DNS, mDNS and LLMNR responses
 * (see dns.h).  One pass: the header, the questions skipped, then each
 * record of the answer (and, when asked, authority and additional) sections;
 * a record whose name or data does not parse ends the walk, and the message
 * is reported malformed with what came before it kept.
 */
#include "dns.h"

#include <stdio.h>
#include <string.h>

#include "cursor.h"

#define T_A 1
#define T_PTR 12
#define T_AAAA 28

/* dns.h: dns_read_name */
bool dns_read_name(struct cursor *c, const struct cursor *msg, char *out, size_t outlen, bool *cut)
{
	struct cursor r = *c;
	size_t o = 0, total = 0;
	int jumps = 0;
	bool jumped = false;
	out[0] = '\0';
	for (int labels = 0; labels < 128; labels++) {
		size_t here = r.off;
		uint8_t l = cur_u8(&r);
		if (r.err)
			return false;
		if (l == 0) {
			if (!jumped)
				c->off = r.off;
			return true;
		}
		if ((l & 0xc0) == 0xc0) {
			uint16_t ptr = (uint16_t)((l & 0x3f) << 8 | cur_u8(&r));
			/* backwards only: a pointer to itself or forwards could loop */
			if (r.err || ptr >= here || ++jumps > DNS_MAX_JUMPS)
				return false;
			if (!jumped)
				c->off = r.off;
			jumped = true;
			r = *msg;
			if (!cur_skip(&r, ptr))
				return false;
			continue;
		}
		if (l & 0xc0)
			return false;              /* extended label types: not for host names */
		total += (size_t)l + 1;
		if (total > 255)
			return false;
		struct cursor lab = cur_sub(&r, l);
		if (lab.err)
			return false;
		if (o && o + 1 < outlen)
			out[o++] = '.';
		for (size_t i = 0; i < l; i++) {
			uint8_t ch = cur_u8(&lab);
			if (o + 1 >= outlen) {
				*cut = true;
				break;
			}
			out[o++] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
		}
		out[o] = '\0';
	}
	return false;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	if (n < k)
		return false;
	for (size_t i = 0; i < k; i++) {
		char a = s[n - k + i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != suffix[i])
			return false;
	}
	return true;
}

size_t dns_reverse_addr(const char *name, uint8_t ip[16])
{
	size_t n = strlen(name);
	if (ends_with(name, n, ".in-addr.arpa")) {
		/* d.c.b.a.in-addr.arpa: four decimal labels, lowest first */
		unsigned v[4];
		int k = 0;
		size_t i = 0, end = n - strlen(".in-addr.arpa");
		while (k < 4 && i < end) {
			unsigned x = 0;
			size_t digits = 0;
			while (i < end && name[i] >= '0' && name[i] <= '9' && digits < 4)
				x = x * 10 + (unsigned)(name[i++] - '0'), digits++;
			if (digits == 0 || digits > 3 || x > 255 || (digits > 1 && name[i - digits] == '0'))
				return 0;
			v[k++] = x;
			if (i < end && name[i] == '.')
				i++;
			else
				break;
		}
		if (k != 4 || i != end)
			return 0;
		for (int j = 0; j < 4; j++)
			ip[j] = (uint8_t)v[3 - j];
		return 4;
	}
	if (ends_with(name, n, ".ip6.arpa")) {
		/* 32 nibbles, lowest first, each a label of its own */
		if (n != 64 + strlen(".ip6.arpa") - 1)
			return 0;
		memset(ip, 0, 16);
		for (int j = 0; j < 32; j++) {
			int h = hexval(name[2 * j]);
			if (h < 0 || (j < 31 && name[2 * j + 1] != '.'))
				return 0;
			int nib = 31 - j;   /* the first label is the lowest nibble */
			ip[nib / 2] |= (uint8_t)(nib % 2 ? h : h << 4);
		}
		return 16;
	}
	return 0;
}

enum dns_result dns_parse(const uint8_t *buf, size_t len, bool additional, const struct dns_sink *sink,
			  struct dns_info *info)
{
	struct cursor msg = cur_make(buf, len), c = msg;
	memset(info, 0, sizeof *info);
	cur_skip(&c, 2);
	uint16_t flags = cur_be16(&c);
	uint16_t qd = cur_be16(&c), an = cur_be16(&c), ns = cur_be16(&c), ar = cur_be16(&c);
	if (c.err)
		return DNS_MALFORMED;
	if (!(flags & 0x8000) || (flags & 0x000f) != 0 || ((flags >> 11) & 0x0f) != 0)
		return DNS_NOT_ANSWER;            /* a query, an error, or not a standard query's answer */
	char name[DNS_NAME_MAX], target[DNS_NAME_MAX];
	bool cut = false;
	for (unsigned i = 0; i < qd; i++) {
		if (i >= DNS_MAX_RRS || !dns_read_name(&c, &msg, name, sizeof name, &cut) || !cur_skip(&c, 4))
			return DNS_MALFORMED;
	}
	unsigned rrs = (unsigned)an + (additional ? (unsigned)ns + ar : 0);
	for (unsigned i = 0; i < rrs; i++) {
		if (i >= DNS_MAX_RRS) {
			info->rrs_capped = true;
			break;
		}
		bool ncut = false;
		if (!dns_read_name(&c, &msg, name, sizeof name, &ncut))
			return DNS_MALFORMED;
		uint16_t type = cur_be16(&c), cls = cur_be16(&c);
		cur_skip(&c, 4);                  /* TTL */
		uint16_t rdlen = cur_be16(&c);
		struct cursor rd = cur_sub(&c, rdlen);
		if (c.err)
			return DNS_MALFORMED;
		if ((cls & 0x7fff) != 1)          /* IN; mDNS sets the top bit (cache flush) */
			continue;
		uint8_t ip[16];
		if ((type == T_A && rdlen == 4) || (type == T_AAAA && rdlen == 16)) {
			cur_copy(&rd, ip, rdlen);
			info->names_cut += ncut;
			info->names++;
			sink->address(sink->ctx, ip, rdlen, name, false);
		} else if (type == T_PTR) {
			size_t iplen = dns_reverse_addr(name, ip);
			bool tcut = false;
			/* the target is read inside the whole message (it may point back) but must start in rdata */
			struct cursor t = msg;
			t.off = (size_t)(rd.p - msg.p);
			if (!iplen)
				continue;                  /* a service PTR (mDNS _http._tcp...): not a host name */
			if (!dns_read_name(&t, &msg, target, sizeof target, &tcut) || t.off > (size_t)(rd.p - msg.p) + rdlen)
				return DNS_MALFORMED;
			info->names_cut += tcut;
			info->names++;
			sink->address(sink->ctx, ip, iplen, target, true);
		}
	}
	return DNS_OK;
}
