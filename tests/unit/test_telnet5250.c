/*
 * test_telnet5250.c - the telnet / TN5250 dissector, from the byte layouts
 * of /work/shared/docs/ibmi-protocols.md section 4: option negotiation, the
 * server's SEND USERVAR IBMRSEED with 8 raw seed bytes, the client's
 * NEW-ENVIRON IS with RFC 1572 escaping, TERMINAL-TYPE, the startup
 * response record ending in IAC EOR; fed whole and byte by byte; plain
 * telnet; hostile subnegotiations; IBMRSEED / IBMSUBSPW values (a marker)
 * never reaching a fact.
 */
#include "testutil.h"

#include <stdlib.h>

#include "protocol.h"
#include "telnet5250.h"

struct buf {
	uint8_t b[8192];
	size_t n;
};

static void put(struct buf *p, const void *b, size_t n) { memcpy(p->b + p->n, b, n); p->n += n; }
static void puts_(struct buf *p, const char *s) { put(p, s, strlen(s)); }
static void put8(struct buf *p, uint8_t v) { p->b[p->n++] = v; }

/* The marker: raw DE AD BE EF and the text SECRET. */
static bool has_secret(const void *st, size_t n)
{
	static const char *const needles[] = { "\xDE\xAD\xBE\xEF", "SECRET", "secret", "\xE2\xC5\xC3\xD9\xC5\xE3" };
	const uint8_t *b = st;
	for (size_t k = 0; k < 4; k++) {
		size_t m = strlen(needles[k]);
		for (size_t i = 0; i + m <= n; i++)
			if (memcmp(b + i, needles[k], m) == 0)
				return true;
	}
	return false;
}

static void feed(struct tn_state *s, int dir, const uint8_t *b, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, b, n);
	tn_consume(s, dir, copy, n);
	free(copy);
}

/* ---- a 5250 display session ---- */

struct step {
	int dir;
	struct buf p;
};

static struct step sess[8];
static size_t nsess;

static struct buf *next(int dir)
{
	memset(&sess[nsess], 0, sizeof sess[nsess]);
	sess[nsess].dir = dir;
	return &sess[nsess++].p;
}

/* Startup response record: header, 5 bytes, EBCDIC code, system, device; IAC EOR. */
static void startup_record(struct buf *p, const uint8_t code[4], uint16_t flow)
{
	uint8_t r[64];
	size_t n = 0;
	r[n++] = 0; r[n++] = 0;                          /* length, fixed below */
	r[n++] = 0x12; r[n++] = 0xA0;
	r[n++] = flow >> 8; r[n++] = flow & 0xFF;
	r[n++] = 0x04; r[n++] = 0x00; r[n++] = 0x00; r[n++] = 0x00;
	r[n++] = 0x00; r[n++] = 0x00; r[n++] = 0xFF; r[n++] = 0x00; r[n++] = 0x00;   /* an FF: doubled */
	memcpy(r + n, code, 4); n += 4;
	memcpy(r + n, "\xE2\xE8\xE2\xC1\x40\x40\x40\x40", 8); n += 8;          /* SYSA */
	memcpy(r + n, "\xD8\xD7\xC1\xC4\xC5\xE5\xF0\xF0\xF0\xF1", 10); n += 10; /* QPADEV0001 */
	r[0] = (uint8_t)(n >> 8);
	r[1] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		put8(p, r[i]);
		if (r[i] == 0xFF)
			put8(p, 0xFF);
	}
	put(p, "\xFF\xEF", 2);
}

static const uint8_t I902[4] = { 0xC9, 0xF9, 0xF0, 0xF2 };

