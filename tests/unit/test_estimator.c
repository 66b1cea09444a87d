/* The domain estimator (model/model.h) and its features (data/data.h, "domain stats"):
 * a set's features are those of its images' mean stats; a saved estimator loads back
 * with the same answers; the estimate is the type with the most probability over its
 * severities; files of the wrong kind or with other features are refused. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/data.h"
#include "helper_check.h"
#include "model/model.h"

/* n pseudo-random images with some structure (gradients plus noise). */
static float *images(size_t n, uint64_t seed)
{
    float *x = malloc(sizeof(float) * n * DWS_CIFAR10_DIM);
    dws_rng r;
    dws_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 1024; p++) {
                double v = 0.3 + 0.4 * ((p % 32) / 31.0) * (c + 1) / 3 + 0.1 * dws_rng_uniform(&r);
                x[i * DWS_CIFAR10_DIM + c * 1024 + p] = (float)round(v * 255) / 255.0f;
            }
    return x;
}

START_TEST(set_features_are_those_of_the_mean_stats)
{
    enum { N = 9 };
    float *x = images(N, 1);
    double stats[N][DWS_DOMAIN_STATS], mean[DWS_DOMAIN_STATS] = {0};
    for (int i = 0; i < N; i++) {
        dws_domain_stats_image(x + i * DWS_CIFAR10_DIM, stats[i]);
        for (int k = 0; k < DWS_DOMAIN_STATS; k++) {
            ck_assert(isfinite(stats[i][k]));
            mean[k] += stats[i][k];
        }
    }
    for (int k = 0; k < DWS_DOMAIN_STATS; k++) mean[k] /= N;
    float a[DWS_DOMAIN_FEATURES], b[DWS_DOMAIN_FEATURES], c[DWS_DOMAIN_FEATURES];
    dws_domain_features_of_images(x, N, a);
    dws_domain_features(mean, b);
    ck_assert_mem_eq(a, b, sizeof a);
    /* a draw of the whole pool is the same set, in another order */
    uint32_t order[N];
    for (int i = 0; i < N; i++) order[i] = (uint32_t)i;
    dws_rng r;
    dws_rng_seed(&r, 3);
    dws_domain_features_of_draw(&stats[0][0], order, N, N, &r, c);
    for (int k = 0; k < DWS_DOMAIN_FEATURES; k++) {
        ck_assert(isfinite(a[k]));
        ck_assert_float_eq_tol(a[k], c[k], 1e-5f * (1 + fabsf(a[k])));
        ck_assert_ptr_nonnull(dws_domain_feature_name(k));
    }
    ck_assert_ptr_null(dws_domain_feature_name(DWS_DOMAIN_FEATURES));
    free(x);
}
END_TEST

/* An estimator of all 96 classes with random weights. */
static dws_estimator *random_estimator(int hidden)
{
    dws_domain classes[DWS_ESTIMATOR_MAX_CLASSES];
    int n = dws_estimator_classes(0, classes);
    ck_assert_int_eq(n, 96);
    dws_error err;
    dws_estimator *e = dws_estimator_new(classes, n, hidden, "test-estimator", &err);
    ck_assert_msg(e != NULL, "%s", err.message);
    dws_mlp *m = dws_estimator_mlp(e);
    dws_rng r;
    dws_rng_seed(&r, 7);
    for (size_t i = 0; i < m->n_params; i++) m->params[i] = (float)(dws_rng_normal(&r) * 0.3);
    float *mean = dws_estimator_feature_mean(e), *std = dws_estimator_feature_std(e);
    for (int k = 0; k < DWS_DOMAIN_FEATURES; k++) mean[k] = (float)dws_rng_normal(&r), std[k] = 1.5f;
    return e;
}

