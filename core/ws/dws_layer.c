#include "dws_layer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas_local.h"
#include "chanmap.h"

static size_t add_tensor(dws_param_table *pt, const char *prefix, const char *what, int index, int ndim, int64_t d0,
                         int64_t d1)
{
    char name[96];
    if (index >= 0) snprintf(name, sizeof name, "%s%s%d", prefix, what, index);
    else snprintf(name, sizeof name, "%s%s", prefix, what);
    int64_t shape[2] = {d0, d1};
    return dws_param_table_add(pt, name, ndim, shape);
}

int dws_layer_build(dws_layer *ly, const dws_axes *slots, const dws_image_shape *image, int c_in, int c_out,
                    const char *prefix, dws_param_table *pt, dws_error *err)
{
    memset(ly, 0, sizeof *ly);
    ly->c_in = c_in;
    ly->c_out = c_out;
    ly->slots = *slots;
    int L = slots->n_layers;
    /* The convolution refines the W_0 -> W_0 entry-wise term, which exists when
     * W_0's rows are hidden neurons. */
    if (image && image->planes > 0 && L >= 2) {
        if (image->planes != slots->s[0] || (int64_t)image->planes * image->h * image->w != slots->d[0]) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "image %dx%dx%d does not match d_0 = %lld in %lld groups",
                          image->planes, image->h, image->w, (long long)slots->d[0], (long long)slots->s[0]);
            return -1;
        }
        ly->image = *image;
    }
    size_t bad = (size_t)-1, worst = 0;
    for (int t = 0; t + 1 < L; t++) {
        ly->E[t] = add_tensor(pt, prefix, "E", t, 2, c_in, c_out);
        worst |= ly->E[t] == bad;
    }
    if (ly->image.planes) {
        ly->K = add_tensor(pt, prefix, "K", -1, 2, DWS_TCONV_TAPS, c_out);
        worst |= ly->K == bad;
    }
    for (int n = 0; n < L; n++) {
        int64_t f = slots->feat_slots[n];
        ly->M[n] = add_tensor(pt, prefix, "M", n, 2, f * c_in, f * c_out);
        worst |= ly->M[n] == bad;
    }
    ly->pos = add_tensor(pt, prefix, "pos", -1, 2, slots->d[0], slots->feat_slots[0] * (int64_t)c_out);
    ly->G = add_tensor(pt, prefix, "G", -1, 2, (int64_t)slots->n_global * c_in, (int64_t)slots->n_global * c_out);
    ly->bias = add_tensor(pt, prefix, "bias", -1, 1, (int64_t)slots->n_global * c_out, 0);
    if (worst || ly->pos == bad || ly->G == bad || ly->bias == bad) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "too many parameter tensors for layer %s", prefix);
        return -1;
    }
    return 0;
}

/* Backward accumulates, per pass part, the gradients of the entry-wise maps
 * (E_0 .. E_{L-2}, adjacent in the flat buffer) and then of the kernel K. */
static size_t entry_count(const dws_layer *ly)
{
    int L = ly->slots.n_layers;
    return L >= 2 ? (size_t)(L - 1) * (size_t)ly->c_in * (size_t)ly->c_out : 0;
}

static size_t part_grad_floats(const dws_layer *ly)
{
    return entry_count(ly) + (ly->image.planes ? DWS_TCONV_TAPS * (size_t)ly->c_out : 0);
}

void dws_exec_free(dws_exec *ex)
{
    dws_pass_work_free(&ex->work);
    free(ex->mem);
    ex->mem = NULL;
    ex->mem_cap = 0;
}

/* n floats of the exec's reusable memory. */
static float *exec_mem(dws_exec *ex, size_t n, dws_error *err)
{
    if (n > ex->mem_cap) {
        float *m = realloc(ex->mem, n * sizeof(float));
        if (!m) {
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate %zu floats of DWS layer memory", n);
            return NULL;
        }
        ex->mem = m;
        ex->mem_cap = n;
    }
    return ex->mem;
}

static size_t tiled_floats(const dws_layer *ly)
{
    return ly->image.planes ? dws_tconv_tiled_floats(&ly->image, ly->c_out) : 0;
}

/* Groups of terms summed into an entry of W_t or b_t: entry, row, column and
 * global terms for hidden x hidden weights, fewer for the output layer. */
static int groups_W(const dws_axes *ax, int t)
{
    return t + 1 < ax->n_layers ? 4 : 2;
}

