#include "inference.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "onnx/onnx_codec.h"
#include "inspect.h"
#include "problem.h"
#include "work_need.h"

static dws_model_kind kind_of(dwsd_endpoint op)
{
    return op == DWSD_EP_ADAPT ? DWS_MODEL_ADAPTER : DWS_MODEL_ENCODER;
}

static void core_error(dwsd_reply *out, const dws_error *err)
{
    dwsd_reply_error(out, err->code ? err->code : DWSD_E_INTERNAL, "%s", err->message);
}

int dwsd_inference_precheck(const dwsd_inference *in, dwsd_reply *out)
{
    if (!in->model_id || in->op == DWSD_EP_INSPECT) return 0;
    const dws_model *m = dwsd_model_set_find(in->models, in->model_id);
    if (in->op == DWSD_EP_ESTIMATE) {
        if (dwsd_model_set_estimator(in->models, in->model_id)) return 0;
        if (m)
            dwsd_reply_error(out, DWSD_E_WRONG_MODEL_KIND, "model '%.128s' is an %s; %s needs a domain estimator",
                             in->model_id, dws_model_kind_name(dws_model_get_kind(m)), dwsd_endpoint_name(in->op));
        else
            dwsd_reply_error(out, DWSD_E_UNKNOWN_MODEL, "no loaded model has id '%.128s' (see /v1/models)",
                             in->model_id);
        return -1;
    }
    if (!m && dwsd_model_set_estimator(in->models, in->model_id)) {
        dwsd_reply_error(out, DWSD_E_WRONG_MODEL_KIND, "model '%.128s' is a domain estimator; %s needs an %s",
                         in->model_id, dwsd_endpoint_name(in->op), dws_model_kind_name(kind_of(in->op)));
        return -1;
    }
    if (!m) {
        dwsd_reply_error(out, DWSD_E_UNKNOWN_MODEL, "no loaded model has id '%.128s' (see /v1/models)",
                         in->model_id);
        return -1;
    }
    if (dws_model_get_kind(m) != kind_of(in->op)) {
        dwsd_reply_error(out, DWSD_E_WRONG_MODEL_KIND, "model '%.128s' is an %s; %s needs an %s",
                         in->model_id, dws_model_kind_name(dws_model_get_kind(m)),
                         dwsd_endpoint_name(in->op), dws_model_kind_name(kind_of(in->op)));
        return -1;
    }
    return 0;
}

int dwsd_inference_input_norm(const char *mean, const char *std, const char *range, dws_input_norm *norm,
                              dwsd_reply *out)
{
    dws_error err;
    dws_error_clear(&err);
    if (dws_input_norm_parse(norm, mean, std, range, &err) == 0) return 0;
    dwsd_reply_error(out, DWS_E_INVALID_ARGUMENT, "%s", err.message);
    return -1;
}

int dwsd_inference_domain(const char *spec, dws_adapt_domain *d, dwsd_reply *out)
{
    dws_error err;
    dws_error_clear(&err);
    if (dws_adapt_domain_parse(spec, d, &err) == 0) return 0;
    dwsd_reply_error(out, DWS_E_UNKNOWN_DOMAIN, "%s", err.message);
    return -1;
}

/* "3072-128-128-10 relu", for messages. */
static void describe(const dws_mlp *w, char *out, size_t n)
{
    size_t k = 0;
    for (int l = 0; l <= w->n_layers && k < n; l++)
        k += (size_t)snprintf(out + k, n - k, l ? "-%lld" : "%lld", (long long)w->widths[l]);
    if (k < n)
        snprintf(out + k, n - k, " %s",
                 dws_activation_name(w->n_layers > 1 ? w->act[0] : DWS_ACT_IDENTITY));
}

