/*
 * report_html.c - the report as one self-contained HTML file for the people
 * who decide the cutover: the verdict first, the plan with its commands, the
 * clients to change, charts drawn here as inline SVG, then the tables.
 *
 * In: the report context (the analysis, the inventory, the state of a
 * monitor's store when there is one).  Out: one HTML document on c->out that
 * fetches nothing: its only style and script are inline, allowed by a
 * Content-Security-Policy that names their SHA-256 (default-src 'none').
 * Every string that came off the wire (names, services, certificate fields)
 * is escaped for HTML text or attribute.  Tables sort and filter with the
 * small script below and read the same without it; clients expand with
 * <details>.  Print: a stylesheet for paper, a page break before each section.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "report.h"
#include "software.h"
#include "report_plan.h"
#include "state_report.h"
#include "tls.h"

#define DAY_US ((int64_t)86400 * 1000000)
/* Rows of clients a section lists before it says how many more there are: a page a browser opens
 * quickly whatever the capture (the JSON and CSV reports list every one). */
#define HTML_MAX_CLIENTS 2000
/* Rows of one client's uses (server, service, port) its table lists, the nonsecure ones first. */
#define HTML_MAX_USES 100
/* Days the chart of days draws (the most recent ones). */
#define HTML_MAX_DAYS 62

static const char STYLE[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1em;color:#1b1b1b}"
	"h1{font-size:1.5em}h2{border-bottom:2px solid #ccd;padding-bottom:.2em;margin-top:2em}"
	".verdict{font-size:1.4em;padding:.6em 1em;border-radius:6px;margin:1em 0}"
	".ready{background:#e3f5e1;border:2px solid #2e7d32}.blocked{background:#fdecea;border:2px solid #c62828}"
	".unknown{background:#fff8e1;border:2px solid #f9a825}"
	"table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #ccd;padding:.25em .5em;"
	"text-align:left;vertical-align:top}th{background:#eef;cursor:pointer}td.n{text-align:right}"
	"pre{background:#f4f4f8;padding:.6em;overflow-x:auto;white-space:pre-wrap}"
	"details{margin:.3em 0}summary{cursor:pointer}.note{color:#555}svg{max-width:100%}"
	"input.filter{margin:.3em 0;padding:.2em;width:20em}button{margin:.2em 0}"
	"@media print{body{max-width:none}h2{page-break-before:always}input.filter,button{display:none}"
	"details>*{display:block}th{cursor:auto}}";

static const char SCRIPT[] =
	"document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){"
	"var t=th.closest('table'),i=Array.prototype.indexOf.call(th.parentNode.children,th),"
	"rows=Array.prototype.slice.call(t.tBodies[0].rows),asc=th.dataset.dir!=='asc';th.dataset.dir=asc?'asc':'desc';"
	"rows.sort(function(a,b){var x=a.cells[i].textContent,y=b.cells[i].textContent,nx=parseFloat(x),ny=parseFloat(y);"
	"var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?c:-c;});"
	"rows.forEach(function(r){t.tBodies[0].appendChild(r);});});});"
	"document.querySelectorAll('input.filter').forEach(function(inp){inp.addEventListener('input',function(){"
	"var q=inp.value.toLowerCase(),t=document.getElementById(inp.dataset.table);"
	"Array.prototype.forEach.call(t.tBodies[0].rows,function(r){"
	"r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':'';});});});"
	"document.querySelectorAll('button.copy').forEach(function(b){b.addEventListener('click',function(){"
	"var p=document.getElementById(b.dataset.pre);if(navigator.clipboard)navigator.clipboard.writeText(p.textContent);"
	"b.textContent='copied';});});"
	"document.body.dataset.script='ran';";

/* base64 of the SHA-256 of s: what a CSP hash source names. */
static void csp_hash(const char *s, char *out, size_t len)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	out[0] = '\0';
	if (EVP_Digest(s, strlen(s), d, &n, EVP_sha256(), NULL) != 1 || len < 4 * ((n + 2) / 3) + 1)
		return;
	EVP_EncodeBlock((unsigned char *)out, d, (int)n);
}

