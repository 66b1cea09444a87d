#include "ws_pass.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "hot_loop.h"
#include "base/base.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")   /* see hot_loop.h */
#endif

/* Output floats per block: a block stays in L2 from the broadcast through the
 * entry term to the pooling. */
#define BLOCK_FLOATS 16384

typedef struct {
    const dws_pass *p;
    const dws_block *blocks;
    int per_net;                                        /* blocks of one network (all alike) */
    int part_begin[DWS_PASS_PARTS + 1];                 /* network 0's parts; network b's are per_net b on */
    int t_lo[DWS_PASS_PARTS], t_hi[DWS_PASS_PARTS];     /* the W_t a part's W blocks lie in */
    float *scratch;                                     /* per thread: entry scratch, rc, block */
    size_t scratch_per_thread, rc_floats;
    dws_pool parts[DWS_PASS_PARTS];                     /* per-part column sums */
    double floats_read[DWS_MAX_THREADS], floats_written[DWS_MAX_THREADS];   /* for the trace */
} pass_run;

enum { ACT_LINEAR = DWS_PASS_LINEAR, ACT_RELU = DWS_PASS_RELU, ACT_MASK = DWS_PASS_MASK };

/* One row of a W block, columns [k0, k1) in whole slots of z columns, c channels,
 * finished in one sweep: per entry k (o and mask at k - k0, colv and colsum at
 * k fc)
 *   v = o[k] (the entry term; 0 without one: has_src = 0)
 *     + (rc[slot of k] + colv[k])   (the broadcast; none when has_bcast = 0)
 *   v = act(v);  o[k] = v (unless keep: o already holds v)
 *   rowsum[slot] = sum of v over the slot's columns; colsum[k] += v (has_pool).
 * The flags are constants at every call site in finish_row, so each combination
 * becomes its own loop. */
static inline __attribute__((always_inline)) void finish_kernel(
    float *restrict o, int64_t k0, int64_t k1, int64_t z, const int c, const float *restrict rc,
    const float *restrict colv, int64_t fc, const float *restrict mask, float *restrict rowsum,
    float *restrict colsum, const int act, const int has_pool, const int has_src, const int has_bcast)
{
    const int keep = has_src && !has_bcast && act == ACT_LINEAR;   /* o[k] = v already */
    if (c % 8 == 0) {   /* eight channels at a time, the row sum in a register */
        for (int64_t p = k0 / z; p < k1 / z; p++)
            for (int g = 0; g < c; g += 8) {
                const v8f r = has_bcast ? LD8(rc + p * c + g) : (v8f){0};
                v8f rs = {0};
                for (int64_t k = p * z; k < (p + 1) * z; k++) {
                    float *restrict ok = o + (k - k0) * c + g;
                    v8f v = has_bcast ? r + LD8(colv + k * fc + g) : (v8f){0};
                    if (has_src) v = has_bcast ? LD8(ok) + v : LD8(ok);
                    if (act == ACT_RELU) v = V8F_KEEP(v, v > 0.f);
                    if (act == ACT_MASK) v = V8F_KEEP(v, AT8(mask + (k - k0) * c + g) > 0.f);
                    if (!keep) AT8(ok) = v;
                    if (has_pool) {
                        rs += v;
                        AT8(colsum + k * fc + g) += v;
                    }
                }
                if (has_pool) AT8(rowsum + p * c + g) = rs;
            }
        return;
    }
    if (c == 1 && fc == 1 && z % 8 == 0) {   /* one channel, the columns contiguous: eight columns at a time */
        for (int64_t p = k0 / z; p < k1 / z; p++) {
            const float r = has_bcast ? rc[p] : 0.f;
            v8f rs = {0};
            for (int64_t k = p * z; k < (p + 1) * z; k += 8) {
                float *restrict ok = o + (k - k0);
                v8f v = has_bcast ? r + LD8(colv + k) : (v8f){0};
                if (has_src) v = has_bcast ? LD8(ok) + v : LD8(ok);
                if (act == ACT_RELU) v = V8F_KEEP(v, v > 0.f);
                if (act == ACT_MASK) v = V8F_KEEP(v, AT8(mask + (k - k0)) > 0.f);
                if (!keep) AT8(ok) = v;
                if (has_pool) {
                    rs += v;
                    AT8(colsum + k) += v;
                }
            }
            if (has_pool) rowsum[p] = v8f_sum(&rs);
        }
        return;
    }
    for (int64_t p = k0 / z; p < k1 / z; p++) {
        for (int ch = 0; ch < c; ch++) {
            const float r = has_bcast ? rc[p * c + ch] : 0.f;
            float rs = 0.f;
            for (int64_t k = p * z; k < (p + 1) * z; k++) {
                float *restrict ok = o + (k - k0) * c + ch;
                float v = has_bcast ? r + colv[k * fc + ch] : 0.f;
                if (has_src) v = has_bcast ? *ok + v : *ok;
                if (act == ACT_RELU) v = v > 0.f ? v : 0.f;
                if (act == ACT_MASK) v = mask[(k - k0) * c + ch] > 0.f ? v : 0.f;
                if (!keep) *ok = v;
                if (has_pool) {
                    rs += v;
                    colsum[k * fc + ch] += v;
                }
            }
            if (has_pool) rowsum[p * c + ch] = rs;
        }
    }
}

