/*
 * report_compare.h - the writers of a comparison of two periods
 * (compare.h): text (report_compare_text.c), JSON (report_compare_json.c,
 * docs/schema.md "Comparing two periods"), CSV (report_compare_csv.c).
 *
 * Input: a report context and the comparison.  Of the context only `out` and
 * the redaction fields (`redact`, `redact_key`, `redact_source`) are read:
 * `e`, `inv`, `st` and the inputs may be NULL.  User and device names go
 * through report_name(), as in every other report.  Output: one document
 * on c->out, the same bytes for the same comparison (no wall clock).
 */
#ifndef TLSREADY_REPORT_COMPARE_H
#define TLSREADY_REPORT_COMPARE_H

#include <stdio.h>

#include "compare.h"
#include "report.h"

void report_compare_text(const struct report_ctx *c, const struct comparison *cmp);
/* {"schema":"tlsready-compare/1","generator":...,"comparison":{...}} */
void report_compare_json(const struct report_ctx *c, const struct comparison *cmp);
void report_compare_csv(const struct report_ctx *c, const struct comparison *cmp);
/* The "comparison" object alone, for a document that embeds it (the state report). */
void json_comparison(const struct report_ctx *c, FILE *f, const struct comparison *cmp);

#endif
