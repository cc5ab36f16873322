/*
 * test_compare.c - two periods of the inventory compared (analyzer/compare.c)
 * and the comparison's writers (analyzer/report_compare_*.c).
 *
 * The inventories are built here by hand, as the store will hand them over:
 * clients with a status, usage rows with counts, name sets.  Every expected
 * list, total and output line is written out below from the rules in
 * compare.h, not computed by the code under test.  The JSON is checked by a
 * small strict parser (itself checked against broken documents), the CSV by
 * an RFC 4180 splitter that counts the fields of every record and unquotes
 * the hostile cell.  The writers' quoting is checked against the existing
 * CSV and text reports on the same names.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "capture.h"
#include "compare.h"
#include "redact.h"
#include "report_compare.h"

#define S(x) ((int64_t)(x) * 1000000)
#define T0 1762732800LL          /* 2025-11-10 00:00:00 UTC */
#define T1 (T0 + 7 * 86400)      /* 2025-11-17 */
#define T2 (T1 + 7 * 86400)      /* 2025-11-24 */
#define SRV1 "192.0.2.10"
#define SRV2 "192.0.2.20"
#define MAX_CLIENTS 32
#define CSV_FIELDS 20

/* ---- building inventories by hand ---- */

static void inv_new(struct inventory *inv)
{
	memset(inv, 0, sizeof *inv);
	inv->clients = calloc(MAX_CLIENTS, sizeof *inv->clients);
	assert_non_null(inv->clients);
}

static struct inv_client *client(struct inventory *inv, const char *ip, enum client_status st, bool internal)
{
	int len;
	assert_true(inv->n_clients < MAX_CLIENTS);
	struct inv_client *c = &inv->clients[inv->n_clients++];
	assert_true(addr_parse_prefix(ip, &c->ip, &len));
	c->status = st;
	c->internal = internal;
	return c;
}

/* One usage row; the pointer is good until the client's next row. */
static struct inv_usage *use(struct inv_client *c, const char *srv, const char *svc, uint16_t port,
			     enum port_class cls, uint64_t conns, uint64_t refused, uint64_t tls, int64_t first_s,
			     int64_t last_s)
{
	int len;
	struct inv_usage *v = realloc(c->use, (c->n_use + 1) * sizeof *v);
	assert_non_null(v);
	c->use = v;
	c->cap_use = ++c->n_use;
	struct inv_usage *u = &c->use[c->n_use - 1];
	memset(u, 0, sizeof *u);
	assert_true(addr_parse_prefix(srv, &u->server, &len));
	u->service = svc;
	u->port = port;
	u->cls = cls;
	u->connections = conns;
	u->refused = refused;
	u->tls = tls;
	u->first_us = S(first_s);
	u->last_us = S(last_s);
	return u;
}

static const struct cmp_period P_BEFORE = { S(T0), S(T1) }, P_AFTER = { S(T1), S(T2) };

/*
 * The week of the main test.  Before:              After:
 *   A 10.0.0.1  signon 8476, database 8471          database 8471, TLS on signon 9476
 *   B 10.0.0.2  telnet 23                           (absent)
 *   C 10.0.0.3  secure: signon 9476                 telnet 23
 *   D 10.0.0.4  (absent)                            ddm 446 on SRV2
 *   E 10.0.0.5  rmtcmd 8475 on SRV1                 rmtcmd 8475 on SRV2 (moved servers)
 *   F 10.0.0.6  attempt-only: telnet 23 refused     (absent)
 *   G 10.0.0.7  (absent)                            attempt-only: signon 8476 refused
 *   I 10.0.0.9  dtaq 8472                           secure, but TLS failed on 9472
 *   J 10.0.0.10 telnet 23                           TLS on 992, named telnet-ssl (WRKSRVTBLE's name)
 *   H 127.0.0.1 internal: central 8470              central 8470
 * The clients are added out of address order on purpose.
 */
static void week(struct inventory *b, struct inventory *a)
{
	struct inv_client *c;
	struct inv_usage *u;
	inv_new(b);
	inv_new(a);

	c = client(b, "127.0.0.1", CS_NONSECURE, true);
	use(c, "127.0.0.1", "as-central", 8470, PC_NONSECURE, 5, 0, 0, T0 + 50, T0 + 60);
	c = client(b, "10.0.0.2", CS_NONSECURE, false);
	u = use(c, SRV1, "telnet", 23, PC_NONSECURE, 1, 0, 0, T0 + 300, T0 + 400);
	name_set_add(&u->users, "BOB");
	name_set_add(&c->users, "BOB");
	c = client(b, "10.0.0.1", CS_NONSECURE, false);
	u = use(c, SRV1, "as-signon", 8476, PC_NONSECURE, 3, 0, 0, T0 + 100, T0 + 200);
	name_set_add(&u->users, "QUSER");
	use(c, SRV1, "as-database", 8471, PC_NONSECURE, 2, 0, 0, T0 + 110, T0 + 210);
	c = client(b, "10.0.0.3", CS_SECURE, false);
	use(c, SRV1, "as-signon", 9476, PC_SECURE, 2, 0, 2, T0 + 500, T0 + 600);
	c = client(b, "10.0.0.5", CS_NONSECURE, false);
	use(c, SRV1, "as-rmtcmd", 8475, PC_NONSECURE, 1, 0, 0, T0 + 700, T0 + 800);
	c = client(b, "10.0.0.6", CS_ATTEMPT, false);
	use(c, SRV1, "telnet", 23, PC_NONSECURE, 2, 2, 0, T0 + 900, T0 + 901);
	c = client(b, "10.0.0.10", CS_NONSECURE, false);
	use(c, SRV1, "telnet", 23, PC_NONSECURE, 1, 0, 0, T0 + 1000, T0 + 1100);
	c = client(b, "10.0.0.9", CS_NONSECURE, false);
	use(c, SRV1, "as-dtaq", 8472, PC_NONSECURE, 1, 0, 0, T0 + 1200, T0 + 1300);

	c = client(a, "10.0.0.1", CS_NONSECURE, false);
	u = use(c, SRV1, "as-signon", 9476, PC_SECURE, 4, 0, 4, T1 + 100, T1 + 200);
	u->tls_versions = 1u << 4;
	use(c, SRV1, "as-database", 8471, PC_NONSECURE, 5, 0, 0, T1 + 110, T1 + 210);
	c = client(a, "10.0.0.3", CS_NONSECURE, false);
	use(c, SRV1, "telnet", 23, PC_NONSECURE, 2, 0, 0, T1 + 300, T1 + 400);
	c = client(a, "10.0.0.4", CS_NONSECURE, false);
	use(c, SRV2, "ddm", 446, PC_NONSECURE, 1, 0, 0, T1 + 500, T1 + 600);
	c = client(a, "10.0.0.5", CS_NONSECURE, false);
	use(c, SRV2, "as-rmtcmd", 8475, PC_NONSECURE, 1, 0, 0, T1 + 700, T1 + 800);
	c = client(a, "10.0.0.7", CS_ATTEMPT, false);
	use(c, SRV1, "as-signon", 8476, PC_NONSECURE, 3, 3, 0, T1 + 900, T1 + 901);
	c = client(a, "127.0.0.1", CS_NONSECURE, true);
	use(c, "127.0.0.1", "as-central", 8470, PC_NONSECURE, 4, 0, 0, T1 + 50, T1 + 60);
	c = client(a, "10.0.0.9", CS_SECURE, false);
	u = use(c, SRV1, "as-dtaq", 9472, PC_SECURE, 1, 0, 0, T1 + 1200, T1 + 1300);
	u->failed_tls = 1;
	c = client(a, "10.0.0.10", CS_SECURE, false);
	use(c, SRV1, "telnet-ssl", 992, PC_SECURE, 1, 0, 1, T1 + 1000, T1 + 1100);
}

