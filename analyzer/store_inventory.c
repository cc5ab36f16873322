/*
 * store_inventory.c - the inventory (inventory.h) as rows of the state file,
 * and back.
 *
 * In: an inventory of one UTC day's finished flows (or of the flows still
 * open), written by store_put_inventory() inside the checkpoint's
 * transaction.  Every row is keyed by day, and merged into what that day
 * already holds by the database itself: counts add up, first seen is the
 * minimum, last seen the maximum, bit sets are ORed, name sets are unions
 * (a row per name).  Out: store_load_inventory() sums the days of a window
 * back into the same struct inventory the one-shot report is printed from,
 * with the connections of each day kept apart (the trend).  The clients' host
 * names (names.h) enter by store_put_host_names() from the checkpoint's names
 * table (store_each_host_name(), shared with the PostgreSQL store) and come
 * back per client, summed over the window's days.
 * Tables: docs/schema.md.  Nothing here prints.
 */
#include "store.h"
#include "store_db.h"
#include "store_rows.h"

#include "analysis.h"
#include "leasebook.h"
#include "names.h"
#include "redact.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- write ---- */

#define CLIENT_MERGE \
	" ON CONFLICT(day, ip, open, host) DO UPDATE SET flows=flows + excluded.flows, internal=max(internal, excluded.internal)," \
	" client_id=max(client_id, excluded.client_id)," \
	" first_us=min(first_us, excluded.first_us), last_us=max(last_us, excluded.last_us)," \
	" first_nonsecure_us=CASE WHEN first_nonsecure_us=0 THEN excluded.first_nonsecure_us" \
	"  WHEN excluded.first_nonsecure_us=0 THEN first_nonsecure_us" \
	"  ELSE min(first_nonsecure_us, excluded.first_nonsecure_us) END," \
	" last_nonsecure_us=max(last_nonsecure_us, excluded.last_nonsecure_us)," \
	" findings=findings | excluded.findings, signon_failures=signon_failures + excluded.signon_failures," \
	" nonsecure_lookup=max(nonsecure_lookup, excluded.nonsecure_lookup)," \
	" offer_only_legacy=CASE WHEN offer_tls AND excluded.offer_tls" \
	"  THEN min(offer_only_legacy, excluded.offer_only_legacy)" \
	"  WHEN excluded.offer_tls THEN excluded.offer_only_legacy ELSE offer_only_legacy END," \
	" offer_tls=max(offer_tls, excluded.offer_tls)," \
	" offer_max_version=max(offer_max_version, excluded.offer_max_version)," \
	" offer_families=offer_families | excluded.offer_families," \
	" offer_negotiated_legacy=max(offer_negotiated_legacy, excluded.offer_negotiated_legacy)"
#define USAGE_MERGE \
	" ON CONFLICT(day, client, open, server, service, port, cls, host) DO UPDATE SET" \
	" connections=connections + excluded.connections, refused=refused + excluded.refused," \
	" unanswered=unanswered + excluded.unanswered, attempts=attempts + excluded.attempts," \
	" failed_tls=failed_tls + excluded.failed_tls, cleartext=cleartext + excluded.cleartext," \
	" tls=tls + excluded.tls, tls_versions=tls_versions | excluded.tls_versions," \
	" mismatch=max(mismatch, excluded.mismatch)," \
	" first_us=min(first_us, excluded.first_us), last_us=max(last_us, excluded.last_us)"
#define PORT_MERGE \
	" ON CONFLICT(day, open, server, port) DO UPDATE SET connections=connections + excluded.connections," \
	" tls_versions=tls_versions | excluded.tls_versions, findings=findings | excluded.findings," \
	" release_vrm=max(release_vrm, excluded.release_vrm)"
#define NOTE_MERGE \
	" ON CONFLICT(day, open, kind, client, server, port, service, user, detail) DO UPDATE SET" \
	" count=count + excluded.count, first_us=min(first_us, excluded.first_us)," \
	" last_us=max(last_us, excluded.last_us)"

#define HOST_NAME_MERGE \
	" ON CONFLICT(day, client, host, source, name) DO UPDATE SET first_us=min(first_us, excluded.first_us)," \
	" last_us=max(last_us, excluded.last_us), count=count + excluded.count"
#define HOST_NAME_INSERT "INSERT INTO inv_host_name VALUES(?,?,?,?,?,?,?,?)" HOST_NAME_MERGE

