/* An adapter training run from folders to a model file: dws_adapter_train with the
 * data loading, model saving, card and curves around it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "learn.h"
#include "model/model.h"

typedef struct {
    const dws_adapter_run_config *c;
    const dws_adapter_train_config *cfg;   /* with steps, warmup and val_every set */
    const dws_adapter_run_hooks *hooks;
    dws_adapter_run_info *info;
    const dws_zoo_set *train, *val;
    const dws_net *net;                    /* being trained */
    char domain[256];                      /* canonical */
    int64_t min_w, max_w;
    char extra_crc32[96];                  /* the extra zoos' index CRCs, comma-separated */
    FILE *csv;
} run_ctx;

/* The smallest and largest hidden width of the classifiers. */
static void width_range(const dws_zoo_set *s, int64_t *lo, int64_t *hi)
{
    *lo = INT64_MAX;
    *hi = 0;
    for (int i = 0; i < s->n; i++)
        for (int l = 1; l < s->m[i].mlp.n_layers; l++) {
            int64_t w = s->m[i].mlp.widths[l];
            *lo = w < *lo ? w : *lo;
            *hi = w > *hi ? w : *hi;
        }
    if (*hi == 0) *lo = 0;
}

static uint32_t images_crc(const dws_image_set *s)
{
    uLong crc = crc32(0L, s->labels, (uInt)s->n);
    for (size_t i = 0; i < s->n; i++) crc = crc32(crc, s->pixels + i * s->dim, (uInt)s->dim);
    return (uint32_t)crc;
}

/* dst += src's members (moved; src is left empty). */
static int zoo_set_join(dws_zoo_set *dst, dws_zoo_set *src, dws_error *err)
{
    dws_zoo_member *m = realloc(dst->m, sizeof *m * (size_t)(dst->n + src->n + 1));
    if (!m) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot join two zoos");
        return -1;
    }
    memcpy(m + dst->n, src->m, sizeof *m * (size_t)src->n);
    dst->m = m;
    dst->n += src->n;
    src->n = 0;
    dws_zoo_set_free(src);
    return 0;
}

#define MAX_EXTRA_ZOOS 4

/* The train and val splits of every zoo of dirs ("DIR[,DIR...]") joined to *train
 * and *val; crcs gets their indexes' CRCs, comma-separated. */
static int load_extra_zoos(const char *dirs, int limit_train, int limit_val, dws_zoo_set *train, dws_zoo_set *val,
                           char *crcs, size_t cap, dws_error *err)
{
    int rc = 0, n = 0;
    crcs[0] = 0;
    for (const char *p = dirs; *p && rc == 0; n++) {
        size_t len = strcspn(p, ",");
        char dir[4096];
        if (n == MAX_EXTRA_ZOOS || len == 0 || len >= sizeof dir) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "extra zoos '%s': 1 to %d folders, comma-separated", dirs,
                          MAX_EXTRA_ZOOS);
            return -1;
        }
        memcpy(dir, p, len);
        dir[len] = 0;
        p += len + (p[len] == ',');
        dws_zoo_set t = {0}, v = {0};
        rc = dws_zoo_set_load(dir, 1u << DWS_ZOO_TRAIN, limit_train, &t, err);
        if (rc == 0) rc = dws_zoo_set_load(dir, 1u << DWS_ZOO_VAL, limit_val, &v, err);
        size_t at = strlen(crcs);
        snprintf(crcs + at, cap - at, "%s%08x", n ? "," : "", t.index_crc32);
        if (rc == 0) rc = zoo_set_join(train, &t, err);
        if (rc == 0) rc = zoo_set_join(val, &v, err);
        dws_zoo_set_free(&t);
        dws_zoo_set_free(&v);
    }
    return rc;
}

/* "W1,W2,...": the draw weight of classifiers with 1, 2, ... hidden layers, into
 * w[hidden + 1] (weight layers). */
