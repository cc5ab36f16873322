/*
 * report_csv.c - one row per client x server x service x port class, for
 * spreadsheets; then one "counter" row per counter so that nothing that was
 * not decoded, evicted or truncated is hidden.  RFC 4180 quoting.
 */
#include <inttypes.h>
#include <string.h>

#include "report.h"
#include "tls.h"

static void csv_field(FILE *f, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_names(const struct report_ctx *c, FILE *f, const struct name_set *s)
{
	char joined[INV_MAX_NAMES * 40] = "", b[40];
	size_t o = 0;
	for (int i = 0; i < s->n && o < sizeof joined; i++)
		o += (size_t)snprintf(joined + o, sizeof joined - o, "%s%s", i ? " " : "",
				      report_name(c, s->v[i], b, sizeof b));
	csv_field(f, joined);
}

void report_csv(const struct report_ctx *c)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN], t[32];
	fputs("type,client,internal,status,server,service,port,port_class,connections,refused,unanswered,"
	      "first_seen,last_seen,users,devices,tls_versions\n", f);
	for (size_t i = 0; i < c->inv->n_clients; i++) {
		const struct inv_client *cl = &c->inv->clients[i];
		for (size_t j = 0; j < cl->n_use; j++) {
			const struct inv_usage *u = &cl->use[j];
			fprintf(f, "usage,%s,%s,%s,", addr_str(&cl->ip, a), cl->internal ? "yes" : "no",
				client_status_name(cl->status));
			fprintf(f, "%s,", addr_str(&u->server, a));
			csv_field(f, u->service);
			fprintf(f, ",%u,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", u->port, port_class_name(u->cls),
				u->connections, u->refused, u->unanswered);
			fprintf(f, "%s,", fmt_time(u->first_us, t));
			fprintf(f, "%s,", fmt_time(u->last_us, t));
			csv_names(c, f, &u->users);
			fputc(',', f);
			csv_names(c, f, &u->devices);
			fputc(',', f);
			uint16_t v[8];
			int n = inv_versions(u->tls_versions, v, 8);
			for (int k = 0; k < n; k++)
				fprintf(f, "%s%s", k ? " " : "", tls_version_name(v[k]));
			fputc('\n', f);
		}
		if (cl->n_use == 0) {   /* a client seen only at the port mapper */
			fprintf(f, "usage,%s,%s,%s,,,,,0,0,0,,,", addr_str(&cl->ip, a), cl->internal ? "yes" : "no",
				client_status_name(cl->status));
			csv_names(c, f, &cl->users);
			fputs(",,\n", f);
		}
	}
	const struct engine_counters *k = &c->e->cnt;
#define CNT(name, v) fprintf(f, "counter,,,,,%s,,,%" PRIu64 ",,,,,,,\n", name, (uint64_t)(v))
	CNT("packets", k->packets);
	CNT("tcp_packets", k->tcp);
	CNT("filtered", k->filtered);
	for (int i = 1; i < DEC_NREASONS; i++)
		CNT(decode_reason_name((enum decode_result)i), k->not_decoded[i]);
	CNT("connections", k->flows);
	CNT("connections_reported", k->flows_reported);
	CNT("connections_other", k->flows_other);
	CNT("flows_evicted", k->flows_evicted);
	CNT("flows_idle_timeout", k->flows_idle);
	CNT("flows_not_tracked", k->alloc_failures);
	CNT("stream_gaps", k->stream.gaps);
	CNT("streams_truncated", k->stream.truncated);
	CNT("stream_out_of_order_dropped", k->stream.ooo_dropped);
	CNT("segments_cut_by_snaplen", k->stream.snaplen_cut);
#undef CNT
	for (int i = 0; i < c->st->n_warnings; i++) {
		fputs("warning,,,,,", f);
		csv_field(f, c->st->warnings[i]);
		fputs(",,,,,,,,,,\n", f);
	}
}
