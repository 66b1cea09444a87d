/* Backward passes against central finite differences, for every parameter tensor
 * and for the input.
 *
 * A single DWS layer without activation is linear in its parameters and in its
 * input, so a central difference is exact up to float rounding whatever the step:
 * the check uses a unit step and a 1e-4 relative tolerance, per tensor along a
 * random direction and on single entries.
 * The adapter and encoder are piecewise linear in any one parameter tensor and in
 * their input (ReLU): the check picks a step whose two ends keep every ReLU on
 * its side, so the difference is exact up to float rounding again. Through four
 * float layers that rounding is ~1e-6 of the loss, so the direction is the
 * gradient itself plus an equal random part (a large derivative, and any error
 * of the gradient shows), and the tolerance is 1e-2 plus a bound on the rounding
 * (NOISE_ULPS): what the whole-network check is for (masks, normalisation,
 * residual, head, buffer reuse) fails by O(1), and the per-layer check above is
 * exact. Every tensor must also get a nonzero gradient: every block is on. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws/dws_layer.h"
#include "ws/ws.h"
#include "helper_dws.h"
#include "ws/ws_pass.h"

/* Channels 3 take the generic loops, 8 the eight-channel register-blocked ones. */
static void small_arch(dws_arch *a, dws_model_kind kind, int channels)
{
    dws_arch_default(a, kind);
    a->depth = 3;
    a->d0 = 3 * 4 * 4;
    a->image = (dws_image_shape){3, 4, 4};
    a->dL = 3;
    a->channels = channels;
    a->n_dws_layers = 3;
    a->embed_dim = 4;
    a->mlp_hidden = 6;
}

static const int64_t WIDTHS[] = {48, 5, 4, 3};

/* ---- one linear layer ---- */

typedef struct {
    const dws_layer *ly;
    dws_axes ax;
    dws_ws X, Y, R, dX;
    dws_pool PX, PR;
    dws_exec ex;
} layer_case;

/* <R, layer(X)> with the pooled input recomputed from X. */
static double layer_loss(layer_case *c, const float *params)
{
    dws_error err;
    ck_assert_int_eq(dws_pass_pool(&c->ax, &c->X, &c->PX, 1, 1, &c->ex.work, &err), 0);
    ck_assert_int_eq(dws_layer_forward(c->ly, params, &c->X, &c->PX, 0, &c->Y, NULL, &c->ex, &err), 0);
    return th_dot(c->R.data, c->Y.data, c->Y.n_floats);
}

/* |analytic - numeric| <= tol * max(|analytic|, |numeric|) + floor */
static void check_close(double analytic, double numeric, double tol, double floor, const char *what)
{
    double scale = fmax(fabs(analytic), fabs(numeric));
    ck_assert_msg(fabs(analytic - numeric) <= tol * scale + floor, "%s: analytic %.8g, finite difference %.8g (floor %.2g)",
                  what, analytic, numeric, floor);
}

