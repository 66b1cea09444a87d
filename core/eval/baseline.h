/* A learned baseline adapter: a map from a classifier's weights to new weights with
 * one flat parameter buffer, trained like the DWSNet adapter (cross-entropy of the
 * adapted classifier on corrupted images, back-propagated through the classifier
 * into the adapter's parameters). Implementations: the shared rescale of W_1
 * (baseline_rescale.c) and the flat-MLP adapter on padded weight vectors
 * (baseline_flat.c). Classifiers of one batch may have different widths. */
#ifndef DWS_BASELINE_H
#define DWS_BASELINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/dws_error.h"
#include "mlp/mlp.h"

typedef struct dws_baseline dws_baseline;

struct dws_baseline {
    const char *method;          /* "rescale", "flat-mlp" */
    size_t n_params;
    float *params;               /* one flat buffer */
    float *grads;                /* same size; backward accumulates into it */
    int max_batch;               /* most classifiers one forward takes */
    /* out[b] = adapted in[b] for b < batch (out[b] already has in[b]'s shape);
     * remembers what backward needs. */
    int (*forward)(dws_baseline *a, const dws_mlp *const *in, dws_mlp *const *out, int batch, dws_error *err);
    /* grads += dLoss/dparams, given dout[b] = dLoss/d out[b] for the last forward's batch. */
    void (*backward)(dws_baseline *a, const dws_mlp *const *in, const dws_mlp *const *dout, int batch);
    void (*destroy)(dws_baseline *a);   /* frees everything, a included */
    void *state;
};

/* The 2-parameter rescale of TASK.md: W_1 <- a W_1, b_1 <- b_1 + c rowsum(W_1);
 * params = {a, c}, starting at the identity {1, 0}. */
dws_baseline *dws_rescale_create(dws_error *err);

/* Adapts one classifier (batch of 1) into out, a fresh MLP the caller frees. */
int dws_baseline_adapt_one(dws_baseline *a, const dws_mlp *in, dws_mlp *out, dws_error *err);

#endif
