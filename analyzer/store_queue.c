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
 * tail is cut off at the next open.  A monitor's batch is appended in parts
 * as it is built (pg_queue_begin/append/commit), its header written last, and
 * the writer reads it back and sends it a window at a time (apply_entry), so
 * neither thread holds a whole batch.  Opened with outfile.c's rules (no link
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
	/* the entry being appended at the tail (pg_queue_begin): its batch's bytes so far and their checksum;
	 * the writer does not shrink the file under it */
	bool appending, append_failed;
	uint64_t append_len;
	uint32_t append_sum;
};

#define FNV_START 2166136261u
#define QWINDOW (4u << 20)          /* the writer reads a queued batch this much at a time */

static uint32_t fnv_add(uint32_t h, const unsigned char *p, size_t n)
{
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

/* The entry at off, checked a window at a time (its header, its bytes against its checksum): its batch's
 * length in *blen, its size on disk in *size; false at a torn or bad entry. */
static bool check_entry(int fd, uint64_t off, uint64_t end, uint32_t *blen, uint64_t *size)
{
	uint32_t h[2], sum, want = FNV_START;
	if (end - off < 12 || pread(fd, h, 8, (off_t)off) != 8 || h[0] != QMAGIC || h[1] > end - off - 12)
		return false;
	size_t wlen = h[1] < QWINDOW ? h[1] : QWINDOW;
	unsigned char *w = malloc(wlen ? wlen : 1);
	bool ok = w != NULL;
	for (uint64_t at = 0; ok && at < h[1];) {
		size_t n = h[1] - at < wlen ? (size_t)(h[1] - at) : wlen;
		ok = pread(fd, w, n, (off_t)(off + 8 + at)) == (ssize_t)n;
		want = fnv_add(want, w, n);
		at += n;
	}
	free(w);
	if (!ok || pread(fd, &sum, 4, (off_t)(off + 8 + h[1])) != 4 || sum != want)
		return false;
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
		uint32_t bl;
		while (check_entry(q->fd, off, end, &bl, &size)) {
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

void pg_queue_begin(struct pg_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->appending = true;
	q->append_failed = false;
	q->append_len = 0;
	q->append_sum = FNV_START;
	pthread_mutex_unlock(&q->mu);
}

bool pg_queue_append(struct pg_queue *q, const unsigned char *buf, size_t len)
{
	pthread_mutex_lock(&q->mu);
	uint64_t at = q->tail + 8 + q->append_len;   /* the header goes last, at commit */
	bool ok = q->appending && !q->append_failed && q->tail - q->head + 12 + q->append_len + len <= q->max &&
		  q->append_len + len <= UINT32_MAX;
	uint32_t sum = q->append_sum;
	pthread_mutex_unlock(&q->mu);   /* only this thread writes past the tail; the writer reads before it */
	ok = ok && pwrite(q->fd, buf, len, (off_t)at) == (ssize_t)len;
	if (ok)
		sum = fnv_add(sum, buf, len);   /* outside the lock: the writer never waits on it */
	pthread_mutex_lock(&q->mu);
	if (ok) {
		q->append_len += len;
		q->append_sum = sum;
	} else {
		q->append_failed = true;
	}
	pthread_mutex_unlock(&q->mu);
	return ok;
}

/* The entry's bytes past the tail cut off; not appending any more. */
static void end_append(struct pg_queue *q)
{
	if (ftruncate(q->fd, (off_t)q->tail) != 0)
		q->st.failures++;
	q->appending = false;
}

bool pg_queue_commit(struct pg_queue *q)
{
	pthread_mutex_lock(&q->mu);
	uint64_t size = 12 + q->append_len;
	uint32_t h[2] = { QMAGIC, (uint32_t)q->append_len }, sum = q->append_sum;
	bool ok = q->appending && !q->append_failed && q->tail - q->head + size <= q->max &&
		  pwrite(q->fd, &sum, 4, (off_t)(q->tail + 8 + q->append_len)) == 4 &&
		  pwrite(q->fd, h, 8, (off_t)q->tail) == 8 && fdatasync(q->fd) == 0;
	if (ok) {
		q->tail += size;
		q->batches++;
		q->ord_in++;
		q->appending = false;
		pthread_cond_signal(&q->work);
	} else {
		q->st.dropped++;
		q->st.dropped_bytes += size;
		end_append(q);
	}
	pthread_mutex_unlock(&q->mu);
	return ok;
}

void pg_queue_abandon(struct pg_queue *q)
{
	pthread_mutex_lock(&q->mu);
	if (q->appending)
		end_append(q);
	pthread_mutex_unlock(&q->mu);
}

bool pg_queue_put(struct pg_queue *q, const struct pg_batch *b)
{
	pg_queue_begin(q);
	pg_queue_append(q, b->buf, b->len);   /* a failure is counted at the commit */
	return pg_queue_commit(q);
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

/* The entry at off applied in one transaction, read a window at a time (its rows go down the pipeline as
 * they are read; a row longer than the window widens it): committed only when its checksum matched.
 * *size: its size on disk; *whole false when it could not be read whole or its checksum failed (it is
 * then refused: nothing of it is committed). */
static enum pg_applied apply_entry(struct pg_queue *q, uint64_t off, uint64_t end, uint64_t *size, bool *whole,
				   char *err, size_t errlen)
{
	uint32_t h[2], sum, want = FNV_START;
	*whole = end - off >= 12 && pread(q->fd, h, 8, (off_t)off) == 8 && h[0] == QMAGIC && h[1] <= end - off - 12;
	if (!*whole) {
		snprintf(err, errlen, "a damaged queue entry");
		return PGA_REFUSED;
	}
	*size = 12 + (uint64_t)h[1];
	struct pg_stream *s = pg_stream_begin(q->conn, err, errlen);
	if (!s)
		return PGA_DOWN;
	size_t cap = h[1] < QWINDOW ? h[1] : QWINDOW, have = 0;
	unsigned char *w = malloc(cap ? cap : 1);
	uint64_t at = 0;           /* bytes of the batch read */
	bool oom = w == NULL;      /* no memory: not the entry's fault, it is tried again */
	while (!oom && *whole && at < h[1]) {
		if (have == cap) {     /* one row fills the window: widen it */
			size_t ncap = cap * 2 < h[1] ? cap * 2 : h[1];
			unsigned char *nw = ncap > cap ? realloc(w, ncap) : NULL;
			if (!nw) {
				oom = true;
				break;
			}
			w = nw;
			cap = ncap;
		}
		size_t n = h[1] - at < cap - have ? (size_t)(h[1] - at) : cap - have;
		if (pread(q->fd, w + have, n, (off_t)(off + 8 + at)) != (ssize_t)n) {
			*whole = false;
			break;
		}
		want = fnv_add(want, w + have, n);
		at += n;
		have += n;
		size_t used = pg_stream_send(s, w, have, at < h[1]);
		memmove(w, w + used, have - used);
		have -= used;
	}
	free(w);
	if (oom) {
		pg_stream_end(s, false);
		snprintf(err, errlen, "out of memory reading a queued checkpoint");
		return PGA_DOWN;   /* the connection is reset and the entry tried again */
	}
	if (*whole)
		*whole = have == 0 && pread(q->fd, &sum, 4, (off_t)(off + 8 + h[1])) == 4 && sum == want;
	if (!*whole) {
		pg_stream_end(s, false);   /* never synced: nothing of it is committed; the caller resets the session */
		snprintf(err, errlen, "a damaged queue entry");
		return PGA_REFUSED;
	}
	return pg_stream_end(s, true);
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
		uint64_t size = 0;
		struct pg_events_pending pend;
		pg_events_before(q->ev, q->conn, ord, &pend);
		bool whole = true;
		enum pg_applied r = apply_entry(q, head, tail, &size, &whole, err, sizeof err);
		if (!whole)                /* cannot be: the entries were checked; skip the rest */
			size = tail - head;
		if (((q->ev && !pg_events_after(q->ev, q->conn, &pend, r)) || !whole) && r != PGA_DOWN) {
			pg_disconnect(q->conn);   /* the advisory lock goes with the session, and an unsynced pipeline */
			q->conn = NULL;
		}
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
		if (q->head == q->tail) {   /* empty: the file shrinks back to its header (not under an entry being
					     * appended: it does the next time) */
			if (!q->appending) {
				q->head = q->tail = QHDR;
				if (ftruncate(q->fd, QHDR) != 0)
					q->st.failures++;
			}
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
