/* What `dwsnet inspect --json` prints and dwsnetd's POST /v1/inspect answers: one
 * JSON object describing a decoded model (the one implementation of both). */
#include <cjson/cJSON.h>

#include "onnx_codec.h"

struct cJSON *dws_onnx_inspect_json(const dws_onnx *m, const char *file)
{
    const dws_onnx_info *info = dws_onnx_get_info(m);
    const dws_mlp *w = dws_onnx_weights(m);
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    if (file) cJSON_AddStringToObject(o, "file", file);
    else cJSON_AddNullToObject(o, "file");
    cJSON *prod = cJSON_AddObjectToObject(o, "producer");
    cJSON_AddStringToObject(prod, "name", info->producer_name);
    cJSON_AddStringToObject(prod, "version", info->producer_version);
    cJSON_AddNumberToObject(o, "ir_version", (double)info->ir_version);
    cJSON_AddNumberToObject(o, "opset", (double)info->opset);
    cJSON_AddStringToObject(o, "graph", info->graph_name);
    cJSON *in = cJSON_AddObjectToObject(o, "input");
    cJSON_AddStringToObject(in, "name", info->input_name);
    cJSON_AddStringToObject(in, "type", info->input_type);
    cJSON *shape = info->input_rank > 0 ? cJSON_AddArrayToObject(in, "shape") : cJSON_AddNullToObject(in, "shape");
    for (int d = 0; d < info->input_rank; d++)
        cJSON_AddItemToArray(shape, info->input_dims[d] < 0 ? cJSON_CreateNull()
                                                            : cJSON_CreateNumber((double)info->input_dims[d]));
    cJSON_AddBoolToObject(in, "flatten", info->input_flatten);
    if (info->preprocess[0]) {   /* folded into layer 1 around /adapt and /embed (docs/onnx.md section 2.1) */
        cJSON_AddStringToObject(in, "preprocess", info->preprocess);
        cJSON_AddBoolToObject(in, "permutes", info->preprocess_permutes);
    } else {
        cJSON_AddNullToObject(in, "preprocess");
    }
    cJSON *out = cJSON_AddObjectToObject(o, "output");
    cJSON_AddStringToObject(out, "name", info->output_name);
    cJSON *widths = cJSON_AddArrayToObject(o, "widths");
    for (int l = 0; l <= w->n_layers; l++) cJSON_AddItemToArray(widths, cJSON_CreateNumber((double)w->widths[l]));
    cJSON *acts = cJSON_AddArrayToObject(o, "activations");
    for (int l = 0; l < w->n_layers; l++) cJSON_AddItemToArray(acts, cJSON_CreateString(dws_activation_name(w->act[l])));
    cJSON_AddStringToObject(o, "head", dws_head_name(info->head));
    cJSON_AddNumberToObject(o, "parameters", (double)w->n_params);
    cJSON *layers = cJSON_AddArrayToObject(o, "layers");
    for (int l = 0; l < w->n_layers; l++) {
        cJSON *ly = cJSON_CreateObject();
        cJSON_AddStringToObject(ly, "op", info->layer_op[l]);
        cJSON_AddNumberToObject(ly, "outputs", (double)w->widths[l + 1]);
        cJSON_AddNumberToObject(ly, "inputs", (double)w->widths[l]);
        cJSON_AddStringToObject(ly, "activation", dws_activation_name(w->act[l]));
        if (w->act[l] == DWS_ACT_LEAKY_RELU) cJSON_AddNumberToObject(ly, "leaky_alpha", w->leaky_alpha[l]);
        cJSON_AddStringToObject(ly, "weight", info->weight_name[l]);
        cJSON_AddStringToObject(ly, "weight_storage", info->weight_storage[l]);
        cJSON_AddBoolToObject(ly, "weight_transposed", info->weight_transposed[l]);
        cJSON_AddNumberToObject(ly, "alpha", info->weight_scale[l]);
        if (info->bias_stored[l]) cJSON_AddStringToObject(ly, "bias", info->bias_name[l]);
        else cJSON_AddNullToObject(ly, "bias");
        cJSON_AddStringToObject(ly, "bias_storage", info->bias_storage[l]);
        cJSON_AddNumberToObject(ly, "beta", info->bias_scale[l]);
        cJSON_AddItemToArray(layers, ly);
    }
    cJSON *dropout = cJSON_AddObjectToObject(o, "dropout");
    cJSON_AddNumberToObject(dropout, "nodes", info->dropout_nodes);
    cJSON_AddNumberToObject(dropout, "training_mode", info->dropout_training);
    return o;
}
