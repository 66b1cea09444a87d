/* The shape arithmetic a Reshape's target shape may be computed with (Shape,
 * Gather, Unsqueeze, Squeeze, Concat, Slice, Cast, Mul, Div, Constant, Identity):
 * every integer the evaluator meets, extremes included, is either evaluated
 * exactly or refused with a code, never overflowed or trapped on (run under
 * UBSan by make test-asan); operators it does not evaluate stay refused. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_onnx.h"
#include "onnx/onnx_codec.h"
#include "base/base.h"

static const int64_t extremes[] = {
    INT64_MIN, INT64_MIN + 1, -((int64_t)1 << 32), -65536, -7, -6, -2, -1, 0, 1, 2, 3, 6, 7,
    (int64_t)1 << 31, (int64_t)1 << 32, INT64_MAX - 1, INT64_MAX,
};
#define N_EXTREMES (int)(sizeof extremes / sizeof extremes[0])

/* A Constant node holding the scalar v (value_int). */
static void constant(Onnx__GraphProto *g, const char *out, int64_t v)
{
    const char *none[] = {NULL};
    ho_attr_int(ho_node_n(g, "Constant", none, out), "value_int", v);
}

/* 0 when decoded (d0 in *d0), -1 when refused (with a code). */
static int decode(Onnx__ModelProto *mp, int64_t *d0, dws_error *err)
{
    size_t len;
    uint8_t *buf = ho_pack(mp, &len);
    dws_error_clear(err);
    dws_onnx *m = dws_onnx_decode(buf, len, NULL, err);
    free(buf);
    if (!m) {
        ck_assert_msg(err->code != NULL, "refused without a code: %s", err->message);
        return -1;
    }
    *d0 = dws_onnx_weights(m)->widths[0];
    dws_onnx_free(m);
    return 0;
}

/* [N, op(a, b)] for an input [N, 2, 3]: accepted exactly when op(a, b) is 6 or -1. */
static Onnx__ModelProto *features_from(const char *op, int64_t a, int64_t b)
{
    static const int64_t image[] = {-1, 2, 3};
    Onnx__ModelProto *mp = ho_reshape_model(image, 3);
    ho_dim(mp->graph, 0, 1, "n");
    constant(mp->graph, "a", a);
    constant(mp->graph, "b", b);
    ho_node(mp->graph, op, "a", "b", "f");
    ho_unsqueeze(mp->graph, "f", "fv");
    ho_concat(mp->graph, "n", "fv");
    return mp;
}

/* The exact result of a op b, when it exists and fits in 64 bits. */
static int exact(int div, int64_t a, int64_t b, int64_t *r)
{
    __int128 x = a, y = b, v;
    if (div) {
        if (y == 0 || x % y != 0) return 0;
        v = x / y;
    } else {
        v = x * y;
    }
    if (v < INT64_MIN || v > INT64_MAX) return 0;
    *r = (int64_t)v;
    return 1;
}

START_TEST(constant_arithmetic_is_exact_or_refused)
{
    int accepted = 0;
    for (int div = 0; div < 2; div++)
        for (int i = 0; i < N_EXTREMES; i++)
            for (int j = 0; j < N_EXTREMES; j++) {
                int64_t a = extremes[i], b = extremes[j], r = 0, d0;
                dws_error err;
                int ok = decode(features_from(div ? "Div" : "Mul", a, b), &d0, &err) == 0;
                int want = exact(div, a, b, &r) && (r == 6 || r == -1);
                ck_assert_msg(ok == want, "%s(%lld, %lld): %s (%s)", div ? "Div" : "Mul", (long long)a,
                              (long long)b, ok ? "accepted" : err.message, want ? "exact" : "not 6 or -1");
                if (ok) ck_assert_int_eq(d0, 6);
                accepted += ok;
            }
    ck_assert_int_gt(accepted, 4);   /* 1*6, 6*1, -1*6 ... really were evaluated */
}
END_TEST

