/*
 * test_tls.c - unit tests for dissectors/tls.c (and the tables in
 * tls_ciphers.c): hand-built TLS byte sequences in, tls_state facts out.
 *
 * Small builders below write records and handshake messages; a `conv`
 * holds the bytes of both directions so far and feeds tls_consume the
 * whole direction each time, as the analyzer does (dissector.h).  Expected
 * fingerprints were computed independently of this code with coreutils,
 * see the comment at each constant.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "tls.h"

#include "test_cert.h"   /* the self-signed EC P-256 certificate of test_x509.c */

/* ------------------------------------------------------------- builders */

struct bb {
	uint8_t b[140000];
	size_t n;
};

static struct bb *bb_new(void)
{
	struct bb *b = calloc(1, sizeof *b);
	assert_non_null(b);
	return b;
}

static void u8(struct bb *b, unsigned v) { b->b[b->n++] = (uint8_t)v; }
static void u16(struct bb *b, unsigned v) { u8(b, v >> 8); u8(b, v); }
static void u24(struct bb *b, unsigned v) { u8(b, v >> 16); u16(b, v & 0xffff); }
static void put(struct bb *b, const void *p, size_t n) { memcpy(b->b + b->n, p, n); b->n += n; }
static void zeros(struct bb *b, size_t n) { memset(b->b + b->n, 0, n); b->n += n; }

/* Length-prefixed blocks: open writes a placeholder, close patches it. */
static size_t open8(struct bb *b) { u8(b, 0); return b->n; }
static size_t open16(struct bb *b) { u16(b, 0); return b->n; }
static size_t open24(struct bb *b) { u24(b, 0); return b->n; }
static void close8(struct bb *b, size_t at) { b->b[at - 1] = (uint8_t)(b->n - at); }
static void close16(struct bb *b, size_t at)
{
	size_t n = b->n - at;
	b->b[at - 2] = (uint8_t)(n >> 8);
	b->b[at - 1] = (uint8_t)n;
}
static void close24(struct bb *b, size_t at)
{
	size_t n = b->n - at;
	b->b[at - 3] = (uint8_t)(n >> 16);
	b->b[at - 2] = (uint8_t)(n >> 8);
	b->b[at - 1] = (uint8_t)n;
}

/* One record of `type` around bytes p[0..n). */
static void record(struct bb *out, uint8_t type, uint16_t ver, const uint8_t *p, size_t n)
{
	u8(out, type);
	u16(out, ver);
	u16(out, (unsigned)n);
	put(out, p, n);
}

/* Handshake message header + body. */
static void handshake(struct bb *out, uint8_t type, const struct bb *body)
{
	u8(out, type);
	u24(out, (unsigned)body->n);
	put(out, body->b, body->n);
}

static void ext_begin(struct bb *b, unsigned type, size_t *at)
{
	u16(b, type);
	*at = open16(b);
}

/*
 * The reference ClientHello: legacy 0x0303, suites GREASE 0x0a0a, 1301,
 * 1302, c02f, 002f, 000a, 00ff; extensions GREASE 1a1a, SNI example.com,
 * ALPN h2,http/1.1, groups (GREASE 2a2a) 001d 0017, point formats 0,
 * sigalgs 0403 0804 0401, supported_versions (GREASE 3a3a) 0304 0303,
 * extended_master_secret.  `sv` false leaves out supported_versions;
 * legacy and the suites can be changed for the version tests.
 */
static void client_hello_msg(struct bb *msg, uint16_t legacy, bool sv)
{
	struct bb *h = bb_new();
	size_t at, l, l2;
	u16(h, legacy);
	zeros(h, 32);
	u8(h, 0);
	at = open16(h);
	static const uint16_t suites[] = { 0x0a0a, 0x1301, 0x1302, 0xc02f, 0x002f, 0x000a, 0x00ff };
	for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
		u16(h, suites[i]);
	close16(h, at);
	u8(h, 1);
	u8(h, 0);
	size_t exts = open16(h);
	ext_begin(h, 0x1a1a, &at); close16(h, at);
	ext_begin(h, 0x0000, &at);
	l = open16(h); u8(h, 0); l2 = open16(h); put(h, "example.com", 11); close16(h, l2); close16(h, l);
	close16(h, at);
	ext_begin(h, 0x0010, &at);
	l = open16(h);
	l2 = open8(h); put(h, "h2", 2); close8(h, l2);
	l2 = open8(h); put(h, "http/1.1", 8); close8(h, l2);
	close16(h, l);
	close16(h, at);
	ext_begin(h, 0x000a, &at); l = open16(h); u16(h, 0x2a2a); u16(h, 0x001d); u16(h, 0x0017); close16(h, l); close16(h, at);
	ext_begin(h, 0x000b, &at); l = open8(h); u8(h, 0); close8(h, l); close16(h, at);
	ext_begin(h, 0x000d, &at); l = open16(h); u16(h, 0x0403); u16(h, 0x0804); u16(h, 0x0401); close16(h, l); close16(h, at);
	if (sv) {
		ext_begin(h, 0x002b, &at); l = open8(h); u16(h, 0x3a3a); u16(h, 0x0304); u16(h, 0x0303); close8(h, l); close16(h, at);
	}
	ext_begin(h, 0x0017, &at); close16(h, at);
	close16(h, exts);
	handshake(msg, 1, h);
	free(h);
}

