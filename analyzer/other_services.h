/*
 * other_services.h - connections to ports outside the catalogue (a --server
 * address, or IBM i bytes on another port), counted per server, port and
 * nDPI protocol, so nothing that reached the IBM i is invisible.
 *
 * In: the analysis's records in first-packet order (read once, in memory or
 * spooled).  Out: one row per (server, port, nDPI protocol) in the order of
 * its first connection, with its connections and distinct clients.  Memory
 * is the rows and their distinct (row, client) pairs, never the records.
 */
#ifndef TLSREADY_OTHER_SERVICES_H
#define TLSREADY_OTHER_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis.h"

struct other_service {
	struct addr srv;
	uint16_t port;
	char proto[40];            /* nDPI's name, "-" when nDPI did not run */
	const char *content;       /* the first connection's content word (record_content) */
	uint64_t clients, connections;
};

/* False on no memory or when the records could not be read back; *rows then NULL. */
bool other_services_of(const struct analysis *a, struct other_service **rows, size_t *n);

#endif
