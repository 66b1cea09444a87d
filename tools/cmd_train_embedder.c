/* dwsnet train-embedder: self-supervised (SimCLR / NT-Xent) training of the
 * invariant DWSNet encoder on a zoo's training networks (DWSNET.md sections 5-6). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "data/data.h"
#include "cli_io.h"
#include "model/model.h"
#include "embedder_cli.h"
#include "learn/learn.h"
#include "base/base.h"
#include "model_cli.h"
#include "train/train.h"

#define CMD "train-embedder"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dwsnet train-embedder --zoo DIR --out FILE.dws [options]\n\n"
            "Trains a DWSNet encoder with NT-Xent between two random views of every network\n"
            "(hidden permutation, masked entries, Gaussian noise) on the zoo's train split.\n"
            "A step embeds --groups same-width groups of --group-size networks and forms the\n"
            "loss over all of them. Progress goes to stderr every 10 steps, one CSV row per\n"
            "step to the curves file; a checkpoint is written every --checkpoint-every steps and\n"
            "at the end, and --resume continues from it (same settings required).\n\n"
            "  --dim D             embedding size (32)\n"
            "  --channels C        channels of the DWS layers (16)\n"
            "  --layers N          DWS layers (4)\n"
            "  --mlp-hidden H      hidden width of the encoder's MLP head (128)\n"
            "  --rescale R         views rescale hidden neuron i by s_i, log s_i ~ U[-R, R], a\n"
            "                      function-preserving change for ReLU networks (0: off)\n"
            "  --no-width-features the head does not read log hidden widths (ablation)\n"
            "  --projection P      contrast a projection of the embedding (SimCLR's head,\n"
            "                      D -> P -> D, used in training only; 0: the embedding itself) (128)\n"
            "  --no-head-skip      the embedding reads the width and probe features only through\n"
            "                      the head's hidden layer, not also through a linear skip\n"
            "  --probes K          the head also reads each network's outputs on K learned\n"
            "                      inputs (32; 0: off)\n"
            "  --probe-range LO,HI probes start spread over [LO, HI] (a Latin hypercube: one\n"
            "                      probe in each of K strata of every input) (0,1: CIFAR-10 pixels)\n"
            "  --probe-data DIR    probes start as K CIFAR-10 training images from DIR instead\n"
            "  --steps N           optimiser steps (10000)\n"
            "  --groups G          same-width groups per step (4)\n"
            "  --group-size B      networks per group (8)\n"
            "  --lr X              peak AdamW learning rate (1e-3); warm-up, then cosine to X/20\n"
            "  --warmup N          warm-up steps (100)\n"
            "  --weight-decay X    AdamW weight decay (0.01)\n"
            "  --temperature T     NT-Xent temperature (0.1)\n"
            "  --noise X           view noise std, relative to each tensor's RMS (0.2)\n"
            "  --mask P            view masking probability (0.3)\n"
            "  --seed S            initialisation, batches and views (0)\n"
            "  --threads N         worker threads (default: one per CPU)\n"
            "  --id NAME           model id (the --out file name without .dws)\n"
            "  --curves FILE       per-step CSV (FILE.dws -> FILE.curves.csv)\n"
            "  --checkpoint FILE   checkpoint (FILE.dws -> FILE.ckpt)\n"
            "  --checkpoint-every N  steps between checkpoints (100)\n"
            "  --resume            continue from the checkpoint\n"
            "  --stop-after N      stop (with a checkpoint) after N steps of this run\n"
            "  --input-convention TEXT  how inputs of the networks read are encoded (card;\n"
            "                      default: the CIFAR-10 convention)\n"
            "Prints a JSON summary (id, path, steps, loss, top1, seconds).\n");
}

typedef struct {
    const char *zoo, *out, *id, *curves, *ckpt, *input_convention, *probe_data;
    long dim, channels, layers, mlp_hidden, every, threads, seed, stop_after, probes, projection;
    float probe_lo, probe_hi;
    int resume, width_features, head_skip;
    dws_embedder_config cfg;
    float weight_decay;
} options;

/* "LO,HI" with LO < HI, both in [-1e6, 1e6]. */
static int parse_range(const char *flag, const char *s, float *lo, float *hi)
{
    char first[64];
    const char *comma = strchr(s, ',');
    size_t n = comma ? (size_t)(comma - s) : 0;
    double a = 0, b = 0;
    if (n > 0 && n < sizeof first) memcpy(first, s, n), first[n] = 0;
    if (!comma || n == 0 || n >= sizeof first || cli_parse_double(first, -1e6, 1e6, &a) != 0 ||
        cli_parse_double(comma + 1, -1e6, 1e6, &b) != 0 || !(a < b)) {
        fprintf(stderr, "dwsnet %s: %s: %s needs LO,HI with LO < HI, got '%s'\n", CMD, DWS_E_INVALID_ARGUMENT, flag, s);
        return -1;
    }
    *lo = (float)a;
    *hi = (float)b;
    return 0;
}

