/* Models as the CLI and daemon use them: a dws_net, its signature and its card,
 * loaded from and saved to .dws files (base/base.h). */
#include "model.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dws_model_card.h"
#include "ws/ws.h"
#include "base/base.h"

#define NORM_MEAN "input_norm.mean"
#define NORM_STD "input_norm.std"

struct dws_model {
    dws_net net;
    /* a depth-range adapter: its network for every other depth it reads (dws depth) */
    dws_depth_net depth[DWS_MAX_LAYERS + 1];
    dws_signature sig;
    dws_conditions cond;
    char id[128];
    cJSON *card;
    char *card_json;   /* card rendered */
};

void dws_model_free(dws_model *m)
{
    if (!m) return;
    for (int L = 0; L <= DWS_MAX_LAYERS; L++) dws_depth_net_free(&m->depth[L]);
    dws_net_free(&m->net);
    cJSON_Delete(m->card);
    free(m->card_json);
    free(m);
}

dws_model_kind dws_model_get_kind(const dws_model *m) { return m->net.arch.kind; }
const char *dws_model_id(const dws_model *m) { return m->id; }

dws_frame dws_model_frame_for_normalized(const dws_model *m)
{
    return m->net.arch.cond_frames ? DWS_FRAME_STANDARDIZED : DWS_FRAME_PIXEL;
}
const char *dws_model_card_json(const dws_model *m) { return m->card_json; }
const dws_signature *dws_model_signature(const dws_model *m) { return &m->sig; }
const dws_conditions *dws_model_conditions(const dws_model *m) { return &m->cond; }

int dws_model_resolve_domain(const dws_model *m, const dws_adapt_domain *req, dws_adapt_domain *out, dws_error *err)
{
    return dws_conditions_resolve(&m->cond, m->id, m->net.arch.kind, req, out, err);
}

char *dws_model_accepts_json(const dws_model *m)
{
    return m->net.arch.kind == DWS_MODEL_ADAPTER ? dws_conditions_accepts_json(&m->cond) : NULL;
}
struct dws_net *dws_model_net(dws_model *m) { return &m->net; }

/* The networks of a depth-range adapter for the depths it reads besides its own. */
static int make_depth_nets(dws_model *m, dws_error *err)
{
    const dws_arch *a = &m->net.arch;
    for (int L = a->depth_min; a->depth_max && L <= a->depth_max; L++)
        if (L != a->depth && dws_depth_net_make(&m->depth[L], &m->net, L, err) != 0) return -1;
    return 0;
}

/* The network m runs for MLPs of L layers (L one it reads). */
static const dws_net *net_for_depth(const dws_model *m, int L)
{
    return L == m->net.arch.depth || L < 0 || L > DWS_MAX_LAYERS || !m->depth[L].net.params ? &m->net
                                                                                            : &m->depth[L].net;
}

static int render_card(dws_model *m, dws_error *err)
{
    return dws_card_render(m->card, &m->card_json, err);
}

dws_model *dws_model_from_net(struct dws_net *net, const dws_model_info *info, dws_error *err)
{
    dws_model *m = calloc(1, sizeof *m);
    if (!m) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate a model");
        return NULL;
    }
    const dws_arch *a = &net->arch;
    dws_signature_of_arch(a, info->min_width, info->max_width, &m->sig);
    if (info->min_width < 0 || info->min_width > info->max_width) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "width range %lld..%lld", (long long)info->min_width,
                      (long long)info->max_width);
        free(m);
        return NULL;
    }
    if (!(m->card = dws_card_build(net, &m->sig, info, err))) {
        free(m);
        return NULL;
    }
    snprintf(m->id, sizeof m->id, "%s", info->id);
    dws_arch parsed;
    dws_signature sig;
    char id[128];
    /* What the model reads, from its card as a loader sees it. */
    if (dws_card_parse(m->card, &parsed, &sig, &m->cond, id, err) != 0 || render_card(m, err) != 0) {
        dws_model_free(m);
        return NULL;
    }
    m->net = *net;
    memset(net, 0, sizeof *net);
    if (make_depth_nets(m, err) != 0) {
        dws_model_free(m);
        return NULL;
    }
    return m;
}

