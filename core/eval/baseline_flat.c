#include "eval.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "ws/ws.h"

typedef struct {
    int n_layers;
    int64_t max_widths[DWS_MAX_LAYERS + 1];
    size_t P;                                  /* padded weight-vector length */
    int H;
    float scale[2 * DWS_MAX_LAYERS];           /* W_1, b_1, W_2, ... */
    size_t tensor_off[2 * DWS_MAX_LAYERS + 1]; /* where each tensor starts in the padded vector */
    /* views into params / grads */
    size_t W_in, b_in, W_hid, b_hid, W_out, b_out;
    /* activations of the last forward, max_batch rows each */
    float *X, *H1, *H2, *G, *dH;
} flat_state;

/* v[j] *= (scale of j's tensor) or /= it: the normalisation and its inverse. */
static void scale_by_tensor(const flat_state *s, float *v, int divide)
{
    for (int t = 0; t < 2 * s->n_layers; t++) {
        float f = divide ? 1.0f / s->scale[t] : s->scale[t];
        for (size_t j = s->tensor_off[t]; j < s->tensor_off[t + 1]; j++) v[j] *= f;
    }
}

/* Y (n x k) = act(X W^T + b) with W k x m row-major, X n x m. */
static void dense_relu(const float *X, int n, int m, const float *W, const float *b, int k, float *Y)
{
    for (int i = 0; i < n; i++) memcpy(Y + (size_t)i * k, b, (size_t)k * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, k, m, 1.0f, X, m, W, m, 1.0f, Y, k);
    for (size_t j = 0; j < (size_t)n * k; j++) Y[j] = Y[j] > 0 ? Y[j] : 0;
}

static void add_column_sums(const float *D, int n, size_t k, float *g)
{
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++) g[j] += D[(size_t)i * k + j];
}

static int flat_forward(dws_baseline *a, const dws_mlp *const *in, dws_mlp *const *out, int batch, dws_error *err)
{
    flat_state *s = a->state;
    const size_t P = s->P;
    const int H = s->H;
    for (int b = 0; b < batch; b++) {
        if (!dws_pad_fits(in[b], s->n_layers, s->max_widths)) {
            dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "the flat-MLP adapter takes %d-layer classifiers %lld-...-%lld "
                          "with hidden widths up to its padding", s->n_layers, (long long)s->max_widths[0],
                          (long long)s->max_widths[s->n_layers]);
            return -1;
        }
        dws_pad_mlp(in[b], s->max_widths, s->X + (size_t)b * P);
        scale_by_tensor(s, s->X + (size_t)b * P, 1);
    }
    const float *p = a->params;
    dense_relu(s->X, batch, (int)P, p + s->W_in, p + s->b_in, H, s->H1);
    dense_relu(s->H1, batch, H, p + s->W_hid, p + s->b_hid, H, s->H2);
    /* G = D, the residual in normalised units. */
    for (int b = 0; b < batch; b++) memcpy(s->G + (size_t)b * P, p + s->b_out, P * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, (int)P, H, 1.0f, s->H2, H, p + s->W_out, (int)P, 1.0f,
                s->G, (int)P);
    /* out = in + s * D: exactly the input while D is zero. */
    for (int b = 0; b < batch; b++) {
        float *d = s->G + (size_t)b * P;
        scale_by_tensor(s, d, 0);
        dws_unpad_mlp(d, s->max_widths, out[b]);
        for (size_t j = 0; j < in[b]->n_params; j++) out[b]->params[j] += in[b]->params[j];
    }
    return 0;
}

static void relu_backward(float *d, const float *y, size_t n)
{
    for (size_t j = 0; j < n; j++)
        if (y[j] <= 0) d[j] = 0;
}

static void flat_backward(dws_baseline *a, const dws_mlp *const *in, const dws_mlp *const *dout, int batch)
{
    (void)in;
    flat_state *s = a->state;
    const size_t P = s->P;
    const int H = s->H;
    const float *p = a->params;
    float *g = a->grads;
    /* dL/dD = s * pad(dL/d out): padded entries get no gradient (the mask). */
    for (int b = 0; b < batch; b++) {
        dws_pad_mlp(dout[b], s->max_widths, s->G + (size_t)b * P);
        scale_by_tensor(s, s->G + (size_t)b * P, 0);
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, (int)P, batch, 1.0f, s->H2, H, s->G, (int)P, 1.0f,
                g + s->W_out, (int)P);
    add_column_sums(s->G, batch, P, g + s->b_out);
    float *dH2 = s->dH, *dH1 = s->dH + (size_t)batch * H;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, H, (int)P, 1.0f, s->G, (int)P, p + s->W_out, (int)P,
                0.0f, dH2, H);
    relu_backward(dH2, s->H2, (size_t)batch * H);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, H, batch, 1.0f, dH2, H, s->H1, H, 1.0f, g + s->W_hid, H);
    add_column_sums(dH2, batch, (size_t)H, g + s->b_hid);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, H, H, 1.0f, dH2, H, p + s->W_hid, H, 0.0f, dH1, H);
    relu_backward(dH1, s->H1, (size_t)batch * H);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, (int)P, batch, 1.0f, dH1, H, s->X, (int)P, 1.0f,
                g + s->W_in, (int)P);
    add_column_sums(dH1, batch, (size_t)H, g + s->b_in);
}

static void flat_destroy(dws_baseline *a)
{
    if (!a) return;
    flat_state *s = a->state;
    if (s) {
        free(s->X);
        free(s->H1);
        free(s->H2);
        free(s->G);
        free(s->dH);
        free(s);
    }
    free(a->params);
    free(a->grads);
    free(a);
}