/* ServerHello: TLS 1.2 style (ext renegotiation_info, ems, ALPN h2) when
 * tls13 is false; TLS 1.3 (supported_versions 0304, key_share) otherwise. */
static void server_hello_msg(struct bb *msg, uint16_t legacy, uint16_t cipher, bool tls13, bool hrr)
{
	static const uint8_t hrr_random[32] = {
		0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
		0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
	};
	struct bb *h = bb_new();
	size_t at, l;
	u16(h, legacy);
	if (hrr)
		put(h, hrr_random, 32);
	else
		zeros(h, 32);
	u8(h, 0);
	u16(h, cipher);
	u8(h, 0);
	size_t exts = open16(h);
	if (tls13) {
		ext_begin(h, 0x002b, &at); u16(h, 0x0304); close16(h, at);
		ext_begin(h, 0x0033, &at);
		if (hrr) {
			u16(h, 0x0017);
		} else {
			u16(h, 0x001d); l = open16(h); zeros(h, 32); close16(h, l);
		}
		close16(h, at);
	} else {
		ext_begin(h, 0xff01, &at); u8(h, 0); close16(h, at);
		ext_begin(h, 0x0017, &at); close16(h, at);
		ext_begin(h, 0x0010, &at); l = open16(h); u8(h, 2); put(h, "h2", 2); close16(h, l); close16(h, at);
	}
	close16(h, exts);
	handshake(msg, 2, h);
	free(h);
}

/* Certificate message carrying `n` copies of cert_der. */
static void certificate_msg(struct bb *msg, int n)
{
	struct bb *h = bb_new();
	size_t list = open24(h);
	for (int i = 0; i < n; i++) {
		u24(h, sizeof cert_der);
		put(h, cert_der, sizeof cert_der);
	}
	close24(h, list);
	handshake(msg, 11, h);
	free(h);
}

static void server_hello_done_msg(struct bb *msg)
{
	u8(msg, 14);
	u24(msg, 0);
}

/* ----------------------------------------------------------- conversation */

struct conv {
	struct tls_state s;
	struct bb d[2];
};

static struct conv *conv_new(void)
{
	struct conv *c = calloc(1, sizeof *c);
	assert_non_null(c);
	c->s.alert_dir = -1;
	return c;
}

static void conv_free(struct conv *c)
{
	tls_state_release(&c->s);
	free(c);
}

/* Append bytes to a direction and hand the whole direction over. */
static void send_bytes(struct conv *c, int dir, const uint8_t *p, size_t n)
{
	put(&c->d[dir], p, n);
	tls_consume(&c->s, dir, c->d[dir].b, c->d[dir].n);
}

/* Append bytes but deliver them one at a time. */
static void send_bytewise(struct conv *c, int dir, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		c->d[dir].b[c->d[dir].n++] = p[i];
		tls_consume(&c->s, dir, c->d[dir].b, c->d[dir].n);
	}
}

static void send_record(struct conv *c, int dir, uint8_t type, uint16_t ver, const struct bb *payload)
{
	struct bb *r = bb_new();
	record(r, type, ver, payload->b, payload->n);
	send_bytes(c, dir, r->b, r->n);
	free(r);
}

static void send_raw_record(struct conv *c, int dir, uint8_t type, const void *p, size_t n)
{
	struct bb *r = bb_new();
	record(r, type, 0x0303, p, n);
	send_bytes(c, dir, r->b, r->n);
	free(r);
}

static void send_ccs(struct conv *c, int dir)
{
	static const uint8_t one = 1;
	send_raw_record(c, dir, 20, &one, 1);
}

/* An "encrypted" record: 40 bytes that are not a plaintext message. */
static void send_encrypted(struct conv *c, int dir, uint8_t type)
{
	uint8_t junk[40];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(0x5a + 7 * i);
	send_raw_record(c, dir, type, junk, sizeof junk);
}

/* An application_data record of len bytes (TLS 1.3: an encrypted handshake message of that size). */
static void send_sized(struct conv *c, int dir, size_t len)
{
	uint8_t junk[128];
	for (size_t i = 0; i < len && i < sizeof junk; i++)
		junk[i] = (uint8_t)(0x3c + 5 * i);
	send_raw_record(c, dir, 23, junk, len < sizeof junk ? len : sizeof junk);
}

static void send_client_hello(struct conv *c, uint16_t legacy, bool sv)
{
	struct bb *m = bb_new();
	client_hello_msg(m, legacy, sv);
	send_record(c, DIR_C2S, 22, 0x0301, m);
	free(m);
}

