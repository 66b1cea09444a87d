#include "helper_dws.h"

#include <math.h>
#include <stdlib.h>

void th_fill_normal(float *v, size_t n, float std, dws_rng *rng)
{
    for (size_t i = 0; i < n; i++) v[i] = std * (float)dws_rng_normal(rng);
}

void th_random_ws(dws_ws *t, int n_layers, const int64_t *widths, int batch, dws_rng *rng)
{
    dws_ws_init(t, n_layers, widths, batch, 1, NULL);
    for (int b = 0; b < batch; b++)
        for (int l = 0; l < n_layers; l++) {
            float bound = 1.f / sqrtf((float)widths[l]);
            float *W = dws_ws_W(t, l, b), *bias = dws_ws_b(t, l, b);
            for (int64_t j = 0; j < widths[l + 1] * widths[l]; j++) W[j] = bound * (2.f * (float)dws_rng_uniform(rng) - 1.f);
            for (int64_t j = 0; j < widths[l + 1]; j++) bias[j] = bound * (2.f * (float)dws_rng_uniform(rng) - 1.f);
        }
}

void th_randomise_net(dws_net *net, dws_rng *rng)
{
    for (int i = 0; i < net->table.n; i++) {
        const dws_param_tensor *t = &net->table.t[i];
        /* Keep the existing scale where there is one; give zero-initialised tensors
         * (convolution, biases, alpha) a modest random value. */
        double ss = 0;
        for (size_t j = 0; j < t->count; j++) ss += (double)net->params[t->offset + j] * net->params[t->offset + j];
        float std = ss > 0 ? (float)sqrt(ss / (double)t->count) : 0.3f;
        th_fill_normal(net->params + t->offset, t->count, std, rng);
    }
    for (int k = 0; k < 2 * net->arch.depth; k++) {
        net->norm_mean[k] = 0.01f * (float)dws_rng_normal(rng);
        net->norm_std[k] = 0.02f + 0.05f * (float)dws_rng_uniform(rng);
    }
}

double th_dot(const float *x, const float *y, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * y[i];
    return s;
}

double th_rel_err(const float *a, const float *b, size_t n)
{
    double diff = 0, scale = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > diff || isnan(d)) diff = isnan(d) ? INFINITY : d;
        if (fabs((double)b[i]) > scale) scale = fabs((double)b[i]);
    }
    return diff / scale;
}

void th_random_widths(int64_t *widths, int n_layers, int64_t d0, int64_t dL, int64_t lo, int64_t hi, dws_rng *rng)
{
    widths[0] = d0;
    widths[n_layers] = dL;
    for (int n = 1; n < n_layers; n++) widths[n] = lo + (int64_t)dws_rng_below(rng, (uint64_t)(hi - lo + 1));
}
