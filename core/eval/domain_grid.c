/* The domain grid of a conditioned adapter (eval.h, domain grid): every corruption
 * type at severities 1, 3 and 5 and the default chain; per domain the held-out
 * classifiers unadapted, adapted with the domain named, adapted with `any`, and
 * fine-tuned by the oracle (cached, one file per domain, since it does not depend
 * on the adapter). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eval.h"
#include "svg_plot.h"
#include "train/train.h"

static const int SEVERITIES[] = {1, 3, 5};
#define N_SEV 3
#define N_DOMAINS (1 + DWS_CORRUPT_COUNT * N_SEV)
#define HURTING_POINTS 2.0   /* the "domains where the oracle gains at least 2 points" */

typedef struct {
    char spec[64];
    dws_adapt_domain domain;
    double before, named, any, oracle;   /* mean accuracies in %; NAN: not measured */
    double seconds;
} grid_row;

static void grid_domains(grid_row *rows)
{
    dws_error e;
    snprintf(rows[0].spec, sizeof rows[0].spec, "%s", DWS_DEFAULT_DOMAIN);
    for (int t = 0; t < DWS_CORRUPT_COUNT; t++)
        for (int s = 0; s < N_SEV; s++)
            snprintf(rows[1 + t * N_SEV + s].spec, sizeof rows[0].spec, "%s:%d", dws_corruption_name(t), SEVERITIES[s]);
    for (int i = 0; i < N_DOMAINS; i++) dws_adapt_domain_parse(rows[i].spec, &rows[i].domain, &e);
}

/* Mean accuracy (%) over the classifiers, adapted for d (NULL: as they are); NAN
 * when the adapter does not read d. */
static int mean_accuracy(const dws_model *model, const dws_adapt_domain *d, const dws_zoo_set *set,
                         const dws_samples *test, int threads, double *mean, dws_error *err)
{
    dws_adapt_domain resolved;
    dws_error ignored;
    if (d && dws_model_resolve_domain(model, d, &resolved, &ignored) != 0) {
        *mean = NAN;
        return 0;
    }
    dws_run_opts opts = {.threads = threads, .domain = d};
    double sum = 0;
    for (int i = 0; i < set->n; i++) {
        dws_mlp adapted = {0};
        double acc;
        if (d && dws_adapter_apply(model, &set->m[i].mlp, &adapted, &opts, err) != 0) return -1;
        int rc = dws_mlp_accuracy(d ? &adapted : &set->m[i].mlp, test, &acc, err);
        dws_mlp_free(&adapted);
        if (rc != 0) return -1;
        sum += acc;
    }
    *mean = 100.0 * sum / set->n;
    return 0;
}

/* The oracle's cache file of a domain: its spec with ':' and ',' made file-safe. */
static void oracle_path(const char *dir, const char *spec, char *path, size_t size)
{
    char name[80];
    size_t k = 0;
    for (const char *p = spec; *p && k + 1 < sizeof name; p++) name[k++] = *p == ':' ? '-' : *p == ',' ? '+' : *p;
    name[k] = '\0';
    snprintf(path, size, "%s/oracle-%s.json", dir, name);
}

/* The cached oracle mean for these classifiers and images, or NAN. */
static double oracle_cached(const char *path, const dws_zoo_set *set, int images)
{
    size_t len;
    dws_error e;
    char *text = (char *)dws_read_file(path, 1 << 20, &len, &e);
    if (!text) return NAN;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(j, "ids"), *mean = cJSON_GetObjectItemCaseSensitive(j, "mean");
    const cJSON *im = cJSON_GetObjectItemCaseSensitive(j, "images");
    double v = NAN;
    if (cJSON_IsArray(ids) && cJSON_GetArraySize(ids) == set->n && cJSON_IsNumber(mean) && cJSON_IsNumber(im) &&
        im->valuedouble == images) {
        v = mean->valuedouble;
        for (int i = 0; i < set->n; i++)
            if (cJSON_GetArrayItem(ids, i)->valuedouble != set->m[i].id) v = NAN;
    }
    cJSON_Delete(j);
    return v;
}

static int oracle_store(const char *path, const char *spec, const dws_zoo_set *set, int images, double mean,
                        dws_error *err)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "domain", spec);
    cJSON_AddStringToObject(j, "method", "oracle: 1 epoch of Adam 5e-4, batch 128, on the labelled corrupted "
                                         "training images (docs/task.md section 5)");
    cJSON_AddNumberToObject(j, "images", images);
    cJSON_AddNumberToObject(j, "mean", mean);
    cJSON *ids = cJSON_AddArrayToObject(j, "ids");
    for (int i = 0; i < set->n; i++) cJSON_AddItemToArray(ids, cJSON_CreateNumber(set->m[i].id));
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    int rc = text ? dws_write_file_atomic(path, (const uint8_t *)text, strlen(text), err) : -1;
    free(text);
    return rc;
}

