/*
 * events_detect.c - what is new at a checkpoint: the difference between the
 * checkpoint's inventory and the stored one (see events_detect() in
 * events.h).  Both inventories come in built; a client of the checkpoint is
 * matched with its stored rows by DHCP host where its row names one, else by
 * address (an index of "before" by address and by host, built here).  The
 * findings go out as an array the monitor hands to the events file and
 * syslog after the checkpoint committed.  Nothing here reads a store or
 * prints.
 */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "tls.h"

#define DAY_US ((int64_t)86400 * 1000000)

struct found {
	struct event_finding *v;
	size_t n, cap;
};

static struct event_finding *add(struct found *f, const char *kind, int64_t t)
{
	if (!inventory_grow((void **)&f->v, f->n, &f->cap, sizeof *f->v))
		return NULL;
	struct event_finding *x = &f->v[f->n++];
	memset(x, 0, sizeof *x);
	snprintf(x->kind, sizeof x->kind, "%s", kind);
	x->time_us = t;
	return x;
}

/* ---- who a client of `now` was in `before` ---- */

/* The rows of `before` by each of their addresses, and its DHCP hosts' rows by key. */
struct before_ix {
	struct at { struct addr ip; const struct inv_client *c; } *by_addr;
	size_t n_addr;
	const struct inv_client **by_host;
	size_t n_host;
};

static int at_cmp(const void *x, const void *y)
{
	const struct at *a = x, *b = y;
	int c = addr_cmp(&a->ip, &b->ip);
	return c ? c : a->c < b->c ? -1 : a->c > b->c;
}

static int host_cmp(const void *x, const void *y)
{
	const struct inv_client *a = *(const struct inv_client *const *)x, *b = *(const struct inv_client *const *)y;
	int c = strcmp(inv_client_hw(a), inv_client_hw(b));
	return c ? c : a < b ? -1 : a > b;
}

/* A row's addresses: addrs[] when filled, else its address. */
static size_t row_addrs(const struct inv_client *c, const struct addr **v)
{
	*v = c->n_addrs ? c->addrs : &c->ip;
	return c->n_addrs ? c->n_addrs : 1;
}

static bool index_before(struct before_ix *ix, const struct inventory *before)
{
	size_t n = 0, h = 0;
	for (size_t i = 0; i < before->n_clients; i++) {
		const struct addr *v;
		n += row_addrs(&before->clients[i], &v);
		h += inv_client_hw(&before->clients[i])[0] != '\0';
	}
	ix->by_addr = malloc((n ? n : 1) * sizeof *ix->by_addr);
	ix->by_host = malloc((h ? h : 1) * sizeof *ix->by_host);
	if (!ix->by_addr || !ix->by_host)
		return false;
	for (size_t i = 0; i < before->n_clients; i++) {
		const struct inv_client *c = &before->clients[i];
		const struct addr *v;
		for (size_t k = 0, m = row_addrs(c, &v); k < m; k++)
			ix->by_addr[ix->n_addr++] = (struct at){ v[k], c };
		if (inv_client_hw(c)[0])
			ix->by_host[ix->n_host++] = c;
	}
	qsort(ix->by_addr, ix->n_addr, sizeof *ix->by_addr, at_cmp);
	qsort(ix->by_host, ix->n_host, sizeof *ix->by_host, host_cmp);
	return true;
}

/* The first entry of `ip` in by_addr (n_addr when none). */
static size_t first_at(const struct before_ix *ix, const struct addr *ip)
{
	size_t lo = 0, hi = ix->n_addr;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (addr_cmp(&ix->by_addr[mid].ip, ip) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The rows of `before` that are this client: a list with no repeats. */
struct match {
	const struct inv_client **v;
	size_t n, cap;
	bool by_host;              /* matched by its DHCP host (not by address) */
};

static bool match_add(struct match *m, const struct inv_client *c)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i] == c)
			return true;
	if (!inventory_grow((void **)&m->v, m->n, &m->cap, sizeof *m->v))
		return false;
	m->v[m->n++] = c;
	return true;
}

/*
 * A row of `now` that is a DHCP host is the rows of that host in `before`; a host `before` never saw
 * is the rows of its addresses that had no DHCP host (the same machine seen before its first lease),
 * unless another DHCP host held that address (then its history is not this host's).  A row without a
 * DHCP host is every row of its addresses, hosts' included (the address is the identity, as when no
 * row carries one).
 */
