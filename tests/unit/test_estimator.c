/* The domain estimator (model/model.h) and its features (data/data.h, "domain stats"):
 * a set's features are those of its images' mean stats; a saved estimator loads back
 * with the same answers; the estimate is the type with the most probability over its
 * severities; files of the wrong kind or with other features are refused; chains of two
 * steps are classes of a type of their own (their corruptions in order), saved and
 * loaded like the others, and an estimate of one adapts to that chain; a file written
 * before chain classes existed still loads with the same answer. */
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

/* Creates the file of a mkstemp template (path is rewritten). */
static void temp_file(char *path)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
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
    dws_error err;
    int n = dws_estimator_classes(0, NULL, 0, classes, &err);
    ck_assert_int_eq(n, 96);
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
    temp_file(path);
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
    dws_error err;
    int n = dws_estimator_classes(0, NULL, 0, classes, &err);
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
    ck_assert_int_eq(dws_estimator_classes(1u << DWS_CORRUPT_FROST | 1u << DWS_CORRUPT_SPATTER, NULL, 0, classes, &err),
                     86);
    for (int i = 0; i < 86; i++)
        ck_assert(dws_domain_type(&classes[i]) != 1 + DWS_CORRUPT_FROST &&
                  dws_domain_type(&classes[i]) != 1 + DWS_CORRUPT_SPATTER);
}
END_TEST

START_TEST(files_with_other_features_or_tensors_refused)
{
    char path[] = "/tmp/dws-estimator-XXXXXX";
    temp_file(path);
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

static dws_domain domain(const char *spec)
{
    dws_domain d;
    dws_error err;
    ck_assert_msg(dws_domain_parse(spec, &d, &err) == 0, "%s", err.message);
    return d;
}

/* The 96 single classes, then three chains: two of contrast then Gaussian noise (one
 * type), one of fog then Gaussian noise. */
static int chain_classes(dws_domain *classes)
{
    const dws_domain chains[3] = {domain(DWS_DEFAULT_DOMAIN), domain("fog:3,gaussian_noise:2"),
                                  domain("contrast:3,gaussian_noise:2")};
    dws_error err;
    int n = dws_estimator_classes(0, chains, 3, classes, &err);
    ck_assert_int_eq(n, 99);
    return n;
}

START_TEST(chains_are_classes_of_their_own_type)
{
    dws_domain classes[DWS_ESTIMATOR_MAX_CLASSES];
    int n = chain_classes(classes);
    ck_assert(dws_domain_same(&classes[96], &classes[96]) && !dws_domain_same(&classes[96], &classes[98]));
    dws_error err;
    dws_estimator *e = dws_estimator_new(classes, n, 0, "chains", &err);
    ck_assert_msg(e != NULL, "%s", err.message);
    /* singles keep their types; a chain is never the type of its first step */
    ck_assert_int_eq(dws_estimator_class_type(e, 0), 0);
    ck_assert_int_eq(dws_estimator_class_type(e, 1 + 5 * DWS_CORRUPT_CONTRAST + 3), 1 + DWS_CORRUPT_CONTRAST);
    int a = dws_estimator_class_type(e, 96), b = dws_estimator_class_type(e, 97), c = dws_estimator_class_type(e, 98);
    ck_assert_int_ge(a, DWS_DOMAIN_TYPES);
    ck_assert_int_ne(a, b);
    ck_assert_int_eq(a, c);
    char name[64];
    dws_estimator_type_name(e, a, name, sizeof name);
    ck_assert_str_eq(name, "contrast,gaussian_noise");
    dws_estimator_type_name(e, b, name, sizeof name);
    ck_assert_str_eq(name, "fog,gaussian_noise");
    dws_estimator_type_name(e, 1 + DWS_CORRUPT_FOG, name, sizeof name);
    ck_assert_str_eq(name, "fog");
    /* contrast:4 alone 0.3; the contrast-then-noise chains 0.25 + 0.2; clean 0.25: the chain type wins */
    dws_mlp *m = dws_estimator_mlp(e);
    memset(m->params, 0, sizeof(float) * m->n_params);
    for (int i = 0; i < n; i++) m->b[0][i] = -30;
    m->b[0][0] = (float)log(0.25);
    m->b[0][1 + 5 * DWS_CORRUPT_CONTRAST + 3] = (float)log(0.3);
    m->b[0][96] = (float)log(0.25);
    m->b[0][98] = (float)log(0.2);
    float f[DWS_DOMAIN_FEATURES] = {0};
    dws_domain_estimate est;
    ck_assert_int_eq(dws_estimator_classify(e, f, &est, &err), 0);
    ck_assert_str_eq(est.spec, DWS_DEFAULT_DOMAIN);
    ck_assert_str_eq(est.type_name, "contrast,gaussian_noise");
    ck_assert_int_eq(est.type, a);
    ck_assert_double_eq_tol(est.p, 0.25, 1e-6);
    ck_assert_double_eq_tol(est.type_p, 0.45, 1e-6);
    est.n_images = 64;
    cJSON *j = dws_domain_estimate_json(e, &est);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "estimate")->valuestring, DWS_DEFAULT_DOMAIN);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "type")->valuestring, "contrast,gaussian_noise");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "probabilities"), "fog:3,gaussian_noise:2"));
    cJSON_Delete(j);
    /* auto adapts to the chain itself, named */
    dws_adapt_domain ad;
    char note[256];
    dws_adapt_domain_estimated(e, &est, &ad, note, sizeof note);
    ck_assert_int_eq(ad.kind, DWS_DOMAIN_NAMED);
    ck_assert(dws_domain_same(&ad.chain, &classes[96]));
    ck_assert_str_eq(note, DWS_DEFAULT_DOMAIN " (p=0.25) from 64 images by chains");
    char spec[64];
    dws_adapt_domain_format(&ad, spec, sizeof spec);
    ck_assert_str_eq(spec, DWS_DEFAULT_DOMAIN);
    /* with contrast:4 alone at 0.5, contrast wins */
    m->b[0][1 + 5 * DWS_CORRUPT_CONTRAST + 3] = (float)log(0.5);
    ck_assert_int_eq(dws_estimator_classify(e, f, &est, &err), 0);
    ck_assert_str_eq(est.spec, "contrast:4");
    ck_assert_str_eq(est.type_name, "contrast");
    dws_estimator_free(e);
}
END_TEST

