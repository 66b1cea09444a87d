/* Depth-range adapters (ws.h, dws depth) and the activation condition (dws cond):
 * one parameter set reads 1 to 4 hidden layers with a parameter count that does
 * not grow with depth; the tie is exact (gradients through it match finite
 * differences at depths 2, 4 and 5); every depth is equivariant; the activation
 * row is read and activations outside the table are refused with the reason. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helper_check.h"
#include "helper_dws.h"
#include "ws/ws.h"

static void range_arch(dws_arch *a, int depth_max)
{
    dws_arch_default(a, DWS_MODEL_ADAPTER);
    a->d0 = 3 * 4 * 4;
    a->image = (dws_image_shape){3, 4, 4};
    a->dL = 3;
    a->channels = 4;
    a->n_dws_layers = 3;
    a->cond_dim = 5;
    a->cond_types = 3;
    a->cond_severities = 2;
    a->cond_steps = 1;
    a->cond_acts = 4;
    a->depth_min = 2;
    a->depth_max = depth_max;
}

static const dws_cond FOG = {.act = 2, .n_steps = 1, .type = {1}, .severity = {2}};

static void widths_of(int L, int64_t *w)
{
    for (int n = 0; n <= L; n++) w[n] = n == 0 ? 48 : n == L ? 3 : 4 + n;
}

/* out = the range adapter's output on in (depth in->n_layers), conditioned on c. */
static void run_depth(const dws_net *shared, const dws_cond *c, const dws_ws *in, dws_ws *out)
{
    dws_error err;
    dws_depth_net *dn = malloc(sizeof *dn);
    const dws_net *net = shared;
    if (in->n_layers != shared->arch.depth) {
        ck_assert_int_eq(dws_depth_net_make(dn, shared, in->n_layers, &err), 0);
        net = &dn->net;
    }
    dws_cond_net *cn = malloc(sizeof *cn);
    ck_assert_int_eq(dws_cond_net_make(cn, net, c, &err), 0);
    dws_net_state *st = dws_net_state_new(1, 0);
    ck_assert_int_eq(dws_adapter_forward(&cn->net, in, out, st, &err), 0);
    dws_net_state_free(st);
    dws_cond_net_free(cn);
    if (net != shared) dws_depth_net_free(dn);
    free(cn), free(dn);
}

