/* One fused pass over every entry of a weight-space tensor: the memory-bound part
 * of a DWS layer. The rows of every W_t and b_t are cut into blocks that fit in L2
 * (whole rows, or one input group of a W_0 row); for each block, in a per-thread
 * buffer:
 *   v = entry term (a callback); then in one sweep v += broadcast of
 *   pooled-layout vectors, v = act(v), and the pooled sums (or means,
 *   ws_pool.h) of v that the next layer needs;
 * v is streamed to its place in the output, or handed to a sink. The broadcast gives entry (i, k) of W_t
 * the row slots of feat_{t+1}[i], the column slot of feat_t[k] for i's slot and
 * the global slot of (i, k): the exact adjoint of pooling. The entry term comes
 * from a callback (the layer's GEMM and template convolution, or a per-tensor
 * affine map).
 *
 * Each network's blocks are split into DWS_PASS_PARTS parts by cost, the same
 * parts for any thread count and any batch; column sums go to per-part buffers
 * reduced in part order, so a network's result is the same for any thread count
 * and whatever else shares its batch. The work items are the parts of all the
 * networks: a batch keeps more threads busy. */
#ifndef DWS_WS_PASS_H
#define DWS_WS_PASS_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "ws_pool.h"
#include "ws_tensor.h"

#define DWS_PASS_PARTS 8

/* Rows [i0, i1), columns [k0, k1) of W_t (is_bias = 0; either whole rows or one
 * column slot of one row, so a block is contiguous) or rows [i0, i1) of b_t
 * (is_bias = 1, k0 = 0, k1 = 1) of network b. */
typedef struct {
    int b, t, is_bias;
    int64_t i0, i1, k0, k1;
} dws_block;

/* Where blk starts in a tensor of the pass's shape (any channel count). */
static inline float *dws_block_data(const dws_ws *T, const dws_block *blk)
{
    if (blk->is_bias) return dws_ws_b(T, blk->t, blk->b) + blk->i0 * T->channels;
    return dws_ws_W(T, blk->t, blk->b) + (blk->i0 * T->widths[blk->t] + blk->k0) * T->channels;
}

static inline int64_t dws_block_entries(const dws_block *blk)
{
    return (blk->i1 - blk->i0) * (blk->k1 - blk->k0);
}

/* Work items of a pass: DWS_PASS_PARTS per network. Callbacks get the item's index
 * as `part` (0 .. dws_pass_parts - 1): per-part buffers of a callback need this
 * many; items run concurrently, each on one thread. */
#define dws_pass_parts(p) (DWS_PASS_PARTS * (p)->batch)

/* WRITES the entry term of blk to out and returns 1, or returns 0 when blk has no
 * entry term (out untouched); when the pass has no output (out == NULL) it only
 * does its side work, e.g. accumulating parameter gradients into per-part
 * buffers (and returns 1 if blk has an entry term). The pass then adds the
 * broadcast, applies the activation and pools in one sweep. scratch holds the
 * pass's entry_scratch floats, private to the calling thread. A sink gets the
 * same arguments (its return value is unused). */
typedef int (*dws_entry_fn)(void *ctx, const dws_block *blk, int part, float *out, float *scratch);

/* A record of the passes a call made, for the roofline report (bench/): per pass
 * the weight-space bytes it streamed as the code moves them (what the entry term
 * and a sink read, a mask, a tensor pooled in place, the output stored and what
 * a sink writes; not the pooled summaries, which stay in cache) and its wall
 * time. Off (NULL) unless a caller asks. */
typedef struct {
    const char *what;
    int channels;
    double bytes_read, bytes_written, seconds;
} dws_pass_record;

#define DWS_TRACE_MAX 64
typedef struct {
    int n;
    dws_pass_record rec[DWS_TRACE_MAX];
} dws_pass_trace;

typedef enum {
    DWS_PASS_LINEAR = 0,
    DWS_PASS_RELU,   /* out = max(v, 0) */
    DWS_PASS_MASK,   /* out = v where mask > 0, else 0: ReLU's backward */
} dws_pass_act;

typedef struct {
    const dws_axes *ax;
    int batch;
    int channels;            /* of out, bcast and mask */
    dws_entry_fn entry;      /* NULL: the entry term is zero */
    int keep_out;            /* out already holds its values: no broadcast, no entry */
    void *entry_ctx;
    size_t entry_scratch;    /* floats per thread */
    const dws_pool *bcast;   /* NULL: nothing is broadcast */
    dws_pass_act act;
    const dws_ws *mask;      /* DWS_PASS_MASK only */
    dws_ws *out;             /* NULL: not stored (entry callbacks only, unless a sink) */
    dws_entry_fn sink;       /* NULL, or gets each finished block (after act and pooling) */
    void *sink_ctx;
    dws_pool *pool;          /* NULL: no pooling; needs out or a sink */
    int pool_means;          /* 1: pool holds means (forward); 0: sums (backward) */
    int threads;
    /* For the trace: what the pass is, and the channels per entry its entry term
     * reads (when it has one) and its sink reads and writes (when it returns 1). */
    const char *what;
    int entry_reads, sink_reads, sink_writes;
    dws_pass_trace *trace;   /* NULL: not traced */
} dws_pass;

/* Memory a pass reuses from call to call (one per concurrent user). */
typedef struct {
    float *arena;
    size_t arena_cap;
    dws_block *blocks;
    size_t blocks_cap;
} dws_pass_work;

int dws_pass_run(const dws_pass *p, dws_pass_work *w, dws_error *err);
/* What dws_pass_run allocates for a pass of this shape, for sizing requests before
 * they run (ws_memory.c): floats of the arena (per-thread scratch, and per-part
 * pooled sums when the pass pools; *scratch_per_thread and *rc_floats may be NULL)
 * and bytes of the block list. The run itself sizes its arena with the same call. */
size_t dws_pass_arena_floats(const dws_axes *ax, int batch, int channels, size_t entry_scratch, int pool,
                             int threads, size_t *scratch_per_thread, size_t *rc_floats);
size_t dws_pass_blocks_bytes(const dws_axes *ax, int batch, int channels);
/* The pooled means (means = 1) or sums of t, t unchanged. */
int dws_pass_pool(const dws_axes *ax, dws_ws *t, dws_pool *pool, int means, int threads, dws_pass_work *w,
                  dws_error *err);
void dws_pass_work_free(dws_pass_work *w);

#endif
