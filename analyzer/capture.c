/*
 * capture.c - libpcap sources, the BPF prefilter, progress (see capture.h).
 *
 * Each frame goes through handle_frame(): counted, filtered, decoded once,
 * then handed to the caller's sink; nothing here knows what the sink does.
 * Files are read with nanosecond timestamp precision whatever they hold
 * (libpcap scales), so pcap, pcapng, either byte order and any precision
 * come out alike.  The filter is applied with pcap_offline_filter() so that
 * every frame it rejects is counted; live captures filter in the kernel and
 * report pcap_stats().
 */
#include "capture.h"

#include <errno.h>
#include <sys/socket.h>
#ifdef __linux__
#include <linux/if_packet.h>
#endif

#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture_stream.h"

volatile sig_atomic_t capture_stop;

#define FILTER_MAX 8192

static void warn(struct capture_status *st, const char *fmt, const char *a, const char *b)
{
	if (st->n_warnings < CAPTURE_MAX_WARNINGS)
		snprintf(st->warnings[st->n_warnings++], sizeof st->warnings[0], fmt, a, b);
}

static void note_linktype(struct capture_status *st, int dlt)
{
	const char *n = pcap_datalink_val_to_name(dlt);
	char buf[32];
	snprintf(buf, sizeof buf, "%s", n ? n : "unknown");
	for (int i = 0; i < st->n_linktypes; i++)
		if (strcmp(st->linktypes[i], buf) == 0)
			return;
	if (st->n_linktypes < 8)
		snprintf(st->linktypes[st->n_linktypes++], sizeof st->linktypes[0], "%s", buf);
}

void capture_prefilter(const struct engine *e, int dlt, char *buf, size_t len)
{
	char ports[4096], base[FILTER_MAX];
	services_bpf(e->svc, ports, sizeof ports);
	/* the name protocols (names.h): a tiny share of the traffic */
	size_t o = (size_t)snprintf(base, sizeof base, "(%s) or (udp and (port 53 or port 67 or port 68 or port 137 or "
				    "port 546 or port 547 or port 5353 or port 5355))", ports[0] ? ports : "tcp");
	for (int i = 0; i < e->cfg.n_servers && o < sizeof base; i++) {
		char a[ADDR_STRLEN];
		o += (size_t)snprintf(base + o, sizeof base - o, " or (tcp and net %s/%d)",
				      addr_str(&e->cfg.servers[i].net, a), e->cfg.servers[i].len);
	}
	if (dlt == DLT_EN10MB)   /* tagged frames need the vlan keyword, once per tag */
		snprintf(buf, len, "%s or (vlan and (%s or (vlan and (%s))))", base, base, base);
	else
		snprintf(buf, len, "%s", base);
}

static bool build_filter(pcap_t *p, const struct engine *e, int dlt, const struct capture_opts *o,
			 struct bpf_program *prog, bool *have, char *err, size_t errlen)
{
	static char expr[FILTER_MAX * 3 + 1024];
	char pre[FILTER_MAX * 3];
	*have = false;
	pre[0] = '\0';
	if (!o->no_prefilter)
		capture_prefilter(e, dlt, pre, sizeof pre);
	if (pre[0] && o->user_filter)
		snprintf(expr, sizeof expr, "(%s) and (%s)", pre, o->user_filter);
	else if (pre[0])
		snprintf(expr, sizeof expr, "%s", pre);
	else if (o->user_filter)
		snprintf(expr, sizeof expr, "%s", o->user_filter);
	else
		return true;
	if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "invalid filter expression: %s", pcap_geterr(p));
		return false;
	}
	*have = true;
	return true;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct progress {
	bool on;
	double start, last;
	uint64_t pkts_at_start;
	long long total;
};