START_TEST(one_parameter_set_for_every_depth)
{
    dws_error err;
    dws_arch a;
    dws_net n5, n8, fixed;
    range_arch(&a, 5);
    ck_assert_int_eq(dws_net_init(&n5, &a, 1, &err), 0);
    range_arch(&a, 8);
    ck_assert_int_eq(dws_net_init(&n8, &a, 1, &err), 0);
    ck_assert_uint_eq(n5.n_params, n8.n_params);   /* deeper MLPs: no more parameters */
    for (int L = 1; L <= 9; L++) ck_assert_int_eq(dws_net_reads_depth(&n5, L), L >= 2 && L <= 5);
    /* The networks of every depth together are bounded before any is allocated. */
    dws_arch huge = a;
    huge.channels = 256;
    huge.n_dws_layers = 8;
    huge.depth_max = 16;
    dws_net big;
    ck_assert_int_eq(dws_net_init(&big, &huge, 1, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_TOO_LARGE);
    a.depth_min = a.depth_max = 0;
    ck_assert_int_eq(dws_net_init(&fixed, &a, 1, &err), 0);
    ck_assert(dws_net_reads_depth(&fixed, 3) && !dws_net_reads_depth(&fixed, 4));
    ck_assert_int_eq(dws_depth_net_make(&(dws_depth_net){0}, &fixed, 4, &err), -1);
    /* Every depth's network ties its interior blocks to the stored ones. */
    dws_rng rng;
    dws_rng_seed(&rng, 2);
    th_randomise_net(&n5, &rng);
    dws_depth_net dn;
    ck_assert_int_eq(dws_depth_net_make(&dn, &n5, 5, &err), 0);
    const char *same[][2] = {{"layer1.E2", "layer1.E1"}, {"layer1.E3", "layer1.E1"}, {"layer0.M2", "layer0.Mint"},
                             {"layer0.M3", "layer0.Mint"}, {"layer2.M4", "layer2.M2"}, {"layer1.M1", "layer1.M1"}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        const dws_param_tensor *d = dws_param_table_find(&dn.net.table, same[i][0]),
                               *s = dws_param_table_find(&n5.table, same[i][1]);
        ck_assert(d && s && d->count == s->count);
        ck_assert(!memcmp(dn.net.params + d->offset, n5.params + s->offset, sizeof(float) * d->count));
    }
    ck_assert_float_eq(dn.net.norm_std[2 * 3 + 1], n5.norm_std[2 * 1 + 1]);   /* b_3 reads the interior b */
    ck_assert_float_eq(dn.net.norm_std[2 * 4], n5.norm_std[2 * 2]);           /* W_4: the output layer's */
    dws_depth_net_free(&dn);
    dws_net_free(&n5), dws_net_free(&n8), dws_net_free(&fixed);
}
END_TEST

/* Gradients w.r.t. the stored parameters, through the tie and the condition,
 * against central differences of <R, adapter(in)>. */
static void check_gradients(int L, uint64_t seed)
{
    dws_rng rng;
    dws_rng_seed(&rng, seed);
    dws_error err;
    dws_arch a;
    range_arch(&a, 5);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 9, &err), 0);
    th_randomise_net(&net, &rng);
    for (size_t j = net.cond_table; j < net.cond_act + 4 * 5; j++) net.params[j] *= 0.3f;   /* FiLM near 1 */
    int64_t w[8];
    widths_of(L, w);
    dws_ws in, out, R;
    th_random_ws(&in, L, w, 2, &rng);
    dws_ws_init(&out, L, w, 2, 1, &err);
    dws_ws_init(&R, L, w, 2, 1, &err);
    th_fill_normal(R.data, R.n_floats, 1.f, &rng);

    dws_depth_net dn;
    ck_assert_int_eq(dws_depth_net_make(&dn, &net, L, &err), 0);
    dws_cond_net *cn = malloc(sizeof *cn);
    ck_assert_int_eq(dws_cond_net_make(cn, &dn.net, &FOG, &err), 0);
    dws_net_state *st = dws_net_state_new(1, 1);
    ck_assert_int_eq(dws_adapter_forward(&cn->net, &in, &out, st, &err), 0);
    float *g_eff = calloc(dn.net.n_params, sizeof(float)), *g_depth = calloc(dn.net.n_params, sizeof(float)),
          *grads = calloc(net.n_params, sizeof(float));
    ck_assert_int_eq(dws_adapter_backward(&cn->net, st, &R, g_eff, NULL, &err), 0);
    dws_cond_net_backward(cn, &dn.net, g_eff, g_depth);
    dws_depth_net_backward(&dn, g_depth, grads);
    dws_net_state_free(st);
    dws_cond_net_free(cn);
    free(cn);
    dws_depth_net_free(&dn);

    const char *names[] = {"layer0.E0", "layer1.E1", "layer1.Mint", "layer0.Mone", "layer1.M2", "layer1.G",
                           "layer2.bias", "adapter.alpha", "cond.alpha", "cond.act"};
    float *u = calloc(net.n_params, sizeof(float)), *base = malloc(sizeof(float) * net.n_params);
    memcpy(base, net.params, sizeof(float) * net.n_params);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const dws_param_tensor *t = dws_param_table_find(&net.table, names[k]);
        ck_assert_ptr_nonnull(t);
        double gn = sqrt(th_dot(grads + t->offset, grads + t->offset, t->count));
        int unused = (L == 2 && (!strcmp(names[k], "layer1.E1") || !strcmp(names[k], "layer1.M2"))) ||
                     (L < 4 && strstr(names[k], "Mint")) || (L != 2 && strstr(names[k], "Mone"));
        if (unused) {
            ck_assert_msg(gn == 0, "depth %d: %s has a gradient", L, names[k]);
            continue;
        }
        ck_assert_msg(gn > 0, "depth %d: %s has no gradient", L, names[k]);
        memset(u, 0, sizeof(float) * net.n_params);
        for (size_t j = 0; j < t->count; j++)
            u[t->offset + j] = (float)(grads[t->offset + j] / gn + 0.3 * dws_rng_normal(&rng) / sqrt((double)t->count));
        double h = 1e-3, f[2];
        for (int side = 0; side < 2; side++) {
            for (size_t j = 0; j < net.n_params; j++) net.params[j] = base[j] + (float)(side ? -h : h) * u[j];
            run_depth(&net, &FOG, &in, &out);
            f[side] = th_dot(R.data, out.data, out.n_floats);
        }
        memcpy(net.params, base, sizeof(float) * net.n_params);
        double numeric = (f[0] - f[1]) / (2 * h), analytic = th_dot(grads + t->offset, u + t->offset, t->count);
        ck_assert_msg(fabs(numeric - analytic) <= 2e-2 * fabs(analytic) + 1e-4, "depth %d, %s: analytic %g, numeric %g",
                      L, names[k], analytic, numeric);
    }
    free(u), free(base), free(g_eff), free(g_depth), free(grads);
    dws_ws_free(&in), dws_ws_free(&out), dws_ws_free(&R);
    dws_net_free(&net);
}

