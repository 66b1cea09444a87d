#include "learn.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"
#include "mlp/mlp.h"
#include "data/data.h"

void dws_adapter_train_defaults(dws_adapter_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->batch_nets = 4;
    c->batch_images = 128;
    c->lr = 1e-3f;
    c->weight_decay = 1e-4f;
    c->clip = 1.f;
    c->threads = 1;
    c->val_images = 2000;
    dws_error e;
    dws_domain_parse(DWS_DEFAULT_DOMAIN, &c->domain, &e);
    dws_domain_mix_defaults(&c->mix);
}

/* The frame net reads a classifier trained in frame f in: its own when net has a
 * row for it, else pixel (its pixel-frame twin, as before frames). */
static dws_frame read_frame(const dws_net *net, dws_frame f)
{
    return net->arch.cond_frames && f != DWS_FRAME_PIXEL ? f : DWS_FRAME_PIXEL;
}

/* Per stored tensor kind (dws_depth_tensor_kind: a depth-range adapter pools the
 * interior tensors of every depth into one kind) the mean and standard deviation
 * of every weight of the zoo, each classifier read in the frame the net reads it in. */
int dws_adapter_set_norm(dws_net *net, const dws_zoo_set *zoo, dws_error *err)
{
    double sum[2 * DWS_MAX_LAYERS] = {0}, sq[2 * DWS_MAX_LAYERS] = {0}, count[2 * DWS_MAX_LAYERS] = {0};
    for (int i = 0; i < zoo->n; i++) {
        dws_mlp framed = {0};
        const dws_frame f = read_frame(net, zoo->m[i].frame);
        if (f != DWS_FRAME_PIXEL && dws_mlp_to_frame(&zoo->m[i].mlp, f, &framed, err) != 0) return -1;
        const dws_mlp *m = f != DWS_FRAME_PIXEL ? &framed : &zoo->m[i].mlp;
        const int L = m->n_layers;
        if (!dws_net_reads_depth(net, L)) {
            dws_mlp_free(&framed);
            dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "zoo entry %d has %d layers, which the adapter does not read",
                          zoo->m[i].id, L);
            return -1;
        }
        for (int k = 0; k < 2 * L; k++) {
            const int t = k / 2, s = dws_depth_tensor_kind(net, L, k);
            size_t n = (size_t)m->widths[t + 1] * (k % 2 ? 1 : (size_t)m->widths[t]);
            const float *v = k % 2 ? m->b[t] : m->W[t];
            for (size_t j = 0; j < n; j++) {
                sum[s] += v[j];
                sq[s] += (double)v[j] * v[j];
            }
            count[s] += (double)n;
        }
        dws_mlp_free(&framed);
    }
    for (int k = 0; k < 2 * net->arch.depth; k++) {
        double mean = count[k] > 0 ? sum[k] / count[k] : 0, var = count[k] > 0 ? sq[k] / count[k] - mean * mean : 1;
        net->norm_mean[k] = (float)mean;
        net->norm_std[k] = (float)(var > 1e-16 ? sqrt(var) : 1e-8);
    }
    return 0;
}

/* The networks an adapter runs for one kind of MLP: its depth-L network (a
 * depth-range adapter, L not its own depth), conditioned on a domain and the MLP's
 * activation (a conditioned adapter); and back from the gradient w.r.t. what ran to
 * the gradient w.r.t. the stored parameters. */
typedef struct {
    dws_depth_net depth[DWS_MAX_LAYERS + 1];
    dws_cond_net cn;
    int conditioned;      /* cn holds a conditioned view */
    int L;                /* the depth of the last view */
    float *g_depth;       /* gradient in the depth network's layout */
    size_t g_depth_cap;
} net_views;

static void views_free(net_views *v)
{
    for (int L = 0; L <= DWS_MAX_LAYERS; L++) dws_depth_net_free(&v->depth[L]);
    if (v->conditioned) dws_cond_net_free(&v->cn);
    free(v->g_depth);
    memset(v, 0, sizeof *v);
}

/* The network to run for MLPs like m (depth, activation), read in frame f (see
 * read_frame), on domain (any, d); its depth network is refreshed from net's
 * current parameters. */
