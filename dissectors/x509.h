/*
 * x509.h - one certificate's facts, parsed from DER with OpenSSL.
 *
 * Input: the DER bytes of one certificate (from the TLS Certificate message).
 * Output: a fixed-size struct of the facts a report needs.  Nothing here
 * keeps a pointer into the input.
 */
#ifndef TLSREADY_X509_H
#define TLSREADY_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct x509_info {
	bool parsed;              /* OpenSSL accepted the DER */
	char subject[256];        /* RFC 2253-ish one-line form */
	char issuer[256];
	char san[512];            /* DNS and IP subjectAltNames, comma-separated */
	char serial[80];          /* hex */
	int64_t not_before;       /* epoch seconds (UTC) */
	int64_t not_after;
	char key_type[8];         /* "RSA", "EC", "DSA", "Ed25519", ... */
	int key_bits;
	char sig_alg[48];         /* e.g. "sha256WithRSAEncryption" */
	char sha256[65];          /* hex fingerprint of the DER */
	bool self_signed;         /* issuer == subject and its own key verifies it */
};

/* Parse one DER certificate; false (and info->parsed = false) if it is not one. */
bool x509_parse(struct x509_info *info, const uint8_t *der, size_t len);

/* The facts of these DER bytes, parsed once and shared by every caller that passes the same bytes
 * (x509_shared.c; thread-safe); NULL when out of memory.  Each x509_share() is ended by one
 * x509_unshare(), which frees the facts when no caller holds them any more. */
const struct x509_info *x509_share(const uint8_t *der, size_t len);
void x509_unshare(const struct x509_info *info);

/* Free this thread's cache of recently parsed certificates. */
void x509_cache_clear(void);

#endif
