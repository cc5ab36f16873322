/*
 * tests/bench/floor.c - the benchmark's libpcap floor: the cheapest possible
 * reader, a bare pcap_next_ex loop that touches nothing but the record
 * headers, reading the file through the same 256 KiB buffer tlsready gives
 * libpcap (analyzer/capture_stream.c; stdio's default, 4 KiB a read, costs
 * this loop about half its time in system calls).  tlsready's speed is
 * reported as a ratio to this.
 *
 * In:  floor FILE [BPF]   (a pcap or pcapng file; optional BPF filter)
 * Out: one line on standard output: "packets N bytes N" (captured bytes);
 *      exit 0, or 2 with a message on standard error when FILE is unreadable.
 * Built by tests/bench/run.sh with: gcc -O2 floor.c -lpcap
 */
#include <pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: floor FILE [BPF]\n");
		return 2;
	}
	static char buf[256 * 1024];
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	setvbuf(f, buf, _IOFBF, sizeof buf);
	pcap_t *p = pcap_fopen_offline(f, err);
	if (!p) {
		fprintf(stderr, "floor: %s\n", err);
		return 2;
	}
	if (argc == 3) {
		struct bpf_program prog;
		if (pcap_compile(p, &prog, argv[2], 1, PCAP_NETMASK_UNKNOWN) != 0 || pcap_setfilter(p, &prog) != 0) {
			fprintf(stderr, "floor: %s\n", pcap_geterr(p));
			return 2;
		}
		pcap_freecode(&prog);
	}
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t pkts = 0, bytes = 0;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {   /* ends at end of file (-2) or error (-1) */
		pkts++;
		bytes += h->caplen;
	}
	if (rc == -1)
		fprintf(stderr, "floor: %s\n", pcap_geterr(p));
	printf("packets %llu bytes %llu\n", (unsigned long long)pkts, (unsigned long long)bytes);
	pcap_close(p);
	return rc == -1 ? 1 : 0;
}
