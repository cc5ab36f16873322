/*
 * report_compare_text.c - a comparison of two periods (compare.h) for a
 * person at a terminal.
 *
 * In: the comparison; names through report_name() (redaction).  Out: on
 * c->out, in this order: the two periods and their totals; clients new on a
 * nonsecure port; moved to TLS; still nonsecure; stopped; disappeared;
 * services that became clean; services that became dirty.  In each client
 * section the IBM i talking to itself (internal clients) comes after the
 * others, under its own line, as in the report.
 *
 * The look is report_text.c's: text_section() titles, the same columns, names
 * joined by ',' and quoted the same way (text_names, report_common.c), where
 * a byte outside printable ASCII is shown as '?' (names may come from a
 * state file, not from a dissector that cleaned them).
 */
#include <inttypes.h>
#include <string.h>

#include "redact.h"
#include "report_compare.h"
#include "tls.h"

static bool printable(char ch)
{
	return (unsigned char)ch >= 0x20 && (unsigned char)ch < 0x7f;
}

/* A word (service name) as shown: '?' for anything unprintable, "-" for none. */
static const char *word(const char *s, char *out, size_t len)
{
	if (!s || !*s)
		return "-";
	size_t o = 0;
	for (; *s && o + 1 < len; s++)
		out[o++] = printable(*s) ? *s : '?';
	out[o] = '\0';
	return out;
}

static void short_time(int64_t us, char *buf)
{
	char t[32];
	fmt_time(us, t);
	/* 2026-11-23T19:53:50.123456Z -> 2026-11-23 19:53:50 */
	snprintf(buf, 20, "%.10s %.8s", t, t + 11);
}

/* A period bound: "2025-11-17 00:00:00 UTC", or for an open one what it means. */
static void bound(int64_t us, const char *open, char *buf)
{
	if (us == CMP_OPEN) {
		snprintf(buf, 32, "%s", open);
		return;
	}
	short_time(us, buf);
	strcat(buf, " UTC");
}

static void versions(uint32_t bits, char *out, size_t len)
{
	uint16_t v[8];
	int n = inv_versions(bits, v, 8);
	size_t o = 0;
	out[0] = '\0';
	for (int k = 0; k < n && o < len; k++) {
		const char *name = tls_version_name(v[k]);
		o += (size_t)snprintf(out + o, len - o, "%s%s", k ? "," : "", name && strlen(name) > 3 ? name + 3 : "?");
	}
	if (!n)
		snprintf(out, len, "-");
}

static void header(FILE *f, enum cmp_kind k)
{
	switch (k) {
	case CMP_NEW_NONSECURE:
		fprintf(f, "  %-22s %-16s %-12s %5s %5s  %-12s %-20s %-12s %-19s %-19s\n", "CLIENT", "SERVER", "SERVICE",
			"PORT", "CONN", "BEFORE", "USERS", "DEVICES", "FIRST SEEN", "LAST SEEN");
		break;
	case CMP_MOVED_TO_TLS:
		fprintf(f, "  %-22s %-16s %-12s %5s %8s %5s %5s  %-12s %-20s %-19s %-19s\n", "CLIENT", "SERVER", "SERVICE",
			"PORT", "TLS PORT", "CONN", "TLS", "VERSIONS", "USERS", "LAST NONSECURE", "FIRST TLS");
		break;
	case CMP_STILL_NONSECURE:
		fprintf(f, "  %-22s %-16s %-12s %5s %6s %6s  %-20s %-12s %-19s %-19s\n", "CLIENT", "SERVER", "SERVICE",
			"PORT", "BEFORE", "AFTER", "USERS", "DEVICES", "FIRST SEEN", "LAST SEEN");
		break;
	case CMP_STOPPED:
		fprintf(f, "  %-22s %-16s %-12s %5s %5s  %-12s %-20s %-12s %-19s %-19s\n", "CLIENT", "SERVER", "SERVICE",
			"PORT", "CONN", "NOW", "USERS", "DEVICES", "FIRST SEEN", "LAST SEEN");
		break;
	case CMP_DISAPPEARED:
		fprintf(f, "  %-22s %-12s %5s  %-20s %-12s %-19s %-19s\n", "CLIENT", "STATUS", "USES", "USERS", "DEVICES",
			"FIRST SEEN", "LAST SEEN");
		break;
	case CMP_BECAME_CLEAN:
	case CMP_BECAME_DIRTY:
		fprintf(f, "  %-16s %-12s %5s %7s\n", "SERVER", "SERVICE", "PORT", "CLIENTS");
		break;
	default:
		break;
	}
}