START_TEST(linear_layer_gradients_are_exact)
{
    /* _i odd: the middle layer (c -> c); even: the first (1 -> c); _i >= 2: c = 8. */
    const int layer = _i % 2;
    dws_rng rng;
    dws_rng_seed(&rng, 41 + (uint64_t)_i);
    dws_error err;
    dws_arch a;
    small_arch(&a, DWS_MODEL_ENCODER, _i >= 2 ? 8 : 3);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 3, &err), 0);
    th_randomise_net(&net, &rng);
    layer_case c = {.ly = &net.layers[layer], .ex = {.threads = 2}};
    ck_assert_int_eq(dws_axes_init(&c.ax, 3, WIDTHS, 3, &err), 0);
    const int B = 2, ci = c.ly->c_in, co = c.ly->c_out;
    dws_ws_init(&c.X, 3, WIDTHS, B, ci, &err);
    dws_ws_init(&c.dX, 3, WIDTHS, B, ci, &err);
    dws_ws_init(&c.Y, 3, WIDTHS, B, co, &err);
    dws_ws_init(&c.R, 3, WIDTHS, B, co, &err);
    dws_pool_init(&c.PX, &c.ax, B, ci, &err);
    dws_pool_init(&c.PR, &c.ax, B, co, &err);
    th_fill_normal(c.X.data, c.X.n_floats, 1.f, &rng);
    th_fill_normal(c.R.data, c.R.n_floats, 1.f, &rng);

    float *grads = calloc(net.n_params, sizeof(float));
    layer_loss(&c, net.params);
    ck_assert_int_eq(dws_pass_pool(&c.ax, &c.R, &c.PR, 0, 1, &c.ex.work, &err), 0);
    ck_assert_int_eq(dws_layer_backward(c.ly, net.params, grads, &c.X, &c.PX, &c.R, &c.PR, 0, &c.dX, NULL, &c.ex, &err),
                     0);

    char prefix[16];
    snprintf(prefix, sizeof prefix, "layer%d.", layer);
    float *p = malloc(sizeof(float) * net.n_params), *u = malloc(sizeof(float) * net.n_params);
    int checked = 0;
    for (int i = 0; i < net.table.n; i++) {
        const dws_param_tensor *t = &net.table.t[i];
        if (strncmp(t->name, prefix, strlen(prefix)) != 0) continue;
        checked++;
        memset(u, 0, sizeof(float) * net.n_params);
        th_fill_normal(u + t->offset, t->count, 1.f, &rng);
        for (size_t j = 0; j < net.n_params; j++) p[j] = net.params[j] + u[j];
        double up = layer_loss(&c, p);
        for (size_t j = 0; j < net.n_params; j++) p[j] = net.params[j] - u[j];
        double down = layer_loss(&c, p);
        check_close(th_dot(grads + t->offset, u + t->offset, t->count), (up - down) / 2, 1e-4, 1e-7, t->name);
        for (int probe = 0; probe < 3; probe++) {   /* single entries */
            size_t j = t->offset + (size_t)dws_rng_below(&rng, t->count);
            memcpy(p, net.params, sizeof(float) * net.n_params);
            p[j] += 1.f;
            up = layer_loss(&c, p);
            p[j] -= 2.f;
            down = layer_loss(&c, p);
            check_close(grads[j], (up - down) / 2, 1e-4, 1e-7, t->name);
        }
    }
    ck_assert_int_ge(checked, 6);
    /* Input: along a random direction. */
    float *x0 = malloc(sizeof(float) * c.X.n_floats), *ux = malloc(sizeof(float) * c.X.n_floats);
    memcpy(x0, c.X.data, sizeof(float) * c.X.n_floats);
    th_fill_normal(ux, c.X.n_floats, 1.f, &rng);
    for (size_t j = 0; j < c.X.n_floats; j++) c.X.data[j] = x0[j] + ux[j];
    double up = layer_loss(&c, net.params);
    for (size_t j = 0; j < c.X.n_floats; j++) c.X.data[j] = x0[j] - ux[j];
    double down = layer_loss(&c, net.params);
    check_close(th_dot(c.dX.data, ux, c.X.n_floats), (up - down) / 2, 1e-4, 1e-7, "input");

    free(x0), free(ux), free(p), free(u), free(grads);
    dws_ws_free(&c.X), dws_ws_free(&c.dX), dws_ws_free(&c.Y), dws_ws_free(&c.R);
    dws_pool_free(&c.PX), dws_pool_free(&c.PR);
    dws_exec_free(&c.ex);
    dws_net_free(&net);
}
END_TEST

/* Backward through a ReLU input: dX is the unmasked gradient where X > 0, and
 * PdX holds exactly the pooled sums of that dX. */