int dws_model_set_card_entry(dws_model *m, const char *key, const char *json_value, dws_error *err)
{
    if (dws_card_key_is_reserved(key)) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "model card entry '%s' is set from the model itself", key);
        return -1;
    }
    return dws_card_set_entry(m->card, key, json_value, &m->card_json, err);
}

int dws_model_save(const dws_model *m, const char *path, dws_error *err)
{
    const dws_net *net = &m->net;
    int n = net->table.n + 2;
    dws_named_tensor *t = calloc((size_t)n, sizeof *t);
    if (!t) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate the tensor list");
        return -1;
    }
    for (int i = 0; i < net->table.n; i++) {
        const dws_param_tensor *p = &net->table.t[i];
        snprintf(t[i].name, sizeof t[i].name, "%s", p->name);
        t[i].ndim = p->ndim;
        memcpy(t[i].shape, p->shape, sizeof(int64_t) * (size_t)p->ndim);
        t[i].count = p->count;
        t[i].data = net->params + p->offset;
    }
    int64_t k = 2 * net->arch.depth;
    t[n - 2] = (dws_named_tensor){.name = NORM_MEAN, .ndim = 1, .shape = {k}, .count = (size_t)k,
                                  .data = (float *)net->norm_mean};
    t[n - 1] = (dws_named_tensor){.name = NORM_STD, .ndim = 1, .shape = {k}, .count = (size_t)k,
                                  .data = (float *)net->norm_std};
    int rc = dws_model_file_write(path, m->card_json, t, n, err);
    free(t);
    return rc;
}

const dws_named_tensor *dws_card_expect_tensor(const dws_model_file *f, const char *name, int ndim,
                                             const int64_t *shape, dws_error *err)
{
    const dws_named_tensor *t = dws_model_file_find(f, name);
    if (!t) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "model file lacks tensor '%s'", name);
        return NULL;
    }
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
    if (!same) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "tensor '%s' does not have the shape the model card implies", name);
        return NULL;
    }
    for (size_t j = 0; j < t->count; j++) {
        if (!isfinite(t->data[j])) {
            dws_error_set(err, DWS_E_BAD_MODEL_FILE, "tensor '%s' holds a non-finite value", name);
            return NULL;
        }
    }
    return t;
}

static int load_tensors(dws_model *m, const dws_model_file *f, dws_error *err)
{
    dws_net *net = &m->net;
    if (f->n_tensors != net->table.n + 2) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "model file has %d tensors, its card implies %d", f->n_tensors,
                      net->table.n + 2);
        return -1;
    }
    for (int i = 0; i < net->table.n; i++) {
        const dws_param_tensor *p = &net->table.t[i];
        const dws_named_tensor *t = dws_card_expect_tensor(f, p->name, p->ndim, p->shape, err);
        if (!t) return -1;
        memcpy(net->params + p->offset, t->data, sizeof(float) * p->count);
    }
    int64_t k = 2 * net->arch.depth;
    const dws_named_tensor *mean = dws_card_expect_tensor(f, NORM_MEAN, 1, &k, err);
    const dws_named_tensor *std = mean ? dws_card_expect_tensor(f, NORM_STD, 1, &k, err) : NULL;
    if (!std) return -1;
    for (int64_t j = 0; j < k; j++) {
        if (!(std->data[j] > 0.f)) {
            dws_error_set(err, DWS_E_BAD_MODEL_FILE, "tensor '%s' must be positive", NORM_STD);
            return -1;
        }
        net->norm_mean[j] = mean->data[j];
        net->norm_std[j] = std->data[j];
    }
    return 0;
}