static bool put_host_name(sqlite3_stmt *st, int64_t day, const char *cli, const char *host, int source,
			  const char *name, int64_t first_us, int64_t last_us, uint32_t count)
{
	sqlite3_bind_text(st, 8, host, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 1, day);
	sqlite3_bind_text(st, 2, cli, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, name_source_name((enum name_source)source), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, first_us);
	sqlite3_bind_int64(st, 6, last_us);
	sqlite3_bind_int64(st, 7, count);
	return store_step_done(st);
}

const char store_fold_open_sql[] =
	"INSERT INTO inv_client SELECT day, ip, 0, flows, internal, first_us, last_us, first_nonsecure_us, last_nonsecure_us,"
	" findings, signon_failures, nonsecure_lookup, offer_tls, offer_max_version, offer_families,"
	" offer_only_legacy, offer_negotiated_legacy, host, client_id FROM inv_client WHERE open=1 AND true" CLIENT_MERGE ";"
	"INSERT INTO inv_usage SELECT day, client, 0, server, service, port, cls, connections, refused, unanswered,"
	" attempts, failed_tls, cleartext, tls, tls_versions, mismatch, first_us, last_us, host FROM inv_usage"
	" WHERE open=1 AND true" USAGE_MERGE ";"
	"INSERT OR IGNORE INTO inv_name SELECT day, client, 0, server, service, port, cls, kind, name, host FROM inv_name"
	" WHERE open=1;"
	"INSERT INTO inv_port SELECT day, 0, server, port, service, cls, connections, tls_versions, findings,"
	" release_vrm FROM inv_port WHERE open=1 AND true" PORT_MERGE ";"
	"INSERT INTO inv_note SELECT day, 0, kind, client, server, port, service, user, detail, count, first_us,"
	" last_us FROM inv_note WHERE open=1 AND true" NOTE_MERGE ";";

const char store_drop_open_sql[] =
	"DELETE FROM inv_client WHERE open=1; DELETE FROM inv_usage WHERE open=1; DELETE FROM inv_name WHERE open=1;"
	"DELETE FROM inv_port WHERE open=1; DELETE FROM inv_note WHERE open=1;";

struct put {
	struct store *s;
	int64_t day;
	int open;
	sqlite3_stmt *client, *usage, *name, *port, *note, *cert, *host;
	const struct leasebook *book;
	const char *who;           /* the client being written: its DHCP host's key, "" none */
};

static bool put_name(struct put *p, const char *cli, const char *srv, const char *svc, int port, int cls,
		     const char *kind, const char *name)
{
	sqlite3_stmt *st = p->name;
	sqlite3_bind_text(st, 10, p->who, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 1, p->day);
	sqlite3_bind_text(st, 2, cli, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, p->open);
	sqlite3_bind_text(st, 4, srv, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, svc, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 6, port);
	sqlite3_bind_int(st, 7, cls);
	sqlite3_bind_text(st, 8, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, name, -1, SQLITE_TRANSIENT);
	return store_step_done(st);
}

static bool put_names(struct put *p, const char *cli, const char *srv, const char *svc, int port, int cls,
		      const char *kind, const struct name_set *ns)
{
	for (int i = 0; i < ns->n; i++)
		if (!put_name(p, cli, srv, svc, port, cls, kind, ns->v[i]))
			return false;
	return true;
}

static bool put_usage(struct put *p, const char *ip, const struct inv_usage *u)
{
	char srv[ADDR_STRLEN];
	const char *svc = u->service ? u->service : "";
	addr_str(&u->server, srv);
	sqlite3_stmt *st = p->usage;
	int i = 1;
	sqlite3_bind_int64(st, i++, p->day);
	sqlite3_bind_text(st, i++, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, p->open);
	sqlite3_bind_text(st, i++, srv, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, svc, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, u->port);
	sqlite3_bind_int(st, i++, u->cls);
	uint64_t counts[] = { u->connections, u->refused, u->unanswered, u->attempts, u->failed_tls, u->cleartext,
			      u->tls };
	for (size_t j = 0; j < sizeof counts / sizeof counts[0]; j++)
		sqlite3_bind_int64(st, i++, (int64_t)counts[j]);
	sqlite3_bind_int64(st, i++, u->tls_versions);
	sqlite3_bind_int(st, i++, u->mismatch);
	sqlite3_bind_int64(st, i++, u->first_us);
	sqlite3_bind_int64(st, i++, u->last_us);
	sqlite3_bind_text(st, i++, p->who, -1, SQLITE_TRANSIENT);
	return store_step_done(st) && put_names(p, ip, srv, svc, u->port, u->cls, "user", &u->users) &&
	       put_names(p, ip, srv, svc, u->port, u->cls, "device", &u->devices);
}

