/*
 * dhcp6.c - the options of a DHCPv6 client/server message (see dhcp6.h).
 * RFC 8415 8: msg-type (1 byte), transaction-id (3), options; 21.1: each
 * option is code (2), length (2), data.  IA_NA (21.4): IAID, T1, T2, then
 * its own options; IA Address (21.6): address, preferred and valid
 * lifetime, then its own options (not read).  A message cut inside its
 * options keeps what came before and says so (options_cut).
 */
#include "dhcp6.h"

#include <string.h>

#include "cursor.h"

enum { OPT_CLIENTID = 1, OPT_IA_NA = 3, OPT_IAADDR = 5, OPT_CLIENT_FQDN = 39 };

/* The IA Address options inside one IA_NA's options. */
static void ia_na(struct cursor *o, struct dhcp6_msg *m)
{
	cur_skip(o, 12);                      /* IAID, T1, T2 */
	if (o->err) {
		m->options_cut = true;
		return;
	}
	int n = 0;
	for (; n < DHCP6_MAX_OPTIONS && cur_has(o, 1); n++) {
		uint16_t code = cur_be16(o), olen = cur_be16(o);
		struct cursor a = cur_sub(o, olen);
		if (o->err) {
			m->options_cut = true;
			return;
		}
		if (code != OPT_IAADDR)
			continue;                 /* Status Code (13) and others */
		if (olen < 24) {
			m->options_cut = true;
			continue;
		}
		if (m->n_addr >= DHCP6_MAX_ADDRS) {
			m->addrs_cut = true;
			continue;
		}
		struct dhcp6_addr *x = &m->addr[m->n_addr++];
		cur_copy(&a, x->ip, 16);
		x->preferred_s = cur_be32(&a);
		x->valid_s = cur_be32(&a);
	}
	if (n == DHCP6_MAX_OPTIONS && cur_has(o, 1))
		m->options_cut = true;
}

bool dhcp6_parse(const uint8_t *buf, size_t len, struct dhcp6_msg *m)
{
	struct cursor c = cur_make(buf, len);
	memset(m, 0, sizeof *m);
	m->type = cur_u8(&c);
	cur_skip(&c, 3);                      /* transaction-id */
	if (c.err || m->type == 0 || m->type > DHCP6_RELAY_REPL)
		return false;
	if (m->type == DHCP6_RELAY_FORW || m->type == DHCP6_RELAY_REPL)
		return true;                      /* hop-count, link and peer addresses, then relayed options: not opened */
	int n = 0;
	for (; n < DHCP6_MAX_OPTIONS && cur_has(&c, 1); n++) {
		uint16_t code = cur_be16(&c), olen = cur_be16(&c);
		struct cursor o = cur_sub(&c, olen);
		if (c.err) {
			m->options_cut = true;
			return true;
		}
		switch (code) {
		case OPT_CLIENTID: {
			size_t k = olen < DHCP_ID_MAX ? olen : DHCP_ID_MAX;
			m->duid_cut = olen > DHCP_ID_MAX;
			cur_copy(&o, m->duid, k);
			m->duid_len = (uint8_t)k;
			break;
		}
		case OPT_IA_NA:
			ia_na(&o, m);
			break;
		case OPT_CLIENT_FQDN:         /* RFC 4704 4: flags (0 N O S), then the domain name */
			if (olen < 1) {
				m->options_cut = true;
				break;
			}
			cur_skip(&o, 1);
			if (!dhcp_domain_name(&o, true, m->fqdn, sizeof m->fqdn, &m->fqdn_cut))
				m->options_cut = true;
			break;
		default:
			break;
		}
	}
	if (n == DHCP6_MAX_OPTIONS && cur_has(&c, 1))
		m->options_cut = true;
	return true;
}
