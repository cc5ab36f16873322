/*
 * test_json_out.c - the report writers' hand-made value formatting against
 * independent truths: fmt_time against the C library's calendar (gmtime_r
 * and strftime) and hand-computed RFC 3339 times; facts_json_str by decoding
 * what it wrote (every byte value, escapes across its internal buffer's
 * edge) and against hand-written JSON; facts_json_uint against printf.
 */
#include "testutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "protocol.h"
#include "report.h"

/* The C library's rendering of the same instant: the formatter fmt_time replaced. */
static void libc_time(int64_t us, char *buf)
{
	time_t s = (time_t)(us / 1000000);
	long frac = (long)(us % 1000000);
	if (frac < 0) {
		frac += 1000000;
		s--;
	}
	struct tm tm;
	if (!gmtime_r(&s, &tm))
		memset(&tm, 0, sizeof tm);
	size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%06ldZ", frac);
}

static void same_as_libc(int64_t us)
{
	char got[32], want[32];
	fmt_time(us, got);
	libc_time(us, want);
	if (strcmp(got, want) != 0)
		fail_msg("fmt_time(%" PRId64 ") = \"%s\", the C library says \"%s\"", us, got, want);
}

static void times_by_hand(void **st)
{
	(void)st;
	static const struct {
		int64_t us;
		const char *text;
	} t[] = {
		{ 0, "1970-01-01T00:00:00.000000Z" },
		{ -1, "1969-12-31T23:59:59.999999Z" },
		{ 951782400000000LL, "2000-02-29T00:00:00.000000Z" },          /* 946684800 + 59 days */
		{ 951868799999999LL, "2000-02-29T23:59:59.999999Z" },
		{ 1767603600123456LL, "2026-01-05T09:00:00.123456Z" },         /* 20458 days + 9 h */
		{ 4107542400000000LL, "2100-03-01T00:00:00.000000Z" },         /* 2100 is not a leap year */
		{ 253402300799999999LL, "9999-12-31T23:59:59.999999Z" },
		{ -30610224000000000LL, "1000-01-01T00:00:00.000000Z" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char got[32];
		assert_string_equal(fmt_time(t[i].us, got), t[i].text);
	}
}

static void times_against_libc(void **st)
{
	(void)st;
	/* the edges of the hand-made range, leap days, and what lies outside (the C library's path) */
	static const int64_t edge_s[] = { -30610224000LL, 253402300799LL, 253402300800LL, -30610224001LL,
					  -62135596800LL, 951782400LL, 4107456000LL, 4107542400LL,
					  -2203891200LL, -2208988800LL, 0, 1, -1, 86399, 86400 };
	for (size_t i = 0; i < sizeof edge_s / sizeof edge_s[0]; i++)
		for (int64_t d = -1; d <= 1; d++) {
			same_as_libc((edge_s[i] + d) * 1000000);
			same_as_libc((edge_s[i] + d) * 1000000 + 999999);
			same_as_libc((edge_s[i] + d) * 1000000 - 1);
		}
	same_as_libc(INT64_MIN);
	same_as_libc(INT64_MAX);
	same_as_libc(INT64_MIN + 1);
	/* 200,000 instants spread over years 900 to 10100 (an LCG: reproducible) */
	uint64_t x = 88172645463325252ULL;
	const int64_t lo = -33765897600LL * 1000000, span = 320000000000LL * 1000000;
	for (int i = 0; i < 200000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		same_as_libc(lo + (int64_t)(x % (uint64_t)span));
	}
	/* every day boundary of four centuries, around the Gregorian 400-year cycle */
	for (int64_t day = 10957 - 73048; day < 10957 + 73048; day++) {   /* 1800 to 2200 */
		same_as_libc(day * 86400 * 1000000);
		same_as_libc(day * 86400 * 1000000 - 1);
	}
}

/* What a writer put on a stream, as a string (freed by the caller). */
static char *written(void (*fn)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	fn(f, arg);
	fclose(f);
	return buf;
}

static void write_str(FILE *f, const void *s)
{
	facts_json_str(f, s);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A JSON string literal (RFC 8259 section 7) back to its bytes; only \u00XX as the writer uses. */
static size_t decode_json_string(const char *j, unsigned char *out, size_t cap)
{
	assert_int_equal(j[0], '"');
	size_t n = 0;
	const char *p = j + 1;
	for (; *p != '"'; p++) {
		assert_true(n < cap);
		unsigned char c = (unsigned char)*p;
		assert_true(c >= 0x20 && c < 0x7f);   /* the text itself is printable ASCII */
		if (c != '\\') {
			out[n++] = c;
			continue;
		}
		p++;
		switch (*p) {
		case '"': out[n++] = '"'; break;
		case '\\': out[n++] = '\\'; break;
		case '/': out[n++] = '/'; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u': {
			int v = 0;
			for (int k = 1; k <= 4; k++) {
				int h = hexval(p[k]);
				assert_true(h >= 0);
				v = v * 16 + h;
			}
			assert_true(v < 0x100);
			out[n++] = (unsigned char)v;
			p += 4;
			break;
		}
		default: fail_msg("unknown escape \\%c", *p);
		}
	}
	assert_int_equal(p[1], '\0');   /* nothing after the closing quote */
	return n;
}

static void strings_by_hand(void **st)
{
	(void)st;
	static const struct {
		const char *in, *json;
	} t[] = {
		{ "", "\"\"" },
		{ "QSECOFR", "\"QSECOFR\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "line\nfeed\rtab\t", "\"line\\nfeed\\rtab\\t\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
		{ "\xc3\xa9", "\"\\u00c3\\u00a9\"" },   /* UTF-8 e-acute: each byte escaped */
		{ "</script>", "\"</script>\"" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char *got = written(write_str, t[i].in);
		assert_string_equal(got, t[i].json);
		free(got);
	}
	char *null = written(write_str, NULL);
	assert_string_equal(null, "null");
	free(null);
}

static void strings_round_trip(void **st)
{
	(void)st;
	/* every byte value alone, then long strings whose escapes fall on every offset of the buffer */
	for (int b = 1; b < 256; b++) {
		char in[2] = { (char)b, 0 };
		char *j = written(write_str, in);
		unsigned char back[8];
		assert_int_equal(decode_json_string(j, back, sizeof back), 1);
		assert_int_equal(back[0], b);
		free(j);
	}
	static char in[2000];
	static unsigned char back[2000];
	for (int shift = 0; shift < 300; shift++) {
		size_t len = 0;
		for (int i = 0; i < shift; i++)
			in[len++] = 'x';
		for (int b = 1; b < 256 && len < sizeof in - 1; b++)
			in[len++] = (char)b;
		in[len] = 0;
		char *j = written(write_str, in);
		assert_int_equal(decode_json_string(j, back, sizeof back), len);
		assert_memory_equal(back, in, len);
		free(j);
	}
}

static void write_uint(FILE *f, const void *v)
{
	facts_json_uint(f, *(const uint64_t *)v);
}

static void numbers_against_printf(void **st)
{
	(void)st;
	uint64_t v[64] = { 0, 1, 9, 10, 99, 100, 65535, 4294967295ULL, 4294967296ULL, UINT64_MAX, UINT64_MAX - 1,
			   10000000000000000000ULL, 9999999999999999999ULL };
	uint64_t x = 1;
	for (int i = 13; i < 64; i++)
		v[i] = x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	for (int i = 0; i < 64; i++) {
		char want[32];
		snprintf(want, sizeof want, "%" PRIu64, v[i]);
		char *got = written(write_uint, &v[i]);
		assert_string_equal(got, want);
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(times_by_hand),
		cmocka_unit_test(times_against_libc),
		cmocka_unit_test(strings_by_hand),
		cmocka_unit_test(strings_round_trip),
		cmocka_unit_test(numbers_against_printf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
