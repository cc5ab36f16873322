/*
 * classify.c - dissector selection and the flow's final verdict.
 *
 * Probing order: the protocol the catalogue expects for the port first,
 * then every registered protocol in the order of protocols.c (TLS first: it
 * is recognised on any port).  A flow whose first
 * bytes every dissector rejects is APP_OPAQUE.  Mid-stream flows do not
 * start at a message boundary: only TLS record framing and the host-server
 * header are looked for, anywhere else the bytes stay opaque (transport
 * "unknown").  A cleartext flow no dissector claims is read by upgrade.c for
 * its protocol's own upgrade to TLS (command, then reply) and the names sent
 * in clear; classify_final turns that into upgrade.result.
 */
#include "classify.h"

#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "hostserver.h"
#include "preamble.h"
#include "protocols.h"
#include "tls.h"
#include "upgrade.h"

/* The protocol the catalogue expects on the flow's port, or NULL. */
static const struct protocol *expected_protocol(const struct flow_record *r)
{
	if (!r->service)
		return NULL;
	for (const struct protocol *const *p = protocols; *p; p++)
		if ((*p)->expected && (*p)->expected(r->service, (int)r->cls))
			return *p;
	return NULL;
}

/* A TLS record header of any content type: mid-stream recognition. */
static bool looks_like_tls_record(const uint8_t *buf, uint32_t len)
{
	struct cursor c = cur_make(buf, len);
	uint8_t type = cur_u8(&c);
	uint8_t major = cur_u8(&c);
	uint8_t minor = cur_u8(&c);
	uint16_t rlen = cur_be16(&c);
	return !c.err && type >= 20 && type <= 23 && major == 3 && minor <= 4 && rlen > 0 && rlen <= 18432;
}

static bool adopt(struct flow_record *r, const struct protocol *p)
{
	r->app = APP_PROTOCOL;
	r->proto = p;
	r->facts = p->create();
	return r->facts != NULL;
}

static void decide(struct flow_record *r, int dir, const uint8_t *buf, uint32_t len, bool midstream)
{
	if (midstream) {
		if (looks_like_tls_record(buf, len) && tls_probe(buf, len, dir) != PROBE_YES) {
			r->app = APP_PROTOCOL;  /* records without a handshake: no state needed */
			r->proto = &protocol_tls;
			r->midstream = true;
			return;
		}
	}
	const struct protocol *first = expected_protocol(r);
	bool maybe = false;
	if (first) {
		enum probe p = first->probe(buf, len, dir);
		if (p == PROBE_YES) {
			adopt(r, first);
			return;
		}
		maybe |= p == PROBE_MAYBE;
	}
	for (const struct protocol *const *p = protocols; *p; p++) {
		if (*p == first)
			continue;
		enum probe v = (*p)->probe(buf, len, dir);
		if (v == PROBE_YES) {
			adopt(r, *p);
			return;
		}
		maybe |= v == PROBE_MAYBE;
	}
	if (!maybe)
		r->app = APP_OPAQUE;
}

/* Cleartext protocols that upgrade to TLS are scanned this far for a ClientHello. */
#define STARTTLS_SCAN 4096

/* Offset just after a line end followed by a TLS handshake record, or -1. */
static long tls_after_line(const uint8_t *buf, uint32_t len, int dir)
{
	struct cursor c = cur_make(buf, len);
	for (uint32_t i = 0; i + 1 < len && i < STARTTLS_SCAN; i++) {
		if (cur_peek_u8(&c, i) != '\n' || cur_peek_u8(&c, i + 1) != 0x16)
			continue;
		struct cursor t = c;
		cur_skip(&t, i + 1);
		struct cursor rest = cur_rest(&t);
		if (tls_probe(rest.p, rest.len, dir) == PROBE_YES)
			return (long)i + 1;
	}
	return -1;
}

/* Where TLS starts after a command line, or after a SOCKS or RDP exchange; -1 if not (yet). */
static long tls_start(struct flow_record *r, const uint8_t *buf, uint32_t len, int dir)
{
	long at = tls_after_line(buf, len, dir);
	const char *name = NULL;
	if (at < 0 && (at = preamble_tls_offset(buf, len, dir, &name)) >= 0)
		r->preamble = name;
	return at;
}

/* A cleartext flow whose client starts a TLS handshake after its protocol's upgrade command
 * (upgrade.h), another command line, or a proxy's exchange. */
