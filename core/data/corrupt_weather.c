/* Weather: snow (a thresholded, motion-blurred noise layer over a brightened image),
 * frost (a procedural ice texture blended in: see dws_frost) and fog (a plasma fractal
 * added, then the range scaled back). */
#include <math.h>

#include "corrupt_ops.h"

/* make_cifar_c.py snow(): the layer is N(loc, scale^2), clipped_zoom'ed by `zoom`,
 * zeroed below `threshold` and motion-blurred (Wand, radius, sigma, angle uniform in
 * [-135, -45)); the image is mixed with a brightened grey copy by `blend`. */
typedef struct {
    double loc, scale, zoom, threshold, radius, sigma, blend;
} snow_params;
static const snow_params SNOW[5] = {
    {0.1, 0.2, 1, 0.6, 8, 3, 0.95},
    {0.1, 0.2, 1, 0.5, 10, 4, 0.9},
    {0.15, 0.3, 1.75, 0.55, 10, 4, 0.9},
    {0.25, 0.3, 2.25, 0.6, 12, 6, 0.85},
    {0.3, 0.3, 1.25, 0.65, 14, 12, 0.8},
};

/* make_cifar_c.py fog(): (strength, wibble decay of plasma_fractal(mapsize=32)). */
static const double FOG_STRENGTH[5] = {0.2, 0.5, 0.75, 1.0, 1.5};
static const double FOG_DECAY[5] = {3, 3, 2.5, 2, 1.75};

/* make_cifar_c.py frost(): out = image_weight x + frost_weight frost. */
static const double FROST_IMAGE_WEIGHT[5] = {1, 1, 0.9, 0.85, 0.75};
static const double FROST_WEIGHT[5] = {0.2, 0.3, 0.4, 0.4, 0.45};

/* The layer as the reference has it: bytes (np.uint8 of clip(layer) x 255, rounding
 * down) blurred by ImageMagick at 16 bits (v x 257, rounded) and written to an 8-bit
 * PNG, which rounds down again (q / 257). The image itself stays in float. */
int dws_snow(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    const snow_params *p = &SNOW[severity - 1];
    int h = d->h, w = d->w;
    size_t plane = (size_t)h * (size_t)w;
    double *noise = scratch, *layer = noise + plane, *blurred = layer + plane, *tmp = blurred + plane;
    for (size_t i = 0; i < plane; i++) noise[i] = p->loc + p->scale * dws_rng_normal(rng);
    dws_clipped_zoom(noise, layer, h, w, p->zoom, tmp);
    for (size_t i = 0; i < plane; i++) {
        double v = layer[i] < p->threshold ? 0.0 : layer[i];
        layer[i] = floor((v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v) * 255.0);
    }
    double angle = -135.0 + 90.0 * dws_rng_uniform(rng);
    dws_motion_blur_plane(layer, blurred, h, w, p->radius, p->sigma, angle);
    for (size_t i = 0; i < plane; i++) blurred[i] = floor(floor(257.0 * blurred[i] + 0.5) / 257.0) / 255.0;
    float *r = img, *g = img + plane, *b = img + 2 * plane;
    for (size_t i = 0; i < plane; i++) {
        double grey = 0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i];   /* cv2 RGB2GRAY */
        double bright = grey * 1.5 + 0.5, drift = blurred[i] + blurred[plane - 1 - i];   /* + the layer rotated 180 */
        for (int c = 0; c < 3; c++) {
            float *q = img + (size_t)c * plane + i;
            double v = p->blend * *q + (1.0 - p->blend) * fmax(*q, bright);
            *q = dws_clip01(v + drift);
        }
    }
    return 0;
}

/* x += strength plasma; x *= max(x) / (max(x) + strength) with max(x) over the whole
 * clean image, as the reference. */
