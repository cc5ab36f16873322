/*
 * hostserver.c - IBM i host-server datastreams (as-central, as-database,
 * as-dtaq, as-file, as-netprt, as-rmtcmd, as-signon on 8470-8476 and, in
 * TLS, 9470-9476; as-hostcnn on 9480).
 *
 * What it is for: on a nonsecure host-server port it tells which server a
 * client used, who signed on (the user profile is in clear), whether the
 * sign-on worked, and the release and password level of the server.
 *
 * How data enters: hs_consume() gets every in-order byte of one direction so
 * far (dissector.h).  PDUs are framed by the 4-byte total length of their
 * 20-byte header; off[dir] is the start of the next PDU.  A PDU is handled
 * when all of it is there (one segment may hold several PDUs, one PDU may
 * span segments).  A body longer than HS_WAIT_MAX is not waited for: its
 * header is counted and off[dir] jumps past it, even beyond the bytes seen
 * so far.  A header that fails validation stops that direction (malformed).
 *
 * Only the opening exchange is read: 7001/F001 (seeds), 7003/F003 and
 * hostcnn 7103 (exchange attributes), 7002/F002 (start server), 7004/F004
 * (sign-on), 7005/7007 (user only), 7106 (a hostcnn socket being routed to
 * another server).  Everything else is counted by ID.  Seeds (CP 0x1103,
 * bytes 20-31 of 7001/F001), substitutes (0x1105), tokens (0x1115, F007)
 * are never copied: only the authentication type and the length.
 *
 * How data leaves: struct hs_state (hostserver.h) and the name helpers.
 *
 * Sources: /work/shared/docs/ibmi-protocols.md section 2 (header, server IDs,
 * validation heuristic, request/reply IDs, all VERIFIED), 3.1 (7003/F003,
 * 7004/F004, return codes), 3.2 (7001/F001, 7002/F002), 3.3 (hostcnn; the
 * 7103 reply ID F003 or F103 is UNCERTAIN, both are read), 3.5.
 */
#include "hostserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "protocol.h"

#define HS_HDR_LEN 20
#define HS_MAX_LEN (16u << 20)      /* sane maximum PDU length */
#define HS_WAIT_MAX 65536           /* bodies up to this are reassembled */
#define HS_DONE_PDUS 16             /* done after this many PDUs each way */
#define HS_MAX_PDUS 64              /* stop parsing a direction after this */
#define HS_PROFILE_LEN 10

#define HS_SERVER_HOSTCNN 0xE00B

/* Code points (meaning depends on the request, see section 2 point 8). */
enum {
	CP_VRM = 0x1101,
	CP_VERSION = 0x1101,       /* 7003: client version */
	CP_CLIENT_CCSID = 0x1113,  /* 7002/7004: client CCSID */
	CP_LEVEL = 0x1102,
	CP_USER = 0x1104,
	CP_SUBSTITUTE = 0x1105,
	CP_TOKEN = 0x1115,
	CP_PWD_LEVEL = 0x1119,
};

static const struct tok hs_servers[] = {
	{ 0xE000, "as-central" },
	{ 0xE002, "as-netdrive" },      /* the file server, "as-file" to clients */
	{ 0xE003, "as-netprt" },
	{ 0xE004, "as-database" },      /* SQL */
	{ 0xE005, "as-database" },      /* native database */
	{ 0xE006, "as-database" },      /* return object information */
	{ 0xE007, "as-dtaq" },
	{ 0xE008, "as-rmtcmd" },
	{ 0xE009, "as-signon" },
	{ 0xE00A, "as-database" },      /* XA */
	{ 0xE00B, "as-hostcnn" },
	{ 0, NULL }
};

static const struct tok hs_outcomes[] = {
	{ HS_OUTCOME_OK, "signed-on" },
	{ HS_OUTCOME_WRONG_PASSWORD, "wrong-password" },
	{ HS_OUTCOME_UNKNOWN_USER, "unknown-user" },
	{ HS_OUTCOME_DISABLED, "disabled" },
	{ HS_OUTCOME_EXPIRED, "password-expired" },
	{ HS_OUTCOME_OTHER_ERROR, "error" },
	{ 0, NULL }
};

