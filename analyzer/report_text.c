/*
 * report_text.c - the report for a person at a terminal (the default).
 *
 * Order: what was read; clients still using nonsecure ports (the cutover
 * list), with the IBM i's own loopback connections apart; clients on secure
 * ports only; credentials sent in clear (tlsready's reading of FTP, POP3,
 * SMTP, IMAP, LDAP and HTTP bytes, and nDPI's clear-text credentials risk:
 * the kind and the user name only, never the secret); port-mapper lookups;
 * sign-on failures; mismatches; other services (ports outside the catalogue,
 * with nDPI's protocol name); servers;
 * every counter of what was not decoded, evicted or truncated; warnings.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "hostserver.h"
#include "names.h"
#include "other_services.h"
#include "portmapper.h"
#include "redact.h"
#include "report.h"
#include "software.h"
#include "report_plan.h"
#include "state_report.h"
#include "tls.h"

static void short_time(int64_t us, char *buf)
{
	char t[32];
	fmt_time(us, t);
	/* 2026-11-23T19:53:50.123456Z -> 2026-11-23 19:53:50 */
	snprintf(buf, 20, "%.10s %.8s", t, t + 11);
}

/* The usage rows of one port class, of the clients of one kind: nonsecure rows of
 * nonsecure clients (the cutover list), nonsecure rows of the others (attempts:
 * nothing got past the TCP handshake), secure rows of secure-only clients. */
enum table { T_NONSECURE, T_ATTEMPTS, T_SECURE, T_MIXED };

static bool row_wanted(const struct inv_client *cl, const struct inv_usage *us, enum table t)
{
	switch (t) {
	case T_NONSECURE: return us->cls == PC_NONSECURE && cl->status == CS_NONSECURE;
	case T_ATTEMPTS: return us->cls == PC_NONSECURE && cl->status != CS_NONSECURE;
	case T_MIXED: return us->cls == PC_SECURE && cl->status == CS_NONSECURE;   /* their secure use */
	default: return us->cls == PC_SECURE && cl->status == CS_SECURE;
	}
}

/* A nonsecure client that also uses secure ports: the closest to ready. */
static bool mixed(const struct inv_client *cl)
{
	if (cl->status != CS_NONSECURE)
		return false;
	for (size_t j = 0; j < cl->n_use; j++)
		if (cl->use[j].cls == PC_SECURE && cl->use[j].tls)
			return true;
	return false;
}

/* A client's software as "NAME (EVIDENCE); ..." (software.h), cleaned for a terminal. */
static const char *software_text(const struct inv_client *cl, char *out, size_t len)
{
	char line[258], clean[258];
	size_t o = 0;
	out[0] = '\0';
	for (int k = 0; k < cl->software.n && o < len; k++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", k ? "; " : "",
				      text_clean(clean, sizeof clean, software_line(cl->software.v[k], line, sizeof line)));
	if (cl->software.overflow && o < len)
		snprintf(out + o, len - o, "; ...");
	return out;
}

/* Prints the rows; returns how many (the caller says "(none)"). */
static int usage_rows(const struct report_ctx *c, bool internal, enum table t);

static void usage_table(const struct report_ctx *c, bool internal, enum table t)
{
	if (!usage_rows(c, internal, t))
		fprintf(c->out, "  (none)\n");
}

