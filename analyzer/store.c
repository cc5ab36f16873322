/*
 * store.c - the monitor's SQLite state (see store.h).
 *
 * Data enters through store_checkpoint(): the inventory of the finished
 * flows is merged into the rows with open = 0 (counts add up, first seen is
 * the minimum, last seen the maximum, bit sets are ORed, names are a union),
 * the snapshot of the open flows replaces the rows with open = 1, and the
 * finished flows are inserted as JSON.  Data leaves through store_load(),
 * which sums both kinds of rows per key for the report.  Every statement is
 * prepared; a checkpoint is one transaction.  Nothing here prints.
 */
#include "store.h"

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
#include "report.h"
#include "tls.h"

#define DAY_US ((int64_t)86400 * 1000000)
#define HOUR_US ((int64_t)3600 * 1000000)

struct store {
	sqlite3 *db;
	char *path;
	bool writable;
	int64_t run_id;
	int fd;                    /* the writer's own descriptor of the state, for fchown */
	int side_fd[2];            /* -wal and -shm, opened to give them away */
	int lock_fd;               /* FILE.lock, flock()ed while the writer runs */
};

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
};
#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])

/* ---- small helpers ---- */

static void seterr(char *err, size_t errlen, const struct store *s, const char *what)
{
	int rc = sqlite3_errcode(s->db);
	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
		snprintf(err, errlen, "%s: damaged state file (%s)", s->path, sqlite3_errmsg(s->db));
	else
		snprintf(err, errlen, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static bool exec(struct store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return true;
	snprintf(err, errlen, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return false;
}

static sqlite3_stmt *prep(struct store *s, const char *sql)
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
		if (!exec(s, "BEGIN IMMEDIATE", err, errlen))
			return false;
		bool ok = exec(s, m->sql, err, errlen);
		if (ok && m->version == 1) {
			snprintf(sql, sizeof sql,
				 "CREATE TABLE IF NOT EXISTS migrations(version INTEGER PRIMARY KEY, applied_us INTEGER NOT NULL,"
				 " description TEXT NOT NULL);"
				 "INSERT INTO meta VALUES('format','tlsready-state'),('created_us','%" PRId64 "');"
				 "PRAGMA application_id=%d;", now_us, STORE_APPLICATION_ID);
			ok = exec(s, sql, err, errlen);
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
				seterr(err, errlen, s, "migration");
		}
		snprintf(sql, sizeof sql, "PRAGMA user_version=%d", m->version);
		if (ok)
			ok = exec(s, sql, err, errlen);
		if (!ok || !exec(s, "COMMIT", err, errlen)) {
			char ignore[8];
			exec(s, "ROLLBACK", ignore, sizeof ignore);
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
		seterr(err, errlen, s, "cannot read");
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
	return s;
}

struct store *store_open(const char *path, enum store_mode mode, char *err, size_t errlen)
{
	return store_open_why(path, mode, err, errlen, NULL);
}

struct store *store_open_why(const char *path, enum store_mode mode, char *err, size_t errlen,
			     enum store_failure *why)
{
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
		if (!exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", err, errlen))
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
	bool ok = exec(s, "PRAGMA journal_mode=WAL", err, errlen) && migrate(s, 0, version, wall_us(), err, errlen);
	store_close(s);
	return ok;
}

int store_user_version(struct store *s)
{
	int rc;
	return (int)pragma_int(s, "PRAGMA user_version", &rc);
}

void store_close(struct store *s)
{
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

/* The same merge for a checkpoint and for folding a killed run's open rows. */
#define CLIENT_MERGE \
	" ON CONFLICT(ip, open) DO UPDATE SET status=max(status, excluded.status)," \
	" internal=internal | excluded.internal, first_us=min(first_us, excluded.first_us)," \
	" last_us=max(last_us, excluded.last_us)," \
	" first_nonsecure_us=min(coalesce(first_nonsecure_us, excluded.first_nonsecure_us)," \
	"  coalesce(excluded.first_nonsecure_us, first_nonsecure_us))," \
	" last_nonsecure_us=max(coalesce(last_nonsecure_us, excluded.last_nonsecure_us)," \
	"  coalesce(excluded.last_nonsecure_us, last_nonsecure_us))," \
	" findings=findings | excluded.findings, signon_failures=signon_failures + excluded.signon_failures"
#define USAGE_MERGE \
	" ON CONFLICT(client, open, server, service, port, cls) DO UPDATE SET" \
	" connections=connections + excluded.connections, refused=refused + excluded.refused," \
	" unanswered=unanswered + excluded.unanswered, failed_tls=failed_tls + excluded.failed_tls," \
	" cleartext=cleartext + excluded.cleartext, tls=tls + excluded.tls," \
	" tls_versions=tls_versions | excluded.tls_versions, mismatch=max(mismatch, excluded.mismatch)," \
	" first_us=min(first_us, excluded.first_us), last_us=max(last_us, excluded.last_us)"

bool store_run_start(struct store *s, const char *iface, int64_t now_us, char *err, size_t errlen)
{
	err[0] = '\0';
	static const char fold[] =
		"INSERT INTO client SELECT ip, 0, status, internal, first_us, last_us, first_nonsecure_us,"
		" last_nonsecure_us, findings, signon_failures FROM client WHERE open=1" CLIENT_MERGE ";"
		"INSERT INTO usage SELECT client, 0, server, service, port, cls, connections, refused, unanswered,"
		" failed_tls, cleartext, tls, tls_versions, mismatch, first_us, last_us FROM usage WHERE open=1"
		USAGE_MERGE ";"
		"INSERT OR IGNORE INTO name SELECT client, 0, server, service, port, cls, kind, name FROM name WHERE open=1;"
		"DELETE FROM client WHERE open=1; DELETE FROM usage WHERE open=1; DELETE FROM name WHERE open=1;"
		"INSERT INTO counter VALUES('unclean_stops', (SELECT count(*) FROM run WHERE stopped_us IS NULL))"
		" ON CONFLICT(name) DO UPDATE SET value=value+excluded.value;"
		"UPDATE run SET stopped_us=last_checkpoint_us WHERE stopped_us IS NULL;";
	if (!exec(s, "BEGIN IMMEDIATE", err, errlen))
		return false;
	bool ok = exec(s, fold, err, errlen);
	sqlite3_stmt *st = ok ? prep(s, "INSERT INTO run(iface, started_us, last_checkpoint_us) VALUES(?,?,?)") : NULL;
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
			seterr(err, errlen, s, "run");
		exec(s, "ROLLBACK", ignore, sizeof ignore);
		return false;
	}
	return exec(s, "COMMIT", err, errlen);
}

bool store_run_stop(struct store *s, int64_t now_us)
{
	sqlite3_stmt *st = prep(s, "UPDATE run SET stopped_us=? WHERE id=?");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, now_us);
	sqlite3_bind_int64(st, 2, s->run_id);
	bool ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok;
}

/* ---- checkpoint ---- */

struct pending {               /* findings, delivered after the commit */
	struct store_finding *v;
	size_t n, cap;
};

static struct store_finding *pending_add(struct pending *p, const char *kind, int64_t t)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 16;
		struct store_finding *nv = realloc(p->v, nc * sizeof *nv);
		if (!nv)
			return NULL;
		p->v = nv;
		p->cap = nc;
	}
	struct store_finding *f = &p->v[p->n++];
	memset(f, 0, sizeof *f);
	snprintf(f->kind, sizeof f->kind, "%s", kind);
	f->time_us = t;
	return f;
}

struct ckpt {                  /* one checkpoint's prepared statements and state */
	struct store *s;
	bool detect, write;        /* look for new findings; write the rows */
	const struct store_checkpoint *c;
	struct pending found;
	sqlite3_stmt *client, *usage, *name, *flow, *known_client, *known_versions, *cert, *cert_warn;
};

static const char *redacted(const struct ckpt *k, const char *name, char *buf, size_t len)
{
	struct report_ctx rc = { .redact = k->c->redact, .redact_key = k->c->redact_key };
	return report_name(&rc, name, buf, len);
}

static bool step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE;
}

