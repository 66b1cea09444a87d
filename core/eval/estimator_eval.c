/* Measuring the domain estimator on CIFAR-10's test images (docs/estimator.md
 * section 4): for clean, every corruption at severities 1-5 and the estimator's chain
 * classes, a pool of test images through that domain (rounded to bytes); sets of 8, 64
 * and 256 distinct images drawn from each pool; the confusion matrix of the estimated
 * corruption type (a chain class estimated: the "chain" column), accuracy by type and
 * severity and by chain, and the time one estimate of 64 decoded images takes. */
#include "eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"

#define TYPES DWS_DOMAIN_TYPES

static const char *const SHORT[TYPES + 1] = {"none", "gauss", "shot", "impul", "speck", "contr", "brigh",
                                             "satur", "gblur", "defoc", "pixel", "glass", "motn", "zoom",
                                             "snow", "frost", "fog", "elast", "jpeg", "spatt", "chain"};

void dws_estimator_eval_defaults(dws_estimator_eval_config *c)
{
    memset(c, 0, sizeof *c);
    c->pool_images = 1000;
    const int sizes[DWS_ESTIMATOR_EVAL_SIZES] = {8, 64, 256}, sets[DWS_ESTIMATOR_EVAL_SIZES] = {100, 40, 20};
    for (int s = 0; s < DWS_ESTIMATOR_EVAL_SIZES; s++) c->sizes[s] = sizes[s], c->sets[s] = sets[s];
    c->seed = DWS_EVAL_TEST_SEED;
    c->threads = 2;
    c->timing_runs = 200;
}

const char *dws_domain_type_name(int type)
{
    return type == 0 ? "clean" : type == DWS_ESTIMATOR_EVAL_CHAIN ? "chain" : dws_corruption_name((dws_corruption)(type - 1));
}

/* The test domains: the 96 singles, then the estimator's chain classes (as many as fit);
 * type[k]: the estimator's type of a chain domain (dws_estimator_class_type). */
