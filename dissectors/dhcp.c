/*
 * dhcp.c - the fixed BOOTP header and the options of a DHCPv4 message
 * (see dhcp.h).  A message cut inside its options keeps what came before
 * and says so (options_cut).
 */
#include "dhcp.h"

#include <string.h>

#include "cursor.h"

#define MAGIC 0x63825363u

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
	for (int n = 0; n < DHCP_MAX_OPTIONS && cur_has(&c, 1); n++) {
		uint8_t code = cur_u8(&c);
		if (code == 0)
			continue;
		if (code == 255) {
			m->options_cut = false;
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
