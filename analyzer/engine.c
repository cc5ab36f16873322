/*
 * engine.c - the per-packet path: flow lookup, TCP state, reassembly,
 * classification, nDPI, and the end of each flow (see engine.h).
 *
 * Per packet: expire idle flows (capture time), find or create the flow
 * (evicting the oldest at the cap), update counters and TCP state, add the
 * payload to the direction's stream and hand new in-order bytes to the
 * classifier, feed nDPI until it is done.  Once the owning dissector and
 * nDPI have both finished, the inspection state (stream buffers, nDPI flow)
 * is freed: the flow then costs only its table entry and its record.
 *
 * A connection that is so far only a client's SYN (and exact resends of it)
 * is an embryonic entry of the flow table (flow.h, 96 bytes), as a SYN cache
 * keeps it: no record, no inspection, no nDPI flow.  Its first other packet
 * promotes it to a full flow in place, set up as if it had been full from
 * the SYN: the record from the catalogue's answer kept at the SYN, and the
 * SYN replayed to nDPI (rebuilt from the fields kept: the addresses, ports,
 * sequence number and flags are all that nDPI 4.2 reads of a SYN without
 * options it cannot parse, which is why only such SYNs become embryonic).
 * One that ends so gets the same record at its end, its nDPI verdict from
 * the same replay.  So reports do not change, except where the --memcap
 * budget bit: a SYN no longer takes inspection memory from other flows.
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "cursor.h"
#include "portmapper.h"
#include "protocols.h"
#include "siphash.h"
#include "spool.h"
#include "tls.h"

#include <pthread.h>

/* --threads: the catalogue's learned ports are written by one worker and read
 * by all; everything else an engine touches is its own. */
static pthread_mutex_t svc_lock = PTHREAD_MUTEX_INITIALIZER;

static struct service_info lookup_service(const struct engine *e, const struct addr *srv, uint16_t port)
{
	if (!e->shared)
		return services_lookup(e->svc, srv, port);
	pthread_mutex_lock(&svc_lock);
	struct service_info si = services_lookup(e->svc, srv, port);
	pthread_mutex_unlock(&svc_lock);
	return si;
}

void engine_set_shared(struct engine *e)
{
	e->shared = true;
}

struct inspect {
	struct stream_dir dir[2];
	struct dpi_flow *dpi;
	bool content_done;
	bool dpi_done;
	bool learned_applied;
	struct flow *flow;
	struct inspect *older, *newer;   /* the engine's list, least recently fed first */
	uint64_t charged;                /* bytes of this struct and the nDPI flow, charged to --memcap */
};

/* ---- the set of IBM i addresses ---- */

static uint32_t server_slot(const struct engine *e, const struct addr *a)
{
	return (uint32_t)siphash13(a->b, 16, e->ft.k0, e->ft.k1) & (SERVER_SET_MAX - 1);
}

static const struct addr zero_addr;

bool engine_is_server(const struct engine *e, const struct addr *a)
{
	uint32_t i = server_slot(e, a);
	for (uint32_t n = 0; n < SERVER_SET_MAX; n++, i = (i + 1) & (SERVER_SET_MAX - 1)) {
		if (addr_eq(&e->servers[i], &zero_addr))
			return false;
		if (addr_eq(&e->servers[i], a))
			return true;
	}
	return false;
}

static void server_add(struct engine *e, const struct addr *a)
{
	if (addr_eq(a, &zero_addr))
		return;
	uint32_t i = server_slot(e, a);
	for (uint32_t n = 0; n < SERVER_SET_MAX / 2; n++, i = (i + 1) & (SERVER_SET_MAX - 1)) {
		if (addr_eq(&e->servers[i], a))
			return;
		if (addr_eq(&e->servers[i], &zero_addr)) {
			if (e->n_servers_seen >= SERVER_SET_MAX / 2)
				break;
			e->servers[i] = *a;
			e->n_servers_seen++;
			return;
		}
	}
	e->cnt.server_set_full++;
}

static bool configured_server(const struct engine *e, const struct addr *a)
{
	for (int i = 0; i < e->cfg.n_servers; i++)
		if (addr_in_prefix(a, &e->cfg.servers[i].net, e->cfg.servers[i].len))
			return true;
	return false;
}

bool engine_wants(const struct engine *e, const struct packet *p)
{
	if (services_port_known(e->svc, p->dport) || services_port_known(e->svc, p->sport))
		return true;
	if (e->cfg.n_servers && (configured_server(e, &p->src) || configured_server(e, &p->dst)))
		return true;
	if (e->svc->n_learned)
		return lookup_service(e, &p->dst, p->dport).name || lookup_service(e, &p->src, p->sport).name;
	return false;
}

static int cmp_addr(const void *x, const void *y)
{
	return addr_cmp(x, y);
}

size_t engine_servers(const struct engine *e, struct addr **out)
{
	*out = calloc(e->n_servers_seen ? e->n_servers_seen : 1, sizeof **out);
	size_t n = 0;
	if (!*out)
		return 0;
	for (uint32_t i = 0; i < SERVER_SET_MAX && n < e->n_servers_seen; i++)
		if (!addr_eq(&e->servers[i], &zero_addr))
			(*out)[n++] = e->servers[i];
	if (n > 1)
		qsort(*out, n, sizeof **out, cmp_addr);
	return n;
}

/* ---- inspection state and the --memcap budget ---- */

static void insp_unlink(struct engine *e, struct inspect *in)
{
	if (in->older)
		in->older->newer = in->newer;
	else
		e->insp_oldest = in->newer;
	if (in->newer)
		in->newer->older = in->older;
	else
		e->insp_newest = in->older;
	in->older = in->newer = NULL;
}

