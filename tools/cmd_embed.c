/* dwsnet embed: the DWSNet encoder's embedding of an ONNX MLP classifier, as JSON. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_io.h"
#include "commands.h"
#include "model/model.h"
#include "model_cli.h"
#include "onnx/onnx_codec.h"

#define CMD "embed"

int cmd_embed(int argc, char **argv)
{
    model_run_opts a;
    int status = cli_parse(&cli_embed, argc, argv, &a);
    if (status >= 0) return status;
    dws_model *model;
    dws_onnx *onnx;
    dws_input_norm norm;
    if (model_cli_open(CMD, &a, DWS_DEFAULT_ENCODER, &model, &onnx, &norm) != 0) return 1;
    dws_error err;
    float *emb = NULL;
    int dim = 0, rc = -1;
    dws_run_opts opts = {.threads = (int)a.threads, .input_norm = &norm};
    if (dws_embed_onnx(model, onnx, &opts, &emb, &dim, &err) == 0) {
        cJSON *o = cJSON_CreateObject(), *e = cJSON_CreateArray();
        cJSON_AddStringToObject(o, "model", dws_model_id(model));
        for (int j = 0; j < dim; j++) cJSON_AddItemToArray(e, cJSON_CreateNumber(emb[j]));
        cJSON_AddItemToObject(o, "embedding", e);
        rc = cli_print_json(o);
        if (rc != 0) dws_error_set(&err, DWS_E_OUT_OF_MEMORY, "cannot render the embedding");
    }
    free(emb);
    dws_onnx_free(onnx);
    dws_model_free(model);
    return rc == 0 ? 0 : cli_fail(CMD, &err);
}
