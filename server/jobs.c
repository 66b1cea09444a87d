/* Jobs on the worker pool (jobs.h). Batched serving: the worker decodes the
 * request it took, then takes the requests waiting behind it that may share its
 * forward (same endpoint, model set, ?model= and ?domain=, and, once decoded, the
 * same model and widths), decodes each within what the batch's work memory leaves, and
 * gives back at once those that turn out not to fit: other widths, or more memory
 * than is left. Each request keeps its own errors, reply, memory reservation and
 * timing, and gets the bytes it gets alone (dws_adapt_onnx_batch). */
#include "jobs.h"

#include <stdio.h>
#include <string.h>

#include "inference.h"
#include "metrics.h"
#include "problem.h"
#include "request.h"

/* The reply replaces the body in the request's reservation; one larger than the
 * body (an /adapt answer can grow a little) takes the difference, if it is free. */
static void keep_reply_within_budget(dwsd_request *rq)
{
    dwsd_server *s = rq->server;
    if (rq->reply.len <= rq->body_reserved) return;
    size_t more = rq->reply.len - rq->body_reserved;
    if (dwsd_budget_take(&s->body_budget, more)) {
        rq->body_reserved += more;
        return;
    }
    size_t len = rq->reply.len;
    dwsd_reply_reset(&rq->reply);
    dwsd_reply_error(&rq->reply, DWSD_E_OVERLOADED,
                     "the %zu-byte answer does not fit the memory for responses (--body-memory); retry later", len);
    rq->reply.retry_after = dwsd_queue_retry_after(s->queue);
}

/* The request's reply is final: hand it back to the HTTP thread. rq must not be
 * touched after this. */
static void answer(dwsd_request *rq)
{
    keep_reply_within_budget(rq);
    rq->work_done = dwsd_now();
    dwsd_body_discard(&rq->body);   /* the upload is no longer needed while the reply waits */
    /* rq belongs to the HTTP thread from here on; should the response then fail (the
     * client went away), finish() must not take it for a job still running. */
    rq->stage = DWSD_STAGE_REPLYING;
    MHD_resume_connection(rq->conn);
}

static dwsd_inference inference_of(const dwsd_request *rq, int threads)
{
    const dwsd_config *cfg = rq->server->cfg;
    return (dwsd_inference){
        .op = rq->endpoint,
        .onnx = rq->body.data,
        .onnx_len = rq->body.len,
        .max_bytes = cfg->body_limit,
        .work_memory = cfg->work_memory,
        .models = rq->models,
        .model_id = rq->model_id,
        .filename = rq->body.filename,
        .images = rq->body.images,
        .parts = rq->body.parts,
        .n_parts = rq->body.n_parts,
        .input_norm = &rq->input_norm,
        .domain = &rq->domain,
        .threads = threads,
    };
}

static void set_key(dwsd_request *rq, const dwsd_prepared *p)
{
    const dws_mlp *w = dws_onnx_weights(p->onnx);
    rq->batch_key.known = 1;
    rq->batch_key.model = p->model;
    rq->batch_key.n_layers = w->n_layers;
    memcpy(rq->batch_key.widths, w->widths, sizeof(int64_t) * (size_t)(w->n_layers + 1));
}