static void insp_append(struct engine *e, struct inspect *in)
{
	in->older = e->insp_newest;
	in->newer = NULL;
	if (e->insp_newest)
		e->insp_newest->newer = in;
	else
		e->insp_oldest = in;
	e->insp_newest = in;
}

static void insp_touch(struct engine *e, struct inspect *in)
{
	if (e->insp_newest != in) {
		insp_unlink(e, in);
		insp_append(e, in);
	}
}

static void end_inspection(struct engine *e, struct flow *f, struct flow_record *r);

/* The budget is spent: the flows fed least recently lose their held data
 * (their inspection ends with what was found so far), never the flow of the
 * packet being handled. */
static void reclaim(void *owner, uint64_t need)
{
	struct engine *e = owner;
	uint64_t freed = 0;
	struct inspect *in = e->insp_oldest;
	while (in && freed < need) {
		struct inspect *next = in->newer;
		if (in->flow != e->current) {
			uint64_t before = e->mem.used;
			struct flow *f = in->flow;
			struct flow_record *r = f->result;
			if (r)
				r->memcap_dropped = true;
			end_inspection(e, f, r);
			freed += before - e->mem.used;
			e->cnt.memcap_inspections_ended++;
			e->cnt.memcap_bytes_released += before - e->mem.used;
		}
		in = next;
	}
}

/* A flow's inspection state, charged to the budget; NULL when it cannot be had. */
static struct inspect *new_inspection(struct engine *e, struct flow *f, bool with_dpi)
{
	uint64_t charge = sizeof(struct inspect) + (with_dpi ? dpi_flow_size() : 0);
	if (!stream_mem_take(&e->mem, charge)) {
		e->cnt.memcap_not_inspected++;
		return NULL;
	}
	struct inspect *in = calloc(1, sizeof *in);
	if (!in) {
		stream_mem_give(&e->mem, charge);
		e->cnt.alloc_failures++;
		return NULL;
	}
	in->flow = f;
	in->charged = charge;
	insp_append(e, in);
	return in;
}

/* ---- life of a flow ---- */

bool engine_init(struct engine *e, const struct engine_config *cfg, struct services *svc, char *err,
		 size_t errlen)
{
	memset(e, 0, sizeof *e);
	e->cfg = *cfg;
	e->svc = svc;
	e->servers = calloc(SERVER_SET_MAX, sizeof *e->servers);
	if (!e->servers || !flow_table_init(&e->ft, cfg->max_flows) || !recent_init(&e->recent, e->ft.k0, e->ft.k1)) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	e->mem.cap = cfg->memcap;
	e->mem.reclaim = reclaim;
	e->mem.owner = e;
	if (cfg->max_attempts && (!(e->att = malloc(sizeof *e->att)) ||
				  !attempts_init(e->att, cfg->max_attempts, ATTEMPT_GROUPS_BYTES))) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	if (!cfg->no_dpi) {
		e->dpi = dpi_open(err, errlen);
		if (!e->dpi)
			return false;
	}
	return true;
}

int engine_spool_order(const struct spool_item *x, const struct spool_item *y)
{
	return engine_record_cmp(x->r, y->r);
}

/* From now on records go to a spool, those held so far first. */
static bool start_spool(struct engine *e)
{
	if (!(e->spool = malloc(sizeof *e->spool)))
		return false;
	spool_init(e->spool, engine_spool_order,
		   e->cfg.records_memory < SPOOL_MIN_BATCH ? SPOOL_MIN_BATCH : e->cfg.records_memory);
	for (size_t i = 0; i < e->n_records; i++) {
		if (!spool_add(e->spool, e->records[i], 0, -1))
			e->cnt.alloc_failures++;
		record_free(e->records[i]);
	}
	e->n_records = 0;
	e->records_bytes = 0;
	return true;
}

static void push_record(struct engine *e, struct flow_record *r)
{
	if (e->spool) {
		if (!spool_add(e->spool, r, 0, -1))
			e->cnt.alloc_failures++;
		record_free(r);
		return;
	}
	if (e->n_records == e->cap_records) {
		size_t cap = e->cap_records ? e->cap_records * 2 : 1024;
		struct flow_record **n = realloc(e->records, cap * sizeof *n);
		if (!n) {
			e->cnt.alloc_failures++;
			record_free(r);
			return;
		}
		e->records = n;
		e->cap_records = cap;
	}
	e->records[e->n_records++] = r;
	e->records_bytes += spool_record_size(r);
	if (e->cfg.spool_records && e->records_bytes > e->cfg.records_memory)
		start_spool(e);
}

static void end_inspection(struct engine *e, struct flow *f, struct flow_record *r)
{
	struct inspect *in = f->insp;
	if (!in)
		return;
	bool conflict = false;
	for (int d = 0; d < 2; d++) {
		/* held ranges dropped for memory are not holes in the capture */
		if (!(r && r->memcap_dropped))
			stream_close(&in->dir[d], &e->cnt.stream);
		conflict |= in->dir[d].conflict;
		if (r) {
			r->gap[d] |= in->dir[d].gap;
			r->truncated[d] |= in->dir[d].full;
			r->memcap_dropped |= in->dir[d].memcap;
		}
		stream_free(&in->dir[d], &e->mem);
	}
	if (conflict) {
		e->cnt.overlap_conflict_flows++;
		if (r)
			r->overlap_conflict = true;
	}
	if (in->dpi) {
		if (!in->dpi_done && r) {
			dpi_giveup(e->dpi, in->dpi, &r->dpi);
			r->dpi_ran = true;
		}
		dpi_flow_free(in->dpi);
	}
	insp_unlink(e, in);
	stream_mem_give(&e->mem, in->charged);
	free(in);
	f->insp = NULL;
}

