/*
 * store_queue.c - a sensor's local queue of batches for the shared store,
 * on disk, and the writer thread that applies them (see store_pg.h).
 *
 * In: pg_queue_put() from the capture thread appends one batch to the file
 * and returns; it never touches the database.  The writer thread takes the
 * oldest batch, applies it in one transaction, and only then moves the
 * file's head past it; while the database is away it reconnects with a
 * back-off (0.25 s doubling to 5 s).  A batch committed whose acknowledgement
 * was lost is applied again after a reconnect or a restart, and its key
 * (sensor, run, seq) makes that a no-op: exactly once.  Around each apply
 * the writer lets store_pg_events.c compute the findings of a monitor's
 * checkpoint (batches are numbered in order: the ordinal binds a batch to
 * the inventory the capture thread left for it).
 *
 * The file: 16 bytes "TLSRQUE1" and the head offset, then entries (magic,
 * length, the batch, an FNV-1a checksum); an entry torn by a crash at the
 * tail is cut off at the next open.  Opened with outfile.c's rules (no link
 * followed, 0600); bounded in bytes: a batch that would pass the bound is
 * dropped and counted (pg_queue_stats, the monitor's counter).
 */
#define _GNU_SOURCE
#include "store_pg.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"

#define QHDR 16
#define QMAGIC 0x51525354u

struct pg_queue {
	int fd;
	char *path, *conninfo;
	uint64_t max, head, tail, batches;
	pthread_t th;
	bool started, stop;
	pthread_mutex_t mu;
	pthread_cond_t work, empty;
	struct pg_queue_stats st;
	struct pg_conn *conn;
	unsigned warned;
	uint64_t ord_in, ord_out;  /* ordinals: of the next batch put, of the batch at the head */
	struct pg_events *ev;      /* NULL: no findings */
};

