/*
 * tls.c - TLS handshake dissector: the in-order bytes of each direction in,
 * the facts of struct tls_state out (what the client offered, what the
 * server chose, the certificate chain, alerts, completion, JA3/JA3S/JA4/JA4S).
 *
 * How data enters.  tls_consume(s, dir, buf, len) gets every byte of one
 * direction seen so far (dissector.h); s->off[dir] is the first byte not yet
 * taken.  Whole records are taken one at a time, only once all of their bytes
 * are in buf, so a record split over TCP segments is simply parsed on a later
 * call.  Every read of buf goes through analyzer/cursor.h.
 *
 * Handshake reassembly (the design choice).  Plaintext handshake records
 * carry a stream of handshake messages.  A message that lies inside one
 * record is parsed in place, without a copy.  A message that spans records
 * is not buffered in the state: the state only remembers where it started
 * (record offset hs_rec, offset in that record's payload hs_in, and bytes seen
 * so far hs_have).  Because buf always holds the whole direction, when the
 * record carrying its last byte arrives, the fragments are still there and
 * are gathered (skipping the 5-byte record headers in between) into one
 * per-thread scratch buffer of TLS_MAX_HS_MSG (64 KiB) bytes, parsed, and
 * forgotten.  So tls_state stays small (about 9 KiB, most of it the x509_info
 * chain), nothing is allocated per packet, and the scratch buffer is shared
 * by all flows of a thread.  A message longer than 64 KiB marks the direction
 * malformed and stops it.  A non-handshake record in the middle of a
 * fragmented message drops the incomplete message.
 *
 * What is parsed.  ClientHello (TLS, and the SSLv2-compatible form), the
 * ServerHello and HelloRetryRequest (including the pre-draft-22 TLS 1.3 form
 * without session id and compression), the server's Certificate message for
 * TLS <= 1.2 (each DER entry to x509_parse), alerts while they are plaintext,
 * and ChangeCipherSpec.  The record version is never used as the negotiated
 * version: that comes from the ServerHello (supported_versions for TLS 1.3).
 *
 * Completion.  TLS <= 1.2: each direction sent ChangeCipherSpec followed by
 * a handshake record (its encrypted Finished).  TLS 1.3: after the final
 * ServerHello each direction sent an application_data record (the server's
 * encrypted EncryptedExtensions, the client's encrypted Finished) of at
 * least TLS13_MIN_HS_RECORD bytes (server) or TLS13_MIN_FINISHED bytes
 * (client): a client that rejects the server answers with a 19-byte (35 from
 * Java) encrypted alert instead, and a client asked for a certificate sends
 * an empty Certificate (25 bytes) before its Finished; neither counts.
 * tls_done() is true after completion, after a fatal alert, or when both
 * directions are dead.
 *
 * Garbage: a record header that is not TLS sets dead[dir] (and malformed[dir]
 * unless it is the very first record); a handshake message that breaks its
 * own lengths sets malformed[dir], and facts read before the break are kept.
 */
#include <stddef.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "cursor.h"
#include "protocol.h"
#include "tls.h"

enum {
	CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23, CT_HEARTBEAT = 24,
};
enum { HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2, HS_CERTIFICATE = 11 };
enum {
	EXT_SNI = 0x0000, EXT_GROUPS = 0x000a, EXT_POINT_FORMATS = 0x000b, EXT_SIG_ALGS = 0x000d,
	EXT_ALPN = 0x0010, EXT_SUPPORTED_VERSIONS = 0x002b,
};

#define TLS_MAX_RECORD (16384 + 2048)      /* TLSCiphertext limit (RFC 5246 6.2.3) */
#define TLS_MAX_HS_MSG (64 * 1024)         /* a bigger handshake message is malformed */
#define FP_MAX 1024                        /* values per list kept for fingerprints */
/* Smallest TLS 1.3 encrypted record that can carry a handshake message: an
 * empty EncryptedExtensions (4 + 2) + type byte + 16-byte tag.  A lone
 * encrypted alert is 2 + 1 + 16 = 19 bytes and does not complete anything. */
#define TLS13_MIN_HS_RECORD 23
/* Smallest client Finished on the wire: 4 header + 32 (SHA-256) + type byte + 16-byte tag. */
#define TLS13_MIN_FINISHED 53

/* The per-thread scratch for handshake messages that span records. */
static _Thread_local uint8_t hs_join[TLS_MAX_HS_MSG];

/* SHA-256("HelloRetryRequest"), the ServerHello.random of a HRR (RFC 8446 4.1.3). */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static bool is_tls13_draft(uint16_t v);

/* ------------------------------------------------------------------ names */

static const struct tok version_names[] = {
	{ 0x0002, "SSLv2" },
	{ 0x0300, "SSLv3" },
	{ 0x0301, "TLSv1.0" },
	{ 0x0302, "TLSv1.1" },
	{ 0x0303, "TLSv1.2" },
	{ 0x0304, "TLSv1.3" },
	{ 0, NULL }
};

