/* Resumable training of a DWSNet: its parameters, input normalisation and AdamW
 * state at a step, in the .dws container (model_file.h) with a small JSON card
 * {"format": "dwsnet-checkpoint", "step", "config"}. The config is the trainer's
 * settings as JSON, so a resume can refuse a checkpoint taken with other ones. */
#ifndef DWS_TRAIN_CHECKPOINT_H
#define DWS_TRAIN_CHECKPOINT_H

#include <stdint.h>

#include "adamw.h"
#include "base/dws_error.h"
#include "ws/dws_net.h"

int dws_checkpoint_save(const char *path, const dws_net *net, const dws_adamw *opt, int64_t step,
                        const char *config_json, dws_error *err);

/* Restores into net (initialised with the checkpoint's architecture) and opt
 * (initialised for net->n_params). The stored config must equal config_json
 * (compared as JSON), else DWS_E_INCOMPATIBLE_MODEL. */
int dws_checkpoint_load(const char *path, dws_net *net, dws_adamw *opt, int64_t *step, const char *config_json,
                        dws_error *err);

#endif
