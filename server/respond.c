#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"

static const char fallback_problem[] =
    "{\"type\":\"urn:dwsnet:problem:out_of_memory\",\"title\":\"Out of memory\",\"status\":503,"
    "\"code\":\"out_of_memory\"}";

enum MHD_Result dwsd_respond(dwsd_request *rq)
{
    dwsd_reply *r = &rq->reply;
    if (!r->status) dwsd_reply_error(r, DWSD_E_INTERNAL, "the request was not answered");
    struct MHD_Response *resp;
    const char *type;
    int status = r->status;
    size_t len;
    if (r->code) {
        type = "application/problem+json";
        char *text = dwsd_problem_json(r->code, r->detail, rq->id, rq->path, &len);
        if (text) {
            resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
            if (!resp) free(text);
        } else {
            status = 503;
            len = sizeof fallback_problem - 1;
            resp = MHD_create_response_from_buffer(len, (void *)fallback_problem,
                                                   MHD_RESPMEM_PERSISTENT);
        }
    } else {
        type = r->content_type;
        len = r->len;
        resp = MHD_create_response_from_buffer(len, r->body, MHD_RESPMEM_MUST_FREE);
        if (resp) r->body = NULL, r->len = 0;   /* libmicrohttpd owns it now */
    }
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "X-Request-Id", rq->id);
    if (status == 200 && r->model[0]) MHD_add_response_header(resp, "X-DWSNet-Model", r->model);
    if (status == 200 && r->filename[0]) {
        char disposition[sizeof r->filename + 32];
        snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", r->filename);
        MHD_add_response_header(resp, "Content-Disposition", disposition);
    }
    if (r->allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    for (int i = 0; i < r->n_headers; i++)
        MHD_add_response_header(resp, r->headers[i].name,
                                r->headers[i].value ? r->headers[i].value : r->headers[i].text);
    if (r->retry_after > 0) {
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    }
    /* While draining, tell keep-alive clients not to send another request here;
     * after a framing error, what follows on the connection is unreadable. */
    if (r->close || atomic_load(&rq->server->draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = MHD_queue_response(rq->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (rc == MHD_YES) {
        rq->sent_status = status;
        rq->sent_bytes = len;
        rq->stage = DWSD_STAGE_ANSWERED;
    }
    return rc;
}
