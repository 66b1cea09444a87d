#include "ws_tensor.h"

#include <stdlib.h>
#include <string.h>

int dws_ws_layout(dws_ws *t, int n_layers, const int64_t *widths, int batch, int channels, dws_error *err)
{
    memset(t, 0, sizeof *t);
    if (n_layers < 1 || n_layers > DWS_MAX_LAYERS || batch < 1 || channels < 1) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "weight-space tensor needs 1..%d layers, batch >= 1, channels >= 1",
                      DWS_MAX_LAYERS);
        return -1;
    }
    t->n_layers = n_layers;
    t->batch = batch;
    t->channels = channels;
    for (int l = 0; l <= n_layers; l++) {
        if (widths[l] < 1) {
            dws_error_set(err, DWS_E_SHAPE_MISMATCH, "width d_%d is %lld", l, (long long)widths[l]);
            return -1;
        }
        t->widths[l] = widths[l];
    }
    size_t per_entry = (size_t)batch * (size_t)channels, off = 0;
    for (int l = 0; l < n_layers; l++) {
        size_t w, n;
        if (__builtin_mul_overflow((size_t)widths[l + 1], (size_t)widths[l], &w) ||
            __builtin_add_overflow(w, (size_t)widths[l + 1], &n) || __builtin_mul_overflow(n, per_entry, &n) ||
            __builtin_add_overflow(off, n, &n)) {
            dws_error_set(err, DWS_E_TOO_LARGE, "weight-space tensor size overflows");
            return -1;
        }
        t->W_off[l] = off;
        t->b_off[l] = off + w * per_entry;
        off = n;
    }
    if (off > ((size_t)1 << 40)) {   /* 4 TiB of floats: nothing real gets here, a bad request might */
        dws_error_set(err, DWS_E_TOO_LARGE, "weight-space tensor of %zu floats is too large", off);
        return -1;
    }
    t->n_floats = off;
    for (int l = 0; l < n_layers; l++) t->act[l] = l + 1 < n_layers ? DWS_ACT_RELU : DWS_ACT_IDENTITY;
    return 0;
}

int dws_ws_init(dws_ws *t, int n_layers, const int64_t *widths, int batch, int channels, dws_error *err)
{
    if (dws_ws_layout(t, n_layers, widths, batch, channels, err) != 0) return -1;
    t->data = calloc(t->n_floats, sizeof(float));
    if (!t->data) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate a weight-space tensor of %zu floats", t->n_floats);
        return -1;
    }
    t->owns_data = 1;
    return 0;
}

void dws_ws_free(dws_ws *t)
{
    if (!t) return;
    if (t->owns_data) free(t->data);
    memset(t, 0, sizeof *t);
}

int dws_ws_same_shape(const dws_ws *a, const dws_ws *b)
{
    if (a->n_layers != b->n_layers || a->batch != b->batch || a->channels != b->channels) return 0;
    for (int l = 0; l <= a->n_layers; l++)
        if (a->widths[l] != b->widths[l]) return 0;
    return 1;
}

static int same_activations(const dws_mlp *a, const dws_mlp *b)
{
    for (int l = 0; l < a->n_layers; l++)
        if (a->act[l] != b->act[l] || (a->act[l] == DWS_ACT_LEAKY_RELU && a->leaky_alpha[l] != b->leaky_alpha[l]))
            return 0;
    return 1;
}

int dws_ws_from_mlps(dws_ws *t, const dws_mlp *const *mlps, int batch, dws_error *err)
{
    if (batch < 1) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "empty batch of MLPs");
        return -1;
    }
    for (int b = 1; b < batch; b++) {
        if (!dws_mlp_same_shape(mlps[0], mlps[b])) {
            dws_error_set(err, DWS_E_SHAPE_MISMATCH, "MLP %d of the batch has other widths than MLP 0", b);
            return -1;
        }
        if (!same_activations(mlps[0], mlps[b])) {
            dws_error_set(err, DWS_E_SHAPE_MISMATCH, "MLP %d of the batch has other activations than MLP 0", b);
            return -1;
        }
    }
    if (dws_ws_init(t, mlps[0]->n_layers, mlps[0]->widths, batch, 1, err) != 0) return -1;
    memcpy(t->act, mlps[0]->act, sizeof t->act);
    memcpy(t->leaky_alpha, mlps[0]->leaky_alpha, sizeof t->leaky_alpha);
    for (int b = 0; b < batch; b++) {
        for (int l = 0; l < t->n_layers; l++) {
            size_t rows = (size_t)t->widths[l + 1];
            memcpy(dws_ws_W(t, l, b), mlps[b]->W[l], rows * (size_t)t->widths[l] * sizeof(float));
            memcpy(dws_ws_b(t, l, b), mlps[b]->b[l], rows * sizeof(float));
        }
    }
    return 0;
}

