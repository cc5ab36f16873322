/*
 * test_hostserver.c - the host-server datastream dissector, from the byte
 * layouts of /work/shared/docs/ibmi-protocols.md sections 2 and 3: the
 * sign-on flow (7003/F003 with VRM 00070500, the QUSER 7004 example, F004),
 * the start-server flow (7001/F001, the QUSER 7002 example, F002), return
 * codes, hostcnn routing, each fed whole, byte by byte, in odd-sized chunks
 * and several PDUs per call; truncated, oversized and contradictory PDUs;
 * and seeds, substitutes and tokens (a marker) never reaching a fact.
 */
#include "testutil.h"

#include <stdlib.h>

#include "hostserver.h"
#include "protocol.h"

/* ---- building PDUs ---- */

struct pdu {
	uint8_t b[4096];
	size_t n;
};

static void put8(struct pdu *p, uint8_t v) { p->b[p->n++] = v; }
static void put16(struct pdu *p, uint16_t v) { put8(p, v >> 8); put8(p, v & 0xFF); }
static void put32(struct pdu *p, uint32_t v) { put16(p, v >> 16); put16(p, v & 0xFFFF); }
static void putn(struct pdu *p, const uint8_t *b, size_t n) { memcpy(p->b + p->n, b, n); p->n += n; }

/* Header with a length fixed up by end(); bytes 4 and 5 as given. */
static size_t hdr(struct pdu *p, uint8_t b4, uint8_t b5, uint16_t server, uint16_t tlen, uint16_t id)
{
	size_t at = p->n;
	put32(p, 0);
	put8(p, b4);
	put8(p, b5);
	put16(p, server);
	put32(p, 0);
	put32(p, 0);
	put16(p, tlen);
	put16(p, id);
	return at;
}

static void end(struct pdu *p, size_t at)
{
	uint32_t len = (uint32_t)(p->n - at);
	p->b[at] = len >> 24; p->b[at + 1] = len >> 16; p->b[at + 2] = len >> 8; p->b[at + 3] = len;
}

static void param(struct pdu *p, uint16_t cp, const uint8_t *d, size_t n)
{
	put32(p, (uint32_t)(6 + n));
	put16(p, cp);
	putn(p, d, n);
}

/* The marker: raw 0xDEADBEEF and EBCDIC "SECRET" (which decodes cleanly). */
static const uint8_t secret[20] = {
	0xDE, 0xAD, 0xBE, 0xEF, 0xE2, 0xC5, 0xC3, 0xD9, 0xC5, 0xE3,
	0xDE, 0xAD, 0xBE, 0xEF, 0xE2, 0xC5, 0xC3, 0xD9, 0xC5, 0xE3,
};
static const uint8_t quser[10] = { 0xD8, 0xE4, 0xE2, 0xC5, 0xD9, 0x40, 0x40, 0x40, 0x40, 0x40 };

/* Does the marker appear anywhere in the state, raw or decoded? */
static bool has_secret(const void *st, size_t n)
{
	static const char *const needles[] = { "\xDE\xAD\xBE\xEF", "SECRET", "\xE2\xC5\xC3\xD9\xC5\xE3" };
	const uint8_t *b = st;
	for (size_t k = 0; k < 3; k++) {
		size_t m = strlen(needles[k]);
		for (size_t i = 0; i + m <= n; i++)
			if (memcmp(b + i, needles[k], m) == 0)
				return true;
	}
	return false;
}

/* 7003 exchange attributes: version 1, level 10, seed (the marker). */
static void req_7003(struct pdu *p, uint16_t id)
{
	size_t at = hdr(p, 0, 0, 0xE009, 0, id);
	param(p, 0x1101, (const uint8_t *)"\x00\x00\x00\x01", 4);
	param(p, 0x1102, (const uint8_t *)"\x00\x0A", 2);
	param(p, 0x1103, secret, 8);
	end(p, at);
}

/* F003: RC, VRM 00070500, level 18, seed, password level 3. */
static void rep_f003(struct pdu *p, uint16_t id, uint32_t rc)
{
	size_t at = hdr(p, 0, 0, 0xE009, 4, id);
	put32(p, rc);
	param(p, 0x1101, (const uint8_t *)"\x00\x07\x05\x00", 4);
	param(p, 0x1102, (const uint8_t *)"\x00\x12", 2);
	param(p, 0x1103, secret, 8);
	param(p, 0x1119, (const uint8_t *)"\x03", 1);
	end(p, at);
}

