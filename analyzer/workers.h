/*
 * workers.h - --threads N: one reader, N worker engines.
 *
 * In: the reader's capture (capture.c) decodes each frame once and hands the
 * packet to workers_sink(); the sink hashes its connection symmetrically, so
 * both directions meet the same worker, and copies the frame and the decoded
 * packet (its pointers moved into the copy) into that worker's current batch.
 * Workers do not decode again.  Each worker has its own engine: flow table,
 * nDPI module, records.  Out: at the end the workers' records, counters and
 * IBM i addresses are merged into the reader's engine, sorted by first packet
 * exactly as one engine would have, so the reports are byte-identical to one
 * thread's.  Live (-i), each worker instead reads its own socket of a
 * PACKET_FANOUT group into its own engine.  This module uses capture.h;
 * capture knows nothing of it.
 */
#ifndef TLSREADY_WORKERS_H
#define TLSREADY_WORKERS_H

#include <stdbool.h>
#include <stddef.h>

#include "capture.h"
#include "engine.h"

#define WORKERS_MAX 64

struct workers;

/* Start n workers whose engines mirror e's configuration; NULL and err on failure. */
struct workers *workers_start(struct engine *e, int n, char *err, size_t errlen);
/* The capture sink that hands each decoded packet (and its frame's bytes) to its worker. */
struct capture_sink workers_sink(struct workers *w);
/* Drain, end every flow, merge everything into the reader's engine, stop the threads. */
void workers_finish(struct workers *w);
/*
 * Live capture with N sockets in one PACKET_FANOUT group, one thread and one
 * engine each, until capture_stop; then every flow ends and is merged into
 * e, and the sockets' statistics are added up in st.  Returns false (st has
 * the error) when the sockets cannot be opened or grouped.
 */
bool workers_live(struct engine *e, int n, const struct capture_opts *o, struct capture_status *st);

#endif