static void row(const struct report_ctx *c, const struct cmp_item *it)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN], s[ADDR_STRLEN], w[SERVICE_NAME_MAX + 8], u[256], d[256], t1[24], t2[24], v[48];
	const struct inv_usage *nb = it->before, *na = it->after;
	const struct inv_client *cl = it->ca ? it->ca : it->cb;
	const char *svc = word(it->service, w, sizeof w);
	if (cl)
		addr_str(&cl->ip, a);
	addr_str(&it->server, s);
	short_time(it->first_us, t1);
	short_time(it->last_us, t2);
	switch (it->kind) {
	case CMP_NEW_NONSECURE:
		text_names(c, &na->users, true, u, sizeof u);
		text_names(c, &na->devices, true, d, sizeof d);
		fprintf(f, "  %-22s %-16s %-12s %5u %5" PRIu64 "  %-12s %-20s %-12s %-19s %-19s\n", a, s, svc, it->port,
			na->connections, it->cb ? cmp_status_name(it->cb) : "new", u, d, t1, t2);
		break;
	case CMP_MOVED_TO_TLS:
		text_names(c, &nb->users, true, u, sizeof u);
		versions(na->tls_versions, v, sizeof v);
		short_time(na->first_us, t1);
		fprintf(f, "  %-22s %-16s %-12s %5u %8u %5" PRIu64 " %5" PRIu64 "  %-12s %-20s %-19s %-19s\n", a, s, svc,
			it->port, na->port, nb->connections, na->tls, v, u, t2, t1);
		break;
	case CMP_STILL_NONSECURE:
		text_names(c, &na->users, true, u, sizeof u);
		text_names(c, &na->devices, true, d, sizeof d);
		fprintf(f, "  %-22s %-16s %-12s %5u %6" PRIu64 " %6" PRIu64 "  %-20s %-12s %-19s %-19s\n", a, s, svc,
			it->port, nb->connections, na->connections, u, d, t1, t2);
		break;
	case CMP_STOPPED:
		text_names(c, &nb->users, true, u, sizeof u);
		text_names(c, &nb->devices, true, d, sizeof d);
		fprintf(f, "  %-22s %-16s %-12s %5u %5" PRIu64 "  %-12s %-20s %-12s %-19s %-19s\n", a, s, svc, it->port,
			nb->connections, cmp_status_name(it->ca), u, d, t1, t2);
		break;
	case CMP_DISAPPEARED:
		text_names(c, &it->cb->users, true, u, sizeof u);
		text_names(c, &it->cb->devices, true, d, sizeof d);
		if (!it->cb->n_use)   /* seen at the port mapper only: no row, no span */
			snprintf(t1, sizeof t1, "-"), snprintf(t2, sizeof t2, "-");
		fprintf(f, "  %-22s %-12s %5" PRIu64 "  %-20s %-12s %-19s %-19s\n", a, cmp_status_name(it->cb),
			it->nonsecure_uses, u, d, t1, t2);
		break;
	case CMP_BECAME_CLEAN:
	case CMP_BECAME_DIRTY:
		fprintf(f, "  %-16s %-12s %5u %7" PRIu64 "\n", s, svc, it->port,
			it->kind == CMP_BECAME_CLEAN ? it->clients_before : it->clients_after);
		break;
	default:
		break;
	}
}

/* One section: the other clients' rows, then the IBM i's own (services have no client). */
static void section(const struct report_ctx *c, const struct comparison *cmp, enum cmp_kind k, const char *title,
		    const char *note)
{
	FILE *f = c->out;
	const struct cmp_list *l = &cmp->list[k];
	text_section(f, title);
	if (note)
		fprintf(f, "%s", note);
	for (int internal = 0; internal < 2; internal++) {
		int n = 0;
		for (size_t i = 0; i < l->n; i++) {
			if (l->v[i].internal != internal)
				continue;
			if (!n++) {
				if (internal)
					fprintf(f, "\n  The IBM i talking to itself (loopback or its own address):\n");
				header(f, k);
			}
			row(c, &l->v[i]);
		}
		if (!internal && !n)
			fprintf(f, "  (none%s)\n", cmp->internal[k] ? " but the IBM i itself" : "");
	}
}

