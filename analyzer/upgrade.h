/*
 * upgrade.h - a cleartext protocol's own upgrade to TLS on the same
 * connection, and the names a client sent in clear on the IBM i's other
 * doors.
 *
 * Recognised by each protocol's command and reply, never by where a 0x16 byte
 * may start: FTP AUTH TLS / AUTH SSL answered 234 (RFC 4217), SMTP STARTTLS
 * answered 220 (RFC 3207), POP3 STLS answered +OK (RFC 2595), IMAP STARTTLS
 * answered OK (RFC 3501), LDAP's StartTLS extended request (OID
 * 1.3.6.1.4.1.1466.20037) answered with resultCode success (RFC 4511 4.14,
 * BER read through the bounded cursor), PostgreSQL's SSLRequest answered 'S'
 * (PostgreSQL protocol, "SSL Session Encryption"), XMPP's <starttls/>
 * answered <proceed/> (RFC 6120 5.4).  Credentials before the upgrade (FTP
 * or POP3 PASS, APOP, SMTP AUTH, IMAP LOGIN, an LDAP simple bind with a
 * password, an HTTP Authorization header) make the connection nonsecure
 * whatever follows.  Names kept: FTP/POP3 USER, the LDAP bind DN, the user
 * part of HTTP Basic; never a password (only that one was sent).
 *
 * Input: one direction's bytes from its first byte (client: upgrade_client,
 * server: upgrade_server), as often as they grow; each call rescans at most
 * UPGRADE_SCAN bytes and is idempotent.  Output: the struct upgrade kept in
 * the flow record, and the offset where TLS starts in that direction.
 */
#ifndef TLSREADY_UPGRADE_H
#define TLSREADY_UPGRADE_H

#include <stdbool.h>
#include <stdint.h>

#define UPGRADE_SCAN 4096
#define UPGRADE_NAME_MAX 48

enum upgrade_proto { UP_NONE = 0, UP_FTP, UP_SMTP, UP_POP3, UP_IMAP, UP_LDAP, UP_PGSQL, UP_XMPP };
/* What went in clear before any upgrade: the kind only, never the value. */
enum upgrade_cred { UC_NONE = 0, UC_PASSWORD, UC_AUTH, UC_BIND, UC_HTTP_BASIC };
/* The flow's verdict (classify_final). */
enum upgrade_result { UR_NONE = 0, UR_UPGRADED, UR_REFUSED, UR_FAILED, UR_CREDENTIALS_FIRST };

struct upgrade {
	uint8_t proto;             /* enum upgrade_proto of the upgrade command the client sent */
	bool asked;                /* the client sent an upgrade command */
	bool tls_followed;         /* the client's TLS handshake came right after that command */
	bool accepted;             /* the server's positive reply came right before its TLS */
	bool server_refused;       /* the server answered the command negatively */
	uint8_t cred;              /* enum upgrade_cred sent in clear before any upgrade */
	uint8_t result;            /* enum upgrade_result, set at the end of the flow */
	char user[UPGRADE_NAME_MAX];   /* a name sent in clear: FTP/POP3 USER, LDAP bind DN, HTTP Basic user */
};

/* The client's bytes: names, credentials, the upgrade command.  Returns where
 * the client's TLS starts (right after its upgrade command), or -1. */
long upgrade_client(struct upgrade *u, const uint8_t *buf, uint32_t len);
/* The server's bytes, once the client asked: the reply to the upgrade.
 * Returns where the server's TLS starts (right after its positive reply), or -1. */
long upgrade_server(struct upgrade *u, const uint8_t *buf, uint32_t len);

const char *upgrade_proto_name(enum upgrade_proto p);    /* "ftp", ...; NULL for UP_NONE */
const char *upgrade_command_name(enum upgrade_proto p);  /* "AUTH TLS", "STARTTLS", "STLS", "StartTLS", ... */
const char *upgrade_cred_name(enum upgrade_cred c);      /* "password", ...; NULL for UC_NONE */
const char *upgrade_result_name(enum upgrade_result r);  /* "upgraded", ...; NULL for UR_NONE */

#endif