static int test_domains(const dws_estimator *e, dws_domain *domains, int *type)
{
    int n = dws_estimator_classes(0, NULL, 0, domains, NULL);
    for (int i = 0; i < dws_estimator_class_count(e) && n < DWS_ESTIMATOR_MAX_CLASSES; i++)
        if (dws_estimator_class(e, i)->n_steps > 1) {
            type[n] = dws_estimator_class_type(e, i);
            domains[n++] = *dws_estimator_class(e, i);
        }
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median time of one estimate of the first 64 test images, in ms, on this thread. */
static int time_estimate(const dws_estimator *e, const dws_image_set *test, int runs, double *ms, dws_error *err)
{
    enum { N = 64 };
    float *x = malloc(sizeof(float) * N * DWS_CIFAR10_DIM);
    double *t = malloc(sizeof(double) * (size_t)(runs > 0 ? runs : 1));
    if (!x || !t) {
        free(x);
        free(t);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory for the timing");
        return -1;
    }
    dws_image_set_to_float(test, 0, N, x);
    dws_domain_estimate est;
    int rc = 0;
    for (int i = 0; i < runs && rc == 0; i++) {
        double t0 = dws_train_seconds();
        rc = dws_estimate_domain(e, x, N, &est, err);
        t[i] = (dws_train_seconds() - t0) * 1e3;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    *ms = runs > 0 ? t[runs / 2] : 0;
    free(x);
    free(t);
    return rc;
}

int dws_estimator_eval(const dws_estimator *e, const dws_estimator_eval_config *c, dws_estimator_eval_result *r,
                       dws_error *err)
{
    memset(r, 0, sizeof *r);
    dws_domain *domains = r->domains;
    int chain_type[DWS_ESTIMATOR_MAX_CLASSES];
    int n = r->n_domains = test_domains(e, domains, chain_type);
    for (int s = 0; s < DWS_ESTIMATOR_EVAL_SIZES; s++) {
        r->sizes[s] = c->sizes[s];
        if (c->sizes[s] < 1 || c->sizes[s] > c->pool_images || c->sets[s] < 0) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "sets of %d images cannot be drawn from pools of %d",
                          c->sizes[s], c->pool_images);
            return -1;
        }
    }
    dws_image_set test = {0};
    double *pool = NULL;
    uint32_t *order = NULL;
    int rc = -1;
    double t0 = dws_train_seconds();
    if (dws_cifar10_load_split(c->data_dir, DWS_SPLIT_TEST, &test, err)) goto done;
    if ((size_t)c->pool_images > test.n) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "pools of %d images: the test split has %zu", c->pool_images,
                      test.n);
        goto done;
    }
    pool = malloc(sizeof(double) * (size_t)n * c->pool_images * DWS_DOMAIN_STATS);
    order = malloc(sizeof(uint32_t) * (size_t)c->pool_images);
    if (!pool || !order) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory for the test pools");
        goto done;
    }
    if (dws_domain_pools_build(&test, 0, (uint32_t)test.n, domains, n, (uint32_t)c->pool_images, c->seed, c->threads,
                               pool, err))
        goto done;
    r->pool_seconds = dws_train_seconds() - t0;
    dws_domain_estimate est;
    float f[DWS_DOMAIN_FEATURES];
    for (int s = 0; s < DWS_ESTIMATOR_EVAL_SIZES; s++) {
        for (int k = 0; k < n; k++) {
            dws_rng rng;
            dws_rng_seed_stream(&rng, c->seed ^ 0xe5717, (uint64_t)(s * DWS_ESTIMATOR_MAX_CLASSES + k));
            for (int i = 0; i < c->pool_images; i++) order[i] = (uint32_t)i;
            int chain = k >= DWS_ESTIMATOR_EVAL_SINGLES, truth = chain ? chain_type[k] : dws_domain_type(&domains[k]);
            for (int i = 0; i < c->sets[s]; i++) {
                dws_domain_features_of_draw(pool + (size_t)k * c->pool_images * DWS_DOMAIN_STATS, order,
                                            (uint32_t)c->pool_images, (uint32_t)c->sizes[s], &rng, f);
                if (dws_estimator_classify(e, f, &est, err)) goto done;
                int column = est.type < TYPES ? est.type : DWS_ESTIMATOR_EVAL_CHAIN;
                r->confusion[s][chain ? DWS_ESTIMATOR_EVAL_CHAIN : truth][column]++;
                r->sets[s][k]++;
                r->type_right[s][k] += est.type == truth;
                r->exact_right[s][k] += dws_domain_same(&est.domain, &domains[k]);
            }
        }
    }
    r->ms_per_64 = 0;
    if (c->timing_runs > 0 && time_estimate(e, &test, c->timing_runs, &r->ms_per_64, err)) goto done;
    r->seconds = dws_train_seconds() - t0;
    rc = 0;
done:
    dws_image_set_free(&test);
    free(pool);
    free(order);
    return rc;
}

/* The type accuracy over domains [k0, k1) of size s, and the exact one. */
static double share(const dws_estimator_eval_result *r, int s, int k0, int k1, int exact)
{
    int right = 0, total = 0;
    for (int k = k0; k < k1; k++) {
        right += exact ? r->exact_right[s][k] : r->type_right[s][k];
        total += r->sets[s][k];
    }
    return total ? (double)right / total : 0;
}

void dws_estimator_eval_summarise(const dws_estimator_eval_result *r, dws_estimator_eval_summary *out)
{
    for (int s = 0; s < DWS_ESTIMATOR_EVAL_SIZES; s++) {
        out->clean[s] = share(r, s, 0, 1, 0);
        out->corrupted_type[s] = share(r, s, 1, DWS_ESTIMATOR_EVAL_SINGLES, 0);
        out->corrupted_exact[s] = share(r, s, 1, DWS_ESTIMATOR_EVAL_SINGLES, 1);
        for (int t = 0; t < DWS_CORRUPT_COUNT; t++) out->per_type[s][t] = share(r, s, 1 + 5 * t, 6 + 5 * t, 0);
        out->chain_exact[s] = r->n_domains > DWS_ESTIMATOR_EVAL_SINGLES
                                  ? share(r, s, DWS_ESTIMATOR_EVAL_SINGLES, r->n_domains, 1) : NAN;
    }
}

static double round4(double v)
{
    return round(v * 1e4) / 1e4;
}

