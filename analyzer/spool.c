/*
 * spool.c - flow records kept on disk in sorted runs, read back merged
 * (spool.h says why and how data enters and leaves).
 *
 * An item is the record's bytes as they are in memory, followed by its
 * facts (the protocol's state, protocol.h state_size bytes) and, for TLS,
 * one pointer slot and the facts of each certificate of its chain.  Only the
 * pointers into the item change when it is read back (facts, the chain);
 * every other pointer in a record is to text that lives as long as the
 * process (the catalogue's names, protocol tables).  The file is only ever
 * read by the process that wrote it.
 */
#define _GNU_SOURCE
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol.h"
#include "tls.h"
#include "x509.h"

#define ALIGN8(n) (((size_t)(n) + 7) & ~(size_t)7)
#define WRITE_BYTES (256 * 1024)

struct item_head {
	uint32_t size;             /* the whole item, a multiple of 8 */
	uint32_t facts_size;       /* 0: no facts */
	int32_t host;
	uint8_t chain_n;           /* certificates carried (TLS) */
	uint8_t pad[3];
	int64_t index;
};

#define REC_AT (ALIGN8(sizeof(struct item_head)))
#define FACTS_AT (REC_AT + ALIGN8(sizeof(struct flow_record)))

static size_t facts_size(const struct flow_record *r)
{
	return r->facts && r->proto ? r->proto->state_size : 0;
}

static uint8_t chain_of(const struct flow_record *r, const struct x509_info *const **chain)
{
	const struct tls_state *t = r->facts ? rec_tls(r) : NULL;
	*chain = t ? t->chain : NULL;
	return t && t->chain ? t->chain_len : 0;
}

size_t spool_record_size(const struct flow_record *r)
{
	const struct x509_info *const *chain;
	size_t n = chain_of(r, &chain);
	return FACTS_AT + ALIGN8(facts_size(r)) + n * (sizeof(void *) + ALIGN8(sizeof(struct x509_info)));
}

static void set_error(struct spool *s, const char *what, int err)
{
	if (!s->error[0])
		snprintf(s->error, sizeof s->error, "the records' temporary file: %s: %s", what, strerror(err));
}

void spool_init(struct spool *s, spool_cmp cmp, size_t budget)
{
	memset(s, 0, sizeof *s);
	s->cmp = cmp;
	s->budget = budget;
	s->fd = -1;
}

const char *spool_error(const struct spool *s)
{
	return s->error[0] ? s->error : NULL;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * elem);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

/* ---- items ---- */

static void encode(uint8_t *dst, const struct flow_record *r, int64_t index, int32_t host)
{
	const struct x509_info *const *chain;
	uint8_t n = chain_of(r, &chain);
	size_t fs = facts_size(r);
	struct item_head h = { .size = (uint32_t)spool_record_size(r), .facts_size = (uint32_t)fs, .host = host,
			       .chain_n = n, .index = index };
	memset(dst, 0, h.size);
	memcpy(dst, &h, sizeof h);
	memcpy(dst + REC_AT, r, sizeof *r);
	if (fs)
		memcpy(dst + FACTS_AT, r->facts, fs);
	uint8_t *info = dst + FACTS_AT + ALIGN8(fs) + n * sizeof(void *);
	for (uint8_t k = 0; k < n; k++)
		memcpy(info + k * ALIGN8(sizeof(struct x509_info)), chain[k], sizeof(struct x509_info));
}

/* Point the item's record at its own facts and certificates. */
static struct spool_item decode(uint8_t *p)
{
	struct item_head h;
	memcpy(&h, p, sizeof h);
	struct flow_record *r = (struct flow_record *)(p + REC_AT);
	r->facts = h.facts_size ? p + FACTS_AT : NULL;
	struct tls_state *t = r->facts ? rec_tls(r) : NULL;
	if (t) {
		const struct x509_info **slots = (const struct x509_info **)(p + FACTS_AT + ALIGN8(h.facts_size));
		uint8_t *info = (uint8_t *)slots + h.chain_n * sizeof(void *);
		for (uint8_t k = 0; k < h.chain_n; k++)
			slots[k] = (const struct x509_info *)(info + k * ALIGN8(sizeof(struct x509_info)));
		t->chain = h.chain_n ? slots : NULL;
		t->chain_len = h.chain_n;
	}
	return (struct spool_item){ .r = r, .index = h.index, .host = h.host };
}

