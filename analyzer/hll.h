/*
 * hll.h - a HyperLogLog sketch: about how many distinct values were added,
 * in a fixed 1 KiB (2^10 one-byte registers; standard error 1.04/sqrt(1024),
 * about 3.3 %).
 *
 * In: 64-bit hashes of the values (hll_hash_addr for addresses), in any
 * order; two sketches merge by taking each register's maximum, so the result
 * does not depend on the order values came in or on how they were split.
 * Out: the estimate (Flajolet et al. 2007, with linear counting while many
 * registers are still empty).
 */
#ifndef TLSREADY_HLL_H
#define TLSREADY_HLL_H

#include <stdint.h>

#include "addr.h"

#define HLL_P 10
#define HLL_M (1u << HLL_P)

struct hll {
	uint8_t reg[HLL_M];
};

/* A fixed mix of the address's 16 bytes (the same in every run and thread). */
uint64_t hll_hash_addr(const struct addr *a);
void hll_add(struct hll *h, uint64_t hash);
void hll_merge(struct hll *into, const struct hll *from);
uint64_t hll_estimate(const struct hll *h);

#endif
