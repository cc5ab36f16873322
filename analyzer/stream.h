/*
 * stream.h - one direction of a TCP connection as in-order bytes.
 *
 * Segments enter with their sequence number; bytes leave as one growing
 * buffer holding the direction from its first byte, up to an inspection
 * depth.  Out-of-order segments are written straight to their place in that
 * buffer and remembered as ranges (a bounded number); the contiguous prefix
 * grows when a hole fills.  Overlaps are resolved as a receiving TCP stack
 * resolves them: bytes already delivered in order never change; a segment
 * arriving in order replaces out-of-order bytes held for the same place
 * (Linux and BSD trim their out-of-order queue against it); between two
 * out-of-order copies the first is kept.  Wherever two copies of a byte
 * differ the direction is flagged (`conflict`, an evasion attempt or a
 * broken sender) and counted.  A hole that the peer acknowledges (the
 * receiver got the bytes, the capture did not) becomes a gap: the direction
 * stops there, and the gap is counted.
 *
 * Memory: the buffer grows by doubling from 2 KiB (never past the depth)
 * and is freed when inspection ends.  Every byte allocated is charged to a
 * shared budget (struct stream_mem, the engine's --memcap); when a growth
 * would exceed it, the budget's owner is asked to release other flows' held
 * data first, and if that is not enough the direction stops (`memcap`).
 */
#ifndef TLSREADY_STREAM_H
#define TLSREADY_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#define STREAM_MAX_RANGES 16

struct stream_counters {
	uint64_t retransmitted;    /* segments (or parts) already held: ignored */
	uint64_t out_of_order;     /* segments held until a hole filled */
	uint64_t ooo_dropped;      /* out-of-order segments beyond the range bound */
	uint64_t gaps;             /* holes never filled in the capture */
	uint64_t truncated;        /* directions that reached the inspection depth */
	uint64_t snaplen_cut;      /* segments whose payload the snaplen cut */
	uint64_t overlap_conflicts;/* segments whose bytes differ from another copy of the same bytes */
	uint64_t memcap_refused;   /* directions stopped because the memory budget was spent */
};

/* The byte budget every stream buffer of one engine draws from. */
struct stream_mem {
	uint64_t used, cap;        /* bytes; cap 0 = no limit */
	uint64_t peak;
	/* Asked to free at least `need` bytes held by others; NULL = nobody can. */
	void (*reclaim)(void *owner, uint64_t need);
	void *owner;
};
/* Charge n bytes: true when they fit (after asking the owner to reclaim). */
bool stream_mem_take(struct stream_mem *m, uint64_t n);
void stream_mem_give(struct stream_mem *m, uint64_t n);

struct stream_dir {
	uint8_t *buf;
	uint32_t cap;              /* allocated */
	uint32_t len;              /* contiguous bytes from the start */
	uint32_t base;             /* sequence number of buf[0] */
	uint8_t n_ranges;
	bool started;              /* base is known */
	bool gap;                  /* stopped at a hole */
	bool full;                 /* reached the depth */
	bool memcap;               /* stopped: the memory budget was spent */
	bool conflict;             /* two copies of some byte differed */
	struct { uint32_t start, end; } ranges[STREAM_MAX_RANGES];  /* held beyond len, relative */
};

/* The SYN (or SYN-ACK) told us the initial sequence number. */
void stream_set_isn(struct stream_dir *s, uint32_t isn);
/*
 * Add a segment.  Returns true when the contiguous prefix grew.  `wire` is
 * the segment's length on the wire; when fewer bytes were captured
 * (snaplen), the rest is a hole.  Allocation failure is treated as depth.
 */
bool stream_add(struct stream_dir *s, uint32_t seq, const uint8_t *data, uint32_t n, uint32_t wire,
		uint32_t depth, struct stream_counters *cnt, struct stream_mem *mem);
/* The peer acknowledged up to `ack`: a hole below it will never fill. */
void stream_acked(struct stream_dir *s, uint32_t ack, struct stream_counters *cnt);
/* The flow is over: a hole left now is a gap. */
void stream_close(struct stream_dir *s, struct stream_counters *cnt);
/* Free the buffer and give its bytes back to the budget (mem may be NULL). */
void stream_free(struct stream_dir *s, struct stream_mem *mem);

#endif