static uint32_t item_size(const uint8_t *p)
{
	struct item_head h;
	memcpy(&h, p, sizeof h);
	return h.size;
}

/* ---- writing runs ---- */

static int open_temp(char *err, size_t errlen)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	char path[4096];
	if (snprintf(path, sizeof path, "%s/tlsready-records.XXXXXX", dir) >= (int)sizeof path) {
		snprintf(err, errlen, "%s: name too long", dir);
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);   /* O_CREAT|O_EXCL, 0600: never an existing file or a link */
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	unlink(path);
	return fd;
}

static bool own_fd(struct spool *s, int fd)
{
	if (!grow((void **)&s->fds, &s->cap_fds, s->n_fds + 1, sizeof *s->fds))
		return false;
	s->fds[s->n_fds++] = fd;
	return true;
}

struct writer {
	struct spool *s;
	uint8_t *buf;
	size_t len;
	uint64_t at;               /* file offset of buf[0] */
	bool failed;
};

static bool writer_flush(struct writer *w)
{
	size_t done = 0;
	while (!w->failed && done < w->len) {
		ssize_t n = pwrite(w->s->fd, w->buf + done, w->len - done, (off_t)(w->at + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			set_error(w->s, "write", n < 0 ? errno : ENOSPC);
			w->failed = true;
		} else {
			done += (size_t)n;
		}
	}
	w->at += w->len;
	w->len = 0;
	return !w->failed;
}

static bool writer_put(struct writer *w, const uint8_t *p, size_t n)
{
	if (w->len + n > WRITE_BYTES && !writer_flush(w))
		return false;
	if (n > WRITE_BYTES) {     /* never: an item is a few KiB */
		set_error(w->s, "write", EFBIG);
		w->failed = true;
		return false;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return true;
}

static bool writer_open(struct writer *w, struct spool *s)
{
	memset(w, 0, sizeof *w);
	w->s = s;
	if (s->write_failed)
		return false;
	if (s->fd < 0) {
		char err[160];
		int fd = open_temp(err, sizeof err);
		if (fd < 0 || !own_fd(s, fd)) {
			if (fd >= 0)
				close(fd);
			else if (!s->error[0])
				snprintf(s->error, sizeof s->error, "the records' temporary file: %s", err);
			s->write_failed = true;
			return false;
		}
		s->fd = fd;
	}
	if (!(w->buf = malloc(WRITE_BYTES))) {
		set_error(s, "write buffer", ENOMEM);
		return false;
	}
	w->at = s->end;
	return true;
}

/* Close the run the writer wrote: it joins the runs, or on failure nothing of it counts. */
static bool writer_close(struct writer *w, uint64_t count)
{
	struct spool *s = w->s;
	bool ok = !w->failed && writer_flush(w);
	free(w->buf);
	if (!ok) {
		s->write_failed = true;
		return false;
	}
	if (!grow((void **)&s->runs, &s->cap_runs, s->n_runs + 1, sizeof *s->runs)) {
		s->write_failed = true;
		return false;
	}
	s->runs[s->n_runs++] = (struct spool_run){ .fd = s->fd, .off = s->end, .len = w->at - s->end, .count = count };
	s->bytes_written += w->at - s->end;
	s->runs_written++;
	s->end = w->at;
	return true;
}

static int batch_cmp(const void *x, const void *y, void *arg)
{
	struct spool *s = arg;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	struct spool_item i = decode(s->batch + a), j = decode(s->batch + b);
	int c = s->cmp(&i, &j);
	return c ? c : a < b ? -1 : a > b;
}

static void batch_sort(struct spool *s)
{
	if (s->n_offs > 1)
		qsort_r(s->offs, s->n_offs, sizeof *s->offs, batch_cmp, s);
}

/* The batch, sorted, as a new run; the batch is empty after.  False: it stays (and the spool stops writing). */
static bool batch_write(struct spool *s)
{
	if (!s->n_offs)
		return true;
	struct writer w;
	if (!writer_open(&w, s)) {
		s->write_failed = true;
		return false;
	}
	batch_sort(s);
	for (size_t i = 0; i < s->n_offs && !w.failed; i++)
		writer_put(&w, s->batch + s->offs[i], item_size(s->batch + s->offs[i]));
	if (!writer_close(&w, s->n_offs))
		return false;
	s->n_offs = 0;
	s->batch_len = 0;
	return true;
}

static uint8_t *batch_room(struct spool *s, size_t n)
{
	if (!grow((void **)&s->batch, &s->batch_cap, s->batch_len + n, 1) ||
	    !grow((void **)&s->offs, &s->cap_offs, s->n_offs + 1, sizeof *s->offs))
		return NULL;
	s->offs[s->n_offs++] = s->batch_len;
	uint8_t *p = s->batch + s->batch_len;
	s->batch_len += n;
	s->count++;
	return p;
}

bool spool_add(struct spool *s, const struct flow_record *r, int64_t index, int32_t host)
{
	size_t n = spool_record_size(r);
	if (s->batch_len + n > s->budget && !s->write_failed)
		batch_write(s);
	uint8_t *p = batch_room(s, n);
	if (!p)
		return false;
	encode(p, r, index, host);
	return true;
}

bool spool_adopt(struct spool *into, struct spool *from)
{
	bool ok = true;
	for (size_t i = 0; i < from->n_offs && ok; i++) {
		const uint8_t *src = from->batch + from->offs[i];
		size_t n = item_size(src);
		if (into->batch_len + n > into->budget && !into->write_failed)
			batch_write(into);
		uint8_t *p = batch_room(into, n);
		if (p)
			memcpy(p, src, n);
		ok = p != NULL;
	}
	ok = ok && grow((void **)&into->runs, &into->cap_runs, into->n_runs + from->n_runs, sizeof *into->runs) &&
	     grow((void **)&into->fds, &into->cap_fds, into->n_fds + from->n_fds, sizeof *into->fds);
	if (ok) {
		memcpy(into->runs + into->n_runs, from->runs, from->n_runs * sizeof *from->runs);
		into->n_runs += from->n_runs;
		memcpy(into->fds + into->n_fds, from->fds, from->n_fds * sizeof *from->fds);
		into->n_fds += from->n_fds;
		for (size_t i = 0; i < from->n_runs; i++)
			into->count += from->runs[i].count;
		into->bytes_written += from->bytes_written;
		into->runs_written += from->runs_written;
		from->n_runs = from->n_fds = 0;
		from->fd = -1;
	}
	if (!into->error[0] && from->error[0])
		memcpy(into->error, from->error, sizeof into->error);
	into->write_failed |= from->write_failed;
	spool_free(from);
	spool_init(from, into->cmp, into->budget);
	return ok;
}

void spool_free(struct spool *s)
{
	for (size_t i = 0; i < s->n_fds; i++)
		close(s->fds[i]);
	free(s->fds);
	free(s->runs);
	free(s->batch);
	free(s->offs);
	memset(s, 0, sizeof *s);
	s->fd = -1;
}

/* ---- reading: a heap of cursors, one per run and one for the batch ---- */

struct cursor {
	const struct spool_run *run;   /* NULL: the batch */
	uint64_t pos;              /* next file offset to read (from run->off) */
	uint8_t *buf;
	size_t have, at;           /* bytes in buf, start of the current item */
	size_t next_off;           /* the batch: next index into offs */
	struct spool_item item;    /* the current item (valid while `live`) */
	bool live;
	size_t order;              /* ties: the earlier source first */
};

struct spool_reader {
	struct spool *s;
	struct cursor *c;
	size_t n;
	size_t *heap;
	size_t n_heap;
	ssize_t last;              /* the cursor whose item was handed out last */
};

static bool read_more(struct spool *s, struct cursor *c, size_t need)
{
	if (c->at) {               /* keep the unread tail at the start (8-aligned: items are) */
		memmove(c->buf, c->buf + c->at, c->have - c->at);
		c->have -= c->at;
		c->at = 0;
	}
	uint64_t end = c->run->off + c->run->len;
	while (c->have < need && c->pos < end) {
		size_t want = SPOOL_READ_BYTES - c->have;
		if (want > end - c->pos)
			want = (size_t)(end - c->pos);
		ssize_t n = pread(c->run->fd, c->buf + c->have, want, (off_t)c->pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			set_error(s, "read", n < 0 ? errno : EIO);
			return false;
		}
		c->have += (size_t)n;
		c->pos += (uint64_t)n;
	}
	if (c->have < need) {
		set_error(s, "read", EIO);
		return false;
	}
	return true;
}

/* Move a cursor to its next item: false at its end or on a read failure (s->read_failed then). */
static bool advance(struct spool *s, struct cursor *c)
{
	c->live = false;
	if (!c->run) {
		if (c->next_off >= s->n_offs)
			return false;
		c->item = decode(s->batch + s->offs[c->next_off++]);
		return c->live = true;
	}
	if (c->item.r)             /* the item handed out is consumed */
		c->at += item_size(c->buf + c->at);
	c->item.r = NULL;
	if (c->at == c->have && c->pos == c->run->off + c->run->len)
		return false;
	if (c->have - c->at < sizeof(struct item_head) && !read_more(s, c, sizeof(struct item_head)))
		goto bad;
	uint32_t size = item_size(c->buf + c->at);
	if (size < FACTS_AT || size % 8 || size > SPOOL_READ_BYTES) {
		set_error(s, "read", EILSEQ);
		goto bad;
	}
	if (c->have - c->at < size && !read_more(s, c, size))
		goto bad;
	c->item = decode(c->buf + c->at);
	return c->live = true;
bad:
	s->read_failed = true;
	return false;
}

static int cursor_cmp(const struct spool_reader *rd, size_t a, size_t b)
{
	const struct cursor *x = &rd->c[a], *y = &rd->c[b];
	int c = rd->s->cmp(&x->item, &y->item);
	return c ? c : x->order < y->order ? -1 : x->order > y->order;
}

static void sift_down(struct spool_reader *rd, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < rd->n_heap && cursor_cmp(rd, rd->heap[l], rd->heap[m]) < 0)
			m = l;
		if (l + 1 < rd->n_heap && cursor_cmp(rd, rd->heap[l + 1], rd->heap[m]) < 0)
			m = l + 1;
		if (m == i)
			return;
		size_t t = rd->heap[i];
		rd->heap[i] = rd->heap[m];
		rd->heap[m] = t;
		i = m;
	}
}

