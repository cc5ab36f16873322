/*
 * inventory.h - the flow records rolled up per client and per server.
 *
 * Input: the engine's finished records, sorted by first packet.  Output:
 * clients sorted by address, each with one entry per (server, service,
 * port, port class) and the port-mapper names it asked for; servers sorted
 * by address with the ports they served.  Also links each port-mapper
 * lookup to the connection the same client opened next to the port it was
 * told.  Reporters read this; nothing here prints.
 */
#ifndef TLSREADY_INVENTORY_H
#define TLSREADY_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "findings.h"
#include "record.h"

#define INV_MAX_NAMES 16

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
	int64_t first_us, last_us;
	struct name_set users, devices;
	uint32_t tls_versions;     /* bit (version & 0xff) for 0x03xx */
	bool mismatch;
};

struct inv_client {
	struct addr ip;
	bool internal;
	enum client_status status;
	struct inv_usage *use;
	size_t n_use, cap_use;
	struct name_set mapper_requests;
	struct name_set users, devices;
	struct name_set software;  /* TLS stacks (by fingerprint), DRDA products, terminal types */
	uint64_t signon_failures;
	bool attempted_nonsecure;  /* a nonsecure port saw its SYN, and nothing more */
	int64_t last_nonsecure_us;
	uint32_t findings;         /* enum finding bits over its flows */
	struct offer_summary offer;
};

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

struct inventory {
	struct inv_client *clients;
	size_t n_clients;
	struct inv_server *servers;
	size_t n_servers;
	uint64_t nonsecure_clients, secure_clients, unknown_clients, internal_clients, attempt_clients;
};

bool inventory_build(struct inventory *inv, struct engine *e);
void inventory_free(struct inventory *inv);
const char *client_status_name(enum client_status s);
/* "TLSv1.2,TLSv1.3" style iteration helper: the versions in a bit set, ascending. */
int inv_versions(uint32_t bits, uint16_t *out, int max);
/* Add a name to a sorted unique set. */
void name_set_add(struct name_set *s, const char *name);
void name_set_free(struct name_set *s);

#endif
