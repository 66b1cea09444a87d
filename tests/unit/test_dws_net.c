/* Adapter and encoder networks: identity at initialisation, width independence,
 * batch and thread-count independence, seeded determinism, input checks. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ws/ws.h"
#include "helper_dws.h"

static void small_arch(dws_arch *a, dws_model_kind kind)
{
    dws_arch_default(a, kind);
    a->d0 = 3 * 6 * 6;
    a->image = (dws_image_shape){3, 6, 6};
    a->dL = 4;
    a->channels = 8;
    a->n_dws_layers = 3;
    a->embed_dim = 5;
    a->mlp_hidden = 12;
}

static int all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

START_TEST(adapter_is_the_identity_at_initialisation)
{
    dws_rng rng;
    dws_rng_seed(&rng, 1);
    dws_error err;
    dws_arch a;
    small_arch(&a, DWS_MODEL_ADAPTER);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 99, &err), 0);
    const int64_t widths[] = {108, 17, 9, 4};
    dws_ws in, out;
    th_random_ws(&in, 3, widths, 2, &rng);
    in.data[3] = -0.0f;   /* even the sign of zero survives */
    dws_ws_init(&out, 3, widths, 2, 1, &err);
    dws_net_state *st = dws_net_state_new(2, 0);
    ck_assert_int_eq(dws_adapter_forward(&net, &in, &out, st, &err), 0);
    ck_assert(memcmp(in.data, out.data, sizeof(float) * in.n_floats) == 0);
    /* ...also when the network's output is kept (keep = 1: the residual is then a
     * loop of its own, not the last pass's sink)... */
    dws_net_state_free(st);
    st = dws_net_state_new(2, 1);
    memset(out.data, 0, sizeof(float) * out.n_floats);
    ck_assert_int_eq(dws_adapter_forward(&net, &in, &out, st, &err), 0);
    ck_assert(memcmp(in.data, out.data, sizeof(float) * in.n_floats) == 0);
    /* ...while the network itself computes something: alpha is what gates it. */
    const dws_ws *F = dws_net_state_activation(st, a.n_dws_layers);
    double ss = 0;
    for (size_t j = 0; j < F->n_floats; j++) ss += (double)F->data[j] * F->data[j];
    ck_assert(ss > 0);
    dws_net_state_free(st);
    dws_ws_free(&in), dws_ws_free(&out);
    dws_net_free(&net);
}
END_TEST

/* One model, built without any hidden width, reads MLPs of any hidden widths. */
START_TEST(one_model_serves_every_width)
{
    dws_rng rng;
    dws_rng_seed(&rng, 2);
    dws_error err;
    dws_arch aa, ae;
    small_arch(&aa, DWS_MODEL_ADAPTER);
    small_arch(&ae, DWS_MODEL_ENCODER);
    dws_net adapter, encoder;
    ck_assert_int_eq(dws_net_init(&adapter, &aa, 5, &err), 0);
    ck_assert_int_eq(dws_net_init(&encoder, &ae, 6, &err), 0);
    th_randomise_net(&adapter, &rng);
    th_randomise_net(&encoder, &rng);
    size_t n_adapter = adapter.n_params;
    const int64_t hidden[][2] = {{32, 64}, {128, 256}, {1, 1}, {37, 5}, {200, 3}};
    float emb[5][5];
    dws_net_state *st = dws_net_state_new(2, 0);
    for (int w = 0; w < 5; w++) {
        const int64_t widths[] = {108, hidden[w][0], hidden[w][1], 4};
        dws_ws in, out;
        th_random_ws(&in, 3, widths, 1, &rng);
        dws_ws_init(&out, 3, widths, 1, 1, &err);
        ck_assert_int_eq(dws_adapter_forward(&adapter, &in, &out, st, &err), 0);
        ck_assert(all_finite(out.data, out.n_floats));
        ck_assert(th_rel_err(out.data, in.data, in.n_floats) > 1e-3);
        ck_assert_int_eq(dws_encoder_forward(&encoder, &in, emb[w], st, &err), 0);
        ck_assert(all_finite(emb[w], 5));
        dws_ws_free(&in), dws_ws_free(&out);
    }
    ck_assert_uint_eq(adapter.n_params, n_adapter);
    ck_assert(th_rel_err(emb[0], emb[1], 5) > 1e-4);
    dws_net_state_free(st);
    dws_net_free(&adapter), dws_net_free(&encoder);
}
END_TEST

