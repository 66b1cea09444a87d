#include "model_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/base.h"
#include "cli_io.h"

/* *path, or the shipped default_file in the models directory when *path is NULL;
 * -1 after the error line (naming flag) when the default is absent. */
static int resolve(const char *cmd, const char **path, const char *default_file, const char *flag)
{
    static char default_path[4096];
    if (*path) return 0;
    dws_error err;
    const char *source, *dir = dws_models_dir(&source);
    if (dws_default_model_path(default_file, default_path, sizeof default_path) != 0 ||
        access(default_path, F_OK) != 0) {
        dws_error_set(&err, DWS_E_IO,
                      "no model given and the default %s/%s does not exist (models directory from %s; "
                      "pass %s FILE, or set " DWS_MODELS_ENV " to a directory holding %s)",
                      dir, default_file, source, flag, default_file);
        cli_fail(cmd, &err);
        return -1;
    }
    *path = default_path;
    return 0;
}

dws_model *model_cli_load(const char *cmd, const char **path, const char *default_file)
{
    dws_error err;
    if (resolve(cmd, path, default_file, "--model")) return NULL;
    dws_model *m = dws_model_load(*path, &err);
    if (!m) cli_fail(cmd, &err);
    return m;
}

dws_estimator *model_cli_load_estimator(const char *cmd, const char **path)
{
    dws_error err;
    if (resolve(cmd, path, DWS_DEFAULT_ESTIMATOR, "--estimator")) return NULL;
    dws_estimator *e = dws_estimator_load(*path, &err);
    if (!e) cli_fail(cmd, &err);
    return e;
}

int model_cli_open(const char *cmd, model_run_opts *o, const char *default_file, dws_model **model,
                   dws_onnx **onnx, dws_input_norm *norm)
{
    *onnx = NULL;
    *model = NULL;
    dws_error err;
    if (dws_input_norm_parse(norm, o->input_mean, o->input_std, o->input_range, &err) != 0) {
        cli_fail(cmd, &err);
        return -1;
    }
    if (!(*model = model_cli_load(cmd, &o->model, default_file))) return -1;
    dws_onnx_limits lim;
    dws_onnx_limits_default(&lim);
    if (!(*onnx = dws_onnx_decode_file(o->in, &lim, &err))) {
        dws_model_free(*model);
        *model = NULL;
        cli_fail(cmd, &err);
        return -1;
    }
    return 0;
}
