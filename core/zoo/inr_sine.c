#include "zoo.h"

#include <math.h>
#include <stdlib.h>

#include "mlp/mlp.h"
#include "train/train.h"
#include "base/base.h"

dws_inr_config dws_inr_defaults(void)
{
    return (dws_inr_config){.hidden = 32, .points = 256, .steps = 2000, .lr = 1e-2f};
}

int dws_inr_fit_sine(const dws_inr_config *cfg, double a, double b, uint64_t seed, dws_mlp *out, double *mse,
                     dws_error *err)
{
    if (cfg->hidden < 1 || cfg->hidden > 4096 || cfg->points < 2 || cfg->points > (1 << 20) || cfg->steps < 0 ||
        !(cfg->lr > 0.f)) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "INR fit: hidden 1..4096, points 2..2^20, steps >= 0, lr > 0");
        return -1;
    }
    const int64_t widths[4] = {1, cfg->hidden, cfg->hidden, 1};
    const int n = cfg->points;
    dws_mlp grad = {0};
    dws_optim opt = {0};
    float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n), *ws = NULL;
    int rc = -1;
    if (dws_mlp_init(out, 3, widths, err) != 0) goto done;
    if (dws_mlp_init(&grad, 3, widths, err) != 0) goto done;
    ws = malloc(sizeof(float) * dws_mlp_grad_ws_floats(out, n));
    if (!x || !y || !ws) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "INR fit: out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        x[i] = (float)(-M_PI + 2.0 * M_PI * i / (n - 1));
        y[i] = (float)(a * sin(b * x[i]));
    }
    dws_rng rng;
    dws_rng_seed(&rng, seed);
    dws_mlp_init_default(out, &rng);
    dws_optim_config oc = dws_optim_defaults(DWS_OPT_ADAM, cfg->lr);
    if (dws_optim_init(&opt, &oc, out->n_params, err) != 0) goto done;
    /* cosine decay to lr / 10: a fine last phase without a schedule to tune */
    const dws_lr_schedule lr = {.kind = DWS_LR_WARMUP_COSINE, .lr = cfg->lr, .steps = cfg->steps, .floor = 0.1};
    float loss = 0.f;
    for (int s = 0; s < cfg->steps; s++) {
        opt.cfg.lr = (float)dws_lr_at(&lr, s);
        if (dws_mlp_mse_grad(out, x, y, n, &grad, NULL, ws, &loss, err) != 0) goto done;
        dws_optim_step(&opt, out->params, grad.params, NULL);
    }
    if (dws_mlp_mse_grad(out, x, y, n, &grad, NULL, ws, &loss, err) != 0) goto done;
    *mse = loss;
    rc = 0;
done:
    if (rc != 0) dws_mlp_free(out);
    dws_optim_free(&opt);
    dws_mlp_free(&grad);
    free(ws);
    free(x);
    free(y);
    return rc;
}