static const struct tok alert_names[] = {
	{ 0, "close_notify" },
	{ 10, "unexpected_message" },
	{ 20, "bad_record_mac" },
	{ 21, "decryption_failed" },
	{ 22, "record_overflow" },
	{ 30, "decompression_failure" },
	{ 40, "handshake_failure" },
	{ 41, "no_certificate" },
	{ 42, "bad_certificate" },
	{ 43, "unsupported_certificate" },
	{ 44, "certificate_revoked" },
	{ 45, "certificate_expired" },
	{ 46, "certificate_unknown" },
	{ 47, "illegal_parameter" },
	{ 48, "unknown_ca" },
	{ 49, "access_denied" },
	{ 50, "decode_error" },
	{ 51, "decrypt_error" },
	{ 60, "export_restriction" },
	{ 70, "protocol_version" },
	{ 71, "insufficient_security" },
	{ 80, "internal_error" },
	{ 86, "inappropriate_fallback" },
	{ 90, "user_canceled" },
	{ 100, "no_renegotiation" },
	{ 109, "missing_extension" },
	{ 110, "unsupported_extension" },
	{ 111, "certificate_unobtainable" },
	{ 112, "unrecognized_name" },
	{ 113, "bad_certificate_status_response" },
	{ 114, "bad_certificate_hash_value" },
	{ 115, "unknown_psk_identity" },
	{ 116, "certificate_required" },
	{ 120, "no_application_protocol" },
	{ 121, "ech_required" },
	{ 0, NULL }
};

/* JA4's two-character version codes. */
static const struct tok ja4_versions[] = {
	{ 0x0304, "13" }, { 0x0303, "12" }, { 0x0302, "11" }, { 0x0301, "10" },
	{ 0x0300, "s3" }, { 0x0002, "s2" },
	{ 0xfeff, "d1" }, { 0xfefd, "d2" }, { 0xfefc, "d3" },
	{ 0, NULL }
};

/* SSLv2 cipher kinds (3-byte specs with a non-zero first byte) and their
 * families; they count in offered_families, not in n_ciphers. */
static const struct {
	uint32_t spec;
	uint32_t family;
} sslv2_specs[] = {
	{ 0x010080, TLSF_RC4 },                     /* RC4_128_WITH_MD5 */
	{ 0x020080, TLSF_RC4 | TLSF_EXPORT },       /* RC4_128_EXPORT40_WITH_MD5 */
	{ 0x030080, TLSF_CBC },                     /* RC2_128_CBC_WITH_MD5 */
	{ 0x040080, TLSF_CBC | TLSF_EXPORT },       /* RC2_128_CBC_EXPORT40_WITH_MD5 */
	{ 0x050080, TLSF_CBC },                     /* IDEA_128_CBC_WITH_MD5 */
	{ 0x060040, TLSF_DES | TLSF_CBC },          /* DES_64_CBC_WITH_MD5 */
	{ 0x0700c0, TLSF_3DES | TLSF_CBC },         /* DES_192_EDE3_CBC_WITH_MD5 */
};

/* IETF drafts 0x7f00-0x7f1c by number; Facebook's 0xfbNN drafts, and any
 * other, as a plain draft: names the schema lists (docs/schema.md). */
static const char *const draft_names[] = {
	"TLSv1.3-draft-00",
	"TLSv1.3-draft-01",
	"TLSv1.3-draft-02",
	"TLSv1.3-draft-03",
	"TLSv1.3-draft-04",
	"TLSv1.3-draft-05",
	"TLSv1.3-draft-06",
	"TLSv1.3-draft-07",
	"TLSv1.3-draft-08",
	"TLSv1.3-draft-09",
	"TLSv1.3-draft-10",
	"TLSv1.3-draft-11",
	"TLSv1.3-draft-12",
	"TLSv1.3-draft-13",
	"TLSv1.3-draft-14",
	"TLSv1.3-draft-15",
	"TLSv1.3-draft-16",
	"TLSv1.3-draft-17",
	"TLSv1.3-draft-18",
	"TLSv1.3-draft-19",
	"TLSv1.3-draft-20",
	"TLSv1.3-draft-21",
	"TLSv1.3-draft-22",
	"TLSv1.3-draft-23",
	"TLSv1.3-draft-24",
	"TLSv1.3-draft-25",
	"TLSv1.3-draft-26",
	"TLSv1.3-draft-27",
	"TLSv1.3-draft-28",
};

const char *tls_version_name(uint16_t v)
{
	if ((v >> 8) == 0x7f && (v & 0xff) < sizeof draft_names / sizeof draft_names[0])
		return draft_names[v & 0xff];
	if (is_tls13_draft(v))
		return "TLSv1.3-draft";
	return tok_name(version_names, v);
}

const char *tls_alert_name(uint8_t desc)
{
	return tok_name(alert_names, desc);
}

/* ---------------------------------------------------------------- helpers */

static bool is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static bool is_scsv(uint16_t v)
{
	return v == 0x00ff || v == 0x5600;
}

/* TLS 1.3, an IETF draft of it (0x7fxx) or Facebook's experimental drafts (0xfbxx). */
static bool is_tls13_draft(uint16_t v)
{
	return (v >> 8) == 0x7f || (v >> 8) == 0xfb;
}

static bool is_tls13(uint16_t v)
{
	return v == 0x0304 || is_tls13_draft(v);
}

/* Order of protocol versions: drafts of 1.3 rank between 1.2 and 1.3;
 * anything else unknown ranks lowest. */
static uint32_t version_rank(uint16_t v)
{
	if ((v >> 8) == 0x03 || v == 0x0002)
		return (uint32_t)v << 8;
	if (is_tls13_draft(v))
		return (0x0303u << 8) | (v & 0xff);
	return 0;
}

/* The final ServerHello chose TLS 1.3 (or a draft). */
static bool negotiated_tls13(const struct tls_state *s)
{
	return s->server_hello && !s->hello_retry && is_tls13(s->version);
}

static void die(struct tls_state *s, int dir, bool malformed)
{
	s->dead[dir] = true;
	if (malformed)
		s->malformed[dir] = true;
	s->hs_have[dir] = 0;
}

