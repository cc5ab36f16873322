/*
 * portmapper.h - IBM i port mapper (as-svrmap, port 449).
 *
 * The client sends a service name in ASCII with no terminator ("as-signon-s");
 * the server answers 5 bytes: '+' and a 32-bit port.  Anything else is a
 * failure.  One lookup per connection.
 */
#ifndef TLSREADY_PORTMAPPER_H
#define TLSREADY_PORTMAPPER_H

#include "dissector.h"

struct pm_state {
	size_t off[2];             /* private parser position */
	bool request;              /* a plausible service name was seen */
	char requested[32];        /* the name as sent, e.g. "as-signon-s" */
	char service[20];          /* the catalogue name it maps to ("as-signon"; "as-file" -> "as-netdrive"; "as-ddm"/"drda" -> "ddm") */
	bool secure;               /* the name carried "-s" */
	bool reply;                /* a complete reply was seen */
	bool reply_ok;             /* it was '+' and a port */
	uint32_t port;             /* the port answered (valid when reply_ok) */
	uint8_t reply_byte;        /* first reply byte, for failures */
	bool malformed;            /* not a port-mapper exchange after all */
	bool request_done;         /* the name is final (reply started or maximum length) */
};

enum probe pm_probe(const uint8_t *buf, size_t len, int dir);
void pm_consume(struct pm_state *s, int dir, const uint8_t *buf, size_t len);
bool pm_done(const struct pm_state *s);
extern const struct protocol protocol_portmapper;

#endif