static bool put_client(struct put *p, const struct inv_client *cl)
{
	char ip[ADDR_STRLEN];
	addr_str(&cl->ip, ip);
	const struct lease_host *h = cl->host >= 0 && p->book && (size_t)cl->host < p->book->n_hosts
					     ? &p->book->hosts[cl->host] : NULL;
	p->who = h ? h->key : "";
	sqlite3_stmt *st = p->client;
	int i = 1;
	sqlite3_bind_int64(st, i++, p->day);
	sqlite3_bind_text(st, i++, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, p->open);
	sqlite3_bind_int64(st, i++, (int64_t)cl->flows);
	sqlite3_bind_int(st, i++, cl->internal);
	sqlite3_bind_int64(st, i++, cl->first_us);
	sqlite3_bind_int64(st, i++, cl->last_us);
	sqlite3_bind_int64(st, i++, cl->first_nonsecure_us);
	sqlite3_bind_int64(st, i++, cl->last_nonsecure_us);
	sqlite3_bind_int64(st, i++, cl->findings);
	sqlite3_bind_int64(st, i++, (int64_t)cl->signon_failures);
	sqlite3_bind_int(st, i++, cl->nonsecure_lookup);
	sqlite3_bind_int(st, i++, cl->offer.tls);
	sqlite3_bind_int(st, i++, cl->offer.max_version);
	sqlite3_bind_int64(st, i++, cl->offer.families);
	sqlite3_bind_int(st, i++, cl->offer.only_legacy_ciphers);
	sqlite3_bind_int(st, i++, cl->offer.negotiated_legacy);
	sqlite3_bind_text(st, i++, p->who, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, h ? h->client_id : "", -1, SQLITE_TRANSIENT);
	if (!store_step_done(st))
		return false;
	if (!put_names(p, ip, "", "", 0, 0, "user", &cl->users) ||
	    !put_names(p, ip, "", "", 0, 0, "device", &cl->devices) ||
	    !put_names(p, ip, "", "", 0, 0, "mapper", &cl->mapper_requests) ||
	    !put_names(p, ip, "", "", 0, 0, "software", &cl->software))
		return false;
	/* the names the finished flows carried (DRDA, 5250); count 0 are its devices' (read back as devices) */
	for (int k = 0; !p->open && k < cl->n_names; k++) {
		const struct inv_host_name *hn = &cl->names[k];
		if (hn->count &&
		    !put_host_name(p->host, p->day, ip, p->who, hn->source, hn->name, hn->first_us, hn->last_us, hn->count))
			return false;
	}
	for (size_t j = 0; j < cl->n_use; j++)
		if (!put_usage(p, ip, &cl->use[j]))
			return false;
	return true;
}

static bool put_server(struct put *p, const struct inv_server *sv)
{
	char srv[ADDR_STRLEN];
	addr_str(&sv->ip, srv);
	for (size_t j = 0; j < sv->n_ports; j++) {
		const struct inv_port *x = &sv->ports[j];
		sqlite3_stmt *st = p->port;
		sqlite3_bind_int64(st, 1, p->day);
		sqlite3_bind_int(st, 2, p->open);
		sqlite3_bind_text(st, 3, srv, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 4, x->port);
		sqlite3_bind_text(st, 5, x->service ? x->service : "", -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 6, x->cls);
		sqlite3_bind_int64(st, 7, (int64_t)x->connections);
		sqlite3_bind_int64(st, 8, x->tls_versions);
		sqlite3_bind_int64(st, 9, x->findings);
		sqlite3_bind_int64(st, 10, sv->release_vrm);
		if (!store_step_done(st) ||
		    !put_names(p, "", srv, x->service ? x->service : "", x->port, x->cls, "cipher", &x->ciphers))
			return false;
	}
	return true;
}

