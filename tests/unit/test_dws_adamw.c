/* AdamW with global-norm clipping: the clipping rule, the update against a
 * double-precision transcription of PyTorch's AdamW, convergence on a quadratic,
 * determinism. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "train/train.h"

START_TEST(clips_to_the_global_norm)
{
    dws_error err;
    dws_adamw_config cfg = dws_adamw_defaults();
    cfg.max_grad_norm = 1.f;
    dws_adamw o;
    ck_assert_int_eq(dws_adamw_init(&o, &cfg, 4, &err), 0);
    float p[4] = {0}, g[4] = {6, 0, 8, 0};   /* norm 10 */
    ck_assert_double_eq_tol(dws_adamw_step(&o, p, g), 10.0, 1e-9);
    ck_assert_double_eq_tol(dws_global_norm(g, 4), 1.0, 1e-5);
    ck_assert_float_eq_tol(g[0] / g[2], 0.75f, 1e-6);   /* direction kept */
    float small[4] = {0.3f, 0, 0.4f, 0};                /* norm 0.5: untouched */
    dws_adamw_step(&o, p, small);
    ck_assert(small[0] == 0.3f && small[2] == 0.4f);
    dws_adamw_free(&o);
}
END_TEST

/* PyTorch's AdamW (decoupled decay, bias-corrected moments), in double. */
static void reference_adamw(double *p, double *m, double *v, const double *g, int n, int step, double lr, double b1,
                            double b2, double eps, double wd)
{
    for (int i = 0; i < n; i++) {
        p[i] *= 1 - lr * wd;
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        double mh = m[i] / (1 - pow(b1, step)), vh = v[i] / (1 - pow(b2, step));
        p[i] -= lr * mh / (sqrt(vh) + eps);
    }
}

START_TEST(matches_pytorch_adamw)
{
    dws_error err;
    dws_adamw_config cfg = {.lr = 0.01f, .beta1 = 0.9f, .beta2 = 0.99f, .eps = 1e-8f, .weight_decay = 0.1f,
                            .max_grad_norm = 0};
    dws_adamw o;
    ck_assert_int_eq(dws_adamw_init(&o, &cfg, 3, &err), 0);
    float p[3] = {1.f, -2.f, 0.5f};
    double rp[3] = {1, -2, 0.5}, rm[3] = {0}, rv[3] = {0};
    const double grads[3][3] = {{0.1, -0.2, 0.3}, {0.05, 0.4, -0.1}, {-0.3, 0.0, 0.2}};
    for (int s = 0; s < 3; s++) {
        float g[3];
        for (int i = 0; i < 3; i++) g[i] = (float)grads[s][i];
        dws_adamw_step(&o, p, g);
        reference_adamw(rp, rm, rv, grads[s], 3, s + 1, 0.01, 0.9, 0.99, 1e-8, 0.1);
        for (int i = 0; i < 3; i++) ck_assert_double_eq_tol(p[i], rp[i], 1e-6);
    }
    dws_adamw_free(&o);
}
END_TEST

static void descend(float *p, int n, int steps)
{
    dws_error err;
    dws_adamw_config cfg = dws_adamw_defaults();
    cfg.lr = 0.05f;
    cfg.weight_decay = 0;
    dws_adamw o;
    ck_assert_int_eq(dws_adamw_init(&o, &cfg, (size_t)n, &err), 0);
    float g[16];
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < n; i++) g[i] = (float)(i + 1) * (p[i] - (float)i);   /* grad of sum (i+1)/2 (p_i - i)^2 */
        dws_adamw_step(&o, p, g);
    }
    dws_adamw_free(&o);
}

START_TEST(minimises_a_quadratic_deterministically)
{
    float a[16], b[16];
    for (int i = 0; i < 16; i++) a[i] = b[i] = 5.f - (float)i * 0.7f;
    descend(a, 16, 2000);
    descend(b, 16, 2000);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    for (int i = 0; i < 16; i++) ck_assert_float_eq_tol(a[i], (float)i, 0.05f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dws_adamw");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, clips_to_the_global_norm);
    tcase_add_test(tc, matches_pytorch_adamw);
    tcase_add_test(tc, minimises_a_quadratic_deterministically);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
