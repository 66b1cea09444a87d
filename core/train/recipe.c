#include "train.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"

/* Independent random streams derived from a recipe's seed. */
enum { STREAM_INIT = 0, STREAM_SUBSET = 1, STREAM_SHUFFLE = 2 };

dws_recipe dws_recipe_reference(void)
{
    dws_recipe r = {.n_hidden = 2, .hidden = {128, 128}, .epochs = 10, .batch_size = 128, .seed = 0};
    r.optim = dws_optim_defaults(DWS_OPT_ADAM, 1e-3f);
    return r;
}

dws_activation dws_recipe_activation(const dws_recipe *r)
{
    return r->activation == DWS_ACT_IDENTITY ? DWS_ACT_RELU : r->activation;
}

cJSON *dws_recipe_to_json(const dws_recipe *r)
{
    cJSON *o = cJSON_CreateObject(), *h = cJSON_AddArrayToObject(o, "hidden");
    for (int i = 0; i < r->n_hidden; i++) cJSON_AddItemToArray(h, cJSON_CreateNumber((double)r->hidden[i]));
    dws_activation act = dws_recipe_activation(r);
    if (act != DWS_ACT_RELU) cJSON_AddStringToObject(o, "activation", dws_activation_name(act));
    if (act == DWS_ACT_LEAKY_RELU) cJSON_AddNumberToObject(o, "leaky_relu_slope", dws_float_decimal(r->leaky_slope));
    cJSON_AddStringToObject(o, "optimizer", dws_optimizer_name(r->optim.kind));
    cJSON_AddNumberToObject(o, "lr", dws_float_decimal(r->optim.lr));
    if (r->optim.kind == DWS_OPT_SGD) cJSON_AddNumberToObject(o, "momentum", dws_float_decimal(r->optim.momentum));
    cJSON_AddNumberToObject(o, "weight_decay", dws_float_decimal(r->optim.weight_decay));
    cJSON_AddNumberToObject(o, "epochs", r->epochs);
    cJSON_AddNumberToObject(o, "batch_size", r->batch_size);
    cJSON_AddNumberToObject(o, "subset", r->subset);
    char seed_text[24];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)r->seed);
    cJSON_AddRawToObject(o, "seed", seed_text);   /* exact: a double would round 64-bit seeds */
    return o;
}

int dws_recipe_train(const dws_recipe *r, const dws_samples *train, int n_classes, dws_mlp *out,
                     dws_train_progress *res, dws_error *err)
{
    int64_t widths[DWS_MAX_LAYERS + 1];
    if (r->n_hidden < 0 || r->n_hidden > DWS_MAX_LAYERS - 1) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "%d hidden layers", r->n_hidden);
        return -1;
    }
    dws_activation act = dws_recipe_activation(r);
    widths[0] = (int64_t)train->dim;
    for (int i = 0; i < r->n_hidden; i++) widths[i + 1] = r->hidden[i];
    widths[r->n_hidden + 1] = n_classes;
    if (dws_mlp_init(out, r->n_hidden + 1, widths, err)) return -1;
    for (int l = 0; l < r->n_hidden; l++) {
        out->act[l] = act;
        if (act == DWS_ACT_LEAKY_RELU) out->leaky_alpha[l] = r->leaky_slope;
    }
    dws_rng rng;
    dws_rng_seed_stream(&rng, r->seed, STREAM_INIT);
    dws_mlp_init_default(out, &rng);

    dws_samples data = *train;
    uint32_t *rows = NULL;
    if (r->subset && r->subset < train->n) {
        /* A seeded sample without replacement: the head of a partial Fisher-Yates shuffle. */
        rows = malloc(train->n * sizeof(uint32_t));
        if (!rows) {
            dws_mlp_free(out);
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate a subset of %u rows", r->subset);
            return -1;
        }
        for (uint32_t i = 0; i < train->n; i++) rows[i] = train->rows ? train->rows[i] : i;
        dws_rng_seed_stream(&rng, r->seed, STREAM_SUBSET);
        for (uint32_t i = 0; i < r->subset; i++) {
            uint32_t j = i + (uint32_t)dws_rng_below(&rng, train->n - i);
            uint32_t t = rows[i];
            rows[i] = rows[j];
            rows[j] = t;
        }
        data.rows = rows;
        data.n = r->subset;
    }
    dws_train_config cfg = {.optim = r->optim, .epochs = r->epochs, .batch_size = r->batch_size,
                            .seed = dws_mix64(r->seed ^ STREAM_SHUFFLE)};
    int rc = dws_mlp_train(out, &data, &cfg, res, err);
    free(rows);
    if (rc) dws_mlp_free(out);
    return rc;
}
