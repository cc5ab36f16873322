/*
 * report_plan.c - the cutover plan (plan.h) as the text report's first
 * section, the JSON "plan" object (schema tlsready-plan/1 inside the
 * report), and a CL source member whose every line is a comment or a command
 * for the administrator to review.  In: the report context (the inventory, and
 * the analysis or the state for the basis).  Out: text on c->out.  Commands
 * come from docs/ibmi-cutover.md; tlsready never runs them.
 */
#include "report_plan.h"
#include "software.h"

#include <inttypes.h>
#include <string.h>

#include "state_report.h"

#define DAY_US ((int64_t)86400 * 1000000)

/* The lowest and highest port of the host-server range a restriction covers. */
#define HS_LOW 8470
#define HS_HIGH 8479

void plan_basis_of(const struct report_ctx *c, struct plan_basis *b)
{
	memset(b, 0, sizeof *b);
	b->required_us = c->plan_days > 0 ? c->plan_days * DAY_US : PLAN_DEFAULT_DAYS * DAY_US;
	b->coverage = 1.0;
	b->first_us = c->a->first_us;
	b->last_us = c->a->last_us;
	b->observed_us = c->a->any_packet ? c->a->last_us - c->a->first_us : 0;
	if (c->state) {
		/* with --since, what was watched since then; else everything */
		const struct sv_health *h = c->state->since_us ? &c->state->v->window : &c->state->v->total;
		uint64_t missed = h->dropped_kernel + h->dropped_interface + h->not_analysed;
		b->from_state = true;
		b->coverage_known = true;
		b->dropped = missed;
		b->coverage = h->packets + missed ? (double)h->packets / (double)(h->packets + missed) : 1.0;
		/* what the state watched: its capture intervals (a monitor's checkpoints, an import's span) */
		b->first_us = h->first_us;
		b->last_us = h->last_us;
		b->observed_us = h->observed_us;
	} else if (c->a->st->live) {
		uint64_t missed = c->a->st->ps_drop + c->a->st->ps_ifdrop + c->a->st->not_analysed;
		b->coverage_known = true;
		b->dropped = missed;
		b->coverage = c->a->packets + missed ? (double)c->a->packets / (double)(c->a->packets + missed) : 1.0;
	} else {
		/* capture files: what their capturer said it dropped (pcapng interface statistics) */
		uint64_t missed = analysis_counter(c->a, "capture_file_dropped");
		if (missed) {
			b->coverage_known = true;
			b->dropped = missed;
			b->coverage = (double)c->a->packets / (double)(c->a->packets + missed);
		}
	}
	uint64_t conns = 0, attempts = 0;
	for (size_t i = 0; i < c->inv->n_clients; i++) {
		const struct inv_client *cl = &c->inv->clients[i];
		b->loopback_seen |= cl->internal;
		for (size_t j = 0; j < cl->n_use; j++) {
			conns += cl->use[j].connections;
			attempts += cl->use[j].attempts;
		}
	}
	b->one_sided = conns > 0 && attempts == conns;
}

static void span(int64_t us, char *buf, size_t len)
{
	if (us >= DAY_US)
		snprintf(buf, len, "%.1f days", (double)us / (double)DAY_US);
	else
		snprintf(buf, len, "%.1f hours", (double)us / 3.6e9);
}

static bool all_ready(const struct plan *p, enum door_kind k1, enum door_kind k2)
{
	for (size_t i = 0; i < p->n_doors; i++)
		if ((p->doors[i].kind == k1 || p->doors[i].kind == k2) && p->doors[i].verdict != VERDICT_READY)
			return false;
	return true;
}

static const struct plan_door *door(const struct plan *p, uint16_t port)
{
	for (size_t i = 0; i < p->n_doors; i++)
		if (p->doors[i].port == port)
			return &p->doors[i];
	return NULL;
}

