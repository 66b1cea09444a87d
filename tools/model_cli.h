/* What the DWSNet model commands (adapt, embed, eval, eval-embedder) share:
 * loading a model, with a clear error when the default one is absent, and the
 * classifier a command runs it on. */
#ifndef DWS_MODEL_CLI_H
#define DWS_MODEL_CLI_H

#include "model/model.h"
#include "onnx/onnx_codec.h"
#include "options_table.h"

/* The model at path, or at default_path when path is NULL; prints the error line
 * (naming --model when the default is missing) and returns NULL on failure. */
dws_model *model_cli_load(const char *cmd, const char *path, const char *default_path);

/* The model (o->model, else default_path) and the classifier o->in that the
 * command runs it on. Prints the error line and returns -1, with nothing to free,
 * on failure. */
int model_cli_open(const char *cmd, const model_run_opts *o, const char *default_path, dws_model **model,
                   dws_onnx **onnx);

#endif
