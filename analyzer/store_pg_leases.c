/*
 * store_pg_leases.c - who the shared store's clients are: the DHCP leases of
 * a sensor's checkpoints (issue 17, schema 3; see store_pg.h).
 *
 * In: a checkpoint (its names table's leases, redacted when it redacts) and
 * the leases stored before.  An import reads the leases every sensor stored
 * (inv_lease) that can cover its connections; a monitor, whose capture
 * thread never waits on the database, reads the unexpired ones once when it
 * opens the store and then keeps in memory the leases it saw itself that can
 * still cover a later connection (those ending after the latest checkpoint's
 * earliest connection: bounded by the leases of its checkpoints' names
 * tables, themselves capped, over one lease time).  Out: the checkpoint's
 * lease book (leasebook.c applies the SQLite state's rules across them),
 * which store_pg_rows.c asks for each connection's host, and the findings'
 * "now" rows given the host whose lease held their address.
 */
#include "store_pg.h"

#include "leasebook.h"
#include "pq_lazy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool pg_leases_read(struct pg_conn *conn, int64_t lo, int64_t hi, struct leasebook *book)
{
	PGconn *c = pg_conn_raw(conn);
	char a[24], b[24];
	snprintf(a, sizeof a, "%" PRId64, lo);
	snprintf(b, sizeof b, "%" PRId64, hi);
	const char *v[] = { a, b };
	PGresult *r = PQexecParams(c, "SELECT host, ip, start_us, end_us, client_id FROM inv_lease"
					 " WHERE end_us >= $1::bigint AND start_us <= $2::bigint", 2, NULL, v, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	for (int i = 0; ok && i < PQntuples(r); i++) {
		struct addr ip;
		int plen;
		if (addr_parse_prefix(PQgetvalue(r, i, 1), &ip, &plen))
			ok = leasebook_add(book, PQgetvalue(r, i, 0), PQgetvalue(r, i, 4), &ip,
					   strtoll(PQgetvalue(r, i, 2), NULL, 10), strtoll(PQgetvalue(r, i, 3), NULL, 10));
	}
	PQclear(r);
	return ok;
}

/* The leases of `from` that end at or after lo (all: lo INT64_MIN) and start at or before hi, added to `to`. */
static bool add_leases(struct leasebook *to, const struct leasebook *from, int64_t lo, int64_t hi)
{
	bool ok = true;
	for (size_t i = 0; ok && i < from->n; i++) {
		const struct lease_entry *e = &from->v[i];
		const struct lease_host *h = &from->hosts[e->host];
		if (e->end_us >= lo && e->start_us <= hi)
			ok = leasebook_add(to, h->key, h->client_id, &e->ip, e->start_us, e->end_us);
	}
	return ok;
}

bool pg_leases_checkpoint(struct pg_conn *conn, struct leasebook *kept, const struct store_checkpoint *c,
			  struct leasebook *book, struct leasebook *cur)
{
	int64_t lo = 0, hi = 0;
	bool ok = leasebook_add_names(cur, c->done->names, c->redact, c->redact_key);
	if (ok && store_checkpoint_span(c, &lo, &hi)) {
		if (kept)
			ok = add_leases(book, kept, lo, hi);
		else if (conn)
			ok = pg_leases_read(conn, lo, hi, book);
	}
	ok = ok && add_leases(book, cur, INT64_MIN, INT64_MAX);
	if (ok && kept) {   /* kept: what can still name a later connection, and this checkpoint's */
		struct leasebook next = { 0 };
		if (add_leases(&next, kept, lo, INT64_MAX) && add_leases(&next, cur, INT64_MIN, INT64_MAX)) {
			leasebook_free(kept);
			*kept = next;
		} else {
			leasebook_free(&next);
			ok = false;
		}
	}
	leasebook_prepare(book);
	return ok;
}

void pg_leases_now(struct inventory *now, const struct leasebook *book)
{
	for (size_t i = 0; i < now->n_clients; i++) {
		struct inv_client *cl = &now->clients[i];
		int32_t h = cl->dhcp ? -1 : leasebook_host_at(book, &cl->ip, cl->first_us);
		if (h < 0 || !(cl->dhcp = calloc(1, sizeof *cl->dhcp)))
			continue;
		cl->host = h;
		snprintf(cl->dhcp->hw, sizeof cl->dhcp->hw, "%.*s", (int)sizeof cl->dhcp->hw - 1, book->hosts[h].key);
		snprintf(cl->dhcp->client_id, sizeof cl->dhcp->client_id, "%.*s", (int)sizeof cl->dhcp->client_id - 1,
			 book->hosts[h].client_id);
	}
}
