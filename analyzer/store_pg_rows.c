/*
 * store_pg_rows.c - a sensor's writes as a batch of statement rows (see
 * store_pg.h), built in the capture thread without touching the database.
 *
 * In: a checkpoint (the finished flows, the snapshot of the open ones, the
 * counters and the capture health).  Each finished connection becomes one
 * staging flow row and the staging rows of its own inventory (so that the
 * database can leave out exactly the connections another sensor already
 * stored); the open flows become one inventory per UTC day, never checked
 * for duplicates.  Each connection's rows name the DHCP host whose lease
 * held its address when it started (the lease book store_pg.c gives, as the
 * SQLite state's checkpoint does); the checkpoint's own leases are written
 * for the next checkpoints and imports.  Out: a self-contained byte string - per row the statement
 * number, the parameter count and each parameter length-prefixed, so wire
 * bytes never need quoting - that store_pg.c applies or store_queue.c keeps
 * on disk.
 */
#include "store_pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attempts.h"
#include "leasebook.h"
#include "names.h"
#include "redact.h"
#include "spool.h"
#include "report.h"
#include "services.h"

/* ---- encoding ---- */

void pg_batch_init(struct pg_batch *b)
{
	memset(b, 0, sizeof *b);
}

void pg_batch_free(struct pg_batch *b)
{
	pg_stage_free(b->stage);
	free(b->buf);
	memset(b, 0, sizeof *b);
}