#define FINISH_FLAGS(A, P, S, B) ((((A) * 2 + (P)) * 2 + (S)) * 2 + (B))
#define FINISH_CASE(A, P, S, B)                                                                                     \
    case FINISH_FLAGS(A, P, S, B):                                                                                  \
        if (c == 8) finish_kernel(o, k0, k1, z, 8, rc, colv, fc, mask, rowsum, colsum, A, P, S, B);                 \
        else finish_kernel(o, k0, k1, z, c, rc, colv, fc, mask, rowsum, colsum, A, P, S, B);                       \
        break;
#define FINISH_CASES(A, P) \
    FINISH_CASE(A, P, 0, 0) FINISH_CASE(A, P, 0, 1) FINISH_CASE(A, P, 1, 0) FINISH_CASE(A, P, 1, 1)

DWS_HOT_LOOP static void finish_row(float *o, int64_t k0, int64_t k1, int64_t z, int c, const float *rc,
                                    const float *colv, int64_t fc, const float *mask, float *rowsum, float *colsum,
                                    int act, int has_pool, int has_src, int has_bcast)
{
    switch (FINISH_FLAGS(act, has_pool, has_src, has_bcast)) {
        FINISH_CASES(ACT_LINEAR, 0)
        FINISH_CASES(ACT_LINEAR, 1)
        FINISH_CASES(ACT_RELU, 0)
        FINISH_CASES(ACT_RELU, 1)
        FINISH_CASES(ACT_MASK, 0)
        FINISH_CASES(ACT_MASK, 1)
    }
}
#undef FINISH_CASES
#undef FINISH_CASE

/* A W block finished (finish_row), row by row: per row its row and global slots
 * (rc, the block's column slots only) and the column vectors of its row slot;
 * its pooled sums into the pool (row slots) and the part's column sums. */
static void finish_w_block(const pass_run *r, const dws_block *blk, int part, float *o, float *rc, int has_src)
{
    const dws_pass *p = r->p;
    const dws_axes *ax = p->ax;
    const int c = p->channels, t = blk->t, b = blk->b, last = t + 1 == ax->n_layers;
    const int64_t st = ax->s[t], zt = ax->z[t], zr = ax->z[t + 1], fc = (int64_t)ax->feat_slots[t] * c;
    const float *mask = p->act == DWS_PASS_MASK ? dws_block_data(p->mask, blk) : NULL;
    for (int64_t i = blk->i0; i < blk->i1; i++) {
        const int64_t slot = i / zr, row_off = (i - blk->i0) * (blk->k1 - blk->k0) * c;
        const float *colv = NULL;
        if (p->bcast) {
            const float *g = dws_pool_global(p->bcast, b) + (ax->gW[t] + slot * st) * c;
            if (last) {
                memcpy(rc, g, sizeof(float) * (size_t)(st * c));
            } else {
                const float *f = dws_pool_feat(p->bcast, t + 1, b, i) + (int64_t)ax->row_slot0[t + 1] * c;
                for (int64_t j = 0; j < st * c; j++) rc[j] = g[j] + f[j];
            }
            colv = dws_pool_feat(p->bcast, t, b, 0) + (ax->col_slot0[t] + slot) * c;
        }
        float *rowsum = NULL, *colsum = NULL;
        if (p->pool) {
            rowsum = last ? dws_pool_global(p->pool, b) + (ax->gW[t] + i * st) * c
                          : dws_pool_feat(p->pool, t + 1, b, i) + (int64_t)ax->row_slot0[t + 1] * c;
            colsum = dws_pool_feat(&r->parts[part], t, b, 0) + (ax->col_slot0[t] + slot) * c;
        }
        finish_row(o + row_off, blk->k0, blk->k1, zt, c, rc, colv, fc, mask ? mask + row_off : NULL, rowsum, colsum,
                   (int)p->act, p->pool != NULL, has_src, p->bcast != NULL);
    }
}

