/*
 * store_pg_apply.c - one batch of a sensor (see store_pg.h) applied to the
 * shared store in one transaction, pipelined.
 *
 * In: the batch's rows, each a prepared statement's name and its text
 * parameters.  They are sent in libpq's pipeline mode, at most PG_WINDOW
 * commands ahead of the results read back (so neither side's socket buffer
 * fills), then one Sync: everything before it is one implicit transaction,
 * committed at the Sync or rolled back whole at the first error.  The first
 * row inserts the batch's key (sensor, run, seq); a key the database already
 * holds violates checkpoint_pkey, which says the batch was committed before
 * (its acknowledgement lost): PGA_ALREADY, nothing applied twice.  Out: the
 * outcome, and for a failure one line of PostgreSQL's message (no DETAIL,
 * which could quote values).  A batch can go in parts (pg_stream_send): an
 * import's as its rows are built, a queued one as the writer reads it back,
 * a window at a time; all inside the same one transaction, the Sync after
 * the last part.
 */
#include "store_pg.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_WINDOW 1024

/* A failure worth retrying (the server went, restarts, is overloaded) rather than a refused batch. */
static bool transient(PGconn *pc, const PGresult *r)
{
	if (PQstatus(pc) != CONNECTION_OK)
		return true;
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (!state)
		return true;
	return strncmp(state, "08", 2) == 0 || strncmp(state, "40", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	       strncmp(state, "57", 2) == 0 || strncmp(state, "55", 2) == 0;
}

struct apply {
	PGconn *pc;
	struct pg_conn *c;
	enum pg_applied res;
	bool failed;               /* the first error is kept; the rest of the pipeline is aborted */
	char *err;
	size_t errlen;
};

static void fail(struct apply *a, enum pg_applied res, const PGresult *r, const char *what)
{
	if (a->failed)
		return;
	a->failed = true;
	a->res = res;
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (m)
		snprintf(a->err, a->errlen, "PostgreSQL: %s: %s", what, m);
	else
		pg_conn_err(a->c, what, a->err, a->errlen);
	a->err[strcspn(a->err, "\n")] = '\0';
}

/* The results of the command sent as number `index`. */
static void take(struct apply *a, size_t index)
{
	PGresult *r = PQgetResult(a->pc);
	if (!r) {
		fail(a, PGA_DOWN, NULL, "connection lost");
		return;
	}
	ExecStatusType s = PQresultStatus(r);
	if (s == PGRES_FATAL_ERROR) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		const char *cons = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
		if (index == 0 && state && strcmp(state, "23505") == 0 && cons && strcmp(cons, "checkpoint_pkey") == 0)
			fail(a, PGA_ALREADY, r, "applied before");
		else
			fail(a, transient(a->pc, r) ? PGA_DOWN : PGA_REFUSED, r, "batch refused");
	} else if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_PIPELINE_ABORTED) {
		fail(a, PGA_DOWN, r, "unexpected answer");
	}
	PQclear(r);
	while ((r = PQgetResult(a->pc)) != NULL)   /* the command's end */
		PQclear(r);
}

struct pg_stream {
	struct apply a;
	size_t sent, taken;
	bool bad;                  /* a malformed batch: never synced */
};

struct pg_stream *pg_stream_begin(struct pg_conn *c, char *err, size_t errlen)
{
	struct pg_stream *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->a = (struct apply){ .pc = pg_conn_raw(c), .c = c, .res = PGA_APPLIED, .err = err, .errlen = errlen };
	if (!PQenterPipelineMode(s->a.pc)) {
		pg_conn_err(c, "cannot pipeline", err, errlen);
		free(s);
		return NULL;
	}
	return s;
}

size_t pg_stream_send(struct pg_stream *s, const unsigned char *buf, size_t len, bool more)
{
	struct apply *a = &s->a;
	size_t pos = 0;
	struct pg_row row;
	while (!a->failed && !s->bad && pg_batch_next_part(buf, len, &pos, &row, &s->bad, more)) {
		if (s->sent == 0 && row.st != PGS_KEY) {
			s->bad = true;
			break;
		}
		char name[8];
		snprintf(name, sizeof name, "s%d", (int)row.st);
		if (!PQsendQueryPrepared(a->pc, name, row.n, row.vals, NULL, NULL, 0)) {
			fail(a, PGA_DOWN, NULL, "connection lost");
			break;
		}
		s->sent++;
		if (s->sent - s->taken >= PG_WINDOW) {   /* read the oldest answer before sending more */
			if (!PQsendFlushRequest(a->pc) || PQflush(a->pc) != 0) {
				fail(a, PGA_DOWN, NULL, "connection lost");
				break;
			}
			while (!a->failed && s->sent - s->taken > PG_WINDOW / 4)
				take(a, s->taken++);
		}
	}
	/* failed or malformed: nothing more is sent, the end says why; the part is used up */
	return a->failed || s->bad ? len : pos;
}

enum pg_applied pg_stream_end(struct pg_stream *s, bool commit)
{
	struct apply *a = &s->a;
	if (s->bad && !a->failed) {
		snprintf(a->err, a->errlen, "a malformed batch");
		a->failed = true;
		a->res = PGA_REFUSED;
	}
	/* the Sync commits what ran (or ends the aborted transaction); a malformed batch, or one its
	 * builder gave up on, is never synced: without a Sync nothing of it is committed */
	if (a->res != PGA_DOWN || PQstatus(a->pc) == CONNECTION_OK) {
		if (s->bad || !commit) {
			PQexitPipelineMode(a->pc);   /* fails while results are pending: the reconnect clears them */
			enum pg_applied r = s->bad ? PGA_REFUSED : PGA_DOWN;
			free(s);
			return r;
		}
		if (!PQpipelineSync(a->pc))
			fail(a, PGA_DOWN, NULL, "connection lost");
		while (s->taken < s->sent && PQstatus(a->pc) == CONNECTION_OK)
			take(a, s->taken++);
		PGresult *r = PQgetResult(a->pc);
		if (!r || PQresultStatus(r) != PGRES_PIPELINE_SYNC)
			fail(a, PGA_DOWN, r, "commit not acknowledged");   /* the replay's key tells */
		PQclear(r);
	}
	if (!PQexitPipelineMode(a->pc) && !a->failed)
		fail(a, PGA_DOWN, NULL, "pipeline not ended");
	enum pg_applied res = a->res;
	free(s);
	return res;
}

enum pg_applied pg_apply(struct pg_conn *c, const unsigned char *buf, size_t len, char *err, size_t errlen)
{
	struct pg_stream *s = pg_stream_begin(c, err, errlen);
	if (!s)
		return PGA_DOWN;
	pg_stream_send(s, buf, len, false);
	return pg_stream_end(s, true);
}
