/* The two networks built from DWS layers (DWSNET.md section 5), with one flat
 * parameter buffer each, forward and backward over a batch of MLPs that share
 * their widths.
 *
 * Adapter: per-tensor input normalisation (zoo statistics), DWS layers
 * 1 -> c -> ... -> c -> 1 with ReLU between them, and the residual
 *   W_t' = W_t + alpha_Wt std_Wt F(v)_Wt,   b_t' = b_t + alpha_bt std_bt F(v)_bt,
 * alpha = 0 at initialisation, so the adapter starts as the exact identity.
 * Encoder: normalisation, DWS layers 1 -> c -> ... -> c, all with ReLU, the
 * invariant pooling (every tensor's mean over its permuted axes, classes and input
 * groups kept apart: the global summary of ws_pool.h), then an MLP
 * (A c) -> hidden -> embed_dim; the MLP may also read log hidden widths and the
 * network's own outputs on learned probe inputs (probe_features.h), both of them
 * also through a linear skip to the embedding (arch fields below). Training may
 * add a projection head (projection_head.h).
 *
 * The parameter count depends on the architecture only (d_0, d_L, depth, input
 * groups, channels, layers), never on hidden widths.
 *
 * Training: forward with a state made with keep = 1, then backward with the
 * gradient of the loss w.r.t. the output; parameter gradients are ADDED to a
 * buffer laid out like params (zero it first). */
#ifndef DWS_NET_H
#define DWS_NET_H

#include <stddef.h>
#include <stdint.h>

#include "base/dws_error.h"
#include "dws_layer.h"
#include "model/dws_model.h"
#include "param_table.h"
#include "ws_pool.h"
#include "ws_tensor.h"

#define DWS_MAX_DWS_LAYERS 8
/* Forward refuses batches whose activations would take more memory than this. */
#define DWS_NET_MAX_ACTIVATION_BYTES (8.0 * 1024 * 1024 * 1024)

typedef struct {
    dws_model_kind kind;
    int depth;                   /* L of the MLPs it reads */
    int64_t d0, dL;
    dws_image_shape image;       /* planes = 0: d_0 is not an image */
    int channels;                /* c of the hidden DWS layers */
    int n_dws_layers;
    int embed_dim;               /* encoder */
    int mlp_hidden;              /* encoder */
    /* encoder: the head also reads log(d_n / 64) of every hidden width. Pooled
     * means cannot tell a wide network from a narrow one; the widths are
     * invariant to every hidden permutation, so adding them keeps invariance. */
    int width_features;
    /* encoder: the head also reads the network's own outputs on `probes` learned
     * inputs (probe_features.h), times probe_scale; 0 probes: none. */
    int probes;
    float probe_scale;
    /* encoder: hidden width of the projection head that only training uses
     * (SimCLR's g: embed_dim -> proj_hidden -> embed_dim, ReLU), so the embedding
     * is the representation before it; 0: training contrasts the embedding itself. */
    int proj_hidden;
    /* encoder: the embedding also reads the width and probe features linearly
     * (a skip past the head's ReLU layer), so what they say of a network reaches
     * the embedding without being folded through the hidden layer. */
    int head_skip;
} dws_arch;

/* The defaults of `dwsnet init-model` and of the shipped models (CIFAR-10). */
void dws_arch_default(dws_arch *a, dws_model_kind kind);
/* Checks every field against the limits the code supports. */
int dws_arch_check(const dws_arch *a, dws_error *err);

typedef struct dws_net {
    dws_arch arch;
    dws_axes slots;              /* slot structure (nominal hidden widths) */
    dws_layer layers[DWS_MAX_DWS_LAYERS];
    size_t alpha;                /* adapter: [2L], W_t at 2t, b_t at 2t + 1 */
    size_t fc1_W, fc1_b, fc2_W, fc2_b;   /* encoder: [H][A c], [H], [D][H], [D] */
    size_t fc1_widths;                   /* encoder with width_features, depth > 1: [H][depth - 1] */
    size_t probe_x, fc1_probes;          /* encoder with probes K: [K][d0], [H][K dL] */
    size_t proj1_W, proj1_b, proj2_W, proj2_b;   /* encoder with proj_hidden P: [P][D], [P], [D][P], [D] */
    size_t skip_widths, skip_probes;     /* encoder with head_skip: [D][depth - 1], [D][K dL] */
    dws_param_table table;
    size_t n_params;
    float *params;
    /* Input normalisation (not trained): x = (w - mean) / std per tensor,
     * W_t at 2t, b_t at 2t + 1. */
    float norm_mean[2 * DWS_MAX_LAYERS];
    float norm_std[2 * DWS_MAX_LAYERS];
} dws_net;

/* Lays out and randomly initialises (seeded, deterministic) a network;
 * normalisation starts at mean 0, std 1. */
int dws_net_init(dws_net *net, const dws_arch *arch, uint64_t seed, dws_error *err);
void dws_net_free(dws_net *net);

/* Forward/backward state: activations kept for backward (keep = 1) or only two
 * live at a time (keep = 0, inference), and reusable scratch. One per thread of
 * use; a net itself is never written by forward or backward. */
typedef struct dws_net_state dws_net_state;
dws_net_state *dws_net_state_new(int threads, int keep);
void dws_net_state_free(dws_net_state *st);

/* What the last forward left in st (valid until the next call; only with
 * keep = 1, which stores every activation): activation t, 0 = the normalised
 * input, t >= 1 = the output of DWS layer t - 1 (after its ReLU); and the
 * encoder's hidden MLP layer after ReLU (batch x mlp_hidden). For monitoring
 * (dead ReLUs, activation scale) and tests. */
const dws_ws *dws_net_state_activation(const dws_net_state *st, int t);
const float *dws_net_state_encoder_hidden(const dws_net_state *st);

/* Multiply-adds x 2 of one forward over one MLP of these widths: the channel
 * maps (GEMMs) and the template convolution; the memory-bound broadcast and
 * pooling are not counted. For reporting GFLOP/s. */
double dws_net_forward_flops(const dws_net *net, const int64_t *widths);

/* Does the net read MLPs of this shape (d_0, d_L, depth)? */
int dws_net_check_input(const dws_net *net, const dws_ws *in, dws_error *err);

/* out (initialised by the caller with in's shape, one channel) = adapted weights. */
int dws_adapter_forward(const dws_net *net, const dws_ws *in, dws_ws *out, dws_net_state *st, dws_error *err);
/* d_out: dLoss/d(adapted weights). grads += dLoss/dparams; d_in (NULL or in's
 * shape) = dLoss/d(input weights), through the residual and the network. */
int dws_adapter_backward(const dws_net *net, dws_net_state *st, const dws_ws *d_out, float *grads, dws_ws *d_in,
                         dws_error *err);

/* emb: batch x embed_dim floats. With probes, backward reads `in` again: it must
 * still hold the forward's input. */
int dws_encoder_forward(const dws_net *net, const dws_ws *in, float *emb, dws_net_state *st, dws_error *err);
int dws_encoder_backward(const dws_net *net, dws_net_state *st, const float *d_emb, float *grads, dws_ws *d_in,
                         dws_error *err);

#endif
