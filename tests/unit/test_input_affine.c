/* Folding input preprocessing into layer 1 (core/mlp/mlp_affine.c): the folded MLP
 * computes on pixel-frame inputs what the original computes on preprocessed ones;
 * unfolding with no change gives back the original bits; unfold(fold(.)) of a
 * changed model is the change mapped back; external normalisation composes; the
 * parser of --input-mean/--input-std/--input-range is strict; and the codec decodes
 * the user-style fixtures' preprocessing into the right map. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/mlp.h"
#include "onnx/onnx_codec.h"

#define D0 12

static void make_mlp(dws_mlp *m, unsigned seed)
{
    int64_t widths[] = {D0, 5, 3};
    ck_assert_int_eq(dws_mlp_init(m, 2, widths, NULL), 0);
    srand(seed);
    for (size_t i = 0; i < m->n_params; i++) m->params[i] = (float)rand() / RAND_MAX - 0.5f;
    m->act[0] = DWS_ACT_RELU;
}

static void make_affine(dws_input_affine *t)
{
    ck_assert_int_eq(dws_input_affine_init(t, D0, NULL), 0);
    for (int j = 0; j < D0; j++) {
        t->scale[j] = 0.5 + 0.25 * j;
        t->shift[j] = -0.3 + 0.1 * (j % 3);
        t->src[j] = (j * 5) % D0;   /* 5 is prime to 12: a permutation */
    }
}

/* m (seeded), t, f = fold(m), w = a copy of f: the setup of the round-trip tests. */
static void fold_setup(dws_mlp *m, dws_input_affine *t, dws_mlp *f, dws_mlp *w, unsigned seed)
{
    make_mlp(m, seed);
    make_affine(t);
    ck_assert_int_eq(dws_mlp_fold_input(m, t, f, NULL), 0);
    ck_assert_int_eq(dws_mlp_clone(w, f, NULL), 0);
}

static void fold_teardown(dws_mlp *m, dws_input_affine *t, dws_mlp *f, dws_mlp *w)
{
    dws_mlp_free(m);
    dws_mlp_free(f);
    dws_mlp_free(w);
    dws_input_affine_free(t);
}

START_TEST(fold_computes_the_same_function)
{
    dws_mlp m, f;
    dws_input_affine t;
    make_mlp(&m, 1);
    make_affine(&t);
    ck_assert_int_eq(dws_mlp_fold_input(&m, &t, &f, NULL), 0);
    float x[2 * D0], xp[2 * D0], y1[6], y2[6];
    for (int i = 0; i < 2 * D0; i++) x[i] = (float)((i * 37) % 255) / 255.f;
    for (int n = 0; n < 2; n++)
        for (int j = 0; j < D0; j++) xp[n * D0 + j] = (float)(t.scale[j] * x[n * D0 + t.src[j]] + t.shift[j]);
    float *s = malloc(dws_mlp_scratch_floats(&m, 2) * sizeof *s);
    dws_mlp_forward(&m, xp, 2, y1, s);
    dws_mlp_forward(&f, x, 2, y2, s);
    for (int i = 0; i < 6; i++) ck_assert_msg(fabsf(y1[i] - y2[i]) <= 1e-5f, "%d: %g vs %g", i, y1[i], y2[i]);
    /* Layers after the first are untouched. */
    ck_assert_int_eq(memcmp(m.W[1], f.W[1], 3 * 5 * sizeof(float)), 0);
    free(s);
    dws_mlp_free(&m);
    dws_mlp_free(&f);
    dws_input_affine_free(&t);
}
END_TEST

START_TEST(unfold_of_unchanged_is_bit_exact)
{
    dws_mlp m, f, w;
    dws_input_affine t;
    fold_setup(&m, &t, &f, &w, 2);
    ck_assert_int_eq(dws_mlp_unfold_input(&w, &t, &m, &f, NULL), 0);
    ck_assert_int_eq(memcmp(w.params, m.params, m.n_params * sizeof(float)), 0);
    fold_teardown(&m, &t, &f, &w);
}
END_TEST

