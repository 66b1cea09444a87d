/* dwsnet adapt: runs a DWSNet adapter on an ONNX MLP classifier and writes the
 * adapted classifier: the same ONNX model with new weights in the same tensors. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt_onnx.h"
#include "cli_io.h"
#include "dws_model.h"
#include "model_cli.h"
#include "onnx_codec.h"

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

static double max_abs_change(const dws_mlp *a, const dws_mlp *b)
{
    double m = 0;
    for (size_t i = 0; i < a->n_params; i++) m = fmax(m, fabs((double)a->params[i] - b->params[i]));
    return m;
}

int cmd_adapt(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *model_path = NULL;
    long threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if ((!strcmp(a, "-o") || !strcmp(a, "--model") || !strcmp(a, "--threads")) && i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(a, "-o")) out = v;
            else if (!strcmp(a, "--model")) model_path = v;
            else if (model_cli_int(CMD, a, v, 1, 64, &threads) != 0) return 2;
        } else if (a[0] != '-' && !in) {
            in = a;
        } else {
            fprintf(stderr, "dwsnet " CMD ": %s: unexpected argument '%s'\n", DWS_E_INVALID_ARGUMENT, a);
            return 2;
        }
    }
    if (!in || !out) {
        usage(stderr);
        return 2;
    }
    dws_model *model = model_cli_load(CMD, model_path, DWS_DEFAULT_ADAPTER);
    if (!model) return 1;
    dws_error err;
    dws_onnx_limits lim;
    dws_onnx_limits_default(&lim);
    dws_onnx *onnx = dws_onnx_decode_file(in, &lim, &err);
    dws_mlp adapted = {0};
    uint8_t *bytes = NULL;
    size_t len = 0;
    dws_run_opts opts = {.threads = (int)threads};
    int rc = -1;
    if (onnx && dws_adapt_onnx(model, onnx, &opts, &adapted, &bytes, &len, &err) == 0)
        rc = cli_write_file(out, bytes, len, &err);
    if (rc == 0 && strcmp(out, "-") != 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", dws_model_id(model));
        cJSON_AddStringToObject(o, "output", out);
        cJSON_AddNumberToObject(o, "max_abs_change", max_abs_change(dws_onnx_weights(onnx), &adapted));
        char *text = cJSON_PrintUnformatted(o);
        if (text) printf("%s\n", text);
        free(text);
        cJSON_Delete(o);
    }
    free(bytes);
    dws_mlp_free(&adapted);
    dws_onnx_free(onnx);
    dws_model_free(model);
    return rc == 0 ? 0 : cli_fail(CMD, &err);
}
