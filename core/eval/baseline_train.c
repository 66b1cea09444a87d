#include "eval.h"

#include <stdlib.h>
#include <string.h>

#include "mlp/mlp.h"
#include "train/train.h"
#include "base/base.h"
#include "ws/ws.h"

int dws_baseline_mean_accuracy(dws_baseline *a, const dws_mlp *const *mlps, int n, const dws_samples *data,
                               double *acc, dws_error *err)
{
    double total = 0;
    for (int i = 0; i < n; i++) {
        dws_mlp adapted = {0};
        double one;
        if (dws_baseline_adapt_one(a, mlps[i], &adapted, err)) return -1;
        int rc = dws_mlp_accuracy(&adapted, data, &one, err);
        dws_mlp_free(&adapted);
        if (rc) return -1;
        total += one;
    }
    *acc = n ? total / n : 0;
    return 0;
}

/* The per-step classifiers: the drawn ones (or permuted copies), their adapted
 * versions and the gradients with respect to those. */
typedef struct {
    int batch;
    const dws_mlp **in;
    dws_mlp *permuted, *out, *dout;
    dws_mlp **out_ptr, **dout_ptr;
} step_set;

static void step_set_release(step_set *s)
{
    for (int b = 0; b < s->batch; b++) {
        dws_mlp_free(&s->permuted[b]);
        dws_mlp_free(&s->out[b]);
        dws_mlp_free(&s->dout[b]);
    }
}

static int step_set_draw(step_set *s, const dws_mlp *const *train, int n_train, int permute, dws_rng *rng,
                         dws_error *err)
{
    for (int b = 0; b < s->batch; b++) {
        const dws_mlp *m = train[dws_rng_below(rng, (uint64_t)n_train)];
        if (permute) {
            dws_perm g;
            if (dws_perm_random(&g, m->n_layers, m->widths, rng, err)) return -1;
            int rc = dws_mlp_clone(&s->permuted[b], m, err);
            if (rc == 0) dws_perm_apply_mlp(&g, m, &s->permuted[b]);
            dws_perm_free(&g);
            if (rc) return -1;
            m = &s->permuted[b];
        }
        s->in[b] = m;
        if (dws_mlp_clone(&s->out[b], m, err) || dws_mlp_clone(&s->dout[b], m, err)) return -1;
        s->out_ptr[b] = &s->out[b];
        s->dout_ptr[b] = &s->dout[b];
    }
    return 0;
}

/* One step's loss, accuracy and gradient (into a->grads, zeroed first). */
static int train_step(dws_baseline *a, step_set *s, const float *x, const uint8_t *y, int n_images, float **ws,
                      size_t *ws_cap, double *loss, double *acc, dws_error *err)
{
    if (a->forward(a, s->in, s->out_ptr, s->batch, err)) return -1;
    *loss = *acc = 0;
    for (int b = 0; b < s->batch; b++) {
        size_t need = dws_mlp_grad_ws_floats(&s->out[b], n_images);
        if (need > *ws_cap) {
            float *grown = realloc(*ws, need * sizeof(float));
            if (!grown) {
                dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate the classifier gradient workspace");
                return -1;
            }
            *ws = grown;
            *ws_cap = need;
        }
        float l;
        int correct;
        if (dws_mlp_xent_grad(&s->out[b], x, y, n_images, &s->dout[b], NULL, *ws, &l, &correct, err)) return -1;
        *loss += l / s->batch;
        *acc += (double)correct / n_images / s->batch;
        for (size_t j = 0; j < s->dout[b].n_params; j++) s->dout[b].params[j] /= (float)s->batch;
    }
    memset(a->grads, 0, a->n_params * sizeof(float));
    a->backward(a, s->in, (const dws_mlp *const *)s->dout_ptr, s->batch);
    return 0;
}

