/*
 * counters.c - the counter registry (see counters.h).  The order here is
 * the order of the JSON capture.counters object, which is part of the
 * report contract: add new counters at the end.
 */
#include "counters.h"

#include <stddef.h>
#include <string.h>

#include "engine.h"

#define ENGINE(f) offsetof(struct engine_counters, f)

static const struct {
	const char *name, *meaning;
	size_t offset;
} defs[] = {
	{ "ip_first_fragments", "first IP fragments decoded (later fragments are counted as not decoded)",
	  ENGINE(ip_fragments) },
	{ "connections", "TCP connections seen", ENGINE(flows) },
	{ "connections_reported", "connections reported (catalogued, IBM i bytes, or a --server address)",
	  ENGINE(flows_reported) },
	{ "connections_other", "connections not to an IBM i service: counted only", ENGINE(flows_other) },
	{ "connections_midstream", "connections whose start was not captured", ENGINE(flows_midstream) },
	{ "flows_evicted", "connections ended early by the --max-flows cap", ENGINE(flows_evicted) },
	{ "flows_idle_timeout", "connections ended by the idle timeout", ENGINE(flows_idle) },
	{ "flows_port_reused", "connections ended by a new SYN on the same addresses and ports",
	  ENGINE(flows_reused) },
	{ "flows_open_at_end", "connections still open at the end of the input", ENGINE(flows_open) },
	{ "flows_not_tracked", "connections not tracked for lack of memory", ENGINE(alloc_failures) },
	{ "stream_retransmitted", "segments already held: ignored", ENGINE(stream.retransmitted) },
	{ "stream_out_of_order", "segments held until a hole filled", ENGINE(stream.out_of_order) },
	{ "stream_out_of_order_dropped", "out-of-order segments beyond the held-range bound",
	  ENGINE(stream.ooo_dropped) },
	{ "stream_gaps", "holes the capture never filled", ENGINE(stream.gaps) },
	{ "streams_truncated", "directions that reached the inspection depth", ENGINE(stream.truncated) },
	{ "segments_cut_by_snaplen", "segments whose payload the snap length cut", ENGINE(stream.snaplen_cut) },
	{ NULL, "port-mapper answers not learned: the learned-port table was full", 0 },
	{ "server_set_full", "IBM i addresses not remembered: the address set was full", ENGINE(server_set_full) },
	{ "stream_overlap_conflicts", "segments whose bytes differ from another copy of the same bytes",
	  ENGINE(stream.overlap_conflicts) },
	{ "overlap_conflict_connections", "connections with such a conflict (flagged: stream-overlap-conflict)",
	  ENGINE(overlap_conflict_flows) },
	{ "memcap_inspections_ended", "connections whose held data was dropped to stay under --memcap",
	  ENGINE(memcap_inspections_ended) },
	{ "memcap_bytes_released", "bytes those connections held", ENGINE(memcap_bytes_released) },
	{ "memcap_not_inspected", "connections not inspected: no room under --memcap", ENGINE(memcap_not_inspected) },
	{ "memcap_directions_refused", "stream directions stopped: no room under --memcap",
	  ENGINE(stream.memcap_refused) },
	{ "tls_certificates_over_cap", "server Certificate messages longer than the 64 KiB handshake cap: not parsed",
	  ENGINE(tls_cert_over_cap) },
	{ "late_segments", "segments of connections that had closed (a resent FIN, RST, ACK or SYN): no new connection",
	  ENGINE(late_segments) },
	{ "capture_file_dropped", "packets the capture files' own statistics say their capturer dropped (pcapng"
	  " interface statistics: isb_ifdrop + isb_osdrop)", ENGINE(file_dropped) },
	{ "capture_file_stats_skipped", "pcapng statistics blocks not read (over 64 KiB, an interface number of 64"
	  " or more, or malformed)", ENGINE(file_stats_skipped) },
	{ "store_checkpoints_dropped", "checkpoints the shared store's local queue could not hold or the database refused:"
	  " dropped", ENGINE(store_dropped) },
	{ "store_findings_skipped", "checkpoints of a sensor on the shared store whose events findings were not"
	  " computed (not queued, over 64 waiting for the database, or applied by an earlier run)",
	  ENGINE(store_findings_skipped) },
	{ "name_packets", "UDP packets of the name protocols read (DNS, DHCP, DHCPv6, NetBIOS, mDNS, LLMNR)",
	  ENGINE(names.packets) },
	{ "name_packets_malformed", "of those, messages that did not parse to their end (what came before was kept)",
	  ENGINE(names.malformed) },
	{ "host_names_cut", "host names longer than kept (95 characters; DHCP 63): cut", ENGINE(names.names_cut) },
	{ "host_names_table_full", "host names not kept: the name table was at its memory cap", ENGINE(names.table_full) },
	{ "dhcp_table_full", "DHCP hosts or leases not kept: the name table was at its memory cap",
	  ENGINE(names.dhcp_full) },
	{ "dhcp_ids_cut", "DHCP client identifiers and DHCPv6 DUIDs longer than 32 bytes: the first 32 kept (the host's key)",
	  ENGINE(names.dhcp_ids_cut) },
	{ "dhcp6_addresses_skipped", "DHCPv6 messages with more than 4 IA Addresses: the others not read",
	  ENGINE(names.dhcp6_addrs_skipped) },
	{ "attempt_records_folded", "attempt-only connections (no payload either way) past --max-attempts: folded into"
	  " per-server groups, not listed", ENGINE(attempts_folded) },
	{ "attempt_groups_full", "of those, connections in no group: the group table was at its memory cap",
	  ENGINE(attempt_groups_full) },
	{ "dhcp6_relayed", "DHCPv6 messages read inside Relay-Forward / Relay-Reply messages (RFC 8415 9)",
	  ENGINE(names.dhcp6_relayed) },
	{ "dhcp6_relays_too_deep", "DHCPv6 relay messages nested more than 8 deep (HOP_COUNT_LIMIT): the message"
	  " inside not read", ENGINE(names.dhcp6_relays_deep) },
	{ "dhcp6_prefixes_delegated", "IA Prefix options of IA_PD in DHCPv6 Replies: prefixes delegated to routers,"
	  " not taken as host addresses", ENGINE(names.dhcp6_prefixes) },
	{ "dhcp_hosts_linked", "DHCPv6 hosts (DUIDs) linked to a DHCPv4 host (RFC 4361 client identifier, DUID-LLT or"
	  " DUID-LL link-layer address, Ethernet source on the client's link): one client", ENGINE(names.dhcp_linked) },
	{ "dhcp_links_ambiguous", "DHCPv6 hosts whose evidence named two or more DHCPv4 hosts: not linked",
	  ENGINE(names.dhcp_link_ambiguous) },
};

