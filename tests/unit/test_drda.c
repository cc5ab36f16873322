/*
 * test_drda.c - the DDM/DRDA dissector, from the byte layouts of
 * /work/shared/docs/ibmi-protocols.md section 6: JT's EXCSAT (EXTNAM "JT400"
 * in EBCDIC, SRVCLSNM "QAS"), ACCSEC, SECCHK with USRID in clear and under
 * SECMEC 9, ACCRDB PRDID, SECCHKRM; fed whole, byte by byte and chained in
 * one call; continuation segments; hostile lengths; PASSWORD and SECTKN (a
 * marker) never reaching a fact.  Apache Derby's client, field by field:
 * UNICODEMGR 1208 agreed in EXCSAT/EXCSATRD, then SECCHK's USRID in UTF-8 and
 * its PASSWORD in clear under SECMEC 3 (noted, never copied).
 */
#include "testutil.h"

#include <stdlib.h>

#include "drda.h"
#include "protocol.h"

struct buf {
	uint8_t b[8192];
	size_t n;
};

static void put8(struct buf *p, uint8_t v) { p->b[p->n++] = v; }
static void put16(struct buf *p, uint16_t v) { put8(p, v >> 8); put8(p, v & 0xFF); }
static void put(struct buf *p, const void *b, size_t n) { memcpy(p->b + p->n, b, n); p->n += n; }

static void set16(struct buf *p, size_t at, size_t v)
{
	p->b[at] = (uint8_t)(v >> 8);
	p->b[at + 1] = (uint8_t)v;
}

/* ASCII letters, digits and blank to EBCDIC (CCSID 37). */
static uint8_t ebc(char c)
{
	if (c >= 'A' && c <= 'I') return (uint8_t)(0xC1 + c - 'A');
	if (c >= 'J' && c <= 'R') return (uint8_t)(0xD1 + c - 'J');
	if (c >= 'S' && c <= 'Z') return (uint8_t)(0xE2 + c - 'S');
	if (c >= '0' && c <= '9') return (uint8_t)(0xF0 + c - '0');
	return 0x40;
}

/* Open a DSS (fixed by close_dss) and an object (fixed by close_obj). */
static size_t open_dss(struct buf *p, uint8_t fmt, uint16_t corr)
{
	size_t at = p->n;
	put16(p, 0);
	put8(p, 0xD0);
	put8(p, fmt);
	put16(p, corr);
	return at;
}
static void close_dss(struct buf *p, size_t at) { set16(p, at, p->n - at); }

static size_t open_obj(struct buf *p, uint16_t cp)
{
	size_t at = p->n;
	put16(p, 0);
	put16(p, cp);
	return at;
}
static void close_obj(struct buf *p, size_t at) { set16(p, at, p->n - at); }

static void param(struct buf *p, uint16_t cp, const void *d, size_t n)
{
	put16(p, (uint16_t)(4 + n));
	put16(p, cp);
	put(p, d, n);
}

static void param_ebc(struct buf *p, uint16_t cp, const char *s)
{
	uint8_t e[64];
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		e[i] = ebc(s[i]);
	param(p, cp, e, n);
}

