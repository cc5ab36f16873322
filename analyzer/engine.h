/*
 * engine.h - packets in, flow records out.
 *
 * The engine owns the flow table, the per-flow inspection state (stream
 * buffers, nDPI flow), the catalogue with what the port mapper taught it,
 * the set of IBM i addresses, and every counter.  Decoded packets come in
 * with engine_packet(), from capture.c's default sink or, with --threads,
 * from a worker thread (workers.c); engine_finish() ends every open flow;
 * the finished records (sorted by first packet) go to the inventory and the
 * reporters.
 *
 * Memory: the flow table is capped in flows (--max-flows); what flows hold
 * while inspected (stream buffers, nDPI state) is capped in bytes
 * (--memcap).  When a flow needs more and the budget is spent, the flows
 * fed least recently lose their held data first (their inspection ends with
 * the facts found so far); every such drop is counted.
 */
#ifndef TLSREADY_ENGINE_H
#define TLSREADY_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "attempts.h"
#include "decode.h"
#include "dpi.h"
#include "flow.h"
#include "names.h"
#include "recent.h"
#include "record.h"
#include "services.h"
#include "stream.h"

#define ENGINE_MAX_PREFIXES 64
#define SERVER_SET_MAX 65536

struct engine_config {
	uint32_t max_flows;
	int64_t idle_timeout_us;
	uint32_t depth;            /* inspection depth per direction, bytes */
	uint64_t memcap;           /* bytes of inspection state (stream buffers, nDPI flows) held at once */
	bool no_dpi;
	uint64_t max_attempts;     /* attempt-only records kept (attempts.h); 0: every one */
	bool spool_records;        /* a one-shot run: records past records_memory bytes go to a spool (spool.h) */
	uint64_t records_memory;
	struct { struct addr net; int len; } servers[ENGINE_MAX_PREFIXES];
	int n_servers;
};

struct engine_counters {
	uint64_t packets;          /* frames read */
	uint64_t bytes;            /* captured bytes read */
	uint64_t wire_bytes;
	uint64_t filtered;         /* frames the prefilter / user filter did not match */
	uint64_t tcp;              /* decoded TCP segments */
	uint64_t not_decoded[DEC_NREASONS];
	uint64_t ip_fragments;     /* first fragments (decoded) */
	uint64_t flows;            /* connections seen */
	uint64_t flows_reported;
	uint64_t flows_other;      /* not IBM i: not catalogued, no server address, no IBM i bytes */
	uint64_t flows_evicted;    /* ended early by the --max-flows cap */
	uint64_t flows_idle;       /* ended by the idle timeout */
	uint64_t flows_reused;     /* ended by a new SYN on the same tuple */
	uint64_t flows_open;       /* still open at end of input */
	uint64_t flows_midstream;
	uint64_t alloc_failures;   /* flows not tracked for lack of memory */
	uint64_t server_set_full;
	uint64_t dpi_flows;
	uint64_t memcap_inspections_ended;  /* flows whose held data was dropped to stay under --memcap */
	uint64_t memcap_bytes_released;     /* bytes those flows held */
	uint64_t memcap_not_inspected;      /* new flows with no room even after dropping older data */
	uint64_t overlap_conflict_flows;    /* flows with two different copies of some bytes */
	uint64_t encap[ENCAP_N];   /* TCP segments that came through each kind of layer (enum encap) */
	uint64_t late_segments;
	uint64_t tls_cert_over_cap;        /* server Certificate messages over the 64 KiB handshake cap: not parsed */    /* segments of connections that had ended (a resent FIN, RST or SYN): no new connection */
	uint64_t file_dropped;             /* packets capture files' own statistics say were dropped (pcapng_stats.h) */
	uint64_t file_stats_skipped;       /* pcapng statistics blocks not read */
	uint64_t store_dropped;     /* checkpoints the shared store's local queue dropped (set by the monitor) */
	uint64_t store_findings_skipped;   /* the shared store's checkpoints whose findings were not computed */
	struct stream_counters stream;
	struct name_counters names;        /* the name protocols (names.h) */
	uint64_t attempts_folded;          /* attempt-only connections folded past --max-attempts (attempts.h) */
	uint64_t attempt_groups_full;      /* of those, in no group: the group table was full */
};