static const dws_model *choose_model(const dwsd_inference *in, const dws_mlp *w, dwsd_reply *out)
{
    dws_error err;
    dws_error_clear(&err);
    char shape[160];
    describe(w, shape, sizeof shape);
    const int adapting = in->op == DWSD_EP_ADAPT;
    dws_adapt_domain resolved;
    if (in->model_id) {
        const dws_model *m = dwsd_model_set_find(in->models, in->model_id);
        if (dws_model_check_input(m, w, &err) == 0 &&
            (!adapting || dws_model_resolve_domain(m, in->domain, &resolved, &err) == 0))
            return m;
        dwsd_reply_error(out, err.code ? err.code : DWS_E_INCOMPATIBLE_MODEL, "MLP %s: %s", shape,
                         err.message);
        return NULL;
    }
    char why[512] = "";
    size_t used = 0;
    int candidates = 0, fitting = 0;
    for (int i = 0; i < dwsd_model_set_count(in->models); i++) {
        const dws_model *m = dwsd_model_set_get(in->models, i);
        if (dws_model_get_kind(m) != kind_of(in->op)) continue;
        candidates++;
        int fits = dws_model_check_input(m, w, &err) == 0;
        fitting += fits;
        /* An adapter must also read the domain asked for. */
        if (fits && (!adapting || dws_model_resolve_domain(m, in->domain, &resolved, &err) == 0)) return m;
        if (used < sizeof why)
            used += (size_t)snprintf(why + used, sizeof why - used, "%s%s", used ? "; " : "",
                                     err.message);
    }
    if (fitting)
        dwsd_reply_error(out, DWS_E_UNKNOWN_DOMAIN, "no loaded adapter that accepts MLP %s reads this domain: %s",
                         shape, why);
    else if (!candidates)
        dwsd_reply_error(out, DWSD_E_NO_MODEL, "no %s model is loaded",
                         dws_model_kind_name(kind_of(in->op)));
    else
        dwsd_reply_error(out, DWS_E_INCOMPATIBLE_MODEL, "no loaded %s accepts MLP %s: %s",
                         dws_model_kind_name(kind_of(in->op)), shape, why);
    return NULL;
}

/* Each worker thread keeps one workspace (a forward's activations and scratch)
 * from job to job, freed when the thread ends. */
static pthread_key_t workspace_key;
static pthread_once_t workspace_once = PTHREAD_ONCE_INIT;

static void workspace_free(void *w)
{
    dws_workspace_free(w);
}

static void workspace_key_make(void)
{
    pthread_key_create(&workspace_key, workspace_free);
}

static dws_workspace *worker_workspace(void)
{
    pthread_once(&workspace_once, workspace_key_make);
    dws_workspace *w = pthread_getspecific(workspace_key);
    if (!w && (w = dws_workspace_new()) && pthread_setspecific(workspace_key, w) != 0) {
        dws_workspace_free(w);
        w = NULL;
    }
    return w;   /* NULL: the call allocates its own */
}

/* o rendered on one line, then deleted (NULL o or no memory: NULL). */
static char *print_and_delete(cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return text;
}

/* Floats as the shortest text that reads back to the same float. */
static cJSON *float_number(float v)
{
    if (!isfinite(v)) return cJSON_CreateNull();
    char text[32];
    snprintf(text, sizeof text, "%.9g", (double)v);
    return cJSON_CreateRaw(text);
}

/* An /adapt answer from its finished job (the job's bytes move to the reply). */
static void adapt_reply(const dwsd_inference *in, const dwsd_prepared *p, dws_onnx_job *j, dwsd_reply *out)
{
    dws_adapt_domain domain;
    char spec[256];
    if (j->rc != 0 || dws_model_resolve_domain(p->model, &p->domain, &domain, &j->err) != 0) {
        core_error(out, &j->err);
        return;
    }
    dws_adapt_domain_format(&domain, spec, sizeof spec);
    dwsd_reply_ok(out, "application/octet-stream", j->bytes, j->len);
    j->bytes = NULL;
    dwsd_reply_header(out, "X-DWSNet-Max-Change", "%.9g", dws_mlp_max_abs_diff(dws_onnx_weights(j->onnx), &j->adapted));
    /* With auto: the estimate, "fog:4 (p=0.93)" (the note's head; metadata_props has it whole). */
    const char *from = p->has_note ? strstr(p->note, " from ") : NULL;
    if (from) dwsd_reply_header(out, "X-DWSNet-Domain", "%.*s", (int)(from - p->note), p->note);
    else dwsd_reply_header(out, "X-DWSNet-Domain", "%s", spec);
    snprintf(out->filename, sizeof out->filename, "%s.adapted.onnx",
             in->filename && *in->filename ? in->filename : "model");
}

