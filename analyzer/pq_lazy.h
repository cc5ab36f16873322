/*
 * pq_lazy.h - libpq's own declarations, and whether libpq could be loaded
 * (pq_lazy.c opens it on first use, so that runs without the shared store do
 * not carry it).  Included by the store_pg*.c files instead of libpq-fe.h.
 */
#ifndef TLSREADY_PQ_LAZY_H
#define TLSREADY_PQ_LAZY_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* Loads libpq once (thread-safe); false with one line in err when it cannot. */
bool pq_available(char *err, size_t errlen);

#endif
