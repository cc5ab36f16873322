/*
 * classify.h - which dissector owns a flow, and what the flow turned out to be.
 *
 * classify_bytes() is called when a direction's in-order bytes grew: while
 * the owner is undecided it asks every dissector's probe (the catalogue's
 * expectation first: the port is a hint, the bytes decide), then hands the
 * bytes to the owner.  classify_final() turns the facts and the TCP state
 * into the contract's words: transport, mismatch.
 */
#ifndef TLSREADY_CLASSIFY_H
#define TLSREADY_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"

/* Feed direction dir's bytes buf[0..len) (the whole direction so far).
 * Returns true when the owner has nothing more to learn. */
bool classify_bytes(struct flow_record *r, int dir, const uint8_t *buf, uint32_t len, bool midstream);
/* Are the owner's facts complete (nothing more to learn)? */
bool classify_done(const struct flow_record *r);
/* At the end of the flow: transport and mismatch from the facts and TCP. */
void classify_final(struct flow_record *r);
/* Did the bytes show an IBM i protocol (host server, port mapper, 5250, DRDA)? */
bool classify_is_ibmi(const struct flow_record *r);

#endif
