#include "ws.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas_local.h"
#include "hot_loop.h"
#include "input_map.h"
#include "base/base.h"

#define MAX_NET_PARAMS ((size_t)1 << 28)

void dws_arch_default(dws_arch *a, dws_model_kind kind)
{
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->depth = 3;
    a->d0 = 3072;
    a->dL = 10;
    a->image = (dws_image_shape){3, 32, 32};
    a->channels = 16;
    a->n_dws_layers = 4;
    a->embed_dim = 32;
    a->mlp_hidden = 128;
    a->width_features = kind == DWS_MODEL_ENCODER;
}

int dws_arch_check(const dws_arch *a, dws_error *err)
{
    const char *bad = NULL;
    if (a->kind != DWS_MODEL_ADAPTER && a->kind != DWS_MODEL_ENCODER) bad = "kind";
    else if (a->depth < 1 || a->depth > DWS_MAX_LAYERS) bad = "depth (1..16)";
    else if (a->d0 < 1 || a->d0 > ((int64_t)1 << 24)) bad = "d0 (1..2^24)";
    else if (a->dL < 1 || a->dL > DWS_MAX_EXACT_CLASSES) bad = "dL (1..64)";
    else if (a->width_features && a->kind != DWS_MODEL_ENCODER) bad = "width_features (encoders only)";
    else if (a->probes < 0 || a->probes > 4096 || (a->probes && a->kind != DWS_MODEL_ENCODER))
        bad = "probes (0..4096, encoders only)";
    else if (a->probes && !(a->probe_scale > 0.f && a->probe_scale < 1e30f)) bad = "probe_scale (> 0)";
    else if (a->proj_hidden < 0 || a->proj_hidden > 4096 || (a->proj_hidden && a->kind != DWS_MODEL_ENCODER))
        bad = "proj_hidden (0..4096, encoders only)";
    else if (a->head_skip && (a->kind != DWS_MODEL_ENCODER || (!a->probes && !(a->width_features && a->depth > 1))))
        bad = "head_skip (an encoder with width or probe features)";
    else if (a->cond_dim < 0 || a->cond_dim > DWS_COND_MAX_DIM || (a->cond_dim && a->kind != DWS_MODEL_ADAPTER) ||
             (a->cond_dim && (a->cond_types < 1 || a->cond_types > 64 || a->cond_severities < 1 ||
                              a->cond_severities > 16 || a->cond_steps < 1 || a->cond_steps > DWS_COND_MAX_STEPS)))
        bad = "condition (dim 0..256, adapters only; types 1..64, severities 1..16, steps 1..4)";
    else if (a->cond_acts < 0 || a->cond_acts > DWS_COND_MAX_ACTS || (a->cond_acts && !a->cond_dim))
        bad = "activation condition (0..4 rows, a conditioned adapter)";
    else if (a->cond_frames < 0 || a->cond_frames > DWS_FRAME_COUNT - 1 || (a->cond_frames && !a->cond_dim))
        bad = "frame condition (0..1 rows, a conditioned adapter)";
    else if ((a->depth_min || a->depth_max) &&
             (a->kind != DWS_MODEL_ADAPTER || a->depth != 3 || a->depth_min < 2 || a->depth_min > 3 ||
              a->depth_max < 3 || a->depth_max > DWS_MAX_LAYERS))
        bad = "depth range (adapters of depth 3; 2..3 to 3..16)";
    else if (a->image.planes < 0 || a->image.planes > DWS_MAX_IN_GROUPS ||
             (a->image.planes > 0 && (a->image.h < 1 || a->image.w < 1 ||
                                      (int64_t)a->image.planes * a->image.h * a->image.w != a->d0)))
        bad = "image (planes 1..8, planes x h x w = d0)";
    else if (a->input_map < 0 || a->input_map > DWS_INMAP_MAX_KERNEL ||
             (a->input_map && (a->input_map % 2 == 0 || a->kind != DWS_MODEL_ADAPTER || !a->image.planes)))
        bad = "input map (an odd kernel of 1..5, adapters of image inputs)";
    else if (a->channels < 1 || a->channels > 256) bad = "channels (1..256)";
    else if (a->n_dws_layers < 1 || a->n_dws_layers > DWS_MAX_DWS_LAYERS) bad = "layers (1..8)";
    else if (a->kind == DWS_MODEL_ENCODER && (a->embed_dim < 1 || a->embed_dim > 4096)) bad = "embed_dim (1..4096)";
    else if (a->kind == DWS_MODEL_ENCODER && (a->mlp_hidden < 1 || a->mlp_hidden > 4096)) bad = "mlp_hidden (1..4096)";
    if (bad) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "architecture: bad %s", bad);
        return -1;
    }
    return 0;
}

static int layer_c_out(const dws_arch *a, int l)
{
    return a->kind == DWS_MODEL_ADAPTER && l + 1 == a->n_dws_layers ? 1 : a->channels;
}

/* The conditioning tensors of a conditioned adapter (ws.h, dws cond). */
static int add_cond_tensors(dws_net *net)
{
    const dws_arch *a = &net->arch;
    const int64_t k = a->cond_dim, rows = (int64_t)a->cond_steps * a->cond_types * a->cond_severities;
    size_t bad = (size_t)-1;
    net->cond_table = dws_param_table_add(&net->table, "cond.steps", 2, (int64_t[]){rows, k});
    net->cond_any = dws_param_table_add(&net->table, "cond.any", 1, &k);
    int failed = net->cond_table == bad || net->cond_any == bad;
    for (int l = 0; l < a->n_dws_layers; l++) {
        char name[32];
        int64_t co = layer_c_out(a, l);
        snprintf(name, sizeof name, "cond.scale%d", l);
        net->cond_scale[l] = dws_param_table_add(&net->table, name, 2, (int64_t[]){k, co});
        snprintf(name, sizeof name, "cond.shift%d", l);
        net->cond_shift[l] = dws_param_table_add(&net->table, name, 2, (int64_t[]){k, co});
        failed |= net->cond_scale[l] == bad || net->cond_shift[l] == bad;
    }
    net->cond_alpha = dws_param_table_add(&net->table, "cond.alpha", 2, (int64_t[]){k, 2 * (int64_t)a->depth});
    failed |= net->cond_alpha == bad;
    if (a->cond_acts) {
        net->cond_act = dws_param_table_add(&net->table, "cond.act", 2, (int64_t[]){a->cond_acts, k});
        failed |= net->cond_act == bad;
    }
    if (a->cond_frames) {
        net->cond_frame = dws_param_table_add(&net->table, "cond.frame", 2, (int64_t[]){a->cond_frames, k});
        failed |= net->cond_frame == bad;
    }
    return failed ? -1 : 0;
}

