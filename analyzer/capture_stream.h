/*
 * capture_stream.h - a capture file read once for libpcap and for the
 * pcapng statistics scan.
 *
 * In: a path ("-" is standard input).  Out: a stdio stream libpcap reads the
 * capture from (pcap_fopen_offline); every byte it reads passes through
 * pcapng_scan_feed() on its way, so a pcapng's drop counts are known at the
 * end without reading the file a second time (pipes included), and the
 * number of bytes read so far is there for progress.  pcap_close() closes
 * the stream; capture_stream_finish() then gives the counts and frees the
 * rest (it must be called whatever happened, once the stream is closed).
 */
#ifndef TLSREADY_CAPTURE_STREAM_H
#define TLSREADY_CAPTURE_STREAM_H

#include <stdint.h>
#include <stdio.h>

#include "pcapng_stats.h"

struct capture_stream {
	int fd;
	uint64_t pos;              /* bytes read from the file so far (through the scan) */
	FILE *plain;               /* a classic pcap's plain stream (no scan), or NULL */
	char *buf;                 /* the stream's buffer: freed by capture_stream_finish() */
	struct pcapng_scan scan;
};

/* The stream over path, or NULL with errno set (the file could not be opened). */
FILE *capture_stream_open(struct capture_stream *cs, const char *path);
/* Bytes of the file read so far (for progress), while the stream is open. */
uint64_t capture_stream_pos(const struct capture_stream *cs);
/* The drop counts the file's statistics blocks carried; after pcap_close(). */
void capture_stream_finish(struct capture_stream *cs, struct pcapng_drops *out);

#endif
