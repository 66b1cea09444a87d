/* dwsnet train-adapter: trains a DWSNet adapter on a zoo of classifiers
 * (core/learn/learn.h) and writes the best model by validation score, with its
 * card (settings, zoo and data hashes, domain, validation metrics), a CSV of the
 * training curves and a resumable checkpoint. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "learn/learn.h"
#include "data/data.h"
#include "cli_io.h"
#include "data_cli.h"
#include "model/model.h"
#include "ws/ws.h"
#include "zoo/zoo.h"

#define CMD "train-adapter"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dwsnet train-adapter --zoo DIR --out FILE.dws [options]\n\n"
            "Trains a DWSNet adapter: batches of same-width training classifiers of the zoo are\n"
            "adapted, scored on batches of corrupted training images (fresh noise every step)\n"
            "and the cross-entropy is back-propagated into the adapter (AdamW, warm-up + cosine).\n"
            "The zoo's val classifiers are scored on the last --val-images training images\n"
            "(never in a training batch); the best model by that score is written to FILE.dws.\n\n"
            "  --data DIR          CIFAR-10 folder ($DWSNET_DATA)\n"
            "  --domain SPEC       target domain (" DWS_DEFAULT_DOMAIN ")\n"
            "  --id NAME           model id (cifar10c-adapter)\n"
            "  --channels C        hidden DWS channels (8)      --layers N   DWS layers (3)\n"
            "  --steps N           optimisation steps (or --epochs E over the training zoo)\n"
            "  --batch-nets B      classifiers per step (4)     --batch-images N  images per step (128)\n"
            "  --lr X (1e-3)  --wd X (1e-4)  --clip X (1)  --warmup-frac X (0.05)\n"
            "  --val-every N       steps between validations (one epoch)\n"
            "  --val-images N      held-out images for validation (2000)\n"
            "  --limit-train N, --limit-val N   use only the first N classifiers of a split\n"
            "  --seed S (0)  --threads N (2)\n"
            "  --resume            continue from FILE.dws.ckpt when it exists\n"
            "  --no-template-conv, --no-position-embedding   ablations: hold that part at zero\n"
            "Writes FILE.dws, FILE.dws.ckpt (checkpoint) and FILE.csv (curves); progress on\n"
            "stderr; prints a JSON summary on stdout.\n");
}

typedef struct {
    const char *out, *id, *domain_spec, *zoo_dir;
    const dws_adapter_train_config *cfg;
    const dws_zoo_set *train, *val;
    const dws_net *net;
    uint32_t data_crc;
    int64_t min_w, max_w;
    FILE *csv;
    double best_before, best_after;
} run_ctx;

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

static char *training_json(const run_ctx *c, const dws_net *net, const dws_train_progress *p)
{
    const dws_adapter_train_config *g = c->cfg;
    char crc[16], dcrc[16];
    snprintf(crc, sizeof crc, "%08x", c->train->index_crc32);
    snprintf(dcrc, sizeof dcrc, "%08x", c->data_crc);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "zoo", c->zoo_dir);
    cJSON_AddStringToObject(t, "zoo_index_crc32", crc);
    cJSON_AddStringToObject(t, "train_images_crc32", dcrc);
    cJSON_AddNumberToObject(t, "train_classifiers", c->train->n);
    cJSON_AddNumberToObject(t, "val_classifiers", c->val->n);
    cJSON_AddStringToObject(t, "domain", c->domain_spec);
    cJSON_AddNumberToObject(t, "channels", net->arch.channels);
    cJSON_AddNumberToObject(t, "dws_layers", net->arch.n_dws_layers);
    cJSON_AddNumberToObject(t, "parameters", (double)net->n_params);
    cJSON_AddBoolToObject(t, "template_conv", !g->no_template_conv);
    cJSON_AddBoolToObject(t, "position_embedding", !g->no_position_embedding);
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
static int save_model(const run_ctx *c, const dws_net *net, const dws_train_progress *p, dws_error *err)
{
    dws_net copy;
    if (dws_net_init(&copy, &net->arch, 0, err) != 0) return -1;
    memcpy(copy.params, net->params, sizeof(float) * net->n_params);
    memcpy(copy.norm_mean, net->norm_mean, sizeof net->norm_mean);
    memcpy(copy.norm_std, net->norm_std, sizeof net->norm_std);
    dws_model_info info = {.id = c->id, .target_domain = c->domain_spec, .min_width = c->min_w, .max_width = c->max_w};
    dws_model *m = dws_model_from_net(&copy, &info, err);
    if (!m) {
        dws_net_free(&copy);
        return -1;
    }
    char *tj = training_json(c, net, p);
    int rc = tj ? dws_model_set_card_entry(m, "training", tj, err) : -1;
    if (rc == 0) rc = dws_model_save(m, c->out, err);
    free(tj);
    dws_model_free(m);
    return rc;
}

/* A better model is saved, then the progress line and curves row written. */
static int on_progress(void *ctx, const dws_train_progress *p, dws_error *err)
{
    run_ctx *c = ctx;
    if (p->improved) {
        c->best_before = p->val_before;
        c->best_after = p->val_after;
        if (save_model(c, c->net, p, err) != 0) return -1;
    }
    double epoch = (double)p->step * c->cfg->batch_nets / c->train->n;
    fprintf(stderr, "step %lld/%lld  epoch %.1f  lr %.2e  loss %.4f  acc %.3f", (long long)p->step,
            (long long)c->cfg->steps, epoch, p->lr, p->loss, p->acc);
    if (p->validated)
        fprintf(stderr, "  val %.4f -> %.4f (best %.4f @%lld)", p->val_before, p->val_after, p->best_val,
                (long long)p->best_step);
    fprintf(stderr, "  %.0fs  eta %.0fs\n", p->elapsed, p->eta);
    if (c->csv) {
        fprintf(c->csv, "%lld,%.3f,%.6g,%.5f,%.5f,", (long long)p->step, epoch, p->lr, p->loss, p->acc);
        if (p->validated) fprintf(c->csv, "%.5f,%.5f\n", p->val_before, p->val_after);
        else fprintf(c->csv, ",\n");
        fflush(c->csv);
    }
    return 0;
}