/* The reference ClientHello's facts (see client_hello_msg). */
static void assert_reference_client_hello(const struct tls_state *s)
{
	assert_true(s->client_hello);
	assert_false(s->sslv2_hello);
	assert_int_equal(s->client_legacy_version, 0x0303);
	assert_int_equal(s->client_max_version, 0x0304);
	assert_int_equal(s->n_ciphers, 5);          /* GREASE and the SCSV left out */
	assert_int_equal(s->n_legacy_ciphers, 1);   /* 000a, 3DES */
	assert_int_equal(s->offered_families, TLSF_AEAD | TLSF_CBC | TLSF_3DES);
	assert_string_equal(s->sni, "example.com");
	assert_string_equal(s->alpn, "h2");
	/* printf '%s' "771,4865-4866-49199-47-10-255,0-16-10-11-13-43-23,29-23,0" | md5sum (the JA3 string) */
	assert_string_equal(s->ja3, "4d077691186d5672bfca4ce32128b46f");
	/* b: printf '%s' "000a,002f,00ff,1301,1302,c02f" | sha256sum | cut -c1-12
	 * c: printf '%s' "000a,000b,000d,0017,002b_0403,0804,0401" | sha256sum | cut -c1-12 */
	assert_string_equal(s->ja4, "t13d0607h2_509ca4d5968e_1fdf4de06b7e");
	assert_false(s->malformed[DIR_C2S]);
	assert_false(s->dead[DIR_C2S]);
}

/* ------------------------------------------------------------------ tests */

static void test_probe(void **state)
{
	(void)state;
	struct bb *m = bb_new(), *r = bb_new();
	client_hello_msg(m, 0x0303, true);
	record(r, 22, 0x0301, m->b, m->n);
	assert_int_equal(tls_probe(r->b, r->n, DIR_C2S), PROBE_YES);
	assert_int_equal(tls_probe(r->b, 6, DIR_C2S), PROBE_YES);
	for (size_t n = 0; n < 6; n++)
		assert_int_equal(tls_probe(r->b, n, DIR_C2S), PROBE_MAYBE);
	static const uint8_t sh[] = { 0x16, 0x03, 0x03, 0x00, 0x40, 0x02 };
	assert_int_equal(tls_probe(sh, sizeof sh, DIR_S2C), PROBE_YES);
	static const uint8_t badver[] = { 0x16, 0x03, 0x05, 0x00, 0x40, 0x01 };
	assert_int_equal(tls_probe(badver, sizeof badver, DIR_C2S), PROBE_NO);
	static const uint8_t badlen[] = { 0x16, 0x03, 0x01, 0x7f, 0x00, 0x01 };
	assert_int_equal(tls_probe(badlen, sizeof badlen, DIR_C2S), PROBE_NO);
	static const uint8_t badhs[] = { 0x16, 0x03, 0x01, 0x00, 0x40, 0x0b };
	assert_int_equal(tls_probe(badhs, sizeof badhs, DIR_C2S), PROBE_NO);
	assert_int_equal(tls_probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16, DIR_C2S), PROBE_NO);
	static const uint8_t telnet[] = { 0xff, 0xfb, 0x01, 0xff, 0xfd, 0x18 };   /* IAC WILL ECHO ... */
	assert_int_equal(tls_probe(telnet, sizeof telnet, DIR_S2C), PROBE_NO);
	static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02 };
	assert_int_equal(tls_probe(alert, sizeof alert, DIR_S2C), PROBE_NO);
	static const uint8_t v2[] = { 0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15 };
	assert_int_equal(tls_probe(v2, sizeof v2, DIR_C2S), PROBE_YES);
	assert_int_equal(tls_probe(v2, 3, DIR_C2S), PROBE_MAYBE);
	free(m);
	free(r);
}

static void test_client_hello(void **state)
{
	(void)state;
	struct conv *c = conv_new();
	send_client_hello(c, 0x0303, true);
	assert_reference_client_hello(&c->s);
	assert_int_equal(c->s.records[DIR_C2S], 1);
	assert_int_equal(c->s.version, 0);          /* client side only: nothing negotiated */
	assert_false(c->s.server_hello);
	assert_false(tls_done(&c->s));
	conv_free(c);
}

static void test_client_hello_bytewise(void **state)
{
	(void)state;
	struct conv *c = conv_new();
	struct bb *m = bb_new(), *r = bb_new();
	client_hello_msg(m, 0x0303, true);
	record(r, 22, 0x0301, m->b, m->n);
	send_bytewise(c, DIR_C2S, r->b, r->n - 1);
	assert_false(c->s.client_hello);             /* last byte missing */
	send_bytewise(c, DIR_C2S, r->b + r->n - 1, 1);
	assert_reference_client_hello(&c->s);
	free(m);
	free(r);
	conv_free(c);
}

/* The ClientHello split over records at every possible point, including
 * inside the 4-byte handshake header, and over three records. */
static void test_hello_split_records(void **state)
{
	(void)state;
	struct bb *m = bb_new(), *r = bb_new();
	client_hello_msg(m, 0x0303, true);
	for (size_t cut = 1; cut < m->n; cut++) {
		struct conv *c = conv_new();
		r->n = 0;
		record(r, 22, 0x0301, m->b, cut);
		record(r, 22, 0x0301, m->b + cut, m->n - cut);
		send_bytes(c, DIR_C2S, r->b, r->n);
		assert_reference_client_hello(&c->s);
		assert_int_equal(c->s.records[DIR_C2S], 2);
		conv_free(c);
	}
	struct conv *c = conv_new();
	r->n = 0;
	record(r, 22, 0x0301, m->b, 2);
	record(r, 22, 0x0301, m->b + 2, 50);
	record(r, 22, 0x0301, m->b + 52, m->n - 52);
	send_bytewise(c, DIR_C2S, r->b, r->n);
	assert_reference_client_hello(&c->s);
	conv_free(c);
	free(m);
	free(r);
}

