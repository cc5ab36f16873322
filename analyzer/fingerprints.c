/*
 * fingerprints.c - JA4/JA3 to client TLS stack (see fingerprints.h).
 *
 * The built-in patterns come from the lab's captures, where the truth says
 * which program made each connection (jt400 on OpenJDK 17, openssl
 * s_client 3.0, gnutls-cli 3.7, Python's ssl on OpenSSL 3.0), and from
 * Java ClientHellos made by test_fingerprints_java.py; the JA4 "b"
 * part (a hash of the sorted cipher list) identifies the library, the "a"
 * part varies with the versions and extensions a program asks for.
 *
 * The Windows Schannel entries come from no lab (Debian has no Schannel):
 * each names its evidence in docs/fingerprints.md (a public capture's bytes
 * or public JA4 records, checked against Microsoft's published default
 * cipher lists).  They match on the cipher set (the "b" part) of one
 * Schannel default list, which no other stack in the table sends.
 */
#include "fingerprints.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FP_MAX_USER 256

struct fp {
	char pattern[96];
	char name[64];
};

static const struct fp builtin[] = {
	/* OpenJDK's SunJSSE (ACS, IBM Toolbox for Java on OpenJDK, Semeru, Temurin): the default suites
	 * before and after java.security disabled TLS_RSA_* (docs/fingerprints.md) */
	{ "t1??37????_db35923f8641_*", "Java SunJSSE (OpenJDK 17, with TLS_RSA)" },
	{ "t1??31????_1d947a95fc68_*", "Java SunJSSE (OpenJDK 17, no TLS_RSA)" },
	{ "t13i291200_723694b0fccc_*", "GnuTLS" },
	{ "t13?311000_e8f1e7e78f70_*", "OpenSSL 3" },
	{ "t13d041000_16476d049b0b_*", "OpenSSL 3 (TLS 1.3 only)" },
	{ "t12d280700_d943125447b4_*", "OpenSSL 3 (TLS 1.2 only)" },
	{ "t1[01]d090600_c491f621fb4c_*", "OpenSSL 3 (TLS 1.0/1.1 only)" },
	/* Windows Schannel: docs/fingerprints.md says where each comes from */
	{ "t12?21????_76e208dd3e22_*", "Windows Schannel (Windows 10 defaults)" },
	{ "t12?19????_d83cc789557e_*", "Windows Schannel (Windows 10, no DHE)" },
	{ "t10?12????_d94e65cdb899_*", "Windows Schannel (Vista/7, TLS 1.0)" },
};

static struct fp user[FP_MAX_USER];
static int n_user;

bool fingerprints_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	char line[512];
	int lineno = 0;
	bool ok = true;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char pat[128];
		int used = 0;
		if (sscanf(line, "%127s %n", pat, &used) != 1)
			continue;
		char *name = line + used;
		name[strcspn(name, "\r\n")] = '\0';
		while (*name == ' ' || *name == '\t')
			name++;
		size_t nl = strlen(name);
		while (nl && (name[nl - 1] == ' ' || name[nl - 1] == '\t'))
			name[--nl] = '\0';
		if (!nl || strlen(pat) >= sizeof user[0].pattern || nl >= sizeof user[0].name) {
			snprintf(err, errlen, "%s:%d: expected PATTERN NAME (pattern < 96, name < 64 characters)",
				 path, lineno);
			ok = false;
			break;
		}
		if (n_user >= FP_MAX_USER) {
			snprintf(err, errlen, "%s:%d: more than %d entries", path, lineno, FP_MAX_USER);
			ok = false;
			break;
		}
		snprintf(user[n_user].pattern, sizeof user[0].pattern, "%s", pat);
		snprintf(user[n_user].name, sizeof user[0].name, "%s", name);
		n_user++;
	}
	fclose(f);
	return ok;
}

static const char *match(const struct fp *t, int n, const char *ja4, const char *ja3)
{
	for (int i = 0; i < n; i++) {
		if (ja4 && *ja4 && fnmatch(t[i].pattern, ja4, 0) == 0)
			return t[i].name;
		if (ja3 && *ja3 && strcmp(t[i].pattern, ja3) == 0)
			return t[i].name;
	}
	return NULL;
}

const char *fingerprint_stack(const char *ja4, const char *ja3)
{
	const char *s = match(user, n_user, ja4, ja3);
	return s ? s : match(builtin, (int)(sizeof builtin / sizeof builtin[0]), ja4, ja3);
}

static bool named_in(const struct fp *t, int n, const char *name)
{
	size_t l = strlen(name);
	for (int i = 0; i < n; i++)
		if (l && (strcmp(t[i].name, name) == 0 || (l == 47 && strncmp(t[i].name, name, l) == 0)))
			return true;
	return false;
}

bool fingerprint_is_stack(const char *name)
{
	return named_in(user, n_user, name) || named_in(builtin, (int)(sizeof builtin / sizeof builtin[0]), name);
}
