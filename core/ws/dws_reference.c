/* The blocks, as the loops below visit them (docs/design.md section 6.3, the block
 * table; section 4 for the slots of the fixed axes, section 7 for pos and K). t is
 * 0-based, as in the code (design.md's W_l is W_t with t = l - 1): W_t has rows on
 * axis t + 1 and columns on axis t, b_t lies on axis t + 1. For every target T and
 * source S the block S -> T is a sum of terms "pool S over the axes T does not
 * share with it, map the channels, broadcast over T's other axes":
 *   GLOBAL (every pair): S pooled over all its axes, through G, broadcast to all of
 *     T: the "mean over all" terms and every block of two tensors that share no
 *     axis;
 *   feat_n (S and T both on axis n < L, matched neuron by neuron), through M_n:
 *     W_t -> W_t  n = t+1: row means over the columns, broadcast along the columns;
 *                 n = t:   column means over the rows, broadcast along the rows;
 *     W_{t-1} -> W_t, n = t:   W_{t-1}'s row means, broadcast along W_t's rows;
 *     W_{t+1} -> W_t, n = t+1: W_{t+1}'s column means, broadcast along W_t's columns;
 *     b_t -> W_t (n = t+1) and b_{t-1} -> W_t (n = t): broadcast along the other axis;
 *     W_t -> b_t (n = t+1): row means;  W_{t+1} -> b_t (n = t+1): column means;
 *     b_t -> b_t (n = t+1): entry-wise (the DeepSets term; its mean is GLOBAL's);
 *     and each of these reversed;
 *   entry-wise, W_t -> W_t for t < L-1: X W_t[i][k] E_t (c_in x c_out), plus on an
 *     image's W_0 the template convolution of that term along each row's planes.
 * Then a bias per global slot, and the position embedding pos[k] on W_0's column k
 * (feat_0's output). The fixed axes pool per slot (key() below): axis 0 per input
 * group, axis L per class, so nothing is mixed across groups or classes; axis L
 * has no feat summary, and what shares only it (W_{L-1}, b_{L-1}) meets in GLOBAL,
 * one slot per class: exact per class. */
#include "dws_reference.h"

#include <stdlib.h>
#include <string.h>

/* A tensor of the weight space: W_t, rows on axis t + 1 and columns on axis t, or
 * b_t, rows on axis t + 1 (one column). */
typedef struct {
    int t, is_bias;
} tensor_id;

/* Which summary a block goes through: n >= 0 keeps neuron j of axis n (feat_n of
 * ws_pool.h, channel map M_n); GLOBAL keeps nothing (channel map G). */
#define GLOBAL (-1)

static int64_t n_rows(const dws_axes *ax, tensor_id T) { return ax->d[T.t + 1]; }
static int64_t n_cols(const dws_axes *ax, tensor_id T) { return T.is_bias ? 1 : ax->d[T.t]; }
static int64_t summary_rows(const dws_axes *ax, int n) { return n == GLOBAL ? 1 : ax->d[n]; }
static int summary_slots(const dws_axes *ax, int n) { return n == GLOBAL ? ax->n_global : ax->feat_slots[n]; }
static size_t map_offset(const dws_layer *ly, int n) { return n == GLOBAL ? ly->G : ly->M[n]; }

/* T lies on axis n: its rows, or a weight's columns. */
static int on_axis(tensor_id T, int n) { return n == T.t + 1 || (!T.is_bias && n == T.t); }

static float *at(const dws_ws *X, tensor_id T, int b, int64_t i, int64_t k)
{
    if (T.is_bias) return dws_ws_b(X, T.t, b) + i * X->channels;
    return dws_ws_W(X, T.t, b) + (i * X->widths[T.t] + k) * X->channels;
}

/* Entry (i, k) of T in summary n: returns the row j (the neuron kept, 0 for
 * GLOBAL), and sets *slot. The slot is at once where the entry is pooled to, which
 * rows of the channel map read that pooled value, and which columns of it write
 * the value broadcast back to the entry. Hidden axes have one slot; axis 0 one per
 * input group, axis L one per class (z_n entries each), so those are never mixed.
 *   GLOBAL:   W_t pooled over rows and columns, per (row slot, column slot);
 *             b_t over its rows, per row slot;
 *   n = t+1:  W_t row i pooled over its columns, per column slot; b_t[i] as is;
 *   n = t:    W_t column k pooled over its rows, per row slot. */
