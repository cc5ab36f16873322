/*
 * record.c - names of the record's value sets (the report contract's words)
 * and the accessors reporters share.
 */
#include "record.h"

#include <stdlib.h>

#include "drda.h"
#include "fingerprints.h"
#include "hostserver.h"
#include "portmapper.h"
#include "telnet5250.h"
#include "tls.h"

const char *transport_name(enum transport t)
{
	static const char *const n[] = { "none", "tls", "tls-failed", "cleartext", "unknown" };
	return (unsigned)t <= TR_UNKNOWN ? n[t] : "unknown";
}

const char *tcp_outcome_name(enum tcp_outcome t)
{
	static const char *const n[] = { "refused", "unanswered", "established", "closed", "reset", "open" };
	return (unsigned)t <= TCP_OPEN ? n[t] : "open";
}

const char *mismatch_name(enum mismatch m)
{
	switch (m) {
	case MM_CLEAR_ON_SECURE: return "cleartext-on-secure-port";
	case MM_TLS_ON_NONSECURE: return "tls-on-nonsecure-port";
	default: return NULL;
	}
}

const char *app_name(enum app a)
{
	static const char *const n[] = { "undecided", "tls", "portmapper", "hostserver", "telnet", "drda", "opaque" };
	return (unsigned)a <= APP_OPAQUE ? n[a] : "undecided";
}

const char *record_user(const struct flow_record *r)
{
	if (r->hs && r->hs->user[0])
		return r->hs->user;
	if (r->tn && r->tn->user[0])
		return r->tn->user;
	if (r->drda && r->drda->user[0])
		return r->drda->user;
	return NULL;
}

const char *record_device(const struct flow_record *r)
{
	if (r->tn && r->tn->devname[0])
		return r->tn->devname;
	return NULL;
}

const char *record_software(const struct flow_record *r)
{
	if (r->tls && r->tls->client_hello)
		return fingerprint_stack(r->tls->ja4, r->tls->ja3);
	if (r->drda && r->drda->extnam[0])
		return r->drda->extnam;
	if (r->drda && r->drda->prdid[0])
		return r->drda->prdid;
	if (r->tn && r->tn->terminal_type[0])
		return r->tn->terminal_type;
	static const char *const levels[] = {
		"host-server datastream level 0", "host-server datastream level 1", "host-server datastream level 2",
		"host-server datastream level 3", "host-server datastream level 4", "host-server datastream level 5",
		"host-server datastream level 6", "host-server datastream level 7", "host-server datastream level 8",
		"host-server datastream level 9", "host-server datastream level 10",
	};
	if (r->hs && r->hs->client_level >= 0 && r->hs->client_level <= 10)
		return levels[r->hs->client_level];
	return NULL;
}

bool record_handshake_done(const struct flow_record *r)
{
	return r->handshake_done || r->midstream || r->payload[0] || r->payload[1];
}

void record_free(struct flow_record *r)
{
	if (!r)
		return;
	free(r->tls);
	free(r->pm);
	free(r->hs);
	free(r->tn);
	free(r->drda);
	free(r);
}
