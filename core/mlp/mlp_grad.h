/* Softmax cross-entropy of an MLP classifier on a batch, and its gradient with
 * respect to every weight (and optionally the inputs): the building block of
 * classifier training, fine-tuning, and of adapter training, which back-propagates
 * this gradient further into the network that produced the weights; and the mean
 * squared error of a regression MLP (an INR) with the same backward. */
#ifndef DWS_MLP_GRAD_H
#define DWS_MLP_GRAD_H

#include <stddef.h>
#include <stdint.h>

#include "base/dws_error.h"
#include "mlp.h"

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

#endif