/* Fine-tunes a copy of every classifier on the training images through d and
 * scores it on test. */
static int oracle_run(const dws_domain *d, const dws_image_set *train, const dws_zoo_set *set,
                      const dws_samples *test, double *mean, dws_error *err)
{
    float *x = dws_eval_corrupted_copy(train, d, DWS_EVAL_TRAIN_SEED, err);
    if (!x) return -1;
    dws_samples labeled = dws_samples_of_floats(x, train->labels, train->n, train->dim);
    double sum = 0;
    int rc = 0;
    for (int i = 0; i < set->n && rc == 0; i++) {
        dws_mlp copy = {0};
        double acc = 0;
        rc = dws_mlp_clone(&copy, &set->m[i].mlp, err);
        if (rc == 0) rc = dws_oracle_finetune(&copy, &labeled, 0, err);
        if (rc == 0) rc = dws_mlp_accuracy(&copy, test, &acc, err);
        dws_mlp_free(&copy);
        sum += acc;
    }
    free(x);
    *mean = 100.0 * sum / set->n;
    return rc;
}

/* The test images through row r's domain. */
static float *corrupted_test(const dws_image_set *test_set, const grid_row *r, dws_samples *test, dws_error *err)
{
    float *x = dws_eval_corrupted_copy(test_set, &r->domain.chain, DWS_EVAL_TEST_SEED, err);
    if (x) *test = dws_samples_of_floats(x, test_set->labels, test_set->n, test_set->dim);
    return x;
}

/* Severity 5 first, then 3, then 1 (the default chain before all): where the
 * oracle has most to gain, so that a time budget covers those first. */
static int oracle_order(int k)
{
    if (k == 0) return 0;
    k--;
    int band = k / DWS_CORRUPT_COUNT, t = k % DWS_CORRUPT_COUNT;
    return 1 + t * N_SEV + (N_SEV - 1 - band);
}

static int measure(const dws_domain_grid_config *c, const dws_domain_grid_hooks *h, const dws_zoo_set *set,
                   const dws_image_set *test_set, grid_row *rows, dws_error *err)
{
    int rc = 0;
    char path[4096];
    /* Pass 1: the adapter's columns, and the oracle's where cached. */
    for (int i = 0; i < N_DOMAINS && rc == 0; i++) {
        grid_row *r = &rows[i];
        double t0 = dws_train_seconds();
        dws_samples test;
        float *x = corrupted_test(test_set, r, &test, err);
        if (!x) return -1;
        dws_adapt_domain any = {.kind = DWS_DOMAIN_ANY};
        rc = mean_accuracy(c->model, NULL, set, &test, c->threads, &r->before, err);
        if (rc == 0) rc = mean_accuracy(c->model, &r->domain, set, &test, c->threads, &r->named, err);
        if (rc == 0) rc = mean_accuracy(c->model, &any, set, &test, c->threads, &r->any, err);
        r->oracle = NAN;
        if (c->oracle_dir) {
            oracle_path(c->oracle_dir, r->spec, path, sizeof path);
            r->oracle = oracle_cached(path, set, (int)test_set->n);
        }
        free(x);
        r->seconds = dws_train_seconds() - t0;
        if (rc == 0 && h && h->on_domain) h->on_domain(h->ctx, i, N_DOMAINS, r->spec, r->seconds);
    }
    /* Pass 2: the oracle where it is missing, most telling domains first, within the budget. */
    dws_image_set train = {0};
    double start = dws_train_seconds();
    for (int k = 0; k < N_DOMAINS && rc == 0 && c->oracle_dir && c->compute_oracle; k++) {
        grid_row *r = &rows[oracle_order(k)];
        if (!isnan(r->oracle)) continue;
        if (c->oracle_seconds > 0 && dws_train_seconds() - start > c->oracle_seconds) break;
        double t0 = dws_train_seconds();
        dws_samples test;
        float *x = corrupted_test(test_set, r, &test, err);
        if (!x) rc = -1;
        if (rc == 0 && !train.n) rc = dws_cifar10_load_split(c->data_dir, DWS_SPLIT_TRAIN, &train, err);
        if (rc == 0) rc = oracle_run(&r->domain.chain, &train, set, &test, &r->oracle, err);
        oracle_path(c->oracle_dir, r->spec, path, sizeof path);
        if (rc == 0) rc = oracle_store(path, r->spec, set, (int)test_set->n, r->oracle, err);
        free(x);
        if (rc == 0 && h && h->on_oracle) h->on_oracle(h->ctx, r->spec, r->oracle - r->before, dws_train_seconds() - t0);
    }
    dws_image_set_free(&train);
    return rc;
}

