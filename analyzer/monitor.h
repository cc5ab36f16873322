/*
 * monitor.h - continuous passive monitoring: `tlsready -i IFACE --db FILE`
 * runs for days, and `tlsready --db FILE` reports from what it stored.
 *
 * In: packets from a live interface (capture.c), the options below.  Out:
 * the state file (store.c) written at every checkpoint, NDJSON events and
 * syslog messages (events.c), and the report of the stored state: from the
 * command line, on SIGUSR1 while running, and with --report-file rewritten
 * as a whole (a rename) at every checkpoint or --report-interval.
 */
#ifndef TLSREADY_MONITOR_H
#define TLSREADY_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "engine.h"
#include "outfile.h"   /* EXIT_UNSAFE_FILE, beside EXIT_STATE_IN_USE below */

#define MONITOR_DEFAULT_INTERVAL 60
#define MONITOR_DEFAULT_RETAIN (30LL * 86400 * 1000000)
#define MONITOR_DEFAULT_BACK_AFTER (7LL * 86400 * 1000000)
#define MONITOR_DEFAULT_SINCE (7LL * 86400 * 1000000)
/* Exit status of a monitor refused because another one holds the state's lock
 * (4, a file refused as unsafe, is EXIT_UNSAFE_FILE in outfile.h). */
#define EXIT_STATE_IN_USE 5

struct monitor_opts {
	const char *db;
	const char *services_file;     /* re-read on SIGHUP */
	const char *events_file;       /* reopened on SIGHUP */
	bool use_syslog;
	const char *report_file;       /* the report, rewritten at checkpoints and the stop, and on SIGUSR1
	                                  (without it SIGUSR1 writes the text report to standard error) */
	int64_t report_every_us;       /* rewrite --report-file at the first checkpoint this long after the
	                                  last write; 0: at every checkpoint */
	const char *user;              /* -Z; NULL: "tlsready" if it exists, else "nobody" */
	int interval_s;
	int64_t retain_us;             /* 0: keep every flow record */
	int64_t back_after_us;
	bool redact;
	const char *redact_key;
	struct engine_config cfg;
	struct capture_opts co;        /* co.iface is the interface */
};

/* Run until SIGTERM or SIGINT; returns the exit code (0, 1 capture failed, 2 cannot start,
 * 4 a file to write refused as unsafe, 5 another monitor holds the state). */
int monitor_run(const struct monitor_opts *o);

struct monitor_report_opts {
	const char *db;
	const char *format;            /* "text", "json" or "csv" */
	int64_t now_us;                /* wall clock */
	int64_t since_us, until_us;    /* the window of days shown; 0: unbounded */
	int64_t new_since_us, new_len_us;   /* "new" means a first nonsecure use since then */
	bool fail_on_nonsecure;
	int64_t plan_days;
	bool plan_only;
	const char *ready_door;
	bool compare;                  /* compare the window with [compare_since_us, compare_until_us) */
	int64_t compare_since_us, compare_until_us;   /* 0: unbounded */
};

/* The report of the stored state: the one-shot report's writers over the inventory of the window,
 * with the state section.  Returns 0, 2 (the file: one line on stderr), or 3 with
 * fail_on_nonsecure when a client used a nonsecure port in the window. */
int monitor_report(const struct monitor_report_opts *o, FILE *out);

/* "30s", "15m", "12h", "7d", "2w" (a bare number is seconds) into microseconds. */
bool monitor_parse_duration(const char *s, int64_t *us);

/* A time for --since/--until: a duration ago ("7d") or a UTC date "2026-11-25", "2026-11-25T08:00:00Z". */
bool monitor_parse_when(const char *s, int64_t now_us, int64_t *us);

#endif
