/*
 * services.c - the port catalogue (see services.h).
 *
 * The static table is two 64 Ki arrays indexed by port (name index and
 * class): one load per lookup.  Learned ports (a service moved with
 * WRKSRVTBLE, seen in a port-mapper reply) are few and kept in a small
 * bounded list searched before the table.
 */
#include "services.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const class_names[] = {
	[PC_OTHER] = "other", [PC_NONSECURE] = "nonsecure", [PC_SECURE] = "secure", [PC_MAPPER] = "mapper",
};

const char *port_class_name(enum port_class c)
{
	return (unsigned)c <= PC_MAPPER ? class_names[c] : "other";
}

static const struct { const char *name; uint16_t port; enum port_class cls; } builtin[] = {
	{ "as-svrmap", 449, PC_MAPPER },
	{ "as-central", 8470, PC_NONSECURE },   { "as-central", 9470, PC_SECURE },
	{ "as-database", 8471, PC_NONSECURE },  { "as-database", 9471, PC_SECURE },
	{ "as-dtaq", 8472, PC_NONSECURE },      { "as-dtaq", 9472, PC_SECURE },
	{ "as-netdrive", 8473, PC_NONSECURE },  { "as-netdrive", 9473, PC_SECURE },
	{ "as-netprt", 8474, PC_NONSECURE },    { "as-netprt", 9474, PC_SECURE },
	{ "as-rmtcmd", 8475, PC_NONSECURE },    { "as-rmtcmd", 9475, PC_SECURE },
	{ "as-signon", 8476, PC_NONSECURE },    { "as-signon", 9476, PC_SECURE },
	{ "as-hostcnn", 9480, PC_SECURE },
	{ "as-netdrive", 8477, PC_NONSECURE },  /* legacy, no TLS port */
	{ "as-transfer", 8478, PC_NONSECURE },
	{ "as-vrtprint", 8479, PC_NONSECURE },
	{ "telnet", 23, PC_NONSECURE },         { "telnet", 992, PC_SECURE },
	{ "ddm", 446, PC_NONSECURE },           { "ddm", 448, PC_SECURE },
	/* IBM i's other servers with a TLS twin (docs/ibmi-cutover.md, section 12: IBM's port list,
	 * CHGFTPA, CHGPOPA).  On 21, 25, 110 and 389 the protocol's own upgrade (AUTH TLS, STARTTLS, STLS,
	 * LDAP StartTLS) makes a connection secure: classify.c and upgrade.c. */
	{ "ftp", 21, PC_NONSECURE },            { "ftps", 990, PC_SECURE },
	{ "smtp", 25, PC_NONSECURE },
	{ "pop3", 110, PC_NONSECURE },          { "pop3s", 995, PC_SECURE },
	{ "ldap", 389, PC_NONSECURE },          { "ldaps", 636, PC_SECURE },
	{ "as-admin", 2001, PC_NONSECURE },     { "as-admin", 2010, PC_SECURE },
	{ "as-new-nav", 2002, PC_NONSECURE },   { "as-new-nav", 2003, PC_SECURE },
	{ "as-nav", 2004, PC_NONSECURE },       { "as-nav", 2005, PC_SECURE },
	{ "as-admin3-http", 2006, PC_NONSECURE }, { "as-admin3-http", 2007, PC_SECURE },
};

static int name_index(struct services *s, const char *name)
{
	for (int i = 1; i <= s->n_names; i++)
		if (strcmp(s->names[i], name) == 0)
			return i;
	if (s->n_names >= SERVICES_MAX_NAMES || strlen(name) >= SERVICE_NAME_MAX)
		return 0;
	s->n_names++;
	strcpy(s->names[s->n_names], name);
	return s->n_names;
}

const char *services_intern(struct services *s, const char *name)
{
	int i = name_index(s, name);
	return i ? s->names[i] : NULL;
}

void services_init(struct services *s)
{
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++) {
		int n = name_index(s, builtin[i].name);
		s->port_name[builtin[i].port] = (uint8_t)n;
		s->port_cls[builtin[i].port] = (uint8_t)builtin[i].cls;
	}
}

static bool parse_class(const char *w, int *cls)
{
	static const char *const words[] = { "other", "nonsecure", "secure", "mapper" };
	for (int i = 0; i < 4; i++)
		if (strcmp(w, words[i]) == 0) {
			*cls = i;
			return true;
		}
	if (strcmp(w, "none") == 0) {
		*cls = -1;
		return true;
	}
	return false;
}

