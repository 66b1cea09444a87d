/* The report of docs/task.md section 6 for an adapter (eval.h): every held-out
 * classifier adapted and scored before and after, tables beside the baselines'
 * results, plots. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eval.h"
#include "eval_plots.h"
#include "eval_results.h"
#include "onnx/onnx_codec.h"
#include "train/train.h"

#define MAX_EXTRA_FILES 1024
static const char *const SPLITS[] = {"test", "test_unseen_widths", "extra"};

/* The fine-tuning oracle of docs/task.md section 5 for classifiers the baselines
 * do not cover: the corrupted training images, labelled. */
typedef struct {
    float *x;
    dws_samples samples;
} oracle_data;

typedef struct {
    dws_samples clean, target;
    const dws_model *model;
    dws_run_opts opts;
    eval_results ours;
    const oracle_data *oracle_data;   /* NULL: no oracle for extra classifiers */
    eval_results oracle;
    const dws_eval_adapter_hooks *hooks;
} evaluator;

static void oracle_data_free(oracle_data *d)
{
    free(d->x);
    free((void *)d->samples.labels);
    memset(d, 0, sizeof *d);
}

static int oracle_data_load(oracle_data *d, const char *data, const dws_domain *domain, uint64_t seed, dws_error *err)
{
    memset(d, 0, sizeof *d);
    dws_image_set train;
    if (dws_cifar10_load_split(data, DWS_SPLIT_TRAIN, &train, err) != 0) return -1;
    uint8_t *labels = NULL;
    int rc = (d->x = dws_eval_corrupted_copy(&train, domain, seed, err)) ? 0 : -1;
    if (rc == 0 && !(labels = malloc(train.n))) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "oracle labels");
        rc = -1;
    }
    if (rc == 0) {
        /* The view outlives train: it gets its own copy of the labels. */
        memcpy(labels, train.labels, train.n);
        d->samples = dws_samples_of_floats(d->x, labels, train.n, train.dim);
    }
    dws_image_set_free(&train);
    if (rc != 0) oracle_data_free(d);
    return rc;
}

/* Accuracy of m and of its changed copy on the corrupted and clean test images,
 * into a copy of key (the classifier's split and id). */
static int score(const evaluator *e, const dws_result_row *key, const dws_mlp *m, const dws_mlp *changed,
                 dws_result_row *row, dws_error *err)
{
    *row = *key;
    row->n_layers = m->n_layers;
    row->activation = m->n_layers > 1 ? m->act[0] : DWS_ACT_IDENTITY;
    memcpy(row->widths, m->widths, sizeof(int64_t) * (size_t)(m->n_layers + 1));
    if (dws_mlp_accuracy(m, &e->target, &row->target_before, err) != 0 ||
        dws_mlp_accuracy(changed, &e->target, &row->target_after, err) != 0 ||
        dws_mlp_accuracy(m, &e->clean, &row->clean_before, err) != 0 ||
        dws_mlp_accuracy(changed, &e->clean, &row->clean_after, err) != 0)
        return -1;
    return 0;
}

/* The oracle fine-tunes m (pixel frame) in the frame it was trained in, as its
 * owner would: *tuned is its pixel-frame twin after. */
static int finetune_in_frame(const evaluator *e, const dws_mlp *m, dws_frame frame, dws_mlp *tuned, dws_error *err)
{
    dws_samples fit = e->oracle_data->samples;
    if (frame == DWS_FRAME_PIXEL) {
        if (dws_mlp_clone(tuned, m, err) != 0) return -1;
        return dws_oracle_finetune(tuned, &fit, 0, err);
    }
    fit.norm = &DWS_CIFAR10_STANDARDIZATION;
    dws_mlp own;
    if (dws_mlp_to_frame(m, frame, &own, err) != 0) return -1;
    int rc = dws_oracle_finetune(&own, &fit, 0, err);
    if (rc == 0) rc = dws_mlp_to_pixel_frame(&own, frame, tuned, err);
    dws_mlp_free(&own);
    return rc;
}

