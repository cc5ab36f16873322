/*
 * main.c - the command line: options in, a report and an exit code out.
 *
 *   tlsready [-r FILE]... [-i IFACE] [--server ADDR[/LEN]]... [--services FILE]
 *            [--format text|json|csv|ndjson] [-o FILE] [--fail-on-nonsecure]
 *            [--redact-users] [-q] [--version] [--help] [BPF expression]
 *   tlsready -i IFACE --db FILE [--interval SECS] [-Z USER] [-B MiB] [-p] ...   (monitor.c)
 *   tlsready --db FILE [--since WHEN] [--until WHEN] [--format text|json|csv]   (the stored state)
 *   tlsready -r FILE... --db FILE                                             (import.c)
 *   --db postgresql://... [--sensor NAME] [--queue FILE]: the shared store     (store_pg.c)
 *
 * Exit codes: 0 success; 1 an input was only partly readable; 2 usage
 * error or unreadable input; 3 --fail-on-nonsecure and nonsecure use found;
 * 6 an import of a file already imported; 4 a file to write refused (a symbolic link, a hard link, not a plain
 * file); 5 the monitor's state is held by another monitor.
 * Whatever was analysed before an error is still reported.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis.h"
#include "capture.h"
#include "counters.h"
#include "engine.h"
#include "fingerprints.h"
#include "import.h"
#include "inventory.h"
#include "monitor.h"
#include "redact.h"
#include "report.h"
#include "report_plan.h"
#include "spool.h"
#include "services.h"
#include "store.h"
#include "workers.h"

#define MAX_INPUTS 1024

enum { OPT_SERVER = 256, OPT_SERVICES, OPT_FORMAT, OPT_FAIL, OPT_REDACT, OPT_VERSION, OPT_HELP,
       OPT_NOPREFILTER, OPT_FINGERPRINTS, OPT_THREADS, OPT_MAXFLOWS, OPT_MAXATTEMPTS, OPT_IDLE, OPT_DEPTH, OPT_MEMCAP, OPT_RECORDS_MEMORY, OPT_NODPI, OPT_REDACT_KEY, OPT_REDACT_KEY_FILE, OPT_SHOW_FILTER, OPT_LIST_COUNTERS, OPT_PLAN, OPT_PLAN_DAYS, OPT_READY, OPT_COMPARE,
       OPT_DB, OPT_INTERVAL, OPT_RETAIN, OPT_SINCE, OPT_EVENTS, OPT_SYSLOG, OPT_REPORT_FILE, OPT_BACK_AFTER, OPT_UNTIL,
       OPT_REPORT_INTERVAL, OPT_SENSOR, OPT_QUEUE, OPT_QUEUE_MAX };

static const char usage_text[] =
"Usage: tlsready [options] [BPF expression]\n"
"Find IBM i clients that still use nonsecure host-server ports, and what TLS the others use.\n"
"\n"
"Input\n"
"  -r FILE              read a pcap or pcapng file; repeat for several files, read as one\n"
"                       timeline in the order given; '-' is standard input\n"
"                         tlsready -r monday.pcapng -r tuesday.pcapng\n"
"  -i IFACE             capture live on IFACE until SIGINT or SIGTERM, then report\n"
"                         tlsready -i eth1\n"
"  BPF expression       only packets matching it (ANDed with the prefilter)\n"
"                         tlsready -r day.pcap 'host 192.0.2.21'\n"
"  -B MiB               live capture buffer size (default: libpcap's, 2 MiB)\n"
"  -p                   do not put the interface in promiscuous mode\n"
"  --no-prefilter       do not restrict to the catalogue ports and --server addresses\n"
"  --show-filter        print the prefilter for Ethernet and exit\n"
"  --list-counters      print every counter a report carries (name, meaning) and exit\n"
"  --plan               print only the cutover plan (text or json); --format clp writes\n"
"                       the plan as a CL source member to review (tlsready runs nothing)\n"
"  --plan-days N        a door is ready after N days observed without nonsecure use (7)\n"
"  --ready DOOR         exit 3 unless DOOR is ready: a service (telnet, as-signon), a\n"
"                       port (23), host-servers (8470-8479) or all\n"
"\n"
"What to look for\n"
"  --server ADDR[/LEN]  an IBM i address or network (repeatable); all its TCP traffic is kept\n"
"                         tlsready -r day.pcap --server 192.0.2.10 --server 2001:db8::/64\n"
"  --services FILE      extend or replace the port catalogue (see tlsready(1), SERVICES FILE)\n"
"  --fingerprints FILE  more 'JA4-glob-or-JA3 NAME' lines naming client TLS stacks\n"
"                         tlsready -r day.pcap --services /etc/tlsready/services\n"
"\n"
"Output\n"
"  --format FMT         text (default), json, csv, ndjson, html (one self-contained page)\n"
"                       or clp (the cutover plan as a CL source member to review)\n"
"                         tlsready -r day.pcap --format json -o report.json\n"
"  -o FILE              write the report to FILE instead of standard output\n"
"  --redact-users       replace user profiles, device and host names, hardware addresses\n"
"                       and DHCP client ids by a keyed hash\n"
"  --redact-key-file FILE  the key of that hash: the file's first line (to compare\n"
"                       hashes across reports; default: a random key for this run)\n"
"  --redact-key KEY     the same, given on the command line (visible to other users)\n"
"  --fail-on-nonsecure  exit with 3 when any client used a nonsecure port (an upgrade\n"
"                       to TLS by FTP AUTH TLS, SMTP STARTTLS, POP3 STLS or LDAP StartTLS\n"
"                       before any credential is secure use)\n"
"                         tlsready -r day.pcap -q --fail-on-nonsecure || echo 'not ready'\n"
"  -q                   no progress line on standard error\n"
"\n"
"Monitoring (see tlsready(1), MONITORING)\n"
"  --db FILE            with -i: run until stopped, keeping the inventory in FILE (SQLite);\n"
"                       alone: print the report of the stored state, also while it runs;\n"
"                       with -r: add the capture files to the state (each file once)\n"
"                         tlsready -i eth1 --db /var/lib/tlsready/eth1.db -Z tlsready\n"
"                         tlsready --db /var/lib/tlsready/eth1.db --since 30d\n"
"  --interval SECS      checkpoint every SECS seconds (default 60): at most this is lost\n"
"  -Z USER              become USER once the capture is open (default: tlsready if it\n"
"                       exists, else nobody); -Z root keeps root\n"
"  --retain DURATION    keep flow records this long (default 30d; 0 keeps all); the\n"
"                       inventory is kept\n"
"  --since WHEN         with --db: the days from WHEN on, and \"new\" since WHEN\n"
"                       (default: every day; new since 7d). WHEN: a duration ago\n"
"                       (30s, 15m, 12h, 7d, 2w) or a UTC date (2026-11-25[T08:00:00Z])\n"
"  --until WHEN         with --db: the days up to WHEN\n"
"  --compare SINCE..UNTIL  with --db: compare the days of --since/--until with these\n"
"                       (e.g. --since 7d --compare 14d..7d): clients new on a nonsecure\n"
"                       port, moved to TLS, gone; services that became clean\n"
"  --events FILE        append NDJSON events: each finished flow and each new finding\n"
"  --syslog             send the findings to syslog too\n"
"  --back-after DURATION a client back on a nonsecure port after this long is a finding\n"
"                       (default 7d)\n"
"  --report-file FILE   the report of the state, rewritten after every checkpoint, on\n"
"                       SIGUSR1 and at the stop (replaced by a rename: readers never see\n"
"                       half of it); FILE.html the page, .json, .csv, else text\n"
"                       (without it SIGUSR1 writes the text report to standard error)\n"
"                         tlsready -i eth1 --db eth1.db --report-file /var/lib/tlsready/report.html\n"
"  --report-interval DURATION  rewrite --report-file at the first checkpoint this long\n"
"                       after the last write (default 0: every checkpoint)\n"
"\n"
"Shared store (see tlsready(1), SHARED STORE; docs/shared-store.md)\n"
"  --db CONNINFO        a PostgreSQL database instead of a file: postgresql://...,\n"
"                       postgres://... or \"host=... dbname=...\"; the password from\n"
"                       ~/.pgpass, PGPASSFILE or a service file (one in CONNINFO is refused)\n"
"  --sensor NAME        the sensor writing (default: the host name); on a report: read only\n"
"                       these sensors (repeatable; default: all, merged)\n"
"  --queue FILE         a sensor's checkpoints wait here while the database is away\n"
"                       (required with -i; replayed once when it is back)\n"
"  --queue-max SIZE     the queue's bound (default 256M); beyond it checkpoints are dropped\n"
"                       and counted (store_checkpoints_dropped)\n"
"  A sensor's --events findings compare with what every sensor stored (a client another\n"
"  sensor saw first is not new); --report-file is written by a thread of its own.\n"
"\n"
"Limits\n"
"  --max-flows N        connections tracked at once (default 1000000); the oldest is\n"
"                       evicted beyond it and counted\n"
"  --max-attempts N     attempt-only connections (no payload either way, as a SYN flood\n"
"                       makes) listed one by one (default 100000; 0: all); past it they\n"
"                       are counted per server, port and TCP outcome with an estimate of\n"
"                       their sources, so a flood costs bounded memory; an import keeps\n"
"                       N, a monitor N a UTC day, and stores the groups (--db)\n"
"  --idle-timeout SECS  a connection idle this long (capture time) ends (default 300)\n"
"  --depth BYTES        bytes inspected per direction (default 65536)\n"
"  --memcap SIZE        bytes of inspection state held at once: stream buffers and nDPI\n"
"                       state (default 32M; K, M, G suffixes); past it the connections\n"
"                       fed least recently lose their held data first, counted\n"
"  --records-memory SIZE  bytes of finished connections' records held in memory\n"
"                       (default 16M; a one-shot run, an import, a monitor's interval);\n"
"                       past it they are written, sorted, to an unnamed temporary file\n"
"                       in $TMPDIR (or /tmp) and read back, with the same result; 0:\n"
"                       from the first record\n"
"  --no-dpi             do not run nDPI\n"
"  --threads N          N worker threads, connections spread by a symmetric hash; the\n"
"                       report is the same as with one (default 1); with -i, N capture\n"
"                       sockets in one PACKET_FANOUT group\n"
"                         tlsready -r big.pcap --threads 2\n"
"\n"
"  --version            print the version\n"
"  --help               this text\n"
"\n"
"Exit status: 0 ok; 1 an input was only partly readable; 2 usage error or unreadable\n"
"input; 3 nonsecure use found with --fail-on-nonsecure; 4 a file to write is a symbolic\n"
"link, a hard link or not a plain file (refused); 5 another monitor holds --db.\n";

/* -o FILE: never through a symbolic link, created 0640 (reports name users);
 * an existing regular file with one link is truncated, /dev/null and FIFOs are fine.
 * NULL with *code set (EXIT_UNSAFE_FILE or 2) and one line said. */