START_TEST(chain_classes_checked)
{
    dws_domain classes[DWS_ESTIMATOR_MAX_CLASSES];
    int n = chain_classes(classes);
    dws_error err;
    /* an excluded corruption leaves out the chains that use it */
    dws_domain chains[2] = {domain(DWS_DEFAULT_DOMAIN), domain("fog:3,gaussian_noise:2")};
    ck_assert_int_eq(dws_estimator_classes(1u << DWS_CORRUPT_CONTRAST, chains, 2, classes, &err), 92);
    ck_assert(dws_domain_same(&classes[91], &chains[1]));
    ck_assert_int_eq(dws_estimator_classes(1u << DWS_CORRUPT_GAUSSIAN_NOISE, chains, 2, classes, &err), 91);
    /* a chain must have two steps */
    chains[1] = domain("fog:3");
    ck_assert_int_eq(dws_estimator_classes(0, chains, 2, classes, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
    /* no more classes than DWS_ESTIMATOR_MAX_CLASSES */
    dws_domain many[40];
    for (int i = 0; i < 40; i++)
        many[i] = (dws_domain){2, {{(dws_corruption)(i % 19), 1 + i / 19}, {DWS_CORRUPT_FOG, 1}}};
    ck_assert_int_eq(dws_estimator_classes(0, many, 40, classes, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "at most 128 classes"));
    /* a chain of three steps, or the same chain twice, is no class */
    n = chain_classes(classes);
    classes[n - 1] = domain("contrast:3,gaussian_noise:2,fog:1");
    ck_assert_ptr_null(dws_estimator_new(classes, n, 0, "three", &err));
    ck_assert_ptr_nonnull(strstr(err.message, "chain of 3 steps"));
    classes[n - 1] = classes[96];
    ck_assert_ptr_null(dws_estimator_new(classes, n, 0, "twice", &err));
    ck_assert_ptr_nonnull(strstr(err.message, "the same domain"));
}
END_TEST

START_TEST(chain_estimator_saves_and_loads)
{
    char path[] = "/tmp/dws-estimator-XXXXXX";
    temp_file(path);
    dws_domain classes[DWS_ESTIMATOR_MAX_CLASSES];
    int n = chain_classes(classes);
    dws_error err;
    dws_estimator *e = dws_estimator_new(classes, n, 8, "chains", &err);
    ck_assert_ptr_nonnull(e);
    dws_mlp *m = dws_estimator_mlp(e);
    dws_rng r;
    dws_rng_seed(&r, 11);
    for (size_t i = 0; i < m->n_params; i++) m->params[i] = (float)(dws_rng_normal(&r) * 0.3);
    ck_assert_int_eq(dws_estimator_save(e, path, &err), 0);
    dws_estimator *f = dws_estimator_load(path, &err);
    ck_assert_msg(f != NULL, "%s", err.message);
    ck_assert_int_eq(dws_estimator_class_count(f), 99);
    for (int i = 0; i < n; i++) {
        ck_assert(dws_domain_same(dws_estimator_class(f, i), &classes[i]));
        ck_assert_int_eq(dws_estimator_class_type(f, i), dws_estimator_class_type(e, i));
    }
    cJSON *card = cJSON_Parse(dws_estimator_card_json(f));
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(card, "classes"), 96)->valuestring, DWS_DEFAULT_DOMAIN);
    cJSON_Delete(card);
    float *x = images(16, 2);
    dws_domain_estimate a, b;
    ck_assert_int_eq(dws_estimate_domain(e, x, 16, &a, &err), 0);
    ck_assert_int_eq(dws_estimate_domain(f, x, 16, &b, &err), 0);
    ck_assert_str_eq(a.spec, b.spec);
    ck_assert_str_eq(a.type_name, b.type_name);
    for (int i = 0; i < n; i++) ck_assert_double_eq(a.probs[i], b.probs[i]);
    free(x);
    dws_estimator_free(e);
    dws_estimator_free(f);
    unlink(path);
}
END_TEST