static const dws_net *views_for(net_views *v, const dws_net *net, const dws_mlp *m, dws_frame f, int any,
                                const dws_domain *d, dws_error *err)
{
    const int L = m->n_layers;
    const dws_net *use = net;
    v->L = L;
    if (L != net->arch.depth) {
        if (v->depth[L].net.params) dws_depth_net_refresh(&v->depth[L], net);
        else if (dws_depth_net_make(&v->depth[L], net, L, err) != 0) return NULL;
        use = &v->depth[L].net;
    }
    if (v->conditioned) dws_cond_net_free(&v->cn);
    v->conditioned = 0;
    if (!net->arch.cond_dim) return use;
    dws_cond c = dws_domain_mix_cond(any, d);
    c.act = net->arch.cond_acts ? dws_cond_activation_row(m, net->arch.cond_acts, err) : -1;
    if (net->arch.cond_acts && c.act < 0) return NULL;
    c.frame = (int)f;
    if (dws_cond_net_make(&v->cn, use, &c, err) != 0) return NULL;
    v->conditioned = 1;
    return &v->cn.net;
}

/* grads (net's layout) += the stored parameters' share of g_run, the gradient
 * w.r.t. the parameters of the network views_for last returned. */
static int views_backward(net_views *v, const dws_net *net, const float *g_run, float *grads, dws_error *err)
{
    if (v->L == net->arch.depth) {
        if (v->conditioned) dws_cond_net_backward(&v->cn, net, g_run, grads);
        else for (size_t i = 0; i < net->n_params; i++) grads[i] += g_run[i];
        return 0;
    }
    const dws_depth_net *dn = &v->depth[v->L];
    if (v->conditioned) {
        if (dn->net.n_params > v->g_depth_cap) {
            free(v->g_depth);
            if (!(v->g_depth = malloc(sizeof(float) * dn->net.n_params))) {
                v->g_depth_cap = 0;
                dws_error_set(err, DWS_E_OUT_OF_MEMORY, "depth gradient");
                return -1;
            }
            v->g_depth_cap = dn->net.n_params;
        }
        memset(v->g_depth, 0, sizeof(float) * dn->net.n_params);
        dws_cond_net_backward(&v->cn, &dn->net, g_run, v->g_depth);
        g_run = v->g_depth;
    }
    dws_depth_net_backward(dn, g_run, grads);
    return 0;
}

/* Classifiers of identical widths, activations and frame, so that a batch of them
 * is one dws_ws and runs one network. */
typedef struct {
    int *group_of;      /* member -> group */
    int *order;         /* members sorted by group */
    int *start;         /* group g is order[start[g] .. start[g + 1]) */
    int n_groups;
} width_groups;

static int same_widths(const dws_mlp *a, const dws_mlp *b)
{
    return a->n_layers == b->n_layers && !memcmp(a->widths, b->widths, sizeof(int64_t) * (size_t)(a->n_layers + 1)) &&
           !memcmp(a->act, b->act, sizeof(a->act[0]) * (size_t)a->n_layers) &&
           !memcmp(a->leaky_alpha, b->leaky_alpha, sizeof(a->leaky_alpha[0]) * (size_t)a->n_layers);
}

static int groups_build(width_groups *g, const dws_zoo_set *set, dws_error *err)
{
    int n = set->n;
    g->group_of = malloc(sizeof(int) * (size_t)n);
    g->order = malloc(sizeof(int) * (size_t)n);
    g->start = calloc((size_t)n + 1, sizeof(int));
    int *first = malloc(sizeof(int) * (size_t)n);   /* a member of each group */
    if (!g->group_of || !g->order || !g->start || !first) {
        free(first);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "width groups");
        return -1;
    }
    g->n_groups = 0;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < g->n_groups && (!same_widths(&set->m[first[k]].mlp, &set->m[i].mlp) ||
                                   set->m[first[k]].frame != set->m[i].frame))
            k++;
        if (k == g->n_groups) first[g->n_groups++] = i;
        g->group_of[i] = k;
        g->start[k + 1]++;
    }
    for (int k = 0; k < g->n_groups; k++) g->start[k + 1] += g->start[k];
    int *fill = first;   /* reused as the next free slot of each group */
    for (int k = 0; k < g->n_groups; k++) fill[k] = g->start[k];
    for (int i = 0; i < n; i++) g->order[fill[g->group_of[i]]++] = i;
    free(first);
    return 0;
}