/* The input map's tensors (ws.h), and their condition offsets. */
static int add_inmap_tensors(dws_net *net)
{
    const dws_arch *a = &net->arch;
    const int64_t P = a->image.planes, k = a->input_map, mix = P * P * k * k, c = a->cond_dim;
    size_t bad = (size_t)-1;
    net->inmap_mix = dws_param_table_add(&net->table, "adapter.inmap.mix", 4, (int64_t[]){P, P, k, k});
    net->inmap_shift = dws_param_table_add(&net->table, "adapter.inmap.shift", 1, &a->d0);
    int failed = net->inmap_mix == bad || net->inmap_shift == bad;
    if (c) {
        net->cond_inmap_mix = dws_param_table_add(&net->table, "cond.inmap.mix", 2, (int64_t[]){c, mix});
        net->cond_inmap_shift = dws_param_table_add(&net->table, "cond.inmap.shift", 2, (int64_t[]){c, a->d0});
        failed |= net->cond_inmap_mix == bad || net->cond_inmap_shift == bad;
    }
    return failed ? -1 : 0;
}

/* Feature slots of hidden axis n of a depth-L MLP with net's d_0, d_L and input groups. */
static int64_t depth_feat_slots(const dws_net *net, int L, int n)
{
    int64_t widths[DWS_MAX_LAYERS + 1];
    for (int i = 0; i <= L; i++) widths[i] = i == 0 ? net->arch.d0 : i == L ? net->arch.dL : 1;
    dws_axes ax;
    if (dws_axes_init(&ax, L, widths, (int)net->slots.s[0], NULL) != 0) return 0;
    return ax.feat_slots[n];
}

/* A depth-range adapter's M_int and M_one (dws depth, ws.h). */
static int add_depth_tensors(dws_net *net, dws_error *err)
{
    const dws_arch *a = &net->arch;
    for (int l = 0; a->depth_max && l < a->n_dws_layers; l++) {
        const dws_layer *ly = &net->layers[l];
        char name[32];
        if (a->depth_max >= 4) {
            int64_t f = depth_feat_slots(net, 4, 2);
            snprintf(name, sizeof name, "layer%d.Mint", l);
            net->M_int[l] = dws_param_table_add(&net->table, name, 2, (int64_t[]){f * ly->c_in, f * ly->c_out});
        }
        if (a->depth_min == 2) {
            int64_t f = depth_feat_slots(net, 2, 1);
            snprintf(name, sizeof name, "layer%d.Mone", l);
            net->M_one[l] = dws_param_table_add(&net->table, name, 2, (int64_t[]){f * ly->c_in, f * ly->c_out});
        }
        if (net->M_int[l] == (size_t)-1 || net->M_one[l] == (size_t)-1) {
            dws_error_set(err, DWS_E_TOO_LARGE, "too many parameter tensors");
            return -1;
        }
    }
    return 0;
}

static int build_table(dws_net *net, dws_error *err)
{
    const dws_arch *a = &net->arch;
    int64_t widths[DWS_MAX_LAYERS + 1];
    for (int n = 0; n <= a->depth; n++) widths[n] = n == 0 ? a->d0 : n == a->depth ? a->dL : 1;
    if (dws_axes_init(&net->slots, a->depth, widths, a->image.planes ? a->image.planes : 1, err) != 0) return -1;
    for (int l = 0; l < a->n_dws_layers; l++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "layer%d.", l);
        if (dws_layer_build(&net->layers[l], &net->slots, &a->image, l == 0 ? 1 : a->channels, layer_c_out(a, l),
                            prefix, &net->table, err) != 0)
            return -1;
    }
    if (add_depth_tensors(net, err) != 0) return -1;
    size_t bad = (size_t)-1;
    if (a->kind == DWS_MODEL_ADAPTER) {
        int64_t n = 2 * a->depth;
        net->alpha = dws_param_table_add(&net->table, "adapter.alpha", 1, &n);
        bad = net->alpha == bad ? bad : 0;
        if (a->cond_dim && add_cond_tensors(net) != 0) bad = (size_t)-1;
        if (a->input_map && add_inmap_tensors(net) != 0) bad = (size_t)-1;
    } else {
        int64_t pooled = (int64_t)net->slots.n_global * a->channels, h = a->mlp_hidden, d = a->embed_dim;
        net->fc1_W = dws_param_table_add(&net->table, "encoder.fc1.W", 2, (int64_t[]){h, pooled});
        net->fc1_b = dws_param_table_add(&net->table, "encoder.fc1.b", 1, &h);
        net->fc2_W = dws_param_table_add(&net->table, "encoder.fc2.W", 2, (int64_t[]){d, h});
        net->fc2_b = dws_param_table_add(&net->table, "encoder.fc2.b", 1, &d);
        bad = net->fc1_W == bad || net->fc1_b == bad || net->fc2_W == bad || net->fc2_b == bad ? bad : 0;
        if (a->width_features && a->depth > 1) {
            net->fc1_widths = dws_param_table_add(&net->table, "encoder.fc1.widths", 2, (int64_t[]){h, a->depth - 1});
            if (net->fc1_widths == (size_t)-1) bad = (size_t)-1;
        }
        if (a->probes) {
            int64_t k = a->probes, kl = (int64_t)a->probes * a->dL;
            net->probe_x = dws_param_table_add(&net->table, "encoder.probes", 2, (int64_t[]){k, a->d0});
            net->fc1_probes = dws_param_table_add(&net->table, "encoder.fc1.probes", 2, (int64_t[]){h, kl});
            if (net->probe_x == (size_t)-1 || net->fc1_probes == (size_t)-1) bad = (size_t)-1;
        }
        if (a->proj_hidden) {
            int64_t p = a->proj_hidden;
            net->proj1_W = dws_param_table_add(&net->table, "encoder.proj1.W", 2, (int64_t[]){p, d});
            net->proj1_b = dws_param_table_add(&net->table, "encoder.proj1.b", 1, &p);
            net->proj2_W = dws_param_table_add(&net->table, "encoder.proj2.W", 2, (int64_t[]){d, p});
            net->proj2_b = dws_param_table_add(&net->table, "encoder.proj2.b", 1, &d);
            if (net->proj1_W == (size_t)-1 || net->proj1_b == (size_t)-1 || net->proj2_W == (size_t)-1 ||
                net->proj2_b == (size_t)-1)
                bad = (size_t)-1;
        }
        if (a->head_skip && a->width_features && a->depth > 1) {
            net->skip_widths = dws_param_table_add(&net->table, "encoder.skip.widths", 2, (int64_t[]){d, a->depth - 1});
            if (net->skip_widths == (size_t)-1) bad = (size_t)-1;
        }
        if (a->head_skip && a->probes) {
            int64_t kl = (int64_t)a->probes * a->dL;
            net->skip_probes = dws_param_table_add(&net->table, "encoder.skip.probes", 2, (int64_t[]){d, kl});
            if (net->skip_probes == (size_t)-1) bad = (size_t)-1;
        }
    }
    if (bad || net->table.total > MAX_NET_PARAMS) {
        dws_error_set(err, DWS_E_TOO_LARGE, "architecture has too many parameters (%zu)", net->table.total);
        return -1;
    }
    net->n_params = net->table.total;
    return 0;
}

