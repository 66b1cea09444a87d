/* The domain grid's fine-tuning baselines and their cache files (grid_oracle.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grid_oracle.h"

#define CACHE_MAX_BYTES (1 << 20)
#define CLEAN_TUNE_FILE "clean-finetune.json"

/* ---- cache files ---- */

/* The cache file at path when it was made for these classifiers and images; NULL when
 * it is absent, unreadable or made for others. */
static cJSON *cache_read(const char *path, const dws_zoo_set *set, int images)
{
    size_t len;
    dws_error e;
    char *text = (char *)dws_read_file(path, CACHE_MAX_BYTES, &len, &e);
    if (!text) return NULL;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(j, "ids"), *im = cJSON_GetObjectItemCaseSensitive(j, "images");
    int ok = cJSON_IsArray(ids) && cJSON_GetArraySize(ids) == set->n && cJSON_IsNumber(im) && im->valuedouble == images;
    for (int i = 0; ok && i < set->n; i++) {
        const cJSON *id = cJSON_GetArrayItem(ids, i);
        ok = cJSON_IsNumber(id) && id->valuedouble == set->m[i].id;
    }
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* A cache file's common fields: what was done, on which test images and classifiers. */
static cJSON *cache_new(const char *method, const dws_zoo_set *set, int images)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "method", method);
    cJSON_AddNumberToObject(j, "images", images);
    cJSON *ids = cJSON_AddArrayToObject(j, "ids");
    for (int i = 0; i < set->n; i++) cJSON_AddItemToArray(ids, cJSON_CreateNumber(set->m[i].id));
    return j;
}

static int cache_write(const char *path, const cJSON *j, dws_error *err)
{
    char *text = cJSON_Print(j);
    if (!text) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory for %s", path);
        return -1;
    }
    int rc = dws_write_file_atomic(path, (const uint8_t *)text, strlen(text), err);
    free(text);
    return rc;
}

/* ---- fine-tuning ---- */

/* The labelled training images through d (clean: no steps) into *labeled; the
 * floats behind it are returned, for the caller to free. */
static float *labeled_images(const dws_domain *d, const dws_image_set *train, dws_samples *labeled, dws_error *err)
{
    float *x = dws_eval_corrupted_copy(train, d, DWS_EVAL_TRAIN_SEED, err);
    if (x) *labeled = dws_samples_of_floats(x, train->labels, train->n, train->dim);
    return x;
}

/* *out: a copy of m fine-tuned as the oracle does. */
static int finetune(const dws_mlp *m, const dws_samples *labeled, dws_mlp *out, dws_error *err)
{
    return dws_mlp_clone(out, m, err) ? -1 : dws_oracle_finetune(out, labeled, 0, err);
}

static int mean_accuracy(const dws_mlp *m, int n, const dws_samples *test, double *mean, dws_error *err)
{
    double sum = 0;
    for (int i = 0; i < n; i++) {
        double acc;
        if (dws_mlp_accuracy(&m[i], test, &acc, err)) return -1;
        sum += acc;
    }
    *mean = 100.0 * sum / n;
    return 0;
}

static void free_copies(dws_mlp *m, int n)
{
    for (int i = 0; m && i < n; i++) dws_mlp_free(&m[i]);
    free(m);
}

static dws_mlp *new_copies(int n, dws_error *err)
{
    dws_mlp *m = calloc((size_t)n, sizeof *m);
    if (!m) dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory for %d fine-tuned classifiers", n);
    return m;
}

/* ---- the oracle of a domain ---- */

/* dir/oracle-SPEC.json, with ':' and ',' made file-safe. */
static void oracle_path(const char *dir, const char *spec, char *path, size_t size)
{
    char name[80];
    size_t k = 0;
    for (const char *p = spec; *p && k + 1 < sizeof name; p++) name[k++] = *p == ':' ? '-' : *p == ',' ? '+' : *p;
    name[k] = '\0';
    snprintf(path, size, "%s/oracle-%s.json", dir, name);
}