static int groups_b(const dws_axes *ax, int t)
{
    return t + 1 < ax->n_layers ? 2 : 1;
}

static void fill_normal(float *v, size_t n, float std, dws_rng *rng)
{
    for (size_t i = 0; i < n; i++) v[i] = std * (float)dws_rng_normal(rng);
}

/* A fan_in x (slots x c_out) matrix whose output slot j feeds a target summing
 * groups(j) groups of terms: He initialisation split over the groups. */
static void init_slot_matrix(float *m, int64_t fan_in, int64_t slots, int c_out, const int *groups, dws_rng *rng)
{
    for (int64_t r = 0; r < fan_in; r++)
        for (int64_t j = 0; j < slots; j++)
            fill_normal(m + (r * slots + j) * c_out, (size_t)c_out, sqrtf(2.f / (float)(fan_in * groups[j])), rng);
}

void dws_layer_init_params(const dws_layer *ly, float *params, dws_rng *rng)
{
    const dws_axes *ax = &ly->slots;
    const int L = ax->n_layers, ci = ly->c_in, co = ly->c_out;
    int groups[DWS_MAX_SLOTS];
    for (int t = 0; t + 1 < L; t++)
        fill_normal(params + ly->E[t], (size_t)ci * co, sqrtf(2.f / (float)(ci * groups_W(ax, t))), rng);
    if (ly->image.planes) memset(params + ly->K, 0, sizeof(float) * DWS_TCONV_TAPS * (size_t)co);
    for (int n = 0; n < L; n++) {
        for (int j = 0; j < ax->feat_slots[n]; j++) {
            if (n >= 1 && j < ax->bias_slot0[n]) groups[j] = groups_W(ax, n - 1);
            else if (n >= 1 && j == ax->bias_slot0[n]) groups[j] = groups_b(ax, n - 1);
            else groups[j] = groups_W(ax, n);
        }
        init_slot_matrix(params + ly->M[n], (int64_t)ax->feat_slots[n] * ci, ax->feat_slots[n], co, groups, rng);
    }
    fill_normal(params + ly->pos, (size_t)(ax->d[0] * ax->feat_slots[0] * co), sqrtf(2.f / (float)groups_W(ax, 0)), rng);
    for (int t = 0; t < L; t++) {
        for (int64_t j = 0; j < ax->s[t + 1] * ax->s[t]; j++) groups[ax->gW[t] + j] = groups_W(ax, t);
        for (int64_t j = 0; j < ax->s[t + 1]; j++) groups[ax->gb[t] + j] = groups_b(ax, t);
    }
    init_slot_matrix(params + ly->G, (int64_t)ax->n_global * ci, ax->n_global, co, groups, rng);
    memset(params + ly->bias, 0, sizeof(float) * (size_t)ax->n_global * co);
}

/* T (t_channels) and P (the pooled means of the layer's input, c_in channels)
 * have the batch and the slot structure of this layer. */
static int check_input(const dws_layer *ly, const dws_ws *T, int t_channels, const dws_pool *P, const char *what,
                       dws_error *err)
{
    const dws_axes *a = &P->ax, *s = &ly->slots;
    int ok = T->channels == t_channels && P->channels == ly->c_in && T->batch == P->batch &&
             T->n_layers == s->n_layers && a->n_layers == s->n_layers;
    for (int n = 0; ok && n <= s->n_layers; n++) ok = a->s[n] == s->s[n] && T->widths[n] == a->d[n];
    ok = ok && a->d[0] == s->d[0] && a->d[s->n_layers] == s->d[s->n_layers];
    if (!ok) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "DWS layer %d -> %d channels: %s has the wrong shape", ly->c_in,
                      ly->c_out, what);
        return -1;
    }
    return 0;
}

static int same_widths(const dws_ws *a, const dws_ws *b)
{
    if (a->n_layers != b->n_layers || a->batch != b->batch) return 0;
    for (int n = 0; n <= a->n_layers; n++)
        if (a->widths[n] != b->widths[n]) return 0;
    return 1;
}

typedef struct {
    const dws_layer *ly;
    const float *params;
    const float *K_tiled;       /* image: the convolution kernel tiled along a row */
    const dws_ws *X;            /* forward: the input, or */
    const dws_ws *Z;            /* forward: its entry-wise term X E, precomputed */
    const dws_ws *G;            /* backward */
    float *part_grads;          /* backward: one part_grad_floats(ly) per pass work item */
} entry_ctx;