/* Server flight of a TLS 1.2 full handshake: ServerHello, Certificate and
 * ServerHelloDone in one record. */
static void server_flight_12(struct bb *msgs, uint16_t version, uint16_t cipher, int certs)
{
	server_hello_msg(msgs, version, cipher, false, false);
	certificate_msg(msgs, certs);
	server_hello_done_msg(msgs);
}

static void assert_chain(const struct tls_state *s, int n)
{
	assert_true(s->cert_seen);
	assert_int_equal(s->chain_len, n > TLS_MAX_CHAIN ? TLS_MAX_CHAIN : n);
	assert_int_equal(s->chain_total, n);
	assert_true(s->chain[0]->parsed);
	assert_string_equal(s->chain[0]->subject, "CN=ibmi.example.com,O=tlsready test,C=US");
	assert_true(s->chain[0]->self_signed);
}

static void test_server_hello_12_and_completion(void **state)
{
	(void)state;
	struct conv *c = conv_new();
	struct bb *msgs = bb_new();
	send_client_hello(c, 0x0303, false);
	server_flight_12(msgs, 0x0303, 0xc02f, 2);
	send_record(c, DIR_S2C, 22, 0x0303, msgs);
	assert_true(c->s.server_hello);
	assert_false(c->s.hello_retry);
	assert_int_equal(c->s.version, 0x0303);
	assert_int_equal(c->s.cipher, 0xc02f);
	assert_int_equal(c->s.chosen_family, TLSF_AEAD);
	assert_string_equal(c->s.alpn, "h2");        /* the server's choice */
	/* printf '%s' "771,49199,65281-23-16" | md5sum */
	assert_string_equal(c->s.ja3s, "73af335fe09e39201fe5051320f25083");
	/* printf '%s' "ff01,0017,0010" | sha256sum | cut -c1-12 */
	assert_string_equal(c->s.ja4s, "t1203h2_c02f_3a8a4dba2f3a");
	assert_chain(&c->s, 2);
	assert_int_equal(c->s.client_max_version, 0x0303);   /* no supported_versions */

	/* client: ClientKeyExchange, CCS, Finished */
	static const uint8_t cke[] = { 16, 0, 0, 2, 0, 0 };
	send_raw_record(c, DIR_C2S, 22, cke, sizeof cke);
	send_ccs(c, DIR_C2S);
	assert_true(c->s.ccs[DIR_C2S]);
	assert_false(c->s.finished[DIR_C2S]);
	send_encrypted(c, DIR_C2S, 22);
	assert_true(c->s.finished[DIR_C2S]);
	assert_false(c->s.completed);
	send_ccs(c, DIR_S2C);
	assert_false(c->s.completed);
	send_encrypted(c, DIR_S2C, 22);
	assert_true(c->s.completed);
	assert_true(tls_done(&c->s));
	assert_false(c->s.malformed[0] || c->s.malformed[1]);
	free(msgs);
	conv_free(c);
}

/* Several records in one segment, the segment cut at odd places. */
static void test_records_in_one_segment(void **state)
{
	(void)state;
	struct bb *msgs = bb_new(), *seg = bb_new();
	server_flight_12(msgs, 0x0303, 0xc030, 1);
	/* ServerHello | Certificate | Done as three records, then CCS + Finished */
	size_t sh_len = 4 + ((size_t)msgs->b[2] << 8 | msgs->b[3]);
	size_t cert_len = msgs->n - sh_len - 4;
	record(seg, 22, 0x0303, msgs->b, sh_len);
	record(seg, 22, 0x0303, msgs->b + sh_len, cert_len);
	record(seg, 22, 0x0303, msgs->b + sh_len + cert_len, 4);
	for (size_t cut = 1; cut < seg->n; cut += 37) {
		struct conv *c = conv_new();
		send_client_hello(c, 0x0303, true);
		send_bytes(c, DIR_S2C, seg->b, cut);
		send_bytes(c, DIR_S2C, seg->b + cut, seg->n - cut);
		assert_int_equal(c->s.records[DIR_S2C], 3);
		assert_int_equal(c->s.cipher, 0xc030);
		assert_chain(&c->s, 1);
		conv_free(c);
	}
	free(msgs);
	free(seg);
}

/* A Certificate message bigger than a record, split over four records,
 * with more certificates than TLS_MAX_CHAIN. */