static void groups_free(width_groups *g)
{
    free(g->group_of);
    free(g->order);
    free(g->start);
}

static double depth_weight(const dws_adapter_train_config *cfg, int L)
{
    return cfg->depth_weight[L] > 0 ? cfg->depth_weight[L] : 1.0;
}

/* Up to want members of the group of a drawn member, distinct; the member is drawn
 * uniformly, or with weights by depth (rejection against the largest weight). */
static int draw_batch(const width_groups *g, const dws_zoo_set *set, const dws_adapter_train_config *cfg, int want,
                      dws_rng *rng, int *out)
{
    double top = 0;
    int weighted = 0;   /* unweighted draws take one random number, as before weights */
    for (int L = 1; L <= DWS_MAX_LAYERS; L++) {
        top = fmax(top, depth_weight(cfg, L));
        weighted |= depth_weight(cfg, L) != 1.0;
    }
    int i;
    do i = (int)dws_rng_below(rng, (uint64_t)set->n);
    while (weighted && dws_rng_uniform(rng) * top >= depth_weight(cfg, set->m[i].mlp.n_layers));
    int k = g->group_of[i];
    int size = g->start[k + 1] - g->start[k], b = want < size ? want : size;
    for (int j = 0; j < size; j++) out[j] = g->order[g->start[k] + j];
    for (int j = 0; j < b; j++) {
        int r = j + (int)dws_rng_below(rng, (uint64_t)(size - j)), t = out[j];
        out[j] = out[r];
        out[r] = t;
    }
    return b;
}

/* Adapts the pixel-frame classifiers in[0..b) (identical widths), read in frame f,
 * with the net: out[j] are fresh pixel-frame MLPs; with a keep-state, backward may
 * follow (then dws_mlp_to_pixel_frame_backward takes the gradient w.r.t. out[j] to
 * what the network wrote). */
static int adapt_batch(const dws_net *net, const dws_mlp *const *in, int b, dws_frame f, dws_net_state *st,
                       dws_mlp *out, dws_ws *ws_in, dws_ws *ws_out, dws_error *err)
{
    dws_mlp read[64];
    const dws_mlp *use[64];
    int rc = 0, made = 0;
    for (; made < b && rc == 0 && f != DWS_FRAME_PIXEL; made++) {
        rc = dws_mlp_to_frame(in[made], f, &read[made], err);
        use[made] = &read[made];
    }
    if (f == DWS_FRAME_PIXEL) memcpy(use, in, sizeof(*use) * (size_t)b);
    if (rc == 0) rc = dws_ws_from_mlps(ws_in, use, b, err);
    if (rc == 0) rc = dws_ws_init(ws_out, in[0]->n_layers, in[0]->widths, b, 1, err);
    if (rc == 0) rc = dws_adapter_forward(net, ws_in, ws_out, st, err);
    for (int j = 0; j < b && rc == 0; j++) {
        if ((rc = dws_mlp_clone(&out[j], use[j], err)) != 0) break;
        dws_ws_to_mlp(ws_out, j, &out[j]);
        if (f == DWS_FRAME_PIXEL) continue;
        dws_mlp own = out[j];
        rc = dws_mlp_to_pixel_frame(&own, f, &out[j], err);
        dws_mlp_free(&own);
    }
    for (int j = 0; j < made; j++) dws_mlp_free(&read[j]);
    return rc;
}

/* Zeroes, in buf (parameters or gradients), the tensors the ablations of cfg
 * remove: a zero template kernel or position embedding adds nothing, so the model
 * behaves as one without it. */
static void zero_ablated(const dws_net *net, const dws_adapter_train_config *cfg, float *buf)
{
    for (int i = 0; i < net->table.n; i++) {
        const dws_param_tensor *t = &net->table.t[i];
        const char *dot = strrchr(t->name, '.');
        const char *kind = dot ? dot + 1 : t->name;
        if ((cfg->no_template_conv && !strcmp(kind, "K")) || (cfg->no_position_embedding && !strcmp(kind, "pos")))
            memset(buf + t->offset, 0, sizeof(float) * t->count);
    }
}

