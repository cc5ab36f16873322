/*
 * compare.c - two inventories compared (see compare.h for the rules).
 *
 * In: the two inventories, read only.  Out: struct comparison, whose items
 * point into them.  Both client arrays are put in address order (pointers,
 * sorted here: an inventory loaded from the store is not trusted to be) and
 * walked together once; within a client pair the nonsecure rows of each side
 * are sorted by key and looked up by binary search, so a client with
 * thousands of rows costs n log n, not n squared.  The items are made in
 * that order (client, then key), so the lists come out sorted without a sort
 * of their own.  The services are one sort of every nonsecure use of both
 * periods by (server, port, service, client).
 */
#include "compare.h"

#include <stdlib.h>
#include <string.h>

const char *cmp_kind_name(enum cmp_kind k)
{
	static const char *const n[] = {
		[CMP_NEW_NONSECURE] = "new-nonsecure", [CMP_MOVED_TO_TLS] = "moved-to-tls",
		[CMP_STILL_NONSECURE] = "still-nonsecure", [CMP_STOPPED] = "stopped",
		[CMP_DISAPPEARED] = "disappeared", [CMP_BECAME_CLEAN] = "became-clean",
		[CMP_BECAME_DIRTY] = "became-dirty",
	};
	return (unsigned)k < CMP_KINDS ? n[k] : "unknown";
}

const char *cmp_status_name(const struct inv_client *c)
{
	return c ? client_status_name(c->status) : "absent";
}

bool compare_nonsecure_use(const struct inv_client *c, const struct inv_usage *u)
{
	/* connections > refused + unanswered, without an overflow on counts loaded from a file */
	return u->cls == PC_NONSECURE && c->status == CS_NONSECURE && u->connections > u->refused &&
	       u->connections - u->refused > u->unanswered;
}

bool compare_services_pair(const char *nonsecure, const char *secure)
{
	static const char *const suffix[] = { "", "-s", "-ssl", "-tls", "s" };
	if (!nonsecure || !secure || !*nonsecure)
		return false;
	size_t n = strlen(nonsecure);
	if (strncmp(nonsecure, secure, n) != 0)
		return false;
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++)
		if (strcmp(secure + n, suffix[i]) == 0)
			return true;
	return false;
}

