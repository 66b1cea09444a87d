/* Adapting and embedding decoded ONNX classifiers, one or a batch: each job's
 * fold into the pixel frame, the shared forward, each job's unfold and encoding.
 * The one definition of what `dwsnet adapt` / `dwsnet embed` and dwsnetd's /adapt
 * and /embed return, so the CLI and the daemon stay byte-identical, batched or
 * not. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "base/base.h"

size_t dws_pixel_frame_bytes(const dws_onnx *onnx, const dws_input_norm *norm)
{
    if (!dws_onnx_input_affine(onnx) && (!norm || norm->n == 0)) return 0;
    const dws_mlp *w = dws_onnx_weights(onnx);
    /* The folded twin, the affine map, and the fold's one-row scratch. */
    return sizeof(float) * w->n_params + (size_t)w->widths[0] * (3 * sizeof(double) + sizeof(int64_t) + sizeof(float));
}

static void job_fail(dws_onnx_job *j, dws_onnx_job_done done, void *ctx)
{
    j->rc = -1;
    if (done) done(j, ctx);
}

static int encode_adapted(const dws_model *m, const dws_run_opts *opts, dws_onnx_job *j)
{
    /* The domain it was adapted to, in its provenance (the apply resolved it). */
    dws_adapt_domain domain;
    char spec[256];
    if (dws_model_resolve_domain(m, opts ? opts->domain : NULL, &domain, &j->err) != 0) return -1;
    dws_adapt_domain_format(&domain, spec, sizeof spec);
    const dws_kv meta[] = {
        {"dwsnet.adapter", dws_model_id(m)},
        {"dwsnet.version", DWS_VERSION},
        {"dwsnet.domain", spec},
        {"dwsnet.domain_estimate", opts ? opts->domain_note : NULL},
    };
    int n_meta = sizeof meta / sizeof meta[0] - (opts && opts->domain_note ? 0 : 1);
    return dws_onnx_encode(j->onnx, &j->adapted, meta, n_meta, &j->bytes, &j->len, &j->err);
}

/* The shared part: every job folded into the pixel frame (a job whose fold fails
 * is done at once), the folded weights of the rest through one batched call, then
 * each job finished by finish() and handed to done. */
typedef int (*finish_fn)(const dws_model *m, const dws_run_opts *opts, dws_onnx_job *j, const dws_pixel_frame *f);

/* Up to this many jobs keep their bookkeeping on the stack: a request alone then
 * allocates exactly what it did before batches existed, and its large buffers
 * land where they did (their placement measurably changes the forward's speed). */
#define STACK_JOBS 8

