/*
 * store.h - the monitor's state: one SQLite database file.
 *
 * In: at each checkpoint (monitor.c) the inventory of the flows that
 * finished since the last one, a snapshot of the flows still open, the
 * finished records themselves (as the JSON objects of the report contract),
 * the engine counters and libpcap's counters of the interval.  Out: the
 * inventory accumulated over days (store_load(), for the report), and the
 * findings that are new at this checkpoint (a callback, for events.c).
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

#include "engine.h"
#include "inventory.h"

#define STORE_APPLICATION_ID 0x544c5352   /* "TLSR" */
#define STORE_SCHEMA_VERSION 3

struct store;

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

struct store_finding {
	char kind[32];             /* new-nonsecure-client, client-back-on-nonsecure,
	                              new-obsolete-tls-version, certificate-expiring */
	int64_t time_us;           /* when it was seen */
	char client[48], server[48], service[32], user[48], device[48], detail[256];
	uint16_t port;
	int64_t previous_us;       /* back-on-nonsecure: the last use before; certificate: not_after */
	long days;                 /* certificate: days left (negative: expired); back: days absent */
};
typedef void (*store_finding_fn)(void *ctx, const struct store_finding *f);
typedef void (*store_flow_fn)(void *ctx, const char *flow_json);

struct store_checkpoint {
	struct engine *e;                  /* e->records: the finished flows, prepared */
	const struct inventory *done;      /* inventory of e->records */
	struct flow_record **open;         /* snapshot of the open flows */
	size_t n_open;
	const struct inventory *open_inv;  /* inventory of the snapshot */
	const struct engine_counters *cnt, *prev;  /* counters now and at the last checkpoint */
	uint64_t learned_dropped, prev_learned_dropped;
	/* the interval's capture health */
	const char *iface;
	int64_t start_us, end_us;
	bool have_pcap_stats;
	uint64_t received, dropped_kernel, dropped_interface;  /* deltas */
	uint64_t not_analysed;             /* at the stop: received, not dropped, not analysed */
	int64_t now_us;
	int64_t retain_us;                 /* prune flow records older than this; 0 keeps all */
	int64_t back_after_us;             /* "back on a nonsecure port" after this long without */
	bool redact;
	const char *redact_key;
	store_finding_fn on_finding;       /* called after the commit, may be NULL */
	store_flow_fn on_flow;
	void *ctx;
};

/* One transaction.  On failure nothing was written: keep the records and retry. */
bool store_checkpoint(struct store *s, const struct store_checkpoint *c, char *err, size_t errlen);

/* ---- the report reads ---- */

struct sv_usage {
	char server[48], service[32];
	uint16_t port;
	enum port_class cls;
	uint64_t connections, refused, unanswered, failed_tls, cleartext, tls;
	uint32_t tls_versions;
	bool mismatch, in_progress;
	int64_t first_us, last_us;
	struct name_set users, devices;
};

struct sv_client {
	char ip[48];
	struct addr addr;
	enum client_status status;
	bool internal, in_progress;
	int64_t first_us, last_us, first_nonsecure_us, last_nonsecure_us;   /* 0: never */
	uint32_t findings;
	uint64_t signon_failures;
	struct name_set users, devices, mapper_requests;
	struct sv_usage *use;
	size_t n_use;
};

struct sv_cert {
	char server[48], sha256[72], subject[256], issuer[256];
	uint16_t port;
	int64_t not_after_us, first_us, last_us;
};

struct sv_counter {
	char name[48];
	uint64_t value;
};

struct store_view {
	struct sv_client *clients;         /* sorted by address */
	size_t n_clients;
	struct sv_cert *certs;
	size_t n_certs;
	struct sv_counter *counters;       /* cumulative engine and capture counters, by name */
	size_t n_counters;
	int64_t created_us, first_start_us, last_checkpoint_us, oldest_flow_us;
	uint64_t checkpoints, runs, unclean_stops, flows_stored;
	bool running;                      /* the last run has no stop time */
	char iface[64];
	/* capture health since the time asked for, and over everything kept */
	struct sv_health {
		uint64_t intervals, intervals_with_drops, packets, received, dropped_kernel, dropped_interface;
		uint64_t not_analysed;     /* received by libpcap but not analysed when a run stopped */
		int64_t first_us, last_us;
	} window, total;
};

bool store_load(struct store *s, int64_t since_us, struct store_view *v, char *err, size_t errlen);
void store_view_free(struct store_view *v);
uint64_t store_view_counter(const struct store_view *v, const char *name);

#endif
