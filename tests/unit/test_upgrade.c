/*
 * test_upgrade.c - upgrade.c on bytes written here from the RFCs: FTP AUTH TLS
 * and 234 (RFC 4217), SMTP STARTTLS and 220 (RFC 3207), POP3 STLS and +OK
 * (RFC 2595), IMAP STARTTLS and OK (RFC 3501), LDAP's StartTLS extended
 * request and response (RFC 4511 4.14; the BER below is hand-encoded, every
 * length counted by hand), an LDAP simple bind, HTTP Basic (RFC 7617's own
 * example, "Aladdin:open sesame"), PostgreSQL's SSLRequest (its protocol
 * documentation's byte layout), XMPP's STARTTLS (RFC 6120 5.4.2's example
 * stream).  Each client and server direction is also
 * fed one byte longer at a time, as the stream gives it.
 */
#include "testutil.h"

#include "upgrade.h"

/* A TLS 1.2 ClientHello record header and the start of its message: enough for tls_probe. */
static const uint8_t CH[] = { 0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03 };
/* ... and a ServerHello's. */
static const uint8_t SH[] = { 0x16, 0x03, 0x03, 0x00, 0x2a, 0x02, 0x00, 0x00, 0x26, 0x03, 0x03 };

static size_t cat(uint8_t *out, const char *text, const uint8_t *tail, size_t tail_len)
{
	size_t n = strlen(text);
	memcpy(out, text, n);
	if (tail_len)
		memcpy(out + n, tail, tail_len);
	return n + tail_len;
}

/* Every prefix of buf: -1 until the whole is there, then `want`. */
static void grow_client(const uint8_t *buf, size_t n, long want)
{
	struct upgrade u;
	memset(&u, 0, sizeof u);
	for (size_t i = 1; i < n; i++) {
		long at = upgrade_client(&u, buf, (uint32_t)i);
		assert_true(at == -1 || at == want);
	}
	assert_int_equal(upgrade_client(&u, buf, (uint32_t)n), want);
}

static void ftp_auth_tls(void **st)
{
	(void)st;
	uint8_t c[64], s[96];
	size_t cn = cat(c, "AUTH TLS\r\n", CH, sizeof CH);
	size_t sn = cat(s, "220 FTP server ready.\r\n234 Proceed with negotiation.\r\n", SH, sizeof SH);
	struct upgrade u;
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, c, (uint32_t)cn), 10);
	assert_true(u.asked && u.tls_followed && u.proto == UP_FTP && u.cred == UC_NONE);
	assert_int_equal(upgrade_server(&u, s, (uint32_t)sn), (long)(sn - sizeof SH));
	assert_true(u.accepted);
	grow_client(c, cn, 10);
	assert_string_equal(upgrade_command_name(UP_FTP), "AUTH TLS");
	/* AUTH SSL too (MS-FTPS: the same as AUTH TLS) */
	cn = cat(c, "auth ssl\r\n", CH, sizeof CH);
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, c, (uint32_t)cn), 10);
}

static void ftp_reply_must_be_234(void **st)
{
	(void)st;
	uint8_t c[64], s[64];
	size_t cn = cat(c, "AUTH TLS\r\n", CH, sizeof CH);
	size_t sn = cat(s, "220 FTP server ready.\r\n", SH, sizeof SH);   /* TLS after the greeting, no 234 */
	struct upgrade u;
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, c, (uint32_t)cn), 10);
	assert_int_equal(upgrade_server(&u, s, (uint32_t)sn), -1);
	assert_false(u.accepted);
}

static void ftp_user_pass_first(void **st)
{
	(void)st;
	uint8_t c[96];
	size_t cn = cat(c, "USER alice\r\nPASS hunter2\r\nAUTH TLS\r\n", CH, sizeof CH);
	struct upgrade u;
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, c, (uint32_t)cn), (long)(cn - sizeof CH));
	assert_int_equal(u.cred, UC_PASSWORD);
	assert_string_equal(u.user, "alice");
	assert_null(strstr((const char *)&u, "hunter2"));
}

