/*
 * inventory.c - per-client and per-server roll-up of the flow records
 * (see inventory.h).  Built once, after the input ended: records are
 * visited in order, clients and servers found by binary search in arrays
 * kept sorted by address.
 */
#define _GNU_SOURCE     /* qsort_r */
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprints.h"
#include "hostserver.h"
#include "names.h"
#include "portmapper.h"
#include "spool.h"
#include "tls.h"
#include "x509.h"


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
		if (u->port == r->sport && u->cls == record_use_class(r) && u->service == r->service &&
		    addr_eq(&u->server, &r->srv))
			return u;
	}
	if (c->n_use == c->cap_use) {
		size_t nc = c->cap_use ? c->cap_use * 2 : 1;   /* from one: most clients of a flood have one use */
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
	u->cls = record_use_class(r);   /* an upgrade to TLS before any credential is a secure use */
	u->first_us = r->start_us;
	u->last_us = r->end_us;
	return u;
}

static int server_cmp(const void *a, const void *b)
{
	return addr_cmp(&((const struct inv_server *)a)->ip, &((const struct inv_server *)b)->ip);
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

/* Who a record's client is: the DHCP host whose lease covered its address then (host >= 0), or its
 * address alone. */
struct by_client {
	const struct analysis *a;
	const int32_t *host;       /* per record index - from; NULL: addresses only */
	size_t from;
	bool per_address;          /* a host's records on each address apart (a store's rows) */
};

static int32_t host_of(const struct by_client *b, size_t i)
{
	return b->host ? b->host[i - b->from] : -1;
}

static int identity_cmp(const struct by_client *b, size_t i, size_t j)
{
	int32_t hi = host_of(b, i), hj = host_of(b, j);
	if (hi >= 0 || hj >= 0) {
		if (hi != hj)
			return hi < 0 ? 1 : hj < 0 ? -1 : hi < hj ? -1 : 1;
		if (!b->per_address)
			return 0;
	}
	return addr_cmp(&b->a->records[i]->cli, &b->a->records[j]->cli);
}

/* Records grouped by client identity, each client's in record order (index into the analysis). */
static int cmp_by_client(const void *x, const void *y, void *arg)
{
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	int c = identity_cmp(arg, i, j);
	if (c)
		return c;
	return i < j ? -1 : i > j;
}

bool inventory_grow(void **arr, size_t n, size_t *cap, size_t elem)
{
	if (n < *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 16;
	void *na = realloc(*arr, nc * elem);
	if (!na)
		return false;
	*arr = na;
	*cap = nc;
	return true;
}

const char *inventory_intern(struct inventory *inv, const char *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < inv->n_strings; i++)
		if (strcmp(inv->strings[i], s) == 0)
			return inv->strings[i];
	char *d = strdup(s);
	if (!d || !inventory_grow((void **)&inv->strings, inv->n_strings, &inv->cap_strings, sizeof *inv->strings)) {
		free(d);
		return NULL;
	}
	inv->strings[inv->n_strings++] = d;
	return d;
}

/* ---- notes: one line per distinct (kind, client, server, port, service, user, detail) ---- */

struct note_index {
	size_t *by_key;            /* indexes into inv->notes, sorted by key */
	size_t n, cap;
};

static int note_cmp(const struct inv_note *x, const struct inv_note *y)
{
	int c = (int)x->kind - (int)y->kind;
	if (!c)
		c = addr_cmp(&x->client, &y->client);
	if (!c)
		c = addr_cmp(&x->server, &y->server);
	if (!c)
		c = (int)x->port - (int)y->port;
	if (!c)
		c = strcmp(x->service, y->service);
	if (!c)
		c = strcmp(x->user, y->user);
	if (!c)
		c = strcmp(x->detail, y->detail);
	return c;
}

static void note_add(struct inventory *inv, struct note_index *ix, size_t *cap, const struct inv_note *n)
{
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = note_cmp(&inv->notes[ix->by_key[mid]], n);
		if (c == 0) {
			struct inv_note *o = &inv->notes[ix->by_key[mid]];
			o->count += n->count;
			if (n->first_us < o->first_us)
				o->first_us = n->first_us;
			if (n->last_us > o->last_us)
				o->last_us = n->last_us;
			return;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!inventory_grow((void **)&inv->notes, inv->n_notes, cap, sizeof *inv->notes) ||
	    !inventory_grow((void **)&ix->by_key, ix->n, &ix->cap, sizeof *ix->by_key))
		return;
	memmove(&ix->by_key[lo + 1], &ix->by_key[lo], (ix->n - lo) * sizeof *ix->by_key);
	ix->by_key[lo] = inv->n_notes;
	ix->n++;
	inv->notes[inv->n_notes++] = *n;
}

static void notes_of(struct inventory *inv, struct note_index *ix, size_t *cap, const struct analysis *a,
		     const struct flow_record *r, size_t i)
{
	struct inv_note n = { .client = r->cli, .server = r->srv, .port = r->sport, .count = 1,
			      .first_us = r->start_us, .last_us = r->start_us };
	if (rec_pm(r) && rec_pm(r)->requested[0]) {
		const struct pm_state *pm = rec_pm(r);
		n.kind = NOTE_LOOKUP;
		snprintf(n.service, sizeof n.service, "%s", pm->requested);
		size_t o = (size_t)snprintf(n.detail, sizeof n.detail, "%s: ", pm->secure ? "secure" : "nonsecure");
		uint16_t lport = 0;
		int64_t l = analysis_link(a, i, &lport);
		if (!pm->reply)
			snprintf(n.detail + o, sizeof n.detail - o, "no answer seen");
		else if (!pm->reply_ok)
			snprintf(n.detail + o, sizeof n.detail - o, "failure (reply byte 0x%02x)", pm->reply_byte);
		else if (l >= 0)
			snprintf(n.detail + o, sizeof n.detail - o, "port %u, then connected to %u", pm->port, lport);
		else
			snprintf(n.detail + o, sizeof n.detail - o, "port %u, no connection to it seen", pm->port);
		note_add(inv, ix, cap, &n);
	}
	if (rec_hs(r) && rec_hs(r)->outcome != HS_OUTCOME_NONE && rec_hs(r)->outcome != HS_OUTCOME_OK) {
		n.kind = NOTE_SIGNON_FAILURE;
		snprintf(n.service, sizeof n.service, "%s", r->service ? r->service : "-");
		snprintf(n.user, sizeof n.user, "%s", record_user(r) ? record_user(r) : "");
		snprintf(n.detail, sizeof n.detail, "%s (rc %08X)", hs_outcome_name(rec_hs(r)->outcome), rec_hs(r)->rc);
		note_add(inv, ix, cap, &n);
	}
	if (r->mismatch) {
		n.kind = NOTE_MISMATCH;
		snprintf(n.service, sizeof n.service, "%s", r->service ? r->service : "-");
		n.user[0] = '\0';
		snprintf(n.detail, sizeof n.detail, "%s", mismatch_name(r->mismatch));
		note_add(inv, ix, cap, &n);
	}
}

static int note_time_cmp(const void *x, const void *y)
{
	const struct inv_note *a = x, *b = y;
	if (a->first_us != b->first_us)
		return a->first_us < b->first_us ? -1 : 1;
	return note_cmp(a, b);
}

/* ---- certificates: one per (server, port, SHA-256) ---- */

static int cert_key_cmp(const struct inv_cert *x, const struct inv_cert *y)
{
	int c = addr_cmp(&x->server, &y->server);
	if (!c)
		c = (int)x->port - (int)y->port;
	return c ? c : strcmp(x->sha256, y->sha256);
}

static int cert_time_cmp(const void *x, const void *y)
{
	const struct inv_cert *a = x, *b = y;
	if (a->first_us != b->first_us)
		return a->first_us < b->first_us ? -1 : 1;
	return cert_key_cmp(a, b);
}

static void cert_of(struct inventory *inv, size_t *cap, const struct flow_record *r)
{
	const struct tls_state *t = rec_tls(r);
	if (!t || !t->cert_seen || t->chain_len == 0 || !t->chain[0]->parsed)
		return;
	const struct x509_info *x = t->chain[0];
	struct inv_cert c = { .server = r->srv, .port = r->sport, .key_bits = x->key_bits,
			      .self_signed = x->self_signed, .not_before = x->not_before, .not_after = x->not_after,
			      .first_us = r->start_us, .last_us = r->end_us };
	snprintf(c.sha256, sizeof c.sha256, "%s", x->sha256);
	snprintf(c.subject, sizeof c.subject, "%s", x->subject);
	snprintf(c.issuer, sizeof c.issuer, "%s", x->issuer);
	snprintf(c.key_type, sizeof c.key_type, "%s", x->key_type);
	snprintf(c.sig_alg, sizeof c.sig_alg, "%s", x->sig_alg);
	inventory_add_cert(inv, cap, &c);
}

uint32_t inventory_cert_findings(const struct inv_cert *x, int64_t end_us)
{
	return cert_findings(x->not_before, x->not_after, x->self_signed, x->key_type, x->key_bits, x->sig_alg,
			     x->last_us / 1000000, end_us / 1000000);
}

void inventory_add_cert(struct inventory *inv, size_t *cap, const struct inv_cert *c)
{
	/* linear in the distinct certificates of the run: a handful of servers */
	for (size_t i = 0; i < inv->n_certs; i++)
		if (cert_key_cmp(&inv->certs[i], c) == 0) {
			struct inv_cert *o = &inv->certs[i];
			if (c->first_us < o->first_us)
				o->first_us = c->first_us;
			if (c->last_us > o->last_us)
				o->last_us = c->last_us;
			return;
		}
	if (inv->n_certs >= INV_MAX_CERTS)
		return;
	if (!inventory_grow((void **)&inv->certs, inv->n_certs, cap, sizeof *inv->certs))
		return;
	inv->certs[inv->n_certs++] = *c;
}

/* ---- host names (names.h) ---- */

/* Add a name (or widen the times of the same name from the same source for the same address). */
static void host_name_add(struct inv_client *c, const char *name, enum name_source src, const struct addr *ip,
			  int64_t first_us, int64_t last_us, uint32_t count)
{
	for (int k = 0; k < c->n_names; k++) {
		struct inv_host_name *h = &c->names[k];
		if (h->source == src && addr_eq(&h->ip, ip) && strcmp(h->name, name) == 0) {
			if (first_us < h->first_us)
				h->first_us = first_us;
			if (last_us > h->last_us)
				h->last_us = last_us;
			h->count += count;
			return;
		}
	}
	if (c->n_names >= INV_MAX_HOST_NAMES * 4) {
		c->names_overflow = true;
		return;
	}
	if (!inventory_grow((void **)&c->names, c->n_names, &c->cap_names, sizeof *c->names))
		return;
	struct inv_host_name *h = &c->names[c->n_names++];
	memset(h, 0, sizeof *h);
	snprintf(h->name, sizeof h->name, "%s", name);
	h->source = (uint8_t)src;
	h->ip = *ip;
	h->first_us = first_us;
	h->last_us = last_us;
	h->count = count;
}

void inventory_add_host_name(struct inv_client *c, const char *name, int source, const struct addr *ip,
			     int64_t first_us, int64_t last_us, uint32_t count)
{
	if (name[0] && source >= 0 && source < NAME_SOURCES)
		host_name_add(c, name, (enum name_source)source, ip, first_us, last_us, count);
}

/* ---- the roll-up ---- */

static void client_add(struct inventory *inv, struct inv_client *c, const struct analysis *a,
		       const struct flow_record *r, size_t *cap_servers)
{
	uint32_t findings = analysis_findings(a, r);
	c->internal |= r->internal;
	c->flows++;
	c->findings |= findings;
	if (!c->first_us || r->start_us < c->first_us)
		c->first_us = r->start_us;
	if (r->end_us > c->last_us)
		c->last_us = r->end_us;
	offer_add(&c->offer, r);
	const char *user = record_user(r), *dev = record_device(r);
	name_set_add(&c->users, user);
	name_set_add(&c->devices, dev);
	char sw[48];
	name_set_add(&c->software, record_software(r, sw, sizeof sw));
	const char *hsrc, *host = record_host_name(r, &hsrc);
	if (host && host[0] && name_source_of(hsrc) < NAME_SOURCES)
		host_name_add(c, host, name_source_of(hsrc), &r->cli, r->start_us, r->end_us, 1);
	if (rec_hs(r) && rec_hs(r)->outcome != HS_OUTCOME_NONE && rec_hs(r)->outcome != HS_OUTCOME_OK)
		c->signon_failures++;
	if (rec_pm(r) && rec_pm(r)->requested[0]) {
		name_set_add(&c->mapper_requests, rec_pm(r)->requested);
		if (!rec_pm(r)->secure) {
			c->nonsecure_lookup = true;
			if (!c->first_nonsecure_us || r->start_us < c->first_nonsecure_us)
				c->first_nonsecure_us = r->start_us;
			if (r->end_us > c->last_nonsecure_us)
				c->last_nonsecure_us = r->end_us;
		}
	}
	if (r->service || r->cls == PC_MAPPER) {
		struct inv_server *s = sorted_find((void **)&inv->servers, &inv->n_servers, cap_servers, sizeof *s,
						   &r->srv);
		if (s) {
			add_port(s, r);
			for (size_t k = 0; k < s->n_ports; k++)
				if (s->ports[k].port == r->sport)
					s->ports[k].findings |= findings;
			if (rec_hs(r) && rec_hs(r)->server_vrm)
				s->release_vrm = rec_hs(r)->server_vrm;
		}
	}
	enum port_class use = record_use_class(r);
	if (use != PC_NONSECURE && use != PC_SECURE)
		return;
	struct inv_usage *u = usage_for(c, r);
	if (!u)
		return;
	u->connections++;
	if (r->tcp == TCP_REFUSED)
		u->refused++;
	if (r->tcp == TCP_UNANSWERED)
		u->unanswered++;
	if (!record_handshake_done(r))
		u->attempts++;
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
	if (use == PC_NONSECURE && record_handshake_done(r)) {
		if (r->end_us > c->last_nonsecure_us)
			c->last_nonsecure_us = r->end_us;
		if (!c->first_nonsecure_us || r->start_us < c->first_nonsecure_us)
			c->first_nonsecure_us = r->start_us;
	}
}

static int host_name_cmp(const void *x, const void *y);

/* The 5250 device names a client sent name its machine too (telnet-devname).  Taken from its devices,
 * so a report of a monitor's state, which keeps devices and not names, shows the same; count 0: the
 * devices do not say how many connections carried them. */
static void device_names(struct inv_client *c)
{
	for (int k = 0; k < c->devices.n; k++)
		host_name_add(c, c->devices.v[k], NAME_TELNET, &c->ip, c->first_us, c->last_us, 0);
	if (c->n_names > 1)
		qsort(c->names, c->n_names, sizeof *c->names, host_name_cmp);
	if (c->n_names > INV_MAX_HOST_NAMES) {
		c->n_names = INV_MAX_HOST_NAMES;
		c->names_overflow = true;
	}
}

void inventory_finish(struct inventory *inv)
{
	inv->nonsecure_clients = inv->secure_clients = inv->unknown_clients = inv->internal_clients =
		inv->attempt_clients = 0;
	for (size_t i = 0; i < inv->n_clients; i++) {
		struct inv_client *c = &inv->clients[i];
		device_names(c);
		if (c->n_use > 1)
			qsort(c->use, c->n_use, sizeof *c->use, usage_cmp);
		bool nonsecure = c->nonsecure_lookup, secure = false, attempted = false;
		for (size_t j = 0; j < c->n_use; j++) {
			const struct inv_usage *u = &c->use[j];
			if (u->cls == PC_NONSECURE && u->connections > u->attempts)
				nonsecure = true;
			else if (u->cls == PC_NONSECURE)
				attempted = true;
			else
				secure = true;
		}
		c->attempted_nonsecure = attempted;
		c->status = nonsecure ? CS_NONSECURE : secure ? CS_SECURE : attempted ? CS_ATTEMPT : CS_UNKNOWN;
		switch (c->status) {
		case CS_NONSECURE: inv->nonsecure_clients++; break;
		case CS_SECURE: inv->secure_clients++; break;
		case CS_ATTEMPT: inv->attempt_clients++; break;
		default: inv->unknown_clients++; break;
		}
		if (c->internal)
			inv->internal_clients++;
	}
	/* servers' client counts: each client counted once per server it used */
	for (size_t k = 0; k < inv->n_servers; k++)
		inv->servers[k].clients = 0;
	for (size_t i = 0; i < inv->n_clients; i++) {
		const struct inv_client *c = &inv->clients[i];
		for (size_t j = 0; j < c->n_use; j++) {
			if (j > 0 && addr_eq(&c->use[j].server, &c->use[j - 1].server))
				continue;   /* uses are sorted by server */
			struct inv_server key;
			key.ip = c->use[j].server;
			struct inv_server *s = inv->n_servers ? bsearch(&key, inv->servers, inv->n_servers, sizeof *s,
									  server_cmp) : NULL;
			if (s)
				s->clients++;
		}
	}
	if (inv->n_notes > 1)
		qsort(inv->notes, inv->n_notes, sizeof *inv->notes, note_time_cmp);
	if (inv->n_certs > 1)
		qsort(inv->certs, inv->n_certs, sizeof *inv->certs, cert_time_cmp);
}

/* ---- who each client is: addresses, DHCP host, host names (names.h) ---- */

void inventory_add_addr(struct inv_client *c, const struct addr *ip)
{
	int i = 0;
	while (i < c->n_addrs && addr_cmp(&c->addrs[i], ip) < 0)
		i++;
	if (i < c->n_addrs && addr_eq(&c->addrs[i], ip))
		return;
	if (c->n_addrs >= INV_MAX_ADDRS) {
		c->addrs_overflow = true;
		return;
	}
	if (c->n_addrs == c->cap_addrs) {
		uint8_t nc = c->cap_addrs ? (uint8_t)(c->cap_addrs * 4 > INV_MAX_ADDRS ? INV_MAX_ADDRS : c->cap_addrs * 4) : 1;
		struct addr *na = realloc(c->addrs, nc * sizeof *na);
		if (!na) {
			c->addrs_overflow = true;   /* no memory: the row keeps the addresses it has */
			return;
		}
		c->addrs = na;
		c->cap_addrs = nc;
	}
	memmove(&c->addrs[i + 1], &c->addrs[i], (size_t)(c->n_addrs - i) * sizeof *c->addrs);
	c->addrs[i] = *ip;
	c->n_addrs++;
}

static int host_name_cmp(const void *x, const void *y)
{
	const struct inv_host_name *a = x, *b = y;
	if (a->source != b->source)
		return a->source < b->source ? -1 : 1;
	if (a->last_us != b->last_us)
		return a->last_us > b->last_us ? -1 : 1;
	int c = strcmp(a->name, b->name);
	return c ? c : addr_cmp(&a->ip, &b->ip);
}

/* The names of a row: every name its address carried (an address row), or, for a DHCP host's row,
 * the names that came with its leases and the others seen while one of its leases held the address. */
static void client_names(struct inv_client *c, const struct names *t)
{
	for (int k = 0; t && k < c->n_addrs; k++) {
		size_t first, n = names_of(t, &c->addrs[k], &first);
		for (size_t i = first; i < first + n; i++) {
			const struct host_name *e = &t->v[i];
			if (c->host >= 0) {
				bool mine = e->source == NAME_DHCP ? e->host == c->host
								  : names_host_at(t, &e->ip, e->last_us) == c->host ||
									    names_host_at(t, &e->ip, e->first_us) == c->host;
				if (!mine)
					continue;
			}
			host_name_add(c, e->name, (enum name_source)e->source, &e->ip, e->first_us, e->last_us, e->count);
		}
	}
	if (c->n_names > 1)
		qsort(c->names, c->n_names, sizeof *c->names, host_name_cmp);
	if (c->n_names > INV_MAX_HOST_NAMES) {
		c->n_names = INV_MAX_HOST_NAMES;
		c->names_overflow = true;
	}
}

static int client_cmp(const void *x, const void *y)
{
	const struct inv_client *a = x, *b = y;
	int c = addr_cmp(&a->ip, &b->ip);
	if (c)
		return c;
	return a->host < b->host ? -1 : a->host > b->host;
}

struct addr_row {
	struct addr ip;
	size_t row;
};

static int addr_row_cmp(const void *x, const void *y)
{
	const struct addr_row *a = x, *b = y;
	int c = addr_cmp(&a->ip, &b->ip);
	return c ? c : a->row < b->row ? -1 : a->row > b->row;
}

/* After the rows were built with DHCP identities: names, hardware addresses, how many rows share
 * each address, and the rows in address order again.  False on no memory. */
static bool identities_finish(struct inventory *inv, const struct names *t)
{
	for (size_t i = 0; i < inv->n_clients; i++) {
		struct inv_client *c = &inv->clients[i];
		if (c->host >= 0 && (size_t)c->host < t->n_hosts) {
			const struct dhcp_host *h = &t->hosts[c->host];
			if (!c->dhcp && !(c->dhcp = calloc(1, sizeof *c->dhcp)))
				return false;
			names_hw_str(h, c->dhcp->hw, sizeof c->dhcp->hw);
			names_client_id_str(h, c->dhcp->client_id, sizeof c->dhcp->client_id);
			if (!h->duid && h->linked >= 0 && (size_t)h->linked < t->n_hosts) {   /* its DHCPv6 side */
				names_client_id_str(&t->hosts[h->linked], c->dhcp->duid, sizeof c->dhcp->duid);
				c->dhcp->link_why = h->link_why;
				c->dhcp->duids = h->n_linked;
			}
		}
		client_names(c, t);
	}
	inventory_shared_addresses(inv);
	return true;
}

void inventory_shared_addresses(struct inventory *inv)
{
	size_t total = 0;
	for (size_t i = 0; i < inv->n_clients; i++)
		total += inv->clients[i].n_addrs;
	struct addr_row *v = malloc((total ? total : 1) * sizeof *v);
	if (v) {
		size_t n = 0;
		for (size_t i = 0; i < inv->n_clients; i++)
			for (int k = 0; k < inv->clients[i].n_addrs; k++)
				v[n++] = (struct addr_row){ inv->clients[i].addrs[k], i };
		qsort(v, n, sizeof *v, addr_row_cmp);
		for (size_t i = 0; i < n;) {
			size_t j = i;
			while (j < n && addr_eq(&v[j].ip, &v[i].ip))
				j++;
			for (size_t k = i; j - i > 1 && k < j; k++) {
				struct inv_client *c = &inv->clients[v[k].row];
				if (j - i > c->hosts_on_address)
					c->hosts_on_address = (uint8_t)(j - i > 255 ? 255 : j - i);
			}
			i = j;
		}
		free(v);
	}
	if (inv->n_clients > 1)
		qsort(inv->clients, inv->n_clients, sizeof *inv->clients, client_cmp);
}

/* t: the names (rows follow DHCP hosts, carry host names); given: each record's host instead (no names
 * from a table; rows per host and address when per_address, else per host over its addresses). */
static bool build(struct inventory *inv, const struct analysis *a, size_t from, size_t to, const struct names *t,
		  const int32_t *given, bool per_address)
{
	size_t cap_servers = 0, cap_notes = 0, cap_certs = 0, n = to - from;
	memset(inv, 0, sizeof *inv);
	struct by_client bc = { a, given, from, per_address };
	int32_t *hosts = NULL;
	if (!given && t && t->n_leases) {
		if (!(hosts = malloc((n ? n : 1) * sizeof *hosts)))
			return false;
		for (size_t i = 0; i < n; i++)
			hosts[i] = names_host_at(t, &a->records[from + i]->cli, a->records[from + i]->start_us);
		bc.host = hosts;
	}
	/* One pass over the records grouped by client: clients are appended in
	 * address order (no insertion into a sorted array: a flood of a million
	 * clients stays O(n log n)). */
	size_t *by_client = malloc((n ? n : 1) * sizeof *by_client);
	if (!by_client) {
		free(hosts);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		by_client[i] = from + i;
	if (n > 1)
		qsort_r(by_client, n, sizeof *by_client, cmp_by_client, &bc);
	size_t distinct = 0;
	for (size_t i = 0; i < n; i++)
		distinct += i == 0 || identity_cmp(&bc, by_client[i], by_client[i - 1]) != 0;
	inv->clients = calloc(distinct ? distinct : 1, sizeof *inv->clients);
	if (!inv->clients) {
		free(by_client);
		free(hosts);
		return false;
	}
	struct inv_client *cl = NULL;
	for (size_t k = 0; k < n; k++) {
		const struct flow_record *r = a->records[by_client[k]];
		if (!cl || identity_cmp(&bc, by_client[k], by_client[k - 1]) != 0) {
			cl = &inv->clients[inv->n_clients++];
			cl->ip = r->cli;       /* its first connection's: records are in order of first packet */
			cl->host = host_of(&bc, by_client[k]);
		}
		inventory_add_addr(cl, &r->cli);
		client_add(inv, cl, a, r, &cap_servers);
	}
	free(by_client);
	free(hosts);
	if (t && !identities_finish(inv, t)) {
		inventory_free(inv);
		return false;
	} else if (!t)
		for (size_t i = 0; i < inv->n_clients; i++)
			client_names(&inv->clients[i], NULL);   /* the names the IBM i protocols carried */
	struct note_index ix = { 0 };
	for (size_t i = from; i < to; i++) {
		notes_of(inv, &ix, &cap_notes, a, a->records[i], i);
		cert_of(inv, &cap_certs, a->records[i]);
	}
	free(ix.by_key);
	for (size_t i = from; i < to; i++) {
		const struct flow_record *r = a->records[i];
		if (!inventory_add_day(inv, inventory_day(r->start_us), record_use_class(r), 1)) {
			inventory_free(inv);
			return false;
		}
	}
	inv->flows = n;
	inventory_finish(inv);
	return true;
}

int64_t inventory_day(int64_t us)
{
	const int64_t d = (int64_t)86400 * 1000000;
	return us >= 0 ? us / d : -((-us + d - 1) / d);
}

bool inventory_add_day(struct inventory *inv, int64_t day, enum port_class cls, uint64_t n)
{
	if (cls != PC_NONSECURE && cls != PC_SECURE)
		return true;
	size_t at = inv->n_days;   /* records come by first packet: the day is almost always the last one */
	while (at > 0 && inv->days[at - 1].day > day)
		at--;
	if (at == 0 || inv->days[at - 1].day != day) {
		if (!inventory_grow((void **)&inv->days, inv->n_days, &inv->cap_days, sizeof *inv->days))
			return false;
		memmove(&inv->days[at + 1], &inv->days[at], (inv->n_days - at) * sizeof *inv->days);
		inv->days[at] = (struct inv_day){ .day = day };
		inv->n_days++;
		at++;
	}
	if (cls == PC_NONSECURE)
		inv->days[at - 1].nonsecure += n;
	else
		inv->days[at - 1].secure += n;
	return true;
}

bool inventory_build_range(struct inventory *inv, const struct analysis *a, size_t from, size_t to)
{
	return build(inv, a, from, to, NULL, NULL, false);
}

bool inventory_build_hosts(struct inventory *inv, const struct analysis *a, size_t from, size_t to,
			   const int32_t *hosts)
{
	if (!build(inv, a, from, to, NULL, hosts, true))
		return false;
	if (inv->n_clients > 1)
		qsort(inv->clients, inv->n_clients, sizeof *inv->clients, client_cmp);
	return true;
}

bool inventory_build_follow(struct inventory *inv, const struct analysis *a, const int32_t *hosts)
{
	if (!build(inv, a, 0, a->n_records, NULL, hosts, false))
		return false;
	if (inv->n_clients > 1)
		qsort(inv->clients, inv->n_clients, sizeof *inv->clients, client_cmp);
	return true;
}

/* Records given one at a time in first-packet order (a spooled analysis read back; a one-shot run or
 * an import too big to hold): the notes, certificates and days as they come, each record spooled again
 * in client order (identity as identity_cmp, then first packet); at the finish a pass over that spool
 * builds the client rows exactly as build() does from its by_client order. */
struct inv_builder {
	struct inventory inv;
	const struct analysis *a;
	const struct names *t;     /* rows follow DHCP hosts and carry names (inventory_build) */
	bool per_address;          /* hosts given: a row per (host, address) (inventory_build_hosts), else per
				    * host over its addresses (inventory_build_follow) */
	struct spool by;
	struct note_index ix;
	size_t cap_notes, cap_certs, n;
	bool ok;
};

static int identity_order(const struct spool_item *x, const struct spool_item *y, bool per_address)
{
	if (x->host >= 0 || y->host >= 0) {
		if (x->host != y->host)
			return x->host < 0 ? 1 : y->host < 0 ? -1 : x->host < y->host ? -1 : 1;
		if (!per_address)
			return x->index < y->index ? -1 : x->index > y->index;
	}
	int c = addr_cmp(&x->r->cli, &y->r->cli);
	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int client_order(const struct spool_item *x, const struct spool_item *y)
{
	return identity_order(x, y, false);
}

static int client_addr_order(const struct spool_item *x, const struct spool_item *y)
{
	return identity_order(x, y, true);
}

static bool same_identity(int32_t xh, const struct addr *xip, int32_t yh, const struct addr *yip, bool per_address)
{
	if (xh >= 0 || yh >= 0) {
		if (xh != yh)
			return false;
		if (!per_address)
			return true;
	}
	return addr_eq(xip, yip);
}

struct inv_builder *inv_builder_new(const struct analysis *a, const struct names *t, bool per_address,
				    size_t budget)
{
	struct inv_builder *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->a = a;
	b->t = t;
	b->per_address = per_address;
	b->ok = true;
	spool_init(&b->by, per_address ? client_addr_order : client_order, budget);
	return b;
}

bool inv_builder_add(struct inv_builder *b, const struct flow_record *r, size_t index, int32_t host)
{
	notes_of(&b->inv, &b->ix, &b->cap_notes, b->a, r, index);
	cert_of(&b->inv, &b->cap_certs, r);
	b->n++;
	return b->ok = b->ok && inventory_add_day(&b->inv, inventory_day(r->start_us), record_use_class(r), 1) &&
		       spool_add(&b->by, r, (int64_t)index, host);
}

void inv_builder_abandon(struct inv_builder *b)
{
	if (!b)
		return;
	free(b->ix.by_key);
	spool_free(&b->by);
	inventory_free(&b->inv);
	free(b);
}

bool inv_builder_finish(struct inv_builder *b, struct inventory *out)
{
	struct inventory *inv = &b->inv;
	size_t cap_servers = 0, cap_clients = 0;
	free(b->ix.by_key);
	b->ix.by_key = NULL;
	bool ok = b->ok;
	struct spool_reader *rd = ok ? spool_read(&b->by) : NULL;
	ok = rd != NULL;
	struct inv_client *cl = NULL;
	struct spool_item x;
	struct addr last_ip;
	int32_t last_host = -1;
	while (ok && spool_next(rd, &x)) {
		if (!cl || !same_identity(x.host, &x.r->cli, last_host, &last_ip, b->per_address)) {
			if (inv->n_clients == cap_clients) {   /* by a quarter: rows are most of the memory here */
				size_t c = cap_clients + cap_clients / 4 + 64;
				struct inv_client *nc = realloc(inv->clients, c * sizeof *nc);
				if (!(ok = nc != NULL))
					break;
				inv->clients = nc;
				cap_clients = c;
			}
			cl = &inv->clients[inv->n_clients++];
			memset(cl, 0, sizeof *cl);
			cl->ip = x.r->cli;     /* its first connection's: its records come in order of first packet */
			cl->host = x.host;
		}
		last_ip = x.r->cli;
		last_host = x.host;
		inventory_add_addr(cl, &x.r->cli);
		client_add(inv, cl, b->a, x.r, &cap_servers);
	}
	ok = ok && !b->by.read_failed;
	spool_reader_close(rd);
	struct spool *own = b->a->spool;
	if (!ok && own && !own->read_failed && b->by.error[0]) {   /* say why in the run's own spool */
		memcpy(own->error, b->by.error, sizeof b->by.error);
		own->read_failed = true;
	}
	spool_free(&b->by);
	if (ok && b->t && !identities_finish(inv, b->t))
		ok = false;
	if (!ok) {
		inventory_free(inv);
		free(b);
		return false;
	}
	if (!b->t)
		for (size_t k = 0; k < inv->n_clients; k++)
			client_names(&inv->clients[k], NULL);
	if (!b->t && inv->n_clients > 1)   /* hosts given: as inventory_build_hosts and _follow sort them */
		qsort(inv->clients, inv->n_clients, sizeof *inv->clients, client_cmp);
	inv->flows = b->n;
	inventory_finish(inv);
	*out = *inv;
	free(b);
	return true;
}

bool inventory_build_spooled(struct inventory *inv, const struct analysis *a, const struct names *t,
			     bool per_address, inv_host_fn host_fn, const void *ctx)
{
	memset(inv, 0, sizeof *inv);
	struct inv_builder *b = inv_builder_new(a, t, per_address, a->spool->budget);
	if (!b)
		return false;
	struct record_iter it;
	bool ok = analysis_iter_start(a, &it);
	const struct flow_record *r;
	size_t i;
	while (ok && (r = analysis_iter_next(&it, &i)))
		ok = inv_builder_add(b, r, i, host_fn ? host_fn(ctx, r) : -1);
	analysis_iter_end(&it);
	if (!ok || analysis_error(a)) {
		inv_builder_abandon(b);
		return false;
	}
	return inv_builder_finish(b, inv);
}

/* A record's DHCP host by the run's own leases (ctx: its names table). */
static int32_t names_host(const void *ctx, const struct flow_record *r)
{
	return names_host_at(ctx, &r->cli, r->start_us);
}

bool inventory_build(struct inventory *inv, const struct analysis *a)
{
	if (a->spool)
		return inventory_build_spooled(inv, a, a->names, false, a->names && a->names->n_leases ? names_host : NULL,
					       a->names);
	return build(inv, a, 0, a->n_records, a->names, NULL, false);
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
		free(c->addrs);
		free(c->dhcp);
		name_set_free(&c->mapper_requests);
		name_set_free(&c->users);
		name_set_free(&c->devices);
		name_set_free(&c->software);
		free(c->names);
	}
	for (size_t i = 0; i < inv->n_servers; i++) {
		for (size_t j = 0; j < inv->servers[i].n_ports; j++)
			name_set_free(&inv->servers[i].ports[j].ciphers);
		free(inv->servers[i].ports);
	}
	for (size_t i = 0; i < inv->n_strings; i++)
		free(inv->strings[i]);
	free(inv->strings);
	free(inv->clients);
	free(inv->servers);
	free(inv->certs);
	free(inv->notes);
	free(inv->days);
	memset(inv, 0, sizeof *inv);
}