static int parse_depth_weights(const char *text, float *w, dws_error *err)
{
    const char *p = text;
    for (int hidden = 1; *p; hidden++) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !(v > 0 && v <= 1000) || hidden + 1 > DWS_MAX_LAYERS || (*end && *end != ',')) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "hidden layer weights '%s': give up to %d numbers in (0, 1000], "
                          "comma-separated", text, DWS_MAX_LAYERS - 1);
            return -1;
        }
        w[hidden + 1] = (float)v;
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* The card's "training" entry. */
static char *training_json(const run_ctx *r, const dws_net *net, const dws_train_progress *p)
{
    const dws_adapter_train_config *g = r->cfg;
    char crc[16], dcrc[16];
    snprintf(crc, sizeof crc, "%08x", r->train->index_crc32);
    snprintf(dcrc, sizeof dcrc, "%08x", r->info->data_crc32);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "zoo", r->c->zoo_dir);
    cJSON_AddStringToObject(t, "zoo_index_crc32", crc);
    if (r->c->extra_zoo_dir) {
        cJSON_AddStringToObject(t, "extra_zoo", r->c->extra_zoo_dir);
        cJSON_AddStringToObject(t, "extra_zoo_index_crc32", r->extra_crc32);
    }
    cJSON_AddStringToObject(t, "train_images_crc32", dcrc);
    if (r->c->hidden_layer_weights) cJSON_AddStringToObject(t, "hidden_layer_weights", r->c->hidden_layer_weights);
    cJSON_AddNumberToObject(t, "train_classifiers", r->train->n);
    cJSON_AddNumberToObject(t, "val_classifiers", r->val->n);
    cJSON_AddStringToObject(t, "domain", r->net->arch.cond_dim ? "all (the domain mix)" : r->domain);
    if (r->net->arch.cond_dim) {
        cJSON *mix = cJSON_AddObjectToObject(t, "domain_mix");
        dws_domain_mix_json(&g->mix, mix);
        cJSON_AddStringToObject(mix, "singles", "uniform over the 19 types x severities 1-5");
        cJSON_AddStringToObject(mix, "any", "chunks of 16 images, each chunk through its own named domain");
    }
    if (r->c->init_from) cJSON_AddStringToObject(t, "init_from", r->c->init_from);
    cJSON_AddNumberToObject(t, "channels", net->arch.channels);
    cJSON_AddNumberToObject(t, "dws_layers", net->arch.n_dws_layers);
    cJSON_AddNumberToObject(t, "parameters", (double)net->n_params);
    cJSON_AddBoolToObject(t, "template_conv", !g->no_template_conv);
    cJSON_AddBoolToObject(t, "position_embedding", !g->no_position_embedding);
    cJSON_AddNumberToObject(t, "input_map", net->arch.input_map);
    cJSON_AddNumberToObject(t, "steps", (double)g->steps);
    cJSON_AddNumberToObject(t, "step", (double)p->step);
    cJSON_AddNumberToObject(t, "warmup_steps", (double)g->warmup);
    cJSON_AddNumberToObject(t, "batch_nets", g->batch_nets);
    cJSON_AddNumberToObject(t, "batch_images", g->batch_images);
    cJSON_AddNumberToObject(t, "lr", g->lr);
    cJSON_AddNumberToObject(t, "weight_decay", g->weight_decay);
    cJSON_AddNumberToObject(t, "clip", g->clip);
    cJSON_AddNumberToObject(t, "seed", (double)g->seed);
    cJSON_AddNumberToObject(t, "val_images", g->val_images);
    cJSON_AddStringToObject(t, "schedule", "AdamW, linear warm-up then cosine decay to 0");
    cJSON_AddNumberToObject(t, "val_acc_before", p->val_before);
    cJSON_AddNumberToObject(t, "val_acc_after", p->val_after);
    cJSON_AddNumberToObject(t, "seconds", p->elapsed);
    char *s = cJSON_PrintUnformatted(t);
    cJSON_Delete(t);
    return s;
}

/* Writes the model of net's current parameters (a copy; training goes on). */
static int save_model(const run_ctx *r, const dws_net *net, const dws_train_progress *p, dws_error *err)
{
    dws_net copy;
    if (dws_net_init(&copy, &net->arch, 0, err) != 0) return -1;
    memcpy(copy.params, net->params, sizeof(float) * net->n_params);
    memcpy(copy.norm_mean, net->norm_mean, sizeof net->norm_mean);
    memcpy(copy.norm_std, net->norm_std, sizeof net->norm_std);
    dws_model_info info = {.id = r->c->id, .target_domain = r->domain, .min_width = r->min_w, .max_width = r->max_w};
    dws_model *m = dws_model_from_net(&copy, &info, err);
    if (!m) {
        dws_net_free(&copy);
        return -1;
    }
    char *tj = training_json(r, net, p);
    int rc = tj ? dws_model_set_card_entry(m, "training", tj, err) : -1;
    if (rc == 0) rc = dws_model_save(m, r->c->out, err);
    free(tj);
    dws_model_free(m);
    return rc;
}

