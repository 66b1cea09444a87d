/* Prometheus metrics: request counts by endpoint and status and latency
 * histograms (lock-free counters updated by every request), rendered together
 * with the gauges and model info the caller passes in. */
#ifndef DWSD_METRICS_H
#define DWSD_METRICS_H

#include <stddef.h>

#include "registry.h"
#include "routes.h"

typedef struct dwsd_metrics dwsd_metrics;

dwsd_metrics *dwsd_metrics_new(void);
void dwsd_metrics_free(dwsd_metrics *m);

/* status 0: the connection ended without a response. */
void dwsd_metrics_observe(dwsd_metrics *m, dwsd_endpoint ep, int status, double seconds);
void dwsd_metrics_reload(dwsd_metrics *m, int ok);
/* Batched serving: a forward that ran n requests; a request taken to join a
 * batch and given back to the queue, and why. */
void dwsd_metrics_batch(dwsd_metrics *m, int n);
typedef enum { DWSD_BACK_WIDTHS = 0, DWSD_BACK_MEMORY, DWSD_BACK_COUNT } dwsd_batch_back;
void dwsd_metrics_batch_back(dwsd_metrics *m, dwsd_batch_back why);

typedef struct {
    int inflight;          /* /adapt + /embed requests admitted */
    int open_requests;     /* every endpoint: begun and not finished (this one included) */
    long long started;     /* requests begun since start */
    double memory_ceiling, body_memory_used, body_memory, work_memory_used, work_memory_total;
    int queued;            /* jobs waiting for a worker */
    int running;           /* jobs on a worker */
    int workers;
    int batch_max;         /* --batch */
    int connections;
    int draining;
    double uptime_s;
} dwsd_gauges;

/* The exposition text (malloc'd, *len bytes), or NULL when out of memory. */
char *dwsd_metrics_render(dwsd_metrics *m, const dwsd_gauges *g, const dwsd_model_set *models,
                          size_t *len);

#endif
