/*
 * store.c - the monitor's SQLite state (see store.h).
 *
 * Data enters through store_checkpoint(): the inventory of the finished
 * flows is merged into the rows with open = 0 (counts add up, first seen is
 * the minimum, last seen the maximum, bit sets are ORed, names are a union),
 * the snapshot of the open flows replaces the rows with open = 1, and the
 * finished flows are inserted as JSON.  Data leaves through store_load(),
 * which sums both kinds of rows per key for the report.  Every statement is
 * prepared; a checkpoint is one transaction.  An import's finished flows
 * may be spooled (spool.h): they are then read back in order, a UTC day's
 * inventory at a time.  Nothing here prints.
 * A --db that names a PostgreSQL database is handed on to store_pg.c at
 * every entry point (store->pg set).
 */
#include "store.h"
#include "store_db.h"
#include "leasebook.h"
#include "store_shared.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "findings.h"
#include "outfile.h"
#include "portmapper.h"
#include "redact.h"
#include "spool.h"
#include "report.h"
#include "tls.h"

#define HOUR_US ((int64_t)3600 * 1000000)


/* ---- schema: one entry per version, applied in order, never edited once shipped ---- */

static const struct migration {
	int version;
	const char *description;
	const char *sql;
} migrations[] = {
	{ 1, "inventory, flow records, counters, capture intervals, runs",
	  "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	  "CREATE TABLE client(ip TEXT NOT NULL, open INTEGER NOT NULL, status INTEGER NOT NULL,"
	  " internal INTEGER NOT NULL, first_us INTEGER NOT NULL, last_us INTEGER NOT NULL,"
	  " first_nonsecure_us INTEGER, last_nonsecure_us INTEGER, findings INTEGER NOT NULL,"
	  " signon_failures INTEGER NOT NULL, PRIMARY KEY(ip, open));"
	  "CREATE TABLE usage(client TEXT NOT NULL, open INTEGER NOT NULL, server TEXT NOT NULL,"
	  " service TEXT NOT NULL, port INTEGER NOT NULL, cls INTEGER NOT NULL, connections INTEGER NOT NULL,"
	  " refused INTEGER NOT NULL, unanswered INTEGER NOT NULL, failed_tls INTEGER NOT NULL,"
	  " cleartext INTEGER NOT NULL, tls INTEGER NOT NULL, tls_versions INTEGER NOT NULL,"
	  " mismatch INTEGER NOT NULL, first_us INTEGER NOT NULL, last_us INTEGER NOT NULL,"
	  " PRIMARY KEY(client, open, server, service, port, cls));"
	  "CREATE TABLE name(client TEXT NOT NULL, open INTEGER NOT NULL, server TEXT NOT NULL,"
	  " service TEXT NOT NULL, port INTEGER NOT NULL, cls INTEGER NOT NULL, kind TEXT NOT NULL,"
	  " name TEXT NOT NULL, PRIMARY KEY(client, open, server, service, port, cls, kind, name));"
	  "CREATE TABLE flow(id INTEGER PRIMARY KEY, start_us INTEGER NOT NULL, end_us INTEGER NOT NULL,"
	  " client TEXT NOT NULL, server TEXT NOT NULL, port INTEGER NOT NULL, service TEXT,"
	  " port_class TEXT NOT NULL, tcp TEXT NOT NULL, transport TEXT NOT NULL, json TEXT NOT NULL);"
	  "CREATE INDEX flow_end ON flow(end_us);"
	  "CREATE INDEX flow_client ON flow(client, start_us);"
	  "CREATE TABLE counter(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	  "CREATE TABLE interval(id INTEGER PRIMARY KEY, iface TEXT, start_us INTEGER NOT NULL,"
	  " end_us INTEGER NOT NULL, packets INTEGER NOT NULL, received INTEGER, dropped_kernel INTEGER,"
	  " dropped_interface INTEGER, flows INTEGER NOT NULL);"
	  "CREATE INDEX interval_start ON interval(start_us);"
	  "CREATE TABLE run(id INTEGER PRIMARY KEY, iface TEXT, started_us INTEGER NOT NULL,"
	  " stopped_us INTEGER, last_checkpoint_us INTEGER);" },
	{ 2, "server certificates, for the certificate-expiring finding",
	  "CREATE TABLE cert(server TEXT NOT NULL, port INTEGER NOT NULL, sha256 TEXT NOT NULL,"
	  " subject TEXT NOT NULL, issuer TEXT NOT NULL, not_after_us INTEGER NOT NULL,"
	  " first_us INTEGER NOT NULL, last_us INTEGER NOT NULL, warned INTEGER NOT NULL DEFAULT 0,"
	  " PRIMARY KEY(server, port, sha256));" },
	{ 3, "packets libpcap received but the monitor did not analyse before it stopped",
	  "ALTER TABLE interval ADD COLUMN not_analysed INTEGER NOT NULL DEFAULT 0;" },
	{ 4, "the whole inventory per UTC day (offers, software, servers, notes, certificates); imports",
	  "CREATE TABLE inv_client(day INTEGER NOT NULL, ip TEXT NOT NULL, open INTEGER NOT NULL, flows INTEGER NOT NULL,"
	  " internal INTEGER NOT NULL, first_us INTEGER NOT NULL, last_us INTEGER NOT NULL,"
	  " first_nonsecure_us INTEGER NOT NULL, last_nonsecure_us INTEGER NOT NULL, findings INTEGER NOT NULL,"
	  " signon_failures INTEGER NOT NULL, nonsecure_lookup INTEGER NOT NULL, offer_tls INTEGER NOT NULL,"
	  " offer_max_version INTEGER NOT NULL, offer_families INTEGER NOT NULL, offer_only_legacy INTEGER NOT NULL,"
	  " offer_negotiated_legacy INTEGER NOT NULL, PRIMARY KEY(day, ip, open));"
	  "CREATE TABLE inv_usage(day INTEGER NOT NULL, client TEXT NOT NULL, open INTEGER NOT NULL,"
	  " server TEXT NOT NULL, service TEXT NOT NULL, port INTEGER NOT NULL, cls INTEGER NOT NULL,"
	  " connections INTEGER NOT NULL, refused INTEGER NOT NULL, unanswered INTEGER NOT NULL,"
	  " attempts INTEGER NOT NULL, failed_tls INTEGER NOT NULL, cleartext INTEGER NOT NULL, tls INTEGER NOT NULL,"
	  " tls_versions INTEGER NOT NULL, mismatch INTEGER NOT NULL, first_us INTEGER NOT NULL, last_us INTEGER NOT NULL,"
	  " PRIMARY KEY(day, client, open, server, service, port, cls));"
	  "CREATE TABLE inv_name(day INTEGER NOT NULL, client TEXT NOT NULL, open INTEGER NOT NULL, server TEXT NOT NULL,"
	  " service TEXT NOT NULL, port INTEGER NOT NULL, cls INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,"
	  " PRIMARY KEY(day, client, open, server, service, port, cls, kind, name)) WITHOUT ROWID;"
	  "CREATE TABLE inv_port(day INTEGER NOT NULL, open INTEGER NOT NULL, server TEXT NOT NULL, port INTEGER NOT NULL,"
	  " service TEXT NOT NULL, cls INTEGER NOT NULL, connections INTEGER NOT NULL, tls_versions INTEGER NOT NULL,"
	  " findings INTEGER NOT NULL, release_vrm INTEGER NOT NULL, PRIMARY KEY(day, open, server, port));"
	  "CREATE TABLE inv_note(day INTEGER NOT NULL, open INTEGER NOT NULL, kind INTEGER NOT NULL, client TEXT NOT NULL,"
	  " server TEXT NOT NULL, port INTEGER NOT NULL, service TEXT NOT NULL, user TEXT NOT NULL, detail TEXT NOT NULL,"
	  " count INTEGER NOT NULL, first_us INTEGER NOT NULL, last_us INTEGER NOT NULL,"
	  " PRIMARY KEY(day, open, kind, client, server, port, service, user, detail));"
	  "CREATE TABLE import(sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, imported_us INTEGER NOT NULL);"
	  "ALTER TABLE cert ADD COLUMN not_before_us INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE cert ADD COLUMN key_type TEXT NOT NULL DEFAULT '';"
	  "ALTER TABLE cert ADD COLUMN key_bits INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE cert ADD COLUMN sig_alg TEXT NOT NULL DEFAULT '';"
	  "ALTER TABLE cert ADD COLUMN self_signed INTEGER NOT NULL DEFAULT 0;"
	  /* what the version 1-3 tables held, carried forward on the day each client was first seen; a client
	   * stored as unknown (0) with nonsecure rows only tried them: its connections were attempts */
	  "INSERT INTO inv_client SELECT first_us / 86400000000, ip, open,"
	  " (SELECT coalesce(sum(connections), 0) FROM usage u WHERE u.client=c.ip AND u.open=c.open), internal,"
	  " first_us, last_us, coalesce(first_nonsecure_us, 0), coalesce(last_nonsecure_us, 0), findings,"
	  " signon_failures, status=2 AND NOT EXISTS(SELECT 1 FROM usage u WHERE u.client=c.ip AND u.open=c.open"
	  " AND u.cls=1), 0, 0, 0, 0, 0 FROM client c;"
	  "INSERT INTO inv_usage SELECT (SELECT c.first_us / 86400000000 FROM client c WHERE c.ip=u.client AND c.open=u.open),"
	  " client, open, server, service, port, cls, connections, refused, unanswered,"
	  " CASE WHEN (SELECT status FROM client c WHERE c.ip=u.client AND c.open=u.open)=0 AND cls=1"
	  " THEN connections ELSE refused + unanswered END, failed_tls, cleartext, tls, tls_versions, mismatch,"
	  " first_us, last_us FROM usage u WHERE EXISTS(SELECT 1 FROM client c WHERE c.ip=u.client AND c.open=u.open);"
	  "INSERT OR IGNORE INTO inv_name SELECT (SELECT c.first_us / 86400000000 FROM client c WHERE c.ip=n.client"
	  " AND c.open=n.open), client, open, server, service, port, cls, kind, name FROM name n"
	  " WHERE EXISTS(SELECT 1 FROM client c WHERE c.ip=n.client AND c.open=n.open);"
	  "DROP TABLE client; DROP TABLE usage; DROP TABLE name;"
	  "CREATE INDEX inv_usage_client ON inv_usage(client);"
	  "CREATE INDEX inv_client_ip ON inv_client(ip);" },
	{ 5, "the clients' host names per UTC day (issue 17: name, source, first and last time, count)",
	  "CREATE TABLE inv_host_name(day INTEGER NOT NULL, client TEXT NOT NULL, source TEXT NOT NULL,"
	  " name TEXT NOT NULL, first_us INTEGER NOT NULL, last_us INTEGER NOT NULL, count INTEGER NOT NULL,"
	  " PRIMARY KEY(day, client, source, name)) WITHOUT ROWID;"
	  "CREATE INDEX inv_host_name_client ON inv_host_name(client);" },
	{ 6, "identity over time (issue 17): the DHCP host of each client row, and the leases that say which",
	  /* every row so far followed its address: host '' */
	  "CREATE TABLE inv_client6(day INTEGER NOT NULL, ip TEXT NOT NULL, open INTEGER NOT NULL, flows INTEGER NOT NULL,"
	  " internal INTEGER NOT NULL, first_us INTEGER NOT NULL, last_us INTEGER NOT NULL,"
	  " first_nonsecure_us INTEGER NOT NULL, last_nonsecure_us INTEGER NOT NULL, findings INTEGER NOT NULL,"
	  " signon_failures INTEGER NOT NULL, nonsecure_lookup INTEGER NOT NULL, offer_tls INTEGER NOT NULL,"
	  " offer_max_version INTEGER NOT NULL, offer_families INTEGER NOT NULL, offer_only_legacy INTEGER NOT NULL,"
	  " offer_negotiated_legacy INTEGER NOT NULL, host TEXT NOT NULL, client_id TEXT NOT NULL,"
	  " PRIMARY KEY(day, ip, open, host));"
	  "INSERT INTO inv_client6 SELECT *, '', '' FROM inv_client;"
	  "DROP TABLE inv_client; ALTER TABLE inv_client6 RENAME TO inv_client;"
	  "CREATE INDEX inv_client_ip ON inv_client(ip);"
	  "CREATE INDEX inv_client_host ON inv_client(host);"
	  "CREATE TABLE inv_usage6(day INTEGER NOT NULL, client TEXT NOT NULL, open INTEGER NOT NULL,"
	  " server TEXT NOT NULL, service TEXT NOT NULL, port INTEGER NOT NULL, cls INTEGER NOT NULL,"
	  " connections INTEGER NOT NULL, refused INTEGER NOT NULL, unanswered INTEGER NOT NULL,"
	  " attempts INTEGER NOT NULL, failed_tls INTEGER NOT NULL, cleartext INTEGER NOT NULL, tls INTEGER NOT NULL,"
	  " tls_versions INTEGER NOT NULL, mismatch INTEGER NOT NULL, first_us INTEGER NOT NULL, last_us INTEGER NOT NULL,"
	  " host TEXT NOT NULL, PRIMARY KEY(day, client, open, server, service, port, cls, host));"
	  "INSERT INTO inv_usage6 SELECT *, '' FROM inv_usage;"
	  "DROP TABLE inv_usage; ALTER TABLE inv_usage6 RENAME TO inv_usage;"
	  "CREATE INDEX inv_usage_client ON inv_usage(client);"
	  "CREATE TABLE inv_name6(day INTEGER NOT NULL, client TEXT NOT NULL, open INTEGER NOT NULL, server TEXT NOT NULL,"
	  " service TEXT NOT NULL, port INTEGER NOT NULL, cls INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,"
	  " host TEXT NOT NULL, PRIMARY KEY(day, client, open, server, service, port, cls, kind, name, host)) WITHOUT ROWID;"
	  "INSERT INTO inv_name6 SELECT *, '' FROM inv_name;"
	  "DROP TABLE inv_name; ALTER TABLE inv_name6 RENAME TO inv_name;"
	  "CREATE TABLE inv_host_name6(day INTEGER NOT NULL, client TEXT NOT NULL, source TEXT NOT NULL,"
	  " name TEXT NOT NULL, first_us INTEGER NOT NULL, last_us INTEGER NOT NULL, count INTEGER NOT NULL,"
	  " host TEXT NOT NULL, PRIMARY KEY(day, client, host, source, name));"   /* a rowid table: SQLite 3.40's quick_check
	  misreads a WITHOUT ROWID table whose key takes a column after others */
	  "INSERT INTO inv_host_name6 SELECT *, '' FROM inv_host_name;"
	  "DROP TABLE inv_host_name; ALTER TABLE inv_host_name6 RENAME TO inv_host_name;"
	  "CREATE INDEX inv_host_name_client ON inv_host_name(client);"
	  "CREATE TABLE inv_lease(host TEXT NOT NULL, ip TEXT NOT NULL, start_us INTEGER NOT NULL, end_us INTEGER NOT NULL,"
	  " client_id TEXT NOT NULL, PRIMARY KEY(host, ip, start_us)) WITHOUT ROWID;"
	  "CREATE INDEX inv_lease_end ON inv_lease(end_us);" },
	{ 7, "attempt-only connections past --max-attempts, folded per UTC day, server, port and TCP outcome",
	  /* server '': the groups that did not fit in a checkpoint's table; sources: 1,024 HyperLogLog registers */
	  "CREATE TABLE attempt_group(day INTEGER NOT NULL, server TEXT NOT NULL, port INTEGER NOT NULL,"
	  " tcp INTEGER NOT NULL, connections INTEGER NOT NULL, first_us INTEGER NOT NULL, last_us INTEGER NOT NULL,"
	  " sources BLOB NOT NULL, max_attempts INTEGER NOT NULL, PRIMARY KEY(day, server, port, tcp));" },
};
#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])

/* ---- the backend: a file, or the shared store ---- */

static struct store_config config;

void store_configure(const struct store_config *c)
{
	config = *c;
}

bool store_sensor_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n < 1 || n > 63)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '_' || *p == '-'))
			return false;
	return true;
}

