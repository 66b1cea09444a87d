/* dwsnet eval: the TASK.md report for an adapter. Every held-out classifier of a
 * zoo (test and test_unseen_widths splits) and of --extra folders of ONNX files
 * is adapted and scored on the corrupted test split (the model's domain, a fixed
 * seed) and on the clean one, before and after; the results of baseline methods
 * (files in eval/eval.h's format) are put beside them. Writes the markdown
 * report (also on stdout), a JSON summary, our per-classifier results and SVG
 * plots into --out. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data.h"
#include "cli_io.h"
#include "commands.h"
#include "data_cli.h"
#include "model/model.h"
#include "eval_oracle.h"
#include "eval_plots.h"
#include "eval_results.h"
#include "model_cli.h"
#include "onnx/onnx_codec.h"
#include "zoo/zoo.h"

#define CMD "eval"
#define MAX_FILES 16
static const char *const SPLITS[] = {"test", "test_unseen_widths", "extra"};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dwsnet eval [--model FILE.dws] [--zoo DIR] [--extra DIR] [options]\n\n"
            "Adapts every test and test_unseen_widths classifier of the zoo, and every ONNX file\n"
            "in --extra folders, and scores each before and after on the model's target domain\n"
            "applied to test_batch (fixed seed) and on the clean test images. Writes into --out:\n"
            "eval.md (the table; also printed), eval.json, dwsnet.json (per-classifier results,\n"
            "the format --baselines reads) and SVG plots.\n\n"
            "  --model FILE       adapter (default " DWS_DEFAULT_ADAPTER ")\n"
            "  --data DIR         CIFAR-10 folder ($DWSNET_DATA)\n"
            "  --out DIR          output folder (eval-out)\n"
            "  --baselines FILE   another method's per-classifier results (repeatable)\n"
            "  --extra DIR        ONNX classifiers from outside the zoo (repeatable)\n"
            "  --curves FILE.csv  training curves to plot (default: the model's .csv when present)\n"
            "  --limit-images N   score on the first N test images only\n"
            "  --limit N          at most N classifiers per zoo split\n"
            "  --domain-seed S    noise seed of the corrupted test set (the zoo's, else 0)\n"
            "  --card-entry KEY   also store the summary in the model file's card under KEY\n"
            "  --common           add tables over the zoo classifiers that every --baselines file covers\n"
            "  --extra-oracle     also fine-tune every --extra classifier (TASK.md's oracle: 1 epoch\n"
            "                     of Adam 5e-4, batch 128, corrupted training images)\n"
            "  --threads N        adapter threads (0: one per CPU)\n"
            "With an encoder as --model, runs the linear probes of `dwsnet eval-embedder` instead\n"
            "(its options apply).\n");
}

typedef struct {
    dws_samples clean, target;
    const dws_model *model;
    dws_run_opts opts;
    eval_results ours;
    const eval_oracle_data *oracle_data;   /* NULL: no oracle for --extra classifiers */
    eval_results oracle;
} evaluator;

/* Accuracy of m and of its changed copy on the corrupted and clean test images,
 * into a copy of key (the classifier's split and id). */
static int score(const evaluator *e, const dws_result_row *key, const dws_mlp *m, const dws_mlp *changed,
                 dws_result_row *row, dws_error *err)
{
    *row = *key;
    row->n_layers = m->n_layers;
    memcpy(row->widths, m->widths, sizeof(int64_t) * (size_t)(m->n_layers + 1));
    if (dws_mlp_accuracy(m, &e->target, &row->target_before, err) != 0 ||
        dws_mlp_accuracy(changed, &e->target, &row->target_after, err) != 0 ||
        dws_mlp_accuracy(m, &e->clean, &row->clean_before, err) != 0 ||
        dws_mlp_accuracy(changed, &e->clean, &row->clean_after, err) != 0)
        return -1;
    return 0;
}

