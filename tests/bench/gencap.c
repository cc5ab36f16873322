/*
 * tests/bench/gencap.c - the benchmark's deterministic generator of a large,
 * realistic capture (see tests/bench/run.sh, which builds it with gcc -O2).
 *
 * In:  command-line parameters only - no input files, no network:
 *        gencap --out FILE [--size BYTES] [--clients N] [--ibmi-share F] [--seed S]
 *        gencap --out FILE --flood N [--flood-synack] [--flood-full K [--flood-clients C]] [--seed S]
 *      BYTES takes a K/M/G suffix (powers of 1024).
 * Out: a classic pcap (Ethernet, microsecond timestamps) at FILE, written
 *      through one large buffer with fwrite; on standard output a summary of
 *      what was generated ("key value" lines, then one "port" line per
 *      server port) so a run can be checked against tlsready's counts.
 *
 * Normal mode keeps SLOTS TCP/UDP sessions open at once and emits one packet
 * of a randomly chosen session per step, so flows interleave (fewer slots
 * below 32 MiB: one per 64 KiB of --size).  Sessions:
 * background HTTPS (TLS 1.2 and 1.3 handshakes with real record and
 * handshake lengths and real DER certificates, then application_data
 * records), HTTP, DNS over UDP; IBM i port-mapper lookups on 449 (followed by
 * the connection they looked up), host-server datastreams in clear on
 * 8470-8476 and in TLS on 9470-9476/9480, telnet 5250 on 23 and TLS on 992,
 * DDM/DRDA on 446 and TLS on 448.  Every TCP session has a three-way
 * handshake, delayed ACKs and a FIN (or RST) close; 1 % of nonsecure IBM i
 * attempts are refused (RST).  --ibmi-share is the fraction of TCP
 * connections that are IBM i; DNS queries come on top.  When the output
 * reaches --size no new session starts and the open ones finish.
 *
 * Addresses come from documentation ranges only: clients 198.51.100.1-250,
 * 192.0.2.100-249 and 2001:db8:c::/48; IBM i 192.0.2.10 and 2001:db8::10;
 * web and DNS servers 203.0.113.0/24 and 2001:db8:ffff::/48.
 *
 * Flood mode writes N SYNs (with --flood-synack also the SYN-ACK), each a new
 * 4-tuple from 2001:db8:c:f000::/52 to 8476 or 9476 on 2001:db8::10, 1 us
 * apart, for tlsready's --max-flows bound; with --flood-full K every K-th is
 * a full exchange (handshake, a 40-byte host-server request and reply,
 * closed), from C clients in 2001:db8:c:e000::/64 with --flood-clients C
 * (what a flood mixed with real work looks like: a record per exchange).
 *
 * Deterministic: same parameters and seed give a byte-identical file (own
 * splitmix64 PRNG, fixed start time 2026-01-05T09:00:00Z).  No allocation
 * per packet: sessions live in a static array, frames are built in place
 * in the output buffer.  IPv4, TCP and UDP checksums are correct.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ PRNG */

static uint64_t rng_state;

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rnd64(void)
{
	return mix64(rng_state += 0x9e3779b97f4a7c15ULL);
}

/* uniform in [0, n) */
static inline uint32_t rnd(uint32_t n)
{
	return (uint32_t)(((rnd64() >> 32) * (uint64_t)n) >> 32);
}

static inline uint32_t rrange(uint32_t lo, uint32_t hi)
{
	return lo + rnd(hi - lo + 1);
}

/* geometric-ish count: 1 + number of successes with probability p/100, capped */
static uint32_t rgeom(uint32_t pct, uint32_t cap)
{
	uint32_t n = 1;
	while (n < cap && rnd(100) < pct)
		n++;
	return n;
}

static uint64_t g_seed;

/* ------------------------------------------------------------------ output */

#define OBUF_SIZE (8u << 20)
#define FRAME_MAX 70000u
static uint8_t obuf[OBUF_SIZE];
static size_t olen;
static FILE *outf;
static const char *out_path;
static uint64_t out_bytes, out_pkts, wire_bytes, tcp_pkts;
static uint64_t now_us = 1767603600ULL * 1000000ULL; /* 2026-01-05T09:00:00Z */
static uint32_t gap_us = 30;

static void oflush(void)
{
	if (olen && fwrite(obuf, 1, olen, outf) != olen) {
		fprintf(stderr, "gencap: %s: %s\n", out_path, strerror(errno));
		exit(1);
	}
	olen = 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static void put_be16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put_be24(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 16); p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)v; }
static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Room for one frame after its 16-byte record header; returns the frame. */
static uint8_t *pkt_begin(void)
{
	if (olen + 16 + FRAME_MAX > OBUF_SIZE)
		oflush();
	return obuf + olen + 16;
}

static void pkt_end(uint32_t len)
{
	uint8_t *h = obuf + olen;
	now_us += 1 + rnd(2 * gap_us);
	put_le32(h, (uint32_t)(now_us / 1000000));
	put_le32(h + 4, (uint32_t)(now_us % 1000000));
	put_le32(h + 8, len);
	put_le32(h + 12, len);
	olen += 16 + len;
	out_bytes += 16 + len;
	wire_bytes += len;
	out_pkts++;
}

static void write_global_header(void)
{
	uint8_t h[24];
	put_le32(h, 0xa1b2c3d4);
	h[4] = 2; h[5] = 0; h[6] = 4; h[7] = 0;     /* version 2.4, little-endian fields */
	put_le32(h + 8, 0);                         /* thiszone */
	put_le32(h + 12, 0);                        /* sigfigs */
	put_le32(h + 16, 262144);                   /* snaplen */
	put_le32(h + 20, 1);                        /* LINKTYPE_ETHERNET */
	memcpy(obuf, h, sizeof h);
	olen = sizeof h;
	out_bytes = sizeof h;
}

/* ------------------------------------------------------------------ checksum */

/* One's-complement sum over native 16-bit words (byte-order independent). */
static uint64_t csum_add(uint64_t acc, const uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint32_t a, b;
		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		acc += (uint64_t)a + b;
		p += 8;
		n -= 8;
	}
	while (n >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		n -= 2;
	}
	if (n) {
		uint8_t last[2] = { p[0], 0 };
		uint16_t w;
		memcpy(&w, last, 2);
		acc += w;
	}
	return acc;
}

static uint16_t csum_fold(uint64_t acc)
{
	for (int i = 0; i < 4 && (acc >> 16); i++)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* ------------------------------------------------------------------ byte writer */

struct wr { uint8_t *b; size_t n, cap; };

static void wcheck(struct wr *w, size_t add)
{
	if (w->n + add > w->cap) {
		fprintf(stderr, "gencap: internal error: message buffer too small\n");
		exit(3);
	}
}
static void w8(struct wr *w, uint32_t v) { wcheck(w, 1); w->b[w->n++] = (uint8_t)v; }
static void w16(struct wr *w, uint32_t v) { wcheck(w, 2); put_be16(w->b + w->n, v); w->n += 2; }
static void w24(struct wr *w, uint32_t v) { wcheck(w, 3); put_be24(w->b + w->n, v); w->n += 3; }
static void w32(struct wr *w, uint32_t v) { wcheck(w, 4); put_be32(w->b + w->n, v); w->n += 4; }
static void wmem(struct wr *w, const void *p, size_t n) { wcheck(w, n); memcpy(w->b + w->n, p, n); w->n += n; }
static void wstr(struct wr *w, const char *s) { wmem(w, s, strlen(s)); }
static void wrand(struct wr *w, size_t n)
{
	wcheck(w, n);
	for (size_t i = 0; i < n; i++)
		w->b[w->n++] = (uint8_t)rnd64();
}
/* reserve a length field of `bytes` bytes; wlen_end() fills it with what follows */
static size_t wlen_begin(struct wr *w, int bytes)
{
	size_t at = w->n;
	wcheck(w, (size_t)bytes);
	memset(w->b + w->n, 0, (size_t)bytes);
	w->n += (size_t)bytes;
	return at;
}
static void wlen_end(struct wr *w, size_t at, int bytes)
{
	size_t v = w->n - at - (size_t)bytes;
	if (bytes == 2) put_be16(w->b + at, (uint32_t)v);
	else if (bytes == 3) put_be24(w->b + at, (uint32_t)v);
	else put_be32(w->b + at, (uint32_t)v);
}

static uint8_t ebcdic(char c)
{
	if (c >= 'A' && c <= 'I') return (uint8_t)(0xC1 + (c - 'A'));
	if (c >= 'J' && c <= 'R') return (uint8_t)(0xD1 + (c - 'J'));
	if (c >= 'S' && c <= 'Z') return (uint8_t)(0xE2 + (c - 'S'));
	if (c >= 'a' && c <= 'i') return (uint8_t)(0x81 + (c - 'a'));
	if (c >= 'j' && c <= 'r') return (uint8_t)(0x91 + (c - 'j'));
	if (c >= 's' && c <= 'z') return (uint8_t)(0xA2 + (c - 's'));
	if (c >= '0' && c <= '9') return (uint8_t)(0xF0 + (c - '0'));
	switch (c) {
	case '.': return 0x4B;
	case '-': return 0x60;
	case '/': return 0x61;
	case '_': return 0x6D;
	case '#': return 0x7B;
	case '@': return 0x7C;
	case '$': return 0x5B;
	default: return 0x40;
	}
}

/* EBCDIC text, padded with 0x40 to `pad` bytes when pad > strlen */
static void webc(struct wr *w, const char *s, size_t pad)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		w8(w, ebcdic(s[i]));
	for (size_t i = n; i < pad; i++)
		w8(w, 0x40);
}

/* ------------------------------------------------------------------ filler pools */

#define POOL_SIZE (1u << 20)
static uint8_t pool_bin[POOL_SIZE + FRAME_MAX];  /* random bytes */
static uint8_t pool_ebc[POOL_SIZE + FRAME_MAX];  /* EBCDIC-like text, never 0xFF */

