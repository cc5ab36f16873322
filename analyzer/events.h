/*
 * events.h - what the monitor tells other tools, as it happens.
 *
 * In: each finished flow (the JSON object of the report contract, from the
 * store's checkpoint) and each new finding (struct store_finding).  Out:
 * NDJSON lines appended to the --events file ({"type":"flow",...} and
 * {"type":"finding",...}, docs/schema.md), and with --syslog one syslog(3)
 * message per finding.  The file is reopened on SIGHUP (log rotation).
 * It is created 0640 and never opened through a symbolic link (outfile.h).
 */
#ifndef TLSREADY_EVENTS_H
#define TLSREADY_EVENTS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "store.h"

struct events {
	FILE *f;
	const char *path;          /* NULL: no events file */
	bool use_syslog;
	unsigned long long lines, errors;
	bool unsafe;               /* the last open was refused: a link, or not a plain file */
};

bool events_open(struct events *ev, const char *path, bool use_syslog, char *err, size_t errlen);
/* Close and open the file again (after it was rotated); false with err on failure. */
bool events_reopen(struct events *ev, char *err, size_t errlen);
bool events_chown(struct events *ev, uid_t uid, gid_t gid, char *err, size_t errlen);
void events_flow(struct events *ev, const char *flow_json);
void events_finding(struct events *ev, const struct store_finding *f);
/* Push the lines out (end of a checkpoint); false if writing failed. */
bool events_flush(struct events *ev);
void events_close(struct events *ev);

#endif
