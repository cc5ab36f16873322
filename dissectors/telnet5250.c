/*
 * telnet5250.c - telnet and TN5250 (port 23; 992 is the same inside TLS).
 *
 * What it is for: a 5250 session on port 23 sends the terminal type, the
 * device name, the auto-signon user and (possibly) an IBMSUBSPW password or
 * substitute, and then every screen, in clear.  This dissector tells a 5250
 * display or printer session from plain telnet and keeps those names.
 *
 * How data enters: tn_consume() gets every in-order byte of one direction
 * so far (dissector.h); off[dir] is the first byte not yet taken.  The parser
 * takes one complete unit at a time - a data byte, IAC IAC, IAC <verb> <opt>,
 * IAC SB ... IAC SE, IAC EOR, another IAC command - and stops before a unit
 * that is not complete, to take it whole when more bytes arrive.  A
 * subnegotiation longer than TN_SB_MAX without IAC SE is malformed.  Data
 * bytes are 5250 records ended by IAC EOR; the first TN_REC_HDR bytes of the
 * record in progress are kept (rec_hdr) to read its header when EOR comes.
 *
 * How data leaves: struct tn_state (telnet5250.h).  IBMRSEED and IBMSUBSPW
 * values are never stored: only that they were sent and IBMSUBSPW's length.
 *
 * Sources: /work/shared/docs/ibmi-protocols.md section 4 - codes and options
 * (VERIFIED, tn5250 telnetstr.c, tn5250j), the IBMRSEED SEND layout with 8 raw
 * seed bytes (VERIFIED; whether they are escaped is UNCERTAIN, so only the
 * name is matched), NEW-ENVIRON escaping (RFC 1572), terminal types, the
 * 5250 record header and the startup response code at 6+hdr[6]+5 (VERIFIED,
 * tn5250 printsession.c).
 */
#include "telnet5250.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cursor.h"
#include "protocol.h"

#define TN_SB_MAX 2048                  /* longest subnegotiation accepted */
#define TN_MAX_BYTES (1u << 20)         /* stop parsing a direction after this */
#define TN_DONE_BYTES 65536             /* nothing more expected after this */
#define TN_DONE_RECORDS 3               /* server records without a startup code */
#define TN_VALUE_MAX 64                 /* NEW-ENVIRON value bytes looked at */

enum {
	IAC = 0xFF, DONT = 0xFE, DO = 0xFD, WONT = 0xFC, WILL = 0xFB,
	SB = 0xFA, SE = 0xF0, EOR_CMD = 0xEF,
};
enum { OPT_TTYPE = 0x18, OPT_NEW_ENVIRON = 0x27 };
enum { VERB_IS = 0, VERB_SEND = 1, VERB_INFO = 2 };
enum { ENV_VAR = 0, ENV_VALUE = 1, ENV_ESC = 2, ENV_USERVAR = 3 };

static const struct tok tn_kinds[] = {
	{ TN_KIND_TELNET, "telnet" },
	{ TN_KIND_5250_DISPLAY, "5250-display" },
	{ TN_KIND_5250_PRINTER, "5250-printer" },
	{ 0, NULL }
};

/* Terminal types that mean 5250 (compared without case). */
static const struct { const char *type; enum tn_kind kind; } tn_types[] = {
	{ "IBM-3179-2", TN_KIND_5250_DISPLAY },
	{ "IBM-3477-FC", TN_KIND_5250_DISPLAY },
	{ "IBM-3477-FG", TN_KIND_5250_DISPLAY },
	{ "IBM-3180-2", TN_KIND_5250_DISPLAY },
	{ "IBM-3196-A1", TN_KIND_5250_DISPLAY },
	{ "IBM-5291-1", TN_KIND_5250_DISPLAY },
	{ "IBM-5251-11", TN_KIND_5250_DISPLAY },
	{ "IBM-5292-2", TN_KIND_5250_DISPLAY },
	{ "IBM-5555-C01", TN_KIND_5250_DISPLAY },
	{ "IBM-5555-B01", TN_KIND_5250_DISPLAY },
	{ "IBM-3812-1", TN_KIND_5250_PRINTER },
	{ "IBM-5553-B01", TN_KIND_5250_PRINTER },  /* DBCS printer */
};

