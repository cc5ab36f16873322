/*
 * pcapng_stats.h - what a pcapng file's capturer said it dropped.
 *
 * libpcap reads a pcapng's packets but not its Interface Statistics Blocks,
 * where a capturer (dumpcap) writes how many packets the kernel or the
 * interface dropped while it captured.  In: the file, read a second time
 * from its start (a FILE positioned at 0; pipes cannot be read twice).  Out:
 * the sum over every section and interface of the last statistics block's
 * isb_ifdrop + isb_osdrop (each is cumulative since that interface's start).
 */
#ifndef TLSREADY_PCAPNG_STATS_H
#define TLSREADY_PCAPNG_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PCAPNG_STATS_MAX_IFACES 64     /* interfaces per section whose statistics are kept */
#define PCAPNG_STATS_MAX_BLOCK 65536   /* a statistics block longer than this is skipped, counted */

struct pcapng_drops {
	uint64_t dropped;          /* isb_ifdrop + isb_osdrop, last block per interface, summed */
	bool stats_seen;           /* at least one statistics block carried a drop count */
	uint64_t blocks_skipped;   /* statistics blocks not read: over the caps above, or malformed */
};

/* Scan f (positioned at its start) for statistics blocks; a file that is not pcapng leaves *out zero.
 * Stops at the first block whose length is impossible (libpcap reports those itself). */
void pcapng_drops_read(FILE *f, struct pcapng_drops *out);

#endif
