/*
 * report_text.c - the report for a person at a terminal (the default).
 *
 * Order: what was read; clients still using nonsecure ports (the cutover
 * list), with the IBM i's own loopback connections apart; clients on secure
 * ports only; port-mapper lookups; sign-on failures; mismatches; servers;
 * every counter of what was not decoded, evicted or truncated; warnings.
 */
#define _GNU_SOURCE     /* qsort_r */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "hostserver.h"
#include "portmapper.h"
#include "redact.h"
#include "report.h"
#include "tls.h"

/* One name as the list shows it: bare, or in double quotes with \" and \\ when it holds a
 * separator, a quote, a backslash or a space, so "A,B" never reads as two names. */
static size_t list_name(char *out, size_t len, const char *name)
{
	if (!strpbrk(name, ", \"\\"))
		return (size_t)snprintf(out, len, "%s", name);
	size_t o = 0;
	if (o + 1 < len)
		out[o++] = '"';
	for (; *name && o + 3 < len; name++) {
		if (*name == '"' || *name == '\\')
			out[o++] = '\\';
		out[o++] = *name;
	}
	if (o + 1 < len)
		out[o++] = '"';
	out[o < len ? o : len - 1] = '\0';
	return o;
}

static void names(const struct report_ctx *c, const struct name_set *s, char *out, size_t len)
{
	char b[40];
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i < s->n && o + 1 < len; i++) {
		if (i)
			out[o++] = ',', out[o] = '\0';
		o += list_name(out + o, len - o, report_name(c, s->v[i], b, sizeof b));
	}
	if (s->overflow && o < len)
		snprintf(out + o, len - o, ",...");
	if (!out[0])
		snprintf(out, len, "-");
}

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
			names(c, &us->users, u, sizeof u);
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
				names(c, &us->devices, d, sizeof d);
			}
			short_time(us->first_us, t1);
			short_time(us->last_us, t2);
			fprintf(f, "  %-22s %-16s %-12s %5u %5" PRIu64 " %7" PRIu64 "  %-20s %-12s %-19s %-19s%s\n",
				addr_str(&cl->ip, a), addr_str(&us->server, s), us->service ? us->service : "-",
				us->port, us->connections, us->refused, u, d, t1, t2, us->mismatch ? "  (mismatch)" : "");
		}
	}
	return rows;
}

/* What each client's software says it is, with the evidence kind (TLS fingerprint, DRDA
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
			for (int k = 0; k < cl->software.n; k++)
				fprintf(f, "%s%s", k ? "; " : "", cl->software.v[k]);
			fprintf(f, "%s\n", cl->software.overflow ? "; ..." : "");
		}
	if (!n)
		fprintf(f, "  (none: no fingerprint, product, terminal type or datastream level seen)\n");
}

static void mapper_lookups(const struct report_ctx *c)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN], s[ADDR_STRLEN];
	int n = 0;
	for (size_t i = 0; i < c->e->n_records; i++) {
		const struct flow_record *r = c->e->records[i];
		if (!rec_pm(r) || !rec_pm(r)->requested[0])
			continue;
		n++;
		fprintf(f, "  %-22s asked %-16s for %-16s (%s): ", addr_str(&r->cli, a), addr_str(&r->srv, s),
			rec_pm(r)->requested, rec_pm(r)->secure ? "secure" : "nonsecure");
		if (!rec_pm(r)->reply)
			fprintf(f, "no answer seen\n");
		else if (!rec_pm(r)->reply_ok)
			fprintf(f, "failure (reply byte 0x%02x)\n", rec_pm(r)->reply_byte);
		else if (r->link >= 0)
			fprintf(f, "port %u, then connected to %u\n", rec_pm(r)->port, c->e->records[r->link]->sport);
		else
			fprintf(f, "port %u, no connection to it seen\n", rec_pm(r)->port);
	}
	if (!n)
		fprintf(f, "  (none)\n");
}

static void signon_failures(const struct report_ctx *c)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN], b[40], t[24];
	int n = 0;
	for (size_t i = 0; i < c->e->n_records; i++) {
		const struct flow_record *r = c->e->records[i];
		if (!rec_hs(r) || rec_hs(r)->outcome == HS_OUTCOME_NONE || rec_hs(r)->outcome == HS_OUTCOME_OK)
			continue;
		n++;
		short_time(r->start_us, t);
		fprintf(f, "  %s  %-22s %-12s user %-12s %s (rc %08X)\n", t, addr_str(&r->cli, a),
			r->service ? r->service : "-", report_name(c, record_user(r), b, sizeof b) ?: "-",
			hs_outcome_name(rec_hs(r)->outcome), rec_hs(r)->rc);
	}
	if (!n)
		fprintf(f, "  (none)\n");
}

static void mismatches(const struct report_ctx *c)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN], s[ADDR_STRLEN];
	int n = 0;
	for (size_t i = 0; i < c->e->n_records; i++) {
		const struct flow_record *r = c->e->records[i];
		if (!r->mismatch)
			continue;
		n++;
		fprintf(f, "  %-22s -> %s:%u (%s): %s\n", addr_str(&r->cli, a), addr_str(&r->srv, s), r->sport,
			r->service ? r->service : "-", mismatch_name(r->mismatch));
	}
	if (!n)
		fprintf(f, "  (none)\n");
}

static void findings_words(uint32_t bits, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i < FND_COUNT && o < len; i++)
		if (bits & (1u << i))
			o += (size_t)snprintf(out + o, len - o, "%s%s", o ? ", " : "", finding_name((enum finding)i));
}

/* Certificate lines: records ordered by server, port, certificate digest, then first sight. */
static int cmp_cert_key_only(struct flow_record *const *recs, size_t x, size_t y)
{
	const struct flow_record *a = recs[x], *b = recs[y];
	int c = addr_cmp(&a->srv, &b->srv);
	if (c)
		return c;
	if (a->sport != b->sport)
		return a->sport < b->sport ? -1 : 1;
	return strcmp(rec_tls(a)->chain[0].sha256, rec_tls(b)->chain[0].sha256);
}