static const char *fix_text(enum client_fix f)
{
	switch (f) {
	case FIX_TOOLBOX:
		return "IBM Toolbox for Java / JTOpen: connect with SecureAS400 instead of AS400; for JDBC add the"
		       " property secure=true to the URL (docs/ibmi-cutover.md, section 8)";
	case FIX_HOSTSERVER_UNKNOWN:
		return "a host-server client (IBM i Access Client Solutions: set the system's connection to use SSL/TLS;"
		       " IBM i Access ODBC driver: its SSL connection keyword; Toolbox for Java: SecureAS400 or"
		       " secure=true; docs/ibmi-cutover.md, section 8)";
	case FIX_EMULATOR:
		return "a 5250 emulator: connect to port 992 with TLS (docs/ibmi-cutover.md, section 8)";
	case FIX_TELNET_OTHER:
		return "a telnet client: use telnet over TLS on port 992";
	case FIX_MAPPER_ONLY:
		return "asked the port mapper for a nonsecure service: its configuration says nonsecure; switch it to"
		       " TLS (it will then ask for the -s name; docs/ibmi-cutover.md, section 8)";
	case FIX_LEGACY:
		return "uses a legacy service with no TLS port: replace or reconfigure the function, it cannot be"
		       " switched to TLS (docs/ibmi-cutover.md, section 2)";
	case FIX_LOOPBACK:
		return "the IBM i itself (some IBM i web tools use the nonsecure ports over loopback): a restriction"
		       " breaks these too (docs/ibmi-cutover.md, section 6)";
	case FIX_UPGRADE:
		return "an FTP, SMTP, POP3 or LDAP client in clear: have it upgrade with the protocol's own command"
		       " before sending any name or password (FTP AUTH TLS, SMTP STARTTLS, POP3 STLS, LDAP StartTLS),"
		       " or use the TLS port (FTP 990, POP3 995, LDAP 636; docs/ibmi-cutover.md, section 12)";
	default:
		return "change it to use the service's TLS port";
	}
}

/* ---- text ---- */

void plan_text(const struct report_ctx *c, const struct plan *p)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN], t[32], obs[32], req[32];
	const struct plan_basis *b = &p->basis;
	text_section(f, "Cutover plan");
	span(b->observed_us, obs, sizeof obs);
	span(b->required_us, req, sizeof req);
	fprintf(f, "  Verdict: %s", p->overall == VERDICT_READY ? "READY" : p->overall == VERDICT_BLOCKED ? "BLOCKED"
						      : "UNKNOWN");
	if (p->overall == VERDICT_BLOCKED)
		fprintf(f, " by %zu clients on %zu doors", p->n_clients, p->blocked);
	fprintf(f, " (%zu ready, %zu blocked, %zu unknown)\n", p->ready, p->blocked, p->unknown);
	fprintf(f, "  Basis:   %s observed (%s asked for: --plan-days); ", obs, req);
	if (b->coverage_known)
		fprintf(f, "coverage %.3f%% (%" PRIu64 " packets missed)", 100.0 * b->coverage, b->dropped);
	else
		fprintf(f, "capture files: what they hold is all that was seen");
	fprintf(f, "\n           loopback %s%s\n",
		b->loopback_seen ? "traffic was seen (the capture point sees the IBM i's own connections)"
				 : "traffic was not seen: a span port cannot see it; check on the IBM i (below)",
		b->one_sided ? "\n           WARNING: every connection seen was an attempt: the capture may see one direction only"
			     : "");
	fprintf(f, "\n  %-14s %5s %5s %-11s %-8s %7s %11s  %s\n", "DOOR", "PORT", "TLS", "KIND", "VERDICT", "CLIENTS",
		"CONNECTIONS", "LAST USE");
	for (size_t i = 0; i < p->n_doors; i++) {
		const struct plan_door *d = &p->doors[i];
		char tls[8];
		snprintf(tls, sizeof tls, "%u", d->tls_port);
		fprintf(f, "  %-14s %5u %5s %-11s %-8s %7" PRIu64 " %11" PRIu64 "  %.19s%s\n", d->service, d->port,
			d->tls_port ? tls : "-", door_kind_name(d->kind), door_verdict_name(d->verdict), d->clients,
			d->connections, d->last_use_us ? fmt_time(d->last_use_us, t) : "-",
			d->asked_mapper ? " (asked of the port mapper)" : "");
	}
	fprintf(f, "\n  Clients that must change first:\n");
	for (size_t i = 0; i < p->n_clients; i++) {
		const struct plan_client *pc = &p->clients[i];
		fprintf(f, "    %-22s doors", addr_str(&pc->c->ip, a));
		for (size_t k = 0; k < p->n_doors; k++)
			if (pc->doors & (1ull << k))
				fprintf(f, " %s/%u", p->doors[k].service, p->doors[k].port);
		char names[256], seen[258], line[258];
		if (pc->c->users.n) {   /* names from the wire: quoted and cleaned as the rest of the text report */
			text_names(c, &pc->c->users, false, names, sizeof names);
			fprintf(f, "; users %s", names);
		}
		fprintf(f, "\n      fix: %s\n", fix_text(pc->fix));
		fprintf(f, "      seen: %s\n",
			pc->evidence ? text_clean(seen, sizeof seen, software_line(pc->evidence, line, sizeof line))
				     : "no client software named by its bytes");
	}
	if (!p->n_clients)
		fprintf(f, "    (none)\n");
	plan_steps_text(f, p, "  ");
	fprintf(f, "\n  Beyond the port switch (system values; from the TLS the clients offered):\n"
		   "    removing TLS 1.0/1.1 from QSSLPCL breaks %" PRIu64 " clients; removing RC4/3DES from QSSLCSL"
		   " breaks %" PRIu64 " (listed under \"Clients that would break\")\n", p->break_min_tls12,
		p->break_no_rc4_3des);
	int nc = 0;
	for (size_t i = 0; i < c->inv->n_certs; i++) {
		const struct inv_cert *x = &c->inv->certs[i];
		if (x->not_after * 1000000 >= b->last_us + 30 * DAY_US)
			continue;
		if (!nc++)
			fprintf(f, "    server certificates expired or expiring within 30 days of the last traffic seen:\n");
		fprintf(f, "      %s:%u %s, not after %.10s\n", addr_str(&x->server, a), x->port, x->subject,
			fmt_time(x->not_after * 1000000, t));
	}
	if (!b->loopback_seen)
		fprintf(f, "\n  Loopback: on the IBM i, list its local connections to 8470-8479 and 23 before the\n"
			   "  restriction (NETSTAT OPTION(*CNN), or SQL over QSYS2.NETSTAT_INFO, QSYS2.NETSTAT_JOB_INFO for\n"
			   "  the job and user); IBM names its web tools (IBM Navigator for i, Web Administration for i,\n"
			   "  Digital Certificate Manager) among those that use the nonsecure ports over loopback\n"
			   "  (docs/ibmi-cutover.md, section 6).\n");
}

