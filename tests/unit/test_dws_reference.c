/* The fast DWS layer (dws_layer.h: blocked, BLAS, one fused pass) against the
 * plain-loop reference (dws_reference.h), block by block through their sum: the
 * forward output and its pooled means, and the backward's dX, its pooled sums and
 * every parameter gradient, on random shapes (1 to 4 hidden layers, hidden widths
 * 1, 3, 4, 7, 13, d_0 plain, in input groups, or an image with the template
 * convolution, 1 to 4 classes, 1, 2, 5 or 8 channels in and out), random
 * parameters (every tensor nonzero: every block, bias, position embedding and
 * kernel on), with and without the ReLU, on one thread and three (the results
 * also byte for byte the same).
 *
 * Tolerance: per element |fast - ref| <= 1e-5 S, S the sum of the absolute values
 * of the terms the layer adds up for that element (the reference run on |params|,
 * |X| and |dY|: the layer is a sum of products), the scale of the float rounding of
 * those sums. The reference sums in double, so this bounds the fast path's own
 * rounding; it is relative where terms do not cancel and does not fail where a
 * pooled sum over 10^4 entries cancels to near zero (as dX of the output biases
 * does). A wrong block is off by a good part of its terms: 10^-3 of S or more.
 *
 * The equivariance and finite-difference tests cannot see a block that reads the
 * wrong parameters, sums where it should average, or transposes a channel map:
 * the layer stays linear, equivariant and consistent with its backward. The
 * mutation test builds such layers and asserts that they pass those two checks
 * and fail this one.
 *
 * Images of one plane (1 x h x w) are in the draws on purpose: a W_0 pass block
 * then holds several rows, and the template convolution once treated such a block
 * as one plane (the other rows lost their entry-wise term and their share of dE_0
 * and dK). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_dws.h"
#include "ws/dws_layer.h"
#include "ws/dws_reference.h"
#include "ws/ws.h"
#include "ws/ws_pass.h"

#define TOL 1e-5

static double worst_seen;   /* the worst mismatch of the passing comparisons, printed */

/* max over elements of |fast - ref| / scale; infinite on a NaN. */
static double mismatch(const float *fast, const float *ref, const float *scale, size_t n)
{
    double worst = 0;
    for (size_t j = 0; j < n; j++) {
        double d = fabs((double)fast[j] - ref[j]) / ((double)scale[j] + 1e-30);
        if (isnan(d)) return INFINITY;
        if (d > worst) worst = d;
    }
    return worst;
}

static void expect_close(const float *fast, const float *ref, const float *scale, size_t n, const char *what,
                         const char *shape)
{
    double m = mismatch(fast, ref, scale, n);
    if (m > worst_seen) worst_seen = m;
    ck_assert_msg(m <= TOL, "%s, %s: fast and reference differ by %.3g of the terms' absolute sum", what, shape, m);
}

typedef struct {
    int L, groups, ci, co, B;
    int64_t widths[DWS_MAX_LAYERS + 1];
    dws_image_shape image;   /* planes = 0: d_0 is not an image */
    char desc[200];
} shape;

static int below(dws_rng *rng, int n) { return (int)dws_rng_below(rng, (uint64_t)n); }

/* kind 0: d_0 one input group; 1: two or three input groups; 2: an image;
 * 3: larger (tensors cut into several row blocks, a CIFAR-like image or not). */
