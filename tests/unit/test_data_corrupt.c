/* CIFAR-10-C corruptions: domain strings, the statistics each corruption must have,
 * exact values where the reference definition pins them, clipping and reproducibility. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "base/base.h"

#define C 3
#define H 32
#define W 32
#define DIM (C * H * W)
#define PLANE (H * W)

static float *random_images(size_t n, uint64_t seed)
{
    float *x = malloc(n * DIM * sizeof(float));
    dws_rng r;
    dws_rng_seed(&r, seed);
    for (size_t i = 0; i < n * DIM; i++) x[i] = (float)dws_rng_uniform(&r);
    return x;
}

static float *constant_images(size_t n, float v)
{
    float *x = malloc(n * DIM * sizeof(float));
    for (size_t i = 0; i < n * DIM; i++) x[i] = v;
    return x;
}

static void apply(const char *spec, float *x, size_t n, uint64_t seed)
{
    dws_domain d;
    dws_error err = {0};
    ck_assert_msg(dws_domain_parse(spec, &d, &err) == 0, "%s", err.message);
    ck_assert_msg(dws_domain_apply(&d, C, H, W, x, n, seed, 0, &err) == 0, "%s", err.message);
}

START_TEST(domain_parse_and_format)
{
    dws_domain d;
    dws_error err = {0};
    ck_assert_int_eq(dws_domain_parse(DWS_DEFAULT_DOMAIN, &d, &err), 0);
    ck_assert_int_eq(d.n_steps, 2);
    ck_assert_int_eq(d.steps[0].kind, DWS_CORRUPT_CONTRAST);
    ck_assert_int_eq(d.steps[0].severity, 4);
    ck_assert_int_eq(d.steps[1].kind, DWS_CORRUPT_GAUSSIAN_NOISE);
    ck_assert_int_eq(d.steps[1].severity, 2);
    char buf[256];
    dws_domain_format(&d, buf, sizeof buf);
    ck_assert_str_eq(buf, DWS_DEFAULT_DOMAIN);
    ck_assert_int_eq(dws_domain_parse("clean", &d, &err), 0);
    ck_assert_int_eq(d.n_steps, 0);
    dws_domain_format(&d, buf, sizeof buf);
    ck_assert_str_eq(buf, "clean");
    ck_assert_int_eq(dws_domain_parse("pixelate:1,defocus_blur:5,saturate:3", &d, &err), 0);
    dws_domain_format(&d, buf, sizeof buf);
    ck_assert_str_eq(buf, "pixelate:1,defocus_blur:5,saturate:3");
}
END_TEST

START_TEST(domain_parse_rejects_bad_specs)
{
    const char *bad[] = {"contrast",     "contrast:0",  "contrast:6", "contrast:44", "haze:2",
                         "contrast:4,",  ",contrast:4", "contrast:x", ":3",
                         "contrast:1,contrast:1,contrast:1,contrast:1,contrast:1,contrast:1,contrast:1,contrast:1,contrast:1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        dws_domain d;
        dws_error err = {0};
        ck_assert_msg(dws_domain_parse(bad[i], &d, &err) == -1, "accepted '%s'", bad[i]);
        ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
    }
}
END_TEST

START_TEST(colour_corruptions_need_rgb)
{
    dws_domain d;
    dws_error err = {0};
    ck_assert_int_eq(dws_domain_parse("saturate:2", &d, &err), 0);
    float x[28 * 28] = {0};
    ck_assert_int_eq(dws_domain_apply(&d, 1, 28, 28, x, 1, 0, 0, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_SHAPE_MISMATCH);
    ck_assert_int_eq(dws_domain_parse("contrast:2,gaussian_blur:3,pixelate:5", &d, &err), 0);
    ck_assert_int_eq(dws_domain_apply(&d, 1, 28, 28, x, 1, 0, 0, &err), 0);
}
END_TEST

/* contrast keeps each channel's mean and scales deviations from it by c (0.3 at 4). */
START_TEST(contrast_keeps_channel_means)
{
    float *x = random_images(4, 1), *y = malloc(4 * DIM * sizeof(float));
    memcpy(y, x, 4 * DIM * sizeof(float));
    apply("contrast:4", y, 4, 0);
    for (int i = 0; i < 4; i++)
        for (int c = 0; c < C; c++) {
            const float *a = x + i * DIM + c * PLANE, *b = y + i * DIM + c * PLANE;
            double ma = 0, mb = 0;
            for (int j = 0; j < PLANE; j++) ma += a[j], mb += b[j];
            ma /= PLANE;
            mb /= PLANE;
            ck_assert_double_eq_tol(mb, ma, 1e-6);
            for (int j = 0; j < PLANE; j++) ck_assert_double_eq_tol(b[j] - mb, 0.3 * (a[j] - ma), 1e-6);
        }
    free(x);
    free(y);
}
END_TEST

