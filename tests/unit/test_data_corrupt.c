/* CIFAR-10-C corruptions: domain strings, the statistics each corruption must have,
 * exact values where the reference definition pins them, clipping, reproducibility and
 * chains. The comparison with the reference itself is tests/integration/corrupt_reference.py. */
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

/* Smooth test images: a gradient plus two waves per channel, in [0.1, 0.9], with
 * per-image phases: blurs and warps change them in proportion to their strength. */
static float *smooth_images(size_t n, uint64_t seed)
{
    float *x = malloc(n * DIM * sizeof(float));
    dws_rng r;
    dws_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < C; c++) {
            double a = 6.283 * dws_rng_uniform(&r), b = 6.283 * dws_rng_uniform(&r);
            for (int y = 0; y < H; y++)
                for (int xx = 0; xx < W; xx++) {
                    double v = 0.5 + 0.2 * sin(0.7 * xx + a) * cos(0.45 * y + b) + 0.15 * (xx - y) / (double)W;
                    x[i * DIM + c * PLANE + y * W + xx] = (float)(v < 0.1 ? 0.1 : v > 0.9 ? 0.9 : v);
                }
        }
    return x;
}

/* Mean |corrupted - clean| of spec on n copies of x. */
static double mean_change(const char *spec, const float *x, size_t n, uint64_t seed)
{
    float *y = malloc(n * DIM * sizeof(float));
    memcpy(y, x, n * DIM * sizeof(float));
    apply(spec, y, n, seed);
    double s = 0;
    for (size_t j = 0; j < n * DIM; j++) s += fabs(y[j] - x[j]);
    free(y);
    return s / (n * DIM);
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

/* Every type parses, formats back to itself and chains. */
START_TEST(every_type_parses_and_chains)
{
    dws_domain d;
    dws_error err = {0};
    char buf[512];
    for (int k = 0; k < DWS_CORRUPT_COUNT; k++) {
        const char *name = dws_corruption_name((dws_corruption)k);
        ck_assert_ptr_nonnull(strstr(dws_corruption_names(), name));
        ck_assert_str_ne(dws_corruption_about((dws_corruption)k), "unknown");
        snprintf(buf, sizeof buf, "%s:5", name);
        ck_assert_msg(dws_domain_parse(buf, &d, &err) == 0, "%s", err.message);
        ck_assert_int_eq(d.steps[0].kind, k);
    }
    ck_assert_int_eq(DWS_CORRUPT_COUNT, 19);
    ck_assert_int_eq(dws_domain_parse("fog:3,gaussian_noise:2", &d, &err), 0);
    ck_assert_int_eq(d.n_steps, 2);
    ck_assert_int_eq(d.steps[0].kind, DWS_CORRUPT_FOG);
    ck_assert_int_eq(d.steps[1].kind, DWS_CORRUPT_GAUSSIAN_NOISE);
    const char *chain = "glass_blur:2,motion_blur:3,zoom_blur:1,snow:4,frost:5,fog:1,elastic_transform:2,spatter:3";
    ck_assert_int_eq(dws_domain_parse(chain, &d, &err), 0);
    dws_domain_format(&d, buf, sizeof buf);
    ck_assert_str_eq(buf, chain);
    float *x = smooth_images(2, 4), *y = malloc(2 * DIM * sizeof(float));
    memcpy(y, x, 2 * DIM * sizeof(float));
    apply(chain, x, 2, 8);
    apply(chain, y, 2, 8);
    ck_assert_mem_eq(x, y, 2 * DIM * sizeof(float));
    for (int j = 0; j < 2 * DIM; j++) ck_assert(x[j] >= 0.f && x[j] <= 1.f);
    /* a chain is its steps in order: jpeg then pixelate equals pixelate on jpeg's output */
    memcpy(y, x, 2 * DIM * sizeof(float));
    apply("jpeg_compression:3,pixelate:4", x, 2, 0);
    apply("jpeg_compression:3", y, 2, 0);
    apply("pixelate:4", y, 2, 0);
    ck_assert_mem_eq(x, y, 2 * DIM * sizeof(float));
    free(x);
    free(y);
}
END_TEST

/* Image i gets stream (seed, i) for every type: batches and thread counts cannot
 * change a result, and another seed changes each random type. */
START_TEST(every_type_is_reproducible_by_image)
{
    static const int deterministic[] = {DWS_CORRUPT_CONTRAST,     DWS_CORRUPT_BRIGHTNESS,  DWS_CORRUPT_SATURATE,
                                        DWS_CORRUPT_GAUSSIAN_BLUR, DWS_CORRUPT_DEFOCUS_BLUR, DWS_CORRUPT_PIXELATE,
                                        DWS_CORRUPT_ZOOM_BLUR,    DWS_CORRUPT_JPEG_COMPRESSION};
    for (int k = 0; k < DWS_CORRUPT_COUNT; k++) {
        int random = 1;
        for (size_t j = 0; j < sizeof deterministic / sizeof *deterministic; j++) random &= deterministic[j] != k;
        char spec[64];
        snprintf(spec, sizeof spec, "%s:3", dws_corruption_name((dws_corruption)k));
        float *a = smooth_images(5, 3), *b = malloc(5 * DIM * sizeof(float)), *c = malloc(5 * DIM * sizeof(float));
        memcpy(b, a, 5 * DIM * sizeof(float));
        memcpy(c, a, 5 * DIM * sizeof(float));
        apply(spec, a, 5, 42);
        dws_domain d;
        dws_error err = {0};
        ck_assert_int_eq(dws_domain_parse(spec, &d, &err), 0);
        ck_assert_int_eq(dws_domain_apply(&d, C, H, W, b + 3 * DIM, 2, 42, 3, &err), 0);
        ck_assert_int_eq(dws_domain_apply(&d, C, H, W, b, 3, 42, 0, &err), 0);
        ck_assert_msg(!memcmp(a, b, 5 * DIM * sizeof(float)), "%s depends on batching", spec);
        apply(spec, c, 5, 43);
        ck_assert_msg(!memcmp(a, c, 5 * DIM * sizeof(float)) == !random, "%s: seed %s", spec,
                      random ? "ignored" : "changed a deterministic type");
        free(a);
        free(b);
        free(c);
    }
}
END_TEST

/* Severity orders the effect where the parameters grow together (mean absolute change
 * on smooth images). Not asserted: glass_blur, frost, elastic_transform (whose
 * reference parameters shrink the affine part with severity) and spatter (water at
 * 1-3, mud at 4-5). */
START_TEST(severity_orders_the_effect)
{
    float *x = smooth_images(6, 12);
    const char *grow[] = {"zoom_blur", "fog", "snow", "jpeg_compression", "motion_blur"};
    for (size_t g = 0; g < sizeof grow / sizeof *grow; g++) {
        double prev = 0.0;
        for (int sev = 1; sev <= 5; sev += (g == 4 ? 2 : 1)) {
            char spec[64];
            snprintf(spec, sizeof spec, "%s:%d", grow[g], sev);
            double m = mean_change(spec, x, 6, 5);
            ck_assert_msg(m > prev, "%s changes the images by %g, less than severity %d's %g", spec, m,
                          sev - 1, prev);
            prev = m;
        }
    }
    free(x);
}
END_TEST

/* Filters and warps with weights summing to one leave a constant image alone. */
START_TEST(new_filters_keep_constant_images)
{
    const char *specs[] = {"zoom_blur:5", "motion_blur:5", "elastic_transform:2", "elastic_transform:5",
                           "glass_blur:5"};
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
        float *x = constant_images(2, 100.f / 255.f);
        apply(specs[s], x, 2, 3);
        for (int j = 0; j < 2 * DIM; j++) ck_assert_msg(fabsf(x[j] - 100.f / 255.f) < 1e-5f, "%s gave %g", specs[s], x[j]);
        free(x);
    }
}
END_TEST

