/*
 * store_pg.c - the shared PostgreSQL store behind store.h (see store_pg.h):
 * the conninfo's checks, the connection (libpq), the schema's creation and
 * migration, a batch applied in one transaction, and the backend's entry
 * points that store.c hands on.
 *
 * In: --db as a postgresql:// or postgres:// URI or a libpq keyword string.
 * Credentials come only from libpq's own mechanisms (PGPASSFILE, the service
 * file, peer authentication): a conninfo carrying a password is refused, and
 * no message ever prints the conninfo, only store_pg_display()'s form of it.
 * Every statement with data is prepared (PQprepare) and run with bound
 * parameters; the only statement texts sent unprepared are the fixed schema
 * and staging texts of store_pg_sql.c.  Who the clients are (the DHCP
 * leases of each checkpoint): store_pg_leases.c.
 */
#define _GNU_SOURCE
#include "store_pg.h"

#include "leasebook.h"
#include "pq_lazy.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct pg_conn {
	PGconn *c;
	bool write;
};

struct store_pg {
	char *conninfo;
	char display[256];
	bool write;                /* a sensor; else a report */
	struct pg_conn *conn;      /* reads, imports, the import check */
	struct pg_queue *q;        /* a monitor's checkpoints */
	struct pg_events *ev;      /* a monitor's findings, computed by the queue's writer */
	struct inventory next;     /* the inventory the next checkpoint's findings compare (store_pg_findings_next) */
	int64_t next_now_us, next_back_us;
	bool have_next;
	bool flush_timed_out;      /* the last store_pg_flush() gave up: the close does not wait again */
	char sensor[64], run[64];
	char sensors[STORE_MAX_SENSORS * 66 + 4];   /* "{a,b}" for the report's filter, "" for all */
	uint64_t seq;
	bool run_started;
	struct leasebook kept;     /* a monitor's leases (never prepared: a list), see the top of the file */
};

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the conninfo ---- */

/* A URI, or a keyword string: its first word is one of libpq's usual keywords followed by '='
 * (a file named "x=y.db" stays a file). */
bool store_pg_is_conninfo(const char *db)
{
	static const char *const kw[] = { "host=", "hostaddr=", "port=", "dbname=", "user=", "service=",
					  "sslmode=", "application_name=", "connect_timeout=" };
	if (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0)
		return true;
	while (*db == ' ')
		db++;
	for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
		if (strncmp(db, kw[i], strlen(kw[i])) == 0)
			return true;
	return false;
}

void store_pg_display(const char *conninfo, char *out, size_t len)
{
	static const char *const keep[] = { "host", "port", "dbname", "user", "service" };
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	size_t o = (size_t)snprintf(out, len, "postgresql:");
	if (!opts) {
		snprintf(out, len, "postgresql: (a connection string libpq cannot read)");
		return;
	}
	for (PQconninfoOption *p = opts; p->keyword; p++)
		for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
			if (strcmp(p->keyword, keep[i]) == 0 && p->val && p->val[0] && o < len) {
				/* printable ASCII only, no spaces: the form is for messages */
				o += (size_t)snprintf(out + o, len - o, " %s=", p->keyword);
				for (const char *v = p->val; *v && o + 1 < len; v++)
					out[o++] = (*v > ' ' && *v < 0x7f) ? *v : '?';
				if (o < len)
					out[o] = '\0';
			}
	PQconninfoFree(opts);
}

/* A password in the conninfo itself is refused (it would sit in the process list and shell history). */
static bool conninfo_ok(const char *conninfo, char *err, size_t errlen)
{
	if (!pq_available(err, errlen))
		return false;
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
	if (!opts) {
		/* libpq's message may quote the string: say only that it is unreadable */
		PQfreemem(msg);
		snprintf(err, errlen, "--db: not a PostgreSQL connection string libpq can read");
		return false;
	}
	bool ok = true;
	for (PQconninfoOption *p = opts; p->keyword; p++)
		if (strcmp(p->keyword, "password") == 0 && p->val && p->val[0])
			ok = false;
	PQconninfoFree(opts);
	if (!ok)
		snprintf(err, errlen, "--db: a password in the connection string is refused (not shown); put it in"
				      " a password file (PGPASSFILE, ~/.pgpass) or a service file (PGSERVICEFILE)");
	return ok;
}

/* ---- the connection ---- */

