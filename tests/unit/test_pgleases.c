/*
 * test_pgleases.c - the shared store's leases (store_pg_leases.c) without a
 * database: a monitor's checkpoint takes from the leases it kept those that
 * can cover its connections, keeps for later only those that can still
 * cover one (and its own), and the findings' "now" rows get the host whose
 * lease held their address at their first connection.  Times are written
 * out by hand; what is expected follows from the lease times alone.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "leasebook.h"
#include "store_pg.h"

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

/* Kept: alpha on .50 from 100 to 700, beta on .60 from 0 to 50.  The checkpoint's connections start at
 * 200 (.50) and 210 (.60): alpha's lease names the first, beta's ended before either; only alpha's lease
 * stays kept (beta's can name no later connection: the checkpoints' times only grow). */
static void kept_leases(void **state)
{
	(void)state;
	struct leasebook kept = { 0 }, book = { 0 }, cur = { 0 };
	struct addr a50 = A("192.0.2.50"), a60 = A("192.0.2.60");
	assert_true(leasebook_add(&kept, "02:00:00:00:00:0a", "01020000000000a", &a50, 100, 700));
	assert_true(leasebook_add(&kept, "02:00:00:00:00:0b", "", &a60, 0, 50));
	struct flow_record r1 = { .cli = a50, .start_us = 200 }, r2 = { .cli = a60, .start_us = 210 };
	struct flow_record *recs[] = { &r1, &r2 };
	struct analysis done = { .records = recs, .n_records = 2 };
	struct store_checkpoint c = { .done = &done };
	assert_true(pg_leases_checkpoint(NULL, &kept, &c, &book, &cur));
	assert_true(book.prepared);
	assert_string_equal(host_at(&book, "192.0.2.50", 200), "02:00:00:00:00:0a");
	assert_string_equal(host_at(&book, "192.0.2.60", 210), "");
	assert_int_equal(kept.n, 1);
	assert_string_equal(kept.hosts[kept.v[0].host].key, "02:00:00:00:00:0a");
	assert_int_equal(cur.n, 0);   /* no names table: no lease of its own */

	/* "now": .50's row (first connection at 200) is alpha's, .60's stays its address */
	struct inventory now = { 0 };
	now.clients = calloc(2, sizeof *now.clients);
	now.n_clients = 2;
	now.clients[0] = (struct inv_client){ .ip = a50, .first_us = 200, .host = -1 };
	now.clients[1] = (struct inv_client){ .ip = a60, .first_us = 210, .host = -1 };
	pg_leases_now(&now, &book);
	assert_non_null(now.clients[0].dhcp);
	assert_string_equal(inv_client_hw(&now.clients[0]), "02:00:00:00:00:0a");
	assert_string_equal(inv_client_id(&now.clients[0]), "01020000000000a");
	assert_null(now.clients[1].dhcp);
	inventory_free(&now);
	leasebook_free(&kept);
	leasebook_free(&book);
	leasebook_free(&cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kept_leases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