/* Return code -> outcome; anything not listed is HS_OUTCOME_OTHER_ERROR. */
static const struct { uint32_t rc; enum hs_outcome o; } hs_rcs[] = {
	{ 0x00000000, HS_OUTCOME_OK },
	{ 0x00020001, HS_OUTCOME_UNKNOWN_USER },
	{ 0x00020002, HS_OUTCOME_DISABLED },
	{ 0x0003000B, HS_OUTCOME_WRONG_PASSWORD },
	{ 0x0003000C, HS_OUTCOME_WRONG_PASSWORD },   /* and the next failure disables */
	{ 0x0003000D, HS_OUTCOME_EXPIRED },
};

struct hs_hdr {
	uint32_t len;
	uint8_t attr_client, attr_server;   /* bytes 4 and 5 */
	uint16_t server;
	uint16_t tlen;
	uint16_t id;
};

enum hs_check { HS_NEED_MORE, HS_BAD, HS_OK };

/* ---- header ---- */

static bool hs_known_server(uint8_t lo)
{
	return lo == 0x00 || (lo >= 0x02 && lo <= 0x0B);
}

/*
 * Validate the header at the cursor (not advanced) as far as its bytes go:
 * HS_BAD as soon as a present field is wrong, HS_NEED_MORE before 20 bytes.
 */
static enum hs_check hs_check_header(struct cursor *c, struct hs_hdr *h)
{
	size_t have = cur_left(c);
	if (have >= 1 && cur_peek_u8(c, 0) > (HS_MAX_LEN >> 24))
		return HS_BAD;                  /* decided by the first byte alone */
	if (have >= 4) {
		h->len = cur_peek_be32(c, 0);
		if (h->len < HS_HDR_LEN || h->len > HS_MAX_LEN)
			return HS_BAD;
	}
	if (have >= 7 && cur_peek_u8(c, 6) != 0xE0)
		return HS_BAD;
	if (have >= 8 && !hs_known_server(cur_peek_u8(c, 7)))
		return HS_BAD;
	if (have < HS_HDR_LEN)
		return HS_NEED_MORE;
	h->attr_client = cur_peek_u8(c, 4);
	h->attr_server = cur_peek_u8(c, 5);
	h->server = cur_peek_be16(c, 6);
	h->tlen = cur_peek_be16(c, 16);
	h->id = cur_peek_be16(c, 18);
	if (c->err || h->tlen > h->len - HS_HDR_LEN)
		return HS_BAD;
	return HS_OK;
}

/* ---- parameters: LL(4) CP(2) data ---- */

/* 1 and the next parameter, 0 at the end, -1 when LL is impossible. */
static int hs_next_param(struct cursor *c, uint16_t *cp, struct cursor *data)
{
	if (cur_left(c) == 0)
		return 0;
	uint32_t ll = cur_be32(c);
	*cp = cur_be16(c);
	if (c->err || ll < 6 || ll - 6 > cur_left(c))
		return -1;
	*data = cur_sub(c, ll - 6);
	return 1;
}

/* The soft check of section 2 point 6: LL >= 6 and the chain ends at len. */
static bool hs_chain_regular(struct cursor chain)
{
	uint16_t cp;
	struct cursor d;
	int r;
	while ((r = hs_next_param(&chain, &cp, &d)) > 0)
		;
	return r == 0;
}

/* A cursor over the parameter chain starting at PDU offset `at`. */
static struct cursor hs_chain_at(const struct cursor *pdu, size_t at)
{
	struct cursor c = cur_rest(pdu);
	if (!cur_skip(&c, at))
		return cur_make(NULL, 0);
	return cur_rest(&c);
}

/* ---- facts ---- */

static bool hs_profile_char(char ch, bool first)
{
	if (ch >= 'A' && ch <= 'Z')
		return true;
	if (ch >= '0' && ch <= '9')
		return !first;
	return ch == '$' || ch == '#' || ch == '@' || ch == '_';
}