START_TEST(initialisation_is_seeded)
{
    dws_error err;
    dws_arch a;
    small_arch(&a, DWS_MODEL_ENCODER);
    dws_net n1, n2, n3;
    ck_assert_int_eq(dws_net_init(&n1, &a, 7, &err), 0);
    ck_assert_int_eq(dws_net_init(&n2, &a, 7, &err), 0);
    ck_assert_int_eq(dws_net_init(&n3, &a, 8, &err), 0);
    ck_assert(memcmp(n1.params, n2.params, sizeof(float) * n1.n_params) == 0);
    ck_assert(memcmp(n1.params, n3.params, sizeof(float) * n1.n_params) != 0);
    dws_net_free(&n1), dws_net_free(&n2), dws_net_free(&n3);
}
END_TEST

/* Forward and backward give the same bits on 1, 2 or 5 threads. */
START_TEST(results_do_not_depend_on_the_thread_count)
{
    dws_rng rng;
    dws_rng_seed(&rng, 3);
    dws_error err;
    dws_arch a;
    small_arch(&a, _i ? DWS_MODEL_ENCODER : DWS_MODEL_ADAPTER);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 9, &err), 0);
    th_randomise_net(&net, &rng);
    const int64_t widths[] = {108, 40, 23, 4};
    const int B = 3;
    dws_ws in, out, d_in;
    th_random_ws(&in, 3, widths, B, &rng);
    dws_ws_init(&out, 3, widths, B, 1, &err);
    dws_ws_init(&d_in, 3, widths, B, 1, &err);
    size_t n_out = _i ? (size_t)B * a.embed_dim : out.n_floats;
    float *R = malloc(sizeof(float) * n_out), *first = malloc(sizeof(float) * n_out);
    float *grads = malloc(sizeof(float) * net.n_params), *first_grads = malloc(sizeof(float) * net.n_params);
    float *first_d_in = malloc(sizeof(float) * in.n_floats), *emb = malloc(sizeof(float) * n_out);
    th_fill_normal(R, n_out, 1.f, &rng);
    const int threads[] = {1, 2, 5};
    for (int k = 0; k < 3; k++) {
        dws_net_state *st = dws_net_state_new(threads[k], 1);
        memset(grads, 0, sizeof(float) * net.n_params);
        const float *o = _i ? emb : out.data;
        if (_i) {
            ck_assert_int_eq(dws_encoder_forward(&net, &in, emb, st, &err), 0);
            ck_assert_int_eq(dws_encoder_backward(&net, st, R, grads, &d_in, &err), 0);
        } else {
            dws_ws dR = out;
            dR.data = R;
            dR.owns_data = 0;
            ck_assert_int_eq(dws_adapter_forward(&net, &in, &out, st, &err), 0);
            ck_assert_int_eq(dws_adapter_backward(&net, st, &dR, grads, &d_in, &err), 0);
        }
        if (k == 0) {
            memcpy(first, o, sizeof(float) * n_out);
            memcpy(first_grads, grads, sizeof(float) * net.n_params);
            memcpy(first_d_in, d_in.data, sizeof(float) * in.n_floats);
        } else {
            ck_assert(memcmp(first, o, sizeof(float) * n_out) == 0);
            ck_assert(memcmp(first_grads, grads, sizeof(float) * net.n_params) == 0);
            ck_assert(memcmp(first_d_in, d_in.data, sizeof(float) * in.n_floats) == 0);
        }
        dws_net_state_free(st);
    }
    free(R), free(first), free(grads), free(first_grads), free(first_d_in), free(emb);
    dws_ws_free(&in), dws_ws_free(&out), dws_ws_free(&d_in);
    dws_net_free(&net);
}
END_TEST

/* Inference (keep = 0) sends the last hidden activation straight through the
 * last layer's entry-wise map instead of storing it: same result as the
 * stored path that training uses. */
