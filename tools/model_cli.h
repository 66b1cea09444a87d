/* What the DWSNet model commands (adapt, embed, eval, eval-embedder) share:
 * loading a model, with a clear error when the default one is absent, and the
 * classifier a command runs it on. */
#ifndef DWS_MODEL_CLI_H
#define DWS_MODEL_CLI_H

#include "model/model.h"
#include "onnx/onnx_codec.h"
#include "options_table.h"

/* The model at *path; when *path is NULL, the shipped model default_file (DWS_DEFAULT_*)
 * in the models directory (dws_models_dir, base/base.h), and *path then names that file
 * (until the next call). Prints the error line (naming --model and DWSNET_MODELS when the
 * default is missing) and returns NULL on failure. */
dws_model *model_cli_load(const char *cmd, const char **path, const char *default_file);

/* The domain estimator at *path, else the shipped DWS_DEFAULT_ESTIMATOR as above
 * (the error names --estimator). */
dws_estimator *model_cli_load_estimator(const char *cmd, const char **path);

/* The model (o->model, else default_file as above) and the classifier o->in that the
 * command runs it on, and the normalisation outside it (--input-mean/-std/-range)
 * into *norm. Prints the error line and returns -1, with nothing to free,
 * on failure. */
int model_cli_open(const char *cmd, model_run_opts *o, const char *default_file, dws_model **model,
                   dws_onnx **onnx, dws_input_norm *norm);

#endif
