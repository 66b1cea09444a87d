/* Permutation symmetry (docs/design.md section 3): for random hidden-neuron
 * permutations g, a DWS layer and the adapter are equivariant, F(g.v) = g.F(v),
 * and the encoder is invariant, E(g.v) = E(v), within float rounding, for 1 to 4
 * hidden layers, random widths, with and without the image axis, every block on. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "ws/dws_layer.h"
#include "ws/ws.h"
#include "helper_dws.h"
#include "ws/ws_pass.h"

#define TOL 1e-5

/* Loop index -> depth 2..5 (1..4 hidden layers), with or without an image input. */
static void loop_case(int i, int *depth, int *image)
{
    *depth = 2 + i / 2;
    *image = i % 2;
}

static void small_arch(dws_arch *a, dws_model_kind kind, int depth, int image)
{
    dws_arch_default(a, kind);
    a->depth = depth;
    a->dL = 5;
    a->channels = image ? 8 : 4;   /* 8: the register-blocked convolution loops */
    a->n_dws_layers = 3;
    a->embed_dim = 6;
    a->mlp_hidden = 8;
    if (image) {
        a->d0 = 3 * 4 * 5;
        a->image = (dws_image_shape){3, 4, 5};
    } else {
        a->d0 = 7;
        a->image = (dws_image_shape){0, 0, 0};
    }
}

START_TEST(layer_is_equivariant)
{
    int depth, image;
    loop_case(_i, &depth, &image);
    dws_rng rng;
    dws_rng_seed(&rng, 100 + (uint64_t)_i);
    dws_error err;
    dws_arch a;
    small_arch(&a, DWS_MODEL_ENCODER, depth, image);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 7, &err), 0);
    th_randomise_net(&net, &rng);
    /* A middle layer: c -> c channels, ReLU, pooled output. */
    const dws_layer *ly = &net.layers[1];
    int64_t widths[DWS_MAX_LAYERS + 1];
    th_random_widths(widths, depth, a.d0, a.dL, 2, 9, &rng);
    dws_axes ax;
    ck_assert_int_eq(dws_axes_init(&ax, depth, widths, image ? 3 : 1, &err), 0);
    const int B = 2;
    dws_ws X, gX, Y, gY, Yg;
    dws_pool PX, gPX, PY, PYg;
    dws_ws_init(&X, depth, widths, B, ly->c_in, &err);
    dws_ws_init(&gX, depth, widths, B, ly->c_in, &err);
    dws_ws_init(&Y, depth, widths, B, ly->c_out, &err);
    dws_ws_init(&gY, depth, widths, B, ly->c_out, &err);
    dws_ws_init(&Yg, depth, widths, B, ly->c_out, &err);
    dws_pool_init(&PX, &ax, B, ly->c_in, &err);
    dws_pool_init(&gPX, &ax, B, ly->c_in, &err);
    dws_pool_init(&PY, &ax, B, ly->c_out, &err);
    dws_pool_init(&PYg, &ax, B, ly->c_out, &err);
    th_fill_normal(X.data, X.n_floats, 1.f, &rng);
    dws_perm g;
    ck_assert_int_eq(dws_perm_random(&g, depth, widths, &rng, &err), 0);
    dws_perm_apply_ws(&g, &X, &gX);
    dws_exec ex = {.threads = 2};
    ck_assert_int_eq(dws_pass_pool(&ax, &X, &PX, 1, 1, &ex.work, &err), 0);
    ck_assert_int_eq(dws_pass_pool(&ax, &gX, &gPX, 1, 1, &ex.work, &err), 0);
    ck_assert_int_eq(dws_layer_forward(ly, net.params, &X, &PX, 1, &Y, &PY, &ex, &err), 0);
    ck_assert_int_eq(dws_layer_forward(ly, net.params, &gX, &gPX, 1, &Yg, &PYg, &ex, &err), 0);
    dws_perm_apply_ws(&g, &Y, &gY);
    double e = th_rel_err(Yg.data, gY.data, Y.n_floats);
    ck_assert_msg(e < TOL, "layer(g.X) != g.layer(X): rel err %g (depth %d, image %d)", e, depth, image);
    /* Global summaries are invariant. */
    e = th_rel_err(PYg.global, PY.global, (size_t)(B * ax.n_global * ly->c_out));
    ck_assert_msg(e < TOL, "pooled global summaries not invariant: %g", e);
    dws_ws_free(&X), dws_ws_free(&gX), dws_ws_free(&Y), dws_ws_free(&gY), dws_ws_free(&Yg);
    dws_pool_free(&PX), dws_pool_free(&gPX), dws_pool_free(&PY), dws_pool_free(&PYg);
    dws_exec_free(&ex);
    dws_perm_free(&g);
    dws_net_free(&net);
}
END_TEST

