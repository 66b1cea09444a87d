/* libmicrohttpd glue: the request life cycle. HTTP threads parse requests, collect
 * bodies and send responses; /adapt and /embed are handed to the worker pool with
 * the connection suspended, so no HTTP thread ever runs a model and no worker ever
 * waits on a client. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "direct_reply.h"
#include "framing.h"
#include "inference.h"
#include "jobs.h"
#include "listen.h"
#include "log.h"
#include "page.h"
#include "problem.h"
#include "request.h"
#include "target.h"

#define LISTEN_BACKLOG 512
/* The daemon reads one query argument (model); libmicrohttpd's 32 KiB connection
 * pool holds about 500 before it fails without an answer. */
#define DWSD_MAX_QUERY_ARGS 64

/* Per connection: whether it has sent a request yet (drain waits for those that
 * have not), and the request under way, which must be finished even when
 * libmicrohttpd drops it without calling on_completed (it does so when it cannot
 * even answer a request line whose query arguments overflow its memory pool). */
typedef struct connection_state {
    int fresh;
    dwsd_request *current;
} connection_state;

static void finish(dwsd_server *s, dwsd_request *rq, const char *termination);

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode event)
{
    (void)conn;
    dwsd_server *s = cls;
    if (event == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&s->connections, 1);
        connection_state *st = calloc(1, sizeof *st);
        if (st) {
            st->fresh = 1;
            atomic_fetch_add(&s->fresh_connections, 1);
        }
        *socket_context = st;
        return;
    }
    connection_state *st = *socket_context;
    if (st && st->current) finish(s, st->current, "dropped");
    if (st && st->fresh) atomic_fetch_sub(&s->fresh_connections, 1);
    free(st);
    *socket_context = NULL;
    atomic_fetch_sub(&s->connections, 1);
}

/* The first callback for each request: its context lives from here to finish(). */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    dwsd_server *s = cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    connection_state *st = ci ? ci->socket_context : NULL;
    if (st && st->current) finish(s, st->current, "dropped");   /* never left unfinished */
    dwsd_request *rq = calloc(1, sizeof *rq);
    if (!rq) return NULL;
    rq->server = s;
    rq->conn = conn;
    rq->conn_state = st;
    rq->started = dwsd_now();
    rq->endpoint = DWSD_EP_OTHER;
    strcpy(rq->method, "-");
    strcpy(rq->id, "-");
    dwsd_printable_copy(rq->path, sizeof rq->path, uri, 1);
    rq->nul_in_target = dwsd_target_has_nul(uri);
    atomic_fetch_add(&s->requests, 1);
    atomic_fetch_add(&s->requests_started, 1);
    int args = dwsd_query_arg_count(uri);
    if (args > DWSD_MAX_QUERY_ARGS) {
        /* Answered now: libmicrohttpd may not get as far as asking (direct_reply.h). */
        dwsd_request_id(NULL, rq->id);
        dwsd_reply_error(&rq->reply, DWSD_E_TARGET_TOO_LONG,
                         "the request target has %d query arguments; at most %d are read", args,
                         DWSD_MAX_QUERY_ARGS);
        rq->sent_bytes = dwsd_direct_reply(conn, rq->reply.code, rq->reply.detail, rq->id, rq->path);
        rq->sent_status = rq->reply.status;
        rq->stage = DWSD_STAGE_ANSWERED;
        rq->answered_directly = 1;
    }
    if (st) {
        st->current = rq;
        if (st->fresh) {
            st->fresh = 0;
            atomic_fetch_sub(&s->fresh_connections, 1);
        }
    }
    return rq;
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK: return "ok";
    case MHD_REQUEST_TERMINATED_WITH_ERROR: return "error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR: return "read_error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client_abort";
    }
    return "unknown";
}

/* Logs, counts and frees a request: exactly once, from on_completed or, for a
 * request libmicrohttpd never completes, when its connection closes. */
static void finish(dwsd_server *s, dwsd_request *rq, const char *termination)
{
    if (rq->stage == DWSD_STAGE_WORKING) {
        /* A worker still owns it (cannot happen while the connection is suspended:
         * libmicrohttpd closes none). Leaking it beats a use after free. */
        dwsd_log_event("error", "request %s closed while its job runs", rq->id);
        return;
    }
    if (rq->conn_state && rq->conn_state->current == rq) rq->conn_state->current = NULL;
    double seconds = dwsd_now() - rq->started;
    dwsd_access_entry e = {
        .request_id = rq->id,
        .method = rq->method,
        .path = rq->path,
        .status = rq->sent_status,
        .bytes_in = rq->body.seen,
        .bytes_out = rq->sent_bytes,
        .latency_ms = seconds * 1e3,
        .queue_ms = rq->work_done > 0 ? (rq->work_started - rq->queued_at) * 1e3 : -1,
        .work_ms = (rq->work_done - rq->work_started) * 1e3,
        .batch = rq->batch_size,
        .model = rq->reply.model[0] ? rq->reply.model : NULL,
        .code = rq->sent_status ? rq->reply.code : NULL,
        .termination = termination,
    };
    dwsd_log_access(&e);
    dwsd_metrics_observe(s->metrics, rq->endpoint, rq->sent_status, seconds);
    if (rq->admitted) atomic_fetch_sub(&s->inflight, 1);
    if (rq->body_reserved) dwsd_budget_give(&s->body_budget, rq->body_reserved);
    dwsd_model_set_release(rq->models);
    dwsd_body_free(&rq->body);
    dwsd_reply_free(&rq->reply);
    free(rq);
    atomic_fetch_sub(&s->requests, 1);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    dwsd_request *rq = *con_cls;
    *con_cls = NULL;
    if (rq) finish(cls, rq, termination_name(toe));
}

