/*
 * report_plan.h - the writers of the cutover plan (plan.h): text section,
 * JSON object, CL source member; and the basis a report's plan rests on.
 * In: a report context; out: text on a FILE.  Nothing is ever executed.
 */
#ifndef TLSREADY_REPORT_PLAN_H
#define TLSREADY_REPORT_PLAN_H

#include <stdio.h>

#include "plan.h"
#include "report.h"

/* What the verdicts of this report rest on: its time span (or the state's days), coverage, loopback. */
void plan_basis_of(const struct report_ctx *c, struct plan_basis *b);
void plan_text(const struct report_ctx *c, const struct plan *p);
/* The ordered steps with their rollbacks, each line started with `pre`. */
void plan_steps_text(FILE *f, const struct plan *p, const char *pre);
void plan_json(const struct report_ctx *c, const struct plan *p);
void plan_clp(FILE *f, const struct plan *p);
/* The plan of a report's inventory: false on no memory. */
bool plan_of_report(const struct report_ctx *c, struct plan *p);
/* The report's plan: c->plan when report_write() made it, else one made now into *local (then *own is
 * set: plan_free(local) after use); NULL on no memory. */
const struct plan *report_plan(const struct report_ctx *c, struct plan *local, bool *own);

/* Is the door named (a service, a port, "host-servers" for 8470-8479, "all") ready?  1 yes, 0 no,
 * -1 no door has that name. */
int plan_door_ready(const struct plan *p, const char *name);

/* Write the report in `format` (text, json, csv, ndjson, clp); with ready_door, 0 if that door is ready,
 * 3 if not, 2 (one line on stderr) if no door has that name. */
int report_write(const struct report_ctx *c, const char *format, const char *ready_door);

#endif
