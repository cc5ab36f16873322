/*
 * report_compare_json.c - a comparison of two periods (compare.h) as JSON,
 * schema `tlsready-compare/1`, documented in docs/schema.md ("Comparing two
 * periods").
 *
 * In: the comparison; names through report_name() (redaction).  Out: one
 * document on c->out, or the "comparison" object alone (json_comparison) for
 * a document that embeds it.  Every string goes through json_str (escaped
 * for JSON, bytes outside printable ASCII as \u00XX); times are RFC 3339 UTC
 * (fmt_time), an open period bound is null; arrays keep the comparison's order.
 */
#include <inttypes.h>

#include "redact.h"
#include "report_compare.h"
#include "tls.h"

static void names(const struct report_ctx *c, FILE *f, const struct name_set *s)
{
	char b[40];
	fputc('[', f);
	for (int i = 0; i < s->n; i++) {
		fputs(i ? "," : "", f);
		json_str(f, report_name(c, s->v[i], b, sizeof b));
	}
	fputc(']', f);
}

static void time_or_null(FILE *f, int64_t us, bool known)
{
	char t[32];
	json_str(f, known ? fmt_time(us, t) : NULL);
}

static void period(FILE *f, const struct cmp_period *p)
{
	fputs("{\"since\":", f);
	time_or_null(f, p->since_us, p->since_us != CMP_OPEN);
	fputs(",\"until\":", f);
	time_or_null(f, p->until_us, p->until_us != CMP_OPEN);
	fputc('}', f);
}

/* "client", "internal", and the key of a per-use item */
static void client_and_key(FILE *f, const struct cmp_item *it)
{
	char a[ADDR_STRLEN];
	const struct inv_client *cl = it->ca ? it->ca : it->cb;
	fputs("{\"client\":", f);
	json_str(f, addr_str(&cl->ip, a));
	fprintf(f, ",\"internal\":%s,\"server\":", it->internal ? "true" : "false");
	json_str(f, addr_str(&it->server, a));
	fputs(",\"service\":", f);
	json_str(f, it->service && *it->service ? it->service : NULL);
	fprintf(f, ",\"port\":%u", it->port);
}

static void span(FILE *f, const struct cmp_item *it, bool known)
{
	fputs(",\"first_seen\":", f);
	time_or_null(f, it->first_us, known);
	fputs(",\"last_seen\":", f);
	time_or_null(f, it->last_us, known);
}

static void item(const struct report_ctx *c, FILE *f, const struct cmp_item *it)
{
	char a[ADDR_STRLEN];
	const struct inv_usage *nb = it->before, *na = it->after;
	switch (it->kind) {
	case CMP_NEW_NONSECURE:
		client_and_key(f, it);
		fprintf(f, ",\"client_new\":%s,\"before_status\":", it->cb ? "false" : "true");
		json_str(f, it->cb ? cmp_status_name(it->cb) : NULL);
		fprintf(f, ",\"connections\":%" PRIu64, na->connections);
		span(f, it, true);
		fputs(",\"users\":", f); names(c, f, &na->users);
		fputs(",\"devices\":", f); names(c, f, &na->devices);
		break;
	case CMP_MOVED_TO_TLS:
		client_and_key(f, it);
		fprintf(f, ",\"secure_port\":%u,\"secure_service\":", na->port);
		json_str(f, na->service && *na->service ? na->service : NULL);
		fprintf(f, ",\"connections_before\":%" PRIu64 ",\"tls_connections\":%" PRIu64 ",\"tls_versions\":",
			nb->connections, na->tls);
		json_versions(f, na->tls_versions);
		span(f, it, true);
		fputs(",\"first_tls\":", f);
		time_or_null(f, na->first_us, true);
		fputs(",\"after_status\":", f); json_str(f, cmp_status_name(it->ca));
		fputs(",\"users\":", f); names(c, f, &nb->users);
		fputs(",\"devices\":", f); names(c, f, &nb->devices);
		break;
	case CMP_STILL_NONSECURE:
		client_and_key(f, it);
		fprintf(f, ",\"connections_before\":%" PRIu64 ",\"connections_after\":%" PRIu64, nb->connections,
			na->connections);
		span(f, it, true);
		fputs(",\"users\":", f); names(c, f, &na->users);
		fputs(",\"devices\":", f); names(c, f, &na->devices);
		break;
	case CMP_STOPPED:
		client_and_key(f, it);
		fputs(",\"after_status\":", f); json_str(f, cmp_status_name(it->ca));
		fprintf(f, ",\"connections_before\":%" PRIu64, nb->connections);
		span(f, it, true);
		fputs(",\"users\":", f); names(c, f, &nb->users);
		fputs(",\"devices\":", f); names(c, f, &nb->devices);
		break;
	case CMP_DISAPPEARED:
		fputs("{\"client\":", f);
		json_str(f, addr_str(&it->cb->ip, a));
		fprintf(f, ",\"internal\":%s,\"before_status\":", it->internal ? "true" : "false");
		json_str(f, cmp_status_name(it->cb));
		fprintf(f, ",\"was_nonsecure\":%s,\"nonsecure_uses\":%" PRIu64,
			it->cb->status == CS_NONSECURE ? "true" : "false", it->nonsecure_uses);
		span(f, it, it->cb->n_use > 0);
		fputs(",\"users\":", f); names(c, f, &it->cb->users);
		fputs(",\"devices\":", f); names(c, f, &it->cb->devices);
		break;
	case CMP_BECAME_CLEAN:
	case CMP_BECAME_DIRTY:
		fputs("{\"server\":", f);
		json_str(f, addr_str(&it->server, a));
		fputs(",\"service\":", f);
		json_str(f, it->service && *it->service ? it->service : NULL);
		fprintf(f, ",\"port\":%u,\"clients_before\":%" PRIu64 ",\"clients_after\":%" PRIu64, it->port,
			it->clients_before, it->clients_after);
		break;
	default:
		fputc('{', f);
		break;
	}
	fputc('}', f);
}

