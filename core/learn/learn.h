/* core/learn/learn.h: the public header of core/learn/.
 * Training weight-space models on a zoo: the adapter and the encoder.
 */
#ifndef DWS_LEARN_H
#define DWS_LEARN_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "base/base.h"
#include "data/data.h"
#include "mlp/mlp.h"
#include "model/model.h"
#include "train/train.h"
#include "ws/ws.h"
#include "zoo/zoo.h"

/* ==== domain mix ==== */
/* The domains a conditioned adapter trains on (docs/adapter.md): per step, `any`
 * with probability p_any (its images each drawn from the named part of the mix, in
 * chunks), the default chain with p_default, a random chain of two steps with
 * p_chain, else one type at one severity, uniform over types and severities 1..5. */
typedef struct {
    double p_any, p_default, p_chain;
    double type_weight[DWS_CORRUPT_COUNT];   /* a step's type is drawn in proportion */
    dws_domain default_domain;
} dws_domain_mix;

/* 0.15 any, 0.10 the default, 0.10 chains, every type weight 1. */
void dws_domain_mix_defaults(dws_domain_mix *m);
/* The types of a comma-separated list get weight `weight` (the rest keep theirs). */
int dws_domain_mix_emphasise(dws_domain_mix *m, const char *types, double weight, dws_error *err);
/* m's settings into obj (the card's and the checkpoint's "domain_mix"). */
void dws_domain_mix_json(const dws_domain_mix *m, cJSON *obj);
/* A named domain of the mix (never `any`). */
void dws_domain_mix_draw_named(const dws_domain_mix *m, dws_rng *rng, dws_domain *d);
/* *any = 1 (d untouched), or *any = 0 and d a named domain. */
void dws_domain_mix_draw(const dws_domain_mix *m, dws_rng *rng, int *any, dws_domain *d);
/* The net's condition for a named domain (rows of the table in dws_corruption order)
 * or for `any`. */
dws_cond dws_domain_mix_cond(int any, const dws_domain *d);
/* Corrupts n images (3x32x32) for condition `any`: chunks of `chunk` images, each
 * through its own named domain of the mix, drawn from rng; noise from seed. */
int dws_domain_mix_apply_any(const dws_domain_mix *m, dws_rng *rng, int chunk, float *x, size_t n, uint64_t seed,
                             dws_error *err);

/* The fixed validation grid of a conditioned adapter: the default chain and the
 * types that cost an MLP most at severities 3 and 5, and a few where nothing helps
 * (the adapter must leave those alone). */
#define DWS_VAL_GRID_MAX 32
int dws_val_grid(dws_domain *grid, int max);

/* ==== adapter train ==== */
/* Training a DWSNet adapter for zero-shot domain adaptation (docs/design.md section 13.1):
 * per step, a batch of training classifiers that share their widths goes through
 * the adapter; every adapted classifier is scored (softmax cross-entropy) on one
 * batch of corrupted training images with fresh noise; the gradient flows back
 * through the classifier forward into the adapter; AdamW (clipped) with a linear
 * warm-up and a cosine decay to 0 updates it. Validation classifiers are scored on
 * a fixed held-out set of corrupted training images (the last val_images of the
 * set, never used for training batches), and the caller is told whenever that
 * score improves.
 * Everything random comes from the config's seed: a run is reproducible, and a
 * checkpoint holds all the state needed to continue it exactly. */
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
    dws_domain domain;          /* an unconditioned adapter's one domain */
    dws_domain_mix mix;         /* a conditioned adapter's (net->arch.cond_dim > 0) */
    /* Ablations: hold the template convolution (tensors "K") or the position
     * embedding ("pos") of every layer at zero. */
    int no_template_conv, no_position_embedding;
    /* How often a classifier of L weight layers is drawn, relative to others: weight
     * depth_weight[L] (0: 1, the default: every classifier alike). */
    float depth_weight[DWS_MAX_LAYERS + 1];
} dws_adapter_train_config;

/* batch 4 classifiers x 128 images, lr 1e-3 after 5% warm-up, weight decay 1e-4,
 * clipping at 1, 2,000 validation images, the default domain. steps, val_every: 0. */
void dws_adapter_train_defaults(dws_adapter_train_config *c);

typedef struct {
    /* At every validation (p->validated; p->improved when it is the best so far,
     * p->val_before: the validation classifiers unadapted) and every report_every
     * steps (0: at validations only), with loss and acc averaged since the last call. */
    dws_train_progress_fn progress;
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
                      dws_train_progress *final, dws_error *err);