static void uniform_fill(float *v, size_t n, float bound, dws_rng *rng)
{
    for (size_t j = 0; j < n; j++) v[j] = (float)((2 * dws_rng_uniform(rng) - 1) * bound);
}

dws_baseline *dws_flat_create(int n_layers, const int64_t *max_widths, int hidden, int max_batch, uint64_t seed,
                              dws_error *err)
{
    if (n_layers < 1 || n_layers > DWS_MAX_LAYERS || hidden < 1 || hidden > 4096 || max_batch < 1 ||
        max_batch > 4096) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "flat-MLP adapter: bad depth, hidden width or batch");
        return NULL;
    }
    for (int l = 0; l <= n_layers; l++)
        if (max_widths[l] < 1 || max_widths[l] > (1 << 16)) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "flat-MLP adapter: widths must be 1..65536");
            return NULL;
        }
    dws_baseline *a = calloc(1, sizeof *a);
    flat_state *s = calloc(1, sizeof *s);
    if (!a || !s) {
        free(a);
        free(s);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate the flat-MLP adapter");
        return NULL;
    }
    a->state = s;
    a->method = "flat-mlp";
    a->max_batch = max_batch;
    a->forward = flat_forward;
    a->backward = flat_backward;
    a->destroy = flat_destroy;
    s->n_layers = n_layers;
    memcpy(s->max_widths, max_widths, sizeof(int64_t) * (size_t)(n_layers + 1));
    s->P = dws_mlp_param_count(n_layers, max_widths);
    s->H = hidden;
    for (int l = 0, t = 0; l < n_layers; l++) {
        s->tensor_off[t + 1] = s->tensor_off[t] + (size_t)(max_widths[l + 1] * max_widths[l]);
        s->tensor_off[t + 2] = s->tensor_off[t + 1] + (size_t)max_widths[l + 1];
        s->scale[t] = s->scale[t + 1] = 1.0f;
        t += 2;
    }
    const size_t P = s->P, Hs = (size_t)hidden, B = (size_t)max_batch;
    s->W_in = 0;
    s->b_in = Hs * P;
    s->W_hid = s->b_in + Hs;
    s->b_hid = s->W_hid + Hs * Hs;
    s->W_out = s->b_hid + Hs;
    s->b_out = s->W_out + Hs * P;
    a->n_params = s->b_out + P;
    a->params = calloc(a->n_params, sizeof(float));
    a->grads = calloc(a->n_params, sizeof(float));
    s->X = malloc(B * P * sizeof(float));
    s->G = malloc(B * P * sizeof(float));
    s->H1 = malloc(B * Hs * sizeof(float));
    s->H2 = malloc(B * Hs * sizeof(float));
    s->dH = malloc(2 * B * Hs * sizeof(float));
    if (!a->params || !a->grads || !s->X || !s->G || !s->H1 || !s->H2 || !s->dH) {
        flat_destroy(a);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate the flat-MLP adapter (%zu parameters)",
                      2 * Hs * P + P);
        return NULL;
    }
    dws_rng rng;
    dws_rng_seed(&rng, seed);
    float bound_in = 1.0f / sqrtf((float)P), bound_hid = 1.0f / sqrtf((float)hidden);
    uniform_fill(a->params + s->W_in, Hs * P, bound_in, &rng);
    uniform_fill(a->params + s->b_in, Hs, bound_in, &rng);
    uniform_fill(a->params + s->W_hid, Hs * Hs, bound_hid, &rng);
    uniform_fill(a->params + s->b_hid, Hs, bound_hid, &rng);
    /* W_out and b_out stay zero: the adapter starts as the identity. */
    return a;
}

void dws_flat_fit_scales(dws_baseline *a, const dws_mlp *const *mlps, int n)
{
    flat_state *s = a->state;
    for (int l = 0; l < s->n_layers; l++) {
        double sq[2] = {0, 0};
        size_t count[2] = {0, 0};
        for (int i = 0; i < n; i++) {
            const dws_mlp *m = mlps[i];
            size_t nw = (size_t)(m->widths[l + 1] * m->widths[l]), nb = (size_t)m->widths[l + 1];
            for (size_t j = 0; j < nw; j++) sq[0] += (double)m->W[l][j] * m->W[l][j];
            for (size_t j = 0; j < nb; j++) sq[1] += (double)m->b[l][j] * m->b[l][j];
            count[0] += nw;
            count[1] += nb;
        }
        for (int k = 0; k < 2; k++) {
            double rms = count[k] ? sqrt(sq[k] / (double)count[k]) : 0;
            s->scale[2 * l + k] = rms > 1e-12 ? (float)rms : 1.0f;
        }
    }
}

const float *dws_flat_scales(const dws_baseline *a, int *n)
{
    const flat_state *s = a->state;
    *n = 2 * s->n_layers;
    return s->scale;
}

void dws_flat_shape(const dws_baseline *a, int *n_layers, int64_t *max_widths, int *hidden)
{
    const flat_state *s = a->state;
    *n_layers = s->n_layers;
    memcpy(max_widths, s->max_widths, sizeof(int64_t) * (size_t)(s->n_layers + 1));
    *hidden = s->H;
}

void dws_flat_set_scales(dws_baseline *a, const float *scales)
{
    flat_state *s = a->state;
    memcpy(s->scale, scales, sizeof(float) * (size_t)(2 * s->n_layers));
}