static void progress_show(struct progress *pg, const struct engine *e, const struct capture_stream *in, const char *name,
			  bool final)
{
	double t = now_s();
	if (!final && t - pg->last < 0.25)
		return;
	pg->last = t;
	long long pos = in ? (long long)capture_stream_pos(in) : -1;
	double rate = (double)(e->cnt.packets - pg->pkts_at_start) / (t - pg->start > 1e-3 ? t - pg->start : 1e-3);
	if (pg->total > 0 && pos >= 0)
		fprintf(stderr, "\r%s: %.1f of %.1f MB (%3.0f%%), %llu packets, %.0f packets/s   ", name,
			pos / 1e6, pg->total / 1e6, 100.0 * (double)pos / (double)pg->total,
			(unsigned long long)e->cnt.packets, rate);
	else
		fprintf(stderr, "\r%s: %llu packets, %.0f packets/s   ", name,
			(unsigned long long)e->cnt.packets, rate);
	if (final)
		fputc('\n', stderr);
}

/*
 * Offline, with no expression of the user's, the prefilter runs in C after
 * decoding (an array lookup per port) instead of in libpcap's BPF
 * interpreter: the same packets pass, VLAN tags cost nothing, and it is
 * several times cheaper.  Frames that are not TCP count as filtered, as
 * they would with BPF.
 */
/* Capture time in microseconds; hostile files can hold any 64-bit second
 * count, so it saturates instead of overflowing (nanosecond precision was
 * requested: tv_usec holds nanoseconds). */
static int64_t capture_time_us(const struct pcap_pkthdr *h)
{
	const int64_t max_s = INT64_MAX / 1000000 / 4;   /* room left for timeouts added to it */
	int64_t s = (int64_t)h->ts.tv_sec;
	if (s > max_s)
		s = max_s;
	if (s < -max_s)
		s = -max_s;
	return s * 1000000 + (int64_t)h->ts.tv_usec / 1000;
}

static void engine_sink_packet(void *ctx, const struct packet *p, const uint8_t *frame)
{
	engine_packet(ctx, p);
}

struct capture_sink capture_engine_sink(struct engine *e)
{
	return (struct capture_sink){ .packet = engine_sink_packet, .ctx = e };
}

static inline __attribute__((always_inline)) void
handle_frame(struct engine *e, const struct capture_sink *sink, int dlt, const struct pcap_pkthdr *h,
			 const uint8_t *data, const struct bpf_program *prog, bool have_prog, bool c_prefilter)
{
	e->cnt.packets++;
	e->cnt.bytes += h->caplen;
	e->cnt.wire_bytes += h->len;
	if (have_prog && !pcap_offline_filter(prog, h, data)) {
		e->cnt.filtered++;
		return;
	}
	uint16_t sp, dp;
	if (c_prefilter && engine_ports_only(e)) {
		int proto = decode_ports(dlt, data, h->caplen, &sp, &dp);
		if (proto >= 0 && (proto != 6 || !engine_port_wanted(e, sp, dp))) {
			e->cnt.filtered++;
			return;
		}
	}
	struct packet p;
	p.index = e->cnt.packets - 1;
	/* nanosecond precision was requested: tv_usec holds nanoseconds */
	p.ts_us = capture_time_us(h);
	p.caplen = h->caplen;
	p.wirelen = h->len;
	enum decode_result r = decode_frame(dlt, data, h->caplen, &p);
	if (p.udp_name) {                   /* DNS, DHCP, NetBIOS, mDNS, LLMNR: names, counted there */
		engine_name_packet(e, &p);
		return;
	}
	if (c_prefilter && (r == DEC_NON_TCP || r == DEC_NON_IP || (r == DEC_OK && !engine_wants(e, &p)))) {
		e->cnt.filtered++;
		return;
	}
	if (r != DEC_OK) {
		e->cnt.not_decoded[r]++;
		return;
	}
	e->cnt.tcp++;
	sink->packet(sink->ctx, &p, data);
}