static int eval_one(evaluator *e, const dws_result_row *key, const dws_mlp *m, int with_oracle, dws_error *err)
{
    dws_result_row row;
    dws_mlp adapted = {0};
    char id[64];
    if (key->split == DWS_RESULT_EXTRA) snprintf(id, sizeof id, "%s", key->name);
    else snprintf(id, sizeof id, "%06d", key->id);
    int rc = dws_adapter_apply(e->model, m, &adapted, &e->opts, err);
    if (rc == 0) rc = score(e, key, m, &adapted, &row, err);
    dws_mlp_free(&adapted);
    if (rc != 0 || eval_results_add(&e->ours, &row, err) != 0) return -1;
    fprintf(stderr, "%-24s %-18s %4lld-%-4lld corrupted %.4f -> %.4f  clean %.4f -> %.4f", id,
            dws_result_split_name(key->split), (long long)m->widths[1], (long long)m->widths[m->n_layers > 1 ? 2 : 1],
            row.target_before, row.target_after, row.clean_before, row.clean_after);
    if (with_oracle && e->oracle_data) {
        dws_mlp tuned = {0};
        rc = eval_oracle_finetune(e->oracle_data, m, &tuned, err);
        if (rc == 0) rc = score(e, key, m, &tuned, &row, err);
        dws_mlp_free(&tuned);
        if (rc != 0 || eval_results_add(&e->oracle, &row, err) != 0) return -1;
        fprintf(stderr, "  oracle %.4f", row.target_after);
    }
    fprintf(stderr, "\n");
    return 0;
}

static int eval_zoo(evaluator *e, const char *dir, int limit, dws_error *err)
{
    for (int s = DWS_ZOO_TEST; s <= DWS_ZOO_TEST_UNSEEN_WIDTHS; s++) {
        dws_zoo_set set;
        if (dws_zoo_set_load(dir, 1u << s, limit, &set, err) != 0) return -1;
        int rc = 0;
        for (int i = 0; i < set.n && rc == 0; i++) {
            dws_result_row key = {.id = set.m[i].id, .split = s};
            rc = eval_one(e, &key, &set.m[i].mlp, 0, err);
        }
        dws_zoo_set_free(&set);
        if (rc != 0) return -1;
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.onnx of dir, in name order; files the adapter does not accept are
 * reported and skipped (that is the adapter refusing them, not an error). */
static int eval_extra(evaluator *e, const char *dir, dws_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        dws_error_set(err, DWS_E_IO, "cannot read folder %s", dir);
        return -1;
    }
    char *names[1024];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 1024) {
        size_t len = strlen(de->d_name);
        if (len > 5 && !strcmp(de->d_name + len - 5, ".onnx")) names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        dws_result_row key = {.id = -1, .split = DWS_RESULT_EXTRA};
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(key.name, sizeof key.name, "%.*s", (int)strlen(names[i]) - 5, names[i]);
        dws_onnx_limits lim;
        dws_onnx_limits_default(&lim);
        dws_error e2;
        dws_onnx *onnx = rc == 0 ? dws_onnx_decode_file(path, &lim, &e2) : NULL;
        if (rc == 0 && (!onnx || dws_model_check_input(e->model, dws_onnx_weights(onnx), &e2) != 0))
            fprintf(stderr, "dwsnet " CMD ": skipping %s: %s: %s\n", path, e2.code, e2.message);
        else if (rc == 0)
            rc = eval_one(e, &key, dws_onnx_weights(onnx), 1, err);
        dws_onnx_free(onnx);
        free(names[i]);
    }
    return rc;
}

static cJSON *summary_json(const eval_summary *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "method", s->method);
    cJSON_AddNumberToObject(o, "classifiers", s->n);
    cJSON_AddNumberToObject(o, "target_acc_mean", s->after_mean);
    cJSON_AddNumberToObject(o, "target_acc_std", s->after_std);
    cJSON_AddNumberToObject(o, "gain_mean", s->gain_mean);
    cJSON_AddNumberToObject(o, "gain_std", s->gain_std);
    cJSON_AddNumberToObject(o, "fraction_improved", s->improved);
    cJSON_AddNumberToObject(o, "clean_acc_before", s->clean_before);
    cJSON_AddNumberToObject(o, "clean_acc_after", s->clean_after);
    if (!isnan(s->oracle_fraction)) cJSON_AddNumberToObject(o, "fraction_of_oracle_gain", s->oracle_fraction);
    return o;
}