static void random_shape(shape *s, int kind, dws_rng *rng)
{
    static const int64_t hidden[] = {1, 3, 4, 7, 13};
    static const int channels[] = {1, 2, 5, 8};
    memset(s, 0, sizeof *s);
    s->L = kind >= 2 ? 2 + below(rng, 4) : 1 + below(rng, 5);   /* the convolution needs a hidden layer */
    s->groups = 1;
    if (kind == 0) {
        s->widths[0] = 1 + below(rng, 9);
    } else if (kind == 1) {
        s->groups = 2 + below(rng, 2);
        s->widths[0] = s->groups * (1 + below(rng, 5));
    } else if (kind == 2 || below(rng, 2)) {
        s->image = kind == 2 ? (dws_image_shape){1 + below(rng, 3), 2 + below(rng, 3), 2 + below(rng, 4)}
                             : (dws_image_shape){below(rng, 2) ? 3 : 1, 8 + below(rng, 5), 8 + below(rng, 5)};
        s->groups = s->image.planes;
        s->widths[0] = (int64_t)s->image.planes * s->image.h * s->image.w;
    } else {
        s->widths[0] = 200 + below(rng, 400);
    }
    for (int n = 1; n < s->L; n++) s->widths[n] = kind == 3 ? 17 + 2 * below(rng, 10) : hidden[below(rng, 5)];
    s->widths[s->L] = kind == 3 ? 10 : 1 + below(rng, 4);
    s->ci = kind == 3 ? 8 * (1 + below(rng, 2)) : channels[below(rng, 4)];
    s->co = kind == 3 ? 8 * (1 + below(rng, 2)) : channels[below(rng, 4)];
    s->B = 1 + below(rng, 2);
    int at = snprintf(s->desc, sizeof s->desc, "widths");
    for (int n = 0; n <= s->L; n++) at += snprintf(s->desc + at, sizeof s->desc - at, " %lld", (long long)s->widths[n]);
    snprintf(s->desc + at, sizeof s->desc - at, ", %d groups, image %dx%dx%d, %d -> %d channels, batch %d", s->groups,
             s->image.planes, s->image.h, s->image.w, s->ci, s->co, s->B);
}

typedef struct {
    shape s;
    dws_axes ax;   /* at the shape's widths */
    dws_param_table *pt;
    dws_layer ly;       /* ci -> co */
    dws_layer next;     /* co -> ci, for the two-layer inference shortcut */
    float *params;
} layer_setup;

/* The layer is built at other hidden widths than it runs on (its parameters do
 * not depend on them), after another tensor (its offsets are not 0); every
 * parameter N(0, 0.5^2). Also a second layer, co -> ci. */
static void build_layer(layer_setup *c, const shape *s, dws_rng *rng)
{
    dws_error err;
    c->s = *s;
    int64_t nominal[DWS_MAX_LAYERS + 1];
    memcpy(nominal, s->widths, sizeof nominal);
    for (int n = 1; n < s->L; n++) nominal[n] = 2;
    dws_axes slots;
    ck_assert_int_eq(dws_axes_init(&slots, s->L, nominal, s->groups, &err), 0);
    ck_assert_int_eq(dws_axes_init(&c->ax, s->L, s->widths, s->groups, &err), 0);
    c->pt = calloc(1, sizeof *c->pt);
    ck_assert_int_ne(dws_param_table_add(c->pt, "before", 1, (int64_t[]){7}), (size_t)-1);
    ck_assert_int_eq(dws_layer_build(&c->ly, &slots, s->image.planes ? &s->image : NULL, s->ci, s->co, "layer.", c->pt,
                                     &err), 0);
    ck_assert_int_eq(dws_layer_build(&c->next, &slots, s->image.planes ? &s->image : NULL, s->co, s->ci, "next.",
                                     c->pt, &err), 0);
    ck_assert_int_eq(c->ly.image.planes, s->image.planes);
    c->params = malloc(sizeof(float) * c->pt->total);
    th_fill_normal(c->params, c->pt->total, 0.5f, rng);
}

static void free_layer(layer_setup *c)
{
    free(c->pt);
    free(c->params);
}

static void init_ws(dws_ws *t, const shape *s, int channels)
{
    dws_error err;
    ck_assert_int_eq(dws_ws_init(t, s->L, s->widths, s->B, channels, &err), 0);
}

static void relu_in_place(float *v, size_t n)
{
    for (size_t j = 0; j < n; j++) v[j] = v[j] > 0.f ? v[j] : 0.f;
}

