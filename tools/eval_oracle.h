/* The fine-tuning oracle of TASK.md for classifiers that the baselines do not
 * cover (--extra): every weight trained for 1 epoch of Adam at 5e-4, batch 128,
 * on labelled corrupted training images. The upper reference a zero-shot adapter
 * is measured against. */
#ifndef DWS_EVAL_ORACLE_H
#define DWS_EVAL_ORACLE_H

#include "data/data.h"
#include "base/base.h"
#include "mlp/mlp.h"

typedef struct {
    float *x;             /* the corrupted training images, n x dim */
    dws_samples samples;
} eval_oracle_data;

/* Loads the training split from data and corrupts it (seed). */
int eval_oracle_data_load(eval_oracle_data *d, const char *data, const dws_domain *domain, uint64_t seed,
                          dws_error *err);
void eval_oracle_data_free(eval_oracle_data *d);

/* out = m fine-tuned (out is initialised by the call). */
int eval_oracle_finetune(const eval_oracle_data *d, const dws_mlp *m, dws_mlp *out, dws_error *err);

#endif
