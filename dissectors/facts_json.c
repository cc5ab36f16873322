/*
 * facts_json.c - the one JSON string writer, shared by the dissectors'
 * facts printers (protocol.h) and the report writers: every byte that came
 * off the wire is escaped here (quotes, backslash, control and non-ASCII
 * bytes as \u00XX), so no report can be broken by a name on the wire.
 */
#include "protocol.h"

void facts_json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20 || *p >= 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}
