/*
 * events.h - what the monitor tells other tools, as it happens.
 *
 * In: each finished flow (the JSON object of the report contract, from the
 * store's checkpoint) and each new finding (events_detect(): the difference
 * between a checkpoint's inventory and the stored one).  Out:
 * NDJSON lines appended to the --events file ({"type":"flow",...} and
 * {"type":"finding",...}, docs/schema.md), and with --syslog one syslog(3)
 * message per finding.  The file is reopened on SIGHUP (log rotation).
 * It is created 0640 and never opened through a symbolic link (outfile.h).
 */
#ifndef TLSREADY_EVENTS_H
#define TLSREADY_EVENTS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "inventory.h"

/* A finding: something the stored inventory had not seen (events_detect.c). */
struct event_finding {
	char kind[32];             /* new-nonsecure-client, client-back-on-nonsecure,
	                              nonsecure-client-new-address, new-obsolete-tls-version,
	                              certificate-expiring */
	int64_t time_us;           /* when it was seen */
	char client[48], server[48], service[32], user[48], device[48], detail[256];
	char host[48];             /* the client's DHCP host (its hardware address, as stored), "" none */
	uint16_t port;
	int64_t previous_us;       /* back-on-nonsecure, new-address: the last nonsecure use before;
	                              certificate: not_after */
	long days;                 /* certificate: days left (negative: expired); back: days absent */
};

/*
 * The findings of a checkpoint: the difference between `now` (the inventory of
 * the flows of this checkpoint, open ones included) and `before` (what the
 * store held for the same clients, and its certificates).
 *
 * Who a client is: a row of `now` whose dhcp names a DHCP host (its hardware
 * address, as the store keys it) is the rows of `before` with the same host,
 * whatever their addresses; a host `before` never saw is the rows of its
 * addresses that have no DHCP host, unless another host held that address.  A
 * row without a host is every row of its address (the address is the
 * identity).  `before` may hold rows per address (no host: a store that keeps
 * no identity), per (address, host) or per host over its addresses; each
 * row's addresses are its addrs[] when filled, else its ip.
 *
 * A client is new on a nonsecure port when `before` never saw it there, back
 * when its last use there is older than back_after_us; a DHCP host known on
 * a nonsecure port that uses one from an address `before` never saw it at
 * is at a new address; a TLS version below 1.2 is new for a client, server
 * and port when `before` never saw it negotiated there; a certificate is
 * expiring when it ends within EXPIRY_WARN_DAYS of now_us and did not
 * already when last stored.  Returns the count; *out is malloc'ed (NULL when
 * none).
 */
size_t events_detect(const struct inventory *before, const struct inventory *now, int64_t now_us,
		     int64_t back_after_us, struct event_finding **out);

struct events {
	FILE *f;
	const char *path;          /* NULL: no events file */
	bool use_syslog;
	unsigned long long lines, errors;
	bool unsafe;               /* the last open was refused: a link, or not a plain file */
};

bool events_open(struct events *ev, const char *path, bool use_syslog, char *err, size_t errlen);
/* Close and open the file again (after it was rotated); false with err on failure. */
bool events_reopen(struct events *ev, char *err, size_t errlen);
bool events_chown(struct events *ev, uid_t uid, gid_t gid, char *err, size_t errlen);
void events_flow(struct events *ev, const char *flow_json);
void events_finding(struct events *ev, const struct event_finding *f);
/* Push the lines out (end of a checkpoint); false if writing failed. */
bool events_flush(struct events *ev);
void events_close(struct events *ev);

#endif