/* The doc's QUSER 7004 with SHA-1, byte for byte (substitute = marker). */
static void req_7004(struct pdu *p)
{
	size_t at = hdr(p, 0, 0, 0xE009, 1, 0x7004);
	put8(p, 0x03);
	param(p, 0x1113, (const uint8_t *)"\x00\x00\x04\xB0", 4);
	param(p, 0x1105, secret, 20);
	param(p, 0x1104, quser, 10);
	param(p, 0x1128, (const uint8_t *)"\x01", 1);
	end(p, at);
}

static void rep_rc(struct pdu *p, uint16_t server, uint16_t id, uint32_t rc)
{
	size_t at = hdr(p, 0, 0, server, 4, id);
	put32(p, rc);
	param(p, 0x1114, (const uint8_t *)"\x00\x00\x00\x25", 4);
	end(p, at);
}

/* 7001 for rmtcmd: client attributes 03, seed (marker). */
static void req_7001(struct pdu *p, uint16_t server)
{
	size_t at = hdr(p, 0x03, 0, server, 8, 0x7001);
	putn(p, secret, 8);
	end(p, at);
}

/* F001: password level 3 in byte 5, RC 0, server seed (marker). */
static void rep_f001(struct pdu *p, uint16_t server)
{
	size_t at = hdr(p, 0, 0x03, server, 12, 0xF001);
	put32(p, 0);
	putn(p, secret, 8);
	end(p, at);
}

/* The doc's QUSER 7002 with SHA-1. */
static void req_7002(struct pdu *p, uint16_t server, uint16_t subst_cp)
{
	size_t at = hdr(p, 0x02, 0, server, 2, 0x7002);
	put8(p, 0x03);
	put8(p, 0x01);
	param(p, subst_cp, secret, 20);
	param(p, 0x1104, quser, 10);
	end(p, at);
}

/* ---- feeding ---- */

struct step {
	int dir;
	struct pdu p;
};

static uint8_t acc[2][1 << 18];
static size_t acc_n[2];

static void feed(struct hs_state *s, int dir, const uint8_t *b, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, b, n);
	hs_consume(s, dir, copy, n);
	free(copy);
}

/* Play the steps in order; each step's bytes arrive `chunk` at a time (0: whole). */
static void play(struct hs_state *s, const struct step *steps, size_t nsteps, size_t chunk)
{
	hs_init(s);
	acc_n[0] = acc_n[1] = 0;
	for (size_t i = 0; i < nsteps; i++) {
		int d = steps[i].dir;
		size_t done = 0, n = steps[i].p.n;
		while (done < n) {
			size_t k = chunk && n - done > chunk ? chunk : n - done;
			memcpy(acc[d] + acc_n[d], steps[i].p.b + done, k);
			acc_n[d] += k;
			done += k;
			feed(s, d, acc[d], acc_n[d]);
		}
	}
}

static struct step signon_flow[4];
static struct step start_flow[4];

static void build_flows(void)
{
	memset(signon_flow, 0, sizeof signon_flow);
	signon_flow[0].dir = DIR_C2S; req_7003(&signon_flow[0].p, 0x7003);
	signon_flow[1].dir = DIR_S2C; rep_f003(&signon_flow[1].p, 0xF003, 0);
	signon_flow[2].dir = DIR_C2S; req_7004(&signon_flow[2].p);
	signon_flow[3].dir = DIR_S2C; rep_rc(&signon_flow[3].p, 0xE009, 0xF004, 0);
	memset(start_flow, 0, sizeof start_flow);
	start_flow[0].dir = DIR_C2S; req_7001(&start_flow[0].p, 0xE008);
	start_flow[1].dir = DIR_S2C; rep_f001(&start_flow[1].p, 0xE008);
	start_flow[2].dir = DIR_C2S; req_7002(&start_flow[2].p, 0xE008, 0x1105);
	start_flow[3].dir = DIR_S2C; rep_rc(&start_flow[3].p, 0xE008, 0xF002, 0);
}