/* Pooled means (means = 1) or sums of T by the reference, into a new pool. */
static void ref_pool(const layer_setup *c, const dws_ws *T, int means, dws_pool *P)
{
    dws_error err;
    ck_assert_int_eq(dws_pool_init(P, &c->ax, T->batch, T->channels, &err), 0);
    ck_assert_int_eq(dws_ref_pool(&c->ax, T, P, means, &err), 0);
}

static float *abs_copy(const float *v, size_t n)
{
    float *a = malloc(sizeof(float) * n);
    for (size_t j = 0; j < n; j++) a[j] = fabsf(v[j]);
    return a;
}

static void abs_ws(const dws_ws *t, dws_ws *a)
{
    dws_error err;
    ck_assert_int_eq(dws_ws_init(a, t->n_layers, t->widths, t->batch, t->channels, &err), 0);
    for (size_t j = 0; j < t->n_floats; j++) a->data[j] = fabsf(t->data[j]);
}

/* What the reference says for one case: Y (after the ReLU when relu), dX (masked
 * where X <= 0 when relu), the parameter gradients, and the pooled means of X and
 * Y and sums of dX. */
typedef struct {
    dws_ws Y, dX;
    dws_pool PX, PY, PdX;
    float *grads;
} ref_result;

static void run_reference(const layer_setup *c, const float *params, const dws_ws *X, const dws_ws *dY, int relu,
                          ref_result *r)
{
    const shape *s = &c->s;
    dws_error err;
    init_ws(&r->Y, s, s->co), init_ws(&r->dX, s, s->ci);
    r->grads = calloc(c->pt->total, sizeof(float));
    ck_assert_int_eq(dws_ref_forward(&c->ly, params, X, &r->Y, &err), 0);
    ck_assert_int_eq(dws_ref_backward(&c->ly, params, X, dY, &r->dX, r->grads, &err), 0);
    if (relu) {
        relu_in_place(r->Y.data, r->Y.n_floats);
        for (size_t j = 0; j < X->n_floats; j++) r->dX.data[j] = X->data[j] > 0.f ? r->dX.data[j] : 0.f;
    }
    ref_pool(c, X, 1, &r->PX), ref_pool(c, &r->Y, 1, &r->PY), ref_pool(c, &r->dX, 0, &r->PdX);
}

static void free_result(ref_result *r)
{
    dws_ws_free(&r->Y), dws_ws_free(&r->dX);
    dws_pool_free(&r->PX), dws_pool_free(&r->PY), dws_pool_free(&r->PdX);
    free(r->grads);
}

/* Every parameter tensor's gradient, one by one. */
static void expect_grads_close(const layer_setup *c, const float *fast, const float *ref, const float *scale,
                               const char *shape)
{
    for (int i = 0; i < c->pt->n; i++) {
        const dws_param_tensor *t = &c->pt->t[i];
        expect_close(fast + t->offset, ref + t->offset, scale + t->offset, t->count, t->name, shape);
    }
}

/* One random case: relu = 1 makes X a ReLU output and runs the fast layer with its
 * ReLU (forward) and mask (backward). */