static bool put_name(struct ckpt *k, int open, const char *cli, const char *srv, const char *svc, int port,
		     int cls, const char *kind, const char *name)
{
	char b[48];
	if (!name || !*name || !k->write)
		return true;
	sqlite3_stmt *st = k->name;
	sqlite3_bind_text(st, 1, cli, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, open);
	sqlite3_bind_text(st, 3, srv, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, svc, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, port);
	sqlite3_bind_int(st, 6, cls);
	sqlite3_bind_text(st, 7, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, strcmp(kind, "mapper") ? redacted(k, name, b, sizeof b) : name, -1,
			  SQLITE_TRANSIENT);
	return step_done(st);
}

static bool put_names(struct ckpt *k, int open, const char *cli, const char *srv, const char *svc, int port,
		      int cls, const char *kind, const struct name_set *ns)
{
	for (int i = 0; i < ns->n; i++)
		if (!put_name(k, open, cli, srv, svc, port, cls, kind, ns->v[i]))
			return false;
	return true;
}

/* Per client of a batch: first and last seen, first and last nonsecure use. */
struct client_times {
	int64_t first, last, first_ns, last_ns;
};

static bool record_nonsecure(const struct flow_record *r)
{
	return r->cls == PC_NONSECURE || (rec_pm(r) && rec_pm(r)->requested[0] && !rec_pm(r)->secure);
}

static struct client_times *batch_times(const struct inventory *inv, struct flow_record **recs, size_t n)
{
	struct client_times *t = calloc(inv->n_clients ? inv->n_clients : 1, sizeof *t);
	if (!t)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct flow_record *r = recs[i];
		size_t lo = 0, hi = inv->n_clients;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = addr_cmp(&inv->clients[mid].ip, &r->cli);
			if (c == 0) {
				lo = mid;
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo >= inv->n_clients || !addr_eq(&inv->clients[lo].ip, &r->cli))
			continue;
		struct client_times *x = &t[lo];
		if (!x->first || r->start_us < x->first)
			x->first = r->start_us;
		if (r->end_us > x->last)
			x->last = r->end_us;
		if (record_nonsecure(r)) {
			if (!x->first_ns || r->start_us < x->first_ns)
				x->first_ns = r->start_us;
			if (r->end_us > x->last_ns)
				x->last_ns = r->end_us;
		}
	}
	return t;
}