/* A depth-range adapter materialises a network for every depth it reads (dws depth):
 * all of them together stay within the limit of one network, checked before any is
 * allocated (a model file's card chooses the range). */
static int check_depth_range(const dws_net *net, dws_error *err)
{
    const dws_arch *a = &net->arch;
    if (!a->depth_max) return 0;
    dws_net *probe = malloc(sizeof *probe);
    if (!probe) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot size the depth range");
        return -1;
    }
    size_t total = net->n_params;
    int rc = 0;
    for (int L = a->depth_min; L <= a->depth_max && rc == 0; L++) {
        if (L == a->depth) continue;
        memset(probe, 0, sizeof *probe);
        probe->arch = *a;
        probe->arch.depth = L;
        probe->arch.depth_min = probe->arch.depth_max = 0;
        rc = build_table(probe, err);
        total += probe->n_params;
        if (rc == 0 && total > MAX_NET_PARAMS) {
            dws_error_set(err, DWS_E_TOO_LARGE, "depths %d..%d need %zu parameters in all (at most %zu)", a->depth_min,
                          a->depth_max, total, MAX_NET_PARAMS);
            rc = -1;
        }
    }
    free(probe);
    return rc;
}

int dws_net_init(dws_net *net, const dws_arch *arch, uint64_t seed, dws_error *err)
{
    memset(net, 0, sizeof *net);
    if (dws_arch_check(arch, err) != 0) return -1;
    net->arch = *arch;
    if (build_table(net, err) != 0 || check_depth_range(net, err) != 0) return -1;
    net->params = calloc(net->n_params, sizeof(float));
    if (!net->params) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate %zu parameters", net->n_params);
        return -1;
    }
    dws_rng rng;
    dws_rng_seed(&rng, seed);
    for (int l = 0; l < arch->n_dws_layers; l++) dws_layer_init_params(&net->layers[l], net->params, &rng);
    /* Condition embeddings start at unit scale, their maps at 0: a fresh conditioned
     * adapter is the unconditioned one for every condition. */
    if (arch->cond_dim) {
        const dws_param_tensor *t = dws_param_table_find(&net->table, "cond.steps");
        float sd = 1.f / sqrtf((float)arch->cond_dim);
        for (size_t i = 0; i < t->count + (size_t)arch->cond_dim; i++)   /* cond.any follows cond.steps */
            net->params[net->cond_table + i] = sd * (float)dws_rng_normal(&rng);
    }
    if (arch->kind == DWS_MODEL_ENCODER) {   /* He for the ReLU layer, LeCun for the linear output */
        size_t pooled = (size_t)net->slots.n_global * (size_t)arch->channels, h = (size_t)arch->mlp_hidden;
        for (size_t i = 0; i < h * pooled; i++)
            net->params[net->fc1_W + i] = sqrtf(2.f / (float)pooled) * (float)dws_rng_normal(&rng);
        for (size_t i = 0; i < (size_t)arch->embed_dim * h; i++)
            net->params[net->fc2_W + i] = sqrtf(1.f / (float)h) * (float)dws_rng_normal(&rng);
        for (size_t i = 0; arch->width_features && i < h * (size_t)(arch->depth - 1); i++)
            net->params[net->fc1_widths + i] = sqrtf(2.f / (float)pooled) * (float)dws_rng_normal(&rng);
        /* Probes start uniform in [0, 1) (CIFAR-10's pixel range); trainers set
         * them for other inputs (dws_embedder_init_probes). */
        size_t kl = (size_t)arch->probes * (size_t)arch->dL;
        for (size_t i = 0; i < (size_t)arch->probes * (size_t)arch->d0; i++)
            net->params[net->probe_x + i] = (float)dws_rng_uniform(&rng);
        for (size_t i = 0; i < h * kl; i++)
            net->params[net->fc1_probes + i] = sqrtf(2.f / (float)kl) * (float)dws_rng_normal(&rng);
        size_t p = (size_t)arch->proj_hidden, d = (size_t)arch->embed_dim, nw = (size_t)arch->depth - 1;
        for (size_t i = 0; i < p * d; i++) {
            net->params[net->proj1_W + i] = sqrtf(2.f / (float)d) * (float)dws_rng_normal(&rng);
            net->params[net->proj2_W + i] = sqrtf(1.f / (float)p) * (float)dws_rng_normal(&rng);
        }
        for (size_t i = 0; arch->head_skip && arch->width_features && i < d * nw; i++)
            net->params[net->skip_widths + i] = sqrtf(1.f / (float)nw) * (float)dws_rng_normal(&rng);
        for (size_t i = 0; arch->head_skip && i < d * kl; i++)
            net->params[net->skip_probes + i] = sqrtf(1.f / (float)kl) * (float)dws_rng_normal(&rng);
    }
    for (int i = 0; i < 2 * arch->depth; i++) net->norm_std[i] = 1.f;
    return 0;
}

void dws_net_free(dws_net *net)
{
    if (!net) return;
    free(net->params);
    memset(net, 0, sizeof *net);
}

int dws_net_check_input(const dws_net *net, const dws_ws *in, dws_error *err)
{
    const dws_arch *a = &net->arch;
    if (in->n_layers != a->depth || in->widths[0] != a->d0 || in->widths[in->n_layers] != a->dL) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL,
                      "model reads %d-layer MLPs with %lld inputs and %lld classes; got %d layers, %lld inputs, %lld "
                      "classes",
                      a->depth, (long long)a->d0, (long long)a->dL, in->n_layers, (long long)in->widths[0],
                      (long long)in->widths[in->n_layers]);
        return -1;
    }
    if (in->channels != 1) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "model input must have one channel, not %d", in->channels);
        return -1;
    }
    return 0;
}

double dws_net_forward_flops(const dws_net *net, const int64_t *widths)
{
    const dws_arch *a = &net->arch;
    dws_axes ax;
    if (dws_axes_init(&ax, a->depth, widths, net->slots.s[0], NULL) != 0) return 0;
    double flops = 0;
    for (int l = 0; l < a->n_dws_layers; l++) {
        const dws_layer *ly = &net->layers[l];
        double ci = ly->c_in, co = ly->c_out;
        for (int t = 0; t + 1 < a->depth; t++) flops += 2.0 * (double)(widths[t + 1] * widths[t]) * ci * co;
        if (ly->image.planes) flops += 2.0 * DWS_TCONV_TAPS * (double)(widths[1] * widths[0]) * co;
        for (int n = 0; n < a->depth; n++) {
            double f = ax.feat_slots[n];
            flops += 2.0 * (double)widths[n] * f * ci * f * co;
        }
        flops += 2.0 * ax.n_global * ci * ax.n_global * co;
    }
    if (a->kind == DWS_MODEL_ENCODER)
        flops += 2.0 * a->mlp_hidden * ((double)ax.n_global * a->channels + a->embed_dim);
    for (int t = 0; a->probes && t < a->depth; t++)   /* the network itself on every probe */
        flops += 2.0 * a->probes * (double)(widths[t + 1] * widths[t]);
    if (a->input_map)   /* every tap of the plane-mixing convolution, and the shift's dot product, per row */
        flops += 2.0 * (double)widths[1] * (double)widths[0] * (a->image.planes * a->input_map * a->input_map + 1);
    return flops;
}

