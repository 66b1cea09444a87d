/* dwsnet zoo: trains (a shard of) the classifier zoo, resumably. See core/zoo.h for
 * the folder layout and the sharding rule. */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/data.h"
#include "data_cli.h"
#include "zoo/zoo.h"

#define CMD "zoo"
/* Seeds go through zoo.json as JSON numbers, exact up to 2^53. */
#define MAX_SEED (1ULL << 53)
/* Without a terminal, a progress line at most this often. */
#define PLAIN_PROGRESS_SECONDS 30.0

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dwsnet " CMD " --out ZOO [--data DIR] [--count N] [--seed S] [--shard i/n] [--jobs J]\n"
            "         [--recipes mixed|reference] [--epochs LIST] [--subsets LIST] [--domain SPEC] [--domain-seed N]\n"
            "       dwsnet " CMD " --out ZOO --reindex\n\n"
            "Trains N MLP classifiers 3072 -> h1 -> h2 -> 10 on clean CIFAR-10 with varied recipes (hidden\n"
            "widths 32-256, Adam / SGD+momentum / AdamW, learning rates, weight decay, batch sizes, epochs,\n"
            "training subsets, seeds) and writes ZOO/models/ID.onnx, ZOO/entries/ID.json and ZOO/index.jsonl\n"
            "(one record per classifier: id, file, split, widths, recipe, seed, clean and target-domain test\n"
            "accuracy). Entry i depends only on the seed and i: a rerun skips finished entries, and shards\n"
            "(entries with i %% n == k) can run on other machines into the same folder (e.g. one per pod of\n"
            "a Kubernetes indexed Job: --shard $JOB_COMPLETION_INDEX/N).\n"
            "  --out ZOO        zoo folder (settings are kept in ZOO/zoo.json and must match on reruns)\n"
            "  --data DIR       CIFAR-10 binary folder (default $DWSNET_DATA)\n"
            "  --count N        entries (default 500)\n"
            "  --seed S         zoo seed (default 0)\n"
            "  --shard i/n      build only entries with id %% n == i (default 0/1)\n"
            "  --jobs J         classifiers trained at once (default: online CPUs)\n"
            "  --recipes R      mixed (default), or reference: every entry 3072-128-128-10, Adam 1e-3,\n"
            "                   batch 128, 10 epochs on all images, each with its own seed\n"
            "  --epochs LIST    epoch choices, sampled per entry (default 1,2,3,4,6,8,12,16,20)\n"
            "  --subsets LIST   training-image counts, sampled per entry (default 5000,10000,25000,50000)\n"
            "  --domain SPEC    target domain of the reported accuracy (default %s)\n"
            "  --domain-seed N  its noise seed (default 0)\n"
            "  --reindex        only rebuild ZOO/index.jsonl from ZOO/entries/\n",
            DWS_DEFAULT_DOMAIN);
}

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