static bool match_client(struct match *m, const struct before_ix *ix, const struct inv_client *c)
{
	m->n = 0;
	m->by_host = false;
	const char *key = inv_client_hw(c);
	if (key[0]) {
		size_t lo = 0, hi = ix->n_host;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (strcmp(inv_client_hw(ix->by_host[mid]), key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < ix->n_host && strcmp(inv_client_hw(ix->by_host[lo]), key) == 0; lo++)
			if (!match_add(m, ix->by_host[lo]))
				return false;
		if (m->n) {
			m->by_host = true;
			return true;
		}
	}
	const struct addr *v;
	for (size_t k = 0, n = row_addrs(c, &v); k < n; k++) {
		size_t i = first_at(ix, &v[k]), j = i;
		bool other_host = false;
		for (; j < ix->n_addr && addr_eq(&ix->by_addr[j].ip, &v[k]); j++)
			other_host |= key[0] && inv_client_hw(ix->by_addr[j].c)[0];
		for (; !other_host && i < j; i++)
			if (!match_add(m, ix->by_addr[i].c))
				return false;
	}
	return true;
}

static int64_t last_nonsecure(const struct match *m)
{
	int64_t t = 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i]->last_nonsecure_us > t)
			t = m->v[i]->last_nonsecure_us;
	return t;
}

/* The client's first nonsecure use in the checkpoint into x (server, service, port, user, device). */
static void first_use(struct event_finding *x, const struct inv_client *c)
{
	addr_str(&c->ip, x->client);
	snprintf(x->host, sizeof x->host, "%s", inv_client_hw(c));
	for (size_t j = 0; j < c->n_use; j++) {
		const struct inv_usage *u = &c->use[j];
		if (u->cls != PC_NONSECURE || u->connections == u->attempts)
			continue;
		addr_str(&u->server, x->server);
		snprintf(x->service, sizeof x->service, "%s", u->service ? u->service : "");
		x->port = u->port;
		if (u->users.n)
			snprintf(x->user, sizeof x->user, "%s", u->users.v[0]);
		if (u->devices.n)
			snprintf(x->device, sizeof x->device, "%s", u->devices.v[0]);
		break;
	}
}

/* An address of c that no row of its host had before (NULL: none). */
static const struct addr *new_address(const struct inv_client *c, const struct match *m)
{
	const struct addr *v;
	for (size_t k = 0, n = row_addrs(c, &v); k < n; k++) {
		bool known = false;
		for (size_t i = 0; i < m->n && !known; i++) {
			const struct addr *w;
			for (size_t j = 0, nw = row_addrs(m->v[i], &w); j < nw && !known; j++)
				known = addr_eq(&w[j], &v[k]);
		}
		if (!known)
			return &v[k];
	}
	return NULL;
}

/* New on a nonsecure port, or back after a long absence; a known nonsecure DHCP host at a new address. */
static void client_finding(struct found *f, const struct inv_client *c, const struct match *m,
			   int64_t back_after_us)
{
	if (c->status != CS_NONSECURE || !c->first_nonsecure_us)
		return;
	int64_t last = last_nonsecure(m);
	const char *kind = NULL;
	if (!last)
		kind = "new-nonsecure-client";
	else if (back_after_us > 0 && c->first_nonsecure_us - last >= back_after_us)
		kind = "client-back-on-nonsecure";
	struct event_finding *x = kind ? add(f, kind, c->first_nonsecure_us) : NULL;
	if (x) {
		first_use(x, c);
		if (!x->server[0] && c->mapper_requests.n)
			snprintf(x->detail, sizeof x->detail, "asked the port mapper for %s", c->mapper_requests.v[0]);
		if (last) {
			x->previous_us = last;
			x->days = (long)((c->first_nonsecure_us - last) / DAY_US);
		}
	}
	const struct addr *moved = last && m->by_host ? new_address(c, m) : NULL;
	if (!moved || !(x = add(f, "nonsecure-client-new-address", c->first_nonsecure_us)))
		return;
	first_use(x, c);
	addr_str(moved, x->client);
	x->previous_us = last;
	/* where the host was: its earlier addresses, as many as fit */
	struct addr shown[INV_MAX_ADDRS];
	size_t n_shown = 0, o = (size_t)snprintf(x->detail, sizeof x->detail, "before at");
	for (size_t i = 0; i < m->n; i++) {
		const struct addr *w;
		for (size_t j = 0, nw = row_addrs(m->v[i], &w); j < nw && n_shown < INV_MAX_ADDRS; j++) {
			bool dup = false;
			for (size_t k = 0; k < n_shown && !dup; k++)
				dup = addr_eq(&shown[k], &w[j]);
			char ip[ADDR_STRLEN];
			if (dup || o + strlen(addr_str(&w[j], ip)) + 2 >= sizeof x->detail)
				continue;
			o += (size_t)snprintf(x->detail + o, sizeof x->detail - o, "%s%s", n_shown ? ", " : " ", ip);
			shown[n_shown++] = w[j];
		}
	}
}

