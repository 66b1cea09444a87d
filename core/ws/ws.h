/* core/ws/ws.h: the public header of core/ws/.
 * The weight space and the DWSNet: weight-space tensors, padding and views of classifiers, the network
 * (stack of DWS layers), probe features and the projection head. The layer itself, pooling, passes and
 * the template convolution are internal to this folder (dws_layer.h, ws_pool.h, ws_pass.h,
 * template_conv.h); dws_reference.h is the plain-loop version to read.
 */
#ifndef DWS_WS_H
#define DWS_WS_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "dws_layer.h"
#include "mlp/mlp.h"
#include "param_table.h"
#include "ws_pool.h"
#include "ws_tensor.h"

/* ==== ws pad ==== */
/* Zero-padding classifiers of mixed widths to one fixed shape, so that a model over
 * the flattened weight vector (the flat-MLP baseline) sees every classifier in the
 * same coordinates. Classifier m (widths d_l <= D_l, same depth) sits in the top-left
 * corner of every padded tensor: padded W_l[i][k] = W_l[i][k] for i < d_{l+1},
 * k < d_l, else 0; padded b_l[i] = b_l[i] for i < d_{l+1}, else 0. The padded
 * classifier computes the same function (padded hidden neurons have zero weights and
 * biases, so ReLU leaves them at 0, and their outgoing weights are 0); the entries
 * outside the corner are the mask's zeros and unpadding never reads them. */
/* 1 when m has n_layers layers and d_0, d_L equal to max's, hidden widths <= max's. */
int dws_pad_fits(const dws_mlp *m, int n_layers, const int64_t *max_widths);

/* padded (dws_mlp_param_count(n_layers, max_widths) floats, dws_mlp layout of the
 * max widths) = m zero-padded. m must fit. */
void dws_pad_mlp(const dws_mlp *m, const int64_t *max_widths, float *padded);

/* m's weights = the top-left corners of padded (m's widths say which). */
void dws_unpad_mlp(const float *padded, const int64_t *max_widths, dws_mlp *m);

/* ==== ws views ==== */
/* Random views of a network for contrastive training (docs/design.md section 13.2): a
 * random hidden-neuron permutation (which an invariant encoder cannot see: a
 * sanity augmentation), a random positive rescaling of every hidden neuron (which
 * a ReLU network's function cannot see: the encoder learns to ignore how the scale
 * is split between layers), masking of entries and Gaussian noise on the weights. */
typedef struct {
    float noise;     /* noise std, relative to each tensor's root mean square */
    float mask;      /* probability that an entry is set to zero */
    int permute;     /* 1: permute the hidden neurons */
    float rescale;   /* hidden neuron i: incoming row and bias x s_i, outgoing column / s_i,
                        log s_i ~ U[-rescale, rescale]; 0: off. ReLU-family networks only */
} dws_view_config;

/* noise 0.1, mask 0.1, permute 1, rescale 0. */
dws_view_config dws_view_defaults(void);

/* out (the caller's, with in's shape) = a random view of in, drawn from rng. */
int dws_view_make(const dws_view_config *cfg, const dws_mlp *in, dws_mlp *out, dws_rng *rng, dws_error *err);

/* ==== dws net ==== */
/* The two networks built from DWS layers (docs/design.md sections 10-12), with one flat
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
 * network's own outputs on learned probe inputs (ws/ws.h), both of them
 * also through a linear skip to the embedding (arch fields below). Training may
 * add a projection head (ws/ws.h).
 *
 * The parameter count depends on the architecture only (d_0, d_L, depth, input
 * groups, channels, layers), never on hidden widths.
 *
 * Training: forward with a state made with keep = 1, then backward with the
 * gradient of the loss w.r.t. the output; parameter gradients are ADDED to a
 * buffer laid out like params (zero it first). */
#define DWS_MAX_DWS_LAYERS 8
#define DWS_INMAP_MAX_KERNEL 5   /* the largest input map (dws_arch.input_map) */