static void compare_case(const layer_setup *c, int relu, dws_rng *rng)
{
    const shape *s = &c->s;
    const size_t np = c->pt->total;
    dws_error err;
    dws_ws X, dY, aX, adY, Y[2], dX[2];
    init_ws(&X, s, s->ci), init_ws(&dY, s, s->co);
    th_fill_normal(X.data, X.n_floats, 1.f, rng);
    th_fill_normal(dY.data, dY.n_floats, 1.f, rng);
    if (relu) relu_in_place(X.data, X.n_floats);
    ref_result ref, scale;   /* the reference, and on absolute values: the tolerance's scale */
    float *aparams = abs_copy(c->params, np);
    abs_ws(&X, &aX), abs_ws(&dY, &adY);
    run_reference(c, c->params, &X, &dY, relu, &ref);
    run_reference(c, aparams, &aX, &adY, relu, &scale);

    /* the reference adds into grads */
    float *gf = calloc(np, sizeof(float));
    ck_assert_int_eq(dws_ref_backward(&c->ly, c->params, &X, &dY, NULL, gf, &err), 0);
    ck_assert_int_eq(dws_ref_backward(&c->ly, c->params, &X, &dY, NULL, gf, &err), 0);
    for (size_t j = 0; j < np; j++) gf[j] /= 2.f;
    expect_grads_close(c, gf, ref.grads, scale.grads, "reference adds into grads");

    /* the fast layer, on one thread and on three */
    dws_pool PX, PG, PY[2], PdX[2];
    dws_pool_init(&PX, &c->ax, s->B, s->ci, &err), dws_pool_init(&PG, &c->ax, s->B, s->co, &err);
    dws_exec ex = {0};
    ck_assert_int_eq(dws_pass_pool(&c->ax, &X, &PX, 1, 1, &ex.work, &err), 0);
    ck_assert_int_eq(dws_pass_pool(&c->ax, &dY, &PG, 0, 1, &ex.work, &err), 0);
    expect_close(PX.data, ref.PX.data, scale.PX.data, PX.n_floats, "pooled means of X", s->desc);
    const int threads[2] = {1, 3};
    for (int r = 0; r < 2; r++) {
        char desc[260];
        snprintf(desc, sizeof desc, "%s, relu %d, %d threads", s->desc, relu, threads[r]);
        ex.threads = threads[r];
        init_ws(&Y[r], s, s->co), init_ws(&dX[r], s, s->ci);
        dws_pool_init(&PY[r], &c->ax, s->B, s->co, &err), dws_pool_init(&PdX[r], &c->ax, s->B, s->ci, &err);
        ck_assert_int_eq(dws_layer_forward(&c->ly, c->params, &X, &PX, relu, &Y[r], &PY[r], &ex, &err), 0);
        expect_close(Y[r].data, ref.Y.data, scale.Y.data, Y[r].n_floats, "forward", desc);
        expect_close(PY[r].data, ref.PY.data, scale.PY.data, PY[r].n_floats, "forward pooled means", desc);
        memset(gf, 0, sizeof(float) * np);
        ck_assert_int_eq(dws_layer_backward(&c->ly, c->params, gf, &X, &PX, &dY, &PG, relu, &dX[r], &PdX[r], &ex, &err),
                         0);
        expect_close(dX[r].data, ref.dX.data, scale.dX.data, dX[r].n_floats, "backward dX", desc);
        expect_close(PdX[r].data, ref.PdX.data, scale.PdX.data, PdX[r].n_floats, "backward dX pooled sums", desc);
        expect_grads_close(c, gf, ref.grads, scale.grads, desc);
    }
    ck_assert(memcmp(Y[0].data, Y[1].data, sizeof(float) * Y[0].n_floats) == 0);
    ck_assert(memcmp(dX[0].data, dX[1].data, sizeof(float) * dX[0].n_floats) == 0);

    for (int r = 0; r < 2; r++) dws_ws_free(&Y[r]), dws_ws_free(&dX[r]), dws_pool_free(&PY[r]), dws_pool_free(&PdX[r]);
    dws_ws_free(&X), dws_ws_free(&dY), dws_ws_free(&aX), dws_ws_free(&adY);
    dws_pool_free(&PX), dws_pool_free(&PG);
    free_result(&ref), free_result(&scale);
    dws_exec_free(&ex);
    free(gf), free(aparams);
}

#define CASES_PER_LOOP 4

/* _i % 4 picks the kind of shape; each loop draws CASES_PER_LOOP shapes (larger
 * ones: 1), half with the ReLU. */
START_TEST(fast_layer_matches_reference)
{
    dws_rng rng;
    dws_rng_seed(&rng, 2024 + (uint64_t)_i);
    for (int k = 0; k < (_i % 4 == 3 ? 1 : CASES_PER_LOOP); k++) {
        shape s;
        random_shape(&s, _i % 4, &rng);
        layer_setup c;
        build_layer(&c, &s, &rng);
        compare_case(&c, (k + _i / 4) % 2, &rng);
        free_layer(&c);
    }
    printf("loop %d: worst mismatch %.3g of the terms' absolute sum (tolerance %g)\n", _i, worst_seen, TOL);
}
END_TEST

