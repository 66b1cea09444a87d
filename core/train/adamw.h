/* AdamW with global-norm gradient clipping over one flat parameter buffer, for
 * training DWSNets: the update rule is optim.h's (PyTorch's AdamW), preceded by
 * torch.nn.utils.clip_grad_norm_ over the whole buffer. No randomness: a run is
 * deterministic given its data order and initial parameters. */
#ifndef DWS_ADAMW_H
#define DWS_ADAMW_H

#include <stddef.h>

#include "base/dws_error.h"
#include "optim.h"

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
    float max_grad_norm;    /* <= 0: no clipping */
} dws_adamw_config;

/* lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01, clipping at norm 1. */
dws_adamw_config dws_adamw_defaults(void);

typedef struct {
    dws_optim opt;          /* opt.cfg.lr may be changed between steps (schedules) */
    float max_grad_norm;
} dws_adamw;

int dws_adamw_init(dws_adamw *o, const dws_adamw_config *cfg, size_t n_params, dws_error *err);
void dws_adamw_free(dws_adamw *o);

/* L2 norm of the whole buffer (accumulated in double, in a fixed order). */
double dws_global_norm(const float *v, size_t n);

/* Clips grad in place to the configured global norm, then updates params.
 * Returns the gradient norm before clipping. */
double dws_adamw_step(dws_adamw *o, float *params, float *grad);

#endif
