/* Training a DWSNet adapter for zero-shot domain adaptation (DWSNET.md section 6):
 * per step, a batch of training classifiers that share their widths goes through
 * the adapter; every adapted classifier is scored (softmax cross-entropy) on one
 * batch of corrupted training images with fresh noise; the gradient flows back
 * through the classifier forward into the adapter; AdamW with a linear warm-up and
 * a cosine decay updates it. Validation classifiers are scored on a fixed held-out
 * set of corrupted training images (the last val_images of the set, never used
 * for training batches), and the caller is told whenever that score improves.
 * Everything random comes from the config's seed: a run is reproducible, and a
 * checkpoint holds all the state needed to continue it exactly. */
#ifndef DWS_ADAPTER_TRAIN_H
#define DWS_ADAPTER_TRAIN_H

#include <stdint.h>

#include "data/corrupt.h"
#include "base/dws_error.h"
#include "ws/dws_net.h"
#include "data/image_set.h"
#include "zoo/zoo_set.h"

typedef struct {
    int batch_nets;         /* classifiers per step (fewer when a width group is smaller) */
    int batch_images;       /* corrupted images per step */
    int64_t steps;          /* optimisation steps in all */
    int64_t warmup;         /* steps of linear warm-up before the cosine decay */
    float lr, weight_decay, clip;
    uint64_t seed;
    int threads;
    int64_t val_every;      /* steps between validations (also at the last step) */
    int val_images;         /* held out from the end of the image set */
    dws_domain domain;
    /* Ablations: hold the template convolution (tensors "K") or the position
     * embedding ("pos") of every layer at zero. */
    int no_template_conv, no_position_embedding;
} dws_adapter_train_config;

/* batch 4 classifiers x 128 images, lr 1e-3 after 5% warm-up, weight decay 1e-4,
 * clipping at 1, 2,000 validation images, the default domain. steps, val_every: 0. */
void dws_adapter_train_defaults(dws_adapter_train_config *c);

typedef struct {
    int64_t step;               /* steps done */
    double lr;                  /* of the last step */
    double train_loss, train_acc;   /* means since the last report */
    int validated;              /* val_before / val_after are fresh */
    double val_before, val_after;   /* mean accuracy of the validation classifiers */
    double best_val;
    int64_t best_step;
    double elapsed, eta;        /* seconds in this run, seconds to go */
} dws_adapter_train_progress;

typedef struct {
    /* After every validation; nonzero stops training (err set). */
    int (*on_validation)(void *ctx, const dws_net *net, const dws_adapter_train_progress *p, int improved,
                         dws_error *err);
    /* Every report_every steps (0: never), with train_* averaged since the last one. */
    void (*on_report)(void *ctx, const dws_adapter_train_progress *p);
    int64_t report_every;
    const char *checkpoint;     /* written after every validation; NULL: none */
    int resume;                 /* continue from checkpoint when it exists */
    void *ctx;
} dws_adapter_train_hooks;

/* Sets net's input normalisation to every tensor's mean and standard deviation
 * over the classifiers of zoo. */
int dws_adapter_set_norm(dws_net *net, const dws_zoo_set *zoo, dws_error *err);

/* Trains net in place; train and val must be non-empty and read by net.
 * images: the (clean) training images; final receives the last progress. */
int dws_adapter_train(dws_net *net, const dws_zoo_set *train, const dws_zoo_set *val, const dws_image_set *images,
                      const dws_adapter_train_config *cfg, const dws_adapter_train_hooks *hooks,
                      dws_adapter_train_progress *final, dws_error *err);

/* Learning rate at step s (0-based) of the warm-up + cosine schedule. */
double dws_adapter_lr_at(const dws_adapter_train_config *cfg, int64_t s);

#endif
