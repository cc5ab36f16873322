/*
 * dhcp.c - the fixed BOOTP header and the options of a DHCPv4 message
 * (see dhcp.h), and the domain names of the Client FQDN options of DHCPv4
 * and DHCPv6 (dhcp_domain_name, also used by dhcp6.c).  A message cut inside
 * its options, or with a malformed FQDN, keeps what came before and says so
 * (options_cut).
 */
#include "dhcp.h"

#include <string.h>


#define MAGIC 0x63825363u

static bool put(char *out, size_t outlen, size_t *k, uint8_t ch, bool *cut)
{
	if (*k + 1 >= outlen) {
		*cut = true;
		return false;
	}
	out[(*k)++] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
	return true;
}

bool dhcp_domain_name(struct cursor *o, bool wire, char *out, size_t outlen, bool *cut)
{
	size_t k = 0;
	bool good = true;
	out[0] = '\0';
	if (!outlen)
		return false;
	if (!wire) {
		while (cur_has(o, 1)) {
			uint8_t ch = cur_u8(o);
			if (ch == 0 || !put(out, outlen, &k, ch, cut))
				break;
		}
	} else {
		/* at most 127 labels fit a 255-byte name (RFC 1035 2.3.4); o is at most 255 bytes anyway */
		for (int labels = 0; labels < 128 && cur_has(o, 1); labels++) {
			uint8_t l = cur_u8(o);
			if (l == 0)
				break;            /* the root: a fully qualified name */
			if (l > 63 || !cur_has(o, l)) {
				good = false;     /* a pointer (not allowed here) or a label past the end */
				break;
			}
			if (k && !put(out, outlen, &k, '.', cut))
				break;
			bool room = true;
			for (uint8_t i = 0; i < l && room; i++)
				room = put(out, outlen, &k, cur_u8(o), cut);
			if (!room)
				break;
		}
	}
	out[k] = '\0';
	return good;
}

bool dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_msg *m)
{
	struct cursor c = cur_make(buf, len);
	memset(m, 0, sizeof *m);
	m->op = cur_u8(&c);
	m->htype = cur_u8(&c);
	m->hlen = cur_u8(&c);
	cur_skip(&c, 1 + 4 + 2 + 2);          /* hops, xid, secs, flags */
	cur_copy(&c, m->ciaddr, 4);
	cur_copy(&c, m->yiaddr, 4);
	cur_skip(&c, 8);                      /* siaddr, giaddr */
	cur_copy(&c, m->chaddr, 16);
	cur_skip(&c, 64 + 128);               /* sname, file */
	uint32_t magic = cur_be32(&c);
	if (c.err || magic != MAGIC || (m->op != 1 && m->op != 2))
		return false;
	if (m->hlen > 16)
		m->hlen = 16;
	m->options_cut = true;
	bool bad = false;
	for (int n = 0; n < DHCP_MAX_OPTIONS && cur_has(&c, 1); n++) {
		uint8_t code = cur_u8(&c);
		if (code == 0)
			continue;
		if (code == 255) {
			m->options_cut = bad;
			break;
		}
		uint8_t olen = cur_u8(&c);
		struct cursor o = cur_sub(&c, olen);
		if (c.err)
			break;
		switch (code) {
		case 53:
			if (olen == 1)
				m->type = cur_u8(&o);
			break;
		case 51:
			if (olen == 4) {
				m->lease_s = cur_be32(&o);
				m->has_lease = true;
			}
			break;
		case 50:
			if (olen == 4)
				m->has_requested = cur_copy(&o, m->requested, 4);
			break;
		case 12: {
			size_t k = 0;
			for (size_t i = 0; i < olen; i++) {
				uint8_t ch = cur_u8(&o);
				if (ch == 0)
					break;            /* some clients count a terminating NUL */
				if (k + 1 >= sizeof m->host) {
					m->host_cut = true;
					break;
				}
				m->host[k++] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
			}
			m->host[k] = '\0';
			break;
		}
		case 81:                      /* RFC 4702 2: flags, RCODE1, RCODE2, domain name */
			if (olen >= 3) {
				m->fqdn_flags = cur_u8(&o);
				cur_skip(&o, 2);
				if (!dhcp_domain_name(&o, m->fqdn_flags & 0x04, m->fqdn, sizeof m->fqdn, &m->fqdn_cut))
					bad = true;   /* malformed labels: counted like a cut message */
			}
			break;
		case 61: {
			size_t k = olen < DHCP_ID_MAX ? olen : DHCP_ID_MAX;
			m->client_id_cut = olen > DHCP_ID_MAX;
			cur_copy(&o, m->client_id, k);
			m->client_id_len = (uint8_t)k;
			break;
		}
		default:
			break;
		}
	}
	return true;
}