int dws_baseline_train(dws_baseline *a, const dws_mlp *const *train, int n_train, const dws_mlp *const *val, int n_val,
                       const dws_samples *fit, const dws_samples *val_images, const dws_baseline_train_config *cfg,
                       dws_baseline_train_result *res, dws_error *err)
{
    memset(res, 0, sizeof *res);
    const int B = cfg->classifiers_per_step, M = cfg->images_per_step;
    if (n_train < 1 || n_val < 1 || cfg->steps < 0 || B < 1 || B > a->max_batch || M < 1 || fit->n < 1 ||
        cfg->val_every < 1 || cfg->val_images < 1) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "baseline training needs training and validation classifiers, "
                      "images, and positive step settings (classifiers per step <= %d)", a->max_batch);
        return -1;
    }
    dws_samples val_view = *val_images;
    if (val_view.n > (size_t)cfg->val_images) val_view.n = (size_t)cfg->val_images;

    dws_optim opt = {0};
    dws_optim_config oc = dws_optim_defaults(DWS_OPT_ADAM, cfg->lr);
    const dws_lr_schedule lr = {.kind = DWS_LR_CONSTANT, .lr = cfg->lr};
    float *best = malloc(a->n_params * sizeof(float)), *x = malloc((size_t)M * fit->dim * sizeof(float)), *ws = NULL;
    uint8_t *y = malloc((size_t)M);
    uint32_t *rows = malloc((size_t)M * sizeof(uint32_t));
    step_set s = {.batch = B};
    s.in = calloc((size_t)B, sizeof *s.in);
    s.permuted = calloc((size_t)B, sizeof *s.permuted);
    s.out = calloc((size_t)B, sizeof *s.out);
    s.dout = calloc((size_t)B, sizeof *s.dout);
    s.out_ptr = calloc((size_t)B, sizeof *s.out_ptr);
    s.dout_ptr = calloc((size_t)B, sizeof *s.dout_ptr);
    size_t ws_cap = 0;
    int rc = -1;
    if (!best || !x || !y || !rows || !s.in || !s.permuted || !s.out || !s.dout || !s.out_ptr || !s.dout_ptr) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate baseline training buffers");
        goto done;
    }
    if (dws_optim_init(&opt, &oc, a->n_params, err)) goto done;

    dws_rng rng;
    dws_rng_seed(&rng, cfg->seed);
    double t0 = dws_train_seconds(), loss_sum = 0, acc_sum = 0;
    int loss_count = 0;
    memcpy(best, a->params, a->n_params * sizeof(float));
    if (dws_baseline_mean_accuracy(a, val, n_val, &val_view, &res->identity_val_acc, err)) goto done;
    res->best_val_acc = res->identity_val_acc;
    dws_train_progress p = {.steps = cfg->steps, .batch = B, .val_before = res->identity_val_acc};
    for (int step = 1; step <= cfg->steps; step++) {
        for (int i = 0; i < M; i++) rows[i] = (uint32_t)dws_rng_below(&rng, fit->n);
        dws_samples_gather(fit, rows, 0, (size_t)M, x, y);
        double loss = 0, acc = 0;
        int step_rc = step_set_draw(&s, train, n_train, cfg->permute, &rng, err);
        if (step_rc == 0) step_rc = train_step(a, &s, x, y, M, &ws, &ws_cap, &loss, &acc, err);
        step_set_release(&s);
        if (step_rc) goto done;
        opt.cfg.lr = (float)(p.lr = dws_lr_at(&lr, step - 1));
        dws_optim_step(&opt, a->params, a->grads, NULL);
        res->classifier_batches += B;
        res->images_seen += (int64_t)B * M;
        loss_sum += loss;
        acc_sum += acc;
        loss_count++;
        if (step % cfg->val_every == 0 || step == cfg->steps) {
            p.step = step;
            p.loss = loss_sum / loss_count;
            p.acc = acc_sum / loss_count;
            p.validated = 1;
            if (dws_baseline_mean_accuracy(a, val, n_val, &val_view, &p.val_after, err)) goto done;
            p.improved = p.val_after > res->best_val_acc;
            if (p.improved) {
                res->best_val_acc = p.val_after;
                res->best_step = step;
                memcpy(best, a->params, a->n_params * sizeof(float));
            }
            p.best_val = res->best_val_acc;
            p.best_step = res->best_step;
            dws_train_progress_time(&p, t0, 0);
            int said = cfg->progress ? cfg->progress(cfg->ctx, &p, err) : 0;
            if (said < 0) goto done;
            if (said > 0) break;
            loss_sum = acc_sum = 0;
            loss_count = 0;
        }
    }
    memcpy(a->params, best, a->n_params * sizeof(float));
    res->seconds = dws_train_seconds() - t0;
    rc = 0;
done:
    dws_optim_free(&opt);
    free(best);
    free(x);
    free(y);
    free(rows);
    free(ws);
    free(s.in);
    free(s.permuted);
    free(s.out);
    free(s.dout);
    free(s.out_ptr);
    free(s.dout_ptr);
    return rc;
}
