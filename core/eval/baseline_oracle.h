/* TASK.md's fine-tuning oracle: every weight of the classifier, one epoch of Adam at
 * 5e-4, batch 128, on LABELED corrupted training images. It sees what a zero-shot
 * adapter never does (target labels), so its gain is the reference an adapter's gain
 * is measured against. */
#ifndef DWS_BASELINE_ORACLE_H
#define DWS_BASELINE_ORACLE_H

#include <stdint.h>

#include "base/dws_error.h"
#include "mlp/mlp.h"
#include "data/samples.h"

#define DWS_ORACLE_LR 5e-4f
#define DWS_ORACLE_EPOCHS 1
#define DWS_ORACLE_BATCH 128

/* Fine-tunes m in place on labeled; seed orders the minibatches. */
int dws_oracle_finetune(dws_mlp *m, const dws_samples *labeled, uint64_t seed, dws_error *err);

#endif