/* m: a classifier as its pixel-frame twin; frame: the input it was trained on. */
static int eval_one(evaluator *e, const dws_result_row *key, const dws_mlp *m, dws_frame frame, int with_oracle,
                    dws_error *err)
{
    dws_result_row row, tuned_row;
    dws_mlp adapted = {0};
    int rc = dws_adapter_apply_in_frame(e->model, m, frame, &adapted, &e->opts, err);
    if (rc == 0) rc = score(e, key, m, &adapted, &row, err);
    dws_mlp_free(&adapted);
    if (rc != 0 || eval_results_add(&e->ours, &row, err) != 0) return -1;
    int tuned = with_oracle && e->oracle_data;
    if (tuned) {
        dws_mlp copy = {0};
        rc = finetune_in_frame(e, m, frame, &copy, err);
        if (rc == 0) rc = score(e, key, m, &copy, &tuned_row, err);
        dws_mlp_free(&copy);
        if (rc != 0 || eval_results_add(&e->oracle, &tuned_row, err) != 0) return -1;
    }
    if (e->hooks && e->hooks->on_result) e->hooks->on_result(e->hooks->ctx, &row, tuned ? &tuned_row : NULL);
    return 0;
}

static int eval_zoo(evaluator *e, const char *dir, int limit, int with_oracle, dws_error *err)
{
    for (int s = DWS_ZOO_TEST; s <= DWS_ZOO_TEST_UNSEEN_WIDTHS; s++) {
        dws_zoo_set set;
        if (dws_zoo_set_load(dir, 1u << s, limit, &set, err) != 0) return -1;
        int rc = 0;
        for (int i = 0; i < set.n && rc == 0; i++) {
            dws_result_row key = {.id = set.m[i].id, .split = s};
            rc = eval_one(e, &key, &set.m[i].mlp, set.m[i].frame, with_oracle, err);
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

/* "a,b,c" from a JSON array of numbers (at most 3), into buf. */
static int json_list(const cJSON *arr, char *buf, size_t cap)
{
    const cJSON *v;
    buf[0] = 0;
    int n = 0;
    cJSON_ArrayForEach(v, arr)
    {
        if (!cJSON_IsNumber(v) || n == 3) return -1;
        size_t at = strlen(buf);
        snprintf(buf + at, cap - at, "%s%.9g", n++ ? "," : "", v->valuedouble);
    }
    return n ? 0 : -1;
}

/* A classifier normalised outside its file says how in NAME.json beside NAME.onnx
 * ({"input_mean": [...], "input_std": [...]}, as `adapt --input-mean/--input-std`):
 * *norm gets it (n = 0: no such file). */
static int extra_input_norm(const char *onnx_path, dws_input_norm *norm, dws_error *err)
{
    memset(norm, 0, sizeof *norm);
    char side[4096];
    snprintf(side, sizeof side, "%.*s.json", (int)strlen(onnx_path) - 5, onnx_path);
    FILE *probe = fopen(side, "rb");
    if (!probe) return 0;
    fclose(probe);
    size_t len;
    uint8_t *text = dws_read_file(side, 1u << 16, &len, err);
    if (!text) return -1;
    cJSON *j = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    char mean[128], std[128];
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "input_mean"), *s = cJSON_GetObjectItemCaseSensitive(j, "input_std");
    int rc = m && s && json_list(m, mean, sizeof mean) == 0 && json_list(s, std, sizeof std) == 0 ? 0 : -1;
    cJSON_Delete(j);
    if (rc != 0) {
        dws_error_set(err, DWS_E_BAD_DATA, "%s: expected input_mean and input_std arrays of 1 or 3 numbers", side);
        return -1;
    }
    return dws_input_norm_parse(norm, mean, std, NULL, err);
}

/* Every *.onnx of dir, in name order; files the adapter does not accept are
 * reported and skipped (that is the adapter refusing them, not an error). */
static int eval_extra(evaluator *e, const char *dir, int with_oracle, dws_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        dws_error_set(err, DWS_E_IO, "cannot read folder %s", dir);
        return -1;
    }
    char *names[MAX_EXTRA_FILES];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < MAX_EXTRA_FILES) {
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
        dws_pixel_frame pf = {0};   /* its own input preprocessing folded in: it reads pixel/255 */
        dws_input_norm norm;
        if (rc == 0) rc = extra_input_norm(path, &norm, err);
        if (rc == 0 && (!onnx || dws_pixel_frame_open(&pf, onnx, norm.n ? &norm : NULL, DWS_FRAME_PIXEL, &e2) != 0 ||
                        dws_model_check_input(e->model, dws_pixel_frame_weights(&pf, onnx), &e2) != 0)) {
            if (e->hooks && e->hooks->on_skip) e->hooks->on_skip(e->hooks->ctx, path, &e2);
        } else if (rc == 0) {
            /* Read as /adapt reads it: normalised inputs in the adapter's frame for them. */
            dws_frame frame = pf.rescales ? dws_model_frame_for_normalized(e->model) : DWS_FRAME_PIXEL;
            rc = eval_one(e, &key, dws_pixel_frame_weights(&pf, onnx), frame, with_oracle, &e2);
            /* Weights the adapter refuses (its guard) are a refusal too. */
            if (rc != 0 && e2.code && !strcmp(e2.code, DWS_E_INCOMPATIBLE_MODEL) && e->hooks && e->hooks->on_skip) {
                e->hooks->on_skip(e->hooks->ctx, path, &e2);
                rc = 0;
            } else if (rc != 0) {
                *err = e2;
            }
        }
        dws_pixel_frame_close(&pf);
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

/* One row of the groups table, its target line in *targets, its figures in arr. */
static int group_row(FILE *md, cJSON *arr, const char *label, const eval_filter *f, const eval_results *ours,
                     const eval_results *const *others, int n_others, int *failed, char *targets, size_t cap,
                     dws_error *err)
{
    eval_summary s[EVAL_MAX_METHODS];
    if (eval_summarise(ours, others, n_others, f, s, err) != 0) return -1;
    const eval_summary *o = &s[1];
    double frac = o->oracle_fraction, oracle_gain = isnan(frac) || frac == 0 ? NAN : o->gain_mean / frac;
    char fr[32] = "–", og[32] = "–";
    if (!isnan(frac)) snprintf(fr, sizeof fr, "%.0f%%", 100 * frac), snprintf(og, sizeof og, "%+.2f", 100 * oracle_gain);
    fprintf(md, "| %s | %d | %.2f → %.2f | %+.2f | %s | %s | %.2f → %.2f |\n", label, o->n, 100 * s[0].after_mean,
            100 * o->after_mean, 100 * o->gain_mean, og, fr, 100 * o->clean_before, 100 * o->clean_after);
    size_t at = strlen(targets);
    if (!isnan(frac)) {
        snprintf(targets + at, cap - at, "- [%s] %s: %.0f%% of the oracle's gain (target 70%%)\n",
                 frac >= 0.7 ? "x" : " ", label, 100 * frac);
        *failed += frac < 0.7;
    }
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "group", label);
    cJSON_AddNumberToObject(g, "classifiers", o->n);
    cJSON_AddNumberToObject(g, "gain_mean", o->gain_mean);
    if (!isnan(frac)) cJSON_AddNumberToObject(g, "fraction_of_oracle_gain", frac);
    cJSON_AddNumberToObject(g, "clean_acc_before", o->clean_before);
    cJSON_AddNumberToObject(g, "clean_acc_after", o->clean_after);
    cJSON_AddItemToArray(arr, g);
    return 0;
}

/* When the zoo mixes depths or hidden activations (the any-MLP adapter, docs/design.md
 * section 16): ours by depth and by activation over both held-out zoo splits,
 * against the oracle's gain on the same classifiers (target: 70% each), into md
 * and summary[prefix + "groups"]; *failed counts the misses. */
static int report_groups(FILE *md, cJSON *summary, const char *prefix, const eval_results *ours,
                         const eval_results *const *others, int n_others, int *failed, dws_error *err)
{
    int depth[DWS_MAX_LAYERS + 1] = {0}, act[DWS_ACT_LAST + 1] = {0}, n_depths = 0, n_acts = 0;
    for (int i = 0; i < ours->n; i++) {
        const dws_result_row *r = &ours->rows[i];
        if (r->split == DWS_RESULT_EXTRA) continue;
        n_depths += !depth[r->n_layers]++;
        n_acts += !act[r->activation]++;
    }
    if (n_depths < 2 && n_acts < 2) return 0;
    fprintf(md, "\n### held-out zoo classifiers (test and test_unseen_widths) by depth and by hidden activation\n\n");
    fprintf(md, "| group | classifiers | corrupted test acc before → after | gain (points) | oracle gain | of oracle gain "
                "| clean acc |\n|---|---|---|---|---|---|---|\n");
    char key[64], label[64], targets[4096] = "";
    snprintf(key, sizeof key, "%sgroups", prefix);
    cJSON *arr = cJSON_AddArrayToObject(summary, key);
    for (int L = 1; L <= DWS_MAX_LAYERS; L++) {
        if (!depth[L]) continue;
        eval_filter f = {.depth = L};
        snprintf(label, sizeof label, "%d hidden layer%s", L - 1, L == 2 ? "" : "s");
        if (group_row(md, arr, label, &f, ours, others, n_others, failed, targets, sizeof targets, err) != 0) return -1;
    }
    for (int a = 0; a <= DWS_ACT_LAST; a++) {
        if (!act[a]) continue;
        eval_filter f = {.activation = (dws_activation)a};
        snprintf(label, sizeof label, "%s", a == DWS_ACT_IDENTITY ? "activation not recorded" : dws_activation_name(a));
        if (a != DWS_ACT_IDENTITY &&
            group_row(md, arr, label, &f, ours, others, n_others, failed, targets, sizeof targets, err) != 0)
            return -1;
    }
    fprintf(md, "\nTargets:\n%s", targets);
    return 0;
}

/* The extra classifiers one by one (files a user brings: each its own style). */
static void extra_rows_md(FILE *md, const eval_results *ours, const eval_results *const *others, int n_others)
{
    const eval_results *oracle = NULL;
    for (int i = 0; i < n_others; i++)
        if (strcasestr(others[i]->method, "oracle")) oracle = others[i];
    int header = 0;
    for (int i = 0; i < ours->n; i++) {
        const dws_result_row *r = &ours->rows[i];
        if (r->split != DWS_RESULT_EXTRA) continue;
        if (!header++)
            fprintf(md, "\n### extra classifiers one by one\n\n| classifier | hidden layers | activation | corrupted "
                        "test acc before → after | gain | oracle gain | of oracle gain |\n|---|---|---|---|---|---|---|\n");
        const dws_result_row *q = oracle ? eval_results_find(oracle, r) : NULL;
        double g = r->target_after - r->target_before, og = q ? q->target_after - q->target_before : NAN;
        char ogs[32] = "–", fr[32] = "–";
        if (q) snprintf(ogs, sizeof ogs, "%+.2f", 100 * og);
        if (q && og != 0) snprintf(fr, sizeof fr, "%.0f%%", 100 * g / og);
        fprintf(md, "| %s | %d | %s | %.2f → %.2f | %+.2f | %s | %s |\n", r->name, r->n_layers - 1,
                r->activation == DWS_ACT_IDENTITY ? "–" : dws_activation_name(r->activation), 100 * r->target_before,
                100 * r->target_after, 100 * g, ogs, fr);
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
        const eval_filter f = {.split = SPLITS[k]};
        if (eval_summarise(ours, others, n_others, &f, s, err) != 0) return -1;
        if (s[1].n == 0) continue;
        table_md(md, s, n_others + 2, SPLITS[k]);
        fprintf(md, "\nTargets:\n");
        failed += eval_targets(md, s, n_others + 2, SPLITS[k]);
        snprintf(key, sizeof key, "%s%s", prefix, SPLITS[k]);
        cJSON *arr = cJSON_AddArrayToObject(summary, key);
        for (int i = 0; i < n_others + 2; i++)
            if (s[i].n) cJSON_AddItemToArray(arr, summary_json(&s[i]));
    }
    if (report_groups(md, summary, prefix, ours, others, n_others, &failed, err) != 0) return -1;
    extra_rows_md(md, ours, others, n_others);
    snprintf(key, sizeof key, "%stargets_missed", prefix);
    cJSON_AddNumberToObject(summary, key, failed);
    return 0;
}

/* Drops our zoo rows that some baseline lacks, so that every row of the table
 * averages the same classifiers (extra rows stay). */
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

/* The model's target domain, from its card. */
static int card_domain(const dws_eval_adapter_config *c, dws_domain *domain, char *text, size_t size, dws_error *err)
{
    if (c->domain) {   /* a domain named for a conditioned adapter */
        dws_adapt_domain d, resolved;
        if (dws_adapt_domain_parse(c->domain, &d, err) != 0 ||
            dws_model_resolve_domain(c->model, &d, &resolved, err) != 0)
            return -1;
        if (resolved.kind != DWS_DOMAIN_NAMED) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "eval needs a named domain (images to corrupt), not '%s'",
                          c->domain);
            return -1;
        }
        *domain = resolved.chain;
        dws_domain_format(domain, text, size);
        return 0;
    }
    cJSON *card = cJSON_Parse(dws_model_card_json(c->model));
    const cJSON *dom = cJSON_GetObjectItemCaseSensitive(card, "target_domain");
    int rc = 0;
    if (!cJSON_IsString(dom) || dws_domain_parse(dom->valuestring, domain, err) != 0) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE, "%s: the card names no valid target_domain", c->model_path);
        rc = -1;
    } else {
        snprintf(text, size, "%s", dom->valuestring);
    }
    cJSON_Delete(card);
    return rc;
}