/* ---- state ---- */

struct dws_net_state {
    int keep;
    dws_exec ex;
    float *xbuf[DWS_MAX_DWS_LAYERS + 1], *pbuf[DWS_MAX_DWS_LAYERS + 1];
    size_t xcap[DWS_MAX_DWS_LAYERS + 1], pcap[DWS_MAX_DWS_LAYERS + 1];
    dws_ws x[DWS_MAX_DWS_LAYERS + 1];     /* x[0]: normalised input; x[t + 1]: output of layer t */
    dws_pool px[DWS_MAX_DWS_LAYERS + 1];  /* their pooled means */
    float *gbuf[2], *pgbuf[2];            /* backward: gradients of two adjacent activations */
    size_t gcap[2], pgcap[2];
    float *hidden;                        /* encoder: B x mlp_hidden after ReLU */
    size_t hidden_cap;
    float *probe_feats, *probe_ws;        /* encoder with probes: B x K dL features, workspace */
    size_t probe_feats_cap, probe_ws_cap;
    float *inmap_scratch, *inmap_y, *inmap_g;   /* adapter with an input map: scratch, W_1 before the
                                                   map (kept), the gradient before it */
    float *inmap_g_mix;                   /* and each row's gradient w.r.t. the map's kernel */
    size_t inmap_scratch_cap, inmap_y_cap, inmap_g_cap, inmap_g_mix_cap;
    const dws_ws *input;                  /* the last forward's input (probe backward reads it) */
    int ready;                            /* a kept forward ran; backward may follow */
    dws_axes ax;
};

dws_net_state *dws_net_state_new(int threads, int keep)
{
    dws_net_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->keep = keep;
    st->ex.threads = dws_threads_for_call(threads, DWS_MAX_THREADS);
    return st;
}

void dws_net_state_trace(dws_net_state *st, dws_pass_trace *trace)
{
    st->ex.trace = trace;
}

void dws_net_state_set_threads(dws_net_state *st, int threads)
{
    st->ex.threads = dws_threads_for_call(threads, DWS_MAX_THREADS);
}

size_t dws_net_state_bytes(const dws_net_state *st)
{
    size_t f = st->ex.mem_cap + st->ex.work.arena_cap + st->hidden_cap + st->probe_feats_cap + st->probe_ws_cap +
               st->inmap_scratch_cap + st->inmap_y_cap + st->inmap_g_cap + st->inmap_g_mix_cap;
    for (int i = 0; i <= DWS_MAX_DWS_LAYERS; i++) f += st->xcap[i] + st->pcap[i];
    for (int i = 0; i < 2; i++) f += st->gcap[i] + st->pgcap[i];
    return f * sizeof(float) + st->ex.work.blocks_cap * sizeof(dws_block) + sizeof *st;
}

void dws_net_state_free(dws_net_state *st)
{
    if (!st) return;
    for (int i = 0; i <= DWS_MAX_DWS_LAYERS; i++) {
        free(st->xbuf[i]);
        free(st->pbuf[i]);
    }
    for (int i = 0; i < 2; i++) {
        free(st->gbuf[i]);
        free(st->pgbuf[i]);
    }
    free(st->hidden);
    free(st->probe_feats);
    free(st->probe_ws);
    free(st->inmap_scratch);
    free(st->inmap_y);
    free(st->inmap_g);
    free(st->inmap_g_mix);
    dws_exec_free(&st->ex);
    free(st);
}

const dws_ws *dws_net_state_activation(const dws_net_state *st, int t)
{
    return t >= 0 && t <= DWS_MAX_DWS_LAYERS && st->x[t].data ? &st->x[t] : NULL;
}

const float *dws_net_state_encoder_hidden(const dws_net_state *st)
{
    return st->hidden;
}

static int ensure(float **buf, size_t *cap, size_t n, dws_error *err)
{
    if (n <= *cap) return 0;
    float *p = realloc(*buf, (n ? n : 1) * sizeof(float));
    if (!p) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate %zu floats of activations", n);
        return -1;
    }
    *buf = p;
    *cap = n;
    return 0;
}

/* A c-channel tensor shaped like `like` (and its pooled summaries) in memory *buf. */
static int place_ws(float **buf, size_t *cap, const dws_ws *like, int channels, dws_ws *out, dws_error *err)
{
    if (dws_ws_layout(out, like->n_layers, like->widths, like->batch, channels, err) != 0) return -1;
    if (ensure(buf, cap, out->n_floats, err) != 0) return -1;
    out->data = *buf;
    return 0;
}

static int place_pool(float **buf, size_t *cap, const dws_axes *ax, int batch, int channels, dws_pool *out,
                      dws_error *err)
{
    if (ensure(buf, cap, dws_pool_floats(ax, batch, channels), err) != 0) return -1;
    dws_pool_place(out, ax, batch, channels, *buf);
    return 0;
}

/* Activation t's memory: its own when kept for backward, else one of two. */
static int act_slot(const dws_net_state *st, int t)
{
    return st->keep || t == 0 ? t : 1 + (t - 1) % 2;
}

/* Activation t (x_channels) and, unless pool_channels is 0, its pooled means. */
static int place_act(dws_net_state *st, int t, const dws_ws *like, int x_channels, int pool_channels,
                     dws_error *err)
{
    int s = act_slot(st, t);
    if (place_ws(&st->xbuf[s], &st->xcap[s], like, x_channels, &st->x[t], err) != 0) return -1;
    if (pool_channels &&
        place_pool(&st->pbuf[s], &st->pcap[s], &st->ax, like->batch, pool_channels, &st->px[t], err) != 0)
        return -1;
    return 0;
}

/* ---- per-tensor affine maps: input normalisation, residual gradient ---- */

typedef struct {
    const dws_ws *src;
    float shift[2 * DWS_MAX_LAYERS], scale[2 * DWS_MAX_LAYERS];
} affine_ctx;

/* out = (src - shift) scale, eight at a time. */
DWS_HOT_LOOP static void affine(const float *restrict src, float shift, float scale, float *restrict out, int64_t n)
{
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) AT8(out + j) = (LD8(src + j) - shift) * scale;
    for (; j < n; j++) out[j] = (src[j] - shift) * scale;
}

static int affine_entry(void *vctx, const dws_block *blk, int part, float *out, float *scratch)
{
    (void)part;
    (void)scratch;
    const affine_ctx *a = vctx;
    int k = 2 * blk->t + blk->is_bias;
    affine(dws_block_data(a->src, blk), a->shift[k], a->scale[k], out, dws_block_entries(blk) * a->src->channels);
    return 1;
}

