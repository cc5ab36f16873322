/*
 * test_stream.c - TCP reassembly of one direction: in order, out of order,
 * retransmission and overlap (first copy wins), depth, gaps, wrap-around.
 */
#include "testutil.h"

#include <stdlib.h>

#include "stream.h"

static struct stream_counters cnt;

static void in_order(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 999);
	assert_true(stream_add(&s, 1000, (const uint8_t *)"hello ", 6, 6, 65536, &cnt, NULL));
	assert_true(stream_add(&s, 1006, (const uint8_t *)"world", 5, 5, 65536, &cnt, NULL));
	assert_int_equal(s.len, 11);
	assert_memory_equal(s.buf, "hello world", 11);
	stream_free(&s, NULL);
}

static void out_of_order_fills(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 0);
	assert_false(stream_add(&s, 4, (const uint8_t *)"DEF", 3, 3, 65536, &cnt, NULL));  /* hole 1..3 */
	assert_int_equal(s.len, 0);
	assert_int_equal(cnt.out_of_order, 1);
	assert_true(stream_add(&s, 1, (const uint8_t *)"ABC", 3, 3, 65536, &cnt, NULL));
	assert_int_equal(s.len, 6);
	assert_memory_equal(s.buf, "ABCDEF", 6);
	stream_free(&s, NULL);
}

static void overlaps_as_a_receiver_sees_them(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 0);
	stream_add(&s, 1, (const uint8_t *)"abcd", 4, 4, 65536, &cnt, NULL);
	/* an identical retransmission changes nothing and is no conflict */
	assert_false(stream_add(&s, 1, (const uint8_t *)"abcd", 4, 4, 65536, &cnt, NULL));
	assert_int_equal(cnt.retransmitted, 1);
	assert_false(s.conflict);
	/* delivered bytes never change; other bytes over them are a conflict */
	assert_false(stream_add(&s, 1, (const uint8_t *)"XXXX", 4, 4, 65536, &cnt, NULL));
	assert_true(s.conflict);
	assert_int_equal(cnt.overlap_conflicts, 1);
	/* an overlap: only the new tail is taken, and "YY" differs from "cd" */
	assert_true(stream_add(&s, 3, (const uint8_t *)"YYef", 4, 4, 65536, &cnt, NULL));
	assert_int_equal(s.len, 6);
	assert_memory_equal(s.buf, "abcdef", 6);
	assert_int_equal(cnt.overlap_conflicts, 2);
	/* a segment arriving in order replaces out-of-order bytes held for the same
	 * place, as Linux and BSD trim their out-of-order queue: the fake tail "ij"
	 * loses to the full segment "ghZZ" */
	stream_add(&s, 9, (const uint8_t *)"ij", 2, 2, 65536, &cnt, NULL);
	stream_add(&s, 7, (const uint8_t *)"ghZZ", 4, 4, 65536, &cnt, NULL);
	assert_int_equal(s.len, 10);
	assert_memory_equal(s.buf, "abcdefghZZ", 10);
	assert_int_equal(cnt.overlap_conflicts, 3);
	/* between two out-of-order copies the first stays (and the difference is counted) */
	stream_add(&s, 14, (const uint8_t *)"no", 2, 2, 65536, &cnt, NULL);
	stream_add(&s, 14, (const uint8_t *)"NO", 2, 2, 65536, &cnt, NULL);
	assert_int_equal(cnt.overlap_conflicts, 4);
	stream_add(&s, 11, (const uint8_t *)"klm", 3, 3, 65536, &cnt, NULL);
	assert_int_equal(s.len, 15);
	assert_memory_equal(s.buf + 10, "klmno", 5);
	stream_free(&s, NULL);
}

/* A segment 2^31 bytes before the base: the skip is computed without signed overflow. */
static void half_space_before_base(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 0x7fffffff);   /* base 0x80000000 */
	assert_false(stream_add(&s, 0, (const uint8_t *)"abcd", 4, 4, 65536, &cnt, NULL));
	assert_int_equal(cnt.retransmitted, 1);
	assert_int_equal(s.len, 0);
	stream_free(&s, NULL);
}

static uint64_t reclaim_asked;
static void note_reclaim(void *owner, uint64_t need)
{
	(void)owner;
	reclaim_asked += need;
}

/* Every byte of a buffer is charged to the budget, given back when freed; a growth
 * past the budget asks for reclaim, then stops the direction. */
