#include "routes.h"

#include <string.h>

static const struct {
    const char *path;
    dwsd_endpoint ep;
    int takes_body;    /* POST only; the others are GET (and HEAD) */
} routes[] = {
    {"/adapt", DWSD_EP_ADAPT, 1},
    {"/embed", DWSD_EP_EMBED, 1},
    {"/v1/models", DWSD_EP_MODELS, 0},
    {"/healthz", DWSD_EP_HEALTHZ, 0},
    {"/readyz", DWSD_EP_READYZ, 0},
    {"/metrics", DWSD_EP_METRICS, 0},
    {"/v1/inspect", DWSD_EP_INSPECT, 1},
    {"/v1/estimate-domain", DWSD_EP_ESTIMATE, 1},
    {"/", DWSD_EP_PAGE, 0},
    {"/page/", DWSD_EP_PAGE, 0},    /* a path ending in '/' (but "/") is a prefix */
};
#define N_ROUTES (sizeof routes / sizeof routes[0])


dwsd_route_result dwsd_route(const char *path, const char *method, dwsd_endpoint *ep,
                             const char **allow)
{
    for (size_t i = 0; i < N_ROUTES; i++) {
        size_t n = strlen(routes[i].path);
        int prefix = n > 1 && routes[i].path[n - 1] == '/';
        if (prefix ? strncmp(path, routes[i].path, n) : strcmp(path, routes[i].path)) continue;
        *ep = routes[i].ep;
        *allow = routes[i].takes_body ? "POST" : "GET, HEAD";
        int ok = routes[i].takes_body ? !strcmp(method, "POST")
                                      : !strcmp(method, "GET") || !strcmp(method, "HEAD");
        return ok ? DWSD_ROUTE_OK : DWSD_ROUTE_BAD_METHOD;
    }
    *ep = DWSD_EP_OTHER;
    *allow = NULL;
    return DWSD_ROUTE_NOT_FOUND;
}

const char *dwsd_endpoint_name(dwsd_endpoint ep)
{
    for (size_t i = 0; i < N_ROUTES; i++)
        if (routes[i].ep == ep) return routes[i].path;
    return "other";
}

int dwsd_endpoint_is_job(dwsd_endpoint ep)
{
    return ep == DWSD_EP_ADAPT || ep == DWSD_EP_EMBED || ep == DWSD_EP_INSPECT || ep == DWSD_EP_ESTIMATE;
}