dws_model *dws_model_from_file(const dws_model_file *f, const char *path, dws_error *err)
{
    dws_model *m = calloc(1, sizeof *m);
    dws_arch arch;
    int rc = -1;
    if (!m) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate a model");
    } else if (!(m->card = cJSON_Parse(f->card_json)) || !cJSON_IsObject(m->card)) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "%s: model card is not a JSON object", path);
    } else if (dws_card_parse(m->card, &arch, &m->sig, &m->cond, m->id, err) == 0 &&
               dws_net_init(&m->net, &arch, 0, err) == 0 && load_tensors(m, f, err) == 0 &&
               make_depth_nets(m, err) == 0) {
        rc = render_card(m, err);
    }
    if (rc != 0) {
        dws_model_free(m);
        return NULL;
    }
    return m;
}

dws_model *dws_model_load(const char *path, dws_error *err)
{
    dws_model_file f;
    if (dws_model_file_read(path, &f, err) != 0) return NULL;
    dws_model *m = dws_model_from_file(&f, path, err);
    dws_model_file_free(&f);
    return m;
}

int dws_model_check_input(const dws_model *m, const dws_mlp *in, dws_error *err)
{
    const dws_signature *s = &m->sig;
    const char *what = NULL;
    char detail[160] = "";
    if (in->n_layers < s->depth_min || in->n_layers > s->depth_max) {
        what = "depth";
        if (s->depth_min == s->depth_max)
            snprintf(detail, sizeof detail, "%d layers, the model reads %d", in->n_layers, s->depth);
        else
            snprintf(detail, sizeof detail, "%d layers, the model reads %d to %d", in->n_layers, s->depth_min,
                     s->depth_max);
    } else if (in->widths[0] != s->d0) {
        what = "d0";
        snprintf(detail, sizeof detail, "%lld inputs, the model reads %lld", (long long)in->widths[0],
                 (long long)s->d0);
    } else if (in->widths[in->n_layers] != s->dL) {
        what = "classes";
        snprintf(detail, sizeof detail, "%lld classes, the model reads %lld", (long long)in->widths[in->n_layers],
                 (long long)s->dL);
    } else if (m->net.arch.cond_acts) {
        dws_error e;
        if (dws_cond_activation_row(in, m->net.arch.cond_acts, &e) < 0) {
            what = "activation";
            snprintf(detail, sizeof detail, "%.150s", e.message);
        }
    } else {
        for (int l = 0; l + 1 < in->n_layers; l++) {
            if (in->act[l] != s->activation) {
                what = "activation";
                snprintf(detail, sizeof detail, "layer %d uses %s, the model reads %s MLPs", l + 1,
                         dws_activation_name(in->act[l]), dws_activation_name(s->activation));
                break;
            }
        }
    }
    if (what) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "model '%s' does not accept this MLP (%s): %s", m->id, what,
                      detail);
        return -1;
    }
    return 0;
}

struct dws_workspace {
    dws_net_state *st;
    float *batch;       /* a batch's input (and adapter output) tensors */
    size_t batch_cap;   /* floats */
};

dws_workspace *dws_workspace_new(void)
{
    return calloc(1, sizeof(dws_workspace));
}

void dws_workspace_free(dws_workspace *w)
{
    if (!w) return;
    dws_net_state_free(w->st);
    free(w->batch);
    free(w);
}

/* The one-MLP batch (a view of in: no copy) and a state for one call: the
 * workspace's, or a new one. */
static int prepare(const dws_model *m, dws_model_kind kind, const dws_mlp *in, const dws_run_opts *opts, dws_ws *ws,
                   dws_net_state **st, dws_error *err)
{
    if (m->net.arch.kind != kind) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "model '%s' is an %s, not an %s", m->id,
                      dws_model_kind_name(m->net.arch.kind), dws_model_kind_name(kind));
        return -1;
    }
    if (dws_model_check_input(m, in, err) != 0 || dws_ws_view_mlp(ws, in, err) != 0) return -1;
    const int threads = opts ? opts->threads : 0;
    dws_workspace *w = opts ? opts->workspace : NULL;
    if (w && w->st) dws_net_state_set_threads(w->st, threads);
    else if (!(*st = dws_net_state_new(threads, 0))) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate a forward state");
        return -1;
    } else if (w) w->st = *st;
    if (w) *st = w->st;
    return 0;
}

