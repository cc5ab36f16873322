/*
 * upgrade.c - upgrades to TLS by each protocol's own command and reply, and
 * the names sent in clear before them (see upgrade.h).  Text protocols are
 * read line by line (a line ends with LF; a CR before it is dropped); LDAP is
 * read as BER LDAPMessages.  Every read goes through the bounded cursor; a
 * password is never copied anywhere, only its presence is noted.
 */
#include "upgrade.h"

#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "dissector.h"
#include "tls.h"

#define LINE_MAX_LEN 1024
#define LDAP_STARTTLS_OID "1.3.6.1.4.1.1466.20037"

const char *upgrade_proto_name(enum upgrade_proto p)
{
	static const char *const n[] = { NULL, "ftp", "smtp", "pop3", "imap", "ldap", "postgresql", "xmpp" };
	return (unsigned)p <= UP_XMPP ? n[p] : NULL;
}

const char *upgrade_command_name(enum upgrade_proto p)
{
	static const char *const n[] = { NULL, "AUTH TLS", "STARTTLS", "STLS", "STARTTLS", "StartTLS", "SSLRequest",
					 "<starttls/>" };
	return (unsigned)p <= UP_XMPP ? n[p] : NULL;
}

const char *upgrade_cred_name(enum upgrade_cred c)
{
	static const char *const n[] = { NULL, "password", "sasl-plain-or-login", "ldap-simple-bind", "http-basic" };
	return (unsigned)c <= UC_HTTP_BASIC ? n[c] : NULL;
}

const char *upgrade_result_name(enum upgrade_result r)
{
	static const char *const n[] = { NULL, "upgraded", "refused", "failed", "credentials-before-upgrade" };
	return (unsigned)r <= UR_CREDENTIALS_FIRST ? n[r] : NULL;
}

/* ---- text lines ---- */

struct line {
	const uint8_t *p;
	size_t n;                  /* without CR LF */
	size_t end;                /* offset just past the LF */
};

/* The next complete line from c; false when none (no LF yet, or binary bytes). */
static bool next_line(struct cursor *c, struct line *l)
{
	size_t left = cur_left(c);
	for (size_t i = 0; i < left && i < LINE_MAX_LEN; i++) {
		uint8_t b = cur_peek_u8(c, i);
		if (b == '\n') {
			l->p = cur_view(c, i + 1);
			if (!l->p)
				return false;
			l->n = i > 0 && l->p[i - 1] == '\r' ? i - 1 : i;
			l->end = c->off;
			return true;
		}
		if (b == 0 || (b < 0x20 && b != '\r' && b != '\t'))
			return false;
	}
	return false;
}

/* Word w (index 0, 1 ...) of the line: start and length, or length 0. */
static size_t word(const struct line *l, int w, const uint8_t **start)
{
	size_t i = 0;
	for (int k = 0; k <= w; k++) {
		while (i < l->n && l->p[i] == ' ')
			i++;
		size_t s = i;
		while (i < l->n && l->p[i] != ' ')
			i++;
		if (k == w) {
			*start = l->p + s;
			return i - s;
		}
	}
	return 0;
}

static bool is_word(const struct line *l, int w, const char *want)
{
	const uint8_t *s;
	size_t n = word(l, w, &s), m = strlen(want);
	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t a = s[i] >= 'a' && s[i] <= 'z' ? (uint8_t)(s[i] - 32) : s[i];
		if (a != (uint8_t)want[i])
			return false;
	}
	return true;
}

static size_t word_count(const struct line *l)
{
	const uint8_t *s;
	size_t n = 0;
	while (n < 8 && word(l, (int)n, &s))
		n++;
	return n;
}

/* A name from the wire: printable ASCII up to the end, or the first blank unless blanks are allowed
 * (an LDAP DN); longer names are cut to what the record keeps. */
static void keep_name(struct upgrade *u, const uint8_t *s, size_t n, bool blanks)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < sizeof u->user; i++) {
		if (s[i] < ' ' || s[i] >= 0x7f || (s[i] == ' ' && !blanks))
			break;
		u->user[o++] = (char)s[i];
	}
	u->user[o] = '\0';
}