/* Text or attribute value: & < > " ' escaped, control bytes and DEL as U+FFFD (but line ends and
 * tabs where `keep_lines`, inside <pre>). */
static void esc_text(FILE *f, const char *s, bool keep_lines)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		switch (ch) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if ((ch < 0x20 && !(keep_lines && (ch == '\n' || ch == '\t'))) || ch == 0x7f)
				fputs("&#xfffd;", f);
			else
				fputc(ch, f);
		}
	}
}

static void esc(FILE *f, const char *s)
{
	esc_text(f, s, false);
}

/* A client's software, each "NAME (EVIDENCE)" (software.h), escaped. */
static void esc_software(FILE *f, const struct name_set *s)
{
	char line[258];
	for (int i = 0; i < s->n; i++) {
		fputs(i ? "; " : "", f);
		esc(f, software_line(s->v[i], line, sizeof line));
	}
	if (s->overflow)
		fputs("; &hellip;", f);
	if (!s->n)
		fputs("&ndash;", f);
}

static void esc_names(FILE *f, const struct name_set *s)
{
	for (int i = 0; i < s->n; i++) {
		fputs(i ? ", " : "", f);
		esc(f, s->v[i]);
	}
	if (s->overflow)
		fputs(", &hellip;", f);
	if (!s->n)
		fputs("&ndash;", f);
}

static void td_time(FILE *f, int64_t us)
{
	char t[32];
	fputs("<td>", f);
	if (us) {
		fmt_time(us, t);
		fprintf(f, "%.10s %.8s", t, t + 11);
	} else {
		fputs("&ndash;", f);
	}
	fputs("</td>", f);
}

/* ---- charts: horizontal bars, drawn here ---- */

struct bar {
	char label[64];
	uint64_t value[2];         /* stacked: [0] dark, [1] light */
};

static void bar_chart(FILE *f, const char *title, const struct bar *b, size_t n, const char *legend0,
		      const char *legend1)
{
	uint64_t max = 1;
	for (size_t i = 0; i < n; i++)
		if (b[i].value[0] + b[i].value[1] > max)
			max = b[i].value[0] + b[i].value[1];
	int h = 22 * (int)n + 30;
	fprintf(f, "<figure><figcaption>");
	esc(f, title);
	fprintf(f, "</figcaption><svg role=\"img\" viewBox=\"0 0 700 %d\" width=\"700\" height=\"%d\">", h, h);
	for (size_t i = 0; i < n; i++) {
		int y = 22 * (int)i + 4;
		int w0 = (int)(450.0 * (double)b[i].value[0] / (double)max);
		int w1 = (int)(450.0 * (double)b[i].value[1] / (double)max);
		fprintf(f, "<text x=\"0\" y=\"%d\" font-size=\"12\">", y + 13);
		esc(f, b[i].label);
		char num[48];
		if (legend1)
			snprintf(num, sizeof num, "%" PRIu64 " / %" PRIu64, b[i].value[0], b[i].value[1]);
		else
			snprintf(num, sizeof num, "%" PRIu64, b[i].value[0]);
		fprintf(f, "</text><rect x=\"170\" y=\"%d\" width=\"%d\" height=\"16\" fill=\"#c62828\"/>"
			   "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" fill=\"#2e7d32\"/>"
			   "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>",
			y, w0, 170 + w0, y, w1, 175 + w0 + w1, y + 13, num);
	}
	if (!n)
		fputs("<text x=\"0\" y=\"16\" font-size=\"12\">(nothing to show)</text>", f);
	fprintf(f, "<text x=\"170\" y=\"%d\" font-size=\"11\" fill=\"#c62828\">", h - 6);
	esc(f, legend0);
	fputs("</text>", f);
	if (legend1) {
		fprintf(f, "<text x=\"420\" y=\"%d\" font-size=\"11\" fill=\"#2e7d32\">", h - 6);
		esc(f, legend1);
		fputs("</text>", f);
	}
	fputs("</svg></figure>\n", f);
}