/* -1 when the command goes on with *o, else its exit status (cli_flag_value). */
static int parse(int argc, char **argv, options *o)
{
    dws_arch def;
    dws_arch_default(&def, DWS_MODEL_ENCODER);
    *o = (options){.dim = def.embed_dim, .channels = def.channels, .layers = def.n_dws_layers,
                   .mlp_hidden = def.mlp_hidden, .every = 100, .cfg = dws_embedder_defaults(),
                   .weight_decay = 0.01f, .width_features = def.width_features, .probe_hi = 1.f,
                   /* the shipped CIFAR-10 encoder's recipe (README) */
                   .probes = 32, .projection = 128, .head_skip = 1};
    o->cfg.view.noise = 0.2f;
    o->cfg.view.mask = 0.3f;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i], *s;
        long v;
        int *toggle = !strcmp(f, "--resume")              ? &o->resume
                      : !strcmp(f, "--no-width-features") ? &o->width_features
                      : !strcmp(f, "--no-head-skip")      ? &o->head_skip
                                                          : NULL;
        if (toggle) {   /* flags without a value: --resume sets, the --no- ones clear */
            *toggle = toggle == &o->resume;
            continue;
        }
        int status = cli_flag_value(CMD, argc, argv, usage, &i, &s);
        if (status >= 0) return status;
        int rc = 0;
        if (!strcmp(f, "--zoo")) o->zoo = s;
        else if (!strcmp(f, "--out")) o->out = s;
        else if (!strcmp(f, "--id")) o->id = s;
        else if (!strcmp(f, "--curves")) o->curves = s;
        else if (!strcmp(f, "--checkpoint")) o->ckpt = s;
        else if (!strcmp(f, "--input-convention")) o->input_convention = s;
        else if (!strcmp(f, "--probe-data")) o->probe_data = s;
        else if (!strcmp(f, "--projection")) rc = model_cli_int(CMD, f, s, 0, 4096, &o->projection);
        else if (!strcmp(f, "--probes")) rc = model_cli_int(CMD, f, s, 0, 4096, &o->probes);
        else if (!strcmp(f, "--probe-range")) rc = parse_range(f, s, &o->probe_lo, &o->probe_hi);
        else if (!strcmp(f, "--stop-after")) rc = model_cli_int(CMD, f, s, 1, 1L << 30, &o->stop_after);
        else if (!strcmp(f, "--dim")) rc = model_cli_int(CMD, f, s, 1, 4096, &o->dim);
        else if (!strcmp(f, "--channels")) rc = model_cli_int(CMD, f, s, 1, 256, &o->channels);
        else if (!strcmp(f, "--layers")) rc = model_cli_int(CMD, f, s, 1, DWS_MAX_DWS_LAYERS, &o->layers);
        else if (!strcmp(f, "--mlp-hidden")) rc = model_cli_int(CMD, f, s, 1, 4096, &o->mlp_hidden);
        else if (!strcmp(f, "--checkpoint-every")) rc = model_cli_int(CMD, f, s, 1, 1L << 30, &o->every);
        else if (!strcmp(f, "--threads")) rc = model_cli_int(CMD, f, s, 1, 64, &o->threads);
        else if (!strcmp(f, "--seed")) rc = model_cli_int(CMD, f, s, 0, 0x7fffffffL, &o->seed);
        else if (!strcmp(f, "--steps")) rc = model_cli_int(CMD, f, s, 1, 1L << 30, &v), o->cfg.steps = v;
        else if (!strcmp(f, "--warmup")) rc = model_cli_int(CMD, f, s, 1, 1L << 30, &v), o->cfg.warmup = v;
        else if (!strcmp(f, "--groups")) rc = model_cli_int(CMD, f, s, 1, 64, &v), o->cfg.groups = (int)v;
        else if (!strcmp(f, "--group-size")) rc = model_cli_int(CMD, f, s, 1, 64, &v), o->cfg.group_size = (int)v;
        else if (!strcmp(f, "--lr")) rc = embedder_cli_float(CMD, f, s, 1e-8, 1, &o->cfg.lr);
        else if (!strcmp(f, "--weight-decay")) rc = embedder_cli_float(CMD, f, s, 0, 10, &o->weight_decay);
        else if (!strcmp(f, "--temperature")) rc = embedder_cli_float(CMD, f, s, 1e-3, 100, &o->cfg.temperature);
        else if (!strcmp(f, "--noise")) rc = embedder_cli_float(CMD, f, s, 0, 10, &o->cfg.view.noise);
        else if (!strcmp(f, "--mask")) rc = embedder_cli_float(CMD, f, s, 0, 0.99, &o->cfg.view.mask);
        else if (!strcmp(f, "--rescale")) rc = embedder_cli_float(CMD, f, s, 0, 5, &o->cfg.view.rescale);
        else return cli_unknown_option(CMD, f);
        if (rc != 0) return 2;
    }
    o->cfg.seed = (uint64_t)o->seed;
    o->cfg.threads = (int)o->threads;
    return -1;
}

