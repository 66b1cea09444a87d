/* Classifier training: the cross-entropy gradient against finite differences,
 * nn.Linear's default initialisation, a small classifier that learns a synthetic
 * task, one progress report per epoch. (The optimisers: test_train_skeleton.c.) */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/mlp.h"
#include "train/train.h"
#include "base/base.h"

static void make_mlp(dws_mlp *m, int n_layers, const int64_t *widths, uint64_t seed)
{
    dws_error err = {0};
    ck_assert_int_eq(dws_mlp_init(m, n_layers, widths, &err), 0);
    dws_rng r;
    dws_rng_seed(&r, seed);
    dws_mlp_init_default(m, &r);
}

static double loss_at(const dws_mlp *m, const float *x, const uint8_t *y, int n)
{
    dws_mlp g;
    dws_error err = {0};
    ck_assert_int_eq(dws_mlp_clone(&g, m, &err), 0);
    float *ws = malloc(dws_mlp_grad_ws_floats(m, n) * sizeof(float)), loss;
    ck_assert_int_eq(dws_mlp_xent_grad(m, x, y, n, &g, NULL, ws, &loss, NULL, &err), 0);
    free(ws);
    dws_mlp_free(&g);
    return loss;
}

/* Central differences on every parameter and input of a small net with each hidden
 * activation (LeakyReLU at the zoo's slope 0.01) and 1, 2 and 4 hidden layers. */
START_TEST(xent_gradient_matches_finite_differences)
{
    const dws_activation acts[] = {DWS_ACT_RELU, DWS_ACT_TANH, DWS_ACT_GELU, DWS_ACT_SIGMOID, DWS_ACT_LEAKY_RELU};
    const int64_t depth3[4] = {6, 5, 4, 3}, depth2[3] = {6, 5, 3}, depth5[6] = {6, 5, 4, 4, 5, 3};
    const struct {
        int n_layers;
        const int64_t *widths;
    } shapes[] = {{3, depth3}, {2, depth2}, {5, depth5}};
    enum { N = 4 };
    for (int sh = 0; sh < 3; sh++)
    for (int a = 0; a < (int)(sizeof acts / sizeof *acts); a++) {
        dws_mlp m, g;
        dws_error err = {0};
        int L = shapes[sh].n_layers;
        make_mlp(&m, L, shapes[sh].widths, 10 + (uint64_t)a + 100 * (uint64_t)sh);
        for (size_t i = 0; i < m.n_params; i++) m.params[i] *= 3.f;   /* sharper logits */
        for (int l = 0; l + 1 < L; l++) {
            m.act[l] = acts[a];
            m.leaky_alpha[l] = 0.01f;
        }
        ck_assert_int_eq(dws_mlp_clone(&g, &m, &err), 0);
        float x[N * 6], dx[N * 6], loss;
        uint8_t y[N] = {0, 2, 1, 2};
        dws_rng r;
        dws_rng_seed(&r, 5);
        for (int i = 0; i < N * 6; i++) x[i] = (float)dws_rng_normal(&r);
        float *ws = malloc(dws_mlp_grad_ws_floats(&m, N) * sizeof(float));
        int correct = -1;
        ck_assert_int_eq(dws_mlp_xent_grad(&m, x, y, N, &g, dx, ws, &loss, &correct, &err), 0);
        ck_assert_int_ge(correct, 0);
        ck_assert_double_eq_tol(loss, loss_at(&m, x, y, N), 1e-6);
        const float h = 1e-2f;
        for (size_t i = 0; i < m.n_params + N * 6; i++) {
            float *v = i < m.n_params ? &m.params[i] : &x[i - m.n_params];
            float analytic = i < m.n_params ? g.params[i] : dx[i - m.n_params];
            float keep = *v;
            *v = keep + h;
            double up = loss_at(&m, x, y, N);
            *v = keep - h;
            double down = loss_at(&m, x, y, N);
            *v = keep;
            double fd = (up - down) / (2 * h);
            ck_assert_msg(fabs(fd - analytic) < 2e-3 + 2e-2 * fabs(fd), "%s, %d layers, %s %zu: fd %g analytic %g",
                          dws_activation_name(acts[a]), L, i < m.n_params ? "param" : "input",
                          i < m.n_params ? i : i - m.n_params, fd, analytic);
        }
        free(ws);
        dws_mlp_free(&m);
        dws_mlp_free(&g);
    }
}
END_TEST

