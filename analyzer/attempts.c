/*
 * attempts.c - the --max-attempts cap (attempts.h): a max-heap of the kept
 * attempt-only records and a sorted, capped table of folded groups.
 */
#include "attempts.h"

#include <stdlib.h>
#include <string.h>

bool record_attempt_only(const struct flow_record *r)
{
	return r->payload[0] == 0 && r->payload[1] == 0 && !r->midstream;
}

bool attempts_init(struct attempts *t, uint64_t max_kept, size_t group_bytes)
{
	memset(t, 0, sizeof *t);
	t->limit = t->max_kept = max_kept;
	t->max_groups = group_bytes / (sizeof(struct attempt_group) + sizeof(struct attempt_group *));
	if (t->max_groups == 0)
		t->max_groups = 1;
	t->groups = malloc(t->max_groups * sizeof *t->groups);
	return t->groups != NULL;
}

void attempts_free(struct attempts *t)
{
	for (size_t i = 0; i < t->n_kept; i++)
		record_free(t->kept[i]);
	for (size_t i = 0; i < t->n_groups; i++)
		free(t->groups[i]);
	free(t->kept);
	free(t->groups);
	memset(t, 0, sizeof *t);
}

/* ---- groups ---- */

static int key_cmp(const struct addr *srv, uint16_t port, uint8_t tcp, const struct attempt_group *g)
{
	int c = addr_cmp(srv, &g->srv);
	if (c)
		return c;
	if (port != g->port)
		return port < g->port ? -1 : 1;
	return tcp < g->tcp ? -1 : tcp > g->tcp;
}

static void absorb(struct attempt_group *into, const struct attempt_group *from)
{
	if (!from->connections)
		return;
	if (!into->connections || from->first_us < into->first_us)
		into->first_us = from->first_us;
	if (!into->connections || from->last_us > into->last_us)
		into->last_us = from->last_us;
	into->connections += from->connections;
	hll_merge(&into->sources, &from->sources);
}

/* The group of a key, made if the table has room or holds a larger key (the largest then goes
 * whole into `other`); NULL when the key is larger than all of a full table's. Which keys end in
 * the table does not depend on the order they came in: the smallest max_groups of them. */
static struct attempt_group *group_for(struct attempts *t, const struct addr *srv, uint16_t port, uint8_t tcp)
{
	size_t lo = 0, hi = t->n_groups;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(srv, port, tcp, t->groups[mid]);
		if (c == 0)
			return t->groups[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	struct attempt_group *g;
	if (t->n_groups == t->max_groups) {
		if (lo == t->n_groups)
			return NULL;
		g = t->groups[--t->n_groups];
		absorb(&t->other, g);
	} else if (!(g = malloc(sizeof *g))) {
		return NULL;
	}
	memset(g, 0, sizeof *g);
	g->srv = *srv;
	g->port = port;
	g->tcp = tcp;
	memmove(&t->groups[lo + 1], &t->groups[lo], (t->n_groups - lo) * sizeof *t->groups);
	t->groups[lo] = g;
	t->n_groups++;
	return g;
}

static void fold(struct attempts *t, struct flow_record *r)
{
	struct attempt_group one = { .connections = 1, .first_us = r->start_us, .last_us = r->end_us };
	hll_add(&one.sources, hll_hash_addr(&r->cli));
	struct attempt_group *g = group_for(t, &r->srv, r->sport, (uint8_t)r->tcp);
	absorb(g ? g : &t->other, &one);
	t->folded++;
	record_free(r);
}

/* ---- the heap of kept records: later in report order on top ---- */

static bool later(const struct flow_record *x, const struct flow_record *y)
{
	if (x->start_us != y->start_us)
		return x->start_us > y->start_us;
	return x->seq_no > y->seq_no;
}

static void sift_up(struct flow_record **h, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!later(h[i], h[p]))
			break;
		struct flow_record *x = h[i];
		h[i] = h[p];
		h[p] = x;
		i = p;
	}
}

static void sift_down(struct flow_record **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && later(h[l], h[m]))
			m = l;
		if (r < n && later(h[r], h[m]))
			m = r;
		if (m == i)
			return;
		struct flow_record *x = h[i];
		h[i] = h[m];
		h[m] = x;
		i = m;
	}
}

static void keep_or_fold(struct attempts *t, struct flow_record *r)
{
	if (t->n_kept < t->max_kept) {
		if (t->n_kept == t->cap_kept) {
			size_t cap = t->cap_kept ? t->cap_kept * 2 : 1024;
			if (cap > t->max_kept)
				cap = (size_t)t->max_kept;
			struct flow_record **n = realloc(t->kept, cap * sizeof *n);
			if (!n) {
				fold(t, r);
				return;
			}
			t->kept = n;
			t->cap_kept = cap;
		}
		t->kept[t->n_kept] = r;
		sift_up(t->kept, t->n_kept++);
		return;
	}
	if (t->n_kept == 0 || later(r, t->kept[0])) {
		fold(t, r);
		return;
	}
	struct flow_record *top = t->kept[0];
	t->kept[0] = r;
	sift_down(t->kept, t->n_kept, 0);
	fold(t, top);
}

bool attempts_take(struct attempts *t, struct flow_record *r)
{
	if (!record_attempt_only(r))
		return false;
	keep_or_fold(t, r);
	return true;
}

void attempts_merge(struct attempts *into, struct attempts *from)
{
	for (size_t i = 0; i < from->n_kept; i++)
		keep_or_fold(into, from->kept[i]);
	from->n_kept = 0;
	for (size_t i = 0; i < from->n_groups; i++) {
		struct attempt_group *f = from->groups[i];
		struct attempt_group *g = group_for(into, &f->srv, f->port, f->tcp);
		absorb(g ? g : &into->other, f);
		free(f);
	}
	from->n_groups = 0;
	absorb(&into->other, &from->other);
	memset(&from->other, 0, sizeof from->other);
	into->folded += from->folded;
	from->folded = 0;
}

struct flow_record **attempts_kept(struct attempts *t, size_t *n)
{
	*n = t->n_kept;
	t->n_kept = 0;
	return t->kept;
}

void attempts_clear_groups(struct attempts *t)
{
	for (size_t i = 0; i < t->n_groups; i++)
		free(t->groups[i]);
	t->n_groups = 0;
	memset(&t->other, 0, sizeof t->other);
	t->folded = 0;
}

void attempts_absorb(struct attempts *t, const struct attempt_group *g, bool other)
{
	struct attempt_group *into = other ? NULL : group_for(t, &g->srv, g->port, g->tcp);
	absorb(into ? into : &t->other, g);
	t->folded += g->connections;
}