/* Connections per UTC day, nonsecure against secure, from the inventory's days (a capture's records, or
 * the per-day rows of a monitor's state): every calendar day from the first to the last (a state's
 * --since/--until window widens that, up to today), a day without a connection as an empty bar, the
 * last HTML_MAX_DAYS days when there are more. */
static void chart_days(const struct report_ctx *c)
{
	struct bar b[HTML_MAX_DAYS];
	size_t n = 0;
	const struct inventory *inv = c->inv;
	int64_t first = inv->n_days ? inv->days[0].day : INT64_MAX;
	int64_t last = inv->n_days ? inv->days[inv->n_days - 1].day : INT64_MIN;
	if (c->state) {   /* a window of a state: each of its days, up to today */
		int64_t today = inventory_day(c->state->now_us);
		if (c->state->since_us && inventory_day(c->state->since_us) < first)
			first = inventory_day(c->state->since_us);
		int64_t until = c->state->until_us ? inventory_day(c->state->until_us - 1) : INT64_MIN;
		if (until > last)
			last = until < today ? until : today;
		if (last == INT64_MIN && first != INT64_MAX)
			last = first > today ? first : today;
	}
	if (first == INT64_MAX || last < first) {   /* nothing seen */
		first = 0;
		last = -1;
	}
	int64_t from = last - first + 1 > HTML_MAX_DAYS ? last - HTML_MAX_DAYS + 1 : first;
	for (int64_t d = from, k = 0; d <= last; d++) {
		while ((size_t)k < inv->n_days && inv->days[k].day < d)
			k++;
		memset(&b[n], 0, sizeof b[n]);
		char t[32];
		snprintf(b[n].label, sizeof b[n].label, "%.10s", fmt_time(d * DAY_US, t));
		if ((size_t)k < inv->n_days && inv->days[k].day == d) {
			b[n].value[0] = inv->days[k].nonsecure;
			b[n].value[1] = inv->days[k].secure;
		}
		n++;
	}
	bar_chart(c->out, "Connections per day (UTC): nonsecure / secure", b, n, "nonsecure", "secure");
	if (from > first)
		fprintf(c->out, "<p class=\"note\">%" PRId64 " earlier days are not drawn (--since and --until"
				" choose the days of a report).</p>", from - first);
}

static void chart_doors(FILE *f, const struct plan *p)
{
	struct bar b[PLAN_MAX_DOORS];
	size_t n = 0;
	for (size_t i = 0; i < p->n_doors; i++) {
		snprintf(b[n].label, sizeof b[n].label, "%s/%u", p->doors[i].service, p->doors[i].port);
		b[n].value[0] = p->doors[i].clients;
		b[n].value[1] = 0;
		n++;
	}
	bar_chart(f, "Clients per nonsecure door", b, n, "clients that must change first", NULL);
}

static void chart_versions(const struct report_ctx *c)
{
	struct bar b[8];
	size_t n = 0;
	uint16_t vs[] = { 0x0300, 0x0301, 0x0302, 0x0303, 0x0304 };
	for (size_t k = 0; k < sizeof vs / sizeof vs[0]; k++) {
		uint64_t neg = 0, off = 0;
		for (size_t i = 0; i < c->inv->n_clients; i++) {
			const struct inv_client *cl = &c->inv->clients[i];
			bool any = false;
			for (size_t j = 0; j < cl->n_use; j++)
				any |= (cl->use[j].tls_versions >> (vs[k] & 0x1f)) & 1;
			neg += any;
			off += cl->offer.tls && cl->offer.max_version == vs[k];
		}
		snprintf(b[n].label, sizeof b[n].label, "%s", tls_version_name(vs[k]) ? tls_version_name(vs[k]) : "?");
		b[n].value[0] = neg;
		b[n].value[1] = off;
		n++;
	}
	bar_chart(c->out, "TLS versions: clients that negotiated it / clients whose highest offer it is", b, n,
		  "negotiated", "highest offered");
}

