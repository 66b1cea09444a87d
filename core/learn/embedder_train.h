/* Self-supervised training of a DWSNet encoder (DWSNET.md sections 5-6): SimCLR /
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
#ifndef DWS_EMBEDDER_TRAIN_H
#define DWS_EMBEDDER_TRAIN_H

#include <stdint.h>

#include "train/adamw.h"
#include "base/dws_error.h"
#include "ws/dws_net.h"
#include "mlp/mlp.h"
#include "ws/ws_views.h"

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

typedef struct {
    int64_t step;           /* 1-based: steps done including this one */
    double loss;            /* NT-Xent of the step */
    double top1;            /* fraction of views whose nearest other view is their pair */
    double grad_norm;       /* before clipping */
    double lr;
    int items;              /* networks in the step */
} dws_embedder_step;

/* Called after every step; a nonzero return stops training (e.g. to checkpoint
 * and quit, or on a write error, which the callback reports itself). */
typedef int (*dws_embedder_progress)(void *ctx, const dws_embedder_step *s);

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
 * cfg->steps with opt (initialised for net->n_params, possibly restored). */
int dws_embedder_train(dws_net *net, dws_adamw *opt, int64_t start_step, const dws_mlp *const *nets, int n,
                       const dws_embedder_config *cfg, dws_embedder_progress progress, void *ctx, dws_error *err);

/* Embeddings of nets (n x embed_dim into emb), grouped by widths internally,
 * batches of at most `batch` networks. */
int dws_embedder_embed_all(const dws_net *net, const dws_mlp *const *nets, int n, int batch, int threads, float *emb,
                           dws_error *err);

#endif