static void finish_bias_block(const dws_pass *p, const dws_block *blk, float *o, int has_src)
{
    const dws_axes *ax = p->ax;
    const int c = p->channels, t = blk->t, b = blk->b, last = t + 1 == ax->n_layers;
    const float *m = p->act == DWS_PASS_MASK ? dws_block_data(p->mask, blk) : NULL;
    for (int64_t i = blk->i0; i < blk->i1; i++, o += c) {
        if (p->bcast) {
            const float *g = dws_pool_global(p->bcast, b) + (ax->gb[t] + i / ax->z[t + 1]) * c;
            const float *f = last ? NULL : dws_pool_feat(p->bcast, t + 1, b, i) + (int64_t)ax->bias_slot0[t + 1] * c;
            for (int ch = 0; ch < c; ch++) {
                float v = g[ch] + (f ? f[ch] : 0.f);
                o[ch] = has_src ? o[ch] + v : v;
            }
        } else if (!has_src) {
            memset(o, 0, sizeof(float) * (size_t)c);
        }
        for (int ch = 0; ch < c; ch++) {
            if (p->act == DWS_PASS_RELU) o[ch] = o[ch] > 0.f ? o[ch] : 0.f;
            if (m) o[ch] = m[(i - blk->i0) * c + ch] > 0.f ? o[ch] : 0.f;
        }
        if (p->pool) {
            float *dst = last ? dws_pool_global(p->pool, b) + (ax->gb[t] + i) * c
                              : dws_pool_feat(p->pool, t + 1, b, i) + (int64_t)ax->bias_slot0[t + 1] * c;
            memcpy(dst, o, sizeof(float) * (size_t)c);
        }
    }
}

/* The finished block goes to its place in the output with streaming stores: the
 * output is written once per pass and not read again in it, so fetching its
 * cache lines first (what a plain store does) would only double the traffic. */
static void stream_out(float *dst, const float *src, int64_t n)
{
    int64_t j = 0;
#if defined(__SSE__)
    for (; j < n && ((uintptr_t)(dst + j) & 15) != 0; j++) dst[j] = src[j];
    for (; j + 4 <= n; j += 4) _mm_stream_ps(dst + j, _mm_loadu_ps(src + j));
#endif
    for (; j < n; j++) dst[j] = src[j];
}

