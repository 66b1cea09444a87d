/* dwsnet zoo: trains (a shard of) the classifier zoo, resumably. See core/zoo.h for
 * the folder layout and the sharding rule. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "data/data.h"
#include "cli_io.h"
#include "commands.h"
#include "options_table.h"
#include "zoo/zoo.h"

#define CMD "zoo"
/* Without a terminal, a progress line at most this often. */
#define PLAIN_PROGRESS_SECONDS 30.0

typedef struct {
    int tty;
    double last_print;
} progress_view;

static void format_duration(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%lds", t);
}

static void show_progress(void *ctx, const dws_zoo_progress *p)
{
    progress_view *v = ctx;
    int done = p->skipped + p->built, left = p->total - done;
    int finished = left == 0;
    if (!v->tty && !finished && p->built > 0 && p->elapsed - v->last_print < PLAIN_PROGRESS_SECONDS) return;
    v->last_print = p->elapsed;
    double rate = p->elapsed > 0 ? p->built / p->elapsed : 0;
    char eta[32] = "?", elapsed[32];
    if (rate > 0) format_duration(left / rate, eta, sizeof eta);
    format_duration(p->elapsed, elapsed, sizeof elapsed);
    fprintf(stderr, "%szoo: %d/%d done (%d skipped), %.2f/min, elapsed %s, ETA %s%s", v->tty ? "\r\033[K" : "", done,
            p->total, p->skipped, rate * 60, elapsed, finished ? "0s" : eta, v->tty && !finished ? "" : "\n");
    fflush(stderr);
}

static int reindex_only(const char *out)
{
    dws_error err = {0};
    int n;
    if (dws_zoo_reindex(out, &n, &err)) return cli_fail(CMD, &err);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "zoo", out);
    cJSON_AddNumberToObject(o, "index_entries", n);
    cli_print_json(o);
    return 0;
}

int cmd_zoo(int argc, char **argv)
{
    zoo_opts o;
    int status = cli_parse(&cli_zoo, argc, argv, &o);
    if (status >= 0) return status;
    if (o.reindex) return reindex_only(o.out);
    long jobs = o.jobs ? o.jobs : sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs < 1) jobs = 1;

    /* The zoo's settings (or the defaults), with the ones given here instead; an
     * existing zoo refuses a change (dws_zoo_open). */
    dws_error err = {0};
    dws_zoo_spec spec;
    if (dws_zoo_settings(o.out, &spec, &err)) return cli_fail(CMD, &err);
    if (o.count_seen) spec.count = (int)o.count;
    if (o.seed_seen) spec.seed = o.seed;
    if (o.recipes_seen) spec.recipes = (dws_zoo_recipes)o.recipes;
    if (o.domain_seed_seen) spec.domain_seed = o.domain_seed;
    if (o.domain && dws_domain_parse(o.domain, &spec.domain, &err)) return cli_fail(CMD, &err);
    if (o.epochs.n) {
        spec.n_epochs = o.epochs.n;
        for (int i = 0; i < o.epochs.n; i++) spec.epochs[i] = (int)o.epochs.v[i];
    }
    if (o.family_seen) dws_zoo_spec_family(&spec, (dws_zoo_family)o.family);
    if (o.frame_seen) spec.frame = (dws_frame)o.frame;
    if (o.hidden_layers.n) {
        spec.n_hidden_layers = o.hidden_layers.n;
        for (int i = 0; i < o.hidden_layers.n; i++) spec.hidden_layers[i] = (int)o.hidden_layers.v[i];
    }
    if (o.activations.n) {
        spec.n_activations = o.activations.n;
        for (int i = 0; i < o.activations.n; i++) spec.activations[i] = (dws_activation)o.activations.v[i];
    }
    if (o.subsets.n) {
        spec.n_subsets = o.subsets.n;
        for (int i = 0; i < o.subsets.n; i++) spec.subsets[i] = (uint32_t)o.subsets.v[i];
    }

    progress_view view = {.tty = isatty(STDERR_FILENO)};
    dws_zoo_run_options run = {.shard_index = o.shard.index, .shard_count = o.shard.count, .jobs = (int)jobs,
                               .progress = show_progress, .ctx = &view};
    dws_zoo_progress p;
    if (dws_zoo_build(o.out, o.data ? o.data : dws_data_dir_from_env(), &spec, &run, &p, &err))
        return cli_fail(CMD, &err);

    cJSON *j = cJSON_CreateObject();
    char shard[32];
    snprintf(shard, sizeof shard, "%d/%d", o.shard.index, o.shard.count);
    cJSON_AddStringToObject(j, "zoo", o.out);
    cJSON_AddStringToObject(j, "shard", shard);
    cJSON_AddNumberToObject(j, "entries", p.total);
    cJSON_AddNumberToObject(j, "built", p.built);
    cJSON_AddNumberToObject(j, "skipped", p.skipped);
    cJSON_AddNumberToObject(j, "jobs", (double)jobs);
    cJSON_AddNumberToObject(j, "seconds", p.elapsed);
    cJSON_AddNumberToObject(j, "train_seconds", p.build_seconds);
    cli_print_json(j);
    return 0;
}
