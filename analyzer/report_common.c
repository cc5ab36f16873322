/*
 * report_common.c - what the reporters share: times, redaction, JSON
 * strings, and the JSON forms of a flow record and of the capture object
 * (json and ndjson print the same objects).
 */
#include "counters.h"
#include "redact.h"
#include "report.h"

#include "names.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "drda.h"
#include "findings.h"
#include "fingerprints.h"
#include "hostserver.h"
#include "portmapper.h"
#include "protocol.h"
#include "telnet5250.h"
#include "tls.h"

/* Days since 1970-01-01 to a proleptic Gregorian date (the civil-from-days
 * method: 400-year eras of 146097 days, years starting in March). */
static void civil_date(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	days += 719468;   /* from 0000-03-01 */
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);                           /* [0, 146096] */
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;     /* [0, 399] */
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                   /* [0, 365] */
	unsigned mp = (5 * doy + 2) / 153;                                        /* March = 0 */
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static char *put_digits(char *o, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		o[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return o + width;
}

char *fmt_time(int64_t us, char *buf)
{
	int64_t s = us / 1000000;
	long frac = (long)(us % 1000000);
	if (frac < 0) {
		frac += 1000000;
		s--;
	}
	/* years 1000 to 9999, where the C library's %Y is four digits too: by hand */
	if (s >= -30610224000LL && s <= 253402300799LL) {
		int64_t days = s / 86400, sod = s % 86400;
		if (sod < 0) {
			sod += 86400;
			days--;
		}
		int64_t y;
		unsigned m, d;
		civil_date(days, &y, &m, &d);
		char *o = put_digits(buf, (unsigned)y, 4);
		*o++ = '-';
		o = put_digits(o, m, 2);
		*o++ = '-';
		o = put_digits(o, d, 2);
		*o++ = 'T';
		o = put_digits(o, (unsigned)(sod / 3600), 2);
		*o++ = ':';
		o = put_digits(o, (unsigned)(sod / 60 % 60), 2);
		*o++ = ':';
		o = put_digits(o, (unsigned)(sod % 60), 2);
		*o++ = '.';
		o = put_digits(o, (unsigned)frac, 6);
		memcpy(o, "Z", 2);
		return buf;
	}
	time_t t = (time_t)s;
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof tm);   /* a time no calendar holds: printed as year 1900 */
	size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%06ldZ", frac);
	return buf;
}

const char *report_name(const struct report_ctx *c, const char *name, char *buf, size_t len)
{
	if (!name || !c->redact)
		return name;
	/* the caller always sets a key (the user's or a random one); never a built-in one */
	return redact_name(c->redact_key ? c->redact_key : "", name, buf, len);
}

void json_str(FILE *f, const char *s)
{
	facts_json_str(f, s);
}

/* A signed integer in decimal, without printf (facts_json_uint does the digits). */
static void json_int(FILE *f, int64_t v)
{
	if (v < 0) {
		fputc('-', f);
		facts_json_uint(f, (uint64_t)0 - (uint64_t)v);
	} else {
		facts_json_uint(f, (uint64_t)v);
	}
}

static void json_cert(FILE *f, const struct x509_info *x)
{
	char t[32];
	fputs("{\"subject\":", f); json_str(f, x->subject);
	fputs(",\"issuer\":", f); json_str(f, x->issuer);
	fputs(",\"san\":", f); json_str(f, x->san[0] ? x->san : NULL);
	fputs(",\"serial\":", f); json_str(f, x->serial);
	fputs(",\"not_before\":", f); json_str(f, fmt_time(x->not_before * 1000000, t));
	fputs(",\"not_after\":", f); json_str(f, fmt_time(x->not_after * 1000000, t));
	fputs(",\"key_type\":", f); json_str(f, x->key_type);
	fputs(",\"key_bits\":", f); json_int(f, x->key_bits);
	fputs(",\"signature_algorithm\":", f); json_str(f, x->sig_alg);
	fputs(",\"sha256\":", f); json_str(f, x->sha256);
	fputs(x->self_signed ? ",\"self_signed\":true}" : ",\"self_signed\":false}", f);
}