static enum tcp_outcome tcp_outcome(const struct flow *f, enum end_reason why)
{
	if (f->syn && !f->synack && !f->established) {
		if (f->rst && f->rst_by_server)
			return TCP_REFUSED;
		if (f->pkts[1] == 0)
			return TCP_UNANSWERED;
	}
	if (f->rst)
		return TCP_RESET;
	if (f->fin_c || f->fin_s)
		return TCP_CLOSED;
	return why == END_INPUT ? TCP_OPEN : TCP_ESTABLISHED;
}

/* The flow's counters and TCP outcome into its record, and the verdict. */
static void complete_record(struct flow_record *r, const struct flow *f, enum end_reason why)
{
	r->end_reason = why;
	r->start_us = f->first_us;
	r->end_us = f->last_us;
	r->packets = (uint64_t)f->pkts[0] + f->pkts[1];
	r->bytes = f->bytes[0] + f->bytes[1];
	r->payload[0] = f->payload[0];
	r->payload[1] = f->payload[1];
	r->midstream = f->midstream;
	r->handshake_done = f->established;
	r->tcp = tcp_outcome(f, why);
	classify_final(r);
}

/* A connection that closed: its late segments must not start another. */
static void remember_closed(struct engine *e, const struct flow *f)
{
	struct recent_conn c = { .cli = f->cli, .srv = f->srv, .cport = f->cport, .sport = f->sport,
				 .syn = f->syn, .isn = f->isn[0], .ended_us = f->last_us };
	for (int d = 0; d < 2; d++) {
		c.seen[d] = f->seq_seen >> d & 1;
		c.lo[d] = f->seq_lo[d];
		c.hi[d] = f->seq_hi[d];
	}
	recent_add(&e->recent, &c);
}

/* A flow's end: its record into the records, or it is counted as other. */
static void end_flow(struct engine *e, struct flow *f, enum end_reason why)
{
	struct flow_record *r = f->result;
	if (why == END_CLOSED)
		remember_closed(e, f);
	switch (why) {
	case END_IDLE: e->cnt.flows_idle++; break;
	case END_CLOSED: break;
	case END_EVICTED: e->cnt.flows_evicted++; break;
	case END_NEW_SYN: e->cnt.flows_reused++; break;
	case END_INPUT: if (tcp_outcome(f, why) == TCP_OPEN) e->cnt.flows_open++; break;
	}
	if (!r) {                  /* a light flow that never showed IBM i bytes */
		e->cnt.flows_other++;
		return;
	}
	end_inspection(e, f, r);
	complete_record(r, f, why);
	if (rec_tls(r) && rec_tls(r)->cert_over_cap)
		e->cnt.tls_cert_over_cap++;
	bool ibmi = classify_is_ibmi(r);
	if (ibmi)
		server_add(e, &r->srv);
	if (r->service || ibmi || configured_server(e, &r->srv)) {
		e->cnt.flows_reported++;
		if (!(e->att && attempts_take(e->att, r)))
			push_record(e, r);
	} else {
		e->cnt.flows_other++;
		record_free(r);
	}
	f->result = NULL;
}

static void syn_as_flow(struct engine *e, const struct flow_syn *s, struct flow *f, bool ended);

static void finish_flow(struct engine *e, struct flow_head *h, enum end_reason why)
{
	if (flow_is_syn(h)) {
		struct flow f;
		syn_as_flow(e, (const struct flow_syn *)h, &f, true);
		end_flow(e, &f, why);
	} else {
		end_flow(e, (struct flow *)h, why);
	}
	flow_remove(&e->ft, h);
}

/* Which side of a first packet is the client? */
static bool src_is_client(const struct engine *e, const struct packet *p)
{
	if ((p->flags & (TH_SYN | TH_ACK)) == TH_SYN)
		return true;
	if ((p->flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))
		return false;
	bool s = services_port_known(e->svc, p->sport), d = services_port_known(e->svc, p->dport);
	if (d != s)
		return d;
	if (d && s)
		return p->dport < p->sport;
	bool ss = engine_is_server(e, &p->src) || configured_server(e, &p->src);
	bool ds = engine_is_server(e, &p->dst) || configured_server(e, &p->dst);
	if (ss != ds)
		return ds;
	return p->sport >= p->dport;
}

/* The record's identity, from its flow and the catalogue. */
static void start_record(struct flow_record *r, const struct flow *f, const struct service_info *si)
{
	r->seq_no = f->first_index;   /* the first packet's frame number: one order for every thread */
	r->cli = f->cli;
	r->srv = f->srv;
	r->cport = f->cport;
	r->sport = f->sport;
	r->service = si->name;
	r->cls = si->cls;
	r->learned_port = si->learned;
}

/* nDPI and the full dissectors run on flows that can be reported by their
 * port or server; the rest are only probed for IBM i bytes (light). */
static bool start_dpi(struct engine *e, struct inspect *in)
{
	if (!e->dpi)
		return false;
	in->dpi = dpi_flow_new();
	if (!in->dpi)
		return false;
	e->cnt.dpi_flows++;
	return true;
}

/* ---- embryonic connections (flow.h) ---- */