static void gain_cell(FILE *f, double after, double before)
{
    if (isnan(after)) fprintf(f, " – |");
    else fprintf(f, " %+.2f |", after - before);
}

/* The targets of the domains issue, over the grid; also into json. */
static void targets(FILE *f, const grid_row *rows, cJSON *json)
{
    double o_sum = 0, n_sum = 0, a_sum = 0, worst = INFINITY;
    int hurting = 0, any_positive = 0;
    char worst_spec[64] = "";
    for (int i = 0; i < N_DOMAINS; i++) {
        const grid_row *r = &rows[i];
        double gn = r->named - r->before;
        if (!isnan(gn) && gn < worst) {
            worst = gn;
            snprintf(worst_spec, sizeof worst_spec, "%s", r->spec);
        }
        if (isnan(r->oracle) || r->oracle - r->before < HURTING_POINTS) continue;
        hurting++;
        o_sum += r->oracle - r->before;
        n_sum += gn;
        a_sum += r->any - r->before;
        any_positive += r->any - r->before > 0;
    }
    int measured = 0;
    for (int i = 0; i < N_DOMAINS; i++) measured += !isnan(rows[i].oracle);
    fprintf(f, "\nTargets (domains where the oracle gains at least %.0f points: %d of the %d with an oracle "
               "result):\n", HURTING_POINTS, hurting, measured);
    if (hurting) {
        fprintf(f, "- [%s] named-domain summed gain %.1f points = %.0f%% of the oracle's %.1f (target 80%%)\n",
                n_sum >= 0.8 * o_sum ? "x" : " ", n_sum, 100 * n_sum / o_sum, o_sum);
        fprintf(f, "- [%s] `any`: positive mean gain on %d of %d of them (target: all)\n",
                any_positive == hurting ? "x" : " ", any_positive, hurting);
        fprintf(f, "- [%s] `any`: summed gain %.1f points = %.0f%% of the named-domain gain (target 50%%)\n",
                a_sum >= 0.5 * n_sum ? "x" : " ", a_sum, n_sum != 0 ? 100 * a_sum / n_sum : 0);
    } else {
        fprintf(f, "- (no oracle results: run with the oracle to check the gain targets)\n");
    }
    fprintf(f, "- [%s] no domain where the named-domain adapter lowers mean accuracy by more than 0.5 points "
               "(worst: %s, %+.2f)\n", worst >= -0.5 ? "x" : " ", worst_spec, worst);
    cJSON *t = cJSON_AddObjectToObject(json, "targets");
    cJSON_AddNumberToObject(t, "hurting_domains", hurting);
    cJSON_AddNumberToObject(t, "oracle_gain_sum", o_sum);
    cJSON_AddNumberToObject(t, "named_gain_sum", n_sum);
    cJSON_AddNumberToObject(t, "any_gain_sum", a_sum);
    cJSON_AddNumberToObject(t, "any_positive", any_positive);
    cJSON_AddNumberToObject(t, "worst_named_gain", worst);
    cJSON_AddStringToObject(t, "worst_named_domain", worst_spec);
}

static int heatmap(const char *dir, const char *name, const char *title, const grid_row *rows, int which,
                   dws_error *err)
{
    static const char *const cols[N_SEV] = {"severity 1", "severity 3", "severity 5"};
    const char *labels[DWS_CORRUPT_COUNT];
    double v[DWS_CORRUPT_COUNT * N_SEV];
    for (int t = 0; t < DWS_CORRUPT_COUNT; t++) {
        labels[t] = dws_corruption_name(t);
        for (int s = 0; s < N_SEV; s++) {
            const grid_row *r = &rows[1 + t * N_SEV + s];
            double after = which == 0 ? r->named : which == 1 ? r->any : r->oracle;
            v[t * N_SEV + s] = after - r->before;
        }
    }
    svg_heatmap hm = {title, labels, cols, DWS_CORRUPT_COUNT, N_SEV, v};
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return svg_heatmap_write(path, &hm, err);
}