static cJSON *by_size(const dws_estimator_eval_result *r, const double *v)
{
    cJSON *o = cJSON_CreateObject();
    for (int s = 0; s < DWS_ESTIMATOR_EVAL_SIZES; s++) {
        char key[16];
        snprintf(key, sizeof key, "%d", r->sizes[s]);
        cJSON_AddNumberToObject(o, key, round4(v[s]));
    }
    return o;
}

cJSON *dws_estimator_eval_json(const dws_estimator_eval_result *r, const dws_estimator_eval_config *c)
{
    dws_estimator_eval_summary m;
    dws_estimator_eval_summarise(r, &m);
    cJSON *o = cJSON_CreateObject();
    char what[200];
    snprintf(what, sizeof what, "CIFAR-10 test images (test_batch), %d per domain, rounded to bytes after corruption",
             c->pool_images);
    cJSON_AddStringToObject(o, "images", what);
    cJSON *sets = cJSON_AddObjectToObject(o, "sets_per_domain");
    for (int s = 0; s < DWS_ESTIMATOR_EVAL_SIZES; s++) {
        char key[16];
        snprintf(key, sizeof key, "%d", r->sizes[s]);
        cJSON_AddNumberToObject(sets, key, c->sets[s]);
    }
    cJSON_AddItemToObject(o, "type_accuracy", by_size(r, m.corrupted_type));
    cJSON_AddItemToObject(o, "exact_accuracy", by_size(r, m.corrupted_exact));
    cJSON_AddItemToObject(o, "clean_as_clean", by_size(r, m.clean));
    cJSON *pt = cJSON_AddObjectToObject(o, "type_accuracy_by_type");
    for (int t = 0; t < DWS_CORRUPT_COUNT; t++) {
        double v[DWS_ESTIMATOR_EVAL_SIZES];
        for (int s = 0; s < DWS_ESTIMATOR_EVAL_SIZES; s++) v[s] = m.per_type[s][t];
        cJSON_AddItemToObject(pt, dws_corruption_name((dws_corruption)t), by_size(r, v));
    }
    if (r->n_domains > DWS_ESTIMATOR_EVAL_SINGLES) {
        cJSON_AddItemToObject(o, "chain_exact_accuracy", by_size(r, m.chain_exact));
        cJSON *ch = cJSON_AddObjectToObject(o, "chain_exact_accuracy_by_chain");
        for (int k = DWS_ESTIMATOR_EVAL_SINGLES; k < r->n_domains; k++) {
            double v[DWS_ESTIMATOR_EVAL_SIZES];
            char spec[64];
            for (int s = 0; s < DWS_ESTIMATOR_EVAL_SIZES; s++) v[s] = share(r, s, k, k + 1, 1);
            dws_domain_format(&r->domains[k], spec, sizeof spec);
            cJSON_AddItemToObject(ch, spec, by_size(r, v));
        }
    }
    cJSON_AddNumberToObject(o, "ms_per_64_images", round(r->ms_per_64 * 1000) / 1000);
    return o;
}

/* Per chain domain: the share of sets named that very chain, by size. */
static void chain_table(FILE *t, const dws_estimator_eval_result *r)
{
    fprintf(t, "\nChain classes: sets named that very chain (%%), sets of %d / %d / %d images (type and severity "
            "scored above are over the single domains only):\n\n| chain | %d | %d | %d |\n|---|---|---|---|\n",
            r->sizes[0], r->sizes[1], r->sizes[2], r->sizes[0], r->sizes[1], r->sizes[2]);
    for (int k = DWS_ESTIMATOR_EVAL_SINGLES; k < r->n_domains; k++) {
        char spec[64];
        dws_domain_format(&r->domains[k], spec, sizeof spec);
        fprintf(t, "| %s | %.0f | %.0f | %.0f |\n", spec, 100 * share(r, 0, k, k + 1, 1), 100 * share(r, 1, k, k + 1, 1),
                100 * share(r, 2, k, k + 1, 1));
    }
}

