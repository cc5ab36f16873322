/*
 * report.h - the reporters: text (default), json (the contract), csv,
 * ndjson.  Input: the analysis (analysis.h: records, counters, time span,
 * capture status), the inventory (names already redacted when asked:
 * redact.h), and for a stored report the state of the monitor's store.
 * Output: one document on a FILE.  Reporters never see packets, the engine
 * or the flow table; two runs over the same input give byte-identical output
 * (no wall clock, no hash order, everything sorted).
 */
#ifndef TLSREADY_REPORT_H
#define TLSREADY_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "analysis.h"
#include "inventory.h"

struct report_state;           /* state_report.h: a stored report's state section */

struct report_ctx {
	FILE *out;
	const struct analysis *a;
	const struct inventory *inv;
	bool redact;               /* the inventory's names are redacted; the records' are redacted as written */
	const char *redact_key;
	int redact_source;         /* enum redact_source: where the key came from */
	const struct report_state *state;   /* NULL for a report of captures */
	int64_t plan_days;         /* the cutover plan: days observed without nonsecure use for "ready" (0: default) */
	const struct plan *plan;   /* the plan report_write() made once; NULL: a writer makes its own */
	bool plan_only;            /* --plan: the plan alone */
};

void report_text(const struct report_ctx *c);
void report_json(const struct report_ctx *c);
void report_csv(const struct report_ctx *c);
void report_ndjson(const struct report_ctx *c);
/* One self-contained HTML file (report_html.c): no fetch, a CSP naming its inline style and script. */
void report_html(const struct report_ctx *c);
/* The attempt-only connections folded past --max-attempts (report_attempts.c); nothing when none. */
void attempts_text(const struct report_ctx *c);
void attempts_json(const struct report_ctx *c);

/* ---- shared helpers (report_common.c) ---- */
/* RFC 3339 UTC with microseconds into buf (32 bytes). */
char *fmt_time(int64_t us, char *buf);
/* A record's user or device name as reported: itself, or "redacted-<12 hex>" (keyed HMAC-SHA256). */
const char *report_name(const struct report_ctx *c, const char *name, char *buf, size_t len);
/* JSON string (with quotes) or null. */
void json_str(FILE *f, const char *s);
/* One flow record as a JSON object (used by json and ndjson). */
void json_flow(const struct report_ctx *c, FILE *f, const struct flow_record *r, size_t index);
/* TLS versions in a bit set (inventory.h) as a sorted JSON array of names. */
void json_versions(FILE *f, uint32_t bits);
/* A name set as a JSON array of strings, as they are (no redaction). */
void json_string_set(FILE *f, const struct name_set *s);
/* A text report's section title, underlined. */
void text_section(FILE *f, const char *title);
/* A findings bit set as a JSON array of names. */
void json_findings(FILE *f, uint32_t bits);
/* One name as a text list shows it: bare, or in double quotes with \" and \\ when it holds a
 * separator, a quote, a backslash or a space; '?' for a byte outside printable ASCII. */
size_t text_list_name(char *out, size_t len, const char *name);
/* s for a terminal: '?' for a byte outside printable ASCII; returns out. */
char *text_clean(char *out, size_t len, const char *s);
/* A name set as "A,B,...", "-" when empty; each name through report_name() when redact. */
void text_names(const struct report_ctx *c, const struct name_set *s, bool redact, char *out, size_t len);
/* An RFC 4180 CSV cell; a cell a spreadsheet would take for a formula (=, +, -, @, tab, CR
 * first) is quoted with a leading apostrophe. */
void csv_cell(FILE *f, const char *s);
/* A client's best host name (names[0]) and its source word ("dhcp", "dns-ptr", ...), or NULL. */
const char *client_host_name(const struct inv_client *c, const char **source);
/* Does the row follow a DHCP host across addresses (its identity is the host, not the address)? */
bool client_follows_host(const struct inv_client *c);
/* Who a user is, machine by machine: one (user, client) pair per user seen on a client row, sorted by
 * user then client address; nonsecure: the user signed on over a nonsecure door of that client. */
struct user_client {
	const char *user;
	const struct inv_client *client;
	bool nonsecure;
};
size_t user_clients(const struct inventory *inv, struct user_client **out);
/* The capture object (inputs, times, counters, warnings). */
void json_capture(const struct report_ctx *c, FILE *f);

#endif
