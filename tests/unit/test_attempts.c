/*
 * test_attempts.c - the --max-attempts fold (attempts.c) and its source
 * sketch (hll.c), against exact counts computed here:
 * - the HyperLogLog estimate of n distinct addresses (sequential, as a
 *   spoofed flood makes them, and scattered) is within 3 standard errors
 *   (10 %) of n, exact enough below a hundred; repeats add nothing; a merge
 *   of two sketches equals the sketch of the union, register for register;
 * - of attempt-only records offered in any order, the N first by (first
 *   packet, frame number) are kept and every other one is counted in its
 *   (server, port, TCP outcome) group with its first start and last end; a
 *   record with payload is not the set's;
 * - split over several sets in different ways and merged (what --threads
 *   does), the kept records, the groups and `other` are the same, also when
 *   the group table is full (its smallest keys stay);
 * - folded in parts whose groups are stored and cleared in turn (a
 *   monitor's intervals), then absorbed back from those rows (a report of
 *   the state): the same groups as folding everything at once.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "attempts.h"
#include "hll.h"

static struct addr v6(uint64_t i)
{
	struct addr a;
	memset(&a, 0, sizeof a);
	a.b[0] = 0x20; a.b[1] = 0x01; a.b[2] = 0x0d; a.b[3] = 0xb8; a.b[5] = 0x0c;
	for (int k = 0; k < 8; k++)
		a.b[15 - k] = (uint8_t)(i >> (8 * k));
	return a;
}

static uint64_t sm(uint64_t *s)   /* splitmix64: scattered test addresses */
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void hll_against_exact(void **st)
{
	(void)st;
	static const uint64_t ns[] = { 1, 7, 60, 500, 3000, 20000, 200000, 1000000 };
	for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
		for (int scattered = 0; scattered < 2; scattered++) {
			struct hll h;
			memset(&h, 0, sizeof h);
			uint64_t s = k;
			for (uint64_t i = 0; i < ns[k]; i++) {
				struct addr a = v6(scattered ? sm(&s) : i + 1);
				if (!scattered && i < 400)
					addr_from_v4(&a, (uint8_t[4]){ 192, 0, 2, (uint8_t)i });
				hll_add(&h, hll_hash_addr(&a));
			}
			/* the v4 addresses wrap after 256: exact count of distinct ones */
			uint64_t exact = (!scattered && ns[k] > 256) ? ns[k] - (ns[k] < 400 ? ns[k] : 400) + 256 : ns[k];
			if (!scattered && ns[k] <= 256)
				exact = ns[k];
			double est = (double)hll_estimate(&h), err = est / (double)exact - 1;
			if (err < 0)
				err = -err;
			if (exact < 100)
				assert_true(est >= (double)exact - 1 && est <= (double)exact + 1);
			else if (err > 0.10)
				fail_msg("n=%llu scattered=%d estimate %.0f: %.1f %% off",
					 (unsigned long long)exact, scattered, est, err * 100);
		}
	}
}

static void hll_repeats_and_merge(void **st)
{
	(void)st;
	struct hll a, b, u, again;
	memset(&a, 0, sizeof a); memset(&b, 0, sizeof b); memset(&u, 0, sizeof u); memset(&again, 0, sizeof again);
	for (uint64_t i = 0; i < 5000; i++) {
		uint64_t x;
		struct addr ad = v6(i * 3 + 1);
		x = hll_hash_addr(&ad);
		hll_add(i % 2 ? &a : &b, x);
		hll_add(&u, x);
		for (int r = 0; r < 3; r++)
			hll_add(&again, x);
	}
	hll_merge(&a, &b);
	assert_memory_equal(a.reg, u.reg, HLL_M);
	assert_memory_equal(again.reg, u.reg, HLL_M);
}

/* ---- the fold ---- */

#define NREC 300

struct spec {
	int64_t start;
	uint64_t seq;
	int srv, port, tcp;
	uint64_t cli;
};

static struct spec specs[NREC];

static void make_specs(void)
{
	uint64_t s = 42;
	for (int i = 0; i < NREC; i++) {
		specs[i].start = 1000 + (int64_t)(sm(&s) % 50);   /* ties in time: the frame number decides */
		specs[i].seq = (uint64_t)i + 1;
		specs[i].srv = (int)(sm(&s) % 3);
		specs[i].port = (int)(sm(&s) % 2);
		specs[i].tcp = (int)(sm(&s) % 2) ? TCP_UNANSWERED : TCP_REFUSED;
		specs[i].cli = sm(&s) % 120;                         /* repeated sources */
	}
}