static void silent(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

void *pg_conn_raw(struct pg_conn *c)
{
	return c ? c->c : NULL;
}

void pg_conn_err(struct pg_conn *c, const char *what, char *err, size_t errlen)
{
	char m[400];
	snprintf(m, sizeof m, "%s", c && c->c ? PQerrorMessage(c->c) : "no connection");
	m[strcspn(m, "\n")] = '\0';
	snprintf(err, errlen, "PostgreSQL: %s: %s", what, m);
}

static bool exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	return ok;
}

/* One text value of a one-row query with parameters; NULL on error or no row (free it). */
static char *query_value(PGconn *c, const char *sql, int n, const char *const *vals)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
	char *v = NULL;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

/* The schema's versions: the first creates, each later one migrates from the one before (store_pg_sql.c). */
static const struct {
	int version;
	const char *sql, *description;
} versions[] = {
	{ 1, pg_schema_v1, "inventory per sensor and day, flow records by day, checkpoints, runs, counters, imports" },
	{ 2, pg_schema_v2, "the clients' host names per sensor and day" },
	{ 3, pg_schema_v3, "identity over time (issue 17): the DHCP host of each client row, and the leases that say which" },
	{ 4, pg_schema_v4, "attempt-only connections past --max-attempts, folded per sensor, UTC day, server, port and TCP outcome" },
};

/* The versions after `from` applied, each recorded in migrations; false on an error (err says which). */
static bool migrate_from(struct pg_conn *c, int from, char *err, size_t errlen)
{
	char now[24], ver[12];
	snprintf(now, sizeof now, "%" PRId64, wall_us());
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		if (versions[i].version <= from)
			continue;
		snprintf(ver, sizeof ver, "%d", versions[i].version);
		const char *v[] = { ver, now, versions[i].description };
		bool ok = exec_ok(c->c, versions[i].sql);
		if (ok) {
			PGresult *r = PQexecParams(c->c, "INSERT INTO migrations VALUES($1::int, $2::bigint, $3)", 3, NULL, v,
						   NULL, NULL, 0);
			ok = PQresultStatus(r) == PGRES_COMMAND_OK;
			PQclear(r);
		}
		if (ok && from > 0) {
			PGresult *r = PQexecParams(c->c, "UPDATE meta SET value=$1 WHERE key='schema_version'", 1, NULL, v,
						   NULL, NULL, 0);
			ok = PQresultStatus(r) == PGRES_COMMAND_OK;
			PQclear(r);
		}
		if (!ok) {
			char what[64];
			snprintf(what, sizeof what, "cannot migrate the schema to version %d", versions[i].version);
			pg_conn_err(c, from ? what : "cannot create the schema", err, errlen);
			return false;
		}
	}
	return true;
}

/* Create or migrate the schema, one sensor at a time (an advisory lock), in one transaction. */
static bool migrate(struct pg_conn *c, char *err, size_t errlen)
{
	PGconn *pc = c->c;
	if (!exec_ok(pc, "BEGIN") || !exec_ok(pc, "SELECT pg_advisory_xact_lock(1414287187)")) {
		pg_conn_err(c, "cannot start the migration", err, errlen);
		return false;
	}
	char *fresh = query_value(pc, "SELECT to_regclass('meta') IS NULL", 0, NULL);
	bool ok = fresh != NULL;
	if (ok && strcmp(fresh, "t") == 0) {
		char now[24], ver[8];
		snprintf(now, sizeof now, "%" PRId64, wall_us());
		snprintf(ver, sizeof ver, "%d", PG_SCHEMA_VERSION);
		const char *v[] = { now, ver };
		ok = migrate_from(c, 0, err, errlen);   /* version 1, then each later version, each with its entry */
		if (ok) {
			PGresult *r = PQexecParams(pc, "INSERT INTO meta VALUES('format', 'tlsready-state'), ('created_us', $1),"
						       " ('schema_version', $2)", 2, NULL, v, NULL, NULL, 0);
			ok = PQresultStatus(r) == PGRES_COMMAND_OK;
			PQclear(r);
			if (!ok)
				pg_conn_err(c, "cannot create the schema", err, errlen);
		}
	} else if (ok) {
		char *fmt = query_value(pc, "SELECT value FROM meta WHERE key='format'", 0, NULL);
		char *ver = query_value(pc, "SELECT value FROM meta WHERE key='schema_version'", 0, NULL);
		if (!fmt || strcmp(fmt, "tlsready-state") != 0) {
			snprintf(err, errlen, "PostgreSQL: the database holds a table meta, but not a tlsready store's");
			ok = false;
		} else if (!ver || atoi(ver) > PG_SCHEMA_VERSION) {
			snprintf(err, errlen, "PostgreSQL: written by a newer tlsready (schema %s; this one knows up to %d)",
				 ver ? ver : "?", PG_SCHEMA_VERSION);
			ok = false;
		}
		/* versions after 1 migrate here, one entry each, as the SQLite store's */
		if (ok && atoi(ver) < PG_SCHEMA_VERSION)
			ok = migrate_from(c, atoi(ver) < 1 ? 1 : atoi(ver), err, errlen);
		free(fmt);
		free(ver);
	} else {
		pg_conn_err(c, "cannot read the schema", err, errlen);
	}
	free(fresh);
	if (!ok || !exec_ok(pc, "COMMIT")) {
		if (ok)
			pg_conn_err(c, "cannot commit the schema", err, errlen);
		exec_ok(pc, "ROLLBACK");
		return false;
	}
	return true;
}

