/*
 * report_json.c - the JSON report, exactly per ../shared/docs/report-json.md
 * and the project's schema (docs/schema.md): schema, generator, capture,
 * servers, clients (sorted by address), flows (in order of first packet).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "report.h"
#include "software.h"
#include "report_plan.h"
#include "state_report.h"
#include "hostserver.h"
#include "names.h"
#include "protocol.h"
#include "tls.h"

static void json_names(FILE *f, const struct name_set *s)
{
	json_string_set(f, s);
}

static void json_usage(const struct report_ctx *c, FILE *f, const struct inv_usage *u, bool secure)
{
	char a[ADDR_STRLEN], t[32];
	fputs("{\"server\":", f); json_str(f, addr_str(&u->server, a));
	fputs(",\"service\":", f); json_str(f, u->service);
	fputs(",\"port\":", f); facts_json_uint(f, u->port);
	fputs(",\"connections\":", f); facts_json_uint(f, u->connections);
	fputs(",\"refused\":", f); facts_json_uint(f, u->refused);
	fputs(",\"unanswered\":", f); facts_json_uint(f, u->unanswered);
	fputs(",\"first_seen\":", f); json_str(f, fmt_time(u->first_us, t));
	fputs(",\"last_seen\":", f); json_str(f, fmt_time(u->last_us, t));
	fputs(",\"users\":", f); json_names(f, &u->users);
	fputs(",\"devices\":", f); json_names(f, &u->devices);
	if (secure) {
		fputs(",\"tls_versions\":", f);
		json_versions(f, u->tls_versions);
		fputs(",\"tls_failed\":", f); facts_json_uint(f, u->failed_tls);
	}
	fputs(u->mismatch ? ",\"mismatch\":true}" : ",\"mismatch\":false}", f);
}

/* Who the client is: its addresses, whether the row follows a DHCP host, its host names. */
static void json_identity(FILE *f, const struct inv_client *cl)
{
	char a[ADDR_STRLEN], t[32];
	fputs(",\"addresses\":[", f);
	if (!cl->n_addrs)
		json_str(f, addr_str(&cl->ip, a));
	for (int k = 0; k < cl->n_addrs; k++) {
		fputs(k ? "," : "", f);
		json_str(f, addr_str(&cl->addrs[k], a));
	}
	fputs(cl->addrs_overflow ? "],\"addresses_overflow\":true" : "],\"addresses_overflow\":false", f);
	bool host = client_follows_host(cl);
	fputs(",\"identity\":", f); json_str(f, host ? "dhcp-host" : "address");
	fputs(",\"hardware_address\":", f); json_str(f, host ? inv_client_hw(cl) : NULL);
	fputs(",\"dhcp_client_id\":", f); json_str(f, host && inv_client_id(cl)[0] ? inv_client_id(cl) : NULL);
	/* a DHCPv6 host linked to this DHCPv4 host (names.c): its DUID and the evidence */
	bool linked = host && cl->dhcp->duid[0];
	fputs(",\"dhcpv6_duid\":", f); json_str(f, linked ? cl->dhcp->duid : NULL);
	fprintf(f, ",\"dhcpv6_hosts_linked\":%u,\"link_evidence\":[", linked ? cl->dhcp->duids : 0);
	for (int b = 0; linked && b < 4; b++)
		if (cl->dhcp->link_why & (1u << b)) {
			char w[32];
			fputs(cl->dhcp->link_why & ((1u << b) - 1) ? "," : "", f);
			json_str(f, names_link_str((uint8_t)(1u << b), w, sizeof w));
		}
	fputc(']', f);
	fputs(",\"address_hosts\":", f); facts_json_uint(f, cl->hosts_on_address > 1 ? cl->hosts_on_address : 1);
	const char *src, *best = client_host_name(cl, &src);
	fputs(",\"host_name\":", f);
	if (best) {
		fputs("{\"name\":", f); json_str(f, best);
		fputs(",\"source\":", f); json_str(f, src);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"host_names\":[", f);
	for (int k = 0; k < cl->n_names; k++) {
		const struct inv_host_name *h = &cl->names[k];
		fputs(k ? ",{\"name\":" : "{\"name\":", f); json_str(f, h->name);
		fputs(",\"source\":", f); json_str(f, name_source_name((enum name_source)h->source));
		fputs(",\"address\":", f); json_str(f, addr_str(&h->ip, a));
		fputs(",\"first_seen\":", f); json_str(f, fmt_time(h->first_us, t));
		fputs(",\"last_seen\":", f); json_str(f, fmt_time(h->last_us, t));
		fprintf(f, ",\"count\":%u}", h->count);
	}
	fputs(cl->names_overflow ? "],\"host_names_overflow\":true" : "],\"host_names_overflow\":false", f);
}

