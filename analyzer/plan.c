/*
 * plan.c - the verdict per door and the clients that block it (see plan.h).
 * The doors are IBM's nonsecure ports (host servers 8470-8476, the legacy
 * 8477-8479, telnet 23, DDM 446, FTP 21, SMTP 25, POP3 110, LDAP 389, the HTTP
 * administration server 2001, Navigator 2002 and 2004, DCM 2006: see
 * docs/ibmi-cutover.md section 12) and any other nonsecure service the
 * inventory shows in use; a door is blocked by a client that used it past
 * the TCP handshake or asked the port mapper for it, ready when the basis
 * covers the days asked for without such use, unknown otherwise.
 */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *service;
	uint16_t port, tls_port;
	enum door_kind kind;
	const char *command, *rollback, *restart, *how;
} builtin[] = {
	{ "as-central", 8470, 9470, DOOR_HOSTSERVER, NULL, NULL, NULL, NULL },
	{ "as-database", 8471, 9471, DOOR_HOSTSERVER, NULL, NULL, NULL, NULL },
	{ "as-dtaq", 8472, 9472, DOOR_HOSTSERVER, NULL, NULL, NULL, NULL },
	{ "as-netdrive", 8473, 9473, DOOR_HOSTSERVER, NULL, NULL, NULL, NULL },
	{ "as-netprt", 8474, 9474, DOOR_HOSTSERVER, NULL, NULL, NULL, NULL },
	{ "as-rmtcmd", 8475, 9475, DOOR_HOSTSERVER, NULL, NULL, NULL, NULL },
	{ "as-signon", 8476, 9476, DOOR_HOSTSERVER, NULL, NULL, NULL, NULL },
	{ "as-netdrive", 8477, 0, DOOR_LEGACY, NULL, NULL, NULL, NULL },
	{ "as-transfer", 8478, 0, DOOR_LEGACY, NULL, NULL, NULL, NULL },
	{ "as-vrtprint", 8479, 0, DOOR_LEGACY, NULL, NULL, NULL, NULL },
	{ "telnet", 23, 992, DOOR_TELNET, NULL, NULL, NULL, NULL },
	{ "ddm", 446, 448, DOOR_OTHER, NULL, NULL, NULL, "no CL command known here: clients move to port 448" },
	/* CHGFTPA: takes effect at the next connection; CHGPOPA: at the next start of the server */
	{ "ftp", 21, 990, DOOR_TCPSVR, "CHGFTPA ALWSSL(*ONLY)", "CHGFTPA ALWSSL(*YES)", NULL, NULL },
	{ "pop3", 110, 995, DOOR_TCPSVR, "CHGPOPA ALWSSL(*ONLY)", "CHGPOPA ALWSSL(*YES)", "*POP", NULL },
	{ "smtp", 25, 0, DOOR_OTHER, NULL, NULL, NULL, "no CL command known here: clients send STARTTLS before any AUTH" },
	{ "ldap", 389, 636, DOOR_OTHER, NULL, NULL, NULL,
	  "no CL command: CHGDIRSVRA has no TLS parameter; IBM sets the Directory Server's encryption with"
	  " the QgldChgDirSvrA API or IBM Navigator for i" },
	{ "as-admin", 2001, 2010, DOOR_OTHER, NULL, NULL, NULL,
	  "no CL command known here: clients move to port 2010" },
	{ "as-new-nav", 2002, 2003, DOOR_OTHER, NULL, NULL, NULL, "no CL command known here: clients move to the TLS port" },
	{ "as-nav", 2004, 2005, DOOR_OTHER, NULL, NULL, NULL, "no CL command known here: clients move to the TLS port" },
	{ "as-admin3-http", 2006, 2007, DOOR_OTHER, NULL, NULL, NULL,
	  "no CL command known here: clients move to port 2007" },
};
#define N_BUILTIN (sizeof builtin / sizeof builtin[0])

const char *door_verdict_name(enum door_verdict v)
{
	static const char *const n[] = { "ready", "blocked", "unknown" };
	return (unsigned)v <= VERDICT_UNKNOWN ? n[v] : "unknown";
}