START_TEST(xent_rejects_out_of_range_label)
{
    const int64_t widths[3] = {4, 3, 2};
    dws_mlp m, g;
    dws_error err = {0};
    make_mlp(&m, 2, widths, 1);
    ck_assert_int_eq(dws_mlp_clone(&g, &m, &err), 0);
    float x[8] = {0}, loss, *ws = malloc(dws_mlp_grad_ws_floats(&m, 2) * sizeof(float));
    uint8_t y[2] = {1, 2};
    ck_assert_int_eq(dws_mlp_xent_grad(&m, x, y, 2, &g, NULL, ws, &loss, NULL, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_BAD_DATA);
    free(ws);
    dws_mlp_free(&m);
    dws_mlp_free(&g);
}
END_TEST

START_TEST(default_init_is_uniform_over_fan_in_bound)
{
    const int64_t widths[3] = {400, 300, 10};
    dws_mlp m;
    make_mlp(&m, 2, widths, 3);
    for (int l = 0; l < 2; l++) {
        double bound = 1.0 / sqrt((double)widths[l]), s = 0, ss = 0;
        size_t n = (size_t)widths[l] * (size_t)widths[l + 1];
        for (size_t i = 0; i < n; i++) {
            ck_assert_double_le(fabs(m.W[l][i]), bound);
            s += m.W[l][i];
            ss += (double)m.W[l][i] * m.W[l][i];
        }
        ck_assert_double_lt(fabs(s / n), 0.02 * bound);
        ck_assert_double_lt(fabs(ss / n / (bound * bound / 3) - 1), 0.05);   /* var of U(-b, b) */
        for (int64_t i = 0; i < widths[l + 1]; i++) ck_assert_double_le(fabs(m.b[l][i]), bound);
    }
    dws_mlp_free(&m);
}
END_TEST

/* 4 classes in 20 dimensions: class k is a Gaussian blob around +-2 on coordinates 2k, 2k+1. */
static void blobs(size_t n, uint64_t seed, float *x, uint8_t *y)
{
    dws_rng r;
    dws_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        y[i] = (uint8_t)(i % 4);
        for (int j = 0; j < 20; j++) x[i * 20 + j] = (float)dws_rng_normal(&r);
        x[i * 20 + 2 * y[i]] += 2.5f;
        x[i * 20 + 2 * y[i] + 1] -= 2.5f;
    }
}

START_TEST(small_classifier_learns_synthetic_task)
{
    enum { NTR = 2000, NTE = 1000 };
    float *xtr = malloc(NTR * 20 * sizeof(float)), *xte = malloc(NTE * 20 * sizeof(float));
    uint8_t ytr[NTR], yte[NTE];
    blobs(NTR, 1, xtr, ytr);
    blobs(NTE, 2, xte, yte);
    dws_samples train = dws_samples_of_floats(xtr, ytr, NTR, 20), test = dws_samples_of_floats(xte, yte, NTE, 20);
    const dws_optimizer kinds[3] = {DWS_OPT_ADAM, DWS_OPT_SGD, DWS_OPT_ADAMW};
    const float lrs[3] = {1e-2f, 5e-2f, 1e-2f};
    for (int k = 0; k < 3; k++) {
        dws_recipe r = {.n_hidden = 2, .hidden = {16, 8}, .epochs = 5, .batch_size = 32, .seed = 7};
        r.optim = dws_optim_defaults(kinds[k], lrs[k]);
        dws_mlp m;
        dws_train_progress res;
        dws_error err = {0};
        double before, after;
        ck_assert_int_eq(dws_recipe_train(&(dws_recipe){.n_hidden = 2, .hidden = {16, 8}, .epochs = 0,
                                                         .batch_size = 32, .seed = 7, .optim = r.optim},
                                          &train, 4, &m, &res, &err), 0);
        ck_assert_int_eq(dws_mlp_accuracy(&m, &test, &before, &err), 0);
        dws_mlp_free(&m);
        ck_assert_int_eq(dws_recipe_train(&r, &train, 4, &m, &res, &err), 0);
        ck_assert_int_eq(dws_mlp_accuracy(&m, &test, &after, &err), 0);
        ck_assert_msg(before < 0.5 && after > 0.95, "%s: accuracy %g -> %g", dws_optimizer_name(kinds[k]), before,
                      after);
        ck_assert_double_lt(res.loss, 0.3);
        ck_assert_int_eq(res.step, 5 * ((NTR + 31) / 32));
        dws_mlp_free(&m);
    }
    free(xtr);
    free(xte);
}
END_TEST

