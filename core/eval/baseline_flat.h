/* The flat-MLP baseline adapter of the DWSNets paper: every classifier is zero-padded
 * to the largest widths (ws_pad.h), its weights normalised per tensor and flattened
 * to a vector x of P values, and an MLP P -> H -> H -> P (ReLU) outputs a residual:
 *   adapted = unpad(padded + s * MLP(x)),   x = padded / s,
 * with s the per-tensor scale (RMS of that tensor's real entries over the training
 * classifiers). The output layer starts at zero, so the adapter starts as the
 * identity. It ignores the weight-space symmetry: a permuted classifier is a
 * different input (flat-mlp-perm trains it on random permutations to compensate). */
#ifndef DWS_BASELINE_FLAT_H
#define DWS_BASELINE_FLAT_H

#include <stdint.h>

#include "baseline.h"

/* hidden H >= 1; max_batch >= 1 classifiers per forward; seed: the initialisation
 * (PyTorch nn.Linear default for the first two layers). Scales start at 1. */
dws_baseline *dws_flat_create(int n_layers, const int64_t *max_widths, int hidden, int max_batch, uint64_t seed,
                              dws_error *err);

/* Sets the per-tensor scales from these classifiers (each must fit the padding). */
void dws_flat_fit_scales(dws_baseline *a, const dws_mlp *const *mlps, int n);

/* The per-tensor scales (2 * n_layers: W_1, b_1, W_2, ...), for the settings record. */
const float *dws_flat_scales(const dws_baseline *a, int *n);

/* The shape it was created with, for saving it. */
void dws_flat_shape(const dws_baseline *a, int *n_layers, int64_t *max_widths, int *hidden);
/* Sets the 2 * n_layers per-tensor scales (a saved adapter's). */
void dws_flat_set_scales(dws_baseline *a, const float *scales);

#endif
