/*
 * store_pg_load.c - the shared store read back for a report (see
 * store_pg.h): the inventory of a window of days summed over every sensor
 * (or the ones asked for with --sensor), and the state view (runs,
 * checkpoints, counters, capture health) over the same sensors.
 *
 * In: the rows the sensors merged (store_pg_sql.c).  The database does the
 * sums, minima, maxima, ORs and unions across days and sensors, in one
 * repeatable-read transaction so that sensors writing meanwhile do not tear
 * the picture.  Out: the same struct inventory and struct store_view the
 * SQLite store fills, so every writer, the plan and the comparison work
 * unchanged.  Every query is parameterized (PQexecParams); the sensor filter
 * is a text[] parameter.  Nothing here prints.
 */
#include "store_pg.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENSORS(col) " AND ($3::text[] IS NULL OR " col " = ANY($3::text[]))"

struct ld {
	PGconn *c;
	struct inventory *inv;
	char from[24], to[24];
	const char *sensors;
	struct by_text {
		char ip[ADDR_STRLEN];
		size_t index;
	} *ix;
	size_t n_ix;
};

static PGresult *q3(struct ld *l, const char *sql)
{
	const char *v[] = { l->from, l->to, l->sensors };
	PGresult *r = PQexecParams(l->c, sql, 3, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return NULL;
	}
	return r;
}

static int64_t gi(PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static const char *gs(PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col);
}

static int cmp_text(const void *a, const void *b)
{
	return strcmp(((const struct by_text *)a)->ip, ((const struct by_text *)b)->ip);
}

static int cmp_client_addr(const void *a, const void *b)
{
	return addr_cmp(&((const struct inv_client *)a)->ip, &((const struct inv_client *)b)->ip);
}

static struct inv_client *client_of(struct ld *l, const char *ip)
{
	struct by_text key;
	snprintf(key.ip, sizeof key.ip, "%s", ip);
	struct by_text *f = l->n_ix ? bsearch(&key, l->ix, l->n_ix, sizeof *l->ix, cmp_text) : NULL;
	return f ? &l->inv->clients[f->index] : NULL;
}

static bool load_clients(struct ld *l)
{
	/* the window's rows per client, and each client's first nonsecure use over every day kept (a hash join
	 * of two aggregates, not a subquery per client) */
	PGresult *r = q3(l, "SELECT w.*, e.ever FROM (SELECT ip, sum(flows), max(internal), min(first_us), max(last_us),"
			    " min(nullif(first_nonsecure_us, 0)), max(last_nonsecure_us), bit_or(findings), sum(signon_failures),"
			    " max(nonsecure_lookup), max(offer_tls), max(offer_max_version), bit_or(offer_families),"
			    " min(CASE WHEN offer_tls<>0 THEN offer_only_legacy END), max(offer_negotiated_legacy), max(open)"
			    " FROM inv_client c WHERE day BETWEEN $1::bigint AND $2::bigint" SENSORS("c.sensor") " GROUP BY ip) w"
			    " LEFT JOIN (SELECT ip, min(nullif(first_nonsecure_us, 0)) AS ever FROM inv_client x"
			    " WHERE first_nonsecure_us <> 0" SENSORS("x.sensor") " GROUP BY ip) e USING (ip)");
	if (!r)
		return false;
	struct inventory *inv = l->inv;
	int n = PQntuples(r);
	inv->clients = calloc(n ? (size_t)n : 1, sizeof *inv->clients);
	if (!inv->clients) {
		PQclear(r);
		return false;
	}
	for (int row = 0; row < n; row++) {
		struct addr a;
		int plen;
		if (!addr_parse_prefix(gs(r, row, 0), &a, &plen))
			continue;
		struct inv_client *c = &inv->clients[inv->n_clients++];
		c->ip = a;
		int i = 1;
		c->flows = (uint64_t)gi(r, row, i++);
		c->internal = gi(r, row, i++) != 0;
		c->first_us = gi(r, row, i++);
		c->last_us = gi(r, row, i++);
		c->first_nonsecure_us = gi(r, row, i++);
		c->last_nonsecure_us = gi(r, row, i++);
		c->findings = (uint32_t)gi(r, row, i++);
		c->signon_failures = (uint64_t)gi(r, row, i++);
		c->nonsecure_lookup = gi(r, row, i++) != 0;
		c->offer.tls = gi(r, row, i++) != 0;
		c->offer.max_version = (uint16_t)gi(r, row, i++);
		c->offer.families = (uint32_t)gi(r, row, i++);
		c->offer.only_legacy_ciphers = gi(r, row, i++) != 0;
		c->offer.negotiated_legacy = gi(r, row, i++) != 0;
		c->in_progress = gi(r, row, i++) != 0;
		c->first_nonsecure_ever_us = gi(r, row, i++);
	}
	PQclear(r);
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
	qsort(l->ix, l->n_ix, sizeof *l->ix, cmp_text);
	return true;
}