START_TEST(masked_backward_and_its_pooled_sums)
{
    dws_rng rng;
    dws_rng_seed(&rng, 9);
    dws_error err;
    dws_arch a;
    small_arch(&a, DWS_MODEL_ENCODER, 8);
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 3, &err), 0);
    th_randomise_net(&net, &rng);
    const dws_layer *ly = &net.layers[1];
    dws_axes ax;
    ck_assert_int_eq(dws_axes_init(&ax, 3, WIDTHS, 3, &err), 0);
    const int B = 2, ci = ly->c_in, co = ly->c_out;
    dws_ws X, G, dX, dXm, expect;
    dws_pool PX, PG, PdX, Pexpect;
    dws_ws_init(&X, 3, WIDTHS, B, ci, &err), dws_ws_init(&G, 3, WIDTHS, B, co, &err);
    dws_ws_init(&dX, 3, WIDTHS, B, ci, &err), dws_ws_init(&dXm, 3, WIDTHS, B, ci, &err);
    dws_ws_init(&expect, 3, WIDTHS, B, ci, &err);
    dws_pool_init(&PX, &ax, B, ci, &err), dws_pool_init(&PG, &ax, B, co, &err);
    dws_pool_init(&PdX, &ax, B, ci, &err), dws_pool_init(&Pexpect, &ax, B, ci, &err);
    th_fill_normal(X.data, X.n_floats, 1.f, &rng);
    for (size_t j = 0; j < X.n_floats; j++) X.data[j] = X.data[j] > 0.f ? X.data[j] : 0.f;   /* a ReLU output */
    th_fill_normal(G.data, G.n_floats, 1.f, &rng);
    dws_exec ex = {.threads = 3};
    float *grads = calloc(net.n_params, sizeof(float));
    ck_assert_int_eq(dws_pass_pool(&ax, &X, &PX, 1, 1, &ex.work, &err), 0);
    ck_assert_int_eq(dws_pass_pool(&ax, &G, &PG, 0, 1, &ex.work, &err), 0);
    ck_assert_int_eq(dws_layer_backward(ly, net.params, grads, &X, &PX, &G, &PG, 0, &dX, NULL, &ex, &err), 0);
    ck_assert_int_eq(dws_layer_backward(ly, net.params, grads, &X, &PX, &G, &PG, 1, &dXm, &PdX, &ex, &err), 0);
    size_t zeroed = 0;
    for (size_t j = 0; j < X.n_floats; j++) {
        expect.data[j] = X.data[j] > 0.f ? dX.data[j] : 0.f;
        zeroed += X.data[j] == 0.f;
    }
    ck_assert(zeroed > X.n_floats / 4);
    ck_assert(memcmp(expect.data, dXm.data, sizeof(float) * X.n_floats) == 0);
    ck_assert_int_eq(dws_pass_pool(&ax, &expect, &Pexpect, 0, 1, &ex.work, &err), 0);
    ck_assert(memcmp(Pexpect.data, PdX.data, sizeof(float) * PdX.n_floats) == 0);
    free(grads);
    dws_ws_free(&X), dws_ws_free(&G), dws_ws_free(&dX), dws_ws_free(&dXm), dws_ws_free(&expect);
    dws_pool_free(&PX), dws_pool_free(&PG), dws_pool_free(&PdX), dws_pool_free(&Pexpect);
    dws_exec_free(&ex);
    dws_net_free(&net);
}
END_TEST

/* ---- whole networks ---- */

/* A bound on the float rounding of each output, in units in the last place.
 * (Loose: the differences measured stay below 1/100 of the bound it gives.) */
#define NOISE_ULPS 4

typedef struct {
    dws_net *net;
    dws_ws *in;
    dws_ws out;        /* adapter */
    float *emb;        /* encoder */
    float *R;          /* loss weights on the output */
    size_t n_out;
    double noise_abs;  /* rounding bound of the last loss, in units of FLT_EPSILON */
    dws_net_state *st;
} net_case;

static double net_loss(net_case *c)
{
    dws_error err;
    const float *out = c->emb;
    if (c->net->arch.kind == DWS_MODEL_ADAPTER) {
        ck_assert_int_eq(dws_adapter_forward(c->net, c->in, &c->out, c->st, &err), 0);
        out = c->out.data;
    } else {
        ck_assert_int_eq(dws_encoder_forward(c->net, c->in, c->emb, c->st, &err), 0);
    }
    /* The network's part is NOISE_ULPS-rounded; the adapter's identity path
     * (out = in + alpha std F) only by the final addition. */
    c->noise_abs = 0;
    for (size_t j = 0; j < c->n_out; j++) {
        double net_part = out == c->emb ? out[j] : (double)out[j] - c->in->data[j];
        c->noise_abs += fabs((double)c->R[j]) * (fabs((double)out[j]) + NOISE_ULPS * fabs(net_part));
    }
    return th_dot(c->R, out, c->n_out);
}

/* On/off pattern of every ReLU of the last forward (hidden DWS activations and
 * the encoder's MLP); out may be NULL to count. */
static size_t relu_pattern(const net_case *c, unsigned char *out)
{
    size_t n = 0;
    const dws_arch *a = &c->net->arch;
    int last = a->kind == DWS_MODEL_ADAPTER ? a->n_dws_layers - 1 : a->n_dws_layers;
    for (int t = 1; t <= last; t++) {
        const dws_ws *x = dws_net_state_activation(c->st, t);
        for (size_t j = 0; j < x->n_floats; j++, n++)
            if (out) out[n] = x->data[j] > 0.f;
    }
    if (a->kind == DWS_MODEL_ENCODER) {
        const float *h = dws_net_state_encoder_hidden(c->st);
        for (size_t j = 0; j < (size_t)c->in->batch * a->mlp_hidden; j++, n++)
            if (out) out[n] = h[j] > 0.f;
    }
    return n;
}

/* Central difference of the loss along u (same length as v), with the largest
 * step h0 / 2^k whose two ends keep every ReLU on the side it is at v: the
 * loss is then linear in between and the difference exact up to rounding, which
 * *noise bounds. */
