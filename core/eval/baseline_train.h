/* Training a learned baseline adapter (baseline.h) with the DWSNet adapter's signal:
 * every step takes `classifiers_per_step` training classifiers (drawn with a seeded
 * generator, optionally each under a fresh random hidden-neuron permutation) and
 * `images_per_step` corrupted training images shared by them, adapts the classifiers,
 * and minimises their mean cross-entropy with Adam. Every `val_every` steps (and at
 * steps 0 and `steps`) the mean accuracy of the adapted validation classifiers on
 * held-out corrupted images decides the kept parameters (early stopping; step 0 is
 * the identity, so the kept adapter is never worse on validation than none). */
#ifndef DWS_BASELINE_TRAIN_H
#define DWS_BASELINE_TRAIN_H

#include <stdint.h>

#include "baseline.h"
#include "data/samples.h"

typedef struct {
    int step;
    double loss;            /* mean training loss since the last report */
    double val_acc;         /* this validation */
    double best_val_acc;
    int best_step;
    double elapsed;         /* seconds */
} dws_baseline_progress;

typedef struct {
    int steps;
    int classifiers_per_step;
    int images_per_step;
    float lr;                /* Adam, PyTorch defaults otherwise */
    int val_every;
    int val_images;          /* the first this many of the validation images */
    int permute;             /* flat-mlp-perm's augmentation */
    uint64_t seed;
    void (*progress)(void *ctx, const dws_baseline_progress *p);   /* after every validation */
    void *ctx;
} dws_baseline_train_config;

typedef struct {
    int best_step;
    double best_val_acc, identity_val_acc;
    double seconds;
    int64_t classifier_batches, images_seen;   /* classifier forwards, image rows through them */
} dws_baseline_train_result;

int dws_baseline_train(dws_baseline *a, const dws_mlp *const *train, int n_train, const dws_mlp *const *val, int n_val,
                       const dws_samples *fit, const dws_samples *val_images, const dws_baseline_train_config *cfg,
                       dws_baseline_train_result *res, dws_error *err);

/* Mean accuracy over the classifiers after adaptation, on data. */
int dws_baseline_mean_accuracy(dws_baseline *a, const dws_mlp *const *mlps, int n, const dws_samples *data,
                               double *acc, dws_error *err);

#endif