static void residual_stats(const float *y, float base, size_t n, double *mean, double *std)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        double r = y[i] - base;
        s += r;
        ss += r * r;
    }
    *mean = s / n;
    *std = sqrt(ss / n - *mean * *mean);
}

START_TEST(gaussian_noise_has_nominal_std)
{
    const double nominal[5] = {0.04, 0.06, 0.08, 0.09, 0.10};
    for (int sev = 1; sev <= 5; sev++) {
        float *x = constant_images(20, 0.5f);
        char spec[32];
        snprintf(spec, sizeof spec, "gaussian_noise:%d", sev);
        apply(spec, x, 20, 7);
        double mean, std;
        residual_stats(x, 0.5f, 20 * DIM, &mean, &std);
        ck_assert_double_lt(fabs(std / nominal[sev - 1] - 1.0), 0.05);
        ck_assert_double_lt(fabs(mean), 0.003);
        free(x);
    }
}
END_TEST

START_TEST(shot_and_speckle_noise_statistics)
{
    /* shot: Poisson(x c) / c has variance x / c; severity 1 is c = 500, 5 is c = 50. */
    float *x = constant_images(20, 0.4f);
    apply("shot_noise:5", x, 20, 3);
    double mean, std;
    residual_stats(x, 0.4f, 20 * DIM, &mean, &std);
    ck_assert_double_lt(fabs(std / sqrt(0.4 / 50) - 1.0), 0.05);
    ck_assert_double_lt(fabs(mean), 0.003);
    free(x);
    x = constant_images(20, 0.4f);
    apply("shot_noise:1", x, 20, 3);
    residual_stats(x, 0.4f, 20 * DIM, &mean, &std);
    ck_assert_double_lt(fabs(std / sqrt(0.4 / 500) - 1.0), 0.05);
    free(x);
    /* speckle: x + x N(0, c^2), c = 0.2 at 5 */
    x = constant_images(20, 0.5f);
    apply("speckle_noise:5", x, 20, 3);
    residual_stats(x, 0.5f, 20 * DIM, &mean, &std);
    ck_assert_double_lt(fabs(std / (0.5 * 0.2) - 1.0), 0.05);
    free(x);
}
END_TEST

START_TEST(impulse_noise_hits_the_nominal_fraction)
{
    float *x = constant_images(20, 0.5f);
    apply("impulse_noise:5", x, 20, 11);   /* amount 0.07, half salt, half pepper */
    size_t salt = 0, pepper = 0, kept = 0;
    for (size_t i = 0; i < 20 * DIM; i++) {
        if (x[i] == 1.f) salt++;
        else if (x[i] == 0.f) pepper++;
        else if (x[i] == 0.5f) kept++;
    }
    ck_assert_uint_eq(salt + pepper + kept, 20 * DIM);
    double frac = (double)(salt + pepper) / (20 * DIM);
    ck_assert_double_lt(fabs(frac / 0.07 - 1.0), 0.05);
    ck_assert_double_lt(fabs((double)salt / (salt + pepper) - 0.5), 0.03);
    free(x);
}
END_TEST

START_TEST(every_corruption_clips_to_unit_range)
{
    for (int k = 0; k < DWS_CORRUPT_COUNT; k++)
        for (int sev = 1; sev <= 5; sev++) {
            float *x = random_images(3, 5);
            for (int j = 0; j < DIM; j += 3) x[j] = 1.f;   /* extremes that push past the bounds */
            for (int j = 1; j < DIM; j += 5) x[j] = 0.f;
            char spec[64];
            snprintf(spec, sizeof spec, "%s:%d", dws_corruption_name((dws_corruption)k), sev);
            apply(spec, x, 3, 9);
            for (int j = 0; j < 3 * DIM; j++) ck_assert_msg(x[j] >= 0.f && x[j] <= 1.f, "%s gave %g", spec, x[j]);
            free(x);
        }
}
END_TEST

START_TEST(noise_is_clipped_not_wrapped)
{
    float *x = constant_images(2, 1.f);
    apply("gaussian_noise:5", x, 2, 1);
    size_t at_one = 0;
    for (int j = 0; j < 2 * DIM; j++) at_one += x[j] == 1.f;
    /* about half the values were pushed above 1 and must sit exactly at 1 */
    ck_assert_uint_gt(at_one, 2 * DIM * 4 / 10);
    ck_assert_uint_lt(at_one, 2 * DIM * 6 / 10);
    free(x);
}
END_TEST

