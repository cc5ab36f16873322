/*
 * dhcp6.c - the options of a DHCPv6 message, opened through its relays
 * (see dhcp6.h).  RFC 8415 8: msg-type (1 byte), transaction-id (3),
 * options; 9: a relay message is msg-type, hop-count (1), link-address (16),
 * peer-address (16), options, the relayed message in its Relay Message
 * option (9, 21.10); 21.1: each option is code (2), length (2), data.  IA_NA
 * (21.4): IAID, T1, T2, then its own options; IA_TA (21.5): IAID, then its
 * own options; IA Address (21.6): address, preferred and valid lifetime,
 * then its own options (not read); IA_PD (21.21): IAID, T1, T2, options; IA
 * Prefix (21.22): preferred and valid lifetime, prefix length, prefix (only
 * counted).  A message cut inside its options keeps what came before and
 * says so (options_cut).
 */
#include "dhcp6.h"

#include <string.h>

#include "cursor.h"

enum {
	OPT_CLIENTID = 1, OPT_IA_NA = 3, OPT_IA_TA = 4, OPT_IAADDR = 5, OPT_RELAY_MSG = 9, OPT_IA_PD = 25,
	OPT_IAPREFIX = 26, OPT_CLIENT_FQDN = 39,
};

enum ia_kind { IA_NA, IA_TA, IA_PD };

/* The IA Address options of one IA_NA or IA_TA, or the IA Prefix options of one IA_PD. */
static void ia(struct cursor *o, enum ia_kind kind, struct dhcp6_msg *m)
{
	cur_skip(o, kind == IA_TA ? 4 : 12);  /* IAID (IA_NA, IA_PD: T1, T2) */
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
		if (kind == IA_PD) {
			if (code != OPT_IAPREFIX)
				continue;
			if (olen < 25)            /* preferred, valid (4 + 4), prefix-length (1), prefix (16) */
				m->options_cut = true;
			else if (m->n_prefixes < UINT16_MAX)
				m->n_prefixes++;
			continue;
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
		x->temporary = kind == IA_TA;
	}
	if (n == DHCP6_MAX_OPTIONS && cur_has(o, 1))
		m->options_cut = true;
}

static bool client_to_server(uint8_t t)
{
	return t != DHCP6_ADVERTISE && t != DHCP6_REPLY && t != DHCP6_RECONFIGURE && t != DHCP6_RELAY_REPL;
}

/* One relay layer at c (its msg-type read): *c becomes its Relay Message option's data, with the inner
 * message's type read into *type.  False when the layer is cut, malformed, or has no Relay Message. */
static bool relay_open(struct cursor *c, uint8_t *type, struct dhcp6_msg *m)
{
	cur_skip(c, 1);                       /* hop-count */
	cur_copy(c, m->relay_link, 16);
	cur_copy(c, m->relay_peer, 16);
	struct cursor inner = { NULL, 0, 0, true };
	bool found = false;
	int n = 0;
	for (; n < DHCP6_MAX_OPTIONS && cur_has(c, 1); n++) {
		uint16_t code = cur_be16(c), olen = cur_be16(c);
		struct cursor o = cur_sub(c, olen);
		if (c->err)
			return false;
		if (code == OPT_RELAY_MSG && !found) {
			inner = o;
			found = true;
		}
	}
	if (c->err || !found || (n == DHCP6_MAX_OPTIONS && cur_has(c, 1)))
		return false;
	uint8_t outer = *type;
	*type = cur_u8(&inner);
	/* a Relay-Forward carries a client's message (or another Relay-Forward), a Relay-Reply a server's */
	if (inner.err || *type == 0 || *type > DHCP6_RELAY_REPL ||
	    client_to_server(*type) != (outer == DHCP6_RELAY_FORW))
		return false;
	*c = inner;
	return true;
}

bool dhcp6_parse(const uint8_t *buf, size_t len, struct dhcp6_msg *m)
{
	struct cursor c = cur_make(buf, len);
	memset(m, 0, sizeof *m);
	m->type = cur_u8(&c);
	if (!cur_has(&c, 3) || m->type == 0 || m->type > DHCP6_RELAY_REPL)
		return false;
	while (m->type == DHCP6_RELAY_FORW || m->type == DHCP6_RELAY_REPL) {
		if (m->relays == DHCP6_MAX_RELAYS) {
			m->relay_cut = true;      /* deeper than any relay chain may be: not read */
			return true;
		}
		m->relays++;
		uint8_t t = m->type;
		if (!relay_open(&c, &t, m)) {
			m->options_cut = true;
			return true;
		}
		m->type = t;
	}
	cur_skip(&c, 3);                      /* transaction-id */
	if (c.err) {
		m->options_cut = true;        /* a relayed message under 4 bytes */
		return true;
	}
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
			ia(&o, IA_NA, m);
			break;
		case OPT_IA_TA:
			ia(&o, IA_TA, m);
			break;
		case OPT_IA_PD:
			ia(&o, IA_PD, m);
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

bool dhcp6_duid_lladdr(const uint8_t *duid, size_t len, uint16_t *duid_type, uint16_t *htype, uint8_t *hw,
		       size_t *hw_len)
{
	struct cursor c = cur_make(duid, len);
	*duid_type = cur_be16(&c);
	*htype = cur_be16(&c);
	if (*duid_type == 1)
		cur_skip(&c, 4);              /* DUID-LLT: the time, seconds since 2000-01-01 */
	else if (*duid_type != 3)
		return false;
	size_t n = cur_left(&c);
	if (c.err || n == 0 || n > 16)
		return false;
	*hw_len = n;
	return cur_copy(&c, hw, n);
}