static struct flow_record *rec(const struct spec *p)
{
	struct flow_record *r = calloc(1, sizeof *r);
	r->start_us = p->start;
	r->end_us = p->start + 10 + (int64_t)(p->seq % 7);
	r->seq_no = p->seq;
	r->srv = v6(0x10 + (uint64_t)p->srv);
	r->sport = (uint16_t)(p->port ? 9476 : 8476);
	r->tcp = (enum tcp_outcome)p->tcp;
	r->cli = v6(0x1000 + p->cli);
	return r;
}

static int by_order(const void *x, const void *y)
{
	const struct flow_record *a = *(struct flow_record *const *)x, *b = *(struct flow_record *const *)y;
	if (a->start_us != b->start_us)
		return a->start_us < b->start_us ? -1 : 1;
	return a->seq_no < b->seq_no ? -1 : a->seq_no > b->seq_no;
}

static int spec_order(const void *x, const void *y)
{
	const struct spec *a = x, *b = y;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Run the records through `parts` sets (record i to set (i * mult) % parts), merged into the first. */
static void run_split(struct attempts *out, uint64_t cap, size_t group_bytes, int parts, int mult)
{
	struct attempts sets[4];
	for (int p = 0; p < parts; p++)
		assert_true(attempts_init(&sets[p], cap, group_bytes));
	for (int i = NREC - 1; i >= 0; i--)   /* backwards: not the report's order */
		assert_true(attempts_take(&sets[(i * mult) % parts], rec(&specs[i])));
	for (int p = 1; p < parts; p++) {
		attempts_merge(&sets[0], &sets[p]);
		attempts_free(&sets[p]);
	}
	*out = sets[0];
}

static void fold_against_exact(void **st)
{
	(void)st;
	make_specs();
	const uint64_t cap = 40;
	struct attempts t;
	run_split(&t, cap, ATTEMPT_GROUPS_BYTES, 1, 1);
	/* kept: the 40 first in the report's order */
	struct spec sorted[NREC];
	memcpy(sorted, specs, sizeof sorted);
	qsort(sorted, NREC, sizeof sorted[0], spec_order);
	size_t n;
	struct flow_record **k = attempts_kept(&t, &n);
	assert_int_equal(n, cap);
	qsort(k, n, sizeof *k, by_order);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(k[i]->seq_no, sorted[i].seq);
	for (size_t i = 0; i < n; i++)
		record_free(k[i]);
	assert_int_equal(t.folded, NREC - cap);
	assert_int_equal(t.other.connections, 0);
	/* every group: exact count, first start, last end, distinct sources */
	uint64_t total = 0;
	for (size_t g = 0; g < t.n_groups; g++) {
		const struct attempt_group *G = t.groups[g];
		uint64_t count = 0;
		int64_t first = INT64_MAX, last = INT64_MIN;
		bool seen[120] = { false };
		uint64_t distinct = 0;
		for (size_t i = cap; i < NREC; i++) {
			struct flow_record *r = rec(&sorted[i]);
			if (addr_eq(&r->srv, &G->srv) && r->sport == G->port && r->tcp == G->tcp) {
				count++;
				first = r->start_us < first ? r->start_us : first;
				last = r->end_us > last ? r->end_us : last;
				if (!seen[sorted[i].cli])
					seen[sorted[i].cli] = true, distinct++;
			}
			record_free(r);
		}
		assert_int_equal(G->connections, count);
		assert_int_equal(G->first_us, first);
		assert_int_equal(G->last_us, last);
		uint64_t est = hll_estimate(&G->sources);   /* up to 120 sources: linear counting, within 5 % */
		if (est + 2 + distinct / 20 < distinct || est > distinct + 2 + distinct / 20)
			fail_msg("group %zu: %llu distinct sources, estimate %llu", g, (unsigned long long)distinct,
				 (unsigned long long)est);
		total += count;
		if (g)
			assert_true(addr_cmp(&t.groups[g - 1]->srv, &G->srv) <= 0);
	}
	assert_int_equal(total, NREC - cap);
	/* a record with payload, or one whose start was not seen, is not the set's */
	struct flow_record *r = rec(&specs[0]);
	r->payload[1] = 5;
	assert_false(attempts_take(&t, r));
	r->payload[1] = 0;
	r->midstream = true;
	assert_false(attempts_take(&t, r));
	record_free(r);
	attempts_free(&t);
}

/* The same folded groups and `other`, field by field and register by register. */
static void assert_same_groups(const struct attempts *t, const struct attempts *ref)
{
	assert_int_equal(t->folded, ref->folded);
	assert_int_equal(t->n_groups, ref->n_groups);
	for (size_t g = 0; g < t->n_groups; g++) {
		assert_true(addr_eq(&t->groups[g]->srv, &ref->groups[g]->srv));
		assert_int_equal(t->groups[g]->port, ref->groups[g]->port);
		assert_int_equal(t->groups[g]->tcp, ref->groups[g]->tcp);
		assert_int_equal(t->groups[g]->connections, ref->groups[g]->connections);
		assert_int_equal(t->groups[g]->first_us, ref->groups[g]->first_us);
		assert_int_equal(t->groups[g]->last_us, ref->groups[g]->last_us);
		assert_memory_equal(t->groups[g]->sources.reg, ref->groups[g]->sources.reg, HLL_M);
	}
	assert_int_equal(t->other.connections, ref->other.connections);
	assert_int_equal(t->other.first_us, ref->other.first_us);
	assert_int_equal(t->other.last_us, ref->other.last_us);
	assert_memory_equal(t->other.sources.reg, ref->other.sources.reg, HLL_M);
}

static void same_result_however_split(void **st)
{
	(void)st;
	make_specs();
	/* a table of room for 4 of the 12 keys: the rest goes to `other` */
	size_t small = 4 * (sizeof(struct attempt_group) + sizeof(struct attempt_group *));
	for (int table = 0; table < 2; table++) {
		size_t gb = table ? small : ATTEMPT_GROUPS_BYTES;
		struct attempts ref;
		run_split(&ref, 25, gb, 1, 1);
		if (table) {
			assert_int_equal(ref.n_groups, 4);
			assert_true(ref.other.connections > 0);
		}
		size_t nref;
		struct flow_record **kr = attempts_kept(&ref, &nref);
		qsort(kr, nref, sizeof *kr, by_order);
		static const int splits[][2] = { { 2, 1 }, { 3, 1 }, { 3, 2 }, { 4, 3 } };
		for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++) {
			struct attempts t;
			run_split(&t, 25, gb, splits[s][0], splits[s][1]);
			size_t n;
			struct flow_record **k = attempts_kept(&t, &n);
			assert_int_equal(n, nref);
			qsort(k, n, sizeof *k, by_order);
			for (size_t i = 0; i < n; i++) {
				assert_int_equal(k[i]->seq_no, kr[i]->seq_no);
				record_free(k[i]);
			}
			assert_same_groups(&t, &ref);
			attempts_free(&t);
		}
		for (size_t i = 0; i < nref; i++)
			record_free(kr[i]);
		attempts_free(&ref);
	}
}