static void param16(struct buf *p, uint16_t cp, uint16_t v)
{
	uint8_t d[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	param(p, cp, d, 2);
}

static const uint8_t secret[16] = {
	0xDE, 0xAD, 0xBE, 0xEF, 0xE2, 0xC5, 0xC3, 0xD9, 0xC5, 0xE3, 0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x01,
};

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

/* ---- the flow ---- */

static void excsat(struct buf *p)
{
	size_t d = open_dss(p, 0x41, 1), o = open_obj(p, 0x1041);
	param_ebc(p, 0x115E, "JT400");
	param_ebc(p, 0x1147, "QAS");
	param(p, 0x1404, "\x14\x03\x00\x0A\x24\x07\x00\x0A\x14\x74\x00\x05\x24\x0F\x00\x0A\x14\x40\x00\x09", 20);
	param_ebc(p, 0x116D, "JT400");
	close_obj(p, o);
	close_dss(p, d);
}

static void excsatrd(struct buf *p)
{
	size_t d = open_dss(p, 0x43, 1), o = open_obj(p, 0x1443);
	param_ebc(p, 0x115E, "QRWTSRVR");
	param_ebc(p, 0x1147, "QAS");
	close_obj(p, o);
	close_dss(p, d);
}

static void accsec(struct buf *p, uint16_t secmec)
{
	size_t d = open_dss(p, 0x41, 2), o = open_obj(p, 0x106D);
	param16(p, 0x11A2, secmec);
	param_ebc(p, 0x2110, "SYSA");
	param(p, 0x11DC, secret, 16);                 /* client seed */
	close_obj(p, o);
	close_dss(p, d);
}

static void accsecrd(struct buf *p, uint16_t secmec)
{
	size_t d = open_dss(p, 0x42, 2), o = open_obj(p, 0x14AC);
	param16(p, 0x11A2, secmec);
	param(p, 0x11DC, secret, 16);                 /* server seed */
	close_obj(p, o);
	close_dss(p, d);
}

/* SECCHK chained with ACCRDB in one send, as JT does. */
static void secchk_accrdb(struct buf *p, uint16_t secmec, const void *user, size_t ulen, bool ascii_prdid)
{
	size_t d = open_dss(p, 0x41, 3), o = open_obj(p, 0x106E);
	param16(p, 0x11A2, secmec);
	param_ebc(p, 0x2110, "SYSA");
	param(p, 0x11A0, user, ulen);
	param(p, 0x11A1, secret, 16);                 /* password substitute */
	close_obj(p, o);
	close_dss(p, d);
	d = open_dss(p, 0x01, 4);
	o = open_obj(p, 0x2001);
	param_ebc(p, 0x2110, "SYSA");
	param16(p, 0x210F, 0x2407);
	if (ascii_prdid)
		param(p, 0x112E, "JCC04200", 8);
	else
		param_ebc(p, 0x112E, "JCC04200");
	close_obj(p, o);
	close_dss(p, d);
}

static void secchkrm(struct buf *p, uint16_t svrcod, uint8_t cd)
{
	size_t d = open_dss(p, 0x02, 3), o = open_obj(p, 0x1219);
	param16(p, 0x1149, svrcod);
	param(p, 0x11A4, &cd, 1);
	close_obj(p, o);
	close_dss(p, d);
}

static const uint8_t quser_ebc[] = { 0xD8, 0xE4, 0xE2, 0xC5, 0xD9, 0x40, 0x40, 0x40, 0x40, 0x40 };

struct step {
	int dir;
	struct buf p;
};

static struct step flow[6];

static void build_flow(uint16_t secmec, bool ascii_prdid)
{
	memset(flow, 0, sizeof flow);
	flow[0].dir = DIR_C2S; excsat(&flow[0].p);
	flow[1].dir = DIR_S2C; excsatrd(&flow[1].p);
	flow[2].dir = DIR_C2S; accsec(&flow[2].p, secmec);
	flow[3].dir = DIR_S2C; accsecrd(&flow[3].p, secmec);
	flow[4].dir = DIR_C2S; secchk_accrdb(&flow[4].p, secmec, quser_ebc, sizeof quser_ebc, ascii_prdid);
	flow[5].dir = DIR_S2C; secchkrm(&flow[5].p, 0, 0);
}

static void feed(struct drda_state *s, int dir, const uint8_t *b, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, b, n);
	drda_consume(s, dir, copy, n);
	free(copy);
}

