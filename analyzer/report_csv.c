/*
 * report_csv.c - one row per client x server x service x port class, for
 * spreadsheets; then one "counter" row per counter of the registry
 * (counters.h) so that nothing that was not decoded, evicted or truncated is
 * hidden.  RFC 4180 quoting; a cell that a spreadsheet would take for a
 * formula (=, +, -, @, tab, carriage return first) is prefixed with a quote.
 */
#include <inttypes.h>
#include <string.h>

#include "report.h"
#include "software.h"
#include "state_report.h"
#include "tls.h"

static void csv_names(FILE *f, const struct name_set *s)
{
	char joined[INV_MAX_NAMES * 50] = "";
	size_t o = 0;
	for (int i = 0; i < s->n && o < sizeof joined; i++)
		o += (size_t)snprintf(joined + o, sizeof joined - o, "%s%s", i ? " " : "",
				      s->v[i]);
	csv_cell(f, joined);
}

/* The last four cells of a client's rows and the end of the line: its best host name and where
 * it came from, its addresses (several: a row that followed a DHCP host), its software as
 * "NAME (EVIDENCE); ..." (software.h). */
static void csv_identity(FILE *f, const struct inv_client *cl)
{
	char a[ADDR_STRLEN], joined[INV_MAX_ADDRS * (ADDR_STRLEN + 1) + 1] = "";
	const char *src, *name = client_host_name(cl, &src);
	fputc(',', f);
	csv_cell(f, name);
	fprintf(f, ",%s,", src ? src : "");
	size_t o = 0;
	for (int k = 0; k < cl->n_addrs && o < sizeof joined; k++)
		o += (size_t)snprintf(joined + o, sizeof joined - o, "%s%s", k ? " " : "", addr_str(&cl->addrs[k], a));
	fputs(cl->n_addrs ? joined : addr_str(&cl->ip, a), f);
	fputc(',', f);
	char sw[INV_MAX_NAMES * 260] = "", line[258];
	o = 0;
	for (int i = 0; i < cl->software.n && o < sizeof sw; i++)
		o += (size_t)snprintf(sw + o, sizeof sw - o, "%s%s", i ? "; " : "",
				      software_line(cl->software.v[i], line, sizeof line));
	csv_cell(f, sw);
	fputc('\n', f);
}

void report_csv(const struct report_ctx *c)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN], t[32];
	fputs("type,client,internal,status,server,service,port,port_class,connections,refused,unanswered,"
	      "first_seen,last_seen,users,devices,tls_versions,host_name,host_name_source,addresses,software\n", f);
	for (size_t i = 0; i < c->inv->n_clients; i++) {
		const struct inv_client *cl = &c->inv->clients[i];
		for (size_t j = 0; j < cl->n_use; j++) {
			const struct inv_usage *u = &cl->use[j];
			fprintf(f, "usage,%s,%s,%s,", addr_str(&cl->ip, a), cl->internal ? "yes" : "no",
				client_status_name(cl->status));
			fprintf(f, "%s,", addr_str(&u->server, a));
			csv_cell(f, u->service);
			fprintf(f, ",%u,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", u->port, port_class_name(u->cls),
				u->connections, u->refused, u->unanswered);
			fprintf(f, "%s,", fmt_time(u->first_us, t));
			fprintf(f, "%s,", fmt_time(u->last_us, t));
			csv_names(f, &u->users);
			fputc(',', f);
			csv_names(f, &u->devices);
			fputc(',', f);
			uint16_t v[8];
			int n = inv_versions(u->tls_versions, v, 8);
			for (int k = 0; k < n; k++)
				fprintf(f, "%s%s", k ? " " : "", tls_version_name(v[k]));
			csv_identity(f, cl);
		}
		if (cl->n_use == 0) {   /* a client seen only at the port mapper */
			fprintf(f, "usage,%s,%s,%s,,,,,0,0,0,,,", addr_str(&cl->ip, a), cl->internal ? "yes" : "no",
				client_status_name(cl->status));
			csv_names(f, &cl->users);
			fputs(",,", f);
			csv_identity(f, cl);
		}
	}
	const struct analysis *an = c->a;
	const struct capture_status *st = an->st;
	fprintf(f, "counter,,,,,packets,,,%" PRIu64 ",,,,,,,,,,,\n", an->packets);
	fprintf(f, "counter,,,,,tcp_packets,,,%" PRIu64 ",,,,,,,,,,,\n", an->tcp_packets);
	for (size_t i = 0; i < an->n_counters; i++)
		fprintf(f, "counter,,,,,%s,,,%" PRIu64 ",,,,,,,,,,,\n", an->counters[i].name, an->counters[i].value);
	if (st->live) {
		fprintf(f, "counter,,,,,live_received,,,%llu,,,,,,,,,,,\n", st->ps_recv);
		fprintf(f, "counter,,,,,live_dropped_kernel,,,%llu,,,,,,,,,,,\n", st->ps_drop);
		fprintf(f, "counter,,,,,live_dropped_interface,,,%llu,,,,,,,,,,,\n", st->ps_ifdrop);
		fprintf(f, "counter,,,,,live_not_analysed_at_stop,,,%llu,,,,,,,,,,,\n", st->not_analysed);
	}
	for (int i = 0; i < st->n_warnings; i++) {
		fputs("warning,,,,,", f);
		csv_cell(f, st->warnings[i]);
		fputs(",,,,,,,,,,,,,,\n", f);
	}
	if (c->state)
		state_csv(c);
}
