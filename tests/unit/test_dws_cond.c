/* The domain-conditioned adapter (ws.h, dws cond): the effective parameters are an
 * exact per-channel FiLM of every layer, a fresh conditioned adapter is the plain
 * one for every condition, conditions are checked, gradients of every
 * conditioning tensor match finite differences, and equivariance holds. The
 * adapter has an input map (ws/input_map.h), conditioned too. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helper_check.h"
#include "helper_dws.h"
#include "ws/dws_layer.h"
#include "ws/ws.h"

static void cond_arch(dws_arch *a)
{
    dws_arch_default(a, DWS_MODEL_ADAPTER);
    a->d0 = 3 * 4 * 4;
    a->image = (dws_image_shape){3, 4, 4};
    a->dL = 3;
    a->channels = 8;
    a->n_dws_layers = 3;
    a->cond_dim = 6;
    a->cond_types = 5;
    a->cond_severities = 3;
    a->cond_steps = 2;
    a->input_map = 3;   /* its maps join the condition (ws/input_map.h) */
}

static const int64_t WIDTHS[] = {48, 5, 4, 3};

static const dws_cond CHAIN = {.n_steps = 2, .type = {4, 1}, .severity = {3, 2}};

/* out = the adapter's output on in, conditioned on c. */
static void run_cond(const dws_net *net, const dws_cond *c, const dws_ws *in, dws_ws *out)
{
    dws_error err;
    dws_cond_net *cn = malloc(sizeof *cn);
    ck_assert_int_eq(dws_cond_net_make(cn, net, c, &err), 0);
    dws_net_state *st = dws_net_state_new(1, 0);
    ck_assert_int_eq(dws_adapter_forward(&cn->net, in, out, st, &err), 0);
    dws_net_state_free(st);
    dws_cond_net_free(cn);
    free(cn);
}

START_TEST(fresh_conditioning_is_the_plain_adapter)
{
    dws_rng rng;
    dws_rng_seed(&rng, 3);
    dws_error err;
    dws_arch a;
    cond_arch(&a);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 7, &err), 0);
    /* Random layers and alpha, conditioning maps left at their initial zeros. */
    for (int l = 0; l < a.n_dws_layers; l++) dws_layer_init_params(&net.layers[l], net.params, &rng);
    for (int j = 0; j < 2 * a.depth; j++) net.params[net.alpha + (size_t)j] = 0.3f;
    dws_ws in, plain, conditioned;
    th_random_ws(&in, 3, WIDTHS, 2, &rng);
    dws_ws_init(&plain, 3, WIDTHS, 2, 1, &err);
    dws_ws_init(&conditioned, 3, WIDTHS, 2, 1, &err);
    dws_net_state *st = dws_net_state_new(1, 0);
    ck_assert_int_eq(dws_adapter_forward(&net, &in, &plain, st, &err), 0);
    dws_cond any = {.any = 1};
    run_cond(&net, &CHAIN, &in, &conditioned);
    ck_assert(memcmp(plain.data, conditioned.data, sizeof(float) * plain.n_floats) == 0);
    run_cond(&net, &any, &in, &conditioned);
    ck_assert(memcmp(plain.data, conditioned.data, sizeof(float) * plain.n_floats) == 0);
    dws_net_state_free(st);
    dws_ws_free(&in), dws_ws_free(&plain), dws_ws_free(&conditioned);
    dws_net_free(&net);
}
END_TEST

/* Layer 1 (8 -> 8 channels) with effective parameters = (1 + s_o) y_o + d_o of
 * the layer with the base parameters, channel by channel, before the ReLU. */
START_TEST(effective_parameters_are_an_exact_film)
{
    dws_rng rng;
    dws_rng_seed(&rng, 4);
    dws_error err;
    dws_arch a;
    cond_arch(&a);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 8, &err), 0);
    th_randomise_net(&net, &rng);
    dws_cond_net *cn = malloc(sizeof *cn);
    ck_assert_int_eq(dws_cond_net_make(cn, &net, &CHAIN, &err), 0);
    const dws_layer *ly = &net.layers[1];
    float shift[8] = {0};
    for (int i = 0; i < a.cond_dim; i++)
        for (int o = 0; o < 8; o++) shift[o] += cn->e[i] * net.params[net.cond_shift[1] + (size_t)i * 8 + (size_t)o];
    dws_axes ax;
    ck_assert_int_eq(dws_axes_init(&ax, 3, WIDTHS, 3, &err), 0);
    dws_ws X, Y0, Y1;
    dws_pool PX;
    dws_ws_init(&X, 3, WIDTHS, 2, 8, &err);
    dws_ws_init(&Y0, 3, WIDTHS, 2, 8, &err);
    dws_ws_init(&Y1, 3, WIDTHS, 2, 8, &err);
    dws_pool_init(&PX, &ax, 2, 8, &err);
    th_fill_normal(X.data, X.n_floats, 1.f, &rng);
    dws_exec ex = {.threads = 1};
    ck_assert_int_eq(dws_pass_pool(&ax, &X, &PX, 1, 1, &ex.work, &err), 0);
    ck_assert_int_eq(dws_layer_forward(ly, net.params, &X, &PX, 0, &Y0, NULL, &ex, &err), 0);
    ck_assert_int_eq(dws_layer_forward(ly, cn->net.params, &X, &PX, 0, &Y1, NULL, &ex, &err), 0);
    double worst = 0, scale = 0;
    int moved = 0;
    for (size_t j = 0; j < Y0.n_floats; j++) {
        int o = (int)(j % 8);   /* channels innermost */
        double want = cn->scale[1][o] * Y0.data[j] + shift[o];
        worst = fmax(worst, fabs(want - Y1.data[j]));
        scale = fmax(scale, fabs(want));
        moved += fabs(Y1.data[j] - Y0.data[j]) > 1e-3;
    }
    ck_assert_msg(worst <= 1e-5 * scale, "FiLM mismatch %g of %g", worst, scale);
    ck_assert(moved > (int)(Y0.n_floats / 2));
    dws_ws_free(&X), dws_ws_free(&Y0), dws_ws_free(&Y1);
    dws_pool_free(&PX);
    dws_exec_free(&ex);
    dws_cond_net_free(cn);
    free(cn);
    dws_net_free(&net);
}
END_TEST