/* Inference runs two layers at a time: dws_layer_forward_to_next (this layer's
 * output, ReLU, straight into the next one's entry-wise map, and its pooled means)
 * then dws_layer_forward_entry: the same as the reference twice. */
START_TEST(inference_shortcut_matches_reference)
{
    dws_rng rng;
    dws_rng_seed(&rng, 77 + (uint64_t)_i);
    dws_error err;
    shape s;
    random_shape(&s, _i % 4, &rng);
    layer_setup c;
    build_layer(&c, &s, &rng);
    dws_ws X, Z, Y2, Yr[2], Y2r[2];   /* [0] the reference, [1] on absolute values: the scale */
    dws_pool PX, PY, PYr[2];
    init_ws(&X, &s, s.ci), init_ws(&Z, &s, s.ci), init_ws(&Y2, &s, s.ci);
    th_fill_normal(X.data, X.n_floats, 1.f, &rng);
    float *aparams = abs_copy(c.params, c.pt->total);
    for (int a = 0; a < 2; a++) {
        dws_ws aX;
        abs_ws(&X, &aX);
        init_ws(&Yr[a], &s, s.co), init_ws(&Y2r[a], &s, s.ci);
        ck_assert_int_eq(dws_ref_forward(&c.ly, a ? aparams : c.params, a ? &aX : &X, &Yr[a], &err), 0);
        relu_in_place(Yr[a].data, Yr[a].n_floats);
        ck_assert_int_eq(dws_ref_forward(&c.next, a ? aparams : c.params, &Yr[a], &Y2r[a], &err), 0);
        ref_pool(&c, &Yr[a], 1, &PYr[a]);
        dws_ws_free(&aX);
    }
    dws_pool_init(&PX, &c.ax, s.B, s.ci, &err), dws_pool_init(&PY, &c.ax, s.B, s.co, &err);
    dws_exec ex = {.threads = 3};
    ck_assert_int_eq(dws_pass_pool(&c.ax, &X, &PX, 1, 1, &ex.work, &err), 0);
    ck_assert_int_eq(dws_layer_forward_to_next(&c.ly, c.params, &X, &PX, 1, &c.next, &Z, &PY, &ex, &err), 0);
    ck_assert_int_eq(dws_layer_forward_entry(&c.next, c.params, &Z, &PY, 0, &Y2, NULL, &ex, &err), 0);
    expect_close(PY.data, PYr[0].data, PYr[1].data, PY.n_floats, "first layer's pooled means", s.desc);
    expect_close(Y2.data, Y2r[0].data, Y2r[1].data, Y2.n_floats, "two layers", s.desc);
    for (int a = 0; a < 2; a++) dws_ws_free(&Yr[a]), dws_ws_free(&Y2r[a]), dws_pool_free(&PYr[a]);
    dws_ws_free(&X), dws_ws_free(&Z), dws_ws_free(&Y2);
    dws_pool_free(&PX), dws_pool_free(&PY);
    dws_exec_free(&ex);
    free(aparams);
    free_layer(&c);
}
END_TEST

/* ---- teeth: equivariant, self-consistent, wrong ---- */

static const char *const MUTATIONS[] = {
    "W_0's entry-wise map read at E_1's offset",
    "W_0 rows summed, not averaged, into feat_1",
    "E_1 transposed",
    "the global means of b_0 and b_1 swapped",
    "the biases of classes 0 and 1 swapped",
    "the template kernel mirrored (convolution for correlation)",
};

static void swap_floats(float *a, float *b, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        float t = a[j];
        a[j] = b[j], b[j] = t;
    }
}

