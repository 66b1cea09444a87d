#include "mlp.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *dws_activation_name(dws_activation a)
{
    switch (a) {
    case DWS_ACT_IDENTITY: return "identity";
    case DWS_ACT_RELU: return "relu";
    case DWS_ACT_LEAKY_RELU: return "leaky_relu";
    case DWS_ACT_TANH: return "tanh";
    case DWS_ACT_SIGMOID: return "sigmoid";
    case DWS_ACT_GELU: return "gelu";
    case DWS_ACT_GELU_TANH: return "gelu_tanh";
    case DWS_ACT_SILU: return "silu";
    }
    return "unknown";
}

int dws_activation_parse(const char *name, dws_activation *out)
{
    for (int k = DWS_ACT_IDENTITY; k <= DWS_ACT_LAST; k++)
        if (!strcmp(name, dws_activation_name((dws_activation)k))) {
            *out = (dws_activation)k;
            return 0;
        }
    return -1;
}

size_t dws_mlp_param_count(int n_layers, const int64_t *widths)
{
    size_t n = 0;
    for (int l = 0; l < n_layers; l++)
        n += (size_t)widths[l + 1] * (size_t)widths[l] + (size_t)widths[l + 1];
    return n;
}

static void set_views(dws_mlp *m)
{
    float *p = m->params;
    for (int l = 0; l < m->n_layers; l++) {
        m->W[l] = p;
        p += m->widths[l + 1] * m->widths[l];
        m->b[l] = p;
        p += m->widths[l + 1];
    }
}

int dws_mlp_init(dws_mlp *m, int n_layers, const int64_t *widths, dws_error *err)
{
    memset(m, 0, sizeof *m);
    if (n_layers < 1 || n_layers > DWS_MAX_LAYERS) {
        dws_error_set(err, DWS_E_TOO_LARGE, "an MLP must have 1 to %d layers, got %d", DWS_MAX_LAYERS, n_layers);
        return -1;
    }
    for (int l = 0; l <= n_layers; l++) {
        if (widths[l] < 1) {
            dws_error_set(err, DWS_E_SHAPE_MISMATCH, "width d_%d is %lld", l, (long long)widths[l]);
            return -1;
        }
    }
    m->n_layers = n_layers;
    memcpy(m->widths, widths, sizeof(int64_t) * (size_t)(n_layers + 1));
    for (int l = 0; l < n_layers; l++) {
        m->act[l] = l + 1 < n_layers ? DWS_ACT_RELU : DWS_ACT_IDENTITY;
        m->leaky_alpha[l] = 0.01f;
    }
    m->n_params = dws_mlp_param_count(n_layers, widths);
    m->params = calloc(m->n_params, sizeof(float));
    if (!m->params) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate %zu parameters", m->n_params);
        return -1;
    }
    set_views(m);
    return 0;
}

int dws_mlp_clone(dws_mlp *dst, const dws_mlp *src, dws_error *err)
{
    if (dws_mlp_init(dst, src->n_layers, src->widths, err) != 0) return -1;
    memcpy(dst->act, src->act, sizeof dst->act);
    memcpy(dst->leaky_alpha, src->leaky_alpha, sizeof dst->leaky_alpha);
    dst->frame = src->frame;
    memcpy(dst->params, src->params, src->n_params * sizeof(float));
    return 0;
}

void dws_mlp_free(dws_mlp *m)
{
    if (!m) return;
    free(m->params);
    memset(m, 0, sizeof *m);
}

int dws_mlp_same_shape(const dws_mlp *a, const dws_mlp *b)
{
    if (a->n_layers != b->n_layers) return 0;
    for (int l = 0; l <= a->n_layers; l++)
        if (a->widths[l] != b->widths[l]) return 0;
    return 1;
}

double dws_mlp_max_abs_diff(const dws_mlp *a, const dws_mlp *b)
{
    double m = 0;   /* a NaN difference is skipped, as fmax would */
    for (size_t i = 0; i < a->n_params && i < b->n_params; i++) {
        double d = fabs((double)a->params[i] - (double)b->params[i]);
        m = d > m ? d : m;
    }
    return m;
}

size_t dws_mlp_scratch_floats(const dws_mlp *m, int n)
{
    int64_t widest = 0;
    for (int l = 1; l < m->n_layers; l++)
        if (m->widths[l] > widest) widest = m->widths[l];
    return 2 * (size_t)n * (size_t)widest;
}

