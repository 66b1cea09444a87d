/* dwsnet train-adapter: trains a DWSNet adapter on a zoo of classifiers
 * (dws_adapter_run, learn/learn.h) and writes the best model by validation score,
 * with its card, a CSV of the training curves and a resumable checkpoint; progress
 * on stderr, a JSON summary on stdout. */
#include <stdio.h>
#include <string.h>

#include "cli_io.h"
#include "commands.h"
#include "data/data.h"
#include "learn/learn.h"
#include "options_table.h"

#define CMD "train-adapter"

typedef struct {
    const dws_adapter_run_config *c;
    const dws_adapter_run_info *info;
} run_view;

static void on_start(void *ctx, const dws_adapter_run_info *info)
{
    ((run_view *)ctx)->info = info;
    fprintf(stderr,
            "dwsnet " CMD ": %d training / %d validation classifiers, %zu parameters, %lld steps "
            "(validation every %lld), data crc %08x\n",
            info->n_train, info->n_val, info->n_params, (long long)info->steps, (long long)info->val_every,
            info->data_crc32);
}

static int on_progress(void *ctx, const dws_train_progress *p, dws_error *err)
{
    (void)err;
    const run_view *v = ctx;
    fprintf(stderr, "step %lld/%lld  epoch %.1f  lr %.2e  loss %.4f  acc %.3f", (long long)p->step,
            (long long)v->info->steps, dws_adapter_run_epoch(v->c, v->info, p->step), p->lr, p->loss, p->acc);
    if (p->validated)
        fprintf(stderr, "  val %.4f -> %.4f (best %.4f @%lld)", p->val_before, p->val_after, p->best_val,
                (long long)p->best_step);
    fprintf(stderr, "  %.0fs  eta %.0fs\n", p->elapsed, p->eta);
    return 0;
}

int cmd_train_adapter(int argc, char **argv)
{
    train_adapter_opts o;
    int status = cli_parse(&cli_train_adapter, argc, argv, &o);
    if (status >= 0) return status;
    if (!o.steps == !(o.epochs > 0)) return cli_usage_error(&cli_train_adapter, "give exactly one of --steps and --epochs");
    if (o.any_mlp && strcmp(o.domain, "all") != 0)
        return cli_usage_error(&cli_train_adapter, "--any-mlp needs --domain all (the activation is a condition)");
    dws_adapter_run_config c = {.zoo_dir = o.zoo, .extra_zoo_dir = o.extra_zoo, .any_mlp = o.any_mlp,
                                .hidden_layer_weights = o.hidden_layer_weights, .data_dir = o.data ? o.data : dws_data_dir_from_env(), .out = o.out,
                                .id = o.id, .domain = o.domain, .channels = (int)o.channels,
                                .cond_dim = (int)o.cond_dim, .input_map = (int)o.input_map, .init_from = o.init_from, .emphasise = o.emphasise,
                                .n_dws_layers = (int)o.layers, .steps = o.steps, .epochs = o.epochs,
                                .warmup_frac = o.warmup_frac, .val_every = o.val_every,
                                .limit_train = (int)o.limit_train, .limit_val = (int)o.limit_val, .resume = o.resume};
    if (!c.data_dir) return cli_usage_error(&cli_train_adapter, "--data DIR is required (or set DWSNET_DATA)");
    dws_adapter_train_defaults(&c.train);
    c.train.batch_nets = (int)o.batch_nets;
    c.train.batch_images = (int)o.batch_images;
    c.train.lr = o.lr;
    c.train.weight_decay = o.wd;
    c.train.clip = o.clip;
    c.train.seed = o.seed;
    c.train.threads = (int)o.threads;
    c.train.val_images = (int)o.val_images;
    c.train.no_template_conv = o.no_template_conv;
    c.train.no_position_embedding = o.no_position_embedding;
    c.train.mix.p_default = o.p_default;

    run_view view = {.c = &c};
    dws_adapter_run_hooks hooks = {.on_start = on_start, .progress = on_progress, .ctx = &view};
    dws_adapter_run_info info;
    dws_train_progress fin;
    dws_error err;
    if (dws_adapter_run(&c, &hooks, &info, &fin, &err) != 0) return cli_fail(CMD, &err);
    printf("{\"model\":\"%s\",\"curves\":\"%s\",\"steps\":%lld,\"best_step\":%lld,\"val_acc_before\":%.5f,"
           "\"val_acc_best\":%.5f,\"seconds\":%.1f}\n",
           o.out, info.curves, (long long)fin.step, (long long)fin.best_step, fin.val_before, fin.best_val, fin.elapsed);
    return 0;
}
