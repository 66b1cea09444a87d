/* core/mlp/mlp.h: the public header of core/mlp/.
 * MLP classifiers in the weight space: the dws_mlp type (W_l as d_l x d_{l-1}, b_l in one flat
 * buffer), its forward pass and its gradient.
 */
#ifndef DWS_MLP_H
#define DWS_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* ==== mlp ==== */
/* An MLP classifier in the weight-space layout of docs/design.md section 2:
 * x_l = act_l(W_l x_{l-1} + b_l), W_l is d_l x d_{l-1} row-major (rows = output
 * neurons), b_l has d_l entries, act_L is the identity (logits).
 * All weights live in one flat buffer `params`, ordered W_1, b_1, W_2, b_2, ...;
 * W[l] and b[l] (0-based: W[0] is W_1) point into it. */
#define DWS_MAX_LAYERS 16

typedef enum {
    DWS_ACT_IDENTITY = 0,
    DWS_ACT_RELU,
    DWS_ACT_LEAKY_RELU,
    DWS_ACT_TANH,
    DWS_ACT_SIGMOID,
    DWS_ACT_GELU,
    DWS_ACT_GELU_TANH,   /* GELU's tanh approximation (torch GELU(approximate='tanh')) */
    DWS_ACT_SILU,        /* x * sigmoid(x) */
} dws_activation;
#define DWS_ACT_LAST DWS_ACT_SILU

typedef struct {
    int n_layers;                          /* L >= 1 */
    int64_t widths[DWS_MAX_LAYERS + 1];    /* d_0 .. d_L */
    dws_activation act[DWS_MAX_LAYERS];    /* after layer l (0-based); act[L-1] is IDENTITY */
    float leaky_alpha[DWS_MAX_LAYERS];     /* LeakyRelu slope where act is LEAKY_RELU */
    int frame;                             /* dws_frame its layer 1 reads (0: pixel/255) */
    size_t n_params;
    float *params;
    float *W[DWS_MAX_LAYERS];
    float *b[DWS_MAX_LAYERS];
} dws_mlp;

const char *dws_activation_name(dws_activation a);   /* "relu", "leaky_relu", ... */
/* The activation named `name` (dws_activation_name's names): 0, or -1 when none is. */
int dws_activation_parse(const char *name, dws_activation *out);

/* Number of parameters of an MLP with these widths (no overflow check: callers bound widths). */
size_t dws_mlp_param_count(int n_layers, const int64_t *widths);

/* Allocates params (zeroed) and sets the views; hidden activations default to ReLU. */
int dws_mlp_init(dws_mlp *m, int n_layers, const int64_t *widths, dws_error *err);
/* Same shape and activations as src, params copied. */
int dws_mlp_clone(dws_mlp *dst, const dws_mlp *src, dws_error *err);
void dws_mlp_free(dws_mlp *m);
int dws_mlp_same_shape(const dws_mlp *a, const dws_mlp *b);

/* max |a_i - b_i| over every parameter of two MLPs of the same shape (what
 * adapting changed at most). */
double dws_mlp_max_abs_diff(const dws_mlp *a, const dws_mlp *b);

/* Logits for n inputs (row-major n x d_0) into out (n x d_L). scratch must hold
 * dws_mlp_scratch_floats(m, n) floats. Uses OpenBLAS; safe to call concurrently. */
size_t dws_mlp_scratch_floats(const dws_mlp *m, int n);
void dws_mlp_forward(const dws_mlp *m, const float *x, int n, float *out, float *scratch);

/* Applies activation a in place to n values. */
void dws_activation_apply(dws_activation a, float leaky_alpha, float *v, size_t n);
/* Its backward: d[i] *= a'(z[i]) for pre-activations z (a = act(z) is also given,
 * since most derivatives are cheapest from the output). */
void dws_activation_backward(dws_activation a, float leaky_alpha, const float *z, const float *act_out, float *d,
                             size_t n);

/* ==== mlp grad ==== */
/* Softmax cross-entropy of an MLP classifier on a batch, and its gradient with
 * respect to every weight (and optionally the inputs): the building block of
 * classifier training, fine-tuning, and of adapter training, which back-propagates
 * this gradient further into the network that produced the weights; and the mean
 * squared error of a regression MLP (an INR) with the same backward. */
