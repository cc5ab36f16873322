/*
 * store_pg.h - the shared PostgreSQL store inside the store layer (store.c
 * hands every call on to it when --db names a PostgreSQL database).
 *
 * A sensor's writes are batches: a list of rows, each naming one prepared
 * statement (enum pg_stmt, texts in store_pg_sql.c) and its parameters as
 * text.  A batch is built from the analysis in the capture thread
 * (store_pg_rows.c) and leaves it 4 MiB at a time as it is built: down an
 * import's open pipeline, or appended to a monitor's local queue file, which
 * the writer thread reads back and applies a window at a time
 * (store_queue.c), so the capture loop never waits on the database and no
 * thread holds a whole batch.  Every batch starts with its
 * key (sensor, run, seq): the database refuses a key it holds, so a batch
 * replayed after a lost commit acknowledgement is a no-op.
 * Nothing outside analyzer/store*.c includes this.
 */
#ifndef TLSREADY_STORE_PG_H
#define TLSREADY_STORE_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define PG_SCHEMA_VERSION 4
#define PG_DUP_WINDOW_US ((int64_t)2 * 1000000)   /* the same 5-tuple starting within 2 s: one connection */
#define PG_ADVISORY_KEY "1414287186"              /* pg_advisory lock key: tlsready_merge() and the events' reads */

/* The prepared statements a batch row may name (store_pg_sql.c). */
enum pg_stmt {
	PGS_KEY,            /* (sensor, run, seq, now, flows): the batch's key; checkpoint_pkey violated = applied before */
	PGS_RUN_START,      /* fold a killed run's open rows, count it unclean, record the run */
	PGS_RUN_STOP,
	PGS_RUN_SEEN,       /* the run's last checkpoint time */
	PGS_S_FLOW, PGS_S_CLIENT, PGS_S_USAGE, PGS_S_NAME, PGS_S_PORT, PGS_S_NOTE, PGS_S_CERT,   /* staging */
	PGS_DROP_OPEN,      /* the sensor's snapshot of open flows is replaced */
	PGS_MERGE,          /* duplicates marked, flows kept, staging merged into the inventory */
	PGS_COUNTER, PGS_INTERVAL, PGS_IMPORT, PGS_RETAIN,
	PGS_A_FLOW, PGS_A_CLIENT, PGS_A_USAGE, PGS_A_NAME, PGS_A_PORT, PGS_A_NOTE, PGS_A_CERT,   /* the same, as arrays */
	PGS_HOST_NAME,      /* (sensor, day, client, source, name, first, last, count, host): merged at once (schema 2; host 3) */
	PGS_LEASE,          /* (sensor, host, ip, start, end, client_id): a DHCP lease a checkpoint saw (schema 3) */
	PGS_ATTEMPT_GROUP,  /* (sensor, day, server, port, tcp, connections, first, last, sources, cap): merged (schema 4) */
	PGS_COUNT
};
extern const char *const pg_stmt_sql[PGS_COUNT];
extern const int pg_stmt_nparams[PGS_COUNT];
extern const char pg_schema_v1[], pg_schema_v2[], pg_schema_v3[], pg_schema_v4[], pg_staging_sql[];

/* ---- a batch ---- */
struct pg_stage;
struct pg_batch {
	unsigned char *buf;
	size_t len, cap;
	size_t rows;
	bool failed;        /* out of memory while building */
	struct pg_stage *stage;   /* staging rows gathered into array parameters, PG_STAGE_ROWS a statement */
	/* past PG_STREAM_BYTES the rows built go to drain (false: it failed, the batch with it) and the buffer
	 * empties: an import's to its open pipeline (pg_stream_send), a monitor's to its queue entry */
	bool (*drain)(void *ctx, const unsigned char *buf, size_t len);
	void *drain_ctx;
	bool drain_failed;        /* failed because drain did (a monitor's queue full, or its disk): not memory */
};
#define PG_STREAM_BYTES (4u << 20)
#define PG_STAGE_ROWS 4000
/* Staging rows (PGS_S_*) are gathered per table as columns and written as one row of array
 * parameters (PGS_A_*: INSERT ... SELECT FROM unnest($1::type[], ...)); flush before the merge. */