static double directional(net_case *c, float *v, const float *u, size_t n, float h0, double *noise)
{
    size_t np = relu_pattern(c, NULL);
    unsigned char *p0 = malloc(np + 1), *p1 = malloc(np + 1);
    float *v0 = malloc(sizeof(float) * n);
    memcpy(v0, v, sizeof(float) * n);
    net_loss(c);
    relu_pattern(c, p0);
    double result = NAN;
    float h = h0;
    for (int tries = 0; tries < 16 && isnan(result); tries++, h /= 2) {
        for (size_t j = 0; j < n; j++) v[j] = v0[j] + h * u[j];
        double up = net_loss(c);
        int same = memcmp(p0, p1, relu_pattern(c, p1)) == 0;
        for (size_t j = 0; j < n; j++) v[j] = v0[j] - h * u[j];
        double down = net_loss(c);
        same = same && memcmp(p0, p1, relu_pattern(c, p1)) == 0;
        if (same) {
            result = (up - down) / (2.0 * h);
            *noise = FLT_EPSILON * c->noise_abs / h;
        }
    }
    memcpy(v, v0, sizeof(float) * n);
    free(v0), free(p0), free(p1);
    ck_assert_msg(!isnan(result), "no step keeps the ReLU pattern");
    return result;
}

/* u = g / |g| + r / |r| for a random r; 0 when g is zero. */
static int gradient_direction(const float *g, size_t n, float *u, dws_rng *rng)
{
    double gn = sqrt(th_dot(g, g, n));
    if (gn == 0) return 0;
    th_fill_normal(u, n, 1.f, rng);
    double rn = sqrt(th_dot(u, u, n));
    for (size_t j = 0; j < n; j++) u[j] = (float)(g[j] / gn + u[j] / rn);
    return 1;
}

/* probes > 0: the encoder's probe features, over networks with tanh hidden
 * activations (smooth, so no kink of theirs breaks the difference, which the
 * ReLU pattern above does not watch). */
static void check_net(dws_model_kind kind, int channels, int probes, uint64_t seed)
{
    dws_rng rng;
    dws_rng_seed(&rng, seed);
    dws_error err;
    dws_arch a;
    small_arch(&a, kind, channels);
    a.probes = probes;
    a.probe_scale = 0.7f;
    a.head_skip = probes > 0;
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, seed, &err), 0);
    th_randomise_net(&net, &rng);
    const int B = 2;
    dws_ws in, d_in;
    th_random_ws(&in, 3, WIDTHS, B, &rng);
    for (int l = 0; probes && l < 2; l++) in.act[l] = DWS_ACT_TANH;
    dws_ws_init(&d_in, 3, WIDTHS, B, 1, &err);
    net_case c = {.net = &net, .in = &in, .st = dws_net_state_new(2, 1)};
    c.n_out = kind == DWS_MODEL_ADAPTER ? in.n_floats : (size_t)B * a.embed_dim;
    dws_ws_init(&c.out, 3, WIDTHS, B, 1, &err);
    c.emb = malloc(sizeof(float) * (size_t)B * a.embed_dim);
    c.R = malloc(sizeof(float) * c.n_out);
    th_fill_normal(c.R, c.n_out, 1.f, &rng);

    float *grads = calloc(net.n_params, sizeof(float));
    net_loss(&c);
    if (kind == DWS_MODEL_ADAPTER) {
        dws_ws R = c.out;
        R.data = c.R;
        R.owns_data = 0;
        ck_assert_int_eq(dws_adapter_backward(&net, c.st, &R, grads, &d_in, &err), 0);
    } else {
        ck_assert_int_eq(dws_encoder_backward(&net, c.st, c.R, grads, &d_in, &err), 0);
    }

    float *u = malloc(sizeof(float) * net.n_params);
    for (int i = 0; i < net.table.n; i++) {
        const dws_param_tensor *t = &net.table.t[i];
        ck_assert_msg(gradient_direction(grads + t->offset, t->count, u, &rng), "%s has a zero gradient", t->name);
        double step = 1e-2 * sqrt(th_dot(net.params + t->offset, net.params + t->offset, t->count));
        double noise, numeric = directional(&c, net.params + t->offset, u, t->count, (float)step, &noise);
        check_close(th_dot(grads + t->offset, u, t->count), numeric, 1e-2, noise, t->name);
    }
    float *ux = malloc(sizeof(float) * in.n_floats);
    ck_assert(gradient_direction(d_in.data, in.n_floats, ux, &rng));
    double noise, step = 1e-2 * sqrt(th_dot(in.data, in.data, in.n_floats));
    double numeric = directional(&c, in.data, ux, in.n_floats, (float)step, &noise);
    check_close(th_dot(d_in.data, ux, in.n_floats), numeric, 1e-2, noise, "input");

    free(u), free(ux), free(grads), free(c.emb), free(c.R);
    dws_net_state_free(c.st);
    dws_ws_free(&c.out), dws_ws_free(&in), dws_ws_free(&d_in);
    dws_net_free(&net);
}