/* Copy a name from the wire: printable ASCII kept, anything else '?'. */
static void copy_printable(char *dst, size_t cap, struct cursor *c, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = cur_u8(c);
		if (c->err)
			break;
		if (o + 1 < cap)
			dst[o++] = (b >= 0x20 && b < 0x7f) ? (char)b : '?';
	}
	dst[o] = '\0';
}

/* ------------------------------------------------------ fingerprint sinks */

/*
 * OpenSSL 3 looks an algorithm up (under a lock) on every EVP_DigestInit_ex
 * with EVP_md5()/EVP_sha256(); fetching MD5 and SHA-256 once and keeping
 * them for the life of the process takes that off the per-flow path.
 */
static EVP_MD *fetched_md5, *fetched_sha256;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_digests(void)
{
	fetched_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	fetched_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *md_md5(void)
{
	pthread_once(&fetch_once, fetch_digests);
	return fetched_md5 ? fetched_md5 : EVP_md5();
}

static const EVP_MD *md_sha256(void)
{
	pthread_once(&fetch_once, fetch_digests);
	return fetched_sha256 ? fetched_sha256 : EVP_sha256();
}

/* Text written to a digest. */
struct sink {
	EVP_MD_CTX *md;
};

static bool sink_open(struct sink *k, const EVP_MD *type)
{
	k->md = EVP_MD_CTX_new();
	if (k->md && EVP_DigestInit_ex(k->md, type, NULL))
		return true;
	EVP_MD_CTX_free(k->md);
	k->md = NULL;
	return false;
}

static void sink_putn(struct sink *k, const char *str, size_t n)
{
	EVP_DigestUpdate(k->md, str, n);
}

static void sink_put(struct sink *k, const char *str)
{
	sink_putn(k, str, strlen(str));
}

/* Finish: the first nhex lowercase hex digits of the digest into hex. */
static void sink_close(struct sink *k, char *hex, size_t nhex)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	bool ok = EVP_DigestFinal_ex(k->md, md, &mdlen);
	EVP_MD_CTX_free(k->md);
	k->md = NULL;
	size_t o = 0;
	for (unsigned int i = 0; ok && i < mdlen && o + 2 <= nhex; i++) {
		hex[o++] = hexd[md[i] >> 4];
		hex[o++] = hexd[md[i] & 15];
	}
	hex[o] = '\0';
}

/* "a-b-c" (decimal) or "aaaa,bbbb" (4-hex) of a list, formatted by hand
 * into a buffer and written in pieces of up to 512 bytes: one snprintf and
 * one digest update per element cost ~1,100 instructions. */
static void sink_list(struct sink *k, const uint16_t *v, size_t n, bool hex4)
{
	static const char hexd[] = "0123456789abcdef";
	char buf[512];
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (o > sizeof buf - 8) {   /* room for a separator and 5 digits */
			sink_putn(k, buf, o);
			o = 0;
		}
		unsigned x = v[i];
		if (i)
			buf[o++] = hex4 ? ',' : '-';
		if (hex4) {
			for (int sh = 12; sh >= 0; sh -= 4)
				buf[o++] = hexd[(x >> sh) & 15];
		} else {
			char d[5];
			int nd = 0;
			do {
				d[nd++] = (char)('0' + x % 10);
				x /= 10;
			} while (x);
			while (nd)
				buf[o++] = d[--nd];
		}
	}
	if (o)
		sink_putn(k, buf, o);
}

/* --------------------------------------------------------- ClientHello */

/* What one hello offered, in wire order, GREASE removed: fingerprint input. */
struct hello_fp {
	uint16_t ciphers[FP_MAX], exts[FP_MAX], groups[FP_MAX], sigalgs[FP_MAX];
	uint8_t formats[256];
	/* from here on zeroed by fp_clear(); the lists above are not */
	size_t n_ciphers, n_exts, n_groups, n_sigalgs, n_formats;
	bool overflow;          /* a list was longer than FP_MAX: no fingerprints */
	bool sni;
	bool have_sv;           /* supported_versions present */
	uint16_t max_sv;        /* its highest non-GREASE version, drafts below TLS 1.3 */
	uint16_t ja4_sv;        /* its numerically highest non-GREASE value: JA4's version (JA4.md) */
	char alpn_fp[3];        /* JA4's two ALPN characters */
};

/* A fresh hello_fp: the counts and flags zeroed, the 8 KiB of lists left
 * as they are (only their first n_* entries are ever read); zeroing it all
 * cost ~8,500 instructions per hello. */
static void fp_clear(struct hello_fp *fp)
{
	memset(&fp->n_ciphers, 0, sizeof *fp - offsetof(struct hello_fp, n_ciphers));
}

static void fp_add(uint16_t *list, size_t *n, uint16_t v, bool *overflow)
{
	if (*n < FP_MAX)
		list[(*n)++] = v;
	else
		*overflow = true;
}

/* JA4's ALPN characters from the first ALPN value (c positioned at it). */
static void ja4_alpn_chars(char out[3], struct cursor *val, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	memcpy(out, "00", 3);
	if (n == 0)
		return;
	uint8_t first = cur_peek_u8(val, 0), last = cur_peek_u8(val, n - 1);
	if (val->err)
		return;
#define ALNUM(b) (((b) >= '0' && (b) <= '9') || ((b) >= 'A' && (b) <= 'Z') || ((b) >= 'a' && (b) <= 'z'))
	if (ALNUM(first) && ALNUM(last)) {
		out[0] = (char)first;
		out[1] = (char)last;
	} else {
		out[0] = hexd[first >> 4];
		out[1] = hexd[last & 15];
	}
#undef ALNUM
}