/* What a network is for; a trained model (model/model.h) is one or the other. */
typedef enum { DWS_MODEL_ADAPTER = 0, DWS_MODEL_ENCODER = 1 } dws_model_kind;
const char *dws_model_kind_name(dws_model_kind k);      /* "adapter" | "encoder" */

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
     * inputs (ws/ws.h), times probe_scale; 0 probes: none. */
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
    /* adapter conditioned on a domain (docs/design.md section 15); cond_dim 0: not
     * conditioned (one domain, fixed at training). A condition is a chain of up to
     * cond_steps (type, severity) steps, type < cond_types, severity 1..cond_severities,
     * or `any`; each step position has its own table of cond_dim-float embeddings. */
    int cond_dim;
    int cond_types;
    int cond_severities;
    int cond_steps;
    /* conditioned adapter: also on the hidden activation of the MLP it reads, a table
     * of cond_acts rows in dws_cond_activations() order (0: ReLU MLPs only). */
    int cond_acts;
    /* conditioned adapter: also on the input frame it reads the MLP in (mlp.h, dws
     * frame): one learned row added for the standardized frame (0: pixel only). */
    int cond_frames;
    /* adapter reading MLPs of depth_min..depth_max weight layers with one parameter
     * set (docs/design.md section 16; dws depth below); then depth is 3, the layout
     * of the parameters. 0, 0: MLPs of `depth` layers only. */
    int depth_min, depth_max;
    /* adapter with d_0 an image: the input map after the residual (ws/input_map.h,
     * docs/design.md section 18), R = identity + an input_map x input_map convolution
     * mixing the planes, and an input shift; 0: none. Odd, 1..DWS_INMAP_MAX_KERNEL. */
    int input_map;
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
    /* conditioned adapter (cond_dim k): step embeddings [steps x types x severities][k],
     * `any` [k], per DWS layer FiLM maps [k][c_out] (scale - 1, shift), and [k][2L]
     * added to alpha */
    size_t cond_table, cond_any, cond_scale[DWS_MAX_DWS_LAYERS], cond_shift[DWS_MAX_DWS_LAYERS], cond_alpha;
    size_t cond_act;             /* with cond_acts: [cond_acts][k] */
    size_t cond_frame;           /* with cond_frames: [cond_frames][k] */
    /* depth range: per DWS layer, the feature map of interior hidden axes (depth_max
     * >= 4) and of the one hidden axis of a depth-2 MLP (depth_min == 2) */
    size_t M_int[DWS_MAX_DWS_LAYERS], M_one[DWS_MAX_DWS_LAYERS];
    /* adapter with input_map k: the map [P][P][k][k] and shift [d0]; conditioned,
     * also [cond_dim][P P k k] and [cond_dim][d0] added to them per condition */
    size_t inmap_mix, inmap_shift, cond_inmap_mix, cond_inmap_shift;
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
/* The thread count of the next calls (as dws_net_state_new takes it). Results do
 * not depend on it. */
void dws_net_state_set_threads(dws_net_state *st, int threads);
/* Every pass of the following calls recorded in *trace (appended; NULL: off),
 * for the roofline report. */
void dws_net_state_trace(dws_net_state *st, dws_pass_trace *trace);
/* Bytes of activations and scratch st holds for reuse. */
size_t dws_net_state_bytes(const dws_net_state *st);

/* What the last forward left in st (valid until the next call; only with
 * keep = 1, which stores every activation): activation t, 0 = the normalised
 * input, t >= 1 = the output of DWS layer t - 1 (after its ReLU); and the
 * encoder's hidden MLP layer after ReLU (batch x mlp_hidden). For monitoring
 * (dead ReLUs, activation scale) and tests. */
const dws_ws *dws_net_state_activation(const dws_net_state *st, int t);
const float *dws_net_state_encoder_hidden(const dws_net_state *st);

/* Bytes one inference (dws_adapter_forward or dws_encoder_forward, keep = 0)
 * allocates for a batch of `batch` MLPs of these widths on `threads` threads (0:
 * one per CPU, as dws_net_state_new): every buffer the forward sizes, from the
 * same functions that size them, so that a caller can refuse a request before
 * allocating it. Not counted: the caller's input and output tensors. An upper
 * bound of the peak (reallocations counted twice). 0 with err set when the
 * widths are not ones the network reads. */
size_t dws_net_inference_bytes(const dws_net *net, int n_layers, const int64_t *widths, int batch, int threads,
                               dws_error *err);

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

