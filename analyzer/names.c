/*
 * names.c - the table of host names and DHCP leases (see names.h).
 *
 * While packets come: names are found by (address, source, name) and hosts
 * by hardware address (DHCPv6: by DUID) through two open-addressing indexes keyed with the
 * engine's SipHash keys (a hostile sender cannot aim collisions).  DHCP
 * gives a lease when a server acknowledges an address (DHCPACK: yiaddr for
 * option 51's seconds; a renewal, where the client already held the address
 * (ciaddr = yiaddr), is taken to have started one lease time earlier), and
 * ends it on DHCPRELEASE, when the host is given another address, or when
 * another host is given the same address.  DHCPv6 gives a lease for each
 * IA Address of a Reply, for its valid lifetime; a DHCPv6 host may hold
 * several addresses at once, so a new one does not end the others (a
 * relayed Reply counts as one seen directly: dhcp6.c opens the relays; IA_TA
 * addresses are leases too; IA_PD prefixes are only counted).  After the
 * input (names_prepare) a DHCPv6 host is linked to the DHCPv4 host the bytes
 * show it is (its DUID in the DHCPv4 client identifier, RFC 4361, the
 * DHCPv4 hardware address in its DUID-LLT / DUID-LL, RFC 8415 11, or as the
 * Ethernet source of its own messages on its own link; only when that
 * evidence names one DHCPv4 host) and its leases and DHCP names move
 * to that host; then names are sorted by address and leases by (address,
 * start), and both are found by binary search.
 */
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "dhcp6.h"
#include "nbns.h"
#include "siphash.h"

const char *name_source_name(enum name_source s)
{
	static const char *const n[NAME_SOURCES] = {
		[NAME_DHCP] = "dhcp", [NAME_DNS_PTR] = "dns-ptr", [NAME_DNS_A] = "dns", [NAME_NETBIOS] = "netbios",
		[NAME_LLMNR] = "llmnr", [NAME_MDNS] = "mdns", [NAME_DRDA] = "drda-srvnam", [NAME_TELNET] = "telnet-devname",
	};
	return (unsigned)s < NAME_SOURCES ? n[s] : "unknown";
}

enum name_source name_source_of(const char *word)
{
	for (int s = 0; word && s < NAME_SOURCES; s++)
		if (strcmp(word, name_source_name((enum name_source)s)) == 0)
			return (enum name_source)s;
	return NAME_SOURCES;
}

/* ---- memory: every array and index charged against NAMES_MAX_BYTES ---- */