typedef struct {
    const dws_adapter_train_config *cfg;
    dws_net *net;
    const dws_zoo_set *train;
    width_groups groups;
    dws_samples images;         /* training rows only */
    dws_net_state *st;
    dws_optim opt;
    dws_lr_schedule lr;         /* warm-up, then cosine to 0 */
    float *grads;
    float *g_run;               /* gradient w.r.t. the parameters of the network that ran */
    size_t g_run_cap;
    net_views *views;           /* the step's depth network and conditioned view */
    int *pick;                  /* batch member ids (scratch of train->n) */
    float *x;
    uint8_t *y;
    uint32_t *rows;
    dws_rng rng;
} trainer;

/* One optimisation step at step index s; adds the mean loss and accuracy of the
 * adapted classifiers to *loss, *acc; p gets the step's classifiers, lr and
 * gradient norm. */
static int train_step(trainer *T, int64_t s, double *loss, double *acc, dws_train_progress *p, dws_error *err)
{
    const dws_adapter_train_config *cfg = T->cfg;
    int n_img = cfg->batch_images;
    for (int i = 0; i < n_img; i++) T->rows[i] = (uint32_t)dws_rng_below(&T->rng, T->images.n);
    dws_samples_gather(&T->images, T->rows, 0, (size_t)n_img, T->x, T->y);
    const uint64_t noise = dws_mix64(cfg->seed ^ 0x5eedu) + (uint64_t)s;
    int any = 0;
    dws_domain d = cfg->domain;
    if (T->net->arch.cond_dim) {   /* conditioned: this step's domain */
        dws_domain_mix_draw(&cfg->mix, &T->rng, &any, &d);
        int rc = any ? dws_domain_mix_apply_any(&cfg->mix, &T->rng, 16, T->x, (size_t)n_img, noise, err)
                     : dws_domain_apply(&d, 3, 32, 32, T->x, (size_t)n_img, noise, 0, err);
        if (rc != 0) return -1;
    } else if (dws_domain_apply(&cfg->domain, 3, 32, 32, T->x, (size_t)n_img, noise, 0, err) != 0) {
        return -1;
    }
    int b = draw_batch(&T->groups, T->train, cfg, cfg->batch_nets, &T->rng, T->pick);
    p->batch = b;
    /* The network for this batch's depth, activation, frame and domain. */
    const dws_frame frame = read_frame(T->net, T->train->m[T->pick[0]].frame);
    const dws_net *net = views_for(T->views, T->net, &T->train->m[T->pick[0]].mlp, frame, any, &d, err);
    if (!net) return -1;
    if (net->n_params > T->g_run_cap) {
        free(T->g_run);
        T->g_run_cap = 0;
        if (!(T->g_run = malloc(sizeof(float) * net->n_params))) {
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "adapter gradient");
            return -1;
        }
        T->g_run_cap = net->n_params;
    }
    const dws_mlp *in[64];
    dws_mlp adapted[64], grad[64];
    memset(adapted, 0, sizeof adapted);
    memset(grad, 0, sizeof grad);
    for (int j = 0; j < b; j++) in[j] = &T->train->m[T->pick[j]].mlp;
    dws_ws ws_in = {0}, ws_out = {0}, d_out = {0};
    float *work = NULL;
    int rc = adapt_batch(net, in, b, frame, T->st, adapted, &ws_in, &ws_out, err);
    if (rc == 0 && !(work = malloc(sizeof(float) * dws_mlp_grad_ws_floats(in[0], n_img)))) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "classifier gradient workspace");
        rc = -1;
    }
    for (int j = 0; j < b && rc == 0; j++) {
        float l = 0;
        int correct = 0;
        rc = dws_mlp_clone(&grad[j], in[j], err);
        if (rc == 0) rc = dws_mlp_xent_grad(&adapted[j], T->x, T->y, n_img, &grad[j], NULL, work, &l, &correct, err);
        if (rc == 0 && frame != DWS_FRAME_PIXEL) rc = dws_mlp_to_pixel_frame_backward(&grad[j], frame, err);
        *loss += l / b;
        *acc += (double)correct / n_img / b;
    }
    const dws_mlp *gp[64];
    for (int j = 0; j < b; j++) gp[j] = &grad[j];
    if (rc == 0) rc = dws_ws_from_mlps(&d_out, gp, b, err);
    if (rc == 0) {
        for (size_t i = 0; i < d_out.n_floats; i++) d_out.data[i] /= (float)b;
        memset(T->grads, 0, sizeof(float) * T->net->n_params);
        memset(T->g_run, 0, sizeof(float) * net->n_params);
        rc = dws_adapter_backward(net, T->st, &d_out, T->g_run, NULL, err);
        if (rc == 0) rc = views_backward(T->views, T->net, T->g_run, T->grads, err);
        zero_ablated(T->net, cfg, T->grads);
    }
    if (rc == 0) {
        p->lr = dws_lr_at(&T->lr, s);
        T->opt.cfg.lr = (float)p->lr;
        dws_optim_step(&T->opt, T->net->params, T->grads, &p->grad_norm);
    }
    for (int j = 0; j < b; j++) {
        dws_mlp_free(&adapted[j]);
        dws_mlp_free(&grad[j]);
    }
    dws_ws_free(&ws_in);
    dws_ws_free(&ws_out);
    dws_ws_free(&d_out);
    free(work);
    return rc;
}