static bool check_current(struct pg_conn *c, char *err, size_t errlen)
{
	char *fmt = query_value(c->c, "SELECT value FROM meta WHERE key='format'", 0, NULL);
	char *ver = fmt ? query_value(c->c, "SELECT value FROM meta WHERE key='schema_version'", 0, NULL) : NULL;
	bool ok = fmt && strcmp(fmt, "tlsready-state") == 0 && ver && atoi(ver) == PG_SCHEMA_VERSION;
	if (!fmt)
		snprintf(err, errlen, "PostgreSQL: not a tlsready store (no schema: start a sensor once to create it)");
	else if (!ok)
		snprintf(err, errlen, "PostgreSQL: schema %s, this tlsready reads %d", ver ? ver : "?", PG_SCHEMA_VERSION);
	free(fmt);
	free(ver);
	return ok;
}

struct pg_conn *pg_connect(const char *conninfo, bool write, char *err, size_t errlen)
{
	struct pg_conn *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "PostgreSQL: out of memory");
		return NULL;
	}
	c->write = write;
	c->c = PQconnectdb(conninfo);
	if (!c->c || PQstatus(c->c) != CONNECTION_OK) {
		pg_conn_err(c, "cannot connect", err, errlen);
		pg_disconnect(c);
		return NULL;
	}
	PQsetNoticeProcessor(c->c, silent, NULL);
	bool ok = exec_ok(c->c, "SET client_min_messages=warning") && exec_ok(c->c, "SET TIME ZONE 'UTC'");
	if (ok && write) {
		ok = migrate(c, err, errlen);
		if (ok && !exec_ok(c->c, pg_staging_sql)) {
			pg_conn_err(c, "cannot create the staging tables", err, errlen);
			ok = false;
		}
		for (int i = 0; ok && i < PGS_COUNT; i++) {
			char name[8];
			snprintf(name, sizeof name, "s%d", i);
			PGresult *r = PQprepare(c->c, name, pg_stmt_sql[i], 0, NULL);
			ok = PQresultStatus(r) == PGRES_COMMAND_OK;
			PQclear(r);
			if (!ok)
				pg_conn_err(c, "cannot prepare the statements", err, errlen);
		}
	} else if (ok) {
		ok = check_current(c, err, errlen);
	} else {
		pg_conn_err(c, "cannot set up the session", err, errlen);
	}
	if (!ok) {
		pg_disconnect(c);
		return NULL;
	}
	return c;
}

void pg_disconnect(struct pg_conn *c)
{
	if (!c)
		return;
	if (c->c)
		PQfinish(c->c);
	free(c);
}

/* ---- the backend ---- */

static void sensor_array(struct store_pg *p, const struct store_config *cfg)
{
	p->sensors[0] = '\0';
	if (!cfg || !cfg->n_sensors)
		return;
	size_t o = 0;
	p->sensors[o++] = '{';
	for (size_t i = 0; i < cfg->n_sensors; i++)   /* names are [A-Za-z0-9._-]: no quoting needed */
		o += (size_t)snprintf(p->sensors + o, sizeof p->sensors - o, "%s%s", i ? "," : "", cfg->sensors[i]);
	snprintf(p->sensors + o, sizeof p->sensors - o, "}");
}