static bool grow(struct names *t, void **arr, size_t n, size_t *cap, size_t elem)
{
	if (n < *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 64;
	if (t->bytes + (nc - *cap) * elem > NAMES_MAX_BYTES)
		return false;
	void *na = realloc(*arr, nc * elem);
	if (!na)
		return false;
	t->bytes += (nc - *cap) * elem;
	*arr = na;
	*cap = nc;
	return true;
}

/* Keep an index at most half full: rebuilt twice as large (from the entries' own keys). */
static bool index_room(struct names *t, uint32_t **ix, size_t *size, size_t used,
		       uint64_t (*hash)(const struct names *, size_t))
{
	if ((used + 1) * 2 <= *size)
		return true;
	size_t ns = *size ? *size * 2 : 256;
	if (t->bytes + (ns - *size) * sizeof **ix > NAMES_MAX_BYTES)
		return false;
	uint32_t *nx = calloc(ns, sizeof *nx);
	if (!nx)
		return false;
	for (size_t i = 0; i < used; i++) {
		size_t s = hash(t, i) & (ns - 1);
		while (nx[s])
			s = (s + 1) & (ns - 1);
		nx[s] = (uint32_t)i + 1;
	}
	t->bytes += (ns - *size) * sizeof **ix;
	free(*ix);
	*ix = nx;
	*size = ns;
	return true;
}

static uint64_t name_key_hash(const struct names *t, const struct addr *ip, uint8_t source, const char *name)
{
	uint8_t key[16 + 1 + DNS_NAME_MAX];
	size_t l = strlen(name);
	memcpy(key, ip->b, 16);
	key[16] = source;
	memcpy(key + 17, name, l);
	return siphash13(key, 17 + l, t->k0, t->k1);
}

static uint64_t name_hash_at(const struct names *t, size_t i)
{
	return name_key_hash(t, &t->v[i].ip, t->v[i].source, t->v[i].name);
}

/* A host's key: its hardware address, or its DUID (hashed with other keys: the kinds never meet). */
static uint64_t host_key_hash(const struct names *t, bool duid, const uint8_t *key, size_t len)
{
	return siphash13(key, len, t->k0 ^ duid, t->k1);
}

static uint64_t host_hash_at(const struct names *t, size_t i)
{
	const struct dhcp_host *h = &t->hosts[i];
	return h->duid ? host_key_hash(t, true, h->client_id, h->client_id_len) : host_key_hash(t, false, h->hw, h->hw_len);
}

/* ---- adding ---- */

static void name_add(struct names *t, const struct addr *ip, enum name_source src, const char *name, int32_t host,
		     int64_t ts, struct name_counters *k)
{
	if (!name[0] || t->prepared)
		return;
	uint64_t h = name_key_hash(t, ip, (uint8_t)src, name);
	if (t->name_ix_size) {
		for (size_t s = h & (t->name_ix_size - 1); t->name_ix[s]; s = (s + 1) & (t->name_ix_size - 1)) {
			struct host_name *o = &t->v[t->name_ix[s] - 1];
			if (o->source == src && addr_eq(&o->ip, ip) && strcmp(o->name, name) == 0) {
				if (ts < o->first_us)
					o->first_us = ts;
				if (ts > o->last_us)
					o->last_us = ts;
				if (o->count < UINT32_MAX)
					o->count++;
				if (host >= 0)
					o->host = host;
				return;
			}
		}
	}
	if (!index_room(t, &t->name_ix, &t->name_ix_size, t->n, name_hash_at) ||
	    !grow(t, (void **)&t->v, t->n, &t->cap, sizeof *t->v)) {
		k->table_full++;
		return;
	}
	struct host_name *e = &t->v[t->n];
	memset(e, 0, sizeof *e);
	e->ip = *ip;
	snprintf(e->name, sizeof e->name, "%s", name);
	e->source = (uint8_t)src;
	e->host = host;
	e->first_us = e->last_us = ts;
	e->count = 1;
	size_t s = h & (t->name_ix_size - 1);
	while (t->name_ix[s])
		s = (s + 1) & (t->name_ix_size - 1);
	t->name_ix[s] = (uint32_t)++t->n;
}

static int32_t host_find_key(struct names *t, bool duid, const uint8_t *key, size_t len, uint8_t htype, bool create,
			     struct name_counters *k)
{
	if (len == 0 || t->prepared)
		return -1;
	uint64_t h = host_key_hash(t, duid, key, len);
	if (t->host_ix_size) {
		for (size_t s = h & (t->host_ix_size - 1); t->host_ix[s]; s = (s + 1) & (t->host_ix_size - 1)) {
			struct dhcp_host *o = &t->hosts[t->host_ix[s] - 1];
			if (o->duid == duid && (duid ? o->client_id_len == len && memcmp(o->client_id, key, len) == 0
						     : o->hw_len == len && memcmp(o->hw, key, len) == 0))
				return (int32_t)(t->host_ix[s] - 1);
		}
	}
	if (!create)
		return -1;
	if (!index_room(t, &t->host_ix, &t->host_ix_size, t->n_hosts, host_hash_at) ||
	    !grow(t, (void **)&t->hosts, t->n_hosts, &t->cap_hosts, sizeof *t->hosts)) {
		k->dhcp_full++;
		return -1;
	}
	struct dhcp_host *e = &t->hosts[t->n_hosts];
	memset(e, 0, sizeof *e);
	e->duid = duid;
	if (duid) {
		memcpy(e->client_id, key, len);
		e->client_id_len = (uint8_t)len;
	} else {
		memcpy(e->hw, key, len);
		e->hw_len = (uint8_t)len;
		e->htype = htype;
	}
	e->last_lease = -1;
	e->linked = -1;
	size_t s = h & (t->host_ix_size - 1);
	while (t->host_ix[s])
		s = (s + 1) & (t->host_ix_size - 1);
	t->host_ix[s] = (uint32_t)++t->n_hosts;
	return (int32_t)(t->n_hosts - 1);
}

static int32_t host_find(struct names *t, const struct dhcp_msg *m, bool create, struct name_counters *k)
{
	return host_find_key(t, false, m->chaddr, m->hlen, m->htype, create, k);
}

static bool zero4(const uint8_t *a)
{
	return !(a[0] | a[1] | a[2] | a[3]);
}

/* The host's name: option 12, or when absent option 81's FQDN (RFC 4702: a client may send either) */
static const char *dhcp_name(const struct dhcp_msg *m)
{
	return m->host[0] ? m->host : m->fqdn;
}

static void lease_give(struct names *t, int32_t hi, const struct addr *ip, int64_t ts, int64_t start, int64_t end,
		       bool moves, struct name_counters *k);

static void dhcp_packet(struct names *t, const struct dhcp_msg *m, int64_t ts, struct name_counters *k)
{
	if (m->op == 1) {                     /* from the client: what it calls itself */
		int32_t hi = host_find(t, m, m->type != DHCP_NONE, k);
		if (hi < 0)
			return;
		struct dhcp_host *h = &t->hosts[hi];
		if (dhcp_name(m)[0])
			snprintf(h->name, sizeof h->name, "%s", dhcp_name(m));
		if (m->client_id_len) {
			memcpy(h->client_id, m->client_id, m->client_id_len);
			h->client_id_len = m->client_id_len;
		}
		if (m->type == DHCP_RELEASE && h->last_lease >= 0) {
			struct dhcp_lease *l = &t->leases[h->last_lease];
			struct addr ci;
			addr_from_v4(&ci, m->ciaddr);
			if (addr_eq(&l->ip, &ci) && l->end_us > ts)
				l->end_us = ts;
		}
		if (m->type == DHCP_INFORM && !zero4(m->ciaddr) && h->name[0]) {
			struct addr ci;               /* a host with its address set by hand, naming itself */
			addr_from_v4(&ci, m->ciaddr);
			name_add(t, &ci, NAME_DHCP, h->name, hi, ts, k);
		}
		return;
	}
	if (m->type != DHCP_ACK || zero4(m->yiaddr))
		return;
	int32_t hi = host_find(t, m, true, k);
	if (hi < 0)
		return;
	struct dhcp_host *h = &t->hosts[hi];
	if (dhcp_name(m)[0])
		snprintf(h->name, sizeof h->name, "%s", dhcp_name(m));
	struct addr ip;
	addr_from_v4(&ip, m->yiaddr);
	if (h->name[0])
		name_add(t, &ip, NAME_DHCP, h->name, hi, ts, k);
	/* no lease time (or "infinite"): the lease lasts until something ends it */
	int64_t span = m->has_lease && m->lease_s != 0xffffffffu ? (int64_t)m->lease_s * 1000000 : INT64_MAX / 4;
	int64_t start = ts;
	if (memcmp(m->ciaddr, m->yiaddr, 4) == 0 && m->has_lease)
		start = ts - span;                /* a renewal: the address was already the client's */
	lease_give(t, hi, &ip, ts, start, ts + span, true, k);
}

/* Host hi holds ip from start to end (given at ts).  moves: a new address ends the host's last lease
 * (DHCPv4: one address a host); otherwise the host keeps both (DHCPv6: several addresses at once). */
static void lease_give(struct names *t, int32_t hi, const struct addr *ip, int64_t ts, int64_t start, int64_t end,
		       bool moves, struct name_counters *k)
{
	struct dhcp_host *h = &t->hosts[hi];
	if (h->last_lease >= 0) {
		struct dhcp_lease *l = &t->leases[h->last_lease];
		if (addr_eq(&l->ip, ip) && l->end_us >= start) {
			if (end > l->end_us)
				l->end_us = end;  /* the same lease, renewed */
			return;
		}
		if (moves) {
			if (l->end_us > ts)
				l->end_us = ts;   /* the host moved to another address */
			if (start < l->end_us)
				start = l->end_us;
		}
	}
	if (!grow(t, (void **)&t->leases, t->n_leases, &t->cap_leases, sizeof *t->leases)) {
		k->dhcp_full++;
		return;
	}
	t->leases[t->n_leases] = (struct dhcp_lease){ .ip = *ip, .host = (uint32_t)hi, .start_us = start, .end_us = end };
	h->last_lease = (int32_t)t->n_leases++;
}

/* DHCPv6 (RFC 8415): the host by its DUID; what a client calls itself (option 39) in any client
 * message; a Reply's IA Addresses are leases for their valid lifetime (0: the address is no longer the
 * host's, 18.2.10.1); a Release or Decline gives the addresses back. */
/* Ethernet source evidence: the source address of a frame holding a client's own DHCPv6 message sent on
 * its own link is the client's interface.  Only when nothing can have put another address there: not
 * relayed, a client message type (RFC 8415 7.3) from port 546 to 547, from a link-local address (RFC 4291
 * 2.5.6) to All_DHCP_Relay_Agents_and_Servers ff02::1:2 (RFC 8415 7.1: link-scoped, no router forwards
 * it), on an Ethernet link with no layer but VLAN tags, from a unicast address.  NULL otherwise. */
static const uint8_t *dhcp6_link_mac(const struct packet *p, const struct dhcp6_msg *m)
{
	static const uint8_t all_agents[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0x02 };
	static const uint8_t zero6[6] = { 0 };
	if (!p->eth_src || (p->encap & ~(1u << ENCAP_VLAN)) || m->relays || p->sport != 546 || p->dport != 547)
		return NULL;
	switch (m->type) {
	case DHCP6_SOLICIT: case DHCP6_REQUEST: case DHCP6_CONFIRM: case DHCP6_RENEW: case DHCP6_REBIND:
	case DHCP6_RELEASE: case DHCP6_DECLINE: case DHCP6_INFORMATION_REQUEST:
		break;
	default:
		return NULL;
	}
	if (p->src.b[0] != 0xfe || (p->src.b[1] & 0xc0) != 0x80 || memcmp(p->dst.b, all_agents, 16) != 0 ||
	    (p->eth_src[0] & 1) || memcmp(p->eth_src, zero6, 6) == 0)
		return NULL;
	return p->eth_src;
}

/* A DHCPv6 host's Ethernet source: one, or flagged as several. */
static void eth_note(struct dhcp_host *h, const uint8_t *mac, uint8_t seen)
{
	if (!seen)
		return;
	if (!h->eth_seen) {
		memcpy(h->eth, mac, 6);
		h->eth_seen = seen;
	} else if (seen > 1 || memcmp(h->eth, mac, 6) != 0) {
		h->eth_seen = 2;
	}
}

static void dhcp6_packet(struct names *t, const struct dhcp6_msg *m, const uint8_t *link_mac, int64_t ts,
			 struct name_counters *k)
{
	bool client = m->type != DHCP6_ADVERTISE && m->type != DHCP6_REPLY && m->type != DHCP6_RECONFIGURE &&
		      m->type < DHCP6_RELAY_FORW;
	if (!m->duid_len || (!client && m->type != DHCP6_REPLY))
		return;
	int32_t hi = host_find_key(t, true, m->duid, m->duid_len, 0, true, k);
	if (hi < 0)
		return;
	struct dhcp_host *h = &t->hosts[hi];
	if (link_mac)
		eth_note(h, link_mac, 1);
	if (m->fqdn[0])
		snprintf(h->name, sizeof h->name, "%s", m->fqdn);
	for (int i = 0; i < m->n_addr; i++) {
		struct addr ip;
		addr_from_v6(&ip, m->addr[i].ip);
		bool gone = m->type == DHCP6_RELEASE || m->type == DHCP6_DECLINE ||
			    (m->type == DHCP6_REPLY && m->addr[i].valid_s == 0);
		if (gone) {
			h = &t->hosts[hi];
			if (h->last_lease >= 0) {
				struct dhcp_lease *l = &t->leases[h->last_lease];
				if (addr_eq(&l->ip, &ip) && l->end_us > ts)
					l->end_us = ts;
			}
			continue;
		}
		if (m->type != DHCP6_REPLY)
			continue;                 /* what the client asks for is not yet its own */
		uint32_t v = m->addr[i].valid_s;
		int64_t span = v != 0xffffffffu ? (int64_t)v * 1000000 : INT64_MAX / 4;
		lease_give(t, hi, &ip, ts, ts, ts + span, false, k);
		h = &t->hosts[hi];
		if (h->name[0])
			name_add(t, &ip, NAME_DHCP, h->name, hi, ts, k);
	}
}

struct sink_ctx {
	struct names *t;
	enum name_source src;
	int64_t ts;
	struct name_counters *k;
};

static void on_address(void *ctx, const uint8_t *ipb, size_t iplen, const char *name, bool ptr)
{
	struct sink_ctx *s = ctx;
	struct addr ip;
	if (iplen == 4)
		addr_from_v4(&ip, ipb);
	else
		addr_from_v6(&ip, ipb);
	enum name_source src = s->src == NAME_DNS_A && ptr ? NAME_DNS_PTR : s->src;
	name_add(s->t, &ip, src, name, -1, s->ts, s->k);
}

void names_udp(struct names **np, uint64_t k0, uint64_t k1, const struct packet *p, struct name_counters *k)
{
	k->packets++;
	if (!*np) {
		if (!(*np = calloc(1, sizeof **np))) {
			k->table_full++;
			return;
		}
		(*np)->k0 = k0;
		(*np)->k1 = k1;
	}
	struct names *t = *np;
	uint16_t sp = p->sport, dp = p->dport;
	if (sp == 67 || sp == 68 || dp == 67 || dp == 68) {
		struct dhcp_msg m;
		if (!dhcp_parse(p->payload, p->payload_len, &m)) {
			k->malformed++;
			return;
		}
		k->malformed += m.options_cut;
		k->names_cut += m.host_cut + m.fqdn_cut;
		k->dhcp_ids_cut += m.client_id_cut;
		dhcp_packet(t, &m, p->ts_us, k);
		return;
	}
	if (sp == 546 || sp == 547 || dp == 546 || dp == 547) {
		struct dhcp6_msg m;
		if (!dhcp6_parse(p->payload, p->payload_len, &m)) {
			k->malformed++;
			return;
		}
		k->malformed += m.options_cut;
		k->names_cut += m.fqdn_cut;
		k->dhcp_ids_cut += m.duid_cut;
		k->dhcp6_addrs_skipped += m.addrs_cut;
		k->dhcp6_relayed += m.relays > 0 && m.type < DHCP6_RELAY_FORW;   /* the inner message reached */
		k->dhcp6_relays_deep += m.relay_cut;
		if (m.type == DHCP6_REPLY)
			k->dhcp6_prefixes += m.n_prefixes;
		dhcp6_packet(t, &m, dhcp6_link_mac(p, &m), p->ts_us, k);
		return;
	}
	struct sink_ctx sc = { t, NAME_DNS_A, p->ts_us, k };
	struct dns_sink sink = { on_address, &sc };
	struct dns_info info;
	enum dns_result r;
	if (sp == 137 || dp == 137) {
		sc.src = NAME_NETBIOS;
		r = nbns_parse(p->payload, p->payload_len, &sink, &info);
	} else if (sp == 5353 || dp == 5353) {
		sc.src = NAME_MDNS;
		r = dns_parse(p->payload, p->payload_len, true, &sink, &info);
	} else if (sp == 5355 || dp == 5355) {
		sc.src = NAME_LLMNR;
		r = dns_parse(p->payload, p->payload_len, true, &sink, &info);
	} else {
		r = dns_parse(p->payload, p->payload_len, false, &sink, &info);
	}
	k->malformed += r == DNS_MALFORMED;
	k->names_cut += info.names_cut;
}

void names_merge(struct names **into, const struct names *from, struct name_counters *k)
{
	if (!from)
		return;
	if (!*into) {
		if (!(*into = calloc(1, sizeof **into))) {
			k->table_full += from->n;
			return;
		}
		(*into)->k0 = from->k0;
		(*into)->k1 = from->k1;
	}
	struct names *t = *into;
	int32_t *map = calloc(from->n_hosts ? from->n_hosts : 1, sizeof *map);
	if (!map) {
		k->table_full += from->n;
		return;
	}
	for (size_t i = 0; i < from->n_hosts; i++) {
		const struct dhcp_host *h = &from->hosts[i];
		map[i] = h->duid ? host_find_key(t, true, h->client_id, h->client_id_len, 0, true, k)
				 : host_find_key(t, false, h->hw, h->hw_len, h->htype, true, k);
		if (map[i] >= 0) {
			struct dhcp_host *o = &t->hosts[map[i]];
			if (h->name[0])
				memcpy(o->name, h->name, sizeof o->name);
			if (h->client_id_len) {
				memcpy(o->client_id, h->client_id, sizeof o->client_id);
				o->client_id_len = h->client_id_len;
			}
			eth_note(o, h->eth, h->eth_seen);
		}
	}
	for (size_t i = 0; i < from->n; i++) {
		const struct host_name *e = &from->v[i];
		int32_t host = e->host >= 0 ? map[e->host] : -1;
		for (uint32_t c = 0; c < e->count && c < 2; c++)   /* first and last time */
			name_add(t, &e->ip, (enum name_source)e->source, e->name, host, c ? e->last_us : e->first_us, k);
	}
	for (size_t i = 0; i < from->n_leases; i++) {
		const struct dhcp_lease *l = &from->leases[i];
		if (map[l->host] < 0 || !grow(t, (void **)&t->leases, t->n_leases, &t->cap_leases, sizeof *t->leases)) {
			k->dhcp_full++;
			continue;
		}
		t->leases[t->n_leases] = *l;
		t->leases[t->n_leases++].host = (uint32_t)map[l->host];
	}
	free(map);
}

static int cmp_name(const void *x, const void *y)
{
	const struct host_name *a = x, *b = y;
	int c = addr_cmp(&a->ip, &b->ip);
	if (c)
		return c;
	if (a->source != b->source)
		return a->source < b->source ? -1 : 1;
	if (a->last_us != b->last_us)
		return a->last_us > b->last_us ? -1 : 1;   /* the most recent first */
	return strcmp(a->name, b->name);
}

static int cmp_lease(const void *x, const void *y)
{
	const struct dhcp_lease *a = x, *b = y;
	int c = addr_cmp(&a->ip, &b->ip);
	if (c)
		return c;
	if (a->start_us != b->start_us)
		return a->start_us < b->start_us ? -1 : 1;
	return a->host < b->host ? -1 : a->host > b->host;
}

/* ---- linking a DHCPv6 host (DUID) to a DHCPv4 host (hardware address) ---- */

/* Evidence that DHCPv6 host i is DHCPv4 host j: a second, different j makes i ambiguous. */
static void propose(int32_t *cand, uint8_t *why, bool *amb, int32_t i, int32_t j, uint8_t bit)
{
	if (cand[i] < 0) {
		cand[i] = j;
		why[i] = bit;
	} else if (cand[i] == j) {
		why[i] |= bit;
	} else {
		amb[i] = true;
	}
}

/* Before the sort (hosts are still found by key): each DHCPv6 host whose evidence names exactly one
 * DHCPv4 host is linked to it, and its leases and DHCP names move to that host. */
static void link_hosts(struct names *t)
{
	size_t n = t->n_hosts;
	int32_t *cand = malloc((n ? n : 1) * sizeof *cand);
	uint8_t *why = calloc(n ? n : 1, 1);
	bool *amb = calloc(n ? n : 1, sizeof *amb);
	struct name_counters none = { 0 };
	if (!cand || !why || !amb) {
		free(cand);
		free(why);
		free(amb);
		return;                           /* no memory: no links (two hosts, as without evidence) */
	}
	for (size_t i = 0; i < n; i++)
		cand[i] = -1;
	for (size_t i = 0; i < n; i++) {
		const struct dhcp_host *h = &t->hosts[i];
		uint16_t type, htype;
		uint8_t hw[16];
		size_t hw_len;
		if (h->duid && dhcp6_duid_lladdr(h->client_id, h->client_id_len, &type, &htype, hw, &hw_len)) {
			int32_t j = host_find_key(t, false, hw, hw_len, 0, false, &none);
			if (j >= 0 && t->hosts[j].htype == htype)
				propose(cand, why, amb, (int32_t)i, j, type == 1 ? LINK_DUID_LLT : LINK_DUID_LL);
		}
		if (h->duid && h->eth_seen == 1) {
			int32_t j = host_find_key(t, false, h->eth, 6, 0, false, &none);
			if (j >= 0 && t->hosts[j].htype == 1)          /* Ethernet (IANA hardware type 1) */
				propose(cand, why, amb, (int32_t)i, j, LINK_ETH_SOURCE);
		}
		const uint8_t *d;
		size_t dl;
		if (!h->duid && dhcp_client_id_duid(h->client_id, h->client_id_len, &d, &dl)) {
			int32_t v6 = host_find_key(t, true, d, dl, 0, false, &none);
			if (v6 >= 0)
				propose(cand, why, amb, v6, (int32_t)i, LINK_RFC4361);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (amb[i]) {
			t->link_ambiguous++;
			continue;
		}
		if (cand[i] < 0)
			continue;
		struct dhcp_host *v6 = &t->hosts[i], *v4 = &t->hosts[cand[i]];
		v6->linked = cand[i];
		v6->link_why = why[i];
		if (v4->linked < 0)
			v4->linked = (int32_t)i;
		v4->link_why |= why[i];
		if (v4->n_linked < 255)
			v4->n_linked++;
		if (!v4->name[0])
			memcpy(v4->name, v6->name, sizeof v4->name);
		t->linked++;
	}
	for (size_t i = 0; i < t->n_leases; i++)
		if (t->hosts[t->leases[i].host].duid && t->hosts[t->leases[i].host].linked >= 0)
			t->leases[i].host = (uint32_t)t->hosts[t->leases[i].host].linked;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].host >= 0 && t->hosts[t->v[i].host].duid && t->hosts[t->v[i].host].linked >= 0)
			t->v[i].host = t->hosts[t->v[i].host].linked;
	free(cand);
	free(why);
	free(amb);
}

