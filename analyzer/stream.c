/*
 * stream.c - per-direction TCP reassembly into one buffer (see stream.h).
 *
 * Offsets are relative to `base` and computed with 32-bit wrapping
 * arithmetic, so sequence-number wrap-around needs no special case.  A
 * segment that starts before `len` has its already-delivered prefix
 * compared and ignored; bytes past the depth are dropped and the direction
 * is marked full, once.
 */
#include "stream.h"

#include <stdlib.h>
#include <string.h>

#define STREAM_MIN_CAP 2048

bool stream_mem_take(struct stream_mem *m, uint64_t n)
{
	if (!m)
		return true;
	if (m->cap && m->used + n > m->cap && m->reclaim)
		m->reclaim(m->owner, m->used + n - m->cap);
	if (m->cap && m->used + n > m->cap)
		return false;
	m->used += n;
	if (m->used > m->peak)
		m->peak = m->used;
	return true;
}

void stream_mem_give(struct stream_mem *m, uint64_t n)
{
	if (m)
		m->used = n > m->used ? 0 : m->used - n;
}

void stream_set_isn(struct stream_dir *s, uint32_t isn)
{
	if (s->len == 0 && s->n_ranges == 0) {
		s->base = isn + 1;
		s->started = true;
	}
}

/* Room for `need` bytes: doubling from 2 KiB, never past the depth. */
static bool reserve(struct stream_dir *s, uint32_t need, uint32_t depth, struct stream_mem *mem)
{
	if (need <= s->cap)
		return true;
	uint32_t cap = s->cap ? s->cap : STREAM_MIN_CAP;
	while (cap < need)
		cap = cap > UINT32_MAX / 2 ? need : cap * 2;
	if (cap > depth && depth >= need)
		cap = depth;
	if (!stream_mem_take(mem, cap - s->cap))
		return false;
	uint8_t *b = realloc(s->buf, cap);
	if (!b) {
		stream_mem_give(mem, cap - s->cap);
		return false;
	}
	s->buf = b;
	s->cap = cap;
	return true;
}

/* Held ranges that now touch the contiguous prefix join it. */
static void absorb_ranges(struct stream_dir *s)
{
	bool moved = true;
	while (moved) {
		moved = false;
		for (int i = 0; i < s->n_ranges; i++) {
			if (s->ranges[i].start <= s->len) {
				if (s->ranges[i].end > s->len)
					s->len = s->ranges[i].end;
				s->ranges[i] = s->ranges[--s->n_ranges];
				moved = true;
				break;
			}
		}
	}
}

/* Do the bytes [start, end) of data differ from out-of-order bytes held there? */
static bool differs_from_held(const struct stream_dir *s, uint32_t start, uint32_t end, const uint8_t *data,
			      uint32_t data_start)
{
	for (int i = 0; i < s->n_ranges; i++) {
		uint32_t lo = s->ranges[i].start > start ? s->ranges[i].start : start;
		uint32_t hi = s->ranges[i].end < end ? s->ranges[i].end : end;
		if (lo < hi && memcmp(s->buf + lo, data + (lo - data_start), hi - lo) != 0)
			return true;
	}
	return false;
}

/* Copy the parts of [start, end) not already held by a range (the first out-of-order copy wins). */
static void write_new_bytes(struct stream_dir *s, uint32_t start, uint32_t end, const uint8_t *data,
			    uint32_t data_start)
{
	uint32_t pos = start;
	while (pos < end) {
		uint32_t stop = end;
		bool covered = false;
		for (int i = 0; i < s->n_ranges; i++) {
			if (s->ranges[i].start <= pos && pos < s->ranges[i].end) {
				pos = s->ranges[i].end;
				covered = true;
				break;
			}
			if (s->ranges[i].start > pos && s->ranges[i].start < stop)
				stop = s->ranges[i].start;
		}
		if (covered)
			continue;
		memcpy(s->buf + pos, data + (pos - data_start), stop - pos);
		pos = stop;
	}
}

/* Can [start, end) be remembered (merged into a range, or a free slot)? */
static bool range_fits(const struct stream_dir *s, uint32_t start, uint32_t end)
{
	if (s->n_ranges < STREAM_MAX_RANGES)
		return true;
	for (int i = 0; i < s->n_ranges; i++)
		if (start <= s->ranges[i].end && end >= s->ranges[i].start)
			return true;
	return false;
}