/* Is the client new on a nonsecure port, or back after a long absence? */
static void client_findings(struct ckpt *k, const struct inv_client *cl, const struct client_times *t, const char *ip)
{
	if (cl->status != CS_NONSECURE || !t->first_ns)
		return;
	sqlite3_stmt *st = k->known_client;
	sqlite3_bind_text(st, 1, ip, -1, SQLITE_TRANSIENT);
	int64_t known = 0;
	bool any = false;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		known = sqlite3_column_int64(st, 0);
		any = true;
	}
	sqlite3_reset(st);
	const char *kind = NULL;
	if (!any)
		kind = "new-nonsecure-client";
	else if (k->c->back_after_us > 0 && t->first_ns - known >= k->c->back_after_us)
		kind = "client-back-on-nonsecure";
	if (!kind)
		return;
	struct store_finding *f = pending_add(&k->found, kind, t->first_ns);
	if (!f)
		return;
	snprintf(f->client, sizeof f->client, "%s", ip);
	char b[48];
	for (size_t j = 0; j < cl->n_use; j++)
		if (cl->use[j].cls == PC_NONSECURE) {
			const struct inv_usage *u = &cl->use[j];
			addr_str(&u->server, f->server);
			snprintf(f->service, sizeof f->service, "%s", u->service ? u->service : "");
			f->port = u->port;
			if (u->users.n)
				snprintf(f->user, sizeof f->user, "%s", redacted(k, u->users.v[0], b, sizeof b));
			if (u->devices.n)
				snprintf(f->device, sizeof f->device, "%s", redacted(k, u->devices.v[0], b, sizeof b));
			break;
		}
	if (!f->server[0] && cl->mapper_requests.n)
		snprintf(f->detail, sizeof f->detail, "asked the port mapper for %s", cl->mapper_requests.v[0]);
	if (any) {
		f->previous_us = known;
		f->days = (long)((t->first_ns - known) / DAY_US);
	}
}

static void usage_findings(struct ckpt *k, const char *ip, const struct inv_usage *u, const char *srv)
{
	uint32_t obsolete = u->tls_versions & 0x7;   /* SSLv3, TLS 1.0, TLS 1.1 */
	if (!obsolete)
		return;
	sqlite3_stmt *st = k->known_versions;
	sqlite3_bind_text(st, 1, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, srv, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, u->port);
	uint32_t known = sqlite3_step(st) == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	for (int b = 0; b < 3; b++) {
		if (!(obsolete & ~known & (1u << b)))
			continue;
		struct store_finding *f = pending_add(&k->found, "new-obsolete-tls-version", u->last_us);
		if (!f)
			return;
		snprintf(f->client, sizeof f->client, "%s", ip);
		snprintf(f->server, sizeof f->server, "%s", srv);
		snprintf(f->service, sizeof f->service, "%s", u->service ? u->service : "");
		f->port = u->port;
		snprintf(f->detail, sizeof f->detail, "%s", tls_version_name((uint16_t)(0x0300 | b)));
	}
}

static bool put_usage(struct ckpt *k, int open, const char *ip, const struct inv_usage *u)
{
	char srv[ADDR_STRLEN];
	const char *svc = u->service ? u->service : "";
	addr_str(&u->server, srv);
	if (k->detect)
		usage_findings(k, ip, u, srv);
	if (!k->write)
		return true;
	sqlite3_stmt *st = k->usage;
	int i = 1;
	sqlite3_bind_text(st, i++, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, open);
	sqlite3_bind_text(st, i++, srv, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, svc, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, u->port);
	sqlite3_bind_int(st, i++, u->cls);
	uint64_t counts[] = { u->connections, u->refused, u->unanswered, u->failed_tls, u->cleartext, u->tls };
	for (size_t j = 0; j < sizeof counts / sizeof counts[0]; j++)
		sqlite3_bind_int64(st, i++, (int64_t)counts[j]);
	sqlite3_bind_int64(st, i++, u->tls_versions);
	sqlite3_bind_int(st, i++, u->mismatch);
	sqlite3_bind_int64(st, i++, u->first_us);
	sqlite3_bind_int64(st, i++, u->last_us);
	return step_done(st) && put_names(k, open, ip, srv, svc, u->port, u->cls, "user", &u->users) &&
	       put_names(k, open, ip, srv, svc, u->port, u->cls, "device", &u->devices);
}

