/*
 * store.h - the monitor's state: one SQLite database file, behind one
 * interface (open, migrate, checkpoint, load, prune) that another backend
 * can implement.
 *
 * In: at each checkpoint (monitor.c, or an import of capture files) the
 * analysis of the flows that finished since the last one and of the flows
 * still open, and the capture's health over the interval.  The store rolls
 * each UTC day's flows into an inventory (inventory.h) and merges it into the
 * rows of that day; the finished flows are kept as the JSON objects of the
 * report contract for --retain.  Out: the inventory of any window of days
 * (store_load_inventory(): the same structure the one-shot report prints),
 * and the state (runs, checkpoints, counters, capture health).
 *
 * The file proves it is ours (PRAGMA application_id and a meta row), is
 * versioned (PRAGMA user_version, forward migrations, a migrations table),
 * runs in WAL mode so that a report never blocks the monitor, and is written
 * in one transaction per checkpoint: a monitor killed with kill -9 loses at
 * most what it saw since the last checkpoint.  Tables: docs/schema.md.
 */
#ifndef TLSREADY_STORE_H
#define TLSREADY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "analysis.h"
#include "inventory.h"

#define STORE_APPLICATION_ID 0x544c5352   /* "TLSR" */
#define STORE_SCHEMA_VERSION 7

struct store;

/*
 * The shared store (--db postgresql://..., postgres://... or a libpq
 * keyword string such as "host=/run/pg dbname=tlsready"): which sensor
 * writes (--sensor, default the host name), which sensors a report reads
 * (--sensor on the report, repeatable; none: all), and the sensor's local
 * queue file for checkpoints the database could not take yet.  Set once,
 * before store_open; a SQLite file ignores it.
 */
#define STORE_MAX_SENSORS 32
#define STORE_QUEUE_DEFAULT_BYTES ((uint64_t)256 << 20)
struct store_config {
	const char *sensor;
	const char *sensors[STORE_MAX_SENSORS];
	size_t n_sensors;
	const char *queue;                 /* NULL: /var/lib/tlsready/queue-SENSOR (monitor only) */
	uint64_t queue_max_bytes;          /* 0: STORE_QUEUE_DEFAULT_BYTES */
};
void store_configure(const struct store_config *c);
/* A sensor name: 1-63 of [A-Za-z0-9._-]. */
bool store_sensor_name_ok(const char *name);
/* Is this --db a PostgreSQL database rather than a file? */
bool store_is_shared(const char *db);
/* What to print for --db: a file's path, or the database's host, port, dbname, user and service
 * (never a password). */
const char *store_display(const char *db, char *buf, size_t len);
/* Can the capture thread read the store at a checkpoint without waiting on a server?  (SQLite: yes.) */
bool store_reads_in_loop(const struct store *s);
/* Checkpoints the shared store's local queue dropped so far (full, or refused by the database); 0 for a file. */
uint64_t store_dropped_checkpoints(struct store *s);
/*
 * The shared store's findings (store_reads_in_loop() false): the capture thread hands over the
 * inventory of the next checkpoint's flows (taken over: *now is emptied, also for a file, which
 * frees it; NULL: it could not be built, counted); the writer thread compares it with what every sensor stored for those clients just
 * before it applies that checkpoint (events_detect()), and store_findings_take() returns what it
 * found since the last call (malloc'd, NULL when none) without waiting on the database.
 * store_findings_skipped(): checkpoints that gave no findings (queue full, "before" unreadable,
 * more than PG_EVENTS_PENDING waiting).  store_flush(): wait up to timeout_ms for the queue to
 * be applied (true if it was, or a file).
 */
struct event_finding;
void store_findings_next(struct store *s, struct inventory *now, int64_t now_us, int64_t back_after_us);
size_t store_findings_take(struct store *s, struct event_finding **out);
uint64_t store_findings_skipped(struct store *s);
bool store_flush(struct store *s, int timeout_ms);

enum store_mode { STORE_WRITE, STORE_READ };

/*
 * Open (STORE_WRITE: create if missing, check, migrate, WAL) or open for
 * reading (must exist and be current).  On failure err holds one line that
 * names the file: missing, not an SQLite database, another application's
 * database, damaged (quick_check), or a newer schema.
 */