/* NEW-ENVIRON variables kept, by name (VAR or USERVAR alike). */
#define TN_FIELD(f) offsetof(struct tn_state, f), sizeof(((struct tn_state *)0)->f)
static const struct { const char *name; size_t off; size_t size; bool upper; } tn_vars[] = {
	{ "USER", TN_FIELD(user), true },
	{ "DEVNAME", TN_FIELD(devname), false },
	{ "KBDTYPE", TN_FIELD(kbdtype), false },
	{ "CODEPAGE", TN_FIELD(codepage), false },
	{ "CHARSET", TN_FIELD(charset), false },
	{ "IBMCURLIB", TN_FIELD(curlib), false },
	{ "IBMIMENU", TN_FIELD(imenu), false },
	{ "IBMPROGRAM", TN_FIELD(program), false },
};

/* ---- small helpers ---- */

static char tn_printable(uint8_t b, bool upper)
{
	if (b < 0x20 || b > 0x7E)
		return '?';
	if (upper && b >= 'a' && b <= 'z')
		return (char)(b - 'a' + 'A');
	return (char)b;
}

/* Copy n bytes as printable ASCII into dst (size bytes), NUL-terminated. */
static void tn_set_text(char *dst, size_t size, const uint8_t *src, size_t n, bool upper)
{
	size_t i;
	for (i = 0; i < n && i + 1 < size; i++)
		dst[i] = tn_printable(src[i], upper);
	dst[i] = '\0';
}

/* Take an IAC-doubled byte range into out (at most cap bytes): IAC IAC -> FF. */
static size_t tn_undouble(struct cursor c, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (cur_left(&c) > 0 && n < cap) {
		uint8_t b = cur_u8(&c);
		if (b == IAC && cur_left(&c) > 0 && cur_u8(&c) != IAC)
			continue;               /* a stray command inside: dropped */
		out[n++] = b;
	}
	return n;
}

/* ---- NEW-ENVIRON ---- */

struct tn_env_item {
	uint8_t type;                       /* ENV_VAR or ENV_USERVAR */
	char name[16];
	size_t value_len;                   /* every value byte, counted */
	uint8_t value[TN_VALUE_MAX];        /* the first TN_VALUE_MAX of them */
};

static bool tn_env_type(uint8_t b)
{
	return b == ENV_VAR || b == ENV_USERVAR;
}

/* Read unescaped bytes up to the next VAR/VALUE/USERVAR. */
static size_t tn_env_run(struct cursor *c, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (cur_left(c) > 0) {
		uint8_t b = cur_peek_u8(c, 0);
		if (b == ENV_VAR || b == ENV_VALUE || b == ENV_USERVAR)
			break;
		cur_skip(c, 1);
		if (b == ENV_ESC) {
			if (cur_left(c) == 0)
				break;
			b = cur_u8(c);
		}
		if (n < cap && out)
			out[n] = b;
		n++;
	}
	return n;
}

/* The next VAR/USERVAR name [VALUE value]; false at the end. */
static bool tn_env_next(struct cursor *c, struct tn_env_item *it)
{
	while (cur_left(c) > 0 && !tn_env_type(cur_peek_u8(c, 0)))
		cur_skip(c, 1);              /* a VALUE with no name: skipped */
	if (cur_left(c) == 0)
		return false;
	uint8_t raw[sizeof it->name];
	it->type = cur_u8(c);
	size_t n = tn_env_run(c, raw, sizeof raw);
	if (n >= sizeof it->name)
		n = 0;                          /* too long for any name kept */
	tn_set_text(it->name, sizeof it->name, raw, n, false);
	it->value_len = 0;
	if (cur_left(c) > 0 && cur_peek_u8(c, 0) == ENV_VALUE) {
		cur_skip(c, 1);
		it->value_len = tn_env_run(c, it->value, sizeof it->value);
	}
	return true;
}

static void tn_env_client_item(struct tn_state *s, const struct tn_env_item *it)
{
	size_t shown = it->value_len < TN_VALUE_MAX ? it->value_len : TN_VALUE_MAX;
	if (strcmp(it->name, "IBMRSEED") == 0) {
		s->rseed_sent = true;           /* the client seed: never kept */
	} else if (strcmp(it->name, "IBMSUBSPW") == 0) {
		s->subspw_sent = true;          /* password or substitute: length only */
		s->subspw_len = it->value_len > UINT16_MAX ? UINT16_MAX : (uint16_t)it->value_len;
	} else if (shown > 0) {
		for (size_t i = 0; i < sizeof tn_vars / sizeof tn_vars[0]; i++)
			if (strcmp(it->name, tn_vars[i].name) == 0)
				tn_set_text((char *)s + tn_vars[i].off, tn_vars[i].size, it->value, shown,
				            tn_vars[i].upper);
	}
	s->autosignon = s->rseed_sent && s->subspw_sent;
}