/* Per-thread scratch of a W_0 block (one plane of one row) with a convolution:
 * `planes` planes of c_out channels (Z, and dZ in backward) and the padded plane. */
static size_t conv_scratch_floats(const dws_layer *ly, int planes)
{
    const dws_image_shape *im = &ly->image;
    return (size_t)planes * (size_t)im->h * (size_t)im->w * (size_t)ly->c_out +
           dws_tconv_scratch_floats(im, ly->c_out);
}

static int has_entry(const dws_layer *ly, const dws_block *blk)
{
    return !blk->is_bias && blk->t + 1 < ly->slots.n_layers;
}

/* Z = X E, or Z given; on W_0 planes of an image Z goes through the template
 * convolution, one plane at a time: a block of W_0 holds one plane when the image
 * has several, but whole rows (several planes) when it has one, and the scratch
 * holds one plane. */
static int forward_entry(void *vctx, const dws_block *blk, int part, float *out, float *scratch)
{
    (void)part;
    const entry_ctx *e = vctx;
    const dws_layer *ly = e->ly;
    if (!has_entry(ly, blk)) return 0;
    const int ci = ly->c_in, co = ly->c_out, conv = blk->t == 0 && ly->image.planes;
    const int64_t n = dws_block_entries(blk);
    const float *E = e->params + ly->E[blk->t];
    if (!conv) {
        if (e->Z) memcpy(out, dws_block_data(e->Z, blk), sizeof(float) * (size_t)(n * co));
        else dws_chanmap(n, ci, co, dws_block_data(e->X, blk), E, out, 0);
        return 1;
    }
    const int64_t plane = (int64_t)ly->image.h * ly->image.w;
    for (int64_t p0 = 0; p0 < n; p0 += plane) {
        float *o = out + p0 * co;
        if (e->Z) {
            dws_tconv_forward(&ly->image, co, e->K_tiled, dws_block_data(e->Z, blk) + p0 * co, o, scratch + plane * co);
        } else {   /* Z made in place in the padded plane */
            const dws_image_shape *im = &ly->image;
            const float *x = dws_block_data(e->X, blk) + p0 * ci;
            dws_tconv_pad_border(im, co, scratch);
            for (int y = 0; y < im->h; y++)
                dws_chanmap(im->w, ci, co, x + (int64_t)y * im->w * ci, E, dws_tconv_pad_row(im, co, scratch, y), 0);
            dws_tconv_forward_padded(im, co, e->K_tiled, scratch, o);
        }
    }
    return 1;
}

/* A finished block of this layer's output, straight through the next layer's
 * entry-wise map. */
typedef struct {
    const dws_layer *next;
    const float *params;
    dws_ws *Znext;
} next_ctx;

static int next_entry_sink(void *vctx, const dws_block *blk, int part, float *y, float *scratch)
{
    (void)part, (void)scratch;
    const next_ctx *s = vctx;
    if (!has_entry(s->next, blk)) return 0;
    const int ci = s->next->c_in, co = s->next->c_out;
    dws_chanmap(dws_block_entries(blk), ci, co, y, s->params + s->next->E[blk->t], dws_block_data(s->Znext, blk), 0);
    return 1;
}

/* Pooled summaries through the small maps: feat_n M_n (+ pos on n = 0) and
 * global G + bias, in the pooled layout of the output. One network at a time: a
 * GEMM's rounding may depend on its row count, and a network's result must not
 * depend on its batch. */
static void map_pooled(const dws_layer *ly, const float *params, const dws_pool *in, dws_pool *out)
{
    const dws_axes *ax = &in->ax;
    const int ci = ly->c_in, co = ly->c_out;
    const int64_t a = ax->n_global;
    const size_t pos_n = (size_t)(ax->d[0] * ax->feat_slots[0] * co);
    for (int b = 0; b < in->batch; b++) {
        for (int n = 0; n < ax->n_layers; n++) {
            int64_t f = ax->feat_slots[n];
            dws_gemm(0, 0, ax->d[n], f * co, f * ci, 1.f, dws_pool_feat(in, n, b, 0), f * ci, params + ly->M[n],
                     f * co, 0.f, dws_pool_feat(out, n, b, 0), f * co);
        }
        float *f0 = dws_pool_feat(out, 0, b, 0), *g = dws_pool_global(out, b);
        for (size_t j = 0; j < pos_n; j++) f0[j] += params[ly->pos + j];
        dws_gemm(0, 0, 1, a * co, a * ci, 1.f, dws_pool_global(in, b), a * ci, params + ly->G, a * co, 0.f, g,
                 a * co);
        for (int64_t j = 0; j < a * co; j++) g[j] += params[ly->bias + j];
    }
}

