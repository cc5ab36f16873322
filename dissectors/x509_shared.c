/*
 * x509_shared.c - one certificate's facts, shared by every flow that saw
 * the same DER (see x509.h: x509_share, x509_unshare).
 *
 * A server sends the same chain to every client, so a capture of many TLS
 * connections holds few distinct certificates.  In: DER bytes from a TLS
 * Certificate message.  Out: a pointer to facts parsed once (x509_parse)
 * and counted by reference; the last x509_unshare() frees them.  The table
 * is keyed by the exact DER (FNV-1a to find the bucket, then compared in
 * full) and guarded by one mutex, since records move between the worker
 * threads and the thread that writes the report; it holds only what some
 * flow still holds, so it is bounded by what the flows would hold anyway.
 */
#include "x509.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct x509_entry {
	struct x509_info info;     /* first: x509_unshare() gets the entry back from it */
	uint8_t *der;
	size_t len;
	uint64_t hash;
	unsigned long refs;
	struct x509_entry *next;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct x509_entry **buckets;
static size_t n_buckets, n_entries;

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* The entry of these bytes, or NULL; under the lock. */
static struct x509_entry *find(const uint8_t *der, size_t len, uint64_t h)
{
	if (!n_buckets)
		return NULL;
	for (struct x509_entry *e = buckets[h % n_buckets]; e; e = e->next)
		if (e->hash == h && e->len == len && memcmp(e->der, der, len) == 0)
			return e;
	return NULL;
}

/* Room for one more entry: the bucket array doubles past two entries a bucket; under the lock. */
static void grow(void)
{
	if (n_buckets && n_entries < 2 * n_buckets)
		return;
	size_t n = n_buckets ? 2 * n_buckets : 256;
	struct x509_entry **b = calloc(n, sizeof *b);
	if (!b)
		return;   /* longer chains, still correct */
	for (size_t i = 0; i < n_buckets; i++)
		for (struct x509_entry *e = buckets[i], *next; e; e = next) {
			next = e->next;
			e->next = b[e->hash % n];
			b[e->hash % n] = e;
		}
	free(buckets);
	buckets = b;
	n_buckets = n;
}

const struct x509_info *x509_share(const uint8_t *der, size_t len)
{
	uint64_t h = fnv1a(der, len);
	pthread_mutex_lock(&table_lock);
	struct x509_entry *e = find(der, len, h);
	if (e)
		e->refs++;
	pthread_mutex_unlock(&table_lock);
	if (e)
		return &e->info;
	/* parsed outside the lock; another thread may have added the same bytes meanwhile */
	struct x509_entry *fresh = calloc(1, sizeof *fresh);
	if (!fresh || !(fresh->der = malloc(len ? len : 1))) {
		free(fresh);
		return NULL;
	}
	memcpy(fresh->der, der, len);
	fresh->len = len;
	fresh->hash = h;
	fresh->refs = 1;
	x509_parse(&fresh->info, der, len);
	pthread_mutex_lock(&table_lock);
	grow();
	if ((e = find(der, len, h)) != NULL) {
		e->refs++;
	} else if (n_buckets) {
		fresh->next = buckets[h % n_buckets];
		buckets[h % n_buckets] = fresh;
		n_entries++;
		e = fresh;
		fresh = NULL;
	}
	pthread_mutex_unlock(&table_lock);
	if (fresh) {   /* someone else's copy is used, or there is no table at all (no memory) */
		if (!e) {
			fresh->next = NULL;   /* not in the table: this caller's alone */
			return &fresh->info;
		}
		free(fresh->der);
		free(fresh);
	}
	return &e->info;
}

void x509_unshare(const struct x509_info *info)
{
	if (!info)
		return;
	struct x509_entry *e = (struct x509_entry *)info;
	pthread_mutex_lock(&table_lock);
	bool last = --e->refs == 0;
	if (last && n_buckets) {
		struct x509_entry **p = &buckets[e->hash % n_buckets];
		while (*p && *p != e)
			p = &(*p)->next;
		if (*p) {
			*p = e->next;
			n_entries--;
		}
	}
	pthread_mutex_unlock(&table_lock);
	if (last) {
		free(e->der);
		free(e);
	}
}
