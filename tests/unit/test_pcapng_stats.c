/*
 * test_pcapng_stats.c - the drop counts of pcapng Interface Statistics Blocks
 * (pcapng_stats.c), on files built here byte by byte from the pcapng spec
 * (draft-ietf-opsawg-pcapng: SHB 0x0A0D0D0A with the byte-order magic
 * 0x1A2B3C4D, ISB type 5 = interface id, timestamp, options; isb_ifdrop = 5,
 * isb_osdrop = 7, 8-byte values; options padded to 32 bits): either byte
 * order, the last block of an interface wins (the counters are cumulative),
 * interfaces and sections add up, and hostile lengths stop or skip; the
 * file is fed in pieces of every size from 1 byte up, as reads hand it over.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "pcapng_stats.h"

struct buf {
	uint8_t b[4096];
	size_t n;
	int be;
};

static void put32(struct buf *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		w->b[w->n++] = (uint8_t)(w->be ? v >> (24 - 8 * i) : v >> (8 * i));
}

static void put16(struct buf *w, uint16_t v)
{
	w->b[w->n++] = (uint8_t)(w->be ? v >> 8 : v);
	w->b[w->n++] = (uint8_t)(w->be ? v : v >> 8);
}

static void put64(struct buf *w, uint64_t v)
{
	if (w->be) {
		put32(w, (uint32_t)(v >> 32));
		put32(w, (uint32_t)v);
	} else {
		put32(w, (uint32_t)v);
		put32(w, (uint32_t)(v >> 32));
	}
}

static void shb(struct buf *w)
{
	put32(w, 0x0A0D0D0A);
	put32(w, 28);
	put32(w, 0x1A2B3C4D);
	put16(w, 1);
	put16(w, 0);
	put64(w, UINT64_MAX);   /* section length unknown */
	put32(w, 28);
}

static void idb(struct buf *w)
{
	put32(w, 1);
	put32(w, 20);
	put16(w, 1);            /* Ethernet */
	put16(w, 0);
	put32(w, 262144);
	put32(w, 20);
}

static void epb(struct buf *w, uint32_t caplen)
{
	uint32_t pad = (4 - caplen % 4) % 4, len = 32 + caplen + pad;
	put32(w, 6);
	put32(w, len);
	put32(w, 0);
	put32(w, 0);
	put32(w, 0);
	put32(w, caplen);
	put32(w, caplen);
	for (uint32_t i = 0; i < caplen + pad; i++)
		w->b[w->n++] = 0xEE;
	put32(w, len);
}

/* An ISB with isb_ifrecv, then ifdrop and osdrop when not ~0 (absent). */
static void isb(struct buf *w, uint32_t iface, uint64_t ifdrop, uint64_t osdrop)
{
	/* header and trailing length, interface and timestamp, comment, ifrecv, drops, end of options */
	uint32_t len = 12 + 12 + 12 + 12 + (ifdrop != UINT64_MAX ? 12 : 0) + (osdrop != UINT64_MAX ? 12 : 0) + 4;
	put32(w, 5);
	put32(w, len);
	put32(w, iface);
	put32(w, 0);
	put32(w, 0);
	put16(w, 1);            /* opt_comment, 5 bytes + 3 padding */
	put16(w, 5);
	memcpy(w->b + w->n, "drops\0\0\0", 8);
	w->n += 8;
	put16(w, 4);            /* isb_ifrecv */
	put16(w, 8);
	put64(w, 1000);
	if (ifdrop != UINT64_MAX) {
		put16(w, 5);
		put16(w, 8);
		put64(w, ifdrop);
	}
	if (osdrop != UINT64_MAX) {
		put16(w, 7);
		put16(w, 8);
		put64(w, osdrop);
	}
	put16(w, 0);            /* opt_endofopt */
	put16(w, 0);
	put32(w, len);
}

/* The counts of w, fed in pieces of every size from 1 to 13 bytes and whole, as reads of any size
 * hand it over; every way of cutting it must give the same counts. */
static struct pcapng_drops scan(const struct buf *w)
{
	struct pcapng_drops first;
	for (size_t piece = 1; piece <= 14; piece++) {
		size_t step = piece == 14 ? w->n + 1 : piece;
		struct pcapng_scan s;
		pcapng_scan_init(&s);
		for (size_t at = 0; at < w->n; at += step)
			pcapng_scan_feed(&s, w->b + at, w->n - at < step ? w->n - at : step);
		struct pcapng_drops d;
		pcapng_scan_finish(&s, &d);
		if (piece == 1)
			first = d;
		assert_int_equal(d.dropped, first.dropped);
		assert_int_equal(d.stats_seen, first.stats_seen);
		assert_int_equal(d.blocks_skipped, first.blocks_skipped);
	}
	return first;
}