int dws_ws_view_mlp(dws_ws *t, const dws_mlp *m, dws_error *err)
{
    if (dws_ws_layout(t, m->n_layers, m->widths, 1, 1, err) != 0) return -1;
    memcpy(t->act, m->act, sizeof t->act);
    memcpy(t->leaky_alpha, m->leaky_alpha, sizeof t->leaky_alpha);
    t->data = m->params;   /* W_0, b_0, W_1, ... of one network: dws_mlp's order */
    return 0;
}

void dws_ws_to_mlp(const dws_ws *t, int b, dws_mlp *m)
{
    for (int l = 0; l < t->n_layers; l++) {
        size_t rows = (size_t)t->widths[l + 1];
        memcpy(m->W[l], dws_ws_W(t, l, b), rows * (size_t)t->widths[l] * sizeof(float));
        memcpy(m->b[l], dws_ws_b(t, l, b), rows * sizeof(float));
    }
}

int dws_perm_random(dws_perm *g, int n_layers, const int64_t *widths, dws_rng *rng, dws_error *err)
{
    memset(g, 0, sizeof *g);
    if (n_layers < 1 || n_layers > DWS_MAX_LAYERS) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "permutation of %d layers", n_layers);
        return -1;
    }
    g->n_layers = n_layers;
    memcpy(g->widths, widths, sizeof(int64_t) * (size_t)(n_layers + 1));
    for (int n = 1; n < n_layers; n++) {
        int64_t d = widths[n];
        g->perm[n] = malloc(sizeof(int64_t) * (size_t)d);
        if (!g->perm[n]) {
            dws_perm_free(g);
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate a permutation of %lld", (long long)d);
            return -1;
        }
        for (int64_t i = 0; i < d; i++) g->perm[n][i] = i;
        for (int64_t i = d; i > 1; i--) {   /* Fisher-Yates */
            int64_t j = (int64_t)dws_rng_below(rng, (uint64_t)i), tmp = g->perm[n][i - 1];
            g->perm[n][i - 1] = g->perm[n][j];
            g->perm[n][j] = tmp;
        }
    }
    return 0;
}

void dws_perm_free(dws_perm *g)
{
    for (int n = 0; n <= DWS_MAX_LAYERS; n++) free(g->perm[n]);
    memset(g, 0, sizeof *g);
}

static inline int64_t perm_index(const dws_perm *g, int n, int64_t i)
{
    return g->perm[n] ? g->perm[n][i] : i;
}

/* Moves the c-channel entries of one tensor pair (W_l, b_l) of one network. */
static void permute_layer(const dws_perm *g, int l, int c, const float *W, const float *bias, float *W_out,
                          float *bias_out)
{
    int64_t rows = g->widths[l + 1], cols = g->widths[l];
    size_t cs = (size_t)c * sizeof(float);
    for (int64_t i = 0; i < rows; i++) {
        int64_t src_i = perm_index(g, l + 1, i);
        const float *src_row = W + (size_t)src_i * (size_t)cols * (size_t)c;
        float *dst_row = W_out + (size_t)i * (size_t)cols * (size_t)c;
        for (int64_t k = 0; k < cols; k++)
            memcpy(dst_row + (size_t)k * (size_t)c, src_row + (size_t)perm_index(g, l, k) * (size_t)c, cs);
        memcpy(bias_out + (size_t)i * (size_t)c, bias + (size_t)src_i * (size_t)c, cs);
    }
}

void dws_perm_apply_mlp(const dws_perm *g, const dws_mlp *in, dws_mlp *out)
{
    for (int l = 0; l < in->n_layers; l++) permute_layer(g, l, 1, in->W[l], in->b[l], out->W[l], out->b[l]);
}

void dws_perm_apply_ws(const dws_perm *g, const dws_ws *in, dws_ws *out)
{
    for (int b = 0; b < in->batch; b++)
        for (int l = 0; l < in->n_layers; l++)
            permute_layer(g, l, in->channels, dws_ws_W(in, l, b), dws_ws_b(in, l, b), dws_ws_W(out, l, b),
                          dws_ws_b(out, l, b));
}