static void pools_init(void)
{
	for (size_t i = 0; i < sizeof pool_bin; i += 8) {
		uint64_t v = rnd64();
		memcpy(pool_bin + i, &v, 8);
	}
	static const char txt[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789 ./-";
	for (size_t i = 0; i < sizeof pool_ebc; i++)
		pool_ebc[i] = ebcdic(txt[rnd(sizeof txt - 1)]);
}

/* ------------------------------------------------------------------ certificates */
/* Three real DER certificates (EC P-256) made once with openssl for this file:
 * "Example Corp Issuing CA", leaf ibmi.example.net, leaf www.example.com. */
static const uint8_t cert_ca[442] = {
	0x30,0x82,0x01,0xb6,0x30,0x82,0x01,0x5b,0xa0,0x03,0x02,0x01,0x02,0x02,0x02,0x10,
	0x00,0x30,0x0a,0x06,0x08,0x2a,0x86,0x48,0xce,0x3d,0x04,0x03,0x02,0x30,0x39,0x31,
	0x15,0x30,0x13,0x06,0x03,0x55,0x04,0x0a,0x0c,0x0c,0x45,0x78,0x61,0x6d,0x70,0x6c,
	0x65,0x20,0x43,0x6f,0x72,0x70,0x31,0x20,0x30,0x1e,0x06,0x03,0x55,0x04,0x03,0x0c,
	0x17,0x45,0x78,0x61,0x6d,0x70,0x6c,0x65,0x20,0x43,0x6f,0x72,0x70,0x20,0x49,0x73,
	0x73,0x75,0x69,0x6e,0x67,0x20,0x43,0x41,0x30,0x1e,0x17,0x0d,0x32,0x36,0x31,0x31,
	0x32,0x33,0x32,0x30,0x32,0x34,0x32,0x36,0x5a,0x17,0x0d,0x33,0x36,0x31,0x31,0x32,
	0x30,0x32,0x30,0x32,0x34,0x32,0x36,0x5a,0x30,0x39,0x31,0x15,0x30,0x13,0x06,0x03,
	0x55,0x04,0x0a,0x0c,0x0c,0x45,0x78,0x61,0x6d,0x70,0x6c,0x65,0x20,0x43,0x6f,0x72,
	0x70,0x31,0x20,0x30,0x1e,0x06,0x03,0x55,0x04,0x03,0x0c,0x17,0x45,0x78,0x61,0x6d,
	0x70,0x6c,0x65,0x20,0x43,0x6f,0x72,0x70,0x20,0x49,0x73,0x73,0x75,0x69,0x6e,0x67,
	0x20,0x43,0x41,0x30,0x59,0x30,0x13,0x06,0x07,0x2a,0x86,0x48,0xce,0x3d,0x02,0x01,
	0x06,0x08,0x2a,0x86,0x48,0xce,0x3d,0x03,0x01,0x07,0x03,0x42,0x00,0x04,0xe5,0xe6,
	0xae,0x1f,0x56,0xde,0xdd,0x10,0x22,0x21,0x5a,0x75,0xd7,0xb4,0x06,0x85,0x13,0x50,
	0x45,0xef,0xea,0xe6,0xa3,0xe6,0x74,0xa0,0x76,0x25,0xc6,0x2b,0x06,0xa1,0xa6,0x64,
	0xf3,0x0a,0x53,0xf7,0x2a,0xff,0xe9,0xaf,0xd7,0x33,0xc3,0xf1,0xa5,0xe6,0xa5,0xa5,
	0x54,0xb3,0x7f,0xf9,0xe8,0xcb,0x1c,0x2e,0x53,0x6a,0x64,0x6d,0x68,0x5f,0xa3,0x53,
	0x30,0x51,0x30,0x1d,0x06,0x03,0x55,0x1d,0x0e,0x04,0x16,0x04,0x14,0xaf,0x21,0xb8,
	0x49,0xaf,0xaf,0xb1,0xbf,0xd6,0x9f,0x56,0x99,0x75,0x95,0xda,0x07,0xa6,0x3d,0xf6,
	0x08,0x30,0x1f,0x06,0x03,0x55,0x1d,0x23,0x04,0x18,0x30,0x16,0x80,0x14,0xaf,0x21,
	0xb8,0x49,0xaf,0xaf,0xb1,0xbf,0xd6,0x9f,0x56,0x99,0x75,0x95,0xda,0x07,0xa6,0x3d,
	0xf6,0x08,0x30,0x0f,0x06,0x03,0x55,0x1d,0x13,0x01,0x01,0xff,0x04,0x05,0x30,0x03,
	0x01,0x01,0xff,0x30,0x0a,0x06,0x08,0x2a,0x86,0x48,0xce,0x3d,0x04,0x03,0x02,0x03,
	0x49,0x00,0x30,0x46,0x02,0x21,0x00,0xa2,0x38,0x69,0xea,0x90,0x1f,0xe2,0xa8,0x13,
	0x1a,0x96,0x13,0xec,0xac,0x08,0x1a,0xde,0xe2,0xb5,0xcf,0xbe,0xeb,0x7c,0x77,0x5b,
	0xeb,0x7d,0x1e,0x59,0x09,0x0f,0x47,0x02,0x21,0x00,0xfa,0x96,0xe9,0x40,0x19,0xe6,
	0x96,0x0f,0xc8,0xcf,0x10,0x38,0x49,0xc9,0x70,0x65,0x9a,0xe3,0x80,0x86,0x9d,0xbf,
	0x8c,0xfc,0x59,0x20,0x28,0xc9,0xf3,0x17,0x11,0xb8,
};
static const uint8_t cert_ibmi[494] = {
	0x30,0x82,0x01,0xea,0x30,0x82,0x01,0x90,0xa0,0x03,0x02,0x01,0x02,0x02,0x03,0x11,
	0x95,0x29,0x30,0x0a,0x06,0x08,0x2a,0x86,0x48,0xce,0x3d,0x04,0x03,0x02,0x30,0x39,
	0x31,0x15,0x30,0x13,0x06,0x03,0x55,0x04,0x0a,0x0c,0x0c,0x45,0x78,0x61,0x6d,0x70,
	0x6c,0x65,0x20,0x43,0x6f,0x72,0x70,0x31,0x20,0x30,0x1e,0x06,0x03,0x55,0x04,0x03,
	0x0c,0x17,0x45,0x78,0x61,0x6d,0x70,0x6c,0x65,0x20,0x43,0x6f,0x72,0x70,0x20,0x49,
	0x73,0x73,0x75,0x69,0x6e,0x67,0x20,0x43,0x41,0x30,0x1e,0x17,0x0d,0x32,0x36,0x31,
	0x31,0x32,0x33,0x32,0x30,0x32,0x34,0x32,0x36,0x5a,0x17,0x0d,0x32,0x39,0x30,0x32,
	0x32,0x35,0x32,0x30,0x32,0x34,0x32,0x36,0x5a,0x30,0x32,0x31,0x15,0x30,0x13,0x06,
	0x03,0x55,0x04,0x0a,0x0c,0x0c,0x45,0x78,0x61,0x6d,0x70,0x6c,0x65,0x20,0x43,0x6f,
	0x72,0x70,0x31,0x19,0x30,0x17,0x06,0x03,0x55,0x04,0x03,0x0c,0x10,0x69,0x62,0x6d,
	0x69,0x2e,0x65,0x78,0x61,0x6d,0x70,0x6c,0x65,0x2e,0x6e,0x65,0x74,0x30,0x59,0x30,
	0x13,0x06,0x07,0x2a,0x86,0x48,0xce,0x3d,0x02,0x01,0x06,0x08,0x2a,0x86,0x48,0xce,
	0x3d,0x03,0x01,0x07,0x03,0x42,0x00,0x04,0xe5,0x7c,0x50,0x1a,0x6e,0x97,0x3c,0xe3,
	0xf7,0x6c,0x18,0x75,0xbe,0x83,0x2b,0x7b,0x5e,0x9c,0xd5,0x94,0x8c,0x60,0x47,0x17,
	0x81,0x56,0xaa,0x26,0x5e,0xab,0xa8,0x48,0xa2,0x46,0x70,0xe6,0xc0,0xbe,0xe1,0x02,
	0x7a,0x60,0x86,0x9a,0xc1,0xea,0x36,0xd4,0x45,0x78,0xd6,0x78,0xa0,0x5f,0x75,0x66,
	0x38,0x08,0x61,0x18,0xf9,0x0d,0xa4,0xd4,0xa3,0x81,0x8d,0x30,0x81,0x8a,0x30,0x1b,
	0x06,0x03,0x55,0x1d,0x11,0x04,0x14,0x30,0x12,0x82,0x10,0x69,0x62,0x6d,0x69,0x2e,
	0x65,0x78,0x61,0x6d,0x70,0x6c,0x65,0x2e,0x6e,0x65,0x74,0x30,0x09,0x06,0x03,0x55,
	0x1d,0x13,0x04,0x02,0x30,0x00,0x30,0x0b,0x06,0x03,0x55,0x1d,0x0f,0x04,0x04,0x03,
	0x02,0x07,0x80,0x30,0x13,0x06,0x03,0x55,0x1d,0x25,0x04,0x0c,0x30,0x0a,0x06,0x08,
	0x2b,0x06,0x01,0x05,0x05,0x07,0x03,0x01,0x30,0x1d,0x06,0x03,0x55,0x1d,0x0e,0x04,
	0x16,0x04,0x14,0xf2,0xca,0x7a,0xf1,0xae,0x4d,0x3a,0xe4,0x24,0xce,0x09,0x87,0xe7,
	0x7e,0x65,0x7a,0x2d,0x9a,0x07,0x8f,0x30,0x1f,0x06,0x03,0x55,0x1d,0x23,0x04,0x18,
	0x30,0x16,0x80,0x14,0xaf,0x21,0xb8,0x49,0xaf,0xaf,0xb1,0xbf,0xd6,0x9f,0x56,0x99,
	0x75,0x95,0xda,0x07,0xa6,0x3d,0xf6,0x08,0x30,0x0a,0x06,0x08,0x2a,0x86,0x48,0xce,
	0x3d,0x04,0x03,0x02,0x03,0x48,0x00,0x30,0x45,0x02,0x20,0x6d,0xe4,0xbd,0x09,0xee,
	0x3e,0x99,0x0a,0x18,0x3b,0xc3,0x11,0x22,0x31,0x2a,0x33,0x47,0x13,0x1d,0x42,0xdd,
	0xc8,0x71,0x5f,0x01,0xed,0xde,0x97,0x0a,0x97,0xd2,0x69,0x02,0x21,0x00,0xd7,0x65,
	0x59,0x02,0xc3,0xe8,0xb4,0x73,0x73,0xec,0x22,0x49,0xda,0x7d,0x14,0xfa,0x7b,0xb1,
	0x2a,0xc7,0xee,0x8f,0xf1,0x16,0x46,0xcc,0x01,0xe7,0x0d,0x1c,0x77,0xd3,
};
static const uint8_t cert_web[492] = {
	0x30,0x82,0x01,0xe8,0x30,0x82,0x01,0x8e,0xa0,0x03,0x02,0x01,0x02,0x02,0x03,0x01,
	0x90,0x43,0x30,0x0a,0x06,0x08,0x2a,0x86,0x48,0xce,0x3d,0x04,0x03,0x02,0x30,0x39,
	0x31,0x15,0x30,0x13,0x06,0x03,0x55,0x04,0x0a,0x0c,0x0c,0x45,0x78,0x61,0x6d,0x70,
	0x6c,0x65,0x20,0x43,0x6f,0x72,0x70,0x31,0x20,0x30,0x1e,0x06,0x03,0x55,0x04,0x03,
	0x0c,0x17,0x45,0x78,0x61,0x6d,0x70,0x6c,0x65,0x20,0x43,0x6f,0x72,0x70,0x20,0x49,
	0x73,0x73,0x75,0x69,0x6e,0x67,0x20,0x43,0x41,0x30,0x1e,0x17,0x0d,0x32,0x36,0x31,
	0x31,0x32,0x33,0x32,0x30,0x32,0x34,0x32,0x36,0x5a,0x17,0x0d,0x32,0x39,0x30,0x32,
	0x32,0x35,0x32,0x30,0x32,0x34,0x32,0x36,0x5a,0x30,0x31,0x31,0x15,0x30,0x13,0x06,
	0x03,0x55,0x04,0x0a,0x0c,0x0c,0x45,0x78,0x61,0x6d,0x70,0x6c,0x65,0x20,0x43,0x6f,
	0x72,0x70,0x31,0x18,0x30,0x16,0x06,0x03,0x55,0x04,0x03,0x0c,0x0f,0x77,0x77,0x77,
	0x2e,0x65,0x78,0x61,0x6d,0x70,0x6c,0x65,0x2e,0x63,0x6f,0x6d,0x30,0x59,0x30,0x13,
	0x06,0x07,0x2a,0x86,0x48,0xce,0x3d,0x02,0x01,0x06,0x08,0x2a,0x86,0x48,0xce,0x3d,
	0x03,0x01,0x07,0x03,0x42,0x00,0x04,0xda,0xb7,0xca,0x0a,0x71,0xf1,0xef,0xed,0x52,
	0x90,0xc3,0x58,0xa0,0xe0,0xe0,0x88,0xed,0xf3,0xdd,0xbf,0x79,0x87,0x24,0x1d,0xd9,
	0x7b,0xe3,0xe0,0xf9,0xae,0x20,0xe1,0xf4,0x24,0x0c,0x54,0x35,0xcd,0xa4,0x88,0x09,
	0xe2,0x6f,0xe3,0x86,0x3e,0x72,0x5e,0x16,0xce,0x87,0xc5,0x28,0x12,0x52,0xae,0xe3,
	0xc3,0x20,0x7f,0x4d,0x5e,0xcc,0xc6,0xa3,0x81,0x8c,0x30,0x81,0x89,0x30,0x1a,0x06,
	0x03,0x55,0x1d,0x11,0x04,0x13,0x30,0x11,0x82,0x0f,0x77,0x77,0x77,0x2e,0x65,0x78,
	0x61,0x6d,0x70,0x6c,0x65,0x2e,0x63,0x6f,0x6d,0x30,0x09,0x06,0x03,0x55,0x1d,0x13,
	0x04,0x02,0x30,0x00,0x30,0x0b,0x06,0x03,0x55,0x1d,0x0f,0x04,0x04,0x03,0x02,0x07,
	0x80,0x30,0x13,0x06,0x03,0x55,0x1d,0x25,0x04,0x0c,0x30,0x0a,0x06,0x08,0x2b,0x06,
	0x01,0x05,0x05,0x07,0x03,0x01,0x30,0x1d,0x06,0x03,0x55,0x1d,0x0e,0x04,0x16,0x04,
	0x14,0xc7,0x66,0x6e,0x57,0x8a,0xeb,0x94,0xd4,0x4e,0xa1,0x1c,0xf9,0x1d,0xbf,0xbc,
	0xb1,0xd4,0xed,0xba,0x5d,0x30,0x1f,0x06,0x03,0x55,0x1d,0x23,0x04,0x18,0x30,0x16,
	0x80,0x14,0xaf,0x21,0xb8,0x49,0xaf,0xaf,0xb1,0xbf,0xd6,0x9f,0x56,0x99,0x75,0x95,
	0xda,0x07,0xa6,0x3d,0xf6,0x08,0x30,0x0a,0x06,0x08,0x2a,0x86,0x48,0xce,0x3d,0x04,
	0x03,0x02,0x03,0x48,0x00,0x30,0x45,0x02,0x21,0x00,0xd4,0x05,0x56,0xcb,0xce,0x85,
	0x8d,0xbb,0x35,0x42,0xa3,0x79,0x80,0x86,0x02,0x25,0xb3,0x44,0x43,0xcb,0x00,0xd4,
	0x2e,0xa4,0x95,0x7e,0x16,0x8a,0x31,0x26,0xd2,0xab,0x02,0x20,0x46,0x4f,0x04,0x46,
	0x58,0x6f,0x3a,0x71,0x40,0x2b,0xcd,0x48,0xc0,0xdd,0x37,0xc8,0x59,0x24,0xfe,0x1c,
	0x15,0x9a,0x4e,0x4a,0xed,0xbb,0x08,0x0a,0x8f,0x66,0xa0,0xab,
};

/* ------------------------------------------------------------------ services */

enum { S_CENTRAL, S_DATABASE, S_DTAQ, S_FILE, S_NETPRT, S_RMTCMD, S_SIGNON, S_HOSTCNN, S_NSVC };

static const struct svc {
	const char *pm_name;      /* name asked of the port mapper (without -s) */
	uint16_t srvid, port, tport;
	uint16_t req1, rep1, reqd, repd, endid;
	int weight;
} svcs[S_NSVC] = {
	[S_CENTRAL]  = { "as-central", 0xE000, 8470, 9470, 0x1301, 0x1301, 0x1302, 0x1302, 0x1400, 10 },
	[S_DATABASE] = { "as-database", 0xE004, 8471, 9471, 0x1F80, 0x2800, 0x1803, 0x2800, 0x1FFF, 30 },
	[S_DTAQ]     = { "as-dtaq", 0xE007, 8472, 9472, 0x0000, 0x8000, 0x0002, 0x8002, 0, 5 },
	[S_FILE]     = { "as-file", 0xE002, 8473, 9473, 0x0016, 0x8009, 0x0003, 0x8001, 0, 10 },
	[S_NETPRT]   = { "as-netprt", 0xE003, 8474, 9474, 0x0001, 0x8001, 0x0004, 0x8004, 0, 5 },
	[S_RMTCMD]   = { "as-rmtcmd", 0xE008, 8475, 9475, 0x1001, 0x8001, 0x1002, 0x8002, 0x1004, 10 },
	[S_SIGNON]   = { "as-signon", 0xE009, 8476, 9476, 0x7003, 0xF003, 0x7004, 0xF004, 0, 25 },
	[S_HOSTCNN]  = { "as-hostcnn", 0xE00B, 0, 9480, 0x7103, 0xF003, 0x7002, 0xF002, 0, 0 },
};

/* ------------------------------------------------------------------ statistics */

enum { PC_OTHER, PC_NONSECURE, PC_SECURE, PC_MAPPER };
struct portstat { uint64_t conns, pkts, bytes, refused, tls; };
static struct portstat pstat[65536];
static struct portstat dnsstat;
static uint64_t n_tcp_conns, n_ibmi_conns, n_dns, ibmi_wire_bytes, n_signon_fail, n_pm_secure, n_pm_nonsecure;
static uint64_t n_tn_user, n_hs_user;
enum { CF_ANY = 1, CF_IBMI = 2, CF_NONSEC = 4, CF_SEC = 8 };
static uint8_t *client_flags;

static int port_class(uint16_t port)
{
	if (port == 449) return PC_MAPPER;
	if ((port >= 8470 && port <= 8479) || port == 23 || port == 446) return PC_NONSECURE;
	if ((port >= 9470 && port <= 9476) || port == 9480 || port == 992 || port == 448) return PC_SECURE;
	return PC_OTHER;
}

/* ------------------------------------------------------------------ sessions */

enum { SK_HTTPS, SK_HTTP, SK_DNS, SK_PM, SK_HS, SK_TN, SK_DDM, SK_FLOOD };
enum {
	MK_CH, MK_SH13, MK_CFIN13, MK_SH12, MK_CFIN12, MK_SFIN12, MK_TLS_APP,
	MK_HTTP_REQ, MK_HTTP_RESP, MK_PM_REQ, MK_PM_REP, MK_HS, MK_TN, MK_TN_REC, MK_DDM,
};
enum { HS_7003, HS_F003, HS_7004, HS_F004, HS_F004_FAIL, HS_7001, HS_F001, HS_7002, HS_F002, HS_F002_FAIL,
       HS_REQ1, HS_REP1, HS_REQ, HS_REP, HS_END };
enum { TN_NEG1, TN_NEG2, TN_NEG3, TN_NEG4, TN_NEG5, TN_NEG6, TN_SCREEN, TN_INPUT };
enum { DD_EXCSAT, DD_EXCSATRD, DD_SECCHK, DD_SECCHKRM, DD_REQ, DD_REP };
enum { PH_SYN, PH_REFUSE, PH_SYNACK, PH_ACK, PH_DATA, PH_CLOSE1, PH_CLOSE2, PH_CLOSE3, PH_UDPQ, PH_UDPR };

#define MAXMSG 72
#define BUFSZ 2048
#define SLOTS 512

struct msg { uint8_t dir, kind; uint16_t a; uint32_t len; };

struct sess {
	uint8_t active, kind, tls, tls13, v6, phase, refuse, rst_close, closer, pending_ack, ackdir, built;
	uint8_t svc, pm_secure, autosign, unacked[2], ttl[2];
	uint32_t client, name_id;
	int64_t planned_left;
	uint8_t cip[16], sip[16], cmac[6];
	uint16_t cport, sport, mss, win[2];
	uint32_t seq[2], corr;
	uint16_t nmsg, mi;
	uint32_t moff, mlen, blen;
	const uint8_t *pool;
	struct msg m[MAXMSG];
	uint8_t buf[BUFSZ];
};

static struct sess sess[SLOTS];
static uint32_t n_clients = 50000, n_v4;
static double ibmi_share = 0.10;
static const uint8_t mac_router[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe };
static uint16_t ip_id;

static void client_addr(uint32_t idx, struct sess *s)
{
	memset(s->cip, 0, 16);
	if (idx < n_v4) {
		s->v6 = 0;
		if (idx < 250) { s->cip[0] = 198; s->cip[1] = 51; s->cip[2] = 100; s->cip[3] = (uint8_t)(idx + 1); }
		else { s->cip[0] = 192; s->cip[1] = 0; s->cip[2] = 2; s->cip[3] = (uint8_t)(100 + idx - 250); }
	} else {
		s->v6 = 1;
		uint64_t iid = mix64(g_seed ^ (0x5bd1e995ULL * (idx + 1))) & 0xfdffffffffffffffULL;
		s->cip[0] = 0x20; s->cip[1] = 0x01; s->cip[2] = 0x0d; s->cip[3] = 0xb8;
		s->cip[4] = 0x00; s->cip[5] = 0x0c;
		put_be16(s->cip + 6, (idx / 4096) & 0x0fff);  /* subnets below f000 (flood uses f000::/52) */
		for (int i = 0; i < 8; i++)
			s->cip[8 + i] = (uint8_t)(iid >> (56 - 8 * i));
	}
	s->cmac[0] = 0x02; s->cmac[1] = 0x00;
	put_be32(s->cmac + 2, idx + 1);
}

static void server_ibmi(struct sess *s)
{
	memset(s->sip, 0, 16);
	if (!s->v6) { s->sip[0] = 192; s->sip[1] = 0; s->sip[2] = 2; s->sip[3] = 10; }
	else { s->sip[0] = 0x20; s->sip[1] = 0x01; s->sip[2] = 0x0d; s->sip[3] = 0xb8; s->sip[15] = 0x10; }
}

static void server_web(struct sess *s, uint32_t host)
{
	memset(s->sip, 0, 16);
	if (!s->v6) { s->sip[0] = 203; s->sip[1] = 0; s->sip[2] = 113; s->sip[3] = (uint8_t)host; }
	else {
		s->sip[0] = 0x20; s->sip[1] = 0x01; s->sip[2] = 0x0d; s->sip[3] = 0xb8;
		s->sip[4] = 0xff; s->sip[5] = 0xff; s->sip[15] = (uint8_t)host;
	}
}

static const char *const user_base[10] = { "JSMITH", "MJONES", "ABROWN", "KLEE", "PCHEN",
					   "RGARCIA", "SPATEL", "TNGUYEN", "DMILLER", "LWILSON" };

static void client_user(uint32_t idx, char *u, size_t n)
{
	snprintf(u, n, "%s%u", user_base[idx % 10], (idx / 10) % 1000);
}

/* client profile: 40 % of IBM i clients are on TLS only */
static int client_secure(uint32_t idx)
{
	return mix64(g_seed ^ (0x9e37ULL + idx)) % 100 < 40;
}

/* payload bytes planned and not yet sent, over all open sessions (for --size) */
static int64_t g_pending;

static void add(struct sess *s, int dir, int kind, int a, uint32_t len)
{
	if (s->nmsg >= MAXMSG)
		return;
	uint32_t est = kind == MK_SH12 ? 1300 : kind == MK_SH13 ? len + 140 : len ? len : 200;
	s->planned_left += est;
	g_pending += est;
	s->m[s->nmsg++] = (struct msg){ (uint8_t)dir, (uint8_t)kind, (uint16_t)a, len };
}

/* TLS 1.2/1.3 application_data records carrying `plain` bytes */
#define TLS_RS (5 + 16384 + 17)
static uint32_t tls_wrap(uint32_t plain)
{
	uint32_t recs = plain / 16384 + 1;
	uint32_t len = plain + recs * 22;
	uint32_t rem = len % TLS_RS;
	if (rem && rem < 30)
		len += 30;
	return len;
}

/* ------------------------------------------------------------------ message builders */

static void build_client_hello(struct sess *s, struct wr *w)
{
	char sni[64];
	if (s->kind == SK_HTTPS) snprintf(sni, sizeof sni, "www%u.example.com", s->name_id);
	else snprintf(sni, sizeof sni, "ibmi.example.net");
	w8(w, 0x16); w16(w, 0x0301);
	size_t rl = wlen_begin(w, 2);
	w8(w, 0x01);
	size_t hl = wlen_begin(w, 3);
	w16(w, 0x0303); wrand(w, 32);
	w8(w, 32); wrand(w, 32);
	static const uint16_t suites[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
					   0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
	int nsuites = s->kind == SK_HTTPS ? 15 : 9;
	w16(w, (uint32_t)nsuites * 2);
	for (int i = 0; i < nsuites; i++)
		w16(w, suites[i]);
	w8(w, 1); w8(w, 0);
	size_t el = wlen_begin(w, 2);
	if (s->kind != SK_DDM || rnd(2)) {     /* server_name */
		w16(w, 0x0000);
		size_t a = wlen_begin(w, 2), b = wlen_begin(w, 2);
		w8(w, 0); w16(w, (uint32_t)strlen(sni)); wstr(w, sni);
		wlen_end(w, b, 2); wlen_end(w, a, 2);
	}
	w16(w, 0x0017); w16(w, 0);                     /* extended_master_secret */
	w16(w, 0xff01); w16(w, 1); w8(w, 0);           /* renegotiation_info */
	w16(w, 0x000a); w16(w, 8); w16(w, 6); w16(w, 0x001d); w16(w, 0x0017); w16(w, 0x0018);
	w16(w, 0x000b); w16(w, 2); w8(w, 1); w8(w, 0);
	if (s->kind == SK_HTTPS) {
		w16(w, 0x0023); w16(w, 0);             /* session_ticket */
		w16(w, 0x0010); w16(w, 14); w16(w, 12); w8(w, 2); wstr(w, "h2"); w8(w, 8); wstr(w, "http/1.1");
		w16(w, 0x0005); w16(w, 5); w8(w, 1); w16(w, 0); w16(w, 0);
	}
	w16(w, 0x000d); w16(w, 18); w16(w, 16);
	static const uint16_t sigs[] = { 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601 };
	for (int i = 0; i < 8; i++)
		w16(w, sigs[i]);
	w16(w, 0x002b); w16(w, 5); w8(w, 4); w16(w, 0x0304); w16(w, 0x0303);
	w16(w, 0x002d); w16(w, 2); w8(w, 1); w8(w, 1);
	w16(w, 0x0033); w16(w, 38); w16(w, 36); w16(w, 0x001d); w16(w, 32); wrand(w, 32);
	wlen_end(w, el, 2);
	wlen_end(w, hl, 3);
	wlen_end(w, rl, 2);
}

static void build_server_hello(struct sess *s, struct wr *w, int v13)
{
	w8(w, 0x16); w16(w, 0x0303);
	size_t rl = wlen_begin(w, 2);
	w8(w, 0x02);
	size_t hl = wlen_begin(w, 3);
	w16(w, 0x0303); wrand(w, 32);
	w8(w, 32); wrand(w, 32);
	w16(w, v13 ? (rnd(3) ? 0x1301 : 0x1302) : (rnd(2) ? 0xc02f : 0xc030));
	w8(w, 0);
	size_t el = wlen_begin(w, 2);
	if (v13) {
		w16(w, 0x002b); w16(w, 2); w16(w, 0x0304);
		w16(w, 0x0033); w16(w, 36); w16(w, 0x001d); w16(w, 32); wrand(w, 32);
	} else {
		w16(w, 0xff01); w16(w, 1); w8(w, 0);
		w16(w, 0x0017); w16(w, 0);
		w16(w, 0x000b); w16(w, 2); w8(w, 1); w8(w, 0);
	}
	wlen_end(w, el, 2);
	wlen_end(w, hl, 3);
	if (v13) {
		wlen_end(w, rl, 2);
		return;
	}
	/* TLS 1.2: Certificate, ServerKeyExchange, ServerHelloDone in the same record */
	const uint8_t *leaf = s->kind == SK_HTTPS ? cert_web : cert_ibmi;
	size_t leaf_len = s->kind == SK_HTTPS ? sizeof cert_web : sizeof cert_ibmi;
	w8(w, 0x0b);
	size_t cl = wlen_begin(w, 3);
	size_t ll = wlen_begin(w, 3);
	w24(w, (uint32_t)leaf_len); wmem(w, leaf, leaf_len);
	w24(w, sizeof cert_ca); wmem(w, cert_ca, sizeof cert_ca);
	wlen_end(w, ll, 3);
	wlen_end(w, cl, 3);
	w8(w, 0x0c);
	size_t kl = wlen_begin(w, 3);
	w8(w, 3); w16(w, 0x001d); w8(w, 32); wrand(w, 32);
	w16(w, 0x0403); w16(w, 71);
	w8(w, 0x30); w8(w, 69); w8(w, 0x02); w8(w, 33); w8(w, 0); wrand(w, 32); w8(w, 0x02); w8(w, 32); wrand(w, 32);
	wlen_end(w, kl, 3);
	w8(w, 0x0e); w24(w, 0);
	wlen_end(w, rl, 2);
}

static void hs_header(struct wr *w, uint32_t len, uint16_t hdrid, uint16_t srvid, uint32_t corr, uint16_t tlen,
		      uint16_t id)
{
	w32(w, len); w16(w, hdrid); w16(w, srvid); w32(w, 0); w32(w, corr); w16(w, tlen); w16(w, id);
}

/* host-server PDU; returns how many bytes of the message are filler after the built part */
static uint32_t build_hs(struct sess *s, struct wr *w, const struct msg *m)
{
	const struct svc *v = &svcs[s->svc];
	char user[16];
	client_user(s->client, user, sizeof user);
	switch (m->a) {
	case HS_7003:
		hs_header(w, 52, 0, v->srvid, 0, 0, s->svc == S_HOSTCNN ? 0x7103 : 0x7003);
		w32(w, 10); w16(w, 0x1101); w32(w, 1);
		w32(w, 8); w16(w, 0x1102); w16(w, 10);
		w32(w, 14); w16(w, 0x1103); wrand(w, 8);
		return 0;
	case HS_F003:
		hs_header(w, 99, 0, v->srvid, 0, 0, 0xF003);
		w32(w, 0);
		w32(w, 10); w16(w, 0x1101); w32(w, 0x00070500);
		w32(w, 8); w16(w, 0x1102); w16(w, 10);
		w32(w, 14); w16(w, 0x1103); wrand(w, 8);
		w32(w, 7); w16(w, 0x1119); w8(w, 3);
		w32(w, 36); w16(w, 0x111F); w32(w, 37); webc(w, "QZSOSIGN  QUSER     123456", 26);
		return 0;
	case HS_7004:
		hs_header(w, 80, 0, v->srvid, 0, 1, 0x7004);
		w8(w, 3);
		w32(w, 10); w16(w, 0x1113); w32(w, 1200);
		w32(w, 26); w16(w, 0x1105); wrand(w, 20);
		w32(w, 16); w16(w, 0x1104); webc(w, user, 10);
		w32(w, 7); w16(w, 0x1128); w8(w, 1);
		n_hs_user++;
		return 0;
	case HS_F004:
		hs_header(w, 103, 0, v->srvid, 0, 0, 0xF004);
		w32(w, 0);
		for (int k = 0; k < 3; k++) {
			w32(w, 13); w16(w, (uint32_t)(0x1106 + k));
			w16(w, 2026); w8(w, 1); w8(w, 5); w8(w, 9); w8(w, (uint32_t)rnd(60)); w8(w, (uint32_t)rnd(60));
		}
		w32(w, 10); w16(w, 0x112C); w32(w, 90);
		w32(w, 10); w16(w, 0x1114); w32(w, 37);
		w32(w, 20); w16(w, 0x1104); w32(w, 37); webc(w, user, 10);
		return 0;
	case HS_F004_FAIL:
	case HS_F002_FAIL:
		hs_header(w, 24, 0, v->srvid, 0, 0, m->a == HS_F004_FAIL ? 0xF004 : 0xF002);
		w32(w, 0x0003000B);
		return 0;
	case HS_7001:
		hs_header(w, 28, 0x0300, v->srvid, 0, 8, 0x7001);
		wrand(w, 8);
		return 0;
	case HS_F001:
		hs_header(w, 32, 0x0003, v->srvid, 0, 0, 0xF001);
		w32(w, 0); wrand(w, 8);
		return 0;
	case HS_7002:
		hs_header(w, 64, 0x0200, v->srvid, 0, 2, 0x7002);
		w8(w, 3); w8(w, 1);
		w32(w, 26); w16(w, 0x1105); wrand(w, 20);
		w32(w, 16); w16(w, 0x1104); webc(w, user, 10);
		n_hs_user++;
		return 0;
	case HS_F002:
		hs_header(w, 80, 0, v->srvid, 0, 0, 0xF002);
		w32(w, 0);
		w32(w, 20); w16(w, 0x1104); w32(w, 37); webc(w, user, 10);
		w32(w, 36); w16(w, 0x111F); w32(w, 37); webc(w, "QZDASOINITQUSER     654321", 26);
		return 0;
	case HS_END:
		if (s->svc == S_DATABASE) {
			hs_header(w, 40, 0, v->srvid, 0, 20, v->endid);
			wrand(w, 20);
		} else {
			hs_header(w, 20, 0, v->srvid, 0, 0, v->endid);
		}
		return 0;
	default: {        /* REQ1/REP1/REQ/REP: template, then one LL/CP parameter with filler */
		int req = m->a == HS_REQ1 || m->a == HS_REQ;
		uint16_t id = m->a == HS_REQ1 ? v->req1 : m->a == HS_REP1 ? v->rep1 : m->a == HS_REQ ? v->reqd : v->repd;
		uint16_t tlen = s->svc == S_DATABASE ? 20 : 0;
		if (req)
			s->corr++;
		hs_header(w, m->len, 0, v->srvid, s->corr, tlen, id);
		if (tlen)
			wrand(w, tlen);
		w32(w, m->len - 20 - tlen);
		w16(w, s->svc == S_DATABASE ? (req ? 0x3807 : 0x380E) : 0x1101);
		return m->len - 20 - tlen - 6;
	}
	}
}

/* NEW-ENVIRON value: bytes 00-03 escaped with ESC 02, FF doubled */
static void wenv(struct wr *w, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] <= 3) w8(w, 2);
		if (p[i] == 0xff) w8(w, 0xff);
		w8(w, p[i]);
	}
}