/* What the file loop's callback needs. */
struct file_loop {
	struct engine *e;
	const struct capture_sink *sink;
	int dlt;
	const struct bpf_program *prog;
	bool have_prog, c_prefilter;
	struct progress *pg;
	const struct capture_stream *in;   /* the file, for the bytes read so far */
	const char *name;
	uint64_t n;
};

static void file_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct file_loop *fl = (struct file_loop *)user;
	handle_frame(fl->e, fl->sink, fl->dlt, h, data, fl->prog, fl->have_prog, fl->c_prefilter);
	if (fl->pg->on && (++fl->n & 0x3fff) == 0)
		progress_show(fl->pg, fl->e, fl->in, fl->name, false);
}

static void read_file(struct engine *e, const struct capture_sink *sink, const char *path,
		      const struct capture_opts *o, struct capture_status *st)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	const char *name = strcmp(path, "-") == 0 ? "(stdin)" : path;
	struct stat sb;
	if (strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		snprintf(st->error, sizeof st->error, "%s: is a directory, not a capture file", name);
		st->exit_code = 2;
		return;
	}
	struct capture_stream cs;
	FILE *in = capture_stream_open(&cs, path);
	if (!in) {
		snprintf(st->error, sizeof st->error, "%s: %s", path, strerror(errno));
		st->exit_code = 2;
		return;
	}
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(in, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) {
		fclose(in);
		capture_stream_finish(&cs, &(struct pcapng_drops){ 0 });
		const char *why = errbuf;
		if (strstr(errbuf, "unknown file format"))
			why = "not a pcap or pcapng capture file (unknown file format)";
		else if (strstr(errbuf, "truncated dump file") || strstr(errbuf, "truncated pcapng"))
			why = "file too short to be a capture (truncated header)";
		/* libpcap prefixes the path to fopen errors itself */
		if (strncmp(errbuf, path, strlen(path)) == 0 && errbuf[strlen(path)] == ':')
			snprintf(st->error, sizeof st->error, "%s", errbuf);
		else
			snprintf(st->error, sizeof st->error, "%s: %s", name, why);
		st->exit_code = 2;
		return;
	}
	int dlt = pcap_datalink(p);
	if (!decode_linktype_supported(dlt)) {
		const char *n = pcap_datalink_val_to_name(dlt);
		snprintf(st->error, sizeof st->error, "%s: unsupported link type %s (%d)", name, n ? n : "?", dlt);
		st->exit_code = 2;
		pcap_close(p);
		capture_stream_finish(&cs, &(struct pcapng_drops){ 0 });
		return;
	}
	note_linktype(st, dlt);
	struct bpf_program prog;
	bool have_prog;
	bool c_prefilter = !o->no_prefilter && !o->user_filter;
	struct capture_opts fo = *o;
	fo.no_prefilter |= c_prefilter;   /* the C prefilter replaces the BPF one */
	if (!build_filter(p, e, dlt, &fo, &prog, &have_prog, st->error, sizeof st->error)) {
		st->exit_code = 2;
		pcap_close(p);
		capture_stream_finish(&cs, &(struct pcapng_drops){ 0 });
		return;
	}
	struct progress pg = { o->progress, now_s(), 0, e->cnt.packets, -1 };
	pg.last = pg.start;
	if (strcmp(path, "-") != 0 && stat(path, &sb) == 0)
		pg.total = (long long)sb.st_size;
	struct file_loop fl = { e, sink, dlt, &prog, have_prog, c_prefilter, &pg, &cs, name, 0 };
	/* pcap_loop rather than pcap_next_ex: one call into libpcap's read loop
	 * for the whole file, not one per frame (~55 instructions a frame) */
	int rc = pcap_loop(p, -1, file_cb, (u_char *)&fl);
	if (pg.on && fl.n > 0x3fff)
		progress_show(&pg, e, fl.in, name, true);
	if (rc == PCAP_ERROR) {
		char w[256];
		snprintf(w, sizeof w, "%s", pcap_geterr(p));
		warn(st, "%s: input ended early: %s; everything before it was analysed", name, w);
		if (st->exit_code < 1)
			st->exit_code = 1;
	}
	if (have_prog)
		pcap_freecode(&prog);
	pcap_close(p);   /* closes the stream */
	struct pcapng_drops d;   /* what the capturer said it dropped */
	capture_stream_finish(&cs, &d);
	e->cnt.file_dropped += d.dropped;
	e->cnt.file_stats_skipped += d.blocks_skipped;
}

