/*
 * compare.h - two periods of the inventory compared (last week against the
 * week before): who is new on a nonsecure port, who moved to TLS, who is
 * still nonsecure, who stopped, who disappeared, which services became
 * clean or dirty.
 *
 * Input: two `struct inventory` (from one capture each, or loaded from the
 * monitor's store for a period) and each one's period bounds.  Output: a
 * `struct comparison`, every list sorted, so two runs over the same
 * inventories give the same comparison.  Nothing here prints
 * (report_compare.h does) and nothing here reads packets or the store.
 *
 * The items point into the two inventories (clients, usage rows, service
 * names): they must outlive the comparison.  Copying name sets would double
 * the memory of a large state for nothing.  Each inventory holds one client
 * per address and one row per client, server, service, port and class, as
 * inventory_build() and the store's load make them; their order does not
 * matter.
 *
 * The rules, written once here and in docs/schema.md ("Comparing two
 * periods"):
 *
 *  - A nonsecure use is a usage row on a nonsecure port of a client whose
 *    status is nonsecure (the reports' cutover list), with at least one
 *    connection that was neither refused nor unanswered.  An attempt-only
 *    client has none; nor has a row whose every SYN was refused.
 *  - Uses are keyed by client, server, service and port.  Each nonsecure use
 *    of `before` is exactly one of: still nonsecure (the same key in
 *    `after`), moved to TLS, stopped, or part of a disappeared client.  Each
 *    nonsecure use of `after` is still nonsecure or new.
 *  - Moved to TLS: the client has no nonsecure use of the key in `after`
 *    and completed TLS (the row's `tls` count) with the same server on a
 *    secure port of the paired service.  A secure service pairs with a
 *    nonsecure one when the names are equal (the built-in catalogue gives
 *    both ports one name: as-signon 8476/9476, telnet 23/992, ddm 446/448)
 *    or the secure name is the nonsecure name and one of the suffixes IBM i's
 *    service table (WRKSRVTBLE) and IANA use: "-s", "-ssl", "-tls", "s"
 *    (as-signon-s, telnet-ssl, ddm-ssl, telnets), as a --services file
 *    copied from WRKSRVTBLE names them.  TLS on another server is not a move
 *    of this use: it is "stopped" here, and new or secure there.
 *  - Stopped: the client is seen in `after` (on any port) but neither of
 *    the above.  A client absent from `after` altogether is one
 *    "disappeared" item (whatever its status), not one item per use.
 *  - A service (server, service, nonsecure port) became clean when it had
 *    clients with a nonsecure use in `before` and none in `after`; dirty,
 *    the reverse.  Internal clients count: a port restriction breaks them
 *    too.
 *  - Internal clients (loopback, an IBM i address) are flagged on each item
 *    (`internal`, from either period) and counted apart in the totals.
 */
#ifndef TLSREADY_COMPARE_H
#define TLSREADY_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inventory.h"

/* A period bound that is not given (from the beginning, up to now). */
#define CMP_OPEN INT64_MIN

struct cmp_period {
	int64_t since_us, until_us;    /* microseconds since the epoch, or CMP_OPEN */
};

enum cmp_kind {
	CMP_NEW_NONSECURE = 0,   /* a nonsecure use in after, not in before */
	CMP_MOVED_TO_TLS,        /* nonsecure in before; TLS on the paired secure port in after instead */
	CMP_STILL_NONSECURE,     /* the same nonsecure use in both */
	CMP_STOPPED,             /* nonsecure in before; the client is seen in after, without this use or its TLS */
	CMP_DISAPPEARED,         /* a client of before not seen at all in after */
	CMP_BECAME_CLEAN,        /* a service with nonsecure clients in before and none in after */
	CMP_BECAME_DIRTY,        /* the reverse */
	CMP_KINDS
};

struct cmp_item {
	enum cmp_kind kind;
	/* the client in each period, NULL where it is absent (services: both NULL) */
	const struct inv_client *cb, *ca;
	/* per-use kinds: the rows compared.  new, still: `after` is the nonsecure row;
	 * still, moved, stopped: `before` is the nonsecure row; moved: `after` is the
	 * secure row it moved to.  NULL where none. */
	const struct inv_usage *before, *after;
	/* the key: per-use kinds and services (disappeared: zero, NULL, 0) */
	struct addr server;
	const char *service;           /* NULL when the row has none */
	uint16_t port;                 /* the nonsecure port */
	bool internal;                 /* the client is internal in either period */
	/* the span of the nonsecure use: new, the after row; still, the before row's first to the
	 * after row's last; moved, stopped, the before row.  Disappeared: the client's rows (0 and 0
	 * when it had none: a client seen only at the port mapper).  Services: 0. */
	int64_t first_us, last_us;
	uint64_t nonsecure_uses;       /* disappeared: its nonsecure uses in before */
	uint64_t clients_before, clients_after;   /* services: distinct clients with a nonsecure use */
};

struct cmp_list {
	struct cmp_item *v;
	size_t n;
};

struct cmp_side_totals {
	uint64_t clients;              /* every client of the period */
	uint64_t nonsecure_clients;    /* status nonsecure */
	uint64_t nonsecure_uses;       /* nonsecure uses, as defined above */
	uint64_t dirty_services;       /* (server, service, port) with at least one nonsecure use */
	uint64_t internal_clients;
};

struct comparison {
	struct cmp_period before_period, after_period;
	struct cmp_list list[CMP_KINDS];
	uint64_t internal[CMP_KINDS];  /* how many of each list's items are internal */
	uint64_t disappeared_nonsecure;   /* disappeared clients whose status was nonsecure */
	struct cmp_side_totals before, after;
};

/*
 * Compare; false only when memory ran out (cmp is then empty, and freeing it
 * is harmless).  Lists are sorted by client address, then server address,
 * port and service name; disappeared by client; services by server, port
 * and service name.
 */
bool compare_build(struct comparison *cmp, const struct inventory *before, const struct cmp_period *before_period,
		   const struct inventory *after, const struct cmp_period *after_period);
void compare_free(struct comparison *cmp);

/* "new-nonsecure", "moved-to-tls", "still-nonsecure", "stopped", "disappeared", "became-clean",
 * "became-dirty": the CSV `kind` and, with '_' for '-', the JSON array names. */
const char *cmp_kind_name(enum cmp_kind k);
/* A client's status in one period: client_status_name(), or "absent" for NULL. */
const char *cmp_status_name(const struct inv_client *c);
/* The rules above, for the writers and the tests. */
bool compare_nonsecure_use(const struct inv_client *c, const struct inv_usage *u);
bool compare_services_pair(const char *nonsecure, const char *secure);

#endif
