/*
 * store_pg_events.c - a monitor's findings on the shared store (see
 * store_pg.h), computed by the writer thread, never by the capture thread.
 *
 * In: pg_events_add() from the capture thread: the inventory of one
 * checkpoint's flows (open ones included), bound to that checkpoint's batch
 * by its ordinal in the queue.  The writer thread, just before it applies
 * that batch (pg_events_before), takes the store's advisory lock for its
 * session, reads what every sensor stored for the same clients (the merged
 * "before": is this client new for the IBM i, not for this sensor) and runs
 * events_detect(); it applies the batch, then releases the lock
 * (pg_events_after), so no other sensor's checkpoint lands between the read
 * and the write: a client two sensors see in the same seconds is new once.
 * Out: the findings of the batches committed, in a list under a mutex that
 * the capture thread drains (pg_events_take) without waiting on anything
 * but that mutex.  Bounded: at most PG_EVENTS_PENDING checkpoints wait for
 * the database; the oldest beyond that, and those whose "before" could not
 * be read, are counted (pg_events_skipped) and give no finding.
 */
#include "store_pg.h"

#include "pq_lazy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"

struct pg_job {
	struct pg_job *next;
	uint64_t ord;              /* the batch's ordinal in the queue */
	struct inventory now;
	int64_t now_us, back_after_us;
};

struct pg_events {
	pthread_mutex_t mu;
	struct pg_job *head, *tail;
	size_t n_jobs;
	struct event_finding *out;
	size_t n_out, cap_out;
	uint64_t skipped;
};

struct pg_events *pg_events_new(void)
{
	struct pg_events *e = calloc(1, sizeof *e);
	if (e)
		pthread_mutex_init(&e->mu, NULL);
	return e;
}

static void job_free(struct pg_job *j)
{
	if (!j)
		return;
	inventory_free(&j->now);
	free(j);
}

