/*
 * genstore.c - write a monitor state with N clients, to time the report of a
 * large state (make bench-store, tests/bench/store.sh).  Not a test.
 *
 *   genstore FILE N
 *
 * The schema is the program's own (store_create_at_version() at the current
 * version, the migrations the monitor runs); the rows are written with plain
 * SQL in one transaction: client i (10.x.y.z) used the secure as-signon port
 * 9476, every third client the nonsecure 8476 too, each with a user profile,
 * a device name for the 5250 ones, one run, one interval and the counters.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "store.h"

static void check(int rc, sqlite3 *db, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE) {
		fprintf(stderr, "genstore: %s: %s\n", what, sqlite3_errmsg(db));
		exit(2);
	}
}

int main(int argc, char **argv)
{
	char err[600];
	if (argc != 3 || atol(argv[2]) <= 0) {
		fprintf(stderr, "usage: genstore FILE N\n");
		return 2;
	}
	long n = atol(argv[2]);
	if (!store_create_at_version(argv[1], STORE_SCHEMA_VERSION, err, sizeof err)) {
		fprintf(stderr, "genstore: %s\n", err);
		return 2;
	}
	sqlite3 *db;
	check(sqlite3_open(argv[1], &db), db, "open");
	check(sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN", NULL, NULL, NULL), db, "begin");
	sqlite3_stmt *cl, *us, *nm;
	/* the inventory rows of one day (store_inventory.c), the columns in the order of migration 4, then
	 * migration 6's DHCP host (and client identifier): '' for a client that is its address */
	check(sqlite3_prepare_v2(db, "INSERT INTO inv_client VALUES(?9,?1,0,?2,0,?3,?4,coalesce(?5,0),coalesce(?6,0),0,0,0,"
				 "?7,?8,0,0,0,'','')", -1, &cl, NULL), db, "client");
	check(sqlite3_prepare_v2(db, "INSERT INTO inv_usage VALUES(?10,?1,0,'192.0.2.10',?2,?3,?4,3,0,0,0,0,?5,?6,?7,0,?8,?9,'')",
				 -1, &us, NULL), db, "usage");
	check(sqlite3_prepare_v2(db, "INSERT INTO inv_name VALUES(?8,?1,0,?2,?3,?4,?5,?6,?7,'')", -1, &nm, NULL), db, "name");
	const int64_t t0 = INT64_C(1767225600) * 1000000;   /* 2026-01-01 */
	for (long i = 0; i < n; i++) {
		char ip[32], user[32], dev[32];
		snprintf(ip, sizeof ip, "10.%ld.%ld.%ld", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		snprintf(user, sizeof user, "USER%05ld", i % 50000);
		snprintf(dev, sizeof dev, "QPADEV%04ld", i % 9973);
		bool ns = i % 3 == 0;
		int64_t first = t0 + (int64_t)i * 1000, last = first + 3600 * INT64_C(1000000);
		int64_t day = first / (INT64_C(86400) * 1000000);
		sqlite3_bind_text(cl, 1, ip, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(cl, 2, ns ? 2 : 1);   /* connections */
		sqlite3_bind_int(cl, 7, 1);            /* a TLS ClientHello seen (the secure use) */
		sqlite3_bind_int(cl, 8, 0x0303);
		sqlite3_bind_int64(cl, 9, day);
		sqlite3_bind_int64(cl, 3, first);
		sqlite3_bind_int64(cl, 4, last);
		if (ns) {
			sqlite3_bind_int64(cl, 5, first);
			sqlite3_bind_int64(cl, 6, last);
		} else {
			sqlite3_bind_null(cl, 5);
			sqlite3_bind_null(cl, 6);
		}
		check(sqlite3_step(cl), db, "client row");
		sqlite3_reset(cl);
		for (int k = 0; k < (ns ? 2 : 1); k++) {
			const char *svc = k ? "as-signon" : "as-signon-s";
			int port = k ? 8476 : 9476, cls = k ? 1 : 2;   /* PC_NONSECURE : PC_SECURE */
			sqlite3_bind_text(us, 1, ip, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(us, 2, svc, -1, SQLITE_STATIC);
			sqlite3_bind_int(us, 3, port);
			sqlite3_bind_int(us, 4, cls);
			sqlite3_bind_int(us, 5, k ? 3 : 0);          /* cleartext */
			sqlite3_bind_int(us, 6, k ? 0 : 3);          /* tls */
			sqlite3_bind_int(us, 7, k ? 0 : 1 << 3);     /* TLS 1.2 (0x0303) */
			sqlite3_bind_int64(us, 8, first);
			sqlite3_bind_int64(us, 9, last);
			sqlite3_bind_int64(us, 10, day);
			check(sqlite3_step(us), db, "usage row");
			sqlite3_reset(us);
			for (int level = 0; level < 2; level++) {   /* the usage's name and the client's */
				sqlite3_bind_text(nm, 1, ip, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(nm, 2, level ? "" : "192.0.2.10", -1, SQLITE_STATIC);
				sqlite3_bind_text(nm, 3, level ? "" : svc, -1, SQLITE_STATIC);
				sqlite3_bind_int(nm, 4, level ? 0 : port);
				sqlite3_bind_int(nm, 5, level ? 0 : cls);
				sqlite3_bind_text(nm, 6, "user", -1, SQLITE_STATIC);
				sqlite3_bind_text(nm, 7, user, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(nm, 8, day);
				int rc = sqlite3_step(nm);
				if (rc != SQLITE_CONSTRAINT)
					check(rc, db, "name row");
				sqlite3_reset(nm);
			}
		}
	}
	sqlite3_finalize(cl);
	sqlite3_finalize(us);
	sqlite3_finalize(nm);
	char sql[512];
	snprintf(sql, sizeof sql,
		 "INSERT INTO run(iface, started_us, stopped_us, last_checkpoint_us) VALUES('eth1',%" PRId64 ",%" PRId64
		 ",%" PRId64 ");"
		 "INSERT INTO interval(iface, start_us, end_us, packets, received, dropped_kernel, dropped_interface, flows)"
		 " VALUES('eth1',%" PRId64 ",%" PRId64 ",%ld,%ld,0,0,%ld);"
		 "INSERT INTO counter VALUES('checkpoints',1),('packets',%ld),('pcap_received',%ld);COMMIT",
		 t0, t0 + 86400 * INT64_C(1000000), t0 + 86400 * INT64_C(1000000), t0, t0 + 86400 * INT64_C(1000000),
		 n * 10, n * 10, n * 4 / 3, n * 10, n * 10);
	check(sqlite3_exec(db, sql, NULL, NULL, NULL), db, "commit");
	sqlite3_close(db);
	printf("genstore: %s: %ld clients, %ld usage rows\n", argv[1], n, n + (n + 2) / 3);
	return 0;
}
