/* dwsnet eval-domains: the domain grid of an adapter (dws_domain_grid_run,
 * eval/eval.h): a line per domain on stderr, the markdown report on stdout. */
#include <stdio.h>
#include <stdlib.h>

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
    fprintf(stderr, "dwsnet " CMD ": oracle %s %+.2f points (%.1f s)\n", spec, gain, seconds);
}

int cmd_eval_domains(int argc, char **argv)
{
    eval_domains_opts o;
    int status = cli_parse(&cli_eval_domains, argc, argv, &o);
    if (status >= 0) return status;
    const char *data = o.data ? o.data : dws_data_dir_from_env();
    if (!data) return cli_usage_error(&cli_eval_domains, "--data DIR is required (or set DWSNET_DATA)");
    dws_model *model = model_cli_load(CMD, &o.model, DWS_DEFAULT_ADAPTER);
    if (!model) return 1;
    char oracle[4096];
    snprintf(oracle, sizeof oracle, "%s/oracle", o.out);
    dws_domain_grid_config c = {.model = model, .zoo_dir = o.zoo, .data_dir = data, .out_dir = o.out,
                                .oracle_dir = o.no_oracle ? NULL : o.oracle_dir ? o.oracle_dir : oracle,
                                .compute_oracle = !o.no_oracle && !o.oracle_cached, .oracle_seconds = o.oracle_seconds, .limit = (int)o.limit, .images = (int)o.images,
                                .threads = (int)o.threads};
    dws_domain_grid_hooks hooks = {.on_domain = on_domain, .on_oracle = on_oracle};
    char *text = NULL;
    dws_error err;
    int rc = dws_domain_grid_run(&c, &hooks, &text, &err);
    if (rc == 0) fputs(text, stdout);
    free(text);
    dws_model_free(model);
    return rc == 0 ? 0 : cli_fail(CMD, &err);
}
