/*
 * dissector.h - what every protocol dissector under dissectors/ has in common.
 *
 * A dissector is bytes in, facts out.  Each one (tls, portmapper, hostserver,
 * telnet5250, drda) has its own small state struct that holds both its parser
 * position and the facts it learned, zero-initialised for a new flow, and the
 * same three functions:
 *
 *   enum probe X_probe(const uint8_t *buf, size_t len, int dir);
 *       A cheap look at the first bytes of one direction: is this mine?
 *       PROBE_MAYBE means "not enough bytes yet to say".
 *
 *   void X_consume(struct X_state *s, int dir, const uint8_t *buf, size_t len);
 *       buf holds every in-order byte of direction `dir` seen so far, from
 *       the first byte of that direction; len only grows between calls.  The
 *       dissector remembers how far it parsed and continues from there, so a
 *       PDU split over segments is simply parsed when its last byte arrives.
 *       A unit test can call it with len = 1, 2, 3 ... over one buffer.
 *
 *   bool X_done(const struct X_state *s);
 *       Nothing more worth learning: the caller may stop feeding the flow.
 *
 * Dissectors read only through analyzer/cursor.h, do no I/O, allocate nothing
 * per packet, and never output secrets (password substitutes, tokens, seeds,
 * IBMSUBSPW): only their kind and length.
 */
#ifndef TLSREADY_DISSECTOR_H
#define TLSREADY_DISSECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { DIR_C2S = 0, DIR_S2C = 1 };

enum probe { PROBE_NO = 0, PROBE_MAYBE = 1, PROBE_YES = 2 };

/* Value-to-name tables, tcpdump's struct tok. */
struct tok {
	uint32_t v;
	const char *s;
};

/* Name for v, or NULL when the table has none. */
const char *tok_name(const struct tok *t, uint32_t v);

/* EBCDIC (CCSID 37) to ASCII for names: profile, device, job, product.
 * Copies at most n bytes, stops at NUL, trims trailing blanks, NUL-terminates
 * dst (dst holds dstlen bytes).  Returns false if a byte has no printable
 * ASCII equivalent (the output then holds '?' there). */
bool ebcdic_to_ascii(char *dst, size_t dstlen, const uint8_t *src, size_t n);

#endif
