/* The two baselines an embedding of classifiers must beat (DWSNET.md section 7):
 * per-tensor weight statistics (Unterthiner et al. 2020, "Predicting Neural
 * Network Accuracy from Weights") and the flattened weights themselves, which
 * for networks of mixed hidden widths are compared as if zero-padded to common
 * widths (their inner product runs over the shared rows and columns). */
#ifndef DWS_WEIGHT_FEATURES_H
#define DWS_WEIGHT_FEATURES_H

#include "base/dws_error.h"
#include "mlp/mlp.h"

#define DWS_WEIGHT_STATS_PER_TENSOR 7

/* Features of an MLP of n_layers layers: 2 n_layers tensors x 7. */
int dws_weight_stats_count(int n_layers);

/* Per tensor W_1, b_1, W_2, ...: mean, standard deviation, and the 0, 25, 50,
 * 75, 100 % quantiles of its entries. */
int dws_weight_stats(const dws_mlp *m, double *out, dws_error *err);

/* Inner product of the two networks' flattened weights, each zero-padded to the
 * wider of the two at every layer (same depth, d_0 and d_L required: else NAN). */
double dws_padded_dot(const dws_mlp *a, const dws_mlp *b);

#endif
