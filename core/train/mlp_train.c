#include "train.h"

#include <math.h>
#include <stdlib.h>

#include "mlp/mlp.h"

void dws_mlp_init_default(dws_mlp *m, dws_rng *rng)
{
    for (int l = 0; l < m->n_layers; l++) {
        size_t rows = (size_t)m->widths[l + 1], cols = (size_t)m->widths[l];
        double bound = 1.0 / sqrt((double)cols);
        for (size_t i = 0; i < rows * cols; i++) m->W[l][i] = (float)((2.0 * dws_rng_uniform(rng) - 1.0) * bound);
        for (size_t i = 0; i < rows; i++) m->b[l][i] = (float)((2.0 * dws_rng_uniform(rng) - 1.0) * bound);
    }
}

static int check_data(const dws_mlp *m, const dws_samples *data, dws_error *err)
{
    if (data->dim != (size_t)m->widths[0]) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "data rows have %zu values, the model takes %lld", data->dim,
                      (long long)m->widths[0]);
        return -1;
    }
    if (data->n == 0 || data->n > UINT32_MAX) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "cannot train on %zu rows", data->n);
        return -1;
    }
    return 0;
}

int dws_mlp_train(dws_mlp *m, const dws_samples *data, const dws_train_config *cfg, dws_train_progress *res,
                  dws_error *err)
{
    if (check_data(m, data, err)) return -1;
    if (cfg->batch_size < 1 || cfg->epochs < 0) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "batch size %d / epochs %d", cfg->batch_size, cfg->epochs);
        return -1;
    }
    int bs = cfg->batch_size;
    dws_mlp grad;
    dws_optim opt;
    if (dws_mlp_clone(&grad, m, err)) return -1;
    if (dws_optim_init(&opt, &cfg->optim, m->n_params, err)) {
        dws_mlp_free(&grad);
        return -1;
    }
    float *ws = malloc(dws_mlp_grad_ws_floats(m, bs) * sizeof(float));
    float *xb = malloc((size_t)bs * data->dim * sizeof(float));
    uint8_t *yb = malloc((size_t)bs);
    uint32_t *order = malloc(data->n * sizeof(uint32_t));
    int rc = -1;
    if (!ws || !xb || !yb || !order) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate training buffers");
        goto done;
    }
    dws_rng rng;
    dws_rng_seed(&rng, cfg->seed);
    const int64_t per_epoch = (int64_t)((data->n + (size_t)bs - 1) / (size_t)bs);
    const dws_lr_schedule lr = {.kind = DWS_LR_CONSTANT, .lr = cfg->optim.lr};
    dws_train_progress r = {.steps = per_epoch * cfg->epochs, .batch = bs};
    double t0 = dws_train_seconds();
    for (int e = 0; e < cfg->epochs; e++) {
        for (uint32_t i = 0; i < data->n; i++) order[i] = i;
        dws_rng_shuffle_u32(&rng, order, (uint32_t)data->n);
        double loss_sum = 0.0;
        size_t hits = 0;
        for (size_t start = 0; start < data->n; start += (size_t)bs) {
            int n = data->n - start < (size_t)bs ? (int)(data->n - start) : bs;
            dws_samples_gather(data, order + start, 0, (size_t)n, xb, yb);
            float loss;
            int correct;
            if (dws_mlp_xent_grad(m, xb, yb, n, &grad, NULL, ws, &loss, &correct, err)) goto done;
            opt.cfg.lr = (float)(r.lr = dws_lr_at(&lr, r.step));
            dws_optim_step(&opt, m->params, grad.params, NULL);
            loss_sum += (double)loss * n;
            hits += (size_t)correct;
            r.step++;
        }
        r.loss = loss_sum / (double)data->n;
        r.acc = (double)hits / (double)data->n;
        dws_train_progress_time(&r, t0, 0);
        int stop = cfg->progress ? cfg->progress(cfg->ctx, &r, err) : 0;
        if (stop < 0) goto done;
        if (stop > 0) break;
    }
    if (res) *res = r;
    rc = 0;
done:
    free(ws);
    free(xb);
    free(yb);
    free(order);
    dws_optim_free(&opt);
    dws_mlp_free(&grad);
    return rc;
}

int dws_mlp_accuracy(const dws_mlp *m, const dws_samples *data, double *acc, dws_error *err)
{
    if (check_data(m, data, err)) return -1;
    enum { CHUNK = 500 };
    int k = (int)m->widths[m->n_layers];
    float *xb = malloc(CHUNK * data->dim * sizeof(float));
    float *out = malloc((size_t)CHUNK * (size_t)k * sizeof(float));
    float *scratch = malloc((dws_mlp_scratch_floats(m, CHUNK) + 1) * sizeof(float));
    uint8_t yb[CHUNK];
    if (!xb || !out || !scratch) {
        free(xb);
        free(out);
        free(scratch);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate evaluation buffers");
        return -1;
    }
    size_t hits = 0;
    for (size_t start = 0; start < data->n; start += CHUNK) {
        int n = data->n - start < CHUNK ? (int)(data->n - start) : CHUNK;
        dws_samples_gather(data, NULL, start, (size_t)n, xb, yb);
        dws_mlp_forward(m, xb, n, out, scratch);
        for (int i = 0; i < n; i++) hits += dws_argmax(out + (size_t)i * k, k) == yb[i];
    }
    *acc = (double)hits / (double)data->n;
    free(xb);
    free(out);
    free(scratch);
    return 0;
}