static bool put_client(struct ckpt *k, int open, const struct inv_client *cl, const struct client_times *t)
{
	char ip[ADDR_STRLEN];
	addr_str(&cl->ip, ip);
	if (k->detect)
		client_findings(k, cl, t, ip);
	if (!k->write) {
		for (size_t j = 0; j < cl->n_use; j++)
			put_usage(k, open, ip, &cl->use[j]);
		return true;
	}
	sqlite3_stmt *st = k->client;
	sqlite3_bind_text(st, 1, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, open);
	/* stored 0 unknown, 1 secure, 2 nonsecure and merged by max(): an attempt-only client is
	 * stored as unknown with its nonsecure usage rows, and told apart again when loaded */
	sqlite3_bind_int(st, 3, cl->status == CS_ATTEMPT ? CS_UNKNOWN : cl->status);
	sqlite3_bind_int(st, 4, cl->internal);
	sqlite3_bind_int64(st, 5, t->first);
	sqlite3_bind_int64(st, 6, t->last);
	if (t->first_ns) {
		sqlite3_bind_int64(st, 7, t->first_ns);
		sqlite3_bind_int64(st, 8, t->last_ns);
	}
	sqlite3_bind_int64(st, 9, cl->findings);
	sqlite3_bind_int64(st, 10, (int64_t)cl->signon_failures);
	if (!step_done(st))
		return false;
	if (!put_names(k, open, ip, "", "", 0, 0, "user", &cl->users) ||
	    !put_names(k, open, ip, "", "", 0, 0, "device", &cl->devices) ||
	    !put_names(k, open, ip, "", "", 0, 0, "mapper", &cl->mapper_requests))
		return false;
	for (size_t j = 0; j < cl->n_use; j++)
		if (!put_usage(k, open, ip, &cl->use[j]))
			return false;
	return true;
}

static bool put_inventory(struct ckpt *k, int open, const struct inventory *inv, struct flow_record **recs, size_t n)
{
	if (!inv || !inv->n_clients)
		return true;
	struct client_times *t = batch_times(inv, recs, n);
	bool ok = t != NULL;
	for (size_t i = 0; ok && i < inv->n_clients; i++)
		ok = put_client(k, open, &inv->clients[i], &t[i]);
	free(t);
	return ok;
}

static char *flow_json(const struct store_checkpoint *c, size_t i)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	struct report_ctx rc = { .out = f, .e = c->e, .redact = c->redact, .redact_key = c->redact_key };
	json_flow(&rc, f, i);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static bool put_flows(struct ckpt *k)
{
	const struct store_checkpoint *c = k->c;
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	for (size_t i = 0; i < c->e->n_records; i++) {
		const struct flow_record *r = c->e->records[i];
		char *js = flow_json(c, i);
		if (!js)
			return false;
		sqlite3_stmt *st = k->flow;
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
		if (!step_done(st))
			return false;
	}
	return true;
}

static bool put_cert(struct ckpt *k, const struct flow_record *r)
{
	const struct tls_state *t = rec_tls(r);
	if (!t || !t->cert_seen || !t->chain[0].parsed || !t->chain[0].sha256[0])
		return true;
	const struct x509_info *x = &t->chain[0];
	char srv[ADDR_STRLEN];
	addr_str(&r->srv, srv);
	sqlite3_stmt *st = k->cert;
	sqlite3_bind_text(st, 1, srv, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, r->sport);
	sqlite3_bind_text(st, 3, x->sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, x->subject, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, x->issuer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, (int64_t)x->not_after * 1000000);
	sqlite3_bind_int64(st, 7, r->start_us);
	sqlite3_bind_int64(st, 8, r->end_us);
	if (!step_done(st))
		return false;
	long days = (long)(((int64_t)x->not_after * 1000000 - k->c->now_us) / DAY_US);
	if ((int64_t)x->not_after * 1000000 >= k->c->now_us + EXPIRY_WARN_DAYS * DAY_US)
		return true;
	/* warn once per certificate: the UPDATE changes a row only the first time */
	st = k->cert_warn;
	sqlite3_bind_text(st, 1, srv, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, r->sport);
	sqlite3_bind_text(st, 3, x->sha256, -1, SQLITE_TRANSIENT);
	if (!step_done(st))
		return false;
	if (sqlite3_changes(k->s->db) == 0)
		return true;
	struct store_finding *f = pending_add(&k->found, "certificate-expiring", r->start_us);
	if (f) {
		snprintf(f->server, sizeof f->server, "%s", srv);
		f->port = r->sport;
		snprintf(f->service, sizeof f->service, "%s", r->service ? r->service : "");
		snprintf(f->detail, sizeof f->detail, "%s", x->subject);
		f->previous_us = (int64_t)x->not_after * 1000000;
		f->days = days;
	}
	return true;
}

static bool put_certs(struct ckpt *k)
{
	const struct store_checkpoint *c = k->c;
	for (size_t i = 0; i < c->e->n_records; i++)
		if (!put_cert(k, c->e->records[i]))
			return false;
	for (size_t i = 0; i < c->n_open; i++)
		if (!put_cert(k, c->open[i]))
			return false;
	return true;
}

/* ---- counters: the engine's, by the names of the JSON report, kept cumulatively ---- */

/* The engine's own totals; every other counter comes from the registry (counters.h). */
static const struct counter_field {
	const char *name;
	size_t off;
} counter_fields[] = {
#define CF(n, f) { n, offsetof(struct engine_counters, f) }
	CF("packets", packets), CF("bytes", bytes), CF("tcp_packets", tcp),
#undef CF
};

