/* Checkpoints of adapter training: parameters, AdamW moments, the step, the
 * data-order generator and the best validation score so far, in one file written
 * atomically, so a run that is stopped continues exactly where it was. */
#ifndef DWS_ADAPTER_CKPT_H
#define DWS_ADAPTER_CKPT_H

#include <stdint.h>

#include "adamw.h"
#include "base/dws_error.h"
#include "base/rng.h"

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

#endif
