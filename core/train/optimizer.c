/* The optimiser of every training loop (train.h): SGD, Adam and AdamW over one flat
 * buffer, optionally after global-norm clipping. Built with the Makefile's VEC_FLAGS:
 * the elementwise loops vectorise; the norm, a double reduction in a fixed order, does not. */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *dws_optimizer_name(dws_optimizer k)
{
    switch (k) {
    case DWS_OPT_SGD: return "sgd";
    case DWS_OPT_ADAM: return "adam";
    case DWS_OPT_ADAMW: return "adamw";
    }
    return "unknown";
}

int dws_optimizer_parse(const char *name, dws_optimizer *out)
{
    for (int k = DWS_OPT_SGD; k <= DWS_OPT_ADAMW; k++)
        if (!strcmp(name, dws_optimizer_name((dws_optimizer)k))) {
            *out = (dws_optimizer)k;
            return 0;
        }
    return -1;
}

dws_optim_config dws_optim_defaults(dws_optimizer kind, float lr)
{
    dws_optim_config c = {.kind = kind, .lr = lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    if (kind == DWS_OPT_SGD) c.momentum = 0.9f;
    if (kind == DWS_OPT_ADAMW) c.weight_decay = 0.01f;
    return c;
}

int dws_optim_init(dws_optim *o, const dws_optim_config *cfg, size_t n_params, dws_error *err)
{
    memset(o, 0, sizeof *o);
    o->cfg = *cfg;
    o->n = n_params;
    o->m = calloc(n_params ? n_params : 1, sizeof(float));
    if (cfg->kind != DWS_OPT_SGD) o->v = calloc(n_params ? n_params : 1, sizeof(float));
    if (!o->m || (cfg->kind != DWS_OPT_SGD && !o->v)) {
        dws_optim_free(o);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate optimiser state for %zu parameters", n_params);
        return -1;
    }
    return 0;
}

void dws_optim_free(dws_optim *o)
{
    free(o->m);
    free(o->v);
    memset(o, 0, sizeof *o);
}

static void sgd_step(dws_optim *o, float *restrict p, const float *restrict g)
{
    const float lr = o->cfg.lr, mu = o->cfg.momentum, wd = o->cfg.weight_decay;
    float *restrict buf = o->m;
    const size_t n = o->n;
    if (mu == 0.f) {
        for (size_t i = 0; i < n; i++) p[i] -= lr * (g[i] + wd * p[i]);
        return;
    }
    /* PyTorch starts the momentum buffer at the first gradient, not at zero. */
    const float keep = o->step == 1 ? 0.f : mu;
    for (size_t i = 0; i < n; i++) {
        buf[i] = keep * buf[i] + (g[i] + wd * p[i]);
        p[i] -= lr * buf[i];
    }
}

static void adam_step(dws_optim *o, float *restrict p, const float *restrict g, int decoupled)
{
    const float lr = o->cfg.lr, b1 = o->cfg.beta1, b2 = o->cfg.beta2, eps = o->cfg.eps;
    const float step_size = lr / (float)(1.0 - pow(b1, (double)o->step));
    const float bc2_sqrt = (float)sqrt(1.0 - pow(b2, (double)o->step));
    /* Adam adds wd * p to the gradient (L2); AdamW shrinks p by lr * wd first. */
    const float l2 = decoupled ? 0.f : o->cfg.weight_decay;
    const float shrink = decoupled ? 1.f - lr * o->cfg.weight_decay : 1.f;
    float *restrict m = o->m, *restrict v = o->v;
    const size_t n = o->n;
    for (size_t i = 0; i < n; i++) {
        float pi = p[i] * shrink;
        float grad = g[i] + l2 * pi;
        m[i] += (1.f - b1) * (grad - m[i]);
        v[i] = b2 * v[i] + (1.f - b2) * grad * grad;
        p[i] = pi - step_size * m[i] / (sqrtf(v[i]) / bc2_sqrt + eps);
    }
}

/* torch.nn.utils.clip_grad_norm_: scale by clip / (norm + 1e-6) when that is < 1. */
static void clip_grad(float *restrict g, size_t n, float clip, double norm)
{
    double coef = clip / (norm + 1e-6);
    if (coef < 1.0)
        for (size_t i = 0; i < n; i++) g[i] *= (float)coef;
}

static double global_norm(const float *g, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return sqrt(s);
}

void dws_optim_step(dws_optim *o, float *params, float *grad, double *grad_norm)
{
    const int clip = o->cfg.clip > 0;
    double norm = clip || grad_norm ? global_norm(grad, o->n) : 0;
    if (clip) clip_grad(grad, o->n, o->cfg.clip, norm);
    if (grad_norm) *grad_norm = norm;
    o->step++;
    switch (o->cfg.kind) {
    case DWS_OPT_SGD: sgd_step(o, params, grad); break;
    case DWS_OPT_ADAM: adam_step(o, params, grad, 0); break;
    case DWS_OPT_ADAMW: adam_step(o, params, grad, 1); break;
    }
}
