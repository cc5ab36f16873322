/*
 * leasebook.h - which DHCP host held an address when, over more than one
 * names table: the leases of a checkpoint's names table (names.h) and the
 * leases a state file kept from earlier checkpoints and runs, so that a
 * monitor (or --db runs over consecutive captures) follows a host across
 * addresses as a one-shot run over the whole capture does (issue 17).
 *
 * In: leasebook_add_names() (a prepared names table: each host keyed by its
 * hardware address, redacted when the store redacts), leasebook_add() (a
 * stored lease, already keyed so).  leasebook_prepare() applies names.c's
 * rules across both: a renewal of the same host on the same address is one
 * lease, a host that moved (IPv4: a DHCPv6 host, or the IPv6 side of a host
 * names.c linked, holds several addresses at once) ends its lease on the
 * address before, an address
 * given to another host ends the lease before it.  Out: leasebook_host_at():
 * the host (index into hosts) whose lease covered an address at a time;
 * leasebook_identify(): rows built with those hosts named by their keys.
 *
 * Memory: what a checkpoint reads (its names table, itself capped, and the
 * stored leases that end after its first connection); freed by
 * leasebook_free().
 */
#ifndef TLSREADY_LEASEBOOK_H
#define TLSREADY_LEASEBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct names;

#define LEASEBOOK_KEY 96

struct lease_host {
	char key[LEASEBOOK_KEY];   /* the hardware address as stored ("aa:bb:..", or its redaction) */
	char client_id[LEASEBOOK_KEY];
};

struct lease_entry {
	struct addr ip;
	uint32_t host;             /* index into hosts */
	int64_t start_us, end_us;
};

struct leasebook {
	struct lease_host *hosts;
	size_t n_hosts, cap_hosts;
	struct lease_entry *v;
	size_t n, cap;
	bool prepared;
};

/* A lease of the host `key`: false on no memory. */
bool leasebook_add(struct leasebook *b, const char *key, const char *client_id, const struct addr *ip,
		   int64_t start_us, int64_t end_us);
/* Every lease of a names table (NULL: none), its hosts keyed by hardware address, redacted with
 * redact_key when redact: false on no memory. */
bool leasebook_add_names(struct leasebook *b, const struct names *t, bool redact, const char *redact_key);
/* After the last add: hosts made unique by key, leases merged and ordered.  Idempotent. */
void leasebook_prepare(struct leasebook *b);
/* The host whose lease covered ip at time t, or -1 (after leasebook_prepare). */
int32_t leasebook_host_at(const struct leasebook *b, const struct addr *ip, int64_t t);
/* Each row of inv with a host (an index into b->hosts) given its DHCP identity: dhcp->hw the host's key,
 * dhcp->client_id its client identifier.  False on no memory. */
struct inventory;
bool leasebook_identify(const struct leasebook *b, struct inventory *inv);
void leasebook_free(struct leasebook *b);

#endif