struct store_pg *store_pg_open(const char *conninfo, bool write, const struct store_config *cfg, char *err,
			       size_t errlen)
{
	if (!conninfo_ok(conninfo, err, errlen))
		return NULL;
	struct store_pg *p = calloc(1, sizeof *p);
	if (!p || !(p->conninfo = strdup(conninfo))) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->write = write;
	store_pg_display(conninfo, p->display, sizeof p->display);
	snprintf(p->sensor, sizeof p->sensor, "%s", cfg && cfg->sensor ? cfg->sensor : "sensor");
	sensor_array(p, cfg);
	char e[512];
	p->conn = pg_connect(conninfo, write, e, sizeof e);
	if (write && cfg && cfg->queue) {
		/* a sensor with a queue starts even when the database is away: its writer connects later */
		if (!p->conn)
			fprintf(stderr, "tlsready: warning: %s (%s); checkpoints queue in %s until it answers\n", e,
				p->display, cfg->queue);
		p->q = pg_queue_open(cfg->queue, conninfo,
				     cfg->queue_max_bytes ? cfg->queue_max_bytes : STORE_QUEUE_DEFAULT_BYTES, err, errlen);
		if (!p->q || !(p->ev = pg_events_new())) {
			if (p->q)
				snprintf(err, errlen, "out of memory");
			store_pg_close(p);
			return NULL;
		}
		pg_queue_set_events(p->q, p->ev);
		/* the leases stored that can name a connection from now on (the database away: none) */
		if (p->conn && !pg_leases_read(p->conn, wall_us(), INT64_MAX, &p->kept))
			leasebook_free(&p->kept);
		pg_disconnect(p->conn);   /* the monitor writes through the queue only */
		p->conn = NULL;
		return p;
	}
	if (!p->conn) {
		snprintf(err, errlen, "%s (%s)", e, p->display);
		store_pg_close(p);
		return NULL;
	}
	return p;
}

void store_pg_close(struct store_pg *p)
{
	if (!p)
		return;
	if (p->q) {
		if (!pg_queue_drain(p->q, p->flush_timed_out ? 0 : 10000)) {   /* once at the stop, not twice */
			struct pg_queue_stats st;
			pg_queue_stats(p->q, &st);
			fprintf(stderr, "tlsready: %" PRIu64 " checkpoints (%" PRIu64 " bytes) stay queued for %s;"
					" the next start replays them\n", st.queued_batches, st.queued_bytes, p->display);
		}
		pg_queue_close(p->q);
	}
	pg_events_free(p->ev);
	if (p->have_next)
		inventory_free(&p->next);
	pg_disconnect(p->conn);
	leasebook_free(&p->kept);
	free(p->conninfo);
	free(p);
}

bool store_pg_chown(struct store_pg *p, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	return !p->q || pg_queue_chown(p->q, (unsigned)uid, (unsigned)gid, err, errlen);
}

int store_pg_version(struct store_pg *p)
{
	(void)p;
	return PG_SCHEMA_VERSION;
}

bool store_pg_reads_in_loop(const struct store_pg *p)
{
	(void)p;
	return false;
}

uint64_t store_pg_dropped(struct store_pg *p)
{
	struct pg_queue_stats st = { 0 };
	if (p->q)
		pg_queue_stats(p->q, &st);
	return st.dropped;
}

void store_pg_findings_next(struct store_pg *p, struct inventory *now, int64_t now_us, int64_t back_after_us)
{
	if (p->have_next)
		inventory_free(&p->next);
	p->have_next = false;
	if (!now) {   /* the inventory could not be built */
		if (p->ev)
			pg_events_skip(p->ev);
		return;
	}
	if (!p->ev || (!now->n_clients && !now->n_certs)) {   /* nothing it could find: the database is not asked */
		inventory_free(now);
		return;
	}
	p->have_next = true;
	p->next = *now;
	memset(now, 0, sizeof *now);
	p->next_now_us = now_us;
	p->next_back_us = back_after_us;
}

size_t store_pg_findings_take(struct store_pg *p, struct event_finding **out)
{
	*out = NULL;
	return p->ev ? pg_events_take(p->ev, out) : 0;
}

uint64_t store_pg_findings_skipped(struct store_pg *p)
{
	return p->ev ? pg_events_skipped(p->ev) : 0;
}

bool store_pg_flush(struct store_pg *p, int timeout_ms)
{
	if (!p->q)
		return true;
	p->flush_timed_out = !pg_queue_drain(p->q, timeout_ms);
	return !p->flush_timed_out;
}

