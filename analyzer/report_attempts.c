/*
 * report_attempts.c - the attempt-only connections folded past --max-attempts
 * (attempts.h), for the text and JSON writers: one line or object per group
 * (server, port, TCP outcome), and the group of those the table had no room for.
 *
 * In: the analysis's folded set (read-only).  Out: text or JSON on c->out;
 * nothing at all when no connection was folded, so a run under the cap
 * prints what it printed before the cap existed.
 */
#include <inttypes.h>
#include <stdio.h>

#include "analysis.h"
#include "report.h"

static const struct attempts *folded(const struct report_ctx *c)
{
	const struct attempts *t = c->a ? c->a->folded : NULL;
	return t && t->folded ? t : NULL;
}

static void server_port(const struct attempt_group *g, char *out, size_t len)
{
	char a[ADDR_STRLEN];
	addr_str(&g->srv, a);
	snprintf(out, len, addr_is_v4(&g->srv) ? "%s:%u" : "[%s]:%u", a, (unsigned)g->port);
}

void attempts_text(const struct report_ctx *c)
{
	const struct attempts *t = folded(c);
	if (!t)
		return;
	FILE *f = c->out;
	text_section(f, "Attempt-only connections not listed (past --max-attempts)");
	if (c->state)   /* a stored report lists no flows: they are in the state's flow records */
		fprintf(f, "  The first %" PRIu64 " of an import, or of a monitor's UTC day, are kept as flow records; the\n"
			   "  others, counted per server, port and TCP outcome (~: an estimate of the distinct client\n"
			   "  addresses, about 3%% off):\n", t->limit);
	else
		fprintf(f, "  The first %" PRIu64 " are listed above; the others, counted per server, port and TCP outcome\n"
			   "  (~: an estimate of the distinct client addresses, about 3%% off):\n", t->limit);
	for (size_t i = 0; i < t->n_groups; i++) {
		const struct attempt_group *g = t->groups[i];
		char sp[ADDR_STRLEN + 10];
		server_port(g, sp, sizeof sp);
		fprintf(f, "  %" PRIu64 " more attempt-only connections from ~%" PRIu64 " sources to %s (%s) were not"
			" listed (--max-attempts)\n", g->connections, hll_estimate(&g->sources), sp,
			tcp_outcome_name((enum tcp_outcome)g->tcp));
	}
	if (t->other.connections)
		fprintf(f, "  %" PRIu64 " more attempt-only connections from ~%" PRIu64 " sources to other servers were not"
			" listed (--max-attempts; the group table was full)\n", t->other.connections,
			hll_estimate(&t->other.sources));
}

static void json_group(FILE *f, const struct attempt_group *g)
{
	char t[32];
	fprintf(f, "\"connections\":%" PRIu64 ",\"sources_estimate\":%" PRIu64, g->connections, hll_estimate(&g->sources));
	fputs(",\"first_seen\":", f); json_str(f, g->connections ? fmt_time(g->first_us, t) : NULL);
	fputs(",\"last_seen\":", f); json_str(f, g->connections ? fmt_time(g->last_us, t) : NULL);
}

void attempts_json(const struct report_ctx *c)
{
	const struct attempts *t = folded(c);
	if (!t)
		return;
	FILE *f = c->out;
	char a[ADDR_STRLEN];
	fprintf(f, ",\n\"folded_attempts\":{\"max_attempts\":%" PRIu64 ",\"connections\":%" PRIu64 ",\"groups\":[",
		t->limit, t->folded);
	for (size_t i = 0; i < t->n_groups; i++) {
		const struct attempt_group *g = t->groups[i];
		fputs(i ? ",\n{\"server\":" : "\n{\"server\":", f); json_str(f, addr_str(&g->srv, a));
		fprintf(f, ",\"port\":%u,\"tcp\":", (unsigned)g->port);
		json_str(f, tcp_outcome_name((enum tcp_outcome)g->tcp));
		fputc(',', f);
		json_group(f, g);
		fputc('}', f);
	}
	fputs("],\"other\":{", f);
	json_group(f, &t->other);
	fputs("}}", f);
}