/* The held-out images of validation: one corrupted copy per domain (one domain
 * for an unconditioned adapter, the grid for a conditioned one). */
typedef struct {
    int n;
    dws_domain domain[DWS_VAL_GRID_MAX];
    float *x[DWS_VAL_GRID_MAX];
    uint8_t *y;
    size_t rows;
} held_out;

static int held_out_make(held_out *h, const dws_adapter_train_config *cfg, int conditioned,
                         const dws_image_set *images, size_t first, size_t rows, dws_error *err)
{
    memset(h, 0, sizeof *h);
    h->n = conditioned ? dws_val_grid(h->domain, DWS_VAL_GRID_MAX) : 1;
    if (!conditioned) h->domain[0] = cfg->domain;
    h->rows = rows;
    if (!(h->y = malloc(rows))) goto oom;
    memcpy(h->y, images->labels + first, rows);
    for (int g = 0; g < h->n; g++) {
        if (!(h->x[g] = malloc(sizeof(float) * rows * images->dim))) goto oom;
        dws_image_set_to_float(images, first, rows, h->x[g]);
        if (dws_domain_apply(&h->domain[g], 3, 32, 32, h->x[g], rows, dws_mix64(cfg->seed ^ 0x7a1du), 0, err) != 0)
            return -1;
    }
    return 0;
oom:
    dws_error_set(err, DWS_E_OUT_OF_MEMORY, "validation images");
    return -1;
}

static void held_out_free(held_out *h)
{
    for (int g = 0; g < h->n; g++) free(h->x[g]);
    free(h->y);
}

/* Mean accuracy of the validation classifiers on the held-out images of every
 * domain, adapted (net != NULL; conditioned on each domain when it is a
 * conditioned adapter) or as they are. */
static int validate(const dws_net *net, const dws_zoo_set *val, const held_out *h, dws_net_state *st,
                    double *mean, dws_error *err)
{
    double sum = 0;
    net_views *views = net ? calloc(1, sizeof *views) : NULL;
    if (net && !views) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "adapter views");
        return -1;
    }
    int rc = 0;
    for (int g = 0; g < h->n && rc == 0; g++) {
        dws_samples held = dws_samples_of_floats(h->x[g], h->y, h->rows, 3072);
        for (int i = 0; i < val->n && rc == 0; i++) {
            const dws_mlp *m = &val->m[i].mlp;
            const dws_frame frame = net ? read_frame(net, val->m[i].frame) : DWS_FRAME_PIXEL;
            const dws_net *use = net ? views_for(views, net, m, frame, 0, &h->domain[g], err) : NULL;
            if (net && !use) {
                rc = -1;
                break;
            }
            dws_mlp adapted = {0};
            dws_ws ws_in = {0}, ws_out = {0};
            rc = use ? adapt_batch(use, &m, 1, frame, st, &adapted, &ws_in, &ws_out, err) : 0;
            double acc = 0;
            if (rc == 0) rc = dws_mlp_accuracy(use ? &adapted : m, &held, &acc, err);
            dws_mlp_free(&adapted);
            dws_ws_free(&ws_in);
            dws_ws_free(&ws_out);
            sum += acc;
        }
    }
    if (views) views_free(views);
    free(views);
    *mean = sum / ((double)val->n * h->n);
    return rc;
}

