/*
 * siphash.h - SipHash-1-3, the keyed hash of the flow table.
 *
 * A random key per run means a crafted capture cannot choose addresses that
 * all land in one bucket (hash flooding).  Input: bytes and a 128-bit key;
 * output: 64 bits.
 */
#ifndef TLSREADY_SIPHASH_H
#define TLSREADY_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash13(const void *data, size_t len, uint64_t k0, uint64_t k1);

#endif
