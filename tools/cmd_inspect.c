/* dwsnet inspect: what an ONNX MLP classifier is made of, or why it is not one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_io.h"
#include "commands.h"
#include "options_table.h"
#include "onnx/onnx_codec.h"

static void print_dims(const dws_onnx_info *info)
{
    printf("[");
    for (int d = 0; d < info->input_rank; d++) {
        if (info->input_dims[d] < 0) printf("%s?", d ? ", " : "");
        else printf("%s%lld", d ? ", " : "", (long long)info->input_dims[d]);
    }
    printf("]");
}

static void print_text(const char *path, const dws_onnx_info *info, const dws_mlp *w)
{
    printf("model:        %s\n", path);
    printf("producer:     %s %s\n", info->producer_name, info->producer_version);
    printf("ir_version:   %lld\nopset:        %lld\n", (long long)info->ir_version, (long long)info->opset);
    printf("graph:        %s\n", info->graph_name);
    printf("input:        %s %s ", info->input_name, info->input_type);
    if (info->input_rank > 0) print_dims(info);
    else printf("(no shape)");
    printf("%s\n", info->input_flatten ? " through Flatten/Reshape" : "");
    if (info->preprocess[0]) printf("preprocess:   %s folded into layer 1\n", info->preprocess);
    printf("output:       %s\n", info->output_name);
    printf("widths:       [");
    for (int l = 0; l <= w->n_layers; l++) printf("%s%lld", l ? ", " : "", (long long)w->widths[l]);
    printf("]\nactivations:  ");
    for (int l = 0; l < w->n_layers; l++) {
        printf("%s%s", l ? ", " : "", dws_activation_name(w->act[l]));
        if (w->act[l] == DWS_ACT_LEAKY_RELU) printf("(%g)", w->leaky_alpha[l]);
    }
    printf("\nhead:         %s\nparameters:   %zu\nlayers:\n", dws_head_name(info->head), w->n_params);
    for (int l = 0; l < w->n_layers; l++) {
        printf("  %2d  %-10s W %lldx%lld '%s' (%s%s", l + 1, info->layer_op[l], (long long)w->widths[l + 1],
               (long long)w->widths[l], info->weight_name[l], info->weight_storage[l],
               info->weight_transposed[l] ? ", stored transposed" : "");
        if (info->weight_scale[l] != 1.0) printf(", alpha %g", info->weight_scale[l]);
        if (!info->bias_stored[l]) {
            printf(")  no stored bias (b = 0)\n");
            continue;
        }
        printf(")  b '%s' (%s", info->bias_name[l], info->bias_storage[l]);
        if (info->bias_scale[l] != 1.0) printf(", beta %g", info->bias_scale[l]);
        printf(")\n");
    }
    if (info->dropout_nodes)
        printf("dropout:      %d node(s), the identity for dwsnet%s\n", info->dropout_nodes,
               info->dropout_training ? "; training_mode=true in some: a runtime that honours it drops units" : "");
}

/* Returns 0 when path decoded, 1 when it was rejected. */
static int inspect_one(const char *path, int json, int compact, int first)
{
    dws_error err = {0};
    dws_onnx *m = dws_onnx_decode_file(path, NULL, &err);
    if (!m) {
        fprintf(stderr, "dwsnet inspect: %s: %s: %s\n", err.code, path, err.message);
        return 1;
    }
    const dws_onnx_info *info = dws_onnx_get_info(m);
    const dws_mlp *w = dws_onnx_weights(m);
    if (json) {
        cJSON *o = dws_onnx_inspect_json(m, path);
        char *s = o ? compact ? cJSON_PrintUnformatted(o) : cJSON_Print(o) : NULL;
        printf("%s\n", s ? s : "null");
        cJSON_free(s);
        cJSON_Delete(o);
    } else {
        printf("%s", first ? "" : "\n");
        print_text(path, info, w);
    }
    dws_onnx_free(m);
    return 0;
}

int cmd_inspect(int argc, char **argv)
{
    inspect_opts o;
    int status = cli_parse(&cli_inspect, argc, argv, &o);
    if (status >= 0) return status;
    int rejected = 0;
    for (int k = 0; k < o.files.n; k++) rejected += inspect_one(o.files.v[k], o.json, o.files.n > 1, k == 0);
    fflush(stdout);
    return rejected ? 1 : 0;
}
