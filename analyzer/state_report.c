/*
 * state_report.c - the state section of a stored report (see
 * state_report.h), in text, JSON and CSV.
 */
#include "state_report.h"

#include <inttypes.h>
#include <string.h>

#define DAY_US ((int64_t)86400 * 1000000)
#define HOUR_US ((int64_t)3600 * 1000000)

bool state_client_is_new(const struct report_state *s, const struct inv_client *c)
{
	int64_t first = c->first_nonsecure_ever_us ? c->first_nonsecure_ever_us : c->first_nonsecure_us;
	return c->status == CS_NONSECURE && first && first >= s->new_since_us;
}

static double coverage(const struct sv_health *h)
{
	uint64_t missed = h->dropped_kernel + h->dropped_interface + h->not_analysed;
	return h->packets + missed ? (double)h->packets / (double)(h->packets + missed) : 1.0;
}

static void short_time(int64_t us, char *buf)
{
	char t[32];
	if (!us) {
		snprintf(buf, 20, "-");
		return;
	}
	fmt_time(us, t);
	snprintf(buf, 20, "%.10s %.8s", t, t + 11);
}

/* ---- text ---- */

static void text_health(FILE *f, const char *label, const struct sv_health *h)
{
	fprintf(f, "  %s: %" PRIu64 " intervals, %" PRIu64 " packets analysed; libpcap received %" PRIu64
		", dropped by the kernel %" PRIu64 ", by the interface %" PRIu64 ", not analysed at stop %" PRIu64
		"; coverage %.3f%%\n", label, h->intervals, h->packets, h->received, h->dropped_kernel,
		h->dropped_interface, h->not_analysed, 100.0 * coverage(h));
}

static void text_new(const struct report_ctx *c)
{
	FILE *f = c->out;
	char t[24], a[ADDR_STRLEN];
	int n = 0;
	for (size_t i = 0; i < c->inv->n_clients; i++) {
		const struct inv_client *cl = &c->inv->clients[i];
		if (!state_client_is_new(c->state, cl))
			continue;
		short_time(cl->first_nonsecure_us, t);
		fprintf(f, "  %-22s first nonsecure use %s UTC; services", addr_str(&cl->ip, a), t);
		for (size_t j = 0; j < cl->n_use; j++)
			if (cl->use[j].cls == PC_NONSECURE)
				fprintf(f, " %s/%u", cl->use[j].service ? cl->use[j].service : "-", cl->use[j].port);
		for (int k = 0; k < cl->mapper_requests.n; k++)
			fprintf(f, " (asked the port mapper for %s)", cl->mapper_requests.v[k]);
		fputc('\n', f);
		n++;
	}
	if (!n)
		fprintf(f, "  (none)\n");
}

static void text_last_use(const struct report_ctx *c)
{
	FILE *f = c->out;
	char t1[24], t2[24], a[ADDR_STRLEN];
	int n = 0;
	for (size_t i = 0; i < c->inv->n_clients; i++) {
		const struct inv_client *cl = &c->inv->clients[i];
		if (cl->status != CS_NONSECURE)
			continue;
		if (!n++)
			fprintf(f, "  %-22s %-19s %-19s %s\n", "CLIENT", "FIRST NONSECURE", "LAST NONSECURE", "CLEAN FOR");
		short_time(cl->first_nonsecure_us, t1);
		short_time(cl->last_nonsecure_us, t2);
		int64_t clean = c->state->now_us - cl->last_nonsecure_us;
		if (cl->in_progress)
			fprintf(f, "  %-22s %-19s %-19s %s\n", addr_str(&cl->ip, a), t1, t2, "in use now");
		else
			fprintf(f, "  %-22s %-19s %-19s %" PRId64 " days %02" PRId64 "h\n", addr_str(&cl->ip, a), t1, t2,
				clean / DAY_US, clean % DAY_US / HOUR_US);
	}
	if (!n)
		fprintf(f, "  (none)\n");
}