START_TEST(tied_gradients_match_finite_differences)
{
    check_gradients(2, 21);
    check_gradients(4, 22);
    check_gradients(5, 23);
}
END_TEST

/* Permuting the hidden neurons of the input permutes the output alike, at every depth. */
START_TEST(every_depth_is_equivariant)
{
    dws_rng rng;
    dws_rng_seed(&rng, 12);
    dws_error err;
    dws_arch a;
    range_arch(&a, 5);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 2, &err), 0);
    th_randomise_net(&net, &rng);
    for (int L = 2; L <= 5; L++) {
        int64_t w[8];
        widths_of(L, w);
        dws_ws in, pin, out, pout, want;
        th_random_ws(&in, L, w, 1, &rng);
        dws_ws_init(&pin, L, w, 1, 1, &err);
        dws_ws_init(&out, L, w, 1, 1, &err);
        dws_ws_init(&pout, L, w, 1, 1, &err);
        dws_ws_init(&want, L, w, 1, 1, &err);
        dws_perm g;
        ck_assert_int_eq(dws_perm_random(&g, L, w, &rng, &err), 0);
        dws_perm_apply_ws(&g, &in, &pin);
        run_depth(&net, &FOG, &in, &out);
        run_depth(&net, &FOG, &pin, &pout);
        dws_perm_apply_ws(&g, &out, &want);
        double e = th_rel_err(pout.data, want.data, want.n_floats);
        ck_assert_msg(e < 1e-5, "depth %d: equivariance error %g", L, e);
        double moved = th_rel_err(out.data, in.data, in.n_floats);
        ck_assert_msg(moved > 1e-3, "depth %d: the adapter left the weights alone", L);
        dws_perm_free(&g);
        dws_ws_free(&in), dws_ws_free(&pin), dws_ws_free(&out), dws_ws_free(&pout), dws_ws_free(&want);
    }
    dws_net_free(&net);
}
END_TEST

START_TEST(activation_rows_and_refusals)
{
    dws_error err;
    int64_t w[5];
    widths_of(3, w);
    dws_mlp m;
    ck_assert_int_eq(dws_mlp_init(&m, 3, w, &err), 0);
    int n;
    const dws_activation *acts = dws_cond_activations(&n);
    ck_assert_int_eq(n, 4);
    for (int r = 0; r < n; r++) {
        m.act[0] = m.act[1] = acts[r];
        m.leaky_alpha[0] = m.leaky_alpha[1] = DWS_COND_LEAKY_SLOPE;
        ck_assert_int_eq(dws_cond_activation_row(&m, 4, &err), r);
    }
    m.act[0] = m.act[1] = DWS_ACT_GELU;
    ck_assert_int_eq(dws_cond_activation_row(&m, 1, &err), -1);   /* a ReLU-only table */
    ck_assert_ptr_nonnull(strstr(err.message, "gelu"));
    m.act[0] = m.act[1] = DWS_ACT_SIGMOID;
    ck_assert_int_eq(dws_cond_activation_row(&m, 4, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INCOMPATIBLE_MODEL);
    m.act[1] = DWS_ACT_RELU;
    ck_assert_int_eq(dws_cond_activation_row(&m, 4, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "mix"));
    m.act[0] = m.act[1] = DWS_ACT_LEAKY_RELU;
    m.leaky_alpha[0] = m.leaky_alpha[1] = 0.2f;
    ck_assert_int_eq(dws_cond_activation_row(&m, 4, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "slope"));
    dws_mlp_free(&m);
    /* The row is read: two activations, two outputs; outside the table: refused. */
    dws_rng rng;
    dws_rng_seed(&rng, 5);
    dws_arch a;
    range_arch(&a, 5);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 3, &err), 0);
    th_randomise_net(&net, &rng);
    dws_ws in, o1, o2;
    th_random_ws(&in, 3, w, 1, &rng);
    dws_ws_init(&o1, 3, w, 1, 1, &err);
    dws_ws_init(&o2, 3, w, 1, 1, &err);
    dws_cond relu = FOG;
    relu.act = 0;
    run_depth(&net, &FOG, &in, &o1);
    run_depth(&net, &relu, &in, &o2);
    ck_assert(th_rel_err(o1.data, o2.data, o1.n_floats) > 1e-4);
    relu.act = 4;
    ck_assert_int_eq(dws_cond_check(&net, &relu, &err), -1);
    dws_ws_free(&in), dws_ws_free(&o1), dws_ws_free(&o2);
    dws_net_free(&net);
}
END_TEST