static void play(struct drda_state *s, size_t chunk)
{
	static uint8_t acc[2][65536];
	size_t n[2] = { 0, 0 };
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < 6; i++) {
		int d = flow[i].dir;
		for (size_t done = 0; done < flow[i].p.n;) {
			size_t k = chunk && flow[i].p.n - done > chunk ? chunk : flow[i].p.n - done;
			memcpy(acc[d] + n[d], flow[i].p.b + done, k);
			n[d] += k;
			done += k;
			feed(s, d, acc[d], n[d]);
		}
	}
}

static void check_flow(const struct drda_state *s)
{
	assert_true(s->valid);
	assert_false(s->malformed[0] || s->malformed[1]);
	assert_true(s->excsat);
	assert_string_equal(s->extnam, "JT400");
	assert_string_equal(s->srvclsnm, "QAS");
	assert_string_equal(s->prdid, "JCC04200");
	char sw[48];                                  /* the product ID before the external name */
	assert_string_equal(protocol_drda.software(s, sw, sizeof sw), "DRDA PRDID JCC04200");
	assert_int_equal(s->secmec, 3);
	assert_true(s->secchk);
	assert_string_equal(s->user, "QUSER");
	assert_false(s->user_encrypted);
	assert_true(s->password_clear);               /* PASSWORD under SECMEC 3: noted, not copied */
	assert_true(protocol_drda.clear_password(s));
	assert_true(s->secchk_reply);
	assert_int_equal(s->secchk_svrcod, 0);
	assert_true(s->secchkcd_seen);
	assert_int_equal(s->secchkcd, 0);
	assert_int_equal(s->dss[DIR_C2S], 4);
	assert_int_equal(s->dss[DIR_S2C], 3);
	assert_true(drda_done(s));
	assert_false(has_secret(s, sizeof *s));
}

static void flow_whole(void **st)
{
	(void)st;
	struct drda_state s;
	build_flow(3, false);
	play(&s, 0);
	check_flow(&s);
}

static void flow_byte_by_byte(void **st)
{
	(void)st;
	struct drda_state s;
	build_flow(3, false);
	play(&s, 1);
	check_flow(&s);
	for (size_t k = 2; k < 30; k += 5) {
		play(&s, k);
		check_flow(&s);
	}
}

static void prdid_ascii(void **st)
{
	(void)st;
	struct drda_state s;
	build_flow(3, true);
	play(&s, 0);
	check_flow(&s);
}

/* JT's EXCSAT starts "LL LL D0 41 00 01 LL LL 10 41" and is recognised. */
static void probe(void **st)
{
	(void)st;
	struct buf p = { .n = 0 };
	excsat(&p);
	assert_int_equal(p.b[2], 0xD0);
	assert_int_equal(p.b[8], 0x10);
	assert_int_equal(p.b[9], 0x41);
	assert_int_equal(drda_probe(p.b, p.n, DIR_C2S), PROBE_YES);
	assert_int_equal(drda_probe(p.b, 10, DIR_C2S), PROBE_YES);
	assert_int_equal(drda_probe(p.b, 9, DIR_C2S), PROBE_MAYBE);
	assert_int_equal(drda_probe(p.b, 2, DIR_C2S), PROBE_MAYBE);
	p.b[7]++;
	assert_int_equal(drda_probe(p.b, p.n, DIR_C2S), PROBE_NO);
	assert_int_equal(drda_probe((const uint8_t *)"\x16\x03\x01\x00", 4, DIR_C2S), PROBE_NO);
	assert_int_equal(drda_probe((const uint8_t *)"as-signon", 9, DIR_C2S), PROBE_NO);
}

/* SECMEC 9 (EUSRIDPWD): the user ID is encrypted, never kept. */
static void secmec9_user_not_kept(void **st)
{
	(void)st;
	struct drda_state s;
	build_flow(9, false);
	memset(&flow[4].p, 0, sizeof flow[4].p);
	secchk_accrdb(&flow[4].p, 9, secret, 16, false);
	play(&s, 0);
	assert_int_equal(s.secmec, 9);
	assert_string_equal(s.user, "");
	assert_true(s.user_encrypted);
	assert_false(s.password_clear);
	assert_false(has_secret(&s, sizeof s));
	/* even when the USRID bytes would decode */
	build_flow(9, false);
	play(&s, 1);
	assert_string_equal(s.user, "");
	assert_true(s.user_encrypted);
}

