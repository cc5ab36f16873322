/*
 * store_rows.c - a store's inventory rows read back into an inventory, the
 * same for SQLite and PostgreSQL (see store_rows.h).
 *
 * In: one result row at a time, through struct store_row.  Out: the
 * inventory's clients (sorted by address), their uses and names, the
 * servers' ports (sorted) and ciphers, the notes, the connections per day
 * and the certificates.
 */
#define _GNU_SOURCE     /* qsort_r, strtok_r */
#include "store_rows.h"

#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *T(const struct store_row *r, int i)
{
	return r->text(r, i);
}

static int64_t N(const struct store_row *r, int i)
{
	return r->num(r, i);
}

static int cmp_ix(const void *a, const void *b)
{
	return strcmp(((const struct rows_ix *)a)->ip, ((const struct rows_ix *)b)->ip);
}

static int cmp_client_addr(const void *a, const void *b)
{
	return addr_cmp(&((const struct inv_client *)a)->ip, &((const struct inv_client *)b)->ip);
}

static struct inv_client *client_of(const struct rows_loader *l, const char *ip)
{
	struct rows_ix key;
	snprintf(key.ip, sizeof key.ip, "%s", ip);
	struct rows_ix *f = l->n_ix ? bsearch(&key, l->ix, l->n_ix, sizeof *l->ix, cmp_ix) : NULL;
	return f ? &l->inv->clients[f->index] : NULL;
}