void names_link_counts(const struct names *t, struct name_counters *k)
{
	if (!t)
		return;
	k->dhcp_linked += t->linked;
	k->dhcp_link_ambiguous += t->link_ambiguous;
}

char *names_link_str(uint8_t why, char *buf, size_t len)
{
	static const char *const w[] = { "rfc4361-client-id", "duid-llt", "duid-ll", "ethernet-source" };
	size_t o = 0;
	if (len)
		buf[0] = '\0';
	for (int b = 0; b < 4; b++)
		if (why & (1u << b) && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "", w[b]);
	return buf;
}

void names_prepare(struct names *t)
{
	if (!t || t->prepared)
		return;
	link_hosts(t);
	t->prepared = true;
	if (t->n > 1)
		qsort(t->v, t->n, sizeof *t->v, cmp_name);
	if (t->n_leases > 1)
		qsort(t->leases, t->n_leases, sizeof *t->leases, cmp_lease);
	/* an address given to another host ends the lease before it */
	for (size_t i = 0; i + 1 < t->n_leases; i++) {
		struct dhcp_lease *a = &t->leases[i], *b = &t->leases[i + 1];
		if (addr_eq(&a->ip, &b->ip) && a->end_us > b->start_us)
			a->end_us = b->start_us;
	}
	for (size_t i = 0; i < t->n_hosts; i++)
		t->hosts[i].last_lease = -1;      /* lease indexes changed with the sort */
}