static void chart_certs(const struct report_ctx *c)
{
	static const struct { const char *label; long below; } bins[] = {
		{ "expired", 0 }, { "under 30 days", 30 }, { "30-90 days", 90 }, { "90-365 days", 365 }, { "over a year", 1L << 30 },
	};
	struct bar b[5];
	memset(b, 0, sizeof b);
	for (size_t k = 0; k < 5; k++)
		snprintf(b[k].label, sizeof b[k].label, "%s", bins[k].label);
	for (size_t i = 0; i < c->inv->n_certs; i++) {
		long days = (long)((c->inv->certs[i].not_after - c->a->last_us / 1000000) / 86400);
		size_t k = 0;
		while (k < 4 && days >= bins[k].below)
			k++;
		b[k].value[0]++;
	}
	bar_chart(c->out, "Server certificates by days to expiry (from the last traffic seen)", b, 5, "certificates",
		  NULL);
}

/* ---- tables ---- */

static void table_start(FILE *f, const char *id, const char *const *heads, size_t n)
{
	fprintf(f, "<input class=\"filter\" type=\"search\" placeholder=\"filter\" data-table=\"%s\">"
		   "<table class=\"sortable\" id=\"%s\"><thead><tr>", id, id);
	for (size_t i = 0; i < n; i++) {
		fputs("<th>", f);
		esc(f, heads[i]);
		fputs("</th>", f);
	}
	fputs("</tr></thead><tbody>\n", f);
}