static void summary(const struct report_ctx *c, const struct comparison *cmp)
{
	FILE *f = c->out;
	char t1[32], t2[32];
	const struct cmp_side_totals *b = &cmp->before, *a = &cmp->after;
	const uint64_t *in = cmp->internal;
	fprintf(f, "tlsready %s: IBM i TLS readiness, two periods compared\n", TLSREADY_VERSION);
	bound(cmp->before_period.since_us, "the start", t1);
	bound(cmp->before_period.until_us, "now", t2);
	fprintf(f, "Before:   %s to %s\n", t1, t2);
	bound(cmp->after_period.since_us, "the start", t1);
	bound(cmp->after_period.until_us, "now", t2);
	fprintf(f, "After:    %s to %s\n", t1, t2);
	fprintf(f, "Clients:  %" PRIu64 " before (%" PRIu64 " nonsecure), %" PRIu64 " after (%" PRIu64 " nonsecure);"
		   " nonsecure uses %" PRIu64 " before, %" PRIu64 " after\n",
		b->clients, b->nonsecure_clients, a->clients, a->nonsecure_clients, b->nonsecure_uses, a->nonsecure_uses);
	fprintf(f, "Changes:  new on a nonsecure port %zu, moved to TLS %zu, still nonsecure %zu, stopped %zu,"
		   " disappeared %zu (nonsecure %" PRIu64 ")\n",
		cmp->list[CMP_NEW_NONSECURE].n, cmp->list[CMP_MOVED_TO_TLS].n, cmp->list[CMP_STILL_NONSECURE].n,
		cmp->list[CMP_STOPPED].n, cmp->list[CMP_DISAPPEARED].n, cmp->disappeared_nonsecure);
	if (in[CMP_NEW_NONSECURE] || in[CMP_MOVED_TO_TLS] || in[CMP_STILL_NONSECURE] || in[CMP_STOPPED] ||
	    in[CMP_DISAPPEARED])
		fprintf(f, "          of which the IBM i talking to itself: new %" PRIu64 ", moved %" PRIu64 ", still %" PRIu64
			   ", stopped %" PRIu64 ", disappeared %" PRIu64 "\n",
			in[CMP_NEW_NONSECURE], in[CMP_MOVED_TO_TLS], in[CMP_STILL_NONSECURE], in[CMP_STOPPED],
			in[CMP_DISAPPEARED]);
	fprintf(f, "Services: became clean %zu, became dirty %zu; with nonsecure clients %" PRIu64 " before, %" PRIu64
		   " after\n",
		cmp->list[CMP_BECAME_CLEAN].n, cmp->list[CMP_BECAME_DIRTY].n, b->dirty_services, a->dirty_services);
	if (c->redact)
		fprintf(f, "Names:    user and device names redacted, %s\n",
			c->redact_source == REDACT_KEY_RANDOM ? "key random for this run (hashes differ between reports)"
							      : "with the given key");
}

void report_compare_text(const struct report_ctx *c, const struct comparison *cmp)
{
	summary(c, cmp);
	section(c, cmp, CMP_NEW_NONSECURE, "New on a nonsecure port (no such use before)",
		"  BEFORE: the client's status in the earlier period, \"new\" if it was not seen then.\n");
	section(c, cmp, CMP_MOVED_TO_TLS, "Moved to TLS (the same service on the same server, the nonsecure port no longer used)",
		NULL);
	section(c, cmp, CMP_STILL_NONSECURE, "Still nonsecure (in both periods)", "  BEFORE, AFTER: connections.\n");
	section(c, cmp, CMP_STOPPED, "Stopped using a nonsecure port (still seen, without TLS to that service)",
		"  NOW: the client's status in the later period.\n");
	section(c, cmp, CMP_DISAPPEARED, "Clients that disappeared (seen before, not at all after)",
		"  USES: its nonsecure uses before.\n");
	section(c, cmp, CMP_BECAME_CLEAN, "Services that became clean (nonsecure clients before, none after)",
		"  CLIENTS: nonsecure clients before.\n");
	section(c, cmp, CMP_BECAME_DIRTY, "Services that became dirty (no nonsecure client before, some after)",
		"  CLIENTS: nonsecure clients after.\n");
}