/* "new-nonsecure" -> new_nonsecure */
static void key(FILE *f, enum cmp_kind k)
{
	fputc('"', f);
	for (const char *s = cmp_kind_name(k); *s; s++)
		fputc(*s == '-' ? '_' : *s, f);
	fputs("\":", f);
}

static void side(FILE *f, const struct cmp_side_totals *t)
{
	fprintf(f, "{\"clients\":%" PRIu64 ",\"nonsecure_clients\":%" PRIu64 ",\"nonsecure_uses\":%" PRIu64
		",\"dirty_services\":%" PRIu64 ",\"internal_clients\":%" PRIu64 "}",
		t->clients, t->nonsecure_clients, t->nonsecure_uses, t->dirty_services, t->internal_clients);
}

void json_comparison(const struct report_ctx *c, FILE *f, const struct comparison *cmp)
{
	fputs("{\"periods\":{\"before\":", f);
	period(f, &cmp->before_period);
	fputs(",\"after\":", f);
	period(f, &cmp->after_period);
	fputc('}', f);
	for (int k = 0; k < CMP_KINDS; k++) {
		fputs(",\n", f);
		key(f, (enum cmp_kind)k);
		fputc('[', f);
		for (size_t i = 0; i < cmp->list[k].n; i++) {
			fputs(i ? ",\n" : "\n", f);
			item(c, f, &cmp->list[k].v[i]);
		}
		fputc(']', f);
	}
	fputs(",\n\"totals\":{", f);
	for (int k = 0; k < CMP_KINDS; k++) {
		fputs(k ? "," : "", f);
		key(f, (enum cmp_kind)k);
		fprintf(f, "%zu", cmp->list[k].n);
	}
	fprintf(f, ",\"disappeared_nonsecure\":%" PRIu64 ",\"internal\":{", cmp->disappeared_nonsecure);
	for (int k = 0; k < CMP_KINDS; k++) {
		fputs(k ? "," : "", f);
		key(f, (enum cmp_kind)k);
		fprintf(f, "%" PRIu64, cmp->internal[k]);
	}
	fputs("},\"before\":", f);
	side(f, &cmp->before);
	fputs(",\"after\":", f);
	side(f, &cmp->after);
	fputs("}}", f);
}

void report_compare_json(const struct report_ctx *c, const struct comparison *cmp)
{
	FILE *f = c->out;
	fputs("{\"schema\":\"tlsready-compare/1\",\"generator\":{\"name\":\"tlsready\",\"version\":\"" TLSREADY_VERSION
	      "\"}", f);
	if (c->redact)
		fprintf(f, ",\n\"redaction\":{\"key\":\"%s\"}", redact_source_name((enum redact_source)c->redact_source));
	fputs(",\n\"comparison\":", f);
	json_comparison(c, f, cmp);
	fputs("}\n", f);
}