/* tests/fixtures/estimator_v1.dws: written by `dwsnet train-estimator` before chain
 * classes existed (96 single classes, hidden 8; tests/fixtures/README.md). It loads,
 * and answers what that build answered for these images. */
START_TEST(estimator_without_chains_still_loads)
{
    dws_error err;
    dws_estimator *e = dws_estimator_load("tests/fixtures/estimator_v1.dws", &err);
    ck_assert_msg(e != NULL, "%s", err.message);
    ck_assert_int_eq(dws_estimator_class_count(e), 96);
    for (int i = 0; i < 96; i++) {
        ck_assert_int_le(dws_estimator_class(e, i)->n_steps, 1);
        ck_assert_int_eq(dws_estimator_class_type(e, i), dws_domain_type(dws_estimator_class(e, i)));
    }
    float *x = images(16, 2);
    dws_domain_estimate est;
    ck_assert_int_eq(dws_estimate_domain(e, x, 16, &est, &err), 0);
    ck_assert_str_eq(est.spec, "fog:1");
    ck_assert_str_eq(est.type_name, "fog");
    ck_assert_double_eq_tol(est.p, 0.015888811, 1e-5);
    ck_assert_double_eq_tol(est.type_p, 0.065531213, 1e-5);
    free(x);
    dws_estimator_free(e);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        set_features_are_those_of_the_mean_stats,
        saved_estimator_loads_back_with_the_same_answers,
        estimate_is_the_type_with_most_probability,
        files_with_other_features_or_tensors_refused,
        chains_are_classes_of_their_own_type,
        chain_classes_checked,
        chain_estimator_saves_and_loads,
        estimator_without_chains_still_loads,
    };
    return th_run_tests("estimator", tests, (int)(sizeof tests / sizeof *tests));
}
