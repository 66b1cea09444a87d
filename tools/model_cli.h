/* What the DWSNet model commands (init-model, adapt, embed) share: strict integer
 * options and loading a model, with a clear error when the default one is absent. */
#ifndef DWS_MODEL_CLI_H
#define DWS_MODEL_CLI_H

#include "dws_model.h"

#define DWS_DEFAULT_ADAPTER "models/cifar10c-adapter.dws"
#define DWS_DEFAULT_ENCODER "models/cifar10-embedder.dws"

/* A whole-string integer in [lo, hi]; else prints the error line and returns -1. */
int model_cli_int(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out);

/* The model at path, or at default_path when path is NULL; prints the error line
 * (naming --model when the default is missing) and returns NULL on failure. */
dws_model *model_cli_load(const char *cmd, const char *path, const char *default_path);

#endif
