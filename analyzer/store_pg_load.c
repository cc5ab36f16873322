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
 * unchanged: a DHCP host's rows (schema 3) are one client over every
 * address it had, an address's rows without a host another, as the SQLite
 * state reads its schema 6 (store_rows.c does the rest for both).  Every query is parameterized (PQexecParams); the sensor filter
 * is a text[] parameter.  Nothing here prints.
 */
#include "store_pg.h"
#include "store_rows.h"

#include "attempts.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENSORS(col) " AND ($3::text[] IS NULL OR " col " = ANY($3::text[]))"
/* the clients asked for (a monitor's findings: the clients of one checkpoint), or every client: the rows of
 * their addresses, every row of the DHCP hosts those addresses had (the host over all its addresses), and
 * every row of the hosts asked for by key ($5: a host now at an address it never had in the store) */
#define WANTED(col) " AND ($4::text[] IS NULL OR " col " = ANY($4::text[]) OR (host <> '' AND (host IN" \
	" (SELECT h.host FROM inv_client h WHERE h.ip = ANY($4::text[]) AND h.host <> '') OR host = ANY($5::text[]))))"
/* a row's client: its address, or "#" and its DHCP host's key (store_rows.c finds the clients by it) */
#define IDENT(col) "CASE WHEN host = '' THEN " col " ELSE '#' || host END"

struct ld {
	PGconn *c;
	char from[24], to[24];
	const char *sensors;
	char *wanted;              /* "{\"ip\",...}" or NULL: every client */
	char *hosts;               /* "{\"key\",...}": DHCP hosts also asked for (with wanted) */
	struct rows_loader rows;
};

static PGresult *q3(struct ld *l, const char *sql)
{
	const char *v[] = { l->from, l->to, l->sensors, l->wanted, l->hosts };
	/* a parameter the text does not use would have no type: the client filter only where it is used */
	return PQexecParams(l->c, sql, strstr(sql, "$4") ? 5 : 3, NULL, v, NULL, NULL, 0);
}

/* The client filter as a text[] literal (a bound parameter; addresses hold no quote or brace). */
static char *wanted_array(const struct addr *only, size_t n)
{
	char *a = malloc(n * (ADDR_STRLEN + 3) + 3), ip[ADDR_STRLEN];
	if (!a)
		return NULL;
	size_t o = 0;
	a[o++] = '{';
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(a + o, "%s\"%s\"", i ? "," : "", addr_str(&only[i], ip));
	a[o++] = '}';
	a[o] = '\0';
	return a;
}