static int run_jobs(const dws_model *m, dws_onnx_job *jobs, int n, const dws_run_opts *opts, int adapter,
                    finish_fn finish, dws_onnx_job_done done, void *ctx)
{
    struct {
        dws_pixel_frame f[STACK_JOBS];
        const dws_mlp *in[STACK_JOBS];
        int at[STACK_JOBS], rc[STACK_JOBS], dim[STACK_JOBS];
        dws_mlp out[STACK_JOBS];
        float *emb[STACK_JOBS];
        dws_error errs[STACK_JOBS];
    } small;
    const int heap = n > STACK_JOBS;
    const size_t k_n = (size_t)(heap ? n : 1);
    dws_pixel_frame *f = heap ? calloc(k_n, sizeof *f) : small.f;
    const dws_mlp **in = heap ? calloc(k_n, sizeof *in) : small.in;
    int *at = heap ? calloc(k_n, sizeof *at) : small.at, *rc = heap ? calloc(k_n, sizeof *rc) : small.rc;
    dws_mlp *out = heap ? calloc(k_n, sizeof *out) : small.out;
    float **emb = heap ? calloc(k_n, sizeof *emb) : small.emb;
    int *dim = heap ? calloc(k_n, sizeof *dim) : small.dim;
    dws_error *errs = heap ? calloc(k_n, sizeof *errs) : small.errs;
    int good = 0;
    for (int i = 0; i < n; i++) {
        dws_onnx_job *j = &jobs[i];
        j->rc = 0;
        dws_error_clear(&j->err);
        memset(&j->adapted, 0, sizeof j->adapted);
        j->bytes = NULL, j->len = 0, j->embedding = NULL, j->dim = 0;
    }
    if (!f || !in || !at || !rc || !out || !emb || !dim || !errs) {
        for (int i = 0; i < n; i++) {
            dws_error_set(&jobs[i].err, DWS_E_OUT_OF_MEMORY, "cannot allocate a batch of %d", n);
            job_fail(&jobs[i], done, ctx);
        }
        goto out;
    }
    int k = 0;   /* jobs whose fold succeeded: at[0 .. k) */
    const dws_frame normalized = adapter ? dws_model_frame_for_normalized(m) : DWS_FRAME_PIXEL;
    for (int i = 0; i < n; i++) {
        dws_onnx_job *j = &jobs[i];
        if (dws_pixel_frame_open(&f[i], j->onnx, j->input_norm, normalized, &j->err) != 0) {
            job_fail(j, done, ctx);
            continue;
        }
        in[k] = dws_pixel_frame_weights(&f[i], j->onnx);
        at[k++] = i;
    }
    dws_run_opts o = opts ? *opts : (dws_run_opts){0};
    o.input_norm = NULL;
    if (adapter) dws_adapter_apply_batch(m, in, k, out, rc, errs, &o);
    else dws_encoder_embed_batch(m, in, k, emb, dim, rc, errs, &o);
    for (int b = 0; b < k; b++) {
        dws_onnx_job *j = &jobs[at[b]];
        if (adapter) j->adapted = out[b];
        else j->embedding = emb[b], j->dim = dim[b];
        j->rc = rc[b];
        if (rc[b] != 0) j->err = errs[b];
        else j->rc = finish(m, opts, j, &f[at[b]]);
        dws_pixel_frame_close(&f[at[b]]);
        if (j->rc != 0) {
            dws_mlp_free(&j->adapted);
            free(j->embedding);
            j->embedding = NULL, j->dim = 0;
            job_fail(j, done, ctx);
            continue;
        }
        good++;
        if (done) done(j, ctx);
    }
out:
    if (heap) free(f), free(in), free(at), free(rc), free(out), free(emb), free(dim), free(errs);
    return good;
}

static int finish_adapt(const dws_model *m, const dws_run_opts *opts, dws_onnx_job *j, const dws_pixel_frame *f)
{
    if (dws_pixel_frame_unfold(f, j->onnx, &j->adapted, &j->err) != 0) return -1;
    return encode_adapted(m, opts, j);
}

static int finish_embed(const dws_model *m, const dws_run_opts *opts, dws_onnx_job *j, const dws_pixel_frame *f)
{
    (void)m, (void)opts, (void)j, (void)f;
    return 0;
}

int dws_adapt_onnx_batch(const dws_model *m, dws_onnx_job *jobs, int n, const dws_run_opts *opts,
                         dws_onnx_job_done done, void *ctx)
{
    return run_jobs(m, jobs, n, opts, 1, finish_adapt, done, ctx);
}

int dws_embed_onnx_batch(const dws_model *m, dws_onnx_job *jobs, int n, const dws_run_opts *opts,
                         dws_onnx_job_done done, void *ctx)
{
    return run_jobs(m, jobs, n, opts, 0, finish_embed, done, ctx);
}

int dws_adapt_onnx(const dws_model *m, const dws_onnx *onnx, const dws_run_opts *opts, dws_mlp *adapted,
                   uint8_t **out, size_t *out_len, dws_error *err)
{
    dws_onnx_job j = {.onnx = onnx, .input_norm = opts ? opts->input_norm : NULL};
    dws_adapt_onnx_batch(m, &j, 1, opts, NULL, NULL);
    if (adapted) *adapted = j.adapted;
    else dws_mlp_free(&j.adapted);
    if (j.rc != 0) {
        if (err) *err = j.err;
        return -1;
    }
    *out = j.bytes;
    *out_len = j.len;
    return 0;
}

int dws_embed_onnx(const dws_model *m, const dws_onnx *onnx, const dws_run_opts *opts, float **embedding, int *dim,
                   dws_error *err)
{
    dws_onnx_job j = {.onnx = onnx, .input_norm = opts ? opts->input_norm : NULL};
    dws_embed_onnx_batch(m, &j, 1, opts, NULL, NULL);
    if (j.rc != 0) {
        if (err) *err = j.err;
        *embedding = NULL;
        *dim = 0;
        return -1;
    }
    *embedding = j.embedding;
    *dim = j.dim;
    return 0;
}
