/* The adapter's input map (ws/input_map.h): the forward is the plane-mixing
 * convolution and shift it says, written out naively here; its backward matches
 * finite differences for the rows, the map and the shift; an adapter whose map is
 * zero returns what the same adapter without a map returns, bit for bit (a warm
 * start from a model without one begins where it was); and the adapter's gradient
 * w.r.t. its input MLP goes back through the map. (Equivariance and the conditioned
 * map's gradients: test_dws_cond.) */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helper_check.h"
#include "helper_dws.h"
#include "ws/input_map.h"
#include "ws/ws.h"

/* A 3-plane image that is not square, so rows and columns cannot be confused. */
static const dws_image_shape IM = {3, 4, 5};
#define D (3 * 4 * 5)

/* z = row + sum_p sum_taps mix[o][p][dy][dx] row[p][y + dy - r][x + dx - r], zero outside. */
static void naive(int k, const float *mix, const float *row, float *z)
{
    const int r = k / 2;
    for (int o = 0; o < 3; o++)
        for (int y = 0; y < IM.h; y++)
            for (int x = 0; x < IM.w; x++) {
                double s = row[(o * IM.h + y) * IM.w + x];
                for (int p = 0; p < 3; p++)
                    for (int dy = 0; dy < k; dy++)
                        for (int dx = 0; dx < k; dx++) {
                            int yy = y + dy - r, xx = x + dx - r;
                            if (yy < 0 || yy >= IM.h || xx < 0 || xx >= IM.w) continue;
                            s += (double)mix[((o * 3 + p) * k + dy) * k + dx] * row[(p * IM.h + yy) * IM.w + xx];
                        }
                z[(o * IM.h + y) * IM.w + x] = (float)s;
            }
}

START_TEST(forward_is_the_plane_mixing_convolution_and_shift)
{
    dws_rng rng;
    dws_rng_seed(&rng, 1);
    for (int k = 1; k <= 5; k += 2) {
        float mix[3 * 3 * 25], shift[D], rows[2 * D], b[2] = {0.5f, -1.f}, want[2 * D];
        th_fill_normal(mix, (size_t)(9 * k * k), 0.4f, &rng);
        th_fill_normal(shift, D, 1.f, &rng);
        th_fill_normal(rows, 2 * D, 1.f, &rng);
        for (int i = 0; i < 2; i++) naive(k, mix, rows + i * D, want + i * D);
        float *scratch = malloc(sizeof(float) * dws_inmap_scratch_floats(&IM, k));
        dws_inmap_forward(&IM, k, mix, shift, rows, b, 2, scratch);
        ck_assert_msg(th_rel_err(rows, want, 2 * D) < 1e-5, "k %d: rows differ", k);
        for (int i = 0; i < 2; i++) {
            double s = i == 0 ? 0.5 : -1.0;
            for (int j = 0; j < D; j++) s += (double)want[i * D + j] * shift[j];
            ck_assert_msg(fabs(b[i] - s) < 1e-4 * (1 + fabs(s)), "k %d: bias %d is %g, want %g", k, i, b[i], s);
        }
        free(scratch);
    }
}
END_TEST

/* <G, rows after> + <gb, b after> for rows y, the map and shift given. */
static double map_loss(int k, const float *mix, const float *shift, const float *y, const float *G, const float *gb,
                       int n, float *scratch)
{
    float rows[3 * D], b[3] = {0};
    memcpy(rows, y, sizeof(float) * (size_t)(n * D));
    dws_inmap_forward(&IM, k, mix, shift, rows, b, n, scratch);
    return th_dot(G, rows, (size_t)(n * D)) + th_dot(gb, b, (size_t)n);
}