START_TEST(saved_estimator_loads_back_with_the_same_answers)
{
    char path[] = "/tmp/dws-estimator-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    float *x = images(16, 2);
    for (int hidden = 0; hidden <= 16; hidden += 16) {
        dws_estimator *e = random_estimator(hidden);
        dws_error err;
        ck_assert_int_eq(dws_estimator_set_card_entry(e, "metrics", "{\"a\":1}", &err), 0);
        ck_assert_int_ne(dws_estimator_set_card_entry(e, "classes", "[]", &err), 0);
        ck_assert_int_eq(dws_estimator_save(e, path, &err), 0);
        dws_estimator *f = dws_estimator_load(path, &err);
        ck_assert_msg(f != NULL, "%s", err.message);
        ck_assert_str_eq(dws_estimator_id(f), "test-estimator");
        ck_assert_int_eq(dws_estimator_class_count(f), 96);
        ck_assert_ptr_nonnull(strstr(dws_estimator_card_json(f), "\"metrics\":{\"a\":1}"));
        dws_domain_estimate a, b;
        ck_assert_int_eq(dws_estimate_domain(e, x, 16, &a, &err), 0);
        ck_assert_int_eq(dws_estimate_domain(f, x, 16, &b, &err), 0);
        ck_assert_str_eq(a.spec, b.spec);
        ck_assert_uint_eq(a.n_images, 16);
        double sum = 0;
        for (int i = 0; i < a.n_classes; i++) {
            ck_assert_double_eq(a.probs[i], b.probs[i]);
            sum += a.probs[i];
        }
        ck_assert_double_eq_tol(sum, 1.0, 1e-9);
        cJSON *j = dws_domain_estimate_json(f, &b);
        ck_assert_str_eq(cJSON_GetObjectItem(j, "estimate")->valuestring, b.spec);
        ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "probabilities")), 96);
        cJSON_Delete(j);
        ck_assert_int_ne(dws_estimate_domain(f, x, 0, &b, &err), 0);
        ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
        dws_estimator_free(e);
        dws_estimator_free(f);
    }
    /* an adapter loader refuses an estimator file, and the file says what it is */
    dws_error err;
    ck_assert_ptr_null(dws_model_load(path, &err));
    dws_model_file mf;
    ck_assert_int_eq(dws_model_file_read(path, &mf, &err), 0);
    ck_assert_int_eq(dws_model_file_is_estimator(&mf), 1);
    dws_model_file_free(&mf);
    free(x);
    unlink(path);
}
END_TEST

/* Class probabilities where clean alone is likeliest but fog over its severities is:
 * the estimate is fog, at its likeliest severity. */
START_TEST(estimate_is_the_type_with_most_probability)
{
    dws_domain classes[DWS_ESTIMATOR_MAX_CLASSES];
    int n = dws_estimator_classes(0, classes);
    dws_error err;
    dws_estimator *e = dws_estimator_new(classes, n, 0, "marginal", &err);
    ck_assert_ptr_nonnull(e);
    dws_mlp *m = dws_estimator_mlp(e);
    memset(m->params, 0, sizeof(float) * m->n_params);
    for (int i = 0; i < n; i++) m->b[0][i] = -20;
    int fog = 1 + 5 * DWS_CORRUPT_FOG;
    m->b[0][0] = (float)log(0.3);
    for (int s = 0; s < 5; s++) m->b[0][fog + s] = (float)log(s == 3 ? 0.2 : 0.125);
    float f[DWS_DOMAIN_FEATURES] = {0};
    dws_domain_estimate est;
    ck_assert_int_eq(dws_estimator_classify(e, f, &est, &err), 0);
    ck_assert_str_eq(est.spec, "fog:4");
    ck_assert_double_eq_tol(est.p, 0.2, 1e-6);
    ck_assert_double_eq_tol(est.type_p, 0.7, 1e-6);
    ck_assert_int_eq(dws_domain_type(&est.domain), 1 + DWS_CORRUPT_FOG);
    dws_estimator_free(e);
    /* excluded types are not classes */
    ck_assert_int_eq(dws_estimator_classes(1u << DWS_CORRUPT_FROST | 1u << DWS_CORRUPT_SPATTER, classes), 86);
    for (int i = 0; i < 86; i++)
        ck_assert(dws_domain_type(&classes[i]) != 1 + DWS_CORRUPT_FROST &&
                  dws_domain_type(&classes[i]) != 1 + DWS_CORRUPT_SPATTER);
}
END_TEST

START_TEST(files_with_other_features_or_tensors_refused)
{
    char path[] = "/tmp/dws-estimator-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    dws_estimator *e = random_estimator(8);
    dws_error err;
    ck_assert_int_eq(dws_estimator_save(e, path, &err), 0);
    dws_estimator_free(e);
    dws_model_file f;
    ck_assert_int_eq(dws_model_file_read(path, &f, &err), 0);
    /* another feature list (an estimator of another version) */
    cJSON *card = cJSON_Parse(f.card_json);
    cJSON_ReplaceItemInArray(cJSON_GetObjectItem(card, "features"), 0, cJSON_CreateString("something_else"));
    char *text = cJSON_PrintUnformatted(card);
    ck_assert_int_eq(dws_model_file_write(path, text, f.tensors, f.n_tensors, &err), 0);
    ck_assert_ptr_null(dws_estimator_load(path, &err));
    ck_assert_str_eq(err.code, DWS_E_INCOMPATIBLE_MODEL);
    free(text);
    cJSON_Delete(card);
    /* a tensor missing */
    ck_assert_int_eq(dws_model_file_write(path, f.card_json, f.tensors, f.n_tensors - 1, &err), 0);
    ck_assert_ptr_null(dws_estimator_load(path, &err));
    ck_assert_str_eq(err.code, DWS_E_BAD_MODEL_FILE);
    dws_model_file_free(&f);
    unlink(path);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        set_features_are_those_of_the_mean_stats,
        saved_estimator_loads_back_with_the_same_answers,
        estimate_is_the_type_with_most_probability,
        files_with_other_features_or_tensors_refused,
    };
    return th_run_tests("estimator", tests, (int)(sizeof tests / sizeof *tests));
}
