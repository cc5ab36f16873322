/*
 * workers.h - --threads N: one reader, N worker engines.
 *
 * The reader (capture.c) decodes each frame only far enough to hash its
 * connection symmetrically, so both directions meet the same worker, and
 * copies the frame into that worker's current batch.  Each worker has its own
 * engine: flow table, nDPI module, records.  At the end the workers' records,
 * counters and IBM i addresses are merged into the reader's engine, sorted
 * by first packet exactly as one engine would have, so the reports are
 * byte-identical to one thread's.
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
/* Hand one decoded frame (and its bytes) to its worker. */
void workers_dispatch(struct workers *w, int dlt, const struct packet *p, const uint8_t *frame);
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