/* out = (src - shift) * scale per tensor, and out's pooled means (or sums). */
static int affine_pass(dws_net_state *st, const affine_ctx *a, dws_ws *out, dws_pool *pool, int means,
                       const char *what, dws_error *err)
{
    dws_pass pass = {
        .ax = &st->ax, .batch = out->batch, .channels = out->channels,
        .entry = affine_entry, .entry_ctx = (void *)a,
        .out = out, .pool = pool, .pool_means = means, .threads = st->ex.threads,
        .what = what, .entry_reads = a->src->channels, .trace = st->ex.trace,
    };
    return dws_pass_run(&pass, &st->ex.work, err);
}

/* Checks the input and runs the normalisation and every DWS layer, leaving the
 * last layer's output in st->x[N]: linear for the adapter; for the encoder
 * (invariant_head) after a ReLU and pooled. With last_sink (inference only), the
 * last layer's output is not stored: its blocks go to last_sink. */
static int forward_layers(const dws_net *net, const dws_ws *in, dws_net_state *st, int invariant_head,
                          const dws_layer_sink *last_sink, dws_error *err)
{
    const dws_arch *a = &net->arch;
    st->ready = 0;
    if (dws_net_check_input(net, in, err) != 0) return -1;
    if (dws_axes_init(&st->ax, in->n_layers, in->widths, net->slots.s[0], err) != 0) return -1;
    /* Activations of c channels per entry: refuse inputs whose activations would
     * not fit rather than let the allocator overcommit and the kernel kill us. */
    double live = st->keep ? a->n_dws_layers + 1 : 3;
    if ((double)in->n_floats * a->channels * sizeof(float) * live > DWS_NET_MAX_ACTIVATION_BYTES) {
        dws_error_set(err, DWS_E_TOO_LARGE, "%zu weights x %d channels: activations exceed %.0f GiB", in->n_floats,
                      a->channels, DWS_NET_MAX_ACTIVATION_BYTES / (1024.0 * 1024 * 1024));
        return -1;
    }
    if (place_act(st, 0, in, 1, 1, err) != 0) return -1;
    affine_ctx norm = {.src = in};
    for (int k = 0; k < 2 * a->depth; k++) {
        norm.shift[k] = net->norm_mean[k];
        norm.scale[k] = 1.f / net->norm_std[k];
    }
    if (affine_pass(st, &norm, &st->x[0], &st->px[0], 1, "normalise", err) != 0) return -1;
    const int N = a->n_dws_layers;
    /* Without backward, the adapter's last hidden activation (c channels) need not
     * be stored: it goes straight through the last layer's entry-wise map (to one
     * channel), x[N - 1] holding that instead. */
    const int fuse = !st->keep && !invariant_head && N >= 2;
    for (int t = 0; t < N; t++) {
        const dws_layer *ly = &net->layers[t];
        int last = t + 1 == N, relu = !last || invariant_head, rc;
        if (fuse && t == N - 2) {
            if (place_act(st, t + 1, in, net->layers[t + 1].c_out, ly->c_out, err) != 0) return -1;
            rc = dws_layer_forward_to_next(ly, net->params, &st->x[t], &st->px[t], relu, &net->layers[t + 1],
                                           &st->x[t + 1], &st->px[t + 1], &st->ex, err);
        } else if (last && last_sink) {
            const dws_ws *X = fuse ? NULL : &st->x[t], *Z = fuse ? &st->x[t] : NULL;
            rc = dws_layer_forward_sink(ly, net->params, X, Z, &st->px[t], relu, last_sink, NULL, &st->ex, err);
        } else {
            if (place_act(st, t + 1, in, ly->c_out, relu ? ly->c_out : 0, err) != 0) return -1;
            rc = fuse && last ? dws_layer_forward_entry(ly, net->params, &st->x[t], &st->px[t], relu, &st->x[t + 1],
                                                        NULL, &st->ex, err)
                              : dws_layer_forward(ly, net->params, &st->x[t], &st->px[t], relu, &st->x[t + 1],
                                                  relu ? &st->px[t + 1] : NULL, &st->ex, err);
        }
        if (rc != 0) return -1;
    }
    return 0;
}

/* Back through every layer from G, PG (gradient of the last layer's output before
 * its activation, in gbuf[0]/pgbuf[0]). On return G holds the gradient w.r.t. the
 * normalised input when want_d_in. */
static int backward_layers(const dws_net *net, dws_net_state *st, dws_ws *G, dws_pool *PG, float *grads,
                           int want_d_in, dws_error *err)
{
    int cur = 0;
    for (int t = net->arch.n_dws_layers - 1; t >= 0; t--) {
        const dws_layer *ly = &net->layers[t];
        int nxt = 1 - cur, want_dx = t > 0 || want_d_in;
        dws_ws dX;
        dws_pool PdX;
        if (want_dx && place_ws(&st->gbuf[nxt], &st->gcap[nxt], &st->x[0], ly->c_in, &dX, err) != 0) return -1;
        if (t > 0 && place_pool(&st->pgbuf[nxt], &st->pgcap[nxt], &st->ax, G->batch, ly->c_in, &PdX, err) != 0)
            return -1;
        if (dws_layer_backward(ly, net->params, grads, &st->x[t], &st->px[t], G, PG, t > 0, want_dx ? &dX : NULL,
                               t > 0 ? &PdX : NULL, &st->ex, err) != 0)
            return -1;
        if (want_dx) *G = dX;
        if (t > 0) *PG = PdX;
        cur = nxt;
    }
    return 0;
}

/* d_in = d_through + d_norm / std per tensor (d_through: NULL or a direct path). */
static int write_d_in(const dws_net *net, const dws_ws *d_norm, const dws_ws *d_through, dws_ws *d_in,
                      dws_error *err)
{
    if (!dws_ws_same_shape(d_in, d_norm)) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "input gradient has the wrong shape");
        return -1;
    }
    for (int b = 0; b < d_in->batch; b++)
        for (int t = 0; t < d_in->n_layers; t++)
            for (int bias = 0; bias < 2; bias++) {
                float inv = 1.f / net->norm_std[2 * t + bias];
                size_t n = (size_t)d_in->widths[t + 1] * (bias ? 1 : (size_t)d_in->widths[t]);
                float *o = bias ? dws_ws_b(d_in, t, b) : dws_ws_W(d_in, t, b);
                const float *g = bias ? dws_ws_b(d_norm, t, b) : dws_ws_W(d_norm, t, b);
                const float *d = !d_through ? NULL : bias ? dws_ws_b(d_through, t, b) : dws_ws_W(d_through, t, b);
                for (size_t j = 0; j < n; j++) o[j] = (d ? d[j] : 0.f) + g[j] * inv;
            }
    return 0;
}

/* ---- adapter ---- */

static float residual_scale(const dws_net *net, int k)
{
    return net->params[net->alpha + (size_t)k] * net->norm_std[k];
}

/* out = in + s F per tensor: the residual, on one block (s = 0 copies in bit for
 * bit, even -0.0: an untrained adapter is the identity). */
typedef struct {
    const dws_ws *in;
    dws_ws *out;
    float scale[2 * DWS_MAX_LAYERS];
} residual_ctx;