static void build_tn(struct sess *s, struct wr *w, const struct msg *m)
{
	static const uint8_t neg1[] = { 0xff, 0xfd, 0x27, 0xff, 0xfd, 0x18 };
	static const uint8_t neg2[] = { 0xff, 0xfb, 0x27, 0xff, 0xfb, 0x18 };
	static const uint8_t neg5[] = { 0xff, 0xfd, 0x19, 0xff, 0xfb, 0x19, 0xff, 0xfd, 0x00, 0xff, 0xfb, 0x00 };
	static const uint8_t neg6[] = { 0xff, 0xfb, 0x19, 0xff, 0xfd, 0x19, 0xff, 0xfb, 0x00, 0xff, 0xfd, 0x00 };
	char tmp[32];
	switch (m->a) {
	case TN_NEG1: wmem(w, neg1, sizeof neg1); break;
	case TN_NEG2: wmem(w, neg2, sizeof neg2); break;
	case TN_NEG3: {
		uint8_t seed[8];
		for (int i = 0; i < 8; i++)
			seed[i] = (uint8_t)(0x04 + rnd(0xfb - 0x04));   /* no bytes that would need escaping */
		w8(w, 0xff); w8(w, 0xfa); w8(w, 0x27); w8(w, 1); w8(w, 3); wstr(w, "IBMRSEED"); wmem(w, seed, 8);
		w8(w, 0); w8(w, 3); w8(w, 0xff); w8(w, 0xf0);
		w8(w, 0xff); w8(w, 0xfa); w8(w, 0x18); w8(w, 1); w8(w, 0xff); w8(w, 0xf0);
		break;
	}
	case TN_NEG4: {
		w8(w, 0xff); w8(w, 0xfa); w8(w, 0x27); w8(w, 0);
		snprintf(tmp, sizeof tmp, "WS%05u", s->client % 100000);
		w8(w, 3); wstr(w, "DEVNAME"); w8(w, 1); wstr(w, tmp);
		w8(w, 3); wstr(w, "KBDTYPE"); w8(w, 1); wstr(w, "USB");
		w8(w, 3); wstr(w, "CODEPAGE"); w8(w, 1); wstr(w, "37");
		w8(w, 3); wstr(w, "CHARSET"); w8(w, 1); wstr(w, "697");
		if (s->autosign) {   /* auto-signon */
			uint8_t r[8];
			client_user(s->client, tmp, sizeof tmp);
			w8(w, 0); wstr(w, "USER"); w8(w, 1); wstr(w, tmp);
			for (int i = 0; i < 8; i++) r[i] = (uint8_t)rnd64();
			w8(w, 3); wstr(w, "IBMRSEED"); w8(w, 1); wenv(w, r, 8);
			for (int i = 0; i < 8; i++) r[i] = (uint8_t)rnd64();
			w8(w, 3); wstr(w, "IBMSUBSPW"); w8(w, 1); wenv(w, r, 8);
			n_tn_user++;
		}
		w8(w, 0xff); w8(w, 0xf0);
		w8(w, 0xff); w8(w, 0xfa); w8(w, 0x18); w8(w, 0); wstr(w, "IBM-3179-2"); w8(w, 0xff); w8(w, 0xf0);
		break;
	}
	case TN_NEG5: wmem(w, neg5, sizeof neg5); break;
	case TN_NEG6: wmem(w, neg6, sizeof neg6); break;
	}
}

