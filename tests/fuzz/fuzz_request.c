/* libFuzzer target for the daemon's request handling: the input is the raw bytes a
 * client sends on one connection. libmicrohttpd parses the request line, headers and
 * query (as in dwsnetd), and the daemon's own code takes it from there: routing,
 * the request id, Content-Type/Content-Length checks and the body, octet-stream or
 * multipart/form-data through MHD's post processor (server/body.c, routes.c,
 * request_id.c). Models are not run: the body's fate is decided before that.
 *
 * Everything runs on the fuzzer's thread: MHD in external-select mode, the
 * connection a socketpair handed over with MHD_add_connection, so leaks and
 * over-reads are reported against the input that caused them.
 * Seeds: tests/fuzz/corpus/request/. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "body.h"
#include "fuzz_target.h"
#include "request_id.h"
#include "routes.h"

#define BODY_LIMIT (64 * 1024)
#define MAX_ROUNDS 100000   /* MHD_run calls per input before calling it a hang */

typedef struct {
    dwsd_endpoint endpoint;
    int is_job;         /* /adapt or /embed with the right method: the body is read */
    int refused;
    char id[DWSD_REQUEST_ID_MAX + 1];
    dwsd_body body;
} exchange;

static struct MHD_Daemon *daemon_;

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status)
{
    static const char text[] = "answered";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof text - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **ctx)
{
    (void)cls, (void)version;
    exchange *x = *ctx;
    if (!x) {
        x = calloc(1, sizeof *x);
        if (!x) return MHD_NO;
        *ctx = x;
        const char *allow;
        dwsd_route_result route = dwsd_route(url, method, &x->endpoint, &allow);
        dwsd_request_id(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id"), x->id);
        for (const char *p = x->id; *p; p++)   /* ids are echoed in headers and logs */
            if (*p <= ' ' || *p > '~' || *p == '"') abort();
        const char *model = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "model");
        if (model) (void)strlen(model);
        if (route != DWSD_ROUTE_OK || !dwsd_endpoint_is_job(x->endpoint)) {
            x->body.limit = BODY_LIMIT;
            dwsd_body_discard(&x->body);
            return MHD_YES;
        }
        x->is_job = 1;
        if (dwsd_body_begin(&x->body, c, BODY_LIMIT) == DWSD_BODY_REFUSE) {
            x->refused = 1;
            return answer(c, 413);
        }
        /* as http.c: /v1/estimate-domain takes `images` fields and no model */
        if (x->endpoint == DWSD_EP_ESTIMATE) x->body.accept_images = x->body.images_only = 1;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (x->refused) return MHD_YES;
        return dwsd_body_feed(&x->body, upload_data, n) ? MHD_NO : MHD_YES;
    }
    if (x->refused) return MHD_YES;
    if (!x->is_job) return answer(c, 404);
    dwsd_body_end(&x->body);
    const dwsd_body *b = &x->body;
    if (b->images_only) {
        /* Images: parts that tile the image buffer, at most the field limit; or a raw
         * body as one file; or an error and nothing. */
        size_t at = 0;
        for (int i = 0; i < b->n_parts; i++) {
            if (b->parts[i].off != at) abort();
            at += b->parts[i].len;
        }
        if (at != b->images_len || b->images_len > BODY_LIMIT || b->n_parts > DWSD_MAX_IMAGE_FIELDS) abort();
        int has = b->n_parts > 0 || (!b->was_form && b->len > 0);
        if ((b->error == NULL) != has) abort();
        if (b->error && (b->len || b->images_len || b->n_parts)) abort();
    } else if (b->len > BODY_LIMIT || (b->error == NULL) != (b->len > 0)) {
        /* What the worker would get: a model within the limit, or an error and no bytes. */
        abort();
    }
    return answer(c, x->body.error ? 400 : 200);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **ctx,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    exchange *x = *ctx;
    if (!x) return;
    dwsd_body_free(&x->body);
    free(x);
    *ctx = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    daemon_ = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_request, NULL,
                               MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                               MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
                               MHD_OPTION_END);
    if (!daemon_) {
        fprintf(stderr, "fuzz_request: MHD_start_daemon failed\n");
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) abort();
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (MHD_add_connection(daemon_, sv[1], (struct sockaddr *)&peer, sizeof peer) != MHD_YES)
        abort();
    size_t sent = 0;
    int closed = 0;
    char reply[4096];
    for (int round = 0; !closed; round++) {
        if (round == MAX_ROUNDS) {
            fprintf(stderr, "fuzz_request: the connection was not closed after the input\n");
            abort();
        }
        if (sent < size) {
            ssize_t n = write(sv[0], data + sent, size - sent);
            if (n > 0) sent += (size_t)n;
            if (n < 0 && errno != EAGAIN) sent = size;   /* MHD closed it early */
            if (sent == size) shutdown(sv[0], SHUT_WR);
        } else if (size == 0 && round == 0) {
            shutdown(sv[0], SHUT_WR);
        }
        MHD_run(daemon_);
        ssize_t got;
        while ((got = read(sv[0], reply, sizeof reply)) > 0) {}
        if (got == 0 || (got < 0 && errno != EAGAIN)) closed = 1;
    }
    close(sv[0]);
    /* Let MHD finish its own cleanup of the closed connection. */
    MHD_run(daemon_);
    return 0;
}
