/*
 * metrics.h - counters and latency histograms, in Prometheus' text format.
 *
 * Workers record each decision with a few relaxed atomic additions (no lock). The numbers are
 * served on a separate small HTTP listener (`metrics_listen`), never through the FastCGI
 * socket: a metrics answer there could be mistaken by a web server for an allow.
 */
#ifndef AUTHZ_METRICS_H
#define AUTHZ_METRICS_H

#include <stddef.h>

#include "core/decide.h"

/* A request started (+1) or finished (-1). */
void metrics_in_flight(int delta);

/* Records one finished decision, how long it took in seconds, and how long asking took. */
void metrics_record(const struct decision *d, double seconds);

/* Writes the Prometheus text exposition into buf; returns its length (truncated to cap-1). */
size_t metrics_render(char *buf, size_t cap);

/*
 * Serves the metrics to GET (any path, e.g. /metrics) on `listen` ("host:port" or a unix socket
 * path) from a thread of its own. Returns NULL, or why it could not start.
 */
const char *metrics_start(const char *listen, char *err, size_t errlen);

/* Stops the metrics listener started by metrics_start, if any. */
void metrics_stop(void);

#endif
