/*
 * test_store.c - the SQLite state (analyzer/store.c): the schema is created
 * and marked as ours, an older schema is migrated forward keeping its rows,
 * checkpoints add up (counts sum, first seen is the minimum, last seen the
 * maximum, the open-flow snapshot is replaced, a killed run's snapshot is
 * folded in), findings are new only once, retention prunes flow records
 * and keeps the inventory, and a text file, another program's database, a
 * damaged file and a newer schema are refused with one line naming the file;
 * a second writer is refused by the lock, new files are 0600, links are
 * refused; the load of many clients grows as n log n, not n squared.
 *
 * The records are built here by hand; expected values are written out, and
 * the file is read back with plain SQL as well as through store_load_inventory()
 * (the inventory the reports print) and store_load() (the state).
 */
#include "testutil.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "inventory.h"
#include "names.h"
#include "store.h"

#define S(x) ((int64_t)(x) * 1000000)

static char dir[64];

static const char *path(const char *name)
{
	static char p[4][128];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

static struct flow_record *rec(const char *cli, const char *srv, uint16_t port, const char *service,
			       enum port_class cls, int64_t start_s, int64_t end_s, enum tcp_outcome tcp)
{
	struct flow_record *r = calloc(1, sizeof *r);
	int len;
	assert_non_null(r);
	assert_true(addr_parse_prefix(cli, &r->cli, &len));
	assert_true(addr_parse_prefix(srv, &r->srv, &len));
	r->cport = 40000;
	r->sport = port;
	r->service = service;
	r->cls = cls;
	r->start_us = S(start_s);
	r->end_us = S(end_s);
	r->tcp = tcp;
	r->handshake_done = tcp != TCP_REFUSED && tcp != TCP_UNANSWERED;
	r->transport = tcp == TCP_REFUSED ? TR_NONE : TR_CLEARTEXT;
	return r;
}

struct seen {
	char kinds[16][40];
	char clients[16][48];
	int n;
};

static void collect(struct seen *s, const struct event_finding *f)
{
	if (s->n < 16) {
		snprintf(s->kinds[s->n], sizeof s->kinds[0], "%s", f->kind);
		snprintf(s->clients[s->n++], sizeof s->clients[0], "%s", f->client);
	}
}

/* What the monitor does at a checkpoint: the findings are the difference between the inventory of
 * the checkpoint's flows (open ones included) and what the store holds for the same clients. */
static void detect(struct store *st, struct flow_record **all, size_t n, int64_t now_us, struct seen *seen)
{
	struct analysis a;
	struct inventory now, before;
	char err[512];
	assert_true(analysis_of_records(&a, all, n, now_us));
	assert_true(inventory_build(&now, &a));
	struct addr ips[64];
	assert_true(now.n_clients <= 64);
	for (size_t i = 0; i < now.n_clients; i++)
		ips[i] = now.clients[i].ip;
	struct store_query q = { .only = ips, .n_only = now.n_clients };
	assert_true(store_load_inventory(st, &q, &before, err, sizeof err));
	struct event_finding *found;
	size_t k = events_detect(&before, &now, now_us, S(86400), &found);
	for (size_t i = 0; i < k; i++)
		collect(seen, &found[i]);
	free(found);
	inventory_free(&before);
	inventory_free(&now);
	analysis_free(&a);
}

static int cmp_start(const void *x, const void *y)
{
	const struct flow_record *a = *(struct flow_record *const *)x, *b = *(struct flow_record *const *)y;
	return (a->start_us > b->start_us) - (a->start_us < b->start_us);
}

/* One checkpoint of `done` finished records and `open` snapshot records (both freed here). */
static bool checkpoint(struct store *st, struct flow_record **done, size_t n_done, struct flow_record **open,
		       size_t n_open, int64_t now_s, int64_t retain_s, struct seen *seen)
{
	struct analysis a, o;
	char err[512];
	struct flow_record *all[64];
	assert_true(n_done + n_open <= 64);
	for (size_t i = 0; i < n_done; i++)
		all[i] = done[i];
	for (size_t i = 0; i < n_open; i++)
		all[n_done + i] = open[i];
	qsort(all, n_done + n_open, sizeof *all, cmp_start);
	if (n_done > 1)
		qsort(done, n_done, sizeof *done, cmp_start);
	detect(st, all, n_done + n_open, S(now_s), seen);
	assert_true(analysis_of_records(&a, done, n_done, S(now_s)));
	assert_true(analysis_of_records(&o, open, n_open, S(now_s)));
	struct store_checkpoint c = {
		.done = &a, .open = &o, .start_us = S(now_s - 60), .end_us = S(now_s), .now_us = S(now_s),
		.retain_us = S(retain_s),
	};
	bool ok = store_checkpoint(st, &c, err, sizeof err);
	if (!ok)
		fprintf(stderr, "# checkpoint: %s\n", err);
	analysis_free(&a);
	analysis_free(&o);
	for (size_t i = 0; i < n_done; i++)
		record_free(done[i]);
	for (size_t i = 0; i < n_open; i++)
		record_free(open[i]);
	return ok;
}

static int64_t sql_int(const char *file, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;
	assert_int_equal(sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

static void sql_exec(const char *file, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(file, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static const struct inv_client *client(const struct inventory *v, const char *ip)
{
	struct addr a;
	int len;
	assert_true(addr_parse_prefix(ip, &a, &len));
	for (size_t i = 0; i < v->n_clients; i++)
		if (addr_eq(&v->clients[i].ip, &a))
			return &v->clients[i];
	return NULL;
}

/* Every day the store holds, as one inventory. */
static void load_all(struct store *st, struct inventory *inv)
{
	char err[512];
	struct store_query q = { 0 };
	assert_true(store_load_inventory(st, &q, inv, err, sizeof err));
}

static void schema_created(void **state)
{
	(void)state;
	char err[512];
	const char *f = path("new.db");
	struct store *st = store_open(f, STORE_WRITE, err, sizeof err);
	assert_non_null(st);
	assert_int_equal(store_user_version(st), STORE_SCHEMA_VERSION);
	store_close(st);
	assert_int_equal(sql_int(f, "PRAGMA application_id"), 0x544c5352);
	assert_int_equal(sql_int(f, "PRAGMA user_version"), 7);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM migrations"), 7);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM meta WHERE key='format' AND value='tlsready-state'"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN"
				    " ('inv_client','inv_usage','inv_name','inv_port','inv_note','import','flow','counter',"
				    "'interval','run','cert','migrations','inv_host_name','inv_lease','attempt_group')"), 15);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode='wal'"), 1);
	/* opening again changes nothing */
	st = store_open(f, STORE_WRITE, err, sizeof err);
	assert_non_null(st);
	store_close(st);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM migrations"), 7);
}

static void migration_from_v1(void **state)
{
	(void)state;
	char err[512];
	const char *f = path("v1.db");
	assert_true(store_create_at_version(f, 1, err, sizeof err));
	assert_int_equal(sql_int(f, "PRAGMA user_version"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_master WHERE name='cert'"), 0);
	sql_exec(f, "INSERT INTO client VALUES('192.0.2.99',0,2,0,1000,2000,1000,2000,0,0);"
		    "INSERT INTO usage VALUES('192.0.2.99',0,'192.0.2.10','telnet',23,1,4,1,0,0,3,0,0,0,1000,2000);"
		    "INSERT INTO name VALUES('192.0.2.99',0,'192.0.2.10','telnet',23,1,'user','OLDUSER');"
		    "INSERT INTO client VALUES('192.0.2.98',0,0,0,1000,1500,NULL,NULL,0,0);"
		    "INSERT INTO usage VALUES('192.0.2.98',0,'192.0.2.10','telnet',23,1,2,0,2,0,0,0,0,0,1000,1500)");
	/* a reader does not migrate: it asks for the monitor */
	struct store *st = store_open(f, STORE_READ, err, sizeof err);
	assert_null(st);
	assert_non_null(strstr(err, "older"));
	st = store_open(f, STORE_WRITE, err, sizeof err);
	assert_non_null(st);
	assert_int_equal(store_user_version(st), 7);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_master WHERE name='cert'"), 1);
	assert_int_equal(sql_int(f, "SELECT group_concat(version) = '1,2,3,4,5,6,7' FROM migrations ORDER BY version"), 1);
	assert_int_equal(sql_int(f, "SELECT last_nonsecure_us FROM inv_client WHERE ip='192.0.2.99'"), 2000);
	/* what version 1 kept comes back through the inventory: the counts, the user, and the client
	 * stored as unknown with nonsecure rows is told apart again as attempt-only */
	struct inventory inv;
	load_all(st, &inv);
	assert_int_equal(inv.n_clients, 2);
	const struct inv_client *c = client(&inv, "192.0.2.99");
	assert_non_null(c);
	assert_int_equal(c->status, CS_NONSECURE);
	assert_int_equal(c->n_use, 1);
	assert_int_equal(c->use[0].connections, 4);
	assert_int_equal(c->use[0].refused, 1);
	assert_int_equal(c->use[0].users.n, 1);
	assert_string_equal(c->use[0].users.v[0], "OLDUSER");
	assert_int_equal(c->last_nonsecure_us, 2000);
	assert_int_equal(client(&inv, "192.0.2.98")->status, CS_ATTEMPT);
	inventory_free(&inv);
	store_close(st);
}

/* Version 4 had no host names: migration 5 adds their table, the rows of version 4 stay, and names
 * stored over two days come back as one name per (source, name): earliest first, latest last, counts
 * summed, the best (DHCP before DNS) first. */
static void migration_from_v4_host_names(void **state)
{
	(void)state;
	char err[512];
	const char *f = path("v4.db");
	assert_true(store_create_at_version(f, 4, err, sizeof err));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_master WHERE name='inv_host_name'"), 0);
	sql_exec(f, "INSERT INTO inv_client VALUES(1,'192.0.2.27',0,3,0,1000,9000,0,0,0,0,0,0,0,0,0,0);"
		    "INSERT INTO inv_client VALUES(2,'192.0.2.27',0,1,0,86401000000,86402000000,0,0,0,0,0,0,0,0,0,0)");
	struct store *st = store_open(f, STORE_WRITE, err, sizeof err);
	assert_non_null(st);
	assert_int_equal(store_user_version(st), 7);
	assert_int_equal(sql_int(f, "SELECT group_concat(version) = '1,2,3,4,5,6,7' FROM migrations ORDER BY version"), 1);
	assert_int_equal(sql_int(f, "SELECT sum(flows) FROM inv_client"), 4);
	sql_exec(f, "INSERT INTO inv_host_name VALUES(1,'192.0.2.27','dns','pc27.example.com',2000,3000,2,'');"
		    "INSERT INTO inv_host_name VALUES(2,'192.0.2.27','dns','pc27.example.com',1500,86401500000,5,'');"
		    "INSERT INTO inv_host_name VALUES(2,'192.0.2.27','dhcp','pc27',86401000000,86401000000,1,'');"
		    "INSERT INTO inv_host_name VALUES(2,'192.0.2.99','dns','nobody.example.com',1,2,1,'');"
		    "INSERT INTO inv_host_name VALUES(2,'192.0.2.27','no-such-source','x',1,2,1,'')");
	struct inventory inv;
	load_all(st, &inv);
	assert_int_equal(inv.n_clients, 1);
	const struct inv_client *c = client(&inv, "192.0.2.27");
	assert_non_null(c);
	assert_int_equal(c->n_names, 2);
	assert_string_equal(c->names[0].name, "pc27");
	assert_int_equal(c->names[0].source, NAME_DHCP);
	assert_string_equal(c->names[1].name, "pc27.example.com");
	assert_int_equal(c->names[1].source, NAME_DNS_A);
	assert_int_equal(c->names[1].first_us, 1500);
	assert_int_equal(c->names[1].last_us, 86401500000);
	assert_int_equal(c->names[1].count, 7);
	inventory_free(&inv);
	/* the second day alone: that day's row only */
	struct store_query q = { .since_us = 2 * 86400000000, .until_us = 3 * 86400000000 };
	assert_true(store_load_inventory(st, &q, &inv, err, sizeof err));
	c = client(&inv, "192.0.2.27");
	assert_non_null(c);
	assert_int_equal(c->n_names, 2);
	assert_int_equal(c->names[1].count, 5);
	inventory_free(&inv);
	store_close(st);
}

/* Version 5 rows had no DHCP host: migration 6 keeps them as address rows (host ''), adds the leases'
 * table, and they load back as before: one client per address with its names. */
static void migration_from_v5_identity(void **state)
{
	(void)state;
	char err[512];
	const char *f = path("v5.db");
	assert_true(store_create_at_version(f, 5, err, sizeof err));
	sql_exec(f, "INSERT INTO inv_client VALUES(1,'192.0.2.27',0,3,0,1000,9000,0,0,0,0,0,0,0,0,0,0);"
		    "INSERT INTO inv_usage VALUES(1,'192.0.2.27',0,'192.0.2.10','telnet',23,1,3,0,0,0,0,3,0,0,0,1000,9000);"
		    "INSERT INTO inv_name VALUES(1,'192.0.2.27',0,'','',0,0,'user','OLDUSER');"
		    "INSERT INTO inv_host_name VALUES(1,'192.0.2.27','dhcp','pc27',500,500,1)");
	struct store *st = store_open(f, STORE_WRITE, err, sizeof err);
	assert_non_null(st);
	assert_int_equal(store_user_version(st), 7);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM inv_client WHERE host=''"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM inv_host_name WHERE host=''"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM inv_lease"), 0);
	struct inventory inv;
	load_all(st, &inv);
	assert_int_equal(inv.n_clients, 1);
	const struct inv_client *c = client(&inv, "192.0.2.27");
	assert_non_null(c);
	assert_string_equal(inv_client_hw(c), "");
	assert_int_equal(c->n_addrs, 1);
	assert_int_equal(c->flows, 3);
	assert_int_equal(c->users.n, 1);
	assert_int_equal(c->n_names, 1);
	assert_string_equal(c->names[0].name, "pc27");
	inventory_free(&inv);
	store_close(st);
}

static void checkpoint_math(void **state)
{
	(void)state;
	char err[512];
	const char *f = path("math.db");
	struct store *st = store_open(f, STORE_WRITE, err, sizeof err);
	struct seen seen = { .n = 0 };
	assert_non_null(st);
	assert_true(store_run_start(st, "tr-test0", S(1000), err, sizeof err));
	/* checkpoint 1: .21 twice on 8476 (one refused), .22 only on the secure 9476 */
	struct flow_record *a[] = {
		rec("192.0.2.21", "192.0.2.10", 8476, "as-signon", PC_NONSECURE, 100, 110, TCP_CLOSED),
		rec("192.0.2.21", "192.0.2.10", 8476, "as-signon", PC_NONSECURE, 200, 210, TCP_REFUSED),
		rec("192.0.2.22", "192.0.2.10", 9476, "as-signon-s", PC_SECURE, 300, 310, TCP_CLOSED),
	};
	assert_true(checkpoint(st, a, 3, NULL, 0, 1000, 0, &seen));
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.kinds[0], "new-nonsecure-client");
	assert_string_equal(seen.clients[0], "192.0.2.21");
	/* checkpoint 2: .21 again, earlier first packet and later last packet; .22 now nonsecure;
	 * .23 still open (the snapshot) */
	struct flow_record *b[] = {
		rec("192.0.2.21", "192.0.2.10", 8476, "as-signon", PC_NONSECURE, 50, 400, TCP_CLOSED),
		rec("192.0.2.22", "192.0.2.10", 23, "telnet", PC_NONSECURE, 500, 510, TCP_CLOSED),
	};
	struct flow_record *o[] = { rec("192.0.2.23", "192.0.2.10", 8471, "as-database", PC_NONSECURE, 600, 650, TCP_OPEN) };
	seen.n = 0;
	assert_true(checkpoint(st, b, 2, o, 1, 1100, 0, &seen));
	assert_int_equal(seen.n, 2);   /* .22 and .23 are new; .21 is not */
	struct store_view v;
	struct inventory inv;
	assert_true(store_load(st, S(0), &v, err, sizeof err));
	load_all(st, &inv);
	assert_int_equal(inv.n_clients, 3);
	const struct inv_client *c21 = client(&inv, "192.0.2.21"), *c22 = client(&inv, "192.0.2.22"),
			       *c23 = client(&inv, "192.0.2.23");
	assert_non_null(c21);
	assert_non_null(c22);
	assert_non_null(c23);
	assert_int_equal(c21->n_use, 1);
	assert_int_equal(c21->use[0].connections, 3);
	assert_int_equal(c21->use[0].refused, 1);
	assert_int_equal(c21->use[0].first_us, S(50));
	assert_int_equal(c21->use[0].last_us, S(400));
	assert_int_equal(c21->first_nonsecure_us, S(50));
	assert_int_equal(c21->last_nonsecure_us, S(400));
	assert_int_equal(c22->status, CS_NONSECURE);   /* secure, then nonsecure: nonsecure */
	assert_int_equal(c22->n_use, 2);
	assert_int_equal(c22->first_us, S(300));
	assert_int_equal(c23->in_progress, true);
	assert_int_equal(c23->use[0].connections, 1);
	assert_int_equal(v.flows_stored, 5);
	assert_int_equal(v.checkpoints, 2);
	store_view_free(&v);
	inventory_free(&inv);
	/* checkpoint 3: the open flow goes on (same snapshot): no new finding, still one connection */
	struct flow_record *o2[] = { rec("192.0.2.23", "192.0.2.10", 8471, "as-database", PC_NONSECURE, 600, 700, TCP_OPEN) };
	seen.n = 0;
	assert_true(checkpoint(st, NULL, 0, o2, 1, 1200, 0, &seen));
	assert_int_equal(seen.n, 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM inv_usage WHERE client='192.0.2.23'"), 1);
	/* the monitor is killed: the next run folds the snapshot into the inventory */
	store_close(st);
	st = store_open(f, STORE_WRITE, err, sizeof err);
	assert_non_null(st);
	assert_true(store_run_start(st, "tr-test0", S(2000), err, sizeof err));
	assert_true(store_load(st, S(0), &v, err, sizeof err));
	load_all(st, &inv);
	c23 = client(&inv, "192.0.2.23");
	assert_non_null(c23);
	assert_false(c23->in_progress);
	assert_int_equal(c23->use[0].connections, 1);
	assert_int_equal(c23->use[0].last_us, S(700));
	assert_int_equal(v.runs, 2);
	assert_int_equal(v.unclean_stops, 1);
	store_view_free(&v);
	inventory_free(&inv);
	/* back on a nonsecure port after more than --back-after (a day here) */
	struct flow_record *d[] = {
		rec("192.0.2.21", "192.0.2.10", 8476, "as-signon", PC_NONSECURE, 400 + 2 * 86400, 401 + 2 * 86400, TCP_CLOSED),
	};
	seen.n = 0;
	assert_true(checkpoint(st, d, 1, NULL, 0, 3 * 86400, 0, &seen));
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.kinds[0], "client-back-on-nonsecure");
	store_close(st);
}

static void retention_keeps_inventory(void **state)
{
	(void)state;
	char err[512];
	const char *f = path("retain.db");
	struct store *st = store_open(f, STORE_WRITE, err, sizeof err);
	struct seen seen = { .n = 0 };
	assert_non_null(st);
	int64_t now = 100 * 86400;
	struct flow_record *a[] = {
		rec("192.0.2.31", "192.0.2.10", 23, "telnet", PC_NONSECURE, now - 10 * 86400, now - 10 * 86400 + 5, TCP_CLOSED),
		rec("192.0.2.32", "192.0.2.10", 23, "telnet", PC_NONSECURE, now - 3600, now - 3000, TCP_CLOSED),
	};
	assert_true(checkpoint(st, a, 2, NULL, 0, now, 86400, &seen));   /* --retain 1d */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM flow"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM flow WHERE client='192.0.2.32'"), 1);
	struct inventory inv;
	load_all(st, &inv);
	assert_int_equal(inv.n_clients, 2);
	assert_non_null(client(&inv, "192.0.2.31"));
	assert_int_equal(client(&inv, "192.0.2.31")->last_nonsecure_us, S(now - 10 * 86400 + 5));
	inventory_free(&inv);
	/* a window of the last day holds only the recent client; its first nonsecure use over all
	 * days is still known (for "new since") */
	struct store_query q = { .since_us = S(now - 86400) };
	assert_true(store_load_inventory(st, &q, &inv, err, sizeof err));
	assert_int_equal(inv.n_clients, 1);
	assert_non_null(client(&inv, "192.0.2.32"));
	inventory_free(&inv);
	store_close(st);
}

static void write_file(const char *f, const char *text)
{
	FILE *fp = fopen(f, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void refuses_text_file(void **state)
{
	(void)state;
	char err[512];
	const char *f = path("notes.txt");
	write_file(f, "this is not a database, it is a long enough line of text for a header\n");
	for (int mode = 0; mode < 2; mode++) {
		err[0] = '\0';
		assert_null(store_open(f, mode ? STORE_READ : STORE_WRITE, err, sizeof err));
		assert_non_null(strstr(err, f));
		assert_non_null(strstr(err, "not an SQLite database"));
		assert_null(strchr(err, '\n'));
	}
}

static void refuses_foreign_sqlite(void **state)
{
	(void)state;
	char err[512];
	const char *f = path("foreign.db");
	sql_exec(f, "CREATE TABLE things(x); INSERT INTO things VALUES(1)");
	assert_null(store_open(f, STORE_WRITE, err, sizeof err));
	assert_non_null(strstr(err, f));
	assert_non_null(strstr(err, "another application"));
	/* the application id alone is not enough: the marker row is checked too */
	const char *g = path("fake.db");
	sql_exec(g, "PRAGMA application_id=1414288210; CREATE TABLE meta(key, value)");
	assert_null(store_open(g, STORE_READ, err, sizeof err));
	assert_non_null(strstr(err, "no tlsready marker"));
	/* untouched */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM things"), 1);
}

static void refuses_damaged_and_newer(void **state)
{
	(void)state;
	char err[512];
	const char *f = path("damaged.db");
	struct store *st = store_open(f, STORE_WRITE, err, sizeof err);
	struct seen seen = { .n = 0 };
	assert_non_null(st);
	for (int k = 0; k < 20; k++) {
		struct flow_record *a[50];
		for (int i = 0; i < 50; i++) {
			char ip[32];
			snprintf(ip, sizeof ip, "198.51.100.%d", i + 1);
			a[i] = rec(ip, "192.0.2.10", 8476, "as-signon", PC_NONSECURE, k * 100 + i, k * 100 + i + 1, TCP_CLOSED);
		}
		assert_true(checkpoint(st, a, 50, NULL, 0, 5000, 0, &seen));
	}
	store_close(st);
	char cp[512];
	snprintf(cp, sizeof cp, "cp '%s' '%s.orig'", f, f);
	assert_int_equal(system(cp), 0);
	/* scribble over pages in the middle of the file (not page 1, the header) */
	int fd = open(f, O_WRONLY);
	assert_true(fd >= 0);
	off_t size = lseek(fd, 0, SEEK_END);
	assert_true(size > 16 * 4096);
	char junk[4096];
	memset(junk, 0x5a, sizeof junk);
	for (off_t at = 4096; at < size - 4096; at += 3 * 4096)
		assert_int_equal(pwrite(fd, junk, sizeof junk, at), (ssize_t)sizeof junk);
	close(fd);
	assert_null(store_open(f, STORE_WRITE, err, sizeof err));
	assert_non_null(strstr(err, f));
	assert_non_null(strstr(err, "damaged"));
	assert_null(strchr(err, '\n'));
	/* damage only the flow records at the end: the file opens, quick_check finds it */
	const char *h = path("tail.db");
	char cmd[512];
	snprintf(cmd, sizeof cmd, "cp '%s.orig' '%s'", f, h);
	assert_int_equal(system(cmd), 0);
	fd = open(h, O_WRONLY);
	assert_true(fd >= 0);
	for (off_t at = size * 3 / 4 / 4096 * 4096; at < size - 4096; at += 2 * 4096)
		assert_int_equal(pwrite(fd, junk, 3000, at + 100), 3000);
	close(fd);
	assert_null(store_open(h, STORE_WRITE, err, sizeof err));
	assert_non_null(strstr(err, h));
	assert_non_null(strstr(err, "damaged state file (quick_check"));
	assert_null(strchr(err, '\n'));

	const char *g = path("newer.db");
	st = store_open(g, STORE_WRITE, err, sizeof err);
	assert_non_null(st);
	store_close(st);
	sql_exec(g, "PRAGMA user_version=99");
	assert_null(store_open(g, STORE_WRITE, err, sizeof err));
	assert_non_null(strstr(err, "newer"));
}

/* A second writer is refused while the first holds the lock; a reader is not; new files are 0600;
 * a state, -wal or lock that is a symbolic link is refused and what it points at is left alone. */
static void lock_modes_and_links(void **state)
{
	(void)state;
	char err[512];
	struct stat sb;
	enum store_failure why = STORE_FAIL_OTHER;
	const char *f = path("locked.db");
	mode_t old = umask(022);
	struct store *a = store_open_why(f, STORE_WRITE, err, sizeof err, &why);
	assert_non_null(a);
	assert_true(store_run_start(a, "tr-test0", S(1000), err, sizeof err));
	struct store *b = store_open_why(f, STORE_WRITE, err, sizeof err, &why);
	assert_null(b);
	assert_int_equal(why, STORE_FAIL_LOCKED);
	assert_non_null(strstr(err, "in use by another tlsready monitor"));
	struct store *r = store_open(f, STORE_READ, err, sizeof err);   /* the report reads on */
	assert_non_null(r);
	struct store_view v;
	assert_true(store_load(r, 0, &v, err, sizeof err));
	assert_true(v.running);
	store_view_free(&v);
	store_close(r);
	char p[256];
	for (int i = 0; i < 4; i++) {
		static const char *const suffix[] = { "", "-wal", "-shm", ".lock" };
		snprintf(p, sizeof p, "%s%s", f, suffix[i]);
		assert_int_equal(stat(p, &sb), 0);
		assert_int_equal(sb.st_mode & 07777, 0600);
	}
	store_close(a);
	b = store_open_why(f, STORE_WRITE, err, sizeof err, &why);   /* free again once the first closed */
	assert_non_null(b);
	store_close(b);
	umask(old);

	/* links: the target keeps its bytes, nothing is created where a dangling one points */
	const char *target = path("target.txt"), *link = path("link.db");
	FILE *t = fopen(target, "w");
	assert_non_null(t);
	fclose(t);   /* empty: SQLite would take it for a new database */
	assert_int_equal(symlink(target, link), 0);
	assert_null(store_open_why(link, STORE_WRITE, err, sizeof err, &why));
	assert_int_equal(why, STORE_FAIL_UNSAFE);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(stat(target, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	const char *g = path("wal.db");
	snprintf(p, sizeof p, "%s-wal", g);
	assert_int_equal(symlink(path("nowhere"), p), 0);
	assert_null(store_open_why(g, STORE_WRITE, err, sizeof err, &why));
	assert_int_equal(why, STORE_FAIL_UNSAFE);
	assert_int_equal(access(path("nowhere"), F_OK), -1);
}

/* Capture health: what libpcap received but the monitor did not analyse at a stop is stored per
 * interval and cumulatively, and comes back in both the window and the total. */
static void health_not_analysed(void **state)
{
	(void)state;
	char err[512];
	const char *f = path("health.db");
	struct store *st = store_open(f, STORE_WRITE, err, sizeof err);
	assert_non_null(st);
	assert_true(store_run_start(st, "tr-test0", S(1000), err, sizeof err));
	struct analysis a;
	assert_true(analysis_of_records(&a, NULL, 0, S(1060)));
	a.packets = 22848;   /* the issue: 200,000 received, 22,848 analysed at SIGTERM */
	struct store_checkpoint c = {
		.done = &a, .start_us = S(1000), .end_us = S(1060), .now_us = S(1060),
		.have_pcap_stats = true, .received = 200000, .dropped_kernel = 0, .not_analysed = 200000 - 22848,
	};
	assert_true(store_checkpoint(st, &c, err, sizeof err));
	analysis_free(&a);
	assert_true(store_run_stop(st, S(1060)));
	store_close(st);
	assert_int_equal(sql_int(f, "SELECT not_analysed FROM interval"), 177152);
	st = store_open(f, STORE_READ, err, sizeof err);
	assert_non_null(st);
	struct store_view v;
	assert_true(store_load(st, S(1000), &v, err, sizeof err));
	assert_int_equal(v.total.not_analysed, 177152);
	assert_int_equal(v.window.not_analysed, 177152);
	assert_int_equal(v.total.received, v.total.packets + v.total.dropped_kernel + v.total.not_analysed);
	assert_int_equal(store_view_counter(&v, "pcap_not_analysed_at_stop"), 177152);
	store_view_free(&v);
	store_close(st);
}

/* A state of n clients written with plain SQL: client i (10.x.y.z) used as-signon 8476 once, as
 * user U<i>; store_load's CPU time, best of two. */
static double load_cpu_seconds(int n, const char *file)
{
	char err[512], sql[2048];
	struct store *st = store_open(file, STORE_WRITE, err, sizeof err);
	assert_non_null(st);
	store_close(st);
	snprintf(sql, sizeof sql,
		 "BEGIN; CREATE TEMP TABLE seq AS WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i < %d)"
		 " SELECT i, '10.'||(i>>16)||'.'||((i>>8)&255)||'.'||(i&255) AS ip FROM c;"
		 "INSERT INTO inv_client SELECT 0, ip, 0, 1, 0, 1000+i, 2000+i, 1000+i, 2000+i, 0, 0, 0, 0, 0, 0, 0, 0,"
		 " '', '' FROM seq;"
		 "INSERT INTO inv_usage SELECT 0, ip, 0, '192.0.2.10', 'as-signon', 8476, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0,"
		 " 1000+i, 2000+i, '' FROM seq;"
		 "INSERT INTO inv_name SELECT 0, ip, 0, '192.0.2.10', 'as-signon', 8476, 1, 'user', 'U'||i, '' FROM seq;"
		 "INSERT INTO inv_name SELECT 0, ip, 0, '', '', 0, 0, 'user', 'U'||i, '' FROM seq; COMMIT", n - 1);
	sql_exec(file, sql);
	double best = 1e9;
	for (int round = 0; round < 2; round++) {
		st = store_open(file, STORE_READ, err, sizeof err);
		assert_non_null(st);
		struct inventory v;
		struct timespec a, b;
		struct store_query q = { 0 };
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
		assert_true(store_load_inventory(st, &q, &v, err, sizeof err));
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		double t = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		best = t < best ? t : best;
		/* every usage row and name reached its client: the truth is the SQL above */
		assert_int_equal(v.n_clients, n);
		for (size_t i = 0; i < v.n_clients; i++) {
			const struct inv_client *c = &v.clients[i];
			assert_int_equal(c->status, CS_NONSECURE);
			assert_int_equal(c->n_use, 1);
			assert_int_equal(c->use[0].port, 8476);
			assert_int_equal(c->users.n, 1);
			assert_int_equal(c->use[0].users.n, 1);
			assert_string_equal(c->users.v[0], c->use[0].users.v[0]);
			assert_int_equal(c->first_us, c->use[0].first_us);   /* the same i */
		}
		inventory_free(&v);
		store_close(st);
	}
	return best;
}

/* The report's load grows as n log n: 32 times the clients costs about 30-45 times the time, not
 * 1024 (it searched the client of each usage row linearly: a ratio over 200 here).  A generous
 * bound, on CPU time. */
static void load_is_not_quadratic(void **state)
{
	(void)state;
	double small = load_cpu_seconds(2000, path("small.db"));
	double big = load_cpu_seconds(64000, path("big.db"));
	double ratio = big / (small > 1e-4 ? small : 1e-4);
	printf("# store_load: 2000 clients %.4f s, 64000 clients %.4f s CPU: ratio %.1f (n log n ~ 45, n^2 1024)\n",
	       small, big, ratio);
	assert_true(ratio < 100);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/tlsready-store-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(schema_created),
		cmocka_unit_test(migration_from_v1),
		cmocka_unit_test(migration_from_v4_host_names),
		cmocka_unit_test(migration_from_v5_identity),
		cmocka_unit_test(checkpoint_math),
		cmocka_unit_test(retention_keeps_inventory),
		cmocka_unit_test(refuses_text_file),
		cmocka_unit_test(refuses_foreign_sqlite),
		cmocka_unit_test(refuses_damaged_and_newer),
		cmocka_unit_test(lock_modes_and_links),
		cmocka_unit_test(load_is_not_quadratic),
		cmocka_unit_test(health_not_analysed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
