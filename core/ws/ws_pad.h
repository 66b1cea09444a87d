/* Zero-padding classifiers of mixed widths to one fixed shape, so that a model over
 * the flattened weight vector (the flat-MLP baseline) sees every classifier in the
 * same coordinates. Classifier m (widths d_l <= D_l, same depth) sits in the top-left
 * corner of every padded tensor: padded W_l[i][k] = W_l[i][k] for i < d_{l+1},
 * k < d_l, else 0; padded b_l[i] = b_l[i] for i < d_{l+1}, else 0. The padded
 * classifier computes the same function (padded hidden neurons have zero weights and
 * biases, so ReLU leaves them at 0, and their outgoing weights are 0); the entries
 * outside the corner are the mask's zeros and unpadding never reads them. */
#ifndef DWS_WS_PAD_H
#define DWS_WS_PAD_H

#include <stddef.h>
#include <stdint.h>

#include "mlp/mlp.h"

/* 1 when m has n_layers layers and d_0, d_L equal to max's, hidden widths <= max's. */
int dws_pad_fits(const dws_mlp *m, int n_layers, const int64_t *max_widths);

/* padded (dws_mlp_param_count(n_layers, max_widths) floats, dws_mlp layout of the
 * max widths) = m zero-padded. m must fit. */
void dws_pad_mlp(const dws_mlp *m, const int64_t *max_widths, float *padded);

/* m's weights = the top-left corners of padded (m's widths say which). */
void dws_unpad_mlp(const float *padded, const int64_t *max_widths, dws_mlp *m);

#endif
