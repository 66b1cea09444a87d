/* core/train/train.h: the public header of core/train/.
 * The training skeleton (one optimiser, one learning-rate schedule, one progress report, one
 * checkpoint format; docs/training.md) and classifier training (recipes).
 */
#ifndef DWS_TRAIN_H
#define DWS_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "data/data.h"
#include "mlp/mlp.h"
#include "ws/ws.h"

/* ==== optimizer ==== */
/* The one optimiser of every training loop: first-order updates of one flat
 * parameter buffer with PyTorch's rules (torch.optim.SGD, Adam, AdamW; single-tensor
 * code path) so recipes carry over: SGD with momentum (no dampening, no Nesterov) and
 * L2 weight decay; Adam with L2 weight decay added to the gradient; AdamW with
 * decoupled decay. Optionally preceded by torch.nn.utils.clip_grad_norm_ over the
 * whole buffer. No randomness: a run is deterministic given its data order and
 * initial parameters. */
typedef enum { DWS_OPT_SGD = 0, DWS_OPT_ADAM, DWS_OPT_ADAMW } dws_optimizer;

typedef struct {
    dws_optimizer kind;
    float lr;
    float momentum;          /* SGD */
    float beta1, beta2, eps; /* Adam, AdamW */
    float weight_decay;
    float clip;              /* global gradient norm clipped to this; <= 0: no clipping */
} dws_optim_config;

typedef struct {
    dws_optim_config cfg;    /* cfg.lr may be changed between steps (a schedule) */
    size_t n;
    float *m;                /* SGD momentum buffer, or Adam first moment */
    float *v;                /* Adam second moment (NULL for SGD) */
    int64_t step;
} dws_optim;

const char *dws_optimizer_name(dws_optimizer k);   /* "sgd", "adam", "adamw" */
int dws_optimizer_parse(const char *name, dws_optimizer *out);

/* PyTorch's defaults for kind at learning rate lr: Adam/AdamW betas (0.9, 0.999),
 * eps 1e-8; weight decay 0 (Adam, SGD) or 0.01 (AdamW); SGD momentum 0.9 (PyTorch
 * has 0, but plain SGD is never what a recipe here means); no clipping. */
dws_optim_config dws_optim_defaults(dws_optimizer kind, float lr);

int dws_optim_init(dws_optim *o, const dws_optim_config *cfg, size_t n_params, dws_error *err);
/* One update of params from grad. With cfg.clip > 0, grad is first scaled in place
 * to that global norm when it is longer. grad_norm (may be NULL) receives the
 * gradient's L2 norm before clipping (accumulated in double, in a fixed order). */
void dws_optim_step(dws_optim *o, float *params, float *grad, double *grad_norm);
void dws_optim_free(dws_optim *o);

/* ==== schedule ==== */
/* The one learning-rate schedule: constant, or a linear warm-up to the peak
 * (lr (s + 1) / warmup at step s < warmup) followed by a cosine decay from the peak
 * at step `warmup` to lr * floor at step `steps` (and after). */
typedef enum { DWS_LR_CONSTANT = 0, DWS_LR_WARMUP_COSINE } dws_lr_kind;

typedef struct {
    dws_lr_kind kind;
    double lr;               /* peak */
    int64_t warmup, steps;
    double floor;            /* the cosine's end, a fraction of lr */
} dws_lr_schedule;

/* Learning rate of step s (0-based). */
double dws_lr_at(const dws_lr_schedule *s, int64_t step);

/* ==== progress ==== */
/* The one progress report of every training loop, and the one callback signature.
 * Fields a loop does not measure stay 0. */
typedef struct {
    int64_t step, steps;        /* steps done (the last one's 1-based number), of the whole run */
    double lr;                  /* of the last step */
    double loss, acc;           /* training loss and accuracy (contrastive: top-1), mean since the last report */
    double grad_norm;           /* of the last step, before clipping */
    int batch;                  /* examples (networks, classifiers) of the last step */
    int validated;              /* this report comes with a fresh validation (val_after) */
    int improved;               /* ... which is the best so far */
    double val_before, val_after;   /* validation score without the model (or at step 0), now */
    double best_val;
    int64_t best_step;
    double elapsed, eta;        /* seconds in this run, seconds to go */
} dws_train_progress;

/* Called by a loop whenever it reports: 0 goes on; > 0 stops training early (the
 * loop returns 0); < 0 fails it (the callback sets err; the loop returns -1). */
typedef int (*dws_train_progress_fn)(void *ctx, const dws_train_progress *p, dws_error *err);

/* Monotonic seconds, for elapsed times. */
double dws_train_seconds(void);
/* Sets p->elapsed and p->eta from the time t0 (dws_train_seconds) at which this
 * run started, at step first_step, and p->step, p->steps. */
void dws_train_progress_time(dws_train_progress *p, double t0, int64_t first_step);

