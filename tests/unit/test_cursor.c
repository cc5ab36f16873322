/*
 * test_cursor.c - the bounded cursor: reads inside the window return the
 * bytes in the right order; reads past the end return 0, do not move, and
 * set the sticky error.
 */
#include "testutil.h"

#include "cursor.h"

static void reads_big_endian(void **st)
{
	(void)st;
	const uint8_t b[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a };
	struct cursor c = cur_make(b, sizeof b);
	assert_int_equal(cur_u8(&c), 0x01);
	assert_int_equal(cur_be16(&c), 0x0203);
	assert_int_equal(cur_be24(&c), 0x040506);
	assert_int_equal(cur_be32(&c), 0x0708090a);
	assert_false(c.err);
	assert_int_equal(cur_left(&c), 0);
}

static void little_endian(void **st)
{
	(void)st;
	const uint8_t b[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06 };
	struct cursor c = cur_make(b, sizeof b);
	assert_int_equal(cur_le16(&c), 0x0201);
	assert_int_equal(cur_le32(&c), 0x06050403);
	assert_false(c.err);
}

static void overrun_is_sticky(void **st)
{
	(void)st;
	const uint8_t b[] = { 0xAA, 0xBB, 0xCC };
	struct cursor c = cur_make(b, sizeof b);
	assert_int_equal(cur_be16(&c), 0xAABB);
	assert_int_equal(cur_be16(&c), 0);   /* only one byte left */
	assert_true(c.err);
	assert_int_equal(c.off, 2);          /* did not move */
	assert_int_equal(cur_u8(&c), 0);     /* sticky: even a fitting read fails */
	assert_true(c.err);
}

static void peeks_do_not_move(void **st)
{
	(void)st;
	const uint8_t b[] = { 0x10, 0x20, 0x30, 0x40, 0x50 };
	struct cursor c = cur_make(b, sizeof b);
	cur_skip(&c, 1);
	assert_int_equal(cur_peek_u8(&c, 0), 0x20);
	assert_int_equal(cur_peek_be16(&c, 2), 0x4050);
	assert_int_equal(cur_peek_be32(&c, 0), 0x20304050);
	assert_int_equal(c.off, 1);
	assert_false(c.err);
	assert_int_equal(cur_peek_be16(&c, 3), 0);  /* 0x50 and past the end */
	assert_true(c.err);
}

static void huge_offsets_do_not_wrap(void **st)
{
	(void)st;
	const uint8_t b[] = { 1, 2, 3, 4 };
	struct cursor c = cur_make(b, sizeof b);
	assert_int_equal(cur_peek_be32(&c, SIZE_MAX - 1), 0);
	assert_true(c.err);
	c = cur_make(b, sizeof b);
	assert_false(cur_skip(&c, SIZE_MAX));
	assert_true(c.err);
}

static void sub_cursors(void **st)
{
	(void)st;
	const uint8_t b[] = { 0, 3, 'a', 'b', 'c', 9 };
	struct cursor c = cur_make(b, sizeof b);
	uint16_t n = cur_be16(&c);
	struct cursor s = cur_sub(&c, n);
	char out[4] = { 0 };
	assert_true(cur_copy(&s, out, 3));
	assert_string_equal(out, "abc");
	assert_int_equal(cur_u8(&c), 9);
	assert_false(c.err);
	struct cursor bad = cur_sub(&c, 1);   /* nothing left */
	assert_true(bad.err);
	assert_true(c.err);
	assert_int_equal(cur_u8(&bad), 0);
}

static void limit_and_view(void **st)
{
	(void)st;
	const uint8_t b[] = { 1, 2, 3, 4, 5, 6 };
	struct cursor c = cur_make(b, sizeof b);
	cur_skip(&c, 1);
	cur_limit(&c, 2);
	assert_int_equal(cur_left(&c), 2);
	const uint8_t *v = cur_view(&c, 2);
	assert_non_null(v);
	assert_int_equal(v[0], 2);
	assert_null(cur_view(&c, 1));
	assert_true(c.err);
	struct cursor z = cur_make(NULL, 10);   /* a NULL window is empty */
	assert_int_equal(cur_left(&z), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_big_endian),
		cmocka_unit_test(little_endian),
		cmocka_unit_test(overrun_is_sticky),
		cmocka_unit_test(peeks_do_not_move),
		cmocka_unit_test(huge_offsets_do_not_wrap),
		cmocka_unit_test(sub_cursors),
		cmocka_unit_test(limit_and_view),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
