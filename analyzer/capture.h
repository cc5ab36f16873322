/*
 * capture.h - where packets come from: pcap/pcapng files (one timeline, in
 * the order given; "-" is standard input) or a live interface, through
 * libpcap, with the BPF prefilter built from the catalogue and --server
 * addresses and ANDed with the user's expression.
 *
 * Frames are counted, filtered (counted), decoded (failures counted by
 * reason) and pushed into the engine.  Errors come back as one line naming
 * the input and the problem, with the exit code they deserve.
 */
#ifndef TLSREADY_CAPTURE_H
#define TLSREADY_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "capture_status.h"
#include "engine.h"

struct capture_opts {
	const char *user_filter;   /* the BPF expression from the command line, or NULL */
	bool no_prefilter;
	bool progress;             /* progress line on stderr */
	const char *iface;         /* live capture */
	int snaplen;
	int buffer_mib;
	bool promisc;
};

/* How long a stopping live capture keeps handing libpcap's backlog to the engine. */
#define CAPTURE_DRAIN_MS 5000

/* Set by the SIGINT/SIGTERM handler: stop a live capture. */
extern volatile sig_atomic_t capture_stop;

/* The prefilter expression for a link type (without the user's part). */
void capture_prefilter(const struct engine *e, int dlt, char *buf, size_t len);
/* Read every file in order into the engine; stops at the first unreadable one. */
void capture_files(struct engine *e, const char *const *paths, int n, const struct capture_opts *o,
		   struct capture_status *st);
/* Capture from an interface until capture_stop is set. */
void capture_live(struct engine *e, const struct capture_opts *o, struct capture_status *st);

/* The same live capture in steps, for the monitor (monitor.c): open (as
 * root, before the privilege drop), then dispatch in a loop (each call
 * returns after at most ~100 ms without packets), read libpcap's counters
 * when wanted, re-apply the prefilter after the catalogue changed, close. */
struct capture_handle;
struct capture_handle *capture_live_open(struct engine *e, const struct capture_opts *o, struct capture_status *st);
/* Packets handled (>= 0), or -1 after a capture error (a warning in st). */
int capture_live_dispatch(struct capture_handle *h, struct capture_status *st);
/* Join a PACKET_FANOUT group (Linux): packets are spread over the group's
 * sockets by a symmetric flow hash.  False, with err, where it cannot. */
bool capture_live_fanout(struct capture_handle *h, int group, char *err, size_t errlen);
/* libpcap's cumulative counters into st->ps_*; false if unavailable. */
bool capture_live_stats(struct capture_handle *h, struct capture_status *st);
bool capture_live_refilter(struct capture_handle *h, struct capture_status *st);
/* At stop: dispatch what libpcap holds until it is analysed, nothing more comes,
 * or max_ms passed; returns the packets handled. */
uint64_t capture_live_drain(struct capture_handle *h, struct capture_status *st, int max_ms);
/* Received by libpcap, not dropped, not analysed: ps_recv - ps_drop - analysed (Linux counts
 * the drops in ps_recv), from the counters last read into st; 0 if negative. */
uint64_t capture_not_analysed(const struct capture_status *st, uint64_t analysed);
void capture_live_close(struct capture_handle *h);

#endif
