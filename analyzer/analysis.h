/*
 * analysis.h - the finished product of a run: what the inventory and every
 * writer read, and all they read.
 *
 * In: the engine after its input ended (main.c) or at a checkpoint (the
 * monitor, an import), and the capture status.  Out: the records, sorted by
 * first packet, read-only, with their findings and port-mapper links
 * computed once; the counters from the registry (counters.h); the time span;
 * the capture status and what was read.  analysis_build.c is the one file
 * that looks into the engine to fill this; writers include this header and
 * never the engine, the flow table or the decoder.
 */
#ifndef TLSREADY_ANALYSIS_H
#define TLSREADY_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attempts.h"
#include "capture_status.h"
#include "counters.h"
#include "record.h"

struct analysis {
	struct flow_record *const *records;   /* sorted by first packet */
	size_t n_records;
	const uint32_t *findings;  /* per record: enum finding bits (findings.h), judged at last_us */
	const int64_t *links;      /* per record: the port-mapper lookup or the connection it led to, -1 none */
	struct counter counters[COUNTERS_MAX];
	size_t n_counters;
	uint64_t packets, bytes, tcp_packets;
	bool any_packet;
	int64_t first_us, last_us;
	const struct capture_status *st;
	const char *const *inputs;
	int n_inputs;
	const char *iface;
	const struct names *names; /* host names and DHCP leases (names.h), sorted; NULL when none were seen */
	const struct attempts *folded;   /* attempt-only connections folded past --max-attempts; NULL without a cap */
	/* owned by analysis_build (freed by analysis_free) */
	uint32_t *own_findings;
	int64_t *own_links;
};

struct engine;
/* From an engine whose records are ready (engine_finish or engine_prepare_records): false on no memory. */
bool analysis_build(struct analysis *a, const struct engine *e, const struct capture_status *st);
/* From records alone (sorted by first packet; a snapshot of open flows, a day of them): findings judged
 * at end_us, links; no counters, no capture status (an empty one). */
bool analysis_of_records(struct analysis *a, struct flow_record *const *recs, size_t n, int64_t end_us);
void analysis_free(struct analysis *a);
/* The value of a counter of the registry by name (0 if unknown). */
uint64_t analysis_counter(const struct analysis *a, const char *name);

#endif
