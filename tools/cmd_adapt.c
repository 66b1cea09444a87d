/* dwsnet adapt: runs a DWSNet adapter on an ONNX MLP classifier and writes the
 * adapted classifier: the same ONNX model with new weights in the same tensors. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "cli_io.h"
#include "commands.h"
#include "model_cli.h"
#include "onnx/onnx_codec.h"

#define CMD "adapt"

int cmd_adapt(int argc, char **argv)
{
    model_run_opts a;
    int status = cli_parse(&cli_adapt, argc, argv, &a);
    if (status >= 0) return status;
    dws_model *model;
    dws_onnx *onnx;
    dws_input_norm norm;
    if (model_cli_open(CMD, &a, DWS_DEFAULT_ADAPTER, &model, &onnx, &norm) != 0) return 1;
    dws_error err;
    dws_mlp adapted = {0};
    uint8_t *bytes = NULL;
    size_t len = 0;
    dws_adapt_domain req, domain;
    dws_run_opts opts = {.threads = (int)a.threads, .input_norm = &norm, .domain = &req};
    int rc = -1;
    if (dws_adapt_domain_parse(a.domain, &req, &err) == 0 && dws_model_resolve_domain(model, &req, &domain, &err) == 0 &&
        dws_adapt_onnx(model, onnx, &opts, &adapted, &bytes, &len, &err) == 0)
        rc = dws_write_file_atomic(a.out, bytes, len, &err);
    if (rc == 0 && strcmp(a.out, "-") != 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", dws_model_id(model));
        cJSON_AddStringToObject(o, "output", a.out);
        char spec[256];
        dws_adapt_domain_format(&domain, spec, sizeof spec);
        cJSON_AddStringToObject(o, "domain", spec);
        cJSON_AddNumberToObject(o, "max_abs_change", dws_mlp_max_abs_diff(dws_onnx_weights(onnx), &adapted));
        cli_print_json(o);
    }
    free(bytes);
    dws_mlp_free(&adapted);
    dws_onnx_free(onnx);
    dws_model_free(model);
    return rc == 0 ? 0 : cli_fail(CMD, &err);
}
