/* The evaluation pieces: ridge probes recover linear structure (and do not
 * invent it), PCA from a Gram matrix, the weight-statistics and padded-flattening
 * baselines, the SVG plot. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "helper_dws.h"
#include "base/base.h"

static void random_rows(double *X, int n, int p, dws_rng *rng)
{
    for (int i = 0; i < n * p; i++) X[i] = dws_rng_normal(rng) * (1 + i % p);   /* unequal feature scales */
}

START_TEST(ridge_recovers_a_linear_property)
{
    enum { P = 6, NT = 80, NV = 30, NS = 40 };
    static double Xt[NT * P], Xv[NV * P], Xs[NS * P], yt[NT], yv[NV], ys[NS];
    const double w[P] = {0.5, -1.0, 0.0, 2.0, 0.3, -0.7};
    dws_rng rng;
    dws_rng_seed(&rng, 1);
    double *X[3] = {Xt, Xv, Xs}, *y[3] = {yt, yv, ys};
    int n[3] = {NT, NV, NS};
    for (int s = 0; s < 3; s++) {
        random_rows(X[s], n[s], P, &rng);
        for (int i = 0; i < n[s]; i++) {
            y[s][i] = 3.0 + 1e-3 * dws_rng_normal(&rng);
            for (int j = 0; j < P; j++) y[s][i] += w[j] * X[s][i * P + j];
        }
    }
    dws_ridge r;
    double val;
    dws_error err;
    ck_assert_int_eq(dws_ridge_select(Xt, yt, NT, Xv, yv, NV, P, &r, &val, &err), 0);
    ck_assert_double_gt(val, 0.9999);
    ck_assert_double_gt(dws_ridge_r2(&r, Xs, ys, NS), 0.9999);
    ck_assert_double_le(r.lambda, 1e-2);
    dws_ridge_free(&r);
    /* a property unrelated to the features: the test R^2 must not look good */
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < n[s]; i++) y[s][i] = dws_rng_normal(&rng);
    ck_assert_int_eq(dws_ridge_select(Xt, yt, NT, Xv, yv, NV, P, &r, &val, &err), 0);
    ck_assert_double_lt(dws_ridge_r2(&r, Xs, ys, NS), 0.2);
    dws_ridge_free(&r);
}
END_TEST

START_TEST(r2_definition)
{
    const double y[4] = {1, 2, 3, 4}, exact[4] = {1, 2, 3, 4}, mean[4] = {2.5, 2.5, 2.5, 2.5};
    ck_assert_double_eq(dws_r2(y, exact, 4), 1.0);
    ck_assert_double_eq_tol(dws_r2(y, mean, 4), 0.0, 1e-12);
    const double off[4] = {2, 3, 4, 5};   /* SS_res 4, SS_tot 5 */
    ck_assert_double_eq_tol(dws_r2(y, off, 4), 0.2, 1e-12);
}
END_TEST

/* Points on a plane in 5-D: two components keep every distance; their variance
 * adds up to the total; projecting a training point through kx gives the same
 * coordinates as the fit. */
START_TEST(gram_pca_finds_the_plane)
{
    enum { N = 20, P = 5 };
    double X[N * P], K[N * N], C[N][2];
    const double u[P] = {1, 2, 0, -1, 0.5}, v[P] = {0, 1, 1, 1, -2}, o[P] = {3, -1, 2, 0, 1};
    dws_rng rng;
    dws_rng_seed(&rng, 2);
    for (int i = 0; i < N; i++) {
        double a = 3 * dws_rng_normal(&rng), b = dws_rng_normal(&rng);
        for (int j = 0; j < P; j++) X[i * P + j] = o[j] + a * u[j] + b * v[j];
    }
    dws_gram(X, N, X, N, P, K);
    dws_pca pca;
    dws_error err;
    ck_assert_int_eq(dws_pca_fit_gram(K, N, 3, &pca, &err), 0);
    ck_assert_int_eq(pca.k, 3);
    ck_assert_double_lt(pca.variance[2], 1e-9 * pca.variance[0]);
    ck_assert_double_ge(pca.variance[0], pca.variance[1]);
    for (int i = 0; i < N; i++) {
        double c[3];
        dws_pca_project(&pca, K + i * N, c);
        C[i][0] = c[0];
        C[i][1] = c[1];
        ck_assert_double_lt(fabs(c[2]), 1e-6);
    }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < i; k++) {
            double d0 = 0, d1 = pow(C[i][0] - C[k][0], 2) + pow(C[i][1] - C[k][1], 2);
            for (int j = 0; j < P; j++) d0 += pow(X[i * P + j] - X[k * P + j], 2);
            ck_assert_double_eq_tol(d1, d0, 1e-8 * (1 + d0));
        }
    dws_pca_free(&pca);
    ck_assert_int_ne(dws_pca_fit_gram(K, 1, 1, &pca, &err), 0);
}
END_TEST