static void check_signon(const struct hs_state *s)
{
	char v[16];
	assert_true(s->valid);
	assert_false(s->malformed[0] || s->malformed[1]);
	assert_int_equal(s->server_id, 0xE009);
	assert_string_equal(hs_server_service(s->server_id), "as-signon");
	assert_false(s->server_id_changed);
	assert_int_equal(s->n_req_ids, 2);
	assert_int_equal(s->req_ids[0], 0x7003);
	assert_int_equal(s->req_ids[1], 0x7004);
	assert_int_equal(s->n_rep_ids, 2);
	assert_int_equal(s->rep_ids[0], 0xF003);
	assert_int_equal(s->rep_ids[1], 0xF004);
	assert_string_equal(s->user, "QUSER");
	assert_false(s->user_invalid);
	assert_int_equal(s->auth_type, 3);
	assert_int_equal(s->auth_len, 20);
	assert_true(s->rc_seen);
	assert_int_equal(s->rc, 0);
	assert_int_equal(s->outcome, HS_OUTCOME_OK);
	assert_string_equal(hs_outcome_name(s->outcome), "signed-on");
	assert_int_equal(s->server_vrm, 0x00070500);
	assert_true(hs_vrm_string(s->server_vrm, v, sizeof v));
	assert_string_equal(v, "V7R5M0");
	assert_int_equal(s->server_level, 18);
	assert_int_equal(s->password_level, 3);
	assert_int_equal(s->client_level, 10);
	assert_int_equal(s->client_version, 1);       /* 7003 CP 0x1101 00000001 */
	assert_int_equal(s->client_ccsid, 1200);      /* 7004 CP 0x1113 000004B0 */
	char sw[48];
	assert_string_equal(protocol_hostserver.software(s, sw, sizeof sw), "host-server level 10, version 1, CCSID 1200");
	assert_false(s->chain_irregular);
	assert_int_equal(s->pdus[0], 2);
	assert_int_equal(s->pdus[1], 2);
	assert_true(hs_done(s));
	assert_false(has_secret(s, sizeof *s));
}

static void signon_whole(void **st)
{
	(void)st;
	struct hs_state s;
	build_flows();
	play(&s, signon_flow, 4, 0);
	check_signon(&s);
}

static void signon_byte_by_byte(void **st)
{
	(void)st;
	struct hs_state s;
	build_flows();
	play(&s, signon_flow, 4, 1);
	check_signon(&s);
}

static void signon_odd_chunks(void **st)
{
	(void)st;
	struct hs_state s;
	build_flows();
	for (size_t k = 2; k < 40; k += 3) {
		play(&s, signon_flow, 4, k);
		check_signon(&s);
	}
}

/* Both requests in one call, both replies in one call. */
static void several_pdus_per_call(void **st)
{
	(void)st;
	struct hs_state s;
	struct pdu c = { .n = 0 }, r = { .n = 0 };
	build_flows();
	putn(&c, signon_flow[0].p.b, signon_flow[0].p.n);
	putn(&c, signon_flow[2].p.b, signon_flow[2].p.n);
	putn(&r, signon_flow[1].p.b, signon_flow[1].p.n);
	putn(&r, signon_flow[3].p.b, signon_flow[3].p.n);
	hs_init(&s);
	feed(&s, DIR_C2S, c.b, c.n);
	feed(&s, DIR_S2C, r.b, r.n);
	check_signon(&s);
	/* and split across the PDU boundary: 60 bytes then the rest */
	hs_init(&s);
	feed(&s, DIR_C2S, c.b, 60);
	assert_int_equal(s.pdus[0], 1);
	feed(&s, DIR_C2S, c.b, c.n);
	feed(&s, DIR_S2C, r.b, 50);
	feed(&s, DIR_S2C, r.b, r.n);
	check_signon(&s);
}

static void check_start(const struct hs_state *s)
{
	assert_true(s->valid);
	assert_int_equal(s->server_id, 0xE008);
	assert_string_equal(hs_server_service(s->server_id), "as-rmtcmd");
	assert_int_equal(s->client_attrs, 3);
	assert_int_equal(s->password_level, 3);
	assert_int_equal(s->client_level, -1);
	char sw[48];
	assert_null(protocol_hostserver.software(s, sw, sizeof sw));   /* no exchange attributes: nothing named */
	assert_string_equal(s->user, "QUSER");
	assert_int_equal(s->auth_type, 3);
	assert_int_equal(s->auth_len, 20);
	assert_int_equal(s->outcome, HS_OUTCOME_OK);
	assert_int_equal(s->n_req_ids, 2);
	assert_int_equal(s->req_ids[0], 0x7001);
	assert_int_equal(s->req_ids[1], 0x7002);
	assert_int_equal(s->rep_ids[0], 0xF001);
	assert_int_equal(s->rep_ids[1], 0xF002);
	assert_int_equal(s->server_vrm, 0);
	assert_false(s->chain_irregular);
	assert_true(hs_done(s));
	assert_false(has_secret(s, sizeof *s));
}