bool store_is_shared(const char *db)
{
	return db && store_pg_is_conninfo(db);
}

const char *store_display(const char *db, char *buf, size_t len)
{
	if (!store_is_shared(db))
		return db;
	store_pg_display(db, buf, len);
	return buf;
}

bool store_reads_in_loop(const struct store *s)
{
	return !s->pg;
}

uint64_t store_dropped_checkpoints(struct store *s)
{
	return s && s->pg ? store_pg_dropped(s->pg) : 0;
}

void store_findings_next(struct store *s, struct inventory *now, int64_t now_us, int64_t back_after_us)
{
	if (s->pg)
		store_pg_findings_next(s->pg, now, now_us, back_after_us);
	else if (now)
		inventory_free(now);
}

size_t store_findings_take(struct store *s, struct event_finding **out)
{
	*out = NULL;
	return s && s->pg ? store_pg_findings_take(s->pg, out) : 0;
}

uint64_t store_findings_skipped(struct store *s)
{
	return s && s->pg ? store_pg_findings_skipped(s->pg) : 0;
}

bool store_flush(struct store *s, int timeout_ms)
{
	return !s || !s->pg || store_pg_flush(s->pg, timeout_ms);
}

static struct store *open_shared(const char *db, enum store_mode mode, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->fd = s->lock_fd = s->side_fd[0] = s->side_fd[1] = -1;
	if (!(s->pg = store_pg_open(db, mode == STORE_WRITE, &config, err, errlen))) {
		free(s);
		return NULL;
	}
	return s;
}