/* ImageMagick's motion blur is one-sided: an impulse spreads to pixels at
 * -ceil(i (cos a, sin a) - 0.5), i = 0 .. 12 at severity 1, |a| <= 45 degrees, so its
 * mass (1) lies to its left within 45 degrees of the row, and the impulse keeps the
 * largest weight 1 / sum exp(-i^2 / 2). */
START_TEST(motion_blur_smears_an_impulse_one_way)
{
    for (uint64_t seed = 0; seed < 6; seed++) {
        float *x = constant_images(1, 0.f);
        x[16 * W + 20] = 1.f;
        apply("motion_blur:1", x, 1, seed);
        double mass = 0, k0 = 0;
        for (int t = 0; t <= 12; t++) k0 += exp(-0.5 * t * t);
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++) {
                float v = x[y * W + xx];
                mass += v;
                if (v > 0) ck_assert_msg(xx <= 20 && abs(y - 16) <= 20 - xx, "mass at (%d, %d)", y, xx);
            }
        ck_assert_double_eq_tol(mass, 1.0, 1e-5);
        ck_assert_double_eq_tol(x[16 * W + 20], 1.0 / k0, 1e-6);
        free(x);
    }
}
END_TEST

/* glass_blur at severity 1 blurs with sigma 0.05 (a one-tap kernel: no blur), so it
 * only moves pixels: each keeps its value or takes its upper, left or upper-left
 * neighbour's (all channels together), and rows and columns 0 and 1 never change. */