static bool ext_sni(struct tls_state *s, struct cursor *e)
{
	struct cursor list = cur_sub(e, cur_be16(e));
	while (!list.err && cur_left(&list) > 0) {
		uint8_t type = cur_u8(&list);
		uint16_t n = cur_be16(&list);
		if (type == 0 && !s->sni[0]) {
			struct cursor name = cur_sub(&list, n);
			copy_printable(s->sni, sizeof s->sni, &name, n);
		} else {
			cur_skip(&list, n);
		}
	}
	return !e->err && !list.err;
}

/* ALPN: the first protocol name into s->alpn (unless the server's is known)
 * and JA4's characters from it. */
static bool ext_alpn(struct tls_state *s, struct cursor *e, char fp[3], bool server)
{
	struct cursor list = cur_sub(e, cur_be16(e));
	uint8_t n = cur_u8(&list);
	struct cursor first = cur_sub(&list, n);
	if (list.err || n == 0)
		return !e->err && !list.err && n;
	struct cursor peek = first;
	ja4_alpn_chars(fp, &peek, n);
	if (server || !s->alpn[0])
		copy_printable(s->alpn, sizeof s->alpn, &first, n);
	if (server && cur_left(&list) > 0)
		return false;   /* a server selects exactly one */
	while (!list.err && cur_left(&list) > 0)
		cur_skip(&list, cur_u8(&list));
	return !list.err;
}

static bool ext_u16_list(struct cursor *e, uint16_t *list, size_t *n, bool *overflow)
{
	uint16_t len = cur_be16(e);
	struct cursor l = cur_sub(e, len);
	if (len & 1)
		return false;
	while (!l.err && cur_left(&l) >= 2) {
		uint16_t v = cur_be16(&l);
		if (!is_grease(v))
			fp_add(list, n, v, overflow);
	}
	return !l.err && !e->err;
}

static bool ext_point_formats(struct cursor *e, struct hello_fp *fp)
{
	uint8_t len = cur_u8(e);
	struct cursor l = cur_sub(e, len);
	while (!l.err && cur_left(&l) > 0)
		fp->formats[fp->n_formats++] = cur_u8(&l);   /* at most 255 */
	return !l.err;
}

static bool ext_client_versions(struct cursor *e, struct hello_fp *fp)
{
	uint8_t len = cur_u8(e);
	struct cursor l = cur_sub(e, len);
	if (len & 1)
		return false;
	fp->have_sv = true;
	while (!l.err && cur_left(&l) >= 2) {
		uint16_t v = cur_be16(&l);
		if (!is_grease(v) && version_rank(v) > version_rank(fp->max_sv))
			fp->max_sv = v;
		if (!is_grease(v) && v > fp->ja4_sv)
			fp->ja4_sv = v;
	}
	return !l.err;
}

/* One ClientHello extension; false when its body broke its own lengths. */
static bool client_ext(struct tls_state *s, uint16_t type, struct cursor *e, struct hello_fp *fp)
{
	switch (type) {
	case EXT_SNI:
		fp->sni = true;
		return ext_sni(s, e);
	case EXT_ALPN:
		return ext_alpn(s, e, fp->alpn_fp, false);
	case EXT_GROUPS:
		return ext_u16_list(e, fp->groups, &fp->n_groups, &fp->overflow);
	case EXT_POINT_FORMATS:
		return ext_point_formats(e, fp);
	case EXT_SIG_ALGS:
		return ext_u16_list(e, fp->sigalgs, &fp->n_sigalgs, &fp->overflow);
	case EXT_SUPPORTED_VERSIONS:
		return ext_client_versions(e, fp);
	default:
		return true;
	}
}

static void ja3_client(struct tls_state *s, const struct hello_fp *fp)
{
	struct sink k;
	char num[16];
	if (!sink_open(&k, md_md5()))   /* the JA3 string is hashed, not kept */
		return;
	snprintf(num, sizeof num, "%u,", s->client_legacy_version);
	sink_put(&k, num);
	sink_list(&k, fp->ciphers, fp->n_ciphers, false);
	sink_put(&k, ",");
	sink_list(&k, fp->exts, fp->n_exts, false);
	sink_put(&k, ",");
	sink_list(&k, fp->groups, fp->n_groups, false);
	sink_put(&k, ",");
	for (size_t i = 0; i < fp->n_formats; i++) {
		snprintf(num, sizeof num, "%s%u", i ? "-" : "", fp->formats[i]);
		sink_put(&k, num);
	}
	sink_close(&k, s->ja3, 32);
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* First 12 hex digits of SHA-256 of a comma-joined 4-hex list (sorted if
 * asked, SNI/ALPN dropped if asked), then "_" and sigalgs when there are any. */
static void ja4_hash(char out[13], const uint16_t *v, size_t n, bool drop_sni_alpn,
		     const uint16_t *sig, size_t nsig)
{
	static _Thread_local uint16_t tmp[FP_MAX];
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!drop_sni_alpn || (v[i] != EXT_SNI && v[i] != EXT_ALPN))
			tmp[m++] = v[i];
	if (m == 0) {
		memcpy(out, "000000000000", 13);
		return;
	}
	qsort(tmp, m, sizeof tmp[0], cmp_u16);
	struct sink k;
	if (!sink_open(&k, md_sha256())) {
		out[0] = '\0';
		return;
	}
	sink_list(&k, tmp, m, true);
	if (nsig) {
		sink_put(&k, "_");
		sink_list(&k, sig, nsig, true);
	}
	sink_close(&k, out, 12);
}