START_TEST(backward_matches_finite_differences)
{
    dws_rng rng;
    dws_rng_seed(&rng, 2);
    const int k = 3, n = 3, nm = 81;
    float mix[81], shift[D], y[3 * D], G[3 * D], gb[3], g[3 * D], g_mix[81] = {0}, g_shift[D] = {0};
    th_fill_normal(mix, nm, 0.3f, &rng);
    th_fill_normal(shift, D, 0.5f, &rng);
    th_fill_normal(y, 3 * D, 1.f, &rng);
    th_fill_normal(G, 3 * D, 1.f, &rng);
    th_fill_normal(gb, 3, 1.f, &rng);
    float *scratch = malloc(sizeof(float) * dws_inmap_scratch_floats(&IM, k));
    memcpy(g, G, sizeof g);
    /* The two halves over all rows at once, the rows' kernel gradients summed in order
     * (as the adapter's backward does in parts). */
    float g_mix_rows[3 * 81];
    dws_inmap_backward_shift(&IM, k, mix, y, gb, n, g_shift, scratch);
    dws_inmap_backward_rows(&IM, k, mix, shift, y, g, gb, n, g_mix_rows, scratch);
    for (int i = 0; i < n; i++)
        for (int t = 0; t < nm; t++) g_mix[t] += g_mix_rows[i * nm + t];
    /* The loss is linear in each of y, mix and shift alone: a central difference
     * along a random direction is exact up to rounding. */
    struct {
        const char *name;
        float *x, *grad;
        int count;
    } wrt[] = {{"rows", y, g, 3 * D}, {"mix", mix, g_mix, nm}, {"shift", shift, g_shift, D}};
    for (int w = 0; w < 3; w++) {
        float u[3 * D], keep[3 * D];
        th_fill_normal(u, (size_t)wrt[w].count, 1.f, &rng);
        memcpy(keep, wrt[w].x, sizeof(float) * (size_t)wrt[w].count);
        const double h = 1e-2;
        for (int j = 0; j < wrt[w].count; j++) wrt[w].x[j] = keep[j] + (float)h * u[j];
        double up = map_loss(k, mix, shift, y, G, gb, n, scratch);
        for (int j = 0; j < wrt[w].count; j++) wrt[w].x[j] = keep[j] - (float)h * u[j];
        double down = map_loss(k, mix, shift, y, G, gb, n, scratch);
        memcpy(wrt[w].x, keep, sizeof(float) * (size_t)wrt[w].count);
        double numeric = (up - down) / (2 * h), analytic = th_dot(wrt[w].grad, u, (size_t)wrt[w].count);
        ck_assert_msg(fabs(numeric - analytic) <= 1e-3 * (fabs(analytic) + 1), "%s: analytic %g, numeric %g",
                      wrt[w].name, analytic, numeric);
    }
    free(scratch);
}
END_TEST

static void map_arch(dws_arch *a, int input_map)
{
    dws_arch_default(a, DWS_MODEL_ADAPTER);
    a->d0 = D;
    a->image = IM;
    a->dL = 3;
    a->channels = 4;
    a->n_dws_layers = 2;
    a->input_map = input_map;
}

static const int64_t WIDTHS[] = {D, 6, 5, 3};

/* An adapter with a 3x3 input map, every parameter random. */
static void random_map_net(dws_net *net, uint64_t seed, dws_rng *rng)
{
    dws_arch a;
    dws_error err;
    map_arch(&a, 3);
    ck_assert_int_eq(dws_net_init(net, &a, seed, &err), 0);
    th_randomise_net(net, rng);
}

static void run(const dws_net *net, const dws_ws *in, dws_ws *out, int keep)
{
    dws_error err;
    dws_net_state *st = dws_net_state_new(1, keep);
    ck_assert_int_eq(dws_adapter_forward(net, in, out, st, &err), 0);
    dws_net_state_free(st);
}

START_TEST(a_zero_map_changes_nothing)
{
    dws_rng rng;
    dws_rng_seed(&rng, 3);
    dws_error err;
    dws_arch a;
    dws_net with, without;
    map_arch(&a, 3);
    ck_assert_int_eq(dws_net_init(&with, &a, 5, &err), 0);
    map_arch(&a, 0);
    ck_assert_int_eq(dws_net_init(&without, &a, 5, &err), 0);
    /* The map's tensors come last: everything before them is the same network. */
    ck_assert_uint_eq(with.inmap_mix, without.n_params);
    th_randomise_net(&without, &rng);
    memcpy(with.params, without.params, sizeof(float) * without.n_params);
    memcpy(with.norm_mean, without.norm_mean, sizeof with.norm_mean);
    memcpy(with.norm_std, without.norm_std, sizeof with.norm_std);
    dws_ws in, o1, o2;
    th_random_ws(&in, 3, WIDTHS, 2, &rng);
    dws_ws_init(&o1, 3, WIDTHS, 2, 1, &err);
    dws_ws_init(&o2, 3, WIDTHS, 2, 1, &err);
    for (int keep = 0; keep < 2; keep++) {
        run(&with, &in, &o1, keep);
        run(&without, &in, &o2, keep);
        ck_assert(memcmp(o1.data, o2.data, sizeof(float) * o1.n_floats) == 0);
    }
    /* A nonzero map changes W_1 and b_1 only. */
    with.params[with.inmap_mix + 4] = 0.5f;
    with.params[with.inmap_shift + 7] = 0.25f;
    run(&with, &in, &o1, 0);
    for (int b = 0; b < 2; b++)
        for (int t = 0; t < 3; t++) {
            size_t n = (size_t)(WIDTHS[t + 1] * WIDTHS[t]), nb = (size_t)WIDTHS[t + 1];
            int same = !memcmp(dws_ws_W(&o1, t, b), dws_ws_W(&o2, t, b), n * sizeof(float)) &&
                       !memcmp(dws_ws_b(&o1, t, b), dws_ws_b(&o2, t, b), nb * sizeof(float));
            ck_assert_msg(same == (t > 0), "layer %d: changed %d", t + 1, !same);
        }
    dws_ws_free(&in), dws_ws_free(&o1), dws_ws_free(&o2);
    dws_net_free(&with), dws_net_free(&without);
}
END_TEST