static bool load_usage(struct ld *l)
{
	PGresult *r = q3(l, "SELECT client, server, service, port, cls, sum(connections), sum(refused), sum(unanswered),"
			    " sum(attempts), sum(failed_tls), sum(cleartext), sum(tls), bit_or(tls_versions), max(mismatch),"
			    " min(first_us), max(last_us) FROM inv_usage WHERE day BETWEEN $1::bigint AND $2::bigint"
			    SENSORS("sensor") " GROUP BY client, server, service, port, cls"
			    " ORDER BY client, server COLLATE \"C\", service COLLATE \"C\", port, cls");
	if (!r)
		return false;
	bool ok = true;
	for (int row = 0; ok && row < PQntuples(r); row++) {
		struct inv_client *c = client_of(l, gs(r, row, 0));
		struct addr srv;
		int plen;
		if (!c || !addr_parse_prefix(gs(r, row, 1), &srv, &plen))
			continue;
		if (!inventory_grow((void **)&c->use, c->n_use, &c->cap_use, sizeof *c->use)) {
			ok = false;
			break;
		}
		struct inv_usage *u = &c->use[c->n_use++];
		memset(u, 0, sizeof *u);
		u->server = srv;
		u->service = gs(r, row, 2)[0] ? inventory_intern(l->inv, gs(r, row, 2)) : NULL;
		u->port = (uint16_t)gi(r, row, 3);
		u->cls = (enum port_class)gi(r, row, 4);
		uint64_t *counts[] = { &u->connections, &u->refused, &u->unanswered, &u->attempts, &u->failed_tls,
				       &u->cleartext, &u->tls };
		for (int i = 0; i < 7; i++)
			*counts[i] = (uint64_t)gi(r, row, 5 + i);
		u->tls_versions = (uint32_t)gi(r, row, 12);
		u->mismatch = gi(r, row, 13) != 0;
		u->first_us = gi(r, row, 14);
		u->last_us = gi(r, row, 15);
	}
	PQclear(r);
	return ok;
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

static struct inv_server *server_of(struct inventory *inv, size_t *cap, const struct addr *a)
{
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
	if (!inventory_grow((void **)&inv->servers, inv->n_servers, cap, sizeof *inv->servers))
		return NULL;
	memmove(&inv->servers[lo + 1], &inv->servers[lo], (inv->n_servers - lo) * sizeof *inv->servers);
	memset(&inv->servers[lo], 0, sizeof *inv->servers);
	inv->servers[lo].ip = *a;
	inv->n_servers++;
	return &inv->servers[lo];
}

static bool load_ports(struct ld *l)
{
	PGresult *r = q3(l, "SELECT server, port, max(service), max(cls), sum(connections), bit_or(tls_versions),"
			    " bit_or(findings), max(release_vrm) FROM inv_port WHERE day BETWEEN $1::bigint AND $2::bigint"
			    SENSORS("sensor") " GROUP BY server, port ORDER BY port");
	if (!r)
		return false;
	size_t cap = 0;
	bool ok = true;
	for (int row = 0; ok && row < PQntuples(r); row++) {
		struct addr a;
		int plen;
		if (!addr_parse_prefix(gs(r, row, 0), &a, &plen))
			continue;
		struct inv_server *s = server_of(l->inv, &cap, &a);
		if (!s || !inventory_grow((void **)&s->ports, s->n_ports, &s->cap_ports, sizeof *s->ports)) {
			ok = false;
			break;
		}
		struct inv_port *p = &s->ports[s->n_ports++];   /* rows come by port: the ports stay sorted */
		memset(p, 0, sizeof *p);
		p->port = (uint16_t)gi(r, row, 1);
		p->service = gs(r, row, 2)[0] ? inventory_intern(l->inv, gs(r, row, 2)) : NULL;
		p->cls = (enum port_class)gi(r, row, 3);
		p->connections = (uint64_t)gi(r, row, 4);
		p->tls_versions = (uint32_t)gi(r, row, 5);
		p->findings = (uint32_t)gi(r, row, 6);
		uint32_t vrm = (uint32_t)gi(r, row, 7);
		if (vrm > s->release_vrm)
			s->release_vrm = vrm;
	}
	PQclear(r);
	return ok;
}

static struct inv_port *port_of(struct inv_server *s, int port)
{
	for (size_t i = 0; i < s->n_ports; i++)
		if (s->ports[i].port == port)
			return &s->ports[i];
	return NULL;
}

static bool load_names(struct ld *l)
{
	PGresult *r = q3(l, "SELECT DISTINCT client, server, service, port, cls, kind, name COLLATE \"C\" FROM inv_name"
			    " WHERE day BETWEEN $1::bigint AND $2::bigint" SENSORS("sensor") " ORDER BY 7");
	if (!r)
		return false;
	for (int row = 0; row < PQntuples(r); row++) {
		const char *cli = gs(r, row, 0), *srv = gs(r, row, 1), *kind = gs(r, row, 5), *name = gs(r, row, 6);
		int port = (int)gi(r, row, 3), cls = (int)gi(r, row, 4);
		if (!cli[0]) {   /* a server port's negotiated cipher */
			struct addr a;
			int plen;
			struct inv_server key, *s;
			if (strcmp(kind, "cipher") != 0 || !addr_parse_prefix(srv, &a, &plen) || !l->inv->n_servers)
				continue;
			key.ip = a;
			s = bsearch(&key, l->inv->servers, l->inv->n_servers, sizeof key,
				    (int (*)(const void *, const void *))addr_cmp);
			struct inv_port *p = s ? port_of(s, port) : NULL;
			if (p)
				name_set_add(&p->ciphers, name);
			continue;
		}
		struct inv_client *c = client_of(l, cli);
		if (!c)
			continue;
		if (!srv[0]) {
			struct name_set *set = strcmp(kind, "user") == 0 ? &c->users
					     : strcmp(kind, "device") == 0 ? &c->devices
					     : strcmp(kind, "mapper") == 0 ? &c->mapper_requests
					     : strcmp(kind, "software") == 0 ? &c->software : NULL;
			if (set)
				name_set_add(set, name);
			continue;
		}
		struct inv_usage *u = usage_of(c, srv, gs(r, row, 2), port, cls);
		if (u)
			name_set_add(strcmp(kind, "user") == 0 ? &u->users : &u->devices, name);
	}
	PQclear(r);
	return true;
}

static bool load_notes(struct ld *l)
{
	PGresult *r = q3(l, "SELECT kind, client, server, port, service, usr, detail, sum(count), min(first_us),"
			    " max(last_us) FROM inv_note WHERE day BETWEEN $1::bigint AND $2::bigint" SENSORS("sensor")
			    " GROUP BY kind, client, server, port, service, usr, detail"
			    " ORDER BY kind, client COLLATE \"C\", server COLLATE \"C\", port, service COLLATE \"C\","
			    " usr COLLATE \"C\", detail COLLATE \"C\"");
	if (!r)
		return false;
	size_t cap = 0;
	bool ok = true;
	struct inventory *inv = l->inv;
	for (int row = 0; row < PQntuples(r); row++) {
		struct inv_note n = { 0 };
		int plen;
		n.kind = (enum note_kind)gi(r, row, 0);
		if ((unsigned)n.kind >= NOTE_KINDS || !addr_parse_prefix(gs(r, row, 1), &n.client, &plen) ||
		    !addr_parse_prefix(gs(r, row, 2), &n.server, &plen))
			continue;
		n.port = (uint16_t)gi(r, row, 3);
		snprintf(n.service, sizeof n.service, "%s", gs(r, row, 4));
		snprintf(n.user, sizeof n.user, "%s", gs(r, row, 5));
		snprintf(n.detail, sizeof n.detail, "%s", gs(r, row, 6));
		n.count = (uint64_t)gi(r, row, 7);
		n.first_us = gi(r, row, 8);
		n.last_us = gi(r, row, 9);
		if (!inventory_grow((void **)&inv->notes, inv->n_notes, &cap, sizeof *inv->notes)) {
			ok = false;
			break;
		}
		inv->notes[inv->n_notes++] = n;
	}
	PQclear(r);
	return ok;
}

static bool load_certs(struct ld *l, int64_t since_us, int64_t until_us)
{
	char a[24], b[24];
	snprintf(a, sizeof a, "%" PRId64, since_us);
	snprintf(b, sizeof b, "%" PRId64, until_us);
	const char *v[] = { a, b, l->sensors };
	PGresult *r = PQexecParams(l->c,
		"SELECT server, port, sha256, max(subject), max(issuer), max(not_after_us), min(first_us), max(last_us),"
		" max(not_before_us), max(key_type), max(key_bits), max(sig_alg), max(self_signed) FROM cert"
		" WHERE last_us >= $1::bigint AND first_us < $2::bigint" SENSORS("sensor")
		" GROUP BY server, port, sha256 ORDER BY min(first_us), server, port, sha256", 3, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return false;
	}
	size_t cap = 0;
	for (int row = 0; row < PQntuples(r); row++) {
		struct inv_cert c = { 0 };
		int plen;
		if (!addr_parse_prefix(gs(r, row, 0), &c.server, &plen))
			continue;
		c.port = (uint16_t)gi(r, row, 1);
		snprintf(c.sha256, sizeof c.sha256, "%s", gs(r, row, 2));
		snprintf(c.subject, sizeof c.subject, "%s", gs(r, row, 3));
		snprintf(c.issuer, sizeof c.issuer, "%s", gs(r, row, 4));
		c.not_after = gi(r, row, 5) / 1000000;
		c.first_us = gi(r, row, 6);
		c.last_us = gi(r, row, 7);
		c.not_before = gi(r, row, 8) / 1000000;
		snprintf(c.key_type, sizeof c.key_type, "%s", gs(r, row, 9));
		c.key_bits = (int)gi(r, row, 10);
		snprintf(c.sig_alg, sizeof c.sig_alg, "%s", gs(r, row, 11));
		c.self_signed = gi(r, row, 12) != 0;
		inventory_add_cert(l->inv, &cap, &c);
	}
	PQclear(r);
	return true;
}

static bool begin_read(PGconn *c)
{
	PGresult *r = PQexec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok;
}

static void end_read(PGconn *c)
{
	PQclear(PQexec(c, "COMMIT"));
}

bool pg_load_inventory(struct pg_conn *conn, const char *sensors, const struct store_query *q, struct inventory *inv,
		       char *err, size_t errlen)
{
	memset(inv, 0, sizeof *inv);
	if (q->only) {
		snprintf(err, errlen, "PostgreSQL: a client filter is not read from the shared store");
		return false;
	}
	struct ld l = { .c = pg_conn_raw(conn), .inv = inv, .sensors = sensors };
	snprintf(l.from, sizeof l.from, "%" PRId64, q->since_us ? store_day(q->since_us) : INT64_MIN);
	snprintf(l.to, sizeof l.to, "%" PRId64, q->until_us ? store_day(q->until_us - 1) : INT64_MAX);
	bool ok = begin_read(l.c) && load_clients(&l) && load_usage(&l) && load_ports(&l) && load_names(&l) &&
		  load_notes(&l) && load_certs(&l, q->since_us ? q->since_us : INT64_MIN, q->until_us ? q->until_us : INT64_MAX);
	if (!ok)
		pg_conn_err(conn, "cannot read the inventory", err, errlen);
	end_read(l.c);
	free(l.ix);
	if (!ok) {
		inventory_free(inv);
		return false;
	}
	for (size_t i = 0; i < inv->n_clients; i++)
		inv->flows += inv->clients[i].flows;
	inventory_finish(inv);
	return true;
}

/* ---- the state view ---- */

static bool view_counters(PGconn *c, const char *sensors, struct store_view *v)
{
	const char *p[] = { sensors };
	PGresult *r = PQexecParams(c, "SELECT name, sum(value) FROM counter WHERE ($1::text[] IS NULL OR sensor = ANY($1::text[]))"
				      " GROUP BY name ORDER BY name COLLATE \"C\"", 1, NULL, p, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	int n = ok ? PQntuples(r) : 0;
	if (ok && n && !(v->counters = calloc((size_t)n, sizeof *v->counters)))
		ok = false;
	for (int i = 0; ok && i < n; i++) {
		snprintf(v->counters[i].name, sizeof v->counters[i].name, "%s", PQgetvalue(r, i, 0));
		v->counters[i].value = strtoull(PQgetvalue(r, i, 1), NULL, 10);
	}
	v->n_counters = ok ? (size_t)n : 0;
	PQclear(r);
	return ok;
}

static bool view_health(PGconn *c, const char *sensors, int64_t since_us, struct sv_health *h)
{
	char s[24];
	snprintf(s, sizeof s, "%" PRId64, since_us);
	const char *p[] = { s, sensors };
	PGresult *r = PQexecParams(c, "SELECT count(*), count(*) FILTER (WHERE dropped_kernel + dropped_interface > 0),"
				      " sum(packets), sum(received), sum(dropped_kernel), sum(dropped_interface), sum(not_analysed),"
				      " min(start_us), max(end_us), sum(end_us - start_us) FROM capture_interval"
				      " WHERE end_us >= $1::bigint AND ($2::text[] IS NULL OR sensor = ANY($2::text[]))",
				   2, NULL, p, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	if (ok) {
		uint64_t *f[] = { &h->intervals, &h->intervals_with_drops, &h->packets, &h->received, &h->dropped_kernel,
				  &h->dropped_interface, &h->not_analysed };
		for (int i = 0; i < 7; i++)
			*f[i] = strtoull(PQgetvalue(r, 0, i), NULL, 10);
		h->first_us = strtoll(PQgetvalue(r, 0, 7), NULL, 10);
		h->last_us = strtoll(PQgetvalue(r, 0, 8), NULL, 10);
		h->observed_us = strtoll(PQgetvalue(r, 0, 9), NULL, 10);
	}
	PQclear(r);
	return ok;
}

static bool view_meta(PGconn *c, const char *sensors, struct store_view *v)
{
	const char *p[] = { sensors };
	PGresult *r = PQexecParams(c,
		"SELECT (SELECT value FROM meta WHERE key='created_us'),"
		" (SELECT min(started_us) FROM run WHERE $1::text[] IS NULL OR sensor = ANY($1::text[])),"
		" (SELECT max(last_checkpoint_us) FROM run WHERE $1::text[] IS NULL OR sensor = ANY($1::text[])),"
		" (SELECT count(*) FROM run WHERE $1::text[] IS NULL OR sensor = ANY($1::text[])),"
		" (SELECT count(*) FROM flow WHERE $1::text[] IS NULL OR sensor = ANY($1::text[])),"
		" (SELECT min(start_us) FROM flow WHERE $1::text[] IS NULL OR sensor = ANY($1::text[])),"
		" (SELECT count(*) > 0 FROM run WHERE stopped_us IS NULL AND ($1::text[] IS NULL OR sensor = ANY($1::text[]))),"
		" (SELECT string_agg(name, ',' ORDER BY name) FROM sensor WHERE $1::text[] IS NULL OR name = ANY($1::text[])),"
		" (SELECT min(first_us) FROM inv_client WHERE $1::text[] IS NULL OR sensor = ANY($1::text[])),"
		" (SELECT max(last_us) FROM inv_client WHERE $1::text[] IS NULL OR sensor = ANY($1::text[])),"
		" (SELECT count(*) FROM import WHERE $1::text[] IS NULL OR sensor = ANY($1::text[]))",
		1, NULL, p, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	if (ok) {
		v->created_us = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		v->first_start_us = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
		v->last_checkpoint_us = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
		v->runs = strtoull(PQgetvalue(r, 0, 3), NULL, 10);
		v->flows_stored = strtoull(PQgetvalue(r, 0, 4), NULL, 10);
		v->oldest_flow_us = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
		v->running = PQgetvalue(r, 0, 6)[0] == 't';
		/* the "interface" line names the sensors instead */
		snprintf(v->iface, sizeof v->iface, "sensors %s", PQgetvalue(r, 0, 7));
		v->first_day_us = strtoll(PQgetvalue(r, 0, 8), NULL, 10);
		v->last_day_us = strtoll(PQgetvalue(r, 0, 9), NULL, 10);
		v->imports = strtoull(PQgetvalue(r, 0, 10), NULL, 10);
	}
	PQclear(r);
	return ok;
}

bool pg_load_view(struct pg_conn *conn, const char *sensors, int64_t since_us, struct store_view *v, char *err,
		  size_t errlen)
{
	memset(v, 0, sizeof *v);
	PGconn *c = pg_conn_raw(conn);
	bool ok = begin_read(c) && view_meta(c, sensors, v) && view_counters(c, sensors, v) &&
		  view_health(c, sensors, since_us, &v->window) && view_health(c, sensors, 0, &v->total);
	if (!ok)
		pg_conn_err(conn, "cannot read the state", err, errlen);
	end_read(c);
	if (ok) {
		v->checkpoints = store_view_counter(v, "checkpoints");
		v->unclean_stops = store_view_counter(v, "unclean_stops");
		v->total.received = store_view_counter(v, "pcap_received");
		v->total.dropped_kernel = store_view_counter(v, "pcap_dropped_kernel");
		v->total.dropped_interface = store_view_counter(v, "pcap_dropped_interface");
		v->total.not_analysed = store_view_counter(v, "pcap_not_analysed_at_stop");
		v->total.intervals_with_drops = store_view_counter(v, "intervals_with_drops");
		v->total.packets = store_view_counter(v, "packets");
		v->total.intervals = v->checkpoints;
	}
	return ok;
}