/* The crash: Div(INT64_MIN, -1) raised SIGFPE in the remainder test. */
START_TEST(int64_min_over_minus_one_is_refused)
{
    int64_t d0;
    dws_error err;
    ck_assert_int_eq(decode(features_from("Div", INT64_MIN, -1), &d0, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_NOT_AN_MLP);
    ck_assert_msg(strstr(err.message, "overflows") != NULL, "%s", err.message);
}
END_TEST

/* The batch through Div(Mul(N, a), b): N survives exactly when a == b != 0. */
START_TEST(symbolic_arithmetic_is_exact_or_refused)
{
    static const int64_t image[] = {-1, 2, 3};
    for (int i = 0; i < N_EXTREMES; i++)
        for (int j = 0; j < N_EXTREMES; j++) {
            int64_t a = extremes[i], b = extremes[j], d0;
            Onnx__ModelProto *mp = ho_reshape_model(image, 3);
            ho_dim(mp->graph, 0, 0, "n");
            constant(mp->graph, "a", a);
            constant(mp->graph, "b", b);
            ho_node(mp->graph, "Mul", "n", "a", "na");
            ho_node(mp->graph, "Div", "na", "b", "nab");
            ho_unsqueeze(mp->graph, "nab", "batch");
            ho_ints(mp->graph, "minus1", -1);
            ho_concat(mp->graph, "batch", "minus1");
            dws_error err;
            int ok = decode(mp, &d0, &err) == 0;
            ck_assert_msg(ok == (a == b && a != 0), "N*%lld/%lld: %s", (long long)a, (long long)b,
                          ok ? "accepted" : err.message);
        }
}
END_TEST

/* A bound on a vector of 3 as ONNX clamps it. */
static int64_t clamp3(int64_t v)
{
    if (v < 0) v = v < -3 ? 0 : v + 3;
    return v > 3 ? 3 : v;
}

/* Indices, slice bounds, Shape's start and end at the extremes: evaluated with
 * clamping as ONNX defines it, or refused, never out of bounds. */
START_TEST(extreme_indices_and_bounds_never_crash)
{
    static const int64_t image[] = {-1, 2, 3};
    int accepted = 0;
    for (int i = 0; i < N_EXTREMES; i++) {
        int64_t v = extremes[i], d0;
        dws_error err;
        /* Gather(Shape(x), v) as the features: only index 0 (N) or -3 is refused as
         * the wrong value; 1 and 2 give 2 and 3, which do not flatten either. */
        Onnx__ModelProto *mp = ho_reshape_model(image, 3);
        ho_dim(mp->graph, 0, 1, "n");
        ho_dim(mp->graph, v, 1, "fv");
        ho_concat(mp->graph, "n", "fv");
        ck_assert_int_eq(decode(mp, &d0, &err), -1);

        /* Slice(Shape(x), v, INT64_MAX) then [N, -1] from its first element. */
        mp = ho_reshape_model(image, 3);
        ho_node(mp->graph, "Shape", "input", NULL, "s");
        ho_ints(mp->graph, "start", v);
        ho_ints(mp->graph, "end", INT64_MAX);
        const char *slice_in[] = {"s", "start", "end", NULL};
        ho_node_n(mp->graph, "Slice", slice_in, "cut");
        const int64_t zero = 0;
        ho_int_initializer(mp->graph, "zero", 0, &zero);   /* a scalar index */
        ho_node(mp->graph, "Gather", "cut", "zero", "first");
        ho_unsqueeze(mp->graph, "first", "b");
        ho_ints(mp->graph, "minus1", -1);
        ho_concat(mp->graph, "b", "minus1");
        int ok = decode(mp, &d0, &err) == 0;
        /* Any non-empty slice gives a usable batch (N, or a fixed 2 or 3). */
        ck_assert_msg(ok == (clamp3(v) < 3), "Slice from %lld: %s", (long long)v, ok ? "accepted" : err.message);
        accepted += ok;

        /* Shape(x, start = v, end = v + 1 saturated) as the batch. */
        mp = ho_reshape_model(image, 3);
        Onnx__NodeProto *shape = ho_node(mp->graph, "Shape", "input", NULL, "s");
        ho_attr_int(shape, "start", v);
        ho_attr_int(shape, "end", v == INT64_MAX ? v : v + 1);
        ho_ints(mp->graph, "minus1", -1);
        ho_concat(mp->graph, "s", "minus1");
        mp->opset_import[0]->version = 15;
        ok = decode(mp, &d0, &err) == 0;
        ck_assert_msg(ok == (clamp3(v == INT64_MAX ? v : v + 1) > clamp3(v)), "Shape start %lld: %s", (long long)v, ok ? "accepted" : err.message);
        accepted += ok;
    }
    ck_assert_int_gt(accepted, 2);
}
END_TEST

/* Integer operators the evaluator does not know stay refused, whatever they compute. */
START_TEST(other_integer_operators_are_refused)
{
    static const char *const ops[] = {"Add", "Sub", "Mod", "Pow", "Max", "Min", "BitShift", "Neg", "Abs",
                                      "ReduceProd", "Range", "Expand", "Tile", "Where", "Equal", "ConstantOfShape"};
    static const int64_t image[] = {-1, 2, 3};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        Onnx__ModelProto *mp = ho_reshape_model(image, 3);
        ho_dim(mp->graph, 0, 1, "n");
        constant(mp->graph, "a", 6);
        constant(mp->graph, "b", 1);
        ho_node(mp->graph, ops[k], "a", "b", "f");
        ho_unsqueeze(mp->graph, "f", "fv");
        ho_concat(mp->graph, "n", "fv");
        int64_t d0;
        dws_error err;
        ck_assert_msg(decode(mp, &d0, &err) == -1, "%s was evaluated", ops[k]);
        ck_assert_msg(!strcmp(err.code, DWS_E_NOT_AN_MLP) || !strcmp(err.code, DWS_E_UNSUPPORTED_OPERATOR),
                      "%s: %s: %s", ops[k], err.code, err.message);
    }
}
END_TEST

static Suite *shape_suite(void)
{
    Suite *s = suite_create("codec_shape");
    TCase *t = tcase_create("arithmetic");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, int64_min_over_minus_one_is_refused);
    tcase_add_test(t, constant_arithmetic_is_exact_or_refused);
    tcase_add_test(t, symbolic_arithmetic_is_exact_or_refused);
    tcase_add_test(t, extreme_indices_and_bounds_never_crash);
    tcase_add_test(t, other_integer_operators_are_refused);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(shape_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