static void test_certificate_over_records(void **state)
{
	(void)state;
	struct conv *c = conv_new();
	struct bb *msgs = bb_new(), *seg = bb_new();
	server_hello_msg(msgs, 0x0303, 0x009c, false, false);
	certificate_msg(msgs, 40);                 /* about 20 KiB */
	server_hello_done_msg(msgs);
	size_t part = msgs->n / 4 + 1;
	for (size_t o = 0; o < msgs->n; o += part)
		record(seg, 22, 0x0303, msgs->b + o, o + part > msgs->n ? msgs->n - o : part);
	send_client_hello(c, 0x0303, true);
	for (size_t o = 0; o < seg->n; o += 1460)   /* TCP-sized segments */
		send_bytes(c, DIR_S2C, seg->b + o, o + 1460 > seg->n ? seg->n - o : 1460);
	assert_int_equal(c->s.cipher, 0x009c);
	assert_chain(&c->s, 40);
	assert_false(c->s.malformed[DIR_S2C]);
	free(msgs);
	free(seg);
	conv_free(c);
}

static void test_server_hello_13(void **state)
{
	(void)state;
	struct conv *c = conv_new();
	struct bb *m = bb_new();
	send_client_hello(c, 0x0303, true);
	send_encrypted(c, DIR_C2S, 23);             /* 0-RTT early data: before the ServerHello */
	server_hello_msg(m, 0x0303, 0x1301, true, false);
	send_record(c, DIR_S2C, 22, 0x0303, m);
	assert_int_equal(c->s.version, 0x0304);     /* supported_versions, not legacy 0x0303 */
	assert_int_equal(c->s.cipher, 0x1301);
	/* printf '%s' "771,4865,43-51" | md5sum */
	assert_string_equal(c->s.ja3s, "f4febc55ea12b31ae17cfb7e614afda8");
	/* printf '%s' "002b,0033" | sha256sum | cut -c1-12 */
	assert_string_equal(c->s.ja4s, "t130200_1301_a56c5b993250");
	send_ccs(c, DIR_S2C);                        /* middlebox compatibility */
	send_encrypted(c, DIR_S2C, 23);              /* EncryptedExtensions ... */
	assert_false(c->s.completed);                /* the early data does not count */
	send_ccs(c, DIR_C2S);
	send_sized(c, DIR_C2S, 25);                  /* an empty client Certificate (4 + 4 + 1 + 16): asked for */
	assert_false(c->s.completed);                /* one, a client sends it before its Finished */
	send_sized(c, DIR_C2S, 53);                  /* client Finished: 4 + 32 (SHA-256) + 1 + 16 */
	assert_true(c->s.completed);
	assert_true(tls_done(&c->s));
	assert_false(c->s.cert_seen);
	free(m);
	conv_free(c);
}

/* TLS 1.3: the client rejects the server (say its certificate) with one
 * encrypted alert of 19 bytes: not completed. */
static void test_tls13_client_rejects(void **state)
{
	(void)state;
	struct conv *c = conv_new();
	struct bb *m = bb_new();
	send_client_hello(c, 0x0303, true);
	server_hello_msg(m, 0x0303, 0x1301, true, false);
	send_record(c, DIR_S2C, 22, 0x0303, m);
	send_encrypted(c, DIR_S2C, 23);
	send_ccs(c, DIR_C2S);
	uint8_t alert[19];
	memset(alert, 0x33, sizeof alert);
	send_raw_record(c, DIR_C2S, 23, alert, sizeof alert);
	assert_true(c->s.appdata[DIR_C2S]);
	assert_int_equal(c->s.appdata_records[DIR_C2S], 1);
	assert_int_equal(c->s.first_appdata_len[DIR_C2S], 19);
	assert_int_equal(c->s.first_appdata_len[DIR_S2C], 40);
	assert_false(c->s.completed);
	assert_false(tls_done(&c->s));
	free(m);
	conv_free(c);
}

static void test_hello_retry_request(void **state)
{
	(void)state;
	struct conv *c = conv_new();
	struct bb *m = bb_new();
	send_client_hello(c, 0x0303, true);
	server_hello_msg(m, 0x0303, 0x1302, true, true);
	send_record(c, DIR_S2C, 22, 0x0303, m);
	assert_true(c->s.hello_retry);
	assert_true(c->s.hrr_seen);
	assert_int_equal(c->s.version, 0);           /* a HRR is not the final ServerHello */
	assert_string_equal(c->s.ja3s, "");
	send_ccs(c, DIR_C2S);
	send_client_hello(c, 0x0303, true);          /* the second ClientHello, plaintext after CCS */
	assert_false(c->s.finished[DIR_C2S]);
	assert_false(c->s.malformed[DIR_C2S]);
	m->n = 0;
	server_hello_msg(m, 0x0303, 0x1302, true, false);
	send_record(c, DIR_S2C, 22, 0x0303, m);
	assert_true(c->s.server_hello);
	assert_false(c->s.hello_retry);
	assert_true(c->s.hrr_seen);
	assert_int_equal(c->s.version, 0x0304);
	assert_int_equal(c->s.cipher, 0x1302);
	send_encrypted(c, DIR_S2C, 23);
	send_sized(c, DIR_C2S, 69);                  /* client Finished with SHA-384 (0x1302): 4 + 48 + 1 + 16 */
	assert_true(c->s.completed);
	free(m);
	conv_free(c);
}