static void json_tls(FILE *f, const struct flow_record *r)
{
	const struct tls_state *t = rec_tls(r);
	if (!record_is(r, &protocol_tls)) {
		fputs("null", f);
		return;
	}
	if (!t) {   /* mid-stream records only */
		fputs("{\"version\":null,\"cipher\":null,\"handshake_seen\":false}", f);
		return;
	}
	/* "negotiated" means the handshake did not fail: a failed one has no version */
	bool hello = t->server_hello && !t->hello_retry;
	fputs("{\"version\":", f);
	/* a version the schema names (SSLv3 to TLSv1.3, TLSv1.3 drafts); anything else is null */
	const char *vname = tls_version_name(t->version);
	json_str(f, hello && vname && r->transport != TR_TLS_FAILED ? vname : NULL);
	fputs(",\"server_hello_version\":", f);
	json_str(f, hello ? tls_version_name(t->version) : NULL);
	fputs(",\"cipher\":", f);
	json_str(f, hello && r->transport != TR_TLS_FAILED ? tls_cipher_name(t->cipher) : NULL);
	if (t->server_hello)
		fprintf(f, ",\"cipher_id\":\"0x%04x\"", t->cipher);
	fputs(",\"client_max_version\":", f);
	json_str(f, t->client_hello ? tls_version_name(t->client_max_version) : NULL);
	fputs(",\"sni\":", f); json_str(f, t->sni[0] ? t->sni : NULL);
	fputs(",\"alpn\":", f); json_str(f, t->alpn[0] ? t->alpn : NULL);
	fputs(",\"alert\":", f); json_str(f, t->alert ? tls_alert_name(t->alert_desc) : NULL);
	if (t->alert)
		fprintf(f, ",\"alert_level\":\"%s\",\"alert_from\":\"%s\"", t->alert_level == 2 ? "fatal" : "warning",
			t->alert_dir == 1 ? "server" : "client");
	fputs(",\"ja3\":", f); json_str(f, t->ja3[0] ? t->ja3 : NULL);
	fputs(",\"ja3s\":", f); json_str(f, t->ja3s[0] ? t->ja3s : NULL);
	fputs(",\"ja4\":", f); json_str(f, t->ja4[0] ? t->ja4 : NULL);
	fputs(",\"ja4s\":", f); json_str(f, t->ja4s[0] ? t->ja4s : NULL);
	fputs(",\"client_stack\":", f);
	json_str(f, t->client_hello ? fingerprint_stack(t->ja4, t->ja3) : NULL);
	if (r->starttls)
		fputs(",\"starttls\":true", f);
	if (r->up.result == UR_UPGRADED)   /* the protocol's own upgrade, before any credential */
		fputs(",\"upgraded\":true", f);
	if (r->preamble) {
		fputs(",\"after\":", f);
		json_str(f, r->preamble);
	}
	if (t->cert_over_cap)   /* longer than the 64 KiB handshake cap: not parsed */
		fputs(",\"certificate_over_cap\":true", f);
	if (r->snaplen_cut)   /* the snap length cut some of its bytes: null fields may be unseen, not absent */
		fputs(",\"cut_by_snaplen\":true", f);
	/* the length is every certificate the message held; "chain" details the first TLS_MAX_CHAIN */
	fputs(t->hrr_seen ? ",\"hello_retry\":true" : ",\"hello_retry\":false", f);
	fputs(t->completed ? ",\"completed\":true" : ",\"completed\":false", f);
	fputs(",\"chain_length\":", f); facts_json_uint(f, t->chain_total);
	fputs(",\"server_cert\":", f);
	if (t->cert_seen && t->chain_len > 0 && t->chain[0]->parsed)
		json_cert(f, t->chain[0]);
	else
		fputs("null", f);
	fputs(",\"chain\":[", f);
	for (int i = 1; i < t->chain_len && i < TLS_MAX_CHAIN; i++) {
		if (i > 1)
			fputc(',', f);
		json_cert(f, t->chain[i]);
	}
	fputs("]}", f);
}

/* A personal name as this report shows it (the facts printers' callback). */
static const char *facts_name(const void *ctx, const char *name, char *buf, size_t len)
{
	return report_name(ctx, name, buf, len);
}