/* Warm start: net's tensors that the adapter in `path` has with the same name and
 * size, and its input normalisation. */
static int init_from(dws_net *net, const char *path, dws_error *err)
{
    dws_model *m = dws_model_load(path, err);
    if (!m) return -1;
    const dws_net *src = dws_model_net(m);
    int copied = 0;
    for (int i = 0; i < net->table.n; i++) {
        const dws_param_tensor *t = &net->table.t[i], *s = dws_param_table_find(&src->table, t->name);
        if (!s || s->count != t->count) continue;
        memcpy(net->params + t->offset, src->params + s->offset, sizeof(float) * t->count);
        copied++;
    }
    int rc = 0;
    if (src->arch.depth != net->arch.depth || !copied) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "%s: not an adapter of this architecture to start from", path);
        rc = -1;
    } else {
        memcpy(net->norm_mean, src->norm_mean, sizeof net->norm_mean);
        memcpy(net->norm_std, src->norm_std, sizeof net->norm_std);
        /* From an adapter of one depth: the tied maps start from its hidden axes' maps. */
        if (net->arch.depth_max && !src->arch.depth_max) dws_depth_seed(net);
    }
    dws_model_free(m);
    return rc;
}

double dws_adapter_run_epoch(const dws_adapter_run_config *c, const dws_adapter_run_info *info, int64_t step)
{
    return info->n_train ? (double)step * c->train.batch_nets / info->n_train : 0;
}

/* A better model is saved, then the caller told and the curves row written. */
static int on_progress(void *ctx, const dws_train_progress *p, dws_error *err)
{
    run_ctx *r = ctx;
    if (p->improved && save_model(r, r->net, p, err) != 0) return -1;
    int rc = r->hooks && r->hooks->progress ? r->hooks->progress(r->hooks->ctx, p, err) : 0;
    double epoch = dws_adapter_run_epoch(r->c, r->info, p->step);
    fprintf(r->csv, "%lld,%.3f,%.6g,%.5f,%.5f,", (long long)p->step, epoch, p->lr, p->loss, p->acc);
    if (p->validated) fprintf(r->csv, "%.5f,%.5f\n", p->val_before, p->val_after);
    else fprintf(r->csv, ",\n");
    fflush(r->csv);
    return rc;
}