/* Work item `part` = part q of network b (part = b DWS_PASS_PARTS + q). */
static void run_part(void *ctx, int part, int thread)
{
    pass_run *r = ctx;
    const dws_pass *p = r->p;
    const dws_axes *ax = p->ax;
    const int c = p->channels, b = part / DWS_PASS_PARTS, q = part % DWS_PASS_PARTS;
    float *scratch = r->scratch + (size_t)thread * r->scratch_per_thread;
    float *rc = scratch + p->entry_scratch, *block = rc + r->rc_floats;
    if (p->pool) {
        for (int t = r->t_lo[q]; t <= r->t_hi[q]; t++)
            memset(dws_pool_feat(&r->parts[q], t, b, 0), 0,
                   sizeof(float) * (size_t)(ax->d[t] * ax->feat_slots[t] * c));
    }
    const int first = b * r->per_net + r->part_begin[q], end = b * r->per_net + r->part_begin[q + 1];
    for (int j = first; j < end; j++) {
        const dws_block *blk = &r->blocks[j];
        float *o = p->out ? dws_block_data(p->out, blk) : NULL;
        /* Computed in the thread's block buffer (in L2), unless out already holds it. */
        float *buf = p->keep_out ? o : o || p->sink ? block : NULL;
        const int entry = p->entry && !p->keep_out && p->entry(p->entry_ctx, blk, part, buf, scratch);
        const double n = (double)dws_block_entries(blk);
        r->floats_read[thread] += n * (entry ? p->entry_reads : p->keep_out ? c : 0) + n * (p->mask ? c : 0);
        if (!buf) continue;
        if (blk->is_bias) finish_bias_block(p, blk, buf, entry || p->keep_out);
        else finish_w_block(r, blk, q, buf, rc, entry || p->keep_out);
        if (p->sink && p->sink(p->sink_ctx, blk, part, buf, scratch)) {
            r->floats_read[thread] += n * p->sink_reads;
            r->floats_written[thread] += n * p->sink_writes;
        }
        if (o && buf != o) {
            stream_out(o, buf, dws_block_entries(blk) * c);
            r->floats_written[thread] += n * c;
        }
    }
#if defined(__SSE__)
    _mm_sfence();   /* streamed stores are visible before this worker is joined */
#endif
}

/* Column sums from the parts, then the global slots of tensors whose rows are
 * hidden neurons (the output layer's were stored row by row). */
static void finish_pool(const pass_run *r)
{
    const dws_pass *p = r->p;
    const dws_axes *ax = p->ax;
    dws_pool *pool = p->pool;
    const int c = p->channels, L = ax->n_layers;
    for (int b = 0; b < p->batch; b++) {
        for (int t = 0; t < L; t++) {
            int first = 1;
            size_t width = (size_t)(ax->s[t + 1] * c);
            for (int q = 0; q < DWS_PASS_PARTS; q++) {
                if (t < r->t_lo[q] || t > r->t_hi[q]) continue;
                for (int64_t k = 0; k < ax->d[t]; k++) {
                    float *dst = dws_pool_feat(pool, t, b, k) + (int64_t)ax->col_slot0[t] * c;
                    const float *src = dws_pool_feat(&r->parts[q], t, b, k) + (int64_t)ax->col_slot0[t] * c;
                    if (first) memcpy(dst, src, sizeof(float) * width);
                    else
                        for (size_t j = 0; j < width; j++) dst[j] += src[j];
                }
                first = 0;
            }
        }
        float *g = dws_pool_global(pool, b);
        for (int t = 0; t + 1 < L; t++) {
            const int64_t st = ax->s[t], zr = ax->z[t + 1];
            memset(g + (int64_t)ax->gW[t] * c, 0, sizeof(float) * (size_t)(ax->s[t + 1] * st * c));
            memset(g + (int64_t)ax->gb[t] * c, 0, sizeof(float) * (size_t)(ax->s[t + 1] * c));
            for (int64_t i = 0; i < ax->d[t + 1]; i++) {
                const float *f = dws_pool_feat(pool, t + 1, b, i);
                float *gw = g + (ax->gW[t] + (i / zr) * st) * c, *gb = g + (ax->gb[t] + i / zr) * c;
                for (int64_t j = 0; j < st * c; j++) gw[j] += f[(int64_t)ax->row_slot0[t + 1] * c + j];
                for (int ch = 0; ch < c; ch++) gb[ch] += f[(int64_t)ax->bias_slot0[t + 1] * c + ch];
            }
        }
    }
    if (p->pool_means) dws_pool_divide_counts(pool);
}

/* Rows per W_t block (whole rows), or 0 when a W_t row is cut into its column
 * slots, one block each (W_0 rows of an image: one colour plane per block). */
static int64_t rows_per_block(const dws_axes *ax, int t, int c)
{
    if (ax->s[t] > 1) return 0;
    int64_t rows = BLOCK_FLOATS / (ax->d[t] * c);
    return rows < 1 ? 1 : rows;
}