static uint32_t images_crc(const dws_image_set *s)
{
    uLong crc = crc32(0L, s->labels, (uInt)s->n);
    for (size_t i = 0; i < s->n; i++) crc = crc32(crc, s->pixels + i * s->dim, (uInt)s->dim);
    return (uint32_t)crc;
}

int cmd_train_adapter(int argc, char **argv)
{
    const char *zoo = NULL, *data = NULL, *out = NULL, *id = "cifar10c-adapter", *domain = DWS_DEFAULT_DOMAIN;
    dws_adapter_train_config cfg;
    dws_adapter_train_defaults(&cfg);
    cfg.threads = 2;
    dws_arch arch;
    dws_arch_default(&arch, DWS_MODEL_ADAPTER);
    arch.channels = 8;
    arch.n_dws_layers = 3;
    long v, limit_train = 0, limit_val = 0, steps = 0, val_every = 0;
    double epochs = 0, x, warmup_frac = 0.05;
    uint64_t seed = 0;
    int resume = 0;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(f, "--resume")) {
            resume = 1;
            continue;
        }
        if (!strcmp(f, "--no-template-conv")) {
            cfg.no_template_conv = 1;
            continue;
        }
        if (!strcmp(f, "--no-position-embedding")) {
            cfg.no_position_embedding = 1;
            continue;
        }
        if (i + 1 >= argc) return data_cli_usage(CMD, "unknown or incomplete option '%s'", f);
        const char *a = argv[++i];
        int rc = 0;
        if (!strcmp(f, "--zoo")) zoo = a;
        else if (!strcmp(f, "--data")) data = a;
        else if (!strcmp(f, "--out")) out = a;
        else if (!strcmp(f, "--id")) id = a;
        else if (!strcmp(f, "--domain")) domain = a;
        else if (!strcmp(f, "--channels")) rc = data_cli_long(CMD, f, a, 1, 256, &v), arch.channels = (int)v;
        else if (!strcmp(f, "--layers")) rc = data_cli_long(CMD, f, a, 1, DWS_MAX_DWS_LAYERS, &v), arch.n_dws_layers = (int)v;
        else if (!strcmp(f, "--steps")) rc = data_cli_long(CMD, f, a, 1, 100000000, &steps);
        else if (!strcmp(f, "--epochs")) rc = data_cli_double(CMD, f, a, 0.001, 100000, &epochs);
        else if (!strcmp(f, "--batch-nets")) rc = data_cli_long(CMD, f, a, 1, 64, &v), cfg.batch_nets = (int)v;
        else if (!strcmp(f, "--batch-images")) rc = data_cli_long(CMD, f, a, 1, 65536, &v), cfg.batch_images = (int)v;
        else if (!strcmp(f, "--lr")) rc = data_cli_double(CMD, f, a, 1e-8, 10, &x), cfg.lr = (float)x;
        else if (!strcmp(f, "--wd")) rc = data_cli_double(CMD, f, a, 0, 10, &x), cfg.weight_decay = (float)x;
        else if (!strcmp(f, "--clip")) rc = data_cli_double(CMD, f, a, 0, 1e6, &x), cfg.clip = (float)x;
        else if (!strcmp(f, "--warmup-frac")) rc = data_cli_double(CMD, f, a, 0, 1, &warmup_frac);
        else if (!strcmp(f, "--val-every")) rc = data_cli_long(CMD, f, a, 1, 100000000, &val_every);
        else if (!strcmp(f, "--val-images")) rc = data_cli_long(CMD, f, a, 1, 1000000, &v), cfg.val_images = (int)v;
        else if (!strcmp(f, "--limit-train")) rc = data_cli_long(CMD, f, a, 1, DWS_ZOO_MAX_COUNT, &limit_train);
        else if (!strcmp(f, "--limit-val")) rc = data_cli_long(CMD, f, a, 1, DWS_ZOO_MAX_COUNT, &limit_val);
        else if (!strcmp(f, "--seed")) rc = data_cli_u64(CMD, f, a, &seed);
        else if (!strcmp(f, "--threads")) rc = data_cli_long(CMD, f, a, 1, 64, &v), cfg.threads = (int)v;
        else return data_cli_usage(CMD, "unknown option '%s'", f);
        if (rc != 0) return 2;
    }
    if (!zoo || !out) {
        usage(stderr);
        return data_cli_usage(CMD, "--zoo and --out are required");
    }
    if (!steps == !(epochs > 0)) return data_cli_usage(CMD, "give exactly one of --steps and --epochs");
    if (!data) data = dws_data_dir_from_env();
    if (!data) return data_cli_usage(CMD, "--data DIR is required (or set DWSNET_DATA)");
    dws_error err;
    if (dws_domain_parse(domain, &cfg.domain, &err) != 0) return cli_fail(CMD, &err);
    char canon[256];
    dws_domain_format(&cfg.domain, canon, sizeof canon);
    cfg.seed = seed;

    dws_zoo_set train = {0}, val = {0};
    dws_image_set images = {0};
    dws_net net = {0};
    FILE *csv = NULL;
    int rc = dws_zoo_set_load(zoo, 1u << DWS_ZOO_TRAIN, (int)limit_train, &train, &err);
    if (rc == 0) rc = dws_zoo_set_load(zoo, 1u << DWS_ZOO_VAL, (int)limit_val, &val, &err);
    if (rc == 0) rc = dws_cifar10_load_split(data, DWS_SPLIT_TRAIN, &images, &err);
    if (rc == 0 && (train.n == 0 || val.n == 0)) {
        dws_error_set(&err, DWS_E_BAD_DATA, "%s has %d training and %d validation classifiers; both are needed", zoo,
                      train.n, val.n);
        rc = -1;
    }
    if (rc == 0) rc = dws_net_init(&net, &arch, seed, &err);
    if (rc == 0) rc = dws_adapter_set_norm(&net, &train, &err);
    if (rc == 0) {
        int64_t per_epoch = (train.n + cfg.batch_nets - 1) / cfg.batch_nets;
        cfg.steps = steps ? steps : (int64_t)(epochs * (double)per_epoch + 0.5);
        if (cfg.steps < 1) cfg.steps = 1;
        cfg.warmup = (int64_t)(warmup_frac * (double)cfg.steps);
        cfg.val_every = val_every ? val_every : per_epoch;
    }
    char ckpt[4096], csv_path[4096];
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", out);
    cli_sibling_path(out, ".dws", ".csv", csv_path, sizeof csv_path);
    if (rc == 0) {
        FILE *probe = resume ? fopen(ckpt, "rb") : NULL;
        int continuing = probe != NULL;
        if (probe) fclose(probe);
        csv = fopen(csv_path, continuing ? "a" : "w");
        if (!csv) {
            dws_error_set(&err, DWS_E_IO, "cannot write %s", csv_path);
            rc = -1;
        } else if (!continuing) {
            fprintf(csv, "step,epoch,lr,train_loss,train_acc,val_before,val_after\n");
        }
    }
    run_ctx ctx = {.out = out, .id = id, .domain_spec = canon, .zoo_dir = zoo, .cfg = &cfg, .train = &train,
                   .val = &val, .net = &net, .csv = csv};
    if (rc == 0) {
        ctx.data_crc = images_crc(&images);
        width_range(&train, &ctx.min_w, &ctx.max_w);
        fprintf(stderr,
                "dwsnet " CMD ": %d training / %d validation classifiers, %zu parameters, %lld steps "
                "(validation every %lld), data crc %08x\n",
                train.n, val.n, net.n_params, (long long)cfg.steps, (long long)cfg.val_every, ctx.data_crc);
    }
    dws_adapter_train_hooks hooks = {.progress = on_progress,
                                     .report_every = cfg.val_every / 4 > 0 ? cfg.val_every / 4 : 1,
                                     .checkpoint = ckpt, .resume = resume, .ctx = &ctx};
    dws_train_progress fin = {0};
    if (rc == 0) rc = dws_adapter_train(&net, &train, &val, &images, &cfg, &hooks, &fin, &err);
    if (csv) fclose(csv);
    if (rc == 0)
        printf("{\"model\":\"%s\",\"curves\":\"%s\",\"steps\":%lld,\"best_step\":%lld,\"val_acc_before\":%.5f,"
               "\"val_acc_best\":%.5f,\"seconds\":%.1f}\n",
               out, csv_path, (long long)fin.step, (long long)fin.best_step, fin.val_before, fin.best_val, fin.elapsed);
    dws_net_free(&net);
    dws_zoo_set_free(&train);
    dws_zoo_set_free(&val);
    dws_image_set_free(&images);
    return rc == 0 ? 0 : cli_fail(CMD, &err);
}
