/* The daemon's URL space: which paths exist and which methods each allows. */
#ifndef DWSD_ROUTES_H
#define DWSD_ROUTES_H

typedef enum {
    DWSD_EP_ADAPT = 0,
    DWSD_EP_EMBED,
    DWSD_EP_MODELS,
    DWSD_EP_HEALTHZ,
    DWSD_EP_READYZ,
    DWSD_EP_METRICS,
    DWSD_EP_INSPECT,    /* POST /v1/inspect: what the codec reads (a job, like /adapt) */
    DWSD_EP_PAGE,       /* GET / and /page/...: the page for browsers (page.c) */
    DWSD_EP_ESTIMATE,   /* POST /v1/estimate-domain: the domain of uploaded images (a job) */
    DWSD_EP_OTHER,      /* unknown paths: 404 */
    DWSD_EP_COUNT
} dwsd_endpoint;

typedef enum { DWSD_ROUTE_OK = 0, DWSD_ROUTE_NOT_FOUND, DWSD_ROUTE_BAD_METHOD } dwsd_route_result;

/* Sets *ep (DWSD_EP_OTHER when not found) and *allow (the Allow header value). */
dwsd_route_result dwsd_route(const char *path, const char *method, dwsd_endpoint *ep,
                             const char **allow);

/* "/adapt", ..., "other": the metrics label. */
const char *dwsd_endpoint_name(dwsd_endpoint ep);

/* 1 for the endpoints whose work runs on the worker pool. */
int dwsd_endpoint_is_job(dwsd_endpoint ep);

#endif
