/*
 * inventory.h - the flow records rolled up per client and per server: the
 * one model every writer prints and every store keeps.
 *
 * Input: an analysis (analysis.h: records sorted by first packet, their
 * findings and port-mapper links), or the rows a store loads back (store.h
 * fills these same structures).  Output: clients sorted by address, each
 * with one entry per (server, service, port, port class), the port-mapper
 * names it asked for, its names, software and TLS offers; servers sorted by
 * address with the ports they served; server certificates; and the notes
 * (port-mapper lookups, sign-on failures, mismatches) counted by kind; the
 * connections to nonsecure and secure ports per UTC day (the trend).
 * Nothing here prints.
 */
#ifndef TLSREADY_INVENTORY_H
#define TLSREADY_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "findings.h"
#include "record.h"

#define INV_MAX_NAMES 16
#define INV_MAX_CERTS 4096   /* distinct server certificates kept; more are not listed */

/* A client that only knocked on nonsecure ports (SYNs unanswered, refused, or a
 * handshake it never completed: what spoofed SYNs look like) is an attempt,
 * listed apart from the clients that used a nonsecure port. */
enum client_status { CS_UNKNOWN = 0, CS_SECURE, CS_NONSECURE, CS_ATTEMPT };

struct name_set {
	char (*v)[48];             /* sorted, unique; allocated on the first name */
	uint8_t n, cap;
	bool overflow;             /* more distinct names than kept (INV_MAX_NAMES) */
};

struct inv_usage {
	struct addr server;
	const char *service;       /* may be NULL (uncatalogued port on an IBM i) */
	uint16_t port;
	enum port_class cls;
	uint64_t connections, refused, unanswered, failed_tls, cleartext, tls;
	uint64_t attempts;         /* connections that never got past the TCP handshake */
	int64_t first_us, last_us;
	struct name_set users, devices;
	uint32_t tls_versions;     /* bit (version & 0xff) for 0x03xx */
	bool mismatch;
};

/* A host name of a client, with where it came from (names.h). */
struct inv_host_name {
	char name[96];
	uint8_t source;            /* enum name_source */
	struct addr ip;            /* the address it named */
	int64_t first_us, last_us;
	uint32_t count;
};

#define INV_MAX_ADDRS 16
#define INV_MAX_HOST_NAMES 16

struct inv_client {
	struct addr ip;            /* the address of its first connection (the row's address) */
	bool internal;
	enum client_status status;
	struct inv_usage *use;
	size_t n_use, cap_use;
	struct name_set mapper_requests;
	struct name_set users, devices;
	struct name_set software;  /* TLS stacks (by fingerprint), DRDA products, terminal types */
	uint64_t signon_failures;
	bool attempted_nonsecure;  /* a nonsecure port saw its SYN, and nothing more */
	bool nonsecure_lookup;     /* asked the port mapper for a nonsecure service */
	int64_t first_us, last_us; /* its first and last connection */
	int64_t first_nonsecure_us;   /* 0: never */
	uint64_t flows;            /* its connections, the port mapper's included */
	bool in_progress;          /* loaded from a store: some of it is from flows still open */
	int64_t first_nonsecure_ever_us;   /* loaded from a store: over every day it keeps, not only the window */
	int64_t last_nonsecure_us;
	uint32_t findings;         /* enum finding bits over its flows */
	struct offer_summary offer;
	/* who it is (names.h): filled when the run saw name protocols */
	int32_t host;              /* the DHCP host this row follows across addresses, -1: the address is its identity */
	struct inv_dhcp_id *dhcp;  /* that host's hardware address and DHCP client identifier; NULL for an
	                              address row (inv_client_hw, inv_client_id read it) */
	struct addr *addrs;        /* every address of its connections, sorted (addrs[0..n_addrs)), at most
	                              INV_MAX_ADDRS; allocated as they come (most rows have one: a flood of
	                              a million clients does not pay for sixteen each) */
	uint8_t n_addrs, cap_addrs;
	bool addrs_overflow;
	uint8_t hosts_on_address;  /* >1: its address served that many DHCP hosts (rows) in the run */
	struct inv_host_name *names;        /* best first (names[0] is the best name) */
	size_t cap_names;
	uint8_t n_names;
	bool names_overflow;
};