/* A reader of runs [first, first + n) and, with batch, of the batch too. */
static struct spool_reader *reader_open(struct spool *s, size_t first, size_t n, bool batch)
{
	struct spool_reader *rd = calloc(1, sizeof *rd);
	size_t k = n + (batch ? 1 : 0);
	if (!rd || !(rd->c = calloc(k ? k : 1, sizeof *rd->c)) || !(rd->heap = calloc(k ? k : 1, sizeof *rd->heap))) {
		spool_reader_close(rd);
		return NULL;
	}
	rd->s = s;
	rd->last = -1;
	if (batch)
		batch_sort(s);
	for (size_t i = 0; i < k; i++) {
		struct cursor *c = &rd->c[rd->n++];
		c->order = i;
		c->run = i < n ? &s->runs[first + i] : NULL;
		if (c->run) {
			c->pos = c->run->off;
			if (!(c->buf = malloc(SPOOL_READ_BYTES))) {
				spool_reader_close(rd);
				return NULL;
			}
		}
		if (advance(s, c))
			rd->heap[rd->n_heap++] = i;
		else if (s->read_failed) {
			spool_reader_close(rd);
			return NULL;
		}
	}
	for (size_t i = rd->n_heap / 2; i-- > 0;)
		sift_down(rd, i);
	return rd;
}

