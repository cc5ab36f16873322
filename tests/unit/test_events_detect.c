/*
 * test_events_detect.c - the monitor's findings follow DHCP hosts
 * (analyzer/events_detect.c, issue 17).
 *
 * The inventories are built here by hand, as the store and the monitor hand
 * them over: "before" rows per (address, host), per host over its addresses,
 * or per address with no host (a store that keeps no identity); "now" rows
 * per host over its addresses or per address.  Every expected finding (its
 * kind, client address, host, detail and times) is written out below from the
 * rules in events.h, not computed by the code under test.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "events.h"

#define S(x) ((int64_t)(x) * 1000000)
#define T0 1762732800LL          /* 2025-11-10 00:00:00 UTC */
#define DAY 86400
#define SRV "192.0.2.10"
#define HA "02:00:00:00:00:0a"
#define HB "02:00:00:00:00:0b"
#define HC "02:00:00:00:00:0c"
#define MAX_CLIENTS 16

static void inv_new(struct inventory *inv)
{
	memset(inv, 0, sizeof *inv);
	inv->clients = calloc(MAX_CLIENTS, sizeof *inv->clients);
	assert_non_null(inv->clients);
}

/* A row: its address, its DHCP host (NULL: none), and with a nonsecure use (telnet 23 on SRV) from
 * first_s to last_s when nonsecure (times 0: a secure client, TLS on 992). */
static struct inv_client *row(struct inventory *inv, const char *ip, const char *hw, bool nonsecure, int64_t first_s,
			      int64_t last_s)
{
	int len;
	assert_true(inv->n_clients < MAX_CLIENTS);
	struct inv_client *c = &inv->clients[inv->n_clients++];
	assert_true(addr_parse_prefix(ip, &c->ip, &len));
	c->host = -1;
	if (hw) {
		c->dhcp = calloc(1, sizeof *c->dhcp);
		assert_non_null(c->dhcp);
		snprintf(c->dhcp->hw, sizeof c->dhcp->hw, "%s", hw);
	}
	c->use = calloc(4, sizeof *c->use);
	assert_non_null(c->use);
	c->cap_use = 4;
	struct inv_usage *u = &c->use[c->n_use++];
	assert_true(addr_parse_prefix(SRV, &u->server, &len));
	u->service = nonsecure ? "telnet" : "telnet-ssl";
	u->port = nonsecure ? 23 : 992;
	u->cls = nonsecure ? PC_NONSECURE : PC_SECURE;
	u->connections = 1;
	u->first_us = S(first_s);
	u->last_us = S(last_s);
	c->first_us = S(first_s);
	c->last_us = S(last_s);
	c->status = nonsecure ? CS_NONSECURE : CS_SECURE;
	if (nonsecure) {
		c->first_nonsecure_us = S(first_s);
		c->last_nonsecure_us = S(last_s);
		name_set_add(&u->users, "ALICE");
	}
	return c;
}

/* Another address of a row (a host's row over several addresses). */
static void also_at(struct inv_client *c, const char *ip)
{
	struct addr a;
	int len;
	assert_true(addr_parse_prefix(ip, &a, &len));
	if (!c->n_addrs)
		inventory_add_addr(c, &c->ip);
	inventory_add_addr(c, &a);
}

/* TLS on 992 with `version` negotiated (0x0301: TLS 1.0), added to a row. */
static void tls_use(struct inv_client *c, uint16_t version, int64_t at_s)
{
	int len;
	assert_true(c->n_use < c->cap_use);
	struct inv_usage *u = &c->use[c->n_use++];
	assert_true(addr_parse_prefix(SRV, &u->server, &len));
	u->service = "telnet-ssl";
	u->port = 992;
	u->cls = PC_SECURE;
	u->connections = u->tls = 1;
	u->tls_versions = 1u << (version & 0xff);
	u->first_us = u->last_us = S(at_s);
}

struct run {
	struct event_finding *f;
	size_t n;
};

static struct run detect(struct inventory *before, struct inventory *now, int64_t back_after_s)
{
	struct run r;
	r.n = events_detect(before, now, S(T0 + 30 * DAY), S(back_after_s), &r.f);
	return r;
}

/* The finding of this kind for this client address, or NULL. */
static const struct event_finding *find(const struct run *r, const char *kind, const char *client)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->f[i].kind, kind) == 0 && strcmp(r->f[i].client, client) == 0)
			return &r->f[i];
	return NULL;
}

static void done(struct run *r, struct inventory *before, struct inventory *now)
{
	free(r->f);
	inventory_free(before);
	inventory_free(now);
}

