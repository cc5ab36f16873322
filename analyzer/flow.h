/*
 * flow.h - the flow table: one bidirectional entry per TCP connection.
 *
 * Entries live in a pool of fixed-size chunks (a pointer to a flow stays
 * valid until the flow is removed) and are found through an open-addressing
 * index keyed by SipHash of the canonical 4-tuple with a random key (no hash
 * flooding): O(1) lookup, no allocation per packet.  Two doubly linked lists
 * in order of last activity, one for open connections and one for closed
 * ones (FIN both ways or RST, kept a short while for their last ACKs), give
 * the timeout scans and the flow to evict when the table is at its cap.
 * This file knows nothing of TCP state or protocols; engine.c does.
 */
#ifndef TLSREADY_FLOW_H
#define TLSREADY_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "decode.h"

struct inspect;

#define FLOW_NONE UINT32_MAX
enum { FLOW_OPEN = 0, FLOW_CLOSED = 1 };
#define FLOW_CHUNK_SHIFT 12
#define FLOW_CHUNK (1u << FLOW_CHUNK_SHIFT)

struct flow {
	/* identity: the client is index 0 of the per-direction arrays */
	struct addr cli, srv;
	uint16_t cport, sport;
	uint32_t hash;
	uint32_t idx;              /* own index in the pool */
	uint32_t lru_prev, lru_next;
	uint64_t seq_no;           /* creation order */
	uint64_t first_index;      /* frame number of the first packet */
	int64_t first_us, last_us;
	uint64_t bytes[2];         /* wire bytes (IP length) per direction */
	uint64_t payload[2];       /* TCP payload bytes per direction */
	uint32_t pkts[2];
	uint32_t isn[2];
	uint32_t seq_lo[2], seq_hi[2];   /* sequence space each side used: first, one past the last */
	/* TCP state bits */
	uint8_t syn : 1, synack : 1, established : 1, midstream : 1;
	uint8_t fin_c : 1, fin_s : 1, rst : 1, rst_before_est : 1;
	uint8_t rst_by_server : 1, closing : 1, in_use : 1, is_server_known : 1;
	uint8_t light : 1;         /* not catalogued: only probed for IBM i content (engine.c) */
	uint8_t list : 1;          /* FLOW_OPEN or FLOW_CLOSED */
	uint8_t light_probes : 3;
	uint8_t seq_seen : 2;      /* bit per side: seq_lo/seq_hi are set */
	struct inspect *insp;      /* NULL once inspection is over */
	void *result;              /* the classification outcome (engine.c) */
};

struct flow_table {
	struct flow **chunks;
	uint32_t n_chunks;
	uint32_t pool_used;        /* high-water mark of indices handed out */
	uint32_t *free_list;
	uint32_t n_free;
	uint32_t *slots;           /* index + 1, 0 = empty */
	uint32_t n_slots;          /* power of two */
	uint32_t active;
	uint32_t max_flows;
	uint32_t lru_head[2], lru_tail[2];   /* per list: least and most recently active */
	uint64_t k0, k1;
	uint64_t next_seq_no;
};

bool flow_table_init(struct flow_table *t, uint32_t max_flows);
void flow_table_free(struct flow_table *t);
static inline struct flow *flow_at(const struct flow_table *t, uint32_t i)
{
	return &t->chunks[i >> FLOW_CHUNK_SHIFT][i & (FLOW_CHUNK - 1)];
}
/* The flow of this packet, or NULL; *from_client says which side sent it. */
struct flow *flow_lookup(struct flow_table *t, const struct packet *p, bool *from_client);
/* A new zeroed flow for this packet (the caller ensured room: active < max_flows).
 * src_is_client decides the orientation.  NULL only when memory ran out. */
struct flow *flow_create(struct flow_table *t, const struct packet *p, bool src_is_client);
void flow_remove(struct flow_table *t, struct flow *f);
/* Move to the most-recent end of the activity list. */
void flow_touch(struct flow_table *t, struct flow *f);
/* The least recently active flow of one list, or NULL. */
static inline struct flow *flow_oldest_in(const struct flow_table *t, int list)
{
	return t->lru_head[list] == FLOW_NONE ? NULL : flow_at(t, t->lru_head[list]);
}
/* The flow to evict first: the oldest closed one, else the oldest open one. */
struct flow *flow_oldest(const struct flow_table *t);
/* Move a flow to the closed list (it keeps its place by activity). */
void flow_set_closed(struct flow_table *t, struct flow *f);
/* Every flow: start with flow_iter(t, FLOW_NONE), continue with the previous index. */
uint32_t flow_iter(const struct flow_table *t, uint32_t prev);

#endif
