/*
 * fuzz_tls.c - libFuzzer harness for dissectors/tls.c (and x509.c through
 * the Certificate message).
 *
 * Input layout: byte 0 = mode, bytes 1-2 = big-endian length k of the
 * client-to-server part, then k bytes of client data, then the server data
 * (k is cut to what is there).  Both directions are fed as the analyzer
 * does (dissector.h): the whole direction so far, in growing prefixes of
 * `step` = 1 + (mode & 0x3f) bytes, alternating, server first if mode has
 * 0x40; with 0x80 each direction is fed whole in one call.  Feeding stops
 * when tls_done() says so, like the caller.  Seeds: tests/fuzz/seeds/tls/.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tls.h"

static volatile size_t sink;

static void touch_facts(const struct tls_state *s)
{
	const char *n = tls_version_name(s->version);
	sink += n ? strlen(n) : 0;
	n = tls_version_name(s->client_max_version);
	sink += n ? strlen(n) : 0;
	n = tls_cipher_name(s->cipher);
	sink += n ? strlen(n) : 0;
	n = tls_alert_name(s->alert_desc);
	sink += n ? strlen(n) : 0;
	sink += tls_cipher_family(s->cipher) + strlen(s->sni) + strlen(s->alpn) + strlen(s->ja3) +
		strlen(s->ja4) + strlen(s->ja3s) + strlen(s->ja4s);
	for (int i = 0; i < s->chain_len && i < TLS_MAX_CHAIN; i++)
		sink += strlen(s->chain[i]->subject) + strlen(s->chain[i]->san) + strlen(s->chain[i]->sha256);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	uint8_t mode = data[0];
	size_t k = (size_t)data[1] << 8 | data[2];
	const uint8_t *rest = data + 3;
	size_t n = size - 3;
	if (k > n)
		k = n;
	const uint8_t *dir_buf[2] = { rest, rest + k };
	size_t dir_len[2] = { k, n - k };

	static struct tls_state s;
	tls_state_release(&s);   /* the previous input's chain */
	memset(&s, 0, sizeof s);
	s.alert_dir = -1;
	sink += tls_probe(dir_buf[0], dir_len[0], DIR_C2S) + tls_probe(dir_buf[1], dir_len[1], DIR_S2C);

	if (mode & 0x80) {
		int first = (mode & 0x40) ? DIR_S2C : DIR_C2S;
		tls_consume(&s, first, dir_buf[first], dir_len[first]);
		if (!tls_done(&s))
			tls_consume(&s, !first, dir_buf[!first], dir_len[!first]);
	} else {
		size_t step = 1 + (mode & 0x3f), fed[2] = { 0, 0 };
		int d = (mode & 0x40) ? DIR_S2C : DIR_C2S;
		while ((fed[0] < dir_len[0] || fed[1] < dir_len[1]) && !tls_done(&s)) {
			if (fed[d] < dir_len[d]) {
				fed[d] = fed[d] + step < dir_len[d] ? fed[d] + step : dir_len[d];
				tls_consume(&s, d, dir_buf[d], fed[d]);
			}
			d = !d;
		}
	}
	touch_facts(&s);
	return 0;
}