/* A full queue drops the batch and counts it; the monitor goes on (its memory stays bounded). */
static void say_dropped(void)
{
	fprintf(stderr, "tlsready: warning: the local queue is full: a checkpoint was dropped (counted)\n");
}

/* An import's rows, as they are built: down its open pipeline. */
static bool drain_stream(void *ctx, const unsigned char *buf, size_t len)
{
	pg_stream_send(ctx, buf, len, false);
	return true;   /* a failure shows at the stream's end */
}

/* A monitor's rows, as they are built: into its queue entry. */
static bool drain_queue(void *ctx, const unsigned char *buf, size_t len)
{
	return pg_queue_append(ctx, buf, len);
}

/* Apply a batch now (an import), or queue it (a monitor). */
static bool submit(struct store_pg *p, struct pg_batch *b, char *err, size_t errlen)
{
	if (b->failed) {
		snprintf(err, errlen, "out of memory building the checkpoint");
		return false;
	}
	if (p->q) {
		if (!pg_queue_put(p->q, b))
			say_dropped();
		return true;
	}
	if (!p->conn) {
		snprintf(err, errlen, "PostgreSQL: no connection (%s)", p->display);
		return false;
	}
	char e[512];
	enum pg_applied r = pg_apply(p->conn, b->buf, b->len, e, sizeof e);
	if (r == PGA_APPLIED || r == PGA_ALREADY)
		return true;
	snprintf(err, errlen, "%s (%s)", e, p->display);
	return false;
}

/* A monitor's batch, appended to its queue entry while it was built: its last part, then the commit (the
 * writer sees it now), unless building failed, when nothing of it stays.  A full queue drops it, counted. */
static bool submit_queued(struct store_pg *p, struct pg_batch *b, bool built, char *err, size_t errlen)
{
	if (!built || (b->failed && !b->drain_failed)) {
		pg_queue_abandon(p->q);
		if (!err[0])
			snprintf(err, errlen, "out of memory building the checkpoint");
		return false;
	}
	pg_queue_append(p->q, b->buf, b->len);   /* a failure is counted at the commit */
	if (!pg_queue_commit(p->q))
		say_dropped();
	return true;
}

/* An import's batch, streamed while it was built (pg_stream_send): its last part, then the commit, unless
 * building failed (built false, or out of memory), when nothing of it is committed. */
static bool submit_stream(struct store_pg *p, struct pg_batch *b, struct pg_stream *stream, bool built,
			  const char *serr, char *err, size_t errlen)
{
	built = built && !b->failed;
	if (built)
		pg_stream_send(stream, b->buf, b->len, false);
	enum pg_applied r = pg_stream_end(stream, built);
	b->drain = NULL;
	if (!built) {
		if (!err[0])
			snprintf(err, errlen, "out of memory building the checkpoint");
		return false;
	}
	if (r == PGA_APPLIED || r == PGA_ALREADY)
		return true;
	snprintf(err, errlen, "%s (%s)", serr, p->display);
	return false;
}

bool store_pg_run_start(struct store_pg *p, const char *iface, int64_t now_us, char *err, size_t errlen)
{
	snprintf(p->run, sizeof p->run, "%" PRIx64 "-%ld", (uint64_t)now_us, (long)getpid());
	p->seq = 0;
	struct pg_batch b;
	pg_batch_init(&b);
	bool ok = pg_rows_run_start(&b, p->sensor, p->run, p->seq++, iface, now_us) && submit(p, &b, err, errlen);
	pg_batch_free(&b);
	if (ok && p->q)
		ok = pg_queue_start(p->q, err, errlen);
	p->run_started = ok;
	return ok;
}

bool store_pg_run_stop(struct store_pg *p, int64_t now_us)
{
	char err[512];
	struct pg_batch b;
	pg_batch_init(&b);
	bool ok = pg_rows_run_stop(&b, p->sensor, p->run, p->seq++, now_us) && submit(p, &b, err, sizeof err);
	pg_batch_free(&b);
	return ok;
}

