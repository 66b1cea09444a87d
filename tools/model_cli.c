#include "model_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli_io.h"

dws_model *model_cli_load(const char *cmd, const char *path, const char *default_path)
{
    dws_error err;
    if (!path && access(default_path, F_OK) != 0) {
        dws_error_set(&err, DWS_E_IO, "no model given and the default %s does not exist (train one, or pass --model FILE)",
                      default_path);
        cli_fail(cmd, &err);
        return NULL;
    }
    dws_model *m = dws_model_load(path ? path : default_path, &err);
    if (!m) cli_fail(cmd, &err);
    return m;
}

int model_cli_open(const char *cmd, const model_run_opts *o, const char *default_path, dws_model **model,
                   dws_onnx **onnx)
{
    *onnx = NULL;
    if (!(*model = model_cli_load(cmd, o->model, default_path))) return -1;
    dws_error err;
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