void json_findings(FILE *f, uint32_t bits)
{
	int n = 0;
	fputc('[', f);
	for (int i = 0; i < FND_COUNT; i++)
		if (bits & (1u << i)) {
			fputs(n++ ? "," : "", f);
			json_str(f, finding_name((enum finding)i));
		}
	fputc(']', f);
}

static const char *end_reason_name(enum end_reason r)
{
	static const char *const n[] = { "end-of-input", "idle-timeout", "evicted", "new-connection", "closed" };
	return (unsigned)r <= END_CLOSED ? n[r] : "end-of-input";
}

void json_flow(const struct report_ctx *c, FILE *f, const struct flow_record *r, size_t index)
{
	int64_t link = analysis_link(c->a, index, NULL);
	char a[ADDR_STRLEN], t[32], nb[40];
	fputs("{\"client_ip\":", f); json_str(f, addr_str(&r->cli, a));
	fputs(",\"client_port\":", f); facts_json_uint(f, r->cport); fputs(",\"server_ip\":", f);
	json_str(f, addr_str(&r->srv, a));
	fputs(",\"server_port\":", f); facts_json_uint(f, r->sport); fputs(",\"service\":", f);
	json_str(f, r->service);
	fputs(",\"port_class\":", f); json_str(f, port_class_name(r->cls));
	fputs(",\"transport\":", f); json_str(f, transport_name(r->transport));
	fputs(",\"tcp\":", f); json_str(f, tcp_outcome_name(r->tcp));
	fputs(r->midstream ? ",\"midstream\":true,\"mismatch\":" : ",\"midstream\":false,\"mismatch\":", f);
	json_str(f, mismatch_name(r->mismatch));
	fputs(",\"tls\":", f); json_tls(f, r);
	fputs(",\"user\":", f); json_str(f, report_name(c, record_user(r), nb, sizeof nb));
	fputs(",\"device\":", f); json_str(f, report_name(c, record_device(r), nb, sizeof nb));
	fputs(",\"upgrade\":", f);
	if (r->up.asked) {
		fputs("{\"protocol\":", f); json_str(f, upgrade_proto_name((enum upgrade_proto)r->up.proto));
		fputs(",\"command\":", f); json_str(f, upgrade_command_name((enum upgrade_proto)r->up.proto));
		fputs(",\"result\":", f); json_str(f, upgrade_result_name((enum upgrade_result)r->up.result));
		fprintf(f, ",\"server_accepted\":%s}", r->up.accepted ? "true" : r->up.server_refused ? "false" : "null");
	} else {
		fputs("null", f);
	}
	fputs(",\"cleartext_credentials\":", f);
	json_str(f, upgrade_cred_name((enum upgrade_cred)record_cred(r)));
	fputs(",\"mapper\":", f);
	if (rec_pm(r) && rec_pm(r)->requested[0]) {
		fputs("{\"requested\":", f); json_str(f, rec_pm(r)->requested);
		fputs(",\"service\":", f); json_str(f, rec_pm(r)->service[0] ? rec_pm(r)->service : NULL);
		fprintf(f, ",\"secure\":%s,\"port\":", rec_pm(r)->secure ? "true" : "false");
		if (rec_pm(r)->reply_ok)
			fprintf(f, "%u", rec_pm(r)->port);
		else
			fputs("null", f);
		fprintf(f, ",\"answered\":%s", rec_pm(r)->reply ? (rec_pm(r)->reply_ok ? "true" : "\"failure\"") : "false");
		if (link >= 0)
			fprintf(f, ",\"next_connection\":%" PRId64, link);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	if (!record_is(r, &protocol_portmapper) && link >= 0)
		fprintf(f, ",\"via_mapper\":%" PRId64, link);
	fputs(",\"packets\":", f); facts_json_uint(f, r->packets);
	fputs(",\"bytes\":", f); facts_json_uint(f, r->bytes);
	fputs(",\"start\":", f); json_str(f, fmt_time(r->start_us, t));
	fputs(",\"end\":", f); json_str(f, fmt_time(r->end_us, t));
	fputs(",\"internal\":", f); fputs(r->internal ? "true" : "false", f);
	fputs(",\"content\":", f); json_str(f, record_content(r));
	if (r->facts && r->proto->facts_json) {
		struct facts_out o = { f, facts_name, c, r->service };
		fprintf(f, ",\"%s\":", r->proto->name);
		r->proto->facts_json(&o, r->facts);
	}
	fputs(",\"ndpi\":", f);
	if (r->dpi_ran) {
		fputs("{\"protocol\":", f); json_str(f, r->dpi.proto);
		fputs(",\"risks\":[", f);
		int n = 0;
		for (int i = 0; i < dpi_max_risk() && i < 64; i++)
			if (r->dpi.risk & (1ULL << i)) {
				fputs(n++ ? "," : "", f);
				json_str(f, dpi_risk_name(i));
			}
		fputs("]}", f);
	} else {
		fputs("null", f);
	}
	fputs(",\"payload_bytes\":[", f); facts_json_uint(f, r->payload[0]);
	fputc(',', f); facts_json_uint(f, r->payload[1]); fputc(']', f);
	fputs((r->gap[0] || r->gap[1]) ? ",\"stream_gap\":true" : ",\"stream_gap\":false", f);
	fputs((r->truncated[0] || r->truncated[1]) ? ",\"stream_truncated\":true" : ",\"stream_truncated\":false", f);
	fputs(r->memcap_dropped ? ",\"memcap_dropped\":true" : ",\"memcap_dropped\":false", f);
	fputs(",\"end_reason\":", f); json_str(f, end_reason_name(r->end_reason));
	fputs(",\"findings\":", f);
	json_findings(f, analysis_findings(c->a, r));
	fputc('}', f);
}

void json_capture(const struct report_ctx *c, FILE *f)
{
	const struct analysis *a = c->a;
	const struct capture_status *st = a->st;
	char t[32];
	fputs("{\"inputs\":[", f);
	for (int i = 0; i < a->n_inputs; i++) {
		fputs(i ? "," : "", f);
		json_str(f, strcmp(a->inputs[i], "-") == 0 ? "(stdin)" : a->inputs[i]);
	}
	fputs("],\"interface\":", f); json_str(f, a->iface);
	fputs(",\"link_types\":[", f);
	for (int i = 0; i < st->n_linktypes; i++) {
		fputs(i ? "," : "", f);
		json_str(f, st->linktypes[i]);
	}
	fputs("],\"first_packet\":", f);
	json_str(f, a->any_packet ? fmt_time(a->first_us, t) : NULL);
	fputs(",\"last_packet\":", f);
	json_str(f, a->any_packet ? fmt_time(a->last_us, t) : NULL);
	fprintf(f, ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"tcp_packets\":%" PRIu64, a->packets,
		a->bytes, a->tcp_packets);
	const struct counter *cs = a->counters;
	size_t n = a->n_counters;
	fputs(",\"counters\":{", f);
	for (size_t i = 0; i < n; i++) {
		bool group_start = cs[i].group && (i == 0 || !cs[i - 1].group || strcmp(cs[i - 1].group, cs[i].group));
		bool group_end = cs[i].group && (i + 1 == n || !cs[i + 1].group || strcmp(cs[i + 1].group, cs[i].group));
		if (group_start)
			fprintf(f, "%s\"%s\":{", i ? "," : "", cs[i].group);
		fprintf(f, "%s\"%s\":%" PRIu64, i && !group_start ? "," : "", cs[i].name, cs[i].value);
		if (group_end)
			fputc('}', f);
	}
	fputc('}', f);
	if (st->live)
		fprintf(f, ",\"live\":{\"received\":%llu,\"dropped_kernel\":%llu,\"dropped_interface\":%llu"
			",\"not_analysed_at_stop\":%llu}",
			st->ps_recv, st->ps_drop, st->ps_ifdrop, st->not_analysed);
	fputs(",\"warnings\":[", f);
	for (int i = 0; i < st->n_warnings; i++) {
		fputs(i ? "," : "", f);
		json_str(f, st->warnings[i]);
	}
	fputs("]", f);
	fputs(",\"error\":", f);
	json_str(f, st->exit_code == 2 && st->error[0] ? st->error : NULL);
	fputc('}', f);
}

void json_versions(FILE *f, uint32_t bits)
{
	uint16_t v[8];
	int n = inv_versions(bits, v, 8);
	fputc('[', f);
	for (int i = 0; i < n; i++) {
		fputs(i ? "," : "", f);
		json_str(f, tls_version_name(v[i]));
	}
	fputc(']', f);
}

void json_string_set(FILE *f, const struct name_set *s)
{
	fputc('[', f);
	for (int i = 0; i < s->n; i++) {
		fputs(i ? "," : "", f);
		json_str(f, s->v[i]);
	}
	fputc(']', f);
}

void text_section(FILE *f, const char *title)
{
	fprintf(f, "\n%s\n", title);
	for (size_t i = 0; i < strlen(title); i++)
		fputc('-', f);
	fputc('\n', f);
}

static bool printable(char ch)
{
	return (unsigned char)ch >= 0x20 && (unsigned char)ch < 0x7f;
}

char *text_clean(char *out, size_t len, const char *s)
{
	size_t o = 0;
	for (; s && *s && o + 1 < len; s++)
		out[o++] = printable(*s) ? *s : '?';
	out[o] = '\0';
	return out;
}

size_t text_list_name(char *out, size_t len, const char *name)
{
	bool quote = strpbrk(name, ", \"\\") != NULL;
	size_t o = 0;
	if (quote && o + 1 < len)
		out[o++] = '"';
	for (; *name && o + 3 < len; name++) {
		if (quote && (*name == '"' || *name == '\\'))
			out[o++] = '\\';
		out[o++] = printable(*name) ? *name : '?';
	}
	if (quote && o + 1 < len)
		out[o++] = '"';
	out[o < len ? o : len - 1] = '\0';
	return o;
}

void text_names(const struct report_ctx *c, const struct name_set *s, bool redact, char *out, size_t len)
{
	char b[48];
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; s && i < s->n && o + 1 < len; i++) {
		if (i)
			out[o++] = ',', out[o] = '\0';
		o += text_list_name(out + o, len - o, redact ? report_name(c, s->v[i], b, sizeof b) : s->v[i]);
	}
	if (s && s->overflow && o < len)
		snprintf(out + o, len - o, ",...");
	if (!out[0])
		snprintf(out, len, "-");
}

