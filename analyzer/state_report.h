/*
 * state_report.h - what a report of the monitor's stored state says beyond
 * the one-shot report: where the state is, the runs and unclean stops, the
 * window of days shown, capture health (coverage), the clients new on a
 * nonsecure port since a time, and how long each nonsecure client has been
 * clean.
 *
 * In: the store's state view (store.h) and the inventory of the window,
 * through the report context (report.h: c->state).  Out: a section of the
 * text report, the JSON "state" object, CSV "state" rows.  The writers call
 * these when c->state is set; everything else of a stored report is the
 * one-shot report's own writers.
 */
#ifndef TLSREADY_STATE_REPORT_H
#define TLSREADY_STATE_REPORT_H

#include <stdint.h>

#include "report.h"
#include "store.h"

struct report_state {
	const struct store_view *v;
	const char *db;
	int64_t now_us;            /* wall clock when the report was made */
	int64_t since_us, until_us;   /* the window shown (0: unbounded), whole UTC days */
	int64_t new_since_us;      /* "new" means a first nonsecure use at or after this */
	int64_t new_len_us;
};

/* Is the client new on a nonsecure port since s->new_since_us? */
bool state_client_is_new(const struct report_state *s, const struct inv_client *c);
void state_text(const struct report_ctx *c);
void state_json(const struct report_ctx *c);
void state_csv(const struct report_ctx *c);

#endif