/* The steps in IBM's order, with their rollback; `pre` starts every line (indent or a CL comment). */
void plan_steps_text(FILE *f, const struct plan *p, const char *pre)
{
	const struct plan_door *tn = door(p, 23);
	bool hs = all_ready(p, DOOR_HOSTSERVER, DOOR_LEGACY);
	fprintf(f, "\n%sSteps, in IBM's order (tlsready runs none of them):\n", pre);
	fprintf(f, "%s 1. Change the clients above%s.\n", pre, p->n_clients ? "" : " (none is blocking)");
	fprintf(f, "%s 2. Telnet (%s): CHGTELNA ALWSSL(*ONLY)\n", pre, tn ? door_verdict_name(tn->verdict) : "-");
	fprintf(f, "%s    then ENDTCPSVR SERVER(*TELNET) and STRTCPSVR SERVER(*TELNET): ending the server ends\n"
		   "%s    every telnet session; run it at a quiet time, not from a telnet session (a batch job,\n"
		   "%s    Run SQL Scripts, or the ACS remote command).  Rollback: CHGTELNA ALWSSL(*YES), then the\n"
		   "%s    same restart.\n", pre, pre, pre, pre);
	fprintf(f, "%s 3. Host servers (%s): ADDTCPPORT PORT(%d %d) PROTOCOL(*TCP) USRPRF(QSECOFR)\n", pre,
		hs ? "every nonsecure port ready" : "not every port ready", HS_LOW, HS_HIGH);
	fprintf(f, "%s    IBM's servers bind their ports under IBM profiles such as QUSER, not QSECOFR, so they can\n"
		   "%s    no longer bind 8470-8479 (message TCP7701 in their job logs says so); the restriction\n"
		   "%s    is checked when a server binds: ENDHOSTSVR SERVER(*ALL), then STRHOSTSVR SERVER(*ALL)\n"
		   "%s    (host-server jobs already connected keep running: they go as they end).\n"
		   "%s    The port mapper (449) serves both and stays.  Rollback: RMVTCPPORT PORT(%d %d)\n"
		   "%s    PROTOCOL(*TCP) USRPRF(QSECOFR), then the same restart.\n", pre, pre, pre, pre, pre, HS_LOW,
		HS_HIGH, pre);
	if (!hs) {
		fprintf(f, "%s    Only some ports ready: one restriction per ready port instead, e.g.\n", pre);
		int n = 0;
		for (size_t i = 0; i < p->n_doors; i++) {
			const struct plan_door *d = &p->doors[i];
			if ((d->kind == DOOR_HOSTSERVER || d->kind == DOOR_LEGACY) && d->verdict == VERDICT_READY &&
			    d->port >= HS_LOW && d->port <= HS_HIGH)
				fprintf(f, "%s      ADDTCPPORT PORT(%u) PROTOCOL(*TCP) USRPRF(QSECOFR)\n", pre, d->port), n++;
		}
		if (!n)
			fprintf(f, "%s      (no host-server port is ready yet)\n", pre);
		fprintf(f, "%s    (more entries to keep and remove later; the blocked ports stay open meanwhile)\n", pre);
	}
	fprintf(f, "%s 4. Other TCP/IP servers (docs/ibmi-cutover.md, section 12):\n", pre);
	for (size_t i = 0; i < p->n_doors; i++) {
		const struct plan_door *d = &p->doors[i];
		if (d->kind == DOOR_TCPSVR && d->command) {
			fprintf(f, "%s    %s/%u (%s): %s\n", pre, d->service, d->port, door_verdict_name(d->verdict), d->command);
			if (d->restart)
				fprintf(f, "%s      then ENDTCPSVR SERVER(%s) and STRTCPSVR SERVER(%s).  Rollback: %s, then the same"
					   " restart.\n", pre, d->restart, d->restart, d->rollback);
			else
				fprintf(f, "%s      (takes effect at the next connection).  Rollback: %s\n", pre, d->rollback);
		}
	}
	for (size_t i = 0; i < p->n_doors; i++) {
		const struct plan_door *d = &p->doors[i];
		if (d->kind == DOOR_OTHER && d->how)
			fprintf(f, "%s    %s/%u (%s): %s\n", pre, d->service, d->port, door_verdict_name(d->verdict), d->how);
	}
	fprintf(f, "%s 5. Verify: afterwards tlsready should see no cleartext connection completed on a nonsecure\n"
		   "%s    door (an upgrade to TLS before any credential on 21, 25, 110 or 389 is a secure use);\n"
		   "%s    a refused attempt there is a client that was missed (it is listed as attempt-only).\n"
		   "%s    Each command, what it needs (*IOSYSCFG) and IBM's page: docs/ibmi-cutover.md.\n", pre, pre, pre,
		pre);
}