/* ==== dws cond ==== */
/* Conditioning an adapter on the target domain (docs/design.md section 15). The
 * condition's embedding e (cond_dim floats: the sum of its steps' embeddings, or the
 * `any` embedding) sets, for every DWS layer t, a per-output-channel FiLM
 *   y_o <- (1 + (e U_t)_o) y_o + (e V_t)_o
 * on the layer's output before its ReLU, and adds e A to the residual scales alpha.
 * Every term of a layer's output is linear in one of its parameters, and all of a
 * layer's tensors keep the output channel innermost, so the FiLM is exactly a
 * rescaling of those parameters channel by channel plus a shift of its bias: the
 * conditioned adapter is the plain network with "effective" parameters, one
 * forward pass, the same equivariance (the FiLM acts alike on every entry). */
#define DWS_COND_MAX_STEPS 4
#define DWS_COND_MAX_DIM 256

typedef struct {
    int act;                                /* row of the activation table; -1: none */
    int frame;                              /* dws_frame of the MLP read; 0: pixel */
    int any;                                /* 1: the `any` condition (no steps) */
    int n_steps;                            /* 1..cond_steps unless any */
    int type[DWS_COND_MAX_STEPS];           /* 0..cond_types - 1 */
    int severity[DWS_COND_MAX_STEPS];       /* 1..cond_severities */
} dws_cond;

/* A conditioned view of a network: its structure with effective parameters (owned). */
typedef struct {
    dws_net net;
    dws_cond cond;
    float e[DWS_COND_MAX_DIM];
    float scale[DWS_MAX_DWS_LAYERS][256];   /* 1 + e U_t, per output channel */
} dws_cond_net;

/* 0 when net is a conditioned adapter that reads c; else -1 with err (DWS_E_UNKNOWN_DOMAIN). */
int dws_cond_check(const dws_net *net, const dws_cond *c, dws_error *err);
/* cn = net conditioned on c (cn->net.params: n_params floats, allocated). */
int dws_cond_net_make(dws_cond_net *cn, const dws_net *net, const dws_cond *c, dws_error *err);
/* From g_eff, the gradient w.r.t. cn's effective parameters (what dws_adapter_backward
 * on &cn->net added): grads (net's layout) += the gradient w.r.t. net's own
 * parameters, conditioning tensors included. */
void dws_cond_net_backward(const dws_cond_net *cn, const dws_net *net, const float *g_eff, float *grads);
void dws_cond_net_free(dws_cond_net *cn);

/* The hidden activations an activation table lists, in row order (ReLU, LeakyReLU
 * with slope DWS_COND_LEAKY_SLOPE, GELU, tanh): *n of them. */
#define DWS_COND_MAX_ACTS 4
#define DWS_COND_LEAKY_SLOPE 0.01f
const dws_activation *dws_cond_activations(int *n);
/* The row of m's hidden activation in a table of n_rows rows: -1 with err
 * (DWS_E_INCOMPATIBLE_MODEL, saying why) when its hidden layers mix activations,
 * use a LeakyReLU of another slope, or one the table lacks. */
int dws_cond_activation_row(const dws_mlp *m, int n_rows, dws_error *err);

/* ==== dws depth ==== */
/* One parameter set for MLPs of several depths (docs/design.md section 16). A
 * depth-range adapter stores the parameters of a depth-3 network, whose blocks
 * are those of the input layer (E_0, K, pos, M_0, the W_0/b_0 slots), of the first
 * hidden axis (M_1), of an interior hidden-to-hidden layer (E_1, the W_1/b_1 slots),
 * of the last hidden axis (M_2) and of the output layer (the class slots), plus
 * M_int and M_one. The network for depth L is the plain depth-L DWSNet whose
 * every parameter is one of those times a factor: every interior E_t is E_1,
 * every interior hidden axis reads M_int, a depth-2 MLP's one hidden axis M_one,
 * and the global map sums interior sources with weight 1/(L - 2), so that it
 * reads their mean and its scale does not grow with depth. Depth 3 is the stored
 * network itself. The tie is linear: backward adds each depth parameter's
 * gradient, times its factor, to the stored one it came from. */
typedef struct {
    dws_net net;          /* the depth-L network (params owned) */
    uint32_t *src;        /* per parameter of net: the stored parameter it reads */
    float *factor;        /* and the factor */
} dws_depth_net;