int dws_adapter_run(const dws_adapter_run_config *c, const dws_adapter_run_hooks *hooks, dws_adapter_run_info *info,
                    dws_train_progress *final, dws_error *err)
{
    memset(info, 0, sizeof *info);
    memset(final, 0, sizeof *final);
    if (!c->steps == !(c->epochs > 0)) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "give exactly one of steps and epochs");
        return -1;
    }
    dws_adapter_train_config cfg = c->train;
    const int all = !strcmp(c->domain, "all");
    if (dws_domain_parse(all ? DWS_DEFAULT_DOMAIN : c->domain, &cfg.domain, err) != 0) return -1;
    run_ctx r = {.c = c, .cfg = &cfg, .hooks = hooks, .info = info};
    dws_domain_format(&cfg.domain, r.domain, sizeof r.domain);
    dws_arch arch;
    dws_arch_default(&arch, DWS_MODEL_ADAPTER);
    arch.channels = c->channels;
    arch.n_dws_layers = c->n_dws_layers;
    arch.input_map = c->input_map;
    if (all) dws_arch_condition_on_domains(&arch, c->cond_dim > 0 ? c->cond_dim : 16);
    if (c->any_mlp && !all) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "any_mlp needs the domain mix (the activation is a condition)");
        return -1;
    }
    if (c->any_mlp) {   /* 1 to 4 hidden layers, every activation of the table */
        int n_acts;
        dws_cond_activations(&n_acts);
        arch.depth_min = 2;
        arch.depth_max = 5;
        arch.cond_acts = n_acts;
    }
    if (c->emphasise && dws_domain_mix_emphasise(&cfg.mix, c->emphasise, 4.0, err) != 0) return -1;
    if (c->hidden_layer_weights && parse_depth_weights(c->hidden_layer_weights, cfg.depth_weight, err) != 0) return -1;

    dws_zoo_set train = {0}, val = {0};
    dws_image_set images = {0};
    dws_net net = {0};
    r.train = &train;
    r.val = &val;
    r.net = &net;
    int rc = dws_zoo_set_load(c->zoo_dir, 1u << DWS_ZOO_TRAIN, c->limit_train, &train, err);
    if (rc == 0) rc = dws_zoo_set_load(c->zoo_dir, 1u << DWS_ZOO_VAL, c->limit_val, &val, err);
    if (rc == 0 && c->extra_zoo_dir)
        rc = load_extra_zoos(c->extra_zoo_dir, c->limit_train, c->limit_val, &train, &val, r.extra_crc32,
                             sizeof r.extra_crc32, err);
    /* Classifiers trained on standardized inputs: the adapter reads them in that
     * frame, told so by a condition row (a domain-conditioned adapter only). */
    for (int i = 0; rc == 0 && all && i < train.n; i++)
        if (train.m[i].frame != DWS_FRAME_PIXEL) arch.cond_frames = DWS_FRAME_COUNT - 1;
    if (rc == 0) rc = dws_cifar10_load_split(c->data_dir, DWS_SPLIT_TRAIN, &images, err);
    if (rc == 0 && (train.n == 0 || val.n == 0)) {
        dws_error_set(err, DWS_E_BAD_DATA, "%s has %d training and %d validation classifiers; both are needed",
                      c->zoo_dir, train.n, val.n);
        rc = -1;
    }
    if (rc == 0) rc = dws_net_init(&net, &arch, cfg.seed, err);
    if (rc == 0) rc = dws_adapter_set_norm(&net, &train, err);
    if (rc == 0 && c->init_from) rc = init_from(&net, c->init_from, err);
    if (rc == 0) {
        int64_t per_epoch = (train.n + cfg.batch_nets - 1) / cfg.batch_nets;
        cfg.steps = c->steps ? c->steps : (int64_t)(c->epochs * (double)per_epoch + 0.5);
        if (cfg.steps < 1) cfg.steps = 1;
        cfg.warmup = (int64_t)(c->warmup_frac * (double)cfg.steps);
        cfg.val_every = c->val_every ? c->val_every : per_epoch;
    }
    char ckpt[4096];
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", c->out);
    dws_path_sibling(c->out, ".dws", ".csv", info->curves, sizeof info->curves);
    if (rc == 0) {
        FILE *probe = c->resume ? fopen(ckpt, "rb") : NULL;
        int continuing = probe != NULL;
        if (probe) fclose(probe);
        r.csv = fopen(info->curves, continuing ? "a" : "w");
        if (!r.csv) {
            dws_error_set(err, DWS_E_IO, "cannot write %s", info->curves);
            rc = -1;
        } else if (!continuing) {
            fprintf(r.csv, "step,epoch,lr,train_loss,train_acc,val_before,val_after\n");
        }
    }
    if (rc == 0) {
        info->n_train = train.n;
        info->n_val = val.n;
        info->n_params = net.n_params;
        info->steps = cfg.steps;
        info->val_every = cfg.val_every;
        info->data_crc32 = images_crc(&images);
        width_range(&train, &r.min_w, &r.max_w);
        if (hooks && hooks->on_start) hooks->on_start(hooks->ctx, info);
        dws_adapter_train_hooks th = {.progress = on_progress,
                                      .report_every = cfg.val_every / 4 > 0 ? cfg.val_every / 4 : 1,
                                      .checkpoint = ckpt, .resume = c->resume, .ctx = &r};
        rc = dws_adapter_train(&net, &train, &val, &images, &cfg, &th, final, err);
    }
    if (r.csv) fclose(r.csv);
    dws_net_free(&net);
    dws_zoo_set_free(&train);
    dws_zoo_set_free(&val);
    dws_image_set_free(&images);
    return rc;
}