START_TEST(inference_shortcut_matches_the_stored_path)
{
    dws_rng rng;
    dws_rng_seed(&rng, 12);
    dws_error err;
    dws_arch a;
    small_arch(&a, DWS_MODEL_ADAPTER);
    a.n_dws_layers = 2 + (int)_i;   /* the fused layer is the first, or a middle one */
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 13, &err), 0);
    th_randomise_net(&net, &rng);
    for (int k = 0; k < 6; k++) net.params[net.alpha + (size_t)k] = 1.f / net.norm_std[k];
    const int64_t widths[] = {108, 19, 11, 4};
    dws_ws in, stored, fused;
    th_random_ws(&in, 3, widths, 2, &rng);
    dws_ws_init(&stored, 3, widths, 2, 1, &err);
    dws_ws_init(&fused, 3, widths, 2, 1, &err);
    dws_net_state *train = dws_net_state_new(2, 1), *infer = dws_net_state_new(2, 0);
    ck_assert_int_eq(dws_adapter_forward(&net, &in, &stored, train, &err), 0);
    ck_assert_int_eq(dws_adapter_forward(&net, &in, &fused, infer, &err), 0);
    ck_assert(th_rel_err(fused.data, stored.data, in.n_floats) < 1e-6);
    ck_assert(th_rel_err(stored.data, in.data, in.n_floats) > 0.1);
    dws_net_state_free(train), dws_net_state_free(infer);
    dws_ws_free(&in), dws_ws_free(&stored), dws_ws_free(&fused);
    dws_net_free(&net);
}
END_TEST

/* A batch gives each network exactly the bits it gets alone, or in any other
 * batch, on any thread count: the daemon batches the requests that wait, and a
 * request's answer must not depend on what shares its batch. _i: 0 encoder, 1
 * adapter (inference, keep = 0). */
static void run_one_kind(const dws_net *net, const dws_ws *in, float *out, int threads)
{
    dws_error err;
    dws_net_state *st = dws_net_state_new(threads, 0);
    if (net->arch.kind == DWS_MODEL_ENCODER) {
        ck_assert_int_eq(dws_encoder_forward(net, in, out, st, &err), 0);
    } else {
        dws_ws o = *in;
        o.data = out;
        o.owns_data = 0;
        ck_assert_int_eq(dws_adapter_forward(net, in, &o, st, &err), 0);
    }
    dws_net_state_free(st);
}

/* Networks pick[0 .. n) of src as a batch of n. */
static void pick_batch(const dws_ws *src, const int *pick, int n, dws_ws *dst)
{
    dws_error err;
    ck_assert_int_eq(dws_ws_init(dst, src->n_layers, src->widths, n, 1, &err), 0);
    for (int k = 0; k < n; k++)
        for (int l = 0; l < src->n_layers; l++) {
            memcpy(dws_ws_W(dst, l, k), dws_ws_W(src, l, pick[k]),
                   sizeof(float) * (size_t)(src->widths[l + 1] * src->widths[l]));
            memcpy(dws_ws_b(dst, l, k), dws_ws_b(src, l, pick[k]), sizeof(float) * (size_t)src->widths[l + 1]);
        }
}

START_TEST(batch_members_are_independent)
{
    dws_rng rng;
    dws_rng_seed(&rng, 4);
    dws_error err;
    dws_arch a;
    small_arch(&a, _i ? DWS_MODEL_ADAPTER : DWS_MODEL_ENCODER);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 10, &err), 0);
    th_randomise_net(&net, &rng);
    for (int k = 0; _i && k < 6; k++) net.params[net.alpha + (size_t)k] = 1.f / net.norm_std[k];
    const int64_t widths[] = {108, 40, 23, 4};
    dws_ws all;
    th_random_ws(&all, 3, widths, 5, &rng);
    const size_t per = _i ? all.n_floats / 5 : (size_t)a.embed_dim;   /* floats of one network's answer */
    float *big = malloc(sizeof(float) * 5 * per), *alone = malloc(sizeof(float) * per),
          *other = malloc(sizeof(float) * 2 * per);
    run_one_kind(&net, &all, big, 3);
    for (int b = 0; b < 5; b++) {
        dws_ws one, two;
        const int me[1] = {b}, pair[2] = {(b + 2) % 5, b};
        pick_batch(&all, me, 1, &one);
        pick_batch(&all, pair, 2, &two);
        run_one_kind(&net, &one, alone, 1);
        run_one_kind(&net, &two, other, 2);
        /* The adapter's answer is laid out tensor by tensor, networks within a
         * tensor: compare network b's tensors one by one. */
        for (int l = 0; _i && l < 3; l++) {
            size_t nw = (size_t)(widths[l + 1] * widths[l]), nb = (size_t)widths[l + 1];
            const float *Wb = big + (all.W_off[l] + b * nw), *bb = big + (all.b_off[l] + b * nb);
            ck_assert(memcmp(Wb, alone + one.W_off[l], sizeof(float) * nw) == 0);
            ck_assert(memcmp(bb, alone + one.b_off[l], sizeof(float) * nb) == 0);
            ck_assert(memcmp(Wb, other + two.W_off[l] + nw, sizeof(float) * nw) == 0);
            ck_assert(memcmp(bb, other + two.b_off[l] + nb, sizeof(float) * nb) == 0);
        }
        if (!_i) {
            ck_assert(memcmp(big + b * per, alone, sizeof(float) * per) == 0);
            ck_assert(memcmp(big + b * per, other + per, sizeof(float) * per) == 0);
        }
        dws_ws_free(&one), dws_ws_free(&two);
    }
    free(big), free(alone), free(other);
    dws_ws_free(&all);
    dws_net_free(&net);
}
END_TEST