static void tn_env_client(struct tn_state *s, struct cursor c)
{
	struct tn_env_item it;
	while (tn_env_next(&c, &it))
		tn_env_client_item(s, &it);
}

/* Server SEND: USERVAR "IBMRSEED" then 8 raw seed bytes (not parsed). */
static void tn_env_send(struct tn_state *s, struct cursor c)
{
	static const uint8_t name[8] = { 'I', 'B', 'M', 'R', 'S', 'E', 'E', 'D' };
	while (cur_left(&c) > 0) {
		uint8_t t = cur_u8(&c);
		if (t != ENV_USERVAR || cur_left(&c) < sizeof name)
			continue;
		bool match = true;
		for (size_t i = 0; i < sizeof name; i++)
			match &= cur_peek_u8(&c, i) == name[i];
		if (match) {
			s->ibmrseed_offer = true;
			return;
		}
	}
}

/* ---- subnegotiation, records, negotiation ---- */

static void tn_set_terminal(struct tn_state *s, const uint8_t *t, size_t n)
{
	tn_set_text(s->terminal_type, sizeof s->terminal_type, t, n, false);
	s->kind = TN_KIND_TELNET;
	for (size_t i = 0; i < sizeof tn_types / sizeof tn_types[0]; i++)
		if (strcasecmp(s->terminal_type, tn_types[i].type) == 0)
			s->kind = tn_types[i].kind;
}

/* The body between IAC SB and IAC SE, IAC-doubled. */
static void tn_subneg(struct tn_state *s, int dir, struct cursor raw)
{
	uint8_t body[TN_SB_MAX];
	size_t n = tn_undouble(raw, body, sizeof body);
	struct cursor c = cur_make(body, n);
	uint8_t opt = cur_u8(&c), verb = cur_u8(&c);
	if (c.err)
		return;
	if (opt == OPT_TTYPE && verb == VERB_IS && dir == DIR_C2S) {
		struct cursor rest = cur_rest(&c);
		tn_set_terminal(s, cur_view(&rest, cur_left(&rest)), cur_left(&rest));
	} else if (opt == OPT_NEW_ENVIRON) {
		s->new_environ = true;
		if (dir == DIR_C2S && (verb == VERB_IS || verb == VERB_INFO))
			tn_env_client(s, cur_rest(&c));
		else if (dir == DIR_S2C && verb == VERB_SEND)
			tn_env_send(s, cur_rest(&c));
	}
}

/* IAC EOR: the record whose first bytes are in rec_hdr[dir] is complete. */
static void tn_record(struct tn_state *s, int dir)
{
	size_t n = s->rec_n[dir] < TN_REC_HDR ? s->rec_n[dir] : TN_REC_HDR;
	struct cursor c = cur_make(s->rec_hdr[dir], n);
	s->rec_n[dir] = 0;
	s->records[dir]++;
	uint16_t gds = cur_peek_be16(&c, 2), flow = cur_peek_be16(&c, 4);
	uint8_t varlen = cur_peek_u8(&c, 6);
	if (c.err || gds != 0x12A0)
		return;
	if (!s->terminal_type[0] && s->kind != TN_KIND_5250_DISPLAY && s->kind != TN_KIND_5250_PRINTER)
		s->kind = (flow >> 8 == 0x11 || flow >> 8 == 0x12) ? TN_KIND_5250_PRINTER : TN_KIND_5250_DISPLAY;
	if (flow != 0x9000 || dir != DIR_S2C || s->startup_code[0])
		return;
	uint8_t code[4];
	char text[5];
	if (!cur_skip(&c, 6 + (size_t)varlen + 5) || !cur_copy(&c, code, sizeof code))
		return;
	if (!ebcdic_to_ascii(text, sizeof text, code, sizeof code) || text[3] == '\0')
		return;
	for (size_t i = 0; i < 4; i++)
		if (!((text[i] >= 'A' && text[i] <= 'Z') || (text[i] >= '0' && text[i] <= '9')))
			return;
	memcpy(s->startup_code, text, sizeof s->startup_code);
}