/* Floats of workspace dws_mlp_xent_grad needs for a batch of n. */
size_t dws_mlp_grad_ws_floats(const dws_mlp *m, int n);

/* Mean over the batch of -log softmax(logits)[label]:
 *   x: n x d_0 row-major inputs; labels: n class indices, each < d_L (checked);
 *   grad: same shape as m, OVERWRITTEN with dLoss/dparams (W_l, b_l in m's layout);
 *   dx: n x d_0, overwritten with dLoss/dx, or NULL to skip that product;
 *   ws: dws_mlp_grad_ws_floats(m, n) floats;
 *   loss: the mean loss; correct: number of rows whose arg-max logit is the label (or NULL).
 * Every product goes through OpenBLAS. Thread-safe for distinct grad/ws buffers. */
int dws_mlp_xent_grad(const dws_mlp *m, const float *x, const uint8_t *labels, int n, dws_mlp *grad, float *dx,
                      float *ws, float *loss, int *correct, dws_error *err);

/* Mean over the batch and the outputs of (output - y)^2, for regression (INRs):
 * y: n x d_L targets; everything else as dws_mlp_xent_grad (same workspace). */
int dws_mlp_mse_grad(const dws_mlp *m, const float *x, const float *y, int n, dws_mlp *grad, float *dx, float *ws,
                     float *loss, dws_error *err);

/* Backward from any loss: given d_out = dLoss/d(outputs) (n x d_L) for inputs x,
 * writes dLoss/dparams into grad and dLoss/dx into dx (either may be NULL to skip
 * it; grad has m's shape). Same workspace as dws_mlp_xent_grad; no checks, the
 * caller owns the shapes. */
void dws_mlp_vjp(const dws_mlp *m, const float *x, int n, const float *d_out, dws_mlp *grad, float *dx, float *ws);

/* Index of the largest of v[0..k) (the first one on ties). */
int dws_argmax(const float *v, int k);

/* ==== input affine ====
 * Element-wise preprocessing with constant operands and a permutation in front of
 * layer 1, in the pixel frame of docs/task.md section 2: layer 1 reads
 * x'[j] = scale[j] * x[src[j]] + shift[j] for the pixel-frame input x (d0 values,
 * src a permutation). Folding gives the pixel-frame twin of the classifier:
 *   W_1'[:, src[j]] = W_1[:, j] * scale[j],  b_1' = b_1 + W_1 shift  (sums in double);
 * unfolding maps new pixel-frame weights V_1', v_1' back:
 *   V_1[:, j] = V_1'[:, src[j]] / scale[j],  v_1 = v_1' - V_1 shift.
 * Layers 2..L pass through untouched (docs/onnx.md section 2.1). */
typedef struct {
    int64_t d0;
    double *scale, *shift;
    int64_t *src;
} dws_input_affine;

/* The identity on d0 features (scale 1, shift 0, src[j] = j). */
int dws_input_affine_init(dws_input_affine *t, int64_t d0, dws_error *err);
void dws_input_affine_free(dws_input_affine *t);
/* 1 when t is the identity. */
int dws_input_affine_is_identity(const dws_input_affine *t);
/* Checks every scale finite and nonzero, every shift finite, src a permutation. */
int dws_input_affine_check(const dws_input_affine *t, dws_error *err);

/* Normalisation applied outside the model (e.g. torchvision's Normalize): the model
 * reads (pixel/255 - mean[c]) / std[c], c the channel of a CHW-flattened feature;
 * n 1 (all channels) or 3; n 0: none. --input-range lo,hi is mean -lo/(hi-lo),
 * std 1/(hi-lo). */
#define DWS_INPUT_NORM_MAX 3
typedef struct {
    int n;
    double mean[DWS_INPUT_NORM_MAX], std[DWS_INPUT_NORM_MAX];
} dws_input_norm;