/* ---- small helpers ---- */

void store_seterr(char *err, size_t errlen, const struct store *s, const char *what)
{
	int rc = sqlite3_errcode(s->db);
	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
		snprintf(err, errlen, "%s: damaged state file (%s)", s->path, sqlite3_errmsg(s->db));
	else
		snprintf(err, errlen, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

bool store_exec(struct store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return true;
	snprintf(err, errlen, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return false;
}

sqlite3_stmt *store_prep(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		return NULL;
	return st;
}

static int64_t pragma_int(struct store *s, const char *sql, int *rc)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;
	*rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (*rc == SQLITE_OK) {
		*rc = sqlite3_step(st);
		if (*rc == SQLITE_ROW) {
			v = sqlite3_column_int64(st, 0);
			*rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return v;
}

/* bitor(x): the OR of a column, for the bit sets (TLS versions, findings) */
static void bitor_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int64_t *acc = sqlite3_aggregate_context(ctx, sizeof *acc);
	if (acc && argc == 1 && sqlite3_value_type(argv[0]) != SQLITE_NULL)
		*acc |= sqlite3_value_int64(argv[0]);
}

static void bitor_final(sqlite3_context *ctx)
{
	int64_t *acc = sqlite3_aggregate_context(ctx, 0);
	sqlite3_result_int64(ctx, acc ? *acc : 0);
}

/* ---- open, check, migrate ---- */

static bool migrate(struct store *s, int from, int to, int64_t now_us, char *err, size_t errlen)
{
	for (size_t i = 0; i < N_MIGRATIONS; i++) {
		const struct migration *m = &migrations[i];
		if (m->version <= from || m->version > to)
			continue;
		char sql[512];
		if (!store_exec(s, "BEGIN IMMEDIATE", err, errlen))
			return false;
		bool ok = store_exec(s, m->sql, err, errlen);
		if (ok && m->version == 1) {
			snprintf(sql, sizeof sql,
				 "CREATE TABLE IF NOT EXISTS migrations(version INTEGER PRIMARY KEY, applied_us INTEGER NOT NULL,"
				 " description TEXT NOT NULL);"
				 "INSERT INTO meta VALUES('format','tlsready-state'),('created_us','%" PRId64 "');"
				 "PRAGMA application_id=%d;", now_us, STORE_APPLICATION_ID);
			ok = store_exec(s, sql, err, errlen);
		}
		if (ok) {
			sqlite3_stmt *st = NULL;
			ok = sqlite3_prepare_v2(s->db, "INSERT INTO migrations VALUES(?,?,?)", -1, &st, NULL) == SQLITE_OK;
			if (ok) {
				sqlite3_bind_int(st, 1, m->version);
				sqlite3_bind_int64(st, 2, now_us);
				sqlite3_bind_text(st, 3, m->description, -1, SQLITE_STATIC);
				ok = sqlite3_step(st) == SQLITE_DONE;
			}
			sqlite3_finalize(st);
			if (!ok)
				store_seterr(err, errlen, s, "migration");
		}
		snprintf(sql, sizeof sql, "PRAGMA user_version=%d", m->version);
		if (ok)
			ok = store_exec(s, sql, err, errlen);
		if (!ok || !store_exec(s, "COMMIT", err, errlen)) {
			char ignore[8];
			store_exec(s, "ROLLBACK", ignore, sizeof ignore);
			return false;
		}
	}
	return true;
}

static bool is_ours(struct store *s, char *err, size_t errlen, bool *fresh)
{
	int rc;
	int64_t app = pragma_int(s, "PRAGMA application_id", &rc);
	if (rc == SQLITE_NOTADB) {
		snprintf(err, errlen, "%s: not a tlsready state file (not an SQLite database)", s->path);
		return false;
	}
	if (rc == SQLITE_CORRUPT) {
		snprintf(err, errlen, "%s: damaged state file (%s)", s->path, sqlite3_errmsg(s->db));
		return false;
	}
	if (rc != SQLITE_OK) {
		store_seterr(err, errlen, s, "cannot read");
		return false;
	}
	int64_t tables = pragma_int(s, "SELECT count(*) FROM sqlite_master", &rc);
	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) {
		snprintf(err, errlen, "%s: damaged state file (%s)", s->path, sqlite3_errmsg(s->db));
		return false;
	}
	*fresh = app == 0 && tables == 0;
	if (*fresh)
		return true;
	if (app != STORE_APPLICATION_ID) {
		snprintf(err, errlen, "%s: not a tlsready state file (an SQLite database of another application)",
			 s->path);
		return false;
	}
	int64_t marker = pragma_int(s, "SELECT count(*) FROM meta WHERE key='format' AND value='tlsready-state'", &rc);
	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) {
		snprintf(err, errlen, "%s: damaged state file (%s)", s->path, sqlite3_errmsg(s->db));
		return false;
	}
	if (rc != SQLITE_OK || marker != 1) {
		snprintf(err, errlen, "%s: not a tlsready state file (no tlsready marker)", s->path);
		return false;
	}
	return true;
}

static bool quick_check(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
	const char *res = NULL;
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		res = (const char *)sqlite3_column_text(st, 0);
	bool ok = res && strcmp(res, "ok") == 0;
	if (!ok) {
		snprintf(err, errlen, "%s: damaged state file (quick_check: %s)", s->path,
			 res ? res : sqlite3_errmsg(s->db));
		for (char *p = err; *p; p++)   /* one line */
			if (*p == '\n')
				*p = ' ';
	}
	sqlite3_finalize(st);
	return ok;
}

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void close_fds(struct store *s)
{
	int *fds[] = { &s->side_fd[0], &s->side_fd[1], &s->fd, &s->lock_fd };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static void fail_why(enum store_failure *why, enum outfile_result r)
{
	if (why && r == OUTFILE_UNSAFE)
		*why = STORE_FAIL_UNSAFE;
}

/*
 * The writer's files, before SQLite sees them: take the lock (FILE.lock,
 * flock, held until store_close) so that a second monitor is refused before it
 * touches anything; open the state itself (created 0600 with O_EXCL, or an
 * existing regular file with one link; never through a link) and keep that
 * descriptor for fchown; refuse a -wal or -shm that is a link.  SQLite then
 * opens the path with SQLITE_OPEN_NOFOLLOW, creates its -wal and -shm with the
 * state's mode (0600) and opens them with O_NOFOLLOW itself.
 */
static bool open_writer_files(struct store *s, char *err, size_t errlen, enum store_failure *why)
{
	char p[4096], why_s[600];
	snprintf(p, sizeof p, "%s.lock", s->path);
	enum outfile_result r = outfile_open(p, OUTFILE_RDWR, 0600, &s->lock_fd, NULL, why_s, sizeof why_s);
	if (r != OUTFILE_OK) {
		fail_why(why, r);
		snprintf(err, errlen, "lock file %s", why_s);
		return false;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK) {
			snprintf(err, errlen, "%s.lock: cannot lock: %s", s->path, strerror(errno));
			return false;
		}
		char pid[24] = "";
		ssize_t n = pread(s->lock_fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (why)
			*why = STORE_FAIL_LOCKED;
		snprintf(err, errlen, "%s: in use by another tlsready monitor%s%s%s (lock %s.lock); not started", s->path,
			 pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "", s->path);
		return false;
	}
	char pid[24];
	int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	/* the pid is only for the message of a second monitor: a failure to write it does not matter */
	if (ftruncate(s->lock_fd, 0) == 0 && pwrite(s->lock_fd, pid, (size_t)len, 0) != len)
		pid[0] = '\0';
	r = outfile_open(s->path, OUTFILE_RDWR, 0600, &s->fd, NULL, why_s, sizeof why_s);
	if (r != OUTFILE_OK) {
		fail_why(why, r);
		snprintf(err, errlen, "state file %s", why_s);
		return false;
	}
	static const char *const suffix[] = { "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		snprintf(p, sizeof p, "%s%s", s->path, suffix[i]);
		if (outfile_path_unsafe(p, why_s, sizeof why_s)) {
			fail_why(why, OUTFILE_UNSAFE);
			snprintf(err, errlen, "state file %s", why_s);
			return false;
		}
	}
	return true;
}

static struct store *open_db(const char *path, enum store_mode mode, char *err, size_t errlen,
			     enum store_failure *why)
{
	struct store *s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(path))) {
		free(s);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	s->fd = s->lock_fd = s->side_fd[0] = s->side_fd[1] = -1;
	struct stat sb;
	if (mode == STORE_READ && stat(path, &sb) != 0) {
		snprintf(err, errlen, "%s: cannot open state file: %s", path, strerror(errno));
		free(s->path);
		free(s);
		return NULL;
	}
	s->writable = mode == STORE_WRITE;
	if (s->writable && !open_writer_files(s, err, errlen, why)) {
		store_close(s);
		return NULL;
	}
	int flags = s->writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW : SQLITE_OPEN_READONLY;
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open state file: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_close(s);
		return NULL;
	}
	struct stat ours, theirs;   /* SQLite opened the file we checked, not one swapped in since */
	if (s->writable && (fstat(s->fd, &ours) != 0 || lstat(path, &theirs) != 0 || ours.st_dev != theirs.st_dev ||
			    ours.st_ino != theirs.st_ino)) {
		if (why)
			*why = STORE_FAIL_UNSAFE;
		snprintf(err, errlen, "state file %s: replaced while it was being opened; refusing it", path);
		store_close(s);
		return NULL;
	}
	sqlite3_extended_result_codes(s->db, 0);
	sqlite3_busy_timeout(s->db, 5000);
	sqlite3_create_function(s->db, "bitor", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, NULL, bitor_step,
				bitor_final);
	store_attempts_register(s->db);
	return s;
}