static void tn_data(struct tn_state *s, int dir, uint8_t b)
{
	if (s->rec_n[dir] < TN_REC_HDR)
		s->rec_hdr[dir][s->rec_n[dir]] = b;
	if (s->rec_n[dir] < UINT16_MAX)
		s->rec_n[dir]++;
}

/* A run of data bytes (no IAC) at the cursor, as tn_data() byte by byte
 * would take it but with one memchr and one copy: its length (at least 1). */
static size_t tn_data_run(struct tn_state *s, int dir, struct cursor *c)
{
	struct cursor v = *c;
	size_t left = cur_left(c);
	const uint8_t *p = cur_view(&v, left);
	if (!p)
		return 0;
	const uint8_t *iac = memchr(p, IAC, left);
	size_t n = iac ? (size_t)(iac - p) : left;
	size_t have = s->rec_n[dir];
	if (have < TN_REC_HDR)
		memcpy(s->rec_hdr[dir] + have, p, n < TN_REC_HDR - have ? n : TN_REC_HDR - have);
	s->rec_n[dir] = (uint16_t)(have + n < UINT16_MAX ? have + n : UINT16_MAX);
	return n;
}

static void tn_mark_telnet(struct tn_state *s)
{
	s->telnet = true;
	if (s->kind == TN_KIND_UNKNOWN)
		s->kind = TN_KIND_TELNET;
}

static void tn_option(struct tn_state *s, int dir, uint8_t verb, uint8_t opt)
{
	tn_mark_telnet(s);
	if (opt >= 32)
		return;
	if (verb == WILL)
		s->will[dir] |= 1u << opt;
	else if (verb == DO)
		s->do_[dir] |= 1u << opt;
}

/*
 * IAC SB at the cursor: the length of the whole unit up to and including
 * IAC SE, 0 when it is not complete yet, or (size_t)-1 when too long.
 */
static size_t tn_sb_length(struct cursor *c)
{
	size_t left = cur_left(c);
	for (size_t i = 2; i + 1 < left && i < TN_SB_MAX + 2; i++) {
		if (cur_peek_u8(c, i) != IAC)
			continue;
		if (cur_peek_u8(c, i + 1) == SE)
			return i + 2;
		i++;                            /* IAC IAC or a stray command */
	}
	return left >= TN_SB_MAX + 2 ? (size_t)-1 : 0;
}

/* One unit at the cursor; its length, 0 if incomplete, (size_t)-1 if bad. */
static size_t tn_unit(struct tn_state *s, int dir, struct cursor *c)
{
	uint8_t b = cur_peek_u8(c, 0);
	if (b != IAC)
		return tn_data_run(s, dir, c);
	if (cur_left(c) < 2)
		return 0;
	uint8_t cmd = cur_peek_u8(c, 1);
	if (cmd == IAC) {
		tn_data(s, dir, IAC);
		return 2;
	}
	if (cmd >= WILL && cmd <= DONT) {
		if (cur_left(c) < 3)
			return 0;
		tn_option(s, dir, cmd, cur_peek_u8(c, 2));
		return 3;
	}
	if (cmd == SB) {
		size_t n = tn_sb_length(c);
		if (n == 0 || n == (size_t)-1)
			return n;
		struct cursor u = cur_rest(c);
		cur_skip(&u, 2);
		tn_mark_telnet(s);
		tn_subneg(s, dir, cur_sub(&u, n - 4));
		return n;
	}
	if (cmd == EOR_CMD)
		tn_record(s, dir);
	return 2;                               /* NOP, GA, stray SE ...: ignored */
}

void tn_consume(struct tn_state *s, int dir, const uint8_t *buf, size_t len)
{
	if (!s || !buf || (dir != DIR_C2S && dir != DIR_S2C) || s->malformed)
		return;
	if (len > TN_MAX_BYTES)
		len = TN_MAX_BYTES;
	struct cursor c = cur_make(buf, len);
	if (!cur_skip(&c, s->off[dir]))
		return;
	while (cur_left(&c) > 0) {
		size_t n = tn_unit(s, dir, &c);
		if (n == (size_t)-1) {
			s->malformed = true;
			break;
		}
		if (n == 0)
			break;
		cur_skip(&c, n);
	}
	s->off[dir] = c.off;
}

