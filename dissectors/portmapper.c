/*
 * portmapper.c - the IBM i port mapper (as-svrmap, TCP 449).
 *
 * What it is for: a client that does not know a host server's port asks the
 * mapper for it by name ("as-signon-s") and gets back '+' and a 32-bit port.
 * A passive observer thus learns the service and the client's TLS intent
 * ("-s") even when the session itself is encrypted, and the real port of
 * that service on that system (the engine feeds it back into the catalogue).
 *
 * How data enters: pm_consume() gets every in-order byte of one direction
 * so far (dissector.h).  The request has no length and no terminator, so the
 * name is re-read from the start of the client direction each time it grows
 * and is final when the server starts to answer, or when it reaches
 * PM_NAME_MAX characters.  The reply is exactly 5 bytes; any other first
 * byte is a failure (its format beyond the first byte is not known).
 *
 * How data leaves: struct pm_state (portmapper.h): requested, service,
 * secure, reply_ok, port, reply_byte, malformed.
 *
 * Sources: /work/shared/docs/ibmi-protocols.md section 1 (request and reply
 * layout, VERIFIED from JTOpen AS400PortMapDS / AS400PortMapReplyDS; the
 * failure reply is UNCERTAIN, hence only its first byte is kept), section 0
 * (service names and the as-file/netdrive alias), section 7 (classifier).
 */
#include "portmapper.h"

#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "protocol.h"

#define PM_NAME_MAX 20          /* longest name accepted (as-database-s is 13) */
#define PM_REPLY_LEN 5
#define PM_REPLY_OK 0x2B        /* '+' */

/* Names whose catalogue entry differs from what the client sends. */
static const struct { const char *sent; const char *catalogue; } pm_alias[] = {
	{ "as-file", "as-netdrive" },
	{ "as-ddm", "ddm" },
	{ "drda", "ddm" },
};

static bool pm_name_char(uint8_t b)
{
	return (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-';
}

static bool pm_alnum_run(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '-')
			return false;
	return true;
}

/*
 * Does name match as-[a-z0-9]+(-s)? or drda(-s)?  On a match, *base_len is
 * the length without "-s" and *secure tells whether it was there.
 */
static bool pm_match(const char *name, size_t n, size_t *base_len, bool *secure)
{
	bool suffix = n > 2 && name[n - 2] == '-' && name[n - 1] == 's';
	*secure = false;
	*base_len = n;
	if ((n == 4 || (n == 6 && suffix)) && memcmp(name, "drda", 4) == 0) {
		*secure = suffix;
		*base_len = 4;
		return true;
	}
	if (n < 4 || memcmp(name, "as-", 3) != 0)
		return false;
	if (suffix && n > 5 && pm_alnum_run(name + 3, n - 5)) {
		*secure = true;
		*base_len = n - 2;
		return true;
	}
	return pm_alnum_run(name + 3, n - 3);
}

static void pm_set_service(struct pm_state *s, const char *name, size_t base_len)
{
	char base[PM_NAME_MAX + 1];
	memcpy(base, name, base_len);
	base[base_len] = '\0';
	const char *cat = base;
	for (size_t i = 0; i < sizeof pm_alias / sizeof pm_alias[0]; i++)
		if (strcmp(base, pm_alias[i].sent) == 0)
			cat = pm_alias[i].catalogue;
	size_t n = strlen(cat);
	if (n >= sizeof s->service)
		n = sizeof s->service - 1;
	memcpy(s->service, cat, n);
	s->service[n] = '\0';
}

/* Re-read the client's name from the start; facts follow the longest match. */
static void pm_read_name(struct pm_state *s, const uint8_t *buf, size_t len)
{
	struct cursor c = cur_make(buf, len);
	char name[PM_NAME_MAX + 1];
	size_t n = 0;
	while (cur_left(&c) > 0) {
		uint8_t b = cur_u8(&c);
		if (n == PM_NAME_MAX || !pm_name_char(b)) {
			s->malformed = true;       /* too long or not a service name */
			s->request = false;
			return;
		}
		name[n++] = (char)b;
	}
	name[n] = '\0';
	memcpy(s->requested, name, n + 1);
	s->off[DIR_C2S] = n;
	size_t base_len;
	bool secure;
	if (pm_match(name, n, &base_len, &secure)) {
		s->request = true;
		s->secure = secure;
		pm_set_service(s, name, base_len);
	}
	if (n == PM_NAME_MAX)
		s->request_done = true;
}