static void embed_reply(const dws_model *m, dws_onnx_job *j, dwsd_reply *out)
{
    if (j->rc != 0) {
        core_error(out, &j->err);
        return;
    }
    const dws_mlp *w = dws_onnx_weights(j->onnx);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", dws_model_id(m));
    cJSON *arr = cJSON_AddArrayToObject(o, "embedding");
    for (int i = 0; i < j->dim; i++) cJSON_AddItemToArray(arr, float_number(j->embedding[i]));
    cJSON_AddNumberToObject(o, "dim", j->dim);
    cJSON *widths = cJSON_AddArrayToObject(o, "widths");
    for (int l = 0; l <= w->n_layers; l++)
        cJSON_AddItemToArray(widths, cJSON_CreateNumber((double)w->widths[l]));
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) {
        dwsd_reply_error(out, DWS_E_OUT_OF_MEMORY, "out of memory writing the embedding");
        return;
    }
    dwsd_reply_ok(out, "application/json", text, strlen(text));
}

/* The request's need, computed before the network allocates anything; above the
 * work memory: 413 too_large with both numbers. */
static int fits_work_memory(const dwsd_inference *in, const dws_onnx *onnx, const dws_model *m, size_t *total,
                            dwsd_reply *out)
{
    dwsd_work_need need;
    dws_error err;
    dws_error_clear(&err);
    if (dwsd_work_need_of(m, onnx, in->input_norm, in->op == DWSD_EP_ADAPT, in->threads, &need, &err) != 0) {
        core_error(out, &err);
        return 0;
    }
    *total = need.total;
    if (need.total <= in->work_memory) return 1;
    dwsd_reply_error(out, DWS_E_TOO_LARGE,
                     "this request needs %zu bytes of work memory (decoded model %zu, %s %zu, answer %zu); the limit "
                     "is %zu (--work-memory; /v1/models lists each model's max_hidden_width)",
                     need.total, need.decode, dws_model_kind_name(dws_model_get_kind(m)), need.run, need.encode,
                     in->work_memory);
    return 0;
}

/* Every image of the request, decoded within the work memory and the image limit:
 * the form's `images` fields, or a raw body as one file. */
static int decode_images(const dwsd_inference *in, dws_image_list *l, dws_image_budget *b, dwsd_reply *out)
{
    dws_error err;
    dws_error_clear(&err);
    char what[DWSD_PART_NAME_MAX + 48];
    if (in->n_parts == 0) {
        if (dws_image_decode(in->onnx, in->onnx_len, "the body", l, b, &err) == 0) return 0;
        core_error(out, &err);
        return -1;
    }
    for (int i = 0; i < in->n_parts; i++) {
        const dwsd_part *p = &in->parts[i];
        if (*p->name) snprintf(what, sizeof what, "images field %d ('%s')", i + 1, p->name);
        else snprintf(what, sizeof what, "images field %d", i + 1);
        if (dws_image_decode(in->images + p->off, p->len, what, l, b, &err)) {
            core_error(out, &err);
            return -1;
        }
    }
    return 0;
}

/* POST /v1/estimate-domain: the images' domain as `dwsnet estimate-domain` prints it. */
static void estimate(const dwsd_inference *in, dwsd_reply *out)
{
    const dws_estimator *e = dwsd_model_set_estimator(in->models, in->model_id);
    if (!e) {
        dwsd_reply_error(out, DWSD_E_NO_MODEL, "no domain estimator is loaded (models/%s, `dwsnet train-estimator`)",
                         "cifar10c-domain-estimator.dws");
        return;
    }
    snprintf(out->model, sizeof out->model, "%s", dws_estimator_id(e));
    dws_image_budget b = {.max_bytes = in->work_memory, .max_images = DWSD_MAX_IMAGES};
    dws_image_list l = {0};
    dws_domain_estimate est;
    dws_error err;
    dws_error_clear(&err);
    if (decode_images(in, &l, &b, out) == 0) {
        if (dws_estimate_domain(e, l.x, l.n, &est, &err)) {
            core_error(out, &err);
        } else {
            char *text = print_and_delete(dws_domain_estimate_json(e, &est));
            if (!text) dwsd_reply_error(out, DWS_E_OUT_OF_MEMORY, "out of memory writing the estimate");
            else dwsd_reply_ok(out, "application/json", text, strlen(text));
        }
    }
    dws_image_list_free(&l, &b);
}