/* The settings a checkpoint must share with its resume (as JSON text). */
static char *checkpoint_config(const dws_adapter_train_config *c, const dws_net *net, const dws_zoo_set *train,
                               const dws_zoo_set *val, const dws_image_set *images)
{
    char domain[256], seed[24];
    dws_domain_format(&c->domain, domain, sizeof domain);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "trainer", "adapter");
    cJSON_AddNumberToObject(j, "parameters", (double)net->n_params);
    cJSON_AddNumberToObject(j, "train_classifiers", train->n);
    cJSON_AddNumberToObject(j, "val_classifiers", val->n);
    cJSON_AddNumberToObject(j, "images", (double)images->n);
    cJSON_AddNumberToObject(j, "steps", (double)c->steps);
    cJSON_AddNumberToObject(j, "warmup", (double)c->warmup);
    cJSON_AddNumberToObject(j, "batch_nets", c->batch_nets);
    cJSON_AddNumberToObject(j, "batch_images", c->batch_images);
    cJSON_AddNumberToObject(j, "lr", dws_float_decimal(c->lr));
    cJSON_AddNumberToObject(j, "weight_decay", dws_float_decimal(c->weight_decay));
    cJSON_AddNumberToObject(j, "clip", dws_float_decimal(c->clip));
    cJSON_AddStringToObject(j, "seed", seed);
    cJSON_AddNumberToObject(j, "val_every", (double)c->val_every);
    cJSON_AddNumberToObject(j, "val_images", c->val_images);
    if (net->arch.cond_dim) {
        cJSON *mix = cJSON_AddObjectToObject(j, "domain_mix");
        dws_domain_mix_json(&c->mix, mix);
        cJSON_AddNumberToObject(j, "cond_dim", net->arch.cond_dim);
    } else {
        cJSON_AddStringToObject(j, "domain", domain);
    }
    for (int L = 1; L <= DWS_MAX_LAYERS; L++)
        if (c->depth_weight[L] > 0 && c->depth_weight[L] != 1.f) {   /* only when set: older checkpoints resume */
            cJSON *w = cJSON_AddArrayToObject(j, "depth_weights");
            for (int d = 1; d <= DWS_MAX_LAYERS; d++)
                cJSON_AddItemToArray(w, cJSON_CreateNumber(dws_float_decimal((float)depth_weight(c, d))));
            break;
        }
    cJSON_AddBoolToObject(j, "template_conv", !c->no_template_conv);
    cJSON_AddBoolToObject(j, "position_embedding", !c->no_position_embedding);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return text;
}

static int check_config(const dws_adapter_train_config *c, const dws_zoo_set *train, const dws_zoo_set *val,
                        const dws_image_set *images, dws_error *err)
{
    const char *bad = NULL;
    if (c->batch_nets < 1 || c->batch_nets > 64) bad = "batch_nets (1..64)";
    else if (c->batch_images < 1 || c->batch_images > 65536) bad = "batch_images (1..65536)";
    else if (c->steps < 1 || c->warmup < 0 || c->warmup > c->steps) bad = "steps / warmup";
    else if (c->val_every < 1) bad = "val_every";
    else if (!(c->lr > 0) || c->weight_decay < 0) bad = "lr / weight_decay";
    else if (c->val_images < 1 || (size_t)c->val_images >= images->n) bad = "val_images (1..images - 1)";
    else if (train->n < 1 || val->n < 1) bad = "zoo: no training or validation classifiers";
    else if (images->dim != 3072 || images->channels != 3) bad = "images (CIFAR-10 3x32x32 expected)";
    if (bad) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "adapter training: bad %s", bad);
        return -1;
    }
    return 0;
}