static void ja4_client(struct tls_state *s, const struct hello_fp *fp)
{
	/* JA4.md: the highest value in supported_versions (GREASE ignored), else the hello's version;
	 * one JA4 does not name (a TLS 1.3 draft, a private code) is "00" */
	uint16_t v = fp->have_sv && fp->ja4_sv ? fp->ja4_sv : s->client_legacy_version;
	const char *vc = tok_name(ja4_versions, v);
	char b[13], c[13];
	ja4_hash(b, fp->ciphers, fp->n_ciphers, false, NULL, 0);
	ja4_hash(c, fp->exts, fp->n_exts, true, fp->sigalgs, fp->n_sigalgs);
	if (!b[0] || !c[0])
		return;
	snprintf(s->ja4, sizeof s->ja4, "t%s%c%02u%02u%s_%s_%s", vc ? vc : "00", fp->sni ? 'd' : 'i',
		 (unsigned)(fp->n_ciphers > 99 ? 99 : fp->n_ciphers),
		 (unsigned)(fp->n_exts > 99 ? 99 : fp->n_exts), fp->alpn_fp, b, c);
}

/*
 * A hello's extension block, for both ClientHello and ServerHello: opened
 * from the message cursor, then (type, body) pairs one at a time; every
 * non-GREASE type also goes into the fingerprint's extension list.  `bad`
 * ends true when the block broke its own lengths or did not end the message.
 */
struct ext_iter {
	struct cursor exts;
	bool bad;
};

static void ext_open(struct ext_iter *it, struct cursor *m)
{
	it->bad = false;
	if (cur_left(m) == 0) {
		it->exts = cur_make(NULL, 0);   /* no extensions at all: allowed */
		return;
	}
	it->exts = cur_sub(m, cur_be16(m));
	it->bad = m->err || cur_left(m) > 0;
}

static bool ext_next(struct ext_iter *it, struct hello_fp *fp, uint16_t *type, struct cursor *e)
{
	if (it->exts.err || cur_left(&it->exts) == 0) {
		it->bad |= it->exts.err;
		return false;
	}
	*type = cur_be16(&it->exts);
	*e = cur_sub(&it->exts, cur_be16(&it->exts));
	if (it->exts.err) {
		it->bad = true;
		return false;
	}
	if (!is_grease(*type))
		fp_add(fp->exts, &fp->n_exts, *type, &fp->overflow);
	return true;
}

/* The cipher suite list: counts, families, fingerprint list. */
static void client_ciphers(struct tls_state *s, struct cursor *cs, struct hello_fp *fp)
{
	const uint32_t legacy = TLSF_RC4 | TLSF_3DES | TLSF_DES | TLSF_NULL | TLSF_EXPORT | TLSF_ANON;
	while (!cs->err && cur_left(cs) >= 2) {
		uint16_t v = cur_be16(cs);
		if (is_grease(v))
			continue;
		fp_add(fp->ciphers, &fp->n_ciphers, v, &fp->overflow);
		if (is_scsv(v))
			continue;
		uint32_t f = tls_cipher_family(v);
		s->offered_families |= f;
		if (s->n_ciphers < UINT16_MAX)
			s->n_ciphers++;
		if ((f & legacy) && s->n_legacy_ciphers < UINT16_MAX)
			s->n_legacy_ciphers++;
	}
}

static void parse_client_hello(struct tls_state *s, struct cursor *m)
{
	struct hello_fp fp;
	fp_clear(&fp);
	memcpy(fp.alpn_fp, "00", 3);

	uint16_t legacy = cur_be16(m);
	cur_skip(m, 32);
	uint8_t sid = cur_u8(m);
	cur_skip(m, sid);
	uint16_t cs_len = cur_be16(m);
	struct cursor cs = cur_sub(m, cs_len);
	cur_skip(m, cur_u8(m));   /* compression methods */
	if (m->err || sid > 32 || (cs_len & 1)) {
		s->malformed[DIR_C2S] = true;
		return;
	}
	s->client_hello = true;
	s->client_legacy_version = legacy;
	s->client_max_version = legacy;
	client_ciphers(s, &cs, &fp);
	if (cs_len == 0)
		s->malformed[DIR_C2S] = true;   /* at least one suite is required; go on anyway */

	struct ext_iter it;
	uint16_t type;
	struct cursor e;
	ext_open(&it, m);
	while (ext_next(&it, &fp, &type, &e))
		if (!client_ext(s, type, &e, &fp))
			it.bad = true;
	if (it.bad)
		s->malformed[DIR_C2S] = true;
	if (fp.have_sv && fp.max_sv)
		s->client_max_version = fp.max_sv;
	if (!fp.overflow) {
		ja3_client(s, &fp);
		ja4_client(s, &fp);
	}
}

/* --------------------------------------------------------- ServerHello */

static void ja3s_ja4s(struct tls_state *s, const struct hello_fp *fp, uint16_t sv)
{
	struct sink k;
	char num[16];
	if (sink_open(&k, md_md5())) {
		snprintf(num, sizeof num, "%u,%u,", s->server_legacy_version, s->cipher);
		sink_put(&k, num);
		sink_list(&k, fp->exts, fp->n_exts, false);
		sink_close(&k, s->ja3s, 32);
	}
	const char *vc = tok_name(ja4_versions, sv ? sv : s->server_legacy_version);
	char c[13];
	memcpy(c, "000000000000", 13);
	if (fp->n_exts && sink_open(&k, md_sha256())) {
		sink_list(&k, fp->exts, fp->n_exts, true);
		sink_close(&k, c, 12);
	}
	snprintf(s->ja4s, sizeof s->ja4s, "t%s%02u%s_%04x_%s", vc ? vc : "00",
		 (unsigned)(fp->n_exts > 99 ? 99 : fp->n_exts), fp->alpn_fp, s->cipher, c);
}