static void start_server(void **st)
{
	(void)st;
	struct hs_state s;
	build_flows();
	play(&s, start_flow, 4, 0);
	check_start(&s);
	play(&s, start_flow, 4, 1);
	check_start(&s);
	play(&s, start_flow, 4, 7);
	check_start(&s);
}

/* The doc's 7002 example header, byte for byte. */
static void doc_7002_bytes(void **st)
{
	(void)st;
	struct pdu p = { .n = 0 };
	req_7002(&p, 0xE008, 0x1105);
	static const uint8_t head[] = {
		0x00, 0x00, 0x00, 0x40, 0x02, 0x00, 0xE0, 0x08, 0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x02, 0x70, 0x02, 0x03, 0x01, 0x00, 0x00, 0x00, 0x1A, 0x11, 0x05,
	};
	assert_int_equal(p.n, 0x40);
	assert_memory_equal(p.b, head, sizeof head);
	struct pdu q = { .n = 0 };
	req_7004(&q);
	assert_int_equal(q.n, 0x50);
}

static void check_rc(uint16_t rep, uint32_t rc, enum hs_outcome o)
{
	struct hs_state s;
	struct step f[2];
	memset(f, 0, sizeof f);
	f[0].dir = DIR_C2S; req_7004(&f[0].p);
	f[1].dir = DIR_S2C; rep_rc(&f[1].p, 0xE009, rep, rc);
	play(&s, f, 2, 0);
	assert_true(s.rc_seen);
	assert_int_equal(s.rc, rc);
	assert_int_equal(s.outcome, o);
	assert_true(hs_done(&s));
}

static void return_codes(void **st)
{
	(void)st;
	check_rc(0xF004, 0, HS_OUTCOME_OK);
	check_rc(0xF004, 0x00020001, HS_OUTCOME_UNKNOWN_USER);
	check_rc(0xF004, 0x00020002, HS_OUTCOME_DISABLED);
	check_rc(0xF004, 0x0003000B, HS_OUTCOME_WRONG_PASSWORD);
	check_rc(0xF004, 0x0003000C, HS_OUTCOME_WRONG_PASSWORD);
	check_rc(0xF004, 0x0003000D, HS_OUTCOME_EXPIRED);
	check_rc(0xF004, 0x00030010, HS_OUTCOME_OTHER_ERROR);
	check_rc(0xF002, 0x00040000, HS_OUTCOME_OTHER_ERROR);
	check_rc(0xF002, 0x0003000B, HS_OUTCOME_WRONG_PASSWORD);
	assert_string_equal(hs_outcome_name(HS_OUTCOME_WRONG_PASSWORD), "wrong-password");
	assert_string_equal(hs_outcome_name(HS_OUTCOME_UNKNOWN_USER), "unknown-user");
	assert_string_equal(hs_outcome_name(HS_OUTCOME_DISABLED), "disabled");
	assert_string_equal(hs_outcome_name(HS_OUTCOME_EXPIRED), "password-expired");
	assert_string_equal(hs_outcome_name(HS_OUTCOME_OTHER_ERROR), "error");
	assert_null(hs_outcome_name(HS_OUTCOME_NONE));
}

/* An attributes reply with RC 0 is not a sign-on; a failing one is. */
static void attribute_reply_rc(void **st)
{
	(void)st;
	struct hs_state s;
	struct step f[2];
	memset(f, 0, sizeof f);
	f[0].dir = DIR_C2S; req_7003(&f[0].p, 0x7003);
	f[1].dir = DIR_S2C; rep_f003(&f[1].p, 0xF003, 0);
	play(&s, f, 2, 0);
	assert_false(s.rc_seen);
	assert_int_equal(s.outcome, HS_OUTCOME_NONE);
	assert_false(hs_done(&s));
	memset(&f[1], 0, sizeof f[1]);
	f[1].dir = DIR_S2C; rep_f003(&f[1].p, 0xF003, 0x00010001);
	play(&s, f, 2, 0);
	assert_true(s.rc_seen);
	assert_int_equal(s.outcome, HS_OUTCOME_OTHER_ERROR);
}