START_TEST(weight_statistics)
{
    const int64_t widths[3] = {2, 5, 1};
    dws_mlp m;
    dws_error err;
    ck_assert_int_eq(dws_mlp_init(&m, 2, widths, &err), 0);
    for (int j = 0; j < 10; j++) m.W[0][j] = (float)(9 - j);   /* 0..9 shuffled order does not matter */
    for (int j = 0; j < 5; j++) m.b[0][j] = 2.f;
    double s[4 * DWS_WEIGHT_STATS_PER_TENSOR];
    ck_assert_int_eq(dws_weight_stats_count(2), 4 * DWS_WEIGHT_STATS_PER_TENSOR);
    ck_assert_int_eq(dws_weight_stats(&m, s, &err), 0);
    const double w0[7] = {4.5, sqrt(8.25), 0, 2.25, 4.5, 6.75, 9};
    for (int k = 0; k < 7; k++) ck_assert_double_eq_tol(s[k], w0[k], 1e-6);
    ck_assert_double_eq(s[7], 2.0);   /* b_0 mean */
    ck_assert_double_eq(s[8], 0.0);   /* b_0 std */
    ck_assert_double_eq(s[7 + 6], 2.0);
    dws_mlp_free(&m);
}
END_TEST

/* The padded inner product equals the dot product of explicitly zero-padded
 * flattenings. */
START_TEST(padded_dot_is_zero_padding)
{
    const int64_t wa[4] = {3, 4, 2, 2}, wb[4] = {3, 2, 5, 2}, wmax[4] = {3, 4, 5, 2};
    dws_mlp a, b, pa, pb;
    dws_error err;
    ck_assert_int_eq(dws_mlp_init(&a, 3, wa, &err), 0);
    ck_assert_int_eq(dws_mlp_init(&b, 3, wb, &err), 0);
    ck_assert_int_eq(dws_mlp_init(&pa, 3, wmax, &err), 0);
    ck_assert_int_eq(dws_mlp_init(&pb, 3, wmax, &err), 0);
    dws_rng rng;
    dws_rng_seed(&rng, 3);
    th_fill_normal(a.params, a.n_params, 1.f, &rng);
    th_fill_normal(b.params, b.n_params, 1.f, &rng);
    const dws_mlp *src[2] = {&a, &b};
    dws_mlp *dst[2] = {&pa, &pb};
    for (int k = 0; k < 2; k++)
        for (int l = 0; l < 3; l++)
            for (int64_t r = 0; r < src[k]->widths[l + 1]; r++) {
                dst[k]->b[l][r] = src[k]->b[l][r];
                for (int64_t c = 0; c < src[k]->widths[l]; c++)
                    dst[k]->W[l][r * wmax[l] + c] = src[k]->W[l][r * src[k]->widths[l] + c];
            }
    double flat = 0;
    for (size_t j = 0; j < pa.n_params; j++) flat += (double)pa.params[j] * pb.params[j];
    ck_assert_double_eq_tol(dws_padded_dot(&a, &b), flat, 1e-5 * (1 + fabs(flat)));
    ck_assert_double_eq_tol(dws_padded_dot(&b, &a), flat, 1e-5 * (1 + fabs(flat)));
    const int64_t wc[3] = {3, 4, 2};
    dws_mlp c;
    ck_assert_int_eq(dws_mlp_init(&c, 2, wc, &err), 0);
    ck_assert(isnan(dws_padded_dot(&a, &c)));
    dws_mlp_free(&a);
    dws_mlp_free(&b);
    dws_mlp_free(&c);
    dws_mlp_free(&pa);
    dws_mlp_free(&pb);
}
END_TEST

START_TEST(svg_scatter_writes_every_point)
{
    const double x[3] = {0, 1, 2}, y[3] = {1, 0, NAN}, v[3] = {0.1, 0.5, 0.9};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(dws_svg_scatter(f, x, y, v, 3, "a <title>", "x", "y", "acc"), 0);
    fclose(f);
    int circles = 0;
    for (const char *p = buf; (p = strstr(p, "<circle")); p++) circles++;
    ck_assert_int_eq(circles, 2);   /* the NaN point is left out */
    ck_assert_ptr_nonnull(strstr(buf, "a &lt;title&gt;"));
    ck_assert_ptr_nonnull(strstr(buf, "rgb(68,1,84)"));      /* lowest value: the scale's start */
    ck_assert_ptr_nonnull(strstr(buf, "</svg>"));
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("embedder_probe");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ridge_recovers_a_linear_property);
    tcase_add_test(tc, r2_definition);
    tcase_add_test(tc, gram_pca_finds_the_plane);
    tcase_add_test(tc, weight_statistics);
    tcase_add_test(tc, padded_dot_is_zero_padding);
    tcase_add_test(tc, svg_scatter_writes_every_point);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