/* CP 0x1104 of a sign-on request: 10 EBCDIC bytes, maybe after a CCSID. */
static void hs_take_user(struct hs_state *s, struct cursor d)
{
	uint8_t raw[HS_PROFILE_LEN];
	char name[HS_PROFILE_LEN + 1];
	size_t n = cur_left(&d);
	if (s->user[0])
		return;
	if (n == HS_PROFILE_LEN + 4) {       /* CCSID(4) + name, as in replies */
		cur_skip(&d, 4);
		n -= 4;
	}
	if (n == 0 || n > HS_PROFILE_LEN || !cur_copy(&d, raw, n)) {
		s->user_invalid = true;
		return;
	}
	bool ok = ebcdic_to_ascii(name, sizeof name, raw, n) && name[0];
	for (size_t i = 0; ok && name[i]; i++)
		ok = hs_profile_char(name[i], i == 0);
	if (!ok) {
		s->user_invalid = true;
		return;
	}
	memcpy(s->user, name, strlen(name) + 1);   /* name fits: at most 10 characters */
}

static void hs_take_auth_len(struct hs_state *s, const struct cursor *d)
{
	size_t n = cur_left(d);
	if (!s->auth_len)
		s->auth_len = n > UINT16_MAX ? UINT16_MAX : (uint16_t)n;
}

static void hs_take_rc(struct hs_state *s, uint32_t rc, bool final)
{
	if (!final && (rc == 0 || s->signon_reply))
		return;                      /* an attributes reply is not a sign-on */
	s->rc_seen = true;
	s->rc = rc;
	s->outcome = HS_OUTCOME_OTHER_ERROR;
	for (size_t i = 0; i < sizeof hs_rcs / sizeof hs_rcs[0]; i++)
		if (hs_rcs[i].rc == rc)
			s->outcome = hs_rcs[i].o;
	if (final)
		s->signon_reply = true;
}

/* ---- one handler per opening request or reply ---- */

struct hs_pdu {
	const struct hs_hdr *h;
	struct cursor all;                  /* the whole PDU */
	struct cursor chain;                /* its parameter chain */
};

/* 7001: byte 4 is the client's attributes; bytes 20-27 (seed) untouched. */
static void hs_req_seeds(struct hs_state *s, struct hs_pdu *p)
{
	s->client_attrs = p->h->attr_client;
}

/* 7003 / 7103: client version (0x1101) and datastream level (0x1102); the seed (0x1103) skipped. */
static void hs_req_attributes(struct hs_state *s, struct hs_pdu *p)
{
	uint16_t cp;
	struct cursor d;
	while (hs_next_param(&p->chain, &cp, &d) > 0)
		if (cp == CP_LEVEL && cur_left(&d) >= 2) {
			uint16_t v = cur_be16(&d);
			s->client_level = v > INT16_MAX ? INT16_MAX : (int16_t)v;
		} else if (cp == CP_VERSION && cur_left(&d) >= 4) {
			uint32_t v = cur_be32(&d);
			s->client_version = v > INT32_MAX ? INT32_MAX : (int32_t)v;
		}
}

/* 7005 / 7007: only the user profile. */
static void hs_req_user(struct hs_state *s, struct hs_pdu *p)
{
	uint16_t cp;
	struct cursor d;
	while (hs_next_param(&p->chain, &cp, &d) > 0)
		if (cp == CP_USER)
			hs_take_user(s, d);
}

/* 7002 / 7004: byte 20 authentication type, client CCSID, substitute length, user. */
static void hs_req_signon(struct hs_state *s, struct hs_pdu *p)
{
	uint16_t cp;
	struct cursor d;
	if (p->h->tlen >= 1 && !s->auth_type)
		s->auth_type = cur_peek_u8(&p->all, HS_HDR_LEN);
	while (hs_next_param(&p->chain, &cp, &d) > 0) {
		if (cp == CP_SUBSTITUTE || cp == CP_TOKEN)
			hs_take_auth_len(s, &d);
		else if (cp == CP_USER)
			hs_take_user(s, d);
		else if (cp == CP_CLIENT_CCSID && cur_left(&d) >= 4 && !s->client_ccsid)
			s->client_ccsid = cur_be32(&d);
	}
}