/* 5250 record header; the message is len-2 record bytes + IAC EOR, filler in between */
static void build_tn_rec(struct wr *w, const struct msg *m)
{
	w16(w, m->len - 2); w16(w, 0x12A0); w16(w, 0x0000); w8(w, 4);
	if (m->a == TN_SCREEN) {   /* put/get: ESC WTD CC, SBA row col, then text */
		w8(w, 0x00); w8(w, 0x00); w8(w, 0x03);
		w8(w, 0x04); w8(w, 0x11); w8(w, 0x00); w8(w, 0x18);
		w8(w, 0x11); w8(w, (uint32_t)rrange(1, 24)); w8(w, (uint32_t)rrange(1, 80));
	}
	else { w8(w, 0x00); w8(w, 0x00); w8(w, 0x00); w8(w, (uint32_t)rrange(1, 24)); w8(w, (uint32_t)rrange(1, 80)); w8(w, 0xF1); }
}

static size_t dss_begin(struct wr *w, int fmt, uint32_t corr)
{
	size_t at = wlen_begin(w, 2);
	w8(w, 0xD0); w8(w, (uint32_t)fmt); w16(w, corr);
	return at;
}

static void ddm_param(struct wr *w, uint16_t cp, const uint8_t *p, size_t n)
{
	w16(w, (uint32_t)(4 + n)); w16(w, cp); wmem(w, p, n);
}