/*
 * A client's SYN alone (no ACK, RST, FIN, payload) in a plain IP packet
 * nDPI reads in full: IPv4 without options or IPv6 without extension
 * headers, not fragmented, its IP and TCP headers complete.  Such a SYN can
 * be rebuilt for nDPI from the fields an embryonic entry keeps (syn_packet);
 * any other first packet makes a full flow at once.
 */
static bool syn_bare(const struct packet *p)
{
	if ((p->flags & (TH_SYN | TH_ACK | TH_RST | TH_FIN)) != TH_SYN || p->payload_wire || p->fragment ||
	    !p->l3 || p->wirelen > UINT16_MAX)
		return false;
	struct cursor c = cur_make(p->l3, p->l3_len);
	uint8_t vihl = cur_peek_u8(&c, 0);
	uint32_t ip_len, ip_head;
	if (vihl == 0x45) {        /* IPv4, no options: unfragmented TCP */
		ip_len = cur_peek_be16(&c, 2);
		if (cur_peek_u8(&c, 9) != 6 || (cur_peek_be16(&c, 6) & 0x3fff))
			return false;
		ip_head = 20;
	} else if (vihl >> 4 == 6) {   /* IPv6, TCP next */
		ip_len = 40u + cur_peek_be16(&c, 4);
		if (cur_peek_u8(&c, 6) != 6)
			return false;
		ip_head = 40;
	} else {
		return false;
	}
	uint32_t th = (uint32_t)(cur_peek_u8(&c, ip_head + 12) >> 4) * 4;
	return !c.err && th >= 20 && ip_head + th == ip_len && ip_len <= p->l3_len;
}

/* One of its resends: the same SYN again (the flow's lookup matched the tuple). */
static bool syn_resent(const struct flow_syn *s, const struct packet *p, bool from_client)
{
	return from_client && p->flags == s->syn_flags && p->seq == s->isn && s->pkts < UINT16_MAX &&
	       p->wirelen == s->wirelen && syn_bare(p) && (p->l3[0] >> 4 == 6) == s->syn_v6;
}

/* The SYN as nDPI saw it: IP and TCP headers with the fields nDPI reads. */
static uint32_t syn_packet(const struct flow_syn *s, uint8_t b[60])
{
	memset(b, 0, 60);
	uint8_t *tcp;
	if (s->syn_v6) {
		b[0] = 0x60;
		b[5] = 20;             /* payload length: the TCP header */
		b[6] = 6;
		b[7] = 64;
		memcpy(b + 8, s->cli.b, 16);
		memcpy(b + 24, s->srv.b, 16);
		tcp = b + 40;
	} else {
		b[0] = 0x45;
		b[3] = 40;             /* total length */
		b[8] = 64;
		b[9] = 6;
		memcpy(b + 12, s->cli.b + 12, 4);
		memcpy(b + 16, s->srv.b + 12, 4);
		tcp = b + 20;
	}
	tcp[0] = (uint8_t)(s->cport >> 8);
	tcp[1] = (uint8_t)s->cport;
	tcp[2] = (uint8_t)(s->sport >> 8);
	tcp[3] = (uint8_t)s->sport;
	tcp[4] = (uint8_t)(s->isn >> 24);
	tcp[5] = (uint8_t)(s->isn >> 16);
	tcp[6] = (uint8_t)(s->isn >> 8);
	tcp[7] = (uint8_t)s->isn;
	tcp[12] = 5 << 4;
	tcp[13] = s->syn_flags;
	return (uint32_t)(tcp - b) + 20;
}

/* Feed nDPI the SYNs as engine_packet() would have (the first at its time, the resends
 * at the last one's); true when its detection is over. */
static bool syn_replay(struct engine *e, const struct flow_syn *s, struct dpi_flow *d, struct flow_record *r)
{
	uint8_t b[60];
	uint32_t n = syn_packet(s, b);
	bool done = false;
	for (uint32_t k = 0; k < s->pkts && !done; k++)
		done = dpi_feed(e->dpi, d, b, n, k ? s->last_us : s->first_us, &r->dpi);
	r->dpi_ran |= done;
	return done;
}

/* The counters a full flow would have from the SYNs. */
static void syn_fill(const struct flow_syn *s, struct flow *f)
{
	f->first_index = s->first_index;
	f->first_us = s->first_us;
	f->pkts[0] = s->pkts;
	f->bytes[0] = (uint64_t)s->pkts * s->wirelen;
	f->isn[0] = s->isn;
	f->seq_lo[0] = s->isn;
	f->seq_hi[0] = s->isn + 1;
	f->seq_seen = 1;
	f->syn = 1;
	f->light = !s->syn_full;
}

static void start_record(struct flow_record *r, const struct flow *f, const struct service_info *si);

static struct flow_record *syn_record(struct engine *e, const struct flow_syn *s, const struct flow *f)
{
	struct flow_record *r = calloc(1, sizeof *r);
	if (!r) {
		e->cnt.alloc_failures++;
		return NULL;
	}
	struct service_info si = { .name = s->service, .cls = (enum port_class)s->syn_cls, .learned = s->syn_learned };
	start_record(r, f, &si);
	return r;
}

/*
 * The full flow an embryonic entry stands for, in f (not in the table):
 * its counters and, for a reported one, its record with what nDPI made of
 * the SYNs (ended: the verdict at the flow's end, as end_inspection() gives it).
 */
static void syn_as_flow(struct engine *e, const struct flow_syn *s, struct flow *f, bool ended)
{
	memset(f, 0, sizeof *f);
	f->head = s->head;
	syn_fill(s, f);
	if (!s->syn_full)
		return;
	struct flow_record *r = syn_record(e, s, f);
	f->result = r;
	struct dpi_flow *d = r && e->dpi ? dpi_flow_new() : NULL;
	if (!d)
		return;
	if (!syn_replay(e, s, d, r) && ended) {
		dpi_giveup(e->dpi, d, &r->dpi);
		r->dpi_ran = true;
	}
	dpi_flow_free(d);
}