/* ---- json ---- */

void plan_json(const struct report_ctx *c, const struct plan *p)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN], t[32];
	const struct plan_basis *b = &p->basis;
	fputs(",\n\"plan\":{\"schema\":\"tlsready-plan/1\",\"verdict\":", f);
	json_str(f, door_verdict_name(p->overall));
	fputs(",\"basis\":{\"from\":", f); json_str(f, b->first_us ? fmt_time(b->first_us, t) : NULL);
	fputs(",\"until\":", f); json_str(f, b->last_us ? fmt_time(b->last_us, t) : NULL);
	fprintf(f, ",\"observed_seconds\":%" PRId64 ",\"required_seconds\":%" PRId64, b->observed_us / 1000000,
		b->required_us / 1000000);
	if (b->coverage_known)
		fprintf(f, ",\"coverage\":%.6f,\"packets_missed\":%" PRIu64, b->coverage, b->dropped);
	else
		fputs(",\"coverage\":null,\"packets_missed\":null", f);
	fprintf(f, ",\"loopback_seen\":%s,\"one_sided\":%s,\"from_state\":%s}", b->loopback_seen ? "true" : "false",
		b->one_sided ? "true" : "false", b->from_state ? "true" : "false");
	fputs(",\"doors\":[", f);
	for (size_t i = 0; i < p->n_doors; i++) {
		const struct plan_door *d = &p->doors[i];
		fputs(i ? ",\n" : "\n", f);
		fputs("{\"service\":", f); json_str(f, d->service);
		fprintf(f, ",\"port\":%u,\"tls_port\":", d->port);
		if (d->tls_port)
			fprintf(f, "%u", d->tls_port);
		else
			fputs("null", f);
		fputs(",\"kind\":", f); json_str(f, door_kind_name(d->kind));
		fputs(",\"command\":", f); json_str(f, d->command);
		fputs(",\"rollback\":", f); json_str(f, d->rollback);
		fputs(",\"verdict\":", f); json_str(f, door_verdict_name(d->verdict));
		fprintf(f, ",\"clients\":%" PRIu64 ",\"internal_clients\":%" PRIu64 ",\"connections\":%" PRIu64
			",\"attempts\":%" PRIu64 ",\"asked_port_mapper\":%s,\"last_use\":", d->clients, d->internal_clients,
			d->connections, d->attempts, d->asked_mapper ? "true" : "false");
		json_str(f, d->last_use_us ? fmt_time(d->last_use_us, t) : NULL);
		fputc('}', f);
	}
	fputs("],\n\"blocking_clients\":[", f);
	for (size_t i = 0; i < p->n_clients; i++) {
		const struct plan_client *pc = &p->clients[i];
		fputs(i ? ",\n" : "\n", f);
		fputs("{\"ip\":", f); json_str(f, addr_str(&pc->c->ip, a));
		fputs(",\"doors\":[", f);
		int n = 0;
		for (size_t k = 0; k < p->n_doors; k++)
			if (pc->doors & (1ull << k))
				fprintf(f, "%s%u", n++ ? "," : "", p->doors[k].port);
		fputs("],\"fix\":", f); json_str(f, client_fix_name(pc->fix));
		fputs(",\"fix_text\":", f); json_str(f, fix_text(pc->fix));
		fputs(",\"evidence\":", f); json_str(f, pc->evidence);
		fputs(",\"users\":", f); json_string_set(f, &pc->c->users);
		fputc('}', f);
	}
	fprintf(f, "],\n\"would_break\":{\"qsslpcl_without_tls10_tls11\":%" PRIu64 ",\"qsslcsl_without_rc4_3des\":%" PRIu64
		"}", p->break_min_tls12, p->break_no_rc4_3des);
	fputs(",\"certificates_expiring\":[", f);   /* expired, or within 30 days of the last traffic seen */
	int nc = 0;
	for (size_t i = 0; i < c->inv->n_certs; i++) {
		const struct inv_cert *x = &c->inv->certs[i];
		if (x->not_after * 1000000 >= b->last_us + 30 * DAY_US)
			continue;
		fputs(nc++ ? "," : "", f);
		fputs("{\"server\":", f); json_str(f, addr_str(&x->server, a));
		fprintf(f, ",\"port\":%u,\"subject\":", x->port); json_str(f, x->subject);
		fputs(",\"not_after\":", f); json_str(f, fmt_time(x->not_after * 1000000, t));
		fputc('}', f);
	}
	fputs("]}", f);
}