START_TEST(adapter_gradients)
{
    check_net(DWS_MODEL_ADAPTER, _i ? 8 : 3, 0, 77);
}
END_TEST

START_TEST(encoder_gradients)
{
    /* (Seed 78 draws a case where every last-layer W_1 unit is off after the ReLU,
     * so E1 of that layer has no gradient to check.) */
    check_net(DWS_MODEL_ENCODER, _i ? 8 : 3, _i == 2 ? 5 : 0, 79);
}
END_TEST

/* <R, projection(emb)> */
static double proj_loss(const dws_net *net, const float *emb, int B, const float *R, float *hid, float *z)
{
    dws_projection_forward(net, emb, B, hid, z);
    return th_dot(R, z, (size_t)B * net->arch.embed_dim);
}

/* The training-only projection head: every tensor and the embedding against
 * central differences, with steps small enough to keep every ReLU on its side
 * (checked), so the difference is exact up to rounding. */
START_TEST(projection_head_gradients)
{
    dws_rng rng;
    dws_rng_seed(&rng, 81);
    dws_error err;
    dws_arch a;
    small_arch(&a, DWS_MODEL_ENCODER, 3);
    a.proj_hidden = 7;
    dws_net net;
    ck_assert_int_eq(dws_net_init(&net, &a, 81, &err), 0);
    th_randomise_net(&net, &rng);
    const int B = 3, D = a.embed_dim, P = a.proj_hidden;
    float emb[3 * 4], R[3 * 4], z[3 * 4], d_emb[3 * 4], hid[3 * 7], hid2[3 * 7], d_hid[3 * 7];
    th_fill_normal(emb, (size_t)B * D, 1.f, &rng);
    th_fill_normal(R, (size_t)B * D, 1.f, &rng);
    float *grads = calloc(net.n_params, sizeof(float));
    proj_loss(&net, emb, B, R, hid, z);
    dws_projection_backward(&net, emb, hid, B, R, grads, d_emb, d_hid);
    struct { float *v; const float *g; size_t n; const char *name; } cases[] = {
        {net.params + net.proj1_W, grads + net.proj1_W, (size_t)P * D, "proj1.W"},
        {net.params + net.proj1_b, grads + net.proj1_b, (size_t)P, "proj1.b"},
        {net.params + net.proj2_W, grads + net.proj2_W, (size_t)D * P, "proj2.W"},
        {net.params + net.proj2_b, grads + net.proj2_b, (size_t)D, "proj2.b"},
        {emb, d_emb, (size_t)B * D, "embedding"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t j = 0; j < cases[c].n; j += 3) {
            float v0 = cases[c].v[j], h = 1e-2f;
            double numeric = NAN;
            for (int tries = 0; tries < 12 && isnan(numeric); tries++, h /= 2) {
                cases[c].v[j] = v0 + h;
                double up = proj_loss(&net, emb, B, R, hid2, z);
                int same = 1;
                for (int k = 0; k < B * P; k++) same &= (hid2[k] > 0.f) == (hid[k] > 0.f);
                cases[c].v[j] = v0 - h;
                double down = proj_loss(&net, emb, B, R, hid2, z);
                for (int k = 0; k < B * P; k++) same &= (hid2[k] > 0.f) == (hid[k] > 0.f);
                if (same) numeric = (up - down) / (2.0 * h);
            }
            cases[c].v[j] = v0;
            ck_assert_msg(!isnan(numeric), "%s[%zu]: no step keeps the ReLU pattern", cases[c].name, j);
            check_close(cases[c].g[j], numeric, 2e-3, 1e-4, cases[c].name);
        }
    free(grads);
    dws_net_free(&net);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dws_gradcheck");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, linear_layer_gradients_are_exact, 0, 4);
    tcase_add_test(tc, masked_backward_and_its_pooled_sums);
    tcase_add_loop_test(tc, adapter_gradients, 0, 2);
    tcase_add_loop_test(tc, encoder_gradients, 0, 3);
    tcase_add_test(tc, projection_head_gradients);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