void pg_batch_stage(struct pg_batch *b, enum pg_stmt st, int n, const char *const *vals);
void pg_batch_flush(struct pg_batch *b);
void pg_stage_free(struct pg_stage *s);
void pg_batch_init(struct pg_batch *b);
void pg_batch_free(struct pg_batch *b);
/* One row: the statement and its n parameters (NULL: SQL NULL). */
void pg_batch_row(struct pg_batch *b, enum pg_stmt st, int n, const char *const *vals);
/* Walk the rows: returns false at the end or on a malformed batch (*bad set). */
struct pg_row {
	enum pg_stmt st;
	int n;
	const char *vals[24];
	int lens[24];
};
bool pg_batch_next(const unsigned char *buf, size_t len, size_t *pos, struct pg_row *r, bool *bad);
/* The same over a part of a batch: with more (other parts follow), a row cut at the part's end is not
 * malformed: false, *bad false, *pos at that row's start. */
bool pg_batch_next_part(const unsigned char *buf, size_t len, size_t *pos, struct pg_row *r, bool *bad, bool more);

/* The rows of a checkpoint (store_pg_rows.c).  seq: the batch's number within the run.  book: the leases
 * that say which DHCP host held each connection's address (prepared; the checkpoint's own leases in it),
 * cur: the checkpoint's own leases (keyed as stored), written for the next checkpoints and imports. */
struct leasebook;
bool pg_rows_checkpoint(struct pg_batch *b, const char *sensor, const char *run, uint64_t seq,
			const struct store_checkpoint *c, bool monitor, const struct leasebook *book,
			const struct leasebook *cur);
bool pg_rows_run_start(struct pg_batch *b, const char *sensor, const char *run, uint64_t seq, const char *iface,
		       int64_t now_us);
bool pg_rows_run_stop(struct pg_batch *b, const char *sensor, const char *run, uint64_t seq, int64_t now_us);

/* ---- who the clients are: the DHCP leases (store_pg_leases.c) ---- */
struct pg_conn;
/* The stored leases (every sensor's) that end at or after lo and start at or before hi, added to a book. */
bool pg_leases_read(struct pg_conn *c, int64_t lo, int64_t hi, struct leasebook *book);
/* A checkpoint's lease book (prepared) and its own leases (cur: keyed as stored).  An import: conn, the
 * stored leases read; a monitor: kept (its leases so far, updated: those that can still name a later
 * connection, and this checkpoint's).  False on no memory or a failed read. */
bool pg_leases_checkpoint(struct pg_conn *conn, struct leasebook *kept, const struct store_checkpoint *c,
			  struct leasebook *book, struct leasebook *cur);
/* The findings' "now" (the checkpoint's clients; a row per address when the monitor built it without
 * leases): each row whose address a DHCP host's lease held at its first connection carries that host
 * (c->dhcp, keyed as stored), so that events_detect() can find it in "before", whose rows follow hosts
 * (store_pg_load.c).  A row that already names its host is left as it is. */
void pg_leases_now(struct inventory *now, const struct leasebook *book);

/* ---- the connection (store_pg.c) ---- */
struct pg_conn;
/* Apply one batch in one transaction.  *done: applied now or before (the key was there).
 * False: the connection failed or the batch was refused; err says why (never the conninfo). */
enum pg_applied { PGA_APPLIED, PGA_ALREADY, PGA_DOWN, PGA_REFUSED };
enum pg_applied pg_apply(struct pg_conn *c, const unsigned char *buf, size_t len, char *err, size_t errlen);
/* The same batch in parts (an import: its rows leave memory as they are built; the writer: a queued
 * batch read a window at a time): begin (NULL and err on failure), send each part in order (the first
 * starts with the key; with more, a row cut at the part's end waits for the next part: the bytes sent
 * are returned, the rest is to be sent again with what follows; once the stream failed or met a
 * malformed row, every part is used up unsent), then end, which commits with commit
 * (else nothing of it is: the builder gave up, or the batch read back was damaged) and frees the stream. */
struct pg_stream;
struct pg_stream *pg_stream_begin(struct pg_conn *c, char *err, size_t errlen);
size_t pg_stream_send(struct pg_stream *s, const unsigned char *buf, size_t len, bool more);
enum pg_applied pg_stream_end(struct pg_stream *s, bool commit);
struct pg_conn *pg_connect(const char *conninfo, bool write, char *err, size_t errlen);
void pg_disconnect(struct pg_conn *c);

/* ---- the local queue and its writer thread (store_queue.c) ---- */
struct pg_queue;
/* Open (create 0600, outfile rules) the queue file: what a killed sensor left in it stays. */
struct pg_queue *pg_queue_open(const char *path, const char *conninfo, uint64_t max_bytes, char *err, size_t errlen);
/* Start the writer thread (after the privilege drop: it inherits no capability), which applies what
 * the file holds, oldest first, and retries with a back-off while the database is away. */
