/* dwsnet train-estimator: trains the domain estimator (dws_estimator_train,
 * learn/learn.h) on corrupted CIFAR-10 training images and writes the best one by
 * validation, with its card; progress on stderr, a JSON summary on stdout. */
#include <math.h>
#include <stdio.h>

#include "cli_io.h"
#include "commands.h"
#include "data/data.h"
#include "learn/learn.h"
#include "options_table.h"

#define CMD "train-estimator"

static void on_stage(void *ctx, const char *stage, double seconds)
{
    (void)ctx;
    fprintf(stderr, "dwsnet " CMD ": %s done at %.1fs\n", stage, seconds);
}

static int on_progress(void *ctx, const dws_train_progress *p, dws_error *err)
{
    (void)ctx, (void)err;
    fprintf(stderr,
            "step %lld/%lld  lr %.2e  loss %.4f  acc %.3f  val type accuracy %.4f (best %.4f @%lld)  %.0fs  eta %.0fs\n",
            (long long)p->step, (long long)p->steps, p->lr, p->loss, p->acc, p->val_after, p->best_val,
            (long long)p->best_step, p->elapsed, p->eta);
    return 0;
}

int cmd_train_estimator(int argc, char **argv)
{
    train_estimator_opts o;
    int status = cli_parse(&cli_train_estimator, argc, argv, &o);
    if (status >= 0) return status;
    /* Every setting comes from the command line, whose defaults are dws_estimator_train_defaults'. */
    dws_estimator_train_config c = {
        .data_dir = o.data ? o.data : dws_data_dir_from_env(), .out = o.out, .id = o.id, .hidden = (int)o.hidden,
        .pool_images = (int)o.pool_images, .val_images = (int)o.val_images, .val_sets = (int)o.val_sets,
        .min_set = (int)o.min_set, .max_set = (int)o.max_set, .steps = o.steps, .val_every = o.val_every,
        .batch_sets = (int)o.batch_sets, .lr = o.lr, .weight_decay = o.wd, .seed = o.seed, .threads = (int)o.threads,
        .exclude = o.exclude, .chains = o.chains.d, .n_chains = o.chains.n};
    if (!c.data_dir) return cli_usage_error(&cli_train_estimator, "--data DIR is required (or set DWSNET_DATA)");
    if (c.min_set > c.max_set) return cli_usage_error(&cli_train_estimator, "--min-set is larger than --max-set");
    if (c.pool_images < c.max_set)
        return cli_usage_error(&cli_train_estimator, "--pool-images must be at least --max-set");
    dws_estimator_train_hooks hooks = {.on_stage = on_stage, .progress = on_progress};
    dws_estimator_val best;
    dws_error err;
    dws_error_clear(&err);
    double t0 = cli_now();
    if (dws_estimator_train(&c, &hooks, &best, &err)) return cli_fail(CMD, &err);
    printf("{\"estimator\":\"%s\",\"val_type_accuracy\":{\"8\":%.4f,\"64\":%.4f,\"256\":%.4f},"
           "\"val_type_accuracy_single_steps\":{\"8\":%.4f,\"64\":%.4f,\"256\":%.4f},",
           o.out, best.type_acc[0], best.type_acc[1], best.type_acc[2], best.single_acc[0], best.single_acc[1],
           best.single_acc[2]);
    if (!isnan(best.chain_acc[0]))
        printf("\"val_chain_accuracy\":{\"8\":%.4f,\"64\":%.4f,\"256\":%.4f},", best.chain_acc[0], best.chain_acc[1],
               best.chain_acc[2]);
    printf("\"val_loss\":%.4f,\"seconds\":%.1f,\"cpu_seconds\":%.1f}\n", best.loss, cli_now() - t0, cli_cpu_seconds());
    return 0;
}