/* Every forward: from X or from its entry term Z; into Y, or each finished block
 * to a sink (Y then not stored). */
static int forward(const dws_layer *ly, const float *params, const dws_ws *X, const dws_ws *Z, const dws_pool *PX,
                   int relu, dws_ws *Y, const dws_layer_sink *sink, dws_pool *PY, dws_exec *ex, dws_error *err)
{
    const dws_ws *in = X ? X : Z;
    if (check_input(ly, in, X ? ly->c_in : ly->c_out, PX, "input", err) != 0) return -1;
    if ((Y && (Y->channels != ly->c_out || !same_widths(in, Y))) || (!Y && !sink) ||
        (PY && (PY->channels != ly->c_out || PY->batch != in->batch))) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "DWS layer output has the wrong shape");
        return -1;
    }
    /* exec memory: the broadcast vectors (pooled layout), the tiled kernel */
    size_t n_pool = dws_pool_floats(&PX->ax, in->batch, ly->c_out);
    float *mem = exec_mem(ex, n_pool + tiled_floats(ly), err);
    if (!mem) return -1;
    dws_pool nvec;
    dws_pool_place(&nvec, &PX->ax, in->batch, ly->c_out, mem);
    float *K_tiled = ly->image.planes ? mem + n_pool : NULL;
    if (K_tiled) dws_tconv_tile(&ly->image, ly->c_out, params + ly->K, K_tiled);
    map_pooled(ly, params, PX, &nvec);
    entry_ctx ctx = {.ly = ly, .params = params, .K_tiled = K_tiled, .X = X, .Z = Z};
    dws_pass pass = {
        .ax = &PX->ax, .batch = in->batch, .channels = ly->c_out,
        .entry = forward_entry, .entry_ctx = &ctx,
        .entry_scratch = ly->image.planes ? conv_scratch_floats(ly, 1) : 0,
        .bcast = &nvec, .act = relu ? DWS_PASS_RELU : DWS_PASS_LINEAR,
        .out = Y, .pool = PY, .pool_means = 1, .threads = ex->threads,
        .what = !Y ? "forward, into a sink" : X ? "forward" : "forward from the entry term",
        .entry_reads = X ? ly->c_in : ly->c_out, .trace = ex->trace,
    };
    if (!Y) {
        pass.sink = sink->fn, pass.sink_ctx = sink->ctx;
        pass.sink_reads = sink->reads, pass.sink_writes = sink->writes;
        if (sink->what) pass.what = sink->what;
    }
    return dws_pass_run(&pass, &ex->work, err);
}

void dws_layer_forward_floats(const dws_layer *ly, const dws_axes *ax, int batch, int threads, size_t *mem,
                              size_t *arena)
{
    *mem = dws_pool_floats(ax, batch, ly->c_out) + tiled_floats(ly);
    *arena = dws_pass_arena_floats(ax, batch, ly->c_out, ly->image.planes ? conv_scratch_floats(ly, 1) : 0, 1,
                                   threads, NULL, NULL);
}

int dws_layer_forward(const dws_layer *ly, const float *params, const dws_ws *X, const dws_pool *PX, int relu,
                      dws_ws *Y, dws_pool *PY, dws_exec *ex, dws_error *err)
{
    return forward(ly, params, X, NULL, PX, relu, Y, NULL, PY, ex, err);
}

int dws_layer_forward_to_next(const dws_layer *ly, const float *params, const dws_ws *X, const dws_pool *PX,
                              int relu, const dws_layer *next, dws_ws *Znext, dws_pool *PY, dws_exec *ex,
                              dws_error *err)
{
    if (Znext->channels != next->c_out || !same_widths(X, Znext) || next->c_in != ly->c_out ||
        next->slots.n_layers != ly->slots.n_layers) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "DWS layer output has the wrong shape");
        return -1;
    }
    next_ctx ctx = {next, params, Znext};
    dws_layer_sink sink = {next_entry_sink, &ctx, 0, next->c_out, "forward, into the next entry term"};
    return forward(ly, params, X, NULL, PX, relu, NULL, &sink, PY, ex, err);
}