static void ddm_ebc(struct wr *w, uint16_t cp, const char *s, size_t pad)
{
	size_t n = strlen(s) > pad ? strlen(s) : pad;
	w16(w, (uint32_t)(4 + n)); w16(w, cp); webc(w, s, pad);
}

static uint32_t build_ddm(struct sess *s, struct wr *w, const struct msg *m)
{
	static const uint8_t mgrlvls[] = { 0x14, 0x03, 0x00, 0x07, 0x24, 0x07, 0x00, 0x07, 0x14, 0x74, 0x00, 0x05,
					   0x24, 0x0F, 0x00, 0x07, 0x14, 0x40, 0x00, 0x09, 0x1C, 0x08, 0x04, 0xB8 };
	uint8_t r[20], mec[2] = { 0x00, 0x08 };
	char user[16];
	size_t d, o;
	switch (m->a) {
	case DD_EXCSAT:   /* EXCSAT chained with ACCSEC */
		d = dss_begin(w, 0x41, 1);
		o = wlen_begin(w, 2); w16(w, 0x1041);
		ddm_ebc(w, 0x115E, "JT400", 0);
		ddm_ebc(w, 0x1147, "QAS", 0);
		ddm_param(w, 0x1404, mgrlvls, sizeof mgrlvls);
		put_be16(w->b + o, (uint32_t)(w->n - o));
		put_be16(w->b + d, (uint32_t)(w->n - d));
		d = dss_begin(w, 0x01, 2);
		o = wlen_begin(w, 2); w16(w, 0x106D);
		ddm_param(w, 0x11A2, mec, 2);
		ddm_ebc(w, 0x2110, "S1234567", 18);
		for (int i = 0; i < 8; i++) r[i] = (uint8_t)rnd64();
		ddm_param(w, 0x11DC, r, 8);
		put_be16(w->b + o, (uint32_t)(w->n - o));
		put_be16(w->b + d, (uint32_t)(w->n - d));
		return 0;
	case DD_EXCSATRD:
		d = dss_begin(w, 0x42, 1);
		o = wlen_begin(w, 2); w16(w, 0x1443);
		ddm_ebc(w, 0x115E, "QRWTSRVR 123456/QUSER/QRWTSRVR", 0);
		ddm_ebc(w, 0x1147, "QAS", 0);
		ddm_param(w, 0x1404, mgrlvls, sizeof mgrlvls);
		ddm_ebc(w, 0x115A, "QSQ07050", 0);
		put_be16(w->b + o, (uint32_t)(w->n - o));
		put_be16(w->b + d, (uint32_t)(w->n - d));
		d = dss_begin(w, 0x02, 2);
		o = wlen_begin(w, 2); w16(w, 0x14AC);
		ddm_param(w, 0x11A2, mec, 2);
		for (int i = 0; i < 8; i++) r[i] = (uint8_t)rnd64();
		ddm_param(w, 0x11DC, r, 8);
		put_be16(w->b + o, (uint32_t)(w->n - o));
		put_be16(w->b + d, (uint32_t)(w->n - d));
		return 0;
	case DD_SECCHK:
		client_user(s->client, user, sizeof user);
		d = dss_begin(w, 0x01, 3);
		o = wlen_begin(w, 2); w16(w, 0x106E);
		ddm_param(w, 0x11A2, mec, 2);
		ddm_ebc(w, 0x2110, "S1234567", 18);
		ddm_ebc(w, 0x11A0, user, 0);
		for (int i = 0; i < 20; i++) r[i] = (uint8_t)rnd64();
		ddm_param(w, 0x11A1, r, 20);
		put_be16(w->b + o, (uint32_t)(w->n - o));
		put_be16(w->b + d, (uint32_t)(w->n - d));
		n_hs_user++;
		return 0;
	case DD_SECCHKRM: {
		static const uint8_t svrcod[2] = { 0, 0 }, chk[1] = { 0 };
		d = dss_begin(w, 0x02, 3);
		o = wlen_begin(w, 2); w16(w, 0x1219);
		ddm_param(w, 0x1149, svrcod, 2);
		ddm_param(w, 0x11A4, chk, 1);
		put_be16(w->b + o, (uint32_t)(w->n - o));
		put_be16(w->b + d, (uint32_t)(w->n - d));
		return 0;
	}
	default:   /* DD_REQ (RQSDSS OPNQRY) / DD_REP (OBJDSS QRYDTA) of m->len bytes */
		if (m->a == DD_REQ)
			s->corr++;
		d = dss_begin(w, m->a == DD_REQ ? 0x01 : 0x03, s->corr + 3);
		put_be16(w->b + d, m->len);
		w16(w, m->len - 6); w16(w, m->a == DD_REQ ? 0x200C : 0x241B);
		return m->len - 10;
	}
}

/* Build the current message's head into s->buf; set mlen, blen and pool. */
static void build_msg(struct sess *s)
{
	const struct msg *m = &s->m[s->mi];
	struct wr w = { s->buf, 0, BUFSZ };
	uint32_t fill = 0;
	s->pool = pool_bin;
	switch (m->kind) {
	case MK_CH: build_client_hello(s, &w); break;
	case MK_SH13:
		build_server_hello(s, &w, 1);
		w8(&w, 0x14); w16(&w, 0x0303); w16(&w, 1); w8(&w, 1);
		fill = m->len;   /* encrypted EncryptedExtensions..Finished */
		w8(&w, 0x17); w16(&w, 0x0303); w16(&w, fill);
		break;
	case MK_CFIN13:
		w8(&w, 0x14); w16(&w, 0x0303); w16(&w, 1); w8(&w, 1);
		fill = 53;
		w8(&w, 0x17); w16(&w, 0x0303); w16(&w, fill);
		break;
	case MK_SH12: build_server_hello(s, &w, 0); break;
	case MK_CFIN12:
		w8(&w, 0x16); w16(&w, 0x0303); w16(&w, 37); w8(&w, 0x10); w24(&w, 33); w8(&w, 32); wrand(&w, 32);
		/* fallthrough */
	case MK_SFIN12:
		w8(&w, 0x14); w16(&w, 0x0303); w16(&w, 1); w8(&w, 1);
		w8(&w, 0x16); w16(&w, 0x0303); w16(&w, 40); wrand(&w, 40);
		break;
	case MK_TLS_APP: fill = m->len; break;
	case MK_HTTP_REQ: {
		char t[256];
		snprintf(t, sizeof t, "GET /assets/%08x.js HTTP/1.1\r\nHost: www%u.example.com\r\n"
			 "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
			 "Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n",
			 (unsigned)rnd64(), s->name_id);
		wstr(&w, t);
		break;
	}
	case MK_HTTP_RESP: {
		char t[256];
		snprintf(t, sizeof t, "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/octet-stream\r\n"
			 "Content-Length: %u\r\nCache-Control: max-age=3600\r\n\r\n", m->len);
		wstr(&w, t);
		fill = m->len;
		break;
	}
	case MK_PM_REQ:
		wstr(&w, svcs[s->svc].pm_name);
		if (s->pm_secure)
			wstr(&w, "-s");
		break;
	case MK_PM_REP:
		w8(&w, '+');
		w32(&w, s->pm_secure ? svcs[s->svc].tport : svcs[s->svc].port);
		break;
	case MK_HS: fill = build_hs(s, &w, m); break;
	case MK_TN: build_tn(s, &w, m); break;
	case MK_TN_REC: build_tn_rec(&w, m); fill = m->len - (uint32_t)w.n; s->pool = pool_ebc; break;
	case MK_DDM: fill = build_ddm(s, &w, m); s->pool = pool_ebc; break;
	}
	s->blen = (uint32_t)w.n;
	s->mlen = s->blen + fill;
	s->built = 1;
}

