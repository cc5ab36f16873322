/*
 * x509.c - one X.509 certificate's report facts, parsed with OpenSSL 3.
 *
 * Data enters as the DER bytes of one certificate (tls.c hands over a
 * contiguous view of one entry of a TLS Certificate message); it leaves as a
 * struct x509_info of fixed-size strings and numbers.  Nothing keeps a
 * pointer into the input or into OpenSSL objects: every allocation OpenSSL
 * makes (once per certificate) is freed before returning, and OpenSSL's
 * per-thread error queue is cleared so hostile input leaves nothing behind.
 *
 * Strings are always NUL-terminated and printable ASCII: names are printed
 * in RFC 2253 form with non-ASCII and control bytes escaped by OpenSSL, and
 * subjectAltName DNS names have unprintable bytes replaced with '?'.  A
 * string that does not fit is cut and ends in "...".
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dissector.h"
#include "x509.h"

/* Public key algorithm (EVP_PKEY_get_base_id) to the short name we report. */
static const struct tok key_types[] = {
	{ EVP_PKEY_RSA, "RSA" },
	{ EVP_PKEY_RSA_PSS, "RSA-PSS" },
	{ EVP_PKEY_EC, "EC" },
	{ EVP_PKEY_DSA, "DSA" },
	{ EVP_PKEY_DH, "DH" },
	{ EVP_PKEY_ED25519, "Ed25519" },
	{ EVP_PKEY_ED448, "Ed448" },
	{ EVP_PKEY_X25519, "X25519" },
	{ EVP_PKEY_X448, "X448" },
	{ 0, NULL }
};

/* Mark a cut string: its last three characters become "...". */
static void mark_cut(char *dst, size_t cap)
{
	if (cap >= 4)
		memcpy(dst + cap - 4, "...", 4);
}

/* Append src to the NUL-terminated dst; false (and a "..." mark) when cut. */
static bool append(char *dst, size_t cap, const char *src)
{
	size_t used = strlen(dst), n = strlen(src);
	if (used + n + 1 > cap) {
		mark_cut(dst, cap);
		return false;
	}
	memcpy(dst + used, src, n + 1);
	return true;
}

static void name_line(char *dst, size_t cap, const X509_NAME *name)
{
	dst[0] = '\0';
	BIO *b = BIO_new(BIO_s_mem());
	if (!b || !name)
		goto out;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) < 0)
		goto out;
	int n = BIO_read(b, dst, (int)cap - 1);
	if (n < 0)
		n = 0;
	dst[n] = '\0';
	if (BIO_pending(b) > 0)
		mark_cut(dst, cap);
out:
	BIO_free(b);
}

/* Copy an IA5String, replacing anything unprintable (and ',') with '?'. */
static void printable_copy(char *dst, size_t cap, const ASN1_STRING *str)
{
	const unsigned char *d = ASN1_STRING_get0_data(str);
	int n = ASN1_STRING_length(str);
	size_t o = 0;
	for (int i = 0; d && i < n && o + 1 < cap; i++)
		dst[o++] = (d[i] > 0x20 && d[i] < 0x7f && d[i] != ',') ? (char)d[i] : '?';
	dst[o] = '\0';
}

static void san_list(struct x509_info *info, X509 *x)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int n = names ? sk_GENERAL_NAME_num(names) : 0;
	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		char one[260];
		one[0] = '\0';
		if (g->type == GEN_DNS) {
			printable_copy(one, sizeof one, g->d.dNSName);
		} else if (g->type == GEN_IPADD) {
			int len = ASN1_STRING_length(g->d.iPAddress);
			const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
			if (len == 4 || len == 16)
				inet_ntop(len == 4 ? AF_INET : AF_INET6, a, one, sizeof one);
		}
		if (!one[0])
			continue;
		if (info->san[0] && !append(info->san, sizeof info->san, ","))
			break;
		if (!append(info->san, sizeof info->san, one))
			break;
	}
	GENERAL_NAMES_free(names);
}

static void serial_hex(struct x509_info *info, X509 *x)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	if (hex) {
		size_t o = 0;
		for (const char *h = hex; *h && o + 1 < sizeof info->serial; h++)
			info->serial[o++] = (*h >= 'A' && *h <= 'F') ? (char)(*h - 'A' + 'a') : *h;
		info->serial[o] = '\0';
	}
	OPENSSL_free(hex);
	BN_free(bn);
}