static int usage_rows(const struct report_ctx *c, bool internal, enum table t)
{
	enum port_class cls = t == T_SECURE || t == T_MIXED ? PC_SECURE : PC_NONSECURE;
	int rows = 0;
	FILE *f = c->out;
	char a[ADDR_STRLEN], s[ADDR_STRLEN], u[256], d[256], t1[24], t2[24];
	bool header = false;
	for (size_t i = 0; i < c->inv->n_clients; i++) {
		const struct inv_client *cl = &c->inv->clients[i];
		if (cl->internal != internal)
			continue;
		int before = rows;
		for (size_t j = 0; j < cl->n_use; j++) {
			const struct inv_usage *us = &cl->use[j];
			if (!row_wanted(cl, us, t) || (t == T_MIXED && !us->tls))
				continue;
			rows++;
			if (!header) {
				fprintf(f, "  %-22s %-16s %-12s %5s %5s %7s  %-20s %-12s %-19s %-19s\n", "CLIENT", "SERVER",
					"SERVICE", "PORT", "CONN", "REFUSED", "USERS", cls == PC_SECURE ? "TLS" : "DEVICES",
					"FIRST SEEN", "LAST SEEN");
				header = true;
			}
			text_names(c, &us->users, false, u, sizeof u);
			if (cls == PC_SECURE) {
				uint16_t v[8];
				int n = inv_versions(us->tls_versions, v, 8);
				size_t o = 0;
				d[0] = '\0';
				for (int k = 0; k < n && o < sizeof d; k++)
					o += (size_t)snprintf(d + o, sizeof d - o, "%s%s", k ? "," : "", tls_version_name(v[k]) + 3);
				if (!n)
					snprintf(d, sizeof d, us->failed_tls ? "failed" : "-");
			} else {
				text_names(c, &us->devices, false, d, sizeof d);
			}
			short_time(us->first_us, t1);
			short_time(us->last_us, t2);
			fprintf(f, "  %-22s %-16s %-12s %5u %5" PRIu64 " %7" PRIu64 "  %-20s %-12s %-19s %-19s%s\n",
				addr_str(&cl->ip, a), addr_str(&us->server, s), us->service ? us->service : "-",
				us->port, us->connections, us->refused, u, d, t1, t2, us->mismatch ? "  (mismatch)" : "");
		}
		/* under the client's rows of the two lists, what its software is and why */
		if (rows > before && cl->software.n && (t == T_NONSECURE || t == T_SECURE)) {
			char sw[INV_MAX_NAMES * 260];
			fprintf(f, "  %-22s software: %s\n", "", software_text(cl, sw, sizeof sw));
		}
	}
	return rows;
}

/* What each client's software says it is, "NAME (EVIDENCE)" (software.h: TLS fingerprint, DRDA
 * product, terminal type, host-server datastream level): nonsecure clients first. */
static void software_section(const struct report_ctx *c)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN];
	int n = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < c->inv->n_clients; i++) {
			const struct inv_client *cl = &c->inv->clients[i];
			if ((pass == 0) != (cl->status == CS_NONSECURE) || !cl->software.n)
				continue;
			n++;
			fprintf(f, "  %-22s %-12s ", addr_str(&cl->ip, a), client_status_name(cl->status));
			char sw[INV_MAX_NAMES * 260];
			fprintf(f, "%s\n", software_text(cl, sw, sizeof sw));
		}
	if (!n)
		fprintf(f, "  (none: no fingerprint, product, terminal type or datastream level seen)\n");
}

/* Why a DHCPv6 host is a DHCPv4 host, in words (names.h enum dhcp_link). */
static const char *link_evidence_text(uint8_t why, char *buf, size_t len)
{
	static const char *const w[] = {
		"its DHCP client identifier carries that DUID, RFC 4361",
		"the DUID-LLT carries its hardware address, RFC 8415 11.2",
		"the DUID-LL carries its hardware address, RFC 8415 11.4",
		"its own DHCPv6 messages on its link came from that hardware address",
	};
	size_t o = 0;
	buf[0] = '\0';
	for (int b = 0; b < 4; b++)
		if (why & (1u << b) && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "; " : "", w[b]);
	return buf;
}

/* Who the clients are: each client's best host name and where it came from, the other names, and
 * what DHCP showed (a row that followed one host over several addresses, an address that served
 * several hosts).  Nonsecure clients first. */