/* What a monitor does over its intervals: fold a part of the records, store the groups (copied out here as
 * a store's rows), clear them, fold the next part; the stored rows absorbed into one set (a report of the
 * state) are the groups and `other` of folding every record at once, also when the table is full (the
 * smallest keys of all are the smallest keys of any part). */
static void stored_parts_absorb_back(void **st)
{
	(void)st;
	make_specs();
	size_t small = 4 * (sizeof(struct attempt_group) + sizeof(struct attempt_group *));
	for (int table = 0; table < 2; table++) {
		size_t gb = table ? small : ATTEMPT_GROUPS_BYTES;
		struct attempts ref, live, back;
		assert_true(attempts_init(&ref, 0, gb));
		assert_true(attempts_init(&live, 0, gb));
		assert_true(attempts_init(&back, 0, gb));
		for (int i = 0; i < NREC; i++)
			assert_true(attempts_take(&ref, rec(&specs[i])));
		static struct attempt_group rows[3 * 64];
		bool is_other[3 * 64];
		size_t n_rows = 0;
		for (int part = 0; part < 3; part++) {
			for (int i = part * NREC / 3; i < (part + 1) * NREC / 3; i++)
				assert_true(attempts_take(&live, rec(&specs[i])));
			for (size_t g = 0; g < live.n_groups; g++, n_rows++) {
				rows[n_rows] = *live.groups[g];
				is_other[n_rows] = false;
			}
			if (live.other.connections) {
				rows[n_rows] = live.other;
				is_other[n_rows++] = true;
			}
			attempts_clear_groups(&live);
			assert_int_equal(live.n_groups, 0);
			assert_int_equal(live.folded, 0);
			assert_int_equal(live.other.connections, 0);
		}
		for (size_t r = n_rows; r-- > 0;)   /* backwards: the rows' order does not matter */
			attempts_absorb(&back, &rows[r], is_other[r]);
		assert_int_equal(back.folded, NREC);
		assert_same_groups(&back, &ref);
		if (table)
			assert_true(ref.other.connections > 0);
		attempts_free(&ref);
		attempts_free(&live);
		attempts_free(&back);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hll_against_exact),
		cmocka_unit_test(hll_repeats_and_merge),
		cmocka_unit_test(fold_against_exact),
		cmocka_unit_test(same_result_however_split),
		cmocka_unit_test(stored_parts_absorb_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
