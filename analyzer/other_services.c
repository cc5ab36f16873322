/*
 * other_services.c - the rows of other_services.h: one pass over the
 * records, a row per (server, port, nDPI protocol) found by hash, and a set
 * of (row, client) pairs so each client counts once per row.  Both tables
 * are open-addressed and keyed with a random SipHash key, so crafted
 * addresses cannot make them slow.
 */
#include "other_services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "siphash.h"

struct keyset {
	uint8_t *keys;             /* cap keys of ksize bytes */
	uint32_t *vals;            /* value + 1; 0: empty slot */
	size_t cap, n, ksize;
	uint64_t k0, k1;
};

static bool keyset_init(struct keyset *s, size_t ksize, uint64_t k0, uint64_t k1)
{
	memset(s, 0, sizeof *s);
	s->ksize = ksize;
	s->k0 = k0;
	s->k1 = k1;
	s->cap = 64;
	s->keys = malloc(s->cap * ksize);
	s->vals = calloc(s->cap, sizeof *s->vals);
	return s->keys && s->vals;
}

static void keyset_free(struct keyset *s)
{
	free(s->keys);
	free(s->vals);
}

static size_t slot_of(const struct keyset *s, const void *key)
{
	size_t i = (size_t)siphash13(key, s->ksize, s->k0, s->k1) & (s->cap - 1);
	while (s->vals[i] && memcmp(s->keys + i * s->ksize, key, s->ksize) != 0)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static bool keyset_grow(struct keyset *s)
{
	struct keyset g = *s;
	g.cap = s->cap * 2;
	g.keys = malloc(g.cap * g.ksize);
	g.vals = calloc(g.cap, sizeof *g.vals);
	if (!g.keys || !g.vals) {
		keyset_free(&g);
		return false;
	}
	for (size_t i = 0; i < s->cap; i++)
		if (s->vals[i]) {
			size_t j = slot_of(&g, s->keys + i * s->ksize);
			memcpy(g.keys + j * g.ksize, s->keys + i * s->ksize, g.ksize);
			g.vals[j] = s->vals[i];
		}
	keyset_free(s);
	*s = g;
	return true;
}

/* The value of key, or `val` stored for it when new (*added then); false on no memory. */
static bool keyset_get(struct keyset *s, const void *key, uint32_t val, uint32_t *out, bool *added)
{
	if (2 * (s->n + 1) > s->cap && !keyset_grow(s))
		return false;
	size_t i = slot_of(s, key);
	*added = !s->vals[i];
	if (*added) {
		memcpy(s->keys + i * s->ksize, key, s->ksize);
		s->vals[i] = val + 1;
		s->n++;
	}
	*out = s->vals[i] - 1;
	return true;
}

struct row_key {
	struct addr srv;
	uint16_t port;
	char proto[40];
};

struct pair_key {
	uint32_t row;
	struct addr cli;
};

bool other_services_of(const struct analysis *a, struct other_service **rows, size_t *n)
{
	*rows = NULL;
	*n = 0;
	uint64_t key[2] = { 0, 0 };
	if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key)
		key[0] = (uint64_t)(uintptr_t)&key;   /* no entropy: still a working table */
	struct keyset by_row = { 0 }, by_pair = { 0 };
	struct other_service *v = NULL;
	size_t cap = 0;
	struct record_iter it = { 0 };
	bool ok = keyset_init(&by_row, sizeof(struct row_key), key[0], key[1]) &&
		  keyset_init(&by_pair, sizeof(struct pair_key), key[1], key[0]) && analysis_iter_start(a, &it);
	const struct flow_record *r;
	size_t i;
	while (ok && (r = analysis_iter_next(&it, &i))) {
		if (r->service || r->cls != PC_OTHER)
			continue;
		struct row_key rk;
		memset(&rk, 0, sizeof rk);
		rk.srv = r->srv;
		rk.port = r->sport;
		snprintf(rk.proto, sizeof rk.proto, "%s", r->dpi_ran ? r->dpi.proto : "-");
		uint32_t row;
		bool added;
		if (!(ok = keyset_get(&by_row, &rk, (uint32_t)*n, &row, &added)))
			break;
		if (added) {
			if (*n == cap) {
				size_t c = cap ? cap * 2 : 16;
				struct other_service *nv = realloc(v, c * sizeof *nv);
				if (!(ok = nv != NULL))
					break;
				v = nv;
				cap = c;
			}
			struct other_service *o = &v[(*n)++];
			memset(o, 0, sizeof *o);
			o->srv = r->srv;
			o->port = r->sport;
			memcpy(o->proto, rk.proto, sizeof o->proto);
			o->content = record_content(r);
		}
		v[row].connections++;
		struct pair_key pk;
		memset(&pk, 0, sizeof pk);
		pk.row = row;
		pk.cli = r->cli;
		uint32_t unused;
		if (!(ok = keyset_get(&by_pair, &pk, 0, &unused, &added)))
			break;
		v[row].clients += added;
	}
	analysis_iter_end(&it);
	keyset_free(&by_row);
	keyset_free(&by_pair);
	if (!ok || analysis_error(a)) {
		free(v);
		*n = 0;
		return false;
	}
	*rows = v;
	return true;
}
