/*
 * names_dump.c - BUILD/tlsready-names-dump (make unit), for test_names_corpus.py:
 * every host name a capture's name packets give, as tlsready's own decoder
 * and names.c read them, one "source<TAB>address<TAB>name" line each (sorted
 * by address), then the name counters on standard error.  A test tool: the
 * report shows names only on client rows, this shows all of them.
 *
 * In: one capture file (libpcap).  Out: standard output and error; exit 2 when
 * the file cannot be read.
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>

#include "decode.h"
#include "names.h"

int main(int argc, char **argv)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *p = argc == 2 ? pcap_open_offline(argv[1], eb) : NULL;
	if (!p) {
		fprintf(stderr, "usage: tlsready-names-dump CAPTURE\n");
		return 2;
	}
	int dlt = pcap_datalink(p);
	struct pcap_pkthdr *h;
	const u_char *d;
	struct names *t = NULL;
	struct name_counters k = { 0 };
	while (pcap_next_ex(p, &h, &d) == 1) {
		struct packet pk;
		pk.ts_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
		if (decode_frame(dlt, d, h->caplen, &pk) == DEC_NON_TCP && pk.udp_name)
			names_udp(&t, 1, 2, &pk, &k);
	}
	pcap_close(p);
	names_prepare(t);
	for (size_t i = 0; t && i < t->n; i++) {
		char a[ADDR_STRLEN];
		printf("%s\t%s\t%s\n", name_source_name((enum name_source)t->v[i].source), addr_str(&t->v[i].ip, a),
		       t->v[i].name);
	}
	fprintf(stderr, "name_packets %" PRIu64 " malformed %" PRIu64 " cut %" PRIu64 " table_full %" PRIu64 "\n",
		k.packets, k.malformed, k.names_cut, k.table_full);
	names_free(t);
	return 0;
}