/* A known nonsecure host back on a new address: not new; one nonsecure-client-new-address saying where
 * it was.  "before" per (address, host), as the SQLite state gives it. */
static void host_moved(void **state)
{
	(void)state;
	struct inventory b, n;
	inv_new(&b);
	inv_new(&n);
	row(&b, "192.0.2.50", HA, true, T0 + 100, T0 + 200);
	row(&n, "192.0.2.51", HA, true, T0 + 1000, T0 + 1100);
	struct run r = detect(&b, &n, 7 * DAY);
	assert_int_equal(r.n, 1);
	const struct event_finding *x = find(&r, "nonsecure-client-new-address", "192.0.2.51");
	assert_non_null(x);
	assert_string_equal(x->host, HA);
	assert_string_equal(x->detail, "before at 192.0.2.50");
	assert_int_equal(x->time_us, S(T0 + 1000));
	assert_int_equal(x->previous_us, S(T0 + 200));
	assert_string_equal(x->server, SRV);
	assert_int_equal(x->port, 23);
	assert_string_equal(x->service, "telnet");
	assert_string_equal(x->user, "ALICE");
	done(&r, &b, &n);

	/* the same host's history as one row over two addresses (a store that follows hosts), and as two
	 * (address, host) rows: the same answer, every earlier address listed once */
	inv_new(&b);
	inv_new(&n);
	struct inv_client *c = row(&b, "192.0.2.49", HA, true, T0 + 100, T0 + 200);
	also_at(c, "192.0.2.50");
	row(&b, "192.0.2.50", HA, false, T0 + 300, T0 + 400);
	row(&n, "192.0.2.51", HA, true, T0 + 1000, T0 + 1100);
	r = detect(&b, &n, 7 * DAY);
	assert_int_equal(r.n, 1);
	x = find(&r, "nonsecure-client-new-address", "192.0.2.51");
	assert_non_null(x);
	assert_string_equal(x->detail, "before at 192.0.2.49, 192.0.2.50");
	done(&r, &b, &n);

	/* back at an address it had: nothing at all */
	inv_new(&b);
	inv_new(&n);
	row(&b, "192.0.2.50", HA, true, T0 + 100, T0 + 200);
	row(&b, "192.0.2.51", HA, true, T0 + 300, T0 + 400);
	row(&n, "192.0.2.50", HA, true, T0 + 1000, T0 + 1100);
	r = detect(&b, &n, 7 * DAY);
	assert_int_equal(r.n, 0);
	done(&r, &b, &n);
}

/* Two DHCP hosts on one address one after the other are two clients: the second one's first nonsecure
 * use is new, also when the address's history has rows without a host. */
static void address_reused(void **state)
{
	(void)state;
	struct inventory b, n;
	inv_new(&b);
	inv_new(&n);
	row(&b, "192.0.2.50", HA, true, T0 + 100, T0 + 200);
	row(&b, "192.0.2.50", NULL, true, T0 + 50, T0 + 60);   /* before any lease: A's, or anyone's */
	row(&n, "192.0.2.50", HB, true, T0 + 1000, T0 + 1100);
	struct run r = detect(&b, &n, 7 * DAY);
	assert_int_equal(r.n, 1);
	const struct event_finding *x = find(&r, "new-nonsecure-client", "192.0.2.50");
	assert_non_null(x);
	assert_string_equal(x->host, HB);
	assert_int_equal(x->previous_us, 0);
	assert_int_equal(x->time_us, S(T0 + 1000));
	done(&r, &b, &n);

	/* a host known only as a secure client is new on a nonsecure port, and gets no new-address finding */
	inv_new(&b);
	inv_new(&n);
	row(&b, "192.0.2.50", HC, false, T0 + 100, T0 + 200);
	row(&n, "192.0.2.52", HC, true, T0 + 1000, T0 + 1100);
	r = detect(&b, &n, 7 * DAY);
	assert_int_equal(r.n, 1);
	assert_non_null(find(&r, "new-nonsecure-client", "192.0.2.52"));
	done(&r, &b, &n);
}

