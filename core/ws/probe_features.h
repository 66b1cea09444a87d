/* Probe features of the encoder: what every input network outputs on K learned
 * inputs ("probes"). A network computes the same function whatever the order of
 * its hidden neurons, so these outputs are invariant to every hidden permutation
 * by construction, and they tell the encoder's head what the weights compute,
 * which pooled means of the weights only hint at. Probe inputs as features of a
 * weight-space encoder: Kofinas et al., "Graph Neural Networks for Learning
 * Equivariant Representations of Neural Networks" (ICLR 2024); learned probes:
 * Kahana et al., "Deep Linear Probe Generators for Weight Space Learning" (2024). */
#ifndef DWS_PROBE_FEATURES_H
#define DWS_PROBE_FEATURES_H

#include <stddef.h>

#include "base/dws_error.h"
#include "mlp/mlp.h"
#include "ws_tensor.h"

/* Floats of workspace dws_probe_forward and dws_probe_backward need for networks
 * shaped like in and K probes. */
size_t dws_probe_ws_floats(const dws_ws *in, int K);

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

#endif
