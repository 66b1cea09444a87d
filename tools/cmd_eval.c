/* dwsnet eval: the report of docs/task.md section 6 for an adapter
 * (dws_eval_adapter_run, eval/eval.h): per-classifier lines on stderr, the markdown
 * report on stdout and every file in --out. An encoder as --model gets the linear
 * probes of eval-embedder instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_io.h"
#include "commands.h"
#include "data/data.h"
#include "eval/eval.h"
#include "model/model.h"
#include "model_cli.h"
#include "options_table.h"

#define CMD "eval"

static void on_result(void *ctx, const dws_result_row *r, const dws_result_row *oracle)
{
    (void)ctx;
    char id[64];
    if (r->split == DWS_RESULT_EXTRA) snprintf(id, sizeof id, "%s", r->name);
    else snprintf(id, sizeof id, "%06d", r->id);
    fprintf(stderr, "%-24s %-18s %4lld-%-4lld corrupted %.4f -> %.4f  clean %.4f -> %.4f", id,
            dws_result_split_name(r->split), (long long)r->widths[1], (long long)r->widths[r->n_layers > 1 ? 2 : 1],
            r->target_before, r->target_after, r->clean_before, r->clean_after);
    if (oracle) fprintf(stderr, "  oracle %.4f", oracle->target_after);
    fprintf(stderr, "\n");
}

static void on_skip(void *ctx, const char *path, const dws_error *why)
{
    (void)ctx;
    fprintf(stderr, "dwsnet " CMD ": skipping %s: %s: %s\n", path, why->code, why->message);
}

/* Whether the --model of the command line names an encoder file. */
static int model_is_encoder(int argc, char **argv)
{
    const char *path = cli_peek(argc, argv, "--model");
    dws_error err;
    dws_model *m = path ? dws_model_load(path, &err) : NULL;
    int enc = m && dws_model_get_kind(m) == DWS_MODEL_ENCODER;
    dws_model_free(m);
    return enc;
}

int cmd_eval(int argc, char **argv)
{
    /* One evaluation command for both kinds of model. */
    if (model_is_encoder(argc, argv)) return cmd_eval_embedder(argc, argv);
    eval_opts o;
    int status = cli_parse(&cli_eval, argc, argv, &o);
    if (status >= 0) return status;
    if (!o.zoo && !o.extras.n) return cli_usage_error(&cli_eval, "give --zoo DIR and/or --extra DIR");
    const char *data = o.data ? o.data : dws_data_dir_from_env();
    if (!data) return cli_usage_error(&cli_eval, "--data DIR is required (or set DWSNET_DATA)");
    dws_model *model = model_cli_load(CMD, &o.model, DWS_DEFAULT_ADAPTER);
    if (!model) return 1;
    dws_eval_adapter_config c = {.model = model, .model_path = o.model,
                                 .zoo_dir = o.zoo, .extra_dirs = o.extras.v, .n_extra = o.extras.n,
                                 .baselines = o.baselines.v, .n_baselines = o.baselines.n, .data_dir = data,
                                 .out_dir = o.out, .curves = o.curves, .domain = o.domain, .card_entry = o.card_entry,
                                 .limit_images = (int)o.limit_images, .limit = (int)o.limit, .threads = (int)o.threads,
                                 .domain_seed_given = o.domain_seed_seen, .domain_seed = o.domain_seed,
                                 .extra_oracle = o.extra_oracle, .zoo_oracle = o.zoo_oracle, .common = o.common};
    dws_eval_adapter_hooks hooks = {.on_result = on_result, .on_skip = on_skip};
    char *report = NULL;
    dws_error err;
    int rc = dws_eval_adapter_run(&c, &hooks, &report, &err);
    if (rc == 0) fputs(report, stdout);
    free(report);
    dws_model_free(model);
    return rc == 0 ? 0 : cli_fail(CMD, &err);
}