bool pg_queue_start(struct pg_queue *q, char *err, size_t errlen);
/* Append a batch (never waits on the database).  False: the queue is full or the disk failed;
 * the batch is counted as dropped. */
bool pg_queue_put(struct pg_queue *q, const struct pg_batch *b);
/* The same in parts, as a monitor's batch is built (one at a time, from the capture thread): begin, append
 * each part (false: the queue is full or the disk failed; the rest is not written), then commit (the
 * writer sees the batch only now; false: dropped and counted, as pg_queue_put) or abandon (the builder
 * gave up: nothing of it stays, nothing is counted). */
void pg_queue_begin(struct pg_queue *q);
bool pg_queue_append(struct pg_queue *q, const unsigned char *buf, size_t len);
bool pg_queue_commit(struct pg_queue *q);
void pg_queue_abandon(struct pg_queue *q);
/* Wait up to timeout_ms for the queue to be empty; true if it is. */
bool pg_queue_drain(struct pg_queue *q, int timeout_ms);
struct pg_queue_stats {
	uint64_t queued_bytes, queued_batches, applied, replayed_noop, dropped, dropped_bytes, failures;
	bool connected;
};
void pg_queue_stats(struct pg_queue *q, struct pg_queue_stats *st);
bool pg_queue_chown(struct pg_queue *q, unsigned uid, unsigned gid, char *err, size_t errlen);
void pg_queue_close(struct pg_queue *q);

/* ---- a monitor's findings, computed by the writer thread (store_pg_events.c) ---- */
#define PG_EVENTS_PENDING 64       /* checkpoints whose findings may wait for the database */
struct pg_events;
struct event_finding;
struct pg_events *pg_events_new(void);
void pg_events_free(struct pg_events *e);
/* The inventory of the checkpoint about to be queued as batch `ord` (added before the batch is put,
 * since the writer may take it at once; taken over: *now is emptied). */
void pg_events_add(struct pg_events *e, uint64_t ord, struct inventory *now, int64_t now_us, int64_t back_after_us);
/* A checkpoint with no findings (its inventory could not be built). */
void pg_events_skip(struct pg_events *e);
/* The batch `ord` was not queued after all (the queue was full): its job goes, counted. */
void pg_events_cancel(struct pg_events *e, uint64_t ord);
/* The writer thread, around pg_apply() of batch `ord`: before, the advisory lock and the merged
 * "before" of the batch's clients, and the findings; after, the lock released and the findings
 * kept if the batch was applied now (the job goes back to wait when the database went away). */
struct pg_job;
struct pg_events_pending {
	struct pg_job *job;
	bool locked, read;
	struct event_finding *found;
	size_t n;
};
void pg_events_before(struct pg_events *e, struct pg_conn *c, uint64_t ord, struct pg_events_pending *p);
/* false: the lock could not be released; the caller must drop the connection (which releases it) */
bool pg_events_after(struct pg_events *e, struct pg_conn *c, struct pg_events_pending *p, enum pg_applied r);
/* The findings of the batches applied since the last call (malloc'd; NULL when none). */
size_t pg_events_take(struct pg_events *e, struct event_finding **out);
uint64_t pg_events_skipped(struct pg_events *e);
/* The queue's writer hands each batch's ordinal to these (set before pg_queue_start). */
void pg_queue_set_events(struct pg_queue *q, struct pg_events *e);
/* The ordinal the next batch put will have. */
uint64_t pg_queue_next_ord(struct pg_queue *q);

#include "store_shared.h"   /* the entry points store.c calls */

/* store_pg_load.c: the reads, on a connection (PGconn *) with the sensor filter ("{a,b}" or NULL) */
struct pg_conn;
bool pg_load_inventory(struct pg_conn *c, const char *sensors, const struct store_query *q, struct inventory *inv,
		       char *err, size_t errlen);
bool pg_load_view(struct pg_conn *c, const char *sensors, int64_t since_us, struct store_view *v, char *err,
		  size_t errlen);
bool pg_load_attempts(struct pg_conn *c, const char *sensors, const struct store_query *q, struct attempts *t,
		      char *err, size_t errlen);
void *pg_conn_raw(struct pg_conn *c);
void pg_conn_err(struct pg_conn *c, const char *what, char *err, size_t errlen);

#endif
