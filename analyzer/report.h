/*
 * report.h - the reporters: text (default), json (the contract), csv,
 * ndjson.  Input: the engine's records and counters, the inventory, the
 * capture status.  Output: one document on a FILE.  Reporters never see
 * packets; two runs over the same input give byte-identical output (no
 * wall clock, no hash order, everything sorted).
 */
#ifndef TLSREADY_REPORT_H
#define TLSREADY_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "capture.h"
#include "engine.h"
#include "inventory.h"

struct report_ctx {
	FILE *out;
	struct engine *e;
	struct inventory *inv;
	const struct capture_status *st;
	const char *const *inputs;
	int n_inputs;
	const char *iface;
	bool redact;
	const char *redact_key;
	int redact_source;         /* enum redact_source: where the key came from */
};

void report_text(const struct report_ctx *c);
void report_json(const struct report_ctx *c);
void report_csv(const struct report_ctx *c);
void report_ndjson(const struct report_ctx *c);

/* ---- shared helpers (report_common.c) ---- */
/* RFC 3339 UTC with microseconds into buf (32 bytes). */
char *fmt_time(int64_t us, char *buf);
/* A user or device name as reported: itself, or "redacted-<12 hex>" (keyed HMAC-SHA256). */
const char *report_name(const struct report_ctx *c, const char *name, char *buf, size_t len);
/* JSON string (with quotes) or null. */
void json_str(FILE *f, const char *s);
/* One flow record as a JSON object (used by json and ndjson). */
void json_flow(const struct report_ctx *c, FILE *f, size_t index);
/* TLS versions in a bit set (inventory.h) as a sorted JSON array of names. */
void json_versions(FILE *f, uint32_t bits);
/* A name set as a JSON array of strings, as they are (no redaction). */
void json_string_set(FILE *f, const struct name_set *s);
/* A text report's section title, underlined. */
void text_section(FILE *f, const char *title);
/* A findings bit set as a JSON array of names. */
void json_findings(FILE *f, uint32_t bits);
/* The capture object (inputs, times, counters, warnings). */
void json_capture(const struct report_ctx *c, FILE *f);

#endif
