/* Shared by the DWSNet core tests: random weight spaces, randomised networks,
 * comparisons. */
#ifndef DWS_TEST_HELPER_DWS_H
#define DWS_TEST_HELPER_DWS_H

#include <stdint.h>

#include "ws/ws.h"
#include "base/base.h"

/* A one-channel batch of random MLPs (PyTorch-like scale: U(+-1/sqrt(fan_in))). */
void th_random_ws(dws_ws *t, int n_layers, const int64_t *widths, int batch, dws_rng *rng);
/* Fills a tensor with N(0, 1) values. */
void th_fill_normal(float *v, size_t n, float std, dws_rng *rng);
/* Every parameter of the net random and nonzero (so every block is on, the
 * convolution and alpha included), and random normalisation statistics. */
void th_randomise_net(dws_net *net, dws_rng *rng);
/* sum of x[i] y[i], accumulated in double (gradient checks' inner products) */
double th_dot(const float *x, const float *y, size_t n);
/* max |a - b| / max(max |b|, tiny) */
double th_rel_err(const float *a, const float *b, size_t n);
/* Random widths: d_0 and d_L given, hidden in [lo, hi]. */
void th_random_widths(int64_t *widths, int n_layers, int64_t d0, int64_t dL, int64_t lo, int64_t hi, dws_rng *rng);

#endif