/* The warm start of the tied maps: M_one and M_int read M_1's and M_2's slot kinds. */
START_TEST(seeded_tied_maps_read_the_hidden_axes_maps)
{
    dws_error err;
    dws_arch a;
    range_arch(&a, 5);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 4, &err), 0);
    dws_rng rng;
    dws_rng_seed(&rng, 4);
    th_randomise_net(&net, &rng);
    dws_depth_seed(&net);
    const dws_layer *ly = &net.layers[1];   /* 4 -> 4 channels */
    const int ci = ly->c_in, co = ly->c_out, g = 3, k = 3, f1 = g + 2, f2 = k + 2, f = g + 1 + k;
    const float *M1 = net.params + ly->M[1], *M2 = net.params + ly->M[2], *one = net.params + net.M_one[1],
                *mid = net.params + net.M_int[1];
#define AT(M, F, a, b, i, o) (M)[((size_t)(a) * ci + (i)) * (size_t)((F) * co) + (size_t)(b) * co + (o)]
    for (int i = 0; i < ci; i++)
        for (int o = 0; o < co; o++) {
            ck_assert_float_eq(AT(one, f, 1, 2, i, o), AT(M1, f1, 1, 2, i, o));            /* input group rows */
            ck_assert_float_eq(AT(one, f, g + 2, g, i, o), AT(M2, f2, 3, 1, i, o));        /* class column -> bias */
            ck_assert_float_eq(AT(one, f, 0, g + 1, i, o), 0.f);                           /* no neighbour has it */
            float bb = (AT(M1, f1, g, g, i, o) + AT(M2, f2, 1, 1, i, o)) / 2;
            ck_assert(fabsf(AT(one, f, g, g, i, o) - bb) <= 1e-6f * (1 + fabsf(bb)));
            float rb = (AT(M2, f2, 0, 1, i, o) +
                        (AT(M1, f1, 0, g, i, o) + AT(M1, f1, 1, g, i, o) + AT(M1, f1, 2, g, i, o)) / 3) / 2;
            ck_assert(fabsf(AT(mid, 3, 0, 1, i, o) - rb) <= 1e-6f * (1 + fabsf(rb)));        /* row -> bias: both */
            ck_assert_float_eq(AT(mid, 3, 2, 2, i, o), AT(M1, f1, g + 1, g + 1, i, o));    /* column -> column */
            float rows = (AT(M1, f1, 0, g + 1, i, o) + AT(M1, f1, 1, g + 1, i, o) + AT(M1, f1, 2, g + 1, i, o)) / 3;
            ck_assert(fabsf(AT(mid, 3, 0, 2, i, o) - rows) <= 1e-6f * (1 + fabsf(rows)));  /* groups averaged */
        }
#undef AT
    dws_net_free(&net);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        one_parameter_set_for_every_depth,
        tied_gradients_match_finite_differences,
        every_depth_is_equivariant,
        activation_rows_and_refusals,
        seeded_tied_maps_read_the_hidden_axes_maps,
    };
    return th_run_tests("dws_depth", tests, (int)(sizeof tests / sizeof *tests));
}
