/* Random views of a network for contrastive training (DWSNET.md section 6): a
 * random hidden-neuron permutation (which an invariant encoder cannot see: a
 * sanity augmentation), a random positive rescaling of every hidden neuron (which
 * a ReLU network's function cannot see: the encoder learns to ignore how the scale
 * is split between layers), masking of entries and Gaussian noise on the weights. */
#ifndef DWS_WS_VIEWS_H
#define DWS_WS_VIEWS_H

#include "base/dws_error.h"
#include "mlp/mlp.h"
#include "base/rng.h"

typedef struct {
    float noise;     /* noise std, relative to each tensor's root mean square */
    float mask;      /* probability that an entry is set to zero */
    int permute;     /* 1: permute the hidden neurons */
    float rescale;   /* hidden neuron i: incoming row and bias x s_i, outgoing column / s_i,
                        log s_i ~ U[-rescale, rescale]; 0: off. ReLU-family networks only */
} dws_view_config;

/* noise 0.1, mask 0.1, permute 1, rescale 0. */
dws_view_config dws_view_defaults(void);

/* out (the caller's, with in's shape) = a random view of in, drawn from rng. */
int dws_view_make(const dws_view_config *cfg, const dws_mlp *in, dws_mlp *out, dws_rng *rng, dws_error *err);

#endif