/* The name is complete: it must be a service name by now. */
static void pm_finish_request(struct pm_state *s)
{
	if (s->request_done)
		return;
	s->request_done = true;
	size_t n = strlen(s->requested), base_len;
	bool secure;
	if (n > 0 && !pm_match(s->requested, n, &base_len, &secure)) {
		s->request = false;
		s->malformed = true;
	}
}

static void pm_read_reply(struct pm_state *s, const uint8_t *buf, size_t len)
{
	struct cursor c = cur_make(buf, len);
	if (s->reply) {                   /* bytes after the reply */
		if (s->reply_byte == PM_REPLY_OK)
			s->malformed = true;      /* a success reply is exactly 5 bytes */
		s->off[DIR_S2C] = len;
		return;
	}
	uint8_t first = cur_u8(&c);
	if (first != PM_REPLY_OK) {
		s->reply = true;              /* failure: only the first byte is known */
		s->reply_byte = first;
		s->off[DIR_S2C] = len;
		return;
	}
	if (len < PM_REPLY_LEN)
		return;
	s->port = cur_be32(&c);
	s->reply = true;
	s->reply_byte = first;
	s->reply_ok = s->port > 0 && s->port <= 65535;
	s->off[DIR_S2C] = PM_REPLY_LEN;
	if (len > PM_REPLY_LEN)
		pm_read_reply(s, buf, len);
}

void pm_consume(struct pm_state *s, int dir, const uint8_t *buf, size_t len)
{
	if (!s || !buf || s->malformed || (dir != DIR_C2S && dir != DIR_S2C) || len <= s->off[dir])
		return;
	if (dir == DIR_C2S) {
		if (!s->request_done)
			pm_read_name(s, buf, len);
		else if (!s->reply) {
			s->malformed = true;      /* more name after its maximum length */
			s->request = false;
		}
		else
			s->off[DIR_C2S] = len;    /* after the reply: one lookup per connection */
		return;
	}
	pm_finish_request(s);
	if (!s->malformed)
		pm_read_reply(s, buf, len);
}

bool pm_done(const struct pm_state *s)
{
	return !s || s->malformed || s->reply;
}

enum probe pm_probe(const uint8_t *buf, size_t len, int dir)
{
	struct cursor c = cur_make(buf, len);
	if (len == 0)
		return PROBE_MAYBE;
	if (dir == DIR_S2C) {
		if (cur_peek_u8(&c, 0) != PM_REPLY_OK)
			return PROBE_NO;
		return len < PM_REPLY_LEN ? PROBE_MAYBE : len == PM_REPLY_LEN ? PROBE_YES : PROBE_NO;
	}
	if (len > PM_NAME_MAX)
		return PROBE_NO;
	char name[PM_NAME_MAX + 1];
	for (size_t i = 0; i < len; i++) {
		uint8_t b = cur_u8(&c);
		if (!pm_name_char(b))
			return PROBE_NO;
		name[i] = (char)b;
	}
	size_t head = len < 4 ? len : 4;
	if (memcmp(name, "as-", head < 3 ? head : 3) != 0 && memcmp(name, "drda", head) != 0)
		return PROBE_NO;
	if (len < 4)
		return PROBE_MAYBE;
	if (memcmp(name, "drda", 4) == 0 || (memcmp(name, "as-", 3) == 0 && name[3] != '-'))
		return PROBE_YES;
	return PROBE_NO;
}

/* ---- registration (protocol.h) ---- */

static bool pm_expected(const char *service, int cls)
{
	(void)service;
	return cls == PROTO_PC_MAPPER;
}

static void *pm_create(void) { return calloc(1, sizeof(struct pm_state)); }
static void pm_consume_any(void *s, int dir, const uint8_t *buf, size_t len) { pm_consume(s, dir, buf, len); }
static bool pm_done_any(const void *s) { return pm_done(s); }

static bool pm_is_ibmi(const void *v)
{
	const struct pm_state *p = v;
	return p->request && !p->malformed;
}

/* Its facts (the lookup, the answer) are the flow's "mapper" object, which the writers print. */
const struct protocol protocol_portmapper = {
	.name = "portmapper", .light = true, .expected = pm_expected, .probe = pm_probe, .create = pm_create,
	.state_size = sizeof(struct pm_state),
	.consume = pm_consume_any, .done = pm_done_any, .is_ibmi = pm_is_ibmi,
};