static void truncated_pdu_waits(void **st)
{
	(void)st;
	struct hs_state s;
	build_flows();
	hs_init(&s);
	feed(&s, DIR_C2S, signon_flow[0].p.b, 30);
	assert_false(s.valid);
	assert_int_equal(s.pdus[0], 0);
	assert_false(s.malformed[0]);
	assert_false(hs_done(&s));
	assert_int_equal(s.client_level, -1);
}

static void bad_header(const uint8_t *b, size_t n)
{
	struct hs_state s;
	hs_init(&s);
	for (size_t i = 1; i <= n; i++)
		feed(&s, DIR_C2S, b, i);
	assert_true(s.malformed[0]);
	assert_false(s.valid);
	assert_true(hs_done(&s));
	assert_int_equal(hs_probe(b, n, DIR_C2S), PROBE_NO);
}

static void malformed_headers(void **st)
{
	(void)st;
	uint8_t h[20] = { 0, 0, 0, 20, 0, 0, 0xE0, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x70, 0x03 };
	uint8_t b[20];
	memcpy(b, h, 20); b[3] = 19; bad_header(b, 20);                    /* too short */
	memcpy(b, h, 20); b[0] = 0x7F; bad_header(b, 20);                  /* huge */
	memcpy(b, h, 20); b[0] = 0x01; b[3] = 0x01; bad_header(b, 20);     /* 16 MiB + 1 */
	memcpy(b, h, 20); b[6] = 0xE1; bad_header(b, 20);                  /* not E0 */
	memcpy(b, h, 20); b[7] = 0x01; bad_header(b, 20);                  /* unknown server */
	memcpy(b, h, 20); b[7] = 0x0C; bad_header(b, 20);
	memcpy(b, h, 20); b[17] = 1; bad_header(b, 20);                    /* T > len-20 */
	bad_header((const uint8_t *)"\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03\x03", 11);   /* TLS */
	/* a good PDU, then garbage: the first counts, the direction stops */
	struct hs_state s;
	struct pdu p = { .n = 0 };
	req_7003(&p, 0x7003);
	putn(&p, (const uint8_t *)"\xFF\xFF\xFF\xFF garbage garbage", 20);
	hs_init(&s);
	feed(&s, DIR_C2S, p.b, p.n);
	assert_true(s.valid);
	assert_int_equal(s.pdus[0], 1);
	assert_int_equal(s.client_level, 10);
	assert_true(s.malformed[0]);
}

/* Parameter lengths that lie: no crash, no read past the PDU, soft flag. */
static void contradictory_params(void **st)
{
	(void)st;
	struct hs_state s;
	struct pdu p = { .n = 0 };
	size_t at = hdr(&p, 0, 0, 0xE009, 1, 0x7004);
	put8(&p, 0x03);
	put32(&p, 0x7FFFFFFF);              /* 0x1105 claims 2 GiB */
	put16(&p, 0x1105);
	putn(&p, secret, 20);
	param(&p, 0x1104, quser, 10);
	end(&p, at);
	hs_init(&s);
	for (size_t i = 1; i <= p.n; i++)
		feed(&s, DIR_C2S, p.b, i);
	assert_true(s.valid);
	assert_true(s.chain_irregular);
	assert_int_equal(s.auth_type, 3);
	assert_int_equal(s.auth_len, 0);
	assert_string_equal(s.user, "");
	assert_false(has_secret(&s, sizeof s));

	/* LL < 6, and a chain that stops short of the PDU's end */
	struct pdu q = { .n = 0 };
	at = hdr(&q, 0, 0, 0xE009, 0, 0x7003);
	put32(&q, 2);
	put16(&q, 0x1102);
	put16(&q, 0x000A);
	end(&q, at);
	hs_init(&s);
	feed(&s, DIR_C2S, q.b, q.n);
	assert_true(s.chain_irregular);
	assert_int_equal(s.client_level, -1);

	/* a template length that points past every parameter */
	struct pdu r = { .n = 0 };
	at = hdr(&r, 0, 0, 0xE009, 5, 0x7004);
	putn(&r, (const uint8_t *)"\x03\x00\x00\x00\x00", 5);
	end(&r, at);
	hs_init(&s);
	feed(&s, DIR_C2S, r.b, r.n);
	assert_true(s.valid);
	assert_int_equal(s.auth_type, 3);
	assert_false(s.chain_irregular);
}