bool rows_client(struct rows_loader *l, const struct store_row *r)
{
	struct addr a;
	int plen;
	struct inventory *inv = l->inv;
	if (!addr_parse_prefix(T(r, 0), &a, &plen))
		return true;
	if (!inventory_grow((void **)&inv->clients, inv->n_clients, &l->cap_clients, sizeof *inv->clients))
		return false;
	struct inv_client *c = &inv->clients[inv->n_clients++];
	memset(c, 0, sizeof *c);
	c->ip = a;
	int i = 1;
	c->flows = (uint64_t)N(r, i++);
	c->internal = N(r, i++) != 0;
	c->first_us = N(r, i++);
	c->last_us = N(r, i++);
	c->first_nonsecure_us = N(r, i++);
	c->last_nonsecure_us = N(r, i++);
	c->findings = (uint32_t)N(r, i++);
	c->signon_failures = (uint64_t)N(r, i++);
	c->nonsecure_lookup = N(r, i++) != 0;
	c->offer.tls = N(r, i++) != 0;
	c->offer.max_version = (uint16_t)N(r, i++);
	c->offer.families = (uint32_t)N(r, i++);
	c->offer.only_legacy_ciphers = N(r, i++) != 0;
	c->offer.negotiated_legacy = N(r, i++) != 0;
	c->in_progress = N(r, i++) != 0;
	c->first_nonsecure_ever_us = N(r, i++);
	if (!l->identity)
		return true;
	/* who it is: a DHCP host over its addresses, or its address */
	const char *host = T(r, i++);
	c->host = -1;
	if (host[0]) {
		if (!c->dhcp && !(c->dhcp = calloc(1, sizeof *c->dhcp)))
			return false;
		snprintf(c->dhcp->hw, sizeof c->dhcp->hw, "%s", host);
		snprintf(c->dhcp->client_id, sizeof c->dhcp->client_id, "%s", T(r, i));
	}
	i++;
	char addrs[2048];
	snprintf(addrs, sizeof addrs, "%s", T(r, i++));
	for (char *save = NULL, *t = strtok_r(addrs, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		struct addr x;
		if (addr_parse_prefix(t, &x, &plen))
			inventory_add_addr(c, &x);
	}
	if (!c->n_addrs)
		inventory_add_addr(c, &c->ip);
	size_t at = inv->n_clients - 1;
	if (!inventory_grow((void **)&l->ix, l->n_ix, &l->cap_ix, sizeof *l->ix))
		return false;
	if (!inventory_grow((void **)&l->lease_first, at, &l->cap_lease_first, sizeof *l->lease_first))
		return false;
	l->lease_first[at] = N(r, i++);
	snprintf(l->ix[l->n_ix].ip, sizeof l->ix[l->n_ix].ip, "%s", T(r, i++));
	l->ix[l->n_ix++].index = at;
	return true;
}

bool rows_clients_done(struct rows_loader *l)
{
	struct inventory *inv = l->inv;
	if (l->identity) {     /* indexed as read; sorted at the end (rows_finish) */
		if (l->n_ix > 1)
			qsort(l->ix, l->n_ix, sizeof *l->ix, cmp_ix);
		return true;
	}
	if (inv->n_clients > 1)
		qsort(inv->clients, inv->n_clients, sizeof *inv->clients, cmp_client_addr);
	l->ix = malloc((inv->n_clients ? inv->n_clients : 1) * sizeof *l->ix);
	if (!l->ix)
		return false;
	for (size_t i = 0; i < inv->n_clients; i++) {
		addr_str(&inv->clients[i].ip, l->ix[i].ip);
		l->ix[i].index = i;
	}
	l->n_ix = inv->n_clients;
	qsort(l->ix, l->n_ix, sizeof *l->ix, cmp_ix);
	return true;
}

bool rows_usage(struct rows_loader *l, const struct store_row *r)
{
	struct inv_client *c = client_of(l, T(r, 0));
	struct addr srv;
	int plen;
	if (!c || !addr_parse_prefix(T(r, 1), &srv, &plen))
		return true;
	if (!inventory_grow((void **)&c->use, c->n_use, &c->cap_use, sizeof *c->use))
		return false;
	struct inv_usage *u = &c->use[c->n_use++];
	memset(u, 0, sizeof *u);
	u->server = srv;
	u->service = T(r, 2)[0] ? inventory_intern(l->inv, T(r, 2)) : NULL;
	u->port = (uint16_t)N(r, 3);
	u->cls = (enum port_class)N(r, 4);
	uint64_t *counts[] = { &u->connections, &u->refused, &u->unanswered, &u->attempts, &u->failed_tls,
			       &u->cleartext, &u->tls };
	for (int i = 0; i < 7; i++)
		*counts[i] = (uint64_t)N(r, 5 + i);
	u->tls_versions = (uint32_t)N(r, 12);
	u->mismatch = N(r, 13) != 0;
	u->first_us = N(r, 14);
	u->last_us = N(r, 15);
	return true;
}

static struct inv_usage *usage_of(struct inv_client *c, const char *srv, const char *svc, int port, int cls)
{
	struct addr a;
	int plen;
	if (!addr_parse_prefix(srv, &a, &plen))
		return NULL;
	for (size_t i = 0; i < c->n_use; i++) {
		struct inv_usage *u = &c->use[i];
		if (u->port == port && (int)u->cls == cls && addr_eq(&u->server, &a) &&
		    strcmp(u->service ? u->service : "", svc) == 0)
			return u;
	}
	return NULL;
}

/* The server of this address, added in its sorted place if new. */
static struct inv_server *server_of(struct rows_loader *l, const struct addr *a)
{
	struct inventory *inv = l->inv;
	size_t lo = 0, hi = inv->n_servers;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = addr_cmp(&inv->servers[mid].ip, a);
		if (c == 0)
			return &inv->servers[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!inventory_grow((void **)&inv->servers, inv->n_servers, &l->cap_servers, sizeof *inv->servers))
		return NULL;
	memmove(&inv->servers[lo + 1], &inv->servers[lo], (inv->n_servers - lo) * sizeof *inv->servers);
	memset(&inv->servers[lo], 0, sizeof *inv->servers);
	inv->servers[lo].ip = *a;
	inv->n_servers++;
	return &inv->servers[lo];
}

static struct inv_port *port_of(struct inv_server *s, int port)
{
	for (size_t i = 0; i < s->n_ports; i++)
		if (s->ports[i].port == port)
			return &s->ports[i];
	return NULL;
}

bool rows_port(struct rows_loader *l, const struct store_row *r)
{
	struct addr a;
	int plen;
	if (!addr_parse_prefix(T(r, 0), &a, &plen))
		return true;
	struct inv_server *s = server_of(l, &a);
	if (!s || !inventory_grow((void **)&s->ports, s->n_ports, &s->cap_ports, sizeof *s->ports))
		return false;
	int port = (int)N(r, 1);
	size_t at = 0;   /* rows come in no promised order: keep the ports sorted */
	while (at < s->n_ports && s->ports[at].port < port)
		at++;
	memmove(&s->ports[at + 1], &s->ports[at], (s->n_ports - at) * sizeof *s->ports);
	struct inv_port *p = &s->ports[at];
	s->n_ports++;
	memset(p, 0, sizeof *p);
	p->port = (uint16_t)port;
	p->service = T(r, 2)[0] ? inventory_intern(l->inv, T(r, 2)) : NULL;
	p->cls = (enum port_class)N(r, 3);
	p->connections = (uint64_t)N(r, 4);
	p->tls_versions = (uint32_t)N(r, 5);
	p->findings = (uint32_t)N(r, 6);
	uint32_t vrm = (uint32_t)N(r, 7);
	if (vrm > s->release_vrm)
		s->release_vrm = vrm;
	return true;
}

bool rows_name(struct rows_loader *l, const struct store_row *r)
{
	const char *cli = T(r, 0), *srv = T(r, 1), *kind = T(r, 5), *name = T(r, 6);
	int port = (int)N(r, 3), cls = (int)N(r, 4);
	if (!cli[0]) {   /* a server port's negotiated cipher */
		struct addr a;
		int plen;
		struct inv_server key, *s;
		if (strcmp(kind, "cipher") != 0 || !addr_parse_prefix(srv, &a, &plen) || l->filtered ||
		    !l->inv->n_servers)
			return true;
		key.ip = a;
		s = bsearch(&key, l->inv->servers, l->inv->n_servers, sizeof key,
			    (int (*)(const void *, const void *))addr_cmp);
		struct inv_port *p = s ? port_of(s, port) : NULL;
		if (p)
			name_set_add(&p->ciphers, name);
		return true;
	}
	struct inv_client *c = client_of(l, cli);
	if (!c)
		return true;
	if (!srv[0]) {
		struct name_set *set = strcmp(kind, "user") == 0 ? &c->users
				     : strcmp(kind, "device") == 0 ? &c->devices
				     : strcmp(kind, "mapper") == 0 ? &c->mapper_requests
				     : strcmp(kind, "software") == 0 ? &c->software : NULL;
		if (set)
			name_set_add(set, name);
		return true;
	}
	struct inv_usage *u = usage_of(c, srv, T(r, 2), port, cls);
	if (u)
		name_set_add(strcmp(kind, "user") == 0 ? &u->users : &u->devices, name);
	return true;
}

bool rows_host_name(struct rows_loader *l, const struct store_row *r)
{
	struct inv_client *c = client_of(l, T(r, 0));
	enum name_source src = name_source_of(T(r, 1));
	if (l->identity && src < NAME_SOURCES) {
		const char *host = T(r, 6);
		struct addr ip;
		int plen;
		if (!addr_parse_prefix(T(r, 0), &ip, &plen))
			return true;
		if (c && (!host[0] || src < NAME_DRDA))   /* an address row: DRDA/5250 names of its own connections */
			inventory_add_host_name(c, T(r, 2), (int)src, &ip, N(r, 3), N(r, 4), (uint32_t)N(r, 5));
		char key[112];
		snprintf(key, sizeof key, "#%s", host);
		struct inv_client *h = host[0] ? client_of(l, key) : NULL;
		for (int k = 0; h && k < h->n_addrs; k++)
			if (addr_eq(&h->addrs[k], &ip)) {
				inventory_add_host_name(h, T(r, 2), (int)src, &ip, N(r, 3), N(r, 4), (uint32_t)N(r, 5));
				break;
			}
		return true;
	}
	if (c && src < NAME_SOURCES)
		inventory_add_host_name(c, T(r, 2), (int)src, &c->ip, N(r, 3), N(r, 4), (uint32_t)N(r, 5));
	return true;
}

bool rows_note(struct rows_loader *l, const struct store_row *r)
{
	struct inventory *inv = l->inv;
	struct inv_note n = { 0 };
	int plen;
	n.kind = (enum note_kind)N(r, 0);
	if ((unsigned)n.kind >= NOTE_KINDS || !addr_parse_prefix(T(r, 1), &n.client, &plen) ||
	    !addr_parse_prefix(T(r, 2), &n.server, &plen))
		return true;
	n.port = (uint16_t)N(r, 3);
	snprintf(n.service, sizeof n.service, "%s", T(r, 4));
	snprintf(n.user, sizeof n.user, "%s", T(r, 5));
	snprintf(n.detail, sizeof n.detail, "%s", T(r, 6));
	n.count = (uint64_t)N(r, 7);
	n.first_us = N(r, 8);
	n.last_us = N(r, 9);
	if (!inventory_grow((void **)&inv->notes, inv->n_notes, &l->cap_notes, sizeof *inv->notes))
		return false;
	inv->notes[inv->n_notes++] = n;
	return true;
}

bool rows_day(struct rows_loader *l, const struct store_row *r)
{
	return inventory_add_day(l->inv, N(r, 0), (enum port_class)N(r, 1), (uint64_t)N(r, 2));
}

bool rows_cert(struct rows_loader *l, const struct store_row *r)
{
	struct inv_cert c = { 0 };
	int plen;
	if (!addr_parse_prefix(T(r, 0), &c.server, &plen))
		return true;
	c.port = (uint16_t)N(r, 1);
	snprintf(c.sha256, sizeof c.sha256, "%s", T(r, 2));
	snprintf(c.subject, sizeof c.subject, "%s", T(r, 3));
	snprintf(c.issuer, sizeof c.issuer, "%s", T(r, 4));
	c.not_after = N(r, 5) / 1000000;
	c.first_us = N(r, 6);
	c.last_us = N(r, 7);
	c.not_before = N(r, 8) / 1000000;
	snprintf(c.key_type, sizeof c.key_type, "%s", T(r, 9));
	c.key_bits = (int)N(r, 10);
	snprintf(c.sig_alg, sizeof c.sig_alg, "%s", T(r, 11));
	c.self_signed = N(r, 12) != 0;
	inventory_add_cert(l->inv, &l->cap_certs, &c);
	return true;
}

/* The DHCP hosts numbered in the order their first lease started (the one-shot run's order of sight). */
static int cmp_lease_first(const void *x, const void *y, void *arg)
{
	const struct rows_loader *l = arg;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	if (l->lease_first[a] != l->lease_first[b])
		return l->lease_first[a] < l->lease_first[b] ? -1 : 1;
	return strcmp(inv_client_hw(&l->inv->clients[a]), inv_client_hw(&l->inv->clients[b]));
}

static bool number_hosts(struct rows_loader *l)
{
	struct inventory *inv = l->inv;
	size_t *v = malloc((inv->n_clients ? inv->n_clients : 1) * sizeof *v), n = 0;
	if (!v)
		return false;
	for (size_t i = 0; i < inv->n_clients; i++)
		if (inv_client_hw(&inv->clients[i])[0])
			v[n++] = i;
	if (n > 1)
		qsort_r(v, n, sizeof *v, cmp_lease_first, l);
	for (size_t k = 0; k < n; k++)
		inv->clients[v[k]].host = (int32_t)k;
	free(v);
	inventory_shared_addresses(inv);   /* also sorts the rows: by address, then host */
	return true;
}

bool rows_finish(struct rows_loader *l, bool ok)
{
	struct inventory *inv = l->inv;
	free(l->ix);
	l->ix = NULL;
	l->n_ix = 0;
	if (ok && l->identity)
		ok = number_hosts(l);
	free(l->lease_first);
	l->lease_first = NULL;
	if (!ok) {
		inventory_free(inv);
		return false;
	}
	for (size_t i = 0; i < inv->n_clients; i++)
		inv->flows += inv->clients[i].flows;
	inventory_finish(inv);
	return true;
}
