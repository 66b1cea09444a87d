/* How one classifier is trained: architecture, optimiser, epochs, batch size, the
 * training subset and the seed. The zoo samples recipes; `dwsnet train-classifier`
 * takes one from flags; both train through dws_recipe_train. */
#ifndef DWS_RECIPE_H
#define DWS_RECIPE_H

#include <stdint.h>

#include "base/dws_error.h"
#include "mlp/mlp.h"
#include "mlp_train.h"
#include "optim.h"
#include "data/samples.h"

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

#endif
