/* A reference DWS layer: what dws_layer.h computes, in plain loops, block by
 * block, written to be read and to test the fast path against
 * (tests/unit/test_dws_reference.c). No blocking, no BLAS, no fused pass: for
 * every target tensor T (a W_t or b_t) and every source tensor S, the terms of the
 * block S -> T of docs/design.md section 6.3, each one a mean-pool of S over
 * the axes it does not keep, a channel map read from the layer's parameters and a
 * broadcast over T; then the per-slot bias, the position embedding and the
 * entry-wise term with its template convolution. It reads the parameters at the
 * layer's offsets in the flat buffer, so it computes the fast layer's function
 * (up to float rounding: it sums in double) for any params. All of the layer is
 * here; the activation (ReLU forward, its mask backward) is the caller's.
 *
 * Slow (every block is recomputed from the big tensors) and for tests only. */
#ifndef DWS_REFERENCE_H
#define DWS_REFERENCE_H

#include "base/base.h"
#include "dws_layer.h"
#include "ws_pool.h"
#include "ws_tensor.h"

/* Y = layer(X), without activation: X has c_in channels, Y c_out, the same widths
 * and batch; d_0, d_L, the depth and the input groups are the layer's, the hidden
 * widths any. */
int dws_ref_forward(const dws_layer *ly, const float *params, const dws_ws *X, dws_ws *Y, dws_error *err);

/* dY = dLoss/dY (c_out channels). dX (may be NULL) receives dLoss/dX, and
 * dLoss/dparams is ADDED to grads (laid out like params): dws_layer_backward
 * without the ReLU mask. */
int dws_ref_backward(const dws_layer *ly, const float *params, const dws_ws *X, const dws_ws *dY, dws_ws *dX,
                     float *grads, dws_error *err);

/* pool (ax: X's widths; X's batch and channels) = the pooled means (means = 1) or
 * sums of X in the layout of ws_pool.h: what dws_pass_pool computes. */
int dws_ref_pool(const dws_axes *ax, const dws_ws *X, dws_pool *pool, int means, dws_error *err);

#endif
