/*
 * software.h - a client's software token (what record_software() keeps in
 * the inventory) read back as a name and the evidence behind it.
 *
 * Input: one token, e.g. "DRDA PRDID JCC04290", "telnet terminal type
 * IBM-3179-2", "host-server level 10, version 1, CCSID 1200", or a TLS stack name from
 * the fingerprint table.  Output: a name from documented tables only
 * (docs/software.md cites them) and the evidence the bytes gave.  Tokens
 * come from the wire: callers escape both for their destination.
 */
#ifndef TLSREADY_SOFTWARE_H
#define TLSREADY_SOFTWARE_H

#include <stddef.h>

/* The name and evidence of a token, each truncated to its buffer (always terminated). */
void software_describe(const char *token, char *name, size_t name_len, char *evidence, size_t evidence_len);
/* "NAME (EVIDENCE)" into buf. */
const char *software_line(const char *token, char *buf, size_t len);

#endif
