/* One HTTP request from its request line to its completion callback. */
#ifndef DWSD_REQUEST_H
#define DWSD_REQUEST_H

#include <microhttpd.h>

#include "body.h"
#include "registry.h"
#include "reply.h"
#include "request_id.h"
#include "routes.h"
#include "server.h"
#include "workqueue.h"

typedef enum {
    DWSD_STAGE_HEADERS = 0,   /* the request line is in, headers not looked at yet */
    DWSD_STAGE_BODY,          /* reading (or dropping) the body */
    DWSD_STAGE_WORKING,       /* on the worker pool, connection suspended: the worker owns it */
    DWSD_STAGE_REPLYING,      /* the worker is done and resumed the connection: respond */
    DWSD_STAGE_ANSWERED,
} dwsd_stage;

struct connection_state;

typedef struct {
    dwsd_job job;                 /* the worker pool's handle; the request is its container */
    dwsd_server *server;
    struct MHD_Connection *conn;
    struct connection_state *conn_state;   /* http.c's, for the connection the request came on */
    double started;
    dwsd_stage stage;
    char id[DWSD_REQUEST_ID_MAX + 1];
    char method[16];
    char path[256];
    dwsd_endpoint endpoint;
    int nul_in_target;            /* the raw target encodes a NUL (%00): 400 */
    int answered_directly;        /* on the socket, before libmicrohttpd parsed the query */
    int admitted;                 /* counted in server->inflight */
    size_t body_reserved;         /* bytes of server->body_budget held for the body, then the reply */
    dwsd_body body;
    dwsd_model_set *models;       /* held from admission to completion */
    const char *model_id;         /* ?model=, owned by libmicrohttpd for the request's life */
    dws_input_norm input_norm;    /* ?input_mean=&input_std= or ?input_range= (mlp.h); n 0: none */
    const char *domain_query;     /* ?domain=, owned by libmicrohttpd; NULL: absent */
    dws_adapt_domain domain;      /* /adapt: ?domain= or the form's domain field (model.h) */
    dwsd_reply reply;
    double queued_at, work_started, work_done;   /* monotonic seconds; 0 when not reached */
    /* Batched serving (jobs.c): once decoded, the model and widths a request
     * runs with, so that a worker can tell without decoding it again whether it
     * may join a batch; no_join: it did not fit a batch's memory (it may still
     * lead one). */
    struct {
        int known;
        const void *model;
        int n_layers;
        int64_t widths[DWS_MAX_LAYERS + 1];
    } batch_key;
    int batch_no_join;
    int batch_size;               /* requests in the forward it ran in (access log); 0: none ran */
    int sent_status;              /* 0 until a response is queued */
    size_t sent_bytes;
} dwsd_request;

/* Turns rq->reply into the HTTP response (problem+json for errors) and queues it. */
enum MHD_Result dwsd_respond(dwsd_request *rq);

/* Answers the GET endpoints (health, readiness, models, metrics). */
void dwsd_info_reply(dwsd_server *s, dwsd_endpoint ep, dwsd_reply *out);

#endif
