/*
 * test_portmapper.c - the port mapper (449) dissector: the documented
 * "as-signon-s" request and "2B 00 00 25 04" reply, fed whole and byte by
 * byte, the name aliases, failure replies, and hostile input.
 * Layouts: /work/shared/docs/ibmi-protocols.md section 1.
 */
#include "testutil.h"

#include <stdlib.h>

#include "portmapper.h"

/* Every consume call gets an exact-size copy, so ASan sees any over-read. */
static void feed(struct pm_state *s, int dir, const uint8_t *b, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, b, n);
	pm_consume(s, dir, copy, n);
	free(copy);
}

/* Growing prefixes 1..n of one buffer. */
static void feed_bytes(struct pm_state *s, int dir, const uint8_t *b, size_t n)
{
	for (size_t i = 1; i <= n; i++)
		feed(s, dir, b, i);
}

static const uint8_t req_signon_s[] = { 0x61, 0x73, 0x2D, 0x73, 0x69, 0x67, 0x6E, 0x6F, 0x6E, 0x2D, 0x73 };
static const uint8_t rep_9476[] = { 0x2B, 0x00, 0x00, 0x25, 0x04 };

static void check_signon_s(const struct pm_state *s)
{
	assert_true(s->request);
	assert_string_equal(s->requested, "as-signon-s");
	assert_string_equal(s->service, "as-signon");
	assert_true(s->secure);
	assert_true(s->reply);
	assert_true(s->reply_ok);
	assert_int_equal(s->port, 9476);
	assert_int_equal(s->reply_byte, 0x2B);
	assert_false(s->malformed);
	assert_true(pm_done(s));
}

static void signon_whole(void **st)
{
	(void)st;
	struct pm_state s = { 0 };
	feed(&s, DIR_C2S, req_signon_s, sizeof req_signon_s);
	assert_true(s.request);
	assert_false(pm_done(&s));
	feed(&s, DIR_S2C, rep_9476, sizeof rep_9476);
	check_signon_s(&s);
}

static void signon_byte_by_byte(void **st)
{
	(void)st;
	struct pm_state s = { 0 };
	feed_bytes(&s, DIR_C2S, req_signon_s, sizeof req_signon_s);
	feed_bytes(&s, DIR_S2C, rep_9476, sizeof rep_9476);
	check_signon_s(&s);
}

/* The name is recorded as it grows; a shorter prefix that matches counts. */
static void name_grows(void **st)
{
	(void)st;
	struct pm_state s = { 0 };
	feed(&s, DIR_C2S, req_signon_s, 9);             /* "as-signon" */
	assert_true(s.request);
	assert_string_equal(s.service, "as-signon");
	assert_false(s.secure);
	feed(&s, DIR_C2S, req_signon_s, 10);            /* "as-signon-" */
	assert_string_equal(s.requested, "as-signon-");
	assert_false(s.malformed);
	feed(&s, DIR_C2S, req_signon_s, 11);
	assert_true(s.secure);
	/* the reply makes it final; no reply: a unidirectional capture */
	assert_false(s.request_done);
}

static void check_alias(const char *name, const char *service, bool secure)
{
	struct pm_state s = { 0 };
	feed(&s, DIR_C2S, (const uint8_t *)name, strlen(name));
	feed(&s, DIR_S2C, rep_9476, sizeof rep_9476);
	assert_true(s.request);
	assert_false(s.malformed);
	assert_string_equal(s.requested, name);
	assert_string_equal(s.service, service);
	assert_int_equal(s.secure, secure);
}

static void aliases(void **st)
{
	(void)st;
	check_alias("as-file", "as-netdrive", false);
	check_alias("as-file-s", "as-netdrive", true);
	check_alias("as-ddm", "ddm", false);
	check_alias("as-ddm-s", "ddm", true);
	check_alias("drda", "ddm", false);
	check_alias("as-hostcnn-s", "as-hostcnn", true);
	check_alias("as-database-s", "as-database", true);
	check_alias("as-netprt", "as-netprt", false);
	check_alias("as-central", "as-central", false);
	check_alias("as-s", "as-s", false);
	check_alias("as-x1-s", "as-x1", true);
}

static void failure_reply(void **st)
{
	(void)st;
	struct pm_state s = { 0 };
	const uint8_t fail[] = { 0x2D, 0x00, 0x00, 0x00, 0x00 };
	feed(&s, DIR_C2S, (const uint8_t *)"as-rmtcmd", 9);
	feed_bytes(&s, DIR_S2C, fail, sizeof fail);
	assert_true(s.request);
	assert_true(s.reply);
	assert_false(s.reply_ok);
	assert_int_equal(s.reply_byte, 0x2D);
	assert_int_equal(s.port, 0);
	assert_false(s.malformed);
	assert_true(pm_done(&s));
}

static void bad_port(void **st)
{
	(void)st;
	struct pm_state s = { 0 };
	const uint8_t big[] = { 0x2B, 0x00, 0x01, 0x11, 0x70 };   /* 70000 */
	const uint8_t zero[] = { 0x2B, 0, 0, 0, 0 };
	feed(&s, DIR_C2S, (const uint8_t *)"as-dtaq", 7);
	feed(&s, DIR_S2C, big, sizeof big);
	assert_true(s.reply);
	assert_false(s.reply_ok);
	memset(&s, 0, sizeof s);
	feed(&s, DIR_C2S, (const uint8_t *)"as-dtaq", 7);
	feed(&s, DIR_S2C, zero, sizeof zero);
	assert_false(s.reply_ok);
}