/* ---- a CL source member: every step commented, for review; nothing is run by tlsready ---- */

/* A command, or the same command inside a comment when its door is not ready. */
static void cl_line(FILE *f, bool active, const char *cmd)
{
	if (active)
		fprintf(f, "             %s\n", cmd);
	else
		fprintf(f, "/*           %s */\n", cmd);
}

void plan_clp(FILE *f, const struct plan *p)
{
	char cmd[128];
	fprintf(f, "/* tlsready %s: cutover plan.  Verdict: %s.  Review every line; tlsready runs none. */\n",
		TLSREADY_VERSION, door_verdict_name(p->overall));
	fputs("             PGM\n", f);
	const struct plan_door *tn = door(p, 23);
	bool telnet = tn && tn->verdict == VERDICT_READY;
	fprintf(f, "/* Telnet: %s.  Ending the server ends every telnet session: run at a quiet time. */\n",
		tn ? door_verdict_name(tn->verdict) : "-");
	cl_line(f, telnet, "CHGTELNA ALWSSL(*ONLY)");
	cl_line(f, telnet, "ENDTCPSVR SERVER(*TELNET)");
	cl_line(f, telnet, "STRTCPSVR SERVER(*TELNET)");
	fputs("/* Rollback: CHGTELNA ALWSSL(*YES), then ENDTCPSVR SERVER(*TELNET) and STRTCPSVR SERVER(*TELNET). */\n", f);
	bool hs = all_ready(p, DOOR_HOSTSERVER, DOOR_LEGACY);
	fprintf(f, "/* Host servers: %s.  The restriction is checked when a server binds: restart them. */\n",
		hs ? "every nonsecure port ready" : "not every nonsecure port ready: kept as comments");
	snprintf(cmd, sizeof cmd, "ADDTCPPORT PORT(%d %d) PROTOCOL(*TCP) USRPRF(QSECOFR)", HS_LOW, HS_HIGH);
	cl_line(f, hs, cmd);
	cl_line(f, hs, "ENDHOSTSVR SERVER(*ALL)");
	cl_line(f, hs, "STRHOSTSVR SERVER(*ALL)");
	fprintf(f, "/* Rollback: RMVTCPPORT PORT(%d %d) PROTOCOL(*TCP) USRPRF(QSECOFR), then the same restart. */\n",
		HS_LOW, HS_HIGH);
	for (size_t i = 0; i < p->n_doors; i++) {
		const struct plan_door *d = &p->doors[i];
		if (d->kind != DOOR_TCPSVR || !d->command)
			continue;
		bool ready = d->verdict == VERDICT_READY;
		fprintf(f, "/* %s (port %u): %s. */\n", d->service, d->port, door_verdict_name(d->verdict));
		cl_line(f, ready, d->command);
		if (d->restart) {
			snprintf(cmd, sizeof cmd, "ENDTCPSVR SERVER(%s)", d->restart);
			cl_line(f, ready, cmd);
			snprintf(cmd, sizeof cmd, "STRTCPSVR SERVER(%s)", d->restart);
			cl_line(f, ready, cmd);
		}
		fprintf(f, "/* Rollback: %s%s. */\n", d->rollback, d->restart ? ", then the same restart" : "");
	}
	fputs("             ENDPGM\n", f);
}