int dws_adapter_train(dws_net *net, const dws_zoo_set *train, const dws_zoo_set *val, const dws_image_set *images,
                      const dws_adapter_train_config *cfg, const dws_adapter_train_hooks *hooks,
                      dws_train_progress *final, dws_error *err)
{
    if (check_config(cfg, train, val, images, err) != 0) return -1;
    trainer T;
    memset(&T, 0, sizeof T);
    T.cfg = cfg;
    T.net = net;
    T.train = train;
    size_t n_train_img = images->n - (size_t)cfg->val_images;
    T.images = dws_samples_of_image_set(images);
    T.images.n = n_train_img;
    /* The held-out rows, corrupted once with their own fixed noise. */
    size_t nv = (size_t)cfg->val_images;
    const int conditioned = net->arch.cond_dim > 0;
    T.x = malloc(sizeof(float) * (size_t)cfg->batch_images * images->dim);
    T.y = malloc((size_t)cfg->batch_images);
    T.rows = malloc(sizeof(uint32_t) * (size_t)cfg->batch_images);
    T.pick = malloc(sizeof(int) * (size_t)train->n);
    T.grads = malloc(sizeof(float) * net->n_params);
    T.views = calloc(1, sizeof *T.views);
    T.st = dws_net_state_new(cfg->threads, 1);
    dws_net_state *inf = dws_net_state_new(cfg->threads, 0);
    dws_optim_config oc = dws_optim_defaults(DWS_OPT_ADAMW, cfg->lr);
    oc.weight_decay = cfg->weight_decay;
    oc.clip = cfg->clip;
    T.lr = (dws_lr_schedule){.kind = DWS_LR_WARMUP_COSINE, .lr = cfg->lr, .warmup = cfg->warmup, .steps = cfg->steps};
    char *config = hooks->checkpoint ? checkpoint_config(cfg, net, train, val, images) : NULL;
    int rc = 0;
    if (!T.x || !T.y || !T.rows || !T.pick || !T.grads || !T.views || !T.st || !inf || (hooks->checkpoint && !config)) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "adapter training buffers");
        rc = -1;
    }
    if (rc == 0) rc = groups_build(&T.groups, train, err);
    if (rc == 0) rc = dws_optim_init(&T.opt, &oc, net->n_params, err);
    held_out held = {0};
    if (rc == 0) rc = held_out_make(&held, cfg, conditioned, images, n_train_img, nv, err);
    dws_train_state cs = {.best_val = -1};
    dws_rng_seed(&cs.rng, cfg->seed);
    if (rc == 0 && hooks->checkpoint && hooks->resume) {
        FILE *f = fopen(hooks->checkpoint, "rb");
        if (f) {
            fclose(f);
            rc = dws_checkpoint_load(hooks->checkpoint, net, &T.opt, &cs, config, err);
        }
    }
    zero_ablated(net, cfg, net->params);
    T.rng = cs.rng;
    dws_train_progress p = {.step = cs.step, .steps = cfg->steps, .best_val = cs.best_val, .best_step = cs.best_step};
    if (rc == 0) rc = validate(NULL, val, &held, inf, &p.val_before, err);
    double t0 = dws_train_seconds(), loss = 0, acc = 0;
    int64_t since = 0, first = cs.step;
    while (rc == 0 && p.step < cfg->steps) {
        rc = train_step(&T, p.step, &loss, &acc, &p, err);
        if (rc != 0) break;
        p.step++;
        since++;
        dws_train_progress_time(&p, t0, first);
        p.loss = loss / since;
        p.acc = acc / since;
        p.validated = p.step % cfg->val_every == 0 || p.step == cfg->steps;
        p.improved = 0;
        if (p.validated) {
            rc = validate(net, val, &held, inf, &p.val_after, err);
            p.improved = rc == 0 && p.val_after > p.best_val;
            if (p.improved) {
                p.best_val = p.val_after;
                p.best_step = p.step;
            }
            if (rc == 0 && hooks->checkpoint) {
                cs.step = p.step;
                cs.best_step = p.best_step;
                cs.best_val = p.best_val;
                cs.rng = T.rng;
                rc = dws_checkpoint_save(hooks->checkpoint, net, &T.opt, &cs, config, err);
            }
        }
        if (rc == 0 && hooks->progress &&
            (p.validated || (hooks->report_every > 0 && p.step % hooks->report_every == 0))) {
            int said = hooks->progress(hooks->ctx, &p, err);
            if (said != 0) {
                rc = said < 0 ? -1 : 0;
                break;
            }
            loss = acc = 0;
            since = 0;
        }
    }
    if (final) *final = p;
    groups_free(&T.groups);
    dws_optim_free(&T.opt);
    free(config);
    dws_net_state_free(T.st);
    dws_net_state_free(inf);
    held_out_free(&held);
    free(T.g_run);
    if (T.views) views_free(T.views);
    free(T.views);
    free(T.x);
    free(T.y);
    free(T.rows);
    free(T.pick);
    free(T.grads);
    return rc;
}