static void reply_too_long(void **st)
{
	(void)st;
	struct pm_state s = { 0 };
	const uint8_t six[] = { 0x2B, 0x00, 0x00, 0x25, 0x04, 0x00 };
	feed(&s, DIR_C2S, req_signon_s, sizeof req_signon_s);
	feed_bytes(&s, DIR_S2C, six, sizeof six);
	assert_true(s.malformed);
	assert_true(pm_done(&s));
}

static void not_a_name(void **st)
{
	(void)st;
	struct pm_state s = { 0 };
	feed(&s, DIR_C2S, (const uint8_t *)"GET / HTTP/1.0\r\n", 16);
	assert_true(s.malformed);
	assert_false(s.request);
	assert_true(pm_done(&s));

	memset(&s, 0, sizeof s);
	const uint8_t nul[] = { 'a', 's', '-', 'x', 0x00 };
	feed_bytes(&s, DIR_C2S, nul, sizeof nul);
	assert_true(s.malformed);
	assert_false(s.request);
}

static void name_too_long(void **st)
{
	(void)st;
	struct pm_state s = { 0 };
	const char *n = "as-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	feed_bytes(&s, DIR_C2S, (const uint8_t *)n, strlen(n));
	assert_true(s.malformed);
	assert_false(s.request);
	assert_true(strlen(s.requested) < sizeof s.requested);
}

/* "as-signon-" followed by the reply: final, and not a service name. */
static void incomplete_name_at_reply(void **st)
{
	(void)st;
	struct pm_state s = { 0 };
	feed(&s, DIR_C2S, req_signon_s, 10);
	feed(&s, DIR_S2C, rep_9476, sizeof rep_9476);
	assert_true(s.malformed);
	assert_false(s.request);

	memset(&s, 0, sizeof s);
	feed(&s, DIR_C2S, (const uint8_t *)"as-", 3);
	feed(&s, DIR_S2C, rep_9476, 1);
	assert_true(s.malformed);
}

/* A reply without any request (a server-only capture) is still read. */
static void reply_without_request(void **st)
{
	(void)st;
	struct pm_state s = { 0 };
	feed(&s, DIR_S2C, rep_9476, sizeof rep_9476);
	assert_false(s.request);
	assert_false(s.malformed);
	assert_true(s.reply_ok);
	assert_int_equal(s.port, 9476);
}

static void client_after_reply_ignored(void **st)
{
	(void)st;
	struct pm_state s = { 0 };
	feed(&s, DIR_C2S, req_signon_s, sizeof req_signon_s);
	feed(&s, DIR_S2C, rep_9476, sizeof rep_9476);
	const uint8_t more[] = "as-signon-sas-rmtcmd";
	feed(&s, DIR_C2S, more, sizeof more - 1);
	check_signon_s(&s);
}

static void probe(void **st)
{
	(void)st;
	assert_int_equal(pm_probe(req_signon_s, sizeof req_signon_s, DIR_C2S), PROBE_YES);
	assert_int_equal(pm_probe(req_signon_s, 2, DIR_C2S), PROBE_MAYBE);
	assert_int_equal(pm_probe(req_signon_s, 3, DIR_C2S), PROBE_MAYBE);
	assert_int_equal(pm_probe((const uint8_t *)"drda", 4, DIR_C2S), PROBE_YES);
	assert_int_equal(pm_probe((const uint8_t *)"dr", 2, DIR_C2S), PROBE_MAYBE);
	assert_int_equal(pm_probe((const uint8_t *)"as--", 4, DIR_C2S), PROBE_NO);
	assert_int_equal(pm_probe((const uint8_t *)"GET /", 5, DIR_C2S), PROBE_NO);
	assert_int_equal(pm_probe((const uint8_t *)"AS-SIGNON", 9, DIR_C2S), PROBE_NO);
	assert_int_equal(pm_probe((const uint8_t *)"\x16\x03\x01", 3, DIR_C2S), PROBE_NO);
	assert_int_equal(pm_probe(rep_9476, 5, DIR_S2C), PROBE_YES);
	assert_int_equal(pm_probe(rep_9476, 2, DIR_S2C), PROBE_MAYBE);
	assert_int_equal(pm_probe((const uint8_t *)"-", 1, DIR_S2C), PROBE_NO);
	assert_int_equal(pm_probe((const uint8_t *)"+\0\0\0\0\0", 6, DIR_S2C), PROBE_NO);
	assert_int_equal(pm_probe(NULL, 0, DIR_C2S), PROBE_MAYBE);
}

static void null_and_empty(void **st)
{
	(void)st;
	struct pm_state s = { 0 };
	pm_consume(&s, DIR_C2S, NULL, 0);
	pm_consume(&s, 7, req_signon_s, sizeof req_signon_s);
	pm_consume(NULL, DIR_C2S, req_signon_s, sizeof req_signon_s);
	assert_false(s.request);
	assert_false(s.malformed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signon_whole),
		cmocka_unit_test(signon_byte_by_byte),
		cmocka_unit_test(name_grows),
		cmocka_unit_test(aliases),
		cmocka_unit_test(failure_reply),
		cmocka_unit_test(bad_port),
		cmocka_unit_test(reply_too_long),
		cmocka_unit_test(not_a_name),
		cmocka_unit_test(name_too_long),
		cmocka_unit_test(incomplete_name_at_reply),
		cmocka_unit_test(reply_without_request),
		cmocka_unit_test(client_after_reply_ignored),
		cmocka_unit_test(probe),
		cmocka_unit_test(null_and_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