bool plan_of_report(const struct report_ctx *c, struct plan *p)
{
	struct plan_basis b;
	plan_basis_of(c, &b);
	return plan_build(p, c->inv, &b);
}

/* Is the door named (a service, a port, "host-servers" for 8470-8479, "all") ready?  1 yes, 0 no,
 * -1 no door has that name. */
int plan_door_ready(const struct plan *p, const char *name)
{
	bool any = false, ready = true;
	char port[8];
	for (size_t i = 0; i < p->n_doors; i++) {
		const struct plan_door *d = &p->doors[i];
		snprintf(port, sizeof port, "%u", d->port);
		bool match = strcmp(name, "all") == 0 || strcmp(name, d->service) == 0 || strcmp(name, port) == 0 ||
			     (strcmp(name, "host-servers") == 0 && (d->kind == DOOR_HOSTSERVER || d->kind == DOOR_LEGACY));
		if (!match)
			continue;
		any = true;
		ready &= d->verdict == VERDICT_READY;
	}
	return any ? ready : -1;
}

const struct plan *report_plan(const struct report_ctx *c, struct plan *local, bool *own)
{
	*own = false;
	if (c->plan)
		return c->plan;
	if (!plan_of_report(c, local))
		return NULL;
	*own = true;
	return local;
}

int report_write(const struct report_ctx *ctx, const char *format, const char *ready_door)
{
	/* the plan once, for the writer and the --ready gate alike */
	struct plan plan;
	bool have = plan_of_report(ctx, &plan);
	struct report_ctx with_plan = *ctx;
	with_plan.plan = have ? &plan : NULL;
	const struct report_ctx *c = &with_plan;
	if (strcmp(format, "json") == 0)
		report_json(c);
	else if (strcmp(format, "csv") == 0)
		report_csv(c);
	else if (strcmp(format, "ndjson") == 0)
		report_ndjson(c);
	else if (strcmp(format, "clp") == 0 && have)
		plan_clp(c->out, &plan);
	else if (strcmp(format, "html") == 0)
		report_html(c);
	else
		report_text(c);
	int code = 0;
	if (ready_door && have) {
		int r = plan_door_ready(&plan, ready_door);
		if (r < 0) {
			fprintf(stderr, "tlsready: --ready: no door is called '%s' (a service such as telnet or as-signon,"
					" a port, host-servers or all)\n", ready_door);
			code = 2;
		} else if (!r) {
			code = 3;
		}
	}
	if (have)
		plan_free(&plan);
	return code;
}