/* The settings a checkpoint must share with its resume, and the card's "training". */
static cJSON *settings_json(const options *o, const dws_arch *a, int n_train)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "zoo", o->zoo);
    cJSON_AddNumberToObject(j, "train_networks", n_train);
    cJSON_AddNumberToObject(j, "embed_dim", a->embed_dim);
    cJSON_AddNumberToObject(j, "channels", a->channels);
    cJSON_AddNumberToObject(j, "dws_layers", a->n_dws_layers);
    cJSON_AddNumberToObject(j, "mlp_hidden", a->mlp_hidden);
    cJSON_AddBoolToObject(j, "width_features", a->width_features);
    cJSON_AddNumberToObject(j, "projection_hidden", a->proj_hidden);
    cJSON_AddBoolToObject(j, "head_skip", a->head_skip);
    cJSON_AddNumberToObject(j, "probes", a->probes);
    if (a->probes && o->probe_data) cJSON_AddStringToObject(j, "probe_init", "CIFAR-10 training images");
    if (a->probes && !o->probe_data) {
        cJSON_AddStringToObject(j, "probe_init", "Latin hypercube");
        cJSON *r = cJSON_AddArrayToObject(j, "probe_init_range");
        cJSON_AddItemToArray(r, cJSON_CreateNumber(dws_float_decimal(o->probe_lo)));
        cJSON_AddItemToArray(r, cJSON_CreateNumber(dws_float_decimal(o->probe_hi)));
    }
    cJSON_AddStringToObject(j, "objective", "NT-Xent (SimCLR) between two views");
    cJSON_AddNumberToObject(j, "steps", (double)o->cfg.steps);
    cJSON_AddNumberToObject(j, "groups", o->cfg.groups);
    cJSON_AddNumberToObject(j, "group_size", o->cfg.group_size);
    cJSON_AddNumberToObject(j, "lr", dws_float_decimal(o->cfg.lr));
    cJSON_AddNumberToObject(j, "warmup", (double)o->cfg.warmup);
    cJSON_AddNumberToObject(j, "weight_decay", dws_float_decimal(o->weight_decay));
    cJSON_AddNumberToObject(j, "temperature", dws_float_decimal(o->cfg.temperature));
    cJSON_AddNumberToObject(j, "view_noise", dws_float_decimal(o->cfg.view.noise));
    cJSON_AddNumberToObject(j, "view_mask", dws_float_decimal(o->cfg.view.mask));
    cJSON_AddBoolToObject(j, "view_permute", o->cfg.view.permute);
    cJSON_AddNumberToObject(j, "view_rescale", dws_float_decimal(o->cfg.view.rescale));
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    return j;
}

