/*
 * store_attempts.c - the attempt-only connections a checkpoint folded past
 * --max-attempts (attempts.h), kept in the state as groups per UTC day,
 * server, port and TCP outcome, and read back for a stored report.
 *
 * In: a checkpoint's folded set (c->done->folded), one row per group and one
 * for `other` (server ''), keyed by the day of the group's first connection;
 * rows of the same key add up (connections), widen (first, last) and merge
 * their HyperLogLog registers (the SQL function hll_max, each register's
 * maximum).  The shared store writes the same rows (store_pg_rows.c) through
 * store_each_attempt_group().  Out: the rows of a query's days absorbed into
 * a set (attempts_absorb), so the report prints them as a one-shot run's.
 */
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "attempts.h"
#include "inventory.h"
#include "store.h"
#include "store_db.h"
#include "store_shared.h"

/* hll_max(a, b): two sketches' registers merged; b alone if their sizes differ (a row written wrongly). */
static void hll_max(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int la = sqlite3_value_bytes(argv[0]), lb = sqlite3_value_bytes(argv[1]);
	const unsigned char *a = sqlite3_value_blob(argv[0]), *b = sqlite3_value_blob(argv[1]);
	if (argc != 2 || la != lb || la != (int)HLL_M || !a || !b) {
		sqlite3_result_value(ctx, argv[1]);
		return;
	}
	struct hll m, with;
	memcpy(m.reg, a, HLL_M);
	memcpy(with.reg, b, HLL_M);
	hll_merge(&m, &with);
	sqlite3_result_blob(ctx, m.reg, HLL_M, SQLITE_TRANSIENT);
}

void store_attempts_register(sqlite3 *db)
{
	sqlite3_create_function(db, "hll_max", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, hll_max, NULL, NULL);
}

bool store_each_attempt_group(const struct store_checkpoint *c, store_attempt_fn fn, void *ctx)
{
	const struct attempts *t = c->done ? c->done->folded : NULL;
	if (!t || !t->folded)
		return true;
	char a[ADDR_STRLEN];
	for (size_t i = 0; i < t->n_groups; i++) {
		const struct attempt_group *g = t->groups[i];
		if (!fn(ctx, inventory_day(g->first_us), addr_str(&g->srv, a), g, t->limit))
			return false;
	}
	if (t->other.connections && !fn(ctx, inventory_day(t->other.first_us), "", &t->other, t->limit))
		return false;
	return true;
}

static bool put_group(void *ctx, int64_t day, const char *server, const struct attempt_group *g, uint64_t limit)
{
	sqlite3_stmt *st = ctx;
	sqlite3_bind_int64(st, 1, day);
	sqlite3_bind_text(st, 2, server, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, g->port);
	sqlite3_bind_int(st, 4, g->tcp);
	sqlite3_bind_int64(st, 5, (int64_t)g->connections);
	sqlite3_bind_int64(st, 6, g->first_us);
	sqlite3_bind_int64(st, 7, g->last_us);
	sqlite3_bind_blob(st, 8, g->sources.reg, HLL_M, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, (int64_t)limit);
	return store_step_done(st);
}

bool store_put_attempts(struct store *s, const struct store_checkpoint *c)
{
	const struct attempts *t = c->done ? c->done->folded : NULL;
	if (!t || !t->folded)
		return true;
	sqlite3_stmt *st = store_prep(s, "INSERT INTO attempt_group AS t VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)"
				      " ON CONFLICT(day, server, port, tcp) DO UPDATE SET connections=t.connections+excluded.connections,"
				      " first_us=min(t.first_us, excluded.first_us), last_us=max(t.last_us, excluded.last_us),"
				      " sources=hll_max(t.sources, excluded.sources), max_attempts=excluded.max_attempts");
	bool ok = st && store_each_attempt_group(c, put_group, st);
	sqlite3_finalize(st);
	return ok;
}

bool store_attempt_row(struct attempts *t, const char *server, int port, int tcp, uint64_t connections,
		       int64_t first_us, int64_t last_us, const void *sources, size_t len, uint64_t limit)
{
	struct attempt_group g = { .port = (uint16_t)port, .tcp = (uint8_t)tcp, .connections = connections,
				   .first_us = first_us, .last_us = last_us };
	int plen;
	bool other = !server || !server[0];
	if ((!other && !addr_parse_prefix(server, &g.srv, &plen)) || len != HLL_M || port < 0 || port > 65535 ||
	    tcp < 0 || tcp > 255)
		return false;
	memcpy(g.sources.reg, sources, HLL_M);
	attempts_absorb(t, &g, other);
	if (limit > t->limit)
		t->limit = limit;
	return true;
}

/* The SQLite state's rows of the query's days, inside one read transaction. */
static bool load_rows(struct store *s, const struct store_query *q, struct attempts *t, char *err, size_t errlen)
{
	bool ok = store_exec(s, "BEGIN", err, errlen);
	sqlite3_stmt *st = ok ? store_prep(s, "SELECT server, port, tcp, connections, first_us, last_us, sources,"
					      " max_attempts FROM attempt_group WHERE day BETWEEN ?1 AND ?2") : NULL;
	int rc = SQLITE_ERROR;
	if (st) {
		sqlite3_bind_int64(st, 1, q->since_us ? inventory_day(q->since_us) : INT64_MIN);
		sqlite3_bind_int64(st, 2, q->until_us ? inventory_day(q->until_us - 1) : INT64_MAX);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			if (!store_attempt_row(t, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1),
					       sqlite3_column_int(st, 2), (uint64_t)sqlite3_column_int64(st, 3),
					       sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
					       sqlite3_column_blob(st, 6), (size_t)sqlite3_column_bytes(st, 6),
					       (uint64_t)sqlite3_column_int64(st, 7))) {
				rc = SQLITE_CORRUPT;
				break;
			}
	}
	sqlite3_finalize(st);
	if (ok && rc != SQLITE_DONE) {
		store_seterr(err, errlen, s, "cannot read the folded attempts");
		ok = false;
	}
	char ignore[8];
	store_exec(s, "COMMIT", ignore, sizeof ignore);
	return ok;
}

bool store_load_attempts(struct store *s, const struct store_query *q, struct attempts *t, char *err, size_t errlen)
{
	if (!attempts_init(t, 0, ATTEMPT_GROUPS_BYTES)) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	bool ok = s->pg ? store_pg_load_attempts(s->pg, q, t, err, errlen) : load_rows(s, q, t, err, errlen);
	if (!ok)
		attempts_free(t);
	return ok;
}