const char *door_kind_name(enum door_kind k)
{
	static const char *const n[] = { "host-server", "legacy", "telnet", "other", "tcp-server" };
	return (unsigned)k <= DOOR_TCPSVR ? n[k] : "other";
}

const char *client_fix_name(enum client_fix f)
{
	static const char *const n[] = { "toolbox-for-java", "host-server-client", "5250-emulator", "telnet-client",
					 "port-mapper-only", "legacy-port", "ibm-i-itself", "other",
					 "upgrade-before-credentials" };
	return (unsigned)f <= FIX_UPGRADE ? n[f] : "other";
}

/* The door of a nonsecure use: the built-in one on that port, else one added for it. */
static int door_of(struct plan *p, const char *service, uint16_t port)
{
	for (size_t i = 0; i < p->n_doors; i++)
		if (p->doors[i].port == port)
			return (int)i;
	if (p->n_doors >= PLAN_MAX_DOORS)
		return -1;
	struct plan_door *d = &p->doors[p->n_doors];
	memset(d, 0, sizeof *d);
	d->service = service ? service : "-";
	d->port = port;
	d->kind = DOOR_OTHER;
	for (size_t i = 0; service && i < N_BUILTIN; i++)   /* a moved service keeps its kind and TLS partner */
		if (strcmp(builtin[i].service, service) == 0 && builtin[i].kind != DOOR_LEGACY) {
			d->kind = builtin[i].kind;
			d->tls_port = builtin[i].tls_port;
			d->command = builtin[i].command;
			d->rollback = builtin[i].rollback;
			d->restart = builtin[i].restart;
			d->how = builtin[i].how;
		}
	return (int)p->n_doors++;
}

/* The door a nonsecure name asked of the port mapper stands for ("as-signon"; "-s" names are secure). */
static int door_of_name(struct plan *p, const char *name)
{
	size_t n = strlen(name);
	if (n > 2 && strcmp(name + n - 2, "-s") == 0)
		return -1;
	for (size_t i = 0; i < p->n_doors; i++)
		if (strcmp(p->doors[i].service, name) == 0)
			return (int)i;
	return -1;
}

static bool has_software(const struct inv_client *c, const char *word)
{
	for (int i = 0; i < c->software.n; i++)
		if (strstr(c->software.v[i], word))
			return true;
	return false;
}

static const char *first_software(const struct inv_client *c, const char *word)
{
	for (int i = 0; i < c->software.n; i++)
		if (!word || strstr(c->software.v[i], word))
			return c->software.v[i];
	return NULL;
}

/* A door whose protocol has its own upgrade to TLS on the same port (upgrade.h). */
static bool door_upgradable(uint16_t port)
{
	return port == 21 || port == 25 || port == 110 || port == 389;
}

static void choose_fix(struct plan *p, struct plan_client *pc)
{
	const struct inv_client *c = pc->c;
	bool legacy = false, hostserver = false, telnet = false, upgradable = false, used = false;
	for (size_t i = 0; i < p->n_doors; i++) {
		if (!(pc->doors & (1ull << i)))
			continue;
		legacy |= p->doors[i].kind == DOOR_LEGACY;
		hostserver |= p->doors[i].kind == DOOR_HOSTSERVER;
		telnet |= p->doors[i].kind == DOOR_TELNET;
		upgradable |= door_upgradable(p->doors[i].port);
	}
	for (size_t j = 0; j < c->n_use; j++)
		used |= c->use[j].cls == PC_NONSECURE && c->use[j].connections > c->use[j].attempts;
	if (c->internal) {
		pc->fix = FIX_LOOPBACK;
	} else if (!used) {
		pc->fix = FIX_MAPPER_ONLY;
	} else if (legacy) {
		pc->fix = FIX_LEGACY;
	} else if (hostserver && (has_software(c, "Toolbox") || has_software(c, "JTOpen") || has_software(c, "jt400"))) {
		pc->fix = FIX_TOOLBOX;
		pc->evidence = first_software(c, "Toolbox") ?: first_software(c, "JTOpen") ?: first_software(c, "jt400");
	} else if (hostserver) {
		pc->fix = FIX_HOSTSERVER_UNKNOWN;
		pc->evidence = first_software(c, NULL);
	} else if (telnet && has_software(c, "IBM-")) {
		pc->fix = FIX_EMULATOR;
		pc->evidence = first_software(c, "IBM-");
	} else if (telnet) {
		pc->fix = FIX_TELNET_OTHER;
		pc->evidence = first_software(c, NULL);
	} else if (upgradable) {
		pc->fix = FIX_UPGRADE;
		pc->evidence = first_software(c, NULL);
	} else {
		pc->fix = FIX_OTHER;
		pc->evidence = first_software(c, NULL);
	}
}