START_TEST(same_seed_same_values_any_batching)
{
    float *a = random_images(6, 2), *b = malloc(6 * DIM * sizeof(float)), *c = malloc(6 * DIM * sizeof(float));
    memcpy(b, a, 6 * DIM * sizeof(float));
    memcpy(c, a, 6 * DIM * sizeof(float));
    const char *spec = "contrast:4,gaussian_noise:2,shot_noise:3,impulse_noise:1";
    apply(spec, a, 6, 42);
    /* b: the same seed in two batches (images 0-3, then 4-5) */
    dws_domain d;
    dws_error err = {0};
    ck_assert_int_eq(dws_domain_parse(spec, &d, &err), 0);
    ck_assert_int_eq(dws_domain_apply(&d, C, H, W, b, 4, 42, 0, &err), 0);
    ck_assert_int_eq(dws_domain_apply(&d, C, H, W, b + 4 * DIM, 2, 42, 4, &err), 0);
    ck_assert_mem_eq(a, b, 6 * DIM * sizeof(float));
    apply(spec, c, 6, 43);
    size_t differ = 0;
    for (int j = 0; j < 6 * DIM; j++) differ += a[j] != c[j];
    ck_assert_uint_gt(differ, 6 * DIM / 2);
    free(a);
    free(b);
    free(c);
}
END_TEST

START_TEST(filters_keep_constant_images)
{
    const char *specs[] = {"gaussian_blur:5", "defocus_blur:5", "defocus_blur:1", "pixelate:5", "pixelate:1"};
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
        float *x = constant_images(1, 0.37f);
        apply(specs[s], x, 1, 0);
        for (int j = 0; j < DIM; j++) ck_assert_float_eq_tol(x[j], 0.37f, 1e-6f);
        free(x);
    }
}
END_TEST

/* scipy.ndimage.gaussian_filter (truncate 4) of a centred impulse is the normalised
 * kernel exp(-t^2 / 2 sigma^2), outer product with itself. sigma = 1 at severity 5. */
START_TEST(gaussian_blur_of_impulse_is_its_kernel)
{
    float *x = constant_images(1, 0.f);
    x[16 * W + 16] = 1.f;
    apply("gaussian_blur:5", x, 1, 0);
    double k[9], sum = 0;
    for (int t = -4; t <= 4; t++) sum += k[t + 4] = exp(-0.5 * t * t);
    for (int dy = -5; dy <= 5; dy++)
        for (int dx = -5; dx <= 5; dx++) {
            double want = abs(dy) <= 4 && abs(dx) <= 4 ? k[dy + 4] / sum * k[dx + 4] / sum : 0.0;
            ck_assert_double_eq_tol(x[(16 + dy) * W + 16 + dx], want, 1e-7);
        }
    free(x);
}
END_TEST

/* defocus severity 1: the disk of radius 0.3 is the centre pixel alone, so the kernel is
 * the 3 x 3 Gaussian with sigma 0.4 (cv2.GaussianBlur's anti-aliasing step). */
START_TEST(defocus_blur_small_disk_is_3x3_gaussian)
{
    float *x = constant_images(1, 0.f);
    x[10 * W + 20] = 1.f;
    apply("defocus_blur:1", x, 1, 0);
    double e = exp(-1.0 / (2 * 0.4 * 0.4)), g[3] = {e / (1 + 2 * e), 1 / (1 + 2 * e), e / (1 + 2 * e)};
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++) {
            double want = abs(dy) <= 1 && abs(dx) <= 1 ? g[dy + 1] * g[dx + 1] : 0.0;
            ck_assert_double_eq_tol(x[(10 + dy) * W + 20 + dx], want, 1e-7);
        }
    free(x);
}
END_TEST

/* Pillow BOX 4 -> int(4 * 0.65) = 2 -> 4: every 2 x 2 block becomes its mean. */
START_TEST(pixelate_averages_blocks)
{
    float x[4 * 4 * 3];
    for (int j = 0; j < 48; j++) x[j] = (float)((j * 7) % 16) / 16.f;
    float y[48];
    memcpy(y, x, sizeof x);
    dws_domain d;
    dws_error err = {0};
    ck_assert_int_eq(dws_domain_parse("pixelate:5", &d, &err), 0);
    ck_assert_int_eq(dws_domain_apply(&d, 3, 4, 4, y, 1, 0, 0, &err), 0);
    for (int c = 0; c < 3; c++)
        for (int by = 0; by < 2; by++)
            for (int bx = 0; bx < 2; bx++) {
                const float *p = x + c * 16 + by * 8 + bx * 2;
                float mean = (p[0] + p[1] + p[4] + p[5]) / 4.f;
                const float *q = y + c * 16 + by * 8 + bx * 2;
                ck_assert_float_eq_tol(q[0], mean, 1e-6f);
                ck_assert_float_eq_tol(q[1], mean, 1e-6f);
                ck_assert_float_eq_tol(q[4], mean, 1e-6f);
                ck_assert_float_eq_tol(q[5], mean, 1e-6f);
            }
}
END_TEST

