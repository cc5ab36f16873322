/*
 * analysis_build.c - the one place that turns an engine into an analysis
 * (analysis.h): it points at the engine's sorted records (or its spool),
 * computes the port-mapper links once, reads the records back for the
 * writers, and copies the counters of the registry, the time span and the
 * capture status.  The engine must outlive the analysis.  Nothing here
 * changes a record held in memory; a spooled one, decoded into the spool's
 * buffer, gets its `internal` mark as it is read (as engine_finish marks the
 * others).
 */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "findings.h"
#include "portmapper.h"
#include "spool.h"

/* A port-mapper lookup leads to the next connection of that client to the answered port within this. */
#define LINK_WINDOW_US (120LL * 1000000)

/* ---- reading the records, in memory or spooled ---- */

bool analysis_iter_start(const struct analysis *a, struct record_iter *it)
{
	memset(it, 0, sizeof *it);
	it->a = a;
	return !a->spool || (it->rd = spool_read(a->spool)) != NULL;
}

const struct flow_record *analysis_iter_next(struct record_iter *it, size_t *index)
{
	const struct analysis *a = it->a;
	if (!a->spool) {
		if (it->next >= a->n_records)
			return NULL;
		*index = it->next;
		return a->records[it->next++];
	}
	struct spool_item x;
	if (!it->rd || !spool_next(it->rd, &x))
		return NULL;
	if (a->mark)
		a->mark(a->mark_ctx, x.r);
	*index = it->next++;
	return x.r;
}

void analysis_iter_end(struct record_iter *it)
{
	spool_reader_close(it->rd);
	it->rd = NULL;
}

const char *analysis_error(const struct analysis *a)
{
	return a->spool && a->spool->read_failed ? spool_error(a->spool) : NULL;
}

uint32_t analysis_findings(const struct analysis *a, const struct flow_record *r)
{
	return findings_for(r, a->last_us);
}

int64_t analysis_link(const struct analysis *a, size_t index, uint16_t *port)
{
	size_t lo = 0, hi = a->n_links;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->links[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == a->n_links || a->links[lo].index != index)
		return -1;
	if (port)
		*port = a->links[lo].port;
	return a->links[lo].link;
}

/* ---- port-mapper links, in one pass ----
 *
 * A lookup (an answered port-mapper request) waits up to LINK_WINDOW_US for its client's next
 * connection to that server and the port answered; the first connection no earlier lookup took is its
 * own.  The lookups still waiting are offered each record in order, oldest first, so a record goes to
 * the oldest lookup that matches; a lookup that saw a record past its window waits no longer.  Only
 * waiting lookups and the links made are held, never the records. */

struct waiting {
	uint64_t index;
	int64_t start_us;
	struct addr cli, srv;
	uint32_t port;             /* the port answered */
	uint16_t sport;            /* the lookup's own server port */
};

static bool link_add(struct analysis_link **v, size_t *n, size_t *cap, struct analysis_link l)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct analysis_link *nv = realloc(*v, c * sizeof *nv);
		if (!nv)
			return false;
		*v = nv;
		*cap = c;
	}
	l.order = (uint32_t)*n;
	(*v)[(*n)++] = l;
	return true;
}