/* SSLv3, TLS 1.0 or 1.1 negotiated where the store never saw it for this client, server and port. */
static void version_findings(struct found *f, const struct inv_client *c, const struct match *m)
{
	for (size_t j = 0; j < c->n_use; j++) {
		const struct inv_usage *u = &c->use[j];
		uint32_t obsolete = u->tls_versions & 0x7;
		if (!obsolete)
			continue;
		uint32_t known = 0;
		for (size_t i = 0; i < m->n; i++)
			for (size_t k = 0; k < m->v[i]->n_use; k++)
				if (m->v[i]->use[k].port == u->port && addr_eq(&m->v[i]->use[k].server, &u->server))
					known |= m->v[i]->use[k].tls_versions;
		for (int bit = 0; bit < 3; bit++) {
			if (!(obsolete & ~known & (1u << bit)))
				continue;
			struct event_finding *x = add(f, "new-obsolete-tls-version", u->last_us);
			if (!x)
				return;
			addr_str(&c->ip, x->client);
			snprintf(x->host, sizeof x->host, "%s", inv_client_hw(c));
			addr_str(&u->server, x->server);
			snprintf(x->service, sizeof x->service, "%s", u->service ? u->service : "");
			x->port = u->port;
			snprintf(x->detail, sizeof x->detail, "%s", tls_version_name((uint16_t)(0x0300 | bit)));
		}
	}
}

static bool expiring_at(const struct inv_cert *c, int64_t at_us)
{
	return c->not_after * 1000000 < at_us + EXPIRY_WARN_DAYS * DAY_US;
}

/* Once per certificate: when it first comes within the warning window. */
static void expiring_findings(struct found *f, const struct inventory *before, const struct inventory *now,
			  int64_t now_us)
{
	for (size_t i = 0; i < now->n_certs; i++) {
		const struct inv_cert *c = &now->certs[i];
		if (!expiring_at(c, now_us))
			continue;
		bool warned = false;
		for (size_t k = 0; k < before->n_certs && !warned; k++) {
			const struct inv_cert *o = &before->certs[k];
			warned = o->port == c->port && addr_eq(&o->server, &c->server) && strcmp(o->sha256, c->sha256) == 0 &&
				 expiring_at(o, o->last_us);
		}
		if (warned)
			continue;
		struct event_finding *x = add(f, "certificate-expiring", c->first_us);
		if (!x)
			return;
		addr_str(&c->server, x->server);
		x->port = c->port;
		for (size_t s = 0; s < now->n_servers; s++)
			for (size_t p = 0; addr_eq(&now->servers[s].ip, &c->server) && p < now->servers[s].n_ports; p++)
				if (now->servers[s].ports[p].port == c->port && now->servers[s].ports[p].service)
					snprintf(x->service, sizeof x->service, "%s", now->servers[s].ports[p].service);
		snprintf(x->detail, sizeof x->detail, "%s", c->subject);
		x->previous_us = c->not_after * 1000000;
		x->days = (long)((c->not_after * 1000000 - now_us) / DAY_US);
	}
}

size_t events_detect(const struct inventory *before, const struct inventory *now, int64_t now_us,
		     int64_t back_after_us, struct event_finding **out)
{
	struct found f = { 0 };
	struct before_ix ix = { 0 };
	struct match m = { 0 };
	bool ok = index_before(&ix, before);   /* no memory: no client findings (the certificates still) */
	for (size_t i = 0; ok && i < now->n_clients; i++) {
		const struct inv_client *c = &now->clients[i];
		if (!(ok = match_client(&m, &ix, c)))
			break;
		client_finding(&f, c, &m, back_after_us);
		version_findings(&f, c, &m);
	}
	free(ix.by_addr);
	free(ix.by_host);
	free(m.v);
	expiring_findings(&f, before, now, now_us);
	*out = f.v;
	return f.n;
}