/* A missing service name and an empty one (as the store keeps it) are the same. */
static int svc_cmp(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int key_cmp(const struct addr *s1, uint16_t p1, const char *n1, const struct addr *s2, uint16_t p2,
		   const char *n2)
{
	int c = addr_cmp(s1, s2);
	if (c)
		return c;
	if (p1 != p2)
		return p1 < p2 ? -1 : 1;
	return svc_cmp(n1, n2);
}

static int row_cmp(const void *a, const void *b)
{
	const struct inv_usage *x = *(const struct inv_usage *const *)a, *y = *(const struct inv_usage *const *)b;
	return key_cmp(&x->server, x->port, x->service, &y->server, y->port, y->service);
}

static int client_cmp(const void *a, const void *b)
{
	const struct inv_client *x = *(const struct inv_client *const *)a, *y = *(const struct inv_client *const *)b;
	return addr_cmp(&x->ip, &y->ip);
}

/* A growing array of items and the scratch arrays of one client pair. */
struct builder {
	struct comparison *cmp;
	size_t cap[CMP_KINDS];
	const struct inv_usage **rows_b, **rows_a, **tls_a;
	size_t cap_rows;
	bool failed;
};

static struct cmp_item *push(struct builder *b, enum cmp_kind k)
{
	struct cmp_list *l = &b->cmp->list[k];
	if (l->n == b->cap[k]) {
		size_t nc = b->cap[k] ? b->cap[k] * 2 : 16;
		struct cmp_item *v = realloc(l->v, nc * sizeof *v);
		if (!v) {
			b->failed = true;
			return NULL;
		}
		l->v = v;
		b->cap[k] = nc;
	}
	struct cmp_item *it = &l->v[l->n++];
	memset(it, 0, sizeof *it);
	it->kind = k;
	return it;
}

static bool scratch(struct builder *b, size_t n)
{
	if (n <= b->cap_rows)
		return true;
	const struct inv_usage **v[3];
	for (int i = 0; i < 3; i++)
		v[i] = malloc(n * sizeof *v[i]);
	if (!v[0] || !v[1] || !v[2]) {
		for (int i = 0; i < 3; i++)
			free(v[i]);
		return false;
	}
	free(b->rows_b);
	free(b->rows_a);
	free(b->tls_a);
	b->rows_b = v[0], b->rows_a = v[1], b->tls_a = v[2];
	b->cap_rows = n;
	return true;
}

/* The client's nonsecure uses, sorted by key; returns how many. */
static size_t nonsecure_rows(const struct inv_client *c, const struct inv_usage **out)
{
	size_t n = 0;
	for (size_t i = 0; c && i < c->n_use; i++)
		if (compare_nonsecure_use(c, &c->use[i]))
			out[n++] = &c->use[i];
	if (n > 1)
		qsort(out, n, sizeof *out, row_cmp);
	return n;
}

/* The client's secure rows where TLS completed, sorted by server then port. */
static size_t tls_rows(const struct inv_client *c, const struct inv_usage **out)
{
	size_t n = 0;
	for (size_t i = 0; c && i < c->n_use; i++)
		if (c->use[i].cls == PC_SECURE && c->use[i].tls)
			out[n++] = &c->use[i];
	if (n > 1)
		qsort(out, n, sizeof *out, row_cmp);
	return n;
}

static const struct inv_usage *find_row(const struct inv_usage **rows, size_t n, const struct inv_usage *key)
{
	const struct inv_usage *const *hit = bsearch(&key, rows, n, sizeof *rows, row_cmp);
	return hit ? *hit : NULL;
}

/* The first TLS row (lowest port) with this server and a paired service, or NULL. */
static const struct inv_usage *find_tls(const struct inv_usage **rows, size_t n, const struct inv_usage *ns)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {   /* the first row of that server */
		size_t mid = lo + (hi - lo) / 2;
		if (addr_cmp(&rows[mid]->server, &ns->server) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < n && addr_eq(&rows[i]->server, &ns->server); i++)
		if (compare_services_pair(ns->service, rows[i]->service))
			return rows[i];
	return NULL;
}

static void fill_key(struct cmp_item *it, const struct inv_client *cb, const struct inv_client *ca,
		     const struct inv_usage *row)
{
	it->cb = cb;
	it->ca = ca;
	it->internal = (cb && cb->internal) || (ca && ca->internal);
	if (row) {
		it->server = row->server;
		it->service = row->service;
		it->port = row->port;
	}
}

/* One client address: in before only (cb), after only (ca), or both. */
static void compare_client(struct builder *b, const struct inv_client *cb, const struct inv_client *ca)
{
	if (!ca) {
		struct cmp_item *it = push(b, CMP_DISAPPEARED);
		if (!it)
			return;
		fill_key(it, cb, NULL, NULL);
		b->cmp->disappeared_nonsecure += cb->status == CS_NONSECURE;
		for (size_t i = 0; i < cb->n_use; i++) {
			const struct inv_usage *u = &cb->use[i];
			if (i == 0 || u->first_us < it->first_us)
				it->first_us = u->first_us;
			if (i == 0 || u->last_us > it->last_us)
				it->last_us = u->last_us;
			it->nonsecure_uses += compare_nonsecure_use(cb, u);
		}
		return;
	}
	size_t need = cb && cb->n_use > ca->n_use ? cb->n_use : ca->n_use;
	if (!scratch(b, need ? need : 1)) {
		b->failed = true;
		return;
	}
	size_t nb = nonsecure_rows(cb, b->rows_b), na = nonsecure_rows(ca, b->rows_a), nt = tls_rows(ca, b->tls_a);
	for (size_t i = 0; i < nb; i++) {
		const struct inv_usage *ub = b->rows_b[i], *ua = find_row(b->rows_a, na, ub);
		const struct inv_usage *ut = ua ? NULL : find_tls(b->tls_a, nt, ub);
		enum cmp_kind k = ua ? CMP_STILL_NONSECURE : ut ? CMP_MOVED_TO_TLS : CMP_STOPPED;
		struct cmp_item *it = push(b, k);
		if (!it)
			return;
		fill_key(it, cb, ca, ub);
		it->before = ub;
		it->after = ua ? ua : ut;
		it->first_us = ub->first_us;
		it->last_us = ua ? ua->last_us : ub->last_us;
	}
	for (size_t i = 0; i < na; i++) {
		const struct inv_usage *ua = b->rows_a[i];
		if (find_row(b->rows_b, nb, ua))
			continue;
		struct cmp_item *it = push(b, CMP_NEW_NONSECURE);
		if (!it)
			return;
		fill_key(it, cb, ca, ua);
		it->after = ua;
		it->first_us = ua->first_us;
		it->last_us = ua->last_us;
	}
}

static const struct inv_client **sorted_clients(const struct inventory *inv)
{
	const struct inv_client **v = malloc((inv->n_clients ? inv->n_clients : 1) * sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < inv->n_clients; i++)
		v[i] = &inv->clients[i];
	if (inv->n_clients > 1)
		qsort(v, inv->n_clients, sizeof *v, client_cmp);
	return v;
}

static void side_totals(const struct inventory *inv, struct cmp_side_totals *t)
{
	t->clients = inv->n_clients;
	for (size_t i = 0; i < inv->n_clients; i++) {
		const struct inv_client *c = &inv->clients[i];
		t->nonsecure_clients += c->status == CS_NONSECURE;
		t->internal_clients += c->internal;
		for (size_t j = 0; j < c->n_use; j++)
			t->nonsecure_uses += compare_nonsecure_use(c, &c->use[j]);
	}
}

/* ---- services: every nonsecure use of both periods, sorted by key then client ---- */
struct use_ref {
	const struct inv_client *c;
	const struct inv_usage *u;
	bool after;
};

static int use_ref_cmp(const void *a, const void *b)
{
	const struct use_ref *x = a, *y = b;
	int c = key_cmp(&x->u->server, x->u->port, x->u->service, &y->u->server, y->u->port, y->u->service);
	if (c)
		return c;
	if (x->after != y->after)
		return x->after ? 1 : -1;
	return addr_cmp(&x->c->ip, &y->c->ip);
}

static size_t add_refs(struct use_ref *v, size_t n, const struct inventory *inv, bool after)
{
	for (size_t i = 0; i < inv->n_clients; i++)
		for (size_t j = 0; j < inv->clients[i].n_use; j++)
			if (compare_nonsecure_use(&inv->clients[i], &inv->clients[i].use[j]))
				v[n++] = (struct use_ref){ &inv->clients[i], &inv->clients[i].use[j], after };
	return n;
}

static void compare_services(struct builder *b, const struct inventory *before, const struct inventory *after)
{
	struct comparison *cmp = b->cmp;
	size_t total = cmp->before.nonsecure_uses + cmp->after.nonsecure_uses;
	struct use_ref *v = malloc((total ? total : 1) * sizeof *v);
	if (!v) {
		b->failed = true;
		return;
	}
	size_t n = add_refs(v, 0, before, false);
	n = add_refs(v, n, after, true);
	if (n > 1)
		qsort(v, n, sizeof *v, use_ref_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint64_t clients[2] = { 0, 0 };
		for (; j < n && key_cmp(&v[i].u->server, v[i].u->port, v[i].u->service, &v[j].u->server, v[j].u->port,
					v[j].u->service) == 0; j++)
			/* distinct clients: a repeated (client, side) is one */
			if (j == i || v[j].after != v[j - 1].after || !addr_eq(&v[j].c->ip, &v[j - 1].c->ip))
				clients[v[j].after]++;
		cmp->before.dirty_services += clients[0] > 0;
		cmp->after.dirty_services += clients[1] > 0;
		if (!clients[0] != !clients[1]) {
			struct cmp_item *it = push(b, clients[0] ? CMP_BECAME_CLEAN : CMP_BECAME_DIRTY);
			if (!it)
				break;
			fill_key(it, NULL, NULL, v[i].u);
			it->clients_before = clients[0];
			it->clients_after = clients[1];
		}
		i = j;
	}
	free(v);
}

bool compare_build(struct comparison *cmp, const struct inventory *before, const struct cmp_period *before_period,
		   const struct inventory *after, const struct cmp_period *after_period)
{
	memset(cmp, 0, sizeof *cmp);
	cmp->before_period = *before_period;
	cmp->after_period = *after_period;
	side_totals(before, &cmp->before);
	side_totals(after, &cmp->after);
	struct builder b = { .cmp = cmp };
	const struct inv_client **vb = sorted_clients(before), **va = sorted_clients(after);
	if (!vb || !va)
		b.failed = true;
	size_t i = 0, j = 0;
	while (!b.failed && (i < before->n_clients || j < after->n_clients)) {
		int c = i == before->n_clients ? 1 : j == after->n_clients ? -1 : addr_cmp(&vb[i]->ip, &va[j]->ip);
		compare_client(&b, c <= 0 ? vb[i] : NULL, c >= 0 ? va[j] : NULL);
		i += c <= 0;
		j += c >= 0;
	}
	free(vb);
	free(va);
	free(b.rows_b);
	free(b.rows_a);
	free(b.tls_a);
	if (!b.failed)
		compare_services(&b, before, after);
	if (b.failed) {
		compare_free(cmp);
		return false;
	}
	for (int k = 0; k < CMP_KINDS; k++)
		for (size_t n = 0; n < cmp->list[k].n; n++)
			cmp->internal[k] += cmp->list[k].v[n].internal;
	return true;
}

void compare_free(struct comparison *cmp)
{
	for (int k = 0; k < CMP_KINDS; k++)
		free(cmp->list[k].v);
	memset(cmp, 0, sizeof *cmp);
}