static int b64(uint8_t c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* HTTP Basic: decode the base64 credentials only up to the colon; the password is never decoded. */
static void basic_user(struct upgrade *u, const uint8_t *s, size_t n)
{
	char name[UPGRADE_NAME_MAX];
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n && o + 1 < sizeof name; i++) {
		int v = b64(s[i]);
		if (v < 0)
			break;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits < 8)
			continue;
		bits -= 8;
		uint8_t ch = (uint8_t)(acc >> bits);
		if (ch == ':')
			break;
		name[o++] = (char)ch;
	}
	keep_name(u, (const uint8_t *)name, o, false);
}

/* One client line; returns the upgrade protocol when the line is an upgrade command. */
static enum upgrade_proto client_line(struct upgrade *u, const struct line *l)
{
	size_t words = word_count(l);
	const uint8_t *s;
	if (words == 2 && is_word(l, 0, "AUTH") &&
	    (is_word(l, 1, "TLS") || is_word(l, 1, "SSL") || is_word(l, 1, "TLS-C") || is_word(l, 1, "TLS-P")))
		return UP_FTP;
	if (words == 1 && is_word(l, 0, "STARTTLS"))
		return UP_SMTP;
	if (words == 1 && is_word(l, 0, "STLS"))
		return UP_POP3;
	if (words == 2 && is_word(l, 1, "STARTTLS"))
		return UP_IMAP;
	if (!u->cred && words >= 2 && is_word(l, 0, "AUTH") && (is_word(l, 1, "PLAIN") || is_word(l, 1, "LOGIN")))
		u->cred = UC_AUTH;
	else if (!u->cred && words >= 2 && is_word(l, 0, "PASS"))
		u->cred = UC_PASSWORD;
	else if (!u->cred && words >= 3 && is_word(l, 1, "LOGIN"))   /* IMAP: tag LOGIN user password */
		u->cred = UC_PASSWORD;
	else if (words >= 2 && is_word(l, 0, "USER") && word(l, 1, &s))
		keep_name(u, s, word(l, 1, &s), false);
	else if (words >= 3 && is_word(l, 0, "AUTHORIZATION:") && is_word(l, 1, "BASIC")) {
		if (!u->cred)
			u->cred = UC_HTTP_BASIC;
		size_t n = word(l, 2, &s);
		basic_user(u, s, n);
	}
	return UP_NONE;
}

static long text_client(struct upgrade *u, struct cursor c)
{
	struct line l;
	while (c.off < UPGRADE_SCAN && next_line(&c, &l)) {
		enum upgrade_proto p = client_line(u, &l);
		if (p == UP_NONE)
			continue;
		u->asked = true;
		u->proto = (uint8_t)p;
		struct cursor rest = cur_rest(&c);
		enum probe t = tls_probe(rest.p, rest.len, DIR_C2S);
		if (t == PROBE_YES) {
			u->tls_followed = true;
			return (long)l.end;
		}
		if (t == PROBE_MAYBE)
			return -1;          /* wait for the bytes after the command */
		/* refused (or the client went on in clear): keep reading for credentials */
	}
	return -1;
}

/* ---- LDAP (BER) ---- */

/* A BER length (definite form, at most 4 length bytes, at most 16 MiB). */
static bool ber_len(struct cursor *c, size_t *len)
{
	uint8_t b = cur_u8(c);
	if (c->err)
		return false;
	if (b < 0x80) {
		*len = b;
		return true;
	}
	int n = b & 0x7f;
	if (n == 0 || n > 4)
		return false;
	size_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | cur_u8(c);
	if (c->err || v > (16u << 20))
		return false;
	*len = v;
	return true;
}

/* The next element of c: its tag and contents; false when it is not all there. */
static bool ber_next(struct cursor *c, uint8_t *tag, struct cursor *val)
{
	*tag = cur_u8(c);
	size_t n;
	if (c->err || !ber_len(c, &n) || !cur_has(c, n))
		return false;
	*val = cur_sub(c, n);
	return !val->err;
}

enum { LDAP_BIND_REQ = 0x60, LDAP_EXT_REQ = 0x77, LDAP_EXT_RESP = 0x78 };

/* The next LDAPMessage of c: its protocolOp tag and contents. */
static bool ldap_message(struct cursor *c, uint8_t *op, struct cursor *body)
{
	uint8_t tag;
	struct cursor msg, id;
	if (!ber_next(c, &tag, &msg) || tag != 0x30)
		return false;
	if (!ber_next(&msg, &tag, &id) || tag != 0x02)   /* messageID */
		return false;
	return ber_next(&msg, op, body);
}

