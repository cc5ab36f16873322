/*
 * findings.h - what is wrong with a flow's TLS (or lack of it), in words a
 * report can carry, and what a client would lose when the IBM i tightens
 * TLS (QSSLPCL, QSSLCSL).
 *
 * Input: a finished flow record and the end of the capture (certificate
 * expiry is judged against capture time, never the wall clock).  Output: a
 * bit set of findings with names, and per-client "would break" verdicts.
 */
#ifndef TLSREADY_FINDINGS_H
#define TLSREADY_FINDINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"

enum finding {
	FND_CLEARTEXT = 0,          /* application bytes in clear on a nonsecure port */
	FND_OBSOLETE_VERSION,       /* SSLv3, TLS 1.0 or 1.1 negotiated */
	FND_WEAK_CIPHER,            /* NULL, EXPORT, anonymous, RC4, DES, 3DES chosen */
	FND_CERT_EXPIRED,
	FND_CERT_NOT_YET_VALID,
	FND_CERT_EXPIRING,          /* within 30 days of the end of the capture */
	FND_CERT_SELF_SIGNED,
	FND_CERT_WEAK_KEY,          /* RSA under 2048 bits */
	FND_CERT_SHA1,              /* SHA-1 (or MD5) signature */
	FND_HANDSHAKE_FAILED,       /* with the alert, when one was seen */
	FND_MISMATCH,               /* the bytes disagree with the port */
	FND_SIGNON_FAILED,
	FND_SERVER_ID_MISMATCH,     /* the host-server datastream names another server than the port */
	FND_OVERLAP_CONFLICT,       /* two copies of some stream bytes differed: evasion attempt or broken sender */
	FND_CLEAR_CREDENTIALS,      /* a password (or equivalent) went in clear before any upgrade (upgrade.h), or nDPI's
	                               clear-text credentials risk */
	FND_UPGRADE_REFUSED,        /* the client asked to upgrade to TLS and the connection stayed in clear */
	FND_COUNT
};

#define EXPIRY_WARN_DAYS 30

const char *finding_name(enum finding f);
uint32_t findings_for(const struct flow_record *r, int64_t capture_end_us);
/* A server certificate's own findings: expired when it ended before it was seen (seen_s), expiring
 * within EXPIRY_WARN_DAYS of end_s, not yet valid, self-signed, RSA under 2048 bits, SHA-1/MD5. */
uint32_t cert_findings(int64_t not_before, int64_t not_after, bool self_signed, const char *key_type, int key_bits,
		       const char *sig_alg, int64_t seen_s, int64_t end_s);
/* The host-server server ID names another service than the port's. */
bool server_id_mismatch(const struct flow_record *r);

/* What the client offered, over all its TLS flows (feed each flow). */
struct offer_summary {
	bool tls;                   /* at least one ClientHello seen */
	uint16_t max_version;       /* highest version offered */
	uint32_t families;          /* enum tls_family bits offered */
	bool only_legacy_ciphers;   /* every suite it offered is RC4, 3DES, DES, NULL, EXPORT or anon */
	bool negotiated_legacy;     /* a session actually used RC4 or 3DES */
};
void offer_add(struct offer_summary *o, const struct flow_record *r);
bool breaks_if_min_tls12(const struct offer_summary *o);
bool breaks_if_tls13_only(const struct offer_summary *o);
bool breaks_if_rc4_3des_removed(const struct offer_summary *o);

#endif