struct store *store_open(const char *path, enum store_mode mode, char *err, size_t errlen)
{
	return store_open_why(path, mode, err, errlen, NULL);
}

struct store *store_open_why(const char *path, enum store_mode mode, char *err, size_t errlen,
			     enum store_failure *why)
{
	if (store_is_shared(path)) {
		if (why)
			*why = STORE_FAIL_OTHER;
		return open_shared(path, mode, err, errlen);
	}
	if (why)
		*why = STORE_FAIL_OTHER;
	struct store *s = open_db(path, mode, err, errlen, why);
	bool fresh = false;
	if (!s)
		return NULL;
	if (!is_ours(s, err, errlen, &fresh))
		goto fail;
	if (fresh && mode == STORE_READ) {
		snprintf(err, errlen, "%s: not a tlsready state file (empty)", path);
		goto fail;
	}
	if (mode == STORE_WRITE && !fresh && !quick_check(s, err, errlen))
		goto fail;
	int rc;
	int version = (int)pragma_int(s, "PRAGMA user_version", &rc);
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: written by a newer tlsready (schema %d; this one knows up to %d)", path,
			 version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version < STORE_SCHEMA_VERSION && mode == STORE_READ) {
		snprintf(err, errlen, "%s: schema %d is older than %d: start the monitor once to migrate it", path,
			 version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (mode == STORE_WRITE) {
		if (!store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", err, errlen))
			goto fail;
		if (!migrate(s, version, STORE_SCHEMA_VERSION, wall_us(), err, errlen))
			goto fail;
	}
	return s;
fail:
	store_close(s);
	return NULL;
}

bool store_create_at_version(const char *path, int version, char *err, size_t errlen)
{
	struct store *s = open_db(path, STORE_WRITE, err, errlen, NULL);
	if (!s)
		return false;
	bool ok = store_exec(s, "PRAGMA journal_mode=WAL", err, errlen) && migrate(s, 0, version, wall_us(), err, errlen);
	store_close(s);
	return ok;
}

int store_user_version(struct store *s)
{
	if (s->pg)
		return store_pg_version(s->pg);
	int rc;
	return (int)pragma_int(s, "PRAGMA user_version", &rc);
}

void store_close(struct store *s)
{
	if (s && s->pg) {
		store_pg_close(s->pg);
		free(s);
		return;
	}
	if (!s)
		return;
	if (s->db) {
		if (s->writable)
			sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		sqlite3_close_v2(s->db);
	}
	/* only now: closing a descriptor of the file would drop SQLite's POSIX locks on it */
	close_fds(s);
	free(s->path);
	free(s);
}

bool store_chown(struct store *s, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	if (s->pg)
		return store_pg_chown(s->pg, uid, gid, err, errlen);
	/* through descriptors opened with O_NOFOLLOW and checked (outfile.c), never by path;
	 * the -wal and -shm descriptors stay open until store_close (see there) */
	static const char *const suffix[] = { "-wal", "-shm" };
	char p[4096], why[600];
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof p, "%s%s", s->path, suffix[i]);
		if (s->side_fd[i] < 0 && outfile_open_existing(p, &s->side_fd[i], why, sizeof why) != OUTFILE_OK) {
			snprintf(err, errlen, "state file %s", why);
			return false;
		}
	}
	int fds[] = { s->fd, s->side_fd[0], s->side_fd[1], s->lock_fd };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0 && fchown(fds[i], uid, gid) != 0) {
			snprintf(err, errlen, "%s%s: cannot give it to uid %u: %s", s->path,
				 i == 0 ? "" : i == 3 ? ".lock" : suffix[i - 1], (unsigned)uid, strerror(errno));
			return false;
		}
	return true;
}