size_t dws_model_run_batch_bytes(const dws_model *m, int n_layers, const int64_t *widths, int batch,
                                 const dws_run_opts *opts, dws_error *err)
{
    const dws_net *run = net_for_depth(m, n_layers);
    size_t net = dws_net_inference_bytes(run, n_layers, widths, batch, opts ? opts->threads : 0, err);
    if (!net) return 0;
    const int adapter = m->net.arch.kind == DWS_MODEL_ADAPTER;
    const double weights = sizeof(float) * (double)dws_mlp_param_count(n_layers, widths);
    const double embedding = sizeof(float) * (double)m->net.arch.embed_dim;
    /* Each member's result: the adapted MLP (a copy of the input's shape), or its
     * embedding. One MLP runs as a view of itself; a batch is copied into one
     * input tensor (and the adapter's output comes out of one more; the encoder's
     * embeddings out of one array). */
    double bytes = (double)net + batch * (adapter ? weights : embedding);
    if (batch > 1) bytes += batch * (adapter ? 2 * weights : weights + embedding);
    /* A conditioned adapter runs a conditioned copy of the network of this depth, one per call. */
    if (m->cond.conditioned) bytes += sizeof(dws_cond_net) + sizeof(float) * (double)run->n_params;
    return bytes >= (double)SIZE_MAX ? SIZE_MAX : (size_t)bytes;
}

int dws_model_batch_cap(const dws_model *m, int n_layers, const int64_t *widths, int max, const dws_run_opts *opts)
{
    const int adapter = m->net.arch.kind == DWS_MODEL_ADAPTER;
    const double weights = sizeof(float) * (double)dws_mlp_param_count(n_layers, widths);
    int b = 1;
    while (b < max) {
        dws_error err;
        dws_error_clear(&err);
        size_t net = dws_net_inference_bytes(net_for_depth(m, n_layers), n_layers, widths, b + 1,
                                             opts ? opts->threads : 0, &err);
        double kept = (double)net + (b + 1) * weights * (adapter ? 2 : 1);   /* the state and the batch tensors */
        if (!net || kept > (double)DWS_WORKSPACE_KEEP_BYTES) break;
        b++;
    }
    return b;
}

size_t dws_model_run_bytes(const dws_model *m, int n_layers, const int64_t *widths, const dws_run_opts *opts,
                           dws_error *err)
{
    return dws_model_run_batch_bytes(m, n_layers, widths, 1, opts, err);
}

size_t dws_model_bytes(const dws_model *m)
{
    /* The card is held twice: as text and as a cJSON tree (a few times the text). */
    size_t depth_nets = 0;   /* parameters, tie and factors */
    for (int L = 0; L <= DWS_MAX_LAYERS; L++) depth_nets += m->depth[L].net.n_params * (2 * sizeof(float) + 4);
    return sizeof *m + m->net.n_params * sizeof(float) + depth_nets + (m->card_json ? 5 * strlen(m->card_json) : 0);
}

/* The first non-finite value of v, or -1. An input near the top of the float range
 * can overflow inside the network; such a result is refused, never returned. */
static int64_t first_non_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return (int64_t)i;
    return -1;
}

/* The state back to the workspace, unless it holds too much to keep; freed
 * without a workspace. */
static void release(const dws_run_opts *opts, dws_net_state *st)
{
    dws_workspace *w = opts ? opts->workspace : NULL;
    size_t batch = w ? w->batch_cap * sizeof(float) : 0;
    if (w && batch + dws_net_state_bytes(st) > DWS_WORKSPACE_KEEP_BYTES) {
        free(w->batch);   /* the batch tensors go first */
        w->batch = NULL;
        w->batch_cap = 0;
    }
    if (w && dws_net_state_bytes(st) <= DWS_WORKSPACE_KEEP_BYTES) return;
    dws_net_state_free(st);
    if (w) w->st = NULL;
}

/* Weights further than this (scale_score) from the training classifiers' are refused:
 * over the 500 classifiers of the zoo the score's median is 1.4, its 99th percentile
 * 4.5 and its largest 10.4 (a test classifier trained by SGD with a large step);
 * PyTorch-trained ones score at most 2. One trained on normalised inputs, folded into
 * the pixel frame, scores over 100 (its b_1 absorbs -W_1 mean / std), and the
 * adapter's edit of it is garbage (10% accuracy). */
