/*
 * test_addr.c - addr_str's hand-written text forms against the C library's
 * inet_ntop (the independent truth) for IPv4 and IPv6 addresses built to
 * hit every shape: zero runs of every length and place, ties between runs,
 * IPv4-compatible and IPv4-mapped forms, loopback, all-zero, all-ones.
 */
#include "testutil.h"

#include <arpa/inet.h>

#include "addr.h"

static void check(const uint8_t b[16])
{
	struct addr a;
	addr_from_v6(&a, b);
	char got[ADDR_STRLEN], want[ADDR_STRLEN];
	addr_str(&a, got);
	if (addr_is_v4(&a))
		inet_ntop(AF_INET, b + 12, want, sizeof want);
	else
		inet_ntop(AF_INET6, b, want, sizeof want);
	if (strcmp(got, want) != 0)
		fail_msg("addr_str gave \"%s\", inet_ntop \"%s\"", got, want);
}

/* Every pattern of zero and non-zero groups (256), each with several group values. */
static void every_zero_pattern(void **st)
{
	(void)st;
	static const unsigned vals[] = { 1, 0xa, 0xff, 0x100, 0xabc, 0x1000, 0xffff, 0x0db8 };
	for (unsigned mask = 0; mask < 256; mask++)
		for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
			uint8_t b[16];
			for (int i = 0; i < 8; i++) {
				unsigned x = (mask >> i & 1) ? vals[(v + (size_t)i) % 8] : 0;
				b[2 * i] = (uint8_t)(x >> 8);
				b[2 * i + 1] = (uint8_t)x;
			}
			check(b);
		}
}

static void special_forms(void **st)
{
	(void)st;
	uint8_t b[16];
	memset(b, 0, 16);
	check(b);                                            /* :: */
	b[15] = 1;
	check(b);                                            /* ::1 */
	b[12] = 192; b[13] = 0; b[14] = 2; b[15] = 33;
	check(b);                                            /* ::192.0.2.33 */
	b[10] = b[11] = 0xff;
	check(b);                                            /* IPv4-mapped: dotted */
	b[12] = 0; b[13] = 0; b[14] = 0; b[15] = 0;
	check(b);                                            /* 0.0.0.0 */
	b[8] = b[9] = 0xff; b[10] = b[11] = 0;
	b[12] = 10; b[15] = 1;
	check(b);                                            /* ::ffff:0:a00:1 (SIIT) */
	memset(b, 0xff, 16);
	check(b);
	uint8_t v4[4] = { 255, 255, 255, 255 }, v4b[4] = { 1, 10, 100, 0 };
	struct addr a;
	char s[ADDR_STRLEN];
	addr_from_v4(&a, v4);
	assert_string_equal(addr_str(&a, s), "255.255.255.255");
	addr_from_v4(&a, v4b);
	assert_string_equal(addr_str(&a, s), "1.10.100.0");
}

/* Pseudo-random addresses, a third of their groups zero (xorshift, fixed seed). */
static void random_addresses(void **st)
{
	(void)st;
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	for (int n = 0; n < 20000; n++) {
		uint8_t b[16];
		for (int i = 0; i < 8; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			unsigned g = (x % 3 == 0) ? 0 : (unsigned)(x >> 20) & (x & 8 ? 0xffff : 0xf);
			b[2 * i] = (uint8_t)(g >> 8);
			b[2 * i + 1] = (uint8_t)g;
		}
		check(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_zero_pattern),
		cmocka_unit_test(special_forms),
		cmocka_unit_test(random_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
