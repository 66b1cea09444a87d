/* The training checkpoint of every loop (train.h; the format: docs/training.md section 4).
 * Doubles and 64-bit generator words are written so that they read back exactly:
 * 17 significant digits, and hexadecimal strings. */
#include "train.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT "dwsnet-training-checkpoint"

static dws_named_tensor tensor(const char *name, float *data, size_t n)
{
    dws_named_tensor t = {.ndim = 1, .shape = {(int64_t)n}, .count = n, .data = data};
    strcpy(t.name, name);
    return t;
}

/* The tensors of a checkpoint of net and opt; returns how many. */
static int tensors(const dws_net *net, const dws_optim *opt, dws_named_tensor t[5])
{
    size_t n_norm = 2 * (size_t)net->arch.depth;
    int n = 0;
    t[n++] = tensor("params", net->params, net->n_params);
    t[n++] = tensor("input_norm.mean", (float *)net->norm_mean, n_norm);
    t[n++] = tensor("input_norm.std", (float *)net->norm_std, n_norm);
    t[n++] = tensor("optim.m", opt->m, opt->n);
    if (opt->v) t[n++] = tensor("optim.v", opt->v, opt->n);
    return n;
}

static void add_exact(cJSON *o, const char *key, double v)
{
    char text[40];
    snprintf(text, sizeof text, "%.17g", v);
    if (isfinite(v)) cJSON_AddRawToObject(o, key, text);
    else cJSON_AddNullToObject(o, key);
}

static void add_u64(cJSON *a, uint64_t v)
{
    char text[20];
    snprintf(text, sizeof text, "%016" PRIx64, v);
    cJSON_AddItemToArray(a, cJSON_CreateString(text));
}

/* The card around config (taken over, also on failure); NULL when out of memory. */
static char *card_text(const dws_optim *opt, const dws_train_state *st, cJSON *config)
{
    cJSON *card = cJSON_CreateObject();
    if (!card) {
        cJSON_Delete(config);
        return NULL;
    }
    cJSON_AddStringToObject(card, "format", FORMAT);
    cJSON_AddNumberToObject(card, "version", DWS_CHECKPOINT_VERSION);
    cJSON_AddNumberToObject(card, "step", (double)st->step);
    cJSON_AddNumberToObject(card, "best_step", (double)st->best_step);
    add_exact(card, "best_val", st->best_val);
    cJSON *rng = cJSON_AddObjectToObject(card, "rng"), *s = cJSON_AddArrayToObject(rng, "s");
    for (int i = 0; s && i < 4; i++) add_u64(s, st->rng.s[i]);
    cJSON_AddBoolToObject(rng, "has_spare", st->rng.has_spare);
    add_exact(rng, "spare", st->rng.spare);
    cJSON *o = cJSON_AddObjectToObject(card, "optimizer");
    cJSON_AddStringToObject(o, "kind", dws_optimizer_name(opt->cfg.kind));
    cJSON_AddNumberToObject(o, "step", (double)opt->step);
    if (!cJSON_AddItemToObject(card, "config", config)) cJSON_Delete(config);
    char *text = s && o ? cJSON_PrintUnformatted(card) : NULL;
    cJSON_Delete(card);
    return text;
}

int dws_checkpoint_save(const char *path, const dws_net *net, const dws_optim *opt, const dws_train_state *st,
                        const char *config_json, dws_error *err)
{
    cJSON *config = cJSON_Parse(config_json);
    if (!config) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "checkpoint config is not JSON");
        return -1;
    }
    if (opt->n != net->n_params) {
        cJSON_Delete(config);
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "optimiser of %zu parameters for a model of %zu", opt->n,
                      net->n_params);
        return -1;
    }
    char *text = card_text(opt, st, config);
    if (!text) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot render the checkpoint card");
        return -1;
    }
    dws_named_tensor t[5];
    int rc = dws_model_file_write(path, text, t, tensors(net, opt, t), err);
    free(text);
    return rc;
}

/* The format version of a file that is not a current checkpoint: 1 for the two
 * formats before (a raw "DWSCKPT1" file, or a container of "dwsnet-checkpoint"),
 * else the card's "version"; 0 when it is no checkpoint at all. */