static void parse_server_hello(struct tls_state *s, struct cursor *m)
{
	struct hello_fp fp;
	fp_clear(&fp);
	memcpy(fp.alpn_fp, "00", 3);

	uint16_t legacy = cur_be16(m);
	uint8_t random[32];
	cur_copy(m, random, sizeof random);
	bool draft = (legacy >> 8) == 0x7f;   /* before draft 22: no session id, no compression */
	if (!draft)
		cur_skip(m, cur_u8(m));
	uint16_t cipher = cur_be16(m);
	if (!draft)
		cur_skip(m, 1);
	if (m->err) {
		s->malformed[DIR_S2C] = true;
		return;
	}
	uint16_t selected = 0;
	char alpn_save[sizeof s->alpn];
	memcpy(alpn_save, s->alpn, sizeof alpn_save);
	struct ext_iter it;
	uint16_t type;
	struct cursor e;
	ext_open(&it, m);
	while (ext_next(&it, &fp, &type, &e)) {
		if (type == EXT_SUPPORTED_VERSIONS)
			selected = cur_be16(&e);
		else if (type == EXT_ALPN && !ext_alpn(s, &e, fp.alpn_fp, true))
			it.bad = true;
		it.bad |= e.err;
	}
	if (it.bad)
		s->malformed[DIR_S2C] = true;

	s->server_hello = true;
	s->cipher = cipher;
	s->chosen_family = tls_cipher_family(cipher);
	if (memcmp(random, hrr_random, sizeof random) == 0) {
		/* a HelloRetryRequest: not the final ServerHello, no version yet */
		s->hello_retry = true;
		s->hrr_seen = true;
		memcpy(s->alpn, alpn_save, sizeof s->alpn);
		return;
	}
	s->hello_retry = false;
	s->server_legacy_version = legacy;
	s->version = selected ? selected : legacy;
	if (!fp.overflow)
		ja3s_ja4s(s, &fp, selected);
}

/* --------------------------------------------------------- Certificate */

static void parse_certificate(struct tls_state *s, struct cursor *m)
{
	struct cursor list = cur_sub(m, cur_be24(m));
	if (m->err) {
		s->malformed[DIR_S2C] = true;
		return;
	}
	s->cert_seen = true;
	while (!list.err && cur_left(&list) > 0) {
		uint32_t n = cur_be24(&list);
		const uint8_t *der = cur_view(&list, n);
		if (!der)
			break;
		if (s->chain_len < TLS_MAX_CHAIN) {
			const struct x509_info **c = realloc(s->chain, (s->chain_len + 1u) * sizeof *c);
			const struct x509_info *x = c ? x509_share(der, n) : NULL;
			if (c)
				s->chain = c;
			if (x)   /* out of memory: the certificate is counted, not kept */
				s->chain[s->chain_len++] = x;
		}
		if (s->chain_total < UINT16_MAX)
			s->chain_total++;
	}
	if (list.err || cur_left(m) > 0)
		s->malformed[DIR_S2C] = true;
}

/* One complete handshake message, header included. */
static void handshake_message(struct tls_state *s, int dir, struct cursor *m)
{
	uint8_t type = cur_u8(m);
	struct cursor body = cur_sub(m, cur_be24(m));
	if (m->err)
		return;
	if (type == HS_CLIENT_HELLO && dir == DIR_C2S && !s->client_hello)
		parse_client_hello(s, &body);
	else if (type == HS_SERVER_HELLO && dir == DIR_S2C && (!s->server_hello || s->hello_retry))
		parse_server_hello(s, &body);
	else if (type == HS_CERTIFICATE && dir == DIR_S2C && !s->cert_seen && !negotiated_tls13(s))
		parse_certificate(s, &body);
}

/* ------------------------------------------------- handshake reassembly */

/* Copy `total` bytes of the pending handshake message into dst, walking the
 * records from the one where it started.  False if the records there are
 * not what they were when they were taken (they always are). */
static bool hs_gather(const struct tls_state *s, int dir, const uint8_t *buf, size_t len,
		      size_t total, uint8_t *dst)
{
	struct cursor c = cur_make(buf, len);
	size_t got = 0, skip = s->hs_in[dir];
	cur_skip(&c, s->hs_rec[dir]);
	while (!c.err && got < total) {
		uint8_t type = cur_u8(&c);
		cur_skip(&c, 2);
		struct cursor p = cur_sub(&c, cur_be16(&c));
		cur_skip(&p, skip);
		skip = 0;
		size_t n = cur_left(&p) < total - got ? cur_left(&p) : total - got;
		if (c.err || p.err || type != CT_HANDSHAKE)
			return false;
		cur_copy(&p, dst + got, n);
		got += n;
	}
	return !c.err && got == total;
}

/* Length (header included) of the pending message, once 4 bytes are known. */
static size_t hs_pending_len(const struct tls_state *s, int dir, const uint8_t *buf, size_t len)
{
	if (!hs_gather(s, dir, buf, len, 4, hs_join))
		return 0;
	struct cursor h = cur_make(hs_join, 4);
	cur_skip(&h, 1);
	return 4 + (size_t)cur_be24(&h);
}

/*
 * The payload of one plaintext handshake record at buf offset rec.  Finishes
 * a pending message first, then parses whole messages in place and leaves
 * any tail pending.
 */