static void ftp_refused_then_clear(void **st)
{
	(void)st;
	const char *c = "AUTH TLS\r\nUSER carol\r\nPASS x\r\n";
	struct upgrade u;
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, (const uint8_t *)c, (uint32_t)strlen(c)), -1);
	assert_true(u.asked && !u.tls_followed);
	assert_int_equal(u.cred, UC_PASSWORD);
	assert_string_equal(u.user, "carol");
	/* only the command so far: not yet refused, waiting for what follows */
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, (const uint8_t *)c, 10), -1);
	assert_true(u.asked && !u.tls_followed);
}

static void smtp_starttls(void **st)
{
	(void)st;
	uint8_t c[96], s[160];
	size_t cn = cat(c, "EHLO client.example.com\r\nSTARTTLS\r\n", CH, sizeof CH);
	size_t sn = cat(s, "220 mail.example.com ESMTP\r\n250-mail.example.com\r\n250 STARTTLS\r\n"
			   "220 2.0.0 Ready to start TLS\r\n", SH, sizeof SH);
	struct upgrade u;
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, c, (uint32_t)cn), (long)(cn - sizeof CH));
	assert_int_equal(u.proto, UP_SMTP);
	assert_int_equal(upgrade_server(&u, s, (uint32_t)sn), (long)(sn - sizeof SH));
	grow_client(c, cn, (long)(cn - sizeof CH));
	/* SMTP AUTH PLAIN before STARTTLS: a credential in clear */
	cn = cat(c, "EHLO x\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nSTARTTLS\r\n", CH, sizeof CH);
	memset(&u, 0, sizeof u);
	assert_true(upgrade_client(&u, c, (uint32_t)cn) > 0);
	assert_int_equal(u.cred, UC_AUTH);
	/* a 454 before the TLS bytes is no yes */
	sn = cat(s, "454 4.7.0 TLS not available\r\n", SH, sizeof SH);
	memset(&u, 0, sizeof u);
	upgrade_client(&u, c, (uint32_t)cn);
	assert_int_equal(upgrade_server(&u, s, (uint32_t)sn), -1);
}

static void pop3_stls_and_imap(void **st)
{
	(void)st;
	uint8_t c[64], s[96];
	size_t cn = cat(c, "CAPA\r\nSTLS\r\n", CH, sizeof CH);
	size_t sn = cat(s, "+OK POP3 ready\r\n+OK\r\nSTLS\r\n.\r\n+OK Begin TLS negotiation\r\n", SH, sizeof SH);
	struct upgrade u;
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, c, (uint32_t)cn), 12);
	assert_int_equal(u.proto, UP_POP3);
	assert_int_equal(upgrade_server(&u, s, (uint32_t)sn), (long)(sn - sizeof SH));
	/* IMAP: a tag, STARTTLS; the tagged OK */
	cn = cat(c, "a1 CAPABILITY\r\na2 STARTTLS\r\n", CH, sizeof CH);
	sn = cat(s, "* OK IMAP4rev1\r\na2 OK Begin TLS now\r\n", SH, sizeof SH);
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, c, (uint32_t)cn), 28);
	assert_int_equal(u.proto, UP_IMAP);
	assert_int_equal(upgrade_server(&u, s, (uint32_t)sn), (long)(sn - sizeof SH));
}

/* LDAPMessage { messageID 1, extendedReq [APPLICATION 23] { requestName [0] "1.3.6.1.4.1.1466.20037" } }:
 * 30 1d | 02 01 01 | 77 18 | 80 16 "1.3.6.1.4.1.1466.20037" (22 bytes) */
static const uint8_t LDAP_STARTTLS[] = {
	0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16, '1', '.', '3', '.', '6', '.', '1', '.', '4', '.', '1',
	'.', '1', '4', '6', '6', '.', '2', '0', '0', '3', '7',
};
/* LDAPMessage { 1, extendedResp [APPLICATION 24] { resultCode success, matchedDN "", diagnosticMessage "" } }:
 * 30 0c | 02 01 01 | 78 07 | 0a 01 00 | 04 00 | 04 00 */
static const uint8_t LDAP_OK[] = { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00 };