/* The first packet that is not a resend of the SYN: a full flow from now on, set up as it
 * would have been at the SYN (inspection, nDPI fed the SYNs). */
static struct flow *syn_promote(struct engine *e, struct flow_syn *s)
{
	struct flow_syn c = *s;
	struct flow *f = flow_promote(&e->ft, s);
	if (!f) {
		e->cnt.alloc_failures++;
		return NULL;
	}
	syn_fill(&c, f);
	e->current = f;
	if (!c.syn_full)
		return f;
	struct flow_record *r = syn_record(e, &c, f);
	if (!r) {
		f->light = 1;          /* as if it had not been catalogued */
		return f;
	}
	f->result = r;
	struct inspect *in = new_inspection(e, f, e->dpi != NULL);
	if (!in) {
		r->memcap_dropped = true;
		return f;
	}
	f->insp = in;
	stream_set_isn(&in->dir[0], c.isn);
	in->dpi = e->dpi ? dpi_flow_new() : NULL;
	in->dpi_done = !in->dpi || syn_replay(e, &c, in->dpi, r);
	return f;
}

static struct flow_head *new_flow(struct engine *e, const struct packet *p, bool *from_client)
{
	if (e->ft.active >= e->ft.max_flows) {
		struct flow_head *old = flow_oldest(&e->ft);
		if (old)
			finish_flow(e, old, END_EVICTED);
	}
	bool cli = src_is_client(e, p);
	const struct addr *srv = cli ? &p->dst : &p->src;
	struct service_info si = lookup_service(e, srv, cli ? p->dport : p->sport);
	bool full = si.name || configured_server(e, srv);
	if (syn_bare(p)) {         /* only a SYN so far: embryonic (a bare SYN's sender is the client) */
		struct flow_syn *s = flow_syn_create(&e->ft, p);
		if (!s) {
			e->cnt.alloc_failures++;
			return NULL;
		}
		s->syn_flags = p->flags;
		s->syn_full = full;
		s->syn_v6 = p->l3[0] >> 4 == 6;
		s->service = si.name;
		s->syn_cls = (uint8_t)si.cls;
		s->syn_learned = si.learned;
		s->first_index = p->index;
		s->isn = p->seq;
		s->pkts = 1;
		s->wirelen = (uint16_t)p->wirelen;
		*from_client = true;
		e->cnt.flows++;
		if (full && e->dpi)    /* as a full flow would have been counted at its SYN */
			e->cnt.dpi_flows++;
		return &s->head;
	}
	/* light flows get their record only if their bytes turn out to be IBM i */
	struct flow_record *r = full ? calloc(1, sizeof *r) : NULL;
	struct flow *f = r || !full ? flow_create(&e->ft, p, cli) : NULL;
	if (!f) {
		free(r);
		e->cnt.alloc_failures++;
		return NULL;
	}
	*from_client = cli;
	f->result = r;
	/* no room in the budget even after dropping older held data: counted, reported uninspected */
	struct inspect *in = full ? new_inspection(e, f, e->dpi != NULL) : NULL;
	if (r && !in)
		r->memcap_dropped = true;
	f->insp = in;
	f->light = !full;
	f->first_index = p->index;
	f->midstream = (p->flags & (TH_SYN | TH_ACK)) != TH_SYN;
	if (r)
		start_record(r, f, &si);
	if (in)
		in->dpi_done = !start_dpi(e, in);
	e->cnt.flows++;
	if (f->midstream)
		e->cnt.flows_midstream++;
	return &f->head;
}

/*
 * A flow outside the catalogue: do its first payloads look like an IBM i
 * protocol?  Then it gets full inspection from here on (the stream starts
 * at its SYN when that was seen); otherwise, after a few payloads, it is
 * only counted.  TLS is not looked for here: TLS on an unknown port of an
 * unknown server cannot be told from any other TLS.
 */
#define LIGHT_PROBES 4

static void light_probe(struct engine *e, struct flow *f, int dir, const struct packet *p)
{
	bool yes = false, maybe = false;
	for (const struct protocol *const *pr = protocols; *pr && !yes; pr++) {
		if (!(*pr)->light)
			continue;
		enum probe r = (*pr)->probe(p->payload, p->payload_len, dir);
		yes = r == PROBE_YES;
		maybe |= r == PROBE_MAYBE;
	}
	if (!yes) {
		if (!maybe || ++f->light_probes >= LIGHT_PROBES)
			f->light = 0;   /* not IBM i: counted, never inspected */
		return;
	}
	struct flow_record *r = calloc(1, sizeof *r);
	struct inspect *in = r ? new_inspection(e, f, false) : NULL;
	if (!in) {
		if (r)
			record_free(r);
		else
			e->cnt.alloc_failures++;
		f->light = 0;
		return;
	}
	struct service_info si = lookup_service(e, &f->srv, f->sport);
	start_record(r, f, &si);
	f->result = r;
	in->dpi_done = true;
	if (f->syn)
		stream_set_isn(&in->dir[0], f->isn[0]);
	if (f->synack)
		stream_set_isn(&in->dir[1], f->isn[1]);
	f->insp = in;
	f->light = 0;
}

/* nDPI's packets on a flow the dissectors have already classified: enough
 * for its TLS, Telnet and DRDA detection and its risks (ndpi-4.2.md). */