/* 7106: this hostcnn socket now carries another server's datastreams. */
static void hs_req_route(struct hs_state *s, struct hs_pdu *p)
{
	if (p->h->server == HS_SERVER_HOSTCNN)
		s->routed = true;
}

/* F001: byte 5 password level, RC; the seed at 24-31 untouched. */
static void hs_rep_seeds(struct hs_state *s, struct hs_pdu *p)
{
	s->password_level = p->h->attr_server;
	hs_take_rc(s, cur_peek_be32(&p->all, HS_HDR_LEN), false);
}

/* F003 / F103: RC, server VRM, level, password level; seed skipped. */
static void hs_rep_attributes(struct hs_state *s, struct hs_pdu *p)
{
	uint16_t cp;
	struct cursor d;
	hs_take_rc(s, cur_peek_be32(&p->all, HS_HDR_LEN), false);
	while (hs_next_param(&p->chain, &cp, &d) > 0) {
		if (cp == CP_VRM && cur_left(&d) >= 4)
			s->server_vrm = cur_be32(&d);
		else if (cp == CP_LEVEL && cur_left(&d) >= 2)
			s->server_level = cur_be16(&d);
		else if (cp == CP_PWD_LEVEL && cur_left(&d) >= 1)
			s->password_level = cur_u8(&d);
	}
}

/* F002 / F004: the sign-on outcome. */
static void hs_rep_signon(struct hs_state *s, struct hs_pdu *p)
{
	hs_take_rc(s, cur_peek_be32(&p->all, HS_HDR_LEN), true);
}

/* Where the parameter chain starts: after the template, or a fixed offset. */
#define CHAIN_TEMPLATE 0

static const struct {
	int dir;
	uint16_t id;
	size_t chain;                       /* CHAIN_TEMPLATE or a PDU offset */
	size_t min_len;                     /* shorter PDUs are not read */
	bool soft_check;                    /* apply the LL/CP chain check */
	void (*fn)(struct hs_state *, struct hs_pdu *);
} hs_handlers[] = {
	{ DIR_C2S, 0x7001, CHAIN_TEMPLATE, 20, false, hs_req_seeds },
	{ DIR_C2S, 0x7002, CHAIN_TEMPLATE, 21, true, hs_req_signon },
	{ DIR_C2S, 0x7003, CHAIN_TEMPLATE, 20, true, hs_req_attributes },
	{ DIR_C2S, 0x7004, CHAIN_TEMPLATE, 21, true, hs_req_signon },
	{ DIR_C2S, 0x7005, CHAIN_TEMPLATE, 20, false, hs_req_user },
	{ DIR_C2S, 0x7007, CHAIN_TEMPLATE, 20, false, hs_req_user },
	{ DIR_C2S, 0x7103, CHAIN_TEMPLATE, 20, true, hs_req_attributes },
	{ DIR_C2S, 0x7106, CHAIN_TEMPLATE, 20, false, hs_req_route },
	{ DIR_S2C, 0xF001, 32, 24, true, hs_rep_seeds },
	{ DIR_S2C, 0xF002, 24, 24, true, hs_rep_signon },
	{ DIR_S2C, 0xF003, 24, 24, true, hs_rep_attributes },
	{ DIR_S2C, 0xF004, 24, 24, true, hs_rep_signon },
	{ DIR_S2C, 0xF103, 24, 24, true, hs_rep_attributes },
};

static void hs_dispatch(struct hs_state *s, int dir, const struct hs_hdr *h, struct cursor pdu)
{
	for (size_t i = 0; i < sizeof hs_handlers / sizeof hs_handlers[0]; i++) {
		if (hs_handlers[i].dir != dir || hs_handlers[i].id != h->id)
			continue;
		if (h->len < hs_handlers[i].min_len)
			return;
		size_t at = hs_handlers[i].chain == CHAIN_TEMPLATE ? HS_HDR_LEN + (size_t)h->tlen
		                                                   : hs_handlers[i].chain;
		struct hs_pdu p = { h, pdu, hs_chain_at(&pdu, at < h->len ? at : h->len) };
		if (hs_handlers[i].soft_check && !hs_chain_regular(p.chain))
			s->chain_irregular = true;
		hs_handlers[i].fn(s, &p);
		return;
	}
}

