/*
 * test_dhcp6.c - DHCPv6 (RFC 8415) from the wire: the message header of
 * section 8 (msg-type, transaction-id), the types of 7.3 (Solicit 1,
 * Request 3, Renew 5, Rebind 6, Reply 7, Release 8), the option layout of
 * 21.1, Client Identifier (21.2) holding a DUID-LLT (11.2), IA_NA (21.4)
 * with IA Address (21.6) and the Client FQDN option of RFC 4704 section 4
 * (flags, then the name in RFC 1035 3.1 wire encoding); hostile input (every
 * prefix in an exact-size copy, too many addresses, a long DUID, a relay
 * message without its Relay Message option); and names.c: the host keyed by its DUID, named by option 39,
 * given the Reply's address for its valid lifetime, renewed, released.
 * Bytes are written out here by hand from the RFCs.
 */
#include "testutil.h"
#include "names_feed.h"

#include <stdio.h>
#include <stdlib.h>

#include "decode.h"
#include "dhcp6.h"
#include "names.h"

#include "dhcp6_bytes.h"   /* duid, ip50, reply */

/* A Solicit (1): Client Identifier, an empty IA_NA (IAID 1, T1 0, T2 0), Client FQDN with flags 0 and
 * the partial name "pc7" (RFC 4704 4.3: the server completes it). */
static const uint8_t solicit[] = {
	0x01, 0xab, 0xcd, 0xef,
	0x00, 0x01, 0x00, 0x0e, 0x00, 0x01, 0x00, 0x01, 0x2a, 0x2b, 0x2c, 0x2d, 0x02, 0, 0, 0, 0, 0x0a,
	0x00, 0x03, 0x00, 0x0c, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
	0x00, 0x27, 0x00, 0x05, 0x00, 3, 'p', 'c', '7',
};

static void test_parse(void **st)
{
	(void)st;
	struct dhcp6_msg m;
	assert_true(dhcp6_parse(reply, sizeof reply, &m));
	assert_int_equal(m.type, DHCP6_REPLY);
	assert_int_equal(m.duid_len, 14);
	assert_memory_equal(m.duid, duid, 14);
	assert_int_equal(m.n_addr, 1);
	assert_memory_equal(m.addr[0].ip, ip50, 16);
	assert_int_equal(m.addr[0].preferred_s, 3600);
	assert_int_equal(m.addr[0].valid_s, 7200);
	assert_string_equal(m.fqdn, "pc7.example.test");
	assert_false(m.options_cut);
	assert_false(m.addrs_cut);
	assert_true(dhcp6_parse(solicit, sizeof solicit, &m));
	assert_int_equal(m.type, DHCP6_SOLICIT);
	assert_int_equal(m.n_addr, 0);
	assert_string_equal(m.fqdn, "pc7");
	assert_false(m.options_cut);
	/* the same shape as Request 3, Renew 5, Rebind 6, Release 8 (7.3): the type is read, the options too */
	static const uint8_t types[] = { DHCP6_REQUEST, DHCP6_RENEW, DHCP6_REBIND, DHCP6_RELEASE };
	uint8_t b[sizeof reply];
	for (size_t i = 0; i < sizeof types; i++) {
		memcpy(b, reply, sizeof b);
		b[0] = types[i];
		assert_true(dhcp6_parse(b, sizeof b, &m));
		assert_int_equal(m.type, types[i]);
		assert_int_equal(m.n_addr, 1);
		assert_int_equal(m.duid_len, 14);
	}
	/* type 0 and types past 13 are not DHCPv6; a Relay-Forward (12) whose bytes after the type are a
	 * Reply's has no Relay Message option (RFC 8415 9.1): nothing taken (test_dhcp6_relay.c opens real ones) */
	memcpy(b, reply, sizeof b);
	b[0] = 0;
	assert_false(dhcp6_parse(b, sizeof b, &m));
	b[0] = 14;
	assert_false(dhcp6_parse(b, sizeof b, &m));
	b[0] = DHCP6_RELAY_FORW;
	assert_true(dhcp6_parse(b, sizeof b, &m));
	assert_int_equal(m.type, DHCP6_RELAY_FORW);
	assert_true(m.options_cut);
	assert_int_equal(m.duid_len, 0);
	assert_int_equal(m.n_addr, 0);
	/* every prefix: under 4 bytes not DHCPv6; after the header, a cut option is flagged */
	for (size_t k = 0; k < sizeof reply; k++) {
		uint8_t *copy = malloc(k ? k : 1);
		memcpy(copy, reply, k);
		bool okp = dhcp6_parse(copy, k, &m);
		assert_int_equal(okp, k >= 4);
		/* the options end exactly at 4 (header only), 22 (after option 1), 36 (option 2), 80 (IA_NA) */
		bool boundary = k == 4 || k == 22 || k == 36 || k == 80;
		if (okp)
			assert_int_equal(m.options_cut, !boundary);
		free(copy);
	}
}