static int cmp_cert_key(const void *x, const void *y, void *recs)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = cmp_cert_key_only(recs, a, b);
	return c ? c : (a < b ? -1 : a > b);
}

static int cmp_size(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	return a < b ? -1 : a > b;
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
	/* one line per server, port and certificate, in order of first sight: the records with a
	 * certificate sorted by that key (n log n: a flood of handshakes cannot make this quadratic) */
	size_t m = 0, *idx = malloc((c->e->n_records ? c->e->n_records : 1) * sizeof *idx);
	bool tls_seen = false, tls13_only = true;
	for (size_t i = 0; i < c->e->n_records; i++) {
		const struct tls_state *ts = rec_tls(c->e->records[i]);
		if (ts && ts->server_hello) {
			tls_seen = true;
			tls13_only &= ts->version == 0x0304 || (ts->version >> 8) == 0x7f;
		}
		if (idx && ts && ts->cert_seen && ts->chain[0].parsed)
			idx[m++] = i;
	}
	if (m > 1)
		qsort_r(idx, m, sizeof *idx, cmp_cert_key, c->e->records);
	size_t kept = 0;
	for (size_t i = 0; i < m; i++)   /* the first of each run of equal keys */
		if (i == 0 || cmp_cert_key_only(c->e->records, idx[i - 1], idx[i]) != 0)
			idx[kept++] = idx[i];
	if (kept > 1)
		qsort(idx, kept, sizeof *idx, cmp_size);
	for (size_t k = 0; k < kept; k++) {
		const struct flow_record *r = c->e->records[idx[k]];
		const struct x509_info *x = &rec_tls(r)->chain[0];
		long days = (long)((x->not_after - c->e->last_us / 1000000) / 86400);
		findings_words(findings_for(r, c->e->last_us) & ~((1u << FND_HANDSHAKE_FAILED) | (1u << FND_OBSOLETE_VERSION) |
			       (1u << FND_WEAK_CIPHER) | (1u << FND_MISMATCH)), w, sizeof w);
		fprintf(f, "    %s:%u %s\n      issuer %s; %s %d bits; expires %.10s (%ld days after the capture)%s%s%s\n",
			addr_str(&r->srv, a), r->sport, x->subject, x->issuer, x->key_type, x->key_bits,
			fmt_time(x->not_after * 1000000, t), days, w[0] ? "; " : "", w, "");
	}
	free(idx);
	/* say what was seen, not a guess */
	if (!kept && !tls_seen)
		fprintf(f, "    (none: no TLS server answered in this capture)\n");
	else if (!kept && tls13_only)
		fprintf(f, "    (none seen: TLS 1.3 encrypts it)\n");
	else if (!kept)
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

static void counters(const struct report_ctx *c)
{
	FILE *f = c->out;
	const struct engine_counters *k = &c->e->cnt;
	fprintf(f, "  packets read %" PRIu64 ", TCP decoded %" PRIu64 ", outside the filter %" PRIu64 "\n", k->packets,
		k->tcp, k->filtered);
	fprintf(f, "  not decoded:");
	int n = 0;
	for (int i = 1; i < DEC_NREASONS; i++)
		if (k->not_decoded[i])
			fprintf(f, "%s %s %" PRIu64, n++ ? "," : "", decode_reason_name((enum decode_result)i),
				k->not_decoded[i]);
	fprintf(f, "%s\n", n ? "" : " none");
	fprintf(f, "  encapsulations opened:");
	n = 0;
	for (int i = 0; i < ENCAP_N; i++)
		if (k->encap[i])
			fprintf(f, "%s %s %" PRIu64, n++ ? "," : "", encap_name((enum encap)i), k->encap[i]);
	fprintf(f, "%s\n", n ? "" : " none");
	fprintf(f, "  connections %" PRIu64 " (reported %" PRIu64 ", not IBM i %" PRIu64 ", mid-stream %" PRIu64 ")\n",
		k->flows, k->flows_reported, k->flows_other, k->flows_midstream);
	fprintf(f, "  flows evicted by --max-flows %" PRIu64 ", ended by idle timeout %" PRIu64
		", open at end %" PRIu64 ", not tracked (memory) %" PRIu64 "\n",
		k->flows_evicted, k->flows_idle, k->flows_open, k->alloc_failures);
	fprintf(f, "  streams: gaps %" PRIu64 ", truncated at depth %" PRIu64 ", out-of-order %" PRIu64
		" (dropped %" PRIu64 "), retransmitted %" PRIu64 ", cut by snaplen %" PRIu64 "\n",
		k->stream.gaps, k->stream.truncated, k->stream.out_of_order, k->stream.ooo_dropped,
		k->stream.retransmitted, k->stream.snaplen_cut);
	fprintf(f, "  memory (--memcap): connections whose held data was dropped %" PRIu64
		" (%" PRIu64 " bytes), not inspected %" PRIu64 ", directions refused %" PRIu64 "\n",
		k->memcap_inspections_ended, k->memcap_bytes_released, k->memcap_not_inspected,
		k->stream.memcap_refused);
	fprintf(f, "  overlapping segments with different bytes %" PRIu64 " in %" PRIu64
		" connections (stream-overlap-conflict); late segments of closed connections %" PRIu64 "\n",
		k->stream.overlap_conflicts, k->overlap_conflict_flows, k->late_segments);
	fprintf(f, "  flows ended by a new SYN %" PRIu64 ", TLS certificates over the 64 KiB cap %" PRIu64
		", learned ports dropped %" PRIu64 ", server set full %" PRIu64 ", first IP fragments %" PRIu64 "\n",
		k->flows_reused, k->tls_cert_over_cap, c->e->svc->learned_dropped, k->server_set_full, k->ip_fragments);
	if (c->st->live)
		fprintf(f, "  live capture: received %llu, dropped by kernel %llu, by interface %llu, not analysed at"
			   " stop %llu\n", c->st->ps_recv, c->st->ps_drop, c->st->ps_ifdrop, c->st->not_analysed);
}

void report_text(const struct report_ctx *c)
{
	FILE *f = c->out;
	char t1[24], t2[24], a[ADDR_STRLEN], v[32];
	fprintf(f, "tlsready %s: IBM i TLS readiness\n", TLSREADY_VERSION);
	fprintf(f, "Input: ");
	if (c->iface)
		fprintf(f, "interface %s", c->iface);
	for (int i = 0; i < c->n_inputs; i++)
		fprintf(f, "%s%s", i ? ", " : "", strcmp(c->inputs[i], "-") == 0 ? "(stdin)" : c->inputs[i]);
	fputc('\n', f);
	if (c->e->any_packet) {
		short_time(c->e->first_us, t1);
		short_time(c->e->last_us, t2);
		fprintf(f, "Time:  %s to %s UTC\n", t1, t2);
	}
	fprintf(f, "Seen:  %" PRIu64 " packets, %zu IBM i connections, %zu clients: %" PRIu64 " nonsecure, %" PRIu64
		" secure only, %" PRIu64 " unknown\n",
		c->e->cnt.packets, c->e->n_records, c->inv->n_clients, c->inv->nonsecure_clients,
		c->inv->secure_clients, c->inv->unknown_clients);
	if (c->redact)
		fprintf(f, "Names: user and device names redacted, %s\n",
			c->redact_source == REDACT_KEY_RANDOM ? "key random for this run (hashes differ between reports)"
							      : "with the given key");
	if (c->inv->attempt_clients)
		fprintf(f, "       and %" PRIu64 " clients that only tried nonsecure ports (no TCP handshake completed)\n",
			c->inv->attempt_clients);

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
	text_section(f, "Clients using secure ports only");
	int secure_rows = usage_rows(c, false, T_SECURE);
	if (c->inv->internal_clients && usage_rows(c, true, T_SECURE))
		secure_rows++, fprintf(f, "  (the rows above with the IBM i's own address or loopback as client are the IBM i"
					  " talking to itself)\n");
	if (!secure_rows)
		fprintf(f, "  (none)\n");
	text_section(f, "Client software (what the bytes say it is)");
	software_section(c);
	text_section(f, "TLS on the secure ports");
	tls_section(c);
	text_section(f, "Port-mapper lookups");
	mapper_lookups(c);
	text_section(f, "Sign-on failures");
	signon_failures(c);
	text_section(f, "Mismatches (the bytes disagree with the port)");
	mismatches(c);
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
	if (c->st->n_warnings) {
		text_section(f, "Warnings");
		for (int i = 0; i < c->st->n_warnings; i++)
			fprintf(f, "  %s\n", c->st->warnings[i]);
	}
}