static int64_t key(const dws_axes *ax, tensor_id T, int n, int64_t i, int64_t k, int *slot)
{
    const int64_t row_slot = i / ax->z[T.t + 1], col_slot = T.is_bias ? 0 : k / ax->z[T.t];
    if (n == GLOBAL) {
        *slot = T.is_bias ? ax->gb[T.t] + (int)row_slot : ax->gW[T.t] + (int)(row_slot * ax->s[T.t] + col_slot);
        return 0;
    }
    if (n == T.t + 1) {
        *slot = T.is_bias ? ax->bias_slot0[n] : ax->row_slot0[n] + (int)col_slot;
        return i;
    }
    *slot = ax->col_slot0[n] + (int)row_slot;
    return k;
}

/* Element (a, o) of block (si, so) of a channel map: (F c_in) x (F c_out), row-major. */
static size_t map_at(int F, int ci, int co, int si, int a, int so, int o)
{
    return ((size_t)si * ci + a) * ((size_t)F * co) + (size_t)so * co + o;
}

typedef struct {
    const dws_layer *ly;
    const float *params;
    dws_axes ax;             /* the layer's slots at the tensors' widths */
    int ci, co;
    double *u, *w, *v;       /* a summary: [row j][slot][channel] */
    int64_t *ucnt, *wcnt;    /* entries pooled into each [row j][slot] */
    double *acc;             /* one tensor of the result, [rows][cols][channel] */
    double *z, *g, *dz;      /* one row of the entry-wise term, c_out channels */
    double *dE, *dK;         /* gradients of E_t and K, summed in double */
} ref;

/* u[j][slot] = the sum (means: the mean) of the entries of S that key() sends
 * there, cnt[j][slot] their number; zero where none. */
static void pool_tensor(const dws_axes *ax, const dws_ws *X, int b, tensor_id S, int n, int means, double *u,
                        int64_t *cnt)
{
    const int F = summary_slots(ax, n), c = X->channels;
    memset(u, 0, sizeof(double) * (size_t)(summary_rows(ax, n) * F * c));
    memset(cnt, 0, sizeof(int64_t) * (size_t)(summary_rows(ax, n) * F));
    for (int64_t i = 0; i < n_rows(ax, S); i++)
        for (int64_t k = 0; k < n_cols(ax, S); k++) {
            int slot;
            int64_t q = key(ax, S, n, i, k, &slot) * F + slot;
            const float *x = at(X, S, b, i, k);
            cnt[q]++;
            for (int ch = 0; ch < c; ch++) u[q * c + ch] += x[ch];
        }
    for (int64_t q = 0; means && q < summary_rows(ax, n) * F; q++)
        for (int ch = 0; ch < c && cnt[q]; ch++) u[q * c + ch] /= (double)cnt[q];
}

/* The template convolution on one W_0 row ([planes][h][w][c], position q =
 * (p h + y) w + x): src's value at (p, y + dy, x + dx) for tap = (dy + 1) 3 +
 * (dx + 1), or at (p, y - dy, x - dx) when sign = -1; NULL outside the image (zero
 * padding). */
static const double *neighbour(const dws_image_shape *im, int c, const double *src, int64_t q, int tap, int sign)
{
    const int64_t y = q / im->w % im->h + sign * (tap / 3 - 1), x = q % im->w + sign * (tap % 3 - 1);
    if (y < 0 || y >= im->h || x < 0 || x >= im->w) return NULL;
    return src + ((q / ((int64_t)im->w * im->h) * im->h + y) * im->w + x) * c;
}

/* dst(q) += sum over taps K[tap] src(q's neighbour), per channel: the convolution,
 * or with sign = -1 its adjoint. */
static void correlate(const dws_image_shape *im, int c, const float *K, const double *src, int sign, double *dst)
{
    for (int64_t q = 0; q < (int64_t)im->planes * im->h * im->w; q++)
        for (int tap = 0; tap < DWS_TCONV_TAPS; tap++) {
            const double *s = neighbour(im, c, src, q, tap, sign);
            for (int ch = 0; s && ch < c; ch++) dst[q * c + ch] += K[tap * c + ch] * s[ch];
        }
}

/* The channel map of summary n (M_n or G), row by row: out[j][so] = sum over si
 * of in[j][si] Map[si][so], c_in -> c_out channels; transpose: its adjoint,
 * out[j][si] = sum over so of Map[si][so] in[j][so]. cnt: the entries pooled
 * into in's slots; the slots with none (not the pooled tensor's) are skipped. */