/* ---- checking items ---- */

static void expect_use(const struct cmp_list *l, size_t i, const char *cli, const char *srv, const char *svc,
		       uint16_t port)
{
	char a[ADDR_STRLEN];
	assert_true(i < l->n);
	const struct cmp_item *it = &l->v[i];
	const struct inv_client *c = it->ca ? it->ca : it->cb;
	assert_non_null(c);
	assert_string_equal(addr_str(&c->ip, a), cli);
	assert_string_equal(addr_str(&it->server, a), srv);
	assert_string_equal(it->service, svc);
	assert_int_equal(it->port, port);
}

static void expect_service(const struct cmp_list *l, size_t i, const char *srv, const char *svc, uint16_t port,
			   uint64_t before, uint64_t after)
{
	char a[ADDR_STRLEN];
	assert_true(i < l->n);
	const struct cmp_item *it = &l->v[i];
	assert_null(it->cb);
	assert_null(it->ca);
	assert_string_equal(addr_str(&it->server, a), srv);
	assert_string_equal(it->service, svc);
	assert_int_equal(it->port, port);
	assert_int_equal(it->clients_before, before);
	assert_int_equal(it->clients_after, after);
}

/* ---- running the writers ---- */

typedef void (*writer)(const struct report_ctx *, const struct comparison *);

static char *run(writer w, const struct comparison *cmp, bool redact)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	struct report_ctx c = { .out = f, .redact = redact, .redact_key = "test-key", .redact_source = REDACT_KEY_GIVEN };
	w(&c, cmp);
	fclose(f);
	return buf;
}

/* ---- a strict JSON parser (RFC 8259), only to say valid or not ---- */

static const char *ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
		p++;
	return p;
}

static const char *jvalue(const char *p, int depth);

static const char *jstring(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if (!*p || (unsigned char)*p < 0x20)
			return NULL;
		if (*p++ != '\\')
			continue;
		if (*p && strchr("\"\\/bfnrt", *p)) {
			p++;
		} else if (*p == 'u') {
			p++;
			for (int i = 0; i < 4; i++, p++)
				if (!*p || !strchr("0123456789abcdefABCDEF", *p))
					return NULL;
		} else {
			return NULL;
		}
	}
	return p + 1;
}

static const char *jnumber(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p;
}