struct store *store_open(const char *path, enum store_mode mode, char *err, size_t errlen);
/*
 * The same, saying why it failed.  A writer first takes an exclusive lock on
 * FILE.lock (held until store_close): a second writer is refused
 * (STORE_FAIL_LOCKED) while readers go on.  A writer never follows a symbolic
 * link and refuses a hard-linked or special file at FILE, FILE.lock,
 * FILE-wal, FILE-shm (STORE_FAIL_UNSAFE).  New files are created 0600:
 * the state holds user profiles.
 */
enum store_failure { STORE_FAIL_OTHER, STORE_FAIL_UNSAFE, STORE_FAIL_LOCKED };
struct store *store_open_why(const char *path, enum store_mode mode, char *err, size_t errlen,
			     enum store_failure *why);
void store_close(struct store *s);
/* Give the file, its -wal and -shm and its lock to the user the monitor drops
 * to: fchown on descriptors opened without following links, never by path. */
bool store_chown(struct store *s, uid_t uid, gid_t gid, char *err, size_t errlen);
/* Test helper: create a new file with the migrations up to `version` only. */
bool store_create_at_version(const char *path, int version, char *err, size_t errlen);
int store_user_version(struct store *s);

/* ---- the monitor writes ---- */

/* A monitor run starts: fold what a killed run left as "open" into the
 * inventory (it was seen), and record the run. */
bool store_run_start(struct store *s, const char *iface, int64_t now_us, char *err, size_t errlen);
bool store_run_stop(struct store *s, int64_t now_us);

typedef void (*store_flow_fn)(void *ctx, const char *flow_json);

/* Cumulative totals at the last checkpoint, to store the interval's differences. */
struct store_totals {
	struct counter counters[COUNTERS_MAX];
	size_t n_counters;
	uint64_t packets, bytes, tcp_packets;
};
void store_totals_of(struct store_totals *t, const struct analysis *a);

struct store_checkpoint {
	const struct analysis *done;       /* the finished flows since the last checkpoint, and the counters now */
	const struct analysis *open;       /* a snapshot of the open flows; may be NULL */
	const struct store_totals *prev;   /* the totals at the last checkpoint; NULL: none */
	/* the interval's capture health */
	const char *iface;
	int64_t start_us, end_us;
	bool have_pcap_stats;
	uint64_t received, dropped_kernel, dropped_interface;  /* deltas */
	uint64_t not_analysed;             /* at the stop: received, not dropped, not analysed */
	int64_t now_us;
	int64_t retain_us;                 /* prune flow records and days older than this; 0 keeps all */
	bool redact;                       /* names are redacted before they are stored */
	const char *redact_key;
	store_flow_fn on_flow;             /* each finished flow's JSON, after the commit; may be NULL */
	void *ctx;
	const char *const *import_digests; /* imported files' SHA-256s and names: recorded in the same transaction */
	const char *const *import_names;
	size_t n_imports;
};

/* The host names of a checkpoint's clients (store_inventory.c), for both stores: each name the names table
 * (done->names) gave an address with a connection in the checkpoint (finished or open), dated on the UTC
 * day of its first one there, and the local names (every source but DNS A/AAAA answers) of addresses
 * without one yet, dated on the name's own first day (a client named before it connects); redacted as the
 * checkpoint asks; source is enum name_source.  host: the key of the DHCP host (leasebook.h; NULL book:
 * always "") the name came with or whose lease held the address then, "" none.  fn returning false stops
 * the walk (false is returned, as on no memory). */
typedef bool (*store_host_name_fn)(void *ctx, int64_t day, const char *client, const char *host, int source,
				   const char *name, int64_t first_us, int64_t last_us, uint32_t count);
struct leasebook;
/* The earliest and latest first packet of the checkpoint's connections (finished and open): false none
 * (the leases kept that can name one of them are those that end after lo and start before hi). */
bool store_checkpoint_span(const struct store_checkpoint *c, int64_t *lo, int64_t *hi);
bool store_each_host_name(const struct store_checkpoint *c, const struct leasebook *book, store_host_name_fn fn,
			  void *ctx);

/* The DHCP leases that say who a checkpoint's clients are, keyed as store_checkpoint() will key its rows,
 * with nothing written: the state file's leases that can cover its connections and the checkpoint's own
 * (c->done->names, redacted as c asks); the shared store: the checkpoint's own only (the capture thread
 * never waits on the database).  Prepared (leasebook_prepare); false on an error or no memory. */
struct leasebook;
bool store_lease_book(struct store *s, const struct store_checkpoint *c, struct leasebook *book);

/* One transaction.  On failure nothing was written: keep the records and retry. */
bool store_checkpoint(struct store *s, const struct store_checkpoint *c, char *err, size_t errlen);