static void memory_budget(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	struct stream_mem mem = { .cap = 8192, .reclaim = note_reclaim };
	uint8_t big[8192];
	memset(big, 'x', sizeof big);
	memset(&cnt, 0, sizeof cnt);
	reclaim_asked = 0;
	stream_set_isn(&s, 0);
	assert_true(stream_add(&s, 1, big, 100, 100, 65536, &cnt, &mem));
	assert_int_equal(mem.used, 2048);
	/* one byte far ahead needs a 8 KiB buffer: fits exactly */
	stream_add(&s, 1 + 8000, big, 1, 1, 65536, &cnt, &mem);
	assert_int_equal(mem.used, 8192);
	assert_int_equal(reclaim_asked, 0);
	assert_false(s.memcap);
	/* one more byte further needs 16 KiB: reclaim is asked for the 8 KiB missing, nobody frees, refused */
	assert_false(stream_add(&s, 1 + 9000, big, 1, 1, 65536, &cnt, &mem));
	assert_int_equal(reclaim_asked, 8192);
	assert_true(s.memcap);
	assert_int_equal(cnt.memcap_refused, 1);
	assert_int_equal(mem.used, 8192);
	assert_int_equal(mem.peak, 8192);
	/* a stopped direction takes nothing more */
	assert_false(stream_add(&s, 101, big, 10, 10, 65536, &cnt, &mem));
	stream_free(&s, &mem);
	assert_int_equal(mem.used, 0);
}

/* The buffer never grows past the depth. */
static void buffer_capped_at_depth(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	struct stream_mem mem = { .cap = 1 << 20 };
	uint8_t big[3000];
	memset(big, 'y', sizeof big);
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 0);
	stream_add(&s, 1, big, 3000, 3000, 3000, &cnt, &mem);
	assert_int_equal(s.cap, 3000);
	assert_int_equal(mem.used, 3000);
	stream_free(&s, &mem);
}

static void depth_bound(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	uint8_t big[300];
	memset(big, 'x', sizeof big);
	stream_set_isn(&s, 0);
	stream_add(&s, 1, big, 300, 300, 256, &cnt, NULL);
	assert_int_equal(s.len, 256);
	assert_true(s.full);
	assert_int_equal(cnt.truncated, 1);
	assert_false(stream_add(&s, 301, big, 10, 10, 256, &cnt, NULL));
	assert_int_equal(cnt.truncated, 1);   /* counted once per direction */
	stream_free(&s, NULL);
}

static void acked_hole_is_gap(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 100);
	stream_add(&s, 101, (const uint8_t *)"abc", 3, 3, 65536, &cnt, NULL);
	stream_acked(&s, 104, &cnt);        /* exactly what we have */
	stream_acked(&s, 105, &cnt);        /* a FIN's sequence number */
	assert_false(s.gap);
	stream_acked(&s, 200, &cnt);        /* the receiver has bytes we never saw */
	assert_true(s.gap);
	assert_int_equal(cnt.gaps, 1);
	assert_false(stream_add(&s, 104, (const uint8_t *)"d", 1, 1, 65536, &cnt, NULL));
	stream_free(&s, NULL);
}

static void snaplen_cut_is_gap(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 0);
	stream_add(&s, 1, (const uint8_t *)"abcd", 4, 1000, 65536, &cnt, NULL);
	assert_int_equal(s.len, 4);
	assert_true(s.gap);
	assert_int_equal(cnt.snaplen_cut, 1);
	stream_free(&s, NULL);
}

static void wraps_around(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 0xFFFFFFFD);     /* data starts at 0xFFFFFFFE */
	stream_add(&s, 0xFFFFFFFE, (const uint8_t *)"ab", 2, 2, 65536, &cnt, NULL);
	stream_add(&s, 0x00000000, (const uint8_t *)"cd", 2, 2, 65536, &cnt, NULL);
	assert_int_equal(s.len, 4);
	assert_memory_equal(s.buf, "abcd", 4);
	stream_free(&s, NULL);
}

static void midstream_starts_at_first_data(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_add(&s, 5000, (const uint8_t *)"xyz", 3, 3, 65536, &cnt, NULL);
	assert_int_equal(s.len, 3);
	assert_false(stream_add(&s, 4990, (const uint8_t *)"0123456789", 10, 10, 65536, &cnt, NULL));
	assert_int_equal(s.len, 3);
	stream_free(&s, NULL);
}

static void range_bound(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 0);
	for (uint32_t i = 0; i < STREAM_MAX_RANGES + 4; i++)
		stream_add(&s, 10 + i * 10, (const uint8_t *)"x", 1, 1, 65536, &cnt, NULL);
	assert_int_equal(s.n_ranges, STREAM_MAX_RANGES);
	assert_int_equal(cnt.ooo_dropped, 4);
	stream_close(&s, &cnt);
	assert_true(s.gap);
	stream_free(&s, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(in_order),
		cmocka_unit_test(out_of_order_fills),
		cmocka_unit_test(overlaps_as_a_receiver_sees_them), cmocka_unit_test(half_space_before_base),
		cmocka_unit_test(memory_budget), cmocka_unit_test(buffer_capped_at_depth),
		cmocka_unit_test(depth_bound),
		cmocka_unit_test(acked_hole_is_gap),
		cmocka_unit_test(snaplen_cut_is_gap),
		cmocka_unit_test(wraps_around),
		cmocka_unit_test(midstream_starts_at_first_data),
		cmocka_unit_test(range_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
