/*
 * leasebook.c - DHCP leases over several names tables and a state file
 * (see leasebook.h): the same rules names.c applies within one table,
 * applied across them once everything was added.
 */
#define _GNU_SOURCE     /* qsort_r */
#include "leasebook.h"

#include "inventory.h"
#include "names.h"
#include "redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool add_host(struct leasebook *b, const char *key, const char *client_id, uint32_t *out)
{
	if (!inventory_grow((void **)&b->hosts, b->n_hosts, &b->cap_hosts, sizeof *b->hosts))
		return false;
	struct lease_host *h = &b->hosts[b->n_hosts];
	snprintf(h->key, sizeof h->key, "%s", key);
	snprintf(h->client_id, sizeof h->client_id, "%s", client_id ? client_id : "");
	*out = (uint32_t)b->n_hosts++;
	return true;
}

static bool add_lease(struct leasebook *b, uint32_t host, const struct addr *ip, int64_t start_us, int64_t end_us)
{
	if (!inventory_grow((void **)&b->v, b->n, &b->cap, sizeof *b->v))
		return false;
	b->v[b->n++] = (struct lease_entry){ .ip = *ip, .host = host, .start_us = start_us, .end_us = end_us };
	b->prepared = false;
	return true;
}

bool leasebook_add(struct leasebook *b, const char *key, const char *client_id, const struct addr *ip,
		   int64_t start_us, int64_t end_us)
{
	uint32_t h;
	return key[0] && add_host(b, key, client_id, &h) && add_lease(b, h, ip, start_us, end_us);
}

bool leasebook_add_names(struct leasebook *b, const struct names *t, bool redact, const char *redact_key)
{
	if (!t || !t->n_leases)
		return true;
	uint32_t *map = malloc(t->n_hosts * sizeof *map);
	if (!map)
		return false;
	bool ok = true;
	for (size_t i = 0; ok && i < t->n_hosts; i++) {
		char hw[48], id[72], rh[LEASEBOOK_KEY], ri[LEASEBOOK_KEY];
		names_hw_str(&t->hosts[i], hw, sizeof hw);
		names_client_id_str(&t->hosts[i], id, sizeof id);
		const char *key = hw, *cid = id;
		if (redact) {
			key = redact_name(redact_key ? redact_key : "", hw, rh, sizeof rh);
			cid = id[0] ? redact_name(redact_key ? redact_key : "", id, ri, sizeof ri) : "";
		}
		ok = add_host(b, key, cid, &map[i]);
	}
	for (size_t i = 0; ok && i < t->n_leases; i++) {
		const struct dhcp_lease *l = &t->leases[i];
		ok = l->host < t->n_hosts && add_lease(b, map[l->host], &l->ip, l->start_us, l->end_us);
	}
	free(map);
	return ok;
}

static int cmp_host_ix(const void *x, const void *y, void *arg)
{
	const struct leasebook *book = arg;
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	int c = strcmp(book->hosts[a].key, book->hosts[b].key);
	return c ? c : a < b ? -1 : a > b;
}

/* Per host: its IPv4 leases in time (one address at a time: a move ends the one before), then its IPv6
 * leases per address in time (a DHCPv6 host holds several at once, and a host linked to its DHCPv6
 * side by names.c has both families: an IPv6 lease never ends an IPv4 one). */
static int cmp_by_host(const void *x, const void *y)
{
	const struct lease_entry *a = x, *b = y;
	if (a->host != b->host)
		return a->host < b->host ? -1 : 1;
	bool a4 = addr_is_v4(&a->ip), b4 = addr_is_v4(&b->ip);
	if (a4 != b4)
		return a4 ? -1 : 1;
	int c = a4 ? 0 : addr_cmp(&a->ip, &b->ip);
	if (c)
		return c;
	return a->start_us < b->start_us ? -1 : a->start_us > b->start_us;
}

static int cmp_by_addr(const void *x, const void *y)
{
	const struct lease_entry *a = x, *b = y;
	int c = addr_cmp(&a->ip, &b->ip);
	if (c)
		return c;
	return a->start_us < b->start_us ? -1 : a->start_us > b->start_us;
}

