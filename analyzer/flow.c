/*
 * flow.c - the flow table (see flow.h).
 *
 * Index: linear probing over a power-of-two slot array kept at most half
 * full, with backward-shift deletion (no tombstones, so a churn of short
 * flows never degrades lookups).  Pools, one per kind of entry: chunks of
 * 4096 entries allocated as the table grows, never moved; freed indices
 * are reused.  Links and slots hold indices, the FLOW_SYN bit naming the pool.
 */
#include "flow.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "siphash.h"

bool flow_table_init(struct flow_table *t, uint32_t max_flows)
{
	memset(t, 0, sizeof *t);
	t->max_flows = max_flows ? max_flows : 1;
	t->full.size = sizeof(struct flow);
	t->syn.size = sizeof(struct flow_syn);
	t->lru_head[0] = t->lru_tail[0] = t->lru_head[1] = t->lru_tail[1] = FLOW_NONE;
	t->n_slots = 1024;
	t->slots = calloc(t->n_slots, sizeof *t->slots);
	uint64_t key[2];
	if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key) {
		key[0] = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL;
		key[1] = (uint64_t)(uintptr_t)t ^ 0xC2B2AE3D27D4EB4FULL;
	}
	t->k0 = key[0];
	t->k1 = key[1];
	return t->slots != NULL;
}

static void pool_free(struct flow_pool *pl)
{
	for (uint32_t i = 0; i < pl->n_chunks; i++)
		free(pl->chunks[i]);
	free(pl->chunks);
	free(pl->free_list);
}

void flow_table_release(struct flow_table *t)
{
	uint64_t k0 = t->k0, k1 = t->k1;
	flow_table_free(t);
	t->k0 = k0;
	t->k1 = k1;
	t->lru_head[0] = t->lru_tail[0] = t->lru_head[1] = t->lru_tail[1] = FLOW_NONE;   /* empty: nothing to walk */
}

void flow_table_free(struct flow_table *t)
{
	pool_free(&t->full);
	pool_free(&t->syn);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

/* Is a an IPv4-mapped address (::ffff:a.b.c.d)?  Two loads, no call. */
static inline bool mapped_v4(const struct addr *a)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	uint64_t x, px;
	uint32_t y, py;
	memcpy(&x, a->b, 8);
	memcpy(&y, a->b + 8, 4);
	memcpy(&px, pfx, 8);
	memcpy(&py, pfx + 8, 4);
	return x == px && y == py;
}

/*
 * Hash of the unordered pair of endpoints: both directions hash alike.
 * Still SipHash-1-3 under the table's random key over an injective
 * encoding of the pair, so a capture cannot aim its flows at one bucket
 * (hash flooding); only the encoding is shorter for IPv4: the two 4-byte
 * addresses and two ports (12 bytes, one SipHash block and a tail) instead
 * of two 16-byte mapped addresses (36 bytes, four blocks).  The lengths
 * differ, and SipHash mixes the length in, so the IPv4 and IPv6 encodings
 * cannot be made to collide structurally.
 */
static uint32_t tuple_hash(const struct flow_table *t, const struct addr *a, uint16_t pa,
			   const struct addr *b, uint16_t pb)
{
	if (mapped_v4(a) && mapped_v4(b)) {
		uint32_t va, vb;
		memcpy(&va, a->b + 12, 4);
		memcpy(&vb, b->b + 12, 4);
		uint8_t k[12];
		bool a_first = va < vb || (va == vb && pa <= pb);
		memcpy(k, a_first ? &va : &vb, 4);
		memcpy(k + 4, a_first ? &vb : &va, 4);
		uint16_t plo = a_first ? pa : pb, phi = a_first ? pb : pa;
		memcpy(k + 8, &plo, 2);
		memcpy(k + 10, &phi, 2);
		return (uint32_t)siphash13(k, sizeof k, t->k0, t->k1);
	}
	struct { uint8_t lo[16]; uint8_t hi[16]; uint16_t plo, phi; } k;
	/* any fixed order of the two ends will do: two native 64-bit compares
	 * instead of a memcmp call */
	uint64_t a0, a1, b0, b1;
	memcpy(&a0, a->b, 8); memcpy(&a1, a->b + 8, 8);
	memcpy(&b0, b->b, 8); memcpy(&b1, b->b + 8, 8);
	int c = a0 != b0 ? (a0 < b0 ? -1 : 1) : a1 != b1 ? (a1 < b1 ? -1 : 1) : 0;
	if (c < 0 || (c == 0 && pa <= pb)) {
		memcpy(k.lo, a->b, 16); memcpy(k.hi, b->b, 16); k.plo = pa; k.phi = pb;
	} else {
		memcpy(k.lo, b->b, 16); memcpy(k.hi, a->b, 16); k.plo = pb; k.phi = pa;
	}
	return (uint32_t)siphash13(&k, sizeof k, t->k0, t->k1);
}