static void handshake_record(struct tls_state *s, int dir, struct cursor *p,
			     const uint8_t *buf, size_t len, size_t rec)
{
	if (s->hs_have[dir] > 0) {
		size_t have = s->hs_have[dir] + cur_left(p);
		size_t need = have >= 4 ? hs_pending_len(s, dir, buf, len) : 0;
		if (have >= 4 && (need < 4 || need > TLS_MAX_HS_MSG)) {
			if (need > TLS_MAX_HS_MSG && dir == DIR_S2C && hs_join[0] == HS_CERTIFICATE)   /* the type hs_pending_len gathered */
				s->cert_over_cap = true;
			die(s, dir, true);
			return;
		}
		if (have < 4 || have < need) {
			s->hs_have[dir] = (uint32_t)have;
			return;
		}
		if (!hs_gather(s, dir, buf, len, need, hs_join)) {
			die(s, dir, true);
			return;
		}
		cur_skip(p, need - s->hs_have[dir]);
		s->hs_have[dir] = 0;
		struct cursor m = cur_make(hs_join, need);
		handshake_message(s, dir, &m);
	}
	while (!s->dead[dir] && cur_left(p) > 0) {
		size_t left = cur_left(p);
		size_t need = left >= 4 ? 4 + (size_t)(cur_peek_be32(p, 0) & 0xffffff) : 0;
		if (need > TLS_MAX_HS_MSG) {
			if (dir == DIR_S2C && cur_peek_u8(p, 0) == HS_CERTIFICATE)
				s->cert_over_cap = true;   /* a fact: reported as cut, not as garbage */
			die(s, dir, true);
			return;
		}
		if (left < 4 || left < need) {
			s->hs_rec[dir] = rec;
			s->hs_in[dir] = (uint16_t)p->off;   /* p covers exactly the payload */
			s->hs_have[dir] = (uint32_t)left;
			return;
		}
		struct cursor m = cur_sub(p, need);
		handshake_message(s, dir, &m);
	}
}

/* --------------------------------------------------------- other records */

static void alert_record(struct tls_state *s, int dir, struct cursor *p)
{
	size_t n = cur_left(p);
	/* after CCS (TLS <= 1.2) alerts are encrypted; a plaintext one is 2 bytes per alert */
	if (n == 0 || (n & 1) || (s->ccs[dir] && !negotiated_tls13(s) && n != 2))
		return;
	while (cur_left(p) >= 2) {
		uint8_t level = cur_u8(p), desc = cur_u8(p);
		if (level != 1 && level != 2)
			return;
		if (s->alert && s->alert_level == 2 && level != 2)
			continue;   /* keep the fatal one */
		s->alert = true;
		s->alert_level = level;
		s->alert_desc = desc;
		s->alert_dir = (int8_t)dir;
	}
}

static void check_completed(struct tls_state *s)
{
	if (negotiated_tls13(s))
		s->completed = s->tls13_app[0] && s->tls13_app[1];
	else
		s->completed = s->finished[0] && s->finished[1];
}

/* One whole record: type and payload. */
static void record(struct tls_state *s, int dir, uint8_t type, struct cursor *p,
		   const uint8_t *buf, size_t len, size_t rec)
{
	if (type != CT_HANDSHAKE)
		s->hs_have[dir] = 0;   /* a fragmented message may not be interleaved */
	bool encrypted_hs = s->ccs[dir] && !s->hrr_seen && !negotiated_tls13(s);
	switch (type) {
	case CT_CCS:
		s->ccs[dir] = true;
		break;
	case CT_ALERT:
		alert_record(s, dir, p);
		break;
	case CT_HANDSHAKE:
		if (encrypted_hs)
			s->finished[dir] = true;
		else
			handshake_record(s, dir, p, buf, len, rec);
		break;
	case CT_APPDATA:
		s->appdata[dir] = true;
		if (s->appdata_records[dir]++ == 0)
			s->first_appdata_len[dir] = (uint16_t)cur_left(p);
		if (negotiated_tls13(s) && cur_left(p) >= (dir == DIR_C2S ? TLS13_MIN_FINISHED : TLS13_MIN_HS_RECORD))
			s->tls13_app[dir] = true;
		break;
	default:
		break;
	}
	if (!s->completed)
		check_completed(s);
}

/* ------------------------------------------------- SSLv2 ClientHello */

/* An SSLv2-format ClientHello header: 2-byte length with the top bit set,
 * message type 1, version SSLv2 or SSLv3/TLS. */
static bool sslv2_hello_header(struct cursor *c)
{
	uint8_t b0 = cur_peek_u8(c, 0), type = cur_peek_u8(c, 2);
	uint16_t ver = cur_peek_be16(c, 3);
	return !c->err && (b0 & 0x80) && type == HS_CLIENT_HELLO &&
	       (ver == 0x0002 || (ver >= 0x0300 && ver <= 0x0303));
}

static uint32_t sslv2_spec_family(uint32_t spec)
{
	for (size_t i = 0; i < sizeof sslv2_specs / sizeof sslv2_specs[0]; i++)
		if (sslv2_specs[i].spec == spec)
			return sslv2_specs[i].family;
	return 0;
}

/* Returns bytes taken (0: need more). */
static size_t sslv2_client_hello(struct tls_state *s, const uint8_t *buf, size_t len)
{
	struct cursor c = cur_make(buf, len);
	size_t rlen = cur_be16(&c) & 0x7fff;
	if (!cur_has(&c, rlen))
		return 0;
	struct cursor m = cur_sub(&c, rlen);
	cur_skip(&m, 1);
	uint16_t ver = cur_be16(&m);
	uint16_t cs_len = cur_be16(&m), sid_len = cur_be16(&m), chal_len = cur_be16(&m);
	struct cursor cs = cur_sub(&m, cs_len);
	cur_skip(&m, (size_t)sid_len + chal_len);
	if (m.err || cs_len % 3 || cs_len == 0) {
		die(s, DIR_C2S, true);
		return 0;
	}
	s->client_hello = s->sslv2_hello = true;
	s->client_legacy_version = s->client_max_version = ver;
	const uint32_t legacy = TLSF_RC4 | TLSF_3DES | TLSF_DES | TLSF_NULL | TLSF_EXPORT | TLSF_ANON;
	while (cur_left(&cs) >= 3) {
		uint8_t kind = cur_u8(&cs);
		uint16_t v = cur_be16(&cs);
		if (kind != 0) {
			s->offered_families |= sslv2_spec_family((uint32_t)kind << 16 | v);
			continue;
		}
		if (is_grease(v) || is_scsv(v))
			continue;
		uint32_t f = tls_cipher_family(v);
		s->offered_families |= f;
		s->n_ciphers++;
		if (f & legacy)
			s->n_legacy_ciphers++;
	}
	return 2 + rlen;
}