static uint32_t fnv(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static bool write_head(struct pg_queue *q)
{
	unsigned char h[QHDR];
	memcpy(h, "TLSRQUE1", 8);
	memcpy(h + 8, &q->head, 8);
	return pwrite(q->fd, h, QHDR, 0) == QHDR;
}

/* The entry at off: its batch in *buf (malloc'd), its size on disk in *size; false at a torn or bad entry. */
static bool read_entry(int fd, uint64_t off, uint64_t end, unsigned char **buf, uint32_t *blen, uint64_t *size)
{
	uint32_t h[2], sum;
	if (end - off < 12 || pread(fd, h, 8, (off_t)off) != 8 || h[0] != QMAGIC || h[1] > end - off - 12)
		return false;
	unsigned char *b = malloc(h[1] ? h[1] : 1);
	if (!b || pread(fd, b, h[1], (off_t)off + 8) != (ssize_t)h[1] ||
	    pread(fd, &sum, 4, (off_t)(off + 8 + h[1])) != 4 || sum != fnv(b, h[1])) {
		free(b);
		return false;
	}
	*buf = b;
	*blen = h[1];
	*size = 12 + (uint64_t)h[1];
	return true;
}

struct pg_queue *pg_queue_open(const char *path, const char *conninfo, uint64_t max_bytes, char *err, size_t errlen)
{
	struct pg_queue *q = calloc(1, sizeof *q);
	char why[600];
	if (!q || !(q->path = strdup(path)) || !(q->conninfo = strdup(conninfo))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	q->max = max_bytes;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->empty, NULL);
	bool created = false;
	if (outfile_open(path, OUTFILE_RDWR, 0600, &q->fd, &created, why, sizeof why) != OUTFILE_OK) {
		snprintf(err, errlen, "queue file %s", why);
		q->fd = -1;
		goto fail;
	}
	struct stat sb;
	unsigned char h[QHDR];
	if (fstat(q->fd, &sb) != 0)
		goto io;
	if (sb.st_size < QHDR) {
		q->head = q->tail = QHDR;
		if (ftruncate(q->fd, 0) != 0 || !write_head(q))
			goto io;
	} else {
		if (pread(q->fd, h, QHDR, 0) != QHDR || memcmp(h, "TLSRQUE1", 8) != 0) {
			snprintf(err, errlen, "%s: not a tlsready queue file; refusing it", path);
			goto fail;
		}
		memcpy(&q->head, h + 8, 8);
		if (q->head < QHDR || q->head > (uint64_t)sb.st_size)
			q->head = QHDR;
		/* walk the entries: the tail is after the last whole one */
		uint64_t off = q->head, end = (uint64_t)sb.st_size, size;
		unsigned char *b;
		uint32_t bl;
		while (read_entry(q->fd, off, end, &b, &bl, &size)) {
			free(b);
			off += size;
			q->batches++;
		}
		q->tail = off;
		q->ord_in = q->batches;   /* an earlier run's batches come first, with no findings */
		if (off < end && ftruncate(q->fd, (off_t)off) != 0)
			goto io;
		if (q->batches)
			fprintf(stderr, "tlsready: %s: %" PRIu64 " checkpoints from an earlier run to replay\n", path,
				q->batches);
	}
	return q;
io:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
fail:
	if (q) {
		if (q->fd >= 0)
			close(q->fd);
		free(q->path);
		free(q->conninfo);
		free(q);
	}
	return NULL;
}

bool pg_queue_put(struct pg_queue *q, const struct pg_batch *b)
{
	uint64_t size = 12 + (uint64_t)b->len;
	bool ok = false;
	pthread_mutex_lock(&q->mu);
	if (b->len > UINT32_MAX || q->tail - q->head + size > q->max) {
		q->st.dropped++;
		q->st.dropped_bytes += size;
	} else {
		uint32_t h[2] = { QMAGIC, (uint32_t)b->len }, sum = fnv(b->buf, b->len);
		ok = pwrite(q->fd, h, 8, (off_t)q->tail) == 8 &&
		     pwrite(q->fd, b->buf, b->len, (off_t)q->tail + 8) == (ssize_t)b->len &&
		     pwrite(q->fd, &sum, 4, (off_t)(q->tail + 8 + b->len)) == 4 && fdatasync(q->fd) == 0;
		if (ok) {
			q->tail += size;
			q->batches++;
			q->ord_in++;
			pthread_cond_signal(&q->work);
		} else {
			q->st.dropped++;
			q->st.dropped_bytes += size;
			if (ftruncate(q->fd, (off_t)q->tail) != 0)
				q->st.failures++;
		}
	}
	pthread_mutex_unlock(&q->mu);
	return ok;
}

/* Wait up to ms on the work condition (a stop wakes it). */
static void pause_ms(struct pg_queue *q, int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&q->mu);
	if (!q->stop)
		pthread_cond_timedwait(&q->work, &q->mu, &ts);
	pthread_mutex_unlock(&q->mu);
}