/* Users and machines together: for each user, the clients it signed on from (item 4 of issue 17). */
static void json_users(FILE *f, const struct inventory *inv)
{
	struct user_client *v;
	size_t n = user_clients(inv, &v);
	char a[ADDR_STRLEN];
	fputs(",\n\"users\":[", f);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		bool ns = false;
		while (j < n && strcmp(v[j].user, v[i].user) == 0)
			ns |= v[j++].nonsecure;
		fputs(i ? ",\n{\"user\":" : "\n{\"user\":", f); json_str(f, v[i].user);
		fputs(ns ? ",\"nonsecure\":true,\"clients\":[" : ",\"nonsecure\":false,\"clients\":[", f);
		for (size_t k = i; k < j; k++) {
			const char *src, *hn = client_host_name(v[k].client, &src);
			fputs(k > i ? ",{\"ip\":" : "{\"ip\":", f); json_str(f, addr_str(&v[k].client->ip, a));
			fputs(",\"host_name\":", f); json_str(f, hn);
			fputs(",\"hardware_address\":", f);
			json_str(f, client_follows_host(v[k].client) ? inv_client_hw(v[k].client) : NULL);
			fputs(v[k].nonsecure ? ",\"nonsecure\":true}" : ",\"nonsecure\":false}", f);
		}
		fputs("]}", f);
		i = j;
	}
	fputc(']', f);
	free(v);
}