static bool flow_matches(const struct flow_head *f, const struct packet *p, bool *from_client)
{
	if (f->cport == p->sport && f->sport == p->dport && addr_eq(&f->cli, &p->src) &&
	    addr_eq(&f->srv, &p->dst)) {
		*from_client = true;
		return true;
	}
	if (f->cport == p->dport && f->sport == p->sport && addr_eq(&f->cli, &p->dst) &&
	    addr_eq(&f->srv, &p->src)) {
		*from_client = false;
		return true;
	}
	return false;
}

struct flow_head *flow_lookup(struct flow_table *t, const struct packet *p, bool *from_client)
{
	uint32_t h = tuple_hash(t, &p->src, p->sport, &p->dst, p->dport);
	uint32_t mask = t->n_slots - 1;
	for (uint32_t i = h & mask, n = 0; n < t->n_slots; i = (i + 1) & mask, n++) {
		uint32_t s = t->slots[i];
		if (!s)
			return NULL;
		struct flow_head *f = flow_head_at(t, s - 1);
		if (f->hash == h && flow_matches(f, p, from_client))
			return f;
	}
	return NULL;
}

static void slot_insert(uint32_t *slots, uint32_t n_slots, uint32_t hash, uint32_t idx)
{
	uint32_t mask = n_slots - 1;
	uint32_t i = hash & mask;
	while (slots[i])
		i = (i + 1) & mask;
	slots[i] = idx + 1;
}

static bool grow_slots(struct flow_table *t)
{
	uint32_t n = t->n_slots * 2;
	uint32_t *s = calloc(n, sizeof *s);
	if (!s)
		return false;
	for (uint32_t i = 0; i < t->n_slots; i++)
		if (t->slots[i])
			slot_insert(s, n, flow_head_at(t, t->slots[i] - 1)->hash, t->slots[i] - 1);
	free(t->slots);
	t->slots = s;
	t->n_slots = n;
	return true;
}

static bool alloc_index(struct flow_pool *pl, uint32_t *idx)
{
	if (pl->n_free) {
		*idx = pl->free_list[--pl->n_free];
		return true;
	}
	if (pl->used == pl->n_chunks * FLOW_CHUNK) {
		void **c = realloc(pl->chunks, (pl->n_chunks + 1) * sizeof *c);
		if (!c)
			return false;
		pl->chunks = c;
		pl->chunks[pl->n_chunks] = calloc(FLOW_CHUNK, pl->size);
		if (!pl->chunks[pl->n_chunks])
			return false;
		uint32_t *fl = realloc(pl->free_list, (size_t)(pl->n_chunks + 1) * FLOW_CHUNK * sizeof *fl);
		if (!fl)
			return false;
		pl->free_list = fl;
		pl->n_chunks++;
	}
	*idx = pl->used++;
	return true;
}

static void lru_append(struct flow_table *t, struct flow_head *f)
{
	int l = f->list;
	f->lru_prev = t->lru_tail[l];
	f->lru_next = FLOW_NONE;
	if (t->lru_tail[l] != FLOW_NONE)
		flow_head_at(t, t->lru_tail[l])->lru_next = f->idx;
	else
		t->lru_head[l] = f->idx;
	t->lru_tail[l] = f->idx;
}

/* The identity of a new entry from its first packet, and its place in the index and list. */
static void head_start(struct flow_table *t, struct flow_head *f, const struct packet *p, bool src_is_client)
{
	if (src_is_client) {
		f->cli = p->src; f->cport = p->sport; f->srv = p->dst; f->sport = p->dport;
	} else {
		f->cli = p->dst; f->cport = p->dport; f->srv = p->src; f->sport = p->sport;
	}
	f->hash = tuple_hash(t, &p->src, p->sport, &p->dst, p->dport);
	f->last_us = p->ts_us;
	slot_insert(t->slots, t->n_slots, f->hash, f->idx);
	f->list = FLOW_OPEN;
	lru_append(t, f);
	t->active++;
}

struct flow *flow_create(struct flow_table *t, const struct packet *p, bool src_is_client)
{
	if ((t->active + 1) * 2 > t->n_slots && !grow_slots(t))
		return NULL;
	uint32_t idx;
	if (!alloc_index(&t->full, &idx))
		return NULL;
	struct flow *f = flow_at(t, idx);
	memset(f, 0, sizeof *f);
	f->idx = idx;
	f->in_use = 1;
	head_start(t, &f->head, p, src_is_client);
	f->first_us = p->ts_us;
	t->full.active++;
	return f;
}

