/*
 * protocol.h - how a dissector describes itself to the rest of tlsready.
 *
 * Each dissector file ends with one `const struct protocol protocol_X`, and
 * analyzer/protocols.c registers it with one line.  Classification (which
 * dissector owns a flow), the light probe (IBM i bytes on ports outside the
 * catalogue), flow records (user, device, client software), the inventory
 * and the writers (the flow's facts object in JSON) read that table; none of
 * them names a protocol, except where a protocol's facts carry a meaning of
 * their own elsewhere (TLS versions and certificates, the port mapper's
 * answers, host-server sign-ons).  Adding a protocol: its dissector file,
 * its line in protocols.c, the catalogue, and its tests.
 *
 * A state is created when the protocol claims a flow and freed with the
 * record; everything the dissector learned stays in it (the "facts").
 */
#ifndef TLSREADY_PROTOCOL_H
#define TLSREADY_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dissector.h"

/* Where and how a protocol prints its facts. */
struct facts_out {
	FILE *f;
	/* a personal name (user, device) as the report shows it: itself, or redacted */
	const char *(*name)(const void *ctx, const char *name, char *buf, size_t len);
	const void *ctx;
	const char *service;       /* the catalogue's name for the flow's port, or NULL */
};

/* Port classes as the catalogue numbers them (analyzer/services.h). */
enum { PROTO_PC_NONSECURE = 1, PROTO_PC_SECURE = 2, PROTO_PC_MAPPER = 3 };

struct protocol {
	const char *name;          /* the flow's "content" word, and the key of its JSON facts object */
	bool light;                /* also probed on flows outside the catalogue: its bytes prove an IBM i */
	/* The catalogue's service and port class say the flow should be this protocol. */
	bool (*expected)(const char *service, int port_class);
	enum probe (*probe)(const uint8_t *buf, size_t len, int dir);
	void *(*create)(void);     /* a new state, ready for consume(); NULL when out of memory */
	size_t state_size;         /* its bytes: a state is flat (no pointers) but for TLS's chain (spool.c copies it) */
	void (*destroy)(void *state);   /* frees a state and what it holds; NULL: the state is one free() */
	void (*consume)(void *state, int dir, const uint8_t *buf, size_t len);
	bool (*done)(const void *state);
	bool (*is_ibmi)(const void *state);         /* NULL: never proves an IBM i */
	const char *(*user)(const void *state);     /* NULL, or NULL returned: none */
	const char *(*device)(const void *state);
	/* What the client software says it is, as a token that names its evidence (analyzer/software.h
	 * reads it): "host-server level 10, version 1, CCSID 1200", "DRDA PRDID JCC04290", "DRDA EXTNAM JT400",
	 * "telnet terminal type IBM-3179-2"; written into buf (len bytes) or returned; NULL: none. */
	const char *(*software)(const void *state, char *buf, size_t len);
	const char *(*host)(const void *state);     /* a name the client gives its own machine (issue 17) */
	const char *host_source;                    /* that name's source word in reports ("drda-srvnam") */
	void (*facts_json)(const struct facts_out *o, const void *state);   /* NULL: no facts object */
	bool (*clear_password)(const void *state);  /* NULL or false: no password seen in clear */
};

/* JSON values for facts printers (facts_json.c): a string with escapes, or null;
 * an unsigned integer in decimal. */
void facts_json_str(FILE *f, const char *s);
void facts_json_uint(FILE *f, uint64_t v);

#endif
