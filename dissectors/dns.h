/*
 * dns.h - host names from DNS-format answers: unicast DNS (RFC 1035), mDNS
 * (RFC 6762) and LLMNR (RFC 4795) share one message format.
 *
 * In: one UDP payload (a whole message; a cut one is read as far as it
 * goes).  Out: for every A, AAAA or PTR (in-addr.arpa / ip6.arpa) record of a
 * response, one call naming an address: (address bytes, 4 or 16, the host
 * name, whether it came from a PTR).  Names are dotted, at most
 * DNS_NAME_MAX - 1 characters (longer ones cut and flagged), bytes outside
 * printable ASCII as '?'.  Compression pointers must point backwards (no
 * loops), at most DNS_MAX_JUMPS of them a name; at most DNS_MAX_RRS records
 * are read.  Nothing allocates; reads go through the bounded cursor.
 */
#ifndef TLSREADY_DNS_H
#define TLSREADY_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 96
#define DNS_MAX_JUMPS 16
#define DNS_MAX_RRS 64

struct dns_sink {
	void (*address)(void *ctx, const uint8_t *ip, size_t iplen, const char *name, bool ptr);
	void *ctx;
};

enum dns_result {
	DNS_OK = 0,        /* a response, read to its end (or its last record) */
	DNS_NOT_ANSWER,    /* a query, an error response: nothing to learn */
	DNS_MALFORMED,     /* cut short or broken somewhere: what came before it was used */
};

struct dns_info {
	unsigned names;        /* calls made to the sink */
	unsigned names_cut;    /* names longer than DNS_NAME_MAX - 1 */
	bool rrs_capped;       /* more records than DNS_MAX_RRS */
};

/* additional: also read the additional section (mDNS and LLMNR put addresses there). */
enum dns_result dns_parse(const uint8_t *buf, size_t len, bool additional, const struct dns_sink *sink,
			  struct dns_info *info);

/* The address a reverse name stands for ("4.3.2.1.in-addr.arpa", 32 nibbles of ip6.arpa):
 * 4 or 16 bytes into ip, 0 when it is not one. */
size_t dns_reverse_addr(const char *name, uint8_t ip[16]);

struct cursor;
/* Read the (possibly compressed) name at c's offset into out, moving c past it (past the first
 * pointer when there is one); msg is the whole message, for the pointers.  False when it does not
 * parse; *cut set when the name was longer than out. */
bool dns_read_name(struct cursor *c, const struct cursor *msg, char *out, size_t outlen, bool *cut);

#endif