static void names_section(const struct report_ctx *c)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN], nm[128], hw[64];
	int n = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < c->inv->n_clients; i++) {
			const struct inv_client *cl = &c->inv->clients[i];
			bool merged = cl->n_addrs > 1, shared = cl->hosts_on_address > 1;
			bool linked = client_follows_host(cl) && cl->dhcp->duid[0];
			if ((pass == 0) != (cl->status == CS_NONSECURE) || (!cl->n_names && !merged && !shared && !linked))
				continue;
			if (!n++)
				fprintf(f, "  %-22s %-12s %-40s %s\n", "CLIENT", "STATUS", "HOST NAME", "FROM");
			const char *src, *best = client_host_name(cl, &src);
			fprintf(f, "  %-22s %-12s %-40s %s\n", addr_str(&cl->ip, a), client_status_name(cl->status),
				best ? text_clean(nm, sizeof nm, best) : "-", best ? src : "-");
			for (int k = 1; k < cl->n_names; k++) {
				bool again = false;   /* the same name from the same source for another address */
				for (int q = 0; q < k && !again; q++)
					again = cl->names[q].source == cl->names[k].source &&
						strcmp(cl->names[q].name, cl->names[k].name) == 0;
				if (!again)
					fprintf(f, "  %-22s %-12s %-40s %s (%s)\n", "", "", text_clean(nm, sizeof nm, cl->names[k].name),
					name_source_name((enum name_source)cl->names[k].source),
						addr_str(&cl->names[k].ip, a));
			}
			if (cl->names_overflow)
				fprintf(f, "  %-22s %-12s (more names: see the JSON report)\n", "", "");
			if (client_follows_host(cl))
				fprintf(f, "  %-22s %-12s DHCP host %s%s%s\n", "", "", text_clean(hw, sizeof hw, inv_client_hw(cl)),
					inv_client_id(cl)[0] ? ", client id " : "", inv_client_id(cl));
			if (linked) {
				char ev[256];
				fprintf(f, "  %-22s %-12s the same host as DHCPv6 DUID %s%s (%s)\n", "", "",
					text_clean(nm, sizeof nm, cl->dhcp->duid), cl->dhcp->duids > 1 ? " and others" : "",
					link_evidence_text(cl->dhcp->link_why, ev, sizeof ev));
			}
			if (merged) {
				fprintf(f, "  %-22s %-12s one host on %u addresses (DHCP leases):", "", "", cl->n_addrs);
				for (int k = 0; k < cl->n_addrs; k++)
					fprintf(f, "%s%s", k ? ", " : " ", addr_str(&cl->addrs[k], a));
				fprintf(f, "%s\n", cl->addrs_overflow ? ", ..." : "");
			}
			if (shared)
				fprintf(f, "  %-22s %-12s its address served %u hosts in this %s (DHCP): each is a row of its own\n",
					"", "", cl->hosts_on_address, c->state ? "period" : "capture");
		}
	if (!n)
		fprintf(f, "  (none: no DNS, DHCP, NetBIOS, mDNS or LLMNR answer, DRDA server name or 5250 device named a client)\n");
}

/* Users on nonsecure doors: each user, the machines it signed on from over a nonsecure port
 * (host name or address) and the doors. */
static void users_section(const struct report_ctx *c)
{
	FILE *f = c->out;
	struct user_client *v;
	size_t n = user_clients(c->inv, &v);
	char a[ADDR_STRLEN], u[160], nm[128];
	int rows = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		bool ns = false;
		while (j < n && strcmp(v[j].user, v[i].user) == 0)
			ns |= v[j++].nonsecure;
		if (ns) {
			text_list_name(u, sizeof u, v[i].user);
			fprintf(f, "  %s\n", u);
			rows++;
			for (size_t k = i; k < j; k++) {
				const struct inv_client *cl = v[k].client;
				if (!v[k].nonsecure)
					continue;
				const char *src, *best = client_host_name(cl, &src);
				fprintf(f, "    from %-22s %-40s doors", addr_str(&cl->ip, a),
					best ? text_clean(nm, sizeof nm, best) : "-");
				for (size_t m = 0; m < cl->n_use; m++) {
					const struct inv_usage *us = &cl->use[m];
					bool his = false;
					for (int q = 0; q < us->users.n && !his; q++)
						his = strcmp(us->users.v[q], v[i].user) == 0;
					if (his && us->cls == PC_NONSECURE)
						fprintf(f, " %s:%u", us->service ? us->service : "-", us->port);
				}
				fputc('\n', f);
			}
		}
		i = j;
	}
	if (!rows)
		fprintf(f, "  (none: no user name seen on a nonsecure port)\n");
	free(v);
}