/* ==== adapter run ==== */
/* A whole adapter training run, as `dwsnet train-adapter` makes it: the zoo's train
 * and val splits and the CIFAR-10 training images are loaded, a fresh adapter gets
 * the training classifiers' input normalisation, dws_adapter_train trains it, and
 * every improvement on validation is saved as the model file `out`, whose card
 * records the run ("training": settings, zoo and data hashes, validation scores).
 * The training curves go to a CSV beside it (out's .dws replaced by .csv; appended
 * to when resuming), the checkpoint to out.ckpt. */
typedef struct {
    const char *zoo_dir, *data_dir;
    const char *extra_zoo_dir;      /* NULL, or "DIR[,DIR...]": zoos whose train and val splits join */
    int any_mlp;                    /* "all": read 1 to 4 hidden layers and the activation table
                                       (ws.h, dws depth and dws cond) */
    const char *out;                /* the model file */
    const char *id;                 /* its id */
    const char *domain;             /* target domain, a spec (dws_domain_parse), or "all": a
                                       conditioned adapter trained on the domain mix */
    int channels, n_dws_layers;     /* the adapter's architecture (others: dws_arch_default) */
    int cond_dim;                   /* "all": the condition embedding's size */
    int input_map;                  /* the input map's kernel (ws.h, dws_arch.input_map); 0: none */
    const char *init_from;          /* NULL, or an adapter file whose same-named tensors and
                                       input normalisation start the training (warm start) */
    const char *emphasise;          /* "all": corruption types drawn 4x as often (NULL: none) */
    const char *hidden_layer_weights;   /* NULL, or "W1,W2,...": classifiers of 1, 2, ... hidden
                                           layers drawn with these relative weights */
    /* The optimisation: batches, lr, weight decay, clipping, seed, threads, validation
     * images, ablations. steps, warmup, val_every and domain are set by the run. */
    dws_adapter_train_config train;
    int64_t steps;                  /* 0: epochs over the training classifiers instead */
    double epochs;
    double warmup_frac;             /* of the steps */
    int64_t val_every;              /* 0: once an epoch */
    int limit_train, limit_val;     /* the first this many classifiers of a split; 0: all */
    int resume;                     /* continue from out.ckpt when it exists */
} dws_adapter_run_config;

/* What the run settled on, once the data is loaded. */
typedef struct {
    int n_train, n_val;             /* classifiers */
    size_t n_params;
    int64_t steps, val_every;
    uint32_t data_crc32;            /* of the training images */
    char curves[4096];              /* the CSV's path */
} dws_adapter_run_info;

typedef struct {
    /* Once, before the first step, with *info filled. */
    void (*on_start)(void *ctx, const dws_adapter_run_info *info);
    /* dws_adapter_train's reports (about four per validation period), after an
     * improved model is saved; a nonzero return stops or fails the run as there. */
    dws_train_progress_fn progress;
    void *ctx;
} dws_adapter_run_hooks;

/* The epochs a run has gone through at step `step`: classifiers seen / training classifiers. */
double dws_adapter_run_epoch(const dws_adapter_run_config *c, const dws_adapter_run_info *info, int64_t step);

/* Runs c; info (filled before training) and final (the last progress) are the
 * caller's to read afterwards. steps and epochs: exactly one must be set. */
int dws_adapter_run(const dws_adapter_run_config *c, const dws_adapter_run_hooks *hooks, dws_adapter_run_info *info,
                    dws_train_progress *final, dws_error *err);

/* ==== embedder train ==== */
/* Self-supervised training of a DWSNet encoder (docs/design.md sections 12 and 13.2): SimCLR /
 * NT-Xent between two random views of every network of a batch.
 *
 * A dws_ws batch holds networks of one set of widths, but the contrastive loss
 * needs many negatives, so a step draws several same-width groups, embeds all of
 * them, forms the loss over every embedding at once, and then back-propagates
 * group by group: each group is run forward again with its activations kept
 * (the last one's are still there) and its rows of dLoss/dembedding go back
 * through the encoder. The gradient is exactly that of the loss over the step.
 * With a projection head (arch.proj_hidden), the loss is on its output and its
 * gradient goes through the head first. */
typedef struct {
    int64_t steps;          /* total optimiser steps */
    int groups;             /* same-width groups per step */
    int group_size;         /* networks per group (fewer when a width class is smaller) */
    float lr;               /* peak learning rate: linear warm-up, then cosine to lr / 20 */
    int64_t warmup;         /* warm-up steps */
    float temperature;      /* NT-Xent tau */
    dws_view_config view;
    uint64_t seed;          /* view and batch draws of step s come from stream (seed, s) */
    int threads;            /* encoder worker threads (0: one per CPU) */
} dws_embedder_config;

/* 10000 steps, 4 groups of 8, lr 1e-3, 100 warm-up steps, tau 0.1, default views, seed 0. */
dws_embedder_config dws_embedder_defaults(void);