static void build_session(const char *ttype)
{
	struct buf *p;
	nsess = 0;
	p = next(DIR_S2C);
	put(p, "\xFF\xFD\x27\xFF\xFD\x18", 6);
	p = next(DIR_C2S);
	put(p, "\xFF\xFB\x27\xFF\xFB\x18", 6);
	p = next(DIR_S2C);
	/* SEND USERVAR IBMRSEED <8 raw bytes: the marker> VAR USERVAR */
	put(p, "\xFF\xFA\x27\x01\x03IBMRSEED", 13);
	put(p, "\xDE\xAD\xBE\xEF\xDE\xAD\xBE\xEF", 8);
	put(p, "\x00\x03\xFF\xF0", 4);
	put(p, "\xFF\xFA\x18\x01\xFF\xF0", 6);
	p = next(DIR_C2S);
	put(p, "\xFF\xFA\x27\x00", 4);
	put(p, "\x03" "DEVNAME" "\x01" "QPADEV0001", 19);
	put(p, "\x03" "IBMRSEED" "\x01", 10);
	put(p, "\x02\x00\xDE\xAD\xBE\xEF\x02\x01\x02\x02\x02\x03", 12);   /* 8 bytes, escaped */
	put(p, "\x00" "USER" "\x01" "qsecofr", 13);
	put(p, "\x03" "IBMSUBSPW" "\x01", 11);
	put(p, "SECRET\xDE\xAD\xBE\xEF\xFF\xFF", 12);                  /* 11 bytes; FF doubled */
	put(p, "\x03" "KBDTYPE" "\x01" "USB", 12);
	put(p, "\x03" "CODEPAGE" "\x01" "37", 12);
	put(p, "\x03" "CHARSET" "\x01" "697", 12);
	put(p, "\x03" "IBMCURLIB" "\x01" "MYLIB", 16);
	put(p, "\x03" "IBMIMENU" "\x01" "MAIN", 14);
	put(p, "\x03" "IBMPROGRAM" "\x01" "MYPGM", 17);
	put(p, "\x03" "IBMSENDCONFREC" "\x01" "YES", 19);
	put(p, "\xFF\xF0", 2);
	put(p, "\xFF\xFA\x18\x00", 4);
	puts_(p, ttype);
	put(p, "\xFF\xF0", 2);
	p = next(DIR_S2C);
	put(p, "\xFF\xFD\x19\xFF\xFB\x19\xFF\xFD\x00\xFF\xFB\x00", 12);
	p = next(DIR_C2S);
	put(p, "\xFF\xFB\x19\xFF\xFD\x19\xFF\xFB\x00\xFF\xFD\x00", 12);
	p = next(DIR_S2C);
	startup_record(p, I902, 0x9000);
}

static void play(struct tn_state *s, size_t chunk)
{
	static uint8_t acc[2][65536];
	size_t n[2] = { 0, 0 };
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < nsess; i++) {
		int d = sess[i].dir;
		for (size_t done = 0; done < sess[i].p.n;) {
			size_t k = chunk && sess[i].p.n - done > chunk ? chunk : sess[i].p.n - done;
			memcpy(acc[d] + n[d], sess[i].p.b + done, k);
			n[d] += k;
			done += k;
			feed(s, d, acc[d], n[d]);
		}
	}
}

static void check_display(const struct tn_state *s)
{
	assert_true(s->telnet);
	assert_false(s->malformed);
	assert_int_equal(s->kind, TN_KIND_5250_DISPLAY);
	assert_string_equal(tn_kind_name(s->kind), "5250-display");
	assert_string_equal(s->terminal_type, "IBM-3179-2");
	char sw[48];
	assert_string_equal(protocol_telnet5250.software(s, sw, sizeof sw), "telnet terminal type IBM-3179-2");
	assert_true(s->new_environ);
	assert_true(s->ibmrseed_offer);
	assert_string_equal(s->devname, "QPADEV0001");
	assert_string_equal(s->user, "QSECOFR");
	assert_string_equal(s->kbdtype, "USB");
	assert_string_equal(s->codepage, "37");
	assert_string_equal(s->charset, "697");
	assert_string_equal(s->curlib, "MYLIB");
	assert_string_equal(s->imenu, "MAIN");
	assert_string_equal(s->program, "MYPGM");
	assert_true(s->autosignon);
	assert_int_equal(s->subspw_len, 11);
	assert_string_equal(s->startup_code, "I902");
	/* server: DO 27 18 19 00, WILL 19 00; client: WILL 27 18 19 00, DO 19 00 */
	assert_int_equal(s->do_[DIR_S2C], (1u << 0x19) | (1u << 0x18) | 1u);
	assert_int_equal(s->will[DIR_S2C], (1u << 0x19) | 1u);
	assert_int_equal(s->will[DIR_C2S], (1u << 0x19) | (1u << 0x18) | 1u);
	assert_int_equal(s->do_[DIR_C2S], (1u << 0x19) | 1u);
	assert_int_equal(s->records[DIR_S2C], 1);
	assert_true(tn_done(s));
	assert_false(has_secret(s, sizeof *s));
}