static void user_profile(const uint8_t *d, size_t n, const char *want, bool invalid)
{
	struct hs_state s;
	struct pdu p = { .n = 0 };
	size_t at = hdr(&p, 0, 0, 0xE009, 1, 0x7004);
	put8(&p, 0x01);
	param(&p, 0x1105, secret, 8);
	param(&p, 0x1104, d, n);
	end(&p, at);
	hs_init(&s);
	feed(&s, DIR_C2S, p.b, p.n);
	assert_string_equal(s.user, want);
	assert_int_equal(s.user_invalid, invalid);
	assert_int_equal(s.auth_type, 1);
	assert_int_equal(s.auth_len, 8);
}

static void user_profiles(void **st)
{
	(void)st;
	/* $#@_ and digits after the first character */
	user_profile((const uint8_t *)"\x5B\x7B\x7C\x6D\xC1\xF1\xF2\xF3\xF4\xF5", 10, "$#@_A12345", false);
	user_profile((const uint8_t *)"\xC1", 1, "A", false);
	user_profile((const uint8_t *)"\x00\x00\x00\x25\xD8\xE4\xE2\xC5\xD9\x40\x40\x40\x40\x40", 14, "QUSER", false);
	user_profile((const uint8_t *)"\xF1\xC1\xC2\x40\x40\x40\x40\x40\x40\x40", 10, "", true);    /* digit first */
	user_profile((const uint8_t *)"\x98\xA4\xA2\x85\x99\x40\x40\x40\x40\x40", 10, "", true);    /* lower case */
	user_profile((const uint8_t *)"\xD8\x40\xE4\x40\x40\x40\x40\x40\x40\x40", 10, "", true);    /* blank inside */
	user_profile((const uint8_t *)"\xC1\xC1\xC1\xC1\xC1\xC1\xC1\xC1\xC1\xC1\xC1", 11, "", true); /* 11 */
	user_profile((const uint8_t *)"\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40", 10, "", true);    /* blank */
	user_profile((const uint8_t *)"", 0, "", true);
	user_profile(secret, 10, "", true);
}

/* rmtcmd's 0x1104 is command text: not a user. */
static void rmtcmd_command_not_user(void **st)
{
	(void)st;
	struct hs_state s;
	struct pdu p = { .n = 0 };
	size_t at = hdr(&p, 0, 0, 0xE008, 0, 0x1002);
	param(&p, 0x1104, (const uint8_t *)"\x00\x00\x00\x25\xC4\xE2\xD7\xD1\xD6\xC2", 10);   /* DSPJOB */
	end(&p, at);
	hs_init(&s);
	feed(&s, DIR_C2S, p.b, p.n);
	assert_true(s.valid);
	assert_string_equal(s.user, "");
	assert_false(s.user_invalid);
	assert_int_equal(s.req_ids[0], 0x1002);
}

/* Tokens: 0x1115 in 7002, the F007 profile token: never copied. */
static void secrets_never_copied(void **st)
{
	(void)st;
	struct hs_state s;
	struct step f[4];
	memset(f, 0, sizeof f);
	f[0].dir = DIR_C2S; req_7001(&f[0].p, 0xE004);
	f[1].dir = DIR_S2C; rep_f001(&f[1].p, 0xE004);
	f[2].dir = DIR_C2S; req_7002(&f[2].p, 0xE004, 0x1115);
	f[3].dir = DIR_S2C;
	size_t at = hdr(&f[3].p, 0, 0, 0xE004, 10, 0xF007);
	put32(&f[3].p, 0);
	putn(&f[3].p, (const uint8_t *)"\0\0\0\0\0\0", 6);
	putn(&f[3].p, secret, 20);
	putn(&f[3].p, secret, 12);
	end(&f[3].p, at);
	play(&s, f, 4, 1);
	assert_int_equal(s.auth_len, 20);
	assert_string_equal(s.user, "QUSER");
	assert_false(has_secret(&s, sizeof s));
	/* the helper does find the marker when it is there */
	struct hs_state t;
	hs_init(&t);
	memcpy(t.user, secret, 4);
	assert_true(has_secret(&t, sizeof t));
}