static bool valid_name(const char *w)
{
	size_t n = strlen(w);
	if (n == 0 || n >= SERVICE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)w[i]) && w[i] != '-' && w[i] != '_' && w[i] != '.')
			return false;
	return true;
}

bool services_load(struct services *s, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	char line[512];
	int lineno = 0, entries = 0;
	bool ok = true;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			ok = false;
			break;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char w[4][128];
		int n = sscanf(line, "%127s %127s %127s %127s", w[0], w[1], w[2], w[3]);
		if (n <= 0)
			continue;
		if (n == 1 && strcmp(w[0], "@replace") == 0) {
			if (entries > 0) {
				snprintf(err, errlen, "%s:%d: @replace must come before any entry", path, lineno);
				ok = false;
				break;
			}
			memset(s->port_name, 0, sizeof s->port_name);
			memset(s->port_cls, 0, sizeof s->port_cls);
			continue;
		}
		if (n != 3) {
			snprintf(err, errlen, "%s:%d: expected NAME PORT CLASS", path, lineno);
			ok = false;
			break;
		}
		char *end;
		errno = 0;
		long port = strtol(w[1], &end, 10);
		int cls;
		if (!valid_name(w[0])) {
			snprintf(err, errlen, "%s:%d: bad service name '%s'", path, lineno, w[0]);
			ok = false;
			break;
		}
		if (*end || errno || port < 1 || port > 65535) {
			snprintf(err, errlen, "%s:%d: bad port '%s' (1-65535)", path, lineno, w[1]);
			ok = false;
			break;
		}
		if (!parse_class(w[2], &cls)) {
			snprintf(err, errlen, "%s:%d: bad class '%s' (nonsecure, secure, mapper, other, none)",
				 path, lineno, w[2]);
			ok = false;
			break;
		}
		if (cls < 0) {
			s->port_name[port] = 0;
			s->port_cls[port] = 0;
		} else {
			int idx = name_index(s, w[0]);
			if (!idx) {
				snprintf(err, errlen, "%s:%d: too many service names", path, lineno);
				ok = false;
				break;
			}
			s->port_name[port] = (uint8_t)idx;
			s->port_cls[port] = (uint8_t)cls;
		}
		entries++;
	}
	fclose(f);
	return ok;
}

struct service_info services_lookup(const struct services *s, const struct addr *server, uint16_t port)
{
	struct service_info si = { NULL, PC_OTHER, false };
	for (int i = 0; i < s->n_learned; i++) {
		const struct learned_port *l = &s->learned[i];
		if (l->port == port && addr_eq(&l->server, server)) {
			si.name = s->names[l->name];
			si.cls = (enum port_class)l->cls;
			si.learned = true;
			return si;
		}
	}
	if (s->port_name[port]) {
		si.name = s->names[s->port_name[port]];
		si.cls = (enum port_class)s->port_cls[port];
	}
	return si;
}

bool services_port_known(const struct services *s, uint16_t port)
{
	return s->port_name[port] != 0;
}

void services_learn(struct services *s, const struct addr *server, uint16_t port, const char *name,
		    enum port_class cls)
{
	int idx = name_index(s, name);
	if (!idx)
		return;
	for (int i = 0; i < s->n_learned; i++) {
		struct learned_port *l = &s->learned[i];
		if (l->port == port && addr_eq(&l->server, server)) {
			l->name = (uint8_t)idx;
			l->cls = (uint8_t)cls;
			return;
		}
	}
	/* Nothing to learn when the table already says the same. */
	if (s->port_name[port] == idx && s->port_cls[port] == cls)
		return;
	if (s->n_learned >= SERVICES_MAX_LEARNED) {
		s->learned_dropped++;
		return;
	}
	struct learned_port *l = &s->learned[s->n_learned++];
	l->server = *server;
	l->port = port;
	l->name = (uint8_t)idx;
	l->cls = (uint8_t)cls;
}

void services_bpf(const struct services *s, char *buf, size_t len)
{
	size_t o = 0;
	int first = 1;
	buf[0] = '\0';
	for (int p = 1; p <= 65535; p++) {
		if (!s->port_name[p])
			continue;
		int q = p;
		while (q + 1 <= 65535 && s->port_name[q + 1])
			q++;
		int n = q > p ? snprintf(buf + o, len - o, "%stcp portrange %d-%d", first ? "" : " or ", p, q)
			      : snprintf(buf + o, len - o, "%stcp port %d", first ? "" : " or ", p);
		if (n < 0 || (size_t)n >= len - o) {
			buf[o] = '\0';
			return;
		}
		o += (size_t)n;
		first = 0;
		p = q;
	}
}
