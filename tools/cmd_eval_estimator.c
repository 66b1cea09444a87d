/* dwsnet eval-estimator: the domain estimator on CIFAR-10's test images
 * (dws_estimator_eval, eval/eval.h): identification accuracy and confusion matrices
 * for sets of 8, 64 and 256 images, and the time of one estimate; the report on
 * stdout, optionally written to a folder and stored in the estimator's card. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_io.h"
#include "commands.h"
#include "data/data.h"
#include "eval/eval.h"
#include "model_cli.h"
#include "options_table.h"

#define CMD "eval-estimator"

static int write_text(const char *dir, const char *name, const char *text, dws_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return dws_write_file_atomic(path, text, strlen(text), err);
}

/* The report in --out: estimator-eval.md and estimator-eval.json. */
static int write_out(const char *dir, const char *md, const char *json, dws_error *err)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        dws_error_set(err, DWS_E_IO, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    return write_text(dir, "estimator-eval.md", md, err) || write_text(dir, "estimator-eval.json", json, err) ? -1 : 0;
}

int cmd_eval_estimator(int argc, char **argv)
{
    eval_estimator_opts o;
    int status = cli_parse(&cli_eval_estimator, argc, argv, &o);
    if (status >= 0) return status;
    dws_estimator_eval_config c;
    dws_estimator_eval_defaults(&c);
    c.data_dir = o.data ? o.data : dws_data_dir_from_env();
    if (!c.data_dir) return cli_usage_error(&cli_eval_estimator, "--data DIR is required (or set DWSNET_DATA)");
    c.pool_images = (int)o.pool_images;
    if (o.sets.n != DWS_ESTIMATOR_EVAL_SIZES)
        return cli_usage_error(&cli_eval_estimator, "--sets takes %d numbers (sets of 8, 64, 256 images)",
                               DWS_ESTIMATOR_EVAL_SIZES);
    for (int s = 0; s < DWS_ESTIMATOR_EVAL_SIZES; s++) c.sets[s] = (int)o.sets.v[s];
    if (c.pool_images < c.sizes[DWS_ESTIMATOR_EVAL_SIZES - 1])
        return cli_usage_error(&cli_eval_estimator, "--pool-images must be at least %d",
                               c.sizes[DWS_ESTIMATOR_EVAL_SIZES - 1]);
    c.threads = (int)o.threads;
    c.timing_runs = (int)o.timing_runs;
    const char *path = o.estimator;
    dws_estimator *e = model_cli_load_estimator(CMD, &path);
    if (!e) return 1;
    dws_estimator_eval_result r;
    dws_error err;
    dws_error_clear(&err);
    char *md = NULL, *json = NULL;
    cJSON *summary = NULL;
    int rc = 1;
    if (dws_estimator_eval(e, &c, &r, &err)) goto done;
    md = dws_estimator_eval_markdown(&r, &c);
    summary = dws_estimator_eval_json(&r, &c);
    json = summary ? cJSON_PrintUnformatted(summary) : NULL;
    if (!md || !json) {
        dws_error_set(&err, DWS_E_OUT_OF_MEMORY, "no memory for the report");
        goto done;
    }
    fputs(md, stdout);
    if (o.out && write_out(o.out, md, json, &err)) goto done;
    if (o.card_entry && (dws_estimator_set_card_entry(e, o.card_entry, json, &err) ||
                         dws_estimator_save(e, path, &err)))
        goto done;
    fprintf(stderr, "dwsnet " CMD ": %s, %.1fs (pools %.1fs)\n", dws_estimator_id(e), r.seconds, r.pool_seconds);
    rc = 0;
done:
    if (rc) cli_fail(CMD, &err);
    free(md);
    free(json);
    cJSON_Delete(summary);
    dws_estimator_free(e);
    return rc;
}