static void server_changes(void **st)
{
	(void)st;
	struct hs_state s;
	struct step f[3];
	memset(f, 0, sizeof f);
	f[0].dir = DIR_C2S; req_7003(&f[0].p, 0x7003);
	f[1].dir = DIR_C2S; req_7001(&f[1].p, 0xE008);
	play(&s, f, 2, 0);
	assert_int_equal(s.server_id, 0xE009);
	assert_true(s.server_id_changed);

	/* the database family shares one server job: not a change */
	memset(f, 0, sizeof f);
	f[0].dir = DIR_C2S; req_7001(&f[0].p, 0xE004);
	f[1].dir = DIR_C2S; req_7001(&f[1].p, 0xE005);
	play(&s, f, 2, 0);
	assert_false(s.server_id_changed);
	assert_string_equal(hs_server_service(0xE005), "as-database");

	/* hostcnn: after 7106 the socket carries the database server */
	memset(f, 0, sizeof f);
	f[0].dir = DIR_C2S;
	size_t at = hdr(&f[0].p, 0, 0, 0xE00B, 0, 0x7106);
	param(&f[0].p, 0x1120, secret, 20);
	putn(&f[0].p, secret, 20);
	end(&f[0].p, at);
	f[1].dir = DIR_S2C; rep_rc(&f[1].p, 0xE00B, 0xF106, 0);
	f[2].dir = DIR_C2S; req_7001(&f[2].p, 0xE004);
	play(&s, f, 3, 0);
	assert_int_equal(s.server_id, 0xE00B);
	assert_string_equal(hs_server_service(s.server_id), "as-hostcnn");
	assert_true(s.routed);
	assert_int_equal(s.routed_server_id, 0xE004);
	assert_false(s.server_id_changed);
	assert_false(has_secret(&s, sizeof s));

	/* without 7106 the same is a change */
	play(&s, &f[1], 2, 0);
	assert_true(s.server_id_changed);
}

/* hostcnn main connection: 7103 (attributes, reply F103 or F003), 7002, 7104. */
static void hostcnn_main(void **st)
{
	(void)st;
	struct hs_state s;
	struct step f[6];
	memset(f, 0, sizeof f);
	f[0].dir = DIR_C2S; req_7003(&f[0].p, 0x7103);
	f[0].p.b[7] = 0x0B;
	f[1].dir = DIR_S2C; rep_f003(&f[1].p, 0xF103, 0);
	f[1].p.b[7] = 0x0B;
	f[2].dir = DIR_C2S; req_7002(&f[2].p, 0xE00B, 0x1105);
	f[3].dir = DIR_S2C; rep_rc(&f[3].p, 0xE00B, 0xF002, 0);
	f[4].dir = DIR_C2S; rep_rc(&f[4].p, 0xE00B, 0x7104, 0);
	f[5].dir = DIR_S2C; rep_rc(&f[5].p, 0xE00B, 0xF104, 0);
	play(&s, f, 6, 0);
	assert_int_equal(s.server_vrm, 0x00070500);
	assert_int_equal(s.client_level, 10);
	assert_string_equal(s.user, "QUSER");
	assert_int_equal(s.outcome, HS_OUTCOME_OK);
	assert_int_equal(s.n_req_ids, 3);
	assert_int_equal(s.req_ids[2], 0x7104);
	assert_int_equal(s.rep_ids[2], 0xF104);
	assert_false(hs_done(&s));        /* prepare/route of other servers follow */
}

/* Bodies over 64 KiB are skipped unread, even past the bytes seen so far. */
static void big_body_skipped(void **st)
{
	(void)st;
	static uint8_t big[100000 + 64];
	struct hs_state s;
	memset(big, 0x5A, sizeof big);
	const uint8_t h[20] = { 0, 0x01, 0x86, 0xA0, 0, 0, 0xE0, 0x04, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x28, 0x00 };
	memcpy(big, h, 20);
	struct pdu p = { .n = 0 };
	req_7001(&p, 0xE004);
	memcpy(big + 100000, p.b, p.n);
	hs_init(&s);
	feed(&s, DIR_S2C, big, 100);
	assert_int_equal(s.pdus[1], 1);
	assert_int_equal(s.off[1], 100000);
	feed(&s, DIR_S2C, big, 50000);
	assert_int_equal(s.pdus[1], 1);
	feed(&s, DIR_S2C, big, 100000 + p.n);
	assert_int_equal(s.pdus[1], 2);
	assert_false(s.malformed[1]);
	assert_int_equal(s.rep_ids[0], 0x2800);
}

