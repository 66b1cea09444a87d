/* The daemon's two logs: events (start-up, reloads, shutdown, errors) on stderr and
 * the access log (one line per request) on stdout, as JSON lines or plain text.
 * Lines are written whole under a lock so concurrent requests never interleave. */
#ifndef DWSD_LOG_H
#define DWSD_LOG_H

#include <stddef.h>

#include "config.h"

void dwsd_log_init(dwsd_log_format format);

/* level: "info", "warn" or "error". */
void dwsd_log_event(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef struct {
    const char *request_id;
    const char *method;
    const char *path;
    int status;               /* 0: the connection ended before a response */
    size_t bytes_in;
    size_t bytes_out;
    double latency_ms;
    double queue_ms;          /* waiting for a worker; < 0 when the request did not queue */
    double work_ms;           /* on the worker: decode, run the model, encode */
    int batch;                /* requests in the forward it ran in (1: alone); 0: it reached no forward */
    const char *model;        /* NULL when no model ran */
    const char *code;         /* problem code of an error response, else NULL */
    const char *termination;  /* "ok", "client_abort", "timeout", ... */
} dwsd_access_entry;

void dwsd_log_access(const dwsd_access_entry *e);

#endif