/* d<R, adapter(in)>/d in against a central difference along a random direction. */
START_TEST(input_gradient_goes_through_the_map)
{
    dws_rng rng;
    dws_rng_seed(&rng, 4);
    dws_error err;
    dws_net net;
    random_map_net(&net, 6, &rng);
    dws_ws in, out, R, d_in, dir;
    th_random_ws(&in, 3, WIDTHS, 1, &rng);
    dws_ws_init(&out, 3, WIDTHS, 1, 1, &err);
    dws_ws_init(&R, 3, WIDTHS, 1, 1, &err);
    dws_ws_init(&d_in, 3, WIDTHS, 1, 1, &err);
    dws_ws_init(&dir, 3, WIDTHS, 1, 1, &err);
    th_fill_normal(R.data, R.n_floats, 1.f, &rng);
    th_fill_normal(dir.data, dir.n_floats, 1e-3f, &rng);
    dws_net_state *st = dws_net_state_new(1, 1);
    ck_assert_int_eq(dws_adapter_forward(&net, &in, &out, st, &err), 0);
    float *grads = calloc(net.n_params, sizeof(float));
    ck_assert_int_eq(dws_adapter_backward(&net, st, &R, grads, &d_in, &err), 0);
    double analytic = th_dot(d_in.data, dir.data, d_in.n_floats), loss[2];
    for (int s = 0; s < 2; s++) {
        dws_ws moved;
        dws_ws_init(&moved, 3, WIDTHS, 1, 1, &err);
        for (size_t j = 0; j < in.n_floats; j++) moved.data[j] = in.data[j] + (s ? -1.f : 1.f) * dir.data[j];
        run(&net, &moved, &out, 0);
        loss[s] = th_dot(R.data, out.data, out.n_floats);
        dws_ws_free(&moved);
    }
    double numeric = (loss[0] - loss[1]) / 2;
    ck_assert_msg(fabs(numeric - analytic) <= 2e-2 * fabs(analytic) + 1e-5, "analytic %g, numeric %g", analytic,
                  numeric);
    free(grads);
    dws_net_state_free(st);
    dws_ws_free(&in), dws_ws_free(&out), dws_ws_free(&R), dws_ws_free(&d_in), dws_ws_free(&dir);
    dws_net_free(&net);
}
END_TEST

/* The map's backward runs rows in parallel parts of 16: W_1 of 40 rows is three parts
 * per classifier. Every gradient has the same bits on 1, 2 and 3 threads. */
START_TEST(backward_bits_do_not_depend_on_threads)
{
    static const int64_t wide[] = {D, 40, 5, 3};
    dws_rng rng;
    dws_rng_seed(&rng, 5);
    dws_error err;
    dws_net net;
    random_map_net(&net, 7, &rng);
    dws_ws in, out, R, d_in[3];
    th_random_ws(&in, 3, wide, 2, &rng);
    dws_ws_init(&out, 3, wide, 2, 1, &err);
    dws_ws_init(&R, 3, wide, 2, 1, &err);
    th_fill_normal(R.data, R.n_floats, 1.f, &rng);
    float *grads[3];
    for (int t = 0; t < 3; t++) {
        dws_ws_init(&d_in[t], 3, wide, 2, 1, &err);
        grads[t] = calloc(net.n_params, sizeof(float));
        dws_net_state *st = dws_net_state_new(t + 1, 1);
        ck_assert_int_eq(dws_adapter_forward(&net, &in, &out, st, &err), 0);
        ck_assert_int_eq(dws_adapter_backward(&net, st, &R, grads[t], &d_in[t], &err), 0);
        dws_net_state_free(st);
    }
    float mix_sum = 0;
    for (size_t j = 0; j < 81; j++) mix_sum += fabsf(grads[0][net.inmap_mix + j]);
    ck_assert_msg(mix_sum > 0, "the map's kernel got no gradient");
    for (int t = 1; t < 3; t++) {
        ck_assert_msg(!memcmp(grads[t], grads[0], sizeof(float) * net.n_params), "%d threads: other gradients", t + 1);
        ck_assert_msg(!memcmp(d_in[t].data, d_in[0].data, sizeof(float) * d_in[0].n_floats),
                      "%d threads: another input gradient", t + 1);
    }
    for (int t = 0; t < 3; t++) free(grads[t]), dws_ws_free(&d_in[t]);
    dws_ws_free(&in), dws_ws_free(&out), dws_ws_free(&R);
    dws_net_free(&net);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        forward_is_the_plane_mixing_convolution_and_shift,
        backward_matches_finite_differences,
        a_zero_map_changes_nothing,
        input_gradient_goes_through_the_map,
        backward_bits_do_not_depend_on_threads,
    };
    return th_run_tests("input_map", tests, (int)(sizeof tests / sizeof *tests));
}
