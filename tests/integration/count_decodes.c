/*
 * count_decodes.c - counts decode_frame() calls, for a test build of tlsready:
 * BUILD/tlsready-count-decodes (make unit), linked with
 * -Wl,--wrap=decode_frame, read by test_decode_once.py.
 *
 * In: every call of decode_frame() made from another object file (capture.c,
 * workers.c, whichever decodes) lands in __wrap_decode_frame first, is
 * counted, and goes on to the real decoder unchanged.  Out: at exit, one line
 * on standard error, "tlsready-count-decodes: decode_frame calls: N".  The
 * count is atomic because any thread may decode; the product binary is built
 * without this file and pays nothing for it.
 */
#include <stdint.h>
#include <stdio.h>

#include "decode.h"

enum decode_result __real_decode_frame(int dlt, const uint8_t *frame, uint32_t caplen, struct packet *pkt);
enum decode_result __wrap_decode_frame(int dlt, const uint8_t *frame, uint32_t caplen, struct packet *pkt);

static uint64_t calls;

enum decode_result __wrap_decode_frame(int dlt, const uint8_t *frame, uint32_t caplen, struct packet *pkt)
{
	__atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
	return __real_decode_frame(dlt, frame, caplen, pkt);
}

__attribute__((destructor)) static void report_calls(void)
{
	fprintf(stderr, "tlsready-count-decodes: decode_frame calls: %llu\n",
		(unsigned long long)__atomic_load_n(&calls, __ATOMIC_RELAXED));
}