/* brightness raises HSV value: V' = min(V + 0.3, 1) at severity 5, hue and saturation kept;
 * saturate scales HSV saturation: S' = S * 0.1 at severity 2, value kept. */
START_TEST(brightness_and_saturate_follow_hsv)
{
    float x[3] = {0.4f, 0.2f, 0.1f};        /* V 0.4, S 0.75 */
    dws_domain d;
    dws_error err = {0};
    ck_assert_int_eq(dws_domain_parse("brightness:5", &d, &err), 0);
    ck_assert_int_eq(dws_domain_apply(&d, 3, 1, 1, x, 1, 0, 0, &err), 0);
    ck_assert_float_eq_tol(x[0], 0.7f, 1e-6f);
    ck_assert_float_eq_tol(x[1], 0.35f, 1e-6f);
    ck_assert_float_eq_tol(x[2], 0.175f, 1e-6f);
    float black[3] = {0.f, 0.f, 0.f};
    ck_assert_int_eq(dws_domain_apply(&d, 3, 1, 1, black, 1, 0, 0, &err), 0);
    ck_assert_float_eq_tol(black[0], 0.3f, 1e-6f);
    ck_assert_float_eq_tol(black[2], 0.3f, 1e-6f);

    float y[3] = {0.4f, 0.2f, 0.1f};
    ck_assert_int_eq(dws_domain_parse("saturate:2", &d, &err), 0);
    ck_assert_int_eq(dws_domain_apply(&d, 3, 1, 1, y, 1, 0, 0, &err), 0);
    /* S' = 0.075: channel = V - (S'/S)(V - channel) */
    ck_assert_float_eq_tol(y[0], 0.4f, 1e-6f);
    ck_assert_float_eq_tol(y[1], 0.4f - 0.1f * 0.2f, 1e-6f);
    ck_assert_float_eq_tol(y[2], 0.4f - 0.1f * 0.3f, 1e-6f);
    /* a grey pixel has hue 0 in skimage: severity 5 (S' = 0.2) turns it red */
    float g[3] = {0.5f, 0.5f, 0.5f};
    ck_assert_int_eq(dws_domain_parse("saturate:5", &d, &err), 0);
    ck_assert_int_eq(dws_domain_apply(&d, 3, 1, 1, g, 1, 0, 0, &err), 0);
    ck_assert_float_eq_tol(g[0], 0.5f, 1e-6f);
    ck_assert_float_eq_tol(g[1], 0.4f, 1e-6f);
    ck_assert_float_eq_tol(g[2], 0.4f, 1e-6f);
}
END_TEST

START_TEST(rng_poisson_and_normal_moments)
{
    dws_rng r;
    dws_rng_seed(&r, 99);
    const double lambdas[3] = {3.0, 40.0, 500.0};
    for (int t = 0; t < 3; t++) {
        double s = 0, ss = 0;
        const int n = 200000;
        for (int i = 0; i < n; i++) {
            double v = (double)dws_rng_poisson(&r, lambdas[t]);
            s += v;
            ss += v * v;
        }
        double mean = s / n, var = ss / n - mean * mean;
        ck_assert_double_lt(fabs(mean / lambdas[t] - 1), 0.01);
        ck_assert_double_lt(fabs(var / lambdas[t] - 1), 0.03);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_corrupt");
    TCase *tc = tcase_create("corrupt");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, domain_parse_and_format);
    tcase_add_test(tc, domain_parse_rejects_bad_specs);
    tcase_add_test(tc, colour_corruptions_need_rgb);
    tcase_add_test(tc, contrast_keeps_channel_means);
    tcase_add_test(tc, gaussian_noise_has_nominal_std);
    tcase_add_test(tc, shot_and_speckle_noise_statistics);
    tcase_add_test(tc, impulse_noise_hits_the_nominal_fraction);
    tcase_add_test(tc, every_corruption_clips_to_unit_range);
    tcase_add_test(tc, noise_is_clipped_not_wrapped);
    tcase_add_test(tc, same_seed_same_values_any_batching);
    tcase_add_test(tc, filters_keep_constant_images);
    tcase_add_test(tc, gaussian_blur_of_impulse_is_its_kernel);
    tcase_add_test(tc, defocus_blur_small_disk_is_3x3_gaussian);
    tcase_add_test(tc, pixelate_averages_blocks);
    tcase_add_test(tc, brightness_and_saturate_follow_hsv);
    tcase_add_test(tc, rng_poisson_and_normal_moments);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
