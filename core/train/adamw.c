#include "train.h"

#include <math.h>

dws_adamw_config dws_adamw_defaults(void)
{
    return (dws_adamw_config){.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.01f,
                              .max_grad_norm = 1.f};
}

int dws_adamw_init(dws_adamw *o, const dws_adamw_config *cfg, size_t n_params, dws_error *err)
{
    dws_optim_config oc = {.kind = DWS_OPT_ADAMW, .lr = cfg->lr, .beta1 = cfg->beta1, .beta2 = cfg->beta2,
                           .eps = cfg->eps, .weight_decay = cfg->weight_decay};
    o->max_grad_norm = cfg->max_grad_norm;
    return dws_optim_init(&o->opt, &oc, n_params, err);
}

void dws_adamw_free(dws_adamw *o)
{
    dws_optim_free(&o->opt);
}

double dws_global_norm(const float *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    return sqrt(s);
}

double dws_adamw_step(dws_adamw *o, float *params, float *grad)
{
    double norm = dws_global_norm(grad, o->opt.n);
    /* torch.nn.utils.clip_grad_norm_: scale by max / (norm + 1e-6) when that is < 1. */
    double coef = o->max_grad_norm / (norm + 1e-6);
    if (o->max_grad_norm > 0 && coef < 1.0)
        for (size_t i = 0; i < o->opt.n; i++) grad[i] *= (float)coef;
    dws_optim_step(&o->opt, params, grad);
    return norm;
}