static void plan_section(const struct report_ctx *c, const struct plan *p)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN];
	fputs("<h2 id=\"plan\">Cutover plan</h2>", f);
	static const char *const dh[] = { "door", "port", "TLS port", "kind", "verdict", "clients", "connections", "last use" };
	table_start(f, "doors", dh, 8);
	for (size_t i = 0; i < p->n_doors; i++) {
		const struct plan_door *d = &p->doors[i];
		fputs("<tr><td>", f);
		esc(f, d->service);
		fprintf(f, "</td><td class=\"n\">%u</td><td class=\"n\">", d->port);
		if (d->tls_port)
			fprintf(f, "%u", d->tls_port);
		else
			fputs("&ndash;", f);
		fprintf(f, "</td><td>%s</td><td class=\"%s\">%s</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
			   "</td>", door_kind_name(d->kind), door_verdict_name(d->verdict), door_verdict_name(d->verdict),
			d->clients, d->connections);
		td_time(f, d->last_use_us);
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	chart_doors(f, p);
	fputs("<h3>Steps, in IBM's order (tlsready runs none of them)</h3>"
	      "<button class=\"copy\" data-pre=\"steps\" type=\"button\">copy the steps</button><pre id=\"steps\">", f);
	/* the steps are text tlsready writes (commands and ports), escaped all the same */
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (m) {
		plan_steps_text(m, p, "");
		fclose(m);
		esc_text(f, buf, true);
		free(buf);
	}
	fputs("</pre>\n<h3>Clients that must change first</h3>", f);
	static const char *const ch[] = { "client", "users", "devices", "software seen", "doors", "last nonsecure", "fix" };
	table_start(f, "blocking", ch, 7);
	for (size_t i = 0; i < p->n_clients && i < HTML_MAX_CLIENTS; i++) {
		const struct plan_client *pc = &p->clients[i];
		fputs("<tr><td>", f);
		esc(f, addr_str(&pc->c->ip, a));
		fputs("</td><td>", f);
		esc_names(f, &pc->c->users);
		fputs("</td><td>", f);
		esc_names(f, &pc->c->devices);
		fputs("</td><td>", f);
		esc_software(f, &pc->c->software);
		fputs("</td><td>", f);
		for (size_t k = 0, n = 0; k < p->n_doors; k++)
			if (pc->doors & (1ull << k)) {
				fputs(n++ ? ", " : "", f);
				esc(f, p->doors[k].service);
				fprintf(f, "/%u", p->doors[k].port);
			}
		fputs("</td>", f);
		td_time(f, pc->c->last_nonsecure_us);
		fputs("<td>", f);
		esc(f, client_fix_name(pc->fix));
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	if (p->n_clients > HTML_MAX_CLIENTS)
		fprintf(f, "<p class=\"note\">&hellip; and %zu more clients to change: the JSON and CSV reports list every"
			   " one.</p>", p->n_clients - HTML_MAX_CLIENTS);
}

static void clients_section(const struct report_ctx *c, bool nonsecure)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN];
	int n = 0;
	size_t more = 0;
	for (size_t i = 0; i < c->inv->n_clients; i++) {
		const struct inv_client *cl = &c->inv->clients[i];
		if ((cl->status == CS_NONSECURE) != nonsecure || (!nonsecure && cl->status != CS_SECURE))
			continue;
		if (n >= HTML_MAX_CLIENTS) {
			more++;
			continue;
		}
		n++;
		fputs("<details><summary>", f);
		esc(f, addr_str(&cl->ip, a));
		const char *src, *best = client_host_name(cl, &src);
		if (best) {   /* who it is: the best host name and where it came from */
			fputs(" <b class=\"host\">", f);
			esc(f, best);
			fputs("</b> (", f);
			esc(f, src);
			fputc(')', f);
		}
		if (cl->n_addrs > 1) {
			fputs(" &mdash; one DHCP host on", f);
			for (int k = 0; k < cl->n_addrs; k++) {
				fputs(k ? ", " : " ", f);
				esc(f, addr_str(&cl->addrs[k], a));
			}
		}
		if (cl->hosts_on_address > 1)
			fprintf(f, " &mdash; its address served %u hosts (DHCP)", cl->hosts_on_address);
		fputs(" &mdash; users ", f);
		esc_names(f, &cl->users);
		fputs("; software ", f);
		esc_software(f, &cl->software);
		fputs("</summary><table><thead><tr><th>server</th><th>service</th><th>port</th><th>class</th>"
		      "<th>connections</th><th>refused</th><th>users</th><th>devices</th><th>first seen</th><th>last seen</th>"
		      "</tr></thead><tbody>", f);
		/* the nonsecure uses first, at most HTML_MAX_USES rows */
		size_t shown = 0;
		for (size_t k = 0; k < 2 * cl->n_use && shown < HTML_MAX_USES; k++) {
			const struct inv_usage *u = &cl->use[k % cl->n_use];
			if ((k < cl->n_use) != (u->cls == PC_NONSECURE))
				continue;
			shown++;
			fputs("<tr><td>", f);
			esc(f, addr_str(&u->server, a));
			fputs("</td><td>", f);
			esc(f, u->service ? u->service : "-");
			fprintf(f, "</td><td class=\"n\">%u</td><td>%s</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
				   "</td><td>", u->port, port_class_name(u->cls), u->connections, u->refused);
			esc_names(f, &u->users);
			fputs("</td><td>", f);
			esc_names(f, &u->devices);
			fputs("</td>", f);
			td_time(f, u->first_us);
			td_time(f, u->last_us);
			fputs("</tr>", f);
		}
		fputs("</tbody></table>", f);
		if (cl->n_use > shown)
			fprintf(f, "<p class=\"note\">&hellip; and %zu more servers and ports this client used: the JSON report"
				   " lists every one.</p>", cl->n_use - shown);
		fputs("</details>\n", f);
	}
	if (!n)
		fputs("<p>(none)</p>", f);
	if (more)
		fprintf(f, "<p class=\"note\">&hellip; and %zu more clients: the JSON and CSV reports list every one.</p>",
			more);
}

