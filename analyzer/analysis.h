/*
 * analysis.h - the finished product of a run: what the inventory and every
 * writer read, and all they read.
 *
 * In: the engine after its input ended (main.c) or at a checkpoint (the
 * monitor, an import), and the capture status.  Out: the records, sorted by
 * first packet, read-only (in memory, or a one-shot run's spool read back
 * one at a time), with their port-mapper links computed once and their
 * findings judged as they are read; the counters from the registry (counters.h); the time span;
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

/* A port-mapper lookup and the connection it led to, both ways: record `index` links to record `link`,
 * whose server port is `port`. */
struct analysis_link {
	uint64_t index;
	int64_t link;
	uint32_t order;            /* made in this order: the later of two for one index stands */
	uint16_t port;
};

struct spool;
struct analysis {
	struct flow_record *const *records;   /* sorted by first packet; NULL when the records are spooled */
	struct spool *spool;       /* else: the records on disk (spool.h), read back in the same order */
	size_t n_records;
	/* a spooled record's client is marked internal as it is read back (engine_mark_internal) */
	void (*mark)(const void *ctx, struct flow_record *r);
	const void *mark_ctx;
	const struct analysis_link *links;    /* sorted by index; records not in it link nowhere */
	size_t n_links;
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
	struct analysis_link *own_links;
};

/* The records in order, whichever way they are held: from analysis_iter_start() (false: no memory, or
 * the spool could not be read: analysis_error()), analysis_iter_next() gives each record with its index
 * (NULL at the end, or on a read failure), valid until the next call; analysis_iter_end() always. */
struct record_iter {
	const struct analysis *a;
	size_t next;
	struct spool_reader *rd;
};
bool analysis_iter_start(const struct analysis *a, struct record_iter *it);
const struct flow_record *analysis_iter_next(struct record_iter *it, size_t *index);
void analysis_iter_end(struct record_iter *it);
/* Why the records could not all be read back (a report written from them is incomplete), or NULL. */
const char *analysis_error(const struct analysis *a);
/* A record's findings (findings.h), judged at the end of the analysis. */
uint32_t analysis_findings(const struct analysis *a, const struct flow_record *r);
/* The record a port-mapper lookup led to, or the lookup that led to this record: its index, -1 none;
 * *port (may be NULL) is that record's server port. */
int64_t analysis_link(const struct analysis *a, size_t index, uint16_t *port);

struct engine;
/* From an engine whose records are ready (engine_finish or engine_prepare_records): false on no memory. */
bool analysis_build(struct analysis *a, const struct engine *e, const struct capture_status *st);
/* From records alone (sorted by first packet; a snapshot of open flows, a day of them): findings judged
 * at end_us, links; no counters, no capture status (an empty one). */
bool analysis_of_records(struct analysis *a, struct flow_record *const *recs, size_t n, int64_t end_us);
/* The same from records in a spool of the engine's order (engine_spool_order; the caller's, freed by it). */
bool analysis_of_spool(struct analysis *a, struct spool *s, int64_t end_us);
void analysis_free(struct analysis *a);
/* The value of a counter of the registry by name (0 if unknown). */
uint64_t analysis_counter(const struct analysis *a, const char *name);

#endif