static void look_for_starttls(struct flow_record *r, int dir, const uint8_t *buf, uint32_t len)
{
	if (dir != DIR_C2S) {
		upgrade_server(&r->up, buf, len);   /* an LDAP refusal; nothing else before the client's TLS */
		return;
	}
	long at = upgrade_client(&r->up, buf, len);
	if (at < 0 && !r->up.asked)
		at = tls_start(r, buf, len, dir);
	if (at < 0)
		return;
	r->starttls = true;
	r->tls_base[0] = (uint32_t)at;
	r->tls_base_set[0] = true;
	adopt(r, &protocol_tls);
}

static void feed_tls(struct flow_record *r, int dir, const uint8_t *buf, uint32_t len)
{
	if (!r->facts)
		return;
	if (r->starttls && !r->tls_base_set[dir]) {
		/* the server's TLS after its yes to the client's upgrade command, else after any line */
		long at = dir == DIR_S2C && r->up.tls_followed ? upgrade_server(&r->up, buf, len) : -1;
		if (at < 0)
			at = tls_start(r, buf, len, dir);
		if (at < 0)
			return;
		r->tls_base[dir] = (uint32_t)at;
		r->tls_base_set[dir] = true;
	}
	struct cursor c = cur_make(buf, len);
	if (!cur_skip(&c, r->tls_base[dir]))
		return;
	struct cursor rest = cur_rest(&c);
	tls_consume(r->facts, dir, rest.p, rest.len);
}

bool classify_done(const struct flow_record *r)
{
	switch (r->app) {
	case APP_PROTOCOL: return !r->facts || r->proto->done(r->facts);
	case APP_OPAQUE: return r->midstream || r->opaque_scanned >= STARTTLS_SCAN;
	default: return false;
	}
}

bool classify_bytes(struct flow_record *r, int dir, const uint8_t *buf, uint32_t len, bool midstream)
{
	if (len == 0)
		return false;
	if (r->app == APP_UNDECIDED)
		decide(r, dir, buf, len, midstream);
	if (r->app == APP_OPAQUE && !midstream) {
		look_for_starttls(r, dir, buf, len);
		if (dir == DIR_C2S)
			r->opaque_scanned = len;
	}
	/* The server spoke first in its own protocol (telnet's option negotiation) and the client
	 * answered with a ClientHello: a TLS attempt on a cleartext port. */
	if (dir == DIR_C2S && !r->client_first_seen && r->app == APP_PROTOCOL && !record_is(r, &protocol_tls)) {
		enum probe p = tls_probe(buf, len, dir);
		r->client_first_seen = p != PROBE_MAYBE;
		r->hello_to_cleartext = p == PROBE_YES;
	}
	if (record_is(r, &protocol_tls))
		feed_tls(r, dir, buf, len);   /* from where TLS starts in each direction (STARTTLS) */
	else if (r->app == APP_PROTOCOL && r->facts)
		r->proto->consume(r->facts, dir, buf, len);
	return classify_done(r);
}

bool classify_is_ibmi(const struct flow_record *r)
{
	return r->app == APP_PROTOCOL && r->facts && r->proto->is_ibmi && r->proto->is_ibmi(r->facts);
}

/*
 * TLS 1.3: after the ServerHello everything is encrypted, alerts included.
 * A client's Finished is at least 53 bytes on the wire (4 header + 32 hash
 * + 1 type + 16 AEAD tag).  A client that sends one shorter encrypted record
 * and nothing more rejected the server (an encrypted alert: 19 bytes bare,
 * 35 from Java's JSSE in the lab) and never finished its handshake.
 */
#define TLS13_MIN_FINISHED 53

static bool tls13_rejected(const struct tls_state *t)
{
	return t->version == 0x0304 && t->appdata_records[0] == 1 && t->first_appdata_len[0] < TLS13_MIN_FINISHED;
}