int dws_fog(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    int n = dws_plasma_side(d->h, d->w);
    double *map = scratch, strength = FOG_STRENGTH[severity - 1];
    dws_plasma_fractal(map, n, FOG_DECAY[severity - 1], rng);
    size_t plane = (size_t)d->h * (size_t)d->w, all = plane * (size_t)d->c;
    double top = 0.0;
    for (size_t i = 0; i < all; i++) top = fmax(top, img[i]);
    double scale = top / (top + strength);
    for (int c = 0; c < d->c; c++)
        for (int y = 0; y < d->h; y++)
            for (int x = 0; x < d->w; x++) {
                float *q = img + (size_t)c * plane + (size_t)y * d->w + x;
                *q = dws_clip01((*q + strength * map[(size_t)y * n + x]) * scale);
            }
    return 0;
}

/* Adds a needle of ice from (y, x) at angle a, `len` pixels long, brightness v, to t
 * (bilinear splats every half pixel). */
static void needle(double *t, int h, int w, double y, double x, double a, double len, double v)
{
    double sy = sin(a), sx = cos(a);
    for (double s = 0.0; s <= len; s += 0.5) {
        double py = y + s * sy, px = x + s * sx;
        int iy = (int)floor(py), ix = (int)floor(px);
        double fy = py - iy, fx = px - ix, fade = v * (1.0 - 0.5 * s / len);
        for (int k = 0; k < 4; k++) {
            int yy = iy + (k >> 1), xx = ix + (k & 1);
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
            double wgt = ((k >> 1) ? fy : 1.0 - fy) * ((k & 1) ? fx : 1.0 - fx);
            t[(size_t)yy * w + xx] += 0.5 * fade * wgt;
        }
    }
}

/* The reference blends in a random 32 x 32 crop of one of its frost photographs,
 * which this project does not have. This is a procedural stand-in, NOT the reference
 * texture: a dim plasma-fractal haze (0.25 + 0.3 p, decay 2) with h w / 40 ice
 * needles (random position and angle, h/8 to h/3 long, each with two side branches
 * at +-60 degrees from its middle), blurred (sigma 0.6) and tinted pale blue (R 0.85,
 * G 0.93, B 1 of the texture). Only the blend weights are the reference's. */
int dws_frost(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    int h = d->h, w = d->w, n = dws_plasma_side(h, w);
    size_t plane = (size_t)h * (size_t)w;
    double *map = scratch, *t = map + (size_t)n * n, *tmp = t + plane;
    dws_plasma_fractal(map, n, 2.0, rng);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) t[(size_t)y * w + x] = 0.25 + 0.3 * map[(size_t)y * n + x];
    int side = h < w ? h : w;
    size_t needles = plane / 40 + 1;
    for (size_t k = 0; k < needles; k++) {
        double y = dws_rng_uniform(rng) * h, x = dws_rng_uniform(rng) * w, a = dws_rng_uniform(rng) * M_PI;
        double len = side / 8.0 + dws_rng_uniform(rng) * (side / 3.0 - side / 8.0);
        double v = 0.5 + 0.5 * dws_rng_uniform(rng);
        needle(t, h, w, y, x, a, len, v);
        double my = y + 0.5 * len * sin(a), mx = x + 0.5 * len * cos(a);
        needle(t, h, w, my, mx, a + M_PI / 3, 0.4 * len, 0.7 * v);
        needle(t, h, w, my, mx, a - M_PI / 3, 0.4 * len, 0.7 * v);
    }
    dws_gaussian_plane(t, h, w, 0.6, 4.0, dws_border_nearest, tmp);
    static const double TINT[3] = {0.85, 0.93, 1.0};
    double a = FROST_IMAGE_WEIGHT[severity - 1], b = FROST_WEIGHT[severity - 1];
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++) {
            float *q = img + (size_t)c * plane + i;
            double f = TINT[c] * (t[i] > 1.0 ? 1.0 : t[i]);
            *q = dws_clip01(a * *q + b * f);
        }
    return 0;
}
