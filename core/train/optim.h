/* First-order optimisers over one flat parameter buffer, with PyTorch's update
 * rules (torch.optim.SGD, Adam, AdamW; single-tensor code path) so recipes carry
 * over: SGD with momentum (no dampening, no Nesterov) and L2 weight decay; Adam with
 * L2 weight decay added to the gradient; AdamW with decoupled decay. */
#ifndef DWS_OPTIM_H
#define DWS_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "base/dws_error.h"

typedef enum { DWS_OPT_SGD = 0, DWS_OPT_ADAM, DWS_OPT_ADAMW } dws_optimizer;

typedef struct {
    dws_optimizer kind;
    float lr;
    float momentum;          /* SGD */
    float beta1, beta2, eps; /* Adam, AdamW */
    float weight_decay;
} dws_optim_config;

typedef struct {
    dws_optim_config cfg;
    size_t n;
    float *m;                /* SGD momentum buffer, or Adam first moment */
    float *v;                /* Adam second moment */
    int64_t step;
} dws_optim;

const char *dws_optimizer_name(dws_optimizer k);   /* "sgd", "adam", "adamw" */
int dws_optimizer_parse(const char *name, dws_optimizer *out);

/* PyTorch's defaults for kind at learning rate lr: Adam/AdamW betas (0.9, 0.999),
 * eps 1e-8; weight decay 0 (Adam, SGD) or 0.01 (AdamW); SGD momentum 0.9 (PyTorch
 * has 0, but plain SGD is never what a recipe here means). */
dws_optim_config dws_optim_defaults(dws_optimizer kind, float lr);

int dws_optim_init(dws_optim *o, const dws_optim_config *cfg, size_t n_params, dws_error *err);
/* One update of params from grad (grad is left unchanged). */
void dws_optim_step(dws_optim *o, float *params, const float *grad);
void dws_optim_free(dws_optim *o);

#endif
