#include "model_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_io.h"

int model_cli_int(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out)
{
    if (cli_parse_long(s, lo, hi, out) == 0) return 0;
    fprintf(stderr, "dwsnet %s: %s: %s needs an integer in %ld..%ld, got '%s'\n", cmd, DWS_E_INVALID_ARGUMENT, flag, lo,
            hi, s);
    return -1;
}

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

int model_cli_parse_args(const char *cmd, int argc, char **argv, int with_out, void (*usage)(FILE *),
                         model_cli_args *a)
{
    *a = (model_cli_args){0};
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
            usage(stdout);
            return 0;
        }
        if (((with_out && !strcmp(f, "-o")) || !strcmp(f, "--model") || !strcmp(f, "--threads")) && i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(f, "-o")) a->out = v;
            else if (!strcmp(f, "--model")) a->model_path = v;
            else if (model_cli_int(cmd, f, v, 1, 64, &a->threads) != 0) return 2;
        } else if (f[0] != '-' && !a->in) {
            a->in = f;
        } else {
            fprintf(stderr, "dwsnet %s: %s: unexpected argument '%s'\n", cmd, DWS_E_INVALID_ARGUMENT, f);
            return 2;
        }
    }
    if (!a->in || (with_out && !a->out)) {
        usage(stderr);
        return 2;
    }
    return -1;
}

int model_cli_open(const char *cmd, const model_cli_args *a, const char *default_path, dws_model **model,
                   dws_onnx **onnx)
{
    *onnx = NULL;
    if (!(*model = model_cli_load(cmd, a->model_path, default_path))) return -1;
    dws_error err;
    dws_onnx_limits lim;
    dws_onnx_limits_default(&lim);
    if (!(*onnx = dws_onnx_decode_file(a->in, &lim, &err))) {
        dws_model_free(*model);
        *model = NULL;
        cli_fail(cmd, &err);
        return -1;
    }
    return 0;
}