/* The notes of one kind, in order of first sight; a line seen more than once says how often. */
static void notes(const struct report_ctx *c, enum note_kind kind)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN], s[ADDR_STRLEN], t[24], times[40];
	int n = 0;
	for (size_t i = 0; i < c->inv->n_notes; i++) {
		const struct inv_note *x = &c->inv->notes[i];
		if (x->kind != kind)
			continue;
		n++;
		times[0] = '\0';
		if (x->count > 1)
			snprintf(times, sizeof times, " (%" PRIu64 " times)", x->count);
		switch (kind) {
		case NOTE_LOOKUP: {
			const char *colon = strchr(x->detail, ':');
			int cls_len = colon ? (int)(colon - x->detail) : 0;
			fprintf(f, "  %-22s asked %-16s for %-16s (%.*s): %s%s\n", addr_str(&x->client, a),
				addr_str(&x->server, s), x->service, cls_len, x->detail, colon ? colon + 2 : x->detail,
				times);
			break;
		}
		case NOTE_SIGNON_FAILURE:
			short_time(x->first_us, t);
			fprintf(f, "  %s  %-22s %-12s user %-12s %s%s\n", t, addr_str(&x->client, a), x->service,
				x->user[0] ? x->user : "-", x->detail, times);
			break;
		default:
			fprintf(f, "  %-22s -> %s:%u (%s): %s%s\n", addr_str(&x->client, a), addr_str(&x->server, s),
				x->port, x->service, x->detail, times);
			break;
		}
	}
	if (!n)
		fprintf(f, "  (none)\n");
}

/* Clients that sent a password or its equivalent in clear (finding cleartext-credentials: tlsready's
 * reading of FTP, POP3, SMTP, IMAP, LDAP and HTTP bytes, or nDPI's Clear-Text Credentials risk), with
 * their nonsecure uses and the names seen.  From the inventory, so a monitor's state says the same;
 * the kind per connection is in the JSON (flows[].cleartext_credentials). */
static void credentials_section(const struct report_ctx *c)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN], s[ADDR_STRLEN], u[256];
	size_t n = 0;
	for (size_t i = 0; i < c->inv->n_clients; i++) {
		const struct inv_client *cl = &c->inv->clients[i];
		if (!(cl->findings & (1u << FND_CLEAR_CREDENTIALS)))
			continue;
		for (size_t j = 0; j < cl->n_use; j++) {
			const struct inv_usage *us = &cl->use[j];
			if (us->cls != PC_NONSECURE || us->connections == us->attempts)
				continue;
			n++;
			fprintf(f, "  %-22s -> %s:%u (%s)", addr_str(&cl->ip, a), addr_str(&us->server, s), us->port,
				us->service ? us->service : "-");
			if (us->users.n) {
				text_names(c, &us->users, false, u, sizeof u);
				fprintf(f, "; users %s", u);
			}
			fputc('\n', f);
		}
	}
	if (!n)
		fprintf(f, "  (none)\n");
}

/* Connections to ports outside the catalogue (a --server address, or IBM i bytes on another port): per
 * server, port and nDPI's protocol name, so nothing that reached the IBM i is invisible. */
static void other_services(const struct report_ctx *c)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN], clean[48];
	struct other_service *rows;
	size_t n;
	if (!other_services_of(c->a, &rows, &n))
		fprintf(f, "  (not counted: %s)\n", analysis_error(c->a) ? analysis_error(c->a) : "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct other_service *o = &rows[i];
		if (!i)
			fprintf(f, "  %-22s %5s  %-24s %7s %11s  %s\n", "SERVER", "PORT", "NDPI PROTOCOL", "CLIENTS", "CONNECTIONS",
				"CONTENT");
		fprintf(f, "  %-22s %5u  %-24s %7" PRIu64 " %11" PRIu64 "  %s\n", addr_str(&o->srv, a), o->port,
			text_clean(clean, sizeof clean, o->proto), o->clients, o->connections, o->content);
	}
	if (!n)
		fprintf(f, "  (none: with --server ADDR every connection to that address is kept and listed here)\n");
	free(rows);
}