static bool put_note(struct put *p, const struct inv_note *n)
{
	char cli[ADDR_STRLEN], srv[ADDR_STRLEN];
	sqlite3_stmt *st = p->note;
	sqlite3_bind_int64(st, 1, p->day);
	sqlite3_bind_int(st, 2, p->open);
	sqlite3_bind_int(st, 3, n->kind);
	sqlite3_bind_text(st, 4, addr_str(&n->client, cli), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, addr_str(&n->server, srv), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 6, n->port);
	sqlite3_bind_text(st, 7, n->service, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, n->user, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, n->detail, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 10, (int64_t)n->count);
	sqlite3_bind_int64(st, 11, n->first_us);
	sqlite3_bind_int64(st, 12, n->last_us);
	return store_step_done(st);
}

static bool put_cert(struct put *p, const struct inv_cert *c)
{
	char srv[ADDR_STRLEN];
	sqlite3_stmt *st = p->cert;
	int i = 1;
	sqlite3_bind_text(st, i++, addr_str(&c->server, srv), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, c->port);
	sqlite3_bind_text(st, i++, c->sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, c->subject, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, c->issuer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, i++, c->not_after * 1000000);
	sqlite3_bind_int64(st, i++, c->first_us);
	sqlite3_bind_int64(st, i++, c->last_us);
	sqlite3_bind_int64(st, i++, c->not_before * 1000000);
	sqlite3_bind_text(st, i++, c->key_type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, c->key_bits);
	sqlite3_bind_text(st, i++, c->sig_alg, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, c->self_signed);
	return store_step_done(st);
}

bool store_put_inventory(struct store *s, const struct inventory *inv, int64_t day, bool open,
			 const struct leasebook *book)
{
	struct put p = { .s = s, .day = day, .open = open, .book = book, .who = "" };
	p.client = store_prep(s, "INSERT INTO inv_client VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)" CLIENT_MERGE);
	p.usage = store_prep(s, "INSERT INTO inv_usage VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)" USAGE_MERGE);
	p.name = store_prep(s, "INSERT OR IGNORE INTO inv_name VALUES(?,?,?,?,?,?,?,?,?,?)");
	p.port = store_prep(s, "INSERT INTO inv_port VALUES(?,?,?,?,?,?,?,?,?,?)" PORT_MERGE);
	p.note = store_prep(s, "INSERT INTO inv_note VALUES(?,?,?,?,?,?,?,?,?,?,?,?)" NOTE_MERGE);
	p.host = store_prep(s, HOST_NAME_INSERT);
	p.cert = store_prep(s, "INSERT INTO cert(server, port, sha256, subject, issuer, not_after_us, first_us, last_us,"
			       " not_before_us, key_type, key_bits, sig_alg, self_signed) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)"
			       " ON CONFLICT(server, port, sha256) DO UPDATE SET first_us=min(first_us, excluded.first_us),"
			       " last_us=max(last_us, excluded.last_us), not_before_us=excluded.not_before_us,"
			       " key_type=excluded.key_type, key_bits=excluded.key_bits, sig_alg=excluded.sig_alg,"
			       " self_signed=excluded.self_signed");
	bool ok = p.client && p.usage && p.name && p.port && p.note && p.cert && p.host;
	for (size_t i = 0; ok && i < inv->n_clients; i++)
		ok = put_client(&p, &inv->clients[i]);
	p.who = "";   /* the server ports' ciphers name no client */
	for (size_t i = 0; ok && i < inv->n_servers; i++)
		ok = put_server(&p, &inv->servers[i]);
	for (size_t i = 0; ok && i < inv->n_notes; i++)
		ok = put_note(&p, &inv->notes[i]);
	for (size_t i = 0; ok && i < inv->n_certs; i++)
		ok = put_cert(&p, &inv->certs[i]);
	sqlite3_stmt *all[] = { p.client, p.usage, p.name, p.port, p.note, p.cert, p.host };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		sqlite3_finalize(all[i]);
	return ok;
}

/* The names the name protocols gave each client's address (names.h), once per checkpoint: on the UTC
 * day of the address's first flow in it (finished or open), redacted when asked.  The monitor starts
 * a new names table after each checkpoint, so the counts add up. */
/* The first connection of each named address: names sorted by address (prepared), so a record finds the
 * names of its client's address by a binary search; first[j] is the earliest start of a connection from
 * t->v[j]'s address, INT64_MAX none.  Memory follows the names, not the connections. */
struct first_seen {
	const struct names *t;
	int64_t *first;
};