/* Who a DHCP host's row is: kept apart from struct inv_client (allocated only for such rows) so that
 * the million rows of a flood of spoofed sources do not each carry these 120 bytes. */
struct inv_dhcp_id {
	char hw[48];               /* the host's hardware address, its DHCP client identifier (hex): "" unknown */
	char client_id[72];
	char duid[72];             /* the DUID (hex) of the DHCPv6 host linked to this DHCPv4 host: "" none */
	uint8_t link_why;          /* enum dhcp_link bits (names.h): why they are one host; 0 none */
	uint8_t duids;             /* DHCPv6 hosts linked to it (duid is the first) */
};

static inline const char *inv_client_hw(const struct inv_client *c)
{
	return c->dhcp ? c->dhcp->hw : "";
}

static inline const char *inv_client_id(const struct inv_client *c)
{
	return c->dhcp ? c->dhcp->client_id : "";
}

struct inv_port {
	uint16_t port;
	const char *service;
	enum port_class cls;
	uint64_t connections;
	uint32_t tls_versions;
	struct name_set ciphers;   /* negotiated cipher suites */
	uint32_t findings;
};

struct inv_server {
	struct addr ip;
	struct inv_port *ports;
	size_t n_ports, cap_ports;
	uint32_t release_vrm;      /* from a host-server F003, 0 unknown */
	uint64_t clients;
};

/* A server certificate, once per (server, port, SHA-256). */
struct inv_cert {
	struct addr server;
	uint16_t port;
	char sha256[72], subject[256], issuer[256], key_type[16], sig_alg[48];
	int key_bits;
	bool self_signed;
	int64_t not_before, not_after;   /* epoch seconds */
	int64_t first_us, last_us;
};

/* Port-mapper lookups, sign-on failures and mismatches, counted per distinct line. */
enum note_kind { NOTE_LOOKUP = 0, NOTE_SIGNON_FAILURE, NOTE_MISMATCH, NOTE_KINDS };
struct inv_note {
	enum note_kind kind;
	struct addr client, server;
	uint16_t port;             /* the server port (lookup: the port 449) */
	char service[32];          /* the flow's service; lookup: the name asked for */
	char user[48];             /* sign-on failure: the user profile */
	char detail[96];           /* lookup: "secure: port 9476, then connected to 9476"; failure: the outcome and rc;
	                              mismatch: its name */
	uint64_t count;
	int64_t first_us, last_us;
};

/* The connections to nonsecure and to secure ports that started on one UTC day: what the uses
 * count (inv_usage.connections), by day. */
struct inv_day {
	int64_t day;               /* days since 1970-01-01 UTC */
	uint64_t nonsecure, secure;
};

struct inventory {
	struct inv_client *clients;
	size_t n_clients;
	struct inv_server *servers;
	size_t n_servers;
	struct inv_cert *certs;    /* in order of first sight */
	size_t n_certs;
	struct inv_note *notes;    /* in order of first sight */
	size_t n_notes;
	struct inv_day *days;      /* ascending, only the days with a connection */
	size_t n_days, cap_days;
	uint64_t nonsecure_clients, secure_clients, unknown_clients, internal_clients, attempt_clients;
	uint64_t flows;            /* connections rolled up */
	char **strings;            /* service names owned by a loaded inventory (inventory_intern) */
	size_t n_strings, cap_strings;
};

/* With the analysis' names (a->names): rows follow DHCP hosts across addresses, and carry host names. */
bool inventory_build(struct inventory *inv, const struct analysis *a);
/* The records [from, to) of the analysis (a monitor's day), one row per address, no names. */
bool inventory_build_range(struct inventory *inv, const struct analysis *a, size_t from, size_t to);
/* The records [from, to) with each record's DHCP host given (hosts[i - from]: an index of the caller's,
 * -1: none): one row per (host, address), or per address where no host; no names (a store's rows). */
