/* The DWS layer (docs/design.md section 6), c_in -> c_out channels, with the fixed axes
 * of sections 4 and 7. Every block of the section 6.3 table is a pool, a channel map and a
 * broadcast; grouped by what source and target share (ws_pool.h):
 *
 *   entry    W_t -> W_t matched on both axes (t < L-1):     E_t, c_in x c_out,
 *            plus the template convolution on W_0 rows when d_0 is an image;
 *   feat_n   every block whose source and target share axis n, matched on it
 *            (W_n/b_n/W_{n+1} -> W_n rows, b_n, W_{n+1} columns; for n = 0 the
 *            W_0 columns): one (F_n c_in) x (F_n c_out) matrix M_n, plus a learned
 *            position embedding pos (d_0 x F_0 c_out) on the n = 0 result;
 *   global   everything pooled over all its permuted axes, to everything:
 *            one (A c_in) x (A c_out) matrix G and a bias per output slot.
 * Each result is broadcast back over the axes it was pooled on. Classes and input
 * groups have their own slots, so maps touching them are exact per class / group.
 * No parameter shape depends on a hidden width.
 *
 * Forward and backward each make one pass over the big tensors (ws_pass.h); the
 * small maps are GEMMs on the pooled summaries. */
#ifndef DWS_LAYER_H
#define DWS_LAYER_H

#include <stddef.h>

#include "base/base.h"
#include "param_table.h"
#include "template_conv.h"
#include "ws_pass.h"
#include "ws_pool.h"
#include "ws_tensor.h"

typedef struct {
    int c_in, c_out;
    dws_axes slots;           /* slot structure; its hidden widths are nominal */
    dws_image_shape image;    /* planes = 0: no template convolution */
    size_t E[DWS_MAX_LAYERS]; /* offsets in the model's flat buffer */
    size_t K;
    size_t M[DWS_MAX_LAYERS];
    size_t pos;
    size_t G;
    size_t bias;
} dws_layer;

/* Per-call execution resources: thread count and memory reused from call to
 * call (one per concurrent user). */
typedef struct {
    int threads;
    dws_pass_work work;
    float *mem;
    size_t mem_cap;
    dws_pass_trace *trace;   /* NULL, or every pass of a call is recorded here */
} dws_exec;

/* Where a forward that does not store its output sends each finished block (after
 * the activation and pooling): fn as a dws_entry_fn with the output's block; reads
 * and writes: the channels per entry it streams, for the trace. */
typedef struct {
    dws_entry_fn fn;
    void *ctx;
    int reads, writes;
    const char *what;   /* NULL: "forward, into a sink" */
} dws_layer_sink;

void dws_exec_free(dws_exec *ex);

/* Adds the layer's tensors, named prefix + "E0", "K", "M0", "pos", "G", "bias",
 * to pt. slots gives L, d_0, d_L and the input groups (image planes, or 1). */
int dws_layer_build(dws_layer *ly, const dws_axes *slots, const dws_image_shape *image, int c_in, int c_out,
                    const char *prefix, dws_param_table *pt, dws_error *err);

/* Random initialisation scaled so that each output sums unit-variance groups of
 * terms (docs/design.md section 8); the convolution and the
 * biases start at zero. */
void dws_layer_init_params(const dws_layer *ly, float *params, dws_rng *rng);

/* Y = act(layer(X)); act is ReLU when relu, else the identity. PX holds the
 * pooled means of X; PY (may be NULL) receives those of Y. */
int dws_layer_forward(const dws_layer *ly, const float *params, const dws_ws *X, const dws_pool *PX, int relu,
                      dws_ws *Y, dws_pool *PY, dws_exec *ex, dws_error *err);

/* Inference shortcut over two layers: as dws_layer_forward, but Y is not stored;
 * each finished block goes at once through the entry-wise map of the next layer,
 * Znext = Y E_next (next->c_out channels, Y's widths), and PY gets Y's pooled
 * means: all that dws_layer_forward_entry needs to run `next`. Saves writing and
 * reading back Y. */
int dws_layer_forward_to_next(const dws_layer *ly, const float *params, const dws_ws *X, const dws_pool *PX,
                              int relu, const dws_layer *next, dws_ws *Znext, dws_pool *PY, dws_exec *ex,
                              dws_error *err);
/* Forward from a precomputed entry-wise term Z = X E (see above); PX: X's pooled means. */
int dws_layer_forward_entry(const dws_layer *ly, const float *params, const dws_ws *Z, const dws_pool *PX, int relu,
                            dws_ws *Y, dws_pool *PY, dws_exec *ex, dws_error *err);

/* What one forward of this layer takes of a dws_exec for inputs of these axes:
 * floats of exec memory (the broadcast vectors and tiled kernel) and of pass arena
 * (see dws_pass_arena_floats), as forward() requests them. For sizing requests. */
void dws_layer_forward_floats(const dws_layer *ly, const dws_axes *ax, int batch, int threads, size_t *mem,
                              size_t *arena);

/* Forward from X or from its entry term Z (exactly one of them), each finished
 * block to sink; nothing stored. */
int dws_layer_forward_sink(const dws_layer *ly, const float *params, const dws_ws *X, const dws_ws *Z,
                           const dws_pool *PX, int relu, const dws_layer_sink *sink, dws_pool *PY, dws_exec *ex,
                           dws_error *err);

/* G: dLoss/d(layer output before activation), PG: its pooled sums. Adds
 * dLoss/dparams to grads. When dX is given it receives dLoss/dX, multiplied by
 * [X > 0] when mask_relu (X being the previous layer's ReLU output), and PdX (may
 * be NULL) its pooled sums: exactly the G and PG of the previous layer. */
int dws_layer_backward(const dws_layer *ly, const float *params, float *grads, const dws_ws *X, const dws_pool *PX,
                       const dws_ws *G, const dws_pool *PG, int mask_relu, dws_ws *dX, dws_pool *PdX, dws_exec *ex,
                       dws_error *err);

#endif