#define DWS_ADAPTER_MAX_SCALE_SCORE 30.0

/* How far in's weights are from those the adapter was trained on: the largest, over
 * tensors k, of the root mean square of (w - mean_k) / std_k with the zoo's
 * statistics (the network's input normalisation); *which gets that k. Classifiers
 * of the training distribution score about 1. */
static double scale_score(const dws_net *net, const dws_mlp *in, int *which)
{
    double worst = 0;
    for (int k = 0; k < 2 * in->n_layers; k++) {
        int t = k / 2;
        size_t n = (size_t)in->widths[t + 1] * (k % 2 ? 1 : (size_t)in->widths[t]);
        const float *v = k % 2 ? in->b[t] : in->W[t];
        const int s = dws_depth_tensor_kind(net, in->n_layers, k);
        double sq = 0, mean = net->norm_mean[s], std = net->norm_std[s];
        for (size_t j = 0; j < n; j++) sq += ((v[j] - mean) / std) * ((v[j] - mean) / std);
        double z = sqrt(sq / (double)n);
        if (z > worst) {
            worst = z;
            *which = k;
        }
    }
    return worst;
}

/* The network condition c of m reads (c: a named domain or any, resolved). */
static dws_cond cond_of(const dws_model *m, const dws_adapt_domain *d, const dws_mlp *in)
{
    dws_cond c = {.any = d->kind == DWS_DOMAIN_ANY, .act = -1, .frame = in->frame};
    if (m->net.arch.cond_acts) c.act = dws_cond_activation_row(in, m->net.arch.cond_acts, NULL);
    for (int k = 0; d->kind == DWS_DOMAIN_NAMED && k < d->chain.n_steps; k++) {
        c.type[k] = m->cond.type_row[d->chain.steps[k].kind];
        c.severity[k] = d->chain.steps[k].severity;
        c.n_steps = k + 1;
    }
    return c;
}

/* The network an adapter runs for a (resolved) domain: m's own, or a copy
 * conditioned on it (*cn, for cond_release); *net is NULL for `none`: the weights
 * come back as they are. */
static int adapter_net(const dws_model *m, const dws_adapt_domain *domain, const dws_mlp *in, const dws_net **net,
                       dws_cond_net **cn, dws_error *err)
{
    *cn = NULL;
    *net = domain->kind == DWS_DOMAIN_NONE ? NULL : net_for_depth(m, in->n_layers);
    if (!*net || !m->cond.conditioned) return 0;
    dws_cond c = cond_of(m, domain, in);
    if (!(*cn = malloc(sizeof **cn))) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate a conditioned adapter");
        return -1;
    }
    if (dws_cond_net_make(*cn, *net, &c, err) != 0) {
        free(*cn);
        *cn = NULL;
        return -1;
    }
    *net = &(*cn)->net;
    return 0;
}

/* Weights too far from those the adapter was trained on are refused before its
 * forward: 0, or -1 with err. */
static int check_scale(const dws_model *m, const dws_mlp *in, dws_error *err)
{
    int which = 0;
    double score = scale_score(&m->net, in, &which);
    if (score <= DWS_ADAPTER_MAX_SCALE_SCORE) return 0;
    dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL,
                  "model '%s' does not accept this MLP (weights): %s_%d lies %.0f standard deviations from the "
                  "weights it was trained on (at most %.0f are read), so adapting it would not be reliable; a "
                  "classifier trained on mean/std-normalised inputs is one such case (docs/adapter.md section 3)",
                  m->id, which % 2 ? "b" : "W", which / 2 + 1, score, DWS_ADAPTER_MAX_SCALE_SCORE);
    return -1;
}

static void cond_release(dws_cond_net *cn)
{
    if (!cn) return;
    dws_cond_net_free(cn);
    free(cn);
}