/* No DHCP evidence: the address is the identity, as before hosts were followed. */
static void addresses_only(void **state)
{
	(void)state;
	struct inventory b, n;
	inv_new(&b);
	inv_new(&n);
	row(&b, "192.0.2.60", NULL, true, T0 + 100, T0 + 200);
	row(&n, "192.0.2.60", NULL, true, T0 + 1000, T0 + 1100);
	row(&n, "192.0.2.61", NULL, true, T0 + 1000, T0 + 1100);
	struct run r = detect(&b, &n, 7 * DAY);
	assert_int_equal(r.n, 1);
	const struct event_finding *x = find(&r, "new-nonsecure-client", "192.0.2.61");
	assert_non_null(x);
	assert_string_equal(x->host, "");
	done(&r, &b, &n);

	/* a connection without a lease at an address a host held: that address's history (the host's) */
	inv_new(&b);
	inv_new(&n);
	row(&b, "192.0.2.50", HA, true, T0 + 100, T0 + 200);
	row(&n, "192.0.2.50", NULL, true, T0 + 1000, T0 + 1100);
	r = detect(&b, &n, 7 * DAY);
	assert_int_equal(r.n, 0);
	done(&r, &b, &n);

	/* a host's first lease on the address it used without one: the same machine, not new */
	inv_new(&b);
	inv_new(&n);
	row(&b, "192.0.2.70", NULL, true, T0 + 100, T0 + 200);
	row(&n, "192.0.2.70", HC, true, T0 + 1000, T0 + 1100);
	r = detect(&b, &n, 7 * DAY);
	assert_int_equal(r.n, 0);
	done(&r, &b, &n);

	/* a store that keeps no identity (rows per address, no host): a host matches its addresses' rows */
	inv_new(&b);
	inv_new(&n);
	row(&b, "192.0.2.51", NULL, true, T0 + 100, T0 + 200);
	row(&n, "192.0.2.51", HA, true, T0 + 1000, T0 + 1100);
	row(&n, "192.0.2.52", HB, true, T0 + 1000, T0 + 1100);
	r = detect(&b, &n, 7 * DAY);
	assert_int_equal(r.n, 1);
	assert_non_null(find(&r, "new-nonsecure-client", "192.0.2.52"));
	done(&r, &b, &n);
}

/* Back after a long absence, by host: client-back-on-nonsecure from the host's last use anywhere, and
 * the new address. */
static void back_by_host(void **state)
{
	(void)state;
	struct inventory b, n;
	inv_new(&b);
	inv_new(&n);
	row(&b, "192.0.2.50", HA, true, T0 + 100, T0 + 200);
	row(&b, "192.0.2.53", HA, true, T0 + 300, T0 + 400);
	row(&n, "192.0.2.51", HA, true, T0 + 400 + 10 * DAY, T0 + 500 + 10 * DAY);
	struct run r = detect(&b, &n, 7 * DAY);
	assert_int_equal(r.n, 2);
	const struct event_finding *x = find(&r, "client-back-on-nonsecure", "192.0.2.51");
	assert_non_null(x);
	assert_string_equal(x->host, HA);
	assert_int_equal(x->previous_us, S(T0 + 400));
	assert_int_equal(x->days, 10);
	x = find(&r, "nonsecure-client-new-address", "192.0.2.51");
	assert_non_null(x);
	assert_string_equal(x->detail, "before at 192.0.2.50, 192.0.2.53");
	done(&r, &b, &n);
}

/* An obsolete TLS version is new per client (the host, whatever its address), server and port. */
static void obsolete_tls_by_host(void **state)
{
	(void)state;
	struct inventory b, n;
	inv_new(&b);
	inv_new(&n);
	struct inv_client *c = row(&b, "192.0.2.50", HA, false, T0 + 100, T0 + 200);
	tls_use(c, 0x0301, T0 + 150);
	c = row(&n, "192.0.2.51", HA, false, T0 + 1000, T0 + 1100);
	tls_use(c, 0x0301, T0 + 1050);                       /* known for A on 992: nothing */
	c = row(&n, "192.0.2.50", HB, false, T0 + 1000, T0 + 1100);
	tls_use(c, 0x0301, T0 + 1060);                       /* B on A's old address: new for B */
	struct run r = detect(&b, &n, 7 * DAY);
	assert_int_equal(r.n, 1);
	const struct event_finding *x = find(&r, "new-obsolete-tls-version", "192.0.2.50");
	assert_non_null(x);
	assert_string_equal(x->host, HB);
	assert_string_equal(x->detail, "TLSv1.0");
	assert_int_equal(x->port, 992);
	assert_int_equal(x->time_us, S(T0 + 1060));
	done(&r, &b, &n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_moved),
		cmocka_unit_test(address_reused),
		cmocka_unit_test(addresses_only),
		cmocka_unit_test(back_by_host),
		cmocka_unit_test(obsolete_tls_by_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
