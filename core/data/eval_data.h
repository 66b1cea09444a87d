/* The image sets every adapter, baseline and evaluation here is trained and
 * measured on, defined in ONE place so that `dwsnet eval`, `dwsnet baseline` and
 * `dwsnet train-adapter` agree bit for bit:
 *
 *   target test set   test_batch through the domain, noise seed DWS_EVAL_TEST_SEED
 *                     (= the zoo's domain_seed default, so "before" accuracies equal
 *                     index.jsonl's target_test_acc)
 *   adapter training  data_batch_* images 0 .. DWS_EVAL_FIT_IMAGES-1 through the
 *                     domain, noise seed DWS_EVAL_TRAIN_SEED
 *   adapter validation the last DWS_EVAL_VAL_IMAGES training images (never used to
 *                     fit), same corruption: for early stopping on the zoo's val split
 *
 * Image i of a set always gets noise stream (seed, i), so any subset or batch order
 * sees the same corrupted pixels. */
#ifndef DWS_EVAL_DATA_H
#define DWS_EVAL_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "corrupt.h"
#include "base/dws_error.h"
#include "image_set.h"
#include "samples.h"

#define DWS_EVAL_TEST_SEED 0
#define DWS_EVAL_TRAIN_SEED 1
#define DWS_EVAL_VAL_IMAGES 5000

/* A float copy of s (n x dim) corrupted by d with noise seed `seed`; malloc'd, NULL
 * and err set on failure (bad shape for the domain, out of memory). */
float *dws_eval_corrupted_copy(const dws_image_set *s, const dws_domain *d, uint64_t seed, dws_error *err);

/* Every image set of an experiment: the clean and corrupted test sets, the corrupted
 * training images split into fit and validation views. Owns its buffers. */
typedef struct {
    dws_image_set train, test;
    float *target_train;          /* train.n x dim, DWS_EVAL_TRAIN_SEED */
    float *target_test;           /* test.n x dim, DWS_EVAL_TEST_SEED */
    dws_samples clean_test_view;  /* clean test images */
    dws_samples target_test_view; /* corrupted test images */
    dws_samples fit_view;         /* corrupted training images 0 .. n-VAL-1 */
    dws_samples val_view;         /* corrupted training images n-VAL .. n-1 */
} dws_eval_data;

/* Loads CIFAR-10 from dir (see cifar10.h) and builds every set for domain d. The
 * training split must hold more than DWS_EVAL_VAL_IMAGES images. */
int dws_eval_data_load(dws_eval_data *e, const char *dir, const dws_domain *d, dws_error *err);
/* The same from image sets the caller loaded (taken over: freed with e). */
int dws_eval_data_from_sets(dws_eval_data *e, dws_image_set *train, dws_image_set *test, const dws_domain *d,
                            dws_error *err);
void dws_eval_data_free(dws_eval_data *e);

#endif