/* Copy bytes [moff, moff+n) of the current message to dst. */
static void fill_payload(struct sess *s, uint8_t *dst, uint32_t n)
{
	const struct msg *m = &s->m[s->mi];
	uint32_t a = s->moff, done = 0;
	if (a < s->blen) {
		done = s->blen - a < n ? s->blen - a : n;
		memcpy(dst, s->buf + a, done);
	}
	if (done < n)
		memcpy(dst + done, s->pool + rnd(POOL_SIZE), n - done);
	if (m->kind == MK_TLS_APP) {   /* record headers every TLS_RS bytes */
		for (uint32_t k = a / TLS_RS; k <= (a + n - 1) / TLS_RS; k++) {
			uint32_t start = k * TLS_RS, body = s->mlen - start - 5;
			if (body > TLS_RS - 5) body = TLS_RS - 5;
			uint8_t h[5] = { 0x17, 0x03, 0x03, (uint8_t)(body >> 8), (uint8_t)body };
			for (uint32_t j = 0; j < 5; j++)
				if (start + j >= a && start + j < a + n)
					dst[start + j - a] = h[j];
		}
	}
	if (m->kind == MK_TN_REC) {    /* IAC EOR */
		if (s->mlen - 2 >= a && s->mlen - 2 < a + n) dst[s->mlen - 2 - a] = 0xff;
		if (s->mlen - 1 >= a && s->mlen - 1 < a + n) dst[s->mlen - 1 - a] = 0xef;
	}
	s->moff += n;
}

/* ------------------------------------------------------------------ packets */

enum { F_FIN = 1, F_SYN = 2, F_RST = 4, F_PSH = 8, F_ACK = 16 };

static uint32_t ip_headers(struct sess *s, uint8_t *f, int dir, int proto, uint32_t l4len)
{
	const uint8_t *src = dir ? s->sip : s->cip, *dst = dir ? s->cip : s->sip;
	memcpy(f, dir ? s->cmac : mac_router, 6);
	memcpy(f + 6, dir ? mac_router : s->cmac, 6);
	uint8_t *ip = f + 14;
	if (!s->v6) {
		f[12] = 0x08; f[13] = 0x00;
		ip[0] = 0x45; ip[1] = 0;
		put_be16(ip + 2, 20 + l4len);
		put_be16(ip + 4, ip_id++);
		ip[6] = 0x40; ip[7] = 0;
		ip[8] = s->ttl[dir]; ip[9] = (uint8_t)proto;
		ip[10] = ip[11] = 0;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		uint16_t c = csum_fold(csum_add(0, ip, 20));
		memcpy(ip + 10, &c, 2);
		return 34;
	}
	f[12] = 0x86; f[13] = 0xdd;
	ip[0] = 0x60; ip[1] = ip[2] = ip[3] = 0;
	put_be16(ip + 4, l4len);
	ip[6] = (uint8_t)proto; ip[7] = s->ttl[dir];
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	return 54;
}

static uint64_t pseudo_sum(struct sess *s, int proto, uint32_t l4len)
{
	uint8_t ph[40];
	int al = s->v6 ? 16 : 4;
	memcpy(ph, s->cip, (size_t)al);
	memcpy(ph + al, s->sip, (size_t)al);
	ph[2 * al] = 0; ph[2 * al + 1] = (uint8_t)proto;
	put_be16(ph + 2 * al + 2, l4len);
	return csum_add(0, ph, (size_t)(2 * al + 4));
}

static void account(struct sess *s, uint16_t port, uint32_t len)
{
	struct portstat *p = s->kind == SK_DNS ? &dnsstat : &pstat[port];
	p->pkts++;
	p->bytes += len;
	if (s->kind != SK_DNS && s->kind != SK_HTTPS && s->kind != SK_HTTP && s->kind != SK_FLOOD)
		ibmi_wire_bytes += len;
}

static void emit_tcp(struct sess *s, int dir, int flags, uint32_t plen)
{
	uint8_t *f = pkt_begin();
	uint32_t optlen = (flags & F_SYN) ? 12 : 0, thl = 20 + optlen, l4 = thl + plen;
	uint32_t off = ip_headers(s, f, dir, 6, l4);
	uint8_t *t = f + off;
	if (plen) {
		fill_payload(s, t + thl, plen);
		s->planned_left -= plen;
		g_pending -= plen;
	}
	put_be16(t, dir ? s->sport : s->cport);
	put_be16(t + 2, dir ? s->cport : s->sport);
	put_be32(t + 4, s->seq[dir]);
	put_be32(t + 8, (flags & F_ACK) ? s->seq[!dir] : 0);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = (uint8_t)flags;
	put_be16(t + 14, (flags & F_SYN) ? 64240 : s->win[dir]);
	t[16] = t[17] = t[18] = t[19] = 0;
	if (optlen) {
		static const uint8_t o[12] = { 2, 4, 0, 0, 1, 3, 3, 7, 4, 2, 1, 1 };
		memcpy(t + 20, o, 12);
		put_be16(t + 22, s->mss);
	}
	uint16_t c = csum_fold(csum_add(pseudo_sum(s, 6, l4), t, l4));
	memcpy(t + 16, &c, 2);
	pkt_end(off + l4);
	tcp_pkts++;
	account(s, s->sport, off + l4);
	s->seq[dir] += plen + ((flags & F_SYN) ? 1u : 0u) + ((flags & F_FIN) ? 1u : 0u);
}

static void emit_dns(struct sess *s, int dir)
{
	uint8_t *f = pkt_begin();
	uint8_t d[160];
	struct wr w = { d, 0, sizeof d };
	int aaaa = s->v6;
	w16(&w, s->corr); w16(&w, dir ? 0x8180 : 0x0100);
	w16(&w, 1); w16(&w, dir ? 1 : 0); w16(&w, 0); w16(&w, dir ? 0 : 0);
	char lab[24];
	snprintf(lab, sizeof lab, "www%u", s->name_id);
	w8(&w, (uint32_t)strlen(lab)); wstr(&w, lab);
	w8(&w, 7); wstr(&w, "example"); w8(&w, 3); wstr(&w, "com"); w8(&w, 0);
	w16(&w, aaaa ? 28 : 1); w16(&w, 1);
	if (dir) {
		w16(&w, 0xc00c); w16(&w, aaaa ? 28 : 1); w16(&w, 1); w32(&w, 300);
		if (aaaa) { w16(&w, 16); w32(&w, 0x20010db8); w32(&w, 0xffff0000); w32(&w, 0); w32(&w, 1 + s->name_id % 250); }
		else { w16(&w, 4); w8(&w, 203); w8(&w, 0); w8(&w, 113); w8(&w, 1 + s->name_id % 250); }
	}
	uint32_t l4 = 8 + (uint32_t)w.n;
	uint32_t off = ip_headers(s, f, dir, 17, l4);
	uint8_t *u = f + off;
	put_be16(u, dir ? 53 : s->cport);
	put_be16(u + 2, dir ? s->cport : 53);
	put_be16(u + 4, l4);
	u[6] = u[7] = 0;
	memcpy(u + 8, d, w.n);
	uint16_t c = csum_fold(csum_add(pseudo_sum(s, 17, l4), u, l4));
	if (c == 0) c = 0xffff;
	memcpy(u + 6, &c, 2);
	pkt_end(off + l4);
	account(s, 53, off + l4);
}

/* ------------------------------------------------------------------ plans */

static void plan_tls_handshake(struct sess *s)
{
	add(s, 0, MK_CH, 0, 0);
	if (s->tls13) {
		add(s, 1, MK_SH13, 0, rrange(900, 1500));
		add(s, 0, MK_CFIN13, 0, 0);
	} else {
		add(s, 1, MK_SH12, 0, 0);
		add(s, 0, MK_CFIN12, 0, 0);
		add(s, 1, MK_SFIN12, 0, 0);
	}
}

/* response sizes: many small, a few large */
static uint32_t web_size(void)
{
	uint32_t r = rnd(1000);
	if (r < 750) return rrange(200, 3000);
	if (r < 950) return rrange(3000, 25000);
	if (r < 995) return rrange(25000, 150000);
	return rrange(150000, 1000000);
}

static void plan_https(struct sess *s)
{
	plan_tls_handshake(s);
	uint32_t n = rgeom(35, 20);
	for (uint32_t i = 0; i < n; i++) {
		add(s, 0, MK_TLS_APP, 0, tls_wrap(rrange(90, 900)));
		add(s, 1, MK_TLS_APP, 0, tls_wrap(web_size()));
	}
	if (rnd(2))
		add(s, 0, MK_TLS_APP, 0, 24);    /* encrypted close_notify */
}

static void plan_http(struct sess *s)
{
	uint32_t n = rgeom(30, 10);
	for (uint32_t i = 0; i < n; i++) {
		add(s, 0, MK_HTTP_REQ, 0, 0);
		add(s, 1, MK_HTTP_RESP, 0, web_size());
	}
}

/* a cleartext message, or the TLS records that would carry it */
static void add_ibmi(struct sess *s, int dir, int kind, int a, uint32_t len)
{
	if (s->tls)
		add(s, dir, MK_TLS_APP, 0, tls_wrap(len));
	else
		add(s, dir, kind, a, len);
}

static uint32_t hs_reply_size(int svc)
{
	uint32_t r = rnd(100);
	switch (svc) {
	case S_DATABASE: return r < 70 ? rrange(100, 2000) : r < 95 ? rrange(2000, 32000) : rrange(32000, 400000);
	case S_FILE: return r < 50 ? rrange(100, 4000) : rrange(4000, 300000);
	case S_NETPRT: return rrange(100, 20000);
	default: return rrange(60, 1500);
	}
}

static void plan_hostserver(struct sess *s)
{
	if (s->tls)
		plan_tls_handshake(s);
	int fail = rnd(100) < 3;
	if (s->svc == S_SIGNON || s->svc == S_HOSTCNN) {
		add_ibmi(s, 0, MK_HS, HS_7003, 52);
		add_ibmi(s, 1, MK_HS, HS_F003, 99);
		if (s->svc == S_HOSTCNN) {
			add_ibmi(s, 0, MK_HS, HS_7002, 64);
			add_ibmi(s, 1, MK_HS, HS_F002, 80);
		} else {
			add_ibmi(s, 0, MK_HS, HS_7004, 80);
			add_ibmi(s, 1, MK_HS, fail ? HS_F004_FAIL : HS_F004, fail ? 24 : 103);
		}
		if (fail) n_signon_fail++;
		return;
	}
	add_ibmi(s, 0, MK_HS, HS_7001, 28);
	add_ibmi(s, 1, MK_HS, HS_F001, 32);
	add_ibmi(s, 0, MK_HS, HS_7002, 64);
	add_ibmi(s, 1, MK_HS, fail ? HS_F002_FAIL : HS_F002, fail ? 24 : 80);
	if (fail) {
		n_signon_fail++;
		return;
	}
	uint32_t t = s->svc == S_DATABASE ? 20 : 0;
	add_ibmi(s, 0, MK_HS, HS_REQ1, 26 + t + rrange(10, 120));
	add_ibmi(s, 1, MK_HS, HS_REP1, 26 + t + rrange(10, 200));
	uint32_t n = rgeom(75, 25);
	for (uint32_t i = 0; i < n; i++) {
		add_ibmi(s, 0, MK_HS, HS_REQ, 26 + t + rrange(20, 600));
		add_ibmi(s, 1, MK_HS, HS_REP, 26 + t + hs_reply_size(s->svc));
	}
	if (svcs[s->svc].endid)
		add_ibmi(s, 0, MK_HS, HS_END, s->svc == S_DATABASE ? 40 : 20);
}

