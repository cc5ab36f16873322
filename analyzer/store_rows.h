/*
 * store_rows.h - the inventory rows a store keeps (clients, their uses,
 * server ports, names, notes, days, certificates), read back into an
 * inventory: one reading for both backends.
 *
 * In: each result row of a backend's query (store_inventory.c: SQLite;
 * store_pg_load.c: PostgreSQL), seen through a struct store_row, with the
 * columns in the order each function below gives; the database did the
 * sums, minima, maxima and ORs across days and sensors.  Out: the inventory
 * (inventory.h) that every writer reads, finished by rows_finish().
 * Nothing here talks to a database or prints.
 */
#ifndef TLSREADY_STORE_ROWS_H
#define TLSREADY_STORE_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inventory.h"

/* One result row of either database; a NULL reads as "" or 0. */
struct store_row {
	const char *(*text)(const struct store_row *r, int col);
	int64_t (*num)(const struct store_row *r, int col);
	const void *result;   /* the backend's statement or result */
	int row;
};

struct rows_loader {
	struct inventory *inv;
	bool filtered;        /* only some clients were asked for: no server rows were read */
	bool identity;        /* the rows name clients by identity: an address, or "#" and a DHCP host's key */
	struct rows_ix {
		char ip[112];
		size_t index;
	} *ix;                /* the clients by their text address (or identity), for the rows that name them */
	size_t n_ix, cap_ix;
	int64_t *lease_first; /* identity: per client (in row order), its host's first lease start (the order of hosts) */
	size_t cap_lease_first;
	size_t cap_clients, cap_servers, cap_notes, cap_certs;
};

/* Each returns false only when memory ran out; a row that names nothing known is skipped. */

/* ip, flows, internal, first_us, last_us, first_nonsecure_us, last_nonsecure_us, findings,
 * signon_failures, nonsecure_lookup, offer_tls, offer_max_version, offer_families, offer_only_legacy,
 * offer_negotiated_legacy, open, first_nonsecure_ever_us; with identity also: host (the DHCP host's key,
 * "" none), client_id, addresses (comma-separated), the host's first lease start, identity (the key the
 * rows below name the client by) */
bool rows_client(struct rows_loader *l, const struct store_row *r);
/* After the last client row: sort the clients and index them for the rows below. */
bool rows_clients_done(struct rows_loader *l);
/* client, server, service, port, cls, connections, refused, unanswered, attempts, failed_tls, cleartext,
 * tls, tls_versions, mismatch, first_us, last_us */
bool rows_usage(struct rows_loader *l, const struct store_row *r);
/* server, port, service, cls, connections, tls_versions, findings, release_vrm (rows in any order) */
bool rows_port(struct rows_loader *l, const struct store_row *r);
/* client, server, service, port, cls, kind, name: a client's or a use's name, or (no client) a port's cipher */
bool rows_name(struct rows_loader *l, const struct store_row *r);
/* client, source (names.h's word), name, first_us, last_us, count: a client's host name (the database
 * took the minimum, maximum and sum over days and sensors); with identity also host: an address's row takes
 * every name of its address from the name protocols and the protocol names (DRDA) of no host, a DHCP host's
 * row the names of its host on its addresses */
bool rows_host_name(struct rows_loader *l, const struct store_row *r);
/* kind, client, server, port, service, user, detail, count, first_us, last_us */
bool rows_note(struct rows_loader *l, const struct store_row *r);
/* day, cls, connections */
bool rows_day(struct rows_loader *l, const struct store_row *r);
/* server, port, sha256, subject, issuer, not_after_us, first_us, last_us, not_before_us, key_type,
 * key_bits, sig_alg, self_signed */
bool rows_cert(struct rows_loader *l, const struct store_row *r);
/* The end of a reading: ok, the inventory is finished (inventory_finish); not ok, it is freed. */
bool rows_finish(struct rows_loader *l, bool ok);

#endif
