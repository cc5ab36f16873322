/*
 * recent.h - connections that ended a short while ago, remembered by their
 * addresses and ports, so that their late segments (a FIN, RST or ACK
 * retransmitted after the close, a SYN resent with the ISN already seen) are
 * counted as such instead of starting a ghost connection.
 *
 * Input: each connection that ends closed (FIN both ways, or RST), with the
 * sequence space each side used.  Output: "is this packet a late segment of
 * one of them?".  Fixed size (RECENT_SLOTS entries, a new entry takes the
 * place of whatever was in its slot), no allocation per packet; an entry is
 * honoured for RECENT_WINDOW_US of capture time after the connection ended
 * (TCP's TIME-WAIT lasts 60 s on Linux, up to 4 minutes elsewhere).
 */
#ifndef TLSREADY_RECENT_H
#define TLSREADY_RECENT_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "decode.h"

#define RECENT_SLOTS 8192
#define RECENT_WINDOW_US (120LL * 1000000)

struct recent_conn {
	struct addr cli, srv;
	uint16_t cport, sport;
	bool used, syn;            /* syn: the client's ISN is known */
	uint32_t isn;              /* the client's initial sequence number */
	uint32_t lo[2], hi[2];     /* per side (0 client): first and one past the last sequence number used */
	bool seen[2];
	int64_t ended_us;
};

struct recent {
	struct recent_conn *slots;
	uint64_t k0, k1;
};

bool recent_init(struct recent *r, uint64_t k0, uint64_t k1);
void recent_free(struct recent *r);
void recent_add(struct recent *r, const struct recent_conn *c);
/* A packet with no open connection: does it belong to one that ended within the window? */
bool recent_late(const struct recent *r, const struct packet *p, int64_t now_us);

#endif
