/*
 * capture.h - where packets come from: pcap/pcapng files (one timeline, in
 * the order given; "-" is standard input) or a live interface, through
 * libpcap, with the BPF prefilter built from the catalogue and --server
 * addresses and ANDed with the user's expression.
 *
 * In: frames from libpcap.  Every frame is counted, filtered (counted) and
 * decoded once (failures counted by reason), in the engine given to each
 * call, whose catalogue and --server addresses the prefilter reads.  Out:
 * each frame decoded as TCP goes to a sink, one callback the caller chose:
 * capture_engine_sink() feeds that engine (engine_packet), workers.c's sink
 * hands it to worker threads.  Capture knows nothing of threads.  Errors
 * come back as one line naming the input and the problem, with the exit
 * code they deserve.
 */
#ifndef TLSREADY_CAPTURE_H
#define TLSREADY_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * Where decoded packets go.  packet() is called once for every frame that
 * passed the filters and decoded as TCP, in capture order, on the thread that
 * reads: p (counted in e->cnt.tcp) and the frame it was decoded from, whose
 * p->caplen bytes p's pointers (l3, payload) point into.  Both are lent for
 * the call only: a sink that keeps the packet copies the frame and moves the
 * pointers into its copy.
 */
struct capture_sink {
	void (*packet)(void *ctx, const struct packet *p, const uint8_t *frame);
	void *ctx;
};

/* The default sink: every packet into engine e (engine_packet). */
struct capture_sink capture_engine_sink(struct engine *e);

/* How long a stopping live capture keeps handing libpcap's backlog to the engine. */
#define CAPTURE_DRAIN_MS 5000

/* Set by the SIGINT/SIGTERM handler: stop a live capture. */
extern volatile sig_atomic_t capture_stop;

/* The prefilter expression for a link type (without the user's part). */
void capture_prefilter(const struct engine *e, int dlt, char *buf, size_t len);
/* Read every file in order, counted in e, into the sink; stops at the first unreadable one. */
void capture_files(struct engine *e, struct capture_sink sink, const char *const *paths, int n,
		   const struct capture_opts *o, struct capture_status *st);
/* Capture from an interface, counted in e, into the sink until capture_stop is set. */
void capture_live(struct engine *e, struct capture_sink sink, const struct capture_opts *o, struct capture_status *st);

/* The same live capture in steps, for the monitor (monitor.c): open (as
 * root, before the privilege drop), then dispatch in a loop (each call
 * returns after at most ~100 ms without packets), read libpcap's counters
 * when wanted, re-apply the prefilter after the catalogue changed, close. */
struct capture_handle;
struct capture_handle *capture_live_open(struct engine *e, struct capture_sink sink, const struct capture_opts *o,
					 struct capture_status *st);
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