bool plan_build(struct plan *p, const struct inventory *inv, const struct plan_basis *basis)
{
	memset(p, 0, sizeof *p);
	p->basis = *basis;
	for (size_t i = 0; i < N_BUILTIN; i++) {
		struct plan_door *d = &p->doors[p->n_doors++];
		d->service = builtin[i].service;
		d->port = builtin[i].port;
		d->tls_port = builtin[i].tls_port;
		d->kind = builtin[i].kind;
		d->command = builtin[i].command;
		d->rollback = builtin[i].rollback;
		d->restart = builtin[i].restart;
		d->how = builtin[i].how;
	}
	p->clients = calloc(inv->n_clients ? inv->n_clients : 1, sizeof *p->clients);
	if (!p->clients)
		return false;
	for (size_t i = 0; i < inv->n_clients; i++) {
		const struct inv_client *c = &inv->clients[i];
		uint64_t blocks = 0;
		for (size_t j = 0; j < c->n_use; j++) {
			const struct inv_usage *u = &c->use[j];
			if (u->cls != PC_NONSECURE)
				continue;
			int k = door_of(p, u->service, u->port);
			if (k < 0)
				continue;
			struct plan_door *d = &p->doors[k];
			d->connections += u->connections;
			d->attempts += u->attempts;
			if (u->connections > u->attempts) {
				blocks |= 1ull << k;
				if (u->last_us > d->last_use_us)
					d->last_use_us = u->last_us;
			}
		}
		if (c->nonsecure_lookup)
			for (int m = 0; m < c->mapper_requests.n; m++) {
				int k = door_of_name(p, c->mapper_requests.v[m]);
				if (k >= 0) {
					blocks |= 1ull << k;
					p->doors[k].asked_mapper = true;
					if (c->last_nonsecure_us > p->doors[k].last_use_us)
						p->doors[k].last_use_us = c->last_nonsecure_us;
				}
			}
		if (!blocks)
			continue;
		for (size_t k = 0; k < p->n_doors; k++)
			if (blocks & (1ull << k)) {
				p->doors[k].clients++;
				p->doors[k].internal_clients += c->internal;
			}
		struct plan_client *pc = &p->clients[p->n_clients++];
		pc->c = c;
		pc->doors = blocks;
	}
	for (size_t i = 0; i < p->n_clients; i++)
		choose_fix(p, &p->clients[i]);
	/* what the "ready" verdicts rest on */
	bool enough = basis->observed_us >= basis->required_us &&
		      (!basis->coverage_known || basis->coverage >= PLAN_MIN_COVERAGE) && !basis->one_sided;
	for (size_t k = 0; k < p->n_doors; k++) {
		struct plan_door *d = &p->doors[k];
		d->verdict = d->clients ? VERDICT_BLOCKED : enough ? VERDICT_READY : VERDICT_UNKNOWN;
		p->blocked += d->verdict == VERDICT_BLOCKED;
		p->unknown += d->verdict == VERDICT_UNKNOWN;
		p->ready += d->verdict == VERDICT_READY;
	}
	p->overall = p->blocked ? VERDICT_BLOCKED : p->unknown ? VERDICT_UNKNOWN : VERDICT_READY;
	for (size_t i = 0; i < inv->n_clients; i++) {
		const struct inv_client *c = &inv->clients[i];
		p->break_min_tls12 += breaks_if_min_tls12(&c->offer);
		p->break_no_rc4_3des += breaks_if_rc4_3des_removed(&c->offer);
	}
	return true;
}

void plan_free(struct plan *p)
{
	free(p->clients);
	memset(p, 0, sizeof *p);
}