static void put(struct pg_batch *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *nb = realloc(b->buf, cap);
		if (!nb) {
			b->failed = true;
			return;
		}
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

void pg_batch_row(struct pg_batch *b, enum pg_stmt st, int n, const char *const *vals)
{
	unsigned char h[2] = { (unsigned char)st, (unsigned char)n };
	put(b, h, 2);
	for (int i = 0; i < n; i++) {
		uint32_t len = vals[i] ? (uint32_t)strlen(vals[i]) : UINT32_MAX;
		put(b, &len, 4);
		if (vals[i])
			put(b, vals[i], (size_t)len + 1);   /* with its NUL: libpq reads text parameters as C strings */
	}
	b->rows++;
	if (b->drain && !b->failed && b->len >= PG_STREAM_BYTES) {
		if (!b->drain(b->drain_ctx, b->buf, b->len))
			b->failed = b->drain_failed = true;
		b->len = 0;
	}
}

bool pg_batch_next_part(const unsigned char *buf, size_t len, size_t *pos, struct pg_row *r, bool *bad, bool more)
{
	*bad = false;
	size_t at = *pos;
	if (at >= len)
		return false;
	if (len - at < 2) {   /* the row's head is cut: in the next part, or a malformed batch */
		*bad = !more;
		return false;
	}
	if (buf[at] >= PGS_COUNT || buf[at + 1] > 24 || buf[at + 1] != pg_stmt_nparams[buf[at]]) {
		*bad = true;
		return false;
	}
	r->st = (enum pg_stmt)buf[at];
	r->n = buf[at + 1];
	at += 2;
	for (int i = 0; i < r->n; i++) {
		uint32_t l;
		if (len - at < 4) {
			*bad = !more;
			return false;
		}
		memcpy(&l, buf + at, 4);
		at += 4;
		if (l == UINT32_MAX) {
			r->vals[i] = NULL;
			r->lens[i] = 0;
			continue;
		}
		if (l >= len - at) {
			*bad = !more;
			return false;
		}
		if (buf[at + l] != '\0') {
			*bad = true;
			return false;
		}
		r->vals[i] = (const char *)buf + at;
		r->lens[i] = (int)l;
		at += (size_t)l + 1;
	}
	*pos = at;
	return true;
}

bool pg_batch_next(const unsigned char *buf, size_t len, size_t *pos, struct pg_row *r, bool *bad)
{
	return pg_batch_next_part(buf, len, pos, r, bad, false);
}

/* ---- parameters as text ---- */

struct params {
	char num[24][24];
	const char *v[24];
	int n;
};

static void p_reset(struct params *p)
{
	p->n = 0;
}

static void p_int(struct params *p, int64_t x)
{
	snprintf(p->num[p->n], sizeof p->num[0], "%" PRId64, x);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

static void p_str(struct params *p, const char *s)
{
	p->v[p->n++] = s;
}

static void emit(struct pg_batch *b, enum pg_stmt st, struct params *p)
{
	if (st >= PGS_S_FLOW && st <= PGS_S_CERT)
		pg_batch_stage(b, st, p->n, p->v);
	else
		pg_batch_row(b, st, p->n, p->v);
	p_reset(p);
}

/* ---- inventory rows ---- */

struct rows {
	struct pg_batch *b;
	int64_t f, day;
	int open;
	struct params p;
	const char *sensor;
	const struct leasebook *book;
	const char *who, *who_id;  /* the client being written: its DHCP host's key and client id, "" none */
};

/* A host name, merged by the database at once (not staged: names are not per connection); host: the key
 * of the DHCP host it came with or whose lease held its address, "" none. */
static bool host_name_row(void *ctx, int64_t day, const char *client, const char *host, int source,
			  const char *name, int64_t first_us, int64_t last_us, uint32_t count)
{
	struct rows *w = ctx;
	struct params p = { .n = 0 };
	p_str(&p, w->sensor);
	p_int(&p, day);
	p_str(&p, client);
	p_str(&p, name_source_name((enum name_source)source));
	p_str(&p, name);
	p_int(&p, first_us);
	p_int(&p, last_us);
	p_int(&p, count);
	p_str(&p, host);
	emit(w->b, PGS_HOST_NAME, &p);
	return !w->b->failed;
}

static void head(struct rows *w)
{
	p_reset(&w->p);
	p_int(&w->p, w->f);
	p_int(&w->p, w->day);
	p_int(&w->p, w->open);
}

static void names(struct rows *w, const char *cli, const char *srv, const char *svc, int port, int cls,
		  const char *kind, const struct name_set *ns)
{
	for (int i = 0; i < ns->n; i++) {
		head(w);
		p_str(&w->p, cli);
		p_str(&w->p, srv);
		p_str(&w->p, svc);
		p_int(&w->p, port);
		p_int(&w->p, cls);
		p_str(&w->p, kind);
		p_str(&w->p, ns->v[i]);
		p_str(&w->p, w->who);
		emit(w->b, PGS_S_NAME, &w->p);
	}
}

static void client_rows(struct rows *w, const struct inv_client *cl)
{
	char ip[ADDR_STRLEN], srv[ADDR_STRLEN];
	addr_str(&cl->ip, ip);
	const struct lease_host *h = cl->host >= 0 && w->book && (size_t)cl->host < w->book->n_hosts
					     ? &w->book->hosts[cl->host] : NULL;
	w->who = h ? h->key : "";
	w->who_id = h ? h->client_id : "";
	head(w);
	p_str(&w->p, ip);
	int64_t v[] = { (int64_t)cl->flows, cl->internal, cl->first_us, cl->last_us, cl->first_nonsecure_us,
			cl->last_nonsecure_us, cl->findings, (int64_t)cl->signon_failures, cl->nonsecure_lookup,
			cl->offer.tls, cl->offer.max_version, cl->offer.families, cl->offer.only_legacy_ciphers,
			cl->offer.negotiated_legacy };
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		p_int(&w->p, v[i]);
	p_str(&w->p, w->who);
	p_str(&w->p, w->who_id);
	emit(w->b, PGS_S_CLIENT, &w->p);
	names(w, ip, "", "", 0, 0, "user", &cl->users);
	names(w, ip, "", "", 0, 0, "device", &cl->devices);
	names(w, ip, "", "", 0, 0, "mapper", &cl->mapper_requests);
	names(w, ip, "", "", 0, 0, "software", &cl->software);
	/* the names the finished flows carried (DRDA, 5250); count 0 are its devices' (read back as devices) */
	for (int k = 0; !w->open && k < cl->n_names; k++)
		if (cl->names[k].count)
			host_name_row(w, w->day, ip, w->who, cl->names[k].source, cl->names[k].name, cl->names[k].first_us,
				      cl->names[k].last_us, cl->names[k].count);
	for (size_t j = 0; j < cl->n_use; j++) {
		const struct inv_usage *u = &cl->use[j];
		const char *svc = u->service ? u->service : "";
		addr_str(&u->server, srv);
		head(w);
		p_str(&w->p, ip);
		p_str(&w->p, srv);
		p_str(&w->p, svc);
		p_int(&w->p, u->port);
		p_int(&w->p, u->cls);
		int64_t c[] = { (int64_t)u->connections, (int64_t)u->refused, (int64_t)u->unanswered,
				(int64_t)u->attempts, (int64_t)u->failed_tls, (int64_t)u->cleartext, (int64_t)u->tls,
				u->tls_versions, u->mismatch, u->first_us, u->last_us };
		for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
			p_int(&w->p, c[i]);
		p_str(&w->p, w->who);
		emit(w->b, PGS_S_USAGE, &w->p);
		names(w, ip, srv, svc, u->port, u->cls, "user", &u->users);
		names(w, ip, srv, svc, u->port, u->cls, "device", &u->devices);
	}
}

static void inventory_rows(struct rows *w, const struct inventory *inv)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	for (size_t i = 0; i < inv->n_clients; i++)
		client_rows(w, &inv->clients[i]);
	w->who = w->who_id = "";   /* the server ports' ciphers name no client */
	for (size_t i = 0; i < inv->n_servers; i++) {
		const struct inv_server *sv = &inv->servers[i];
		addr_str(&sv->ip, a);
		for (size_t j = 0; j < sv->n_ports; j++) {
			const struct inv_port *x = &sv->ports[j];
			const char *svc = x->service ? x->service : "";
			head(w);
			p_str(&w->p, a);
			p_int(&w->p, x->port);
			p_str(&w->p, svc);
			p_int(&w->p, x->cls);
			p_int(&w->p, (int64_t)x->connections);
			p_int(&w->p, x->tls_versions);
			p_int(&w->p, x->findings);
			p_int(&w->p, sv->release_vrm);
			emit(w->b, PGS_S_PORT, &w->p);
			names(w, "", a, svc, x->port, x->cls, "cipher", &x->ciphers);
		}
	}
	for (size_t i = 0; i < inv->n_notes; i++) {
		const struct inv_note *n = &inv->notes[i];
		head(w);
		p_int(&w->p, n->kind);
		p_str(&w->p, addr_str(&n->client, a));
		p_str(&w->p, addr_str(&n->server, b));
		p_int(&w->p, n->port);
		p_str(&w->p, n->service);
		p_str(&w->p, n->user);
		p_str(&w->p, n->detail);
		p_int(&w->p, (int64_t)n->count);
		p_int(&w->p, n->first_us);
		p_int(&w->p, n->last_us);
		emit(w->b, PGS_S_NOTE, &w->p);
	}
	for (size_t i = 0; i < inv->n_certs; i++) {
		const struct inv_cert *c = &inv->certs[i];
		p_reset(&w->p);
		p_int(&w->p, w->f);
		p_str(&w->p, addr_str(&c->server, a));
		p_int(&w->p, c->port);
		p_str(&w->p, c->sha256);
		p_str(&w->p, c->subject);
		p_str(&w->p, c->issuer);
		p_int(&w->p, c->not_after * 1000000);
		p_int(&w->p, c->first_us);
		p_int(&w->p, c->last_us);
		p_int(&w->p, c->not_before * 1000000);
		p_str(&w->p, c->key_type);
		p_int(&w->p, c->key_bits);
		p_str(&w->p, c->sig_alg);
		p_int(&w->p, c->self_signed);
		emit(w->b, PGS_S_CERT, &w->p);
	}
}

/* The DHCP host of each record of an analysis (an index into the book's hosts, -1 none): malloc'd, NULL on
 * no memory. */
static int32_t *hosts_of(const struct analysis *a, const struct leasebook *book)
{
	int32_t *hosts = malloc((a->n_records ? a->n_records : 1) * sizeof *hosts);
	for (size_t i = 0; hosts && i < a->n_records; i++)
		hosts[i] = leasebook_host_at(book, &a->records[i]->cli, a->records[i]->start_us);
	return hosts;
}

/* an inventory's rows, names redacted as asked; the inventory is freed */
static bool built_rows(struct rows *w, struct inventory *inv, const struct store_checkpoint *c)
{
	if (c->redact)
		redact_inventory(inv, c->redact_key);
	inventory_rows(w, inv);
	inventory_free(inv);
	return !w->b->failed;
}

/* the inventory of the records [from, to), a row per (DHCP host, address) */
static bool range_rows(struct rows *w, const struct analysis *a, size_t from, size_t to, const int32_t *hosts,
		       const struct store_checkpoint *c)
{
	struct inventory inv;
	return inventory_build_hosts(&inv, a, from, to, hosts + from) && built_rows(w, &inv, c);
}

/* A spooled record's own inventory (an import too big to hold): built as a day's would be. */
static bool record_rows(struct rows *w, const struct analysis *a, const struct flow_record *r, size_t i,
			const struct store_checkpoint *c)
{
	struct inv_builder *b = inv_builder_new(a, NULL, true, a->spool->budget);
	struct inventory inv;
	if (!b || !inv_builder_add(b, r, i, leasebook_host_at(w->book, &r->cli, r->start_us))) {
		inv_builder_abandon(b);
		return false;
	}
	return inv_builder_finish(b, &inv) && built_rows(w, &inv, c);
}

struct done_walk {
	struct rows *w;
	const struct store_checkpoint *c;
	int32_t *hosts;            /* in memory: each record's DHCP host */
};

/* a finished connection: its flow row, then its own inventory's rows, tagged with its number */
static bool done_row(void *ctx, const struct flow_record *r, size_t i)
{
	struct done_walk *d = ctx;
	struct rows *w = d->w;
	const struct analysis *a = d->c->done;
	char cli[ADDR_STRLEN], srv[ADDR_STRLEN];
	char *js = store_flow_json(d->c, r, i);
	if (!js)
		return false;
	w->f = (int64_t)i;
	w->open = 0;
	w->day = store_day(r->start_us);
	p_reset(&w->p);
	p_int(&w->p, w->f);
	p_int(&w->p, r->start_us);
	p_int(&w->p, r->end_us);
	p_str(&w->p, addr_str(&r->cli, cli));
	p_int(&w->p, r->cport);
	p_str(&w->p, addr_str(&r->srv, srv));
	p_int(&w->p, r->sport);
	p_str(&w->p, r->service);
	p_str(&w->p, port_class_name(r->cls));
	p_str(&w->p, tcp_outcome_name(r->tcp));
	p_str(&w->p, transport_name(r->transport));
	p_str(&w->p, js);
	emit(w->b, PGS_S_FLOW, &w->p);
	free(js);
	return a->spool ? record_rows(w, a, r, i, d->c) : range_rows(w, a, i, i + 1, d->hosts, d->c);
}

static bool done_rows(struct rows *w, const struct store_checkpoint *c)
{
	struct done_walk d = { w, c, NULL };
	if (!c->done->spool && !(d.hosts = hosts_of(c->done, w->book)))
		return false;
	bool ok = store_each_flow(c, done_row, &d);
	free(d.hosts);
	return ok;
}

/* the open flows: one inventory per UTC day, f = -1 (a snapshot, replaced at each checkpoint) */
static bool open_rows(struct rows *w, const struct store_checkpoint *c)
{
	const struct analysis *a = c->open;
	size_t from = 0;
	int32_t *hosts = hosts_of(a, w->book);
	bool ok = hosts != NULL;
	while (ok && from < a->n_records) {
		int64_t day = store_day(a->records[from]->start_us);
		size_t to = from + 1;
		while (to < a->n_records && store_day(a->records[to]->start_us) == day)
			to++;
		w->f = -1;
		w->open = 1;
		w->day = day;
		ok = range_rows(w, a, from, to, hosts, c);
		from = to;
	}
	free(hosts);
	return ok;
}

/* the checkpoint's own leases, kept for the next checkpoints and imports (merged at once, not staged) */
static void lease_rows(struct pg_batch *b, const char *sensor, const struct leasebook *cur)
{
	char ip[ADDR_STRLEN];
	for (size_t i = 0; cur && i < cur->n; i++) {
		const struct lease_entry *e = &cur->v[i];
		const struct lease_host *h = &cur->hosts[e->host];
		struct params p = { .n = 0 };
		p_str(&p, sensor);
		p_str(&p, h->key);
		p_str(&p, addr_str(&e->ip, ip));
		p_int(&p, e->start_us);
		p_int(&p, e->end_us);
		p_str(&p, h->client_id);
		emit(b, PGS_LEASE, &p);
	}
}

/* A folded group of attempt-only connections, merged by the database at once (a checkpoint has a few). */
static bool attempt_row(void *ctx, int64_t day, const char *server, const struct attempt_group *g, uint64_t limit)
{
	struct rows *w = ctx;
	char hex[2 * HLL_M + 1];
	for (unsigned i = 0; i < HLL_M; i++)
		snprintf(hex + 2 * i, 3, "%02x", g->sources.reg[i]);
	struct params p = { .n = 0 };
	p_str(&p, w->sensor);
	p_int(&p, day);
	p_str(&p, server);
	p_int(&p, g->port);
	p_int(&p, g->tcp);
	p_int(&p, (int64_t)g->connections);
	p_int(&p, g->first_us);
	p_int(&p, g->last_us);
	p_str(&p, hex);
	p_int(&p, (int64_t)limit);
	emit(w->b, PGS_ATTEMPT_GROUP, &p);
	return !w->b->failed;
}

static void key_row(struct pg_batch *b, const char *sensor, const char *run, uint64_t seq, int64_t now, uint64_t flows)
{
	struct params p = { .n = 0 };
	p_str(&p, sensor);
	p_str(&p, run);
	p_int(&p, (int64_t)seq);
	p_int(&p, now);
	p_int(&p, (int64_t)flows);
	emit(b, PGS_KEY, &p);
}

static void counter_row(struct pg_batch *b, const char *sensor, const char *name, uint64_t delta)
{
	if (!delta)
		return;
	struct params p = { .n = 0 };
	p_str(&p, sensor);
	p_str(&p, name);
	p_int(&p, (int64_t)delta);
	emit(b, PGS_COUNTER, &p);
}

static void counter_rows(struct pg_batch *b, const char *sensor, const struct store_checkpoint *c)
{
	static const struct store_totals zero;
	const struct store_totals *p = c->prev ? c->prev : &zero;
	const struct analysis *a = c->done;
	counter_row(b, sensor, "packets", a->packets - p->packets);
	counter_row(b, sensor, "bytes", a->bytes - p->bytes);
	counter_row(b, sensor, "tcp_packets", a->tcp_packets - p->tcp_packets);
	for (size_t i = 0; i < a->n_counters; i++) {
		char name[96];
		const struct counter *k = &a->counters[i];
		snprintf(name, sizeof name, "%s%s%s", k->group ? k->group : "", k->group ? "." : "", k->name);
		counter_row(b, sensor, name, k->value - (i < p->n_counters ? p->counters[i].value : 0));
	}
	counter_row(b, sensor, "checkpoints", 1);
	counter_row(b, sensor, "pcap_received", c->received);
	counter_row(b, sensor, "pcap_dropped_kernel", c->dropped_kernel);
	counter_row(b, sensor, "pcap_dropped_interface", c->dropped_interface);
	counter_row(b, sensor, "pcap_not_analysed_at_stop", c->not_analysed);
	counter_row(b, sensor, "intervals_with_drops", c->dropped_kernel + c->dropped_interface ? 1 : 0);
}

bool pg_rows_checkpoint(struct pg_batch *b, const char *sensor, const char *run, uint64_t seq,
			const struct store_checkpoint *c, bool monitor, const struct leasebook *book,
			const struct leasebook *cur)
{
	struct rows w = { .b = b, .sensor = sensor, .book = book, .who = "", .who_id = "" };
	struct params p = { .n = 0 };
	key_row(b, sensor, run, seq, c->now_us, c->done->n_records);
	if (!done_rows(&w, c))
		return false;
	if (monitor) {
		p_str(&p, sensor);
		emit(b, PGS_DROP_OPEN, &p);
	}
	if (c->open && !open_rows(&w, c))
		return false;
	pg_batch_flush(b);   /* the staging rows before the merge that reads them */
	p_str(&p, sensor);
	p_int(&p, PG_DUP_WINDOW_US);
	emit(b, PGS_MERGE, &p);
	if (!store_each_host_name(c, book, host_name_row, &w) || !store_each_attempt_group(c, attempt_row, &w))
		return false;
	lease_rows(b, sensor, cur);
	counter_rows(b, sensor, c);
	uint64_t pk = c->done->packets - (c->prev ? c->prev->packets : 0);
	p_str(&p, sensor);
	p_str(&p, c->iface);
	p_int(&p, c->start_us);
	p_int(&p, c->end_us);
	p_int(&p, (int64_t)pk);
	if (c->have_pcap_stats) {
		p_int(&p, (int64_t)c->received);
		p_int(&p, (int64_t)c->dropped_kernel);
		p_int(&p, (int64_t)c->dropped_interface);
	} else {
		p_str(&p, NULL);
		p_str(&p, NULL);
		p_str(&p, NULL);
	}
	p_int(&p, (int64_t)c->done->n_records);
	p_int(&p, (int64_t)c->not_analysed);
	emit(b, PGS_INTERVAL, &p);
	if (monitor) {
		p_str(&p, sensor);
		p_str(&p, run);
		p_int(&p, c->now_us);
		emit(b, PGS_RUN_SEEN, &p);
	}
	for (size_t i = 0; i < c->n_imports; i++) {
		p_str(&p, c->import_digests[i]);
		p_str(&p, sensor);
		p_str(&p, c->import_names[i]);
		p_int(&p, c->now_us);
		emit(b, PGS_IMPORT, &p);
	}
	if (c->retain_us > 0) {
		p_int(&p, c->now_us - c->retain_us);
		emit(b, PGS_RETAIN, &p);
	}
	return !b->failed;
}

bool pg_rows_run_start(struct pg_batch *b, const char *sensor, const char *run, uint64_t seq, const char *iface,
		       int64_t now_us)
{
	struct params p = { .n = 0 };
	key_row(b, sensor, run, seq, now_us, 0);
	p_str(&p, sensor);
	p_str(&p, run);
	p_str(&p, iface);
	p_int(&p, now_us);
	emit(b, PGS_RUN_START, &p);
	return !b->failed;
}

bool pg_rows_run_stop(struct pg_batch *b, const char *sensor, const char *run, uint64_t seq, int64_t now_us)
{
	struct params p = { .n = 0 };
	key_row(b, sensor, run, seq, now_us, 0);
	p_str(&p, sensor);
	p_str(&p, run);
	p_int(&p, now_us);
	emit(b, PGS_RUN_STOP, &p);
	return !b->failed;
}
