/*
 * fuzz_x509.c - libFuzzer harness for dissectors/x509.c: the input is one
 * DER certificate candidate, handed to x509_parse as is.  Seeds:
 * tests/fuzz/seeds/x509/ (small DER certificates).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "x509.h"

static volatile size_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct x509_info x;
	if (x509_parse(&x, data, size))
		sink += strlen(x.subject) + strlen(x.issuer) + strlen(x.san) + strlen(x.serial) +
			strlen(x.sig_alg) + strlen(x.sha256) + strlen(x.key_type) + (size_t)x.key_bits;
	return 0;
}
