/*
 * workers.c - the worker threads of --threads N (see workers.h).
 *
 * Packets travel in batches (up to BATCH_FRAMES packets or BATCH_BYTES bytes
 * of their frames) through a small bounded queue per worker, so the reader
 * and the workers synchronise once per batch, not per packet; batches are
 * recycled, so the steady state allocates nothing.  A batch holds the
 * packets as the reader decoded them, their l3 and payload pointers moved
 * into the batch's copy of the frames, so a worker feeds them to its own
 * engine as they are: a frame is decoded once, by the reader.  Shared state:
 * the catalogue (its learned ports are guarded by engine_lock) and nothing
 * else; each worker's IBM i addresses are merged at the end.
 */
#include "workers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "x509.h"

#define BATCH_FRAMES 512
#define BATCH_BYTES (1u << 20)
#define QUEUE_DEPTH 8

struct batch {
	struct packet p[BATCH_FRAMES];   /* as decoded; l3 and payload point into data */
	uint32_t n;
	uint32_t used;                   /* bytes of data filled */
	uint8_t data[BATCH_BYTES];       /* the packets' frames, one after the other */
};

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *items[QUEUE_DEPTH];
	int head, count;
	bool closed;
};

struct workers;

struct worker {
	struct workers *all;
	pthread_t th;
	struct engine e;
	struct queue full;         /* reader -> worker */
	struct queue empty;        /* worker -> reader: recycled batches */
	struct batch *cur;         /* the reader's batch being filled */
	bool started;
};

struct workers {
	struct engine *main;
	int n;
	int64_t last_ts;           /* the latest capture time read, for idle timeouts at the end */
	struct worker w[WORKERS_MAX];
};

static void q_init(struct queue *q)
{
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->head = q->count = 0;
	q->closed = false;
}

static void q_push(struct queue *q, struct batch *b)
{
	pthread_mutex_lock(&q->mu);
	while (q->count == QUEUE_DEPTH)
		pthread_cond_wait(&q->cv, &q->mu);
	q->items[(q->head + q->count) % QUEUE_DEPTH] = b;
	q->count++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* NULL when the queue is closed and empty. */
static struct batch *q_pop(struct queue *q, bool wait)
{
	pthread_mutex_lock(&q->mu);
	while (wait && q->count == 0 && !q->closed)
		pthread_cond_wait(&q->cv, &q->mu);
	struct batch *b = NULL;
	if (q->count) {
		b = q->items[q->head];
		q->head = (q->head + 1) % QUEUE_DEPTH;
		q->count--;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return b;
}

static void q_close(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static void q_destroy(struct queue *q)
{
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct batch *b;
	while ((b = q_pop(&w->full, true))) {
		for (uint32_t i = 0; i < b->n; i++)
			engine_packet(&w->e, &b->p[i]);
		b->n = b->used = 0;
		q_push(&w->empty, b);
	}
	/* what one engine would have timed out by the last packet of the input,
	 * then end every flow; the reader sorts and marks after the merge */
	engine_tick(&w->e, w->all->last_ts);
	engine_flush(&w->e);
	x509_cache_clear();
	return NULL;
}

struct workers *workers_start(struct engine *e, int n, char *err, size_t errlen)
{
	if (n < 1 || n > WORKERS_MAX) {
		snprintf(err, errlen, "--threads must be 1 to %d", WORKERS_MAX);
		return NULL;
	}
	struct workers *ws = calloc(1, sizeof *ws);
	if (!ws) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ws->main = e;
	ws->n = n;
	engine_set_shared(e);
	for (int i = 0; i < n; i++) {
		struct worker *w = &ws->w[i];
		w->all = ws;
		/* the flow cap is shared out; nDPI modules must be created one at a time */
		struct engine_config cfg = e->cfg;
		cfg.max_flows = (e->cfg.max_flows + (uint32_t)n - 1) / (uint32_t)n;
		cfg.memcap = e->cfg.memcap ? (e->cfg.memcap + (uint64_t)n - 1) / (uint64_t)n : 0;
		cfg.records_memory = e->cfg.records_memory / (uint64_t)n;
		if (!engine_init(&w->e, &cfg, e->svc, err, errlen))
			goto fail;
		engine_set_shared(&w->e);
		q_init(&w->full);
		q_init(&w->empty);
		for (int k = 0; k < QUEUE_DEPTH; k++) {
			struct batch *b = malloc(sizeof *b);
			if (!b) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			b->n = b->used = 0;
			q_push(&w->empty, b);
		}
		if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
			snprintf(err, errlen, "cannot start worker thread %d", i);
			goto fail;
		}
		w->started = true;
	}
	return ws;
fail:
	ws->n = 0;
	for (int i = 0; i < WORKERS_MAX; i++)
		if (ws->w[i].started) {
			q_close(&ws->w[i].full);
			pthread_join(ws->w[i].th, NULL);
		}
	free(ws);
	return NULL;
}

/* Both directions of a connection give the same value. */
static uint32_t symmetric_hash(const struct packet *p)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ (uint8_t)(p->src.b[i] ^ p->dst.b[i])) * 16777619u;
	h ^= (uint32_t)(p->sport ^ p->dport) * 2654435761u;
	return h ^ (h >> 15);
}

/*
 * A view of the frame (ptr, *len bytes) as the same view of copy, which holds
 * the frame's first n bytes.  n is the whole frame unless the frame is larger
 * than a batch, which libpcap (at most 256 KiB a frame) never hands over; then
 * what lies beyond the copy is cut from the view.
 */
static const uint8_t *rebase(const uint8_t *ptr, uint32_t *len, const uint8_t *frame, const uint8_t *copy,
			     uint32_t n)
{
	if (!ptr)
		return NULL;
	size_t off = (size_t)(ptr - frame);
	if (off > n)
		off = n;
	if (*len > n - off)
		*len = (uint32_t)(n - off);
	return copy + off;
}