static uint64_t field(const struct engine_counters *c, size_t off)
{
	uint64_t v;
	memcpy(&v, (const char *)c + off, sizeof v);
	return v;
}

static bool add_counter(sqlite3_stmt *st, const char *name, uint64_t delta)
{
	if (!delta)
		return true;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (int64_t)delta);
	return step_done(st);
}

static bool put_counters(struct ckpt *k)
{
	const struct store_checkpoint *c = k->c;
	static const struct engine_counters zero;
	const struct engine_counters *p = c->prev ? c->prev : &zero;
	sqlite3_stmt *st = prep(k->s, "INSERT INTO counter VALUES(?1, ?2) ON CONFLICT(name) DO UPDATE SET value=value+?2");
	bool ok = st != NULL;
	for (size_t i = 0; ok && c->cnt && i < sizeof counter_fields / sizeof counter_fields[0]; i++)
		ok = add_counter(st, counter_fields[i].name, field(c->cnt, counter_fields[i].off) - field(p, counter_fields[i].off));
	if (ok && c->cnt) {
		struct counter now[COUNTERS_MAX], before[COUNTERS_MAX];
		size_t n = counters_list(c->cnt, c->learned_dropped, now);
		counters_list(p, c->prev_learned_dropped, before);
		for (size_t i = 0; ok && i < n; i++) {
			char name[96];
			snprintf(name, sizeof name, "%s%s%s", now[i].group ? now[i].group : "", now[i].group ? "." : "",
				 now[i].name);
			ok = add_counter(st, name, now[i].value - before[i].value);
		}
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

static bool put_interval(struct ckpt *k)
{
	const struct store_checkpoint *c = k->c;
	sqlite3_stmt *st = prep(k->s, "INSERT INTO interval(iface, start_us, end_us, packets, received, dropped_kernel,"
				      " dropped_interface, flows, not_analysed) VALUES(?,?,?,?,?,?,?,?,?)");
	if (!st)
		return false;
	uint64_t pk = c->cnt ? c->cnt->packets - (c->prev ? c->prev->packets : 0) : 0;
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
	sqlite3_bind_int64(st, 8, (int64_t)c->e->n_records);
	sqlite3_bind_int64(st, 9, (int64_t)c->not_analysed);
	bool ok = step_done(st);
	sqlite3_finalize(st);
	if (ok && (st = prep(k->s, "UPDATE run SET last_checkpoint_us=? WHERE id=?"))) {
		sqlite3_bind_int64(st, 1, c->now_us);
		sqlite3_bind_int64(st, 2, k->s->run_id);
		ok = step_done(st);
		sqlite3_finalize(st);
	}
	return ok;
}

static bool prune(struct ckpt *k)
{
	static const char *const sql[] = { "DELETE FROM flow WHERE end_us < ?", "DELETE FROM interval WHERE end_us < ?" };
	bool ok = true;
	for (int i = 0; ok && k->c->retain_us > 0 && i < 2; i++) {
		sqlite3_stmt *st = prep(k->s, sql[i]);
		if (!st)
			return false;
		sqlite3_bind_int64(st, 1, k->c->now_us - k->c->retain_us);
		ok = step_done(st);
		sqlite3_finalize(st);
	}
	return ok;
}

static bool ckpt_prepare(struct ckpt *k)
{
	struct store *s = k->s;
	k->client = prep(s, "INSERT INTO client VALUES(?,?,?,?,?,?,?,?,?,?)" CLIENT_MERGE);
	k->usage = prep(s, "INSERT INTO usage VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)" USAGE_MERGE);
	k->name = prep(s, "INSERT OR IGNORE INTO name VALUES(?,?,?,?,?,?,?,?)");
	k->flow = prep(s, "INSERT INTO flow(start_us, end_us, client, server, port, service, port_class, tcp,"
			  " transport, json) VALUES(?,?,?,?,?,?,?,?,?,?)");
	k->known_client = prep(s, "SELECT max(last_nonsecure_us) FROM client WHERE ip=?");
	k->known_versions = prep(s, "SELECT bitor(tls_versions) FROM usage WHERE client=? AND server=? AND port=?");
	k->cert = prep(s, "INSERT INTO cert(server, port, sha256, subject, issuer, not_after_us, first_us, last_us)"
			  " VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(server, port, sha256) DO UPDATE SET"
			  " first_us=min(first_us, excluded.first_us), last_us=max(last_us, excluded.last_us)");
	k->cert_warn = prep(s, "UPDATE cert SET warned=1 WHERE server=? AND port=? AND sha256=? AND warned=0");
	return k->client && k->usage && k->name && k->flow && k->known_client && k->known_versions && k->cert &&
	       k->cert_warn;
}

static void ckpt_finalize(struct ckpt *k)
{
	sqlite3_stmt *all[] = { k->client, k->usage, k->name, k->flow, k->known_client, k->known_versions,
				k->cert, k->cert_warn };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		sqlite3_finalize(all[i]);
	free(k->found.v);
}

static bool ckpt_body(struct ckpt *k, char *err, size_t errlen)
{
	const struct store_checkpoint *c = k->c;
	/* Findings compare with what is known, the previous snapshot of open flows included:
	 * merge the finished flows, look at the open ones, then replace the snapshot. */
	k->detect = k->write = true;
	if (!put_inventory(k, 0, c->done, c->e->records, c->e->n_records))
		return false;
	k->write = false;
	put_inventory(k, 1, c->open_inv, c->open, c->n_open);
	if (!exec(k->s, "DELETE FROM client WHERE open=1; DELETE FROM usage WHERE open=1; DELETE FROM name WHERE open=1",
		  err, errlen))
		return false;
	k->detect = false;
	k->write = true;
	return put_inventory(k, 1, c->open_inv, c->open, c->n_open) && put_flows(k) && put_certs(k) &&
	       put_counters(k) && put_interval(k) && prune(k);
}

bool store_checkpoint(struct store *s, const struct store_checkpoint *c, char *err, size_t errlen)
{
	struct ckpt k = { .s = s, .c = c };
	err[0] = '\0';
	if (!ckpt_prepare(&k)) {
		seterr(err, errlen, s, "checkpoint");
		ckpt_finalize(&k);
		return false;
	}
	bool ok = exec(s, "BEGIN IMMEDIATE", err, errlen);
	if (ok && !(ok = ckpt_body(&k, err, errlen)) && !err[0])
		seterr(err, errlen, s, "checkpoint");
	if (ok)
		ok = exec(s, "COMMIT", err, errlen);
	if (!ok) {
		char ignore[8];
		exec(s, "ROLLBACK", ignore, sizeof ignore);
	}
	for (size_t i = 0; ok && c->on_finding && i < k.found.n; i++)
		c->on_finding(c->ctx, &k.found.v[i]);
	for (size_t i = 0; ok && c->on_flow && i < c->e->n_records; i++) {
		char *js = flow_json(c, i);
		if (js)
			c->on_flow(c->ctx, js);
		free(js);
	}
	ckpt_finalize(&k);
	return ok;
}

/* ---- load, for the report ---- */

static void col_text(sqlite3_stmt *st, int i, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, len, "%s", t ? (const char *)t : "");
}

static int cmp_client(const void *a, const void *b)
{
	return addr_cmp(&((const struct sv_client *)a)->addr, &((const struct sv_client *)b)->addr);
}

static int cmp_usage(const void *a, const void *b)
{
	const struct sv_usage *x = a, *y = b;
	struct addr ax, ay;
	int lx, ly;
	if (addr_parse_prefix(x->server, &ax, &lx) && addr_parse_prefix(y->server, &ay, &ly)) {
		int c = addr_cmp(&ax, &ay);
		if (c)
			return c;
	}
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (int)x->cls - (int)y->cls;
}

/* A total order on the key of a usage row, for finding it again (the text as stored). */
static int cmp_usage_key(const void *a, const void *b)
{
	const struct sv_usage *x = a, *y = b;
	int c = strcmp(x->server, y->server);
	if (!c)
		c = strcmp(x->service, y->service);
	if (!c && x->port != y->port)
		c = x->port < y->port ? -1 : 1;
	if (!c)
		c = (int)x->cls - (int)y->cls;
	return c;
}

/* Clients by their text address, for attaching the usage rows: sort once, then a
 * binary search per row (a linear scan per row made the report quadratic). */
struct client_index {
	struct sv_client **v;
	size_t n;
};

static int cmp_client_ip(const void *a, const void *b)
{
	return strcmp((*(struct sv_client *const *)a)->ip, (*(struct sv_client *const *)b)->ip);
}

static bool client_index_build(struct client_index *ix, struct store_view *v)
{
	ix->n = v->n_clients;
	ix->v = malloc((ix->n ? ix->n : 1) * sizeof *ix->v);
	if (!ix->v)
		return false;
	for (size_t i = 0; i < ix->n; i++)
		ix->v[i] = &v->clients[i];
	qsort(ix->v, ix->n, sizeof *ix->v, cmp_client_ip);
	return true;
}

static struct sv_client *find_client(const struct client_index *ix, const char *ip)
{
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ix->v[mid]->ip, ip);
		if (c == 0)
			return ix->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * The report's load is three passes, each one query over a whole table:
 * clients, then usage rows (attached to their client by binary search on the
 * address text), then names (attached by binary search to their client and,
 * within it, to their usage row).  Sorting and searching make it O(n log n)
 * in the rows; it was a query per client and a linear search per usage row.
 */
static bool load_clients(struct store *s, struct store_view *v)
{
	sqlite3_stmt *st = prep(s, "SELECT ip, max(status), max(internal), min(first_us), max(last_us),"
				   " min(first_nonsecure_us), max(last_nonsecure_us), bitor(findings), sum(signon_failures),"
				   " max(open) FROM client GROUP BY ip");
	size_t cap = 0;
	int rc = SQLITE_ERROR;
	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (v->n_clients == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct sv_client *n = realloc(v->clients, nc * sizeof *n);
			if (!n) {
				rc = SQLITE_NOMEM;
				break;
			}
			v->clients = n;
			cap = nc;
		}
		struct sv_client *c = &v->clients[v->n_clients++];
		memset(c, 0, sizeof *c);
		col_text(st, 0, c->ip, sizeof c->ip);
		int len;
		if (!addr_parse_prefix(c->ip, &c->addr, &len))
			memset(&c->addr, 0, sizeof c->addr);
		c->status = (enum client_status)sqlite3_column_int(st, 1);
		c->internal = sqlite3_column_int(st, 2);
		c->first_us = sqlite3_column_int64(st, 3);
		c->last_us = sqlite3_column_int64(st, 4);
		c->first_nonsecure_us = sqlite3_column_int64(st, 5);
		c->last_nonsecure_us = sqlite3_column_int64(st, 6);
		c->findings = (uint32_t)sqlite3_column_int64(st, 7);
		c->signon_failures = (uint64_t)sqlite3_column_int64(st, 8);
		c->in_progress = sqlite3_column_int(st, 9);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return false;
	if (v->n_clients > 1)
		qsort(v->clients, v->n_clients, sizeof *v->clients, cmp_client);
	return true;
}

static bool load_usage(struct store *s, struct store_view *v, const struct client_index *ix)
{
	sqlite3_stmt *st = prep(s, "SELECT client, server, service, port, cls, sum(connections), sum(refused),"
				   " sum(unanswered), sum(failed_tls), sum(cleartext), sum(tls), bitor(tls_versions),"
				   " max(mismatch), min(first_us), max(last_us), max(open) FROM usage"
				   " GROUP BY client, server, service, port, cls");
	int rc = SQLITE_ERROR;
	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char ip[48];
		col_text(st, 0, ip, sizeof ip);
		struct sv_client *c = find_client(ix, ip);
		if (!c)
			continue;
		if (!(c->n_use & (c->n_use - 1))) {   /* 0, 1, 2, 4, ...: double */
			struct sv_usage *n = realloc(c->use, (c->n_use ? 2 * c->n_use : 1) * sizeof *n);
			if (!n) {
				rc = SQLITE_NOMEM;
				break;
			}
			c->use = n;
		}
		struct sv_usage *u = &c->use[c->n_use++];
		memset(u, 0, sizeof *u);
		col_text(st, 1, u->server, sizeof u->server);
		col_text(st, 2, u->service, sizeof u->service);
		u->port = (uint16_t)sqlite3_column_int(st, 3);
		u->cls = (enum port_class)sqlite3_column_int(st, 4);
		uint64_t *counts[] = { &u->connections, &u->refused, &u->unanswered, &u->failed_tls, &u->cleartext, &u->tls };
		for (int i = 0; i < 6; i++)
			*counts[i] = (uint64_t)sqlite3_column_int64(st, 5 + i);
		u->tls_versions = (uint32_t)sqlite3_column_int64(st, 11);
		u->mismatch = sqlite3_column_int(st, 12);
		u->first_us = sqlite3_column_int64(st, 13);
		u->last_us = sqlite3_column_int64(st, 14);
		u->in_progress = sqlite3_column_int(st, 15);
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < v->n_clients; i++)
		if (v->clients[i].n_use > 1)
			qsort(v->clients[i].use, v->clients[i].n_use, sizeof *v->clients[i].use, cmp_usage_key);
	return rc == SQLITE_DONE;
}

