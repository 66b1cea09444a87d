/* Blurs that move pixels: glass (Gaussian blur, local pixel shuffle, blur again),
 * motion (ImageMagick's one-sided motion blur at a random angle) and zoom (the mean of
 * the image zoomed about its centre by a range of factors). */
#include <math.h>

#include "corrupt_ops.h"

/* make_cifar_c.py glass_blur(): (sigma, max_delta, iterations). */
static const struct {
    double sigma;
    int max_delta, iterations;
} GLASS[5] = {{0.05, 1, 1}, {0.25, 1, 1}, {0.4, 1, 1}, {0.25, 1, 2}, {0.4, 1, 2}};

/* make_cifar_c.py motion_blur(): Wand's motion_blur(radius, sigma, angle) with the
 * angle uniform in [-45, 45) degrees. (The ImageNet file uses larger radii.) */
static const double MOTION_RADIUS[5] = {6, 6, 6, 8, 9};
static const double MOTION_SIGMA[5] = {1, 1.5, 2, 2, 2.5};

/* make_cifar_c.py zoom_blur(): np.arange(1, stop, 0.01) for stop = 1.06, 1.11, 1.16,
 * 1.21, 1.26, which numpy makes 7, 12, 16, 21 and 26 factors long (floating point puts
 * 1.06 and 1.11 in, 1.16 and up out); factor i is 1 + i ((1 + 0.01) - 1), as numpy's
 * arange fills it. */
static const int ZOOM_FACTORS[5] = {7, 12, 16, 21, 26};

static void blur_channels(float *img, const dws_image_dims *d, double sigma, double *p, double *tmp, int to_bytes)
{
    size_t plane = (size_t)d->h * (size_t)d->w;
    for (int c = 0; c < d->c; c++) {
        float *q = img + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++) p[i] = q[i];
        dws_gaussian_plane(p, d->h, d->w, sigma, 4.0, dws_border_nearest, tmp);
        /* np.uint8(x * 255) truncates; the epsilon keeps exact grey levels stored as
         * float32 (k / 255 a hair below) from dropping one level. */
        for (size_t i = 0; i < plane; i++)
            q[i] = to_bytes ? (float)(floor(dws_clip01(p[i]) * 255.0 + 1e-4) / 255.0) : dws_clip01(p[i]);
    }
}

/* Blur (skimage gaussian: 'nearest', truncate 4), round down to bytes, then for each
 * iteration visit (y, x) from the bottom-right corner up to (max_delta + 1, max_delta
 * + 1) and give it the pixel at (y + dy, x + dx), dx and dy uniform in [-max_delta,
 * max_delta) (np.random.randint's range); blur again. The reference's line
 * `x[h, w], x[h', w'] = x[h', w'], x[h, w]` reads as a swap but, numpy rows being
 * views, copies x[h', w'] into x[h, w] and leaves x[h', w'] as it was: that copy is
 * what is done here. */
int dws_glass_blur(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    double sigma = GLASS[severity - 1].sigma;
    int delta = GLASS[severity - 1].max_delta;
    size_t plane = (size_t)d->h * (size_t)d->w;
    blur_channels(img, d, sigma, scratch, scratch + plane, 1);
    for (int it = 0; it < GLASS[severity - 1].iterations; it++)
        for (int y = d->h - delta; y > delta; y--)
            for (int x = d->w - delta; x > delta; x--) {
                int dx = (int)dws_rng_below(rng, 2 * (uint64_t)delta) - delta;
                int dy = (int)dws_rng_below(rng, 2 * (uint64_t)delta) - delta;
                size_t to = (size_t)y * d->w + x, from = (size_t)(y + dy) * d->w + (x + dx);
                for (int c = 0; c < d->c; c++) img[c * plane + to] = img[c * plane + from];
            }
    blur_channels(img, d, sigma, scratch, scratch + plane, 0);
    return 0;
}

/* The reference goes through PNG and ImageMagick's 16-bit pixels and back to bytes;
 * here the blur is applied to the float image directly. */
int dws_motion_blur(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    double angle = -45.0 + 90.0 * dws_rng_uniform(rng);
    size_t plane = (size_t)d->h * (size_t)d->w;
    double *in = scratch, *out = scratch + plane;
    for (int c = 0; c < d->c; c++) {
        float *q = img + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++) in[i] = q[i];
        dws_motion_blur_plane(in, out, d->h, d->w, MOTION_RADIUS[severity - 1], MOTION_SIGMA[severity - 1], angle);
        for (size_t i = 0; i < plane; i++) q[i] = dws_clip01(out[i]);
    }
    return 0;
}

/* (x + sum over factors z of clipped_zoom(x, z)) / (factors + 1); the first factor is 1
 * (the image itself), as in the reference. */
int dws_zoom_blur(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    (void)rng;
    int n = ZOOM_FACTORS[severity - 1];
    double step = (1.0 + 0.01) - 1.0;
    size_t plane = (size_t)d->h * (size_t)d->w;
    double *in = scratch, *zoomed = in + plane, *sum = zoomed + plane, *tmp = sum + plane;
    for (int c = 0; c < d->c; c++) {
        float *q = img + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++) sum[i] = in[i] = q[i];
        for (int f = 0; f < n; f++) {
            dws_clipped_zoom(in, zoomed, d->h, d->w, 1.0 + f * step, tmp);
            for (size_t i = 0; i < plane; i++) sum[i] += zoomed[i];
        }
        for (size_t i = 0; i < plane; i++) q[i] = dws_clip01(sum[i] / (n + 1));
    }
    return 0;
}
