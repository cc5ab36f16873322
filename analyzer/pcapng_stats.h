/*
 * pcapng_stats.h - what a pcapng file's capturer said it dropped.
 *
 * libpcap reads a pcapng's packets but not its Interface Statistics Blocks,
 * where a capturer (dumpcap) writes how many packets the kernel or the
 * interface dropped while it captured.  In: the file's bytes, in order, in
 * pieces of any size, as they are read for libpcap (capture.c hands libpcap
 * a stream that passes every byte it reads through pcapng_scan_feed(), so
 * the file is read once, pipes included).  Out: the sum over every section
 * and interface of the last statistics block's isb_ifdrop + isb_osdrop (each
 * is cumulative since that interface's start).
 */
#ifndef TLSREADY_PCAPNG_STATS_H
#define TLSREADY_PCAPNG_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define PCAPNG_STATS_MAX_IFACES 64     /* interfaces per section whose statistics are kept */
#define PCAPNG_STATS_MAX_BLOCK 65536   /* a statistics block longer than this is skipped, counted */

struct pcapng_drops {
	uint64_t dropped;          /* isb_ifdrop + isb_osdrop, last block per interface, summed */
	bool stats_seen;           /* at least one statistics block carried a drop count */
	uint64_t blocks_skipped;   /* statistics blocks not read: over the caps above, or malformed */
};

struct pcapng_section {
	uint64_t drop[PCAPNG_STATS_MAX_IFACES];
	bool seen[PCAPNG_STATS_MAX_IFACES];
};

/* The scan's state between pieces of input. */
struct pcapng_scan {
	struct pcapng_drops out;
	struct pcapng_section sec;
	bool swap, in_section, dead;   /* dead: not pcapng, or a block length that is impossible */
	uint8_t hdr[12];
	size_t hdr_n;
	uint64_t skip;                 /* bytes of the current block still to pass over */
	uint8_t *blk;                  /* a statistics block being gathered (allocated at the first) */
	size_t blk_len, blk_n;
};

void pcapng_scan_init(struct pcapng_scan *s);
/* The next n bytes of the input.  Input that is not pcapng is passed over at the cost of one header;
 * the scan stops at the first block whose length is impossible (libpcap reports those itself). */
void pcapng_scan_feed(struct pcapng_scan *s, const uint8_t *b, size_t n);
/* The counts (a statistics block cut by the end of the input is not counted); frees what the scan holds. */
void pcapng_scan_finish(struct pcapng_scan *s, struct pcapng_drops *out);

#endif
