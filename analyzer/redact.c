/*
 * redact.c - keyed hashes of personal names and their keys (see redact.h).
 * The key file is read once at start-up, before any privilege drop; nothing
 * here writes a file.
 */
#include "redact.h"

#include "inventory.h"

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

static void redact_set(struct name_set *s, const char *key)
{
	struct name_set out = { 0 };
	char b[48];
	for (int i = 0; i < s->n; i++)
		name_set_add(&out, redact_name(key, s->v[i], b, sizeof b));
	out.overflow |= s->overflow;
	name_set_free(s);
	*s = out;
}

void redact_inventory(struct inventory *inv, const char *key)
{
	char b[48];
	key = key ? key : "";
	for (size_t i = 0; i < inv->n_clients; i++) {
		struct inv_client *c = &inv->clients[i];
		redact_set(&c->users, key);
		redact_set(&c->devices, key);
		for (size_t j = 0; j < c->n_use; j++) {
			redact_set(&c->use[j].users, key);
			redact_set(&c->use[j].devices, key);
		}
		/* host names, hardware addresses and DHCP client identifiers name a machine and so a person */
		for (int k = 0; k < c->n_names; k++) {
			redact_name(key, c->names[k].name, b, sizeof b);
			snprintf(c->names[k].name, sizeof c->names[k].name, "%s", b);
		}
		if (c->dhcp && c->dhcp->hw[0]) {
			redact_name(key, c->dhcp->hw, b, sizeof b);
			snprintf(c->dhcp->hw, sizeof c->dhcp->hw, "%s", b);
		}
		if (c->dhcp && c->dhcp->duid[0]) {
			redact_name(key, c->dhcp->duid, b, sizeof b);
			snprintf(c->dhcp->duid, sizeof c->dhcp->duid, "%s", b);
		}
		if (c->dhcp && c->dhcp->client_id[0]) {
			redact_name(key, c->dhcp->client_id, b, sizeof b);
			snprintf(c->dhcp->client_id, sizeof c->dhcp->client_id, "%s", b);
		}
	}
	for (size_t i = 0; i < inv->n_notes; i++)
		if (inv->notes[i].user[0]) {
			redact_name(key, inv->notes[i].user, b, sizeof b);
			snprintf(inv->notes[i].user, sizeof inv->notes[i].user, "%s", b);
		}
}