static void findings_words(uint32_t bits, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i < FND_COUNT && o < len; i++)
		if (bits & (1u << i))
			o += (size_t)snprintf(out + o, len - o, "%s%s", o ? ", " : "", finding_name((enum finding)i));
}

static void tls_section(const struct report_ctx *c)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN], t[32], w[512];
	int n = 0;
	fprintf(f, "  Versions and ciphers negotiated, per server port:\n");
	for (size_t i = 0; i < c->inv->n_servers; i++) {
		const struct inv_server *s = &c->inv->servers[i];
		for (size_t j = 0; j < s->n_ports; j++) {
			const struct inv_port *p = &s->ports[j];
			if (p->cls != PC_SECURE)
				continue;
			n++;
			uint16_t v[8];
			int nv = inv_versions(p->tls_versions, v, 8);
			fprintf(f, "    %s:%u %-11s ", addr_str(&s->ip, a), p->port, p->service ? p->service : "-");
			for (int k = 0; k < nv; k++)
				fprintf(f, "%s%s", k ? "," : "", tls_version_name(v[k]));
			fprintf(f, "%s ", nv ? "" : "(none completed)");
			for (int k = 0; k < p->ciphers.n; k++)
				fprintf(f, "%s%s", k ? ", " : "", p->ciphers.v[k]);
			fputc('\n', f);
		}
	}
	if (!n)
		fprintf(f, "    (none)\n");
	fprintf(f, "  Server certificates:\n");
	for (size_t k = 0; k < c->inv->n_certs; k++) {
		const struct inv_cert *x = &c->inv->certs[k];
		long days = (long)((x->not_after - c->a->last_us / 1000000) / 86400);
		findings_words(inventory_cert_findings(x, c->a->last_us), w, sizeof w);
		fprintf(f, "    %s:%u %s\n      issuer %s; %s %d bits; expires %.10s (%ld days after the %s)%s%s\n",
			addr_str(&x->server, a), x->port, x->subject, x->issuer, x->key_type, x->key_bits,
			fmt_time(x->not_after * 1000000, t), days, c->state ? "last checkpoint" : "capture",
			w[0] ? "; " : "", w);
	}
	/* say what was seen, not a guess */
	bool tls_seen = false, tls13_only = true;
	for (size_t i = 0; i < c->inv->n_servers; i++)
		for (size_t j = 0; j < c->inv->servers[i].n_ports; j++) {
			uint32_t v = c->inv->servers[i].ports[j].tls_versions;
			tls_seen |= v != 0 || c->inv->servers[i].ports[j].ciphers.n;
			tls13_only &= (v & ~(1u << 4)) == 0;
		}
	if (!c->inv->n_certs && !tls_seen)
		fprintf(f, "    (none: no TLS server answered in this %s)\n", c->state ? "period" : "capture");
	else if (!c->inv->n_certs && tls13_only)
		fprintf(f, "    (none seen: TLS 1.3 encrypts it)\n");
	else if (!c->inv->n_certs)
		fprintf(f, "    (none seen: no handshake got as far as the server's certificate)\n");
	fprintf(f, "  Clients that would break:\n");
	n = 0;
	for (size_t i = 0; i < c->inv->n_clients; i++) {
		const struct inv_client *cl = &c->inv->clients[i];
		if (!cl->offer.tls)
			continue;
		bool b12 = breaks_if_min_tls12(&cl->offer), b13 = breaks_if_tls13_only(&cl->offer),
		     brc4 = breaks_if_rc4_3des_removed(&cl->offer);
		if (!b12 && !b13 && !brc4)
			continue;
		if (!n++)
			fprintf(f, "    %-22s %-16s %-20s %-16s %s\n", "CLIENT", "HIGHEST OFFERED", "IF MINIMUM TLS 1.2",
				"IF TLS 1.3 ONLY", "IF RC4/3DES REMOVED");
		fprintf(f, "    %-22s %-16s %-20s %-16s %s\n", addr_str(&cl->ip, a),
			tls_version_name(cl->offer.max_version) ? tls_version_name(cl->offer.max_version) : "?",
			b12 ? "breaks" : "-", b13 ? "breaks" : "-", brc4 ? "breaks" : "-");
	}
	if (!n)
		fprintf(f, "    (none)\n");
}