static int64_t asn1_epoch(const ASN1_TIME *t)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static void key_facts(struct x509_info *info, X509 *x)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	if (!k)
		return;
	const char *name = tok_name(key_types, (uint32_t)EVP_PKEY_get_base_id(k));
	snprintf(info->key_type, sizeof info->key_type, "%s", name ? name : "other");
	info->key_bits = EVP_PKEY_get_bits(k);
	if (info->key_bits < 0)
		info->key_bits = 0;
}

static void sig_alg(struct x509_info *info, X509 *x)
{
	int nid = X509_get_signature_nid(x);
	const char *ln = nid != NID_undef ? OBJ_nid2ln(nid) : NULL;
	if (ln) {
		snprintf(info->sig_alg, sizeof info->sig_alg, "%s", ln);
		return;
	}
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *obj = NULL;
	X509_get0_signature(NULL, &alg, x);
	if (alg)
		X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (obj)
		OBJ_obj2txt(info->sig_alg, sizeof info->sig_alg, obj, 1);
}

static void sha256_hex(struct x509_info *info, const uint8_t *der, size_t len)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return;
	for (unsigned int i = 0; i < mdlen; i++) {
		info->sha256[2 * i] = hexd[md[i] >> 4];
		info->sha256[2 * i + 1] = hexd[md[i] & 15];
	}
	info->sha256[64] = '\0';
}

/* Issuer name equals subject name, and the certificate's own key verifies
 * its signature (a name match alone is not enough). */
static bool is_self_signed(X509 *x)
{
	if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) != 0)
		return false;
	EVP_PKEY *k = X509_get0_pubkey(x);
	return k && X509_verify(x, k) == 1;
}

static bool parse_uncached(struct x509_info *info, const uint8_t *der, size_t len)
{
	memset(info, 0, sizeof *info);
	if (!der || len == 0 || len > 0x7fffffff)
		return false;
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	if (!x) {
		ERR_clear_error();
		return false;
	}
	size_t used = (size_t)(p - der);   /* what d2i consumed: the certificate's own DER */
	info->parsed = true;
	name_line(info->subject, sizeof info->subject, X509_get_subject_name(x));
	name_line(info->issuer, sizeof info->issuer, X509_get_issuer_name(x));
	san_list(info, x);
	serial_hex(info, x);
	info->not_before = asn1_epoch(X509_get0_notBefore(x));
	info->not_after = asn1_epoch(X509_get0_notAfter(x));
	key_facts(info, x);
	sig_alg(info, x);
	sha256_hex(info, der, used);
	info->self_signed = is_self_signed(x);
	X509_free(x);
	ERR_clear_error();
	return true;
}

/*
 * A server sends the same chain to every client, and parsing (with its
 * signature check for self_signed) is the most expensive thing tlsready does
 * per flow: a small per-thread cache of recent certificates, keyed by the
 * exact DER bytes (compared in full, never by hash alone), replaced round
 * robin.  The same input always gives the same facts, cached or not.
 */
#define X509_CACHE_SLOTS 32
#define X509_CACHE_MAX_DER 16384

struct x509_cached {
	uint8_t *der;
	size_t len;
	uint64_t hash;
	struct x509_info info;
	bool ok;
};

static __thread struct x509_cached *cache;
static __thread unsigned cache_next;

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

void x509_cache_clear(void)
{
	if (!cache)
		return;
	for (int i = 0; i < X509_CACHE_SLOTS; i++)
		free(cache[i].der);
	free(cache);
	cache = NULL;
	cache_next = 0;
}

bool x509_parse(struct x509_info *info, const uint8_t *der, size_t len)
{
	if (!der || len == 0 || len > X509_CACHE_MAX_DER)
		return parse_uncached(info, der, len);
	if (!cache && !(cache = calloc(X509_CACHE_SLOTS, sizeof *cache)))
		return parse_uncached(info, der, len);
	uint64_t h = fnv1a(der, len);
	for (int i = 0; i < X509_CACHE_SLOTS; i++) {
		struct x509_cached *c = &cache[i];
		if (c->der && c->len == len && c->hash == h && memcmp(c->der, der, len) == 0) {
			*info = c->info;
			return c->ok;
		}
	}
	bool ok = parse_uncached(info, der, len);
	struct x509_cached *c = &cache[cache_next++ % X509_CACHE_SLOTS];
	uint8_t *copy = realloc(c->der, len);
	if (!copy)
		return ok;
	memcpy(copy, der, len);
	c->der = copy;
	c->len = len;
	c->hash = h;
	c->info = *info;
	c->ok = ok;
	return ok;
}