/* "filtered", the decode reasons but the first, every def, every encapsulation: never cut silently */
_Static_assert(1 + (DEC_NREASONS - 1) + sizeof defs / sizeof defs[0] + ENCAP_N <= COUNTERS_MAX,
	       "the counter registry outgrew COUNTERS_MAX");

size_t counters_list(const struct engine_counters *k, uint64_t learned_dropped, struct counter *out)
{
	size_t n = 0;
	out[n++] = (struct counter){ "filtered", NULL, "frames outside the prefilter or the user's filter",
				      k->filtered };
	for (int i = 1; i < DEC_NREASONS && n < COUNTERS_MAX; i++)
		out[n++] = (struct counter){ decode_reason_name((enum decode_result)i), "not_decoded",
					      "frames not decoded, by reason", k->not_decoded[i] };
	for (size_t i = 0; i < sizeof defs / sizeof defs[0] && n < COUNTERS_MAX; i++) {
		if (!defs[i].name) {
			out[n++] = (struct counter){ "learned_ports_dropped", NULL, defs[i].meaning, learned_dropped };
			continue;
		}
		uint64_t v;
		memcpy(&v, (const char *)k + defs[i].offset, sizeof v);
		out[n++] = (struct counter){ defs[i].name, NULL, defs[i].meaning, v };
	}
	for (int i = 0; i < ENCAP_N && n < COUNTERS_MAX; i++)
		out[n++] = (struct counter){ encap_name((enum encap)i), "encapsulations",
					      "TCP segments that came through this kind of layer", k->encap[i] };
	return n;
}

size_t counters_names(struct counter *out)
{
	static const struct engine_counters zero;
	return counters_list(&zero, 0, out);
}
