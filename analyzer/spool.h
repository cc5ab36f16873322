/*
 * spool.h - flow records kept on disk: copied into a batch, each full batch
 * sorted and written as one run to an unnamed temporary file, read back as
 * one sorted stream (issue 18: a one-shot run's memory must not grow with
 * its connections).
 *
 * In: records (spool_add copies one: the record, its protocol's facts and,
 * for TLS, the facts of the certificates it saw), with two numbers carried
 * along (an index and a DHCP host).  Out: a reader that merges the runs and
 * the batch still in memory (a heap over their heads) and hands back each
 * record decoded in place, in the order of the spool's comparison, valid
 * until the next call.  One module serves two orders: the engine's (first
 * packet) and the inventory's (client, then first packet).
 *
 * The file is opened with O_TMPFILE (no name, so nothing to plant a link
 * at, nothing left behind), else created by mkstemp and unlinked at once,
 * mode 0600, in $TMPDIR or /tmp.  A batch that cannot be written stays in
 * memory (the spool stops writing, says why once in spool_error(), and
 * loses nothing).  Runs beyond SPOOL_MAX_OPEN are merged into one before
 * reading, so a reader holds at most that many read buffers.
 */
#ifndef TLSREADY_SPOOL_H
#define TLSREADY_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define SPOOL_MAX_OPEN 64          /* runs read at once; more are merged first */
#define SPOOL_READ_BYTES (64 * 1024)   /* each run's read buffer */
#define SPOOL_MIN_BATCH (64 * 1024)    /* the engine's batches are at least this big */

/* What a comparison sees of a spooled record. */
struct spool_item {
	struct flow_record *r;     /* decoded: facts and certificates point into the spool's buffer */
	int64_t index;
	int32_t host;
};
typedef int (*spool_cmp)(const struct spool_item *x, const struct spool_item *y);

struct spool_run {
	int fd;
	uint64_t off, len, count;
};

struct spool {
	spool_cmp cmp;
	size_t budget;             /* batch bytes before it is written as a run */
	/* the batch: serialized items, 8-byte aligned, and where each starts */
	uint8_t *batch;
	size_t batch_len, batch_cap;
	size_t *offs;
	size_t n_offs, cap_offs;
	/* the runs, in the files this spool owns */
	struct spool_run *runs;
	size_t n_runs, cap_runs;
	int *fds;
	size_t n_fds, cap_fds;
	int fd;                    /* the file it writes; -1 until its first run */
	uint64_t end;              /* where that file's next run starts */
	uint64_t count;            /* records held (runs and batch) */
	uint64_t runs_written, bytes_written;
	bool write_failed;         /* a run could not be written: the batch keeps everything from then on */
	bool read_failed;          /* a run could not be read back: a report from it is incomplete */
	char error[200];           /* the first failure, one line */
};

/* budget: a batch is written as a run when the next record would take it past this many bytes
 * (0: every record is a run of its own, for tests; callers give SPOOL_MIN_BATCH at least). */
void spool_init(struct spool *s, spool_cmp cmp, size_t budget);
/* Copy one record in (false: no memory; the record is not held). */
bool spool_add(struct spool *s, const struct flow_record *r, int64_t index, int32_t host);
/* Move everything `from` holds into `into` (same comparison); `from` is left empty. */
bool spool_adopt(struct spool *into, struct spool *from);
void spool_free(struct spool *s);
/* The first failure (write or read), or NULL. */
const char *spool_error(const struct spool *s);
/* On standard error: why records stayed in memory (a run could not be written), or, unless quiet, how
 * many went through the temporary file.  NULL: nothing to say. */
void spool_say(const struct spool *s, bool quiet);
/* Bytes one record takes in a batch (what the budget counts). */
size_t spool_record_size(const struct flow_record *r);

struct spool_reader;
/* A reader of everything held, in order (merging runs first when there are too many); NULL on no memory
 * or when the merge failed (spool_error says why). */
struct spool_reader *spool_read(struct spool *s);
/* The next record; false at the end, or on a read failure (then s->read_failed and spool_error()). */
bool spool_next(struct spool_reader *rd, struct spool_item *out);
void spool_reader_close(struct spool_reader *rd);

#endif