static void plan_telnet(struct sess *s)
{
	if (s->tls)
		plan_tls_handshake(s);
	s->autosign = rnd(100) < 40;
	add_ibmi(s, 1, MK_TN, TN_NEG1, 6);
	add_ibmi(s, 0, MK_TN, TN_NEG2, 6);
	add_ibmi(s, 1, MK_TN, TN_NEG3, 31);
	add_ibmi(s, 0, MK_TN, TN_NEG4, s->autosign ? 190 : 110);   /* length used only under TLS */
	add_ibmi(s, 1, MK_TN, TN_NEG5, 12);
	add_ibmi(s, 0, MK_TN, TN_NEG6, 12);
	uint32_t n = rgeom(85, 30);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = rrange(300, 3000);
		if ((len & 0xff) == 0xff || ((len - 2) & 0xff) == 0xff) len -= 3;
		add_ibmi(s, 1, MK_TN_REC, TN_SCREEN, len);
		len = rrange(20, 160);
		if (((len - 2) & 0xff) == 0xff) len--;
		add_ibmi(s, 0, MK_TN_REC, TN_INPUT, len);
	}
}

static void plan_ddm(struct sess *s)
{
	if (s->tls)
		plan_tls_handshake(s);
	add_ibmi(s, 0, MK_DDM, DD_EXCSAT, 110);
	add_ibmi(s, 1, MK_DDM, DD_EXCSATRD, 150);
	add_ibmi(s, 0, MK_DDM, DD_SECCHK, 80);
	add_ibmi(s, 1, MK_DDM, DD_SECCHKRM, 20);
	uint32_t n = rgeom(70, 20);
	for (uint32_t i = 0; i < n; i++) {
		add_ibmi(s, 0, MK_DDM, DD_REQ, rrange(60, 800));
		add_ibmi(s, 1, MK_DDM, DD_REP, rrange(40, 32000));
	}
}

/* ------------------------------------------------------------------ session start */

static uint32_t pick_client(int ibmi)
{
	uint32_t c;
	if (n_clients > n_v4 && rnd(100) >= 20)
		c = n_v4 + rnd(n_clients - n_v4);
	else
		c = rnd(n_v4);
	if (ibmi) {    /* 40 % of the clients use the IBM i: index mod 5 in {0, 1} */
		c -= c % 5;
		c += rnd(2);
		if (c >= n_clients)
			c = 0;
	}
	return c;
}

static void sess_common(struct sess *s, int kind, uint32_t client)
{
	memset(s, 0, offsetof(struct sess, m));
	s->active = 1;
	s->kind = (uint8_t)kind;
	s->client = client;
	client_addr(client, s);
	s->cport = (uint16_t)rrange(32768, 60999);
	s->seq[0] = (uint32_t)rnd64();
	s->seq[1] = (uint32_t)rnd64();
	static const uint16_t msss[4] = { 1460, 1460, 1400, 1380 };
	s->mss = (uint16_t)(msss[rnd(4)] - (s->v6 ? 20 : 0));
	s->win[0] = (uint16_t)rrange(500, 2058);
	s->win[1] = (uint16_t)rrange(500, 2058);
	s->ttl[0] = client < n_v4 ? 128 : 64;
	s->ttl[1] = 58;
	s->closer = rnd(100) < 70 ? 0 : 1;
	s->rst_close = rnd(100) < 3;
	s->tls13 = rnd(100) < 65;
	client_flags[client] |= CF_ANY;
}

static void count_conn(struct sess *s, int ibmi)
{
	n_tcp_conns++;
	pstat[s->sport].conns++;
	if (s->refuse) pstat[s->sport].refused++;
	if (s->tls) pstat[s->sport].tls++;
	if (!ibmi)
		return;
	n_ibmi_conns++;
	client_flags[s->client] |= CF_IBMI;
	if (s->refuse)   /* refused: the client only attempted it (tlsready's status attempt-only) */
		return;
	int pc = port_class(s->sport);
	if (pc == PC_NONSECURE || (pc == PC_MAPPER && !s->pm_secure))
		client_flags[s->client] |= CF_NONSEC;
	else
		client_flags[s->client] |= CF_SEC;
}

static void start_ibmi_conn(struct sess *s, uint32_t client, int svc, int tls)
{
	sess_common(s, SK_HS, client);
	server_ibmi(s);
	s->svc = (uint8_t)svc;
	s->tls = (uint8_t)tls;
	s->sport = tls ? svcs[svc].tport : svcs[svc].port;
	s->refuse = !tls && rnd(100) < 1;
	if (!s->refuse)
		plan_hostserver(s);
	count_conn(s, 1);
}

static int pick_svc(void)
{
	uint32_t r = rnd(100), acc = 0;
	for (int i = 0; i < S_HOSTCNN; i++) {
		acc += (uint32_t)svcs[i].weight;
		if (r < acc)
			return i;
	}
	return S_SIGNON;
}

static void new_session(struct sess *s)
{
	if (rnd(100) < 20) {     /* DNS over UDP, on top of the TCP mix */
		sess_common(s, SK_DNS, pick_client(0));
		s->name_id = rrange(1, 5000);
		s->corr = rnd(65536);
		memset(s->sip, 0, 16);
		server_web(s, 53);
		s->phase = PH_UDPQ;
		n_dns++;
		dnsstat.conns++;
		return;
	}
	if ((double)rnd(1000000) >= ibmi_share * 1000000.0) {    /* background web */
		int https = rnd(100) < 85;
		sess_common(s, https ? SK_HTTPS : SK_HTTP, pick_client(0));
		s->name_id = rrange(1, 5000);
		server_web(s, 1 + s->name_id % 250 + (s->name_id % 250 == 52));
		s->sport = https ? 443 : 80;
		s->tls = (uint8_t)https;
		if (https) plan_https(s);
		else plan_http(s);
		count_conn(s, 0);
		return;
	}
	uint32_t c = pick_client(1);
	int secure = client_secure(c);
	int tls = secure || rnd(100) < 15;
	uint32_t r = rnd(100);
	if (r < 15) {                     /* port-mapper lookup, then the connection it looked up */
		sess_common(s, SK_PM, c);
		server_ibmi(s);
		s->svc = (uint8_t)pick_svc();
		s->pm_secure = (uint8_t)tls;
		s->sport = 449;
		s->closer = 0;
		add(s, 0, MK_PM_REQ, 0, 0);
		add(s, 1, MK_PM_REP, 0, 0);
		if (tls) n_pm_secure++;
		else n_pm_nonsecure++;
		count_conn(s, 1);
	} else if (r < 75) {              /* host server, directly */
		int svc = pick_svc();
		if (tls && rnd(100) < 5)
			svc = S_HOSTCNN;
		start_ibmi_conn(s, c, svc, tls);
	} else if (r < 95) {              /* telnet 5250 */
		sess_common(s, SK_TN, c);
		server_ibmi(s);
		s->tls = (uint8_t)tls;
		s->sport = tls ? 992 : 23;
		s->refuse = !tls && rnd(100) < 1;
		if (!s->refuse)
			plan_telnet(s);
		count_conn(s, 1);
	} else {                          /* DDM / DRDA */
		sess_common(s, SK_DDM, c);
		server_ibmi(s);
		s->tls = (uint8_t)tls;
		s->sport = tls ? 448 : 446;
		plan_ddm(s);
		count_conn(s, 1);
	}
}

/* ------------------------------------------------------------------ stepping */

/* Emit one packet of s; return 1 when the session has ended. */
static int step(struct sess *s)
{
	switch (s->phase) {
	case PH_UDPQ: emit_dns(s, 0); s->phase = PH_UDPR; return 0;
	case PH_UDPR: emit_dns(s, 1); return 1;
	case PH_SYN:
		emit_tcp(s, 0, F_SYN, 0);
		s->phase = s->refuse ? PH_REFUSE : PH_SYNACK;
		return 0;
	case PH_REFUSE: emit_tcp(s, 1, F_RST | F_ACK, 0); return 1;
	case PH_SYNACK: emit_tcp(s, 1, F_SYN | F_ACK, 0); s->phase = PH_ACK; return 0;
	case PH_ACK:
		emit_tcp(s, 0, F_ACK, 0);
		s->phase = s->nmsg ? PH_DATA : PH_CLOSE1;
		return 0;
	case PH_DATA: {
		if (s->pending_ack) {
			emit_tcp(s, s->ackdir, F_ACK, 0);
			s->pending_ack = 0;
			s->unacked[!s->ackdir] = 0;
		} else {
			if (!s->built)
				build_msg(s);
			const struct msg *m = &s->m[s->mi];
			int dir = m->dir;
			uint32_t left = s->mlen - s->moff, n = left < s->mss ? left : s->mss;
			emit_tcp(s, dir, F_ACK | (n == left ? F_PSH : 0), n);
			s->unacked[dir]++;
			s->unacked[!dir] = 0;
			if (s->moff >= s->mlen) {
				s->mi++;
				s->moff = 0;
				s->built = 0;
				int next = s->mi < s->nmsg ? s->m[s->mi].dir : -1;
				if (next != !dir) {   /* nothing to piggyback the ACK on */
					s->pending_ack = 1;
					s->ackdir = (uint8_t)!dir;
				}
			} else if (s->unacked[dir] >= 2) {
				s->pending_ack = 1;
				s->ackdir = (uint8_t)!dir;
			}
		}
		if (s->mi >= s->nmsg && !s->pending_ack)
			s->phase = PH_CLOSE1;
		return 0;
	}
	case PH_CLOSE1:
		if (s->rst_close) {
			emit_tcp(s, s->closer, F_RST | F_ACK, 0);
			return 1;
		}
		emit_tcp(s, s->closer, F_FIN | F_ACK, 0);
		s->phase = PH_CLOSE2;
		return 0;
	case PH_CLOSE2: emit_tcp(s, !s->closer, F_FIN | F_ACK, 0); s->phase = PH_CLOSE3; return 0;
	default: emit_tcp(s, s->closer, F_ACK, 0); return 1;
	}
}

/* ------------------------------------------------------------------ flood */

/* A full exchange of a flood: handshake, a 40-byte host-server request (sign-on server E009, exchange
 * attributes 7003) and its 40-byte reply, both closed. */
static void flood_exchange(struct sess *f)
{
	static const uint8_t req[20] = { 0, 0, 0, 40, 0, 0, 0xE0, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x70, 0x03 };
	static const uint8_t rep[20] = { 0, 0, 0, 40, 0, 0, 0xE0, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xF0, 0x03 };
	emit_tcp(f, 1, F_SYN | F_ACK, 0);
	emit_tcp(f, 0, F_ACK, 0);
	memset(f->buf, 0, 40);
	memcpy(f->buf, req, sizeof req);
	f->blen = 40;
	f->moff = 0;
	emit_tcp(f, 0, F_PSH | F_ACK, 40);
	memcpy(f->buf, rep, sizeof rep);
	f->moff = 0;
	emit_tcp(f, 1, F_PSH | F_ACK, 40);
	emit_tcp(f, 0, F_FIN | F_ACK, 0);
	emit_tcp(f, 1, F_FIN | F_ACK, 0);
	emit_tcp(f, 0, F_ACK, 0);
}

