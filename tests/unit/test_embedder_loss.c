/* The embedder's training signals against finite differences: NT-Xent's gradient
 * w.r.t. the embeddings, and the MSE gradient of an MLP (the sine INRs), which
 * shares its backward with the cross-entropy one. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helper_dws.h"
#include "mlp/mlp.h"
#include "learn/nt_xent.h"
#include "base/base.h"

static double loss_at(const float *z, int n, int d, float tau)
{
    float *dz = malloc(sizeof(float) * 2 * n * d), *ws = malloc(sizeof(float) * dws_nt_xent_ws_floats(n, d));
    double l = dws_nt_xent(z, n, d, tau, dz, NULL, ws);
    free(dz);
    free(ws);
    return l;
}

START_TEST(nt_xent_gradient_matches_finite_differences)
{
    const int n = 4, d = 5, m = 2 * n;
    const float tau = _i ? 0.1f : 0.5f;
    dws_rng rng;
    dws_rng_seed(&rng, 11 + _i);
    float z[2 * 4 * 5], dz[2 * 4 * 5], *ws = malloc(sizeof(float) * dws_nt_xent_ws_floats(n, d));
    th_fill_normal(z, (size_t)m * d, 1.f, &rng);
    double top1;
    double loss = dws_nt_xent(z, n, d, tau, dz, &top1, ws);
    ck_assert(isfinite(loss) && loss > 0);
    ck_assert(top1 >= 0 && top1 <= 1);
    double worst = 0, largest = 0;
    for (int j = 0; j < m * d; j++) {
        const float h = 1e-2f;
        float keep = z[j];
        z[j] = keep + h;
        double up = loss_at(z, n, d, tau);
        z[j] = keep - h;
        double down = loss_at(z, n, d, tau);
        z[j] = keep;
        double fd = (up - down) / (2 * h);
        worst = fmax(worst, fabs(fd - dz[j]));
        largest = fmax(largest, fabs(dz[j]));
    }
    ck_assert_msg(largest > 1e-3, "gradient is zero");
    ck_assert_msg(worst < 2e-3 + 1e-2 * largest, "NT-Xent gradient off by %g (largest %g)", worst, largest);
    free(ws);
}
END_TEST

/* Matching views (each pair identical, pairs orthogonal) give a loss near its
 * floor and top-1 of 1; a scale change of one embedding changes nothing (cosine). */
START_TEST(nt_xent_rewards_matching_views)
{
    const int n = 3, d = 3;
    float z[18] = {0}, dz[18], *ws = malloc(sizeof(float) * dws_nt_xent_ws_floats(n, d));
    for (int i = 0; i < n; i++) z[i * d + i] = z[(n + i) * d + i] = 1.f;
    double top1, matched = dws_nt_xent(z, n, d, 0.1f, dz, &top1, ws);
    ck_assert_double_eq(top1, 1.0);
    ck_assert_double_lt(matched, 1e-3);
    z[0] = 7.f;   /* same direction */
    ck_assert_double_eq_tol(dws_nt_xent(z, n, d, 0.1f, dz, NULL, ws), matched, 1e-6);
    float swapped[18];   /* pair every view with the wrong partner */
    memcpy(swapped, z, sizeof z);
    for (int j = 0; j < d; j++) {
        swapped[(n + 0) * d + j] = z[(n + 1) * d + j];
        swapped[(n + 1) * d + j] = z[(n + 0) * d + j];
    }
    ck_assert_double_gt(dws_nt_xent(swapped, n, d, 0.1f, dz, &top1, ws), matched + 5);
    ck_assert_double_lt(top1, 1.0);
    free(ws);
}
END_TEST

static double mse_at(const dws_mlp *m, const float *x, const float *y, int n, dws_mlp *grad, float *ws)
{
    float loss;
    dws_error err;
    ck_assert_int_eq(dws_mlp_mse_grad(m, x, y, n, grad, NULL, ws, &loss, &err), 0);
    return loss;
}

/* Tanh hidden layers: smooth, so a small central difference is accurate. */
START_TEST(mse_gradient_matches_finite_differences)
{
    const int64_t widths[4] = {3, 5, 4, 2};
    const int n = 6;
    dws_error err;
    dws_mlp m, grad, scratch_grad;
    ck_assert_int_eq(dws_mlp_init(&m, 3, widths, &err), 0);
    ck_assert_int_eq(dws_mlp_init(&grad, 3, widths, &err), 0);
    ck_assert_int_eq(dws_mlp_init(&scratch_grad, 3, widths, &err), 0);
    m.act[0] = m.act[1] = DWS_ACT_TANH;
    dws_rng rng;
    dws_rng_seed(&rng, 5);
    th_fill_normal(m.params, m.n_params, 0.7f, &rng);
    float x[18], y[12], dx[18], loss, *ws = malloc(sizeof(float) * dws_mlp_grad_ws_floats(&m, n));
    th_fill_normal(x, 18, 1.f, &rng);
    th_fill_normal(y, 12, 1.f, &rng);
    ck_assert_int_eq(dws_mlp_mse_grad(&m, x, y, n, &grad, dx, ws, &loss, &err), 0);
    /* the loss is what it says: mean over rows and outputs of the squared error */
    float out[12], *scr = malloc(sizeof(float) * dws_mlp_scratch_floats(&m, n));
    dws_mlp_forward(&m, x, n, out, scr);
    double direct = 0;
    for (int j = 0; j < 12; j++) direct += (out[j] - y[j]) * (out[j] - y[j]) / 12.0;
    ck_assert_double_eq_tol(loss, direct, 1e-5);
    double worst = 0, largest = 0;
    for (size_t j = 0; j < m.n_params; j++) {
        const float h = 1e-2f;
        float keep = m.params[j];
        m.params[j] = keep + h;
        double up = mse_at(&m, x, y, n, &scratch_grad, ws);
        m.params[j] = keep - h;
        double down = mse_at(&m, x, y, n, &scratch_grad, ws);
        m.params[j] = keep;
        worst = fmax(worst, fabs((up - down) / (2 * h) - grad.params[j]));
        largest = fmax(largest, fabs(grad.params[j]));
    }
    ck_assert_msg(worst < 2e-3 + 1e-2 * largest, "MSE weight gradient off by %g (largest %g)", worst, largest);
    for (int j = 0; j < 18; j++) {   /* and the input gradient */
        const float h = 1e-2f;
        float keep = x[j];
        x[j] = keep + h;
        double up = mse_at(&m, x, y, n, &scratch_grad, ws);
        x[j] = keep - h;
        double down = mse_at(&m, x, y, n, &scratch_grad, ws);
        x[j] = keep;
        ck_assert_double_eq_tol((up - down) / (2 * h), dx[j], 2e-3 + 1e-2 * largest);
    }
    ck_assert_int_ne(dws_mlp_mse_grad(&m, x, y, 0, &grad, NULL, ws, &loss, &err), 0);
    ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
    free(ws);
    free(scr);
    dws_mlp_free(&m);
    dws_mlp_free(&grad);
    dws_mlp_free(&scratch_grad);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("embedder_loss");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, nt_xent_gradient_matches_finite_differences, 0, 2);
    tcase_add_test(tc, nt_xent_rewards_matching_views);
    tcase_add_test(tc, mse_gradient_matches_finite_differences);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
