/*
 * redact.h - personal names (user profiles, device names, host names) replaced by a
 * keyed hash, and where that key comes from.
 *
 * A built-in key would give QSECOFR the same hash in every organisation, so
 * there is none: the key is the user's (--redact-key-file FILE, or
 * --redact-key KEY), or random for the run, and the report says which.
 */
#ifndef TLSREADY_REDACT_H
#define TLSREADY_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#define REDACT_KEY_MAX 256

enum redact_source { REDACT_KEY_RANDOM = 0, REDACT_KEY_GIVEN, REDACT_KEY_FILE };

/* The first line of FILE (without its end of line) as the key; false with one
 * line in err when it cannot be read or is empty. */
bool redact_key_from_file(const char *path, char *key, size_t len, char *err, size_t errlen);
/* A fresh random key (hex) for this run only. */
bool redact_key_random(char *key, size_t len);
const char *redact_source_name(enum redact_source s);
/* "redacted-" and the first 12 hex digits of HMAC-SHA256(key, name) into buf. */
const char *redact_name(const char *key, const char *name, char *buf, size_t len);

struct inventory;
/* Every user and device name of the inventory replaced by its redacted form, once, before any
 * writer: clients', uses' and sign-on failures' names, and the clients' host names, hardware
 * addresses and DHCP client identifiers.  (Records' names are redacted as written.) */
void redact_inventory(struct inventory *inv, const char *key);

#endif