int dws_adapter_apply(const dws_model *m, const dws_mlp *in, dws_mlp *out, const dws_run_opts *opts, dws_error *err)
{
    memset(out, 0, sizeof *out);
    dws_ws ws, adapted;
    dws_net_state *st;
    dws_adapt_domain domain;
    if (dws_model_resolve_domain(m, opts ? opts->domain : NULL, &domain, err) != 0) return -1;
    if (prepare(m, DWS_MODEL_ADAPTER, in, opts, &ws, &st, err) != 0) return -1;
    /* The adapter writes straight into out's weights. */
    int rc = dws_mlp_init(out, in->n_layers, in->widths, err);
    if (rc == 0) {
        memcpy(out->act, in->act, sizeof out->act);
        memcpy(out->leaky_alpha, in->leaky_alpha, sizeof out->leaky_alpha);
        rc = dws_ws_view_mlp(&adapted, out, err);
    }
    dws_cond_net *cn = NULL;
    const dws_net *net = NULL;
    if (rc == 0 && domain.kind != DWS_DOMAIN_NONE) rc = check_scale(m, in, err);
    if (rc == 0) rc = adapter_net(m, &domain, in, &net, &cn, err);
    if (rc == 0 && !net) memcpy(out->params, in->params, sizeof(float) * in->n_params);   /* clean: nothing to adapt to */
    if (rc == 0 && net) rc = dws_adapter_forward(net, &ws, &adapted, st, err);
    cond_release(cn);
    int64_t bad = rc == 0 ? first_non_finite(out->params, out->n_params) : -1;
    if (bad >= 0) {
        dws_error_set(err, DWS_E_NOT_REPRESENTABLE,
                      "model '%s': adapted weight %lld of %zu is not a finite float (the input's weights are too large)",
                      m->id, (long long)bad, out->n_params);
        rc = -1;
    }
    if (rc != 0) dws_mlp_free(out);
    release(opts, st);
    return rc;
}

int dws_encoder_embed(const dws_model *m, const dws_mlp *in, float **embedding, int *dim, const dws_run_opts *opts,
                      dws_error *err)
{
    *embedding = NULL;
    *dim = 0;
    dws_ws ws;
    dws_net_state *st;
    if (prepare(m, DWS_MODEL_ENCODER, in, opts, &ws, &st, err) != 0) return -1;
    int d = m->net.arch.embed_dim, rc = -1;
    float *e = malloc(sizeof(float) * (size_t)d);
    if (!e) dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate an embedding");
    else rc = dws_encoder_forward(&m->net, &ws, e, st, err);
    int64_t bad = rc == 0 ? first_non_finite(e, (size_t)d) : -1;
    if (bad >= 0) {
        dws_error_set(err, DWS_E_NOT_REPRESENTABLE,
                      "model '%s': embedding entry %lld is not a finite float (the input's weights are too large)",
                      m->id, (long long)bad);
        rc = -1;
    }
    release(opts, st);
    if (rc != 0) {
        free(e);
        return -1;
    }
    *embedding = e;
    *dim = d;
    return 0;
}

/* ---- batches ---- */

/* MLPs a batch can hold together: same widths, activations and frame. */
static int batchable(const dws_mlp *a, const dws_mlp *b)
{
    if (!dws_mlp_same_shape(a, b) || a->frame != b->frame) return 0;
    for (int l = 0; l < a->n_layers; l++)
        if (a->act[l] != b->act[l] || (a->act[l] == DWS_ACT_LEAKY_RELU && a->leaky_alpha[l] != b->leaky_alpha[l]))
            return 0;
    return 1;
}

/* in[idx[0 .. g)] copied into one input tensor *X (and, for an adapter, an output
 * tensor *Y of its shape after it), in the workspace's batch memory or in *own. */