static int link_cmp(const void *x, const void *y)
{
	const struct analysis_link *a = x, *b = y;
	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

static bool link_mapper(struct analysis *a)
{
	struct record_iter it;
	struct waiting *w = NULL;
	struct analysis_link *l = NULL;
	size_t nw = 0, capw = 0, nl = 0, capl = 0, j;
	bool ok = analysis_iter_start(a, &it);
	const struct flow_record *r;
	while (ok && (r = analysis_iter_next(&it, &j))) {
		bool taken = false;
		size_t keep = 0;
		for (size_t k = 0; k < nw && ok; k++) {
			const struct waiting *m = &w[k];
			if (r->start_us - m->start_us > LINK_WINDOW_US)
				continue;      /* past its window: it waits no longer */
			if (!taken && r->sport == m->port && addr_eq(&r->cli, &m->cli) && addr_eq(&r->srv, &m->srv)) {
				ok = link_add(&l, &nl, &capl, (struct analysis_link){ .index = m->index, .link = (int64_t)j,
										       .port = r->sport }) &&
				     link_add(&l, &nl, &capl, (struct analysis_link){ .index = j, .link = (int64_t)m->index,
										       .port = m->sport });
				taken = true;
				continue;
			}
			w[keep++] = *m;
		}
		nw = keep;
		if (ok && rec_pm(r) && rec_pm(r)->reply_ok) {
			if (nw == capw) {
				size_t c = capw ? capw * 2 : 16;
				struct waiting *nv = realloc(w, c * sizeof *nv);
				ok = nv != NULL;
				if (ok) {
					w = nv;
					capw = c;
				}
			}
			if (ok)
				w[nw++] = (struct waiting){ .index = j, .start_us = r->start_us, .cli = r->cli, .srv = r->srv,
							    .port = rec_pm(r)->port, .sport = r->sport };
		}
	}
	analysis_iter_end(&it);
	free(w);
	ok = ok && !analysis_error(a);
	/* sorted by index; of two links of one record (taken by a lookup, then a lookup itself) the later stands */
	if (nl > 1)
		qsort(l, nl, sizeof *l, link_cmp);
	size_t out = 0;
	for (size_t i = 0; i < nl; i++) {
		if (out && l[out - 1].index == l[i].index)
			out--;
		l[out++] = l[i];
	}
	a->own_links = l;
	a->links = l;
	a->n_links = out;
	return ok;
}

static const struct capture_status no_status;

/* An analysis of records alone (in memory, or a spool when recs is NULL): links, no counters. */
static bool of_records(struct analysis *a, struct flow_record *const *recs, struct spool *s, size_t n,
		       int64_t end_us)
{
	memset(a, 0, sizeof *a);
	a->records = recs;
	a->spool = s;
	a->n_records = n;
	a->last_us = end_us;
	a->st = &no_status;
	if (!link_mapper(a)) {
		analysis_free(a);
		return false;
	}
	return true;
}

bool analysis_of_records(struct analysis *a, struct flow_record *const *recs, size_t n, int64_t end_us)
{
	return of_records(a, recs, NULL, n, end_us);
}

bool analysis_of_spool(struct analysis *a, struct spool *s, int64_t end_us)
{
	return of_records(a, NULL, s, s->count, end_us);
}

static void mark_internal(const void *ctx, struct flow_record *r)
{
	engine_mark_internal(ctx, r);
}

bool analysis_build(struct analysis *a, const struct engine *e, const struct capture_status *st)
{
	memset(a, 0, sizeof *a);
	a->records = e->records;
	a->n_records = e->n_records;
	a->last_us = e->last_us;
	if (e->spool) {
		a->records = NULL;
		a->spool = e->spool;
		a->n_records = e->spool->count;
		a->mark = mark_internal;
		a->mark_ctx = e;
	}
	if (!link_mapper(a)) {
		analysis_free(a);
		return false;
	}
	a->any_packet = e->any_packet;
	a->first_us = e->first_us;
	names_prepare(e->names);                 /* before the counters: it counts the DHCP links it made */
	struct engine_counters cnt = e->cnt;
	names_link_counts(e->names, &cnt.names);
	a->n_counters = counters_list(&cnt, e->svc->learned_dropped, a->counters);
	a->packets = e->cnt.packets;
	a->bytes = e->cnt.bytes;
	a->tcp_packets = e->cnt.tcp;
	a->st = st ? st : &no_status;
	a->names = e->names;
	a->folded = e->att;
	return true;
}

void analysis_free(struct analysis *a)
{
	free(a->own_links);
	memset(a, 0, sizeof *a);
}

uint64_t analysis_counter(const struct analysis *a, const char *name)
{
	for (size_t i = 0; i < a->n_counters; i++)
		if (strcmp(a->counters[i].name, name) == 0)
			return a->counters[i].value;
	return 0;
}
