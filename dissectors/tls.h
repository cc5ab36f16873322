/*
 * tls.h - TLS handshake dissector: records in, negotiated facts out.
 *
 * Fed the in-order bytes of each direction (see dissector.h), it reassembles
 * records across segments and handshake messages across records, and learns
 * what the ClientHello offered, what the ServerHello chose, the certificate
 * chain (parsed with OpenSSL in x509.c), alerts, ChangeCipherSpec, and when
 * the handshake completed.  The negotiated version comes from the
 * ServerHello (supported_versions for TLS 1.3), never from a record header
 * or the ClientHello.
 */
#ifndef TLSREADY_TLS_H
#define TLSREADY_TLS_H

#include "dissector.h"
#include "x509.h"

#define TLS_MAX_CHAIN 6
#define TLS_MAX_OFFERED 128   /* cipher suites / extensions / groups kept for fingerprints */

/* Cipher families a client offered (bit set) or a server chose. */
enum tls_family {
	TLSF_NULL = 1u << 0,
	TLSF_EXPORT = 1u << 1,
	TLSF_ANON = 1u << 2,
	TLSF_RC4 = 1u << 3,
	TLSF_DES = 1u << 4,     /* single DES */
	TLSF_3DES = 1u << 5,
	TLSF_CBC = 1u << 6,
	TLSF_AEAD = 1u << 7,
};

struct tls_state {
	/* ---- parser position (private) ---- */
	size_t off[2];             /* next unparsed byte of each direction */
	uint8_t hs_buf_used[2];    /* reserved for the implementation */
	bool dead[2];              /* direction is not TLS / unparseable: stop */

	/* ---- facts ---- */
	bool client_hello;         /* a ClientHello was parsed */
	bool sslv2_hello;          /* ... in the SSLv2-compatible format */
	bool server_hello;         /* a ServerHello was parsed */
	bool hello_retry;          /* the (latest) ServerHello was a HelloRetryRequest: version not negotiated yet */
	uint16_t client_legacy_version;
	uint16_t client_max_version;   /* highest offered, from supported_versions if present (GREASE skipped) */
	uint16_t version;          /* negotiated (0 = none seen) */
	uint16_t cipher;           /* chosen by the server; valid when server_hello */
	uint32_t offered_families; /* enum tls_family bits over the client's suites */
	uint32_t chosen_family;    /* enum tls_family bits of the chosen suite */
	uint16_t n_ciphers;        /* suites offered (GREASE and the signalling SCSVs 0x00ff, 0x5600 excluded) */
	uint16_t n_legacy_ciphers; /* of those, RC4, 3DES, DES, NULL, EXPORT or anonymous ones */
	char sni[256];
	char alpn[64];             /* server-selected ALPN if seen, else the client's first */
	char ja3[33], ja3s[33];    /* MD5 hex */
	char ja4[40], ja4s[32];
	bool ccs[2];               /* ChangeCipherSpec seen in each direction */
	bool finished[2];          /* an encrypted handshake record after CCS (the Finished) */
	bool appdata[2];           /* application_data records seen in each direction */
	bool completed;            /* handshake completed (see tls.c for the rule) */
	bool alert;                /* a plaintext alert was seen */
	uint8_t alert_level;       /* 1 warning, 2 fatal */
	uint8_t alert_desc;
	int8_t alert_dir;          /* DIR_C2S / DIR_S2C, -1 none */
	uint8_t chain_len;         /* certificates in the server's Certificate message */
	bool cert_seen;
	const struct x509_info **chain;   /* chain_len entries, [0] = the server certificate: each shared
	                            * with every flow that saw the same DER (x509_share), the array
	                            * allocated as the certificates come; both let go by tls_state_release() */
	uint32_t records[2];       /* records parsed per direction */
	bool malformed[2];         /* a record or message broke its own lengths */

	/* ---- added: parser position (private; see tls.c) ---- */
	size_t hs_rec[2];          /* record holding the first byte of an incomplete handshake message */
	uint32_t hs_have[2];       /* its bytes seen so far (0 = none pending) */
	uint16_t hs_in[2];         /* where it starts in that record's payload */
	bool tls13_app[2];         /* a handshake-sized application_data record after a final TLS 1.3 ServerHello */

	/* ---- added: facts ---- */
	bool hrr_seen;             /* a HelloRetryRequest was seen (hello_retry is cleared by the final ServerHello) */
	uint16_t server_legacy_version; /* the ServerHello's legacy_version field (JA3S input) */
	uint16_t chain_total;      /* certificates in the Certificate message, also those past TLS_MAX_CHAIN */
	uint32_t appdata_records[2];   /* application_data records per direction (all of them, 0-RTT included) */
	uint16_t first_appdata_len[2]; /* payload length of the first one (19 = a lone TLS 1.3 encrypted alert) */
	bool cert_over_cap;        /* the server's Certificate message is longer than the 64 KiB handshake cap: not parsed */
};

enum probe tls_probe(const uint8_t *buf, size_t len, int dir);
void tls_consume(struct tls_state *s, int dir, const uint8_t *buf, size_t len);
bool tls_done(const struct tls_state *s);
/* Free what a state holds beyond itself (its certificate chain); the state stays valid, without it. */
void tls_state_release(struct tls_state *s);
extern const struct protocol protocol_tls;

/* Names: "TLSv1.2", "SSLv3" ...; "SSLv2" for 0x0002, "TLSv1.3-draft" for
 * 0x7fxx and 0xfbxx; NULL for 0 or unknown. */
const char *tls_version_name(uint16_t v);
/* IANA cipher suite name, e.g. "TLS_AES_256_GCM_SHA384"; NULL if unknown. */
const char *tls_cipher_name(uint16_t id);
/* enum tls_family bits for one cipher suite. */
uint32_t tls_cipher_family(uint16_t id);
/* RFC 8446 alert description name, e.g. "protocol_version"; NULL if unknown. */
const char *tls_alert_name(uint8_t desc);

#endif