/* Fills *norm from the text of --input-mean / --input-std ("m1,m2,m3": 1 or 3
 * numbers each, the same count) or --input-range ("lo,hi", lo < hi); NULL for the
 * ones not given. Nothing given: norm->n = 0. Strict: finite decimal numbers,
 * nonzero std, at most 256 characters each, range exclusive with mean/std
 * (DWS_E_INVALID_ARGUMENT with the reason). */
int dws_input_norm_parse(dws_input_norm *norm, const char *mean, const char *std, const char *range, dws_error *err);

/* t = t after the external normalisation: x'[j] = scale[j] * norm(x)[src[j]] +
 * shift[j] becomes an affine map of the pixel-frame x. d0 must split into n
 * channels; std must be finite and nonzero. */
int dws_input_affine_compose_norm(dws_input_affine *t, const dws_input_norm *norm, dws_error *err);

/* out (initialised by the call) = w with W_1, b_1 folded; t->d0 must be w's d_0. */
int dws_mlp_fold_input(const dws_mlp *w, const dws_input_affine *t, dws_mlp *out, dws_error *err);
/* Unfolds w's W_1, b_1 in place. orig is the model as stored, folded its fold:
 * an entry of W_1 whose pixel-frame entry is bit-equal to the folded one gets
 * orig's entry back, and so does a bias whose whole row and bias are unchanged,
 * so that zero adaptation gives back the stored bits exactly. */
int dws_mlp_unfold_input(dws_mlp *w, const dws_input_affine *t, const dws_mlp *orig, const dws_mlp *folded,
                         dws_error *err);
/* The transpose of folding (a linear map of W_1, b_1): g holds the gradient w.r.t.
 * folded weights and gets, in place, the gradient w.r.t. the weights before:
 *   g_W[:, j] = g_W'[:, src[j]] * scale[j] + g_b' shift[j],  g_b = g_b'. */
int dws_mlp_fold_input_backward(dws_mlp *g, const dws_input_affine *t, dws_error *err);

/* ==== frames ====
 * The input frame an adapter reads a classifier in. Pixel: x = pixel/255, the
 * zoo's. Standardized: z = (x - mean[c]) / std[c] with CIFAR-10's channel
 * statistics, the torchvision Normalize most PyTorch users train with. A classifier
 * trained on standardized inputs has its usual weight scale only in that frame (its
 * pixel-frame twin's b_1 absorbs -W_1 mean / std); x = std z + mean folds it there. */
typedef enum { DWS_FRAME_PIXEL = 0, DWS_FRAME_STANDARDIZED, DWS_FRAME_COUNT } dws_frame;
const char *dws_frame_name(dws_frame f);   /* "pixel", "standardized" */
int dws_frame_parse(const char *name, dws_frame *out);
/* CIFAR-10's per-channel mean 0.4914, 0.4822, 0.4465 and std 0.2470, 0.2435, 0.2616. */
extern const dws_input_norm DWS_CIFAR10_STANDARDIZATION;
/* t = t read from frame f: a model whose layer 1 reads t(x) then reads t(x(z)) for
 * frame-f inputs z (x = std z + mean when standardized; nothing for pixel), so that
 * folding t gives its weights in frame f. */
int dws_input_affine_compose_frame(dws_input_affine *t, dws_frame f, dws_error *err);
/* t (initialised by the call) = frame f's input as a map of the pixel-frame x
 * ((x - mean) / std when standardized; the identity for pixel): folding it turns
 * a frame-f MLP into its pixel-frame twin. */
int dws_input_affine_of_frame(dws_input_affine *t, int64_t d0, dws_frame f, dws_error *err);
/* out (initialised by the call) = the pixel-frame MLP w read in frame f (out->frame = f). */
int dws_mlp_to_frame(const dws_mlp *w, dws_frame f, dws_mlp *out, dws_error *err);
/* out (initialised by the call) = w, which reads frame `from`, as its pixel-frame twin. */
int dws_mlp_to_pixel_frame(const dws_mlp *w, dws_frame from, dws_mlp *out, dws_error *err);
/* Its backward: g, the gradient w.r.t. the twin, becomes in place the gradient w.r.t.
 * the frame-`from` weights (dws_mlp_fold_input_backward with the same map). */
int dws_mlp_to_pixel_frame_backward(dws_mlp *g, dws_frame from, dws_error *err);

#endif
