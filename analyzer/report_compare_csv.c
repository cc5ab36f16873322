/*
 * report_compare_csv.c - a comparison of two periods (compare.h) for
 * spreadsheets: one row per item with its `kind` (cmp_kind_name), then a
 * `period` row per bound and a `total` row per total (`name`, `value`).
 * Columns: docs/schema.md ("Comparing two periods").
 *
 * In: the comparison; names through report_name() (redaction).  Out: on
 * c->out.  Quoting is report_csv.c's: RFC 4180, and a cell a spreadsheet
 * would take for a formula (=, +, -, @, tab, carriage return first) is
 * quoted with a leading apostrophe (csv_cell, report_common.c, as report_csv.c).
 */
#include <inttypes.h>
#include <string.h>

#include "report_compare.h"
#include "tls.h"

static void csv_names(const struct report_ctx *c, FILE *f, const struct name_set *s)
{
	char joined[INV_MAX_NAMES * 40] = "", b[40];
	size_t o = 0;
	for (int i = 0; s && i < s->n && o < sizeof joined; i++)
		o += (size_t)snprintf(joined + o, sizeof joined - o, "%s%s", i ? " " : "",
				      report_name(c, s->v[i], b, sizeof b));
	csv_cell(f, joined);
}

static void count(FILE *f, bool have, uint64_t n)
{
	if (have)
		fprintf(f, "%" PRIu64, n);
	fputc(',', f);
}

static void time_cell(FILE *f, int64_t us, bool have)
{
	char t[32];
	if (have)
		fputs(fmt_time(us, t), f);
	fputc(',', f);
}

/* kind,client,internal,before_status,after_status,server,service,port,secure_port,connections_before,
 * connections_after,clients_before,clients_after,first_seen,last_seen,users,devices,tls_versions,name,value */
static void item(const struct report_ctx *c, FILE *f, const struct cmp_item *it)
{
	char a[ADDR_STRLEN];
	bool service_row = it->kind == CMP_BECAME_CLEAN || it->kind == CMP_BECAME_DIRTY;
	bool use_row = !service_row && it->kind != CMP_DISAPPEARED;
	const struct inv_client *cl = it->ca ? it->ca : it->cb;
	const struct inv_usage *nb = it->before, *na = it->after, *names_of = NULL;
	fprintf(f, "%s,", cmp_kind_name(it->kind));
	if (!service_row)
		fprintf(f, "%s,%s,%s,%s,", addr_str(&cl->ip, a), it->internal ? "yes" : "no", cmp_status_name(it->cb),
			cmp_status_name(it->ca));
	else
		fputs(",,,,", f);
	if (it->kind != CMP_DISAPPEARED) {
		fprintf(f, "%s,", addr_str(&it->server, a));
		csv_cell(f, it->service);
		fprintf(f, ",%u,", it->port);
	} else {
		fputs(",,,", f);
	}
	count(f, it->kind == CMP_MOVED_TO_TLS, na ? na->port : 0);
	count(f, use_row && nb, nb ? nb->connections : 0);
	/* after: the nonsecure connections, or for a move the TLS connections */
	count(f, use_row && na, na ? (it->kind == CMP_MOVED_TO_TLS ? na->tls : na->connections) : 0);
	count(f, service_row, it->clients_before);
	count(f, service_row, it->clients_after);
	bool span = use_row || (it->kind == CMP_DISAPPEARED && it->cb->n_use);
	time_cell(f, it->first_us, span);
	time_cell(f, it->last_us, span);
	if (it->kind == CMP_NEW_NONSECURE || it->kind == CMP_STILL_NONSECURE)
		names_of = na;
	else if (use_row)
		names_of = nb;
	if (it->kind == CMP_DISAPPEARED) {
		csv_names(c, f, &it->cb->users);
		fputc(',', f);
		csv_names(c, f, &it->cb->devices);
	} else if (names_of) {
		csv_names(c, f, &names_of->users);
		fputc(',', f);
		csv_names(c, f, &names_of->devices);
	} else {
		fputc(',', f);
	}
	fputc(',', f);
	if (it->kind == CMP_MOVED_TO_TLS) {
		uint16_t v[8];
		int n = inv_versions(na->tls_versions, v, 8);
		for (int k = 0; k < n; k++)
			fprintf(f, "%s%s", k ? " " : "", tls_version_name(v[k]));
	}
	fputs(",,\n", f);
}

/* A name/value row: 18 empty cells, then name and value. */
static void pair(FILE *f, const char *kind, const char *name, const char *value)
{
	fprintf(f, "%s,,,,,,,,,,,,,,,,,,%s,%s\n", kind, name, value);
}

static void total(FILE *f, const char *prefix, const char *name, uint64_t n)
{
	char full[64], v[24];
	size_t o = (size_t)snprintf(full, sizeof full, "%s", prefix);
	/* "new-nonsecure" -> new_nonsecure, the JSON name */
	for (const char *s = name; *s && o + 1 < sizeof full; s++)
		full[o++] = *s == '-' ? '_' : *s;
	full[o] = '\0';
	snprintf(v, sizeof v, "%" PRIu64, n);
	pair(f, "total", full, v);
}

static void side(FILE *f, const char *prefix, const struct cmp_side_totals *t)
{
	total(f, prefix, "clients", t->clients);
	total(f, prefix, "nonsecure_clients", t->nonsecure_clients);
	total(f, prefix, "nonsecure_uses", t->nonsecure_uses);
	total(f, prefix, "dirty_services", t->dirty_services);
	total(f, prefix, "internal_clients", t->internal_clients);
}

static void bound(FILE *f, const char *name, int64_t us)
{
	char t[32];
	pair(f, "period", name, us == CMP_OPEN ? "" : fmt_time(us, t));
}

void report_compare_csv(const struct report_ctx *c, const struct comparison *cmp)
{
	FILE *f = c->out;
	fputs("kind,client,internal,before_status,after_status,server,service,port,secure_port,connections_before,"
	      "connections_after,clients_before,clients_after,first_seen,last_seen,users,devices,tls_versions,name,value\n",
	      f);
	for (int k = 0; k < CMP_KINDS; k++)
		for (size_t i = 0; i < cmp->list[k].n; i++)
			item(c, f, &cmp->list[k].v[i]);
	bound(f, "before.since", cmp->before_period.since_us);
	bound(f, "before.until", cmp->before_period.until_us);
	bound(f, "after.since", cmp->after_period.since_us);
	bound(f, "after.until", cmp->after_period.until_us);
	for (int k = 0; k < CMP_KINDS; k++)
		total(f, "", cmp_kind_name((enum cmp_kind)k), cmp->list[k].n);
	total(f, "", "disappeared_nonsecure", cmp->disappeared_nonsecure);
	for (int k = 0; k < CMP_KINDS; k++)
		total(f, "internal.", cmp_kind_name((enum cmp_kind)k), cmp->internal[k]);
	side(f, "before.", &cmp->before);
	side(f, "after.", &cmp->after);
}
