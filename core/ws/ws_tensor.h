/* Weight-space tensors: a batch of B MLPs that share their widths, every weight
 * and bias carrying c channels (docs/design.md section 2). Channels are fastest so that
 * every per-entry channel map is one GEMM:
 *   W_t of network b: [d_{t+1}][d_t][c]  at data + W_off[t] + b * d_{t+1} d_t c
 *   b_t of network b: [d_{t+1}][c]       at data + b_off[t] + b * d_{t+1} c
 * (t is 0-based: W_t maps neuron layer t to layer t+1, as dws_mlp's W[t].)
 * All tensors of the batch live in one flat buffer, W_0 (whole batch), b_0, W_1, ...
 *
 * Also here: hidden-neuron permutations g = (P_1 .. P_{L-1}) and their action on
 * MLPs and weight-space tensors (docs/design.md section 3). */
#ifndef DWS_WS_TENSOR_H
#define DWS_WS_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "mlp/mlp.h"

typedef struct {
    int n_layers;                          /* L */
    int64_t widths[DWS_MAX_LAYERS + 1];    /* d_0 .. d_L */
    int batch;                             /* B */
    int channels;                          /* c */
    /* The networks' activations (dws_mlp's), for what runs the networks themselves
     * (the encoder's probe features): copied by dws_ws_from_mlps; ReLU hidden and
     * identity output after dws_ws_layout, as dws_mlp_init. */
    dws_activation act[DWS_MAX_LAYERS];
    float leaky_alpha[DWS_MAX_LAYERS];
    size_t W_off[DWS_MAX_LAYERS];
    size_t b_off[DWS_MAX_LAYERS];
    size_t n_floats;
    float *data;
    int owns_data;
} dws_ws;

/* Fills in the shape and offsets only (data = NULL), so callers can place the
 * tensor in memory they manage. Fails on bad widths or a size that overflows. */
int dws_ws_layout(dws_ws *t, int n_layers, const int64_t *widths, int batch, int channels, dws_error *err);
/* Layout plus a zeroed buffer owned by t. */
int dws_ws_init(dws_ws *t, int n_layers, const int64_t *widths, int batch, int channels, dws_error *err);
void dws_ws_free(dws_ws *t);
int dws_ws_same_shape(const dws_ws *a, const dws_ws *b);   /* layers, widths, batch, channels */

static inline float *dws_ws_W(const dws_ws *t, int l, int b)
{
    return t->data + t->W_off[l] + (size_t)b * (size_t)t->widths[l + 1] * (size_t)t->widths[l] * (size_t)t->channels;
}

static inline float *dws_ws_b(const dws_ws *t, int l, int b)
{
    return t->data + t->b_off[l] + (size_t)b * (size_t)t->widths[l + 1] * (size_t)t->channels;
}

/* One channel per entry: the weights of `batch` MLPs with identical widths. */
int dws_ws_from_mlps(dws_ws *t, const dws_mlp *const *mlps, int batch, dws_error *err);
/* t = m seen as a one-network, one-channel tensor, without a copy: the layouts
 * coincide (t->data points into m's params; t does not own it). */
int dws_ws_view_mlp(dws_ws *t, const dws_mlp *m, dws_error *err);
/* Network b of a one-channel tensor into m (m must have t's widths). */
void dws_ws_to_mlp(const dws_ws *t, int b, dws_mlp *m);

/* A hidden-neuron permutation: perm[n] (1 <= n <= L-1) lists, for every new
 * position i of layer n, the old neuron it takes: new W_t[i][k] = old
 * W_t[perm[t+1][i]][perm[t][k]], new b_t[i] = old b_t[perm[t+1][i]]; layers 0 and L
 * are never permuted (their entries are NULL). */
typedef struct {
    int n_layers;
    int64_t widths[DWS_MAX_LAYERS + 1];
    int64_t *perm[DWS_MAX_LAYERS + 1];
} dws_perm;

int dws_perm_random(dws_perm *g, int n_layers, const int64_t *widths, dws_rng *rng, dws_error *err);
void dws_perm_free(dws_perm *g);
/* out = g.in; out must have in's shape and must not alias it. */
void dws_perm_apply_mlp(const dws_perm *g, const dws_mlp *in, dws_mlp *out);
void dws_perm_apply_ws(const dws_perm *g, const dws_ws *in, dws_ws *out);

#endif
