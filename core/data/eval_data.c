#include "data.h"

#include <stdlib.h>
#include <string.h>

float *dws_eval_corrupted_copy(const dws_image_set *s, const dws_domain *d, uint64_t seed, dws_error *err)
{
    float *x = dws_image_set_float_copy(s, err);
    if (!x) return NULL;
    if (dws_domain_apply(d, s->channels, s->height, s->width, x, s->n, seed, 0, err)) {
        free(x);
        return NULL;
    }
    return x;
}

int dws_cifar10_load_with_target(const char *dir, const dws_domain *d, uint64_t seed, dws_image_set *train,
                                 dws_image_set *test, float **target, dws_error *err)
{
    *train = *test = (dws_image_set){0};
    *target = NULL;
    if (dws_cifar10_load_split(dir, DWS_SPLIT_TRAIN, train, err) || dws_cifar10_load_split(dir, DWS_SPLIT_TEST, test, err))
        return -1;
    *target = dws_eval_corrupted_copy(test, d, seed, err);
    return *target ? 0 : -1;
}

int dws_eval_data_from_sets(dws_eval_data *e, dws_image_set *train, dws_image_set *test, const dws_domain *d,
                            dws_error *err)
{
    memset(e, 0, sizeof *e);
    e->train = *train;
    e->test = *test;
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (e->train.n <= DWS_EVAL_VAL_IMAGES || e->test.n == 0 || e->train.dim != e->test.dim) {
        dws_error_set(err, DWS_E_BAD_DATA, "need more than %d training images and test images of the same shape",
                      DWS_EVAL_VAL_IMAGES);
        dws_eval_data_free(e);
        return -1;
    }
    if (!(e->target_train = dws_eval_corrupted_copy(&e->train, d, DWS_EVAL_TRAIN_SEED, err)) ||
        !(e->target_test = dws_eval_corrupted_copy(&e->test, d, DWS_EVAL_TEST_SEED, err))) {
        dws_eval_data_free(e);
        return -1;
    }
    size_t n_fit = e->train.n - DWS_EVAL_VAL_IMAGES, dim = e->train.dim;
    e->clean_test_view = dws_samples_of_image_set(&e->test);
    e->target_test_view = dws_samples_of_floats(e->target_test, e->test.labels, e->test.n, dim);
    e->fit_view = dws_samples_of_floats(e->target_train, e->train.labels, n_fit, dim);
    e->val_view = dws_samples_of_floats(e->target_train + n_fit * dim, e->train.labels + n_fit, DWS_EVAL_VAL_IMAGES, dim);
    return 0;
}

int dws_eval_data_load(dws_eval_data *e, const char *dir, const dws_domain *d, dws_error *err)
{
    dws_image_set train = {0}, test = {0};
    if (dws_cifar10_load_split(dir, DWS_SPLIT_TRAIN, &train, err) ||
        dws_cifar10_load_split(dir, DWS_SPLIT_TEST, &test, err)) {
        dws_image_set_free(&train);
        dws_image_set_free(&test);
        memset(e, 0, sizeof *e);
        return -1;
    }
    return dws_eval_data_from_sets(e, &train, &test, d, err);
}

void dws_eval_data_free(dws_eval_data *e)
{
    dws_image_set_free(&e->train);
    dws_image_set_free(&e->test);
    free(e->target_train);
    free(e->target_test);
    memset(e, 0, sizeof *e);
}