/* Every counter of the registry, with what it means: nothing that was not decoded, evicted or
 * truncated is hidden. */
/* Every counter of the registry: those that counted something with what they mean, then the names of
 * those still at 0, so that nothing not decoded, evicted or truncated is hidden. */
static void counters(const struct report_ctx *c)
{
	FILE *f = c->out;
	const struct analysis *an = c->a;
	const struct capture_status *st = an->st;
	char name[64];
	fprintf(f, "  %-34s %12" PRIu64 "  %s\n", "packets", an->packets, "frames read");
	fprintf(f, "  %-34s %12" PRIu64 "  %s\n", "tcp_packets", an->tcp_packets, "TCP segments decoded");
	for (size_t i = 0; i < an->n_counters; i++) {
		const struct counter *k = &an->counters[i];
		snprintf(name, sizeof name, "%s%s%s", k->group ? k->group : "", k->group ? "." : "", k->name);
		if (k->value)
			fprintf(f, "  %-34s %12" PRIu64 "  %s\n", name, k->value, k->meaning);
	}
	int col = 0;
	for (size_t i = 0; i < an->n_counters; i++) {
		const struct counter *k = &an->counters[i];
		if (k->value)
			continue;
		snprintf(name, sizeof name, "%s%s%s", k->group ? k->group : "", k->group ? "." : "", k->name);
		if (!col)
			col = fprintf(f, "  at 0:");
		else if (col + (int)strlen(name) + 2 > 100)
			fputs(",\n", f), col = fprintf(f, "       ");
		else
			col += fprintf(f, ",");
		col += fprintf(f, " %s", name);
	}
	if (col)
		fputc('\n', f);
	if (st->live)
		fprintf(f, "  live capture: received %llu, dropped by kernel %llu, by interface %llu, not analysed at"
			   " stop %llu\n", st->ps_recv, st->ps_drop, st->ps_ifdrop, st->not_analysed);
}

