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
	assert_true(stream_add(&s, 1000, (const uint8_t *)"hello ", 6, 6, 65536, &cnt));
	assert_true(stream_add(&s, 1006, (const uint8_t *)"world", 5, 5, 65536, &cnt));
	assert_int_equal(s.len, 11);
	assert_memory_equal(s.buf, "hello world", 11);
	stream_free(&s);
}

static void out_of_order_fills(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 0);
	assert_false(stream_add(&s, 4, (const uint8_t *)"DEF", 3, 3, 65536, &cnt));  /* hole 1..3 */
	assert_int_equal(s.len, 0);
	assert_int_equal(cnt.out_of_order, 1);
	assert_true(stream_add(&s, 1, (const uint8_t *)"ABC", 3, 3, 65536, &cnt));
	assert_int_equal(s.len, 6);
	assert_memory_equal(s.buf, "ABCDEF", 6);
	stream_free(&s);
}

static void first_copy_wins(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 0);
	stream_add(&s, 1, (const uint8_t *)"abcd", 4, 4, 65536, &cnt);
	/* a retransmission with other bytes over the same range changes nothing */
	assert_false(stream_add(&s, 1, (const uint8_t *)"XXXX", 4, 4, 65536, &cnt));
	assert_int_equal(cnt.retransmitted, 1);
	/* an overlap: only the new tail is taken */
	assert_true(stream_add(&s, 3, (const uint8_t *)"YYef", 4, 4, 65536, &cnt));
	assert_int_equal(s.len, 6);
	assert_memory_equal(s.buf, "abcdef", 6);
	/* out-of-order held bytes also win over a later overlapping copy */
	stream_add(&s, 9, (const uint8_t *)"ij", 2, 2, 65536, &cnt);
	stream_add(&s, 7, (const uint8_t *)"ghZZ", 4, 4, 65536, &cnt);
	assert_int_equal(s.len, 10);
	assert_memory_equal(s.buf, "abcdefghij", 10);
	stream_free(&s);
}

static void depth_bound(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	uint8_t big[300];
	memset(big, 'x', sizeof big);
	stream_set_isn(&s, 0);
	stream_add(&s, 1, big, 300, 300, 256, &cnt);
	assert_int_equal(s.len, 256);
	assert_true(s.full);
	assert_int_equal(cnt.truncated, 1);
	assert_false(stream_add(&s, 301, big, 10, 10, 256, &cnt));
	assert_int_equal(cnt.truncated, 1);   /* counted once per direction */
	stream_free(&s);
}

static void acked_hole_is_gap(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 100);
	stream_add(&s, 101, (const uint8_t *)"abc", 3, 3, 65536, &cnt);
	stream_acked(&s, 104, &cnt);        /* exactly what we have */
	stream_acked(&s, 105, &cnt);        /* a FIN's sequence number */
	assert_false(s.gap);
	stream_acked(&s, 200, &cnt);        /* the receiver has bytes we never saw */
	assert_true(s.gap);
	assert_int_equal(cnt.gaps, 1);
	assert_false(stream_add(&s, 104, (const uint8_t *)"d", 1, 1, 65536, &cnt));
	stream_free(&s);
}

static void snaplen_cut_is_gap(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 0);
	stream_add(&s, 1, (const uint8_t *)"abcd", 4, 1000, 65536, &cnt);
	assert_int_equal(s.len, 4);
	assert_true(s.gap);
	assert_int_equal(cnt.snaplen_cut, 1);
	stream_free(&s);
}

static void wraps_around(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 0xFFFFFFFD);     /* data starts at 0xFFFFFFFE */
	stream_add(&s, 0xFFFFFFFE, (const uint8_t *)"ab", 2, 2, 65536, &cnt);
	stream_add(&s, 0x00000000, (const uint8_t *)"cd", 2, 2, 65536, &cnt);
	assert_int_equal(s.len, 4);
	assert_memory_equal(s.buf, "abcd", 4);
	stream_free(&s);
}

static void midstream_starts_at_first_data(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_add(&s, 5000, (const uint8_t *)"xyz", 3, 3, 65536, &cnt);
	assert_int_equal(s.len, 3);
	assert_false(stream_add(&s, 4990, (const uint8_t *)"0123456789", 10, 10, 65536, &cnt));
	assert_int_equal(s.len, 3);
	stream_free(&s);
}

static void range_bound(void **st)
{
	(void)st;
	struct stream_dir s = { 0 };
	memset(&cnt, 0, sizeof cnt);
	stream_set_isn(&s, 0);
	for (uint32_t i = 0; i < STREAM_MAX_RANGES + 4; i++)
		stream_add(&s, 10 + i * 10, (const uint8_t *)"x", 1, 1, 65536, &cnt);
	assert_int_equal(s.n_ranges, STREAM_MAX_RANGES);
	assert_int_equal(cnt.ooo_dropped, 4);
	stream_close(&s, &cnt);
	assert_true(s.gap);
	stream_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(in_order),
		cmocka_unit_test(out_of_order_fills),
		cmocka_unit_test(first_copy_wins),
		cmocka_unit_test(depth_bound),
		cmocka_unit_test(acked_hole_is_gap),
		cmocka_unit_test(snaplen_cut_is_gap),
		cmocka_unit_test(wraps_around),
		cmocka_unit_test(midstream_starts_at_first_data),
		cmocka_unit_test(range_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