/* Blocks of a pass over `batch` networks of these axes (make_blocks' count). */
static size_t block_count(const dws_axes *ax, int batch, int channels)
{
    size_t n = 0;
    for (int t = 0; t < ax->n_layers; t++) {
        int64_t rows = rows_per_block(ax, t, channels);
        n += (size_t)(rows ? (ax->d[t + 1] + rows - 1) / rows : ax->d[t + 1] * ax->s[t]) + 1;
    }
    return n * (size_t)batch;
}

/* Entries of the largest block make_blocks makes: a run of whole rows, one slot of
 * a row, or a bias (which is never split). */
static int64_t max_block_entries(const dws_axes *ax, int channels)
{
    int64_t most = 0;
    for (int t = 0; t < ax->n_layers; t++) {
        int64_t rows = rows_per_block(ax, t, channels), dr = ax->d[t + 1];
        int64_t w = rows ? (rows < dr ? rows : dr) * ax->d[t] : ax->z[t];
        if (w > most) most = w;
        if (dr > most) most = dr;
    }
    return most;
}

size_t dws_pass_blocks_bytes(const dws_axes *ax, int batch, int channels)
{
    return block_count(ax, batch, channels) * sizeof(dws_block);
}

/* The threads a pass of `batch` networks runs on when asked for `requested`: no
 * more than its work items. */
static int pass_threads(int requested, int batch)
{
    const int items = DWS_PASS_PARTS * batch;
    int t = requested < 1 ? 1 : requested > items ? items : requested;
    return t > DWS_MAX_THREADS ? DWS_MAX_THREADS : t;
}

size_t dws_pass_arena_floats(const dws_axes *ax, int batch, int channels, size_t entry_scratch, int pool,
                             int threads, size_t *scratch_per_thread, size_t *rc_floats)
{
    int64_t max_s = 1;
    for (int t = 0; t < ax->n_layers; t++)
        if (ax->s[t] > max_s) max_s = ax->s[t];
    threads = pass_threads(threads, batch);
    size_t rc = (size_t)max_s * (size_t)channels;
    size_t per_thread = entry_scratch + rc + (size_t)max_block_entries(ax, channels) * (size_t)channels;
    if (scratch_per_thread) *scratch_per_thread = per_thread;
    if (rc_floats) *rc_floats = rc;
    return (size_t)threads * per_thread + (pool ? DWS_PASS_PARTS * dws_pool_floats(ax, batch, channels) : 0);
}

static int make_blocks(const dws_pass *p, dws_pass_work *w, int *n_out, dws_error *err)
{
    const dws_axes *ax = p->ax;
    size_t n = block_count(ax, p->batch, p->channels);
    if (n > (size_t)1 << 30) {
        dws_error_set(err, DWS_E_TOO_LARGE, "weight-space tensor has too many rows");
        return -1;
    }
    if (n > w->blocks_cap) {
        dws_block *nb = realloc(w->blocks, n * sizeof *nb);
        if (!nb) {
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate %zu row blocks", n);
            return -1;
        }
        w->blocks = nb;
        w->blocks_cap = n;
    }
    int j = 0;
    for (int b = 0; b < p->batch; b++) {
        for (int t = 0; t < ax->n_layers; t++) {
            int64_t rows = rows_per_block(ax, t, p->channels), dr = ax->d[t + 1], z = ax->z[t];
            if (rows) {
                for (int64_t i0 = 0; i0 < dr; i0 += rows)
                    w->blocks[j++] = (dws_block){b, t, 0, i0, i0 + rows < dr ? i0 + rows : dr, 0, ax->d[t]};
            } else {   /* slot-major: consecutive blocks share the slot's column vectors and sums in L2 */
                for (int64_t slot = 0; slot < ax->s[t]; slot++)
                    for (int64_t i = 0; i < dr; i++)
                        w->blocks[j++] = (dws_block){b, t, 0, i, i + 1, slot * z, (slot + 1) * z};
            }
            w->blocks[j++] = (dws_block){b, t, 1, 0, dr, 0, 1};
        }
    }
    *n_out = j;
    return 0;
}