static void table_md(FILE *f, const eval_summary *s, int n, const char *split)
{
    fprintf(f, "\n### %s classifiers (%d)\n\n", split, s[1].n);
    fprintf(f, "| method | classifiers | corrupted test acc (mean ± std) | gain (points) | of oracle gain | improved | clean acc |\n");
    fprintf(f, "|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        if (s[i].n == 0) continue;
        char frac[32] = "–", improved[32] = "–";
        if (i > 0 && !isnan(s[i].oracle_fraction)) snprintf(frac, sizeof frac, "%.0f%%", 100 * s[i].oracle_fraction);
        if (i > 0) snprintf(improved, sizeof improved, "%.0f%%", 100 * s[i].improved);
        fprintf(f, "| %s | %d | %.2f ± %.2f | %+.2f ± %.2f | %s | %s | %.2f → %.2f |\n", s[i].method, s[i].n,
                100 * s[i].after_mean, 100 * s[i].after_std, 100 * s[i].gain_mean, 100 * s[i].gain_std, frac,
                improved, 100 * s[i].clean_before, 100 * s[i].clean_after);
    }
}

/* The table and targets of every split into md, and their figures into summary
 * under prefix + split; summary[prefix + "targets_missed"] counts the misses. */
static int report(FILE *md, cJSON *summary, const char *prefix, const eval_results *ours,
                  const eval_results *const *others, int n_others, dws_error *err)
{
    int failed = 0;
    char key[64];
    for (size_t k = 0; k < sizeof SPLITS / sizeof *SPLITS; k++) {
        eval_summary s[EVAL_MAX_METHODS];
        if (eval_summarise(ours, others, n_others, SPLITS[k], s, err) != 0) return -1;
        if (s[1].n == 0) continue;
        table_md(md, s, n_others + 2, SPLITS[k]);
        fprintf(md, "\nTargets:\n");
        failed += eval_targets(md, s, n_others + 2, SPLITS[k]);
        snprintf(key, sizeof key, "%s%s", prefix, SPLITS[k]);
        cJSON *arr = cJSON_AddArrayToObject(summary, key);
        for (int i = 0; i < n_others + 2; i++)
            if (s[i].n) cJSON_AddItemToArray(arr, summary_json(&s[i]));
    }
    snprintf(key, sizeof key, "%stargets_missed", prefix);
    cJSON_AddNumberToObject(summary, key, failed);
    return 0;
}

/* Drops our zoo rows that some baseline lacks, so that every row of the table
 * averages the same classifiers (--extra rows stay). */
static void keep_common(eval_results *ours, const eval_results *others, int n)
{
    int kept = 0;
    for (int i = 0; i < ours->n; i++) {
        const dws_result_row *r = &ours->rows[i];
        int all = 1;
        for (int k = 0; k < n && r->split != DWS_RESULT_EXTRA; k++) all &= eval_results_find(&others[k], r) != NULL;
        if (all) ours->rows[kept++] = *r;
    }
    ours->n = kept;
}