/* A copy of the layer (bad) and of its parameters (bp) with mistake m. */
static void mutate(int m, const layer_setup *c, dws_layer *bad, float *bp)
{
    const dws_layer *ly = &c->ly;
    const dws_axes *ax = &c->ax;
    const int ci = ly->c_in, co = ly->c_out, L = ax->n_layers;
    const size_t G_row = (size_t)ax->n_global * co;   /* floats per row of G */
    *bad = *ly;
    memcpy(bp, c->params, sizeof(float) * c->pt->total);
    switch (m) {
    case 0:
        bad->E[0] = ly->E[1];
        break;
    case 1: {   /* the rows of M_1 that read W_0's row means, times the count z_0 */
        const int64_t F = ax->feat_slots[1];
        for (int64_t row = ax->row_slot0[1] * ci; row < (ax->row_slot0[1] + ax->s[0]) * ci; row++)
            for (int64_t q = 0; q < F * co; q++) bp[ly->M[1] + row * F * co + q] *= (float)ax->z[0];
        break;
    }
    case 2:   /* ci == co */
        for (int a = 0; a < ci; a++)
            for (int o = a + 1; o < co; o++) swap_floats(bp + ly->E[1] + a * co + o, bp + ly->E[1] + o * co + a, 1);
        break;
    case 3:   /* the rows of G that read b_0's and b_1's means (hidden rows: one slot each) */
        swap_floats(bp + ly->G + ax->gb[0] * ci * G_row, bp + ly->G + ax->gb[1] * ci * G_row, ci * G_row);
        break;
    case 4:
        swap_floats(bp + ly->bias + ax->gb[L - 1] * co, bp + ly->bias + (ax->gb[L - 1] + 1) * co, (size_t)co);
        break;
    case 5:
        for (int tap = 0; tap < DWS_TCONV_TAPS / 2; tap++)
            swap_floats(bp + ly->K + tap * co, bp + ly->K + (DWS_TCONV_TAPS - 1 - tap) * co, (size_t)co);
        break;
    }
}

/* Y = layer(X) by the fast path (pooling X first). */
static void fast_forward(const layer_setup *c, const dws_layer *ly, const float *params, const dws_ws *X, dws_ws *Y)
{
    dws_error err;
    dws_pool PX;
    dws_exec ex = {.threads = 2};
    dws_pool_init(&PX, &c->ax, X->batch, X->channels, &err);
    ck_assert_int_eq(dws_pass_pool(&c->ax, (dws_ws *)X, &PX, 1, 1, &ex.work, &err), 0);
    ck_assert_int_eq(dws_layer_forward(ly, params, X, &PX, 0, Y, NULL, &ex, &err), 0);
    dws_pool_free(&PX);
    dws_exec_free(&ex);
}

