/* The running daemon: its settings, models, worker pool and metrics, shared by
 * the HTTP callbacks (passed to them as their closure; there are no globals). */
#ifndef DWSD_SERVER_H
#define DWSD_SERVER_H

#include <stdatomic.h>

#include "budget.h"
#include "config.h"
#include "memory.h"
#include "metrics.h"
#include "registry.h"
#include "workqueue.h"

typedef struct {
    const dwsd_config *cfg;
    dwsd_registry *registry;
    dwsd_queue *queue;
    dwsd_metrics *metrics;
    struct MHD_Daemon *mhd;
    int port;                     /* the port bound (cfg->port, or the one picked for 0) */
    double started_at;            /* monotonic seconds */
    atomic_int draining;          /* SIGTERM received */
    atomic_int requests;          /* requests begun and not completed, every endpoint */
    atomic_llong requests_started;
    atomic_int fresh_connections; /* accepted connections that have not sent a request yet */
    atomic_int connections;
    atomic_int inflight;          /* /adapt + /embed requests admitted */
    dwsd_memory_plan plan;        /* the memory ceiling and its parts */
    dwsd_budget body_budget;      /* bytes of bodies and responses of admitted requests */
    dwsd_budget work_budget;      /* work memory of the jobs on the workers */
} dwsd_server;

double dwsd_now(void);   /* monotonic seconds */

/* Starts listening (cfg->listen) with the HTTP threads; 0 or -1 with why filled. */
int dwsd_http_start(dwsd_server *s, char *why, size_t why_len);
/* The port actually bound (differs from cfg->port when that was 0). */
int dwsd_http_port(dwsd_server *s);
/* Closes the listening socket; connections already made (including those still
 * in the kernel's accept queue) go on being served. */
void dwsd_http_stop_accepting(dwsd_server *s);
/* Closes every connection and joins the HTTP threads. */
void dwsd_http_stop(dwsd_server *s);

#endif
