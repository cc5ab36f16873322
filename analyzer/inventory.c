/*
 * inventory.c - per-client and per-server roll-up of the flow records
 * (see inventory.h).  Built once, after the input ended: records are
 * visited in order, clients and servers found by binary search in arrays
 * kept sorted by address.
 */
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprints.h"
#include "hostserver.h"
#include "portmapper.h"
#include "tls.h"

#define LINK_WINDOW_US (120LL * 1000000)

const char *client_status_name(enum client_status s)
{
	static const char *const n[] = { "unknown", "secure", "nonsecure", "attempt-only" };
	return (unsigned)s <= CS_ATTEMPT ? n[s] : "unknown";
}

void name_set_add(struct name_set *s, const char *name)
{
	if (!name || !*name)
		return;
	int i = 0;
	while (i < s->n && strcmp(s->v[i], name) < 0)
		i++;
	if (i < s->n && strcmp(s->v[i], name) == 0)
		return;
	if (s->n >= INV_MAX_NAMES) {
		s->overflow = true;
		return;
	}
	if (s->n == s->cap) {
		uint8_t cap = s->cap ? (uint8_t)(s->cap * 2) : 2;
		char (*v)[48] = realloc(s->v, cap * sizeof *v);
		if (!v) {
			s->overflow = true;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	memmove(&s->v[i + 1], &s->v[i], (size_t)(s->n - i) * sizeof s->v[0]);
	snprintf(s->v[i], sizeof s->v[i], "%s", name);
	s->n++;
}

void name_set_free(struct name_set *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

int inv_versions(uint32_t bits, uint16_t *out, int max)
{
	int n = 0;
	for (int i = 0; i < 32 && n < max; i++)
		if (bits & (1u << i))
			out[n++] = (uint16_t)(0x0300 | i);
	return n;
}

/* Find or insert, keeping the array sorted by address. */
static void *sorted_find(void **arr, size_t *n, size_t *cap, size_t elem, const struct addr *a)
{
	size_t lo = 0, hi = *n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = addr_cmp((const struct addr *)((char *)*arr + mid * elem), a);
		if (c == 0)
			return (char *)*arr + mid * elem;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		void *na = realloc(*arr, nc * elem);
		if (!na)
			return NULL;
		*arr = na;
		*cap = nc;
	}
	char *base = *arr;
	memmove(base + (lo + 1) * elem, base + lo * elem, (*n - lo) * elem);
	memset(base + lo * elem, 0, elem);
	memcpy(base + lo * elem, a, sizeof *a);   /* ip is each struct's first member */
	(*n)++;
	return base + lo * elem;
}

static struct inv_usage *usage_for(struct inv_client *c, const struct flow_record *r)
{
	for (size_t i = 0; i < c->n_use; i++) {
		struct inv_usage *u = &c->use[i];
		if (u->port == r->sport && u->cls == r->cls && u->service == r->service && addr_eq(&u->server, &r->srv))
			return u;
	}
	if (c->n_use == c->cap_use) {
		size_t nc = c->cap_use ? c->cap_use * 2 : 4;
		struct inv_usage *nu = realloc(c->use, nc * sizeof *nu);
		if (!nu)
			return NULL;
		c->use = nu;
		c->cap_use = nc;
	}
	struct inv_usage *u = &c->use[c->n_use++];
	memset(u, 0, sizeof *u);
	u->server = r->srv;
	u->service = r->service;
	u->port = r->sport;
	u->cls = r->cls;
	u->first_us = r->start_us;
	u->last_us = r->end_us;
	return u;
}

static int usage_cmp(const void *a, const void *b)
{
	const struct inv_usage *x = a, *y = b;
	int c = addr_cmp(&x->server, &y->server);
	if (c)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (int)x->cls - (int)y->cls;
}

static void add_port(struct inv_server *s, const struct flow_record *r)
{
	struct inv_port *p = NULL;
	for (size_t i = 0; i < s->n_ports; i++)
		if (s->ports[i].port == r->sport)
			p = &s->ports[i];
	if (!p) {
		if (s->n_ports == s->cap_ports) {
			size_t nc = s->cap_ports ? s->cap_ports * 2 : 8;
			struct inv_port *np = realloc(s->ports, nc * sizeof *np);
			if (!np)
				return;
			s->ports = np;
			s->cap_ports = nc;
		}
		size_t i = 0;
		while (i < s->n_ports && s->ports[i].port < r->sport)
			i++;
		memmove(&s->ports[i + 1], &s->ports[i], (s->n_ports - i) * sizeof *p);
		p = &s->ports[i];
		memset(p, 0, sizeof *p);
		p->port = r->sport;
		p->service = r->service;
		p->cls = r->cls;
		s->n_ports++;
	}
	p->connections++;
	if (rec_tls(r) && r->transport == TR_TLS && rec_tls(r)->version >= 0x0300 && rec_tls(r)->version <= 0x0304)
		p->tls_versions |= 1u << (rec_tls(r)->version & 0x1f);
	if (rec_tls(r) && rec_tls(r)->server_hello && !rec_tls(r)->hello_retry)
		name_set_add(&p->ciphers, tls_cipher_name(rec_tls(r)->cipher));
}

/* Port-mapper lookup -> the next connection of that client to the answered port. */
static void link_mapper(struct engine *e)
{
	for (size_t i = 0; i < e->n_records; i++) {
		struct flow_record *m = e->records[i];
		if (!rec_pm(m) || !rec_pm(m)->reply_ok)
			continue;
		for (size_t j = i + 1; j < e->n_records; j++) {
			struct flow_record *c = e->records[j];
			if (c->start_us - m->start_us > LINK_WINDOW_US)
				break;
			if (c->sport == rec_pm(m)->port && c->link < 0 && addr_eq(&c->cli, &m->cli) &&
			    addr_eq(&c->srv, &m->srv)) {
				m->link = (int64_t)j;
				c->link = (int64_t)i;
				break;
			}
		}
	}
}

/* Records in client-address order, each client's in record order. */
static int cmp_by_client(const void *a, const void *b)
{
	const struct flow_record *const *x = a, *const *y = b;
	int c = addr_cmp(&(*x)->cli, &(*y)->cli);
	if (c)
		return c;
	return x < y ? -1 : x > y;
}

bool inventory_build(struct inventory *inv, struct engine *e)
{
	size_t cap_servers = 0;
	memset(inv, 0, sizeof *inv);
	link_mapper(e);
	/* One pass over the records grouped by client: clients are appended in
	 * address order (no insertion into a sorted array: a flood of a million
	 * clients stays O(n log n)). */
	const struct flow_record **by_client = malloc((e->n_records ? e->n_records : 1) * sizeof *by_client);
	if (!by_client)
		return false;
	for (size_t i = 0; i < e->n_records; i++)
		by_client[i] = e->records[i];
	if (e->n_records > 1)
		qsort(by_client, e->n_records, sizeof *by_client, cmp_by_client);
	size_t distinct = 0;
	for (size_t i = 0; i < e->n_records; i++)
		distinct += i == 0 || !addr_eq(&by_client[i]->cli, &by_client[i - 1]->cli);
	inv->clients = calloc(distinct ? distinct : 1, sizeof *inv->clients);
	if (!inv->clients) {
		free(by_client);
		return false;
	}
	struct inv_client *cl = NULL;
	for (size_t i = 0; i < e->n_records; i++) {
		const struct flow_record *r = by_client[i];
		if (!cl || !addr_eq(&cl->ip, &r->cli)) {
			cl = &inv->clients[inv->n_clients++];
			cl->ip = r->cli;
		}
		struct inv_client *c = cl;
		c->internal |= r->internal;
		c->findings |= findings_for(r, e->last_us);
		offer_add(&c->offer, r);
		const char *user = record_user(r), *dev = record_device(r);
		name_set_add(&c->users, user);
		name_set_add(&c->devices, dev);
		name_set_add(&c->software, record_software(r));
		if (rec_hs(r) && rec_hs(r)->outcome != HS_OUTCOME_NONE && rec_hs(r)->outcome != HS_OUTCOME_OK)
			c->signon_failures++;
		if (rec_pm(r) && rec_pm(r)->requested[0]) {
			name_set_add(&c->mapper_requests, rec_pm(r)->requested);
			if (!rec_pm(r)->secure) {
				c->status = CS_NONSECURE;
				if (r->end_us > c->last_nonsecure_us)
					c->last_nonsecure_us = r->end_us;
			}
		}
		if (r->service && r->cls != PC_MAPPER) {
			struct inv_server *s = sorted_find((void **)&inv->servers, &inv->n_servers, &cap_servers,
							   sizeof *s, &r->srv);
			if (s) {
				add_port(s, r);
				for (size_t k = 0; k < s->n_ports; k++)
					if (s->ports[k].port == r->sport)
						s->ports[k].findings |= findings_for(r, e->last_us);
				if (rec_hs(r) && rec_hs(r)->server_vrm)
					s->release_vrm = rec_hs(r)->server_vrm;
			}
		} else if (r->cls == PC_MAPPER) {
			struct inv_server *s = sorted_find((void **)&inv->servers, &inv->n_servers, &cap_servers,
							   sizeof *s, &r->srv);
			if (s)
				add_port(s, r);
		}
		if (r->cls != PC_NONSECURE && r->cls != PC_SECURE)
			continue;
		struct inv_usage *u = usage_for(c, r);
		if (!u) {
			free(by_client);
			return false;
		}
		u->connections++;
		if (r->tcp == TCP_REFUSED)
			u->refused++;
		if (r->tcp == TCP_UNANSWERED)
			u->unanswered++;
		if (r->transport == TR_TLS_FAILED)
			u->failed_tls++;
		if (r->transport == TR_CLEARTEXT)
			u->cleartext++;
		if (r->transport == TR_TLS) {
			u->tls++;
			if (rec_tls(r) && rec_tls(r)->version >= 0x0300 && rec_tls(r)->version <= 0x0304)
				u->tls_versions |= 1u << (rec_tls(r)->version & 0x1f);
		}
		if (r->mismatch)
			u->mismatch = true;
		if (r->start_us < u->first_us)
			u->first_us = r->start_us;
		if (r->end_us > u->last_us)
			u->last_us = r->end_us;
		name_set_add(&u->users, user);
		name_set_add(&u->devices, dev);
		if (r->cls == PC_NONSECURE && !record_handshake_done(r)) {
			c->attempted_nonsecure = true;
		} else if (r->cls == PC_NONSECURE) {
			c->status = CS_NONSECURE;
			if (r->end_us > c->last_nonsecure_us)
				c->last_nonsecure_us = r->end_us;
		} else if (c->status == CS_UNKNOWN) {
			c->status = CS_SECURE;
		}
	}
	free(by_client);
	for (size_t i = 0; i < inv->n_clients; i++) {
		struct inv_client *c = &inv->clients[i];
		if (c->n_use > 1)
			qsort(c->use, c->n_use, sizeof *c->use, usage_cmp);
		if (c->status == CS_UNKNOWN && c->attempted_nonsecure)
			c->status = CS_ATTEMPT;
		switch (c->status) {
		case CS_NONSECURE: inv->nonsecure_clients++; break;
		case CS_SECURE: inv->secure_clients++; break;
		case CS_ATTEMPT: inv->attempt_clients++; break;
		default: inv->unknown_clients++; break;
		}
		if (c->internal)
			inv->internal_clients++;
	}
	/* servers' client counts */
	for (size_t i = 0; i < inv->n_clients; i++)
		for (size_t k = 0; k < inv->n_servers; k++)
			for (size_t j = 0; j < inv->clients[i].n_use; j++)
				if (addr_eq(&inv->clients[i].use[j].server, &inv->servers[k].ip)) {
					inv->servers[k].clients++;
					break;
				}
	return true;
}

void inventory_free(struct inventory *inv)
{
	for (size_t i = 0; i < inv->n_clients; i++) {
		struct inv_client *c = &inv->clients[i];
		for (size_t j = 0; j < c->n_use; j++) {
			name_set_free(&c->use[j].users);
			name_set_free(&c->use[j].devices);
		}
		free(c->use);
		name_set_free(&c->mapper_requests);
		name_set_free(&c->users);
		name_set_free(&c->devices);
		name_set_free(&c->software);
	}
	for (size_t i = 0; i < inv->n_servers; i++) {
		for (size_t j = 0; j < inv->servers[i].n_ports; j++)
			name_set_free(&inv->servers[i].ports[j].ciphers);
		free(inv->servers[i].ports);
	}
	free(inv->clients);
	free(inv->servers);
	memset(inv, 0, sizeof *inv);
}
