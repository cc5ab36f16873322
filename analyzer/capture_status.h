/*
 * capture_status.h - how reading the input went: the exit code it deserves,
 * the one-line error, warnings, link types, and libpcap's live counters.
 * Filled by capture.c (and workers.c); read by every writer, which must not
 * need the capture module itself to do so.
 */
#ifndef TLSREADY_CAPTURE_STATUS_H
#define TLSREADY_CAPTURE_STATUS_H

#include <stdbool.h>

#define CAPTURE_MAX_WARNINGS 32

struct capture_status {
	int exit_code;             /* 0, 1 (partial input), 2 (unreadable input / bad filter) */
	char error[512];           /* the one-line error for exit code 2 */
	char warnings[CAPTURE_MAX_WARNINGS][600];
	int n_warnings;
	char linktypes[8][32];     /* names of the link types read */
	int n_linktypes;
	/* live capture statistics (pcap_stats) */
	bool live;
	unsigned long long ps_recv, ps_drop, ps_ifdrop;
	/* received by libpcap (and not dropped) but not analysed when the capture stopped:
	 * what the drain at stop could not reach (capture_not_analysed) */
	unsigned long long not_analysed;
};

#endif