void dws_activation_apply(dws_activation a, float leaky_alpha, float *v, size_t n)
{
    switch (a) {
    case DWS_ACT_IDENTITY: break;
    case DWS_ACT_RELU:
        for (size_t i = 0; i < n; i++) v[i] = v[i] > 0.f ? v[i] : 0.f;
        break;
    case DWS_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) v[i] = v[i] > 0.f ? v[i] : leaky_alpha * v[i];
        break;
    case DWS_ACT_TANH:
        for (size_t i = 0; i < n; i++) v[i] = tanhf(v[i]);
        break;
    case DWS_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) v[i] = 1.f / (1.f + expf(-v[i]));
        break;
    case DWS_ACT_GELU: /* exact (erf) form, as ONNX Gelu and torch.nn.GELU() default */
        for (size_t i = 0; i < n; i++) v[i] = 0.5f * v[i] * (1.f + erff(v[i] * (float)M_SQRT1_2));
        break;
    case DWS_ACT_GELU_TANH: /* 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) */
        for (size_t i = 0; i < n; i++)
            v[i] = 0.5f * v[i] * (1.f + tanhf(0.7978845608028654f * (v[i] + 0.044715f * v[i] * v[i] * v[i])));
        break;
    case DWS_ACT_SILU:
        for (size_t i = 0; i < n; i++) v[i] = v[i] / (1.f + expf(-v[i]));
        break;
    }
}

void dws_activation_backward(dws_activation a, float leaky_alpha, const float *z, const float *act_out, float *d,
                             size_t n)
{
    switch (a) {
    case DWS_ACT_IDENTITY: break;
    case DWS_ACT_RELU:
        for (size_t i = 0; i < n; i++) d[i] = z[i] > 0.f ? d[i] : 0.f;
        break;
    case DWS_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) d[i] = z[i] > 0.f ? d[i] : leaky_alpha * d[i];
        break;
    case DWS_ACT_TANH:
        for (size_t i = 0; i < n; i++) d[i] *= 1.f - act_out[i] * act_out[i];
        break;
    case DWS_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) d[i] *= act_out[i] * (1.f - act_out[i]);
        break;
    case DWS_ACT_GELU: /* d/dz [z Phi(z)] = Phi(z) + z phi(z) */
        for (size_t i = 0; i < n; i++) {
            float cdf = 0.5f * (1.f + erff(z[i] * (float)M_SQRT1_2));
            float pdf = expf(-0.5f * z[i] * z[i]) * 0.3989422804014327f;
            d[i] *= cdf + z[i] * pdf;
        }
        break;
    case DWS_ACT_GELU_TANH:
        for (size_t i = 0; i < n; i++) {
            float u = 0.7978845608028654f * (z[i] + 0.044715f * z[i] * z[i] * z[i]);
            float t = tanhf(u), du = 0.7978845608028654f * (1.f + 3.f * 0.044715f * z[i] * z[i]);
            d[i] *= 0.5f * (1.f + t) + 0.5f * z[i] * (1.f - t * t) * du;
        }
        break;
    case DWS_ACT_SILU:
        for (size_t i = 0; i < n; i++) {
            float sg = 1.f / (1.f + expf(-z[i]));
            d[i] *= sg * (1.f + z[i] * (1.f - sg));
        }
        break;
    }
}

void dws_mlp_forward(const dws_mlp *m, const float *x, int n, float *out, float *scratch)
{
    const float *in = x;
    size_t half = dws_mlp_scratch_floats(m, n) / 2;
    for (int l = 0; l < m->n_layers; l++) {
        int dout = (int)m->widths[l + 1], din = (int)m->widths[l];
        float *y = l + 1 == m->n_layers ? out : scratch + (size_t)(l % 2) * half;
        for (int i = 0; i < n; i++) memcpy(y + (size_t)i * dout, m->b[l], sizeof(float) * (size_t)dout);
        /* y (n x dout) += in (n x din) * W^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, dout, din, 1.f, in, din,
                    m->W[l], din, 1.f, y, dout);
        dws_activation_apply(m->act[l], m->leaky_alpha[l], y, (size_t)n * (size_t)dout);
        in = y;
    }
}