void state_text(const struct report_ctx *c)
{
	const struct report_state *s = c->state;
	const struct store_view *v = s->v;
	FILE *f = c->out;
	char t1[24], t2[24], t3[24];
	short_time(v->first_start_us, t1);
	short_time(v->last_checkpoint_us, t2);
	fprintf(f, "State: %s; interface %s; monitoring since %s UTC; last checkpoint %s UTC (%s)\n", s->db,
		v->iface[0] ? v->iface : "-", t1, t2, v->running ? "running" : "stopped");
	fprintf(f, "Runs:  %" PRIu64 ", %" PRIu64 " of them ended without a clean stop (each lost at most one interval);"
		" %" PRIu64 " capture files imported\n", v->runs, v->unclean_stops, v->imports);
	short_time(s->now_us, t3);
	short_time(s->new_since_us, t1);
	fprintf(f, "Now:   %s UTC; \"new\" means since %s UTC (%" PRId64 " s)\n", t3, t1, s->new_len_us / 1000000);
	short_time(s->since_us, t1);
	short_time(s->until_us, t2);
	fprintf(f, "Days:  %s to %s (whole UTC days; - is unbounded)\n", s->since_us ? t1 : "-", s->until_us ? t2 : "-");
	uint64_t fresh = 0;
	for (size_t i = 0; i < c->inv->n_clients; i++)
		fresh += state_client_is_new(s, &c->inv->clients[i]);
	short_time(v->oldest_flow_us, t2);
	fprintf(f, "Kept:  %" PRIu64 " new nonsecure clients; %" PRIu64 " flow records kept (oldest %s)\n", fresh,
		v->flows_stored, t2);

	text_section(f, "Capture health");
	text_health(f, "since the time asked for", &v->window);
	text_health(f, "everything monitored", &v->total);
	uint64_t missed = v->window.dropped_kernel + v->window.dropped_interface;
	if (missed)
		fprintf(f, "  WARNING: the capture missed %" PRIu64 " packets in %" PRIu64 " intervals since then: clients may be"
			   " missing. Raise -B, narrow the BPF expression, or give the monitor a CPU.\n",
			missed, v->window.intervals_with_drops);
	else if (v->total.dropped_kernel + v->total.dropped_interface)
		fprintf(f, "  WARNING: the capture missed %" PRIu64 " packets before then.\n",
			v->total.dropped_kernel + v->total.dropped_interface);
	if (v->total.not_analysed)
		fprintf(f, "  WARNING: %" PRIu64 " packets libpcap had received were not analysed when a run stopped (%" PRIu64
			" since then): a backlog the stop could not drain; clients may be missing.\n",
			v->total.not_analysed, v->window.not_analysed);
	text_section(f, "New nonsecure clients");
	text_new(c);
	text_section(f, "Last nonsecure use per client (\"clean for\" is the time since)");
	text_last_use(c);
}

/* ---- json ---- */

static void json_time(FILE *f, int64_t us)
{
	char t[32];
	json_str(f, us ? fmt_time(us, t) : NULL);
}

static void json_health(FILE *f, const struct sv_health *h)
{
	fprintf(f, "{\"intervals\":%" PRIu64 ",\"intervals_with_drops\":%" PRIu64 ",\"packets\":%" PRIu64
		",\"received\":%" PRIu64 ",\"dropped_kernel\":%" PRIu64 ",\"dropped_interface\":%" PRIu64
		",\"not_analysed_at_stop\":%" PRIu64 ",\"coverage\":%.6f,\"dropped\":%s}", h->intervals,
		h->intervals_with_drops, h->packets, h->received, h->dropped_kernel, h->dropped_interface, h->not_analysed,
		coverage(h), h->dropped_kernel + h->dropped_interface ? "true" : "false");
}