DWS_HOT_LOOP static void residual(const float *restrict w, const float *restrict f, float s, float *restrict o,
                                  size_t n)
{
    if (s == 0.f) {
        memcpy(o, w, n * sizeof(float));
        return;
    }
    size_t j = 0;
    for (; j + 8 <= n; j += 8) AT8(o + j) = LD8(w + j) + s * LD8(f + j);
    for (; j < n; j++) o[j] = w[j] + s * f[j];
}

static int residual_sink(void *vctx, const dws_block *blk, int part, float *f, float *scratch)
{
    (void)part, (void)scratch;
    const residual_ctx *r = vctx;
    residual(dws_block_data(r->in, blk), f, r->scale[2 * blk->t + blk->is_bias], dws_block_data(r->out, blk),
             (size_t)dws_block_entries(blk));
    return 1;
}

/* The input map runs in parts of up to INMAP_PART_ROWS rows of one MLP of the batch,
 * forward and backward: rows are independent, so the result does not depend on the
 * threads. */
#define INMAP_PART_ROWS 16

typedef struct {
    const dws_net *net;
    dws_ws *ws;             /* forward: the output, mapped in place; backward: the gradient, taken back in place */
    float *y;               /* W_1 before the map, batch after batch (forward: NULL when not kept) */
    float *g_mix_rows;      /* backward: each row's gradient w.r.t. the kernel, batch after batch */
    float *scratch;         /* per thread */
    size_t scratch_floats;
    int parts_per_mlp;
} inmap_job;

/* A job over ws's W_1 with scratch for every thread of st. */
static int inmap_job_init(inmap_job *j, const dws_net *net, dws_net_state *st, dws_ws *ws, dws_error *err)
{
    const dws_arch *a = &net->arch;
    *j = (inmap_job){.net = net, .ws = ws, .scratch_floats = dws_inmap_scratch_floats(&a->image, a->input_map),
                     .parts_per_mlp = (int)((ws->widths[1] + INMAP_PART_ROWS - 1) / INMAP_PART_ROWS)};
    if (ensure(&st->inmap_scratch, &st->inmap_scratch_cap, j->scratch_floats * (size_t)st->ex.threads, err) != 0)
        return -1;
    j->scratch = st->inmap_scratch;
    return 0;
}

/* The rows of a part: n rows of MLP b from its row `first`, which is row `row` of the
 * batch's W_1 blocks laid end to end (as y and g_mix_rows are). */
typedef struct {
    int b;
    int64_t first, n;
    size_t row;
} inmap_rows;

static inmap_rows inmap_part_rows(const inmap_job *j, int part)
{
    const int64_t rows = j->ws->widths[1];
    inmap_rows r = {.b = part / j->parts_per_mlp, .first = (int64_t)(part % j->parts_per_mlp) * INMAP_PART_ROWS};
    r.n = rows - r.first < INMAP_PART_ROWS ? rows - r.first : INMAP_PART_ROWS;
    r.row = (size_t)r.b * (size_t)rows + (size_t)r.first;
    return r;
}

static void inmap_part(void *ctx, int part, int thread)
{
    const inmap_job *j = ctx;
    const dws_arch *a = &j->net->arch;
    const int64_t d0 = j->ws->widths[0];
    const inmap_rows r = inmap_part_rows(j, part);
    float *W = dws_ws_W(j->ws, 0, r.b) + r.first * d0;
    if (j->y) memcpy(j->y + r.row * (size_t)d0, W, sizeof(float) * (size_t)(r.n * d0));
    dws_inmap_forward(&a->image, a->input_map, j->net->params + j->net->inmap_mix, j->net->params + j->net->inmap_shift,
                      W, dws_ws_b(j->ws, 0, r.b) + r.first, r.n, j->scratch + (size_t)thread * j->scratch_floats);
}

/* The input map (input_map.h) on out's W_1 and b_1, in place; keep: W_1 before it
 * is kept for backward. */
static int input_map_forward(const dws_net *net, dws_net_state *st, dws_ws *out, int keep, dws_error *err)
{
    if (!net->arch.input_map) return 0;
    const size_t w1_floats = (size_t)out->widths[1] * (size_t)out->widths[0];
    inmap_job j;
    if (inmap_job_init(&j, net, st, out, err) != 0 ||
        (keep && ensure(&st->inmap_y, &st->inmap_y_cap, w1_floats * (size_t)out->batch, err) != 0))
        return -1;
    j.y = keep ? st->inmap_y : NULL;
    dws_parallel_parts(j.parts_per_mlp * out->batch, st->ex.threads, inmap_part, &j);
    return 0;
}

static void inmap_back_part(void *ctx, int part, int thread)
{
    const inmap_job *j = ctx;
    const dws_arch *a = &j->net->arch;
    const int64_t d0 = j->ws->widths[0];
    const inmap_rows r = inmap_part_rows(j, part);
    dws_inmap_backward_rows(&a->image, a->input_map, j->net->params + j->net->inmap_mix,
                            j->net->params + j->net->inmap_shift, j->y + r.row * (size_t)d0,
                            dws_ws_W(j->ws, 0, r.b) + r.first * d0, dws_ws_b(j->ws, 0, r.b) + r.first, r.n,
                            j->g_mix_rows + r.row * dws_inmap_mix_floats(&a->image, a->input_map),
                            j->scratch + (size_t)thread * j->scratch_floats);
}

/* The gradient w.r.t. the output before the input map: d_out with W_1's blocks
 * taken back through the map, in st's memory; the map's gradients go to grads. The
 * rows run in parallel parts as the forward's do; their gradients w.r.t. the kernel
 * are summed afterwards row by row, in the order one thread would add them. */
static const dws_ws *input_map_backward(const dws_net *net, dws_net_state *st, const dws_ws *d_out, float *grads,
                                        dws_ws *space, dws_error *err)
{
    const dws_arch *a = &net->arch;
    if (!a->input_map) return d_out;
    const size_t taps = dws_inmap_mix_floats(&a->image, a->input_map);
    const size_t rows = (size_t)d_out->batch * (size_t)d_out->widths[1];
    inmap_job j;
    if (place_ws(&st->inmap_g, &st->inmap_g_cap, d_out, 1, space, err) != 0 ||
        ensure(&st->inmap_g_mix, &st->inmap_g_mix_cap, rows * taps, err) != 0 ||
        inmap_job_init(&j, net, st, space, err) != 0)
        return NULL;
    memcpy(space->data, d_out->data, sizeof(float) * d_out->n_floats);
    const size_t w1_floats = (size_t)d_out->widths[1] * (size_t)d_out->widths[0];
    for (int b = 0; b < d_out->batch; b++)
        dws_inmap_backward_shift(&a->image, a->input_map, net->params + net->inmap_mix,
                                 st->inmap_y + w1_floats * (size_t)b, dws_ws_b(space, 0, b), d_out->widths[1],
                                 grads + net->inmap_shift, st->inmap_scratch);
    j.y = st->inmap_y;
    j.g_mix_rows = st->inmap_g_mix;
    dws_parallel_parts(j.parts_per_mlp * d_out->batch, st->ex.threads, inmap_back_part, &j);
    float *g_mix = grads + net->inmap_mix;
    for (size_t r = 0; r < rows; r++)
        for (size_t t = 0; t < taps; t++) g_mix[t] += st->inmap_g_mix[r * taps + t];
    return space;
}

