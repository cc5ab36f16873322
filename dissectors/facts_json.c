/*
 * facts_json.c - the one JSON string writer, shared by the dissectors'
 * facts printers (protocol.h) and the report writers: every byte that came
 * off the wire is escaped here (quotes, backslash, control and non-ASCII
 * bytes as \u00XX), so no report can be broken by a name on the wire.
 * Numbers too: an unsigned integer in decimal.
 *
 * In: a NUL-terminated string (or NULL), or a number.  Out: its JSON text
 * on the stream, built in a small buffer and handed to stdio in one call
 * (the writers print hundreds of thousands of values; a call per byte, or
 * printf's format parsing per number, was most of their cost).
 */
#include "protocol.h"

#include <string.h>

void facts_json_str(FILE *f, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (!s) {
		fwrite("null", 1, 4, f);
		return;
	}
	char buf[256];
	size_t n = 0;
	buf[n++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (n > sizeof buf - 8) {   /* room for the longest escape and the closing quote */
			fwrite(buf, 1, n, f);
			n = 0;
		}
		unsigned char ch = *p;
		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
			buf[n++] = (char)ch;
			continue;
		}
		buf[n++] = '\\';
		switch (ch) {
		case '"': buf[n++] = '"'; break;
		case '\\': buf[n++] = '\\'; break;
		case '\n': buf[n++] = 'n'; break;
		case '\r': buf[n++] = 'r'; break;
		case '\t': buf[n++] = 't'; break;
		default:
			memcpy(buf + n, "u00", 3);
			buf[n + 3] = hex[ch >> 4];
			buf[n + 4] = hex[ch & 15];
			n += 5;
		}
	}
	buf[n++] = '"';
	fwrite(buf, 1, n, f);
}

void facts_json_uint(FILE *f, uint64_t v)
{
	char buf[20];   /* 18446744073709551615 */
	size_t i = sizeof buf;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	fwrite(buf + i, 1, sizeof buf - i, f);
}