/* ------------------------------------------------------------ interface */

/* A TLS record header this dissector accepts. */
static bool record_header_ok(uint8_t type, uint16_t ver, uint16_t rlen)
{
	return type >= CT_CCS && type <= CT_HEARTBEAT && ver >= 0x0300 && ver <= 0x0304 &&
	       rlen <= TLS_MAX_RECORD && (rlen > 0 || type == CT_APPDATA);
}

enum probe tls_probe(const uint8_t *buf, size_t len, int dir)
{
	(void)dir;   /* a lone ServerHello (one-sided capture) is accepted either way */
	struct cursor c = cur_make(buf, len);
	if (!cur_has(&c, 1))
		return PROBE_MAYBE;
	uint8_t b0 = cur_peek_u8(&c, 0);
	if (b0 == CT_HANDSHAKE) {
		if (cur_has(&c, 2) && cur_peek_u8(&c, 1) != 3)
			return PROBE_NO;
		if (cur_has(&c, 3) && cur_peek_u8(&c, 2) > 4)
			return PROBE_NO;
		if (cur_has(&c, 5)) {
			uint16_t rlen = cur_peek_be16(&c, 3);
			if (rlen < 4 || rlen > TLS_MAX_RECORD)
				return PROBE_NO;
		}
		if (!cur_has(&c, 6))
			return PROBE_MAYBE;
		uint8_t hs = cur_peek_u8(&c, 5);
		return hs == HS_CLIENT_HELLO || hs == HS_SERVER_HELLO ? PROBE_YES : PROBE_NO;
	}
	if (b0 & 0x80) {
		if (!cur_has(&c, 5))
			return PROBE_MAYBE;
		return sslv2_hello_header(&c) && (cur_peek_be16(&c, 0) & 0x7fff) >= 9 ? PROBE_YES : PROBE_NO;
	}
	return PROBE_NO;
}

void tls_consume(struct tls_state *s, int dir, const uint8_t *buf, size_t len)
{
	if (!s || !buf || (dir != DIR_C2S && dir != DIR_S2C) || s->dead[dir] || len < s->off[dir])
		return;
	if (s->off[dir] == 0 && dir == DIR_C2S) {
		struct cursor c = cur_make(buf, len);
		if (!cur_has(&c, 5))
			return;
		if (sslv2_hello_header(&c)) {
			s->off[dir] = sslv2_client_hello(s, buf, len);
			if (s->off[dir] == 0)
				return;   /* wait for the rest (or dead) */
			/* TLS records may follow */
		}
	}
	while (!s->dead[dir] && !tls_done(s)) {
		struct cursor c = cur_make(buf, len);
		size_t rec = s->off[dir];
		cur_skip(&c, rec);
		uint8_t type = cur_peek_u8(&c, 0);
		uint16_t ver = cur_peek_be16(&c, 1), rlen = cur_peek_be16(&c, 3);
		if (c.err)
			return;   /* header not all here yet */
		if (!record_header_ok(type, ver, rlen)) {
			die(s, dir, s->records[dir] > 0 || s->sslv2_hello);
			return;
		}
		if (!cur_has(&c, 5 + (size_t)rlen))
			return;   /* record not all here yet */
		cur_skip(&c, 5);
		struct cursor p = cur_sub(&c, rlen);
		s->records[dir]++;
		s->off[dir] = rec + 5 + rlen;
		record(s, dir, type, &p, buf, len, rec);
	}
}

bool tls_done(const struct tls_state *s)
{
	return s->completed || (s->alert && s->alert_level == 2) || (s->dead[0] && s->dead[1]);
}

/* ---- registration (protocol.h) ---- */

static bool tls_expected(const char *service, int cls)
{
	(void)service;
	return cls == PROTO_PC_SECURE;
}

static void *tls_create(void)
{
	struct tls_state *s = calloc(1, sizeof *s);
	if (s)
		s->alert_dir = -1;
	return s;
}

void tls_state_release(struct tls_state *s)
{
	for (int i = 0; i < s->chain_len; i++)
		x509_unshare(s->chain[i]);
	free(s->chain);
	s->chain = NULL;
	s->chain_len = 0;
}

static void tls_destroy(void *s)
{
	if (s)
		tls_state_release(s);
	free(s);
}

static void tls_consume_any(void *s, int dir, const uint8_t *buf, size_t len) { tls_consume(s, dir, buf, len); }
static bool tls_done_any(const void *s) { return tls_done(s); }

/* TLS is the transport, not an IBM i protocol: it proves no IBM i, and its facts are the
 * flow's "tls" object (version, cipher, certificates, fingerprints), which the writers print. */
const struct protocol protocol_tls = {
	.name = "tls", .expected = tls_expected, .probe = tls_probe, .create = tls_create,
	.state_size = sizeof(struct tls_state),
	.destroy = tls_destroy, .consume = tls_consume_any, .done = tls_done_any,
};