static void map_summary(const ref *r, int n, const double *in, const int64_t *cnt, int transpose, double *out)
{
    const int F = summary_slots(&r->ax, n), ci = r->ci, co = r->co;
    const int64_t rows = summary_rows(&r->ax, n);
    const float *Map = r->params + map_offset(r->ly, n);
    memset(out, 0, sizeof(double) * (size_t)(rows * F * (transpose ? ci : co)));
    for (int64_t j = 0; j < rows; j++)
        for (int si = 0; si < F; si++)
            for (int a = 0; a < ci; a++)
                for (int so = 0; so < F; so++)
                    for (int o = 0; o < co && cnt[j * F + (transpose ? so : si)]; o++) {
                        const double m = Map[map_at(F, ci, co, si, a, so, o)];
                        if (transpose) out[(j * F + si) * ci + a] += m * in[(j * F + so) * co + o];
                        else out[(j * F + so) * co + o] += in[(j * F + si) * ci + a] * m;
                    }
}

/* Row i of the entry-wise term of W_t: z[k] = X W_t[i][k] E_t (a c_in x c_out map). */
static void entry_row(const ref *r, const dws_ws *X, tensor_id T, int b, int64_t i, double *z)
{
    const float *E = r->params + r->ly->E[T.t];
    memset(z, 0, sizeof(double) * (size_t)(n_cols(&r->ax, T) * r->co));
    for (int64_t k = 0; k < n_cols(&r->ax, T); k++) {
        const float *x = at(X, T, b, i, k);
        for (int a = 0; a < r->ci; a++)
            for (int o = 0; o < r->co; o++) z[k * r->co + o] += (double)x[a] * E[a * r->co + o];
    }
}

/* Only W_t with hidden rows (t < L - 1) has an entry-wise term: the output layer's
 * is the n = t block, its rows (classes) being one slot each. */
static int has_entry(const ref *r, tensor_id T) { return !T.is_bias && T.t + 1 < r->ax.n_layers; }
static int has_conv(const ref *r, tensor_id T) { return T.t == 0 && r->ly->image.planes > 0; }

/* Y[T] of network b: the sum of the blocks S -> T, the bias, the position
 * embedding and the entry-wise term. */
static void forward_tensor(ref *r, const dws_ws *X, dws_ws *Y, int b, tensor_id T)
{
    const dws_axes *ax = &r->ax;
    const int L = ax->n_layers, co = r->co;
    const int64_t cols = n_cols(ax, T);
    memset(r->acc, 0, sizeof(double) * (size_t)(n_rows(ax, T) * cols * co));
    for (int s = 0; s < 2 * L; s++) {
        tensor_id S = {s / 2, s % 2};
        /* Block S -> T through summary n: the global one always; feat_n when S and T
         * share axis n, matched neuron by neuron (docs/design.md section 6.3: a W/b
         * that shares no axis with T reaches it through the global summary only).
         * Pool S (means), map the channels, broadcast: Y[T](i, k) += v[j][so],
         * (j, so) = key(T, n, i, k). */
        for (int n = GLOBAL; n < L; n++) {
            if (n != GLOBAL && !(on_axis(S, n) && on_axis(T, n))) continue;
            pool_tensor(ax, X, b, S, n, 1, r->u, r->ucnt);
            map_summary(r, n, r->u, r->ucnt, 0, r->v);
            for (int64_t i = 0; i < n_rows(ax, T); i++)
                for (int64_t k = 0; k < cols; k++) {
                    int so;
                    int64_t q = key(ax, T, n, i, k, &so) * summary_slots(ax, n) + so;
                    for (int o = 0; o < co; o++) r->acc[(i * cols + k) * co + o] += r->v[q * co + o];
                }
        }
    }
    const float *bias = r->params + r->ly->bias, *pos = r->params + r->ly->pos, *K = r->params + r->ly->K;
    for (int64_t i = 0; i < n_rows(ax, T); i++) {
        double *row = r->acc + i * cols * co;
        for (int64_t k = 0; k < cols; k++) {
            int so;
            key(ax, T, GLOBAL, i, k, &so);   /* bias: one c_out vector per global slot */
            for (int o = 0; o < co; o++) row[k * co + o] += bias[so * co + o];
            if (T.t == 0 && !T.is_bias) {    /* pos: one per input neuron k and slot of feat_0 */
                key(ax, T, 0, i, k, &so);
                for (int o = 0; o < co; o++) row[k * co + o] += pos[((size_t)k * ax->feat_slots[0] + so) * co + o];
            }
        }
        if (!has_entry(r, T)) continue;
        /* Entry-wise: Y W_t[i][k] += X W_t[i][k] E_t, and on an image's W_0 rows also
         * the template convolution of that term, K * (X E_0), plane by plane. */
        entry_row(r, X, T, b, i, r->z);
        for (int64_t q = 0; q < cols * co; q++) row[q] += r->z[q];
        if (has_conv(r, T)) correlate(&r->ly->image, co, K, r->z, 1, row);
    }
    for (int64_t i = 0; i < n_rows(ax, T); i++)
        for (int64_t k = 0; k < cols; k++)
            for (int o = 0; o < co; o++) at(Y, T, b, i, k)[o] = (float)r->acc[(i * cols + k) * co + o];
}