/* ---- runs ---- */

bool store_run_start(struct store *s, const char *iface, int64_t now_us, char *err, size_t errlen)
{
	if (s->pg)
		return store_pg_run_start(s->pg, iface, now_us, err, errlen);
	err[0] = '\0';
	static const char runs[] =
		"INSERT INTO counter VALUES('unclean_stops', (SELECT count(*) FROM run WHERE stopped_us IS NULL))"
		" ON CONFLICT(name) DO UPDATE SET value=value+excluded.value;"
		"UPDATE run SET stopped_us=last_checkpoint_us WHERE stopped_us IS NULL;";
	if (!store_exec(s, "BEGIN IMMEDIATE", err, errlen))
		return false;
	bool ok = store_exec(s, store_fold_open_sql, err, errlen) && store_exec(s, store_drop_open_sql, err, errlen) &&
		  store_exec(s, runs, err, errlen);
	sqlite3_stmt *st = ok ? store_prep(s, "INSERT INTO run(iface, started_us, last_checkpoint_us) VALUES(?,?,?)") : NULL;
	if (st) {
		sqlite3_bind_text(st, 1, iface, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now_us);
		sqlite3_bind_int64(st, 3, now_us);
		ok = sqlite3_step(st) == SQLITE_DONE;
		s->run_id = sqlite3_last_insert_rowid(s->db);
	} else if (ok) {
		ok = false;
	}
	sqlite3_finalize(st);
	if (!ok) {
		char ignore[8];
		if (!err[0])
			store_seterr(err, errlen, s, "run");
		store_exec(s, "ROLLBACK", ignore, sizeof ignore);
		return false;
	}
	return store_exec(s, "COMMIT", err, errlen);
}

bool store_run_stop(struct store *s, int64_t now_us)
{
	if (s->pg)
		return store_pg_run_stop(s->pg, now_us);
	sqlite3_stmt *st = store_prep(s, "UPDATE run SET stopped_us=? WHERE id=?");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, now_us);
	sqlite3_bind_int64(st, 2, s->run_id);
	bool ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok;
}

/* ---- checkpoint ---- */

bool store_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE;
}

/* One day's rows of a spooled analysis (an import too big to hold), built as its records are read. */
static bool put_day_built(struct store *s, struct inv_builder *b, int64_t day, bool open,
			  const struct store_checkpoint *c, const struct leasebook *book)
{
	struct inventory inv;
	if (!inv_builder_finish(b, &inv))
		return false;
	if (c->redact)
		redact_inventory(&inv, c->redact_key);
	bool ok = store_put_inventory(s, &inv, day, open, book);
	inventory_free(&inv);
	return ok;
}