int dws_adapter_forward(const dws_net *net, const dws_ws *in, dws_ws *out, dws_net_state *st, dws_error *err)
{
    if (net->arch.kind != DWS_MODEL_ADAPTER) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "not an adapter");
        return -1;
    }
    if (!dws_ws_same_shape(out, in)) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "adapter output must have the input's shape");
        return -1;
    }
    residual_ctx r = {.in = in, .out = out};
    for (int k = 0; k < 2 * in->n_layers; k++) r.scale[k] = residual_scale(net, k);
    if (!st->keep) {   /* inference: the last layer's blocks go straight through the residual */
        dws_layer_sink sink = {residual_sink, &r, 1, 1, "forward, through the residual"};
        if (forward_layers(net, in, st, 0, &sink, err) != 0) return -1;
        st->ready = 0;
        return input_map_forward(net, st, out, 0, err);
    }
    if (forward_layers(net, in, st, 0, NULL, err) != 0) return -1;
    const dws_ws *F = &st->x[net->arch.n_dws_layers];
    for (int b = 0; b < in->batch; b++)
        for (int t = 0; t < in->n_layers; t++) {
            size_t n = (size_t)in->widths[t + 1] * (size_t)in->widths[t], nb = (size_t)in->widths[t + 1];
            residual(dws_ws_W(in, t, b), dws_ws_W(F, t, b), r.scale[2 * t], dws_ws_W(out, t, b), n);
            residual(dws_ws_b(in, t, b), dws_ws_b(F, t, b), r.scale[2 * t + 1], dws_ws_b(out, t, b), nb);
        }
    if (input_map_forward(net, st, out, 1, err) != 0) return -1;
    st->ready = 1;
    return 0;
}

int dws_adapter_backward(const dws_net *net, dws_net_state *st, const dws_ws *d_out, float *grads, dws_ws *d_in,
                         dws_error *err)
{
    if (net->arch.kind != DWS_MODEL_ADAPTER || !st->ready || !dws_ws_same_shape(d_out, &st->x[0])) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT,
                      "adapter backward needs an adapter, a forward with keep = 1 and a gradient of its output shape");
        return -1;
    }
    dws_ws before_map;
    d_out = input_map_backward(net, st, d_out, grads, &before_map, err);
    if (!d_out) return -1;
    const dws_ws *F = &st->x[net->arch.n_dws_layers];
    affine_ctx dF = {.src = d_out};
    for (int t = 0; t < d_out->n_layers; t++)
        for (int bias = 0; bias < 2; bias++) {
            int k = 2 * t + bias;
            double dot = 0;
            for (int b = 0; b < d_out->batch; b++) {
                size_t n = (size_t)d_out->widths[t + 1] * (bias ? 1 : (size_t)d_out->widths[t]);
                const float *g = bias ? dws_ws_b(d_out, t, b) : dws_ws_W(d_out, t, b);
                const float *f = bias ? dws_ws_b(F, t, b) : dws_ws_W(F, t, b);
                for (size_t j = 0; j < n; j++) dot += (double)g[j] * f[j];
            }
            grads[net->alpha + (size_t)k] += (float)(dot * net->norm_std[k]);
            dF.scale[k] = residual_scale(net, k);
        }
    dws_ws G;
    dws_pool PG;
    if (place_ws(&st->gbuf[0], &st->gcap[0], d_out, 1, &G, err) != 0 ||
        place_pool(&st->pgbuf[0], &st->pgcap[0], &st->ax, d_out->batch, 1, &PG, err) != 0 ||
        affine_pass(st, &dF, &G, &PG, 0, "residual gradient", err) != 0)
        return -1;
    if (backward_layers(net, st, &G, &PG, grads, d_in != NULL, err) != 0) return -1;
    return d_in ? write_d_in(net, &G, d_out, d_in, err) : 0;
}

/* ---- encoder ---- */

/* log(d_n / 64) of hidden width n = 1 .. L-1, at wf[n - 1]. */
static void width_features(const dws_ws *x, float *wf)
{
    for (int n = 1; n < x->n_layers; n++) wf[n - 1] = logf((float)x->widths[n] / 64.f);
}

/* out[b] += alpha in[b] W^T for each of B rows (in: B x k, W: n x k, out: B x n),
 * one network at a time: a GEMM's rounding may depend on its row count, and a
 * network's result must not depend on its batch. */
static void rows_times_wt(int B, int64_t n, int64_t k, const float *in, const float *W, float *out)
{
    for (int b = 0; b < B; b++) dws_gemm(0, 1, 1, n, k, 1.f, in + (size_t)b * k, k, W, k, 1.f, out + (size_t)b * n, n);
}

/* The head's linear skip: emb += S_w wf + S_p probe features. */
static void skip_forward(const dws_net *net, const dws_ws *in, float *emb, const float *feats)
{
    const dws_arch *a = &net->arch;
    const int B = in->batch, D = a->embed_dim, nw = in->n_layers - 1;
    if (a->width_features && nw > 0) {
        float wf[DWS_MAX_LAYERS];
        width_features(in, wf);
        for (int j = 0; j < D; j++) {
            float t = 0.f;
            for (int n = 0; n < nw; n++) t += net->params[net->skip_widths + (size_t)j * nw + n] * wf[n];
            for (int b = 0; b < B; b++) emb[(size_t)b * D + j] += t;
        }
    }
    if (a->probes) {
        const int64_t KL = (int64_t)a->probes * a->dL;
        rows_times_wt(B, D, KL, feats, net->params + net->skip_probes, emb);
    }
}

/* Its backward: grads of S_w and S_p, and d_feats += S_p^T d_emb. */
static void skip_backward(const dws_net *net, const dws_ws *x0, const float *d_emb, const float *feats, float *grads,
                          float *d_feats)
{
    const dws_arch *a = &net->arch;
    const int B = x0->batch, D = a->embed_dim, nw = x0->n_layers - 1;
    if (a->width_features && nw > 0) {
        float wf[DWS_MAX_LAYERS];
        width_features(x0, wf);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < D; j++)
                for (int n = 0; n < nw; n++)
                    grads[net->skip_widths + (size_t)j * nw + n] += d_emb[(size_t)b * D + j] * wf[n];
    }
    if (a->probes) {
        const int64_t KL = (int64_t)a->probes * a->dL;
        dws_gemm(1, 0, D, KL, B, 1.f, d_emb, D, feats, KL, 1.f, grads + net->skip_probes, KL);
        dws_gemm(0, 0, B, KL, D, 1.f, d_emb, D, net->params + net->skip_probes, KL, 1.f, d_feats, KL);
    }
}

