/*
 * test_syncache.c - embryonic entries of the flow table (flow.h, engine.c),
 * driven packet by packet through engine_packet(): a client's bare SYN and
 * its resends take no full flow, record or inspection; the monitor's
 * snapshot still lists the connection with its SYNs; the answer promotes it
 * to a full flow in place; a SYN nDPI could not be given again as kept (IP
 * options) makes a full flow at once; a promoted and an embryonic entry end
 * as records with the packets sent.  Packets are real IPv4/TCP headers
 * (RFC 791, RFC 9293) written here.
 */
#include "testutil.h"

#include <stdlib.h>

#include "engine.h"
#include "services.h"

static uint8_t frame[64];

/* An IPv4 + TCP packet 192.0.2.<cli>:<cport> <-> 198.51.100.1:8476 (catalogued),
 * ihl 5 or 6 (one NOP option word), no payload. */
static struct packet pkt(uint8_t cli, uint16_t cport, bool from_client, uint8_t flags, uint32_t seq, int64_t ts,
			 uint64_t index, int ihl)
{
	struct packet p;
	memset(&p, 0, sizeof p);
	memset(frame, 0, sizeof frame);
	uint8_t c4[4] = { 192, 0, 2, cli }, s4[4] = { 198, 51, 100, 1 };
	uint16_t sport = 8476;
	int ip_head = ihl * 4, len = ip_head + 20;
	frame[0] = (uint8_t)(0x40 | ihl);
	frame[3] = (uint8_t)len;
	frame[8] = 64;
	frame[9] = 6;
	memcpy(frame + 12, from_client ? c4 : s4, 4);
	memcpy(frame + 16, from_client ? s4 : c4, 4);
	if (ihl == 6)
		frame[20] = 1;                         /* NOP options */
	uint8_t *tcp = frame + ip_head;
	uint16_t a = from_client ? cport : sport, b = from_client ? sport : cport;
	tcp[0] = (uint8_t)(a >> 8); tcp[1] = (uint8_t)a;
	tcp[2] = (uint8_t)(b >> 8); tcp[3] = (uint8_t)b;
	tcp[4] = (uint8_t)(seq >> 24); tcp[5] = (uint8_t)(seq >> 16); tcp[6] = (uint8_t)(seq >> 8); tcp[7] = (uint8_t)seq;
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	addr_from_v4(&p.src, from_client ? c4 : s4);
	addr_from_v4(&p.dst, from_client ? s4 : c4);
	p.sport = a;
	p.dport = b;
	p.flags = flags;
	p.seq = seq;
	p.ts_us = ts;
	p.index = index;
	p.caplen = p.wirelen = (uint32_t)len;
	p.l3 = frame;
	p.l3_len = (uint32_t)len;
	return p;
}

static void syn_cache(void **st)
{
	(void)st;
	static struct services svc;
	services_init(&svc);
	struct engine_config cfg = { .max_flows = 100, .idle_timeout_us = 3600LL * 1000000, .depth = 4096,
				     .memcap = 1 << 20 };
	static struct engine e;
	char err[128];
	assert_true(engine_init(&e, &cfg, &svc, err, sizeof err));
	const int64_t t0 = 1700000000LL * 1000000;

	struct packet p = pkt(1, 40001, true, TH_SYN, 1000, t0, 0, 5);
	engine_packet(&e, &p);
	p = pkt(1, 40001, true, TH_SYN, 1000, t0 + 1000000, 1, 5);   /* resent a second later */
	engine_packet(&e, &p);
	assert_int_equal(e.ft.syn.active, 1);
	assert_int_equal(e.ft.full.active, 0);
	assert_null(e.insp_oldest);                                 /* no inspection, no nDPI flow */

	/* the monitor's view of it: one open connection of two SYNs */
	struct flow_record **open;
	size_t n = engine_open_snapshot(&e, &open);
	assert_int_equal(n, 1);
	assert_int_equal(open[0]->packets, 2);
	assert_int_equal(open[0]->bytes, 80);
	assert_int_equal(open[0]->tcp, TCP_UNANSWERED);
	assert_true(open[0]->start_us == t0 && open[0]->end_us == t0 + 1000000);
	assert_string_equal(open[0]->service, "as-signon");
	engine_free_snapshot(open, n);

	/* the answer: a full flow, inspected, in the same place */
	p = pkt(1, 40001, false, TH_SYN | TH_ACK, 5000, t0 + 1000100, 2, 5);
	engine_packet(&e, &p);
	assert_int_equal(e.ft.syn.active, 0);
	assert_int_equal(e.ft.full.active, 1);
	assert_non_null(e.insp_oldest);

	/* a SYN with IP options: a full flow at once */
	p = pkt(2, 40002, true, TH_SYN, 2000, t0 + 2000000, 3, 6);
	engine_packet(&e, &p);
	assert_int_equal(e.ft.syn.active, 0);
	assert_int_equal(e.ft.full.active, 2);

	/* another bare SYN, left unanswered */
	p = pkt(3, 40003, true, TH_SYN, 3000, t0 + 3000000, 4, 5);
	engine_packet(&e, &p);
	assert_int_equal(e.ft.syn.active, 1);
	assert_int_equal(e.ft.active, 3);

	engine_finish(&e);
	assert_int_equal(e.ft.active, 0);
	assert_int_equal(e.n_records, 3);
	assert_int_equal(e.cnt.flows, 3);
	const struct flow_record *r = e.records[0];       /* sorted by first packet */
	assert_int_equal(r->cport, 40001);
	assert_int_equal(r->packets, 3);
	assert_int_equal(r->bytes, 120);
	assert_int_equal(r->tcp, TCP_OPEN);
	r = e.records[2];
	assert_int_equal(r->cport, 40003);
	assert_int_equal(r->packets, 1);
	assert_int_equal(r->tcp, TCP_UNANSWERED);
	assert_true(r->dpi_ran);                          /* nDPI's verdict, as for a full flow */
	engine_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(syn_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
