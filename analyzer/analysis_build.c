/*
 * analysis_build.c - the one place that turns an engine into an analysis
 * (analysis.h): it points at the engine's sorted records, computes each
 * record's findings and port-mapper link once, and copies the counters of
 * the registry, the time span and the capture status.  The engine must
 * outlive the analysis; nothing here changes a record.
 */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "findings.h"
#include "portmapper.h"

/* A port-mapper lookup leads to the next connection of that client to the answered port within this. */
#define LINK_WINDOW_US (120LL * 1000000)

static void link_mapper(struct flow_record *const *recs, size_t n, int64_t *links)
{
	for (size_t i = 0; i < n; i++)
		links[i] = -1;
	for (size_t i = 0; i < n; i++) {
		const struct flow_record *m = recs[i];
		if (!rec_pm(m) || !rec_pm(m)->reply_ok)
			continue;
		for (size_t j = i + 1; j < n; j++) {
			const struct flow_record *c = recs[j];
			if (c->start_us - m->start_us > LINK_WINDOW_US)
				break;
			if (c->sport == rec_pm(m)->port && links[j] < 0 && addr_eq(&c->cli, &m->cli) &&
			    addr_eq(&c->srv, &m->srv)) {
				links[i] = (int64_t)j;
				links[j] = (int64_t)i;
				break;
			}
		}
	}
}

static const struct capture_status no_status;

bool analysis_of_records(struct analysis *a, struct flow_record *const *recs, size_t n, int64_t end_us)
{
	memset(a, 0, sizeof *a);
	a->own_findings = malloc((n ? n : 1) * sizeof *a->own_findings);
	a->own_links = malloc((n ? n : 1) * sizeof *a->own_links);
	if (!a->own_findings || !a->own_links) {
		analysis_free(a);
		return false;
	}
	a->records = recs;
	a->n_records = n;
	a->last_us = end_us;
	for (size_t i = 0; i < n; i++)
		a->own_findings[i] = findings_for(recs[i], end_us);
	link_mapper(recs, n, a->own_links);
	a->findings = a->own_findings;
	a->links = a->own_links;
	a->st = &no_status;
	return true;
}

bool analysis_build(struct analysis *a, const struct engine *e, const struct capture_status *st)
{
	if (!analysis_of_records(a, e->records, e->n_records, e->last_us))
		return false;
	a->any_packet = e->any_packet;
	a->first_us = e->first_us;
	names_prepare(e->names);                 /* before the counters: it counts the DHCP links it made */
	struct engine_counters cnt = e->cnt;
	names_link_counts(e->names, &cnt.names);
	a->n_counters = counters_list(&cnt, e->svc->learned_dropped, a->counters);
	a->packets = e->cnt.packets;
	a->bytes = e->cnt.bytes;
	a->tcp_packets = e->cnt.tcp;
	a->st = st ? st : &no_status;
	a->names = e->names;
	a->folded = e->att;
	return true;
}

void analysis_free(struct analysis *a)
{
	free(a->own_findings);
	free(a->own_links);
	memset(a, 0, sizeof *a);
}

uint64_t analysis_counter(const struct analysis *a, const char *name)
{
	for (size_t i = 0; i < a->n_counters; i++)
		if (strcmp(a->counters[i].name, name) == 0)
			return a->counters[i].value;
	return 0;
}