int dws_encoder_forward(const dws_net *net, const dws_ws *in, float *emb, dws_net_state *st, dws_error *err)
{
    const dws_arch *a = &net->arch;
    if (a->kind != DWS_MODEL_ENCODER) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "not an encoder");
        return -1;
    }
    if (forward_layers(net, in, st, 1, NULL, err) != 0) return -1;
    const int B = in->batch, H = a->mlp_hidden, D = a->embed_dim;
    const int64_t P = (int64_t)st->ax.n_global * a->channels;
    const float *g = st->px[a->n_dws_layers].global;
    if (ensure(&st->hidden, &st->hidden_cap, (size_t)B * H, err) != 0) return -1;
    float *h = st->hidden;
    for (int b = 0; b < B; b++) memcpy(h + (size_t)b * H, net->params + net->fc1_b, sizeof(float) * (size_t)H);
    rows_times_wt(B, H, P, g, net->params + net->fc1_W, h);
    if (a->width_features) {   /* every member of a batch has the same widths */
        float wf[DWS_MAX_LAYERS];
        width_features(in, wf);
        const float *Wx = net->params + net->fc1_widths;
        for (int j = 0; j < H; j++) {
            float t = 0.f;
            for (int n = 0; n + 1 < in->n_layers; n++) t += Wx[(size_t)j * (in->n_layers - 1) + n] * wf[n];
            for (int b = 0; b < B; b++) h[(size_t)b * H + j] += t;
        }
    }
    if (a->probes) {
        const int64_t KL = (int64_t)a->probes * a->dL;
        if (ensure(&st->probe_feats, &st->probe_feats_cap, (size_t)B * (size_t)KL, err) != 0 ||
            ensure(&st->probe_ws, &st->probe_ws_cap, dws_probe_ws_floats(in, a->probes), err) != 0)
            return -1;
        dws_probe_forward(in, net->params + net->probe_x, a->probes, a->probe_scale, st->probe_feats, st->probe_ws);
        rows_times_wt(B, H, KL, st->probe_feats, net->params + net->fc1_probes, h);
    }
    st->input = in;
    for (size_t j = 0; j < (size_t)B * H; j++) h[j] = h[j] > 0.f ? h[j] : 0.f;
    for (int b = 0; b < B; b++) memcpy(emb + (size_t)b * D, net->params + net->fc2_b, sizeof(float) * (size_t)D);
    rows_times_wt(B, D, H, h, net->params + net->fc2_W, emb);
    if (a->head_skip) skip_forward(net, in, emb, st->probe_feats);
    st->ready = st->keep;
    return 0;
}

int dws_encoder_backward(const dws_net *net, dws_net_state *st, const float *d_emb, float *grads, dws_ws *d_in,
                         dws_error *err)
{
    const dws_arch *a = &net->arch;
    if (a->kind != DWS_MODEL_ENCODER || !st->ready) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "encoder backward needs an encoder and a forward with keep = 1");
        return -1;
    }
    const int N = a->n_dws_layers, B = st->x[0].batch, H = a->mlp_hidden, D = a->embed_dim;
    const int64_t P = (int64_t)st->ax.n_global * a->channels;
    const float *g = st->px[N].global, *h = st->hidden;
    const int64_t KL = (int64_t)a->probes * a->dL;
    dws_pool bvec;
    float *dh = malloc(sizeof(float) * (size_t)B * H), *d_feats = malloc(sizeof(float) * (size_t)(B * KL + 1));
    if (!dh || !d_feats || dws_pool_init(&bvec, &st->ax, B, a->channels, err) != 0) {
        free(dh);
        free(d_feats);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate encoder gradients");
        return -1;
    }
    dws_gemm(1, 0, D, H, B, 1.f, d_emb, D, h, H, 1.f, grads + net->fc2_W, H);
    dws_gemm(0, 0, B, H, D, 1.f, d_emb, D, net->params + net->fc2_W, H, 0.f, dh, H);
    float wf[DWS_MAX_LAYERS];
    width_features(&st->x[0], wf);
    for (int b = 0; b < B; b++) {
        for (int j = 0; j < D; j++) grads[net->fc2_b + (size_t)j] += d_emb[(size_t)b * D + j];
        for (int j = 0; j < H; j++) {
            float *v = dh + (size_t)b * H + j;
            *v = h[(size_t)b * H + j] > 0.f ? *v : 0.f;
            grads[net->fc1_b + (size_t)j] += *v;
            for (int n = 0; a->width_features && n + 1 < st->x[0].n_layers; n++)
                grads[net->fc1_widths + (size_t)j * (st->x[0].n_layers - 1) + n] += *v * wf[n];
        }
    }
    dws_gemm(1, 0, H, P, B, 1.f, dh, H, g, P, 1.f, grads + net->fc1_W, P);
    if (a->probes) {
        dws_gemm(1, 0, H, KL, B, 1.f, dh, H, st->probe_feats, KL, 1.f, grads + net->fc1_probes, KL);
        dws_gemm(0, 0, B, KL, H, 1.f, dh, H, net->params + net->fc1_probes, KL, 0.f, d_feats, KL);
    }
    if (a->head_skip) skip_backward(net, &st->x[0], d_emb, st->probe_feats, grads, d_feats);
    /* Gradient of the pooled means, broadcast back (divided by the counts) over
     * the last activation and through its ReLU. */
    dws_gemm(0, 0, B, P, H, 1.f, dh, H, net->params + net->fc1_W, P, 0.f, bvec.global, P);
    free(dh);
    dws_pool_divide_counts(&bvec);
    dws_ws G;
    dws_pool PG;
    int rc = place_ws(&st->gbuf[0], &st->gcap[0], &st->x[0], a->channels, &G, err);
    if (rc == 0) rc = place_pool(&st->pgbuf[0], &st->pgcap[0], &st->ax, B, a->channels, &PG, err);
    if (rc == 0) {
        dws_pass pass = {
            .what = "encoder head gradient", .trace = st->ex.trace,
            .ax = &st->ax, .batch = B, .channels = a->channels, .bcast = &bvec,
            .act = DWS_PASS_MASK, .mask = &st->x[N], .out = &G, .pool = &PG, .threads = st->ex.threads,
        };
        rc = dws_pass_run(&pass, &st->ex.work, err);
    }
    dws_pool_free(&bvec);
    if (rc == 0) rc = backward_layers(net, st, &G, &PG, grads, d_in != NULL, err);
    if (rc == 0 && d_in) rc = write_d_in(net, &G, NULL, d_in, err);
    if (rc == 0 && a->probes)   /* after write_d_in, which overwrites d_in */
        rc = dws_probe_backward(st->input, net->params + net->probe_x, a->probes, a->probe_scale, d_feats,
                                grads + net->probe_x, d_in, st->probe_ws, err);
    free(d_feats);
    return rc;
}

const char *dws_model_kind_name(dws_model_kind k)
{
    return k == DWS_MODEL_ADAPTER ? "adapter" : k == DWS_MODEL_ENCODER ? "encoder" : "unknown";
}