START_TEST(training_is_reproducible_and_subset_is_used)
{
    enum { N = 600 };
    float *x = malloc(N * 20 * sizeof(float));
    uint8_t y[N];
    blobs(N, 3, x, y);
    dws_samples data = dws_samples_of_floats(x, y, N, 20);
    dws_recipe r = {.n_hidden = 1, .hidden = {12}, .epochs = 2, .batch_size = 16, .seed = 99, .subset = 100};
    r.optim = dws_optim_defaults(DWS_OPT_ADAM, 1e-2f);
    dws_mlp a, b, c;
    dws_train_progress ra, rb;
    dws_error err = {0};
    ck_assert_int_eq(dws_recipe_train(&r, &data, 4, &a, &ra, &err), 0);
    ck_assert_int_eq(dws_recipe_train(&r, &data, 4, &b, &rb, &err), 0);
    ck_assert_mem_eq(a.params, b.params, a.n_params * sizeof(float));
    ck_assert_int_eq(ra.step, 2 * 7);   /* 100 rows in batches of 16 */
    r.seed = 100;
    ck_assert_int_eq(dws_recipe_train(&r, &data, 4, &c, &rb, &err), 0);
    ck_assert_int_ne(memcmp(a.params, c.params, a.n_params * sizeof(float)), 0);
    dws_mlp_free(&a);
    dws_mlp_free(&b);
    dws_mlp_free(&c);
    free(x);
}
END_TEST

typedef struct {
    int calls;
    int64_t stop_at;   /* > 0: stop after this step; < 0: fail after step -stop_at */
} epoch_log;

static int per_epoch(void *ctx, const dws_train_progress *p, dws_error *err)
{
    epoch_log *l = ctx;
    l->calls++;
    ck_assert_int_eq(p->step, 7 * l->calls);   /* 100 rows in batches of 16 */
    ck_assert_int_eq(p->steps, 3 * 7);
    ck_assert_int_eq(p->batch, 16);
    ck_assert(p->lr == 1e-2f && p->loss > 0 && p->acc >= 0 && p->acc <= 1 && p->elapsed >= 0 && p->eta >= 0);
    if (l->stop_at < 0 && p->step >= -l->stop_at) {
        dws_error_set(err, DWS_E_IO, "stopped by the test");
        return -1;
    }
    return l->stop_at > 0 && p->step >= l->stop_at;
}

/* The classifier loop reports once per epoch through the one progress callback:
 * > 0 stops early, < 0 fails with the callback's error. */
START_TEST(classifier_training_reports_every_epoch)
{
    enum { N = 100 };
    float *x = malloc(N * 20 * sizeof(float));
    uint8_t y[N];
    blobs(N, 4, x, y);
    dws_samples data = dws_samples_of_floats(x, y, N, 20);
    const int64_t widths[3] = {20, 8, 4};
    dws_mlp m;
    make_mlp(&m, 2, widths, 5);
    epoch_log log = {0};
    dws_train_config cfg = {.optim = dws_optim_defaults(DWS_OPT_ADAM, 1e-2f), .epochs = 3, .batch_size = 16,
                            .seed = 1, .progress = per_epoch, .ctx = &log};
    dws_train_progress res;
    dws_error err = {0};
    ck_assert_int_eq(dws_mlp_train(&m, &data, &cfg, &res, &err), 0);
    ck_assert_int_eq(log.calls, 3);
    ck_assert_int_eq(res.step, 21);
    log = (epoch_log){.stop_at = 7};
    ck_assert_int_eq(dws_mlp_train(&m, &data, &cfg, &res, &err), 0);
    ck_assert_int_eq(log.calls, 1);
    ck_assert_int_eq(res.step, 7);
    log = (epoch_log){.stop_at = -14};
    ck_assert_int_eq(dws_mlp_train(&m, &data, &cfg, &res, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_IO);
    ck_assert_int_eq(log.calls, 2);
    dws_mlp_free(&m);
    free(x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_train");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, xent_gradient_matches_finite_differences);
    tcase_add_test(tc, xent_rejects_out_of_range_label);
    tcase_add_test(tc, default_init_is_uniform_over_fan_in_bound);
    tcase_add_test(tc, small_classifier_learns_synthetic_task);
    tcase_add_test(tc, training_is_reproducible_and_subset_is_used);
    tcase_add_test(tc, classifier_training_reports_every_epoch);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