/* dX[S] of network b, and the gradients of the maps that read S: for each block
 * S -> T, with w the sums of dY[T] over what the block broadcast over (the
 * adjoint of the broadcast), dMap[si][so] += sum_j mean_S[j][si] (x) w[j][so] and
 * dX[S](i, k) += (Map[si] w[j]) / count[j][si], (j, si) = key(S, n, i, k) (the
 * adjoint of the mean); then the entry-wise term's adjoint. */
static void backward_tensor(ref *r, const dws_ws *X, const dws_ws *dY, dws_ws *dX, float *grads, int b, tensor_id S)
{
    const dws_axes *ax = &r->ax;
    const int L = ax->n_layers, ci = r->ci, co = r->co;
    const int64_t cols = n_cols(ax, S);
    memset(r->acc, 0, sizeof(double) * (size_t)(n_rows(ax, S) * cols * ci));
    for (int t = 0; t < 2 * L; t++) {
        tensor_id T = {t / 2, t % 2};
        for (int n = GLOBAL; n < L; n++) {
            if (n != GLOBAL && !(on_axis(S, n) && on_axis(T, n))) continue;
            const int F = summary_slots(ax, n);
            float *dMap = grads + map_offset(r->ly, n);
            pool_tensor(ax, X, b, S, n, 1, r->u, r->ucnt);
            pool_tensor(ax, dY, b, T, n, 0, r->w, r->wcnt);
            for (int si = 0; si < F; si++)
                for (int so = 0; so < F; so++)
                    for (int a = 0; a < ci; a++)   /* slots of S and T only (the same in every row j) */
                        for (int o = 0; o < co && r->ucnt[si] && r->wcnt[so]; o++) {
                            double sum = 0;
                            for (int64_t j = 0; j < summary_rows(ax, n); j++)
                                sum += r->u[(j * F + si) * ci + a] * r->w[(j * F + so) * co + o];
                            dMap[map_at(F, ci, co, si, a, so, o)] += (float)sum;
                        }
            map_summary(r, n, r->w, r->wcnt, 1, r->v);
            for (int64_t i = 0; i < n_rows(ax, S); i++)
                for (int64_t k = 0; k < cols; k++) {
                    int si;
                    int64_t q = key(ax, S, n, i, k, &si) * F + si;
                    for (int a = 0; a < ci; a++)
                        r->acc[(i * cols + k) * ci + a] += r->v[q * ci + a] / (double)r->ucnt[q];
                }
        }
    }
    if (has_entry(r, S)) {
        /* g = dY W_t[i] (through the convolution's adjoint on an image's W_0:
         * g + K^T * g, and dK[tap] += g (x) the shifted X E_0); dE_t += X^T g;
         * dX += g E_t^T. */
        const float *E = r->params + r->ly->E[S.t], *K = r->params + r->ly->K;
        const dws_image_shape *im = &r->ly->image;
        memset(r->dE, 0, sizeof(double) * (size_t)(ci * co));
        memset(r->dK, 0, sizeof(double) * DWS_TCONV_TAPS * (size_t)co);
        for (int64_t i = 0; i < n_rows(ax, S); i++) {
            for (int64_t k = 0; k < cols; k++)
                for (int o = 0; o < co; o++) r->g[k * co + o] = at(dY, S, b, i, k)[o];
            if (has_conv(r, S)) {
                entry_row(r, X, S, b, i, r->z);
                for (int64_t q = 0; q < cols; q++)
                    for (int tap = 0; tap < DWS_TCONV_TAPS; tap++) {
                        const double *zs = neighbour(im, co, r->z, q, tap, 1);
                        for (int o = 0; zs && o < co; o++) r->dK[tap * co + o] += r->g[q * co + o] * zs[o];
                    }
                memcpy(r->dz, r->g, sizeof(double) * (size_t)(cols * co));
                correlate(im, co, K, r->g, -1, r->dz);
                memcpy(r->g, r->dz, sizeof(double) * (size_t)(cols * co));
            }
            for (int64_t k = 0; k < cols; k++) {
                const float *x = at(X, S, b, i, k);
                double *dx = r->acc + (i * cols + k) * ci;
                for (int a = 0; a < ci; a++)
                    for (int o = 0; o < co; o++) {
                        r->dE[a * co + o] += x[a] * r->g[k * co + o];
                        dx[a] += r->g[k * co + o] * E[a * co + o];
                    }
            }
        }
        for (int q = 0; q < ci * co; q++) grads[r->ly->E[S.t] + q] += (float)r->dE[q];
        for (int q = 0; has_conv(r, S) && q < DWS_TCONV_TAPS * co; q++) grads[r->ly->K + q] += (float)r->dK[q];
    }
    for (int64_t i = 0; dX && i < n_rows(ax, S); i++)
        for (int64_t k = 0; k < cols; k++)
            for (int a = 0; a < ci; a++) at(dX, S, b, i, k)[a] = (float)r->acc[(i * cols + k) * ci + a];
}