START_TEST(adapter_is_equivariant)
{
    int depth, image;
    loop_case(_i, &depth, &image);
    dws_rng rng;
    dws_rng_seed(&rng, 200 + (uint64_t)_i);
    dws_error err;
    dws_arch a;
    small_arch(&a, DWS_MODEL_ADAPTER, depth, image);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 11, &err), 0);
    th_randomise_net(&net, &rng);
    /* Make the network's part of W' = W + alpha std F(v) dominate, so the check
     * is about F and not about the identity path. */
    for (int k = 0; k < 2 * depth; k++) net.params[net.alpha + (size_t)k] = 1.f / net.norm_std[k];
    int64_t widths[DWS_MAX_LAYERS + 1];
    th_random_widths(widths, depth, a.d0, a.dL, 2, 12, &rng);
    dws_ws v, gv, out, gout, outg;
    th_random_ws(&v, depth, widths, 3, &rng);
    dws_ws_init(&gv, depth, widths, 3, 1, &err);
    dws_ws_init(&out, depth, widths, 3, 1, &err);
    dws_ws_init(&gout, depth, widths, 3, 1, &err);
    dws_ws_init(&outg, depth, widths, 3, 1, &err);
    dws_perm g;
    dws_perm_random(&g, depth, widths, &rng, &err);
    dws_perm_apply_ws(&g, &v, &gv);
    dws_net_state *st = dws_net_state_new(2, 0);
    ck_assert_int_eq(dws_adapter_forward(&net, &v, &out, st, &err), 0);
    ck_assert_int_eq(dws_adapter_forward(&net, &gv, &outg, st, &err), 0);
    dws_perm_apply_ws(&g, &out, &gout);
    double e = th_rel_err(outg.data, gout.data, out.n_floats);
    ck_assert_msg(e < TOL, "F(g.v) != g.F(v): rel err %g (depth %d, image %d)", e, depth, image);
    /* The adapter changed the weights: the check was not trivially about W. */
    ck_assert(th_rel_err(out.data, v.data, v.n_floats) > 0.1);
    dws_net_state_free(st);
    dws_ws_free(&v), dws_ws_free(&gv), dws_ws_free(&out), dws_ws_free(&gout), dws_ws_free(&outg);
    dws_perm_free(&g);
    dws_net_free(&net);
}
END_TEST

START_TEST(encoder_is_invariant)
{
    int depth, image;
    loop_case(_i, &depth, &image);
    dws_rng rng;
    dws_rng_seed(&rng, 300 + (uint64_t)_i);
    dws_error err;
    dws_arch a;
    small_arch(&a, DWS_MODEL_ENCODER, depth, image);
    a.probes = depth % 2 ? 4 : 0;   /* probe features on for half the cases */
    a.probe_scale = 0.5f;
    a.head_skip = a.probes > 0;
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 13, &err), 0);
    th_randomise_net(&net, &rng);
    int64_t widths[DWS_MAX_LAYERS + 1];
    th_random_widths(widths, depth, a.d0, a.dL, 2, 12, &rng);
    const int B = 2;
    dws_ws v, gv;
    th_random_ws(&v, depth, widths, B, &rng);
    dws_ws_init(&gv, depth, widths, B, 1, &err);
    dws_perm g;
    dws_perm_random(&g, depth, widths, &rng, &err);
    dws_perm_apply_ws(&g, &v, &gv);
    float e1[2 * 6], e2[2 * 6];
    dws_net_state *st = dws_net_state_new(1, 0);
    ck_assert_int_eq(dws_encoder_forward(&net, &v, e1, st, &err), 0);
    ck_assert_int_eq(dws_encoder_forward(&net, &gv, e2, st, &err), 0);
    double e = th_rel_err(e2, e1, (size_t)B * 6);
    ck_assert_msg(e < TOL, "E(g.v) != E(v): rel err %g (depth %d, image %d, probes %d)", e, depth, image, a.probes);
    /* Two different networks of the batch embed differently. */
    ck_assert(th_rel_err(e1, e1 + 6, 6) > 1e-3);
    dws_net_state_free(st);
    dws_ws_free(&v), dws_ws_free(&gv);
    dws_perm_free(&g);
    dws_net_free(&net);
}
END_TEST

/* The group action itself is right: a permuted MLP computes the same function. */
START_TEST(permuted_mlp_is_the_same_function)
{
    dws_rng rng;
    dws_rng_seed(&rng, 5);
    dws_error err;
    int64_t widths[] = {6, 5, 4, 7, 3};
    dws_mlp m, pm;
    ck_assert_int_eq(dws_mlp_init(&m, 4, widths, &err), 0);
    ck_assert_int_eq(dws_mlp_init(&pm, 4, widths, &err), 0);
    th_fill_normal(m.params, m.n_params, 0.5f, &rng);
    dws_perm g;
    dws_perm_random(&g, 4, widths, &rng, &err);
    dws_perm_apply_mlp(&g, &m, &pm);
    ck_assert(th_rel_err(pm.params, m.params, m.n_params) > 0.01);   /* the weights moved */
    float x[2 * 6], y1[2 * 3], y2[2 * 3];
    th_fill_normal(x, 12, 1.f, &rng);
    float *scratch = malloc(sizeof(float) * dws_mlp_scratch_floats(&m, 2));
    dws_mlp_forward(&m, x, 2, y1, scratch);
    dws_mlp_forward(&pm, x, 2, y2, scratch);
    ck_assert(th_rel_err(y2, y1, 6) < 1e-5);
    free(scratch);
    dws_perm_free(&g);
    dws_mlp_free(&m);
    dws_mlp_free(&pm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dws_equivariance");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, permuted_mlp_is_the_same_function);
    tcase_add_loop_test(tc, layer_is_equivariant, 0, 8);
    tcase_add_loop_test(tc, adapter_is_equivariant, 0, 8);
    tcase_add_loop_test(tc, encoder_is_invariant, 0, 8);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
