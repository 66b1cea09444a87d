#include "ws_views.h"

#include <math.h>
#include <string.h>

#include "ws_tensor.h"

dws_view_config dws_view_defaults(void)
{
    return (dws_view_config){.noise = 0.1f, .mask = 0.1f, .permute = 1};
}

/* Noise scaled per tensor: the layers of a classifier differ in scale by orders
 * of magnitude (W_1 of a 3072-input layer against the biases). */
static void perturb(const dws_view_config *cfg, float *v, size_t n, dws_rng *rng)
{
    double ss = 0;
    for (size_t j = 0; j < n; j++) ss += (double)v[j] * v[j];
    double sigma = cfg->noise * sqrt(ss / (double)n);
    for (size_t j = 0; j < n; j++) {
        float x = v[j];
        if (cfg->mask > 0.f && dws_rng_uniform(rng) < cfg->mask) x = 0.f;
        if (sigma > 0) x += (float)(sigma * dws_rng_normal(rng));
        v[j] = x;
    }
}

int dws_view_make(const dws_view_config *cfg, const dws_mlp *in, dws_mlp *out, dws_rng *rng, dws_error *err)
{
    if (!dws_mlp_same_shape(in, out)) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "a view needs an output of the network's shape");
        return -1;
    }
    if (!(cfg->noise >= 0.f && cfg->noise <= 10.f) || !(cfg->mask >= 0.f && cfg->mask < 1.f)) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "view noise must be in [0, 10] and mask in [0, 1)");
        return -1;
    }
    if (cfg->permute) {
        dws_perm g;
        if (dws_perm_random(&g, in->n_layers, in->widths, rng, err) != 0) return -1;
        dws_perm_apply_mlp(&g, in, out);
        dws_perm_free(&g);
    } else {
        memcpy(out->params, in->params, sizeof(float) * in->n_params);
    }
    for (int l = 0; l < out->n_layers; l++) {
        perturb(cfg, out->W[l], (size_t)out->widths[l + 1] * (size_t)out->widths[l], rng);
        perturb(cfg, out->b[l], (size_t)out->widths[l + 1], rng);
    }
    return 0;
}