/* The sink: the packet, its pointers moved into a copy of its frame, into its worker's batch. */
static void sink_packet(void *ctx, const struct packet *p, const uint8_t *frame)
{
	struct workers *ws = ctx;
	struct worker *w = &ws->w[symmetric_hash(p) % (uint32_t)ws->n];
	if (p->ts_us > ws->last_ts)
		ws->last_ts = p->ts_us;
	uint32_t n = p->caplen > BATCH_BYTES ? BATCH_BYTES : p->caplen;
	if (w->cur && (w->cur->n == BATCH_FRAMES || w->cur->used + n > BATCH_BYTES)) {
		q_push(&w->full, w->cur);
		w->cur = NULL;
	}
	if (!w->cur)
		w->cur = q_pop(&w->empty, true);
	struct batch *b = w->cur;
	uint8_t *copy = b->data + b->used;
	memcpy(copy, frame, n);
	b->used += n;
	struct packet *q = &b->p[b->n++];
	*q = *p;
	q->l3 = rebase(p->l3, &q->l3_len, frame, copy, n);
	q->payload = rebase(p->payload, &q->payload_len, frame, copy, n);
	q->eth_src = NULL;                    /* names.c's only (read on this thread): not carried */
}

struct capture_sink workers_sink(struct workers *ws)
{
	return (struct capture_sink){ .packet = sink_packet, .ctx = ws };
}

void workers_finish(struct workers *ws)
{
	for (int i = 0; i < ws->n; i++) {
		struct worker *w = &ws->w[i];
		if (w->cur && w->cur->n)
			q_push(&w->full, w->cur);
		else if (w->cur)
			q_push(&w->empty, w->cur);
		w->cur = NULL;
		q_close(&w->full);
	}
	for (int i = 0; i < ws->n; i++)
		pthread_join(ws->w[i].th, NULL);
	for (int i = 0; i < ws->n; i++) {
		struct worker *w = &ws->w[i];
		engine_merge(ws->main, &w->e);
		struct batch *b;
		while ((b = q_pop(&w->empty, false)))
			free(b);
		q_destroy(&w->full);
		q_destroy(&w->empty);
		engine_free(&w->e);
	}
	free(ws);
}

/* ---- live: one socket per worker in a fanout group ---- */

struct live_worker {
	pthread_t th;
	struct engine e;
	struct capture_handle *h;
	struct capture_status st;
	bool engine_ok, started;
};

static void *live_main(void *arg)
{
	struct live_worker *w = arg;
	while (!capture_stop && capture_live_dispatch(w->h, &w->st) >= 0)
		;
	capture_live_stats(w->h, &w->st);
	engine_flush(&w->e);
	x509_cache_clear();
	return NULL;
}

bool workers_live(struct engine *e, int n, const struct capture_opts *o, struct capture_status *st)
{
	struct live_worker *ws = calloc((size_t)n, sizeof *ws);
	bool ok = ws != NULL;
	int group = (int)(getpid() & 0xffff);
	if (!ws)
		snprintf(st->error, sizeof st->error, "out of memory");
	engine_set_shared(e);
	for (int i = 0; ok && i < n; i++) {
		struct live_worker *w = &ws[i];
		struct engine_config cfg = e->cfg;
		cfg.max_flows = (e->cfg.max_flows + (uint32_t)n - 1) / (uint32_t)n;
		cfg.memcap = e->cfg.memcap ? (e->cfg.memcap + (uint64_t)n - 1) / (uint64_t)n : 0;
		cfg.records_memory = e->cfg.records_memory / (uint64_t)n;
		if (!(w->engine_ok = engine_init(&w->e, &cfg, e->svc, st->error, sizeof st->error))) {
			ok = false;
			break;
		}
		engine_set_shared(&w->e);
		if (!(w->h = capture_live_open(&w->e, capture_engine_sink(&w->e), o, &w->st))) {
			snprintf(st->error, sizeof st->error, "%s", w->st.error);
			ok = false;
		} else if (!capture_live_fanout(w->h, group, st->error, sizeof st->error)) {
			ok = false;
		}
	}
	for (int i = 0; ok && i < n; i++) {
		if (pthread_create(&ws[i].th, NULL, live_main, &ws[i]) != 0) {
			snprintf(st->error, sizeof st->error, "cannot start capture thread %d", i);
			capture_stop = 1;
			ok = false;
			break;
		}
		ws[i].started = true;
	}
	st->live = true;
	for (int i = 0; ws && i < n; i++) {
		struct live_worker *w = &ws[i];
		if (w->started)
			pthread_join(w->th, NULL);
		if (w->h) {
			st->ps_recv += w->st.ps_recv;
			st->ps_drop += w->st.ps_drop;
			st->ps_ifdrop += w->st.ps_ifdrop;
			for (int k = 0; k < w->st.n_linktypes && i == 0; k++)
				snprintf(st->linktypes[st->n_linktypes++], sizeof st->linktypes[0], "%s", w->st.linktypes[k]);
			for (int k = 0; k < w->st.n_warnings && st->n_warnings < CAPTURE_MAX_WARNINGS; k++)
				snprintf(st->warnings[st->n_warnings++], sizeof st->warnings[0], "%s", w->st.warnings[k]);
			if (w->st.exit_code == 1 && st->exit_code < 1)
				st->exit_code = 1;
			capture_live_close(w->h);
		}
		if (w->engine_ok) {
			if (w->started)
				engine_merge(e, &w->e);
			engine_free(&w->e);
		}
	}
	free(ws);
	if (!ok)
		st->exit_code = 2;
	return ok;
}