static bool add_range(struct stream_dir *s, uint32_t start, uint32_t end)
{
	for (int i = 0; i < s->n_ranges; i++) {
		/* merge with an overlapping or touching range */
		if (start <= s->ranges[i].end && end >= s->ranges[i].start) {
			if (start < s->ranges[i].start)
				s->ranges[i].start = start;
			if (end > s->ranges[i].end)
				s->ranges[i].end = end;
			return true;
		}
	}
	if (s->n_ranges >= STREAM_MAX_RANGES)
		return false;
	s->ranges[s->n_ranges].start = start;
	s->ranges[s->n_ranges].end = end;
	s->n_ranges++;
	return true;
}

static void conflict(struct stream_dir *s, struct stream_counters *cnt)
{
	s->conflict = true;
	cnt->overlap_conflicts++;
}

static void mark_full(struct stream_dir *s, struct stream_counters *cnt)
{
	if (!s->full) {
		s->full = true;
		cnt->truncated++;
	}
}

bool stream_add(struct stream_dir *s, uint32_t seq, const uint8_t *data, uint32_t n, uint32_t wire,
		uint32_t depth, struct stream_counters *cnt, struct stream_mem *mem)
{
	if (wire == 0 || s->gap || s->memcap)
		return false;
	if (!s->started) {
		s->base = seq;
		s->started = true;
	}
	if (n < wire)
		cnt->snaplen_cut++;
	uint32_t rel = seq - s->base;
	if ((int32_t)rel < 0) {
		/* starts before the buffer: keep only what lies after base (unsigned: no overflow at 2^31) */
		uint32_t skip = s->base - seq;
		if (skip >= n) {
			cnt->retransmitted++;
			return false;
		}
		data += skip;
		n -= skip;
		wire -= skip;
		rel = 0;
	}
	if (rel > depth) {
		mark_full(s, cnt);
		return false;
	}
	uint32_t end = rel + n;
	if (end < rel || end > depth) {
		end = depth;
		mark_full(s, cnt);
	}
	/* bytes already delivered in order never change; a different copy is reported */
	if (rel < s->len) {
		uint32_t hi = end < s->len ? end : s->len;
		if (memcmp(s->buf + rel, data, hi - rel) != 0)
			conflict(s, cnt);
	}
	if (end <= s->len) {
		cnt->retransmitted++;
		return false;
	}
	uint32_t start = rel < s->len ? s->len : rel;
	if (start >= end)
		return false;
	if (!reserve(s, end, depth, mem)) {
		if (!s->memcap) {
			s->memcap = true;
			cnt->memcap_refused++;
		}
		return false;
	}
	uint32_t before = s->len;
	if (differs_from_held(s, start, end, data, rel))
		conflict(s, cnt);
	if (start == s->len) {
		/* in order: this copy is what the receiver delivers, held out-of-order bytes included */
		memcpy(s->buf + start, data + (start - rel), end - start);
		s->len = end;
		absorb_ranges(s);
	} else {
		if (!range_fits(s, start, end)) {
			cnt->ooo_dropped++;
			return false;
		}
		write_new_bytes(s, start, end, data, rel);
		add_range(s, start, end);
		cnt->out_of_order++;
	}
	/* Captured fewer bytes than the segment had: the rest never comes. */
	if (n < wire && s->len == end && !s->full) {
		s->gap = true;
		cnt->gaps++;
	}
	return s->len > before;
}

void stream_acked(struct stream_dir *s, uint32_t ack, struct stream_counters *cnt)
{
	if (!s->started || s->gap || s->full)
		return;
	uint32_t rel = ack - s->base;
	/* rel == len + 1 is the acknowledgement of a FIN */
	if ((int32_t)rel <= 0 || rel <= s->len + 1)
		return;
	/* The receiver has bytes up to rel; if we lack some below it, they were
	 * not captured.  Only a hole with held data or a snaplen cut counts: an
	 * ack beyond everything we saw with no data held is a lost segment. */
	s->gap = true;
	cnt->gaps++;
}

void stream_close(struct stream_dir *s, struct stream_counters *cnt)
{
	if (s->n_ranges && !s->gap) {
		s->gap = true;
		cnt->gaps++;
	}
}

void stream_free(struct stream_dir *s, struct stream_mem *mem)
{
	stream_mem_give(mem, s->cap);
	free(s->buf);
	memset(s, 0, sizeof *s);
}