static void tls_section(const struct report_ctx *c)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN], t[32];
	static const char *const h[] = { "server", "port", "service", "connections", "TLS versions", "ciphers" };
	table_start(f, "tlsports", h, 6);
	for (size_t i = 0; i < c->inv->n_servers; i++)
		for (size_t j = 0; j < c->inv->servers[i].n_ports; j++) {
			const struct inv_port *p = &c->inv->servers[i].ports[j];
			if (p->cls != PC_SECURE)
				continue;
			fputs("<tr><td>", f);
			esc(f, addr_str(&c->inv->servers[i].ip, a));
			fprintf(f, "</td><td class=\"n\">%u</td><td>", p->port);
			esc(f, p->service ? p->service : "-");
			fprintf(f, "</td><td class=\"n\">%" PRIu64 "</td><td>", p->connections);
			uint16_t v[8];
			int nv = inv_versions(p->tls_versions, v, 8);
			for (int k = 0; k < nv; k++)
				fprintf(f, "%s%s", k ? ", " : "", tls_version_name(v[k]));
			fputs("</td><td>", f);
			esc_names(f, &p->ciphers);
			fputs("</td></tr>\n", f);
		}
	fputs("</tbody></table>\n", f);
	chart_versions(c);
	fputs("<h3>Server certificates</h3>", f);
	static const char *const ch[] = { "server", "port", "subject", "issuer", "key", "not after", "days left" };
	table_start(f, "certs", ch, 7);
	for (size_t i = 0; i < c->inv->n_certs; i++) {
		const struct inv_cert *x = &c->inv->certs[i];
		fputs("<tr><td>", f);
		esc(f, addr_str(&x->server, a));
		fprintf(f, "</td><td class=\"n\">%u</td><td>", x->port);
		esc(f, x->subject);
		fputs("</td><td>", f);
		esc(f, x->issuer);
		fputs("</td><td>", f);
		esc(f, x->key_type);
		fprintf(f, " %d</td><td>%.10s</td><td class=\"n\">%ld</td></tr>\n", x->key_bits,
			fmt_time(x->not_after * 1000000, t), (long)((x->not_after - c->a->last_us / 1000000) / 86400));
	}
	fputs("</tbody></table>\n", f);
	chart_certs(c);
}