START_TEST(glass_blur_pulls_whole_pixels_from_up_and_left)
{
    float *x = random_images(1, 21), *y = malloc(DIM * sizeof(float));
    for (int j = 0; j < DIM; j++) x[j] = (float)((int)(x[j] * 255) / 255.0);
    memcpy(y, x, DIM * sizeof(float));
    apply("glass_blur:1", y, 1, 4);
    size_t moved = 0;
    for (int py = 0; py < H; py++)
        for (int px = 0; px < W; px++) {
            int found = 0;
            for (int k = 0; k < 4 && !found; k++) {
                int sy = py - (k >> 1), sx = px - (k & 1);
                if (sy < 0 || sx < 0 || ((py < 2 || px < 2) && k)) continue;
                int same = 1;
                for (int c = 0; c < C; c++) same &= y[c * PLANE + py * W + px] == x[c * PLANE + sy * W + sx];
                found = same;
                moved += same && k;
            }
            ck_assert_msg(found, "pixel (%d, %d) came from nowhere", py, px);
        }
    ck_assert_uint_gt(moved, 30 * 30 / 2);
    free(x);
    free(y);
}
END_TEST

/* fog: x' = (x + s p) max / (max + s) with the plasma map p in [0, 1] reaching both ends
 * on a 32 x 32 image: a constant image v spans [v^2 / (v + s), v]; a black one stays black. */
START_TEST(fog_spans_its_range)
{
    float *x = constant_images(1, 0.5f);
    apply("fog:4", x, 1, 2);   /* s = 1 */
    float lo = 1, hi = 0;
    for (int j = 0; j < DIM; j++) lo = fminf(lo, x[j]), hi = fmaxf(hi, x[j]);
    ck_assert_float_eq_tol(lo, 0.25f / 1.5f, 1e-6f);
    ck_assert_float_eq_tol(hi, 0.5f, 1e-6f);
    free(x);
    x = constant_images(1, 0.f);
    apply("fog:5", x, 1, 2);
    for (int j = 0; j < DIM; j++) ck_assert_float_eq(x[j], 0.f);
    free(x);
}
END_TEST

/* snow and water spatter only add light; mud moves pixels towards (63, 42, 20) / 255;
 * frost on black is its tinted texture times 0.45 at severity 5, bluest in blue. */
