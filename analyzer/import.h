/*
 * import.h - capture files into the monitor's state: `tlsready -r FILE...
 * --db STATE` adds what the files show to the state, as the live monitor
 * would have (the same per-day inventory rows, flow records and counters),
 * in one transaction.  Records past --records-memory wait in a temporary
 * file (spool.h) until that transaction reads them back.
 *
 * In: the files (read as one timeline, in the order given), the engine's
 * configuration and catalogue, the redaction key.  Out: the state file, and
 * one line on standard error saying what was added.  A file is known by the
 * SHA-256 of its bytes: a file imported before is refused (with when and
 * under which name), and then nothing of this run is added.
 */
#ifndef TLSREADY_IMPORT_H
#define TLSREADY_IMPORT_H

#include <stdbool.h>

#include "capture.h"
#include "engine.h"

#define IMPORT_MAX_FILES 1024
/* Exit status when a file was imported before: nothing was added. */
#define EXIT_ALREADY_IMPORTED 6

struct import_opts {
	const char *db;
	const char *const *paths;
	int n_paths;
	struct engine_config cfg;
	struct services *svc;
	struct capture_opts co;
	bool redact;
	const char *redact_key;
	bool quiet;
};

/* Returns 0, 1 (a file was cut short: what was read is added), 2 (a file or the state cannot be
 * used: nothing added), 4/5 as the monitor (an unsafe state file, one in use), or
 * EXIT_ALREADY_IMPORTED. */
int import_run(const struct import_opts *o);

#endif