/* The usage row of a client with this key: binary search on the order of cmp_usage_key. */
static struct sv_usage *find_usage(struct sv_client *c, const char *srv, const char *svc, int port, int cls)
{
	struct sv_usage key;
	snprintf(key.server, sizeof key.server, "%s", srv);
	snprintf(key.service, sizeof key.service, "%s", svc);
	key.port = (uint16_t)port;
	key.cls = (enum port_class)cls;
	return bsearch(&key, c->use, c->n_use, sizeof *c->use, cmp_usage_key);
}

/* Names in one pass, in name order as before (a set keeps its first INV_MAX_NAMES). */
static bool load_names(struct store *s, const struct client_index *ix)
{
	sqlite3_stmt *st = prep(s, "SELECT client, server, service, port, cls, kind, name FROM name ORDER BY name");
	int rc = SQLITE_ERROR;
	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char ip[48], srv[48], svc[32], kind[16];
		col_text(st, 0, ip, sizeof ip);
		col_text(st, 1, srv, sizeof srv);
		col_text(st, 2, svc, sizeof svc);
		int port = sqlite3_column_int(st, 3), cls = sqlite3_column_int(st, 4);
		col_text(st, 5, kind, sizeof kind);
		const char *name = (const char *)sqlite3_column_text(st, 6);
		struct sv_client *c = find_client(ix, ip);
		if (!c || !name)
			continue;
		if (!srv[0] && !svc[0] && port == 0 && cls == 0) {   /* the client's own sets */
			if (strcmp(kind, "user") == 0)
				name_set_add(&c->users, name);
			else if (strcmp(kind, "device") == 0)
				name_set_add(&c->devices, name);
			else if (strcmp(kind, "mapper") == 0)
				name_set_add(&c->mapper_requests, name);
			continue;
		}
		struct sv_usage *u = find_usage(c, srv, svc, port, cls);
		if (u && strcmp(kind, "user") == 0)
			name_set_add(&u->users, name);
		else if (u && strcmp(kind, "device") == 0)
			name_set_add(&u->devices, name);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE;
}