double grid_oracle_cached(const char *dir, const char *spec, const dws_zoo_set *set, int images)
{
    char path[4096];
    oracle_path(dir, spec, path, sizeof path);
    cJSON *j = cache_read(path, set, images);
    const cJSON *mean = cJSON_GetObjectItemCaseSensitive(j, "mean");
    double v = cJSON_IsNumber(mean) ? mean->valuedouble : NAN;
    cJSON_Delete(j);
    return v;
}

int grid_oracle_compute(const char *dir, const char *spec, const dws_domain *d, const dws_image_set *train,
                        const dws_zoo_set *set, const dws_samples *test, int images, double *mean, dws_error *err)
{
    dws_samples labeled;
    float *x = labeled_images(d, train, &labeled, err);
    if (!x) return -1;
    double sum = 0;
    int rc = 0;
    for (int i = 0; i < set->n && rc == 0; i++) {   /* one copy at a time: the oracle keeps none */
        dws_mlp tuned = {0};
        double acc = 0;
        rc = finetune(&set->m[i].mlp, &labeled, &tuned, err);
        if (rc == 0) rc = dws_mlp_accuracy(&tuned, test, &acc, err);
        dws_mlp_free(&tuned);
        sum += acc;
    }
    free(x);
    if (rc != 0) return -1;
    *mean = 100.0 * sum / set->n;
    cJSON *j = cache_new("oracle: 1 epoch of Adam 5e-4, batch 128, on the labelled corrupted training images "
                         "(docs/task.md section 5)", set, images);
    cJSON_AddStringToObject(j, "domain", spec);
    cJSON_AddNumberToObject(j, "mean", *mean);
    char path[4096];
    oracle_path(dir, spec, path, sizeof path);
    rc = cache_write(path, j, err);
    cJSON_Delete(j);
    return rc;
}

/* ---- the clean fine-tune ---- */

int grid_clean_tune_open(grid_clean_tune *t, const char *dir, const dws_zoo_set *set, int images, dws_error *err)
{
    *t = (grid_clean_tune){.set = set, .images = images};
    snprintf(t->path, sizeof t->path, "%s/" CLEAN_TUNE_FILE, dir);
    cJSON *j = cache_read(t->path, set, images);
    cJSON *means = cJSON_DetachItemFromObjectCaseSensitive(j, "means");
    cJSON_Delete(j);
    t->means = cJSON_IsObject(means) ? means : cJSON_CreateObject();
    if (t->means != means) cJSON_Delete(means);
    if (!t->means) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory for %s", t->path);
        return -1;
    }
    return 0;
}

int grid_clean_tune_has(const grid_clean_tune *t, const char *spec)
{
    return cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(t->means, spec));
}

int grid_clean_tune_fit(grid_clean_tune *t, const dws_image_set *train, dws_error *err)
{
    static const dws_domain clean = {0};
    dws_samples labeled;
    float *x = labeled_images(&clean, train, &labeled, err);
    if (!x || !(t->tuned = new_copies(t->set->n, err))) {
        free(x);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < t->set->n && rc == 0; i++) rc = finetune(&t->set->m[i].mlp, &labeled, &t->tuned[i], err);
    free(x);
    return rc;
}

int grid_clean_tune_score(grid_clean_tune *t, const char *spec, const dws_samples *test, double *mean,
                          dws_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->means, spec);
    *mean = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!isnan(*mean) || !t->tuned) return 0;
    if (mean_accuracy(t->tuned, t->set->n, test, mean, err)) return -1;
    cJSON_DeleteItemFromObjectCaseSensitive(t->means, spec);   /* a damaged entry, not a number */
    cJSON_AddNumberToObject(t->means, spec, *mean);
    t->changed = 1;
    return 0;
}

int grid_clean_tune_close(grid_clean_tune *t, dws_error *err)
{
    int rc = 0;
    if (t->changed) {
        cJSON *j = cache_new("the oracle's fine-tune (1 epoch of Adam 5e-4, batch 128) on the labelled clean "
                             "training images, scored on each domain's test images",
                             t->set, t->images);
        cJSON_AddItemToObject(j, "means", t->means);
        t->means = NULL;
        rc = cache_write(t->path, j, err);
        cJSON_Delete(j);
    }
    cJSON_Delete(t->means);
    free_copies(t->tuned, t->set ? t->set->n : 0);
    *t = (grid_clean_tune){0};
    return rc;
}