static FILE *open_output(const char *path, int *code)
{
	char err[600];
	int fd;
	enum outfile_result r = outfile_open(path, OUTFILE_TRUNCATE | OUTFILE_SPECIAL_OK, 0640, &fd, NULL, err, sizeof err);
	FILE *f = r == OUTFILE_OK ? fdopen(fd, "w") : NULL;
	static char buf[256 * 1024];   /* one report file a run */
	if (f)   /* a report is megabytes: writes of 256 KiB, not of 4 KiB (stdio's default) */
		setvbuf(f, buf, _IOFBF, sizeof buf);
	if (!f) {
		if (r == OUTFILE_OK) {
			snprintf(err, sizeof err, "%s: cannot write: %s", path, strerror(errno));
			close(fd);
		}
		fprintf(stderr, "tlsready: %s\n", err);
		*code = r == OUTFILE_UNSAFE ? EXIT_UNSAFE_FILE : 2;
	}
	return f;
}

static void on_signal(int sig)
{
	(void)sig;
	capture_stop = 1;
}

/* 32 MiB of held inspection state keeps a whole run within the 64 MiB goal. */
#define DEFAULT_MEMCAP (32ull << 20)
#define DEFAULT_RECORDS_MEMORY (16ull << 20)

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "tlsready: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'tlsready --help'.\n");
	return 2;
}