START_TEST(conditions_outside_the_table_are_refused)
{
    dws_error err;
    dws_arch a;
    cond_arch(&a);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 1, &err), 0);
    const dws_cond bad[] = {
        {.n_steps = 0},
        {.n_steps = 3, .type = {0, 0, 0}, .severity = {1, 1, 1}},
        {.n_steps = 1, .type = {5}, .severity = {1}},
        {.n_steps = 1, .type = {0}, .severity = {0}},
        {.n_steps = 1, .type = {0}, .severity = {4}},
        {.any = 1, .n_steps = 1, .type = {0}, .severity = {1}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(dws_cond_check(&net, &bad[i], &err), -1);
        ck_assert_str_eq(err.code, DWS_E_UNKNOWN_DOMAIN);
    }
    ck_assert_int_eq(dws_cond_check(&net, &CHAIN, &err), 0);
    dws_net_free(&net);
    a.cond_dim = 0;   /* an unconditioned adapter reads no condition */
    ck_assert_int_eq(dws_net_init(&net, &a, 1, &err), 0);
    ck_assert_int_eq(dws_cond_check(&net, &CHAIN, &err), -1);
    dws_net_free(&net);
}
END_TEST

/* <R, adapter(in | c)> */
static double cond_loss(const dws_net *net, const dws_cond *c, const dws_ws *in, const dws_ws *R, dws_ws *out)
{
    run_cond(net, c, in, out);
    return th_dot(R->data, out->data, out->n_floats);
}

/* The gradient of every conditioning tensor (and of a layer tensor and alpha,
 * which now pass through the FiLM) against central differences along the
 * gradient plus a random part; small steps keep the ReLUs on their sides. */
static void check_gradients(const dws_cond *c, uint64_t seed)
{
    dws_rng rng;
    dws_rng_seed(&rng, seed);
    dws_error err;
    dws_arch a;
    cond_arch(&a);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 9, &err), 0);
    th_randomise_net(&net, &rng);
    for (size_t j = net.cond_table; j < net.n_params; j++) net.params[j] *= 0.3f;   /* FiLM near 1 */
    dws_ws in, out, R;
    th_random_ws(&in, 3, WIDTHS, 2, &rng);
    dws_ws_init(&out, 3, WIDTHS, 2, 1, &err);
    dws_ws_init(&R, 3, WIDTHS, 2, 1, &err);
    th_fill_normal(R.data, R.n_floats, 1.f, &rng);

    dws_cond_net *cn = malloc(sizeof *cn);
    ck_assert_int_eq(dws_cond_net_make(cn, &net, c, &err), 0);
    dws_net_state *st = dws_net_state_new(1, 1);
    ck_assert_int_eq(dws_adapter_forward(&cn->net, &in, &out, st, &err), 0);
    float *g_eff = calloc(net.n_params, sizeof(float)), *grads = calloc(net.n_params, sizeof(float));
    ck_assert_int_eq(dws_adapter_backward(&cn->net, st, &R, g_eff, NULL, &err), 0);
    dws_cond_net_backward(cn, &net, g_eff, grads);
    dws_net_state_free(st);
    dws_cond_net_free(cn);
    free(cn);

    const char *names[] = {"cond.steps",   "cond.any",          "cond.scale0",       "cond.shift1",
                           "cond.scale2",  "cond.alpha",        "layer1.M1",         "adapter.alpha",
                           "layer0.K",     "adapter.inmap.mix", "adapter.inmap.shift", "cond.inmap.mix",
                           "cond.inmap.shift"};
    float *u = calloc(net.n_params, sizeof(float)), *base = malloc(sizeof(float) * net.n_params);
    memcpy(base, net.params, sizeof(float) * net.n_params);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const dws_param_tensor *t = dws_param_table_find(&net.table, names[k]);
        ck_assert_ptr_nonnull(t);
        double gn = sqrt(th_dot(grads + t->offset, grads + t->offset, t->count));
        int unused = (c->any && !strcmp(names[k], "cond.steps")) || (!c->any && !strcmp(names[k], "cond.any"));
        if (unused) {
            ck_assert(gn == 0);
            continue;
        }
        ck_assert_msg(gn > 0, "%s has no gradient", names[k]);
        memset(u, 0, sizeof(float) * net.n_params);
        for (size_t j = 0; j < t->count; j++)
            u[t->offset + j] = (float)(grads[t->offset + j] / gn + 0.3 * dws_rng_normal(&rng) / sqrt((double)t->count));
        double h = 1e-3;
        for (size_t j = 0; j < net.n_params; j++) net.params[j] = base[j] + (float)h * u[j];
        double up = cond_loss(&net, c, &in, &R, &out);
        for (size_t j = 0; j < net.n_params; j++) net.params[j] = base[j] - (float)h * u[j];
        double down = cond_loss(&net, c, &in, &R, &out);
        memcpy(net.params, base, sizeof(float) * net.n_params);
        double numeric = (up - down) / (2 * h), analytic = th_dot(grads + t->offset, u + t->offset, t->count);
        ck_assert_msg(fabs(numeric - analytic) <= 2e-2 * fabs(analytic) + 1e-4, "%s: analytic %g, numeric %g",
                      names[k], analytic, numeric);
    }
    free(u), free(base), free(g_eff), free(grads);
    dws_ws_free(&in), dws_ws_free(&out), dws_ws_free(&R);
    dws_net_free(&net);
}