static void first_seen_add(struct first_seen *fs, const struct flow_record *r)
{
	const struct names *t = fs->t;
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr_cmp(&t->v[mid].ip, &r->cli) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t j = lo; j < t->n && addr_eq(&t->v[j].ip, &r->cli); j++)
		if (r->start_us < fs->first[j])
			fs->first[j] = r->start_us;
}

static bool first_seen_flow(void *ctx, const struct flow_record *r, size_t i)
{
	(void)i;
	first_seen_add(ctx, r);
	return true;
}

/* The key of the DHCP host a name came with or whose lease held its address then ("" none). */
static const char *name_host(const struct names *t, const struct host_name *e, const struct leasebook *book,
			     const struct store_checkpoint *c, char *buf, size_t len)
{
	if (!book)
		return "";
	if (e->source == NAME_DHCP && e->host >= 0 && (size_t)e->host < t->n_hosts) {
		char hw[48];
		names_hw_str(&t->hosts[e->host], hw, sizeof hw);
		if (!c->redact) {
			snprintf(buf, len, "%s", hw);
			return buf;
		}
		return redact_name(c->redact_key ? c->redact_key : "", hw, buf, len);
	}
	int32_t h = leasebook_host_at(book, &e->ip, e->last_us);
	if (h < 0)
		h = leasebook_host_at(book, &e->ip, e->first_us);
	return h >= 0 ? book->hosts[h].key : "";
}

bool store_each_host_name(const struct store_checkpoint *c, const struct leasebook *book, store_host_name_fn fn,
			  void *ctx)
{
	const struct names *t = c->done->names;
	if (!t || !t->n)
		return true;
	struct first_seen fs = { t, malloc(t->n * sizeof *fs.first) };
	if (!fs.first)
		return false;
	for (size_t j = 0; j < t->n; j++)
		fs.first[j] = INT64_MAX;
	bool ok = store_each_flow(c, first_seen_flow, &fs);
	for (size_t i = 0; c->open && i < c->open->n_records; i++)
		first_seen_add(&fs, c->open->records[i]);
	for (size_t j = 0; ok && j < t->n; j++) {
		const struct host_name *e = &t->v[j];
		bool seen = fs.first[j] != INT64_MAX;
		if (!seen && e->source == NAME_DNS_A)
			continue;   /* the answers about every address the clients looked up: only for clients */
		char ip[ADDR_STRLEN], red[96], key[LEASEBOOK_KEY];
		addr_str(&e->ip, ip);
		const char *name = c->redact ? redact_name(c->redact_key, e->name, red, sizeof red) : e->name;
		const char *host = name_host(t, e, book, c, key, sizeof key);
		ok = fn(ctx, store_day(seen ? fs.first[j] : e->first_us), ip, host, e->source, name, e->first_us,
			e->last_us, e->count);
	}
	free(fs.first);
	return ok;
}

static bool put_one_host_name(void *ctx, int64_t day, const char *client, const char *host, int source,
			      const char *name, int64_t first_us, int64_t last_us, uint32_t count)
{
	return put_host_name(ctx, day, client, host, source, name, first_us, last_us, count);
}

bool store_put_host_names(struct store *s, const struct store_checkpoint *c, const struct leasebook *book)
{
	sqlite3_stmt *st = store_prep(s, HOST_NAME_INSERT);
	bool ok = st && store_each_host_name(c, book, put_one_host_name, st);
	sqlite3_finalize(st);
	return ok;
}

struct span {
	int64_t *lo, *hi;
	bool any;
};

static bool span_add(void *ctx, const struct flow_record *r, size_t i)
{
	(void)i;
	struct span *sp = ctx;
	if (!sp->any || r->start_us < *sp->lo)
		*sp->lo = r->start_us;
	if (!sp->any || r->start_us > *sp->hi)
		*sp->hi = r->start_us;
	sp->any = true;
	return true;
}

bool store_checkpoint_span(const struct store_checkpoint *c, int64_t *lo, int64_t *hi)
{
	struct span sp = { lo, hi, false };
	store_each_flow(c, span_add, &sp);
	for (size_t i = 0; c->open && i < c->open->n_records; i++)
		span_add(&sp, c->open->records[i], i);
	return sp.any;
}

