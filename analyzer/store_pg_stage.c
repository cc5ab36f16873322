/*
 * store_pg_stage.c - a batch's staging rows gathered into array parameters
 * (see store_pg.h), so that thousands of rows reach the database in a few
 * statements instead of one round of the protocol each.
 *
 * In: pg_batch_stage() with one staging row (PGS_S_*: its parameters as
 * text).  Each table's rows are kept column by column as PostgreSQL array
 * literals ({"a","b",NULL}: every element double-quoted, '"' and '\'
 * backslash-escaped, so wire bytes cannot end an element); text that is not
 * valid UTF-8 has its non-ASCII bytes replaced by '?' (the database refuses
 * it otherwise, and would refuse the whole checkpoint).  Out: one batch row
 * per table and PG_STAGE_ROWS rows (PGS_A_*), its parameters the arrays,
 * bound like any parameter (never part of a statement's text).
 */
#include "store_pg.h"

#include <stdlib.h>
#include <string.h>

#define TABLES (PGS_S_CERT - PGS_S_FLOW + 1)

struct col {
	char *s;
	size_t len, cap;
};

struct table {
	int n;
	size_t rows;
	struct col c[24];
};

struct pg_stage {
	struct table t[TABLES];
};

static bool grow(struct col *c, size_t more)
{
	if (c->len + more + 1 <= c->cap)
		return true;
	size_t cap = c->cap ? c->cap : 1024;
	while (cap < c->len + more + 1)
		cap *= 2;
	char *n = realloc(c->s, cap);
	if (!n)
		return false;
	c->s = n;
	c->cap = cap;
	return true;
}

static bool utf8_ok(const unsigned char *p)
{
	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 1 : (*p & 0xf0) == 0xe0 ? 2
		      : (*p & 0xf8) == 0xf0 && *p <= 0xf4 ? 3 : -1;
		if (n < 0)
			return false;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static bool element(struct col *c, const char *v)
{
	size_t l = v ? strlen(v) : 0;
	if (!grow(c, 2 * l + 8))
		return false;
	char sep = c->len ? ',' : '{';
	c->s[c->len++] = sep;
	if (!v) {
		memcpy(c->s + c->len, "NULL", 4);
		c->len += 4;
		return true;
	}
	bool ascii_only = !utf8_ok((const unsigned char *)v);
	c->s[c->len++] = '"';
	for (const char *p = v; *p; p++) {
		char ch = ascii_only && (unsigned char)*p >= 0x80 ? '?' : *p;
		if (ch == '"' || ch == '\\')
			c->s[c->len++] = '\\';
		c->s[c->len++] = ch;
	}
	c->s[c->len++] = '"';
	return true;
}

static void flush_table(struct pg_batch *b, int i)
{
	struct table *t = &b->stage->t[i];
	if (!t->rows)
		return;
	const char *vals[24];
	for (int k = 0; k < t->n; k++) {
		struct col *c = &t->c[k];
		if (!grow(c, 2)) {
			b->failed = true;
			return;
		}
		c->s[c->len++] = '}';
		c->s[c->len] = '\0';
		vals[k] = c->s;
	}
	pg_batch_row(b, (enum pg_stmt)(PGS_A_FLOW + i), t->n, vals);
	for (int k = 0; k < t->n; k++)
		t->c[k].len = 0;
	t->rows = 0;
}

void pg_batch_stage(struct pg_batch *b, enum pg_stmt st, int n, const char *const *vals)
{
	if (b->failed)
		return;
	if (!b->stage && !(b->stage = calloc(1, sizeof *b->stage))) {
		b->failed = true;
		return;
	}
	int i = (int)(st - PGS_S_FLOW);
	struct table *t = &b->stage->t[i];
	t->n = n;
	for (int k = 0; k < n; k++)
		if (!element(&t->c[k], vals[k])) {
			b->failed = true;
			return;
		}
	if (++t->rows >= PG_STAGE_ROWS)
		flush_table(b, i);
}

void pg_batch_flush(struct pg_batch *b)
{
	for (int i = 0; b->stage && i < TABLES; i++)
		flush_table(b, i);
}

void pg_stage_free(struct pg_stage *s)
{
	for (int i = 0; s && i < TABLES; i++)
		for (int k = 0; k < 24; k++)
			free(s->t[i].c[k].s);
	free(s);
}