struct engine {
	struct engine_config cfg;
	struct services *svc;
	struct flow_table ft;
	struct dpi *dpi;
	struct engine_counters cnt;
	struct flow_record **records;
	size_t n_records, cap_records;
	uint64_t records_bytes;    /* what the records in `records` take (spool_record_size) */
	struct spool *spool;       /* with cfg.spool_records, once records_memory was passed: every record
	                            * after that, and those before, sorted by first packet; NULL before */
	struct addr *servers;      /* IBM i addresses: open-addressing set */
	uint32_t n_servers_seen;
	int64_t first_us, last_us;
	bool any_packet;
	bool shared;               /* the catalogue is shared with other engines (--threads) */
	struct stream_mem mem;     /* the --memcap budget of this engine's inspection state */
	struct recent recent;      /* connections that ended a short while ago, for their late segments */
	struct inspect *insp_oldest, *insp_newest;   /* inspected flows, least recently fed first */
	struct flow *current;      /* the flow of the packet being handled: never reclaimed under it */
	struct names *names;       /* host names and DHCP leases (names.h); NULL until a name packet came */
	struct attempts *att;      /* --max-attempts (attempts.h); NULL without a cap */
	uint64_t att_folded_stored, att_full_stored;   /* a monitor's folded connections whose groups were stored */
};

bool engine_init(struct engine *e, const struct engine_config *cfg, struct services *svc, char *err,
		 size_t errlen);
void engine_packet(struct engine *e, const struct packet *p);
/* A UDP packet of a name protocol (p->udp_name): into e->names, on the reading thread. */
void engine_name_packet(struct engine *e, const struct packet *p);
void engine_finish(struct engine *e);
/* After engine_finish, before the report: the flow table's memory (up to --max-flows entries) goes
 * back, so the report's inventory does not come on top of it.  No packet after this. */
void engine_release_flows(struct engine *e);
void engine_free(struct engine *e);
/* --threads: guard the shared catalogue's learned ports from now on. */
void engine_set_shared(struct engine *e);
/* End every flow (records stay unsorted): a worker's last step. */
void engine_flush(struct engine *e);
/* Move a worker's records, counters and IBM i addresses into the reader's engine. */
void engine_merge(struct engine *into, struct engine *from);

/* Mark a record's client internal (loopback, an IBM i address, a --server address) as engine_finish()
 * does for the records it holds; a spool's records are marked as they are read back. */
void engine_mark_internal(const struct engine *e, struct flow_record *r);
/* The order of records in reports: first packet's time, then frame number (a spool's comparison). */
int engine_record_cmp(const struct flow_record *x, const struct flow_record *y);
/* The same as a spool's comparison (spool.h). */
struct spool_item;
int engine_spool_order(const struct spool_item *x, const struct spool_item *y);

/* ---- continuous monitoring (monitor.c): the engine runs for days ---- */
/* No packet for a while: end the flows idle at `now` (same clock as packets). */
void engine_tick(struct engine *e, int64_t now_us);
/* Sort the finished records and mark internal clients, as engine_finish()
 * does, without ending the open flows: e->records is then ready for the
 * inventory and the reporters.  engine_drop_records() frees them after they
 * were stored, so memory does not grow with the number of finished flows. */
/* The attempt-only records kept (--max-attempts) join them too: how many (0 without a cap). */
size_t engine_prepare_records(struct engine *e);
void engine_drop_records(struct engine *e);   /* the spool too (a monitor's interval past --records-memory) */
/* A monitor's checkpoint stored the folded groups (e->att): the next interval folds afresh; the counters
 * stay cumulative. */
void engine_attempts_stored(struct engine *e);
/* Copies of the records of the flows still open, as if they ended now with
 * tcp "open" (sorted, internal marked); they share the live flows' dissector
 * facts: read them, then free with engine_free_snapshot() before the next
 * packet.  Returns the count (0 and *out NULL on no memory or no flows). */
size_t engine_open_snapshot(struct engine *e, struct flow_record ***out);
void engine_free_snapshot(struct flow_record **recs, size_t n);
/* A new catalogue (SIGHUP): open flows and pending records keep their
 * service names (re-interned into `fresh`), learned ports are carried over.
 * The caller frees the old one after this returns. */
void engine_set_services(struct engine *e, struct services *fresh);
/* Can the prefilter decide on ports alone (no --server, nothing learned)? */
static inline bool engine_ports_only(const struct engine *e)
{
	return e->cfg.n_servers == 0 && __atomic_load_n(&e->svc->n_learned, __ATOMIC_RELAXED) == 0;
}
static inline bool engine_port_wanted(const struct engine *e, uint16_t sport, uint16_t dport)
{
	return e->svc->port_name[sport] || e->svc->port_name[dport];
}
/* Does the prefilter keep this packet: a catalogued or learned port, or a --server address? */
bool engine_wants(const struct engine *e, const struct packet *p);
/* Is this address an IBM i (configured or learned)? */
bool engine_is_server(const struct engine *e, const struct addr *a);
/* Sorted list of server addresses into out (caller frees); returns count. */
size_t engine_servers(const struct engine *e, struct addr **out);

#endif