static int batch_tensors(const dws_mlp *const *in, const int *idx, int g, int adapter, const dws_run_opts *opts,
                         dws_ws *X, dws_ws *Y, float **own, dws_error *err)
{
    const dws_mlp *m0 = in[idx[0]];
    *own = NULL;
    if (dws_ws_layout(X, m0->n_layers, m0->widths, g, 1, err) != 0) return -1;
    *Y = *X;
    size_t n = X->n_floats * (adapter ? 2 : 1);
    dws_workspace *w = opts ? opts->workspace : NULL;
    float *mem = NULL;
    if (w && w->batch_cap >= n) {
        mem = w->batch;
    } else if (w) {
        free(w->batch);
        w->batch_cap = 0;
        if ((w->batch = malloc(n * sizeof(float)))) w->batch_cap = n;
        mem = w->batch;
    } else {
        mem = *own = malloc(n * sizeof(float));
    }
    if (!mem) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate a batch of %d MLPs", g);
        return -1;
    }
    X->data = mem;
    Y->data = adapter ? mem + X->n_floats : NULL;
    memcpy(X->act, m0->act, sizeof X->act);
    memcpy(X->leaky_alpha, m0->leaky_alpha, sizeof X->leaky_alpha);
    for (int b = 0; b < g; b++)
        for (int l = 0; l < X->n_layers; l++) {
            size_t rows = (size_t)X->widths[l + 1];
            memcpy(dws_ws_W(X, l, b), in[idx[b]]->W[l], rows * (size_t)X->widths[l] * sizeof(float));
            memcpy(dws_ws_b(X, l, b), in[idx[b]]->b[l], rows * sizeof(float));
        }
    return 0;
}

/* One group of batchable members through one forward; members whose part fails
 * get the error they get alone. A group the forward cannot take as a whole (its
 * memory) runs member by member. */
static void run_group(const dws_model *m, const dws_mlp *const *in, const int *idx, int g, dws_mlp *out,
                      float **emb, int *dim, int *rc, dws_error *errs, const dws_run_opts *opts)
{
    const int adapter = out != NULL;   /* what the caller asked for; prepare checks the model's kind */
    dws_ws X, Y;
    dws_net_state *st = NULL;
    float *own = NULL, *e = NULL;
    dws_error err;
    dws_error_clear(&err);
    const int d = m->net.arch.embed_dim;
    /* An adapter runs the network for the batch's one domain (conditioned once for
     * the whole batch); `none` and every failure: member by member, as alone. */
    dws_adapt_domain domain;
    dws_cond_net *cn = NULL;
    const dws_net *net = &m->net;
    int ok = g > 1 && (!adapter || (dws_model_resolve_domain(m, opts ? opts->domain : NULL, &domain, &err) == 0 &&
                                    domain.kind != DWS_DOMAIN_NONE));
    ok = ok && prepare(m, adapter ? DWS_MODEL_ADAPTER : DWS_MODEL_ENCODER, in[idx[0]], opts, &X, &st, &err) == 0;
    int have_state = ok;
    ok = ok && (!adapter || adapter_net(m, &domain, in[idx[0]], &net, &cn, &err) == 0);
    ok = ok && batch_tensors(in, idx, g, adapter, opts, &X, &Y, &own, &err) == 0;
    if (ok && !adapter && !(e = malloc(sizeof(float) * (size_t)g * (size_t)d))) ok = 0;
    if (ok) ok = (adapter ? dws_adapter_forward(net, &X, &Y, st, &err) : dws_encoder_forward(net, &X, e, st, &err)) == 0;
    cond_release(cn);
    for (int b = 0; ok && b < g; b++) {
        const int i = idx[b];
        dws_error_clear(&errs[i]);
        if (adapter) {
            memset(&out[i], 0, sizeof out[i]);
            rc[i] = dws_mlp_init(&out[i], X.n_layers, X.widths, &errs[i]);
            if (rc[i] != 0) continue;
            memcpy(out[i].act, in[i]->act, sizeof out[i].act);
            memcpy(out[i].leaky_alpha, in[i]->leaky_alpha, sizeof out[i].leaky_alpha);
            dws_ws_to_mlp(&Y, b, &out[i]);
            int64_t bad = first_non_finite(out[i].params, out[i].n_params);
            if (bad >= 0) {
                dws_error_set(&errs[i], DWS_E_NOT_REPRESENTABLE,
                              "model '%s': adapted weight %lld of %zu is not a finite float (the input's weights are "
                              "too large)",
                              m->id, (long long)bad, out[i].n_params);
                dws_mlp_free(&out[i]);
                rc[i] = -1;
            }
        } else {
            emb[i] = NULL;
            dim[i] = 0;
            const float *mine = e + (size_t)b * (size_t)d;
            int64_t bad = first_non_finite(mine, (size_t)d);
            if (bad >= 0) {
                dws_error_set(&errs[i], DWS_E_NOT_REPRESENTABLE,
                              "model '%s': embedding entry %lld is not a finite float (the input's weights are too "
                              "large)",
                              m->id, (long long)bad);
                rc[i] = -1;
            } else if (!(emb[i] = malloc(sizeof(float) * (size_t)d))) {
                dws_error_set(&errs[i], DWS_E_OUT_OF_MEMORY, "cannot allocate an embedding");
                rc[i] = -1;
            } else {
                memcpy(emb[i], mine, sizeof(float) * (size_t)d);
                dim[i] = d;
                rc[i] = 0;
            }
        }
    }
    free(e);
    free(own);
    if (have_state) release(opts, st);
    if (ok) return;
    for (int b = 0; b < g; b++) {   /* alone, each with its own answer or error */
        const int i = idx[b];
        dws_error_clear(&errs[i]);
        rc[i] = adapter ? dws_adapter_apply(m, in[i], &out[i], opts, &errs[i])
                        : dws_encoder_embed(m, in[i], &emb[i], &dim[i], opts, &errs[i]);
    }
}

