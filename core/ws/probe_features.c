#include "ws.h"

#include <string.h>

#include "mlp/mlp.h"

/* Network b of a one-channel tensor as an MLP whose weights point into it. */
static void mlp_view(const dws_ws *in, int b, dws_mlp *m)
{
    memset(m, 0, sizeof *m);
    m->n_layers = in->n_layers;
    memcpy(m->widths, in->widths, sizeof m->widths);
    memcpy(m->act, in->act, sizeof m->act);
    memcpy(m->leaky_alpha, in->leaky_alpha, sizeof m->leaky_alpha);
    m->n_params = dws_mlp_param_count(in->n_layers, in->widths);
    for (int l = 0; l < in->n_layers; l++) {
        m->W[l] = dws_ws_W(in, l, b);
        m->b[l] = dws_ws_b(in, l, b);
    }
}

size_t dws_probe_ws_floats_for(int n_layers, const int64_t *widths, int K)
{
    dws_mlp m;   /* the sizes read only the shape */
    memset(&m, 0, sizeof m);
    m.n_layers = n_layers;
    memcpy(m.widths, widths, sizeof(int64_t) * (size_t)(n_layers + 1));
    m.n_params = dws_mlp_param_count(n_layers, widths);
    size_t fwd = dws_mlp_scratch_floats(&m, K), bwd = dws_mlp_grad_ws_floats(&m, K);
    return (fwd > bwd ? fwd : bwd) + (size_t)K * (size_t)widths[n_layers] + (size_t)K * (size_t)widths[0];
}

size_t dws_probe_ws_floats(const dws_ws *in, int K)
{
    return dws_probe_ws_floats_for(in->n_layers, in->widths, K);
}

/* v (K rows of d) = scale (v - row mean) when d > 1, else scale v; it is its own
 * adjoint, so backward applies it to the incoming gradient as well. */
static void centre_scale(float *v, int K, int d, float scale)
{
    for (int k = 0; k < K; k++) {
        float *row = v + (size_t)k * d, mean = 0.f;
        if (d > 1) {
            for (int j = 0; j < d; j++) mean += row[j];
            mean /= (float)d;
        }
        for (int j = 0; j < d; j++) row[j] = scale * (row[j] - mean);
    }
}

void dws_probe_outputs(const dws_mlp *m, const float *probes, int K, float scale, float *out, float *scratch)
{
    dws_mlp_forward(m, probes, K, out, scratch);
    centre_scale(out, K, (int)m->widths[m->n_layers], scale);
}

void dws_probe_forward(const dws_ws *in, const float *probes, int K, float scale, float *feats, float *ws)
{
    const int dL = (int)in->widths[in->n_layers];
    for (int b = 0; b < in->batch; b++) {
        dws_mlp m;
        mlp_view(in, b, &m);
        dws_probe_outputs(&m, probes, K, scale, feats + (size_t)b * K * dL, ws);
    }
}

int dws_probe_backward(const dws_ws *in, const float *probes, int K, float scale, const float *d_feats,
                       float *d_probes, dws_ws *d_in, float *ws, dws_error *err)
{
    const int dL = (int)in->widths[in->n_layers];
    const size_t d0 = (size_t)in->widths[0];
    dws_mlp grad = {0};
    if (d_in && dws_mlp_init(&grad, in->n_layers, in->widths, err) != 0) return -1;
    float *d_out = ws, *dx = d_out + (size_t)K * dL, *tape = dx + (size_t)K * d0;
    for (int b = 0; b < in->batch; b++) {
        dws_mlp m;
        mlp_view(in, b, &m);
        memcpy(d_out, d_feats + (size_t)b * K * dL, sizeof(float) * (size_t)K * dL);
        centre_scale(d_out, K, dL, scale);
        dws_mlp_vjp(&m, probes, K, d_out, d_in ? &grad : NULL, dx, tape);
        for (size_t j = 0; j < (size_t)K * d0; j++) d_probes[j] += dx[j];
        for (int l = 0; d_in && l < in->n_layers; l++) {
            size_t rows = (size_t)in->widths[l + 1], cols = (size_t)in->widths[l];
            float *dw = dws_ws_W(d_in, l, b), *db = dws_ws_b(d_in, l, b);
            for (size_t j = 0; j < rows * cols; j++) dw[j] += grad.W[l][j];
            for (size_t j = 0; j < rows; j++) db[j] += grad.b[l][j];
        }
    }
    dws_mlp_free(&grad);
    return 0;
}
