/* Training MLP classifiers the way a PyTorch user does: nn.Linear's default
 * initialisation, shuffled minibatches (last one partial, as DataLoader's default),
 * softmax cross-entropy, an optimiser from optim.h. */
#ifndef DWS_MLP_TRAIN_H
#define DWS_MLP_TRAIN_H

#include <stdint.h>

#include "base/dws_error.h"
#include "mlp/mlp.h"
#include "optim.h"
#include "base/rng.h"
#include "data/samples.h"

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

#endif