/* ---- imports of capture files (tlsready -r FILE --db STATE) ---- */

/* Was a file with this SHA-256 imported before?  If so, when (and under which name) into when/name. */
bool store_imported(struct store *s, const char *digest, int64_t *when_us, char *name, size_t namelen);

/* ---- the report reads ---- */

/* The days to load: [since_us, until_us) rounded out to whole UTC days (0: unbounded); with
 * `only`, just these clients and the certificates (what the events module compares with): the rows
 * of these addresses and of the addresses the DHCP hosts `only_hosts` (their keys, as stored) had,
 * one row per (address, host) with the host in dhcp (the SQLite state and the shared store alike). */
struct store_query {
	int64_t since_us, until_us;
	const struct addr *only;
	size_t n_only;
	const char *const *only_hosts;
	size_t n_only_hosts;
};
bool store_load_inventory(struct store *s, const struct store_query *q, struct inventory *inv, char *err,
			  size_t errlen);
/* The attempt-only connections folded past --max-attempts (attempts.h) on the query's days (its since and
 * until; its clients are not asked), merged into t (attempts_init'd here; attempts_free it), so a stored
 * report prints them as a one-shot run does; t->folded 0: none.  False with err on a read error. */
struct attempts;
bool store_load_attempts(struct store *s, const struct store_query *q, struct attempts *t, char *err,
			 size_t errlen);
/* The query of the clients of `now` (a checkpoint's inventory, for its findings): every address of
 * each client and every DHCP host key, in arrays of its own (store_query_free); false: no memory. */
bool store_query_of_clients(struct store_query *q, const struct inventory *now);
void store_query_free(struct store_query *q);
/* The UTC day number of a time (what the rows are keyed by). */
int64_t store_day(int64_t us);

struct sv_counter {
	char name[48];
	uint64_t value;
};

struct store_view {
	struct sv_counter *counters;       /* cumulative engine and capture counters, by name */
	size_t n_counters;
	int64_t created_us, first_start_us, last_checkpoint_us, oldest_flow_us, first_day_us, last_day_us;
	uint64_t checkpoints, runs, unclean_stops, flows_stored, imports;
	bool running;                      /* the last run has no stop time */
	char iface[64];
	/* capture health since the time asked for, and over everything kept */
	struct sv_health {
		uint64_t intervals, intervals_with_drops, packets, received, dropped_kernel, dropped_interface;
		uint64_t not_analysed;     /* received by libpcap but not analysed when a run stopped */
		int64_t first_us, last_us;
		int64_t observed_us;       /* the intervals' durations summed: time actually watched */
	} window, total;
};

bool store_load(struct store *s, int64_t since_us, struct store_view *v, char *err, size_t errlen);

/* ---- for the backends (store.c, store_pg*.c) ---- */

/* A finished flow's JSON object of the report contract (malloc'd; NULL: no memory); i: its index. */
char *store_flow_json(const struct store_checkpoint *c, const struct flow_record *r, size_t i);
/* Each finished flow of the checkpoint in order, held in memory or spooled (an import): fn returning
 * false stops the walk; false then, or when the spool could not be read back. */
typedef bool (*store_record_fn)(void *ctx, const struct flow_record *r, size_t i);
bool store_each_flow(const struct store_checkpoint *c, store_record_fn fn, void *ctx);
/* Each group of the checkpoint's folded attempts (c->done->folded), then its `other` group (server ""): the
 * UTC day of its first connection, the server's address as text, and --max-attempts. */
struct attempt_group;
typedef bool (*store_attempt_fn)(void *ctx, int64_t day, const char *server, const struct attempt_group *g,
				 uint64_t limit);
bool store_each_attempt_group(const struct store_checkpoint *c, store_attempt_fn fn, void *ctx);
/* A stored group row absorbed into t (server "" or NULL: other); false when the row is not one we write. */
bool store_attempt_row(struct attempts *t, const char *server, int port, int tcp, uint64_t connections,
		       int64_t first_us, int64_t last_us, const void *sources, size_t len, uint64_t limit);
/* After the commit: each finished flow's JSON to c->on_flow (when set). */
void store_hand_flows(const struct store_checkpoint *c);
/* The view's totals from its cumulative counters, which outlive the pruning of old intervals. */
void store_view_totals(struct store_view *v);
void store_view_free(struct store_view *v);
uint64_t store_view_counter(const struct store_view *v, const char *name);

#endif
