/*
 * test_software.c - software.c: a client's software token read back as a name and its evidence.
 *
 * Truth: the documented tables (docs/software.md: DRDA PRDID "pppvvrrm" prefixes, RFC 4777/2877
 * 5250 terminal types, RFC 1647 3270 ones), the lab's Derby client bytes (PRDID "DNC10140", tshark
 * drda.param.data of code point 0x112E in pcaps/doors2.pcapng) and the built-in fingerprint table's
 * stack names; hand-written expectations, not the code's output.
 */
#include "testutil.h"

#include <string.h>

#include "software.h"

struct want { const char *token, *name, *evidence; };

static void describe(void **st)
{
	(void)st;
	static const struct want cases[] = {
		{ "DRDA PRDID JCC04290", "IBM Data Server Driver for JDBC and SQLJ (JCC) V4R29M0",
		  "DRDA product identifier PRDID JCC04290" },
		{ "DRDA PRDID DNC10140", "Apache Derby network client V10R14M0", "DRDA product identifier PRDID DNC10140" },
		{ "DRDA PRDID QSQ07050", "Db2 for i V7R5M0", "DRDA product identifier PRDID QSQ07050" },
		{ "DRDA PRDID DSN12015", "Db2 for z/OS V12R1M5", "DRDA product identifier PRDID DSN12015" },
		{ "DRDA PRDID SQLx", "Db2 for Linux, UNIX and Windows (or an IBM data server client)",
		  "DRDA product identifier PRDID SQLx" },             /* not pppvvrrm: no version claimed */
		{ "DRDA PRDID ZZZ01010", "DRDA product ZZZ01010", "DRDA product identifier PRDID ZZZ01010" },
		{ "DRDA EXTNAM JT400", "JT400", "DRDA external name EXTNAM JT400" },
		{ "telnet terminal type IBM-3179-2", "5250 display emulator", "telnet terminal type IBM-3179-2" },
		{ "telnet terminal type IBM-3477-FC", "5250 display emulator", "telnet terminal type IBM-3477-FC" },
		{ "telnet terminal type IBM-3812-1", "5250 printer emulator", "telnet terminal type IBM-3812-1" },
		{ "telnet terminal type IBM-3278-2-E", "3270 emulator", "telnet terminal type IBM-3278-2-E" },
		{ "telnet terminal type xterm-256color", "telnet client", "telnet terminal type xterm-256color" },
		{ "telnet terminal type IBM-", "telnet client", "telnet terminal type IBM-" },
		{ "host-server level 10, version 1, CCSID 1200", "IBM i host-server client (datastream level 10)",
		  "host-server exchange attributes and sign-on: datastream level 10, version 1, CCSID 1200" },
		{ "host-server datastream level 5", "IBM i host-server client (datastream level 5)",
		  "host-server exchange attributes and sign-on: datastream level 5" },   /* a store's older token */
		{ "OpenSSL 3", "OpenSSL 3", "TLS ClientHello fingerprint, JA4/JA3 table" },
		{ "GnuTLS", "GnuTLS", "TLS ClientHello fingerprint, JA4/JA3 table" },
		{ "<b>made up</b>", "<b>made up</b>", "as recorded" },   /* raw: the writers escape */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char name[128], ev[128];
		software_describe(cases[i].token, name, sizeof name, ev, sizeof ev);
		assert_string_equal(name, cases[i].name);
		assert_string_equal(ev, cases[i].evidence);
	}
}

static void line_and_truncation(void **st)
{
	(void)st;
	char buf[64], small[12], ev[8];
	assert_string_equal(software_line("telnet terminal type IBM-3179-2", buf, sizeof buf),
			    "5250 display emulator (telnet terminal type IBM-3179-2)");
	assert_string_equal(software_line("DRDA PRDID JCC04290", small, sizeof small), "IBM Data Se");
	software_describe("DRDA EXTNAM JT400", small, sizeof small, ev, sizeof ev);
	assert_string_equal(ev, "DRDA ex");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(describe),
		cmocka_unit_test(line_and_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