void capture_files(struct engine *e, struct capture_sink sink, const char *const *paths, int n,
		   const struct capture_opts *o, struct capture_status *st)
{
	for (int i = 0; i < n && st->exit_code < 2; i++)
		read_file(e, &sink, paths[i], o, st);
}

struct capture_handle {
	pcap_t *p;
	struct engine *e;
	struct capture_sink sink;
	const struct capture_opts *o;
	int dlt;
	int fd;                    /* selectable descriptor, -1 if none */
};

static void live_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct capture_handle *ch = (struct capture_handle *)user;
	handle_frame(ch->e, &ch->sink, ch->dlt, h, data, NULL, false, false);
}

bool capture_live_refilter(struct capture_handle *h, struct capture_status *st)
{
	struct bpf_program prog;
	bool have_prog;
	if (!build_filter(h->p, h->e, h->dlt, h->o, &prog, &have_prog, st->error, sizeof st->error))
		return false;
	if (!have_prog)
		return true;
	bool ok = pcap_setfilter(h->p, &prog) == 0;
	if (!ok)
		snprintf(st->error, sizeof st->error, "%s: cannot set filter: %s", h->o->iface, pcap_geterr(h->p));
	pcap_freecode(&prog);
	return ok;
}

struct capture_handle *capture_live_open(struct engine *e, struct capture_sink sink, const struct capture_opts *o,
					 struct capture_status *st)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct capture_handle *h = calloc(1, sizeof *h);
	st->live = true;
	st->exit_code = 2;
	if (!h) {
		snprintf(st->error, sizeof st->error, "%s: out of memory", o->iface);
		return NULL;
	}
	h->e = e;
	h->sink = sink;
	h->o = o;
	if (!(h->p = pcap_create(o->iface, errbuf))) {
		snprintf(st->error, sizeof st->error, "%s: %s", o->iface, errbuf);
		free(h);
		return NULL;
	}
	pcap_set_snaplen(h->p, o->snaplen > 0 ? o->snaplen : 262144);
	pcap_set_promisc(h->p, o->promisc);
	pcap_set_timeout(h->p, 100);
	if (o->buffer_mib > 0)
		pcap_set_buffer_size(h->p, o->buffer_mib * 1024 * 1024);
	pcap_set_tstamp_precision(h->p, PCAP_TSTAMP_PRECISION_NANO);
	if (pcap_activate(h->p) < 0) {
		snprintf(st->error, sizeof st->error, "%s: cannot capture: %s", o->iface, pcap_geterr(h->p));
		goto fail;
	}
	h->dlt = pcap_datalink(h->p);
	if (!decode_linktype_supported(h->dlt)) {
		const char *n = pcap_datalink_val_to_name(h->dlt);
		snprintf(st->error, sizeof st->error, "%s: unsupported link type %s (%d)", o->iface, n ? n : "?", h->dlt);
		goto fail;
	}
	note_linktype(st, h->dlt);
	if (!capture_live_refilter(h, st))
		goto fail;
	/* Non-blocking, with our own poll: with TPACKET_V3 an idle interface would
	 * otherwise block pcap_dispatch() until a packet comes. */
	h->fd = pcap_setnonblock(h->p, 1, errbuf) == 0 ? pcap_get_selectable_fd(h->p) : -1;
	st->exit_code = 0;
	return h;
