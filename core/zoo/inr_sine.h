/* The paper's self-supervised experiment data (Navon et al., experiment 2): small
 * MLPs fitted as implicit neural representations of y = a sin(b x), with a and b
 * drawn per network, so that an encoder's embedding can be probed for a and b. */
#ifndef DWS_INR_SINE_H
#define DWS_INR_SINE_H

#include <stdint.h>

#include "base/dws_error.h"
#include "mlp/mlp.h"

typedef struct {
    int hidden;        /* width of both hidden layers (32): a 1-h-h-1 ReLU MLP */
    int points;        /* x on a uniform grid of this many points in [-pi, pi] */
    int steps;         /* full-batch Adam steps */
    float lr;          /* Adam learning rate, decayed to lr/10 along a cosine */
} dws_inr_config;

/* hidden 32, 256 points, 2000 steps, lr 1e-2. */
dws_inr_config dws_inr_defaults(void);

/* Fits a freshly initialised (nn.Linear default, seeded) MLP to a sin(b x):
 * *out is initialised by the call; *mse is its final mean squared error on the grid. */
int dws_inr_fit_sine(const dws_inr_config *cfg, double a, double b, uint64_t seed, dws_mlp *out, double *mse,
                     dws_error *err);

#endif