static void json_client(const struct report_ctx *c, FILE *f, const struct inv_client *cl)
{
	char a[ADDR_STRLEN], t[32];
	fputs("{\"ip\":", f); json_str(f, addr_str(&cl->ip, a));
	fputs(",\"status\":", f); json_str(f, client_status_name(cl->status));
	bool tls_use = false;
	for (size_t i = 0; i < cl->n_use; i++)
		tls_use |= cl->use[i].cls == PC_SECURE && cl->use[i].tls;
	fputs(cl->status == CS_NONSECURE && tls_use ? ",\"mixed\":true" : ",\"mixed\":false", f);
	fputs(",\"nonsecure\":[", f);
	int n = 0;
	for (size_t i = 0; i < cl->n_use; i++)
		if (cl->use[i].cls == PC_NONSECURE) {
			fputs(n++ ? "," : "", f);
			json_usage(c, f, &cl->use[i], false);
		}
	fputs("],\"secure\":[", f);
	n = 0;
	for (size_t i = 0; i < cl->n_use; i++)
		if (cl->use[i].cls == PC_SECURE) {
			fputs(n++ ? "," : "", f);
			json_usage(c, f, &cl->use[i], true);
		}
	fputs("],\"mapper_requests\":", f); json_names(f, &cl->mapper_requests);
	fputs(cl->internal ? ",\"internal\":true" : ",\"internal\":false", f);
	fputs(",\"users\":", f); json_names(f, &cl->users);
	fputs(",\"devices\":", f); json_names(f, &cl->devices);
	fputs(",\"software\":", f); json_names(f, &cl->software);
	fputs(",\"software_named\":[", f);
	for (int k = 0; k < cl->software.n; k++) {
		char name[128], ev[128];
		software_describe(cl->software.v[k], name, sizeof name, ev, sizeof ev);
		fputs(k ? ",{\"name\":" : "{\"name\":", f); json_str(f, name);
		fputs(",\"evidence\":", f); json_str(f, ev);
		fputc('}', f);
	}
	fputc(']', f);
	fputs(",\"signon_failures\":", f); facts_json_uint(f, cl->signon_failures);
	fputs(",\"first_seen\":", f); json_str(f, cl->first_us ? fmt_time(cl->first_us, t) : NULL);
	fputs(",\"last_seen\":", f); json_str(f, cl->last_us ? fmt_time(cl->last_us, t) : NULL);
	fputs(",\"first_nonsecure\":", f);
	json_str(f, cl->first_nonsecure_us ? fmt_time(cl->first_nonsecure_us, t) : NULL);
	fputs(",\"last_nonsecure\":", f);
	json_str(f, cl->last_nonsecure_us ? fmt_time(cl->last_nonsecure_us, t) : NULL);
	fputs(",\"findings\":", f);
	json_findings(f, cl->findings);
	fputs(",\"tls_offered\":", f);
	if (cl->offer.tls) {
		fputs("{\"max_version\":", f);
		json_str(f, tls_version_name(cl->offer.max_version));
		fprintf(f, ",\"only_legacy_ciphers\":%s,\"negotiated_rc4_or_3des\":%s}",
			cl->offer.only_legacy_ciphers ? "true" : "false", cl->offer.negotiated_legacy ? "true" : "false");
	} else {
		fputs("null", f);
	}
	fprintf(f, ",\"would_break\":{\"min_tls12\":%s,\"tls13_only\":%s,\"no_rc4_3des\":%s,\"tls_only\":%s}",
		breaks_if_min_tls12(&cl->offer) ? "true" : "false", breaks_if_tls13_only(&cl->offer) ? "true" : "false",
		breaks_if_rc4_3des_removed(&cl->offer) ? "true" : "false", cl->status == CS_NONSECURE ? "true" : "false");
	json_identity(f, cl);
	fputc('}', f);
}

static void json_server(FILE *f, const struct inv_server *s)
{
	char a[ADDR_STRLEN], v[32];
	fputs("{\"ip\":", f); json_str(f, addr_str(&s->ip, a));
	fputs(",\"release\":", f);
	json_str(f, hs_vrm_string(s->release_vrm, v, sizeof v) ? v : NULL);
	fprintf(f, ",\"clients\":%" PRIu64 ",\"ports\":[", s->clients);
	for (size_t i = 0; i < s->n_ports; i++) {
		const struct inv_port *p = &s->ports[i];
		fprintf(f, "%s{\"port\":%u,\"service\":", i ? "," : "", p->port);
		json_str(f, p->service);
		fputs(",\"port_class\":", f); json_str(f, port_class_name(p->cls));
		fprintf(f, ",\"connections\":%" PRIu64 ",\"tls_versions\":", p->connections);
		json_versions(f, p->tls_versions);
		fputs(",\"ciphers\":[", f);
		for (int k = 0; k < p->ciphers.n; k++) {
			fputs(k ? "," : "", f);
			json_str(f, p->ciphers.v[k]);
		}
		fputs("],\"findings\":", f);
		json_findings(f, p->findings);
		fputc('}', f);
	}
	fputs("]}", f);
}