struct flow_syn *flow_syn_create(struct flow_table *t, const struct packet *p)
{
	if ((t->active + 1) * 2 > t->n_slots && !grow_slots(t))
		return NULL;
	uint32_t idx;
	if (!alloc_index(&t->syn, &idx))
		return NULL;
	struct flow_syn *s = flow_syn_at(t, idx | FLOW_SYN);
	memset(s, 0, sizeof *s);
	s->idx = idx | FLOW_SYN;
	head_start(t, &s->head, p, true);
	s->first_us = p->ts_us;
	t->syn.active++;
	return s;
}

struct flow *flow_promote(struct flow_table *t, struct flow_syn *s)
{
	uint32_t idx;
	if (!alloc_index(&t->full, &idx))
		return NULL;
	struct flow *f = flow_at(t, idx);
	memset(f, 0, sizeof *f);
	f->head = s->head;
	f->idx = idx;
	f->in_use = 1;
	/* the same hash: the slot that held the embryonic entry now holds the flow */
	uint32_t mask = t->n_slots - 1;
	uint32_t i = f->hash & mask;
	while (t->slots[i] != s->idx + 1)
		i = (i + 1) & mask;
	t->slots[i] = idx + 1;
	/* and its place in the activity list */
	if (f->lru_prev != FLOW_NONE)
		flow_head_at(t, f->lru_prev)->lru_next = idx;
	else
		t->lru_head[f->list] = idx;
	if (f->lru_next != FLOW_NONE)
		flow_head_at(t, f->lru_next)->lru_prev = idx;
	else
		t->lru_tail[f->list] = idx;
	t->syn.free_list[t->syn.n_free++] = s->idx & ~FLOW_SYN;
	t->syn.active--;
	t->full.active++;
	return f;
}

static void lru_unlink(struct flow_table *t, struct flow_head *f)
{
	int l = f->list;
	if (f->lru_prev != FLOW_NONE)
		flow_head_at(t, f->lru_prev)->lru_next = f->lru_next;
	else
		t->lru_head[l] = f->lru_next;
	if (f->lru_next != FLOW_NONE)
		flow_head_at(t, f->lru_next)->lru_prev = f->lru_prev;
	else
		t->lru_tail[l] = f->lru_prev;
	f->lru_prev = f->lru_next = FLOW_NONE;
}

void flow_touch(struct flow_table *t, struct flow_head *f)
{
	if (t->lru_tail[f->list] == f->idx)
		return;
	lru_unlink(t, f);
	lru_append(t, f);
}

void flow_set_closed(struct flow_table *t, struct flow *f)
{
	if (f->list == FLOW_CLOSED)
		return;
	lru_unlink(t, &f->head);
	f->list = FLOW_CLOSED;
	lru_append(t, &f->head);
}

struct flow_head *flow_oldest(const struct flow_table *t)
{
	struct flow_head *f = flow_oldest_in(t, FLOW_CLOSED);
	return f ? f : flow_oldest_in(t, FLOW_OPEN);
}

uint32_t flow_iter(const struct flow_table *t, uint32_t prev)
{
	if (prev == FLOW_NONE)
		return t->lru_head[0] != FLOW_NONE ? t->lru_head[0] : t->lru_head[1];
	const struct flow_head *f = flow_head_at(t, prev);
	if (f->lru_next != FLOW_NONE)
		return f->lru_next;
	return f->list == FLOW_OPEN ? t->lru_head[1] : FLOW_NONE;
}

void flow_remove(struct flow_table *t, struct flow_head *f)
{
	uint32_t mask = t->n_slots - 1;
	uint32_t i = f->hash & mask;
	while (t->slots[i] && t->slots[i] != f->idx + 1)
		i = (i + 1) & mask;
	if (t->slots[i]) {
		/* backward-shift deletion */
		uint32_t j = i;
		for (;;) {
			t->slots[i] = 0;
			for (;;) {
				j = (j + 1) & mask;
				if (!t->slots[j])
					goto done;
				uint32_t home = flow_head_at(t, t->slots[j] - 1)->hash & mask;
				/* move j back to i unless its home lies cyclically in (i, j] */
				bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
				if (!stays)
					break;
			}
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
done:
	lru_unlink(t, f);
	struct flow_pool *pl = f->idx & FLOW_SYN ? &t->syn : &t->full;
	if (!(f->idx & FLOW_SYN))
		((struct flow *)f)->in_use = 0;
	pl->free_list[pl->n_free++] = f->idx & ~FLOW_SYN;
	pl->active--;
	t->active--;
}