#define DPI_AFTER_CLASSIFIED 8

/* A closed connection (FIN both ways, or RST) waits this long for its last
 * ACKs and retransmissions before its record is written. */
#define CLOSED_LINGER_US (5LL * 1000000)

static void expire_idle(struct engine *e, int64_t now)
{
	struct flow_head *f;
	/* closed entries are full flows (an embryonic one has seen no FIN or RST) */
	while (e->ft.lru_head[FLOW_CLOSED] != FLOW_NONE &&
	       (f = &flow_at(&e->ft, e->ft.lru_head[FLOW_CLOSED])->head)->last_us + CLOSED_LINGER_US < now)
		finish_flow(e, f, END_CLOSED);
	while ((f = flow_oldest_in(&e->ft, FLOW_OPEN)) && f->last_us + e->cfg.idle_timeout_us < now)
		finish_flow(e, f, END_IDLE);
}

static void learn_from_mapper(struct engine *e, struct flow_record *r, struct inspect *in)
{
	const struct pm_state *pm = rec_pm(r);
	if (in->learned_applied || !pm || !pm->reply || !pm->reply_ok || pm->port == 0 || pm->port > 65535)
		return;
	in->learned_applied = true;
	if (e->shared)
		pthread_mutex_lock(&svc_lock);
	const char *name = services_intern(e->svc, pm->service[0] ? pm->service : pm->requested);
	if (name)
		services_learn(e->svc, &r->srv, (uint16_t)pm->port, name, pm->secure ? PC_SECURE : PC_NONSECURE);
	if (e->shared)
		pthread_mutex_unlock(&svc_lock);
	server_add(e, &r->srv);
}

/* A segment that starts with a TLS record header (type 20-23, version 3.x, a plausible
 * length): evidence of TLS that survives a small snap length.  A plaintext alert is a
 * refusal when it is fatal or its level was cut; a warning (unrecognized_name before a
 * ServerHello, as many servers send) refuses nothing. */
static void note_tls_head(struct flow_record *r, int dir, const uint8_t *b, uint32_t n)
{
	struct cursor c = cur_make(b, n);
	uint8_t type = cur_u8(&c), major = cur_u8(&c), minor = cur_u8(&c);
	uint16_t len = cur_be16(&c);
	if (c.err || type < 20 || type > 23 || major != 3 || minor > 4 || len == 0 || len > 18432)
		return;
	if (type == 21 && len == 2) {
		uint8_t level = cur_u8(&c);
		if (c.err || level != 1)
			r->tls_plain_alert = true;
	}
	r->tls_head_types[dir] |= (uint8_t)(1u << (type - 20));
	if (r->tls_heads[dir] < UINT8_MAX)
		r->tls_heads[dir]++;
}

static void inspect_payload(struct engine *e, struct flow *f, int dir, const struct packet *p)
{
	struct inspect *in = f->insp;
	struct flow_record *r = f->result;
	struct stream_dir *s = &in->dir[dir];
	insp_touch(e, in);
	if (!in->content_done &&
	    stream_add(s, p->seq, p->payload, p->payload_len, p->payload_wire, e->cfg.depth, &e->cnt.stream, &e->mem)) {
		in->content_done = classify_bytes(r, dir, s->buf, s->len, f->midstream);
		if (rec_pm(r))
			learn_from_mapper(e, r, in);
	}
}

