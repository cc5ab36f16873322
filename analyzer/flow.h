/*
 * flow.h - the flow table: one bidirectional entry per TCP connection.
 *
 * Two kinds of entry share one index, one cap (--max-flows) and one pair of
 * activity lists: a full flow (struct flow: counters, TCP state, its record
 * and inspection) and an embryonic one (struct flow_syn, 96 bytes): a
 * connection that is so far only a SYN and its exact retransmissions, as a
 * SYN cache keeps a half-open connection (FreeBSD's syncache).  engine.c
 * creates the embryonic entry on a bare SYN and promotes it to a full flow
 * in place (same slot, same place in the activity list) on the first other
 * packet; a SYN flood then costs 96 bytes a connection, not a flow, a
 * record and an inspection.  Both kinds start with struct flow_head (the
 * identity and the links); the FLOW_SYN bit of an index says which kind.
 *
 * Entries live in pools of fixed-size chunks (a pointer to an entry stays
 * valid until it is removed) and are found through an open-addressing
 * index keyed by SipHash of the canonical 4-tuple with a random key (no hash
 * flooding): O(1) lookup, no allocation per packet.  Two doubly linked lists
 * in order of last activity, one for open connections and one for closed
 * ones (FIN both ways or RST, kept a short while for their last ACKs), give
 * the timeout scans and the entry to evict when the table is at its cap.
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

/* What both kinds of entry start with: identity, index, activity links. */
#define FLOW_HEAD_FIELDS                                                      \
	struct addr cli, srv;      /* the client is index 0 of the per-direction arrays */ \
	int64_t last_us;           /* last packet, capture time */            \
	uint32_t hash;                                                       \
	uint32_t idx;              /* own index (FLOW_SYN set: embryonic) */  \
	uint32_t lru_prev, lru_next;                                         \
	uint16_t cport, sport;                                               \
	uint8_t list;              /* FLOW_OPEN or FLOW_CLOSED */             \
	/* an embryonic entry's, in what would be padding (unused in a full flow): */ \
	uint8_t syn_flags;         /* the SYN's TCP flags (ECE, CWR ... as sent) */ \
	uint8_t syn_cls;           /* the catalogue's answer at the SYN (enum port_class) */ \
	uint8_t syn_full : 1, syn_learned : 1, syn_v6 : 1;

struct flow_head {
	FLOW_HEAD_FIELDS
};

#define FLOW_SYN 0x80000000u       /* index bit of an embryonic entry */

static inline bool flow_is_syn(const struct flow_head *h)
{
	return h->idx & FLOW_SYN;
}

struct flow {
	union {
		struct flow_head head;
		struct { FLOW_HEAD_FIELDS };
	};
	uint64_t first_index;      /* frame number of the first packet */
	int64_t first_us;
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
	uint8_t light_probes : 3;
	uint8_t seq_seen : 2;      /* bit per side: seq_lo/seq_hi are set */
	struct inspect *insp;      /* NULL once inspection is over */
	void *result;              /* the classification outcome (engine.c) */
};

/*
 * An embryonic connection: a client's SYN, and resends of it (same flags,
 * sequence number and length), nothing else.  What the full flow and the
 * record need is here: the first packet's frame number and time, the
 * resends' count and time, the catalogue's answer at the SYN, and what the
 * SYN showed nDPI (engine.c replays it from these fields).
 */
struct flow_syn {
	union {
		struct flow_head head;
		struct { FLOW_HEAD_FIELDS };
	};
	uint64_t first_index;
	int64_t first_us;
	const char *service;
	uint32_t isn;
	uint16_t pkts;             /* SYNs: the first and its resends */
	uint16_t wirelen;          /* each one's IP length */
};

/* One kind's entries: chunks of FLOW_CHUNK, never moved; freed indices reused. */
struct flow_pool {
	void **chunks;
	uint32_t n_chunks;
	uint32_t used;             /* high-water mark of indices handed out */
	uint32_t *free_list;
	uint32_t n_free;
	uint32_t active;
	size_t size;               /* bytes of one entry */
};

struct flow_table {
	struct flow_pool full, syn;
	uint32_t *slots;           /* index + 1, 0 = empty */
	uint32_t n_slots;          /* power of two */
	uint32_t active;           /* entries of both kinds */
	uint32_t max_flows;
	uint32_t lru_head[2], lru_tail[2];   /* per list: least and most recently active */
	uint64_t k0, k1;
};

bool flow_table_init(struct flow_table *t, uint32_t max_flows);
void flow_table_free(struct flow_table *t);
/* An emptied table gives its memory back (its hash keys stay: they key other sets); no use after. */
void flow_table_release(struct flow_table *t);
static inline struct flow *flow_at(const struct flow_table *t, uint32_t i)
{
	return (struct flow *)t->full.chunks[i >> FLOW_CHUNK_SHIFT] + (i & (FLOW_CHUNK - 1));
}
static inline struct flow_syn *flow_syn_at(const struct flow_table *t, uint32_t i)
{
	i &= ~FLOW_SYN;
	return (struct flow_syn *)t->syn.chunks[i >> FLOW_CHUNK_SHIFT] + (i & (FLOW_CHUNK - 1));
}
/* The entry of either kind at index i. */
static inline struct flow_head *flow_head_at(const struct flow_table *t, uint32_t i)
{
	return i & FLOW_SYN ? &flow_syn_at(t, i)->head : &flow_at(t, i)->head;
}
/* The entry of this packet, or NULL; *from_client says which side sent it. */
struct flow_head *flow_lookup(struct flow_table *t, const struct packet *p, bool *from_client);
/* A new zeroed flow for this packet (the caller ensured room: active < max_flows).
 * src_is_client decides the orientation.  NULL only when memory ran out. */
struct flow *flow_create(struct flow_table *t, const struct packet *p, bool src_is_client);
/* A new zeroed embryonic entry for this packet, its source the client (same rules). */
struct flow_syn *flow_syn_create(struct flow_table *t, const struct packet *p);
/* A zeroed full flow in the embryonic entry's place (its identity, slot and place in
 * the activity list); the embryonic entry is gone.  NULL only when memory ran out
 * (the embryonic entry then stays). */
struct flow *flow_promote(struct flow_table *t, struct flow_syn *s);
void flow_remove(struct flow_table *t, struct flow_head *h);
/* Move to the most-recent end of the activity list. */
void flow_touch(struct flow_table *t, struct flow_head *h);
/* The least recently active entry of one list, or NULL. */
static inline struct flow_head *flow_oldest_in(const struct flow_table *t, int list)
{
	return t->lru_head[list] == FLOW_NONE ? NULL : flow_head_at(t, t->lru_head[list]);
}
/* The entry to evict first: the oldest closed one, else the oldest open one. */
struct flow_head *flow_oldest(const struct flow_table *t);
/* Move a flow to the closed list (it keeps its place by activity). */
void flow_set_closed(struct flow_table *t, struct flow *f);
/* Every entry: start with flow_iter(t, FLOW_NONE), continue with the previous index. */
uint32_t flow_iter(const struct flow_table *t, uint32_t prev);

#endif