/* Client offers TLS 1.2, server picks TLS 1.0: the version is the server's. */
static void test_server_downgrade(void **state)
{
	(void)state;
	struct conv *c = conv_new();
	struct bb *msgs = bb_new();
	send_client_hello(c, 0x0303, false);
	server_flight_12(msgs, 0x0301, 0x0004, 1);
	send_record(c, DIR_S2C, 22, 0x0303, msgs);   /* record version says 1.2: ignored */
	assert_int_equal(c->s.version, 0x0301);
	assert_string_equal(tls_version_name(c->s.version), "TLSv1.0");
	assert_int_equal(c->s.chosen_family, TLSF_RC4);
	assert_int_equal(c->s.client_max_version, 0x0303);
	/* no supported_versions: JA4's version is the legacy one; c part:
	 * printf '%s' "000a,000b,000d,0017_0403,0804,0401" | sha256sum | cut -c1-12 */
	assert_string_equal(c->s.ja4, "t12d0606h2_509ca4d5968e_7417d88d13f3");
	free(msgs);
	conv_free(c);
}

static void test_server_only(void **state)
{
	(void)state;
	struct conv *c = conv_new();
	struct bb *msgs = bb_new();
	server_flight_12(msgs, 0x0302, 0xc013, 1);
	send_bytewise(c, DIR_S2C, msgs->b, 0);
	send_record(c, DIR_S2C, 22, 0x0302, msgs);
	assert_false(c->s.client_hello);
	assert_true(c->s.server_hello);
	assert_int_equal(c->s.version, 0x0302);
	assert_int_equal(c->s.cipher, 0xc013);
	assert_string_equal(c->s.ja3, "");
	send_ccs(c, DIR_S2C);
	send_encrypted(c, DIR_S2C, 22);
	assert_true(c->s.finished[DIR_S2C]);
	assert_false(c->s.completed);                /* the client's side was not seen */
	free(msgs);
	conv_free(c);
}

static void test_alerts(void **state)
{
	(void)state;
	struct conv *c = conv_new();
	send_client_hello(c, 0x0301, false);
	static const uint8_t warn[] = { 1, 112 };
	send_raw_record(c, DIR_S2C, 21, warn, sizeof warn);
	assert_true(c->s.alert);
	assert_int_equal(c->s.alert_level, 1);
	assert_int_equal(c->s.alert_desc, 112);
	assert_int_equal(c->s.alert_dir, DIR_S2C);
	assert_false(tls_done(&c->s));
	static const uint8_t fatal[] = { 2, 70 };
	send_raw_record(c, DIR_S2C, 21, fatal, sizeof fatal);
	assert_int_equal(c->s.alert_level, 2);
	assert_string_equal(tls_alert_name(c->s.alert_desc), "protocol_version");
	assert_true(tls_done(&c->s));
	conv_free(c);

	/* after CCS an alert is encrypted: not read */
	c = conv_new();
	send_client_hello(c, 0x0303, false);
	send_ccs(c, DIR_C2S);
	send_encrypted(c, DIR_C2S, 21);
	assert_false(c->s.alert);
	assert_false(c->s.malformed[DIR_C2S]);
	conv_free(c);
}

static void test_sslv2_hello(void **state)
{
	(void)state;
	struct conv *c = conv_new();
	struct bb *m = bb_new();
	/* SSLv2 CLIENT-HELLO offering TLS 1.0: specs RC4_128_WITH_MD5 (v2),
	 * DES_192_EDE3_CBC_WITH_MD5 (v2), 0x00002f, 0x000005, 0x0000ff; 16-byte challenge */
	static const uint8_t specs[] = { 0x01, 0x00, 0x80, 0x07, 0x00, 0xc0, 0x00, 0x00, 0x2f,
					 0x00, 0x00, 0x05, 0x00, 0x00, 0xff };
	size_t body = 9 + sizeof specs + 16;
	u8(m, 0x80 | (unsigned)(body >> 8));
	u8(m, body & 0xff);
	u8(m, 1);
	u16(m, 0x0301);
	u16(m, sizeof specs);
	u16(m, 0);
	u16(m, 16);
	put(m, specs, sizeof specs);
	zeros(m, 16);
	assert_int_equal(tls_probe(m->b, m->n, DIR_C2S), PROBE_YES);
	send_bytewise(c, DIR_C2S, m->b, m->n);
	assert_true(c->s.client_hello);
	assert_true(c->s.sslv2_hello);
	assert_int_equal(c->s.client_legacy_version, 0x0301);
	assert_int_equal(c->s.client_max_version, 0x0301);
	assert_int_equal(c->s.n_ciphers, 2);
	assert_int_equal(c->s.n_legacy_ciphers, 1);
	assert_int_equal(c->s.offered_families, TLSF_RC4 | TLSF_3DES | TLSF_CBC);
	/* TLS records follow the SSLv2 hello in the same direction */
	send_ccs(c, DIR_C2S);
	assert_true(c->s.ccs[DIR_C2S]);
	assert_false(c->s.dead[DIR_C2S]);
	free(m);
	conv_free(c);
}

/* ---------------------------------------------------------- malformed */