START_TEST(weather_layers_go_the_right_way)
{
    float *x = smooth_images(3, 6), *y = malloc(3 * DIM * sizeof(float));
    const char *brighten[] = {"snow:1", "snow:5", "spatter:1", "spatter:3"};
    for (size_t s = 0; s < sizeof brighten / sizeof *brighten; s++) {
        memcpy(y, x, 3 * DIM * sizeof(float));
        apply(brighten[s], y, 3, 1);
        size_t up = 0;
        for (int j = 0; j < 3 * DIM; j++) {
            ck_assert_msg(y[j] >= x[j] - 1e-6f, "%s darkened a pixel", brighten[s]);
            up += y[j] > x[j] + 1e-6f;
        }
        ck_assert_uint_gt(up, 0);
    }
    const float mud[3] = {63 / 255.f, 42 / 255.f, 20 / 255.f};
    memcpy(y, x, 3 * DIM * sizeof(float));
    apply("spatter:5", y, 3, 1);
    for (int i = 0; i < 3; i++)
        for (int c = 0; c < C; c++)
            for (int j = 0; j < PLANE; j++) {
                float a = x[i * DIM + c * PLANE + j], b = y[i * DIM + c * PLANE + j];
                ck_assert(fabsf(b - mud[c]) <= fabsf(a - mud[c]) + 1e-6f);
            }
    float *black = constant_images(2, 0.f);
    apply("frost:5", black, 2, 1);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < PLANE; j++) {
            const float *p = black + i * DIM + j;
            ck_assert(p[0] <= p[PLANE] + 1e-6f && p[PLANE] <= p[2 * PLANE] + 1e-6f && p[2 * PLANE] <= 0.45f + 1e-6f);
        }
    free(black);
    free(x);
    free(y);
}
END_TEST

/* jpeg_compression: bytes in, bytes out, close to the input on smooth images (the
 * reference check compares it with Pillow byte for byte). */
START_TEST(jpeg_rounds_trip_through_the_codec)
{
    float *x = smooth_images(2, 9), *y = malloc(2 * DIM * sizeof(float));
    memcpy(y, x, 2 * DIM * sizeof(float));
    apply("jpeg_compression:1", y, 2, 0);
    double change = 0;
    for (int j = 0; j < 2 * DIM; j++) {
        float q = y[j] * 255.f;
        ck_assert_float_eq_tol(q, roundf(q), 1e-3f);
        change += fabs(y[j] - x[j]);
    }
    ck_assert_double_lt(change / (2 * DIM), 0.04);   /* 4:2:0 chroma costs most of it */
    free(x);
    free(y);
}
END_TEST

/* Odd shapes reach every border rule and scratch bound (run under ASan by make test-asan). */
START_TEST(every_type_runs_on_odd_shapes)
{
    const int shapes[][3] = {{3, 1, 1}, {3, 2, 7}, {3, 5, 40}, {3, 33, 17}, {1, 9, 9}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int c = shapes[s][0], h = shapes[s][1], w = shapes[s][2];
        size_t dim = (size_t)c * h * w;
        for (int k = 0; k < DWS_CORRUPT_COUNT; k++)
            for (int sev = 1; sev <= 5; sev += 2) {
                char spec[64];
                snprintf(spec, sizeof spec, "%s:%d", dws_corruption_name((dws_corruption)k), sev);
                dws_domain d;
                dws_error err = {0};
                ck_assert_int_eq(dws_domain_parse(spec, &d, &err), 0);
                if (dws_domain_check_shape(&d, c, h, w, &err)) {
                    ck_assert_int_eq(c, 1);
                    continue;
                }
                float *x = malloc(2 * dim * sizeof(float));
                for (size_t j = 0; j < 2 * dim; j++) x[j] = (float)((j * 37) % 101) / 100.f;
                ck_assert_msg(dws_domain_apply(&d, c, h, w, x, 2, 1, 0, &err) == 0, "%s: %s", spec, err.message);
                for (size_t j = 0; j < 2 * dim; j++) ck_assert_msg(x[j] >= 0.f && x[j] <= 1.f, "%s on %dx%d", spec, h, w);
                free(x);
            }
    }
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
    tcase_add_test(tc, every_type_parses_and_chains);
    tcase_add_test(tc, every_type_is_reproducible_by_image);
    tcase_add_test(tc, severity_orders_the_effect);
    tcase_add_test(tc, new_filters_keep_constant_images);
    tcase_add_test(tc, motion_blur_smears_an_impulse_one_way);
    tcase_add_test(tc, glass_blur_pulls_whole_pixels_from_up_and_left);
    tcase_add_test(tc, fog_spans_its_range);
    tcase_add_test(tc, weather_layers_go_the_right_way);
    tcase_add_test(tc, jpeg_rounds_trip_through_the_codec);
    tcase_add_test(tc, every_type_runs_on_odd_shapes);
    tcase_add_test(tc, rng_poisson_and_normal_moments);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