/* ---- framing ---- */

static bool hs_same_service(uint16_t a, uint16_t b)
{
	const char *na = hs_server_service(a), *nb = hs_server_service(b);
	return na && nb && strcmp(na, nb) == 0;
}

static void hs_track_server(struct hs_state *s, uint16_t sid)
{
	if (!s->server_id) {
		s->server_id = sid;
		return;
	}
	if (sid == s->server_id || hs_same_service(sid, s->server_id))
		return;
	if (s->routed && s->server_id == HS_SERVER_HOSTCNN) {
		if (!s->routed_server_id)
			s->routed_server_id = sid;
		else if (!hs_same_service(sid, s->routed_server_id))
			s->server_id_changed = true;
		return;
	}
	s->server_id_changed = true;
}

static void hs_note_id(uint16_t *ids, uint8_t *n, uint16_t id)
{
	if (*n < HS_MAX_IDS)
		ids[(*n)++] = id;
}

/* One PDU with a valid header; body is NULL when it was not waited for. */
static void hs_pdu(struct hs_state *s, int dir, const struct hs_hdr *h, const struct cursor *body)
{
	s->valid = true;
	s->pdus[dir]++;
	hs_track_server(s, h->server);
	if (dir == DIR_C2S)
		hs_note_id(s->req_ids, &s->n_req_ids, h->id);
	else
		hs_note_id(s->rep_ids, &s->n_rep_ids, h->id);
	if (body)
		hs_dispatch(s, dir, h, *body);
}

void hs_consume(struct hs_state *s, int dir, const uint8_t *buf, size_t len)
{
	if (!s || !buf || (dir != DIR_C2S && dir != DIR_S2C))
		return;
	while (!s->malformed[dir] && s->pdus[dir] < HS_MAX_PDUS && s->off[dir] < len) {
		struct cursor all = cur_make(buf, len);
		cur_skip(&all, s->off[dir]);
		struct cursor c = cur_rest(&all);
		struct hs_hdr h = { 0 };
		enum hs_check r = hs_check_header(&c, &h);
		if (r == HS_BAD) {
			s->malformed[dir] = true;
			break;
		}
		if (r == HS_NEED_MORE || (h.len <= HS_WAIT_MAX && cur_left(&c) < h.len))
			break;
		if (h.len <= HS_WAIT_MAX) {
			struct cursor body = cur_sub(&c, h.len);
			hs_pdu(s, dir, &h, &body);
		} else {
			hs_pdu(s, dir, &h, NULL);
		}
		s->off[dir] += h.len;
	}
}

bool hs_done(const struct hs_state *s)
{
	if (!s || s->malformed[DIR_C2S] || s->malformed[DIR_S2C])
		return true;
	/* a hostcnn main connection goes on to prepare and route other servers */
	if (s->signon_reply && !(s->server_id == HS_SERVER_HOSTCNN && !s->routed))
		return true;
	return s->pdus[DIR_C2S] >= HS_DONE_PDUS && s->pdus[DIR_S2C] >= HS_DONE_PDUS;
}

enum probe hs_probe(const uint8_t *buf, size_t len, int dir)
{
	struct cursor c = cur_make(buf, len);
	struct hs_hdr h;
	(void)dir;
	switch (hs_check_header(&c, &h)) {
	case HS_NEED_MORE: return PROBE_MAYBE;
	case HS_OK: return PROBE_YES;
	default: return PROBE_NO;
	}
}

void hs_init(struct hs_state *s)
{
	memset(s, 0, sizeof *s);
	s->password_level = -1;
	s->client_level = -1;
	s->client_version = -1;
}

const char *hs_server_service(uint16_t server_id)
{
	return tok_name(hs_servers, server_id);
}

const char *hs_outcome_name(enum hs_outcome o)
{
	return tok_name(hs_outcomes, (uint32_t)o);
}

bool hs_vrm_string(uint32_t vrm, char *buf, size_t len)
{
	if (!vrm || !buf || len == 0)
		return false;
	int n = snprintf(buf, len, "V%uR%uM%u", (unsigned)(vrm >> 16), (unsigned)(vrm >> 8 & 0xFF),
	                 (unsigned)(vrm & 0xFF));
	return n > 0 && (size_t)n < len;
}