/* The bias and the position embedding are added to every entry of a slot: their
 * gradients are dY summed over the slot (dY pooled as sums). */
static void backward_biases(ref *r, const dws_ws *dY, float *grads, int b, tensor_id T)
{
    const dws_axes *ax = &r->ax;
    const int co = r->co;
    pool_tensor(ax, dY, b, T, GLOBAL, 0, r->w, r->wcnt);
    for (int q = 0; q < ax->n_global * co; q++) grads[r->ly->bias + q] += (float)r->w[q];
    if (T.t != 0 || T.is_bias) return;
    pool_tensor(ax, dY, b, T, 0, 0, r->w, r->wcnt);
    for (int64_t q = 0; q < ax->d[0] * ax->feat_slots[0] * co; q++) grads[r->ly->pos + q] += (float)r->w[q];
}

static void ref_free(ref *r)
{
    free(r->u), free(r->w), free(r->v), free(r->ucnt), free(r->wcnt), free(r->acc), free(r->z), free(r->g), free(r->dz);
    free(r->dE), free(r->dK);
}

/* The slot structure at X's widths (the layer's d_0, d_L, depth and input groups:
 * slots and parameter shapes do not depend on hidden widths) and scratch for up
 * to c channels. ly = NULL: pooling only (ax given). */
static int ref_init(ref *r, const dws_layer *ly, const float *params, const dws_axes *ax, const dws_ws *X, int c,
                    dws_error *err)
{
    memset(r, 0, sizeof *r);
    r->ly = ly, r->params = params;
    if (ly) {
        const dws_axes *s = &ly->slots;
        const int L = s->n_layers;
        if (X->n_layers != L || X->channels != ly->c_in || X->widths[0] != s->d[0] || X->widths[L] != s->d[L]) {
            dws_error_set(err, DWS_E_SHAPE_MISMATCH, "reference DWS layer: input has the wrong shape");
            return -1;
        }
        if (dws_axes_init(&r->ax, L, X->widths, (int)s->s[0], err) != 0) return -1;
        r->ci = ly->c_in, r->co = ly->c_out;
    } else {
        r->ax = *ax;
    }
    size_t summary = 0, tensor = 0, row = 0;
    for (int n = GLOBAL; n < r->ax.n_layers; n++) {
        size_t f = (size_t)(summary_rows(&r->ax, n) * summary_slots(&r->ax, n));
        summary = f > summary ? f : summary;
    }
    for (int t = 0; t < r->ax.n_layers; t++) {
        size_t e = (size_t)(r->ax.d[t + 1] * r->ax.d[t]);
        tensor = e > tensor ? e : tensor;
        row = (size_t)r->ax.d[t] > row ? (size_t)r->ax.d[t] : row;
    }
    r->u = malloc(sizeof(double) * summary * c), r->w = malloc(sizeof(double) * summary * c);
    r->v = malloc(sizeof(double) * summary * c);
    r->ucnt = malloc(sizeof(int64_t) * summary), r->wcnt = malloc(sizeof(int64_t) * summary);
    r->acc = malloc(sizeof(double) * tensor * c);
    r->z = malloc(sizeof(double) * row * c), r->g = malloc(sizeof(double) * row * c);
    r->dz = malloc(sizeof(double) * row * c);
    r->dE = malloc(sizeof(double) * (size_t)c * c), r->dK = malloc(sizeof(double) * DWS_TCONV_TAPS * c);
    if (!r->u || !r->w || !r->v || !r->ucnt || !r->wcnt || !r->acc || !r->z || !r->g || !r->dz || !r->dE || !r->dK) {
        ref_free(r);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "reference DWS layer: out of memory");
        return -1;
    }
    return 0;
}