/* The stored tensor kind (2 t' + is_bias, t' in 0..2 for a range net) that
 * per-tensor quantity k = 2 t + is_bias of a depth-L MLP reads: normalisation,
 * residual scales. Identity for a net without a depth range. */
int dws_depth_tensor_kind(const dws_net *net, int L, int k);
/* Does net read MLPs of L weight layers? */
int dws_net_reads_depth(const dws_net *net, int L);
/* dn = shared materialised for depth L (L != shared's depth, within its range). */
int dws_depth_net_make(dws_depth_net *dn, const dws_net *shared, int L, dws_error *err);
/* dn's parameters again from shared's current ones (after an optimiser step). */
void dws_depth_net_refresh(dws_depth_net *dn, const dws_net *shared);
/* grads (shared's layout) += the gradient g_depth w.r.t. dn's parameters, tied back. */
void dws_depth_net_backward(const dws_depth_net *dn, const float *g_depth, float *grads);
void dws_depth_net_free(dws_depth_net *dn);
/* A warm start for a depth-range net whose M_int and M_one nothing trained yet: each
 * of their slot pairs takes what the first and last hidden axes' maps (M_1, M_2) hold
 * for the same kinds of slots (the mean of the two where both have them, 0 where
 * neither does). */
void dws_depth_seed(dws_net *net);

/* ==== probe features ==== */
/* Probe features of the encoder: what every input network outputs on K learned
 * inputs ("probes"). A network computes the same function whatever the order of
 * its hidden neurons, so these outputs are invariant to every hidden permutation
 * by construction, and they tell the encoder's head what the weights compute,
 * which pooled means of the weights only hint at. Probe inputs as features of a
 * weight-space encoder: Kofinas et al., "Graph Neural Networks for Learning
 * Equivariant Representations of Neural Networks" (ICLR 2024); learned probes:
 * Kahana et al., "Deep Linear Probe Generators for Weight Space Learning" (2024). */
/* Floats of workspace dws_probe_forward and dws_probe_backward need for networks
 * shaped like in and K probes. */
size_t dws_probe_ws_floats(const dws_ws *in, int K);
size_t dws_probe_ws_floats_for(int n_layers, const int64_t *widths, int K);   /* the same, from the shape */

/* out (K x d_L): scale x the outputs of one network m on the K probes, centred
 * over the outputs when d_L > 1; scratch: dws_mlp_scratch_floats(m, K) floats.
 * What dws_probe_forward computes for every network of a batch. */
void dws_probe_outputs(const dws_mlp *m, const float *probes, int K, float scale, float *out, float *scratch);

/* feats (B x K d_L): scale x the outputs of network b of in (one channel) on the
 * K probes (row-major K x d_0), centred over the outputs when d_L > 1 (a softmax
 * and an arg-max ignore a common shift, so the shift says nothing of behaviour). */
void dws_probe_forward(const dws_ws *in, const float *probes, int K, float scale, float *feats, float *ws);

/* From d_feats = dLoss/dfeats (B x K d_L): d_probes (K x d_0) += dLoss/dprobes and,
 * unless d_in is NULL, d_in (one channel, in's shape) += dLoss/d(weights of in). */
int dws_probe_backward(const dws_ws *in, const float *probes, int K, float scale, const float *d_feats,
                       float *d_probes, dws_ws *d_in, float *ws, dws_error *err);

/* ==== projection head ==== */
/* SimCLR's projection head g of an encoder (arch.proj_hidden P > 0): a ReLU MLP
 * D -> P -> D on the embedding, whose output NT-Xent compares during training;
 * `dwsnet embed` never runs it, so the embedding is the representation before it
 * (Chen et al. 2020: that representation keeps more than the contrastive task
 * needs). Its tensors live in the encoder's flat parameter buffer. */
/* On B embeddings: hid (B x P, after ReLU) and z (B x D). */
void dws_projection_forward(const dws_net *net, const float *emb, int B, float *hid, float *z);
/* grads += dLoss/d(head params); d_emb (B x D) = dLoss/demb, from dz and the
 * forward's emb and hid; d_hid (B x P) is scratch. */
void dws_projection_backward(const dws_net *net, const float *emb, const float *hid, int B, const float *dz,
                             float *grads, float *d_emb, float *d_hid);

#endif