/* Headers are in: route, check the body's type and size, admit or refuse. Anything
 * decided here is answered once the body has been read (answering earlier would make
 * the kernel reset the connection under the client's feet), except an oversized
 * Content-Length, which is answered before reading. */
static enum MHD_Result begin(dwsd_server *s, dwsd_request *rq, const char *url, const char *method,
                             const char *version)
{
    const dwsd_config *cfg = s->cfg;
    rq->stage = DWSD_STAGE_BODY;
    dwsd_printable_copy(rq->method, sizeof rq->method, method, 0);
    dwsd_request_id(MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-Request-Id"), rq->id);
    char why[160];
    if (dwsd_check_framing(rq->conn, version, why, sizeof why)) {
        /* The body cannot be delimited: answer now and close the connection. */
        dwsd_reply_error(&rq->reply, DWSD_E_INVALID_FRAMING, "%s", why);
        rq->reply.close = 1;
        return dwsd_respond(rq);
    }
    if (rq->nul_in_target)
        dwsd_reply_error(&rq->reply, DWSD_E_BAD_REQUEST, "the request target encodes a NUL byte (%%00)");
    const char *allow = NULL;
    switch (rq->reply.status ? DWSD_ROUTE_OK : dwsd_route(url, method, &rq->endpoint, &allow)) {
    case DWSD_ROUTE_NOT_FOUND:
        dwsd_reply_error(&rq->reply, DWSD_E_NOT_FOUND, "no such endpoint: %s", rq->path);
        break;
    case DWSD_ROUTE_BAD_METHOD:
        dwsd_reply_error(&rq->reply, DWSD_E_METHOD_NOT_ALLOWED, "%s takes %s", rq->path, allow);
        rq->reply.allow = allow;
        break;
    case DWSD_ROUTE_OK: break;
    }
    if (rq->reply.status || !dwsd_endpoint_is_job(rq->endpoint)) {
        rq->body.limit = cfg->body_limit;
        dwsd_body_discard(&rq->body);
        return MHD_YES;
    }
    if (dwsd_body_begin(&rq->body, rq->conn, cfg->body_limit) == DWSD_BODY_REFUSE) {
        dwsd_reply_error(&rq->reply, rq->body.error, "%s", rq->body.detail);
        return dwsd_respond(rq);
    }
    if (rq->body.error) {
        dwsd_reply_error(&rq->reply, rq->body.error, "%s", rq->body.detail);
        return MHD_YES;
    }
    if (rq->endpoint == DWSD_EP_ESTIMATE) rq->body.accept_images = rq->body.images_only = 1;
    if (rq->endpoint == DWSD_EP_ADAPT) rq->body.accept_images = 1;   /* for domain=auto */
    if (atomic_fetch_add(&s->inflight, 1) >= cfg->max_inflight) {
        atomic_fetch_sub(&s->inflight, 1);
        dwsd_reply_error(&rq->reply, DWSD_E_OVERLOADED, "%d requests are in flight; retry later",
                         cfg->max_inflight);
        rq->reply.retry_after = dwsd_queue_retry_after(s->queue);
        dwsd_body_discard(&rq->body);
        return MHD_YES;
    }
    /* Admission counts bytes too: the body as announced, or all the limit allows
     * when it is streamed; the reply later takes over the reservation. */
    size_t reserve = rq->body.has_length ? rq->body.declared : cfg->body_limit;
    if (!dwsd_budget_take(&s->body_budget, reserve)) {
        atomic_fetch_sub(&s->inflight, 1);
        dwsd_reply_error(&rq->reply, DWSD_E_OVERLOADED,
                         "request bodies in flight hold %zu of %zu bytes (--body-memory); this one needs %zu; "
                         "retry later", atomic_load(&s->body_budget.used), s->body_budget.capacity, reserve);
        rq->reply.retry_after = dwsd_queue_retry_after(s->queue);
        dwsd_body_discard(&rq->body);
        return MHD_YES;
    }
    rq->body_reserved = reserve;
    rq->admitted = 1;
    rq->models = dwsd_registry_acquire(s->registry);
    rq->model_id = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "model");
    rq->domain_query = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "domain");
    dwsd_inference ask = {.op = rq->endpoint, .models = rq->models, .model_id = rq->model_id};
    if (dwsd_inference_precheck(&ask, &rq->reply) ||
        (rq->endpoint == DWSD_EP_ADAPT && dwsd_inference_domain(rq->domain_query, &rq->domain, &rq->reply)) ||
        (rq->endpoint != DWSD_EP_INSPECT && rq->endpoint != DWSD_EP_ESTIMATE &&
          dwsd_inference_input_norm(MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "input_mean"),
                                   MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "input_std"),
                                   MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "input_range"),
                                   &rq->input_norm, &rq->reply)))
        dwsd_body_discard(&rq->body);
    return MHD_YES;
}