/* The --model of the command line, when it names an encoder file. */
static int model_is_encoder(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--model")) {
            dws_error err;
            dws_model *m = dws_model_load(argv[i + 1], &err);
            int enc = m && dws_model_get_kind(m) == DWS_MODEL_ENCODER;
            dws_model_free(m);
            return enc;
        }
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    /* One evaluation command for both kinds of model: encoders get the linear
     * probes of eval-embedder. */
    if (model_is_encoder(argc, argv)) return cmd_eval_embedder(argc, argv);
    const char *model_path = NULL, *zoo = NULL, *data = NULL, *out = "eval-out", *curves = NULL, *card_entry = NULL;
    const char *baselines[MAX_FILES], *extras[MAX_FILES];
    int n_base = 0, n_extra = 0;
    long limit_images = 0, limit = 0, threads = 0;
    uint64_t domain_seed = 0;
    int seed_given = 0, extra_oracle = 0, common = 0;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(f, "--extra-oracle")) {
            extra_oracle = 1;
            continue;
        }
        if (!strcmp(f, "--common")) {
            common = 1;
            continue;
        }
        if (i + 1 >= argc) return data_cli_usage(CMD, "unknown or incomplete option '%s'", f);
        const char *a = argv[++i];
        int rc = 0;
        if (!strcmp(f, "--model")) model_path = a;
        else if (!strcmp(f, "--zoo")) zoo = a;
        else if (!strcmp(f, "--data")) data = a;
        else if (!strcmp(f, "--out")) out = a;
        else if (!strcmp(f, "--curves")) curves = a;
        else if (!strcmp(f, "--card-entry")) card_entry = a;
        else if (!strcmp(f, "--baselines") && n_base < MAX_FILES - 3) baselines[n_base++] = a;
        else if (!strcmp(f, "--extra") && n_extra < MAX_FILES) extras[n_extra++] = a;
        else if (!strcmp(f, "--limit-images")) rc = data_cli_long(CMD, f, a, 1, 10000000, &limit_images);
        else if (!strcmp(f, "--limit")) rc = data_cli_long(CMD, f, a, 1, DWS_ZOO_MAX_COUNT, &limit);
        else if (!strcmp(f, "--threads")) rc = data_cli_long(CMD, f, a, 0, 64, &threads);
        else if (!strcmp(f, "--domain-seed")) rc = data_cli_u64(CMD, f, a, &domain_seed), seed_given = 1;
        else return data_cli_usage(CMD, "unknown option '%s' (or too many of it)", f);
        if (rc != 0) return 2;
    }
    if (!zoo && !n_extra) return data_cli_usage(CMD, "give --zoo DIR and/or --extra DIR");
    if (!data) data = dws_data_dir_from_env();
    if (!data) return data_cli_usage(CMD, "--data DIR is required (or set DWSNET_DATA)");
    dws_model *model = model_cli_load(CMD, model_path, DWS_DEFAULT_ADAPTER);
    if (!model) return 1;
    if (!model_path) model_path = DWS_DEFAULT_ADAPTER;
    dws_error err;
    int rc = 0;
    cJSON *card = cJSON_Parse(dws_model_card_json(model));
    const cJSON *dom = cJSON_GetObjectItemCaseSensitive(card, "target_domain");
    dws_domain domain;
    char domain_text[256] = "";
    if (!cJSON_IsString(dom) || dws_domain_parse(dom->valuestring, &domain, &err) != 0) {
        dws_error_set(&err, DWS_E_BAD_MODEL_FILE, "%s: the card names no valid target_domain", model_path);
        rc = -1;
    } else {
        snprintf(domain_text, sizeof domain_text, "%s", dom->valuestring);
    }
    cJSON_Delete(card);
    dws_zoo_spec spec;
    if (rc == 0 && zoo && !seed_given) {
        rc = dws_zoo_read_spec(zoo, &spec, &err);
        domain_seed = spec.domain_seed;
    }
    dws_image_set test = {0};
    float *clean = NULL, *target = NULL;
    if (rc == 0) rc = dws_cifar10_load_split(data, DWS_SPLIT_TEST, &test, &err);
    if (rc == 0 && limit_images > 0 && (size_t)limit_images < test.n) test.n = (size_t)limit_images;
    if (rc == 0 && (!(clean = dws_image_set_float_copy(&test, &err)) || !(target = dws_image_set_float_copy(&test, &err))))
        rc = -1;
    if (rc == 0) rc = dws_domain_apply(&domain, test.channels, test.height, test.width, target, test.n, domain_seed, 0, &err);
    evaluator e = {.model = model, .opts = {.threads = (int)threads}};
    snprintf(e.ours.method, sizeof e.ours.method, "DWSNet adapter (%s)", dws_model_id(model));
    if (rc == 0) {
        e.clean = dws_samples_of_floats(clean, test.labels, test.n, test.dim);
        e.target = dws_samples_of_floats(target, test.labels, test.n, test.dim);
        if (mkdir(out, 0777) != 0 && errno != EEXIST) {
            dws_error_set(&err, DWS_E_IO, "cannot create %s: %s", out, strerror(errno));
            rc = -1;
        }
    }
    eval_oracle_data od = {0};
    snprintf(e.oracle.method, sizeof e.oracle.method, "fine-tuning oracle");
    if (rc == 0 && extra_oracle && n_extra) {
        rc = eval_oracle_data_load(&od, data, &domain, domain_seed + 1, &err);
        e.oracle_data = &od;
    }
    if (rc == 0 && zoo) rc = eval_zoo(&e, zoo, (int)limit, &err);
    for (int i = 0; i < n_extra && rc == 0; i++) rc = eval_extra(&e, extras[i], &err);

    eval_results others[MAX_FILES];
    const eval_results *optr[MAX_FILES];
    int n_loaded = 0, n_methods = 0;
    for (; n_loaded < n_base && rc == 0; n_loaded++) {
        rc = eval_results_read(baselines[n_loaded], &others[n_loaded], &err);
        optr[n_loaded] = &others[n_loaded];
        if (rc != 0) break;
    }
    n_methods = n_loaded;
    /* Our oracle rows join the baselines' oracle, or stand as one. */
    if (rc == 0 && e.oracle.n) {
        eval_results *base_oracle = NULL;
        for (int i = 0; i < n_loaded; i++)
            if (strcasestr(others[i].method, "oracle")) base_oracle = &others[i];
        for (int i = 0; base_oracle && i < e.oracle.n && rc == 0; i++)
            rc = eval_results_add(base_oracle, &e.oracle.rows[i], &err);
        if (!base_oracle) optr[n_loaded + 0] = &e.oracle;
        n_methods = n_loaded + !base_oracle;
    }
    char path[4096];
    FILE *md = NULL;
    cJSON *summary = cJSON_CreateObject();
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/dwsnet.json", out);
        rc = dws_results_write(path, e.ours.method, NULL, e.ours.rows, e.ours.n, &err);
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/eval.md", out);
        if (!(md = fopen(path, "w"))) {
            dws_error_set(&err, DWS_E_IO, "cannot write %s", path);
            rc = -1;
        }
    }
    if (rc == 0) {
        fprintf(md, "## DWSNet adapter evaluation: %s\n\nTarget domain `%s` applied to test_batch (seed %llu, %zu images); "
                    "accuracy in %%.\n", dws_model_id(model), domain_text, (unsigned long long)domain_seed, test.n);
        cJSON_AddStringToObject(summary, "model", dws_model_id(model));
        cJSON_AddStringToObject(summary, "domain", domain_text);
        cJSON_AddNumberToObject(summary, "domain_seed", (double)domain_seed);
        cJSON_AddNumberToObject(summary, "test_images", (double)test.n);
        rc = report(md, summary, "", &e.ours, optr, n_methods, &err);
    }
    if (rc == 0) rc = eval_plots_write(out, &e.ours, curves, model_path, &err);
    /* Then the same on the classifiers that every baseline covers: a like-for-like table. */
    if (rc == 0 && common && n_loaded) {
        keep_common(&e.ours, others, n_loaded);
        fprintf(md, "\n## On the classifiers that every method covers\n");
        rc = report(md, summary, "common_", &e.ours, optr, n_methods, &err);
    }
    if (md) fclose(md);
    char *sj = rc == 0 ? cJSON_Print(summary) : NULL;
    if (sj) {
        snprintf(path, sizeof path, "%s/eval.json", out);
        rc = cli_write_file(path, sj, strlen(sj), &err);
    }
    if (rc == 0 && card_entry) {
        char *compact = cJSON_PrintUnformatted(summary);
        rc = dws_model_set_card_entry(model, card_entry, compact, &err);
        if (rc == 0) rc = dws_model_save(model, model_path, &err);
        free(compact);
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/eval.md", out);
        FILE *f = fopen(path, "r");
        char buf[4096];
        size_t n;
        while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
        if (f) fclose(f);
    }
    free(sj);
    cJSON_Delete(summary);
    for (int i = 0; i < n_loaded; i++) eval_results_free(&others[i]);
    eval_results_free(&e.ours);
    eval_results_free(&e.oracle);
    eval_oracle_data_free(&od);
    free(clean);
    free(target);
    dws_image_set_free(&test);
    dws_model_free(model);
    return rc == 0 ? 0 : cli_fail(CMD, &err);
}