static void *writer(void *arg)
{
	struct pg_queue *q = arg;
	int backoff = 250;
	char err[512];
	for (;;) {
		pthread_mutex_lock(&q->mu);
		while (q->head == q->tail && !q->stop)
			pthread_cond_wait(&q->work, &q->mu);
		if (q->head == q->tail || q->stop) {   /* a stop leaves the rest in the file */
			pthread_mutex_unlock(&q->mu);
			break;
		}
		uint64_t head = q->head, tail = q->tail, ord = q->ord_out;
		pthread_mutex_unlock(&q->mu);
		if (!q->conn && !(q->conn = pg_connect(q->conninfo, true, err, sizeof err))) {
			if (q->warned++ < 3)
				fprintf(stderr, "tlsready: warning: %s; checkpoints stay queued, retrying\n", err);
			q->st.failures++;
			pause_ms(q, backoff);
			backoff = backoff < 5000 ? backoff * 2 : 5000;
			continue;
		}
		unsigned char *b = NULL;
		uint32_t bl = 0;
		uint64_t size = 0;
		enum pg_applied r;
		if (!read_entry(q->fd, head, tail, &b, &bl, &size)) {
			r = PGA_REFUSED;   /* cannot be: the entries were checked; skip the rest */
			size = tail - head;
		} else {
			struct pg_events_pending pend;
			pg_events_before(q->ev, q->conn, ord, &pend);
			r = pg_apply(q->conn, b, bl, err, sizeof err);
			if (q->ev && !pg_events_after(q->ev, q->conn, &pend, r) && r != PGA_DOWN) {
				pg_disconnect(q->conn);   /* the advisory lock goes with the session */
				q->conn = NULL;
			}
		}
		free(b);
		if (r == PGA_DOWN) {
			if (q->warned++ < 3)
				fprintf(stderr, "tlsready: warning: %s; checkpoints stay queued, retrying\n", err);
			q->st.failures++;
			pg_disconnect(q->conn);
			q->conn = NULL;
			pause_ms(q, backoff);
			backoff = backoff < 5000 ? backoff * 2 : 5000;
			continue;
		}
		if (r == PGA_REFUSED) {
			fprintf(stderr, "tlsready: warning: the shared store refused a queued checkpoint (%s); dropped,"
					" counted\n", err);
			q->st.dropped++;
			q->st.dropped_bytes += size;
		}
		backoff = 250;
		q->warned = 0;
		pthread_mutex_lock(&q->mu);
		if (r == PGA_APPLIED)
			q->st.applied++;
		else if (r == PGA_ALREADY)
			q->st.replayed_noop++;
		q->head += size;
		q->batches--;
		q->ord_out++;
		if (q->head == q->tail) {   /* empty: the file shrinks back to its header */
			q->head = q->tail = QHDR;
			if (ftruncate(q->fd, QHDR) != 0)
				q->st.failures++;
			pthread_cond_broadcast(&q->empty);
		}
		if (!write_head(q))
			q->st.failures++;
		pthread_mutex_unlock(&q->mu);
	}
	return NULL;
}

bool pg_queue_start(struct pg_queue *q, char *err, size_t errlen)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);   /* signals stay with the capture thread */
	int rc = pthread_create(&q->th, NULL, writer, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the database writer: %s", strerror(rc));
		return false;
	}
	q->started = true;
	return true;
}

void pg_queue_set_events(struct pg_queue *q, struct pg_events *e)
{
	q->ev = e;
}

uint64_t pg_queue_next_ord(struct pg_queue *q)
{
	pthread_mutex_lock(&q->mu);
	uint64_t n = q->ord_in;
	pthread_mutex_unlock(&q->mu);
	return n;
}

bool pg_queue_drain(struct pg_queue *q, int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&q->mu);
	while (q->started && q->head != q->tail)
		if (pthread_cond_timedwait(&q->empty, &q->mu, &ts) == ETIMEDOUT)
			break;
	bool empty = q->head == q->tail;
	pthread_mutex_unlock(&q->mu);
	return empty;
}

void pg_queue_stats(struct pg_queue *q, struct pg_queue_stats *st)
{
	pthread_mutex_lock(&q->mu);
	*st = q->st;
	st->queued_bytes = q->tail - q->head;
	st->queued_batches = q->batches;
	st->connected = q->conn != NULL;
	pthread_mutex_unlock(&q->mu);
}

bool pg_queue_chown(struct pg_queue *q, unsigned uid, unsigned gid, char *err, size_t errlen)
{
	if (fchown(q->fd, uid, gid) != 0) {
		snprintf(err, errlen, "%s: cannot give it to uid %u: %s", q->path, uid, strerror(errno));
		return false;
	}
	return true;
}

void pg_queue_close(struct pg_queue *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_broadcast(&q->work);
	pthread_mutex_unlock(&q->mu);
	if (q->started)
		pthread_join(q->th, NULL);
	pg_disconnect(q->conn);
	close(q->fd);
	free(q->path);
	free(q->conninfo);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->work);
	pthread_cond_destroy(&q->empty);
	free(q);
}
