/*
 * ndpi_reset.c - empties an nDPI 4.2 detection module's LRU caches, for
 * fuzz_capture.c, which lends one module to every run: in, the module;
 * out, the same module with no cache left from earlier runs (they are made
 * again on first use), so one run does not change the next.
 *
 * Why a file of its own: the module's fields are declared only with
 * NDPI_LIB_COMPILATION, and the headers that brings in clash with the
 * analyzer's (TCP_ESTABLISHED, TH_*).  The tinc cache has no public free
 * function and is left alone (port 655 only).
 */
#define NDPI_LIB_COMPILATION
#include <ndpi_api.h>

void ndpi_reset_caches(struct ndpi_detection_module_struct *m);

static void reset_lru(struct ndpi_lru_cache **c)
{
	if (*c) {
		ndpi_lru_free_cache(*c);
		*c = NULL;
	}
}

void ndpi_reset_caches(struct ndpi_detection_module_struct *m)
{
	reset_lru(&m->ookla_cache);
	reset_lru(&m->bittorrent_cache);
	reset_lru(&m->zoom_cache);
	reset_lru(&m->stun_cache);
	reset_lru(&m->tls_cert_cache);
	reset_lru(&m->mining_cache);
	reset_lru(&m->msteams_cache);
}