/* The days of a spooled analysis: one pass over its records, a day's builder at a time, so memory holds
 * one day's inventory, not the records. */
static bool put_days_spooled(struct store *s, const struct analysis *a, bool open, const struct store_checkpoint *c,
			     const struct leasebook *book)
{
	struct record_iter it;
	bool ok = analysis_iter_start(a, &it);
	struct inv_builder *b = NULL;
	int64_t day = 0;
	const struct flow_record *r;
	size_t i;
	while (ok && (r = analysis_iter_next(&it, &i))) {
		int64_t d = store_day(r->start_us);
		if (b && d != day) {
			ok = put_day_built(s, b, day, open, c, book);
			b = NULL;
		}
		if (ok && !b && !(ok = (b = inv_builder_new(a, NULL, true, a->spool->budget)) != NULL))
			break;
		day = d;
		ok = ok && inv_builder_add(b, r, i, leasebook_host_at(book, &r->cli, r->start_us));
	}
	analysis_iter_end(&it);
	ok = ok && !analysis_error(a);
	if (ok && b)
		return put_day_built(s, b, day, open, c, book);
	inv_builder_abandon(b);
	return ok;
}

/* Each UTC day of the analysis [records sorted by first packet] rolled up and merged into that day's rows:
 * a row per address, or per (DHCP host, address) where the book's leases say which host held the address
 * when the connection started. */
static bool put_days(struct store *s, const struct analysis *a, bool open, const struct store_checkpoint *c,
		     const struct leasebook *book)
{
	if (a->spool)
		return put_days_spooled(s, a, open, c, book);
	size_t from = 0;
	int32_t *hosts = malloc((a->n_records ? a->n_records : 1) * sizeof *hosts);
	if (!hosts)
		return false;
	for (size_t i = 0; i < a->n_records; i++)
		hosts[i] = leasebook_host_at(book, &a->records[i]->cli, a->records[i]->start_us);
	bool ok = true;
	while (ok && from < a->n_records) {
		int64_t day = store_day(a->records[from]->start_us);
		size_t to = from + 1;
		while (to < a->n_records && store_day(a->records[to]->start_us) == day)
			to++;
		struct inventory inv;
		if (!inventory_build_hosts(&inv, a, from, to, hosts + from)) {
			ok = false;
			break;
		}
		if (c->redact)
			redact_inventory(&inv, c->redact_key);
		ok = store_put_inventory(s, &inv, day, open, book);
		inventory_free(&inv);
		from = to;
	}
	free(hosts);
	return ok;
}

char *store_flow_json(const struct store_checkpoint *c, const struct flow_record *r, size_t i)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	struct report_ctx rc = { .out = f, .a = c->done, .redact = c->redact, .redact_key = c->redact_key };
	json_flow(&rc, f, r, i);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

bool store_each_flow(const struct store_checkpoint *c, store_record_fn fn, void *ctx)
{
	struct record_iter it;
	bool ok = analysis_iter_start(c->done, &it);
	const struct flow_record *r;
	size_t i;
	while (ok && (r = analysis_iter_next(&it, &i)))
		ok = fn(ctx, r, i);
	analysis_iter_end(&it);
	return ok && !analysis_error(c->done);
}

struct flow_put {
	const struct store_checkpoint *c;
	sqlite3_stmt *st;
};

static bool put_flow(void *ctx, const struct flow_record *r, size_t i)
{
	struct flow_put *w = ctx;
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	char *js = store_flow_json(w->c, r, i);
	if (!js)
		return false;
	sqlite3_stmt *st = w->st;
	sqlite3_bind_int64(st, 1, r->start_us);
	sqlite3_bind_int64(st, 2, r->end_us);
	sqlite3_bind_text(st, 3, addr_str(&r->cli, a), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, addr_str(&r->srv, b), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, r->sport);
	if (r->service)
		sqlite3_bind_text(st, 6, r->service, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, port_class_name(r->cls), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, tcp_outcome_name(r->tcp), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, transport_name(r->transport), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, js, -1, free);
	return store_step_done(st);
}

static bool put_flows(struct store *s, const struct store_checkpoint *c)
{
	struct flow_put w = { c, store_prep(s, "INSERT INTO flow(start_us, end_us, client, server, port, service,"
					  " port_class, tcp, transport, json) VALUES(?,?,?,?,?,?,?,?,?,?)") };
	bool ok = w.st != NULL && store_each_flow(c, put_flow, &w);
	sqlite3_finalize(w.st);
	return ok;
}

static bool hand_flow(void *ctx, const struct flow_record *r, size_t i)
{
	const struct store_checkpoint *c = ctx;
	char *js = store_flow_json(c, r, i);
	if (js)
		c->on_flow(c->ctx, js);
	free(js);
	return true;
}

void store_hand_flows(const struct store_checkpoint *c)
{
	if (c->on_flow)
		store_each_flow(c, hand_flow, (void *)c);
}

/* ---- counters: the registry's, by the names of the JSON report, kept cumulatively ---- */

void store_totals_of(struct store_totals *t, const struct analysis *a)
{
	memcpy(t->counters, a->counters, sizeof t->counters);
	t->n_counters = a->n_counters;
	t->packets = a->packets;
	t->bytes = a->bytes;
	t->tcp_packets = a->tcp_packets;
}

static bool add_counter(sqlite3_stmt *st, const char *name, uint64_t delta)
{
	if (!delta)
		return true;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (int64_t)delta);
	return store_step_done(st);
}

static bool put_counters(struct store *s, const struct store_checkpoint *c)
{
	static const struct store_totals zero;
	const struct store_totals *p = c->prev ? c->prev : &zero;
	const struct analysis *a = c->done;
	sqlite3_stmt *st = store_prep(s, "INSERT INTO counter VALUES(?1, ?2) ON CONFLICT(name) DO UPDATE SET value=value+?2");
	bool ok = st != NULL && add_counter(st, "packets", a->packets - p->packets) &&
		  add_counter(st, "bytes", a->bytes - p->bytes) &&
		  add_counter(st, "tcp_packets", a->tcp_packets - p->tcp_packets);
	for (size_t i = 0; ok && i < a->n_counters; i++) {
		char name[96];
		const struct counter *k = &a->counters[i];
		snprintf(name, sizeof name, "%s%s%s", k->group ? k->group : "", k->group ? "." : "", k->name);
		ok = add_counter(st, name, k->value - (i < p->n_counters ? p->counters[i].value : 0));
	}
	if (ok)
		ok = add_counter(st, "checkpoints", 1) && add_counter(st, "pcap_received", c->received) &&
		     add_counter(st, "pcap_dropped_kernel", c->dropped_kernel) &&
		     add_counter(st, "pcap_dropped_interface", c->dropped_interface) &&
		     add_counter(st, "pcap_not_analysed_at_stop", c->not_analysed) &&
		     add_counter(st, "intervals_with_drops", c->dropped_kernel + c->dropped_interface ? 1 : 0);
	sqlite3_finalize(st);
	return ok;
}