/* Network 0's blocks (every network has the same ones) in DWS_PASS_PARTS
 * contiguous runs of about equal cost (entries touched): the same parts for any
 * batch, so a network's column sums are added in the same order whatever else
 * shares its batch. */
static void split_parts(pass_run *r, int per_net)
{
    double total = 0;
    for (int j = 0; j < per_net; j++) total += (double)dws_block_entries(&r->blocks[j]);
    for (int q = 0; q < DWS_PASS_PARTS; q++) {
        r->t_lo[q] = 1 << 30;
        r->t_hi[q] = -1;
    }
    double start = 0;
    int q = 0;
    r->per_net = per_net;
    r->part_begin[0] = 0;
    for (int j = 0; j < per_net; j++) {
        const dws_block *b = &r->blocks[j];
        int want = (int)(start * DWS_PASS_PARTS / total);
        if (want >= DWS_PASS_PARTS) want = DWS_PASS_PARTS - 1;
        while (q < want) r->part_begin[++q] = j;
        if (!b->is_bias) {
            if (b->t < r->t_lo[q]) r->t_lo[q] = b->t;
            if (b->t > r->t_hi[q]) r->t_hi[q] = b->t;
        }
        start += (double)dws_block_entries(b);
    }
    while (q < DWS_PASS_PARTS) r->part_begin[++q] = per_net;
}

int dws_pass_run(const dws_pass *p, dws_pass_work *w, dws_error *err)
{
    const dws_axes *ax = p->ax;
    pass_run r;
    memset(&r, 0, sizeof r);
    r.p = p;
    int n_blocks;
    if (make_blocks(p, w, &n_blocks, err) != 0) return -1;
    r.blocks = w->blocks;
    split_parts(&r, n_blocks / p->batch);

    const int n_parts = dws_pass_parts(p), threads = pass_threads(p->threads, p->batch);
    size_t pool_floats = p->pool ? dws_pool_floats(ax, p->batch, p->channels) : 0;
    size_t need = dws_pass_arena_floats(ax, p->batch, p->channels, p->entry_scratch, p->pool != NULL, threads,
                                        &r.scratch_per_thread, &r.rc_floats);
    if (need > w->arena_cap) {
        float *a = realloc(w->arena, need * sizeof(float));
        if (!a) {
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate %zu floats of pass scratch", need);
            return -1;
        }
        w->arena = a;
        w->arena_cap = need;
    }
    r.scratch = w->arena;
    for (int q = 0; p->pool && q < DWS_PASS_PARTS; q++)
        dws_pool_place(&r.parts[q], ax, p->batch, p->channels,
                       w->arena + (size_t)threads * r.scratch_per_thread + (size_t)q * pool_floats);

    struct timespec t0, t1;
    if (p->trace) clock_gettime(CLOCK_MONOTONIC, &t0);
    dws_parallel_parts(n_parts, threads, run_part, &r);
    if (p->pool) finish_pool(&r);
    if (p->trace && p->trace->n < DWS_TRACE_MAX) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        dws_pass_record *rec = &p->trace->rec[p->trace->n++];
        *rec = (dws_pass_record){.what = p->what ? p->what : "pass", .channels = p->channels,
                                 .seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec)};
        for (int q = 0; q < threads; q++) {
            rec->bytes_read += sizeof(float) * r.floats_read[q];
            rec->bytes_written += sizeof(float) * r.floats_written[q];
        }
    }
    return 0;
}

int dws_pass_pool(const dws_axes *ax, dws_ws *t, dws_pool *pool, int means, int threads, dws_pass_work *w,
                  dws_error *err)
{
    dws_pass pass = {
        .ax = ax, .batch = t->batch, .channels = t->channels, .keep_out = 1,
        .out = t, .pool = pool, .pool_means = means, .threads = threads, .what = "pool",
    };
    return dws_pass_run(&pass, w, err);
}

void dws_pass_work_free(dws_pass_work *w)
{
    if (!w) return;
    free(w->arena);
    free(w->blocks);
    memset(w, 0, sizeof *w);
}
