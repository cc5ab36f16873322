/*
 * protocols.h - the table of every protocol tlsready dissects (see
 * dissectors/protocol.h for what a protocol describes).  The order is the
 * probing order: TLS first (it may come on any port), then the IBM i
 * protocols.  Classification, the light probe, records and writers walk it.
 */
#ifndef TLSREADY_PROTOCOLS_H
#define TLSREADY_PROTOCOLS_H

#include "protocol.h"

/* NULL-terminated, in probing order. */
extern const struct protocol *const protocols[];

#endif