/* The confusion matrix of size s; with chain domains, a chain row and column. */
static void confusion_table(FILE *t, const dws_estimator_eval_result *r, int s)
{
    int types = TYPES + (r->n_domains > DWS_ESTIMATOR_EVAL_SINGLES);
    fprintf(t, "\nConfusion matrix, sets of %d images: %% of a true type's sets (rows) estimated as each type "
            "(columns%s); blank: 0.\n\n| true \\ estimated |", r->sizes[s],
            types > TYPES ? "; chain: any chain class, a row for the chain domains together" : "");
    for (int j = 0; j < types; j++) fprintf(t, " %s |", SHORT[j]);
    fprintf(t, "\n|---|");
    for (int j = 0; j < types; j++) fprintf(t, "---|");
    fprintf(t, "\n");
    for (int i = 0; i < types; i++) {
        int total = 0;
        for (int j = 0; j < types; j++) total += r->confusion[s][i][j];
        fprintf(t, "| %s |", dws_domain_type_name(i));
        for (int j = 0; j < types; j++) {
            double v = total ? 100.0 * r->confusion[s][i][j] / total : 0;
            if (r->confusion[s][i][j] == 0) fprintf(t, " |");
            else if (v < 1) fprintf(t, " <1 |");
            else fprintf(t, " %.0f |", v);
        }
        fprintf(t, "\n");
    }
}

char *dws_estimator_eval_markdown(const dws_estimator_eval_result *r, const dws_estimator_eval_config *c)
{
    dws_estimator_eval_summary m;
    dws_estimator_eval_summarise(r, &m);
    char *text = NULL;
    size_t len = 0;
    FILE *t = open_memstream(&text, &len);
    if (!t) return NULL;
    int chains = r->n_domains - DWS_ESTIMATOR_EVAL_SINGLES;
    char also[64] = "";
    if (chains) snprintf(also, sizeof also, " and the estimator's %d chain class%s", chains, chains > 1 ? "es" : "");
    fprintf(t, "Domain identification on CIFAR-10 test images: %d images per domain (clean and 19 corruptions x "
            "5 severities%s), sets drawn at random, %d / %d / %d sets per domain for %d / %d / %d images.\n\n",
        c->pool_images, also, c->sets[0], c->sets[1], c->sets[2], r->sizes[0], r->sizes[1], r->sizes[2]);
    fprintf(t, "| images per set | type right (95 corrupted domains) | type and severity right | clean named clean |%s\n"
            "|---|---|---|---|%s\n", chains ? " chain named exactly |" : "", chains ? "---|" : "");
    for (int s = 0; s < DWS_ESTIMATOR_EVAL_SIZES; s++) {
        fprintf(t, "| %d | %.1f%% | %.1f%% | %.1f%% |", r->sizes[s], 100 * m.corrupted_type[s],
            100 * m.corrupted_exact[s], 100 * m.clean[s]);
        if (chains) fprintf(t, " %.1f%% |", 100 * m.chain_exact[s]);
        fprintf(t, "\n");
    }
    fprintf(t, "\nType right (%%) by corruption and severity, sets of %d / %d / %d images:\n\n", r->sizes[0], r->sizes[1],
        r->sizes[2]);
    fprintf(t, "| type | severity 1 | 2 | 3 | 4 | 5 | all, %d | all, %d | all, %d |\n", r->sizes[0], r->sizes[1],
        r->sizes[2]);
    fprintf(t, "|---|---|---|---|---|---|---|---|---|\n");
    fprintf(t, "| clean | | | | | | %.0f | %.0f | %.0f |\n", 100 * m.clean[0], 100 * m.clean[1], 100 * m.clean[2]);
    for (int k = 0; k < DWS_CORRUPT_COUNT; k++) {
        fprintf(t, "| %s |", dws_corruption_name((dws_corruption)k));
        for (int sev = 0; sev < 5; sev++) {
            int d = 1 + 5 * k + sev;
            fprintf(t, " %.0f / %.0f / %.0f |", 100 * share(r, 0, d, d + 1, 0), 100 * share(r, 1, d, d + 1, 0),
                100 * share(r, 2, d, d + 1, 0));
        }
        fprintf(t, " %.0f | %.0f | %.0f |\n", 100 * m.per_type[0][k], 100 * m.per_type[1][k], 100 * m.per_type[2][k]);
    }
    if (chains) chain_table(t, r);
    for (int s = 0; s < DWS_ESTIMATOR_EVAL_SIZES; s++) confusion_table(t, r, s);
    fprintf(t, "\nOne estimate of 64 decoded images: %.2f ms (median of %d, one core).\n", r->ms_per_64, c->timing_runs);
    if (fclose(t) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