bool tn_done(const struct tn_state *s)
{
	if (!s || s->malformed || s->off[DIR_C2S] + s->off[DIR_S2C] >= TN_DONE_BYTES)
		return true;
	return s->terminal_type[0] && (s->startup_code[0] || s->records[DIR_S2C] >= TN_DONE_RECORDS);
}

enum probe tn_probe(const uint8_t *buf, size_t len, int dir)
{
	struct cursor c = cur_make(buf, len);
	(void)dir;
	if (len == 0)
		return PROBE_MAYBE;
	if (cur_peek_u8(&c, 0) != IAC)
		return PROBE_NO;
	if (len == 1)
		return PROBE_MAYBE;
	uint8_t cmd = cur_peek_u8(&c, 1);
	return cmd >= WILL && cmd <= DONT ? PROBE_YES : PROBE_NO;
}

const char *tn_kind_name(enum tn_kind k)
{
	return tok_name(tn_kinds, (uint32_t)k);
}

/* ---- registration (protocol.h) ---- */

static bool tn_expected(const char *service, int cls)
{
	return service && cls != PROTO_PC_SECURE && cls != PROTO_PC_MAPPER && strcmp(service, "telnet") == 0;
}

static void *tn_create(void) { return calloc(1, sizeof(struct tn_state)); }
static void tn_consume_any(void *s, int dir, const uint8_t *buf, size_t len) { tn_consume(s, dir, buf, len); }
static bool tn_done_any(const void *s) { return tn_done(s); }

static bool tn_is_ibmi(const void *v)
{
	const struct tn_state *t = v;
	return t->kind == TN_KIND_5250_DISPLAY || t->kind == TN_KIND_5250_PRINTER;
}

static const char *tn_user(const void *v)
{
	const struct tn_state *t = v;
	return t->user[0] ? t->user : NULL;
}

static const char *tn_device(const void *v)
{
	const struct tn_state *t = v;
	return t->devname[0] ? t->devname : NULL;
}

static const char *tn_software(const void *v, char *buf, size_t len)
{
	const struct tn_state *t = v;
	if (!t->terminal_type[0])
		return NULL;
	snprintf(buf, len, "telnet terminal type %s", t->terminal_type);
	return buf;
}

static void tn_facts_json(const struct facts_out *o, const void *v)
{
	const struct tn_state *t = v;
	FILE *f = o->f;
	char b1[40];
	fputs("{\"kind\":", f); facts_json_str(f, tn_kind_name(t->kind));
	fputs(",\"terminal_type\":", f); facts_json_str(f, t->terminal_type[0] ? t->terminal_type : NULL);
	fputs(",\"device\":", f);
	facts_json_str(f, t->devname[0] ? o->name(o->ctx, t->devname, b1, sizeof b1) : NULL);
	fputs(",\"kbdtype\":", f); facts_json_str(f, t->kbdtype[0] ? t->kbdtype : NULL);
	fputs(",\"codepage\":", f); facts_json_str(f, t->codepage[0] ? t->codepage : NULL);
	fputs(",\"charset\":", f); facts_json_str(f, t->charset[0] ? t->charset : NULL);
	fputs(",\"curlib\":", f); facts_json_str(f, t->curlib[0] ? t->curlib : NULL);
	fputs(",\"initial_menu\":", f); facts_json_str(f, t->imenu[0] ? t->imenu : NULL);
	fputs(",\"program\":", f); facts_json_str(f, t->program[0] ? t->program : NULL);
	fputs(t->autosignon ? ",\"auto_signon\":true" : ",\"auto_signon\":false", f);
	if (t->autosignon) {
		fputs(",\"password_substitute_length\":", f);
		facts_json_uint(f, t->subspw_len);
	}
	fputs(",\"startup_code\":", f); facts_json_str(f, t->startup_code[0] ? t->startup_code : NULL);
	fputc('}', f);
}

const struct protocol protocol_telnet5250 = {
	.name = "telnet", .light = true, .expected = tn_expected, .probe = tn_probe, .create = tn_create,
	.state_size = sizeof(struct tn_state),
	.consume = tn_consume_any, .done = tn_done_any, .is_ibmi = tn_is_ibmi, .user = tn_user,
	.device = tn_device, .software = tn_software, .facts_json = tn_facts_json,
};
