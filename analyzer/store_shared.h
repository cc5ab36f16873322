/*
 * store_shared.h - the shared PostgreSQL store's entry points, as store.c
 * calls them (store.h's functions, handed on when --db is a PostgreSQL
 * connection string; implemented in store_pg.c and store_pg_load.c).  Only
 * forward declarations: this header includes nothing of store.h, so that
 * store.c can include it without a circle.
 */
#ifndef TLSREADY_STORE_SHARED_H
#define TLSREADY_STORE_SHARED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct store_pg;
struct store_config;
struct store_checkpoint;
struct store_query;
struct store_view;
struct inventory;

struct store_pg;
bool store_pg_is_conninfo(const char *db);
/* A display form of the conninfo: only host, port, dbname, user, service; never a password. */
void store_pg_display(const char *conninfo, char *out, size_t len);
/* write: a sensor (creates or migrates the schema); else a report (the schema must be current). */
struct store_pg *store_pg_open(const char *conninfo, bool write, const struct store_config *cfg, char *err,
			       size_t errlen);
void store_pg_close(struct store_pg *p);
bool store_pg_chown(struct store_pg *p, uid_t uid, gid_t gid, char *err, size_t errlen);
bool store_pg_run_start(struct store_pg *p, const char *iface, int64_t now_us, char *err, size_t errlen);
bool store_pg_run_stop(struct store_pg *p, int64_t now_us);
bool store_pg_checkpoint(struct store_pg *p, const struct store_checkpoint *c, char *err, size_t errlen);
bool store_pg_imported(struct store_pg *p, const char *digest, int64_t *when_us, char *name, size_t namelen);
bool store_pg_load_inventory(struct store_pg *p, const struct store_query *q, struct inventory *inv, char *err,
			     size_t errlen);
bool store_pg_load(struct store_pg *p, int64_t since_us, struct store_view *v, char *err, size_t errlen);
struct attempts;
bool store_pg_load_attempts(struct store_pg *p, const struct store_query *q, struct attempts *t, char *err,
			    size_t errlen);
int store_pg_version(struct store_pg *p);
bool store_pg_reads_in_loop(const struct store_pg *p);
uint64_t store_pg_dropped(struct store_pg *p);
struct event_finding;
void store_pg_findings_next(struct store_pg *p, struct inventory *now, int64_t now_us, int64_t back_after_us);
size_t store_pg_findings_take(struct store_pg *p, struct event_finding **out);
uint64_t store_pg_findings_skipped(struct store_pg *p);
bool store_pg_flush(struct store_pg *p, int timeout_ms);

#endif