START_TEST(unfold_maps_a_change_back)
{
    dws_mlp m, f, w;
    dws_input_affine t;
    fold_setup(&m, &t, &f, &w, 3);
    for (size_t i = 0; i < w.n_params; i++) w.params[i] += 0.01f * (float)(i % 7);
    dws_mlp changed;
    ck_assert_int_eq(dws_mlp_clone(&changed, &w, NULL), 0);
    ck_assert_int_eq(dws_mlp_unfold_input(&w, &t, &m, &f, NULL), 0);
    /* Folding the unfolded weights again gives the changed pixel-frame weights. */
    dws_mlp again;
    ck_assert_int_eq(dws_mlp_fold_input(&w, &t, &again, NULL), 0);
    for (size_t i = 0; i < w.n_params; i++)
        ck_assert_msg(fabsf(again.params[i] - changed.params[i]) <= 1e-5f * (1 + fabsf(changed.params[i])), "%zu", i);
    dws_mlp_free(&changed);
    dws_mlp_free(&again);
    fold_teardown(&m, &t, &f, &w);
}
END_TEST

/* Folding is linear in (W_1, b_1): its backward is its transpose, so for any G,
 * <G, fold(W)> = <fold_backward(G), W> (the shift term of b_1 included). */
START_TEST(fold_backward_is_the_transpose)
{
    dws_mlp m, f, g;
    dws_input_affine t;
    make_mlp(&m, 31);
    make_affine(&t);
    ck_assert_int_eq(dws_mlp_fold_input(&m, &t, &f, NULL), 0);
    make_mlp(&g, 32);
    double lhs = 0, rhs = 0;
    for (size_t i = 0; i < 5 * D0; i++) lhs += (double)g.W[0][i] * f.W[0][i];
    for (int r = 0; r < 5; r++) lhs += (double)g.b[0][r] * f.b[0][r];
    ck_assert_int_eq(dws_mlp_fold_input_backward(&g, &t, NULL), 0);
    for (size_t i = 0; i < 5 * D0; i++) rhs += (double)g.W[0][i] * m.W[0][i];
    for (int r = 0; r < 5; r++) rhs += (double)g.b[0][r] * m.b[0][r];
    ck_assert_double_eq_tol(lhs, rhs, 1e-5 * (fabs(lhs) + 1));
    dws_mlp_free(&m), dws_mlp_free(&f), dws_mlp_free(&g);
    dws_input_affine_free(&t);
}
END_TEST

/* The standardized frame: a pixel-frame MLP read there and mapped back is itself
 * (to float rounding), and its frame-read twin computes on (x - mean) / std what
 * it computes on x. */
START_TEST(standardized_frame_round_trips)
{
    int64_t widths[] = {3072, 4, 3};
    dws_mlp m, s, back;
    ck_assert_int_eq(dws_mlp_init(&m, 2, widths, NULL), 0);
    srand(41);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] = (float)rand() / RAND_MAX - 0.5f;
    m.act[0] = DWS_ACT_RELU;
    ck_assert_int_eq(dws_mlp_to_frame(&m, DWS_FRAME_STANDARDIZED, &s, NULL), 0);
    ck_assert_int_eq(s.frame, DWS_FRAME_STANDARDIZED);
    ck_assert_int_eq(dws_mlp_to_pixel_frame(&s, DWS_FRAME_STANDARDIZED, &back, NULL), 0);
    ck_assert_int_eq(back.frame, DWS_FRAME_PIXEL);
    for (size_t i = 0; i < m.n_params; i++) ck_assert_float_eq_tol(back.params[i], m.params[i], 1e-5f);
    float x[3072], z[3072], y1[3], y2[3];
    const dws_input_norm *n = &DWS_CIFAR10_STANDARDIZATION;
    for (int j = 0; j < 3072; j++) {
        x[j] = (float)(j % 251) / 250.f;
        z[j] = (float)((x[j] - n->mean[j / 1024]) / n->std[j / 1024]);
    }
    float scratch[64];
    ck_assert(dws_mlp_scratch_floats(&m, 1) <= 64);
    dws_mlp_forward(&m, x, 1, y1, scratch);
    dws_mlp_forward(&s, z, 1, y2, scratch);
    for (int k = 0; k < 3; k++) ck_assert_float_eq_tol(y1[k], y2[k], 1e-3f);
    dws_frame f;
    ck_assert_int_eq(dws_frame_parse("standardized", &f), 0);
    ck_assert_int_eq(f, DWS_FRAME_STANDARDIZED);
    ck_assert_int_eq(dws_frame_parse("zscore", &f), -1);
    dws_mlp_free(&m), dws_mlp_free(&s), dws_mlp_free(&back);
}
END_TEST

