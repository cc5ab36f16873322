/*
 * record.c - names of the record's value sets (the report contract's words)
 * and the accessors reporters share; the protocol-specific facts come from
 * the owning protocol's description (protocol.h).
 */
#include "record.h"

#include <stdlib.h>

#include "fingerprints.h"
#include "protocol.h"
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

const char *record_content(const struct flow_record *r)
{
	if (r->app == APP_PROTOCOL && r->proto)
		return r->proto->name;
	return r->app == APP_OPAQUE ? "opaque" : "undecided";
}

const char *record_user(const struct flow_record *r)
{
	const char *u = r->facts && r->proto->user ? r->proto->user(r->facts) : NULL;
	return u ? u : r->up.user[0] ? r->up.user : NULL;
}

int record_cred(const struct flow_record *r)
{
	if (r->up.cred)
		return r->up.cred;
	return r->facts && r->proto->clear_password && r->proto->clear_password(r->facts) ? UC_PASSWORD : UC_NONE;
}

enum port_class record_use_class(const struct flow_record *r)
{
	return r->cls == PC_NONSECURE && r->up.result == UR_UPGRADED ? PC_SECURE : r->cls;
}

const char *record_device(const struct flow_record *r)
{
	return r->facts && r->proto->device ? r->proto->device(r->facts) : NULL;
}

const char *record_host_name(const struct flow_record *r, const char **source)
{
	bool has = r->facts && r->proto->host;
	*source = has ? r->proto->host_source : NULL;
	return has ? r->proto->host(r->facts) : NULL;
}

const char *record_software(const struct flow_record *r, char *buf, size_t len)
{
	/* TLS is the transport: its client stack comes from the fingerprint table */
	const struct tls_state *t = rec_tls(r);
	if (t)
		return t->client_hello ? fingerprint_stack(t->ja4, t->ja3) : NULL;
	return r->facts && r->proto->software ? r->proto->software(r->facts, buf, len) : NULL;
}

bool record_tls_by_headers(const struct flow_record *r)
{
	const uint8_t hs = 1u << 2;   /* handshake, 22 */
	return !r->tls_plain_alert && (r->tls_head_types[0] & hs) && (r->tls_head_types[1] & hs) &&
	       r->tls_heads[0] >= 2 && r->tls_heads[1] >= 2;
}

bool record_handshake_done(const struct flow_record *r)
{
	return r->handshake_done || r->midstream || r->payload[0] || r->payload[1];
}

void record_free(struct flow_record *r)
{
	if (!r)
		return;
	if (r->facts && r->proto && r->proto->destroy)
		r->proto->destroy(r->facts);
	else
		free(r->facts);
	free(r);
}