static void ldap_bind(struct upgrade *u, struct cursor b)
{
	uint8_t tag;
	struct cursor v, name, auth;
	if (!ber_next(&b, &tag, &v) || tag != 0x02)      /* version */
		return;
	if (!ber_next(&b, &tag, &name) || tag != 0x04)   /* name: LDAPDN */
		return;
	if (cur_left(&name))
		keep_name(u, name.p + name.off, cur_left(&name), true);
	if (!ber_next(&b, &tag, &auth))
		return;
	if (tag == 0x80 && cur_left(&auth) > 0 && !u->cred)   /* simple [0] with a password */
		u->cred = UC_BIND;
}

static long ldap_client(struct upgrade *u, struct cursor c)
{
	uint8_t op;
	struct cursor body, oid;
	while (c.off < UPGRADE_SCAN && cur_left(&c) && ldap_message(&c, &op, &body)) {
		if (op == LDAP_BIND_REQ) {
			ldap_bind(u, body);
			continue;
		}
		uint8_t tag;
		if (op != LDAP_EXT_REQ || !ber_next(&body, &tag, &oid) || tag != 0x80 ||
		    cur_left(&oid) != strlen(LDAP_STARTTLS_OID) ||
		    memcmp(oid.p + oid.off, LDAP_STARTTLS_OID, cur_left(&oid)) != 0)
			continue;
		u->asked = true;
		u->proto = UP_LDAP;
		struct cursor rest = cur_rest(&c);
		enum probe t = tls_probe(rest.p, rest.len, DIR_C2S);
		if (t == PROBE_YES) {
			u->tls_followed = true;
			return (long)c.off;
		}
		if (t == PROBE_MAYBE)
			return -1;
	}
	return -1;
}

static long ldap_server(struct upgrade *u, struct cursor c)
{
	uint8_t op, tag;
	struct cursor body, rc;
	while (c.off < UPGRADE_SCAN && cur_left(&c) && ldap_message(&c, &op, &body)) {
		if (op != LDAP_EXT_RESP || !ber_next(&body, &tag, &rc) || tag != 0x0a || cur_left(&rc) != 1)
			continue;
		if (cur_u8(&rc) != 0) {            /* resultCode: anything but success(0) refuses */
			u->server_refused = true;
			continue;
		}
		struct cursor rest = cur_rest(&c);
		if (tls_probe(rest.p, rest.len, DIR_S2C) == PROBE_YES) {
			u->accepted = true;
			return (long)c.off;
		}
	}
	return -1;
}

/* ---- PostgreSQL: SSLRequest (Int32 8, Int32 80877103), answered with one byte 'S' or 'N' ---- */

#define PG_SSLREQUEST 80877103u

static bool pg_sslrequest(struct cursor c)
{
	return cur_be32(&c) == 8 && cur_be32(&c) == PG_SSLREQUEST && !c.err;
}

static long pg_client(struct upgrade *u, struct cursor c)
{
	u->asked = true;
	u->proto = UP_PGSQL;
	cur_skip(&c, 8);
	struct cursor rest = cur_rest(&c);
	if (tls_probe(rest.p, rest.len, DIR_C2S) != PROBE_YES)
		return -1;
	u->tls_followed = true;
	return 8;
}

static long pg_server(struct upgrade *u, struct cursor c)
{
	uint8_t b = cur_u8(&c);
	if (c.err)
		return -1;
	if (b == 'N')
		u->server_refused = true;
	struct cursor rest = cur_rest(&c);
	if (b != 'S' || tls_probe(rest.p, rest.len, DIR_S2C) != PROBE_YES)
		return -1;
	u->accepted = true;
	return 1;
}

/* ---- XMPP: <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>, answered <proceed .../> or <failure .../> ---- */

#define XMPP_TLS_NS "urn:ietf:params:xml:ns:xmpp-tls"

/* Offset of needle in p[from, n), or -1. */
static long find(const uint8_t *p, size_t n, size_t from, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = from; m <= n && i <= n - m; i++)
		if (memcmp(p + i, needle, m) == 0)
			return (long)i;
	return -1;
}