bool inventory_build_hosts(struct inventory *inv, const struct analysis *a, size_t from, size_t to,
			   const int32_t *hosts);
/* Every record of the analysis with each record's DHCP host given (hosts[i]: an index of the caller's, -1:
 * none): one row per host over its addresses, or per address where no host; no names (a monitor's
 * checkpoint, compared with its store by events_detect()). */
bool inventory_build_follow(struct inventory *inv, const struct analysis *a, const int32_t *hosts);
/* The same inventories from records given one at a time in first-packet order (a spooled analysis
 * read back), held in a spool of their own (budget: its batch bytes, spool.h) so memory does not grow
 * with them.  With names t: inventory_build's rows (host: names_host_at); without names, each record's
 * host the caller's index (-1 none): per_address, inventory_build_hosts' rows, else
 * inventory_build_follow's.  index: the record's in the analysis.
 * inv_builder_finish frees the builder (also on failure: false, nothing in *inv); _abandon when
 * stopping early. */
struct inv_builder;
struct inv_builder *inv_builder_new(const struct analysis *a, const struct names *t, bool per_address,
				    size_t budget);
bool inv_builder_add(struct inv_builder *b, const struct flow_record *r, size_t index, int32_t host);
bool inv_builder_finish(struct inv_builder *b, struct inventory *inv);
void inv_builder_abandon(struct inv_builder *b);
/* Every record of a spooled analysis read back once into such a builder (t and per_address as for
 * inv_builder_new), each record's host from host_fn(ctx, record) (NULL: none); false on no memory or a
 * spool that could not be read back. */
typedef int32_t (*inv_host_fn)(const void *ctx, const struct flow_record *r);
bool inventory_build_spooled(struct inventory *inv, const struct analysis *a, const struct names *t,
			     bool per_address, inv_host_fn host_fn, const void *ctx);
/* Add an address to a client's sorted addresses (addrs_overflow past INV_MAX_ADDRS). */
void inventory_add_addr(struct inv_client *c, const struct addr *ip);
/* How many rows share each address (hosts_on_address), then the rows in address order (then host). */
void inventory_shared_addresses(struct inventory *inv);
/* Add a host name (source: enum name_source) to a client, or widen the times and add the count of
 * the same name from the same source for the same address (a store's rows read back). */
void inventory_add_host_name(struct inv_client *c, const char *name, int source, const struct addr *ip,
			     int64_t first_us, int64_t last_us, uint32_t count);
/* After the clients' uses were filled (build or load): statuses and totals, servers' client counts. */
void inventory_finish(struct inventory *inv);
/* A certificate's findings (expired, expiring within EXPIRY_WARN_DAYS of end_us, not yet valid,
 * self-signed, weak key, SHA-1 signature) as enum finding bits. */
uint32_t inventory_cert_findings(const struct inv_cert *c, int64_t end_us);
/* Add a certificate (or widen the times of the one with its key); cap: the array's capacity. */
void inventory_add_cert(struct inventory *inv, size_t *cap, const struct inv_cert *c);
/* Count `n` connections of port class `cls` (nonsecure or secure; others are ignored) on `day`,
 * keeping inv->days ascending: false on no memory. */
bool inventory_add_day(struct inventory *inv, int64_t day, enum port_class cls, uint64_t n);
/* The UTC day of a time in microseconds (floor: before 1970 is negative). */
int64_t inventory_day(int64_t us);
/* Room for one more element in *arr (n used, *cap allocated; doubles, from 16): false on no memory. */
bool inventory_grow(void **arr, size_t n, size_t *cap, size_t elem);
/* A copy of s owned by the inventory (the same pointer for equal strings); NULL on no memory. */
const char *inventory_intern(struct inventory *inv, const char *s);
void inventory_free(struct inventory *inv);
const char *client_status_name(enum client_status s);
/* "TLSv1.2,TLSv1.3" style iteration helper: the versions in a bit set, ascending. */
int inv_versions(uint32_t bits, uint16_t *out, int max);
/* Add a name to a sorted unique set. */
void name_set_add(struct name_set *s, const char *name);
void name_set_free(struct name_set *s);

#endif