static int older_version(const char *path, const cJSON *card)
{
    if (!card) {
        char magic[8] = {0};
        FILE *f = fopen(path, "rb");
        size_t got = f ? fread(magic, 1, sizeof magic, f) : 0;
        if (f) fclose(f);
        return got == sizeof magic && !memcmp(magic, "DWSCKPT1", 8);
    }
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(card, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(card, "version");
    if (!cJSON_IsString(fmt)) return 0;
    if (!strcmp(fmt->valuestring, "dwsnet-checkpoint")) return 1;
    if (strcmp(fmt->valuestring, FORMAT)) return 0;
    return cJSON_IsNumber(ver) ? ver->valueint : 0;
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

static int read_u64(const cJSON *item, uint64_t *v)
{
    char *end;
    if (!cJSON_IsString(item) || strlen(item->valuestring) != 16) return -1;
    *v = strtoull(item->valuestring, &end, 16);
    return *end ? -1 : 0;
}

/* The card's step, best-so-far, generator and optimiser step into st and *opt_step. */
static int read_state(const cJSON *card, dws_train_state *st, int64_t *opt_step)
{
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(card, "step");
    const cJSON *best_step = cJSON_GetObjectItemCaseSensitive(card, "best_step");
    const cJSON *best_val = cJSON_GetObjectItemCaseSensitive(card, "best_val");
    const cJSON *rng = cJSON_GetObjectItemCaseSensitive(card, "rng");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(rng, "s");
    const cJSON *spare = cJSON_GetObjectItemCaseSensitive(rng, "spare");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(card, "optimizer");
    const cJSON *ostep = cJSON_GetObjectItemCaseSensitive(o, "step");
    if (!cJSON_IsNumber(step) || step->valuedouble < 0 || !cJSON_IsNumber(best_step) || !cJSON_IsNumber(ostep) ||
        ostep->valuedouble < 0 || !(cJSON_IsNumber(best_val) || cJSON_IsNull(best_val)) ||
        cJSON_GetArraySize(s) != 4 || !(cJSON_IsNumber(spare) || cJSON_IsNull(spare)))
        return -1;
    dws_train_state r = {.step = (int64_t)step->valuedouble, .best_step = (int64_t)best_step->valuedouble,
                         .best_val = cJSON_IsNumber(best_val) ? best_val->valuedouble : NAN};
    for (int i = 0; i < 4; i++)
        if (read_u64(cJSON_GetArrayItem(s, i), &r.rng.s[i])) return -1;
    r.rng.has_spare = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rng, "has_spare"));
    r.rng.spare = cJSON_IsNumber(spare) ? spare->valuedouble : NAN;
    *st = r;
    *opt_step = (int64_t)ostep->valuedouble;
    return 0;
}

int dws_checkpoint_load(const char *path, dws_net *net, dws_optim *opt, dws_train_state *st, const char *config_json,
                        dws_error *err)
{
    dws_model_file f;
    int read_rc = dws_model_file_read(path, &f, err);
    cJSON *card = read_rc == 0 ? cJSON_Parse(f.card_json) : NULL, *want = cJSON_Parse(config_json);
    int version = read_rc == 0 ? older_version(path, card) : older_version(path, NULL);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(card, "optimizer");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
    int rc = -1;
    int64_t opt_step = 0;
    dws_train_state got;
    dws_named_tensor t[5];
    int n_t = tensors(net, opt, t);
    if (version && version != DWS_CHECKPOINT_VERSION) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE,
                      "%s is a training checkpoint of format version %d; this dwsnet reads version %d only "
                      "(docs/training.md section 4): train again without --resume",
                      path, version, DWS_CHECKPOINT_VERSION);
    } else if (read_rc != 0) {
        /* err is the container's */
    } else if (!version || read_state(card, &got, &opt_step) != 0) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "%s is not a training checkpoint", path);
    } else if (!want || !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(card, "config"), want, 1)) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL,
                      "%s was taken with other settings (zoo, architecture or training options); rerun with the "
                      "same ones or without --resume",
                      path);
    } else if (!cJSON_IsString(kind) || strcmp(kind->valuestring, dws_optimizer_name(opt->cfg.kind))) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "%s holds the state of another optimiser", path);
    } else {
        rc = 0;
        for (int i = 0; i < n_t && rc == 0; i++) rc = restore(&f, t[i].name, t[i].data, t[i].count, err);
    }
    if (rc == 0) {
        *st = got;
        opt->step = opt_step;
    }
    cJSON_Delete(card);
    cJSON_Delete(want);
    dws_model_file_free(&f);
    return rc;
}
