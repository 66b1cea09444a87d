/* dwsnet eval-domains: the domain grid of an adapter (dws_domain_grid_run,
 * eval/eval.h): a line per domain on stderr, the markdown report on stdout. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/base.h"
#include "cli_io.h"
#include "commands.h"
#include "data/data.h"
#include "eval/eval.h"
#include "model_cli.h"
#include "options_table.h"

#define CMD "eval-domains"

static void on_domain(void *ctx, int i, int n, const char *spec, double seconds)
{
    (void)ctx;
    fprintf(stderr, "dwsnet " CMD ": %d/%d %s (%.1f s)\n", i + 1, n, spec, seconds);
}

static void on_oracle(void *ctx, const char *spec, double gain, double seconds)
{
    (void)ctx;
    if (isnan(gain)) fprintf(stderr, "dwsnet " CMD ": %s (%.1f s)\n", spec, seconds);
    else fprintf(stderr, "dwsnet " CMD ": oracle %s %+.2f points (%.1f s)\n", spec, gain, seconds);
}

static void on_auto(void *ctx, const char *spec, int images, const char *most_often, int count, int draws,
                    double gain)
{
    (void)ctx;
    fprintf(stderr, "dwsnet " CMD ":   auto %s from %d images: %s in %d of %d draws, %+.2f points\n", spec, images,
            most_often, count, draws, gain);
}

/* Whether auto is left out because nothing asked for it by name and the shipped
 * estimator is absent (a fresh `make pretrained` builds it after the grid): said on
 * stderr, so that the grid still runs. */
static int default_estimator_missing(const eval_domains_opts *o)
{
    char path[4096] = "";
    if (o->estimator || o->auto_images_seen) return 0;
    if (dws_default_model_path(DWS_DEFAULT_ESTIMATOR, path, sizeof path) == 0 && access(path, F_OK) == 0) return 0;
    fprintf(stderr, "dwsnet " CMD ": no domain estimator at %s: the auto columns are left out (--estimator FILE "
                    "adds them)\n", path);
    return 1;
}

/* The auto settings of the options into c; the estimator is loaded only when auto is on.
 * Returns -1 (the error printed) when it cannot be loaded. */
static int auto_config(eval_domains_opts *o, dws_domain_grid_config *c, dws_estimator **estimator)
{
    *estimator = NULL;
    if (o->no_auto || o->auto_images.n == 0 || default_estimator_missing(o)) return 0;
    const char *path = o->estimator;
    if (!(*estimator = model_cli_load_estimator(CMD, &path))) return -1;
    c->estimator = *estimator;
    c->n_auto_sizes = o->auto_images.n;
    for (int k = 0; k < o->auto_images.n; k++) c->auto_sizes[k] = (int)o->auto_images.v[k];
    c->auto_draws = (int)o->auto_draws;
    return 0;
}

int cmd_eval_domains(int argc, char **argv)
{
    eval_domains_opts o;
    int status = cli_parse(&cli_eval_domains, argc, argv, &o);
    if (status >= 0) return status;
    const char *data = o.data ? o.data : dws_data_dir_from_env();
    if (!data) return cli_usage_error(&cli_eval_domains, "--data DIR is required (or set DWSNET_DATA)");
    char oracle[4096];
    snprintf(oracle, sizeof oracle, "%s/oracle", o.out);
    dws_domain_grid_config c = {.zoo_dir = o.zoo, .data_dir = data, .out_dir = o.out,
                                .oracle_dir = o.no_oracle ? NULL : o.oracle_dir ? o.oracle_dir : oracle,
                                .compute_oracle = !o.no_oracle && !o.oracle_cached,
                                .oracle_seconds = o.oracle_seconds, .limit = (int)o.limit, .images = (int)o.images,
                                .threads = (int)o.threads};
    dws_estimator *estimator;
    if (auto_config(&o, &c, &estimator)) return 1;
    dws_model *model = model_cli_load(CMD, &o.model, DWS_DEFAULT_ADAPTER);
    if (!model) {
        dws_estimator_free(estimator);
        return 1;
    }
    c.model = model;
    dws_domain_grid_hooks hooks = {.on_domain = on_domain, .on_oracle = on_oracle, .on_auto = on_auto};
    char *text = NULL;
    dws_error err;
    int rc = dws_domain_grid_run(&c, &hooks, &text, &err);
    if (rc == 0) fputs(text, stdout);
    free(text);
    dws_model_free(model);
    dws_estimator_free(estimator);
    return rc == 0 ? 0 : cli_fail(CMD, &err);
}
