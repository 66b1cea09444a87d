/* dwsnet train-embedder: self-supervised (SimCLR / NT-Xent) training of the
 * invariant DWSNet encoder on a zoo's training networks (docs/design.md sections 12 and 13.2). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/data.h"
#include "cli_io.h"
#include "commands.h"
#include "options_table.h"
#include "model/model.h"
#include "embedder_cli.h"
#include "learn/learn.h"
#include "base/base.h"
#include "train/train.h"

#define CMD "train-embedder"

typedef struct {
    const char *zoo, *out, *id, *curves, *ckpt, *input_convention, *probe_data;
    long dim, channels, layers, mlp_hidden, every, threads, seed, stop_after, probes, projection;
    float probe_lo, probe_hi;
    int resume, width_features, head_skip;
    dws_embedder_config cfg;
    float weight_decay;
} options;

/* The run's settings from the command line: the encoder's architecture and the
 * training configuration over core's defaults. */
static void settings(const train_embedder_opts *c, options *o)
{
    *o = (options){.zoo = c->zoo, .out = c->out, .id = c->id, .curves = c->curves, .ckpt = c->checkpoint,
                   .input_convention = c->input_convention, .probe_data = c->probe_data, .dim = c->dim,
                   .channels = c->channels, .layers = c->layers, .mlp_hidden = c->mlp_hidden,
                   .every = c->checkpoint_every, .threads = c->threads, .seed = c->seed, .stop_after = c->stop_after,
                   .probes = c->probes, .projection = c->projection, .probe_lo = c->probe_range.lo,
                   .probe_hi = c->probe_range.hi, .resume = c->resume, .width_features = !c->no_width_features,
                   .head_skip = !c->no_head_skip, .cfg = dws_embedder_defaults(), .weight_decay = c->weight_decay};
    o->cfg.steps = c->steps;
    o->cfg.warmup = c->warmup;
    o->cfg.groups = (int)c->groups;
    o->cfg.group_size = (int)c->group_size;
    o->cfg.lr = c->lr;
    o->cfg.temperature = c->temperature;
    o->cfg.view.noise = c->noise;
    o->cfg.view.mask = c->mask;
    o->cfg.view.rescale = c->rescale;
    o->cfg.seed = (uint64_t)c->seed;
    o->cfg.threads = (int)c->threads;
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

static int on_step(void *vctx, const dws_train_progress *s, dws_error *err)
{
    (void)err;   /* a failure is kept in the context */
    progress_ctx *c = vctx;
    double t = cli_now() - c->t0;
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
    pc.t0 = cli_now();
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
    cJSON_AddNumberToObject(settings, "seconds_this_run", cli_now() - pc.t0);
    char *training = cJSON_PrintUnformatted(settings);
    rc = training ? dws_model_set_card_entry(model, "training", training, err) : -1;
    free(training);
    if (rc == 0) rc = dws_model_save(model, o->out, err);
    if (rc == 0)
        printf("{\"id\":\"%s\",\"path\":\"%s\",\"steps\":%lld,\"loss\":%.6f,\"top1\":%.4f,\"seconds\":%.1f}\n",
               dws_model_id(model), o->out, (long long)pc.last.step, pc.last.loss, pc.last.acc, cli_now() - pc.t0);
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
    train_embedder_opts c;
    int status = cli_parse(&cli_train_embedder, argc, argv, &c);
    if (status >= 0) return status;
    options o;
    settings(&c, &o);
    dws_error err;
    char id[4096], curves[4096], ckpt[4096];
    if (!o.id) {
        const char *base = strrchr(o.out, '/');
        dws_path_sibling(base ? base + 1 : o.out, ".dws", "", id, sizeof id);
        o.id = id;
    }
    dws_path_sibling(o.out, ".dws", ".curves.csv", curves, sizeof curves);
    dws_path_sibling(o.out, ".dws", ".ckpt", ckpt, sizeof ckpt);
    if (!o.curves) o.curves = curves;
    if (!o.ckpt) o.ckpt = ckpt;
    embedder_zoo zoo;
    int rc = 1;
    if (embedder_cli_open_zoo(CMD, o.zoo, "train", &zoo) == 0) {
        if (zoo.n < 2) dws_error_set(&err, DWS_E_BAD_DATA, "%s has %d training networks; need at least 2", o.zoo, zoo.n);
        rc = zoo.n >= 2 && train(&o, zoo.nets, zoo.n, &err) == 0 ? 0 : cli_fail(CMD, &err);
        embedder_cli_close_zoo(&zoo);
    }
    return rc;
}