void state_json(const struct report_ctx *c)
{
	const struct report_state *s = c->state;
	const struct store_view *v = s->v;
	FILE *f = c->out;
	char a[ADDR_STRLEN];
	fputs(",\n\"state\":{\"file\":", f); json_str(f, s->db);
	fprintf(f, ",\"schema_version\":%d,\"created\":", STORE_SCHEMA_VERSION); json_time(f, v->created_us);
	fputs(",\"interface\":", f); json_str(f, v->iface[0] ? v->iface : NULL);
	fputs(",\"first_start\":", f); json_time(f, v->first_start_us);
	fputs(",\"last_checkpoint\":", f); json_time(f, v->last_checkpoint_us);
	fprintf(f, ",\"running\":%s,\"runs\":%" PRIu64 ",\"unclean_stops\":%" PRIu64 ",\"checkpoints\":%" PRIu64
		",\"imports\":%" PRIu64 ",\"flows_stored\":%" PRIu64 ",\"oldest_flow\":", v->running ? "true" : "false",
		v->runs, v->unclean_stops, v->checkpoints, v->imports, v->flows_stored);
	json_time(f, v->oldest_flow_us);
	fputs(",\"now\":", f); json_time(f, s->now_us);
	fputs(",\"since\":", f); json_time(f, s->since_us);
	fputs(",\"until\":", f); json_time(f, s->until_us);
	fputs(",\"new_since\":", f); json_time(f, s->new_since_us);
	fputs(",\n\"capture_health\":{\"since\":", f); json_health(f, &v->window);
	fputs(",\"total\":", f); json_health(f, &v->total);
	fputs("},\n\"counters\":{", f);   /* the store's own: checkpoints, libpcap's, unclean stops */
	int n = 0;
	for (size_t i = 0; i < v->n_counters; i++) {
		const char *name = v->counters[i].name;
		if (strcmp(name, "checkpoints") && strncmp(name, "pcap_", 5) && strcmp(name, "unclean_stops") &&
		    strcmp(name, "intervals_with_drops"))
			continue;
		fputs(n++ ? "," : "", f);
		json_str(f, name);
		fprintf(f, ":%" PRIu64, v->counters[i].value);
	}
	fputs("},\n\"new_nonsecure_clients\":[", f);
	n = 0;
	for (size_t i = 0; i < c->inv->n_clients; i++)
		if (state_client_is_new(s, &c->inv->clients[i])) {
			fputs(n++ ? "," : "", f);
			json_str(f, addr_str(&c->inv->clients[i].ip, a));
		}
	fputs("],\n\"last_nonsecure\":[", f);
	n = 0;
	for (size_t i = 0; i < c->inv->n_clients; i++) {
		const struct inv_client *cl = &c->inv->clients[i];
		if (cl->status != CS_NONSECURE)
			continue;
		fputs(n++ ? ",\n" : "\n", f);
		fputs("{\"ip\":", f); json_str(f, addr_str(&cl->ip, a));
		fputs(",\"first_nonsecure\":", f); json_time(f, cl->first_nonsecure_us);
		fputs(",\"last_nonsecure\":", f); json_time(f, cl->last_nonsecure_us);
		fprintf(f, ",\"in_progress\":%s,\"clean_for_seconds\":", cl->in_progress ? "true" : "false");
		if (cl->in_progress || !cl->last_nonsecure_us)
			fputs("null", f);
		else
			fprintf(f, "%" PRId64, (s->now_us - cl->last_nonsecure_us) / 1000000);
		fputc('}', f);
	}
	fputs("]}", f);
}

/* ---- csv ---- */

void state_csv(const struct report_ctx *c)
{
	const struct report_state *s = c->state;
	const struct store_view *v = s->v;
	FILE *f = c->out;
	char a[ADDR_STRLEN], t1[32], t2[32];
	/* the same 16 columns: type, client, then the rest where they fit */
	fprintf(f, "state,,,,,runs,,,%" PRIu64 ",,,,,,,,,,,\n", v->runs);
	fprintf(f, "state,,,,,unclean_stops,,,%" PRIu64 ",,,,,,,,,,,\n", v->unclean_stops);
	fprintf(f, "state,,,,,checkpoints,,,%" PRIu64 ",,,,,,,,,,,\n", v->checkpoints);
	fprintf(f, "state,,,,,imports,,,%" PRIu64 ",,,,,,,,,,,\n", v->imports);
	fprintf(f, "state,,,,,flows_stored,,,%" PRIu64 ",,,,,,,,,,,\n", v->flows_stored);
	fprintf(f, "state,,,,,coverage_since,,,%.6f,,,,,,,,,,,\n", coverage(&v->window));
	fprintf(f, "state,,,,,coverage_total,,,%.6f,,,,,,,,,,,\n", coverage(&v->total));
	for (size_t i = 0; i < c->inv->n_clients; i++) {
		const struct inv_client *cl = &c->inv->clients[i];
		if (cl->status != CS_NONSECURE)
			continue;
		fprintf(f, "last_nonsecure,%s,%s,%s,,,,,,,,%s,%s,,,,,,,\n", addr_str(&cl->ip, a), cl->internal ? "yes" : "no",
			state_client_is_new(s, cl) ? "new" : cl->in_progress ? "in-progress" : "nonsecure",
			cl->first_nonsecure_us ? fmt_time(cl->first_nonsecure_us, t1) : "",
			cl->last_nonsecure_us ? fmt_time(cl->last_nonsecure_us, t2) : "");
	}
}
