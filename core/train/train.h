/* core/train/train.h: the public header of core/train/.
 * The training skeleton (optimisers, schedule, checkpoints, progress) and classifier training
 * (recipes).
 */
#ifndef DWS_TRAIN_H
#define DWS_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "data/data.h"
#include "mlp/mlp.h"
#include "ws/ws.h"

/* ==== optim ==== */
/* First-order optimisers over one flat parameter buffer, with PyTorch's update
 * rules (torch.optim.SGD, Adam, AdamW; single-tensor code path) so recipes carry
 * over: SGD with momentum (no dampening, no Nesterov) and L2 weight decay; Adam with
 * L2 weight decay added to the gradient; AdamW with decoupled decay. */
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

/* ==== adamw ==== */
/* AdamW with global-norm gradient clipping over one flat parameter buffer, for
 * training DWSNets: the update rule is train/train.h's (PyTorch's AdamW), preceded by
 * torch.nn.utils.clip_grad_norm_ over the whole buffer. No randomness: a run is
 * deterministic given its data order and initial parameters. */
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

/* ==== adapter ckpt ==== */
/* Checkpoints of adapter training: parameters, AdamW moments, the step, the
 * data-order generator and the best validation score so far, in one file written
 * atomically, so a run that is stopped continues exactly where it was. */
typedef struct {
    int64_t step, best_step, total_steps;
    double best_val;
    dws_rng rng;
} dws_ckpt_state;

int dws_ckpt_save(const char *path, const float *params, const dws_adamw *opt, const dws_ckpt_state *s,
                  dws_error *err);
/* Fails (DWS_E_BAD_MODEL_FILE) unless the file holds exactly opt->opt.n parameters
 * of a run of the same total_steps. */
int dws_ckpt_load(const char *path, float *params, dws_adamw *opt, dws_ckpt_state *s, dws_error *err);

/* ==== mlp train ==== */
/* Training MLP classifiers the way a PyTorch user does: nn.Linear's default
 * initialisation, shuffled minibatches (last one partial, as DataLoader's default),
 * softmax cross-entropy, an optimiser from train/train.h. */
/* nn.Linear's reset_parameters: kaiming_uniform_(a = sqrt(5)) for W, which is
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for b. */
void dws_mlp_init_default(dws_mlp *m, dws_rng *rng);

typedef struct {
    dws_optim_config optim;
    int epochs;
    int batch_size;
    uint64_t seed;            /* the shuffling order (initialisation is the caller's) */
} dws_train_config;

typedef struct {
    double last_epoch_loss;   /* mean training loss of the last epoch */
    double last_epoch_acc;    /* training accuracy during the last epoch */
    int64_t steps;
} dws_train_result;

/* Trains m in place on data for cfg->epochs epochs. data labels must be < d_L and
 * data->dim == d_0. */
int dws_mlp_train(dws_mlp *m, const dws_samples *data, const dws_train_config *cfg, dws_train_result *res,
                  dws_error *err);

/* Fraction of data whose arg-max logit is the label. */
int dws_mlp_accuracy(const dws_mlp *m, const dws_samples *data, double *acc, dws_error *err);

/* ==== recipe ==== */
/* How one classifier is trained: architecture, optimiser, epochs, batch size, the
 * training subset and the seed. The zoo samples recipes; `dwsnet train-classifier`
 * takes one from flags; both train through dws_recipe_train. */
typedef struct cJSON cJSON;

typedef struct {
    int n_hidden;                          /* hidden layers */
    int64_t hidden[DWS_MAX_LAYERS - 1];    /* their widths */
    dws_optim_config optim;
    int epochs;
    int batch_size;
    uint32_t subset;                       /* training images used; 0 = all */
    uint64_t seed;                         /* initialisation, subset and shuffling */
} dws_recipe;

/* The PyTorch reference recipe of TASK.md: 128-128 hidden, Adam lr 1e-3, batch 128, 10 epochs, all images. */
dws_recipe dws_recipe_reference(void);

/* A JSON object {"hidden":[..],"optimizer":"adam","lr":..,"momentum":..,"weight_decay":..,
 * "epochs":..,"batch_size":..,"subset":..,"seed":..}; caller owns it. */
cJSON *dws_recipe_to_json(const dws_recipe *r);

/* A freshly initialised d0 -> hidden... -> n_classes ReLU MLP, trained on `train`
 * (a seeded subset of it when r->subset is set). *out is initialised here. */
int dws_recipe_train(const dws_recipe *r, const dws_samples *train, int n_classes, dws_mlp *out,
                     dws_train_result *res, dws_error *err);

/* ==== train checkpoint ==== */
/* Resumable training of a DWSNet: its parameters, input normalisation and AdamW
 * state at a step, in the .dws container (base/base.h) with a small JSON card
 * {"format": "dwsnet-checkpoint", "step", "config"}. The config is the trainer's
 * settings as JSON, so a resume can refuse a checkpoint taken with other ones. */
int dws_checkpoint_save(const char *path, const dws_net *net, const dws_adamw *opt, int64_t step,
                        const char *config_json, dws_error *err);

/* Restores into net (initialised with the checkpoint's architecture) and opt
 * (initialised for net->n_params). The stored config must equal config_json
 * (compared as JSON), else DWS_E_INCOMPATIBLE_MODEL. */
int dws_checkpoint_load(const char *path, dws_net *net, dws_adamw *opt, int64_t *step, const char *config_json,
                        dws_error *err);

#endif