static enum transport tls_transport(const struct flow_record *r)
{
	const struct tls_state *t = rec_tls(r);
	bool ended_badly = r->tcp == TCP_RESET || r->tcp == TCP_CLOSED;
	if (!t) {
		/* mid-stream records: encrypted data both ways means a session was up */
		return r->payload[0] && r->payload[1] ? TR_TLS : TR_UNKNOWN;
	}
	if (tls13_rejected(t) && r->payload[1])
		return TR_TLS_FAILED;
	if (t->completed)
		return TR_TLS;         /* whatever followed: a late alert or violation is reported as such */
	if (t->alert && t->alert_level == 2)
		return TR_TLS_FAILED;
	/* one-sided capture: the visible side went past its handshake */
	if (r->payload[0] == 0 && t->server_hello && (t->appdata[1] || t->finished[1]))
		return TR_TLS;
	/* The server chose a version and a cipher, and the rest was not captured (the capture
	 * ended with the connection open, or a hole hides it): the server accepted TLS. */
	/* A server certificate over the handshake cap was not parsed: the client then sending its own
	 * ChangeCipherSpec means it went on (TLS), closing instead means it gave up (failed). */
	bool fatal = t->alert && t->alert_level == 2;   /* a warning alert refuses nothing */
	if (t->cert_over_cap && t->server_hello && !fatal)
		return t->ccs[0] || t->finished[0] || t->appdata[0] ? TR_TLS
		       : r->tcp == TCP_CLOSED || r->tcp == TCP_RESET ? TR_TLS_FAILED : TR_UNKNOWN;
	/* a ClientHello answered in clear (bytes that are no TLS record): a cleartext server refused it */
	if (t->client_hello && !t->server_hello && r->payload[1] && (t->dead[1] || t->malformed[1]))
		return TR_TLS_FAILED;
	bool accepted = t->server_hello && !t->hello_retry && !fatal && tls_version_name(t->version);
	if (accepted && (r->tcp == TCP_OPEN || r->gap[0] || r->gap[1]))
		return TR_TLS;
	if (r->payload[0] == 0 || r->payload[1] == 0)
		return TR_UNKNOWN;     /* attempted, outcome not seen */
	/* a hole in the captured bytes (loss, snaplen) hides the rest of the handshake */
	if (r->gap[0] || r->gap[1] || t->malformed[0] || t->malformed[1])
		return TR_UNKNOWN;
	if (ended_badly || tls13_rejected(t))
		return TR_TLS_FAILED;
	return TR_UNKNOWN;
}

void classify_final(struct flow_record *r)
{
	if (r->payload[0] == 0 && r->payload[1] == 0)
		r->transport = TR_NONE;
	else if (record_is(r, &protocol_tls)) {
		struct tls_state *t = rec_tls(r);
		/* a TLS 1.3 client that answered with a lone encrypted alert never finished its handshake */
		if (t && tls13_rejected(t) && r->payload[1])
			t->completed = false;
		r->transport = tls_transport(r);
	}
	else if (r->app == APP_OPAQUE)
		r->transport = r->midstream ? TR_UNKNOWN : TR_CLEARTEXT;
	else if (r->app == APP_UNDECIDED)
		r->transport = TR_UNKNOWN;
	else
		r->transport = TR_CLEARTEXT;
	if (r->hello_to_cleartext)
		r->transport = TR_TLS_FAILED;
	/* the snap length cut the handshake, but record headers from both sides prove a session */
	if (r->transport == TR_UNKNOWN && r->snaplen_cut && record_tls_by_headers(r) &&
	    (r->app == APP_UNDECIDED || record_is(r, &protocol_tls)))
		r->transport = TR_TLS;

	/* a protocol's own upgrade (upgrade.h): TLS on the nonsecure port by design, not a mismatch */
	struct upgrade *u = &r->up;
	bool upgrade_tls = u->asked && u->tls_followed && record_is(r, &protocol_tls);
	if (upgrade_tls && r->transport == TR_TLS && u->accepted)
		u->result = u->cred ? UR_CREDENTIALS_FIRST : UR_UPGRADED;
	else if (upgrade_tls && r->transport == TR_TLS_FAILED)
		u->result = UR_FAILED;
	else if (u->asked && !upgrade_tls && r->transport == TR_CLEARTEXT)
		u->result = UR_REFUSED;

	r->mismatch = MM_NONE;
	if (u->result == UR_UPGRADED || u->result == UR_CREDENTIALS_FIRST || u->result == UR_FAILED)
		return;
	if (r->cls == PC_SECURE && r->transport == TR_CLEARTEXT)
		r->mismatch = MM_CLEAR_ON_SECURE;
	else if ((r->cls == PC_NONSECURE || r->cls == PC_MAPPER) &&
		 (r->transport == TR_TLS || r->transport == TR_TLS_FAILED))
		r->mismatch = MM_TLS_ON_NONSECURE;
}