static void display_whole(void **st)
{
	(void)st;
	struct tn_state s;
	build_session("IBM-3179-2");
	play(&s, 0);
	check_display(&s);
}

static void display_byte_by_byte(void **st)
{
	(void)st;
	struct tn_state s;
	build_session("IBM-3179-2");
	play(&s, 1);
	check_display(&s);
	play(&s, 5);
	check_display(&s);
}

static void terminal_kinds(void **st)
{
	(void)st;
	static const struct { const char *t; enum tn_kind k; } cases[] = {
		{ "IBM-3477-FC", TN_KIND_5250_DISPLAY }, { "IBM-3477-FG", TN_KIND_5250_DISPLAY },
		{ "IBM-3180-2", TN_KIND_5250_DISPLAY }, { "IBM-3196-A1", TN_KIND_5250_DISPLAY },
		{ "IBM-5291-1", TN_KIND_5250_DISPLAY }, { "IBM-5251-11", TN_KIND_5250_DISPLAY },
		{ "IBM-5292-2", TN_KIND_5250_DISPLAY }, { "IBM-5555-C01", TN_KIND_5250_DISPLAY },
		{ "IBM-5555-B01", TN_KIND_5250_DISPLAY }, { "ibm-3179-2", TN_KIND_5250_DISPLAY },
		{ "IBM-3812-1", TN_KIND_5250_PRINTER },
		{ "XTERM", TN_KIND_TELNET }, { "IBM-3278-2", TN_KIND_TELNET },
		{ "", TN_KIND_5250_DISPLAY },    /* no type given: the 12A0 record decides */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tn_state s;
		build_session(cases[i].t);
		play(&s, 0);
		assert_int_equal(s.kind, cases[i].k);
		assert_string_equal(s.terminal_type, cases[i].t);
	}
	assert_string_equal(tn_kind_name(TN_KIND_5250_PRINTER), "5250-printer");
	assert_string_equal(tn_kind_name(TN_KIND_TELNET), "telnet");
	assert_null(tn_kind_name(TN_KIND_UNKNOWN));
}

/* A Linux telnet login: telnet, not 5250, still telnet. */
static void plain_telnet(void **st)
{
	(void)st;
	struct tn_state s = { 0 };
	static const uint8_t srv[] = "\xFF\xFD\x18\xFF\xFD\x20\xFF\xFD\x23\xFF\xFD\x27\xFF\xFA\x18\x01\xFF\xF0"
	                             "\r\nUbuntu 22.04\r\nlogin: ";
	static const uint8_t cli[] = "\xFF\xFB\x18\xFF\xFB\x20\xFF\xFA\x18\x00xterm-256color\xFF\xF0"
	                             "\xFF\xFA\x27\x00\x00USER\x01root\xFF\xF0root\r\n";
	feed(&s, DIR_S2C, srv, sizeof srv - 1);
	for (size_t i = 1; i < sizeof cli; i++)
		feed(&s, DIR_C2S, cli, i);
	assert_true(s.telnet);
	assert_int_equal(s.kind, TN_KIND_TELNET);
	assert_string_equal(s.terminal_type, "xterm-256color");
	assert_string_equal(s.user, "ROOT");
	assert_false(s.autosignon);
	assert_int_equal(s.do_[DIR_S2C], 1u << 0x18);     /* 0x20 and above not recorded */
	assert_int_equal(s.will[DIR_C2S], 1u << 0x18);
	assert_false(s.malformed);
	assert_false(tn_done(&s));
}

/* ESC before 00-03, IAC doubled, non-printable shown as '?', length capped. */
static void environ_escaping(void **st)
{
	(void)st;
	struct tn_state s = { 0 };
	struct buf p = { .n = 0 };
	put(&p, "\xFF\xFA\x27\x02", 4);                                  /* INFO */
	put(&p, "\x01" "orphan", 7);                                     /* value with no name */
	put(&p, "\x03" "DEV" "\x02\x01" "NAME" "\x01" "AB\x02\x03" "C", 15);  /* name with ESC 01: not DEVNAME */
	put(&p, "\x03" "DEVNAME" "\x01" "D\x02\x00X\xFF\xFFY" "ZZZZZZZZZZZZ", 28);
	put(&p, "\x00" "USER", 5);                                       /* no value */
	put(&p, "\x03" "KBDTYPE" "\x01" "\x02", 10);                     /* ESC at the end */
	put(&p, "\xFF\xF0", 2);
	for (size_t i = 1; i <= p.n; i++)
		feed(&s, DIR_C2S, p.b, i);
	assert_true(s.new_environ);
	assert_false(s.malformed);
	assert_string_equal(s.devname, "D?X?YZZZZZ");                    /* 10 characters kept */
	assert_string_equal(s.user, "");
	assert_string_equal(s.kbdtype, "");
	/* SEND from the client and IS from the server are not taken */
	struct tn_state t = { 0 };
	static const uint8_t is_srv[] = "\xFF\xFA\x27\x00\x03" "DEVNAME" "\x01" "X\xFF\xF0";
	feed(&t, DIR_S2C, is_srv, sizeof is_srv - 1);
	assert_string_equal(t.devname, "");
}