fail:
	pcap_close(h->p);
	free(h);
	return NULL;
}

bool capture_live_fanout(struct capture_handle *h, int group, char *err, size_t errlen)
{
#ifdef PACKET_FANOUT
	/* a symmetric flow hash: both directions of a connection reach one socket */
	uint32_t arg = ((uint32_t)group & 0xffff) | ((uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16);
	if (setsockopt(pcap_fileno(h->p), SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) == 0)
		return true;
	snprintf(err, errlen, "%s: cannot join fanout group %d: %s", h->o->iface, group, strerror(errno));
#else
	snprintf(err, errlen, "%s: this platform has no PACKET_FANOUT", h->o->iface);
#endif
	return false;
}

int capture_live_dispatch(struct capture_handle *h, struct capture_status *st)
{
	if (h->fd >= 0) {
		struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
		if (poll(&pfd, 1, 100) == 0)
			return 0;
	}
	int n = pcap_dispatch(h->p, 256, live_cb, (u_char *)h);
	if (n == PCAP_ERROR_BREAK)
		return 0;
	if (n < 0) {
		warn(st, "%s: capture failed: %s", h->o->iface, pcap_geterr(h->p));
		st->exit_code = 1;
		return -1;
	}
	return n;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * At stop: what libpcap already received (its ring, the socket) goes to the
 * engine.  The socket is non-blocking, so pcap_dispatch returns 0 once the
 * ring is empty; with TPACKET_V3 the last block shows only when its timeout
 * (100 ms) retires it, hence one poll of 250 ms before believing it.  The
 * packets held at the stop are the target (received - dropped - analysed,
 * from pcap_stats); the drain ends when they are analysed, when nothing more
 * comes, or after max_ms, so a busy link cannot keep a stopping monitor
 * running.  What is still not analysed is counted by the caller.
 */
uint64_t capture_live_drain(struct capture_handle *h, struct capture_status *st, int max_ms)
{
	uint64_t start = h->e->cnt.packets, target = UINT64_MAX;
	if (capture_live_stats(h, st))
		target = start + capture_not_analysed(st, start);
	int64_t end = mono_ms() + max_ms;
	for (int rounds = 0; rounds < 1000000 && h->e->cnt.packets < target && mono_ms() < end; rounds++) {
		int n = pcap_dispatch(h->p, 4096, live_cb, (u_char *)h);
		if (n < 0)
			break;
		if (n == 0) {
			struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
			if (h->fd < 0 || poll(&pfd, 1, 250) <= 0)
				break;
		}
	}
	return h->e->cnt.packets - start;
}

uint64_t capture_not_analysed(const struct capture_status *st, uint64_t analysed)
{
	/* libpcap's counters are 32-bit: the difference is taken modulo 2^32 */
	uint32_t held = (uint32_t)(st->ps_recv - st->ps_drop), done = (uint32_t)analysed;
	return held > done ? held - done : 0;
}

bool capture_live_stats(struct capture_handle *h, struct capture_status *st)
{
	struct pcap_stat ps;
	if (pcap_stats(h->p, &ps) != 0)
		return false;
	st->ps_recv = ps.ps_recv;
	st->ps_drop = ps.ps_drop;
	st->ps_ifdrop = ps.ps_ifdrop;
	return true;
}

void capture_live_close(struct capture_handle *h)
{
	if (!h)
		return;
	pcap_close(h->p);
	free(h);
}

void capture_live(struct engine *e, struct capture_sink sink, const struct capture_opts *o, struct capture_status *st)
{
	struct capture_handle *h = capture_live_open(e, sink, o, st);
	if (!h)
		return;
	while (!capture_stop && capture_live_dispatch(h, st) >= 0)
		;
	capture_live_drain(h, st, CAPTURE_DRAIN_MS);
	if (capture_live_stats(h, st))
		st->not_analysed = capture_not_analysed(st, e->cnt.packets);
	capture_live_close(h);
}