static bool load_inventory(struct store *s, struct store_view *v)
{
	struct client_index ix = { NULL, 0 };
	bool ok = load_clients(s, v) && client_index_build(&ix, v) && load_usage(s, v, &ix) && load_names(s, &ix);
	free(ix.v);
	for (size_t i = 0; ok && i < v->n_clients; i++) {
		struct sv_client *c = &v->clients[i];
		if (c->n_use > 1)     /* the report's order: by server address, port, class */
			qsort(c->use, c->n_use, sizeof *c->use, cmp_usage);
		/* nonsecure rows on a client never stored as nonsecure: only attempts were seen */
		for (size_t j = 0; c->status == CS_UNKNOWN && j < c->n_use; j++)
			if (c->use[j].cls == PC_NONSECURE)
				c->status = CS_ATTEMPT;
	}
	return ok;
}

static bool load_certs(struct store *s, struct store_view *v)
{
	sqlite3_stmt *st = prep(s, "SELECT server, port, sha256, subject, issuer, not_after_us, first_us, last_us"
				   " FROM cert ORDER BY not_after_us, server, port");
	int rc = SQLITE_ERROR;
	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(v->n_certs & (v->n_certs - 1))) {   /* 0, 1, 2, 4, ...: double */
			struct sv_cert *n = realloc(v->certs, (v->n_certs ? 2 * v->n_certs : 1) * sizeof *n);
			if (!n)
				break;
			v->certs = n;
		}
		struct sv_cert *c = &v->certs[v->n_certs++];
		col_text(st, 0, c->server, sizeof c->server);
		c->port = (uint16_t)sqlite3_column_int(st, 1);
		col_text(st, 2, c->sha256, sizeof c->sha256);
		col_text(st, 3, c->subject, sizeof c->subject);
		col_text(st, 4, c->issuer, sizeof c->issuer);
		c->not_after_us = sqlite3_column_int64(st, 5);
		c->first_us = sqlite3_column_int64(st, 6);
		c->last_us = sqlite3_column_int64(st, 7);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE;
}