/* Hosts made unique by key (the first kept, a client identifier taken where one was missing). */
static bool unique_hosts(struct leasebook *b)
{
	if (b->n_hosts < 2)
		return true;
	uint32_t *ix = malloc(b->n_hosts * sizeof *ix), *map = malloc(b->n_hosts * sizeof *map);
	struct lease_host *out = malloc(b->n_hosts * sizeof *out);
	if (!ix || !map || !out) {
		free(ix);
		free(map);
		free(out);
		return false;
	}
	for (size_t i = 0; i < b->n_hosts; i++)
		ix[i] = (uint32_t)i;
	qsort_r(ix, b->n_hosts, sizeof *ix, cmp_host_ix, b);
	size_t n = 0;
	for (size_t i = 0; i < b->n_hosts; i++) {
		const struct lease_host *h = &b->hosts[ix[i]];
		if (!n || strcmp(out[n - 1].key, h->key) != 0)
			out[n++] = *h;
		else if (!out[n - 1].client_id[0])
			memcpy(out[n - 1].client_id, h->client_id, sizeof h->client_id);
		map[ix[i]] = (uint32_t)(n - 1);
	}
	for (size_t i = 0; i < b->n; i++)
		b->v[i].host = map[b->v[i].host];
	free(b->hosts);
	b->hosts = out;
	b->cap_hosts = b->n_hosts;
	b->n_hosts = n;
	free(ix);
	free(map);
	return true;
}

void leasebook_prepare(struct leasebook *b)
{
	if (b->prepared)
		return;
	b->prepared = true;
	if (!unique_hosts(b)) {
		b->n = 0;             /* no memory: no identity (every address is its own client, as before) */
		return;
	}
	if (b->n < 2)
		return;
	/* per host, in time: a renewal on the same address is the same lease; a move (IPv4) ends the lease
	 * before */
	qsort(b->v, b->n, sizeof *b->v, cmp_by_host);
	size_t n = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct lease_entry *e = &b->v[i], *p = n ? &b->v[n - 1] : NULL;
		if (p && p->host == e->host) {
			if (addr_eq(&p->ip, &e->ip) && e->start_us <= p->end_us) {
				if (e->end_us > p->end_us)
					p->end_us = e->end_us;
				continue;
			}
			if (p->end_us > e->start_us && addr_is_v4(&p->ip) && addr_is_v4(&e->ip))
				p->end_us = e->start_us;
		}
		b->v[n++] = *e;
	}
	b->n = n;
	/* per address, in time: an address given to another host ends the lease before it */
	qsort(b->v, b->n, sizeof *b->v, cmp_by_addr);
	for (size_t i = 0; i + 1 < b->n; i++) {
		struct lease_entry *a = &b->v[i], *c = &b->v[i + 1];
		if (addr_eq(&a->ip, &c->ip) && a->end_us > c->start_us)
			a->end_us = c->start_us;
	}
}

int32_t leasebook_host_at(const struct leasebook *b, const struct addr *ip, int64_t t)
{
	if (!b || !b->prepared || !b->n)
		return -1;
	size_t lo = 0, hi = b->n;   /* the last lease of ip that started at or before t */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = addr_cmp(&b->v[mid].ip, ip);
		if (c < 0 || (c == 0 && b->v[mid].start_us <= t))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	const struct lease_entry *l = &b->v[lo - 1];
	return addr_eq(&l->ip, ip) && t <= l->end_us ? (int32_t)l->host : -1;
}

/* src into dst (len bytes), cut to fit: a key is a hardware address or its redaction, well under len */
static void copy_cut(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

bool leasebook_identify(const struct leasebook *b, struct inventory *inv)
{
	for (size_t i = 0; i < inv->n_clients; i++) {
		struct inv_client *c = &inv->clients[i];
		if (c->host < 0 || (size_t)c->host >= b->n_hosts)
			continue;
		if (!c->dhcp && !(c->dhcp = calloc(1, sizeof *c->dhcp)))
			return false;
		copy_cut(c->dhcp->hw, sizeof c->dhcp->hw, b->hosts[c->host].key);
		copy_cut(c->dhcp->client_id, sizeof c->dhcp->client_id, b->hosts[c->host].client_id);
	}
	return true;
}

void leasebook_free(struct leasebook *b)
{
	free(b->hosts);
	free(b->v);
	memset(b, 0, sizeof *b);
}
