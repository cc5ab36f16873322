/*
 * test_flow.c - the flow table: both directions find one entry (IPv4, IPv6,
 * one address at both ends), lookups survive deletions (backward shift), the
 * activity list gives the oldest,
 * many flows grow the table, and the catalogue parses its file format.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "flow.h"
#include "services.h"

static struct packet pkt(uint32_t cli, uint16_t cport, uint16_t sport, bool from_client)
{
	struct packet p;
	memset(&p, 0, sizeof p);
	uint8_t c4[4] = { 192, 0, 2, 0 }, s4[4] = { 192, 0, 2, 10 };
	c4[3] = (uint8_t)cli;
	c4[2] = (uint8_t)(2 + (cli >> 8));
	if (from_client) {
		addr_from_v4(&p.src, c4); addr_from_v4(&p.dst, s4); p.sport = cport; p.dport = sport;
	} else {
		addr_from_v4(&p.src, s4); addr_from_v4(&p.dst, c4); p.sport = sport; p.dport = cport;
	}
	return p;
}

static void both_directions_one_flow(void **st)
{
	(void)st;
	struct flow_table t;
	assert_true(flow_table_init(&t, 100));
	struct packet a = pkt(21, 40000, 8476, true), b = pkt(21, 40000, 8476, false);
	bool fc;
	assert_null(flow_lookup(&t, &a, &fc));
	struct flow *f = flow_create(&t, &a, true);
	assert_non_null(f);
	assert_ptr_equal(flow_lookup(&t, &a, &fc), f);
	assert_true(fc);
	assert_ptr_equal(flow_lookup(&t, &b, &fc), f);
	assert_false(fc);
	assert_int_equal(f->sport, 8476);
	struct packet other = pkt(21, 40001, 8476, true);
	assert_null(flow_lookup(&t, &other, &fc));
	flow_table_free(&t);
}

static void many_flows_and_deletions(void **st)
{
	(void)st;
	struct flow_table t;
	assert_true(flow_table_init(&t, 100000));
	enum { N = 20000 };
	static struct flow *fs[N];
	for (uint32_t i = 0; i < N; i++) {
		struct packet p = pkt(i % 250 + (i / 250 % 8) * 256, (uint16_t)(1024 + i), 8471, true);
		fs[i] = flow_create(&t, &p, true);
		assert_non_null(fs[i]);
	}
	assert_int_equal(t.active, N);
	/* delete every third flow, then every remaining one must still be found */
	for (uint32_t i = 0; i < N; i += 3)
		flow_remove(&t, &fs[i]->head);
	bool fc;
	for (uint32_t i = 0; i < N; i++) {
		struct packet p = pkt(i % 250 + (i / 250 % 8) * 256, (uint16_t)(1024 + i), 8471, i & 1);
		struct flow_head *f = flow_lookup(&t, &p, &fc);
		if (i % 3 == 0)
			assert_null(f);
		else
			assert_ptr_equal(f, fs[i]);
	}
	flow_table_free(&t);
}

/* The IPv4 pairs hash a short encoding, IPv6 the long one (flow.c): both
 * must find one entry from either direction, also when both ends share an
 * address and only the ports tell them apart, and a v4 flow must not be
 * found by a v6 packet with the same low 4 address bytes. */
static void ipv6_and_same_address_flows(void **st)
{
	(void)st;
	struct flow_table t;
	assert_true(flow_table_init(&t, 100));
	struct packet a, b, c, d;
	memset(&a, 0, sizeof a);
	uint8_t v4[4] = { 192, 0, 2, 7 };
	addr_from_v4(&a.src, v4);
	a.dst = a.src;
	a.sport = 40000;
	a.dport = 8476;
	b = a;
	b.sport = 8476;
	b.dport = 40000;
	memset(&c, 0, sizeof c);
	uint8_t s6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, d6[16] = { 0x20, 0x01, 0x0d, 0xb8, [12] = 192, 0, 2, 7 };
	addr_from_v6(&c.src, s6);
	addr_from_v6(&c.dst, d6);
	c.sport = 40000;
	c.dport = 8476;
	d = c;
	d.src = c.dst; d.dst = c.src; d.sport = 8476; d.dport = 40000;
	bool fc;
	struct flow *f4 = flow_create(&t, &a, true);
	assert_non_null(f4);
	assert_ptr_equal(flow_lookup(&t, &b, &fc), f4);
	assert_false(fc);
	assert_ptr_equal(flow_lookup(&t, &a, &fc), f4);
	assert_true(fc);
	assert_null(flow_lookup(&t, &c, &fc));
	struct flow *f6 = flow_create(&t, &c, true);
	assert_non_null(f6);
	assert_ptr_equal(flow_lookup(&t, &d, &fc), f6);
	assert_false(fc);
	assert_ptr_equal(flow_lookup(&t, &a, &fc), f4);
	flow_table_free(&t);
}

static void oldest_follows_activity(void **st)
{
	(void)st;
	struct flow_table t;
	assert_true(flow_table_init(&t, 10));
	struct packet a = pkt(1, 1000, 23, true), b = pkt(2, 1000, 23, true), c = pkt(3, 1000, 23, true);
	struct flow *fa = flow_create(&t, &a, true), *fb = flow_create(&t, &b, true), *fcf = flow_create(&t, &c, true);
	assert_ptr_equal(flow_oldest(&t), fa);
	flow_touch(&t, &fa->head);
	assert_ptr_equal(flow_oldest(&t), fb);
	flow_remove(&t, &fb->head);
	assert_ptr_equal(flow_oldest(&t), fcf);
	flow_remove(&t, &fcf->head);
	flow_remove(&t, &fa->head);
	assert_null(flow_oldest(&t));
	/* indices are reused */
	struct flow *fd = flow_create(&t, &a, true);
	assert_true(fd->idx < 3);
	flow_table_free(&t);
}

