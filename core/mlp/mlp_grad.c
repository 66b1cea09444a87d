#include "mlp.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Workspace: pre-activations z_l and outputs a_l of every layer (a_L holds softmax),
 * two gradient buffers of the widest layer, and a row of ones for bias sums. */
size_t dws_mlp_grad_ws_floats(const dws_mlp *m, int n)
{
    size_t total = 0, widest = 0;
    for (int l = 1; l <= m->n_layers; l++) {
        total += 2 * (size_t)n * (size_t)m->widths[l];
        if ((size_t)m->widths[l] > widest) widest = (size_t)m->widths[l];
    }
    return total + 2 * (size_t)n * widest + (size_t)n;
}

int dws_argmax(const float *v, int k)
{
    int best = 0;
    for (int j = 1; j < k; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

/* Forward pass that keeps every layer's z and a for the backward pass. */
static void forward_tape(const dws_mlp *m, const float *x, int n, float **z, float **a)
{
    const float *in = x;
    for (int l = 0; l < m->n_layers; l++) {
        int dout = (int)m->widths[l + 1], din = (int)m->widths[l];
        for (int i = 0; i < n; i++) memcpy(z[l] + (size_t)i * dout, m->b[l], sizeof(float) * (size_t)dout);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, dout, din, 1.f, in, din, m->W[l], din, 1.f, z[l],
                    dout);
        memcpy(a[l], z[l], sizeof(float) * (size_t)n * (size_t)dout);
        dws_activation_apply(m->act[l], m->leaky_alpha[l], a[l], (size_t)n * (size_t)dout);
        in = a[l];
    }
}

/* Per row: loss term from a stable log-sum-exp, then d = (softmax - onehot) / n. */
static double softmax_xent_backward(const float *logits, const uint8_t *labels, int n, int k, float *d,
                                    int *correct)
{
    double total = 0.0;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        const float *row = logits + (size_t)i * k;
        float *drow = d + (size_t)i * k;
        int best = dws_argmax(row, k);
        hits += best == labels[i];
        double sum = 0.0;
        for (int j = 0; j < k; j++) sum += exp((double)row[j] - row[best]);
        total += log(sum) - ((double)row[labels[i]] - row[best]);
        for (int j = 0; j < k; j++) drow[j] = (float)(exp((double)row[j] - row[best]) / sum / n);
        drow[labels[i]] -= 1.f / (float)n;
    }
    if (correct) *correct = hits;
    return total / n;
}

/* The layers' tape in ws (see dws_mlp_grad_ws_floats): z_l, a_l, then two
 * gradient buffers of the widest layer and a row of ones. */
typedef struct {
    float *z[DWS_MAX_LAYERS], *a[DWS_MAX_LAYERS];
    float *delta, *back, *ones;
} grad_tape;

static void tape_place(const dws_mlp *m, int n, float *ws, grad_tape *tp)
{
    float *p = ws;
    size_t widest = 0;
    for (int l = 0; l < m->n_layers; l++) {
        size_t size = (size_t)n * (size_t)m->widths[l + 1];
        tp->z[l] = p;
        tp->a[l] = p + size;
        p += 2 * size;
        if ((size_t)m->widths[l + 1] > widest) widest = (size_t)m->widths[l + 1];
    }
    tp->delta = p;
    tp->back = p + (size_t)n * widest;
    tp->ones = tp->back + (size_t)n * widest;
    for (int i = 0; i < n; i++) tp->ones[i] = 1.f;
}

static int check_batch(const dws_mlp *m, const dws_mlp *grad, int n, dws_error *err)
{
    if (!dws_mlp_same_shape(m, grad)) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "gradient buffer does not have the model's shape");
        return -1;
    }
    if (n < 1) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "empty batch");
        return -1;
    }
    return 0;
}

/* From tp->delta = dLoss/d(output of the last activation): through that activation
 * and every layer, writing grad (unless NULL) and dx (unless NULL). */
static void backward_tape(const dws_mlp *m, const float *x, int n, grad_tape *tp, dws_mlp *grad, float *dx)
{
    int L = m->n_layers;
    float *delta = tp->delta, *back = tp->back;
    dws_activation_backward(m->act[L - 1], m->leaky_alpha[L - 1], tp->z[L - 1], tp->a[L - 1], delta,
                            (size_t)n * (size_t)m->widths[L]);
    for (int l = L - 1; l >= 0; l--) {
        int dout = (int)m->widths[l + 1], din = (int)m->widths[l];
        const float *in = l ? tp->a[l - 1] : x;
        if (grad) {   /* dW = delta^T in; db = delta^T 1 */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dout, din, n, 1.f, delta, dout, in, din, 0.f,
                        grad->W[l], din);
            cblas_sgemv(CblasRowMajor, CblasTrans, n, dout, 1.f, delta, dout, tp->ones, 1, 0.f, grad->b[l], 1);
        }
        if (l == 0 && !dx) break;
        float *din_grad = l ? back : dx;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, din, dout, 1.f, delta, dout, m->W[l], din, 0.f,
                    din_grad, din);
        if (l == 0) break;
        dws_activation_backward(m->act[l - 1], m->leaky_alpha[l - 1], tp->z[l - 1], tp->a[l - 1], back,
                                (size_t)n * (size_t)din);
        float *t = delta;
        delta = back;
        back = t;
    }
}

int dws_mlp_xent_grad(const dws_mlp *m, const float *x, const uint8_t *labels, int n, dws_mlp *grad, float *dx,
                      float *ws, float *loss, int *correct, dws_error *err)
{
    int L = m->n_layers, k = (int)m->widths[L];
    if (check_batch(m, grad, n, err) != 0) return -1;
    for (int i = 0; i < n; i++)
        if (labels[i] >= k) {
            dws_error_set(err, DWS_E_BAD_DATA, "label %u of row %d is not below the %d classes", labels[i], i, k);
            return -1;
        }
    grad_tape tp;
    tape_place(m, n, ws, &tp);
    forward_tape(m, x, n, tp.z, tp.a);
    *loss = (float)softmax_xent_backward(tp.a[L - 1], labels, n, k, tp.delta, correct);
    backward_tape(m, x, n, &tp, grad, dx);
    return 0;
}

int dws_mlp_mse_grad(const dws_mlp *m, const float *x, const float *y, int n, dws_mlp *grad, float *dx, float *ws,
                     float *loss, dws_error *err)
{
    int L = m->n_layers;
    if (check_batch(m, grad, n, err) != 0) return -1;
    grad_tape tp;
    tape_place(m, n, ws, &tp);
    forward_tape(m, x, n, tp.z, tp.a);
    size_t count = (size_t)n * (size_t)m->widths[L];
    double total = 0.0;
    for (size_t j = 0; j < count; j++) {
        double r = (double)tp.a[L - 1][j] - y[j];
        total += r * r;
        tp.delta[j] = (float)(2.0 * r / (double)count);
    }
    *loss = (float)(total / (double)count);
    backward_tape(m, x, n, &tp, grad, dx);
    return 0;
}

void dws_mlp_vjp(const dws_mlp *m, const float *x, int n, const float *d_out, dws_mlp *grad, float *dx, float *ws)
{
    grad_tape tp;
    tape_place(m, n, ws, &tp);
    forward_tape(m, x, n, tp.z, tp.a);
    memcpy(tp.delta, d_out, sizeof(float) * (size_t)n * (size_t)m->widths[m->n_layers]);
    backward_tape(m, x, n, &tp, grad, dx);
}
