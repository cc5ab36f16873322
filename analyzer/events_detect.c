/*
 * events_detect.c - what is new at a checkpoint: the difference between the
 * checkpoint's inventory and the stored one (see events_detect() in
 * events.h).  Both inventories come in built; the findings go out as an
 * array the monitor hands to the events file and syslog after the
 * checkpoint committed.  Nothing here reads a store or prints.
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

static const struct inv_client *client_in(const struct inventory *inv, const struct addr *a)
{
	size_t lo = 0, hi = inv->n_clients;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = addr_cmp(&inv->clients[mid].ip, a);
		if (c == 0)
			return &inv->clients[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* New on a nonsecure port, or back after a long absence. */
static void client_finding(struct found *f, const struct inv_client *c, const struct inv_client *b,
			   int64_t back_after_us)
{
	if (c->status != CS_NONSECURE || !c->first_nonsecure_us)
		return;
	const char *kind = NULL;
	if (!b || !b->last_nonsecure_us)
		kind = "new-nonsecure-client";
	else if (back_after_us > 0 && c->first_nonsecure_us - b->last_nonsecure_us >= back_after_us)
		kind = "client-back-on-nonsecure";
	struct event_finding *x = kind ? add(f, kind, c->first_nonsecure_us) : NULL;
	if (!x)
		return;
	addr_str(&c->ip, x->client);
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
	if (!x->server[0] && c->mapper_requests.n)
		snprintf(x->detail, sizeof x->detail, "asked the port mapper for %s", c->mapper_requests.v[0]);
	if (b && b->last_nonsecure_us) {
		x->previous_us = b->last_nonsecure_us;
		x->days = (long)((c->first_nonsecure_us - b->last_nonsecure_us) / DAY_US);
	}
}

/* SSLv3, TLS 1.0 or 1.1 negotiated where the store never saw it for this client, server and port. */
static void version_findings(struct found *f, const struct inv_client *c, const struct inv_client *b)
{
	for (size_t j = 0; j < c->n_use; j++) {
		const struct inv_usage *u = &c->use[j];
		uint32_t obsolete = u->tls_versions & 0x7;
		if (!obsolete)
			continue;
		uint32_t known = 0;
		for (size_t k = 0; b && k < b->n_use; k++)
			if (b->use[k].port == u->port && addr_eq(&b->use[k].server, &u->server))
				known |= b->use[k].tls_versions;
		for (int bit = 0; bit < 3; bit++) {
			if (!(obsolete & ~known & (1u << bit)))
				continue;
			struct event_finding *x = add(f, "new-obsolete-tls-version", u->last_us);
			if (!x)
				return;
			addr_str(&c->ip, x->client);
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
	for (size_t i = 0; i < now->n_clients; i++) {
		const struct inv_client *c = &now->clients[i];
		const struct inv_client *b = client_in(before, &c->ip);
		client_finding(&f, c, b, back_after_us);
		version_findings(&f, c, b);
	}
	expiring_findings(&f, before, now, now_us);
	*out = f.v;
	return f.n;
}
