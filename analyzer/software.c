/*
 * software.c - names a client's software from its token (see software.h).
 *
 * The tables are documented ones, cited in docs/software.md: DRDA product
 * identifier prefixes (Open Group DRDA, IBM Db2 documentation; Apache
 * Derby's "DNC"/"CSS" from its own bytes in pcaps/doors2.pcapng), 5250 and
 * 3270 terminal types (RFC 4777, RFC 2877, RFC 1647), and the TLS fingerprint
 * table (fingerprints.c).  No token is guessed into a product it does not
 * name: an unknown prefix or terminal type keeps the raw value as the name.
 */
#include "software.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprints.h"

static const struct { const char prefix[4]; const char *name; } prdids[] = {
	{ "ARI", "Db2 for VSE & VM" },
	{ "CSS", "Apache Derby network server" },
	{ "DNC", "Apache Derby network client" },
	{ "DSN", "Db2 for z/OS" },
	{ "JCC", "IBM Data Server Driver for JDBC and SQLJ (JCC)" },
	{ "QSQ", "Db2 for i" },
	{ "SQL", "Db2 for Linux, UNIX and Windows (or an IBM data server client)" },
};

static bool prefixed(const char *s, const char *p, const char **rest)
{
	size_t n = strlen(p);
	if (strncmp(s, p, n) != 0)
		return false;
	*rest = s + n;
	return true;
}

/* PRDID "pppvvrrm" (DRDA: product, version, release, modification level). */
static void name_prdid(const char *id, char *name, size_t len)
{
	for (size_t i = 0; i < sizeof prdids / sizeof prdids[0]; i++) {
		if (strncmp(id, prdids[i].prefix, 3) != 0)
			continue;
		bool digits = strlen(id) == 8;
		for (int k = 3; digits && k < 8; k++)
			digits = isdigit((unsigned char)id[k]);
		if (digits)
			snprintf(name, len, "%s V%dR%dM%c", prdids[i].name, (id[3] - '0') * 10 + (id[4] - '0'),
				 (id[5] - '0') * 10 + (id[6] - '0'), id[7]);
		else
			snprintf(name, len, "%s", prdids[i].name);
		return;
	}
	snprintf(name, len, "DRDA product %s", id);
}

/* RFC 4777 and RFC 2877 list the 5250 display and printer types, RFC 1647 the 3270 ones
 * (by their model number, "IBM-3179-2"). */
static void name_terminal(const char *tt, char *name, size_t len)
{
	static const char *const display[] = { "3179", "3180", "3196", "3477", "3486", "3487", "5251", "5291",
					       "5292", "5555" };
	static const char *const printer[] = { "3812", "5553" };
	static const char *const t3270[] = { "3277", "3278", "3279", "3287" };
	const char *m;
	if (prefixed(tt, "IBM-", &m) && strlen(m) >= 4) {
		for (size_t i = 0; i < sizeof display / sizeof display[0]; i++)
			if (strncmp(m, display[i], 4) == 0) {
				snprintf(name, len, "5250 display emulator");
				return;
			}
		for (size_t i = 0; i < sizeof printer / sizeof printer[0]; i++)
			if (strncmp(m, printer[i], 4) == 0) {
				snprintf(name, len, "5250 printer emulator");
				return;
			}
		for (size_t i = 0; i < sizeof t3270 / sizeof t3270[0]; i++)
			if (strncmp(m, t3270[i], 4) == 0) {
				snprintf(name, len, "3270 emulator");
				return;
			}
	}
	(void)tt;
	snprintf(name, len, "telnet client");
}

void software_describe(const char *token, char *name, size_t name_len, char *evidence, size_t evidence_len)
{
	const char *v;
	if (prefixed(token, "DRDA PRDID ", &v)) {
		name_prdid(v, name, name_len);
		snprintf(evidence, evidence_len, "DRDA product identifier PRDID %s", v);
	} else if (prefixed(token, "DRDA EXTNAM ", &v)) {
		snprintf(name, name_len, "%s", v);
		snprintf(evidence, evidence_len, "DRDA external name EXTNAM %s", v);
	} else if (prefixed(token, "telnet terminal type ", &v)) {
		name_terminal(v, name, name_len);
		snprintf(evidence, evidence_len, "telnet terminal type %s", v);
	} else if (prefixed(token, "host-server level ", &v) || prefixed(token, "host-server datastream level ", &v)) {
		/* "10, version 1, CCSID 1200" (hostserver.c), or a store's older "10" */
		int level = atoi(v);
		snprintf(name, name_len, "IBM i host-server client (datastream level %d)", level);
		snprintf(evidence, evidence_len, "host-server exchange attributes and sign-on: datastream level %s", v);
	} else if (fingerprint_is_stack(token)) {
		snprintf(name, name_len, "%s", token);
		snprintf(evidence, evidence_len, "TLS ClientHello fingerprint, JA4/JA3 table");
	} else {
		/* a token kept before its evidence was, or a stack named by a table no longer loaded */
		snprintf(name, name_len, "%s", token);
		snprintf(evidence, evidence_len, "as recorded");
	}
}

const char *software_line(const char *token, char *buf, size_t len)
{
	char name[128], ev[128];
	software_describe(token, name, sizeof name, ev, sizeof ev);
	snprintf(buf, len, "%s (%s)", name, ev);
	return buf;
}
