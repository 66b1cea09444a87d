#include "train.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define FORMAT "dwsnet-checkpoint"

static dws_named_tensor tensor(const char *name, float *data, size_t n)
{
    dws_named_tensor t = {.ndim = 1, .shape = {(int64_t)n}, .count = n, .data = data};
    strcpy(t.name, name);
    return t;
}

int dws_checkpoint_save(const char *path, const dws_net *net, const dws_adamw *opt, int64_t step,
                        const char *config_json, dws_error *err)
{
    cJSON *card = cJSON_CreateObject(), *config = cJSON_Parse(config_json);
    if (!card || !config) {
        cJSON_Delete(card);
        cJSON_Delete(config);
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "checkpoint config is not JSON");
        return -1;
    }
    cJSON_AddStringToObject(card, "format", FORMAT);
    cJSON_AddNumberToObject(card, "step", (double)step);
    cJSON_AddNumberToObject(card, "optim_step", (double)opt->opt.step);
    cJSON_AddItemToObject(card, "config", config);
    char *text = cJSON_PrintUnformatted(card);
    cJSON_Delete(card);
    size_t n_norm = 2 * (size_t)net->arch.depth;
    dws_named_tensor t[5] = {
        tensor("params", net->params, net->n_params),
        tensor("adam.m", opt->opt.m, net->n_params),
        tensor("adam.v", opt->opt.v, net->n_params),
        tensor("input_norm.mean", (float *)net->norm_mean, n_norm),
        tensor("input_norm.std", (float *)net->norm_std, n_norm),
    };
    int rc = text ? dws_model_file_write(path, text, t, 5, err) : -1;
    if (!text) dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot render the checkpoint card");
    free(text);
    return rc;
}

static int restore(const dws_model_file *f, const char *name, float *dst, size_t n, dws_error *err)
{
    const dws_named_tensor *t = dws_model_file_find(f, name);
    if (!t || t->count != n) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "checkpoint tensor %s is missing or not %zu floats", name, n);
        return -1;
    }
    memcpy(dst, t->data, sizeof(float) * n);
    return 0;
}

int dws_checkpoint_load(const char *path, dws_net *net, dws_adamw *opt, int64_t *step, const char *config_json,
                        dws_error *err)
{
    dws_model_file f;
    if (dws_model_file_read(path, &f, err) != 0) return -1;
    cJSON *card = cJSON_Parse(f.card_json), *want = cJSON_Parse(config_json);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(card, "format");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(card, "step");
    const cJSON *ost = cJSON_GetObjectItemCaseSensitive(card, "optim_step");
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(card, "config");
    int rc = -1;
    size_t n_norm = 2 * (size_t)net->arch.depth;
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, FORMAT) || !cJSON_IsNumber(st) || st->valuedouble < 0 ||
        !cJSON_IsNumber(ost) || ost->valuedouble < 0) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "%s is not a training checkpoint", path);
    } else if (!want || !cJSON_Compare(cfg, want, 1)) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL,
                      "%s was taken with other settings (zoo, architecture or training options); rerun with the "
                      "same ones or without --resume",
                      path);
    } else if (restore(&f, "params", net->params, net->n_params, err) == 0 &&
               restore(&f, "adam.m", opt->opt.m, net->n_params, err) == 0 &&
               restore(&f, "adam.v", opt->opt.v, net->n_params, err) == 0 &&
               restore(&f, "input_norm.mean", net->norm_mean, n_norm, err) == 0 &&
               restore(&f, "input_norm.std", net->norm_std, n_norm, err) == 0) {
        *step = (int64_t)st->valuedouble;
        opt->opt.step = (int64_t)ost->valuedouble;
        rc = 0;
    }
    cJSON_Delete(card);
    cJSON_Delete(want);
    dws_model_file_free(&f);
    return rc;
}