/* An IA_NA of 5 IA Addresses (RFC 8415 21.4: more than one allowed): 4 kept, the fifth flagged; a DUID of
 * 40 bytes (11.1: up to 128) cut to 32 and flagged; an IA Address shorter than 24 bytes is malformed. */
static void test_limits(void **st)
{
	(void)st;
	uint8_t b[400];
	size_t n = 0;
	b[n++] = DHCP6_REPLY, b[n++] = 0, b[n++] = 0, b[n++] = 1;
	b[n++] = 0, b[n++] = 1, b[n++] = 0, b[n++] = 40;
	for (int i = 0; i < 40; i++)
		b[n++] = (uint8_t)i;
	b[n++] = 0, b[n++] = 3, b[n++] = 0, b[n++] = 12 + 5 * 28;
	memset(b + n, 0, 12);
	n += 12;
	for (int a = 0; a < 5; a++) {
		b[n++] = 0, b[n++] = 5, b[n++] = 0, b[n++] = 24;
		memcpy(b + n, ip50, 16);
		b[n + 15] = (uint8_t)(0x50 + a);
		n += 16;
		memset(b + n, 0, 8);
		b[n + 7] = 60;                /* valid lifetime 60 */
		n += 8;
	}
	struct dhcp6_msg m;
	assert_true(dhcp6_parse(b, n, &m));
	assert_int_equal(m.duid_len, DHCP_ID_MAX);
	assert_true(m.duid_cut);
	assert_int_equal(m.n_addr, DHCP6_MAX_ADDRS);
	assert_true(m.addrs_cut);
	assert_int_equal(m.addr[3].ip[15], 0x53);
	assert_int_equal(m.addr[3].valid_s, 60);
	assert_false(m.options_cut);
	struct names *t = NULL;
	struct name_counters k = { 0 };
	struct packet p;
	memset(&p, 0, sizeof p);
	p.sport = 547, p.dport = 546, p.udp_name = true, p.payload = b, p.payload_len = (uint32_t)n;
	names_udp(&t, 1, 2, &p, &k);
	assert_int_equal(k.dhcp_ids_cut, 1);
	assert_int_equal(k.dhcp6_addrs_skipped, 1);
	assert_int_equal(k.malformed, 0);
	names_free(t);
	/* an IA Address of length 20 */
	static const uint8_t shortaddr[] = { 0x07, 0, 0, 1, 0x00, 0x03, 0x00, 0x28, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
					     0x00, 0x05, 0x00, 0x14, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
					     0, 0, 0, 0x50, 0, 0, 0, 0, 0, 0, 0, 0 };
	assert_true(dhcp6_parse(shortaddr, sizeof shortaddr, &m));
	assert_int_equal(m.n_addr, 0);
	assert_true(m.options_cut);
}

#define S 1000000LL