static bool parse_u64(const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* A byte count with an optional K, M or G suffix (powers of 1024). */
static bool parse_size(const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return false;
	unsigned long long v = strtoull(s, &end, 10), mul = 1;
	if (end == s)
		return false;
	if (*end == 'K' || *end == 'k')
		mul = 1ull << 10, end++;
	else if (*end == 'M' || *end == 'm')
		mul = 1ull << 20, end++;
	else if (*end == 'G' || *end == 'g')
		mul = 1ull << 30, end++;
	if (*end || v > hi / mul || v * mul < lo)
		return false;
	*out = v * mul;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, 0, OPT_SERVER },
		{ "services", required_argument, 0, OPT_SERVICES },
		{ "format", required_argument, 0, OPT_FORMAT },
		{ "fail-on-nonsecure", no_argument, 0, OPT_FAIL },
		{ "redact-users", no_argument, 0, OPT_REDACT },
		{ "redact-key", required_argument, 0, OPT_REDACT_KEY },
		{ "redact-key-file", required_argument, 0, OPT_REDACT_KEY_FILE },
		{ "version", no_argument, 0, OPT_VERSION },
		{ "help", no_argument, 0, OPT_HELP },
		{ "no-prefilter", no_argument, 0, OPT_NOPREFILTER },
		{ "fingerprints", required_argument, 0, OPT_FINGERPRINTS },
		{ "threads", required_argument, 0, OPT_THREADS },
		{ "show-filter", no_argument, 0, OPT_SHOW_FILTER },
		{ "list-counters", no_argument, 0, OPT_LIST_COUNTERS },
		{ "plan", no_argument, 0, OPT_PLAN },
		{ "plan-days", required_argument, 0, OPT_PLAN_DAYS },
		{ "ready", required_argument, 0, OPT_READY },
		{ "compare", required_argument, 0, OPT_COMPARE },
		{ "max-flows", required_argument, 0, OPT_MAXFLOWS },
		{ "max-attempts", required_argument, 0, OPT_MAXATTEMPTS },
		{ "idle-timeout", required_argument, 0, OPT_IDLE },
		{ "depth", required_argument, 0, OPT_DEPTH },
		{ "memcap", required_argument, 0, OPT_MEMCAP },
		{ "records-memory", required_argument, 0, OPT_RECORDS_MEMORY },
		{ "no-dpi", no_argument, 0, OPT_NODPI },
		{ "db", required_argument, 0, OPT_DB },
		{ "interval", required_argument, 0, OPT_INTERVAL },
		{ "retain", required_argument, 0, OPT_RETAIN },
		{ "since", required_argument, 0, OPT_SINCE },
		{ "until", required_argument, 0, OPT_UNTIL },
		{ "events", required_argument, 0, OPT_EVENTS },
		{ "syslog", no_argument, 0, OPT_SYSLOG },
		{ "report-file", required_argument, 0, OPT_REPORT_FILE },
		{ "report-interval", required_argument, 0, OPT_REPORT_INTERVAL },
		{ "back-after", required_argument, 0, OPT_BACK_AFTER },
		{ "sensor", required_argument, 0, OPT_SENSOR },
		{ "queue", required_argument, 0, OPT_QUEUE },
		{ "queue-max", required_argument, 0, OPT_QUEUE_MAX },
		{ 0, 0, 0, 0 },
	};
	static const char *inputs[MAX_INPUTS];
	int n_inputs = 0;
	const char *iface = NULL, *services_file = NULL, *format = "text", *outfile = NULL, *redact_key = NULL;
	static char key_buf[REDACT_KEY_MAX];
	int redact_source = REDACT_KEY_RANDOM;
	bool plan_only = false;
	int64_t plan_days = 0;
	const char *ready_door = NULL, *compare_arg = NULL;
	bool fail_on_nonsecure = false, redact = false, quiet = false, no_prefilter = false, show_filter = false;
	int threads = 1;
	uint64_t max_attempts = ATTEMPTS_DEFAULT;   /* a run's, an import's, a monitor's UTC day's */
	struct engine_config cfg = { .max_flows = 1000000, .idle_timeout_us = 300LL * 1000000, .depth = 65536,
				     .memcap = DEFAULT_MEMCAP,
				     .records_memory = DEFAULT_RECORDS_MEMORY };
	unsigned long long v;
	int c;
	static struct monitor_opts mo = { .interval_s = MONITOR_DEFAULT_INTERVAL, .retain_us = MONITOR_DEFAULT_RETAIN,
					  .back_after_us = MONITOR_DEFAULT_BACK_AFTER };
	const char *since_arg = NULL, *until_arg = NULL;
	static struct store_config scfg;
	static char hostname[64];
	int buffer_mib = 0;
	bool promisc = true, monitor_only = false, report_interval_given = false;

	while ((c = getopt_long(argc, argv, "+r:i:o:qhVZ:B:p", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (n_inputs >= MAX_INPUTS)
				return usage_error("too many -r inputs (at most %s)", "1024");
			inputs[n_inputs++] = optarg;
			break;
		case 'i': iface = optarg; break;
		case 'o': outfile = optarg; break;
		case 'q': quiet = true; break;
		case OPT_SERVER:
			if (cfg.n_servers >= ENGINE_MAX_PREFIXES)
				return usage_error("too many --server options (at most %s)", "64");
			if (!addr_parse_prefix(optarg, &cfg.servers[cfg.n_servers].net, &cfg.servers[cfg.n_servers].len))
				return usage_error("--server: '%s' is not an address or ADDR/LEN", optarg);
			cfg.n_servers++;
			break;
		case OPT_SERVICES: services_file = optarg; break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") && strcmp(optarg, "json") && strcmp(optarg, "csv") && strcmp(optarg, "ndjson") &&
			    strcmp(optarg, "clp") && strcmp(optarg, "html"))
				return usage_error("--format: '%s' is not text, json, csv, ndjson, html or clp", optarg);
			format = optarg;
			break;
		case OPT_FAIL: fail_on_nonsecure = true; break;
		case OPT_PLAN: plan_only = true; break;
		case OPT_PLAN_DAYS:
			if (!parse_u64(optarg, 1, 3650, &v))
				return usage_error("--plan-days: '%s' is not a number of days from 1 to 3650", optarg);
			plan_days = (int64_t)v;
			break;
		case OPT_READY: ready_door = optarg; break;
		case OPT_COMPARE: compare_arg = optarg; break;
		case OPT_REDACT: redact = true; break;
		case OPT_REDACT_KEY: redact_key = optarg; redact = true; redact_source = REDACT_KEY_GIVEN; break;
		case OPT_REDACT_KEY_FILE: {
			char kerr[600];
			if (!redact_key_from_file(optarg, key_buf, sizeof key_buf, kerr, sizeof kerr)) {
				fprintf(stderr, "tlsready: %s\n", kerr);
				return 2;
			}
			redact_key = key_buf;
			redact = true;
			redact_source = REDACT_KEY_FILE;
			break;
		}
		case OPT_NOPREFILTER: no_prefilter = true; break;
		case OPT_THREADS:
			if (!parse_u64(optarg, 1, WORKERS_MAX, &v))
				return usage_error("--threads: '%s' is not a number from 1 to 64", optarg);
			threads = (int)v;
			break;
		case OPT_FINGERPRINTS: {
			char ferr[512];
			if (!fingerprints_load(optarg, ferr, sizeof ferr)) {
				fprintf(stderr, "tlsready: %s\n", ferr);
				return 2;
			}
			break;
		}
		case OPT_SHOW_FILTER: show_filter = true; break;
		case OPT_LIST_COUNTERS: {
			struct counter cs[COUNTERS_MAX];
			size_t n = counters_names(cs);
			for (size_t i = 0; i < n; i++)
				printf("%s%s%s\t%s\n", cs[i].group ? cs[i].group : "", cs[i].group ? "." : "", cs[i].name,
				       cs[i].meaning);
			return 0;
		}
		case OPT_MAXFLOWS:
			if (!parse_u64(optarg, 1, 100000000, &v))
				return usage_error("--max-flows: '%s' is not a number from 1 to 100000000", optarg);
			cfg.max_flows = (uint32_t)v;
			break;
		case OPT_MAXATTEMPTS:
			if (!parse_u64(optarg, 0, 1000000000, &v))
				return usage_error("--max-attempts: '%s' is not a number from 0 to 1000000000", optarg);
			max_attempts = v;
			break;
		case OPT_IDLE:
			if (!parse_u64(optarg, 1, 86400 * 30, &v))
				return usage_error("--idle-timeout: '%s' is not a number of seconds (1 to 2592000)", optarg);
			cfg.idle_timeout_us = (int64_t)v * 1000000;
			break;
		case OPT_DEPTH:
			if (!parse_u64(optarg, 64, 16u << 20, &v))
				return usage_error("--depth: '%s' is not a number of bytes (64 to 16777216)", optarg);
			cfg.depth = (uint32_t)v;
			break;
		case OPT_MEMCAP:
			if (!parse_size(optarg, 1u << 20, 1ull << 40, &v))
				return usage_error("--memcap: '%s' is not a size from 1M to 1024G (K, M, G suffixes)", optarg);
			cfg.memcap = v;
			break;
		case OPT_RECORDS_MEMORY:
			if (!parse_size(optarg, 0, 1ull << 40, &v))
				return usage_error("--records-memory: '%s' is not a size from 0 to 1024G (K, M, G suffixes)",
						   optarg);
			cfg.records_memory = v;
			break;
		case OPT_NODPI: cfg.no_dpi = true; break;
		case 'Z': mo.user = optarg; monitor_only = true; break;
		case 'p': promisc = false; break;
		case 'B':
			if (!parse_u64(optarg, 1, 4096, &v))
				return usage_error("-B: '%s' is not a number of MiB (1 to 4096)", optarg);
			buffer_mib = (int)v;
			break;
		case OPT_DB: mo.db = optarg; break;
		case OPT_INTERVAL:
			if (!parse_u64(optarg, 1, 86400, &v))
				return usage_error("--interval: '%s' is not a number of seconds (1 to 86400)", optarg);
			mo.interval_s = (int)v;
			monitor_only = true;
			break;
		case OPT_RETAIN:
			if (strcmp(optarg, "0") != 0 && !monitor_parse_duration(optarg, &mo.retain_us))
				return usage_error("--retain: '%s' is not a duration (30s, 15m, 12h, 7d, 2w) or 0", optarg);
			if (strcmp(optarg, "0") == 0)
				mo.retain_us = 0;
			monitor_only = true;
			break;
		case OPT_SINCE:
			since_arg = optarg;
			break;
		case OPT_UNTIL:
			until_arg = optarg;
			break;
		case OPT_SENSOR:
			if (!store_sensor_name_ok(optarg))
				return usage_error("--sensor: '%s' is not a sensor name (1 to 63 of A-Z a-z 0-9 . _ -)", optarg);
			if (scfg.n_sensors == STORE_MAX_SENSORS)
				return usage_error("%s", "--sensor: at most 32 sensors");
			scfg.sensors[scfg.n_sensors++] = optarg;
			break;
		case OPT_QUEUE: scfg.queue = optarg; break;
		case OPT_QUEUE_MAX:
			if (!parse_size(optarg, 1ull << 16, 1ull << 40, &v))
				return usage_error("--queue-max: '%s' is not a size (64K to 1T, e.g. 256M)", optarg);
			scfg.queue_max_bytes = v;
			break;
		case OPT_BACK_AFTER:
			if (!monitor_parse_duration(optarg, &mo.back_after_us))
				return usage_error("--back-after: '%s' is not a duration (30s, 15m, 12h, 7d, 2w)", optarg);
			monitor_only = true;
			break;
		case OPT_EVENTS: mo.events_file = optarg; monitor_only = true; break;
		case OPT_SYSLOG: mo.use_syslog = true; monitor_only = true; break;
		case OPT_REPORT_FILE: mo.report_file = optarg; monitor_only = true; break;
		case OPT_REPORT_INTERVAL:
			if (strcmp(optarg, "0") != 0 && !monitor_parse_duration(optarg, &mo.report_every_us))
				return usage_error("--report-interval: '%s' is not a duration (30s, 15m, 12h, 7d, 2w) or 0",
						   optarg);
			if (strcmp(optarg, "0") == 0)
				mo.report_every_us = 0;
			report_interval_given = true;
			monitor_only = true;
			break;
		case OPT_VERSION: printf("tlsready %s\n", TLSREADY_VERSION); return 0;
		case 'h':
		case OPT_HELP: fputs(usage_text, stdout); return 0;
		default: fprintf(stderr, "Try 'tlsready --help'.\n"); return 2;
		}
	}
	/* the rest of the command line is the BPF expression, as with tcpdump */
	static char user_filter[8192];
	size_t o = 0;
	for (int i = optind; i < argc; i++) {
		int n = snprintf(user_filter + o, sizeof user_filter - o, "%s%s", i > optind ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof user_filter - o)
			return usage_error("%s", "the filter expression is too long");
		o += (size_t)n;
	}

	static struct services svc;
	services_init(&svc);
	if (services_file) {
		char err[512];
		if (!services_load(&svc, services_file, err, sizeof err)) {
			fprintf(stderr, "tlsready: %s\n", err);
			return 2;
		}
	}
	static struct engine e;
	char err[512];
	if (show_filter) {
		e.svc = &svc;
		e.cfg = cfg;
		static char buf[32768];
		capture_prefilter(&e, 1, buf, sizeof buf);
		printf("%s\n", buf);
		return 0;
	}
	if (redact && !redact_key) {
		/* the monitor's state keeps hashes for weeks: they must stay comparable */
		if (mo.db)
			return usage_error("%s", "--redact-users with --db needs --redact-key-file FILE (or --redact-key)");
		if (!redact_key_random(key_buf, sizeof key_buf)) {
			fprintf(stderr, "tlsready: no random key for --redact-users: %m\n");
			return 2;
		}
		redact_key = key_buf;
	}
	if (mo.db && n_inputs && iface)
		return usage_error("%s", "-r and -i cannot be used together");
	if ((scfg.n_sensors || scfg.queue || scfg.queue_max_bytes) && !store_is_shared(mo.db))
		return usage_error("%s", "--sensor, --queue and --queue-max need --db with a PostgreSQL database");
	if (scfg.n_sensors > 1 && (n_inputs || iface))
		return usage_error("%s", "a sensor writes under one --sensor name");
	if (store_is_shared(mo.db)) {
		/* the writer's name: --sensor, or the host name; a report reads the --sensor ones, or all */
		if (scfg.n_sensors && (n_inputs || iface)) {
			scfg.sensor = scfg.sensors[0];
			scfg.n_sensors = 0;
		} else if (n_inputs || iface) {
			if (gethostname(hostname, sizeof hostname - 1) != 0 || !store_sensor_name_ok(hostname))
				return usage_error("%s", "the host name is not a sensor name: give --sensor NAME");
			scfg.sensor = hostname;
		}
		if (iface && !scfg.queue)
			return usage_error("%s", "a sensor writing to PostgreSQL needs --queue FILE (its local queue on disk)");
		if (!iface)
			scfg.queue = NULL;
		store_configure(&scfg);
	}
	cfg.max_attempts = max_attempts;
	if (mo.db && n_inputs) {
		if (n_inputs > IMPORT_MAX_FILES)
			return usage_error("%s", "too many -r inputs for one import");
		if (!engine_init(&e, &cfg, &svc, err, sizeof err)) {   /* checks the configuration, as a run would */
			fprintf(stderr, "tlsready: %s\n", err);
			return 2;
		}
		engine_free(&e);
		struct import_opts io = { .db = mo.db, .paths = inputs, .n_paths = n_inputs, .cfg = cfg, .svc = &svc,
					  .co = { .user_filter = o ? user_filter : NULL, .no_prefilter = no_prefilter }, .redact = redact,
					  .redact_key = redact_key, .quiet = quiet };
		return import_run(&io);
	}
	if (mo.db && !iface) {
		if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "clp") &&
		    strcmp(format, "html"))
			return usage_error("--format: '%s': the stored state's report is text, json, csv, html or clp", format);
		if (o)
			return usage_error("%s", "a BPF expression needs -i IFACE");
		FILE *rout = stdout;
		int ocode;
		if (outfile && !(rout = open_output(outfile, &ocode)))
			return ocode;
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		int64_t now_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
		struct monitor_report_opts ro = { .db = mo.db, .format = format, .now_us = now_us, .plan_days = plan_days,
						  .plan_only = plan_only, .ready_door = ready_door,
						  .new_since_us = now_us - MONITOR_DEFAULT_SINCE, .new_len_us = MONITOR_DEFAULT_SINCE,
						  .fail_on_nonsecure = fail_on_nonsecure };
		if (since_arg && !monitor_parse_when(since_arg, now_us, &ro.since_us))
			return usage_error("--since: '%s' is not a duration (30s, 15m, 12h, 7d, 2w) or a UTC date"
					   " (2026-11-25 or 2026-11-25T08:00:00Z)", since_arg);
		if (until_arg && !monitor_parse_when(until_arg, now_us, &ro.until_us))
			return usage_error("--until: '%s' is not a duration (30s, 15m, 12h, 7d, 2w) or a UTC date"
					   " (2026-11-25 or 2026-11-25T08:00:00Z)", until_arg);
		if (ro.since_us && ro.until_us && ro.until_us <= ro.since_us)
			return usage_error("%s", "--until must be later than --since");
		if (since_arg) {
			ro.new_since_us = ro.since_us;
			ro.new_len_us = now_us - ro.since_us;
		}
		if (compare_arg) {   /* SINCE..UNTIL, either side may be empty */
			char a[64], b[64];
			const char *dots = strstr(compare_arg, "..");
			size_t la = dots ? (size_t)(dots - compare_arg) : 0;
			if (!dots || la >= sizeof a || strlen(dots + 2) >= sizeof b)
				return usage_error("--compare: '%s' is not SINCE..UNTIL (e.g. 14d..7d, 2026-11-16..2026-11-23)",
						   compare_arg);
			memcpy(a, compare_arg, la);
			a[la] = '\0';
			snprintf(b, sizeof b, "%s", dots + 2);
			if ((a[0] && !monitor_parse_when(a, now_us, &ro.compare_since_us)) ||
			    (b[0] && !monitor_parse_when(b, now_us, &ro.compare_until_us)))
				return usage_error("--compare: '%s' is not SINCE..UNTIL (e.g. 14d..7d, 2026-11-16..2026-11-23)",
						   compare_arg);
			if (ro.compare_since_us && ro.compare_until_us && ro.compare_until_us <= ro.compare_since_us)
				return usage_error("%s", "--compare: UNTIL must be later than SINCE");
			ro.compare = true;
		}
		int rc = monitor_report(&ro, rout);
		if (rout != stdout && fclose(rout) != 0 && rc != 2) {
			fprintf(stderr, "tlsready: %s: write failed\n", outfile);
			rc = 2;
		}
		return rc;
	}
	if (report_interval_given && !mo.report_file)
		return usage_error("%s", "--report-interval needs --report-file FILE");
	if (mo.db) {
		mo.services_file = services_file;
		mo.redact = redact;
		mo.redact_key = redact_key;
		mo.cfg = cfg;
		mo.co = (struct capture_opts){ .user_filter = o ? user_filter : NULL, .no_prefilter = no_prefilter,
					       .iface = iface, .buffer_mib = buffer_mib, .promisc = promisc };
		return monitor_run(&mo);
	}
	if ((compare_arg || until_arg) && !mo.db)
		return usage_error("%s", "--compare and --until need --db FILE (the stored state)");
	if (monitor_only)
		return usage_error("%s", "-Z, --interval, --retain, --events, --syslog, --back-after, --report-file "
				   "and --report-interval need --db FILE (the monitor)");
	if (n_inputs == 0 && !iface)
		return usage_error("%s", "nothing to read: give -r FILE or -i IFACE");
	if (n_inputs && iface)
		return usage_error("%s", "-r and -i cannot be used together");
	cfg.spool_records = true;
	if (!engine_init(&e, &cfg, &svc, err, sizeof err)) {
		fprintf(stderr, "tlsready: %s\n", err);
		return 2;
	}
	struct workers *ws = NULL;   /* --threads N offline: the capture's sink */
	if (threads > 1 && !iface && !(ws = workers_start(&e, threads, err, sizeof err))) {
		fprintf(stderr, "tlsready: %s\n", err);
		engine_free(&e);
		return 2;
	}
	FILE *out = stdout;
	int ocode;
	if (outfile && !(out = open_output(outfile, &ocode))) {
		engine_free(&e);
		return ocode;
	}

	struct capture_opts co = {
		.user_filter = o ? user_filter : NULL,
		.no_prefilter = no_prefilter,
		.progress = !quiet && isatty(STDERR_FILENO),
		.iface = iface,
		.buffer_mib = buffer_mib,
		.promisc = promisc,
	};
	static struct capture_status st;
	if (iface) {
		struct sigaction sa = { .sa_handler = on_signal };
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		if (threads > 1)
			workers_live(&e, threads, &co, &st);   /* N sockets in a fanout group */
		else
			capture_live(&e, capture_engine_sink(&e), &co, &st);
	} else {
		capture_files(&e, ws ? workers_sink(ws) : capture_engine_sink(&e), inputs, n_inputs, &co, &st);
	}
	if (st.exit_code == 2)
		fprintf(stderr, "tlsready: %s\n", st.error);
	for (int i = 0; i < st.n_warnings; i++)
		fprintf(stderr, "tlsready: warning: %s\n", st.warnings[i]);

	if (ws)
		workers_finish(ws);
	engine_finish(&e);
	engine_release_flows(&e);
	spool_say(e.spool, quiet);
	struct analysis an;
	struct inventory inv;
	if (!analysis_build(&an, &e, &st) || !inventory_build(&inv, &an)) {
		fprintf(stderr, "tlsready: out of memory building the inventory\n");
		return 2;
	}
	an.inputs = inputs;
	an.n_inputs = n_inputs;
	an.iface = iface;
	if (redact)
		redact_inventory(&inv, redact_key);
	struct report_ctx rc = { .out = out, .a = &an, .inv = &inv, .redact = redact, .redact_key = redact_key,
				 .redact_source = redact_source, .plan_days = plan_days, .plan_only = plan_only };
	int gate = report_write(&rc, format, ready_door);
	int code = st.exit_code;
	if (analysis_error(&an)) {
		fprintf(stderr, "tlsready: %s: the report is incomplete\n", analysis_error(&an));
		code = 2;
	}
	if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
		fprintf(stderr, "tlsready: %s: write failed\n", outfile ? outfile : "standard output");
		code = 2;
	}
	if (code == 0 && fail_on_nonsecure && inv.nonsecure_clients > 0)
		code = 3;
	if (code == 0 && gate)
		code = gate;
	inventory_free(&inv);
	analysis_free(&an);
	engine_free(&e);
	return code;
}