typedef struct {
    const options *o;
    dws_net *net;
    dws_optim *opt;
    const char *config;
    FILE *curves;
    int64_t start;
    double t0;
    double loss_sum, top1_sum;
    int window;
    dws_train_progress last;
    int failed;
    dws_error err;
} progress_ctx;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int on_step(void *vctx, const dws_train_progress *s, dws_error *err)
{
    (void)err;   /* a failure is kept in the context */
    progress_ctx *c = vctx;
    double t = now() - c->t0;
    c->last = *s;
    c->loss_sum += s->loss;
    c->top1_sum += s->acc;
    c->window++;
    fprintf(c->curves, "%lld,%.6f,%.4f,%.5f,%.3g,%d,%.2f\n", (long long)s->step, s->loss, s->acc, s->grad_norm,
            s->lr, s->batch, t);
    if (s->step % 10 == 0 || s->step == c->o->cfg.steps) {
        fflush(c->curves);
        fprintf(stderr, "%s: step %lld/%lld  loss %.4f  top1 %.3f  |g| %.3f  lr %.2g  %.1f s\n", CMD,
                (long long)s->step, (long long)c->o->cfg.steps, c->loss_sum / c->window, c->top1_sum / c->window,
                s->grad_norm, s->lr, t);
        c->loss_sum = c->top1_sum = 0;
        c->window = 0;
    }
    int stop = c->o->stop_after && s->step - c->start >= c->o->stop_after;
    if (stop || s->step % c->o->every == 0 || s->step == c->o->cfg.steps) {
        dws_train_state st = {.step = s->step};
        if (dws_checkpoint_save(c->o->ckpt, c->net, c->opt, &st, c->config, &c->err) != 0) {
            c->failed = 1;
            return 1;
        }
    }
    return stop;
}

static char *derived(const char *out, const char *suffix)
{
    size_t n = strlen(out);
    if (n > 4 && !strcmp(out + n - 4, ".dws")) n -= 4;
    char *s = malloc(n + strlen(suffix) + 1);
    if (s) {
        memcpy(s, out, n);
        strcpy(s + n, suffix);
    }
    return s;
}

static void width_range(const dws_mlp *nets, int n, int64_t *lo, int64_t *hi)
{
    *lo = INT64_MAX;
    *hi = 0;
    for (int i = 0; i < n; i++)
        for (int l = 1; l < nets[i].n_layers; l++) {
            if (nets[i].widths[l] < *lo) *lo = nets[i].widths[l];
            if (nets[i].widths[l] > *hi) *hi = nets[i].widths[l];
        }
    if (*hi == 0) *lo = 0;
}

/* Probes from --probe-data (K training images spread over the split) or
 * --probe-range; the scale measured on the training networks. */
static int init_probes(const options *o, dws_net *net, const dws_mlp **nets, int n, dws_error *err)
{
    if (!o->probe_data) {
        dws_embedder_init_probes(net, NULL, 0, o->probe_lo, o->probe_hi, (uint64_t)o->seed, nets, n);
        return 0;
    }
    dws_image_set train = {0};
    if (dws_cifar10_load_split(o->probe_data, DWS_SPLIT_TRAIN, &train, err) != 0) return -1;
    float *rows = NULL;
    int rc = -1;
    if (train.dim != (size_t)net->arch.d0) {
        dws_error_set(err, DWS_E_INCOMPATIBLE_MODEL, "--probe-data images have %zu values, the networks read %lld",
                      train.dim, (long long)net->arch.d0);
    } else if (!(rows = malloc(sizeof(float) * train.dim * (size_t)net->arch.probes))) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory for %d probes", net->arch.probes);
    } else {
        for (int k = 0; k < net->arch.probes; k++)
            dws_image_set_to_float(&train, (size_t)k * train.n / (size_t)net->arch.probes, 1, rows + (size_t)k * train.dim);
        dws_embedder_init_probes(net, rows, net->arch.probes, 0.f, 0.f, 0, nets, n);
        rc = 0;
    }
    free(rows);
    dws_image_set_free(&train);
    return rc;
}