void csv_cell(FILE *f, const char *s)
{
	if (!s)
		return;
	/* OWASP's advice for CSV injection: make such a cell text, visibly */
	bool formula = strchr("=+-@\t\r", s[0]) && s[0];
	if (!strpbrk(s, ",\"\n\r") && !formula) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	if (formula)
		fputc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* ---- who a client is (host names, DHCP identity) and its users ---- */

const char *client_host_name(const struct inv_client *c, const char **source)
{
	if (!c->n_names || !c->names) {
		*source = NULL;
		return NULL;
	}
	*source = name_source_name((enum name_source)c->names[0].source);
	return c->names[0].name;
}

bool client_follows_host(const struct inv_client *c)
{
	return inv_client_hw(c)[0] != '\0';
}

static int user_client_cmp(const void *x, const void *y)
{
	const struct user_client *a = x, *b = y;
	int c = strcmp(a->user, b->user);
	if (c)
		return c;
	c = addr_cmp(&a->client->ip, &b->client->ip);
	return c ? c : a->client < b->client ? -1 : a->client > b->client;
}

size_t user_clients(const struct inventory *inv, struct user_client **out)
{
	size_t n = 0, cap = 0;
	*out = NULL;
	for (size_t i = 0; i < inv->n_clients; i++) {
		const struct inv_client *c = &inv->clients[i];
		for (int k = 0; k < c->users.n; k++) {
			if (!inventory_grow((void **)out, n, &cap, sizeof **out))
				return n;
			bool ns = false;
			for (size_t j = 0; j < c->n_use && !ns; j++) {
				const struct inv_usage *u = &c->use[j];
				if (u->cls != PC_NONSECURE || u->connections <= u->attempts)
					continue;
				for (int m = 0; m < u->users.n && !ns; m++)
					ns = strcmp(u->users.v[m], c->users.v[k]) == 0;
			}
			(*out)[n++] = (struct user_client){ c->users.v[k], c, ns };
		}
	}
	if (n > 1)
		qsort(*out, n, sizeof **out, user_client_cmp);
	return n;
}