/* Groups the members by widths (and activations) and runs each group; without
 * memory for the grouping, each member alone. */
static int run_batch(const dws_model *m, const dws_mlp *const *in, int n, dws_mlp *out, float **emb, int *dim,
                     int *rc, dws_error *errs, const dws_run_opts *opts)
{
    int idx_small[8];   /* a request alone allocates nothing here */
    char taken_small[8] = {0};
    int *idx = n <= 8 ? idx_small : malloc(sizeof(int) * (size_t)n);
    char *taken = n <= 8 ? taken_small : calloc((size_t)n, 1);
    /* An adapter refuses a member whose weights lie too far from its training's
     * (check_scale) before any forward: that member gets its refusal, as alone, and
     * the rest their batch. (One MLP alone: dws_adapter_apply checks it.) */
    dws_adapt_domain domain;
    dws_error e0;
    const int screen = n > 1 && out && idx && taken && m->net.arch.kind == DWS_MODEL_ADAPTER &&
                       dws_model_resolve_domain(m, opts ? opts->domain : NULL, &domain, &e0) == 0 &&
                       domain.kind != DWS_DOMAIN_NONE;
    for (int i = 0; screen && i < n; i++) {
        dws_error_clear(&errs[i]);
        if (dws_model_check_input(m, in[i], &e0) == 0 && check_scale(m, in[i], &errs[i]) != 0) {
            memset(&out[i], 0, sizeof out[i]);
            rc[i] = -1;
            taken[i] = 1;
        }
    }
    for (int i = 0; i < n; i++) {
        int g = 0, me = i;
        if (idx && taken) {
            if (taken[i]) continue;
            for (int j = i; j < n; j++)
                if (!taken[j] && batchable(in[i], in[j])) idx[g++] = j, taken[j] = 1;
        }
        run_group(m, in, g ? idx : &me, g ? g : 1, out, emb, dim, rc, errs, opts);
    }
    if (n > 8) free(idx), free(taken);
    int good = 0;
    for (int i = 0; i < n; i++) good += rc[i] == 0;
    return good;
}

int dws_adapter_apply_batch(const dws_model *m, const dws_mlp *const *in, int n, dws_mlp *out, int *rc,
                            dws_error *errs, const dws_run_opts *opts)
{
    return run_batch(m, in, n, out, NULL, NULL, rc, errs, opts);
}

int dws_encoder_embed_batch(const dws_model *m, const dws_mlp *const *in, int n, float **embedding, int *dim,
                            int *rc, dws_error *errs, const dws_run_opts *opts)
{
    return run_batch(m, in, n, NULL, embedding, dim, rc, errs, opts);
}
