/*
 * fuzz_capture.c - libFuzzer harness for the whole offline analysis: the
 * path `tlsready -r FILE --format X` takes (main.c), from libpcap through
 * decode, the flow table, stream reassembly, classification, nDPI and
 * every dissector, then the inventory and all four report writers.
 *
 * Input: every byte but the last is a pcap or pcapng file; the last byte
 * picks the configuration (CF_* below), so a mutation of one byte switches
 * the prefilter, --server 0.0.0.0/0, nDPI, a user BPF filter, the depth,
 * the flow cap (with it, every record goes through the spool), the idle
 * timeout and redaction.  The file is written to a
 * memfd and read by path (/proc/self/fd/N) through capture_files(), so the
 * analyzer is not changed and libpcap parses it exactly as it parses a
 * file given with -r.  Output: the reports go to /dev/null; what is
 * checked is that nothing crashes, leaks or trips ASan/UBSan.
 *
 * Why nDPI is set up once: ndpi_init_detection_module() takes ~75 ms under
 * ASan, which would cap the harness at ~13 runs a second.  One module is
 * made at start-up and lent to each run's engine (engine_init with no_dpi,
 * then e.dpi set; taken back before engine_free); the module's LRU caches,
 * its only state that outlives a flow, are emptied after every run (ndpi_reset.c) so
 * that runs do not depend on each other.  Seeds: tests/fuzz/seeds/capture/
 * (lab captures under 64 KiB with a configuration byte appended).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analysis.h"
#include "capture.h"
#include "dpi.h"
#include "engine.h"
#include "inventory.h"
#include "redact.h"
#include "report.h"
#include "services.h"

struct ndpi_detection_module_struct;
void ndpi_reset_caches(struct ndpi_detection_module_struct *m);   /* ndpi_reset.c */


enum {
	CF_NO_PREFILTER = 0x01,   /* --no-prefilter */
	CF_ALL_SERVERS  = 0x02,   /* --server 0.0.0.0/0 --server ::/0: every flow inspected */
	CF_NO_DPI       = 0x04,   /* --no-dpi */
	CF_USER_FILTER  = 0x08,   /* a BPF expression: libpcap's filter instead of the C prefilter */
	CF_SHALLOW      = 0x10,   /* --depth 64 */
	CF_FEW_FLOWS    = 0x20,   /* --max-flows 2: eviction; records spooled from the first */
	CF_SHORT_IDLE   = 0x40,   /* --idle-timeout 1 */
	CF_REDACT       = 0x80,   /* --redact-users */
};

static int memfd = -1;
static char path[64];
static FILE *devnull;
static struct dpi *shared_dpi;
static struct services pristine;   /* the built-in catalogue, copied into each run */

/* struct dpi (dpi.c) holds the nDPI module as its only member. */
static struct ndpi_detection_module_struct *dpi_module(struct dpi *d)
{
	return *(struct ndpi_detection_module_struct **)d;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];
	memfd = memfd_create("fuzz_capture", 0);
	devnull = fopen("/dev/null", "w");
	shared_dpi = dpi_open(err, sizeof err);
	if (memfd < 0 || !devnull || !shared_dpi) {
		fprintf(stderr, "fuzz_capture: set-up failed: %s\n", shared_dpi ? "memfd or /dev/null" : err);
		abort();
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
	services_init(&pristine);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t cf = data[size - 1];
	size--;
	if (ftruncate(memfd, 0) != 0 || (size && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();

	static struct services svc;
	memcpy(&svc, &pristine, sizeof svc);   /* the port mapper teaches it: start clean */
	struct engine_config cfg = {
		.max_flows = cf & CF_FEW_FLOWS ? 2 : 1000000,
		.idle_timeout_us = (cf & CF_SHORT_IDLE ? 1LL : 300LL) * 1000000,
		.depth = cf & CF_SHALLOW ? 64 : 65536,
		.no_dpi = true,            /* the shared module is lent below */
		.spool_records = cf & CF_FEW_FLOWS,   /* with the small table, records spooled from the first (spool.c) */
		.records_memory = 0,
	};
	if (cf & CF_ALL_SERVERS) {
		addr_parse_prefix("0.0.0.0/0", &cfg.servers[0].net, &cfg.servers[0].len);
		addr_parse_prefix("::/0", &cfg.servers[1].net, &cfg.servers[1].len);
		cfg.n_servers = 2;
	}
	static struct engine e;
	char err[512];
	if (!engine_init(&e, &cfg, &svc, err, sizeof err))
		abort();
	if (!(cf & CF_NO_DPI))
		e.dpi = shared_dpi;

	const char *inputs[1] = { path };
	struct capture_opts co = {
		.user_filter = cf & CF_USER_FILTER ? "tcp or vlan" : NULL,
		.no_prefilter = cf & CF_NO_PREFILTER,
	};
	static struct capture_status st;
	memset(&st, 0, sizeof st);
	capture_files(&e, capture_engine_sink(&e), inputs, 1, &co, &st);

	engine_finish(&e);
	struct inventory inv;
	struct analysis an;
	if (analysis_build(&an, &e, &st) && inventory_build(&inv, &an)) {
		const char *key = (cf & (CF_REDACT | CF_SHORT_IDLE)) == (CF_REDACT | CF_SHORT_IDLE) ? "k" : NULL;
		an.inputs = inputs;
		an.n_inputs = 1;
		if (cf & CF_REDACT)
			redact_inventory(&inv, key);
		struct report_ctx rc = { .out = devnull, .a = &an, .inv = &inv, .redact = cf & CF_REDACT, .redact_key = key };
		report_text(&rc);
		report_json(&rc);
		report_csv(&rc);
		report_ndjson(&rc);
		fflush(devnull);
		inventory_free(&inv);
	}
	analysis_free(&an);
	e.dpi = NULL;                      /* every flow ended in engine_finish: nothing uses it now */
	engine_free(&e);
	ndpi_reset_caches(dpi_module(shared_dpi));
	return 0;
}