void report_text(const struct report_ctx *c)
{
	FILE *f = c->out;
	char t1[24], t2[24], a[ADDR_STRLEN], v[32];
	fprintf(f, "tlsready %s: IBM i TLS readiness%s\n", TLSREADY_VERSION, c->state ? ", from the monitor's state" : "");
	if (!c->state) {
		fprintf(f, "Input: ");
		if (c->a->iface)
			fprintf(f, "interface %s", c->a->iface);
		for (int i = 0; i < c->a->n_inputs; i++)
			fprintf(f, "%s%s", i ? ", " : "", strcmp(c->a->inputs[i], "-") == 0 ? "(stdin)" : c->a->inputs[i]);
		fputc('\n', f);
	}
	if (c->a->any_packet) {
		short_time(c->a->first_us, t1);
		short_time(c->a->last_us, t2);
		fprintf(f, "Time:  %s to %s UTC\n", t1, t2);
	}
	fprintf(f, "Seen:  %" PRIu64 " packets, %zu IBM i connections, %zu clients: %" PRIu64 " nonsecure, %" PRIu64
		" secure only, %" PRIu64 " unknown\n",
		c->a->packets, (size_t)c->inv->flows, c->inv->n_clients, c->inv->nonsecure_clients,
		c->inv->secure_clients, c->inv->unknown_clients);
	if (c->redact)
		fprintf(f, "Names: user, device and host names redacted, %s\n",
			c->redact_source == REDACT_KEY_RANDOM ? "key random for this run (hashes differ between reports)"
							      : "with the given key");
	if (c->inv->attempt_clients)
		fprintf(f, "       and %" PRIu64 " clients that only tried nonsecure ports (no TCP handshake completed)\n",
			c->inv->attempt_clients);

	struct plan local;
	bool own;
	const struct plan *plan = report_plan(c, &local, &own);
	if (plan)
		plan_text(c, plan);
	if (c->plan_only) {
		if (own)
			plan_free(&local);
		return;
	}
	if (c->state)
		state_text(c);
	text_section(f, "Clients still using nonsecure ports");
	usage_table(c, false, T_NONSECURE);
	uint64_t n_mixed = 0;
	for (size_t i = 0; i < c->inv->n_clients; i++)
		n_mixed += mixed(&c->inv->clients[i]);
	if (n_mixed) {
		fprintf(f, "\n  %" PRIu64 " of them also use TLS on secure ports (mixed: the closest to ready):\n", n_mixed);
		usage_rows(c, false, T_MIXED);
		usage_rows(c, true, T_MIXED);
	}
	if (c->inv->internal_clients) {
		text_section(f, "The IBM i talking to itself (loopback or its own address)");
		fprintf(f, "  IBM's note: some IBM i web tools use the nonsecure ports over loopback. A span port\n"
			   "  never sees this traffic; port restrictions would still break it.\n");
		usage_table(c, true, T_NONSECURE);
	}
	if (c->inv->attempt_clients) {
		text_section(f, "Clients that only tried nonsecure ports (SYN unanswered or refused, handshake never completed)");
		fprintf(f, "  Not counted as nonsecure use: spoofed SYNs look like this. A real client here\n"
			   "  failed to connect, and will keep failing after the cutover.\n");
		usage_table(c, false, T_ATTEMPTS);
		usage_table(c, true, T_ATTEMPTS);
	}
	attempts_text(c);
	text_section(f, "Clients using secure ports only");
	int secure_rows = usage_rows(c, false, T_SECURE);
	if (c->inv->internal_clients && usage_rows(c, true, T_SECURE))
		secure_rows++, fprintf(f, "  (the rows above with the IBM i's own address or loopback as client are the IBM i"
					  " talking to itself)\n");
	if (!secure_rows)
		fprintf(f, "  (none)\n");
	text_section(f, "Credentials in clear (tlsready's reading, or nDPI's Clear-Text Credentials risk; never the secret)");
	credentials_section(c);
	text_section(f, "Who the clients are (host names from DNS, DHCP, NetBIOS, mDNS, LLMNR, DRDA, 5250)");
	names_section(c);
	text_section(f, "Users on nonsecure ports, and the machines they sign on from");
	users_section(c);
	text_section(f, "Client software (what the bytes say it is)");
	software_section(c);
	text_section(f, "TLS on the secure ports");
	tls_section(c);
	text_section(f, "Port-mapper lookups");
	notes(c, NOTE_LOOKUP);
	text_section(f, "Sign-on failures");
	notes(c, NOTE_SIGNON_FAILURE);
	text_section(f, "Mismatches (the bytes disagree with the port)");
	notes(c, NOTE_MISMATCH);
	text_section(f, "Other services on the IBM i (ports outside the catalogue)");
	other_services(c);
	text_section(f, "Servers");
	for (size_t i = 0; i < c->inv->n_servers; i++) {
		const struct inv_server *s = &c->inv->servers[i];
		fprintf(f, "  %s%s%s: %" PRIu64 " clients; ports", addr_str(&s->ip, a),
			hs_vrm_string(s->release_vrm, v, sizeof v) ? " release " : "", s->release_vrm ? v : "",
			s->clients);
		for (size_t j = 0; j < s->n_ports; j++)
			fprintf(f, " %u(%s)", s->ports[j].port, s->ports[j].service ? s->ports[j].service : "-");
		fputc('\n', f);
	}
	if (!c->inv->n_servers)
		fprintf(f, "  (none)\n");
	text_section(f, "Counters");
	counters(c);
	if (c->a->st->n_warnings) {
		text_section(f, "Warnings");
		for (int i = 0; i < c->a->st->n_warnings; i++)
			fprintf(f, "  %s\n", c->a->st->warnings[i]);
	}
	if (own)
		plan_free(&local);
}