static void test_garbage(void **state)
{
	(void)state;
	struct conv *c = conv_new();
	send_bytes(c, DIR_C2S, (const uint8_t *)"GET / HTTP/1.0\r\n\r\n", 18);
	assert_true(c->s.dead[DIR_C2S]);
	assert_false(c->s.malformed[DIR_C2S]);       /* never was TLS */
	assert_false(c->s.client_hello);
	conv_free(c);

	/* a good record, then an impossible header: malformed */
	c = conv_new();
	send_client_hello(c, 0x0303, true);
	static const uint8_t bad[] = { 0x16, 0x03, 0x03, 0xff, 0xff, 0x01 };
	send_bytes(c, DIR_C2S, bad, sizeof bad);
	assert_true(c->s.dead[DIR_C2S]);
	assert_true(c->s.malformed[DIR_C2S]);
	assert_true(c->s.client_hello);              /* facts learned before are kept */
	conv_free(c);

	/* pseudo-random bytes never crash, whatever the split */
	uint32_t x = 12345;
	for (int round = 0; round < 200; round++) {
		c = conv_new();
		uint8_t junk[600];
		for (size_t i = 0; i < sizeof junk; i++) {
			x = x * 1103515245u + 12345u;
			junk[i] = (uint8_t)(x >> 16);
		}
		junk[0] = 0x16; junk[1] = 3; junk[2] = (uint8_t)(round % 5);
		send_bytewise(c, round & 1, junk, sizeof junk);
		conv_free(c);
	}
	assert_true(1);
}

static void test_contradictory_lengths(void **state)
{
	(void)state;
	/* ClientHello whose cipher list runs past the message */
	struct bb *m = bb_new();
	client_hello_msg(m, 0x0303, true);
	m->b[4 + 2 + 32 + 1] = 0x7f;                 /* cipher_suites length high byte */
	struct conv *c = conv_new();
	send_record(c, DIR_C2S, 22, 0x0301, m);
	assert_true(c->s.malformed[DIR_C2S]);
	assert_false(c->s.client_hello);
	conv_free(c);

	/* handshake length shorter than the body: the extension block breaks */
	m->n = 0;
	client_hello_msg(m, 0x0303, true);
	m->b[3] = (uint8_t)(m->b[3] - 10);
	c = conv_new();
	send_record(c, DIR_C2S, 22, 0x0301, m);
	assert_true(c->s.malformed[DIR_C2S]);
	conv_free(c);

	/* an extension longer than the extension block */
	m->n = 0;
	client_hello_msg(m, 0x0303, true);
	size_t sni_len_at = 4 + 2 + 32 + 1 + 2 + 14 + 2 + 2 + 4 + 2;   /* SNI extension's length */
	assert_int_equal(m->b[sni_len_at - 2], 0x00);
	m->b[sni_len_at] = 0x40;
	c = conv_new();
	send_record(c, DIR_C2S, 22, 0x0301, m);
	assert_true(c->s.client_hello);
	assert_true(c->s.malformed[DIR_C2S]);
	conv_free(c);

	/* truncated: the record promises more than ever arrives */
	m->n = 0;
	client_hello_msg(m, 0x0303, true);
	struct bb *r = bb_new();
	record(r, 22, 0x0301, m->b, m->n);
	c = conv_new();
	send_bytes(c, DIR_C2S, r->b, r->n - 3);
	assert_false(c->s.client_hello);
	assert_false(c->s.dead[DIR_C2S]);
	assert_false(c->s.malformed[DIR_C2S]);
	conv_free(c);

	/* record too long for TLS */
	static const uint8_t huge[] = { 0x17, 0x03, 0x03, 0x48, 0x01 };
	c = conv_new();
	send_client_hello(c, 0x0303, true);
	send_bytes(c, DIR_C2S, huge, sizeof huge);
	assert_true(c->s.dead[DIR_C2S]);
	assert_true(c->s.malformed[DIR_C2S]);
	conv_free(c);
	free(r);
	free(m);
}