/* /adapt with domain=auto: the domain the estimator names for the request's images
 * (clean: none) into *d, and a note on the estimate. */
static int auto_domain(const dwsd_inference *in, dws_adapt_domain *d, char *note, size_t size, dwsd_reply *out)
{
    const dws_estimator *e = dwsd_model_set_estimator(in->models, NULL);
    if (!in->n_parts) {
        dwsd_reply_error(out, DWSD_E_NO_IMAGES, "domain=auto needs unlabeled images from the target domain: send "
                         "them as `images` fields of the form, beside `model` (PNG or JPEG 32 x 32 RGB, or CIFAR-10 "
                         "records; at most %d)", DWS_AUTO_MAX_IMAGES);
        return -1;
    }
    if (!e) {
        dwsd_reply_error(out, DWSD_E_NO_MODEL, "domain=auto needs a domain estimator and none is loaded");
        return -1;
    }
    dws_image_budget b = {.max_bytes = in->work_memory, .max_images = DWS_AUTO_MAX_IMAGES};
    dws_image_list l = {0};
    dws_domain_estimate est;
    dws_error err;
    dws_error_clear(&err);
    int rc = decode_images(in, &l, &b, out);
    if (rc == 0 && (rc = dws_estimate_domain(e, l.x, l.n, &est, &err)) != 0) core_error(out, &err);
    if (rc == 0) dws_adapt_domain_estimated(e, &est, d, note, size);
    dws_image_list_free(&l, &b);
    return rc;
}

int dwsd_inference_prepare(const dwsd_inference *in, size_t decode_limit, dwsd_prepared *p, dwsd_reply *out)
{
    memset(p, 0, sizeof *p);
    if (in->op == DWSD_EP_ESTIMATE) {   /* images, no classifier: answered here */
        estimate(in, out);
        return 0;
    }
    /* The domain it runs for: the one asked, or with auto the one its images show
     * (kept in p: the run reads it there). */
    dwsd_inference auto_in;
    if (in->op == DWSD_EP_ADAPT && in->domain && in->domain->kind == DWS_DOMAIN_AUTO) {
        if (auto_domain(in, &p->domain, p->note, sizeof p->note, out) != 0) return 0;
        p->has_note = 1;
        auto_in = *in;
        auto_in.domain = &p->domain;
        auto_in.domain_note = p->note;
        in = &auto_in;
    } else if (in->op == DWSD_EP_ADAPT && in->n_parts) {
        dwsd_reply_error(out, DWS_E_INVALID_ARGUMENT, "`images` fields go with domain=auto");
        return 0;
    } else if (in->domain) {
        p->domain = *in->domain;
    }
    dws_error err;
    dws_error_clear(&err);
    dws_onnx_limits lim;
    dws_onnx_limits_default(&lim);
    lim.max_bytes = in->max_bytes;
    lim.max_memory = decode_limit;   /* the decoder checks its own share before allocating */
    dws_onnx *onnx = dws_onnx_decode(in->onnx, in->onnx_len, &lim, &err);
    if (!onnx) {
        if (err.code && !strcmp(err.code, DWS_E_TOO_LARGE))
            dwsd_reply_error(out, DWS_E_TOO_LARGE, "%s (--work-memory %zu bytes)", err.message, in->work_memory);
        else
            core_error(out, &err);
        return 0;
    }
    if (in->op == DWSD_EP_INSPECT) {
        dwsd_inspect_reply(in, onnx, out);
        dws_onnx_free(onnx);
        return 0;
    }
    const dws_model *m = choose_model(in, dws_onnx_weights(onnx), out);
    if (!m || !fits_work_memory(in, onnx, m, &p->need, out)) {
        dws_onnx_free(onnx);
        return 0;
    }
    snprintf(out->model, sizeof out->model, "%s", dws_model_id(m));
    p->onnx = onnx;
    p->model = m;
    return 1;
}