/* Host keys as a text[] literal (a bound parameter; each element quoted, '"' and '\\' escaped). */
static char *hosts_array(const char *const *keys, size_t n)
{
	size_t cap = 3;
	for (size_t i = 0; i < n; i++)
		cap += 2 * strlen(keys[i] ? keys[i] : "") + 3;
	char *a = malloc(cap);
	if (!a)
		return NULL;
	size_t o = 0;
	a[o++] = '{';
	for (size_t i = 0, k = 0; i < n; i++) {
		if (!keys[i] || !keys[i][0])
			continue;
		if (k++)
			a[o++] = ',';
		a[o++] = '"';
		for (const char *c = keys[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				a[o++] = '\\';
			a[o++] = *c;
		}
		a[o++] = '"';
	}
	a[o++] = '}';
	a[o] = '\0';
	return a;
}

static const char *row_text(const struct store_row *r, int col)
{
	return PQgetvalue((const PGresult *)r->result, r->row, col);
}

static int64_t row_num(const struct store_row *r, int col)
{
	return strtoll(PQgetvalue((const PGresult *)r->result, r->row, col), NULL, 10);
}

/* Every row of a result to `apply` (the rows' meaning is store_rows.c's); false on an error or no memory. */
static bool each_row(struct ld *l, PGresult *res, bool (*apply)(struct rows_loader *, const struct store_row *))
{
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	struct store_row r = { .text = row_text, .num = row_num, .result = res };
	for (int row = 0; ok && row < PQntuples(res); row++) {
		r.row = row;
		ok = apply(&l->rows, &r);
	}
	PQclear(res);
	return ok;
}

static bool load_clients(struct ld *l)
{
	/* the window's rows per client (its first address: of its earliest row), and each client's first
	 * nonsecure use over every day kept (a hash join of two aggregates, not a subquery per client) */
	return each_row(l, q3(l, "SELECT w.ip0, w.flows, w.internal, w.first_us, w.last_us, w.fns, w.lns, w.findings,"
			    " w.sf, w.nl, w.ot, w.omv, w.ofam, w.ool, w.onl, w.open, e.ever, w.host, w.cid, w.addrs,"
			    " CASE WHEN w.host = '' THEN 0 ELSE (SELECT min(start_us) FROM inv_lease s WHERE s.host = w.host) END,"
			    " w.ident FROM (SELECT " IDENT("ip") " AS ident, min(host) AS host,"
			    " (array_agg(ip ORDER BY first_us, ip COLLATE \"C\"))[1] AS ip0, sum(flows) AS flows,"
			    " max(internal) AS internal, min(first_us) AS first_us, max(last_us) AS last_us,"
			    " min(nullif(first_nonsecure_us, 0)) AS fns, max(last_nonsecure_us) AS lns, bit_or(findings) AS findings,"
			    " sum(signon_failures) AS sf, max(nonsecure_lookup) AS nl, max(offer_tls) AS ot,"
			    " max(offer_max_version) AS omv, bit_or(offer_families) AS ofam,"
			    " min(CASE WHEN offer_tls<>0 THEN offer_only_legacy END) AS ool, max(offer_negotiated_legacy) AS onl,"
			    " max(open) AS open, max(client_id) AS cid, string_agg(DISTINCT ip, ',') AS addrs"
			    " FROM inv_client c WHERE day BETWEEN $1::bigint AND $2::bigint" SENSORS("c.sensor") WANTED("c.ip")
			    " GROUP BY 1) w"
			    " LEFT JOIN (SELECT " IDENT("ip") " AS ident, min(nullif(first_nonsecure_us, 0)) AS ever FROM inv_client x"
			    " WHERE first_nonsecure_us <> 0" SENSORS("x.sensor") WANTED("x.ip") " GROUP BY 1) e USING (ident)"),
			rows_client) &&
	       rows_clients_done(&l->rows);
}

static bool load_usage(struct ld *l)
{
	return each_row(l, q3(l, "SELECT " IDENT("client") ", server, service, port, cls, sum(connections), sum(refused),"
			    " sum(unanswered), sum(attempts), sum(failed_tls), sum(cleartext), sum(tls), bit_or(tls_versions),"
			    " max(mismatch), min(first_us), max(last_us) FROM inv_usage WHERE day BETWEEN $1::bigint AND $2::bigint"
			    SENSORS("sensor") WANTED("client") " GROUP BY 1, server, service, port, cls"
			    " ORDER BY 1, server COLLATE \"C\", service COLLATE \"C\", port, cls"), rows_usage);
}

static bool load_ports(struct ld *l)
{
	return each_row(l, q3(l, "SELECT server, port, max(service), max(cls), sum(connections), bit_or(tls_versions),"
			    " bit_or(findings), max(release_vrm) FROM inv_port WHERE day BETWEEN $1::bigint AND $2::bigint"
			    SENSORS("sensor") " GROUP BY server, port ORDER BY port"), rows_port);
}

static bool load_names(struct ld *l)
{
	return each_row(l, q3(l, "SELECT DISTINCT " IDENT("client") ", server, service, port, cls, kind, name COLLATE \"C\""
			    " FROM inv_name"
			    " WHERE day BETWEEN $1::bigint AND $2::bigint" SENSORS("sensor") WANTED("client") " ORDER BY 7"), rows_name);
}

/* the host names of every sensor merged: earliest first, latest last, counts added */
static bool load_host_names(struct ld *l)
{
	return each_row(l, q3(l, "SELECT client, source, name, min(first_us), max(last_us), sum(count), host"
			    " FROM inv_host_name WHERE day BETWEEN $1::bigint AND $2::bigint" SENSORS("sensor") WANTED("client")
			    " GROUP BY client, host, source, name"), rows_host_name);
}

static bool load_notes(struct ld *l)
{
	return each_row(l, q3(l, "SELECT kind, client, server, port, service, usr, detail, sum(count), min(first_us),"
			    " max(last_us) FROM inv_note WHERE day BETWEEN $1::bigint AND $2::bigint" SENSORS("sensor")
			    " GROUP BY kind, client, server, port, service, usr, detail"
			    " ORDER BY kind, client COLLATE \"C\", server COLLATE \"C\", port, service COLLATE \"C\","
			    " usr COLLATE \"C\", detail COLLATE \"C\""), rows_note);
}

/* The connections per UTC day, every sensor's usage rows summed by day and port class. */
static bool load_days(struct ld *l)
{
	return each_row(l, q3(l, "SELECT day, cls, sum(connections) FROM inv_usage WHERE day BETWEEN $1::bigint AND"
			    " $2::bigint" SENSORS("sensor") " GROUP BY day, cls ORDER BY day"), rows_day);
}

static bool load_certs(struct ld *l, int64_t since_us, int64_t until_us)
{
	char a[24], b[24];
	snprintf(a, sizeof a, "%" PRId64, since_us);
	snprintf(b, sizeof b, "%" PRId64, until_us);
	const char *v[] = { a, b, l->sensors };
	return each_row(l, PQexecParams(l->c,
		"SELECT server, port, sha256, max(subject), max(issuer), max(not_after_us), min(first_us), max(last_us),"
		" max(not_before_us), max(key_type), max(key_bits), max(sig_alg), max(self_signed) FROM cert"
		" WHERE last_us >= $1::bigint AND first_us < $2::bigint" SENSORS("sensor")
		" GROUP BY server, port, sha256 ORDER BY min(first_us), server, port, sha256", 3, NULL, v, NULL, NULL, 0),
		rows_cert);
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
	bool filtered = q->only != NULL;
	/* identity: the clients follow DHCP hosts, also those of a filter (the monitor's "before" carries each
	 * host's row, so that a host seen before on another address is not new) */
	struct ld l = { .c = pg_conn_raw(conn), .sensors = sensors,
			.rows = { .inv = inv, .filtered = filtered, .identity = true } };
	if (filtered && (!(l.wanted = wanted_array(q->only, q->n_only)) ||
			 !(l.hosts = hosts_array(q->only_hosts, q->n_only_hosts)))) {
		free(l.wanted);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	snprintf(l.from, sizeof l.from, "%" PRId64, q->since_us ? store_day(q->since_us) : INT64_MIN);
	snprintf(l.to, sizeof l.to, "%" PRId64, q->until_us ? store_day(q->until_us - 1) : INT64_MAX);
	/* filtered (a checkpoint's clients): the same tables as the SQLite store reads for it */
	bool ok = begin_read(l.c) && load_clients(&l) && load_usage(&l) && (filtered || load_ports(&l)) &&
		  load_names(&l) && load_host_names(&l) && (filtered || load_notes(&l)) && (filtered || load_days(&l)) &&
		  load_certs(&l, q->since_us ? q->since_us : INT64_MIN, q->until_us ? q->until_us : INT64_MAX);
	if (!ok)
		pg_conn_err(conn, "cannot read the inventory", err, errlen);
	end_read(l.c);
	free(l.wanted);
	free(l.hosts);
	return rows_finish(&l.rows, ok);
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
	if (ok)
		store_view_totals(v);
	return ok;
}

/* ---- the folded attempts ---- */

static int hex_nibble(char h)
{
	return h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
}

bool pg_load_attempts(struct pg_conn *conn, const char *sensors, const struct store_query *q, struct attempts *t,
		      char *err, size_t errlen)
{
	char from[24], to[24];
	snprintf(from, sizeof from, "%" PRId64, q->since_us ? store_day(q->since_us) : INT64_MIN);
	snprintf(to, sizeof to, "%" PRId64, q->until_us ? store_day(q->until_us - 1) : INT64_MAX);
	const char *v[] = { from, to, sensors };
	PGconn *c = pg_conn_raw(conn);
	/* every sensor's rows: two sensors that saw the same flood each counted it (docs/shared-store.md) */
	PGresult *r = begin_read(c) ? PQexecParams(c, "SELECT server, port, tcp, connections, first_us, last_us,"
				    " encode(sources, 'hex'), max_attempts FROM attempt_group"
				    " WHERE day BETWEEN $1::bigint AND $2::bigint" SENSORS("sensor"), 3, NULL, v, NULL, NULL, 0)
				    : NULL;
	bool ok = r && PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		pg_conn_err(conn, "cannot read the folded attempts", err, errlen);
	for (int i = 0; ok && i < PQntuples(r); i++) {
		const char *hex = PQgetvalue(r, i, 6);
		unsigned char reg[HLL_M];
		size_t n = strlen(hex) / 2;
		for (size_t k = 0; n == HLL_M && k < n; k++) {
			int hi = hex_nibble(hex[2 * k]), lo = hex_nibble(hex[2 * k + 1]);
			if (hi < 0 || lo < 0)
				n = 0;
			else
				reg[k] = (unsigned char)(hi << 4 | lo);
		}
		ok = n == HLL_M &&
		     store_attempt_row(t, PQgetvalue(r, i, 0), atoi(PQgetvalue(r, i, 1)), atoi(PQgetvalue(r, i, 2)),
				       strtoull(PQgetvalue(r, i, 3), NULL, 10), strtoll(PQgetvalue(r, i, 4), NULL, 10),
				       strtoll(PQgetvalue(r, i, 5), NULL, 10), reg, HLL_M, strtoull(PQgetvalue(r, i, 7), NULL, 10));
		if (!ok)
			snprintf(err, errlen, "PostgreSQL: a folded-attempts row that tlsready does not write");
	}
	PQclear(r);
	end_read(c);
	return ok;
}
