/*
 * recent.c - the recently ended connections (see recent.h).  Slots are
 * chosen by SipHash of the unordered address and port pair with the flow
 * table's random key, so an attacker cannot aim at one slot.
 */
#include "recent.h"

#include <stdlib.h>
#include <string.h>

#include "siphash.h"

static uint32_t slot_of(const struct recent *r, const struct addr *a, uint16_t ap, const struct addr *b,
			uint16_t bp)
{
	uint8_t key[36];
	/* order-independent: the lower endpoint first */
	bool swap = addr_cmp(a, b) > 0 || (addr_cmp(a, b) == 0 && ap > bp);
	const struct addr *x = swap ? b : a, *y = swap ? a : b;
	uint16_t xp = swap ? bp : ap, yp = swap ? ap : bp;
	memcpy(key, x->b, 16);
	memcpy(key + 16, y->b, 16);
	memcpy(key + 32, &xp, 2);
	memcpy(key + 34, &yp, 2);
	return (uint32_t)siphash13(key, sizeof key, r->k0, r->k1) & (RECENT_SLOTS - 1);
}

bool recent_init(struct recent *r, uint64_t k0, uint64_t k1)
{
	r->slots = calloc(RECENT_SLOTS, sizeof *r->slots);
	r->k0 = k0;
	r->k1 = k1;
	return r->slots != NULL;
}

void recent_free(struct recent *r)
{
	free(r->slots);
	r->slots = NULL;
}

void recent_add(struct recent *r, const struct recent_conn *c)
{
	if (!r->slots)
		return;
	struct recent_conn *s = &r->slots[slot_of(r, &c->cli, c->cport, &c->srv, c->sport)];
	*s = *c;
	s->used = true;
}

/* seq within [lo - 1, hi + 1], in sequence-number arithmetic */
static bool in_space(uint32_t seq, uint32_t lo, uint32_t hi)
{
	return seq - (lo - 1) <= (hi + 1) - (lo - 1);
}

bool recent_late(const struct recent *r, const struct packet *p, int64_t now_us)
{
	if (!r->slots)
		return false;
	const struct recent_conn *c = &r->slots[slot_of(r, &p->src, p->sport, &p->dst, p->dport)];
	if (!c->used || now_us - c->ended_us > RECENT_WINDOW_US || now_us < c->ended_us - RECENT_WINDOW_US)
		return false;
	int side;
	if (addr_eq(&p->src, &c->cli) && p->sport == c->cport && addr_eq(&p->dst, &c->srv) && p->dport == c->sport)
		side = 0;
	else if (addr_eq(&p->src, &c->srv) && p->sport == c->sport && addr_eq(&p->dst, &c->cli) &&
		 p->dport == c->cport)
		side = 1;
	else
		return false;
	if ((p->flags & (TH_SYN | TH_ACK)) == TH_SYN)   /* a resent SYN, or a new connection */
		return side == 0 && c->syn && p->seq == c->isn;
	if (p->flags & TH_SYN)
		return false;
	/* inside the old space and bringing no byte beyond it: new bytes mean the talk goes on */
	uint32_t end = p->seq + p->payload_wire + !!(p->flags & TH_FIN);
	return c->seen[side] && in_space(p->seq, c->lo[side], c->hi[side]) && in_space(end, c->lo[side], c->hi[side]);
}
