/* Noise and colour corruptions: each value or pixel on its own (contrast uses the
 * channel mean). Colour corruptions use the HSV model of skimage's rgb2hsv/hsv2rgb,
 * worked out in closed form so no hue is ever computed: every RGB channel is
 * V * (1 - S * k) with k depending on the hue only, hence linear in V and in S. */
#include <math.h>

#include "corrupt_ops.h"

static const double GAUSSIAN_NOISE_STD[5] = {0.04, 0.06, 0.08, 0.09, 0.10};
static const double SHOT_NOISE_PHOTONS[5] = {500, 250, 100, 75, 50};
static const double IMPULSE_NOISE_AMOUNT[5] = {0.01, 0.02, 0.03, 0.05, 0.07};
static const double SPECKLE_NOISE_STD[5] = {0.06, 0.10, 0.12, 0.16, 0.20};
static const double CONTRAST_FACTOR[5] = {0.75, 0.5, 0.4, 0.3, 0.15};
static const double BRIGHTNESS_SHIFT[5] = {0.05, 0.1, 0.15, 0.2, 0.3};
static const double SATURATE_SCALE[5] = {0.3, 0.1, 1.5, 2.0, 2.5};
static const double SATURATE_SHIFT[5] = {0.0, 0.0, 0.0, 0.1, 0.2};

static size_t values(const dws_image_dims *d) { return (size_t)d->c * (size_t)d->h * (size_t)d->w; }

int dws_gaussian_noise(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    (void)scratch;
    double std = GAUSSIAN_NOISE_STD[severity - 1];
    for (size_t i = 0, n = values(d); i < n; i++) img[i] = dws_clip01(img[i] + std * dws_rng_normal(rng));
    return 0;
}

int dws_shot_noise(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    (void)scratch;
    double photons = SHOT_NOISE_PHOTONS[severity - 1];
    for (size_t i = 0, n = values(d); i < n; i++)
        img[i] = dws_clip01((double)dws_rng_poisson(rng, img[i] * photons) / photons);
    return 0;
}

/* skimage's 's&p' mode: each value is hit with probability `amount`, then set to
 * 1 or 0 with equal odds. */
int dws_impulse_noise(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    (void)scratch;
    double amount = IMPULSE_NOISE_AMOUNT[severity - 1];
    for (size_t i = 0, n = values(d); i < n; i++) {
        int hit = dws_rng_uniform(rng) < amount;
        int salt = dws_rng_uniform(rng) < 0.5;
        if (hit) img[i] = salt ? 1.f : 0.f;
    }
    return 0;
}

int dws_speckle_noise(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    (void)scratch;
    double std = SPECKLE_NOISE_STD[severity - 1];
    for (size_t i = 0, n = values(d); i < n; i++)
        img[i] = dws_clip01(img[i] + img[i] * std * dws_rng_normal(rng));
    return 0;
}

int dws_contrast(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    (void)rng;
    (void)scratch;
    double f = CONTRAST_FACTOR[severity - 1];
    size_t plane = (size_t)d->h * (size_t)d->w;
    for (int c = 0; c < d->c; c++) {
        float *p = img + (size_t)c * plane;
        double mean = 0.0;
        for (size_t i = 0; i < plane; i++) mean += p[i];
        mean /= (double)plane;
        for (size_t i = 0; i < plane; i++) p[i] = dws_clip01((p[i] - mean) * f + mean);
    }
    return 0;
}

/* V <- min(V + shift, 1) with hue and saturation kept: each channel scales by
 * V'/V; a black pixel (V = 0, hence S = 0) becomes grey V'. */
int dws_brightness(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    (void)rng;
    (void)scratch;
    double shift = BRIGHTNESS_SHIFT[severity - 1];
    size_t plane = (size_t)d->h * (size_t)d->w;
    float *r = img, *g = img + plane, *b = img + 2 * plane;
    for (size_t i = 0; i < plane; i++) {
        double v = fmax(r[i], fmax(g[i], b[i]));
        double v2 = fmin(v + shift, 1.0);
        if (v > 0.0) {
            double scale = v2 / v;
            r[i] = dws_clip01(r[i] * scale);
            g[i] = dws_clip01(g[i] * scale);
            b[i] = dws_clip01(b[i] * scale);
        } else {
            r[i] = g[i] = b[i] = dws_clip01(v2);
        }
    }
    return 0;
}

/* S <- clip(S * scale + shift, 0, 1) with hue and value kept: channel = V - (S'/S)(V - channel).
 * A grey pixel has hue 0 (red) in skimage, so added saturation turns it red. */
int dws_saturate(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    (void)rng;
    (void)scratch;
    double scale = SATURATE_SCALE[severity - 1], shift = SATURATE_SHIFT[severity - 1];
    size_t plane = (size_t)d->h * (size_t)d->w;
    float *r = img, *g = img + plane, *b = img + 2 * plane;
    for (size_t i = 0; i < plane; i++) {
        double v = fmax(r[i], fmax(g[i], b[i]));
        double delta = v - fmin(r[i], fmin(g[i], b[i]));
        double s = delta > 0.0 ? delta / v : 0.0;
        double s2 = s * scale + shift;
        s2 = s2 < 0.0 ? 0.0 : s2 > 1.0 ? 1.0 : s2;
        if (delta > 0.0) {
            double k = s2 / s;
            r[i] = dws_clip01(v - k * (v - r[i]));
            g[i] = dws_clip01(v - k * (v - g[i]));
            b[i] = dws_clip01(v - k * (v - b[i]));
        } else {
            r[i] = dws_clip01(v);
            g[i] = b[i] = dws_clip01(v * (1.0 - s2));
        }
    }
    return 0;
}