static void ldap_starttls(void **st)
{
	(void)st;
	uint8_t c[64], s[64];
	memcpy(c, LDAP_STARTTLS, sizeof LDAP_STARTTLS);
	memcpy(c + sizeof LDAP_STARTTLS, CH, sizeof CH);
	memcpy(s, LDAP_OK, sizeof LDAP_OK);
	memcpy(s + sizeof LDAP_OK, SH, sizeof SH);
	size_t cn = sizeof LDAP_STARTTLS + sizeof CH, sn = sizeof LDAP_OK + sizeof SH;
	struct upgrade u;
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, c, (uint32_t)cn), (long)sizeof LDAP_STARTTLS);
	assert_int_equal(u.proto, UP_LDAP);
	assert_int_equal(upgrade_server(&u, s, (uint32_t)sn), (long)sizeof LDAP_OK);
	assert_true(u.accepted);
	grow_client(c, cn, (long)sizeof LDAP_STARTTLS);
	/* resultCode protocolError (2): refused */
	s[9] = 2;
	memset(&u, 0, sizeof u);
	upgrade_client(&u, c, (uint32_t)cn);
	assert_int_equal(upgrade_server(&u, s, (uint32_t)sn), -1);
	assert_true(u.server_refused && !u.accepted);
	/* another OID (1.3.6.1.4.1.1466.20036) is no StartTLS */
	c[30] = '6';
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, c, (uint32_t)cn), -1);
	assert_false(u.asked);
}

static void ldap_bind_in_clear(void **st)
{
	(void)st;
	/* 30 27 | 02 01 01 | 60 22 | 02 01 03 | 04 14 "cn=admin,dc=ex,dc=or" (20) | 80 07 "s3cr3t!" */
	static const uint8_t bind[] = {
		0x30, 0x27, 0x02, 0x01, 0x01, 0x60, 0x22, 0x02, 0x01, 0x03, 0x04, 0x14, 'c', 'n', '=', 'a', 'd', 'm',
		'i', 'n', ',', 'd', 'c', '=', 'e', 'x', ',', 'd', 'c', '=', 'o', 'r', 0x80, 0x07, 's', '3', 'c', 'r',
		'3', 't', '!',
	};
	struct upgrade u;
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, bind, sizeof bind), -1);
	assert_string_equal(u.user, "cn=admin,dc=ex,dc=or");
	assert_int_equal(u.cred, UC_BIND);
	assert_null(memchr(u.user, '!', sizeof u.user));
	/* cut anywhere: nothing read past the bytes given (ASan) and no name from a half message */
	for (size_t i = 1; i < sizeof bind; i++) {
		memset(&u, 0, sizeof u);
		assert_int_equal(upgrade_client(&u, bind, (uint32_t)i), -1);
		assert_int_equal(u.cred, UC_NONE);
	}
	/* a length field of five bytes, or one claiming 4 GiB: not LDAP */
	static const uint8_t bad[] = { 0x30, 0x85, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
	static const uint8_t huge[] = { 0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01 };
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, bad, sizeof bad), -1);
	assert_int_equal(upgrade_client(&u, huge, sizeof huge), -1);
	assert_false(u.asked);
}

static void http_basic_user_only(void **st)
{
	(void)st;
	/* RFC 7617 section 2: Aladdin / open sesame */
	const char *c = "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n";
	struct upgrade u;
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, (const uint8_t *)c, (uint32_t)strlen(c)), -1);
	assert_string_equal(u.user, "Aladdin");
	assert_int_equal(u.cred, UC_HTTP_BASIC);
	assert_null(strstr(u.user, "open"));
}

/* PostgreSQL's SSLRequest: Int32 length 8, Int32 80877103 (1234 << 16 | 5679); the server's one byte. */
static void postgresql_sslrequest(void **st)
{
	(void)st;
	uint8_t c[32], s[32];
	static const uint8_t req[] = { 0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f };
	memcpy(c, req, sizeof req);
	memcpy(c + sizeof req, CH, sizeof CH);
	s[0] = 'S';
	memcpy(s + 1, SH, sizeof SH);
	struct upgrade u;
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, c, sizeof req + sizeof CH), 8);
	assert_int_equal(u.proto, UP_PGSQL);
	assert_int_equal(upgrade_server(&u, s, 1 + sizeof SH), 1);
	assert_true(u.accepted);
	grow_client(c, sizeof req + sizeof CH, 8);
	s[0] = 'N';                                   /* refused: the client goes on in clear (or leaves) */
	memset(&u, 0, sizeof u);
	upgrade_client(&u, c, sizeof req + sizeof CH);
	assert_int_equal(upgrade_server(&u, s, 1), -1);
	assert_true(u.server_refused && !u.accepted);
	c[7] = 0x30;                                  /* 80877104: GSSENCRequest, not TLS */
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, c, sizeof req + sizeof CH), -1);
	assert_false(u.asked);
}