bool store_pg_checkpoint(struct store_pg *p, const struct store_checkpoint *c, char *err, size_t errlen)
{
	err[0] = '\0';
	if (!p->run[0])   /* an import: a run of its own, one batch */
		snprintf(p->run, sizeof p->run, "import-%" PRIx64 "-%ld", (uint64_t)c->now_us, (long)getpid());
	struct pg_batch b;
	pg_batch_init(&b);
	struct leasebook book = { 0 }, cur = { 0 };
	bool ok = pg_leases_checkpoint(p->q ? NULL : p->conn, p->q ? &p->kept : NULL, c, &book, &cur);
	if (!ok && !err[0]) {
		if (p->conn && !p->q)
			pg_conn_err(p->conn, "cannot read the leases", err, errlen);
		else
			snprintf(err, errlen, "out of memory building the checkpoint");
	}
	if (ok && p->have_next)
		pg_leases_now(&p->next, &book);
	char serr[512] = "";   /* the stream's error, as submit() words it */
	struct pg_stream *stream = NULL;
	if (ok && !p->q && p->conn && !(stream = pg_stream_begin(p->conn, serr, sizeof serr))) {
		snprintf(err, errlen, "%s (%s)", serr, p->display);
		ok = false;
	}
	/* the rows leave memory as they are built: an import's down its pipeline, a monitor's to its queue */
	if (stream) {
		b.drain = drain_stream;
		b.drain_ctx = stream;
	} else if (ok && p->q) {
		pg_queue_begin(p->q);
		b.drain = drain_queue;
		b.drain_ctx = p->q;
	}
	ok = ok && pg_rows_checkpoint(&b, p->sensor, p->run, p->seq++, c, p->run_started, &book, &cur);
	if (b.drain_failed && p->q)
		ok = true;   /* the queue refused a part: the batch is dropped and counted at its commit, as whole */
	leasebook_free(&book);
	leasebook_free(&cur);
	if (!ok && !err[0])
		snprintf(err, errlen, "out of memory building the checkpoint");
	/* the findings' inventory waits for its batch before the batch is queued (the writer may take the
	 * batch at once); a batch not queued takes it back (counted) */
	uint64_t ord = p->q ? pg_queue_next_ord(p->q) : 0;
	bool job = p->have_next && p->q;
	if (p->have_next) {
		if (job && ok)
			pg_events_add(p->ev, ord, &p->next, p->next_now_us, p->next_back_us);
		else
			pg_events_skip(p->ev);
		inventory_free(&p->next);
		p->have_next = false;
	}
	if (stream)
		ok = submit_stream(p, &b, stream, ok, serr, err, errlen);
	else if (b.drain)
		ok = submit_queued(p, &b, ok, err, errlen);
	else
		ok = ok && submit(p, &b, err, errlen);
	pg_batch_free(&b);
	if (job && pg_queue_next_ord(p->q) == ord)
		pg_events_cancel(p->ev, ord);
	if (ok)   /* the events file gets each finished flow as the SQLite store gives it */
		store_hand_flows(c);
	return ok;
}

bool store_pg_imported(struct store_pg *p, const char *digest, int64_t *when_us, char *name, size_t namelen)
{
	if (!p->conn)
		return false;
	const char *v[] = { digest };
	PGresult *r = PQexecParams(p->conn->c, "SELECT imported_us, name, sensor FROM import WHERE sha256=$1", 1, NULL, v,
				   NULL, NULL, 0);
	bool found = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	if (found) {
		*when_us = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		snprintf(name, namelen, "%s by sensor %s", PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
	}
	PQclear(r);
	return found;
}

bool store_pg_load_inventory(struct store_pg *p, const struct store_query *q, struct inventory *inv, char *err,
			     size_t errlen)
{
	if (!p->conn) {
		snprintf(err, errlen, "PostgreSQL: the sensor does not read the shared store at its checkpoints");
		return false;
	}
	return pg_load_inventory(p->conn, p->sensors[0] ? p->sensors : NULL, q, inv, err, errlen);
}

bool store_pg_load(struct store_pg *p, int64_t since_us, struct store_view *v, char *err, size_t errlen)
{
	if (!p->conn) {
		snprintf(err, errlen, "PostgreSQL: no connection (%s)", p->display);
		return false;
	}
	return pg_load_view(p->conn, p->sensors[0] ? p->sensors : NULL, since_us, v, err, errlen);
}

bool store_pg_load_attempts(struct store_pg *p, const struct store_query *q, struct attempts *t, char *err,
			    size_t errlen)
{
	if (!p->conn) {
		snprintf(err, errlen, "PostgreSQL: no connection (%s)", p->display);
		return false;
	}
	return pg_load_attempts(p->conn, p->sensors[0] ? p->sensors : NULL, q, t, err, errlen);
}
