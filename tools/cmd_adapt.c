/* dwsnet adapt: runs a DWSNet adapter on an ONNX MLP classifier and writes the
 * adapted classifier: the same ONNX model with new weights in the same tensors. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "cli_io.h"
#include "model_cli.h"
#include "onnx/onnx_codec.h"

#define CMD "adapt"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dwsnet adapt IN.onnx -o OUT.onnx [--model FILE.dws] [--threads N]\n\n"
            "Adapts an MLP classifier to the adapter's target domain (zero-shot: no data is\n"
            "needed) and writes it back into the same ONNX graph: same tensors, names, types\n"
            "and storage; metadata_props records the adapter (dwsnet.adapter) and version.\n"
            "The classifier must match the adapter's signature (input size, classes, depth,\n"
            "activation; see `dwsnet inspect`). Its input convention stays what it was.\n\n"
            "  --model FILE   adapter model (default " DWS_DEFAULT_ADAPTER ")\n"
            "  --threads N    worker threads (default: one per CPU)\n"
            "  -o -           write the model to stdout\n"
            "With -o FILE, prints {\"model\", \"output\", \"max_abs_change\"} as JSON.\n");
}

int cmd_adapt(int argc, char **argv)
{
    model_cli_args a;
    int status = model_cli_parse_args(CMD, argc, argv, 1, usage, &a);
    if (status >= 0) return status;
    dws_model *model;
    dws_onnx *onnx;
    if (model_cli_open(CMD, &a, DWS_DEFAULT_ADAPTER, &model, &onnx) != 0) return 1;
    dws_error err;
    dws_mlp adapted = {0};
    uint8_t *bytes = NULL;
    size_t len = 0;
    dws_run_opts opts = {.threads = (int)a.threads};
    int rc = -1;
    if (dws_adapt_onnx(model, onnx, &opts, &adapted, &bytes, &len, &err) == 0) rc = cli_write_file(a.out, bytes, len, &err);
    if (rc == 0 && strcmp(a.out, "-") != 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", dws_model_id(model));
        cJSON_AddStringToObject(o, "output", a.out);
        cJSON_AddNumberToObject(o, "max_abs_change", dws_mlp_max_abs_diff(dws_onnx_weights(onnx), &adapted));
        cli_print_json(o);
    }
    free(bytes);
    dws_mlp_free(&adapted);
    dws_onnx_free(onnx);
    dws_model_free(model);
    return rc == 0 ? 0 : cli_fail(CMD, &err);
}