/* T has X's widths and batch, and c channels. */
static int check_like(const dws_ws *X, const dws_ws *T, int c, dws_error *err)
{
    int ok = T->n_layers == X->n_layers && T->batch == X->batch && T->channels == c;
    for (int n = 0; ok && n <= X->n_layers; n++) ok = T->widths[n] == X->widths[n];
    if (!ok) dws_error_set(err, DWS_E_SHAPE_MISMATCH, "reference DWS layer: tensor has the wrong shape");
    return ok ? 0 : -1;
}

static int max_channels(const dws_layer *ly) { return ly->c_in > ly->c_out ? ly->c_in : ly->c_out; }

int dws_ref_forward(const dws_layer *ly, const float *params, const dws_ws *X, dws_ws *Y, dws_error *err)
{
    ref r;
    if (ref_init(&r, ly, params, NULL, X, max_channels(ly), err) != 0) return -1;
    if (check_like(X, Y, ly->c_out, err) != 0) {
        ref_free(&r);
        return -1;
    }
    for (int b = 0; b < X->batch; b++)
        for (int t = 0; t < 2 * X->n_layers; t++) forward_tensor(&r, X, Y, b, (tensor_id){t / 2, t % 2});
    ref_free(&r);
    return 0;
}

int dws_ref_backward(const dws_layer *ly, const float *params, const dws_ws *X, const dws_ws *dY, dws_ws *dX,
                     float *grads, dws_error *err)
{
    ref r;
    if (ref_init(&r, ly, params, NULL, X, max_channels(ly), err) != 0) return -1;
    if (check_like(X, dY, ly->c_out, err) != 0 || (dX && check_like(X, dX, ly->c_in, err) != 0)) {
        ref_free(&r);
        return -1;
    }
    for (int b = 0; b < X->batch; b++)
        for (int t = 0; t < 2 * X->n_layers; t++) {
            backward_tensor(&r, X, dY, dX, grads, b, (tensor_id){t / 2, t % 2});
            backward_biases(&r, dY, grads, b, (tensor_id){t / 2, t % 2});
        }
    ref_free(&r);
    return 0;
}

int dws_ref_pool(const dws_axes *ax, const dws_ws *X, dws_pool *pool, int means, dws_error *err)
{
    int ok = X->n_layers == ax->n_layers && pool->channels == X->channels && pool->batch == X->batch;
    for (int n = 0; ok && n <= ax->n_layers; n++) ok = X->widths[n] == ax->d[n] && pool->ax.d[n] == ax->d[n];
    if (!ok) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "reference pooling: tensor and summaries do not match");
        return -1;
    }
    ref r;
    if (ref_init(&r, NULL, NULL, ax, X, X->channels, err) != 0) return -1;
    const int c = X->channels;
    for (int b = 0; b < X->batch; b++)
        for (int s = 0; s < 2 * ax->n_layers; s++) {
            tensor_id S = {s / 2, s % 2};
            for (int n = GLOBAL; n < ax->n_layers; n++) {
                if (n != GLOBAL && !on_axis(S, n)) continue;
                const int F = summary_slots(ax, n);
                pool_tensor(ax, X, b, S, n, means, r.u, r.ucnt);
                for (int64_t j = 0; j < summary_rows(ax, n); j++)
                    for (int slot = 0; slot < F; slot++) {
                        if (!r.ucnt[j * F + slot]) continue;   /* not a slot of S */
                        float *dst = (n == GLOBAL ? dws_pool_global(pool, b) : dws_pool_feat(pool, n, b, j)) + slot * c;
                        for (int ch = 0; ch < c; ch++) dst[ch] = (float)r.u[(j * F + slot) * c + ch];
                    }
            }
        }
    ref_free(&r);
    return 0;
}