static int same_string(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* May a waiting request join the lead's batch? Cheap checks only (under the
 * queue's lock); its decode tells the rest. */
static int may_join(const dwsd_job *job, void *ctx)
{
    const dwsd_request *c = (const dwsd_request *)job, *lead = ctx;
    if (c->domain.kind == DWS_DOMAIN_AUTO || lead->domain.kind == DWS_DOMAIN_AUTO) return 0;   /* runs alone */
    if (c->endpoint != lead->endpoint || c->models != lead->models || c->batch_no_join ||
        !same_string(c->model_id, lead->model_id) || !dwsd_same_domain(&c->domain, &lead->domain))
        return 0;
    const int L = lead->batch_key.n_layers;
    return !c->batch_key.known ||
           (c->batch_key.model == lead->batch_key.model && c->batch_key.n_layers == L &&
            !memcmp(c->batch_key.widths, lead->batch_key.widths, sizeof(int64_t) * (size_t)(L + 1)));
}

typedef struct {
    dwsd_request *rq[DWSD_BATCH_MAX];
    dwsd_inference in[DWSD_BATCH_MAX];
    dwsd_prepared p[DWSD_BATCH_MAX];
    const dwsd_inference *inp[DWSD_BATCH_MAX];
    dwsd_prepared *pp[DWSD_BATCH_MAX];
    dwsd_reply *out[DWSD_BATCH_MAX];
    int n;
} batch;

static void add(batch *b, dwsd_request *rq, const dwsd_inference *in, const dwsd_prepared *p)
{
    int i = b->n++;
    b->rq[i] = rq;
    b->in[i] = *in;
    b->p[i] = *p;
    b->inp[i] = &b->in[i];
    b->pp[i] = &b->p[i];
    b->out[i] = &rq->reply;
}

static void member_done(int i, void *ctx)
{
    batch *b = ctx;
    b->rq[i]->batch_size = b->n;
    answer(b->rq[i]);
}

/* Candidate c, taken from the queue: joins b, is answered (an error of its own),
 * or goes back to the queue (*back). decoded: bytes the batch's decoded models
 * hold so far. Returns 0 when the batch is full (nothing more can join). */
static int consider(batch *b, dwsd_request *c, int threads, size_t *decoded, dwsd_metrics *metrics, int *back)
{
    const size_t work = c->server->cfg->work_memory;
    *back = 0;
    c->work_started = dwsd_now();
    dwsd_inference in = inference_of(c, threads);
    dwsd_prepared p;
    size_t limit = work > *decoded ? work - *decoded : 0;
    if (!dwsd_inference_prepare(&in, limit, &p, &c->reply)) {
        if (c->reply.code && !strcmp(c->reply.code, DWS_E_TOO_LARGE) && limit < work) {
            /* Too large for what the batch leaves; alone it may fit. */
            dwsd_reply_reset(&c->reply);
            c->batch_no_join = 1;
            *back = 1;
            dwsd_metrics_batch_back(metrics, DWSD_BACK_MEMORY);
            return 1;
        }
        c->batch_size = 1;
        answer(c);   /* its own error, the one it gets alone */
        return 1;
    }
    set_key(c, &p);
    if (!dwsd_prepared_batchable(&b->p[0], &p)) {
        dwsd_prepared_free(&p);
        *back = 1;
        dwsd_metrics_batch_back(metrics, DWSD_BACK_WIDTHS);
        return 1;
    }
    add(b, c, &in, &p);
    if (dwsd_batch_need(b->inp, (const dwsd_prepared *const *)b->pp, b->n) > work) {
        b->n--;
        dwsd_prepared_free(&p);
        c->batch_no_join = 1;   /* it may lead a batch of its own */
        *back = 1;
        dwsd_metrics_batch_back(metrics, DWSD_BACK_MEMORY);
        return 0;
    }
    *decoded += dws_onnx_decoded_bytes(p.onnx);
    return 1;
}

/* The lead, prepared, and what waits behind it that may share its forward. */
static void run_batched(dwsd_request *lead, dwsd_worker *w, int threads)
{
    dwsd_server *s = lead->server;
    static __thread batch b;   /* large; one per worker thread */
    b.n = 0;
    dwsd_inference in = inference_of(lead, threads);
    dwsd_prepared p;
    if (!dwsd_inference_prepare(&in, in.work_memory, &p, &lead->reply)) {
        lead->batch_size = 1;
        answer(lead);
        return;
    }
    set_key(lead, &p);
    add(&b, lead, &in, &p);
    size_t decoded = dws_onnx_decoded_bytes(p.onnx);
    dwsd_job *taken[DWSD_BATCH_MAX], *back[DWSD_BATCH_MAX];
    /* At most --batch, and what the worker's workspace keeps (no fresh memory). */
    const dws_mlp *lw = dws_onnx_weights(p.onnx);
    dws_run_opts ro = {.threads = threads};
    int cap = s->cfg->batch < 2 ? 1 : dws_model_batch_cap(p.model, lw->n_layers, lw->widths, s->cfg->batch, &ro);
    int n_taken = cap < 2 ? 0 : dwsd_worker_take(w, may_join, lead, taken, cap - 1);
    int n_back = 0, open = 1;
    for (int k = 0; k < n_taken; k++) {
        dwsd_request *c = (dwsd_request *)taken[k];
        int give = 1;
        if (open) open = consider(&b, c, threads, &decoded, s->metrics, &give);
        if (give) back[n_back++] = taken[k];
    }
    while (n_back > 0) dwsd_worker_give_back(w, back[--n_back]);   /* last first: the order stays */
    dwsd_metrics_batch(s->metrics, b.n);
    dwsd_inference_run_batch(b.inp, b.pp, b.out, b.n, member_done, &b);
}

void dwsd_job_run(dwsd_job *job, dwsd_worker *w)
{
    dwsd_request *rq = (dwsd_request *)job;
    dwsd_server *s = rq->server;
    const dwsd_config *cfg = s->cfg;
    rq->work_started = dwsd_now();
    /* Results do not depend on the thread count, so a lone request may use every CPU
     * and a busy daemon gives each worker's job its share. */
    int threads = cfg->job_threads;
    if (threads == 0) {
        int busy = dwsd_queue_busy(s->queue);
        threads = busy > 1 ? cfg->cpus / busy : cfg->cpus;
        if (threads < 1) threads = 1;
    }
    /* At most `workers` jobs run, each within the work memory (a batch within one
     * worker's): this always fits, and keeps the accounting honest should that
     * ever change. */
    if (!dwsd_budget_take(&s->work_budget, cfg->work_memory)) {
        dwsd_reply_error(&rq->reply, DWSD_E_OVERLOADED, "no work memory is free; retry later");
        answer(rq);
        return;
    }
    run_batched(rq, w, threads);
    dwsd_budget_give(&s->work_budget, cfg->work_memory);
}