START_TEST(zero_scale_and_bad_permutations_are_refused)
{
    dws_mlp m, f;
    dws_input_affine t;
    dws_error err;
    make_mlp(&m, 4);
    make_affine(&t);
    t.scale[3] = 0;
    ck_assert_int_eq(dws_mlp_fold_input(&m, &t, &f, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
    t.scale[3] = NAN;
    ck_assert_int_eq(dws_mlp_fold_input(&m, &t, &f, &err), -1);
    t.scale[3] = 1;
    t.src[0] = t.src[1];
    ck_assert_int_eq(dws_mlp_fold_input(&m, &t, &f, &err), -1);
    dws_mlp_free(&m);
    dws_input_affine_free(&t);
}
END_TEST

START_TEST(external_normalisation_composes_per_channel)
{
    dws_input_affine t;
    dws_input_norm n;
    ck_assert_int_eq(dws_input_affine_init(&t, D0, NULL), 0);
    ck_assert_int_eq(dws_input_norm_parse(&n, "0.1,0.2,0.3", "0.5,0.25,2", NULL, NULL), 0);
    ck_assert_int_eq(n.n, 3);
    ck_assert_int_eq(dws_input_affine_compose_norm(&t, &n, NULL), 0);
    for (int j = 0; j < D0; j++) {   /* 4 features per channel, CHW */
        int c = j / 4;
        ck_assert_double_eq_tol(t.scale[j], 1 / n.std[c], 1e-12);
        ck_assert_double_eq_tol(t.shift[j], -n.mean[c] / n.std[c], 1e-12);
    }
    ck_assert_int_eq(dws_input_norm_parse(&n, NULL, NULL, "-1,1", NULL), 0);
    ck_assert_int_eq(n.n, 1);
    ck_assert_double_eq_tol(n.mean[0], 0.5, 1e-12);   /* (x - 0.5) / 0.5 = 2x - 1 */
    ck_assert_double_eq_tol(n.std[0], 0.5, 1e-12);
    ck_assert_int_eq(dws_input_norm_parse(&n, NULL, NULL, NULL, NULL), 0);
    ck_assert_int_eq(n.n, 0);
    dws_input_affine_free(&t);
}
END_TEST

START_TEST(parser_is_strict)
{
    static const char *bad[][3] = {
        {"0.5", NULL, NULL}, {NULL, "0.5", NULL}, {"1,2", "1,2", NULL}, {"1,2,3,4", "1,1,1,1", NULL},
        {"1", "0", NULL}, {"x", "1", NULL}, {"1,", "1", NULL}, {",1", "1", NULL}, {" 1", "1", NULL},
        {"1", "1e999", NULL}, {"nan", "1", NULL}, {"1,2,3", "1", NULL}, {NULL, NULL, "1,0"},
        {NULL, NULL, "0"}, {NULL, NULL, "0,1,2"}, {"0", "1", "0,1"}, {"inf", "1", NULL},
    };
    dws_input_norm n;
    dws_error err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(dws_input_norm_parse(&n, bad[i][0], bad[i][1], bad[i][2], &err) == -1, "accepted #%zu", i);
        ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
    }
    char long_text[400];
    memset(long_text, '1', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    ck_assert_int_eq(dws_input_norm_parse(&n, long_text, "1", NULL, &err), -1);
}
END_TEST

/* The codec's description of the user-style fixtures (make_user_mlps.py). */
START_TEST(codec_decodes_user_preprocessing)
{
    dws_error err;
    dws_onnx *m = dws_onnx_decode_file("tests/fixtures/user_norm.onnx", NULL, &err);
    ck_assert_msg(m != NULL, "%s", err.message);
    const dws_input_affine *t = dws_onnx_input_affine(m);
    ck_assert_ptr_nonnull(t);
    const double mean[] = {0.4914, 0.4822, 0.4465}, std[] = {0.2470, 0.2435, 0.2616};
    for (int j = 0; j < 3072; j += 511) {
        int c = j / 1024;
        ck_assert_int_eq(t->src[j], j);
        ck_assert_double_eq_tol(t->scale[j], 1 / std[c], 1e-5);
        ck_assert_double_eq_tol(t->shift[j], -mean[c] / std[c], 1e-5);
    }
    ck_assert_str_eq(dws_onnx_get_info(m)->preprocess, "(x - mean) / std");
    dws_onnx_free(m);
    m = dws_onnx_decode_file("tests/fixtures/user_permute.onnx", NULL, &err);
    ck_assert_ptr_nonnull(m);
    t = dws_onnx_input_affine(m);
    /* HWC position (h, w, c) reads CHW feature c * 1024 + h * 32 + w. */
    ck_assert_int_eq(t->src[0], 0);
    ck_assert_int_eq(t->src[1], 1024);
    ck_assert_int_eq(t->src[2], 2048);
    ck_assert_int_eq(t->src[3], 1);
    ck_assert_int_eq(t->src[3 * 33], 33);
    ck_assert_int_eq(dws_onnx_get_info(m)->preprocess_permutes, 1);
    dws_onnx_free(m);
    m = dws_onnx_decode_file("tests/fixtures/user_plain.onnx", NULL, &err);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_null(dws_onnx_input_affine(m));
    ck_assert_str_eq(dws_onnx_get_info(m)->preprocess, "");
    dws_onnx_free(m);
    m = dws_onnx_decode_file("tests/fixtures/gelu_opset13.onnx", NULL, &err);
    ck_assert_msg(m != NULL, "%s", err.message);
    ck_assert_int_eq(dws_onnx_weights(m)->act[0], DWS_ACT_GELU);
    ck_assert_int_eq(dws_onnx_weights(m)->act[1], DWS_ACT_GELU);
    dws_onnx_free(m);
}
END_TEST

/* Every hidden activation's derivative (the zoo's LeakyReLU slope 0.01; the ones
 * spelt out in ONNX, onnx_gelu.c, too) against central differences, and values. */
START_TEST(activation_backward_matches_finite_differences)
{
    for (int k = DWS_ACT_RELU; k <= DWS_ACT_LAST; k++) {
        for (float z = -4.f; z <= 4.f; z += 0.37f) {
            double h = 1e-3;
            float a = z + (float)h, b = z - (float)h, y = z, d = 1.f;
            dws_activation_apply((dws_activation)k, 0.01f, &a, 1);
            dws_activation_apply((dws_activation)k, 0.01f, &b, 1);
            dws_activation_apply((dws_activation)k, 0.01f, &y, 1);
            dws_activation_backward((dws_activation)k, 0.01f, &z, &y, &d, 1);
            double fd = ((double)a - (double)b) / (2 * h);
            ck_assert_msg(fabs(fd - d) <= 2e-3, "%s at %g: %g vs %g", dws_activation_name((dws_activation)k), z, d, fd);
        }
    }
    float lk[2] = {2.f, -2.f};
    dws_activation_apply(DWS_ACT_LEAKY_RELU, 0.01f, lk, 2);
    ck_assert_float_eq(lk[0], 2.f);
    ck_assert_float_eq_tol(lk[1], -0.02f, 1e-9f);
    float ge = 1.f;
    dws_activation_apply(DWS_ACT_GELU, 0, &ge, 1);
    ck_assert_float_eq_tol(ge, 0.8413447f, 1e-6f);   /* torch.nn.GELU()(1.0) */
    float v[2] = {1.f, -1.f};
    dws_activation_apply(DWS_ACT_SILU, 0, v, 2);
    ck_assert_float_eq_tol(v[0], 0.7310586f, 1e-6f);
    ck_assert_float_eq_tol(v[1], -0.2689414f, 1e-6f);
    float g = 1.f;
    dws_activation_apply(DWS_ACT_GELU_TANH, 0, &g, 1);
    ck_assert_float_eq_tol(g, 0.8411920f, 1e-6f);   /* torch.nn.GELU('tanh')(1.0) */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("input_affine");
    TCase *t = tcase_create("fold");
    tcase_add_test(t, fold_computes_the_same_function);
    tcase_add_test(t, unfold_of_unchanged_is_bit_exact);
    tcase_add_test(t, unfold_maps_a_change_back);
    tcase_add_test(t, fold_backward_is_the_transpose);
    tcase_add_test(t, standardized_frame_round_trips);
    tcase_add_test(t, zero_scale_and_bad_permutations_are_refused);
    tcase_add_test(t, external_normalisation_composes_per_channel);
    tcase_add_test(t, parser_is_strict);
    tcase_add_test(t, codec_decodes_user_preprocessing);
    tcase_add_test(t, activation_backward_matches_finite_differences);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