static void json_inv_cert(FILE *f, const struct inv_cert *x, int64_t end_us)
{
	char a[ADDR_STRLEN], t[32];
	fputs("{\"server\":", f); json_str(f, addr_str(&x->server, a));
	fprintf(f, ",\"port\":%u,\"subject\":", x->port); json_str(f, x->subject);
	fputs(",\"issuer\":", f); json_str(f, x->issuer);
	fputs(",\"not_before\":", f); json_str(f, fmt_time(x->not_before * 1000000, t));
	fputs(",\"not_after\":", f); json_str(f, fmt_time(x->not_after * 1000000, t));
	fprintf(f, ",\"days_left\":%ld", (long)((x->not_after - end_us / 1000000) / 86400));
	fputs(",\"key_type\":", f); json_str(f, x->key_type);
	fprintf(f, ",\"key_bits\":%d,\"signature_algorithm\":", x->key_bits); json_str(f, x->sig_alg);
	fputs(",\"sha256\":", f); json_str(f, x->sha256);
	fputs(x->self_signed ? ",\"self_signed\":true" : ",\"self_signed\":false", f);
	fputs(",\"first_seen\":", f); json_str(f, fmt_time(x->first_us, t));
	fputs(",\"last_seen\":", f); json_str(f, fmt_time(x->last_us, t));
	fputs(",\"findings\":", f); json_findings(f, inventory_cert_findings(x, end_us));
	fputc('}', f);
}

void report_json(const struct report_ctx *c)
{
	FILE *f = c->out;
	fputs("{\"schema\":\"tlsready/1\",\"generator\":{\"name\":\"tlsready\",\"version\":\"" TLSREADY_VERSION "\"}", f);
	struct plan local;
	bool own;
	const struct plan *plan = report_plan(c, &local, &own);
	if (c->plan_only) {   /* --plan: the plan alone */
		if (plan)
			plan_json(c, plan);
		fputs("}\n", f);
		if (own)
			plan_free(&local);
		return;
	}
	fputs(",\n\"capture\":", f);
	json_capture(c, f);
	fprintf(f, ",\n\"summary\":{\"clients\":%zu,\"nonsecure_clients\":%" PRIu64 ",\"secure_clients\":%" PRIu64
		",\"unknown_clients\":%" PRIu64 ",\"internal_clients\":%" PRIu64 ",\"flows\":%zu"
		",\"attempt_only_clients\":%" PRIu64 "}",
		c->inv->n_clients, c->inv->nonsecure_clients, c->inv->secure_clients, c->inv->unknown_clients,
		c->inv->internal_clients, (size_t)c->inv->flows, c->inv->attempt_clients);
	attempts_json(c);
	if (c->redact)
		fprintf(f, ",\n\"redaction\":{\"key\":\"%s\"}", redact_source_name((enum redact_source)c->redact_source));
	if (c->state)
		state_json(c);
	if (plan)
		plan_json(c, plan);
	if (own)
		plan_free(&local);
	fputs(",\n\"servers\":[", f);
	for (size_t i = 0; i < c->inv->n_servers; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_server(f, &c->inv->servers[i]);
	}
	fputs("],\n\"certificates\":[", f);
	for (size_t i = 0; i < c->inv->n_certs; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_inv_cert(f, &c->inv->certs[i], c->a->last_us);
	}
	fputs("],\n\"clients\":[", f);
	for (size_t i = 0; i < c->inv->n_clients; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_client(c, f, &c->inv->clients[i]);
	}
	fputc(']', f);
	json_users(f, c->inv);
	fputs(",\n\"flows\":[", f);
	struct record_iter it;
	const struct flow_record *r;
	size_t i;
	if (analysis_iter_start(c->a, &it))
		while ((r = analysis_iter_next(&it, &i))) {
			fputs(i ? ",\n" : "\n", f);
			json_flow(c, f, r, i);
		}
	analysis_iter_end(&it);
	fputs("]}\n", f);
}

void report_ndjson(const struct report_ctx *c)
{
	FILE *f = c->out;
	struct record_iter it;
	const struct flow_record *r;
	size_t i;
	if (analysis_iter_start(c->a, &it))
		while ((r = analysis_iter_next(&it, &i))) {
			fputs("{\"type\":\"flow\",\"flow\":", f);
			json_flow(c, f, r, i);
			fputs("}\n", f);
		}
	analysis_iter_end(&it);
	fputs("{\"type\":\"capture\",\"capture\":", f);
	json_capture(c, f);
	fputs("}\n", f);
}