void engine_packet(struct engine *e, const struct packet *p)
{
	if (!e->any_packet) {
		e->first_us = p->ts_us;
		e->any_packet = true;
	}
	if (p->ts_us > e->last_us)
		e->last_us = p->ts_us;
	for (uint16_t m = p->encap; m; m &= (uint16_t)(m - 1))
		e->cnt.encap[__builtin_ctz(m)]++;
	expire_idle(e, p->ts_us);

	bool from_client = true;
	struct flow_head *h = flow_lookup(&e->ft, p, &from_client);
	if (h && flow_is_syn(h)) {
		struct flow_syn *s = (struct flow_syn *)h;
		if (syn_resent(s, p, from_client)) {
			s->pkts++;
			if (p->ts_us > s->last_us)
				s->last_us = p->ts_us;
			flow_touch(&e->ft, h);
			return;
		}
		struct flow *pf = syn_promote(e, s);
		if (!pf)
			return;
		h = &pf->head;
	}
	struct flow *f = (struct flow *)h;
	bool syn_only = (p->flags & (TH_SYN | TH_ACK)) == TH_SYN;
	/* a SYN resent with the ISN already seen belongs to the same connection, closed or not */
	bool resent_syn = f && f->syn && p->seq == f->isn[0];
	if (f && syn_only && from_client && !resent_syn &&
	    (f->fin_c || f->fin_s || f->rst || (f->syn && f->established))) {
		finish_flow(e, &f->head, END_NEW_SYN);
		f = NULL;
	}
	if (!f && recent_late(&e->recent, p, p->ts_us)) {
		e->cnt.late_segments++;
		return;
	}
	if (!f) {
		if (!(h = new_flow(e, p, &from_client)) || flow_is_syn(h))
			return;        /* an embryonic entry is complete at its creation */
		f = (struct flow *)h;
	}
	e->current = f;

	int dir = from_client ? 0 : 1;
	uint32_t seg_end = p->seq + p->payload_wire + !!(p->flags & TH_SYN) + !!(p->flags & TH_FIN);
	if (!(f->seq_seen >> dir & 1)) {
		f->seq_seen |= (uint8_t)(1u << dir);
		f->seq_lo[dir] = p->seq;
		f->seq_hi[dir] = seg_end;
	} else {
		if ((int32_t)(seg_end - f->seq_hi[dir]) > 0)
			f->seq_hi[dir] = seg_end;
		if ((int32_t)(p->seq - f->seq_lo[dir]) < 0)
			f->seq_lo[dir] = p->seq;
	}
	f->pkts[dir]++;
	f->bytes[dir] += p->wirelen;
	if (p->ts_us > f->last_us)
		f->last_us = p->ts_us;
	flow_touch(&e->ft, &f->head);

	if ((p->flags & (TH_SYN | TH_ACK)) == TH_SYN && dir == 0) {
		f->syn = 1;
		f->isn[0] = p->seq;
		if (f->insp)
			stream_set_isn(&f->insp->dir[0], p->seq);
	} else if ((p->flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) && dir == 1) {
		f->synack = 1;
		f->isn[1] = p->seq;
		if (f->insp)
			stream_set_isn(&f->insp->dir[1], p->seq);
		const struct flow_record *known = f->result;
		if (known && known->service)
			server_add(e, &f->srv);
	}
	if (p->flags & TH_RST) {
		f->rst = 1;
		if (dir == 1)
			f->rst_by_server = 1;
	}
	if (p->flags & TH_FIN) {
		if (dir == 0)
			f->fin_c = 1;
		else
			f->fin_s = 1;
	}
	if ((p->flags & TH_ACK) && dir == 0 && f->synack)
		f->established = 1;
	if (f->rst || (f->fin_c && f->fin_s))
		flow_set_closed(&e->ft, f);
	if (p->payload_wire) {
		f->payload[dir] += p->payload_wire;
		if (f->payload[0] && f->payload[1])
			f->established = 1;
	}
	if (p->fragment)
		e->cnt.ip_fragments++;

	if (f->light && p->payload_len)
		light_probe(e, f, dir, p);
	/* read only now: the light probe may have just given the flow its record and inspection */
	struct inspect *in = f->insp;
	struct flow_record *r = f->result;
	if (r && p->payload_len < p->payload_wire)
		r->snaplen_cut = true;
	if (r && p->payload_len >= 5 && r->snaplen_cut && !record_tls_by_headers(r))
		note_tls_head(r, dir, p->payload, p->payload_len);
	if (!in)
		return;
	if (p->payload_wire)
		inspect_payload(e, f, dir, p);
	if ((p->flags & TH_ACK) && !in->content_done)
		stream_acked(&in->dir[1 - dir], p->ack, &e->cnt.stream);
	if (!in->dpi_done && p->l3) {
		in->dpi_done = dpi_feed(e->dpi, in->dpi, p->l3, p->l3_len, p->ts_us, &r->dpi);
		/* our dissector already knows the flow: nDPI gets a few more packets, then its verdict */
		if (!in->dpi_done && in->content_done && dpi_packets(in->dpi) >= DPI_AFTER_CLASSIFIED) {
			dpi_giveup(e->dpi, in->dpi, &r->dpi);
			in->dpi_done = true;
		}
		r->dpi_ran |= in->dpi_done;
	}
	/* A direction that stopped (gap or depth) has nothing more to give. */
	bool starved = (in->dir[0].gap || in->dir[0].full || in->dir[0].memcap) &&
		       (in->dir[1].gap || in->dir[1].full || in->dir[1].memcap);
	if ((in->content_done || starved) && in->dpi_done)
		end_inspection(e, f, r);
}

void engine_name_packet(struct engine *e, const struct packet *p)
{
	names_udp(&e->names, e->ft.k0, e->ft.k1, p, &e->cnt.names);
}

int engine_record_cmp(const struct flow_record *x, const struct flow_record *y)
{
	if (x->start_us != y->start_us)
		return x->start_us < y->start_us ? -1 : 1;
	return x->seq_no < y->seq_no ? -1 : x->seq_no > y->seq_no;
}

static int cmp_seq(const void *a, const void *b)
{
	return engine_record_cmp(*(struct flow_record *const *)a, *(struct flow_record *const *)b);
}

void engine_mark_internal(const struct engine *e, struct flow_record *r)
{
	r->internal = addr_is_loopback(&r->cli) || engine_is_server(e, &r->cli) || configured_server(e, &r->cli);
}

static void sort_and_mark(struct engine *e, struct flow_record **recs, size_t n)
{
	if (n > 1)
		qsort(recs, n, sizeof *recs, cmp_seq);
	for (size_t i = 0; i < n; i++)
		engine_mark_internal(e, recs[i]);
}

/* The kept attempt-only records join the others (how many); the counters say how many were folded. */
static size_t hand_attempts(struct engine *e)
{
	if (!e->att)
		return 0;
	size_t n;
	struct flow_record **kept = attempts_kept(e->att, &n);
	for (size_t i = 0; i < n; i++)
		push_record(e, kept[i]);
	e->cnt.attempts_folded = e->att_folded_stored + e->att->folded;
	e->cnt.attempt_groups_full = e->att_full_stored + e->att->other.connections;
	return n;
}

void engine_finish(struct engine *e)
{
	engine_flush(e);
	hand_attempts(e);
	sort_and_mark(e, e->records, e->n_records);
}

void engine_release_flows(struct engine *e)
{
	flow_table_release(&e->ft);
}

void engine_flush(struct engine *e)
{
	struct flow_head *f;
	while ((f = flow_oldest(&e->ft)))
		finish_flow(e, f, f->list == FLOW_CLOSED ? END_CLOSED : END_INPUT);
}