int dws_eval_adapter_run(const dws_eval_adapter_config *c, const dws_eval_adapter_hooks *hooks, char **report_text,
                         dws_error *err)
{
    *report_text = NULL;
    if (c->n_baselines > EVAL_MAX_METHODS - 3) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "at most %d baseline files", EVAL_MAX_METHODS - 3);
        return -1;
    }
    dws_domain domain;
    char domain_text[256] = "";
    uint64_t domain_seed = c->domain_seed;
    int rc = card_domain(c, &domain, domain_text, sizeof domain_text, err);
    dws_zoo_spec spec;
    if (rc == 0 && c->zoo_dir && !c->domain_seed_given) {
        rc = dws_zoo_read_spec(c->zoo_dir, &spec, err);
        domain_seed = spec.domain_seed;
    }
    dws_image_set test = {0};
    float *clean = NULL, *target = NULL;
    if (rc == 0) rc = dws_cifar10_load_split(c->data_dir, DWS_SPLIT_TEST, &test, err);
    if (rc == 0 && c->limit_images > 0 && (size_t)c->limit_images < test.n) test.n = (size_t)c->limit_images;
    if (rc == 0 && !(clean = dws_image_set_float_copy(&test, err))) rc = -1;
    if (rc == 0 && !(target = dws_eval_corrupted_copy(&test, &domain, domain_seed, err))) rc = -1;
    dws_adapt_domain named = {.kind = DWS_DOMAIN_NAMED, .chain = domain};
    evaluator e = {.model = c->model, .opts = {.threads = c->threads, .domain = &named}, .hooks = hooks};
    snprintf(e.ours.method, sizeof e.ours.method, "DWSNet adapter (%s)", dws_model_id(c->model));
    if (rc == 0) {
        e.clean = dws_samples_of_floats(clean, test.labels, test.n, test.dim);
        e.target = dws_samples_of_floats(target, test.labels, test.n, test.dim);
        if (mkdir(c->out_dir, 0777) != 0 && errno != EEXIST) {
            dws_error_set(err, DWS_E_IO, "cannot create %s: %s", c->out_dir, strerror(errno));
            rc = -1;
        }
    }
    oracle_data od = {0};
    snprintf(e.oracle.method, sizeof e.oracle.method, "fine-tuning oracle");
    if (rc == 0 && ((c->extra_oracle && c->n_extra) || (c->zoo_oracle && c->zoo_dir))) {
        rc = oracle_data_load(&od, c->data_dir, &domain, domain_seed + 1, err);
        e.oracle_data = &od;
    }
    if (rc == 0 && c->zoo_dir) rc = eval_zoo(&e, c->zoo_dir, c->limit, c->zoo_oracle, err);
    for (int i = 0; i < c->n_extra && rc == 0; i++) rc = eval_extra(&e, c->extra_dirs[i], c->extra_oracle, err);

    eval_results others[EVAL_MAX_METHODS];
    const eval_results *optr[EVAL_MAX_METHODS];
    int n_loaded = 0, n_methods = 0;
    for (; n_loaded < c->n_baselines && rc == 0; n_loaded++) {
        rc = eval_results_read(c->baselines[n_loaded], &others[n_loaded], err);
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
            rc = eval_results_add(base_oracle, &e.oracle.rows[i], err);
        if (!base_oracle) optr[n_loaded + 0] = &e.oracle;
        n_methods = n_loaded + !base_oracle;
    }
    char path[4096], *md_text = NULL;
    size_t md_len = 0;
    FILE *md = NULL;
    cJSON *summary = cJSON_CreateObject();
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/dwsnet.json", c->out_dir);
        rc = dws_results_write(path, e.ours.method, NULL, e.ours.rows, e.ours.n, err);
    }
    if (rc == 0 && !(md = open_memstream(&md_text, &md_len))) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot buffer the report");
        rc = -1;
    }
    if (rc == 0) {
        fprintf(md, "## DWSNet adapter evaluation: %s\n\nTarget domain `%s` applied to test_batch (seed %llu, %zu images); "
                    "accuracy in %%.\n", dws_model_id(c->model), domain_text, (unsigned long long)domain_seed, test.n);
        cJSON_AddStringToObject(summary, "model", dws_model_id(c->model));
        cJSON_AddStringToObject(summary, "domain", domain_text);
        cJSON_AddNumberToObject(summary, "domain_seed", (double)domain_seed);
        cJSON_AddNumberToObject(summary, "test_images", (double)test.n);
        rc = report(md, summary, "", &e.ours, optr, n_methods, err);
    }
    if (rc == 0) rc = eval_plots_write(c->out_dir, &e.ours, c->curves, c->model_path, err);
    /* Then the same on the classifiers that every baseline covers: a like-for-like table. */
    if (rc == 0 && c->common && n_loaded) {
        keep_common(&e.ours, others, n_loaded);
        fprintf(md, "\n## On the classifiers that every method covers\n");
        rc = report(md, summary, "common_", &e.ours, optr, n_methods, err);
    }
    if (md) fclose(md);
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/eval.md", c->out_dir);
        rc = dws_write_file_atomic(path, md_text, md_len, err);
    }
    char *sj = rc == 0 ? cJSON_Print(summary) : NULL;
    if (rc == 0 && !sj) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot format the summary");
        rc = -1;
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/eval.json", c->out_dir);
        rc = dws_write_file_atomic(path, sj, strlen(sj), err);
    }
    if (rc == 0 && c->card_entry) {
        char *compact = cJSON_PrintUnformatted(summary);
        rc = dws_model_set_card_entry(c->model, c->card_entry, compact, err);
        if (rc == 0) rc = dws_model_save(c->model, c->model_path, err);
        free(compact);
    }
    if (rc == 0) *report_text = md_text;
    else free(md_text);
    free(sj);
    cJSON_Delete(summary);
    for (int i = 0; i < n_loaded; i++) eval_results_free(&others[i]);
    eval_results_free(&e.ours);
    eval_results_free(&e.oracle);
    oracle_data_free(&od);
    free(clean);
    free(target);
    dws_image_set_free(&test);
    return rc;
}
