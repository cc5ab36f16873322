/*
 * fingerprints.h - which client TLS stack sent a ClientHello, from its JA4
 * (or JA3) fingerprint.
 *
 * A small built-in table holds the stacks seen in the lab (IBM Toolbox for
 * Java on Java's JSSE, OpenSSL, GnuTLS) and Windows Schannel from public
 * evidence (docs/fingerprints.md); --fingerprints FILE adds entries.
 * Patterns are fnmatch(3) globs over the JA4 string (or an exact JA3 hash),
 * the first match wins, file entries before built-in ones.
 */
#ifndef TLSREADY_FINGERPRINTS_H
#define TLSREADY_FINGERPRINTS_H

#include <stdbool.h>
#include <stddef.h>

/* Load "PATTERN NAME..." lines ('#' comments); errors as "FILE:LINE: problem". */
bool fingerprints_load(const char *path, char *err, size_t errlen);
/* Whether a client's software name is a stack name of the table (or its first 47 characters, as
 * the inventory keeps it). */
bool fingerprint_is_stack(const char *name);
/* The stack's name, or NULL. */
const char *fingerprint_stack(const char *ja4, const char *ja3);

#endif