/* n SYNs; every full_every-th one a full exchange (0: none); sources spoofed, one per SYN, or with
 * n_src the full exchanges come from n_src clients (2001:db8:c:e000::/64) and only the rest are spoofed. */
static void flood(uint64_t n, int synack, uint64_t full_every, uint64_t n_src)
{
	static struct sess f;
	for (uint64_t i = 0; i < n; i++) {
		memset(&f, 0, offsetof(struct sess, m));
		f.kind = SK_FLOOD;
		f.v6 = 1;
		f.cip[0] = 0x20; f.cip[1] = 0x01; f.cip[2] = 0x0d; f.cip[3] = 0xb8; f.cip[5] = 0x0c;
		put_be16(f.cip + 6, 0xf000 | (uint32_t)((i >> 32) & 0x0fff));
		put_be32(f.cip + 8, (uint32_t)rnd64() & 0xfdffffffu);
		put_be32(f.cip + 12, (uint32_t)i);
		f.cmac[0] = 0x02; f.cmac[2] = 0xf1; put_be24(f.cmac + 3, (uint32_t)i);
		f.sip[0] = 0x20; f.sip[1] = 0x01; f.sip[2] = 0x0d; f.sip[3] = 0xb8; f.sip[15] = 0x10;
		f.cport = (uint16_t)rrange(1024, 65535);
		f.sport = (i & 1) ? 9476 : 8476;
		f.mss = 1440;
		f.ttl[0] = 64; f.ttl[1] = 58;
		f.seq[0] = (uint32_t)rnd64();
		f.seq[1] = (uint32_t)rnd64();
		pstat[f.sport].conns++;
		n_tcp_conns++;
		n_ibmi_conns++;
		int full = full_every && i % full_every == 0;
		if (full && n_src) {
			memset(f.cip + 6, 0, 10);
			put_be16(f.cip + 6, 0xe000);
			put_be32(f.cip + 12, (uint32_t)((i / full_every) % n_src) + 1);
		}
		emit_tcp(&f, 0, F_SYN, 0);
		if (full)
			flood_exchange(&f);
		else if (synack)
			emit_tcp(&f, 1, F_SYN | F_ACK, 0);
	}
}

/* ------------------------------------------------------------------ main */

static int parse_size(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || end == s || d < 0)
		return -1;
	double mul = 1;
	if (*end == 'k' || *end == 'K') mul = 1024.0, end++;
	else if (*end == 'm' || *end == 'M') mul = 1024.0 * 1024, end++;
	else if (*end == 'g' || *end == 'G') mul = 1024.0 * 1024 * 1024, end++;
	if (*end == 'b' || *end == 'B') end++;
	if (*end)
		return -1;
	*v = (uint64_t)(d * mul);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: gencap --out FILE [--size BYTES] [--clients N] [--ibmi-share F] [--seed S]\n"
		"       gencap --out FILE --flood N [--flood-synack] [--flood-full K [--flood-clients C]] [--seed S]\n"
		"  --size BYTES       stop starting sessions at this file size (K/M/G suffixes; default 1G)\n"
		"  --clients N        distinct client addresses (default 50000; the first 400 are IPv4)\n"
		"  --ibmi-share F     fraction of TCP connections that are IBM i (default 0.10)\n"
		"  --seed S           PRNG seed (default 1)\n"
		"  --flood N          write N new SYN flows to 8476/9476 instead (flow-table bound test)\n"
		"  --flood-synack     in flood mode, answer each SYN with a SYN-ACK\n"
		"  --flood-full K     every K-th flood connection a full exchange (handshake, 40 bytes each\n"
		"                     way, closed)\n"
		"  --flood-clients C  the full exchanges come from C clients (default: spoofed as the rest)\n");
	exit(2);
}

static const char *port_name(uint16_t p)
{
	switch (p) {
	case 23: return "telnet";
	case 53: return "dns";
	case 80: return "http";
	case 443: return "https";
	case 446: return "ddm";
	case 448: return "ddm-tls";
	case 449: return "as-svrmap";
	case 992: return "telnet-tls";
	case 9480: return "as-hostcnn";
	}
	for (int i = 0; i < S_NSVC; i++) {
		if (svcs[i].port == p) return svcs[i].pm_name;
		if (svcs[i].tport == p) return svcs[i].pm_name;
	}
	return "other";
}

int main(int argc, char **argv)
{
	uint64_t size = 1024ULL * 1024 * 1024, flood_n = 0, seed = 1, v;
	int synack = 0;
	uint64_t full_every = 0, flood_clients = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--flood-synack")) { synack = 1; continue; }
		if (!val) usage();
		if (!strcmp(a, "--out")) out_path = val;
		else if (!strcmp(a, "--size")) { if (parse_size(val, &size) || size < 4096) usage(); }
		else if (!strcmp(a, "--clients")) {
			if (parse_size(val, &v) || v < 1 || v > 100000000) usage();
			n_clients = (uint32_t)v;
		} else if (!strcmp(a, "--ibmi-share")) {
			char *end;
			ibmi_share = strtod(val, &end);
			if (*end || ibmi_share < 0 || ibmi_share > 1) usage();
		} else if (!strcmp(a, "--seed")) { if (parse_size(val, &seed)) usage(); }
		else if (!strcmp(a, "--flood")) { if (parse_size(val, &flood_n) || flood_n < 1) usage(); }
		else if (!strcmp(a, "--flood-full")) { if (parse_size(val, &full_every)) usage(); }
		else if (!strcmp(a, "--flood-clients")) { if (parse_size(val, &flood_clients)) usage(); }
		else usage();
		i++;
	}
	if (!out_path)
		usage();
	g_seed = seed;
	rng_state = mix64(seed ^ 0x7453524541445931ULL);
	n_v4 = n_clients < 400 ? n_clients : 400;
	client_flags = calloc(n_clients, 1);
	outf = fopen(out_path, "wb");
	if (!outf || !client_flags) {
		fprintf(stderr, "gencap: %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	pools_init();
	write_global_header();

	if (flood_n) {
		gap_us = 0;   /* pkt_end adds 1 us per packet */
		flood(flood_n, synack, full_every, flood_clients);
	} else {
		uint64_t guard = size / 40 + 100000000ULL, iter = 0;
		/* fewer sessions at once for small captures, so that --size stays meaningful */
		uint32_t n_slots = size / 65536 < SLOTS ? (uint32_t)(size / 65536) : SLOTS;
		if (n_slots < 1)
			n_slots = 1;
		int active = (int)n_slots, draining = 0;
		for (uint32_t i = 0; i < n_slots; i++)
			new_session(&sess[i]);
		while (active > 0) {
			if (++iter > guard) {
				fprintf(stderr, "gencap: internal error: no end in sight\n");
				return 3;
			}
			uint32_t i = rnd(n_slots);
			for (uint32_t k = 0; k < n_slots && !sess[i].active; k++)
				i = (i + 1) % n_slots;
			struct sess *s = &sess[i];
			if (!step(s))
				continue;
			g_pending -= s->planned_left;   /* what the plan's estimates got wrong */
			s->planned_left = 0;
			if (s->kind == SK_PM) {      /* the lookup is followed by the connection it asked for */
				start_ibmi_conn(s, s->client, s->svc, s->pm_secure);
				continue;
			}
			if (!draining && (double)out_bytes + 1.06 * (double)g_pending >= (double)size)
				draining = 1;
			if (draining) {
				s->active = 0;
				active--;
			} else {
				new_session(s);
			}
		}
	}
	oflush();
	if (fclose(outf) != 0) {
		fprintf(stderr, "gencap: %s: %s\n", out_path, strerror(errno));
		return 1;
	}

	uint64_t cl_any = 0, cl_ibmi = 0, cl_ns = 0, cl_sec = 0, cl_attempt = 0;
	for (uint32_t i = 0; i < n_clients; i++) {
		uint8_t f = client_flags[i];
		cl_any += (f & CF_ANY) != 0;
		cl_ibmi += (f & CF_IBMI) != 0;
		cl_ns += (f & CF_NONSEC) != 0;
		cl_sec += (f & CF_SEC) && !(f & CF_NONSEC);
		cl_attempt += (f & CF_IBMI) && !(f & (CF_SEC | CF_NONSEC));
	}
	printf("mode %s\nseed %llu\nfile %s\nfile_bytes %llu\npackets %llu\nwire_bytes %llu\ntcp_packets %llu\n",
	       flood_n ? "flood" : "normal", (unsigned long long)seed, out_path, (unsigned long long)out_bytes,
	       (unsigned long long)out_pkts, (unsigned long long)wire_bytes, (unsigned long long)tcp_pkts);
	printf("first_packet_s %llu\nlast_packet_s %llu\n", 1767603600ULL, (unsigned long long)(now_us / 1000000));
	printf("tcp_connections %llu\nibmi_connections %llu\nibmi_share_connections %.4f\nibmi_share_bytes %.4f\n",
	       (unsigned long long)n_tcp_conns, (unsigned long long)n_ibmi_conns,
	       n_tcp_conns ? (double)n_ibmi_conns / (double)n_tcp_conns : 0.0,
	       wire_bytes ? (double)ibmi_wire_bytes / (double)wire_bytes : 0.0);
	printf("dns_queries %llu\nmapper_lookups_nonsecure %llu\nmapper_lookups_secure %llu\nsignon_failures %llu\n"
	       "users_in_clear_hostserver_ddm %llu\ntelnet_auto_signon %llu\n",
	       (unsigned long long)n_dns, (unsigned long long)n_pm_nonsecure, (unsigned long long)n_pm_secure,
	       (unsigned long long)n_signon_fail, (unsigned long long)n_hs_user, (unsigned long long)n_tn_user);
	if (!flood_n)
		printf("clients_configured %u\nclients_seen %llu\nibmi_clients %llu\nibmi_nonsecure_clients %llu\n"
		       "ibmi_secure_only_clients %llu\nibmi_attempt_only_clients %llu\n", n_clients, (unsigned long long)cl_any,
		       (unsigned long long)cl_ibmi, (unsigned long long)cl_ns, (unsigned long long)cl_sec,
		       (unsigned long long)cl_attempt);
	printf("# port service class connections refused tls packets wire_bytes\n");
	static const char *const cls[] = { "other", "nonsecure", "secure", "mapper" };
	for (uint32_t p = 0; p < 65536; p++)
		if (pstat[p].pkts)
			printf("port %u %s %s %llu %llu %llu %llu %llu\n", p, port_name((uint16_t)p), cls[port_class((uint16_t)p)],
			       (unsigned long long)pstat[p].conns, (unsigned long long)pstat[p].refused,
			       (unsigned long long)pstat[p].tls, (unsigned long long)pstat[p].pkts,
			       (unsigned long long)pstat[p].bytes);
	if (dnsstat.pkts)
		printf("port 53 dns udp %llu 0 0 %llu %llu\n", (unsigned long long)dnsstat.conns,
		       (unsigned long long)dnsstat.pkts, (unsigned long long)dnsstat.bytes);
	free(client_flags);
	return 0;
}