static void ids_capped_and_done(void **st)
{
	(void)st;
	struct hs_state s;
	struct pdu c = { .n = 0 }, r = { .n = 0 };
	for (int i = 0; i < 20; i++) {
		size_t at = hdr(&c, 0, 0, 0xE007, 0, (uint16_t)i);
		end(&c, at);
		at = hdr(&r, 0, 0, 0xE007, 0, (uint16_t)(0x8000 + i));
		end(&r, at);
	}
	hs_init(&s);
	feed(&s, DIR_C2S, c.b, c.n);
	assert_false(hs_done(&s));
	feed(&s, DIR_S2C, r.b, r.n);
	assert_int_equal(s.n_req_ids, HS_MAX_IDS);
	assert_int_equal(s.n_rep_ids, HS_MAX_IDS);
	assert_int_equal(s.req_ids[HS_MAX_IDS - 1], HS_MAX_IDS - 1);
	assert_int_equal(s.pdus[0], 20);
	assert_true(hs_done(&s));
	assert_string_equal(hs_server_service(s.server_id), "as-dtaq");
}

static void probe(void **st)
{
	(void)st;
	build_flows();
	const uint8_t *b = signon_flow[0].p.b;
	assert_int_equal(hs_probe(b, signon_flow[0].p.n, DIR_C2S), PROBE_YES);
	assert_int_equal(hs_probe(b, 20, DIR_C2S), PROBE_YES);
	assert_int_equal(hs_probe(b, 19, DIR_C2S), PROBE_MAYBE);
	assert_int_equal(hs_probe(b, 2, DIR_C2S), PROBE_MAYBE);
	assert_int_equal(hs_probe(NULL, 0, DIR_C2S), PROBE_MAYBE);
	assert_int_equal(hs_probe(signon_flow[1].p.b, signon_flow[1].p.n, DIR_S2C), PROBE_YES);
	assert_int_equal(hs_probe((const uint8_t *)"as-signon-s", 11, DIR_C2S), PROBE_NO);
	assert_int_equal(hs_probe((const uint8_t *)"\xFF\xFD\x27", 3, DIR_S2C), PROBE_NO);
	assert_int_equal(hs_probe((const uint8_t *)"\x00\x7E\xD0\x41\x00\x01\x00\x78\x10\x41", 10, DIR_C2S), PROBE_NO);
}

static void names(void **st)
{
	(void)st;
	char v[8];
	assert_string_equal(hs_server_service(0xE000), "as-central");
	assert_string_equal(hs_server_service(0xE002), "as-netdrive");
	assert_string_equal(hs_server_service(0xE003), "as-netprt");
	assert_string_equal(hs_server_service(0xE007), "as-dtaq");
	assert_string_equal(hs_server_service(0xE00A), "as-database");
	assert_null(hs_server_service(0xE001));
	assert_null(hs_server_service(0));
	assert_false(hs_vrm_string(0, v, sizeof v));
	assert_true(hs_vrm_string(0x00070600, v, sizeof v));
	assert_string_equal(v, "V7R6M0");
	assert_false(hs_vrm_string(0x00FF0505, v, 4));          /* does not fit */
}

static void null_and_empty(void **st)
{
	(void)st;
	struct hs_state s;
	hs_init(&s);
	hs_consume(&s, DIR_C2S, NULL, 0);
	hs_consume(&s, 5, (const uint8_t *)"x", 1);
	hs_consume(NULL, DIR_C2S, (const uint8_t *)"x", 1);
	assert_false(s.valid);
	assert_true(hs_done(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signon_whole),
		cmocka_unit_test(signon_byte_by_byte),
		cmocka_unit_test(signon_odd_chunks),
		cmocka_unit_test(several_pdus_per_call),
		cmocka_unit_test(start_server),
		cmocka_unit_test(doc_7002_bytes),
		cmocka_unit_test(return_codes),
		cmocka_unit_test(attribute_reply_rc),
		cmocka_unit_test(truncated_pdu_waits),
		cmocka_unit_test(malformed_headers),
		cmocka_unit_test(contradictory_params),
		cmocka_unit_test(user_profiles),
		cmocka_unit_test(rmtcmd_command_not_user),
		cmocka_unit_test(secrets_never_copied),
		cmocka_unit_test(server_changes),
		cmocka_unit_test(hostcnn_main),
		cmocka_unit_test(big_body_skipped),
		cmocka_unit_test(ids_capped_and_done),
		cmocka_unit_test(probe),
		cmocka_unit_test(names),
		cmocka_unit_test(null_and_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