START_TEST(wrong_but_equivariant_layers_fail)
{
    dws_rng rng;
    dws_rng_seed(&rng, 5);
    dws_error err;
    shape s = {.L = 3, .groups = 3, .ci = 3, .co = 3, .B = 2, .widths = {12, 5, 3, 2}, .image = {3, 2, 2}};
    snprintf(s.desc, sizeof s.desc, "mutation: %s", MUTATIONS[_i]);
    layer_setup c;
    build_layer(&c, &s, &rng);
    dws_layer bad;
    float *bp = malloc(sizeof(float) * c.pt->total), *grads = calloc(c.pt->total, sizeof(float));
    mutate(_i, &c, &bad, bp);
    dws_ws X, gX, Y, Yg, gY, Yr, R, dX, Xu, Xa, Ya;
    init_ws(&X, &s, s.ci), init_ws(&gX, &s, s.ci), init_ws(&Y, &s, s.co), init_ws(&Yg, &s, s.co);
    init_ws(&gY, &s, s.co), init_ws(&Yr, &s, s.co), init_ws(&R, &s, s.co), init_ws(&dX, &s, s.ci);
    init_ws(&Xu, &s, s.ci), init_ws(&Ya, &s, s.co);
    th_fill_normal(X.data, X.n_floats, 1.f, &rng);
    fast_forward(&c, &bad, bp, &X, &Y);

    /* equivariant: bad(g.X) = g.bad(X) */
    dws_perm g;
    ck_assert_int_eq(dws_perm_random(&g, s.L, s.widths, &rng, &err), 0);
    dws_perm_apply_ws(&g, &X, &gX);
    fast_forward(&c, &bad, bp, &gX, &Yg);
    dws_perm_apply_ws(&g, &Y, &gY);
    float *scale = malloc(sizeof(float) * Y.n_floats);   /* |g.Y| + its rms */
    double ss = 0;
    for (size_t j = 0; j < Y.n_floats; j++) ss += (double)gY.data[j] * gY.data[j];
    for (size_t j = 0; j < Y.n_floats; j++) scale[j] = fabsf(gY.data[j]) + (float)sqrt(ss / (double)Y.n_floats);
    ck_assert_msg(mismatch(Yg.data, gY.data, scale, Y.n_floats) <= TOL, "%s is not equivariant", MUTATIONS[_i]);

    /* its backward is its forward's adjoint (linear in X: a central difference is exact) */
    dws_pool PX, PR;
    dws_exec ex = {.threads = 1};
    dws_pool_init(&PX, &c.ax, s.B, s.ci, &err), dws_pool_init(&PR, &c.ax, s.B, s.co, &err);
    th_fill_normal(R.data, R.n_floats, 1.f, &rng);
    ck_assert_int_eq(dws_pass_pool(&c.ax, &X, &PX, 1, 1, &ex.work, &err), 0);
    ck_assert_int_eq(dws_pass_pool(&c.ax, &R, &PR, 0, 1, &ex.work, &err), 0);
    ck_assert_int_eq(dws_layer_backward(&bad, bp, grads, &X, &PX, &R, &PR, 0, &dX, NULL, &ex, &err), 0);
    float *u = malloc(sizeof(float) * X.n_floats);
    th_fill_normal(u, X.n_floats, 1.f, &rng);
    for (size_t j = 0; j < X.n_floats; j++) Xu.data[j] = X.data[j] + u[j];
    fast_forward(&c, &bad, bp, &Xu, &Yg);
    double up = th_dot(R.data, Yg.data, R.n_floats);
    for (size_t j = 0; j < X.n_floats; j++) Xu.data[j] = X.data[j] - u[j];
    fast_forward(&c, &bad, bp, &Xu, &Yg);
    double numeric = (up - th_dot(R.data, Yg.data, R.n_floats)) / 2, analytic = th_dot(dX.data, u, X.n_floats);
    ck_assert_msg(fabs(numeric - analytic) <= 1e-4 * fmax(fabs(numeric), fabs(analytic)) + 1e-4,
                  "%s: finite difference %g, backward %g", MUTATIONS[_i], numeric, analytic);

    /* and the reference tells it apart, by far */
    ck_assert_int_eq(dws_ref_forward(&c.ly, c.params, &X, &Yr, &err), 0);
    float *aparams = abs_copy(c.params, c.pt->total);
    abs_ws(&X, &Xa);
    ck_assert_int_eq(dws_ref_forward(&c.ly, aparams, &Xa, &Ya, &err), 0);
    double m = mismatch(Y.data, Yr.data, Ya.data, Y.n_floats);
    ck_assert_msg(m > 1000 * TOL, "%s: only %.3g from the reference", MUTATIONS[_i], m);
    printf("%-60s equivariant, gradient-consistent, %.3g of the terms from the reference\n", MUTATIONS[_i], m);

    free(u), free(bp), free(grads), free(scale), free(aparams);
    dws_ws_free(&Xa), dws_ws_free(&Ya);
    dws_perm_free(&g);
    dws_pool_free(&PX), dws_pool_free(&PR);
    dws_exec_free(&ex);
    dws_ws_free(&X), dws_ws_free(&gX), dws_ws_free(&Y), dws_ws_free(&Yg), dws_ws_free(&gY), dws_ws_free(&Yr);
    dws_ws_free(&R), dws_ws_free(&dX), dws_ws_free(&Xu);
    free_layer(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dws_reference");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, fast_layer_matches_reference, 0, 24);
    tcase_add_loop_test(tc, inference_shortcut_matches_reference, 0, 8);
    tcase_add_loop_test(tc, wrong_but_equivariant_layers_fail, 0, (int)(sizeof MUTATIONS / sizeof MUTATIONS[0]));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