static const char *jvalue(const char *p, int depth)
{
	if (depth > 64)
		return NULL;
	p = ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p = ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				if (!(p = jstring(ws(p))) || *(p = ws(p)) != ':')
					return NULL;
				p++;
			}
			if (!(p = jvalue(p, depth + 1)))
				return NULL;
			p = ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return jstring(p);
	if (!strncmp(p, "true", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (!strncmp(p, "null", 4))
		return p + 4;
	return jnumber(p);
}

static bool json_valid(const char *s)
{
	const char *p = jvalue(s, 0);
	return p && *ws(p) == '\0';
}

/* ---- an RFC 4180 splitter: every record must have `want` fields ---- */

/* The records of text; fails the test on a record with another number of fields or a
 * stray quote.  With kind and col, copies the unquoted field col of the first record
 * whose first field is kind into out. */
static int csv_check(const char *s, int want, const char *kind, int col, char *out, size_t len)
{
	int records = 0;
	char field[512], first[64] = "";
	bool found = false;
	while (*s) {
		int n = 0;
		for (;;) {   /* one field */
			size_t o = 0;
			if (*s == '"') {
				for (s++;; s++) {
					assert_true(*s != '\0');
					if (*s == '"' && s[1] == '"')
						s++;
					else if (*s == '"')
						break;
					if (o + 1 < sizeof field)
						field[o++] = *s;
				}
				s++;
				assert_true(*s == ',' || *s == '\n');
			} else {
				while (*s && *s != ',' && *s != '\n') {
					assert_true(*s != '"');
					if (o + 1 < sizeof field)
						field[o++] = *s;
					s++;
				}
			}
			field[o] = '\0';
			if (n == 0) {
				assert_true(o < sizeof first);
				memcpy(first, field, o + 1);
			}
			if (kind && !found && n == col && strcmp(first, kind) == 0) {
				assert_true(o < len);
				memcpy(out, field, o + 1);
				found = true;
			}
			n++;
			if (*s == ',') {
				s++;
				continue;
			}
			assert_int_equal(*s, '\n');   /* every record ends with a newline */
			s++;
			break;
		}
		assert_int_equal(n, want);
		records++;
	}
	if (kind)
		assert_true(found);
	return records;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* ---------------------------------------------------------------- rules ---- */

static void pairing_rule(void **state)
{
	assert_true(compare_services_pair("as-signon", "as-signon"));
	assert_true(compare_services_pair("as-signon", "as-signon-s"));
	assert_true(compare_services_pair("telnet", "telnet-ssl"));
	assert_true(compare_services_pair("ddm", "ddm-ssl"));
	assert_true(compare_services_pair("myapp", "myapp-tls"));
	assert_true(compare_services_pair("telnet", "telnets"));
	assert_false(compare_services_pair("as-signon", "as-signonx"));
	assert_false(compare_services_pair("as-signon", "as-central"));
	assert_false(compare_services_pair("telnet-ssl", "telnet"));   /* not the other way */
	assert_false(compare_services_pair("as-sign", "as-signon"));
	assert_false(compare_services_pair(NULL, "as-signon"));
	assert_false(compare_services_pair("as-signon", NULL));
	assert_false(compare_services_pair("", ""));
}

static void nonsecure_use_rule(void **state)
{
	struct inventory inv;
	inv_new(&inv);
	struct inv_client *c = client(&inv, "10.0.0.1", CS_NONSECURE, false);
	use(c, SRV1, "telnet", 23, PC_NONSECURE, 3, 1, 0, 0, 1);             /* 2 got past the SYN */
	use(c, SRV1, "as-signon", 8476, PC_NONSECURE, 3, 2, 0, 0, 1);        /* 1 got past */
	use(c, SRV1, "as-central", 8470, PC_NONSECURE, 3, 2, 0, 0, 1);
	c->use[2].unanswered = 1;                                            /* none did */
	use(c, SRV1, "as-dtaq", 8472, PC_NONSECURE, 5, UINT64_MAX, 0, 0, 1);   /* a damaged count: 5 - max wraps to 6 */
	use(c, SRV1, "as-signon", 9476, PC_SECURE, 3, 0, 3, 0, 1);
	assert_true(compare_nonsecure_use(c, &c->use[0]));
	assert_true(compare_nonsecure_use(c, &c->use[1]));
	assert_false(compare_nonsecure_use(c, &c->use[2]));
	assert_false(compare_nonsecure_use(c, &c->use[3]));
	assert_false(compare_nonsecure_use(c, &c->use[4]));
	c->status = CS_ATTEMPT;   /* an attempt-only client uses nothing, whatever its rows say */
	assert_false(compare_nonsecure_use(c, &c->use[0]));
	c->status = CS_SECURE;
	assert_false(compare_nonsecure_use(c, &c->use[0]));
	assert_string_equal(cmp_status_name(NULL), "absent");
	assert_string_equal(cmp_status_name(c), "secure");
	inventory_free(&inv);
}

/* ------------------------------------------------------------ the week ---- */

static void week_lists(void **state)
{
	struct inventory b, a;
	struct comparison cmp;
	week(&b, &a);
	assert_true(compare_build(&cmp, &b, &P_BEFORE, &a, &P_AFTER));

	const struct cmp_list *l = &cmp.list[CMP_NEW_NONSECURE];
	assert_int_equal(l->n, 3);
	expect_use(l, 0, "10.0.0.3", SRV1, "telnet", 23);
	assert_non_null(l->v[0].cb);   /* known before, as a secure client */
	assert_int_equal(l->v[0].cb->status, CS_SECURE);
	expect_use(l, 1, "10.0.0.4", SRV2, "ddm", 446);
	assert_null(l->v[1].cb);       /* a new client */
	expect_use(l, 2, "10.0.0.5", SRV2, "as-rmtcmd", 8475);
	assert_int_equal(l->v[2].cb->status, CS_NONSECURE);
	assert_int_equal(l->v[2].first_us, S(T1 + 700));
	assert_int_equal(l->v[2].last_us, S(T1 + 800));

	l = &cmp.list[CMP_MOVED_TO_TLS];
	assert_int_equal(l->n, 2);
	expect_use(l, 0, "10.0.0.1", SRV1, "as-signon", 8476);
	assert_int_equal(l->v[0].after->port, 9476);
	assert_int_equal(l->v[0].before->connections, 3);
	assert_int_equal(l->v[0].after->tls, 4);
	expect_use(l, 1, "10.0.0.10", SRV1, "telnet", 23);
	assert_int_equal(l->v[1].after->port, 992);
	assert_string_equal(l->v[1].after->service, "telnet-ssl");

	l = &cmp.list[CMP_STILL_NONSECURE];
	assert_int_equal(l->n, 2);
	expect_use(l, 0, "10.0.0.1", SRV1, "as-database", 8471);
	assert_false(l->v[0].internal);
	assert_int_equal(l->v[0].before->connections, 2);
	assert_int_equal(l->v[0].after->connections, 5);
	assert_int_equal(l->v[0].first_us, S(T0 + 110));   /* before's first to after's last */
	assert_int_equal(l->v[0].last_us, S(T1 + 210));
	expect_use(l, 1, "127.0.0.1", "127.0.0.1", "as-central", 8470);
	assert_true(l->v[1].internal);

	l = &cmp.list[CMP_STOPPED];
	assert_int_equal(l->n, 2);
	expect_use(l, 0, "10.0.0.5", SRV1, "as-rmtcmd", 8475);   /* moved servers, still nonsecure there */
	assert_int_equal(l->v[0].ca->status, CS_NONSECURE);
	expect_use(l, 1, "10.0.0.9", SRV1, "as-dtaq", 8472);     /* its TLS failed: not a move */
	assert_int_equal(l->v[1].ca->status, CS_SECURE);
	assert_null(l->v[1].after);

	l = &cmp.list[CMP_DISAPPEARED];
	assert_int_equal(l->n, 2);
	char ip[ADDR_STRLEN];
	assert_string_equal(addr_str(&l->v[0].cb->ip, ip), "10.0.0.2");
	assert_int_equal(l->v[0].cb->status, CS_NONSECURE);
	assert_int_equal(l->v[0].nonsecure_uses, 1);
	assert_int_equal(l->v[0].first_us, S(T0 + 300));
	assert_int_equal(l->v[0].last_us, S(T0 + 400));
	assert_null(l->v[0].ca);
	assert_string_equal(addr_str(&l->v[1].cb->ip, ip), "10.0.0.6");
	assert_int_equal(l->v[1].cb->status, CS_ATTEMPT);
	assert_int_equal(l->v[1].nonsecure_uses, 0);
	assert_int_equal(cmp.disappeared_nonsecure, 1);

	l = &cmp.list[CMP_BECAME_CLEAN];
	assert_int_equal(l->n, 3);
	expect_service(l, 0, SRV1, "as-dtaq", 8472, 1, 0);
	expect_service(l, 1, SRV1, "as-rmtcmd", 8475, 1, 0);
	expect_service(l, 2, SRV1, "as-signon", 8476, 1, 0);   /* 10.0.0.7's refused SYNs do not dirty it */
	l = &cmp.list[CMP_BECAME_DIRTY];
	assert_int_equal(l->n, 2);
	expect_service(l, 0, SRV2, "ddm", 446, 0, 1);
	expect_service(l, 1, SRV2, "as-rmtcmd", 8475, 0, 1);

	uint64_t internal[CMP_KINDS] = { [CMP_STILL_NONSECURE] = 1 };
	assert_memory_equal(cmp.internal, internal, sizeof internal);
	/* before: A B C E F I J H; nonsecure A B E I J H; uses A2 B E I J H; services signon, database,
	 * telnet, rmtcmd, dtaq, central.  after: A C D E G H I J; nonsecure A C D E H; uses one each;
	 * services database, telnet, ddm, rmtcmd@SRV2, central. */
	assert_int_equal(cmp.before.clients, 8);
	assert_int_equal(cmp.before.nonsecure_clients, 6);
	assert_int_equal(cmp.before.nonsecure_uses, 7);
	assert_int_equal(cmp.before.dirty_services, 6);
	assert_int_equal(cmp.before.internal_clients, 1);
	assert_int_equal(cmp.after.clients, 8);
	assert_int_equal(cmp.after.nonsecure_clients, 5);
	assert_int_equal(cmp.after.nonsecure_uses, 5);
	assert_int_equal(cmp.after.dirty_services, 5);
	assert_int_equal(cmp.after.internal_clients, 1);
	/* each nonsecure use of before is still, moved, stopped or a disappeared client's; of after, still or new */
	uint64_t gone = 0;
	for (size_t i = 0; i < cmp.list[CMP_DISAPPEARED].n; i++)
		gone += cmp.list[CMP_DISAPPEARED].v[i].nonsecure_uses;
	assert_int_equal(cmp.before.nonsecure_uses, cmp.list[CMP_STILL_NONSECURE].n + cmp.list[CMP_MOVED_TO_TLS].n +
							    cmp.list[CMP_STOPPED].n + gone);
	assert_int_equal(cmp.after.nonsecure_uses, cmp.list[CMP_STILL_NONSECURE].n + cmp.list[CMP_NEW_NONSECURE].n);
	compare_free(&cmp);
	inventory_free(&b);
	inventory_free(&a);
}

/* The same inventories with clients and rows in another order give the same bytes. */
static void reverse(struct inventory *inv)
{
	for (size_t i = 0; i < inv->n_clients / 2; i++) {
		struct inv_client t = inv->clients[i];
		inv->clients[i] = inv->clients[inv->n_clients - 1 - i];
		inv->clients[inv->n_clients - 1 - i] = t;
	}
	for (size_t i = 0; i < inv->n_clients; i++) {
		struct inv_client *c = &inv->clients[i];
		for (size_t j = 0; j < c->n_use / 2; j++) {
			struct inv_usage t = c->use[j];
			c->use[j] = c->use[c->n_use - 1 - j];
			c->use[c->n_use - 1 - j] = t;
		}
	}
}

static void week_order_does_not_matter(void **state)
{
	struct inventory b, a;
	struct comparison cmp;
	week(&b, &a);
	assert_true(compare_build(&cmp, &b, &P_BEFORE, &a, &P_AFTER));
	char *j1 = run(report_compare_json, &cmp, false), *c1 = run(report_compare_csv, &cmp, false);
	char *t1 = run(report_compare_text, &cmp, false);
	compare_free(&cmp);
	reverse(&b);
	reverse(&a);
	assert_true(compare_build(&cmp, &b, &P_BEFORE, &a, &P_AFTER));
	char *j2 = run(report_compare_json, &cmp, false), *c2 = run(report_compare_csv, &cmp, false);
	char *t2 = run(report_compare_text, &cmp, false);
	assert_string_equal(j1, j2);
	assert_string_equal(c1, c2);
	assert_string_equal(t1, t2);
	assert_true(json_valid(j1));
	/* 3+2+2+2+2+3+2 items, 4 period rows, 7 + 1 + 7 + 5 + 5 totals, the header */
	assert_int_equal(csv_check(c1, CSV_FIELDS, NULL, 0, NULL, 0), 1 + 16 + 4 + 25);
	free(j1), free(j2), free(c1), free(c2), free(t1), free(t2);
	compare_free(&cmp);
	inventory_free(&b);
	inventory_free(&a);
}

/* The internal row is listed apart, after the others, under its own line. */
static void week_text_internal_apart(void **state)
{
	struct inventory b, a;
	struct comparison cmp;
	week(&b, &a);
	assert_true(compare_build(&cmp, &b, &P_BEFORE, &a, &P_AFTER));
	char *t = run(report_compare_text, &cmp, false);
	const char *still = strstr(t, "\nStill nonsecure (in both periods)\n");
	const char *apart = strstr(t, "\n  The IBM i talking to itself (loopback or its own address):\n");
	const char *stopped = strstr(t, "\nStopped using a nonsecure port");
	assert_non_null(still);
	assert_non_null(apart);
	assert_non_null(stopped);
	assert_null(strstr(apart + 20, "talking to itself (loopback"));   /* once: only "still" has one */
	const char *ext = strstr(still, "\n  10.0.0.1 "), *in = strstr(still, "\n  127.0.0.1 ");
	assert_true(still < ext && ext < apart && apart < in && in < stopped);
	assert_true(has_line(t, "Changes:  new on a nonsecure port 3, moved to TLS 2, still nonsecure 2, stopped 2,"
				" disappeared 2 (nonsecure 1)"));
	assert_true(has_line(t, "          of which the IBM i talking to itself: new 0, moved 0, still 1, stopped 0,"
				" disappeared 0"));
	assert_true(has_line(t, "Services: became clean 3, became dirty 2; with nonsecure clients 6 before, 5 after"));
	/* a new client says "new", a known one its status before */
	assert_true(has_line(t, "  10.0.0.4               192.0.2.20       ddm            446     1  new          -      "
				"              -            2025-11-17 00:08:20 2025-11-17 00:10:00"));
	assert_true(has_line(t, "  10.0.0.3               192.0.2.10       telnet          23     2  secure       -      "
				"              -            2025-11-17 00:05:00 2025-11-17 00:06:40"));
	free(t);
	compare_free(&cmp);
	inventory_free(&b);
	inventory_free(&a);
}

/* ---------------------------------------------------------- edge cases ---- */

static void empty_before(void **state)
{
	struct inventory b, a, full;
	struct comparison cmp;
	week(&full, &a);
	inventory_free(&full);
	inv_new(&b);
	assert_true(compare_build(&cmp, &b, &P_BEFORE, &a, &P_AFTER));
	/* every nonsecure use of after is new, from a new client; the attempt-only 10.0.0.7 is not */
	const struct cmp_list *l = &cmp.list[CMP_NEW_NONSECURE];
	assert_int_equal(l->n, 5);
	expect_use(l, 0, "10.0.0.1", SRV1, "as-database", 8471);
	expect_use(l, 1, "10.0.0.3", SRV1, "telnet", 23);
	expect_use(l, 2, "10.0.0.4", SRV2, "ddm", 446);
	expect_use(l, 3, "10.0.0.5", SRV2, "as-rmtcmd", 8475);
	expect_use(l, 4, "127.0.0.1", "127.0.0.1", "as-central", 8470);
	for (size_t i = 0; i < l->n; i++)
		assert_null(l->v[i].cb);
	assert_int_equal(cmp.internal[CMP_NEW_NONSECURE], 1);
	for (int k = CMP_MOVED_TO_TLS; k <= CMP_BECAME_CLEAN; k++)
		assert_int_equal(cmp.list[k].n, 0);
	l = &cmp.list[CMP_BECAME_DIRTY];
	assert_int_equal(l->n, 5);
	expect_service(l, 0, "127.0.0.1", "as-central", 8470, 0, 1);
	expect_service(l, 1, SRV1, "telnet", 23, 0, 1);
	expect_service(l, 2, SRV1, "as-database", 8471, 0, 1);
	expect_service(l, 3, SRV2, "ddm", 446, 0, 1);
	expect_service(l, 4, SRV2, "as-rmtcmd", 8475, 0, 1);
	assert_int_equal(cmp.before.clients, 0);
	char *j = run(report_compare_json, &cmp, false);
	assert_true(json_valid(j));
	assert_non_null(strstr(j, "\"client\":\"10.0.0.4\",\"internal\":false,\"server\":\"192.0.2.20\",\"service\":"
				  "\"ddm\",\"port\":446,\"client_new\":true,\"before_status\":null,"));
	free(j);
	compare_free(&cmp);
	inventory_free(&b);
	inventory_free(&a);
}

static void empty_after(void **state)
{
	struct inventory b, a, full;
	struct comparison cmp;
	week(&b, &full);
	inventory_free(&full);
	inv_new(&a);
	assert_true(compare_build(&cmp, &b, &P_BEFORE, &a, &P_AFTER));
	const struct cmp_list *l = &cmp.list[CMP_DISAPPEARED];
	assert_int_equal(l->n, 8);   /* every client, in address order */
	const char *order[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5", "10.0.0.6", "10.0.0.9", "10.0.0.10",
				"127.0.0.1" };
	const uint64_t uses[] = { 2, 1, 0, 1, 0, 1, 1, 1 };
	char ip[ADDR_STRLEN];
	for (size_t i = 0; i < 8; i++) {
		assert_string_equal(addr_str(&l->v[i].cb->ip, ip), order[i]);
		assert_int_equal(l->v[i].nonsecure_uses, uses[i]);
	}
	assert_true(l->v[7].internal);
	assert_int_equal(cmp.internal[CMP_DISAPPEARED], 1);
	assert_int_equal(cmp.disappeared_nonsecure, 6);
	for (int k = CMP_NEW_NONSECURE; k <= CMP_STOPPED; k++)
		assert_int_equal(cmp.list[k].n, 0);
	assert_int_equal(cmp.list[CMP_BECAME_CLEAN].n, 6);
	expect_service(&cmp.list[CMP_BECAME_CLEAN], 1, SRV1, "telnet", 23, 2, 0);   /* 10.0.0.2 and .10; not .6 */
	assert_int_equal(cmp.list[CMP_BECAME_DIRTY].n, 0);
	compare_free(&cmp);
	inventory_free(&b);
	inventory_free(&a);
}

static void both_empty(void **state)
{
	struct inventory b, a;
	struct comparison cmp;
	inv_new(&b);
	inv_new(&a);
	struct cmp_period open = { CMP_OPEN, CMP_OPEN };
	assert_true(compare_build(&cmp, &b, &open, &a, &open));
	for (int k = 0; k < CMP_KINDS; k++)
		assert_int_equal(cmp.list[k].n, 0);
	char *j = run(report_compare_json, &cmp, false), *c = run(report_compare_csv, &cmp, false);
	char *t = run(report_compare_text, &cmp, false);
	assert_string_equal(j,
		"{\"schema\":\"tlsready-compare/1\",\"generator\":{\"name\":\"tlsready\",\"version\":\"" TLSREADY_VERSION "\"},\n"
		"\"comparison\":{\"periods\":{\"before\":{\"since\":null,\"until\":null},\"after\":{\"since\":null,\"until\":null}},\n"
		"\"new_nonsecure\":[],\n\"moved_to_tls\":[],\n\"still_nonsecure\":[],\n\"stopped\":[],\n\"disappeared\":[],\n"
		"\"became_clean\":[],\n\"became_dirty\":[],\n"
		"\"totals\":{\"new_nonsecure\":0,\"moved_to_tls\":0,\"still_nonsecure\":0,\"stopped\":0,\"disappeared\":0,"
		"\"became_clean\":0,\"became_dirty\":0,\"disappeared_nonsecure\":0,\"internal\":{\"new_nonsecure\":0,"
		"\"moved_to_tls\":0,\"still_nonsecure\":0,\"stopped\":0,\"disappeared\":0,\"became_clean\":0,"
		"\"became_dirty\":0},\"before\":{\"clients\":0,\"nonsecure_clients\":0,\"nonsecure_uses\":0,"
		"\"dirty_services\":0,\"internal_clients\":0},\"after\":{\"clients\":0,\"nonsecure_clients\":0,"
		"\"nonsecure_uses\":0,\"dirty_services\":0,\"internal_clients\":0}}}}\n");
	assert_true(json_valid(j));
	assert_int_equal(csv_check(c, CSV_FIELDS, NULL, 0, NULL, 0), 1 + 4 + 25);
	assert_true(has_line(c, "period,,,,,,,,,,,,,,,,,,before.since,"));
	assert_true(has_line(t, "Before:   the start to now"));
	/* seven sections, each empty */
	int none = 0;
	for (const char *p = t; (p = strstr(p, "\n  (none)\n")); p++)
		none++;
	assert_int_equal(none, 7);
	free(j), free(c), free(t);
	compare_free(&cmp);
	inventory_free(&b);
	inventory_free(&a);
}

/* TLS with another server is not a move of this use: it stopped here. */
static void tls_on_another_server(void **state)
{
	struct inventory b, a;
	struct comparison cmp;
	inv_new(&b);
	inv_new(&a);
	struct inv_client *c = client(&b, "10.0.0.1", CS_NONSECURE, false);
	use(c, SRV1, "as-signon", 8476, PC_NONSECURE, 1, 0, 0, T0, T0 + 1);
	c = client(&a, "10.0.0.1", CS_SECURE, false);
	use(c, SRV2, "as-signon", 9476, PC_SECURE, 1, 0, 1, T1, T1 + 1);
	assert_true(compare_build(&cmp, &b, &P_BEFORE, &a, &P_AFTER));
	assert_int_equal(cmp.list[CMP_MOVED_TO_TLS].n, 0);
	assert_int_equal(cmp.list[CMP_STOPPED].n, 1);
	expect_use(&cmp.list[CMP_STOPPED], 0, "10.0.0.1", SRV1, "as-signon", 8476);
	assert_int_equal(cmp.list[CMP_BECAME_CLEAN].n, 1);
	compare_free(&cmp);
	/* the same server, another service's secure port: not a move either */
	a.clients[0].use[0].server = b.clients[0].use[0].server;
	a.clients[0].use[0].service = "as-central";
	assert_true(compare_build(&cmp, &b, &P_BEFORE, &a, &P_AFTER));
	assert_int_equal(cmp.list[CMP_MOVED_TO_TLS].n, 0);
	assert_int_equal(cmp.list[CMP_STOPPED].n, 1);
	compare_free(&cmp);
	/* and the paired one is */
	a.clients[0].use[0].service = "as-signon";
	assert_true(compare_build(&cmp, &b, &P_BEFORE, &a, &P_AFTER));
	assert_int_equal(cmp.list[CMP_MOVED_TO_TLS].n, 1);
	assert_int_equal(cmp.list[CMP_STOPPED].n, 0);
	compare_free(&cmp);
	inventory_free(&b);
	inventory_free(&a);
}

/* A client with many rows, in no order: each list comes out in port order. */
static void many_rows(void **state)
{
	struct inventory b, a;
	struct comparison cmp;
	inv_new(&b);
	inv_new(&a);
	struct inv_client *cb = client(&b, "10.0.0.1", CS_NONSECURE, false);
	struct inv_client *ca = client(&a, "10.0.0.1", CS_NONSECURE, false);
	for (int i = 0; i < 40; i++) {   /* before 2000-2039, after 2010-2049, both shuffled */
		use(cb, SRV1, "x", (uint16_t)(2000 + i * 7 % 40), PC_NONSECURE, 1, 0, 0, T0, T0 + 1);
		use(ca, SRV1, "x", (uint16_t)(2010 + i * 13 % 40), PC_NONSECURE, 1, 0, 0, T1, T1 + 1);
	}
	assert_true(compare_build(&cmp, &b, &P_BEFORE, &a, &P_AFTER));
	const struct { enum cmp_kind k; size_t n; uint16_t first; } want[] = {
		{ CMP_STILL_NONSECURE, 30, 2010 }, { CMP_STOPPED, 10, 2000 }, { CMP_NEW_NONSECURE, 10, 2040 },
		{ CMP_BECAME_CLEAN, 10, 2000 }, { CMP_BECAME_DIRTY, 10, 2040 },
	};
	for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
		const struct cmp_list *l = &cmp.list[want[w].k];
		assert_int_equal(l->n, want[w].n);
		for (size_t i = 0; i < l->n; i++)
			assert_int_equal(l->v[i].port, want[w].first + i);
	}
	assert_int_equal(cmp.list[CMP_MOVED_TO_TLS].n, 0);
	assert_int_equal(cmp.list[CMP_DISAPPEARED].n, 0);
	compare_free(&cmp);
	inventory_free(&b);
	inventory_free(&a);
}

/* A client attempt-only before and nonsecure after is new on that port (not a new client);
 * nonsecure before and attempt-only after has stopped (its refused SYNs are no use). */
static void attempt_only(void **state)
{
	struct inventory b, a;
	struct comparison cmp;
	inv_new(&b);
	inv_new(&a);
	struct inv_client *c = client(&b, "10.0.0.1", CS_ATTEMPT, false);
	use(c, SRV1, "telnet", 23, PC_NONSECURE, 4, 4, 0, T0, T0 + 1);
	c = client(&b, "10.0.0.2", CS_NONSECURE, false);
	use(c, SRV1, "telnet", 23, PC_NONSECURE, 1, 0, 0, T0, T0 + 1);
	c = client(&a, "10.0.0.1", CS_NONSECURE, false);
	use(c, SRV1, "telnet", 23, PC_NONSECURE, 1, 0, 0, T1, T1 + 1);
	c = client(&a, "10.0.0.2", CS_ATTEMPT, false);
	use(c, SRV1, "telnet", 23, PC_NONSECURE, 2, 0, 0, T1, T1 + 1);   /* SYN-ACKed, never completed */
	assert_true(compare_build(&cmp, &b, &P_BEFORE, &a, &P_AFTER));
	assert_int_equal(cmp.list[CMP_NEW_NONSECURE].n, 1);
	expect_use(&cmp.list[CMP_NEW_NONSECURE], 0, "10.0.0.1", SRV1, "telnet", 23);
	assert_int_equal(cmp.list[CMP_NEW_NONSECURE].v[0].cb->status, CS_ATTEMPT);
	assert_int_equal(cmp.list[CMP_STOPPED].n, 1);
	expect_use(&cmp.list[CMP_STOPPED], 0, "10.0.0.2", SRV1, "telnet", 23);
	/* one nonsecure client on telnet in each period: neither clean nor dirty */
	assert_int_equal(cmp.list[CMP_BECAME_CLEAN].n, 0);
	assert_int_equal(cmp.list[CMP_BECAME_DIRTY].n, 0);
	assert_int_equal(cmp.before.dirty_services, 1);
	assert_int_equal(cmp.after.dirty_services, 1);
	char *c1 = run(report_compare_csv, &cmp, false);
	assert_true(has_line(c1, "new-nonsecure,10.0.0.1,no,attempt-only,nonsecure,192.0.2.10,telnet,23,,,1,,,"
				 "2025-11-17T00:00:00.000000Z,2025-11-17T00:00:01.000000Z,,,,,"));
	assert_true(has_line(c1, "stopped,10.0.0.2,no,nonsecure,attempt-only,192.0.2.10,telnet,23,,1,,,,"
				 "2025-11-10T00:00:00.000000Z,2025-11-10T00:00:01.000000Z,,,,,"));
	free(c1);
	compare_free(&cmp);
	inventory_free(&b);
	inventory_free(&a);
}

/* ------------------------------------------------------------- writers ---- */

#define HOSTILE_USER "=cmd|' /C calc'!A0"
#define HOSTILE_DEVICE "T\"\\\x01"

/* One client moved to TLS, one disappeared with hostile names; after's end open. */
static void mini(struct inventory *b, struct inventory *a, struct comparison *cmp)
{
	inv_new(b);
	inv_new(a);
	struct inv_client *c = client(b, "10.0.0.1", CS_NONSECURE, false);
	struct inv_usage *u = use(c, SRV1, "as-signon", 8476, PC_NONSECURE, 3, 0, 0, T0 + 60, T0 + 120);
	name_set_add(&u->users, "QUSER");
	name_set_add(&u->users, "A B");
	c = client(b, "10.0.0.2", CS_NONSECURE, false);
	u = use(c, SRV1, "telnet", 23, PC_NONSECURE, 1, 0, 0, T0 + 10, T0 + 20);
	name_set_add(&u->users, HOSTILE_USER);
	name_set_add(&c->users, HOSTILE_USER);
	name_set_add(&c->devices, "DEV,1");
	name_set_add(&c->devices, HOSTILE_DEVICE);
	c = client(a, "10.0.0.1", CS_SECURE, false);
	u = use(c, SRV1, "as-signon", 9476, PC_SECURE, 4, 0, 4, T1 + 30, T1 + 90);
	u->tls_versions = 1u << 3 | 1u << 4;
	struct cmp_period after = { S(T1), CMP_OPEN };
	assert_true(compare_build(cmp, b, &P_BEFORE, a, &after));
}

static void json_document(void **state)
{
	struct inventory b, a;
	struct comparison cmp;
	mini(&b, &a, &cmp);
	char *j = run(report_compare_json, &cmp, false);
	assert_string_equal(j,
		"{\"schema\":\"tlsready-compare/1\",\"generator\":{\"name\":\"tlsready\",\"version\":\"" TLSREADY_VERSION "\"},\n"
		"\"comparison\":{\"periods\":{\"before\":{\"since\":\"2025-11-10T00:00:00.000000Z\",\"until\":"
		"\"2025-11-17T00:00:00.000000Z\"},\"after\":{\"since\":\"2025-11-17T00:00:00.000000Z\",\"until\":null}},\n"
		"\"new_nonsecure\":[],\n"
		"\"moved_to_tls\":[\n"
		"{\"client\":\"10.0.0.1\",\"internal\":false,\"server\":\"192.0.2.10\",\"service\":\"as-signon\",\"port\":8476,"
		"\"secure_port\":9476,\"secure_service\":\"as-signon\",\"connections_before\":3,\"tls_connections\":4,"
		"\"tls_versions\":[\"TLSv1.2\",\"TLSv1.3\"],\"first_seen\":\"2025-11-10T00:01:00.000000Z\","
		"\"last_seen\":\"2025-11-10T00:02:00.000000Z\",\"first_tls\":\"2025-11-17T00:00:30.000000Z\","
		"\"after_status\":\"secure\",\"users\":[\"A B\",\"QUSER\"],\"devices\":[]}],\n"
		"\"still_nonsecure\":[],\n"
		"\"stopped\":[],\n"
		"\"disappeared\":[\n"
		"{\"client\":\"10.0.0.2\",\"internal\":false,\"before_status\":\"nonsecure\",\"was_nonsecure\":true,"
		"\"nonsecure_uses\":1,\"first_seen\":\"2025-11-10T00:00:10.000000Z\",\"last_seen\":"
		"\"2025-11-10T00:00:20.000000Z\",\"users\":[\"=cmd|' /C calc'!A0\"],\"devices\":[\"DEV,1\",\"T\\\"\\\\\\u0001\"]}],\n"
		"\"became_clean\":[\n"
		"{\"server\":\"192.0.2.10\",\"service\":\"telnet\",\"port\":23,\"clients_before\":1,\"clients_after\":0},\n"
		"{\"server\":\"192.0.2.10\",\"service\":\"as-signon\",\"port\":8476,\"clients_before\":1,\"clients_after\":0}],\n"
		"\"became_dirty\":[],\n"
		"\"totals\":{\"new_nonsecure\":0,\"moved_to_tls\":1,\"still_nonsecure\":0,\"stopped\":0,\"disappeared\":1,"
		"\"became_clean\":2,\"became_dirty\":0,\"disappeared_nonsecure\":1,\"internal\":{\"new_nonsecure\":0,"
		"\"moved_to_tls\":0,\"still_nonsecure\":0,\"stopped\":0,\"disappeared\":0,\"became_clean\":0,"
		"\"became_dirty\":0},\"before\":{\"clients\":2,\"nonsecure_clients\":2,\"nonsecure_uses\":2,"
		"\"dirty_services\":2,\"internal_clients\":0},\"after\":{\"clients\":1,\"nonsecure_clients\":0,"
		"\"nonsecure_uses\":0,\"dirty_services\":0,\"internal_clients\":0}}}}\n");
	assert_true(json_valid(j));
	free(j);
	compare_free(&cmp);
	inventory_free(&b);
	inventory_free(&a);
}

/* The parser above rejects what it must, or json_valid() proves nothing. */
static void json_checker_rejects(void **state)
{
	assert_true(json_valid("{\"a\":[1,-2.5e+3,true,false,null,\"x\\u00e9\"],\"b\":{}}"));
	const char *bad[] = {
		"{\"a\":1,}", "[1,]", "{\"a\" 1}", "{a:1}", "[\"x\ty\"]", "[\"\\x\"]", "[01]", "[1.]", "{\"a\":1}}",
		"[\"unterminated]", "{\"a\":tru}", "", "[\"\\u12g4\"]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(json_valid(bad[i]));
}

static void text_document(void **state)
{
	struct inventory b, a;
	struct comparison cmp;
	mini(&b, &a, &cmp);
	char *t = run(report_compare_text, &cmp, false);
	assert_string_equal(t,
		"tlsready " TLSREADY_VERSION ": IBM i TLS readiness, two periods compared\n"
		"Before:   2025-11-10 00:00:00 UTC to 2025-11-17 00:00:00 UTC\n"
		"After:    2025-11-17 00:00:00 UTC to now\n"
		"Clients:  2 before (2 nonsecure), 1 after (0 nonsecure); nonsecure uses 2 before, 0 after\n"
		"Changes:  new on a nonsecure port 0, moved to TLS 1, still nonsecure 0, stopped 0, disappeared 1 (nonsecure 1)\n"
		"Services: became clean 2, became dirty 0; with nonsecure clients 2 before, 0 after\n"
		"\n"
		"New on a nonsecure port (no such use before)\n"
		"--------------------------------------------\n"
		"  BEFORE: the client's status in the earlier period, \"new\" if it was not seen then.\n"
		"  (none)\n"
		"\n"
		"Moved to TLS (the same service on the same server, the nonsecure port no longer used)\n"
		"-------------------------------------------------------------------------------------\n"
		"  CLIENT                 SERVER           SERVICE       PORT TLS PORT  CONN   TLS  VERSIONS     USERS      "
		"          LAST NONSECURE      FIRST TLS          \n"
		"  10.0.0.1               192.0.2.10       as-signon     8476     9476     3     4  v1.2,v1.3    \"A B\",QUSER"
		"          2025-11-10 00:02:00 2025-11-17 00:00:30\n"
		"\n"
		"Still nonsecure (in both periods)\n"
		"---------------------------------\n"
		"  BEFORE, AFTER: connections.\n"
		"  (none)\n"
		"\n"
		"Stopped using a nonsecure port (still seen, without TLS to that service)\n"
		"------------------------------------------------------------------------\n"
		"  NOW: the client's status in the later period.\n"
		"  (none)\n"
		"\n"
		"Clients that disappeared (seen before, not at all after)\n"
		"--------------------------------------------------------\n"
		"  USES: its nonsecure uses before.\n"
		"  CLIENT                 STATUS        USES  USERS                DEVICES      FIRST SEEN          LAST SEEN"
		"          \n"
		"  10.0.0.2               nonsecure        1  \"=cmd|' /C calc'!A0\" \"DEV,1\",\"T\\\"\\\\?\" "
		"2025-11-10 00:00:10 2025-11-10 00:00:20\n"
		"\n"
		"Services that became clean (nonsecure clients before, none after)\n"
		"-----------------------------------------------------------------\n"
		"  CLIENTS: nonsecure clients before.\n"
		"  SERVER           SERVICE       PORT CLIENTS\n"
		"  192.0.2.10       telnet          23       1\n"
		"  192.0.2.10       as-signon     8476       1\n"
		"\n"
		"Services that became dirty (no nonsecure client before, some after)\n"
		"-------------------------------------------------------------------\n"
		"  CLIENTS: nonsecure clients after.\n"
		"  (none)\n");
	free(t);
	compare_free(&cmp);
	inventory_free(&b);
	inventory_free(&a);
}

static void csv_document(void **state)
{
	struct inventory b, a;
	struct comparison cmp;
	mini(&b, &a, &cmp);
	char *c = run(report_compare_csv, &cmp, false), cell[128];
	assert_int_equal(csv_check(c, CSV_FIELDS, NULL, 0, NULL, 0), 1 + 4 + 4 + 25);
	assert_true(has_line(c, "kind,client,internal,before_status,after_status,server,service,port,secure_port,"
				"connections_before,connections_after,clients_before,clients_after,first_seen,last_seen,"
				"users,devices,tls_versions,name,value"));
	assert_true(has_line(c, "moved-to-tls,10.0.0.1,no,nonsecure,secure,192.0.2.10,as-signon,8476,9476,3,4,,,"
				"2025-11-10T00:01:00.000000Z,2025-11-10T00:02:00.000000Z,A B QUSER,,TLSv1.2 TLSv1.3,,"));
	/* the formula cell quoted with an apostrophe; the device cell's quote doubled */
	assert_true(has_line(c, "disappeared,10.0.0.2,no,nonsecure,absent,,,,,,,,,2025-11-10T00:00:10.000000Z,"
				"2025-11-10T00:00:20.000000Z,\"'=cmd|' /C calc'!A0\",\"DEV,1 T\"\"\\\x01\",,,"));
	assert_true(has_line(c, "became-clean,,,,,192.0.2.10,telnet,23,,,,1,0,,,,,,,"));
	assert_true(has_line(c, "became-clean,,,,,192.0.2.10,as-signon,8476,,,,1,0,,,,,,,"));
	assert_true(has_line(c, "period,,,,,,,,,,,,,,,,,,before.since,2025-11-10T00:00:00.000000Z"));
	assert_true(has_line(c, "period,,,,,,,,,,,,,,,,,,after.until,"));
	assert_true(has_line(c, "total,,,,,,,,,,,,,,,,,,moved_to_tls,1"));
	assert_true(has_line(c, "total,,,,,,,,,,,,,,,,,,internal.moved_to_tls,0"));
	assert_true(has_line(c, "total,,,,,,,,,,,,,,,,,,before.nonsecure_uses,2"));
	/* what a spreadsheet reads: text, not a formula */
	csv_check(c, CSV_FIELDS, "disappeared", 15, cell, sizeof cell);
	assert_string_equal(cell, "'" HOSTILE_USER);
	csv_check(c, CSV_FIELDS, "disappeared", 16, cell, sizeof cell);
	assert_string_equal(cell, "DEV,1 " HOSTILE_DEVICE);
	free(c);
	compare_free(&cmp);
	inventory_free(&b);
	inventory_free(&a);
}

/* With redaction no name is printed as itself, in any format; each as redact_name() makes it. */
static void redaction(void **state)
{
	struct inventory b, a;
	struct comparison cmp;
	mini(&b, &a, &cmp);
	char quser[40], ab[40], hostile[40], dev[40];
	redact_name("test-key", "QUSER", quser, sizeof quser);
	redact_name("test-key", "A B", ab, sizeof ab);
	redact_name("test-key", HOSTILE_USER, hostile, sizeof hostile);
	redact_name("test-key", "DEV,1", dev, sizeof dev);
	writer w[] = { report_compare_json, report_compare_csv, report_compare_text };
	for (int i = 0; i < 3; i++) {
		char *out = run(w[i], &cmp, true);
		assert_null(strstr(out, "QUSER"));
		assert_null(strstr(out, "A B"));
		assert_null(strstr(out, "calc"));
		assert_null(strstr(out, "DEV,1"));
		assert_non_null(strstr(out, quser));
		assert_non_null(strstr(out, ab));
		assert_non_null(strstr(out, hostile));
		assert_non_null(strstr(out, dev));
		if (i == 0) {
			assert_true(json_valid(out));
			assert_non_null(strstr(out, "\n\"redaction\":{\"key\":\"given\"},\n"));
		}
		if (i == 2)
			assert_non_null(strstr(out, "\nNames:    user and device names redacted, with the given key\n"));
		free(out);
	}
	compare_free(&cmp);
	inventory_free(&b);
	inventory_free(&a);
}

/* The existing reports over one inventory holding the same names: their cells are the
 * cells of the comparison's writers (the quoting is a copy, this keeps it one). */
static void same_quoting_as_reports(void **state)
{
	struct inventory b, a;
	struct comparison cmp;
	mini(&b, &a, &cmp);
	struct analysis an;
	assert_true(analysis_of_records(&an, NULL, 0, 0));
	char *buf = NULL;
	size_t len = 0;
	struct report_ctx rc = { .a = &an, .inv = &b };
	rc.out = open_memstream(&buf, &len);
	report_csv(&rc);
	fclose(rc.out);
	char theirs[128], ours[128];
	/* report_csv: users is field 13 of the second usage row (10.0.0.2) */
	const char *row = strstr(buf, "\nusage,10.0.0.2,");
	assert_non_null(row);
	csv_check(row + 1, 20, "usage", 13, theirs, sizeof theirs);   /* 16 columns, and the 4 of who the client is */
	char *c = run(report_compare_csv, &cmp, false);
	csv_check(c, CSV_FIELDS, "disappeared", 15, ours, sizeof ours);
	assert_string_equal(theirs, ours);
	assert_string_equal(ours, "'" HOSTILE_USER);
	assert_non_null(strstr(buf, ",\"'=cmd|' /C calc'!A0\","));   /* the raw bytes too */
	assert_non_null(strstr(c, ",\"'=cmd|' /C calc'!A0\","));
	free(buf);
	free(c);
	/* report_text: the users column of the cutover list */
	buf = NULL;
	rc.out = open_memstream(&buf, &len);
	report_text(&rc);
	fclose(rc.out);
	c = run(report_compare_text, &cmp, false);
	assert_non_null(strstr(buf, " \"A B\",QUSER "));
	assert_non_null(strstr(c, " \"A B\",QUSER "));
	assert_non_null(strstr(buf, " \"=cmd|' /C calc'!A0\" "));
	assert_non_null(strstr(c, " \"=cmd|' /C calc'!A0\" "));
	free(buf);
	free(c);
	compare_free(&cmp);
	inventory_free(&b);
	inventory_free(&a);
	analysis_free(&an);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pairing_rule),
		cmocka_unit_test(nonsecure_use_rule),
		cmocka_unit_test(week_lists),
		cmocka_unit_test(week_order_does_not_matter),
		cmocka_unit_test(week_text_internal_apart),
		cmocka_unit_test(empty_before),
		cmocka_unit_test(empty_after),
		cmocka_unit_test(both_empty),
		cmocka_unit_test(tls_on_another_server),
		cmocka_unit_test(many_rows),
		cmocka_unit_test(attempt_only),
		cmocka_unit_test(json_document),
		cmocka_unit_test(json_checker_rejects),
		cmocka_unit_test(text_document),
		cmocka_unit_test(csv_document),
		cmocka_unit_test(redaction),
		cmocka_unit_test(same_quoting_as_reports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