int dws_layer_forward_entry(const dws_layer *ly, const float *params, const dws_ws *Z, const dws_pool *PX, int relu,
                            dws_ws *Y, dws_pool *PY, dws_exec *ex, dws_error *err)
{
    return forward(ly, params, NULL, Z, PX, relu, Y, NULL, PY, ex, err);
}

int dws_layer_forward_sink(const dws_layer *ly, const float *params, const dws_ws *X, const dws_ws *Z,
                           const dws_pool *PX, int relu, const dws_layer_sink *sink, dws_pool *PY, dws_exec *ex,
                           dws_error *err)
{
    if (!X == !Z) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "DWS layer: give the input or its entry term, not both");
        return -1;
    }
    return forward(ly, params, X, Z, PX, relu, NULL, sink, PY, ex, err);
}

/* dE += X^T dZ and dX = dZ E^T on the block, with dZ = G, or on W_0 planes of
 * an image the convolution's adjoint of G (Z recomputed: cheaper than storing),
 * one plane at a time as in forward_entry. */
static int backward_entry(void *vctx, const dws_block *blk, int part, float *out, float *scratch)
{
    const entry_ctx *e = vctx;
    const dws_layer *ly = e->ly;
    if (!has_entry(ly, blk)) return 0;
    const int ci = ly->c_in, co = ly->c_out;
    const int64_t n = dws_block_entries(blk);
    const float *x = dws_block_data(e->X, blk), *g = dws_block_data(e->G, blk), *E = e->params + ly->E[blk->t];
    float *pg = e->part_grads + (size_t)part * part_grad_floats(ly);
    float *dE = pg + (ly->E[blk->t] - ly->E[0]);
    if (!(blk->t == 0 && ly->image.planes)) {
        dws_chanmap_grad(n, ci, co, x, g, dE);
        if (out) dws_chanmap_adjoint(n, ci, co, g, E, out, 0);
        return 1;
    }
    const dws_image_shape *im = &ly->image;
    const int64_t plane = (int64_t)im->h * im->w, padded = (int64_t)(im->h + 2) * (im->w + 2) * co;
    for (int64_t p0 = 0; p0 < n; p0 += plane) {
        const float *xp = x + p0 * ci;
        float *zp = scratch, *dz = scratch + padded, *gp = dz + plane * co;   /* Z made in the padded plane */
        dws_tconv_pad_border(im, co, zp);
        for (int y = 0; y < im->h; y++)
            dws_chanmap(im->w, ci, co, xp + (int64_t)y * im->w * ci, E, dws_tconv_pad_row(im, co, zp, y), 0);
        dws_tconv_backward_padded(im, co, e->K_tiled, zp, g + p0 * co, dz, pg + entry_count(ly), gp);
        dws_chanmap_grad(plane, ci, co, xp, dz, dE);
        if (out) dws_chanmap_adjoint(plane, ci, co, dz, E, out + p0 * ci, 0);
    }
    return 1;
}

/* Gradients of the small maps: the pooled input against the pooled output grads. */
static void pooled_param_grads(const dws_layer *ly, const dws_pool *PX, const dws_pool *PG, float *grads)
{
    const dws_axes *ax = &PX->ax;
    const int ci = ly->c_in, co = ly->c_out, B = PX->batch;
    for (int n = 0; n < ax->n_layers; n++) {
        int64_t f = ax->feat_slots[n];
        dws_gemm(1, 0, f * ci, f * co, B * ax->d[n], 1.f, PX->feat[n], f * ci, PG->feat[n], f * co, 1.f,
                 grads + ly->M[n], f * co);
    }
    size_t pos_n = (size_t)(ax->d[0] * ax->feat_slots[0] * co);
    for (int b = 0; b < B; b++) {
        const float *f0 = dws_pool_feat(PG, 0, b, 0);
        for (size_t j = 0; j < pos_n; j++) grads[ly->pos + j] += f0[j];
    }
    int64_t a = ax->n_global;
    dws_gemm(1, 0, a * ci, a * co, B, 1.f, PX->global, a * ci, PG->global, a * co, 1.f, grads + ly->G, a * co);
    for (int b = 0; b < B; b++) {
        const float *g = dws_pool_global(PG, b);
        for (int64_t j = 0; j < a * co; j++) grads[ly->bias + j] += g[j];
    }
}

