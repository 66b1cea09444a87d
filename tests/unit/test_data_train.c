/* Classifier training: the cross-entropy gradient against finite differences, the
 * optimisers against PyTorch's update rules worked by hand, nn.Linear's default
 * initialisation, and a small classifier that learns a synthetic task. */
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

/* Central differences on every parameter and input of a small net with each activation. */
START_TEST(xent_gradient_matches_finite_differences)
{
    const dws_activation acts[4] = {DWS_ACT_RELU, DWS_ACT_TANH, DWS_ACT_GELU, DWS_ACT_SIGMOID};
    const int64_t widths[4] = {6, 5, 4, 3};
    enum { N = 4 };
    for (int a = 0; a < 4; a++) {
        dws_mlp m, g;
        dws_error err = {0};
        make_mlp(&m, 3, widths, 10 + (uint64_t)a);
        for (size_t i = 0; i < m.n_params; i++) m.params[i] *= 3.f;   /* sharper logits */
        m.act[0] = m.act[1] = acts[a];
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
        for (size_t i = 0; i < m.n_params; i++) {
            float keep = m.params[i];
            m.params[i] = keep + h;
            double up = loss_at(&m, x, y, N);
            m.params[i] = keep - h;
            double down = loss_at(&m, x, y, N);
            m.params[i] = keep;
            double fd = (up - down) / (2 * h);
            ck_assert_msg(fabs(fd - g.params[i]) < 2e-3 + 2e-2 * fabs(fd), "act %d param %zu: fd %g analytic %g", a, i,
                          fd, g.params[i]);
        }
        for (int i = 0; i < N * 6; i++) {
            float keep = x[i];
            x[i] = keep + h;
            double up = loss_at(&m, x, y, N);
            x[i] = keep - h;
            double down = loss_at(&m, x, y, N);
            x[i] = keep;
            double fd = (up - down) / (2 * h);
            ck_assert_msg(fabs(fd - dx[i]) < 2e-3 + 2e-2 * fabs(fd), "act %d input %d: fd %g analytic %g", a, i, fd,
                          dx[i]);
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

/* torch.optim.Adam, step 1: m = (1-b1) g, v = (1-b2) g^2, update lr * m/(1-b1) / (sqrt(v/(1-b2)) + eps)
 * = lr * g / (|g| + eps); with weight_decay the gradient is g + wd p (L2). AdamW shrinks p first. */
START_TEST(optimisers_follow_pytorch_rules)
{
    dws_error err = {0};
    dws_optim o;
    float p[3] = {1.f, -2.f, 0.5f}, g[3] = {0.5f, -0.25f, 0.f};
    dws_optim_config c = dws_optim_defaults(DWS_OPT_ADAM, 0.1f);
    c.weight_decay = 0.2f;
    ck_assert_int_eq(dws_optim_init(&o, &c, 3, &err), 0);
    dws_optim_step(&o, p, g);
    const float g_eff[3] = {0.5f + 0.2f * 1.f, -0.25f + 0.2f * -2.f, 0.5f * 0.2f};
    const float start[3] = {1.f, -2.f, 0.5f};
    for (int i = 0; i < 3; i++)
        ck_assert_float_eq_tol(p[i], start[i] - 0.1f * g_eff[i] / (fabsf(g_eff[i]) + 1e-8f), 1e-6f);
    dws_optim_free(&o);

    float q[2] = {1.f, -1.f}, gq[2] = {0.3f, 0.3f};
    c = dws_optim_defaults(DWS_OPT_ADAMW, 0.1f);       /* weight decay 0.01, decoupled */
    ck_assert_int_eq(dws_optim_init(&o, &c, 2, &err), 0);
    dws_optim_step(&o, q, gq);
    ck_assert_float_eq_tol(q[0], 1.f * (1 - 0.1f * 0.01f) - 0.1f, 1e-6f);
    ck_assert_float_eq_tol(q[1], -1.f * (1 - 0.1f * 0.01f) - 0.1f, 1e-6f);
    dws_optim_free(&o);

    /* SGD momentum 0.9, wd 0.1: buf1 = d1, buf2 = 0.9 buf1 + d2, with d = g + wd p */
    float s[1] = {2.f}, gs[1] = {1.f};
    c = dws_optim_defaults(DWS_OPT_SGD, 0.5f);
    c.weight_decay = 0.1f;
    ck_assert_int_eq(dws_optim_init(&o, &c, 1, &err), 0);
    dws_optim_step(&o, s, gs);
    float buf = 1.f + 0.1f * 2.f, want = 2.f - 0.5f * buf;
    ck_assert_float_eq_tol(s[0], want, 1e-6f);
    dws_optim_step(&o, s, gs);
    buf = 0.9f * buf + (1.f + 0.1f * want);
    want -= 0.5f * buf;
    ck_assert_float_eq_tol(s[0], want, 1e-6f);
    dws_optim_free(&o);
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
        dws_train_result res;
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
        ck_assert_double_lt(res.last_epoch_loss, 0.3);
        ck_assert_int_eq(res.steps, 5 * ((NTR + 31) / 32));
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
    dws_train_result ra, rb;
    dws_error err = {0};
    ck_assert_int_eq(dws_recipe_train(&r, &data, 4, &a, &ra, &err), 0);
    ck_assert_int_eq(dws_recipe_train(&r, &data, 4, &b, &rb, &err), 0);
    ck_assert_mem_eq(a.params, b.params, a.n_params * sizeof(float));
    ck_assert_int_eq(ra.steps, 2 * 7);   /* 100 rows in batches of 16 */
    r.seed = 100;
    ck_assert_int_eq(dws_recipe_train(&r, &data, 4, &c, &rb, &err), 0);
    ck_assert_int_ne(memcmp(a.params, c.params, a.n_params * sizeof(float)), 0);
    dws_mlp_free(&a);
    dws_mlp_free(&b);
    dws_mlp_free(&c);
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
    tcase_add_test(tc, optimisers_follow_pytorch_rules);
    tcase_add_test(tc, default_init_is_uniform_over_fan_in_bound);
    tcase_add_test(tc, small_classifier_learns_synthetic_task);
    tcase_add_test(tc, training_is_reproducible_and_subset_is_used);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