static void notes_section(const struct report_ctx *c)
{
	FILE *f = c->out;
	char a[ADDR_STRLEN];
	static const char *const kinds[] = { "port-mapper lookup", "sign-on failure", "mismatch" };
	static const char *const h[] = { "kind", "client", "server", "port", "service", "user", "what", "times", "first" };
	table_start(f, "notes", h, 9);
	for (size_t i = 0; i < c->inv->n_notes; i++) {
		const struct inv_note *x = &c->inv->notes[i];
		fprintf(f, "<tr><td>%s</td><td>", kinds[x->kind < NOTE_KINDS ? x->kind : 0]);
		esc(f, addr_str(&x->client, a));
		fputs("</td><td>", f);
		esc(f, addr_str(&x->server, a));
		fprintf(f, "</td><td class=\"n\">%u</td><td>", x->port);
		esc(f, x->service);
		fputs("</td><td>", f);
		esc(f, x->user);
		fputs("</td><td>", f);
		esc(f, x->detail);
		fprintf(f, "</td><td class=\"n\">%" PRIu64 "</td>", x->count);
		td_time(f, x->first_us);
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

static void counters_section(const struct report_ctx *c)
{
	FILE *f = c->out;
	static const char *const h[] = { "counter", "value", "meaning" };
	table_start(f, "counters", h, 3);
	fprintf(f, "<tr><td>packets</td><td class=\"n\">%" PRIu64 "</td><td>frames read</td></tr>\n", c->a->packets);
	for (size_t i = 0; i < c->a->n_counters; i++) {
		const struct counter *k = &c->a->counters[i];
		fputs("<tr><td>", f);
		if (k->group)
			fprintf(f, "%s.", k->group);
		fprintf(f, "%s</td><td class=\"n\">%" PRIu64 "</td><td>", k->name, k->value);
		esc(f, k->meaning);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

void report_html(const struct report_ctx *c)
{
	FILE *f = c->out;
	char hs[64], hj[64], t1[32], t2[32];
	csp_hash(STYLE, hs, sizeof hs);
	csp_hash(SCRIPT, hj, sizeof hj);
	struct plan local;
	bool own;
	const struct plan *pl = report_plan(c, &local, &own);
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-%s';"
		   " script-src 'sha256-%s'; img-src data:; base-uri 'none'; form-action 'none'\">"
		   "<meta name=\"viewport\" content=\"width=device-width\">"
		   "<title>tlsready: IBM i TLS readiness</title><style>%s</style></head><body>\n", hs, hj, STYLE);
	fprintf(f, "<h1>IBM i TLS readiness</h1><p class=\"note\">tlsready %s; ", TLSREADY_VERSION);
	if (c->state) {
		fputs("the monitor's state ", f);
		esc(f, c->state->db);
	} else {
		for (int i = 0; i < c->a->n_inputs; i++) {
			fputs(i ? ", " : "", f);
			esc(f, c->a->inputs[i]);
		}
		if (c->a->iface) {
			fputs("interface ", f);
			esc(f, c->a->iface);
		}
	}
	if (c->a->any_packet)
		fprintf(f, "; traffic from %.19s to %.19s UTC", fmt_time(c->a->first_us, t1), fmt_time(c->a->last_us, t2));
	fputs("</p>\n", f);
	if (pl) {
		const struct plan_basis *b = &pl->basis;
		const char *cls = door_verdict_name(pl->overall);
		fprintf(f, "<div class=\"verdict %s\" id=\"verdict\"><strong>", cls);
		if (pl->overall == VERDICT_READY)
			fputs("Ready: every nonsecure door can close", f);
		else if (pl->overall == VERDICT_BLOCKED)
			fprintf(f, "Blocked by %zu clients on %zu doors", pl->n_clients, pl->blocked);
		else
			fputs("Unknown: not enough seen to call any door ready", f);
		fprintf(f, "</strong><br><span class=\"note\">%zu ready, %zu blocked, %zu unknown; %.1f days observed of %.0f asked"
			   " for; ", pl->ready, pl->blocked, pl->unknown, (double)b->observed_us / (double)DAY_US,
			(double)b->required_us / (double)DAY_US);
		if (b->coverage_known)
			fprintf(f, "coverage %.3f%% (%" PRIu64 " packets missed)", 100.0 * b->coverage, b->dropped);
		else
			fputs("capture files: what they hold is all that was seen", f);
		fprintf(f, "; loopback %s</span></div>\n", b->loopback_seen ? "seen" : "not seen from this capture point");
		plan_section(c, pl);
	}
	fputs("<h2>Over time</h2>", f);
	chart_days(c);
	fputs("<h2>Clients still using nonsecure ports</h2>", f);
	clients_section(c, true);
	fputs("<h2>Clients using secure ports only</h2>", f);
	clients_section(c, false);
	fputs("<h2>TLS on the secure ports</h2>", f);
	tls_section(c);
	fputs("<h2>Port-mapper lookups, sign-on failures, mismatches</h2>", f);
	notes_section(c);
	fputs("<h2>Counters</h2>", f);
	counters_section(c);
	fprintf(f, "<script>%s</script></body></html>\n", SCRIPT);
	if (own)
		plan_free(&local);
}