bool store_read_leases(struct store *s, const struct store_checkpoint *c, struct leasebook *book)
{
	int64_t lo = 0, hi = 0;
	bool ok = true;
	if (store_checkpoint_span(c, &lo, &hi)) {   /* the leases kept that can cover a connection of this checkpoint */
		sqlite3_stmt *st = store_prep(s, "SELECT host, ip, start_us, end_us, client_id FROM inv_lease"
						 " WHERE end_us >= ?1 AND start_us <= ?2");
		ok = st != NULL;
		if (ok) {
			sqlite3_bind_int64(st, 1, lo);
			sqlite3_bind_int64(st, 2, hi);
			int rc = SQLITE_DONE;
			while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
				struct addr a;
				int plen;
				const char *ip = (const char *)sqlite3_column_text(st, 1);
				if (!ip || !addr_parse_prefix(ip, &a, &plen))
					continue;
				const char *key = (const char *)sqlite3_column_text(st, 0);
				const char *cid = (const char *)sqlite3_column_text(st, 4);
				ok = leasebook_add(book, key ? key : "", cid ? cid : "", &a, sqlite3_column_int64(st, 2),
						   sqlite3_column_int64(st, 3));
			}
			ok = ok && rc == SQLITE_DONE;
		}
		sqlite3_finalize(st);
	}
	return ok;
}

