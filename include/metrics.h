/*
 * metrics.h - a Prometheus text endpoint (metrics.listen).
 */
#ifndef TL_METRICS_H
#define TL_METRICS_H

#include <stddef.h>

#include "event.h"

/* Writes the whole exposition text of one scrape (called on the server's thread). */
typedef void (*tl_metrics_fn)(void *arg, struct tl_buf *out);

struct tl_metrics;

/* Serves GET /metrics on listen (HOST:PORT, [V6]:PORT); NULL with errbuf on failure. */
struct tl_metrics *tl_metrics_start(const char *listen, tl_metrics_fn fn, void *arg, char *errbuf,
                                    size_t n);
void tl_metrics_stop(struct tl_metrics *m);

#endif