static int train(options *o, dws_mlp *nets, int n, dws_error *err)
{
    dws_arch a;
    dws_arch_default(&a, DWS_MODEL_ENCODER);
    a.depth = nets[0].n_layers;
    a.d0 = nets[0].widths[0];
    a.dL = nets[0].widths[a.depth];
    if (a.d0 != 3072) a.image = (dws_image_shape){0, 0, 0};
    a.channels = (int)o->channels;
    a.n_dws_layers = (int)o->layers;
    a.embed_dim = (int)o->dim;
    a.mlp_hidden = (int)o->mlp_hidden;
    a.width_features = o->width_features;
    a.probes = (int)o->probes;
    a.proj_hidden = (int)o->projection;
    a.head_skip = o->head_skip && (a.probes || (a.width_features && a.depth > 1));   /* else nothing to skip */
    a.probe_scale = 1.f;   /* measured below, once the probes are set */
    const dws_mlp **ptr = malloc(sizeof(*ptr) * (size_t)n);
    dws_net net = {0};
    dws_optim opt = {0};
    dws_model *model = NULL;
    cJSON *settings = settings_json(o, &a, n);
    char *config = cJSON_PrintUnformatted(settings);
    progress_ctx pc = {.o = o, .net = &net, .opt = &opt, .config = config};
    int rc = -1;
    if (!ptr || !config) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) ptr[i] = &nets[i];
    dws_optim_config ac = dws_optim_defaults(DWS_OPT_ADAMW, o->cfg.lr);
    ac.weight_decay = o->weight_decay;
    ac.clip = 1.f;
    if (dws_net_init(&net, &a, (uint64_t)o->seed, err) != 0 || dws_optim_init(&opt, &ac, net.n_params, err) != 0)
        goto done;
    dws_embedder_fit_norm(&net, ptr, n);
    if (a.probes && init_probes(o, &net, ptr, n, err) != 0) goto done;
    dws_train_state resumed = {0};
    if (o->resume && dws_checkpoint_load(o->ckpt, &net, &opt, &resumed, config, err) != 0) goto done;
    int64_t start = resumed.step;
    pc.curves = fopen(o->curves, start > 0 ? "a" : "w");
    if (!pc.curves) {
        dws_error_set(err, DWS_E_IO, "cannot write %s", o->curves);
        goto done;
    }
    if (start == 0) fprintf(pc.curves, "step,loss,top1,grad_norm,lr,networks,seconds\n");
    fprintf(stderr, "%s: %d training networks, %zu parameters, steps %lld..%lld\n", CMD, n, net.n_params,
            (long long)start, (long long)o->cfg.steps);
    pc.t0 = now();
    pc.start = start;
    if (dws_embedder_train(&net, &opt, start, ptr, n, &o->cfg, on_step, &pc, err) != 0) goto done;
    if (pc.failed) {
        *err = pc.err;
        goto done;
    }
    int64_t lo, hi;
    width_range(nets, n, &lo, &hi);
    dws_model_info info = {.id = o->id, .input_convention = o->input_convention ? o->input_convention
                                   : a.d0 == 3072 ? NULL
                                   : "as the networks of the training zoo read their inputs (not images)",
                           .min_width = lo, .max_width = hi};
    if (!(model = dws_model_from_net(&net, &info, err))) goto done;
    cJSON_AddNumberToObject(settings, "final_loss", pc.last.loss);
    cJSON_AddNumberToObject(settings, "final_top1", pc.last.acc);
    cJSON_AddNumberToObject(settings, "seconds_this_run", now() - pc.t0);
    char *training = cJSON_PrintUnformatted(settings);
    rc = training ? dws_model_set_card_entry(model, "training", training, err) : -1;
    free(training);
    if (rc == 0) rc = dws_model_save(model, o->out, err);
    if (rc == 0)
        printf("{\"id\":\"%s\",\"path\":\"%s\",\"steps\":%lld,\"loss\":%.6f,\"top1\":%.4f,\"seconds\":%.1f}\n",
               dws_model_id(model), o->out, (long long)pc.last.step, pc.last.loss, pc.last.acc, now() - pc.t0);
done:
    if (pc.curves) fclose(pc.curves);
    dws_model_free(model);
    dws_net_free(&net);
    dws_optim_free(&opt);
    cJSON_Delete(settings);
    free(config);
    free(ptr);
    return rc;
}

int cmd_train_embedder(int argc, char **argv)
{
    options o;
    int status = parse(argc, argv, &o);
    if (status >= 0) return status;
    if (!o.zoo || !o.out) return cli_missing_option(CMD, usage, "--zoo and --out are required");
    dws_error err;
    char *id = NULL, *curves = NULL, *ckpt = NULL;
    if (!o.id) {
        const char *base = strrchr(o.out, '/');
        o.id = id = derived(base ? base + 1 : o.out, "");
    }
    if (!o.curves) o.curves = curves = derived(o.out, ".curves.csv");
    if (!o.ckpt) o.ckpt = ckpt = derived(o.out, ".ckpt");
    embedder_zoo zoo;
    int rc = 1;
    if (!o.id || !o.curves || !o.ckpt) {
        dws_error_set(&err, DWS_E_OUT_OF_MEMORY, "out of memory");
        rc = cli_fail(CMD, &err);
    } else if (embedder_cli_open_zoo(CMD, o.zoo, "train", &zoo) == 0) {
        if (zoo.n < 2) dws_error_set(&err, DWS_E_BAD_DATA, "%s has %d training networks; need at least 2", o.zoo, zoo.n);
        rc = zoo.n >= 2 && train(&o, zoo.nets, zoo.n, &err) == 0 ? 0 : cli_fail(CMD, &err);
        embedder_cli_close_zoo(&zoo);
    }
    free(id);
    free(curves);
    free(ckpt);
    return rc;
}
