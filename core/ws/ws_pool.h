/* The axes of a weight space and the layout of its pooled summaries.
 *
 * Axis n is neuron layer n (0 <= n <= L). W_t has rows on axis t+1 and columns on
 * axis t; b_t lies on axis t+1. Every axis is cut into s_n slots of z_n consecutive
 * neurons (d_n = s_n z_n), and pooling over an axis averages within a slot:
 *   hidden axes (permuted): one slot, the mean over the layer;
 *   axis 0 (inputs, fixed): one slot per input group (an image's colour planes, or
 *     a single group): shared maps, with the groups kept apart;
 *   axis L (classes, fixed): one slot per class (z_L = 1): classes are never pooled,
 *     so every map that touches them is exact (per-class parameters).
 * Slot counts depend on L, the input groups and d_L only, never on hidden widths.
 *
 * Pooled summaries of a c-channel tensor (docs/design.md section 5: a DWS layer pools each tensor
 * over some of its axes; these are all the results, grouped by what they share):
 *   feat_n, n < L, one row per neuron j of axis n, [B][d_n][F_n][c], the slots
 *     [row_slot0, +s_{n-1})  W_{n-1} row j pooled over its columns   (n >= 1)
 *     [bias_slot0]           b_{n-1}[j]                               (n >= 1)
 *     [col_slot0, +s_{n+1})  W_n column j pooled over its rows
 *   global, [B][A][c]: W_t pooled over both axes at gW[t] ([s_{t+1}][s_t] slots),
 *     b_t pooled at gb[t] (s_{t+1} slots).
 * A DWS layer maps feat_n to feat_n (one matrix per axis: all the blocks whose
 * source and target share axis n, matched on it) and global to global (every
 * other block), then broadcasts the results back (ws_pass.h). Axis L has no feat:
 * its slots already hold each class apart, in global and in feat_{L-1}. */
#ifndef DWS_WS_POOL_H
#define DWS_WS_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "mlp/mlp.h"

/* Classes get their own slots (and parameters): more than this is not cheap. With
 * these limits a layer has fewer than DWS_MAX_SLOTS global or feature slots. */
#define DWS_MAX_EXACT_CLASSES 64
#define DWS_MAX_IN_GROUPS 8
#define DWS_MAX_SLOTS 1024

typedef struct {
    int n_layers;
    int64_t d[DWS_MAX_LAYERS + 1];
    int64_t s[DWS_MAX_LAYERS + 1];
    int64_t z[DWS_MAX_LAYERS + 1];
    int feat_slots[DWS_MAX_LAYERS];    /* F_n */
    int row_slot0[DWS_MAX_LAYERS];
    int bias_slot0[DWS_MAX_LAYERS];
    int col_slot0[DWS_MAX_LAYERS];
    int n_global;                      /* A */
    int gW[DWS_MAX_LAYERS];
    int gb[DWS_MAX_LAYERS];
} dws_axes;

/* in_groups divides d_0 (3 for a CHW image, else 1). */
int dws_axes_init(dws_axes *ax, int n_layers, const int64_t *widths, int in_groups, dws_error *err);

typedef struct {
    dws_axes ax;
    int batch;
    int channels;
    float *feat[DWS_MAX_LAYERS];
    float *global;
    size_t n_floats;
    float *data;
    int owns_data;
} dws_pool;

size_t dws_pool_floats(const dws_axes *ax, int batch, int channels);
/* Points p's views into data (dws_pool_floats floats, owned by the caller). */
void dws_pool_place(dws_pool *p, const dws_axes *ax, int batch, int channels, float *data);
int dws_pool_init(dws_pool *p, const dws_axes *ax, int batch, int channels, dws_error *err);
void dws_pool_free(dws_pool *p);

/* Feature row of neuron j of axis n in network b, and global row of network b. */
static inline float *dws_pool_feat(const dws_pool *p, int n, int b, int64_t j)
{
    return p->feat[n] + ((size_t)b * (size_t)p->ax.d[n] + (size_t)j) * (size_t)p->ax.feat_slots[n] * (size_t)p->channels;
}

static inline float *dws_pool_global(const dws_pool *p, int b)
{
    return p->global + (size_t)b * (size_t)p->ax.n_global * (size_t)p->channels;
}

/* Divides every slot by the number of entries pooled into it: turns sums into
 * means, and is also the adjoint of mean-pooling (backward broadcasts grad/count). */
void dws_pool_divide_counts(dws_pool *p);

#endif
