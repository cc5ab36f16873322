/*
 * counters.h - the registry of every counter a run keeps: its name in JSON
 * and CSV, what it means, and its value.  The writers walk this one list,
 * so a counter added here appears in every format (JSON capture.counters,
 * one CSV "counter" row each, the text report's counter lines) and a test
 * can check that it does.
 *
 * Input: the engine's counters and the catalogue's dropped-learned count.
 * Output: an ordered array of (name, group, meaning, value).
 */
#ifndef TLSREADY_COUNTERS_H
#define TLSREADY_COUNTERS_H

#include <stddef.h>
#include <stdint.h>


#define COUNTERS_MAX 128   /* counters.c checks at compile time that the registry fits */

struct counter {
	const char *name;          /* JSON key and CSV name */
	const char *group;         /* NULL, or the JSON object it sits in ("not_decoded") */
	const char *meaning;       /* one line, for docs and the text report */
	uint64_t value;
};

/* Every counter, in report order; returns how many were written to out[COUNTERS_MAX]. */
struct engine_counters;
size_t counters_list(const struct engine_counters *k, uint64_t learned_dropped, struct counter *out);

/* The same list with every value 0: the names and meanings, for counters read back from a store. */
size_t counters_names(struct counter *out);

#endif