bool store_put_leases(struct store *s, const struct store_checkpoint *c, struct leasebook *book)
{
	bool ok = store_read_leases(s, c, book);
	/* this checkpoint's leases: kept for the next ones, and in the book */
	struct leasebook cur = { 0 };
	ok = ok && leasebook_add_names(&cur, c->done->names, c->redact, c->redact_key);
	sqlite3_stmt *put = ok && cur.n ? store_prep(s, "INSERT INTO inv_lease VALUES(?,?,?,?,?) ON CONFLICT(host, ip,"
						     " start_us) DO UPDATE SET end_us=excluded.end_us,"
						     " client_id=max(client_id, excluded.client_id)")
				       : NULL;
	if (ok && cur.n && !put)
		ok = false;
	for (size_t i = 0; ok && i < cur.n; i++) {
		const struct lease_entry *e = &cur.v[i];
		const struct lease_host *h = &cur.hosts[e->host];
		char ip[ADDR_STRLEN];
		sqlite3_bind_text(put, 1, h->key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(put, 2, addr_str(&e->ip, ip), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(put, 3, e->start_us);
		sqlite3_bind_int64(put, 4, e->end_us);
		sqlite3_bind_text(put, 5, h->client_id, -1, SQLITE_TRANSIENT);
		ok = store_step_done(put) && leasebook_add(book, h->key, h->client_id, &e->ip, e->start_us, e->end_us);
	}
	sqlite3_finalize(put);
	leasebook_free(&cur);
	leasebook_prepare(book);
	return ok;
}

/* ---- read (the rows' meaning is store_rows.c's; here only SQLite's queries) ---- */

struct loader {
	struct store *s;
	int64_t day_from, day_to;
	struct rows_loader rows;
};

/* "SELECT ... FROM table" over the days of the window, with a client filter on `client_col` when the
 * loader has one (NULL: none), then `tail` (GROUP BY, ORDER BY). */
static sqlite3_stmt *window_query(struct loader *l, const char *select, const char *client_col, const char *tail)
{
	char sql[2048];
	bool f = l->rows.filtered && client_col;
	snprintf(sql, sizeof sql, "%s WHERE day BETWEEN ?1 AND ?2%s%s%s %s", select, f ? " AND " : "",
		 f ? client_col : "", f ? " IN (SELECT ip FROM temp.wanted)" : "", tail);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(l->s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	sqlite3_bind_int64(st, 1, l->day_from);
	sqlite3_bind_int64(st, 2, l->day_to);
	return st;
}

static const char *row_text(const struct store_row *r, int i)
{
	const unsigned char *t = sqlite3_column_text((sqlite3_stmt *)r->result, i);
	return t ? (const char *)t : "";
}

static int64_t row_num(const struct store_row *r, int i)
{
	return sqlite3_column_int64((sqlite3_stmt *)r->result, i);
}

/* Every row of a prepared statement to `apply`; false on an error or no memory. */
static bool each_row(struct loader *l, sqlite3_stmt *st, bool (*apply)(struct rows_loader *, const struct store_row *))
{
	if (!st)
		return false;
	struct store_row r = { .text = row_text, .num = row_num, .result = st };
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (!apply(&l->rows, &r)) {
			rc = SQLITE_NOMEM;
			break;
		}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE;
}

/* A client's rows (the whole window read): its address's, or its DHCP host's over every address it had:
 * "#" and the host's key, as store_rows.c finds the clients by (IDENT).  Some clients (the monitor's
 * findings, the loader filtered): a row per (address, host), found by "address#host" (PAIR). */
#define IDENT(ipcol) "CASE WHEN host='' THEN " ipcol " ELSE '#'||host END"
#define PAIR(ipcol) ipcol "||'#'||host"

static bool load_clients(struct loader *l)
{
	if (l->rows.filtered)
		return each_row(l, window_query(l,
		 "SELECT ip, sum(flows), max(internal), min(first_us), max(last_us), min(nullif(first_nonsecure_us, 0)),"
		 " max(last_nonsecure_us), bitor(findings), sum(signon_failures), max(nonsecure_lookup), max(offer_tls),"
		 " max(offer_max_version), bitor(offer_families), min(CASE WHEN offer_tls THEN offer_only_legacy END),"
		 " max(offer_negotiated_legacy), max(open), (SELECT min(nullif(x.first_nonsecure_us, 0)) FROM inv_client x"
		 " WHERE x.ip=inv_client.ip AND +x.host=inv_client.host), host, max(client_id), ip, 0, " PAIR("ip")
		 " FROM inv_client", "ip", "GROUP BY ip, host"), rows_client) && rows_clients_done(&l->rows);
	return each_row(l, window_query(l,
		 "SELECT CASE WHEN host='' THEN ip ELSE (SELECT x.ip FROM inv_client x WHERE x.host=inv_client.host AND"
		 " x.day BETWEEN ?1 AND ?2 ORDER BY x.first_us, x.ip LIMIT 1) END, sum(flows), max(internal),"
		 " min(first_us), max(last_us), min(nullif(first_nonsecure_us, 0)), max(last_nonsecure_us), bitor(findings),"
		 " sum(signon_failures), max(nonsecure_lookup), max(offer_tls), max(offer_max_version),"
		 " bitor(offer_families), min(CASE WHEN offer_tls THEN offer_only_legacy END), max(offer_negotiated_legacy),"
		 " max(open), CASE WHEN host='' THEN (SELECT min(nullif(x.first_nonsecure_us, 0)) FROM inv_client x"
		 " WHERE x.ip=inv_client.ip AND +x.host='') ELSE (SELECT min(nullif(x.first_nonsecure_us, 0))"
		 " FROM inv_client x WHERE x.host=inv_client.host) END, host, max(client_id), group_concat(DISTINCT ip),"
		 " CASE WHEN host='' THEN 0 ELSE (SELECT min(start_us) FROM inv_lease WHERE inv_lease.host=inv_client.host)"
		 " END, " IDENT("ip") " AS ident FROM inv_client", NULL,
		 "GROUP BY ident"), rows_client) && rows_clients_done(&l->rows);
}

static bool load_usage(struct loader *l)
{
	if (l->rows.filtered)
		return each_row(l, window_query(l,
		 "SELECT " PAIR("client") " AS pair, server, service, port, cls, sum(connections), sum(refused),"
		 " sum(unanswered), sum(attempts), sum(failed_tls), sum(cleartext), sum(tls), bitor(tls_versions),"
		 " max(mismatch), min(first_us), max(last_us) FROM inv_usage", "client",
		 "GROUP BY pair, server, service, port, cls"), rows_usage);
	return each_row(l, window_query(l,
		 "SELECT " IDENT("client") " AS ident, server, service, port, cls, sum(connections), sum(refused),"
		 " sum(unanswered), sum(attempts), sum(failed_tls), sum(cleartext), sum(tls), bitor(tls_versions),"
		 " max(mismatch), min(first_us), max(last_us) FROM inv_usage", NULL,
		 "GROUP BY ident, server, service, port, cls"), rows_usage);
}

static bool load_ports(struct loader *l)
{
	return each_row(l, window_query(l, "SELECT server, port, max(service), max(cls), sum(connections),"
					   " bitor(tls_versions), bitor(findings), max(release_vrm) FROM inv_port", NULL,
					   "GROUP BY server, port"), rows_port);
}

static bool load_names(struct loader *l)
{
	if (l->rows.filtered)
		return each_row(l, window_query(l, "SELECT DISTINCT " PAIR("client") ", server, service, port, cls, kind,"
						   " name FROM inv_name", "client", "ORDER BY name"), rows_name);
	return each_row(l, window_query(l, "SELECT DISTINCT " IDENT("client") ", server, service, port, cls, kind,"
					   " name FROM inv_name", NULL, "ORDER BY name"), rows_name);
}

/* The whole window's only: the monitor's findings read no host names. */
static bool load_host_names(struct loader *l)
{
	return each_row(l, window_query(l, "SELECT client, source, name, min(first_us), max(last_us), sum(count),"
					   " host FROM inv_host_name", NULL, "GROUP BY client, host, source, name"),
			rows_host_name);
}

static bool load_notes(struct loader *l)
{
	return each_row(l, window_query(l, "SELECT kind, client, server, port, service, user, detail, sum(count),"
					   " min(first_us), max(last_us) FROM inv_note", NULL,
					   "GROUP BY kind, client, server, port, service, user, detail"), rows_note);
}

/* The connections per UTC day: the usage rows' counts, by day and port class. */
static bool load_days(struct loader *l)
{
	return each_row(l, window_query(l, "SELECT day, cls, sum(connections) FROM inv_usage", NULL,
					   "GROUP BY day, cls ORDER BY day"), rows_day);
}

static bool load_certs(struct loader *l, int64_t since_us, int64_t until_us)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(l->s->db,
			       "SELECT server, port, sha256, subject, issuer, not_after_us, first_us, last_us, not_before_us,"
			       " key_type, key_bits, sig_alg, self_signed FROM cert WHERE last_us >= ?1 AND first_us < ?2",
			       -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return false;
	}
	sqlite3_bind_int64(st, 1, since_us);
	sqlite3_bind_int64(st, 2, until_us);
	return each_row(l, st, rows_cert);
}

/* The clients asked for: their addresses, and the addresses their DHCP hosts had (temp.wanted: the rows
 * read are those of these addresses, every host's). */
static bool want_clients(struct store *s, const struct store_query *q)
{
	char ignore[8], ip[ADDR_STRLEN];
	if (!store_exec(s, "CREATE TEMP TABLE IF NOT EXISTS wanted(ip TEXT PRIMARY KEY); DELETE FROM temp.wanted",
			ignore, sizeof ignore))
		return false;
	sqlite3_stmt *st = store_prep(s, "INSERT OR IGNORE INTO temp.wanted VALUES(?)");
	bool ok = st != NULL;
	for (size_t i = 0; ok && i < q->n_only; i++) {
		sqlite3_bind_text(st, 1, addr_str(&q->only[i], ip), -1, SQLITE_TRANSIENT);
		ok = store_step_done(st);
	}
	sqlite3_finalize(st);
	if (!ok || !q->n_only_hosts)
		return ok;
	st = store_prep(s, "INSERT OR IGNORE INTO temp.wanted SELECT DISTINCT ip FROM inv_client WHERE host=?");
	ok = st != NULL;
	for (size_t i = 0; ok && i < q->n_only_hosts; i++)
		if (q->only_hosts[i] && q->only_hosts[i][0]) {
			sqlite3_bind_text(st, 1, q->only_hosts[i], -1, SQLITE_TRANSIENT);
			ok = store_step_done(st);
		}
	sqlite3_finalize(st);
	return ok;
}

bool store_load_rows(struct store *s, const struct store_query *q, struct inventory *inv)
{
	memset(inv, 0, sizeof *inv);
	/* the clients of a filter (the monitor's findings): a row per (address, DHCP host), with no host names
	 * (events_detect() matches hosts across addresses); the whole window follows hosts */
	struct loader l = { .s = s, .rows = { .inv = inv, .filtered = q->only != NULL, .identity = true } };
	bool filtered = l.rows.filtered;
	l.day_from = q->since_us ? inventory_day(q->since_us) : INT64_MIN;
	l.day_to = q->until_us ? inventory_day(q->until_us - 1) : INT64_MAX;
	bool ok = (!filtered || want_clients(s, q)) && load_clients(&l) && load_usage(&l) &&
		  (filtered || load_ports(&l)) && load_names(&l) && (filtered || load_host_names(&l)) &&
		  (filtered || load_notes(&l)) &&
		  (filtered || load_days(&l)) &&
		  load_certs(&l, q->since_us ? q->since_us : INT64_MIN, q->until_us ? q->until_us : INT64_MAX);
	return rows_finish(&l.rows, ok);
}

int64_t store_day(int64_t us)
{
	return inventory_day(us);
}