/* ==== checkpoint ==== */
/* The one training checkpoint: everything a loop needs to continue a DWSNet's
 * training bit for bit, in the .dws container (base/base.h) with a JSON card
 * {"format": "dwsnet-training-checkpoint", "version": 2, "step", "best_step",
 * "best_val", "rng", "optimizer": {"kind", "step"}, "config"} and the tensors
 * "params", "optim.m", "optim.v" (Adam kinds), "input_norm.mean", "input_norm.std".
 * The config is the trainer's settings as JSON, so a resume refuses a checkpoint
 * taken with other ones. The format: docs/training.md section 4. */
#define DWS_CHECKPOINT_VERSION 2

typedef struct {
    int64_t step;               /* steps done */
    int64_t best_step;          /* of the best validation so far */
    double best_val;
    dws_rng rng;                /* the loop's generator (unused by loops seeding per-step streams) */
} dws_train_state;

/* Writes atomically; opt must be initialised for net->n_params. */
int dws_checkpoint_save(const char *path, const dws_net *net, const dws_optim *opt, const dws_train_state *st,
                        const char *config_json, dws_error *err);

/* Restores into net (initialised with the checkpoint's architecture), opt
 * (initialised for net->n_params with the same kind) and st. A checkpoint of an
 * older format: DWS_E_BAD_MODEL_FILE naming the version; a stored config other
 * than config_json (compared as JSON) or other sizes: DWS_E_INCOMPATIBLE_MODEL. */
int dws_checkpoint_load(const char *path, dws_net *net, dws_optim *opt, dws_train_state *st, const char *config_json,
                        dws_error *err);

/* ==== mlp train ==== */
/* Training MLP classifiers the way a PyTorch user does: nn.Linear's default
 * initialisation, shuffled minibatches (last one partial, as DataLoader's default),
 * softmax cross-entropy, the optimiser above at a constant learning rate; one
 * progress report per epoch. */
/* nn.Linear's reset_parameters: kaiming_uniform_(a = sqrt(5)) for W, which is
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for b. */
void dws_mlp_init_default(dws_mlp *m, dws_rng *rng);

typedef struct {
    dws_optim_config optim;
    int epochs;
    int batch_size;
    uint64_t seed;            /* the shuffling order (initialisation is the caller's) */
    dws_train_progress_fn progress;   /* after every epoch (may be NULL) */
    void *ctx;
} dws_train_config;

/* Trains m in place on data for cfg->epochs epochs. data labels must be < d_L and
 * data->dim == d_0. res (may be NULL) receives the last report: loss and acc of the
 * last epoch, step = steps done. */
int dws_mlp_train(dws_mlp *m, const dws_samples *data, const dws_train_config *cfg, dws_train_progress *res,
                  dws_error *err);

/* Fraction of data whose arg-max logit is the label. */
int dws_mlp_accuracy(const dws_mlp *m, const dws_samples *data, double *acc, dws_error *err);

/* ==== recipe ==== */
/* How one classifier is trained: architecture, optimiser, epochs, batch size, the
 * training subset and the seed. The zoo samples recipes; `dwsnet train-classifier`
 * takes one from flags; both train through dws_recipe_train. */
typedef struct cJSON cJSON;

/* LeakyReLU's negative slope of the recipes made here (torch.nn.LeakyReLU's default). */
#define DWS_RECIPE_LEAKY_SLOPE 0.01f
#define DWS_RECIPE_LEAKY_SLOPE_TEXT "0.01"

typedef struct {
    int n_hidden;                          /* hidden layers */
    int64_t hidden[DWS_MAX_LAYERS - 1];    /* their widths */
    dws_activation activation;             /* of every hidden layer; DWS_ACT_IDENTITY (0, a zeroed recipe) is ReLU */
    float leaky_slope;                     /* LeakyReLU's negative slope (used when activation is LEAKY_RELU) */
    dws_optim_config optim;
    int epochs;
    int batch_size;
    uint32_t subset;                       /* training images used; 0 = all */
    uint64_t seed;                         /* initialisation, subset and shuffling */
} dws_recipe;

/* The PyTorch reference recipe (docs/task.md section 4): 128-128 hidden, Adam lr 1e-3,
 * batch 128, 10 epochs, all images. */
dws_recipe dws_recipe_reference(void);

/* The hidden activation r trains with (ReLU for a zeroed recipe). */
dws_activation dws_recipe_activation(const dws_recipe *r);

/* A JSON object {"hidden":[..],"optimizer":"adam","lr":..,"momentum":..,"weight_decay":..,
 * "epochs":..,"batch_size":..,"subset":..,"seed":..}, with "activation" (and for
 * leaky_relu "leaky_relu_slope") after "hidden" only when it is not ReLU, so that a ReLU
 * recipe's text is what it was before recipes had activations; caller owns it. */
cJSON *dws_recipe_to_json(const dws_recipe *r);

/* A freshly initialised d0 -> hidden... -> n_classes MLP with the recipe's hidden
 * activation, trained on `train` (a seeded subset of it when r->subset is set). *out is
 * initialised here. */
int dws_recipe_train(const dws_recipe *r, const dws_samples *train, int n_classes, dws_mlp *out,
                     dws_train_progress *res, dws_error *err);

#endif