/* XMPP, RFC 6120 5.4.2: the client's <starttls/>, the server's <proceed/>, then TLS. */
static void xmpp_starttls(void **st)
{
	(void)st;
	uint8_t c[512], s[512];
	size_t cn = cat(c, "<?xml version='1.0'?><stream:stream from='juliet@im.example.com' to='im.example.com' "
			   "version='1.0' xml:lang='en' xmlns='jabber:client' "
			   "xmlns:stream='http://etherx.jabber.org/streams'>"
			   "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", CH, sizeof CH);
	size_t sn = cat(s, "<?xml version='1.0'?><stream:stream from='im.example.com' id='t7AMCin9zjMNwQKDnplntZPIDEI=' "
			   "to='juliet@im.example.com' version='1.0' xml:lang='en' xmlns='jabber:client' "
			   "xmlns:stream='http://etherx.jabber.org/streams'><stream:features>"
			   "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"
			   "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", SH, sizeof SH);
	struct upgrade u;
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, c, (uint32_t)cn), (long)(cn - sizeof CH));
	assert_int_equal(u.proto, UP_XMPP);
	assert_int_equal(upgrade_server(&u, s, (uint32_t)sn), (long)(sn - sizeof SH));
	assert_true(u.accepted);
	grow_client(c, cn, (long)(cn - sizeof CH));
	/* <failure/> instead of <proceed/>: refused */
	sn = cat(s, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>", NULL, 0);
	memset(&u, 0, sizeof u);
	upgrade_client(&u, c, (uint32_t)cn);
	assert_int_equal(upgrade_server(&u, s, (uint32_t)sn), -1);
	assert_true(u.server_refused);
	/* a <starttls> in another namespace is not the upgrade */
	cn = cat(c, "<stream:stream><starttls xmlns='urn:example:other'/>", CH, sizeof CH);
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, c, (uint32_t)cn), -1);
	assert_false(u.asked);
}

static void binary_and_empty(void **st)
{
	(void)st;
	struct upgrade u;
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_client(&u, NULL, 0), -1);
	assert_int_equal(upgrade_server(&u, NULL, 0), -1);
	static const uint8_t bin[] = { 0x00, 0x00, 0x00, 0x14, 0xe0, 0x04, 'A', 'U', 'T', 'H', '\n' };
	assert_int_equal(upgrade_client(&u, bin, sizeof bin), -1);
	assert_false(u.asked);
	/* a line longer than the line limit is not read as a command */
	uint8_t longline[1200];
	memset(longline, 'A', sizeof longline);
	memcpy(longline + 1100, "\r\nSTLS\r\n", 8);
	assert_int_equal(upgrade_client(&u, longline, 1108), -1);
	assert_false(u.asked);
	/* the server side is not looked at before the client asked */
	uint8_t s[64];
	size_t sn = cat(s, "234 ok\r\n", SH, sizeof SH);
	memset(&u, 0, sizeof u);
	assert_int_equal(upgrade_server(&u, s, (uint32_t)sn), -1);
	assert_null(upgrade_result_name(UR_NONE));
	assert_string_equal(upgrade_result_name(UR_CREDENTIALS_FIRST), "credentials-before-upgrade");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ftp_auth_tls),
		cmocka_unit_test(ftp_reply_must_be_234),
		cmocka_unit_test(ftp_user_pass_first),
		cmocka_unit_test(ftp_refused_then_clear),
		cmocka_unit_test(smtp_starttls),
		cmocka_unit_test(pop3_stls_and_imap),
		cmocka_unit_test(ldap_starttls),
		cmocka_unit_test(ldap_bind_in_clear),
		cmocka_unit_test(http_basic_user_only),
		cmocka_unit_test(postgresql_sslrequest),
		cmocka_unit_test(xmpp_starttls),
		cmocka_unit_test(binary_and_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