bool spool_next(struct spool_reader *rd, struct spool_item *out)
{
	if (rd->last >= 0) {       /* the item handed out last is done with: its cursor moves on */
		struct cursor *c = &rd->c[rd->last];
		rd->last = -1;
		if (!advance(rd->s, c)) {
			if (rd->s->read_failed)
				return false;
			rd->heap[0] = rd->heap[--rd->n_heap];
		}
		if (rd->n_heap)
			sift_down(rd, 0);
	}
	if (!rd->n_heap)
		return false;
	rd->last = (ssize_t)rd->heap[0];
	*out = rd->c[rd->last].item;
	return true;
}

void spool_reader_close(struct spool_reader *rd)
{
	if (!rd)
		return;
	for (size_t i = 0; rd->c && i < rd->n; i++)
		free(rd->c[i].buf);
	free(rd->c);
	free(rd->heap);
	free(rd);
}

/* Runs [first, first + n) merged into one new run at the end of the spool's file. */
static bool merge_runs(struct spool *s, size_t first, size_t n)
{
	struct writer w;
	if (!writer_open(&w, s))
		return false;
	struct spool_reader *rd = reader_open(s, first, n, false);
	if (!rd) {
		free(w.buf);
		return false;
	}
	uint64_t count = 0;
	struct spool_item it;
	while (!w.failed && spool_next(rd, &it)) {
		/* copied as read: the pointers decode() set are set again whenever the item is read */
		const uint8_t *p = (const uint8_t *)it.r - REC_AT;
		writer_put(&w, p, item_size(p));
		count++;
	}
	bool read_ok = !s->read_failed;
	spool_reader_close(rd);
	if (!read_ok) {
		free(w.buf);
		return false;
	}
	/* the new run replaces the merged ones (their bytes stay in the file, unused) */
	if (!writer_close(&w, count))
		return false;
	struct spool_run nr = s->runs[--s->n_runs];
	memmove(&s->runs[first + 1], &s->runs[first + n], (s->n_runs - first - n) * sizeof *s->runs);
	s->runs[first] = nr;
	s->n_runs -= n - 1;
	return true;
}

struct spool_reader *spool_read(struct spool *s)
{
	/* passes over everything, each merging runs SPOOL_MAX_OPEN at a time: SPOOL_MAX_OPEN times fewer */
	bool merged = true;
	while (merged && s->n_runs > SPOOL_MAX_OPEN)
		for (size_t first = 0; merged && first + 1 < s->n_runs; first++)
			merged = merge_runs(s, first, s->n_runs - first < SPOOL_MAX_OPEN ? s->n_runs - first : SPOOL_MAX_OPEN);
	if (s->read_failed)
		return NULL;
	/* a merge that could not be written leaves more runs open at once: more read buffers, nothing lost */
	return reader_open(s, 0, s->n_runs, true);
}

void spool_say(const struct spool *s, bool quiet)
{
	if (s && s->write_failed)
		fprintf(stderr, "tlsready: warning: %s; the records stay in memory\n", spool_error(s));
	else if (s && s->runs_written && !quiet)
		fprintf(stderr, "tlsready: %" PRIu64 " records went through a temporary file (%.1f MB in %" PRIu64
			" runs) to hold at most --records-memory of them\n", s->count, s->bytes_written / 1e6,
			s->runs_written);
}
