/*
 * attempts.h - the --max-attempts cap: attempt-only connections past the
 * first N are folded into a bounded aggregate instead of kept as records, so
 * a flood of spoofed SYNs costs a fixed amount of memory, not a record and a
 * client row per source.
 *
 * An attempt-only connection is a record that carried no payload in either
 * direction (payload[0] == payload[1] == 0) and whose start was captured
 * (!midstream): a SYN unanswered or refused, or a handshake nobody spoke on.
 *
 * In: finished records from the engine (attempts_take, where the engine
 * hands them over), and with --threads the workers' sets (attempts_merge).
 * Kept: the N attempt-only records first in the report's own order (first
 * packet time, then frame number), in a max-heap; every other one is folded
 * into a group per (server address, server port, TCP outcome): connection
 * count, first start, last end, a HyperLogLog of client addresses (hll.h).
 * The table keeps the groups of smallest key up to a byte cap; a group that
 * does not fit goes, whole, into `other` (counted: attempt_groups_full).
 * Every step is order-independent, so --threads 1, 2, 3 keep and fold the
 * same records and print the same groups.
 * Out: the kept records back to the engine's list (attempts_kept), the groups
 * to the writers (read-only, through struct analysis).
 */
#ifndef TLSREADY_ATTEMPTS_H
#define TLSREADY_ATTEMPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hll.h"
#include "record.h"

#define ATTEMPTS_DEFAULT 100000            /* --max-attempts */
#define ATTEMPT_GROUPS_BYTES (4u << 20)     /* the group table's cap */

struct attempt_group {
	struct addr srv;
	uint16_t port;
	uint8_t tcp;               /* enum tcp_outcome */
	uint64_t connections;
	int64_t first_us, last_us; /* first start, last end */
	struct hll sources;        /* client addresses */
};

struct attempts {
	uint64_t limit;            /* --max-attempts, as reported */
	uint64_t max_kept;         /* records this set may still keep: limit, or a monitor's day's rest */
	struct flow_record **kept; /* max-heap: the latest kept record on top */
	size_t n_kept, cap_kept;
	struct attempt_group **groups;   /* sorted by (srv, port, tcp) */
	size_t n_groups, max_groups;
	struct attempt_group other;      /* connections of groups that did not fit */
	uint64_t folded;           /* connections folded (in groups and in other) */
};

bool record_attempt_only(const struct flow_record *r);
/* max_kept > 0; group_bytes: the table's cap (ATTEMPT_GROUPS_BYTES). */
bool attempts_init(struct attempts *t, uint64_t max_kept, size_t group_bytes);
void attempts_free(struct attempts *t);
/* An attempt-only record is the set's (kept, or folded and freed): true; false for any other. */
bool attempts_take(struct attempts *t, struct flow_record *r);
/* Move everything `from` holds into `into` (from is left empty). */
void attempts_merge(struct attempts *into, struct attempts *from);
/* The kept records, handed over (unsorted): the set keeps none afterwards. */
struct flow_record **attempts_kept(struct attempts *t, size_t *n);
/* The groups emptied (they were stored): the set folds afresh; its kept records are untouched. */
void attempts_clear_groups(struct attempts *t);
/* A group read back from a store (its key, counts, sources; `other` when other): added to the set as
 * folding would have (a key past a full table's goes to other). */
void attempts_absorb(struct attempts *t, const struct attempt_group *g, bool other);

#endif