/* The pooled output grads mapped back through M_n^T and G^T, divided by the
 * counts: what the pass broadcasts into dX (the adjoint of mean-pooling X). */
static void unmap_pooled(const dws_layer *ly, const float *params, const dws_pool *PG, dws_pool *out)
{
    const dws_axes *ax = &PG->ax;
    const int ci = ly->c_in, co = ly->c_out, B = PG->batch;
    for (int n = 0; n < ax->n_layers; n++) {
        int64_t f = ax->feat_slots[n];
        dws_gemm(0, 1, B * ax->d[n], f * ci, f * co, 1.f, PG->feat[n], f * co, params + ly->M[n], f * co, 0.f,
                 out->feat[n], f * ci);
    }
    int64_t a = ax->n_global;
    dws_gemm(0, 1, B, a * ci, a * co, 1.f, PG->global, a * co, params + ly->G, a * co, 0.f, out->global, a * ci);
    dws_pool_divide_counts(out);
}

int dws_layer_backward(const dws_layer *ly, const float *params, float *grads, const dws_ws *X, const dws_pool *PX,
                       const dws_ws *G, const dws_pool *PG, int mask_relu, dws_ws *dX, dws_pool *PdX, dws_exec *ex,
                       dws_error *err)
{
    if (check_input(ly, X, ly->c_in, PX, "input", err) != 0 || check_input(ly, G, ly->c_out, PX, "gradient", err) != 0)
        return -1;
    if (PG->channels != ly->c_out || PG->batch != G->batch) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "DWS layer: pooled gradient has the wrong shape");
        return -1;
    }
    if (!same_widths(X, G) || (dX && (dX->channels != ly->c_in || !same_widths(X, dX))) ||
        (PdX && (!dX || PdX->channels != ly->c_in || PdX->batch != X->batch))) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "DWS layer gradient has the wrong shape");
        return -1;
    }
    pooled_param_grads(ly, PX, PG, grads);

    /* exec memory: per-part gradients (zeroed), the tiled kernel, the broadcast vectors */
    const size_t n_items = (size_t)DWS_PASS_PARTS * (size_t)X->batch;   /* the pass's work items */
    const size_t n_part = part_grad_floats(ly), n_entry = entry_count(ly), n_grads = n_items * n_part;
    const size_t n_tiled = tiled_floats(ly), n_pool = dX ? dws_pool_floats(&PX->ax, X->batch, ly->c_in) : 0;
    float *mem = exec_mem(ex, n_grads + n_tiled + n_pool, err);
    if (!mem) return -1;
    float *part_grads = mem, *K_tiled = ly->image.planes ? mem + n_grads : NULL;
    memset(part_grads, 0, n_grads * sizeof(float));
    if (K_tiled) dws_tconv_tile(&ly->image, ly->c_out, params + ly->K, K_tiled);
    dws_pool bvec = {0};
    if (dX) {
        dws_pool_place(&bvec, &PX->ax, X->batch, ly->c_in, mem + n_grads + n_tiled);
        unmap_pooled(ly, params, PG, &bvec);
    }
    entry_ctx ctx = {.ly = ly, .params = params, .K_tiled = K_tiled, .X = X, .G = G, .part_grads = part_grads};
    dws_pass pass = {
        .ax = &PX->ax, .batch = X->batch, .channels = ly->c_in,
        .entry = backward_entry, .entry_ctx = &ctx,
        .entry_scratch = ly->image.planes ? conv_scratch_floats(ly, 2) : 0,
        .bcast = dX ? &bvec : NULL, .act = mask_relu ? DWS_PASS_MASK : DWS_PASS_LINEAR, .mask = X,
        .out = dX, .pool = PdX, .pool_means = 0, .threads = ex->threads,
        .what = "backward", .entry_reads = ly->c_in + ly->c_out, .trace = ex->trace,
    };
    if (dws_pass_run(&pass, &ex->work, err) != 0) return -1;
    for (size_t q = 0; q < n_items; q++) {
        const float *pg = part_grads + (size_t)q * n_part;
        for (size_t j = 0; j < n_entry; j++) grads[ly->E[0] + j] += pg[j];
        for (size_t j = 0; ly->image.planes && j < DWS_TCONV_TAPS * (size_t)ly->c_out; j++) grads[ly->K + j] += pg[n_entry + j];
    }
    return 0;
}
