/*
 * test_leasebook.c - DHCP leases across checkpoints (leasebook.c): the rules
 * names.c applies within one table (a renewal is the same lease, a host that
 * moves ends its lease on the address before, an address given to another
 * host ends the lease before it), applied to leases that came from a state
 * file and from a checkpoint's table.  Times are written out by hand; the
 * expected host at each instant follows from the rules alone.
 */
#include "testutil.h"

#include <string.h>

#include "leasebook.h"

static struct addr A(const char *s)
{
	struct addr a;
	int plen;
	assert_true(addr_parse_prefix(s, &a, &plen));
	return a;
}

static const char *host_at(const struct leasebook *b, const char *ip, int64_t t)
{
	struct addr a = A(ip);
	int32_t h = leasebook_host_at(b, &a, t);
	return h < 0 ? "" : b->hosts[h].key;
}

/* Host alpha leased .101 from 100 to 700 (a stored lease: its end is the lease time, the later
 * move unseen by that checkpoint), moved to .102 at 300; beta took .101 at 400. */
static void moves_and_reuse(void **state)
{
	(void)state;
	struct leasebook b = { 0 };
	struct addr a101 = A("192.0.2.101"), a102 = A("192.0.2.102");
	assert_true(leasebook_add(&b, "02:00:00:00:00:a1", "010200000000a1", &a101, 100, 700));
	assert_true(leasebook_add(&b, "02:00:00:00:00:a1", "", &a102, 300, 900));
	assert_true(leasebook_add(&b, "02:00:00:00:00:a2", "", &a101, 400, 1000));
	leasebook_prepare(&b);
	assert_int_equal(b.n_hosts, 2);
	assert_string_equal(host_at(&b, "192.0.2.101", 99), "");                    /* before any lease */
	assert_string_equal(host_at(&b, "192.0.2.101", 100), "02:00:00:00:00:a1");
	assert_string_equal(host_at(&b, "192.0.2.101", 299), "02:00:00:00:00:a1");
	assert_string_equal(host_at(&b, "192.0.2.101", 350), "");                    /* alpha moved at 300 */
	assert_string_equal(host_at(&b, "192.0.2.101", 400), "02:00:00:00:00:a2");
	assert_string_equal(host_at(&b, "192.0.2.102", 500), "02:00:00:00:00:a1");
	assert_string_equal(host_at(&b, "192.0.2.102", 901), "");                    /* the lease ran out */
	assert_string_equal(host_at(&b, "192.0.2.103", 500), "");
	/* the same host from two sources is one host, its client identifier kept */
	int32_t h = leasebook_host_at(&b, &a102, 500);
	assert_string_equal(b.hosts[h].client_id, "010200000000a1");
	leasebook_free(&b);
}

/* A renewal seen by a later checkpoint (start one lease time before its ACK) overlaps the stored
 * lease: one lease, to the later end; a lease that only touches after a gap stays apart. */
static void renewal_is_one_lease(void **state)
{
	(void)state;
	struct leasebook b = { 0 };
	struct addr a = A("192.0.2.50");
	assert_true(leasebook_add(&b, "aa", "", &a, 1000, 1600));
	assert_true(leasebook_add(&b, "aa", "", &a, 1500, 2100));
	assert_true(leasebook_add(&b, "bb", "", &a, 3000, 3600));
	leasebook_prepare(&b);
	assert_int_equal(b.n, 2);
	assert_string_equal(host_at(&b, "192.0.2.50", 2000), "aa");
	assert_string_equal(host_at(&b, "192.0.2.50", 2500), "");
	assert_string_equal(host_at(&b, "192.0.2.50", 3000), "bb");
	leasebook_free(&b);
}

static void empty_book(void **state)
{
	(void)state;
	struct leasebook b = { 0 };
	struct addr a = A("2001:db8::1");
	assert_false(leasebook_add(&b, "", "", &a, 1, 2));   /* no key: not a host */
	assert_true(leasebook_add_names(&b, NULL, false, NULL));
	leasebook_prepare(&b);
	assert_int_equal(leasebook_host_at(&b, &a, 1), -1);
	leasebook_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(moves_and_reuse),
		cmocka_unit_test(renewal_is_one_lease),
		cmocka_unit_test(empty_book),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