/* IBMRSEED and IBMSUBSPW: flags and a length, never a value. */
static void autosignon_needs_both(void **st)
{
	(void)st;
	struct tn_state s = { 0 };
	static const uint8_t only_pw[] = "\xFF\xFA\x27\x00\x03IBMSUBSPW\x01SECRETPW\xFF\xF0";
	feed(&s, DIR_C2S, only_pw, sizeof only_pw - 1);
	assert_false(s.autosignon);
	assert_int_equal(s.subspw_len, 8);
	static const uint8_t both[] = "\xFF\xFA\x27\x00\x03IBMSUBSPW\x01SECRETPW\xFF\xF0"
	                              "\xFF\xFA\x27\x00\x03IBMRSEED\x01\x02\x00\x02\x00\x02\x00\x02\x00"
	                              "\x02\x00\x02\x00\x02\x00\x02\x00\xFF\xF0";
	feed(&s, DIR_C2S, both, sizeof both - 1);
	assert_true(s.autosignon);
	assert_false(has_secret(&s, sizeof s));
	/* a 300-byte IBMSUBSPW is counted in full */
	struct tn_state t = { 0 };
	struct buf p = { .n = 0 };
	put(&p, "\xFF\xFA\x27\x00\x03IBMSUBSPW\x01", 15);
	for (int i = 0; i < 300; i++)
		put8(&p, 'S');
	put(&p, "\xFF\xF0", 2);
	feed(&t, DIR_C2S, p.b, p.n);
	assert_int_equal(t.subspw_len, 300);
}

static void subneg_too_long(void **st)
{
	(void)st;
	struct tn_state s = { 0 };
	static uint8_t b[5000];
	memset(b, 'A', sizeof b);
	memcpy(b, "\xFF\xFA\x27\x00", 4);
	for (size_t i = 1; i <= sizeof b; i += 97)
		feed(&s, DIR_C2S, b, i);
	feed(&s, DIR_C2S, b, sizeof b);
	assert_true(s.malformed);
	assert_true(tn_done(&s));
	assert_false(tn_done(&(struct tn_state){ 0 }));
}

/* An SB cut short waits for its end; IAC IAC FF F0 inside is not an end. */
static void subneg_waits(void **st)
{
	(void)st;
	struct tn_state s = { 0 };
	static const uint8_t b[] = "\xFF\xFA\x18\x00IBM-\xFF\xFF\xF0" "5251-11\xFF\xF0";
	feed(&s, DIR_C2S, b, 9);
	assert_string_equal(s.terminal_type, "");
	assert_int_equal(s.off[DIR_C2S], 0);
	feed(&s, DIR_C2S, b, sizeof b - 1);
	assert_string_equal(s.terminal_type, "IBM-??5251-11");
	assert_int_equal(s.kind, TN_KIND_TELNET);
}