void dwsd_prepared_free(dwsd_prepared *p)
{
    dws_onnx_free(p->onnx);
    memset(p, 0, sizeof *p);
}

int dwsd_same_domain(const dws_adapt_domain *a, const dws_adapt_domain *b)
{
    if (a->kind != b->kind) return 0;
    return a->kind != DWS_DOMAIN_NAMED || dws_domain_same(&a->chain, &b->chain);
}

int dwsd_prepared_batchable(const dwsd_prepared *a, const dwsd_prepared *b)
{
    const dws_mlp *x = dws_onnx_weights(a->onnx), *y = dws_onnx_weights(b->onnx);
    /* domain=auto runs alone: its estimate and note are its own. */
    if (a->model != b->model || a->has_note || b->has_note || !dwsd_same_domain(&a->domain, &b->domain) ||
        !dws_mlp_same_shape(x, y))
        return 0;
    for (int l = 0; l < x->n_layers; l++)
        if (x->act[l] != y->act[l]) return 0;
    return 1;
}

size_t dwsd_batch_need(const dwsd_inference *const *in, const dwsd_prepared *const *p, int n)
{
    const dws_onnx *onnx[DWSD_BATCH_MAX];
    const dws_input_norm *norm[DWSD_BATCH_MAX];
    if (n > DWSD_BATCH_MAX) return SIZE_MAX;
    for (int i = 0; i < n; i++) onnx[i] = p[i]->onnx, norm[i] = in[i]->input_norm;
    return dwsd_work_need_batch(p[0]->model, onnx, norm, n, in[0]->op == DWSD_EP_ADAPT, in[0]->threads);
}

typedef struct {
    const dwsd_inference *const *in;
    dwsd_prepared *const *p;
    dwsd_reply *const *out;
    const dws_onnx_job *jobs;
    void (*done)(int i, void *ctx);
    void *ctx;
} batch_run;

/* A job's answer into its reply, its memory freed, and the caller told. */
static void job_done(dws_onnx_job *j, void *vctx)
{
    const batch_run *b = vctx;
    int i = (int)(j - b->jobs);
    if (b->in[i]->op == DWSD_EP_ADAPT) adapt_reply(b->in[i], b->p[i], j, b->out[i]);
    else embed_reply(b->p[i]->model, j, b->out[i]);
    free(j->bytes);
    free(j->embedding);
    dws_mlp_free(&j->adapted);
    dwsd_prepared_free(b->p[i]);
    if (b->done) b->done(i, b->ctx);
}

void dwsd_inference_run_batch(const dwsd_inference *const *in, dwsd_prepared *const *p, dwsd_reply *const *out, int n,
                              void (*done)(int i, void *ctx), void *ctx)
{
    dws_onnx_job jobs[DWSD_BATCH_MAX];
    if (n < 1 || n > DWSD_BATCH_MAX) return;
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < n; i++) jobs[i].onnx = p[i]->onnx, jobs[i].input_norm = in[i]->input_norm;
    /* One domain for the whole batch (only requests for the same domain share one),
     * copied: p[0] is freed when its request is answered, before the rest. */
    dws_adapt_domain domain = p[0]->domain;
    char note[sizeof p[0]->note];
    snprintf(note, sizeof note, "%s", p[0]->note);
    dws_run_opts opts = {.threads = in[0]->threads, .workspace = worker_workspace(), .domain = &domain,
                         .domain_note = p[0]->has_note ? note : NULL};
    batch_run b = {in, p, out, jobs, done, ctx};
    if (in[0]->op == DWSD_EP_ADAPT) dws_adapt_onnx_batch(p[0]->model, jobs, n, &opts, job_done, &b);
    else dws_embed_onnx_batch(p[0]->model, jobs, n, &opts, job_done, &b);
}