static bool load_counters(struct store *s, struct store_view *v)
{
	sqlite3_stmt *st = prep(s, "SELECT name, value FROM counter ORDER BY name");
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
	sqlite3_stmt *st = prep(s, "SELECT count(*), sum(dropped_kernel + dropped_interface > 0), sum(packets),"
				   " sum(received), sum(dropped_kernel), sum(dropped_interface), sum(not_analysed),"
				   " min(start_us), max(end_us) FROM interval WHERE end_us >= ?");
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
	}
	sqlite3_finalize(st);
	return ok;
}

static bool load_meta(struct store *s, struct store_view *v)
{
	sqlite3_stmt *st = prep(s, "SELECT (SELECT value FROM meta WHERE key='created_us'), (SELECT min(started_us) FROM run),"
				   " (SELECT max(last_checkpoint_us) FROM run), (SELECT count(*) FROM run),"
				   " (SELECT count(*) FROM flow), (SELECT min(start_us) FROM flow),"
				   " (SELECT stopped_us IS NULL FROM run ORDER BY id DESC LIMIT 1),"
				   " (SELECT iface FROM run ORDER BY id DESC LIMIT 1)");
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
	}
	sqlite3_finalize(st);
	return ok;
}

bool store_load(struct store *s, int64_t since_us, struct store_view *v, char *err, size_t errlen)
{
	memset(v, 0, sizeof *v);
	/* one read transaction: a consistent picture while the monitor writes */
	bool ok = exec(s, "BEGIN", err, errlen);
	if (ok && !(ok = load_meta(s, v) && load_inventory(s, v) && load_certs(s, v) &&
			 load_counters(s, v) && load_health(s, since_us, &v->window) && load_health(s, 0, &v->total)))
		seterr(err, errlen, s, "cannot read");
	char ignore[8];
	exec(s, "COMMIT", ignore, sizeof ignore);
	if (ok) {
		/* the totals survive the pruning of old intervals */
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
	return ok;
}

void store_view_free(struct store_view *v)
{
	for (size_t i = 0; i < v->n_clients; i++) {
		struct sv_client *c = &v->clients[i];
		for (size_t j = 0; j < c->n_use; j++) {
			name_set_free(&c->use[j].users);
			name_set_free(&c->use[j].devices);
		}
		name_set_free(&c->users);
		name_set_free(&c->devices);
		name_set_free(&c->mapper_requests);
	}
	for (size_t i = 0; i < v->n_clients; i++)
		free(v->clients[i].use);
	free(v->clients);
	free(v->certs);
	free(v->counters);
	memset(v, 0, sizeof *v);
}