void pg_events_free(struct pg_events *e)
{
	if (!e)
		return;
	for (struct pg_job *j = e->head, *n; j; j = n) {
		n = j->next;
		job_free(j);
	}
	free(e->out);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

void pg_events_add(struct pg_events *e, uint64_t ord, struct inventory *now, int64_t now_us, int64_t back_after_us)
{
	struct pg_job *j = calloc(1, sizeof *j), *old = NULL;
	pthread_mutex_lock(&e->mu);
	if (!j) {
		e->skipped++;
		inventory_free(now);
	} else {
		j->ord = ord;
		j->now = *now;
		j->now_us = now_us;
		j->back_after_us = back_after_us;
		if (e->tail)
			e->tail->next = j;
		else
			e->head = j;
		e->tail = j;
		if (++e->n_jobs > PG_EVENTS_PENDING) {   /* the database is away long: the oldest gives way */
			old = e->head;
			e->head = old->next;
			e->n_jobs--;
			e->skipped++;
		}
	}
	memset(now, 0, sizeof *now);
	pthread_mutex_unlock(&e->mu);
	job_free(old);
}

void pg_events_skip(struct pg_events *e)
{
	pthread_mutex_lock(&e->mu);
	e->skipped++;
	pthread_mutex_unlock(&e->mu);
}

void pg_events_cancel(struct pg_events *e, uint64_t ord)
{
	struct pg_job *gone = NULL;
	pthread_mutex_lock(&e->mu);
	for (struct pg_job **j = &e->head, *prev = NULL; *j; prev = *j, j = &(*j)->next)
		if ((*j)->ord == ord) {
			gone = *j;
			*j = gone->next;
			if (e->tail == gone)
				e->tail = prev;
			e->n_jobs--;
			e->skipped++;
			break;
		}
	pthread_mutex_unlock(&e->mu);
	job_free(gone);
}

/* The job of batch `ord`, if any; jobs of batches already gone are counted and freed. */
static struct pg_job *take_job(struct pg_events *e, uint64_t ord)
{
	struct pg_job *j = NULL, *stale = NULL;
	pthread_mutex_lock(&e->mu);
	while (e->head && e->head->ord <= ord) {
		struct pg_job *h = e->head;
		e->head = h->next;
		if (!e->head)
			e->tail = NULL;
		e->n_jobs--;
		h->next = NULL;
		if (h->ord == ord) {
			j = h;
			break;
		}
		e->skipped++;
		h->next = stale;
		stale = h;
	}
	pthread_mutex_unlock(&e->mu);
	while (stale) {
		struct pg_job *n = stale->next;
		job_free(stale);
		stale = n;
	}
	return j;
}

/* Put a job back at the head (its batch was not applied: the database went away). */
static void put_back(struct pg_events *e, struct pg_job *j)
{
	pthread_mutex_lock(&e->mu);
	j->next = e->head;
	e->head = j;
	if (!e->tail)
		e->tail = j;
	e->n_jobs++;
	pthread_mutex_unlock(&e->mu);
}

static bool exec_one(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok;
}

void pg_events_before(struct pg_events *e, struct pg_conn *c, uint64_t ord, struct pg_events_pending *p)
{
	memset(p, 0, sizeof *p);
	if (!e || !(p->job = take_job(e, ord)))
		return;
	PGconn *pc = pg_conn_raw(c);
	/* the lock tlsready_merge() takes for each transaction, held here for the session: the read of
	 * "before" and this sensor's merge are one step for every other sensor */
	if (!(p->locked = exec_one(pc, "SELECT pg_advisory_lock(" PG_ADVISORY_KEY ")")))
		return;
	struct pg_job *j = p->job;
	/* as the SQLite monitor asks (monitor.c): every address of the checkpoint's clients, and their hosts */
	struct store_query q;
	if (!store_query_of_clients(&q, &j->now))
		return;
	struct inventory before;
	char err[512];
	if (pg_load_inventory(c, NULL, &q, &before, err, sizeof err)) {   /* every sensor: new for the IBM i */
		p->n = events_detect(&before, &j->now, j->now_us, j->back_after_us, &p->found);
		p->read = true;
		inventory_free(&before);
	}
	store_query_free(&q);
}

bool pg_events_after(struct pg_events *e, struct pg_conn *c, struct pg_events_pending *p, enum pg_applied r)
{
	if (!p->job)
		return true;
	PGconn *pc = pg_conn_raw(c);
	/* a lock that cannot be released (the connection is in a bad state) would hold every sensor's
	 * merge: the caller drops the connection, which releases it */
	bool released = !p->locked || (PQstatus(pc) == CONNECTION_OK &&
				       exec_one(pc, "SELECT pg_advisory_unlock(" PG_ADVISORY_KEY ")"));
	if (r == PGA_DOWN) {
		/* applied later, after a reconnect: "before" is read again then */
		free(p->found);
		put_back(e, p->job);
		memset(p, 0, sizeof *p);
		return released;
	}
	pthread_mutex_lock(&e->mu);
	if (r != PGA_APPLIED || !p->read) {
		e->skipped++;   /* refused, applied by an earlier run, or "before" not read: no finding */
	} else if (p->n) {
		bool room = true;
		while (room && e->cap_out < e->n_out + p->n) {
			size_t cap = e->cap_out ? e->cap_out * 2 : 64;
			struct event_finding *nv = realloc(e->out, cap * sizeof *nv);
			if (nv) {
				e->out = nv;
				e->cap_out = cap;
			} else {
				room = false;
			}
		}
		if (room) {
			memcpy(e->out + e->n_out, p->found, p->n * sizeof *p->found);
			e->n_out += p->n;
		} else {
			e->skipped++;
		}
	}
	pthread_mutex_unlock(&e->mu);
	free(p->found);
	job_free(p->job);
	memset(p, 0, sizeof *p);
	return released;
}

size_t pg_events_take(struct pg_events *e, struct event_finding **out)
{
	pthread_mutex_lock(&e->mu);
	*out = e->out;
	size_t n = e->n_out;
	e->out = NULL;
	e->n_out = e->cap_out = 0;
	pthread_mutex_unlock(&e->mu);
	return n;
}

uint64_t pg_events_skipped(struct pg_events *e)
{
	pthread_mutex_lock(&e->mu);
	uint64_t n = e->skipped;
	pthread_mutex_unlock(&e->mu);
	return n;
}