/* ---- registration (protocol.h) ---- */

bool hs_server_id_mismatch(const struct hs_state *s, const char *service)
{
	if (!s || !s->valid || !service || s->routed)
		return false;
	const char *by_id = hs_server_service(s->server_id);
	return by_id && strcmp(by_id, service) != 0;
}

static bool hs_expected(const char *service, int cls)
{
	return service && cls != PROTO_PC_SECURE && cls != PROTO_PC_MAPPER && strncmp(service, "as-", 3) == 0;
}

static void *hs_create(void)
{
	struct hs_state *s = malloc(sizeof *s);
	if (s)
		hs_init(s);
	return s;
}

static void hs_consume_any(void *s, int dir, const uint8_t *buf, size_t len) { hs_consume(s, dir, buf, len); }
static bool hs_done_any(const void *s) { return hs_done(s); }
static bool hs_is_ibmi(const void *s) { return ((const struct hs_state *)s)->valid; }

static const char *hs_user(const void *v)
{
	const struct hs_state *s = v;
	return s->user[0] ? s->user : NULL;
}

/* "host-server level 10, version 1, CCSID 1200": the exchange attributes' client datastream
 * level and version, the sign-on's client CCSID (those seen; software.c names it). */
static const char *hs_software(const void *v, char *buf, size_t len)
{
	const struct hs_state *s = v;
	if (s->client_level < 0)
		return NULL;
	int n = snprintf(buf, len, "host-server level %d", s->client_level);
	if (s->client_version >= 0 && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, ", version %ld", (long)s->client_version);
	if (s->client_ccsid && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", CCSID %lu", (unsigned long)s->client_ccsid);
	return buf;
}

static void hs_facts_json(const struct facts_out *o, const void *v)
{
	const struct hs_state *h = v;
	FILE *f = o->f;
	char buf[32];
	fputs("{\"server_id\":", f);
	snprintf(buf, sizeof buf, "%04X", h->server_id);
	facts_json_str(f, buf);
	fputs(",\"server_id_service\":", f); facts_json_str(f, hs_server_service(h->server_id));
	fputs(hs_server_id_mismatch(h, o->service) ? ",\"server_id_mismatch\":true" : ",\"server_id_mismatch\":false", f);
	fputs(",\"requests\":[", f);
	for (int i = 0; i < h->n_req_ids; i++)
		fprintf(f, "%s\"%04X\"", i ? "," : "", h->req_ids[i]);
	fputs("],\"replies\":[", f);
	for (int i = 0; i < h->n_rep_ids; i++)
		fprintf(f, "%s\"%04X\"", i ? "," : "", h->rep_ids[i]);
	fputs("],\"signon\":", f);
	facts_json_str(f, hs_outcome_name(h->outcome));
	if (h->rc_seen)
		fprintf(f, ",\"return_code\":\"%08X\"", h->rc);
	fputs(",\"server_release\":", f);
	facts_json_str(f, hs_vrm_string(h->server_vrm, buf, sizeof buf) ? buf : NULL);
	if (h->password_level >= 0)
		fprintf(f, ",\"password_level\":%d", h->password_level);
	if (h->client_level >= 0)
		fprintf(f, ",\"client_datastream_level\":%d", h->client_level);
	if (h->client_version >= 0)
		fprintf(f, ",\"client_version\":%ld", (long)h->client_version);
	if (h->client_ccsid)
		fprintf(f, ",\"client_ccsid\":%lu", (unsigned long)h->client_ccsid);
	if (h->auth_type)
		fprintf(f, ",\"authentication\":{\"type\":%u,\"length\":%u}", h->auth_type, h->auth_len);
	fputc('}', f);
}

const struct protocol protocol_hostserver = {
	.name = "hostserver", .light = true, .expected = hs_expected, .probe = hs_probe, .create = hs_create,
	.state_size = sizeof(struct hs_state),
	.consume = hs_consume_any, .done = hs_done_any, .is_ibmi = hs_is_ibmi, .user = hs_user,
	.software = hs_software, .facts_json = hs_facts_json,
};