START_TEST(conditioning_gradients_match_finite_differences)
{
    const dws_cond any = {.any = 1};
    check_gradients(&CHAIN, 10);
    check_gradients(&any, 11);
}
END_TEST

/* Permuting the hidden neurons of the input permutes the output alike. */
START_TEST(conditioned_adapter_is_equivariant)
{
    dws_rng rng;
    dws_rng_seed(&rng, 12);
    dws_error err;
    dws_arch a;
    cond_arch(&a);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 2, &err), 0);
    th_randomise_net(&net, &rng);
    dws_mlp m, pm;
    ck_assert_int_eq(dws_mlp_init(&m, 3, WIDTHS, &err), 0);
    th_fill_normal(m.params, m.n_params, 0.2f, &rng);
    int perm1[5] = {3, 0, 4, 1, 2}, perm2[4] = {2, 3, 1, 0};
    ck_assert_int_eq(dws_mlp_clone(&pm, &m, &err), 0);
    /* pm = m with hidden layer 1 permuted by perm1 and layer 2 by perm2. */
    const int *perm[3] = {NULL, perm1, perm2};
    for (int t = 0; t < 3; t++)
        for (int64_t i = 0; i < WIDTHS[t + 1]; i++) {
            int64_t ri = t + 1 < 3 ? perm[t + 1][i] : i;
            pm.b[t][i] = m.b[t][ri];
            for (int64_t k = 0; k < WIDTHS[t]; k++) {
                int64_t rk = t > 0 ? perm[t][k] : k;
                pm.W[t][i * WIDTHS[t] + k] = m.W[t][ri * WIDTHS[t] + rk];
            }
        }
    dws_ws in, pin, out, pout;
    ck_assert_int_eq(dws_ws_view_mlp(&in, &m, &err), 0);
    ck_assert_int_eq(dws_ws_view_mlp(&pin, &pm, &err), 0);
    dws_ws_init(&out, 3, WIDTHS, 1, 1, &err);
    dws_ws_init(&pout, 3, WIDTHS, 1, 1, &err);
    run_cond(&net, &CHAIN, &in, &out);
    run_cond(&net, &CHAIN, &pin, &pout);
    dws_mlp o, po;
    dws_mlp_clone(&o, &m, &err);
    dws_mlp_clone(&po, &m, &err);
    dws_ws_to_mlp(&out, 0, &o);
    dws_ws_to_mlp(&pout, 0, &po);
    double worst = 0;
    for (int t = 0; t < 3; t++)
        for (int64_t i = 0; i < WIDTHS[t + 1]; i++) {
            int64_t ri = t + 1 < 3 ? perm[t + 1][i] : i;
            worst = fmax(worst, fabs(po.b[t][i] - o.b[t][ri]));
            for (int64_t k = 0; k < WIDTHS[t]; k++) {
                int64_t rk = t > 0 ? perm[t][k] : k;
                worst = fmax(worst, fabs(po.W[t][i * WIDTHS[t] + k] - o.W[t][ri * WIDTHS[t] + rk]));
            }
        }
    ck_assert_msg(worst < 1e-5, "equivariance error %g", worst);
    dws_mlp_free(&m), dws_mlp_free(&pm), dws_mlp_free(&o), dws_mlp_free(&po);
    dws_ws_free(&out), dws_ws_free(&pout);
    dws_net_free(&net);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        fresh_conditioning_is_the_plain_adapter,
        effective_parameters_are_an_exact_film,
        conditions_outside_the_table_are_refused,
        conditioning_gradients_match_finite_differences,
        conditioned_adapter_is_equivariant,
    };
    return th_run_tests("dws_cond", tests, (int)(sizeof tests / sizeof *tests));
}