/* Per-tensor mean and standard deviation of the entries of nets, as the
 * encoder's input normalisation. */
void dws_embedder_fit_norm(dws_net *net, const dws_mlp *const *nets, int n);

/* Probe features (an encoder with arch.probes K): the probes become K rows of
 * `rows` (n_rows x d0, e.g. training images; the first K when n_rows >= K) or,
 * with rows NULL, a Latin hypercube in [lo, hi]^d0 (seeded); then probe_scale is
 * set to 1 / RMS of the centred outputs of nets on them, so the head's inputs
 * start near unit scale. */
void dws_embedder_init_probes(dws_net *net, const float *rows, int n_rows, float lo, float hi, uint64_t seed,
                              const dws_mlp *const *nets, int n);

/* Trains net from step start_step (0, or the step a checkpoint was taken at) to
 * cfg->steps with opt (initialised for net->n_params, possibly restored; AdamW
 * clipped at norm 1 is the recipe). progress (may be NULL) is called after every
 * step with its loss, top-1 (acc), gradient norm, lr and networks (batch); a
 * nonzero return stops training (e.g. to checkpoint and quit). */
int dws_embedder_train(dws_net *net, dws_optim *opt, int64_t start_step, const dws_mlp *const *nets, int n,
                       const dws_embedder_config *cfg, dws_train_progress_fn progress, void *ctx, dws_error *err);

/* Embeddings of nets (n x embed_dim into emb), grouped by widths internally,
 * batches of at most `batch` networks. */
int dws_embedder_embed_all(const dws_net *net, const dws_mlp *const *nets, int n, int batch, int threads, float *emb,
                           dws_error *err);

/* ==== estimator train ==== */
/* Training the domain estimator of model/model.h (docs/estimator.md section 3). Its
 * classes: clean, every corruption type not excluded at severities 1-5, and the
 * chains given (DWS_DEFAULT_DOMAIN by default) that use no excluded corruption. Per
 * class, a pool of pool_images training images (of images 0..44999) through the
 * domain, rounded to bytes, gives per-image stats; every step draws batch_sets sets (a
 * type at random, clean and each chain type counting as one, a class of it, a size
 * log-uniform in [min_set, max_set], distinct images of its pool) and takes an AdamW
 * step on the softmax cross-entropy of the estimator's MLP (warm-up 5%, cosine
 * decay). Every val_every steps, val_sets fixed sets per class of 8, 64 and 256
 * images from pools of val_images held-out training images (45000..49999) are
 * classified; the best mean type accuracy is saved to `out` with its card.
 * Everything random comes from the seed. */
#define DWS_ESTIMATOR_VAL_SIZES 3   /* sets of 8, 64, 256 */

typedef struct {
    const char *data_dir, *out, *id;
    int hidden;                 /* MLP hidden width; 0: softmax regression */
    int pool_images, val_images, val_sets;
    int min_set, max_set;
    int64_t steps, val_every;
    int batch_sets;
    float lr, weight_decay;
    uint64_t seed;
    int threads;                /* for the pools */
    unsigned exclude;           /* bit k: corruption k is not a class */
    const dws_domain *chains;   /* chain classes (DWS_ESTIMATOR_MAX_STEPS steps each) */
    int n_chains;
} dws_estimator_train_config;

/* hidden 256, pools of 1000 and 400, 16 validation sets, sets of 8-256, 6000 steps of
 * 256 sets, lr 3e-3, weight decay 1e-4, validation every 250 steps, 2 threads, the
 * one chain DWS_DEFAULT_DOMAIN (the setting chosen by validation, docs/estimator.md
 * section 3). */
void dws_estimator_train_defaults(dws_estimator_train_config *c);

typedef struct {
    double type_acc[DWS_ESTIMATOR_VAL_SIZES];   /* sets of 8, 64, 256; every class */
    double single_acc[DWS_ESTIMATOR_VAL_SIZES];  /* clean and single corruptions only */
    double chain_acc[DWS_ESTIMATOR_VAL_SIZES];   /* chain classes only (NAN: none) */
    double mean_type_acc, loss;
} dws_estimator_val;

typedef struct {
    void (*on_stage)(void *ctx, const char *stage, double seconds);   /* data loaded, pools built */
    dws_train_progress_fn progress;   /* at every validation: val_after = mean type accuracy */
    void *ctx;
} dws_estimator_train_hooks;

/* Trains and saves; best receives the saved estimator's validation. */
int dws_estimator_train(const dws_estimator_train_config *c, const dws_estimator_train_hooks *hooks,
                        dws_estimator_val *best, dws_error *err);

#endif
