/*
 * plan.h - the cutover plan: can each nonsecure door of the IBM i close now,
 * with which commands, in IBM's order, and who must change what first.
 *
 * In: the inventory (one capture's, or the days of a monitor's state) and the
 * basis it rests on (the time observed, the coverage, what could not be
 * seen).  Out: a struct plan that the writers print (report_plan.c: the
 * "Cutover plan" text section, the JSON "plan" object, a CL source member);
 * nothing here prints, and nothing here runs a command: the commands are text
 * for the administrator, from docs/ibmi-cutover.md.
 */
#ifndef TLSREADY_PLAN_H
#define TLSREADY_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inventory.h"

#define PLAN_DEFAULT_DAYS 7
#define PLAN_MAX_DOORS 64
#define PLAN_MIN_COVERAGE 0.999   /* below this share of packets analysed, no door is "ready" */

enum door_kind {
	DOOR_HOSTSERVER = 0,       /* 8470-8476: a TLS port pairs it; closed by the port restriction */
	DOOR_LEGACY,               /* 8477-8479: no TLS port; closed by the same restriction */
	DOOR_TELNET,               /* 23: CHGTELNA ALWSSL(*ONLY) */
	DOOR_OTHER,                /* a nonsecure service with no command known here */
	DOOR_TCPSVR,               /* a TCP/IP server whose attribute command requires TLS: FTP, POP */
};

enum door_verdict { VERDICT_READY = 0, VERDICT_BLOCKED, VERDICT_UNKNOWN };

struct plan_door {
	const char *service;       /* catalogue name */
	uint16_t port, tls_port;   /* tls_port 0: none */
	enum door_kind kind;
	const char *command;       /* DOOR_TCPSVR: the CL that makes the server TLS only, e.g. CHGFTPA ALWSSL(*ONLY) */
	const char *rollback;      /* its undo */
	const char *restart;       /* the STRTCPSVR/ENDTCPSVR server value when the change needs a restart, or NULL */
	const char *how;           /* DOOR_OTHER with no command: where IBM says the server's TLS is set, or NULL */
	enum door_verdict verdict;
	uint64_t clients, connections, attempts, internal_clients;
	int64_t last_use_us;       /* 0: none seen */
	bool asked_mapper;         /* a client asked the port mapper for this nonsecure service */
};

/* What the verdicts rest on. */
struct plan_basis {
	int64_t first_us, last_us; /* the traffic observed (capture span, or the state's intervals) */
	int64_t observed_us;       /* the time actually watched (a state: its intervals summed) */
	int64_t required_us;       /* "ready" needs this long observed without nonsecure use */
	double coverage;           /* packets analysed / (analysed + dropped + not analysed); 1 with none missed */
	bool coverage_known;       /* false for capture files: what the file holds is all there is */
	uint64_t dropped;
	bool loopback_seen;        /* a loopback or IBM i-own client was seen: the capture point sees loopback */
	bool one_sided;            /* every connection seen was an attempt: the span may see one direction */
	bool from_state;
};

/* What a blocking client must change, keyed on what was seen. */
enum client_fix {
	FIX_TOOLBOX = 0,           /* IBM Toolbox for Java / JTOpen: SecureAS400, JDBC secure=true */
	FIX_HOSTSERVER_UNKNOWN,    /* a host-server client whose software is not known: the options */
	FIX_EMULATOR,              /* a 5250 emulator: port 992 with TLS */
	FIX_TELNET_OTHER,          /* telnet without a 5250 terminal type */
	FIX_MAPPER_ONLY,           /* asked the port mapper for a nonsecure name, no connection seen */
	FIX_LEGACY,                /* on a legacy port with no TLS counterpart */
	FIX_LOOPBACK,              /* the IBM i itself (its web tools) */
	FIX_OTHER,
	FIX_UPGRADE,               /* FTP, SMTP, POP3, LDAP in clear: the protocol's own upgrade, or the TLS port */
};

struct plan_client {
	const struct inv_client *c;   /* in the inventory the plan was made from */
	enum client_fix fix;
	uint64_t doors;            /* bit i: doors[i] of the plan */
	const char *evidence;      /* the software seen that chose the fix, or NULL */
};

struct plan {
	struct plan_basis basis;
	struct plan_door doors[PLAN_MAX_DOORS];
	size_t n_doors;
	enum door_verdict overall; /* blocked if any door is, unknown if any is and none blocked */
	size_t blocked, unknown, ready;
	struct plan_client *clients;   /* the blocking clients, by address */
	size_t n_clients;
	/* beyond the port switch, from the would-break verdicts */
	uint64_t break_min_tls12, break_no_rc4_3des;
};

bool plan_build(struct plan *p, const struct inventory *inv, const struct plan_basis *basis);
void plan_free(struct plan *p);
const char *door_verdict_name(enum door_verdict v);
const char *door_kind_name(enum door_kind k);
const char *client_fix_name(enum client_fix f);

#endif