static bool put_interval(struct store *s, const struct store_checkpoint *c)
{
	sqlite3_stmt *st = store_prep(s, "INSERT INTO interval(iface, start_us, end_us, packets, received, dropped_kernel,"
				      " dropped_interface, flows, not_analysed) VALUES(?,?,?,?,?,?,?,?,?)");
	if (!st)
		return false;
	uint64_t pk = c->done->packets - (c->prev ? c->prev->packets : 0);
	if (c->iface)
		sqlite3_bind_text(st, 1, c->iface, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, c->start_us);
	sqlite3_bind_int64(st, 3, c->end_us);
	sqlite3_bind_int64(st, 4, (int64_t)pk);
	if (c->have_pcap_stats) {
		sqlite3_bind_int64(st, 5, (int64_t)c->received);
		sqlite3_bind_int64(st, 6, (int64_t)c->dropped_kernel);
		sqlite3_bind_int64(st, 7, (int64_t)c->dropped_interface);
	}
	sqlite3_bind_int64(st, 8, (int64_t)c->done->n_records);
	sqlite3_bind_int64(st, 9, (int64_t)c->not_analysed);
	bool ok = store_step_done(st);
	sqlite3_finalize(st);
	if (ok && (st = store_prep(s, "UPDATE run SET last_checkpoint_us=? WHERE id=?"))) {
		sqlite3_bind_int64(st, 1, c->now_us);
		sqlite3_bind_int64(st, 2, s->run_id);
		ok = store_step_done(st);
		sqlite3_finalize(st);
	}
	return ok;
}

static bool put_import(struct store *s, const struct store_checkpoint *c)
{
	if (!c->n_imports)
		return true;
	sqlite3_stmt *st = store_prep(s, "INSERT INTO import(sha256, name, imported_us) VALUES(?,?,?)");
	bool ok = st != NULL;
	for (size_t i = 0; ok && i < c->n_imports; i++) {
		sqlite3_bind_text(st, 1, c->import_digests[i], -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, c->import_names[i], -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, c->now_us);
		ok = store_step_done(st);
	}
	sqlite3_finalize(st);
	return ok;
}

bool store_imported(struct store *s, const char *digest, int64_t *when_us, char *name, size_t namelen)
{
	if (s->pg)
		return store_pg_imported(s->pg, digest, when_us, name, namelen);
	sqlite3_stmt *st = store_prep(s, "SELECT imported_us, name FROM import WHERE sha256=?");
	bool found = false;
	if (st) {
		sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) {
			found = true;
			*when_us = sqlite3_column_int64(st, 0);
			const unsigned char *t = sqlite3_column_text(st, 1);
			snprintf(name, namelen, "%s", t ? (const char *)t : "");
		}
	}
	sqlite3_finalize(st);
	return found;
}

/* --retain: flow records and capture intervals older than the window go. */
static bool prune(struct store *s, const struct store_checkpoint *c)
{
	/* the inventory stays: it is the summary the report and the period comparison read */
	static const char *const sql[] = { "DELETE FROM flow WHERE end_us < ?1", "DELETE FROM interval WHERE end_us < ?1",
					   "DELETE FROM inv_lease WHERE end_us < ?1" };   /* a lease over: no longer names anyone */
	bool ok = true;
	for (size_t i = 0; ok && c->retain_us > 0 && i < sizeof sql / sizeof sql[0]; i++) {
		sqlite3_stmt *st = store_prep(s, sql[i]);
		if (!st)
			return false;
		int64_t cut = c->now_us - c->retain_us;
		sqlite3_bind_int64(st, 1, cut);
		ok = store_step_done(st);
		sqlite3_finalize(st);
	}
	return ok;
}

static bool ckpt_body(struct store *s, const struct store_checkpoint *c, char *err, size_t errlen)
{
	/* the leases kept and this checkpoint's say who the clients are; the finished flows merge into their
	 * days; the snapshot of the open ones replaces the last */
	struct leasebook book = { 0 };
	bool ok = store_put_leases(s, c, &book) && put_days(s, c->done, false, c, &book) &&
		  store_exec(s, store_drop_open_sql, err, errlen) && (!c->open || put_days(s, c->open, true, c, &book)) &&
		  store_put_host_names(s, c, &book) && put_flows(s, c) && store_put_attempts(s, c) &&
		  put_counters(s, c) && put_interval(s, c) &&
		  put_import(s, c) && prune(s, c);
	leasebook_free(&book);
	return ok;
}

bool store_lease_book(struct store *s, const struct store_checkpoint *c, struct leasebook *book)
{
	bool ok = true;
	if (!s->pg) {   /* one read transaction, as a report's */
		char ignore[8];
		ok = store_exec(s, "BEGIN", ignore, sizeof ignore) && store_read_leases(s, c, book);
		store_exec(s, "COMMIT", ignore, sizeof ignore);
	}
	ok = ok && leasebook_add_names(book, c->done->names, c->redact, c->redact_key);
	leasebook_prepare(book);
	return ok;
}

bool store_checkpoint(struct store *s, const struct store_checkpoint *c, char *err, size_t errlen)
{
	if (s->pg)
		return store_pg_checkpoint(s->pg, c, err, errlen);
	err[0] = '\0';
	bool ok = store_exec(s, "BEGIN IMMEDIATE", err, errlen);
	if (ok && !(ok = ckpt_body(s, c, err, errlen)) && !err[0])
		store_seterr(err, errlen, s, "checkpoint");
	if (ok)
		ok = store_exec(s, "COMMIT", err, errlen);
	if (!ok) {
		char ignore[8];
		store_exec(s, "ROLLBACK", ignore, sizeof ignore);
	}
	if (ok)
		store_hand_flows(c);
	return ok;
}

bool store_load_inventory(struct store *s, const struct store_query *q, struct inventory *inv, char *err,
			  size_t errlen)
{
	if (s->pg)
		return store_pg_load_inventory(s->pg, q, inv, err, errlen);
	/* one read transaction: a consistent picture while the monitor writes */
	bool ok = store_exec(s, "BEGIN", err, errlen);
	if (ok && !(ok = store_load_rows(s, q, inv)))
		store_seterr(err, errlen, s, "cannot read");
	char ignore[8];
	store_exec(s, "COMMIT", ignore, sizeof ignore);
	return ok;
}