/* A handshake message declaring more than 64 KiB, over several records. */
static void test_oversized_message(void **state)
{
	(void)state;
	struct conv *c = conv_new();
	uint8_t chunk[16384];
	memset(chunk, 0x41, sizeof chunk);
	chunk[0] = 11;          /* Certificate, length 0x020000 */
	chunk[1] = 0x02;
	chunk[2] = 0x00;
	chunk[3] = 0x00;
	send_raw_record(c, DIR_S2C, 22, chunk, sizeof chunk);
	assert_true(c->s.dead[DIR_S2C]);
	assert_true(c->s.malformed[DIR_S2C]);
	conv_free(c);

	/* the same, with the length only known after the second record */
	c = conv_new();
	send_raw_record(c, DIR_S2C, 22, chunk, 2);
	assert_false(c->s.dead[DIR_S2C]);
	send_raw_record(c, DIR_S2C, 22, chunk + 2, 100);
	assert_true(c->s.dead[DIR_S2C]);
	assert_true(c->s.malformed[DIR_S2C]);
	conv_free(c);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(tls_version_name(0x0300), "SSLv3");
	assert_string_equal(tls_version_name(0x0301), "TLSv1.0");
	assert_string_equal(tls_version_name(0x0302), "TLSv1.1");
	assert_string_equal(tls_version_name(0x0303), "TLSv1.2");
	assert_string_equal(tls_version_name(0x0304), "TLSv1.3");
	/* drafts by number (0x7f12 is draft 18, 0x7f1c draft 28); later ones and Facebook's 0xfbNN plainly */
	assert_string_equal(tls_version_name(0x7f12), "TLSv1.3-draft-18");
	assert_string_equal(tls_version_name(0x7f1c), "TLSv1.3-draft-28");
	assert_string_equal(tls_version_name(0x7f1d), "TLSv1.3-draft");
	assert_string_equal(tls_version_name(0xfb1a), "TLSv1.3-draft");
	assert_null(tls_version_name(0));
	assert_null(tls_version_name(0x0305));

	assert_string_equal(tls_cipher_name(0x0004), "TLS_RSA_WITH_RC4_128_MD5");
	assert_string_equal(tls_cipher_name(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	assert_string_equal(tls_cipher_name(0x1302), "TLS_AES_256_GCM_SHA384");
	assert_string_equal(tls_cipher_name(0xcca8), "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
	assert_string_equal(tls_cipher_name(0x0000), "TLS_NULL_WITH_NULL_NULL");
	assert_string_equal(tls_cipher_name(0x000a), "TLS_RSA_WITH_3DES_EDE_CBC_SHA");
	assert_string_equal(tls_cipher_name(0xc08a), "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256");
	assert_string_equal(tls_cipher_name(0xc050), "TLS_RSA_WITH_ARIA_128_GCM_SHA256");
	assert_string_equal(tls_cipher_name(0x5600), "TLS_FALLBACK_SCSV");
	assert_null(tls_cipher_name(0x0a0a));
	assert_null(tls_cipher_name(0x1399));

	assert_int_equal(tls_cipher_family(0x0000), TLSF_NULL);
	assert_int_equal(tls_cipher_family(0x0002), TLSF_NULL);
	assert_int_equal(tls_cipher_family(0x0003), TLSF_EXPORT | TLSF_RC4);
	assert_int_equal(tls_cipher_family(0x0004), TLSF_RC4);
	assert_int_equal(tls_cipher_family(0x0009), TLSF_DES | TLSF_CBC);
	assert_int_equal(tls_cipher_family(0x0008), TLSF_EXPORT | TLSF_DES | TLSF_CBC);
	assert_int_equal(tls_cipher_family(0x000a), TLSF_3DES | TLSF_CBC);
	assert_int_equal(tls_cipher_family(0x0018), TLSF_ANON | TLSF_RC4);
	assert_int_equal(tls_cipher_family(0x002f), TLSF_CBC);
	assert_int_equal(tls_cipher_family(0x009c), TLSF_AEAD);
	assert_int_equal(tls_cipher_family(0xc0ac), TLSF_AEAD);   /* ECDHE_ECDSA_WITH_AES_128_CCM */
	assert_int_equal(tls_cipher_family(0x1303), TLSF_AEAD);
	assert_int_equal(tls_cipher_family(0x00a6), TLSF_ANON | TLSF_AEAD);
	assert_int_equal(tls_cipher_family(0x00ff), 0);
	assert_int_equal(tls_cipher_family(0x1399), 0);

	static const char *alerts[] = {
		[0] = "close_notify", [10] = "unexpected_message", [20] = "bad_record_mac",
		[21] = "decryption_failed", [22] = "record_overflow", [30] = "decompression_failure",
		[40] = "handshake_failure", [41] = "no_certificate", [42] = "bad_certificate",
		[43] = "unsupported_certificate", [44] = "certificate_revoked", [45] = "certificate_expired",
		[46] = "certificate_unknown", [47] = "illegal_parameter", [48] = "unknown_ca",
		[49] = "access_denied", [50] = "decode_error", [51] = "decrypt_error",
		[60] = "export_restriction", [70] = "protocol_version", [71] = "insufficient_security",
		[80] = "internal_error", [86] = "inappropriate_fallback", [90] = "user_canceled",
		[100] = "no_renegotiation", [109] = "missing_extension", [110] = "unsupported_extension",
		[111] = "certificate_unobtainable", [112] = "unrecognized_name",
		[113] = "bad_certificate_status_response", [114] = "bad_certificate_hash_value",
		[115] = "unknown_psk_identity", [116] = "certificate_required",
		[120] = "no_application_protocol",
	};
	for (size_t i = 0; i < sizeof alerts / sizeof alerts[0]; i++)
		if (alerts[i])
			assert_string_equal(tls_alert_name((uint8_t)i), alerts[i]);
	assert_null(tls_alert_name(255));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_client_hello),
		cmocka_unit_test(test_client_hello_bytewise),
		cmocka_unit_test(test_hello_split_records),
		cmocka_unit_test(test_server_hello_12_and_completion),
		cmocka_unit_test(test_records_in_one_segment),
		cmocka_unit_test(test_certificate_over_records),
		cmocka_unit_test(test_server_hello_13),
		cmocka_unit_test(test_tls13_client_rejects),
		cmocka_unit_test(test_hello_retry_request),
		cmocka_unit_test(test_server_downgrade),
		cmocka_unit_test(test_server_only),
		cmocka_unit_test(test_alerts),
		cmocka_unit_test(test_sslv2_hello),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_contradictory_lengths),
		cmocka_unit_test(test_oversized_message),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
