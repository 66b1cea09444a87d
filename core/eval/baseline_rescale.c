/* The shared rescale of docs/task.md section 5: two numbers for every classifier, learned on the zoo.
 * With r_i = sum_k W_1[i][k]: W_1' = a W_1, b_1' = b_1 + c r, so
 * dL/da = sum dL/dW_1' * W_1 and dL/dc = sum_i dL/db_1'[i] r_i. */
#include <stdlib.h>
#include <string.h>

#include "eval.h"

static int rescale_forward(dws_baseline *a, const dws_mlp *const *in, dws_mlp *const *out, int batch, dws_error *err)
{
    (void)err;
    const float scale = a->params[0], shift = a->params[1];
    for (int b = 0; b < batch; b++) {
        const dws_mlp *m = in[b];
        dws_mlp *o = out[b];
        memcpy(o->params, m->params, m->n_params * sizeof(float));
        int64_t rows = m->widths[1], cols = m->widths[0];
        for (int64_t i = 0; i < rows; i++) {
            const float *w = m->W[0] + i * cols;
            float *wo = o->W[0] + i * cols;
            double rowsum = 0;
            for (int64_t k = 0; k < cols; k++) {
                rowsum += w[k];
                wo[k] = scale * w[k];
            }
            o->b[0][i] = m->b[0][i] + shift * (float)rowsum;
        }
    }
    return 0;
}

static void rescale_backward(dws_baseline *a, const dws_mlp *const *in, const dws_mlp *const *dout, int batch)
{
    double g_scale = 0, g_shift = 0;
    for (int b = 0; b < batch; b++) {
        const dws_mlp *m = in[b], *d = dout[b];
        int64_t rows = m->widths[1], cols = m->widths[0];
        for (int64_t i = 0; i < rows; i++) {
            const float *w = m->W[0] + i * cols, *dw = d->W[0] + i * cols;
            double rowsum = 0, dot = 0;
            for (int64_t k = 0; k < cols; k++) {
                rowsum += w[k];
                dot += (double)dw[k] * w[k];
            }
            g_scale += dot;
            g_shift += d->b[0][i] * rowsum;
        }
    }
    a->grads[0] += (float)g_scale;
    a->grads[1] += (float)g_shift;
}

static void rescale_destroy(dws_baseline *a)
{
    if (!a) return;
    free(a->params);
    free(a);
}

dws_baseline *dws_rescale_create(dws_error *err)
{
    dws_baseline *a = calloc(1, sizeof *a);
    float *buf = calloc(4, sizeof(float));
    if (!a || !buf) {
        free(a);
        free(buf);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate the rescale baseline");
        return NULL;
    }
    a->method = "rescale";
    a->n_params = 2;
    a->params = buf;
    a->grads = buf + 2;
    a->params[0] = 1.0f;
    a->max_batch = 1 << 20;
    a->forward = rescale_forward;
    a->backward = rescale_backward;
    a->destroy = rescale_destroy;
    return a;
}