/* A USRID that is not clear EBCDIC, or too long, is not kept. */
static void odd_user_ids(void **st)
{
	(void)st;
	struct drda_state s;
	static const struct { const void *u; size_t n; const char *want; } cases[] = {
		{ "\xD8\xE4\xE2\xC5\xD9\xF1\xF2\xF3\xF4\xF5\xF6", 11, "" },      /* 11 characters */
		{ "\xD8\xE4\xE2\xC5\xD9\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40", 18, "QUSER" },
		{ "\x01\x02\x03", 3, "" },
		{ "", 0, "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		build_flow(4, false);
		memset(&flow[4].p, 0, sizeof flow[4].p);
		secchk_accrdb(&flow[4].p, 4, cases[i].u, cases[i].n, false);
		play(&s, 0);
		assert_string_equal(s.user, cases[i].want);
		assert_false(s.malformed[0]);
	}
}

/* Several DSS in one call, plus the server's own EXTNAM not taken. */
static void chained_in_one_call(void **st)
{
	(void)st;
	struct drda_state s = { 0 };
	struct buf c = { .n = 0 }, r = { .n = 0 };
	excsat(&c);
	accsec(&c, 6);
	secchk_accrdb(&c, 6, quser_ebc, sizeof quser_ebc, false);
	excsatrd(&r);
	accsecrd(&r, 6);
	secchkrm(&r, 8, 0x0F);
	feed(&s, DIR_C2S, c.b, c.n);
	assert_int_equal(s.dss[0], 4);
	assert_false(drda_done(&s));
	feed(&s, DIR_S2C, r.b, r.n);
	assert_string_equal(s.extnam, "JT400");
	assert_int_equal(s.secmec, 6);
	assert_string_equal(s.user, "QUSER");
	assert_int_equal(s.secchk_svrcod, 8);
	assert_int_equal(s.secchkcd, 0x0F);
	assert_true(drda_done(&s));
}

/* A DSS with the continuation bit: the following segments are skipped. */
static void continuation(void **st)
{
	(void)st;
	struct drda_state s = { 0 };
	struct buf c = { .n = 0 };
	excsat(&c);
	size_t d = open_dss(&c, 0x03, 5);
	size_t o = open_obj(&c, 0x2412);
	set16(&c, o, 0x0100);                          /* object longer than the segment */
	for (int i = 0; i < 20; i++)
		put8(&c, 0xD0);
	set16(&c, d, (c.n - d) | 0x8000);
	put16(&c, 0x8000 | 12);                          /* continuation, more follow */
	put(&c, "\xD0\xD0\xD0\xD0\xD0\xD0\xD0\xD0\xD0\xD0", 10);
	put16(&c, 5);                                    /* the last one */
	put(&c, "\xD0\x41\x00", 3);
	accsec(&c, 3);
	for (size_t i = 1; i <= c.n; i++)
		feed(&s, DIR_C2S, c.b, i);
	assert_false(s.malformed[0]);
	assert_int_equal(s.dss[0], 3);
	assert_int_equal(s.secmec, 3);
	/* an impossible continuation length */
	struct drda_state t = { 0 };
	struct buf q = { .n = 0 };
	d = open_dss(&q, 0x03, 5);
	put(&q, "\x00\x04\x24\x12", 4);
	set16(&q, d, (q.n - d) | 0x8000);
	put16(&q, 1);
	feed(&t, DIR_C2S, q.b, q.n);
	assert_true(t.malformed[0]);
}

static void bad(const uint8_t *b, size_t n)
{
	struct drda_state s = { 0 };
	for (size_t i = 1; i <= n; i++)
		feed(&s, DIR_C2S, b, i);
	assert_true(s.malformed[0]);
	assert_true(drda_done(&s));
}

static void malformed(void **st)
{
	(void)st;
	bad((const uint8_t *)"\x00\x0A\xD1\x41\x00\x01\x00\x04\x10\x41", 10);   /* magic */
	bad((const uint8_t *)"\x00\x05\xD0\x41\x00\x01", 6);                   /* length < 6 */
	bad((const uint8_t *)"\x80\x02\xD0\x41\x00\x01", 6);                   /* same, continued */
	bad((const uint8_t *)"\x00\x0A\xD0\x40\x00\x01\x00\x04\x10\x41", 10);   /* format 0 */
	bad((const uint8_t *)"\x00\x0A\xD0\x46\x00\x01\x00\x04\x10\x41", 10);   /* format 6 */
	bad((const uint8_t *)"\x00\x0A\xD0\x41\x00\x01\x00\x02\x10\x41", 10);   /* object LL 2 */
	bad((const uint8_t *)"\x00\x0A\xD0\x41\x00\x01\x00\x40\x10\x41", 10);   /* object past the DSS */
	bad((const uint8_t *)"\x00\x09\xD0\x41\x00\x01\x00\x04\x10", 9);        /* 3 bytes left over */
	/* parameter lengths that lie only stop the parameter walk */
	struct drda_state s = { 0 };
	struct buf c = { .n = 0 };
	size_t d = open_dss(&c, 0x41, 1), o = open_obj(&c, 0x1041);
	param_ebc(&c, 0x115E, "JT400");
	put(&c, "\x00\x02\x11\x47", 4);
	param_ebc(&c, 0x112E, "QSQ07050");
	close_obj(&c, o);
	close_dss(&c, d);
	feed(&s, DIR_C2S, c.b, c.n);
	assert_false(s.malformed[0]);
	assert_string_equal(s.extnam, "JT400");
	assert_string_equal(s.prdid, "");
	/* an extended-length object is not read */
	struct drda_state t = { 0 };
	feed(&t, DIR_C2S, (const uint8_t *)"\x00\x0E\xD0\x43\x00\x01\x80\x04\x10\x41\x00\x00\x00\x00", 14);
	assert_false(t.malformed[0]);
	assert_int_equal(t.dss[0], 1);
	assert_false(t.excsat);
}

/* EXCSAT's SRVNAM (0x116D) names the requester's machine; JT400 repeats its EXTNAM there: no name. */
static void server_name(void **st)
{
	(void)st;
	struct drda_state s = { 0 };
	struct buf c = { .n = 0 };
	excsat(&c);
	feed(&s, DIR_C2S, c.b, c.n);
	assert_string_equal(s.srvnam, "JT400");
	assert_null(protocol_drda.host(&s));
	struct drda_state t = { 0 };
	struct buf d = { .n = 0 };
	size_t k = open_dss(&d, 0x41, 1), o = open_obj(&d, 0x1041);
	param_ebc(&d, 0x115E, "DB2JCC");
	param_ebc(&d, 0x116D, "PC27");
	close_obj(&d, o);
	close_dss(&d, k);
	feed(&t, DIR_C2S, d.b, d.n);
	assert_string_equal(protocol_drda.host(&t), "PC27");
	assert_string_equal(protocol_drda.host_source, "drda-srvnam");
	/* the server's EXCSATRD is not the requester's */
	struct drda_state u = { 0 };
	struct buf e = { .n = 0 };
	excsatrd(&e);
	feed(&u, DIR_S2C, e.b, e.n);
	assert_null(protocol_drda.host(&u));
}

static void truncated_waits(void **st)
{
	(void)st;
	struct drda_state s = { 0 };
	struct buf c = { .n = 0 };
	excsat(&c);
	feed(&s, DIR_C2S, c.b, c.n - 1);
	assert_false(s.valid);
	assert_false(s.malformed[0]);
	assert_false(s.excsat);
	assert_false(drda_done(&s));
	feed(&s, DIR_C2S, c.b, c.n);
	assert_true(s.excsat);
}

static void done_after_many(void **st)
{
	(void)st;
	struct drda_state s = { 0 };
	static struct buf c;
	c.n = 0;
	for (int i = 0; i < 40; i++) {
		size_t d = open_dss(&c, 0x01, (uint16_t)i), o = open_obj(&c, 0x200A);
		close_obj(&c, o);
		close_dss(&c, d);
	}
	feed(&s, DIR_C2S, c.b, c.n);
	feed(&s, DIR_S2C, c.b, c.n);
	assert_int_equal(s.dss[0], 40);
	assert_true(drda_done(&s));
}

/* ---- Apache Derby's network client (10.14, the lab's doors2.pcapng), field by field ----
 * EXCSAT asks for UNICODEMGR (0x1C08) at level 1208 (0x04B8) in MGRLVLLS; the server agrees in
 * EXCSATRD; from then on character data is UTF-8: SECCHK's USRID "LABDB2" is 4C 41 42 44 42 32, not
 * EBCDIC, and its PASSWORD (12 bytes here, a marker) goes in clear under SECMEC 3 (USRIDPWD). */
static const uint8_t derby_excsat[] = {
	0x00, 0x67, 0xD0, 0x41, 0x00, 0x01,                   /* DSS 103, RQSDSS chained, corr 1 */
	0x00, 0x61, 0x10, 0x41,                               /* EXCSAT, 97 */
	0x00, 0x10, 0x11, 0x5E, 0x84, 0x85, 0x99, 0x82, 0xA8, 0x84, 0x95, 0x83, 0x94, 0x81, 0x89, 0x95,
	/* EXTNAM "derbydncmain" (EBCDIC) */
	0x00, 0x09, 0x11, 0x6D, 0xC4, 0x85, 0x99, 0x82, 0xA8, /* SRVNAM "Derby" */
	0x00, 0x1E, 0x11, 0x5A, 0xC4, 0xD5, 0xC3, 0xF1, 0xF0, 0xF1, 0xF4, 0xF0, 0x61, 0xF1, 0xF0, 0x4B,
	0xF1, 0xF4, 0x4B, 0xF2, 0x4B, 0xF0, 0x40, 0x60, 0x40, 0x4D, 0x6F, 0x6F, 0x6F, 0x5D,
	/* SRVRLSLV "DNC10140/10.14.2.0 - (???)" */
	0x00, 0x18, 0x14, 0x04,                               /* MGRLVLLS: */
	0x14, 0x03, 0x00, 0x07, 0x24, 0x07, 0x00, 0x07,       /*   AGENT 7, SQLAM 7 */
	0x24, 0x0F, 0x00, 0x07, 0x14, 0x40, 0x00, 0x07,       /*   RDB 7, SECMGR 7 */
	0x1C, 0x08, 0x04, 0xB8,                               /*   UNICODEMGR 1208 */
	0x00, 0x0E, 0x11, 0x47, 0xD8, 0xC4, 0xC5, 0xD9, 0xC2, 0xE8, 0x61, 0xD1, 0xE5, 0xD4,
	/* SRVCLSNM "QDERBY/JVM" */
};

static const uint8_t derby_excsatrd[] = {
	0x00, 0x2A, 0xD0, 0x42, 0x00, 0x01,                   /* DSS 42, RPYDSS chained, corr 1 */
	0x00, 0x24, 0x14, 0x43,                               /* EXCSATRD, 36 = 4 + 24 + 8 */
	0x00, 0x18, 0x14, 0x04,                               /* MGRLVLLS, the same five managers */
	0x14, 0x03, 0x00, 0x07, 0x24, 0x07, 0x00, 0x07, 0x24, 0x0F, 0x00, 0x07, 0x14, 0x40, 0x00, 0x07,
	0x1C, 0x08, 0x04, 0xB8,
	0x00, 0x08, 0x11, 0x47, 0xC1, 0x97, 0x81, 0x83,       /* SRVCLSNM "Apac" (cut short here) */
};

static const uint8_t derby_secchk[] = {
	0x00, 0x40, 0xD0, 0x41, 0x00, 0x01,                   /* DSS 64 */
	0x00, 0x3A, 0x10, 0x6E,                               /* SECCHK, 58 = 4 + 6 + 22 + 10 + 16 */
	0x00, 0x06, 0x11, 0xA2, 0x00, 0x03,                   /* SECMEC 3 */
	0x00, 0x16, 0x21, 0x10, 'l', 'a', 'b', 'd', 'b', ';', 'c', 'r', 'e', 'a', 't', 'e', '=', 't', 'r', 'u',
	'e', ' ',                                             /* RDBNAM, UTF-8 */
	0x00, 0x0A, 0x11, 0xA0, 'L', 'A', 'B', 'D', 'B', '2', /* USRID, UTF-8 */
	0x00, 0x10, 0x11, 0xA1, 'S', 'E', 'C', 'R', 'E', 'T', '-', 'P', 'w', '-', '0', '1',   /* PASSWORD */
};

static const uint8_t derby_secchkrm_refused[] = {
	0x00, 0x15, 0xD0, 0x02, 0x00, 0x01, 0x00, 0x0F, 0x12, 0x19,   /* SECCHKRM */
	0x00, 0x06, 0x11, 0x49, 0x00, 0x08,                            /* SVRCOD 8 (error) */
	0x00, 0x05, 0x11, 0xA4, 0x13,                                  /* SECCHKCD 0x13 */
};

static void derby_play(struct drda_state *s, const uint8_t *rd, size_t rdn, size_t chunk)
{
	memset(s, 0, sizeof *s);
	static uint8_t c2s[sizeof derby_excsat + sizeof derby_secchk];
	memcpy(c2s, derby_excsat, sizeof derby_excsat);
	memcpy(c2s + sizeof derby_excsat, derby_secchk, sizeof derby_secchk);
	for (size_t n = chunk ? chunk : sizeof derby_excsat; n < sizeof derby_excsat; n += chunk)
		feed(s, DIR_C2S, c2s, n);
	feed(s, DIR_C2S, c2s, sizeof derby_excsat);
	if (rd)
		feed(s, DIR_S2C, rd, rdn);
	for (size_t n = sizeof derby_excsat + (chunk ? chunk : sizeof derby_secchk); n < sizeof c2s; n += chunk)
		feed(s, DIR_C2S, c2s, n);
	feed(s, DIR_C2S, c2s, sizeof c2s);
}

static void derby_utf8(void **st)
{
	(void)st;
	struct drda_state s;
	assert_int_equal(sizeof derby_excsat, 0x67);
	assert_int_equal(sizeof derby_excsatrd, 0x2A);
	assert_int_equal(sizeof derby_secchk, 0x40);
	for (size_t chunk = 0; chunk < 12; chunk += 5) {
		derby_play(&s, derby_excsatrd, sizeof derby_excsatrd, chunk);
		assert_false(s.malformed[0] || s.malformed[1]);
		assert_int_equal(s.unicodemgr_asked, 1208);
		assert_true(s.excsatrd);
		assert_int_equal(s.unicodemgr, 1208);
		assert_string_equal(s.extnam, "derbydncmain");
		assert_string_equal(s.srvclsnm, "QDERBY/JVM");
		assert_string_equal(s.srvnam, "Derby");
		assert_null(protocol_drda.host(&s));         /* Derby's constant, not a machine */
		assert_int_equal(s.secmec, 0);               /* SECMEC 3 was SECCHK's own (no ACCSEC fed here) */
		assert_string_equal(s.user, "LABDB2");
		assert_string_equal(protocol_drda.user(&s), "LABDB2");
		assert_true(s.password_clear);
		assert_true(protocol_drda.clear_password(&s));
		assert_false(has_secret(&s, sizeof s));
	}
	/* the server's reply not read yet: what the client asked for decides */
	derby_play(&s, NULL, 0, 0);
	assert_false(s.excsatrd);
	assert_string_equal(s.user, "LABDB2");
	/* refused: SVRCOD 8, SECCHKCD 0x13 */
	feed(&s, DIR_S2C, derby_secchkrm_refused, sizeof derby_secchkrm_refused);
	assert_true(s.secchk_reply);
	assert_int_equal(s.secchk_svrcod, 8);
	assert_int_equal(s.secchkcd, 0x13);
	assert_true(drda_done(&s));
}

/* A server that does not agree to UNICODEMGR (level 0): the bytes are read as EBCDIC, and ASCII
 * "LABDB2" is not an EBCDIC name; a UTF-8 user with a non-ASCII byte is not kept either. */
static void derby_not_agreed(void **st)
{
	(void)st;
	struct drda_state s;
	uint8_t rd[sizeof derby_excsatrd];
	memcpy(rd, derby_excsatrd, sizeof rd);
	rd[32] = 0x00;                                   /* UNICODEMGR level 1208 -> 0 */
	rd[33] = 0x00;
	derby_play(&s, rd, sizeof rd, 0);
	assert_true(s.excsatrd);
	assert_int_equal(s.unicodemgr, 0);
	assert_string_not_equal(s.user, "LABDB2");
	assert_true(s.password_clear);
	/* UTF-8 agreed, a user ID "LAB\xC3\xA92" (not ASCII): not kept */
	uint8_t c[sizeof derby_secchk];
	memcpy(c, derby_secchk, sizeof c);
	c[45] = 0xC3;
	c[46] = 0xA9;
	struct drda_state t = { 0 };
	feed(&t, DIR_C2S, derby_excsat, sizeof derby_excsat);
	feed(&t, DIR_S2C, derby_excsatrd, sizeof derby_excsatrd);
	feed(&t, DIR_C2S, c, sizeof c);
	assert_false(t.malformed[0]);
	assert_string_equal(t.user, "");
	/* a PASSWORD under SECMEC 8 (password substitute) is not a password in clear */
	memcpy(c, derby_secchk, sizeof c);
	c[15] = 8;
	struct drda_state u = { 0 };
	feed(&u, DIR_C2S, derby_excsat, sizeof derby_excsat);
	feed(&u, DIR_C2S, c, sizeof c);     /* the client's stream: EXCSAT then SECCHK */
	assert_false(u.password_clear);
}

static void null_and_empty(void **st)
{
	(void)st;
	struct drda_state s = { 0 };
	drda_consume(&s, DIR_C2S, NULL, 0);
	drda_consume(&s, 2, (const uint8_t *)"x", 1);
	drda_consume(NULL, DIR_C2S, (const uint8_t *)"x", 1);
	assert_false(s.valid);
	assert_true(drda_done(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flow_whole),
		cmocka_unit_test(flow_byte_by_byte),
		cmocka_unit_test(prdid_ascii),
		cmocka_unit_test(probe),
		cmocka_unit_test(secmec9_user_not_kept),
		cmocka_unit_test(odd_user_ids),
		cmocka_unit_test(chained_in_one_call),
		cmocka_unit_test(continuation),
		cmocka_unit_test(malformed),
		cmocka_unit_test(server_name),
		cmocka_unit_test(truncated_waits),
		cmocka_unit_test(done_after_many),
		cmocka_unit_test(null_and_empty),
		cmocka_unit_test(derby_utf8),
		cmocka_unit_test(derby_not_agreed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
