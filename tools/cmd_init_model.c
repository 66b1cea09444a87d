/* dwsnet init-model: writes a freshly initialised (untrained) adapter or encoder
 * model file: for tests, and as the starting point of training. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_io.h"
#include "commands.h"
#include "options_table.h"
#include "model/model.h"
#include "ws/ws.h"

#define CMD "init-model"

int cmd_init_model(int argc, char **argv)
{
    init_model_opts o;
    int status = cli_parse(&cli_init_model, argc, argv, &o);
    if (status >= 0) return status;
    if (o.alpha_seen && o.kind != DWS_MODEL_ADAPTER) return cli_usage_error(&cli_init_model, "--alpha is for adapters");
    /* The adapter's defaults whatever the kind: an encoder made here reads no width features. */
    dws_arch a;
    dws_arch_default(&a, DWS_MODEL_ADAPTER);
    a.kind = (dws_model_kind)o.kind;
    a.channels = (int)o.channels;
    a.n_dws_layers = (int)o.layers;
    a.d0 = o.d0;
    a.dL = o.dL;
    a.depth = (int)o.depth;
    a.embed_dim = (int)o.embed_dim;
    a.mlp_hidden = (int)o.mlp_hidden;
    if (o.cond_dim && a.kind != DWS_MODEL_ADAPTER) return cli_usage_error(&cli_init_model, "--cond-dim is for adapters");
    if (o.cond_dim) dws_arch_condition_on_domains(&a, (int)o.cond_dim);
    if (o.image_seen) a.image = o.image;
    else if (a.d0 != 3072) a.image = (dws_image_shape){0, 0, 0};
    a.input_map = (int)o.input_map;
    const char *kind = a.kind == DWS_MODEL_ADAPTER ? "adapter" : "encoder";
    char default_id[32];
    snprintf(default_id, sizeof default_id, "untrained-%s", kind);
    dws_error err;
    dws_net net;
    if (dws_net_init(&net, &a, (uint64_t)o.seed, &err) != 0) return cli_fail(CMD, &err);
    if (o.alpha_seen)
        for (int k = 0; k < 2 * a.depth; k++) net.params[net.alpha + (size_t)k] = o.alpha;
    if (o.alpha_seen && a.cond_dim) {   /* FiLM maps that make every condition differ */
        dws_rng rng;
        dws_rng_seed(&rng, (uint64_t)o.seed + 1);
        size_t from = net.cond_scale[0], to = net.cond_alpha;   /* the maps, laid out after the embeddings */
        for (size_t i = from; i < to; i++) net.params[i] = 0.3f * (float)dws_rng_normal(&rng) / sqrtf((float)a.cond_dim);
    }
    if (o.alpha_seen && a.input_map) {   /* a map that mixes the planes, and a shift, for every condition */
        dws_rng rng;
        dws_rng_seed(&rng, (uint64_t)o.seed + 2);
        const dws_param_tensor *t[] = {dws_param_table_find(&net.table, "adapter.inmap.mix"),
                                       dws_param_table_find(&net.table, "adapter.inmap.shift"),
                                       dws_param_table_find(&net.table, "cond.inmap.mix"),
                                       dws_param_table_find(&net.table, "cond.inmap.shift")};
        for (int j = 0; j < 4; j++)
            for (size_t i = 0; t[j] && i < t[j]->count; i++)
                net.params[t[j]->offset + i] = 0.05f * (float)dws_rng_normal(&rng);
    }
    dws_model_info info = {.id = o.id ? o.id : default_id};
    dws_model *m = dws_model_from_net(&net, &info, &err);
    if (!m) {
        dws_net_free(&net);
        return cli_fail(CMD, &err);
    }
    size_t n_params = dws_model_net(m)->n_params;
    int rc = dws_model_save(m, o.out, &err);
    if (rc == 0) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "id", dws_model_id(m));
        cJSON_AddStringToObject(j, "kind", kind);
        cJSON_AddNumberToObject(j, "parameters", (double)n_params);
        cJSON_AddStringToObject(j, "path", o.out);
        cli_print_json(j);
    }
    dws_model_free(m);
    return rc == 0 ? 0 : cli_fail(CMD, &err);
}