static int report(const dws_domain_grid_config *c, const dws_zoo_set *set, int images, const grid_row *rows,
                  char **text, dws_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/grid.md", c->out_dir);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cJSON *json = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(json, "domains");
    fprintf(f, "### Domain grid: %s\n\n%d held-out test classifiers of the zoo, the first %d test images through "
               "each domain (noise seed %d); mean accuracy in %%, gains in points.\n\n",
            dws_model_id(c->model), set->n, images, DWS_EVAL_TEST_SEED);
    fprintf(f, "| domain | no adaptation | named | any | oracle |\n|---|---|---|---|---|\n");
    for (int i = 0; i < N_DOMAINS; i++) {
        const grid_row *r = &rows[i];
        fprintf(f, "| %s | %.2f |", r->spec, r->before);
        gain_cell(f, r->named, r->before);
        gain_cell(f, r->any, r->before);
        gain_cell(f, r->oracle, r->before);
        fprintf(f, "\n");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "domain", r->spec);
        cJSON_AddNumberToObject(o, "before", r->before);
        cJSON_AddItemToObject(o, "named", isnan(r->named) ? cJSON_CreateNull() : cJSON_CreateNumber(r->named));
        cJSON_AddItemToObject(o, "any", isnan(r->any) ? cJSON_CreateNull() : cJSON_CreateNumber(r->any));
        cJSON_AddItemToObject(o, "oracle", isnan(r->oracle) ? cJSON_CreateNull() : cJSON_CreateNumber(r->oracle));
        cJSON_AddItemToArray(arr, o);
    }
    targets(f, rows, json);
    fprintf(f, "\nHeatmaps (type x severity, gain in points): grid-named.svg, grid-any.svg%s.\n",
            c->oracle_dir ? ", grid-oracle.svg" : "");
    fclose(f);
    int rc = heatmap(c->out_dir, "grid-named.svg", "gain with the domain named (points)", rows, 0, err);
    if (rc == 0) rc = heatmap(c->out_dir, "grid-any.svg", "gain with `any` (points)", rows, 1, err);
    if (rc == 0 && c->oracle_dir)
        rc = heatmap(c->out_dir, "grid-oracle.svg", "gain of the fine-tuning oracle (points)", rows, 2, err);
    char *js = cJSON_Print(json);
    cJSON_Delete(json);
    if (rc == 0) rc = dws_write_file_atomic(path, (const uint8_t *)buf, len, err);
    snprintf(path, sizeof path, "%s/grid.json", c->out_dir);
    if (rc == 0) rc = js ? dws_write_file_atomic(path, (const uint8_t *)js, strlen(js), err) : -1;
    free(js);
    if (rc != 0) {
        free(buf);
        return -1;
    }
    *text = buf;
    return 0;
}

int dws_domain_grid_run(const dws_domain_grid_config *c, const dws_domain_grid_hooks *h, char **text,
                        dws_error *err)
{
    *text = NULL;
    if ((mkdir(c->out_dir, 0777) != 0 && errno != EEXIST) ||
        (c->oracle_dir && mkdir(c->oracle_dir, 0777) != 0 && errno != EEXIST)) {
        dws_error_set(err, DWS_E_IO, "cannot create %s", errno == EEXIST ? c->oracle_dir : c->out_dir);
        return -1;
    }
    dws_zoo_set set = {0};
    dws_image_set test = {0};
    grid_row *rows = calloc(N_DOMAINS, sizeof *rows);
    int rc = rows ? 0 : -1;
    if (!rows) dws_error_set(err, DWS_E_OUT_OF_MEMORY, "grid rows");
    if (rc == 0) rc = dws_zoo_set_load(c->zoo_dir, 1u << DWS_ZOO_TEST, c->limit, &set, err);
    if (rc == 0) rc = dws_cifar10_load_split(c->data_dir, DWS_SPLIT_TEST, &test, err);
    if (rc == 0 && set.n == 0) {
        dws_error_set(err, DWS_E_BAD_DATA, "%s has no test classifiers", c->zoo_dir);
        rc = -1;
    }
    if (rc == 0) {
        if (c->images > 0 && (size_t)c->images < test.n) test.n = (size_t)c->images;
        grid_domains(rows);
        rc = measure(c, h, &set, &test, rows, err);
    }
    if (rc == 0) rc = report(c, &set, (int)test.n, rows, text, err);
    free(rows);
    dws_zoo_set_free(&set);
    dws_image_set_free(&test);
    return rc;
}
