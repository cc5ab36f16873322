/*
 * redact.c - keyed hashes of personal names and their keys (see redact.h).
 * The key file is read once at start-up, before any privilege drop; nothing
 * here writes a file.
 */
#include "redact.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

bool redact_key_from_file(const char *path, char *key, size_t len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot read the redaction key: %s", path, strerror(errno));
		return false;
	}
	bool got = fgets(key, (int)len, f) != NULL;
	fclose(f);
	if (got)
		key[strcspn(key, "\r\n")] = '\0';
	if (!got || !key[0]) {
		snprintf(err, errlen, "%s: the redaction key file is empty", path);
		return false;
	}
	return true;
}

bool redact_key_random(char *key, size_t len)
{
	unsigned char b[32];
	if (len < 2 * sizeof b + 1 || getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		return false;
	for (size_t i = 0; i < sizeof b; i++)
		snprintf(key + 2 * i, 3, "%02x", b[i]);
	return true;
}

const char *redact_source_name(enum redact_source s)
{
	static const char *const n[] = { "random", "given", "file" };
	return (unsigned)s <= REDACT_KEY_FILE ? n[s] : "random";
}

const char *redact_name(const char *key, const char *name, char *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)name, strlen(name), md, &mdlen);
	snprintf(buf, len, "redacted-%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2], md[3], md[4], md[5]);
	return buf;
}
