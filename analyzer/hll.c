/*
 * hll.c - the HyperLogLog sketch of hll.h: the top HLL_P bits of a hash pick
 * a register, which keeps the longest run of leading zeros (plus one) seen in
 * the remaining bits.
 */
#include "hll.h"

#include <math.h>
#include <string.h>

static uint64_t mix(uint64_t x)   /* splitmix64's finaliser */
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t hll_hash_addr(const struct addr *a)
{
	uint64_t lo, hi;
	memcpy(&lo, a->b, 8);
	memcpy(&hi, a->b + 8, 8);
	return mix(mix(lo ^ 0x9e3779b97f4a7c15ULL) ^ hi);
}

void hll_add(struct hll *h, uint64_t hash)
{
	uint32_t i = (uint32_t)(hash >> (64 - HLL_P));
	uint64_t w = hash << HLL_P;
	uint8_t rho = w ? (uint8_t)(__builtin_clzll(w) + 1) : (uint8_t)(64 - HLL_P + 1);
	if (rho > h->reg[i])
		h->reg[i] = rho;
}

void hll_merge(struct hll *into, const struct hll *from)
{
	for (uint32_t i = 0; i < HLL_M; i++)
		if (from->reg[i] > into->reg[i])
			into->reg[i] = from->reg[i];
}

uint64_t hll_estimate(const struct hll *h)
{
	double m = HLL_M, sum = 0;
	uint32_t zeros = 0;
	for (uint32_t i = 0; i < HLL_M; i++) {
		sum += 1.0 / (double)(1ULL << h->reg[i]);
		zeros += h->reg[i] == 0;
	}
	double e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
	if (e <= 2.5 * m && zeros)
		e = m * log(m / zeros);        /* linear counting: exact enough for small sets */
	return (uint64_t)(e + 0.5);
}