void names_free(struct names *t)
{
	if (!t)
		return;
	free(t->v);
	free(t->hosts);
	free(t->leases);
	free(t->name_ix);
	free(t->host_ix);
	free(t);
}

size_t names_of(const struct names *t, const struct addr *ip, size_t *first)
{
	*first = 0;
	if (!t || !t->prepared)
		return 0;
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (addr_cmp(&t->v[mid].ip, ip) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t e = lo;
	while (e < t->n && addr_eq(&t->v[e].ip, ip))
		e++;
	*first = lo;
	return e - lo;
}

int32_t names_host_at(const struct names *t, const struct addr *ip, int64_t ts)
{
	if (!t || !t->prepared || !t->n_leases)
		return -1;
	/* the last lease of ip that started at or before ts */
	size_t lo = 0, hi = t->n_leases;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = addr_cmp(&t->leases[mid].ip, ip);
		if (c < 0 || (c == 0 && t->leases[mid].start_us <= ts))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	const struct dhcp_lease *l = &t->leases[lo - 1];
	return addr_eq(&l->ip, ip) && ts <= l->end_us ? (int32_t)l->host : -1;
}

static char *hex(const uint8_t *b, size_t n, char sep, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && o + 4 <= len; i++) {
		if (sep && i)
			buf[o++] = sep;
		o += (size_t)snprintf(buf + o, len - o, "%02x", b[i]);
	}
	return buf;
}

char *names_hw_str(const struct dhcp_host *h, char *buf, size_t len)
{
	if (h->duid && len > 5) {         /* a DHCPv6 host: its DUID is its key (leasebook, store) */
		memcpy(buf, "duid:", 5);
		hex(h->client_id, h->client_id_len, 0, buf + 5, len - 5);
		return buf;
	}
	return hex(h->hw, h->hw_len, ':', buf, len);
}

char *names_client_id_str(const struct dhcp_host *h, char *buf, size_t len)
{
	return hex(h->client_id, h->client_id_len, 0, buf, len);
}