bool store_query_of_clients(struct store_query *q, const struct inventory *now)
{
	memset(q, 0, sizeof *q);
	size_t n_ips = 0, n_hosts = 0;
	for (size_t c = 0; c < now->n_clients; c++) {
		n_ips += now->clients[c].n_addrs ? (size_t)now->clients[c].n_addrs : 1;
		n_hosts += inv_client_hw(&now->clients[c])[0] != '\0';
	}
	struct addr *ips = malloc((n_ips ? n_ips : 1) * sizeof *ips);
	const char **keys = malloc((n_hosts ? n_hosts : 1) * sizeof *keys);
	if (!ips || !keys) {
		free(ips);
		free(keys);
		return false;
	}
	n_ips = n_hosts = 0;
	for (size_t c = 0; c < now->n_clients; c++) {
		const struct inv_client *x = &now->clients[c];
		for (int k = 0; k < x->n_addrs; k++)
			ips[n_ips++] = x->addrs[k];
		if (!x->n_addrs)
			ips[n_ips++] = x->ip;
		if (inv_client_hw(x)[0])
			keys[n_hosts++] = inv_client_hw(x);
	}
	q->only = ips;
	q->n_only = n_ips;
	q->only_hosts = keys;
	q->n_only_hosts = n_hosts;
	return true;
}

void store_query_free(struct store_query *q)
{
	free((void *)q->only);
	free((void *)q->only_hosts);
	q->only = NULL;
	q->only_hosts = NULL;
	q->n_only = q->n_only_hosts = 0;
}

/* ---- load, for the report ---- */

static void col_text(sqlite3_stmt *st, int i, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, len, "%s", t ? (const char *)t : "");
}

static bool load_counters(struct store *s, struct store_view *v)
{
	sqlite3_stmt *st = store_prep(s, "SELECT name, value FROM counter ORDER BY name");
	int rc = SQLITE_ERROR;
	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sv_counter *n = realloc(v->counters, (v->n_counters + 1) * sizeof *n);
		if (!n)
			break;
		v->counters = n;
		col_text(st, 0, n[v->n_counters].name, sizeof n->name);
		n[v->n_counters++].value = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE;
}

uint64_t store_view_counter(const struct store_view *v, const char *name)
{
	for (size_t i = 0; i < v->n_counters; i++)
		if (strcmp(v->counters[i].name, name) == 0)
			return v->counters[i].value;
	return 0;
}

static bool load_health(struct store *s, int64_t since_us, struct sv_health *h)
{
	sqlite3_stmt *st = store_prep(s, "SELECT count(*), sum(dropped_kernel + dropped_interface > 0), sum(packets),"
				   " sum(received), sum(dropped_kernel), sum(dropped_interface), sum(not_analysed),"
				   " min(start_us), max(end_us), sum(end_us - start_us) FROM interval WHERE end_us >= ?");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, since_us);
	bool ok = sqlite3_step(st) == SQLITE_ROW;
	if (ok) {
		uint64_t *f[] = { &h->intervals, &h->intervals_with_drops, &h->packets, &h->received, &h->dropped_kernel,
				  &h->dropped_interface, &h->not_analysed };
		for (int i = 0; i < 7; i++)
			*f[i] = (uint64_t)sqlite3_column_int64(st, i);
		h->first_us = sqlite3_column_int64(st, 7);
		h->last_us = sqlite3_column_int64(st, 8);
		h->observed_us = sqlite3_column_int64(st, 9);
	}
	sqlite3_finalize(st);
	return ok;
}

static bool load_meta(struct store *s, struct store_view *v)
{
	sqlite3_stmt *st = store_prep(s, "SELECT (SELECT value FROM meta WHERE key='created_us'), (SELECT min(started_us) FROM run),"
				   " (SELECT max(last_checkpoint_us) FROM run), (SELECT count(*) FROM run),"
				   " (SELECT count(*) FROM flow), (SELECT min(start_us) FROM flow),"
				   " (SELECT stopped_us IS NULL FROM run ORDER BY id DESC LIMIT 1),"
				   " (SELECT iface FROM run ORDER BY id DESC LIMIT 1),"
				   " (SELECT min(first_us) FROM inv_client), (SELECT max(last_us) FROM inv_client),"
				   " (SELECT count(*) FROM import)");
	bool ok = st && sqlite3_step(st) == SQLITE_ROW;
	if (ok) {
		v->created_us = sqlite3_column_int64(st, 0);
		v->first_start_us = sqlite3_column_int64(st, 1);
		v->last_checkpoint_us = sqlite3_column_int64(st, 2);
		v->runs = (uint64_t)sqlite3_column_int64(st, 3);
		v->flows_stored = (uint64_t)sqlite3_column_int64(st, 4);
		v->oldest_flow_us = sqlite3_column_int64(st, 5);
		v->running = sqlite3_column_int(st, 6);
		col_text(st, 7, v->iface, sizeof v->iface);
		v->first_day_us = sqlite3_column_int64(st, 8);
		v->last_day_us = sqlite3_column_int64(st, 9);
		v->imports = (uint64_t)sqlite3_column_int64(st, 10);
	}
	sqlite3_finalize(st);
	return ok;
}

bool store_load(struct store *s, int64_t since_us, struct store_view *v, char *err, size_t errlen)
{
	if (s->pg)
		return store_pg_load(s->pg, since_us, v, err, errlen);
	memset(v, 0, sizeof *v);
	/* one read transaction: a consistent picture while the monitor writes */
	bool ok = store_exec(s, "BEGIN", err, errlen);
	if (ok && !(ok = load_meta(s, v) && load_counters(s, v) && load_health(s, since_us, &v->window) &&
			 load_health(s, 0, &v->total)))
		store_seterr(err, errlen, s, "cannot read");
	char ignore[8];
	store_exec(s, "COMMIT", ignore, sizeof ignore);
	if (ok)
		store_view_totals(v);
	return ok;
}

void store_view_totals(struct store_view *v)
{
	v->checkpoints = store_view_counter(v, "checkpoints");
	v->unclean_stops = store_view_counter(v, "unclean_stops");
	v->total.received = store_view_counter(v, "pcap_received");
	v->total.dropped_kernel = store_view_counter(v, "pcap_dropped_kernel");
	v->total.dropped_interface = store_view_counter(v, "pcap_dropped_interface");
	v->total.not_analysed = store_view_counter(v, "pcap_not_analysed_at_stop");
	v->total.intervals_with_drops = store_view_counter(v, "intervals_with_drops");
	v->total.packets = store_view_counter(v, "packets");
	v->total.intervals = v->checkpoints;
}

void store_view_free(struct store_view *v)
{
	free(v->counters);
	memset(v, 0, sizeof *v);
}