/* A Solicit names the host; the Reply at 100 s leases 2001:db8::50 for its valid lifetime (7200 s); a
 * Reply to a Renew at 5000 s extends it to 12200 s; a Release at 6000 s ends it. */
static void test_leases(void **st)
{
	(void)st;
	struct names *t = NULL;
	struct name_counters k = { 0 };
	uint8_t b[sizeof reply];
	feed(&t, &k, 99 * S, 546, 547, solicit, sizeof solicit);
	feed(&t, &k, 100 * S, 547, 546, reply, sizeof reply);
	feed(&t, &k, 5000 * S, 547, 546, reply, sizeof reply);
	assert_int_equal(k.packets, 3);
	assert_int_equal(k.malformed, 0);
	names_prepare(t);
	assert_int_equal(t->n_hosts, 1);
	assert_true(t->hosts[0].duid);
	assert_int_equal(t->hosts[0].hw_len, 0);
	assert_string_equal(t->hosts[0].name, "pc7.example.test");
	char buf[48];
	assert_string_equal(names_hw_str(&t->hosts[0], buf, sizeof buf), "duid:000100012a2b2c2d02000000000a");
	assert_string_equal(names_client_id_str(&t->hosts[0], buf, sizeof buf), "000100012a2b2c2d02000000000a");
	struct addr a50;
	addr_from_v6(&a50, ip50);
	assert_int_equal(names_host_at(t, &a50, 99 * S), -1);
	assert_int_equal(names_host_at(t, &a50, 150 * S), 0);
	assert_int_equal(names_host_at(t, &a50, 12000 * S), 0);     /* renewed: 5000 + 7200 */
	assert_int_equal(names_host_at(t, &a50, 12300 * S), -1);
	size_t first;
	assert_int_equal(names_of(t, &a50, &first), 1);
	assert_string_equal(t->v[first].name, "pc7.example.test");
	assert_int_equal(t->v[first].source, NAME_DHCP);
	assert_int_equal(t->v[first].count, 2);
	names_free(t);
	/* a Release (8) of the address at 6000 s ends the lease */
	t = NULL;
	feed(&t, &k, 100 * S, 547, 546, reply, sizeof reply);
	memcpy(b, reply, sizeof b);
	b[0] = DHCP6_RELEASE;
	feed(&t, &k, 6000 * S, 546, 547, b, sizeof b);
	/* and a Reply whose valid lifetime is 0 (RFC 8415 18.2.10.1) ends a lease the same way */
	feed(&t, &k, 7000 * S, 547, 546, reply, sizeof reply);
	b[0] = DHCP6_REPLY;
	memset(b + 76, 0, 4);                 /* the IA Address's valid lifetime (bytes 76-79) */
	feed(&t, &k, 7100 * S, 547, 546, b, sizeof b);
	names_prepare(t);
	assert_int_equal(names_host_at(t, &a50, 5999 * S), 0);
	assert_int_equal(names_host_at(t, &a50, 6500 * S), -1);
	assert_int_equal(names_host_at(t, &a50, 7050 * S), 0);
	assert_int_equal(names_host_at(t, &a50, 7200 * S), -1);
	names_free(t);
}

/* A worker's table merged into the reader's keeps the host's DUID as its key. */
static void test_merge(void **st)
{
	(void)st;
	struct names *a = NULL, *b = NULL;
	struct name_counters k = { 0 };
	feed(&a, &k, 100 * S, 547, 546, reply, sizeof reply);
	feed(&b, &k, 5000 * S, 547, 546, reply, sizeof reply);
	names_merge(&a, b, &k);
	names_prepare(a);
	assert_int_equal(a->n_hosts, 1);
	assert_true(a->hosts[0].duid);
	assert_int_equal(a->hosts[0].client_id_len, 14);
	struct addr a50;
	addr_from_v6(&a50, ip50);
	assert_int_equal(names_host_at(a, &a50, 12000 * S), 0);
	names_free(a);
	names_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_leases),
		cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