static void catalogue_builtin(void **st)
{
	(void)st;
	static struct services s;
	services_init(&s);
	struct addr srv;
	addr_parse_prefix("192.0.2.10", &srv, NULL);
	struct service_info si = services_lookup(&s, &srv, 8476);
	assert_string_equal(si.name, "as-signon");
	assert_int_equal(si.cls, PC_NONSECURE);
	si = services_lookup(&s, &srv, 9480);
	assert_string_equal(si.name, "as-hostcnn");
	assert_int_equal(si.cls, PC_SECURE);
	si = services_lookup(&s, &srv, 8478);
	assert_string_equal(si.name, "as-transfer");
	assert_int_equal(si.cls, PC_NONSECURE);
	assert_string_equal(services_lookup(&s, &srv, 449).name, "as-svrmap");
	assert_int_equal(services_lookup(&s, &srv, 449).cls, PC_MAPPER);
	assert_string_equal(services_lookup(&s, &srv, 448).name, "ddm");
	assert_null(services_lookup(&s, &srv, 443).name);
	/* learning a moved service */
	services_learn(&s, &srv, 18476, "as-signon", PC_NONSECURE);
	si = services_lookup(&s, &srv, 18476);
	assert_string_equal(si.name, "as-signon");
	assert_true(si.learned);
	struct addr other;
	addr_parse_prefix("192.0.2.11", &other, NULL);
	assert_null(services_lookup(&s, &other, 18476).name);
	char bpf[2048];
	services_bpf(&s, bpf, sizeof bpf);
	assert_non_null(strstr(bpf, "tcp portrange 8470-8479"));
	assert_non_null(strstr(bpf, "tcp port 446"));
	assert_non_null(strstr(bpf, "tcp portrange 448-449"));   /* ddm-tls and the mapper are neighbours */
}

static const char *write_tmp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof path, "/tmp/tlsready-services-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void catalogue_file(void **st)
{
	(void)st;
	static struct services s;
	char err[256];
	services_init(&s);
	const char *p = write_tmp("# moved\nas-signon 18476 nonsecure\nas-signon 19476 secure  # tls\ntelnet 23 none\n");
	assert_true(services_load(&s, p, err, sizeof err));
	unlink(p);
	struct addr srv;
	addr_parse_prefix("192.0.2.10", &srv, NULL);
	assert_string_equal(services_lookup(&s, &srv, 19476).name, "as-signon");
	assert_int_equal(services_lookup(&s, &srv, 19476).cls, PC_SECURE);
	assert_null(services_lookup(&s, &srv, 23).name);
	assert_string_equal(services_lookup(&s, &srv, 8471).name, "as-database");

	services_init(&s);
	p = write_tmp("@replace\nmysvc 1234 other\n");
	assert_true(services_load(&s, p, err, sizeof err));
	unlink(p);
	assert_null(services_lookup(&s, &srv, 8471).name);
	assert_string_equal(services_lookup(&s, &srv, 1234).name, "mysvc");

	services_init(&s);
	p = write_tmp("as-signon 8476 nonsecure\nas-signon 99999 secure\n");
	assert_false(services_load(&s, p, err, sizeof err));
	assert_non_null(strstr(err, ":2: bad port"));
	unlink(p);
	p = write_tmp("x 1 nonsecure\n\nbad line here too\n");
	assert_false(services_load(&s, p, err, sizeof err));
	assert_non_null(strstr(err, ":3: expected NAME PORT CLASS"));
	unlink(p);
	p = write_tmp("x 1 insecure\n");
	assert_false(services_load(&s, p, err, sizeof err));
	assert_non_null(strstr(err, ":1: bad class"));
	unlink(p);
}

static void prefixes(void **st)
{
	(void)st;
	struct addr a, n;
	int len;
	assert_true(addr_parse_prefix("192.0.2.0/24", &n, &len));
	assert_int_equal(len, 24);
	addr_parse_prefix("192.0.2.77", &a, NULL);
	assert_true(addr_in_prefix(&a, &n, len));
	addr_parse_prefix("198.51.100.1", &a, NULL);
	assert_false(addr_in_prefix(&a, &n, len));
	assert_true(addr_parse_prefix("2001:db8::/33", &n, &len));
	addr_parse_prefix("2001:db8:7fff::1", &a, NULL);
	assert_true(addr_in_prefix(&a, &n, len));
	addr_parse_prefix("2001:db8:8000::1", &a, NULL);
	assert_false(addr_in_prefix(&a, &n, len));
	assert_false(addr_parse_prefix("192.0.2.0/33", &n, &len));
	assert_false(addr_parse_prefix("not-an-address", &n, &len));
	addr_parse_prefix("127.0.0.1", &a, NULL);
	assert_true(addr_is_loopback(&a));
	addr_parse_prefix("::1", &a, NULL);
	assert_true(addr_is_loopback(&a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(both_directions_one_flow),
		cmocka_unit_test(many_flows_and_deletions),
		cmocka_unit_test(ipv6_and_same_address_flows),
		cmocka_unit_test(oldest_follows_activity),
		cmocka_unit_test(catalogue_builtin),
		cmocka_unit_test(catalogue_file),
		cmocka_unit_test(prefixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