START_TEST(rejects_what_it_cannot_read)
{
    dws_rng rng;
    dws_rng_seed(&rng, 5);
    dws_error err;
    dws_arch a;
    small_arch(&a, DWS_MODEL_ADAPTER);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 11, &err), 0);
    dws_net_state *st = dws_net_state_new(1, 0);
    const int64_t bad_d0[] = {100, 8, 8, 4}, bad_classes[] = {108, 8, 8, 5}, two_layers[] = {108, 8, 4};
    const int64_t *cases[] = {bad_d0, bad_classes, two_layers};
    const int depth[] = {3, 3, 2};
    for (int k = 0; k < 3; k++) {
        dws_ws in, out;
        th_random_ws(&in, depth[k], cases[k], 1, &rng);
        dws_ws_init(&out, depth[k], cases[k], 1, 1, &err);
        dws_error_clear(&err);
        ck_assert_int_ne(dws_adapter_forward(&net, &in, &out, st, &err), 0);
        ck_assert_str_eq(err.code, DWS_E_INCOMPATIBLE_MODEL);
        dws_ws_free(&in), dws_ws_free(&out);
    }
    /* Backward needs a forward that kept its activations. */
    const int64_t ok[] = {108, 8, 8, 4};
    dws_ws in, out;
    th_random_ws(&in, 3, ok, 1, &rng);
    dws_ws_init(&out, 3, ok, 1, 1, &err);
    ck_assert_int_eq(dws_adapter_forward(&net, &in, &out, st, &err), 0);
    float *grads = calloc(net.n_params, sizeof(float));
    ck_assert_int_ne(dws_adapter_backward(&net, st, &out, grads, NULL, &err), 0);
    ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
    /* An encoder call on an adapter. */
    float emb[5];
    ck_assert_int_ne(dws_encoder_forward(&net, &in, emb, st, &err), 0);
    free(grads);
    dws_ws_free(&in), dws_ws_free(&out);
    dws_net_state_free(st);
    dws_net_free(&net);
    /* Architectures outside the supported ranges. */
    dws_arch bad = a;
    bad.image = (dws_image_shape){3, 5, 6};   /* 90 != d0 */
    ck_assert_int_ne(dws_net_init(&net, &bad, 1, &err), 0);
    bad = a;
    bad.dL = 1000;
    ck_assert_int_ne(dws_net_init(&net, &bad, 1, &err), 0);
    bad = a;
    bad.channels = 0;
    ck_assert_int_ne(dws_net_init(&net, &bad, 1, &err), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dws_net");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, adapter_is_the_identity_at_initialisation);
    tcase_add_test(tc, one_model_serves_every_width);
    tcase_add_test(tc, initialisation_is_seeded);
    tcase_add_loop_test(tc, results_do_not_depend_on_the_thread_count, 0, 2);
    tcase_add_loop_test(tc, inference_shortcut_matches_the_stored_path, 0, 2);
    tcase_add_loop_test(tc, batch_members_are_independent, 0, 2);
    tcase_add_test(tc, rejects_what_it_cannot_read);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
