/*
 * findings.c - per-flow findings and per-client "would break" verdicts
 * (see findings.h).  The names are part of the report contract.
 */
#include "findings.h"

#include <string.h>

#include "hostserver.h"
#include "tls.h"

static const char *const names[FND_COUNT] = {
	[FND_CLEARTEXT] = "cleartext",
	[FND_OBSOLETE_VERSION] = "obsolete-tls-version",
	[FND_WEAK_CIPHER] = "weak-cipher",
	[FND_CERT_EXPIRED] = "certificate-expired",
	[FND_CERT_NOT_YET_VALID] = "certificate-not-yet-valid",
	[FND_CERT_EXPIRING] = "certificate-expiring-soon",
	[FND_CERT_SELF_SIGNED] = "certificate-self-signed",
	[FND_CERT_WEAK_KEY] = "certificate-weak-rsa-key",
	[FND_CERT_SHA1] = "certificate-sha1-signature",
	[FND_HANDSHAKE_FAILED] = "tls-handshake-failed",
	[FND_MISMATCH] = "port-mismatch",
	[FND_SIGNON_FAILED] = "signon-failed",
	[FND_SERVER_ID_MISMATCH] = "server-id-mismatch",
	[FND_OVERLAP_CONFLICT] = "stream-overlap-conflict",
	[FND_CLEAR_CREDENTIALS] = "cleartext-credentials",
	[FND_UPGRADE_REFUSED] = "upgrade-refused",
};

const char *finding_name(enum finding f)
{
	return (unsigned)f < FND_COUNT ? names[f] : "unknown";
}

#define WEAK_FAMILIES (TLSF_NULL | TLSF_EXPORT | TLSF_ANON | TLSF_RC4 | TLSF_DES | TLSF_3DES)

bool server_id_mismatch(const struct flow_record *r)
{
	return hs_server_id_mismatch(rec_hs(r), r->service);
}

uint32_t cert_findings(int64_t not_before, int64_t not_after, bool self_signed, const char *key_type, int key_bits,
		       const char *sig_alg, int64_t seen_s, int64_t end_s)
{
	uint32_t f = 0;
	if (not_after < seen_s)
		f |= 1u << FND_CERT_EXPIRED;
	else if (not_after < end_s + EXPIRY_WARN_DAYS * 86400LL)
		f |= 1u << FND_CERT_EXPIRING;
	if (not_before > seen_s)
		f |= 1u << FND_CERT_NOT_YET_VALID;
	if (self_signed)
		f |= 1u << FND_CERT_SELF_SIGNED;
	if (strcmp(key_type, "RSA") == 0 && key_bits > 0 && key_bits < 2048)
		f |= 1u << FND_CERT_WEAK_KEY;
	if (strstr(sig_alg, "sha1") || strstr(sig_alg, "SHA1") || strstr(sig_alg, "md5"))
		f |= 1u << FND_CERT_SHA1;
	return f;
}

uint32_t findings_for(const struct flow_record *r, int64_t capture_end_us)
{
	uint32_t f = 0;
	if (server_id_mismatch(r))
		f |= 1u << FND_SERVER_ID_MISMATCH;
	if (r->overlap_conflict)
		f |= 1u << FND_OVERLAP_CONFLICT;
	/* the port mapper is cleartext by design, for secure lookups too */
	if (r->transport == TR_CLEARTEXT && r->cls != PC_SECURE && r->cls != PC_MAPPER)
		f |= 1u << FND_CLEARTEXT;
	if (r->mismatch)
		f |= 1u << FND_MISMATCH;
	/* tlsready's reading of the bytes (upgrade.h), or nDPI's own clear-text credentials risk */
	if (record_cred(r) || (r->dpi_ran && (r->dpi.risk >> dpi_risk_clear_credentials()) & 1))
		f |= 1u << FND_CLEAR_CREDENTIALS;
	if (r->up.result == UR_REFUSED)
		f |= 1u << FND_UPGRADE_REFUSED;
	if (rec_hs(r) && rec_hs(r)->outcome != HS_OUTCOME_NONE && rec_hs(r)->outcome != HS_OUTCOME_OK)
		f |= 1u << FND_SIGNON_FAILED;
	const struct tls_state *t = rec_tls(r);
	if (!t)
		return f;
	if (r->transport == TR_TLS_FAILED)
		f |= 1u << FND_HANDSHAKE_FAILED;
	if (t->server_hello && !t->hello_retry) {
		if (t->version >= 0x0300 && t->version < 0x0303)
			f |= 1u << FND_OBSOLETE_VERSION;
		if (tls_cipher_family(t->cipher) & WEAK_FAMILIES)
			f |= 1u << FND_WEAK_CIPHER;
	}
	if (t->cert_seen && t->chain_len > 0 && t->chain[0]->parsed) {
		const struct x509_info *x = t->chain[0];
		f |= cert_findings(x->not_before, x->not_after, x->self_signed, x->key_type, x->key_bits, x->sig_alg,
				   r->end_us / 1000000, capture_end_us / 1000000);
	}
	return f;
}

void offer_add(struct offer_summary *o, const struct flow_record *r)
{
	const struct tls_state *t = rec_tls(r);
	if (!t || !t->client_hello)
		return;
	bool legacy_only = t->n_ciphers > 0 && t->n_legacy_ciphers == t->n_ciphers;
	if (!o->tls) {
		o->only_legacy_ciphers = legacy_only;
	} else if (!legacy_only) {
		o->only_legacy_ciphers = false;
	}
	o->tls = true;
	if (t->client_max_version > o->max_version)
		o->max_version = t->client_max_version;
	o->families |= t->offered_families;
	if (t->server_hello && (tls_cipher_family(t->cipher) & (TLSF_RC4 | TLSF_3DES)))
		o->negotiated_legacy = true;
}

bool breaks_if_min_tls12(const struct offer_summary *o)
{
	return o->tls && o->max_version < 0x0303;
}

bool breaks_if_tls13_only(const struct offer_summary *o)
{
	return o->tls && o->max_version < 0x0304;
}

bool breaks_if_rc4_3des_removed(const struct offer_summary *o)
{
	return o->tls && o->only_legacy_ciphers;
}