/* Records without any negotiation seen (capture started late). */
static void records_alone(void **st)
{
	(void)st;
	struct tn_state s = { 0 };
	struct buf p = { .n = 0 };
	startup_record(&p, (const uint8_t *)"\xF8\xF9\xF0\xF2", 0x9000);   /* 8902 */
	feed(&s, DIR_S2C, p.b, p.n);
	assert_int_equal(s.kind, TN_KIND_5250_DISPLAY);
	assert_string_equal(s.startup_code, "8902");
	struct tn_state t = { 0 };
	struct buf q = { .n = 0 };
	startup_record(&q, I902, 0x1100);
	feed(&t, DIR_S2C, q.b, q.n);
	assert_int_equal(t.kind, TN_KIND_5250_PRINTER);
	assert_string_equal(t.startup_code, "");
	/* from the client, a startup record is not believed */
	struct tn_state u = { 0 };
	feed(&u, DIR_C2S, p.b, p.n);
	assert_string_equal(u.startup_code, "");
	/* a short record, a record that is not 12A0, a bad code: nothing */
	struct tn_state v = { 0 };
	feed(&v, DIR_S2C, (const uint8_t *)"\x00\x05\x12\xFF\xEF\x00\x0A\x00\x00\xFF\xEF", 11);
	assert_int_equal(v.kind, TN_KIND_UNKNOWN);
	assert_int_equal(v.records[DIR_S2C], 2);
	struct tn_state w = { 0 };
	struct buf r = { .n = 0 };
	startup_record(&r, (const uint8_t *)"\x00\x00\x00\x00", 0x9000);
	feed(&w, DIR_S2C, r.b, r.n);
	assert_string_equal(w.startup_code, "");
	/* a startup record with a variable header too long for the code */
	struct tn_state x = { 0 };
	static const uint8_t big_var[] = "\x00\x20\x12\xA0\x90\x00\xF0\x00\x00\x00\xC9\xF9\xF0\xF2\xFF\xEF";
	feed(&x, DIR_S2C, big_var, sizeof big_var - 1);
	assert_string_equal(x.startup_code, "");
}

static void odd_commands(void **st)
{
	(void)st;
	struct tn_state s = { 0 };
	/* NOP, GA, stray SE, IAC x, options 31 and 46, IAC at the very end */
	static const uint8_t b[] = "\xFF\xF1\xFF\xF9\xFF\xF0\xFF\x41\xFF\xFB\x1F\xFF\xFD\x2E\xFF";
	for (size_t i = 1; i < sizeof b; i++)
		feed(&s, DIR_S2C, b, i);
	assert_false(s.malformed);
	assert_int_equal(s.will[DIR_S2C], 1u << 31);
	assert_int_equal(s.do_[DIR_S2C], 0);
	assert_int_equal(s.off[DIR_S2C], sizeof b - 2);   /* the last IAC waits */
	/* an empty subnegotiation and one of one byte */
	static const uint8_t e[] = "\xFF\xFA\xFF\xF0\xFF\xFA\x18\xFF\xF0";
	feed(&s, DIR_C2S, e, sizeof e - 1);
	assert_false(s.malformed);
	assert_int_equal(s.off[DIR_C2S], sizeof e - 1);
}

static void probe(void **st)
{
	(void)st;
	assert_int_equal(tn_probe((const uint8_t *)"\xFF\xFD\x27", 3, DIR_S2C), PROBE_YES);
	assert_int_equal(tn_probe((const uint8_t *)"\xFF\xFB\x18", 3, DIR_C2S), PROBE_YES);
	assert_int_equal(tn_probe((const uint8_t *)"\xFF\xFE", 2, DIR_C2S), PROBE_YES);
	assert_int_equal(tn_probe((const uint8_t *)"\xFF", 1, DIR_S2C), PROBE_MAYBE);
	assert_int_equal(tn_probe(NULL, 0, DIR_S2C), PROBE_MAYBE);
	assert_int_equal(tn_probe((const uint8_t *)"\xFF\xFA", 2, DIR_S2C), PROBE_NO);
	assert_int_equal(tn_probe((const uint8_t *)"login:", 6, DIR_S2C), PROBE_NO);
	assert_int_equal(tn_probe((const uint8_t *)"\x16\x03\x01", 3, DIR_C2S), PROBE_NO);
}

static void null_and_empty(void **st)
{
	(void)st;
	struct tn_state s = { 0 };
	tn_consume(&s, DIR_C2S, NULL, 0);
	tn_consume(&s, 3, (const uint8_t *)"\xFF\xFB\x18", 3);
	tn_consume(NULL, DIR_C2S, (const uint8_t *)"\xFF\xFB\x18", 3);
	assert_false(s.telnet);
	assert_true(tn_done(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(display_whole),
		cmocka_unit_test(display_byte_by_byte),
		cmocka_unit_test(terminal_kinds),
		cmocka_unit_test(plain_telnet),
		cmocka_unit_test(environ_escaping),
		cmocka_unit_test(autosignon_needs_both),
		cmocka_unit_test(subneg_too_long),
		cmocka_unit_test(subneg_waits),
		cmocka_unit_test(records_alone),
		cmocka_unit_test(odd_commands),
		cmocka_unit_test(probe),
		cmocka_unit_test(null_and_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