static enum MHD_Result receive(dwsd_server *s, dwsd_request *rq, const char *data, size_t n)
{
    if (dwsd_now() - rq->started > s->cfg->request_timeout_s) {
        dwsd_log_event("warn", "request %s: body not received within %d s; closing", rq->id,
                       s->cfg->request_timeout_s);
        return MHD_NO;
    }
    return dwsd_body_feed(&rq->body, data, n) ? MHD_NO : MHD_YES;
}

static enum MHD_Result dispatch(dwsd_server *s, dwsd_request *rq)
{
    if (rq->endpoint == DWSD_EP_PAGE && !rq->reply.status)
        dwsd_page_reply(rq->path, MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                                              MHD_HTTP_HEADER_IF_NONE_MATCH),
                        &rq->reply);
    if (!dwsd_endpoint_is_job(rq->endpoint)) {
        if (!rq->reply.status) dwsd_info_reply(s, rq->endpoint, &rq->reply);
        return dwsd_respond(rq);
    }
    if (!rq->reply.status) {
        dwsd_body_end(&rq->body);
        if (rq->body.error) dwsd_reply_error(&rq->reply, rq->body.error, "%s", rq->body.detail);
    }
    if (!rq->reply.status && rq->endpoint == DWSD_EP_ADAPT && rq->body.domain[0]) {   /* the form's domain field */
        if (rq->domain_query && strcmp(rq->domain_query, rq->body.domain))
            dwsd_reply_error(&rq->reply, DWS_E_UNKNOWN_DOMAIN, "?domain=%.100s and the form's domain field '%.100s' "
                             "disagree; give one", rq->domain_query, rq->body.domain);
        else
            dwsd_inference_domain(rq->body.domain, &rq->domain, &rq->reply);
    }
    if (rq->reply.status) return dwsd_respond(rq);
    if (!dwsd_queue_reserve(s->queue)) {
        dwsd_reply_error(&rq->reply, DWSD_E_OVERLOADED,
                         "all %d workers are busy and %d requests are queued; retry later",
                         s->cfg->workers, s->cfg->queue_length);
        rq->reply.retry_after = dwsd_queue_retry_after(s->queue);
        return dwsd_respond(rq);
    }
    rq->stage = DWSD_STAGE_WORKING;
    rq->job.run = dwsd_job_run;
    rq->queued_at = dwsd_now();
    MHD_suspend_connection(rq->conn);
    dwsd_queue_push(s->queue, &rq->job);
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)conn;
    dwsd_server *s = cls;
    dwsd_request *rq = *con_cls;
    /* No memory for the request context, or answered on the socket already. */
    if (!rq || rq->answered_directly) return MHD_NO;
    switch (rq->stage) {
    case DWSD_STAGE_HEADERS:
        return begin(s, rq, url, method, version);
    case DWSD_STAGE_BODY:
        if (*upload_data_size) {
            enum MHD_Result rc = receive(s, rq, upload_data, *upload_data_size);
            *upload_data_size = 0;
            return rc;
        }
        return dispatch(s, rq);
    case DWSD_STAGE_REPLYING:   /* resumed: the worker has filled the reply */
        return dwsd_respond(rq);
    case DWSD_STAGE_WORKING:    /* suspended connections are not called */
    case DWSD_STAGE_ANSWERED:
        break;
    }
    return MHD_YES;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
    dwsd_log_event("warn", "libmicrohttpd: %s", msg);
}

int dwsd_http_start(dwsd_server *s, char *why, size_t why_len)
{
    const dwsd_config *cfg = s->cfg;
    int fd = dwsd_listen(cfg->host, cfg->port, LISTEN_BACKLOG, &s->port, why, why_len);
    if (fd < 0) return -1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,   /* first, so it sees every message */
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->io_threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->conn_timeout_s,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_END);
    if (!s->mhd) {
        close(fd);
        snprintf(why, why_len, "cannot start the HTTP server on %s (see the log above)", cfg->listen);
        return -1;
    }
    return 0;
}

int dwsd_http_port(dwsd_server *s)
{
    return s->port;
}

void dwsd_http_stop_accepting(dwsd_server *s)
{
    MHD_socket fd = MHD_quiesce_daemon(s->mhd);
    if (fd == MHD_INVALID_SOCKET) return;
    /* Connections the kernel completed but nobody accepted yet are clients too. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int c = accept4(fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
        if (c < 0) break;
        if (MHD_add_connection(s->mhd, c, (struct sockaddr *)&peer, len) != MHD_YES)
            dwsd_log_event("warn", "could not hand an accepted connection over while draining");
    }
    close(fd);
}

void dwsd_http_stop(dwsd_server *s)
{
    MHD_stop_daemon(s->mhd);
    s->mhd = NULL;
}