static void last_block_per_interface_wins(void **st)
{
	(void)st;
	for (int be = 0; be < 2; be++) {
		struct buf w = { .be = be };
		shb(&w);
		idb(&w);
		idb(&w);
		epb(&w, 61);
		isb(&w, 0, 10, UINT64_MAX);   /* an earlier block of interface 0: superseded */
		epb(&w, 3);
		isb(&w, 0, 23882, UINT64_MAX);
		isb(&w, 1, 5, 2);             /* interface drops and OS drops add up */
		struct pcapng_drops d = scan(&w);
		assert_true(d.stats_seen);
		assert_int_equal(d.dropped, 23882 + 5 + 2);
		assert_int_equal(d.blocks_skipped, 0);
	}
}

static void sections_add_up_in_their_own_byte_order(void **st)
{
	(void)st;
	struct buf a = { .be = 0 }, b = { .be = 1 };
	shb(&a);
	idb(&a);
	isb(&a, 0, 7, UINT64_MAX);
	shb(&b);
	idb(&b);
	isb(&b, 0, 1ull << 40, UINT64_MAX);
	memcpy(a.b + a.n, b.b, b.n);
	a.n += b.n;
	struct pcapng_drops d = scan(&a);
	assert_int_equal(d.dropped, 7 + (1ull << 40));
}

static void no_drop_count_or_no_statistics(void **st)
{
	(void)st;
	struct buf w = { 0 };
	shb(&w);
	idb(&w);
	epb(&w, 40);
	struct pcapng_drops d = scan(&w);
	assert_false(d.stats_seen);
	assert_int_equal(d.dropped, 0);
	isb(&w, 0, UINT64_MAX, UINT64_MAX);   /* received only */
	d = scan(&w);
	assert_false(d.stats_seen);
	assert_int_equal(d.dropped, 0);
}

static void not_pcapng(void **st)
{
	(void)st;
	struct buf w = { 0 };
	put32(&w, 0xA1B2C3D4);   /* a pcap header */
	put32(&w, 0x00040002);
	for (int i = 0; i < 4; i++)
		put32(&w, 0);
	assert_int_equal(scan(&w).dropped, 0);
	struct buf e = { 0 };
	assert_int_equal(scan(&e).dropped, 0);
	struct buf bad = { 0 };   /* an SHB whose byte-order magic is wrong */
	shb(&bad);
	bad.b[8] = 0x00;
	assert_false(scan(&bad).stats_seen);
}

static void hostile_lengths(void **st)
{
	(void)st;
	/* an option longer than its block: the block is skipped, counted */
	struct buf w = { 0 };
	shb(&w);
	idb(&w);
	size_t at = w.n;
	isb(&w, 0, 99, UINT64_MAX);
	w.b[at + 8 + 12 + 3] = 0xF0;   /* the comment's length, high byte: 5 -> 0xF005 */
	struct pcapng_drops d = scan(&w);
	assert_int_equal(d.dropped, 0);
	assert_int_equal(d.blocks_skipped, 1);
	/* an interface number beyond the cap: skipped, counted */
	struct buf x = { 0 };
	shb(&x);
	isb(&x, PCAPNG_STATS_MAX_IFACES, 4, UINT64_MAX);
	d = scan(&x);
	assert_int_equal(d.dropped, 0);
	assert_int_equal(d.blocks_skipped, 1);
	/* a block length below 12, not a multiple of 4, or past the end: the scan stops, no overrun */
	uint32_t lens[] = { 0, 8, 13, 0xFFFFFFFC };
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		struct buf y = { 0 };
		shb(&y);
		isb(&y, 0, 3, UINT64_MAX);
		size_t blk = y.n;
		isb(&y, 0, 50, UINT64_MAX);
		y.b[blk + 4] = (uint8_t)lens[i];
		y.b[blk + 5] = (uint8_t)(lens[i] >> 8);
		y.b[blk + 6] = (uint8_t)(lens[i] >> 16);
		y.b[blk + 7] = (uint8_t)(lens[i] >> 24);
		d = scan(&y);
		assert_int_equal(d.dropped, 3);   /* the first block's count stands */
	}
	/* a file cut inside a statistics block */
	struct buf z = { 0 };
	shb(&z);
	isb(&z, 0, 3, UINT64_MAX);
	isb(&z, 0, 60, UINT64_MAX);
	z.n -= 10;
	assert_int_equal(scan(&z).dropped, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(last_block_per_interface_wins),
		cmocka_unit_test(sections_add_up_in_their_own_byte_order),
		cmocka_unit_test(no_drop_count_or_no_statistics),
		cmocka_unit_test(not_pcapng),
		cmocka_unit_test(hostile_lengths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
