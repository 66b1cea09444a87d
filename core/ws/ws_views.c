#include "ws.h"

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

/* relu(s z) = s relu(z) for s > 0: scaling a hidden neuron's incoming weights and
 * bias by s and its outgoing weights by 1/s leaves the function unchanged. */
static int rescale_hidden(float range, dws_mlp *m, dws_rng *rng, dws_error *err)
{
    for (int l = 0; l + 1 < m->n_layers; l++)
        if (m->act[l] != DWS_ACT_RELU && m->act[l] != DWS_ACT_LEAKY_RELU) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "rescaling views need ReLU hidden activations, not %s",
                          dws_activation_name(m->act[l]));
            return -1;
        }
    for (int l = 0; l + 1 < m->n_layers; l++) {
        int64_t rows = m->widths[l + 1], cols = m->widths[l], next = m->widths[l + 2];
        for (int64_t i = 0; i < rows; i++) {
            float s = expf(range * (float)(2.0 * dws_rng_uniform(rng) - 1.0));
            for (int64_t j = 0; j < cols; j++) m->W[l][i * cols + j] *= s;
            m->b[l][i] *= s;
            for (int64_t k = 0; k < next; k++) m->W[l + 1][k * rows + i] /= s;
        }
    }
    return 0;
}

int dws_view_make(const dws_view_config *cfg, const dws_mlp *in, dws_mlp *out, dws_rng *rng, dws_error *err)
{
    if (!dws_mlp_same_shape(in, out)) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "a view needs an output of the network's shape");
        return -1;
    }
    if (!(cfg->noise >= 0.f && cfg->noise <= 10.f) || !(cfg->mask >= 0.f && cfg->mask < 1.f) ||
        !(cfg->rescale >= 0.f && cfg->rescale <= 5.f)) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "view noise must be in [0, 10], mask in [0, 1), rescale in [0, 5]");
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
    if (cfg->rescale > 0.f && rescale_hidden(cfg->rescale, out, rng, err) != 0) return -1;
    for (int l = 0; l < out->n_layers; l++) {
        perturb(cfg, out->W[l], (size_t)out->widths[l + 1] * (size_t)out->widths[l], rng);
        perturb(cfg, out->b[l], (size_t)out->widths[l + 1], rng);
    }
    return 0;
}