/* The end (just past "/>" or "</name>") of the first <name ...> element in the xmpp-tls
 * namespace within the scanned bytes, or -1. */
static long xmpp_element(struct cursor c, const char *name)
{
	size_t n = cur_left(&c) < UPGRADE_SCAN ? cur_left(&c) : UPGRADE_SCAN;
	const uint8_t *p = cur_view(&c, n);
	char open[24], close[24];
	snprintf(open, sizeof open, "<%s", name);
	snprintf(close, sizeof close, "</%s>", name);
	if (!p)
		return -1;
	for (long at = find(p, n, 0, open); at >= 0; at = find(p, n, (size_t)at + 1, open)) {
		long gt = find(p, n, (size_t)at, ">");
		if (gt < 0)
			return -1;
		long ns = find(p, (size_t)gt, (size_t)at, XMPP_TLS_NS);
		if (ns < 0)
			continue;
		if (p[gt - 1] == '/')
			return gt + 1;
		long end = find(p, n, (size_t)gt, close);
		return end < 0 ? -1 : end + (long)strlen(close);
	}
	return -1;
}

static long xmpp_client(struct upgrade *u, struct cursor c)
{
	long at = xmpp_element(c, "starttls");
	if (at < 0)
		return -1;
	u->asked = true;
	u->proto = UP_XMPP;
	struct cursor t = c;
	cur_skip(&t, (size_t)at);
	struct cursor rest = cur_rest(&t);
	if (tls_probe(rest.p, rest.len, DIR_C2S) != PROBE_YES)
		return -1;
	u->tls_followed = true;
	return at;
}

static long xmpp_server(struct upgrade *u, struct cursor c)
{
	if (xmpp_element(c, "failure") >= 0)
		u->server_refused = true;
	long at = xmpp_element(c, "proceed");
	if (at < 0)
		return -1;
	struct cursor t = c;
	cur_skip(&t, (size_t)at);
	struct cursor rest = cur_rest(&t);
	if (tls_probe(rest.p, rest.len, DIR_S2C) != PROBE_YES)
		return -1;
	u->accepted = true;
	return at;
}

/* ---- entry points ---- */

long upgrade_client(struct upgrade *u, const uint8_t *buf, uint32_t len)
{
	/* idempotent: what the client sent is read again from its first byte */
	uint8_t result = u->result;
	bool accepted = u->accepted, refused = u->server_refused;
	memset(u, 0, sizeof *u);
	u->result = result;
	u->accepted = accepted;
	u->server_refused = refused;
	struct cursor c = cur_make(buf, len);
	if (!cur_has(&c, 1))
		return -1;
	if (pg_sslrequest(c))
		return pg_client(u, c);
	if (cur_peek_u8(&c, 0) == '<') {
		long at = xmpp_client(u, c);
		if (u->asked)
			return at;
	}
	return cur_peek_u8(&c, 0) == 0x30 ? ldap_client(u, c) : text_client(u, c);
}

long upgrade_server(struct upgrade *u, const uint8_t *buf, uint32_t len)
{
	struct cursor c = cur_make(buf, len);
	if (!u->asked || !cur_has(&c, 1))
		return -1;
	if (u->proto == UP_LDAP)
		return ldap_server(u, c);
	if (u->proto == UP_PGSQL)
		return pg_server(u, c);
	if (u->proto == UP_XMPP)
		return xmpp_server(u, c);
	struct line l;
	while (c.off < UPGRADE_SCAN && next_line(&c, &l)) {
		struct cursor rest = cur_rest(&c);
		if (tls_probe(rest.p, rest.len, DIR_S2C) != PROBE_YES)
			continue;
		/* the reply right before the server's TLS must be the protocol's yes to the upgrade */
		bool yes = (u->proto == UP_FTP && l.n >= 4 && memcmp(l.p, "234 ", 4) == 0) ||
			   (u->proto == UP_SMTP && l.n >= 3 && memcmp(l.p, "220", 3) == 0 && (l.n == 3 || l.p[3] == ' ')) ||
			   (u->proto == UP_POP3 && l.n >= 3 && memcmp(l.p, "+OK", 3) == 0) ||
			   (u->proto == UP_IMAP && word_count(&l) >= 2 && is_word(&l, 1, "OK"));
		if (!yes)
			return -1;
		u->accepted = true;
		return (long)l.end;
	}
	return -1;
}
