/*
 * store_db.h - what the state's files share inside the store layer (store.c
 * opens, migrates and checkpoints; store_inventory.c writes and reads the
 * inventory rows): the open database and its small statement helpers.
 * Nothing outside analyzer/store*.c includes this.
 */
#ifndef TLSREADY_STORE_DB_H
#define TLSREADY_STORE_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DAY_US ((int64_t)86400 * 1000000)

struct store_pg;
struct store {
	struct store_pg *pg;        /* the shared PostgreSQL store (store_pg.c): every call goes there */
	sqlite3 *db;
	char *path;
	bool writable;
	int64_t run_id;
	int fd;                    /* the writer's own descriptor of the state, for fchown */
	int side_fd[2];            /* -wal and -shm, opened to give them away */
	int lock_fd;               /* FILE.lock, flock()ed while the writer runs */
};

/* One statement list (no rows), err set on failure. */
bool store_exec(struct store *s, const char *sql, char *err, size_t errlen);
/* A persistent prepared statement, NULL on error. */
sqlite3_stmt *store_prep(struct store *s, const char *sql);
/* Step to completion, then reset and clear the bindings for the next use. */
bool store_step_done(sqlite3_stmt *st);
/* err: "FILE: what: SQLite's message", or that the file is damaged. */
void store_seterr(char *err, size_t errlen, const struct store *s, const char *what);

/* ---- the inventory rows (store_inventory.c) ---- */
struct inventory;
struct store_query;
struct leasebook;
/* Merge an inventory into the rows of one day (open: the snapshot of open flows); a client's host (>= 0)
 * is a host of the book (its key and client identifier are stored with the row). */
bool store_put_inventory(struct store *s, const struct inventory *inv, int64_t day, bool open,
			 const struct leasebook *book);
/* The rows of a query summed back into an inventory (inside a read transaction). */
bool store_load_rows(struct store *s, const struct store_query *q, struct inventory *inv);
/* The names tables' host names of the checkpoint's clients (store_checkpoint's names, redacted if asked). */
struct store_checkpoint;
bool store_put_host_names(struct store *s, const struct store_checkpoint *c, const struct leasebook *book);
/* The DHCP leases that say who the checkpoint's clients were: those the state kept that end after its
 * first connection, and the checkpoint's own (written for the next checkpoints), into book (prepared). */
bool store_put_leases(struct store *s, const struct store_checkpoint *c, struct leasebook *book);
/* Only the first part of that: the kept leases that can cover the checkpoint's connections, into book. */
bool store_read_leases(struct store *s, const struct store_checkpoint *c, struct leasebook *book);
/* ---- the folded attempts (store_attempts.c) ---- */
/* The SQL function hll_max(a, b) the rows merge with, on a connection. */
void store_attempts_register(sqlite3 *db);
/* The checkpoint's folded groups merged into their days' rows. */
bool store_put_attempts(struct store *s, const struct store_checkpoint *c);
/* Fold the open rows a killed run left into the finished ones; drop the open rows. */
extern const char store_fold_open_sql[], store_drop_open_sql[];

#endif