void engine_merge(struct engine *into, struct engine *from)
{
	for (size_t i = 0; i < from->n_records; i++)
		push_record(into, from->records[i]);
	from->n_records = 0;
	from->records_bytes = 0;
	if (from->spool && (into->spool || start_spool(into)) && !spool_adopt(into->spool, from->spool))
		into->cnt.alloc_failures++;
	if (into->att && from->att)
		attempts_merge(into->att, from->att);
	uint64_t *a = (uint64_t *)&into->cnt;
	const uint64_t *b = (const uint64_t *)&from->cnt;
	for (size_t i = 0; i < sizeof into->cnt / sizeof(uint64_t); i++)
		a[i] += b[i];
	for (uint32_t i = 0; i < SERVER_SET_MAX; i++)
		if (!addr_eq(&from->servers[i], &zero_addr))
			server_add(into, &from->servers[i]);
	names_merge(&into->names, from->names, &into->cnt.names);
	if (from->any_packet) {
		if (!into->any_packet || from->first_us < into->first_us)
			into->first_us = from->first_us;
		if (!into->any_packet || from->last_us > into->last_us)
			into->last_us = from->last_us;
		into->any_packet = true;
	}
}

void engine_tick(struct engine *e, int64_t now_us)
{
	expire_idle(e, now_us);
}

size_t engine_prepare_records(struct engine *e)
{
	size_t kept = hand_attempts(e);
	sort_and_mark(e, e->records, e->n_records);
	return kept;
}

void engine_attempts_stored(struct engine *e)
{
	if (!e->att)
		return;
	e->att_folded_stored += e->att->folded;
	e->att_full_stored += e->att->other.connections;
	attempts_clear_groups(e->att);
}

void engine_drop_records(struct engine *e)
{
	for (size_t i = 0; i < e->n_records; i++)
		record_free(e->records[i]);
	e->n_records = 0;
	e->records_bytes = 0;
	if (e->spool) {            /* the next interval's records start in memory again */
		spool_free(e->spool);
		free(e->spool);
		e->spool = NULL;
	}
}

static struct flow_record *snapshot_one(const struct flow *f)
{
	struct flow_record *r = malloc(sizeof *r);
	if (!r)
		return NULL;
	*r = *(const struct flow_record *)f->result;
	complete_record(r, f, END_INPUT);
	return r;
}

size_t engine_open_snapshot(struct engine *e, struct flow_record ***out)
{
	size_t n = 0;
	*out = NULL;
	if (!e->ft.active || !(*out = calloc(e->ft.active, sizeof **out)))
		return 0;
	for (uint32_t i = flow_iter(&e->ft, FLOW_NONE); i != FLOW_NONE && n < e->ft.active; i = flow_iter(&e->ft, i)) {
		if (i & FLOW_SYN) {    /* what the live record would hold: the SYN given to nDPI */
			struct flow sf;
			syn_as_flow(e, flow_syn_at(&e->ft, i), &sf, false);
			struct flow_record *r = sf.result;
			if (r) {
				complete_record(r, &sf, END_INPUT);
				(*out)[n++] = r;
			}
			continue;
		}
		const struct flow *f = flow_at(&e->ft, i);
		const struct flow_record *live = f->result;
		/* what finish_flow() would report: catalogued, an IBM i protocol, or a --server address */
		if (!live || !(live->service || classify_is_ibmi(live) || configured_server(e, &f->srv)))
			continue;
		struct flow_record *r = snapshot_one(f);
		if (!r)
			break;
		(*out)[n++] = r;
	}
	sort_and_mark(e, *out, n);
	return n;
}

void engine_free_snapshot(struct flow_record **recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(recs[i]);   /* the dissector facts belong to the live flows */
	free(recs);
}

static void reintern(struct services *fresh, struct flow_record *r)
{
	if (r && r->service)
		r->service = services_intern(fresh, r->service);
}

void engine_set_services(struct engine *e, struct services *fresh)
{
	const struct services *old = e->svc;
	for (int i = 0; i < old->n_learned; i++) {
		const struct learned_port *l = &old->learned[i];
		services_learn(fresh, &l->server, l->port, old->names[l->name], (enum port_class)l->cls);
	}
	fresh->learned_dropped += old->learned_dropped;
	for (uint32_t i = flow_iter(&e->ft, FLOW_NONE); i != FLOW_NONE; i = flow_iter(&e->ft, i)) {
		if (i & FLOW_SYN) {
			struct flow_syn *s = flow_syn_at(&e->ft, i);
			if (s->service)
				s->service = services_intern(fresh, s->service);
		} else {
			reintern(fresh, flow_at(&e->ft, i)->result);
		}
	}
	for (size_t i = 0; i < e->n_records; i++)
		reintern(fresh, e->records[i]);
	e->svc = fresh;
}

void engine_free(struct engine *e)
{
	struct flow_head *h;
	while ((h = flow_oldest(&e->ft))) {
		if (!flow_is_syn(h)) {
			struct flow *f = (struct flow *)h;
			if (f->insp)
				end_inspection(e, f, f->result);
			record_free(f->result);
		}
		flow_remove(&e->ft, h);
	}
	for (size_t i = 0; i < e->n_records; i++)
		record_free(e->records[i]);
	free(e->records);
	if (e->spool)
		spool_free(e->spool);
	free(e->spool);
	if (e->att)
		attempts_free(e->att);
	free(e->att);
	free(e->servers);
	names_free(e->names);
	recent_free(&e->recent);
	flow_table_free(&e->ft);
	dpi_close(e->dpi);
	memset(e, 0, sizeof *e);
}
