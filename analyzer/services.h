/*
 * services.h - the catalogue: which TCP port is which IBM i service.
 *
 * Built in: IBM's table (449; 8470-8479; 9470-9476; 9480; telnet 23/992; DDM
 * 446/448; FTP 21/990; SMTP 25; POP3 110/995; LDAP 389/636; the HTTP
 * administration server 2001/2010, Navigator 2002-2005, DCM 2006/2007).
 * A plain-text file (--services) extends or replaces it, and the port
 * mapper's answers teach it where a service really listens on one
 * server (services_learn).  Lookups are O(1) for the static table.
 */
#ifndef TLSREADY_SERVICES_H
#define TLSREADY_SERVICES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

enum port_class { PC_OTHER = 0, PC_NONSECURE, PC_SECURE, PC_MAPPER };

#define SERVICE_NAME_MAX 24
#define SERVICES_MAX_NAMES 250
#define SERVICES_MAX_LEARNED 4096

struct service_info {
	const char *name;          /* "as-signon"; NULL when the port is not catalogued */
	enum port_class cls;
	bool learned;              /* from a port-mapper reply, not the table */
};

struct learned_port {
	struct addr server;
	uint16_t port;
	uint8_t name;              /* index into names */
	uint8_t cls;
};

struct services {
	char names[SERVICES_MAX_NAMES + 1][SERVICE_NAME_MAX];
	int n_names;
	uint8_t port_name[65536];  /* 0 = not catalogued, else index into names */
	uint8_t port_cls[65536];
	struct learned_port learned[SERVICES_MAX_LEARNED];
	int n_learned;
	uint64_t learned_dropped;  /* learned entries beyond the bound */
};

const char *port_class_name(enum port_class c);

/* The built-in table. */
void services_init(struct services *s);
/*
 * Read a services file.  Format, one entry a line, '#' starts a comment:
 *     NAME PORT CLASS       CLASS = nonsecure | secure | mapper | other
 *     NAME PORT none        removes the port from the catalogue
 *     @replace              (first entry only) start from an empty table
 * On error writes "FILE:LINE: problem" into err and returns false.
 */
bool services_load(struct services *s, const char *path, char *err, size_t errlen);
/* The service on server:port (learned entries first). */
struct service_info services_lookup(const struct services *s, const struct addr *server, uint16_t port);
/* Is this port in the static catalogue? */
bool services_port_known(const struct services *s, uint16_t port);
/* The port mapper said `name` (catalogue name) listens on server:port. */
void services_learn(struct services *s, const struct addr *server, uint16_t port, const char *name,
		    enum port_class cls);
/* The catalogue's canonical name pointer for a name, adding it if new; NULL if full. */
const char *services_intern(struct services *s, const char *name);
/* A BPF expression matching every catalogued port, e.g. "tcp port 449 or ...". */
void services_bpf(const struct services *s, char *buf, size_t len);

#endif