static int parse_list(const char *flag, const char *s, int64_t max, int64_t *v, int *n)
{
    int64_t w[DWS_ZOO_MAX_CHOICES];
    /* data_cli_widths parses positive lists; 0 ("all images") is allowed for subsets. */
    if (!strcmp(s, "0")) {
        v[0] = 0;
        *n = 1;
        return 0;
    }
    if (data_cli_widths(CMD, s, w, DWS_ZOO_MAX_CHOICES, max, n)) {
        fprintf(stderr, "dwsnet %s: (in %s)\n", CMD, flag);
        return -1;
    }
    memcpy(v, w, sizeof(int64_t) * (size_t)*n);
    return 0;
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
    static const struct option longopts[] = {
        {"out", required_argument, 0, 'o'},     {"data", required_argument, 0, 'd'},
        {"count", required_argument, 0, 'n'},   {"seed", required_argument, 0, 's'},
        {"shard", required_argument, 0, 'S'},   {"jobs", required_argument, 0, 'j'},
        {"epochs", required_argument, 0, 'e'},  {"subsets", required_argument, 0, 'u'},
        {"domain", required_argument, 0, 'D'},  {"domain-seed", required_argument, 0, 'E'},
        {"reindex", no_argument, 0, 'R'},       {"recipes", required_argument, 0, 'r'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *out = NULL, *data_dir = dws_data_dir_from_env(), *domain_spec = NULL;
    long count = 0, jobs = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t seed = 0, domain_seed = 0;
    int have_seed = 0, have_domain_seed = 0, reindex = 0, shard_i = 0, shard_n = 1, have_recipes = 0;
    dws_zoo_recipes recipes = DWS_ZOO_MIXED;
    int n_epochs = 0, n_subsets = 0;
    int64_t epochs[DWS_ZOO_MAX_CHOICES], subsets[DWS_ZOO_MAX_CHOICES];
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1;) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'n': if (data_cli_long(CMD, "--count", optarg, 1, DWS_ZOO_MAX_COUNT, &count)) return 2; break;
        case 's':
            if (data_cli_u64(CMD, "--seed", optarg, &seed)) return 2;
            if (seed > MAX_SEED) return data_cli_usage(CMD, "--seed must be at most 2^53");
            have_seed = 1;
            break;
        case 'S': if (data_cli_shard(CMD, optarg, &shard_i, &shard_n)) return 2; break;
        case 'j': if (data_cli_long(CMD, "--jobs", optarg, 1, 64, &jobs)) return 2; break;
        case 'e': if (parse_list("--epochs", optarg, 10000, epochs, &n_epochs)) return 2; break;
        case 'u': if (parse_list("--subsets", optarg, 1L << 31, subsets, &n_subsets)) return 2; break;
        case 'D': domain_spec = optarg; break;
        case 'E':
            if (data_cli_u64(CMD, "--domain-seed", optarg, &domain_seed)) return 2;
            if (domain_seed > MAX_SEED) return data_cli_usage(CMD, "--domain-seed must be at most 2^53");
            have_domain_seed = 1;
            break;
        case 'R': reindex = 1; break;
        case 'r':
            if (dws_zoo_recipes_parse(optarg, &recipes))
                return data_cli_usage(CMD, "--recipes must be mixed or reference, got '%s'", optarg);
            have_recipes = 1;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) return data_cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    if (!out) return data_cli_usage(CMD, "--out ZOO is required");
    if (reindex) return reindex_only(out);
    if (jobs < 1) jobs = 1;

    /* Settings: the zoo's own when it exists, else the defaults; flags override either,
     * and dws_zoo_open refuses a change to an existing zoo. */
    dws_error err = {0};
    dws_zoo_spec spec;
    char manifest[4096];
    struct stat st;
    snprintf(manifest, sizeof manifest, "%s/zoo.json", out);
    if (stat(manifest, &st) == 0) {
        if (dws_zoo_read_spec(out, &spec, &err)) return cli_fail(CMD, &err);
    } else {
        dws_zoo_spec_default(&spec);
    }
    if (count) spec.count = (int)count;
    if (have_seed) spec.seed = seed;
    if (have_recipes) spec.recipes = recipes;
    if (have_domain_seed) spec.domain_seed = domain_seed;
    if (domain_spec && dws_domain_parse(domain_spec, &spec.domain, &err)) return cli_fail(CMD, &err);
    if (n_epochs) {
        spec.n_epochs = n_epochs;
        for (int i = 0; i < n_epochs; i++) spec.epochs[i] = (int)epochs[i];
    }
    if (n_subsets) {
        spec.n_subsets = n_subsets;
        for (int i = 0; i < n_subsets; i++) spec.subsets[i] = (uint32_t)subsets[i];
    }

    dws_image_set train, test;
    float *target;
    int rc = 1;
    if (data_cli_load_cifar(data_dir, &spec.domain, spec.domain_seed, &train, &test, &target, &err) ||
        dws_zoo_open(out, &spec, train.n, test.n, &err))
        goto done;
    /* Parallelism comes from training several classifiers at once; each product is small. */
    if (jobs > 1) openblas_set_num_threads(1);

    progress_view view = {.tty = isatty(STDERR_FILENO)};
    dws_zoo_data data = {.train = &train, .test = &test, .target_test = target};
    dws_zoo_run_options opt = {.shard_index = shard_i, .shard_count = shard_n, .jobs = (int)jobs,
                               .progress = show_progress, .ctx = &view};
    dws_zoo_progress p;
    if (dws_zoo_run(out, &spec, &data, &opt, &p, &err)) goto done;

    cJSON *o = cJSON_CreateObject();
    char shard[32];
    snprintf(shard, sizeof shard, "%d/%d", shard_i, shard_n);
    cJSON_AddStringToObject(o, "zoo", out);
    cJSON_AddStringToObject(o, "shard", shard);
    cJSON_AddNumberToObject(o, "entries", p.total);
    cJSON_AddNumberToObject(o, "built", p.built);
    cJSON_AddNumberToObject(o, "skipped", p.skipped);
    cJSON_AddNumberToObject(o, "jobs", (double)jobs);
    cJSON_AddNumberToObject(o, "seconds", p.elapsed);
    cJSON_AddNumberToObject(o, "train_seconds", p.build_seconds);
    cli_print_json(o);
    rc = 0;
done:
    if (rc) cli_fail(CMD, &err);
    free(target);
    dws_image_set_free(&train);
    dws_image_set_free(&test);
    return rc;
}
